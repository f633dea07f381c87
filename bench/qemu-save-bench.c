/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qemu-save-bench: virDomainSaveJob and virDomainRestoreJob of a real
 * guest (the test guest of tests/guest, 512 MiB, 128 MiB of it filled with
 * random data at boot, TCG), each beside QEMU doing the same straight
 * with a file in the same run:
 *
 *  - save: QEMU saving the same guest into a file through the same shim
 *    (stop, max-bandwidth, getfd of the file, migrate fd:, query-migrate
 *    until completed, fdatasync, cont);
 *  - restore: that file loaded by a QEMU of the guest's own command line
 *    (read from /proc: the same machine and devices, its console to null,
 *    its monitor on stdio) with -incoming fd:N on the file, unprivileged
 *    (nobody, when run as root) and under its -sandbox, from its exec
 *    until `cont` answered after the load completed; and the same QEMU
 *    loading the file through a pipe that a plain copy loop fills (1 MiB
 *    reads and writes, a 1 MiB pipe): the restore's path without its
 *    checks.
 *
 * Both restores read their file from the disk: its page cache is dropped
 * first (benchDropCache), as save-bench does. The job's save leaves little
 * of its image in the cache anyway (it drops what it has written out), and
 * QEMU's own file, left in the cache by its save, loaded 4-5 times faster
 * than from the disk: the baseline was then a copy out of memory.
 *
 * Also: a core dump of the guest beside writing as many bytes into a file
 * (1 MiB writes, fdatasync), the first progress of each job after the
 * call (and how long the call itself took), and cancel -> guest running
 * again for saves cancelled while QEMU streams (CANCELS of them: p50 and
 * p99), and cancel -> virJobWait returned for the same saves and for
 * LATE_CANCELS saves cancelled after 96 MiB (the image's writer then has
 * flushes under way).
 *
 * ROUNDS rounds, p50; each round's figures are printed too, and the
 * spread of the rounds' own ratios (each round's two sides ran seconds
 * apart, so a slow spell of the disk lands on both). Odd rounds run the
 * job's save before QEMU's own. Before them, one save of each side that
 * is not counted: QEMU's first migration in its life took 3-4 times its
 * later ones (measured: 775-790 ms against 212-224 ms), a cost no later
 * save of either side pays.
 *
 * CANCELS is 100: a p99 of fewer samples is their maximum, one stray
 * scheduling delay of a loaded 2-core machine. Prints a note and exits 0 when
 * QEMU or the test guest (make check builds it into build/guest) is
 * missing.
 */
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "libvirtsup/libvirtsup.h"
#include "util/internal.h"
#include "util/virjsonflat.h"
#include "util/virshim.h"
#include "tests/filehas.h"
#include "benchutil.h"
#include "benchqmp.h"

#define ROUNDS 9
#define CANCELS 100
#define LATE_CANCELS 5

static char guestDir[PATH_MAX];
static bool trace;
static virDomainPtr benchDom;   /* destroyed on any exit: no guest left behind */
static char benchRoot[64];

static void benchCleanup(void)
{
    char cmd[128];
    if (benchDom) {
        (void)virDomainDestroy(benchDom);
        (void)virDomainUndefine(benchDom);
    }
    if (benchRoot[0]) {
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", benchRoot);
        (void)!system(cmd);
    }
}

static void qmp(int sh, virShimIncoming *in, const char *cmd, const char *args, int fd)
{
    if (virShimQMP(sh, cmd, args, fd >= 0 ? &fd : NULL, fd >= 0 ? 1 : 0, 30000, NULL, NULL,
                   in) < 0)
        benchDie(virGetLastErrorMessage());
}

