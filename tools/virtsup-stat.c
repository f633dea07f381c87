/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virtsup-stat: show the jobs of every libvirtsup supervisor on this host.
 *
 * Reads the status segments under the run directory (shm/segment.h) through
 * read-only mappings and prints them as a table (once, or redrawn like top),
 * as JSON or in the Prometheus text format; --gc removes the segments of
 * supervisors that are gone. Everything read from a segment is untrusted:
 * numbers are clamped by the shm reader, strings are escaped for the output
 * they go to, and a segment that cannot be read is reported in one line and
 * skipped. See docs/virtsup-stat.md.
 */
#include <assert.h>
#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>

#define VIR_FROM_THIS VIR_FROM_NONE
#include "libvirtsup/libvirtsup-job.h"
#include "util/internal.h"
#include "util/virerror.h"
#include "shm/segment.h"

#define PROG "virtsup-stat"

#define STRPREFIX(s, prefix) (strncmp((s), (prefix), strlen(prefix)) == 0)

enum { EXIT_OK = 0, EXIT_READ = 1, EXIT_USAGE = 2 };

/* Widths of the free-text columns of the table; longer text ends in "...". */
#define TABLE_TEXT_MAX  32
#define TABLE_ERROR_MAX 60

typedef enum { OUT_TABLE, OUT_JSON, OUT_PROMETHEUS, OUT_GC } OutputMode;

typedef struct {
    OutputMode mode;
    bool all;
    bool watch;
    double interval;
    const char *rundir;
} Options;

/* A growing string. */
typedef struct {
    char *s;
    size_t len, alloc;
} Buf;

/* What is listed of a job: its numbers, and its texts as offsets into its
 * segment's texts (StatSegment.text), so that a thousand jobs take 180 KiB
 * rather than 400 (or a MiB with the texts in place): every page a process
 * touches for the first time costs it (docs/PERFORMANCE.md). */
typedef uint32_t StatText;      /* offset in StatSegment.text; 0 is "" */

/* The lifecycle record's fields. */
typedef struct {
    uint64_t job_id;
    uint64_t generation;
    uint64_t start_realtime_ns;
    uint64_t end_realtime_ns;
    uint64_t rate_bps;
    uint64_t eta_ms;
    uint64_t sampled_realtime_ns;
    uint32_t state;
    uint32_t flags;
    int32_t worker_pid;
    int32_t exit_status;
    int32_t term_signal;
    int32_t error_code;
    StatText op;
    StatText target;
    StatText error;             /* 0 when none */
} StatLc;

/* The progress figures (virShmProgressData's). */
typedef struct {
    uint64_t elapsed_ms;
    uint64_t eta_ms;
    uint64_t bytes_done;
    uint64_t bytes_total;
    uint32_t type;
    uint32_t flags;
    uint32_t percent;
    StatText phase;
} StatProgress;

/* One job as read from a slot. */
typedef struct {
    uint32_t slot;
    bool inconsistent;          /* no consistent lifecycle copy, or it lies about its slot */
    bool have_progress;
    bool have_eta;
    const char *why;            /* for inconsistent: static text */
    StatLc lc;
    /* Progress shown: as the supervisor sampled it for a running job, the
     * final copy for an ended one; none for a queued job or one not
     * sampled yet. */
    const char *progress_source; /* "sampled", "final" or NULL */
    StatProgress pr;
    uint64_t elapsed_ms;
    uint64_t eta_ms;
} StatJob;

typedef struct {
    char *path;
    char *error;                /* why it could not be read; NULL when read */
    bool read;
    pid_t pid;
    uint64_t start_time;
    uint32_t abi_version;
    uint32_t nslots;
    uint64_t created_ns;
    bool closed;
    bool stale;
    StatJob *jobs;
    size_t njobs;
    size_t jobs_alloc;
    Buf text;                   /* the jobs' texts, each with its NUL; starts with "" */
} StatSegment;

/* Text @t of a job of @ss. */
static inline const char *segText(const StatSegment *ss, StatText t)
{
    return t ? ss->text.s + t : "";
}

typedef struct {
    char *rundir;
    bool rundir_missing;
    StatSegment *segs;
    size_t nsegs;
    bool any_error;
} StatSnapshot;

static const char *const stateNames[VIR_SHM_STATE_LAST] = {
    [VIR_SHM_STATE_EMPTY] = "empty",
    [VIR_SHM_STATE_QUEUED] = "queued",
    [VIR_SHM_STATE_RUNNING] = "running",
    [VIR_SHM_STATE_COMPLETED] = "completed",
    [VIR_SHM_STATE_FAILED] = "failed",
    [VIR_SHM_STATE_CANCELLED] = "cancelled",
};

/* ---- small helpers ----------------------------------------------------- */

static void statWarn(const char *fmt, ...) ATTRIBUTE_FMT_PRINTF(1, 2);
static void statWarn(const char *fmt, ...)
{
    va_list ap;
    fputs(PROG ": ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) {
        statWarn("out of memory");
        exit(EXIT_READ);
    }
    return p;
}

static void *xreallocarray(void *p, size_t n, size_t size)
{
    void *q = reallocarray(p, n ? n : 1, size ? size : 1);
    if (!q) {
        statWarn("out of memory");
        exit(EXIT_READ);
    }
    return q;
}

static char *xstrdup(const char *s)
{
    char *p = strdup(s);
    if (!p) {
        statWarn("out of memory");
        exit(EXIT_READ);
    }
    return p;
}

static char *xasprintf(const char *fmt, ...) ATTRIBUTE_FMT_PRINTF(1, 2);
static char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;
    va_start(ap, fmt);
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0) {
        statWarn("out of memory");
        exit(EXIT_READ);
    }
    return s;
}

/* Decode one UTF-8 sequence at @s (at most @len bytes). Returns its length
 * and sets *cp, or returns 0 for an invalid byte (overlong forms, surrogates
 * and values past U+10FFFF are invalid). */
static size_t utf8Decode(const unsigned char *s, size_t len, uint32_t *cp)
{
    uint32_t c = s[0], min;
    size_t n;

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2; c &= 0x1f; min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3; c &= 0x0f; min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4; c &= 0x07; min = 0x10000;
    } else {
        return 0;
    }
    if (len < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    *cp = c;
    return n;
}

static void bufAppend(Buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->alloc) {
        size_t a = b->alloc ? b->alloc : 64;
        while (a < b->len + n + 1)
            a *= 2;
        b->s = xreallocarray(b->s, a, 1);
        b->alloc = a;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void bufPuts(Buf *b, const char *s)
{
    bufAppend(b, s, strlen(s));
}

static char *bufSteal(Buf *b)
{
    if (!b->s)
        return xstrdup("");
    return VIR_STEAL_PTR(b->s);
}

/* Text for a terminal: printable characters of valid UTF-8 are kept, every
 * control character (C0, DEL, C1) and invalid byte becomes '?', so a hostile
 * string cannot move the cursor or retitle the terminal. At most @max
 * characters (code points); longer text is cut and ends in "...". */
static char *textForTerminal(const char *s, size_t max)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t len = strlen(s), chars = 0, i = 0;
    Buf b = { 0 };

    while (i < len) {
        uint32_t cp;
        size_t n = utf8Decode(p + i, len - i, &cp);
        if (chars == max) {
            /* Replace the last three characters by the ellipsis. */
            size_t keep = b.len, drop = 0;
            while (keep > 0 && drop < 3) {
                keep--;
                if (((unsigned char)b.s[keep] & 0xc0) != 0x80)
                    drop++;
            }
            b.len = keep;
            b.s[keep] = '\0';
            bufPuts(&b, "...");
            break;
        }
        if (n == 0 || cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) {
            bufPuts(&b, "?");
            i += n ? n : 1;
        } else {
            bufAppend(&b, s + i, n);
            i += n;
        }
        chars++;
    }
    return bufSteal(&b);
}

/* Display width of text made by textForTerminal: its code points. */
static size_t textWidth(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xc0) != 0x80)
            w++;
    return w;
}

/* ---- the output of --json and --prometheus ------------------------------ */

/* One document goes out through a buffer of the tool's own, filled by the
 * appenders below and handed to write(2) whenever it is full. A thousand
 * jobs are 600 KB of JSON: stdio's work per call (its locks, its copies,
 * and a 4 KiB buffer, since setvbuf cannot enlarge one it allocates) cost
 * more than reading the segment. 32 KiB: 19 writes for a thousand jobs,
 * and few pages (eight) for a process that pays for each page it touches
 * (docs/PERFORMANCE.md). */
