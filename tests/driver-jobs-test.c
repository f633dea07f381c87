/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * driver-jobs-test.c: the test driver's seven async calls and their
 * synchronous twins, through the public API with real workers: success
 * and resulting state, save -> restore verified byte for byte, dump read
 * by readelf, bad paths and images, hostile XML, one job per domain.
 */
#include <sys/wait.h>

#include "drivertest.h"
#include "driverjob.h"
#include "drivers/test/test-proto.h"
#include "drivers/test/test_driver.h"
#include "testdrv-image.h"

static virConnectPtr conn;

static int setupConn(void **state)
{
    (void)state;
    conn = virConnectOpen("test:///default?grace=300");
    return conn ? 0 : -1;
}

static int teardownConn(void **state)
{
    (void)state;
    int rc = virConnectClose(conn);
    conn = NULL;
    return rc == 0 ? 0 : -1;
}

/* Verify a save image: header, runs, checksum, and every page of memory
 * (tests/testdrv-image.h). Returns the image's size. */
static size_t checkImage(const char *path, const char *name, uint64_t kib)
{
    size_t len = 0;
    uint8_t *img = drvReadFile(path, &len);

    assert_non_null(img);
    testSaveHeader h = imgCheck(img, len);
    assert_string_equal(h.def.name, name);
    assert_int_equal(h.def.memory_kib, kib);
    assert_non_null(memmem(img + sizeof(h), h.xml_len, "<name>", 6));
    free(img);
    return len;
}

static void testSaveRestoreDefault(void **state)
{
    (void)state;
    char img[512];
    virDomainPtr dom = virDomainLookupByName(conn, "test");
    virJobPtr job;
    int reason = 0, st = 0;

    drvPath(img, sizeof(img), "default.img");
    job = virDomainSaveJob(dom, img);
    assert_non_null(job);
    assert_int_equal(drvWait(job, NULL), VIR_JOB_COMPLETE);
    virDomainPtr res = virJobGetDomain(job);
    assert_non_null(res);
    assert_string_equal(virDomainGetName(res), "test");
    virDomainFree(res);
    assert_int_equal(virJobDestroy(job), 0);
    assert_int_equal(virDomainGetState(dom, &st, &reason, 0), 0);
    assert_int_equal(st, VIR_DOMAIN_SHUTOFF);
    assert_int_equal(reason, 5);   /* saved */
    /* libvirt's 8 GiB, 2 GiB current; an idle guest's image: its 64 MiB
     * of data, the rest a zero run. */
    size_t size = checkImage(img, "test", 8388608);
    assert_true(size > 64ull << 20 && size < (64ull << 20) + 16384);

    /* Save needs a running domain. */
    assert_null(virDomainSaveJob(dom, img));
    assert_last_error(VIR_ERR_OPERATION_INVALID);

    job = virDomainRestoreJob(conn, img);
    assert_int_equal(drvWait(job, NULL), VIR_JOB_COMPLETE);
    res = virJobGetDomain(job);
    assert_non_null(res);
    assert_string_equal(virDomainGetName(res), "test");
    virDomainFree(res);
    virJobDestroy(job);
    /* The old handle names the same domain by UUID. */
    assert_int_equal(virDomainGetState(dom, &st, &reason, 0), 0);
    assert_int_equal(st, VIR_DOMAIN_RUNNING);
    assert_int_equal(reason, 3);   /* restored */

    /* Restoring a running domain fails at once and changes nothing. */
    assert_int_equal(virDomainRestore(conn, img), -1);
    assert_last_message_has("already running");

    /* Synchronous twins. */
    assert_int_equal(virDomainSave(dom, img), 0);
    assert_int_equal(drvState(dom), VIR_DOMAIN_SHUTOFF);
    assert_int_equal(virDomainRestore(conn, img), 0);
    assert_int_equal(drvState(dom), VIR_DOMAIN_RUNNING);
    virDomainFree(dom);
}

/* <test:memory data-bytes='N'/>: a domain whose data is 80 MiB + 1 byte
 * (above the 64 MiB default) saves an image of that data (whole pages)
 * and two run records, restores from it, reports the same GetInfo, and
 * writes the element back; more than <currentMemory> is refused by name. */