static int cmpDouble(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* QEMU straight into a file: the bytes written, the time in *@ns. */
static uint64_t rawSave(const char *runDir, const char *path, uint64_t *ns)
{
    virShimIncoming *in = malloc(sizeof(*in));
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int sh = virShimConnect(runDir);
    char status[32] = "";
    struct stat sb;

    if (!in || fd < 0 || sh < 0)
        benchDie("raw save: cannot open the file or the shim");
    uint64_t t0 = benchNow();
    qmp(sh, in, "stop", NULL, -1);
    qmp(sh, in, "migrate-set-parameters", "{\"max-bandwidth\":1099511627776}", -1);
    qmp(sh, in, "getfd", "{\"fdname\":\"rawbench\"}", fd);
    qmp(sh, in, "migrate", "{\"uri\":\"fd:rawbench\"}", -1);
    while (STRNEQ(status, "completed")) {
        qmp(sh, in, "query-migrate", NULL, -1);
        (void)virJSONFlatGet(in->data, in->datalen, "status", status, sizeof(status));
        if (STREQ(status, "failed"))
            benchDie("raw save: QEMU's migration failed");
        (void)poll(NULL, 0, 2);
    }
    uint64_t streamed = benchNow() - t0;
    if (fdatasync(fd) < 0 || fstat(fd, &sb) < 0)
        benchDie("raw save: fsync failed");
    *ns = benchNow() - t0;
    if (trace)
        fprintf(stderr, "  QEMU to a file: %7.1f ms streaming, %7.1f ms fdatasync\n",
                (double)streamed / 1e6, (double)(*ns - streamed) / 1e6);
    qmp(sh, in, "cont", NULL, -1);
    close(sh);
    close(fd);
    free(in);
    return (uint64_t)sb.st_size;
}

/* The guest's QEMU command line (/proc/PID/cmdline of the shim's child),
 * made fit to run by itself: its monitor on stdio, consoles (fdsets of
 * the shim's) to null, -incoming fd:3. NULL-terminated, in static
 * storage. */
static char **rawArgv(const char *runDir)
{
    static char cmdline[65536];
    static char *argv[512];
    static char chardevs[64][128];
    char path[64];
    virShimStatus st;
    size_t n = 0, nc = 0, argc = 0;

    if (virShimStateRead(runDir, &st) < 0)
        benchDie(virGetLastErrorMessage());
    snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)st.child_pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t got;
    while (fd >= 0 && (got = read(fd, cmdline + n, sizeof(cmdline) - 1 - n)) > 0)
        n += (size_t)got;
    if (fd < 0 || n == 0 || n >= sizeof(cmdline) - 1)
        benchDie("cannot read the guest's QEMU command line");
    close(fd);
    for (char *a = cmdline; a < cmdline + n && argc < 500; a += strlen(a) + 1) {
        char *next = a + strlen(a) + 1 < cmdline + n ? a + strlen(a) + 1 : NULL;
        if ((STREQ(a, "-add-fd") || STREQ(a, "-incoming") || STREQ(a, "-mon")) && next) {
            a = next;                     /* the option and its value go */
            continue;
        }
        if (STREQ(a, "-chardev") && next) {
            char id[64] = "";
            const char *i = strstr(next, "id=");
            if (i)
                snprintf(id, sizeof(id), "%.*s", (int)strcspn(i + 3, ","), i + 3);
            a = next;
            if (STREQ(id, "charmonitor"))
                continue;                 /* the shim's monitor: stdio below */
            if (nc == 64)
                benchDie("too many chardevs in the guest's command line");
            snprintf(chardevs[nc], sizeof(chardevs[nc]), "null,id=%s", id);
            argv[argc++] = "-chardev";
            argv[argc++] = chardevs[nc++];
            continue;
        }
        if (strstr(a, "fd=") && !strstr(a, "debug-threads"))
            benchDie("the guest's command line passes descriptors the raw restore cannot "
                     "give");
        argv[argc++] = a;
    }
    argv[argc++] = "-qmp";
    argv[argc++] = "stdio";
    argv[argc++] = "-incoming";
    argv[argc++] = "fd:3";
    argv[argc] = NULL;
    return argv;
}

/* A process that copies @img into a new pipe (1 MiB, as the job's) in
 * 1 MiB reads and writes, and nothing else: the read end, its pid in
 * @pid. */
