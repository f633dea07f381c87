/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * shm-seqlock-test.c: the seqlocks under a real concurrent writer process,
 * and a writer that dies in the middle of a write.
 *
 * The hammering writer derives every field of each record from one counter,
 * so a copy mixing two writes cannot pass the consistency check. The reader
 * must never accept such a copy; it may give up (EAGAIN) now and then.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "shm/segment.h"
#include "testutils.h"

#define READS 2000000L       /* at least this many reads... */
#define MIN_CHANGES 1000L    /* ...that saw the writer move this often */

static char *rundir;
static virShmSegment *seg;

static int setupSegment(void **state)
{
    (void)state;
    if (!(rundir = testMakeRunDir()))
        return -1;
    seg = virShmSegmentCreate(rundir, 2);
    if (!seg)
        return -1;
    /* The library keeps its mapping out of forked children; this test's
     * forked writers stand for workers, which map the same pages. */
    return madvise(seg->base, seg->size, MADV_DOFORK);
}

static int teardownSegment(void **state)
{
    (void)state;
    virShmSegmentDestroy(seg);
    seg = NULL;
    testRemoveDir(rundir);
    free(rundir);
    rundir = NULL;
    return 0;
}

/* --- records derived from one counter --- */

static void fillProgress(virShmProgressData *d, uint64_t c)
{
    d->type = (uint32_t)(c & 1);
    d->flags = (uint32_t)(c & 7);
    d->percent = (uint32_t)(c % 101);
    d->reserved0 = 0;
    d->elapsed_ms = c;
    d->eta_ms = c * 3 + 1;
    d->bytes_done = ~c;
    d->bytes_total = c ^ UINT64_C(0x5555555555555555);
    memset(d->phase, 'a' + (int)(c % 26), sizeof(d->phase) - 1);
    d->phase[sizeof(d->phase) - 1] = '\0';
}

static bool checkProgress(const virShmProgressData *d)
{
    virShmProgressData want;

    fillProgress(&want, d->elapsed_ms);
    return memcmp(d, &want, sizeof(want)) == 0;
}

static void fillLifecycle(virShmLifecycleData *d, uint64_t c)
{
    d->job_id = c;
    d->generation = c / 2;
    d->state = (uint32_t)(c % VIR_SHM_STATE_LAST);
    d->flags = (uint32_t)c;
    d->worker_pid = (int32_t)(c & 0x7fffffff);
    d->exit_status = (int32_t)(c % 256);
    d->term_signal = (int32_t)(c % 65);
    d->error_code = (int32_t)(c % 1000);
    d->start_realtime_ns = c * 7;
    d->end_realtime_ns = c * 11;
    d->rate_bps = ~c;
    d->eta_ms = c + 5;
    fillProgress(&d->final, c);
    memset(d->op, 'A' + (int)(c % 26), sizeof(d->op) - 1);
    d->op[sizeof(d->op) - 1] = '\0';
    memset(d->target, 'a' + (int)((c + 1) % 26), sizeof(d->target) - 1);
    d->target[sizeof(d->target) - 1] = '\0';
    d->sampled_realtime_ns = c * 13;
    d->start_mono_ns = c * 17;
    d->end_mono_ns = c * 19;
    memset(d->error, '0' + (int)(c % 10), sizeof(d->error) - 1);
    d->error[sizeof(d->error) - 1] = '\0';
}

static bool checkLifecycle(const virShmLifecycleData *d)
{
    virShmLifecycleData want;

    fillLifecycle(&want, d->job_id);
    return memcmp(d, &want, sizeof(want)) == 0;
}

/* --- the hammering writer, a separate process --- */

typedef enum { KIND_PROGRESS, KIND_LIFECYCLE } recordKind;

/* The stop request travels in the slot's cancel word, which neither
 * seqlock covers: the child polls it between writes. */
static _Atomic uint32_t *stopWord(void)
{
    return &virShmSlotProgress(seg, 1)->cancel_requested;
}

static void writeUntilStopped(recordKind kind)
{
    virShmProgress *p = virShmSlotProgress(seg, 0);
    virShmLifecycle *l = virShmSlotLifecycle(seg, 0);
    for (uint64_t c = 1; !atomic_load_explicit(stopWord(), memory_order_relaxed); c++) {
        if (kind == KIND_PROGRESS) {
            virShmProgressData d;
            fillProgress(&d, c);
            virShmProgressWrite(p, &d);
        } else {
            virShmLifecycleData d;
            fillLifecycle(&d, c);
            virShmLifecycleWrite(l, &d);
        }
    }
}

static pid_t startWriter(recordKind kind)
{
    pid_t parent = getpid();
    pid_t pid = fork();

    assert_true(pid >= 0);
    if (pid > 0)
        return pid;
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(3);
    writeUntilStopped(kind);
    _exit(0);
}

static void *writerThread(void *arg)
{
    writeUntilStopped(*(recordKind *)arg);
    return NULL;
}

static void stopWriter(pid_t pid)
{
    int status;

    atomic_store_explicit(stopWord(), 1, memory_order_relaxed);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    atomic_store_explicit(stopWord(), 0, memory_order_relaxed);
}

