/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * driverjob.c: the job helpers every driver shares (see driverjob.h).
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

#include "driverjob.h"
#include "util/viralloc.h"

#define VIR_FROM_THIS VIR_FROM_JOB
#include "util/virerror.h"

/* ---- the guard ---- */

int virDriverJobGuardOpen(virDriverJobGuard *guard, const virSupGroupConfig *cfg)
{
    memset(guard, 0, sizeof(*guard));
    /* Set up first: a late create or a close after a failed open finds a
     * working lock and no group. */
    pthread_mutex_init(&guard->lock, NULL);
    pthread_cond_init(&guard->cond, NULL);
    if (!(guard->group = virSupGroupNew(cfg)))
        return -1;
    return 0;
}

virJobPtr virDriverJobCreate(virDriverJobGuard *guard, const virSupJobParams *params)
{
    virSupGroup *group;
    virJobPtr job;

    pthread_mutex_lock(&guard->lock);
    if ((group = guard->group))
        guard->creating++;
    pthread_mutex_unlock(&guard->lock);
    if (!group) {
        virReportError(VIR_ERR_INVALID_CONN, "%s", "the connection is closing");
        return NULL;
    }
    job = virSupJobCreate(group, params);
    pthread_mutex_lock(&guard->lock);
    if (--guard->creating == 0)
        pthread_cond_broadcast(&guard->cond);
    pthread_mutex_unlock(&guard->lock);
    return job;
}

void virDriverJobGuardClose(virDriverJobGuard *guard)
{
    virSupGroup *group;

    pthread_mutex_lock(&guard->lock);
    group = guard->group;
    guard->group = NULL;
    while (guard->creating)
        pthread_cond_wait(&guard->cond, &guard->lock);
    pthread_mutex_unlock(&guard->lock);
    /* Waits for the group's jobs, their commit and done steps included.
     * The lock and condition stay: a create racing the close (another
     * thread still holding the connection) fails cleanly on them. They
     * hold no resources (default attributes), so nothing is destroyed. */
    if (group)
        virSupGroupClose(group);
}

/* ---- the per-object job slot ---- */

static _Atomic uint64_t lastToken;

static void slotBusyError(const virDriverJobSlot *slot, const char *kind, const char *name)
{
    unsigned long long id = slot->job ? (unsigned long long)virSupJobGetID(slot->job) : 0;
    const char *op = slot->opname ? slot->opname : "a job";

    if (id)
        virReportError(VIR_ERR_OPERATION_INVALID,
                       "%s '%s' already has a job running: job %llu (%s)",
                       kind, name, id, op);
    else
        virReportError(VIR_ERR_OPERATION_INVALID,
                       "%s '%s' already has a job starting (%s)", kind, name, op);
}

int virDriverJobSlotTake(virDriverJobSlot *slot, const char *opname, const char *kind,
                         const char *name, uint64_t *token)
{
    if (slot->token) {
        slotBusyError(slot, kind, name);
        return -1;
    }
    /* Relaxed: the counter only has to give distinct values. */
    slot->token = *token = atomic_fetch_add_explicit(&lastToken, 1, memory_order_relaxed) + 1;
    slot->job = NULL;
    slot->opname = opname;
    return 0;
}

int virDriverJobSlotCheckFree(const virDriverJobSlot *slot, const char *kind,
                              const char *name)
{
    if (!slot->token)
        return 0;
    slotBusyError(slot, kind, name);
    return -1;
}

void virDriverJobSlotSetJob(virDriverJobSlot *slot, uint64_t token, virJobPtr job)
{
    if (token && slot->token == token)
        slot->job = job;
}

bool virDriverJobSlotRelease(virDriverJobSlot *slot, uint64_t token)
{
    if (!token || slot->token != token)
        return false;
    slot->token = 0;
    slot->job = NULL;
    slot->opname = NULL;
    return true;
}

