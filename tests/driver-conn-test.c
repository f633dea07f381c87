/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * driver-conn-test.c: connections, URIs, node descriptions, domain and
 * network handles and their synchronous calls that need no job, bad input.
 */
#include <sys/stat.h>
#include "drivertest.h"
#include "uri.h"
#include "driver.h"
#include "drivers/test/test_driver.h"
#include "util/viralloc.h"

static void testURIParse(void **state)
{
    (void)state;
    virURI *u = virURIParse("test:///default?bandwidth=64&grace=250&max_workers=3"
                            "&stall=1000&stall_cancel=1&rlimit_as=1073741824"
                            "&rlimit_cpu=10&rlimit_nofile=64&rlimit_fsize=4096");
    virConnectConfig cfg;

    assert_non_null(u);
    assert_string_equal(u->scheme, "test");
    assert_string_equal(u->path, "/default");
    assert_int_equal(u->nparams, 9);
    /* bandwidth is the test driver's own: an error unless the driver
     * names it, and then left for the driver to read. */
    assert_int_equal(virURIToConfig(u, NULL, &cfg), -1);
    assert_last_error(VIR_ERR_INVALID_ARG);
    assert_last_message_has("unknown parameter 'bandwidth'");
    assert_int_equal(virURIToConfig(u, testConnectDriver.uriParams, &cfg), 0);
    unsigned long long bw = 0;
    assert_int_equal(virURIGetNumber(u, "bandwidth", 1024, &bw), 1);
    assert_int_equal(bw, 64);
    assert_int_equal(virURIGetNumber(u, "bandwidth", 10, &bw), -1);
    assert_last_message_has("bandwidth='64'");
    assert_int_equal(virURIGetNumber(u, "nosuch", 10, &bw), 0);
    assert_null(virURIGetParam(u, "nosuch"));
    assert_string_equal(virURIGetParam(u, "grace"), "250");
    assert_int_equal(cfg.group.grace_ms, 250);
    assert_int_equal(cfg.group.max_workers, 3);
    assert_int_equal(cfg.group.stall_ms, 1000);
    assert_true(cfg.group.stall_cancel);
    assert_int_equal(cfg.group.rlimit_as, 1073741824ull);
    assert_int_equal(cfg.group.rlimit_cpu, 10);
    assert_int_equal(cfg.group.rlimit_nofile, 64);
    assert_int_equal(cfg.group.rlimit_fsize, 4096);
    virURIFree(u);

    /* Percent escapes in the path. */
    u = virURIParse("test:///tmp/a%20b.xml");
    assert_non_null(u);
    assert_string_equal(u->path, "/tmp/a b.xml");
    virURIFree(u);

    static const char *const bad[] = {
        "", "test", "://x", "test://host/default", "test:///default#frag",
        "test:///a%zz", "test:///a%00b", "test:///x?novalue", "test:///x?=1",
        "test:///x?a=1&a=2", "te st:///x", "test:///déjà",
    };
    for (size_t i = 0; i < ARRAY_CARDINALITY(bad); i++) {
        u = virURIParse(bad[i]);
        if (u)
            fail_msg("URI '%s' was accepted", bad[i]);
        assert_last_error(VIR_ERR_INVALID_ARG);
    }

    static const char *const badParams[] = {
        "test:///default?bogus=1", "test:///default?grace=-1", "test:///default?grace=1x",
        "test:///default?grace=99999999999999999999", "test:///default?max_workers=0",
        "test:///default?stall_cancel=2", "test:///default?bandwidth=",
        "test:///default?worker_user=no-such-user-here",
        "test:///default?bandwidth=99999999999",
    };
    for (size_t i = 0; i < ARRAY_CARDINALITY(badParams); i++) {
        u = virURIParse(badParams[i]);
        assert_non_null(u);
        if (virURIToConfig(u, NULL, &cfg) == 0)
            fail_msg("URI '%s' was accepted", badParams[i]);
        assert_int_not_equal(drvLastCode(), 0);
        virURIFree(u);
        /* The same through the driver, which reads its own parameters. */
        if (virConnectOpen(badParams[i]))
            fail_msg("virConnectOpen('%s') succeeded", badParams[i]);
        assert_int_not_equal(drvLastCode(), 0);
    }

    if (geteuid() == 0) {
        u = virURIParse("test:///default?worker_user=nobody");
        assert_non_null(u);
        assert_int_equal(virURIToConfig(u, NULL, &cfg), 0);
        assert_true(cfg.group.set_ids);
        assert_int_not_equal(cfg.group.uid, 0);
        virURIFree(u);
    }
}

