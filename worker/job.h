/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * job.h (worker side): the worker runtime, the calls a driver's worker
 * function makes: the RFC's virJobInitialize / virJobUpdateRel /
 * virJobFinishCancel / virJobFinishSuccess (named virWorkerJob* here, with
 * the RFC's spellings kept as aliases below), plus failure, bytes and phase.
 *
 * Prefixes say which process runs the code: virJob* is the public API (the
 * caller's handle), virSupJob* the supervisor's driver API (library),
 * virWorkerJob* this runtime (virtsup-worker only).
 *
 * Runs only in the virtsup-worker process, single-threaded. Progress calls
 * write the job's status page in shared memory and make no system call.
 * Never included by supervisor/ or by library code.
 *
 * A worker function must end by calling exactly one of
 * virWorkerJobFinishSuccess, virWorkerJobFinishFailure, virWorkerJobFinishError, or (when
 * virWorkerJobFinishCancel returned true) nothing more, and then return.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "libvirtsup/libvirtsup-common.h"
#include "libvirtsup/libvirtsup-job.h"

/* The job as its worker sees it (worker/worker-priv.h); not the caller's
 * virJobPtr, which exists only in the client process. */
typedef struct _virWorkerJob *virWorkerJobPtr;

/* The worker's half of an op; runs after the sandbox is set up.
 * @params/@paramslen: the blob given to virSupJobCreate. Returning without a
 * Finish call fails the job ("worker exited without reporting"). */
typedef void (*virWorkerFunc)(virWorkerJobPtr job, const void *params, size_t paramslen);

typedef struct virWorkerOp {
    const char *name;        /* same name as the supervisor's virSupOp */
    virWorkerFunc run;
} virWorkerOp;

/* Register an op with the worker: linking the object is enough. */
#define VIR_WORKER_OP_REGISTER(sym, opname, fn) \
    static const virWorkerOp sym = { (opname), (fn) }; \
    static const virWorkerOp *const sym##_ptr \
        __attribute__((used, section("virtsup_ops"))) = &sym

const virWorkerOp *virWorkerOpLookup(const char *name);

/* A library that only some ops use (libxml2, libnftables), loaded with
 * dlopen by the spawn helpers whose profile names it (virSupProfile.libs)
 * alone, before their sandbox leaves them no filesystem; their workers,
 * forked from them, have it. Every other helper and worker never maps it:
 * each mapping is copied by every fork and unmapped by every exit
 * (docs/WORKER.md, "Libraries loaded per sandbox"). @load returns 0, or
 * -1 and keeps why for the op to report; it is called once, in the
 * helper, single-threaded. */
typedef struct virWorkerPreload {
    uint32_t lib;            /* its virProtoLibs bit */
    int (*load)(void);
} virWorkerPreload;

/* Register a preload: linking the object is enough. */
#define VIR_WORKER_PRELOAD_REGISTER(sym, lib, fn) \
    static const virWorkerPreload sym = { (lib), (fn) }; \
    static const virWorkerPreload *const sym##_ptr \
        __attribute__((used, section("virtsup_preloads"))) = &sym

/* The spawn helper: run every preload of a library in @libs (virProtoLibs).
 * Failures are the ops' to report (a helper without the library still
 * serves its profile's other ops). */
void virWorkerPreloadRun(uint32_t libs);

/* --- progress (shared memory, no system call) --- */

/* The RFC's: starts the clock; @etaSeconds is the first estimate (0:
 * unknown). */
void virWorkerJobInitialize(virWorkerJobPtr job, unsigned int etaSeconds);
/* The RFC's: add to elapsed seconds, to the ETA, to percent (clamped). */
void virWorkerJobUpdateRel(virWorkerJobPtr job, int elapsedDelta, int etaDelta, int percentDelta);
/* Absolute figures; percent clamped to 0..100. */
void virWorkerJobUpdateAbs(virWorkerJobPtr job, unsigned int elapsed, unsigned int eta,
                     unsigned int percent);
/* Bytes done and total (0: unknown). With a total, percent follows bytes. */
void virWorkerJobUpdateBytes(virWorkerJobPtr job, uint64_t done, uint64_t total);
/* A short phase text ("writing memory"), truncated to 63 bytes. */
void virWorkerJobSetPhase(virWorkerJobPtr job, const char *phase);

/* --- cancellation --- */

/* True once cancellation was asked (flag in the status page, or SIGTERM).
 * No system call. */
bool virWorkerJobCancelRequested(virWorkerJobPtr job);
/* The RFC's: if cancellation was asked, report the job CANCELLED and
 * return true: the worker function must then clean up and return.
 * Otherwise return false. */
bool virWorkerJobFinishCancel(virWorkerJobPtr job);

/* --- ending --- */

/* Attach a result blob (<= 1 MiB) for the commit step; copied. 0 or -1. */
int virWorkerJobSetResult(virWorkerJobPtr job, const void *data, size_t len);
/* The RFC's: report success (with the result set before, if any). */
int virWorkerJobFinishSuccess(virWorkerJobPtr job);
/* Report failure with a virErrorNumber and a message for operators. */
int virWorkerJobFinishFailure(virWorkerJobPtr job, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Report this thread's last virError (from virReportError) as the failure. */
int virWorkerJobFinishError(virWorkerJobPtr job);

/* --- resources --- */

/* The i-th descriptor given to virSupJobCreate (fd 4 + i), or -1. */
int virWorkerJobResourceFD(virWorkerJobPtr job, unsigned int i);
unsigned int virWorkerJobResourceCount(virWorkerJobPtr job);
/* The descriptor the op's profile names @name ("output", "monitor"), or
 * -1 when it names none such. No system call. */
int virWorkerJobFD(virWorkerJobPtr job, const char *name);
/* The name of the i-th descriptor ("" when the profile names none), or
 * NULL past the last. Owned by the job. */
const char *virWorkerJobResourceName(virWorkerJobPtr job, unsigned int i);

/* --- processes that outlive the job (profiles with detach only) --- */

/* Hand @pid to the spawn helper so that it survives this worker, the job
 * and the supervisor (it is not killed with the job's process group, nor
 * swept as an escaped orphan). @pid must be this worker's child and lead a
 * session of its own (it called setsid()); it keeps the worker's sandbox
 * (no_new_privs, capabilities, system-call filter, empty root, limits).
 * Its own children stay in its session and are kept with it; once it
 * exits, whatever it left is swept. Blocks for the helper's answer.
 * Returns 0, or -1 with an error reported (VIR_ERR_OPERATION_DENIED when
 * the profile does not allow it). */
int virWorkerJobDetach(virWorkerJobPtr job, pid_t pid);

/* --- fault injection (test driver and test ops) --- */

/* Misbehave on purpose: "segv", "abort", "hang" (ignore SIGTERM, never
 * return), "ignore-cancel" (from now on SIGTERM and the cancel flag are
 * ignored; returns), "exit" (exit 0 without reporting), "garbage" (scribble
 * the status page, leave its seqlock odd, then exit without reporting).
 * Unknown actions return -1. */
int virWorkerJobInjectFault(virWorkerJobPtr job, const char *action);

/* The async-jobs RFC's names for the worker calls it defines, so a worker
 * function can be written exactly as the RFC's example is. */
#define virJobInitialize    virWorkerJobInitialize
#define virJobUpdateRel     virWorkerJobUpdateRel
#define virJobFinishCancel  virWorkerJobFinishCancel
#define virJobFinishSuccess virWorkerJobFinishSuccess
