/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * testdrv-xml-test.c: domain and network XML as the worker parses it:
 * valid documents give the right def; every hostile or invalid one is
 * rejected with a message that names the problem; the seed corpora keep
 * their valid-/invalid- promise; the define ops through a fake job.
 */
#include <dirent.h>
#include <libgen.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "../worker/jobio.c"
#include "../src/drivers/test/test-worker.c"
#include "../src/drivers/test/xml-worker.c"
#include "testdrv-fakejob.h"

#define NS "xmlns:test='http://libvirtsup.org/schemas/test/1.0'"

static int parseDom(const char *xml, testDomainDef *d)
{
    virResetLastError();
    return testDomainParseXML(xml, strlen(xml), d, NULL);
}

static int parseNet(const char *xml, testNetworkDef *n)
{
    virResetLastError();
    return testNetworkParseXML(xml, strlen(xml), n, NULL);
}

static void test_domain_valid(void **state)
{
    (void)state;
    testDomainDef d;
    const char *why;
    static const uint8_t uuid[16] = { 0x66, 0x95, 0xeb, 0x01, 0xf6, 0xa4, 0x83, 0x04,
                                      0x79, 0xaa, 0x97, 0xf2, 0x50, 0x2e, 0x19, 0x3f };

    assert_int_equal(parseDom(
        "<domain type='test' " NS ">\n"
        "  <name>web-01</name>\n"
        "  <uuid>6695eb01-f6a4-8304-79aa-97f2502e193f</uuid>\n"
        "  <memory unit='MiB'>256</memory>\n"
        "  <currentMemory>1024</currentMemory>\n"
        "  <title>Web</title><description>front &amp; back</description>\n"
        "  <vcpu>2</vcpu>\n"
        "  <os><type arch='x86_64'>hvm</type><boot dev='hd'/></os>\n"
        "  <!-- a comment -->\n"
        "  <test:fault op='save, dump' at='50' action='segv'/>\n"
        "  <test:fault op='create' action='ignore-cancel'/>\n"
        "  <test:rate bytes-per-second='1000'/>\n"
        "</domain>", &d), 0);
    assert_int_equal(d.magic, TEST_DOMAIN_DEF_MAGIC);
    assert_int_equal(d.version, 1);
    assert_string_equal(d.name, "web-01");
    assert_memory_equal(d.uuid, uuid, 16);
    assert_int_equal(d.memory_kib, 256 * 1024);
    assert_int_equal(d.vcpus, 2);
    assert_string_equal(d.os_type, "hvm");
    assert_int_equal(d.nfaults, 2);
    assert_int_equal(d.faults[0].ops, TEST_FAULT_OP_SAVE | TEST_FAULT_OP_DUMP);
    assert_int_equal(d.faults[0].at, 50);
    assert_int_equal(d.faults[0].action, TEST_FAULT_SEGV);
    assert_int_equal(d.faults[1].ops, TEST_FAULT_OP_CREATE);
    assert_int_equal(d.faults[1].at, 0);
    assert_int_equal(d.faults[1].action, TEST_FAULT_IGNORE_CANCEL);
    assert_int_equal(d.rate_bps, 1000);
    assert_int_equal(testDomainDefCheck(&d, &why), 0);

    /* Defaults: 1 vCPU, hvm, a random version 4 UUID, different each time. */
    testDomainDef e;
    assert_int_equal(parseDom("<domain type='qemu'><name>a</name><memory>1024</memory></domain>", &d), 0);
    assert_int_equal(parseDom("<domain type='kvm'><name>a</name><memory>1024</memory></domain>", &e), 0);
    assert_int_equal(d.vcpus, 1);
    assert_string_equal(d.os_type, "hvm");
    assert_int_equal(d.uuid[6] >> 4, 4);
    assert_int_equal(d.uuid[8] >> 6, 2);
    assert_memory_not_equal(d.uuid, e.uuid, 16);
    assert_int_equal(d.nfaults, 0);
    assert_int_equal(d.rate_bps, 0);
    assert_int_equal(d.data_bytes, 0);

    /* <test:memory data-bytes>: kept as given (up to <currentMemory>),
     * rounded to pages only where memory is laid out. */
    assert_int_equal(parseDom("<domain type='test' " NS "><name>m</name>"
                              "<memory>4096</memory><currentMemory>3072</currentMemory>"
                              "<test:memory data-bytes='3145728'/></domain>", &d), 0);
    assert_int_equal(d.data_bytes, 3145728);
    assert_int_equal(testMemoryTouched(&d), 3145728);
    assert_int_equal(parseDom("<domain type='test' " NS "><name>m</name>"
                              "<memory>4096</memory><test:memory data-bytes='1'/></domain>", &d), 0);
    assert_int_equal(d.data_bytes, 1);
    assert_int_equal(testMemoryTouched(&d), TEST_PAGE_SIZE);
    assert_int_equal(testDomainDefCheck(&d, &why), 0);
    d.data_bytes = 4096ull * 1024 + 1;
    assert_int_equal(testDomainDefCheck(&d, &why), -1);
    assert_string_equal(why, "memory data size is above the current memory");
    /* Networks have no memory. */
    testNetworkDef n;
    assert_int_equal(parseNet("<network " NS "><name>n</name><test:memory data-bytes='1'/>"
                              "</network>", &n), -1);
    assert_non_null(strstr(lastMessage(), "unsupported element <test:memory>"));

    /* Units, rounding up to KiB, undashed UUID, CDATA, surrounding blanks. */
    static const struct { const char *mem; uint64_t kib; } units[] = {
        { "<memory unit='b'>1048577</memory>", 1025 },
        { "<memory unit='bytes'>1048576</memory>", 1024 },
        { "<memory unit='KB'>1049</memory>", 1025 },
        { "<memory unit='k'>2048</memory>", 2048 },
        { "<memory unit='M'>3</memory>", 3072 },
        { "<memory unit='MB'>2</memory>", 1954 },
        { "<memory unit='GiB'>64</memory>", 64ull << 20 },
        { "<memory unit='GB'>1</memory>", 976563 },
        { "<memory> 4096 </memory>", 4096 },
        { "<memory><![CDATA[8192]]></memory>", 8192 },
    };
    for (size_t i = 0; i < ARRAY_CARDINALITY(units); i++) {
        char xml[256];
        snprintf(xml, sizeof(xml), "<domain type='test'><name>u</name>"
                 "<uuid>6695EB01F6A4830479AA97F2502E193F</uuid>%s</domain>", units[i].mem);
        if (parseDom(xml, &d) != 0)
            fail_msg("%s: %s", units[i].mem, lastMessage());
        assert_int_equal(d.memory_kib, units[i].kib);
        assert_memory_equal(d.uuid, uuid, 16);
    }
    assert_int_equal(parseDom("<domain type='test'><name>l</name><memory>1024</memory>"
                              "<os><type>linux</type><kernel>/k</kernel><cmdline>x</cmdline></os>"
                              "</domain>", &d), 0);
    assert_string_equal(d.os_type, "linux");
}

