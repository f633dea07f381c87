/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * event.h: domain and network events for drivers (library-only).
 *
 * A driver keeps one virEventState per node (shared by every connection
 * to it) and queues an event each time an object changes, from any thread
 * (also from a job's commit on the supervisor's thread), with or without
 * its own lock held: the state has a lock of its own, taken after the
 * driver's. The events are delivered from the application's event loop
 * (libvirtsup-event.h): the state watches an eventfd through the
 * registered loop implementation while it has callbacks; queueing writes
 * to it; the loop's callback takes the queue and calls the callbacks with
 * no lock held, in the order the events were queued.
 */
#pragma once

#include <stdbool.h>

#include "libvirtsup/libvirtsup.h"

typedef struct virEventState virEventState;

typedef enum {
    VIR_EVENT_OBJ_DOMAIN,
    VIR_EVENT_OBJ_NETWORK,
} virEventObjKind;

/* Returns a new state, or NULL with an error. */
virEventState *virEventStateNew(void);
/* Every callback must have been removed (virEventStateConnClosed). NULL
 * accepted. */
void virEventStateFree(virEventState *state);

/* Register @cb (of @kind/@eventID's type) of @conn; @uuid (NULL: every
 * object) filters. @legacy marks virConnectDomainEventRegister's callbacks
 * (found again by function). Returns the callback id (>= 0), or -1 with
 * an error (no event loop registered: VIR_ERR_INTERNAL_ERROR). */
int virEventStateRegister(virEventState *state, virConnectPtr conn,
                          virEventObjKind kind, int eventID,
                          const unsigned char *uuid, void (*cb)(void),
                          void *opaque, virFreeCallback freecb, bool legacy);
/* Remove callback @callbackID of @conn, or (@callbackID < 0) the legacy
 * callback @cb. Returns 0, or -1 with VIR_ERR_INVALID_ARG. */
int virEventStateDeregister(virEventState *state, virConnectPtr conn,
                            virEventObjKind kind, int callbackID, void (*cb)(void));
/* The argument checks of the public EventRegisterAny calls, made after the
 * connection's and the handle's: the handle's connection @objConn (NULL: no
 * handle given) must be @conn, a callback given (@haveCb), @eventID within
 * 0..@lastID. @objArg names the handle argument ("dom", "net") and @func
 * the public call in messages. 0, or -1 with VIR_ERR_INVALID_ARG in the
 * error domain @from. */
int virEventRegisterArgsCheck(virConnectPtr conn, virConnectPtr objConn, const char *objArg,
                              bool haveCb, int eventID, int lastID, const char *func,
                              int from);
/* The same for DeregisterAny: @callbackID must be 0 or more. */
int virEventCallbackIDCheck(int callbackID, const char *func, int from);

/* Remove every callback of @conn (its last close). */
void virEventStateConnClosed(virEventState *state, virConnectPtr conn);

/* Queue events. @params (job completed) is copied. Failures (memory) lose
 * the event: they are never reported to the caller, whose change has
 * happened. */
void virEventStateQueueLifecycle(virEventState *state, virEventObjKind kind,
                                 const char *name, const unsigned char *uuid,
                                 int event, int detail);
void virEventStateQueueDomain(virEventState *state, int eventID, const char *name,
                              const unsigned char *uuid,
                              virTypedParameterPtr params, int nparams);
