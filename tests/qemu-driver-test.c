/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qemu-driver-test.c: the qemu driver with a stand-in for QEMU
 * (tests/helpers/fake-qemu, named by ?emulator=) that speaks QMP and
 * misbehaves on demand: definitions kept across connections, the start job
 * and its phases, suspend/resume/shutdown/destroy, and each fault of the
 * driver's list: QEMU failing to start (its message in the job error),
 * QEMU killed from outside, a monitor that stops answering, a guest in
 * internal-error, a save that QEMU fails before it gives the guest back,
 * a start interrupted by the application's death, guests
 * surviving the application and found again, a guest that died while no
 * application watched, stale run directories. Real QEMU: qemu-guest-test.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "qemutest.h"
#include "drivers/qemu/qemu-proto.h"
#include "util/viralloc.h"

static char fake[4096];

static int setupT(void **state)
{
    qtSetupWith(state, fake, "monitor_timeout=2000");
    return 0;
}

/* A monitor timeout longer than the tests' own waits. */
static int setupLongMonitor(void **state)
{
    qtSetupWith(state, fake, "monitor_timeout=120000");
    return 0;
}

/* Allocation failures, swept as tests/alloc-test.c does: count the wrapped
 * allocations of one suspend (or destroy) of the running @dom, then run it
 * once with each of them failing. A run either does what it should or
 * fails with VIR_ERR_NO_MEMORY and leaves the guest running. Returns how
 * many runs failed. */
static int oomSweep(virDomainPtr dom, bool destroy)
{
    int s, r, failures = 0;
    long count;

    virAllocTestHook(0);
    assert_int_equal(destroy ? virDomainDestroy(dom) : virDomainSuspend(dom), 0);
    count = virAllocTestHook(0);
    assert_true(count > 0);
    for (long n = 1; n <= count; n++) {
        if (destroy)
            qtStart(dom);
        else
            assert_int_equal(virDomainResume(dom), 0);
        virAllocTestHook(n);
        int rc = destroy ? virDomainDestroy(dom) : virDomainSuspend(dom);
        virAllocTestHook(0);
        int code = rc < 0 && virGetLastError() ? virGetLastError()->code : 0;
        assert_int_equal(virDomainGetState(dom, &s, &r, 0), 0);
        if (rc == 0) {
            assert_int_equal(s, destroy ? VIR_DOMAIN_SHUTOFF : VIR_DOMAIN_PAUSED);
            continue;
        }
        assert_int_equal(code, VIR_ERR_NO_MEMORY);
        assert_int_equal(s, VIR_DOMAIN_RUNNING);
        failures++;
        if (destroy)
            assert_int_equal(virDomainDestroy(dom), 0);
        else
            assert_int_equal(virDomainSuspend(dom), 0);
    }
    printf("%s: %ld allocations, %d runs failed cleanly\n", destroy ? "destroy" : "suspend",
           count, failures);
    return failures;
}

static void test_definitions(void **state)
{
    qemuT *t = *state;
    virDomainPtr dom, *list;
    char uuid[VIR_UUID_STRING_BUFLEN];
    int n;

    t->conn = qtOpen(t);
    dom = qtDefineFake(t, "persist", "normal", "<title>kept</title>");
    assert_int_equal(virDomainGetUUIDString(dom, uuid), 0);
    virDomainFree(dom);
    virConnectClose(t->conn);

    /* A new connection (a new application) finds it. */
    t->conn = qtOpen(t);
    n = virConnectListAllDomains(t->conn, &list, VIR_CONNECT_LIST_DOMAINS_INACTIVE |
                                 VIR_CONNECT_LIST_DOMAINS_PERSISTENT);
    assert_int_equal(n, 1);
    assert_string_equal(virDomainGetName(list[0]), "persist");
    virDomainFree(list[0]);
    free(list);
    assert_non_null(dom = virDomainLookupByUUIDString(t->conn, uuid));
    char *xml = virDomainGetXMLDesc(dom, 0);
    assert_non_null(xml);
    assert_non_null(strstr(xml, "<title>kept</title>"));
    assert_null(strstr(xml, " id="));
    free(xml);
    int st, reason;
    assert_int_equal(virDomainGetState(dom, &st, &reason, 0), 0);
    assert_int_equal(st, VIR_DOMAIN_SHUTOFF);

    /* The same name with another UUID is refused, nothing changed. */
    assert_null(virDomainDefineXML(t->conn, "<domain type='qemu'><name>persist</name>"
                                   "<uuid>11111111-2222-3333-4444-555555555555</uuid>"
                                   "<memory>65536</memory><os><type>hvm</type></os></domain>"));
    assert_int_equal(virGetLastError()->code, VIR_ERR_DOM_EXIST);

    /* Something we cannot give is refused by name, at define. */
    assert_null(virDomainDefineXML(t->conn, "<domain type='qemu'><name>g</name>"
                                   "<memory>65536</memory><os><type>hvm</type></os>"
                                   "<devices><graphics type='vnc'/></devices></domain>"));
    assert_int_equal(virGetLastError()->code, VIR_ERR_CONFIG_UNSUPPORTED);
    assert_non_null(strstr(virGetLastErrorMessage(), "<graphics>"));

    /* An IDE or SATA target must name a unit that bus has (QEMU's command
     * line takes it from the target's third letter). */
    static const char *const badTargets[] = { "x' bus='ide", "hde' bus='ide", "hd0' bus='ide",
                                              "sdg' bus='sata", "sdaa' bus='sata" };
    for (size_t i = 0; i < ARRAY_CARDINALITY(badTargets); i++) {
        char bad[512];
        snprintf(bad, sizeof(bad), "<domain type='qemu'><name>t</name><memory>65536</memory>"
                 "<os><type>hvm</type></os><devices><disk type='file'><source file='/a'/>"
                 "<target dev='%s'/></disk></devices></domain>", badTargets[i]);
        assert_null(virDomainDefineXML(t->conn, bad));
        assert_int_equal(virGetLastError()->code, VIR_ERR_CONFIG_UNSUPPORTED);
        if (!strstr(virGetLastErrorMessage(), "the last naming the unit"))
            fail_msg("%s: %s", badTargets[i], virGetLastErrorMessage());
    }

    /* type='kvm' only where KVM can run a guest. */
    const qemuConfig *cfg = qemuDriverConfig(t->conn);
    virDomainPtr k = virDomainDefineXML(t->conn, "<domain type='kvm'><name>k</name>"
                                        "<memory>65536</memory><os><type>hvm</type></os></domain>");
    if (cfg->kvm) {
        assert_non_null(k);
        assert_int_equal(virDomainUndefine(k), 0);
        virDomainFree(k);
    } else {
        assert_null(k);
        assert_int_equal(virGetLastError()->code, VIR_ERR_CONFIG_UNSUPPORTED);
        assert_non_null(strstr(virGetLastErrorMessage(), "domain type 'kvm' cannot run here"));
    }

    assert_int_equal(virDomainUndefine(dom), 0);
    virDomainFree(dom);
    virConnectClose(t->conn);
    t->conn = qtOpen(t);
    assert_null(virDomainLookupByName(t->conn, "persist"));
    assert_int_equal(virGetLastError()->code, VIR_ERR_NO_DOMAIN);
}

static void test_lifecycle(void **state)
{
    qemuT *t = *state;
    virDomainPtr dom, byId;
    virDomainInfo info;
    virShimStatus st;
    int s, r, id;

    t->conn = qtOpen(t);
    dom = qtDefineFake(t, "life", "normal", NULL);
    virJobPtr job = virDomainCreateJob(dom, 0);
    assert_non_null(job);
    /* One job per domain: a second start is refused at once. */
    assert_null(virDomainCreateJob(dom, 0));
    assert_true(virGetLastError()->code == VIR_ERR_JOB_ACTIVE ||
                virGetLastError()->code == VIR_ERR_OPERATION_INVALID);
    assert_int_equal(qtJobEnd(job), VIR_JOB_COMPLETE);
    /* virDomainGetJobStats: the start's record, read once (kept with
     * KEEP_COMPLETED); no job runs now. */
    {
        int op, ok;
        char msg[256];
        assert_int_equal(qtJobStats(dom, VIR_DOMAIN_JOB_STATS_COMPLETED |
                                    VIR_DOMAIN_JOB_STATS_KEEP_COMPLETED, &op, &ok, msg,
                                    sizeof(msg), NULL), VIR_DOMAIN_JOB_COMPLETED);
        assert_int_equal(op, VIR_DOMAIN_JOB_OPERATION_START);
        assert_int_equal(ok, 1);
        assert_string_equal(msg, "");
        assert_int_equal(qtJobStats(dom, VIR_DOMAIN_JOB_STATS_COMPLETED, &op, NULL, NULL, 0,
                                    NULL), VIR_DOMAIN_JOB_COMPLETED);
        assert_int_equal(qtJobStats(dom, VIR_DOMAIN_JOB_STATS_COMPLETED, &op, NULL, NULL, 0,
                                    NULL), VIR_DOMAIN_JOB_NONE);
        assert_int_equal(qtJobStats(dom, 0, &op, NULL, NULL, 0, NULL), VIR_DOMAIN_JOB_NONE);
    }
    virTypedParameterPtr params = NULL;
    int nparams = 0;
    const char *phase = NULL;
    assert_int_equal(virJobGetStats(job, &params, &nparams, 0), 0);
    assert_int_equal(virTypedParamsGetString(params, nparams, VIR_JOB_STATS_PHASE, &phase), 1);
    assert_string_equal(phase, "running");
    virTypedParamsFree(params, nparams);
    virDomainPtr res = virJobGetDomain(job);
    assert_non_null(res);
    virDomainFree(res);
    virJobDestroy(job);

    assert_int_equal(virDomainGetState(dom, &s, &r, 0), 0);
    assert_int_equal(s, VIR_DOMAIN_RUNNING);
    assert_int_equal(r, 1 /* booted */);
    assert_true((id = (int)virDomainGetID(dom)) > 0);
    assert_non_null(byId = virDomainLookupByID(t->conn, id));
    assert_string_equal(virDomainGetName(byId), "life");
    virDomainFree(byId);
    assert_int_equal(virDomainGetInfo(dom, &info), 0);
    assert_int_equal(info.state, VIR_DOMAIN_RUNNING);
    assert_int_equal(info.maxMem, 65536);
    assert_int_equal(info.nrVirtCpu, 1);
    char *xml = virDomainGetXMLDesc(dom, 0);
    char want[32];
    snprintf(want, sizeof(want), " id='%d'>", id);
    assert_non_null(strstr(xml, want));
    free(xml);
    assert_int_equal(qtShimStatus(t, "life", &st), 0);
    assert_true(virShimChildAlive(&st));
    /* A wait for a state that does not come ends at its timeout, not
     * before (its deadline and its condition on the same clock). */
    {
        long long t0 = testNowMs();
        assert_int_equal(qemuDomainWaitState(dom, VIR_DOMAIN_PMSUSPENDED, 300, &r), -1);
        long long waited = testNowMs() - t0;
        assert_int_equal(virGetLastError()->code, VIR_ERR_OPERATION_TIMEOUT);
        if (waited < 300)
            fail_msg("a wait with a 300 ms timeout ended after %lld ms", waited);
        printf("a wait for a state that does not come: %s (after %lld ms)\n",
               virGetLastErrorMessage(), waited);
    }

    assert_int_equal(virDomainSuspend(dom), 0);
    assert_int_equal(virDomainGetState(dom, &s, &r, 0), 0);
    assert_int_equal(s, VIR_DOMAIN_PAUSED);
    assert_int_equal(r, 1 /* user */);
    assert_int_equal(virDomainResume(dom), 0);
    assert_int_equal(virDomainGetState(dom, &s, &r, 0), 0);
    assert_int_equal(s, VIR_DOMAIN_RUNNING);
    assert_int_equal(r, 5 /* unpaused */);
    /* A suspend (its QMP round trip's buffer) and a destroy (its stop's)
     * under allocation failure. */
    assert_true(oomSweep(dom, false) > 0);
    assert_int_equal(virDomainResume(dom), 0);
    assert_true(oomSweep(dom, true) > 0);
    qtStart(dom);
    assert_int_equal(qtShimStatus(t, "life", &st), 0);

    /* ACPI shutdown: the (fake) guest powers off. */
    assert_int_equal(virDomainShutdown(dom), 0);
    qtWaitState(dom, VIR_DOMAIN_SHUTOFF, 1 /* shutdown */);
    assert_true(TEST_WAIT_UNTIL(!virProcessAlive(st.shim_pid, st.shim_start), TEST_TIMEOUT_MS));
    assert_false(virProcessAlive(st.child_pid, st.child_start));
    assert_int_equal(virDomainGetID(dom), (unsigned int)-1);

    /* Again, then destroyed. */
    qtStart(dom);
    assert_int_equal(qtShimStatus(t, "life", &st), 0);
    assert_int_equal(virDomainDestroy(dom), 0);
    assert_int_equal(virDomainGetState(dom, &s, &r, 0), 0);
    assert_int_equal(s, VIR_DOMAIN_SHUTOFF);
    assert_int_equal(r, 2 /* destroyed */);
    assert_false(virProcessAlive(st.child_pid, st.child_start));
    assert_int_equal(virDomainDestroy(dom), -1);
    assert_int_equal(virGetLastError()->code, VIR_ERR_OPERATION_INVALID);
    assert_int_equal(virDomainSuspend(dom), -1);
    virDomainFree(dom);
}

