/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qemu-save-bench: virDomainSaveJob and virDomainRestoreJob of a real
 * guest (the test guest of tests/guest, 512 MiB, 128 MiB of it filled with
 * random data at boot, TCG), beside QEMU saving the same guest straight
 * into a file in the same run (through the same shim: stop,
 * max-bandwidth, getfd of the file, migrate fd:, query-migrate until
 * completed, fsync, cont). Also: the first progress of each job after the
 * call, and cancel -> guest running again for a save cancelled while
 * QEMU streams.
 *
 * ROUNDS rounds, p50 and max. Prints a note and exits 0 when QEMU or the
 * test guest (make check builds it into build/guest) is missing.
 */
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>

#include "libvirtsup/libvirtsup.h"
#include "util/internal.h"
#include "util/virjsonflat.h"
#include "util/virshim.h"
#include "benchutil.h"

#define ROUNDS 3

static char guestDir[PATH_MAX];

static bool consoleHas(const char *path, const char *needle)
{
    static char buf[1 << 20];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
    if (fd >= 0)
        close(fd);
    if (n <= 0)
        return false;
    buf[n] = '\0';
    return strstr(buf, needle) != NULL;
}

static void qmp(int sh, virShimIncoming *in, const char *cmd, const char *args, int fd)
{
    if (virShimQMP(sh, cmd, args, fd >= 0 ? &fd : NULL, fd >= 0 ? 1 : 0, 30000, NULL, NULL,
                   in) < 0)
        benchDie(virGetLastErrorMessage());
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
    if (fdatasync(fd) < 0 || fstat(fd, &sb) < 0)
        benchDie("raw save: fsync failed");
    *ns = benchNow() - t0;
    qmp(sh, in, "cont", NULL, -1);
    close(sh);
    close(fd);
    free(in);
    return (uint64_t)sb.st_size;
}

