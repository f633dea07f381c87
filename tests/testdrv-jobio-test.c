/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * testdrv-jobio-test.c: worker/jobio.c: the token bucket's arithmetic (no
 * clock: the delays it computes are checked, never measured), full writes
 * and reads, errors, cancel between chunks, counters.
 */
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "../worker/jobio.c"
#include "testdrv-fakejob.h"
#include "testutils.h"

#define MS 1000000ull

static void test_bucket(void **state)
{
    (void)state;
    virWorkerIOBucket b;

    /* 1 MB/s, 100 kB of burst, starting full at t=0. */
    virWorkerIOBucketInit(&b, 1000000, 100000, 0);
    assert_int_equal(virWorkerIOBucketTake(&b, 100000, 0), 0);
    /* Empty now: 100 kB more costs 100 ms. */
    assert_int_equal(virWorkerIOBucketTake(&b, 100000, 0), 100 * MS);
    /* After sleeping those 100 ms the debt is paid; the next 100 kB again
     * costs 100 ms: a steady 1 MB/s. */
    assert_int_equal(virWorkerIOBucketTake(&b, 100000, 100 * MS), 100 * MS);
    assert_int_equal(virWorkerIOBucketTake(&b, 50000, 200 * MS), 50 * MS);
    /* A long idle time refills only up to the burst. */
    assert_int_equal(virWorkerIOBucketTake(&b, 100000, 10000 * MS), 0);
    assert_int_equal(virWorkerIOBucketTake(&b, 1, 10000 * MS), 1000); /* 1 byte = 1 us */
    /* Time going backwards (never with CLOCK_MONOTONIC) adds nothing. */
    assert_int_equal(virWorkerIOBucketTake(&b, 1000, 5000 * MS), 1001000);

    /* Unlimited. */
    virWorkerIOBucketInit(&b, 0, 0, 0);
    assert_int_equal(virWorkerIOBucketTake(&b, UINT64_MAX, 0), 0);

    /* Extreme rates do not overflow. */
    virWorkerIOBucketInit(&b, UINT64_MAX, 1 << 20, 0);
    assert_int_equal(virWorkerIOBucketTake(&b, 1 << 20, 0), 0);
    assert_int_equal(virWorkerIOBucketTake(&b, 1 << 20, UINT64_MAX / 2), 0);
    virWorkerIOBucketInit(&b, 1, 4096, 0);
    assert_int_equal(virWorkerIOBucketTake(&b, 4096, 0), 0);
    assert_int_equal(virWorkerIOBucketTake(&b, 4096, 0), 4096ull * 1000000000ull);
}

static void test_rate_and_chunk(void **state)
{
    (void)state;
    assert_int_equal(virWorkerIORateMin(0, 0), 0);
    assert_int_equal(virWorkerIORateMin(0, 5), 5);
    assert_int_equal(virWorkerIORateMin(5, 0), 5);
    assert_int_equal(virWorkerIORateMin(3, 5), 3);
    assert_int_equal(virWorkerIORateMin(7, 5), 5);

    assert_int_equal(virWorkerIOChunkSize(0), VIR_WORKER_IO_BUFSIZE);
    assert_int_equal(virWorkerIOChunkSize(1), 4096);
    assert_int_equal(virWorkerIOChunkSize(1000), 4096);
    assert_int_equal(virWorkerIOChunkSize(1 << 20), 102400);   /* 1 MiB/s: 100 ms of data */
    assert_int_equal(virWorkerIOChunkSize(64ull << 20), VIR_WORKER_IO_BUFSIZE);
    assert_int_equal(virWorkerIOChunkSize(UINT64_MAX), VIR_WORKER_IO_BUFSIZE);
}

static int tempFile(void)
{
    char path[64];
    int fd = fakeTempFile(path);
    unlink(path);
    return fd;
}

