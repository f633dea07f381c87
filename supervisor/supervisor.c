/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * supervisor.c: the job table, the reaper thread, the commit threads,
 * cancellation, deadlines, the stall watchdog, and publishing lifecycle
 * state.
 *
 * One supervisor per process, started by the first group (connection) and
 * stopped by the last. One lock (sup.lock) guards all of its state; it is
 * never held while a commit or done callback runs, nor while waiting for a
 * process (but for a spawn helper's exit at stop). The reaper thread waits
 * in epoll on each spawn helper's socket (one helper per profile sandbox:
 * spawned/exited reports), an eventfd (work for it) and a timerfd (grace
 * periods, deadlines, the sampling tick); it decides outcomes and hands
 * commit and done to the commit threads. No SIGCHLD handler, no change to
 * the application's signals: our workers are not the application's
 * children (see spawn.c).
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/wait.h>

#define VIR_FROM_THIS VIR_FROM_JOB
#include "supervisor/job-priv.h"
#include "shm/gc.h"
#include "util/viralloc.h"
#include "util/virerror.h"
#include "util/virprocess.h"

#define SUP_DEFAULT_GRACE_MS   5000u
#define SUP_DEFAULT_MAX_WORKERS 64u
#define SUP_TICK_NS            (500ull * 1000 * 1000)   /* rate and stall sampling */
#define SUP_HELPER_STOP_MS     5000
/* After the hard kill (grace period, deadline), how long the spawn helper
 * has to report the worker's end before the supervisor finishes the job
 * from the worker's pidfd alone (a stopped helper reports nothing). */
#define SUP_KILL_MARGIN_NS     (1000ull * 1000 * 1000)
#if defined(__SANITIZE_ADDRESS__)
# define SUP_DEFAULT_RLIMIT_AS 0ull   /* ASan reserves terabytes of shadow */
#else
# define SUP_DEFAULT_RLIMIT_AS (16ull << 30)
#endif
#define SUP_DEFAULT_RLIMIT_NOFILE 256ull
#define SUP_HELPERS_MAX        16     /* distinct sandboxes (spawn helpers) */
/* Commit threads, started as commits need them: a commit that blocks (a
 * slow disk, a monitor round trip up to its timeout) holds one; the
 * reaper never waits for any. */
#define SUP_COMMIT_THREADS_MAX 4
/* Ready workers held per helper: twice what a helper keeps (MAX_READY in
 * worker/main.c), for those whose end is not read yet. */
#define SUP_READY_MAX          8
#define SUP_FLUSH_POLL_NS      (50ull * 1000 * 1000)  /* see outWatchLocked */
/* epoll data of the reaper: the eventfd, the timerfd, then one per helper. */
#define SUP_EV_WAKE            1u
#define SUP_EV_TIMER           2u
#define SUP_EV_HELPER          16u    /* + the helper's index */
#define SUP_EV_WORKER          (1ull << 63)   /* | the job's id: its worker's pidfd */

const virSupProfile virSupProfileDefault = {
    .name = "default",
    .caps = 0,
    .syscalls = VIR_SUP_SYSCALLS_DEFAULT,
};

struct virSupSegRef {
    virShmSegment *seg;
    _Atomic int refs;
    unsigned int forkgen;        /* the generation that mapped it */
};

struct virSupGroup {
    virSupGroupConfig cfg;
    unsigned int forkgen;        /* virSupForkGeneration() when opened */
    unsigned int running;        /* workers started and not yet finished */
    unsigned int unfinished;     /* jobs not DONE */
    virJobPtr jobs;              /* unfinished jobs (next_in_group) */
    virJobPtr qhead, qtail;      /* FIFO behind max_workers (next_queued) */
    virSupGroup *next;
};

/* A request for the spawn helper that did not fit its socket yet. */
typedef struct supOut {
    struct supOut *next;
    size_t len;
    size_t nfds;
    int fds[3 + VIR_SUP_FDS_MAX];   /* our own duplicates, closed once sent */
    union {
        virProtoSpawn spawn;
        virProtoKill kill;
        char raw[VIR_PROTO_MSG_MAX];  /* a SPAWN with its parameters */
    } m;
} supOut;

/* One spawn helper per sandbox (a profile's capabilities, system-call set
 * and detach rule), started on first use; profiles that differ only in
 * their descriptors share one. Its set-up for all its workers is done
 * once, in the helper. */
typedef struct supHelper {
    virProtoSandbox sandbox;      /* what identifies it; sent after HELLO */
    virSupHelper h;
    bool up;
    supOut *out_head, *out_tail;  /* requests waiting for room, in order */
    bool out_watch;               /* EPOLLOUT armed on its socket */
    bool out_poll;                /* EPOLLOUT could not be armed: timer flushes */
    struct rlimit hard_as, hard_nofile;  /* what it inherited when it started */
    /* Its ready workers (READY), oldest first: a job that fits goes
     * straight to one, through its socket, without a wake-up of the
     * helper (readyTakeLocked). */
    struct {
        pid_t pid;
        int sock;
        int pidfd;                /* -1: none (the job then ends on EXITED) */
        int statfd;               /* its /proc/PID/stat; -1 none */
    } ready[SUP_READY_MAX];
    size_t nready;
    uint64_t ready_hard[4];       /* the hard limits its READY named */
} supHelper;

/* What a running supervisor allocated besides its groups, set aside in a
 * forked child (which cannot free it there: no allocator calls in a fork
 * handler) and freed once the child has closed every inherited group.
 * Made when the supervisor starts, so that the fork handler only links. */
typedef struct supLeft {
    struct supLeft *next;
    virSupSegRef *segref;        /* the supervisor's own reference */
    virJobPtr *byslot;
    supOut *outs;                /* requests never sent; descriptors closed */
} supLeft;


static struct {
    pthread_mutex_t startLock;   /* serialises start and stop; taken before lock */
    pthread_mutex_t lock;
    pthread_cond_t cond;         /* broadcast whenever a job reaches DONE */
    /* Broadcast when a job leaves SPAWNING (its pidfd known, or it
     * failed) or reaches DONE: what virSupJobWait waits on before it can
     * watch the worker itself. CLOCK_MONOTONIC (spawnCondInit). */
    pthread_cond_t spawn_cond;
    bool running;
    bool stop;
    virSupGroup *groups;
    virShmSegment *seg;
    virSupSegRef *segref;
    supHelper helpers[SUP_HELPERS_MAX];  /* [0]: the default profile's */
    size_t nhelpers;
    int epfd, evfd, tfd;
    uint64_t timer_at;           /* when tfd fires (mono ns); 0: disarmed */
    pthread_t thread;
    virJobPtr *byslot;           /* the unfinished job of each slot */
    /* Jobs whose worker ended (or that end without one): the reaper
     * decides their outcome. FIFO through next_finish. */
    virJobPtr finish_head, finish_tail;
    /* Jobs whose commit and done wait for a commit thread. */
    virJobPtr commit_head, commit_tail;
    pthread_cond_t commit_cond;  /* signalled when the queue grows or at stop */
    pthread_t commit_threads[SUP_COMMIT_THREADS_MAX];
    unsigned int ncommit_threads, ncommit_idle;
    int loop_err;                /* errno that ended the event loop; 0: fine */
    bool start_queued;           /* the reaper starts every group's queued jobs */
    bool test_hold_helpers;      /* virSupTestHoldHelpers */
    bool test_hold_reaper;       /* virSupTestHoldReaper */
    pthread_cond_t test_cond;    /* broadcast when a test hold is cleared */
    char *worker_path;
    supLeft *left;               /* while running: for a forked child */
    /* In a forked child: the groups and leftovers of the supervisors of
     * earlier generations, never touched but to free their memory. */
    virSupGroup *inh_groups;
    supLeft *inh_left;
    /* virSupForkKeep */
    void **kept;
    size_t nkept;
} sup = {
    .startLock = PTHREAD_MUTEX_INITIALIZER,
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .cond = PTHREAD_COND_INITIALIZER,
    .commit_cond = PTHREAD_COND_INITIALIZER,
    .test_cond = PTHREAD_COND_INITIALIZER,
    .epfd = -1, .evfd = -1, .tfd = -1,
};

/* ---- the job pool: job memory is never returned to malloc, so checking
 * the magic of a destroyed handle reads valid memory ---- */

static pthread_mutex_t poolLock = PTHREAD_MUTEX_INITIALIZER;
static virJobPtr poolFree;

static virJobPtr jobAlloc(void)
{
    virJobPtr job;
    pthread_mutex_lock(&poolLock);
    job = poolFree;
    if (job)
        poolFree = job->free_next;
    pthread_mutex_unlock(&poolLock);
    if (!job && !(job = virAllocN(1, sizeof(*job))))
        return NULL;
    memset((char *)job + sizeof(job->magic), 0, sizeof(*job) - sizeof(job->magic));
    atomic_store_explicit(&job->magic, VIR_JOB_DEAD, memory_order_relaxed);
    job->paramsfd = job->ctlfd = job->evfd = job->pidfd = job->statfd = -1;
    for (size_t i = 0; i < VIR_SUP_FDS_MAX; i++)
        job->resfds[i] = -1;
    return job;
}

static void jobRelease(virJobPtr job)
{
    atomic_store_explicit(&job->magic, VIR_JOB_DEAD, memory_order_release);
    pthread_mutex_lock(&poolLock);
    job->free_next = poolFree;
    poolFree = job;
    pthread_mutex_unlock(&poolLock);
}

bool virSupJobValid(virJobPtr job)
{
    /* Acquire: pairs with the release store at creation, so the fields
     * set before the handle was returned are visible. */
    return job && atomic_load_explicit(&job->magic, memory_order_acquire) == VIR_JOB_MAGIC;
}

/* ---- segment references ---- */

/* The fork generation (see supervisor.h, "fork"): one more in each forked
 * child, by the fork handler. */
static _Atomic unsigned int forkGen;

unsigned int virSupForkGeneration(void)
{
    return atomic_load_explicit(&forkGen, memory_order_relaxed);
}

static void segUnref(virSupSegRef *ref)
{
    if (ref && atomic_fetch_sub_explicit(&ref->refs, 1, memory_order_acq_rel) == 1) {
        /* A segment of an earlier generation is not mapped in this process
         * (MADV_DONTFORK), and its address range may hold a mapping of our
         * own by now: free the record, never munmap. */
        if (ref->forkgen == virSupForkGeneration())
            virShmSegmentClose(ref->seg);
        else
            virShmSegmentForget(ref->seg);
        free(ref);
    }
}

/* ---- small helpers (lock held where it says) ---- */

/* Report a failure to make a descriptor; when the process ran out of them
 * (EMFILE), say so with its limit: every unfinished job holds a few, so
 * that is what a burst of jobs under a low `ulimit -n` meets. */
static void reportFDError(int err, const char *what)
{
    struct rlimit rl;
    if (err == EMFILE && getrlimit(RLIMIT_NOFILE, &rl) == 0)
        virReportSystemError(err, "%s: this process is at its limit of %llu open "
                             "files (RLIMIT_NOFILE; each unfinished job holds a few)",
                             what, (unsigned long long)rl.rlim_cur);
    else
        virReportSystemError(err, "%s", what);
}

static void wakeReaper(void)
{
    uint64_t one = 1;
    if (sup.evfd >= 0 && write(sup.evfd, &one, sizeof(one)) < 0) {
        /* EAGAIN: the counter is already non-zero, the reaper will wake. */
    }
}

/* Rebuild the lifecycle record from the job and publish it. Lock held. */
static void publishJobLocked(virJobPtr job, virShmState st)
{
    virShmLifecycleData lc;
    if (virShmLifecycleRead(job->lifecycle, &lc) < 0 || lc.job_id != job->id) {
        memset(&lc, 0, sizeof(lc));
        lc.job_id = job->id;
        lc.generation = job->id / sup.seg->nslots;
        virStrcpyTrunc(lc.op, sizeof(lc.op), job->op->name);
        virStrcpyTrunc(lc.target, sizeof(lc.target), job->target);
    }
    lc.state = st;
    lc.worker_pid = job->pid;
    lc.flags = atomic_load_explicit(&job->flags, memory_order_relaxed);
    lc.rate_bps = atomic_load_explicit(&job->rate_bps, memory_order_relaxed);
    lc.eta_ms = atomic_load_explicit(&job->derived_eta_ms, memory_order_relaxed);
    /* The progress as last sampled, so readers of the segment (virtsup-stat)
     * find it in the record and need not touch the worker's page. */
    if (job->sampled_real) {
        lc.final = job->sampled;
        lc.sampled_realtime_ns = job->sampled_real;
    }
    virShmLifecycleWrite(job->lifecycle, &lc);
}

static void setFlagLocked(virJobPtr job, uint32_t flag, bool on)
{
    uint32_t f = atomic_load_explicit(&job->flags, memory_order_relaxed);
    f = on ? (f | flag) : (f & ~flag);
    atomic_store_explicit(&job->flags, f, memory_order_relaxed);
}

static uint64_t msToNs(unsigned int ms)
{
    return (uint64_t)ms * 1000000ull;
}

/* Hand a job whose worker ended (or will never run) to the reaper, which
 * decides its outcome. Lock held. Cannot fail: no allocation. */
/* @job's worker ended, or it ends without one: no more signals or watches
 * of its worker. Lock held. */
static void finishingLocked(virJobPtr job)
{
    job->stage = VIR_SUP_STAGE_FINISHING;
    virForceClose(&job->pidfd);
    virForceClose(&job->statfd);
    pthread_cond_broadcast(&sup.spawn_cond);
}

static void finishPushLocked(virJobPtr job)
{
    finishingLocked(job);
    job->next_finish = NULL;
    if (sup.finish_tail)
        sup.finish_tail->next_finish = job;
    else
        sup.finish_head = job;
    sup.finish_tail = job;
    wakeReaper();
}

/* Finish @job with the given outcome, without a worker report. Lock held. */
static void addSynthLocked(virJobPtr job, virJobState st, int code, const char *msg)
{
    job->synth = true;
    memset(&job->outcome, 0, sizeof(job->outcome));
    job->outcome.state = st;
    job->outcome.code = code;
    virStrcpyTrunc(job->outcome.message, sizeof(job->outcome.message), msg);
    finishPushLocked(job);
}

/* ---- requests to the spawn helper ----
 *
 * The helper's socket holds a few hundred requests with their descriptors.
 * A burst beyond that (1,000 jobs created or cancelled at once) must not
 * fail jobs or lose kills: what does not fit waits here, in order, and the
 * reaper sends it when the socket is writable again. */

