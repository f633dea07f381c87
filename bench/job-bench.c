/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * job-bench: what a job costs the caller, each figure beside a baseline
 * measured in the same run (see bench/README.md):
 *
 *  - start latency (virSupJobCreate -> the op's code running in the worker,
 *    stamped by the bench.stamp op), back to back and after a 2 ms pause,
 *    against posix_spawn+exec+wait of a
 *    static do-nothing program; again with 1 GiB of touched heap in the
 *    caller, beside fork+exec+wait, which grows with it;
 *  - jobs per second through the whole lifecycle against posix_spawn+wait
 *    per second, both with 32 in flight;
 *  - the worker's progress calls (timed inside the worker by bench.progress)
 *    against a 128-byte pipe write and an AF_UNIX datagram send;
 *  - virJobGetInfo ns per call and its system calls (syscall user dispatch
 *    traps any), against reading /proc/PID/stat of the worker;
 *  - cancel latency of a cooperating worker and crash-detection latency,
 *    against kill+waitpid of a direct child; the cancel also against a
 *    direct child that, like the worker, runs its own code after the
 *    signal (a SIGTERM handler sets a flag, then it _exits); and once
 *    more for jobs that had run 5 ms (the ready worker that replaces the
 *    one the job took is set up by then: the first figure has that set-up
 *    beside it); the crash the same, at once and after 5 ms.
 *
 * Needs VIRTSUP_WORKER pointing at the test worker (make bench sets it).
 */
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "util/internal.h"
#include "supervisor/supervisor.h"
#include "benchutil.h"
#include "benchjob.h"

#ifndef PR_SET_SYSCALL_USER_DISPATCH
# define PR_SET_SYSCALL_USER_DISPATCH 59
# define PR_SYS_DISPATCH_OFF 0
# define PR_SYS_DISPATCH_ON 1
#endif
#define DISPATCH_ALLOW 0
#define DISPATCH_BLOCK 1

#define SAMPLES 300
#define INFLIGHT 32

static const virSupOp opStamp = { .name = "bench.stamp", .type = VIR_JOB_BOUNDED };
static const virSupOp opSleep = { .name = "bench.sleep", .type = VIR_JOB_BOUNDED };
static const virSupOp opCrash = { .name = "bench.crash", .type = VIR_JOB_BOUNDED };

static virSupGroup *group;

static virJobPtr startJob(const virSupOp *op, const char *params, void *opaque)
{
    virSupJobParams p;
    memset(&p, 0, sizeof(p));
    p.op = op;
    p.target = "bench";
    p.params = params;
    p.paramslen = params ? strlen(params) : 0;
    p.opaque = opaque;
    virJobPtr job = virSupJobCreate(group, &p);
    if (!job) {
        fprintf(stderr, "bench: virSupJobCreate(%s): %s\n", op->name, virGetLastErrorMessage());
        exit(1);
    }
    return job;
}

static uint64_t jobStamp(virJobPtr job)
{
    uint64_t done = 0;
    if (virSupJobGetRawStats(job, NULL, NULL, NULL, &done, NULL) < 0)
        benchDie("virSupJobGetRawStats failed");
    return done;
}

/* bench.stamp's second stamp: when its code ended (in the bytes total). */
static uint64_t jobEndStamp(virJobPtr job)
{
    uint64_t total = 0;
    if (virSupJobGetRawStats(job, NULL, NULL, NULL, NULL, &total) < 0)
        benchDie("virSupJobGetRawStats failed");
    return total;
}

/* Wait for @job to end in state @want (dies otherwise); returns when
 * virJobWait returned. */
static uint64_t endJob(virJobPtr job, int want)
{
    virJobInfo info;
    if (virJobWait(job, 60000) != 0)
        benchDie("a job did not end within 60 s");
    uint64_t t = benchNow();
    if (virJobGetInfo(job, &info) < 0 || info.state != want) {
        virErrorPtr e = virJobGetError(job);
        fprintf(stderr, "bench: job ended in state %d, not %d: %s\n", info.state, want,
                e && e->message ? e->message : "");
        exit(1);
    }
    return t;
}

