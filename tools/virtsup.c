/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virtsup: a virsh-style client of libvirtsup.
 *
 *   virtsup [-c URI] [-r] [-q] [--verbose] [--batch FILE] COMMAND [ARGS] [; COMMAND ...]
 *   virtsup [options] 'COMMAND [ARGS]; COMMAND ...'     (virsh's one-string form)
 *
 * Every command runs on one connection (default test:///default). Long
 * commands (save, restore, dump, create, start, net-create, net-start) run
 * as jobs: the tool follows them with poll() on each job's descriptor and
 * shows their progress, redrawn in place on a terminal and as plain
 * periodic lines otherwise. Ctrl-C cancels the jobs being followed; a
 * second one stops waiting (closing the connection still cancels and reaps
 * them). The SIGINT handler only writes a byte to a self-pipe.
 *
 * Exit status, as virsh: 0 success, 1 failure (also a usage error); 130
 * cancelled by Ctrl-C.
 * See docs/virtsup.md and virtsup(1).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "libvirtsup/libvirtsup.h"
#include "util/internal.h"

#define PROG "virtsup"
#define DEFAULT_URI "test:///default"
#define XML_FILE_MAX (1024 * 1024)
#define BATCH_FILE_MAX (1024 * 1024)

/* virsh exits 1 for every error, a usage error too. */
enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 1, EXIT_CANCELLED = 130 };

/* What a job produces, for the line printed when it completes. */
typedef enum {
    KIND_SAVE, KIND_RESTORE, KIND_DUMP, KIND_CREATE, KIND_START,
    KIND_NET_CREATE, KIND_NET_START,
} JobKind;

typedef struct {
    virJobPtr job;          /* NULL once destroyed */
    unsigned long long id;
    JobKind kind;
    char *label;            /* "save test -> img" */
    char *what;             /* "save of domain 'test' to img", for errors */
    char *name;             /* domain or network, when known */
    char *file;
    char *op;               /* the library's operation name */
    bool reported;          /* ended and reported */
    int state;              /* virJobState once ended */
    unsigned int percent;
    char *error;            /* the job's error message once ended */
    /* plain (non-terminal) progress: last line printed */
    unsigned int plain_pct;
    double plain_at;
    const char *virshLabel; /* --verbose: virsh's "Save: [ 42 %]" on stderr */
    int virshPct;           /* last percent printed that way, -1 none */
} CliJob;

typedef struct {
    const char *uri;
    bool quiet;
    bool verbose;
    bool readonly;          /* -r: virConnectOpenReadOnly */
    bool tty;               /* stdout is a terminal: redraw progress */
    virConnectPtr conn;
    CliJob **jobs;          /* every job this process started, in order */
    size_t njobs;
    int interrupts;         /* Ctrl-C presses seen while following jobs */
    bool quit;              /* second Ctrl-C: stop waiting */
} Ctl;

typedef enum {
    ACT_NONE, ACT_UNDEFINE, ACT_DESTROY, ACT_NET_DESTROY, ACT_SUSPEND, ACT_RESUME,
    ACT_SHUTDOWN, ACT_REBOOT, ACT_JOBABORT,
} Action;

typedef struct {
    const char *name;
    int (*run)(Ctl *ctl, int argc, char **argv);   /* or one of: */
    bool job;               /* a job command: @kind, @per arguments a job */
    JobKind kind;
    int per;
    Action act;             /* a change without a job */
    const char *args;       /* synopsis after the name */
    const char *help;
} Command;

static int sigpipe[2] = { -1, -1 };

static void silentErrors(void *opaque ATTRIBUTE_UNUSED, virErrorPtr err ATTRIBUTE_UNUSED)
{
}

/* ---- small helpers ----------------------------------------------------- */

static void cliError(const char *fmt, ...) ATTRIBUTE_FMT_PRINTF(1, 2);
static void cliError(const char *fmt, ...)
{
    va_list ap;
    fflush(stdout);
    fputs(PROG ": ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* A library call failed: "virtsup: WHAT: <the library's message>". */
static int libError(const char *fmt, ...) ATTRIBUTE_FMT_PRINTF(1, 2);
static int libError(const char *fmt, ...)
{
    va_list ap;
    virErrorPtr err = virGetLastError();
    fflush(stdout);
    fputs(PROG ": ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, ": %s\n", err && err->message ? err->message : "unknown error");
    return EXIT_FAIL;
}

static int usageError(const char *cmd, const char *fmt, ...) ATTRIBUTE_FMT_PRINTF(2, 3);
static int usageError(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fflush(stdout);
    fputs(PROG ": ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    if (cmd)
        fprintf(stderr, " (see '" PROG " help %s')\n", cmd);
    else
        fputs(" (see '" PROG " help')\n", stderr);
    return EXIT_USAGE;
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) {
        cliError("out of memory");
        exit(EXIT_FAIL);
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
        cliError("out of memory");
        exit(EXIT_FAIL);
    }
    return s;
}

static char *xstrdup(const char *s)
{
    return xasprintf("%s", s);
}

/* Text that goes to the terminal: control characters (from file names)
 * become '?'. Returns @s, changed in place. */
static char *printable(char *s)
{
    for (char *c = s; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = '?';
    return s;
}

static double nowSec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Read a whole small file (XML, a batch file). Returns a NUL-terminated
 * string, or NULL having printed why. */
static char *readFile(const char *path, size_t max)
{
    VIR_AUTOCLOSE fd = -1;
    struct stat st;
    char *buf;
    size_t len = 0;

    if (STREQ(path, "-"))
        fd = dup(STDIN_FILENO);
    else
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        cliError("cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        cliError("cannot read %s: %s", path, strerror(EISDIR));
        return NULL;
    }
    buf = xcalloc(1, max + 1);
    for (;;) {
        ssize_t n = read(fd, buf + len, max + 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            cliError("cannot read %s: %s", path, strerror(errno));
            free(buf);
            return NULL;
        }
        if (n == 0)
            break;
        len += n;
        if (len > max) {
            cliError("cannot read %s: larger than %zu bytes", path, max);
            free(buf);
            return NULL;
        }
    }
    buf[len] = '\0';
    return buf;
}

/* Split "--flag" options from positional arguments of a command. Known
 * flags are listed in @flags (NULL-terminated) and set in @set; an unknown
 * one is a usage error. Positionals are packed to the front of argv.
 * Returns the positional count, or -1 after a usage error. */
static int splitArgs(const char *cmd, int argc, char **argv,
                     const char *const *flags, bool *set)
{
    int npos = 0;
    bool dashdash = false;

    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!dashdash && STREQ(a, "--")) {
            dashdash = true;
            continue;
        }
        if (!dashdash && a[0] == '-' && a[1] == '-') {
            size_t k;
            for (k = 0; flags && flags[k]; k++) {
                if (STREQ(a + 2, flags[k])) {
                    set[k] = true;
                    break;
                }
            }
            if (!flags || !flags[k]) {
                usageError(cmd, "%s: unknown option '%s'", cmd, a);
                return -1;
            }
            continue;
        }
        argv[npos++] = argv[i];
    }
    return npos;
}

static int wantArgs(const char *cmd, int n, int min, int max)
{
    if (n < min)
        return usageError(cmd, "%s: missing argument", cmd);
    if (max >= 0 && n > max)
        return usageError(cmd, "%s: too many arguments", cmd);
    return 0;
}

static const char *domStateName(int state)
{
    switch ((virDomainState)state) {
    case VIR_DOMAIN_NOSTATE: return "no state";
    case VIR_DOMAIN_RUNNING: return "running";
    case VIR_DOMAIN_BLOCKED: return "blocked";
    case VIR_DOMAIN_PAUSED: return "paused";
    case VIR_DOMAIN_SHUTDOWN: return "in shutdown";
    case VIR_DOMAIN_SHUTOFF: return "shut off";
    case VIR_DOMAIN_CRASHED: return "crashed";
    case VIR_DOMAIN_PMSUSPENDED: return "pmsuspended";
    }
    return "unknown";
}

static const char *jobStateName(int state)
{
    switch ((virJobState)state) {
    case VIR_JOB_RUNNING: return "running";
    case VIR_JOB_COMPLETE: return "completed";
    case VIR_JOB_FAILED: return "failed";
    case VIR_JOB_CANCELLED: return "cancelled";
    }
    return "unknown";
}

/* A domain by ID, UUID or name, in virsh's order. */
static virDomainPtr lookupDomain(Ctl *ctl, const char *name)
{
    virDomainPtr dom = NULL;
    char *end;
    long id;

    errno = 0;
    id = strtol(name, &end, 10);
    if (*name && !*end && errno == 0 && id >= 0 && id <= INT32_MAX)
        dom = virDomainLookupByID(ctl->conn, (int)id);
    if (!dom && strlen(name) + 1 == VIR_UUID_STRING_BUFLEN)
        dom = virDomainLookupByUUIDString(ctl->conn, name);
    if (!dom)
        dom = virDomainLookupByName(ctl->conn, name);
    if (!dom)
        libError("cannot find domain '%s'", name);
    return dom;
}

static virNetworkPtr lookupNetwork(Ctl *ctl, const char *name)
{
    virNetworkPtr net = virNetworkLookupByName(ctl->conn, name);
    if (!net)
        libError("cannot find network '%s'", name);
    return net;
}

/* ---- progress ---------------------------------------------------------- */

/* "12.3 MiB" into @buf. */
static const char *fmtBytes(char *buf, size_t len, unsigned long long b)
{
    static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
    double v = b;
    size_t u = 0;
    while (v >= 1024 && u + 1 < ARRAY_CARDINALITY(unit)) {
        v /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(buf, len, "%llu B", b);
    else
        snprintf(buf, len, "%.1f %s", v, unit[u]);
    return buf;
}

static const char *fmtDuration(char *buf, size_t len, unsigned long long ms)
{
    unsigned long long s = (ms + 999) / 1000;
    if (s >= 3600)
        snprintf(buf, len, "%llu:%02llu:%02llu", s / 3600, s / 60 % 60, s % 60);
    else
        snprintf(buf, len, "%llu:%02llu", s / 60, s % 60);
    return buf;
}

typedef struct {
    unsigned int percent;
    unsigned long long done, total, rate, remaining_ms, elapsed_ms;
    char phase[48];
    bool cancel_requested;
    bool stalled;
} Progress;

/* Read a job's progress through virJobGetStats (fields may be absent). */
static void getProgress(CliJob *cj, Progress *p)
{
    virTypedParameterPtr params = NULL;
    int n = 0;

    memset(p, 0, sizeof(*p));
    if (virJobGetStats(cj->job, &params, &n, 0) < 0)
        return;
    virTypedParamsGetULLong(params, n, VIR_JOB_STATS_DATA_PROCESSED, &p->done);
    virTypedParamsGetULLong(params, n, VIR_JOB_STATS_DATA_TOTAL, &p->total);
    virTypedParamsGetULLong(params, n, VIR_JOB_STATS_RATE, &p->rate);
    virTypedParamsGetULLong(params, n, VIR_JOB_STATS_TIME_REMAINING, &p->remaining_ms);
    virTypedParamsGetULLong(params, n, VIR_JOB_STATS_TIME_ELAPSED, &p->elapsed_ms);
    for (int i = 0; i < n; i++) {
        virTypedParameterPtr f = &params[i];
        if (STREQ(f->field, VIR_JOB_STATS_PERCENT) && f->type == VIR_TYPED_PARAM_UINT)
            p->percent = f->value.ui;
        else if (STREQ(f->field, VIR_JOB_STATS_CANCEL_REQUESTED) && f->type == VIR_TYPED_PARAM_BOOLEAN)
            p->cancel_requested = f->value.b;
        else if (STREQ(f->field, VIR_JOB_STATS_STALLED) && f->type == VIR_TYPED_PARAM_BOOLEAN)
            p->stalled = f->value.b;
        else if (f->type != VIR_TYPED_PARAM_STRING || !f->value.s)
            continue;
        else if (STREQ(f->field, VIR_JOB_STATS_PHASE)) {
            /* The phase comes from the worker: keep printable ASCII only. */
            size_t k = 0;
            for (const char *c = f->value.s; *c && k + 1 < sizeof(p->phase); c++)
                p->phase[k++] = (*c >= 0x20 && *c < 0x7f) ? *c : '?';
            p->phase[k] = '\0';
        } else if (STREQ(f->field, VIR_JOB_STATS_OPERATION) && !cj->op) {
            cj->op = xstrdup(f->value.s);
        }
    }
    virTypedParamsFree(params, n);
    if (p->percent > cj->percent)
        cj->percent = p->percent;
}

/* One progress line (no newline) into @buf. */
static void progressLine(char *buf, size_t len, CliJob *cj, const Progress *p)
{
    char done[32], total[32], rate[32], eta[32];
    int n;

    n = snprintf(buf, len, "job %llu %s: %3u%%", cj->id, cj->label, p->percent);
    if (n < 0 || (size_t)n >= len)
        return;
    if (p->total)
        n += snprintf(buf + n, len - n, "  %s/%s", fmtBytes(done, sizeof(done), p->done),
                      fmtBytes(total, sizeof(total), p->total));
    else if (p->done)
        n += snprintf(buf + n, len - n, "  %s", fmtBytes(done, sizeof(done), p->done));
    if ((size_t)n >= len)
        return;
    if (p->rate)
        n += snprintf(buf + n, len - n, "  %s/s", fmtBytes(rate, sizeof(rate), p->rate));
    if ((size_t)n >= len)
        return;
    /* At 100 % nothing remains: no ETA (the last sample's estimate said
     * "0:01" on a finished job's line). */
    if (p->percent < 100)
        n += snprintf(buf + n, len - n, "  ETA %s",
                      p->remaining_ms ? fmtDuration(eta, sizeof(eta), p->remaining_ms) : "--:--");
    if ((size_t)n >= len)
        return;
    if (p->cancel_requested)
        n += snprintf(buf + n, len - n, "  cancelling");
    else if (p->stalled)
        n += snprintf(buf + n, len - n, "  stalled");
    else if (p->phase[0])
        n += snprintf(buf + n, len - n, "  %s", p->phase);
}

static int termWidth(void)
{
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 10)
        return ws.ws_col;
    return 80;
}

/* The final line of an ended job. */
static void endLine(char *buf, size_t len, CliJob *cj)
{
    snprintf(buf, len, "job %llu %s: %s%s%s", cj->id, cj->label, jobStateName(cj->state),
             cj->error ? ": " : "", cj->error ? cj->error : "");
}

/* ---- following jobs ---------------------------------------------------- */

static void onSignal(int sig)
{
    int saved = errno;
    unsigned char c = (unsigned char)sig;
    /* async-signal-safe: one write to a non-blocking pipe, nothing else */
    if (write(sigpipe[1], &c, 1) < 0) {
        /* the pipe is full: enough presses are already pending */
    }
    errno = saved;
}

static int sigpipeOpen(void)
{
    if (sigpipe[0] >= 0)
        return 0;
    if (pipe2(sigpipe, O_CLOEXEC | O_NONBLOCK) < 0) {
        cliError("cannot create a pipe for Ctrl-C: %s", strerror(errno));
        return -1;
    }
    return 0;
}

/* Record how @cj ended: state, percent, a copy of its error. */
static void jobEnded(CliJob *cj)
{
    virJobInfo info;
    virErrorPtr err;

    virJobWait(cj->job, -1);
    if (virJobGetInfo(cj->job, &info) == 0) {
        cj->state = info.state;
        if (info.percentComplete > cj->percent)
            cj->percent = info.percentComplete;
    } else {
        cj->state = VIR_JOB_FAILED;
    }
    if ((err = virJobGetError(cj->job)) && err->message)
        cj->error = xstrdup(err->message);
    if (cj->state == VIR_JOB_COMPLETE)
        cj->percent = 100;
}

/* Print the outcome of an ended job: a success line on stdout, or one
 * error line on stderr. Returns the job's part of the exit status. */
static int jobReport(Ctl *ctl, CliJob *cj)
{
    virDomainPtr dom = NULL;
    virNetworkPtr net = NULL;
    const char *name = cj->name;

    if (cj->state == VIR_JOB_CANCELLED) {
        cliError("%s: cancelled: %s", cj->what, cj->error ? cj->error : "cancelled by request");
        return ctl->interrupts ? EXIT_CANCELLED : EXIT_FAIL;
    }
    if (cj->state != VIR_JOB_COMPLETE) {
        cliError("%s failed: %s", cj->what, cj->error ? cj->error : "unknown error");
        return EXIT_FAIL;
    }
    if (cj->kind == KIND_NET_CREATE || cj->kind == KIND_NET_START) {
        if ((net = virJobGetNetwork(cj->job)))
            name = virNetworkGetName(net);
    } else if ((dom = virJobGetDomain(cj->job))) {
        name = virDomainGetName(dom);
    }
    if (!name)
        name = "?";
    if (!ctl->quiet) {
        if (ctl->interrupts)
            printf("Job %llu completed before the cancellation took effect\n", cj->id);
        switch (cj->kind) {
        case KIND_SAVE: printf("Domain '%s' saved to %s\n", name, cj->file); break;
        case KIND_RESTORE: printf("Domain '%s' restored from %s\n", name, cj->file); break;
        case KIND_DUMP: printf("Domain '%s' dumped to %s\n", name, cj->file); break;
        case KIND_CREATE: printf("Domain '%s' created from %s\n", name, cj->file); break;
        case KIND_START: printf("Domain '%s' started\n", name); break;
        case KIND_NET_CREATE: printf("Network '%s' created from %s\n", name, cj->file); break;
        case KIND_NET_START: printf("Network '%s' started\n", name); break;
        }
    }
    if (dom)
        virDomainFree(dom);
    if (net)
        virNetworkFree(net);
    return EXIT_OK;
}

/* Handle the bytes of the self-pipe: the first Ctrl-C cancels every job
 * still running, the second makes the caller stop waiting. */
static void handleInterrupts(Ctl *ctl, CliJob **jobs, size_t n)
{
    unsigned char buf[16];
    ssize_t got;

    while ((got = read(sigpipe[0], buf, sizeof(buf))) > 0) {
        for (ssize_t k = 0; k < got; k++) {
            ctl->interrupts++;
            if (ctl->interrupts == 1) {
                for (size_t i = 0; i < n; i++) {
                    if (jobs[i]->reported)
                        continue;
                    if (virJobCancel(jobs[i]->job) < 0)
                        libError("cannot cancel job %llu", jobs[i]->id);
                }
            } else if (!ctl->quit) {
                /* Stop waiting: the caller closes the connection, which
                 * cancels and reaps the jobs; a short grace period makes
                 * that quick. */
                for (size_t i = 0; i < n; i++)
                    if (!jobs[i]->reported)
                        virJobSetGracePeriod(jobs[i]->job, 1);
                ctl->quit = true;
            }
        }
    }
}

/* Follow @jobs until every one has ended (or a second Ctrl-C). Shows the
 * progress as the output allows, reports each outcome. Returns the exit
 * status: the worst of the jobs' (130 beats 1 beats 0). */
static int followJobs(Ctl *ctl, CliJob **jobs, size_t n)
{
    struct sigaction sa = { .sa_handler = onSignal }, old_int;
    struct pollfd *pfd = xcalloc(n + 1, sizeof(*pfd));
    size_t drawn = 0;           /* lines of the live display on screen */
    int ret = EXIT_OK;
    bool any_left = true;
    char line[512];
    int width = ctl->tty ? termWidth() : (int)sizeof(line) - 1;
    bool cancel_noted = false;

    if (sigpipeOpen() < 0) {
        free(pfd);
        return EXIT_FAIL;
    }
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);

    /* Jobs asked for virsh's --verbose line only: no rich progress. */
    bool virshOnly = true;
    for (size_t i = 0; i < n; i++)
        if (!jobs[i]->virshLabel)
            virshOnly = false;

    if (!ctl->quiet && !ctl->tty && !virshOnly) {
        for (size_t i = 0; i < n; i++) {
            jobs[i]->plain_at = nowSec();
            printf("job %llu %s: started\n", jobs[i]->id, jobs[i]->label);
        }
        fflush(stdout);
    }

    while (any_left && !ctl->quit) {
        size_t npfd = 0;
        pfd[npfd++] = (struct pollfd){ .fd = sigpipe[0], .events = POLLIN };
        /* An ended job's descriptor stays readable: only running ones. */
        for (size_t i = 0; i < n; i++)
            if (!jobs[i]->reported && jobs[i]->state == VIR_JOB_RUNNING)
                pfd[npfd++] = (struct pollfd){ .fd = virJobGetFD(jobs[i]->job), .events = POLLIN };

        if (poll(pfd, npfd, ctl->tty ? 150 : 200) < 0 && errno != EINTR) {
            cliError("cannot wait for the jobs: %s", strerror(errno));
            ret = EXIT_FAIL;
            break;
        }
        handleInterrupts(ctl, jobs, n);
        if (ctl->interrupts && !cancel_noted && !ctl->quiet) {
            if (ctl->tty && drawn) {
                /* the note goes above the live lines, redrawn below it */
                if (drawn > 1)
                    printf("\033[%zuA", drawn - 1);
                printf("\r\033[J");
            }
            printf("cancelling (press Ctrl-C again to stop waiting)%s\n", ctl->tty ? "\033[K" : "");
            if (!ctl->tty)
                fflush(stdout);
            drawn = 0;
        }
        if (ctl->interrupts)
            cancel_noted = true;

        /* Collect the jobs that ended. */
        any_left = false;
        for (size_t i = 0; i < n; i++) {
            CliJob *cj = jobs[i];
            virJobInfo info;
            if (cj->reported)
                continue;
            if (virJobGetInfo(cj->job, &info) == 0 && info.state != VIR_JOB_RUNNING)
                jobEnded(cj);
            else
                any_left = true;
        }

        /* virsh's --verbose line, on stderr, for the jobs that asked. */
        for (size_t i = 0; i < n; i++) {
            CliJob *cj = jobs[i];
            int pct;
            if (cj->reported || !cj->virshLabel)
                continue;
            if (cj->state == VIR_JOB_RUNNING) {
                Progress p;
                getProgress(cj, &p);
                pct = p.percent >= 100 ? 99 : (int)p.percent;
            } else {
                pct = cj->state == VIR_JOB_COMPLETE ? 100 : -1;
            }
            if (pct >= 0 && pct != cj->virshPct) {
                fprintf(stderr, "\r%s: [%3d %%]%s", cj->virshLabel, pct, pct == 100 ? "\n" : "");
                cj->virshPct = pct;
            } else if (pct < 0 && cj->virshPct >= 0) {
                fputc('\n', stderr);
                cj->virshPct = -1;
            }
        }

        if (ctl->quiet || virshOnly)
            goto report;

        if (ctl->tty) {
            /* Redraw: back to the first live line, one line per job. */
            if (drawn > 1)
                printf("\033[%zuA", drawn - 1);
            if (drawn)
                printf("\r");
            drawn = 0;
            for (size_t i = 0; i < n; i++) {
                CliJob *cj = jobs[i];
                if (cj->reported)
                    continue;
                if (cj->state != VIR_JOB_RUNNING || !cj->job) {
                    endLine(line, sizeof(line), cj);
                } else {
                    Progress p;
                    getProgress(cj, &p);
                    progressLine(line, sizeof(line), cj, &p);
                }
                if ((int)strlen(line) > width - 1)
                    line[width - 1] = '\0';
                if (drawn)
                    printf("\n");
                printf("\r%s\033[K", line);
                drawn++;
            }
            /* Ended jobs leave the live area: their final line stays. */
            bool all_ended = true;
            for (size_t i = 0; i < n; i++)
                if (!jobs[i]->reported && jobs[i]->state == VIR_JOB_RUNNING)
                    all_ended = false;
            if (all_ended && drawn) {
                printf("\n");
                drawn = 0;
            }
            fflush(stdout);
        } else {
            double now = nowSec();
            for (size_t i = 0; i < n; i++) {
                CliJob *cj = jobs[i];
                if (cj->reported)
                    continue;
                if (cj->state != VIR_JOB_RUNNING) {
                    endLine(line, sizeof(line), cj);
                    printf("%s\n", line);
                    continue;
                }
                Progress p;
                getProgress(cj, &p);
                /* every 10 % or every second, whichever is less often */
                if (p.percent >= cj->plain_pct + 10 && now - cj->plain_at >= 1.0) {
                    progressLine(line, sizeof(line), cj, &p);
                    printf("%s\n", line);
                    cj->plain_pct = p.percent - p.percent % 10;
                    cj->plain_at = now;
                }
            }
            fflush(stdout);
        }

     report:
        for (size_t i = 0; i < n; i++) {
            CliJob *cj = jobs[i];
            int r;
            if (cj->reported || cj->state == VIR_JOB_RUNNING)
                continue;
            if (ctl->tty && drawn && !ctl->quiet && !virshOnly)
                continue;   /* still in the live area: reported when it is left */
            r = jobReport(ctl, cj);
            if (r == EXIT_CANCELLED || (r == EXIT_FAIL && ret == EXIT_OK))
                ret = r;
            cj->reported = true;
            if (ctl->verbose && !ctl->quiet)
                printf("job %llu: %s\n", cj->id, jobStateName(cj->state));
            virJobDestroy(cj->job);
            cj->job = NULL;
        }
    }

    if (ctl->tty && drawn)
        printf("\n");
    if (ctl->quit) {
        cliError("interrupted again: not waiting for the cancelled jobs (they are killed and reaped at exit)");
        ret = EXIT_CANCELLED;
    }
    fflush(stdout);
    sigaction(SIGINT, &old_int, NULL);
    free(pfd);
    return ret;
}

/* Remember a job the library just started. Takes ownership of the strings. */
static CliJob *addJob(Ctl *ctl, virJobPtr job, JobKind kind, char *label, char *what,
                      const char *name, const char *file)
{
    CliJob *cj = xcalloc(1, sizeof(*cj));
    CliJob **grown = reallocarray(ctl->jobs, ctl->njobs + 1, sizeof(*grown));

    if (!grown) {
        cliError("out of memory");
        exit(EXIT_FAIL);
    }
    ctl->jobs = grown;
    cj->job = job;
    cj->id = virJobGetID(job);
    cj->kind = kind;
    cj->label = printable(label);
    cj->what = printable(what);
    cj->name = name ? printable(xstrdup(name)) : NULL;
    cj->file = file ? printable(xstrdup(file)) : NULL;
    cj->state = VIR_JOB_RUNNING;
    ctl->jobs[ctl->njobs++] = cj;
    if (ctl->verbose && !ctl->quiet) {
        Progress p;
        getProgress(cj, &p);
        printf("job %llu started: %s (%s)\n", cj->id, what, cj->op ? cj->op : "?");
    }
    return cj;
}

/* Follow every job not yet reported (those started with --async). */
static int followPending(Ctl *ctl)
{
    CliJob **pending = xcalloc(ctl->njobs, sizeof(*pending));
    size_t n = 0;
    int ret = EXIT_OK;

    for (size_t i = 0; i < ctl->njobs; i++)
        if (!ctl->jobs[i]->reported)
            pending[n++] = ctl->jobs[i];
    if (n)
        ret = followJobs(ctl, pending, n);
    free(pending);
    return ret;
}

/* ---- commands ---------------------------------------------------------- */

/* virsh's names of states (list, domstate). */
static const char *virshStateName(int state)
{
    switch ((virDomainState)state) {
    case VIR_DOMAIN_NOSTATE: return "no state";
    case VIR_DOMAIN_RUNNING: return "running";
    case VIR_DOMAIN_BLOCKED: return "idle";
    case VIR_DOMAIN_PAUSED: return "paused";
    case VIR_DOMAIN_SHUTDOWN: return "in shutdown";
    case VIR_DOMAIN_SHUTOFF: return "shut off";
    case VIR_DOMAIN_CRASHED: return "crashed";
    case VIR_DOMAIN_PMSUSPENDED: return "pmsuspended";
    }
    return "no state";
}

/* virsh's words for a state's reason (domstate --reason). */
static const char *virshReasonName(int state, int reason)
{
    static const char *const running[] = {
        "unknown", "booted", "migrated", "restored", "from snapshot", "unpaused",
        "migration canceled", "save canceled", "event wakeup", "crashed", "post-copy",
        "post-copy failed",
    };
    static const char *const paused[] = {
        "unknown", "user", "migrating", "saving", "dumping", "I/O error", "watchdog",
        "from snapshot", "shutting down", "creating snapshot", "crashed", "starting up",
        "post-copy", "post-copy failed",
    };
    static const char *const shutoff[] = {
        "unknown", "shutdown", "destroyed", "crashed", "migrated", "saved", "failed",
        "from snapshot", "daemon",
    };
    const char *const *names = NULL;
    size_t n = 0;

    switch (state) {
    case VIR_DOMAIN_RUNNING: names = running; n = ARRAY_CARDINALITY(running); break;
    case VIR_DOMAIN_PAUSED: names = paused; n = ARRAY_CARDINALITY(paused); break;
    case VIR_DOMAIN_SHUTOFF: names = shutoff; n = ARRAY_CARDINALITY(shutoff); break;
    case VIR_DOMAIN_SHUTDOWN: return reason == 1 ? "user" : "unknown";
    case VIR_DOMAIN_CRASHED: return reason == 1 ? "panicked" : "unknown";
    default: return "unknown";
    }
    return reason >= 0 && (size_t)reason < n ? names[reason] : "unknown";
}

/* virsh's list: an "Id Name State" table (columns as wide as their
 * widest cell, three spaces apart), or --name / --uuid lines. */
static int cmdList(Ctl *ctl, int argc, char **argv)
{
    static const char *const flags[] = {
        "all", "inactive", "name", "uuid", "table", "state-running", "state-paused",
        "state-shutoff", "state-other", "persistent", "transient", NULL,
    };
    enum { ALL, INACTIVE, NAME, UUID, TABLE, S_RUNNING, S_PAUSED, S_SHUTOFF, S_OTHER,
           PERSISTENT, TRANSIENT, NFLAGS };
    bool set[NFLAGS] = { false };
    virDomainPtr *doms = NULL;
    unsigned int lf = 0;
    int n;

    if ((argc = splitArgs("list", argc, argv, flags, set)) < 0 || wantArgs("list", argc, 0, 0))
        return EXIT_USAGE;
    if (set[INACTIVE] && !set[ALL])
        lf |= VIR_CONNECT_LIST_DOMAINS_INACTIVE;
    else if (!set[ALL] && !set[S_RUNNING] && !set[S_PAUSED] && !set[S_SHUTOFF] && !set[S_OTHER])
        lf |= VIR_CONNECT_LIST_DOMAINS_ACTIVE;
    if (set[S_RUNNING])
        lf |= VIR_CONNECT_LIST_DOMAINS_RUNNING;
    if (set[S_PAUSED])
        lf |= VIR_CONNECT_LIST_DOMAINS_PAUSED;
    if (set[S_SHUTOFF])
        lf |= VIR_CONNECT_LIST_DOMAINS_SHUTOFF;
    if (set[S_OTHER])
        lf |= VIR_CONNECT_LIST_DOMAINS_OTHER;
    if (set[PERSISTENT])
        lf |= VIR_CONNECT_LIST_DOMAINS_PERSISTENT;
    if (set[TRANSIENT])
        lf |= VIR_CONNECT_LIST_DOMAINS_TRANSIENT;
    if ((n = virConnectListAllDomains(ctl->conn, &doms, lf)) < 0)
        return libError("cannot list domains");

    if (set[NAME] || set[UUID]) {
        for (int i = 0; i < n; i++) {
            char uuid[VIR_UUID_STRING_BUFLEN] = "";
            virDomainGetUUIDString(doms[i], uuid);
            if (set[UUID] && set[NAME])
                printf("%-36s %s\n", uuid, virDomainGetName(doms[i]));
            else
                printf("%s\n", set[UUID] ? uuid : virDomainGetName(doms[i]));
        }
    } else {
        char (*ids)[16] = xcalloc(n + 1, sizeof(*ids));
        const char **states = xcalloc(n + 1, sizeof(*states));
        int w[3] = { 2, 4, 5 };
        for (int i = 0; i < n; i++) {
            unsigned int id = virDomainGetID(doms[i]);
            int st = VIR_DOMAIN_NOSTATE;
            int len;
            virDomainGetState(doms[i], &st, NULL, 0);
            if (id == (unsigned int)-1)
                snprintf(ids[i], sizeof(ids[i]), "-");
            else
                snprintf(ids[i], sizeof(ids[i]), "%u", id);
            states[i] = virshStateName(st);
            if ((len = (int)strlen(ids[i])) > w[0])
                w[0] = len;
            if ((len = (int)strlen(virDomainGetName(doms[i]))) > w[1])
                w[1] = len;
            if ((len = (int)strlen(states[i])) > w[2])
                w[2] = len;
        }
        printf(" %-*s   %-*s   %s\n", w[0], "Id", w[1], "Name", "State");
        for (int i = 0; i < w[0] + w[1] + w[2] + 9; i++)
            putchar('-');
        putchar('\n');
        for (int i = 0; i < n; i++)
            printf(" %-*s   %-*s   %s\n", w[0], ids[i], w[1], virDomainGetName(doms[i]),
                   states[i]);
        free(ids);
        free(states);
    }
    putchar('\n');
    for (int i = 0; i < n; i++)
        virDomainFree(doms[i]);
    free(doms);
    return EXIT_OK;
}

/* domstate [--reason], domid, domuuid, domname: one line each, as virsh. */
static int cmdDomstate(Ctl *ctl, int argc, char **argv)
{
    static const char *const flags[] = { "reason", NULL };
    bool set[1] = { false };
    virDomainPtr dom;
    int st, reason;

    if ((argc = splitArgs("domstate", argc, argv, flags, set)) < 0 ||
        wantArgs("domstate", argc, 1, 1))
        return EXIT_USAGE;
    if (!(dom = lookupDomain(ctl, argv[0])))
        return EXIT_FAIL;
    if (virDomainGetState(dom, &st, &reason, 0) < 0) {
        libError("cannot get the state of domain '%s'", argv[0]);
        virDomainFree(dom);
        return EXIT_FAIL;
    }
    if (set[0])
        printf("%s (%s)\n", virshStateName(st), virshReasonName(st, reason));
    else
        printf("%s\n", virshStateName(st));
    virDomainFree(dom);
    return EXIT_OK;
}

static int cmdDomid(Ctl *ctl, int argc, char **argv)
{
    virDomainPtr dom;
    unsigned int id;

    if ((argc = splitArgs("domid", argc, argv, NULL, NULL)) < 0 || wantArgs("domid", argc, 1, 1))
        return EXIT_USAGE;
    if (!(dom = lookupDomain(ctl, argv[0])))
        return EXIT_FAIL;
    id = virDomainGetID(dom);
    if (id == (unsigned int)-1)
        printf("-\n");
    else
        printf("%u\n", id);
    virDomainFree(dom);
    return EXIT_OK;
}

static int cmdDomuuid(Ctl *ctl, int argc, char **argv)
{
    virDomainPtr dom;
    char uuid[VIR_UUID_STRING_BUFLEN];

    if ((argc = splitArgs("domuuid", argc, argv, NULL, NULL)) < 0 ||
        wantArgs("domuuid", argc, 1, 1))
        return EXIT_USAGE;
    if (!(dom = lookupDomain(ctl, argv[0])))
        return EXIT_FAIL;
    if (virDomainGetUUIDString(dom, uuid) == 0)
        printf("%s\n", uuid);
    virDomainFree(dom);
    return EXIT_OK;
}

static int cmdDomname(Ctl *ctl, int argc, char **argv)
{
    virDomainPtr dom;

    if ((argc = splitArgs("domname", argc, argv, NULL, NULL)) < 0 ||
        wantArgs("domname", argc, 1, 1))
        return EXIT_USAGE;
    if (!(dom = lookupDomain(ctl, argv[0])))
        return EXIT_FAIL;
    printf("%s\n", virDomainGetName(dom));
    virDomainFree(dom);
    return EXIT_OK;
}

static int cmdUri(Ctl *ctl, int argc, char **argv)
{
    char *uri;

    if ((argc = splitArgs("uri", argc, argv, NULL, NULL)) < 0 || wantArgs("uri", argc, 0, 0))
        return EXIT_USAGE;
    if (!(uri = virConnectGetURI(ctl->conn)))
        return libError("cannot get the connection's URI");
    printf("%s\n", uri);
    free(uri);
    return EXIT_OK;
}

static void printVersion(const char *what, unsigned long v)
{
    printf("%s %lu.%lu.%lu\n", what, v / 1000000, v / 1000 % 1000, v % 1000);
}

static int cmdVersion(Ctl *ctl, int argc, char **argv)
{
    static const char *const flags[] = { "daemon", NULL };
    bool set[1] = { false };
    unsigned long lib = 0, hv = 0;
    char what[64];

    if ((argc = splitArgs("version", argc, argv, flags, set)) < 0 ||
        wantArgs("version", argc, 0, 0))
        return EXIT_USAGE;
    printVersion("Compiled against library: libvirtsup", LIBVIRTSUP_VERSION_NUMBER);
    if (virConnectGetLibVersion(ctl->conn, &lib) < 0 || virConnectGetVersion(ctl->conn, &hv) < 0)
        return libError("cannot get the versions");
    printVersion("Using library: libvirtsup", lib);
    snprintf(what, sizeof(what), "Using API: %s", virConnectGetType(ctl->conn));
    printVersion(what, lib);
    snprintf(what, sizeof(what), "Running hypervisor: %s", virConnectGetType(ctl->conn));
    printVersion(what, hv);
    return EXIT_OK;
}

/* virsh's sizes: "%.3lf UNIT" (vshPrettyCapacity's units). */
static void prettySize(unsigned long long b, double *v, const char **unit)
{
    static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
    size_t u = 0;

    *v = (double)b;
    while (*v >= 1024 && u + 1 < ARRAY_CARDINALITY(units)) {
        *v /= 1024;
        u++;
    }
    *unit = units[u];
}

static void printSize(const char *label, unsigned long long b, const char *suffix)
{
    double v;
    const char *unit;

    prettySize(b, &v, &unit);
    printf("%-17s %-.3lf %s%s\n", label, v, unit, suffix);
}

/* virsh's domjobinfo: the domain's job, whoever started it (also another
 * process's connection to the same node), or with --completed its last
 * ended one. */
static int cmdDomjobinfo(Ctl *ctl, int argc, char **argv)
{
    static const char *const flags[] = { "completed", "keep-completed", NULL };
    static const char *const types[] = { "None", "Bounded", "Unbounded", "Completed",
                                         "Failed", "Cancelled" };
    static const char *const ops[] = { "Unknown", "Start", "Save", "Restore",
                                       "Incoming migration", "Outgoing migration",
                                       "Snapshot", "Snapshot revert", "Dump", "Backup",
                                       "Snapshot delete" };
    bool set[2] = { false, false };
    virDomainPtr dom;
    virTypedParameterPtr params = NULL;
    int n = 0, type = 0, op = 0;
    unsigned long long v;
    const char *errmsg = NULL;
    unsigned int jf = 0;

    if ((argc = splitArgs("domjobinfo", argc, argv, flags, set)) < 0 ||
        wantArgs("domjobinfo", argc, 1, 1))
        return EXIT_USAGE;
    if (!(dom = lookupDomain(ctl, argv[0])))
        return EXIT_FAIL;
    if (set[0])
        jf |= VIR_DOMAIN_JOB_STATS_COMPLETED;
    if (set[1])
        jf |= VIR_DOMAIN_JOB_STATS_KEEP_COMPLETED;
    if (virDomainGetJobStats(dom, &type, &params, &n, jf) < 0) {
        libError("cannot get the job of domain '%s'", argv[0]);
        virDomainFree(dom);
        return EXIT_FAIL;
    }
    printf("%-17s %-12s\n", "Job type:", type >= 0 && type <= 5 ? types[type] : "Unknown");
    if (type != VIR_DOMAIN_JOB_NONE) {
        virTypedParamsGetInt(params, n, VIR_DOMAIN_JOB_OPERATION, &op);
        printf("%-17s %-12s\n", "Operation:", op >= 0 && op <= 10 ? ops[op] : "Unknown");
        if (virTypedParamsGetULLong(params, n, VIR_DOMAIN_JOB_TIME_ELAPSED, &v) == 1)
            printf("%-17s %-12llu ms\n", "Time elapsed:", v);
        if (type != VIR_DOMAIN_JOB_COMPLETED &&
            virTypedParamsGetULLong(params, n, VIR_DOMAIN_JOB_TIME_REMAINING, &v) == 1)
            printf("%-17s %-12llu ms\n", "Time remaining:", v);
        if (virTypedParamsGetULLong(params, n, VIR_DOMAIN_JOB_DATA_PROCESSED, &v) == 1)
            printSize("Data processed:", v, "");
        if (virTypedParamsGetULLong(params, n, VIR_DOMAIN_JOB_DATA_REMAINING, &v) == 1)
            printSize("Data remaining:", v, "");
        if (virTypedParamsGetULLong(params, n, VIR_DOMAIN_JOB_DATA_TOTAL, &v) == 1)
            printSize("Data total:", v, "");
        if (virTypedParamsGetULLong(params, n, VIR_DOMAIN_JOB_MEMORY_PROCESSED, &v) == 1)
            printSize("Memory processed:", v, "");
        if (virTypedParamsGetULLong(params, n, VIR_DOMAIN_JOB_MEMORY_REMAINING, &v) == 1)
            printSize("Memory remaining:", v, "");
        if (virTypedParamsGetULLong(params, n, VIR_DOMAIN_JOB_MEMORY_TOTAL, &v) == 1)
            printSize("Memory total:", v, "");
        if (virTypedParamsGetULLong(params, n, VIR_DOMAIN_JOB_MEMORY_BPS, &v) == 1 && v)
            printSize("Memory bandwidth:", v, "/s");
        if (virTypedParamsGetString(params, n, VIR_DOMAIN_JOB_ERRMSG, &errmsg) == 1 && errmsg)
            printf("%-17s %s\n", "Error message:", errmsg);
    }
    virTypedParamsFree(params, n);
    virDomainFree(dom);
    return EXIT_OK;
}

/* virsh's net-info (Autostart: libvirtsup networks do not autostart). */
static int cmdNetInfo(Ctl *ctl, int argc, char **argv)
{
    virNetworkPtr net;
    char uuid[VIR_UUID_STRING_BUFLEN] = "";
    char *xml, *br;

    if ((argc = splitArgs("net-info", argc, argv, NULL, NULL)) < 0 ||
        wantArgs("net-info", argc, 1, 1))
        return EXIT_USAGE;
    if (!(net = lookupNetwork(ctl, argv[0])))
        return EXIT_FAIL;
    virNetworkGetUUIDString(net, uuid);
    printf("%-15s %s\n", "Name:", virNetworkGetName(net));
    printf("%-15s %s\n", "UUID:", uuid);
    printf("%-15s %s\n", "Active:", virNetworkIsActive(net) == 1 ? "yes" : "no");
    printf("%-15s %s\n", "Autostart:", "no");
    /* The bridge, from the XML the library wrote: <bridge name='X' */
    if ((xml = virNetworkGetXMLDesc(net, 0)) && (br = strstr(xml, "<bridge name='"))) {
        br += strlen("<bridge name='");
        printf("%-15s %.*s\n", "Bridge:", (int)strcspn(br, "'"), br);
    }
    free(xml);
    virNetworkFree(net);
    return EXIT_OK;
}

static int cmdNetDumpxml(Ctl *ctl, int argc, char **argv)
{
    virNetworkPtr net;
    char *xml;

    static const char *const opts[] = { "inactive", NULL };
    bool set[1] = { false };

    if ((argc = splitArgs("net-dumpxml", argc, argv, opts, set)) < 0 ||
        wantArgs("net-dumpxml", argc, 1, 1))
        return EXIT_USAGE;
    if (!(net = lookupNetwork(ctl, argv[0])))
        return EXIT_FAIL;
    xml = virNetworkGetXMLDesc(net, set[0] ? VIR_NETWORK_XML_INACTIVE : 0);
    virNetworkFree(net);
    if (!xml)
        return libError("cannot get the XML of network '%s'", argv[0]);
    fputs(xml, stdout);
    if (*xml && xml[strlen(xml) - 1] != '\n')
        putchar('\n');
    free(xml);
    return EXIT_OK;
}

static int cmdDominfo(Ctl *ctl, int argc, char **argv)
{
    virDomainPtr dom;
    virDomainInfo info;
    virDomainJobInfo job;
    char uuid[VIR_UUID_STRING_BUFLEN] = "";

    if ((argc = splitArgs("dominfo", argc, argv, NULL, NULL)) < 0 ||
        wantArgs("dominfo", argc, 1, 1))
        return EXIT_USAGE;
    if (!(dom = lookupDomain(ctl, argv[0])))
        return EXIT_FAIL;
    if (virDomainGetInfo(dom, &info) < 0) {
        libError("cannot get the information of domain '%s'", argv[0]);
        virDomainFree(dom);
        return EXIT_FAIL;
    }
    virDomainGetUUIDString(dom, uuid);
    printf("%-15s %s\n", "Name:", virDomainGetName(dom));
    printf("%-15s %s\n", "UUID:", uuid);
    printf("%-15s %s\n", "State:", domStateName(info.state));
    printf("%-15s %u\n", "CPU(s):", info.nrVirtCpu);
    printf("%-15s %lu KiB\n", "Max memory:", info.maxMem);
    printf("%-15s %lu KiB\n", "Used memory:", info.memory);
    if (virDomainGetJobInfo(dom, &job) == 0 && job.type != VIR_DOMAIN_JOB_NONE)
        printf("%-15s %s\n", "Active job:", "yes");
    virDomainFree(dom);
    return EXIT_OK;
}

static int cmdDumpxml(Ctl *ctl, int argc, char **argv)
{
    virDomainPtr dom;
    char *xml;

    static const char *const opts[] = { "inactive", "security-info", NULL };
    bool set[2] = { false, false };

    if ((argc = splitArgs("dumpxml", argc, argv, opts, set)) < 0 ||
        wantArgs("dumpxml", argc, 1, 1))
        return EXIT_USAGE;
    if (!(dom = lookupDomain(ctl, argv[0])))
        return EXIT_FAIL;
    xml = virDomainGetXMLDesc(dom, (set[0] ? VIR_DOMAIN_XML_INACTIVE : 0) |
                                   (set[1] ? VIR_DOMAIN_XML_SECURE : 0));
    virDomainFree(dom);
    if (!xml)
        return libError("cannot get the XML of domain '%s'", argv[0]);
    fputs(xml, stdout);
    if (*xml && xml[strlen(xml) - 1] != '\n')
        putchar('\n');
    free(xml);
    return EXIT_OK;
}

static int cmdDefine(Ctl *ctl, int argc, char **argv)
{
    VIR_AUTOFREE(char *) xml = NULL;
    virDomainPtr dom;

    if ((argc = splitArgs("define", argc, argv, NULL, NULL)) < 0 ||
        wantArgs("define", argc, 1, 1))
        return EXIT_USAGE;
    if (!(xml = readFile(argv[0], XML_FILE_MAX)))
        return EXIT_FAIL;
    if (!(dom = virDomainDefineXML(ctl->conn, xml)))
        return libError("cannot define a domain from %s", argv[0]);
    if (!ctl->quiet)
        printf("Domain '%s' defined from %s\n", virDomainGetName(dom), argv[0]);
    virDomainFree(dom);
    return EXIT_OK;
}

/* The commands that change one object at once, without a job. */

static int takeOption(const char *cmd, int argc, char **argv, const char *name,
                      const char **value);

/* virsh's --mode of shutdown and reboot: a comma list of acpi, agent,
 * initctl, signal, paravirt, as flags (the values of
 * VIR_DOMAIN_SHUTDOWN_* and VIR_DOMAIN_REBOOT_* are the same). 0, or -1
 * after a usage error. */
static int modeFlags(const char *cmd, const char *mode, unsigned int *flags)
{
    static const char *const names[] = { "acpi", "agent", "initctl", "signal", "paravirt" };
    static const unsigned int bits[] = {
        VIR_DOMAIN_REBOOT_ACPI_POWER_BTN, VIR_DOMAIN_REBOOT_GUEST_AGENT,
        VIR_DOMAIN_REBOOT_INITCTL, VIR_DOMAIN_REBOOT_SIGNAL, VIR_DOMAIN_REBOOT_PARAVIRT,
    };
    const char *p = mode;

    *flags = 0;
    while (p) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p), i;
        for (i = 0; i < ARRAY_CARDINALITY(names); i++)
            if (n == strlen(names[i]) && strncmp(p, names[i], n) == 0)
                break;
        if (i == ARRAY_CARDINALITY(names)) {
            usageError(cmd, "%s: unknown mode '%.*s' (expecting 'acpi', 'agent', "
                       "'initctl', 'signal' or 'paravirt')", cmd, (int)n, p);
            return -1;
        }
        *flags |= bits[i];
        p = e ? e + 1 : NULL;
    }
    return 0;
}

