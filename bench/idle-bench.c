/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * idle-bench: 1,000 live jobs that sleep (bench.sleep: sigsuspend until
 * cancelled), beside a plain parent with 1,000 forked pause() children
 * (build/tests/pause-tree, watched through pidfds), in the same run:
 *
 *  - wake-ups per second and CPU of the supervisor (reaper thread, spawn
 *    helper) while nothing happens, against the plain parent;
 *  - memory per worker (PSS, /proc/PID/smaps_rollup) against a forked
 *    pause() child;
 *  - a full `virtsup-stat --json` of the 1,000 jobs against `ps -e` over the
 *    same processes and against `virtsup-stat --json` with no job (whole
 *    programs, spawned and waited for by a small process forked first, see
 *    statRunnerStart); reading 1,000 /proc/PID/stat files in-process is
 *    shown beside them.
 *
 * Needs VIRTSUP_WORKER (the test worker) and VIRTSUP_BUILDDIR (make bench
 * sets both).
 */
#include <dirent.h>
#include <signal.h>
#include <sys/mman.h>

#include "util/internal.h"
#include "supervisor/supervisor.h"
#include "benchutil.h"
#include "benchjob.h"

#define NJOBS 1000
#define IDLE_NS 5000000000ull

static const virSupOp opSleep = { .name = "bench.sleep", .type = VIR_JOB_BOUNDED };

static virJobPtr jobs[NJOBS];
static pid_t workers[NJOBS];
static pid_t plain[NJOBS];

typedef struct {
    unsigned long long switches;   /* voluntary + involuntary */
    unsigned long long cpu_ticks;  /* utime + stime */
} procUse;

/* Context switches and CPU ticks of /proc/@base (a process or a task). */
static procUse readUse(const char *base)
{
    procUse u = { 0, 0 };
    char path[128], line[512];
    snprintf(path, sizeof(path), "%s/status", base);
    FILE *f = fopen(path, "re");
    while (f && fgets(line, sizeof(line), f)) {
        unsigned long long v;
        if (sscanf(line, "voluntary_ctxt_switches: %llu", &v) == 1 ||
            sscanf(line, "nonvoluntary_ctxt_switches: %llu", &v) == 1)
            u.switches += v;
    }
    if (f)
        fclose(f);
    snprintf(path, sizeof(path), "%s/stat", base);
    f = fopen(path, "re");
    if (f && fgets(line, sizeof(line), f)) {
        char *p = strrchr(line, ')');
        unsigned long long ut = 0, st = 0;
        /* after ")": state ppid pgrp session tty tpgid flags minflt cminflt
         * majflt cmajflt utime stime */
        if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
                        &ut, &st) == 2)
            u.cpu_ticks = ut + st;
    }
    if (f)
        fclose(f);
    return u;
}

static procUse pidUse(pid_t pid)
{
    char base[64];
    snprintf(base, sizeof(base), "/proc/%d", (int)pid);
    return readUse(base);
}

/* Our threads other than the main one: the supervisor's reaper. */
static procUse otherThreadsUse(void)
{
    procUse sum = { 0, 0 };
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    while (d && (e = readdir(d))) {
        char base[300];
        if (e->d_name[0] == '.' || atoi(e->d_name) == getpid())
            continue;
        snprintf(base, sizeof(base), "/proc/self/task/%s", e->d_name);
        procUse u = readUse(base);
        sum.switches += u.switches;
        sum.cpu_ticks += u.cpu_ticks;
    }
    if (d)
        closedir(d);
    return sum;
}

static unsigned long long pssKiB(pid_t pid)
{
    char path[64], line[256];
    unsigned long long kib = 0;
    snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)pid);
    FILE *f = fopen(path, "re");
    while (f && fgets(line, sizeof(line), f))
        if (sscanf(line, "Pss: %llu kB", &kib) == 1)
            break;
    if (f)
        fclose(f);
    return kib;
}