static const struct {
    const char *xml;
    const char *msg;
} badDomains[] = {
    { "", "domain XML is empty" },
    { "<domain type='test'><name>x</name>", "malformed domain XML: line 1" },
    { "<domain type='test'><name>x</nam></domain>", "malformed domain XML" },
    { "not xml at all", "malformed domain XML" },
    { "<network><name>x</name></network>", "expected root element <domain> in domain XML, found <network>" },
    { "<test:domain " NS "/>", "expected root element <domain>" },
    { "<domain><name>x</name><memory>1024</memory></domain>", "needs type='test'" },
    { "<domain type='xen'><name>x</name><memory>1024</memory></domain>", "found 'xen'" },
    { "<domain type='test' foo='1'><name>x</name><memory>1024</memory></domain>",
      "unsupported attribute 'foo' on <domain> in domain XML" },
    { "<domain type='test' id='abc'><name>x</name><memory>1024</memory></domain>", "invalid domain id" },
    { "<domain type='test'><name>x</name><memory>1024</memory><title><b/></title></domain>",
      "element <title> in domain XML must hold only text" },
    { "<domain type='test'><name>x</name><memory>1024</memory><devicez/></domain>",
      "unsupported element <devicez> in domain XML" },
    { "<domain type='kvm' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'><name>x</name>"
      "<memory>1024</memory><qemu:commandline><qemu:arg value='-s'/></qemu:commandline></domain>",
      "unsupported element <qemu:commandline> in domain XML" },
    { "<domain type='test'><name>x</name><memory>1024</memory><on_poweroff>restart</on_poweroff></domain>",
      "<on_poweroff>restart</on_poweroff> cannot be honoured by the test driver (its domains do 'destroy')" },
    { "<domain type='test'><name>x</name><memory>1024</memory><on_reboot>destroy</on_reboot></domain>",
      "<on_reboot>destroy</on_reboot> cannot be honoured by the test driver (its domains do 'restart')" },
    { "<domain type='test'><name>x</name><memory>1024</memory><title>a</title><title>b</title></domain>",
      "element <title> appears more than once" },
    { "<domain type='test' xmlns:o='urn:other'><name>x</name><memory>1024</memory><o:x/></domain>",
      "unsupported element <o:x> in domain XML" },
    { "<domain type='test' " NS "><name>x</name><memory>1024</memory><test:bogus/></domain>",
      "unsupported element <test:bogus> in domain XML" },
    { "<domain type='test'><name>x</name><memory>1024</memory>stray</domain>", "text outside any element" },
    { "<domain type='test'><memory>1024</memory></domain>", "domain XML has no <name>" },
    { "<domain type='test'><name>x</name></domain>", "domain XML has no <memory>" },
    { "<domain type='test'><name>x</name><name>y</name><memory>1024</memory></domain>",
      "element <name> appears more than once in domain XML" },
    { "<domain type='test'><name>x</name><memory>1024</memory><memory>1024</memory></domain>",
      "element <memory> appears more than once" },
    { "<domain type='test'><name></name><memory>1024</memory></domain>", "invalid domain name '': name is empty" },
    { "<domain type='test'><name>a b</name><memory>1024</memory></domain>", "invalid domain name 'a b'" },
    { "<domain type='test'><name>.x</name><memory>1024</memory></domain>", "starts with '.'" },
    { "<domain type='test'><name>aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa</name>"
      "<memory>1024</memory></domain>", "too long" },
    { "<domain type='test'><name>x<b/></name><memory>1024</memory></domain>",
      "element <name> in domain XML must hold only text" },
    { "<domain type='test'><name lang='en'>x</name><memory>1024</memory></domain>",
      "unsupported attribute 'lang' on <name>" },
    { "<domain type='test'><name>x</name><uuid>1234</uuid><memory>1024</memory></domain>",
      "invalid UUID '1234' in domain XML" },
    { "<domain type='test'><name>x</name><uuid>6695eb01-f6a4-8304-79aa-97f2502e193f00</uuid>"
      "<memory>1024</memory></domain>", "invalid UUID" },
    { "<domain type='test'><name>x</name><uuid>-6695eb01f6a4830479aa97f2502e193f</uuid>"
      "<memory>1024</memory></domain>", "invalid UUID" },
    { "<domain type='test'><name>x</name><uuid>6695eb01f6a4830479aa97f2502e193g</uuid>"
      "<memory>1024</memory></domain>", "invalid UUID" },
    { "<domain type='test'><name>x</name><memory>-1</memory></domain>",
      "invalid memory value '-1' in domain XML: not a number" },
    { "<domain type='test'><name>x</name><memory>1e6</memory></domain>", "not a number" },
    { "<domain type='test'><name>x</name><memory></memory></domain>", "not a number" },
    { "<domain type='test'><name>x</name><memory unit='PiB'>1</memory></domain>",
      "unknown memory unit 'PiB'" },
    { "<domain type='test'><name>x</name><memory>99999999999999999999999</memory></domain>",
      "is too large" },
    { "<domain type='test'><name>x</name><memory unit='TiB'>16777216</memory></domain>",
      "memory value '16777216 TiB' in domain XML is too large" },
    { "<domain type='test'><name>x</name><memory unit='GiB'>65</memory></domain>",
      "memory of 68157440 KiB in domain XML is out of range (1024 to 67108864 KiB)" },
    { "<domain type='test'><name>x</name><memory>1023</memory></domain>", "out of range" },
    { "<domain type='test'><name>x</name><memory>1024</memory><currentMemory>x</currentMemory></domain>",
      "not a number" },
    { "<domain type='test'><name>x</name><memory>1024</memory><vcpu>0</vcpu></domain>",
      "vCPU count '0' in domain XML is not a number from 1 to 256" },
    { "<domain type='test'><name>x</name><memory>1024</memory><vcpu>257</vcpu></domain>", "from 1 to 256" },
    { "<domain type='test'><name>x</name><memory>1024</memory><vcpu>two</vcpu></domain>", "'two' in domain XML is not a number" },
    { "<domain type='test'><name>x</name><memory>1024</memory><vcpu current='3'>2</vcpu></domain>",
      "current vCPU count '3'" },
    { "<domain type='test'><name>x</name><memory>1024</memory><os><type>xen</type></os></domain>",
      "unsupported OS type 'xen'" },
    { "<domain type='test'><name>x</name><memory>1024</memory><os><loadr/></os></domain>",
      "unsupported element <loadr>" },
    { "<domain type='test'><name>x</name><memory>1024</memory><os><boot dev='hd'>x</boot></os></domain>",
      "element <boot> in domain XML must be empty" },
    { "<domain type='test' " NS "><name>x</name><memory>1024</memory><test:fault op='save'/></domain>",
      "needs 'op' and 'action'" },
    { "<domain type='test' " NS "><name>x</name><memory>1024</memory>"
      "<test:fault op='migrate' action='segv'/></domain>", "unknown fault op 'migrate'" },
    { "<domain type='test' " NS "><name>x</name><memory>1024</memory>"
      "<test:fault op=',' action='segv'/></domain>", "empty 'op'" },
    { "<domain type='test' " NS "><name>x</name><memory>1024</memory>"
      "<test:fault op='save' action='explode'/></domain>", "unknown fault action 'explode'" },
    { "<domain type='test' " NS "><name>x</name><memory>1024</memory>"
      "<test:fault op='save' action='none'/></domain>", "unknown fault action 'none'" },
    { "<domain type='test' " NS "><name>x</name><memory>1024</memory>"
      "<test:fault op='save' at='101' action='segv'/></domain>", "fault percent '101'" },
    { "<domain type='test' " NS "><name>x</name><memory>1024</memory>"
      "<test:fault op='save' at='-1' action='segv'/></domain>", "fault percent '-1'" },
    { "<domain type='test' " NS "><name>x</name><memory>1024</memory>"
      "<test:fault op='save' action='segv' when='now'/></domain>", "unsupported attribute 'when'" },
    { "<domain type='test' " NS "><name>x</name><memory>1024</memory>"
      "<test:fault op='save' action='segv'><x/></test:fault></domain>", "unsupported element <x>" },
    { "<domain type='test' " NS "><name>x</name><memory>1024</memory>"
      "<test:rate bytes-per-second='0'/></domain>", "positive 'bytes-per-second'" },
    { "<domain type='test' " NS "><name>x</name><memory>1024</memory>"
      "<test:rate/></domain>", "positive 'bytes-per-second'" },
    { "<domain type='test' " NS "><name>x</name><memory>1024</memory>"
      "<test:rate bytes-per-second='1'/><test:rate bytes-per-second='2'/></domain>",
      "element <test:rate> appears more than once" },
    { "<domain type='test' " NS "><name>x</name><memory>1024</memory>"
      "<test:memory data-bytes='0'/></domain>", "<test:memory> in domain XML needs a positive "
      "'data-bytes' (found '0')" },
    { "<domain type='test' " NS "><name>x</name><memory>1024</memory>"
      "<test:memory/></domain>", "needs a positive 'data-bytes' (found '')" },
    { "<domain type='test' " NS "><name>x</name><memory>1024</memory>"
      "<test:memory data-bytes='1M'/></domain>", "needs a positive 'data-bytes' (found '1M')" },
    { "<domain type='test' " NS "><name>x</name><memory>1024</memory>"
      "<test:memory data='1'/></domain>", "unsupported attribute 'data'" },
    { "<domain type='test' " NS "><name>x</name><memory>1024</memory>"
      "<test:memory data-bytes='1'/><test:memory data-bytes='2'/></domain>",
      "element <test:memory> appears more than once" },
    { "<domain type='test' " NS "><name>x</name><memory>2048</memory>"
      "<currentMemory>1024</currentMemory><test:memory data-bytes='1048577'/></domain>",
      "<test:memory data-bytes='1048577'> in domain XML is above the domain's current memory "
      "(1048576 bytes): the data must fit in <currentMemory>" },
    /* Hostile. */
    { "<?xml version='1.0'?><!DOCTYPE domain [<!ENTITY a 'aaaaaaaaaa'>"
      "<!ENTITY b '&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;'><!ENTITY c '&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;'>]>"
      "<domain type='test'><name>&c;</name><memory>1024</memory></domain>",
      "domain XML must not contain a DTD or entity declarations" },
    { "<!DOCTYPE domain SYSTEM 'http://example.com/evil.dtd'>"
      "<domain type='test'><name>x</name><memory>1024</memory></domain>", "must not contain a DTD" },
    { "<!DOCTYPE domain [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>"
      "<domain type='test'><name>&x;</name><memory>1024</memory></domain>", "must not contain a DTD" },
    { "<domain type='test'><name>&x;</name><memory>1024</memory></domain>", "malformed domain XML" },
    { "<domain type='test'><name>&amp;</name><memory>1024</memory></domain>", "invalid domain name '&'" },
    { "<domain type='test' xmlns:xi='http://www.w3.org/2001/XInclude'><name>x</name>"
      "<memory>1024</memory><xi:include href='/etc/passwd'/></domain>", "unsupported element <xi:include>" },
    { "<?xml version='1.0' encoding='UTF-7'?>+ADw-domain type='test'+AD4-", "malformed domain XML" },
};

