/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qemu-image-worker.c: the worker halves of saving and restoring a guest.
 * QEMU never touches our files: it migrates into a pipe this worker
 * reads (save) or loads from a pipe this worker feeds (restore); the
 * worker owns the pipe, so it owns the job's pace, its progress and its
 * cancel (closing its end is the stop QEMU cannot ignore).
 *
 * save:    stop the guest, raise QEMU's max-bandwidth, getfd + migrate to
 *          fd:, read the stream in chunks, write each with its checksum
 *          into the image (paced by the connection's bandwidth cap),
 *          progress from query-migrate; then the END record, the final
 *          header, fdatasync. Cancel or failure: the pipe closed,
 *          migrate_cancel, `cont` if the guest ran, then wait for QEMU to
 *          give up.
 * restore: started before the guest: a reader thread reads the image
 *          record by record into a ring of slots and verifies each
 *          before QEMU can see a byte of it; the first verified records
 *          go into the pipe at once (QEMU reads them first); then the
 *          library hands over the connection to the shim, which started
 *          QEMU with -incoming defer (the reader reads ahead meanwhile);
 *          wait for its monitor, getfd + migrate-incoming fd:, then feed
 *          the verified slots in order (vmsplice: QEMU's read is the only
 *          copy); then wait for the load to complete and `cont` if the
 *          guest ran when it was saved. Anything wrong stops the feed: the
 *          job fails naming the offset, and the library stops QEMU.
 *
 * The image format: qemu-proto.h and docs/QEMU-DRIVER.md.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>

#include "util/internal.h"
#undef VIR_FROM_THIS
#define VIR_FROM_THIS VIR_FROM_QEMU
#include "util/virerror.h"
#include "util/virjsonflat.h"
#include "util/virpoll.h"
#include "util/virshim.h"
#include "drivers/qemu/qemu-worker.h"
#include "worker/jobio.h"

#define IMG_CANCELLED VIR_WORKER_IO_CANCELLED
#define QUERY_MS 10        /* query-migrate while saving: QEMU's figures change this often */
#define FD_NAME_SAVE "virtsup-save"
#define FD_NAME_RESTORE "virtsup-restore"

/* The migration's status ("active", ...) and figures. 0, or -1 reported. */
static int migrateStatus(int shim, unsigned int timeoutMs, virShimIncoming *in, char *status,
                         size_t len, uint64_t *total, uint64_t *remaining, char *why,
                         size_t whylen)
{
    if (virShimQMP(shim, "query-migrate", NULL, NULL, 0, (int)timeoutMs, NULL, NULL, in) < 0)
        return -1;
    status[0] = '\0';
    (void)virJSONFlatGet(in->data, in->datalen, "status", status, len);
    if (total && virJSONFlatGetU64(in->data, in->datalen, "ram.total", total) < 0)
        *total = 0;
    if (remaining && virJSONFlatGetU64(in->data, in->datalen, "ram.remaining", remaining) < 0)
        *remaining = 0;
    if (why) {
        why[0] = '\0';
        (void)virJSONFlatGet(in->data, in->datalen, "error-desc", why, whylen);
    }
    return 0;
}

/* ===================================================================== save */

typedef struct saveCtx {
    virWorkerJobPtr job;
    int shim, pipe, qemu, out;
    qemuSaveParams p;
    const char *xml;
    virShimIncoming *in;
    virWorkerIO io;
    uint8_t *buf;             /* a record header, then up to QEMU_IMAGE_CHUNK bytes */
    size_t fill;
    bool wasRunning, stopped, migrating;
    bool qemuFigures;         /* query-migrate has given figures: progress is QEMU's */
    qemuImageHeader hdr;
    uint64_t chunks, streamBytes;
    uint64_t shown, shownTotal;   /* the progress last reported */
} saveCtx;

/* Report @done of @total, never going back. */
static void saveShow(saveCtx *c, uint64_t done, uint64_t total)
{
    if (done < c->shown)
        done = c->shown;
    if (done > total)
        done = total;
    c->shown = done;
    c->shownTotal = total;
    virWorkerJobUpdateBytes(c->job, done, total);
}

static int writeChunk(saveCtx *c)
{
    qemuImageChunk rec = {
        .type = QEMU_CHUNK_DATA, .len = (uint32_t)c->fill,
        .hash = qemuHash64(c->buf + sizeof(rec), c->fill, c->hdr.seed + c->chunks),
    };
    if (!c->fill)
        return 0;
    memcpy(c->buf, &rec, sizeof(rec));
    int rc = virWorkerIOWrite(&c->io, c->buf, sizeof(rec) + c->fill);
    if (rc < 0)
        return rc;
    c->chunks++;
    c->streamBytes += c->fill;
    c->fill = 0;
    return 0;
}

/* Give up the migration and leave the guest as it was: close our end (a
 * QEMU blocked writing a full pipe cannot see a cancel otherwise), cancel,
 * resume a guest that ran, then wait until QEMU says the migration
 * stopped. Keeps this thread's error.
 *
 * The guest is resumed first: a `cont` is safe while the migration winds
 * down (QEMU refuses it only in finish-migrate, which
 * qemuResumeAfterMigration waits out; a migration that still reaches its
 * last stage after the `cont` stops the guest and, failing, starts it
 * again), and each round trip before it is time the guest stays paused. */
static void saveAbort(saveCtx *c)
{
    virErrorPtr saved = virSaveLastError();
    bool quiet = virErrorSetQuiet(true);
    char status[32] = "";

    /* Our end first: QEMU may be blocked writing into a full pipe, holding
     * its monitor; the closed pipe fails its write at once. */
    virForceClose(&c->pipe);
    if (c->migrating)
        (void)virShimQMP(c->shim, "migrate_cancel", NULL, NULL, 0, (int)c->p.monitorTimeoutMs,
                         NULL, NULL, c->in);
    /* Most often the guest can run again at once: one `cont`. Refused (the
     * migration's last stage still holds it), the careful way. */
    if (c->stopped && c->wasRunning &&
        virShimQMP(c->shim, "cont", NULL, NULL, 0, (int)c->p.monitorTimeoutMs, NULL, NULL,
                   c->in) < 0)
        (void)qemuResumeAfterMigration(c->shim, c->p.monitorTimeoutMs, c->in);
    if (c->migrating) {
        long long until = virTimeMonoMs() + c->p.monitorTimeoutMs;
        while (virTimeMonoMs() < until) {
            if (migrateStatus(c->shim, c->p.monitorTimeoutMs, c->in, status, sizeof(status),
                              NULL, NULL, NULL, 0) < 0 || qemuMigrationOver(status))
                break;
            (void)poll(NULL, 0, 2);
        }
    }
    virResetLastError();
    virErrorSetQuiet(quiet);
    virRestoreLastError(&saved);
}

/* The answer to a query-migrate: progress, and whether it is over. Returns
 * 1 completed, 0 going on, -1 failed (reported). */
static int saveProgress(saveCtx *c)
{
    char status[32] = "", why[256] = "";
    uint64_t total = 0, remaining = 0;

    if (virShimQMPResult(c->in, "query-migrate", (int)c->p.monitorTimeoutMs) < 0)
        return -1;
    (void)virJSONFlatGet(c->in->data, c->in->datalen, "status", status, sizeof(status));
    (void)virJSONFlatGet(c->in->data, c->in->datalen, "error-desc", why, sizeof(why));
    if (virJSONFlatGetU64(c->in->data, c->in->datalen, "ram.total", &total) == 0 && total &&
        virJSONFlatGetU64(c->in->data, c->in->datalen, "ram.remaining", &remaining) == 0 &&
        remaining < total) {
        c->qemuFigures = true;
        saveShow(c, total - remaining, total);
    }
    if (STREQ(status, "failed")) {
        virReportError(VIR_ERR_OPERATION_FAILED, "QEMU's migration into the save image "
                       "failed: %s", why[0] ? why : "no reason given");
        return -1;
    }
    if (STREQ(status, "cancelled")) {
        virReportError(VIR_ERR_OPERATION_FAILED, "%s", "QEMU's migration into the save image "
                       "was cancelled by someone else");
        return -1;
    }
    return STREQ(status, "completed") ? 1 : 0;
}

/* The monitor connection failed while QEMU streamed: QEMU has most likely
 * ended (the shim closes it then). Says so, with the connection's error. */
static int saveMonitorLost(void)
{
    char why[512];
    virStrcpyTrunc(why, sizeof(why), virGetLastErrorMessage());
    virResetLastError();
    virReportError(VIR_ERR_OPERATION_FAILED, "QEMU ended during the save (its monitor is "
                   "gone: %s)", why);
    return -1;
}

/* Read the stream until QEMU closes it and says the migration completed.
 * The monitor is asked without waiting for its answer: while QEMU writes
 * the last part of the stream it may hold its monitor until the pipe has
 * room, so the pipe is read whatever the monitor does. */
static int saveFollow(saveCtx *c)
{
    long long nextQuery = virTimeMonoMs(), askedAt = 0;
    uint64_t pending = 0;
    bool eof = false, completed = false;

    for (;;) {
        if (virWorkerJobCancelRequested(c->job))
            return IMG_CANCELLED;
        if (eof && completed)
            return 0;
        if (!pending && virTimeMonoMs() >= nextQuery) {
            if (virShimQMPSend(c->shim, "query-migrate", NULL, (int)c->p.monitorTimeoutMs,
                               &pending) < 0)
                return saveMonitorLost();
            askedAt = virTimeMonoMs();
        }
        if (pending && virTimeMonoMs() - askedAt > (long long)c->p.monitorTimeoutMs + 1000) {
            virReportError(VIR_ERR_OPERATION_TIMEOUT, "QEMU's monitor did not answer "
                           "'query-migrate' within %u ms", c->p.monitorTimeoutMs);
            return -1;
        }
        struct pollfd pf[2] = { { eof ? -1 : c->pipe, POLLIN, 0 }, { c->shim, POLLIN, 0 } };
        long long wait = pending ? 50 : nextQuery - virTimeMonoMs();
        int r = poll(pf, 2, wait > 0 ? (int)wait : 0);
        if (r < 0 && errno != EINTR) {
            virReportSystemError(errno, "%s", "cannot wait for QEMU's migration stream");
            return -1;
        }
        if (r <= 0)
            continue;
        if (pf[0].revents) {
            ssize_t n = read(c->pipe, c->buf + sizeof(qemuImageChunk) + c->fill,
                             QEMU_IMAGE_CHUNK - c->fill);
            if (n < 0 && errno != EAGAIN && errno != EINTR) {
                virReportSystemError(errno, "%s", "cannot read QEMU's migration stream");
                return -1;
            }
            if (n == 0)
                eof = true;   /* QEMU closed it: completed, failed or cancelled */
            if (n > 0) {
                c->fill += (size_t)n;
                /* Until QEMU's own figures come (its first ones lag the
                 * stream by up to 15 ms): the bytes of its stream so far
                 * (about the memory it went through; zero pages take a
                 * few bytes), short of the total. */
                uint64_t got = c->streamBytes + c->fill;
                if (!c->qemuFigures && c->shownTotal)
                    saveShow(c, got < c->shownTotal ? got : c->shownTotal - 1, c->shownTotal);
            }
            /* A cancel that came while we read: not one more checksum
             * and write (about a millisecond for a full record) before
             * the guest can be given back. */
            if (virWorkerJobCancelRequested(c->job))
                return IMG_CANCELLED;
            if (c->fill == QEMU_IMAGE_CHUNK || (eof && c->fill)) {
                int rc = writeChunk(c);
                if (rc < 0)
                    return rc;
            }
            if (eof)
                nextQuery = virTimeMonoMs();   /* ask at once how it ended */
        }
        if (pf[1].revents) {
            int got = virShimRecv(c->shim, 0, c->in);
            if (got < 0)
                return saveMonitorLost();
            if (got > 0 && c->in->type == VIR_SHIM_MSG_REPLY && c->in->id == pending) {
                pending = 0;
                int st = saveProgress(c);
                if (st < 0)
                    return -1;
                completed = st == 1;
                nextQuery = virTimeMonoMs() + (eof ? 2 : QUERY_MS);
            }
        }
    }
}

static int saveRun(saveCtx *c)
{
    char args[128];
    bool running = false;
    int rc;

    virWorkerJobSetPhase(c->job, "preparing");
    c->shownTotal = c->p.memoryBytes;
    virWorkerJobUpdateBytes(c->job, 0, c->p.memoryBytes);
    if (virShimQMP(c->shim, "query-status", NULL, NULL, 0, (int)c->p.monitorTimeoutMs, NULL,
                   NULL, c->in) < 0)
        return -1;
    (void)virJSONFlatGetBool(c->in->data, c->in->datalen, "running", &running);
    c->wasRunning = running;
    /* Saved paused, as libvirt does: one consistent pass, no dirty pages. */
    if (running) {
        if (virShimQMP(c->shim, "stop", NULL, NULL, 0, (int)c->p.monitorTimeoutMs, NULL, NULL,
                       c->in) < 0)
            return -1;
        c->stopped = true;
    }
    /* QEMU's own default cap (128 MiB/s) would make it the bottleneck; the
     * connection's cap is applied by our writes (QEMU follows the reader). */
    snprintf(args, sizeof(args), "{\"max-bandwidth\":%llu}", 1ULL << 40);
    if (virShimQMP(c->shim, "migrate-set-parameters", args, NULL, 0, (int)c->p.monitorTimeoutMs,
                   NULL, NULL, c->in) < 0)
        return -1;
    snprintf(args, sizeof(args), "{\"fdname\":\"%s\"}", FD_NAME_SAVE);
    if (virShimQMP(c->shim, "getfd", args, &c->qemu, 1, (int)c->p.monitorTimeoutMs, NULL, NULL,
                   c->in) < 0)
        return -1;
    virForceClose(&c->qemu);   /* QEMU holds the write end now: EOF when it closes it */

    memcpy(c->hdr.magic, QEMU_IMAGE_MAGIC, sizeof(c->hdr.magic));
    c->hdr.version = QEMU_IMAGE_VERSION;
    c->hdr.xmlLen = c->p.xmlLen;
    c->hdr.headerLen = (uint32_t)((sizeof(c->hdr) + c->p.xmlLen + QEMU_IMAGE_ALIGN - 1) /
                                  QEMU_IMAGE_ALIGN * QEMU_IMAGE_ALIGN);
    c->hdr.chunkMax = QEMU_IMAGE_CHUNK;
    c->hdr.memoryBytes = c->p.memoryBytes;
    memcpy(c->hdr.uuid, c->p.uuid, 16);
    memcpy(c->hdr.name, c->p.name, sizeof(c->hdr.name));
    c->hdr.wasRunning = c->wasRunning;
    if (getrandom(&c->hdr.seed, sizeof(c->hdr.seed), 0) != (ssize_t)sizeof(c->hdr.seed)) {
        virReportSystemError(errno, "%s", "cannot get random bytes for the image");
        return -1;
    }
    c->hdr.hash = qemuImageHeaderHash(&c->hdr, c->xml);
    {
        /* The header as it stands (incomplete), the XML, the padding. */
        uint8_t *head = calloc(1, c->hdr.headerLen);
        if (!head) {
            virReportOOMError();
            return -1;
        }
        memcpy(head, &c->hdr, sizeof(c->hdr));
        memcpy(head + sizeof(c->hdr), c->xml, c->p.xmlLen);
        rc = virWorkerIOWrite(&c->io, head, c->hdr.headerLen);
        free(head);
        if (rc < 0)
            return rc;
    }

    snprintf(args, sizeof(args), "{\"uri\":\"fd:%s\"}", FD_NAME_SAVE);
    if (virShimQMP(c->shim, "migrate", args, NULL, 0, (int)c->p.monitorTimeoutMs, NULL, NULL,
                   c->in) < 0)
        return -1;
    c->migrating = true;
    virWorkerJobSetPhase(c->job, "saving memory");
    if ((rc = saveFollow(c)) < 0)
        return rc;

    virWorkerJobSetPhase(c->job, "syncing");
    qemuImageChunk end = { .type = QEMU_CHUNK_END };
    uint64_t totals[2] = { c->streamBytes, c->chunks };
    end.hash = qemuHash64(totals, sizeof(totals), c->hdr.seed + c->chunks);
    if ((rc = virWorkerIOWrite(&c->io, &end, sizeof(end))) < 0)
        return rc;
    c->hdr.streamBytes = c->streamBytes;
    c->hdr.chunks = c->chunks;
    c->hdr.complete = 1;
    c->hdr.hash = qemuImageHeaderHash(&c->hdr, c->xml);
    if (virWorkerIOPwrite(&c->io, &c->hdr, sizeof(c->hdr), 0) < 0 || virWorkerIOSync(&c->io) < 0)
        return -1;
    return 0;
}

static void qemuSaveOpRun(virWorkerJobPtr job, const void *params, size_t len)
{
    saveCtx c = { .job = job, .pipe = -1, .qemu = -1 };
    int rc = -1;

    virWorkerJobInitialize(job, 0);
    signal(SIGPIPE, SIG_IGN);
    if (len < sizeof(c.p)) {
        virWorkerJobFinishFailure(job, VIR_ERR_INTERNAL_ERROR, "%s", "invalid save parameters");
        return;
    }
    memcpy(&c.p, params, sizeof(c.p));
    c.xml = (const char *)params + sizeof(c.p);
    c.shim = virWorkerJobFD(job, "shim");
    c.pipe = virWorkerJobFD(job, "pipe");
    c.qemu = virWorkerJobFD(job, "qemu");
    c.out = virWorkerJobFD(job, "output");
    if (c.p.magic != QEMU_SAVE_MAGIC || len != sizeof(c.p) + c.p.xmlLen || !c.p.xmlLen ||
        c.p.xmlLen > QEMU_XML_MAX || !memchr(c.p.name, '\0', sizeof(c.p.name)) ||
        c.shim < 0 || c.pipe < 0 || c.qemu < 0 || c.out < 0) {
        virWorkerJobFinishFailure(job, VIR_ERR_INTERNAL_ERROR, "%s", "invalid save parameters");
        return;
    }
    if (!c.p.monitorTimeoutMs)
        c.p.monitorTimeoutMs = 30000;
    /* The pace is the connection's cap; progress and cancel are ours. */
    if (!(c.in = malloc(sizeof(*c.in))) || !(c.buf = malloc(sizeof(qemuImageChunk) + QEMU_IMAGE_CHUNK))) {
        virReportOOMError();
    } else if (virWorkerIOInit(&c.io, NULL, c.out, "save image", 0, c.p.bandwidthBps) == 0) {
        /* QEMU's stream comes slower than the disk takes it: flushes beside
         * it leave the final sync little to wait for. */
        c.io.flush_behind = true;
        (void)fcntl(c.pipe, F_SETFL, fcntl(c.pipe, F_GETFL) | O_NONBLOCK);
        rc = saveRun(&c);
    }
    if (rc == 0) {
        qemuSaveResult res = { QEMU_SAVE_MAGIC, c.wasRunning, c.streamBytes,
                               qemuImageBytes(&c.hdr) };
        virWorkerJobUpdateBytes(job, c.p.memoryBytes, c.p.memoryBytes);
        if (virWorkerJobSetResult(job, &res, sizeof(res)) == 0)
            virWorkerJobFinishSuccess(job);
        else
            virWorkerJobFinishError(job);
    } else {
        saveAbort(&c);
        if (rc == IMG_CANCELLED && virWorkerJobFinishCancel(job))
            ;
        else if (rc == IMG_CANCELLED)
            virWorkerJobFinishFailure(job, VIR_ERR_OPERATION_ABORTED, "%s",
                                      "the save stopped on a cancel request that was withdrawn");
        else
            virWorkerJobFinishError(job);
    }
    virWorkerIOFree(&c.io);
    free(c.buf);
    free(c.in);
}

VIR_WORKER_OP_REGISTER(qemuSaveOp, QEMU_OP_DOMAIN_SAVE, qemuSaveOpRun);

/* ================================================================== restore */

/* Records read and verified ahead of the feed: the ring's slots, each a
 * record's payload (page-aligned, so each page of it is one pipe buffer).
 * FEED_SLOTS x 1 MiB of the worker's memory while it restores. */
#define FEED_SLOTS 16

typedef struct feedSlot {
    uint8_t *data;            /* QEMU_IMAGE_CHUNK bytes of the ring */
    uint32_t len;             /* the payload's bytes */
    uint64_t recOffset;       /* the image offset of its record */
    uint64_t pipeEnd;         /* the pipe's byte count after its last byte went in */
    bool copied;              /* fed with write(): the pipe holds copies, not its pages */
} feedSlot;

/* Records at least this long go in by reference (vmsplice); shorter ones
 * (an image's last record) are copied (write): a slot of a few bytes
 * would otherwise stay held until a whole pipe's worth came after it. */
#define FEED_SPLICE_MIN (QEMU_IMAGE_CHUNK / 4)
#define FEED_NAP_NS 150000   /* after the pipe filled up: see restoreFeedAll */

typedef struct restoreCtx {
    virWorkerJobPtr job;
    int shim, image, pipe, qemu;
    qemuRestoreParams p;
    virShimIncoming *in;
    virWorkerIO io;           /* the reader's, once it runs */
    virShimStatus st;         /* the shim's last status (events) */
    uint64_t imageBytes, fed;
    /* The reader's own (its thread, once started): */
    uint64_t next, offset;    /* the next record to read, and its offset */
    /* The feed's (the job's thread): */
    uint64_t recOffset;       /* the offset of the record being fed */
    size_t have, sent;        /* its bytes, and how many are fed */
    uint64_t pipeBytes;       /* bytes put into the pipe so far */
    size_t pipeCap;           /* the largest capacity the pipe was seen with */
    /* The ring (mapped, never handed to malloc: see feedRelease). */
    uint8_t *ring;
    size_t ringLen;
    feedSlot slot[FEED_SLOTS];
    int wake;                 /* eventfd: the reader published something */
    pthread_t reader;
    bool readerRuns;
    /* Under lock: */
    pthread_mutex_t lock;
    pthread_cond_t room;      /* a slot was released, or stop */
    uint64_t readN;           /* slots verified and published (total) */
    uint64_t fedN;            /* of them, wholly in the pipe */
    uint64_t freeN;           /* of them, released: the pipe holds none of their pages */
    bool readEnd;             /* the END record was read and checked */
    bool stop;                /* the reader is to stop */
    int readRc;               /* the reader failed: -1 or IMG_CANCELLED, its error in readErr */
    virErrorPtr readErr;
} restoreCtx;

static void restoreEvent(const virShimIncoming *ev, void *opaque)
{
    restoreCtx *c = opaque;
    if (ev->hasStatus && ev->status.seq >= c->st.seq)
        c->st = ev->status;
}

/* Take what the shim has sent (events), without waiting longer than
 * @timeoutMs. */
static void drainEvents(restoreCtx *c, int timeoutMs)
{
    bool quiet = virErrorSetQuiet(true);
    int r;
    while ((r = virShimRecv(c->shim, timeoutMs, c->in)) > 0) {
        if (c->in->type == VIR_SHIM_MSG_EVENT)
            restoreEvent(c->in, c);
        timeoutMs = 0;
    }
    virResetLastError();
    virErrorSetQuiet(quiet);
}

static bool qemuExited(const restoreCtx *c)
{
    return c->st.child_state == VIR_SHIM_CHILD_EXITED;
}

/* QEMU stopped reading or exited: wait a moment for its last words (the
 * shim records them), then report them. */
static int qemuRefused(restoreCtx *c)
{
    long long until = virTimeMonoMs() + c->p.monitorTimeoutMs;
    while (!qemuExited(c) && virTimeMonoMs() < until)
        drainEvents(c, 50);
    if (qemuExited(c) && c->st.exit_reason == VIR_SHIM_EXIT_KILLED)
        virReportError(VIR_ERR_OPERATION_FAILED, "QEMU was killed by signal %d while it loaded "
                       "the save image (at offset %" PRIu64 ")", c->st.exit_status,
                       c->p.header.headerLen + c->fed);
    else if (qemuExited(c) && c->st.message[0])
        virReportError(VIR_ERR_OPERATION_FAILED, "QEMU stopped loading the save image at "
                       "offset %" PRIu64 ": %s", c->p.header.headerLen + c->fed, c->st.message);
    else
        virReportError(VIR_ERR_OPERATION_FAILED, "QEMU stopped loading the save image at "
                       "offset %" PRIu64 "%s", c->p.header.headerLen + c->fed,
                       qemuExited(c) ? " and exited without saying why" : "");
    return -1;
}

static int corrupt(restoreCtx *c, uint64_t offset, uint64_t index, const char *why)
{
    virReportError(VIR_ERR_OPERATION_FAILED, "the save image '%s' is corrupt at offset %"
                   PRIu64 " (record %" PRIu64 " of %" PRIu64 "): %s; the restore was stopped "
                   "before QEMU loaded that record", c->p.path, offset, index,
                   c->p.header.chunks, why);
    return -1;
}

/* Read exactly @len bytes of the image (fewer only if it was truncated
 * since it was checked). */
static int readExact(restoreCtx *c, void *buf, size_t len, uint64_t offset, uint64_t index)
{
    size_t got = 0;
    int rc = virWorkerIORead(&c->io, buf, len, &got);
    if (rc < 0)
        return rc;
    if (got != len)
        return corrupt(c, offset, index, "it ends there (truncated since the restore began)");
    return 0;
}

/* What is fed so far: the progress (bytes of the image), and c->fed. */
static void restoreShow(restoreCtx *c)
{
    uint64_t at = c->recOffset + (c->have ? sizeof(qemuImageChunk) : 0) + c->sent;
    c->fed = at - c->p.header.headerLen;
    virWorkerJobUpdateBytes(c->job, at, c->imageBytes);
}

/* The reader: read the next record into @s and verify it before QEMU
 * can see a byte of it. 1 a data record, 0 the END record (checked), -1
 * reported. */
static int nextRecord(restoreCtx *c, feedSlot *s)
{
    const qemuImageHeader *h = &c->p.header;
    uint64_t i = c->next, offset = c->offset;
    qemuImageChunk rec;
    int rc;

    if ((rc = readExact(c, &rec, sizeof(rec), offset, i)) < 0)
        return rc;
    if (i == h->chunks) {
        uint64_t totals[2] = { h->streamBytes, h->chunks };
        if (rec.type != QEMU_CHUNK_END || rec.len != 0 ||
            rec.hash != qemuHash64(totals, sizeof(totals), h->seed + h->chunks))
            return corrupt(c, offset, i, "its END record is missing or does not match");
        return 0;
    }
    if (rec.type != QEMU_CHUNK_DATA || rec.len == 0 || rec.len > QEMU_IMAGE_CHUNK)
        return corrupt(c, offset, i, "a record header is damaged");
    if ((rc = readExact(c, s->data, rec.len, offset, i)) < 0)
        return rc;
    if (qemuHash64(s->data, rec.len, h->seed + i) != rec.hash)
        return corrupt(c, offset, i, "its checksum does not match");
    s->recOffset = offset;
    s->len = rec.len;
    c->offset = offset + sizeof(rec) + rec.len;
    c->next = i + 1;
    return 1;
}

static void feedWake(restoreCtx *c)
{
    uint64_t one = 1;
    (void)!write(c->wake, &one, sizeof(one));
}

/* The reader's thread: records read and verified into free slots, in
 * order, each published only once verified, until the END record, a
 * failure (its error handed to the feed) or stop. While the guest's QEMU
 * starts it reads up to the ring's size ahead; while QEMU loads, reading
 * and verifying overlap with QEMU's reading of the pipe. */
static void *feedReader(void *opaque)
{
    restoreCtx *c = opaque;

    virErrorSetThreadInternal();
    for (;;) {
        pthread_mutex_lock(&c->lock);
        while (!c->stop && c->readN - c->freeN >= FEED_SLOTS)
            pthread_cond_wait(&c->room, &c->lock);
        bool stop = c->stop;
        feedSlot *s = &c->slot[c->readN % FEED_SLOTS];
        pthread_mutex_unlock(&c->lock);
        if (stop)
            return NULL;
        int rc = nextRecord(c, s);
        pthread_mutex_lock(&c->lock);
        if (rc == 1) {
            c->readN++;
        } else if (rc == 0) {
            c->readEnd = true;
        } else {
            c->readRc = rc;
            c->readErr = virSaveLastError();
        }
        pthread_mutex_unlock(&c->lock);
        feedWake(c);
        if (rc <= 0)
            return NULL;
    }
}

/* Start the reader. 0, or -1 reported. */
static int feedStart(restoreCtx *c)
{
    sigset_t all, old;
    pthread_attr_t attr;
    int rc;

    /* The pages of each slot are pipe buffers once fed: the ring is mapped
     * by itself, never memory malloc could hand out again (below). */
    c->ringLen = (size_t)FEED_SLOTS * QEMU_IMAGE_CHUNK;
    c->ring = mmap(NULL, c->ringLen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (c->ring == MAP_FAILED) {
        c->ring = NULL;
        virReportSystemError(errno, "cannot allocate %zu MiB to read the save image ahead",
                             c->ringLen >> 20);
        return -1;
    }
    for (size_t i = 0; i < FEED_SLOTS; i++)
        c->slot[i].data = c->ring + i * QEMU_IMAGE_CHUNK;
    if ((c->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
        virReportSystemError(errno, "%s", "cannot create an eventfd for the image's reader");
        return -1;
    }
    int cap = fcntl(c->pipe, F_GETPIPE_SZ);
    c->pipeCap = cap > 0 ? (size_t)cap : 65536;
    /* Signals (a cancel's SIGTERM) go to the job's thread, whose waits
     * they cut short. */
    sigfillset(&all);
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    rc = pthread_create(&c->reader, &attr, feedReader, c);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        virReportSystemError(rc, "%s", "cannot start the save image's reader");
        return -1;
    }
    c->readerRuns = true;
    return 0;
}

/* Stop the reader and wait for it. The ring stays mapped (feedFree). */
static void feedStop(restoreCtx *c)
{
    if (!c->readerRuns)
        return;
    pthread_mutex_lock(&c->lock);
    c->stop = true;
    pthread_cond_broadcast(&c->room);
    pthread_mutex_unlock(&c->lock);
    pthread_join(c->reader, NULL);
    c->readerRuns = false;
}

/* Unmap the ring: pages the pipe still holds stay as they are (the pipe
 * keeps them; nothing maps them any more, so nothing can change them):
 * QEMU reads what was verified even after the worker is done. */
static void feedFree(restoreCtx *c)
{
    feedStop(c);
    if (c->ring)
        munmap(c->ring, c->ringLen);
    c->ring = NULL;
    virForceClose(&c->wake);
    virFreeError(c->readErr);
    c->readErr = NULL;
}

/* Release the slots the pipe no longer holds a page of, for the reader to
 * fill again.
 *
 * vmsplice puts references to the slot's own pages into the pipe, not
 * copies: a slot must not be written again while the pipe holds any of
 * its pages, or QEMU would read bytes other than the verified ones. The
 * pipe holds at most pipeCap / PAGE_SIZE buffers, each at most a page, and
 * hands them to its reader in order. So once pipeCap bytes more went in
 * after a slot's last byte, at least that many buffers came after the
 * slot's, and they could only go in after the slot's buffers had been
 * read and released (a buffer read in part stays in the pipe). The
 * capacity is read again before each release (the largest seen counts):
 * QEMU holds the other end and could enlarge it. A reader that moved
 * buffers out (splice, tee) instead of reading them is not QEMU loading a
 * stream; it could only ever see bytes of this image.
 *
 * @drained: the feed has nothing to give and the reader no slot to fill
 * (many small records: slots hold less than the pipe). The pipe's unread
 * bytes (FIONREAD) then say which slots were read through. */
static void feedRelease(restoreCtx *c, bool drained)
{
    uint64_t freeN = c->freeN;   /* only this thread changes it */
    int cap = fcntl(c->pipe, F_GETPIPE_SZ), unread = -1;

    if (cap > 0 && (size_t)cap > c->pipeCap)
        c->pipeCap = (size_t)cap;
    if (drained && ioctl(c->pipe, FIONREAD, &unread) < 0)
        unread = -1;
    while (freeN < c->fedN) {
        const feedSlot *s = &c->slot[freeN % FEED_SLOTS];
        uint64_t after = c->pipeBytes - s->pipeEnd;
        if (!s->copied && after < c->pipeCap && (unread < 0 || (uint64_t)unread > after))
            break;
        freeN++;
    }
    if (freeN == c->freeN)
        return;
    pthread_mutex_lock(&c->lock);
    c->freeN = freeN;
    pthread_cond_signal(&c->room);
    pthread_mutex_unlock(&c->lock);
}

/* The feed's view of the reader: 1 a verified slot waits to be fed, 0
 * none yet, 2 the END was checked and every slot is fed, or the reader's
 * failure (its error made this thread's): a damaged image stops the feed
 * at once, verified records not yet fed included. */
static int feedReady(restoreCtx *c)
{
    int rc;

    pthread_mutex_lock(&c->lock);
    if (c->readRc)
        rc = c->readRc;
    else if (c->readN > c->fedN)
        rc = 1;
    else
        rc = c->readEnd ? 2 : 0;
    pthread_mutex_unlock(&c->lock);
    if (rc < 0)
        virRestoreLastError(&c->readErr);
    return rc;
}

/* Put what is left of the current slot into the pipe, without waiting.
 * 1 all of it, 0 the pipe is full, -1 on error (errno). */
static int feedSplice(restoreCtx *c)
{
    feedSlot *s = &c->slot[c->fedN % FEED_SLOTS];

    if (!c->have) {
        c->recOffset = s->recOffset;
        c->have = s->len;
        c->sent = 0;
        s->copied = s->len < FEED_SPLICE_MIN;
    }
    while (c->sent < c->have) {
        struct iovec iov = { s->data + c->sent, c->have - c->sent };
        ssize_t n = s->copied ? write(c->pipe, iov.iov_base, iov.iov_len) :
                    vmsplice(c->pipe, &iov, 1, SPLICE_F_NONBLOCK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return 0;
        if (n <= 0) {
            if (n == 0)
                errno = EPIPE;
            return -1;
        }
        c->sent += (size_t)n;
        c->pipeBytes += (uint64_t)n;
        restoreShow(c);
    }
    s->pipeEnd = c->pipeBytes;
    pthread_mutex_lock(&c->lock);
    c->fedN++;
    pthread_mutex_unlock(&c->lock);
    c->have = c->sent = 0;
    return 1;
}

/* While QEMU starts: verified records into its pipe until the pipe is
 * full, without waiting for room (QEMU reads them first once it has the
 * pipe's other end), so the first bytes are fed, and shown, at once; the
 * reader goes on reading ahead meanwhile. Waits only for the reader's
 * first records. 0, -1 reported, or IMG_CANCELLED. */
static int restorePrefeed(restoreCtx *c)
{
    for (;;) {
        if (virWorkerJobCancelRequested(c->job))
            return IMG_CANCELLED;
        int st = feedReady(c);
        if (st < 0)
            return st;
        if (st == 2)
            return 0;
        if (st == 0) {
            struct pollfd pf = { c->wake, POLLIN, 0 };
            uint64_t v;
            (void)poll(&pf, 1, 100);
            (void)!read(c->wake, &v, sizeof(v));
            continue;
        }
        int r = feedSplice(c);
        if (r < 0) {
            virReportSystemError(errno, "%s", "cannot feed the image to QEMU");
            return -1;
        }
        feedRelease(c, false);
        if (r == 0)
            return 0;
    }
}

/* Feed the rest: each verified slot in turn until the END record was
 * checked and everything is in the pipe, watching the shim (QEMU gone)
 * and cancel. 0, -1 reported, or IMG_CANCELLED. */
static int restoreFeedAll(restoreCtx *c)
{
    for (;;) {
        if (virWorkerJobCancelRequested(c->job))
            return IMG_CANCELLED;
        int st = feedReady(c);
        if (st < 0)
            return st;
        if (st == 2)
            return 0;
        /* Nothing verified to give, and the reader waits for a slot too
         * (slots that hold less than the pipe): slots are freed as the
         * pipe drains, looked at every 2 ms. */
        bool starved = false;
        if (st == 0) {
            pthread_mutex_lock(&c->lock);
            starved = c->readN - c->freeN >= FEED_SLOTS;
            pthread_mutex_unlock(&c->lock);
            if (starved)
                feedRelease(c, true);
        }
        struct pollfd pf[3] = { { st == 1 ? c->pipe : -1, POLLOUT, 0 }, { c->shim, POLLIN, 0 },
                                { c->wake, POLLIN, 0 } };
        int r = poll(pf, 3, starved ? 2 : 100);
        if (r < 0 && errno != EINTR) {
            virReportSystemError(errno, "%s", "cannot wait for QEMU to read the image");
            return -1;
        }
        if (r < 0)
            continue;
        if (pf[1].revents)
            drainEvents(c, 0);
        if (qemuExited(c) || (pf[0].revents & POLLERR))
            return qemuRefused(c);
        if (pf[2].revents) {
            uint64_t v;
            (void)!read(c->wake, &v, sizeof(v));
        }
        if (st == 0 || !(pf[0].revents & POLLOUT))
            continue;
        int n = feedSplice(c);
        if (n < 0) {
            if (errno == EPIPE)
                return qemuRefused(c);
            virReportSystemError(errno, "%s", "cannot feed the image to QEMU");
            return -1;
        }
        feedRelease(c, false);
        if (n == 0) {
            /* The pipe is full: let QEMU drain a good part of it before
             * filling it again. Woken by each of its reads (32 KiB), the
             * feed would trade places with QEMU thousands of times a
             * second; QEMU empties 1 MiB in about 0.3 ms at best. Once per
             * fill: then the wait for room above. */
            struct timespec nap = { 0, FEED_NAP_NS };
            struct pollfd sp = { c->shim, POLLIN, 0 };
            if (ppoll(&sp, 1, &nap, NULL) > 0)
                drainEvents(c, 0);
        }
    }
}

/* Wait for the connection to the new guest's shim, which the library
 * hands over once the shim runs (qemuRestoreHandoff), and use it from
 * then on. 0, -1 reported (the library's error when its start failed), or
 * IMG_CANCELLED. */
static int restoreTakeShim(restoreCtx *c)
{
    qemuRestoreHandoff h;
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int))];
    } cm;
    struct iovec iov = { &h, sizeof(h) };
    struct msghdr msg;
    ssize_t n;
    int fd = -1;

    for (;;) {
        if (virWorkerJobCancelRequested(c->job))
            return IMG_CANCELLED;
        struct pollfd pf = { c->shim, POLLIN, 0 };
        int r = poll(&pf, 1, 100);   /* a cancel's SIGTERM cuts it short */
        if (r < 0 && errno != EINTR) {
            virReportSystemError(errno, "%s", "cannot wait for the guest's start");
            return -1;
        }
        if (r <= 0)
            continue;
        memset(&h, 0, sizeof(h));
        memset(&msg, 0, sizeof(msg));
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = cm.buf;
        msg.msg_controllen = sizeof(cm.buf);
        n = recvmsg(c->shim, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        break;
    }
    if (n < 0) {
        virReportSystemError(errno, "%s", "cannot receive the connection to the guest's shim");
        return -1;
    }
    for (struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
        if (cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS &&
            cmsg->cmsg_len == CMSG_LEN(sizeof(int)))
            memcpy(&fd, CMSG_DATA(cmsg), sizeof(int));
    }
    h.message[sizeof(h.message) - 1] = '\0';
    if (n != (ssize_t)sizeof(h) || (h.code == 0 && fd < 0)) {
        virForceClose(&fd);
        virReportError(VIR_ERR_OPERATION_FAILED, "%s", "the guest's start was given up "
                       "before its shim ran");
        return -1;
    }
    if (h.code != 0) {
        virForceClose(&fd);
        virReportError(h.code, "%s", h.message[0] ? h.message : "the guest could not start");
        return -1;
    }
    virForceClose(&c->shim);
    c->shim = fd;
    return 0;
}

