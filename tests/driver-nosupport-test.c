/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * driver-nosupport-test.c: a driver that leaves slots empty. Every public
 * call that reaches a driver must then fail with VIR_ERR_NO_SUPPORT and
 * libvirt's message naming the call, change nothing and crash nothing;
 * calls that need no driver slot keep working. The connection is a real
 * test:///default one whose driver table is swapped for one that fills
 * only the connection's own slots.
 */
#include "drivertest.h"
#include "driver.h"

static virConnectDriver emptyDriver;

#define NOSUP(call, api) \
    do { \
        virResetLastError(); \
        if (!(call)) \
            fail_msg("%s did not fail", api); \
        assert_last_error(VIR_ERR_NO_SUPPORT); \
        if (strcmp(virGetLastErrorMessage(), \
                   "this function is not supported by the connection driver: " api)) \
            fail_msg("%s: message '%s'", api, virGetLastErrorMessage()); \
    } while (0)

/* Each call returns NULL or -1: checked by NOSUP's callers through these. */
#define IS_NULL(x) ((x) == NULL)
#define IS_NEG(x) ((x) == -1)

static void testEmptySlots(void **state)
{
    (void)state;
    drvNeedWorker();
    virConnectPtr conn = virConnectOpen("test:///default");
    assert_non_null(conn);
    virDomainPtr dom = virDomainLookupByName(conn, "test");
    virNetworkPtr net = virNetworkLookupByName(conn, "default");
    assert_non_null(dom);
    assert_non_null(net);

    emptyDriver.name = "empty";
    emptyDriver.connectOpen = conn->driver->connectOpen;
    emptyDriver.connectClose = conn->driver->connectClose;
    emptyDriver.connectFree = conn->driver->connectFree;
    const virConnectDriver *saved = conn->driver;
    conn->driver = &emptyDriver;

    virDomainPtr *doms = NULL;
    virNetworkPtr *nets = NULL;
    virDomainInfo info;
    virDomainJobInfo jinfo;
    int st = 0, reason = 0;
    char path[256];
    drvPath(path, sizeof(path), "nosup.img");

    NOSUP(IS_NEG(virConnectListAllDomains(conn, &doms, 0)), "virConnectListAllDomains");
    NOSUP(IS_NULL(virDomainLookupByName(conn, "test")), "virDomainLookupByName");
    NOSUP(IS_NULL(virDomainLookupByUUIDString(conn, "6695eb01-f6a4-8304-79aa-97f2502e193f")),
          "virDomainLookupByUUIDString");
    NOSUP(IS_NEG(virDomainGetInfo(dom, &info)), "virDomainGetInfo");
    NOSUP(IS_NEG(virDomainGetState(dom, &st, &reason, 0)), "virDomainGetState");
    NOSUP(IS_NULL(virDomainGetXMLDesc(dom, 0)), "virDomainGetXMLDesc");
    NOSUP(IS_NULL(virDomainDefineXML(conn, "<domain/>")), "virDomainDefineXML");
    NOSUP(IS_NEG(virDomainUndefine(dom)), "virDomainUndefine");
    NOSUP(IS_NEG(virDomainDestroy(dom)), "virDomainDestroy");
    NOSUP(IS_NEG(virDomainGetJobInfo(dom, &jinfo)), "virDomainGetJobInfo");
    NOSUP(IS_NEG(virDomainAbortJob(dom)), "virDomainAbortJob");
    NOSUP(IS_NULL(virDomainCreateLinuxJob(conn, "<domain/>", 0)), "virDomainCreateLinuxJob");
    NOSUP(IS_NULL(virDomainCreateXML(conn, "<domain/>", 0)), "virDomainCreateXML");
    NOSUP(IS_NULL(virDomainCreateJob(dom, 0)), "virDomainCreateJob");
    NOSUP(IS_NULL(virDomainSaveJob(dom, path)), "virDomainSaveJob");
    NOSUP(IS_NULL(virDomainRestoreJob(conn, path)), "virDomainRestoreJob");
    NOSUP(IS_NULL(virDomainDumpCoreJob(dom, path, 0)), "virDomainDumpCoreJob");
    /* The synchronous forms report the job call they are made of. */
    NOSUP(IS_NEG(virDomainSave(dom, path)), "virDomainSaveJob");
    NOSUP(IS_NEG(virDomainCreate(dom)), "virDomainCreateJob");
    NOSUP(IS_NEG(virConnectListAllNetworks(conn, &nets, 0)), "virConnectListAllNetworks");
    NOSUP(IS_NULL(virNetworkLookupByName(conn, "default")), "virNetworkLookupByName");
    NOSUP(IS_NULL(virNetworkDefineXML(conn, "<network/>")), "virNetworkDefineXML");
    NOSUP(IS_NEG(virNetworkUndefine(net)), "virNetworkUndefine");
    NOSUP(IS_NEG(virNetworkDestroy(net)), "virNetworkDestroy");
    NOSUP(IS_NULL(virNetworkGetXMLDesc(net, 0)), "virNetworkGetXMLDesc");
    NOSUP(IS_NEG(virNetworkIsActive(net)), "virNetworkIsActive");
    NOSUP(IS_NULL(virNetworkCreateJob(net)), "virNetworkCreateJob");
    NOSUP(IS_NULL(virNetworkCreateXMLJob(conn, "<network/>")), "virNetworkCreateXMLJob");
    NOSUP(IS_NEG(virNetworkCreate(net)), "virNetworkCreateJob");
    assert_null(doms);
    assert_null(nets);
    /* Nothing was created: no image. */
    assert_int_equal(access(path, F_OK), -1);

    /* Calls that need no driver slot still work. */
    assert_string_equal(virDomainGetName(dom), "test");
    assert_string_equal(virNetworkGetName(net), "default");
    assert_int_equal(virConnectIsReadOnly(conn), 0);

    /* The full driver again: nothing changed behind the empty one. */
    conn->driver = saved;
    assert_int_equal(virDomainGetState(dom, &st, &reason, 0), 0);
    assert_int_equal(st, VIR_DOMAIN_RUNNING);
    assert_int_equal(virNetworkIsActive(net), 1);
    virDomainFree(dom);
    virNetworkFree(net);
    assert_int_equal(virConnectClose(conn), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(testEmptySlots),
    };
    return cmocka_run_group_tests(tests, drvSetupRundir, drvTeardownRundir);
}
