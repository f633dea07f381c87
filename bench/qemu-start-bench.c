/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qemu-start-bench: the start of a real QEMU guest through the qemu driver
 * (virDomainCreateJob: the call until the job completes, the guest
 * running under its shim, sandboxed, with its monitor ready and `cont`
 * sent) and its destroy (virDomainDestroy until QEMU is reaped), beside a
 * raw QEMU launch in the same run: posix_spawn of the same emulator with
 * the same guest, -S and QMP on stdio, until `cont` has answered (QMP
 * greeting, qmp_capabilities, cont), then SIGKILL and waitpid.
 *
 * Also: virDomainSuspend and virDomainResume of the running guest (PAIRS
 * of each, p50 and p99), beside QMP `stop` and `cont` sent to the same
 * guest through its shim on a connection kept open: the command's own
 * round trip, which each call makes after finding the guest, and before
 * it records the new state.
 *
 * The guest is firmware only (no kernel, 32 MiB, TCG): what is measured is
 * the start machinery, not a boot. ROUNDS rounds each, p50 and max.
 * Prints a note and exits 0 when qemu-system-x86_64 is not installed.
 */
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>

#include "libvirtsup/libvirtsup.h"
#include "util/internal.h"
#include "util/virshim.h"
#include "benchutil.h"
#include "benchqmp.h"

#define ROUNDS 10
#define PAIRS 200

static char qemu[PATH_MAX];

static int findQEMU(void)
{
    const char *path = getenv("PATH");
    char buf[4096];

    snprintf(buf, sizeof(buf), "%s", path ? path : "/usr/bin:/bin");
    for (char *save = NULL, *d = strtok_r(buf, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        snprintf(qemu, sizeof(qemu), "%s/qemu-system-x86_64", d);
        if (access(qemu, X_OK) == 0)
            return 0;
    }
    return -1;
}

static uint64_t rawLaunch(uint64_t *stop)
{
    int in[2], out[2];
    pid_t pid;
    posix_spawn_file_actions_t fa;
    char *argv[] = { qemu, "-accel", "tcg", "-m", "32", "-smp", "1", "-nodefaults",
                     "-no-user-config", "-nographic", "-S", "-serial", "null",
                     "-qmp", "stdio", NULL };

    if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0)
        benchDie("pipe failed");
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    uint64_t t0 = benchNow();
    if (posix_spawn(&pid, qemu, &fa, NULL, argv, environ) != 0)
        benchDie("cannot run qemu-system-x86_64");
    posix_spawn_file_actions_destroy(&fa);
    close(in[0]);
    close(out[1]);
    benchQMPWait(-1, NULL, NULL, 0);
    benchQMPWait(out[0], "\"QMP\"", NULL, 0);
    const char caps[] = "{\"execute\":\"qmp_capabilities\"}\n{\"execute\":\"cont\"}\n";
    benchQMPSend(in[1], caps);
    benchQMPWait(out[0], "\"return\"", NULL, 0);
    benchQMPWait(out[0], "\"return\"", NULL, 0);
    uint64_t t1 = benchNow();
    kill(pid, SIGTERM);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
    *stop = benchNow() - t1;
    close(in[1]);
    close(out[0]);
    return t1 - t0;
}

/* Suspend and resume of @dom, started here, PAIRS times each, then the
 * same guest's QMP stop and cont through its shim; p50 and p99 lines. */
static void commandPairs(const char *root, virDomainPtr dom)
{
    static uint64_t sus[PAIRS], res[PAIRS], stop[PAIRS], cont[PAIRS];
    char runDir[PATH_MAX + 16];
    virShimIncoming *in = malloc(sizeof(*in));
    virJobPtr job = virDomainCreateJob(dom, 0);

    if (!in || !job || virJobWait(job, -1) != 0)
        benchDie("the guest did not start for the suspend and resume");
    virJobDestroy(job);
    for (int i = 0; i < PAIRS; i++) {
        uint64_t t0 = benchNow();
        if (virDomainSuspend(dom) < 0)
            benchDie(virGetLastErrorMessage());
        sus[i] = benchNow() - t0;
        t0 = benchNow();
        if (virDomainResume(dom) < 0)
            benchDie(virGetLastErrorMessage());
        res[i] = benchNow() - t0;
    }
    snprintf(runDir, sizeof(runDir), "%s/run/bench", root);
    int sh = virShimConnect(runDir);
    if (sh < 0)
        benchDie(virGetLastErrorMessage());
    for (int i = 0; i < PAIRS; i++) {
        uint64_t t0 = benchNow();
        if (virShimQMP(sh, "stop", NULL, NULL, 0, 30000, NULL, NULL, in) < 0)
            benchDie(virGetLastErrorMessage());
        stop[i] = benchNow() - t0;
        t0 = benchNow();
        if (virShimQMP(sh, "cont", NULL, NULL, 0, 30000, NULL, NULL, in) < 0)
            benchDie(virGetLastErrorMessage());
        cont[i] = benchNow() - t0;
    }
    close(sh);
    free(in);
    if (virDomainDestroy(dom) < 0)
        benchDie(virGetLastErrorMessage());
    benchLine("qemu_suspend_p50", (double)benchPercentile(sus, PAIRS, 50) / 1e6, "ms",
              "qmp_stop_via_shim_p50", (double)benchPercentile(stop, PAIRS, 50) / 1e6, NULL);
    benchLine("qemu_suspend_p99", (double)benchPercentile(sus, PAIRS, 99) / 1e6, "ms",
              "qmp_stop_via_shim_p99", (double)benchPercentile(stop, PAIRS, 99) / 1e6, NULL);
    benchLine("qemu_resume_p50", (double)benchPercentile(res, PAIRS, 50) / 1e6, "ms",
              "qmp_cont_via_shim_p50", (double)benchPercentile(cont, PAIRS, 50) / 1e6, NULL);
    benchLine("qemu_resume_p99", (double)benchPercentile(res, PAIRS, 99) / 1e6, "ms",
              "qmp_cont_via_shim_p99", (double)benchPercentile(cont, PAIRS, 99) / 1e6, NULL);
}

