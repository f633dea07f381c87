/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * supervisor.h: the driver author's side of jobs (the RFC's job.h, trusted
 * half). A driver describes an operation once (virSupOp), then for each
 * request calls virSupJobCreate with the parameters and the descriptors the
 * worker needs, opened by the trusted side. The worker half of the op
 * (worker/job.h) runs in an isolated virtsup-worker process; this half's
 * commit step runs here, in the supervisor, after the worker has ended.
 *
 * Runs in the client process. Never included by worker/.
 */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include "libvirtsup/libvirtsup.h"

#define VIR_SUP_PARAMS_MAX  (1024 * 1024)  /* parameter blob, bytes */
#define VIR_SUP_RESULT_MAX  (1024 * 1024)  /* result blob, bytes */
#define VIR_SUP_FDS_MAX     8              /* resource descriptors per job */

typedef struct virSupGroup virSupGroup;

/* Called on the supervisor's reaper thread, never with a supervisor lock
 * held; must not wait for any job (virJobWait) or close a group. */
typedef int (*virSupCommitFunc)(virJobPtr job, void *opaque,
                                const void *result, size_t resultlen);
typedef void (*virSupDoneFunc)(virJobPtr job, void *opaque, virJobState state);

typedef struct virSupOp {
    const char *name;         /* "domain.save": the worker looks its half up by
                                 this name; at most VIR_SHM_OP_MAX - 1 bytes */
    virJobType type;          /* VIR_JOB_BOUNDED or VIR_JOB_UNBOUNDED */
    uint64_t caps;            /* capabilities the worker keeps: bit (1ULL << CAP_X);
                                 0 (none) for every test driver op */
    /* After the worker reported success and exited 0: make its work
     * visible (link the file, change driver state). Return 0, or -1 with
     * an error reported: the job then FAILS with that error and the commit
     * must have left nothing behind. May be NULL. */
    virSupCommitFunc commit;
    /* Always called last, once, whatever the outcome (after commit), e.g.
     * to release the domain's job slot. May be NULL. */
    virSupDoneFunc done;
} virSupOp;

typedef struct virSupJobParams {
    const virSupOp *op;
    const char *target;       /* what the job acts on, for operators ("test") */
    const void *params;       /* handed to the worker function; copied */
    size_t paramslen;         /* <= VIR_SUP_PARAMS_MAX */
    const int *fds;           /* duplicated; the worker gets them as fds 4, 5, ... */
    size_t nfds;              /* <= VIR_SUP_FDS_MAX */
    void *opaque;             /* the driver's, passed to commit/done */
    void (*opaque_free)(void *opaque); /* at virJobDestroy; may be NULL */
    unsigned int grace_ms;    /* 0: the group's */
    unsigned int deadline_ms; /* 0: the group's (0 there: none) */
} virSupJobParams;

/* Per-connection settings. Zero means "the default" for each field. */
typedef struct virSupGroupConfig {
    unsigned int grace_ms;      /* SIGTERM -> SIGKILL on cancel; default 5000 */
    unsigned int deadline_ms;   /* default per-job deadline; 0 none */
    unsigned int max_workers;   /* concurrent workers of this group; default 64 */
    unsigned int stall_ms;      /* no progress for this long: stalled; 0 off */
    bool stall_cancel;          /* cancel a stalled job */
    bool set_ids;               /* run workers as uid/gid, no supplementary groups */
    uid_t uid;
    gid_t gid;
    /* Resource limits per worker; 0 = default (see docs/WORKER.md). */
    uint64_t rlimit_as;         /* bytes */
    uint64_t rlimit_cpu;        /* seconds */
    uint64_t rlimit_nofile;
    uint64_t rlimit_fsize;      /* bytes */
} virSupGroupConfig;

/* Open a group (one per connection). The first group of the process starts
 * the supervisor: status segment, spawn helper, reaper thread. Returns NULL
 * with an error. Thread-safe. */
virSupGroup *virSupGroupNew(const virSupGroupConfig *cfg);

/* Close a group: cancel its unfinished jobs, wait until every one has been
 * reaped (each at most its grace period), then drop the group. Closing the
 * last group stops the supervisor and removes the status segment. The job
 * handles stay valid (finished) until virJobDestroy. NULL accepted. */
void virSupGroupClose(virSupGroup *group);

/* Start a job. Returns it RUNNING (or queued behind the group's cap) at
 * once, or NULL with an error having changed nothing (no slot used). The
 * caller owns one reference, released by virJobDestroy(). Thread-safe. */
virJobPtr virSupJobCreate(virSupGroup *group, const virSupJobParams *params);
/* The async-jobs RFC's name for it (its worker function and type travel in
 * the op, its private data in @params). */
#define virJobCreate virSupJobCreate

/* For commit functions: the object the job produced. The job takes a
 * reference (virDomainRef/virNetworkRef) and drops it at destroy. */
int virSupJobSetResultDomain(virJobPtr job, virDomainPtr dom);
int virSupJobSetResultNetwork(virJobPtr job, virNetworkPtr net);

/* The driver's opaque, and the op, for use in the driver. */
void *virSupJobGetOpaque(virJobPtr job);
const virSupOp *virSupJobGetOp(virJobPtr job);

/* Read the job's live figures without the virJobGetInfo rounding, for
 * virDomainGetJobInfo. Returns 0 or -1. */
int virSupJobGetRawStats(virJobPtr job, int *state, uint64_t *elapsed_ms,
                      uint64_t *remaining_ms, uint64_t *done, uint64_t *total);

/* Tests and tools: the worker program used (VIRTSUP_WORKER overrides, read
 * with secure_getenv). */
const char *virSupWorkerPath(void);
/* Tests: the running supervisor's segment path (NULL if not running), and
 * the pid of its spawn helper (0 if none). */
const char *virSupSegmentPath(void);
pid_t virSupHelperPid(void);