static int rawFeeder(int img, pid_t *pid)
{
    int p[2];

    if (pipe2(p, O_CLOEXEC) < 0)
        benchDie("raw restore: cannot make the feeder's pipe");
    (void)fcntl(p[0], F_SETPIPE_SZ, 1 << 20);
    if ((*pid = fork()) < 0)
        benchDie("raw restore: fork failed");
    if (*pid == 0) {
        static char buf[1 << 20];
        ssize_t n;
        close(p[0]);
        while ((n = read(img, buf, sizeof(buf))) > 0)
            for (ssize_t w = 0, k; w < n; w += k)
                if ((k = write(p[1], buf + w, (size_t)(n - w))) <= 0)
                    _exit(1);
        _exit(n < 0);
    }
    close(p[1]);
    close(img);
    return p[0];
}

/* QEMU loading @path (-incoming fd:3): straight from the file, or
 * (@viaPipe) from a pipe a plain copy loop (rawFeeder) fills from the
 * file: from the start until `cont` answered after the load completed. */
static uint64_t rawRestore(char **argv, const char *path, bool viaPipe)
{
    int in[2], out[2], img = open(path, O_RDONLY | O_CLOEXEC);
    char line[4096];
    pid_t pid, feeder = -1;

    if (img < 0)
        benchDie("raw restore: cannot open the file");
    benchQMPWait(-1, NULL, NULL, 0);
    uint64_t t0 = benchNow();
    /* The feeder first: it holds none of the monitor's pipes. */
    if (viaPipe)
        img = rawFeeder(img, &feeder);
    if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0)
        benchDie("raw restore: cannot make pipes");
    if ((pid = fork()) < 0)
        benchDie("raw restore: fork failed");
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0 || dup2(null, 2) < 0 || dup2(img, 3) < 0)
            _exit(127);
        /* As the driver runs it: not root, no new privileges (and the
         * command line's own -sandbox). */
        if (geteuid() == 0 &&
            (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 ||
             setresuid(65534, 65534, 65534) < 0))
            _exit(126);
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
            _exit(126);
        execv(argv[0], argv);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    close(img);
    benchQMPWait(out[0], "\"QMP\"", NULL, 0);
    benchQMPSend(in[1], "{\"execute\":\"qmp_capabilities\"}\n");
    benchQMPWait(out[0], "\"return\"", NULL, 0);
    /* The load runs from the start; the monitor answers now and then while
     * QEMU reads a file (qemu-facts.md), at the latest at its end. */
    for (;;) {
        benchQMPSend(in[1], "{\"execute\":\"query-migrate\"}\n");
        benchQMPWait(out[0], "\"return\"", line, sizeof(line));
        if (strstr(line, "\"completed\""))
            break;
        if (strstr(line, "\"failed\""))
            benchDie("raw restore: QEMU's load failed");
        (void)poll(NULL, 0, 5);
    }
    benchQMPSend(in[1], "{\"execute\":\"cont\"}\n");
    benchQMPWait(out[0], "\"return\"", NULL, 0);
    uint64_t ns = benchNow() - t0;
    kill(pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (feeder > 0) {
        kill(feeder, SIGKILL);   /* done already: its whole file was loaded */
        while (waitpid(feeder, &status, 0) < 0 && errno == EINTR)
            ;
    }
    close(in[1]);
    close(out[0]);
    return ns;
}

/* Writing @bytes to @path in 1 MiB writes, then fdatasync: the time. */
static uint64_t rawWrite(const char *path, uint64_t bytes)
{
    size_t chunk = 1 << 20;
    char *buf = malloc(chunk);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

    if (!buf || fd < 0)
        benchDie("cannot write the baseline file");
    for (size_t i = 0; i < chunk; i++)
        buf[i] = (char)(i * 131 + 7);
    uint64_t t0 = benchNow();
    for (uint64_t done = 0; done < bytes;) {
        size_t n = bytes - done < chunk ? (size_t)(bytes - done) : chunk;
        ssize_t w = write(fd, buf, n);
        if (w <= 0)
            benchDie("cannot write the baseline file");
        done += (uint64_t)w;
    }
    if (fdatasync(fd) < 0)
        benchDie("cannot flush the baseline file");
    uint64_t ns = benchNow() - t0;
    close(fd);
    unlink(path);
    free(buf);
    return ns;
}

