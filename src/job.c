/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * job.c: the public virJob* calls. Each validates its handle (magic) and
 * arguments, resets the thread's last error, and leaves the work to the
 * supervisor (supervisor/supervisor.c).
 */
#include <stdio.h>

#define VIR_FROM_THIS VIR_FROM_JOB
#include "driverjob.h"
#include "util/viralloc.h"
#include "util/virerror.h"

/* A valid handle of this process (not one a forked child inherited). */
static bool checkJob(virJobPtr job, const char *func)
{
    if (!virSupJobValid(job)) {
        virReportError(VIR_ERR_INVALID_JOB, "%s: invalid job handle (%s)", func,
                       job ? "destroyed or not a job" : "NULL");
        return false;
    }
    if (virSupJobInherited(job)) {
        virSupJobInheritedError(job, func);
        return false;
    }
    return true;
}

VIR_EXPORT int virJobGetInfo(virJobPtr job, virJobInfoPtr info)
{
    virSupJobSnapshot s;

    /* The hot path: no lock and no system call unless there is an error. */
    if (!virSupJobValid(job) || virSupJobInherited(job) || !info) {
        virResetLastError();
        if (checkJob(job, __func__))
            virCheckNonNullArg(info, -1);
        return -1;
    }
    virSupJobSnapshotGet(job, &s, false);
    info->type = s.type;
    info->state = s.state;
    info->runningTime = (unsigned int)(s.elapsed_ms / 1000);
    info->remainingTime = s.state == VIR_JOB_RUNNING ?
                          (unsigned int)((s.remaining_ms + 999) / 1000) : 0;
    info->percentComplete = s.percent;
    return 0;
}

static int addParam(virTypedParameterPtr *params, int *n, int *alloc,
                    const char *field, int type)
{
    if (*n == *alloc) {
        int na = *alloc ? *alloc * 2 : 16;
        virTypedParameterPtr p = virReallocN(*params, (size_t)na, sizeof(*p));
        if (!p)
            return -1;
        *params = p;
        *alloc = na;
    }
    virTypedParameterPtr p = &(*params)[(*n)++];
    memset(p, 0, sizeof(*p));
    virStrcpyTrunc(p->field, sizeof(p->field), field);
    p->type = type;
    return 0;
}

#define ADD(field, T, member, v) \
    do { \
        if (addParam(&params, &n, &alloc, (field), (T)) < 0) \
            goto error; \
        params[n - 1].value.member = (v); \
    } while (0)

VIR_EXPORT int virJobGetStats(virJobPtr job, virTypedParameterPtr *out,
                              int *nout, unsigned int flags)
{
    virTypedParameterPtr params = NULL;
    int n = 0, alloc = 0;
    virSupJobSnapshot s;

    virResetLastError();
    if (!checkJob(job, __func__))
        return -1;
    virCheckNonNullArg(out, -1);
    virCheckNonNullArg(nout, -1);
    virCheckFlags(0, -1);

    virSupJobSnapshotGet(job, &s, true);
    ADD(VIR_JOB_STATS_TYPE, VIR_TYPED_PARAM_INT, i, s.type);
    ADD(VIR_JOB_STATS_STATE, VIR_TYPED_PARAM_INT, i, s.state);
    ADD(VIR_JOB_STATS_TIME_ELAPSED, VIR_TYPED_PARAM_ULLONG, ul, s.elapsed_ms);
    ADD(VIR_JOB_STATS_TIME_REMAINING, VIR_TYPED_PARAM_ULLONG, ul,
        s.state == VIR_JOB_RUNNING ? s.remaining_ms : 0);
    ADD(VIR_JOB_STATS_PERCENT, VIR_TYPED_PARAM_UINT, ui, s.percent);
    ADD(VIR_JOB_STATS_DATA_PROCESSED, VIR_TYPED_PARAM_ULLONG, ul, s.bytes_done);
    ADD(VIR_JOB_STATS_DATA_TOTAL, VIR_TYPED_PARAM_ULLONG, ul, s.bytes_total);
    ADD(VIR_JOB_STATS_DATA_REMAINING, VIR_TYPED_PARAM_ULLONG, ul,
        s.bytes_total > s.bytes_done ? s.bytes_total - s.bytes_done : 0);
    ADD(VIR_JOB_STATS_RATE, VIR_TYPED_PARAM_ULLONG, ul, s.rate_bps);
    ADD(VIR_JOB_STATS_STALLED, VIR_TYPED_PARAM_BOOLEAN, b, s.stalled);
    ADD(VIR_JOB_STATS_CANCEL_REQUESTED, VIR_TYPED_PARAM_BOOLEAN, b, s.cancel_requested);
    ADD(VIR_JOB_STATS_CANCEL_ACKED, VIR_TYPED_PARAM_BOOLEAN, b, s.cancel_acked);
    ADD(VIR_JOB_STATS_WORKER_PID, VIR_TYPED_PARAM_INT, i,
        s.state == VIR_JOB_RUNNING ? (int)s.worker_pid : 0);
    if (addParam(&params, &n, &alloc, VIR_JOB_STATS_PHASE, VIR_TYPED_PARAM_STRING) < 0 ||
        !(params[n - 1].value.s = virStrdup(s.phase)))
        goto error;
    if (addParam(&params, &n, &alloc, VIR_JOB_STATS_OPERATION, VIR_TYPED_PARAM_STRING) < 0 ||
        !(params[n - 1].value.s = virStrdup(virSupJobGetOp(job)->name)))
        goto error;
    *out = params;
    *nout = n;
    return 0;

 error:
    virTypedParamsFree(params, n);
    return -1;
}
#undef ADD

