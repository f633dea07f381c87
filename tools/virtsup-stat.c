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

/* What is listed of a job's lifecycle record: its fields, with the error
 * text kept apart ("" when none), so that a thousand jobs take 400 KiB
 * rather than a MiB: every page a process touches for the first time
 * costs it (docs/PERFORMANCE.md). */
typedef struct {
    uint64_t job_id;
    uint64_t generation;
    uint32_t state;
    uint32_t flags;
    int32_t worker_pid;
    int32_t exit_status;
    int32_t term_signal;
    int32_t error_code;
    uint64_t start_realtime_ns;
    uint64_t end_realtime_ns;
    uint64_t rate_bps;
    uint64_t eta_ms;
    uint64_t sampled_realtime_ns;
    char op[VIR_SHM_OP_MAX];
    char target[VIR_SHM_TARGET_MAX];
    char *error;                /* owned; "" (static) when none */
} StatLc;

/* One job as read from a slot. */
typedef struct {
    uint32_t slot;
    bool inconsistent;          /* no consistent lifecycle copy, or it lies about its slot */
    const char *why;            /* for inconsistent: static text */
    StatLc lc;
    /* Progress shown: as the supervisor sampled it for a running job, the
     * final copy for an ended one; none for a queued job or one not
     * sampled yet. */
    bool have_progress;
    const char *progress_source; /* "sampled", "final" or NULL */
    virShmProgressData pr;
    uint64_t elapsed_ms;
    bool have_eta;
    uint64_t eta_ms;
} StatJob;

static char noError[] = "";

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
} StatSegment;

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

/* A growing string. */
typedef struct {
    char *s;
    size_t len, alloc;
} Buf;

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

/* Quote @s for JSON or for a Prometheus label value. Both escape the double
 * quote and the backslash. JSON writes every control character as \u00XX
 * and an invalid byte as \ufffd; a label value has only \n, so the other
 * control characters and invalid bytes become U+FFFD itself (labels must be
 * valid UTF-8 and no parser should trip on them). */
typedef enum { QUOTE_JSON, QUOTE_PROMETHEUS } QuoteStyle;

static void writeQuoted(FILE *f, const char *s, QuoteStyle style)
{
    static const char replacement[] = "\xef\xbf\xbd";
    const unsigned char *p = (const unsigned char *)s;
    size_t len = strlen(s), i = 0;

    /* Plain printable ASCII, the usual case, goes out as it is. */
    while (i < len && p[i] >= 0x20 && p[i] < 0x7f && p[i] != '"' && p[i] != '\\')
        i++;
    if (i == len) {
        fputc('"', f);
        fwrite(s, 1, len, f);
        fputc('"', f);
        return;
    }
    i = 0;
    fputc('"', f);
    while (i < len) {
        uint32_t cp;
        size_t n = utf8Decode(p + i, len - i, &cp);
        if (n == 0) {
            fputs(style == QUOTE_JSON ? "\\ufffd" : replacement, f);
            i++;
            continue;
        }
        if (cp == '"' || cp == '\\')
            fprintf(f, "\\%c", (char)cp);
        else if (style == QUOTE_PROMETHEUS && cp == '\n')
            fputs("\\n", f);
        else if ((cp < 0x20 || cp == 0x7f) && style == QUOTE_JSON)
            fprintf(f, "\\u%04" PRIx32, cp);
        else if (cp < 0x20 || cp == 0x7f)
            fputs(replacement, f);
        else
            fwrite(p + i, 1, n, f);
        i += n;
    }
    fputc('"', f);
}

static void jsonString(FILE *f, const char *s)
{
    writeQuoted(f, s, QUOTE_JSON);
}