static void test_start_failure_message(void **state)
{
    qemuT *t = *state;
    char xml[2048];

    t->conn = qtOpen(t);
    snprintf(xml, sizeof(xml), "<domain type='qemu'><name>bad</name><memory>65536</memory>"
             "<os><type>hvm</type><kernel>/k</kernel>"
             "<cmdline>fake=exit msg=-kernel_/k:_No_such_file_or_directory</cmdline></os></domain>");
    virJobPtr job = virDomainCreateLinuxJob(t->conn, xml, 0);
    assert_non_null(job);
    assert_int_equal(qtJobEnd(job), VIR_JOB_FAILED);
    if (!strstr(qtJobError(job), "fake-qemu: -kernel /k: No such file or directory"))
        fail_msg("the job's error is '%s'", qtJobError(job));
    virJobDestroy(job);
    /* A transient guest that never ran is gone, and so is its run dir. */
    virDomainPtr dom = virDomainLookupByName(t->conn, "bad");
    if (dom) {
        qtWaitState(dom, VIR_DOMAIN_SHUTOFF, -1);
        virDomainFree(dom);
    }
    char dir[512];
    snprintf(dir, sizeof(dir), "%s/run/bad", t->root);
    assert_true(TEST_WAIT_UNTIL(access(dir, F_OK) < 0, TEST_TIMEOUT_MS));
}

/* A start that fails (QEMU exits during start-up) has the guest's end
 * recorded before its job is seen to end, not when the connection's
 * watcher gets to the shim's events: held here, it gets to nothing. */
static void test_failed_start_recorded(void **state)
{
    qemuT *t = *state;
    int s, r;

    t->conn = qtOpen(t);
    virDomainPtr dom = qtDefineFake(t, "nostart", "exit", NULL);
    qemuTestHoldWatchers(true);
    virJobPtr job = virDomainCreateJob(dom, 0);
    assert_non_null(job);
    int end = qtJobEnd(job);
    /* Read before the watchers are let go. */
    int active = virDomainIsActive(dom);
    int rs = virDomainGetState(dom, &s, &r, 0);
    qemuTestHoldWatchers(false);
    assert_int_equal(end, VIR_JOB_FAILED);
    virJobDestroy(job);
    assert_int_equal(active, 0);
    assert_int_equal(rs, 0);
    assert_int_equal(s, VIR_DOMAIN_SHUTOFF);
    assert_int_equal(r, VIR_DOMAIN_SHUTOFF_FAILED);
    /* And it starts again at once, as a guest that never ran would. */
    virJobPtr again = virDomainCreateJob(dom, 0);
    assert_non_null(again);
    assert_int_equal(qtJobEnd(again), VIR_JOB_FAILED);
    virJobDestroy(again);
    virDomainFree(dom);
}

static void test_killed_outside(void **state)
{
    qemuT *t = *state;
    virShimStatus st;
    qtEvents ev = { 0 };
    int timer;

    t->conn = qtOpen(t);
    /* Seen as libvirt's applications see it: lifecycle events in their loop. */
    assert_true(virConnectDomainEventRegister(t->conn, qtLifecycleCb, &ev, NULL) == 0);
    assert_true((timer = virEventAddTimeout(50, qtTick, NULL, NULL)) >= 0);
    virDomainPtr dom = qtDefineFake(t, "victim", "normal", NULL);
    qtWaitEvent(&ev, VIR_DOMAIN_EVENT_DEFINED, VIR_DOMAIN_EVENT_DEFINED_ADDED);
    qtStart(dom);
    qtWaitEvent(&ev, VIR_DOMAIN_EVENT_STARTED, VIR_DOMAIN_EVENT_STARTED_BOOTED);
    assert_int_equal(qtShimStatus(t, "victim", &st), 0);
    assert_int_equal(kill(st.child_pid, SIGKILL), 0);
    qtWaitEvent(&ev, VIR_DOMAIN_EVENT_STOPPED, VIR_DOMAIN_EVENT_STOPPED_CRASHED);
    qtWaitState(dom, VIR_DOMAIN_SHUTOFF, 3 /* crashed */);
    virEventRemoveTimeout(timer);
    assert_int_equal(virConnectDomainEventDeregister(t->conn, qtLifecycleCb), 0);
    virDomainFree(dom);
}

static int rebootCb(virConnectPtr conn, virDomainPtr dom, void *opaque)
{
    (void)conn;
    (void)dom;
    (*(int *)opaque)++;
    return 0;
}

/* A suspend or resume that returned is not undone by what the shim told
 * the connection's watcher before: QEMU's STOP event reaches the watcher
 * with the run state still "running" (the shim's own query-status records
 * "paused" after the command's answer). Held here, the watcher handles
 * those messages only after both commands returned; a reset sent to QEMU
 * afterwards marks the end of what it had to handle (its REBOOT event is
 * queued behind any lifecycle event those messages caused). */
static void test_commands_not_undone(void **state)
{
    qemuT *t = *state;
    qtEvents ev = { 0 };
    virShimStatus st;
    int timer, rbId, reboots = 0, s, r;
    char dir[1024];

    t->conn = qtOpen(t);
    assert_true(virConnectDomainEventRegister(t->conn, qtLifecycleCb, &ev, NULL) == 0);
    assert_true((timer = virEventAddTimeout(50, qtTick, NULL, NULL)) >= 0);
    assert_true((rbId = virConnectDomainEventRegisterAny(t->conn, NULL,
                                                         VIR_DOMAIN_EVENT_ID_REBOOT,
                                                         VIR_DOMAIN_EVENT_CALLBACK(rebootCb),
                                                         &reboots, NULL)) >= 0);
    virDomainPtr dom = qtDefineFake(t, "held", "normal", NULL);
    qtStart(dom);
    qtWaitEvent(&ev, VIR_DOMAIN_EVENT_STARTED, VIR_DOMAIN_EVENT_STARTED_BOOTED);
    int before = ev.n;

    qemuTestHoldWatchers(true);
    assert_int_equal(virDomainSuspend(dom), 0);
    /* The shim's query-status has recorded the pause (and told the held
     * watcher). */
    assert_true(TEST_WAIT_UNTIL(qtShimStatus(t, "held", &st) == 0 &&
                                STREQ(st.runstate, "paused"), TEST_TIMEOUT_MS));
    assert_int_equal(virDomainGetState(dom, &s, &r, 0), 0);
    assert_int_equal(s, VIR_DOMAIN_PAUSED);
    assert_int_equal(virDomainResume(dom), 0);
    qemuTestHoldWatchers(false);

    snprintf(dir, sizeof(dir), "%s/run/held", t->root);
    int c = virShimConnect(dir);
    assert_true(c >= 0);
    virShimIncoming *in = malloc(sizeof(*in));
    assert_non_null(in);
    assert_int_equal(virShimQMP(c, "system_reset", NULL, NULL, 0, 5000, NULL, NULL, in), 0);
    free(in);
    close(c);
    long long end = testNowMs() + TEST_TIMEOUT_MS;
    while (reboots == 0 && testNowMs() < end)
        assert_int_equal(virEventRunDefaultImpl(), 0);
    assert_int_equal(reboots, 1);

    /* Exactly what the two commands did: paused by the user, unpaused. */
    char seen[32 * 12] = "";
    for (int i = before; i < ev.n; i++)
        snprintf(seen + strlen(seen), sizeof(seen) - strlen(seen), " %d/%d", ev.event[i],
                 ev.detail[i]);
    if (ev.n - before != 2 || ev.event[before] != VIR_DOMAIN_EVENT_SUSPENDED ||
        ev.detail[before] != VIR_DOMAIN_EVENT_SUSPENDED_PAUSED ||
        ev.event[before + 1] != VIR_DOMAIN_EVENT_RESUMED ||
        ev.detail[before + 1] != VIR_DOMAIN_EVENT_RESUMED_UNPAUSED)
        fail_msg("lifecycle events after the start:%s", seen);
    assert_int_equal(virDomainGetState(dom, &s, &r, 0), 0);
    assert_int_equal(s, VIR_DOMAIN_RUNNING);

    virEventRemoveTimeout(timer);
    assert_int_equal(virConnectDomainEventDeregisterAny(t->conn, rbId), 0);
    assert_int_equal(virConnectDomainEventDeregister(t->conn, qtLifecycleCb), 0);
    virDomainFree(dom);
}