static void testOpenDefault(void **state)
{
    (void)state;
    virConnectPtr conn = virConnectOpen(NULL);
    virDomainPtr *doms = NULL;
    virNetworkPtr *nets = NULL;
    virDomainInfo info;
    char uuid[VIR_UUID_STRING_BUFLEN];
    char *s;
    int reason = -1;

    assert_non_null(conn);
    s = virConnectGetURI(conn);
    assert_string_equal(s, "test:///default");
    free(s);
    assert_int_equal(virConnectIsReadOnly(conn), 0);

    assert_int_equal(virConnectListAllDomains(conn, &doms, 0), 1);
    assert_string_equal(virDomainGetName(doms[0]), "test");
    assert_int_equal(virDomainGetUUIDString(doms[0], uuid), 0);
    assert_string_equal(uuid, "6695eb01-f6a4-8304-79aa-97f2502e193f");
    assert_int_equal(virDomainGetInfo(doms[0], &info), 0);
    assert_int_equal(info.state, VIR_DOMAIN_RUNNING);
    /* libvirt 9's test driver: 8 GiB, 2 GiB of it current. */
    assert_int_equal(info.maxMem, 8388608);
    assert_int_equal(info.memory, 2097152);
    assert_int_equal(info.nrVirtCpu, 2);
    int st = -1;
    assert_int_equal(virDomainGetState(doms[0], &st, &reason, 0), 0);
    assert_int_equal(st, VIR_DOMAIN_RUNNING);
    assert_int_equal(reason, 1);
    assert_ptr_equal(virDomainGetConnect(doms[0]), conn);
    s = virDomainGetXMLDesc(doms[0], 0);
    assert_non_null(s);
    assert_non_null(strstr(s, "<domain type='test' id='1'>"));     /* running: its ID, as libvirt */
    {
        /* Its definition, as libvirt's --inactive: no ID, the same body. */
        char *in = virDomainGetXMLDesc(doms[0], VIR_DOMAIN_XML_INACTIVE | VIR_DOMAIN_XML_SECURE);
        assert_non_null(in);
        assert_non_null(strstr(in, "<domain type='test'>"));
        assert_string_equal(strchr(in, '>'), strchr(s, '>'));
        free(in);
    }
    assert_non_null(strstr(s, "<name>test</name>"));
    assert_non_null(strstr(s, "<memory unit='KiB'>8388608</memory>\n"
                              "  <currentMemory unit='KiB'>2097152</currentMemory>\n"));
    assert_non_null(strstr(s, "<vcpu placement='static'>2</vcpu>"));
    assert_non_null(strstr(s, "<type arch='i686'>hvm</type>"));
    free(s);
    virDomainFree(doms[0]);
    free(doms);

    /* Lookups. */
    virDomainPtr d = virDomainLookupByUUIDString(conn, "6695EB01F6A4830479AA97F2502E193F");
    assert_non_null(d);
    assert_string_equal(virDomainGetName(d), "test");
    virDomainFree(d);
    assert_null(virDomainLookupByName(conn, "nosuch"));
    assert_last_error(VIR_ERR_NO_DOMAIN);
    assert_null(virDomainLookupByUUIDString(conn, "6695eb01-f6a4-8304-79aa-97f2502e193e"));
    assert_last_error(VIR_ERR_NO_DOMAIN);
    assert_null(virDomainLookupByUUIDString(conn, "not-a-uuid"));
    assert_last_error(VIR_ERR_INVALID_ARG);

    assert_int_equal(virConnectListAllNetworks(conn, &nets, 0), 1);
    assert_string_equal(virNetworkGetName(nets[0]), "default");
    assert_int_equal(virNetworkIsActive(nets[0]), 1);
    assert_int_equal(virNetworkGetUUIDString(nets[0], uuid), 0);
    assert_string_equal(uuid, "dd8fe884-6c02-601e-7551-cca97df1c5df");
    s = virNetworkGetXMLDesc(nets[0], 0);
    assert_non_null(strstr(s, "<name>default</name>"));
    assert_non_null(strstr(s, "<bridge name='virbr0' stp='on' delay='0'/>"));   /* libvirt's */
    assert_non_null(strstr(s, "<ip address='192.168.122.1' netmask='255.255.255.0'>"));
    assert_non_null(strstr(s, "<range start='192.168.122.2' end='192.168.122.254'/>"));
    assert_non_null(strstr(s, "<forward mode='nat'/>"));
    free(s);
    virNetworkFree(nets[0]);
    free(nets);
    assert_null(virNetworkLookupByName(conn, "nosuch"));
    assert_last_error(VIR_ERR_NO_NETWORK);

    assert_int_equal(virConnectClose(conn), 0);
}

static void testOpenErrors(void **state)
{
    (void)state;
    char path[512];

    assert_null(virConnectOpen("xen:///"));
    assert_last_error(VIR_ERR_NO_SUPPORT);
    assert_null(virConnectOpen("test:///default?bogus=1"));
    assert_last_error(VIR_ERR_INVALID_ARG);
    assert_last_message_has("bogus");
    assert_null(virConnectOpen("test://host/default"));
    assert_last_error(VIR_ERR_INVALID_ARG);
    assert_null(virConnectOpen("test:///"));
    assert_last_error(VIR_ERR_INVALID_ARG);
    assert_null(virConnectOpen("test:///no/such/node.xml"));
    assert_last_error(VIR_ERR_SYSTEM_ERROR);
    assert_null(virConnectOpen(drvPath(path, sizeof(path), "")));
    assert_int_not_equal(drvLastCode(), 0);
}

/* test:///default is one node per process, as libvirt's: what one
 * connection changes, another sees; the last close forgets it. A node
 * description is each connection's own. */
static void testSharedDefaultNode(void **state)
{
    (void)state;
    virConnectPtr a = virConnectOpen("test:///default");
    virConnectPtr b = virConnectOpen("test:///default");
    virDomainPtr da = virDomainLookupByName(a, "test");
    virDomainPtr db = virDomainLookupByName(b, "test");

    assert_int_equal(virDomainGetID(da), 1);
    assert_int_equal(virDomainDestroy(da), 0);
    assert_int_equal(drvState(db), VIR_DOMAIN_SHUTOFF);
    assert_int_equal((int)virDomainGetID(db), -1);
    virDomainFree(da);
    virDomainFree(db);
    assert_int_equal(virConnectClose(a), 0);
    /* b still holds the node: a new connection sees the domain shut off. */
    a = virConnectOpen("test:///default");
    da = virDomainLookupByName(a, "test");
    assert_int_equal(drvState(da), VIR_DOMAIN_SHUTOFF);
    virDomainFree(da);
    assert_int_equal(virConnectClose(a), 0);
    assert_int_equal(virConnectClose(b), 0);
    /* Nobody holds it any more: a fresh node. */
    a = virConnectOpen("test:///default");
    da = virDomainLookupByName(a, "test");
    assert_int_equal(drvState(da), VIR_DOMAIN_RUNNING);
    assert_int_equal(virDomainGetID(da), 1);
    virDomainFree(da);
    assert_int_equal(virConnectClose(a), 0);

    const char *xml = "<node><domain type='test'><name>n1</name>"
                      "<memory unit='MiB'>8</memory></domain></node>";
    virConnectPtr p = drvOpenNode("shared-node.xml", xml, "");
    virConnectPtr q = drvOpenNode("shared-node.xml", xml, "");
    virDomainPtr dp = virDomainLookupByName(p, "n1");
    virDomainPtr dq = virDomainLookupByName(q, "n1");
    assert_int_equal(virDomainDestroy(dp), 0);
    assert_int_equal(drvState(dq), VIR_DOMAIN_RUNNING);
    virDomainFree(dp);
    virDomainFree(dq);
    assert_int_equal(virConnectClose(p), 0);
    assert_int_equal(virConnectClose(q), 0);
}

