/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * job-outcome-test.c: one test per row of DESIGN.md's outcome table, on
 * real worker processes; each checks the state, the error text, and that
 * no zombie and no descriptor is left in the caller afterwards.
 */
#include <signal.h>
#include <sys/wait.h>

#include "jobtest.h"

static int fdsBefore;

static virSupGroup *openGroup(unsigned int grace_ms)
{
    virSupGroupConfig cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.grace_ms = grace_ms;
    virSupGroup *g = virSupGroupNew(&cfg);
    if (!g)
        fail_msg("virSupGroupNew: %s", virGetLastErrorMessage());
    return g;
}

/* Run @op to its end and check outcome, error and cleanliness. */
static void runOne(const virSupOp *op, const char *params, bool cancel,
                   unsigned int grace_ms, unsigned int deadline_ms,
                   int want_state, const char *want_error)
{
    fdsBefore = testCountFDs();
    virSupGroup *g = openGroup(grace_ms);
    virJobPtr job = startJob(g, op, params);
    if (deadline_ms)
        assert_int_equal(virJobSetDeadline(job, deadline_ms), 0);
    if (cancel) {
        waitPercent(job, 10);
        assert_int_equal(virJobCancel(job), 0);
    }
    waitEnded(job);
    assert_int_equal(jobState(job), want_state);
    if (want_error)
        assert_string_equal(jobErrorMessage(job), want_error);
    else
        assert_null(virJobGetError(job));
    /* The finished job keeps its figures and error, however often read. */
    for (int i = 0; i < 3; i++)
        assert_int_equal(jobState(job), want_state);
    /* A finished job: cancel is a harmless no-op that says so. */
    assert_int_equal(virJobCancel(job), 1);
    assert_int_equal(virJobDestroy(job), 0);
    virSupGroupClose(g);

    assert_int_equal(testCountChildren(), 0);
    assert_int_equal(testCountFDs(), fdsBefore);
}

static void testSuccess(void **s)
{
    (void)s;
    runOne(&opSucceed, "bytes=5000", false, 0, 0, VIR_JOB_COMPLETE, NULL);
}

static void testCancelButCompletes(void **s)
{
    (void)s;
    /* Said success and exited 0: COMPLETE even though cancel was asked. */
    runOne(&opIgnoreCancel, NULL, true, 60000, 0, VIR_JOB_COMPLETE, NULL);
}

static void testSaidCancelled(void **s)
{
    (void)s;
    runOne(&opCancel, NULL, true, 60000, 0, VIR_JOB_CANCELLED, "cancelled by request");
}

/* A worker written with the RFC's own names (worker/job.h aliases). */
static void testRfcSpelling(void **s)
{
    (void)s;
    runOne(&opRfc, NULL, false, 0, 0, VIR_JOB_COMPLETE, NULL);
    runOne(&opRfc, "unit_ms=200", true, 60000, 0, VIR_JOB_CANCELLED, "cancelled by request");
}

static void testSaidFailure(void **s)
{
    (void)s;
    runOne(&opFail, "pct=30", false, 0, 0, VIR_JOB_FAILED, "deliberate failure at 30%");
}

static void testCrashSegv(void **s)
{
    (void)s;
    runOne(&opSegv, NULL, false, 0, 0, VIR_JOB_FAILED, "worker crashed: signal 11 (SIGSEGV)");
}

static void testCrashAbort(void **s)
{
    (void)s;
    /* RLIMIT_CORE is 0 in the worker: no "core dumped". */
    runOne(&opAbort, NULL, false, 0, 0, VIR_JOB_FAILED, "worker crashed: signal 6 (SIGABRT)");
}

static void testExitSilently(void **s)
{
    (void)s;
    runOne(&opExit, NULL, false, 0, 0, VIR_JOB_FAILED,
           "worker exited without reporting (status 0)");
}

static void testReturnWithoutReport(void **s)
{
    (void)s;
    runOne(&opNoReport, NULL, false, 0, 0, VIR_JOB_FAILED,
           "worker exited without reporting (status 4)");
}

static void testGarbage(void **s)
{
    (void)s;
    /* Scribbles its page, leaves the seqlock odd, exits without a word:
     * the supervisor repairs the slot and fails the job. */
    fdsBefore = testCountFDs();
    virSupGroup *g = openGroup(0);
    virJobPtr job = startJob(g, &opGarbage, NULL);
    waitEnded(job);
    assert_int_equal(jobState(job), VIR_JOB_FAILED);
    assert_string_equal(jobErrorMessage(job), "worker exited without reporting (status 0)");
    virShmProgressData d;
    assert_int_equal(virShmProgressRead(job->progress, &d), 0);
    virShmLifecycleData lc;
    assert_int_equal(virShmLifecycleRead(job->lifecycle, &lc), 0);
    assert_true(lc.flags & VIR_SHM_LC_REPAIRED);
    assert_int_equal(lc.state, VIR_SHM_STATE_FAILED);
    assert_int_equal(virJobDestroy(job), 0);
    virSupGroupClose(g);
    assert_int_equal(testCountChildren(), 0);
    assert_int_equal(testCountFDs(), fdsBefore);
}