/* @threaded: the writer is a thread of this process (what ThreadSanitizer
 * can watch) instead of a separate process. */
static void hammer(recordKind kind, bool threaded)
{
    virShmProgress *p = virShmSlotProgress(seg, 0);
    virShmLifecycle *l = virShmSlotLifecycle(seg, 0);
    long reads = 0, good = 0, busy = 0, changes = 0;
    /* valgrind runs one thread at a time: a writer thread and a reader
     * thread never race there, and the spinning reader starves the writer.
     * The threaded variant is for ThreadSanitizer and native runs; the
     * writer-process variants cover valgrind. */
    if (threaded && RUNNING_ON_VALGRIND) {
        print_message("%s (thread): not run under valgrind, which serialises threads\n",
                      kind == KIND_PROGRESS ? "progress" : "lifecycle");
        return;
    }
    /* Fewer under valgrind, which runs both sides some 50 times slower. */
    long scale = (threaded ? 10 : 1) * (RUNNING_ON_VALGRIND ? 10 : 1);
    long wantReads = READS / scale;
    long wantChanges = MIN_CHANGES / scale;
    uint64_t last = 0;
    long long deadline;
    pid_t pid = -1;
    pthread_t th;

    if (threaded)
        assert_int_equal(pthread_create(&th, NULL, writerThread, &kind), 0);
    else
        pid = startWriter(kind);

    /* The writer has started once the sequence moved off zero. */
    assert_true(TEST_WAIT_UNTIL(atomic_load(kind == KIND_PROGRESS ? &p->seq : &l->seq) != 0,
                                TEST_TIMEOUT_MS));
    deadline = testNowMs() + TEST_TIMEOUT_MS;
    while (reads < wantReads || changes < wantChanges) {
        uint64_t c;
        int r;

        if ((reads & 0xffff) == 0 && testNowMs() > deadline)
            break;
        reads++;
        if (kind == KIND_PROGRESS) {
            virShmProgressData d;
            r = virShmProgressRead(p, &d);
            if (r == 0 && !checkProgress(&d))
                fail_msg("torn progress copy accepted after %ld reads (elapsed %llu, "
                         "percent %u, bytes_done %llx)", reads,
                         (unsigned long long)d.elapsed_ms, d.percent,
                         (unsigned long long)d.bytes_done);
            c = d.elapsed_ms;
        } else {
            virShmLifecycleData d;
            r = virShmLifecycleRead(l, &d);
            if (r == 0 && !checkLifecycle(&d))
                fail_msg("torn lifecycle copy accepted after %ld reads (job %llu, "
                         "rate %llx, op %.8s)", reads,
                         (unsigned long long)d.job_id,
                         (unsigned long long)d.rate_bps, d.op);
            c = d.job_id;
        }
        if (r < 0) {
            assert_int_equal(errno, EAGAIN);
            busy++;
            continue;
        }
        good++;
        /* One writer: consistent copies never go back in time. */
        if (c < last)
            fail_msg("read counter %llu after %llu", (unsigned long long)c,
                     (unsigned long long)last);
        if (c != last)
            changes++;
        last = c;
    }
    if (threaded) {
        atomic_store_explicit(stopWord(), 1, memory_order_relaxed);
        assert_int_equal(pthread_join(th, NULL), 0);
        atomic_store_explicit(stopWord(), 0, memory_order_relaxed);
    } else {
        stopWriter(pid);
    }
    print_message("%s%s: %ld reads, %ld consistent, %ld gave up (EAGAIN), %ld changes seen\n",
                  kind == KIND_PROGRESS ? "progress" : "lifecycle",
                  threaded ? " (thread)" : "", reads, good, busy, changes);
    assert_true(changes >= wantChanges);
    assert_true(reads >= wantReads);
}

static void testProgressNoTornReads(void **state)
{
    (void)state;
    hammer(KIND_PROGRESS, false);
}

static void testLifecycleNoTornReads(void **state)
{
    (void)state;
    hammer(KIND_LIFECYCLE, false);
}

static void testThreadsNoTornReads(void **state)
{
    (void)state;
    hammer(KIND_PROGRESS, true);
    hammer(KIND_LIFECYCLE, true);
}

/* --- a writer that dies between the two sequence stores --- */

static void stopSelf(int sig)
{
    (void)sig;
    /* Stopped with the sequence odd; the parent kills us here. */
    raise(SIGSTOP);
}

/* Runs the real writer on a source record whose second half lies in an
 * inaccessible page: the write faults after the sequence went odd and some
 * words were stored; the fault handler stops the child, which the parent
 * then kills with SIGKILL, as a worker killed mid-update. */
