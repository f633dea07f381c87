/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * shm-bench.c: what the status segment costs, beside what the same report
 * would cost through the kernel.
 *
 *   progress-write   one virShmProgressWrite (the worker's hot path)
 *   progress-read    one consistent virShmProgressRead (virJobGetInfo)
 *   scan-4096-slots  lifecycle + progress of every slot of a full
 *                    4096-slot segment
 *   scan-1000-jobs   what virtsup-stat reads of a segment with 1,000
 *                    running jobs (virShmNextWrittenSlot, virShmSlotView:
 *                    the records, with the progress the supervisor sampled):
 *                    again and again through one mapping (a refresh), and
 *                    the first time in a fresh process (open included),
 *                    the segment on tmpfs as under /run; that first scan
 *                    is also shown against the floor of any reader that
 *                    maps the file (a fresh process opening it and
 *                    touching the same pages, one load each), with the
 *                    minor faults the scan itself takes, and against the
 *                    same scan preceded by madvise(MADV_POPULATE_READ) of
 *                    the written slots' pages (interleaved, same run)
 *
 * Baselines, measured in the same run: a 128-byte write() to a pipe that a
 * thread drains, and a 128-byte send() on an AF_UNIX SOCK_DGRAM socketpair
 * that a thread drains; for the 1,000-job scans, the same bytes (1,000
 * lifecycle and progress records) copied from ordinary warm memory. Each
 * figure is the best (or the median) of a few rounds.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sys/wait.h>

#include "libvirtsup/virterror.h"
#include "shm/segment.h"
#include "util/internal.h"
#include "benchutil.h"

#define ROUNDS 5
#define SHM_OPS 5000000L
#define SYS_OPS 200000L
#define SCANS 200L
#define SCAN_SLOTS 4096u

static double nowNs(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void die(const char *what)
{
    fprintf(stderr, "shm-bench: %s: %s\n", what, strerror(errno));
    exit(1);
}

/* --- baselines --- */

static void *drain(void *arg)
{
    int fd = *(int *)arg;
    char buf[65536];

    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n == 0)
            break;
        if (n < 0 && errno != EINTR)
            break;
    }
    return NULL;
}

/* ns per 128-byte write on a pipe (@dgram false) or a datagram socket. */
static double kernelBaseline(bool dgram)
{
    char msg[128];
    int fds[2];
    pthread_t th;
    double t0, t1;

    memset(msg, 'm', sizeof(msg));
    if (dgram) {
        if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, fds) < 0)
            die("socketpair");
    } else if (pipe2(fds, O_CLOEXEC) < 0) {
        die("pipe");
    }
    if (pthread_create(&th, NULL, drain, &fds[0]) != 0)
        die("pthread_create");
    t0 = nowNs();
    for (long i = 0; i < SYS_OPS; i++) {
        ssize_t n = dgram ? send(fds[1], msg, sizeof(msg), 0)
                          : write(fds[1], msg, sizeof(msg));
        if (n != (ssize_t)sizeof(msg))
            die(dgram ? "send" : "write");
    }
    t1 = nowNs();
    close(fds[1]);
    if (dgram)
        shutdown(fds[0], SHUT_RDWR);
    pthread_join(th, NULL);
    close(fds[0]);
    return (t1 - t0) / SYS_OPS;
}

/* --- the segment --- */

static double progressWrite(virShmProgress *p)
{
    virShmProgressData d;
    double t0, t1;

    memset(&d, 0, sizeof(d));
    strcpy(d.phase, "writing memory");
    d.bytes_total = UINT64_C(1) << 34;
    d.elapsed_ms = 1; /* slot 0 holds job 1: the scan checks it */
    t0 = nowNs();
    for (long i = 0; i < SHM_OPS; i++) {
        d.percent = (uint32_t)(i % 101);
        d.bytes_done = (uint64_t)i;
        virShmProgressWrite(p, &d);
    }
    t1 = nowNs();
    return (t1 - t0) / SHM_OPS;
}

static double progressRead(const virShmProgress *p)
{
    virShmProgressData d;
    uint64_t sum = 0;
    double t0, t1;

    t0 = nowNs();
    for (long i = 0; i < SHM_OPS; i++) {
        if (virShmProgressRead(p, &d) == 0)
            sum += d.bytes_done;
    }
    t1 = nowNs();
    if (sum == 1)
        fprintf(stderr, "unlikely\n");
    return (t1 - t0) / SHM_OPS;
}

