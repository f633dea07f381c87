/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * driverjob.h: the job helpers every driver shares (library side, in the
 * client process). The engine below (supervisor/) runs jobs and knows no
 * domains or networks; these helpers give a driver what each of its async
 * calls needs around a job, the same way for every object type:
 *  - results: the object a job produced, handed to the job as an opaque
 *    reference (virJobGetDomain / virJobGetNetwork read it back);
 *  - the synchronous form of a job call (start, wait, take the result).
 *
 * Thread-safety and errors are given at each call. Drivers include this;
 * the public API layer (src/) too.
 */
#pragma once

#include "driver.h"
#include "supervisor/supervisor.h"

/* What a job's opaque result is (virSupJobSetResult's @kind). */
enum {
    VIR_DRIVER_RESULT_NONE = 0,
    VIR_DRIVER_RESULT_DOMAIN = 1,    /* a virDomainPtr */
    VIR_DRIVER_RESULT_NETWORK = 2,   /* a virNetworkPtr */
};

/* ---- results ---------------------------------------------------------------
 *
 * A commit makes its result handle first, before it changes anything, so
 * that running out of memory fails the commit with nothing changed; then
 * changes its state; then gives the handle to the job, which cannot fail
 * for want of memory. */

/* A new handle for the job's result (one reference, the caller's), or NULL
 * with VIR_ERR_NO_MEMORY reported. Thread-safe. */
virDomainPtr virDriverJobResultDomainNew(virConnectPtr conn, const char *name,
                                         const unsigned char *uuid);
virNetworkPtr virDriverJobResultNetworkNew(virConnectPtr conn, const char *name,
                                           const unsigned char *uuid);
/* Give the caller's reference on @dom / @net to @job as its result (the
 * job releases it at virJobDestroy). Returns 0, or -1 (invalid job: the
 * reference is dropped). Call from the job's commit function. */
int virDriverJobResultDomainGive(virJobPtr job, virDomainPtr dom);
int virDriverJobResultNetworkGive(virJobPtr job, virNetworkPtr net);
/* Drop an unused result handle on a failure path, keeping this thread's
 * last error. NULL accepted. */
void virDriverJobResultDomainDrop(virDomainPtr dom);
void virDriverJobResultNetworkDrop(virNetworkPtr net);

/* ---- the synchronous calls ---------------------------------------------- */

/* Wait for @job (NULL: it was not started, its error is already reported),
 * take the domain/network it produced when @dom/@net is given, destroy it.
 * When it did not complete its error becomes this thread's last error.
 * Returns 0 or -1. May block for as long as the job runs. */
int virDriverJobWaitResult(virJobPtr job, virDomainPtr *dom, virNetworkPtr *net);