static void testMemoryData(void **state)
{
    (void)state;
    char img[512];
    const uint64_t data = (80ull << 20) + 1, dataStored = (80ull << 20) + TEST_PAGE_SIZE;
    virDomainPtr dom = drvDefine(conn, "datarich", 131072,
                                 "<currentMemory unit='KiB'>102400</currentMemory>"
                                 "<test:memory data-bytes='83886081'/>");
    virDomainInfo info;
    char *xml = virDomainGetXMLDesc(dom, 0);

    assert_non_null(xml);
    assert_non_null(strstr(xml, "  <test:memory data-bytes='83886081'/>\n"));
    free(xml);
    assert_int_equal(virDomainCreate(dom), 0);
    assert_int_equal(virDomainGetInfo(dom, &info), 0);
    assert_int_equal(info.maxMem, 131072);
    assert_int_equal(info.memory, 102400);

    drvPath(img, sizeof(img), "datarich.img");
    virJobPtr job = virDomainSaveJob(dom, img);
    assert_non_null(job);
    assert_int_equal(drvWait(job, NULL), VIR_JOB_COMPLETE);
    virJobDestroy(job);
    size_t len = 0;
    uint8_t *b = drvReadFile(img, &len);
    testSaveHeader h = imgCheck(b, len);
    free(b);
    assert_int_equal(h.def.data_bytes, data);
    assert_int_equal(h.records_len, 2 * sizeof(testSaveRecord) + dataStored);
    assert_int_equal(len, sizeof(h) + h.xml_len + 2 * sizeof(testSaveRecord) + dataStored);

    job = virDomainRestoreJob(conn, img);
    assert_non_null(job);
    assert_int_equal(drvWait(job, NULL), VIR_JOB_COMPLETE);
    virJobDestroy(job);
    assert_int_equal(drvState(dom), VIR_DOMAIN_RUNNING);
    assert_int_equal(virDomainGetInfo(dom, &info), 0);
    assert_int_equal(info.maxMem, 131072);
    assert_int_equal(info.memory, 102400);
    xml = virDomainGetXMLDesc(dom, 0);
    assert_non_null(strstr(xml, "<test:memory data-bytes='83886081'/>"));
    free(xml);
    assert_int_equal(virDomainDestroy(dom), 0);
    assert_int_equal(virDomainUndefine(dom), 0);
    virDomainFree(dom);
    unlink(img);

    /* One byte more than the current memory. */
    assert_null(virDomainDefineXML(conn,
        "<domain type='test' " TEST_NS "><name>toomuch</name>"
        "<memory unit='KiB'>131072</memory><currentMemory unit='KiB'>102400</currentMemory>"
        "<test:memory data-bytes='104857601'/></domain>"));
    assert_last_message_has("<test:memory data-bytes='104857601'> in domain XML is above the "
                            "domain's current memory (104857600 bytes)");
}

static void testDump(void **state)
{
    (void)state;
    char core[512], cmd[4096];
    virDomainPtr dom = drvDefine(conn, "dumpme", 8192, NULL);

    drvPath(core, sizeof(core), "dumpme.core");
    assert_null(virDomainDumpCoreJob(dom, core, 0));
    assert_last_error(VIR_ERR_OPERATION_INVALID);   /* not running */
    assert_int_equal(virDomainCreate(dom), 0);

    virJobPtr job = virDomainDumpCoreJob(dom, core, VIR_DUMP_LIVE);
    assert_int_equal(drvWait(job, NULL), VIR_JOB_COMPLETE);
    virJobDestroy(job);
    assert_int_equal(drvState(dom), VIR_DOMAIN_RUNNING);
    snprintf(cmd, sizeof(cmd),
             "readelf -h -l '%s' > '%s.txt' 2>&1 && grep -q 'CORE (Core file)' '%s.txt' "
             "&& grep -q LOAD '%s.txt' && grep -q NOTE '%s.txt'", core, core, core, core, core);
    assert_int_equal(system(cmd), 0);

    assert_int_equal(virDomainCoreDump(dom, core, VIR_DUMP_CRASH), 0);
    int st, reason;
    assert_int_equal(virDomainGetState(dom, &st, &reason, 0), 0);
    assert_int_equal(st, VIR_DOMAIN_SHUTOFF);
    assert_int_equal(reason, 3);   /* crashed */
    assert_int_equal(system(cmd), 0);
    assert_int_equal(virDomainCoreDump(dom, core, VIR_DUMP_RESET), -1);
    assert_last_error(VIR_ERR_INVALID_ARG);
    assert_int_equal(virDomainUndefine(dom), 0);
    virDomainFree(dom);
}