static double scan(const virShmSegment *seg)
{
    virShmLifecycleData l;
    virShmProgressData d;
    uint64_t seen = 0;
    double t0, t1;

    t0 = nowNs();
    for (long n = 0; n < SCANS; n++) {
        for (uint32_t s = 0; s < seg->nslots; s++) {
            if (virShmLifecycleRead(virShmSlotLifecycle(seg, s), &l) == 0 &&
                virShmProgressRead(virShmSlotProgress(seg, s), &d) == 0)
                seen += l.job_id == d.elapsed_ms;
        }
    }
    t1 = nowNs();
    if (seen != (uint64_t)SCANS * seg->nslots)
        fprintf(stderr, "shm-bench: scan read %llu of %llu slots\n",
                (unsigned long long)seen, (unsigned long long)SCANS * seg->nslots);
    return (t1 - t0) / SCANS;
}

static double best(double a, double b)
{
    return a < b ? a : b;
}

#define LIVE_JOBS 1000
#define REFRESHES 200
#define FIRSTS 31

/* What virtsup-stat reads of a segment: the written slots' views. */
static uint32_t scanJobs(const virShmSegment *seg)
{
    static virShmJobView v;
    uint32_t n = 0;
    for (uint32_t i = virShmNextWrittenSlot(seg, 0); i < seg->nslots;
         i = virShmNextWrittenSlot(seg, i + 1)) {
        virShmSlotView(seg, i, false, &v);
        n += v.kind == VIR_SHM_VIEW_JOB && v.source == VIR_SHM_PROGRESS_SAMPLED;
    }
    return n;
}

/* A supervisor's segment with LIVE_JOBS running jobs, on tmpfs when there
 * is one (a run directory is), in @dir. */
static virShmSegment *liveSegment(const char *dir)
{
    virShmSegment *seg = virShmSegmentCreate(dir, VIR_SHM_DEFAULT_SLOTS);
    if (!seg) {
        fprintf(stderr, "shm-bench: %s\n", virGetLastErrorMessage());
        exit(1);
    }
    for (int i = 0; i < LIVE_JOBS; i++) {
        uint64_t id;
        uint32_t slot;
        virShmLifecycleData lc;
        virShmProgressData d;
        if (virShmRingAlloc(seg, "test.domain.save", "bench", &id, &slot) < 0 ||
            virShmLifecycleRead(virShmSlotLifecycle(seg, slot), &lc) < 0)
            die("cannot fill the segment");
        memset(&d, 0, sizeof(d));
        d.flags = VIR_SHM_PR_INITIALIZED;
        d.percent = (uint32_t)(i % 100);
        d.bytes_done = (uint64_t)i << 20;
        d.bytes_total = 100ull << 20;
        strcpy(d.phase, "writing memory");
        virShmProgressWrite(virShmSlotProgress(seg, slot), &d);
        /* As the supervisor's sample leaves it. */
        lc.state = VIR_SHM_STATE_RUNNING;
        lc.worker_pid = 100000 + i;
        lc.rate_bps = 1 << 20;
        lc.final = d;
        lc.sampled_realtime_ns = virShmNowReal();
        virShmLifecycleWrite(virShmSlotLifecycle(seg, slot), &lc);
    }
    return seg;
}

#ifndef MADV_POPULATE_READ
# define MADV_POPULATE_READ 22   /* Linux 5.14 */
#endif

/* Where the page of slot @slot's lifecycle record starts; the page of
 * their error texts follows it. */
static uint64_t recordPage(uint32_t slot)
{
    return VIR_SHM_LIFECYCLE_OFFSET +
           (uint64_t)(slot / VIR_SHM_LIFECYCLE_GROUP) * 2 * VIR_SHM_PAGE_SIZE;
}

/* The variant measured against the plain first scan: the written slots'
 * record pages (with the error-text pages between them) populated by one
 * madvise per contiguous run, so that the scan itself takes no fault. A
 * failure (a kernel without it) leaves the pages to be faulted. */