/* Run @job to its end; the first progress after @t0 in *@first. */
static uint64_t runJob(virJobPtr job, uint64_t t0, uint64_t *first)
{
    virJobInfo info;
    *first = 0;
    if (!job)
        benchDie(virGetLastErrorMessage());
    for (;;) {
        virTypedParameterPtr params = NULL;
        int n = 0;
        unsigned long long done = 0;
        if (!*first && virJobGetStats(job, &params, &n, 0) == 0 &&
            virTypedParamsGetULLong(params, n, VIR_JOB_STATS_DATA_PROCESSED, &done) == 1 &&
            done > 0)
            *first = benchNow() - t0;
        virTypedParamsFree(params, n);
        if (virJobGetInfo(job, &info) < 0)
            benchDie("job info");
        if (info.state != VIR_JOB_RUNNING)
            break;
        (void)virJobWait(job, 1);
    }
    uint64_t ns = benchNow() - t0;
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

int main(void)
{
    char root[] = "/tmp/virtsup-qemu-sbench-XXXXXX";
    char uri[PATH_MAX + 64], xml[3 * PATH_MAX + 1024], path[PATH_MAX + 64], raw[PATH_MAX + 64];
    char runDir[PATH_MAX + 64], console[PATH_MAX + 64], cmd[PATH_MAX + 16];
    const char *gd = getenv("VIRTSUP_GUEST_DIR");
    uint64_t save[ROUNDS], rawNs[ROUNDS], restore[ROUNDS], firstSave[ROUNDS];
    uint64_t firstRestore[ROUNDS], cancel[ROUNDS], bytes = 0, rawBytes = 0;
    struct stat sb;

    snprintf(path, sizeof(path), "%s/vmlinux", gd ? gd : "build/guest");
    if (system("command -v qemu-system-x86_64 >/dev/null") != 0 || !realpath(path, guestDir)) {
        printf("qemu-save-bench: QEMU or the test guest (build/guest) is missing: nothing "
               "measured\n");
        return 0;
    }
    *strrchr(guestDir, '/') = '\0';
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
    uint64_t t0 = benchNow(), first;
    (void)runJob(virDomainCreateJob(dom, 0), t0, &first);
    while (!consoleHas(console, "VIRTSUP-GUEST-READY")) {
        if (benchNow() - t0 > 120000000000ULL)
            benchDie("the guest did not fill its memory within 120 s");
        (void)poll(NULL, 0, 50);
    }
    snprintf(runDir, sizeof(runDir), "%s/run/sbench", root);
    snprintf(path, sizeof(path), "%s/sbench.img", root);
    snprintf(raw, sizeof(raw), "%s/raw.img", root);

    for (int i = 0; i < ROUNDS; i++) {
        rawBytes = rawSave(runDir, raw, &rawNs[i]);
        unlink(raw);
        waitState(dom, VIR_DOMAIN_RUNNING);
        /* A save cancelled once QEMU streams: until the guest runs again. */
        virJobPtr job = virDomainSaveJob(dom, path);
        if (!job)
            benchDie(virGetLastErrorMessage());
        unsigned long long done = 0;
        while (done == 0) {
            virTypedParameterPtr params = NULL;
            int n = 0;
            if (virJobGetStats(job, &params, &n, 0) == 0)
                (void)virTypedParamsGetULLong(params, n, VIR_JOB_STATS_DATA_PROCESSED, &done);
            virTypedParamsFree(params, n);
            (void)poll(NULL, 0, 1);
        }
        uint64_t c0 = benchNow();
        virJobCancel(job);
        waitState(dom, VIR_DOMAIN_RUNNING);
        cancel[i] = benchNow() - c0;
        (void)virJobWait(job, -1);
        virJobDestroy(job);

        t0 = benchNow();
        save[i] = runJob(virDomainSaveJob(dom, path), t0, &firstSave[i]);
        if (stat(path, &sb) < 0)
            benchDie("no image after the save");
        bytes = (uint64_t)sb.st_size;
        t0 = benchNow();
        restore[i] = runJob(virDomainRestoreJob(conn, path), t0, &firstRestore[i]);
        unlink(path);
    }
    (void)virDomainDestroy(dom);
    (void)virDomainUndefine(dom);
    virDomainFree(dom);
    virConnectClose(conn);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    if (system(cmd) != 0)
        fprintf(stderr, "qemu-save-bench: cannot remove %s\n", root);

    double ours = (double)bytes / ((double)benchPercentile(save, ROUNDS, 50) / 1e9) / 1048576;
    double direct = (double)rawBytes / ((double)benchPercentile(rawNs, ROUNDS, 50) / 1e9) /
                    1048576;
    printf("qemu-save-bench: image %llu bytes (QEMU's own stream %llu bytes), %d rounds\n",
           (unsigned long long)bytes, (unsigned long long)rawBytes, ROUNDS);
    benchLine("qemu_save_p50", (double)benchPercentile(save, ROUNDS, 50) / 1e6, "ms",
              "raw_qemu_to_file_p50", (double)benchPercentile(rawNs, ROUNDS, 50) / 1e6, NULL);
    benchLine("qemu_save_mib_s", ours, "MiB/s", "raw_qemu_to_file_mib_s", direct, NULL);
    benchLine("qemu_restore_p50", (double)benchPercentile(restore, ROUNDS, 50) / 1e6, "ms",
              "none", 0, NULL);
    benchLine("qemu_restore_mib_s",
              (double)bytes / ((double)benchPercentile(restore, ROUNDS, 50) / 1e9) / 1048576,
              "MiB/s", "none", 0, NULL);
    benchLine("qemu_save_first_progress_p50", (double)benchPercentile(firstSave, ROUNDS, 50) / 1e6,
              "ms", "none", 0, NULL);
    benchLine("qemu_restore_first_progress_p50",
              (double)benchPercentile(firstRestore, ROUNDS, 50) / 1e6, "ms", "none", 0, NULL);
    benchLine("qemu_save_cancel_to_running_p50", (double)benchPercentile(cancel, ROUNDS, 50) / 1e6,
              "ms", "none", 0, NULL);
    return 0;
}
