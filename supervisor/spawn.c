/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spawn.c: start and talk to the spawn helper.
 *
 * The helper (virtsup-worker --spawn-helper) is exec'd fresh, so it never
 * holds the client's memory, and forks one worker per job. It must stay out
 * of the application's sight: no SIGCHLD for it or its workers, and no way
 * for the application's waitpid(-1) to reap it. A clone3 child with
 * exit_signal 0 is invisible that way, but execve resets the exit signal to
 * SIGCHLD, so the exec'd helper cannot be our child: a middle process
 * (clone3, exit_signal 0, never execs) forks the helper and exits at once;
 * the helper's hello tells us it started, and we reap the middle with
 * waitid(P_PIDFD, __WALL) unless the application's own waitpid(-1, __WALL)
 * took it first; the helper is adopted by init (or the application's
 * subreaper). We keep a pidfd of the helper to
 * wait for its exit at shutdown.
 */
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#define VIR_FROM_THIS VIR_FROM_JOB
#include "supervisor/job-priv.h"
#include "util/virerror.h"
#include "util/virprocess.h"

#define HELPER_HELLO_TIMEOUT_MS 30000
#define HELPER_MIDDLE_EXIT_MS   5000

extern char **environ;

static int pidfdOpen(pid_t pid)
{
    return (int)syscall(SYS_pidfd_open, pid, 0);
}

/* Environment the helper gets: a fixed PATH and the sanitizers' options,
 * the number of ready workers (VIR_HELPER_ENV_POOL),
 * nothing else. The application's environment may hold secrets, and a
 * loader variable (LD_PRELOAD, LD_LIBRARY_PATH) must not reach a process
 * that handles hostile input; the worker links only system libraries. */
static const char *const keepEnv[] = {
    "ASAN_OPTIONS=", "UBSAN_OPTIONS=", "LSAN_OPTIONS=", "TSAN_OPTIONS=",
    VIR_HELPER_ENV_POOL "=",
};

static size_t buildEnv(char **envp, size_t max, char *app, size_t applen)
{
    size_t n = 0;
    envp[n++] = (char *)"PATH=/usr/sbin:/usr/bin:/sbin:/bin";
    /* Who the application is (its pid and start time): the helper watches
     * it through a pidfd and goes, with its workers, when it ends, even if
     * a forked child of it still holds the helper's socket. */
    snprintf(app, applen, "%s=%d:%llu", VIR_HELPER_ENV_APP, (int)getpid(),
             (unsigned long long)virProcessStartTime(getpid()));
    envp[n++] = app;
    for (char **e = environ; e && *e && n + 1 < max; e++)
        for (size_t k = 0; k < ARRAY_CARDINALITY(keepEnv); k++)
            if (strncmp(*e, keepEnv[k], strlen(keepEnv[k])) == 0)
                envp[n++] = *e;
    envp[n] = NULL;
    return n;
}

/* Runs in the forked copy of the (multi-threaded) client: async-signal-safe
 * system calls only, no allocation, no locks. Never returns. */
static void helperChild(int sock, const char *path, char *const argv[],
                        char *const envp[]) __attribute__((noreturn));
static void helperChild(int sock, const char *path, char *const argv[],
                        char *const envp[])
{
    if (sock != VIR_HELPER_FD_SOCKET) {
        if (dup2(sock, VIR_HELPER_FD_SOCKET) < 0)
            virProcessRawExit(VIR_WORKER_EXIT_EXEC);
    } else {
        /* dup2 onto itself keeps CLOEXEC; clear it by hand. */
        if (fcntl(sock, F_SETFD, 0) < 0)
            virProcessRawExit(VIR_WORKER_EXIT_EXEC);
    }
    /* Nothing of the application's crosses the exec, CLOEXEC or not. */
    (void)syscall(SYS_close_range, VIR_HELPER_FD_SOCKET + 1, ~0U, 0);
    sigset_t none;
    sigemptyset(&none);
    (void)sigprocmask(SIG_SETMASK, &none, NULL);
    execve(path, argv, envp);

    virProtoError err;
    memset(&err, 0, sizeof(err));
    err.hdr.type = VIR_PROTO_EXEC_FAILED;
    err.hdr.version = VIR_PROTO_VERSION;
    err.err = errno;
    (void)send(VIR_HELPER_FD_SOCKET, &err, sizeof(err), MSG_NOSIGNAL);
    virProcessRawExit(VIR_WORKER_EXIT_EXEC);
}

/* Reap the middle process through its pidfd (closed here) and describe
 * how it ended in @how ("exited with status 127 (fork failed)"). It exits
 * right after its fork, so the wait is short; an application that reaps
 * every child may have taken it already (ECHILD), and that is fine.
 * Without a pidfd (pidfd_open missing: valgrind) it is reaped by pid, as
 * soon as the helper said hello, which leaves no time for its pid to be
 * reused. Returns 0 if it exited with status 0 (it made the helper), 1
 * otherwise, -1 if unknown. */
