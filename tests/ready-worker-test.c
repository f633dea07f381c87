/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ready-worker-test.c: the spawn helper's ready workers (docs/WORKER.md).
 * After a job's end the helper forks a worker that enters its sandbox,
 * hands it to the supervisor and waits; the next job runs in exactly that
 * process, which holds nothing but its socket while it waits. Two are
 * kept by default, and the one that waited longest takes the next job. A
 * job sent to a ready worker that dies before reading it ends with it. A ready worker
 * killed while it waits costs nothing but itself: the next job still
 * runs, and a new one is forked. VIRTSUP_WORKER_POOL=0: none is kept.
 * And the namespace each worker lends its helper is not left in flight
 * in a socket: with more jobs running than a worker's descriptor limit,
 * a worker can still pass a descriptor. A job's parameters reach its
 * worker byte for byte, whether they travel inside the request (short
 * ones) or in a memfd, to a ready worker or to one forked for the job.
 */
#include <signal.h>

#include "jobtest.h"
#include "util/workerproto.h"

static const virSupOp opReportKeep = {
    .name = "test.report", .type = VIR_JOB_BOUNDED, .commit = jobKeepResult,
};

/* The helper's children, up to @max, into @out. */
static size_t helperChildren(pid_t helper, pid_t *out, size_t max)
{
    char path[96];
    size_t n = 0;
    int pid;
    snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)helper, (int)helper);
    FILE *f = fopen(path, "re");
    while (f && n < max && fscanf(f, "%d", &pid) == 1)
        out[n++] = (pid_t)pid;
    if (f)
        fclose(f);
    return n;
}

/* The helper's only child, once it has exactly one that is alive (no job
 * runs: that one is its ready worker); 0 if none within the timeout. */
static pid_t readyWorker(pid_t helper)
{
    pid_t kids[8];
    pid_t found = 0;
    (void)TEST_WAIT_UNTIL((helperChildren(helper, kids, 8) == 1 &&
                           testProcessAlive(kids[0]) && (found = kids[0]) > 0),
                          TEST_TIMEOUT_MS);
    return found;
}

/* The descriptors @pid holds, as /proc lists them. */
static int countFDs(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
    return testCountFDsIn(path);
}

/* The number after @key in the job's result; -1 if it is missing. */
static int resultInt(const char *key)
{
    const char *v = jobResultValue(key);
    return v ? atoi(v) : -1;
}

/* A number field of /proc/@pid/status (hexadecimal for the capability
 * sets), -1 if missing. */
static long long statusField(pid_t pid, const char *key)
{
    char path[64], line[256];
    long long v = -1;
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "re");
    size_t kl = strlen(key);
    while (f && fgets(line, sizeof(line), f))
        if (strncmp(line, key, kl) == 0)
            v = strtoll(line + kl, NULL, strncmp(key, "Cap", 3) == 0 ? 16 : 10);
    if (f)
        fclose(f);
    return v;
}

/* A group (max_workers 4) whose spawn helper keeps @pool ready workers
 * (VIRTSUP_WORKER_POOL, read when the group starts its supervisor; NULL:
 * the default). */
static virSupGroup *groupWithPool(const char *pool)
{
    virSupGroupConfig cfg = { .max_workers = 4 };
    if (pool)
        setenv("VIRTSUP_WORKER_POOL", pool, 1);
    virSupGroup *g = virSupGroupNew(&cfg);
    unsetenv("VIRTSUP_WORKER_POOL");
    assert_non_null(g);
    return g;
}

