/*
 * shm-bench.c: what the status segment costs, beside what the same report
 * would cost through the kernel.
 *
 *   progress-write   one virShmProgressWrite (the worker's hot path)
 *   progress-read    one consistent virShmProgressRead (virJobGetInfo)
 *   scan-4096-slots  lifecycle + progress of every slot of a 4096-slot
 *                    segment (what virtsup-stat does per refresh)
 *
 * Baselines, measured in the same run: a 128-byte write() to a pipe that a
 * thread drains, and a 128-byte send() on an AF_UNIX SOCK_DGRAM socketpair
 * that a thread drains. Each figure is the best of a few rounds.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "libvirtsup/virterror.h"
#include "shm/segment.h"

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

    printf("progress-write: %.1f ns/op   baseline pipe-write-128B: %.0f ns/op   ratio %.4f\n",
           w, pipeNs, w / pipeNs);
    printf("progress-read: %.1f ns/op   baseline unix-dgram-send-128B: %.0f ns/op   ratio %.4f\n",
           r, dgramNs, r / dgramNs);
    printf("scan-4096-slots: %.0f ns/scan   baseline 4096 x unix-dgram-send-128B: %.0f ns/scan   "
           "ratio %.4f\n", sc, dgramNs * SCAN_SLOTS, sc / (dgramNs * SCAN_SLOTS));

    virShmSegmentClose(ro);
    virShmSegmentDestroy(seg);
    rmdir(dir);
    return 0;
}
