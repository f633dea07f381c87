/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * job-commit-test.c: commit steps run off the reaper thread, and the
 * event loop's failure fails jobs cleanly.
 *
 *  - A commit that blocks (here: until the test lets it go, which it does
 *    only at the end) while another job is cancelled (its worker ignores
 *    SIGTERM, so the grace period's SIGKILL is needed) and another crashes:
 *    both are seen ended while the commit still blocks. With commits on
 *    the reaper, neither would end before the commit returned.
 *  - Several commits blocking at once each hold a commit thread; reaping
 *    goes on; closing the group waits for every commit.
 *  - epoll_wait failing for good: every unfinished job ends FAILED saying
 *    so, its worker killed; new jobs are refused; closing the group does
 *    not hang; the next group starts a working supervisor.
 */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>

#include "jobtest.h"

/* A commit that tells the test it runs, then waits for its release (a
 * pipe), for at most TEST_TIMEOUT_MS so that a broken supervisor fails the
 * test instead of hanging it. */
static int releasePipe[2] = { -1, -1 };
static atomic_int commitsRunning, commitsDone;

static int blockingCommit(virJobPtr job, void *opaque, const void *res, size_t len)
{
    (void)job; (void)opaque; (void)res; (void)len;
    atomic_fetch_add(&commitsRunning, 1);
    struct pollfd pfd = { .fd = releasePipe[0], .events = POLLIN };
    (void)poll(&pfd, 1, TEST_TIMEOUT_MS);
    atomic_fetch_add(&commitsDone, 1);
    return 0;
}

static const virSupOp opBlocking = {
    .name = "test.succeed", .type = VIR_JOB_BOUNDED, .commit = blockingCommit,
};

static void releaseCommits(void)
{
    char c = 'x';
    assert_int_equal(write(releasePipe[1], &c, 1), 1);   /* readable for every poll */
}

static int setup(void **state)
{
    atomic_store(&commitsRunning, 0);
    atomic_store(&commitsDone, 0);
    if (pipe2(releasePipe, O_CLOEXEC) < 0)
        return -1;
    return jobTestSetup(state);
}

static int teardown(void **state)
{
    close(releasePipe[0]);
    close(releasePipe[1]);
    releasePipe[0] = releasePipe[1] = -1;
    return jobTestTeardown(state);
}

static void testCommitOffReaper(void **s)
{
    (void)s;
    virSupGroupConfig cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.grace_ms = 200;
    virSupGroup *g = virSupGroupNew(&cfg);
    assert_non_null(g);

    virJobPtr slow = startJob(g, &opBlocking, NULL);
    assert_true(TEST_WAIT_UNTIL(atomic_load(&commitsRunning) == 1, TEST_TIMEOUT_MS));

    long long t0 = testNowMs();
    virJobPtr cancelled = startJob(g, &opHang, "pct=20");
    virJobPtr crashed = startJob(g, &opSegv, "pct=10");
    waitPercent(cancelled, 20);
    assert_int_equal(virJobCancel(cancelled), 0);
    waitEnded(cancelled);
    waitEnded(crashed);
    long long t1 = testNowMs();
    /* Both ended while the commit still blocks. */
    assert_int_equal(atomic_load(&commitsDone), 0);
    assert_int_equal(jobState(slow), VIR_JOB_RUNNING);
    assert_int_equal(jobState(cancelled), VIR_JOB_CANCELLED);
    assert_string_equal(jobErrorMessage(cancelled),
                        "cancelled: worker did not stop within 0.2 s, killed");
    assert_int_equal(jobState(crashed), VIR_JOB_FAILED);
    assert_string_equal(jobErrorMessage(crashed), "worker crashed: signal 11 (SIGSEGV)");
    print_message("cancelled and crashed jobs ended %lld ms after they started, "
                  "while a commit blocked\n", t1 - t0);

    releaseCommits();
    waitEnded(slow);
    assert_int_equal(jobState(slow), VIR_JOB_COMPLETE);
    assert_int_equal(atomic_load(&commitsDone), 1);
    assert_int_equal(virJobDestroy(slow), 0);
    assert_int_equal(virJobDestroy(cancelled), 0);
    assert_int_equal(virJobDestroy(crashed), 0);
    virSupGroupClose(g);
}

typedef struct {
    virSupGroup *g;
    atomic_bool closed;
} closer;

static void *closeThread(void *arg)
{
    closer *c = arg;
    virSupGroupClose(c->g);
    atomic_store(&c->closed, true);
    return NULL;
}

static void testCloseWaitsForCommits(void **s)
{
    (void)s;
    enum { N = 6 };
    virSupGroup *g = virSupGroupNew(NULL);
    assert_non_null(g);
    virJobPtr jobs[N];
    for (int i = 0; i < N; i++)
        jobs[i] = startJob(g, &opBlocking, NULL);
    /* As many run at once as there are commit threads (at least 2, at
     * most N); the others wait for a thread; reaping goes on meanwhile. */
    assert_true(TEST_WAIT_UNTIL(atomic_load(&commitsRunning) >= 2, TEST_TIMEOUT_MS));
    virJobPtr other = startJob(g, &opSucceed, NULL);
    waitEnded(other);
    assert_int_equal(jobState(other), VIR_JOB_COMPLETE);
    assert_true(virSupTestCommitThreads() >= 2);
    assert_true(virSupTestCommitThreads() <= N);

    /* Closing the group waits for every commit. */
    closer c = { .g = g };
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, closeThread, &c), 0);
    for (int i = 0; i < N; i++)
        assert_int_equal(jobState(jobs[i]), VIR_JOB_RUNNING);
    assert_false(atomic_load(&c.closed));
    releaseCommits();
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_true(atomic_load(&c.closed));
    assert_int_equal(atomic_load(&commitsDone), N);
    for (int i = 0; i < N; i++) {
        assert_int_equal(jobState(jobs[i]), VIR_JOB_COMPLETE);
        assert_int_equal(virJobDestroy(jobs[i]), 0);
    }
    assert_int_equal(virJobDestroy(other), 0);
}

