/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virprocess-test.c: virProcessWaitGone waits for a process's end, with a
 * pidfd and without one.
 *
 * A child blocks on a pipe; a thread waits for it with virProcessWaitGone;
 * once that thread is seen asleep the pipe is closed and the child exits
 * (a zombie, not reaped: that counts as ended). The wait must return 0
 * only then. It must time out on a process that runs on, and return at
 * once for a pid whose start time is not the one given (a reused pid).
 *
 * The same checks run again in a process where pidfd_open fails with
 * ENOSYS (a seccomp filter), as it does under valgrind: the driver's
 * restart of a guest waits this way for the old guest's shim to exit, and
 * a wait that gave up at once there refused the start ("already
 * running").
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "util/internal.h"
#include "util/virprocess.h"
#include "testutils.h"

typedef struct {
    pid_t pid;
    uint64_t start;
    int timeout;
    atomic_int tid;
    atomic_bool done;
    int rc, err;
} waiter;

static void *waitMain(void *opaque)
{
    waiter *w = opaque;

    atomic_store(&w->tid, (int)syscall(SYS_gettid));
    w->rc = virProcessWaitGone(w->pid, w->start, w->timeout);
    w->err = errno;
    atomic_store(&w->done, true);
    return NULL;
}

/* A child that exits once @fd (a pipe's read end) reads EOF. */
static pid_t blockedChild(int pfd[2])
{
    pid_t pid;
    char c;

    if (pipe2(pfd, O_CLOEXEC) < 0)
        return -1;
    if ((pid = fork()) == 0) {
        close(pfd[1]);
        while (read(pfd[0], &c, 1) < 0 && errno == EINTR)
            ;
        _exit(7);
    }
    close(pfd[0]);
    return pid;
}

/* The checks, without cmocka (they also run in a forked process): 0, or
 * the number of the check that failed (printed). */
static int checks(void)
{
    int pfd[2];
    pid_t pid = blockedChild(pfd);
    uint64_t start;
    waiter w = { .timeout = TEST_TIMEOUT_MS };
    pthread_t thr;
    int status, step = 0;
    bool threaded = false;

#define CHECK(cond) \
    do { \
        step++; \
        if (!(cond)) { \
            fprintf(stderr, "check %d failed: %s (errno %d)\n", step, #cond, errno); \
            goto out; \
        } \
    } while (0)

    CHECK(pid > 0);
    CHECK((start = virProcessStartTime(pid)) != 0);
    /* Runs on: the wait ends with ETIMEDOUT. */
    errno = 0;
    CHECK(virProcessWaitGone(pid, start, 30) < 0 && errno == ETIMEDOUT);
    /* Another start time: not that process, so ended already. */
    CHECK(virProcessWaitGone(pid, start + 1, TEST_TIMEOUT_MS) == 0);
    /* The wait: it sleeps until the child has exited. */
    w.pid = pid;
    w.start = start;
    CHECK(pthread_create(&thr, NULL, waitMain, &w) == 0);
    threaded = true;
    CHECK(TEST_WAIT_UNTIL(atomic_load(&w.tid) > 0, TEST_TIMEOUT_MS));
    CHECK(TEST_WAIT_UNTIL(atomic_load(&w.done) || testProcessState(atomic_load(&w.tid)) == 'S',
                          TEST_TIMEOUT_MS));
    CHECK(!atomic_load(&w.done));
    CHECK(virProcessAlive(pid, start));
    close(pfd[1]);
    pfd[1] = -1;
    pthread_join(thr, NULL);
    threaded = false;
    CHECK(w.rc == 0);
    /* Ended, not reaped (the wait does not reap): a zombie. */
    CHECK(!virProcessAlive(pid, start));
    CHECK(testProcessState(pid) == 'Z');
    /* And a zombie's wait ends at once. */
    CHECK(virProcessWaitGone(pid, start, TEST_TIMEOUT_MS) == 0);
    CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 7);
    pid = -1;
    /* Reaped: gone. */
    CHECK(virProcessWaitGone(w.pid, start, TEST_TIMEOUT_MS) == 0);
    step = 0;
#undef CHECK
 out:
    if (pfd[1] >= 0)
        close(pfd[1]);
    if (threaded)
        pthread_join(thr, NULL);
    if (pid > 0)
        (void)waitpid(pid, NULL, 0);
    return step;
}

static void testWithPidfd(void **state)
{
    int fd;

    (void)state;
    if ((fd = (int)syscall(SYS_pidfd_open, getpid(), 0)) < 0) {
        assert_int_equal(errno, ENOSYS);
        print_message("pidfd_open is missing here (valgrind): the fallback runs\n");
    } else {
        close(fd);
    }
    assert_int_equal(checks(), 0);
}

/* pidfd_open fails with ENOSYS in this process from now on. */
static int denyPidfdOpen(void)
{
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_pidfd_open, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = { (unsigned short)(sizeof(f) / sizeof(f[0])), f };

    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
        prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
        return -1;
    return 0;
}

static void testWithoutPidfd(void **state)
{
    pid_t pid;
    int status;

    (void)state;
    if ((pid = fork()) == 0) {
        if (denyPidfdOpen() < 0) {
            fprintf(stderr, "cannot install the seccomp filter: %s\n", strerror(errno));
            _exit(100);
        }
        if (syscall(SYS_pidfd_open, getpid(), 0) >= 0 || errno != ENOSYS) {
            fprintf(stderr, "pidfd_open still works under the filter\n");
            _exit(101);
        }
        _exit(checks());
    }
    assert_true(pid > 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(testWithPidfd),
        cmocka_unit_test(testWithoutPidfd),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
