/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qemu-worker.h: the qemu driver's worker half (virtsup-worker only; unit
 * tests call these directly).
 */
#pragma once

#include "drivers/qemu/qemu-proto.h"
#include "util/virshim.h"
#include "worker/job.h"
#include "worker/jobio.h"

/* qemu-xml-worker.c: parse domain XML (@len bytes) into a new definition
 * block (*@out, caller frees; its size is (*out)->size). Returns 0, or -1
 * with the error reported (VIR_ERR_XML_ERROR, VIR_ERR_CONFIG_UNSUPPORTED). */
int qemuDomainParseXML(const char *xml, size_t len, qemuDomainDef **out);

/* qemu-start-worker.c: follow the start of a guest through its shim (@fd,
 * a connection to it) up to the running state: subscribe, wait for the
 * monitor, `cont`, wait for the run state "running". Progress and phases
 * go to @job. On cancel the shim is told to stop QEMU. Returns 0, -1 with
 * the error reported (QEMU's own message when it exited), or
 * VIR_WORKER_IO_CANCELLED-style -2 when it stopped on cancel. With
 * !@resume it returns once the monitor is ready (QEMU still stopped: a
 * restore feeds it first). */
int qemuStartFollow(virWorkerJobPtr job, int fd, const qemuStartParams *p, bool resume);

/* qemu-stream-worker.c: the loop of a job whose bytes QEMU writes into a
 * pipe this worker owns (the dump today). Bytes go from @pipe to the file
 * @out (large writes, written behind, not synced: the op syncs), paced at
 * @maxBps (0: not), while @query (NULL: none) is asked every @pollMs
 * (default 10) and every QMP event of the shim connection @shim
 * (subscribed) goes to @onQMP. The query is a blocking round trip (the
 * pipe is not read while it waits): fine for the dump, whose writer is a
 * thread of QEMU's that does not hold the monitor; not for a migration
 * (see poll1 in qemu-stream-worker.c). */
typedef struct qemuStream qemuStream;
/* @name: the event's name, or NULL for the reply to the query. Returns 0
 * (go on), 1 (QEMU is done with the stream and says it completed), or -1
 * (QEMU says it failed; the error reported). */
typedef int (*qemuStreamQMPFunc)(qemuStream *s, const char *name, const virShimIncoming *in);
struct qemuStream {
    /* set by the op */
    virWorkerJobPtr job;
    int shim, pipe, out;
    const char *what;               /* "core dump", for messages */
    const char *query;
    unsigned int pollMs, monitorTimeoutMs;
    uint64_t maxBps;
    qemuStreamQMPFunc onQMP;
    void *opaque;
    /* kept by the loop */
    virShimStatus st;               /* the shim's last status (set it from the subscription) */
    uint64_t moved;                 /* bytes written to @out */
    bool eof;                       /* QEMU closed its end */
    bool qemuGone;                  /* QEMU (or its shim) ended */
    int qemuDone;                   /* the last answer of @onQMP */
    virWorkerIO io;
    virShimIncoming *in;
};
#define QEMU_STREAM_CANCELLED (-2)
/* Run until QEMU closed the pipe and @onQMP said it completed (0), QEMU
 * failed or ended, the file could not be written, or the monitor did not
 * answer (-1, error reported), or cancel was asked
 * (QEMU_STREAM_CANCELLED). The caller then closes @pipe (on failure and
 * cancel that ends QEMU's side) and may wait for QEMU to say so
 * (qemuStreamWaitDone, which keeps this thread's error), then calls
 * qemuStreamClear. */
int qemuStreamRun(qemuStream *s);
void qemuStreamWaitDone(qemuStream *s);
void qemuStreamClear(qemuStream *s);
