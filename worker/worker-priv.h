/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * worker-priv.h: between the worker's main (sandbox set-up) and its job
 * runtime (worker/job.c). Worker process only.
 */
#pragma once

#include "shm/segment.h"
#include "util/workerproto.h"
#include "worker/job.h"

struct _virWorkerJob {
    virShmProgress *page;       /* our own progress page, nothing else mapped */
    virShmProgressData data;    /* what we last published */
    uint64_t job_id;
    uint64_t start_mono_ns;
    int ctlfd;                  /* VIR_WORKER_FD_CONTROL */
    unsigned int nresources;
    /* The resources' names from the op's profile ("" when unnamed). */
    char fdnames[VIR_PROTO_RESOURCES_MAX][VIR_PROTO_FD_NAME_MAX];
    int detachfd;               /* socket to the spawn helper; -1: not allowed */
    virProtoReport report;      /* what we told the supervisor */
    bool ignore_cancel;
    /* virWorkerJobUpdateBytes: the byte counts where the current percent began
     * and where the next one begins, for this total; recomputed (with a
     * division) only when crossed. */
    uint64_t pct_total, pct_from, pct_next;
    void *result;
    size_t result_len;
};

/* Set by the SIGTERM handler; read by virWorkerJobCancelRequested. */
extern volatile sig_atomic_t virWorkerTermFlag;

void virWorkerJobInit(virWorkerJobPtr job, virShmProgress *page, uint64_t job_id,
                      virJobType type, int ctlfd, unsigned int nresources);
/* The profile's part: the resources' names, the detach socket (-1: none). */
void virWorkerJobInitProfile(virWorkerJobPtr job,
                             const char fdnames[][VIR_PROTO_FD_NAME_MAX],
                             int detachfd);
/* The exit code that matches what the job reported. */
int virWorkerJobExitCode(virWorkerJobPtr job);
/* Send a failure report before the op runs (set-up, unknown op). */
void virWorkerReportEarly(int ctlfd, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
