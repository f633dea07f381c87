/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * segwriter: writes a status segment with given jobs through the shm API,
 * for tests of virtsup-stat and other segment readers.
 *
 *   segwriter --rundir DIR [--slots N] [--first-id N] [--hold [--flap]] [--corrupt KIND]
 *             [--job SPEC]...
 *
 * Jobs get ids from --first-id on (default 1), in slot id % N.
 *
 * Prints "PATH PID" (the segment and its supervisor's pid) on stdout once
 * the segment is complete.
 *
 * Without --hold the segment is left behind by a process that then exits:
 * a stale segment. With --hold a background process (the "supervisor")
 * keeps it alive until it gets SIGTERM or SIGINT, then removes it cleanly;
 * it gives up after 10 minutes so that a failed test leaves nothing behind.
 * With --flap it spends that time cutting the last slot off the file and
 * giving it back, over and over, so that readers that mapped it whole meet
 * SIGBUS.
 *
 * SPEC is a comma-separated list of KEY=VALUE; values are %XX-decoded so a
 * test can pass any byte (quotes, newlines, control characters, invalid
 * UTF-8). Keys:
 *   op, target, phase, error   strings (error: the lifecycle error text)
 *   state      queued|running|completed|failed|cancelled or a raw number
 *   pct        percent (for a running job the worker's page and the supervisor's
 *              sample of it in the record; for an ended one the final progress)
 *   done, total  bytes processed and to process
 *   eta        the worker's ETA in ms (sets VIR_SHM_PR_HAS_ETA)
 *   leta       the supervisor's derived ETA in ms
 *   rate       the supervisor's rate in bytes/s
 *   worker     worker pid
 *   age        ms since the job started (start time = now - age)
 *   dur        ms from start to end, for an ended job
 *   step       ms the wall clock stepped forward since the job started (its
 *              wall-clock stamps say age+step, and dur+step, not its
 *              monotonic ones)
 *   nomono=1   no monotonic stamps (0), as a writer before they existed
 *   code, exit, signal   error code, exit status, terminating signal
 *   cancel=1, stalled=1, killed=1   lifecycle flags
 *   unbounded=1, noinit=1          progress type, no VIR_SHM_PR_INITIALIZED
 *   otherjob=1   the progress page names another job id (so no sample of it)
 *   oddseq=1     leave the lifecycle sequence odd (writer died mid-write)
 *   unterminated=1  op, target and error fill their fields with no NUL
 *
 * --corrupt KIND spoils the segment after the jobs are written:
 *   magic, version, nslots (too many for the file), truncate (cut inside
 *   the slots), short (shorter than a header), zero (an empty file).
 */
#include <ctype.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <stdarg.h>
#include <sys/wait.h>
#include <time.h>

#include "libvirtsup/libvirtsup-job.h"
#include "util/internal.h"
#include "util/virerror.h"
#include "shm/segment.h"

#define MAX_JOBS 64

static void die(const char *fmt, ...) ATTRIBUTE_FMT_PRINTF(1, 2);
static void die(const char *fmt, ...)
{
    va_list ap;
    fputs("segwriter: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

/* %XX-decode @s in place; returns the decoded length (may contain NUL). */
static size_t decode(char *s)
{
    char *w = s;
    for (const char *r = s; *r; r++) {
        if (r[0] == '%' && isxdigit((unsigned char)r[1]) && isxdigit((unsigned char)r[2])) {
            char hex[3] = { r[1], r[2], '\0' };
            *w++ = (char)strtoul(hex, NULL, 16);
            r += 2;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
    return (size_t)(w - s);
}

static uint64_t num(const char *key, const char *v)
{
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (errno || end == v || *end)
        die("bad number for %s: '%s'", key, v);
    return n;
}

static uint32_t parseState(const char *v)
{
    static const char *const names[] = {
        "empty", "queued", "running", "completed", "failed", "cancelled",
    };
    for (uint32_t i = 0; i < ARRAY_CARDINALITY(names); i++)
        if (STREQ(v, names[i]))
            return i;
    return (uint32_t)num("state", v);
}

static bool ended(uint32_t state)
{
    return state == VIR_SHM_STATE_COMPLETED || state == VIR_SHM_STATE_FAILED ||
           state == VIR_SHM_STATE_CANCELLED;
}

/* Allocate a slot and write one job described by @spec (modified). */
static void writeJob(virShmSegment *seg, char *spec)
{
    virShmLifecycleData lc;
    virShmProgressData pr = { .flags = VIR_SHM_PR_INITIALIZED };
    char op[VIR_SHM_OP_MAX + 1] = "domain.save", target[VIR_SHM_TARGET_MAX + 1] = "test";
    uint64_t id, age = 0, dur = 0, step = 0;
    uint32_t slot, state = VIR_SHM_STATE_RUNNING;
    bool otherjob = false, oddseq = false, unterminated = false, nomono = false;
    char *save = NULL;

    memset(&lc, 0, sizeof(lc));
    for (char *kv = strtok_r(spec, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
        char *v = strchr(kv, '=');
        if (!v)
            die("expected KEY=VALUE, got '%s'", kv);
        *v++ = '\0';
        decode(v);
        if (STREQ(kv, "op"))
            virStrcpyTrunc(op, sizeof(op), v);
        else if (STREQ(kv, "target"))
            virStrcpyTrunc(target, sizeof(target), v);
        else if (STREQ(kv, "phase"))
            virStrcpyTrunc(pr.phase, sizeof(pr.phase), v);
        else if (STREQ(kv, "error"))
            virStrcpyTrunc(lc.error, sizeof(lc.error), v);
        else if (STREQ(kv, "state"))
            state = parseState(v);
        else if (STREQ(kv, "pct"))
            pr.percent = (uint32_t)num(kv, v);
        else if (STREQ(kv, "done"))
            pr.bytes_done = num(kv, v);
        else if (STREQ(kv, "total"))
            pr.bytes_total = num(kv, v);
        else if (STREQ(kv, "eta")) {
            pr.eta_ms = num(kv, v);
            pr.flags |= VIR_SHM_PR_HAS_ETA;
        } else if (STREQ(kv, "leta"))
            lc.eta_ms = num(kv, v);
        else if (STREQ(kv, "rate"))
            lc.rate_bps = num(kv, v);
        else if (STREQ(kv, "worker"))
            lc.worker_pid = (int32_t)num(kv, v);
        else if (STREQ(kv, "age"))
            age = num(kv, v);
        else if (STREQ(kv, "dur"))
            dur = num(kv, v);
        else if (STREQ(kv, "step"))
            step = num(kv, v);
        else if (STREQ(kv, "nomono"))
            nomono = num(kv, v) != 0;
        else if (STREQ(kv, "code"))
            lc.error_code = (int32_t)num(kv, v);
        else if (STREQ(kv, "exit"))
            lc.exit_status = (int32_t)num(kv, v);
        else if (STREQ(kv, "signal"))
            lc.term_signal = (int32_t)num(kv, v);
        else if (STREQ(kv, "cancel"))
            lc.flags |= num(kv, v) ? VIR_SHM_LC_CANCEL_REQUESTED : 0;
        else if (STREQ(kv, "stalled"))
            lc.flags |= num(kv, v) ? VIR_SHM_LC_STALLED : 0;
        else if (STREQ(kv, "killed"))
            lc.flags |= num(kv, v) ? VIR_SHM_LC_KILLED : 0;
        else if (STREQ(kv, "unbounded"))
            pr.type = num(kv, v) ? VIR_JOB_UNBOUNDED : VIR_JOB_BOUNDED;
        else if (STREQ(kv, "noinit"))
            pr.flags &= num(kv, v) ? ~VIR_SHM_PR_INITIALIZED : ~0u;
        else if (STREQ(kv, "otherjob"))
            otherjob = num(kv, v) != 0;
        else if (STREQ(kv, "oddseq"))
            oddseq = num(kv, v) != 0;
        else if (STREQ(kv, "unterminated"))
            unterminated = num(kv, v) != 0;
        else
            die("unknown job key '%s'", kv);
    }

    if (virShmRingAlloc(seg, op, target, &id, &slot) < 0)
        die("cannot allocate a slot: %s", virGetLastErrorMessage());

    /* Keep what the ring wrote (id, generation, op, target), set the rest. */
    virShmLifecycle *l = virShmSlotLifecycle(seg, slot);
    virShmProgress *p = virShmSlotProgress(seg, slot);
    uint64_t now = virShmNowReal();

    lc.job_id = id;
    lc.generation = id / seg->nslots;
    lc.state = state;
    lc.start_realtime_ns = now - (age + step) * 1000000;
    if (ended(state))
        lc.end_realtime_ns = lc.start_realtime_ns + (dur + step) * 1000000;
    lc.start_mono_ns = lc.end_mono_ns = 0;
    if (!nomono) {
        lc.start_mono_ns = virShmNowMono() - age * 1000000;
        if (ended(state))
            lc.end_mono_ns = lc.start_mono_ns + dur * 1000000;
    }
    virStrcpyTrunc(lc.op, sizeof(lc.op), op);
    virStrcpyTrunc(lc.target, sizeof(lc.target), target);
    if (unterminated) {
        memset(lc.op, 'O', sizeof(lc.op));
        memset(lc.target, 'T', sizeof(lc.target));
        memset(lc.error, 'E', sizeof(lc.error));
    }
    pr.elapsed_ms = ended(state) ? dur : age;
    if (ended(state)) {
        lc.final = pr;
        lc.sampled_realtime_ns = lc.end_realtime_ns;
    } else if (state == VIR_SHM_STATE_RUNNING) {
        /* The worker's page, and the supervisor's sample of it in the
         * record, unless the page names another job (no sample then). */
        virShmProgressWrite(p, &pr);
        if (!otherjob) {
            lc.final = pr;
            lc.sampled_realtime_ns = now;
        }
    }
    if (otherjob)
        atomic_store_explicit(&p->job_id, id + 1000, memory_order_release);
    virShmLifecycleWrite(l, &lc);
    if (oddseq)
        atomic_store_explicit(&l->seq, atomic_load(&l->seq) | 1, memory_order_release);
}

static void corrupt(virShmSegment *seg, const char *kind)
{
    virShmHeader *h = seg->base;

    if (STREQ(kind, "magic")) {
        h->magic = UINT64_C(0x0123456789abcdef);
    } else if (STREQ(kind, "version")) {
        h->abi_version = 99;
    } else if (STREQ(kind, "nslots")) {
        h->nslots = seg->nslots + 1;
    } else if (STREQ(kind, "truncate")) {
        if (ftruncate(seg->fd, (off_t)virShmSlotProgressOffset(seg, 0) + 100) < 0)
            die("ftruncate: %s", strerror(errno));
    } else if (STREQ(kind, "short")) {
        if (ftruncate(seg->fd, 100) < 0)
            die("ftruncate: %s", strerror(errno));
    } else if (STREQ(kind, "zero")) {
        if (ftruncate(seg->fd, 0) < 0)
            die("ftruncate: %s", strerror(errno));
    } else {
        die("unknown corruption '%s'", kind);
    }
}

/* Make the segment; returns it (still mapped) after writing jobs. */
static virShmSegment *build(const char *rundir, uint32_t nslots, uint64_t first_id,
                            char **jobs, size_t njobs, const char *corruption)
{
    virShmSegment *seg = virShmSegmentCreate(rundir, nslots);
    if (!seg)
        die("cannot create the segment: %s", virGetLastErrorMessage());
    atomic_store_explicit(&((virShmHeader *)seg->base)->next_job_id, first_id,
                          memory_order_relaxed);
    for (size_t i = 0; i < njobs; i++)
        writeJob(seg, jobs[i]);
    if (corruption) {
        /* Truncation must not leave our own mapping past the end. */
        bool shrinks = STREQ(corruption, "truncate") || STREQ(corruption, "short") ||
                       STREQ(corruption, "zero");
        if (shrinks) {
            munmap(seg->base, seg->size);
            seg->base = NULL;
        }
        corrupt(seg, corruption);
    }
    return seg;
}

int main(int argc, char **argv)
{
    const char *rundir = NULL, *corruption = NULL;
    char *jobs[MAX_JOBS];
    size_t njobs = 0;
    uint32_t nslots = 8;
    uint64_t first_id = 1;
    bool hold = false, flap = false;
    int pfd[2];
    pid_t pid;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (STREQ(a, "--hold")) {
            hold = true;
            continue;
        }
        if (STREQ(a, "--flap")) {
            flap = true;
            continue;
        }
        if (!v)
            die("option %s needs a value", a);
        i++;
        if (STREQ(a, "--rundir"))
            rundir = v;
        else if (STREQ(a, "--slots"))
            nslots = (uint32_t)num(a, v);
        else if (STREQ(a, "--first-id"))
            first_id = num(a, v);
        else if (STREQ(a, "--corrupt"))
            corruption = v;
        else if (STREQ(a, "--job") && njobs < MAX_JOBS)
            jobs[njobs++] = argv[i];
        else
            die("unknown or repeated option %s", a);
    }
    if (!rundir)
        die("--rundir is required");

    if (pipe2(pfd, O_CLOEXEC) < 0)
        die("pipe: %s", strerror(errno));
    if ((pid = fork()) < 0)
        die("fork: %s", strerror(errno));
    if (pid == 0) {
        sigset_t set;
        struct timespec limit = { 600, 0 };
        int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);

        close(pfd[0]);
        sigemptyset(&set);
        sigaddset(&set, SIGTERM);
        sigaddset(&set, SIGINT);
        sigprocmask(SIG_BLOCK, &set, NULL);
        virShmSegment *seg = build(rundir, nslots, first_id, jobs, njobs, corruption);
        /* Let the caller's $(...) finish: no copy of its pipe stays here. */
        if (devnull >= 0) {
            dup2(devnull, STDIN_FILENO);
            dup2(devnull, STDOUT_FILENO);
        }
        dprintf(pfd[1], "%s %d\n", seg->path, (int)getpid());
        close(pfd[1]);
        /* Without --hold the supervisor dies here, leaving a stale segment. */
        if (!hold)
            _exit(0);
        if (flap) {
            struct timespec zero = { 0, 0 };
            time_t end = time(NULL) + limit.tv_sec;
            /* Every slot but the first two holds junk (an odd sequence, so
             * readers retry on each) and is marked written; only the last
             * group of lifecycle records (a page, and its error texts) is
             * cut off (with everything after it) and given back, with its
             * junk: a reader spends long in the slots and meets that page
             * gone about half the time. */
            off_t lc2 = (off_t)((char *)virShmSlotLifecycle(seg, 2) - (char *)seg->base);
            off_t lcend = (off_t)virShmProgressTableOffset(nslots);
            off_t last = lcend - 2 * VIR_SHM_PAGE_SIZE;
            size_t junklen = (size_t)(lcend - lc2);
            char *junk = malloc(junklen);

            if (!junk || nslots < 8)
                die("--flap needs 8 slots or more, and memory");
            memset(junk, 0xff, junklen);
            if (pwrite(seg->fd, junk, junklen, lc2) < 0 ||
                pwrite(seg->fd, junk, nslots / 8, VIR_SHM_MAP_OFFSET) < 0)
                die("cannot write junk: %s", strerror(errno));
            /* Our own mapping is not touched while the file is short. */
            while (sigtimedwait(&set, NULL, &zero) < 0 && time(NULL) < end) {
                if (ftruncate(seg->fd, last) < 0 ||
                    ftruncate(seg->fd, (off_t)seg->size) < 0 ||
                    pwrite(seg->fd, junk, (size_t)(lcend - last), last) != lcend - last)
                    die("cannot flap the segment: %s", strerror(errno));
            }
            free(junk);
        } else {
            sigtimedwait(&set, NULL, &limit);
        }
        if (seg->base) {
            virShmSegmentDestroy(seg);
        } else {
            unlink(seg->path);
            virShmSegmentClose(seg);
        }
        _exit(0);
    }
    close(pfd[1]);
    char line[4096];
    ssize_t n, got = 0;
    while ((n = read(pfd[0], line + got, sizeof(line) - 1 - (size_t)got)) > 0)
        got += n;
    close(pfd[0]);
    if (got == 0)
        return 1;
    line[got] = '\0';
    /* Without --hold, the segment is stale once its maker is reaped. */
    if (!hold && waitpid(pid, NULL, 0) < 0)
        die("waitpid: %s", strerror(errno));
    fputs(line, stdout);
    return 0;
}
