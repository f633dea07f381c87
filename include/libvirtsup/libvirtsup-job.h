/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libvirtsup-job.h: asynchronous jobs (the async-jobs RFC for libvirt).
 *
 * A job is one long operation (create, save, restore, dump core, network
 * create) run in its own isolated worker process. The call that starts it
 * returns a virJobPtr at once; the caller watches it (virJobGetInfo,
 * virJobGetStats, virJobGetFD, virJobWait), may cancel it (virJobCancel),
 * collects the result (virJobGetDomain, virJobGetNetwork) or the error
 * (virJobGetError), and finally releases it with virJobDestroy.
 *
 * Every call here is thread-safe: a job may be watched, waited on and
 * cancelled from several threads at once. Only virJobDestroy must not race
 * with other calls on the same handle (as free() must not).
 */
#pragma once

#include "libvirtsup/libvirtsup-common.h"
#include "libvirtsup/virterror.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    VIR_JOB_BOUNDED = 0,     /* its end is known: percent and ETA mean something */
    VIR_JOB_UNBOUNDED = 1,   /* no known end: only elapsed time */
} virJobType;

typedef enum {
    VIR_JOB_RUNNING = 0,     /* queued or running; not finished */
    VIR_JOB_COMPLETE = 1,
    VIR_JOB_FAILED = 2,
    VIR_JOB_CANCELLED = 3,
} virJobState;

typedef struct _virJobInfo {
    int type;                     /* virJobType */
    int state;                    /* virJobState */
    unsigned int runningTime;     /* seconds since the job started */
    unsigned int remainingTime;   /* seconds, estimated; 0 when unknown or ended */
    unsigned int percentComplete; /* 0..100; never goes backwards */
} virJobInfo;
typedef virJobInfo *virJobInfoPtr;

/**
 * virJobGetInfo:
 * @job: a job handle
 * @info: filled on success; untouched on failure
 *
 * Elapsed time, estimated time left, percent complete and state. Reads the
 * job's status page directly: no system call, no lock, safe at any rate.
 * Returns 0, or -1 (VIR_ERR_INVALID_JOB, VIR_ERR_INVALID_ARG).
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
int virJobGetInfo(virJobPtr job, virJobInfoPtr info);

/* Fields of virJobGetStats (libvirt's names where libvirt has one). */
#define VIR_JOB_STATS_TYPE            "type"            /* int, virJobType */
#define VIR_JOB_STATS_STATE           "state"           /* int, virJobState */
#define VIR_JOB_STATS_TIME_ELAPSED    "time_elapsed"    /* ullong, ms */
#define VIR_JOB_STATS_TIME_REMAINING  "time_remaining"  /* ullong, ms (0: unknown) */
#define VIR_JOB_STATS_PERCENT         "percent"         /* uint, 0..100 */
#define VIR_JOB_STATS_DATA_PROCESSED  "data_processed"  /* ullong, bytes */
#define VIR_JOB_STATS_DATA_TOTAL      "data_total"      /* ullong, bytes (0: unknown) */
#define VIR_JOB_STATS_DATA_REMAINING  "data_remaining"  /* ullong, bytes */
#define VIR_JOB_STATS_RATE            "rate_bps"        /* ullong, bytes/s, smoothed */
#define VIR_JOB_STATS_PHASE           "phase"           /* string */
#define VIR_JOB_STATS_STALLED         "stalled"         /* boolean */
#define VIR_JOB_STATS_CANCEL_REQUESTED "cancel_requested" /* boolean */
#define VIR_JOB_STATS_CANCEL_ACKED    "cancel_acknowledged" /* boolean */
#define VIR_JOB_STATS_WORKER_PID      "worker_pid"      /* int, 0 when none */
#define VIR_JOB_STATS_OPERATION       "operation"       /* string, e.g. "domain.save" */

/**
 * virJobGetStats:
 * @job: a job handle
 * @params: set to a new array the caller frees with virTypedParamsFree()
 * @nparams: set to its length
 * @flags: must be 0
 *
 * Everything virJobGetInfo says and more, in milliseconds and bytes (see
 * the VIR_JOB_STATS_* fields). Returns 0 or -1.
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
int virJobGetStats(virJobPtr job, virTypedParameterPtr *params, int *nparams,
                   unsigned int flags);

/**
 * virJobGetDomain:
 *
 * The domain a finished domain job produced or acted on (create, restore:
 * the new or recreated domain; save, dump: the domain saved or dumped).
 * Returns a new reference the caller releases with virDomainFree(), or
 * NULL with an error: VIR_ERR_OPERATION_INVALID while the job runs, when it
 * did not complete, or when it is a network job. Since: 0.1.0
 */