/* The status in @dir is valid and says @want; @cur and @spare: the
 * stat of it and of its spare, which are two files. */
static void statusIs(const char *dir, int want, struct stat *cur, struct stat *spare)
{
    char path[700];
    qemuStatusHeader hdr;
    qemuDomainDef *def = qemuStatusRead(dir, &hdr);

    if (!def)
        fail_msg("the status in %s is not readable: %s", dir, virGetLastErrorMessage());
    free(def);
    assert_int_equal(hdr.state, want);
    snprintf(path, sizeof(path), "%s/domain.status", dir);
    assert_int_equal(stat(path, cur), 0);
    snprintf(path, sizeof(path), "%s/.domain.status.tmp", dir);
    assert_int_equal(stat(path, spare), 0);
    assert_true(cur->st_ino != spare->st_ino);
}

/* The driver's record of a running guest (domain.status) follows its
 * state, and is replaced by trading places with its spare: the two files
 * take turns, so no write frees a block (qemu_conf.c, qemuStatusWrite). */
static void test_status_record(void **state)
{
    qemuT *t = *state;
    char dir[600];
    struct stat a, b, a2, b2;

    t->conn = qtOpen(t);
    virDomainPtr dom = qtDefineFake(t, "rec", "normal", NULL);
    qtStart(dom);
    snprintf(dir, sizeof(dir), "%s/run/rec", t->root);
    assert_int_equal(virDomainSuspend(dom), 0);
    statusIs(dir, VIR_DOMAIN_PAUSED, &a, &b);
    assert_int_equal(virDomainResume(dom), 0);
    statusIs(dir, VIR_DOMAIN_RUNNING, &a2, &b2);
    assert_true(a2.st_ino == b.st_ino && b2.st_ino == a.st_ino);
    assert_int_equal(virDomainSuspend(dom), 0);
    statusIs(dir, VIR_DOMAIN_PAUSED, &a2, &b2);
    assert_true(a2.st_ino == a.st_ino && b2.st_ino == b.st_ino);
    /* A new application finds the guest from that record. */
    virConnectClose(t->conn);
    t->conn = qtOpen(t);
    virDomainFree(dom);
    assert_non_null(dom = virDomainLookupByName(t->conn, "rec"));
    int s, r;
    assert_int_equal(virDomainGetState(dom, &s, &r, 0), 0);
    assert_int_equal(s, VIR_DOMAIN_PAUSED);
    assert_int_equal(virDomainDestroy(dom), 0);
    assert_true(TEST_WAIT_UNTIL(access(dir, F_OK) < 0, TEST_TIMEOUT_MS));
    virDomainFree(dom);
}

/* A call made on a thread of its own: a define of @xml on @conn, a
 * virDomainDestroy of @dom (@destroy; its result in @state), or else
 * virDomainGetState of @dom. @err: the thread's last error message. */
typedef struct {
    virConnectPtr conn;
    const char *xml;
    bool destroy;
    virDomainPtr dom;
    int state;
    char err[512];
    atomic_int tid;
    atomic_bool done;
} bgCall;

static void *bgCallMain(void *arg)
{
    bgCall *c = arg;
    int r;

    atomic_store(&c->tid, (int)gettid());
    if (c->xml)
        c->dom = virDomainDefineXML(c->conn, c->xml);
    else if (c->destroy)
        c->state = virDomainDestroy(c->dom);
    else if (virDomainGetState(c->dom, &c->state, &r, 0) < 0)
        c->state = -1;
    snprintf(c->err, sizeof(c->err), "%s", virGetLastErrorMessage());
    atomic_store(&c->done, true);
    return NULL;
}

/* A destroy whose request reaches a shim that is on its way out: QEMU has
 * exited, and the shim, held stopped (SIGSTOP) until the request is in its
 * socket, accepts the connection, then records the end and exits without
 * reading it (its loop looks at the listening socket, then at its
 * signals). The destroy takes the shim's record of the end and returns 0
 * (before: "cannot stop domain ...: the shim closed the connection"). */
static void test_stop_shim_leaving(void **state)
{
    qemuT *t = *state;
    virShimStatus st;
    pthread_t dt;
    int s, r;

    t->conn = qtOpen(t);
    virDomainPtr dom = qtDefineFake(t, "leaving", "normal", NULL);
    qtStart(dom);
    assert_int_equal(qtShimStatus(t, "leaving", &st), 0);
    qemuTestHoldWatchers(true);
    assert_int_equal(kill(st.shim_pid, SIGSTOP), 0);
    assert_true(TEST_WAIT_UNTIL(testProcessState(st.shim_pid) == 'T', TEST_TIMEOUT_MS));
    assert_int_equal(kill(st.child_pid, SIGKILL), 0);
    assert_true(TEST_WAIT_UNTIL(testProcessState(st.child_pid) == 'Z', TEST_TIMEOUT_MS));
    bgCall dc = { .dom = dom, .destroy = true };
    assert_int_equal(pthread_create(&dt, NULL, bgCallMain, &dc), 0);
    /* Its request sent, the destroy waits for the answer (a destroy that
     * returned at once ends the wait too, and fails below). */
    (void)TEST_WAIT_UNTIL(atomic_load(&dc.done) ||
                          (atomic_load(&dc.tid) > 0 &&
                           (testThreadSyscall(atomic_load(&dc.tid)) == SYS_poll ||
                            testThreadSyscall(atomic_load(&dc.tid)) == SYS_ppoll ||
                            testThreadSyscall(atomic_load(&dc.tid)) == SYS_restart_syscall)),
                          TEST_TIMEOUT_MS);
    bool waiting = !atomic_load(&dc.done);
    assert_int_equal(kill(st.shim_pid, SIGCONT), 0);
    pthread_join(dt, NULL);
    int rs = virDomainGetState(dom, &s, &r, 0);
    qemuTestHoldWatchers(false);
    assert_true(waiting);
    if (dc.state != 0)
        fail_msg("the destroy failed: %s", dc.err);
    assert_int_equal(rs, 0);
    assert_int_equal(s, VIR_DOMAIN_SHUTOFF);
    assert_true(TEST_WAIT_UNTIL(!virProcessAlive(st.shim_pid, st.shim_start), TEST_TIMEOUT_MS));
    virDomainFree(dom);
}

/* A define writes its files without the driver's lock: one stuck on the
 * disk (here: its temporary file is a FIFO that nobody reads yet, so the
 * open for writing blocks) does not hold up the calls on other domains. */
static void test_define_waits_alone(void **state)
{
    qemuT *t = *state;
    char fifo[600], xml[2048];
    pthread_t dt, st;

    t->conn = qtOpen(t);
    virDomainPtr other = qtDefineFake(t, "other", "normal", NULL);
    qtStart(other);
    snprintf(fifo, sizeof(fifo), "%s/domains/.slow.def.tmp", t->root);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    bgCall dc = { .conn = t->conn, .xml = qtFakeXML(xml, sizeof(xml), "slow", "normal", NULL) };
    assert_int_equal(pthread_create(&dt, NULL, bgCallMain, &dc), 0);
    /* Its XML parsed (in a worker), the define blocks in the FIFO's open
     * (a define that returned at once ends the wait too, and fails below). */
    (void)TEST_WAIT_UNTIL(atomic_load(&dc.done) ||
                          (atomic_load(&dc.tid) > 0 &&
                           testThreadSyscall(atomic_load(&dc.tid)) == SYS_openat),
                          TEST_TIMEOUT_MS);
    bool blocked = !atomic_load(&dc.done);
    bool answered = false;
    bgCall sc = { .dom = other };
    if (blocked) {
        assert_int_equal(pthread_create(&st, NULL, bgCallMain, &sc), 0);
        answered = TEST_WAIT_UNTIL(atomic_load(&sc.done), TEST_TIMEOUT_MS);
    }
    /* A reader lets the define go on, before any check can fail and leave
     * a thread blocked: it fails (a FIFO cannot be flushed) and removes
     * its temporary file. */
    int rfd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    assert_true(rfd >= 0);
    pthread_join(dt, NULL);
    if (blocked)
        pthread_join(st, NULL);
    close(rfd);
    if (!blocked)
        fail_msg("the define did not wait in its temporary file's open: %s", dc.err);
    if (!answered)
        fail_msg("virDomainGetState of another domain waited for a define's disk write");
    assert_int_equal(sc.state, VIR_DOMAIN_RUNNING);
    assert_null(dc.dom);
    assert_int_equal(access(fifo, F_OK), -1);
    assert_null(virDomainLookupByName(t->conn, "slow"));
    virDomainFree(qtDefineFake(t, "slow", "normal", NULL));
    assert_int_equal(virDomainDestroy(other), 0);
    virDomainFree(other);
}

static void test_monitor_hang(void **state)
{
    qemuT *t = *state;

    t->conn = qtOpen(t);
    virDomainPtr dom = qtDefineFake(t, "hang", "hang", NULL);
    qtStart(dom);
    long long t0 = testNowMs();
    assert_int_equal(virDomainSuspend(dom), -1);
    assert_int_equal(virGetLastError()->code, VIR_ERR_OPERATION_TIMEOUT);
    assert_true(testNowMs() - t0 < TEST_TIMEOUT_MS);
    /* What needs no monitor still works. */
    virDomainInfo info;
    assert_int_equal(virDomainGetInfo(dom, &info), 0);
    assert_int_equal(info.state, VIR_DOMAIN_RUNNING);
    assert_int_equal(virDomainDestroy(dom), 0);
    int s, r;
    assert_int_equal(virDomainGetState(dom, &s, &r, 0), 0);
    assert_int_equal(s, VIR_DOMAIN_SHUTOFF);
    assert_int_equal(r, 2);
    virDomainFree(dom);
}