/* Wait until a bench.sleep job's code runs (its stamp is visible). */
static void waitStamped(virJobPtr job)
{
    uint64_t end = benchNow() + 60000000000ull;
    while (jobStamp(job) == 0) {
        if (benchNow() > end)
            benchDie("a job did not start within 60 s");
        benchSleepNs(20000);
    }
}

/* ---- start latency ---- */

/* Start latency of @n bench.stamp jobs, and (@endlat not NULL) from the
 * end of their code to virJobWait returning. */
static void startLatencyGap(uint64_t *lat, uint64_t *endlat, size_t n, uint64_t gap_ns)
{
    for (size_t i = 0; i < n; i++) {
        if (gap_ns)
            benchSleepNs(gap_ns);
        uint64_t t0 = benchNow();
        virJobPtr job = startJob(&opStamp, NULL, NULL);
        uint64_t t1 = endJob(job, VIR_JOB_COMPLETE);
        uint64_t st = jobStamp(job), end = jobEndStamp(job);
        lat[i] = st > t0 ? st - t0 : 0;
        if (endlat)
            endlat[i] = t1 > end ? t1 - end : 0;
        virJobDestroy(job);
    }
}

static void startLatency(uint64_t *lat, uint64_t *endlat, size_t n)
{
    startLatencyGap(lat, endlat, n, 0);
}

/* The floor of "a process ended -> its waiter knows": a forked child
 * stamps the clock into shared memory and exits; the parent, blocked in
 * waitpid, takes its own clock when that returns. */