static void outWatchLocked(supHelper *sh, bool on)
{
    if (on == sh->out_watch || !sh->up)
        return;
    struct epoll_event ev = {
        .events = EPOLLIN | (on ? EPOLLOUT : 0),
        .data.u32 = SUP_EV_HELPER + (uint32_t)(sh - sup.helpers),
    };
    if (epoll_ctl(sup.epfd, EPOLL_CTL_MOD, sh->h.sock, &ev) == 0) {
        sh->out_watch = on;
        sh->out_poll = false;
    } else if (on) {
        /* Cannot watch for room (ENOMEM): the reaper's timer retries the
         * queued requests every SUP_FLUSH_POLL_NS instead. */
        sh->out_poll = true;
        wakeReaper();
    }
}

static void outFree(supOut *o)
{
    for (size_t i = 0; i < o->nfds; i++)
        close(o->fds[i]);
    free(o);
}

static void outDropLocked(supHelper *sh)
{
    while (sh->out_head) {
        supOut *o = sh->out_head;
        sh->out_head = o->next;
        outFree(o);
    }
    sh->out_tail = NULL;
    sh->out_watch = false;
    sh->out_poll = false;
}

/* Did a send fail because the helper is gone (it exited or was killed,
 * and the reaper has not read its hang-up yet)? */
static bool helperGoneErrno(int err)
{
    return err == EPIPE || err == ECONNRESET || err == ENOTCONN;
}

/* Send a request now, or queue it behind those already waiting. Returns 0
 * (sent or queued), or -1: with errno EPIPE, ECONNRESET or ENOTCONN and
 * nothing reported when the helper is gone (helperGoneErrno: its hang-up
 * says so, or the caller handles it), else with an error reported. Lock
 * held. */
static int helperSendLocked(supHelper *sh, const void *msg, size_t len,
                            const int *fds, size_t nfds)
{
    if (!sh->out_head) {
        if (virSupHelperSend(&sh->h, msg, len, fds, nfds) == 0)
            return 0;
        if (helperGoneErrno(errno))
            return -1;
        if (errno != EAGAIN) {
            virReportSystemError(errno, "%s", "cannot send a request to the spawn helper");
            return -1;
        }
    }
    supOut *o = virAllocN(1, sizeof(*o));
    if (!o)
        return -1;
    memcpy(&o->m, msg, len);
    o->len = len;
    for (; o->nfds < nfds; o->nfds++) {
        if ((o->fds[o->nfds] = fcntl(fds[o->nfds], F_DUPFD_CLOEXEC, 3)) < 0) {
            reportFDError(errno, "cannot keep a request for the spawn helper");
            outFree(o);
            return -1;
        }
    }
    if (sh->out_tail)
        sh->out_tail->next = o;
    else
        sh->out_head = o;
    sh->out_tail = o;
    outWatchLocked(sh, true);
    return 0;
}

/* The helper's socket is writable: send what waits. Lock held. */
static void helperFlushLocked(supHelper *sh)
{
    while (sh->out_head) {
        supOut *o = sh->out_head;
        if (virSupHelperSend(&sh->h, &o->m, o->len, o->fds, o->nfds) < 0)
            return; /* full again (EAGAIN), or the helper died: its EOF says so */
        sh->out_head = o->next;
        if (!sh->out_head)
            sh->out_tail = NULL;
        outFree(o);
    }
    outWatchLocked(sh, false);
}

static int helperKillLocked(virJobPtr job, int signo)
{
    virProtoKill k;
    memset(&k, 0, sizeof(k));
    k.hdr.type = VIR_PROTO_KILL;
    k.hdr.version = VIR_PROTO_VERSION;
    k.job_id = job->id;
    k.signo = signo;
    k.pid = job->pid;
    return helperSendLocked(&sup.helpers[job->hix], &k, sizeof(k), NULL, 0);
}

/* Has the process of @pidfd ended (a zombie counts)? */
static bool pidfdEnded(int pidfd)
{
    struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
    return poll(&pfd, 1, 0) == 1 && (pfd.revents & (POLLIN | POLLHUP | POLLERR));
}

/* The hard kill of a job's worker (grace period, deadline): through the
 * spawn helper, which kills the worker's process group and reports its
 * end; and directly, through the worker's pidfd, so that it dies even
 * when the helper does not run (stopped). The group too while the worker
 * is not reaped (it then still owns its group id). Returns 0 if either
 * way was taken. Lock held. */
static int hardKillLocked(virJobPtr job)
{
    int rc = helperKillLocked(job, SIGKILL);

    if (job->pidfd >= 0 && job->pid > 0) {
        int direct = virProcessPidfdSignal(job->pidfd, SIGKILL);
        /* No pidfd_send_signal (valgrind): a worker whose pidfd does not
         * poll readable has not ended, so its pid is still its own. */
        if (direct < 0 && errno == ENOSYS && !pidfdEnded(job->pidfd))
            direct = kill(job->pid, SIGKILL);
        if (direct == 0) {
            (void)kill(-job->pid, SIGKILL);
            rc = 0;
        }
    }
    if (rc == 0)
        job->hardkill_at = virShmNowMono();
    return rc;
}

/* ---- starting workers ---- */

/* The helper of @p's sandbox, added (not started) if new. Returns its
 * index, or -1 with an error reported. Lock held. */
static int helperFindLocked(const virSupProfile *p)
{
    virProtoSandbox sb;

    memset(&sb, 0, sizeof(sb));
    sb.hdr.type = VIR_PROTO_SANDBOX;
    sb.hdr.version = VIR_PROTO_VERSION;
    virStrcpyTrunc(sb.name, sizeof(sb.name), p->name ? p->name : "unnamed");
    sb.caps = p->caps;
    sb.syscalls = (uint32_t)p->syscalls;
    sb.detach = p->detach;
    sb.libs = p->libs;
    for (size_t i = 0; i < sup.nhelpers; i++) {
        const virProtoSandbox *h = &sup.helpers[i].sandbox;
        if (h->caps == sb.caps && h->syscalls == sb.syscalls && h->detach == sb.detach &&
            h->libs == sb.libs)
            return (int)i;
    }
    if (sup.nhelpers == SUP_HELPERS_MAX) {
        virReportError(VIR_ERR_OPERATION_FAILED,
                       "cannot start a spawn helper for profile '%s': %d sandboxes "
                       "are in use already", sb.name, SUP_HELPERS_MAX);
        return -1;
    }
    supHelper *sh = &sup.helpers[sup.nhelpers];
    memset(sh, 0, sizeof(*sh));
    sh->sandbox = sb;
    sh->h.sock = sh->h.pidfd = -1;
    return (int)sup.nhelpers++;
}

static int helperEnsureLocked(supHelper *sh)
{
    if (sh->up)
        return 0;
    /* The limits the helper and its workers inherit: the default ones
     * must not ask for more than may be had (see defaultLimit). */
    if (getrlimit(RLIMIT_AS, &sh->hard_as) < 0)
        sh->hard_as.rlim_max = RLIM_INFINITY;
    if (getrlimit(RLIMIT_NOFILE, &sh->hard_nofile) < 0)
        sh->hard_nofile.rlim_max = RLIM_INFINITY;
    if (virSupHelperStart(&sh->h, sup.worker_path, sh->sandbox.name) < 0)
        return -1;
    /* The sandbox first: the helper reads it before any SPAWN. */
    if (virSupHelperSend(&sh->h, &sh->sandbox, sizeof(sh->sandbox), NULL, 0) < 0) {
        virReportSystemError(errno, "cannot set up the spawn helper of profile '%s'",
                             sh->sandbox.name);
        virSupHelperStop(&sh->h, SUP_HELPER_STOP_MS);
        return -1;
    }
    struct epoll_event ev = {
        .events = EPOLLIN,
        .data.u32 = SUP_EV_HELPER + (uint32_t)(sh - sup.helpers),
    };
    if (epoll_ctl(sup.epfd, EPOLL_CTL_ADD, sh->h.sock, &ev) < 0) {
        virReportSystemError(errno, "%s", "cannot watch the spawn helper");
        virSupHelperStop(&sh->h, SUP_HELPER_STOP_MS);
        return -1;
    }
    sh->up = true;
    return 0;
}

/* A limit the connection asked for is passed on as it is (the worker
 * refuses one above its hard limit, naming both); a default is clamped to
 * the hard limit the workers inherit: an application under `ulimit -n 200`
 * or a hard RLIMIT_AS of 8 GiB, without the capability to raise them, must
 * still run jobs. */
static uint64_t defaultLimit(uint64_t v, uint64_t def, const struct rlimit *inherited)
{
    if (v)
        return v;
    if (def && inherited->rlim_max != RLIM_INFINITY && def > inherited->rlim_max)
        return inherited->rlim_max;
    return def;
}

static void helperLostLocked(supHelper *sh);

/* Has @sh's helper ended (its hang-up may not have been read yet)? From
 * its pidfd, or without pidfds (valgrind), from its pid and start time.
 * Lock held. */
static bool helperEndedLocked(const supHelper *sh)
{
    if (sh->h.pidfd >= 0)
        return pidfdEnded(sh->h.pidfd);
    return sh->h.pid > 0 && sh->h.start && !virProcessAlive(sh->h.pid, sh->h.start);
}

/* Hand the job to the spawn helper. Lock held. On failure the job is
 * queued for finishing as FAILED with the reason. */
static void workerWatchLocked(virJobPtr job);

/* Forget @sh's ready workers (each then sees its socket's EOF and
 * exits). Lock held. */
static void readyDropLocked(supHelper *sh)
{
    for (size_t i = 0; i < sh->nready; i++) {
        virForceClose(&sh->ready[i].sock);
        virForceClose(&sh->ready[i].pidfd);
        virForceClose(&sh->ready[i].statfd);
    }
    sh->nready = 0;
}

/* Hand @req (@len bytes: the record and its inline parameters, with
 * @fds) straight to the oldest of @sh's ready workers
 * that takes it: true, and @job has its worker's pid and pidfd. False if
 * none is held, or @req needs what a ready worker cannot do (other ids, a
 * limit above the helper's hard limit): the helper forks a worker for it.
 * A ready worker that is gone (its send fails) is dropped. Lock held. */
static bool readyTakeLocked(supHelper *sh, virJobPtr job, const virProtoSpawn *req,
                            size_t len, const int *fds, size_t nfds)
{
    const uint64_t want[4] = { req->rlimit_as, req->rlimit_cpu, req->rlimit_nofile,
                               req->rlimit_fsize };
    if (req->set_ids)
        return false;
    for (size_t i = 0; i < 4; i++)
        if (want[i] && want[i] > sh->ready_hard[i])
            return false;
    while (sh->nready) {
        pid_t pid = sh->ready[0].pid;
        int sock = sh->ready[0].sock, pidfd = sh->ready[0].pidfd;
        int statfd = sh->ready[0].statfd;
        sh->nready--;
        memmove(&sh->ready[0], &sh->ready[1], sh->nready * sizeof(sh->ready[0]));
        int rc = virSupSendFDs(sock, req, len, fds, nfds);
        close(sock);
        if (rc == 0) {
            job->pid = pid;
            job->pidfd = pidfd;
            job->statfd = statfd;
            return true;
        }
        virForceClose(&pidfd);
        virForceClose(&statfd);
    }
    return false;
}

/* READY from @sh: keep the ready worker (@fds[0]: its socket, @fds[1]:
 * its pidfd or -1; taken). Lock held. */
static void readyAddLocked(supHelper *sh, const virProtoReady *r, int *fds, size_t nfds)
{
    if (r->pid <= 0 || nfds < 1 || sh->nready == SUP_READY_MAX)
        return;
    sh->ready[sh->nready].pid = r->pid;
    sh->ready[sh->nready].sock = fds[0];
    sh->ready[sh->nready].pidfd = nfds > 1 ? fds[1] : -1;
    /* Opened now, while it waits, so that its end is read without a path
     * lookup (zombieStatusLocked). Optional. */
    sh->ready[sh->nready].statfd =
        virFDAboveStdio(virProcessOpenStat(sh->ready[sh->nready].pidfd, r->pid));
    sh->nready++;
    fds[0] = -1;
    if (nfds > 1)
        fds[1] = -1;
    memcpy(sh->ready_hard, r->hard_limit, sizeof(sh->ready_hard));
}

/* EXITED for ready worker @pid, which ended before it said it took a
 * job: forget it if we still hold it; if we had just handed it a job
 * (which it never read), that job, which ends with it. Lock held. */
static virJobPtr readyGoneLocked(supHelper *sh, pid_t pid)
{
    uint32_t hix = (uint32_t)(sh - sup.helpers);

    for (size_t i = 0; i < sh->nready; i++) {
        if (sh->ready[i].pid != pid)
            continue;
        virForceClose(&sh->ready[i].sock);
        virForceClose(&sh->ready[i].pidfd);
        virForceClose(&sh->ready[i].statfd);
        sh->nready--;
        memmove(&sh->ready[i], &sh->ready[i + 1], (sh->nready - i) * sizeof(sh->ready[0]));
        return NULL;
    }
    for (virSupGroup *g = sup.groups; g; g = g->next)
        for (virJobPtr job = g->jobs; job; job = job->next_in_group)
            if (job->hix == hix && job->pid == pid && job->stage == VIR_SUP_STAGE_RUNNING)
                return job;
    return NULL;
}

static void armTimer(uint64_t at);

/* Make the reaper's timer fire by @at at the latest, from this thread:
 * what a started job needs of the reaper (its first sample, its
 * deadline), without waking it. Lock held. */
static void timerByLocked(uint64_t at)
{
    if (at && (!sup.timer_at || at < sup.timer_at))
        armTimer(at);
}