static void test_domain_invalid(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_CARDINALITY(badDomains); i++) {
        testDomainDef d, before;
        memset(&d, 0x33, sizeof(d));
        before = d;
        if (parseDom(badDomains[i].xml, &d) != -1)
            fail_msg("accepted: %s", badDomains[i].xml);
        if (!strstr(lastMessage(), badDomains[i].msg))
            fail_msg("%s\n  got '%s'\n  wanted '%s'", badDomains[i].xml, lastMessage(),
                     badDomains[i].msg);
        assert_memory_equal(&d, &before, sizeof(d)); /* output untouched */
    }
}

static void test_domain_limits(void **state)
{
    (void)state;
    testDomainDef d;
    size_t len = TEST_XML_MAX + 1, n;
    char *big = malloc(len + 1);

    /* Too large, even if well-formed. */
    n = (size_t)snprintf(big, len + 1, "<domain type='test'><name>x</name><memory>1024</memory><!--");
    memset(big + n, '-', len - n - 3);
    memcpy(big + len - 3, "-->", 3);
    big[len] = '\0';
    assert_int_equal(testDomainParseXML(big, len, &d, NULL), -1);
    assert_string_equal(lastMessage(), "domain XML is too large: 262145 bytes (at most 262144)");

    /* NUL bytes: also how UTF-16 looks. */
    assert_int_equal(testDomainParseXML("<domain\0type='test'/>", 21, &d, NULL), -1);
    assert_contains(lastMessage(), "NUL byte");
    assert_int_equal(testDomainParseXML("\xff\xfe<\0d\0", 6, &d, NULL), -1);
    assert_contains(lastMessage(), "NUL byte");

    /* Deep nesting inside an unknown element stops at the element. */
    n = 0;
    n += (size_t)sprintf(big + n, "<domain type='test'><name>x</name><memory>1024</memory>");
    for (int i = 0; i < 10000; i++)
        n += (size_t)sprintf(big + n, "<a>");
    for (int i = 0; i < 10000; i++)
        n += (size_t)sprintf(big + n, "</a>");
    n += (size_t)sprintf(big + n, "</domain>");
    assert_int_equal(testDomainParseXML(big, n, &d, NULL), -1);
    assert_true(strstr(lastMessage(), "malformed") || strstr(lastMessage(), "unsupported element <a>"));

    /* Nine faults. */
    n = (size_t)sprintf(big, "<domain type='test' " NS "><name>x</name><memory>1024</memory>");
    for (int i = 0; i < TEST_FAULTS_MAX; i++)
        n += (size_t)sprintf(big + n, "<test:fault op='save' at='%d' action='segv'/>", i);
    strcpy(big + n, "</domain>");
    assert_int_equal(parseDom(big, &d), 0);
    assert_int_equal(d.nfaults, TEST_FAULTS_MAX);
    assert_int_equal(d.faults[7].at, 7);
    sprintf(big + n, "<test:fault op='save' action='segv'/></domain>");
    assert_int_equal(parseDom(big, &d), -1);
    assert_string_equal(lastMessage(), "too many <test:fault> elements in domain XML (at most 8)");

    /* Too large inside a well-formed parameter blob: the parser says so. */
    fakeJob job;
    size_t plen;
    void *params;
    memset(big, ' ', TEST_XML_MAX + 1);
    big[TEST_XML_MAX + 1] = '\0';
    params = fakeParams(NULL, NULL, big, 0, 0, &plen);
    fakeJobInit(&job, -1);
    virWorkerOpLookup(TEST_OP_DOMAIN_DEFINE)->run(FJ(&job), params, plen);
    assert_int_equal(job.finished, FAKE_ERROR);
    assert_string_equal(job.message, "domain XML is too large: 262145 bytes (at most 262144)");
    free(params);

    /* Not NUL-terminated: only @len bytes are read. */
    const char *xml = "<domain type='test'><name>x</name><memory>1024</memory></domain>GARBAGE";
    assert_int_equal(testDomainParseXML(xml, strlen(xml) - 7, &d, NULL), 0);
    free(big);
}

