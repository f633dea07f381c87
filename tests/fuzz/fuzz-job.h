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

/* Not the worker runtime's fuzzJob: the target's own record,
 * passed as a virWorkerJobPtr (FJ) and read back (FUZZ). */
typedef struct fuzzJob {
    int fd;            /* resource 0 */
    int ending;        /* FUZZ_JOB_* */
    int finishes;      /* Finish calls seen: a worker function makes one */
    unsigned int faults;
} fuzzJob;
#define FJ(f) ((virWorkerJobPtr)(void *)(f))
#define FUZZ(job) ((fuzzJob *)(void *)(job))

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
    FUZZ(job)->ending = FUZZ_JOB_SUCCESS;
    FUZZ(job)->finishes++;
    return 0;
}
int virWorkerJobFinishFailure(virWorkerJobPtr job, int code, const char *fmt, ...)
{
    (void)code; (void)fmt;
    FUZZ(job)->ending = FUZZ_JOB_FAILURE;
    FUZZ(job)->finishes++;
    return 0;
}
int virWorkerJobFinishError(virWorkerJobPtr job)
{
    FUZZ(job)->ending = FUZZ_JOB_FAILURE;
    FUZZ(job)->finishes++;
    virResetLastError();
    return 0;
}
int virWorkerJobResourceFD(virWorkerJobPtr job, unsigned int i)
{
    return i == 0 ? FUZZ(job)->fd : -1;
}
int virWorkerJobFD(virWorkerJobPtr job, const char *name)
{
    return name && *name ? FUZZ(job)->fd : -1;
}
const char *virWorkerJobResourceName(virWorkerJobPtr job, unsigned int i)
{
    (void)job;
    return i == 0 ? "" : NULL;
}
int virWorkerJobDetach(virWorkerJobPtr job, pid_t pid)
{
    (void)job;
    (void)pid;
    return -1;
}
unsigned int virWorkerJobResourceCount(virWorkerJobPtr job)
{
    return FUZZ(job)->fd >= 0 ? 1 : 0;
}
int virWorkerJobInjectFault(virWorkerJobPtr job, const char *action)
{
    (void)action;
    FUZZ(job)->faults++;
    return 0;
}
const virWorkerOp *virWorkerOpLookup(const char *name)
{
    (void)name;
    return NULL;
}