#define OUT_SIZE (32 * 1024)

typedef struct {
    int fd;
    int err;                    /* errno of the first failed write; 0 */
    size_t len;
    char buf[OUT_SIZE];
} Out;

/* Write out what is buffered: a short write is continued, EINTR retried;
 * any other failure is kept in o->err and everything after it dropped
 * (main reports it once). */
static void outFlush(Out *o)
{
    const char *p = o->buf;
    size_t left = o->len;

    o->len = 0;
    while (left && !o->err) {
        ssize_t n = write(o->fd, p, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            o->err = n < 0 ? errno : EIO;
            break;
        }
        p += n;
        left -= (size_t)n;
    }
}

/* Room for @n more bytes (n <= OUT_SIZE) at the end of the buffer. */
static inline char *outRoom(Out *o, size_t n)
{
    if (OUT_SIZE - o->len < n)
        outFlush(o);
    return o->buf + o->len;
}

static void outMemSlow(Out *o, const char *s, size_t n)
{
    while (n > OUT_SIZE - o->len) {
        size_t k = OUT_SIZE - o->len;
        memcpy(o->buf + o->len, s, k);
        o->len = OUT_SIZE;
        s += k;
        n -= k;
        outFlush(o);
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
}

static inline void outMem(Out *o, const void *s, size_t n)
{
    if (n > OUT_SIZE - o->len) {
        outMemSlow(o, s, n);
        return;
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
}

/* A string literal: its length is known when compiled. */
#define outLit(o, lit) outMem((o), "" lit, sizeof(lit) - 1)

static inline void outStr(Out *o, const char *s)
{
    outMem(o, s, strlen(s));
}

static inline void outByte(Out *o, char c)
{
    *outRoom(o, 1) = c;
    o->len++;
}

static const char digitPairs[201] =
    "00010203040506070809" "10111213141516171819" "20212223242526272829"
    "30313233343536373839" "40414243444546474849" "50515253545556575859"
    "60616263646566676869" "70717273747576777879" "80818283848586878889"
    "90919293949596979899";

/* @v (< 10^8) in decimal at @d; returns its length. 32-bit arithmetic
 * and two digits at a time. */
static inline unsigned putU32(char *d, uint32_t v)
{
    unsigned n = v < 10 ? 1 : v < 100 ? 2 : v < 1000 ? 3 : v < 10000 ? 4 :
                 v < 100000 ? 5 : v < 1000000 ? 6 : v < 10000000 ? 7 : 8;
    char *e = d + n;

    while (v >= 100) {
        e -= 2;
        memcpy(e, digitPairs + 2 * (v % 100), 2);
        v /= 100;
    }
    if (v >= 10)
        memcpy(e - 2, digitPairs + 2 * v, 2);
    else
        e[-1] = (char)('0' + v);
    return n;
}

/* @v (< 10^8) as 8 digits, with leading zeros, at @d. */
static inline void put8(char *d, uint32_t v)
{
    uint32_t hi = v / 10000, lo = v % 10000;

    memcpy(d, digitPairs + 2 * (hi / 100), 2);
    memcpy(d + 2, digitPairs + 2 * (hi % 100), 2);
    memcpy(d + 4, digitPairs + 2 * (lo / 100), 2);
    memcpy(d + 6, digitPairs + 2 * (lo % 100), 2);
}

/* @v in decimal at @d, as "%" PRIu64 writes it (at most 20 bytes), in
 * pieces of 8 digits (a timestamp in ns has 19); returns the end. */
static inline char *fmtU(char *d, uint64_t v)
{
    unsigned n;

    if (v < 100000000)
        return d + putU32(d, (uint32_t)v);
    uint64_t hi = v / 100000000;
    if (hi < 100000000) {
        n = putU32(d, (uint32_t)hi);
    } else {
        n = putU32(d, (uint32_t)(hi / 100000000));
        put8(d + n, (uint32_t)(hi % 100000000));
        n += 8;
    }
    put8(d + n, (uint32_t)(v % 100000000));
    return d + n + 8;
}

/* @v in decimal at @d, as "%" PRId64 writes it (at most 20 bytes). */
static inline char *fmtI(char *d, int64_t v)
{
    if (v >= 0)
        return fmtU(d, (uint64_t)v);
    *d = '-';
    return fmtU(d + 1, (uint64_t)0 - (uint64_t)v);
}

static void outU(Out *o, uint64_t v)
{
    char *d = outRoom(o, 20);
    o->len += (size_t)(fmtU(d, v) - d);
}

static void outI(Out *o, int64_t v)
{
    char *d = outRoom(o, 20);
    o->len += (size_t)(fmtI(d, v) - d);
}

/* @ms as seconds with three decimals: "%" PRIu64 ".%03" PRIu64 of
 * ms / 1000 and ms % 1000. */
static void outMillisAsSeconds(Out *o, uint64_t ms)
{
    unsigned frac = (unsigned)(ms % 1000);
    char *d;

    outU(o, ms / 1000);
    d = outRoom(o, 4);
    d[0] = '.';
    d[1] = (char)('0' + frac / 100);
    memcpy(d + 2, digitPairs + 2 * (frac % 100), 2);
    o->len += 4;
}

/* Quote @s for JSON or for a Prometheus label value. Both escape the double
 * quote and the backslash. JSON writes every control character as \u00XX
 * and an invalid byte as \ufffd; a label value has only \n, so the other
 * control characters and invalid bytes become U+FFFD itself (labels must be
 * valid UTF-8 and no parser should trip on them). */
typedef enum { QUOTE_JSON, QUOTE_PROMETHEUS } QuoteStyle;

/* The bytes that go out of a quoted string as they are: printable ASCII
 * but the double quote and the backslash. */
static const unsigned char plainByte[256] = {
    [0x20 ... 0x21] = 1, [0x23 ... 0x5b] = 1, [0x5d ... 0x7e] = 1,
};

static void outQuoted(Out *o, const char *s, QuoteStyle style)
{
    static const char hex[] = "0123456789abcdef";
    static const char replacement[] = "\xef\xbf\xbd";
    const unsigned char *p = (const unsigned char *)s;

    outByte(o, '"');
    for (;;) {
        /* Runs of plain bytes, the usual case, are copied at once. */
        const unsigned char *q = p;
        while (plainByte[*q])
            q++;
        outMem(o, p, (size_t)(q - p));
        p = q;
        if (!*p)
            break;
        /* One character that needs a look: at most 6 bytes out. The
         * string's NUL ends a sequence cut short, so 4 bytes may be
         * offered to the decoder. */
        uint32_t cp;
        size_t n = utf8Decode(p, 4, &cp);
        char *d = outRoom(o, 6);
        if (n == 0) {
            if (style == QUOTE_JSON) {
                memcpy(d, "\\ufffd", 6);
                o->len += 6;
            } else {
                memcpy(d, replacement, 3);
                o->len += 3;
            }
            p++;
            continue;
        }
        if (cp == '"' || cp == '\\') {
            d[0] = '\\';
            d[1] = (char)cp;
            o->len += 2;
        } else if (style == QUOTE_PROMETHEUS && cp == '\n') {
            memcpy(d, "\\n", 2);
            o->len += 2;
        } else if ((cp < 0x20 || cp == 0x7f) && style == QUOTE_JSON) {
            memcpy(d, "\\u00", 4);
            d[4] = hex[cp >> 4];
            d[5] = hex[cp & 0xf];
            o->len += 6;
        } else if (cp < 0x20 || cp == 0x7f) {
            memcpy(d, replacement, 3);
            o->len += 3;
        } else {
            memcpy(d, p, n);
            o->len += n;
        }
        p += n;
    }
    outByte(o, '"');
}

static void jsonString(Out *o, const char *s)
{
    outQuoted(o, s, QUOTE_JSON);
}

static void promLabel(Out *o, const char *s)
{
    outQuoted(o, s, QUOTE_PROMETHEUS);
}

static void fmtDuration(char *buf, size_t len, uint64_t ms)
{
    uint64_t s = ms / 1000;
    if (s < 3600)
        snprintf(buf, len, "%" PRIu64 ":%02" PRIu64, s / 60, s % 60);
    else if (s < 100 * 3600)
        snprintf(buf, len, "%" PRIu64 ":%02" PRIu64 ":%02" PRIu64,
                 s / 3600, s / 60 % 60, s % 60);
    else
        snprintf(buf, len, "%" PRIu64 "d%02" PRIu64 "h", s / 86400, s / 3600 % 24);
}

static void fmtRate(char *buf, size_t len, uint64_t bps)
{
    static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
    double v = (double)bps;
    size_t u = 0;

    if (bps < 1024) {
        snprintf(buf, len, "%" PRIu64 "B/s", bps);
        return;
    }
    v /= 1024;
    while (v >= 1024 && u + 1 < ARRAY_CARDINALITY(units)) {
        v /= 1024;
        u++;
    }
    snprintf(buf, len, "%.1f%s/s", v, units[u]);
}

/* ---- the terminal of --watch ------------------------------------------- */

/* Set up by runWatch when stdin is a terminal; put back on every way out:
 * normal return, exit(), fatal signals, and around a stop (Ctrl-Z). Only
 * async-signal-safe calls here: the handlers use them. */
static struct termios savedTermios, rawTermios;
static volatile sig_atomic_t terminalOwned;  /* we manage the terminal */
static volatile sig_atomic_t terminalRaw;    /* it is in our mode now */
static volatile sig_atomic_t quitSignal;

static void restoreTerminal(void)
{
    if (terminalRaw) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &savedTermios);
        terminalRaw = 0;
    }
}

