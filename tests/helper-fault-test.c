/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * helper-fault-test.c: the spawn helper really killed while jobs wait
 * behind max_workers. The running job fails at once; the queued ones
 * start on a new helper and complete, without waiting for another job to
 * be created; a job created before the supervisor has read the killed
 * helper's hang-up starts on a new helper. And the helper really stopped
 * (SIGSTOP): a cancel still ends (the grace period's SIGKILL reaches the
 * worker through its pidfd, not through the helper), a job whose worker
 * never started still ends,
 * and closing the group does not wait for the helper to be resumed; a
 * worker that ends on its own while the helper is stopped ends its job
 * with the outcome of its real exit, also when the helper is then killed.
 * Threads waiting for jobs end them from their workers' pidfds while the
 * supervisor's reaper handles nothing. And with the helper stopped, a job
 * still starts in a ready worker the supervisor holds.
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>

#include "jobtest.h"

static void testHelperKilledWithQueue(void **s)
{
    (void)s;
    virSupGroupConfig cfg = { .max_workers = 1 };
    virSupGroup *g = virSupGroupNew(&cfg);
    assert_non_null(g);

    virJobPtr a = startJob(g, &opCancel, NULL);
    virJobPtr b = startJob(g, &opSucceed, NULL);
    virJobPtr c = startJob(g, &opSucceed, NULL);
    /* a's worker runs (it published its progress); b and c are queued. */
    waitPercent(a, 20);
    pid_t helper = virSupHelperPid();
    assert_true(helper > 0);
    assert_int_equal(kill(helper, SIGKILL), 0);

    waitEnded(a);
    assert_int_equal(jobState(a), VIR_JOB_FAILED);
    assert_non_null(strstr(jobErrorMessage(a), "spawn helper died"));
    /* Before: b and c stayed RUNNING until some later job was created. */
    assert_int_equal(virJobWait(b, TEST_TIMEOUT_MS), 0);
    assert_int_equal(virJobWait(c, TEST_TIMEOUT_MS), 0);
    print_message("queued jobs after the helper died: %s / %s\n",
                  jobState(b) == VIR_JOB_COMPLETE ? "complete" : jobErrorMessage(b),
                  jobState(c) == VIR_JOB_COMPLETE ? "complete" : jobErrorMessage(c));
    assert_int_equal(jobState(b), VIR_JOB_COMPLETE);
    assert_int_equal(jobState(c), VIR_JOB_COMPLETE);
    /* They ran on a new helper. */
    pid_t helper2 = virSupHelperPid();
    assert_true(helper2 > 0);
    assert_int_not_equal(helper2, helper);

    assert_int_equal(virJobDestroy(a), 0);
    assert_int_equal(virJobDestroy(b), 0);
    assert_int_equal(virJobDestroy(c), 0);
    virSupGroupClose(g);
    assert_int_equal(testCountChildren(), 0);
    assert_true(TEST_WAIT_UNTIL(!testProcessAlive(helper2), TEST_TIMEOUT_MS));
}

/* The helper killed, and the supervisor not yet told (the reaper holds
 * back what comes from helpers): the next job's spawn request meets the
 * dead helper's closed socket (EPIPE). The job starts on a new helper and
 * completes, and the one queued behind it (max_workers) after it. */
