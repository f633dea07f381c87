/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qemu-dump-test.c: virDomainDumpCoreJob on real QEMU (TCG). One Linux
 * test guest (tests/guest) is booted once and dumped several times:
 *
 *  - a dump completes: progress from QEMU, GetJobStats, an ELF64 core of
 *    the guest's memory (checked with readelf), the guest answers on its
 *    command channel afterwards;
 *  - a dump cancelled half-way (paced by bandwidth= so it is still
 *    running): the guest is paused (dump) while QEMU writes, the job ends
 *    cancelled, no file is left, the guest runs on and answers;
 *  - the pipe's reader (the job's worker) killed half-way: the job fails,
 *    no file, the guest runs on;
 *  - the disk fills up half-way (a 16 MiB tmpfs, root only): the job fails
 *    with ENOSPC, nothing left, the guest runs on;
 *  - QEMU refuses the dump (a dump of another client of the guest's
 *    monitor is in process): the job fails with QEMU's reason, no file,
 *    and the guest runs on once that other dump ended;
 *  - JOB_COMPLETED (default event loop): one per completed dump, with
 *    libvirt's typed parameters; the cancelled, failed and refused dumps
 *    raise none.
 *
 * A firmware-only guest (no kernel) then covers the flags (VIR_DUMP_CRASH
 * leaves it shut off, crashed; unknown flags refused; a domain that does
 * not run refused) and QEMU killed half-way (the job fails with the cause,
 * no file, the domain shut off, crashed).
 *
 * Skips (77) when QEMU or the guest cannot be had here.
 */
#include <sys/mount.h>
#include <sys/statvfs.h>

#include "qemuguest.h"

/* The booted Linux guest, shared by the tests of the first group. */
static qemuT shared;
static virConnectPtr fast, slow;     /* no cap; bandwidth=8 (MiB/s) */
static virDomainPtr linuxDom;        /* on fast */
static char smallFs[600];            /* a 16 MiB tmpfs, or "" */
static qgJobEvents events;           /* JOB_COMPLETED of both connections */

#define GUEST_MIB 192      /* qemuguest.h's guest */

/* The guest still runs its programs: its channel answers. */
static void guestAnswers(qemuT *t, const char *name)
{
    char out[256];
    int ch = channelOpen(t, name);
    channel(ch, "echo still here", out, sizeof(out));
    assert_string_equal(out, "still here");
    close(ch);
}

static virConnectPtr openWith(const char *extra)
{
    char uri[9000];
    snprintf(uri, sizeof(uri), "%s&%s", shared.uri, extra);
    virConnectPtr c = virConnectOpen(uri);
    if (!c)
        fail_msg("virConnectOpen(%s): %s", uri, virGetLastErrorMessage());
    return c;
}

static int groupSetup(void **state)
{
    (void)state;
    qtInit(&shared, NULL, NULL);
    assert_int_equal(chmod(shared.root, 0755), 0);
    shared.conn = qtOpen(&shared);
    fast = shared.conn;
    linuxDom = virDomainDefineXML(fast, guestXML(&shared, "dumpee", NULL));
    if (!linuxDom)
        fail_msg("define: %s", virGetLastErrorMessage());
    virJobPtr job = virDomainCreateJob(linuxDom, 0);
    assert_non_null(job);
    if (qtJobEnd(job) != VIR_JOB_COMPLETE)
        fail_msg("the guest did not start: %s", qtJobError(job));
    virJobDestroy(job);
    char console[800];
    snprintf(console, sizeof(console), "%s/dumpee.console", shared.root);
    if (!TEST_WAIT_UNTIL(fileHas(console, "VIRTSUP-GUEST-READY"), TEST_TIMEOUT_MS * 2))
        fail_msg("the guest did not boot to its marker (console in %s)", console);
    /* A second application, whose dumps are paced (it finds the guest). */
    slow = openWith("bandwidth=8");
    (void)qgWatchJobs(fast, &events);
    assert_true(virConnectDomainEventRegisterAny(slow, NULL, VIR_DOMAIN_EVENT_ID_JOB_COMPLETED,
                                                 VIR_DOMAIN_EVENT_CALLBACK(qgOnJobCompleted),
                                                 &events, NULL) >= 0);
    return 0;
}

static int groupTeardown(void **state)
{
    (void)state;
    if (linuxDom)
        virDomainFree(linuxDom);
    if (slow)
        virConnectClose(slow);
    qtCleanup(&shared);
    return 0;
}