/* IDs, suspend/resume/shutdown/reboot, libvirt's states and reasons. */
static void testDomainLifecycleCalls(void **state)
{
    (void)state;
    virConnectPtr conn = virConnectOpen("test:///default");
    virDomainPtr dom = virDomainLookupByName(conn, "test");
    int ids[4], st, reason;
    char *names[4];

    assert_int_equal(virConnectNumOfDomains(conn), 1);
    assert_int_equal(virConnectNumOfDefinedDomains(conn), 0);
    assert_int_equal(virConnectListDomains(conn, ids, 4), 1);
    assert_int_equal(ids[0], 1);
    assert_int_equal(virConnectListDomains(conn, NULL, 4), -1);
    assert_last_error(VIR_ERR_INVALID_ARG);
    assert_int_equal(virConnectListDomains(conn, ids, -1), -1);
    assert_last_error(VIR_ERR_INVALID_ARG);
    virDomainPtr byid = virDomainLookupByID(conn, 1);
    assert_non_null(byid);
    assert_string_equal(virDomainGetName(byid), "test");
    virDomainFree(byid);
    assert_null(virDomainLookupByID(conn, 99));
    assert_last_error(VIR_ERR_NO_DOMAIN);
    assert_int_equal(virDomainIsActive(dom), 1);
    assert_int_equal(virDomainIsPersistent(dom), 1);
    char *os = virDomainGetOSType(dom);
    assert_string_equal(os, "hvm");
    free(os);

    assert_int_equal(virDomainResume(dom), -1);
    assert_last_error(VIR_ERR_OPERATION_INVALID);
    assert_int_equal(virDomainSuspend(dom), 0);
    assert_int_equal(virDomainGetState(dom, &st, &reason, 0), 0);
    assert_int_equal(st, VIR_DOMAIN_PAUSED);
    assert_int_equal(reason, VIR_DOMAIN_PAUSED_USER);
    assert_int_equal(virDomainSuspend(dom), -1);
    assert_last_error(VIR_ERR_OPERATION_INVALID);
    assert_int_equal(virDomainResume(dom), 0);
    assert_int_equal(virDomainGetState(dom, &st, &reason, 0), 0);
    assert_int_equal(st, VIR_DOMAIN_RUNNING);
    assert_int_equal(reason, VIR_DOMAIN_RUNNING_UNPAUSED);

    assert_int_equal(virDomainReboot(dom, 0), 0);
    assert_int_equal(virDomainGetID(dom), 1);
    assert_int_equal(virDomainReboot(dom, 1u << 8), -1);
    assert_last_error(VIR_ERR_INVALID_ARG);
    assert_int_equal(virDomainShutdown(dom), 0);
    assert_int_equal(virDomainGetState(dom, &st, &reason, 0), 0);
    assert_int_equal(st, VIR_DOMAIN_SHUTOFF);
    assert_int_equal(reason, VIR_DOMAIN_SHUTOFF_SHUTDOWN);
    assert_int_equal(virDomainIsActive(dom), 0);
    assert_int_equal((int)virDomainGetID(dom), -1);
    assert_int_equal(virDomainShutdown(dom), -1);
    assert_last_error(VIR_ERR_OPERATION_INVALID);
    assert_int_equal(virConnectNumOfDomains(conn), 0);
    assert_int_equal(virConnectListDefinedDomains(conn, names, 4), 1);
    assert_string_equal(names[0], "test");
    free(names[0]);

    /* Each start takes the next ID, as libvirt's test driver does. */
    assert_int_equal(virDomainCreateWithFlags(dom, 0), 0);
    assert_int_equal(virDomainGetID(dom), 2);
    assert_int_equal(virDomainCreateWithFlags(dom, 1), -1);
    assert_last_error(VIR_ERR_INVALID_ARG);
    assert_int_equal(virDomainDestroyFlags(dom, 0), 0);
    assert_int_equal(virDomainCreate(dom), 0);
    assert_int_equal(virDomainGetID(dom), 3);
    virDomainFree(dom);
    assert_int_equal(virConnectClose(conn), 0);
}

static void testLifecycleSync(void **state)
{
    (void)state;
    virConnectPtr conn = virConnectOpen("test:///default");
    virDomainPtr dom = virDomainLookupByName(conn, "test");
    virDomainPtr *doms;
    virNetworkPtr net = virNetworkLookupByName(conn, "default");
    virNetworkPtr *nets;

    assert_int_equal(virConnectListAllDomains(conn, &doms, VIR_CONNECT_LIST_DOMAINS_INACTIVE), 0);
    free(doms);
    assert_int_equal(virDomainDestroy(dom), 0);
    assert_int_equal(virDomainDestroy(dom), -1);
    assert_last_error(VIR_ERR_OPERATION_INVALID);
    assert_int_equal(virConnectListAllDomains(conn, &doms, VIR_CONNECT_LIST_DOMAINS_ACTIVE), 0);
    free(doms);
    assert_int_equal(virConnectListAllDomains(conn, &doms,
                                              VIR_CONNECT_LIST_DOMAINS_SHUTOFF |
                                              VIR_CONNECT_LIST_DOMAINS_PERSISTENT), 1);
    virDomainFree(doms[0]);
    free(doms);
    assert_int_equal(virConnectListAllDomains(conn, &doms, VIR_CONNECT_LIST_DOMAINS_TRANSIENT), 0);
    free(doms);
    assert_int_equal(virConnectListAllDomains(conn, &doms, 1u << 20), -1);
    assert_last_error(VIR_ERR_INVALID_ARG);

    assert_int_equal(virDomainUndefine(dom), 0);
    assert_int_equal(virDomainGetState(dom, &(int){ 0 }, NULL, 0), -1);
    assert_last_error(VIR_ERR_NO_DOMAIN);
    assert_int_equal(virConnectListAllDomains(conn, &doms, 0), 0);
    free(doms);
    virDomainFree(dom);

    assert_int_equal(virNetworkDestroy(net), 0);
    assert_int_equal(virNetworkIsActive(net), 0);
    assert_int_equal(virNetworkDestroy(net), -1);
    assert_last_error(VIR_ERR_OPERATION_INVALID);
    assert_int_equal(virConnectListAllNetworks(conn, &nets, VIR_CONNECT_LIST_NETWORKS_ACTIVE), 0);
    free(nets);
    assert_int_equal(virNetworkUndefine(net), 0);
    assert_int_equal(virNetworkIsActive(net), -1);
    assert_last_error(VIR_ERR_NO_NETWORK);
    virNetworkFree(net);
    assert_int_equal(virConnectClose(conn), 0);
}

