/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * job-stress-test.c: many threads on the same running jobs, and 1,000 jobs
 * through a cap of 64 concurrent workers. Run under SANITIZE=thread and
 * valgrind too.
 */
#include <pthread.h>
#include <sys/resource.h>

#include "jobtest.h"

#define NTHREADS 8
#define NJOBS_SHARED 6

static virJobPtr shared[NJOBS_SHARED];
static _Atomic int infoCalls;

static void *hammer(void *arg)
{
    int id = (int)(intptr_t)arg;
    virJobInfo info;
    for (int round = 0; round < 200; round++) {
        for (int j = 0; j < NJOBS_SHARED; j++) {
            if (virJobGetInfo(shared[j], &info) == 0) {
                assert_true(info.percentComplete <= 100);
                assert_true(info.state >= VIR_JOB_RUNNING && info.state <= VIR_JOB_CANCELLED);
                atomic_fetch_add(&infoCalls, 1);
            }
            virTypedParameterPtr params = NULL;
            int n = 0;
            if (virJobGetStats(shared[j], &params, &n, 0) == 0)
                virTypedParamsFree(params, n);
        }
        /* Thread k cancels job k after a while; everyone waits a little. */
        if (round == 50 && id < NJOBS_SHARED)
            assert_true(virJobCancel(shared[id]) >= 0);
        (void)virJobWait(shared[round % NJOBS_SHARED], 0);
    }
    for (int j = 0; j < NJOBS_SHARED; j++) {
        assert_true(virJobCancel(shared[j]) >= 0);
        assert_int_equal(virJobWait(shared[j], TEST_TIMEOUT_MS), 0);
    }
    return NULL;
}

static void testThreadsShareJobs(void **s)
{
    (void)s;
    int fds = testCountFDs();
    virSupGroup *g = virSupGroupNew(NULL);
    assert_non_null(g);
    for (int j = 0; j < NJOBS_SHARED; j++)
        shared[j] = startJob(g, j % 3 == 0 ? &opStream : &opCancel,
                             j % 3 == 0 ? "ms=600000" : NULL);
    pthread_t th[NTHREADS];
    for (int i = 0; i < NTHREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, hammer, (void *)(intptr_t)i), 0);
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(th[i], NULL);
    for (int j = 0; j < NJOBS_SHARED; j++) {
        assert_int_equal(jobState(shared[j]), VIR_JOB_CANCELLED);
        assert_int_equal(virJobDestroy(shared[j]), 0);
    }
    assert_true(atomic_load(&infoCalls) >= NTHREADS * 200);
    virSupGroupClose(g);
    assert_int_equal(testCountChildren(), 0);
    assert_int_equal(testCountFDs(), fds);
}

#define NJOBS 1000

static void testThousandJobsThroughCap(void **s)
{
    (void)s;
    int fds = testCountFDs();
    virSupGroupConfig cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.max_workers = 64;
    virSupGroup *g = virSupGroupNew(&cfg);
    assert_non_null(g);
    static virJobPtr jobs[NJOBS];
    int want[NJOBS];
    for (int i = 0; i < NJOBS; i++) {
        /* Mostly successes, some failures and crashes, all accounted for. */
        const virSupOp *op = i % 10 == 3 ? &opFail : i % 10 == 7 ? &opSegv : &opSucceed;
        want[i] = op == &opSucceed ? VIR_JOB_COMPLETE : VIR_JOB_FAILED;
        jobs[i] = startJob(g, op, NULL);
    }
    unsigned long long lastId = 0;
    for (int i = 0; i < NJOBS; i++) {
        waitEnded(jobs[i]);
        assert_int_equal(jobState(jobs[i]), want[i]);
        unsigned long long id = virJobGetID(jobs[i]);
        assert_true(id > lastId); /* ids only grow */
        lastId = id;
        assert_int_equal(virJobDestroy(jobs[i]), 0);
    }
    virSupGroupClose(g);
    assert_int_equal(testCountChildren(), 0);
    assert_int_equal(testCountFDs(), fds);
}

/* 1,000 jobs created back to back with no cap, then all cancelled at once:
 * far more requests than the spawn helper's socket holds. None may fail to
 * start, and no SIGTERM or SIGKILL may be lost. */
static void testBurstNothingLost(void **s)
{
    (void)s;
    struct rlimit rl;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
    if (rl.rlim_max < 8192) {
        print_message("skipped: RLIMIT_NOFILE hard limit %llu is too low\n",
                      (unsigned long long)rl.rlim_max);
        return;
    }
    struct rlimit raised = { rl.rlim_max, rl.rlim_max };
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &raised), 0);

    int fds = testCountFDs();
    virSupGroupConfig cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.max_workers = NJOBS;
    cfg.grace_ms = 2000;
    virSupGroup *g = virSupGroupNew(&cfg);
    assert_non_null(g);
    static virJobPtr jobs[NJOBS];
    for (int i = 0; i < NJOBS; i++) {
        /* A cooperating worker has as long as the wait below to act on its
         * SIGTERM (1,000 of them share two loaded cores, slower still under
         * the sanitizers): a lost SIGTERM is a job that never ends, not one
         * that was slow. A hanging one is killed at its 2 s grace period. */
        virSupJobParams p;
        memset(&p, 0, sizeof(p));
        p.op = i % 2 ? &opCancel : &opHang;
        p.target = "unit";
        p.grace_ms = i % 2 ? 10 * TEST_TIMEOUT_MS : 2000;
        jobs[i] = virSupJobCreate(g, &p);
        if (!jobs[i])
            fail_msg("virSupJobCreate(%s): %s", p.op->name, virGetLastErrorMessage());
    }
    for (int i = 0; i < NJOBS; i++)
        waitPercent(jobs[i], 20); /* every worker really started */
    for (int i = 0; i < NJOBS; i++)
        assert_int_equal(virJobCancel(jobs[i]), 0);
    for (int i = 0; i < NJOBS; i++) {
        waitEnded(jobs[i]);
        assert_int_equal(jobState(jobs[i]), VIR_JOB_CANCELLED);
        /* Cooperating ones stopped on SIGTERM; hanging ones were SIGKILLed
         * at the grace period. */
        assert_string_equal(jobErrorMessage(jobs[i]), i % 2 ?
                            "cancelled by request" :
                            "cancelled: worker did not stop within 2 s, killed");
        assert_int_equal(virJobDestroy(jobs[i]), 0);
    }
    virSupGroupClose(g);
    assert_int_equal(testCountChildren(), 0);
    assert_int_equal(testCountFDs(), fds);
    setrlimit(RLIMIT_NOFILE, &rl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(testThreadsShareJobs),
        cmocka_unit_test(testThousandJobsThroughCap),
        cmocka_unit_test(testBurstNothingLost),
    };
    return cmocka_run_group_tests(tests, jobTestSetup, jobTestTeardown);
}