/* Run @job to its end; the first progress after @t0 in *@first. */
static uint64_t runJob(virJobPtr job, uint64_t t0, uint64_t *first)
{
    virJobInfo info;
    *first = 0;
    if (!job)
        benchDie(virGetLastErrorMessage());
    char lastPhase[64] = "";
    for (;;) {
        virTypedParameterPtr params = NULL;
        int n = 0;
        unsigned long long done = 0;
        const char *phase = NULL;
        if ((!*first || trace) && virJobGetStats(job, &params, &n, 0) == 0) {
            if (!*first &&
                virTypedParamsGetULLong(params, n, VIR_JOB_STATS_DATA_PROCESSED, &done) == 1 &&
                done > 0)
                *first = benchNow() - t0;
            /* QEMU_SAVE_BENCH_TRACE=1: when each phase began, on stderr. */
            if (trace && virTypedParamsGetString(params, n, VIR_JOB_STATS_PHASE, &phase) == 1 &&
                phase && STRNEQ(phase, lastPhase)) {
                fprintf(stderr, "  %7.1f ms  %s\n", (double)(benchNow() - t0) / 1e6, phase);
                snprintf(lastPhase, sizeof(lastPhase), "%s", phase);
            }
        }
        virTypedParamsFree(params, n);
        if (virJobGetInfo(job, &info) < 0)
            benchDie("job info");
        if (info.state != VIR_JOB_RUNNING)
            break;
        (void)virJobWait(job, 1);
    }
    uint64_t ns = benchNow() - t0;
    if (trace)
        fprintf(stderr, "  %7.1f ms  ended\n", (double)ns / 1e6);
    if (info.state != VIR_JOB_COMPLETE) {
        virErrorPtr e = virJobGetError(job);
        fprintf(stderr, "qemu-save-bench: the job did not complete: %s\n",
                e && e->message ? e->message : "");
        exit(1);
    }
    virJobDestroy(job);
    return ns;
}

static void waitState(virDomainPtr dom, int want)
{
    int s = -1, r;
    uint64_t end = benchNow() + 30000000000ULL;
    while ((virDomainGetState(dom, &s, &r, 0) < 0 || s != want) && benchNow() < end)
        (void)poll(NULL, 0, 1);
    if (s != want)
        benchDie("the guest did not reach the expected state");
}

/* A save of @dom cancelled once QEMU streamed at least @after bytes
 * (at least one): from the cancel until the guest runs again, and
 * (@endedNs) until virJobWait returned. */
static uint64_t cancelledSave(virDomainPtr dom, const char *path, unsigned long long after,
                              uint64_t *endedNs)
{
    virJobPtr job = virDomainSaveJob(dom, path);
    unsigned long long done = 0;

    if (!job)
        benchDie(virGetLastErrorMessage());
    if (after == 0)
        after = 1;
    while (done < after) {
        virTypedParameterPtr params = NULL;
        int n = 0;
        if (virJobGetStats(job, &params, &n, 0) == 0)
            (void)virTypedParamsGetULLong(params, n, VIR_JOB_STATS_DATA_PROCESSED, &done);
        virTypedParamsFree(params, n);
        virJobInfo info;
        if (done < after && virJobGetInfo(job, &info) == 0 && info.state != VIR_JOB_RUNNING) {
            virErrorPtr e = virJobGetError(job);
            fprintf(stderr, "qemu-save-bench: a save to cancel ended before %llu bytes "
                    "streamed: %s\n", after, e && e->message ? e->message : "");
            exit(1);
        }
        if (done < after)
            (void)virJobWait(job, 1);
    }
    uint64_t c0 = benchNow();
    virJobCancel(job);
    waitState(dom, VIR_DOMAIN_RUNNING);
    uint64_t ns = benchNow() - c0;
    (void)virJobWait(job, -1);
    *endedNs = benchNow() - c0;
    virJobDestroy(job);
    return ns;
}

