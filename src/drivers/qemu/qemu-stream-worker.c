/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qemu-stream-worker.c: the loop every QEMU stream job's worker runs
 * (the dump today): bytes QEMU writes into a pipe this worker owns go to the
 * job's file, while QEMU is followed through its shim: a QMP query polled
 * every few milliseconds (query-dump, query-migrate) and the events it
 * sends (DUMP_COMPLETED, MIGRATION, the shim's own state changes), both
 * handed to the op's callback, which sets the progress and says when QEMU
 * is done. The pipe's reader is this process: closing it is the cancel
 * that always works (QEMU's write fails, the guest resumes), whatever
 * QEMU's own cancel command does or lacks (qemu-facts §3, §5).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "util/internal.h"
#undef VIR_FROM_THIS
#define VIR_FROM_THIS VIR_FROM_QEMU
#include "util/virerror.h"
#include "drivers/qemu/qemu-worker.h"

static uint64_t nowNs(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* A record from the shim: the status it carries, then the op's view. */
static void dispatch(const virShimIncoming *in, void *opaque)
{
    qemuStream *s = opaque;

    if (in->hasStatus && in->status.seq >= s->st.seq)
        s->st = in->status;
    if (in->type != VIR_SHIM_MSG_EVENT)
        return;
    if (s->st.child_state == VIR_SHIM_CHILD_EXITED)
        s->qemuGone = true;
    if (in->kind == VIR_SHIM_EVENT_QMP && s->onQMP && s->qemuDone == 0)
        s->qemuDone = s->onQMP(s, in->name, in);
}

static int drainShim(qemuStream *s);

/* QEMU has gone: say so with what the shim recorded of its end. The
 * monitor closes a moment before the shim has reaped QEMU (a destroy's
 * SIGTERM: QEMU closes it on its way out), so wait a little for that
 * record, which says why. */
static int qemuGone(qemuStream *s)
{
    uint64_t until = nowNs() + (uint64_t)s->monitorTimeoutMs * 1000000ULL;
    char during[64];

    while (s->st.child_state != VIR_SHIM_CHILD_EXITED && nowNs() < until) {
        struct pollfd p = { s->shim, POLLIN, 0 };
        if (poll(&p, 1, 50) > 0 && drainShim(s) < 0)
            break;    /* the shim has closed: no more to learn */
    }
    snprintf(during, sizeof(during), "the %s", s->what);
    return qemuEndReport(&s->st, during);
}

/* Read what the shim sent, without waiting. -1 when it closed. */
static int drainShim(qemuStream *s)
{
    for (;;) {
        int r = virShimRecv(s->shim, 0, s->in);
        if (r == 0)
            return 0;
        if (r < 0) {
            virResetLastError();
            s->qemuGone = true;
            return -1;
        }
        dispatch(s->in, s);
    }
}

/* Ask @query and wait for its answer, the pipe not read meanwhile. Safe
 * for the dump only: dump-guest-memory detach=true writes from a thread of
 * its own and the monitor answers while that thread waits for room in the
 * pipe (qemu-facts §5: a stalled reader, and QMP still answers). A
 * migration (save) may hold the monitor until the pipe has room, so a
 * save moved onto this loop must send without waiting (virShimQMPSend)
 * and take the reply as it drains the pipe, as saveFollow does. */
static int poll1(qemuStream *s)
{
    if (!s->query || s->qemuDone != 0)
        return 0;
    s->in->err = 0;    /* a call that fails before its answer leaves none */
    if (virShimQMP(s->shim, s->query, NULL, NULL, 0, (int)s->monitorTimeoutMs, dispatch, s,
                   s->in) < 0) {
        /* The shim closes its connections once QEMU has ended, and
         * answers that the monitor is closed (ENOTCONN) or the process
         * has exited (ESRCH) while it ends. */
        if (errno == ECONNRESET || errno == EPIPE || s->qemuGone ||
            s->in->err == ENOTCONN || s->in->err == ESRCH ||
            s->st.child_state == VIR_SHIM_CHILD_EXITED) {
            virResetLastError();
            s->qemuGone = true;
            return 0;
        }
        return -1;
    }
    if (s->onQMP && s->qemuDone == 0)
        s->qemuDone = s->onQMP(s, NULL, s->in);
    return 0;
}

int qemuStreamRun(qemuStream *s)
{
    virWorkerIOBucket bucket;
    uint64_t nextQuery = 0, waitUntil = 0, eofAt = 0;
    size_t chunk = virWorkerIOChunkSize(s->maxBps);
    int rc;

    if (!(s->in = malloc(sizeof(*s->in)))) {
        virReportOOMError();
        return -1;
    }
    if (virWorkerIOInit(&s->io, NULL, s->out, s->what, 0, 0) < 0) {
        free(s->in);
        s->in = NULL;
        return -1;
    }
    if (chunk > VIR_WORKER_IO_BUFSIZE)
        chunk = VIR_WORKER_IO_BUFSIZE;
    virWorkerIOBucketInit(&bucket, s->maxBps, chunk, nowNs());
    if (!s->pollMs)
        s->pollMs = 10;
    for (;;) {
        uint64_t now = nowNs();
        bool readable = false, shimReady = false;

        if (virWorkerJobCancelRequested(s->job)) {
            rc = QEMU_STREAM_CANCELLED;
            break;
        }
        if (s->qemuDone < 0) {
            rc = -1;
            break;
        }
        if (s->eof && s->qemuDone > 0) {
            rc = 0;
            break;
        }
        if (s->qemuGone) {
            rc = qemuGone(s);
            break;
        }
        if (s->eof && !eofAt)
            eofAt = now;
        if (eofAt && now - eofAt > (uint64_t)s->monitorTimeoutMs * 1000000ULL) {
            virReportError(VIR_ERR_OPERATION_TIMEOUT, "QEMU closed the %s's stream but did "
                           "not say within %u ms whether it completed", s->what,
                           s->monitorTimeoutMs);
            rc = -1;
            break;
        }
        if (now >= nextQuery) {
            if (poll1(s) < 0) {
                rc = -1;
                break;
            }
            nextQuery = nowNs() + (uint64_t)s->pollMs * 1000000ULL;
            continue;
        }
        /* Wait for data (unless paced), the shim, or the next query. */
        struct pollfd p[2] = { { s->shim, POLLIN, 0 }, { s->pipe, POLLIN, 0 } };
        nfds_t n = (!s->eof && now >= waitUntil) ? 2 : 1;
        uint64_t until = nextQuery;
        if (!s->eof && waitUntil > now && waitUntil < until)
            until = waitUntil;
        int ms = (int)((until - now + 999999) / 1000000);
        if (poll(p, n, ms > 10 ? 10 : ms) < 0 && errno != EINTR) {
            virReportSystemError(errno, "cannot wait for the %s's stream", s->what);
            rc = -1;
            break;
        }
        shimReady = p[0].revents != 0;
        readable = n == 2 && p[1].revents != 0;
        if (shimReady)
            (void)drainShim(s);
        if (!readable)
            continue;
        ssize_t r = read(s->pipe, s->io.buf, chunk);
        if (r < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            virReportSystemError(errno, "cannot read the %s from QEMU", s->what);
            rc = -1;
            break;
        }
        if (r == 0) {
            s->eof = true;
            nextQuery = 0;     /* ask at once how it ended */
            continue;
        }
        if ((rc = virWorkerIOWrite(&s->io, s->io.buf, (size_t)r)) < 0)
            break;
        s->moved += (uint64_t)r;
        uint64_t wait = virWorkerIOBucketTake(&bucket, (uint64_t)r, nowNs());
        waitUntil = wait ? nowNs() + wait : 0;
    }
    return rc;
}

void qemuStreamClear(qemuStream *s)
{
    virWorkerIOFree(&s->io);
    free(s->in);
    s->in = NULL;
}

/* Wait (at most the monitor timeout) until the op's callback says QEMU has
 * finished with the stream, after the pipe was closed on a cancel or a
 * failure: the guest is then running (or paused) as before, not stuck in
 * the middle of writing. */
void qemuStreamWaitDone(qemuStream *s)
{
    uint64_t end = nowNs() + (uint64_t)s->monitorTimeoutMs * 1000000ULL;
    uint64_t nextQuery = 0;
    /* The job ends with the error it had (or none): how QEMU took the
     * closed pipe is not news. */
    virErrorPtr saved = virSaveLastError();

    if (!s->in) {
        virRestoreLastError(&saved);
        return;
    }
    while (s->qemuDone == 0 && !s->qemuGone && nowNs() < end) {
        if (nowNs() >= nextQuery) {
            if (poll1(s) < 0)
                break;
            nextQuery = nowNs() + (uint64_t)s->pollMs * 1000000ULL;
            continue;
        }
        struct pollfd p = { s->shim, POLLIN, 0 };
        if (poll(&p, 1, (int)s->pollMs) > 0)
            (void)drainShim(s);
    }
    virResetLastError();
    virRestoreLastError(&saved);
}
