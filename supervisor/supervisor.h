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

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "libvirtsup/libvirtsup.h"

#define VIR_SUP_PARAMS_MAX  (1024 * 1024)  /* parameter blob, bytes */
#define VIR_SUP_RESULT_MAX  (1024 * 1024)  /* result blob, bytes */
#define VIR_SUP_FDS_MAX     8              /* resource descriptors per job */

typedef struct virSupGroup virSupGroup;

/* ---- worker profiles ----
 *
 * What an op's worker may have (docs/WORKER.md, "Profiles"). Everything a
 * profile does not grant is taken away before the op's code runs: the
 * default profile (NULL) grants nothing but the job's own descriptors. */

/* The system-call sets (worker/sandbox.c; docs/SECURITY.md lists them). */
typedef enum {
    VIR_SUP_SYSCALLS_DEFAULT = 0,  /* the deny list; new sockets: AF_UNIX only */
    VIR_SUP_SYSCALLS_NETLINK = 1,  /* the deny list; new sockets: AF_UNIX, AF_NETLINK */
} virSupSyscalls;

/* The libraries an op's worker may call, a bit set: virtsup-worker links
 * neither, the spawn helper of a profile that names one loads it (with
 * dlopen, before its sandbox) and its workers have it; no other worker
 * maps it (docs/WORKER.md, "Libraries loaded per sandbox"). */
typedef enum {
    VIR_SUP_LIB_XML = 1u << 0,       /* libxml2: ops that read XML */
    VIR_SUP_LIB_NFTABLES = 1u << 1,  /* libnftables: firewall rules */
} virSupLibs;

/* What a named descriptor must be; checked when the job is created. */
typedef enum {
    VIR_SUP_FD_READ = 0,     /* a file (regular, block or character device) open for reading */
    VIR_SUP_FD_WRITE,        /* a file open for writing (e.g. O_TMPFILE) */
    VIR_SUP_FD_PIPE_READ,    /* the read end of a pipe or FIFO */
    VIR_SUP_FD_PIPE_WRITE,   /* the write end of a pipe or FIFO */
    VIR_SUP_FD_SOCKET,       /* a socket (e.g. to a guest's monitor owner) */
} virSupFdKind;

typedef struct virSupFdSpec {
    const char *name;        /* "output", "monitor": < 16 bytes; the worker
                                finds it with virWorkerJobFD(job, name) */
    virSupFdKind kind;
} virSupFdSpec;

typedef struct virSupProfile {
    const char *name;        /* "net.create": in messages and in the spawn
                                helper's command line; < 32 bytes */
    uint64_t caps;           /* capabilities the worker keeps: bit (1ULL << CAP_X) */
    virSupSyscalls syscalls;
    uint32_t libs;           /* virSupLibs the worker calls; 0: none */
    /* The descriptors the worker receives, in order, at fds 4, 5, ...: a
     * job of this profile must pass exactly these. NULL (nfds 0): the job
     * passes up to VIR_SUP_FDS_MAX unnamed descriptors of any kind but a
     * directory. The filesystem view is always the empty root: a path the
     * worker needs is opened by the trusted side and passed here. */
    const virSupFdSpec *fds;
    size_t nfds;
    /* Whether a process the worker starts may outlive it: false (the
     * default), everything it started dies with it; true, the worker may
     * hand the spawn helper processes it started in a session of their
     * own (virWorkerJobDetach), which survive the job and the supervisor. */
    bool detach;
} virSupProfile;

/* The profile of an op that names none: no capabilities, the default
 * system-call set, any (non-directory) descriptors, nothing outlives it. */
extern const virSupProfile virSupProfileDefault;

/* Called on a commit thread (never the reaper), never with a supervisor
 * lock held; commits of different jobs may run at once. May block on file
 * I/O, the driver's locks and round trips with a timeout; must not wait for
 * another job of its own connection (virJobWait), close a group, or block
 * without a bound. docs/WORKER.md, "what a commit may block on". */
typedef int (*virSupCommitFunc)(virJobPtr job, void *opaque,
                                const void *result, size_t resultlen);
/* @error: NULL when @state is VIR_JOB_COMPLETE; otherwise the error the
 * job ends with (VIR_FROM_JOB, its code and message: what virJobGetError
 * returns once the job ended, which is only after done returned). Owned
 * by the caller, valid during the call only: copy what you keep. */
typedef void (*virSupDoneFunc)(virJobPtr job, void *opaque, virJobState state,
                               const virError *error);

