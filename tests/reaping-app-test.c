/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * reaping-app-test.c: an application with a thread that reaps every child
 * it can (waitpid(-1, ..., __WALL), as some process managers and language
 * runtimes do). The library's spawn helper is started through a
 * short-lived middle process; the application may reap that middle
 * process before the library does. Starting the helper must not depend on
 * it: 40 supervisor starts in a row (4 under valgrind) must all succeed (before the fix,
 * about 7 in 10 failed), and no error may
 * ever say "signal 0".
 */
#include <pthread.h>
#include <stdio.h>
#include <sys/wait.h>

#include "jobtest.h"

/* Under valgrind each start costs far more (the short-lived middle process
 * is a traced copy of this program): fewer there. */
#define STARTS (RUNNING_ON_VALGRIND ? 4 : 40)

static atomic_bool stopReaping;
static atomic_int reaped;

static void *reaper(void *arg)
{
    (void)arg;
    while (!atomic_load(&stopReaping)) {
        int st;
        pid_t pid = waitpid(-1, &st, __WALL);
        if (pid > 0) {
            atomic_fetch_add(&reaped, 1);
        } else if (errno == ECHILD) {
            /* No child now: wait for the next one, without spinning. */
            struct timespec ts = { 0, 200000 };
            nanosleep(&ts, NULL);
        }
    }
    return NULL;
}

static void testStartsWhileAppReaps(void **s)
{
    (void)s;
    pthread_t th;
    int failed = 0;
    char first[512] = "";

    assert_int_equal(pthread_create(&th, NULL, reaper, NULL), 0);
    long long slowest = 0;
    for (int i = 0; i < STARTS; i++) {
        long long t0 = testNowMs();
        /* The first group of the process starts the supervisor and the
         * helper; closing the last stops them. */
        virSupGroup *g = virSupGroupNew(NULL);
        if (!g) {
            const char *msg = virGetLastErrorMessage();
            if (strstr(msg, "signal 0"))
                fail_msg("start %d: an error says 'signal 0': %s", i, msg);
            if (!failed++)
                snprintf(first, sizeof(first), "%s", msg);
            continue;
        }
        if (i % 10 == 0) {
            /* And the helper works: a job runs to completion. */
            virJobPtr job = startJob(g, &opSucceed, NULL);
            waitEnded(job);
            assert_int_equal(jobState(job), VIR_JOB_COMPLETE);
            assert_int_equal(virJobDestroy(job), 0);
        }
        virSupGroupClose(g);
        if (testNowMs() - t0 > slowest)
            slowest = testNowMs() - t0;
    }
    atomic_store(&stopReaping, true);
    assert_int_equal(pthread_join(th, NULL), 0);
    printf("%d starts, %d failed; the application's thread reaped %d processes; "
           "slowest start and stop %lld ms\n", STARTS, failed, atomic_load(&reaped), slowest);
    if (failed)
        fail_msg("%d of %d starts failed, the first with: %s", failed, STARTS, first);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(testStartsWhileAppReaps),
    };
    if (!getenv("VIRTSUP_WORKER")) {
        printf("VIRTSUP_WORKER is not set: run through make check\n");
        return 77;
    }
    return cmocka_run_group_tests(tests, jobTestSetup, jobTestTeardown);
}