/* Run readelf on @path; its output in @out. */
static void readelf(const char *opt, const char *path, char *out, size_t len)
{
    char cmd[1200];
    snprintf(cmd, sizeof(cmd), "readelf %s '%s' 2>&1", opt, path);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    size_t n = fread(out, 1, len - 1, f);
    out[n] = '\0';
    int rc = pclose(f);
    if (!WIFEXITED(rc) || WEXITSTATUS(rc) != 0)
        fail_msg("readelf %s %s failed: %s", opt, path, out);
}

static void test_dump_completes(void **state)
{
    (void)state;
    char path[800], out[16384];
    int op, ok;
    unsigned long long processed = 0;
    struct stat sb;

    snprintf(path, sizeof(path), "%s/dumpee.core", shared.root);
    long long t0 = testNowMs();
    virJobPtr job = virDomainDumpCoreJob(linuxDom, path,
                                         VIR_DUMP_LIVE | VIR_DUMP_MEMORY_ONLY);
    if (!job)
        fail_msg("DumpCoreJob: %s", virGetLastErrorMessage());
    /* One dump per domain at a time. */
    assert_null(virDomainDumpCoreJob(linuxDom, path, 0));
    assert_int_equal(virGetLastError()->code, VIR_ERR_OPERATION_INVALID);
    int st = qtJobEnd(job);
    if (st != VIR_JOB_COMPLETE)
        fail_msg("the dump ended in state %d: %s", st, qtJobError(job));
    printf("dump of a %d MiB guest: %lld ms\n", GUEST_MIB, testNowMs() - t0);
    virJobInfo info;
    assert_int_equal(virJobGetInfo(job, &info), 0);
    assert_int_equal(info.percentComplete, 100);
    virJobDestroy(job);

    /* The record: a completed dump of all the guest's memory (QEMU's
     * figures: guest RAM, whatever it holds). */
    assert_int_equal(qtJobStats(linuxDom, VIR_DOMAIN_JOB_STATS_COMPLETED, &op, &ok, NULL, 0,
                                &processed), VIR_DOMAIN_JOB_COMPLETED);
    assert_int_equal(op, VIR_DOMAIN_JOB_OPERATION_DUMP);
    assert_int_equal(ok, 1);
    assert_true(processed >= (unsigned long long)GUEST_MIB * 1024 * 1024);

    /* JOB_COMPLETED: the same figures, as libvirt's typed parameters. */
    qgWaitJobEvents(&events, 1);
    printf("JOB_COMPLETED: domain %s, operation %d, success %d, %llu of %llu bytes, %llu ms\n",
           events.domain, events.operation, events.success, events.processed, events.total,
           events.elapsed);
    assert_int_equal(events.count, 1);
    assert_string_equal(events.domain, "dumpee");
    assert_int_equal(events.operation, VIR_DOMAIN_JOB_OPERATION_DUMP);
    assert_int_equal(events.success, 1);
    assert_true(events.haveProcessed && events.haveTotal && events.haveElapsed);
    assert_true(events.processed == processed);
    assert_true(events.total == events.processed);
    assert_true(events.elapsed > 0);

    /* The core: an ELF64 x86-64 core file holding the guest's RAM. */
    assert_int_equal(stat(path, &sb), 0);
    assert_true(sb.st_size >= (off_t)GUEST_MIB * 1024 * 1024);
    readelf("-h", path, out, sizeof(out));
    if (!strstr(out, "ELF64") || !strstr(out, "CORE (Core file)") ||
        !strstr(out, "X86-64"))
        fail_msg("readelf -h says:\n%s", out);
    readelf("-l", path, out, sizeof(out));
    if (!strstr(out, "NOTE") || !strstr(out, "LOAD"))
        fail_msg("readelf -l says:\n%s", out);
    /* The first LOAD is the guest's RAM from address 0 (QEMU's layout). */
    char *load = strstr(out, "LOAD");
    unsigned long long off, vaddr, paddr, filesz, memsz;
    if (!load || sscanf(load, "LOAD %llx %llx %llx %llx %llx", &off, &vaddr, &paddr, &filesz,
                        &memsz) != 5)
        fail_msg("readelf -l: no LOAD line to read:\n%s", out);
    assert_int_equal(paddr, 0);
    assert_true(memsz >= (unsigned long long)GUEST_MIB * 1024 * 1024 / 2);
    assert_int_equal(unlink(path), 0);

    int s, r;
    assert_int_equal(virDomainGetState(linuxDom, &s, &r, 0), 0);
    if (s != VIR_DOMAIN_RUNNING)
        qtWaitState(linuxDom, VIR_DOMAIN_RUNNING, -1);
    guestAnswers(&shared, "dumpee");
}