static void testBadArguments(void **state)
{
    (void)state;
    virConnectPtr conn = virConnectOpen("test:///default");
    virDomainPtr dom = virDomainLookupByName(conn, "test");
    virNetworkPtr net = virNetworkLookupByName(conn, "default");
    struct { uint32_t magic; char junk[256]; } fake = { 0x12345678, { 0 } };
    virDomainPtr fakeDom = (virDomainPtr)(void *)&fake;
    virConnectPtr fakeConn = (virConnectPtr)(void *)&fake;
    virNetworkPtr fakeNet = (virNetworkPtr)(void *)&fake;
    virDomainInfo info;
    char buf[VIR_UUID_STRING_BUFLEN];

    /* NULL and foreign handles. */
    assert_int_equal(virConnectClose(NULL), -1);
    assert_last_error(VIR_ERR_INVALID_CONN);
    assert_int_equal(virConnectClose(fakeConn), -1);
    assert_last_error(VIR_ERR_INVALID_CONN);
    assert_null(virConnectGetURI(fakeConn));
    assert_null(virDomainGetName(NULL));
    assert_last_error(VIR_ERR_INVALID_DOMAIN);
    assert_int_equal(virDomainGetInfo(fakeDom, &info), -1);
    assert_last_error(VIR_ERR_INVALID_DOMAIN);
    assert_int_equal(virDomainFree(fakeDom), -1);
    assert_last_error(VIR_ERR_INVALID_DOMAIN);
    assert_null(virDomainSaveJob(fakeDom, "/tmp/x"));
    assert_last_error(VIR_ERR_INVALID_DOMAIN);
    assert_null(virNetworkGetName(fakeNet));
    assert_last_error(VIR_ERR_INVALID_NETWORK);
    assert_int_equal(virNetworkFree(NULL), -1);
    assert_last_error(VIR_ERR_INVALID_NETWORK);

    /* NULL arguments. */
    assert_int_equal(virDomainGetInfo(dom, NULL), -1);
    assert_last_error(VIR_ERR_INVALID_ARG);
    assert_int_equal(virDomainGetUUIDString(dom, NULL), -1);
    assert_last_error(VIR_ERR_INVALID_ARG);
    assert_int_equal(virNetworkGetUUIDString(net, NULL), -1);
    assert_last_error(VIR_ERR_INVALID_ARG);
    assert_int_equal(virDomainGetState(dom, NULL, NULL, 0), -1);
    assert_last_error(VIR_ERR_INVALID_ARG);
    assert_int_equal(virConnectListAllDomains(conn, NULL, 0), 1);   /* the count, as libvirt */
    assert_null(virDomainLookupByName(conn, NULL));
    assert_last_error(VIR_ERR_INVALID_ARG);
    assert_null(virDomainDefineXML(conn, NULL));
    assert_last_error(VIR_ERR_INVALID_ARG);
    assert_null(virDomainSaveJob(dom, NULL));
    assert_last_error(VIR_ERR_INVALID_ARG);
    assert_null(virDomainRestoreJob(conn, NULL));
    assert_last_error(VIR_ERR_INVALID_ARG);
    assert_null(virDomainDumpCoreJob(dom, NULL, 0));
    assert_last_error(VIR_ERR_INVALID_ARG);
    assert_null(virDomainCreateLinuxJob(conn, NULL, 0));
    assert_last_error(VIR_ERR_INVALID_ARG);
    assert_null(virNetworkCreateXMLJob(conn, NULL));
    assert_last_error(VIR_ERR_INVALID_ARG);

    /* Wrong flags. */
    assert_null(virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_UPDATE_CPU));
    assert_last_error(VIR_ERR_INVALID_ARG);
    assert_null(virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_MIGRATABLE));
    assert_last_error(VIR_ERR_INVALID_ARG);
    assert_int_equal(virDomainGetState(dom, &(int){ 0 }, NULL, 4), -1);
    assert_last_error(VIR_ERR_INVALID_ARG);
    assert_null(virDomainDumpCoreJob(dom, "/tmp/x", VIR_DUMP_MEMORY_ONLY));
    assert_last_error(VIR_ERR_INVALID_ARG);
    assert_null(virDomainDumpCoreJob(dom, "/tmp/x", -1));
    assert_last_error(VIR_ERR_INVALID_ARG);
    assert_null(virDomainCreateJob(dom, 1));
    assert_last_error(VIR_ERR_INVALID_ARG);
    assert_null(virDomainCreateLinuxJob(conn, "<domain/>", 8));
    assert_last_error(VIR_ERR_INVALID_ARG);
    assert_null(virNetworkGetXMLDesc(net, 2));
    assert_last_error(VIR_ERR_INVALID_ARG);
    char *netxml = virNetworkGetXMLDesc(net, VIR_NETWORK_XML_INACTIVE);
    assert_non_null(netxml);
    free(netxml);

    /* State checks: start needs a shut-off domain, no abort without a job. */
    assert_null(virDomainCreateJob(dom, 0));
    assert_last_error(VIR_ERR_OPERATION_INVALID);
    assert_int_equal(virDomainAbortJob(dom), -1);
    assert_last_error(VIR_ERR_OPERATION_INVALID);
    virDomainJobInfo ji;
    assert_int_equal(virDomainGetJobInfo(dom, &ji), 0);
    assert_int_equal(ji.type, VIR_DOMAIN_JOB_NONE);
    assert_null(virNetworkCreateJob(net));
    assert_last_error(VIR_ERR_OPERATION_INVALID);

    /* Handles of a closed connection: a clear error, and still freeable.
     * As libvirt, close counts what is still held: here one open reference
     * and the two handles (dom, net), then the two handles. */
    assert_int_equal(virConnectRef(conn), 0);
    assert_int_equal(virConnectClose(conn), 3);
    assert_int_equal(virConnectClose(conn), 2);
    assert_int_equal(virDomainGetInfo(dom, &info), -1);
    assert_last_error(VIR_ERR_INVALID_CONN);
    assert_last_message_has("closed");
    assert_null(virDomainSaveJob(dom, "/tmp/x"));
    assert_last_error(VIR_ERR_INVALID_CONN);
    assert_int_equal(virDomainGetUUIDString(dom, buf), -1);
    assert_last_error(VIR_ERR_INVALID_CONN);
    assert_int_equal(virNetworkIsActive(net), -1);
    assert_last_error(VIR_ERR_INVALID_CONN);
    assert_null(virConnectGetURI(conn));      /* memory still held by dom */
    assert_last_error(VIR_ERR_INVALID_CONN);
    assert_int_equal(virConnectClose(conn), -1);
    assert_last_error(VIR_ERR_INVALID_CONN);
    assert_int_equal(virDomainFree(dom), 0);
    assert_int_equal(virNetworkFree(net), 0);
}