static int runAction(Ctl *ctl, const char *cmd, Action act, int argc, char **argv)
{
    virDomainPtr dom = NULL;
    virNetworkPtr net = NULL;
    const char *noun = act == ACT_NET_DESTROY ? "network" : "domain";
    const char *mode = NULL;
    unsigned int flags = 0;
    int rc = -1;

    if ((act == ACT_REBOOT || act == ACT_SHUTDOWN) &&
        ((argc = takeOption(cmd, argc, argv, "mode", &mode)) < 0 ||
         (mode && modeFlags(cmd, mode, &flags) < 0)))
        return EXIT_USAGE;
    if ((argc = splitArgs(cmd, argc, argv, NULL, NULL)) < 0 || wantArgs(cmd, argc, 1, 1))
        return EXIT_USAGE;
    if (act == ACT_NET_DESTROY ? !(net = lookupNetwork(ctl, argv[0]))
                               : !(dom = lookupDomain(ctl, argv[0])))
        return EXIT_FAIL;
    switch (act) {
    case ACT_UNDEFINE: rc = virDomainUndefine(dom); break;
    case ACT_DESTROY: rc = virDomainDestroy(dom); break;
    case ACT_NET_DESTROY: rc = virNetworkDestroy(net); break;
    case ACT_SUSPEND: rc = virDomainSuspend(dom); break;
    case ACT_RESUME: rc = virDomainResume(dom); break;
    case ACT_SHUTDOWN: rc = virDomainShutdownFlags(dom, flags); break;
    case ACT_REBOOT: rc = virDomainReboot(dom, flags); break;
    case ACT_JOBABORT: rc = virDomainAbortJob(dom); break;
    case ACT_NONE: break;
    }
    if (rc < 0) {
        libError("cannot %s %s '%s'", act == ACT_JOBABORT ? "abort the job of" : cmd,
                 noun, argv[0]);
    } else if (!ctl->quiet) {
        /* virsh's words. */
        static const char *const done[] = {
            [ACT_UNDEFINE] = "has been undefined", [ACT_DESTROY] = "destroyed",
            [ACT_NET_DESTROY] = "destroyed", [ACT_SUSPEND] = "suspended",
            [ACT_RESUME] = "resumed", [ACT_SHUTDOWN] = "is being shutdown",
            [ACT_REBOOT] = "is being rebooted",
        };
        if (act != ACT_JOBABORT)
            printf("%s '%s' %s\n", act == ACT_NET_DESTROY ? "Network" : "Domain", argv[0],
                   done[act]);
    }
    if (dom)
        virDomainFree(dom);
    if (net)
        virNetworkFree(net);
    return rc < 0 ? EXIT_FAIL : EXIT_OK;
}

