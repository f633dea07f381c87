/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-job.h: the worker runtime (worker/job.h) reduced to what a fuzz
 * target needs to run a worker-side function in-process: progress is
 * dropped, a fault is only counted (never acted on: the input chose it),
 * cancellation is never asked, the ending is kept for the target to check.
 */
#pragma once

#include <stdarg.h>

#include "worker/job.h"
#include "util/virerror.h"

enum { FUZZ_JOB_RUNNING, FUZZ_JOB_SUCCESS, FUZZ_JOB_FAILURE };

struct _virWorkerJob {
    int fd;            /* resource 0 */
    int ending;        /* FUZZ_JOB_* */
    int finishes;      /* Finish calls seen: a worker function makes one */
    unsigned int faults;
};

void virWorkerJobInitialize(virWorkerJobPtr job, unsigned int etaSeconds)
{
    (void)job; (void)etaSeconds;
}
void virWorkerJobUpdateRel(virWorkerJobPtr job, int elapsedDelta, int etaDelta, int percentDelta)
{
    (void)job; (void)elapsedDelta; (void)etaDelta; (void)percentDelta;
}
void virWorkerJobUpdateAbs(virWorkerJobPtr job, unsigned int elapsed, unsigned int eta,
                     unsigned int percent)
{
    (void)job; (void)elapsed; (void)eta; (void)percent;
}
void virWorkerJobUpdateBytes(virWorkerJobPtr job, uint64_t done, uint64_t total)
{
    (void)job; (void)done; (void)total;
}
void virWorkerJobSetPhase(virWorkerJobPtr job, const char *phase)
{
    (void)job; (void)phase;
}
bool virWorkerJobCancelRequested(virWorkerJobPtr job)
{
    (void)job;
    return false;
}
bool virWorkerJobFinishCancel(virWorkerJobPtr job)
{
    (void)job;
    return false;
}
int virWorkerJobSetResult(virWorkerJobPtr job, const void *data, size_t len)
{
    (void)job; (void)data;
    return len <= (1u << 20) ? 0 : -1;
}
int virWorkerJobFinishSuccess(virWorkerJobPtr job)
{
    job->ending = FUZZ_JOB_SUCCESS;
    job->finishes++;
    return 0;
}
int virWorkerJobFinishFailure(virWorkerJobPtr job, int code, const char *fmt, ...)
{
    (void)code; (void)fmt;
    job->ending = FUZZ_JOB_FAILURE;
    job->finishes++;
    return 0;
}
int virWorkerJobFinishError(virWorkerJobPtr job)
{
    job->ending = FUZZ_JOB_FAILURE;
    job->finishes++;
    virResetLastError();
    return 0;
}
int virWorkerJobResourceFD(virWorkerJobPtr job, unsigned int i)
{
    return i == 0 ? job->fd : -1;
}
unsigned int virWorkerJobResourceCount(virWorkerJobPtr job)
{
    return job->fd >= 0 ? 1 : 0;
}
int virWorkerJobInjectFault(virWorkerJobPtr job, const char *action)
{
    (void)action;
    job->faults++;
    return 0;
}
const virWorkerOp *virWorkerOpLookup(const char *name)
{
    (void)name;
    return NULL;
}
