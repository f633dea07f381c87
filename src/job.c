/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * job.c: the public virJob* calls. Each validates its handle (magic) and
 * arguments, resets the thread's last error, and leaves the work to the
 * supervisor (supervisor/supervisor.c).
 */
#include <stdio.h>

#define VIR_FROM_THIS VIR_FROM_JOB
#include "supervisor/job-priv.h"
#include "util/viralloc.h"
#include "util/virerror.h"

static bool checkJob(virJobPtr job, const char *func)
{
    if (virSupJobValid(job))
        return true;
    virReportError(VIR_ERR_INVALID_JOB, "%s: invalid job handle (%s)", func,
                   job ? "destroyed or not a job" : "NULL");
    return false;
}

VIR_EXPORT int virJobGetInfo(virJobPtr job, virJobInfoPtr info)
{
    virSupJobSnapshot s;

    /* The hot path: no lock and no system call unless there is an error. */
    if (!virSupJobValid(job) || !info) {
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
    ADD(VIR_JOB_STATS_STALLED, VIR_TYPED_PARAM_BOOLEAN, b,
        (s.flags & VIR_SHM_LC_STALLED) != 0);
    ADD(VIR_JOB_STATS_CANCEL_REQUESTED, VIR_TYPED_PARAM_BOOLEAN, b,
        (s.flags & VIR_SHM_LC_CANCEL_REQUESTED) != 0);
    ADD(VIR_JOB_STATS_CANCEL_ACKED, VIR_TYPED_PARAM_BOOLEAN, b,
        (s.flags & VIR_SHM_LC_CANCEL_ACKED) != 0);
    virShmLifecycleData lc;
    int pid = 0;
    if (s.state == VIR_JOB_RUNNING && virShmLifecycleRead(job->lifecycle, &lc) == 0 &&
        lc.job_id == job->id)
        pid = lc.worker_pid;
    ADD(VIR_JOB_STATS_WORKER_PID, VIR_TYPED_PARAM_INT, i, pid);
    if (addParam(&params, &n, &alloc, VIR_JOB_STATS_PHASE, VIR_TYPED_PARAM_STRING) < 0 ||
        !(params[n - 1].value.s = virStrdup(s.phase)))
        goto error;
    if (addParam(&params, &n, &alloc, VIR_JOB_STATS_OPERATION, VIR_TYPED_PARAM_STRING) < 0 ||
        !(params[n - 1].value.s = virStrdup(job->op->name)))
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
    int st = atomic_load_explicit(&job->state, memory_order_acquire);
    if (st == VIR_JOB_COMPLETE)
        return true;
    virReportError(VIR_ERR_OPERATION_INVALID, "job %llu has no %s: it %s",
                   (unsigned long long)job->id, what,
                   st == VIR_JOB_RUNNING ? "is still running" :
                   st == VIR_JOB_FAILED ? "failed" : "was cancelled");
    return false;
}

VIR_EXPORT virDomainPtr virJobGetDomain(virJobPtr job)
{
    virResetLastError();
    if (!checkJob(job, __func__) || !checkEnded(job, "domain"))
        return NULL;
    if (!job->result_domain) {
        virReportError(VIR_ERR_OPERATION_INVALID,
                       "job %llu (%s) did not produce a domain",
                       (unsigned long long)job->id, job->op->name);
        return NULL;
    }
    if (virDomainRef(job->result_domain) < 0)
        return NULL;
    return job->result_domain;
}

VIR_EXPORT virNetworkPtr virJobGetNetwork(virJobPtr job)
{
    virResetLastError();
    if (!checkJob(job, __func__) || !checkEnded(job, "network"))
        return NULL;
    if (!job->result_network) {
        virReportError(VIR_ERR_OPERATION_INVALID,
                       "job %llu (%s) did not produce a network",
                       (unsigned long long)job->id, job->op->name);
        return NULL;
    }
    if (virNetworkRef(job->result_network) < 0)
        return NULL;
    return job->result_network;
}

VIR_EXPORT virErrorPtr virJobGetError(virJobPtr job)
{
    virResetLastError();
    if (!checkJob(job, __func__))
        return NULL;
    if (atomic_load_explicit(&job->state, memory_order_acquire) == VIR_JOB_RUNNING)
        return NULL;
    return job->error;
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
    return job->evfd;
}

VIR_EXPORT unsigned long long virJobGetID(virJobPtr job)
{
    virResetLastError();
    if (!checkJob(job, __func__))
        return 0;
    return job->id;
}

VIR_EXPORT int virJobSetGracePeriod(virJobPtr job, unsigned int ms)
{
    virResetLastError();
    if (!checkJob(job, __func__))
        return -1;
    return virSupJobSetTimes(job, 0, ms);
}

VIR_EXPORT int virJobSetDeadline(virJobPtr job, unsigned int ms)
{
    virResetLastError();
    if (!checkJob(job, __func__))
        return -1;
    return virSupJobSetTimes(job, 1, ms);
}

VIR_EXPORT int virJobDestroy(virJobPtr job)
{
    virResetLastError();
    if (!checkJob(job, __func__))
        return -1;
    return virSupJobDestroy(job);
}