/* Start the job of @kind on @a (its positional arguments). Returns the
 * CliJob, or NULL with the error printed. */
static CliJob *startJob(Ctl *ctl, JobKind kind, char **a, unsigned int flags)
{
    VIR_AUTOFREE(char *) xml = NULL;
    virDomainPtr dom = NULL;
    virNetworkPtr net = NULL;
    virJobPtr job = NULL;
    CliJob *cj = NULL;

    switch (kind) {
    case KIND_SAVE:
    case KIND_DUMP:
    case KIND_START:
        if (!(dom = lookupDomain(ctl, a[0])))
            return NULL;
        break;
    case KIND_NET_START:
        if (!(net = lookupNetwork(ctl, a[0])))
            return NULL;
        break;
    case KIND_CREATE:
    case KIND_NET_CREATE:
        if (!(xml = readFile(a[0], XML_FILE_MAX)))
            return NULL;
        break;
    case KIND_RESTORE:
        break;
    }

    switch (kind) {
    case KIND_SAVE:
        if ((job = virDomainSaveJob(dom, a[1])))
            cj = addJob(ctl, job, kind, xasprintf("save %s -> %s", a[0], a[1]),
                        xasprintf("save of domain '%s' to %s", a[0], a[1]), a[0], a[1]);
        else
            libError("cannot save domain '%s' to %s", a[0], a[1]);
        break;
    case KIND_DUMP:
        if ((job = virDomainDumpCoreJob(dom, a[1], (int)flags)))
            cj = addJob(ctl, job, kind, xasprintf("dump %s -> %s", a[0], a[1]),
                        xasprintf("core dump of domain '%s' to %s", a[0], a[1]), a[0], a[1]);
        else
            libError("cannot dump domain '%s' to %s", a[0], a[1]);
        break;
    case KIND_START:
        if ((job = virDomainCreateJob(dom, 0)))
            cj = addJob(ctl, job, kind, xasprintf("start %s", a[0]),
                        xasprintf("start of domain '%s'", a[0]), a[0], NULL);
        else
            libError("cannot start domain '%s'", a[0]);
        break;
    case KIND_RESTORE:
        if ((job = virDomainRestoreJob(ctl->conn, a[0])))
            cj = addJob(ctl, job, kind, xasprintf("restore <- %s", a[0]),
                        xasprintf("restore from %s", a[0]), NULL, a[0]);
        else
            libError("cannot restore a domain from %s", a[0]);
        break;
    case KIND_CREATE:
        if ((job = virDomainCreateLinuxJob(ctl->conn, xml, 0)))
            cj = addJob(ctl, job, kind, xasprintf("create <- %s", a[0]),
                        xasprintf("creation of a domain from %s", a[0]), NULL, a[0]);
        else
            libError("cannot create a domain from %s", a[0]);
        break;
    case KIND_NET_CREATE:
        if ((job = virNetworkCreateXMLJob(ctl->conn, xml)))
            cj = addJob(ctl, job, kind, xasprintf("net-create <- %s", a[0]),
                        xasprintf("creation of a network from %s", a[0]), NULL, a[0]);
        else
            libError("cannot create a network from %s", a[0]);
        break;
    case KIND_NET_START:
        if ((job = virNetworkCreateJob(net)))
            cj = addJob(ctl, job, kind, xasprintf("net-start %s", a[0]),
                        xasprintf("start of network '%s'", a[0]), a[0], NULL);
        else
            libError("cannot start network '%s'", a[0]);
        break;
    }
    if (dom)
        virDomainFree(dom);
    if (net)
        virNetworkFree(net);
    return cj;
}

