/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * driverjob.h: the job helpers every driver shares (library side, in the
 * client process). The engine below (supervisor/) runs jobs and knows no
 * domains or networks; these helpers give a driver what each of its async
 * calls needs around a job, the same way for every object type:
 *  - the guard: jobs are created on the connection's supervisor group, and
 *    closing the connection waits for creations in flight, then for the
 *    jobs themselves (virDriverJobGuard*);
 *  - the per-object job slot: one async job per object at a time, a second
 *    one fails at once naming the first (virDriverJobSlot*), with the
 *    job's statistics, live and of the last one (virDriverJobStats*);
 *  - the atomic output file: an unnamed file in the destination's
 *    directory, linked into place only by a commit, nothing left by a job
 *    that did not complete (virDriverJobOutput*), and the input file a job
 *    reads (virDriverJobInputOpen);
 *  - results: the object a job produced, handed to the job as an opaque
 *    reference (virJobGetDomain / virJobGetNetwork read it back);
 *  - the synchronous form of a job call (start, wait, take the result).
 *
 * Thread-safety and errors are given at each call. Drivers include this;
 * the public API layer (src/) too. Each helper has its unit test in
 * tests/driverjob-test.c.
 */
#pragma once

#include "driver.h"
#include "supervisor/supervisor.h"

#include <pthread.h>

/* ---- the guard: the connection's group, and closing it ---------------------
 *
 * A job being created when the connection closes must be in the group's
 * table before the group is closed, or it would escape the close. */
typedef struct virDriverJobGuard {
    pthread_mutex_t lock;
    pthread_cond_t cond;          /* creating dropped to 0 */
    virSupGroup *group;           /* NULL once closing */
    unsigned int creating;        /* virSupJobCreate calls in flight */
} virDriverJobGuard;

/* Open the connection's supervisor group (virSupGroupNew) into @guard.
 * Returns 0, or -1 with an error reported (nothing to free then; Close
 * may still be called). */
int virDriverJobGuardOpen(virDriverJobGuard *guard, const virSupGroupConfig *cfg);
/* Create a job on the guarded group (virSupJobCreate). Fails with
 * VIR_ERR_INVALID_CONN once the connection is closing. Thread-safe. */
virJobPtr virDriverJobCreate(virDriverJobGuard *guard, const virSupJobParams *params);
/* Close: refuse new jobs, wait for creations in flight, then close the
 * group (cancels unfinished jobs and waits until every one is reaped and
 * its commit and done have run: the caller must not hold a lock those
 * take). Idempotent; creating a job afterwards fails (VIR_ERR_INVALID_CONN).
 * The guard needs no other freeing. May block. */
void virDriverJobGuardClose(virDriverJobGuard *guard);

/* ---- the per-object job slot -----------------------------------------------
 *
 * One async job per object (domain, network...) at a time, as libvirt does.
 * The slot holds a token from the moment the driver decides to start a job
 * (under its own lock, with the object's state checks) and the job once it
 * is created; both are cleared by the job's done step, matched by token, so
 * a job that ends before virSupJobCreate has returned cannot leave a stale
 * slot. Every call takes the driver's lock held by the caller (the slot
 * lives in the driver's object). */
typedef struct virDriverJobSlot {
    uint64_t token;               /* 0: free */
    virJobPtr job;                /* NULL until the job is created */
    const char *opname;           /* the op of the job, for messages */
} virDriverJobSlot;

/* Take the free @slot of @kind "@name" ("domain", "test") for a job of
 * @opname; *@token identifies the taker. Returns 0, or -1 with
 * VIR_ERR_OPERATION_INVALID naming the running job ("domain 'test'
 * already has a job running: job 12 (test.domain.save)"). */
int virDriverJobSlotTake(virDriverJobSlot *slot, const char *opname, const char *kind,
                         const char *name, uint64_t *token);
/* 0 when @slot is free, else -1 with the same error as SlotTake (for calls
 * that must not run beside a job: destroy, undefine). */
int virDriverJobSlotCheckFree(const virDriverJobSlot *slot, const char *kind,
                              const char *name);
/* Record the job created for @token (no effect if the slot was released). */
void virDriverJobSlotSetJob(virDriverJobSlot *slot, uint64_t token, virJobPtr job);
/* Release @slot if @token holds it. Returns true if it did. */
bool virDriverJobSlotRelease(virDriverJobSlot *slot, uint64_t token);
static inline bool virDriverJobSlotBusy(const virDriverJobSlot *slot)
{
    return slot->token != 0;
}
/* virDomainGetJobInfo of the object's job (all zero when there is none;
 * BOUNDED while it starts). Returns 0 or -1. */
int virDriverJobSlotGetInfo(const virDriverJobSlot *slot, virDomainJobInfoPtr info);
/* Fill libvirt's job record @info from a job's figures (@type a
 * virDomainJobType; the data and file fields are the bytes; the rest of
 * @info as it was). For a job the slot does not hold, e.g. another
 * connection's. Thread-safe. */
void virDriverJobInfoFill(virDomainJobInfoPtr info, int type, uint64_t elapsed_ms,
                          uint64_t remaining_ms, uint64_t done, uint64_t total);
/* virDomainAbortJob: cancel the object's job. Returns 0, or -1 with
 * VIR_ERR_OPERATION_INVALID when there is none, VIR_ERR_OPERATION_FAILED
 * while it is still starting. */