static void test_internal_error(void **state)
{
    qemuT *t = *state;
    int s, r;

    t->conn = qtOpen(t);
    /* on_crash destroy (the default): stopped, shut off as crashed. */
    virDomainPtr dom = qtDefineFake(t, "ie", "crash-after", NULL);
    qtStart(dom);
    qtWaitState(dom, VIR_DOMAIN_SHUTOFF, 3 /* crashed */);
    virDomainFree(dom);
    /* on_crash preserve: kept in the crashed state (for a dump). */
    dom = qtDefineFake(t, "iep", "crash-after", "<on_crash>preserve</on_crash>");
    qtStart(dom);
    qtWaitState(dom, VIR_DOMAIN_CRASHED, -1);
    assert_int_equal(virDomainGetState(dom, &s, &r, 0), 0);
    assert_int_equal(s, VIR_DOMAIN_CRASHED);
    assert_int_equal(virDomainDestroy(dom), 0);
    assert_int_equal(virDomainGetState(dom, &s, &r, 0), 0);
    assert_int_equal(s, VIR_DOMAIN_SHUTOFF);
    virDomainFree(dom);
}

/* A save of stand-in guest @name (fake-qemu @mode, started) that must
 * fail: its ended job (the caller destroys it), the guest in *@domp. No
 * image is left. */
static virJobPtr saveFails(qemuT *t, const char *name, const char *mode, virDomainPtr *domp)
{
    char img[600];

    t->conn = qtOpen(t);
    virDomainPtr dom = qtDefineFake(t, name, mode, NULL);
    qtStart(dom);
    snprintf(img, sizeof(img), "%s/%s.img", t->root, name);
    virJobPtr job = virDomainSaveJob(dom, img);
    assert_non_null(job);
    assert_int_equal(qtJobEnd(job), VIR_JOB_FAILED);
    printf("save of '%s' (%s) failed: %s\n", name, mode, qtJobError(job));
    assert_int_equal(access(img, F_OK), -1);
    *domp = dom;
    return job;
}

/* A save that fails in its last stage: QEMU says "failed" before it hands
 * the guest back, and refuses 'cont' for a while (fake-qemu migrate-late).
 * The guest must run again once QEMU lets it, not stay paused. */
static void test_save_fails_late(void **state)
{
    virDomainPtr dom;

    virJobDestroy(saveFails(*state, "late", "migrate-late", &dom));
    qtWaitState(dom, VIR_DOMAIN_RUNNING, -1);
    assert_int_equal(virDomainDestroy(dom), 0);
    virDomainFree(dom);
}

/* A failed save whose guest nothing can resume (fake-qemu nocont: once
 * stopped, QEMU refuses 'cont'): the job's error says the guest may be
 * left paused and why, and the guest is reported paused, as it is. */
static void test_save_fails_paused(void **state)
{
    virDomainPtr dom;
    int s, r;

    virJobPtr job = saveFails(*state, "nocont", "nocont", &dom);
    const char *err = qtJobError(job);
    /* The save's own failure (the stand-in knows no 'migrate'), then the note. */
    assert_non_null(strstr(err, "migrate"));
    assert_non_null(strstr(err, "; the guest, running when the save began, may be left "
                                "paused: QEMU refused 'cont': GenericError: cannot resume "
                                "(fake)"));
    assert_null(strstr(err, "did not say whether the guest ran"));
    virJobDestroy(job);
    qtWaitState(dom, VIR_DOMAIN_PAUSED, -1);
    assert_int_equal(virDomainGetState(dom, &s, &r, 0), 0);
    assert_int_equal(s, VIR_DOMAIN_PAUSED);
    assert_int_equal(virDomainDestroy(dom), 0);
    virDomainFree(dom);
}

/* A failed save of a guest QEMU will not say the run state of (fake-qemu
 * nostatus: after the start, 'query-status' is refused): the save goes by
 * the connection's view (running), and its error says so, and that the
 * guest may be left paused (the resume could not learn that it runs). */
static void test_save_fails_unknown(void **state)
{
    virDomainPtr dom;

    virJobPtr job = saveFails(*state, "nostatus", "nostatus", &dom);
    const char *err = qtJobError(job);
    static const char cause[] = "QEMU refused 'query-status': GenericError: cannot tell (fake)";
    assert_true(strncmp(err, cause, strlen(cause)) == 0);
    assert_non_null(strstr(err, "; the guest, taken as running when the save began, may "
                                "be left paused: QEMU refused 'query-status'"));
    assert_non_null(strstr(err, "; QEMU did not say whether the guest ran as the save began "
                                "(QEMU refused 'query-status': GenericError: cannot tell "
                                "(fake)), so it was taken as running"));
    virJobDestroy(job);
    assert_int_equal(virDomainDestroy(dom), 0);
    virDomainFree(dom);
}

/* A watcher that does not read for a while (held, as a busy application
 * holds it) while the guest makes many events: the shim drops its
 * subscription (its sends never block). The watcher subscribes again once
 * it reads, and its view follows the guest after that. Before, the view
 * froze at its last event for good (and the dead subscription woke the
 * watcher again and again). */
static void test_watcher_resubscribes(void **state)
{
    qemuT *t = *state;
    char line[256];
    int s, r, cycles = 0;

    t->conn = qtOpen(t);
    virDomainPtr dom = qtDefineFake(t, "busy", "normal", NULL);
    qtStart(dom);
    qemuTestHoldWatchers(true);
    /* Events the held watcher does not read: a STOP and a RESUME, with
     * their run-state changes, a cycle. Enough to fill its socket many
     * times over (a few hundred fill it). */
    bool ok = true;
    for (; cycles < 3000 && ok; cycles++)
        ok = virDomainSuspend(dom) == 0 && virDomainResume(dom) == 0;
    qemuTestHoldWatchers(false);
    if (!ok)
        fail_msg("cycle %d: %s", cycles, virGetLastErrorMessage());
    assert_true(TEST_WAIT_UNTIL(qemuTestResubscribed(dom) > 0, TEST_TIMEOUT_MS));
    printf("after %d suspend/resume cycles unread, subscribed again %u time(s)\n", cycles,
           qemuTestResubscribed(dom));
    /* A change only the subscription tells of: QEMU paused by another
     * client of the shim. */
    qtQMPLine(t, "busy", "stop", line, sizeof(line));
    assert_true(TEST_WAIT_UNTIL(virDomainGetState(dom, &s, &r, 0) == 0 &&
                                s == VIR_DOMAIN_PAUSED, TEST_TIMEOUT_MS));
    qtQMPLine(t, "busy", "cont", line, sizeof(line));
    assert_true(TEST_WAIT_UNTIL(virDomainGetState(dom, &s, &r, 0) == 0 &&
                                s == VIR_DOMAIN_RUNNING, TEST_TIMEOUT_MS));
    assert_int_equal(virDomainDestroy(dom), 0);
    virDomainFree(dom);
}

/* A save of stand-in guest @name (fake-qemu migrate-stuck, started, and
 * paused first if @paused) whose stream's first bytes are in: QEMU's
 * migration runs, and stays "active" until cancelled. Its job; the guest
 * in *@domp, its shim's status in *@st, the image's path in @img. */
static virJobPtr saveStuck(qemuT *t, const char *name, bool paused, virDomainPtr *domp,
                           virShimStatus *st, char *img, size_t imglen)
{
    t->conn = qtOpen(t);
    virDomainPtr dom = qtDefineFake(t, name, "migrate-stuck", NULL);
    qtStart(dom);
    if (paused)
        assert_int_equal(virDomainSuspend(dom), 0);
    assert_int_equal(qtShimStatus(t, name, st), 0);
    snprintf(img, imglen, "%s/%s.img", t->root, name);
    virJobPtr job = virDomainSaveJob(dom, img);
    assert_non_null(job);
    assert_true(TEST_WAIT_UNTIL(qtJobProcessed(job) > 0 || qtJobEnd0(job), TEST_TIMEOUT_MS));
    *domp = dom;
    return job;
}

/* A save of a paused guest whose worker is killed while QEMU migrates
 * (the stand-in keeps its migration "active" until cancelled, then
 * "cancelling" until SIGUSR1): the job ends only once QEMU's migration has
 * ended, as for a running guest, so that a save right after it is not
 * refused ("There's a migration process in progress", seen in a loop of
 * such saves). Before, its done step left a paused guest's migration as
 * it was. */
static void test_save_killed_paused_settles(void **state)
{
    qemuT *t = *state;
    virShimStatus st;
    virJobInfo info;
    virDomainPtr dom;
    char img[600], line[256];

    virJobPtr job = saveStuck(t, "kp", true, &dom, &st, img, sizeof(img));
    int pid = qtWorkerPid(job);
    assert_true(pid > 0);
    assert_int_equal(kill(pid, SIGKILL), 0);
    /* The done step cancels QEMU's migration, and waits for its end (a
     * job that ended first ends the wait too, and fails below). */
    assert_true(TEST_WAIT_UNTIL(qtJobEnd0(job) ||
                                (qtQMPLine(t, "kp", "query-migrate", line, sizeof(line)),
                                 strstr(line, "status=cancelling") != NULL), TEST_TIMEOUT_MS));
    assert_int_equal(virJobGetInfo(job, &info), 0);
    assert_int_equal(info.state, VIR_JOB_RUNNING);
    assert_int_equal(kill(st.child_pid, SIGUSR1), 0);
    assert_int_equal(qtJobEnd(job), VIR_JOB_FAILED);
    printf("paused guest's save, worker killed: %s\n", qtJobError(job));
    qtQMPLine(t, "kp", "query-migrate", line, sizeof(line));
    assert_non_null(strstr(line, "status=cancelled"));
    assert_null(strstr(qtJobError(job), "may"));   /* no note: all was put right */
    virJobDestroy(job);
    assert_int_equal(access(img, F_OK), -1);
    int s, r;
    assert_int_equal(virDomainGetState(dom, &s, &r, 0), 0);
    assert_int_equal(s, VIR_DOMAIN_PAUSED);
    assert_int_equal(virDomainDestroy(dom), 0);
    virDomainFree(dom);
}