static void testReadOnly(void **state)
{
    (void)state;
    virConnectPtr conn = virConnectOpenReadOnly("test:///default");
    virDomainPtr dom = virDomainLookupByName(conn, "test");
    virNetworkPtr net = virNetworkLookupByName(conn, "default");
    virDomainPtr *doms;
    char path[512];

    assert_int_equal(virConnectIsReadOnly(conn), 1);
    assert_int_equal(virConnectListAllDomains(conn, &doms, 0), 1);
    virDomainFree(doms[0]);
    free(doms);
    drvPath(path, sizeof(path), "ro.img");
    assert_null(virDomainSaveJob(dom, path));
    assert_last_error(VIR_ERR_OPERATION_DENIED);
    assert_false(drvExists(path));
    assert_int_equal(virDomainSave(dom, path), -1);
    assert_last_error(VIR_ERR_OPERATION_DENIED);
    assert_null(virDomainDumpCoreJob(dom, path, 0));
    assert_last_error(VIR_ERR_OPERATION_DENIED);
    assert_null(virDomainRestoreJob(conn, path));
    assert_last_error(VIR_ERR_OPERATION_DENIED);
    assert_int_equal(virDomainDestroy(dom), -1);
    assert_last_error(VIR_ERR_OPERATION_DENIED);
    assert_int_equal(virDomainUndefine(dom), -1);
    assert_last_error(VIR_ERR_OPERATION_DENIED);
    assert_int_equal(virDomainAbortJob(dom), -1);
    assert_last_error(VIR_ERR_OPERATION_DENIED);
    assert_null(virDomainDefineXML(conn, "<domain/>"));
    assert_last_error(VIR_ERR_OPERATION_DENIED);
    assert_null(virDomainCreateXML(conn, "<domain/>", 0));
    assert_last_error(VIR_ERR_OPERATION_DENIED);
    assert_null(virDomainCreateLinuxJob(conn, "<domain/>", 0));
    assert_last_error(VIR_ERR_OPERATION_DENIED);
    assert_null(virDomainCreateJob(dom, 0));
    assert_last_error(VIR_ERR_OPERATION_DENIED);
    assert_null(virNetworkCreateXMLJob(conn, "<network/>"));
    assert_last_error(VIR_ERR_OPERATION_DENIED);
    assert_null(virNetworkCreateJob(net));
    assert_last_error(VIR_ERR_OPERATION_DENIED);
    assert_int_equal(virNetworkDestroy(net), -1);
    assert_last_error(VIR_ERR_OPERATION_DENIED);
    assert_int_equal(drvState(dom), VIR_DOMAIN_RUNNING);
    virDomainFree(dom);
    virNetworkFree(net);
    assert_int_equal(virConnectClose(conn), 0);
}

/* ---- node descriptions ---- */

static char *nodeURI(const char *name, const char *content, char *uri, size_t len)
{
    char path[512];
    drvPath(path, sizeof(path), name);
    drvWriteFile(path, content, strlen(content));
    snprintf(uri, len, "test://%s", path);
    return uri;
}

static void testNodeFile(void **state)
{
    (void)state;
    char uri[600], path[512];
    virConnectPtr conn;
    virDomainPtr *doms;
    virNetworkPtr *nets;
    virDomainPtr dom;
    virDomainInfo info;
    char *xml;

    drvPath(path, sizeof(path), "dom2.xml");
    static const char dom2[] =
        "<domain type='test'>\n  <name>two</name>\n"
        "  <uuid>11111111-2222-3333-4444-555555555555</uuid>\n"
        "  <memory unit='MiB'>8</memory><currentMemory unit='MiB'>6</currentMemory>"
        "<vcpu>3</vcpu>\n"
        "  <os><type>linux</type></os>\n</domain>\n";
    drvWriteFile(path, dom2, strlen(dom2));
    conn = virConnectOpen(nodeURI("node.xml",
        "<?xml version='1.0'?>\n"
        "<node>\n"
        "  <!-- a comment -->\n"
        "  <domain type='test' " TEST_NS ">\n"
        "    <name>one</name>\n"
        "    <memory>4096</memory>\n"
        "    <test:fault op='save,dump' at='40' action='segv'/>\n"
        "    <test:rate bytes-per-second='1048576'/>\n"
        "  </domain>\n"
        "  <domain file='dom2.xml'/>\n"
        "  <network><name>lan</name><bridge name='br1'/>"
        "<ip address='10.0.0.1' prefix='8'/></network>\n"
        "</node>\n", uri, sizeof(uri)));
    if (!conn)
        fail_msg("open %s: %s", uri, virGetLastErrorMessage());
    assert_int_equal(virConnectListAllDomains(conn, &doms, VIR_CONNECT_LIST_DOMAINS_RUNNING), 2);
    virDomainFree(doms[0]);
    virDomainFree(doms[1]);
    free(doms);

    dom = virDomainLookupByName(conn, "one");
    assert_non_null(dom);
    assert_int_equal(virDomainGetInfo(dom, &info), 0);
    assert_int_equal(info.memory, 4096);
    assert_int_equal(info.nrVirtCpu, 1);
    xml = virDomainGetXMLDesc(dom, 0);
    assert_non_null(strstr(xml, "<test:fault op='save,dump' at='40' action='segv'/>"));
    assert_non_null(strstr(xml, "<test:rate bytes-per-second='1048576'/>"));
    assert_non_null(strstr(xml, TEST_NS));
    free(xml);
    virDomainFree(dom);

    dom = virDomainLookupByUUIDString(conn, "11111111-2222-3333-4444-555555555555");
    assert_non_null(dom);
    assert_string_equal(virDomainGetName(dom), "two");
    assert_int_equal(virDomainGetInfo(dom, &info), 0);
    assert_int_equal(info.maxMem, 8192);
    assert_int_equal(info.memory, 6144);      /* <currentMemory> */
    assert_int_equal(info.nrVirtCpu, 3);
    xml = virDomainGetXMLDesc(dom, 0);
    assert_non_null(strstr(xml, "<type>linux</type>"));
    assert_non_null(strstr(xml, "<memory unit='KiB'>8192</memory>\n"
                                "  <currentMemory unit='KiB'>6144</currentMemory>\n"));
    free(xml);
    virDomainFree(dom);

    assert_int_equal(virConnectListAllNetworks(conn, &nets, 0), 1);
    xml = virNetworkGetXMLDesc(nets[0], 0);
    assert_non_null(strstr(xml, "<ip address='10.0.0.1' prefix='8'/>"));
    assert_null(strstr(xml, "<forward"));
    free(xml);
    virNetworkFree(nets[0]);
    free(nets);
    assert_int_equal(virConnectClose(conn), 0);
}

