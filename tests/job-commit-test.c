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
 *  - Errors raised in a commit stay the job's: the application's error
 *    handler is not called for them; done receives the error each job
 *    ends with (NULL for a completed one), the same virJobGetError then
 *    returns.
 *  - epoll_wait failing for good: every unfinished job ends FAILED saying
 *    so, its worker killed; new jobs are refused; closing the group does
 *    not hang; the next group starts a working supervisor.
 */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>

#include "jobtest.h"
#include "util/virerror.h"

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

    /* Every worker has ended, so every job is committing or waiting for
     * a commit thread. (Jobs need not start in the order they were
     * created: one may go to a ready worker while the one before it waits
     * for a worker forked for it.) */
    for (int i = 0; i < N; i++) {
        virSupJobSnapshot snap;
        assert_true(TEST_WAIT_UNTIL((virSupJobSnapshotGet(jobs[i], &snap, true),
                                     snap.worker_pid > 0), TEST_TIMEOUT_MS));
        assert_true(TEST_WAIT_UNTIL(!testProcessAlive(snap.worker_pid), TEST_TIMEOUT_MS));
    }

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

/* What done saw, per job (at most DONE_MAX jobs per test). */
enum { DONE_MAX = 4 };
typedef struct {
    virJobPtr job;
    int state;
    bool hadError;
    int domain, code;
    char message[256];
} doneRecord;
static pthread_mutex_t doneLock = PTHREAD_MUTEX_INITIALIZER;
static doneRecord doneSeen[DONE_MAX];
static int ndoneSeen;
static atomic_int handlerCalls;

static void recordingDone(virJobPtr job, void *opaque, virJobState state,
                          const virError *err)
{
    (void)opaque;
    pthread_mutex_lock(&doneLock);
    if (ndoneSeen < DONE_MAX) {
        doneRecord *r = &doneSeen[ndoneSeen++];
        r->job = job;
        r->state = state;
        r->hadError = err != NULL;
        if (err) {
            r->domain = err->domain;
            r->code = err->code;
            snprintf(r->message, sizeof(r->message), "%s",
                     err->message ? err->message : "");
        }
    }
    pthread_mutex_unlock(&doneLock);
}

static const doneRecord *doneFor(virJobPtr job)
{
    const doneRecord *found = NULL;
    pthread_mutex_lock(&doneLock);
    for (int i = 0; i < ndoneSeen; i++)
        if (doneSeen[i].job == job)
            found = &doneSeen[i];
    pthread_mutex_unlock(&doneLock);
    assert_non_null(found);
    return found;
}

/* A commit that refuses, as one finding the disk full would. */
static int refusingCommit(virJobPtr job, void *opaque, const void *res, size_t len)
{
    (void)job; (void)opaque; (void)res; (void)len;
    virReportError(VIR_ERR_OPERATION_FAILED, "%s",
                   "cannot link the image into place: no space left on device");
    return -1;
}

static void countingHandler(void *opaque, virErrorPtr err)
{
    (void)opaque; (void)err;
    atomic_fetch_add(&handlerCalls, 1);
}

static const virSupOp opRefused = {
    .name = "test.succeed", .type = VIR_JOB_BOUNDED,
    .commit = refusingCommit, .done = recordingDone,
};
static const virSupOp opDoneOnly = {
    .name = "test.succeed", .type = VIR_JOB_BOUNDED, .done = recordingDone,
};
static const virSupOp opDoneCancel = {
    .name = "test.cancel", .type = VIR_JOB_BOUNDED, .done = recordingDone,
};
static const virSupOp opDoneSegv = {
    .name = "test.segv", .type = VIR_JOB_BOUNDED, .done = recordingDone,
};

/* done's error is the one the job ends with; done must have seen it
 * before the job's end was published. */
static void checkDoneError(virJobPtr job, int state)
{
    const doneRecord *r = doneFor(job);
    assert_int_equal(r->state, state);
    assert_int_equal(jobState(job), state);
    virErrorPtr e = virJobGetError(job);
    if (state == VIR_JOB_COMPLETE) {
        assert_false(r->hadError);
        assert_null(e);
        return;
    }
    assert_true(r->hadError);
    assert_non_null(e);
    assert_int_equal(r->domain, e->domain);
    assert_int_equal(r->code, e->code);
    assert_string_equal(r->message, e->message);
}