static void test_network(void **state)
{
    (void)state;
    testNetworkDef n;
    const char *why;

    assert_int_equal(parseNet(
        "<network " NS "><name>default</name>"
        "<uuid>dd8fe884-6c02-601e-7551-cca97df1c5df</uuid>"
        "<forward mode='nat'/><bridge name='virbr0' stp='on' delay='0'/>"
        "<ip address='192.168.122.1' netmask='255.255.255.0'>"
        "<dhcp><range start='192.168.122.2' end='192.168.122.254'/></dhcp></ip>"
        "<test:fault op='create' at='20' action='hang'/>"
        "<test:rate bytes-per-second='4096'/></network>", &n), 0);
    assert_int_equal(n.magic, TEST_NETWORK_DEF_MAGIC);
    assert_string_equal(n.name, "default");
    assert_int_equal(n.uuid[0], 0xdd);
    assert_int_equal(n.uuid[15], 0xdf);
    assert_string_equal(n.bridge, "virbr0");
    assert_string_equal(n.forward, "nat");
    assert_int_equal(n.ipv4, 0xc0a87a01);
    assert_int_equal(n.prefix, 24);
    assert_int_equal(n.nfaults, 1);
    assert_int_equal(n.faults[0].action, TEST_FAULT_HANG);
    assert_int_equal(n.rate_bps, 4096);
    assert_int_equal(testNetworkDefCheck(&n, &why), 0);

    assert_int_equal(parseNet("<network><name>iso</name></network>", &n), 0);
    assert_string_equal(n.forward, "");
    assert_string_equal(n.bridge, "");
    assert_int_equal(n.ipv4, 0);
    assert_int_equal(n.uuid[6] >> 4, 4);
    assert_int_equal(parseNet("<network><name>r</name><forward/>"
                              "<ip family='ipv4' address='10.1.2.3' prefix='8'/></network>", &n), 0);
    assert_string_equal(n.forward, "nat");
    assert_int_equal(n.prefix, 8);
    assert_int_equal(parseNet("<network><name>r</name><forward mode='route'/>"
                              "<ip address='10.0.0.1' netmask='255.255.255.255'/></network>", &n), 0);
    assert_string_equal(n.forward, "route");
    assert_int_equal(n.prefix, 32);
    assert_int_equal(parseNet("<network><name>i</name><forward mode='isolated'/></network>", &n), 0);
    assert_string_equal(n.forward, "isolated");

    static const struct { const char *xml; const char *msg; } bad[] = {
        { "<domain type='test'/>", "expected root element <network> in network XML, found <domain>" },
        { "<network ipv6='yes'><name>n</name></network>", "unsupported attribute 'ipv6' on <network>" },
        { "<network><uuid>dd8fe8846c02601e7551cca97df1c5df</uuid></network>", "network XML has no <name>" },
        { "<network><name>n/x</name></network>", "invalid network name 'n/x'" },
        { "<network><name>n</name><mak address='52:54:00:00:00:01'/></network>",
          "unsupported element <mak> in network XML" },
        { "<network><name>n</name><bridge name='a-very-long-bridge0'/></network>",
          "invalid interface name name='a-very-long-bridge0' on <bridge> in network XML" },
        { "<network><name>n</name><bridge name='br0' stp='maybe'/></network>", "invalid stp='maybe' on <bridge>" },
        { "<network><name>n</name><bridge name='br0' delay='x'/></network>", "delay='x' on <bridge> in network XML is not a number" },
        { "<network><name>n</name><bridge name='br0'/><bridge name='br1'/></network>",
          "element <bridge> appears more than once" },
        { "<network><name>n</name><forward mode='bridge'/></network>",
          "unsupported forward mode 'bridge' in network XML (expected nat, route or isolated)" },
        { "<network><name>n</name><ip address='10.0.0.256' prefix='8'/></network>",
          "invalid or missing IPv4 address '10.0.0.256'" },
        { "<network><name>n</name><ip address='0.0.0.0' prefix='8'/></network>", "invalid or missing IPv4" },
        { "<network><name>n</name><ip prefix='8'/></network>", "invalid or missing IPv4 address ''" },
        { "<network><name>n</name><ip address='10.0.0.1'/></network>",
          "needs exactly one of 'prefix' and 'netmask'" },
        { "<network><name>n</name><ip address='10.0.0.1' prefix='8' netmask='255.0.0.0'/></network>",
          "exactly one of" },
        { "<network><name>n</name><ip address='10.0.0.1' prefix='33'/></network>",
          "IPv4 prefix '33' in network XML is not 1 to 32" },
        { "<network><name>n</name><ip address='10.0.0.1' prefix='0'/></network>", "is not 1 to 32" },
        { "<network><name>n</name><ip address='10.0.0.1' netmask='255.0.255.0'/></network>",
          "invalid IPv4 netmask '255.0.255.0'" },
        { "<network><name>n</name><ip address='10.0.0.1' netmask='0.0.0.0'/></network>", "invalid IPv4 netmask" },
        { "<network><name>n</name><ip family='ipv6' address='fd00::1' prefix='64'/></network>",
          "unsupported address family 'ipv6'" },
        { "<network><name>n</name><ip address='10.0.0.1' prefix='8'/><ip address='10.0.0.2' prefix='8'/>"
          "</network>", "only one <ip> element" },
        { "<network><name>n</name><ip address='10.0.0.1' prefix='8'><dhcp>"
          "<range start='10.0.0.9' end='10.0.0.2'/></dhcp></ip></network>",
          "DHCP range 10.0.0.9-10.0.0.2 in network XML ends before it starts" },
        { "<network><name>n</name><ip address='10.0.0.1' prefix='8'><dhcp>"
          "<hostx mac='52:54:00:00:00:01' ip='10.0.0.5'/></dhcp></ip></network>", "unsupported element <hostx>" },
        { "<network><name>n</name><ip address='10.0.0.1' prefix='8'><dhcp>"
          "<host mac='52:54:00:00:00:01' ip='10.0.0.5'><x/></host></dhcp></ip></network>",
          "unsupported element <x> in network XML" },
        { "<network><name>n</name><ip address='10.0.0.1' prefix='8'><tftp/></ip></network>",
          "unsupported element <tftp>" },
        { "<network " NS "><name>n</name><test:fault op='create' action='boom'/></network>",
          "unknown fault action 'boom' in network XML" },
        { "<!DOCTYPE network [<!ENTITY n 'x'>]><network><name>&n;</name></network>",
          "network XML must not contain a DTD" },
        { "<network><name>n</name>", "malformed network XML" },
    };
    for (size_t i = 0; i < ARRAY_CARDINALITY(bad); i++) {
        if (parseNet(bad[i].xml, &n) != -1)
            fail_msg("accepted: %s", bad[i].xml);
        if (!strstr(lastMessage(), bad[i].msg))
            fail_msg("%s\n  got '%s'\n  wanted '%s'", bad[i].xml, lastMessage(), bad[i].msg);
    }
}

