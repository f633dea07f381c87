/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fault-matrix-test.c: every async op of the test driver x every fault
 * action x {no cancel, cancel early, cancel late}, through the public API.
 *
 * Each case runs on a fresh connection to a node description holding the
 * object with its fault (at 50 %) and a pace that makes the whole job last
 * about a second, so "cancel early" (right after the call returns) reaches
 * the worker long before the fault, and "cancel late" (once the job has
 * shown 50 %, when the fault has fired) meets the misbehaving worker.
 * Without a cancel, a hanging worker meets a 1 s deadline.
 *
 * Checked for every case: the final state, error code and message against
 * DESIGN.md's outcome table; the domain or network state; the destination
 * (absent, or the old file unchanged byte for byte, and no other file in
 * its directory); the worker process gone (no zombie); no child left; no
 * descriptor leaked.
 */
#include <dirent.h>

#include "drivertest.h"
#include "supervisor/job-priv.h"

enum { OP_SAVE, OP_RESTORE, OP_DUMP, OP_CREATE_XML, OP_START,
       OP_NET_CREATE_XML, OP_NET_START, OP_LAST };
static const char *const opNames[OP_LAST] = {
    "save", "restore", "dump", "create-xml", "start", "net-create-xml", "net-start",
};
/* The fault's op= and the pace (bytes per second, about one second of work:
 * a 1 MiB domain's image or core; a boot is 2 MiB of firmware plus memory;
 * a network's work is 4 MiB). */
static const char *const faultOps[OP_LAST] = {
    "save", "restore", "dump", "create", "create", "create", "create",
};
static const unsigned long long rates[OP_LAST] = {
    1 << 20, 1 << 20, 1 << 20, 3 << 20, 3 << 20, 4 << 20, 4 << 20,
};

enum { ACT_SEGV, ACT_ABORT, ACT_HANG, ACT_IGNORE, ACT_EXIT, ACT_GARBAGE, ACT_LAST };
static const char *const actNames[ACT_LAST] = {
    "segv", "abort", "hang", "ignore-cancel", "exit", "garbage",
};

enum { CANCEL_NONE, CANCEL_EARLY, CANCEL_LATE, CANCEL_LAST };
static const char *const cancelNames[CANCEL_LAST] = { "no cancel", "cancel early", "cancel late" };

#define FAULT_AT 50
#define HANG_DEADLINE_MS 1000

static virConnectPtr keeper;        /* keeps the supervisor up between cases */
static unsigned int ncases, nfaults, ncompleted;

/* What DESIGN.md's outcome table says. @alt: a second allowed outcome
 * (ignore-cancel may finish before the grace period ends). */
typedef struct {
    int state;
    int code;
    const char *msg;
    bool altComplete;
} expect;

static expect expected(int act, int mode)
{
    expect e = { VIR_JOB_FAILED, 0, "", false };

    /* Cancelled before the fault: by request, or, when a loaded machine
     * keeps the worker from stopping within the short grace period,
     * killed after it. Both are CANCELLED with the same code. */
    if (mode == CANCEL_EARLY)
        return (expect){ VIR_JOB_CANCELLED, VIR_ERR_OPERATION_ABORTED, "cancelled", false };
    switch (act) {
    case ACT_SEGV:
        return (expect){ VIR_JOB_FAILED, VIR_ERR_JOB_CRASHED, "signal 11 (SIGSEGV)", false };
    case ACT_ABORT:
        return (expect){ VIR_JOB_FAILED, VIR_ERR_JOB_CRASHED, "signal 6 (SIGABRT)", false };
    case ACT_EXIT:
    case ACT_GARBAGE:
        return (expect){ VIR_JOB_FAILED, VIR_ERR_JOB_NO_REPORT, "without reporting", false };
    case ACT_HANG:
        if (mode == CANCEL_NONE)
            return (expect){ VIR_JOB_FAILED, VIR_ERR_OPERATION_TIMEOUT, "timed out", false };
        return (expect){ VIR_JOB_CANCELLED, VIR_ERR_OPERATION_ABORTED, "did not stop within", false };
    case ACT_IGNORE:
        if (mode == CANCEL_NONE)
            return (expect){ VIR_JOB_COMPLETE, 0, "", false };
        return (expect){ VIR_JOB_CANCELLED, VIR_ERR_OPERATION_ABORTED, "did not stop within", true };
    }
    return e;
}

