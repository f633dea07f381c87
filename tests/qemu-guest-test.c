/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qemu-guest-test.c: the qemu driver with real QEMU (TCG) and a real Linux
 * guest (tests/guest: a Debian cloud kernel and a busybox initramfs that
 * answers on a serial command channel). Four boots in all:
 *
 *  1. defined guest: the start job's phases, boot to the marker, the
 *     command channel (echo, DHCP from user-mode networking, a fill of
 *     guest RAM and its checksum), real figures from GetInfo, lookup by
 *     ID, suspend (the guest stops answering) and resume, QEMU's
 *     confinement as the kernel sees it (its user, no capabilities,
 *     no_new_privs, seccomp, a root without the host's files), then an ACPI
 *     shutdown the guest carries out;
 *  2. a guest started by another application that is then SIGKILLed: the
 *     guest runs on, a new application finds it with the same QEMU
 *     (pid and start time) and its channel answers; QEMU killed from
 *     outside is seen at once as shut off, crashed;
 *  3. QEMU refusing to start (kernel, disk, machine type: its own words in
 *     the job's error), then a guest with a raw disk image handed to QEMU
 *     as a descriptor (the guest reads its checksum), destroyed;
 *  4. virDomainReboot: the guest's acpid powers it off at the ACPI power
 *     button, the same QEMU starts it again (a new boot id, the same
 *     domain ID and QEMU process, a REBOOT event), then an ACPI shutdown
 *     ends QEMU.
 *
 * Skips (77) when QEMU or the guest cannot be had here.
 */
#include "qemuguest.h"

static void procStatus(pid_t pid, const char *field, char *out, size_t len)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    out[0] = '\0';
    while (fgets(line, sizeof(line), f))
        if (!strncmp(line, field, strlen(field)) && line[strlen(field)] == ':')
            snprintf(out, len, "%s", line + strlen(field) + 1 + strspn(line + strlen(field) + 1, " \t"));
    fclose(f);
    out[strcspn(out, "\n")] = '\0';
}

static void test_boot_channel_lifecycle(void **state)
{
    qemuT *t = *state;
    char out[4096], phases[256] = "", last[64] = "";
    virShimStatus st;
    int s, r;

    t->conn = qtOpen(t);
    virDomainPtr dom = virDomainDefineXML(t->conn, guestXML(t, "guest1",
                        "<interface type='user'><model type='virtio'/><rom enabled='no'/></interface>"));
    if (!dom)
        fail_msg("define: %s", virGetLastErrorMessage());
    long long t0 = testNowMs();
    virJobPtr job = virDomainCreateJob(dom, 0);
    assert_non_null(job);
    /* The phases, as an operator watching the job sees them. */
    for (;;) {
        virTypedParameterPtr params = NULL;
        int nparams = 0;
        const char *phase = NULL;
        virJobInfo info;
        assert_int_equal(virJobGetStats(job, &params, &nparams, 0), 0);
        if (virTypedParamsGetString(params, nparams, VIR_JOB_STATS_PHASE, &phase) == 1 &&
            phase[0] && STRNEQ(phase, last)) {
            snprintf(last, sizeof(last), "%s", phase);
            snprintf(phases + strlen(phases), sizeof(phases) - strlen(phases), "%s%s",
                     phases[0] ? " > " : "", phase);
        }
        virTypedParamsFree(params, nparams);
        assert_int_equal(virJobGetInfo(job, &info), 0);
        if (info.state != VIR_JOB_RUNNING)
            break;
        struct pollfd p = { virJobGetFD(job), POLLIN, 0 };
        (void)poll(&p, 1, 1);
    }
    if (qtJobEnd(job) != VIR_JOB_COMPLETE)
        fail_msg("the start failed: %s", qtJobError(job));
    virJobDestroy(job);
    printf("start: %lld ms, phases: %s\n", testNowMs() - t0, phases);
    assert_non_null(strstr(phases, "running"));
    /* In their order, whichever were seen. */
    const char *order[] = { "preparing", "starting QEMU", "monitor ready", "running" };
    const char *at = phases;
    for (size_t i = 0; i < 4; i++) {
        const char *f = strstr(phases, order[i]);
        if (f) {
            assert_true(f >= at);
            at = f;
        }
    }
    assert_int_equal(virDomainGetState(dom, &s, &r, 0), 0);
    assert_int_equal(s, VIR_DOMAIN_RUNNING);
    assert_int_equal(r, 1 /* booted */);

    waitBooted(t, "guest1");
    printf("boot to the marker: %lld ms after the call\n", testNowMs() - t0);
    int ch = channelOpen(t, "guest1");
    channel(ch, "echo hello from the host", out, sizeof(out));
    assert_string_equal(out, "hello from the host");
    /* User-mode networking: the guest's DHCP client gets QEMU's address. */
    channel(ch, "dhcp eth0", out, sizeof(out));
    assert_non_null(strstr(out, "10.0.2.15"));
    char md5[64];
    channel(ch, "fill 2", md5, sizeof(md5));
    assert_int_equal(strlen(md5), 32);
    channel(ch, "md5 /fill/data", out, sizeof(out));
    assert_string_equal(out, md5);

    /* Real figures. */
    virDomainInfo info, info2;
    assert_int_equal(virDomainGetInfo(dom, &info), 0);
    assert_int_equal(info.state, VIR_DOMAIN_RUNNING);
    assert_int_equal(info.maxMem, 192 * 1024);
    assert_int_equal(info.memory, 192 * 1024);
    assert_int_equal(info.nrVirtCpu, 1);
    assert_true(info.cpuTime > 0);
    channel(ch, "fill 1", out, sizeof(out));   /* CPU work in the guest */
    assert_int_equal(virDomainGetInfo(dom, &info2), 0);
    assert_true(info2.cpuTime > info.cpuTime);
    int id = (int)virDomainGetID(dom);
    assert_true(id > 0);
    virDomainPtr byId = virDomainLookupByID(t->conn, id);
    assert_non_null(byId);
    virDomainFree(byId);

    /* QEMU as the kernel sees it: least privileged, in a root of its own. */
    assert_int_equal(qtShimStatus(t, "guest1", &st), 0);
    if (geteuid() == 0) {
        procStatus(st.child_pid, "Uid", out, sizeof(out));
        assert_int_equal(strncmp(out, "65534", 5), 0);
        procStatus(st.child_pid, "CapEff", out, sizeof(out));
        assert_string_equal(out, "0000000000000000");
        procStatus(st.child_pid, "CapBnd", out, sizeof(out));
        assert_string_equal(out, "0000000000000000");
        procStatus(st.child_pid, "NoNewPrivs", out, sizeof(out));
        assert_string_equal(out, "1");
        procStatus(st.child_pid, "Seccomp", out, sizeof(out));
        assert_string_equal(out, "2");
        char path[128];
        snprintf(path, sizeof(path), "/proc/%d/root/etc/passwd", (int)st.child_pid);
        assert_int_equal(access(path, F_OK), -1);
        snprintf(path, sizeof(path), "/proc/%d/root/usr/bin", (int)st.child_pid);
        assert_int_equal(access(path, F_OK), 0);
        char vpath[1200];
        snprintf(vpath, sizeof(vpath), "/proc/%d/root%s/vmlinux", (int)st.child_pid, guestDir);
        assert_int_equal(access(vpath, F_OK), 0);
    }

    /* Suspended, the guest does not answer; resumed, it does. */
    assert_int_equal(virDomainSuspend(dom), 0);
    assert_int_equal(virDomainGetState(dom, &s, &r, 0), 0);
    assert_int_equal(s, VIR_DOMAIN_PAUSED);
    assert_int_equal(channelTry(ch, "echo after the pause", out, sizeof(out), 300), 0);
    assert_int_equal(virDomainResume(dom), 0);
    assert_int_equal(virDomainGetState(dom, &s, &r, 0), 0);
    assert_int_equal(s, VIR_DOMAIN_RUNNING);
    channel(ch, NULL, out, sizeof(out));
    assert_string_equal(out, "after the pause");
    close(ch);

    /* ACPI shutdown: the guest's acpid powers it off. */
    t0 = testNowMs();
    assert_int_equal(virDomainShutdown(dom), 0);
    qtWaitState(dom, VIR_DOMAIN_SHUTOFF, 1 /* shutdown */);
    printf("ACPI shutdown: %lld ms\n", testNowMs() - t0);
    assert_true(TEST_WAIT_UNTIL(!virProcessAlive(st.shim_pid, st.shim_start), TEST_TIMEOUT_MS));
    assert_false(virProcessAlive(st.child_pid, st.child_start));
    virDomainFree(dom);
}

static void test_survives_application(void **state)
{
    qemuT *t = *state;
    virShimStatus before, after;
    char out[256];

    pid_t app = qtAppStartsGuest(t, guestXML(t, "guest2", NULL), true);
    assert_int_equal(qtShimStatus(t, "guest2", &before), 0);
    qtKillApp(app);

    /* Nobody watches: the guest runs and boots on. */
    assert_true(virShimChildAlive(&before));
    waitBooted(t, "guest2");

    virDomainPtr dom = qtFoundAgain(t, "guest2", &before, &after);
    assert_true(virShimChildAlive(&after));
    int ch = channelOpen(t, "guest2");
    channel(ch, "echo still here", out, sizeof(out));
    assert_string_equal(out, "still here");
    close(ch);
    virDomainInfo info;
    assert_int_equal(virDomainGetInfo(dom, &info), 0);
    assert_true(info.cpuTime > 0);

    /* QEMU killed from outside: shut off, crashed, at once. */
    long long t0 = testNowMs();
    assert_int_equal(kill(after.child_pid, SIGKILL), 0);
    qtWaitState(dom, VIR_DOMAIN_SHUTOFF, 3 /* crashed */);
    printf("QEMU killed -> shut off (crashed) seen after %lld ms\n", testNowMs() - t0);
    virDomainFree(dom);
}

static void test_failures_disk_destroy(void **state)
{
    qemuT *t = *state;
    char xml[8192], dev[1024], out[256];
    struct {
        const char *what, *change, *message;
    } bad[] = {
        { "kernel", "<kernel>/nonexistent/vmlinuz</kernel>", "/nonexistent/vmlinuz" },
        { "machine", "<type machine='no-such-machine'>hvm</type>", "unsupported machine type" },
    };

    t->conn = qtOpen(t);
    for (size_t i = 0; i < ARRAY_CARDINALITY(bad); i++) {
        snprintf(xml, sizeof(xml),
                 "<domain type='qemu'><name>bad-%s</name><memory unit='MiB'>64</memory>"
                 "<os>%s%s</os></domain>", bad[i].what,
                 strstr(bad[i].change, "<type") ? bad[i].change : "<type>hvm</type>",
                 strstr(bad[i].change, "<type") ? "" : bad[i].change);
        virJobPtr job = virDomainCreateLinuxJob(t->conn, xml, 0);
        assert_non_null(job);
        assert_int_equal(qtJobEnd(job), VIR_JOB_FAILED);
        printf("bad %s: %s\n", bad[i].what, qtJobError(job));
        assert_non_null(strstr(qtJobError(job), "QEMU exited during start-up"));
        assert_non_null(strstr(qtJobError(job), bad[i].message));
        virJobDestroy(job);
    }
    /* A missing disk image: QEMU's own words too. */
    snprintf(dev, sizeof(dev), "<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
             "<source file='%s/no-such-image.raw'/><target dev='vda' bus='virtio'/></disk>", t->root);
    virJobPtr job = virDomainCreateLinuxJob(t->conn, guestXML(t, "nodisk", dev), 0);
    assert_non_null(job);
    assert_int_equal(qtJobEnd(job), VIR_JOB_FAILED);
    printf("missing disk: %s\n", qtJobError(job));
    assert_non_null(strstr(qtJobError(job), "no-such-image.raw"));
    assert_non_null(strstr(qtJobError(job), "qemu-system-x86_64:"));
    virJobDestroy(job);

    /* A raw image QEMU gets as a descriptor (root-only file: QEMU, as
     * nobody, could not open it by path); the guest reads it back. */
    char img[300];
    snprintf(img, sizeof(img), "%s/disk.raw", t->root);
    int fd = open(img, O_WRONLY | O_CREAT, 0600);
    assert_true(fd >= 0);
    char block[65536];
    for (size_t i = 0; i < sizeof(block); i++)
        block[i] = (char)(i * 7 + 3);
    for (int i = 0; i < 16; i++)
        assert_int_equal(write(fd, block, sizeof(block)), (ssize_t)sizeof(block));
    close(fd);
    snprintf(dev, sizeof(dev), "<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
             "<source file='%s'/><target dev='vda' bus='virtio'/><serial>virtsup-disk</serial>"
             "</disk>", img);
    virDomainPtr dom = virDomainDefineXML(t->conn, guestXML(t, "guest3", dev));
    assert_non_null(dom);
    job = virDomainCreateJob(dom, 0);
    assert_non_null(job);
    if (qtJobEnd(job) != VIR_JOB_COMPLETE)
        fail_msg("start: %s", qtJobError(job));
    virJobDestroy(job);
    waitBooted(t, "guest3");
    int ch = channelOpen(t, "guest3");
    channel(ch, "md5 /dev/vda", out, sizeof(out));
    char want[64], cmd[600];
    snprintf(cmd, sizeof(cmd), "md5sum %s", img);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    assert_int_equal(fscanf(f, "%32s", want), 1);
    pclose(f);
    assert_string_equal(out, want);
    close(ch);

    virShimStatus st;
    assert_int_equal(qtShimStatus(t, "guest3", &st), 0);
    long long t0 = testNowMs();
    assert_int_equal(virDomainDestroy(dom), 0);
    printf("destroy: %lld ms\n", testNowMs() - t0);
    int s, r;
    assert_int_equal(virDomainGetState(dom, &s, &r, 0), 0);
    assert_int_equal(s, VIR_DOMAIN_SHUTOFF);
    assert_int_equal(r, 2 /* destroyed */);
    assert_false(virProcessAlive(st.child_pid, st.child_start));
    virDomainFree(dom);
}

static void onReboot(virConnectPtr conn, virDomainPtr dom, void *opaque)
{
    (void)conn;
    (void)dom;
    (*(int *)opaque)++;
}

/* The guest's boot id (a new one at every boot), through its channel
 * @ch; 0 when it does not answer within @timeout_ms (rebooting). */
static int bootId(int ch, char *out, size_t len, int timeout_ms)
{
    return channelTry(ch, "sh cat /proc/sys/kernel/random/boot_id", out, len, timeout_ms) &&
           strlen(out) == 36;
}

static void test_reboot(void **state)
{
    qemuT *t = *state;
    char boot1[128], boot2[128];
    virShimStatus st, st2;
    int reboots = 0;

    t->conn = qtOpen(t);
    /* <on_reboot>restart (the default): a reboot is one. */
    char *xml = (char *)guestXML(t, "guestrb", NULL), *p = strstr(xml, "<on_reboot>destroy<");
    assert_non_null(p);
    memcpy(p + strlen("<on_reboot>"), "restart", 7);
    virDomainPtr dom = virDomainDefineXML(t->conn, xml);
    if (!dom)
        fail_msg("define: %s", virGetLastErrorMessage());
    assert_int_equal(virEventRegisterDefaultImpl(), 0);
    int cb = virConnectDomainEventRegisterAny(t->conn, dom, VIR_DOMAIN_EVENT_ID_REBOOT,
                                              VIR_DOMAIN_EVENT_CALLBACK(onReboot), &reboots,
                                              NULL);
    assert_true(cb >= 0);
    int timer = virEventAddTimeout(50, qgTick, NULL, NULL);
    assert_true(timer > 0);
    qtStart(dom);
    waitBooted(t, "guestrb");
    int ch = channelOpen(t, "guestrb");
    assert_true(bootId(ch, boot1, sizeof(boot1), TEST_TIMEOUT_MS));
    assert_int_equal(qtShimStatus(t, "guestrb", &st), 0);
    int id = (int)virDomainGetID(dom);

    long long t0 = testNowMs();
    assert_int_equal(virDomainReboot(dom, VIR_DOMAIN_REBOOT_ACPI_POWER_BTN), 0);
    long long end = testNowMs() + TEST_TIMEOUT_MS * 2;
    while (reboots == 0 && testNowMs() < end)
        assert_int_equal(virEventRunDefaultImpl(), 0);
    if (!reboots)
        fail_msg("no REBOOT event after virDomainReboot");
    qtWaitState(dom, VIR_DOMAIN_RUNNING, VIR_DOMAIN_RUNNING_BOOTED);
    /* A new boot answers on the channel (QEMU's socket: the same
     * connection). */
    bool again = false;
    while (!again && testNowMs() < end)
        again = bootId(ch, boot2, sizeof(boot2), 1000) && STRNEQ(boot2, boot1);
    if (!again)
        fail_msg("the guest did not answer from a new boot (boot id %s)", boot1);
    printf("reboot (ACPI, guest's poweroff, reset): %lld ms to the new boot's answer\n",
           testNowMs() - t0);
    assert_int_equal(reboots, 1);
    assert_int_equal((int)virDomainGetID(dom), id);
    assert_int_equal(qtShimStatus(t, "guestrb", &st2), 0);
    assert_int_equal(st2.child_pid, st.child_pid);
    assert_int_equal(st2.child_start, st.child_start);
    assert_true(virProcessAlive(st.child_pid, st.child_start));
    close(ch);

    /* No reboot pending now: the ACPI shutdown ends QEMU. */
    assert_int_equal(virDomainShutdown(dom), 0);
    qtWaitState(dom, VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_SHUTDOWN);
    assert_true(TEST_WAIT_UNTIL(!virProcessAlive(st.shim_pid, st.shim_start), TEST_TIMEOUT_MS));
    assert_false(virProcessAlive(st.child_pid, st.child_start));
    virEventRemoveTimeout(timer);
    assert_int_equal(virConnectDomainEventDeregisterAny(t->conn, cb), 0);
    virDomainFree(dom);
}

int main(void)
{
    int rc = qgPrepare();
    if (rc)
        return rc;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_boot_channel_lifecycle, setupT, qtTeardown),
        cmocka_unit_test_setup_teardown(test_survives_application, setupT, qtTeardown),
        cmocka_unit_test_setup_teardown(test_failures_disk_destroy, setupT, qtTeardown),
        cmocka_unit_test_setup_teardown(test_reboot, setupT, qtTeardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
