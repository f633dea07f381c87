/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virprocess.h: who a process is, and whether it still runs, judged by its
 * pid *and* its start time (a pid alone may have been reused, and an exited
 * process may linger as a zombie that kill(pid, 0) still calls alive); and
 * starting a program that is not the caller's child.
 *
 * Used by every process of libvirtsup (library, worker, shim, tools). No
 * call here reports through virerror except virProcessSpawnDetached; the
 * others return -1/false with errno set. Thread-safe.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* The fields of /proc/PID/stat we use. */
typedef struct virProcessStatInfo {
    char state;               /* 'R', 'S', 'D', 'Z' (zombie), 'X' (dead), ... */
    pid_t ppid;
    uint64_t utime_ticks;     /* user CPU, clock ticks (sysconf(_SC_CLK_TCK)) */
    uint64_t stime_ticks;     /* system CPU, clock ticks */
    uint64_t start_ticks;     /* start time after boot, clock ticks: the identity */
    uint64_t rss_pages;
    long threads;
} virProcessStatInfo;

/* Read /proc/PID/stat. Returns 0, or -1 (errno: ESRCH no such process,
 * EINVAL unparsable). */
int virProcessStat(pid_t pid, virProcessStatInfo *out);

/* The start time of @pid in clock ticks after boot; 0 if it has none
 * (gone, or unreadable). */
uint64_t virProcessStartTime(pid_t pid);

/* True if @pid runs and is the process that started at @start (from
 * virProcessStartTime): not gone, not a zombie, not a reused pid. */
bool virProcessAlive(pid_t pid, uint64_t start);

/* A pidfd of @pid if it is still the process that started at @start
 * (checked after the pidfd was opened, so the descriptor cannot name a
 * process that reused the pid). The process may be a zombie: the pidfd
 * then polls readable at once. Returns the descriptor (CLOEXEC), or -1
 * with errno (ESRCH: gone or another process now). */
int virProcessOpenPidfd(pid_t pid, uint64_t start);

/* Send @signo to @pid if it is still the process that started at @start:
 * through a pidfd, or where pidfds are missing (valgrind) by kill() right
 * after checking the start time. Returns 0, or -1 with errno (ESRCH: gone
 * or another process now). */
int virProcessKillIdentity(pid_t pid, uint64_t start, int signo);

/* Wait until @pid, the process that started at @start, has ended (exited:
 * a zombie counts as ended) or is gone, for at most @timeout_ms (>= 0).
 * Through a pidfd; where pidfds are missing (valgrind) by looking at
 * /proc/PID/stat again and again, at most 20 ms apart. Not for a child of
 * the caller that must be reaped (it does not reap). Returns 0 once ended
 * (at once if it is not that process any more), or -1 with errno
 * (ETIMEDOUT: still running at the deadline). Thread-safe. */
int virProcessWaitGone(pid_t pid, uint64_t start, int timeout_ms);

/* Send @signo through @pidfd. Returns 0, or -1 with errno. */
int virProcessPidfdSignal(int pidfd, int signo);

/* How the process of @pidfd (pid @pid) ended, while it is a zombie that
 * its parent has not reaped, for a caller that is not its parent (which
 * waitid cannot serve): its wait status (as waitpid gives it) from
 * /proc/PID/stat in *@status, and its parent's pid in *@ppid. The kernel
 * shows the exit code only to a caller that may inspect the process
 * (same user and group ids, or CAP_SYS_PTRACE); that is checked on the
 * same read (the wait-channel field is 1 for a zombie that the caller may
 * inspect, 0 otherwise; kernels before 5.16 print 0 there: refused, never
 * guessed). Returns 0, or -1 with errno: ESRCH not ended, already reaped,
 * or the pid no longer the pidfd's; EPERM the exit code is not shown to
 * this process; EINVAL unparsable. */
int virProcessPidfdZombieStatus(int pidfd, pid_t pid, pid_t *ppid, int *status);

/* /proc/PID/stat of the process of @pidfd (pid @pid), opened while that
 * process is certainly the pid's (not reaped): the descriptor reads that
 * process's fields for as long as it is not reaped, whatever the pid
 * names later. Caller owns the descriptor (close-on-exec). Returns it, or
 * -1 with errno (ESRCH: reaped already). */
int virProcessOpenStat(int pidfd, pid_t pid);

/* virProcessPidfdZombieStatus from a descriptor of virProcessOpenStat:
 * one read, no path lookup. Same results and errors (ESRCH also once
 * the process was reaped). */
int virProcessStatFDZombieStatus(int statfd, pid_t *ppid, int *status);

/* Empty the signal mask and set every disposition to the default: for a
 * child between fork and exec (async-signal-safe). */
void virProcessResetSignals(void);

/* _exit(@status) from the middle process of a detached start (the
 * short-lived copy of the caller that forks the program and exits; see
 * virProcessSpawnDetached and the spawn helper's start). Under valgrind
 * that copy is traced, and its exit would run memcheck's leak scan over
 * the whole copied address space while the caller blocks reaping it
 * (seconds per start, most of a qemu test's time there); the copy
 * allocates nothing and lacks the caller's other threads, so the scan
 * can only repeat the caller's own at its exit, or report blocks that
 * only another thread's stack still points to. It is turned off for
 * this process alone. Async-signal-safe. */
_Noreturn void virProcessMiddleExit(int status);

/* exit_group(@status) as a raw system call, for a copy of a (possibly
 * multi-threaded) caller made by clone or _Fork that has not exec'd: the
 * middle process, and the program's side before its exec. The C
 * library's _exit makes the same call, but a sanitizer's runtime
 * intercepts it and takes its own locks, which another thread of the
 * caller may have held at the copy: ThreadSanitizer's thread registry
 * left such a copy blocked for ever, holding the caller's descriptors.
 * Async-signal-safe. */
_Noreturn void virProcessRawExit(int status);

/* Start @path with @argv and @envp as a process that is neither the
 * caller's child nor visible to its waitpid(-1): a middle process made
 * with exit signal 0 forks the program and exits; the program is adopted
 * by init (or the caller's subreaper). The program gets @fds[i] as
 * descriptor 3 + i (i < @nfds, at most 32), /dev/null as 0, 1 and 2, and
 * nothing else; its signal mask is empty. Between fork and exec only
 * async-signal-safe calls are made. The exec's failure is not reported
 * here (the program has to say hello on one of its descriptors; see
 * virShimSpawn). Returns 0, or -1 with an error reported (library). */
int virProcessSpawnDetached(const char *path, char *const argv[], char *const envp[],
                            const int *fds, size_t nfds);