static int restoreRun(restoreCtx *c)
{
    qemuStartParams sp = { .magic = QEMU_START_MAGIC, .monitorTimeoutMs = c->p.monitorTimeoutMs };
    qemuImageHeader now;
    char args[128], status[32], why[256];
    struct stat sb;
    int rc;

    c->imageBytes = qemuImageBytes(&c->p.header);
    virWorkerJobUpdateBytes(c->job, 0, c->imageBytes);
    if (fstat(c->image, &sb) < 0 || (uint64_t)sb.st_size != c->imageBytes ||
        pread(c->image, &now, sizeof(now), 0) != (ssize_t)sizeof(now) ||
        memcmp(&now, &c->p.header, sizeof(now)) != 0) {
        virReportError(VIR_ERR_OPERATION_FAILED, "the save image '%s' changed since the "
                       "restore began", c->p.path);
        return -1;
    }
    /* The header (and the XML it covers), checked by the library and
     * unchanged since: the image's first bytes dealt with. */
    virWorkerJobUpdateBytes(c->job, c->p.header.headerLen, c->imageBytes);
    memcpy(sp.name, c->p.name, sizeof(sp.name));
    if (lseek(c->image, c->p.header.headerLen, SEEK_SET) < 0) {
        virReportSystemError(errno, "cannot read the save image '%s'", c->p.path);
        return -1;
    }
    if (virWorkerIOInit(&c->io, NULL, c->image, "save image", 0, c->p.bandwidthBps) < 0)
        return -1;
    c->next = 0;
    c->offset = c->recOffset = c->p.header.headerLen;
    if (feedStart(c) < 0)
        return -1;
    if ((rc = restorePrefeed(c)) < 0 || (rc = restoreTakeShim(c)) < 0)
        return rc;
    /* QEMU was started with -incoming defer: it waits for the stream. */
    if ((rc = qemuStartFollow(c->job, c->shim, &sp, false)) < 0)
        return rc;
    snprintf(args, sizeof(args), "{\"fdname\":\"%s\"}", FD_NAME_RESTORE);
    if (virShimQMP(c->shim, "getfd", args, &c->qemu, 1, (int)c->p.monitorTimeoutMs,
                   restoreEvent, c, c->in) < 0)
        return -1;
    virForceClose(&c->qemu);   /* QEMU holds the read end now */
    /* A paused guest's image: QEMU ends the load by setting the run state
     * "paused" without an event (a running guest's `cont` below makes its
     * RESUME), so the shim would not learn it, and the commit reads the
     * shim's record. The migration's own events (MIGRATION "completed")
     * make the shim ask, and record it. */
    if (!c->p.header.wasRunning &&
        virShimQMP(c->shim, "migrate-set-capabilities",
                   "{\"capabilities\":[{\"capability\":\"events\",\"state\":true}]}", NULL, 0,
                   (int)c->p.monitorTimeoutMs, restoreEvent, c, c->in) < 0)
        return -1;
    snprintf(args, sizeof(args), "{\"uri\":\"fd:%s\"}", FD_NAME_RESTORE);
    if (virShimQMP(c->shim, "migrate-incoming", args, NULL, 0, (int)c->p.monitorTimeoutMs,
                   restoreEvent, c, c->in) < 0)
        return -1;
    virWorkerJobSetPhase(c->job, "loading memory");
    if ((rc = restoreFeedAll(c)) < 0)
        return rc;
    virForceClose(&c->pipe);   /* EOF: QEMU finishes the load */

    virWorkerJobSetPhase(c->job, "resuming");
    long long until = virTimeMonoMs() + c->p.monitorTimeoutMs;
    for (;;) {
        if (virWorkerJobCancelRequested(c->job))
            return IMG_CANCELLED;
        drainEvents(c, 0);
        if (qemuExited(c))
            return qemuRefused(c);
        if (migrateStatus(c->shim, c->p.monitorTimeoutMs, c->in, status, sizeof(status), NULL,
                          NULL, why, sizeof(why)) < 0) {
            drainEvents(c, 0);
            if (qemuExited(c)) {
                virResetLastError();
                return qemuRefused(c);
            }
            return -1;
        }
        if (STREQ(status, "completed"))
            break;
        if (STREQ(status, "failed")) {
            virReportError(VIR_ERR_OPERATION_FAILED, "QEMU could not load the save image "
                           "'%s': %s", c->p.path, why[0] ? why : "no reason given");
            return -1;
        }
        if (virTimeMonoMs() > until) {
            virReportError(VIR_ERR_OPERATION_TIMEOUT, "QEMU did not finish loading the save "
                           "image within %u ms of its end (status '%s')",
                           c->p.monitorTimeoutMs, status);
            return -1;
        }
        drainEvents(c, 5);
    }
    if (c->p.header.wasRunning) {
        if (virShimQMP(c->shim, "cont", NULL, NULL, 0, (int)c->p.monitorTimeoutMs,
                       restoreEvent, c, c->in) < 0)
            return -1;
        /* The commit reads the shim's record: wait until it says running. */
        until = virTimeMonoMs() + c->p.monitorTimeoutMs;
        while (STRNEQ(c->st.runstate, "running")) {
            if (qemuExited(c))
                return qemuRefused(c);
            if (virTimeMonoMs() > until) {
                virReportError(VIR_ERR_OPERATION_TIMEOUT, "the restored guest did not run "
                               "within %u ms of 'cont' (run state '%s')",
                               c->p.monitorTimeoutMs, c->st.runstate);
                return -1;
            }
            drainEvents(c, 20);
        }
    } else {
        /* The commit reads the shim's record: wait until it says paused.
         * QEMU sets the run state after its MIGRATION "completed", with
         * no event, so the shim's own query after that event may still
         * have read "inmigrate": ask again (a client's query-status is
         * recorded by the shim too). Before, such a restore waited the
         * whole monitor timeout and failed, now and then. */
        until = virTimeMonoMs() + c->p.monitorTimeoutMs;
        while (STRNEQ(c->st.runstate, "paused")) {
            if (qemuExited(c))
                return qemuRefused(c);
            if (virTimeMonoMs() > until) {
                virReportError(VIR_ERR_OPERATION_TIMEOUT, "the shim did not record the "
                               "restored guest as paused within %u ms of the load's end "
                               "(run state '%s')", c->p.monitorTimeoutMs, c->st.runstate);
                return -1;
            }
            drainEvents(c, 20);
            if (STRNEQ(c->st.runstate, "paused") &&
                virShimQMP(c->shim, "query-status", NULL, NULL, 0, (int)c->p.monitorTimeoutMs,
                           restoreEvent, c, c->in) < 0)
                return -1;
        }
    }
    virWorkerJobUpdateBytes(c->job, c->imageBytes, c->imageBytes);
    return 0;
}

