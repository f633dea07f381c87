/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fork-server: the floor of a pre-started spawn helper, for the start
 * benchmark (bench/job-bench.c). For each byte read on standard input it
 * forks a child that writes its CLOCK_MONOTONIC time in nanoseconds (8
 * bytes, native order) to standard output and exits; the server reaps it
 * before reading the next byte. Exits 0 at end of input.
 */
#include <errno.h>
#include <stdint.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(void)
{
    char c;
    ssize_t n;
    while ((n = read(0, &c, 1)) == 1 || (n < 0 && errno == EINTR)) {
        if (n != 1)
            continue;
        pid_t pid = fork();
        if (pid == 0) {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            uint64_t ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
            _exit(write(1, &ns, sizeof(ns)) == (ssize_t)sizeof(ns) ? 0 : 1);
        }
        if (pid < 0)
            return 1;
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    return 0;
}