static int reapMiddle(int *mpidfd, pid_t *mid, char *how, size_t howlen)
{
    siginfo_t si;
    int r = -1;

    memset(&si, 0, sizeof(si));
    if (*mpidfd >= 0) {
        struct pollfd pfd = { .fd = *mpidfd, .events = POLLIN };
        while (poll(&pfd, 1, HELPER_MIDDLE_EXIT_MS) < 0 && errno == EINTR)
            ;
        do {
            r = waitid(P_PIDFD, (id_t)*mpidfd, &si, WEXITED | WNOHANG | __WALL);
        } while (r < 0 && errno == EINTR);
        virForceClose(mpidfd);
    } else if (*mid > 0) {
        do {
            r = waitid(P_PID, (id_t)*mid, &si, WEXITED | __WALL);
        } while (r < 0 && errno == EINTR);
    }
    *mid = 0;
    if (r < 0 || si.si_pid == 0) {
        if (how)
            snprintf(how, howlen, "ended before the helper said hello (how is "
                     "unknown: the application reaped it)");
        return -1;
    }
    if (si.si_code == CLD_EXITED) {
        if (how)
            snprintf(how, howlen, "exited with status %d%s", si.si_status,
                     si.si_status == VIR_WORKER_EXIT_EXEC ? " (fork failed)" : "");
        return si.si_status == 0 ? 0 : 1;
    }
    if (how)
        snprintf(how, howlen, "was killed by signal %d (%s)", si.si_status,
                 virSupSignalName(si.si_status));
    return 1;
}

int virSupSocketPair(int sv[2])
{
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        return -1;
    sv[0] = virFDAboveStdio(sv[0]);
    sv[1] = virFDAboveStdio(sv[1]);
    if (sv[0] < 0 || sv[1] < 0) {
        int saved = errno;
        if (sv[0] >= 0)
            close(sv[0]);
        if (sv[1] >= 0)
            close(sv[1]);
        sv[0] = sv[1] = -1;
        errno = saved;
        return -1;
    }
    return 0;
}

int virSupHelperStart(virSupHelper *h, const char *worker_path, const char *profile)
{
    int sv[2] = { -1, -1 };
    /* The profile's name shows in ps; the helper learns its sandbox from
     * the first record on its socket. */
    char *argv[] = { (char *)"virtsup-worker", (char *)"--spawn-helper",
                     (char *)profile, NULL };
    char *envp[16];
    char appEnv[64];
    int mpidfd = -1;
    pid_t midpid = 0;

    h->sock = -1;
    h->pid = 0;
    h->start = 0;
    h->pidfd = -1;

    if (access(worker_path, X_OK) < 0) {
        virReportSystemError(errno, "cannot run the worker program %s", worker_path);
        return -1;
    }
    if (virSupSocketPair(sv) < 0) {
        virReportSystemError(errno, "%s", "cannot create the spawn helper's socket");
        return -1;
    }
    buildEnv(envp, ARRAY_CARDINALITY(envp), appEnv, sizeof(appEnv));

    struct clone_args ca;
    memset(&ca, 0, sizeof(ca));
    ca.flags = CLONE_PIDFD;
    ca.pidfd = (uint64_t)(uintptr_t)&mpidfd;
    ca.exit_signal = 0; /* no SIGCHLD, invisible to waitpid(-1) */
    long mid = syscall(SYS_clone3, &ca, sizeof(ca));
    bool byPid = false;
    if (mid < 0 && errno == ENOSYS) {
        /* clone3 is missing under some emulators (valgrind): the classic
         * clone with exit signal 0 is just as invisible to waitpid(-1)
         * without __WALL; its pidfd is taken right after. */
        mpidfd = -1;
        mid = syscall(SYS_clone, 0 /* flags; exit signal 0 */, NULL, NULL, NULL, NULL);
        /* ESRCH: the application reaped it already; ENOSYS (valgrind
         * again): reaped by pid below. */
        if (mid > 0 && (mpidfd = pidfdOpen((pid_t)mid)) < 0 && errno == ENOSYS)
            byPid = true;
    }
    if (mid < 0) {
        virReportSystemError(errno, "%s", "cannot start the spawn helper (clone)");
        goto error;
    }
    if (mid == 0) {
        /* The middle process: a copy of the client; async-signal-safe only. */
        pid_t helper = _Fork();
        if (helper == 0)
            helperChild(sv[1], worker_path, argv, envp);
        virProcessMiddleExit(helper < 0 ? VIR_WORKER_EXIT_EXEC : 0);
    }
    if (byPid)
        midpid = (pid_t)mid;
    close(sv[1]);
    sv[1] = -1;

    /* The helper's hello says it started; nothing depends on reaping the
     * middle process, which an application reaping every child
     * (waitpid(-1, ..., __WALL)) may do before us. If no helper was made,
     * the middle's exit closed the last copy of its end: EOF. */
    struct pollfd pfd = { .fd = sv[0], .events = POLLIN };
    int pr;
    do {
        pr = poll(&pfd, 1, HELPER_HELLO_TIMEOUT_MS);
    } while (pr < 0 && errno == EINTR);
    if (pr <= 0) {
        virReportError(VIR_ERR_OPERATION_TIMEOUT,
                       "the spawn helper %s did not start within %d s",
                       worker_path, HELPER_HELLO_TIMEOUT_MS / 1000);
        goto error;
    }
    union { virProtoHeader hdr; virProtoHello hello; virProtoError err; } m;
    memset(&m, 0, sizeof(m));
    ssize_t n = recv(sv[0], &m, sizeof(m), MSG_DONTWAIT);
    if (n == 0) {
        /* No helper holds the socket: either none was made (the middle's
         * fork failed), or it ran and exited without a word. */
        char how[128];
        int st = reapMiddle(&mpidfd, &midpid, how, sizeof(how));
        if (st == 0)
            virReportError(VIR_ERR_INTERNAL_ERROR,
                           "the worker program %s did not answer as a libvirtsup %s "
                           "spawn helper: it exited first (wrong version installed?)",
                           worker_path, VIRTSUP_VERSION);
        else
            virReportError(VIR_ERR_INTERNAL_ERROR,
                           "cannot start the spawn helper %s: its start-up process %s",
                           worker_path, how);
        goto error;
    }
    if (n == (ssize_t)sizeof(virProtoError) && m.hdr.type == VIR_PROTO_EXEC_FAILED) {
        virReportSystemError(m.err.err, "cannot execute the worker program %s",
                             worker_path);
        goto error;
    }
    if (n != (ssize_t)sizeof(virProtoHello) || m.hdr.type != VIR_PROTO_HELLO ||
        m.hdr.version != VIR_PROTO_VERSION || m.hello.pid <= 0) {
        virReportError(VIR_ERR_INTERNAL_ERROR,
                       "the worker program %s did not answer as a libvirtsup %s "
                       "spawn helper (wrong version installed?)",
                       worker_path, VIRTSUP_VERSION);
        goto error;
    }
    /* The middle has exited (or is about to: it only forks): reap it
     * unless the application already did. */
    reapMiddle(&mpidfd, &midpid, NULL, 0);
    h->pid = m.hello.pid;
    h->start = virProcessStartTime(h->pid);
    h->pidfd = virFDAboveStdio(pidfdOpen(h->pid));
    h->sock = sv[0];
    return 0;

 error:
    reapMiddle(&mpidfd, &midpid, NULL, 0);
    if (sv[0] >= 0)
        close(sv[0]);
    if (sv[1] >= 0)
        close(sv[1]);
    return -1;
}