/* The job commands: "async" (and for dump "crash", "live") flags, then one
 * job per group of @per positional arguments (several only with --async).
 * Without --async the job is followed at once; with it, at the end of the
 * command line or batch (followPending). */
/* Take "--NAME VALUE" or "--NAME=VALUE" out of argv; *value is NULL when
 * absent. Returns the new argc, or -1 after a usage error. */
static int takeOption(const char *cmd, int argc, char **argv, const char *name,
                      const char **value)
{
    size_t len = strlen(name);

    *value = NULL;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        int drop;
        if (STREQ(a, "--"))
            break;
        if (a[0] != '-' || a[1] != '-' || strncmp(a + 2, name, len) != 0)
            continue;
        if (a[2 + len] == '=') {
            *value = a + 3 + len;
            drop = 1;
        } else if (a[2 + len] == '\0') {
            if (i + 1 >= argc) {
                usageError(cmd, "%s: option --%s needs a value", cmd, name);
                return -1;
            }
            *value = argv[i + 1];
            drop = 2;
        } else {
            continue;
        }
        memmove(argv + i, argv + i + drop, (size_t)(argc - i - drop) * sizeof(*argv));
        return argc - drop;
    }
    return argc;
}

/* The job commands: "async" (and for dump "crash", "live", "memory-only",
 * "format"; for save, restore and dump virsh's "verbose") flags, then one
 * job per group of @per positional arguments (several only with --async).
 * Without --async the job is followed at once; with it, at the end of the
 * command line or batch (followPending). */