/* A cancelled save gives the guest back before QEMU's migration has wound
 * down: the stand-in keeps it "cancelling" until SIGUSR1, with a monitor
 * timeout longer than any wait here. The guest runs again while the job
 * still waits for the migration's end; the job ends cancelled only after
 * it, with no image left. (Before, the guest stayed paused until the
 * migration's end.) */
static void test_save_cancel_resumes_first(void **state)
{
    virShimStatus st;
    virJobInfo info;
    virDomainPtr dom;
    char img[600];

    virJobPtr job = saveStuck(*state, "stuck", false, &dom, &st, img, sizeof(img));
    assert_int_equal(virJobGetInfo(job, &info), 0);
    assert_int_equal(info.state, VIR_JOB_RUNNING);
    /* The save paused the guest (a job that ended first, resuming it, ends
     * the wait too, and fails below). */
    int s, r;
    (void)TEST_WAIT_UNTIL(qtJobEnd0(job) || (virDomainGetState(dom, &s, &r, 0) == 0 &&
                                             s == VIR_DOMAIN_PAUSED), TEST_TIMEOUT_MS);
    assert_int_equal(virDomainGetState(dom, &s, &r, 0), 0);
    assert_int_equal(s, VIR_DOMAIN_PAUSED);
    assert_int_equal(virJobCancel(job), 0);
    /* The guest runs again (a job that ended first ends the wait too, and
     * fails below). */
    (void)TEST_WAIT_UNTIL(qtJobEnd0(job) || (virDomainGetState(dom, &s, &r, 0) == 0 &&
                                             s == VIR_DOMAIN_RUNNING), TEST_TIMEOUT_MS);
    assert_int_equal(virDomainGetState(dom, &s, &r, 0), 0);
    assert_int_equal(s, VIR_DOMAIN_RUNNING);
    assert_int_equal(virJobGetInfo(job, &info), 0);
    assert_int_equal(info.state, VIR_JOB_RUNNING);
    /* The migration ends: so does the job. */
    assert_int_equal(kill(st.child_pid, SIGUSR1), 0);
    assert_int_equal(qtJobEnd(job), VIR_JOB_CANCELLED);
    virJobDestroy(job);
    assert_int_equal(access(img, F_OK), -1);
    assert_int_equal(virDomainGetState(dom, &s, &r, 0), 0);
    assert_int_equal(s, VIR_DOMAIN_RUNNING);
    assert_int_equal(virDomainDestroy(dom), 0);
    virDomainFree(dom);
}

/* A second connection (closed by the caller) and its handle of @name. */
static virDomainPtr otherConnection(qemuT *t, const char *name, virConnectPtr *c)
{
    *c = qtOpen(t);
    virDomainPtr d = virDomainLookupByName(*c, name);
    assert_non_null(d);
    return d;
}

/* The last error of this thread says @what. */
static void errorSays(const char *what)
{
    const char *msg = virGetLastErrorMessage();
    if (!strstr(msg, what))
        fail_msg("the error '%s' does not say '%s'", msg, what);
}

/* A save held by the stand-in ("migrate-stuck") whose cancel was asked
 * for (by virJobCancel or an abort): QEMU's migration reaches
 * "cancelling", is let go, and the job ends cancelled. */
static void saveStuckSettle(qemuT *t, const char *name, virJobPtr job, pid_t qemuPid)
{
    char line[256];

    assert_true(TEST_WAIT_UNTIL(qtJobEnd0(job) ||
                                (qtQMPLine(t, name, "query-migrate", line, sizeof(line)),
                                 strstr(line, "status=cancelling") != NULL), TEST_TIMEOUT_MS));
    assert_int_equal(kill(qemuPid, SIGUSR1), 0);
    assert_int_equal(qtJobEnd(job), VIR_JOB_CANCELLED);
}

/* Cancel such a save and let QEMU's migration end. */
static void saveStuckCancel(qemuT *t, const char *name, virJobPtr job, pid_t qemuPid)
{
    assert_int_equal(virJobCancel(job), 0);
    saveStuckSettle(t, name, job, qemuPid);
}

/* A save keeps every other connection's hands off its guest until its
 * done step has put the guest back. Each connection has its own view and
 * job slot, so before, another connection's save, dump or resume went to
 * QEMU during it: in a loop of two connections, the second one's save,
 * refused by QEMU ("There's a migration process in progress"), cancelled
 * the first one's migration on its way out. Now each is refused at its
 * call, naming the job. An abort from another connection (another
 * process's virtsup, or a second connection here) is asked of the job's
 * own connection, which cancels it: before, it was refused. */
static void test_job_mark(void **state)
{
    qemuT *t = *state;
    virShimStatus st;
    virJobInfo info;
    virDomainPtr dom;
    char img[600], img2[600], core[600], line[256], own[64];

    virJobPtr job = saveStuck(t, "jm", false, &dom, &st, img, sizeof(img));
    virConnectPtr c2;
    virDomainPtr d2 = otherConnection(t, "jm", &c2);
    snprintf(img2, sizeof(img2), "%s/jm2.img", t->root);
    snprintf(core, sizeof(core), "%s/jm.core", t->root);

    assert_null(virDomainSaveJob(d2, img2));
    errorSays("domain 'jm' already has a job running: qemu.domain.save of this process");
    printf("a second connection's save: %s\n", virGetLastErrorMessage());
    assert_null(virDomainDumpCoreJob(d2, core, VIR_DUMP_MEMORY_ONLY));
    errorSays("already has a job running: qemu.domain.save of this process");
    assert_int_equal(virDomainResume(d2), -1);
    errorSays("domain 'jm' cannot be resumed while a job runs on it (qemu.domain.save of "
              "this process)");
    printf("its resume: %s\n", virGetLastErrorMessage());
    assert_int_equal(virDomainSuspend(d2), -1);
    errorSays("cannot be suspended while a job runs on it");
    assert_int_equal(virDomainShutdown(d2), -1);
    errorSays("cannot be shut down while a job runs on it");
    /* Its job statistics show the save, read from the job's status
     * segment (virsh domjobinfo from another process). */
    int type = -1, n = 0, op = -1;
    unsigned long long v = 0, total = 0;
    virTypedParameterPtr params = NULL;
    assert_int_equal(virDomainGetJobStats(d2, &type, &params, &n, 0), 0);
    assert_int_equal(type, VIR_DOMAIN_JOB_BOUNDED);
    assert_int_equal(virTypedParamsGetInt(params, n, VIR_DOMAIN_JOB_OPERATION, &op), 1);
    assert_int_equal(op, VIR_DOMAIN_JOB_OPERATION_SAVE);
    assert_int_equal(virTypedParamsGetULLong(params, n, VIR_DOMAIN_JOB_DATA_PROCESSED, &v), 1);
    assert_int_equal(virTypedParamsGetULLong(params, n, VIR_DOMAIN_JOB_DATA_TOTAL, &total), 1);
    printf("the other connection's job statistics: processed %llu of %llu\n", v, total);
    assert_true(v > 0 && v <= total);
    virTypedParamsFree(params, n);
    virDomainJobInfo ji;
    assert_int_equal(virDomainGetJobInfo(d2, &ji), 0);
    assert_int_equal(ji.type, VIR_DOMAIN_JOB_BOUNDED);
    assert_true(ji.dataProcessed > 0 && ji.dataTotal == total);
    /* The save's own connection: the job by its number. */
    snprintf(own, sizeof(own), "(job %llu, qemu.domain.save)",
             (unsigned long long)virJobGetID(job));
    assert_int_equal(virDomainResume(dom), -1);
    errorSays(own);
    assert_int_equal(access(img2, F_OK), -1);
    assert_int_equal(access(core, F_OK), -1);
    qtQMPLine(t, "jm", "query-migrate", line, sizeof(line));
    assert_non_null(strstr(line, "status=active"));   /* the first save runs on */

    /* The same from another process: virtsup's domjobinfo, then its
     * domjobabort, which asks this process's connection to cancel its
     * save (only the job's own supervisor can). */
    char cmd[9000], out[4096], want[128];
    snprintf(cmd, sizeof(cmd), "%s/virtsup -c '%s' 'domjobinfo jm; domjobabort jm' 2>&1",
             qtBuildDir(), t->uri);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    size_t got = fread(out, 1, sizeof(out) - 1, f);
    out[got] = '\0';
    int rc = pclose(f);
    printf("virtsup in another process:\n%s", out);
    if (!WIFEXITED(rc) || WEXITSTATUS(rc) != 0)
        fail_msg("virtsup's domjobabort of this process's save failed:\n%s", out);
    assert_non_null(strstr(out, "Job type:         Bounded"));
    assert_non_null(strstr(out, "Operation:        Save"));
    assert_non_null(strstr(out, "Data processed:"));
    /* The request was taken (its file is gone) and said in the log. */
    char path[700];
    snprintf(path, sizeof(path), "%s/run/jm/abort", t->root);
    assert_int_equal(access(path, F_OK), -1);
    snprintf(want, sizeof(want), "job %llu (qemu.domain.save) of process %d cancelled at the "
             "request of process", (unsigned long long)virJobGetID(job), (int)getpid());
    qtLogSays(t, "jm", want);

    /* Cancelled, its done step waits for QEMU's migration to end: still
     * the job's. */
    assert_true(TEST_WAIT_UNTIL(qtJobEnd0(job) ||
                                (qtQMPLine(t, "jm", "query-migrate", line, sizeof(line)),
                                 strstr(line, "status=cancelling") != NULL), TEST_TIMEOUT_MS));
    assert_int_equal(virJobGetInfo(job, &info), 0);
    assert_int_equal(info.state, VIR_JOB_RUNNING);
    assert_null(virDomainSaveJob(d2, img2));
    errorSays("already has a job running");
    assert_int_equal(kill(st.child_pid, SIGUSR1), 0);
    assert_int_equal(qtJobEnd(job), VIR_JOB_CANCELLED);
    virJobDestroy(job);

    /* Released: the other connection may act, its own save included. */
    qtWaitState(d2, VIR_DOMAIN_RUNNING, -1);
    assert_int_equal(virDomainGetJobInfo(d2, &ji), 0);
    assert_int_equal(ji.type, VIR_DOMAIN_JOB_NONE);
    assert_int_equal(virDomainSuspend(d2), 0);
    assert_int_equal(virDomainResume(d2), 0);
    virJobPtr j2 = virDomainSaveJob(d2, img2);
    assert_non_null(j2);
    assert_true(TEST_WAIT_UNTIL(qtJobProcessed(j2) > 0 || qtJobEnd0(j2), TEST_TIMEOUT_MS));
    assert_null(virDomainSaveJob(dom, img));   /* and now the first one waits */
    errorSays("already has a job running: qemu.domain.save of this process");
    /* Aborted from the first connection (of this process): asked of the
     * second one, which cancels it. */
    assert_int_equal(virDomainAbortJob(dom), 0);
    saveStuckSettle(t, "jm", j2, st.child_pid);
    virJobDestroy(j2);
    assert_int_equal(access(img2, F_OK), -1);
    virDomainFree(d2);
    assert_int_equal(virConnectClose(c2), 0);
    assert_int_equal(virDomainDestroy(dom), 0);
    virDomainFree(dom);
}

