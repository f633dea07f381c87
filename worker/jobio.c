/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * jobio.c: job I/O for worker functions (see jobio.h).
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>

#include "util/internal.h"
#undef VIR_FROM_THIS   /* unit tests include several of these files in one unit */
#define VIR_FROM_THIS VIR_FROM_JOB
#include "util/virerror.h"
#include "worker/job.h"
#include "worker/jobio.h"

#define NS_PER_SEC 1000000000ull
/* Longest single sleep while paced: cancel is checked at least this often. */
#define SLEEP_SLICE_NS (100ull * 1000 * 1000)

void virWorkerIOBucketInit(virWorkerIOBucket *b, uint64_t rate, uint64_t burst, uint64_t now_ns)
{
    b->rate = rate;
    b->burst = burst > INT64_MAX ? INT64_MAX : burst;
    b->tokens = (int64_t)b->burst;
    b->last_ns = now_ns;
}

uint64_t virWorkerIOBucketTake(virWorkerIOBucket *b, uint64_t bytes, uint64_t now_ns)
{
    if (b->rate == 0)
        return 0;
    if (now_ns > b->last_ns) {
        /* 128-bit: rate may be anything up to 2^64 bytes/s. */
        unsigned __int128 add = (unsigned __int128)(now_ns - b->last_ns) * b->rate / NS_PER_SEC;
        unsigned __int128 room = (unsigned __int128)((__int128)b->burst - b->tokens);
        b->tokens += (int64_t)(add < room ? add : room);
        b->last_ns = now_ns;
    }
    if (bytes > (uint64_t)INT64_MAX / 2)
        bytes = INT64_MAX / 2;
    b->tokens -= (int64_t)bytes;
    if (b->tokens >= 0)
        return 0;
    unsigned __int128 debt = (unsigned __int128)(-(__int128)b->tokens);
    unsigned __int128 wait = (debt * NS_PER_SEC + b->rate - 1) / b->rate;
    return wait > UINT64_MAX ? UINT64_MAX : (uint64_t)wait;
}

uint64_t virWorkerIORateMin(uint64_t a, uint64_t b)
{
    if (a == 0)
        return b;
    if (b == 0)
        return a;
    return a < b ? a : b;
}

size_t virWorkerIOChunkSize(uint64_t rate)
{
    uint64_t c;

    if (rate == 0)
        return VIR_WORKER_IO_BUFSIZE;
    c = rate / 10;
    c -= c % 4096;
    if (c < 4096)
        c = 4096;
    if (c > VIR_WORKER_IO_BUFSIZE)
        c = VIR_WORKER_IO_BUFSIZE;
    return c;
}