static void test_write_read(void **state)
{
    (void)state;
    fakeJob job;
    virWorkerIO io;
    size_t len = 3 * VIR_WORKER_IO_BUFSIZE + 5, got;
    uint8_t *data = malloc(len), *back = malloc(len + 10);
    int fd = tempFile();

    for (size_t i = 0; i < len; i++)
        data[i] = (uint8_t)(i * 31 + (i >> 12));
    fakeJobInit(&job, fd);
    assert_int_equal(virWorkerIOInit(&io, FJ(&job), fd, "test data", len, 0), 0);
    assert_true(((uintptr_t)io.buf & 4095) == 0);
    assert_int_equal(virWorkerIOWrite(&io, data, len), 0);
    assert_int_equal(io.done, len);
    assert_int_equal(job.done, len);
    assert_int_equal(job.total, len);
    assert_int_equal(virWorkerIOPercent(&io), 100);
    /* Rewrite the first bytes out of band: counters do not move. */
    assert_int_equal(virWorkerIOPwrite(&io, "HEAD", 4, 0), 0);
    assert_int_equal(io.done, len);
    assert_int_equal(virWorkerIOSync(&io), 0);
    virWorkerIOFree(&io);
    virWorkerIOFree(&io); /* twice is harmless */

    memcpy(data, "HEAD", 4);
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    fakeJobInit(&job, fd);
    assert_int_equal(virWorkerIOInit(&io, FJ(&job), fd, "test data", len, 0), 0);
    assert_int_equal(virWorkerIORead(&io, back, len + 10, &got), 0);
    assert_int_equal(got, len);        /* short only at end of file */
    assert_memory_equal(back, data, len);
    assert_int_equal(job.done, len);
    assert_int_equal(virWorkerIORead(&io, back, 10, &got), 0);
    assert_int_equal(got, 0);
    virWorkerIOFree(&io);

    close(fd);
    free(data);
    free(back);
}

/* The id of @io's flush thread, once it runs. */
static pid_t flushTid(virWorkerIO *io)
{
    pid_t tid;
    pthread_mutex_lock(&io->flusher->lock);
    tid = io->flusher->tid;
    pthread_mutex_unlock(&io->flusher->lock);
    return tid;
}

/* Whether thread @tid of this process blocks SIGTERM. */
static bool threadBlocksTerm(pid_t tid)
{
    char path[64], line[256];
    unsigned long long blk = 0;

    snprintf(path, sizeof(path), "/proc/self/task/%d/status", (int)tid);
    FILE *f = fopen(path, "re");
    assert_non_null(f);
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "SigBlk: %llx", &blk) == 1)
            break;
    fclose(f);
    return (blk & (1ull << (SIGTERM - 1))) != 0;
}

static bool threadGone(pid_t tid)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/task/%d", (int)tid);
    return access(path, F_OK) < 0;
}

/* A large file, flush_behind set: once VIR_WORKER_IO_FLUSH_STEP bytes are
 * written out, a flush runs on a thread of its own (blocking every signal, so a cancel's
 * SIGTERM reaches the job's thread); the final sync ends the thread and
 * takes a failure of a background flush as its own. A short file never
 * starts the thread, nor a writer that did not ask. */