static int runJobCommand(Ctl *ctl, const char *cmd, JobKind kind, int per, int argc, char **argv)
{
    static const char *const jobFlags[] = { "async", "verbose", NULL };
    static const char *const dumpFlags[] = { "async", "verbose", "crash", "live",
                                             "memory-only", NULL };
    static const char *const plainFlags[] = { "async", NULL };
    bool virshVerbose = kind == KIND_SAVE || kind == KIND_RESTORE || kind == KIND_DUMP;
    bool set[5] = { false, false, false, false, false };
    unsigned int jobflags = 0;
    const char *format = NULL;

    if (kind == KIND_DUMP && (argc = takeOption(cmd, argc, argv, "format", &format)) < 0)
        return EXIT_USAGE;
    argc = splitArgs(cmd, argc, argv, kind == KIND_DUMP ? dumpFlags :
                     virshVerbose ? jobFlags : plainFlags, set);
    if (argc < 0)
        return EXIT_USAGE;
    if (argc < per)
        return usageError(cmd, "%s: missing argument", cmd);
    if (argc % per != 0)
        return usageError(cmd, "%s: wrong number of arguments", cmd);
    if (!set[0] && argc > per)
        return usageError(cmd, "%s: several targets need --async", cmd);
    if (set[2])
        jobflags |= VIR_DUMP_CRASH;
    if (set[3])
        jobflags |= VIR_DUMP_LIVE;
    if (format && !set[4])
        return usageError(cmd, "%s: --format only works with --memory-only", cmd);
    if (format) {
        static const char *const formats[] = { "elf", "kdump-zlib", "kdump-lzo",
                                                "kdump-snappy", "win-dmp" };
        int f = -1;
        for (size_t i = 0; i < ARRAY_CARDINALITY(formats); i++)
            if (STREQ(format, formats[i]))
                f = (int)i;
        if (f < 0)
            return usageError(cmd, "%s: unknown format '%s' (elf, kdump-zlib, kdump-lzo, "
                              "kdump-snappy, win-dmp)", cmd, format);
        if (f != VIR_DOMAIN_CORE_DUMP_FORMAT_RAW) {
            /* The library says why it cannot: before any job starts. */
            virDomainPtr dom = lookupDomain(ctl, argv[0]);
            if (!dom)
                return EXIT_FAIL;
            if (virDomainCoreDumpWithFormat(dom, argv[1], (unsigned int)f, 0) < 0)
                libError("cannot dump domain '%s' to %s", argv[0], argv[1]);
            virDomainFree(dom);
            return EXIT_FAIL;
        }
    }
    /* --memory-only: the ELF core of the guest's memory is what is written. */

    for (int i = 0; i < argc; i += per) {
        CliJob *cj = startJob(ctl, kind, argv + i, jobflags);
        if (!cj)
            return EXIT_FAIL;
        if (set[1]) {
            cj->virshLabel = kind == KIND_SAVE ? "Save" : kind == KIND_DUMP ? "Dump" : "Restore";
            cj->virshPct = -1;
        }
        if (!set[0]) {
            CliJob *one[1] = { cj };
            return followJobs(ctl, one, 1);
        }
    }
    return EXIT_OK;
}