static void testReadyWorkerTakesJob(void **s)
{
    (void)s;
    virSupGroup *g = groupWithPool("1");

    virJobPtr a = startJob(g, &opSucceed, NULL);
    waitEnded(a);
    assert_int_equal(jobState(a), VIR_JOB_COMPLETE);
    pid_t helper = virSupHelperPid();
    assert_true(helper > 0);
    pid_t ready = readyWorker(helper);
    assert_true(ready > 0);
    /* Once it has loaded its own seccomp program (the last step of its
     * set-up: the helper runs under the first) it holds nothing but its
     * socket to the helper: no job's descriptor, no segment, not the
     * helper's socket; its capabilities are dropped. */
    assert_true(TEST_WAIT_UNTIL(statusField(ready, "Seccomp_filters:") == 2 &&
                                (geteuid() != 0 || countFDs(ready) == 1), TEST_TIMEOUT_MS));
    assert_int_equal(statusField(ready, "NoNewPrivs:"), 1);
    assert_int_equal(statusField(ready, "CapEff:"), 0);
    assert_int_equal(statusField(ready, "CapBnd:"), 0);

    /* The next job runs in that very process. */
    jobResult[0] = '\0';
    virJobPtr b = startJob(g, &opReportKeep, NULL);
    waitEnded(b);
    assert_int_equal(jobState(b), VIR_JOB_COMPLETE);
    int pid = resultInt("pid:");
    print_message("ready worker %d, the job ran in %d\n", (int)ready, pid);
    assert_int_equal(pid, ready);
    /* As a worker forked for its job would be: its own group, the
     * helper's child, only the control socket (fd 3) open. */
    assert_int_equal(resultInt("pgid:"), ready);
    assert_int_equal(resultInt("ppid:"), helper);
    assert_string_equal(jobResultValue("fds:"), "3");
    assert_string_equal(jobResultValue("dumpable:"), "0");
    assert_string_equal(jobResultValue("core:"), "0");

    /* And a new one waits for the job after it. */
    pid_t next = readyWorker(helper);
    assert_true(next > 0);
    assert_int_not_equal(next, ready);

    assert_int_equal(virJobDestroy(a), 0);
    assert_int_equal(virJobDestroy(b), 0);
    virSupGroupClose(g);
    assert_true(TEST_WAIT_UNTIL(!testProcessAlive(helper), TEST_TIMEOUT_MS));
    assert_false(testProcessAlive(next));
    assert_int_equal(testCountChildren(), 0);
}

/* A ready worker killed while it waits: nothing is reported for it, the
 * next job runs all the same (in a worker forked for it, or a new ready
 * one), and the helper forks a new ready worker. */
static void testReadyWorkerKilled(void **s)
{
    (void)s;
    virSupGroup *g = groupWithPool("1");

    virJobPtr a = startJob(g, &opSucceed, NULL);
    waitEnded(a);
    pid_t helper = virSupHelperPid();
    pid_t ready = readyWorker(helper);
    assert_true(ready > 0);
    assert_int_equal(kill(ready, SIGKILL), 0);
    /* Reaped by the helper. */
    assert_true(TEST_WAIT_UNTIL(testProcessState(ready) == 0 ||
                                !testProcessAlive(ready), TEST_TIMEOUT_MS));

    for (int i = 0; i < 3; i++) {
        jobResult[0] = '\0';
        virJobPtr b = startJob(g, &opReportKeep, NULL);
        waitEnded(b);
        assert_int_equal(jobState(b), VIR_JOB_COMPLETE);
        assert_int_not_equal(resultInt("pid:"), ready);
        assert_int_equal(virJobDestroy(b), 0);
    }
    pid_t next = readyWorker(helper);
    assert_true(next > 0);
    assert_int_not_equal(next, ready);
    assert_int_equal(virSupHelperPid(), helper);

    assert_int_equal(virJobDestroy(a), 0);
    virSupGroupClose(g);
    assert_true(TEST_WAIT_UNTIL(!testProcessAlive(helper), TEST_TIMEOUT_MS));
    assert_int_equal(testCountChildren(), 0);
}

/* The helper's live children, if there are exactly @n and no job runs
 * (its ready workers then), into @out; false if not so within the
 * timeout. */
static bool readyWorkers(pid_t helper, pid_t *out, size_t n)
{
    pid_t kids[8];
    return TEST_WAIT_UNTIL((helperChildren(helper, kids, 8) == n &&
                            testProcessAlive(kids[0]) && testProcessAlive(kids[n - 1]) &&
                            (memcpy(out, kids, n * sizeof(pid_t)), true)),
                           TEST_TIMEOUT_MS);
}