static void qemuRestoreOpRun(virWorkerJobPtr job, const void *params, size_t len)
{
    restoreCtx c = { .job = job, .wake = -1, .lock = PTHREAD_MUTEX_INITIALIZER,
                     .room = PTHREAD_COND_INITIALIZER };
    int rc = -1;

    virWorkerJobInitialize(job, 0);
    signal(SIGPIPE, SIG_IGN);
    c.shim = virWorkerJobFD(job, "shim");
    c.image = virWorkerJobFD(job, "image");
    c.pipe = virWorkerJobFD(job, "pipe");
    c.qemu = virWorkerJobFD(job, "qemu");
    if (len != sizeof(c.p)) {
        virWorkerJobFinishFailure(job, VIR_ERR_INTERNAL_ERROR, "%s", "invalid restore parameters");
        return;
    }
    memcpy(&c.p, params, sizeof(c.p));
    if (c.p.magic != QEMU_RESTORE_MAGIC || !memchr(c.p.name, '\0', sizeof(c.p.name)) ||
        !memchr(c.p.path, '\0', sizeof(c.p.path)) || c.shim < 0 || c.image < 0 ||
        c.pipe < 0 || c.qemu < 0) {
        virWorkerJobFinishFailure(job, VIR_ERR_INTERNAL_ERROR, "%s", "invalid restore parameters");
        return;
    }
    if (!c.p.monitorTimeoutMs)
        c.p.monitorTimeoutMs = 30000;
    if (!(c.in = malloc(sizeof(*c.in)))) {
        virReportOOMError();
    } else {
        (void)fcntl(c.pipe, F_SETFL, fcntl(c.pipe, F_GETFL) | O_NONBLOCK);
        rc = restoreRun(&c);
    }
    feedStop(&c);
    /* On failure or cancel the library stops QEMU (the done step): a
     * half-loaded guest never runs. */
    if (rc == 0)
        virWorkerJobFinishSuccess(job);
    else if (rc == IMG_CANCELLED && virWorkerJobFinishCancel(job))
        ;
    else if (rc == IMG_CANCELLED)
        virWorkerJobFinishFailure(job, VIR_ERR_OPERATION_ABORTED, "%s",
                                  "the restore stopped on a cancel request that was withdrawn");
    else
        virWorkerJobFinishError(job);
    feedFree(&c);
    virWorkerIOFree(&c.io);
    free(c.in);
}

VIR_WORKER_OP_REGISTER(qemuRestoreOp, QEMU_OP_DOMAIN_RESTORE, qemuRestoreOpRun);