static int cmdNetList(Ctl *ctl, int argc, char **argv)
{
    static const char *const flags[] = { "all", NULL };
    bool set[1] = { false };
    virNetworkPtr *nets = NULL;
    int n;

    if ((argc = splitArgs("net-list", argc, argv, flags, set)) < 0 ||
        wantArgs("net-list", argc, 0, 0))
        return EXIT_USAGE;
    n = virConnectListAllNetworks(ctl->conn, &nets,
                                  set[0] ? 0 : VIR_CONNECT_LIST_NETWORKS_ACTIVE);
    if (n < 0)
        return libError("cannot list networks");
    printf(" %-20s %-10s %s\n", "Name", "State", "UUID");
    printf("------------------------------------------------------------------\n");
    for (int i = 0; i < n; i++) {
        char uuid[VIR_UUID_STRING_BUFLEN] = "";
        virNetworkGetUUIDString(nets[i], uuid);
        printf(" %-20s %-10s %s\n", virNetworkGetName(nets[i]),
               virNetworkIsActive(nets[i]) == 1 ? "active" : "inactive", uuid);
        virNetworkFree(nets[i]);
    }
    free(nets);
    return EXIT_OK;
}

static int cmdJobs(Ctl *ctl, int argc, char **argv)
{
    if ((argc = splitArgs("jobs", argc, argv, NULL, NULL)) < 0 || wantArgs("jobs", argc, 0, 0))
        return EXIT_USAGE;
    if (ctl->njobs == 0) {
        printf("no jobs\n");
        return EXIT_OK;
    }
    printf(" %-5s %-34s %-10s %4s  %s\n", "Job", "What", "State", "%", "Error");
    printf("--------------------------------------------------------------------\n");
    for (size_t i = 0; i < ctl->njobs; i++) {
        CliJob *cj = ctl->jobs[i];
        int state = cj->state;
        if (cj->job && !cj->reported) {
            virJobInfo info;
            Progress p;
            getProgress(cj, &p);
            if (virJobGetInfo(cj->job, &info) == 0)
                state = info.state;
        }
        printf(" %-5llu %-34s %-10s %3u%%  %s\n", cj->id, cj->label, jobStateName(state),
               cj->percent, cj->error ? cj->error : "");
    }
    return EXIT_OK;
}