static bool procGone(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d", (int)pid);
    return access(path, F_OK) != 0;
}

static void faultXML(char *buf, size_t len, int op, int act)
{
    snprintf(buf, len, "<test:fault op='%s' at='%d' action='%s'/>"
             "<test:rate bytes-per-second='%llu'/>",
             faultOps[op], FAULT_AT, actNames[act], rates[op]);
}

static void domainXML(char *buf, size_t len, const char *name, int op, int act)
{
    char f[256];
    faultXML(f, sizeof(f), op, act);
    snprintf(buf, len, "<domain type='test' " TEST_NS "><name>%s</name>"
             "<memory unit='MiB'>1</memory>%s</domain>", name, f);
}

static void networkXML(char *buf, size_t len, const char *name, int op, int act)
{
    char f[256];
    faultXML(f, sizeof(f), op, act);
    snprintf(buf, len, "<network " TEST_NS "><name>%s</name><bridge name='vb-%s'/>"
             "<forward mode='nat'/>%s</network>", name, name, f);
}

/* The save image a restore case starts from: a domain whose faults are
 * for restore (so the save itself runs clean), saved once per action. */
static void restoreImage(int act, char *img, size_t len)
{
    char node[1024], dom[512], name[64];
    struct stat st;

    snprintf(img, len, "%s/restore-%s.img", rundir, actNames[act]);
    if (stat(img, &st) == 0)
        return;
    snprintf(name, sizeof(name), "img-%d.xml", act);
    domainXML(dom, sizeof(dom), "m", OP_RESTORE, act);
    snprintf(node, sizeof(node), "<node>%s</node>", dom);
    virConnectPtr c = drvOpenNode(name, node, "");
    virDomainPtr d = virDomainLookupByName(c, "m");
    assert_non_null(d);
    if (virDomainSave(d, img) != 0)
        fail_msg("saving the restore image: %s", virGetLastErrorMessage());
    virDomainFree(d);
    assert_int_equal(virConnectClose(c), 0);
}