static void exitWaitLatency(uint64_t *lat, size_t n)
{
    volatile uint64_t *stamp = mmap(NULL, sizeof(uint64_t), PROT_READ | PROT_WRITE,
                                    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (stamp == MAP_FAILED)
        benchDie("cannot map a shared page");
    for (size_t i = 0; i < n; i++) {
        int st;
        *stamp = 0;
        pid_t pid = fork();
        if (pid == 0) {
            *stamp = benchNow();
            _exit(0);
        }
        if (pid < 0)
            benchDie("fork failed");
        while (waitpid(pid, &st, 0) < 0)
            ;
        uint64_t t = benchNow();
        lat[i] = t > *stamp ? t - *stamp : 0;
    }
    munmap((void *)stamp, sizeof(uint64_t));
}

static void spawnLatency(uint64_t *lat, size_t n)
{
    char *argv[] = { benchSibling("trivial-static"), NULL };
    for (size_t i = 0; i < n; i++)
        lat[i] = benchSpawnWait(argv, NULL);
}

static void forkExecLatency(uint64_t *lat, size_t n)
{
    char *path = benchSibling("trivial-static");
    char *argv[] = { path, NULL };
    for (size_t i = 0; i < n; i++) {
        int st;
        uint64_t t0 = benchNow();
        pid_t pid = fork();
        if (pid == 0) {
            execve(path, argv, environ);
            _exit(127);
        }
        if (pid < 0)
            benchDie("fork failed");
        while (waitpid(pid, &st, 0) < 0)
            ;
        lat[i] = benchNow() - t0;
    }
}

/* The floor of a pre-started helper: tests/fork-server forks a child per
 * request byte, and the child sends its clock; request -> child running. */
static void forkServerLatency(uint64_t *lat, size_t n)
{
    int in, out, st;
    pid_t pid = benchSpawnHelper("fork-server", NULL, &in, &out);

    for (size_t i = 0; i < n; i++) {
        uint64_t stamp, t0 = benchNow();
        if (write(in, "x", 1) != 1 || read(out, &stamp, sizeof(stamp)) != sizeof(stamp))
            benchDie("fork-server did not answer");
        lat[i] = stamp > t0 ? stamp - t0 : 0;
    }
    close(in);
    close(out);
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
}

static double ms(uint64_t ns)
{
    return (double)ns / 1e6;
}

static void latencyLines(const char *name, uint64_t *v, const char *bname, uint64_t *b,
                         size_t n, const char *t50, const char *t99)
{
    char a[96], c[96];
    uint64_t v50 = benchPercentile(v, n, 50), v99 = benchPercentile(v, n, 99);
    uint64_t b50 = benchPercentile(b, n, 50), b99 = benchPercentile(b, n, 99);
    snprintf(a, sizeof(a), "%s-p50", name);
    snprintf(c, sizeof(c), "%s-p50", bname);
    benchLine(a, ms(v50), "ms", c, ms(b50), t50);
    snprintf(a, sizeof(a), "%s-p99", name);
    snprintf(c, sizeof(c), "%s-p99", bname);
    benchLine(a, ms(v99), "ms", c, ms(b99), t99);
}

static void benchStart(void)
{
    static uint64_t lat[SAMPLES], base[SAMPLES], big[SAMPLES], fe[SAMPLES], febig[SAMPLES];
    static uint64_t basebig[SAMPLES], fs[SAMPLES], endlat[SAMPLES], exitw[SAMPLES];
    uint64_t warm[20];

    startLatency(warm, NULL, 20);
    spawnLatency(warm, 20);
    startLatency(lat, endlat, SAMPLES);
    spawnLatency(base, SAMPLES);
    forkExecLatency(fe, SAMPLES);
    forkServerLatency(fs, SAMPLES);
    exitWaitLatency(exitw, SAMPLES);
    latencyLines("job-start", lat, "spawn-exec-wait", base, SAMPLES, NULL, NULL);
    latencyLines("job-start", lat, "fork-server-child-running", fs, SAMPLES,
                 "<= 0.15 ms and ratio <= 1.3", NULL);
    latencyLines("job-end-to-wait", endlat, "child-exit-waitpid", exitw, SAMPLES,
                 "<= 0.1 ms", NULL);
    /* A job that comes after a pause (2 ms after the previous one ended),
     * as a daemon's usually do: its worker had time to get ready. The
     * back-to-back figures above include what the previous job's end
     * left to do. */
    static uint64_t idle[SAMPLES];
    startLatencyGap(idle, NULL, SAMPLES, 2000000);
    latencyLines("job-start-after-pause", idle, "fork-server-child-running", fs, SAMPLES,
                 NULL, NULL);

    /* Again with 1 GiB of touched heap in the caller. */
    size_t sz = 1ull << 30;
    char *heap = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (heap == MAP_FAILED)
        benchDie("cannot map 1 GiB");
    memset(heap, 0x5a, sz);
    startLatency(big, NULL, SAMPLES);
    forkExecLatency(febig, SAMPLES / 6); /* ~40 ms each */
    spawnLatency(basebig, SAMPLES);
    /* The heap stays touched and mapped until here. */
    if (heap[sz / 2] != 0x5a)
        benchDie("heap changed");
    munmap(heap, sz);
    latencyLines("job-start-1GiB-caller", big, "job-start", lat, SAMPLES,
                 "ratio <= 1.3", NULL);
    benchLine("fork-exec-wait-1GiB-caller-p50", ms(benchPercentile(febig, SAMPLES / 6, 50)),
              "ms", "fork-exec-wait-p50", ms(benchPercentile(fe, SAMPLES, 50)), NULL);
    latencyLines("spawn-exec-wait-1GiB-caller", basebig, "spawn-exec-wait", base, SAMPLES,
                 NULL, NULL);
}

/* ---- jobs per second ---- */

static void benchThroughput(void)
{
    virJobPtr ring[INFLIGHT];
    pid_t pids[INFLIGHT];
    char *argv[] = { benchSibling("trivial-static"), NULL };
    const uint64_t span = 2000000000ull;
    unsigned long njobs = 0, nspawn = 0;

    uint64_t t0 = benchNow(), end = t0 + span;
    for (size_t i = 0; i < INFLIGHT; i++)
        ring[i] = startJob(&opStamp, NULL, NULL);
    for (size_t i = 0;; i = (i + 1) % INFLIGHT) {
        endJob(ring[i], VIR_JOB_COMPLETE);
        virJobDestroy(ring[i]);
        ring[i] = NULL;
        njobs++;
        if (benchNow() >= end)
            break;
        ring[i] = startJob(&opStamp, NULL, NULL);
    }
    for (size_t i = 0; i < INFLIGHT; i++) {
        if (ring[i]) {
            endJob(ring[i], VIR_JOB_COMPLETE);
            virJobDestroy(ring[i]);
            njobs++;
        }
    }
    double jps = (double)njobs / ((double)(benchNow() - t0) / 1e9);

    t0 = benchNow();
    end = t0 + span;
    for (size_t i = 0; i < INFLIGHT; i++)
        if (posix_spawn(&pids[i], argv[0], NULL, NULL, argv, environ) != 0)
            benchDie("posix_spawn failed");
    for (size_t i = 0;; i = (i + 1) % INFLIGHT) {
        int st;
        while (waitpid(pids[i], &st, 0) < 0)
            ;
        pids[i] = 0;
        nspawn++;
        if (benchNow() >= end)
            break;
        if (posix_spawn(&pids[i], argv[0], NULL, NULL, argv, environ) != 0)
            benchDie("posix_spawn failed");
    }
    for (size_t i = 0; i < INFLIGHT; i++) {
        int st;
        if (pids[i]) {
            while (waitpid(pids[i], &st, 0) < 0)
                ;
            nspawn++;
        }
    }
    double sps = (double)nspawn / ((double)(benchNow() - t0) / 1e9);
    benchLine("jobs-per-second", jps, "/s", "spawn-wait-per-second", sps, NULL);
}

/* ---- progress updates ---- */

typedef struct {
    char text[128];
} progressResult;

static int progressCommit(virJobPtr job, void *opaque, const void *result, size_t len)
{
    progressResult *r = opaque;
    (void)job;
    size_t n = len < sizeof(r->text) - 1 ? len : sizeof(r->text) - 1;
    memcpy(r->text, result, n);
    r->text[n] = '\0';
    return 0;
}

static const virSupOp opProgress = {
    .name = "bench.progress", .type = VIR_JOB_BOUNDED, .commit = progressCommit,
};

static void *drainFd(void *arg)
{
    int fd = *(int *)arg;
    char buf[65536];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n == 0 || (n > 0 && buf[n - 1] == 'q'))
            break; /* the data is all 'p': 'q' ends it */
        if (n < 0 && errno != EINTR)
            break;
    }
    return NULL;
}

