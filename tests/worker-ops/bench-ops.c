/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-ops.c: worker ops for the benchmarks of bench/ (test worker only).
 *
 * Each op writes CLOCK_MONOTONIC nanoseconds into its bytes_done counter
 * (virWorkerJobUpdateBytes(job, now, 0)) the moment its code starts running, so
 * the caller can read back when the job code began (the final figures
 * survive the worker's exit) and take the difference to its own clock;
 * bench.stamp also stamps the end of its code into the bytes total.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/virerror.h"
#include "shm/segment.h"
#include "worker/job.h"

static void stampStart(virWorkerJobPtr job)
{
    virWorkerJobUpdateBytes(job, virShmNowMono(), 0);
}

/* Stamp and succeed at once: start latency and jobs per second. The
 * code's end is stamped into the bytes total just before the report, for
 * the latency from there to the caller's virJobWait returning. */
static void opStamp(virWorkerJobPtr job, const void *params, size_t len)
{
    uint64_t start = virShmNowMono();
    (void)params;
    (void)len;
    virWorkerJobUpdateBytes(job, start, 0);
    virWorkerJobUpdateBytes(job, start, virShmNowMono());
    virWorkerJobFinishSuccess(job);
}
VIR_WORKER_OP_REGISTER(opBenchStampDef, "bench.stamp", opStamp);

/* Stamp, then sleep without waking until SIGTERM (cancel), and report
 * CANCELLED: an idle job that costs no CPU while it waits. */
static void opSleep(virWorkerJobPtr job, const void *params, size_t len)
{
    sigset_t term, old;
    (void)params;
    (void)len;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    sigprocmask(SIG_BLOCK, &term, &old);
    stampStart(job);
    while (!virWorkerJobCancelRequested(job)) {
        sigset_t wait = old;
        sigdelset(&wait, SIGTERM);
        sigsuspend(&wait); /* the SIGTERM handler sets the cancel flag */
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    if (!virWorkerJobFinishCancel(job))
        virWorkerJobFinishFailure(job, VIR_ERR_INTERNAL_ERROR, "cancel seen but not finished");
}
VIR_WORKER_OP_REGISTER(opBenchSleepDef, "bench.sleep", opSleep);

/* Stamp, then die of SIGSEGV: crash-detection latency from the stamp.
 * With "after_us=N" the job first sleeps N microseconds and stamps again
 * just before its crash. */
static void opCrash(virWorkerJobPtr job, const void *params, size_t len)
{
    char buf[64];
    size_t l = len < sizeof(buf) - 1 ? len : sizeof(buf) - 1;

    memcpy(buf, params ? params : "", l);
    buf[l] = '\0';
    stampStart(job);
    if (strncmp(buf, "after_us=", 9) == 0) {
        unsigned long us = strtoul(buf + 9, NULL, 10);
        struct timespec ts = { (time_t)(us / 1000000), (long)(us % 1000000) * 1000 };
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
            ;
        stampStart(job);
    }
    virWorkerJobInjectFault(job, "segv");
    virWorkerJobFinishFailure(job, VIR_ERR_INTERNAL_ERROR, "the crash did not happen");
}
VIR_WORKER_OP_REGISTER(opBenchCrashDef, "bench.crash", opCrash);

static double nsPer(uint64_t t0, uint64_t t1, unsigned long n)
{
    return (double)(t1 - t0) / (double)n;
}

/* Time the worker-side progress calls themselves, in the sandboxed worker
 * ("n=COUNT", default 1000000). Result: "bytes=NS rel=NS abs=NS\n". */
static void opProgress(virWorkerJobPtr job, const void *params, size_t len)
{
    char buf[256];
    char out[128];
    unsigned long n = 1000000;
    size_t l = len < sizeof(buf) - 1 ? len : sizeof(buf) - 1;

    memcpy(buf, params ? params : "", l);
    buf[l] = '\0';
    if (strncmp(buf, "n=", 2) == 0)
        n = strtoul(buf + 2, NULL, 10);
    if (n == 0)
        n = 1;
    virWorkerJobInitialize(job, 0);

    double best[3] = { 1e18, 1e18, 1e18 };
    for (int round = 0; round < 3; round++) {
        uint64_t t0 = virShmNowMono();
        for (unsigned long i = 0; i < n; i++)
            virWorkerJobUpdateBytes(job, i, n);
        uint64_t t1 = virShmNowMono();
        for (unsigned long i = 0; i < n; i++)
            virWorkerJobUpdateRel(job, 0, 0, (i & 1) ? 1 : -1);
        uint64_t t2 = virShmNowMono();
        for (unsigned long i = 0; i < n; i++)
            virWorkerJobUpdateAbs(job, 0, 0, (unsigned int)(i & 63));
        uint64_t t3 = virShmNowMono();
        double r[3] = { nsPer(t0, t1, n), nsPer(t1, t2, n), nsPer(t2, t3, n) };
        for (int k = 0; k < 3; k++)
            if (r[k] < best[k])
                best[k] = r[k];
    }
    int m = snprintf(out, sizeof(out), "bytes=%.2f rel=%.2f abs=%.2f\n",
                     best[0], best[1], best[2]);
    virWorkerJobSetResult(job, out, (size_t)m);
    virWorkerJobFinishSuccess(job);
}
VIR_WORKER_OP_REGISTER(opBenchProgressDef, "bench.progress", opProgress);