static void rawTerminal(void)
{
    if (terminalOwned && tcsetattr(STDIN_FILENO, TCSANOW, &rawTermios) == 0)
        terminalRaw = 1;
}

static void onQuit(int sig)
{
    quitSignal = sig;
}

/* A fatal signal: put the terminal back, then die of the signal. */
static void onFatal(int sig)
{
    restoreTerminal();
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Ctrl-Z: the shell gets its terminal back while we are stopped, and we
 * take it again when continued. */
static void onStop(int sig)
{
    int saved = errno;
    struct sigaction sa = { .sa_handler = onStop };
    sigset_t set;

    restoreTerminal();
    signal(sig, SIG_DFL);
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    raise(sig);
    /* Continued. */
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
    rawTerminal();
    errno = saved;
}

/* ---- reading ----------------------------------------------------------- */

/* A segment that shrinks while mapped turns reads past its new end into
 * SIGBUS. Reading is fenced: the handler jumps back to readSegment, which
 * reports the segment and goes on with the next one. */
static sigjmp_buf busJump;
static volatile sig_atomic_t busArmed;

static void onBus(int sig)
{
    if (busArmed) {
        busArmed = 0;
        siglongjmp(busJump, 1);
    }
    restoreTerminal();
    signal(sig, SIG_DFL);
    raise(sig);
}

static void segmentFail(StatSnapshot *snap, StatSegment *ss, char *msg)
{
    statWarn("%s", msg);
    ss->error = msg;
    snap->any_error = true;
}

/* Forget the jobs read from @ss. */
static void jobsClear(StatSegment *ss)
{
    ss->njobs = 0;
    ss->text.len = 0;
}

/* Keep text @s for a job of @ss: where the same text was kept for the job
 * before (@prev, 0 if none), that one is used again (a thousand jobs of
 * one supervisor often share their op and target). */
static StatText textKeep(StatSegment *ss, const char *s, StatText prev)
{
    size_t off;

    if (!*s)
        return 0;
    if (prev && STREQ(ss->text.s + prev, s))
        return prev;
    if (!ss->text.len)
        bufAppend(&ss->text, "", 1);
    off = ss->text.len;
    bufAppend(&ss->text, s, strlen(s) + 1);
    return (StatText)off;
}

/* The place of the next job of @ss (not counted until kept). */
static StatJob *nextJob(StatSegment *ss)
{
    if (ss->njobs == ss->jobs_alloc) {
        ss->jobs_alloc = ss->jobs_alloc ? ss->jobs_alloc * 2 : 16;
        ss->jobs = xreallocarray(ss->jobs, ss->jobs_alloc, sizeof(*ss->jobs));
    }
    return &ss->jobs[ss->njobs];
}

/* Fill @job from slot @slot of @seg. Returns false if the slot is empty or
 * (without --all) holds an ended job. */
static bool readSlot(StatSegment *ss, const virShmSegment *seg, uint32_t slot, bool all,
                     uint64_t now, uint64_t nowMono, StatJob *job)
{
    static virShmJobView v;     /* one read buffer, not one per job */
    const StatJob *prev = ss->njobs ? &ss->jobs[ss->njobs - 1] : NULL;
    StatLc *lc = &job->lc;

    virShmSlotView(seg, slot, all, &v);
    if (v.kind == VIR_SHM_VIEW_EMPTY)
        return false;
    job->slot = slot;
    job->inconsistent = v.kind == VIR_SHM_VIEW_INCONSISTENT;
    job->why = v.why;
    lc->op = lc->target = lc->error = job->pr.phase = 0;
    if (job->inconsistent)
        return true;
    lc->job_id = v.lc.job_id;
    lc->generation = v.lc.generation;
    lc->state = v.lc.state;
    lc->flags = v.lc.flags;
    lc->worker_pid = v.lc.worker_pid;
    lc->exit_status = v.lc.exit_status;
    lc->term_signal = v.lc.term_signal;
    lc->error_code = v.lc.error_code;
    lc->start_realtime_ns = v.lc.start_realtime_ns;
    lc->end_realtime_ns = v.lc.end_realtime_ns;
    lc->rate_bps = v.lc.rate_bps;
    lc->eta_ms = v.lc.eta_ms;
    lc->sampled_realtime_ns = v.lc.sampled_realtime_ns;
    lc->op = textKeep(ss, v.lc.op, prev ? prev->lc.op : 0);
    lc->target = textKeep(ss, v.lc.target, prev ? prev->lc.target : 0);
    lc->error = textKeep(ss, v.lc.error, prev ? prev->lc.error : 0);
    job->pr.elapsed_ms = v.pr.elapsed_ms;
    job->pr.eta_ms = v.pr.eta_ms;
    job->pr.bytes_done = v.pr.bytes_done;
    job->pr.bytes_total = v.pr.bytes_total;
    job->pr.type = v.pr.type;
    job->pr.flags = v.pr.flags;
    job->pr.percent = v.pr.percent;
    job->pr.phase = textKeep(ss, v.pr.phase, prev ? prev->pr.phase : 0);
    job->have_progress = v.source != VIR_SHM_PROGRESS_NONE;
    job->progress_source = v.source == VIR_SHM_PROGRESS_SAMPLED ? "sampled" :
                           v.source == VIR_SHM_PROGRESS_FINAL ? "final" : NULL;

    job->elapsed_ms = virShmLifecycleElapsedMs(&v.lc, nowMono, now);

    job->have_eta = false;
    job->eta_ms = 0;
    if (!virShmStateEnded(lc->state)) {
        if (job->have_progress && (job->pr.flags & VIR_SHM_PR_HAS_ETA)) {
            job->have_eta = true;
            job->eta_ms = job->pr.eta_ms;
        } else if (lc->eta_ms) {
            job->have_eta = true;
            job->eta_ms = lc->eta_ms;
        }
    }
    return true;
}

static int jobCompare(const void *a, const void *b)
{
    const StatJob *x = a, *y = b;
    /* Inconsistent slots have no job id: they go last, by slot. */
    if (x->inconsistent != y->inconsistent)
        return x->inconsistent ? 1 : -1;
    if (x->inconsistent)
        return (x->slot > y->slot) - (x->slot < y->slot);
    return (x->lc.job_id > y->lc.job_id) - (x->lc.job_id < y->lc.job_id);
}

/* Read one segment's header and slots into @ss. The mapping is read
 * between sigsetjmp and the end of the scan; nothing that lives on this
 * frame is changed in between, so nothing needs to be volatile. */
static void scanSegment(StatSnapshot *snap, StatSegment *ss, virShmSegment *seg,
                        bool all)
{
    const virShmHeader *h = seg->base;
    uint64_t now = virShmNowReal(), nowMono = virShmNowMono();

    if (sigsetjmp(busJump, 1)) {
        jobsClear(ss);
        segmentFail(snap, ss, xasprintf("cannot read segment %s: a page of it could not "
                                        "be read (the file shrank, or its file system "
                                        "is full)", ss->path));
        return;
    }
    busArmed = 1;
    ss->pid = h->supervisor_pid;
    ss->start_time = h->supervisor_start_time;
    ss->abi_version = h->abi_version;
    ss->nslots = seg->nslots;
    ss->created_ns = h->created_realtime_ns;
    ss->closed = atomic_load_explicit(&h->flags, memory_order_acquire) & VIR_SHM_HDR_CLOSED;
    ss->stale = ss->closed || !virShmSupervisorAlive(seg);
    /* Only the slots the map says were written: the pages of the others
     * are holes, which reading would make tmpfs allocate (a 65536-slot
     * segment would grow to hundreds of MiB). */
    bool sorted = true;
    /* Room for every slot the map marks, at once (a slot marked later is
     * fitted in by nextJob). */
    uint32_t marked = virShmWrittenSlots(seg);
    if (marked > ss->jobs_alloc) {
        ss->jobs = xreallocarray(ss->jobs, marked, sizeof(*ss->jobs));
        ss->jobs_alloc = marked;
    }
    for (uint32_t i = virShmNextWrittenSlot(seg, 0); i < seg->nslots;
         i = virShmNextWrittenSlot(seg, i + 1)) {
        StatJob *job = nextJob(ss);
        if (!readSlot(ss, seg, i, all, now, nowMono, job))
            continue;
        if (ss->njobs && jobCompare(&ss->jobs[ss->njobs - 1], job) > 0)
            sorted = false;
        ss->njobs++;
    }
    busArmed = 0;
    ss->read = true;
    /* Slots hold ids in order until the ring wraps. */
    if (!sorted)
        qsort(ss->jobs, ss->njobs, sizeof(*ss->jobs), jobCompare);
}

/* Check that @name in @dirfd is a regular file, not following a symlink.
 * (The reader opens with O_NOFOLLOW|O_NONBLOCK and checks the type again;
 * this gives the clearer message and keeps --gc to regular files.) */
static int checkSegmentFile(int dirfd, const char *name, struct stat *st, char **why)
{
    if (fstatat(dirfd, name, st, AT_SYMLINK_NOFOLLOW) < 0) {
        *why = xstrdup(strerror(errno));
        return -1;
    }
    if (!S_ISREG(st->st_mode)) {
        *why = xstrdup(S_ISLNK(st->st_mode) ? "it is a symbolic link" : "not a regular file");
        return -1;
    }
    return 0;
}

/* The reader's error says what is wrong; make it "cannot read segment
 * PATH: why" unless it already says what failed with the path. */
static char *segmentOpenError(const char *path)
{
    const char *msg = virGetLastErrorMessage();
    size_t plen = strlen(path);

    if (STRPREFIX(msg, "segment ") && strncmp(msg + 8, path, plen) == 0 &&
        STRPREFIX(msg + 8 + plen, ": "))
        return xasprintf("cannot read segment %s: %s", path, msg + 8 + plen + 2);
    if (strstr(msg, path))
        return xstrdup(msg);
    return xasprintf("cannot read segment %s: %s", path, msg);
}

/* "<pid>-<start time>.seg", as virShmSegmentCreate names a segment. */
static bool parseSegmentName(const char *name, pid_t *pid, uint64_t *start)
{
    char *end;
    unsigned long long p, s;

    errno = 0;
    p = strtoull(name, &end, 10);
    if (errno || end == name || *end != '-' || p == 0 || p > INT32_MAX)
        return false;
    name = end + 1;
    s = strtoull(name, &end, 10);
    if (errno || end == name || STRNEQ(end, ".seg"))
        return false;
    *pid = (pid_t)p;
    *start = s;
    return true;
}

static bool processGone(pid_t pid, uint64_t start)
{
    return virShmProcStartTime(pid) != start;
}

static void readSegment(StatSnapshot *snap, int dirfd, const char *name, bool all)
{
    StatSegment *ss = &snap->segs[snap->nsegs++];
    virShmSegment *seg;
    struct stat st;
    char *why = NULL;

    memset(ss, 0, sizeof(*ss));
    ss->path = xasprintf("%s/%s", snap->rundir, name);
    ss->pid = -1;
    /* Until the header is read, the name tells whose segment it is. */
    if (parseSegmentName(name, &ss->pid, &ss->start_time))
        ss->stale = processGone(ss->pid, ss->start_time);
    if (checkSegmentFile(dirfd, name, &st, &why) < 0) {
        segmentFail(snap, ss, xasprintf("cannot open segment %s: %s", ss->path, why));
        free(why);
        return;
    }
    virResetLastError();
    if (!(seg = virShmSegmentOpen(ss->path))) {
        segmentFail(snap, ss, segmentOpenError(ss->path));
        virResetLastError();
        return;
    }
    scanSegment(snap, ss, seg, all);
    virShmSegmentClose(seg);
}

static bool isSegmentName(const char *name)
{
    size_t n = strlen(name);
    return name[0] != '.' && n > 4 && STREQ(name + n - 4, ".seg");
}

static int nameCompare(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted names of the *.seg entries of @dirfd. */
static char **listSegments(int dirfd, size_t *count, int *err)
{
    int fd = dup(dirfd);
    DIR *d;
    struct dirent *e;
    char **names = NULL;
    size_t n = 0, alloc = 0;

    *err = 0;
    *count = 0;
    if (fd < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 || !(d = fdopendir(fd))) {
        *err = errno;
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    errno = 0;
    while ((e = readdir(d))) {
        if (!isSegmentName(e->d_name))
            continue;
        if (n == alloc) {
            alloc = alloc ? alloc * 2 : 16;
            names = xreallocarray(names, alloc, sizeof(*names));
        }
        names[n++] = xstrdup(e->d_name);
        errno = 0;
    }
    if (errno)
        *err = errno;
    closedir(d);
    if (n > 1)
        qsort(names, n, sizeof(*names), nameCompare);
    *count = n;
    return names;
}

static void freeNames(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

static char *resolveRundir(const Options *opts)
{
    char *dir;
    if (opts->rundir)
        return xstrdup(opts->rundir);
    virResetLastError();
    if (!(dir = virShmRunDir(false))) {
        statWarn("cannot find the run directory: %s", virGetLastErrorMessage());
        virResetLastError();
    }
    return dir;
}

/* Open the run directory; -1 with *missing set when it does not exist. */
static int openRundir(const char *dir, bool *missing)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    *missing = false;
    if (fd < 0) {
        if (errno == ENOENT) {
            *missing = true;
            return -1;
        }
        statWarn("cannot open run directory %s: %s", dir, strerror(errno));
    }
    return fd;
}

static void snapshotFree(StatSnapshot *snap)
{
    for (size_t i = 0; i < snap->nsegs; i++) {
        free(snap->segs[i].path);
        free(snap->segs[i].error);
        free(snap->segs[i].jobs);
        free(snap->segs[i].text.s);
    }
    free(snap->segs);
    free(snap->rundir);
    memset(snap, 0, sizeof(*snap));
}

/* Read every segment of the run directory. Returns -1 if the directory
 * itself could not be read (reported). */
static int snapshotTake(const Options *opts, StatSnapshot *snap)
{
    VIR_AUTOCLOSE dirfd = -1;
    char **names;
    size_t n;
    int err;

    memset(snap, 0, sizeof(*snap));
    if (!(snap->rundir = resolveRundir(opts)))
        return -1;
    if ((dirfd = openRundir(snap->rundir, &snap->rundir_missing)) < 0)
        return snap->rundir_missing ? 0 : -1;
    names = listSegments(dirfd, &n, &err);
    if (err) {
        statWarn("cannot read run directory %s: %s", snap->rundir, strerror(err));
        freeNames(names, n);
        return -1;
    }
    snap->segs = xcalloc(n, sizeof(*snap->segs));
    for (size_t i = 0; i < n; i++)
        readSegment(snap, dirfd, names[i], opts->all);
    freeNames(names, n);
    return 0;
}

/* ---- the table ---------------------------------------------------------- */

enum {
    COL_SUPERVISOR, COL_JOB, COL_OP, COL_TARGET, COL_STATE, COL_PCT,
    COL_ELAPSED, COL_ETA, COL_RATE, COL_WORKER, COL_ERROR, COL_LAST
};

static const struct {
    const char *title;
    bool right;                 /* numbers are right-aligned */
} columns[COL_LAST] = {
    [COL_SUPERVISOR] = { "SUPERVISOR", true },
    [COL_JOB] = { "JOB", true },
    [COL_OP] = { "OP", false },
    [COL_TARGET] = { "TARGET", false },
    [COL_STATE] = { "STATE", false },
    [COL_PCT] = { "PCT", true },
    [COL_ELAPSED] = { "ELAPSED", true },
    [COL_ETA] = { "ETA", true },
    [COL_RATE] = { "RATE", true },
    [COL_WORKER] = { "WORKER", true },
    [COL_ERROR] = { "ERROR", false },
};

typedef struct {
    char *cell[COL_LAST];
} Row;

typedef struct {
    Row *rows;
    size_t n, alloc;
} Table;

static Row *tableAdd(Table *t)
{
    if (t->n == t->alloc) {
        t->alloc = t->alloc ? t->alloc * 2 : 16;
        t->rows = xreallocarray(t->rows, t->alloc, sizeof(*t->rows));
    }
    memset(&t->rows[t->n], 0, sizeof(Row));
    return &t->rows[t->n++];
}

static void tableFree(Table *t)
{
    for (size_t i = 0; i < t->n; i++)
        for (size_t c = 0; c < COL_LAST; c++)
            free(t->rows[i].cell[c]);
    free(t->rows);
}

/* The STATE column: the stored state, "cancelling" for an unfinished job
 * whose cancellation was asked, with ",stalled" when the supervisor saw no
 * progress for its stall time. */
static char *stateText(const StatLc *lc)
{
    const char *base = stateNames[lc->state];
    bool ended = virShmStateEnded(lc->state);

    if (!ended && (lc->flags & VIR_SHM_LC_CANCEL_REQUESTED))
        base = "cancelling";
    return xasprintf("%s%s", base,
                     !ended && (lc->flags & VIR_SHM_LC_STALLED) ? ",stalled" : "");
}

static void jobRow(Table *t, const StatSegment *ss, const StatJob *job, bool all)
{
    Row *r = tableAdd(t);
    const StatLc *lc = &job->lc;
    char buf[64];

    r->cell[COL_SUPERVISOR] = xasprintf("%d", (int)ss->pid);
    if (job->inconsistent) {
        r->cell[COL_JOB] = xasprintf("slot:%" PRIu32, job->slot);
        r->cell[COL_STATE] = xstrdup("inconsistent");
        if (all)
            r->cell[COL_ERROR] = textForTerminal(job->why, TABLE_ERROR_MAX);
        return;
    }
    r->cell[COL_JOB] = xasprintf("%" PRIu64, lc->job_id);
    r->cell[COL_OP] = textForTerminal(segText(ss, lc->op), TABLE_TEXT_MAX);
    r->cell[COL_TARGET] = textForTerminal(segText(ss, lc->target), TABLE_TEXT_MAX);
    r->cell[COL_STATE] = stateText(lc);
    if (job->have_progress && job->pr.type == VIR_JOB_BOUNDED &&
        (job->pr.flags & VIR_SHM_PR_INITIALIZED || virShmStateEnded(lc->state)))
        r->cell[COL_PCT] = xasprintf("%" PRIu32 "%%", job->pr.percent);
    if (lc->state != VIR_SHM_STATE_QUEUED) {
        fmtDuration(buf, sizeof(buf), job->elapsed_ms);
        r->cell[COL_ELAPSED] = xstrdup(buf);
    }
    if (job->have_eta) {
        fmtDuration(buf, sizeof(buf), job->eta_ms);
        r->cell[COL_ETA] = xstrdup(buf);
    }
    if (lc->rate_bps) {
        fmtRate(buf, sizeof(buf), lc->rate_bps);
        r->cell[COL_RATE] = xstrdup(buf);
    }
    if (lc->worker_pid > 0)
        r->cell[COL_WORKER] = xasprintf("%d", (int)lc->worker_pid);
    if (all && lc->error)
        r->cell[COL_ERROR] = textForTerminal(segText(ss, lc->error), TABLE_ERROR_MAX);
}

/* Print the table; at most @maxrows job lines (0: no limit). */
static void printTable(FILE *f, const StatSnapshot *snap, bool all, size_t maxrows)
{
    Table t = { 0 };
    size_t width[COL_LAST];
    size_t ncols = all ? COL_LAST : COL_ERROR;
    size_t nread = 0;

    for (size_t i = 0; i < snap->nsegs; i++) {
        const StatSegment *ss = &snap->segs[i];
        if (!ss->read)
            continue;
        nread++;
        if (ss->stale) {
            Row *r = tableAdd(&t);
            r->cell[COL_SUPERVISOR] = xasprintf("%d", (int)ss->pid);
            r->cell[COL_STATE] = xstrdup("stale");
            continue;
        }
        for (size_t j = 0; j < ss->njobs; j++)
            jobRow(&t, ss, &ss->jobs[j], all);
    }

    if (t.n == 0) {
        fputs(nread ? "no jobs\n" : snap->nsegs ? "no readable segments\n" : "no supervisors\n", f);
        tableFree(&t);
        return;
    }

    for (size_t c = 0; c < ncols; c++) {
        width[c] = strlen(columns[c].title);
        for (size_t i = 0; i < t.n; i++) {
            const char *cell = t.rows[i].cell[c] ? t.rows[i].cell[c] : "-";
            size_t w = textWidth(cell);
            if (w > width[c])
                width[c] = w;
        }
    }
    for (size_t i = 0; i <= t.n; i++) {
        if (i > 0 && maxrows && i > maxrows) {
            fprintf(f, "(%zu more)\n", t.n - maxrows);
            break;
        }
        for (size_t c = 0; c < ncols; c++) {
            const char *cell = i == 0 ? columns[c].title :
                               t.rows[i - 1].cell[c] ? t.rows[i - 1].cell[c] : "-";
            size_t pad = width[c] - textWidth(cell);
            bool last = c + 1 == ncols;
            if (columns[c].right)
                fprintf(f, "%*s%s", (int)pad, "", cell);
            else
                fprintf(f, "%s%*s", cell, last ? 0 : (int)pad, "");
            if (!last)
                fputs("  ", f);
        }
        fputc('\n', f);
    }
    tableFree(&t);
}

/* ---- JSON -------------------------------------------------------------- */

/* ,"key":value pairs; @key is a literal with the comma, quotes and colon. */
#define putKeyU(o, key, v) (outLit((o), key), outU((o), (v)))
#define putKeyI(o, key, v) (outLit((o), key), outI((o), (v)))

static void putBool(Out *o, bool v)
{
    if (v)
        outLit(o, "true");
    else
        outLit(o, "false");
}
#define putKeyBool(o, key, v) (outLit((o), key), putBool((o), (v)))

/* A job's fields between two of its texts go through a cursor into room
 * taken at once: a run is at most JOB_RUN_MAX bytes (asserted), so no
 * field checks the room or stores the length. */
#define JOB_RUN_MAX 1024

#define curLit(p, lit) (memcpy((p), "" lit, sizeof(lit) - 1), (p) + sizeof(lit) - 1)

/* A short text of the tool's own (a state's name). */
static inline char *curStr(char *p, const char *s)
{
    size_t n = strlen(s);
    memcpy(p, s, n);
    return p + n;
}

static inline char *curBool(char *p, bool v)
{
    return v ? curLit(p, "true") : curLit(p, "false");
}

static inline char *curUOrNull(char *p, bool have, uint64_t v)
{
    return have ? fmtU(p, v) : curLit(p, "null");
}

static inline char *runStart(Out *o)
{
    return outRoom(o, JOB_RUN_MAX);
}

static inline void runEnd(Out *o, const char *start, const char *p)
{
    assert(p >= start && p - start <= JOB_RUN_MAX);
    o->len += (size_t)(p - start);
}

static void jsonJob(Out *o, const StatSegment *ss, const StatJob *job)
{
    const StatLc *lc = &job->lc;
    const StatProgress *pr = &job->pr;
    char *start = runStart(o), *p = start;

    p = curLit(p, "{\"slot\":");
    p = fmtU(p, job->slot);
    if (job->inconsistent) {
        p = curLit(p, ",\"state\":\"inconsistent\",\"reason\":");
        runEnd(o, start, p);
        jsonString(o, job->why);
        outByte(o, '}');
        return;
    }
    p = curLit(p, ",\"id\":");
    p = fmtU(p, lc->job_id);
    p = curLit(p, ",\"generation\":");
    p = fmtU(p, lc->generation);
    p = curLit(p, ",\"op\":");
    runEnd(o, start, p);
    jsonString(o, segText(ss, lc->op));
    outLit(o, ",\"target\":");
    jsonString(o, segText(ss, lc->target));

    p = start = runStart(o);
    p = curLit(p, ",\"state\":\"");
    p = curStr(p, stateNames[lc->state]);
    p = curLit(p, "\",\"cancel_requested\":");
    p = curBool(p, lc->flags & VIR_SHM_LC_CANCEL_REQUESTED);
    p = curLit(p, ",\"cancel_acked\":");
    p = curBool(p, lc->flags & VIR_SHM_LC_CANCEL_ACKED);
    p = curLit(p, ",\"stalled\":");
    p = curBool(p, lc->flags & VIR_SHM_LC_STALLED);
    p = curLit(p, ",\"killed\":");
    p = curBool(p, lc->flags & VIR_SHM_LC_KILLED);
    p = curLit(p, ",\"repaired\":");
    p = curBool(p, lc->flags & VIR_SHM_LC_REPAIRED);
    p = curLit(p, ",\"worker_pid\":");
    p = curUOrNull(p, lc->worker_pid > 0, (uint64_t)lc->worker_pid);
    p = curLit(p, ",\"exit_status\":");
    p = fmtI(p, lc->exit_status);
    p = curLit(p, ",\"term_signal\":");
    p = fmtI(p, lc->term_signal);
    p = curLit(p, ",\"error_code\":");
    p = fmtI(p, lc->error_code);
    p = curLit(p, ",\"error\":");
    if (lc->error) {
        runEnd(o, start, p);
        jsonString(o, segText(ss, lc->error));
        p = start = runStart(o);
    } else {
        p = curLit(p, "null");
    }

    p = curLit(p, ",\"start_realtime_ns\":");
    p = fmtU(p, lc->start_realtime_ns);
    p = curLit(p, ",\"end_realtime_ns\":");
    p = curUOrNull(p, lc->end_realtime_ns, lc->end_realtime_ns);
    p = curLit(p, ",\"elapsed_ms\":");
    p = fmtU(p, job->elapsed_ms);
    p = curLit(p, ",\"eta_ms\":");
    p = curUOrNull(p, job->have_eta, job->eta_ms);
    p = curLit(p, ",\"derived_eta_ms\":");
    p = curUOrNull(p, lc->eta_ms, lc->eta_ms);
    p = curLit(p, ",\"rate_bps\":");
    p = fmtU(p, lc->rate_bps);
    p = curLit(p, ",\"percent\":");
    p = curUOrNull(p, job->have_progress && pr->type == VIR_JOB_BOUNDED, pr->percent);
    p = curLit(p, ",\"progress\":");
    if (!job->have_progress) {
        p = curLit(p, "null}");
        runEnd(o, start, p);
        return;
    }
    /* The progress: "sampled" or "final". */
    p = curLit(p, "{\"source\":\"");
    p = curStr(p, job->progress_source);
    if (pr->type == VIR_JOB_UNBOUNDED)
        p = curLit(p, "\",\"type\":\"unbounded\"");
    else
        p = curLit(p, "\",\"type\":\"bounded\"");
    p = curLit(p, ",\"initialized\":");
    p = curBool(p, pr->flags & VIR_SHM_PR_INITIALIZED);
    p = curLit(p, ",\"percent\":");
    p = fmtU(p, pr->percent);
    p = curLit(p, ",\"elapsed_ms\":");
    p = fmtU(p, pr->elapsed_ms);
    p = curLit(p, ",\"eta_ms\":");
    p = curUOrNull(p, pr->flags & VIR_SHM_PR_HAS_ETA, pr->eta_ms);
    p = curLit(p, ",\"bytes_done\":");
    p = fmtU(p, pr->bytes_done);
    p = curLit(p, ",\"bytes_total\":");
    p = fmtU(p, pr->bytes_total);
    p = curLit(p, ",\"sampled_realtime_ns\":");
    p = fmtU(p, lc->sampled_realtime_ns);
    p = curLit(p, ",\"phase\":");
    runEnd(o, start, p);
    jsonString(o, segText(ss, pr->phase));
    outLit(o, "}}");
}

static void printJSON(Out *o, const StatSnapshot *snap)
{
    outLit(o, "{\"version\":");
    jsonString(o, VIRTSUP_VERSION);
    outLit(o, ",\"rundir\":");
    jsonString(o, snap->rundir);
    outLit(o, ",\"segments\":[");
    for (size_t i = 0; i < snap->nsegs; i++) {
        const StatSegment *ss = &snap->segs[i];
        if (i)
            outByte(o, ',');
        outLit(o, "\n {\"path\":");
        jsonString(o, ss->path);
        if (!ss->read) {
            outLit(o, ",\"supervisor_pid\":");
            if (ss->pid > 0)
                outI(o, ss->pid);
            else
                outLit(o, "null");
            putKeyBool(o, ",\"stale\":", ss->stale);
            outLit(o, ",\"error\":");
            jsonString(o, ss->error);
            outLit(o, ",\"jobs\":[]}");
            continue;
        }
        putKeyI(o, ",\"supervisor_pid\":", ss->pid);
        putKeyU(o, ",\"supervisor_start_time\":", ss->start_time);
        putKeyU(o, ",\"abi_version\":", ss->abi_version);
        putKeyU(o, ",\"nslots\":", ss->nslots);
        putKeyU(o, ",\"created_realtime_ns\":", ss->created_ns);
        putKeyBool(o, ",\"closed\":", ss->closed);
        putKeyBool(o, ",\"stale\":", ss->stale);
        outLit(o, ",\"error\":null,\"jobs\":[");
        for (size_t j = 0; j < ss->njobs; j++) {
            if (j)
                outByte(o, ',');
            outLit(o, "\n  ");
            jsonJob(o, ss, &ss->jobs[j]);
        }
        outLit(o, "]}");
    }
    outLit(o, "]}\n");
}

/* ---- Prometheus text format --------------------------------------------- */

static void promHeader(Out *o, const char *name, const char *help)
{
    outLit(o, "# HELP ");
    outStr(o, name);
    outByte(o, ' ');
    outStr(o, help);
    outLit(o, "\n# TYPE ");
    outStr(o, name);
    outLit(o, " gauge\n");
}

/* NAME{supervisor="…",job="…",op="…",target="…" (the brace left open). */
static void promJobLabels(Out *o, const char *name, const StatSegment *ss, const StatJob *job)
{
    outStr(o, name);
    putKeyI(o, "{supervisor=\"", ss->pid);
    putKeyU(o, "\",job=\"", job->lc.job_id);
    outLit(o, "\",op=");
    promLabel(o, segText(ss, job->lc.op));
    outLit(o, ",target=");
    promLabel(o, segText(ss, job->lc.target));
}

/* Jobs that get per-job metrics: readable, consistent, of a live supervisor. */
static bool promJobShown(const StatSegment *ss, const StatJob *job)
{
    return ss->read && !ss->stale && !job->inconsistent;
}

typedef enum {
    PM_STATE, PM_CANCEL, PM_PERCENT, PM_ELAPSED, PM_REMAINING, PM_BYTES_DONE, PM_BYTES_TOTAL,
    PM_RATE
} PromMetric;

/* Whether @job has a value of @m (e.g. no ETA: none). */
static bool promHasValue(const StatJob *job, PromMetric m)
{
    switch (m) {
    case PM_STATE:
        return false;           /* several samples: printPrometheus */
    case PM_CANCEL:
    case PM_ELAPSED:
    case PM_RATE:
        return true;
    case PM_PERCENT:
        return job->have_progress && job->pr.type == VIR_JOB_BOUNDED;
    case PM_REMAINING:
        return job->have_eta;
    case PM_BYTES_DONE:
        return job->have_progress;
    case PM_BYTES_TOTAL:
        return job->have_progress && job->pr.bytes_total > 0;
    }
    return false;
}

/* The value of @m for @job (promHasValue said it has one). */
static void promPutValue(Out *o, const StatJob *job, PromMetric m)
{
    switch (m) {
    case PM_STATE:
        break;
    case PM_CANCEL:
        outByte(o, job->lc.flags & VIR_SHM_LC_CANCEL_REQUESTED ? '1' : '0');
        break;
    case PM_PERCENT:
        outU(o, job->pr.percent);
        break;
    case PM_ELAPSED:
        outMillisAsSeconds(o, job->elapsed_ms);
        break;
    case PM_REMAINING:
        outMillisAsSeconds(o, job->eta_ms);
        break;
    case PM_BYTES_DONE:
        outU(o, job->pr.bytes_done);
        break;
    case PM_BYTES_TOTAL:
        outU(o, job->pr.bytes_total);
        break;
    case PM_RATE:
        outU(o, job->lc.rate_bps);
        break;
    }
}

static void printPrometheus(Out *o, const StatSnapshot *snap)
{
    static const struct {
        PromMetric m;
        const char *name, *help;
    } metrics[] = {
        { PM_STATE, "virtsup_job_state", "1 for the job's current state, 0 for the others." },
        { PM_CANCEL, "virtsup_job_cancel_requested", "1 if cancellation of the job was asked." },
        { PM_PERCENT, "virtsup_job_percent", "Percent complete of a bounded job." },
        { PM_ELAPSED, "virtsup_job_elapsed_seconds", "Time since the job started (to its end when ended)." },
        { PM_REMAINING, "virtsup_job_remaining_seconds", "Estimated time left of an unfinished job." },
        { PM_BYTES_DONE, "virtsup_job_bytes_processed", "Bytes processed so far." },
        { PM_BYTES_TOTAL, "virtsup_job_bytes_total", "Bytes the job will process, when known." },
        { PM_RATE, "virtsup_job_rate_bytes_per_second", "Smoothed processing rate derived by the supervisor." },
    };
    uint64_t counts[VIR_SHM_STATE_LAST] = { 0 };
    uint64_t inconsistent = 0, unreadable = 0;

    promHeader(o, "virtsup_segment_stale", "1 if the segment's supervisor is gone.");
    for (size_t i = 0; i < snap->nsegs; i++) {
        const StatSegment *ss = &snap->segs[i];
        if (!ss->read) {
            unreadable++;
            continue;
        }
        putKeyI(o, "virtsup_segment_stale{supervisor=\"", ss->pid);
        outLit(o, "\"} ");
        outByte(o, ss->stale ? '1' : '0');
        outByte(o, '\n');
        if (ss->stale)
            continue;
        for (size_t j = 0; j < ss->njobs; j++) {
            if (ss->jobs[j].inconsistent)
                inconsistent++;
            else
                counts[ss->jobs[j].lc.state]++;
        }
    }
    promHeader(o, "virtsup_segments_unreadable", "Segments that could not be read.");
    putKeyU(o, "virtsup_segments_unreadable ", unreadable);
    outByte(o, '\n');

    for (size_t k = 0; k < ARRAY_CARDINALITY(metrics); k++) {
        promHeader(o, metrics[k].name, metrics[k].help);
        for (size_t i = 0; i < snap->nsegs; i++) {
            const StatSegment *ss = &snap->segs[i];
            for (size_t j = 0; j < ss->njobs; j++) {
                const StatJob *job = &ss->jobs[j];
                if (!promJobShown(ss, job))
                    continue;
                if (metrics[k].m == PM_STATE) {
                    /* One sample per state, 1 for the current one. */
                    for (uint32_t st = VIR_SHM_STATE_QUEUED; st < VIR_SHM_STATE_LAST; st++) {
                        promJobLabels(o, metrics[k].name, ss, job);
                        outLit(o, ",state=\"");
                        outStr(o, stateNames[st]);
                        outLit(o, "\"} ");
                        outByte(o, job->lc.state == st ? '1' : '0');
                        outByte(o, '\n');
                    }
                    continue;
                }
                if (!promHasValue(job, metrics[k].m))
                    continue;
                promJobLabels(o, metrics[k].name, ss, job);
                outLit(o, "} ");
                promPutValue(o, job, metrics[k].m);
                outByte(o, '\n');
            }
        }
    }

    promHeader(o, "virtsup_jobs", "Jobs listed, by state, over live supervisors.");
    for (uint32_t s = VIR_SHM_STATE_QUEUED; s < VIR_SHM_STATE_LAST; s++) {
        outLit(o, "virtsup_jobs{state=\"");
        outStr(o, stateNames[s]);
        outLit(o, "\"} ");
        outU(o, counts[s]);
        outByte(o, '\n');
    }
    putKeyU(o, "virtsup_jobs{state=\"inconsistent\"} ", inconsistent);
    outByte(o, '\n');
}

/* ---- --gc --------------------------------------------------------------- */

/* Decide whether segment @name is stale. A readable segment is stale when
 * its supervisor is gone (and, if its name carries a supervisor too, that
 * one is gone as well); an unreadable one only when its name says whose it
 * is and that process is gone. @why says what was found. */
static bool gcIsStale(const char *path, const char *name, pid_t *pid,
                      const struct stat *st, char **why, bool *unreadable)
{
    virShmSegment *seg;
    pid_t npid = -1;
    uint64_t nstart = 0;
    bool named = parseSegmentName(name, &npid, &nstart);
    bool stale;
    struct stat fst;

    *unreadable = false;
    virResetLastError();
    if (!(seg = virShmSegmentOpen(path))) {
        *unreadable = true;
        *why = segmentOpenError(path);
        virResetLastError();
        *pid = named ? npid : -1;
        return named && processGone(npid, nstart);
    }
    if (fstat(seg->fd, &fst) < 0 || fst.st_dev != st->st_dev || fst.st_ino != st->st_ino) {
        virShmSegmentClose(seg);
        *unreadable = true;
        *why = xasprintf("cannot open segment %s: it changed while being opened", path);
        *pid = -1;
        return false;
    }
    *pid = ((const virShmHeader *)seg->base)->supervisor_pid;
    stale = !virShmSupervisorAlive(seg);
    if (stale && named)
        stale = processGone(npid, nstart);
    virShmSegmentClose(seg);
    return stale;
}

static int runGC(const Options *opts)
{
    char *rundir;
    VIR_AUTOCLOSE dirfd = -1;
    bool missing;
    char **names;
    size_t n, removed = 0;
    int err, ret = EXIT_OK;

    if (!(rundir = resolveRundir(opts)))
        return EXIT_READ;
    if ((dirfd = openRundir(rundir, &missing)) < 0) {
        if (missing)
            printf("no supervisors\n");
        free(rundir);
        return missing ? EXIT_OK : EXIT_READ;
    }
    names = listSegments(dirfd, &n, &err);
    if (err) {
        statWarn("cannot read run directory %s: %s", rundir, strerror(err));
        ret = EXIT_READ;
    }
    for (size_t i = 0; i < n; i++) {
        char *path = xasprintf("%s/%s", rundir, names[i]);
        char *why = NULL;
        struct stat st;
        pid_t pid;
        bool unreadable;

        if (checkSegmentFile(dirfd, names[i], &st, &why) < 0) {
            statWarn("cannot open segment %s: %s", path, why);
            ret = EXIT_READ;
        } else if (gcIsStale(path, names[i], &pid, &st, &why, &unreadable)) {
            /* unlinkat on the directory we listed: a name, never a path
             * that could lead through a symlink elsewhere. */
            if (unlinkat(dirfd, names[i], 0) < 0) {
                statWarn("cannot remove stale segment %s: %s", path, strerror(errno));
                ret = EXIT_READ;
            } else {
                printf("removed %sstale segment %s (supervisor %d is gone)\n",
                       unreadable ? "unreadable " : "", path, (int)pid);
                removed++;
            }
        } else if (unreadable) {
            statWarn("%s", why);
            ret = EXIT_READ;
        }
        free(why);
        free(path);
    }
    if (!removed)
        printf("no stale segments\n");
    freeNames(names, n);
    free(rundir);
    return ret;
}

/* ---- --watch ------------------------------------------------------------ */

static void fmtNow(char *buf, size_t len)
{
    time_t t = time(NULL);
    struct tm tm;
    if (!localtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%d %H:%M:%S %Z", &tm))
        snprintf(buf, len, "%lld", (long long)t);
}

static size_t terminalRows(void)
{
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0)
        return ws.ws_row;
    return 0;
}

static int runWatch(const Options *opts)
{
    bool outTTY = isatty(STDOUT_FILENO);
    bool inTTY = isatty(STDIN_FILENO);
    struct sigaction sa = { 0 };
    sigset_t block, waitmask;
    struct timespec interval;
    int ret = EXIT_OK;

    interval.tv_sec = (time_t)opts->interval;
    interval.tv_nsec = (long)((opts->interval - (double)interval.tv_sec) * 1e9);

    /* SIGINT and SIGTERM are blocked except inside ppoll, so one that
     * comes while we draw is seen at the next wait, never lost. */
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGHUP);
    sigprocmask(SIG_BLOCK, &block, &waitmask);
    sigdelset(&waitmask, SIGINT);
    sigdelset(&waitmask, SIGTERM);
    sigdelset(&waitmask, SIGHUP);
    sa.sa_handler = onQuit;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);

    if (inTTY && tcgetattr(STDIN_FILENO, &savedTermios) == 0) {
        /* Keystrokes one at a time and not echoed; ISIG stays on so that
         * Ctrl-C still raises SIGINT. */
        rawTermios = savedTermios;
        rawTermios.c_lflag &= ~(ICANON | ECHO);
        rawTermios.c_cc[VMIN] = 1;
        rawTermios.c_cc[VTIME] = 0;
        terminalOwned = 1;
        atexit(restoreTerminal);
        sa.sa_handler = onFatal;
        sa.sa_flags = SA_RESETHAND;
        sigaction(SIGQUIT, &sa, NULL);
        sigaction(SIGSEGV, &sa, NULL);
        sigaction(SIGABRT, &sa, NULL);
        sa.sa_handler = onStop;
        sa.sa_flags = 0;
        sigaction(SIGTSTP, &sa, NULL);
        rawTerminal();
        if (!terminalRaw) {
            statWarn("cannot set up the terminal: %s", strerror(errno));
            terminalOwned = 0;
        }
    }

    while (!quitSignal) {
        StatSnapshot snap;
        char now[64];
        size_t rows = outTTY ? terminalRows() : 0;

        fmtNow(now, sizeof(now));
        if (outTTY)
            fputs("\033[H\033[2J", stdout);
        printf(PROG " " VIRTSUP_VERSION "  %s  every %gs%s\n\n", now, opts->interval,
               terminalOwned ? "  (q to quit)" : "");
        if (snapshotTake(opts, &snap) == 0)
            printTable(stdout, &snap, opts->all, rows > 4 ? rows - 4 : 0);
        snapshotFree(&snap);
        if (fflush(stdout) == EOF) {
            statWarn("cannot write the output: %s", strerror(errno));
            ret = EXIT_READ;
            break;
        }

        struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
        int r = ppoll(terminalOwned ? &pfd : NULL, terminalOwned ? 1 : 0, &interval, &waitmask);
        if (r < 0 && errno != EINTR) {
            statWarn("cannot wait for input: %s", strerror(errno));
            ret = EXIT_READ;
            break;
        }
        if (r > 0) {
            char c;
            ssize_t n = read(STDIN_FILENO, &c, 1);
            if (n == 0 || (n == 1 && (c == 'q' || c == 'Q')))
                break;
        }
    }
    restoreTerminal();
    if (outTTY)
        fputc('\n', stdout);
    return ret;
}

/* ---- main --------------------------------------------------------------- */

static void usage(FILE *f)
{
    fputs("Usage: " PROG " [OPTION]...\n"
          "Show the jobs of the libvirtsup supervisors on this host.\n"
          "\n"
          "  -a, --all              also show ended jobs still in the ring, with their error\n"
          "  -j, --json             print one JSON document\n"
          "  -p, --prometheus       print metrics in the Prometheus text format\n"
          "  -w, --watch[=SECONDS]  redraw the table every SECONDS (default 1; q quits)\n"
          "      --gc               remove the segments of supervisors that are gone\n"
          "  -r, --rundir DIR       read DIR instead of the default run directory\n"
          "  -h, --help             show this help and exit\n"
          "  -V, --version          show the version and exit\n"
          "\n"
          "Exit status: 0 ok, 1 a segment or the run directory could not be read,\n"
          "2 usage error. See virtsup-stat(1).\n", f);
}

static int parseInterval(const char *arg, double *out)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(arg, &end);
    if (errno || end == arg || *end || !isfinite(v) || v < 0.05 || v > 86400)
        return -1;
    *out = v;
    return 0;
}