static int cmdHelp(Ctl *ctl, int argc, char **argv);

#define JOB(k, n) .job = true, .kind = (k), .per = (n)
static const Command commands[] = {
    { "list", cmdList,
      .args = "[--all|--inactive] [--state-running|--state-paused|--state-shutoff|--state-other] "
              "[--persistent|--transient] [--name] [--uuid] [--table]",
      .help = "list the active domains (--all: also the shut-off ones), as virsh" },
    { "dominfo", cmdDominfo, .args = "DOMAIN", .help = "show a domain's state, memory and vCPUs" },
    { "domstate", cmdDomstate, .args = "[--reason] DOMAIN", .help = "a domain's state (and why)" },
    { "domid", cmdDomid, .args = "DOMAIN", .help = "a domain's ID ('-' when shut off)" },
    { "domuuid", cmdDomuuid, .args = "DOMAIN", .help = "a domain's UUID" },
    { "domname", cmdDomname, .args = "DOMAIN", .help = "a domain's name (DOMAIN: ID or UUID)" },
    { "domjobinfo", cmdDomjobinfo, .args = "[--completed [--keep-completed]] DOMAIN",
      .help = "the domain's job (whoever started it), as virsh prints it" },
    { "domjobabort", .act = ACT_JOBABORT, .args = "DOMAIN",
      .help = "abort the domain's job (whoever started it)" },
    { "suspend", .act = ACT_SUSPEND, .args = "DOMAIN", .help = "pause a running domain" },
    { "resume", .act = ACT_RESUME, .args = "DOMAIN", .help = "run a paused domain again" },
    { "shutdown", .act = ACT_SHUTDOWN, .args = "[--mode acpi|agent] DOMAIN",
      .help = "shut a domain down (ask the guest)" },
    { "reboot", .act = ACT_REBOOT, .args = "[--mode acpi|agent] DOMAIN",
      .help = "reboot a domain (ask the guest; it starts again once it has shut down)" },
    { "uri", cmdUri, .args = "", .help = "the connection's URI" },
    { "version", cmdVersion, .args = "[--daemon]", .help = "the library's and the driver's versions" },
    { "net-info", cmdNetInfo, .args = "NETWORK", .help = "a network's name, UUID, state and bridge" },
    { "net-dumpxml", cmdNetDumpxml, .args = "[--inactive] NETWORK", .help = "print a network's XML description" },
    { "dumpxml", cmdDumpxml, .args = "[--inactive] [--security-info] DOMAIN", .help = "print a domain's XML description" },
    { "define", cmdDefine, .args = "FILE", .help = "define a persistent domain from an XML file" },
    { "undefine", .act = ACT_UNDEFINE, .args = "DOMAIN", .help = "remove a domain's definition" },
    { "start", JOB(KIND_START, 1), .args = "[--async] DOMAIN...",
      .help = "start (boot) a shut-off domain, as a job" },
    { "create", JOB(KIND_CREATE, 1), .args = "[--async] FILE...",
      .help = "create and boot a transient domain from XML, as a job" },
    { "destroy", .act = ACT_DESTROY, .args = "DOMAIN", .help = "stop a domain at once" },
    { "save", JOB(KIND_SAVE, 2), .args = "[--async] [--verbose] DOMAIN FILE [DOMAIN FILE]...",
      .help = "save a running domain's state to FILE and stop it, as a job" },
    { "restore", JOB(KIND_RESTORE, 1), .args = "[--async] [--verbose] FILE...",
      .help = "restore a domain from a saved image, as a job" },
    { "dump", JOB(KIND_DUMP, 2),
      .args = "[--crash] [--live] [--memory-only [--format elf]] [--async] [--verbose] "
              "DOMAIN FILE [DOMAIN FILE]...",
      .help = "write an ELF core dump of a domain's memory, as a job" },
    { "net-list", cmdNetList, .args = "[--all]",
      .help = "list the active networks (--all: also inactive)" },
    { "net-create", JOB(KIND_NET_CREATE, 1), .args = "[--async] FILE...",
      .help = "create a transient network from XML, as a job" },
    { "net-start", JOB(KIND_NET_START, 1), .args = "[--async] NETWORK...",
      .help = "start an inactive network, as a job" },
    { "net-destroy", .act = ACT_NET_DESTROY, .args = "NETWORK", .help = "stop a network" },
    { "jobs", cmdJobs, .args = "",
      .help = "list the jobs this virtsup process started (e.g. in a batch)" },
    { "help", cmdHelp, .args = "[COMMAND]", .help = "list the commands, or describe one" },
};
#undef JOB