static void testNodeFileBad(void **state)
{
    (void)state;
    static const struct { const char *name, *xml, *msg; } cases[] = {
        /* The messages are those of the XML given to the API (one
         * parser per grammar), after the file they came from. */
        { "malformed", "<node><domain>", "bad-malformed.xml: malformed node XML: line" },
        { "root", "<nodes/>", "expected root element <node>" },
        { "unknown-child", "<node><host/></node>", "unknown element <host>" },
        { "unknown-elem", "<node><domain><name>a</name><memory>1024</memory>"
          "<devicez/></domain></node>", "unsupported element <devicez> in domain XML" },
        { "unknown-attr", "<node><domain><name a='1'>a</name><memory>1024</memory>"
          "</domain></node>", "unsupported attribute 'a' on <name>" },
        { "bad-type", "<node><domain type='xen'><name>a</name><memory>1024</memory>"
          "</domain></node>", "type='test'" },
        { "no-memory", "<node><domain><name>a</name></domain></node>", "has no <memory>" },
        { "huge-memory", "<node><domain><name>a</name><memory unit='GiB'>100000"
          "</memory></domain></node>", "is out of range" },
        { "overflow-memory", "<node><domain><name>a</name><memory unit='GiB'>"
          "99999999999999999999999</memory></domain></node>", "is too large" },
        { "bad-name", "<node><domain><name>../etc</name><memory>1024</memory>"
          "</domain></node>", "invalid domain name '../etc'" },
        { "bad-vcpu", "<node><domain><name>a</name><memory>1024</memory>"
          "<vcpu>1000</vcpu></domain></node>", "vCPU count '1000'" },
        { "bad-uuid", "<node><domain><name>a</name><uuid>xyz</uuid><memory>1024"
          "</memory></domain></node>", "invalid UUID 'xyz'" },
        { "deep", "<node><domain><name>a</name><memory>1024</memory><os>"
          "<a><a><a><a><a><a><a><a><a><a><a><a><a><a><a><a><a><a><a><a><a><a><a><a>"
          "<a><a><a><a><a><a><a><a><a><a><a><a><a><a><a><a><a><a><a><a><a><a><a><a>"
          "<a><a><a><a><a><a><a><a><a><a><a><a><a><a><a><a><a><a><a><a></a></a></a>"
          "</a></a></a></a></a></a></a></a></a></a></a></a></a></a></a></a></a></a>"
          "</a></a></a></a></a></a></a></a></a></a></a></a></a></a></a></a></a></a>"
          "</a></a></a></a></a></a></a></a></a></a></a></a></a></a></a></a></a></a>"
          "</a></a></a></a></a></a></a></a></a></a></a></os></domain></node>",
          "more than 64 deep" },
        { "dup-name", "<node>\n <domain>\n  <name>a</name>\n  <name>b</name>\n"
          "  <memory>1024</memory>\n </domain>\n</node>",
          "bad-dup-name.xml: element <name> appears more than once in domain XML "
          "(line 4)" },
        { "dup-name-net", "<node>\n<network>\n<name>n</name>\n<bridge name='b0'/>\n"
          "<name>m</name>\n</network>\n</node>",
          "element <name> appears more than once in network XML (line 5)" },
        { "dup", "<node><domain><name>a</name><memory>1024</memory></domain>"
          "<domain><name>a</name><memory>1024</memory></domain></node>", "defined twice" },
        { "bad-fault", "<node><domain " TEST_NS "><name>a</name><memory>1024</memory>"
          "<test:fault op='save' action='explode'/></domain></node>", "action" },
        { "bad-test-elem", "<node><domain " TEST_NS "><name>a</name><memory>1024"
          "</memory><test:boom/></domain></node>", "unsupported element <test:boom>" },
        { "missing-file", "<node><domain file='nope.xml'/></node>", "nope.xml" },
        { "file-not-empty", "<node><domain file='x.xml'><name>a</name></domain></node>",
          "must be empty" },
        { "net-bad-ip", "<node><network><name>n</name><ip address='300.1.1.1' "
          "prefix='8'/></network></node>", "IPv4" },
        { "billion-laughs",
          "<?xml version='1.0'?>\n<!DOCTYPE node [\n"
          " <!ENTITY a 'aaaaaaaaaa'>\n <!ENTITY b '&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;'>\n"
          " <!ENTITY c '&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;'>\n"
          " <!ENTITY d '&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;'>\n]>\n"
          "<node><domain><name>&d;</name><memory>1024</memory></domain></node>",
          "must not contain a DTD" },
        { "xxe",
          "<?xml version='1.0'?>\n<!DOCTYPE node [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>\n"
          "<node><domain><name>&x;</name><memory>1024</memory></domain></node>",
          "must not contain a DTD" },
    };
    char uri[600];

    for (size_t i = 0; i < ARRAY_CARDINALITY(cases); i++) {
        char name[64];
        snprintf(name, sizeof(name), "bad-%s.xml", cases[i].name);
        if (virConnectOpen(nodeURI(name, cases[i].xml, uri, sizeof(uri))))
            fail_msg("node description %s was accepted", cases[i].name);
        if (!strstr(virGetLastErrorMessage(), cases[i].msg))
            fail_msg("%s: message '%s' lacks '%s'", cases[i].name,
                     virGetLastErrorMessage(), cases[i].msg);
    }

    /* Larger than the cap. */
    size_t big = 2 * 1024 * 1024;
    char *huge = malloc(big + 1);
    memset(huge, ' ', big);
    memcpy(huge, "<node>", 6);
    memcpy(huge + big - 7, "</node>", 7);
    huge[big] = '\0';
    assert_null(virConnectOpen(nodeURI("huge.xml", huge, uri, sizeof(uri))));
    assert_last_message_has("larger than");
    free(huge);

    /* A directory. */
    snprintf(uri, sizeof(uri), "test://%s", rundir);
    assert_null(virConnectOpen(uri));
    assert_last_message_has("not a regular file");

    /* A FIFO named by file=, with no writer: refused, not a hang. */
    char fifo[512];
    drvPath(fifo, sizeof(fifo), "dom-fifo.xml");
    assert_int_equal(mkfifo(fifo, 0600), 0);
    assert_null(virConnectOpen(nodeURI("bad-fifo.xml",
                                       "<node><domain file='dom-fifo.xml'/></node>",
                                       uri, sizeof(uri))));
    assert_last_message_has("not a regular file");
    /* And as the node description itself. */
    snprintf(uri, sizeof(uri), "test://%s", fifo);
    assert_null(virConnectOpen(uri));
    assert_last_message_has("not a regular file");
    unlink(fifo);
}

