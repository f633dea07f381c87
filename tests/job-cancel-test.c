/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * job-cancel-test.c: cancellation on real workers, grandchildren, the stall
 * watchdog, derived rate and ETA, percent never going backwards, stats.
 */
#include <signal.h>

#include "jobtest.h"

static virSupGroup *group(unsigned int grace_ms, unsigned int stall_ms, bool stall_cancel)
{
    virSupGroupConfig cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.grace_ms = grace_ms;
    cfg.stall_ms = stall_ms;
    cfg.stall_cancel = stall_cancel;
    virSupGroup *g = virSupGroupNew(&cfg);
    assert_non_null(g);
    return g;
}

static void testCooperatingCancel(void **s)
{
    (void)s;
    /* A grace period far longer than any test: ending CANCELLED by the
     * worker's own report proves it stopped well inside it. */
    virSupGroup *g = group(120000, 0, false);
    virJobPtr job = startJob(g, &opCancel, NULL);
    waitPercent(job, 20);
    assert_int_equal(virJobCancel(job), 0);
    /* Asking twice is fine: 0 while the request is pending, 1 once the
     * worker (which stops at once) has ended; never an error. */
    int again = virJobCancel(job);
    assert_true(again == 0 || again == 1);
    waitEnded(job);
    assert_int_equal(jobState(job), VIR_JOB_CANCELLED);
    assert_string_equal(jobErrorMessage(job), "cancelled by request");
    virShmLifecycleData lc;
    assert_int_equal(virShmLifecycleRead(job->lifecycle, &lc), 0);
    assert_true(lc.flags & VIR_SHM_LC_CANCEL_REQUESTED);
    assert_true(lc.flags & VIR_SHM_LC_CANCEL_ACKED);
    assert_false(lc.flags & VIR_SHM_LC_KILLED);
    assert_int_equal(lc.exit_status, VIR_WORKER_EXIT_CANCELLED);
    assert_int_equal(virJobDestroy(job), 0);
    virSupGroupClose(g);
}

static void testHangKilledWithGrandchildren(void **s)
{
    (void)s;
    virSupGroup *g = group(300, 0, false);
    virJobPtr job = startJob(g, &opGrandchild, "hang=1");
    waitPercent(job, 60);
    /* The grandchild's pid is in the worker's result, which we only see
     * after the end; find it as the worker's child in /proc instead. */
    int wpid = 0;
    assert_true(TEST_WAIT_UNTIL((wpid = jobStatInt(job, VIR_JOB_STATS_WORKER_PID)) > 0,
                                TEST_TIMEOUT_MS));
    char path[64], buf[64] = "";
    snprintf(path, sizeof(path), "/proc/%d/task/%d/children", wpid, wpid);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    assert_non_null(fgets(buf, sizeof(buf), f));
    fclose(f);
    pid_t grandchild = atoi(buf);
    assert_true(grandchild > 0);
    assert_true(testProcessAlive(grandchild));

    assert_int_equal(virJobCancel(job), 0);
    waitEnded(job);
    assert_int_equal(jobState(job), VIR_JOB_CANCELLED);
    assert_string_equal(jobErrorMessage(job),
                        "cancelled: worker did not stop within 0.3 s, killed");
    assert_true(TEST_WAIT_UNTIL(!testProcessAlive(grandchild), TEST_TIMEOUT_MS));
    assert_int_equal(virJobDestroy(job), 0);
    virSupGroupClose(g);
}

static void testGrandchildDiesWithJob(void **s)
{
    (void)s;
    /* The worker reports its grandchild's pid as its result. */
    static const virSupOp opGrandchildKeep = {
        .name = "test.grandchild", .type = VIR_JOB_BOUNDED, .commit = jobKeepResult,
    };
    virSupGroup *g = group(0, 0, false);
    virJobPtr job = startJob(g, &opGrandchildKeep, NULL);
    waitEnded(job);
    assert_int_equal(jobState(job), VIR_JOB_COMPLETE);
    pid_t grandchild = atoi(jobResult);
    assert_true(grandchild > 0);
    /* The helper killed the worker's group when the worker exited. */
    assert_true(TEST_WAIT_UNTIL(!testProcessAlive(grandchild), TEST_TIMEOUT_MS));
    assert_int_equal(virJobDestroy(job), 0);
    virSupGroupClose(g);
}

