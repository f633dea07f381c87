/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virpoll.h: poll(2) that a signal does not cut short, and the clock that
 * timeouts are measured on.
 *
 * poll() fails with EINTR whenever a signal handler runs in the calling
 * thread, SA_RESTART or not. A library call cannot know which handlers its
 * application has, so every wait for a descriptor (a shim's message, a
 * worker's request, a process' exit) goes through virPollNoIntr.
 *
 * Used by every process of libvirtsup. Reports nothing through virerror.
 * Thread-safe (touches only its arguments).
 */
#pragma once

#include <poll.h>

/* poll(@fds, @nfds, @timeout_ms), resumed after EINTR with what is left of
 * @timeout_ms (measured on CLOCK_MONOTONIC from the call; -1: no limit,
 * 0: look once). Returns poll's result: the number of descriptors with
 * events, 0 when the time is up, or -1 with errno (never EINTR). */
int virPollNoIntr(struct pollfd *fds, nfds_t nfds, int timeout_ms);

/* CLOCK_MONOTONIC in milliseconds: the clock of every deadline in a loop
 * that waits (never the wall clock, which an operator may set back). */
long long virTimeMonoMs(void);