static void testCreate(void **state)
{
    (void)state;
    virDomainPtr dom;
    virJobPtr job;
    virDomainPtr *doms;

    /* CreateXML: parsed in the worker, transient, running. */
    dom = virDomainCreateXML(conn, "<domain type='test'><name>tr1</name>"
                             "<memory unit='MiB'>2</memory></domain>", 0);
    if (!dom)
        fail_msg("create: %s", virGetLastErrorMessage());
    assert_int_equal(drvState(dom), VIR_DOMAIN_RUNNING);
    assert_int_equal(virConnectListAllDomains(conn, &doms, VIR_CONNECT_LIST_DOMAINS_TRANSIENT), 1);
    virDomainFree(doms[0]);
    free(doms);
    assert_int_equal(virDomainUndefine(dom), -1);   /* transient */
    assert_last_error(VIR_ERR_OPERATION_INVALID);
    assert_int_equal(virDomainDestroy(dom), 0);     /* and gone */
    assert_int_equal(virDomainGetState(dom, &(int){ 0 }, NULL, 0), -1);
    assert_last_error(VIR_ERR_NO_DOMAIN);
    virDomainFree(dom);

    /* CreateLinuxJob. */
    job = virDomainCreateLinuxJob(conn, "<domain type='test'><name>lx</name>"
                                  "<memory unit='MiB'>2</memory><os><type>linux</type>"
                                  "</os></domain>", 0);
    assert_int_equal(drvWait(job, NULL), VIR_JOB_COMPLETE);
    dom = virJobGetDomain(job);
    assert_non_null(dom);
    assert_string_equal(virDomainGetName(dom), "lx");
    assert_int_equal(drvState(dom), VIR_DOMAIN_RUNNING);
    virJobDestroy(job);
    assert_int_equal(virDomainDestroy(dom), 0);
    virDomainFree(dom);

    /* Name already taken: DOM_EXIST from the commit, nothing changed. */
    assert_null(virDomainCreateLinux(conn, "<domain type='test'><name>test</name>"
                                     "<memory unit='MiB'>2</memory></domain>", 0));
    assert_last_error(VIR_ERR_DOM_EXIST);
    dom = virDomainLookupByName(conn, "test");
    char uuid[VIR_UUID_STRING_BUFLEN];
    virDomainGetUUIDString(dom, uuid);
    assert_string_equal(uuid, "6695eb01-f6a4-8304-79aa-97f2502e193f");
    virDomainFree(dom);

    /* Define, then start with virDomainCreateJob; a handle survives. */
    dom = drvDefine(conn, "defd", 2048, NULL);
    assert_int_equal(drvState(dom), VIR_DOMAIN_SHUTOFF);
    job = virDomainCreateJob(dom, 0);
    assert_int_equal(drvWait(job, NULL), VIR_JOB_COMPLETE);
    virJobDestroy(job);
    assert_int_equal(drvState(dom), VIR_DOMAIN_RUNNING);
    assert_null(virDomainCreateJob(dom, 0));
    assert_last_message_has("already running");
    assert_int_equal(virDomainDestroy(dom), 0);
    assert_int_equal(drvState(dom), VIR_DOMAIN_SHUTOFF);   /* persistent: stays */
    assert_int_equal(virDomainUndefine(dom), 0);
    virDomainFree(dom);
}

static void testNetworks(void **state)
{
    (void)state;
    virNetworkPtr net;
    virJobPtr job;

    job = virNetworkCreateXMLJob(conn, "<network><name>n1</name><bridge name='vbr9'/>"
                                 "<ip address='10.9.0.1' prefix='24'/></network>");
    assert_int_equal(drvWait(job, NULL), VIR_JOB_COMPLETE);
    net = virJobGetNetwork(job);
    assert_non_null(net);
    assert_null(virJobGetDomain(job));
    virJobDestroy(job);
    assert_string_equal(virNetworkGetName(net), "n1");
    assert_int_equal(virNetworkIsActive(net), 1);
    char *xml = virNetworkGetXMLDesc(net, 0);
    assert_non_null(strstr(xml, "<bridge name='vbr9'/>"));
    free(xml);
    assert_int_equal(virNetworkDestroy(net), 0);    /* transient: gone */
    assert_int_equal(virNetworkIsActive(net), -1);
    virNetworkFree(net);

    net = virNetworkDefineXML(conn, "<network><name>n2</name></network>");
    if (!net)
        fail_msg("define: %s", virGetLastErrorMessage());
    assert_int_equal(virNetworkIsActive(net), 0);
    assert_int_equal(virNetworkCreate(net), 0);
    assert_int_equal(virNetworkIsActive(net), 1);
    assert_null(virNetworkCreateJob(net));
    assert_last_error(VIR_ERR_OPERATION_INVALID);
    assert_int_equal(virNetworkDestroy(net), 0);
    job = virNetworkCreateJob(net);
    assert_int_equal(drvWait(job, NULL), VIR_JOB_COMPLETE);
    virJobDestroy(job);
    assert_int_equal(virNetworkIsActive(net), 1);
    assert_int_equal(virNetworkDestroy(net), 0);
    assert_int_equal(virNetworkUndefine(net), 0);
    virNetworkFree(net);

    assert_null(virNetworkCreateXML(conn, "<network><name>default</name></network>"));
    assert_last_error(VIR_ERR_NETWORK_EXIST);
    assert_null(virNetworkCreateXML(conn, "<network><name>x</name><bogus/></network>"));
    assert_true(drvLastCode() == VIR_ERR_XML_ERROR ||
                drvLastCode() == VIR_ERR_CONFIG_UNSUPPORTED);
}