/* The reason of a shut-off guest in a connection opened after its end:
 * as a client of libvirt's daemon is told it (the end's recorder leaves
 * DOMAINS/NAME.ended). Before, such a connection said shut off (unknown),
 * as libvirt's daemon does only after a restart. A new run forgets it; so
 * does the undefine. */
static void test_end_reason_remembered(void **state)
{
    qemuT *t = *state;
    char path[600], rundir[600];
    int s, r;

    t->conn = qtOpen(t);
    virDomainPtr dom = qtDefineFake(t, "er", "normal", NULL);
    snprintf(path, sizeof(path), "%s/domains/er.ended", t->root);
    virConnectPtr c;
    virDomainPtr d = otherConnection(t, "er", &c);
    assert_int_equal(virDomainGetState(d, &s, &r, 0), 0);
    assert_int_equal(s, VIR_DOMAIN_SHUTOFF);
    assert_int_equal(r, VIR_DOMAIN_SHUTOFF_UNKNOWN);   /* never ran */
    virDomainFree(d);
    assert_int_equal(virConnectClose(c), 0);

    qtStart(dom);
    assert_int_equal(virDomainDestroy(dom), 0);
    /* Once its run directory is gone (the shim's exit), nothing but the
     * end's record can say why it ended. */
    snprintf(rundir, sizeof(rundir), "%s/run/er", t->root);
    assert_true(TEST_WAIT_UNTIL(access(rundir, F_OK) < 0, TEST_TIMEOUT_MS));
    d = otherConnection(t, "er", &c);
    assert_int_equal(virDomainGetState(d, &s, &r, 0), 0);
    assert_int_equal(s, VIR_DOMAIN_SHUTOFF);
    if (r != VIR_DOMAIN_SHUTOFF_DESTROYED)
        fail_msg("a connection opened after the destroy says shut off with reason %d", r);
    virDomainFree(d);
    assert_int_equal(virConnectClose(c), 0);

    /* Running again: the old reason is gone (a later connection adopts
     * the running guest). */
    qtStart(dom);
    assert_int_equal(access(path, F_OK), -1);
    d = otherConnection(t, "er", &c);
    assert_int_equal(virDomainGetState(d, &s, &r, 0), 0);
    assert_int_equal(s, VIR_DOMAIN_RUNNING);

    /* Destroyed by another process (virtsup) while both connections here
     * lag (their watchers held, as busy ones are), and seen by them only
     * once its run directory is gone: the reason that process recorded
     * for the run, not "crashed" (a shim gone without a record), which
     * they said before, and wrote over the record. */
    qtVirtsupWhileHeld(t, "destroy", "er", NULL, false);
    qtWaitState(dom, VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_DESTROYED);
    qtWaitState(d, VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_DESTROYED);
    virDomainFree(d);
    assert_int_equal(virConnectClose(c), 0);
    d = otherConnection(t, "er", &c);
    assert_int_equal(virDomainGetState(d, &s, &r, 0), 0);
    if (s != VIR_DOMAIN_SHUTOFF || r != VIR_DOMAIN_SHUTOFF_DESTROYED)
        fail_msg("a connection opened after them says state %d, reason %d", s, r);
    virDomainFree(d);
    assert_int_equal(virConnectClose(c), 0);
    assert_int_equal(access(path, F_OK), 0);
    assert_int_equal(virDomainUndefine(dom), 0);
    assert_int_equal(access(path, F_OK), -1);
    virDomainFree(dom);
}

/* A connection without inotify (none here, or past the user's limits)
 * looks at the run directory every quarter of a second for what inotify
 * would have told it. A request of another connection to abort its save
 * is taken: before, the requester waited 10 s and failed ("did not take
 * the request to abort it"). And a save whose application died is put
 * back without anything asked of it (a GetState does not): before, only
 * at its next open or call on the guest. The inotify-less connection is
 * this process's only one while the application dies. */
static void test_no_inotify_looks(void **state)
{
    qemuT *t = *state;
    virShimStatus st;
    virDomainPtr dom;
    char img[600], line[256], cli[1100], want[200];

    qemuTestNoInotify(true);
    virJobPtr job = saveStuck(t, "nl", false, &dom, &st, img, sizeof(img));
    qemuTestNoInotify(false);
    virConnectPtr c2;
    virDomainPtr d2 = otherConnection(t, "nl", &c2);
    long long t0 = testNowMs();
    if (virDomainAbortJob(d2) < 0)
        fail_msg("the abort of the inotify-less connection's save: %s",
                 virGetLastErrorMessage());
    printf("the inotify-less connection took the abort request after %lld ms\n",
           testNowMs() - t0);
    saveStuckSettle(t, "nl", job, st.child_pid);
    virJobDestroy(job);
    virDomainFree(d2);
    assert_int_equal(virConnectClose(c2), 0);
    qtWaitState(dom, VIR_DOMAIN_RUNNING, -1);

    /* Another process's save, its application killed while QEMU's
     * migration runs (the stand-in's stays "active"). */
    snprintf(cli, sizeof(cli), "%s/virtsup", qtBuildDir());
    pid_t app = fork();
    assert_true(app >= 0);
    if (app == 0) {
        execl(cli, "virtsup", "-q", "-c", t->uri, "save", "nl", img, (char *)NULL);
        _exit(127);
    }
    pid_t ended = 0;
    if (!TEST_WAIT_UNTIL((ended = waitpid(app, NULL, WNOHANG)) == app ||
                         (qtQMPLine(t, "nl", "query-migrate", line, sizeof(line)),
                          strstr(line, "status=active") != NULL), TEST_TIMEOUT_MS) ||
        ended == app)
        fail_msg("the other process's save did not get under way (%s)",
                 ended == app ? "it ended first" : "timeout");
    assert_int_equal(kill(app, SIGKILL), 0);
    assert_int_equal(waitpid(app, NULL, 0), app);
    /* This connection cancels QEMU's migration, and once it has ended,
     * resumes the guest (a guest that ended instead ends the wait, and
     * fails below). */
    int s, r;
    if (!TEST_WAIT_UNTIL((qtQMPLine(t, "nl", "query-migrate", line, sizeof(line)),
                          strstr(line, "status=cancelling") != NULL) ||
                         (virDomainGetState(dom, &s, &r, 0) == 0 && s == VIR_DOMAIN_SHUTOFF),
                         TEST_TIMEOUT_MS) ||
        !strstr(line, "status=cancelling"))
        fail_msg("the inotify-less connection did not put back the save of the dead "
                 "application: QEMU's migration says %s", line);
    assert_int_equal(kill(st.child_pid, SIGUSR1), 0);
    qtWaitState(dom, VIR_DOMAIN_RUNNING, -1);
    /* The recovery's last step empties the mark's record, after its line
     * in the guest's log (or the run directory is gone: fails below). */
    char mark[700];
    struct stat sb;
    snprintf(mark, sizeof(mark), "%s/run/nl/job", t->root);
    assert_true(TEST_WAIT_UNTIL(stat(mark, &sb) < 0 || sb.st_size == 0, TEST_TIMEOUT_MS));
    snprintf(want, sizeof(want), "the save of process %d ended with that process; QEMU's "
             "migration has ended and the guest runs again", (int)app);
    qtLogSays(t, "nl", want);
    assert_int_equal(access(img, F_OK), -1);
    assert_int_equal(virDomainDestroy(dom), 0);
    virDomainFree(dom);
}

/* The application forks (no exec) while its save holds the guest's job
 * mark, and the child lives on: once the save has ended, another
 * connection may suspend the guest. The mark is a lock of an open file
 * description that fork() shares; before, the child kept it for its whole
 * life and every other connection was refused ("cannot be suspended while
 * a job runs on it"). */
static void test_job_mark_fork(void **state)
{
    qemuT *t = *state;
    virShimStatus st;
    virDomainPtr dom;
    char img[600];
    int gate[2];

    virJobPtr job = saveStuck(t, "jf", false, &dom, &st, img, sizeof(img));
    assert_int_equal(pipe2(gate, O_CLOEXEC), 0);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        char c;
        close(gate[1]);
        /* Lives until the test closes the gate (or dies with it). */
        while (read(gate[0], &c, 1) < 0 && errno == EINTR)
            ;
        _exit(0);
    }
    close(gate[0]);
    saveStuckCancel(t, "jf", job, st.child_pid);
    virJobDestroy(job);

    virConnectPtr c2;
    virDomainPtr d2 = otherConnection(t, "jf", &c2);
    qtWaitState(d2, VIR_DOMAIN_RUNNING, -1);
    if (virDomainSuspend(d2) < 0)
        fail_msg("suspend with the forked child alive: %s", virGetLastErrorMessage());
    assert_int_equal(virDomainResume(d2), 0);
    close(gate[1]);
    assert_int_equal(waitpid(child, NULL, 0), child);
    virDomainFree(d2);
    assert_int_equal(virConnectClose(c2), 0);
    assert_int_equal(virDomainDestroy(dom), 0);
    virDomainFree(dom);
}

/* A guest agent channel without a path (libvirt's inactive XML): the
 * driver listens on a socket in the guest's run directory for QEMU. */
