/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libvirtsup-event.h: the event loop, on libvirt's model.
 *
 * Domain and network events (libvirtsup-domain.h, libvirtsup-network.h)
 * are delivered from the application's event loop, never from a thread of
 * the library: register an implementation first, either libvirtsup's own
 * poll() loop (virEventRegisterDefaultImpl, then call
 * virEventRunDefaultImpl in a loop) or the application's
 * (virEventRegisterImpl). The library watches one descriptor of its own
 * through it per node with callbacks; event callbacks then run in the
 * thread that runs the loop.
 *
 * Job completion is an event too (VIR_DOMAIN_EVENT_ID_JOB_COMPLETED), and
 * every job also has a descriptor of its own (virJobGetFD) that a loop can
 * watch with virEventAddHandle.
 */
#pragma once

#include "libvirtsup/libvirtsup-common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    VIR_EVENT_HANDLE_READABLE = 1 << 0,
    VIR_EVENT_HANDLE_WRITABLE = 1 << 1,
    VIR_EVENT_HANDLE_ERROR = 1 << 2,
    VIR_EVENT_HANDLE_HANGUP = 1 << 3,
} virEventHandleType;

/* @watch: the id virEventAddHandle returned; @events: what happened
 * (virEventHandleType bits). */
typedef void (*virEventHandleCallback)(int watch, int fd, int events, void *opaque);
typedef int (*virEventAddHandleFunc)(int fd, int event, virEventHandleCallback cb,
                                     void *opaque, virFreeCallback ff);
typedef void (*virEventUpdateHandleFunc)(int watch, int event);
typedef int (*virEventRemoveHandleFunc)(int watch);

typedef void (*virEventTimeoutCallback)(int timer, void *opaque);
typedef int (*virEventAddTimeoutFunc)(int timeout, virEventTimeoutCallback cb,
                                      void *opaque, virFreeCallback ff);
typedef void (*virEventUpdateTimeoutFunc)(int timer, int timeout);
typedef int (*virEventRemoveTimeoutFunc)(int timer);

/**
 * virEventRegisterImpl:
 *
 * Use the application's event loop: the six functions add, change and
 * remove descriptor watches and timers in it. The add functions return an
 * id >= 0 or -1; the loop calls the callbacks from its own thread and,
 * once a watch or timer is removed, its free function (if not NULL) on
 * its opaque, not from inside the remove call. Register before any event
 * callback. They are called from the threads that call the library.
 * Since: 0.1.0
 */
void virEventRegisterImpl(virEventAddHandleFunc addHandle,
                          virEventUpdateHandleFunc updateHandle,
                          virEventRemoveHandleFunc removeHandle,
                          virEventAddTimeoutFunc addTimeout,
                          virEventUpdateTimeoutFunc updateTimeout,
                          virEventRemoveTimeoutFunc removeTimeout);

/**
 * virEventRegisterDefaultImpl:
 *
 * Use libvirtsup's own poll() loop; the application runs it by calling
 * virEventRunDefaultImpl. Calling it again is harmless.
 * Returns 0, or -1 with an error (no descriptor left). Since: 0.1.0
 */
int virEventRegisterDefaultImpl(void);

/**
 * virEventRunDefaultImpl:
 *
 * One iteration of the default loop: wait (poll) until a watched
 * descriptor is ready or the next timer is due, then call the callbacks
 * that are due, in this thread. Watches and timers added or changed from
 * other threads meanwhile wake it up. Only one thread may run it at a
 * time. A child forked while another thread runs it has a loop of its
 * own, not running: it keeps the watches and timers registered before the
 * fork, and its changes wake its own loop, never the parent's. Returns 0,
 * or -1 with an error (not registered, another thread is running it, no
 * descriptor left for the wake-up eventfd, poll failed). Since: 0.1.0
 */
int virEventRunDefaultImpl(void);

/**
 * virEventAddHandle / virEventUpdateHandle / virEventRemoveHandle /
 * virEventAddTimeout / virEventUpdateTimeout / virEventRemoveTimeout:
 *
 * Call the registered implementation (libvirt's convention: -1 and no
 * error when none is registered). A timeout is a period in milliseconds:
 * -1 disables the timer, 0 fires it at each iteration. Add returns a
 * watch or timer id (>= 1 with the default loop), remove 0 or -1.
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
int virEventAddHandle(int fd, int events, virEventHandleCallback cb, void *opaque,
                      virFreeCallback ff);
void virEventUpdateHandle(int watch, int events);
int virEventRemoveHandle(int watch);
int virEventAddTimeout(int frequency, virEventTimeoutCallback cb, void *opaque,
                       virFreeCallback ff);
void virEventUpdateTimeout(int timer, int frequency);
int virEventRemoveTimeout(int timer);

#ifdef __cplusplus
}
#endif