/* Every seed named valid-* parses and every invalid-* is rejected. */
static void checkCorpus(const char *dir, bool domain)
{
    char src[] = __FILE__, path[1024];
    DIR *d;
    struct dirent *e;
    int nvalid = 0, ninvalid = 0;

    snprintf(path, sizeof(path), "%s/fuzz/corpus/%s", dirname(src), dir);
    assert_non_null(d = opendir(path));
    while ((e = readdir(d))) {
        char file[1300], *buf;
        FILE *f;
        size_t len;
        int rc;
        testDomainDef dd;
        testNetworkDef nd;

        if (e->d_name[0] == '.')
            continue;
        snprintf(file, sizeof(file), "%s/%s", path, e->d_name);
        assert_non_null(f = fopen(file, "re"));
        buf = malloc(TEST_XML_MAX + 2);
        len = fread(buf, 1, TEST_XML_MAX + 1, f);
        fclose(f);
        virResetLastError();
        rc = domain ? testDomainParseXML(buf, len, &dd, NULL) : testNetworkParseXML(buf, len, &nd, NULL);
        free(buf);
        if (strncmp(e->d_name, "valid-", 6) == 0) {
            if (rc != 0)
                fail_msg("%s: %s", file, lastMessage());
            nvalid++;
        } else {
            if (rc != -1)
                fail_msg("%s was accepted", file);
            ninvalid++;
        }
    }
    closedir(d);
    assert_true(nvalid >= 2 && ninvalid >= 2);
}