int main(void)
{
    char root[] = "/tmp/virtsup-qemu-bench-XXXXXX";
    char uri[PATH_MAX + 64], xml[PATH_MAX + 512], cmd[PATH_MAX + 16];
    uint64_t start[ROUNDS], destroy[ROUNDS], raw[ROUNDS], rawStop[ROUNDS];

    if (findQEMU() < 0) {
        printf("qemu-start-bench: qemu-system-x86_64 is not installed: nothing measured\n");
        return 0;
    }
    benchRunDir();
    if (!mkdtemp(root))
        benchDie("cannot create a directory in /tmp");
    snprintf(uri, sizeof(uri), "qemu:///%s?root=%s", geteuid() == 0 ? "system" : "session", root);
    virConnectPtr conn = virConnectOpen(uri);
    if (!conn)
        benchDie(virGetLastErrorMessage());
    snprintf(xml, sizeof(xml),
             "<domain type='qemu'><name>bench</name><memory unit='MiB'>32</memory>"
             "<vcpu>1</vcpu><os><type arch='x86_64'>hvm</type></os>"
             "<devices><emulator>%s</emulator></devices></domain>", qemu);
    virDomainPtr dom = virDomainDefineXML(conn, xml);
    if (!dom)
        benchDie(virGetLastErrorMessage());

    for (int i = 0; i < ROUNDS; i++) {
        uint64_t t0 = benchNow();
        virJobPtr job = virDomainCreateJob(dom, 0);
        virJobInfo info;
        if (!job || virJobWait(job, -1) != 0 || virJobGetInfo(job, &info) < 0 ||
            info.state != VIR_JOB_COMPLETE) {
            virErrorPtr e = job ? virJobGetError(job) : virGetLastError();
            fprintf(stderr, "bench: the start did not complete: %s\n",
                    e && e->message ? e->message : "");
            return 1;
        }
        start[i] = benchNow() - t0;
        virJobDestroy(job);
        t0 = benchNow();
        if (virDomainDestroy(dom) < 0)
            benchDie(virGetLastErrorMessage());
        destroy[i] = benchNow() - t0;
        raw[i] = rawLaunch(&rawStop[i]);
    }
    commandPairs(root, dom);
    (void)virDomainUndefine(dom);
    virDomainFree(dom);
    virConnectClose(conn);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    if (system(cmd) != 0)
        fprintf(stderr, "bench: cannot remove %s\n", root);

    uint64_t sMax = 0, dMax = 0, rMax = 0;
    for (int i = 0; i < ROUNDS; i++) {
        sMax = start[i] > sMax ? start[i] : sMax;
        dMax = destroy[i] > dMax ? destroy[i] : dMax;
        rMax = raw[i] > rMax ? raw[i] : rMax;
    }
    double rawP50 = (double)benchPercentile(raw, ROUNDS, 50) / 1e6;
    benchLine("qemu_start_p50", (double)benchPercentile(start, ROUNDS, 50) / 1e6, "ms",
              "raw_qemu_launch_p50", rawP50, NULL);
    benchLine("qemu_start_max", (double)sMax / 1e6, "ms",
              "raw_qemu_launch_max", (double)rMax / 1e6, NULL);
    benchLine("qemu_destroy_p50", (double)benchPercentile(destroy, ROUNDS, 50) / 1e6, "ms",
              "raw_qemu_sigterm_waitpid_p50", (double)benchPercentile(rawStop, ROUNDS, 50) / 1e6,
              NULL);
    return 0;
}