int virDriverJobSlotAbort(const virDriverJobSlot *slot, const char *kind, const char *name);

/* ---- job statistics (virDomainGetJobStats) ---------------------------------
 *
 * What a driver reports of an object's job: the live figures while it
 * runs, and the record it keeps of the last one that ended (libvirt's
 * VIR_DOMAIN_JOB_STATS_COMPLETED). Plain data: copy it, keep it in the
 * object. */
typedef struct virDriverJobStats {
    int type;                     /* VIR_DOMAIN_JOB_NONE: no job, no record;
                                     _BOUNDED: running (or starting);
                                     _COMPLETED / _FAILED / _CANCELLED: ended */
    int operation;                /* virDomainJobOperation */
    uint64_t elapsed_ms, remaining_ms;
    uint64_t done, total;         /* bytes */
    uint64_t rate;                /* bytes per second, over the whole job */
    char errmsg[256];             /* ended without completing: its error */
} virDriverJobStats;

/* The live figures of the job in @slot, for a job doing @operation
 * (type NONE when the slot is free; BOUNDED with zero figures while the
 * job starts). Call with the driver's lock held. Returns 0 or -1. */
int virDriverJobSlotGetStats(const virDriverJobSlot *slot, int operation,
                             virDriverJobStats *stats);
/* The record of @job, which ended in @state with @error: call it from the
 * op's done step with done's arguments (the figures are final then).
 * Cannot fail. */
void virDriverJobStatsEnded(virJobPtr job, int operation, virJobState state,
                            const virError *error, virDriverJobStats *stats);
/* virDomainGetJobStats in two halves. With the driver's lock held: the
 * live figures of @slot's job (doing @operation), or with
 * VIR_DOMAIN_JOB_STATS_COMPLETED in @flags the record @last, which is
 * cleared unless VIR_DOMAIN_JOB_STATS_KEEP_COMPLETED is given too.
 * Returns 0 or -1. */
int virDriverJobStatsRead(const virDriverJobSlot *slot, virDriverJobStats *last,
                          int operation, unsigned int flags, virDriverJobStats *stats);
/* Then, without the lock: the call's results from @stats when @rc (the
 * first half's return) is 0; *@params NULL and *@nparams 0 otherwise or
 * when there is no job. Returns 0, or -1 (@rc, or no memory, reported). */
int virDriverJobStatsReturn(int rc, const virDriverJobStats *stats, int *type,
                            virTypedParameterPtr *params, int *nparams);

/* virDomainGetJobStats's typed parameters for @stats (type not NONE):
 * OPERATION, TIME_ELAPSED, DATA_* and MEMORY_* (the bytes a job moved),
 * MEMORY_BPS; while running TIME_REMAINING; once ended SUCCESS and, if it
 * did not complete, ERRMSG. The caller frees *@params with
 * virTypedParamsFree. Returns 0, or -1 with VIR_ERR_NO_MEMORY reported. */
int virDriverJobStatsParams(const virDriverJobStats *stats,
                            virTypedParameterPtr *params, int *nparams);

/* ---- files a job writes or reads -------------------------------------------
 *
 * The output of a job (a save image, a core dump) is written into an
 * unnamed file (O_TMPFILE) in the destination's directory, opened here by
 * the trusted side and passed to the worker; the commit gives it its name
 * atomically (fsync, link to a hidden temporary name, rename over the
 * destination, fsync the directory). Without O_TMPFILE a hidden name is
 * used from the start. A job that does not complete leaves nothing: the
 * destination as it was, no temporary name. Not thread-safe: one job's. */
typedef struct virDriverJobOutput {
    int fd;                       /* the unnamed file; -1 */
    int dirfd;                    /* the destination's directory; -1 */
    char *path;                   /* the caller's path, for messages */
    char *base;                   /* the final name in dirfd */
    char *tmpname;                /* a name in dirfd to remove if not committed */
    const char *what;             /* "save image", for messages */
} virDriverJobOutput;

/* Tests: when true, act as on a file system without O_TMPFILE. */
extern bool virDriverJobOutputNoTmpfile;

void virDriverJobOutputInit(virDriverJobOutput *out);
/* Open the unnamed file for @to (a path whose directory exists; not a
 * directory, nor a symlink to one, nor an existing non-regular file).
 * Returns 0, or -1 with an error reported (VIR_ERR_INVALID_ARG, or the
 * system's reason naming the path). */
int virDriverJobOutputOpen(virDriverJobOutput *out, const char *to, const char *what);
/* Make the file @to: fsync, name it atomically, fsync the directory.
 * Returns 0, or -1 with an error reported; then @to is untouched and no
 * temporary name is left. */
int virDriverJobOutputCommit(virDriverJobOutput *out);
/* Remove what was not committed and close the descriptors (the job's done
 * step). Idempotent; keeps the strings. */
void virDriverJobOutputDiscard(virDriverJobOutput *out);
/* Discard, then free the strings. */
void virDriverJobOutputClear(virDriverJobOutput *out);

/* Open @from, a regular file a job will read (never a FIFO or a device:
 * opening does not block, and the file is checked). Returns the descriptor,
 * or -1 with an error reported naming @what and the path. */
int virDriverJobInputOpen(const char *from, const char *what);

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