/* The XML the library writes is the XML the worker reads: defining it
 * again gives the same definition. */
static void testXMLRoundTrip(void **state)
{
    (void)state;
    virDomainPtr dom = drvDefine(conn, "rt", 3072,
                                 "<test:fault op='save,dump' at='20' action='abort'/>"
                                 "<test:fault op='create' at='90' action='hang'/>"
                                 "<test:rate bytes-per-second='123456'/>");
    char *xml = virDomainGetXMLDesc(dom, 0), *again;

    assert_non_null(xml);
    assert_int_equal(virDomainUndefine(dom), 0);
    virDomainFree(dom);
    dom = virDomainDefineXML(conn, xml);
    if (!dom)
        fail_msg("redefine: %s\n%s", virGetLastErrorMessage(), xml);
    again = virDomainGetXMLDesc(dom, 0);
    assert_string_equal(again, xml);
    free(again);
    free(xml);
    assert_int_equal(virDomainUndefine(dom), 0);
    virDomainFree(dom);

    virNetworkPtr net = virNetworkLookupByName(conn, "default");
    xml = virNetworkGetXMLDesc(net, 0);
    virNetworkFree(net);
    virConnectPtr c = virConnectOpen("test:///default");
    net = virNetworkLookupByName(c, "default");
    assert_int_equal(virNetworkDestroy(net), 0);
    assert_int_equal(virNetworkUndefine(net), 0);
    virNetworkFree(net);
    net = virNetworkDefineXML(c, xml);
    if (!net)
        fail_msg("redefine network: %s\n%s", virGetLastErrorMessage(), xml);
    again = virNetworkGetXMLDesc(net, 0);
    assert_string_equal(again, xml);
    free(again);
    free(xml);
    virNetworkFree(net);
    assert_int_equal(virConnectClose(c), 0);
}

static void testHostileXML(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "<domain",
        "<domain type='test'><name>a</name></domain>",                  /* no memory */
        "<domain type='test'><name>a</name><memory>1024</memory><devicez/></domain>",
        "<domain type='test'><name>a</name><memory unit='GiB'>1000000</memory></domain>",
        "<domain type='test'><name>a</name><memory>99999999999999999999999999</memory></domain>",
        "<domain type='test'><name>a</name><memory>1024</memory><vcpu>100000</vcpu></domain>",
        "<domain type='test'><name>../../etc/passwd</name><memory>1024</memory></domain>",
        "<?xml version='1.0'?><!DOCTYPE d [<!ENTITY a 'aaaaaaaaaa'>"
        "<!ENTITY b '&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;'><!ENTITY c '&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;'>"
        "<!ENTITY d '&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;'><!ENTITY e '&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;'>"
        "<!ENTITY f '&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;'><!ENTITY g '&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;'>]>"
        "<domain type='test'><name>&g;</name><memory>1024</memory></domain>",
        "<!DOCTYPE d [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>"
        "<domain type='test'><name>&x;</name><memory>1024</memory></domain>",
        "<domain type='test' " TEST_NS "><name>a</name><memory>1024</memory>"
        "<test:fault op='save' action='detonate'/></domain>",
    };
    virDomainPtr *doms;
    int before = virConnectListAllDomains(conn, &doms, 0);

    for (int i = 0; i < before; i++)
        virDomainFree(doms[i]);
    free(doms);
    for (size_t i = 0; i < ARRAY_CARDINALITY(bad); i++) {
        if (virDomainDefineXML(conn, bad[i]))
            fail_msg("XML %zu was accepted", i);
        if (drvLastCode() != VIR_ERR_XML_ERROR &&
            drvLastCode() != VIR_ERR_CONFIG_UNSUPPORTED)
            fail_msg("XML %zu: error %d: %s", i, drvLastCode(), virGetLastErrorMessage());
        if (virDomainCreateXML(conn, bad[i], 0))
            fail_msg("XML %zu was created", i);
    }
    /* Larger than the limit: refused before any worker runs. */
    size_t big = TEST_XML_MAX + 10;
    char *huge = malloc(big + 1);
    memset(huge, 'x', big);
    huge[big] = '\0';
    assert_null(virDomainDefineXML(conn, huge));
    assert_last_error(VIR_ERR_XML_ERROR);
    free(huge);
    assert_int_equal(virConnectListAllDomains(conn, &doms, 0), before);
    for (int i = 0; i < before; i++)
        virDomainFree(doms[i]);
    free(doms);
}

