/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * app-fork-test.c: an application that forks. Here: the application is
 * SIGKILLed while a forked child of it lives on, holding copies of every
 * descriptor it inherited (the spawn helper's socket among them). The
 * helper and the workers must go with the application, as the docs
 * promise, not when that child ends: the helper watches the application's
 * process itself (a pidfd), not only its socket.
 *
 * The application is a forked child of this test (so that it can be
 * killed); its own child waits for this test to close a pipe.
 */
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "jobtest.h"

typedef struct {
    pid_t helper, worker, child;
} appPids;

/* The application: a connection, one running job, a forked child that
 * outlives it; reports the pids and waits to be killed. */
static void appMain(int report, int hold) __attribute__((noreturn));
static void appMain(int report, int hold)
{
    appPids p = { 0, 0, 0 };
    virSupGroup *g = virSupGroupNew(NULL);
    if (!g)
        _exit(2);
    virSupJobParams jp;
    memset(&jp, 0, sizeof(jp));
    jp.op = &opHang;
    jp.target = "unit";
    virJobPtr job = virSupJobCreate(g, &jp);
    if (!job)
        _exit(3);
    virSupJobSnapshot snap;
    if (!TEST_WAIT_UNTIL((virSupJobSnapshotGet(job, &snap, true),
                          snap.worker_pid > 0 && snap.percent >= 40), TEST_TIMEOUT_MS))
        _exit(4);
    p.worker = snap.worker_pid;
    p.helper = virSupHelperPid();
    p.child = fork();
    if (p.child < 0)
        _exit(5);
    if (p.child == 0) {
        /* Holds everything the application had open until the test
         * closes its end of @hold (or dies). */
        char c;
        close(report);
        while (read(hold, &c, 1) < 0 && errno == EINTR)
            ;
        _exit(0);
    }
    if (write(report, &p, sizeof(p)) != (ssize_t)sizeof(p))
        _exit(6);
    for (;;)
        pause();
}

static void testAppKilledChildLives(void **s)
{
    (void)s;
    int rep[2], hold[2];
    assert_int_equal(pipe2(rep, O_CLOEXEC), 0);
    assert_int_equal(pipe2(hold, O_CLOEXEC), 0);
    pid_t app = fork();
    assert_true(app >= 0);
    if (app == 0) {
        close(rep[0]);
        close(hold[1]);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        appMain(rep[1], hold[0]);
    }
    close(rep[1]);
    close(hold[0]);

    appPids p;
    struct pollfd pfd = { .fd = rep[0], .events = POLLIN };
    assert_int_equal(poll(&pfd, 1, TEST_TIMEOUT_MS), 1);
    if (read(rep[0], &p, sizeof(p)) != (ssize_t)sizeof(p)) {
        int st = 0;
        waitpid(app, &st, 0);
        fail_msg("the application did not start its job (status %d)", st);
    }
    close(rep[0]);
    assert_true(p.helper > 0 && p.worker > 0 && p.child > 0);
    assert_true(testProcessAlive(p.helper));
    assert_true(testProcessAlive(p.worker));

    /* The application dies; its child lives on with the helper's socket. */
    int st;
    assert_int_equal(kill(app, SIGKILL), 0);
    assert_int_equal(waitpid(app, &st, 0), app);
    assert_true(testProcessAlive(p.child));
    bool gone = TEST_WAIT_UNTIL(!testProcessAlive(p.helper) && !testProcessAlive(p.worker),
                                TEST_TIMEOUT_MS);
    bool childLived = testProcessAlive(p.child);
    /* The child ends now (its pipe's write end closes); init reaps it. */
    close(hold[1]);
    if (!gone)
        fail_msg("%d s after the application was killed, with its forked child alive: "
                 "spawn helper %s, worker %s", TEST_TIMEOUT_MS / 1000,
                 testProcessAlive(p.helper) ? "still running" : "gone",
                 testProcessAlive(p.worker) ? "still running" : "gone");
    assert_true(childLived);
    assert_true(TEST_WAIT_UNTIL(!testProcessAlive(p.child), TEST_TIMEOUT_MS));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(testAppKilledChildLives),
    };
    if (!getenv("VIRTSUP_WORKER")) {
        printf("VIRTSUP_WORKER is not set: run through make check\n");
        return 77;
    }
    return cmocka_run_group_tests(tests, jobTestSetup, jobTestTeardown);
}