static void runCase(int op, int act, int mode)
{
    char node[2048], obj[1024], xml[1024], dir[512], dest[600], img[600], nodename[64];
    static const char old[] = "the previous file, which a failed job must leave alone";
    int fds0, kids0, code = 0;
    virConnectPtr c;
    virDomainPtr dom = NULL;
    virNetworkPtr net = NULL;
    virJobPtr job = NULL;
    virJobInfo info;
    bool hadOld = false;
    unsigned int n = ncases++;
    char what[128];

    snprintf(what, sizeof(what), "%s x %s x %s", opNames[op], actNames[act], cancelNames[mode]);
    if (op == OP_RESTORE)
        restoreImage(act, img, sizeof(img));

    fds0 = testCountFDs();
    kids0 = testCountChildren();

    /* The node: the object itself when the op works on an existing one. */
    obj[0] = '\0';
    if (op == OP_SAVE || op == OP_DUMP || op == OP_START)
        domainXML(obj, sizeof(obj), "m", op, act);
    else if (op == OP_NET_START)
        networkXML(obj, sizeof(obj), "n", op, act);
    snprintf(node, sizeof(node), "<node>%s</node>", obj);
    snprintf(nodename, sizeof(nodename), "case-%u.xml", n);
    c = drvOpenNode(nodename, node, "?grace=300");

    snprintf(dir, sizeof(dir), "%s/case-%u", rundir, n);
    assert_int_equal(mkdir(dir, 0700), 0);
    snprintf(dest, sizeof(dest), "%s/out", dir);
    if ((op == OP_SAVE || op == OP_DUMP) && n % 2) {
        drvWriteFile(dest, old, sizeof(old));
        hadOld = true;
    }

    switch (op) {
    case OP_SAVE:
        assert_non_null(dom = virDomainLookupByName(c, "m"));
        job = virDomainSaveJob(dom, dest);
        break;
    case OP_DUMP:
        assert_non_null(dom = virDomainLookupByName(c, "m"));
        job = virDomainDumpCoreJob(dom, dest, 0);
        break;
    case OP_START:
        assert_non_null(dom = virDomainLookupByName(c, "m"));
        assert_int_equal(virDomainDestroy(dom), 0);
        job = virDomainCreateJob(dom, 0);
        break;
    case OP_RESTORE:
        job = virDomainRestoreJob(c, img);
        break;
    case OP_CREATE_XML:
        domainXML(xml, sizeof(xml), "m", op, act);
        job = virDomainCreateLinuxJob(c, xml, 0);
        break;
    case OP_NET_START:
        assert_non_null(net = virNetworkLookupByName(c, "n"));
        assert_int_equal(virNetworkDestroy(net), 0);
        job = virNetworkCreateJob(net);
        break;
    case OP_NET_CREATE_XML:
        networkXML(xml, sizeof(xml), "n", op, act);
        job = virNetworkCreateXMLJob(c, xml);
        break;
    }
    if (!job)
        fail_msg("%s: the call failed: %s", what, virGetLastErrorMessage());

    if (mode == CANCEL_EARLY) {
        assert_int_equal(virJobCancel(job), 0);
    } else if (mode == CANCEL_LATE) {
        if (!TEST_WAIT_UNTIL(virJobGetInfo(job, &info) == 0 &&
                             (info.percentComplete >= FAULT_AT ||
                              info.state != VIR_JOB_RUNNING), TEST_TIMEOUT_MS))
            fail_msg("%s: no progress to %d %%", what, FAULT_AT);
        /* The worker may be gone already: cancelling then is a no-op. */
        assert_true(virJobCancel(job) >= 0);
    } else if (act == ACT_HANG) {
        assert_int_equal(virJobSetDeadline(job, HANG_DEADLINE_MS), 0);
    }

    int state = drvWait(job, &code);
    char msg[512];
    snprintf(msg, sizeof(msg), "%s", drvJobMessage(job));
    expect e = expected(act, mode);
    bool complete = state == VIR_JOB_COMPLETE;
    /* A late cancel races the fault: on a loaded machine the worker may
     * not reach its crash (or exit) before the 0.3 s grace period ends,
     * and is then killed by the cancel: CANCELLED, as the table says. */
    bool killedFirst = mode == CANCEL_LATE && state == VIR_JOB_CANCELLED &&
                       code == VIR_ERR_OPERATION_ABORTED && strstr(msg, "did not stop within");
    if (!(complete && e.altComplete) && !killedFirst &&
        (state != e.state || code != e.code || !strstr(msg, e.msg)))
        fail_msg("%s: state %d, error %d '%s'; expected state %d, error %d '%s'",
                 what, state, code, msg, e.state, e.code, e.msg);
    if (complete)
        ncompleted++;
    else
        nfaults++;

    /* The worker is gone for good: reaped, no zombie. */
    pid_t pid = job->pid;
    if (pid > 0 && !TEST_WAIT_UNTIL(procGone(pid), TEST_TIMEOUT_MS))
        fail_msg("%s: worker %d still exists after the job ended", what, (int)pid);

    /* The objects and the files. */
    switch (op) {
    case OP_SAVE:
    case OP_DUMP: {
        size_t len = 0;
        uint8_t *now = drvReadFile(dest, &len);
        if (complete) {
            assert_non_null(now);
            assert_true(len > 4);
            if (op == OP_DUMP)
                assert_memory_equal(now, "\177ELF", 4);
            assert_int_equal(drvState(dom), op == OP_SAVE ? VIR_DOMAIN_SHUTOFF
                                                          : VIR_DOMAIN_RUNNING);
        } else {
            if (hadOld) {
                if (!now || len != sizeof(old) || memcmp(now, old, len) != 0)
                    fail_msg("%s: the old file at the destination changed", what);
            } else if (now) {
                fail_msg("%s: a file appeared at the destination", what);
            }
            if (drvState(dom) != VIR_DOMAIN_RUNNING)
                fail_msg("%s: the domain is no longer running", what);
        }
        free(now);
        /* Nothing else, e.g. a hidden temporary name, in the directory. */
        int want = (complete || hadOld) ? 1 : 0;
        if (testCountEntries(dir) != want)
            fail_msg("%s: %d entries in the destination directory, expected %d",
                     what, testCountEntries(dir), want);
        break;
    }
    case OP_START:
        if (drvState(dom) != (complete ? VIR_DOMAIN_RUNNING : VIR_DOMAIN_SHUTOFF))
            fail_msg("%s: domain state %d", what, drvState(dom));
        break;
    case OP_RESTORE:
    case OP_CREATE_XML:
        dom = virDomainLookupByName(c, "m");
        if (complete) {
            assert_non_null(dom);
            assert_int_equal(drvState(dom), VIR_DOMAIN_RUNNING);
        } else if (dom) {
            fail_msg("%s: a domain appeared", what);
        }
        virResetLastError();
        break;
    case OP_NET_START:
        if (virNetworkIsActive(net) != (complete ? 1 : 0))
            fail_msg("%s: network active = %d", what, virNetworkIsActive(net));
        break;
    case OP_NET_CREATE_XML:
        net = virNetworkLookupByName(c, "n");
        if (complete) {
            assert_non_null(net);
            assert_int_equal(virNetworkIsActive(net), 1);
        } else if (net) {
            fail_msg("%s: a network appeared", what);
        }
        virResetLastError();
        break;
    }

    assert_int_equal(virJobDestroy(job), 0);
    if (dom)
        virDomainFree(dom);
    if (net)
        virNetworkFree(net);
    assert_int_equal(virConnectClose(c), 0);
    unlink(dest);
    assert_int_equal(rmdir(dir), 0);

    if (testCountChildren() != kids0)
        fail_msg("%s: %d children, %d before", what, testCountChildren(), kids0);
    if (!TEST_WAIT_UNTIL(testCountFDs() == fds0, 5000))
        fail_msg("%s: %d descriptors open, %d before", what, testCountFDs(), fds0);
    printf("ok %u %s: %s%s%s\n", n, what, state == VIR_JOB_COMPLETE ? "completed" :
           state == VIR_JOB_CANCELLED ? "cancelled" : "failed",
           *msg ? ", " : "", msg);
    fflush(stdout);
}