static void silentErrors(void *opaque ATTRIBUTE_UNUSED, virErrorPtr err ATTRIBUTE_UNUSED)
{
}

int main(int argc, char **argv)
{
    enum { OPT_GC = 256 };
    static const struct option longopts[] = {
        { "all", no_argument, NULL, 'a' },
        { "json", no_argument, NULL, 'j' },
        { "prometheus", no_argument, NULL, 'p' },
        { "watch", optional_argument, NULL, 'w' },
        { "gc", no_argument, NULL, OPT_GC },
        { "rundir", required_argument, NULL, 'r' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    static Out document;        /* of --json and --prometheus */
    static char tableBuffer[64 * 1024];
    Options opts = { .mode = OUT_TABLE, .interval = 1.0 };
    unsigned modes = 0;
    struct sigaction sa = { 0 };
    StatSnapshot snap;
    int c, ret;

    /* Failures are printed once, by the tool, in its own words. */
    virSetErrorFunc(NULL, silentErrors);
    while ((c = getopt_long(argc, argv, "ajpw::r:hV", longopts, NULL)) != -1) {
        switch (c) {
        case 'a':
            opts.all = true;
            break;
        case 'j':
            opts.mode = OUT_JSON;
            modes++;
            break;
        case 'p':
            opts.mode = OUT_PROMETHEUS;
            modes++;
            break;
        case OPT_GC:
            opts.mode = OUT_GC;
            modes++;
            break;
        case 'w':
            opts.watch = true;
            if (optarg && parseInterval(optarg, &opts.interval) < 0) {
                statWarn("invalid --watch interval '%s': expected seconds between 0.05 and 86400",
                      optarg);
                return EXIT_USAGE;
            }
            break;
        case 'r':
            opts.rundir = optarg;
            break;
        case 'h':
            usage(stdout);
            return fflush(stdout) == EOF ? EXIT_READ : EXIT_OK;
        case 'V':
            printf(PROG " " VIRTSUP_VERSION "\n");
            return fflush(stdout) == EOF ? EXIT_READ : EXIT_OK;
        default:
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        statWarn("unexpected argument '%s'", argv[optind]);
        usage(stderr);
        return EXIT_USAGE;
    }
    if (modes > 1 || (opts.watch && modes)) {
        statWarn("--json, --prometheus, --gc and --watch exclude each other");
        return EXIT_USAGE;
    }

    sa.sa_handler = onBus;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGBUS, &sa, NULL);
    /* The table goes out in a few large writes too (given no buffer,
     * setvbuf keeps stdio's 4 KiB one). */
    if (!opts.watch && opts.mode == OUT_TABLE)
        setvbuf(stdout, tableBuffer, _IOFBF, sizeof(tableBuffer));

    if (opts.mode == OUT_GC) {
        ret = runGC(&opts);
    } else if (opts.watch) {
        ret = runWatch(&opts);
    } else {
        ret = snapshotTake(&opts, &snap) < 0 ? EXIT_READ : EXIT_OK;
        if (ret == EXIT_OK) {
            if (snap.any_error)
                ret = EXIT_READ;
            if (opts.mode == OUT_TABLE) {
                printTable(stdout, &snap, opts.all, 0);
            } else {
                document.fd = STDOUT_FILENO;
                if (opts.mode == OUT_JSON)
                    printJSON(&document, &snap);
                else
                    printPrometheus(&document, &snap);
                outFlush(&document);
                if (document.err) {
                    statWarn("cannot write the output: %s", strerror(document.err));
                    ret = EXIT_READ;
                }
            }
        }
        snapshotFree(&snap);
    }
    if (fflush(stdout) == EOF || ferror(stdout)) {
        statWarn("cannot write the output: %s", strerror(errno));
        ret = EXIT_READ;
    }
    return ret;
}
