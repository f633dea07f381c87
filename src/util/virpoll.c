/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virpoll.c: poll(2) resumed after signals, and the clock of timeouts.
 */
#include <errno.h>
#include <stdint.h>
#include <time.h>

#include "util/virpoll.h"

long long virTimeMonoMs(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

int virPollNoIntr(struct pollfd *fds, nfds_t nfds, int timeout_ms)
{
    long long deadline = timeout_ms > 0 ? virTimeMonoMs() + timeout_ms : 0;
    int t = timeout_ms;

    for (;;) {
        int r = poll(fds, nfds, t);
        if (r >= 0 || errno != EINTR)
            return r;
        if (timeout_ms > 0) {
            long long now = virTimeMonoMs();
            t = now >= deadline ? 0 : (int)(deadline - now);
        }
    }
}