static uint64_t nowNs(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

int virWorkerIOInit(virWorkerIO *io, virWorkerJobPtr job, int fd, const char *what,
                 uint64_t total, uint64_t rate_bps)
{
    void *buf = NULL;
    int rc;

    memset(io, 0, sizeof(*io));
    io->fd = -1;
    if ((rc = posix_memalign(&buf, 4096, VIR_WORKER_IO_BUFSIZE)) != 0) {
        virReportSystemError(rc, "cannot allocate the I/O buffer for %s", what);
        return -1;
    }
    io->job = job;
    io->fd = fd;
    io->what = what;
    io->buf = buf;
    io->total = total;
    io->chunk = virWorkerIOChunkSize(rate_bps);
    virWorkerIOBucketInit(&io->bucket, rate_bps, io->chunk, nowNs());
    /* Advice only; fails harmlessly on pipes and on fd -1. */
    if (fd >= 0)
        (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    struct stat st;
    off_t here;
    if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
        (here = lseek(fd, 0, SEEK_CUR)) >= 0) {
        io->regular = true;
        io->base = (uint64_t)here;
        io->wb_dropped = VIR_WORKER_IO_BUFSIZE;
    }
    return 0;
}

void virWorkerIOSetRate(virWorkerIO *io, uint64_t rate_bps)
{
    io->chunk = virWorkerIOChunkSize(rate_bps);
    virWorkerIOBucketInit(&io->bucket, rate_bps, io->chunk, nowNs());
}

/* ---- the background flush ----
 *
 * One thread per virWorkerIO, started by the first flush asked for: it
 * waits for a request, runs fdatasync on the file, keeps the first error,
 * and waits again. It takes no signal (a cancel's SIGTERM must reach the
 * job's thread) and touches nothing but its own fields. */
struct virWorkerIOFlusher {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int fd;
    bool want;      /* a flush is asked for */
    bool busy;      /* a flush is under way */
    bool stop;
    int err;        /* the first errno of a failed flush, or 0 */
    pid_t tid;      /* the thread's id once it runs (for tests and traces) */
};

static void *flusherMain(void *opaque)
{
    virWorkerIOFlusher *f = opaque;

    pthread_mutex_lock(&f->lock);
    f->tid = gettid();
    for (;;) {
        while (!f->want && !f->stop)
            pthread_cond_wait(&f->cond, &f->lock);
        if (f->stop)
            break;
        f->want = false;
        f->busy = true;
        pthread_mutex_unlock(&f->lock);
        int rc = fdatasync(f->fd);
        int e = errno;
        pthread_mutex_lock(&f->lock);
        f->busy = false;
        /* EINTR cannot come (no signal here); the final sync flushes
         * whatever this one did not. */
        if (rc < 0 && e != EINTR && !f->err)
            f->err = e;
    }
    pthread_mutex_unlock(&f->lock);
    return NULL;
}

static virWorkerIOFlusher *flusherStart(int fd)
{
    virWorkerIOFlusher *f = calloc(1, sizeof(*f));
    pthread_attr_t attr;
    sigset_t all, old;
    int rc;

    if (!f)
        return NULL;
    f->fd = fd;
    pthread_mutex_init(&f->lock, NULL);
    pthread_cond_init(&f->cond, NULL);
    sigfillset(&all);
    pthread_attr_init(&attr);
    (void)pthread_attr_setstacksize(&attr, 64 * 1024);
    pthread_sigmask(SIG_BLOCK, &all, &old);   /* the thread is born with every signal blocked */
    rc = pthread_create(&f->thread, &attr, flusherMain, f);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        pthread_cond_destroy(&f->cond);
        pthread_mutex_destroy(&f->lock);
        free(f);
        return NULL;
    }
    return f;
}

/* Wait for a flush under way, end the thread. Returns the first errno of
 * a failed background flush, or 0. */
static int flusherStop(virWorkerIO *io)
{
    virWorkerIOFlusher *f = io->flusher;
    int err;

    if (!f)
        return 0;
    pthread_mutex_lock(&f->lock);
    f->stop = true;
    pthread_cond_signal(&f->cond);
    pthread_mutex_unlock(&f->lock);
    pthread_join(f->thread, NULL);
    err = f->err;
    pthread_cond_destroy(&f->cond);
    pthread_mutex_destroy(&f->lock);
    free(f);
    io->flusher = NULL;
    return err;
}

/* Ask for a background flush once VIR_WORKER_IO_FLUSH_STEP more bytes are
 * written out (their writeback started), unless one is still under way
 * (asked again next time). A thread that cannot start leaves everything to
 * the final sync. */
static void flushBehind(virWorkerIO *io)
{
    virWorkerIOFlusher *f;

    if (!io->flush_behind || io->fl_off ||
        io->wb_started < io->fl_asked + VIR_WORKER_IO_FLUSH_STEP)
        return;
    if (!io->flusher && !(io->flusher = flusherStart(io->fd))) {
        io->fl_off = true;
        return;
    }
    f = io->flusher;
    pthread_mutex_lock(&f->lock);
    if (!f->busy && !f->want) {
        f->want = true;
        io->fl_asked = io->wb_started;
        pthread_cond_signal(&f->cond);
    }
    pthread_mutex_unlock(&f->lock);
}

void virWorkerIOFree(virWorkerIO *io)
{
    (void)flusherStop(io);
    free(io->buf);
    io->buf = NULL;
}