int virDriverJobSlotGetInfo(const virDriverJobSlot *slot, virDomainJobInfoPtr info)
{
    static const int types[] = {
        [VIR_JOB_RUNNING] = VIR_DOMAIN_JOB_BOUNDED,
        [VIR_JOB_COMPLETE] = VIR_DOMAIN_JOB_COMPLETED,
        [VIR_JOB_FAILED] = VIR_DOMAIN_JOB_FAILED,
        [VIR_JOB_CANCELLED] = VIR_DOMAIN_JOB_CANCELLED,
    };
    int state = VIR_JOB_RUNNING;
    uint64_t elapsed = 0, remaining = 0, done = 0, total = 0;

    memset(info, 0, sizeof(*info));
    if (!slot->job) {
        if (slot->token)
            info->type = VIR_DOMAIN_JOB_BOUNDED;   /* starting */
        return 0;
    }
    /* The job is not destroyed before its done step has released the
     * slot, which takes the lock the caller holds. */
    if (virSupJobGetRawStats(slot->job, &state, &elapsed, &remaining, &done, &total) < 0)
        return -1;
    virDriverJobInfoFill(info, state >= 0 && state <= VIR_JOB_CANCELLED ? types[state]
                                                                        : VIR_DOMAIN_JOB_FAILED,
                         elapsed, remaining, done, total);
    return 0;
}

void virDriverJobInfoFill(virDomainJobInfoPtr info, int type, uint64_t elapsed_ms,
                          uint64_t remaining_ms, uint64_t done, uint64_t total)
{
    info->type = type;
    info->timeElapsed = elapsed_ms;
    info->timeRemaining = remaining_ms;
    info->dataTotal = total;
    info->dataProcessed = done;
    info->dataRemaining = total > done ? total - done : 0;
    info->fileTotal = info->dataTotal;
    info->fileProcessed = info->dataProcessed;
    info->fileRemaining = info->dataRemaining;
}

/* The domain job type of a job's state; ended ones are the record's. */
static int statsType(int state)
{
    switch (state) {
    case VIR_JOB_RUNNING: return VIR_DOMAIN_JOB_BOUNDED;
    case VIR_JOB_COMPLETE: return VIR_DOMAIN_JOB_COMPLETED;
    case VIR_JOB_CANCELLED: return VIR_DOMAIN_JOB_CANCELLED;
    default: return VIR_DOMAIN_JOB_FAILED;
    }
}

static void statsFigures(virJobPtr job, int operation, virDriverJobStats *st)
{
    int state = VIR_JOB_RUNNING;

    memset(st, 0, sizeof(*st));
    st->operation = operation;
    st->type = VIR_DOMAIN_JOB_BOUNDED;
    if (virSupJobGetRawStats(job, &state, &st->elapsed_ms, &st->remaining_ms,
                             &st->done, &st->total) < 0)
        return;
    st->rate = st->elapsed_ms ? st->done * 1000 / st->elapsed_ms : 0;
}

int virDriverJobSlotGetStats(const virDriverJobSlot *slot, int operation,
                             virDriverJobStats *stats)
{
    memset(stats, 0, sizeof(*stats));
    stats->type = VIR_DOMAIN_JOB_NONE;
    if (!slot->token)
        return 0;
    stats->operation = operation;
    stats->type = VIR_DOMAIN_JOB_BOUNDED;
    if (!slot->job)
        return 0;                                   /* starting */
    /* As for GetInfo: the job lives while the caller's lock is held. */
    statsFigures(slot->job, operation, stats);
    return 0;
}

void virDriverJobStatsEnded(virJobPtr job, int operation, virJobState state,
                            const virError *error, virDriverJobStats *stats)
{
    statsFigures(job, operation, stats);
    stats->type = statsType(state);
    stats->remaining_ms = 0;
    if (state == VIR_JOB_COMPLETE)
        return;
    virStrcpyTrunc(stats->errmsg, sizeof(stats->errmsg),
                   error && error->message ? error->message :
                   state == VIR_JOB_CANCELLED ? "the job was cancelled" : "the job failed");
}

int virDriverJobStatsRead(const virDriverJobSlot *slot, virDriverJobStats *last,
                          int operation, unsigned int flags, virDriverJobStats *stats)
{
    if (!(flags & VIR_DOMAIN_JOB_STATS_COMPLETED))
        return virDriverJobSlotGetStats(slot, operation, stats);
    *stats = *last;
    if (!(flags & VIR_DOMAIN_JOB_STATS_KEEP_COMPLETED))
        last->type = VIR_DOMAIN_JOB_NONE;
    return 0;
}

