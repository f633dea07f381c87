/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * driver-faults-test.c: every fault action of the test XML namespace,
 * through the public API, ends as DESIGN.md's outcome table says, and a
 * failed job changes nothing (no file at the destination, the old one
 * unchanged, the domain as it was).
 */
#include "drivertest.h"

static virConnectPtr conn;

static void defineFault(const char *name, const char *op, const char *at,
                        const char *action, const char *rate, virDomainPtr *dom)
{
    char extra[512];
    snprintf(extra, sizeof(extra), "<test:fault op='%s' at='%s' action='%s'/>%s",
             op, at, action, rate ? rate : "");
    *dom = drvDefine(conn, name, 4096, extra);
    assert_int_equal(virDomainCreate(*dom), 0);
}

static void cleanupDomain(virDomainPtr dom)
{
    if (drvState(dom) == VIR_DOMAIN_RUNNING)
        assert_int_equal(virDomainDestroy(dom), 0);
    assert_int_equal(virDomainUndefine(dom), 0);
    virDomainFree(dom);
}

/* Save with a fault that ends the worker on its own. */
static void saveFault(const char *action, int wantCode, const char *wantMsg)
{
    char name[64], img[512];
    virDomainPtr dom;
    int code = 0;

    snprintf(name, sizeof(name), "f-%s", action);
    defineFault(name, "save", "50", action, NULL, &dom);
    drvPath(img, sizeof(img), name);
    virJobPtr job = virDomainSaveJob(dom, img);
    assert_non_null(job);
    assert_int_equal(drvWait(job, &code), VIR_JOB_FAILED);
    if (code != wantCode || !strstr(drvJobMessage(job), wantMsg))
        fail_msg("%s: error %d '%s', expected %d '%s'", action, code,
                 drvJobMessage(job), wantCode, wantMsg);
    virJobDestroy(job);
    assert_false(drvExists(img));
    assert_int_equal(drvState(dom), VIR_DOMAIN_RUNNING);

    /* The synchronous call reports the same error. */
    assert_int_equal(virDomainSave(dom, img), -1);
    assert_last_error(wantCode);
    assert_last_message_has(wantMsg);
    assert_false(drvExists(img));
    cleanupDomain(dom);
}

static void testSegv(void **state)
{
    (void)state;
    saveFault("segv", VIR_ERR_JOB_CRASHED, "signal 11");
}

static void testAbort(void **state)
{
    (void)state;
    saveFault("abort", VIR_ERR_JOB_CRASHED, "signal 6");
}

static void testExit(void **state)
{
    (void)state;
    saveFault("exit", VIR_ERR_JOB_NO_REPORT, "without reporting");
}

static void testGarbage(void **state)
{
    (void)state;
    saveFault("garbage", VIR_ERR_JOB_NO_REPORT, "without reporting");
}

/* A worker that hangs (ignores SIGTERM) is killed after the grace period
 * when cancelled: CANCELLED; the old file at the destination survives. */
static void testHang(void **state)
{
    (void)state;
    virDomainPtr dom;
    char img[512];
    virJobInfo info;
    static const char old[] = "previous image";

    defineFault("f-hang", "save", "50", "hang", NULL, &dom);
    drvPath(img, sizeof(img), "f-hang.img");
    drvWriteFile(img, old, sizeof(old));
    virJobPtr job = virDomainSaveJob(dom, img);
    assert_non_null(job);
    assert_true(TEST_WAIT_UNTIL(virJobGetInfo(job, &info) == 0 &&
                                info.percentComplete >= 50, TEST_TIMEOUT_MS));
    assert_int_equal(virJobCancel(job), 0);
    assert_int_equal(drvWait(job, NULL), VIR_JOB_CANCELLED);
    assert_non_null(strstr(drvJobMessage(job), "did not stop"));
    virJobDestroy(job);
    size_t len = 0;
    uint8_t *now = drvReadFile(img, &len);
    assert_int_equal(len, sizeof(old));
    assert_memory_equal(now, old, sizeof(old));
    free(now);
    assert_int_equal(drvState(dom), VIR_DOMAIN_RUNNING);

    /* Without a cancel, a deadline ends it: FAILED, timed out. */
    assert_int_equal(unlink(img), 0);
    job = virDomainSaveJob(dom, img);
    assert_int_equal(virJobSetDeadline(job, 500), 0);
    int code = 0;
    assert_int_equal(drvWait(job, &code), VIR_JOB_FAILED);
    assert_non_null(strstr(drvJobMessage(job), "timed out"));
    virJobDestroy(job);
    assert_false(drvExists(img));
    cleanupDomain(dom);
}