static void testKilledAfterGrace(void **s)
{
    (void)s;
    runOne(&opHang, NULL, true, 300, 0, VIR_JOB_CANCELLED,
           "cancelled: worker did not stop within 0.3 s, killed");
}

static void testDeadline(void **s)
{
    (void)s;
    runOne(&opHang, NULL, false, 0, 400, VIR_JOB_FAILED, "timed out after 0.4 s");
}

static void testUnknownOp(void **s)
{
    (void)s;
    runOne(&opUnknown, NULL, false, 0, 0, VIR_JOB_FAILED,
           "this virtsup-worker has no operation 'test.no-such-op'");
}

static void testOutcomeTablePure(void **s)
{
    (void)s;
    virSupOutcomeInput in;
    virSupOutcome out;
    memset(&in, 0, sizeof(in));
    /* Said success but killed by a signal afterwards: the exit is the truth. */
    in.report = VIR_PROTO_REPORT_SUCCESS;
    in.exit_code = CLD_KILLED;
    in.exit_status = SIGBUS;
    virSupOutcomeDecide(&in, &out);
    assert_int_equal(out.state, VIR_JOB_FAILED);
    assert_string_equal(out.message, "worker crashed: signal 7 (SIGBUS)");
    /* Said success, exited non-zero. */
    in.exit_code = CLD_EXITED;
    in.exit_status = 9;
    virSupOutcomeDecide(&in, &out);
    assert_int_equal(out.state, VIR_JOB_FAILED);
    assert_string_equal(out.message, "worker exited with status 9 after reporting success");
    /* Our SIGTERM killed a worker that did not catch it: cancelled. */
    memset(&in, 0, sizeof(in));
    in.exit_code = CLD_KILLED;
    in.exit_status = SIGTERM;
    in.cancel_requested = true;
    virSupOutcomeDecide(&in, &out);
    assert_int_equal(out.state, VIR_JOB_CANCELLED);
    /* A SIGTERM we did not send is a crash like any other. */
    in.cancel_requested = false;
    virSupOutcomeDecide(&in, &out);
    assert_int_equal(out.state, VIR_JOB_FAILED);
    /* OOM killer. */
    in.exit_status = SIGKILL;
    virSupOutcomeDecide(&in, &out);
    assert_string_equal(out.message, "worker crashed: signal 9 (SIGKILL)");
}

static void testBadHandles(void **s)
{
    (void)s;
    virJobInfo info;
    int notajob[64];
    memset(notajob, 0x5a, sizeof(notajob));
    assert_int_equal(virJobGetInfo(NULL, &info), -1);
    assert_int_equal(virGetLastError()->code, VIR_ERR_INVALID_JOB);
    assert_int_equal(virJobCancel((virJobPtr)notajob), -1);
    assert_int_equal(virGetLastError()->code, VIR_ERR_INVALID_JOB);

    virSupGroup *g = openGroup(0);
    virJobPtr job = startJob(g, &opCancel, NULL);
    /* A running job is not destroyed. */
    assert_int_equal(virJobDestroy(job), -1);
    assert_int_equal(virGetLastError()->code, VIR_ERR_OPERATION_INVALID);
    assert_non_null(strstr(virGetLastErrorMessage(), "still running"));
    assert_null(virJobGetError(job));
    assert_int_equal(virJobWait(job, 0), 1);
    assert_int_equal(virJobCancel(job), 0);
    waitEnded(job);
    assert_int_equal(virJobDestroy(job), 0);
    /* A destroyed handle gets an error, not a crash. */
    assert_int_equal(virJobGetInfo(job, &info), -1);
    assert_int_equal(virGetLastError()->code, VIR_ERR_INVALID_JOB);
    assert_int_equal(virJobDestroy(job), -1);
    virSupGroupClose(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(testOutcomeTablePure),
        cmocka_unit_test(testSuccess),
        cmocka_unit_test(testCancelButCompletes),
        cmocka_unit_test(testSaidCancelled),
        cmocka_unit_test(testRfcSpelling),
        cmocka_unit_test(testSaidFailure),
        cmocka_unit_test(testCrashSegv),
        cmocka_unit_test(testCrashAbort),
        cmocka_unit_test(testExitSilently),
        cmocka_unit_test(testReturnWithoutReport),
        cmocka_unit_test(testGarbage),
        cmocka_unit_test(testKilledAfterGrace),
        cmocka_unit_test(testDeadline),
        cmocka_unit_test(testUnknownOp),
        cmocka_unit_test(testBadHandles),
    };
    return cmocka_run_group_tests(tests, jobTestSetup, jobTestTeardown);
}
