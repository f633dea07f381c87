/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-ops.c: worker ops for tests only, linked into
 * build/tests/virtsup-worker-test (never into the shipped worker).
 * Each behaves in one way on purpose, so every outcome can be produced on
 * a real worker process. Parameters are a short text (e.g. "pct=40").
 */
#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

#include "util/virerror.h"
#include "util/virxml.h"
#include "shm/segment.h"
#include "worker/job.h"

static unsigned int paramUInt(const void *params, size_t len, const char *key,
                              unsigned int def)
{
    char buf[256];
    size_t n = len < sizeof(buf) - 1 ? len : sizeof(buf) - 1;
    memcpy(buf, params ? params : "", n);
    buf[n] = '\0';
    char *p = strstr(buf, key);
    if (!p || p[strlen(key)] != '=')
        return def;
    return (unsigned int)strtoul(p + strlen(key) + 1, NULL, 10);
}

static void progressTo(virWorkerJobPtr job, unsigned int pct)
{
    virWorkerJobInitialize(job, 10);
    virWorkerJobSetPhase(job, "working");
    for (unsigned int p = 0; p <= pct; p += 10)
        virWorkerJobUpdateAbs(job, 0, 10, p);
}

/* Wait for SIGTERM or the cancel flag: an event, not a guess. SIGTERM is
 * blocked except inside ppoll, which unblocks it atomically, so a signal
 * that comes between the check and the wait is not lost; the flag alone
 * (no signal) is seen within a second. A thousand waiting workers thus
 * sleep instead of waking a thousand times a second each. */
