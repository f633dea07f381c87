/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virpoll.c: poll(2) resumed after signals.
 */
#include <errno.h>
#include <stdint.h>
#include <time.h>

#include "util/virpoll.h"

static uint64_t nowMs(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int virPollNoIntr(struct pollfd *fds, nfds_t nfds, int timeout_ms)
{
    uint64_t deadline = timeout_ms > 0 ? nowMs() + (uint64_t)timeout_ms : 0;
    int t = timeout_ms;

    for (;;) {
        int r = poll(fds, nfds, t);
        if (r >= 0 || errno != EINTR)
            return r;
        if (timeout_ms > 0) {
            uint64_t now = nowMs();
            t = now >= deadline ? 0 : (int)(deadline - now);
        }
    }
}