virDomainPtr virJobGetDomain(virJobPtr job);

/**
 * virJobGetNetwork:
 *
 * As virJobGetDomain, for network jobs. Caller frees with virNetworkFree().
 * Since: 0.1.0
 */
virNetworkPtr virJobGetNetwork(virJobPtr job);

/**
 * virJobGetError:
 *
 * Why the job failed or was cancelled: code, domain and an English message
 * (e.g. "worker crashed: signal 11 (SIGSEGV)"). The error is owned by the
 * job and stays valid until virJobDestroy(). Returns NULL while the job
 * runs or when it completed (no last error is set then), or NULL with
 * VIR_ERR_INVALID_JOB for a bad handle. Since: 0.1.0
 */
virErrorPtr virJobGetError(virJobPtr job);

/**
 * virJobCancel:
 *
 * Ask the job to stop. Asynchronous, as the RFC says: it records the
 * request in the job's status page and sends SIGTERM to the worker's
 * process group; a worker that has not ended after the grace period is
 * killed with SIGKILL (the job then ends CANCELLED). A job may still
 * complete if it was nearly done.
 * Returns 0 when the request was made, 1 when the job had already ended
 * (a harmless no-op), -1 on error (bad handle; read-only connection).
 * Thread-safety: safe from any thread, any number of times. Since: 0.1.0
 */
int virJobCancel(virJobPtr job);

/**
 * virJobWait:
 * @timeoutMs: -1 waits for ever, 0 polls
 *
 * Block until the job has ended (its final state and error are visible).
 * The waiting thread watches the worker itself and may do the library's
 * end-of-job bookkeeping for it (a driver's commit step still runs on the
 * library's own threads while it can start them), so it often returns
 * sooner than a wait on virJobGetFD's descriptor. Returns 0 when it ended,
 * 1 on timeout, -1 on error.
 * Thread-safety: any number of threads may wait on one job. Since: 0.1.0
 */
int virJobWait(virJobPtr job, int timeoutMs);

/**
 * virJobGetFD:
 *
 * A descriptor that polls readable (POLLIN) once the job has ended, for the
 * caller's own poll/epoll loop. Owned by the job: do not read or close it;
 * it stays valid until virJobDestroy(). Returns the fd, or -1 on error.
 * Since: 0.1.0
 */
int virJobGetFD(virJobPtr job);

/**
 * virJobGetID:
 *
 * The job's id, unique within this process, as virtsup-stat shows it.
 * Returns 0 on a bad handle (ids start at 1). Since: 0.1.0
 */
unsigned long long virJobGetID(virJobPtr job);

/**
 * virJobSetGracePeriod / virJobSetDeadline:
 * @ms: grace period between SIGTERM and SIGKILL on cancel (default: the
 *      connection's, 5000 ms); deadline after which a running job is
 *      killed and FAILED "timed out after T s" (0: none)
 * Returns 0 or -1. Thread-safety: safe from any thread. Since: 0.1.0
 */
int virJobSetGracePeriod(virJobPtr job, unsigned int ms);
int virJobSetDeadline(virJobPtr job, unsigned int ms);

/**
 * virJobDestroy:
 *
 * Release a finished job and everything it holds. A running job is not
 * destroyed: -1 with VIR_ERR_OPERATION_INVALID ("job N is still running:
 * cancel it and wait first"). Afterwards the handle is invalid; passing it
 * again gets VIR_ERR_INVALID_JOB while its memory is not reused. In a
 * forked child, a job of the parent (every other call on it fails with
 * VIR_ERR_INVALID_JOB: "job N belongs to the parent process (pid P)") is
 * destroyed whatever its state, freeing the child's copy of its memory only
 * (see virConnectOpen, "Fork").
 * Returns 0 or -1. Must not race with other calls on the same handle.
 * Since: 0.1.0
 */
int virJobDestroy(virJobPtr job);

#ifdef __cplusplus
}
#endif