/* ns per 128-byte write() on @wfd while a thread drains @rfd; best of 3. */
static double kernelWrite(int rfd, int wfd, unsigned long n)
{
    char msg[128];
    pthread_t th;
    double best = 1e18;
    memset(msg, 'p', sizeof(msg));
    if (pthread_create(&th, NULL, drainFd, &rfd) != 0)
        benchDie("pthread_create failed");
    for (int round = 0; round < 3; round++) {
        uint64_t t0 = benchNow();
        for (unsigned long i = 0; i < n; i++)
            if (write(wfd, msg, sizeof(msg)) != (ssize_t)sizeof(msg))
                benchDie("write failed");
        double r = (double)(benchNow() - t0) / (double)n;
        if (r < best)
            best = r;
    }
    if (write(wfd, "q", 1) != 1)
        benchDie("write failed");
    pthread_join(th, NULL);
    close(rfd);
    close(wfd);
    return best;
}

static void benchProgress(void)
{
    progressResult res;
    double bytes = 0, rel = 0, abs_ = 0;
    int p[2], s[2];

    memset(&res, 0, sizeof(res));
    virJobPtr job = startJob(&opProgress, "n=1000000", &res);
    endJob(job, VIR_JOB_COMPLETE);
    virJobDestroy(job);
    if (sscanf(res.text, "bytes=%lf rel=%lf abs=%lf", &bytes, &rel, &abs_) != 3)
        benchDie("bench.progress returned no figures");

    if (pipe2(p, O_CLOEXEC) < 0 || socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, s) < 0)
        benchDie("cannot create a pipe or a socket pair");
    double pw = kernelWrite(p[0], p[1], 200000);
    double dg = kernelWrite(s[0], s[1], 200000);
    benchLine("virWorkerJobUpdateBytes", bytes, "ns", "pipe-write-128B", pw, "< 10 ns");
    benchLine("virWorkerJobUpdateRel", rel, "ns", "unix-dgram-send-128B", dg, "< 10 ns");
    benchLine("virWorkerJobUpdateAbs", abs_, "ns", "pipe-write-128B", pw, "< 10 ns");
}

/* ---- virJobGetInfo ---- */

static volatile char dispatchSelector = DISPATCH_ALLOW;
static volatile sig_atomic_t trappedSyscalls;
static volatile long trappedNr = -1;

