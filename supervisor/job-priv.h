/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * job-priv.h: the supervisor's job record and internals, private to
 * supervisor/ (and its tests). Client process only; src/ uses
 * supervisor.h.
 */
#pragma once

#include <pthread.h>
#include <stdatomic.h>

#include "shm/segment.h"
#include "supervisor/supervisor.h"
#include "util/workerproto.h"

#define VIR_JOB_MAGIC 0x4a4f4256u  /* "VBOJ" */
#define VIR_JOB_DEAD  0xdeadbeefu

/* Where a job is in its life, as the supervisor tracks it (under its lock). */
typedef enum {
    VIR_SUP_STAGE_QUEUED,      /* waiting behind the group's worker cap */
    VIR_SUP_STAGE_SPAWNING,    /* SPAWN sent, SPAWNED not yet seen */
    VIR_SUP_STAGE_RUNNING,     /* worker pid known */
    VIR_SUP_STAGE_FINISHING,   /* exited; outcome, commit and done running */
    VIR_SUP_STAGE_DONE,        /* terminal state published */
} virSupJobStage;

typedef enum {
    VIR_SUP_KILL_NONE,
    VIR_SUP_KILL_GRACE,      /* SIGKILL after the cancel grace period */
    VIR_SUP_KILL_DEADLINE,   /* SIGKILL at the job's deadline */
    VIR_SUP_KILL_STALL,      /* cancelled by the stall watchdog (then GRACE) */
} virSupKillReason;

/* The outcome table of DESIGN.md, as a pure function (supervisor/outcome.c). */
typedef struct virSupOutcomeInput {
    virProtoReport report;
    int report_code;
    const char *report_message;        /* may be NULL */
    int exit_code;                     /* CLD_EXITED / CLD_KILLED / CLD_DUMPED */
    int exit_status;
    virSupKillReason killed;
    bool cancel_requested;
    unsigned int grace_ms, deadline_ms;
} virSupOutcomeInput;

typedef struct virSupOutcome {
    virJobState state;
    int code;                          /* virErrorNumber; 0 for COMPLETE */
    char message[VIR_SHM_ERROR_MAX];
} virSupOutcome;

typedef struct virSupSegRef virSupSegRef;

struct _virJob {
    _Atomic uint32_t magic;            /* VIR_JOB_MAGIC while valid */
    unsigned int forkgen;              /* virSupForkGeneration() at creation */
    pid_t owner;                       /* the process that created it */
    uint64_t id;
    uint32_t slot;
    uint32_t hix;                      /* its spawn helper (sup.helpers) */
    const virSupOp *op;
    virSupGroup *group;
    virSupSegRef *segref;              /* keeps the mapping alive for readers */
    virShmProgress *progress;          /* in the segment */
    virShmLifecycle *lifecycle;
    char target[VIR_SHM_TARGET_MAX];

    void *opaque;
    void (*opaque_free)(void *);

    /* Hand-over to the worker; closed once sent. */
    int paramsfd;                      /* sealed memfd (long parameters) */
    char *spawnmsg;                    /* short ones: room for the SPAWN
                                        * record, then the parameters
                                        * (VIR_PROTO_PARAMS_INLINE_MAX) */
    size_t paramslen;
    int resfds[VIR_SUP_FDS_MAX];
    size_t nres;
    int ctlfd;                         /* our end of the job's control socket */
    int evfd;                          /* eventfd, readable once the job ended */