static void testHelperKilledBeforeHangup(void **s)
{
    (void)s;
    virSupGroupConfig cfg = { .max_workers = 1 };
    virSupGroup *g = virSupGroupNew(&cfg);
    assert_non_null(g);

    virJobPtr a = startJob(g, &opSucceed, NULL);
    waitEnded(a);
    assert_int_equal(jobState(a), VIR_JOB_COMPLETE);
    pid_t helper = virSupHelperPid();
    assert_true(helper > 0);

    virSupTestHoldHelpers(true);
    assert_int_equal(kill(helper, SIGKILL), 0);
    /* Gone (a zombie at most): its socket is closed. */
    assert_true(TEST_WAIT_UNTIL(!testProcessAlive(helper), TEST_TIMEOUT_MS));
    /* The supervisor has not seen it die. */
    assert_int_equal(virSupHelperPid(), helper);
    virJobPtr b = startJob(g, &opSucceed, NULL);
    virJobPtr c = startJob(g, &opSucceed, NULL);   /* queued behind b */
    virSupTestHoldHelpers(false);

    /* Before: both failed with "cannot send a request to the spawn
     * helper: Broken pipe". */
    waitEnded(b);
    waitEnded(c);
    print_message("jobs created after the helper was killed, before its hang-up was "
                  "read: %s / %s\n",
                  jobState(b) == VIR_JOB_COMPLETE ? "complete" : jobErrorMessage(b),
                  jobState(c) == VIR_JOB_COMPLETE ? "complete" : jobErrorMessage(c));
    assert_int_equal(jobState(b), VIR_JOB_COMPLETE);
    assert_int_equal(jobState(c), VIR_JOB_COMPLETE);
    pid_t helper2 = virSupHelperPid();
    assert_true(helper2 > 0);
    assert_int_not_equal(helper2, helper);

    assert_int_equal(virJobDestroy(a), 0);
    assert_int_equal(virJobDestroy(b), 0);
    assert_int_equal(virJobDestroy(c), 0);
    virSupGroupClose(g);
    assert_true(TEST_WAIT_UNTIL(!testProcessAlive(helper2), TEST_TIMEOUT_MS));
    assert_int_equal(testCountChildren(), 0);
}

/* Stop the helper for real: SIGSTOP, then until /proc says stopped. */
/* The helper a test stopped last. At exit, whatever failed, it gets a
 * SIGCONT: a stopped helper cannot see that the test process is gone, and
 * would stay (with its workers) after the test. */
static pid_t stoppedHelper;

static void resumeStoppedHelper(void)
{
    char path[64], cmd[256] = "";
    FILE *f;

    if (stoppedHelper <= 0 || testProcessState(stoppedHelper) != 'T')
        return;
    /* Still our helper, not a process that got its pid since. */
    snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)stoppedHelper);
    if ((f = fopen(path, "r"))) {
        size_t n = fread(cmd, 1, sizeof(cmd) - 1, f);
        fclose(f);
        for (size_t i = 0; i < n; i++)
            if (!cmd[i])
                cmd[i] = ' ';
        cmd[n] = '\0';
    }
    if (strstr(cmd, "--spawn-helper"))
        (void)kill(stoppedHelper, SIGCONT);
}

static void stopHelper(pid_t helper)
{
    stoppedHelper = helper;
    assert_int_equal(kill(helper, SIGSTOP), 0);
    assert_true(TEST_WAIT_UNTIL(testProcessState(helper) == 'T', TEST_TIMEOUT_MS));
}

static pid_t workerPid(virJobPtr job)
{
    virSupJobSnapshot snap;
    /* The worker's pid once the supervisor has its SPAWNED report. */
    assert_true(TEST_WAIT_UNTIL((virSupJobSnapshotGet(job, &snap, true),
                                 snap.worker_pid > 0), TEST_TIMEOUT_MS));
    return snap.worker_pid;
}

static void onCloseHung(int signo)
{
    static const char msg[] = "virSupGroupClose did not return with the spawn helper stopped\n";
    (void)signo;
    (void)!write(2, msg, sizeof(msg) - 1);
    _exit(1);
}

/* A stopped helper: jobs are cancelled and the group closed all the same.
 * Without ready workers (which start jobs without the helper, below). */
