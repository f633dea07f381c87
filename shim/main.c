/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * main.c: virtsup-shim STATEDIR: the owner of one long-lived process.
 *
 * It forks and execs the child its spec describes (so it is the child's
 * parent and keeps its exit status), holds the child's QMP monitor when
 * the child is QEMU (a monitor serves one client; the shim is that client
 * and multiplexes its own clients' commands onto it, each with a timeout),
 * serves requests on STATEDIR/control.sock, pushes changes and QMP events
 * to subscribed clients, and records the child's state in STATEDIR/state
 * (a spare file written whole, then exchanged with it) before telling
 * anyone. When the child has been reaped and its end recorded, the shim
 * exits. It outlives whoever started it: that is its purpose.
 *
 * One thread, one poll loop. Nothing a client or the child does can block
 * it: every socket is non-blocking, a client that does not read its
 * replies is dropped, and every QMP command has a deadline.
 */
#include <cap-ng.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>

#include "shim/shim.h"
#include "util/virjsonflat.h"
#include "util/virprocess.h"

#define CLIENTS_MAX   64
#define QUEUE_MAX     64
#define RBUF_MAX      (VIR_SHIM_MSG_MAX - 1024)
#define TAIL_MAX      2048

typedef struct client {
    int fd;                   /* -1: free slot */
    uint64_t gen;             /* identifies this occupant of the slot */
    bool subscribed;
    bool stopWait;            /* reply to stopId once the child is reaped */
    uint64_t stopId;
} client;

enum { INTERNAL_NONE, INTERNAL_CAPS, INTERNAL_STATUS };

typedef struct qmpCmd {
    struct qmpCmd *next;
    uint64_t qid;
    int slot;                 /* client slot, -1 for the shim's own */
    uint64_t gen;
    uint64_t reqId;
    int internal;
    char name[64];
    char *line;
    size_t len, sent;
    int fds[VIR_SHIM_FDS_MAX];
    size_t nfds;
    uint64_t enqueued;        /* CLOCK_MONOTONIC ms */
    uint64_t deadline;
    bool waiting;             /* fully sent, reply expected */
} qmpCmd;

static struct {
    shimSpec spec;
    const char *statedir;
    int dirfd, listenfd, logfd, sigfd;
    uint64_t logBytes;
    bool logFull;

    pid_t pid;
    int pidfd, errpipe, outpipe, qmpfd;
    shimLaunchError launchErr;
    size_t launchErrLen;

    virShimStatus st;
    uint32_t stopReason;      /* virShimExitReason of a stop we started, or 0 */
    int lastSignal;           /* the last signal a client asked us to send */
    uint64_t killAt;          /* SIGKILL escalation, 0: none */
    uint64_t greetingBy;      /* QMP greeting deadline, 0: none */

    char tail[TAIL_MAX];      /* the last bytes the child wrote */
    size_t tailLen;

    client clients[CLIENTS_MAX];
    uint64_t nextGen;

    /* QMP */
    char rbuf[RBUF_MAX];
    size_t rlen;
    bool discarding;          /* a line longer than rbuf is being skipped */
    bool greeted;
    qmpCmd *queue;            /* head: the command being sent or answered */
    size_t queued;
    uint64_t nextQid;
    bool statusQueued;
    char flat[VIR_SHIM_MSG_MAX];
} S;

static uint64_t nowMs(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t realNs(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- the log --------------------------------------------------------------- */

static void logWrite(const char *buf, size_t len)
{
    if (S.logFull || S.logfd < 0)
        return;
    if (S.logBytes + len > S.spec.hdr.log_max) {
        static const char full[] = "virtsup-shim: the log reached its size limit; "
                                   "nothing more is written\n";
        (void)!write(S.logfd, full, sizeof(full) - 1);
        S.logFull = true;
        return;
    }
    while (len) {
        ssize_t n = write(S.logfd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        S.logBytes += (size_t)n;
        buf += n;
        len -= (size_t)n;
    }
}

static void logf_(const char *fmt, ...) ATTRIBUTE_FMT_PRINTF(1, 2);
static void logf_(const char *fmt, ...)
{
    char buf[1024];
    time_t t = time(NULL);
    struct tm tm;
    size_t n;
    va_list ap;

    gmtime_r(&t, &tm);
    n = strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%SZ virtsup-shim: ", &tm);
    va_start(ap, fmt);
    int m = vsnprintf(buf + n, sizeof(buf) - n - 1, fmt, ap);
    va_end(ap);
    n = m < 0 ? n : (n + (size_t)m < sizeof(buf) - 1 ? n + (size_t)m : sizeof(buf) - 2);
    buf[n++] = '\n';
    logWrite(buf, n);
}

/* ---- state -------------------------------------------------------------------- */

/* Record S.st in STATEDIR/state, atomically for readers: written whole
 * into the spare file .state.tmp, which then trades places with "state"
 * (RENAME_EXCHANGE). The two files keep their inodes and their size, so
 * recording a change frees no block. A rename over the old file freed its
 * block, and on a file system mounted with "discard" the rename waited for
 * that discard: 20-50 ms behind other writers' I/O, before anyone was told
 * of the change (docs/QEMU-DRIVER.md, "Cancel under other I/O"). A plain
 * rename where the exchange cannot be made: the first time (no spare
 * yet), or a file system without RENAME_EXCHANGE. */
static void writeState(void)
{
    static const char tmp[] = ".state.tmp";
    static bool noExchange;
    struct stat sb;
    int fd = openat(S.dirfd, tmp, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    int rc;

    if (fd < 0) {
        logf_("cannot write the state file: %s", strerror(errno));
        return;
    }
    if (pwrite(fd, &S.st, sizeof(S.st), 0) != (ssize_t)sizeof(S.st) || fstat(fd, &sb) < 0 ||
        (sb.st_size != (off_t)sizeof(S.st) && ftruncate(fd, (off_t)sizeof(S.st)) < 0)) {
        logf_("cannot write the state file: %s", strerror(errno));
        (void)unlinkat(S.dirfd, tmp, 0);
        close(fd);
        return;
    }
    close(fd);
    rc = noExchange ? -1 : renameat2(S.dirfd, tmp, S.dirfd, VIR_SHIM_STATE_NAME,
                                     RENAME_EXCHANGE);
    if (rc < 0 && !noExchange && errno != ENOENT)
        noExchange = true;   /* EINVAL: not on this file system */
    if (rc < 0 && renameat(S.dirfd, tmp, S.dirfd, VIR_SHIM_STATE_NAME) < 0) {
        logf_("cannot write the state file: %s", strerror(errno));
        (void)unlinkat(S.dirfd, tmp, 0);
    }
}

static void dropClient(int slot);

static int sendTo(int slot, uint32_t type, uint64_t id, const void *a, size_t alen,
                  const void *b, size_t blen, const void *c, size_t clen)
{
    virShimMsgHeader h = { type, VIR_SHIM_PROTO_VERSION, id, (uint32_t)(alen + blen + clen), 0 };
    struct iovec iov[4] = {
        { &h, sizeof(h) }, { (void *)a, alen }, { (void *)b, blen }, { (void *)c, clen },
    };
    struct msghdr m = { .msg_iov = iov, .msg_iovlen = 4 };
    ssize_t n;

    if (S.clients[slot].fd < 0)
        return -1;
    if (sizeof(h) + alen + blen + clen > VIR_SHIM_MSG_MAX)
        return -1;
    do {
        n = sendmsg(S.clients[slot].fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        /* A client that does not read its replies cannot hold us up. */
        dropClient(slot);
        return -1;
    }
    return 0;
}

static void reply(int slot, uint64_t id, int err, const char *msg, const void *data, size_t len)
{
    virShimReply r;

    memset(&r, 0, sizeof(r));
    r.err = err;
    if (data == &S.st)
        r.flags = VIR_SHIM_REPLY_STATUS;
    virStrcpyTrunc(r.message, sizeof(r.message), msg ? msg : "");
    (void)sendTo(slot, VIR_SHIM_MSG_REPLY, id, &r, sizeof(r), data, len, NULL, 0);
}

static void broadcast(uint32_t kind, const char *name, const char *data, size_t len)
{
    virShimEvent ev;

    memset(&ev, 0, sizeof(ev));
    ev.kind = kind;
    virStrcpyTrunc(ev.name, sizeof(ev.name), name);
    for (int i = 0; i < CLIENTS_MAX; i++)
        if (S.clients[i].fd >= 0 && S.clients[i].subscribed)
            (void)sendTo(i, VIR_SHIM_MSG_EVENT, 0, &ev, sizeof(ev), &S.st, sizeof(S.st),
                         data, len);
}

/* Every change of S.st goes through here: recorded first, then told. */
static void stateChanged(const char *what)
{
    S.st.seq++;
    writeState();
    broadcast(VIR_SHIM_EVENT_STATE, what, NULL, 0);
}

/* ---- the child ---------------------------------------------------------------- */

static void signalChild(int signo)
{
    if (S.pidfd >= 0 && S.st.child_state != VIR_SHIM_CHILD_EXITED &&
        virProcessPidfdSignal(S.pidfd, signo) < 0 && errno != ESRCH)
        logf_("cannot send signal %d to the child: %s", signo, strerror(errno));
}

/* Stop the child: SIGTERM now, SIGKILL after the spec's timeout (or
 * @timeout_ms). The first reason given is the one recorded. */
static void stopChild(uint32_t reason, uint32_t timeout_ms, const char *why)
{
    if (S.st.child_state == VIR_SHIM_CHILD_EXITED)
        return;
    if (!S.stopReason) {
        S.stopReason = reason;
        logf_("stopping %s (pid %d): %s", S.spec.hdr.name, (int)S.pid, why);
        if (reason != VIR_SHIM_EXIT_STOPPED)
            virStrcpyTrunc(S.st.message, sizeof(S.st.message), why);
    }
    signalChild(SIGTERM);
    uint64_t at = nowMs() + (timeout_ms ? timeout_ms : S.spec.hdr.term_timeout_ms);
    if (!S.killAt || at < S.killAt)
        S.killAt = at;
}

static void tailAdd(const char *buf, size_t len)
{
    if (len >= TAIL_MAX) {
        memcpy(S.tail, buf + len - TAIL_MAX, TAIL_MAX);
        S.tailLen = TAIL_MAX;
        return;
    }
    if (S.tailLen + len > TAIL_MAX) {
        size_t drop = S.tailLen + len - TAIL_MAX;
        memmove(S.tail, S.tail + drop, S.tailLen - drop);
        S.tailLen -= drop;
    }
    memcpy(S.tail + S.tailLen, buf, len);
    S.tailLen += len;
}

/* The child's last lines, printable, lines joined with "; ". */
static void tailMessage(char *out, size_t cap)
{
    size_t start = 0, end = S.tailLen, n = 0;

    while (end && (S.tail[end - 1] == '\n' || S.tail[end - 1] == '\r' || S.tail[end - 1] == ' '))
        end--;
    /* At most what fits, starting at a line. */
    if (end > cap - 1) {
        start = end - (cap - 1) / 2;
        const char *nl = memchr(S.tail + start, '\n', end - start);
        if (nl)
            start = (size_t)(nl - S.tail) + 1;
    }
    for (size_t i = start; i < end && n + 3 < cap; i++) {
        char c = S.tail[i];
        if (c == '\n') {
            out[n++] = ';';
            out[n++] = ' ';
        } else if (c == '\r') {
            continue;
        } else {
            out[n++] = (c >= 0x20 && c < 0x7f) ? c : '?';
        }
    }
    out[n] = '\0';
}

static void readOutput(void)
{
    char buf[4096];

    while (S.outpipe >= 0) {
        ssize_t n = read(S.outpipe, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n <= 0) {
            virForceClose(&S.outpipe);
            return;
        }
        logWrite(buf, (size_t)n);
        tailAdd(buf, (size_t)n);
    }
}

static void failQueue(int err, const char *msg);
static void readMonitor(void);
static void monitorClosed(void);

static void childExited(void)
{
    siginfo_t si;

    memset(&si, 0, sizeof(si));
    if (waitid(P_PID, (id_t)S.pid, &si, WEXITED | WNOHANG) < 0 || si.si_pid != S.pid)
        return;
    readOutput();
    /* Its last words on the monitor (SHUTDOWN and its reason) too. */
    readMonitor();
    /* A set-up failure is written before the child exits. */
    if (S.errpipe >= 0) {
        ssize_t n = read(S.errpipe, (char *)&S.launchErr + S.launchErrLen,
                         sizeof(S.launchErr) - S.launchErrLen);
        if (n > 0)
            S.launchErrLen += (size_t)n;
        virForceClose(&S.errpipe);
    }
    S.st.child_state = VIR_SHIM_CHILD_EXITED;
    S.st.child_exited_ns = realNs();
    S.st.exit_code = si.si_code;
    S.st.exit_status = si.si_status;
    if (S.launchErrLen == sizeof(S.launchErr)) {
        S.launchErr.step[sizeof(S.launchErr.step) - 1] = '\0';
        S.st.exit_reason = VIR_SHIM_EXIT_SETUP;
        S.st.setup_errno = S.launchErr.err;
        snprintf(S.st.message, sizeof(S.st.message), "%s: %s", S.launchErr.step,
                 strerror(S.launchErr.err));
    } else {
        if (S.stopReason)
            S.st.exit_reason = S.stopReason;
        else if (si.si_code != CLD_EXITED && si.si_status == S.lastSignal)
            S.st.exit_reason = VIR_SHIM_EXIT_STOPPED;
        else if (si.si_code != CLD_EXITED)
            S.st.exit_reason = VIR_SHIM_EXIT_KILLED;
        else
            S.st.exit_reason = VIR_SHIM_EXIT_EXITED;
        if (S.stopReason == VIR_SHIM_EXIT_STOPPED || !S.stopReason)
            tailMessage(S.st.message, sizeof(S.st.message));
    }
    for (size_t i = 0; i < sizeof(S.st.message); i++)
        if (S.st.message[i] && (S.st.message[i] < 0x20 || S.st.message[i] >= 0x7f))
            S.st.message[i] = '?';
    if (si.si_code == CLD_EXITED)
        logf_("%s (pid %d) exited with status %d", S.spec.hdr.name, (int)S.pid, si.si_status);
    else
        logf_("%s (pid %d) was killed by signal %d", S.spec.hdr.name, (int)S.pid, si.si_status);
    virForceClose(&S.pidfd);
    if (S.qmpfd >= 0 && S.st.qmp_state != VIR_SHIM_QMP_BROKEN)
        S.st.qmp_state = VIR_SHIM_QMP_BROKEN;
    virForceClose(&S.qmpfd);
    failQueue(ESRCH, "the process has exited");
    stateChanged("exited");
    for (int i = 0; i < CLIENTS_MAX; i++) {
        if (S.clients[i].fd >= 0 && S.clients[i].stopWait) {
            S.clients[i].stopWait = false;
            reply(i, S.clients[i].stopId, 0, NULL, &S.st, sizeof(S.st));
        }
    }
}

/* ---- QMP ---------------------------------------------------------------------- */

static void cmdFree(qmpCmd *c)
{
    for (size_t i = 0; i < c->nfds; i++)
        if (c->fds[i] >= 0)
            close(c->fds[i]);
    free(c->line);
    free(c);
}

static void cmdReply(qmpCmd *c, int err, const char *msg, const char *data, size_t len)
{
    if (c->slot >= 0 && S.clients[c->slot].fd >= 0 && S.clients[c->slot].gen == c->gen)
        reply(c->slot, c->reqId, err, msg, data, len);
}

static void failQueue(int err, const char *msg)
{
    while (S.queue) {
        qmpCmd *c = S.queue;
        S.queue = c->next;
        cmdReply(c, err, msg, NULL, 0);
        cmdFree(c);
    }
    S.queued = 0;
    S.statusQueued = false;
}

static void monitorBroken(const char *why)
{
    if (S.st.qmp_state == VIR_SHIM_QMP_BROKEN)
        return;
    logf_("the monitor of %s is unusable: %s", S.spec.hdr.name, why);
    S.st.qmp_state = VIR_SHIM_QMP_BROKEN;
    virForceClose(&S.qmpfd);
    failQueue(ENOTCONN, why);
    S.greetingBy = 0;
    stopChild(VIR_SHIM_EXIT_MONITOR, 0, why);
    stateChanged("monitor-broken");
}

static qmpCmd *enqueue(const char *command, const char *args, size_t argslen, int internal,
                       int slot, uint64_t reqId, uint32_t timeout_ms)
{
    qmpCmd *c = calloc(1, sizeof(*c)), **tail;
    size_t cap = strlen(command) + argslen + 96;

    if (!c || !(c->line = malloc(cap))) {
        free(c);
        return NULL;
    }
    c->qid = ++S.nextQid;
    c->internal = internal;
    virStrcpyTrunc(c->name, sizeof(c->name), command);
    c->slot = slot;
    c->gen = slot >= 0 ? S.clients[slot].gen : 0;
    c->reqId = reqId;
    c->enqueued = nowMs();
    c->deadline = c->enqueued + (timeout_ms ? timeout_ms : S.spec.hdr.qmp_timeout_ms);
    if (argslen)
        c->len = (size_t)snprintf(c->line, cap, "{\"execute\":\"%s\",\"arguments\":%.*s,"
                                  "\"id\":\"vs-%" PRIu64 "\"}\r\n",
                                  command, (int)argslen, args, c->qid);
    else
        c->len = (size_t)snprintf(c->line, cap, "{\"execute\":\"%s\",\"id\":\"vs-%" PRIu64 "\"}\r\n",
                                  command, c->qid);
    /* The shim's own commands go before the clients' unsent ones: the
     * monitor is not ready for those before them. */
    for (tail = &S.queue; *tail; tail = &(*tail)->next)
        if (internal && (*tail)->internal == INTERNAL_NONE && (*tail)->sent == 0)
            break;
    c->next = *tail;
    *tail = c;
    S.queued++;
    return c;
}

static void queueStatus(void)
{
    if (S.statusQueued || S.st.qmp_state == VIR_SHIM_QMP_BROKEN || S.qmpfd < 0)
        return;
    if (enqueue("query-status", NULL, 0, INTERNAL_STATUS, -1, 0, 0))
        S.statusQueued = true;
}

/* Send what the head command still has to send. */
static void qmpFlush(void)
{
    qmpCmd *c = S.queue;

    if (!c || c->waiting || S.qmpfd < 0 || !S.greeted)
        return;
    if (S.st.qmp_state != VIR_SHIM_QMP_READY && c->internal == INTERNAL_NONE)
        return;
    while (c->sent < c->len) {
        char cbuf[CMSG_SPACE(sizeof(int) * VIR_SHIM_FDS_MAX)];
        struct iovec iov = { c->line + c->sent, c->len - c->sent };
        struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
        if (c->sent == 0 && c->nfds) {
            memset(cbuf, 0, sizeof(cbuf));
            m.msg_control = cbuf;
            m.msg_controllen = CMSG_SPACE(sizeof(int) * c->nfds);
            struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
            cm->cmsg_level = SOL_SOCKET;
            cm->cmsg_type = SCM_RIGHTS;
            cm->cmsg_len = CMSG_LEN(sizeof(int) * c->nfds);
            memcpy(CMSG_DATA(cm), c->fds, sizeof(int) * c->nfds);
        }
        ssize_t n = sendmsg(S.qmpfd, &m, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) {
            /* QEMU has closed its monitor: it is exiting (a guest's
             * poweroff ends it right after its SHUTDOWN event, which may
             * not be read yet). As an end of file when reading: what it
             * wrote is read first, and its exit says how it ended; not a
             * broken monitor, which would stop it and call it a crash.
             * @c is gone after this. */
            monitorClosed();
            return;
        }
        if (n < 0) {
            monitorBroken("cannot write to the monitor");
            return;
        }
        if (c->sent == 0) {
            for (size_t i = 0; i < c->nfds; i++)
                virForceClose(&c->fds[i]);
        }
        c->sent += (size_t)n;
    }
    c->waiting = true;
}

static void setRunstate(const char *flat, size_t len)
{
    char status[32];
    char list[sizeof(S.spec.hdr.crash_runstates) + 2];

    if (virJSONFlatGet(flat, len, "status", status, sizeof(status)) < 0)
        return;
    if (STRNEQ(status, S.st.runstate)) {
        virStrcpyTrunc(S.st.runstate, sizeof(S.st.runstate), status);
        stateChanged("runstate");
    }
    /* ",a,b," contains ",status," */
    snprintf(list, sizeof(list), ",%s,", S.spec.hdr.crash_runstates);
    char needle[40];
    snprintf(needle, sizeof(needle), ",%s,", status);
    if (status[0] && strstr(list, needle)) {
        char why[128];
        snprintf(why, sizeof(why), "the run state became %s", status);
        stopChild(VIR_SHIM_EXIT_CRASHED, 0, why);
    }
}

static void handleReply(qmpCmd *c, const char *flat, size_t len)
{
    char cls[64], desc[400], msg[512];

    if (virJSONFlatGet(flat, len, "error.class", cls, sizeof(cls)) >= 0) {
        if (virJSONFlatGet(flat, len, "error.desc", desc, sizeof(desc)) < 0)
            desc[0] = '\0';
        snprintf(msg, sizeof(msg), "%s: %s", cls, desc);
        if (c->internal == INTERNAL_CAPS) {
            monitorBroken("the monitor refused qmp_capabilities");
            return;
        }
        if (c->internal == INTERNAL_STATUS)
            S.statusQueued = false;
        cmdReply(c, EREMOTEIO, msg, NULL, 0);
        return;
    }
    /* The return value, "return." stripped from each line. */
    char *out = malloc(len + 1);
    size_t olen = 0, pos = 0;
    if (!out) {
        cmdReply(c, ENOMEM, "out of memory", NULL, 0);
        return;
    }
    while (pos < len) {
        const char *line = flat + pos, *nl = memchr(line, '\n', len - pos);
        size_t ll = nl ? (size_t)(nl - line) + 1 : len - pos;
        pos += ll;
        if (ll > 7 && memcmp(line, "return.", 7) == 0) {
            memcpy(out + olen, line + 7, ll - 7);
            olen += ll - 7;
        } else if (ll > 7 && memcmp(line, "return=", 7) == 0) {
            memcpy(out + olen, line + 6, ll - 6);
            olen += ll - 6;
        }
    }
    out[olen] = '\0';
    switch (c->internal) {
    case INTERNAL_CAPS:
        queueStatus();
        break;
    case INTERNAL_STATUS:
        S.statusQueued = false;
        if (S.st.qmp_state == VIR_SHIM_QMP_CONNECTING) {
            S.st.qmp_state = VIR_SHIM_QMP_READY;
            S.greetingBy = 0;
            char status[32] = "";
            (void)virJSONFlatGet(out, olen, "status", status, sizeof(status));
            virStrcpyTrunc(S.st.runstate, sizeof(S.st.runstate), status);
            logf_("the monitor of %s is ready (run state %s)", S.spec.hdr.name, status);
            stateChanged("monitor-ready");
        }
        setRunstate(out, olen);
        break;
    default:
        /* A client's query-status is as fresh as ours: recorded too. The
         * end of an incoming migration of a paused guest sets the run
         * state with no event (its MIGRATION "completed" comes before it),
         * so a client that waits for "paused" asks. */
        if (c->internal == INTERNAL_NONE && STREQ(c->name, "query-status"))
            setRunstate(out, olen);
        cmdReply(c, 0, NULL, out, olen);
    }
    free(out);
}

static const char *const runstateEvents[] = {
    "STOP", "RESUME", "SHUTDOWN", "RESET", "SUSPEND", "SUSPEND_DISK", "WAKEUP",
    "GUEST_PANICKED", "GUEST_CRASHLOADED", "MIGRATION", "DUMP_COMPLETED", "POWERDOWN",
    NULL
};

static void handleLine(const char *line, size_t len)
{
    ssize_t flen = virJSONFlatten(line, len, S.flat, sizeof(S.flat) - 1);
    char name[64], id[32];

    if (flen < 0) {
        /* Too large for us, or not JSON at all. */
        if (len > RBUF_MAX / 2 && S.queue && S.queue->waiting) {
            qmpCmd *c = S.queue;
            S.queue = c->next;
            S.queued--;
            cmdReply(c, EMSGSIZE, "the reply is too large", NULL, 0);
            cmdFree(c);
            return;
        }
        monitorBroken("the monitor wrote something that is not JSON");
        return;
    }
    if (!S.greeted) {
        if (virJSONFlatGet(S.flat, (size_t)flen, "QMP.version.qemu.major", NULL, 0) < 0 &&
            strncmp(S.flat, "QMP.", 4) != 0) {
            monitorBroken("the monitor did not greet with QMP");
            return;
        }
        S.greeted = true;
        if (!enqueue("qmp_capabilities", NULL, 0, INTERNAL_CAPS, -1, 0, 0))
            monitorBroken("out of memory");
        return;
    }
    if (virJSONFlatGet(S.flat, (size_t)flen, "event", name, sizeof(name)) >= 0) {
        const char *data = S.flat;
        size_t dlen = 0;
        char *dbuf = NULL;
        /* data.* lines, "data." stripped. */
        if ((dbuf = malloc((size_t)flen + 1))) {
            size_t pos = 0;
            while (pos < (size_t)flen) {
                const char *l = S.flat + pos, *nl = memchr(l, '\n', (size_t)flen - pos);
                size_t ll = nl ? (size_t)(nl - l) + 1 : (size_t)flen - pos;
                pos += ll;
                if (ll > 5 && memcmp(l, "data.", 5) == 0) {
                    memcpy(dbuf + dlen, l + 5, ll - 5);
                    dlen += ll - 5;
                }
            }
            dbuf[dlen] = '\0';
            data = dbuf;
        }
        if (STREQ(name, "SHUTDOWN")) {
            char reason[32];
            if (virJSONFlatGet(data, dlen, "reason", reason, sizeof(reason)) >= 0) {
                virStrcpyTrunc(S.st.shutdown_reason, sizeof(S.st.shutdown_reason), reason);
                stateChanged("shutdown");
            }
        }
        /* RESUME means running, whatever query-status will add: recorded
         * now, so a monitor that stops answering after it cannot hide it. */
        if (STREQ(name, "RESUME") && STRNEQ(S.st.runstate, "running")) {
            virStrcpyTrunc(S.st.runstate, sizeof(S.st.runstate), "running");
            stateChanged("runstate");
        }
        broadcast(VIR_SHIM_EVENT_QMP, name, dbuf ? data : NULL, dbuf ? dlen : 0);
        free(dbuf);
        for (size_t i = 0; runstateEvents[i]; i++)
            if (STREQ(name, runstateEvents[i]))
                queueStatus();
        return;
    }
    if (virJSONFlatGet(S.flat, (size_t)flen, "id", id, sizeof(id)) < 0 ||
        strncmp(id, "vs-", 3) != 0) {
        /* A reply without our id: nothing sent one (we always give one). */
        logf_("the monitor of %s answered a command nobody sent; ignored", S.spec.hdr.name);
        return;
    }
    uint64_t qid = strtoull(id + 3, NULL, 10);
    qmpCmd **pp;
    for (pp = &S.queue; *pp && (*pp)->qid != qid; pp = &(*pp)->next)
        ;
    if (!*pp || !(*pp)->waiting)
        return;   /* the answer to a command that timed out: dropped */
    qmpCmd *c = *pp;
    *pp = c->next;
    S.queued--;
    handleReply(c, S.flat, (size_t)flen);
    cmdFree(c);
}

/* The monitor is closed (QEMU closed its end): its commands fail, the
 * child is left to exit, and its exit tells why. */
static void monitorGone(void)
{
    if (S.st.qmp_state != VIR_SHIM_QMP_BROKEN) {
        S.st.qmp_state = VIR_SHIM_QMP_BROKEN;
        failQueue(ENOTCONN, "the monitor was closed");
        stateChanged("monitor-closed");
    }
    virForceClose(&S.qmpfd);
}

/* A write found the monitor closed by QEMU: read what it wrote before
 * (to the end of file, which closes it), and close it if that did not. */
static void monitorClosed(void)
{
    readMonitor();
    if (S.qmpfd >= 0)
        monitorGone();
}

static void readMonitor(void)
{
    for (;;) {
        if (S.qmpfd < 0)
            return;
        ssize_t n = read(S.qmpfd, S.rbuf + S.rlen, sizeof(S.rbuf) - S.rlen);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n <= 0) {
            /* QEMU closes its monitor when it exits: the exit tells why. */
            monitorGone();
            return;
        }
        S.rlen += (size_t)n;
        size_t start = 0;
        for (;;) {
            char *nl = memchr(S.rbuf + start, '\n', S.rlen - start);
            if (!nl)
                break;
            size_t ll = (size_t)(nl - (S.rbuf + start));
            if (S.discarding)
                S.discarding = false;
            else
                handleLine(S.rbuf + start, ll);
            start += ll + 1;
            if (S.qmpfd < 0)
                return;
        }
        memmove(S.rbuf, S.rbuf + start, S.rlen - start);
        S.rlen -= start;
        if (S.rlen == sizeof(S.rbuf)) {
            /* A line longer than we take: skip to its end, and treat it as
             * the (too large) answer to the command in flight. */
            S.rlen = 0;
            if (!S.discarding && S.queue && S.queue->waiting) {
                qmpCmd *c = S.queue;
                S.queue = c->next;
                S.queued--;
                cmdReply(c, EMSGSIZE, "the reply is too large", NULL, 0);
                cmdFree(c);
            }
            S.discarding = true;
        }
    }
}

static void qmpTimeouts(uint64_t now)
{
    if (S.greetingBy && now >= S.greetingBy && S.st.qmp_state == VIR_SHIM_QMP_CONNECTING) {
        char why[128];
        snprintf(why, sizeof(why), "the monitor did not answer within %u ms",
                 (unsigned)S.spec.hdr.qmp_timeout_ms);
        monitorBroken(why);
        return;
    }
    for (qmpCmd **pp = &S.queue; *pp; ) {
        qmpCmd *c = *pp;
        if (now < c->deadline) {
            pp = &c->next;
            continue;
        }
        if (c->sent > 0 && c->sent < c->len) {
            /* Half a command on the wire cannot be taken back. */
            monitorBroken("the monitor stopped reading commands");
            return;
        }
        *pp = c->next;
        S.queued--;
        if (c->internal == INTERNAL_STATUS)
            S.statusQueued = false;
        if (c->internal == INTERNAL_CAPS) {
            cmdFree(c);
            monitorBroken("the monitor did not answer qmp_capabilities");
            return;
        }
        char msg[160];
        snprintf(msg, sizeof(msg), "the monitor did not answer '%s' within %" PRIu64 " ms",
                 c->name, c->deadline - c->enqueued);
        cmdReply(c, ETIMEDOUT, msg, NULL, 0);
        cmdFree(c);
    }
}

/* ---- clients ------------------------------------------------------------------ */

static void dropClient(int slot)
{
    client *c = &S.clients[slot];

    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->subscribed = c->stopWait = false;
}

static void addClient(int fd, bool subscribed)
{
    for (int i = 0; i < CLIENTS_MAX; i++) {
        if (S.clients[i].fd < 0) {
            S.clients[i] = (client){ .fd = fd, .gen = ++S.nextGen, .subscribed = subscribed };
            return;
        }
    }
    close(fd);
}

static void acceptClient(void)
{
    int fd = accept4(S.listenfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    struct ucred cred;
    socklen_t clen = sizeof(cred);

    if (fd < 0)
        return;
    /* Only our own user (or root) may drive the child. */
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0 ||
        (cred.uid != 0 && cred.uid != getuid())) {
        close(fd);
        return;
    }
    addClient(fd, false);
}

static bool commandNameOK(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
            return false;
    return true;
}

static void closeFds(int *fds, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (fds[i] >= 0)
            close(fds[i]);
}

static void readClient(int slot)
{
    static char buf[VIR_SHIM_MSG_MAX];
    union { char buf[CMSG_SPACE(sizeof(int) * VIR_SHIM_FDS_MAX)]; struct cmsghdr align; } cbuf;
    struct iovec iov = { buf, sizeof(buf) };
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
                        .msg_control = cbuf.buf, .msg_controllen = sizeof(cbuf.buf) };
    int fds[VIR_SHIM_FDS_MAX];
    size_t nfds = 0;
    virShimMsgHeader h;
    ssize_t n;

    do {
        n = recvmsg(S.clients[slot].fd, &m, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    if (n < 0 && errno == EAGAIN)
        return;
    /* Descriptors only from a read that succeeded: a failed one (a client
     * gone with our answer unread: ECONNRESET) leaves the control buffer
     * as it was, with the numbers an earlier request's descriptors had,
     * which the connections accepted since may hold. */
    for (struct cmsghdr *cm = n > 0 ? CMSG_FIRSTHDR(&m) : NULL; cm; cm = CMSG_NXTHDR(&m, cm)) {
        if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
            size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            int *p = (int *)CMSG_DATA(cm);
            for (size_t i = 0; i < k; i++) {
                if (nfds < VIR_SHIM_FDS_MAX)
                    fds[nfds++] = p[i];
                else
                    close(p[i]);
            }
        }
    }
    if (n <= 0 || (m.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || (size_t)n < sizeof(h)) {
        closeFds(fds, nfds);
        dropClient(slot);
        return;
    }
    memcpy(&h, buf, sizeof(h));
    if (h.version != VIR_SHIM_PROTO_VERSION || h.len != (size_t)n - sizeof(h)) {
        closeFds(fds, nfds);
        reply(slot, h.id, EPROTO, "malformed request", NULL, 0);
        return;
    }
    const char *payload = buf + sizeof(h);
    if (h.type != VIR_SHIM_MSG_QMP && nfds) {
        closeFds(fds, nfds);
        nfds = 0;
    }
    switch (h.type) {
    case VIR_SHIM_MSG_STATUS:
        reply(slot, h.id, 0, NULL, &S.st, sizeof(S.st));
        break;
    case VIR_SHIM_MSG_SUBSCRIBE:
        S.clients[slot].subscribed = true;
        reply(slot, h.id, 0, NULL, &S.st, sizeof(S.st));
        break;
    case VIR_SHIM_MSG_SIGNAL: {
        int32_t signo;
        if (h.len != sizeof(signo)) {
            reply(slot, h.id, EPROTO, "malformed request", NULL, 0);
            break;
        }
        memcpy(&signo, payload, sizeof(signo));
        if (signo <= 0 || signo >= NSIG) {
            reply(slot, h.id, EINVAL, "no such signal", NULL, 0);
            break;
        }
        if (S.st.child_state == VIR_SHIM_CHILD_EXITED) {
            reply(slot, h.id, ESRCH, "the process has exited", &S.st, sizeof(S.st));
            break;
        }
        S.lastSignal = signo;
        signalChild(signo);
        reply(slot, h.id, 0, NULL, &S.st, sizeof(S.st));
        break;
    }
    case VIR_SHIM_MSG_STOP: {
        uint32_t timeout;
        if (h.len != sizeof(timeout)) {
            reply(slot, h.id, EPROTO, "malformed request", NULL, 0);
            break;
        }
        memcpy(&timeout, payload, sizeof(timeout));
        if (S.st.child_state == VIR_SHIM_CHILD_EXITED) {
            reply(slot, h.id, 0, NULL, &S.st, sizeof(S.st));
            break;
        }
        S.clients[slot].stopWait = true;
        S.clients[slot].stopId = h.id;
        stopChild(VIR_SHIM_EXIT_STOPPED, timeout, "stop requested");
        break;
    }
    case VIR_SHIM_MSG_QMP: {
        virShimQMPRequest q;
        if (h.len < sizeof(q)) {
            closeFds(fds, nfds);
            reply(slot, h.id, EPROTO, "malformed request", NULL, 0);
            break;
        }
        memcpy(&q, payload, sizeof(q));
        const char *args = payload + sizeof(q);
        size_t argslen = h.len - sizeof(q);
        if (!memchr(q.command, '\0', sizeof(q.command)) || !commandNameOK(q.command) ||
            (argslen && !virJSONIsObject(args, argslen))) {
            closeFds(fds, nfds);
            reply(slot, h.id, EPROTO, "malformed QMP command or arguments", NULL, 0);
            break;
        }
        if (!(S.spec.hdr.flags & VIR_SHIM_SPEC_QMP) || S.qmpfd < 0 ||
            S.st.qmp_state == VIR_SHIM_QMP_BROKEN) {
            closeFds(fds, nfds);
            reply(slot, h.id, S.st.child_state == VIR_SHIM_CHILD_EXITED ? ESRCH : ENOTCONN,
                  S.st.child_state == VIR_SHIM_CHILD_EXITED ? "the process has exited" :
                  "the process has no usable monitor", NULL, 0);
            break;
        }
        if (S.queued >= QUEUE_MAX) {
            closeFds(fds, nfds);
            reply(slot, h.id, EBUSY, "too many monitor commands queued", NULL, 0);
            break;
        }
        qmpCmd *c = enqueue(q.command, args, argslen, INTERNAL_NONE, slot, h.id, q.timeout_ms);
        if (!c) {
            closeFds(fds, nfds);
            reply(slot, h.id, ENOMEM, "out of memory", NULL, 0);
            break;
        }
        memcpy(c->fds, fds, sizeof(int) * nfds);
        c->nfds = nfds;
        break;
    }
    default:
        reply(slot, h.id, EPROTO, "unknown request", NULL, 0);
    }
}

/* ---- start -------------------------------------------------------------------- */

static int listenOn(void)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    char path[64];
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return -1;
    /* Through our descriptor of the directory: its path may be longer
     * than a socket address holds. */
    snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", S.dirfd, VIR_SHIM_SOCKET_NAME);
    (void)unlinkat(S.dirfd, VIR_SHIM_SOCKET_NAME, 0);
    virStrcpyTrunc(sa.sun_path, sizeof(sa.sun_path), path);
    mode_t old = umask(0177);
    int rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
    umask(old);
    if (rc < 0 || listen(fd, 16) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void hello(int err, const char *msg)
{
    virShimHello h;

    memset(&h, 0, sizeof(h));
    h.magic = VIR_SHIM_STATUS_MAGIC;
    h.version = VIR_SHIM_PROTO_VERSION;
    h.err = err;
    virStrcpyTrunc(h.message, sizeof(h.message), msg ? msg : "");
    h.status = S.st;
    (void)send(VIR_SHIM_FD_REPORT, &h, sizeof(h), MSG_NOSIGNAL);
    close(VIR_SHIM_FD_REPORT);
}

static int startChild(void)
{
    int errp[2], outp[2], qmp[2] = { -1, -1 };
    shimLaunch l;

    if (pipe2(errp, O_CLOEXEC) < 0 || pipe2(outp, O_CLOEXEC) < 0)
        return -1;
    if ((S.spec.hdr.flags & VIR_SHIM_SPEC_QMP) &&
        socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, qmp) < 0)
        return -1;
    S.st.child_state = VIR_SHIM_CHILD_STARTING;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        l = (shimLaunch){ &S.spec, S.statedir, errp[1], outp[1], qmp[1], getppid() };
        shimLaunchChild(&l);
    }
    close(errp[1]);
    close(outp[1]);
    if (qmp[1] >= 0)
        close(qmp[1]);
    S.pid = pid;
    S.errpipe = errp[0];
    S.outpipe = outp[0];
    S.qmpfd = qmp[0];
    (void)fcntl(S.outpipe, F_SETFL, O_NONBLOCK);
    (void)fcntl(S.errpipe, F_SETFL, O_NONBLOCK);
    if (S.qmpfd >= 0)
        (void)fcntl(S.qmpfd, F_SETFL, O_NONBLOCK);
    /* Our unreaped child: the pid cannot be reused under us. */
    S.pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    S.st.child_pid = pid;
    S.st.child_start = virProcessStartTime(pid);
    S.st.child_started_ns = realNs();
    if (S.spec.hdr.flags & VIR_SHIM_SPEC_QMP) {
        S.st.qmp_state = VIR_SHIM_QMP_CONNECTING;
        S.greetingBy = nowMs() + S.spec.hdr.qmp_timeout_ms;
    }
    logf_("started %s (pid %d): %s", S.spec.hdr.name, (int)pid, S.spec.argv[0]);
    return 0;
}

/* The shim keeps what it needs to signal a child of another user
 * (CAP_KILL) and nothing else; it cannot gain anything by exec. */
static void dropPrivileges(void)
{
    if (geteuid() == 0) {
        capng_clear(CAPNG_SELECT_BOTH);
        capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED | CAPNG_BOUNDING_SET, CAP_KILL);
        if (capng_apply(CAPNG_SELECT_BOTH) < 0)
            logf_("cannot drop the shim's capabilities: %s", strerror(errno));
    }
    (void)prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    (void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

int main(int argc, char **argv)
{
    const char *err = NULL;
    sigset_t mask;

    if (argc != 2 || argv[1][0] != '/') {
        fprintf(stderr, "usage: virtsup-shim /STATE/DIRECTORY (started by libvirtsup)\n");
        return 2;
    }
    memset(&S, 0, sizeof(S));
    S.statedir = argv[1];
    S.listenfd = S.sigfd = S.pidfd = S.errpipe = S.outpipe = S.qmpfd = -1;
    S.logfd = VIR_SHIM_FD_LOG;
    for (int i = 0; i < CLIENTS_MAX; i++)
        S.clients[i].fd = -1;
    for (int fd = VIR_SHIM_FD_SPEC; fd <= VIR_SHIM_FD_LOG; fd++)
        (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
    /* Our own last words (a crash, a sanitizer's report) go to the log. */
    (void)dup2(VIR_SHIM_FD_LOG, 2);
    umask(077);
    struct stat lst;
    if (fstat(S.logfd, &lst) == 0)
        S.logBytes = (uint64_t)lst.st_size;
    signal(SIGPIPE, SIG_IGN);

    S.st.magic = VIR_SHIM_STATUS_MAGIC;
    S.st.version = VIR_SHIM_PROTO_VERSION;
    S.st.size = sizeof(S.st);
    S.st.shim_pid = getpid();
    S.st.shim_start = virProcessStartTime(getpid());

    if (shimSpecRead(VIR_SHIM_FD_SPEC, &S.spec, &err) < 0) {
        hello(EINVAL, err);
        return 1;
    }
    close(VIR_SHIM_FD_SPEC);
    for (size_t i = 0; i < S.spec.nfds + S.spec.hdr.nclients; i++)
        (void)fcntl(VIR_SHIM_FD_CHILD_FIRST + (int)i, F_SETFD, FD_CLOEXEC);
    /* Clients connected before we existed: subscribed from the first
     * moment, so they miss nothing. */
    for (size_t i = 0; i < S.spec.hdr.nclients; i++) {
        int fd = VIR_SHIM_FD_CHILD_FIRST + (int)(S.spec.nfds + i);
        (void)fcntl(fd, F_SETFL, O_NONBLOCK);
        addClient(fd, true);
    }
    virStrcpyTrunc(S.st.name, sizeof(S.st.name), S.spec.hdr.name);
    if ((S.dirfd = open(S.statedir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        hello(errno, "cannot open the state directory");
        return 1;
    }
    if ((S.listenfd = listenOn()) < 0) {
        hello(errno, "cannot listen on the control socket");
        return 1;
    }
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGHUP);
    sigaddset(&mask, SIGCHLD);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    if ((S.sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) < 0) {
        hello(errno, "cannot create a signalfd");
        return 1;
    }
    if (startChild() < 0) {
        hello(errno, "cannot start the child process");
        return 1;
    }
    /* The child has its own copies; the spec's descriptors are not ours. */
    for (size_t i = 0; i < S.spec.nfds; i++)
        close(VIR_SHIM_FD_CHILD_FIRST + (int)i);
    dropPrivileges();
    writeState();
    hello(0, NULL);

    while (S.st.child_state != VIR_SHIM_CHILD_EXITED) {
        struct pollfd pfd[8 + CLIENTS_MAX];
        int slotOf[8 + CLIENTS_MAX];
        nfds_t n = 0;
        uint64_t now = nowMs(), next = UINT64_MAX;

        if (S.killAt && now >= S.killAt) {
            logf_("%s (pid %d) did not stop on SIGTERM: killing it", S.spec.hdr.name, (int)S.pid);
            signalChild(SIGKILL);
            S.killAt = 0;
        }
        qmpTimeouts(now);
        qmpFlush();
        if (S.killAt)
            next = S.killAt;
        if (S.greetingBy && S.greetingBy < next)
            next = S.greetingBy;
        for (qmpCmd *c = S.queue; c; c = c->next)
            if (c->deadline < next)
                next = c->deadline;

        pfd[n] = (struct pollfd){ S.listenfd, POLLIN, 0 }; slotOf[n++] = -1;
        pfd[n] = (struct pollfd){ S.sigfd, POLLIN, 0 }; slotOf[n++] = -2;
        if (S.pidfd >= 0) { pfd[n] = (struct pollfd){ S.pidfd, POLLIN, 0 }; slotOf[n++] = -3; }
        if (S.errpipe >= 0) { pfd[n] = (struct pollfd){ S.errpipe, POLLIN, 0 }; slotOf[n++] = -4; }
        if (S.outpipe >= 0) { pfd[n] = (struct pollfd){ S.outpipe, POLLIN, 0 }; slotOf[n++] = -5; }
        if (S.qmpfd >= 0) {
            short ev = POLLIN;
            if (S.queue && !S.queue->waiting && S.greeted)
                ev |= POLLOUT;
            pfd[n] = (struct pollfd){ S.qmpfd, ev, 0 }; slotOf[n++] = -6;
        }
        for (int i = 0; i < CLIENTS_MAX; i++) {
            if (S.clients[i].fd >= 0) {
                pfd[n] = (struct pollfd){ S.clients[i].fd, POLLIN, 0 };
                slotOf[n++] = i;
            }
        }
        int timeout = next == UINT64_MAX ? -1 : (int)(next > now ? (next - now < 60000 ? next - now : 60000) : 0);
        int r = poll(pfd, n, timeout);
        if (r < 0 && errno != EINTR)
            break;
        if (r <= 0)
            continue;
        for (nfds_t i = 0; i < n; i++) {
            if (!pfd[i].revents)
                continue;
            switch (slotOf[i]) {
            case -1:
                acceptClient();
                break;
            case -2: {
                struct signalfd_siginfo si;
                while (read(S.sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
                    if (si.ssi_signo == SIGCHLD)
                        childExited();
                    else
                        stopChild(VIR_SHIM_EXIT_STOPPED, 0, "the shim was asked to stop");
                }
                break;
            }
            case -3:
                childExited();
                break;
            case -4: {
                ssize_t k = read(S.errpipe, (char *)&S.launchErr + S.launchErrLen,
                                 sizeof(S.launchErr) - S.launchErrLen);
                if (k > 0) {
                    S.launchErrLen += (size_t)k;
                } else if (k == 0 || errno != EAGAIN) {
                    /* Closed by the exec: the program runs. */
                    virForceClose(&S.errpipe);
                    if (S.launchErrLen == 0 && S.st.child_state == VIR_SHIM_CHILD_STARTING) {
                        S.st.child_state = VIR_SHIM_CHILD_RUNNING;
                        stateChanged("running");
                    }
                }
                break;
            }
            case -5:
                readOutput();
                break;
            case -6:
                if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR))
                    readMonitor();
                if (S.qmpfd >= 0 && (pfd[i].revents & POLLOUT))
                    qmpFlush();
                break;
            default:
                if (S.clients[slotOf[i]].fd == pfd[i].fd)
                    readClient(slotOf[i]);
            }
            if (S.st.child_state == VIR_SHIM_CHILD_EXITED)
                break;
        }
    }

    /* Recorded and told: nothing more to own. */
    (void)unlinkat(S.dirfd, VIR_SHIM_SOCKET_NAME, 0);
    for (int i = 0; i < CLIENTS_MAX; i++)
        dropClient(i);
    failQueue(ESRCH, "the process has exited");
    close(S.listenfd);
    close(S.sigfd);
    close(S.dirfd);
    virForceClose(&S.outpipe);
    virForceClose(&S.errpipe);
    shimSpecFree(&S.spec);
    return 0;
}