static void populateWritten(const virShmSegment *seg)
{
    uint64_t start = 0, end = 0;

    for (uint32_t i = virShmNextWrittenSlot(seg, 0); i <= seg->nslots;
         i = virShmNextWrittenSlot(seg, i + 1)) {
        uint64_t page = i < seg->nslots ? recordPage(i) : 0;
        if (i < seg->nslots && page < end)
            continue;                       /* the same group */
        if (i < seg->nslots && page == end) {
            end = page + 2 * VIR_SHM_PAGE_SIZE;
            continue;
        }
        if (end > start)
            (void)madvise((char *)seg->base + start, end - start, MADV_POPULATE_READ);
        if (i == seg->nslots)
            break;
        start = page;
        end = page + 2 * VIR_SHM_PAGE_SIZE;
    }
}

/* The floor of any reader that maps the segment: one load from the map
 * and from each record page that holds a written slot. Returns the pages
 * touched. */
static uint32_t touchPages(const virShmSegment *seg)
{
    const volatile char *base = seg->base;
    uint64_t last = 0;
    uint32_t pages = 1;
    char sum = base[VIR_SHM_MAP_OFFSET];

    for (uint32_t i = virShmNextWrittenSlot(seg, 0); i < seg->nslots;
         i = virShmNextWrittenSlot(seg, i + 1)) {
        if (recordPage(i) == last)
            continue;
        last = recordPage(i);
        sum += base[last];
        pages++;
    }
    return pages + (uint32_t)(sum & 0);
}

typedef enum {
    FIRST_SCAN,         /* what virtsup-stat does */
    FIRST_POPULATED,    /* populateWritten, then the scan */
    FIRST_TOUCH,        /* touchPages instead of the scan */
} firstKind;

typedef struct {
    uint64_t ns;        /* open, scan (or touch), close */
    uint64_t faults;    /* minor faults of the scan (or touch) alone */
    uint64_t count;     /* jobs seen, or pages touched */
} firstResult;

static uint64_t minorFaults(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (uint64_t)ru.ru_minflt;
}

/* The first read of @path in a fresh process (forked before the parent
 * ever mapped it): open, scan, close. */
static firstResult firstScan(const char *path, firstKind kind)
{
    int p[2], st;
    firstResult r = { 0 };

    if (pipe(p) < 0)
        die("pipe");
    pid_t pid = fork();
    if (pid == 0) {
        uint64_t t0 = benchNow(), f0 = 0;
        virShmSegment *seg = virShmSegmentOpen(path);
        if (seg) {
            f0 = minorFaults();
            if (kind == FIRST_POPULATED)
                populateWritten(seg);
            r.count = kind == FIRST_TOUCH ? touchPages(seg) : scanJobs(seg);
            r.faults = minorFaults() - f0;
        }
        virShmSegmentClose(seg);
        r.ns = benchNow() - t0;
        if (!seg || (kind != FIRST_TOUCH && r.count != LIVE_JOBS))
            r.ns = 0;
        _exit(write(p[1], &r, sizeof(r)) == (ssize_t)sizeof(r) ? 0 : 1);
    }
    if (pid < 0)
        die("fork");
    close(p[1]);
    if (read(p[0], &r, sizeof(r)) != (ssize_t)sizeof(r) || r.ns == 0) {
        fprintf(stderr, "shm-bench: the first scan in a fresh process failed\n");
        exit(1);
    }
    close(p[0]);
    while (waitpid(pid, &st, 0) < 0)
        ;
    return r;
}

/* The same bytes as a scan of LIVE_JOBS jobs (their lifecycle records)
 * as plain loads from warm memory. */
static uint64_t plainLoads(void)
{
    static uint64_t mem[LIVE_JOBS][(8 + VIR_SHM_LC_HEAD_BYTES) / 8];
    uint64_t sum = 0, t0 = benchNow();
    for (int i = 0; i < LIVE_JOBS; i++)
        for (size_t j = 0; j < ARRAY_CARDINALITY(mem[i]); j++)
            sum += ((volatile uint64_t *)mem[i])[j];
    uint64_t t = benchNow() - t0;
    return t + (sum & 0);   /* the loads are volatile; sum only keeps them */
}