static void testEventLoopFailure(void **s)
{
    (void)s;
    virSupGroup *g = virSupGroupNew(NULL);
    assert_non_null(g);
    virJobPtr waiting = startJob(g, &opCancel, "pct=20");
    waitPercent(waiting, 20);
    pid_t worker = 0;
    assert_true(TEST_WAIT_UNTIL((worker = jobStatInt(waiting, VIR_JOB_STATS_WORKER_PID)) > 0,
                                TEST_TIMEOUT_MS));

    virSupTestBreakEventLoop();
    waitEnded(waiting);
    assert_int_equal(jobState(waiting), VIR_JOB_FAILED);
    assert_non_null(strstr(jobErrorMessage(waiting), "event loop failed"));
    assert_true(TEST_WAIT_UNTIL(!testProcessAlive(worker), TEST_TIMEOUT_MS));

    /* New jobs are refused, saying why. */
    virSupJobParams p;
    memset(&p, 0, sizeof(p));
    p.op = &opSucceed;
    assert_null(virSupJobCreate(g, &p));
    assert_non_null(strstr(virGetLastErrorMessage(), "event loop failed"));

    assert_int_equal(virJobDestroy(waiting), 0);
    virSupGroupClose(g);
    assert_int_equal(testCountChildren(), 0);

    /* A new supervisor works. */
    g = virSupGroupNew(NULL);
    assert_non_null(g);
    virJobPtr ok = startJob(g, &opSucceed, NULL);
    waitEnded(ok);
    assert_int_equal(jobState(ok), VIR_JOB_COMPLETE);
    assert_int_equal(virJobDestroy(ok), 0);
    virSupGroupClose(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(testCommitOffReaper, setup, teardown),
        cmocka_unit_test_setup_teardown(testCloseWaitsForCommits, setup, teardown),
        cmocka_unit_test_setup_teardown(testEventLoopFailure, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