static bool checkEnded(virJobPtr job, const char *what)
{
    virSupJobSnapshot s;

    virSupJobSnapshotGet(job, &s, false);
    if (s.state == VIR_JOB_COMPLETE)
        return true;
    virReportError(VIR_ERR_OPERATION_INVALID, "job %llu has no %s: it %s",
                   (unsigned long long)virSupJobGetID(job), what,
                   s.state == VIR_JOB_RUNNING ? "is still running" :
                   s.state == VIR_JOB_FAILED ? "failed" : "was cancelled");
    return false;
}

/* The object a completed job produced, if it is of @kind; borrowed. */
static void *jobResult(virJobPtr job, int kind, const char *what)
{
    int have = 0;
    void *ref;

    if (!checkEnded(job, what))
        return NULL;
    if (!(ref = virSupJobGetResult(job, &have)) || have != kind) {
        virReportError(VIR_ERR_OPERATION_INVALID,
                       "job %llu (%s) did not produce a %s",
                       (unsigned long long)virSupJobGetID(job),
                       virSupJobGetOp(job)->name, what);
        return NULL;
    }
    return ref;
}

VIR_EXPORT virDomainPtr virJobGetDomain(virJobPtr job)
{
    virDomainPtr dom;

    virResetLastError();
    if (!checkJob(job, __func__) ||
        !(dom = jobResult(job, VIR_DRIVER_RESULT_DOMAIN, "domain")) ||
        virDomainRef(dom) < 0)
        return NULL;
    return dom;
}

VIR_EXPORT virNetworkPtr virJobGetNetwork(virJobPtr job)
{
    virNetworkPtr net;

    virResetLastError();
    if (!checkJob(job, __func__) ||
        !(net = jobResult(job, VIR_DRIVER_RESULT_NETWORK, "network")) ||
        virNetworkRef(net) < 0)
        return NULL;
    return net;
}

VIR_EXPORT virErrorPtr virJobGetError(virJobPtr job)
{
    virResetLastError();
    if (!checkJob(job, __func__))
        return NULL;
    return virSupJobGetError(job);
}

VIR_EXPORT int virJobCancel(virJobPtr job)
{
    virResetLastError();
    if (!checkJob(job, __func__))
        return -1;
    return virSupJobCancel(job);
}

VIR_EXPORT int virJobWait(virJobPtr job, int timeoutMs)
{
    virResetLastError();
    if (!checkJob(job, __func__))
        return -1;
    if (timeoutMs < -1) {
        virReportError(VIR_ERR_INVALID_ARG, "virJobWait: timeout %d ms is invalid "
                       "(use -1 to wait for ever)", timeoutMs);
        return -1;
    }
    return virSupJobWait(job, timeoutMs);
}

VIR_EXPORT int virJobGetFD(virJobPtr job)
{
    virResetLastError();
    if (!checkJob(job, __func__))
        return -1;
    return virSupJobGetFD(job);
}

VIR_EXPORT unsigned long long virJobGetID(virJobPtr job)
{
    virResetLastError();
    if (!checkJob(job, __func__))
        return 0;
    return virSupJobGetID(job);
}

VIR_EXPORT int virJobSetGracePeriod(virJobPtr job, unsigned int ms)
{
    virResetLastError();
    if (!checkJob(job, __func__))
        return -1;
    return virSupJobSetGrace(job, ms);
}

VIR_EXPORT int virJobSetDeadline(virJobPtr job, unsigned int ms)
{
    virResetLastError();
    if (!checkJob(job, __func__))
        return -1;
    return virSupJobSetDeadline(job, ms);
}

VIR_EXPORT int virJobDestroy(virJobPtr job)
{
    virResetLastError();
    /* A job of the parent, in a forked child: its memory goes, nothing
     * else (whatever its state). */
    if (virSupJobValid(job) && virSupJobInherited(job)) {
        virSupJobForget(job);
        return 0;
    }
    if (!checkJob(job, __func__))
        return -1;
    return virSupJobDestroy(job);
}