unsigned int virWorkerIOPercent(const virWorkerIO *io)
{
    if (io->total == 0)
        return 0;
    if (io->done >= io->total)
        return 100;
    return (unsigned int)((unsigned __int128)io->done * 100 / io->total);
}

static bool cancelled(virWorkerIO *io)
{
    return io->job && virWorkerJobCancelRequested(io->job);
}

/* Sleep off the bucket's debt for @bytes, in slices, watching for cancel.
 * A signal (SIGTERM on cancel) cuts a slice short: the loop then sees it. */
static int pace(virWorkerIO *io, size_t bytes)
{
    uint64_t wait = virWorkerIOBucketTake(&io->bucket, bytes, nowNs());
    uint64_t deadline;

    if (wait == 0)
        return 0;
    deadline = nowNs() + wait;
    for (;;) {
        uint64_t now = nowNs();
        if (cancelled(io))
            return VIR_WORKER_IO_CANCELLED;
        if (now >= deadline)
            return 0;
        uint64_t until = deadline - now > SLEEP_SLICE_NS ? now + SLEEP_SLICE_NS : deadline;
        struct timespec ts = { (time_t)(until / NS_PER_SEC), (long)(until % NS_PER_SEC) };
        (void)clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
    }
}

static void progress(virWorkerIO *io)
{
    if (io->job)
        virWorkerJobUpdateBytes(io->job, io->done, io->total);
}

typedef enum { MOVE_WRITE, MOVE_READ, MOVE_NONE } moveKind;

#define PAGE_DOWN(x) ((x) & ~(uint64_t)4095)

/* After a write to a regular file: start the writeback of the whole pages
 * written since the last start, so the disk works while the job computes
 * what comes next; once more than twice the window is under way, wait for
 * all but the newest window (the pace of the disk) and drop it from the
 * cache. The window is VIR_WORKER_IO_BEHIND, or with flush_behind the
 * flush step: the background flushes then write out what the writer would
 * wait for, and a wait every few megabytes would stall the data's source
 * (QEMU's stream) behind the disk's queue.
 * Advice: errors show at the final sync, which sees them too. */
static void writeBehind(virWorkerIO *io)
{
    uint64_t end = PAGE_DOWN(io->offset);
    uint64_t behind = io->flush_behind && !io->fl_off ? VIR_WORKER_IO_FLUSH_STEP :
                      VIR_WORKER_IO_BEHIND;

    if (end < io->wb_started + VIR_WORKER_IO_BUFSIZE)
        return;
    if (sync_file_range(io->fd, (off_t)(io->base + io->wb_started),
                        (off_t)(end - io->wb_started), SYNC_FILE_RANGE_WRITE) < 0) {
        io->regular = false;   /* e.g. a file system without it: leave it to the sync */
        return;
    }
    io->wb_started = end;
    flushBehind(io);
    if (io->wb_started < io->wb_dropped + 2 * behind)
        return;
    uint64_t to = io->wb_started - behind;
    (void)sync_file_range(io->fd, (off_t)(io->base + io->wb_dropped),
                          (off_t)(to - io->wb_dropped),
                          SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
                          SYNC_FILE_RANGE_WAIT_AFTER);
    (void)posix_fadvise(io->fd, (off_t)(io->base + io->wb_dropped),
                        (off_t)(to - io->wb_dropped), POSIX_FADV_DONTNEED);
    io->wb_dropped = to;
}

/* Before a read from a regular file: keep read-ahead asked for up to
 * VIR_WORKER_IO_BEHIND past what is read, in steps of half that, so the disk
 * reads while the job checks what it has. */
static void readAhead(virWorkerIO *io)
{
    uint64_t want = io->offset + VIR_WORKER_IO_BEHIND;

    if (want < io->ra_until + VIR_WORKER_IO_BEHIND / 2)
        return;
    uint64_t from = io->ra_until > io->offset ? io->ra_until : io->offset;
    (void)posix_fadvise(io->fd, (off_t)(io->base + from), (off_t)(want - from),
                        POSIX_FADV_WILLNEED);
    io->ra_until = want;
}