static void testStallWatchdog(void **s)
{
    (void)s;
    virSupGroup *g = group(60000, 700, false);
    virJobPtr job = startJob(g, &opCancel, "pct=30");
    waitPercent(job, 30);
    virTypedParameterPtr params = NULL;
    int n = 0;
    /* No progress after 30%: stalled, visible in the stats and segment.
     * Each wait also ends if the job does (a broken worker): the
     * assertions below then say so at once. */
    assert_true(TEST_WAIT_UNTIL(jobState(job) != VIR_JOB_RUNNING || ({
        bool st = false;
        virTypedParamsFree(params, n);
        params = NULL;
        if (virJobGetStats(job, &params, &n, 0) == 0)
            for (int i = 0; i < n; i++)
                if (STREQ(params[i].field, VIR_JOB_STATS_STALLED))
                    st = params[i].value.b;
        st; }), TEST_TIMEOUT_MS));
    virTypedParamsFree(params, n);
    virShmLifecycleData lc = { 0 };
    /* The job runs on: the supervisor republishes its record (rate, ETA)
     * meanwhile, and a read that meets a write preempted half-way fails
     * with EAGAIN after its bounded retries. Readers try again. The
     * record follows the flag the stats read: the supervisor sets the
     * flag, then publishes the record, so a read between the two still
     * finds the record without it. */
    assert_true(TEST_WAIT_UNTIL(jobState(job) != VIR_JOB_RUNNING ||
                                (virShmLifecycleRead(job->lifecycle, &lc) == 0 &&
                                 (lc.flags & VIR_SHM_LC_STALLED)), TEST_TIMEOUT_MS));
    assert_int_equal(jobState(job), VIR_JOB_RUNNING); /* not configured to cancel */
    assert_true(lc.flags & VIR_SHM_LC_STALLED);
    assert_int_equal(virJobCancel(job), 0);
    waitEnded(job);
    assert_int_equal(virJobDestroy(job), 0);
    virSupGroupClose(g);
}

static void testStallCancels(void **s)
{
    (void)s;
    virSupGroup *g = group(60000, 500, true);
    virJobPtr job = startJob(g, &opCancel, "pct=10");
    waitEnded(job);
    assert_int_equal(jobState(job), VIR_JOB_CANCELLED);
    virShmLifecycleData lc;
    assert_int_equal(virShmLifecycleRead(job->lifecycle, &lc), 0);
    assert_true(lc.flags & VIR_SHM_LC_STALLED);
    assert_int_equal(virJobDestroy(job), 0);
    virSupGroupClose(g);
}

static unsigned long long statULL(virJobPtr job, const char *field)
{
    virTypedParameterPtr params = NULL;
    int n = 0;
    unsigned long long v = 0;
    assert_int_equal(virJobGetStats(job, &params, &n, 0), 0);
    assert_true(virTypedParamsGetULLong(params, n, field, &v) >= 0);
    virTypedParamsFree(params, n);
    return v;
}

