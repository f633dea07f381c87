/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * benchjob.h: job helpers shared by the benchmarks that run real jobs
 * (job-bench, idle-bench). Include after util/internal.h and
 * supervisor/supervisor.h.
 */
#pragma once

#include <stdio.h>
#include <stdlib.h>

/* The pid of the job's worker (0 when it has none), from virJobGetStats. */
static inline pid_t benchWorkerPid(virJobPtr job)
{
    virTypedParameterPtr params = NULL;
    int n = 0;
    pid_t pid = 0;
    if (virJobGetStats(job, &params, &n, 0) < 0) {
        fprintf(stderr, "bench: virJobGetStats failed: %s\n", virGetLastErrorMessage());
        exit(1);
    }
    for (int i = 0; i < n; i++)
        if (STREQ(params[i].field, VIR_JOB_STATS_WORKER_PID) &&
            params[i].type == VIR_TYPED_PARAM_INT)
            pid = params[i].value.i;
    virTypedParamsFree(params, n);
    return pid;
}