/* The default: two ready workers, both handed to the supervisor, which
 * sends each job straight to the one that waited longest. */
static void testPoolOfTwo(void **s)
{
    (void)s;
    virSupGroup *g = virSupGroupNew(NULL);
    assert_non_null(g);

    virJobPtr a = startJob(g, &opSucceed, NULL);
    waitEnded(a);
    pid_t helper = virSupHelperPid();
    pid_t ready[2];
    assert_true(readyWorkers(helper, ready, 2));
    /* The supervisor holds both: a socket, a pidfd and its /proc/PID/stat
     * each. */
    assert_true(TEST_WAIT_UNTIL(virSupTestHeldFDs() == 6, TEST_TIMEOUT_MS));

    pid_t ran[2];
    for (int i = 0; i < 2; i++) {
        jobResult[0] = '\0';
        virJobPtr b = startJob(g, &opReportKeep, NULL);
        waitEnded(b);
        assert_int_equal(jobState(b), VIR_JOB_COMPLETE);
        ran[i] = resultInt("pid:");
        assert_int_equal(resultInt("ppid:"), helper);
        assert_int_equal(virJobDestroy(b), 0);
    }
    print_message("ready workers %d and %d; the jobs ran in %d, then %d\n",
                  (int)ready[0], (int)ready[1], (int)ran[0], (int)ran[1]);
    /* Both in the two that were ready: the second, not one forked after
     * the first job's end, took the second job. */
    assert_true(ran[0] == ready[0] || ran[0] == ready[1]);
    assert_true(ran[1] == ready[0] || ran[1] == ready[1]);
    assert_int_not_equal(ran[0], ran[1]);

    assert_int_equal(virJobDestroy(a), 0);
    virSupGroupClose(g);
    assert_true(TEST_WAIT_UNTIL(!testProcessAlive(helper), TEST_TIMEOUT_MS));
    assert_int_equal(testCountChildren(), 0);
}

/* A job sent to a ready worker that dies before it reads it (stopped,
 * then killed): the job ends with that worker's death, and the next job
 * runs as usual. */
static void testReadyWorkerDiesWithJob(void **s)
{
    (void)s;
    setenv("VIRTSUP_WORKER_POOL", "1", 1);
    virSupGroup *g = virSupGroupNew(NULL);
    unsetenv("VIRTSUP_WORKER_POOL");
    assert_non_null(g);

    virJobPtr a = startJob(g, &opSucceed, NULL);
    waitEnded(a);
    pid_t helper = virSupHelperPid();
    pid_t ready = readyWorker(helper);
    assert_true(ready > 0);
    assert_true(TEST_WAIT_UNTIL(virSupTestHeldFDs() > 0, TEST_TIMEOUT_MS));
    assert_int_equal(kill(ready, SIGSTOP), 0);
    assert_true(TEST_WAIT_UNTIL(testProcessState(ready) == 'T', TEST_TIMEOUT_MS));

    virJobPtr b = startJob(g, &opSucceed, NULL);
    assert_int_equal(kill(ready, SIGKILL), 0);
    waitEnded(b);
    print_message("a job handed to a ready worker killed before it read it: %s\n",
                  jobErrorMessage(b));
    assert_int_equal(jobState(b), VIR_JOB_FAILED);
    assert_non_null(strstr(jobErrorMessage(b), "signal 9"));

    virJobPtr c = startJob(g, &opSucceed, NULL);
    waitEnded(c);
    assert_int_equal(jobState(c), VIR_JOB_COMPLETE);
    assert_int_equal(virSupHelperPid(), helper);

    assert_int_equal(virJobDestroy(a), 0);
    assert_int_equal(virJobDestroy(b), 0);
    assert_int_equal(virJobDestroy(c), 0);
    virSupGroupClose(g);
    assert_true(TEST_WAIT_UNTIL(!testProcessAlive(helper), TEST_TIMEOUT_MS));
    assert_int_equal(testCountChildren(), 0);
}

/* VIRTSUP_WORKER_POOL=0: each job's worker is forked for it, and once
 * the jobs are over the helper has no child at all. */