static void testDoneGetsJobError(void **s)
{
    (void)s;
    pthread_mutex_lock(&doneLock);
    ndoneSeen = 0;
    pthread_mutex_unlock(&doneLock);
    atomic_store(&handlerCalls, 0);
    /* An application's handler: it must hear of errors of its own calls
     * only, not of a commit's on a library thread. */
    virSetErrorFunc(NULL, countingHandler);

    virSupGroupConfig cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.grace_ms = 200;
    virSupGroup *g = virSupGroupNew(&cfg);
    assert_non_null(g);

    virJobPtr refused = startJob(g, &opRefused, NULL);
    virJobPtr ok = startJob(g, &opDoneOnly, NULL);
    virJobPtr cancelled = startJob(g, &opDoneCancel, "pct=20");
    virJobPtr crashed = startJob(g, &opDoneSegv, "pct=10");
    waitPercent(cancelled, 20);
    assert_int_equal(virJobCancel(cancelled), 0);
    waitEnded(refused);
    waitEnded(ok);
    waitEnded(cancelled);
    waitEnded(crashed);

    checkDoneError(refused, VIR_JOB_FAILED);
    assert_int_equal(doneFor(refused)->code, VIR_ERR_OPERATION_FAILED);
    assert_string_equal(doneFor(refused)->message,
                        "cannot link the image into place: no space left on device");
    checkDoneError(ok, VIR_JOB_COMPLETE);
    checkDoneError(cancelled, VIR_JOB_CANCELLED);
    assert_int_equal(doneFor(cancelled)->code, VIR_ERR_OPERATION_ABORTED);
    checkDoneError(crashed, VIR_JOB_FAILED);
    assert_string_equal(doneFor(crashed)->message, "worker crashed: signal 11 (SIGSEGV)");
    assert_int_equal(atomic_load(&handlerCalls), 0);

    /* The handler itself works: an error of this thread's own call. */
    assert_int_equal(virJobDestroy(NULL), -1);
    assert_int_equal(atomic_load(&handlerCalls), 1);
    virSetErrorFunc(NULL, NULL);

    assert_int_equal(virJobDestroy(refused), 0);
    assert_int_equal(virJobDestroy(ok), 0);
    assert_int_equal(virJobDestroy(cancelled), 0);
    assert_int_equal(virJobDestroy(crashed), 0);
    virSupGroupClose(g);
}

/* A done step that adds what it could not put right to the job's error
 * (virSupJobErrorAppend): a note per call, refused for a completed job
 * and outside done. */
static int appendRc[4] = { 9, 9, 9, 9 };   /* done's calls: ok, empty, long, completed */
static char appendSeen[600];                /* @err's text after the first note */

/* On the commit thread: what it sees is checked by the test's thread. */
static void notingDone(virJobPtr job, void *opaque, virJobState state, const virError *err)
{
    char longNote[700];

    (void)opaque;
    pthread_mutex_lock(&doneLock);
    if (state == VIR_JOB_COMPLETE) {
        appendRc[3] = virSupJobErrorAppend(job, "never shown");
    } else {
        appendRc[0] = virSupJobErrorAppend(job, "the guest may be left paused: no answer");
        /* @err points at the error the job ends with: the note is in it. */
        snprintf(appendSeen, sizeof(appendSeen), "%s", err->message);
        appendRc[1] = virSupJobErrorAppend(job, "");
        memset(longNote, 'x', sizeof(longNote) - 1);
        longNote[sizeof(longNote) - 1] = '\0';
        appendRc[2] = virSupJobErrorAppend(job, longNote);
    }
    pthread_mutex_unlock(&doneLock);
}

static const virSupOp opNotingSegv = {
    .name = "test.segv", .type = VIR_JOB_BOUNDED, .done = notingDone,
};
static const virSupOp opNotingOk = {
    .name = "test.succeed", .type = VIR_JOB_BOUNDED, .done = notingDone,
};

static void testDoneAddsToError(void **s)
{
    (void)s;
    virSupGroup *g = virSupGroupNew(NULL);
    assert_non_null(g);
    virJobPtr crashed = startJob(g, &opNotingSegv, "pct=10");
    virJobPtr ok = startJob(g, &opNotingOk, NULL);
    /* Not in its done step: refused, nothing changed. */
    assert_int_equal(virSupJobErrorAppend(crashed, "too early"), -1);
    waitEnded(crashed);
    waitEnded(ok);

    virErrorPtr e = virJobGetError(crashed);
    assert_non_null(e);
    printf("the crashed job's error, noted by its done step: %.120s...\n", e->message);
    const char *start = "worker crashed: signal 11 (SIGSEGV); the guest may be left paused: "
                        "no answer; xxx";
    assert_memory_equal(e->message, start, strlen(start));
    /* Cut to the error's room, whole otherwise. */
    assert_int_equal(strlen(e->message), 511);
    assert_null(strstr(e->message, "too early"));
    assert_int_equal(virSupJobErrorAppend(crashed, "after the end"), -1);
    pthread_mutex_lock(&doneLock);
    assert_int_equal(appendRc[0], 0);
    assert_string_equal(appendSeen, "worker crashed: signal 11 (SIGSEGV); the guest may be "
                        "left paused: no answer");
    assert_int_equal(appendRc[1], -1);
    assert_int_equal(appendRc[2], 0);
    assert_int_equal(appendRc[3], -1);   /* the completed job's */
    pthread_mutex_unlock(&doneLock);
    assert_null(virJobGetError(ok));

    assert_int_equal(virJobDestroy(crashed), 0);
    assert_int_equal(virJobDestroy(ok), 0);
    virSupGroupClose(g);
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
        cmocka_unit_test_setup_teardown(testDoneGetsJobError, setup, teardown),
        cmocka_unit_test_setup_teardown(testDoneAddsToError, setup, teardown),
        cmocka_unit_test_setup_teardown(testEventLoopFailure, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