static void jobStartLocked(virJobPtr job)
{
    virSupGroup *g = job->group;
    int sv[2] = { -1, -1 };
    virProtoSpawn req;
    int fds[3 + VIR_SUP_FDS_MAX];
    supHelper *sh = &sup.helpers[job->hix];
    const virSupProfile *prof = job->op->profile ? job->op->profile : &virSupProfileDefault;
    bool retried = false;

 again:
    if (helperEnsureLocked(sh) < 0)
        goto fail;
    if (!retried && sh->up && helperEndedLocked(sh)) {
        /* Dead already, its hang-up not read yet. Its socket may still be
         * open in a child of it that has not closed it yet (a worker it
         * was forking when it died): a request would then be queued
         * there and lost rather than refused. Start this job on a new
         * helper, as below. */
        retried = true;
        helperLostLocked(sh);
        sup.start_queued = true;
        wakeReaper();
        goto again;
    }
    if (virSupSocketPair(sv) < 0) {
        reportFDError(errno, "cannot create the job's control socket");
        goto fail;
    }
    memset(&req, 0, sizeof(req));
    req.hdr.type = VIR_PROTO_SPAWN;
    req.hdr.version = VIR_PROTO_VERSION;
    req.job_id = job->id;
    req.progress_offset = virShmSlotProgressOffset(sup.seg, job->slot);
    req.params_len = job->paramslen;
    req.rlimit_as = defaultLimit(g->cfg.rlimit_as, SUP_DEFAULT_RLIMIT_AS, &sh->hard_as);
    req.rlimit_cpu = g->cfg.rlimit_cpu;
    req.rlimit_nofile = defaultLimit(g->cfg.rlimit_nofile, SUP_DEFAULT_RLIMIT_NOFILE,
                                     &sh->hard_nofile);
    req.rlimit_fsize = g->cfg.rlimit_fsize;
    req.nresources = (uint32_t)job->nres;
    req.set_ids = g->cfg.set_ids;
    req.uid = (uint32_t)g->cfg.uid;
    req.gid = (uint32_t)g->cfg.gid;
    virStrcpyTrunc(req.op, sizeof(req.op), job->op->name);
    for (size_t i = 0; i < prof->nfds && i < VIR_PROTO_RESOURCES_MAX; i++)
        virStrcpyTrunc(req.fdnames[i], sizeof(req.fdnames[i]), prof->fds[i].name);
    /* The parameters: inside the record (spawnmsg: the record goes in
     * front of them), or as the third descriptor. */
    const virProtoSpawn *msg = &req;
    size_t len = sizeof(req), nfds = 0;
    if (job->spawnmsg) {
        memcpy(job->spawnmsg, &req, sizeof(req));
        msg = (const virProtoSpawn *)job->spawnmsg;
        len += job->paramslen;
    }
    fds[nfds++] = sv[1];
    fds[nfds++] = sup.seg->fd;
    if (job->paramsfd >= 0)
        fds[nfds++] = job->paramsfd;
    for (size_t i = 0; i < job->nres; i++)
        fds[nfds++] = job->resfds[i];
    bool direct = readyTakeLocked(sh, job, msg, len, fds, nfds);
    if (!direct && helperSendLocked(sh, msg, len, fds, nfds) < 0) {
        int err = errno;
        if (!helperGoneErrno(err))
            goto fail;
        if (!retried) {
            /* The helper died (killed) and the reaper has not read its
             * hang-up yet: handle it here as the hang-up would (its jobs
             * fail, it is not watched any more), and start this job once
             * more, on a new helper. This job is the caller's: queued jobs
             * of this group start in the caller's loop, those of other
             * groups (room made by the jobs failed here) on the reaper. */
            retried = true;
            virForceClose(&sv[0]);
            virForceClose(&sv[1]);
            helperLostLocked(sh);
            sup.start_queued = true;
            wakeReaper();
            goto again;
        }
        virReportSystemError(err, "%s", "cannot send a request to the spawn helper "
                             "started again after the previous one died");
        goto fail;
    }

    /* Sent: the helper holds its own copies now. */
    close(sv[1]);
    job->ctlfd = sv[0];
    virForceClose(&job->paramsfd);
    free(job->spawnmsg);
    job->spawnmsg = NULL;
    for (size_t i = 0; i < job->nres; i++)
        virForceClose(&job->resfds[i]);
    job->stage = VIR_SUP_STAGE_SPAWNING;
    if (direct) {
        /* In a ready worker's hands: no SPAWNED will come. */
        job->stage = VIR_SUP_STAGE_RUNNING;
        workerWatchLocked(job);
    }
    job->start_mono = virShmNowMono();
    job->last_change_mono = job->last_sample_mono = job->start_mono;
    if (job->deadline_ms)
        job->deadline_at = job->start_mono + msToNs(job->deadline_ms);
    g->running++;
    publishJobLocked(job, VIR_SHM_STATE_RUNNING);
    if (direct) {
        /* Nothing for the reaper to do now (its pidfd is in the epoll set
         * already) but to know when to sample it, or kill it at its
         * deadline: a wake-up on the other CPU that would compete with
         * the worker's start. */
        uint64_t at = (job->start_mono / SUP_TICK_NS + 1) * SUP_TICK_NS;
        if (job->deadline_at && job->deadline_at < at)
            at = job->deadline_at;
        timerByLocked(at);
    } else {
        wakeReaper();
    }
    return;

 fail:
    if (sv[0] >= 0)
        close(sv[0]);
    if (sv[1] >= 0)
        close(sv[1]);
    {
        char why[VIR_SHM_ERROR_MAX];
        snprintf(why, sizeof(why), "cannot start the worker: %s",
                 virGetLastErrorMessage());
        addSynthLocked(job, VIR_JOB_FAILED, VIR_ERR_OPERATION_FAILED, why);
    }
}

static void startQueuedLocked(virSupGroup *g)
{
    unsigned int cap = g->cfg.max_workers ? g->cfg.max_workers : SUP_DEFAULT_MAX_WORKERS;
    while (g->qhead && g->running < cap) {
        virJobPtr job = g->qhead;
        g->qhead = job->next_queued;
        if (!g->qhead)
            g->qtail = NULL;
        job->next_queued = NULL;
        jobStartLocked(job);
    }
}

/* ---- cancellation ---- */

static void dequeueLocked(virJobPtr job)
{
    virSupGroup *g = job->group;
    virJobPtr *pp = &g->qhead;
    virJobPtr prev = NULL;
    while (*pp && *pp != job) {
        prev = *pp;
        pp = &(*pp)->next_queued;
    }
    if (*pp) {
        *pp = job->next_queued;
        if (g->qtail == job)
            g->qtail = prev;
    }
    job->next_queued = NULL;
}

/* Returns 0 if the request was made, 1 if the job had already ended. */
static int cancelLocked(virJobPtr job)
{
    if (job->stage >= VIR_SUP_STAGE_FINISHING)
        return 1;
    if (job->cancel_requested)
        return 0;
    job->cancel_requested = true;
    /* Record the request before signalling, so a worker woken by SIGTERM
     * (or polling) finds the flag. Release: nothing else is published with
     * it, but it orders after the slot reset the worker saw. */
    atomic_store_explicit(&job->progress->cancel_requested, 1, memory_order_release);
    setFlagLocked(job, VIR_SHM_LC_CANCEL_REQUESTED, true);

    if (job->stage == VIR_SUP_STAGE_QUEUED) {
        dequeueLocked(job);
        publishJobLocked(job, VIR_SHM_STATE_QUEUED);
        addSynthLocked(job, VIR_JOB_CANCELLED, VIR_ERR_OPERATION_ABORTED,
                       "cancelled by request before it started");
        return 0;
    }
    publishJobLocked(job, VIR_SHM_STATE_RUNNING);
    /* The worker itself at once, through its pidfd (when the helper's
     * answer brought one): one wake-up of the helper sooner than its group
     * kill, which follows for whatever the worker started. A pidfd names
     * this worker only, even if it has ended and been reaped. */
    if (job->stage == VIR_SUP_STAGE_RUNNING && job->pidfd >= 0)
        (void)virProcessPidfdSignal(job->pidfd, SIGTERM);
    /* If even queueing fails (no memory), the grace period still ends in
     * a SIGKILL. */
    (void)helperKillLocked(job, SIGTERM);
    job->grace_at = virShmNowMono() + msToNs(job->grace_ms);
    wakeReaper();
    return 0;
}

/* ---- finishing ----
 *
 * The reaper decides each ended job's outcome (outcomeDecide), then hands
 * it to a commit thread when the op has a commit or done step
 * (commitEnqueue), or publishes its terminal state itself
 * (jobPublishFinal). Commit and done never run on the reaper: a commit
 * that blocks delays only its own job (and, beyond SUP_COMMIT_THREADS_MAX
 * blocked commits, the commits queued behind them), never reaping, grace
 * periods, deadlines or crash detection. */

/* The worker's report, read on the reaper thread or on a thread that
 * waits for the job (virSupJobWait), into one static buffer under
 * reportLock (no allocation per job). Untrusted: sizes are checked
 * against what was actually received. Fills @res and @msg; the result
 * blob is copied to job->report (an allocation failure there fails the
 * job). */
static char reportBuf[sizeof(virProtoResult) + VIR_PROTO_MESSAGE_MAX + VIR_PROTO_RESULT_MAX];
static pthread_mutex_t reportLock = PTHREAD_MUTEX_INITIALIZER;

static int readReportLocked(virJobPtr job, virProtoResult *res, char *msg, size_t msglen)
{
    const size_t cap = sizeof(reportBuf);
    char *buf = reportBuf;

    memset(res, 0, sizeof(*res));
    msg[0] = '\0';
    job->report = NULL;
    job->reportlen = 0;
    if (job->ctlfd < 0)
        return 0;
    ssize_t n = recv(job->ctlfd, buf, cap, MSG_DONTWAIT | MSG_TRUNC);
    if (n < (ssize_t)sizeof(virProtoResult) || (size_t)n > cap)
        return 0;
    memcpy(res, buf, sizeof(*res));
    if (res->hdr.type != VIR_PROTO_RESULT || res->hdr.version != VIR_PROTO_VERSION ||
        res->report > VIR_PROTO_REPORT_CANCELLED ||
        res->message_len > VIR_PROTO_MESSAGE_MAX || res->data_len > VIR_PROTO_RESULT_MAX ||
        sizeof(*res) + (size_t)res->message_len + res->data_len != (size_t)n) {
        memset(res, 0, sizeof(*res));
        return 0;
    }
    size_t m = res->message_len < msglen - 1 ? res->message_len : msglen - 1;
    memcpy(msg, buf + sizeof(*res), m);
    msg[m] = '\0';
    /* Operators read this: keep it printable. */
    for (size_t i = 0; i < m; i++)
        if ((unsigned char)msg[i] < 0x20 || msg[i] == 0x7f)
            msg[i] = ' ';
    if (res->data_len) {
        if (!(job->report = virAllocN(1, res->data_len)))
            return -1;
        memcpy(job->report, buf + sizeof(*res) + res->message_len, res->data_len);
        job->reportlen = res->data_len;
    }
    return 0;
}

/* On the reaper: the outcome from the report and the exit, unless it was
 * decided when the job was finished without a worker. */
static void outcomeDecide(virJobPtr job)
{
    virSupOutcomeInput in;
    virProtoResult res;
    char wmsg[VIR_PROTO_MESSAGE_MAX + 1];

    if (job->synth)
        return;
    memset(&in, 0, sizeof(in));
    pthread_mutex_lock(&reportLock);
    int rc = readReportLocked(job, &res, wmsg, sizeof(wmsg));
    pthread_mutex_unlock(&reportLock);
    pthread_mutex_lock(&sup.lock);
    in.report = res.report;
    in.report_code = res.code;
    in.report_message = wmsg;
    in.exit_code = job->exit_code;
    in.exit_status = job->exit_status;
    in.killed = job->killed;
    in.cancel_requested = job->cancel_requested;
    in.grace_ms = job->grace_ms;
    in.deadline_ms = job->deadline_ms;
    pthread_mutex_unlock(&sup.lock);
    virSupOutcomeDecide(&in, &job->outcome);
    if (rc < 0 && job->outcome.state == VIR_JOB_COMPLETE) {
        /* The commit could not be given what the worker proposed. */
        job->outcome.state = VIR_JOB_FAILED;
        job->outcome.code = VIR_ERR_NO_MEMORY;
        virStrcpyTrunc(job->outcome.message, sizeof(job->outcome.message),
                       "out of memory for the worker's result");
    }
}

/* On a commit thread (or the reaper when none can be started): the op's
 * commit, then its done step. */
static void commitRun(virJobPtr job)
{
    virSupOutcome *out = &job->outcome;

    if (out->state == VIR_JOB_COMPLETE && job->op->commit) {
        virResetLastError();
        if (job->op->commit(job, job->opaque, job->report, job->reportlen) < 0) {
            out->state = VIR_JOB_FAILED;
            virErrorPtr e = virGetLastError();
            out->code = e ? e->code : VIR_ERR_OPERATION_FAILED;
            snprintf(out->message, sizeof(out->message), "%s",
                     e && e->message ? e->message : "the commit step failed");
        }
    }
    free(job->report);
    job->report = NULL;
    job->reportlen = 0;
    if (job->op->done) {
        /* The error the job ends with, as virJobGetError will return it
         * (published only after done): built here, nothing allocated. */
        virError err;
        memset(&err, 0, sizeof(err));
        err.domain = VIR_FROM_JOB;
        err.code = out->code;
        err.level = VIR_ERR_ERROR;
        err.message = out->message;
        atomic_store(&job->done_thread, (unsigned long)pthread_self());
        job->op->done(job, job->opaque, out->state,
                      out->state == VIR_JOB_COMPLETE ? NULL : &err);
        atomic_store(&job->done_thread, 0UL);
    }
    virResetLastError();
}

