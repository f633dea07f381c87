/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virprocess.c: process identity from /proc/PID/stat, pidfds, and the
 * detached start of a long-lived program (see virprocess.h).
 */
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#if defined(__has_include)
# if __has_include(<valgrind/valgrind.h>)
#  include <valgrind/valgrind.h>
# endif
#endif

#include "util/internal.h"
#include "util/virpoll.h"
#include "util/virprocess.h"

/* Reads /proc/PID/stat into @buf; returns the text after the command name
 * (" S ppid ..."), or NULL. The command name may hold spaces and ')', so
 * it ends at the last ')'. */
static const char *procStatFields(pid_t pid, char *buf, size_t len)
{
    char path[64];
    size_t got = 0;
    int fd;

    if (pid <= 0) {
        errno = ESRCH;
        return NULL;
    }
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        errno = ESRCH;
        return NULL;
    }
    while (got < len - 1) {
        ssize_t n = read(fd, buf + got, len - 1 - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    buf[got] = '\0';

    char *p = strrchr(buf, ')');
    if (!p)
        errno = EINVAL;
    return p ? p + 1 : NULL;
}

/* Field @n (1-based, n >= 3) of /proc/PID/stat from the text after ')'. */
static const char *statField(const char *rest, int n)
{
    const char *p = rest;

    for (int field = 3; ; field++) {
        while (*p == ' ')
            p++;
        if (!*p)
            return NULL;
        if (field == n)
            return p;
        while (*p && *p != ' ')
            p++;
    }
}

static int statNumber(const char *rest, int n, uint64_t *out)
{
    const char *f = statField(rest, n);
    char *end;
    unsigned long long v;

    if (!f)
        return -1;
    errno = 0;
    v = strtoull(f, &end, 10);
    if (errno || end == f || (*end != ' ' && *end != '\n' && *end != '\0'))
        return -1;
    *out = v;
    return 0;
}

int virProcessStat(pid_t pid, virProcessStatInfo *out)
{
    char buf[2048];
    const char *rest = procStatFields(pid, buf, sizeof(buf));
    const char *state;
    uint64_t ppid, threads;

    if (!rest)
        return -1;
    memset(out, 0, sizeof(*out));
    if (!(state = statField(rest, 3)) ||
        statNumber(rest, 4, &ppid) < 0 ||
        statNumber(rest, 14, &out->utime_ticks) < 0 ||
        statNumber(rest, 15, &out->stime_ticks) < 0 ||
        statNumber(rest, 20, &threads) < 0 ||
        statNumber(rest, 22, &out->start_ticks) < 0 ||
        statNumber(rest, 24, &out->rss_pages) < 0) {
        errno = EINVAL;
        return -1;
    }
    out->state = *state;
    out->ppid = (pid_t)ppid;
    out->threads = (long)threads;
    return 0;
}

uint64_t virProcessStartTime(pid_t pid)
{
    char buf[2048];
    const char *rest = procStatFields(pid, buf, sizeof(buf));
    uint64_t v;

    if (!rest || statNumber(rest, 22, &v) < 0)
        return 0;
    return v;
}

bool virProcessAlive(pid_t pid, uint64_t start)
{
    virProcessStatInfo st;

    if (pid <= 0 || start == 0 || virProcessStat(pid, &st) < 0)
        return false;
    return st.start_ticks == start && st.state != 'Z' && st.state != 'X';
}

int virProcessOpenPidfd(pid_t pid, uint64_t start)
{
    int fd;

    if (pid <= 0 || start == 0) {
        errno = ESRCH;
        return -1;
    }
    if ((fd = (int)syscall(SYS_pidfd_open, pid, 0)) < 0)
        return -1;
    /* The pidfd names whatever process had @pid when it was opened; if
     * that one started at @start, it is ours (a reuse would start later). */
    if (virProcessStartTime(pid) != start) {
        close(fd);
        errno = ESRCH;
        return -1;
    }
    return fd;
}

int virProcessKillIdentity(pid_t pid, uint64_t start, int signo)
{
    int fd = virProcessOpenPidfd(pid, start);

    if (fd >= 0) {
        int rc = virProcessPidfdSignal(fd, signo);
        int err = errno;
        close(fd);
        errno = err;
        return rc;
    }
    if (errno != ENOSYS)
        return -1;
    if (!virProcessAlive(pid, start)) {
        errno = ESRCH;
        return -1;
    }
    return kill(pid, signo);
}

int virProcessWaitGone(pid_t pid, uint64_t start, int timeout_ms)
{
    long long deadline = virTimeMonoMs() + timeout_ms;
    int fd = virProcessOpenPidfd(pid, start);

    if (fd >= 0) {
        struct pollfd p = { fd, POLLIN, 0 };
        int r = virPollNoIntr(&p, 1, timeout_ms);
        int err = errno;
        close(fd);
        if (r > 0)
            return 0;
        errno = r == 0 ? ETIMEDOUT : err;
        return -1;
    }
    if (errno == ESRCH)
        return 0;
    /* No pidfd (pidfd_open missing: valgrind; or refused): look again
     * and again, 1 ms apart at first, at most 20 ms apart. */
    for (long step = 1;; step = step < 20 ? step * 2 : 20) {
        if (!virProcessAlive(pid, start))
            return 0;
        long long left = deadline - virTimeMonoMs();
        if (left <= 0) {
            errno = ETIMEDOUT;
            return -1;
        }
        (void)virPollNoIntr(NULL, 0, left < step ? (int)left : (int)step);
    }
}

int virProcessPidfdSignal(int pidfd, int signo)
{
    return (int)syscall(SYS_pidfd_send_signal, pidfd, signo, NULL, 0);
}

/* The pid that @pidfd names, from /proc/self/fdinfo: -1 once the process
 * was reaped, 0 if it is not in our pid namespace; -2 unreadable. */
static pid_t pidfdPid(int pidfd)
{
    char path[64], buf[512];
    ssize_t n;
    int fd;

    snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", pidfd);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return -2;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return -2;
    buf[n] = '\0';
    const char *p = strstr(buf, "\nPid:");
    return p ? (pid_t)strtol(p + 5, NULL, 10) : -2;
}

/* The zombie fields of the text after ')' of a /proc/PID/stat read:
 * 0, ESRCH (not a zombie), EINVAL or EPERM, as virProcessPidfdZombieStatus
 * says. */
static int zombieFields(const char *rest, pid_t *ppid, int *status)
{
    const char *state;
    uint64_t parent, wchan, code;

    if (!(state = statField(rest, 3)) || statNumber(rest, 4, &parent) < 0 ||
        statNumber(rest, 35, &wchan) < 0 || statNumber(rest, 52, &code) < 0)
        return EINVAL;
    if (*state != 'Z')
        return ESRCH;
    if (wchan != 1)
        return EPERM;
    *ppid = (pid_t)parent;
    *status = (int)code;
    return 0;
}

int virProcessPidfdZombieStatus(int pidfd, pid_t pid, pid_t *ppid, int *status)
{
    char buf[2048];
    const char *rest;
    pid_t p;
    int st;

    if (pidfd < 0 || (rest = procStatFields(pid, buf, sizeof(buf))) == NULL) {
        errno = ESRCH;
        return -1;
    }
    int err = zombieFields(rest, &p, &st);
    /* Read before this check: if the pidfd's process is still not reaped
     * now, the pid was its own all along, and the text above is its. */
    if (err == 0 || err == EPERM)
        err = pidfdPid(pidfd) != pid ? ESRCH : err;
    if (err) {
        errno = err;
        return -1;
    }
    *ppid = p;
    *status = st;
    return 0;
}

int virProcessOpenStat(int pidfd, pid_t pid)
{
    char path[64];
    int fd;

    if (pidfd < 0 || pid <= 0) {
        errno = ESRCH;
        return -1;
    }
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return -1;
    /* Opened before this check: a process not reaped now was not reaped
     * then, so the file is its own. */
    if (pidfdPid(pidfd) != pid) {
        close(fd);
        errno = ESRCH;
        return -1;
    }
    return fd;
}

int virProcessStatFDZombieStatus(int statfd, pid_t *ppid, int *status)
{
    char buf[2048];
    ssize_t n;

    do {
        n = pread(statfd, buf, sizeof(buf) - 1, 0);
    } while (n < 0 && errno == EINTR);
    if (n <= 0) {
        errno = ESRCH;              /* reaped: the kernel has no text */
        return -1;
    }
    buf[n] = '\0';
    const char *rest = strrchr(buf, ')');
    int err = rest ? zombieFields(rest + 1, ppid, status) : EINVAL;
    if (err) {
        errno = err;
        return -1;
    }
    return 0;
}

void virProcessResetSignals(void)
{
    sigset_t none;

    sigemptyset(&none);
    (void)sigprocmask(SIG_SETMASK, &none, NULL);
    for (int s = 1; s < NSIG; s++)
        if (s != SIGKILL && s != SIGSTOP)
            (void)signal(s, SIG_DFL);
}

/* ---- detached start ---- */

#define VIR_FROM_THIS VIR_FROM_NONE
#include "util/virerror.h"

#define DETACHED_FDS_MAX 32

/* The program's side, in a forked copy of the caller (which may be
 * multi-threaded): async-signal-safe calls only, no allocation. */
static void detachedChild(const char *path, char *const argv[], char *const envp[],
                          const int *fds, size_t nfds) __attribute__((noreturn));
static void detachedChild(const char *path, char *const argv[], char *const envp[],
                          const int *fds, size_t nfds)
{
    int moved[DETACHED_FDS_MAX];
    int base = 3 + (int)nfds + 16;
    int null;

    /* Move every source above the target range first, so that placing one
     * cannot overwrite another that is still to be placed. */
    for (size_t i = 0; i < nfds; i++)
        if ((moved[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, base)) < 0)
            virProcessRawExit(127);
    for (size_t i = 0; i < nfds; i++)
        if (dup2(moved[i], 3 + (int)i) < 0)
            virProcessRawExit(127);
    if ((null = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0)
        virProcessRawExit(127);
    for (int i = 0; i < 3; i++)
        if (dup2(null, i) < 0)
            virProcessRawExit(127);
    (void)syscall(SYS_close_range, 3 + (unsigned)nfds, ~0U, 0);
    virProcessResetSignals();
    (void)setsid();
    execve(path, argv, envp);
    virProcessRawExit(127);
}

_Noreturn void virProcessMiddleExit(int status)
{
#ifdef VALGRIND_CLO_CHANGE
    /* A client request: a few no-op instructions when not under valgrind. */
    if (RUNNING_ON_VALGRIND)
        VALGRIND_CLO_CHANGE("--leak-check=no");
#endif
    virProcessRawExit(status);
}

_Noreturn void virProcessRawExit(int status)
{
    for (;;)
        (void)syscall(SYS_exit_group, status);
}

int virProcessSpawnDetached(const char *path, char *const argv[], char *const envp[],
                            const int *fds, size_t nfds)
{
    int mpidfd = -1;
    siginfo_t si;

    if (nfds > DETACHED_FDS_MAX) {
        virReportError(VIR_ERR_INTERNAL_ERROR, "cannot start %s with %zu descriptors "
                       "(at most %d)", path, nfds, DETACHED_FDS_MAX);
        return -1;
    }
    struct clone_args ca;
    memset(&ca, 0, sizeof(ca));
    ca.flags = CLONE_PIDFD;
    ca.pidfd = (uint64_t)(uintptr_t)&mpidfd;
    ca.exit_signal = 0;   /* no SIGCHLD, invisible to waitpid(-1) */
    long mid = syscall(SYS_clone3, &ca, sizeof(ca));
    if (mid < 0 && errno == ENOSYS) {
        /* No clone3 (valgrind): the classic clone, exit signal 0 as well. */
        mpidfd = -1;
        mid = syscall(SYS_clone, 0, NULL, NULL, NULL, NULL);
    }
    if (mid < 0) {
        virReportSystemError(errno, "cannot start %s (clone)", path);
        return -1;
    }
    if (mid == 0) {
        /* The middle process: exits at once, so the program is re-parented. */
        pid_t child = _Fork();
        if (child == 0)
            detachedChild(path, argv, envp, fds, nfds);
        virProcessMiddleExit(child < 0 ? 1 : 0);
    }
    memset(&si, 0, sizeof(si));
    if (mpidfd >= 0) {
        while (waitid(P_PIDFD, (id_t)mpidfd, &si, WEXITED | __WALL) < 0 && errno == EINTR)
            ;
        close(mpidfd);
    } else {
        while (waitid(P_PID, (id_t)mid, &si, WEXITED | __WALL) < 0 && errno == EINTR)
            ;
    }
    if (si.si_code != CLD_EXITED || si.si_status != 0) {
        virReportError(VIR_ERR_INTERNAL_ERROR,
                       "cannot start %s: the intermediate process %s %d", path,
                       si.si_code == CLD_EXITED ? "exited with status" : "was killed by signal",
                       si.si_status);
        return -1;
    }
    return 0;
}