static void testHelperStopped(void **s)
{
    (void)s;
    virSupGroupConfig cfg = { .grace_ms = 300 };
    setenv("VIRTSUP_WORKER_POOL", "0", 1);
    virSupGroup *g = virSupGroupNew(&cfg);
    unsetenv("VIRTSUP_WORKER_POOL");
    assert_non_null(g);

    /* Two workers that ignore cancel (SIGTERM and the flag) at 40 %. */
    virJobPtr a = startJob(g, &opHang, NULL);
    virJobPtr c = startJob(g, &opHang, NULL);
    waitPercent(a, 40);
    waitPercent(c, 40);
    pid_t wa = workerPid(a), wc = workerPid(c);
    pid_t helper = virSupHelperPid();
    assert_true(helper > 0);
    stopHelper(helper);

    /* Its spawn request waits in the stopped helper's socket. */
    virJobPtr b = startJob(g, &opSucceed, NULL);
    assert_int_equal(virJobCancel(a), 0);
    assert_int_equal(virJobCancel(b), 0);
    /* Before: neither ever ended while the helper stayed stopped. */
    waitEnded(a);
    waitEnded(b);
    print_message("stopped helper: running job: %s; unstarted job: %s\n",
                  jobErrorMessage(a), jobErrorMessage(b));
    assert_int_equal(jobState(a), VIR_JOB_CANCELLED);
    assert_non_null(strstr(jobErrorMessage(a), "killed"));
    assert_int_equal(jobState(b), VIR_JOB_CANCELLED);
    assert_non_null(strstr(jobErrorMessage(b), "before it started"));
    /* a's worker is dead (a zombie of the stopped helper); c's runs. */
    assert_false(testProcessAlive(wa));
    assert_true(testProcessAlive(wc));
    assert_int_equal(testProcessState(helper), 'T');
    assert_int_equal(virJobDestroy(a), 0);
    assert_int_equal(virJobDestroy(b), 0);

    /* Closing cancels c, kills it after the grace period, and stops the
     * helper (resumed, it kills what is left and exits): all without
     * anyone resuming it first. */
    signal(SIGALRM, onCloseHung);
    alarm(TEST_TIMEOUT_MS / 1000);
    virSupGroupClose(g);
    alarm(0);
    assert_int_equal(jobState(c), VIR_JOB_CANCELLED);
    assert_int_equal(virJobDestroy(c), 0);
    assert_true(TEST_WAIT_UNTIL(!testProcessAlive(helper), TEST_TIMEOUT_MS));
    assert_false(testProcessAlive(wc));
    assert_int_equal(testCountChildren(), 0);
}

/* A ready worker the supervisor holds takes a job without the helper:
 * with the helper stopped, the job runs and ends as usual. */
static void testStoppedHelperReadyWorkerRuns(void **s)
{
    (void)s;
    virSupGroup *g = virSupGroupNew(NULL);
    assert_non_null(g);

    virJobPtr a = startJob(g, &opSucceed, NULL);
    waitEnded(a);
    /* Its helper has handed us the ready worker forked after a's end. */
    assert_true(TEST_WAIT_UNTIL(virSupTestHeldFDs() > 0, TEST_TIMEOUT_MS));
    pid_t helper = virSupHelperPid();
    stopHelper(helper);
    virJobPtr b = startJob(g, &opSucceed, NULL);
    waitEnded(b);
    assert_int_equal(jobState(b), VIR_JOB_COMPLETE);
    assert_int_equal(testProcessState(helper), 'T');
    assert_int_equal(kill(helper, SIGCONT), 0);
    assert_int_equal(virJobDestroy(a), 0);
    assert_int_equal(virJobDestroy(b), 0);
    virSupGroupClose(g);
    assert_true(TEST_WAIT_UNTIL(!testProcessAlive(helper), TEST_TIMEOUT_MS));
    assert_int_equal(testCountChildren(), 0);
}

/* Stopped, then resumed: its late reports of the jobs finished without it
 * are ignored, and it runs new jobs as before. */