void virSupHelperStop(virSupHelper *h, int timeout_ms)
{
    /* Closing the socket tells the helper to kill what is left and exit. */
    virForceClose(&h->sock);
    /* A helper stopped by someone (SIGSTOP) would never see it: it is
     * ours and on its way out, let it run to kill what is left. Without
     * a pidfd (valgrind), by pid once its start time says it is ours. */
    if (h->pidfd < 0 && h->pid > 0 && h->start)
        (void)virProcessKillIdentity(h->pid, h->start, SIGCONT);
    if (h->pidfd >= 0) {
        struct pollfd pfd = { .fd = h->pidfd, .events = POLLIN };
        if (syscall(SYS_pidfd_send_signal, h->pidfd, SIGCONT, NULL, 0) < 0 &&
            errno == ENOSYS && poll(&pfd, 1, 0) == 0)
            (void)kill(h->pid, SIGCONT);   /* not ended: still its pid */
        int r;
        do {
            r = poll(&pfd, 1, timeout_ms);
        } while (r < 0 && errno == EINTR);
        if (r == 0)
            (void)syscall(SYS_pidfd_send_signal, h->pidfd, SIGKILL, NULL, 0);
        virForceClose(&h->pidfd);
    }
    h->pid = 0;
}

int virSupHelperSend(virSupHelper *h, const void *msg, size_t len,
                     const int *fds, size_t nfds)
{
    return virSupSendFDs(h->sock, msg, len, fds, nfds);
}

int virSupSendFDs(int sock, const void *msg, size_t len, const int *fds, size_t nfds)
{
    char cbuf[CMSG_SPACE(sizeof(int) * (3 + VIR_PROTO_RESOURCES_MAX))];
    struct iovec iov = { (void *)msg, len };
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };

    if (nfds) {
        memset(cbuf, 0, sizeof(cbuf));
        m.msg_control = cbuf;
        m.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
        struct cmsghdr *c = CMSG_FIRSTHDR(&m);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
    }
    /* Never blocks: the caller holds the supervisor lock, and queues the
     * record when the socket is full (EAGAIN). */
    ssize_t n;
    do {
        n = sendmsg(sock, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    return n < 0 ? -1 : 0;
}