    /* Under the supervisor lock. */
    virSupJobStage stage;
    pid_t pid;
    int pidfd;                         /* the worker's, from the helper; -1 none */
    int statfd;                        /* its /proc/PID/stat (virProcessOpenStat); -1 */
    uint64_t hardkill_at;              /* mono ns of the SIGKILL; 0 none */
    uint64_t ended_at;                 /* mono ns its pidfd said it ended; 0 not yet */
    bool zombie_known;                 /* zombie_status read before the helper reaped it */
    int zombie_status;                 /* its wait status then */
    bool cancel_requested;
    virSupKillReason killed;
    unsigned int grace_ms;
    unsigned int deadline_ms;
    uint64_t create_mono;
    uint64_t start_mono;               /* when spawned */
    uint64_t grace_at;                 /* mono ns; 0 none */
    uint64_t deadline_at;              /* mono ns; 0 none */
    uint64_t last_change_mono;         /* stall watchdog */
    uint64_t last_sample_mono;
    uint64_t last_bytes;
    uint32_t last_percent;
    double rate_ewma;                  /* bytes/s */
    virShmProgressData sampled;        /* the worker's page at the last sample, */
    uint64_t sampled_real;             /* and when (realtime ns; 0: none yet) */
    bool stalled;
    int exit_code, exit_status;        /* CLD_*, status */
    /* Finishing: the reaper decides the outcome, a commit thread runs the
     * op's commit and done (never the reaper), then the terminal state is
     * published. No allocation: a job is on at most one of the lists. */
    struct _virJob *next_finish;       /* sup.finish / sup.commit queue */
    bool synth;                        /* outcome set without a worker report */
    virSupOutcome outcome;
    _Atomic unsigned long done_thread; /* pthread_self() of the thread running its
                                          op's done step; 0 at other times */
    void *report;                      /* the worker's result blob (for commit) */
    size_t reportlen;
    struct _virJob *next_in_group;     /* the group's unfinished jobs */
    struct _virJob *next_queued;       /* the group's FIFO queue */

    /* Read lock-free by virJobGetInfo. */
    _Atomic int state;                 /* virJobState; terminal ones publish final */
    _Atomic uint32_t max_percent;      /* percent never goes backwards */
    _Atomic uint64_t derived_eta_ms;   /* from the smoothed rate */
    _Atomic uint64_t rate_bps;
    _Atomic uint32_t flags;            /* VIR_SHM_LC_* as last published */

    /* Final figures, written once before state turns terminal (release). */
    virShmProgressData final;
    uint64_t final_elapsed_ms;
    virErrorPtr error;

    /* What the job produced (commit): opaque, released at destroy. */
    void *result;
    int result_kind;
    virSupReleaseFunc result_release;

    struct _virJob *free_next;         /* the job pool */
};

void virSupOutcomeDecide(const virSupOutcomeInput *in, virSupOutcome *out);
const char *virSupSignalName(int signo);

/* The spawn helper (supervisor/spawn.c). */
typedef struct virSupHelper {
    int sock;                          /* SEQPACKET to the helper; -1 none */
    pid_t pid;
    uint64_t start;                    /* its start time (virProcessStartTime) */
    int pidfd;
} virSupHelper;

/* Start a helper (virtsup-worker --spawn-helper @profile) and wait for its
 * HELLO. Returns 0, or -1 with an error reported. */
int virSupHelperStart(virSupHelper *h, const char *worker_path, const char *profile);
/* socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC) with both ends at 3 or
 * above (virFDAboveStdio). Returns 0, or -1 with errno set, nothing open. */
int virSupSocketPair(int sv[2]);
/* Close the helper's socket (it kills its workers and exits), resume it
 * if it was stopped (SIGCONT), wait at most @timeout_ms for its end, then
 * SIGKILL it. */
void virSupHelperStop(virSupHelper *h, int timeout_ms);
/* Send one record without blocking. Returns 0, or -1 with errno set
 * (EAGAIN: the socket is full, try again when it is writable); reports
 * nothing. */
int virSupHelperSend(virSupHelper *h, const void *msg, size_t len,
                     const int *fds, size_t nfds);
/* The same on any socket (a ready worker's). */
int virSupSendFDs(int sock, const void *msg, size_t len, const int *fds, size_t nfds);

/* Tests: make the reaper's next epoll_wait fail (EINVAL), as a broken event
 * loop would; the supervisor must then fail every unfinished job cleanly
 * and refuse new ones until every group is closed. */
void virSupTestBreakEventLoop(void);
/* Tests: while @hold, the reaper handles nothing from the spawn helpers
 * (reports, hang-ups): from the moment it has seen an event of one, it
 * waits until released (false), with the supervisor's lock released. A
 * helper killed meanwhile is not known to be dead until then, except to a
 * request that meets its closed socket. */
void virSupTestHoldHelpers(bool hold);
/* Tests: while @hold, the reaper handles no event at all once it has seen
 * one (it waits until released, with the supervisor's lock released), so
 * that a test can show what ends a job without it. */
void virSupTestHoldReaper(bool hold);
/* Tests: the descriptors the supervisor holds for ready workers (a socket
 * and a pidfd each), which come and go with them. */
int virSupTestHeldFDs(void);
/* Tests: how many commit threads the supervisor runs now. */
unsigned int virSupTestCommitThreads(void);