/* The terminal state: final figures, lifecycle record, waiters woken. */
static void jobPublishFinal(virJobPtr job)
{
    const virSupOutcome *out = &job->outcome;

    pthread_mutex_lock(&sup.lock);
    virSupGroup *g = job->group;
    bool repaired = virShmProgressRepair(job->progress);
    virShmProgressData d;
    if (virShmProgressRead(job->progress, &d) < 0 ||
        atomic_load_explicit(&job->progress->job_id, memory_order_relaxed) != job->id)
        memset(&d, 0, sizeof(d));
    uint32_t maxp = atomic_load_explicit(&job->max_percent, memory_order_relaxed);
    if (d.percent < maxp)
        d.percent = maxp;
    if (out->state == VIR_JOB_COMPLETE && job->op->type == VIR_JOB_BOUNDED)
        d.percent = 100;
    d.eta_ms = 0;
    d.type = job->op->type;
    job->final = d;
    job->final_elapsed_ms = (virShmNowMono() - job->create_mono) / 1000000ull;
    if (out->state != VIR_JOB_COMPLETE)
        job->error = virErrorCopyNew(VIR_FROM_JOB, out->code, 0, out->message);
    if (repaired)
        setFlagLocked(job, VIR_SHM_LC_REPAIRED, true);
    if (d.flags & VIR_SHM_PR_CANCEL_ACK)
        setFlagLocked(job, VIR_SHM_LC_CANCEL_ACKED, true);

    virShmLifecycleData lc;
    if (virShmLifecycleRead(job->lifecycle, &lc) < 0 || lc.job_id != job->id) {
        memset(&lc, 0, sizeof(lc));
        lc.job_id = job->id;
        lc.generation = job->id / sup.seg->nslots;
        virStrcpyTrunc(lc.op, sizeof(lc.op), job->op->name);
        virStrcpyTrunc(lc.target, sizeof(lc.target), job->target);
        lc.start_realtime_ns = virShmNowReal() - (virShmNowMono() - job->create_mono);
        lc.start_mono_ns = job->create_mono;
    }
    lc.state = out->state == VIR_JOB_COMPLETE ? VIR_SHM_STATE_COMPLETED :
               out->state == VIR_JOB_CANCELLED ? VIR_SHM_STATE_CANCELLED :
               VIR_SHM_STATE_FAILED;
    lc.flags = atomic_load_explicit(&job->flags, memory_order_relaxed);
    lc.worker_pid = job->pid;
    lc.exit_status = job->exit_code == CLD_EXITED ? job->exit_status : 0;
    lc.term_signal = job->exit_code == CLD_EXITED ? 0 : job->exit_status;
    lc.error_code = out->code;
    virStrcpyTrunc(lc.error, sizeof(lc.error), out->message);
    lc.end_realtime_ns = virShmNowReal();
    lc.end_mono_ns = virShmNowMono();
    lc.sampled_realtime_ns = lc.end_realtime_ns;
    lc.rate_bps = atomic_load_explicit(&job->rate_bps, memory_order_relaxed);
    lc.eta_ms = 0;
    lc.final = d;
    virShmLifecycleWrite(job->lifecycle, &lc);

    if (sup.byslot[job->slot] == job)
        sup.byslot[job->slot] = NULL;
    for (virJobPtr *pp = &g->jobs; *pp; pp = &(*pp)->next_in_group) {
        if (*pp == job) {
            *pp = job->next_in_group;
            break;
        }
    }
    job->next_in_group = NULL;
    g->unfinished--;
    virForceClose(&job->ctlfd);
    virForceClose(&job->paramsfd);
    free(job->spawnmsg);
    job->spawnmsg = NULL;
    for (size_t i = 0; i < job->nres; i++)
        virForceClose(&job->resfds[i]);
    job->stage = VIR_SUP_STAGE_DONE;
    /* Release: the final figures and error above are visible to any thread
     * that sees the terminal state (virJobGetInfo acquires it). */
    atomic_store_explicit(&job->state, (int)out->state, memory_order_release);
    uint64_t one = 1;
    if (write(job->evfd, &one, sizeof(one)) < 0) {
        /* Cannot fail for an eventfd below its maximum. */
    }
    pthread_cond_broadcast(&sup.cond);
    pthread_mutex_unlock(&sup.lock);
}

static void *commitMain(void *arg)
{
    (void)arg;

    /* Errors of commits and done callbacks become jobs' errors, never
     * calls of the application's handler or lines on its stderr. */
    virErrorSetThreadInternal();

    pthread_mutex_lock(&sup.lock);
    for (;;) {
        while (!sup.commit_head && !sup.stop) {
            sup.ncommit_idle++;
            pthread_cond_wait(&sup.commit_cond, &sup.lock);
            sup.ncommit_idle--;
        }
        if (!sup.commit_head)
            break;                      /* stopping, nothing left */
        virJobPtr job = sup.commit_head;
        sup.commit_head = job->next_finish;
        if (!sup.commit_head)
            sup.commit_tail = NULL;
        job->next_finish = NULL;
        pthread_mutex_unlock(&sup.lock);
        commitRun(job);
        jobPublishFinal(job);
        pthread_mutex_lock(&sup.lock);
    }
    pthread_mutex_unlock(&sup.lock);
    return NULL;
}

/* Start a thread with every signal blocked: the library's threads must
 * not take signals meant for the application. Returns 0 or an errno. */
static int startThread(pthread_t *t, void *(*fn)(void *))
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int r = pthread_create(t, NULL, fn, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return r;
}

/* On the reaper: queue @job's commit and done for a commit thread,
 * starting one if every one is busy (up to SUP_COMMIT_THREADS_MAX).
 * Returns false when no commit thread exists and none could be started:
 * the caller then runs them itself. */
static bool commitEnqueue(virJobPtr job)
{
    pthread_mutex_lock(&sup.lock);
    if (sup.ncommit_idle == 0 && sup.ncommit_threads < SUP_COMMIT_THREADS_MAX &&
        startThread(&sup.commit_threads[sup.ncommit_threads], commitMain) == 0)
        sup.ncommit_threads++;
    if (sup.ncommit_threads == 0) {
        pthread_mutex_unlock(&sup.lock);
        return false;
    }
    job->next_finish = NULL;
    if (sup.commit_tail)
        sup.commit_tail->next_finish = job;
    else
        sup.commit_head = job;
    sup.commit_tail = job;
    pthread_cond_signal(&sup.commit_cond);
    pthread_mutex_unlock(&sup.lock);
    return true;
}

/* Without the lock, on the reaper or on a thread waiting for @job
 * (virSupJobWait): decide @job's outcome, then publish it, or hand it to
 * a commit thread. */
static void finishOne(virJobPtr job)
{
    outcomeDecide(job);
    bool needsCommit = (job->outcome.state == VIR_JOB_COMPLETE && job->op->commit) ||
                       job->op->done;
    if (needsCommit) {
        /* A commit thread takes it from here (it may be destroyed by the
         * time enqueueing returns: not touched again). */
        if (commitEnqueue(job))
            return;
        /* No commit thread at all (none could be started): correct, if
         * slower for the others, to run it here. */
        commitRun(job);
    } else {
        free(job->report);
        job->report = NULL;
    }
    jobPublishFinal(job);
}

/* On the reaper, without the lock: finish every job on @list. */
static void finishJobs(virJobPtr list)
{
    while (list) {
        virJobPtr job = list;
        list = job->next_finish;
        job->next_finish = NULL;
        finishOne(job);
    }
}

/* ---- the reaper thread ---- */

static virJobPtr findLocked(uint64_t id)
{
    virJobPtr job = sup.byslot[virShmRingSlot(sup.seg, id)];
    return job && job->id == id ? job : NULL;
}

/* Watch @job's worker's pidfd (once) beside the spawn helper's report of
 * its end: a stopped helper neither reaps nor reports, and the job must
 * end all the same (workerEndedLocked). Without the watch (no pidfd, an
 * id that does not fit, ENOMEM) the helper's report alone ends the job, as
 * before. Lock held. */
static void workerWatchLocked(virJobPtr job)
{
    struct epoll_event ev = { .events = EPOLLIN | EPOLLONESHOT,
                              .data.u64 = SUP_EV_WORKER | job->id };

    if (job->pidfd >= 0 && !(job->id & SUP_EV_WORKER))
        (void)epoll_ctl(sup.epfd, EPOLL_CTL_ADD, job->pidfd, &ev);
}

/* How @job's worker ended, read from the kernel while it is a zombie
 * that its spawn helper has not reaped (a stopped helper does not): only
 * while it is still that helper's child, so that a worker killed because
 * its helper died (re-parented first) is not mistaken for one that ended
 * on its own. True once known. Lock held. */
static bool zombieStatusLocked(virJobPtr job)
{
    pid_t ppid;
    int st;

    if (!job->zombie_known && job->pidfd >= 0 && job->pid > 0 &&
        (job->statfd >= 0 ? virProcessStatFDZombieStatus(job->statfd, &ppid, &st) :
                            virProcessPidfdZombieStatus(job->pidfd, job->pid, &ppid, &st)) == 0 &&
        ppid == sup.helpers[job->hix].h.pid) {
        job->zombie_known = true;
        job->zombie_status = st;
    }
    return job->zombie_known;
}

/* Finish @job from the wait status read by zombieStatusLocked, as if the
 * helper had reported it (its own report, if it comes, is ignored then).
 * The caller starts what waits behind max_workers. Lock held. */
static void zombieExitLocked(virJobPtr job)
{
    int st = job->zombie_status;

    if (WIFEXITED(st)) {
        job->exit_code = CLD_EXITED;
        job->exit_status = WEXITSTATUS(st);
    } else {
        job->exit_code = WCOREDUMP(st) ? CLD_DUMPED : CLD_KILLED;
        job->exit_status = WTERMSIG(st);
    }
    job->group->running--;
}

static void finishFromZombieLocked(virJobPtr job)
{
    zombieExitLocked(job);
    finishPushLocked(job);
}

/* The reaper saw @id's worker's pidfd readable: the worker ended. Its
 * helper normally reports how at once; the status is read now, while the
 * worker is a zombie, in case the helper never does (stopped, or killed
 * before it reaped it). timersLocked ends the job from it if the helper
 * has not reported within SUP_KILL_MARGIN_NS. Lock held. */
static void workerEndedLocked(uint64_t id)
{
    virJobPtr job = findLocked(id);

    if (!job || job->stage != VIR_SUP_STAGE_RUNNING || job->ended_at)
        return;
    job->ended_at = virShmNowMono();
    if (!zombieStatusLocked(job))
        return;
    /* Known already: the job ends now, not one wake-up of the helper and
     * one message later. What the helper does when it reaps the worker
     * is done here first: while the worker is an unreaped zombie its pid
     * is its process group's id and cannot be reused, so the group kill
     * reaches only what the job left running. The helper's report, when
     * it comes, finds the job ended and is ignored. */
    (void)kill(-job->pid, SIGKILL);
    finishFromZombieLocked(job);
    startQueuedLocked(job->group);
}

/* @sh is gone (its hang-up was read, or a request met its closed
 * socket): stop watching it, and fail the jobs it had not started or
 * whose end it had not reported. What waits behind max_workers is the
 * caller's. Lock held. */
static void helperLostLocked(supHelper *sh)
{
    uint32_t hix = (uint32_t)(sh - sup.helpers);

    outDropLocked(sh);
    readyDropLocked(sh);
    /* Failure is harmless: closing the socket (next) removes it too. */
    (void)epoll_ctl(sup.epfd, EPOLL_CTL_DEL, sh->h.sock, NULL);
    virSupHelperStop(&sh->h, 0);
    sh->up = false;
    for (virSupGroup *g = sup.groups; g; g = g->next) {
        for (virJobPtr job = g->jobs; job; job = job->next_in_group) {
            if (job->hix == hix && job->stage == VIR_SUP_STAGE_RUNNING &&
                job->ended_at && zombieStatusLocked(job)) {
                /* Its worker had ended before; the helper died without
                 * reaping it or saying how (it was stopped). */
                finishFromZombieLocked(job);
            } else if (job->hix == hix && (job->stage == VIR_SUP_STAGE_SPAWNING ||
                                           job->stage == VIR_SUP_STAGE_RUNNING)) {
                g->running--;
                addSynthLocked(job, VIR_JOB_FAILED, VIR_ERR_INTERNAL_ERROR,
                               "the spawn helper died; the worker was lost");
            }
        }
    }
}

static void helperDiedLocked(supHelper *sh)
{
    helperLostLocked(sh);
    /* The jobs waiting behind max_workers start now, on a new helper (or
     * fail at once if none can be started), instead of waiting for some
     * later job to make room. */
    for (virSupGroup *g = sup.groups; g; g = g->next)
        startQueuedLocked(g);
}

/* recv of one record from a spawn helper, and the descriptor it may
 * carry (SPAWNED: the worker's pidfd) in *@fd, at 3 or above; any other
 * descriptor is closed. */
static ssize_t recvFDs(int sock, void *buf, size_t len, int *fds, size_t max, size_t *nfds)
{
    union { char buf[CMSG_SPACE(4 * sizeof(int))]; struct cmsghdr align; } ctl;
    struct iovec iov = { .iov_base = buf, .iov_len = len };
    struct msghdr mh;
    memset(&mh, 0, sizeof(mh));
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = ctl.buf;
    mh.msg_controllen = sizeof(ctl.buf);
    for (size_t i = 0; i < max; i++)
        fds[i] = -1;
    *nfds = 0;
    ssize_t n = recvmsg(sock, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (n < 0)
        return n;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < k; i++) {
            int got;
            memcpy(&got, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
            /* In their places; -1 for one that could not be kept. */
            if (*nfds < max)
                fds[(*nfds)++] = virFDAboveStdio(got);
            else
                close(got);
        }
    }
    return n;
}

/* Drain the helper's reports; jobs whose worker exited go to the finish
 * list. Lock held. */
static void helperReadLocked(supHelper *sh)
{
    uint32_t hix = (uint32_t)(sh - sup.helpers);

    for (;;) {
        union {
            virProtoHeader hdr;
            virProtoSpawned spawned;
            virProtoExited exited;
            virProtoReady ready;
            char raw[VIR_PROTO_MSG_MAX];
        } m;
        int fds[2];
        size_t nfds;
        ssize_t n = recvFDs(sh->h.sock, &m, sizeof(m), fds, 2, &nfds);
        int pidfd = fds[0];
        /* Only READY brings two. */
        if (n >= 0 && nfds > 1 && !((size_t)n == sizeof(virProtoReady) &&
                                    m.hdr.type == VIR_PROTO_READY &&
                                    m.hdr.version == VIR_PROTO_VERSION))
            virForceClose(&fds[1]);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        if (n <= 0) {
            helperDiedLocked(sh);
            return;
        }
        if ((size_t)n < sizeof(virProtoHeader) || m.hdr.version != VIR_PROTO_VERSION) {
            virForceClose(&pidfd);
            continue;
        }
        if (m.hdr.type == VIR_PROTO_READY && (size_t)n == sizeof(virProtoReady)) {
            readyAddLocked(sh, &m.ready, fds, nfds);
            virForceClose(&fds[0]);
            virForceClose(&fds[1]);
            continue;
        }
        if ((m.hdr.type == VIR_PROTO_SPAWNED || m.hdr.type == VIR_PROTO_SPAWN_FAILED) &&
            (size_t)n == sizeof(virProtoSpawned)) {
            virJobPtr job = findLocked(m.spawned.job_id);
            if (!job || job->hix != hix || job->stage != VIR_SUP_STAGE_SPAWNING) {
                virForceClose(&pidfd);
                continue;
            }
            if (m.hdr.type == VIR_PROTO_SPAWNED) {
                job->pid = m.spawned.pid;
                job->pidfd = pidfd;
                pidfd = -1;
                job->statfd = virFDAboveStdio(virProcessOpenStat(job->pidfd, job->pid));
                job->stage = VIR_SUP_STAGE_RUNNING;
                workerWatchLocked(job);
                publishJobLocked(job, VIR_SHM_STATE_RUNNING);
                pthread_cond_broadcast(&sup.spawn_cond);
            } else {
                char msg[VIR_SHM_ERROR_MAX];
                snprintf(msg, sizeof(msg), "cannot start the worker: %s",
                         strerror(m.spawned.err));
                job->group->running--;
                addSynthLocked(job, VIR_JOB_FAILED, VIR_ERR_OPERATION_FAILED, msg);
                startQueuedLocked(job->group);
            }
        } else if (m.hdr.type == VIR_PROTO_EXITED && (size_t)n == sizeof(virProtoExited)) {
            virJobPtr job = m.exited.job_id ? findLocked(m.exited.job_id) :
                            readyGoneLocked(sh, m.exited.pid);
            if (!job || job->hix != hix || (job->stage != VIR_SUP_STAGE_SPAWNING &&
                         job->stage != VIR_SUP_STAGE_RUNNING))
                continue;
            if (!job->pid)
                job->pid = m.exited.pid;
            job->exit_code = m.exited.code;
            job->exit_status = m.exited.status;
            job->group->running--;
            finishPushLocked(job);
            startQueuedLocked(job->group);
        }
        virForceClose(&pidfd);
    }
}