static void test_agent_channel_socket(void **state)
{
    qemuT *t = *state;
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    struct stat sb;

    t->conn = qtOpen(t);
    virDomainPtr dom = virDomainDefineXML(t->conn,
        "<domain type='qemu'><name>agent</name><memory unit='MiB'>64</memory>"
        "<os><type>hvm</type><kernel>/nonexistent/vmlinux</kernel>"
        "<cmdline>fake=normal</cmdline></os><devices><channel type='unix'>"
        "<source mode='bind'/><target type='virtio' name='org.qemu.guest_agent.0'/>"
        "</channel></devices></domain>");
    if (!dom)
        fail_msg("define: %s", virGetLastErrorMessage());
    qtStart(dom);
    char path[600];
    snprintf(path, sizeof(path), "%s/run/agent/channel.0.sock", t->root);
    assert_true(strlen(path) < sizeof(sa.sun_path));
    memcpy(sa.sun_path, path, strlen(path) + 1);
    assert_int_equal(stat(sa.sun_path, &sb), 0);
    assert_true(S_ISSOCK(sb.st_mode));
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        fail_msg("connect to %s: %s", sa.sun_path, strerror(errno));
    close(fd);
    char *xml = virDomainGetXMLDesc(dom, 0);
    assert_non_null(xml);
    assert_non_null(strstr(xml, "<source mode='bind'/>"));
    assert_non_null(strstr(xml, " id='"));            /* running: its ID */
    free(xml);
    assert_non_null(xml = virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE));
    assert_null(strstr(xml, " id='"));
    assert_non_null(strstr(xml, "<source mode='bind'/>"));
    free(xml);
    /* Configured, but the driver does not speak to the agent: refused. */
    assert_int_equal(virDomainReboot(dom, VIR_DOMAIN_REBOOT_GUEST_AGENT), -1);
    assert_int_equal(virGetLastError()->code, VIR_ERR_ARGUMENT_UNSUPPORTED);
    assert_non_null(strstr(virGetLastErrorMessage(), "does not use the agent"));
    assert_int_equal(virDomainDestroy(dom), 0);
    virDomainFree(dom);
}

/* Another application starts @name (see qtAppStartsGuest). */
static pid_t appStartsGuest(qemuT *t, const char *name, const char *mode, bool wait)
{
    char xml[2048];
    return qtAppStartsGuest(t, qtFakeXML(xml, sizeof(xml), name, mode, NULL), wait);
}

static void test_survives_application(void **state)
{
    qemuT *t = *state;
    virShimStatus before, after;

    pid_t app = appStartsGuest(t, "kept", "normal", true);
    assert_int_equal(qtShimStatus(t, "kept", &before), 0);
    qtKillApp(app);
    /* The guest runs on without any application. */
    assert_true(virShimOwnerAlive(&before));
    assert_true(virShimChildAlive(&before));

    virDomainPtr dom = qtFoundAgain(t, "kept", &before, &after);
    assert_true((int)virDomainGetID(dom) > 0);
    /* Reconnected to its monitor: suspend and resume work. */
    assert_int_equal(virDomainSuspend(dom), 0);
    assert_int_equal(virDomainResume(dom), 0);
    /* And its end is seen at once. */
    assert_int_equal(kill(after.child_pid, SIGKILL), 0);
    qtWaitState(dom, VIR_DOMAIN_SHUTOFF, 3 /* crashed */);
    virDomainFree(dom);
}

static void test_died_meanwhile(void **state)
{
    qemuT *t = *state;
    virShimStatus st;
    int s, r;

    pid_t app = appStartsGuest(t, "gone", "normal", true);
    assert_int_equal(qtShimStatus(t, "gone", &st), 0);
    qtKillApp(app);
    /* While nobody watches, QEMU dies; its shim records why and exits. */
    assert_int_equal(kill(st.child_pid, SIGKILL), 0);
    assert_true(TEST_WAIT_UNTIL(!virProcessAlive(st.shim_pid, st.shim_start), TEST_TIMEOUT_MS));

    t->conn = qtOpen(t);
    virDomainPtr dom = virDomainLookupByName(t->conn, "gone");
    assert_non_null(dom);
    assert_int_equal(virDomainGetState(dom, &s, &r, 0), 0);
    assert_int_equal(s, VIR_DOMAIN_SHUTOFF);
    assert_int_equal(r, 3 /* crashed */);
    char dir[512];
    snprintf(dir, sizeof(dir), "%s/run/gone", t->root);
    assert_int_equal(access(dir, F_OK), -1);
    virDomainFree(dom);
}

static void test_start_interrupted(void **state)
{
    qemuT *t = *state;
    virShimStatus st;
    int s, r;

    /* The application dies while the start is under way (QEMU slow to
     * greet, and half a second to end once told): the next connection
     * stops the half-started guest before its open returns, so its caller
     * finds the guest shut off (failed) and may start it at once. Before,
     * the open only sent its shim SIGTERM, and a start or restore right
     * after it was refused ("already running or busy"; seen in a loop that
     * killed virtsup during its restores). */
    pid_t app = appStartsGuest(t, "half", "slowexit", false);
    assert_int_equal(qtShimStatus(t, "half", &st), 0);
    qtKillApp(app);
    t->conn = qtOpen(t);
    virDomainPtr dom = virDomainLookupByName(t->conn, "half");
    assert_non_null(dom);
    assert_int_equal(virDomainGetState(dom, &s, &r, 0), 0);
    assert_int_equal(s, VIR_DOMAIN_SHUTOFF);
    assert_int_equal(r, 6 /* failed */);
    assert_false(virProcessAlive(st.child_pid, st.child_start));   /* reaped by its shim */
    assert_true(TEST_WAIT_UNTIL(!virProcessAlive(st.shim_pid, st.shim_start), TEST_TIMEOUT_MS));
    virDomainFree(dom);
}

/* The same for a connection without inotify (none here, or past the
 * user's limits): it learns of the other connection's start when it is
 * asked, each list, lookup and state query looking at the run directory
 * first. Before, it saw the guest shut off until it was opened again. */
static void test_other_connection_no_inotify(void **state)
{
    qemuT *t = *state;
    virDomainPtr *doms = NULL;
    int s, r, n;

    t->conn = qtOpen(t);
    virDomainPtr dom = qtDefineFake(t, "blind", "normal", NULL);
    qemuTestNoInotify(true);
    virConnectPtr other = qtOpen(t);
    qemuTestNoInotify(false);
    virDomainPtr odom = virDomainLookupByName(other, "blind");
    assert_non_null(odom);
    assert_int_equal(virDomainGetState(odom, &s, &r, 0), 0);
    assert_int_equal(s, VIR_DOMAIN_SHUTOFF);
    qtStart(dom);
    /* Asked right after the start's end: no wait. */
    assert_int_equal(virDomainGetState(odom, &s, &r, 0), 0);
    assert_int_equal(s, VIR_DOMAIN_RUNNING);
    n = virConnectListAllDomains(other, &doms, VIR_CONNECT_LIST_DOMAINS_ACTIVE);
    assert_int_equal(n, 1);
    assert_string_equal(virDomainGetName(doms[0]), "blind");
    virDomainFree(doms[0]);
    free(doms);
    assert_int_equal(virDomainSuspend(odom), 0);
    qtWaitState(dom, VIR_DOMAIN_PAUSED, -1);
    assert_int_equal(virDomainDestroy(odom), 0);
    qtWaitState(dom, VIR_DOMAIN_SHUTOFF, -1);
    virDomainFree(odom);
    assert_int_equal(virConnectClose(other), 0);
    virDomainFree(dom);
}

/* Two connections, the second opened before the first starts a guest
 * (two clients of a daemon, each with its own connection): the second
 * learns of the start (the status the start's commit writes) and follows
 * the guest from then on, as libvirt's clients, which share one daemon,
 * all do. Before, it saw the guest shut off until it was opened again. */
static void test_other_connection_sees_start(void **state)
{
    qemuT *t = *state;
    int s, r;

    t->conn = qtOpen(t);
    virDomainPtr dom = qtDefineFake(t, "seen", "normal", NULL);
    virConnectPtr other = qtOpen(t);
    qtEvents ev = { 0 };
    int timer;
    assert_true(virConnectDomainEventRegister(other, qtLifecycleCb, &ev, NULL) == 0);
    assert_true((timer = virEventAddTimeout(50, qtTick, NULL, NULL)) >= 0);
    virDomainPtr odom = virDomainLookupByName(other, "seen");
    assert_non_null(odom);
    assert_int_equal(virDomainGetState(odom, &s, &r, 0), 0);
    assert_int_equal(s, VIR_DOMAIN_SHUTOFF);
    qtStart(dom);
    qtWaitState(odom, VIR_DOMAIN_RUNNING, -1);
    /* Its listeners hear of the start, as libvirt's do. */
    qtWaitEvent(&ev, VIR_DOMAIN_EVENT_STARTED, VIR_DOMAIN_EVENT_STARTED_BOOTED);
    virEventRemoveTimeout(timer);
    assert_int_equal(virConnectDomainEventDeregister(other, qtLifecycleCb), 0);
    assert_int_equal(virDomainIsActive(odom), 1);
    assert_int_equal(virDomainGetID(odom), virDomainGetID(dom));
    /* It drives the guest, and the first connection sees that. */
    assert_int_equal(virDomainSuspend(odom), 0);
    qtWaitState(dom, VIR_DOMAIN_PAUSED, -1);
    assert_int_equal(virDomainResume(odom), 0);
    qtWaitState(dom, VIR_DOMAIN_RUNNING, -1);
    /* The end, as each sees it; and a second start, seen again. */
    assert_int_equal(virDomainDestroy(dom), 0);
    qtWaitState(odom, VIR_DOMAIN_SHUTOFF, -1);
    qtStart(dom);
    qtWaitState(odom, VIR_DOMAIN_RUNNING, -1);
    assert_int_equal(virDomainDestroy(odom), 0);
    qtWaitState(dom, VIR_DOMAIN_SHUTOFF, -1);
    virDomainFree(odom);
    assert_int_equal(virConnectClose(other), 0);
    virDomainFree(dom);
}

/* Whether process @pid blocks @sig (its /proc status's SigBlk). */
static bool sigBlocked(pid_t pid, int sig)
{
    char path[64], line[256];
    unsigned long long mask = 0;
    bool found = false;

    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "SigBlk: %llx", &mask) == 1)
            found = true;
    fclose(f);
    return found && (mask & (1ULL << (sig - 1)));
}

/* A connection opened while another one's start is under way (as
 * `virtsup list` in another process, or a second connection of the same
 * application): it leaves that guest alone, and the start completes.
 * Before, its open took the guest for one whose application had died
 * during its start (test_start_interrupted), and stopped it. The stand-in
 * QEMU holds the start: it greets only on SIGUSR1. Each wait also ends
 * when the start has ended (and the test then fails). */