int virDriverJobStatsReturn(int rc, const virDriverJobStats *stats, int *type,
                            virTypedParameterPtr *params, int *nparams)
{
    *params = NULL;
    *nparams = 0;
    if (rc < 0)
        return -1;
    *type = stats->type;
    if (stats->type != VIR_DOMAIN_JOB_NONE && virDriverJobStatsParams(stats, params, nparams) < 0)
        return -1;
    return 0;
}

int virDriverJobStatsParams(const virDriverJobStats *st,
                            virTypedParameterPtr *params, int *nparams)
{
    bool running = st->type == VIR_DOMAIN_JOB_BOUNDED || st->type == VIR_DOMAIN_JOB_UNBOUNDED;
    uint64_t left = st->total > st->done ? st->total - st->done : 0;
    virTypedParameterPtr p = NULL;
    int n = 0, max = 0;

    *params = NULL;
    *nparams = 0;
    if (virTypedParamsAddInt(&p, &n, &max, VIR_DOMAIN_JOB_OPERATION, st->operation) < 0 ||
        virTypedParamsAddULLong(&p, &n, &max, VIR_DOMAIN_JOB_TIME_ELAPSED, st->elapsed_ms) < 0 ||
        (running &&
         virTypedParamsAddULLong(&p, &n, &max, VIR_DOMAIN_JOB_TIME_REMAINING,
                                 st->remaining_ms) < 0) ||
        virTypedParamsAddULLong(&p, &n, &max, VIR_DOMAIN_JOB_DATA_TOTAL, st->total) < 0 ||
        virTypedParamsAddULLong(&p, &n, &max, VIR_DOMAIN_JOB_DATA_PROCESSED, st->done) < 0 ||
        virTypedParamsAddULLong(&p, &n, &max, VIR_DOMAIN_JOB_DATA_REMAINING, left) < 0 ||
        virTypedParamsAddULLong(&p, &n, &max, VIR_DOMAIN_JOB_MEMORY_TOTAL, st->total) < 0 ||
        virTypedParamsAddULLong(&p, &n, &max, VIR_DOMAIN_JOB_MEMORY_PROCESSED, st->done) < 0 ||
        virTypedParamsAddULLong(&p, &n, &max, VIR_DOMAIN_JOB_MEMORY_REMAINING, left) < 0 ||
        virTypedParamsAddULLong(&p, &n, &max, VIR_DOMAIN_JOB_MEMORY_BPS, st->rate) < 0 ||
        (!running &&
         virTypedParamsAddBoolean(&p, &n, &max, VIR_DOMAIN_JOB_SUCCESS,
                                  st->type == VIR_DOMAIN_JOB_COMPLETED) < 0) ||
        (!running && st->errmsg[0] &&
         virTypedParamsAddString(&p, &n, &max, VIR_DOMAIN_JOB_ERRMSG, st->errmsg) < 0)) {
        virTypedParamsFree(p, n);
        return -1;
    }
    *params = p;
    *nparams = n;
    return 0;
}

int virDriverJobSlotAbort(const virDriverJobSlot *slot, const char *kind, const char *name)
{
    if (!slot->token) {
        virReportError(VIR_ERR_OPERATION_INVALID, "%s '%s' has no active job", kind, name);
        return -1;
    }
    if (!slot->job) {
        virReportError(VIR_ERR_OPERATION_FAILED,
                       "the job of %s '%s' is still starting: try again", kind, name);
        return -1;
    }
    return virJobCancel(slot->job) < 0 ? -1 : 0;
}

/* ---- files a job writes or reads ---- */

bool virDriverJobOutputNoTmpfile;

void virDriverJobOutputInit(virDriverJobOutput *out)
{
    memset(out, 0, sizeof(*out));
    out->fd = out->dirfd = -1;
}

static char *tempName(const char *base)
{
    uint64_t r = 0;

    if (getrandom(&r, sizeof(r), 0) != sizeof(r)) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        r = (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32);
    }
    return virAsprintf(".%.200s.tmp%016" PRIx64, base, r);
}