static void benchLiveScan(void)
{
    static uint64_t refresh[REFRESHES], first[FIRSTS], plain[REFRESHES];
    static uint64_t populated[FIRSTS], touched[FIRSTS], faults[FIRSTS];
    uint64_t pages = 0;
    char tmpl[] = "/dev/shm/virtsup-bench-XXXXXX", tmpl2[] = "/tmp/virtsup-bench-XXXXXX";
    char *dir = mkdtemp(tmpl);
    if (!dir && !(dir = mkdtemp(tmpl2)))
        die("mkdtemp");
    virShmSegment *seg = liveSegment(dir);

    /* Interleaved, so that a change of load hits the three alike. */
    for (int i = 0; i < FIRSTS; i++) {
        firstResult r = firstScan(seg->path, FIRST_SCAN);
        first[i] = r.ns;
        faults[i] = r.faults;
        populated[i] = firstScan(seg->path, FIRST_POPULATED).ns;
        r = firstScan(seg->path, FIRST_TOUCH);
        touched[i] = r.ns;
        pages = r.count;
    }
    virShmSegment *ro = virShmSegmentOpen(seg->path);
    if (!ro || scanJobs(ro) != LIVE_JOBS)
        die("cannot scan the segment");
    for (int i = 0; i < REFRESHES; i++) {
        uint64_t t0 = benchNow();
        (void)scanJobs(ro);
        refresh[i] = benchNow() - t0;
        plain[i] = plainLoads();
    }
    double p50 = (double)benchPercentile(plain, REFRESHES, 50) / 1e6;
    benchLine("scan-1000-jobs-refresh", (double)benchPercentile(refresh, REFRESHES, 50) / 1e6,
              "ms", "plain-loads-1000-jobs", p50, "<= 0.3 ms");
    double first50 = (double)benchPercentile(first, FIRSTS, 50) / 1e6;
    benchLine("scan-1000-jobs-first", first50,
              "ms", "plain-loads-1000-jobs", p50, "<= 0.3 ms");
    benchLine("scan-1000-jobs-first", first50, "ms", "open-touch-same-pages-first",
              (double)benchPercentile(touched, FIRSTS, 50) / 1e6, NULL);
    benchLine("scan-1000-jobs-first-populated",
              (double)benchPercentile(populated, FIRSTS, 50) / 1e6, "ms",
              "scan-1000-jobs-first", first50, NULL);
    benchLine("scan-1000-jobs-first-faults", (double)benchPercentile(faults, FIRSTS, 50),
              "n", "pages-read", (double)pages, NULL);
    virShmSegmentClose(ro);
    virShmSegmentDestroy(seg);
    rmdir(dir);
}

int main(void)
{
    char tmpl[] = "/tmp/virtsup-bench-XXXXXX";
    char *dir = mkdtemp(tmpl);
    virShmSegment *seg, *ro;
    double w = 1e30, r = 1e30, sc = 1e30, pipeNs = 1e30, dgramNs = 1e30;

    if (!dir)
        die("mkdtemp");
    if (!(seg = virShmSegmentCreate(dir, SCAN_SLOTS))) {
        fprintf(stderr, "shm-bench: %s\n", virGetLastErrorMessage());
        return 1;
    }
    /* Every slot in use, as a full ring would be; read through a
     * read-only mapping, as virtsup-stat does. */
    for (uint32_t s = 0; s < seg->nslots; s++) {
        virShmLifecycleData l;
        virShmProgressData d;
        memset(&l, 0, sizeof(l));
        memset(&d, 0, sizeof(d));
        l.job_id = d.elapsed_ms = s + 1;
        l.state = VIR_SHM_STATE_RUNNING;
        strcpy(l.op, "domain-save");
        strcpy(l.target, "test");
        virShmLifecycleWrite(virShmSlotLifecycle(seg, s), &l);
        virShmProgressWrite(virShmSlotProgress(seg, s), &d);
    }
    if (!(ro = virShmSegmentOpen(seg->path))) {
        fprintf(stderr, "shm-bench: %s\n", virGetLastErrorMessage());
        return 1;
    }

    for (int round = 0; round < ROUNDS; round++) {
        pipeNs = best(pipeNs, kernelBaseline(false));
        dgramNs = best(dgramNs, kernelBaseline(true));
        w = best(w, progressWrite(virShmSlotProgress(seg, 0)));
        r = best(r, progressRead(virShmSlotProgress(ro, 1)));
        sc = best(sc, scan(ro));
    }

    benchLine("progress-write", w, "ns", "pipe-write-128B", pipeNs, NULL);
    benchLine("progress-read", r, "ns", "unix-dgram-send-128B", dgramNs, NULL);
    benchLine("scan-4096-slots", sc / 1e6, "ms", "4096-x-unix-dgram-send-128B",
              dgramNs * SCAN_SLOTS / 1e6, NULL);

    virShmSegmentClose(ro);
    virShmSegmentDestroy(seg);
    rmdir(dir);
    benchLiveScan();
    return 0;
}