/* Start a paced dump on the slow connection and wait until QEMU has
 * written some of it (its own progress figures). */
static virJobPtr slowDump(virDomainPtr *dom, const char *path)
{
    *dom = virDomainLookupByName(slow, "dumpee");
    assert_non_null(*dom);
    virJobPtr job = virDomainDumpCoreJob(*dom, path, 0);
    if (!job)
        fail_msg("DumpCoreJob: %s", virGetLastErrorMessage());
    virJobInfo info;
    if (!TEST_WAIT_UNTIL(virJobGetInfo(job, &info) == 0 &&
                         (info.percentComplete > 0 || info.state != VIR_JOB_RUNNING), TEST_TIMEOUT_MS))
        fail_msg("no progress from the dump");
    if (info.state != VIR_JOB_RUNNING)
        fail_msg("the paced dump ended too soon (state %d): %s", info.state, qtJobError(job));
    return job;
}

static void test_dump_cancel(void **state)
{
    (void)state;
    char path[800], msg[256];
    virDomainPtr dom;
    int s, r, op, ok;

    snprintf(path, sizeof(path), "%s/cancelled.core", shared.root);
    virJobPtr job = slowDump(&dom, path);
    /* Running: the live figures, and the guest paused while QEMU writes. */
    assert_int_equal(qtJobStats(dom, 0, &op, &ok, NULL, 0, NULL), VIR_DOMAIN_JOB_BOUNDED);
    assert_int_equal(op, VIR_DOMAIN_JOB_OPERATION_DUMP);
    if (!TEST_WAIT_UNTIL(virDomainGetState(dom, &s, &r, 0) == 0 && s == VIR_DOMAIN_PAUSED,
                         TEST_TIMEOUT_MS))
        fail_msg("the guest is not paused during the dump (state %d)", s);
    assert_int_equal(r, VIR_DOMAIN_PAUSED_DUMP);
    long long t0 = testNowMs();
    assert_true(virJobCancel(job) >= 0);
    assert_int_equal(qtJobEnd(job), VIR_JOB_CANCELLED);
    printf("cancel of a dump: job ended %lld ms after the request\n", testNowMs() - t0);
    virJobDestroy(job);
    /* Nothing left; the guest runs on as before. */
    assert_int_equal(access(path, F_OK), -1);
    qtWaitState(dom, VIR_DOMAIN_RUNNING, -1);
    printf("cancel of a dump: guest running again %lld ms after the request\n",
           testNowMs() - t0);
    assert_int_equal(qtJobStats(dom, VIR_DOMAIN_JOB_STATS_COMPLETED, &op, &ok, msg, sizeof(msg),
                                NULL), VIR_DOMAIN_JOB_CANCELLED);
    assert_int_equal(ok, 0);
    virDomainFree(dom);
    guestAnswers(&shared, "dumpee");
}

static void test_dump_reader_dies(void **state)
{
    (void)state;
    char path[800];
    virDomainPtr dom;

    snprintf(path, sizeof(path), "%s/orphan.core", shared.root);
    virJobPtr job = slowDump(&dom, path);
    int pid = qtWorkerPid(job);
    assert_true(pid > 0);
    /* The worker is the pipe's reader: it dies, the kernel closes the
     * pipe, QEMU's dump fails and the guest resumes. */
    assert_int_equal(kill(pid, SIGKILL), 0);
    assert_int_equal(qtJobEnd(job), VIR_JOB_FAILED);
    printf("worker killed during a dump: %s\n", qtJobError(job));
    virJobDestroy(job);
    assert_int_equal(access(path, F_OK), -1);
    qtWaitState(dom, VIR_DOMAIN_RUNNING, -1);
    virDomainFree(dom);
    guestAnswers(&shared, "dumpee");
}