static void testBadPaths(void **state)
{
    (void)state;
    char img[512], dir[512], link[512], path[600];
    virDomainPtr dom = drvDefine(conn, "paths", 1024, NULL);

    assert_int_equal(virDomainCreate(dom), 0);
    drvPath(dir, sizeof(dir), "adir");
    assert_int_equal(mkdir(dir, 0700), 0);
    drvPath(link, sizeof(link), "link-to-dir");
    assert_int_equal(symlink(dir, link), 0);

    assert_null(virDomainSaveJob(dom, dir));
    assert_last_message_has("is a directory");
    assert_null(virDomainSaveJob(dom, link));
    assert_last_message_has("is a directory");
    snprintf(path, sizeof(path), "%s/", dir);
    assert_null(virDomainSaveJob(dom, path));
    assert_last_message_has("is a directory");
    snprintf(path, sizeof(path), "%s/missing/x.img", rundir);
    assert_null(virDomainSaveJob(dom, path));
    assert_last_error(VIR_ERR_SYSTEM_ERROR);
    assert_last_message_has("missing");
    assert_null(virDomainSaveJob(dom, "/proc/virtsup-test.img"));
    assert_int_not_equal(drvLastCode(), 0);
    assert_null(virDomainSaveJob(dom, "/dev/null"));
    assert_last_message_has("not a regular file");
    assert_null(virDomainSaveJob(dom, ""));
    assert_last_error(VIR_ERR_INVALID_ARG);
    assert_null(virDomainDumpCoreJob(dom, dir, 0));
    assert_last_message_has("is a directory");
    assert_int_equal(drvState(dom), VIR_DOMAIN_RUNNING);

    /* Restore from bad sources. */
    assert_null(virDomainRestoreJob(conn, dir));
    assert_last_message_has("a directory");
    assert_null(virDomainRestoreJob(conn, "/dev/null"));
    assert_last_message_has("not a regular file");
    snprintf(path, sizeof(path), "%s/none.img", rundir);
    assert_null(virDomainRestoreJob(conn, path));
    assert_last_error(VIR_ERR_SYSTEM_ERROR);

    /* Corrupt, truncated and foreign images: FAILED, nothing changed. */
    drvPath(img, sizeof(img), "paths.img");
    assert_int_equal(virDomainSave(dom, img), 0);
    size_t len = 0;
    uint8_t *data = drvReadFile(img, &len);
    assert_non_null(data);
    struct { const char *name; size_t len; size_t flip; } cases[] = {
        { "flip-memory", len, len - 100 },
        { "flip-header", len, 20 },
        { "flip-xml", len, sizeof(testSaveHeader) + 3 },
        { "truncated", len - 4096, (size_t)-1 },
        { "header-only", sizeof(testSaveHeader), (size_t)-1 },
        { "tiny", 10, (size_t)-1 },
        { "empty", 0, (size_t)-1 },
    };
    for (size_t i = 0; i < ARRAY_CARDINALITY(cases); i++) {
        uint8_t *copy = malloc(len);
        memcpy(copy, data, len);
        if (cases[i].flip != (size_t)-1)
            copy[cases[i].flip] ^= 0x5a;
        snprintf(path, sizeof(path), "%s/%s.img", rundir, cases[i].name);
        drvWriteFile(path, copy, cases[i].len);
        free(copy);
        virJobPtr job = virDomainRestoreJob(conn, path);
        assert_non_null(job);
        int code = 0;
        if (drvWait(job, &code) != VIR_JOB_FAILED)
            fail_msg("restore of %s did not fail", cases[i].name);
        if (!*drvJobMessage(job))
            fail_msg("restore of %s: no message", cases[i].name);
        virJobDestroy(job);
        assert_int_equal(drvState(dom), VIR_DOMAIN_SHUTOFF);
    }
    /* An image of an older format is refused by name, both versions said. */
    {
        testSaveHeader h;
        memcpy(&h, data, sizeof(h));
        h.version = 3;
        memcpy(data, &h, sizeof(h));
        snprintf(path, sizeof(path), "%s/version-3.img", rundir);
        drvWriteFile(path, data, len);
        virJobPtr job = virDomainRestoreJob(conn, path);
        assert_non_null(job);
        assert_int_equal(drvWait(job, NULL), VIR_JOB_FAILED);
        assert_string_equal(drvJobMessage(job),
                            "unsupported save image version 3 (this build reads version 5)");
        virJobDestroy(job);
        assert_int_equal(drvState(dom), VIR_DOMAIN_SHUTOFF);
    }
    free(data);
    /* And the good image still restores. */
    assert_int_equal(virDomainRestore(conn, img), 0);
    assert_int_equal(virDomainDestroy(dom), 0);
    assert_int_equal(virDomainUndefine(dom), 0);
    virDomainFree(dom);
}