static const Command *findCommand(const char *name)
{
    for (size_t i = 0; i < ARRAY_CARDINALITY(commands); i++)
        if (STREQ(commands[i].name, name))
            return &commands[i];
    return NULL;
}

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: " PROG " [-c URI] [-r] [-q|--quiet] [--verbose] COMMAND [ARGS] [\\; COMMAND [ARGS]]...\n"
            "       " PROG " [options] 'COMMAND [ARGS]; COMMAND [ARGS]...'\n"
            "       " PROG " [-c URI] [-r] [-q] [--verbose] --batch FILE\n"
            "       " PROG " --help | -v | -V | --version[=short|long]\n"
            "\n"
            "Options:\n"
            "  -c, --connect URI   connection URI (default $LIBVIRT_DEFAULT_URI, else " DEFAULT_URI ")\n"
            "  -r, --readonly      connect read-only\n"
            "  -q, --quiet         no progress and no informational output\n"
            "      --verbose       also job ids, operations and outcomes\n"
            "  -b, --batch FILE    run the commands of FILE (one a line; - for stdin)\n"
            "  -h, --help          this help\n"
            "  -v                  the version, short (as virsh -v)\n"
            "  -V, --version       the version, long\n"
            "\n"
            "Commands (one connection for all of them; ';' separates them):\n");
    for (size_t i = 0; i < ARRAY_CARDINALITY(commands); i++)
        fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].help);
    fprintf(out, "\nDOMAIN is a name, an ID or a UUID. Exit status: 0 success, 1 failure\n"
                 "(also a usage error), 130 cancelled by Ctrl-C. See virtsup(1).\n");
}

static int cmdHelp(Ctl *ctl ATTRIBUTE_UNUSED, int argc, char **argv)
{
    const Command *c;

    if ((argc = splitArgs("help", argc, argv, NULL, NULL)) < 0 || wantArgs("help", argc, 0, 1))
        return EXIT_USAGE;
    if (argc == 0) {
        usage(stdout);
        return EXIT_OK;
    }
    if (!(c = findCommand(argv[0])))
        return usageError(NULL, "help: unknown command '%s'", argv[0]);
    printf("Usage: " PROG " %s %s\n\n  %s\n", c->name, c->args, c->help);
    if (c->args[0] && strstr(c->args, "--async"))
        printf("\n  --async    start one job per target and follow them together;\n"
               "             in a batch, the jobs are followed at its end\n");
    return EXIT_OK;
}

/* ---- running commands -------------------------------------------------- */

/* Run one command. The connection is opened on the first command that
 * needs it (help needs none). */
static int runCommand(Ctl *ctl, int argc, char **argv)
{
    const Command *c;

    if (argc == 0)
        return EXIT_OK;
    if (!(c = findCommand(argv[0])))
        return usageError(NULL, "unknown command '%s'", argv[0]);
    if (c->run != cmdHelp && !ctl->conn) {
        if (!(ctl->conn = ctl->readonly ? virConnectOpenReadOnly(ctl->uri)
                                        : virConnectOpen(ctl->uri)))
            return libError("cannot connect to %s", ctl->uri);
        if (ctl->verbose && !ctl->quiet)
            printf("connected to %s\n", ctl->uri);
    }
    if (c->job)
        return runJobCommand(ctl, c->name, c->kind, c->per, argc - 1, argv + 1);
    if (c->act != ACT_NONE)
        return runAction(ctl, c->name, c->act, argc - 1, argv + 1);
    return c->run(ctl, argc - 1, argv + 1);
}

/* Run a list of words holding commands separated by ";" words (a word may
 * also end in ';'). Stops at the first failing command; the jobs started
 * with --async are followed at the end. */
static int runWords(Ctl *ctl, int argc, char **argv)
{
    int start = 0, ret = EXIT_OK;

    for (int i = 0; i <= argc && ret == EXIT_OK; i++) {
        if (i < argc && STRNEQ(argv[i], ";"))
            continue;
        ret = runCommand(ctl, i - start, argv + start);
        start = i + 1;
    }
    /* Jobs already started with --async are followed to their end whatever
     * happened since (unless a second Ctrl-C said to stop waiting). The
     * status says the worst: cancelled, then usage error, then failure. */
    if (!ctl->quit) {
        int r = followPending(ctl);
        if (r == EXIT_CANCELLED || (r == EXIT_FAIL && ret == EXIT_OK))
            ret = r;
    }
    return ret;
}

/* Split a batch file (or virsh's one-string command line) into words:
 * blanks separate, single or double quotes group, '#' starts a comment, a
 * line end or ';' ends a command. */
static int runScript(Ctl *ctl, char *text, const char *path)
{
    char **words;
    size_t nwords = 0;
    char *r, *w;
    int ret;

    words = xcalloc(strlen(text) + 2, sizeof(*words));
    r = w = text;
    while (*r) {
        while (*r == ' ' || *r == '\t' || *r == '\r')
            r++;
        if (!*r)
            break;
        if (*r == '#') {
            while (*r && *r != '\n')
                r++;
            continue;
        }
        if (*r == '\n' || *r == ';') {
            static char sep[] = ";";
            words[nwords++] = sep;
            r++;
            continue;
        }
        w = r;
        words[nwords++] = w;
        while (*r && *r != ' ' && *r != '\t' && *r != '\r' && *r != '\n' && *r != ';') {
            if (*r == '\'' || *r == '"') {
                char q = *r++;
                while (*r && *r != q)
                    *w++ = *r++;
                if (*r != q) {
                    free(words);
                    return usageError(NULL, "%s: unterminated quote", path);
                }
                r++;
            } else {
                *w++ = *r++;
            }
        }
        /* the terminator may be the next word's start: keep it readable */
        char end = *r;
        *w = '\0';
        if (end == '\n' || end == ';') {
            static char sep2[] = ";";
            words[nwords++] = sep2;
        }
        if (end)
            r++;
    }
    ret = runWords(ctl, (int)nwords, words);
    free(words);
    return ret;
}

static int runBatch(Ctl *ctl, const char *path)
{
    VIR_AUTOFREE(char *) text = readFile(path, BATCH_FILE_MAX);

    if (!text)
        return EXIT_FAIL;
    return runScript(ctl, text, path);
}

static void freeJobs(Ctl *ctl)
{
    for (size_t i = 0; i < ctl->njobs; i++) {
        CliJob *cj = ctl->jobs[i];
        /* after virConnectClose every job has ended */
        if (cj->job)
            virJobDestroy(cj->job);
        free(cj->label);
        free(cj->what);
        free(cj->name);
        free(cj->file);
        free(cj->op);
        free(cj->error);
        free(cj);
    }
    free(ctl->jobs);
}

int main(int argc, char **argv)
{
    enum { OPT_VERBOSE = 256 };
    static const struct option longopts[] = {
        { "connect", required_argument, NULL, 'c' },
        { "readonly", no_argument, NULL, 'r' },
        { "quiet", no_argument, NULL, 'q' },
        { "verbose", no_argument, NULL, OPT_VERBOSE },
        { "batch", required_argument, NULL, 'b' },
        { "help", no_argument, NULL, 'h' },
        { "version", optional_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    Ctl ctl = { .uri = NULL };
    const char *batch = NULL;
    int opt, ret;
    unsigned long v = 0;

    /* The tool prints each failure once, in its own words. */
    virSetErrorFunc(NULL, silentErrors);

    /* '+': stop at the command, its options are its own. */
    while ((opt = getopt_long(argc, argv, "+c:rqb:hvV", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c': ctl.uri = optarg; break;
        case 'r': ctl.readonly = true; break;
        case 'q': ctl.quiet = true; break;
        case OPT_VERBOSE: ctl.verbose = true; break;
        case 'b': batch = optarg; break;
        case 'h': usage(stdout); return EXIT_OK;
        case 'v':   /* virsh -v: the version, short */
            virGetVersion(&v, NULL, NULL);
            printf("%lu.%lu.%lu\n", v / 1000000, v / 1000 % 1000, v % 1000);
            return EXIT_OK;
        case 'V':
            virGetVersion(&v, NULL, NULL);
            if (optarg && STREQ(optarg, "short")) {
                printf("%lu.%lu.%lu\n", v / 1000000, v / 1000 % 1000, v % 1000);
                return EXIT_OK;
            }
            if (optarg && STRNEQ(optarg, "long"))
                return usageError(NULL, "--version=%s: expected short or long", optarg);
            printf(PROG " %s (libvirtsup %lu.%lu.%lu)\n", VIRTSUP_VERSION,
                   v / 1000000, v / 1000 % 1000, v % 1000);
            return EXIT_OK;
        default:
            fputs("Try '" PROG " --help'.\n", stderr);
            return EXIT_USAGE;
        }
    }
    if (!ctl.uri) {
        /* As virsh and virConnectOpen(NULL): the environment's default. */
        const char *env = getenv("LIBVIRT_DEFAULT_URI");
        ctl.uri = env && *env ? env : DEFAULT_URI;
    }
    if (!batch && optind >= argc)
        return usageError(NULL, "no command given");
    if (batch && optind < argc)
        return usageError(NULL, "--batch takes no command on the command line");
    ctl.tty = isatty(STDOUT_FILENO) == 1;

    if (batch)
        ret = runBatch(&ctl, batch);
    else if (argc - optind == 1 && strpbrk(argv[optind], " \t;"))
        /* virsh's one-string form: 'list --all; domstate test'. */
        ret = runScript(&ctl, argv[optind], "the command line");
    else
        ret = runWords(&ctl, argc - optind, argv + optind);

    fflush(stdout);
    /* Closing the connection cancels and reaps any job still running (after
     * a second Ctrl-C); a job handle must be destroyed after its end. */
    if (ctl.conn)
        virConnectClose(ctl.conn);
    freeJobs(&ctl);
    if (sigpipe[0] >= 0) {
        close(sigpipe[0]);
        close(sigpipe[1]);
    }
    return ret;
}