static void test_dump_disk_full(void **state)
{
    (void)state;
    char path[800];
    struct statvfs sv0, sv;

    if (!smallFs[0]) {
        printf("skipped: no small file system (not root, or no tmpfs)\n");
        return;
    }
    snprintf(path, sizeof(path), "%s/full.core", smallFs);
    assert_int_equal(statvfs(smallFs, &sv0), 0);
    virJobPtr job = virDomainDumpCoreJob(linuxDom, path, 0);
    assert_non_null(job);
    assert_int_equal(qtJobEnd(job), VIR_JOB_FAILED);
    printf("dump onto a full disk: %s\n", qtJobError(job));
    if (!strstr(qtJobError(job), "No space left on device"))
        fail_msg("the error does not say the disk is full: '%s'", qtJobError(job));
    virJobDestroy(job);
    /* No file, no space used (the unnamed file is gone). */
    assert_int_equal(testCountEntries(smallFs), 0);
    assert_true(TEST_WAIT_UNTIL(statvfs(smallFs, &sv) == 0 && sv.f_bfree == sv0.f_bfree,
                                TEST_TIMEOUT_MS));
    qtWaitState(linuxDom, VIR_DOMAIN_RUNNING, -1);
    guestAnswers(&shared, "dumpee");
}

/* QEMU refuses our dump: another client of the guest's monitor (through
 * its shim, as an operator's QMP tool would) has a dump in process, its
 * reader stalled. */
static void test_dump_refused(void **state)
{
    (void)state;
    char path[800], runDir[800];
    int p[2];
    virShimIncoming *in = malloc(sizeof(*in));

    assert_non_null(in);
    snprintf(path, sizeof(path), "%s/refused.core", shared.root);
    snprintf(runDir, sizeof(runDir), "%s/run/dumpee", shared.root);
    int sh = virShimConnect(runDir);
    if (sh < 0)
        fail_msg("cannot reach the guest's shim: %s", virGetLastErrorMessage());
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    if (virShimQMP(sh, "getfd", "{\"fdname\":\"other\"}", &p[1], 1, TEST_TIMEOUT_MS, NULL,
                   NULL, in) < 0 ||
        virShimQMP(sh, "dump-guest-memory",
                   "{\"paging\":false,\"protocol\":\"fd:other\",\"detach\":true}", NULL, 0,
                   TEST_TIMEOUT_MS, NULL, NULL, in) < 0)
        fail_msg("the other dump: %s", virGetLastErrorMessage());
    close(p[1]);

    virJobPtr job = virDomainDumpCoreJob(linuxDom, path, 0);
    if (!job)
        fail_msg("DumpCoreJob: %s", virGetLastErrorMessage());
    assert_int_equal(qtJobEnd(job), VIR_JOB_FAILED);
    printf("dump refused by QEMU: %s\n", qtJobError(job));
    /* QEMU's own words, and that it is QEMU's. */
    if (!strstr(qtJobError(job), "QEMU") || !strstr(qtJobError(job), "dump in process"))
        fail_msg("the error does not give QEMU's reason: '%s'", qtJobError(job));
    virJobDestroy(job);
    assert_int_equal(access(path, F_OK), -1);

    /* The other dump's reader goes: QEMU's dump fails, the guest resumes. */
    close(p[0]);
    close(sh);
    int r = -1;
    if (qemuDomainWaitState(linuxDom, VIR_DOMAIN_RUNNING, TEST_TIMEOUT_MS, &r) < 0) {
        /* Say whose view is stale: the connection's, the shim's record,
         * or QEMU's own (its dump still going?). */
        char view[512], qs[1024], qd[1024];
        virShimStatus st;
        snprintf(view, sizeof(view), "%s", virGetLastErrorMessage());
        qtQMPLine(&shared, "dumpee", "query-status", qs, sizeof(qs));
        qtQMPLine(&shared, "dumpee", "query-dump", qd, sizeof(qd));
        int read = qtShimStatus(&shared, "dumpee", &st);
        fail_msg("the guest did not resume after the other dump's reader closed: %s; "
                 "the shim's record: %s; QEMU's query-status: %s; query-dump: %s", view,
                 read == 0 ? st.runstate : "(unreadable)", qs, qd);
    }
    free(in);
    guestAnswers(&shared, "dumpee");

    /* It dumps again; its JOB_COMPLETED is the second event of the group:
     * the cancelled, failed and refused dumps raised none. */
    job = virDomainDumpCoreJob(linuxDom, path, 0);
    assert_non_null(job);
    if (qtJobEnd(job) != VIR_JOB_COMPLETE)
        fail_msg("the dump after the refusal: %s", qtJobError(job));
    virJobDestroy(job);
    assert_int_equal(unlink(path), 0);
    qgWaitJobEvents(&events, 2);
    assert_int_equal(events.count, 2);
    assert_int_equal(events.unsuccessful, 0);
    assert_int_equal(events.operation, VIR_DOMAIN_JOB_OPERATION_DUMP);
    qtWaitState(linuxDom, VIR_DOMAIN_RUNNING, -1);
}