/* One job per domain; GetJobInfo and AbortJob see it; a cancelled save
 * leaves the destination absent, or unchanged if it existed. */
static void testOneJobAndAbort(void **state)
{
    (void)state;
    char img[512], other[512];
    /* 64 MiB at 1 MiB/s: runs long enough to be seen and cancelled. A node
     * description, so the domain runs without a (paced) boot first. */
    virConnectPtr c = drvOpenNode("slow.xml",
        "<node><domain type='test' " TEST_NS "><name>slow</name>"
        "<memory unit='MiB'>64</memory><test:rate bytes-per-second='1048576'/>"
        "</domain></node>", "?grace=300");
    virDomainPtr dom = virDomainLookupByName(c, "slow");
    virDomainJobInfo ji;

    drvPath(img, sizeof(img), "slow.img");
    drvPath(other, sizeof(other), "slow2.img");
    virJobPtr job = virDomainSaveJob(dom, img);
    assert_non_null(job);
    char want[128];
    snprintf(want, sizeof(want), "domain 'slow' already has a job running: job %llu "
             "(test.domain.save)", virJobGetID(job));
    assert_null(virDomainSaveJob(dom, other));
    assert_last_error(VIR_ERR_OPERATION_INVALID);
    assert_last_message_has(want);
    assert_null(virDomainDumpCoreJob(dom, other, 0));
    assert_last_error(VIR_ERR_OPERATION_INVALID);
    assert_last_message_has(want);
    assert_int_equal(virDomainDestroy(dom), -1);
    assert_last_error(VIR_ERR_OPERATION_INVALID);
    assert_last_message_has(want);
    assert_false(drvExists(other));

    assert_true(TEST_WAIT_UNTIL(virDomainGetJobInfo(dom, &ji) == 0 &&
                                ji.dataProcessed > 0, TEST_TIMEOUT_MS));
    assert_int_equal(ji.type, VIR_DOMAIN_JOB_BOUNDED);
    assert_true(ji.dataTotal >= 65536ull * 1024);
    assert_int_equal(virDomainAbortJob(dom), 0);
    assert_int_equal(drvWait(job, NULL), VIR_JOB_CANCELLED);
    virJobDestroy(job);
    assert_false(drvExists(img));
    assert_int_equal(drvState(dom), VIR_DOMAIN_RUNNING);
    assert_int_equal(virDomainGetJobInfo(dom, &ji), 0);
    assert_int_equal(ji.type, VIR_DOMAIN_JOB_NONE);

    /* An existing destination is unchanged byte for byte. */
    static const char old[] = "an older file, not to be harmed";
    drvWriteFile(img, old, sizeof(old));
    job = virDomainSaveJob(dom, img);
    assert_true(TEST_WAIT_UNTIL(virDomainGetJobInfo(dom, &ji) == 0 &&
                                ji.dataProcessed > 0, TEST_TIMEOUT_MS));
    assert_int_equal(virJobCancel(job), 0);
    assert_int_equal(drvWait(job, NULL), VIR_JOB_CANCELLED);
    virJobDestroy(job);
    size_t len = 0;
    uint8_t *now = drvReadFile(img, &len);
    assert_int_equal(len, sizeof(old));
    assert_memory_equal(now, old, sizeof(old));
    free(now);
    /* No temporary file left in the directory. */
    char cmd[700];
    snprintf(cmd, sizeof(cmd), "ls -A '%s' | grep -q '^\\.slow'", rundir);
    assert_int_not_equal(system(cmd), 0);

    /* The slot is free again: a new job may start. */
    job = virDomainDumpCoreJob(dom, other, 0);
    assert_non_null(job);
    assert_int_equal(virJobCancel(job), 0);
    drvWait(job, NULL);
    virJobDestroy(job);
    assert_int_equal(virDomainDestroy(dom), 0);
    assert_int_equal(virDomainUndefine(dom), 0);
    virDomainFree(dom);
    assert_int_equal(virConnectClose(c), 0);
}