static void promLabel(FILE *f, const char *s)
{
    writeQuoted(f, s, QUOTE_PROMETHEUS);
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

/* Forget the jobs read from @ss (their error texts freed). */
static void jobsClear(StatSegment *ss)
{
    for (size_t j = 0; j < ss->njobs; j++)
        if (ss->jobs[j].lc.error != noError)
            free(ss->jobs[j].lc.error);
    ss->njobs = 0;
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
static bool readSlot(const virShmSegment *seg, uint32_t slot, bool all,
                     uint64_t now, StatJob *job)
{
    static virShmJobView v;     /* one read buffer, not one per job */
    StatLc *lc = &job->lc;

    virShmSlotView(seg, slot, all, &v);
    if (v.kind == VIR_SHM_VIEW_EMPTY)
        return false;
    job->slot = slot;
    job->inconsistent = v.kind == VIR_SHM_VIEW_INCONSISTENT;
    job->why = v.why;
    job->lc.error = noError;
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
    memcpy(lc->op, v.lc.op, sizeof(lc->op));
    memcpy(lc->target, v.lc.target, sizeof(lc->target));
    if (v.lc.error[0])
        lc->error = xstrdup(v.lc.error);
    job->pr = v.pr;
    job->have_progress = v.source != VIR_SHM_PROGRESS_NONE;
    job->progress_source = v.source == VIR_SHM_PROGRESS_SAMPLED ? "sampled" :
                           v.source == VIR_SHM_PROGRESS_FINAL ? "final" : NULL;

    job->elapsed_ms = 0;
    if (virShmStateEnded(lc->state)) {
        if (lc->end_realtime_ns > lc->start_realtime_ns)
            job->elapsed_ms = (lc->end_realtime_ns - lc->start_realtime_ns) / 1000000;
    } else if (now > lc->start_realtime_ns && lc->start_realtime_ns) {
        job->elapsed_ms = (now - lc->start_realtime_ns) / 1000000;
    }

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
    uint64_t now = virShmNowReal();

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
        if (!readSlot(seg, i, all, now, job))
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
        jobsClear(&snap->segs[i]);
        free(snap->segs[i].jobs);
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
    r->cell[COL_OP] = textForTerminal(lc->op, TABLE_TEXT_MAX);
    r->cell[COL_TARGET] = textForTerminal(lc->target, TABLE_TEXT_MAX);
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
    if (all && lc->error[0])
        r->cell[COL_ERROR] = textForTerminal(lc->error, TABLE_ERROR_MAX);
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

/* Writers for a thousand jobs' worth of JSON: the stream is locked once
 * by printJSON (flockfile), numbers are converted by hand. */
static void putS(FILE *f, const char *s)
{
    fputs_unlocked(s, f);
}

static void putU(FILE *f, uint64_t v)
{
    char b[24], *p = b + sizeof(b);
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    fwrite_unlocked(p, 1, (size_t)(b + sizeof(b) - p), f);
}

static void putI(FILE *f, int64_t v)
{
    if (v < 0) {
        fputc_unlocked('-', f);
        putU(f, (uint64_t)0 - (uint64_t)v);
    } else {
        putU(f, (uint64_t)v);
    }
}

/* ,"key":value pairs */
static void putKeyU(FILE *f, const char *key, uint64_t v)
{
    putS(f, key);
    putU(f, v);
}

static void putKeyUOrNull(FILE *f, const char *key, bool have, uint64_t v)
{
    putS(f, key);
    if (have)
        putU(f, v);
    else
        putS(f, "null");
}

static void putKeyBool(FILE *f, const char *key, bool v)
{
    putS(f, key);
    putS(f, v ? "true" : "false");
}

static void jsonProgress(FILE *f, const StatJob *job)
{
    const virShmProgressData *p = &job->pr;
    if (!job->have_progress) {
        putS(f, "null");
        return;
    }
    putS(f, "{\"source\":\"");
    putS(f, job->progress_source);
    putS(f, p->type == VIR_JOB_UNBOUNDED ? "\",\"type\":\"unbounded\"" :
                                           "\",\"type\":\"bounded\"");
    putKeyBool(f, ",\"initialized\":", p->flags & VIR_SHM_PR_INITIALIZED);
    putKeyU(f, ",\"percent\":", p->percent);
    putKeyU(f, ",\"elapsed_ms\":", p->elapsed_ms);
    putKeyUOrNull(f, ",\"eta_ms\":", p->flags & VIR_SHM_PR_HAS_ETA, p->eta_ms);
    putKeyU(f, ",\"bytes_done\":", p->bytes_done);
    putKeyU(f, ",\"bytes_total\":", p->bytes_total);
    putKeyU(f, ",\"sampled_realtime_ns\":", job->lc.sampled_realtime_ns);
    putS(f, ",\"phase\":");
    jsonString(f, p->phase);
    fputc_unlocked('}', f);
}

static void jsonJob(FILE *f, const StatJob *job)
{
    const StatLc *lc = &job->lc;

    putKeyU(f, "{\"slot\":", job->slot);
    if (job->inconsistent) {
        putS(f, ",\"state\":\"inconsistent\",\"reason\":");
        jsonString(f, job->why);
        fputc_unlocked('}', f);
        return;
    }
    putKeyU(f, ",\"id\":", lc->job_id);
    putKeyU(f, ",\"generation\":", lc->generation);
    putS(f, ",\"op\":");
    jsonString(f, lc->op);
    putS(f, ",\"target\":");
    jsonString(f, lc->target);
    putS(f, ",\"state\":\"");
    putS(f, stateNames[lc->state]);
    fputc_unlocked('"', f);
    putKeyBool(f, ",\"cancel_requested\":", lc->flags & VIR_SHM_LC_CANCEL_REQUESTED);
    putKeyBool(f, ",\"cancel_acked\":", lc->flags & VIR_SHM_LC_CANCEL_ACKED);
    putKeyBool(f, ",\"stalled\":", lc->flags & VIR_SHM_LC_STALLED);
    putKeyBool(f, ",\"killed\":", lc->flags & VIR_SHM_LC_KILLED);
    putKeyBool(f, ",\"repaired\":", lc->flags & VIR_SHM_LC_REPAIRED);
    putKeyUOrNull(f, ",\"worker_pid\":", lc->worker_pid > 0, (uint64_t)lc->worker_pid);
    putS(f, ",\"exit_status\":");
    putI(f, lc->exit_status);
    putS(f, ",\"term_signal\":");
    putI(f, lc->term_signal);
    putS(f, ",\"error_code\":");
    putI(f, lc->error_code);
    putS(f, ",\"error\":");
    if (lc->error[0])
        jsonString(f, lc->error);
    else
        putS(f, "null");
    putKeyU(f, ",\"start_realtime_ns\":", lc->start_realtime_ns);
    putKeyUOrNull(f, ",\"end_realtime_ns\":", lc->end_realtime_ns, lc->end_realtime_ns);
    putKeyU(f, ",\"elapsed_ms\":", job->elapsed_ms);
    putKeyUOrNull(f, ",\"eta_ms\":", job->have_eta, job->eta_ms);
    putKeyUOrNull(f, ",\"derived_eta_ms\":", lc->eta_ms, lc->eta_ms);
    putKeyU(f, ",\"rate_bps\":", lc->rate_bps);
    putKeyUOrNull(f, ",\"percent\":", job->have_progress && job->pr.type == VIR_JOB_BOUNDED,
                  job->pr.percent);
    putS(f, ",\"progress\":");
    jsonProgress(f, job);
    fputc_unlocked('}', f);
}

static void printJSON(FILE *f, const StatSnapshot *snap)
{
    flockfile(f);
    fputs("{\"version\":", f);
    jsonString(f, VIRTSUP_VERSION);
    fputs(",\"rundir\":", f);
    jsonString(f, snap->rundir);
    fputs(",\"segments\":[", f);
    for (size_t i = 0; i < snap->nsegs; i++) {
        const StatSegment *ss = &snap->segs[i];
        if (i)
            fputc(',', f);
        fputs("\n {\"path\":", f);
        jsonString(f, ss->path);
        if (!ss->read) {
            fputs(",\"supervisor_pid\":", f);
            if (ss->pid > 0)
                fprintf(f, "%d", (int)ss->pid);
            else
                fputs("null", f);
            fprintf(f, ",\"stale\":%s,\"error\":", ss->stale ? "true" : "false");
            jsonString(f, ss->error);
            fputs(",\"jobs\":[]}", f);
            continue;
        }
        fprintf(f, ",\"supervisor_pid\":%d,\"supervisor_start_time\":%" PRIu64
                ",\"abi_version\":%" PRIu32 ",\"nslots\":%" PRIu32
                ",\"created_realtime_ns\":%" PRIu64 ",\"closed\":%s,\"stale\":%s"
                ",\"error\":null,\"jobs\":[",
                (int)ss->pid, ss->start_time, ss->abi_version, ss->nslots,
                ss->created_ns, ss->closed ? "true" : "false", ss->stale ? "true" : "false");
        for (size_t j = 0; j < ss->njobs; j++) {
            if (j)
                fputc(',', f);
            fputs("\n  ", f);
            jsonJob(f, &ss->jobs[j]);
        }
        fputs("]}", f);
    }
    fputs("]}\n", f);
    funlockfile(f);
}

/* ---- Prometheus text format --------------------------------------------- */

static void promHeader(FILE *f, const char *name, const char *help)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

static void promJobLabels(FILE *f, const StatSegment *ss, const StatJob *job)
{
    fprintf(f, "{supervisor=\"%d\",job=\"%" PRIu64 "\",op=", (int)ss->pid, job->lc.job_id);
    promLabel(f, job->lc.op);
    fputs(",target=", f);
    promLabel(f, job->lc.target);
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

/* Value of @m for @job, as text; false when it has none (e.g. no ETA). */
static bool promValue(const StatJob *job, PromMetric m, char *buf, size_t len)
{
    switch (m) {
    case PM_STATE:
        return false;           /* several samples: printPrometheus */
    case PM_CANCEL:
        snprintf(buf, len, "%d", !!(job->lc.flags & VIR_SHM_LC_CANCEL_REQUESTED));
        return true;
    case PM_PERCENT:
        if (!job->have_progress || job->pr.type != VIR_JOB_BOUNDED)
            return false;
        snprintf(buf, len, "%" PRIu32, job->pr.percent);
        return true;
    case PM_ELAPSED:
        snprintf(buf, len, "%" PRIu64 ".%03" PRIu64, job->elapsed_ms / 1000, job->elapsed_ms % 1000);
        return true;
    case PM_REMAINING:
        snprintf(buf, len, "%" PRIu64 ".%03" PRIu64, job->eta_ms / 1000, job->eta_ms % 1000);
        return job->have_eta;
    case PM_BYTES_DONE:
        snprintf(buf, len, "%" PRIu64, job->pr.bytes_done);
        return job->have_progress;
    case PM_BYTES_TOTAL:
        snprintf(buf, len, "%" PRIu64, job->pr.bytes_total);
        return job->have_progress && job->pr.bytes_total > 0;
    case PM_RATE:
        snprintf(buf, len, "%" PRIu64, job->lc.rate_bps);
        return true;
    }
    return false;
}

static void printPrometheus(FILE *f, const StatSnapshot *snap)
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

    promHeader(f, "virtsup_segment_stale", "1 if the segment's supervisor is gone.");
    for (size_t i = 0; i < snap->nsegs; i++) {
        const StatSegment *ss = &snap->segs[i];
        if (!ss->read) {
            unreadable++;
            continue;
        }
        fprintf(f, "virtsup_segment_stale{supervisor=\"%d\"} %d\n", (int)ss->pid, ss->stale);
        if (ss->stale)
            continue;
        for (size_t j = 0; j < ss->njobs; j++) {
            if (ss->jobs[j].inconsistent)
                inconsistent++;
            else
                counts[ss->jobs[j].lc.state]++;
        }
    }
    promHeader(f, "virtsup_segments_unreadable", "Segments that could not be read.");
    fprintf(f, "virtsup_segments_unreadable %" PRIu64 "\n", unreadable);

    for (size_t k = 0; k < ARRAY_CARDINALITY(metrics); k++) {
        promHeader(f, metrics[k].name, metrics[k].help);
        for (size_t i = 0; i < snap->nsegs; i++) {
            const StatSegment *ss = &snap->segs[i];
            for (size_t j = 0; j < ss->njobs; j++) {
                const StatJob *job = &ss->jobs[j];
                char v[32];
                if (!promJobShown(ss, job))
                    continue;
                if (metrics[k].m == PM_STATE) {
                    /* One sample per state, 1 for the current one. */
                    for (uint32_t st = VIR_SHM_STATE_QUEUED; st < VIR_SHM_STATE_LAST; st++) {
                        fputs(metrics[k].name, f);
                        promJobLabels(f, ss, job);
                        fprintf(f, ",state=\"%s\"} %d\n", stateNames[st], job->lc.state == st);
                    }
                    continue;
                }
                if (!promValue(job, metrics[k].m, v, sizeof(v)))
                    continue;
                fputs(metrics[k].name, f);
                promJobLabels(f, ss, job);
                fprintf(f, "} %s\n", v);
            }
        }
    }

    promHeader(f, "virtsup_jobs", "Jobs listed, by state, over live supervisors.");
    for (uint32_t s = VIR_SHM_STATE_QUEUED; s < VIR_SHM_STATE_LAST; s++)
        fprintf(f, "virtsup_jobs{state=\"%s\"} %" PRIu64 "\n", stateNames[s], counts[s]);
    fprintf(f, "virtsup_jobs{state=\"inconsistent\"} %" PRIu64 "\n", inconsistent);
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
    /* One document at the end: written in a few large writes (a thousand
     * jobs are 700 KB of JSON, 175 writes with stdio's 4 KiB buffer). */
    if (!opts.watch)
        setvbuf(stdout, NULL, _IOFBF, 64 * 1024);

    if (opts.mode == OUT_GC) {
        ret = runGC(&opts);
    } else if (opts.watch) {
        ret = runWatch(&opts);
    } else {
        ret = snapshotTake(&opts, &snap) < 0 ? EXIT_READ : EXIT_OK;
        if (ret == EXIT_OK) {
            if (snap.any_error)
                ret = EXIT_READ;
            if (opts.mode == OUT_JSON)
                printJSON(stdout, &snap);
            else if (opts.mode == OUT_PROMETHEUS)
                printPrometheus(stdout, &snap);
            else
                printTable(stdout, &snap, opts.all, 0);
        }
        snapshotFree(&snap);
    }
    if (fflush(stdout) == EOF || ferror(stdout)) {
        statWarn("cannot write the output: %s", strerror(errno));
        ret = EXIT_READ;
    }
    return ret;
}