static void waitForCancel(virWorkerJobPtr job)
{
    sigset_t term, old;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    sigprocmask(SIG_BLOCK, &term, &old);
    while (!virWorkerJobCancelRequested(job)) {
        struct timespec ts = { 1, 0 };
        ppoll(NULL, 0, &ts, &old);
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
}

static void opSucceed(virWorkerJobPtr job, const void *params, size_t len)
{
    unsigned int bytes = paramUInt(params, len, "bytes", 1000);
    virWorkerJobInitialize(job, 1);
    virWorkerJobSetPhase(job, "counting");
    for (unsigned int i = 0; i <= 10; i++)
        virWorkerJobUpdateBytes(job, (uint64_t)bytes * i / 10, bytes);
    virWorkerJobSetResult(job, params, len);
    virWorkerJobFinishSuccess(job);
}
VIR_WORKER_OP_REGISTER(opSucceedDef, "test.succeed", opSucceed);

static void opFail(virWorkerJobPtr job, const void *params, size_t len)
{
    progressTo(job, paramUInt(params, len, "pct", 30));
    virWorkerJobFinishFailure(job, VIR_ERR_OPERATION_FAILED,
                        "deliberate failure at %u%%", paramUInt(params, len, "pct", 30));
}
VIR_WORKER_OP_REGISTER(opFailDef, "test.fail", opFail);

static void opFault(virWorkerJobPtr job, const void *params, size_t len, const char *action)
{
    progressTo(job, paramUInt(params, len, "pct", 40));
    virWorkerJobInjectFault(job, action);
    waitForCancel(job);
    if (!virWorkerJobFinishCancel(job))
        virWorkerJobFinishSuccess(job);
}

static void opSegv(virWorkerJobPtr job, const void *p, size_t l) { opFault(job, p, l, "segv"); }
static void opAbort(virWorkerJobPtr job, const void *p, size_t l) { opFault(job, p, l, "abort"); }
static void opHang(virWorkerJobPtr job, const void *p, size_t l) { opFault(job, p, l, "hang"); }
static void opExit(virWorkerJobPtr job, const void *p, size_t l) { opFault(job, p, l, "exit"); }
static void opGarbage(virWorkerJobPtr job, const void *p, size_t l) { opFault(job, p, l, "garbage"); }
VIR_WORKER_OP_REGISTER(opSegvDef, "test.segv", opSegv);
VIR_WORKER_OP_REGISTER(opAbortDef, "test.abort", opAbort);
VIR_WORKER_OP_REGISTER(opHangDef, "test.hang", opHang);
VIR_WORKER_OP_REGISTER(opExitDef, "test.exit", opExit);
VIR_WORKER_OP_REGISTER(opGarbageDef, "test.garbage", opGarbage);

/* Honours cancel: waits for it, then reports CANCELLED. */
static void opCancel(virWorkerJobPtr job, const void *params, size_t len)
{
    progressTo(job, paramUInt(params, len, "pct", 20));
    virWorkerJobSetPhase(job, "waiting for cancel");
    waitForCancel(job);
    if (!virWorkerJobFinishCancel(job))
        virWorkerJobFinishFailure(job, VIR_ERR_INTERNAL_ERROR, "cancel seen but not finished");
}
VIR_WORKER_OP_REGISTER(opCancelDef, "test.cancel", opCancel);

/* Runs until the test says: completes once the pipe given as its first
 * descriptor reaches its end (the test closes the write end), and is
 * cancelled like test.cancel. SIGTERM is let in only inside ppoll. */
static void opGate(virWorkerJobPtr job, const void *params, size_t len)
{
    int fd = virWorkerJobResourceFD(job, 0);
    sigset_t term, old;

    progressTo(job, paramUInt(params, len, "pct", 30));
    virWorkerJobSetPhase(job, "waiting for the gate");
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    sigprocmask(SIG_BLOCK, &term, &old);
    for (;;) {
        if (virWorkerJobCancelRequested(job)) {
            if (!virWorkerJobFinishCancel(job))
                virWorkerJobFinishFailure(job, VIR_ERR_INTERNAL_ERROR, "cancel seen but not finished");
            return;
        }
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        struct timespec ts = { 1, 0 };
        char c;
        if (ppoll(&pfd, 1, &ts, &old) > 0) {
            ssize_t n = read(fd, &c, 1);
            if (n == 0)
                break;
            if (n < 0 && errno != EINTR && errno != EAGAIN) {
                virWorkerJobFinishFailure(job, VIR_ERR_SYSTEM_ERROR, "cannot read the gate");
                return;
            }
        }
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    virWorkerJobUpdateAbs(job, 0, 0, 100);
    virWorkerJobFinishSuccess(job);
}
VIR_WORKER_OP_REGISTER(opGateDef, "test.gate", opGate);

/* Ignores SIGTERM, waits until it sees the cancel flag, then completes. */
static void opIgnoreCancel(virWorkerJobPtr job, const void *params, size_t len)
{
    progressTo(job, paramUInt(params, len, "pct", 50));
    signal(SIGTERM, SIG_IGN);
    while (!virWorkerJobCancelRequested(job)) {
        struct timespec ts = { 0, 1000000 };
        nanosleep(&ts, NULL);
    }
    virWorkerJobInjectFault(job, "ignore-cancel");
    if (virWorkerJobFinishCancel(job))
        return;
    virWorkerJobFinishSuccess(job);
}
VIR_WORKER_OP_REGISTER(opIgnoreCancelDef, "test.ignore-cancel", opIgnoreCancel);

/* The async-jobs RFC's example worker, in its own spelling: 50 units of
 * 2 % each, checking for cancellation between units ("unit_ms=N"). */
static void opRfc(virWorkerJobPtr job, const void *params, size_t len)
{
    unsigned int unit_ms = paramUInt(params, len, "unit_ms", 1);
    virJobInitialize(job, 50);
    for (int i = 0; i < 50; i++) {
        struct timespec ts = { 0, (long)unit_ms * 1000000L };
        nanosleep(&ts, NULL);
        if (virJobFinishCancel(job))
            return;
        virJobUpdateRel(job, 1, -1, 2);
    }
    virJobFinishSuccess(job);
}
VIR_WORKER_OP_REGISTER(opRfcDef, "test.rfc", opRfc);

/* Leaves a grandchild running in its group; hangs if asked ("hang=1"). */
static void opGrandchild(virWorkerJobPtr job, const void *params, size_t len)
{
    pid_t pid = fork();
    if (pid == 0) {
        for (;;)
            pause();
    }
    char buf[32];
    int n = snprintf(buf, sizeof(buf), "%d", (int)pid);
    virWorkerJobSetResult(job, buf, (size_t)n);
    virWorkerJobUpdateAbs(job, 0, 0, 60);
    if (paramUInt(params, len, "hang", 0))
        virWorkerJobInjectFault(job, "hang");
    virWorkerJobFinishSuccess(job);
}
VIR_WORKER_OP_REGISTER(opGrandchildDef, "test.grandchild", opGrandchild);

static void appendFile(char *out, size_t outlen, const char *path, const char *const keys[])
{
    FILE *f = fopen(path, "re");
    char line[512];
    if (!f)
        return;
    while (fgets(line, sizeof(line), f)) {
        for (size_t k = 0; keys[k]; k++) {
            if (strncmp(line, keys[k], strlen(keys[k])) == 0) {
                size_t l = strlen(out);
                snprintf(out + l, outlen - l, "%s", line);
            }
        }
    }
    fclose(f);
}

/* Reports what the sandbox left it: descriptors, signals, capabilities,
 * no_new_privs, ids, process group, limits. One "key: value" per line. */
static void opReport(virWorkerJobPtr job, const void *params, size_t len)
{
    static char out[8192];
    static const char *const keys[] = {
        "CapInh:", "CapPrm:", "CapEff:", "CapBnd:", "CapAmb:", "NoNewPrivs:",
        "SigBlk:", "SigIgn:", "Uid:", "Gid:", "Groups:", "Seccomp:", NULL
    };
    (void)params;
    (void)len;
    out[0] = '\0';
    appendFile(out, sizeof(out), "/proc/self/status", keys);

    size_t l = strlen(out);
    l += (size_t)snprintf(out + l, sizeof(out) - l, "fds:");
    DIR *d = opendir("/proc/self/fd");
    int dfd = d ? dirfd(d) : -1;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.' || atoi(e->d_name) == dfd)
            continue;
        l += (size_t)snprintf(out + l, sizeof(out) - l, " %s", e->d_name);
    }
    if (d)
        closedir(d);
    /* The names of the environment variables it was given. */
    extern char **environ;
    l += (size_t)snprintf(out + l, sizeof(out) - l, "\nenv:");
    for (char **ev = environ; ev && *ev && l < sizeof(out) - 256; ev++)
        l += (size_t)snprintf(out + l, sizeof(out) - l, " %.*s",
                              (int)strcspn(*ev, "="), *ev);
    struct rlimit core, nofile, as, cpu, fsize;
    getrlimit(RLIMIT_CORE, &core);
    getrlimit(RLIMIT_NOFILE, &nofile);
    getrlimit(RLIMIT_AS, &as);
    getrlimit(RLIMIT_CPU, &cpu);
    getrlimit(RLIMIT_FSIZE, &fsize);
    l += (size_t)snprintf(out + l, sizeof(out) - l,
             "\npid: %d\npgid: %d\nsid: %d\nppid: %d\ncore: %llu\nnofile: %llu\n"
             "dumpable: %d\n",
             (int)getpid(), (int)getpgrp(), (int)getsid(0), (int)getppid(),
             (unsigned long long)core.rlim_cur, (unsigned long long)nofile.rlim_cur,
             prctl(PR_GET_DUMPABLE));
    /* Added for the security tests: the other limits (hard values too,
     * "unlimited" spelled out), and what the filesystem root holds. */
#define REPORT_LIM(v) ((v) == RLIM_INFINITY ? -1LL : (long long)(v))
    l += (size_t)snprintf(out + l, sizeof(out) - l,
             "as: %lld %lld\ncpu: %lld %lld\nfsize: %lld %lld\nnofile-max: %lld\nroot:",
             REPORT_LIM(as.rlim_cur), REPORT_LIM(as.rlim_max),
             REPORT_LIM(cpu.rlim_cur), REPORT_LIM(cpu.rlim_max),
             REPORT_LIM(fsize.rlim_cur), REPORT_LIM(fsize.rlim_max),
             REPORT_LIM(nofile.rlim_max));
#undef REPORT_LIM
    DIR *root = opendir("/");
    while (root && (e = readdir(root)) && l < sizeof(out) - 2) {
        if (e->d_name[0] == '.')
            continue;
        l += (size_t)snprintf(out + l, sizeof(out) - l, " %s", e->d_name);
    }
    if (root)
        closedir(root);
    /* The descriptors' names, as the op's profile gave them. */
    l += (size_t)snprintf(out + l, sizeof(out) - l, "\nfd-names:");
    for (unsigned int i = 0; virWorkerJobResourceName(job, i) && l < sizeof(out) - 64; i++) {
        const char *n = virWorkerJobResourceName(job, i);
        if (*n)
            l += (size_t)snprintf(out + l, sizeof(out) - l, " %s=%d", n,
                                  virWorkerJobFD(job, n));
    }
    /* The shared libraries mapped, by file name (a library's mappings
     * are listed together: each name once). */
    l += (size_t)snprintf(out + l, sizeof(out) - l, "\nlibs:");
    FILE *maps = fopen("/proc/self/maps", "re");
    char line[512], prev[256] = "";
    while (maps && fgets(line, sizeof(line), maps) && l < sizeof(out) - 128) {
        char *name = strrchr(line, '/');
        if (!name || !strstr(name, ".so"))
            continue;
        name[strcspn(name, "\n")] = '\0';
        if (strcmp(name + 1, prev) == 0)
            continue;
        snprintf(prev, sizeof(prev), "%s", name + 1);
        l += (size_t)snprintf(out + l, sizeof(out) - l, " %s", name + 1);
    }
    if (maps)
        fclose(maps);
    /* Whether XML can be read here: "ok", or the error. */
    static const char doc[] = "<report/>";
    const virXMLCtx xc = { "report" };
    xmlDocPtr xd = virXMLReadUntrusted(&xc, doc, sizeof(doc) - 1, sizeof(doc), "report");
    if (l < sizeof(out) - 512)
        l += (size_t)snprintf(out + l, sizeof(out) - l, "\nxml: %.400s",
                              xd ? "ok" : virGetLastErrorMessage());
    xmlFreeDoc(xd);
    virResetLastError();
    if (l < sizeof(out) - 1)
        snprintf(out + l, sizeof(out) - l, "\n");
    virWorkerJobSetResult(job, out, strlen(out));
    virWorkerJobFinishSuccess(job);
}
VIR_WORKER_OP_REGISTER(opReportDef, "test.report", opReport);

/* Returns without reporting. */
static void opNoReport(virWorkerJobPtr job, const void *params, size_t len)
{
    (void)params;
    (void)len;
    virWorkerJobUpdateAbs(job, 0, 0, 10);
}
VIR_WORKER_OP_REGISTER(opNoReportDef, "test.noreport", opNoReport);

/* Streams bytes for a while ("ms=N", "total=BYTES"), honouring cancel. */
static void opStream(virWorkerJobPtr job, const void *params, size_t len)
{
    unsigned int ms = paramUInt(params, len, "ms", 3000);
    uint64_t total = paramUInt(params, len, "total", 100000000);
    uint64_t start = virShmNowMono();
    virWorkerJobInitialize(job, 0);
    virWorkerJobSetPhase(job, "streaming");
    for (;;) {
        uint64_t el = (virShmNowMono() - start) / 1000000ull;
        if (el >= ms)
            break;
        virWorkerJobUpdateBytes(job, total * el / ms, total);
        if (virWorkerJobFinishCancel(job))
            return;
        struct timespec ts = { 0, 5000000 };
        nanosleep(&ts, NULL);
    }
    virWorkerJobUpdateBytes(job, total, total);
    virWorkerJobFinishSuccess(job);
}
VIR_WORKER_OP_REGISTER(opStreamDef, "test.stream", opStream);

/* Passes a descriptor to itself over a socketpair (SCM_RIGHTS), as a
 * worker handing a process its pipe does; fails with the errno if the
 * kernel refuses (ETOOMANYREFS: too many descriptors in flight for this
 * uid). */
static void opPassFD(virWorkerJobPtr job, const void *params, size_t len)
{
    (void)params;
    (void)len;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) < 0) {
        virWorkerJobFinishFailure(job, VIR_ERR_SYSTEM_ERROR, "socketpair: %s", strerror(errno));
        return;
    }
    union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } ctl;
    memset(&ctl, 0, sizeof(ctl));
    struct iovec iov = { (void *)"x", 1 };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
                         .msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf) };
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &sv[0], sizeof(int));
    ssize_t n = sendmsg(sv[1], &mh, MSG_NOSIGNAL);
    int err = errno;
    close(sv[0]);
    close(sv[1]);
    if (n != 1) {
        virWorkerJobFinishFailure(job, VIR_ERR_SYSTEM_ERROR, "cannot pass a descriptor: %s",
                                  strerror(err));
        return;
    }
    virWorkerJobFinishSuccess(job);
}
VIR_WORKER_OP_REGISTER(opPassFDDef, "test.pass-fd", opPassFD);