/* A commit step that fails (the destination directory went away while the
 * worker wrote) fails the job and changes nothing. */
static void testCommitFailure(void **state)
{
    (void)state;
    char dir[512], img[600];
    virConnectPtr c = drvOpenNode("commit.xml",
        "<node><domain type='test' " TEST_NS "><name>commit</name>"
        "<memory unit='MiB'>8</memory><test:rate bytes-per-second='4194304'/>"
        "</domain></node>", "");
    virDomainPtr dom = virDomainLookupByName(c, "commit");
    virDomainJobInfo ji;
    int code = 0;

    drvPath(dir, sizeof(dir), "vanishing");
    assert_int_equal(mkdir(dir, 0700), 0);
    snprintf(img, sizeof(img), "%s/commit.img", dir);
    virJobPtr job = virDomainSaveJob(dom, img);
    assert_non_null(job);
    assert_true(TEST_WAIT_UNTIL(virDomainGetJobInfo(dom, &ji) == 0 &&
                                ji.dataProcessed > 0, TEST_TIMEOUT_MS));
    /* The image has no name yet, so the directory is empty. */
    assert_int_equal(rmdir(dir), 0);
    assert_int_equal(drvWait(job, &code), VIR_JOB_FAILED);
    assert_int_equal(code, VIR_ERR_SYSTEM_ERROR);
    assert_non_null(strstr(drvJobMessage(job), "commit.img"));
    virJobDestroy(job);
    assert_int_equal(drvState(dom), VIR_DOMAIN_RUNNING);
    assert_false(drvExists(dir));
    virDomainFree(dom);
    assert_int_equal(virConnectClose(c), 0);
}

/* Without O_TMPFILE the image is written under a hidden temporary name:
 * renamed into place on success, removed on failure or cancel. */
static void testNoTmpfile(void **state)
{
    (void)state;
    char dir[512], img[600], cmd[700];
    virConnectPtr c = drvOpenNode("notmp.xml",
        "<node><domain type='test' " TEST_NS "><name>notmp</name>"
        "<memory unit='MiB'>8</memory><test:rate bytes-per-second='2097152'/>"
        "</domain></node>", "?grace=300");
    virDomainPtr dom = virDomainLookupByName(c, "notmp");
    virDomainJobInfo ji;

    drvPath(dir, sizeof(dir), "notmp");
    assert_int_equal(mkdir(dir, 0700), 0);
    snprintf(img, sizeof(img), "%s/notmp.img", dir);
    snprintf(cmd, sizeof(cmd), "test -z \"$(ls -A '%s' | grep -v '^notmp.img$')\"", dir);
    virDriverJobOutputNoTmpfile = true;

    virJobPtr job = virDomainSaveJob(dom, img);
    assert_non_null(job);
    assert_true(TEST_WAIT_UNTIL(virDomainGetJobInfo(dom, &ji) == 0 &&
                                ji.dataProcessed > 0, TEST_TIMEOUT_MS));
    assert_int_not_equal(system(cmd), 0);   /* the temporary name is there */
    assert_int_equal(virJobCancel(job), 0);
    assert_int_equal(drvWait(job, NULL), VIR_JOB_CANCELLED);
    virJobDestroy(job);
    assert_false(drvExists(img));
    assert_int_equal(system(cmd), 0);       /* and gone */

    assert_int_equal(virDomainSave(dom, img), 0);
    virDriverJobOutputNoTmpfile = false;
    assert_true(drvExists(img));
    assert_int_equal(system(cmd), 0);
    checkImage(img, "notmp", 8192);
    virDomainFree(dom);
    assert_int_equal(virConnectClose(c), 0);
}

/* ?bandwidth= caps job I/O: the job is slowed (progress visible before it
 * ends); only that it honours the cap, no timing asserted. */