/* Every allocation of the listing, lookup, XML and node-parsing paths
 * failing in turn: a clean VIR_ERR_NO_MEMORY, never a crash or a leak. */
static void testOutOfMemory(void **state)
{
    (void)state;
    virConnectPtr conn = virConnectOpen("test:///default");
    char uri[600], path[512];
    int failures = 0;

    assert_non_null(conn);
    for (long n = 1; n < 40; n++) {
        virDomainPtr *doms = NULL;
        virNetworkPtr *nets = NULL;
        virDomainPtr dom;
        char *xml;
        int rc;

        virAllocTestHook(n);
        if ((rc = virConnectListAllDomains(conn, &doms, 0)) >= 0) {
            for (int i = 0; i < rc; i++)
                virDomainFree(doms[i]);
            free(doms);
        } else {
            assert_last_error(VIR_ERR_NO_MEMORY);
            failures++;
        }
        virAllocTestHook(n);
        if ((rc = virConnectListAllNetworks(conn, &nets, 0)) >= 0) {
            for (int i = 0; i < rc; i++)
                virNetworkFree(nets[i]);
            free(nets);
        } else {
            assert_last_error(VIR_ERR_NO_MEMORY);
        }
        virAllocTestHook(n);
        if ((dom = virDomainLookupByName(conn, "test"))) {
            virAllocTestHook(n);
            if ((xml = virDomainGetXMLDesc(dom, 0)))
                free(xml);
            else
                assert_last_error(VIR_ERR_NO_MEMORY);
            virAllocTestHook(0);
            virDomainFree(dom);
        } else {
            assert_last_error(VIR_ERR_NO_MEMORY);
        }
        virAllocTestHook(0);
    }
    assert_true(failures > 0);

    nodeURI("oom.xml", "<node><domain><name>a</name><memory>1024</memory></domain>"
            "<domain><name>b</name><memory>2048</memory></domain>"
            "<network><name>n</name></network></node>", uri, sizeof(uri));
    drvPath(path, sizeof(path), "oom.xml");
    for (long n = 1; n < 20; n++) {
        testNodeDef node;
        virAllocTestHook(n);
        int rc = testNodeLoad(path, &node);
        virAllocTestHook(0);
        if (rc == 0) {
            assert_int_equal(node.ndoms, 2);
            testNodeClear(&node);
        }
    }
    assert_int_equal(virConnectClose(conn), 0);
}

/* The XML libvirt 9 writes is accepted through the API and written back
 * by GetXMLDesc: the elements the test driver does not model are kept,
 * through a start, a save and a restore (the image carries them), for a
 * network too, and in a node description. */
static const char keptDomainXML[] =
    "<domain type='test'>\n"
    "  <name>lv</name>\n"
    "  <uuid>0e4c3f31-2c43-4c0e-9d7b-9b3a8f5a6c11</uuid>\n"
    "  <title>libvirt's</title>\n"
    "  <memory unit='KiB'>16384</memory>\n"
    "  <currentMemory unit='KiB'>8192</currentMemory>\n"
    "  <vcpu placement='static'>2</vcpu>\n"
    "  <os>\n"
    "    <type arch='x86_64' machine='pc'>hvm</type>\n"
    "    <boot dev='hd'/>\n"
    "  </os>\n"
    "  <features>\n"
    "    <acpi/>\n"
    "  </features>\n"
    "  <clock offset='utc'/>\n"
    "  <on_poweroff>destroy</on_poweroff>\n"
    "  <on_reboot>restart</on_reboot>\n"
    "  <on_crash>destroy</on_crash>\n"
    "  <devices>\n"
    "    <disk type='file' device='disk'>\n"
    "      <source file='/guest/disk &amp; more'/>\n"
    "      <target dev='vda' bus='virtio'/>\n"
    "    </disk>\n"
    "    <interface type='network'>\n"
    "      <mac address='52:54:00:aa:bb:cc'/>\n"
    "      <source network='default'/>\n"
    "    </interface>\n"
    "  </devices>\n"
    "</domain>\n";