static void test_open_during_start(void **state)
{
    qemuT *t = *state;
    virShimStatus st;
    char dir[1024];

    t->conn = qtOpen(t);
    virDomainPtr dom = qtDefineFake(t, "slow", "greet-on-usr1", NULL);
    virJobPtr job = virDomainCreateJob(dom, 0);
    assert_non_null(job);
    assert_true(TEST_WAIT_UNTIL(qtShimStatus(t, "slow", &st) == 0 || qtJobEnd0(job),
                                TEST_TIMEOUT_MS));
    if (qtJobEnd0(job))
        fail_msg("the start ended before its QEMU greeted: %s", qtJobError(job));
    virConnectPtr other = qtOpen(t);
    /* A stop the open sent would have reached the shim by the time it
     * answers a request made after it. */
    snprintf(dir, sizeof(dir), "%s/run/slow", t->root);
    virShimIncoming *in = malloc(sizeof(*in));
    int c = virShimConnect(dir);
    assert_non_null(in);
    assert_true(c >= 0);
    assert_int_equal(virShimCall(c, VIR_SHIM_MSG_STATUS, NULL, 0, NULL, 0, TEST_TIMEOUT_MS,
                                 NULL, NULL, in), 0);
    close(c);
    free(in);
    /* The stand-in waits for the signal (before, it would end it). */
    assert_true(TEST_WAIT_UNTIL(sigBlocked(st.child_pid, SIGUSR1) || qtJobEnd0(job),
                                TEST_TIMEOUT_MS));
    assert_int_equal(kill(st.child_pid, SIGUSR1), 0);
    if (qtJobEnd(job) != VIR_JOB_COMPLETE)
        fail_msg("the start, with another connection opened during it: %s", qtJobError(job));
    virJobDestroy(job);
    qtWaitState(dom, VIR_DOMAIN_RUNNING, -1);
    assert_int_equal(virConnectClose(other), 0);
    assert_int_equal(virDomainDestroy(dom), 0);
    virDomainFree(dom);
}

static void test_cancel_start(void **state)
{
    qemuT *t = *state;
    virShimStatus st;

    t->conn = qtOpen(t);
    virDomainPtr dom = qtDefineFake(t, "cancelled", "slowgreet", NULL);
    virJobPtr job = virDomainCreateJob(dom, 0);
    assert_non_null(job);
    assert_true(TEST_WAIT_UNTIL(qtShimStatus(t, "cancelled", &st) == 0, TEST_TIMEOUT_MS));
    /* The running start's statistics (QEMU has not greeted yet). */
    int op, ok;
    char msg[256];
    assert_int_equal(qtJobStats(dom, 0, &op, &ok, msg, sizeof(msg), NULL),
                     VIR_DOMAIN_JOB_BOUNDED);
    assert_int_equal(op, VIR_DOMAIN_JOB_OPERATION_START);
    assert_int_equal(ok, -1);
    assert_true(virJobCancel(job) >= 0);
    assert_int_equal(qtJobEnd(job), VIR_JOB_CANCELLED);
    virJobDestroy(job);
    /* Its record: cancelled, not a success, with the reason. */
    assert_int_equal(qtJobStats(dom, VIR_DOMAIN_JOB_STATS_COMPLETED, &op, &ok, msg,
                                sizeof(msg), NULL), VIR_DOMAIN_JOB_CANCELLED);
    assert_int_equal(op, VIR_DOMAIN_JOB_OPERATION_START);
    assert_int_equal(ok, 0);
    assert_true(msg[0] != '\0');
    qtWaitState(dom, VIR_DOMAIN_SHUTOFF, -1);
    assert_true(TEST_WAIT_UNTIL(!virProcessAlive(st.child_pid, st.child_start), TEST_TIMEOUT_MS));
    virDomainFree(dom);
}

static void test_stale_run_dirs(void **state)
{
    qemuT *t = *state;
    char dir[512], path[600];
    int fd, s, r;

    /* Left by applications that crashed at every step of a start. */
    t->conn = qtOpen(t);
    virDomainPtr dom = qtDefineFake(t, "stale", "normal", NULL);
    virConnectClose(t->conn);
    t->conn = NULL;

    snprintf(dir, sizeof(dir), "%s/run/junk", t->root);
    assert_int_equal(mkdir(dir, 0700), 0);
    snprintf(path, sizeof(path), "%s/domain.status", dir);
    assert_true((fd = open(path, O_WRONLY | O_CREAT, 0600)) >= 0);
    assert_int_equal(write(fd, "garbage", 7), 7);
    close(fd);
    snprintf(dir, sizeof(dir), "%s/run/empty", t->root);
    assert_int_equal(mkdir(dir, 0700), 0);
    /* A shim state naming this very process under another start time:
     * its pid was reused; it must not be signalled. */
    snprintf(dir, sizeof(dir), "%s/run/stale", t->root);
    assert_int_equal(mkdir(dir, 0700), 0);
    virShimStatus st;
    memset(&st, 0, sizeof(st));
    st.magic = VIR_SHIM_STATUS_MAGIC;
    st.version = VIR_SHIM_PROTO_VERSION;
    st.size = sizeof(st);
    st.shim_pid = st.child_pid = getpid();
    st.shim_start = st.child_start = virProcessStartTime(getpid()) + 12345;
    st.child_state = VIR_SHIM_CHILD_RUNNING;
    st.qmp_state = VIR_SHIM_QMP_READY;
    snprintf(path, sizeof(path), "%s/state", dir);
    assert_true((fd = open(path, O_WRONLY | O_CREAT, 0600)) >= 0);
    assert_int_equal(write(fd, &st, sizeof(st)), (ssize_t)sizeof(st));
    close(fd);
    qemuStatusHeader hdr = { .id = 7, .started = 1, .state = VIR_DOMAIN_RUNNING, .reason = 1,
                             .persistent = 1 };
    /* The running definition, as the driver keeps it. */
    snprintf(path, sizeof(path), "%s/domains/stale.def", t->root);
    int dfd = open(path, O_RDONLY);
    assert_true(dfd >= 0);
    qemuDomainDef *def = qemuDefRead(dfd, path);
    close(dfd);
    assert_non_null(def);
    assert_int_equal(qemuStatusWrite(dir, &hdr, def), 0);
    free(def);

    t->conn = qtOpen(t);
    snprintf(dir, sizeof(dir), "%s/run/junk", t->root);
    assert_int_equal(access(dir, F_OK), -1);
    snprintf(dir, sizeof(dir), "%s/run/empty", t->root);
    assert_int_equal(access(dir, F_OK), -1);
    snprintf(dir, sizeof(dir), "%s/run/stale", t->root);
    assert_int_equal(access(dir, F_OK), -1);
    virDomainFree(dom);
    assert_non_null(dom = virDomainLookupByName(t->conn, "stale"));
    assert_int_equal(virDomainGetState(dom, &s, &r, 0), 0);
    assert_int_equal(s, VIR_DOMAIN_SHUTOFF);
    assert_int_equal(r, 3 /* crashed: its owner is gone */);
    virDomainFree(dom);
    /* And we are alive. */
    assert_int_equal(kill(getpid(), 0), 0);
}

int main(void)
{
    int rc = qtFakeInit(fake, sizeof(fake));
    if (rc != 0)
        return rc;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_definitions, setupT, qtTeardown),
        cmocka_unit_test_setup_teardown(test_lifecycle, setupT, qtTeardown),
        cmocka_unit_test_setup_teardown(test_start_failure_message, setupT, qtTeardown),
        cmocka_unit_test_setup_teardown(test_failed_start_recorded, setupT, qtTeardown),
        cmocka_unit_test_setup_teardown(test_killed_outside, setupT, qtTeardown),
        cmocka_unit_test_setup_teardown(test_commands_not_undone, setupT, qtTeardown),
        cmocka_unit_test_setup_teardown(test_status_record, setupT, qtTeardown),
        cmocka_unit_test_setup_teardown(test_define_waits_alone, setupT, qtTeardown),
        cmocka_unit_test_setup_teardown(test_stop_shim_leaving, setupT, qtTeardown),
        cmocka_unit_test_setup_teardown(test_monitor_hang, setupT, qtTeardown),
        cmocka_unit_test_setup_teardown(test_internal_error, setupT, qtTeardown),
        cmocka_unit_test_setup_teardown(test_save_fails_late, setupT, qtTeardown),
        cmocka_unit_test_setup_teardown(test_save_fails_paused, setupT, qtTeardown),
        cmocka_unit_test_setup_teardown(test_save_fails_unknown, setupT, qtTeardown),
        cmocka_unit_test_setup_teardown(test_save_killed_paused_settles, setupT, qtTeardown),
        cmocka_unit_test_setup_teardown(test_watcher_resubscribes, setupT, qtTeardown),
        cmocka_unit_test_setup_teardown(test_job_mark, setupLongMonitor, qtTeardown),
        cmocka_unit_test_setup_teardown(test_job_mark_fork, setupLongMonitor, qtTeardown),
        cmocka_unit_test_setup_teardown(test_no_inotify_looks, setupLongMonitor, qtTeardown),
        cmocka_unit_test_setup_teardown(test_end_reason_remembered, setupT, qtTeardown),
        cmocka_unit_test_setup_teardown(test_save_cancel_resumes_first, setupLongMonitor,
                                        qtTeardown),
        cmocka_unit_test_setup_teardown(test_agent_channel_socket, setupT, qtTeardown),
        cmocka_unit_test_setup_teardown(test_survives_application, setupT, qtTeardown),
        cmocka_unit_test_setup_teardown(test_died_meanwhile, setupT, qtTeardown),
        cmocka_unit_test_setup_teardown(test_start_interrupted, setupT, qtTeardown),
        cmocka_unit_test_setup_teardown(test_open_during_start, setupT, qtTeardown),
        cmocka_unit_test_setup_teardown(test_other_connection_sees_start, setupT, qtTeardown),
        cmocka_unit_test_setup_teardown(test_other_connection_no_inotify, setupT, qtTeardown),
        cmocka_unit_test_setup_teardown(test_cancel_start, setupT, qtTeardown),
        cmocka_unit_test_setup_teardown(test_stale_run_dirs, setupT, qtTeardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