/* The spawn helper's children that are no job's worker: its ready
 * workers (forked and sandboxed, waiting for a job). Up to @max. */
static size_t readyWorkers(pid_t helper, pid_t *out, size_t max)
{
    char path[96];
    size_t n = 0;
    int pid;
    snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)helper, (int)helper);
    FILE *f = fopen(path, "re");
    while (f && n < max && fscanf(f, "%d", &pid) == 1) {
        bool job = false;
        for (int i = 0; i < NJOBS && !job; i++)
            job = workers[i] == (pid_t)pid;
        if (!job)
            out[n++] = (pid_t)pid;
    }
    if (f)
        fclose(f);
    return n;
}

static double cpuNow(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Wait until job @i runs its code (its stamp is visible); die if it ended. */
static void waitRunning(virJobPtr job, int i)
{
    uint64_t done = 0, end = benchNow() + 60000000000ull;
    int state = VIR_JOB_RUNNING;
    while (virSupJobGetRawStats(job, &state, NULL, NULL, &done, NULL) == 0 && !done) {
        if (state != VIR_JOB_RUNNING || benchNow() > end) {
            virErrorPtr e = virJobGetError(job);
            fprintf(stderr, "bench: job %d of %d did not start: %s\n", i, NJOBS,
                    e && e->message ? e->message : "not running after 60 s");
            exit(1);
        }
        benchSleepNs(100000);
    }
}

/* Start pause-tree NJOBS; returns its pid, its stdin in *@in. */
static pid_t startPlain(int *in)
{
    char nbuf[16];
    int out;

    snprintf(nbuf, sizeof(nbuf), "%d", NJOBS);
    pid_t pid = benchSpawnHelper("pause-tree", nbuf, in, &out);
    FILE *f = fdopen(out, "re");
    char line[64];
    size_t n = 0;
    while (f && fgets(line, sizeof(line), f)) {
        if (STREQ(line, "ready\n"))
            break;
        if (n < NJOBS)
            plain[n++] = (pid_t)atoi(line);
    }
    if (f)
        fclose(f);
    if (n != NJOBS)
        benchDie("pause-tree did not start its children");
    return pid;
}

/* How many times @needle occurs in the file @path. */
static size_t countInFile(const char *path, const char *needle)
{
    size_t n = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) < 0 || sb.st_size == 0) {
        if (fd >= 0)
            close(fd);
        return 0;
    }
    char *buf = malloc((size_t)sb.st_size + 1);
    ssize_t r = buf ? read(fd, buf, (size_t)sb.st_size) : -1;
    close(fd);
    if (r <= 0) {
        free(buf);
        return 0;
    }
    buf[r] = '\0';
    for (char *p = buf; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    free(buf);
    return n;
}

/* virtsup-stat runs are about a millisecond each: enough of them that the
 * median holds still on a shared machine; ps and the /proc reads 10. */
enum { STAT_RUNS = 31, PS_RUNS = 10 };

/* The programs timed whole (virtsup-stat, ps) are spawned by a runner
 * forked before the supervisor starts, as from a shell: spawned from this
 * process, each would copy its descriptor table and close at exec the
 * 3,000 descriptors of the 1,000 jobs (0.3-0.4 ms a spawn on the machine
 * of docs/PERFORMANCE.md), which the runs with no job do not pay. For
 * each request byte ('s' virtsup-stat --json to /dev/null, 'o' the same
 * to @statOut, 'p' ps -e) it spawns the program, waits for it and
 * answers with its time in ns (8 bytes); it exits at end of input. */
static int runnerReq = -1, runnerRep = -1;
static pid_t runnerPid = -1;
static char statOut[PATH_MAX];

static void statArgv(char *statpath, size_t len, char **argv)
{
    const char *bd = getenv("VIRTSUP_BUILDDIR");
    snprintf(statpath, len, "%s/virtsup-stat", bd ? bd : "build");
    argv[0] = statpath;
    argv[1] = (char *)"--json";
    argv[2] = NULL;
}