/* Sample a running job's progress: smoothed rate, derived ETA, stall. */
static void sampleLocked(virJobPtr job, uint64_t now)
{
    virShmProgressData d;
    virSupGroup *g = job->group;

    if (virShmProgressRead(job->progress, &d) == 0 &&
        atomic_load_explicit(&job->progress->job_id, memory_order_relaxed) == job->id) {
        double dt = (double)(now - job->last_sample_mono) / 1e9;
        job->sampled = d;
        job->sampled_real = virShmNowReal();
        bool changed = d.bytes_done != job->last_bytes || d.percent != job->last_percent;
        if (changed) {
            job->last_change_mono = now;
            if (job->stalled) {
                job->stalled = false;
                setFlagLocked(job, VIR_SHM_LC_STALLED, false);
            }
        }
        if (dt > 0.05 && d.bytes_done >= job->last_bytes) {
            double inst = (double)(d.bytes_done - job->last_bytes) / dt;
            job->rate_ewma = job->rate_ewma > 0 ? 0.7 * job->rate_ewma + 0.3 * inst : inst;
            atomic_store_explicit(&job->rate_bps, (uint64_t)job->rate_ewma,
                                  memory_order_relaxed);
        }
        uint64_t eta = 0;
        if (d.bytes_total > d.bytes_done && job->rate_ewma > 1.0) {
            eta = (uint64_t)((double)(d.bytes_total - d.bytes_done) / job->rate_ewma * 1000.0);
        } else if (d.percent > 0 && d.percent < 100) {
            uint64_t el = (now - job->start_mono) / 1000000ull;
            eta = el * (100 - d.percent) / d.percent;
        }
        atomic_store_explicit(&job->derived_eta_ms, eta, memory_order_relaxed);
        if (d.flags & VIR_SHM_PR_CANCEL_ACK)
            setFlagLocked(job, VIR_SHM_LC_CANCEL_ACKED, true);
        job->last_bytes = d.bytes_done;
        job->last_percent = d.percent;
        job->last_sample_mono = now;
    }
    if (g->cfg.stall_ms && !job->stalled &&
        now - job->last_change_mono >= msToNs(g->cfg.stall_ms)) {
        job->stalled = true;
        setFlagLocked(job, VIR_SHM_LC_STALLED, true);
        if (g->cfg.stall_cancel)
            cancelLocked(job);
    }
    publishJobLocked(job, VIR_SHM_STATE_RUNNING);
}

/* A job hard-killed SUP_KILL_MARGIN_NS ago whose end the spawn helper
 * has not reported (it is stopped, or too slow): finish it without the
 * helper. A worker whose pidfd says it ended was killed by our SIGKILL
 * (the helper reports the same later, ignored then); a job whose worker
 * was never reported started (the helper has not even read the request)
 * ends as it would have, saying why. The helper's late requests are
 * harmless: the kill queued behind the spawn request stops that worker.
 * Returns true if the job was finished. Lock held. */
static bool killedUnreportedLocked(virJobPtr job)
{
    virSupGroup *g = job->group;
    char msg[VIR_SHM_ERROR_MAX];

    if (job->stage == VIR_SUP_STAGE_RUNNING) {
        if (job->pidfd < 0 || !pidfdEnded(job->pidfd))
            return false;    /* no pidfd (old kernel): the helper's report */
        job->exit_code = CLD_KILLED;
        job->exit_status = SIGKILL;
        g->running--;
        finishPushLocked(job);
    } else if (job->stage == VIR_SUP_STAGE_SPAWNING) {
        g->running--;
        if (job->killed == VIR_SUP_KILL_DEADLINE) {
            snprintf(msg, sizeof(msg), "timed out after %.3g s: the worker never started "
                     "(the spawn helper does not answer)", job->deadline_ms / 1000.0);
            addSynthLocked(job, VIR_JOB_FAILED, VIR_ERR_OPERATION_TIMEOUT, msg);
        } else {
            snprintf(msg, sizeof(msg), "cancelled by request before it started "
                     "(the spawn helper did not start its worker within the %.3g s "
                     "grace period)", job->grace_ms / 1000.0);
            addSynthLocked(job, VIR_JOB_CANCELLED, VIR_ERR_OPERATION_ABORTED, msg);
        }
    } else {
        return false;
    }
    startQueuedLocked(g);
    return true;
}

/* Grace periods, deadlines, sampling; returns the next wake-up (mono ns,
 * 0 for none). Lock held. */
static uint64_t timersLocked(void)
{
    uint64_t now = virShmNowMono(), next = 0;
    for (size_t i = 0; i < sup.nhelpers; i++) {
        supHelper *sh = &sup.helpers[i];
        if (sh->up && sh->out_poll && sh->out_head) {
            helperFlushLocked(sh);
            if (sh->out_head && (!next || now + SUP_FLUSH_POLL_NS < next))
                next = now + SUP_FLUSH_POLL_NS;
        }
    }
    for (virSupGroup *g = sup.groups; g; g = g->next) {
        for (virJobPtr job = g->jobs; job; job = job->next_in_group) {
            if (job->stage != VIR_SUP_STAGE_RUNNING && job->stage != VIR_SUP_STAGE_SPAWNING)
                continue;
            /* Marked killed only once the SIGKILL is sent or queued; if it
             * could not even be queued, the next tick tries again. */
            if (job->grace_at && now >= job->grace_at && job->killed == VIR_SUP_KILL_NONE &&
                hardKillLocked(job) == 0) {
                job->killed = VIR_SUP_KILL_GRACE;
                setFlagLocked(job, VIR_SHM_LC_KILLED, true);
            }
            if (job->deadline_at && now >= job->deadline_at &&
                job->killed == VIR_SUP_KILL_NONE && hardKillLocked(job) == 0) {
                job->killed = VIR_SUP_KILL_DEADLINE;
                setFlagLocked(job, VIR_SHM_LC_KILLED, true);
            }
            if (job->killed && job->hardkill_at &&
                now >= job->hardkill_at + SUP_KILL_MARGIN_NS && killedUnreportedLocked(job))
                continue;
            /* Its worker ended and the helper has not said how: from the
             * status read while it was the helper's zombie. Not known (the
             * kernel does not show it to us): the helper's report, when it
             * runs again, as before. */
            if (job->stage == VIR_SUP_STAGE_RUNNING && job->ended_at &&
                now >= job->ended_at + SUP_KILL_MARGIN_NS && zombieStatusLocked(job)) {
                finishFromZombieLocked(job);
                startQueuedLocked(g);
                continue;
            }
            /* Every job is sampled on one grid of SUP_TICK_NS, whenever it
             * started: 1,000 jobs cost two wake-ups a second, not 1,000. */
            if (job->last_sample_mono / SUP_TICK_NS < now / SUP_TICK_NS)
                sampleLocked(job, now);
            uint64_t cand[5] = {
                job->killed ? 0 : job->grace_at,
                job->killed ? 0 : job->deadline_at,
                (now / SUP_TICK_NS + 1) * SUP_TICK_NS,
                job->hardkill_at ? job->hardkill_at + SUP_KILL_MARGIN_NS : 0,
                /* Past it, unknown: retried on the tick, never in a loop. */
                job->ended_at && now < job->ended_at + SUP_KILL_MARGIN_NS ?
                    job->ended_at + SUP_KILL_MARGIN_NS : 0,
            };
            for (int i = 0; i < 5; i++)
                if (cand[i] && (!next || cand[i] < next))
                    next = cand[i];
        }
    }
    return next;
}

/* Arm the reaper's timer for @at (mono ns; 0: disarm). Lock held. */
static void armTimer(uint64_t at)
{
    struct itimerspec its;
    memset(&its, 0, sizeof(its));
    if (at) {
        its.it_value.tv_sec = (time_t)(at / 1000000000ull);
        its.it_value.tv_nsec = (long)(at % 1000000000ull);
        if (!its.it_value.tv_sec && !its.it_value.tv_nsec)
            its.it_value.tv_nsec = 1;
    }
    (void)timerfd_settime(sup.tfd, TFD_TIMER_ABSTIME, &its, NULL);
    sup.timer_at = at;
}

/* Stop every spawn helper: its socket closes, it kills every worker's
 * group and exits (waited for, at most SUP_HELPER_STOP_MS, so that it is
 * not killed before it has). Lock held. */
static void helpersStopLocked(void)
{
    for (size_t i = 0; i < sup.nhelpers; i++) {
        supHelper *sh = &sup.helpers[i];
        outDropLocked(sh);
        readyDropLocked(sh);
        if (sh->up) {
            virSupHelperStop(&sh->h, SUP_HELPER_STOP_MS);
            sh->up = false;
        }
    }
}

/* The event loop cannot go on (epoll_wait failed for good): fail every
 * job that has not ended, tell every spawn helper to kill its workers (its
 * socket closes), and refuse new jobs until every group is closed (the
 * next group starts a new supervisor). Lock held. */
static void loopFailedLocked(int err)
{
    char msg[VIR_SHM_ERROR_MAX];

    sup.loop_err = err;
    snprintf(msg, sizeof(msg), "the job supervisor's event loop failed (%s); "
             "the worker was killed", strerror(err));
    for (virSupGroup *g = sup.groups; g; g = g->next) {
        for (virJobPtr job = g->jobs; job; job = job->next_in_group) {
            if (job->stage == VIR_SUP_STAGE_QUEUED) {
                dequeueLocked(job);
                addSynthLocked(job, VIR_JOB_FAILED, VIR_ERR_INTERNAL_ERROR, msg);
            } else if (job->stage == VIR_SUP_STAGE_SPAWNING ||
                       job->stage == VIR_SUP_STAGE_RUNNING) {
                g->running--;
                addSynthLocked(job, VIR_JOB_FAILED, VIR_ERR_INTERNAL_ERROR, msg);
            }
        }
    }
    helpersStopLocked();
}

/* Tests (virSupTestHoldHelpers): is one of @evs a helper's? */
static bool helperEventIn(const struct epoll_event *evs, int n)
{
    for (int i = 0; i < n; i++) {
        uint32_t d = evs[i].data.u32;
        if (!(evs[i].data.u64 & SUP_EV_WORKER) && d >= SUP_EV_HELPER &&
            d - SUP_EV_HELPER < SUP_HELPERS_MAX)
            return true;
    }
    return false;
}

static void *reaperMain(void *arg)
{
    (void)arg;

    /* Errors of commits and reaping become jobs' errors, never handler
     * calls or lines on the application's stderr. */
    virErrorSetThreadInternal();

    for (;;) {
        struct epoll_event evs[16];
        int n = epoll_wait(sup.epfd, evs, ARRAY_CARDINALITY(evs), -1);
        if (n < 0 && errno == EINTR)
            continue;
        pthread_mutex_lock(&sup.lock);
        if (n < 0) {
            int err = errno;
            loopFailedLocked(err);
            virJobPtr list = sup.finish_head;
            sup.finish_head = sup.finish_tail = NULL;
            pthread_mutex_unlock(&sup.lock);
            finishJobs(list);
            break;
        }
        while ((sup.test_hold_helpers && helperEventIn(evs, n)) || sup.test_hold_reaper)
            pthread_cond_wait(&sup.test_cond, &sup.lock);
        for (int i = 0; i < n; i++) {
            uint64_t v;
            uint32_t d = evs[i].data.u32;
            if (evs[i].data.u64 & SUP_EV_WORKER)
                workerEndedLocked(evs[i].data.u64 & ~SUP_EV_WORKER);
            else if (d >= SUP_EV_HELPER && d - SUP_EV_HELPER < sup.nhelpers &&
                sup.helpers[d - SUP_EV_HELPER].up) {
                supHelper *sh = &sup.helpers[d - SUP_EV_HELPER];
                if (evs[i].events & EPOLLOUT)
                    helperFlushLocked(sh);
                if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
                    helperReadLocked(sh);
            }
            else if (d == SUP_EV_WAKE)
                (void)!read(sup.evfd, &v, sizeof(v));
            else if (d == SUP_EV_TIMER)
                (void)!read(sup.tfd, &v, sizeof(v));
        }
        if (sup.start_queued) {
            sup.start_queued = false;
            for (virSupGroup *g = sup.groups; g; g = g->next)
                startQueuedLocked(g);
        }
        if (sup.stop) {
            pthread_mutex_unlock(&sup.lock);
            break;
        }
        virJobPtr list = sup.finish_head;
        sup.finish_head = sup.finish_tail = NULL;
        pthread_mutex_unlock(&sup.lock);

        /* Outcomes here; commit and done on the commit threads. */
        finishJobs(list);

        pthread_mutex_lock(&sup.lock);
        armTimer(timersLocked());
        pthread_mutex_unlock(&sup.lock);
    }
    return NULL;
}

/* ---- worker program ---- */

static char *dirOf(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? virStrndup(path, (size_t)(slash - path)) : NULL;
}

static char *workerNextTo(const char *file)
{
    char *dir = file ? dirOf(file) : NULL;
    char *p = dir ? virAsprintf("%s/virtsup-worker", dir) : NULL;
    if (p && access(p, X_OK) < 0) {
        free(p);
        p = NULL;
    }
    free(dir);
    return p;
}