/* ---- a firmware-only guest: flags, QEMU killed ---- */

static int setupFw(void **state)
{
    qemuT *t = qtSetupWith(state, NULL, "bandwidth=1");
    assert_int_equal(chmod(t->root, 0755), 0);
    return 0;
}

static virDomainPtr startFw(qemuT *t, const char *name)
{
    char xml[2048];
    snprintf(xml, sizeof(xml),
             "<domain type='qemu'><name>%s</name><memory unit='MiB'>32</memory>"
             "<vcpu>1</vcpu><os><type arch='x86_64'>hvm</type></os>"
             "<devices><serial type='file'><source path='%s/%s.console'/></serial></devices>"
             "</domain>", name, t->root, name);
    virDomainPtr dom = virDomainDefineXML(t->conn, xml);
    if (!dom)
        fail_msg("define: %s", virGetLastErrorMessage());
    virJobPtr job = virDomainCreateJob(dom, 0);
    assert_non_null(job);
    if (qtJobEnd(job) != VIR_JOB_COMPLETE)
        fail_msg("the guest did not start: %s", qtJobError(job));
    virJobDestroy(job);
    return dom;
}

static void test_flags_crash_killed(void **state)
{
    qemuT *t = *state;
    char path[800], uri[9000];
    int s, r;
    virShimStatus st;

    t->conn = qtOpen(t);
    virDomainPtr dom = startFw(t, "fw");
    snprintf(path, sizeof(path), "%s/fw.core", t->root);

    /* Refused at once, nothing made: a flag we cannot honour, a file in a
     * directory that does not exist. */
    assert_null(virDomainDumpCoreJob(dom, path, VIR_DUMP_RESET));
    assert_int_equal(virGetLastError()->code, VIR_ERR_INVALID_ARG);
    assert_null(virDomainDumpCoreJob(dom, "/nonexistent/dir/x.core", 0));
    assert_int_equal(access(path, F_OK), -1);

    /* QEMU killed half-way (the dump paced at 1 MiB/s): the job fails
     * saying so, no file, the domain is shut off, crashed. */
    virJobPtr job = virDomainDumpCoreJob(dom, path, 0);
    assert_non_null(job);
    virJobInfo info;
    if (!TEST_WAIT_UNTIL(virJobGetInfo(job, &info) == 0 &&
                         (info.percentComplete > 0 || info.state != VIR_JOB_RUNNING), TEST_TIMEOUT_MS) ||
        info.state != VIR_JOB_RUNNING)
        fail_msg("the paced dump did not run (state %d): %s", info.state, qtJobError(job));
    assert_int_equal(qtShimStatus(t, "fw", &st), 0);
    assert_int_equal(virProcessKillIdentity(st.child_pid, st.child_start, SIGKILL), 0);
    assert_int_equal(qtJobEnd(job), VIR_JOB_FAILED);
    printf("QEMU killed during a dump: %s\n", qtJobError(job));
    if (!strstr(qtJobError(job), "QEMU"))
        fail_msg("the error does not name QEMU: '%s'", qtJobError(job));
    virJobDestroy(job);
    assert_int_equal(access(path, F_OK), -1);
    qtWaitState(dom, VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_CRASHED);
    /* Not running: refused. */
    assert_null(virDomainDumpCoreJob(dom, path, 0));
    assert_int_equal(virGetLastError()->code, VIR_ERR_OPERATION_INVALID);
    assert_int_equal(access(path, F_OK), -1);

    /* Destroyed half-way, by another connection: the job says QEMU was
     * stopped, the guest destroyed. Before, it said only what the monitor
     * answered as QEMU ended ("cannot send 'query-dump' to QEMU: the
     * monitor was closed"), seen in a loop of two connections. */
    job = virDomainCreateJob(dom, 0);
    assert_non_null(job);
    assert_int_equal(qtJobEnd(job), VIR_JOB_COMPLETE);
    virJobDestroy(job);
    job = virDomainDumpCoreJob(dom, path, 0);
    assert_non_null(job);
    if (!TEST_WAIT_UNTIL(virJobGetInfo(job, &info) == 0 &&
                         (info.percentComplete > 0 || info.state != VIR_JOB_RUNNING), TEST_TIMEOUT_MS) ||
        info.state != VIR_JOB_RUNNING)
        fail_msg("the paced dump did not run (state %d): %s", info.state, qtJobError(job));
    virConnectPtr other = virConnectOpen(t->uri);
    assert_non_null(other);
    virDomainPtr od = virDomainLookupByName(other, "fw");
    assert_non_null(od);
    assert_int_equal(virDomainDestroy(od), 0);
    assert_int_equal(qtJobEnd(job), VIR_JOB_FAILED);
    printf("QEMU destroyed during a dump: %s\n", qtJobError(job));
    if (!strstr(qtJobError(job), "QEMU was stopped during the core dump (the guest was "
                                 "destroyed)"))
        fail_msg("the error does not say the guest was destroyed: '%s'", qtJobError(job));
    virJobDestroy(job);
    assert_int_equal(access(path, F_OK), -1);
    qtWaitState(dom, VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_DESTROYED);
    virDomainFree(od);
    assert_int_equal(virConnectClose(other), 0);
    virDomainFree(dom);

    /* VIR_DUMP_CRASH (without a cap): the core, then the guest is shut
     * off, crashed. */
    snprintf(uri, sizeof(uri), "qemu:///%s?root=%s", geteuid() == 0 ? "system" : "session",
             t->root);
    virConnectPtr c = virConnectOpen(uri);
    assert_non_null(c);
    dom = virDomainLookupByName(c, "fw");
    assert_non_null(dom);
    job = virDomainCreateJob(dom, 0);
    assert_non_null(job);
    assert_int_equal(qtJobEnd(job), VIR_JOB_COMPLETE);
    virJobDestroy(job);
    job = virDomainDumpCoreJob(dom, path, VIR_DUMP_CRASH);
    assert_non_null(job);
    if (qtJobEnd(job) != VIR_JOB_COMPLETE)
        fail_msg("the crash dump ended: %s", qtJobError(job));
    virJobDestroy(job);
    assert_int_equal(virDomainGetState(dom, &s, &r, 0), 0);
    assert_int_equal(s, VIR_DOMAIN_SHUTOFF);
    assert_int_equal(r, VIR_DOMAIN_SHUTOFF_CRASHED);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_true(sb.st_size >= 32 * 1024 * 1024);
    char out[4096];
    readelf("-h", path, out, sizeof(out));
    if (!strstr(out, "CORE (Core file)"))
        fail_msg("readelf -h says:\n%s", out);
    virDomainFree(dom);
    virConnectClose(c);
}