static void dieMidWrite(recordKind kind)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    pid_t pid = fork();
    int status;

    assert_true(pid >= 0);
    if (pid == 0) {
        struct sigaction sa;
        char *buf = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (buf == MAP_FAILED || mprotect(buf + page, page, PROT_NONE) < 0)
            _exit(2);
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = stopSelf;
        sigaction(SIGSEGV, &sa, NULL);
        sigaction(SIGBUS, &sa, NULL);
        /* 56 bytes readable: seven words get stored, then the fault. */
        char *src = buf + page - 56;
        memset(buf, 0x77, page);
        if (kind == KIND_PROGRESS)
            virShmProgressWrite(virShmSlotProgress(seg, 0), (void *)src);
        else
            virShmLifecycleWrite(virShmSlotLifecycle(seg, 0), (void *)src);
        _exit(1); /* not reached */
    }
    assert_int_equal(waitpid(pid, &status, WUNTRACED), pid);
    assert_true(WIFSTOPPED(status));
    assert_int_equal(kill(pid, SIGKILL), 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGKILL);
}

static void testProgressWriterKilled(void **state)
{
    (void)state;
    virShmProgress *p = virShmSlotProgress(seg, 0);
    virShmProgressData d, out;

    fillProgress(&d, 41);
    virShmProgressWrite(p, &d);
    assert_int_equal(virShmProgressRead(p, &out), 0);
    assert_true(checkProgress(&out));
    assert_false(virShmProgressRepair(p));

    dieMidWrite(KIND_PROGRESS);
    assert_int_equal(atomic_load(&p->seq) & 1, 1);

    /* The reader gives up within its bound, every time, output untouched. */
    for (int i = 0; i < 100; i++) {
        memset(&out, 0xee, sizeof(out));
        errno = 0;
        assert_int_equal(virShmProgressRead(p, &out), -1);
        assert_int_equal(errno, EAGAIN);
        for (size_t k = 0; k < sizeof(out); k++)
            assert_int_equal(((unsigned char *)&out)[k], 0xee);
    }

    /* The supervisor repairs after reaping: readable again (the record is
     * the dead writer's mix, sanitised), and a second repair is a no-op. */
    assert_true(virShmProgressRepair(p));
    assert_int_equal(atomic_load(&p->seq) & 1, 0);
    assert_int_equal(virShmProgressRead(p, &out), 0);
    assert_true(out.percent <= 100);
    assert_true(out.type <= 1);
    assert_int_equal(out.phase[VIR_SHM_PHASE_MAX - 1], '\0');
    assert_false(virShmProgressRepair(p));

    /* A later writer works normally. */
    fillProgress(&d, 42);
    virShmProgressWrite(p, &d);
    assert_int_equal(virShmProgressRead(p, &out), 0);
    assert_memory_equal(&out, &d, sizeof(d));
}

static void testProgressWriterOddStart(void **state)
{
    (void)state;
    virShmProgress *p = virShmSlotProgress(seg, 0);
    virShmProgressData d, out;

    /* A worker that inherits an odd sequence (never repaired) still
     * publishes: its write makes the sequence even at the end. */
    atomic_store(&p->seq, 7);
    assert_int_equal(virShmProgressRead(p, &out), -1);
    fillProgress(&d, 5);
    virShmProgressWrite(p, &d);
    assert_int_equal(atomic_load(&p->seq), 10);
    assert_int_equal(virShmProgressRead(p, &out), 0);
    assert_memory_equal(&out, &d, sizeof(d));
}

static void testLifecycleWriterKilled(void **state)
{
    (void)state;
    virShmLifecycle *l = virShmSlotLifecycle(seg, 0);
    virShmLifecycleData d, out;

    fillLifecycle(&d, 4);
    virShmLifecycleWrite(l, &d);
    assert_int_equal(virShmLifecycleRead(l, &out), 0);
    assert_true(checkLifecycle(&out));
    assert_false(virShmLifecycleRepair(l));

    dieMidWrite(KIND_LIFECYCLE);
    assert_int_equal(atomic_load(&l->seq) & 1, 1);
    for (int i = 0; i < 100; i++) {
        errno = 0;
        assert_int_equal(virShmLifecycleRead(l, &out), -1);
        assert_int_equal(errno, EAGAIN);
    }

    /* Repaired, the record is readable again, or refused as invalid if the
     * dead writer's 0x77 bytes reached the state word; never EAGAIN. */
    assert_true(virShmLifecycleRepair(l));
    assert_int_equal(atomic_load(&l->seq) & 1, 0);
    errno = 0;
    if (virShmLifecycleRead(l, &out) < 0)
        assert_int_equal(errno, EBADMSG);
    else
        assert_int_equal(out.op[VIR_SHM_OP_MAX - 1], '\0');
    assert_false(virShmLifecycleRepair(l));

    fillLifecycle(&d, 9);
    virShmLifecycleWrite(l, &d);
    assert_int_equal(virShmLifecycleRead(l, &out), 0);
    assert_memory_equal(&out, &d, sizeof(d));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(testProgressNoTornReads, setupSegment, teardownSegment),
        cmocka_unit_test_setup_teardown(testLifecycleNoTornReads, setupSegment, teardownSegment),
        cmocka_unit_test_setup_teardown(testThreadsNoTornReads, setupSegment, teardownSegment),
        cmocka_unit_test_setup_teardown(testProgressWriterKilled, setupSegment, teardownSegment),
        cmocka_unit_test_setup_teardown(testProgressWriterOddStart, setupSegment, teardownSegment),
        cmocka_unit_test_setup_teardown(testLifecycleWriterKilled, setupSegment, teardownSegment),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
