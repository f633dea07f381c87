/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * helper-fault-test.c: the spawn helper really killed while jobs wait
 * behind max_workers. The running job fails at once; the queued ones
 * start on a new helper and complete, without waiting for another job to
 * be created.
 */
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(testHelperKilledWithQueue),
    };
    return cmocka_run_group_tests(tests, jobTestSetup, jobTestTeardown);
}