static void testPoolOff(void **s)
{
    (void)s;
    setenv("VIRTSUP_WORKER_POOL", "0", 1);
    virSupGroupConfig cfg = { .max_workers = 4 };
    virSupGroup *g = virSupGroupNew(&cfg);
    assert_non_null(g);

    for (int i = 0; i < 3; i++) {
        jobResult[0] = '\0';
        virJobPtr b = startJob(g, &opReportKeep, NULL);
        waitEnded(b);
        assert_int_equal(jobState(b), VIR_JOB_COMPLETE);
        assert_int_equal(virJobDestroy(b), 0);
    }
    pid_t helper = virSupHelperPid();
    pid_t kids[8];
    /* With ready workers kept, this never holds. */
    assert_true(TEST_WAIT_UNTIL(helperChildren(helper, kids, 8) == 0, TEST_TIMEOUT_MS));

    virSupGroupClose(g);
    unsetenv("VIRTSUP_WORKER_POOL");
    assert_true(TEST_WAIT_UNTIL(!testProcessAlive(helper), TEST_TIMEOUT_MS));
    assert_int_equal(testCountChildren(), 0);
}

/* A job with a deadline, handed to a ready worker while the supervisor
 * is idle (its timer disarmed, nothing else to wake its event loop): the
 * job's start arms the timer itself, and the deadline is kept. */
static void testReadyWorkerDeadline(void **s)
{
    (void)s;
    virSupGroup *g = groupWithPool("1");

    virJobPtr a = startJob(g, &opSucceed, NULL);
    waitEnded(a);
    assert_int_equal(virJobDestroy(a), 0);
    pid_t helper = virSupHelperPid();
    pid_t ready = readyWorker(helper);
    assert_true(ready > 0);
    /* The supervisor holds it: the next job goes straight to it. */
    assert_true(TEST_WAIT_UNTIL(virSupTestHeldFDs() > 0, TEST_TIMEOUT_MS));

    virSupJobParams p;
    memset(&p, 0, sizeof(p));
    p.op = &opHang;
    p.target = "unit";
    p.deadline_ms = 300;
    virJobPtr b = virSupJobCreate(g, &p);
    assert_non_null(b);
    waitEnded(b);
    assert_int_equal(jobState(b), VIR_JOB_FAILED);
    assert_string_equal(jobErrorMessage(b), "timed out after 0.3 s");
    assert_false(testProcessAlive(ready));
    assert_int_equal(virJobDestroy(b), 0);
    virSupGroupClose(g);
    assert_true(TEST_WAIT_UNTIL(!testProcessAlive(helper), TEST_TIMEOUT_MS));
    assert_int_equal(testCountChildren(), 0);
}

/* The result test.succeed echoed: the parameters as the worker got them. */
static unsigned char echoed[64 * 1024];
static size_t echoedLen;
static int keepEcho(virJobPtr job, void *opaque, const void *res, size_t len)
{
    (void)job;
    (void)opaque;
    echoedLen = len <= sizeof(echoed) ? len : 0;
    if (echoedLen)
        memcpy(echoed, res, len);
    return 0;
}

static const virSupOp opSucceedEcho = {
    .name = "test.succeed", .type = VIR_JOB_BOUNDED, .commit = keepEcho,
};

/* Parameters of every length around the inline limit (inside the SPAWN
 * record up to VIR_PROTO_PARAMS_INLINE_MAX bytes, a memfd past it),
 * binary, NULs included: each arrives whole and unchanged, in a ready
 * worker (the default) and in one forked for its job (no pool). */