static const char keptNetworkXML[] =
    "<network>\n"
    "  <name>lvnet</name>\n"
    "  <uuid>7b1f0c2e-5d7a-4a52-8e44-3f0a9c1d2e31</uuid>\n"
    "  <forward mode='nat'>\n"
    "    <nat>\n"
    "      <port start='1024' end='65535'/>\n"
    "    </nat>\n"
    "  </forward>\n"
    "  <bridge name='virbr9' stp='on' delay='0'/>\n"
    "  <mac address='52:54:00:0a:0b:0c'/>\n"
    "  <ip address='10.9.0.1' netmask='255.255.255.0'>\n"
    "    <dhcp>\n"
    "      <range start='10.9.0.2' end='10.9.0.254'/>\n"
    "      <host mac='52:54:00:aa:bb:cc' name='lv' ip='10.9.0.5'/>\n"
    "    </dhcp>\n"
    "  </ip>\n"
    "</network>\n";

/* @xml with " id='N'" after "<domain type='test'". */
static char *withID(const char *xml, int id)
{
    const char *at = strchr(xml, '>');
    return virAsprintf("%.*s id='%d'%s", (int)(at - xml), xml, id, at);
}

static void testKeptXML(void **state)
{
    (void)state;
    virConnectPtr conn = virConnectOpen("test:///default");
    virDomainPtr dom, test;
    virNetworkPtr net;
    char path[512], uri[600];
    char *xml, *want;

    /* libvirt's test domain: its devices, clock, lifecycle actions */
    assert_non_null(test = virDomainLookupByName(conn, "test"));
    assert_non_null(xml = virDomainGetXMLDesc(test, 0));
    assert_non_null(strstr(xml, "<domain type='test' id='1'>\n"));
    assert_non_null(strstr(xml, "    <type arch='i686'>hvm</type>\n    <boot dev='hd'/>\n"));
    assert_non_null(strstr(xml, "      <source file='/guest/diskimage1'/>\n"));
    assert_non_null(strstr(xml, "  <on_reboot>restart</on_reboot>\n"));
    free(xml);
    virDomainFree(test);

    assert_non_null(dom = virDomainDefineXML(conn, keptDomainXML));
    assert_non_null(xml = virDomainGetXMLDesc(dom, 0));
    assert_string_equal(xml, keptDomainXML);
    free(xml);

    assert_int_equal(virDomainCreate(dom), 0);
    assert_non_null(xml = virDomainGetXMLDesc(dom, 0));
    assert_non_null(want = withID(keptDomainXML, (int)virDomainGetID(dom)));
    assert_string_equal(xml, want);
    free(xml);
    free(want);

    drvPath(path, sizeof(path), "kept.img");
    assert_int_equal(virDomainSave(dom, path), 0);
    assert_int_equal(virDomainIsActive(dom), 0);
    assert_non_null(xml = virDomainGetXMLDesc(dom, 0));
    assert_string_equal(xml, keptDomainXML);
    free(xml);
    /* A redefinition replaces what was kept. */
    virDomainFree(dom);
    assert_non_null(dom = virDomainDefineXML(conn,
        "<domain type='test'><name>lv</name><uuid>0e4c3f31-2c43-4c0e-9d7b-9b3a8f5a6c11</uuid>"
        "<memory unit='KiB'>16384</memory></domain>"));
    assert_non_null(xml = virDomainGetXMLDesc(dom, 0));
    assert_null(strstr(xml, "<devices>"));
    free(xml);
    /* The restore brings back the image's definition, kept elements included. */
    assert_int_equal(virDomainRestore(conn, path), 0);
    assert_int_equal(virDomainIsActive(dom), 1);
    assert_non_null(xml = virDomainGetXMLDesc(dom, 0));
    assert_non_null(want = withID(keptDomainXML, (int)virDomainGetID(dom)));
    assert_string_equal(xml, want);
    free(xml);
    free(want);
    assert_int_equal(virDomainDestroy(dom), 0);
    assert_int_equal(virDomainUndefine(dom), 0);
    virDomainFree(dom);
    unlink(path);

    /* What cannot be honoured is refused, by name. */
    assert_null(virDomainDefineXML(conn,
        "<domain type='test'><name>lv2</name><memory>1024</memory>"
        "<on_poweroff>preserve</on_poweroff></domain>"));
    assert_last_error(VIR_ERR_CONFIG_UNSUPPORTED);
    assert_last_message_has("<on_poweroff>preserve</on_poweroff> cannot be honoured");
    assert_null(virDomainDefineXML(conn,
        "<domain type='test'><name>lv2</name><memory>1024</memory><devicez/></domain>"));
    assert_last_error(VIR_ERR_CONFIG_UNSUPPORTED);
    assert_last_message_has("unsupported element <devicez>");

    assert_non_null(net = virNetworkDefineXML(conn, keptNetworkXML));
    assert_non_null(xml = virNetworkGetXMLDesc(net, 0));
    assert_string_equal(xml, keptNetworkXML);
    free(xml);
    assert_int_equal(virNetworkUndefine(net), 0);
    virNetworkFree(net);
    assert_int_equal(virConnectClose(conn), 0);

    /* A node description keeps them too. */
    nodeURI("kept.xml", "<node><domain type='test'><name>n1</name><memory>1024</memory>"
            "<clock offset='localtime'/><devices><disk type='file'/></devices></domain></node>",
            uri, sizeof(uri));
    assert_non_null(conn = virConnectOpen(uri));
    assert_non_null(dom = virDomainLookupByName(conn, "n1"));
    assert_non_null(xml = virDomainGetXMLDesc(dom, 0));
    assert_non_null(strstr(xml, "  <clock offset='localtime'/>\n  <devices>\n"
                                "    <disk type='file'/>\n  </devices>\n</domain>\n"));
    free(xml);
    virDomainFree(dom);
    assert_int_equal(virConnectClose(conn), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(testURIParse),
        cmocka_unit_test(testOpenDefault),
        cmocka_unit_test(testOpenErrors),
        cmocka_unit_test(testSharedDefaultNode),
        cmocka_unit_test(testDomainLifecycleCalls),
        cmocka_unit_test(testLifecycleSync),
        cmocka_unit_test(testBadArguments),
        cmocka_unit_test(testReadOnly),
        cmocka_unit_test(testNodeFile),
        cmocka_unit_test(testNodeFileBad),
        cmocka_unit_test(testOutOfMemory),
        cmocka_unit_test(testKeptXML),
    };
    drvNeedWorker();
    return cmocka_run_group_tests(tests, drvSetupRundir, drvTeardownRundir);
}
