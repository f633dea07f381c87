/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qemu-start-worker.c: the worker half of starting a guest. The library
 * has prepared everything with its own authority (the state directory,
 * the files QEMU may use, the command line) and started the guest's shim;
 * this op is handed a connection to that shim and follows the start:
 *
 *   preparing      until the shim has said where the start stands
 *   starting QEMU  forked, set up, exec'd
 *   monitor ready  QMP answered (QEMU waits in -S)
 *   running        `cont` accepted and the run state is "running"
 *
 * A start that fails carries QEMU's own last words (what it wrote to
 * stderr), which the shim recorded. A cancel stops QEMU through the shim.
 * The library checks the outcome itself (the shim's state file) before it
 * calls the guest running: this op only proposes.
 */
#include <signal.h>
#include <stdio.h>
#include <time.h>

#include "util/internal.h"
#undef VIR_FROM_THIS
#define VIR_FROM_THIS VIR_FROM_QEMU
#include "util/virerror.h"
#include "util/virshim.h"
#include "drivers/qemu/qemu-worker.h"

#define START_CANCELLED (-2)
#define POLL_MS 100

typedef struct followState {
    virWorkerJobPtr job;
    virShimStatus st;
    int phase;                /* 0 preparing, 1 starting, 2 monitor ready, 3 running */
} followState;

static void setPhase(followState *f)
{
    static const char *const names[] = { "preparing", "starting QEMU", "monitor ready",
                                         "running" };
    static const unsigned pct[] = { 5, 20, 60, 100 };
    int want = 0;

    if (f->st.child_state >= VIR_SHIM_CHILD_STARTING)
        want = 1;
    if (f->st.qmp_state == VIR_SHIM_QMP_READY)
        want = 2;
    if (want == 2 && STREQ(f->st.runstate, "running"))
        want = 3;
    if (want > f->phase) {
        f->phase = want;
        virWorkerJobSetPhase(f->job, names[want]);
        virWorkerJobUpdateAbs(f->job, 0, 0, pct[want]);
    }
}

static void onEvent(const virShimIncoming *ev, void *opaque)
{
    followState *f = opaque;
    if (ev->hasStatus && ev->status.seq >= f->st.seq)
        f->st = ev->status;
}

/* Stop QEMU on cancel: the shim escalates to SIGKILL after its timeout. */
static int stopOnCancel(int fd, virShimIncoming *in)
{
    uint32_t timeout = 0;
    /* Best effort: if the shim is gone, QEMU went with it. */
    (void)virShimCall(fd, VIR_SHIM_MSG_STOP, &timeout, sizeof(timeout), NULL, 0, 60000,
                      NULL, NULL, in);
    return START_CANCELLED;
}

int qemuStartFollow(virWorkerJobPtr job, int fd, const qemuStartParams *p, bool resume)
{
    virShimIncoming *in = malloc(sizeof(*in));
    followState f = { .job = job };
    bool contSent = false;
    struct timespec contAt = { 0, 0 };
    int rc = -1;

    if (!in) {
        virReportOOMError();
        return -1;
    }
    /* The connection was made before the shim started, subscribed: every
     * change of the start comes as an event, the first one included. */
    virWorkerJobSetPhase(job, "preparing");
    for (;;) {
        setPhase(&f);
        if (f.st.child_state == VIR_SHIM_CHILD_EXITED) {
            rc = qemuEndReport(&f.st, "start-up");
            goto out;
        }
        if (virWorkerJobCancelRequested(job)) {
            rc = stopOnCancel(fd, in);
            goto out;
        }
        if (f.phase == 3 || (!resume && f.phase == 2)) {
            rc = 0;
            goto out;
        }
        if (contSent && f.st.runstate[0] && STRNEQ(f.st.runstate, "prelaunch") &&
            STRNEQ(f.st.runstate, "running")) {
            /* Resumed, then stopped at once: the guest failed as it began. */
            virReportError(VIR_ERR_OPERATION_FAILED, "the guest did not start running: "
                           "QEMU's run state is '%s'", f.st.runstate);
            virErrorPtr saved = virSaveLastError();
            (void)stopOnCancel(fd, in);
            virRestoreLastError(&saved);
            goto out;
        }
        if (f.phase == 2 && !contSent) {
            contSent = true;
            clock_gettime(CLOCK_MONOTONIC, &contAt);
            if (virShimQMP(fd, "cont", NULL, NULL, 0, (int)p->monitorTimeoutMs, onEvent, &f,
                           in) < 0) {
                /* QEMU may have died meanwhile: its own words are better. */
                if (f.st.child_state == VIR_SHIM_CHILD_EXITED)
                    rc = qemuEndReport(&f.st, "start-up");
                goto out;
            }
            continue;
        }
        if (contSent) {
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            long long ms = (now.tv_sec - contAt.tv_sec) * 1000LL +
                           (now.tv_nsec - contAt.tv_nsec) / 1000000;
            if (ms > (long long)p->monitorTimeoutMs * 2) {
                virReportError(VIR_ERR_OPERATION_TIMEOUT, "QEMU accepted 'cont' but did not "
                               "start running within %u ms", p->monitorTimeoutMs * 2);
                virErrorPtr saved = virSaveLastError();
                (void)stopOnCancel(fd, in);
                virRestoreLastError(&saved);
                goto out;
            }
        }
        int r = virShimRecv(fd, POLL_MS, in);
        if (r < 0) {
            /* The shim closes the connection once the end is told. */
            if (f.st.child_state == VIR_SHIM_CHILD_EXITED)
                rc = qemuEndReport(&f.st, "start-up");
            goto out;
        }
        if (r > 0 && in->type == VIR_SHIM_MSG_EVENT)
            onEvent(in, &f);
    }
 out:
    free(in);
    return rc;
}

static void qemuStartRun(virWorkerJobPtr job, const void *params, size_t len)
{
    qemuStartParams p;
    int fd = virWorkerJobFD(job, "shim");
    int rc;

    virWorkerJobInitialize(job, 3);
    if (len != sizeof(p) || fd < 0) {
        virWorkerJobFinishFailure(job, VIR_ERR_INTERNAL_ERROR, "%s", "invalid start parameters");
        return;
    }
    memcpy(&p, params, sizeof(p));
    if (p.magic != QEMU_START_MAGIC || !memchr(p.name, '\0', sizeof(p.name))) {
        virWorkerJobFinishFailure(job, VIR_ERR_INTERNAL_ERROR, "%s", "invalid start parameters");
        return;
    }
    if (!p.monitorTimeoutMs)
        p.monitorTimeoutMs = 30000;
    rc = qemuStartFollow(job, fd, &p, true);
    if (rc == 0)
        virWorkerJobFinishSuccess(job);
    else if (rc == START_CANCELLED && virWorkerJobFinishCancel(job))
        return;
    else if (rc == START_CANCELLED)
        virWorkerJobFinishFailure(job, VIR_ERR_OPERATION_ABORTED, "%s",
                                  "the start stopped on a cancel request that was withdrawn");
    else
        virWorkerJobFinishError(job);
}

VIR_WORKER_OP_REGISTER(qemuStartOp, QEMU_OP_DOMAIN_START, qemuStartRun);