static void testBandwidthParam(void **state)
{
    (void)state;
    virConnectPtr c = virConnectOpen("test:///default?bandwidth=1");
    virDomainPtr dom = virDomainLookupByName(c, "test");
    char img[512];
    virJobInfo info;

    drvPath(img, sizeof(img), "bw.img");
    virJobPtr job = virDomainSaveJob(dom, img);
    assert_non_null(job);
    assert_true(TEST_WAIT_UNTIL(virJobGetInfo(job, &info) == 0 &&
                                info.percentComplete > 0, TEST_TIMEOUT_MS));
    assert_int_equal(info.state, VIR_JOB_RUNNING);   /* 64 MiB of data at 1 MiB/s */
    assert_int_equal(virJobCancel(job), 0);
    assert_int_equal(drvWait(job, NULL), VIR_JOB_CANCELLED);
    virJobDestroy(job);
    assert_false(drvExists(img));
    virDomainFree(dom);
    assert_int_equal(virConnectClose(c), 0);
}

/* ?worker_user=: jobs run as another user and still work on descriptors
 * the library opened. Root only. */
static void testWorkerUser(void **state)
{
    (void)state;
    char img[512];

    if (geteuid() != 0) {
        assert_null(virConnectOpen("test:///default?worker_user=nobody"));
        assert_last_error(VIR_ERR_OPERATION_DENIED);
        skip();
    }
    virConnectPtr c = drvOpenNode("wu.xml",
        "<node><domain type='test'><name>wu</name><memory unit='MiB'>4</memory>"
        "</domain></node>", "?worker_user=nobody");
    virDomainPtr dom = virDomainLookupByName(c, "wu");
    drvPath(img, sizeof(img), "wu.img");
    assert_int_equal(virDomainSave(dom, img), 0);
    checkImage(img, "wu", 4096);
    assert_int_equal(virDomainRestore(c, img), 0);
    assert_int_equal(drvState(dom), VIR_DOMAIN_RUNNING);
    virDomainFree(dom);
    assert_int_equal(virConnectClose(c), 0);
}

/* Closing a connection cancels its jobs; their handles stay valid. */
static void testCloseWithJob(void **state)
{
    (void)state;
    virConnectPtr c = virConnectOpen("test:///default?bandwidth=1&grace=200");
    virDomainPtr dom = virDomainLookupByName(c, "test");
    char img[512];

    drvPath(img, sizeof(img), "close.img");
    virJobPtr job = virDomainSaveJob(dom, img);
    assert_non_null(job);
    /* As libvirt: still held by the domain and the job handles. */
    assert_int_equal(virConnectClose(c), 2);
    virJobInfo info;
    assert_int_equal(virJobGetInfo(job, &info), 0);
    assert_int_not_equal(info.state, VIR_JOB_RUNNING);
    assert_int_not_equal(info.state, VIR_JOB_COMPLETE);
    assert_int_equal(virJobDestroy(job), 0);
    assert_false(drvExists(img));
    assert_int_equal(virDomainGetState(dom, &(int){ 0 }, NULL, 0), -1);
    assert_last_error(VIR_ERR_INVALID_CONN);
    virDomainFree(dom);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(testSaveRestoreDefault),
        cmocka_unit_test(testMemoryData),
        cmocka_unit_test(testDump),
        cmocka_unit_test(testCreate),
        cmocka_unit_test(testNetworks),
        cmocka_unit_test(testXMLRoundTrip),
        cmocka_unit_test(testHostileXML),
        cmocka_unit_test(testBadPaths),
        cmocka_unit_test(testOneJobAndAbort),
        cmocka_unit_test(testCommitFailure),
        cmocka_unit_test(testNoTmpfile),
        cmocka_unit_test(testBandwidthParam),
        cmocka_unit_test(testWorkerUser),
        cmocka_unit_test(testCloseWithJob),
    };
    drvNeedWorker();
    if (drvSetupRundir(NULL) < 0)
        return 1;
    /* Baseline after one open and close: a sanitizer's own helper thread
     * starts with the first thread the library creates. */
    virConnectPtr warm = virConnectOpen("test:///default");
    if (!warm || virConnectClose(warm) != 0)
        return 1;
    int fds = testCountFDs(), threads = testCountThreads();
    if (setupConn(NULL) < 0) {
        printf("cannot open test:///default: %s\n", virGetLastErrorMessage());
        return 1;
    }
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    if (teardownConn(NULL) < 0)
        rc = 1;
    /* The last connection closed: nothing of ours is left behind. */
    if (!TEST_WAIT_UNTIL(testCountFDs() == fds && testCountThreads() == threads &&
                         testCountChildren() == 0, TEST_TIMEOUT_MS)) {
        printf("left behind: %d descriptors (%d before), %d threads (%d before), "
               "%d children\n", testCountFDs(), fds, testCountThreads(), threads,
               testCountChildren());
        rc = 1;
    }
    drvTeardownRundir(NULL);
    return rc;
}