int main(void)
{
    char root[] = "/tmp/virtsup-qemu-sbench-XXXXXX";
    char uri[PATH_MAX + 64], xml[3 * PATH_MAX + 1024], path[PATH_MAX + 64], raw[PATH_MAX + 64];
    char runDir[PATH_MAX + 64], console[PATH_MAX + 64], cmd[PATH_MAX + 16];
    const char *gd = getenv("VIRTSUP_GUEST_DIR");
    uint64_t save[ROUNDS], rawNs[ROUNDS], restore[ROUNDS], rawRestoreNs[ROUNDS];
    uint64_t rawPipeNs[ROUNDS];
    double saveRatio[ROUNDS], restoreRatio[ROUNDS];   /* each round's own, throughput */
    uint64_t firstSave[ROUNDS], firstRestore[ROUNDS], callSave[ROUNDS], callRestore[ROUNDS];
    uint64_t cancel[CANCELS], cancelEnded[CANCELS], bytes = 0, rawBytes = 0;
    uint64_t lateRunning[LATE_CANCELS], lateEnded[LATE_CANCELS];
    uint64_t dump[ROUNDS], rawDump[ROUNDS], firstDump[ROUNDS], dumpBytes = 0;
    struct stat sb;

    snprintf(path, sizeof(path), "%s/vmlinux", gd ? gd : "build/guest");
    if (system("command -v qemu-system-x86_64 >/dev/null") != 0 || !realpath(path, guestDir)) {
        printf("qemu-save-bench: QEMU or the test guest (build/guest) is missing: nothing "
               "measured\n");
        return 0;
    }
    *strrchr(guestDir, '/') = '\0';
    trace = getenv("QEMU_SAVE_BENCH_TRACE") != NULL;
    benchRunDir();
    if (!mkdtemp(root) || chmod(root, 0755) < 0)
        benchDie("cannot create a directory in /tmp");
    snprintf(uri, sizeof(uri), "qemu:///%s?root=%s", geteuid() == 0 ? "system" : "session", root);
    snprintf(console, sizeof(console), "%s/console.log", root);
    snprintf(xml, sizeof(xml),
             "<domain type='qemu'><name>sbench</name><memory unit='MiB'>512</memory>"
             "<vcpu>1</vcpu><os><type arch='x86_64'>hvm</type><kernel>%s/vmlinux</kernel>"
             "<initrd>%s/initrd.cpio.gz</initrd>"
             "<cmdline>console=ttyS0 quiet panic=-1 fill=128</cmdline></os>"
             "<devices><serial type='file'><source path='%s'/></serial></devices></domain>",
             guestDir, guestDir, console);
    virConnectPtr conn = virConnectOpen(uri);
    virDomainPtr dom = conn ? virDomainDefineXML(conn, xml) : NULL;
    if (!dom)
        benchDie(virGetLastErrorMessage());
    benchDom = dom;
    snprintf(benchRoot, sizeof(benchRoot), "%s", root);
    atexit(benchCleanup);
    uint64_t t0 = benchNow(), first;
    (void)runJob(virDomainCreateJob(dom, 0), t0, &first);
    while (!fileHas(console, "VIRTSUP-GUEST-READY")) {
        if (benchNow() - t0 > 120000000000ULL)
            benchDie("the guest did not fill its memory within 120 s");
        (void)poll(NULL, 0, 50);
    }
    snprintf(runDir, sizeof(runDir), "%s/run/sbench", root);
    snprintf(path, sizeof(path), "%s/sbench.img", root);
    snprintf(raw, sizeof(raw), "%s/raw.img", root);
    /* The command line of the guest as the driver started it (a restored
     * one has -incoming defer: read it first). */
    char **argv = rawArgv(runDir);

    /* The uncounted first save of each side (the comment at the top). */
    uint64_t uncounted;
    (void)rawSave(runDir, raw, &uncounted);
    unlink(raw);
    waitState(dom, VIR_DOMAIN_RUNNING);
    (void)runJob(virDomainSaveJob(dom, path), benchNow(), &uncounted);
    (void)runJob(virDomainRestoreJob(conn, path), benchNow(), &uncounted);
    unlink(path);
    waitState(dom, VIR_DOMAIN_RUNNING);

    for (int i = 0; i < ROUNDS; i++) {
        /* Odd rounds save through the job first and QEMU straight to its
         * file second: neither side always follows the other's 200 MB of
         * writes. */
        bool jobFirst = i % 2 == 1;
        if (!jobFirst) {
            rawBytes = rawSave(runDir, raw, &rawNs[i]);
            waitState(dom, VIR_DOMAIN_RUNNING);
        }

        t0 = benchNow();
        virJobPtr job = virDomainSaveJob(dom, path);
        callSave[i] = benchNow() - t0;
        save[i] = runJob(job, t0, &firstSave[i]);
        if (stat(path, &sb) < 0)
            benchDie("no image after the save");
        bytes = (uint64_t)sb.st_size;
        benchDropCache(path);
        t0 = benchNow();
        job = virDomainRestoreJob(conn, path);
        callRestore[i] = benchNow() - t0;
        restore[i] = runJob(job, t0, &firstRestore[i]);
        unlink(path);
        if (jobFirst) {
            waitState(dom, VIR_DOMAIN_RUNNING);
            rawBytes = rawSave(runDir, raw, &rawNs[i]);
            waitState(dom, VIR_DOMAIN_RUNNING);
        }
        /* QEMU's own stream, loaded by QEMU from the file (the restored
         * guest paused meanwhile: its vCPU would compete for the CPU). */
        if (virDomainSuspend(dom) < 0)
            benchDie(virGetLastErrorMessage());
        benchDropCache(raw);
        rawRestoreNs[i] = rawRestore(argv, raw, false);
        benchDropCache(raw);
        rawPipeNs[i] = rawRestore(argv, raw, true);
        unlink(raw);
        if (virDomainResume(dom) < 0)
            benchDie(virGetLastErrorMessage());
        saveRatio[i] = (double)bytes / (double)save[i] / ((double)rawBytes / (double)rawNs[i]);
        restoreRatio[i] = (double)bytes / (double)restore[i] /
                          ((double)rawBytes / (double)rawRestoreNs[i]);
        printf("qemu-save-bench: round %d: save %.1f ms (QEMU to a file %.1f ms, %s), "
               "restore %.1f ms (QEMU from a file %.1f ms, from a pipe %.1f ms)\n", i + 1,
               (double)save[i] / 1e6, (double)rawNs[i] / 1e6, jobFirst ? "after" : "before",
               (double)restore[i] / 1e6, (double)rawRestoreNs[i] / 1e6,
               (double)rawPipeNs[i] / 1e6);
    }
    /* A core dump (the whole memory, ELF) beside writing as many bytes
     * into a file of the same file system (1 MiB writes, fdatasync). */
    for (int i = 0; i < ROUNDS; i++) {
        t0 = benchNow();
        dump[i] = runJob(virDomainDumpCoreJob(dom, path, 0), t0, &firstDump[i]);
        if (stat(path, &sb) < 0)
            benchDie("no core after the dump");
        dumpBytes = (uint64_t)sb.st_size;
        unlink(path);
        rawDump[i] = rawWrite(raw, dumpBytes);
        waitState(dom, VIR_DOMAIN_RUNNING);
    }
    for (int i = 0; i < CANCELS; i++)
        cancel[i] = cancelledSave(dom, path, 0, &cancelEnded[i]);
    /* Late in the stream: three flush steps (32 MiB each) of the image written. */
    for (int i = 0; i < LATE_CANCELS; i++)
        lateRunning[i] = cancelledSave(dom, path, 96ull << 20, &lateEnded[i]);
    (void)virDomainDestroy(dom);
    (void)virDomainUndefine(dom);
    benchDom = NULL;
    virDomainFree(dom);
    virConnectClose(conn);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    if (system(cmd) != 0)
        fprintf(stderr, "qemu-save-bench: cannot remove %s\n", root);
    benchRoot[0] = '\0';

#define P50(v, n) ((double)benchPercentile(v, n, 50) / 1e6)
    double mib = 1048576;
    printf("qemu-save-bench: image %llu bytes (QEMU's own stream %llu bytes), %d rounds\n",
           (unsigned long long)bytes, (unsigned long long)rawBytes, ROUNDS);
    qsort(saveRatio, ROUNDS, sizeof(double), cmpDouble);
    qsort(restoreRatio, ROUNDS, sizeof(double), cmpDouble);
    printf("qemu-save-bench: the rounds' own throughput ratios (min, p50, max): save %.2f, "
           "%.2f, %.2f; restore %.2f, %.2f, %.2f\n", saveRatio[0], saveRatio[ROUNDS / 2],
           saveRatio[ROUNDS - 1], restoreRatio[0], restoreRatio[ROUNDS / 2],
           restoreRatio[ROUNDS - 1]);
    printf("qemu-save-bench: core dump %llu bytes\n", (unsigned long long)dumpBytes);
    printf("qemu-save-bench: the calls returned after p50 %.2f ms (save), %.2f ms (restore)\n",
           P50(callSave, ROUNDS), P50(callRestore, ROUNDS));
    benchLine("qemu_save_p50", P50(save, ROUNDS), "ms", "raw_qemu_to_file_p50",
              P50(rawNs, ROUNDS), NULL);
    benchLine("qemu_save_mib_s", (double)bytes / mib / (P50(save, ROUNDS) / 1e3), "MiB/s",
              "raw_qemu_to_file_mib_s", (double)rawBytes / mib / (P50(rawNs, ROUNDS) / 1e3),
              "ratio >= 0.95");
    benchLine("qemu_restore_p50", P50(restore, ROUNDS), "ms", "raw_qemu_from_file_p50",
              P50(rawRestoreNs, ROUNDS), NULL);
    benchLine("qemu_restore_mib_s", (double)bytes / mib / (P50(restore, ROUNDS) / 1e3),
              "MiB/s", "raw_qemu_from_file_mib_s",
              (double)rawBytes / mib / (P50(rawRestoreNs, ROUNDS) / 1e3), "ratio >= 0.95");
    /* The same load through a pipe that a plain copy loop fills: what a
     * restore through a pipe (QEMU never reads our files) can reach. */
    benchLine("qemu_restore_p50", P50(restore, ROUNDS), "ms", "raw_qemu_from_pipe_p50",
              P50(rawPipeNs, ROUNDS), NULL);
    benchLine("qemu_restore_mib_s", (double)bytes / mib / (P50(restore, ROUNDS) / 1e3),
              "MiB/s", "raw_qemu_from_pipe_mib_s",
              (double)rawBytes / mib / (P50(rawPipeNs, ROUNDS) / 1e3), NULL);
    benchLine("qemu_save_first_progress_p50", P50(firstSave, ROUNDS), "ms", "none", 0,
              "<= 20 ms");
    benchLine("qemu_restore_first_progress_p50", P50(firstRestore, ROUNDS), "ms", "none", 0,
              "<= 20 ms");
    benchLine("qemu_dump_p50", P50(dump, ROUNDS), "ms", "write_same_bytes_p50",
              P50(rawDump, ROUNDS), NULL);
    benchLine("qemu_dump_mib_s", (double)dumpBytes / mib / (P50(dump, ROUNDS) / 1e3), "MiB/s",
              "write_same_bytes_mib_s", (double)dumpBytes / mib / (P50(rawDump, ROUNDS) / 1e3),
              NULL);
    benchLine("qemu_dump_first_progress_p50", P50(firstDump, ROUNDS), "ms", "none", 0,
              "<= 20 ms");
    benchLine("qemu_save_cancel_to_running_p50", P50(cancel, CANCELS), "ms", "none", 0, NULL);
    benchLine("qemu_save_cancel_to_running_p99", (double)benchPercentile(cancel, CANCELS, 99) / 1e6,
              "ms", "none", 0, "<= 10 ms");
    /* The job's end follows the guest's resume: the worker closes the
     * pipe, waits for QEMU to give up and frees its partial image. */
    benchLine("qemu_save_cancel_to_ended_p50", P50(cancelEnded, CANCELS), "ms", "none", 0, NULL);
    benchLine("qemu_save_cancel_to_ended_p99",
              (double)benchPercentile(cancelEnded, CANCELS, 99) / 1e6, "ms", "none", 0, NULL);
    benchLine("qemu_save_cancel_after_96mib_to_running_max",
              (double)benchPercentile(lateRunning, LATE_CANCELS, 100) / 1e6, "ms", "none", 0,
              NULL);
    benchLine("qemu_save_cancel_after_96mib_to_ended_p50", P50(lateEnded, LATE_CANCELS), "ms",
              "none", 0, NULL);
    benchLine("qemu_save_cancel_after_96mib_to_ended_max",
              (double)benchPercentile(lateEnded, LATE_CANCELS, 100) / 1e6, "ms", "none", 0, NULL);
    return 0;
}