int virDriverJobOutputOpen(virDriverJobOutput *out, const char *to, const char *what)
{
    const char *slash = strrchr(to, '/');
    VIR_AUTOFREE(char *) dir = NULL;
    struct stat st;
    const char *base = slash ? slash + 1 : to;

    out->what = what;
    if (!*to) {
        virReportError(VIR_ERR_INVALID_ARG, "the path of the %s is empty", what);
        return -1;
    }
    if (!*base || STREQ(base, ".") || STREQ(base, "..") ||
        (stat(to, &st) == 0 && S_ISDIR(st.st_mode))) {
        virReportError(VIR_ERR_INVALID_ARG,
                       "cannot write the %s to '%s': it is a directory (or a "
                       "symbolic link to one)", what, to);
        return -1;
    }
    if (stat(to, &st) == 0 && !S_ISREG(st.st_mode)) {
        virReportError(VIR_ERR_INVALID_ARG,
                       "cannot write the %s to '%s': it exists and is not a "
                       "regular file", what, to);
        return -1;
    }
    if (!(dir = slash ? virStrndup(to, slash == to ? 1 : (size_t)(slash - to))
                      : virStrdup(".")) ||
        !(out->path = virStrdup(to)) || !(out->base = virStrdup(base))) {
        virReportOOMError();
        return -1;
    }
    if ((out->dirfd = virFDAboveStdio(open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC))) < 0) {
        virReportSystemError(errno, "cannot write the %s to '%s': cannot open "
                             "its directory '%s'", what, to, dir);
        return -1;
    }
    if (virDriverJobOutputNoTmpfile) {
        out->fd = -1;
        errno = EOPNOTSUPP;
    } else {
        out->fd = virFDAboveStdio(openat(out->dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
    }
    if (out->fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
        /* No O_TMPFILE on this file system: a hidden name, removed unless
         * committed. */
        for (int tries = 0; tries < 16 && out->fd < 0; tries++) {
            free(out->tmpname);
            if (!(out->tmpname = tempName(out->base)))
                return -1;
            out->fd = virFDAboveStdio(openat(out->dirfd, out->tmpname,
                                             O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC |
                                             O_NOFOLLOW, 0600));
            if (out->fd < 0 && errno != EEXIST)
                break;
        }
        if (out->fd < 0) {
            free(out->tmpname);
            out->tmpname = NULL;
        }
    }
    if (out->fd < 0) {
        virReportSystemError(errno, "cannot create the %s in directory '%s'",
                             what, dir);
        return -1;
    }
    return 0;
}

int virDriverJobOutputCommit(virDriverJobOutput *out)
{
    char proc[64];
    int rc = -1;

    if (fsync(out->fd) < 0) {
        virReportSystemError(errno, "cannot flush the %s '%s'", out->what, out->path);
        return -1;
    }
    if (!out->tmpname) {
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", out->fd);
        for (int tries = 0; tries < 16; tries++) {
            if (!(out->tmpname = tempName(out->base)))
                return -1;
            rc = linkat(AT_FDCWD, proc, out->dirfd, out->tmpname, AT_SYMLINK_FOLLOW);
            if (rc < 0 && errno == ENOENT)   /* no /proc: needs CAP_DAC_READ_SEARCH */
                rc = linkat(out->fd, "", out->dirfd, out->tmpname, AT_EMPTY_PATH);
            if (rc == 0 || errno != EEXIST)
                break;
            free(out->tmpname);
            out->tmpname = NULL;
        }
        if (rc < 0) {
            virReportSystemError(errno, "cannot link the %s '%s' into place",
                                 out->what, out->path);
            free(out->tmpname);
            out->tmpname = NULL;
            return -1;
        }
    }
    if (renameat(out->dirfd, out->tmpname, out->dirfd, out->base) < 0) {
        virReportSystemError(errno, "cannot rename the %s into '%s'", out->what, out->path);
        return -1;   /* Discard removes tmpname */
    }
    free(out->tmpname);
    out->tmpname = NULL;
    if (fsync(out->dirfd) < 0) {
        virReportSystemError(errno, "cannot flush the directory of '%s'", out->path);
        return -1;
    }
    return 0;
}

void virDriverJobOutputDiscard(virDriverJobOutput *out)
{
    if (out->tmpname && out->dirfd >= 0)
        (void)unlinkat(out->dirfd, out->tmpname, 0);
    free(out->tmpname);
    out->tmpname = NULL;
    virForceClose(&out->fd);
    virForceClose(&out->dirfd);
}

void virDriverJobOutputClear(virDriverJobOutput *out)
{
    virDriverJobOutputDiscard(out);
    free(out->path);
    free(out->base);
    out->path = out->base = NULL;
}

int virDriverJobInputOpen(const char *from, const char *what)
{
    VIR_AUTOCLOSE fd = -1;
    struct stat st;

    if (!*from) {
        virReportError(VIR_ERR_INVALID_ARG, "the path of the %s is empty", what);
        return -1;
    }
    /* O_NONBLOCK: a FIFO named here must not hang the open; refused below. */
    if ((fd = virFDAboveStdio(open(from, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK))) < 0) {
        virReportSystemError(errno, "cannot open the %s '%s'", what, from);
        return -1;
    }
    if (fstat(fd, &st) < 0) {
        virReportSystemError(errno, "cannot stat the %s '%s'", what, from);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        virReportError(VIR_ERR_INVALID_ARG,
                       "cannot read the %s '%s': it is %s, not a regular file",
                       what, from, S_ISDIR(st.st_mode) ? "a directory" : "a special file");
        return -1;
    }
    return VIR_STEAL_FD(fd);
}

/* ---- results ---- */

virDomainPtr virDriverJobResultDomainNew(virConnectPtr conn, const char *name,
                                         const unsigned char *uuid)
{
    virDomainPtr dom = virGetDomain(conn, name, uuid);

    if (!dom)
        virReportOOMError();
    return dom;
}

virNetworkPtr virDriverJobResultNetworkNew(virConnectPtr conn, const char *name,
                                           const unsigned char *uuid)
{
    virNetworkPtr net = virGetNetwork(conn, name, uuid);

    if (!net)
        virReportOOMError();
    return net;
}

static void releaseDomain(void *ref)
{
    virDomainFree(ref);
}

static void releaseNetwork(void *ref)
{
    virNetworkFree(ref);
}

int virDriverJobResultDomainGive(virJobPtr job, virDomainPtr dom)
{
    if (virSupJobSetResult(job, VIR_DRIVER_RESULT_DOMAIN, dom, releaseDomain) < 0) {
        virDriverJobResultDomainDrop(dom);
        return -1;
    }
    return 0;
}

int virDriverJobResultNetworkGive(virJobPtr job, virNetworkPtr net)
{
    if (virSupJobSetResult(job, VIR_DRIVER_RESULT_NETWORK, net, releaseNetwork) < 0) {
        virDriverJobResultNetworkDrop(net);
        return -1;
    }
    return 0;
}

void virDriverJobResultDomainDrop(virDomainPtr dom)
{
    virErrorPtr saved;

    if (!dom)
        return;
    saved = virSaveLastError();
    virDomainFree(dom);
    virRestoreLastError(&saved);
}

void virDriverJobResultNetworkDrop(virNetworkPtr net)
{
    virErrorPtr saved;

    if (!net)
        return;
    saved = virSaveLastError();
    virNetworkFree(net);
    virRestoreLastError(&saved);
}

/* ---- the synchronous calls ---- */

int virDriverJobWaitResult(virJobPtr job, virDomainPtr *dom, virNetworkPtr *net)
{
    virJobInfo info;
    virErrorPtr saved;
    int ret = -1;

    if (!job)
        return -1;
    if (virJobWait(job, -1) != 0 || virJobGetInfo(job, &info) < 0)
        goto cleanup;
    if (info.state == VIR_JOB_COMPLETE) {
        if (dom && !(*dom = virJobGetDomain(job)))
            goto cleanup;
        if (net && !(*net = virJobGetNetwork(job)))
            goto cleanup;
        ret = 0;
    } else {
        virErrorPtr err = virJobGetError(job);
        if (err && err->message)
            virReportErrorFull(err->domain, err->code, err->int1, "%s",
                               err->message);
        else
            virReportError(VIR_ERR_OPERATION_FAILED, "job %llu %s",
                           (unsigned long long)virSupJobGetID(job),
                           info.state == VIR_JOB_CANCELLED ? "was cancelled"
                                                           : "failed");
    }

 cleanup:
    saved = ret < 0 ? virSaveLastError() : NULL;
    virJobDestroy(job);
    if (ret < 0)
        virRestoreLastError(&saved);
    return ret;
}