/* A worker that ignores cancellation keeps going; after the grace period
 * it is killed: CANCELLED. */
static void testIgnoreCancel(void **state)
{
    (void)state;
    virDomainPtr dom;
    char img[512];
    virJobInfo info;

    /* From a node description: the domain runs without a paced boot. */
    virConnectPtr c = drvOpenNode("f-ignore.xml",
        "<node><domain type='test' " TEST_NS "><name>f-ignore</name>"
        "<memory unit='MiB'>4</memory><test:fault op='save' at='0' "
        "action='ignore-cancel'/><test:rate bytes-per-second='262144'/>"
        "</domain></node>", "?grace=300");
    dom = virDomainLookupByName(c, "f-ignore");
    drvPath(img, sizeof(img), "f-ignore.img");
    virJobPtr job = virDomainSaveJob(dom, img);
    assert_non_null(job);
    assert_true(TEST_WAIT_UNTIL(virJobGetInfo(job, &info) == 0 &&
                                info.percentComplete > 0, TEST_TIMEOUT_MS));
    assert_int_equal(virJobCancel(job), 0);
    assert_int_equal(drvWait(job, NULL), VIR_JOB_CANCELLED);
    assert_non_null(strstr(drvJobMessage(job), "did not stop"));
    virJobDestroy(job);
    assert_false(drvExists(img));
    assert_int_equal(drvState(dom), VIR_DOMAIN_RUNNING);
    cleanupDomain(dom);
    assert_int_equal(virConnectClose(c), 0);
}

/* Faults on the other ops: restore, dump, create (start and CreateXML),
 * network create. Each fails and changes nothing. */
static void testOtherOps(void **state)
{
    (void)state;
    virDomainPtr dom;
    char img[512], core[512];
    int code = 0;

    /* restore: the fault travels in the image's definition. */
    defineFault("f-restore", "restore", "50", "segv", NULL, &dom);
    drvPath(img, sizeof(img), "f-restore.img");
    assert_int_equal(virDomainSave(dom, img), 0);
    virJobPtr job = virDomainRestoreJob(conn, img);
    assert_int_equal(drvWait(job, &code), VIR_JOB_FAILED);
    assert_int_equal(code, VIR_ERR_JOB_CRASHED);
    virJobDestroy(job);
    assert_int_equal(drvState(dom), VIR_DOMAIN_SHUTOFF);
    cleanupDomain(dom);

    /* dump */
    defineFault("f-dump", "dump", "30", "abort", NULL, &dom);
    drvPath(core, sizeof(core), "f-dump.core");
    assert_int_equal(virDomainCoreDump(dom, core, VIR_DUMP_CRASH), -1);
    assert_last_error(VIR_ERR_JOB_CRASHED);
    assert_false(drvExists(core));
    assert_int_equal(drvState(dom), VIR_DOMAIN_RUNNING);
    cleanupDomain(dom);

    /* start of a defined domain */
    dom = drvDefine(conn, "f-start", 2048,
                    "<test:fault op='create' at='50' action='exit'/>");
    assert_int_equal(virDomainCreate(dom), -1);
    assert_last_error(VIR_ERR_JOB_NO_REPORT);
    assert_int_equal(drvState(dom), VIR_DOMAIN_SHUTOFF);
    cleanupDomain(dom);

    /* CreateXML: no domain appears */
    assert_null(virDomainCreateXML(conn, "<domain type='test' " TEST_NS "><name>f-cx</name>"
                                   "<memory>2048</memory><test:fault op='create' at='10' "
                                   "action='segv'/></domain>", 0));
    assert_last_error(VIR_ERR_JOB_CRASHED);
    assert_null(virDomainLookupByName(conn, "f-cx"));

    /* network create */
    assert_null(virNetworkCreateXML(conn, "<network " TEST_NS "><name>f-net</name>"
                                    "<test:fault op='create' at='50' action='abort'/>"
                                    "</network>"));
    assert_last_error(VIR_ERR_JOB_CRASHED);
    assert_null(virNetworkLookupByName(conn, "f-net"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(testSegv),
        cmocka_unit_test(testAbort),
        cmocka_unit_test(testExit),
        cmocka_unit_test(testGarbage),
        cmocka_unit_test(testHang),
        cmocka_unit_test(testIgnoreCancel),
        cmocka_unit_test(testOtherOps),
    };
    drvNeedWorker();
    if (drvSetupRundir(NULL) < 0 || !(conn = virConnectOpen("test:///default?grace=300"))) {
        printf("cannot open test:///default: %s\n", virGetLastErrorMessage());
        return 1;
    }
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    if (virConnectClose(conn) != 0)
        rc = 1;
    drvTeardownRundir(NULL);
    return rc;
}