static void testParamsEveryLength(void **s)
{
    (void)s;
    const size_t lens[] = { 1, 2, VIR_PROTO_PARAMS_INLINE_MAX - 1,
                            VIR_PROTO_PARAMS_INLINE_MAX, VIR_PROTO_PARAMS_INLINE_MAX + 1,
                            VIR_PROTO_PARAMS_INLINE_MAX * 3, 60000 };
    static unsigned char params[60000];
    const char *pools[] = { NULL, "0" };

    for (size_t k = 0; k < ARRAY_CARDINALITY(pools); k++) {
        virSupGroup *g = groupWithPool(pools[k]);
        for (size_t i = 0; i < ARRAY_CARDINALITY(lens); i++) {
            size_t len = lens[i];
            assert_true(len <= sizeof(params));
            for (size_t j = 0; j < len; j++)
                params[j] = (unsigned char)((j * 131 + len + k) % 251);
            params[0] = '\0';
            params[len - 1] = 0xff;
            virSupJobParams p;
            memset(&p, 0, sizeof(p));
            p.op = &opSucceedEcho;
            p.target = "unit";
            p.params = params;
            p.paramslen = len;
            echoedLen = 0;
            virJobPtr job = virSupJobCreate(g, &p);
            assert_non_null(job);
            waitEnded(job);
            assert_int_equal(jobState(job), VIR_JOB_COMPLETE);
            print_message("pool %s: %zu bytes of parameters, %zu echoed\n",
                          pools[k] ? pools[k] : "default", len, echoedLen);
            assert_int_equal(echoedLen, len);
            assert_memory_equal(echoed, params, len);
            assert_int_equal(virJobDestroy(job), 0);
        }
        virSupGroupClose(g);
    }
    assert_int_equal(testCountChildren(), 0);
}

TEST_OP(opPassFD, "test.pass-fd");

/* Every running worker lends its mount namespace to the helper through a
 * socket. Left there, each is a descriptor "in flight", which the kernel
 * counts per uid; once that count passes a worker's RLIMIT_NOFILE, the
 * worker (without CAP_SYS_RESOURCE) can pass no descriptor at all
 * (ETOOMANYREFS): a qemu job could no longer hand the shim its pipe. */
static void testManyJobsPassFD(void **s)
{
    (void)s;
    enum { RUNNING = 48 };
    /* A uid of their own: the kernel's count is per uid, and this one is
     * no other process's (root's count holds whatever else runs). */
    virSupGroupConfig cfg = { .max_workers = RUNNING + 1, .rlimit_nofile = 32,
                              .set_ids = geteuid() == 0, .uid = 4242, .gid = 4242 };
    virSupGroup *g = virSupGroupNew(&cfg);
    assert_non_null(g);
    virJobPtr jobs[RUNNING];

    for (int i = 0; i < RUNNING; i++)
        jobs[i] = startJob(g, &opCancel, NULL);
    for (int i = 0; i < RUNNING; i++)
        waitPercent(jobs[i], 20);
    virJobPtr p = startJob(g, &opPassFD, NULL);
    waitEnded(p);
    print_message("a descriptor passed with %d jobs running: %s\n", RUNNING,
                  jobState(p) == VIR_JOB_COMPLETE ? "yes" : jobErrorMessage(p));
    /* Before: "cannot pass a descriptor: Too many references". */
    assert_int_equal(jobState(p), VIR_JOB_COMPLETE);
    assert_int_equal(virJobDestroy(p), 0);

    for (int i = 0; i < RUNNING; i++)
        assert_int_equal(virJobCancel(jobs[i]), 0);
    for (int i = 0; i < RUNNING; i++) {
        waitEnded(jobs[i]);
        assert_int_equal(jobState(jobs[i]), VIR_JOB_CANCELLED);
        assert_int_equal(virJobDestroy(jobs[i]), 0);
    }
    pid_t helper = virSupHelperPid();
    virSupGroupClose(g);
    assert_true(TEST_WAIT_UNTIL(!testProcessAlive(helper), TEST_TIMEOUT_MS));
    assert_int_equal(testCountChildren(), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(testReadyWorkerTakesJob),
        cmocka_unit_test(testReadyWorkerKilled),
        cmocka_unit_test(testPoolOfTwo),
        cmocka_unit_test(testReadyWorkerDiesWithJob),
        cmocka_unit_test(testPoolOff),
        cmocka_unit_test(testManyJobsPassFD),
        cmocka_unit_test(testParamsEveryLength),
        cmocka_unit_test(testReadyWorkerDeadline),
    };
    return cmocka_run_group_tests(tests, jobTestSetup, jobTestTeardown);
}