static char *psArgv[] = { (char *)"/usr/bin/ps", (char *)"-e", (char *)"-o",
                          (char *)"pid,stat,etimes,time,comm", NULL };

static void statRunner(int in, int out)
{
    char statpath[PATH_MAX], *sargv[3], c;
    ssize_t n;

    statArgv(statpath, sizeof(statpath), sargv);
    while ((n = read(in, &c, 1)) == 1 || (n < 0 && errno == EINTR)) {
        if (n != 1)
            continue;
        uint64_t ns = c == 'p' ? benchSpawnWait(psArgv, "/dev/null") :
                      benchSpawnWait(sargv, c == 'o' ? statOut : "/dev/null");
        if (write(out, &ns, sizeof(ns)) != (ssize_t)sizeof(ns))
            _exit(1);
    }
    _exit(0);
}

/* Fork the runner; before any thread or job exists. */
static void statRunnerStart(const char *rundir)
{
    int req[2], rep[2];

    snprintf(statOut, sizeof(statOut), "%s/stat.json", rundir);
    if (pipe2(req, O_CLOEXEC) < 0 || pipe2(rep, O_CLOEXEC) < 0)
        benchDie("cannot make the runner's pipes");
    if ((runnerPid = fork()) < 0)
        benchDie("cannot fork the runner");
    if (runnerPid == 0) {
        close(req[1]);
        close(rep[0]);
        statRunner(req[0], rep[1]);
    }
    close(req[0]);
    close(rep[1]);
    runnerReq = req[1];
    runnerRep = rep[0];
}

/* Have the runner time one run of @what ('s', 'o' or 'p'), in ns. */
static uint64_t statRun(char what)
{
    uint64_t ns;
    if (write(runnerReq, &what, 1) != 1 || read(runnerRep, &ns, sizeof(ns)) != (ssize_t)sizeof(ns))
        benchDie("the runner of virtsup-stat failed");
    return ns;
}

static void statRunnerStop(void)
{
    close(runnerReq);
    close(runnerRep);
    while (waitpid(runnerPid, NULL, 0) < 0 && errno == EINTR)
        ;
}

/* virtsup-stat --json while the supervisor runs no job: the whole
 * process's cost without jobs, the baseline of the 1,000-job run. */
static double statNoJobs(void)
{
    uint64_t t[STAT_RUNS];
    for (int i = 0; i < STAT_RUNS; i++)
        t[i] = statRun('s');
    return (double)benchPercentile(t, STAT_RUNS, 50) / 1e6;
}

static void benchScan(double stat0)
{
    uint64_t stat[STAT_RUNS], ps[PS_RUNS], procs[PS_RUNS];

    statRun('o');
    size_t seen = countInFile(statOut, "bench.sleep");
    unlink(statOut);
    if (seen < NJOBS) {
        fprintf(stderr, "bench: virtsup-stat --json showed %zu of %d jobs\n", seen, NJOBS);
        exit(1);
    }
    bool haveps = access(psArgv[0], X_OK) == 0;
    for (int i = 0; i < STAT_RUNS; i++) {
        stat[i] = statRun('s');
        if (i >= PS_RUNS)
            continue;
        ps[i] = haveps ? statRun('p') : 0;
        uint64_t t0 = benchNow();
        for (int j = 0; j < NJOBS; j++) {
            char path[64], buf[1024];
            snprintf(path, sizeof(path), "/proc/%d/stat", (int)workers[j]);
            int fd = open(path, O_RDONLY | O_CLOEXEC);
            if (fd < 0 || read(fd, buf, sizeof(buf)) <= 0)
                benchDie("cannot read a worker's /proc/PID/stat");
            close(fd);
        }
        procs[i] = benchNow() - t0;
    }
    double s50 = (double)benchPercentile(stat, STAT_RUNS, 50) / 1e6;
    double p50 = (double)benchPercentile(ps, PS_RUNS, 50) / 1e6;
    double r50 = (double)benchPercentile(procs, PS_RUNS, 50) / 1e6;
    if (haveps)
        benchLine("virtsup-stat-json-1000-jobs", s50, "ms", "ps-e-1000-processes", p50, NULL);
    benchLine("virtsup-stat-json-1000-jobs", s50, "ms", "read-1000-proc-pid-stat", r50, NULL);
    benchLine("virtsup-stat-json-1000-jobs", s50, "ms", "virtsup-stat-json-0-jobs", stat0,
              "ratio <= 2");
}

