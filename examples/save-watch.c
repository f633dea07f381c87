/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * save-watch.c: save a domain as a job while watching its progress,
 * restore it, then start a second save and cancel it.
 *
 *   save-watch [URI [IMAGE]]     (defaults: test:///default?bandwidth=64,
 *                                 ./save-watch.img)
 *
 * Uses only the installed header. The job's descriptor goes into poll()
 * with a 200 ms timeout: each timeout prints the progress.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libvirtsup/libvirtsup.h>

static const char *stateName(int state)
{
    switch (state) {
    case VIR_JOB_RUNNING: return "running";
    case VIR_JOB_COMPLETE: return "completed";
    case VIR_JOB_FAILED: return "failed";
    case VIR_JOB_CANCELLED: return "cancelled";
    }
    return "?";
}

static void printProgress(virJobPtr job)
{
    virJobInfo info;
    virTypedParameterPtr params = NULL;
    int nparams = 0;
    unsigned long long done = 0, total = 0, rate = 0;

    if (virJobGetInfo(job, &info) < 0)
        return;
    if (virJobGetStats(job, &params, &nparams, 0) == 0) {
        virTypedParamsGetULLong(params, nparams, VIR_JOB_STATS_DATA_PROCESSED, &done);
        virTypedParamsGetULLong(params, nparams, VIR_JOB_STATS_DATA_TOTAL, &total);
        virTypedParamsGetULLong(params, nparams, VIR_JOB_STATS_RATE, &rate);
        virTypedParamsFree(params, nparams);
    }
    printf("  job %llu: %3u%%  %llu/%llu MiB  %.1f MiB/s  elapsed %us  left ~%us\n",
           virJobGetID(job), info.percentComplete, done >> 20, total >> 20,
           rate / 1048576.0, info.runningTime, info.remainingTime);
}

/* Watch @job until it ends; cancel it once it has made progress if
 * @cancel. Prints how it ended, destroys it, returns its final state. */
static int watch(virJobPtr job, int cancel)
{
    struct pollfd pfd = { .fd = virJobGetFD(job), .events = POLLIN };
    virJobInfo info;
    int state;

    for (;;) {
        int n = poll(&pfd, 1, 200);
        if (n < 0)
            break;
        if (n > 0 && virJobGetInfo(job, &info) == 0 && info.state != VIR_JOB_RUNNING)
            break;
        printProgress(job);
        if (cancel && virJobGetInfo(job, &info) == 0 && info.percentComplete > 0) {
            printf("  cancelling job %llu\n", virJobGetID(job));
            virJobCancel(job);
            cancel = 0;
        }
    }
    virJobWait(job, -1);
    virJobGetInfo(job, &info);
    state = info.state;
    virErrorPtr err = virJobGetError(job);
    printf("job %llu %s%s%s\n", virJobGetID(job), stateName(state),
           err ? ": " : "", err ? err->message : "");
    virJobDestroy(job);
    return state;
}

int main(int argc, char **argv)
{
    const char *uri = argc > 1 ? argv[1] : "test:///default?bandwidth=64";
    const char *image = argc > 2 ? argv[2] : "save-watch.img";
    virConnectPtr conn;
    virDomainPtr dom;
    virJobPtr job;
    int ret = 1;

    if (!(conn = virConnectOpen(uri))) {
        fprintf(stderr, "save-watch: cannot open %s: %s\n", uri, virGetLastErrorMessage());
        return 1;
    }
    if (!(dom = virDomainLookupByName(conn, "test"))) {
        fprintf(stderr, "save-watch: %s\n", virGetLastErrorMessage());
        goto out;
    }

    printf("saving domain '%s' to %s\n", virDomainGetName(dom), image);
    if (!(job = virDomainSaveJob(dom, image)) || watch(job, 0) != VIR_JOB_COMPLETE)
        goto fail;

    printf("restoring from %s\n", image);
    if (!(job = virDomainRestoreJob(conn, image)) || watch(job, 0) != VIR_JOB_COMPLETE)
        goto fail;

    printf("saving again, and cancelling\n");
    if (!(job = virDomainSaveJob(dom, image)))
        goto fail;
    watch(job, 1);
    ret = 0;
    goto out;

 fail:
    if (virGetLastError())
        fprintf(stderr, "save-watch: %s\n", virGetLastErrorMessage());
 out:
    if (dom)
        virDomainFree(dom);
    virConnectClose(conn);
    return ret;
}
