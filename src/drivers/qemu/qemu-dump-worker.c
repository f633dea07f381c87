/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qemu-dump-worker.c: QEMU's ELF core of a guest's memory, written by this
 * worker. QEMU never opens our file: the worker makes a pipe, gives its
 * write end to QEMU through the shim (`getfd`), starts
 * `dump-guest-memory paging=false protocol=fd:NAME detach=true`, and copies
 * what comes out of the pipe into the job's unnamed file (the library
 * names it once the job completed). Progress comes from `query-dump`
 * (bytes of guest memory written out of the total), the end from the
 * DUMP_COMPLETED event and the end of the pipe.
 *
 *   preparing       the pipe, `getfd`
 *   dumping memory  QEMU writes (the guest's vCPUs are stopped meanwhile)
 *   syncing         the file to disk
 *
 * Cancel: QEMU 7.2 has no dump-cancel; the worker closes its end of the
 * pipe, QEMU's next write fails, the dump ends "failed" and the guest
 * resumes (~45 ms). The worker waits for QEMU to say so before the job
 * ends cancelled. If the worker dies, the kernel closes the pipe: the same.
 */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "libvirtsup/libvirtsup.h"
#include "util/internal.h"
#undef VIR_FROM_THIS
#define VIR_FROM_THIS VIR_FROM_QEMU
#include "util/virerror.h"
#include "util/virjsonflat.h"
#include "drivers/qemu/qemu-worker.h"

#define DUMP_FDNAME "virtsup-dump"

/* query-dump's reply and DUMP_COMPLETED: progress, and the end. */
static int dumpQMP(qemuStream *s, const char *name, const virShimIncoming *in)
{
    const char *prefix = "";
    char status[32] = "", path[64];
    uint64_t done = 0, total = 0;

    if (name && STRNEQ(name, "DUMP_COMPLETED"))
        return 0;
    if (name)
        prefix = "result.";
    snprintf(path, sizeof(path), "%sstatus", prefix);
    if (virJSONFlatGet(in->data, in->datalen, path, status, sizeof(status)) < 0)
        return 0;
    snprintf(path, sizeof(path), "%scompleted", prefix);
    (void)virJSONFlatGetU64(in->data, in->datalen, path, &done);
    snprintf(path, sizeof(path), "%stotal", prefix);
    (void)virJSONFlatGetU64(in->data, in->datalen, path, &total);
    if (total)
        virWorkerJobUpdateBytes(s->job, done > total ? total : done, total);
    if (STREQ(status, "completed"))
        return 1;
    if (STREQ(status, "failed")) {
        char why[256] = "";
        if (name)
            (void)virJSONFlatGet(in->data, in->datalen, "error", why, sizeof(why));
        if (why[0])
            virReportError(VIR_ERR_OPERATION_FAILED, "QEMU could not write the core dump: %s",
                           why);
        else
            virReportError(VIR_ERR_OPERATION_FAILED, "%s",
                           "QEMU could not write the core dump (query-dump says failed)");
        return -1;
    }
    return 0;
}

/* The dump of @p's guest through the shim @shim into @out. 0, -1 with the
 * error reported, or QEMU_STREAM_CANCELLED. */
static int dump(virWorkerJobPtr job, int shim, int out, const qemuDumpParams *p)
{
    qemuStream s = {
        .job = job, .shim = shim, .pipe = -1, .out = out, .what = "core dump",
        .query = "query-dump", .pollMs = 10, .monitorTimeoutMs = p->monitorTimeoutMs,
        .maxBps = p->maxBps, .onQMP = dumpQMP,
    };
    virShimIncoming *in = malloc(sizeof(*in));
    int pfd[2] = { -1, -1 }, rc = -1;
    bool started = false;

    if (!in) {
        virReportOOMError();
        return -1;
    }
    virWorkerJobSetPhase(job, "preparing");
    /* Events from now on: DUMP_COMPLETED cannot be missed. */
    if (virShimCall(shim, VIR_SHIM_MSG_SUBSCRIBE, NULL, 0, NULL, 0, (int)p->monitorTimeoutMs,
                    NULL, NULL, in) < 0)
        goto out;
    if (in->err || !in->hasStatus) {
        virReportError(VIR_ERR_OPERATION_FAILED, "the guest's shim refused the dump's "
                       "subscription: %s", in->message);
        goto out;
    }
    s.st = in->status;
    if (s.st.child_state != VIR_SHIM_CHILD_RUNNING || s.st.qmp_state != VIR_SHIM_QMP_READY) {
        virReportError(VIR_ERR_OPERATION_INVALID, "domain '%s' is not running", p->name);
        goto out;
    }
    if (pipe2(pfd, O_CLOEXEC) < 0) {
        virReportSystemError(errno, "%s", "cannot make the dump's pipe");
        goto out;
    }
    /* Larger pipe, fewer wake-ups (best effort: the limit may be lower). */
    (void)fcntl(pfd[0], F_SETPIPE_SZ, 1024 * 1024);
    if (virShimQMP(shim, "getfd", "{\"fdname\": \"" DUMP_FDNAME "\"}", &pfd[1], 1,
                   (int)p->monitorTimeoutMs, NULL, NULL, in) < 0)
        goto out;
    /* QEMU has its copy; ours would keep the pipe open after QEMU closed it. */
    virForceClose(&pfd[1]);
    virWorkerJobSetPhase(job, "dumping memory");
    if (virShimQMP(shim, "dump-guest-memory",
                   "{\"paging\": false, \"protocol\": \"fd:" DUMP_FDNAME "\", "
                   "\"detach\": true}", NULL, 0, (int)p->monitorTimeoutMs, NULL, NULL, in) < 0) {
        virErrorPtr saved = virSaveLastError();
        (void)virShimQMP(shim, "closefd", "{\"fdname\": \"" DUMP_FDNAME "\"}", NULL, 0,
                         (int)p->monitorTimeoutMs, NULL, NULL, in);
        virRestoreLastError(&saved);
        goto out;
    }
    started = true;
    s.pipe = pfd[0];
    rc = qemuStreamRun(&s);
    if (rc == 0) {
        virWorkerJobSetPhase(job, "syncing");
        if (virWorkerIOSync(&s.io) < 0)
            rc = -1;
    }

 out:
    /* Closing our end is what stops QEMU on a cancel or a failure. */
    virForceClose(&pfd[0]);
    virForceClose(&pfd[1]);
    if (started && rc != 0)
        qemuStreamWaitDone(&s);
    qemuStreamClear(&s);
    free(in);
    return rc;
}

static void qemuDumpRun(virWorkerJobPtr job, const void *params, size_t len)
{
    qemuDumpParams p;
    int shim = virWorkerJobFD(job, "shim");
    int out = virWorkerJobFD(job, "output");
    int rc;

    virWorkerJobInitialize(job, 0);
    if (len != sizeof(p) || shim < 0 || out < 0) {
        virWorkerJobFinishFailure(job, VIR_ERR_INTERNAL_ERROR, "%s", "invalid dump parameters");
        return;
    }
    memcpy(&p, params, sizeof(p));
    if (p.magic != QEMU_DUMP_MAGIC || !memchr(p.name, '\0', sizeof(p.name))) {
        virWorkerJobFinishFailure(job, VIR_ERR_INTERNAL_ERROR, "%s", "invalid dump parameters");
        return;
    }
    if (!p.monitorTimeoutMs)
        p.monitorTimeoutMs = 30000;
    rc = dump(job, shim, out, &p);
    if (rc == 0)
        virWorkerJobFinishSuccess(job);
    else if (rc == QEMU_STREAM_CANCELLED && virWorkerJobFinishCancel(job))
        return;
    else if (rc == QEMU_STREAM_CANCELLED)
        virWorkerJobFinishFailure(job, VIR_ERR_OPERATION_ABORTED, "%s",
                                  "the dump stopped on a cancel request that was withdrawn");
    else
        virWorkerJobFinishError(job);
}

VIR_WORKER_OP_REGISTER(qemuDumpOp, QEMU_OP_DOMAIN_DUMP, qemuDumpRun);