static void onSigsys(int sig, siginfo_t *si, void *ctx)
{
    (void)sig;
    (void)ctx;
    /* Let the rest (and this handler's return) through. The trapped call
     * itself is skipped: the run only tells whether there was one. */
    dispatchSelector = DISPATCH_ALLOW;
    trappedSyscalls++;
    trappedNr = si->si_syscall;
}

/* How many system calls @n calls of virJobGetInfo made on this thread:
 * 0, 1 (at least one, its number in trappedNr), or -1 when syscall user
 * dispatch is not available. */
static int getInfoSyscalls(virJobPtr job, unsigned long n)
{
    struct sigaction sa, old;
    virJobInfo info;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = onSigsys;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSYS, &sa, &old);
    if (prctl(PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_ON, 0, 0,
              &dispatchSelector) < 0) {
        sigaction(SIGSYS, &old, NULL);
        return -1;
    }
    /* Control: one real system call must be trapped, or the check means
     * nothing. */
    dispatchSelector = DISPATCH_BLOCK;
    (void)syscall(SYS_getppid);
    dispatchSelector = DISPATCH_ALLOW;
    bool works = trappedSyscalls == 1;
    trappedSyscalls = 0;
    trappedNr = -1;
    dispatchSelector = DISPATCH_BLOCK;
    for (unsigned long i = 0; i < n; i++)
        virJobGetInfo(job, &info);
    dispatchSelector = DISPATCH_ALLOW;
    prctl(PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_OFF, 0, 0, 0);
    sigaction(SIGSYS, &old, NULL);
    if (!works)
        return -1;
    return trappedSyscalls ? 1 : 0;
}

static void benchGetInfo(void)
{
    const unsigned long n = 1000000;
    virJobInfo info;
    double best = 1e18, pbest = 1e18;
    char path[64], buf[1024];

    virJobPtr job = startJob(&opSleep, NULL, NULL);
    waitStamped(job);
    for (int round = 0; round < 5; round++) {
        uint64_t t0 = benchNow();
        for (unsigned long i = 0; i < n; i++)
            virJobGetInfo(job, &info);
        double r = (double)(benchNow() - t0) / (double)n;
        if (r < best)
            best = r;
    }
    int sc = getInfoSyscalls(job, 100000);

    pid_t pid = benchWorkerPid(job);
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        benchDie("cannot open the worker's /proc/PID/stat");
    for (int round = 0; round < 3; round++) {
        uint64_t t0 = benchNow();
        for (int i = 0; i < 20000; i++)
            if (pread(fd, buf, sizeof(buf), 0) <= 0)
                benchDie("cannot read /proc/PID/stat");
        double r = (double)(benchNow() - t0) / 20000.0;
        if (r < pbest)
            pbest = r;
    }
    close(fd);
    virJobCancel(job);
    endJob(job, VIR_JOB_CANCELLED);
    virJobDestroy(job);

    benchLine("virJobGetInfo", best, "ns", "proc-pid-stat-pread", pbest, "< 50 ns");
    if (sc < 0)
        printf("virJobGetInfo-syscalls: not checked (syscall user dispatch unavailable)\n");
    else if (sc == 0)
        printf("virJobGetInfo-syscalls: 0 in 100000 calls (syscall user dispatch; "
               "a control getppid() was trapped)\n");
    else
        printf("virJobGetInfo-syscalls: made system call %ld (syscall user dispatch)\n",
               trappedNr);
}

/* ---- cancel and crash detection ---- */

static volatile sig_atomic_t termSeen;

static void onTerm(int sig)
{
    (void)sig;
    termSeen = 1;
}

/* SIGTERM to a forked child, until waitpid returns. @handler: the child
 * cooperates as bench.sleep does (it blocks SIGTERM, waits in sigsuspend
 * until its handler has set a flag, then _exits: the floor of a cancel
 * that lets the job's code see it); otherwise the signal's default action
 * ends it in pause(). */
