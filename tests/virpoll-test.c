/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virpoll-test.c: virPollNoIntr is not cut short by signals.
 *
 * A thread waits in virPollNoIntr on a pipe; the test interrupts it with a
 * signal whose handler has no SA_RESTART (poll fails with EINTR even with
 * it) each time the thread is seen asleep in the kernel, several times.
 * Without a limit the wait must go on until the pipe is readable; with a
 * limit it must end with 0 (time up), never -1/EINTR, even though the
 * signals keep coming until it ends.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/syscall.h>

#include "util/internal.h"
#include "util/virpoll.h"
#include "testutils.h"

#define INTERRUPTS 5

static atomic_int handled;

static void onSignal(int signo)
{
    (void)signo;
    atomic_fetch_add(&handled, 1);
}

typedef struct {
    int fd;
    int timeout;
    atomic_int tid;           /* set once the thread runs */
    atomic_bool done;
    int rc, err;
    short revents;
} waiter;

static void *waitMain(void *opaque)
{
    waiter *w = opaque;
    struct pollfd p = { w->fd, POLLIN, 0 };

    atomic_store(&w->tid, (int)syscall(SYS_gettid));
    w->rc = virPollNoIntr(&p, 1, w->timeout);
    w->err = errno;
    w->revents = p.revents;
    atomic_store(&w->done, true);
    return NULL;
}

static void installHandler(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = onSignal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;          /* no SA_RESTART */
    assert_int_equal(sigaction(SIGUSR1, &sa, NULL), 0);
}

/* Interrupt @w's wait once: when its thread sleeps (in poll: it makes no
 * other blocking call), signal it and wait for the handler to have run.
 * Returns false if the wait ended first. */
static bool interruptOnce(pthread_t thr, waiter *w)
{
    int before = atomic_load(&handled);
    pid_t tid;

    assert_true(TEST_WAIT_UNTIL(atomic_load(&w->tid) > 0, TEST_TIMEOUT_MS));
    tid = atomic_load(&w->tid);
    assert_true(TEST_WAIT_UNTIL(atomic_load(&w->done) || testProcessState(tid) == 'S',
                                TEST_TIMEOUT_MS));
    if (atomic_load(&w->done))
        return false;
    assert_int_equal(pthread_kill(thr, SIGUSR1), 0);
    assert_true(TEST_WAIT_UNTIL(atomic_load(&handled) > before, TEST_TIMEOUT_MS));
    return true;
}

static void testNoLimit(void **state)
{
    waiter w = { .timeout = -1 };
    pthread_t thr;
    int pfd[2];

    (void)state;
    installHandler();
    assert_int_equal(pipe(pfd), 0);
    w.fd = pfd[0];
    assert_int_equal(pthread_create(&thr, NULL, waitMain, &w), 0);
    for (int i = 0; i < INTERRUPTS; i++) {
        assert_true(interruptOnce(thr, &w));
        /* Still waiting: the signal did not end it. */
        assert_false(atomic_load(&w.done));
    }
    assert_int_equal(write(pfd[1], "x", 1), 1);
    pthread_join(thr, NULL);
    assert_int_equal(w.rc, 1);
    assert_true(w.revents & POLLIN);
    close(pfd[0]);
    close(pfd[1]);
}

static void testLimit(void **state)
{
    waiter w = { .timeout = 200 };
    pthread_t thr;
    int pfd[2], interrupts = 0;
    long long until = testNowMs() + TEST_TIMEOUT_MS;

    (void)state;
    installHandler();
    assert_int_equal(pipe(pfd), 0);
    w.fd = pfd[0];
    assert_int_equal(pthread_create(&thr, NULL, waitMain, &w), 0);
    /* Signals keep coming: a wait that started its time afresh after each
     * would never end (the test gives up after TEST_TIMEOUT_MS). */
    while (!atomic_load(&w.done) && testNowMs() < until)
        if (interruptOnce(thr, &w))
            interrupts++;
    assert_true(atomic_load(&w.done));
    pthread_join(thr, NULL);
    printf("interrupted %d times in a wait of 200 ms\n", interrupts);
    assert_true(interrupts > 0);
    assert_int_equal(w.rc, 0);
    close(pfd[0]);
    close(pfd[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(testNoLimit),
        cmocka_unit_test(testLimit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