/* Move @len bytes in paced chunks, checking for cancel before each, and
 * count them. MOVE_NONE moves nothing (work done in memory). Stops early
 * only at end of file when reading. */
static int move(virWorkerIO *io, moveKind kind, uint8_t *p, size_t len, size_t *moved)
{
    *moved = 0;
    while (len > 0) {
        size_t n = len < io->chunk ? len : io->chunk;
        int rc;

        if (cancelled(io))
            return VIR_WORKER_IO_CANCELLED;
        if ((rc = pace(io, n)) < 0)
            return rc;
        if (kind == MOVE_READ && io->regular)
            readAhead(io);
        while (n > 0) {
            ssize_t r = kind == MOVE_WRITE ? write(io->fd, p, n) :
                        kind == MOVE_READ ? read(io->fd, p, n) : (ssize_t)n;
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0 || (r == 0 && kind == MOVE_WRITE)) {
                virReportSystemError(r < 0 ? errno : EIO, "cannot %s %s",
                                     kind == MOVE_WRITE ? "write" : "read", io->what);
                return -1;
            }
            if (r == 0) {
                progress(io);
                return 0;
            }
            if (kind != MOVE_NONE)
                p += r;
            n -= (size_t)r;
            len -= (size_t)r;
            *moved += (size_t)r;
            io->done += (uint64_t)r;
            io->offset += (uint64_t)r;
        }
        if (kind == MOVE_WRITE && io->regular)
            writeBehind(io);
        progress(io);
    }
    return 0;
}

int virWorkerIOWrite(virWorkerIO *io, const void *data, size_t len)
{
    size_t moved;
    /* move() does not write through @p when writing; the cast only
     * shares one loop between the directions. */
    return move(io, MOVE_WRITE, (uint8_t *)(uintptr_t)data, len, &moved);
}

int virWorkerIORead(virWorkerIO *io, void *data, size_t len, size_t *got)
{
    return move(io, MOVE_READ, data, len, got);
}

int virWorkerIOAdvance(virWorkerIO *io, size_t len)
{
    size_t moved;
    return move(io, MOVE_NONE, NULL, len, &moved);
}

int virWorkerIOPwrite(virWorkerIO *io, const void *data, size_t len, uint64_t offset)
{
    const uint8_t *p = data;

    while (len > 0) {
        ssize_t w = pwrite(io->fd, p, len, (off_t)offset);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            virReportSystemError(errno, "cannot write %s", io->what);
            return -1;
        }
        if (w == 0) {
            virReportSystemError(EIO, "cannot write %s", io->what);
            return -1;
        }
        p += w;
        len -= (size_t)w;
        offset += (uint64_t)w;
    }
    return 0;
}

int virWorkerIOSync(virWorkerIO *io)
{
    int err = flusherStop(io);

    /* A background flush that failed: its error is reported once, to it
     * (the kernel's error state of a file), so it is this sync's. */
    if (err) {
        virReportSystemError(err, "cannot sync %s", io->what);
        return -1;
    }
    while (fdatasync(io->fd) < 0) {
        if (errno == EINTR)
            continue;
        /* A pipe or socket has nothing to sync. */
        if (errno == EINVAL || errno == EROFS)
            return 0;
        virReportSystemError(errno, "cannot sync %s", io->what);
        return -1;
    }
    /* Advice only: the data is on disk; the pages of a big file may go,
     * but not the last ones (a small image is often read back at once). */
    if (io->regular && io->offset > io->wb_dropped + VIR_WORKER_IO_BEHIND) {
        uint64_t to = PAGE_DOWN(io->offset - VIR_WORKER_IO_BEHIND);
        (void)posix_fadvise(io->fd, (off_t)(io->base + io->wb_dropped),
                            (off_t)(to - io->wb_dropped), POSIX_FADV_DONTNEED);
    }
    return 0;
}