typedef struct virSupOp {
    const char *name;         /* "domain.save": the worker looks its half up by
                                 this name; at most VIR_SHM_OP_MAX - 1 bytes */
    virJobType type;          /* VIR_JOB_BOUNDED or VIR_JOB_UNBOUNDED */
    const virSupProfile *profile; /* NULL: virSupProfileDefault; must outlive
                                     the op's jobs */
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
    const int *fds;           /* duplicated; the worker gets them as fds 4, 5, ...;
                                 as the op's profile says */
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
/* True when @group was opened before a fork, in an ancestor of this
 * process. Closing it then frees its memory only (its jobs are neither
 * cancelled nor waited for); virSupJobCreate refuses it. */
bool virSupGroupInherited(const virSupGroup *group);

/* Start a job. Returns it RUNNING (or queued behind the group's cap) at
 * once, or NULL with an error having changed nothing (no slot used). The
 * caller owns one reference, released by virJobDestroy(). Thread-safe. */
virJobPtr virSupJobCreate(virSupGroup *group, const virSupJobParams *params);
/* The async-jobs RFC's name for it (its worker function and type travel in
 * the op, its private data in @params). */
#define virJobCreate virSupJobCreate

/* For commit functions: what the job produced, as an opaque reference the
 * job keeps until virJobDestroy, when @release (may be NULL) is called on
 * it. @kind is the driver layer's tag for what @ref is (the supervisor
 * only stores it: it knows no domains or networks). Replaces an earlier
 * result, releasing it. Returns 0, or -1 for an invalid job. Call it from
 * the job's commit function (before the job's terminal state is
 * published); not thread-safe against a concurrent call on the same job. */
typedef void (*virSupReleaseFunc)(void *ref);
int virSupJobSetResult(virJobPtr job, int kind, void *ref, virSupReleaseFunc release);
/* The result set by the commit, borrowed (valid until virJobDestroy);
 * NULL (and *@kind 0) when there is none. */
void *virSupJobGetResult(virJobPtr job, int *kind);

/* For done functions: add @text to the error a job that did not complete
 * ends with, after "; " (what the done step could not put right, e.g. "the
 * guest was left paused: ..."), cut to VIR_SHM_ERROR_MAX - 1 bytes in all.
 * The error virJobGetError returns and the lifecycle record, both
 * published after done, carry it; @error, as done received it, points at
 * the same text. Call it only from the job's own done step,
 * on its thread; @text is copied. Returns 0, or -1 (nothing changed) when
 * called elsewhere, for a completed job, or with an empty @text. */
int virSupJobErrorAppend(virJobPtr job, const char *text);

/* The driver's opaque, and the op, for use in the driver. */
void *virSupJobGetOpaque(virJobPtr job);
const virSupOp *virSupJobGetOp(virJobPtr job);

/* ---- what the public virJob* calls (src/job.c) are built on ----
 * Each takes a job that virSupJobValid accepted; thread-safe. */

/* True for a pointer that is a live job (magic check; the job memory is
 * never returned to malloc, so reading the magic of a destroyed job is
 * safe). Lock-free, no system call. */
bool virSupJobValid(virJobPtr job);

/* A lock-free snapshot for virJobGetInfo / virJobGetStats. */
typedef struct virSupJobSnapshot {
    int state;                         /* virJobState */
    int type;                          /* virJobType */
    uint64_t elapsed_ms;
    uint64_t remaining_ms;             /* 0 unknown */
    uint32_t percent;
    uint64_t bytes_done, bytes_total;
    uint64_t rate_bps;
    bool stalled;                      /* no progress for the group's stall time */
    bool cancel_requested;
    bool cancel_acked;                 /* the worker saw the request */
    pid_t worker_pid;                  /* @precise only, while running; else 0 */
    char phase[64];                    /* @precise only: the worker's progress text */
} virSupJobSnapshot;

/* @precise: millisecond elapsed time, the phase text and the worker's pid
 * (virJobGetStats); otherwise the cheapest read that is right to the
 * second (virJobGetInfo's hot path: no lock, no system call). */
void virSupJobSnapshotGet(virJobPtr job, virSupJobSnapshot *snap, bool precise);
/* Returns 0 when the request was made, 1 when the job had already ended. */
int virSupJobCancel(virJobPtr job);
/* Returns 0 once ended, 1 on timeout, -1 with an error. May block. */
int virSupJobWait(virJobPtr job, int timeout_ms);
/* -1 with VIR_ERR_OPERATION_INVALID while the job runs. */
int virSupJobDestroy(virJobPtr job);
int virSupJobSetGrace(virJobPtr job, unsigned int ms);      /* 0: the default */
int virSupJobSetDeadline(virJobPtr job, unsigned int ms);   /* 0: none */
/* The eventfd that polls readable once the job ended; owned by the job. */
int virSupJobGetFD(virJobPtr job);
uint64_t virSupJobGetID(virJobPtr job);
/* The job's error once it ended (NULL while it runs or if it completed);
 * owned by the job. */
virErrorPtr virSupJobGetError(virJobPtr job);

/* Read the job's live figures without the virJobGetInfo rounding, for
 * virDomainGetJobInfo. Returns 0 or -1. */
int virSupJobGetRawStats(virJobPtr job, int *state, uint64_t *elapsed_ms,
                      uint64_t *remaining_ms, uint64_t *done, uint64_t *total);

/* ---- another process's job ----
 *
 * A job of another process, read from that process's status segment as
 * virtsup-stat reads it (read-only: nothing is locked or written there).
 * A driver uses it to show a job that another application runs on the
 * same object (the qemu driver's RUN/NAME/job mark names the segment and
 * the job). */

/* The path of the status segment that holds @job (this process's), into
 * @buf. Returns 0, or -1 (not reported) when it does not fit or the job is
 * not in a segment (an inherited job). Thread-safe. */
int virSupJobSegmentPath(virJobPtr job, char *buf, size_t len);

typedef struct virSupForeignJob {
    int state;                /* virJobState (queued counts as running) */
    uint64_t elapsed_ms;      /* since the job was created */
    uint64_t remaining_ms;    /* the worker's ETA, else the supervisor's; 0: unknown */
    uint64_t done, total;     /* bytes, as the worker last wrote them */
} virSupForeignJob;

/* Read job @id from the segment at @segPath into @out. Returns 0; -1
 * reported when the segment cannot be opened or read, or does not hold
 * that job any more (the slot went round), or its supervisor has gone
 * while the job was unfinished (then it never will finish there).
 * Thread-safe; opens and maps the segment for the call. */
int virSupForeignJobRead(const char *segPath, uint64_t id, virSupForeignJob *out);

/* ---- fork ----
 *
 * A forked child of the application never touches its parent's jobs,
 * spawn helpers or status segment. The library's fork handlers
 * (pthread_atfork, installed by the first virSupGroupNew) hold the
 * supervisor's locks across fork(); in the child they close the inherited
 * descriptors of the supervisor (helper sockets, pidfds, event
 * descriptors, the segment's descriptor, the jobs' control descriptors),
 * set the supervisor's state aside without touching it (its threads do
 * not exist there, its segment is not mapped there: MADV_DONTFORK) and
 * start a new fork generation. The next virSupGroupNew in the child then
 * starts a supervisor of its own (helper, reaper, segment). Objects carry
 * the generation they were made in. */

/* The process's fork generation: 0 in a process that never forked since
 * the library was loaded, one more in each forked child. Lock-free, no
 * system call. */
unsigned int virSupForkGeneration(void);
/* True when @job was made before a fork, in an ancestor of this process:
 * the calls of the public API refuse it (virSupJobInheritedError) and
 * virJobDestroy frees it with virSupJobForget. Lock-free. */
bool virSupJobInherited(virJobPtr job);
/* Report the error for a call @func on an inherited job (VIR_ERR_INVALID_JOB,
 * naming the job and the process it belongs to). */
void virSupJobInheritedError(virJobPtr job, const char *func);
/* In a forked child: free an inherited job's memory and nothing else
 * (whatever its state: it is never cancelled, signalled, waited for, and
 * the segment is not written). Its driver opaque and result are kept as
 * they are (virSupForkKeep): releasing them would run driver code meant for
 * the parent, e.g. removing the temporary file of the parent's save. */
void virSupJobForget(virJobPtr job);
/* Keep @ptr reachable for the life of the process: memory a forked child
 * inherited and must not free through its owner's code. NULL ignored. */
void virSupForkKeep(void *ptr);

/* Tests and tools: the worker program used (VIRTSUP_WORKER overrides, read
 * with secure_getenv). */
const char *virSupWorkerPath(void);
/* Tests: the running supervisor's segment path (NULL if not running), and
 * the pid of the spawn helper of @profile's sandbox (NULL: the default
 * profile's; 0 if none is running). */
const char *virSupSegmentPath(void);
pid_t virSupHelperPid(void);
pid_t virSupProfileHelperPid(const virSupProfile *profile);