int main(void)
{
    virSupGroupConfig cfg;
    virSupJobParams p;
    int plainIn = -1;

    benchRaiseNofile();
    setvbuf(stdout, NULL, _IOLBF, 0);
    char *rundir = benchRunDir();
    statRunnerStart(rundir);
    memset(&cfg, 0, sizeof(cfg));
    cfg.max_workers = NJOBS;
    virSupGroup *g = virSupGroupNew(&cfg);
    if (!g) {
        fprintf(stderr, "bench: cannot start the supervisor: %s\n", virGetLastErrorMessage());
        return 1;
    }
    pid_t plainPid = startPlain(&plainIn);
    double stat0 = statNoJobs();

    memset(&p, 0, sizeof(p));
    p.op = &opSleep;
    p.target = "bench";
    /* All at once: the supervisor queues what the spawn helper's socket
     * cannot take yet. */
    uint64_t t0 = benchNow();
    for (int i = 0; i < NJOBS; i++) {
        if (!(jobs[i] = virSupJobCreate(g, &p))) {
            fprintf(stderr, "bench: job %d: %s\n", i, virGetLastErrorMessage());
            return 1;
        }
    }
    for (int i = 0; i < NJOBS; i++)
        waitRunning(jobs[i], i);
    double startAll = (double)(benchNow() - t0) / 1e6;
    for (int i = 0; i < NJOBS; i++)
        if ((workers[i] = benchWorkerPid(jobs[i])) <= 0)
            benchDie("a running job has no worker pid");
    printf("start-1000-sleeping-jobs: %.1f ms (all running job code)\n", startAll);

    /* Let the start settle, then watch both sides idle over the same span. */
    benchSleepNs(1000000000ull);
    pid_t helper = virSupHelperPid();
    unsigned long long wsw0 = 0, wsw1 = 0, psw0 = 0, psw1 = 0;
    for (int i = 0; i < NJOBS; i++) {
        wsw0 += pidUse(workers[i]).switches;
        psw0 += pidUse(plain[i]).switches;
    }
    procUse h0 = pidUse(helper), r0 = otherThreadsUse(), b0 = pidUse(plainPid);
    double c0 = cpuNow();
    benchSleepNs(IDLE_NS);
    double c1 = cpuNow();
    procUse h1 = pidUse(helper), r1 = otherThreadsUse(), b1 = pidUse(plainPid);
    for (int i = 0; i < NJOBS; i++) {
        wsw1 += pidUse(workers[i]).switches;
        psw1 += pidUse(plain[i]).switches;
    }
    double secs = (double)IDLE_NS / 1e9;
    double tick = (double)sysconf(_SC_CLK_TCK);
    double supWake = (double)((r1.switches - r0.switches) + (h1.switches - h0.switches)) / secs;
    double plainWake = (double)(b1.switches - b0.switches) / secs;
    /* CPU: our process (the main thread sleeps) plus the helper, ms per s. */
    double supCpu = ((c1 - c0) + (double)(h1.cpu_ticks - h0.cpu_ticks) / tick) * 1000.0 / secs;
    double plainCpu = (double)(b1.cpu_ticks - b0.cpu_ticks) / tick * 1000.0 / secs;
    benchLine("idle-supervisor-wakeups-1000-jobs", supWake, "/s",
              "pidfd-epoll-parent-1000-children", plainWake, NULL);
    benchLine("idle-supervisor-cpu-1000-jobs", supCpu, "ms/s",
              "pidfd-epoll-parent-1000-children", plainCpu, NULL);
    benchLine("idle-worker-wakeups-1000-jobs", (double)(wsw1 - wsw0) / secs, "/s",
              "pause-children-1000", (double)(psw1 - psw0) / secs, NULL);

    unsigned long long wpss = 0, ppss = 0;
    for (int i = 0; i < NJOBS; i++) {
        wpss += pssKiB(workers[i]);
        ppss += pssKiB(plain[i]);
    }
    benchLine("worker-pss", (double)wpss / NJOBS, "KiB", "forked-pause-child-pss",
              (double)ppss / NJOBS, NULL);
    printf("spawn-helper-pss: %llu KiB\n", pssKiB(helper));
    double plainPss = (double)ppss / NJOBS, plainSw = (double)(psw1 - psw0) / secs;

    benchScan(stat0);
    statRunnerStop();

    close(plainIn);
    while (waitpid(plainPid, NULL, 0) < 0 && errno == EINTR)
        ;
    t0 = benchNow();
    for (int i = 0; i < NJOBS; i++)
        virJobCancel(jobs[i]);
    for (int i = 0; i < NJOBS; i++) {
        virJobInfo info = { 0, 0, 0, 0, 0 };
        int w = virJobWait(jobs[i], 60000);
        if (w != 0 || virJobGetInfo(jobs[i], &info) < 0 || info.state != VIR_JOB_CANCELLED) {
            virErrorPtr e = virJobGetError(jobs[i]);
            fprintf(stderr, "bench: sleeping job %d did not end CANCELLED (wait %d, state %d): "
                    "%s\n", i, w, info.state, e && e->message ? e->message : "");
            exit(1);
        }
        virJobDestroy(jobs[i]);
    }
    printf("cancel-1000-sleeping-jobs: %.1f ms (all CANCELLED and destroyed)\n",
           (double)(benchNow() - t0) / 1e6);

    /* The idle cost of the helper's ready workers (VIRTSUP_WORKER_POOL),
     * once no job runs: the helper forked them as the jobs ended (while
     * the 1,000 jobs ran, the first of them had taken the ready ones). */
    const char *pv = getenv("VIRTSUP_WORKER_POOL");
    size_t want = pv && *pv ? (size_t)atoi(pv) : 2;
    pid_t ready[16];
    size_t nready = 0;
    uint64_t until = benchNow() + 10000000000ull;
    for (int i = 0; i < NJOBS; i++)
        workers[i] = 0;
    while ((nready = readyWorkers(helper, ready, ARRAY_CARDINALITY(ready))) < want &&
           benchNow() < until)
        benchSleepNs(10000000);
    benchSleepNs(1000000000ull);
    nready = readyWorkers(helper, ready, ARRAY_CARDINALITY(ready));
    unsigned long long rsw0 = 0, rsw1 = 0, rpss = 0;
    for (size_t i = 0; i < nready; i++)
        rsw0 += pidUse(ready[i]).switches;
    benchSleepNs(IDLE_NS);
    for (size_t i = 0; i < nready; i++) {
        rsw1 += pidUse(ready[i]).switches;
        rpss += pssKiB(ready[i]);
    }
    printf("ready-workers: %zu\n", nready);
    if (nready) {
        benchLine("ready-worker-pss", (double)rpss / (double)nready, "KiB",
                  "forked-pause-child-pss", plainPss, NULL);
        benchLine("ready-workers-wakeups", (double)(rsw1 - rsw0) / secs, "/s",
                  "pause-children-1000", plainSw, NULL);
    }
    virSupGroupClose(g);
    rmdir(rundir);
    return 0;
}