static void testRateEtaAndStats(void **s)
{
    (void)s;
    virSupGroup *g = group(60000, 0, false);
    virJobPtr job = startJob(g, &opStream, "ms=60000 total=600000000");
    /* The worker gives bytes but no ETA: the supervisor derives both. */
    assert_true(TEST_WAIT_UNTIL(statULL(job, VIR_JOB_STATS_RATE) > 0, TEST_TIMEOUT_MS));
    assert_true(TEST_WAIT_UNTIL(statULL(job, VIR_JOB_STATS_TIME_REMAINING) > 0,
                                TEST_TIMEOUT_MS));
    assert_int_equal(statULL(job, VIR_JOB_STATS_DATA_TOTAL), 600000000ull);
    virTypedParameterPtr params = NULL;
    int n = 0;
    const char *phase = NULL, *op = NULL;
    assert_int_equal(virJobGetStats(job, &params, &n, 0), 0);
    assert_int_equal(virTypedParamsGetString(params, n, VIR_JOB_STATS_PHASE, &phase), 1);
    assert_string_equal(phase, "streaming");
    assert_int_equal(virTypedParamsGetString(params, n, VIR_JOB_STATS_OPERATION, &op), 1);
    assert_string_equal(op, "test.stream");
    virTypedParamsFree(params, n);
    assert_int_equal(virJobGetStats(job, &params, &n, 1), -1); /* unknown flag */
    assert_int_equal(virGetLastError()->code, VIR_ERR_INVALID_ARG);

    virJobInfo info;
    assert_int_equal(virJobGetInfo(job, &info), 0);
    assert_int_equal(info.type, VIR_JOB_BOUNDED);
    assert_true(info.remainingTime > 0);

    /* Once ended, the figures keep what was reached. */
    unsigned int before = info.percentComplete;
    assert_int_equal(virJobCancel(job), 0);
    waitEnded(job);
    assert_int_equal(virJobGetInfo(job, &info), 0);
    assert_true(info.percentComplete >= before);
    assert_int_equal(info.remainingTime, 0);
    assert_int_equal(virJobDestroy(job), 0);
    virSupGroupClose(g);
}

static void testPercentMonotonic(void **s)
{
    (void)s;
    virSupGroup *g = group(60000, 0, false);
    virJobPtr job = startJob(g, &opCancel, "pct=50");
    waitPercent(job, 50);
    /* Play a misbehaving worker: write 5% into its page. */
    virShmProgressData d;
    /* The worker may be writing its page: a read that meets that retries. */
    assert_true(TEST_WAIT_UNTIL(virShmProgressRead(job->progress, &d) == 0, TEST_TIMEOUT_MS));
    d.percent = 5;
    virShmProgressWrite(job->progress, &d);
    virJobInfo info;
    assert_int_equal(virJobGetInfo(job, &info), 0);
    assert_int_equal(info.percentComplete, 50);
    assert_int_equal(virJobCancel(job), 0);
    waitEnded(job);
    assert_int_equal(virJobDestroy(job), 0);
    virSupGroupClose(g);
}

static void testQueuedCancel(void **s)
{
    (void)s;
    virSupGroupConfig cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.max_workers = 1;
    virSupGroup *g = virSupGroupNew(&cfg);
    assert_non_null(g);
    virJobPtr a = startJob(g, &opCancel, NULL);
    virJobPtr b = startJob(g, &opSucceed, NULL); /* queued behind a */
    assert_int_equal(virJobCancel(b), 0);
    waitEnded(b);
    assert_int_equal(jobState(b), VIR_JOB_CANCELLED);
    assert_string_equal(jobErrorMessage(b), "cancelled by request before it started");
    assert_int_equal(jobState(a), VIR_JOB_RUNNING);
    assert_int_equal(virJobCancel(a), 0);
    waitEnded(a);
    assert_int_equal(virJobDestroy(a), 0);
    assert_int_equal(virJobDestroy(b), 0);
    virSupGroupClose(g);
}

static void testCloseCancelsRunning(void **s)
{
    (void)s;
    virSupGroup *g = group(60000, 0, false);
    virJobPtr a = startJob(g, &opCancel, NULL);
    virJobPtr b = startJob(g, &opCancel, NULL);
    waitPercent(a, 20);
    virSupGroupClose(g); /* cancels and reaps both */
    assert_int_equal(jobState(a), VIR_JOB_CANCELLED);
    assert_int_equal(jobState(b), VIR_JOB_CANCELLED);
    assert_int_equal(virJobDestroy(a), 0);
    assert_int_equal(virJobDestroy(b), 0);
    assert_int_equal(testCountChildren(), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(testCooperatingCancel),
        cmocka_unit_test(testHangKilledWithGrandchildren),
        cmocka_unit_test(testGrandchildDiesWithJob),
        cmocka_unit_test(testStallWatchdog),
        cmocka_unit_test(testStallCancels),
        cmocka_unit_test(testRateEtaAndStats),
        cmocka_unit_test(testPercentMonotonic),
        cmocka_unit_test(testQueuedCancel),
        cmocka_unit_test(testCloseCancelsRunning),
    };
    return cmocka_run_group_tests(tests, jobTestSetup, jobTestTeardown);
}