static void test_corpus(void **state)
{
    (void)state;
    checkCorpus("domain-xml", true);
    checkCorpus("network-xml", false);
}

static void test_define_ops(void **state)
{
    (void)state;
    const virWorkerOp *dom = virWorkerOpLookup(TEST_OP_DOMAIN_DEFINE);
    const virWorkerOp *net = virWorkerOpLookup(TEST_OP_NETWORK_DEFINE);
    fakeJob job;
    testDomainDef d;
    testNetworkDef n;
    size_t plen;
    void *p;

    assert_non_null(dom);
    assert_non_null(net);
    p = fakeParams(NULL, NULL, "<domain type='test'><name>def</name><memory>2048</memory></domain>",
                   0, 0, &plen);
    fakeJobInit(&job, -1);
    dom->run(FJ(&job), p, plen);
    assert_int_equal(job.nfinish, 1);
    assert_int_equal(job.finished, FAKE_SUCCESS);
    assert_int_equal(job.resultlen, sizeof(d));
    memcpy(&d, job.result, sizeof(d));
    assert_string_equal(d.name, "def");
    assert_int_equal(d.memory_kib, 2048);
    assert_int_equal(job.percent, 100);
    free(p);

    p = fakeParams(NULL, NULL, "<domain type='test'><name>def</name></domain>", 0, 0, &plen);
    fakeJobInit(&job, -1);
    dom->run(FJ(&job), p, plen);
    assert_int_equal(job.finished, FAKE_ERROR);
    assert_int_equal(job.code, VIR_ERR_XML_ERROR);
    assert_string_equal(job.message, "domain XML has no <memory>");
    assert_int_equal(job.resultlen, 0);
    free(p);

    p = fakeParams(NULL, NULL, "<network><name>n1</name></network>", 0, 0, &plen);
    fakeJobInit(&job, -1);
    net->run(FJ(&job), p, plen);
    assert_int_equal(job.finished, FAKE_SUCCESS);
    assert_int_equal(job.resultlen, sizeof(n));
    memcpy(&n, job.result, sizeof(n));
    assert_string_equal(n.name, "n1");
    free(p);

    /* No XML at all. */
    p = fakeParams(NULL, NULL, NULL, 0, 0, &plen);
    fakeJobInit(&job, -1);
    net->run(FJ(&job), p, plen);
    assert_int_equal(job.finished, FAKE_ERROR);
    assert_string_equal(job.message, "network XML is empty");
    free(p);
}

static int teardown(void **state)
{
    (void)state;
    xmlCleanupParser();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_domain_valid),
        cmocka_unit_test(test_domain_invalid),
        cmocka_unit_test(test_domain_limits),
        cmocka_unit_test(test_network),
        cmocka_unit_test(test_corpus),
        cmocka_unit_test(test_define_ops),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