static void test_background_flush(void **state)
{
    (void)state;
    virWorkerIO io;
    size_t mib = 1024 * 1024, len = VIR_WORKER_IO_FLUSH_STEP + 3 * VIR_WORKER_IO_BEHIND;
    uint8_t *data = malloc(len), *back = malloc(len);
    pid_t tid;
    int fd = tempFile();

    for (size_t i = 0; i < len; i++)
        data[i] = (uint8_t)(i * 13 + (i >> 20));
    assert_int_equal(virWorkerIOInit(&io, NULL, fd, "test data", len, 0), 0);
    io.flush_behind = true;
    if (!io.regular)
        goto noWriteBehind;   /* no regular file here: nothing is written behind */
    /* A short file so far: no thread. */
    assert_int_equal(virWorkerIOWrite(&io, data, 8 * mib), 0);
    assert_null(io.flusher);
    assert_int_equal(virWorkerIOWrite(&io, data + 8 * mib, len - 8 * mib), 0);
    if (!io.regular)
        goto noWriteBehind;   /* the file system has no sync_file_range */
    assert_non_null(io.flusher);
    assert_true(io.fl_asked >= VIR_WORKER_IO_FLUSH_STEP);
    /* The writer's window is the flush step: below two steps it has not
     * waited for the disk (nor dropped anything from the cache). */
    assert_true(len < 2 * VIR_WORKER_IO_FLUSH_STEP);
    assert_int_equal(io.wb_dropped, VIR_WORKER_IO_BUFSIZE);   /* as set at init */
    assert_true(TEST_WAIT_UNTIL((tid = flushTid(&io)) > 0, TEST_TIMEOUT_MS));
    assert_true(threadBlocksTerm(tid));
    assert_int_equal(virWorkerIOSync(&io), 0);
    assert_null(io.flusher);
    assert_true(TEST_WAIT_UNTIL(threadGone(tid), TEST_TIMEOUT_MS));
    assert_int_equal(pread(fd, back, len, 0), (ssize_t)len);
    assert_memory_equal(back, data, len);
    virWorkerIOFree(&io);

    /* A background flush that failed fails the sync, with its error (the
     * kernel reports a file's write error once, to that flush). */
    assert_int_equal(ftruncate(fd, 0), 0);
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    assert_int_equal(virWorkerIOInit(&io, NULL, fd, "test data", len, 0), 0);
    io.flush_behind = true;
    assert_int_equal(virWorkerIOWrite(&io, data, len), 0);
    assert_non_null(io.flusher);
    pthread_mutex_lock(&io.flusher->lock);
    io.flusher->err = EIO;
    pthread_mutex_unlock(&io.flusher->lock);
    assert_int_equal(virWorkerIOSync(&io), -1);
    assert_string_equal(lastMessage(), "cannot sync test data: Input/output error");
    assert_null(io.flusher);
    virWorkerIOFree(&io);

    /* Freed without a sync (a cancel): the thread ends too. */
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    assert_int_equal(virWorkerIOInit(&io, NULL, fd, "test data", len, 0), 0);
    io.flush_behind = true;
    assert_int_equal(virWorkerIOWrite(&io, data, len), 0);
    assert_non_null(io.flusher);
    assert_true(TEST_WAIT_UNTIL((tid = flushTid(&io)) > 0, TEST_TIMEOUT_MS));
    virWorkerIOFree(&io);
    assert_null(io.flusher);
    assert_true(TEST_WAIT_UNTIL(threadGone(tid), TEST_TIMEOUT_MS));

    /* Not asked for (the default): no thread, however large the file. */
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    assert_int_equal(virWorkerIOInit(&io, NULL, fd, "test data", len, 0), 0);
    assert_int_equal(virWorkerIOWrite(&io, data, len), 0);
    assert_null(io.flusher);
    /* ...and its window stays VIR_WORKER_IO_BEHIND: it waited, and
     * dropped all but the last two windows. */
    assert_true(io.wb_dropped + 2 * VIR_WORKER_IO_BEHIND + VIR_WORKER_IO_BUFSIZE >= len);
    assert_true(io.wb_dropped > VIR_WORKER_IO_BUFSIZE);
    assert_int_equal(virWorkerIOSync(&io), 0);
    virWorkerIOFree(&io);

    close(fd);
    free(data);
    free(back);
    return;

noWriteBehind:
    virWorkerIOFree(&io);
    close(fd);
    free(data);
    free(back);
    skip();
}

static void test_errors(void **state)
{
    (void)state;
    virWorkerIO io;
    uint8_t buf[8192] = { 0 };
    size_t got;
    int fd = open("/dev/full", O_WRONLY | O_CLOEXEC);
    int fds[2];

    assert_true(fd >= 0);
    assert_int_equal(virWorkerIOInit(&io, NULL, fd, "save image", 0, 0), 0);
    assert_int_equal(virWorkerIOWrite(&io, buf, sizeof(buf)), -1);
    assert_string_equal(lastMessage(), "cannot write save image: No space left on device");
    assert_int_equal(virGetLastError()->code, VIR_ERR_SYSTEM_ERROR);
    assert_int_equal(virWorkerIOPwrite(&io, buf, 10, 0), -1);
    assert_contains(lastMessage(), "No space left on device");
    virWorkerIOFree(&io);
    close(fd);

    /* Reading a write-only descriptor. */
    fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    assert_int_equal(virWorkerIOInit(&io, NULL, fd, "core dump", 0, 0), 0);
    assert_int_equal(virWorkerIORead(&io, buf, 10, &got), -1);
    assert_string_equal(lastMessage(), "cannot read core dump: Bad file descriptor");
    virWorkerIOFree(&io);
    close(fd);

    /* A pipe has nothing to sync: not an error. */
    assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
    assert_int_equal(virWorkerIOInit(&io, NULL, fds[1], "stream", 0, 0), 0);
    assert_int_equal(virWorkerIOSync(&io), 0);
    virWorkerIOFree(&io);
    close(fds[0]);
    close(fds[1]);
}