static char *findWorker(void)
{
    const char *env = secure_getenv("VIRTSUP_WORKER");
    if (env && *env)
        return virStrdup(env);
    /* The build tree: next to the library, or next to the program. */
    Dl_info info;
    char *p = NULL;
    if (dladdr((void *)findWorker, &info) && info.dli_fname && info.dli_fname[0] == '/')
        p = workerNextTo(info.dli_fname);
    if (!p) {
        char exe[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
        if (n > 0) {
            exe[n] = '\0';
            p = workerNextTo(exe);
        }
    }
    return p ? p : virStrdup(VIRTSUP_LIBEXECDIR "/virtsup-worker");
}

static pthread_once_t workerPathOnce = PTHREAD_ONCE_INIT;
static char *workerPath;

static void workerPathInit(void)
{
    workerPath = findWorker();
}

const char *virSupWorkerPath(void)
{
    pthread_once(&workerPathOnce, workerPathInit);
    return workerPath ? workerPath : VIRTSUP_LIBEXECDIR "/virtsup-worker";
}

const char *virSupSegmentPath(void)
{
    return sup.running && sup.seg ? sup.seg->path : NULL;
}

int virSupJobSegmentPath(virJobPtr job, char *buf, size_t len)
{
    int rc = -1;

    if (!job || virSupJobInherited(job))
        return -1;
    pthread_mutex_lock(&sup.lock);
    /* A job that lives holds its group open, and so the supervisor. */
    if (sup.seg && strlen(sup.seg->path) < len) {
        memcpy(buf, sup.seg->path, strlen(sup.seg->path) + 1);
        rc = 0;
    }
    pthread_mutex_unlock(&sup.lock);
    return rc;
}

int virSupForeignJobRead(const char *segPath, uint64_t id, virSupForeignJob *out)
{
    virShmSegment *seg;
    virShmJobView v;
    virShmProgressData d;
    uint32_t slot;

    memset(out, 0, sizeof(*out));
    if (!(seg = virShmSegmentOpen(segPath)))
        return -1;
    slot = virShmRingSlot(seg, id);
    /* A slot never written is a hole in the file: not read (the map says). */
    v.kind = VIR_SHM_VIEW_EMPTY;
    if (virShmNextWrittenSlot(seg, slot) == slot)
        virShmSlotView(seg, slot, true, &v);
    if (v.kind != VIR_SHM_VIEW_JOB || v.lc.job_id != id) {
        virReportError(VIR_ERR_NO_SUPPORT, "job %llu is no longer in the status segment %s",
                       (unsigned long long)id, segPath);
        virShmSegmentClose(seg);
        return -1;
    }
    if (!virShmStateEnded(v.lc.state) && !virShmSupervisorAlive(seg)) {
        virReportError(VIR_ERR_OPERATION_FAILED, "the process that ran job %llu (status "
                       "segment %s) has gone", (unsigned long long)id, segPath);
        virShmSegmentClose(seg);
        return -1;
    }
    switch (v.lc.state) {
    case VIR_SHM_STATE_COMPLETED: out->state = VIR_JOB_COMPLETE; break;
    case VIR_SHM_STATE_FAILED: out->state = VIR_JOB_FAILED; break;
    case VIR_SHM_STATE_CANCELLED: out->state = VIR_JOB_CANCELLED; break;
    default: out->state = VIR_JOB_RUNNING; break;
    }
    out->elapsed_ms = virShmLifecycleElapsedMs(&v.lc, virShmNowMono(), virShmNowReal());
    out->done = v.pr.bytes_done;
    out->total = v.pr.bytes_total;
    out->remaining_ms = v.lc.eta_ms;
    /* A running job's own page is fresher than the record's 0.5 s sample. */
    if (out->state == VIR_JOB_RUNNING) {
        virShmProgress *pg = virShmSlotProgress(seg, slot);
        if (virShmProgressRead(pg, &d) == 0 &&
            atomic_load_explicit(&pg->job_id, memory_order_relaxed) == id) {
            virShmProgressSanitize(&d);
            out->done = d.bytes_done;
            out->total = d.bytes_total;
            if (d.flags & VIR_SHM_PR_HAS_ETA)
                out->remaining_ms = d.eta_ms;
        }
    } else {
        out->remaining_ms = 0;
    }
    virShmSegmentClose(seg);
    return 0;
}

pid_t virSupProfileHelperPid(const virSupProfile *p)
{
    pid_t pid = 0;

    if (!p)
        p = &virSupProfileDefault;
    pthread_mutex_lock(&sup.lock);
    for (size_t i = 0; i < sup.nhelpers; i++) {
        const virProtoSandbox *h = &sup.helpers[i].sandbox;
        if (sup.helpers[i].up && h->caps == p->caps && h->syscalls == (uint32_t)p->syscalls &&
            h->detach == p->detach && h->libs == p->libs)
            pid = sup.helpers[i].h.pid;
    }
    pthread_mutex_unlock(&sup.lock);
    return pid;
}

pid_t virSupHelperPid(void)
{
    return virSupProfileHelperPid(NULL);
}

/* ---- start and stop ---- */

static void supStopLocked(void);

static int supStartLocked(void)
{
    char *rundir = NULL;
    struct epoll_event ev = { .events = EPOLLIN };

    sup.stop = false;
    sup.loop_err = 0;
    free(sup.worker_path);
    if (!(sup.worker_path = virStrdup(virSupWorkerPath())))
        return -1;
    if (!(rundir = virShmRunDir(true)))
        return -1;
    (void)virShmRunDirGC(rundir); /* DESIGN.md: the next supervisor removes stale segments */
    sup.seg = virShmSegmentCreate(rundir, VIR_SHM_DEFAULT_SLOTS);
    free(rundir);
    if (!sup.seg)
        return -1;
    if (!(sup.segref = virAllocN(1, sizeof(*sup.segref))))
        goto error;
    sup.segref->seg = sup.seg;
    sup.segref->forkgen = virSupForkGeneration();
    atomic_store(&sup.segref->refs, 1);
    if (!(sup.left = virAllocN(1, sizeof(*sup.left))))
        goto error;
    if (!(sup.byslot = virAllocN(sup.seg->nslots, sizeof(*sup.byslot))))
        goto error;
    sup.epfd = virFDAboveStdio(epoll_create1(EPOLL_CLOEXEC));
    sup.evfd = virFDAboveStdio(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    sup.tfd = virFDAboveStdio(timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
    sup.timer_at = 0;
    if (sup.epfd < 0 || sup.evfd < 0 || sup.tfd < 0) {
        virReportSystemError(errno, "%s", "cannot create the supervisor's event descriptors");
        goto error;
    }
    ev.data.u32 = SUP_EV_WAKE;
    if (epoll_ctl(sup.epfd, EPOLL_CTL_ADD, sup.evfd, &ev) < 0)
        goto error_watch;
    ev.data.u32 = SUP_EV_TIMER;
    if (epoll_ctl(sup.epfd, EPOLL_CTL_ADD, sup.tfd, &ev) < 0)
        goto error_watch;
    /* The default profile's helper now, so that a missing or wrong worker
     * program fails the first connection, not its first job. */
    sup.nhelpers = 0;
    if (helperFindLocked(&virSupProfileDefault) != 0 ||
        helperEnsureLocked(&sup.helpers[0]) < 0)
        goto error;
    /* The reaper thread must not take signals meant for the application. */
    int r = startThread(&sup.thread, reaperMain);
    if (r != 0) {
        virReportSystemError(r, "%s", "cannot start the supervisor thread");
        goto error;
    }
    sup.running = true;
    return 0;

 error_watch:
    virReportSystemError(errno, "%s", "cannot watch the supervisor's event descriptors");
 error:
    supStopLocked();
    return -1;
}

/* Lock held on entry and exit; released while joining the thread. */
static void supStopLocked(void)
{
    if (sup.running) {
        sup.stop = true;
        wakeReaper();
        pthread_cond_broadcast(&sup.commit_cond);
        unsigned int nthreads = sup.ncommit_threads;
        pthread_mutex_unlock(&sup.lock);
        pthread_join(sup.thread, NULL);
        /* Every group is closed, so no commit is queued or running: the
         * commit threads see "stop" and an empty queue, and end. */
        for (unsigned int i = 0; i < nthreads; i++)
            pthread_join(sup.commit_threads[i], NULL);
        pthread_mutex_lock(&sup.lock);
        sup.ncommit_threads = sup.ncommit_idle = 0;
        sup.running = false;
    }
    helpersStopLocked();
    sup.nhelpers = 0;
    virForceClose(&sup.epfd);
    virForceClose(&sup.evfd);
    virForceClose(&sup.tfd);
    free(sup.byslot);
    sup.byslot = NULL;
    free(sup.left);
    sup.left = NULL;
    sup.finish_head = sup.finish_tail = NULL;
    if (sup.seg) {
        /* Unlink now; unmap when the last finished job that still reads
         * its final figures from here is destroyed. */
        atomic_fetch_or_explicit(&((virShmHeader *)sup.seg->base)->flags,
                                 VIR_SHM_HDR_CLOSED, memory_order_release);
        if (sup.seg->path)
            (void)unlink(sup.seg->path);
        virForceClose(&sup.seg->fd);
        if (sup.segref)
            segUnref(sup.segref);
        else
            virShmSegmentClose(sup.seg);
        sup.seg = NULL;
        sup.segref = NULL;
    }
}

static void forkInstall(void);
static void inheritedDropLocked(void);

virSupGroup *virSupGroupNew(const virSupGroupConfig *cfg)
{
    virSupGroup *g;
    static pthread_once_t forkOnce = PTHREAD_ONCE_INIT;

    pthread_once(&forkOnce, forkInstall);
    if (!(g = virAllocN(1, sizeof(*g))))
        return NULL;
    if (cfg)
        g->cfg = *cfg;
    pthread_mutex_lock(&sup.startLock);
    pthread_mutex_lock(&sup.lock);
    /* Under the lock: the fork handler holds it, so a group opened now
     * belongs to the generation that runs the supervisor it joins. */
    g->forkgen = virSupForkGeneration();
    inheritedDropLocked();
    if (!sup.running && supStartLocked() < 0) {
        pthread_mutex_unlock(&sup.lock);
        pthread_mutex_unlock(&sup.startLock);
        free(g);
        return NULL;
    }
    g->next = sup.groups;
    sup.groups = g;
    pthread_mutex_unlock(&sup.lock);
    pthread_mutex_unlock(&sup.startLock);
    return g;
}

static void inheritedGroupClose(virSupGroup *g);

void virSupGroupClose(virSupGroup *g)
{
    if (!g)
        return;
    if (virSupGroupInherited(g)) {
        inheritedGroupClose(g);
        return;
    }
    pthread_mutex_lock(&sup.startLock);
    pthread_mutex_lock(&sup.lock);
    for (virJobPtr job = g->jobs; job; job = job->next_in_group)
        cancelLocked(job);
    while (g->unfinished > 0)
        pthread_cond_wait(&sup.cond, &sup.lock);
    for (virSupGroup **pp = &sup.groups; *pp; pp = &(*pp)->next) {
        if (*pp == g) {
            *pp = g->next;
            break;
        }
    }
    if (!sup.groups)
        supStopLocked();
    pthread_mutex_unlock(&sup.lock);
    pthread_mutex_unlock(&sup.startLock);
    free(g);
}

/* ---- jobs ---- */

static int makeParamsFD(const void *params, size_t len)
{
    int fd = virFDAboveStdio(memfd_create("virtsup-params", MFD_CLOEXEC | MFD_ALLOW_SEALING));
    if (fd < 0) {
        reportFDError(errno, "cannot create the job's parameter memfd");
        return -1;
    }
    size_t off = 0;
    while (off < len) {
        ssize_t n = write(fd, (const char *)params + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            virReportSystemError(errno, "%s", "cannot write the job's parameters");
            close(fd);
            return -1;
        }
        off += (size_t)n;
    }
    /* Sealed: what the worker reads is exactly what we wrote. */
    (void)fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
    return fd;
}

static const char *fdKindName(virSupFdKind k)
{
    switch (k) {
    case VIR_SUP_FD_READ: return "a file open for reading";
    case VIR_SUP_FD_WRITE: return "a file open for writing";
    case VIR_SUP_FD_PIPE_READ: return "the read end of a pipe";
    case VIR_SUP_FD_PIPE_WRITE: return "the write end of a pipe";
    case VIR_SUP_FD_SOCKET: return "a socket";
    }
    return "?";
}

/* Check descriptor @fd (the @i-th of a job of op @op) against its profile.
 * A directory is never passed: a worker holding one could walk out of its
 * empty root with "..". Returns 0, or -1 with VIR_ERR_INVALID_ARG. */
static int checkResourceFD(const virSupOp *op, const virSupProfile *prof,
                           size_t i, int fd)
{
    struct stat st;
    int fl = fcntl(fd, F_GETFL);

    if (fl < 0 || fstat(fd, &st) < 0) {
        virReportSystemError(errno, "invalid resource descriptor %d for a job of %s",
                             fd, op->name);
        return -1;
    }
    if (S_ISDIR(st.st_mode) || (fl & O_PATH)) {
        virReportError(VIR_ERR_INVALID_ARG,
                       "resource descriptor %d of a job of %s is %s: a worker gets "
                       "only files, pipes and sockets, never a directory or a path",
                       fd, op->name, S_ISDIR(st.st_mode) ? "a directory" : "an O_PATH");
        return -1;
    }
    if (!prof->fds)
        return 0;
    const virSupFdSpec *spec = &prof->fds[i];
    int acc = fl & O_ACCMODE;
    bool file = S_ISREG(st.st_mode) || S_ISBLK(st.st_mode) || S_ISCHR(st.st_mode);
    bool ok = false;
    switch (spec->kind) {
    case VIR_SUP_FD_READ:
        ok = file && acc != O_WRONLY;
        break;
    case VIR_SUP_FD_WRITE:
        ok = file && acc != O_RDONLY;
        break;
    case VIR_SUP_FD_PIPE_READ:
        ok = S_ISFIFO(st.st_mode) && acc != O_WRONLY;
        break;
    case VIR_SUP_FD_PIPE_WRITE:
        ok = S_ISFIFO(st.st_mode) && acc != O_RDONLY;
        break;
    case VIR_SUP_FD_SOCKET:
        ok = S_ISSOCK(st.st_mode);
        break;
    }
    if (!ok) {
        virReportError(VIR_ERR_INVALID_ARG,
                       "resource descriptor %d ('%s') of a job of %s must be %s "
                       "(profile '%s')", fd, spec->name, op->name,
                       fdKindName(spec->kind), prof->name ? prof->name : "unnamed");
        return -1;
    }
    return 0;
}

_Static_assert((uint32_t)VIR_SUP_LIB_XML == VIR_PROTO_LIB_XML &&
               (uint32_t)VIR_SUP_LIB_NFTABLES == VIR_PROTO_LIB_NFTABLES,
               "virSupLibs and virProtoLibs must agree");

static int checkProfile(const virSupOp *op, const virSupProfile *prof, size_t nfds)
{
    if ((unsigned)prof->syscalls >= VIR_PROTO_SYSCALLS_LAST) {
        virReportError(VIR_ERR_INVALID_ARG, "profile '%s' of %s names an unknown "
                       "system-call set %d", prof->name ? prof->name : "unnamed",
                       op->name, (int)prof->syscalls);
        return -1;
    }
    if (prof->libs & ~(uint32_t)VIR_PROTO_LIB_ALL) {
        virReportError(VIR_ERR_INVALID_ARG, "profile '%s' of %s names unknown libraries "
                       "(0x%x)", prof->name ? prof->name : "unnamed", op->name,
                       (unsigned)prof->libs);
        return -1;
    }
    if (prof->nfds > VIR_SUP_FDS_MAX || (prof->nfds && !prof->fds)) {
        virReportError(VIR_ERR_INVALID_ARG, "profile '%s' of %s names more than %d "
                       "descriptors", prof->name ? prof->name : "unnamed", op->name,
                       VIR_SUP_FDS_MAX);
        return -1;
    }
    for (size_t i = 0; i < prof->nfds; i++) {
        if (!prof->fds[i].name || !*prof->fds[i].name ||
            strlen(prof->fds[i].name) >= VIR_PROTO_FD_NAME_MAX) {
            virReportError(VIR_ERR_INVALID_ARG, "profile '%s' of %s: descriptor %zu "
                           "needs a name of 1 to %d bytes", prof->name ? prof->name : "unnamed",
                           op->name, i, VIR_PROTO_FD_NAME_MAX - 1);
            return -1;
        }
    }
    if (prof->fds && nfds != prof->nfds) {
        virReportError(VIR_ERR_INVALID_ARG,
                       "a job of %s takes %zu descriptors (profile '%s'), not %zu",
                       op->name, prof->nfds, prof->name ? prof->name : "unnamed", nfds);
        return -1;
    }
    return 0;
}

static void jobFreeUnstarted(virJobPtr job)
{
    virForceClose(&job->paramsfd);
    free(job->spawnmsg);
    job->spawnmsg = NULL;
    virForceClose(&job->evfd);
    for (size_t i = 0; i < job->nres; i++)
        virForceClose(&job->resfds[i]);
    jobRelease(job);
}

virJobPtr virSupJobCreate(virSupGroup *g, const virSupJobParams *p)
{
    virJobPtr job = NULL;

    if (!g || !p || !p->op || !p->op->name) {
        virReportError(VIR_ERR_INVALID_ARG, "%s", "virSupJobCreate: missing group, parameters or op");
        return NULL;
    }
    if (virSupGroupInherited(g)) {
        virReportError(VIR_ERR_INVALID_CONN, "cannot start a job: the connection "
                       "belongs to the parent process; open a new connection after fork");
        return NULL;
    }
    if (strlen(p->op->name) >= VIR_PROTO_OP_MAX) {
        virReportError(VIR_ERR_INVALID_ARG, "operation name '%s' is too long", p->op->name);
        return NULL;
    }
    if (p->paramslen > VIR_SUP_PARAMS_MAX || (p->paramslen && !p->params)) {
        virReportError(VIR_ERR_INVALID_ARG,
                       "job parameters of %zu bytes exceed the %d byte limit",
                       p->paramslen, VIR_SUP_PARAMS_MAX);
        return NULL;
    }
    if (p->nfds > VIR_SUP_FDS_MAX || (p->nfds && !p->fds)) {
        virReportError(VIR_ERR_INVALID_ARG, "a job takes at most %d descriptors",
                       VIR_SUP_FDS_MAX);
        return NULL;
    }
    const virSupProfile *prof = p->op->profile ? p->op->profile : &virSupProfileDefault;
    if (checkProfile(p->op, prof, p->nfds) < 0)
        return NULL;
    for (size_t i = 0; i < p->nfds; i++)
        if (checkResourceFD(p->op, prof, i, p->fds[i]) < 0)
            return NULL;
    if (!(job = jobAlloc()))
        return NULL;
    job->op = p->op;
    job->group = g;
    job->owner = getpid();
    virStrcpyTrunc(job->target, sizeof(job->target), p->target ? p->target : "");
    for (size_t i = 0; i < p->nfds; i++) {
        if ((job->resfds[i] = fcntl(p->fds[i], F_DUPFD_CLOEXEC, 3)) < 0) {
            char what[96];
            snprintf(what, sizeof(what), errno == EBADF ?
                     "invalid resource descriptor %d for the job" :
                     "cannot keep resource descriptor %d for the job", p->fds[i]);
            reportFDError(errno, what);
            job->nres = i;
            goto error;
        }
    }
    job->nres = p->nfds;
    job->paramslen = p->paramslen;
    if (p->paramslen > VIR_PROTO_PARAMS_INLINE_MAX) {
        if ((job->paramsfd = makeParamsFD(p->params, p->paramslen)) < 0)
            goto error;
    } else if (p->paramslen) {
        /* Short: sent inside the SPAWN record, no memfd to create, pass
         * and read (docs/WORKER.md, Messages). */
        if (!(job->spawnmsg = virAllocN(1, sizeof(virProtoSpawn) + p->paramslen)))
            goto error;
        memcpy(job->spawnmsg + sizeof(virProtoSpawn), p->params, p->paramslen);
    }
    if ((job->evfd = virFDAboveStdio(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK))) < 0) {
        reportFDError(errno, "cannot create the job's event descriptor");
        goto error;
    }
    job->grace_ms = p->grace_ms ? p->grace_ms :
                    g->cfg.grace_ms ? g->cfg.grace_ms : SUP_DEFAULT_GRACE_MS;
    job->deadline_ms = p->deadline_ms ? p->deadline_ms : g->cfg.deadline_ms;
    job->create_mono = virShmNowMono();

    pthread_mutex_lock(&sup.lock);
    if (!sup.running) {
        pthread_mutex_unlock(&sup.lock);
        virReportError(VIR_ERR_OPERATION_INVALID, "%s",
                       "the job supervisor is not running (connection closed?)");
        goto error;
    }
    if (sup.loop_err) {
        int err = sup.loop_err;
        pthread_mutex_unlock(&sup.lock);
        virReportSystemError(err, "%s", "cannot start a job: the job supervisor's "
                             "event loop failed; close every connection to start "
                             "a new one");
        goto error;
    }
    int hix = helperFindLocked(prof);
    if (hix < 0) {
        pthread_mutex_unlock(&sup.lock);
        goto error;
    }
    job->hix = (uint32_t)hix;
    job->forkgen = virSupForkGeneration();
    if (virShmRingAlloc(sup.seg, p->op->name, job->target, &job->id, &job->slot) < 0) {
        pthread_mutex_unlock(&sup.lock);
        goto error;
    }
    job->progress = virShmSlotProgress(sup.seg, job->slot);
    job->lifecycle = virShmSlotLifecycle(sup.seg, job->slot);
    job->segref = sup.segref;
    atomic_fetch_add_explicit(&sup.segref->refs, 1, memory_order_relaxed);
    job->opaque = p->opaque;
    job->opaque_free = p->opaque_free;
    atomic_store_explicit(&job->state, VIR_JOB_RUNNING, memory_order_relaxed);
    sup.byslot[job->slot] = job;
    job->next_in_group = g->jobs;
    g->jobs = job;
    g->unfinished++;
    job->stage = VIR_SUP_STAGE_QUEUED;
    if (g->qtail)
        g->qtail->next_queued = job;
    else
        g->qhead = job;
    g->qtail = job;
    /* Release: everything above is visible to whoever validates the handle. */
    atomic_store_explicit(&job->magic, VIR_JOB_MAGIC, memory_order_release);
    startQueuedLocked(g);
    pthread_mutex_unlock(&sup.lock);
    return job;

 error:
    jobFreeUnstarted(job);
    return NULL;
}

/* ---- the public calls' internals ---- */

void virSupJobSnapshotGet(virJobPtr job, virSupJobSnapshot *s, bool precise)
{
    /* Field by field, not a memset of the whole record: this is
     * virJobGetInfo's hot path, and the phase is filled only if wanted. */
    s->remaining_ms = 0;
    s->bytes_done = s->bytes_total = 0;
    s->phase[0] = '\0';
    s->worker_pid = 0;
    s->type = job->op->type;
    /* Acquire: pairs with the release in jobFinish; a terminal state
     * guarantees the final figures are complete. */
    s->state = atomic_load_explicit(&job->state, memory_order_acquire);
    uint32_t flags = atomic_load_explicit(&job->flags, memory_order_relaxed);
    s->stalled = (flags & VIR_SHM_LC_STALLED) != 0;
    s->cancel_requested = (flags & VIR_SHM_LC_CANCEL_REQUESTED) != 0;
    s->cancel_acked = (flags & VIR_SHM_LC_CANCEL_ACKED) != 0;
    s->rate_bps = atomic_load_explicit(&job->rate_bps, memory_order_relaxed);
    if (s->state != VIR_JOB_RUNNING) {
        s->elapsed_ms = job->final_elapsed_ms;
        s->percent = job->final.percent;
        s->bytes_done = job->final.bytes_done;
        s->bytes_total = job->final.bytes_total;
        memcpy(s->phase, job->final.phase, sizeof(s->phase));
        return;
    }
    /* virJobGetInfo reports whole seconds: the coarse clock (no TSC read,
     * a few ms behind) is plenty there, and it is the call's main cost. */
    uint64_t now = precise ? virShmNowMono() : virShmNowMonoCoarse();
    s->elapsed_ms = now > job->create_mono ? (now - job->create_mono) / 1000000ull : 0;
    virShmProgressData d;
    uint32_t p = 0;
    if ((precise ? virShmProgressRead(job->progress, &d) :
                   virShmProgressReadFigures(job->progress, &d)) == 0 &&
        atomic_load_explicit(&job->progress->job_id, memory_order_relaxed) == job->id) {
        p = d.percent;
        s->bytes_done = d.bytes_done;
        s->bytes_total = d.bytes_total;
        if (precise)
            memcpy(s->phase, d.phase, sizeof(s->phase));
        if (d.flags & VIR_SHM_PR_HAS_ETA)
            s->remaining_ms = d.eta_ms;
    }
    if (precise) {
        virShmLifecycleData lc;
        if (virShmLifecycleRead(job->lifecycle, &lc) == 0 && lc.job_id == job->id)
            s->worker_pid = lc.worker_pid;
    }
    if (!s->remaining_ms)
        s->remaining_ms = atomic_load_explicit(&job->derived_eta_ms, memory_order_relaxed);
    /* Never backwards, whatever a worker writes. Relaxed: a monotonic
     * counter with no data attached. */
    uint32_t cur = atomic_load_explicit(&job->max_percent, memory_order_relaxed);
    while (p > cur &&
           !atomic_compare_exchange_weak_explicit(&job->max_percent, &cur, p,
                                                  memory_order_relaxed,
                                                  memory_order_relaxed))
        ;
    s->percent = p > cur ? p : cur;
}

int virSupJobCancel(virJobPtr job)
{
    pthread_mutex_lock(&sup.lock);
    int r = job->stage >= VIR_SUP_STAGE_FINISHING ? 1 : cancelLocked(job);
    pthread_mutex_unlock(&sup.lock);
    return r;
}

/* A waiter saw @job's worker's pidfd readable: if the worker is its
 * helper's zombie, finish the job on this thread, as the reaper would
 * (workerEndedLocked, finishJobs), one wake-up of the reaper sooner.
 * Otherwise (not known yet, or someone else finished it) the reaper does,
 * and the waiter waits for that. */
static void finishFromWaiter(virJobPtr job)
{
    pthread_mutex_lock(&sup.lock);
    if (job->stage != VIR_SUP_STAGE_RUNNING || job->ended_at) {
        pthread_mutex_unlock(&sup.lock);
        return;
    }
    job->ended_at = virShmNowMono();
    if (!zombieStatusLocked(job)) {
        /* The reaper's timers take it from here (it saw the pidfd too). */
        wakeReaper();
        pthread_mutex_unlock(&sup.lock);
        return;
    }
    /* As workerEndedLocked: the group, while its id cannot be reused. */
    (void)kill(-job->pid, SIGKILL);
    zombieExitLocked(job);
    finishingLocked(job);
    startQueuedLocked(job->group);
    pthread_mutex_unlock(&sup.lock);

    /* Errors raised here (out of memory for the worker's result) are the
     * job's, never the caller's handler's or its last error. */
    virErrorPtr saved = virSaveLastError();
    bool quiet = virErrorSetQuiet(true);
    finishOne(job);
    virErrorSetQuiet(quiet);
    virRestoreLastError(&saved);
}

/* Wait on the spawn condition until @job leaves SPAWNING or @end_ms
 * (monotonic ms; 0: no end) passes. Lock held. */
static void spawnWaitLocked(virJobPtr job, long long end_ms)
{
    while (job->stage == VIR_SUP_STAGE_SPAWNING) {
        if (!end_ms) {
            pthread_cond_wait(&sup.spawn_cond, &sup.lock);
            continue;
        }
        struct timespec ts = { .tv_sec = (time_t)(end_ms / 1000),
                               .tv_nsec = (long)(end_ms % 1000) * 1000000L };
        if (pthread_cond_timedwait(&sup.spawn_cond, &sup.lock, &ts) == ETIMEDOUT)
            return;
    }
}

int virSupJobWait(virJobPtr job, int timeout_ms)
{
    long long end = timeout_ms > 0 ?
        (long long)(virShmNowMono() / 1000000ull) + timeout_ms : 0;
    /* Our own copy of the worker's pidfd, watched beside the job's
     * eventfd: the waiter learns of the worker's end from the kernel, not
     * from the reaper one wake-up later. Tried once per call. */
    int pidfd = -1;
    bool watched = timeout_ms == 0;
    int rc;

    for (;;) {
        if (atomic_load_explicit(&job->state, memory_order_acquire) != VIR_JOB_RUNNING) {
            rc = 0;
            break;
        }
        int t = timeout_ms;
        if (timeout_ms > 0) {
            long long left = end - (long long)(virShmNowMono() / 1000000ull);
            if (left <= 0) {
                rc = 1;
                break;
            }
            t = left > INT_MAX ? INT_MAX : (int)left;
        }
        if (!watched) {
            watched = true;
            pthread_mutex_lock(&sup.lock);
            /* The helper's answer brings the pidfd a fraction of a
             * millisecond after the start. */
            spawnWaitLocked(job, end);
            if (job->stage == VIR_SUP_STAGE_RUNNING && job->pidfd >= 0 && !job->ended_at)
                pidfd = fcntl(job->pidfd, F_DUPFD_CLOEXEC, 3);
            pthread_mutex_unlock(&sup.lock);
            continue;
        }
        struct pollfd pfd[2] = { { .fd = job->evfd, .events = POLLIN },
                                 { .fd = pidfd, .events = POLLIN } };
        int r = poll(pfd, pidfd >= 0 ? 2 : 1, t);
        if (r < 0 && errno != EINTR) {
            virReportSystemError(errno, "%s", "cannot wait for the job");
            rc = -1;
            break;
        }
        if (r > 0 && pidfd >= 0 && pfd[1].revents && !pfd[0].revents) {
            virForceClose(&pidfd);
            finishFromWaiter(job);
            continue;
        }
        if (r == 0 && timeout_ms >= 0) {
            rc = atomic_load_explicit(&job->state, memory_order_acquire) != VIR_JOB_RUNNING ? 0 : 1;
            break;
        }
    }
    virForceClose(&pidfd);
    return rc;
}

int virSupJobSetGrace(virJobPtr job, unsigned int ms)
{
    pthread_mutex_lock(&sup.lock);
    job->grace_ms = ms ? ms : SUP_DEFAULT_GRACE_MS;
    if (job->grace_at && job->killed == VIR_SUP_KILL_NONE)
        job->grace_at = virShmNowMono() + msToNs(job->grace_ms);
    wakeReaper();
    pthread_mutex_unlock(&sup.lock);
    return 0;
}

int virSupJobSetDeadline(virJobPtr job, unsigned int ms)
{
    pthread_mutex_lock(&sup.lock);
    job->deadline_ms = ms;
    job->deadline_at = ms && job->start_mono ? job->start_mono + msToNs(ms) : 0;
    wakeReaper();
    pthread_mutex_unlock(&sup.lock);
    return 0;
}

int virSupJobGetFD(virJobPtr job)
{
    return job->evfd;
}

uint64_t virSupJobGetID(virJobPtr job)
{
    return job->id;
}

virErrorPtr virSupJobGetError(virJobPtr job)
{
    /* Acquire: the error was written before the terminal state (release). */
    if (atomic_load_explicit(&job->state, memory_order_acquire) == VIR_JOB_RUNNING)
        return NULL;
    return job->error;
}

int virSupJobDestroy(virJobPtr job)
{
    if (atomic_load_explicit(&job->state, memory_order_acquire) == VIR_JOB_RUNNING) {
        virReportError(VIR_ERR_OPERATION_INVALID,
                       "job %llu is still running: cancel it and wait for it first",
                       (unsigned long long)job->id);
        return -1;
    }
    /* DONE is set under the lock right before the terminal state; taking
     * the lock once makes sure jobFinish has let go of the job. */
    pthread_mutex_lock(&sup.lock);
    pthread_mutex_unlock(&sup.lock);
    atomic_store_explicit(&job->magic, VIR_JOB_DEAD, memory_order_release);
    if (job->result && job->result_release)
        job->result_release(job->result);
    if (job->opaque_free)
        job->opaque_free(job->opaque);
    virFreeError(job->error);
    virForceClose(&job->evfd);
    segUnref(job->segref);
    jobRelease(job);
    return 0;
}

int virSupJobSetResult(virJobPtr job, int kind, void *ref, virSupReleaseFunc release)
{
    if (!virSupJobValid(job))
        return -1;
    if (job->result && job->result_release)
        job->result_release(job->result);
    job->result = ref;
    job->result_kind = ref ? kind : 0;
    job->result_release = ref ? release : NULL;
    return 0;
}

int virSupJobErrorAppend(virJobPtr job, const char *text)
{
    /* Only the done step's own thread gets past this: the outcome is
     * that thread's until the job's end is published. */
    if (!virSupJobValid(job) ||
        atomic_load(&job->done_thread) != (unsigned long)pthread_self() ||
        job->outcome.state == VIR_JOB_COMPLETE || !text || !*text)
        return -1;
    char *m = job->outcome.message;
    size_t len = strlen(m);
    if (len + 2 < sizeof(job->outcome.message))
        snprintf(m + len, sizeof(job->outcome.message) - len, "%s%s", len ? "; " : "", text);
    return 0;
}

void *virSupJobGetResult(virJobPtr job, int *kind)
{
    if (kind)
        *kind = virSupJobValid(job) ? job->result_kind : 0;
    return virSupJobValid(job) ? job->result : NULL;
}

void *virSupJobGetOpaque(virJobPtr job)
{
    return virSupJobValid(job) ? job->opaque : NULL;
}

const virSupOp *virSupJobGetOp(virJobPtr job)
{
    return virSupJobValid(job) ? job->op : NULL;
}

int virSupJobGetRawStats(virJobPtr job, int *state, uint64_t *elapsed_ms,
                      uint64_t *remaining_ms, uint64_t *done, uint64_t *total)
{
    virSupJobSnapshot s;
    if (!virSupJobValid(job))
        return -1;
    virSupJobSnapshotGet(job, &s, true);
    if (state)
        *state = s.state;
    if (elapsed_ms)
        *elapsed_ms = s.elapsed_ms;
    if (remaining_ms)
        *remaining_ms = s.remaining_ms;
    if (done)
        *done = s.bytes_done;
    if (total)
        *total = s.bytes_total;
    return 0;
}

/* ---- fork (supervisor.h, "fork") ----
 *
 * The handlers hold sup.lock and poolLock across fork(), so the child
 * finds the supervisor's state whole. The child handler runs in a copy of
 * a multi-threaded process: it closes descriptors, moves pointers and
 * re-initialises locks, and never allocates or frees (a sanitizer's
 * allocator may still be locked for the fork there). */

bool virSupGroupInherited(const virSupGroup *g)
{
    return g && g->forkgen != virSupForkGeneration();
}

bool virSupJobInherited(virJobPtr job)
{
    return job->forkgen != virSupForkGeneration();
}

void virSupJobInheritedError(virJobPtr job, const char *func)
{
    virReportError(VIR_ERR_INVALID_JOB, "%s: job %llu belongs to the parent process "
                   "(pid %d): jobs do not cross fork; start it again on a connection "
                   "opened after fork", func, (unsigned long long)job->id, (int)job->owner);
}

void virSupForkKeep(void *ptr)
{
    if (!ptr)
        return;
    pthread_mutex_lock(&sup.lock);
    void **grown = virReallocN(sup.kept, sup.nkept + 1, sizeof(*grown));
    if (grown) {
        sup.kept = grown;
        sup.kept[sup.nkept++] = ptr;
    }
    pthread_mutex_unlock(&sup.lock);
}

/* The descriptors of the parent's job that the child holds copies of:
 * the worker's control socket, its pidfd, what it has not been sent yet.
 * Not the handle's eventfd (closed by virJobDestroy). */
static void jobCloseInherited(virJobPtr job)
{
    virForceClose(&job->ctlfd);
    virForceClose(&job->pidfd);
    virForceClose(&job->statfd);
    virForceClose(&job->paramsfd);
    free(job->spawnmsg);
    job->spawnmsg = NULL;
    for (size_t i = 0; i < VIR_SUP_FDS_MAX; i++)
        virForceClose(&job->resfds[i]);
}

/* In the child, both locks held: set the running supervisor aside. */
static void forkSetAsideLocked(void)
{
    supLeft *left = sup.left;

    for (size_t i = 0; i < sup.nhelpers; i++) {
        supHelper *sh = &sup.helpers[i];
        for (supOut *o = sh->out_head; o; o = o->next) {
            for (size_t k = 0; k < o->nfds; k++)
                close(o->fds[k]);
            o->nfds = 0;
        }
        if (sh->out_tail && left) {
            sh->out_tail->next = left->outs;
            left->outs = sh->out_head;
        }
        sh->out_head = sh->out_tail = NULL;
        sh->out_watch = sh->out_poll = false;
        /* Its ready workers are the parent's. */
        readyDropLocked(sh);
        /* The helper's socket above all: a copy held here would keep the
         * parent's helper from seeing the parent close it. */
        virForceClose(&sh->h.sock);
        virForceClose(&sh->h.pidfd);
        sh->h.pid = 0;
        sh->up = false;
    }
    sup.nhelpers = 0;
    if (sup.groups) {
        virSupGroup *last = sup.groups;
        for (virSupGroup *g = sup.groups; g; g = g->next) {
            for (virJobPtr job = g->jobs; job; job = job->next_in_group)
                jobCloseInherited(job);
            last = g;
        }
        last->next = sup.inh_groups;
        sup.inh_groups = sup.groups;
        sup.groups = NULL;
    }
    virForceClose(&sup.epfd);
    virForceClose(&sup.evfd);
    virForceClose(&sup.tfd);
    if (sup.seg)
        virForceClose(&sup.seg->fd);
    if (left) {
        left->segref = sup.segref;
        left->byslot = sup.byslot;
        left->next = sup.inh_left;
        sup.inh_left = left;
    }
    sup.left = NULL;
    sup.seg = NULL;
    sup.segref = NULL;
    sup.byslot = NULL;
    sup.finish_head = sup.finish_tail = NULL;
    sup.commit_head = sup.commit_tail = NULL;
    sup.ncommit_threads = sup.ncommit_idle = 0;
    sup.running = false;
    sup.stop = false;
    sup.loop_err = 0;
    sup.start_queued = false;
    sup.test_hold_helpers = false;
}

static void forkPrepare(void)
{
    pthread_mutex_lock(&sup.lock);
    pthread_mutex_lock(&poolLock);
    virErrorForkPrepare();
}

static void forkParent(void)
{
    virErrorForkParent();
    pthread_mutex_unlock(&poolLock);
    pthread_mutex_unlock(&sup.lock);
}

/* sup.spawn_cond, on the monotonic clock its timed waits use. */
static void spawnCondInit(void)
{
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(&sup.spawn_cond, &a);
    pthread_condattr_destroy(&a);
}

static void forkChild(void)
{
    atomic_fetch_add_explicit(&forkGen, 1, memory_order_relaxed);
    forkSetAsideLocked();
    /* Held, or waited on, by threads that do not exist here. */
    pthread_mutex_init(&sup.startLock, NULL);
    pthread_cond_init(&sup.cond, NULL);
    spawnCondInit();
    pthread_cond_init(&sup.commit_cond, NULL);
    pthread_cond_init(&sup.test_cond, NULL);
    virErrorForkChild();
    pthread_mutex_unlock(&poolLock);
    pthread_mutex_unlock(&sup.lock);
}

/* Lock order across fork(): the prepare handlers of pthread_atfork run in
 * the reverse order of their installation. These are installed with the
 * first group, after the event loop's (src/event.c, at load time), so the
 * forking thread takes sup.lock, poolLock and the error handler's lock
 * first, and the loop's (leaves) last. */
static void forkInstall(void)
{
    spawnCondInit();
    int r = pthread_atfork(forkPrepare, forkParent, forkChild);
    if (r != 0) /* ENOMEM only; a fork then finds the old behaviour */
        virReportSystemError(r, "%s", "cannot install the library's fork handlers");
}

/* Free what the supervisors of earlier generations left, once no inherited
 * group refers to it. Lock held. */
static void inheritedDropLocked(void)
{
    if (sup.inh_groups)
        return;
    while (sup.inh_left) {
        supLeft *left = sup.inh_left;
        sup.inh_left = left->next;
        while (left->outs) {
            supOut *o = left->outs;
            left->outs = o->next;
            outFree(o);
        }
        free(left->byslot);
        segUnref(left->segref);
        free(left);
    }
}

static void inheritedGroupClose(virSupGroup *g)
{
    pthread_mutex_lock(&sup.lock);
    for (virSupGroup **pp = &sup.inh_groups; *pp; pp = &(*pp)->next) {
        if (*pp == g) {
            *pp = g->next;
            break;
        }
    }
    inheritedDropLocked();
    pthread_mutex_unlock(&sup.lock);
    free(g);
}

void virSupJobForget(virJobPtr job)
{
    atomic_store_explicit(&job->magic, VIR_JOB_DEAD, memory_order_release);
    virSupForkKeep(job->opaque);
    virSupForkKeep(job->result);
    virFreeError(job->error);
    free(job->report);
    jobCloseInherited(job);
    virForceClose(&job->evfd);
    segUnref(job->segref);
    jobRelease(job);
}

/* ---- test hooks ---- */

void virSupTestBreakEventLoop(void)
{
    pthread_mutex_lock(&sup.lock);
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    /* The reaper's current epoll_wait keeps the old instance; its next one
     * gets a descriptor that is not an epoll instance (EINVAL). */
    if (fd >= 0 && sup.epfd >= 0) {
        (void)dup3(fd, sup.epfd, O_CLOEXEC);
        wakeReaper();
    }
    if (fd >= 0)
        close(fd);
    pthread_mutex_unlock(&sup.lock);
}

unsigned int virSupTestCommitThreads(void)
{
    pthread_mutex_lock(&sup.lock);
    unsigned int n = sup.ncommit_threads;
    pthread_mutex_unlock(&sup.lock);
    return n;
}

int virSupTestHeldFDs(void)
{
    int n = 0;
    pthread_mutex_lock(&sup.lock);
    for (size_t i = 0; i < sup.nhelpers; i++)
        for (size_t k = 0; k < sup.helpers[i].nready; k++)
            n += (sup.helpers[i].ready[k].sock >= 0) + (sup.helpers[i].ready[k].pidfd >= 0) +
                 (sup.helpers[i].ready[k].statfd >= 0);
    pthread_mutex_unlock(&sup.lock);
    return n;
}

void virSupTestHoldReaper(bool hold)
{
    pthread_mutex_lock(&sup.lock);
    sup.test_hold_reaper = hold;
    if (!hold)
        pthread_cond_broadcast(&sup.test_cond);
    pthread_mutex_unlock(&sup.lock);
}

void virSupTestHoldHelpers(bool hold)
{
    pthread_mutex_lock(&sup.lock);
    sup.test_hold_helpers = hold;
    if (!hold)
        pthread_cond_broadcast(&sup.test_cond);
    pthread_mutex_unlock(&sup.lock);
}