static void runOp(int op)
{
    for (int act = 0; act < ACT_LAST; act++)
        for (int mode = 0; mode < CANCEL_LAST; mode++)
            runCase(op, act, mode);
}

#define OP_TEST(fn, op) static void fn(void **state) { (void)state; runOp(op); }
OP_TEST(testSave, OP_SAVE)
OP_TEST(testRestore, OP_RESTORE)
OP_TEST(testDump, OP_DUMP)
OP_TEST(testCreateXML, OP_CREATE_XML)
OP_TEST(testStart, OP_START)
OP_TEST(testNetCreateXML, OP_NET_CREATE_XML)
OP_TEST(testNetStart, OP_NET_START)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(testSave),
        cmocka_unit_test(testRestore),
        cmocka_unit_test(testDump),
        cmocka_unit_test(testCreateXML),
        cmocka_unit_test(testStart),
        cmocka_unit_test(testNetCreateXML),
        cmocka_unit_test(testNetStart),
    };
    drvNeedWorker();
    if (drvSetupRundir(NULL) < 0 || !(keeper = virConnectOpen("test:///default")) ||
        drvStartXMLHelper(keeper) < 0) {
        printf("cannot open test:///default: %s\n", virGetLastErrorMessage());
        return 1;
    }
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    printf("fault matrix: %u cases, %u ended by the fault or the cancel, %u completed\n",
           ncases, nfaults, ncompleted);
    if (virConnectClose(keeper) != 0)
        rc = 1;
    drvTeardownRundir(NULL);
    return rc;
}