static void test_cancel(void **state)
{
    (void)state;
    fakeJob job;
    virWorkerIO io;
    uint8_t *data = calloc(1, 4 * VIR_WORKER_IO_BUFSIZE);
    size_t got;
    int fd = tempFile();

    /* Asked before: nothing is written. */
    fakeJobInit(&job, fd);
    job.cancel = true;
    assert_int_equal(virWorkerIOInit(&io, FJ(&job), fd, "save image", 0, 0), 0);
    assert_int_equal(virWorkerIOWrite(&io, data, 4 * VIR_WORKER_IO_BUFSIZE), VIR_WORKER_IO_CANCELLED);
    assert_int_equal(io.done, 0);
    assert_int_equal(lseek(fd, 0, SEEK_END), 0);
    virWorkerIOFree(&io);

    /* Asked after the second chunk: the write stops there. */
    fakeJobInit(&job, fd);
    job.cancelAtBytes = 2 * VIR_WORKER_IO_BUFSIZE;
    assert_int_equal(virWorkerIOInit(&io, FJ(&job), fd, "save image", 0, 0), 0);
    assert_int_equal(virWorkerIOWrite(&io, data, 4 * VIR_WORKER_IO_BUFSIZE), VIR_WORKER_IO_CANCELLED);
    assert_int_equal(io.done, 2 * VIR_WORKER_IO_BUFSIZE);
    virWorkerIOFree(&io);

    /* Paced: 40 kB/s gives 4 KiB chunks; cancel after two of them. */
    fakeJobInit(&job, fd);
    job.cancelAtBytes = 8192;
    assert_int_equal(virWorkerIOInit(&io, FJ(&job), fd, "save image", 0, 40960), 0);
    assert_int_equal(io.chunk, 4096);
    assert_int_equal(virWorkerIOWrite(&io, data, 65536), VIR_WORKER_IO_CANCELLED);
    assert_int_equal(io.done, 8192);
    virWorkerIOFree(&io);

    /* Reads too. */
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    fakeJobInit(&job, fd);
    job.cancelAtBytes = VIR_WORKER_IO_BUFSIZE;
    assert_int_equal(virWorkerIOInit(&io, FJ(&job), fd, "save image", 0, 0), 0);
    assert_int_equal(virWorkerIORead(&io, data, 3 * VIR_WORKER_IO_BUFSIZE, &got), VIR_WORKER_IO_CANCELLED);
    assert_int_equal(got, VIR_WORKER_IO_BUFSIZE);
    virWorkerIOFree(&io);

    /* CPU work counted like I/O. */
    fakeJobInit(&job, -1);
    assert_int_equal(virWorkerIOInit(&io, FJ(&job), -1, "guest memory", 3 * VIR_WORKER_IO_BUFSIZE, 0), 0);
    assert_int_equal(virWorkerIOAdvance(&io, 2 * VIR_WORKER_IO_BUFSIZE), 0);
    assert_int_equal(job.done, 2 * VIR_WORKER_IO_BUFSIZE);
    assert_int_equal(virWorkerIOPercent(&io), 66);
    job.cancel = true;
    assert_int_equal(virWorkerIOAdvance(&io, 1), VIR_WORKER_IO_CANCELLED);
    virWorkerIOFree(&io);

    close(fd);
    free(data);
}

/* Paced writes move the right bytes; how long they took is not asserted. */
static void test_paced_write(void **state)
{
    (void)state;
    fakeJob job;
    virWorkerIO io;
    uint8_t data[20000];
    int fd = tempFile();

    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)i;
    fakeJobInit(&job, fd);
    assert_int_equal(virWorkerIOInit(&io, FJ(&job), fd, "save image", sizeof(data), 200000), 0);
    assert_int_equal(io.chunk, 16384);
    assert_int_equal(virWorkerIOWrite(&io, data, sizeof(data)), 0);
    assert_int_equal(job.done, sizeof(data));
    assert_int_equal(virWorkerIOPercent(&io), 100);
    virWorkerIOSetRate(&io, 0);
    assert_int_equal(io.chunk, VIR_WORKER_IO_BUFSIZE);
    virWorkerIOFree(&io);
    assert_int_equal(lseek(fd, 0, SEEK_END), sizeof(data));
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bucket),
        cmocka_unit_test(test_rate_and_chunk),
        cmocka_unit_test(test_write_read),
        cmocka_unit_test(test_background_flush),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_paced_write),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
