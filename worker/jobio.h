/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * jobio.h: job I/O for worker functions: one large aligned buffer, full
 * reads and writes (EINTR and short counts handled), byte counters that
 * feed the job's progress, an optional bandwidth cap, and a cancel check
 * between chunks. Every byte a job moves to or from its resource
 * descriptors goes through here, so progress and pacing are the same for
 * every op.
 *
 * Worker only: a virWorkerIO belongs to one thread of one worker function.
 * Writing a large regular file, it may flush what is written out so far
 * on a thread of its own (see flush_behind), which only it uses.
 * Errors are reported with virReportSystemError/virReportError (then the
 * op calls virWorkerJobFinishError).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "libvirtsup/libvirtsup-common.h"

#define VIR_WORKER_IO_BUFSIZE   (1024 * 1024)     /* bytes of the aligned buffer */
/* Writing a regular file: bytes whose writeback may be under way at once
 * before the writer waits for the oldest; what is written out beyond the
 * first buffer is dropped from the page cache as it goes. */
#define VIR_WORKER_IO_BEHIND    (8 * 1024 * 1024)
/* Writing a regular file with flush_behind set: each time this many more
 * bytes are written out, a flush (fdatasync) of the file starts on a
 * thread of its own, unless one is still under way; the writer goes on
 * meanwhile. The disk's own cache (on a virtual machine: the host's page
 * cache) is then emptied while the job writes, not all of it at the
 * final sync. A file shorter than this never starts the thread. The
 * writer's own window (VIR_WORKER_IO_BEHIND otherwise) is this step too:
 * it waits only for bytes more than two steps behind, which the flushes
 * have mostly written out already. */
#define VIR_WORKER_IO_FLUSH_STEP (32 * 1024 * 1024)
#define VIR_WORKER_IO_CANCELLED (-2)               /* return value: cancel was asked */

typedef struct virWorkerIOFlusher virWorkerIOFlusher;

/* A token bucket: @rate bytes per second, at most @burst bytes ahead.
 * Tokens may go negative (a debt the caller sleeps off). Pure arithmetic
 * on the times it is given, so tests can check it without a clock. */
typedef struct virWorkerIOBucket {
    uint64_t rate;       /* bytes per second; 0: unlimited */
    uint64_t burst;      /* bytes */
    int64_t tokens;
    uint64_t last_ns;    /* time of the last refill */
} virWorkerIOBucket;

/* Start full (@burst tokens) at @now_ns. */
void virWorkerIOBucketInit(virWorkerIOBucket *b, uint64_t rate, uint64_t burst, uint64_t now_ns);
/* Take @bytes at @now_ns; returns the nanoseconds to wait before moving
 * them so that the average stays at the rate (0: go now). */
uint64_t virWorkerIOBucketTake(virWorkerIOBucket *b, uint64_t bytes, uint64_t now_ns);

/* The smaller of two caps where 0 means "none". */
uint64_t virWorkerIORateMin(uint64_t a, uint64_t b);

/* Bytes moved per chunk at @rate: the whole buffer when unpaced, else
 * about a tenth of a second's worth, in whole pages, so a slow job still
 * checks for cancel and reports progress several times a second. */
size_t virWorkerIOChunkSize(uint64_t rate);

typedef struct virWorkerIO {
    virWorkerJobPtr job;        /* progress and cancel go here; may be NULL */
    int fd;               /* not owned */
    const char *what;     /* "save image", for messages */
    uint8_t *buf;         /* VIR_WORKER_IO_BUFSIZE bytes, 4096-aligned, owned */
    size_t chunk;         /* bytes per chunk (<= VIR_WORKER_IO_BUFSIZE) */
    uint64_t done;        /* bytes moved so far */
    uint64_t total;       /* bytes expected in all (0: unknown) */
    uint64_t offset;      /* bytes moved from the start (see base) */
    virWorkerIOBucket bucket;
    /* A regular file: its offset at init; writes start its writeback as
     * they go (sync_file_range) so the final sync finds little left, and
     * wait for it at most VIR_WORKER_IO_BEHIND behind (with flush_behind:
     * VIR_WORKER_IO_FLUSH_STEP), then drop those pages
     * (beyond the first buffer, which a header rewrite may touch); reads
     * ask for read-ahead VIR_WORKER_IO_BEHIND ahead. */
    bool regular;
    uint64_t base;
    uint64_t wb_started;  /* bytes (from base) whose writeback was started */
    uint64_t wb_dropped;  /* bytes (from base) written out and dropped */
    uint64_t ra_until;    /* bytes (from base) read-ahead was asked for */
    /* Flush behind (VIR_WORKER_IO_FLUSH_STEP), off unless the op sets it:
     * worth it when the data comes slower than the disk takes it (QEMU's
     * stream), so the flushes run beside the wait for it; a writer as
     * fast as the disk only pays for the extra flushes. */
    bool flush_behind;
    uint64_t fl_asked;    /* wb_started when a flush was last asked */
    bool fl_off;          /* no background flush (its thread could not start) */
    virWorkerIOFlusher *flusher;   /* owned; NULL until the first background flush */
} virWorkerIO;

/* Set up @io for @fd; @rate_bps 0: unpaced. Allocates the buffer.
 * Returns 0, or -1 with an error reported. */
int virWorkerIOInit(virWorkerIO *io, virWorkerJobPtr job, int fd, const char *what,
                 uint64_t total, uint64_t rate_bps);
/* Change the cap (e.g. once a header says how the job is paced). */
void virWorkerIOSetRate(virWorkerIO *io, uint64_t rate_bps);
/* Free the buffer (not the descriptor); first wait for a background flush
 * still under way and end its thread. Safe on a zeroed or freed @io. */
void virWorkerIOFree(virWorkerIO *io);

/* Write all @len bytes (any size; split into paced chunks). Checks for
 * cancel before each chunk. Returns 0, -1 (error reported, e.g. "cannot
 * write save image: No space left on device") or VIR_WORKER_IO_CANCELLED. */
int virWorkerIOWrite(virWorkerIO *io, const void *data, size_t len);

/* Read up to @len bytes; fewer only at end of file. *@got says how many.
 * Returns 0, -1 (error reported) or VIR_WORKER_IO_CANCELLED. */
int virWorkerIORead(virWorkerIO *io, void *data, size_t len, size_t *got);

/* Account @len bytes of work done in memory (no descriptor: e.g. a boot
 * stage), paced and cancellable as if they were written. Returns 0 or
 * VIR_WORKER_IO_CANCELLED. */
int virWorkerIOAdvance(virWorkerIO *io, size_t len);

/* pwrite @len bytes at @offset, outside the counters and the pacing (for a
 * header rewritten at the end). Returns 0 or -1 (error reported). */
int virWorkerIOPwrite(virWorkerIO *io, const void *data, size_t len, uint64_t offset);

/* Wait for a background flush still under way (its error is this call's),
 * then fdatasync the descriptor (what the writes left unwritten, and the
 * size), then let the kernel drop the pages more than VIR_WORKER_IO_BEHIND
 * before the end (a big dump must not push the host's cache out; a small
 * image read back soon stays cached). Returns 0 or -1. */
int virWorkerIOSync(virWorkerIO *io);

/* Percent of the total done, 0..100 (0 when the total is unknown). */
unsigned int virWorkerIOPercent(const virWorkerIO *io);
