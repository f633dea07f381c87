/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * benchutil.h: what the job benchmarks share: clocks, percentiles, the
 * result line that bench/run-benches gathers into its summary table, and
 * the baseline of a bare posix_spawn of the trivial static program.
 *
 * Result lines (one per figure, parsed by bench/run-benches):
 *   NAME: VALUE UNIT   baseline BNAME: BVALUE UNIT   ratio R[   target: T]
 * The value and its baseline share one unit; the ratio is VALUE / BVALUE
 * ("n/a" when the baseline is zero). A target run-benches can check is
 * written as conditions joined by " and ": "<= 0.15 ms", "ratio <= 1.3",
 * ">= 0.95" is not (a bare number needs its unit), "<= baseline + 0.5 ms".
 */
#pragma once

#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static inline uint64_t benchNow(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline void benchSleepNs(uint64_t ns)
{
    struct timespec ts = { (time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull) };
    while (nanosleep(&ts, &ts) < 0)
        ;
}

static inline int benchCmpU64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The @pct percentile (0..100) of @n samples; sorts them. */
static inline uint64_t benchPercentile(uint64_t *v, size_t n, double pct)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof(*v), benchCmpU64);
    size_t i = (size_t)(pct / 100.0 * (double)(n - 1) + 0.5);
    return v[i < n ? i : n - 1];
}

static inline void benchDie(const char *what)
{
    fprintf(stderr, "bench: %s\n", what);
    exit(1);
}

/* One result line: @value and @bvalue are both in @unit. @target may be
 * NULL. */
static inline void benchLine(const char *name, double value, const char *unit,
                             const char *bname, double bvalue, const char *target)
{
    char ratio[32];
    if (bvalue > 0)
        snprintf(ratio, sizeof(ratio), "%.3g", value / bvalue);
    else
        snprintf(ratio, sizeof(ratio), "n/a");
    printf("%s: %.4g %s   baseline %s: %.4g %s   ratio %s", name, value, unit,
           bname, bvalue, unit, ratio);
    if (target)
        printf("   target: %s", target);
    printf("\n");
    fflush(stdout);
}

/* Lift the soft descriptor limit to the hard one: every live job holds
 * descriptors in the caller. */
static inline void benchRaiseNofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* A program that sits next to this benchmark (build/bench/NAME). */
static inline char *benchSibling(const char *name)
{
    static char path[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
    if (n <= 0)
        benchDie("cannot read /proc/self/exe");
    path[n] = '\0';
    char *slash = strrchr(path, '/');
    if (!slash || (size_t)(slash - path) + strlen(name) + 2 > sizeof(path))
        benchDie("program path too long");
    strcpy(slash + 1, name);
    return path;
}

/* posix_spawn @argv[0], its stdout to the file @outfile (created or
 * truncated; NULL: ours), and wait for it. Returns the wall time in ns;
 * dies if it did not exit 0. */
static inline uint64_t benchSpawnWait(char *const argv[], const char *outfile)
{
    posix_spawn_file_actions_t fa;
    pid_t pid;
    int st;
    posix_spawn_file_actions_init(&fa);
    if (outfile)
        posix_spawn_file_actions_addopen(&fa, 1, outfile, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    uint64_t t0 = benchNow();
    if (posix_spawn(&pid, argv[0], &fa, NULL, argv, environ) != 0)
        benchDie("posix_spawn failed");
    while (waitpid(pid, &st, 0) < 0)
        ;
    uint64_t t1 = benchNow();
    posix_spawn_file_actions_destroy(&fa);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "bench: %s exited with status 0x%x\n", argv[0], st);
        exit(1);
    }
    return t1 - t0;
}

/* Start the test helper $VIRTSUP_BUILDDIR/tests/@name (build/ when unset)
 * with @arg (may be NULL), its stdin and stdout on pipes: *@in is the
 * write end of its stdin, *@out the read end of its stdout. */
static inline pid_t benchSpawnHelper(const char *name, const char *arg, int *in, int *out)
{
    int ip[2], op[2];
    pid_t pid;
    char path[PATH_MAX];
    const char *bd = getenv("VIRTSUP_BUILDDIR");
    posix_spawn_file_actions_t fa;

    snprintf(path, sizeof(path), "%s/tests/%s", bd ? bd : "build", name);
    char *argv[] = { path, (char *)arg, NULL };
    if (pipe2(ip, O_CLOEXEC) < 0 || pipe2(op, O_CLOEXEC) < 0)
        benchDie("pipe failed");
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, ip[0], 0);
    posix_spawn_file_actions_adddup2(&fa, op[1], 1);
    if (posix_spawn(&pid, path, &fa, NULL, argv, environ) != 0) {
        fprintf(stderr, "bench: cannot run %s\n", path);
        exit(1);
    }
    posix_spawn_file_actions_destroy(&fa);
    close(ip[0]);
    close(op[1]);
    *in = ip[1];
    *out = op[0];
    return pid;
}

static char benchRunDirPath[] = "/tmp/virtsup-bench-XXXXXX";

static void benchRunDirRemove(void)
{
    (void)rmdir(benchRunDirPath);
}

/* A fresh run directory for the supervisor's segment (VIRTSUP_RUNDIR),
 * removed when the bench exits (it must be empty by then: every
 * supervisor removes its segment when it ends). */
static inline char *benchRunDir(void)
{
    char *dir = benchRunDirPath;
    if (!mkdtemp(dir))
        benchDie("cannot create a run directory in /tmp");
    atexit(benchRunDirRemove);
    setenv("VIRTSUP_RUNDIR", dir, 1);
    return dir;
}

/* Leave @path's bytes on the disk only: flush them, then drop its clean
 * pages from the page cache, so the next read of it comes from the disk
 * (what a restore of an image saved a while ago reads). */
static inline void benchDropCache(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        benchDie("cannot open a file to drop its cache");
    (void)fdatasync(fd);
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    close(fd);
}
