/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * testutils.h: helpers for tests that watch real processes. Waits are on
 * events (or polling a condition) with generous timeouts, never fixed sleeps.
 */
#pragma once

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* RUNNING_ON_VALGRIND: true under valgrind (0 where its header is absent). */
#if defined(__has_include)
# if __has_include(<valgrind/valgrind.h>)
#  include <valgrind/valgrind.h>
# endif
#endif
#ifndef RUNNING_ON_VALGRIND
# define RUNNING_ON_VALGRIND 0
#endif

/* Generous: a loaded 2-core machine, sanitizers, valgrind. */
#define TEST_TIMEOUT_MS 60000

static inline long long testNowMs(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Poll @cond every millisecond until it holds or @timeout_ms passes.
 * Returns 1 if it held. Polling a condition is waiting on an event whose
 * source offers no descriptor (/proc); the 1 ms yield is not a timing guess. */
#define TEST_WAIT_UNTIL(cond, timeout_ms) \
    ({ long long end_ = testNowMs() + (timeout_ms); int ok_ = 0; \
       for (;;) { if (cond) { ok_ = 1; break; } \
                  if (testNowMs() > end_) break; \
                  struct timespec ts_ = { 0, 1000000 }; nanosleep(&ts_, NULL); } \
       ok_; })

/* Number of entries of a /proc/PID/fd directory @dir, -1 if unreadable. */
static inline int testCountFDsIn(const char *dir)
{
    int n = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    if (!d)
        return -1;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

int virSupTestHeldFDs(void);

/* Number of open descriptors of this process, but those the supervisor
 * holds for the spawn helpers' ready workers, which come and go with them
 * (read again if one came or went meanwhile). */
static inline int testCountFDs(void)
{
    for (;;) {
        int held = virSupTestHeldFDs();
        int n = testCountFDsIn("/proc/self/fd");
        if (n < 0)
            return -1;
        if (virSupTestHeldFDs() == held)
            return n - 1 - held; /* and the directory's own descriptor */
    }
}

/* Number of children of this process (all threads), zombies included. */
static inline int testCountChildren(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    if (!d)
        return -1;
    while ((e = readdir(d))) {
        char path[300], buf[4096];
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "/proc/self/task/%s/children", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        while (fscanf(f, "%4095s", buf) == 1)
            n++;
        fclose(f);
    }
    closedir(d);
    return n;
}

/* Number of threads of this process. */
static inline int testCountThreads(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    if (!d)
        return -1;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

/* The state letter of @pid in /proc/PID/stat ('R', 'S', 'T', 'Z'...), 0
 * if it is gone. */
static inline char testProcessState(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    /* "pid (comm) S ...": comm may hold spaces and parens; take the last ')'. */
    char buf[1024];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    return p && p[1] == ' ' ? p[2] : 0;
}

/* The number of the system call thread @tid of this process is in now
 * (/proc/self/task/TID/syscall), or -1 if it is running, gone or not
 * readable. */
static inline long testThreadSyscall(int tid)
{
    char path[64], buf[64] = "";
    long nr = -1;
    snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", tid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    if (fgets(buf, sizeof(buf), f) && buf[0] >= '0' && buf[0] <= '9')
        nr = atol(buf);
    fclose(f);
    return nr;
}

/* True if @pid exists and is not a zombie. */
static inline int testProcessAlive(pid_t pid)
{
    char state = testProcessState(pid);
    return state && state != 'Z' && state != 'X';
}

/* A fresh private run directory for the status segment. Caller frees. */
static inline char *testMakeRunDir(void)
{
    char tmpl[] = "/tmp/virtsup-test-XXXXXX";
    char *d = mkdtemp(tmpl);
    if (!d)
        return NULL;
    setenv("VIRTSUP_RUNDIR", d, 1);
    return strdup(d);
}

static inline void testRemoveDir(const char *dir)
{
    char cmd[512];
    if (!dir || strncmp(dir, "/tmp/", 5) != 0)
        return;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

/* Entries of @dir other than "." and "..", -1 if it cannot be read. */
static inline int testCountEntries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    if (!d)
        return -1;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

/* Mount a tmpfs with @opts ("size=16m,mode=0700") on @dir, in a mount
 * namespace of this process's own (private from / down: nothing leaks to
 * the host's mounts, and the mount goes with the process even if it
 * crashes) when one can be had. Root only. Returns 0, or -1 with errno. */
static inline int testMountTmpfs(const char *dir, const char *opts)
{
    if (unshare(CLONE_NEWNS) == 0)
        (void)mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL);
    return mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, opts);
}

/* Running library code in a forked child, which reports over a pipe
 * (the child changes what the test process must keep: its limits, its
 * capabilities, its stdio). */
static int testReportFD = -1;

/* In the child: add a line to the report. */
static inline void testSay(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline void testSay(const char *fmt, ...)
{
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n > 0 && testReportFD >= 0)
        (void)!write(testReportFD, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

/* Fork; the child runs @fn and exits with what it returns. Returns the
 * child's wait status (-1 if it could not be run), its report in @out. The
 * test process must be single-threaded here. */
static inline int testRunChild(int (*fn)(void), char *out, size_t outlen)
{
    int p[2], st = 0;
    size_t got = 0;
    ssize_t n;
    if (pipe2(p, O_CLOEXEC) < 0)
        return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        testReportFD = p[1];
        _exit(fn());
    }
    close(p[1]);
    while (pid > 0 && got < outlen - 1 && (n = read(p[0], out + got, outlen - 1 - got)) > 0)
        got += (size_t)n;
    out[got] = '\0';
    close(p[0]);
    if (pid < 0 || waitpid(pid, &st, 0) != pid)
        return -1;
    return st;
}