static void testHelperStoppedThenResumed(void **s)
{
    (void)s;
    virSupGroupConfig cfg = { .grace_ms = 300, .max_workers = 1 };
    virSupGroup *g = virSupGroupNew(&cfg);
    assert_non_null(g);

    virJobPtr a = startJob(g, &opHang, NULL);
    waitPercent(a, 40);
    pid_t helper = virSupHelperPid();
    stopHelper(helper);
    virJobPtr q = startJob(g, &opSucceed, NULL);   /* queued behind a */
    assert_int_equal(virJobCancel(a), 0);
    waitEnded(a);
    assert_int_equal(jobState(a), VIR_JOB_CANCELLED);
    assert_int_equal(virJobDestroy(a), 0);
    /* q's request went to the stopped helper once a ended. */
    assert_int_equal(kill(helper, SIGCONT), 0);
    waitEnded(q);
    assert_int_equal(jobState(q), VIR_JOB_COMPLETE);
    assert_int_equal(virJobDestroy(q), 0);
    virJobPtr d = startJob(g, &opSucceed, NULL);
    waitEnded(d);
    assert_int_equal(jobState(d), VIR_JOB_COMPLETE);
    assert_int_equal(virJobDestroy(d), 0);
    assert_int_equal(virSupHelperPid(), helper);
    virSupGroupClose(g);
    assert_true(TEST_WAIT_UNTIL(!testProcessAlive(helper), TEST_TIMEOUT_MS));
}

/* A test.gate job: runs until the write end of its pipe is closed, then
 * reports success and exits 0. Returns that write end in *@gate. */
static virJobPtr startGate(virSupGroup *g, int *gate)
{
    int p[2];
    virSupJobParams jp;

    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    memset(&jp, 0, sizeof(jp));
    jp.op = &opGate;
    jp.target = "unit";
    jp.fds = &p[0];
    jp.nfds = 1;
    virJobPtr job = virSupJobCreate(g, &jp);
    if (!job)
        fail_msg("virSupJobCreate(test.gate): %s", virGetLastErrorMessage());
    close(p[0]);
    *gate = p[1];
    return job;
}

/* Workers that end while their helper is stopped: the helper neither
 * reaps nor reports them, yet each job ends with the outcome of its
 * worker's real exit (read from the kernel while the worker is the
 * stopped helper's zombie): a worker that reported success and exited 0
 * completes, one killed by a signal failed as crashed. Resumed, the helper
 * runs what was queued behind them, its late reports are ignored; stopped
 * again with a worker ending, then killed: the job keeps its outcome, the
 * next job runs on a new helper. */
static void testHelperStoppedWorkerEnds(void **s)
{
    (void)s;
    virSupGroupConfig cfg = { .max_workers = 2 };
    virSupGroup *g = virSupGroupNew(&cfg);
    int gateA, gateB, gateC;
    assert_non_null(g);

    virJobPtr a = startGate(g, &gateA);
    virJobPtr b = startGate(g, &gateB);
    waitPercent(a, 30);
    waitPercent(b, 30);
    pid_t wb = workerPid(b);
    pid_t helper = virSupHelperPid();
    assert_true(helper > 0);
    virJobPtr q = startJob(g, &opSucceed, NULL);   /* queued behind a and b */
    stopHelper(helper);

    close(gateA);                                   /* a reports success, exits 0 */
    assert_int_equal(kill(wb, SIGKILL), 0);         /* b dies without a report */
    /* Before: both stayed RUNNING until the helper was resumed. */
    waitEnded(a);
    waitEnded(b);
    print_message("workers ended with the helper stopped: %s / %s\n",
                  jobState(a) == VIR_JOB_COMPLETE ? "complete" : jobErrorMessage(a),
                  jobErrorMessage(b));
    assert_int_equal(jobState(a), VIR_JOB_COMPLETE);
    assert_int_equal(jobState(b), VIR_JOB_FAILED);
    assert_non_null(strstr(jobErrorMessage(b), "signal 9"));
    assert_int_equal(testProcessState(helper), 'T');
    close(gateB);

    /* Resumed: q (sent to the stopped helper once a and b ended) runs. */
    assert_int_equal(kill(helper, SIGCONT), 0);
    waitEnded(q);
    assert_int_equal(jobState(q), VIR_JOB_COMPLETE);
    assert_int_equal(virSupHelperPid(), helper);

    /* Stopped again, a worker ends, then the helper is killed. */
    virJobPtr c = startGate(g, &gateC);
    waitPercent(c, 30);
    /* The helper's report of c's spawn read (with its pidfd): a worker
     * that runs does not say the helper has sent it, and a helper stopped
     * before it has holds c's end until it runs again. */
    (void)workerPid(c);
    stopHelper(helper);
    close(gateC);
    waitEnded(c);
    assert_int_equal(jobState(c), VIR_JOB_COMPLETE);
    assert_int_equal(kill(helper, SIGKILL), 0);
    /* Until the supervisor has seen it die (testHelperKilledBeforeHangup
     * covers a job created before then). */
    assert_true(TEST_WAIT_UNTIL(virSupHelperPid() != helper, TEST_TIMEOUT_MS));
    assert_int_equal(jobState(c), VIR_JOB_COMPLETE);
    virJobPtr d = startJob(g, &opSucceed, NULL);
    waitEnded(d);
    assert_int_equal(jobState(d), VIR_JOB_COMPLETE);
    assert_int_not_equal(virSupHelperPid(), helper);

    virJobPtr all[] = { a, b, q, c, d };
    for (size_t i = 0; i < ARRAY_CARDINALITY(all); i++)
        assert_int_equal(virJobDestroy(all[i]), 0);
    pid_t helper2 = virSupHelperPid();
    virSupGroupClose(g);
    assert_true(TEST_WAIT_UNTIL(!testProcessAlive(helper2), TEST_TIMEOUT_MS));
    assert_int_equal(testCountChildren(), 0);
}