static void unmountSmall(void)
{
    if (smallFs[0]) {
        (void)umount2(smallFs, MNT_DETACH);
        rmdir(smallFs);
        smallFs[0] = '\0';
    }
}

int main(void)
{
    int rc = qgPrepare();
    if (rc)
        return rc;
    /* A small tmpfs for the full disk, in a mount namespace of our own
     * (testutils.h: nothing reaches the host's mounts). */
    if (geteuid() == 0) {
        char tmpl[] = "/tmp/virtsup-dumpfs-XXXXXX";
        if (mkdtemp(tmpl)) {
            snprintf(smallFs, sizeof(smallFs), "%s", tmpl);
            if (testMountTmpfs(smallFs, "size=16m,mode=0755") < 0) {
                rmdir(smallFs);
                smallFs[0] = '\0';
            }
        }
    }
    atexit(unmountSmall);
    const struct CMUnitTest linuxTests[] = {
        cmocka_unit_test(test_dump_completes),
        cmocka_unit_test(test_dump_cancel),
        cmocka_unit_test(test_dump_reader_dies),
        cmocka_unit_test(test_dump_disk_full),
        cmocka_unit_test(test_dump_refused),
    };
    const struct CMUnitTest fwTests[] = {
        cmocka_unit_test_setup_teardown(test_flags_crash_killed, setupFw, qtTeardown),
    };
    rc = cmocka_run_group_tests_name("linux guest", linuxTests, groupSetup, groupTeardown);
    rc |= cmocka_run_group_tests_name("firmware guest", fwTests, NULL, NULL);
    return rc;
}