static void killWaitLatency(uint64_t *lat, size_t n, bool handler)
{
    for (size_t i = 0; i < n; i++) {
        int p[2], st;
        char c;
        if (pipe2(p, O_CLOEXEC) < 0)
            benchDie("pipe failed");
        pid_t pid = fork();
        if (pid == 0 && handler) {
            struct sigaction sa;
            sigset_t term, old;
            memset(&sa, 0, sizeof(sa));
            sa.sa_handler = onTerm;
            sigaction(SIGTERM, &sa, NULL);
            sigemptyset(&term);
            sigaddset(&term, SIGTERM);
            sigprocmask(SIG_BLOCK, &term, &old);
            (void)!write(p[1], "r", 1);
            sigdelset(&old, SIGTERM);
            while (!termSeen)
                sigsuspend(&old);
            _exit(3);
        }
        if (pid == 0) {
            (void)!write(p[1], "r", 1);
            for (;;)
                pause();
        }
        if (pid < 0)
            benchDie("fork failed");
        close(p[1]);
        if (read(p[0], &c, 1) != 1)
            benchDie("child did not start");
        close(p[0]);
        uint64_t t0 = benchNow();
        kill(pid, SIGTERM);
        while (waitpid(pid, &st, 0) < 0)
            ;
        lat[i] = benchNow() - t0;
    }
}

/* virJobCancel -> virJobWait returns CANCELLED, for bench.sleep jobs
 * cancelled @after_ns after their code started. */
static void cancelLatency(uint64_t *lat, size_t n, uint64_t after_ns)
{
    for (size_t i = 0; i < n; i++) {
        virJobPtr job = startJob(&opSleep, NULL, NULL);
        waitStamped(job);
        if (after_ns)
            benchSleepNs(after_ns);
        uint64_t t0 = benchNow();
        if (virJobCancel(job) != 0)
            benchDie("virJobCancel failed");
        endJob(job, VIR_JOB_CANCELLED);
        lat[i] = benchNow() - t0;
        virJobDestroy(job);
    }
}

/* bench.crash's crash (its last stamp) -> virJobWait returns FAILED.
 * @params: NULL (it crashes as its code starts) or "after_us=N". */
static void crashLatency(uint64_t *lat, size_t n, const char *params)
{
    for (size_t i = 0; i < n; i++) {
        virJobPtr job = startJob(&opCrash, params, NULL);
        endJob(job, VIR_JOB_FAILED);
        uint64_t t1 = benchNow(), st = jobStamp(job);
        lat[i] = t1 > st ? t1 - st : 0;
        virJobDestroy(job);
    }
}

static void benchCancelCrash(void)
{
    enum { N = 200 };
    static uint64_t cancel[N], crash[N], base[N], base2[N], coop[N], settled[N];
    static uint64_t crashLate[N];

    cancelLatency(cancel, N, 0);
    /* The same cancel once the job has run 5 ms: the ready worker that
     * replaces the one this job took has been forked and set up by then.
     * Above, that set-up runs on the machine's CPUs beside the cancel. */
    cancelLatency(settled, N, 5000000);
    crashLatency(crash, N, NULL);
    crashLatency(crashLate, N, "after_us=5000");
    killWaitLatency(base, N, false);
    killWaitLatency(coop, N, true);
    memcpy(base2, base, sizeof(base));
    latencyLines("cancel", cancel, "kill-waitpid", base, N, NULL, "<= 1 ms and ratio <= 2");
    latencyLines("cancel", cancel, "kill-handler-waitpid", coop, N, NULL, NULL);
    latencyLines("cancel-after-5ms", settled, "kill-waitpid", base, N, NULL, NULL);
    latencyLines("crash-detect", crash, "kill-waitpid", base2, N, NULL, "<= 1 ms and ratio <= 2");
    latencyLines("crash-detect-after-5ms", crashLate, "kill-waitpid", base2, N, NULL, NULL);
}

int main(void)
{
    virSupGroupConfig cfg;

    benchRaiseNofile();
    char *rundir = benchRunDir();
    memset(&cfg, 0, sizeof(cfg));
    cfg.max_workers = 64;
    if (!(group = virSupGroupNew(&cfg))) {
        fprintf(stderr, "bench: cannot start the supervisor: %s\n", virGetLastErrorMessage());
        return 1;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    benchStart();
    benchThroughput();
    benchProgress();
    benchGetInfo();
    benchCancelCrash();
    virSupGroupClose(group);
    rmdir(rundir);
    return 0;
}