typedef struct {
    virJobPtr job;
    int rc;
} waiterArg;

static void *waiterMain(void *p)
{
    waiterArg *w = p;
    w->rc = virJobWait(w->job, TEST_TIMEOUT_MS);
    return NULL;
}

/* Threads wait in virJobWait for two jobs; both workers end while the
 * supervisor's reaper handles nothing and the helper is stopped, so that
 * neither of them can say so: the waiters learn of each end from the
 * worker's pidfd, finish each job once, and return with its real outcome
 * (one reported success and exited 0, one was killed without a report). */
static void testWaitersEndJobsWithoutReaper(void **s)
{
    (void)s;
    virSupGroupConfig cfg = { .max_workers = 2 };
    virSupGroup *g = virSupGroupNew(&cfg);
    int gateA, gateB;
    assert_non_null(g);

    virJobPtr a = startGate(g, &gateA);
    virJobPtr b = startGate(g, &gateB);
    waitPercent(a, 30);
    waitPercent(b, 30);
    (void)workerPid(a);
    pid_t wb = workerPid(b);
    pid_t helper = virSupHelperPid();
    assert_true(helper > 0);
    stopHelper(helper);
    virSupTestHoldReaper(true);

    waiterArg w[5];
    pthread_t t[5];
    for (size_t i = 0; i < ARRAY_CARDINALITY(w); i++) {
        w[i].job = i < 3 ? a : b;
        w[i].rc = -2;
        assert_int_equal(pthread_create(&t[i], NULL, waiterMain, &w[i]), 0);
    }
    close(gateA);                                   /* a reports success, exits 0 */
    assert_int_equal(kill(wb, SIGKILL), 0);         /* b dies without a report */
    for (size_t i = 0; i < ARRAY_CARDINALITY(w); i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_int_equal(w[i].rc, 0);
    }
    assert_int_equal(jobState(a), VIR_JOB_COMPLETE);
    assert_int_equal(jobState(b), VIR_JOB_FAILED);
    assert_non_null(strstr(jobErrorMessage(b), "signal 9"));
    /* Nobody else could have: the reaper is still held. */
    assert_int_equal(testProcessState(helper), 'T');

    virSupTestHoldReaper(false);
    assert_int_equal(kill(helper, SIGCONT), 0);
    close(gateB);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(testHelperKilledWithQueue),
        cmocka_unit_test(testHelperKilledBeforeHangup),
        cmocka_unit_test(testHelperStopped),
        cmocka_unit_test(testStoppedHelperReadyWorkerRuns),
        cmocka_unit_test(testHelperStoppedThenResumed),
        cmocka_unit_test(testHelperStoppedWorkerEnds),
        cmocka_unit_test(testWaitersEndJobsWithoutReaper),
    };
    atexit(resumeStoppedHelper);
    return cmocka_run_group_tests(tests, jobTestSetup, jobTestTeardown);
}
