/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xml-common-test.c: util/virxmlcommon.c, the one reader of the elements
 * libvirt's domain and network grammars share (every driver's parser
 * uses it): what it reads of each element, its refusals (with the
 * element named), the domain-only elements left to a network's parser,
 * the defaults after the children, a driver's own name rule, the element
 * loop of util/virxml.c, and what the network readers (<ip>, <bridge>,
 * <mac>, <dhcp>) read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "util/internal.h"
#include "util/virerror.h"
#include "util/virxmlcommon.h"

static const virXMLCommonRules domRules = {
    .domain = true, .nameMax = 64, .memoryMinKiB = 1024, .memoryMaxKiB = 1024 * 1024,
    .vcpusMax = 8,
};
static const virXMLCommonRules netRules = { .domain = false, .nameMax = 16 };

/* Read every child of @xml's root with @r; -1 at the first error (its
 * message in virGetLastErrorMessage), else 0 with the elements read
 * (bits) in *@read and the unread ones' count in *@other. */
static int readAll(const char *xml, const char *root, const virXMLCommonRules *r,
                   virXMLCommon *cm, unsigned int *other)
{
    virXMLCtx c = { root };
    xmlDocPtr doc = virXMLReadUntrusted(&c, xml, strlen(xml), 65536, root);
    int err = 0, rc = 0;

    *other = 0;
    virResetLastError();
    if (!doc)
        return -1;
    for (xmlNodePtr n = virXMLFirstElement(&c, xmlDocGetRootElement(doc), &err); n;
         n = virXMLNextElement(&c, n, &err)) {
        int which = virXMLCommonRead(&c, n, r, cm);
        if (which < 0) {
            rc = -1;
            break;
        }
        if (which == VIR_XML_COMMON_NONE)
            (*other)++;
    }
    if (rc == 0 && (err < 0 || virXMLCommonDone(&c, r, cm) < 0))
        rc = -1;
    xmlFreeDoc(doc);
    return rc;
}

static void test_domain(void **state)
{
    (void)state;
    virXMLCommon cm = VIR_XML_COMMON_INIT;
    unsigned int other;
    static const uint8_t uuid[16] = { 0x66, 0x95, 0xeb, 0x01, 0xf6, 0xa4, 0x83, 0x04,
                                      0x79, 0xaa, 0x97, 0xf2, 0x50, 0x2e, 0x19, 0x3f };

    assert_int_equal(readAll("<domain type='x'>\n"
                             "  <name>web-1</name>\n"
                             "  <uuid>6695eb01-f6a4-8304-79aa-97f2502e193f</uuid>\n"
                             "  <title>Web &amp; mail</title>\n"
                             "  <description>two\nlines</description>\n"
                             "  <metadata><a:b xmlns:a='urn:a'/></metadata>\n"
                             "  <memory unit='MiB' dumpCore='off'>512</memory>\n"
                             "  <currentMemory unit='b'>268436481</currentMemory>\n"
                             "  <vcpu placement='static' current='2'>4</vcpu>\n"
                             "  <os/>\n"
                             "  <on_poweroff>destroy</on_poweroff>\n"
                             "  <on_reboot>rename-restart</on_reboot>\n"
                             "  <on_crash>coredump-restart</on_crash>\n"
                             "  <devices/>\n"
                             "</domain>", "domain", &domRules, &cm, &other), 0);
    assert_string_equal(cm.name, "web-1");
    assert_memory_equal(cm.uuid, uuid, 16);
    assert_string_equal(cm.title, "Web & mail");
    assert_string_equal(cm.description, "two\nlines");
    assert_int_equal(cm.memoryKiB, 512 * 1024);
    assert_int_equal(cm.currentMemoryKiB, 262146);       /* 256 MiB + 1025 bytes: rounded up */
    assert_int_equal(cm.vcpus, 4);
    assert_int_equal(cm.vcpusCurrent, 2);
    assert_int_equal(cm.onPoweroff, VIR_XML_ACTION_DESTROY);
    assert_int_equal(cm.onReboot, VIR_XML_ACTION_RENAME_RESTART);
    assert_int_equal(cm.onCrash, VIR_XML_ACTION_COREDUMP_RESTART);
    assert_string_equal(virXMLLifecycleActionName(cm.onCrash), "coredump-restart");
    assert_int_equal(other, 2);                           /* <os>, <devices>: the driver's */
    assert_true(cm.seen & (1u << VIR_XML_COMMON_METADATA));
    virXMLCommonClear(&cm);

    /* Defaults: a made-up UUID, current memory and vCPUs at the maximum. */
    memset(&cm, 0, sizeof(cm));
    assert_int_equal(readAll("<domain><name>a</name><memory>2048</memory><title/></domain>",
                             "domain", &domRules, &cm, &other), 0);
    assert_int_equal(cm.currentMemoryKiB, 2048);
    assert_int_equal(cm.vcpus, 1);
    assert_int_equal(cm.vcpusCurrent, 1);
    assert_null(cm.title);                                /* empty: absent */
    assert_int_equal(cm.uuid[6] >> 4, 4);                 /* version 4 */
    assert_int_equal(cm.onPoweroff, VIR_XML_ACTION_NONE);
    virXMLCommonClear(&cm);
}

static void test_refused(void **state)
{
    (void)state;
#define D(x) "<domain><name>a</name><memory>2048</memory>" x "</domain>"
    static const struct {
        const char *xml;
        const char *msg;
    } bad[] = {
        { "<domain><memory>2048</memory></domain>", "domain XML has no <name>" },
        { "<domain><name>a</name></domain>", "domain XML has no <memory>" },
        { D("<name>b</name>"), "element <name> appears more than once" },
        { D("<memory>4096</memory>"), "element <memory> appears more than once" },
        { "<domain><name>../etc</name><memory>2048</memory></domain>", "invalid domain name '../etc'" },
        { "<domain><name a='1'>x</name><memory>2048</memory></domain>", "unsupported attribute 'a'" },
        { "<domain><name><b/></name><memory>2048</memory></domain>", "<name>" },
        { D("<uuid>nope</uuid>"), "nope" },
        { D("<title>one\ntwo</title>"), "<title> in domain XML must be a single line" },
        { "<domain><name>a</name><memory unit='PiB'>1</memory></domain>", "unknown memory unit 'PiB'" },
        { "<domain><name>a</name><memory>1</memory></domain>", "memory of 1 KiB in domain XML is out of range (1024 to 1048576 KiB)" },
        { "<domain><name>a</name><memory dumpCore='maybe'>2048</memory></domain>", "invalid dumpCore 'maybe'" },
        { D("<currentMemory dumpCore='on'>1024</currentMemory>"), "invalid dumpCore 'on' of <currentMemory>" },
        { D("<currentMemory>4096</currentMemory>"), "current memory in domain XML is larger than the memory" },
        { D("<vcpu>9</vcpu>"), "vCPU count '9' in domain XML is not a number from 1 to 8" },
        { D("<vcpu>x</vcpu>"), "vCPU count 'x'" },
        { D("<vcpu current='3'>2</vcpu>"), "current vCPU count '3' in domain XML is out of range (1 to 2)" },
        { D("<vcpu placement='near'>2</vcpu>"), "invalid vCPU placement 'near'" },
        { D("<vcpu cpuset='0-1'>2</vcpu>"), "unsupported vCPU pinning" },
        { D("<on_poweroff>coredump-destroy</on_poweroff>"), "invalid action 'coredump-destroy' of <on_poweroff>" },
        { D("<on_crash>explode</on_crash>"), "invalid action 'explode' of <on_crash>" },
        { D("<on_reboot>restart</on_reboot><on_reboot>destroy</on_reboot>"), "<on_reboot> appears more than once" },
        { D("stray text"), "text outside any element" },
    };
#undef D
    for (size_t i = 0; i < ARRAY_CARDINALITY(bad); i++) {
        virXMLCommon cm = VIR_XML_COMMON_INIT;
        unsigned int other;
        if (readAll(bad[i].xml, "domain", &domRules, &cm, &other) != -1)
            fail_msg("accepted: %s", bad[i].xml);
        if (!strstr(virGetLastErrorMessage(), bad[i].msg))
            fail_msg("%s\n  got '%s'\n  wanted '%s'", bad[i].xml, virGetLastErrorMessage(),
                     bad[i].msg);
        virXMLCommonClear(&cm);
    }
    /* the code says what kind of refusal */
    virXMLCommon cm = VIR_XML_COMMON_INIT;
    unsigned int other;
    assert_int_equal(readAll("<domain><name>a</name><memory>2048</memory><vcpu cpuset='1'>1</vcpu>"
                             "</domain>", "domain", &domRules, &cm, &other), -1);
    assert_int_equal(virGetLastError()->code, VIR_ERR_CONFIG_UNSUPPORTED);
    assert_int_equal(readAll("<domain><name>a</name></domain>", "domain", &domRules, &cm, &other), -1);
    assert_int_equal(virGetLastError()->code, VIR_ERR_XML_ERROR);
    virXMLCommonClear(&cm);
}

static int shortName(const char *name, size_t max, const char **why)
{
    if (strlen(name) >= max || strchr(name, '_')) {
        *why = "no '_' here";
        return -1;
    }
    return 0;
}

static void test_network(void **state)
{
    (void)state;
    virXMLCommonRules r = netRules;
    virXMLCommon cm = VIR_XML_COMMON_INIT;
    unsigned int other;

    /* A network's grammar has no <memory>, <vcpu>, on_*: the parser's own. */
    assert_int_equal(readAll("<network><name>lan</name><title>t</title><memory>1</memory>"
                             "<vcpu>1</vcpu><on_crash>x</on_crash><bridge/></network>",
                             "network", &r, &cm, &other), 0);
    assert_int_equal(other, 4);
    assert_string_equal(cm.name, "lan");
    assert_string_equal(cm.title, "t");
    virXMLCommonClear(&cm);

    /* A driver's name rule and size. */
    memset(&cm, 0, sizeof(cm));
    r.nameCheck = shortName;
    assert_int_equal(readAll("<network><name>a_b</name></network>", "network", &r, &cm, &other), -1);
    assert_non_null(strstr(virGetLastErrorMessage(), "invalid network name 'a_b': no '_' here"));
    memset(&cm, 0, sizeof(cm));
    assert_int_equal(readAll("<network><name>abcdefghijklmnopq</name></network>", "network", &r,
                             &cm, &other), -1);
    memset(&cm, 0, sizeof(cm));
    assert_int_equal(readAll("<network><uuid>6695eb01-f6a4-8304-79aa-97f2502e193f</uuid></network>",
                             "network", &r, &cm, &other), -1);
    assert_non_null(strstr(virGetLastErrorMessage(), "network XML has no <name>"));
    virXMLCommonClear(&cm);
}

/* <ip> of @xml read with prefixes 8 to 30; the message on error. */
static int readIP(const char *xml, uint32_t *addr, uint32_t *prefix, bool *nm, bool *fam)
{
    virXMLCtx c = { "network" };
    xmlDocPtr doc = virXMLReadUntrusted(&c, xml, strlen(xml), 4096, "ip");
    int rc;

    virResetLastError();
    assert_non_null(doc);
    rc = virXMLReadIPv4Net(&c, xmlDocGetRootElement(doc), 8, 30, addr, prefix, nm, fam);
    xmlFreeDoc(doc);
    return rc;
}

static void test_ipv4(void **state)
{
    (void)state;
    uint32_t a, p;
    bool nm, fam;

    assert_int_equal(readIP("<ip address='192.168.122.1' netmask='255.255.255.0'/>", &a, &p,
                            &nm, &fam), 0);
    assert_int_equal(a, 0xc0a87a01);
    assert_int_equal(p, 24);
    assert_true(nm);
    assert_false(fam);
    assert_int_equal(readIP("<ip family='ipv4' address='10.20.0.1' prefix='16'/>", &a, &p,
                            &nm, &fam), 0);
    assert_int_equal(a, 0x0a140001);
    assert_int_equal(p, 16);
    assert_false(nm);
    assert_true(fam);

    static const struct {
        const char *xml;
        const char *msg;
    } bad[] = {
        { "<ip family='ipv6' address='fd00::1' prefix='64'/>", "address family 'ipv6' in network XML: only ipv4" },
        { "<ip address='10.0.0.256' prefix='8'/>", "invalid or missing IPv4 address '10.0.0.256' on <ip>" },
        { "<ip address='0.0.0.0' prefix='8'/>", "invalid or missing IPv4 address '0.0.0.0'" },
        { "<ip prefix='8'/>", "invalid or missing IPv4 address ''" },
        { "<ip address='10.0.0.1'/>", "needs exactly one of 'prefix' and 'netmask'" },
        { "<ip address='10.0.0.1' prefix='8' netmask='255.0.0.0'/>", "exactly one of" },
        { "<ip address='10.0.0.1' prefix='31'/>", "IPv4 prefix '31' in network XML is not 8 to 30" },
        { "<ip address='10.0.0.1' prefix='x'/>", "IPv4 prefix 'x'" },
        { "<ip address='10.0.0.1' netmask='255.0.255.0'/>", "invalid IPv4 netmask '255.0.255.0'" },
        { "<ip address='10.0.0.1' netmask='0.0.0.0'/>", "invalid IPv4 netmask" },
        { "<ip address='10.0.0.1' netmask='255.255.255.254'/>", "is not /8 to /30" },
    };
    for (size_t i = 0; i < ARRAY_CARDINALITY(bad); i++) {
        if (readIP(bad[i].xml, &a, &p, &nm, &fam) != -1)
            fail_msg("accepted: %s", bad[i].xml);
        if (!strstr(virGetLastErrorMessage(), bad[i].msg))
            fail_msg("%s\n  got '%s'\n  wanted '%s'", bad[i].xml, virGetLastErrorMessage(),
                     bad[i].msg);
    }
}

/* What virXMLReadBridge, virXMLReadMac and virXMLReadIPChildren read
 * (their refusals, through both network parsers: netdrv-xml-test). */
static void test_bridge_mac_dhcp(void **state)
{
    (void)state;
    virXMLCtx c = { "network" };
    static const char xml[] =
        "<network>"
        "<bridge name='virbr3' stp='off' delay='7' macTableManager='libvirt' zone='trusted'/>"
        "<mac address='52:54:00:AB:cd:0e'/>"
        "<ip><dhcp>"
        "<range start='10.1.0.10' end='10.1.0.20'><lease expiry='3' unit='hours'/></range>"
        "<range start='10.1.0.30' end='10.1.0.30'/>"
        "<host name='h1' ip='10.1.0.5'><lease expiry='0'/></host>"
        "<host mac='52:54:00:00:00:09' ip='10.1.0.6'/>"
        "</dhcp></ip></network>";
    xmlDocPtr doc = virXMLReadUntrusted(&c, xml, strlen(xml), 4096, "network");
    xmlNodePtr root, n;
    virXMLBridge b;
    uint8_t mac[6];
    virXMLDhcp *d = calloc(1, sizeof(*d));
    static const uint8_t wantMac[6] = { 0x52, 0x54, 0x00, 0xab, 0xcd, 0x0e };
    static const uint8_t hostMac[6] = { 0x52, 0x54, 0x00, 0x00, 0x00, 0x09 };
    int err = 0;

    assert_non_null(doc);
    assert_non_null(d);
    root = xmlDocGetRootElement(doc);
    assert_non_null(n = virXMLFirstElement(&c, root, &err));
    assert_int_equal(virXMLReadBridge(&c, n, &b), 0);
    assert_string_equal(b.name, "virbr3");
    assert_int_equal(b.stp, VIR_XML_TRI_NO);
    assert_true(b.delayGiven);
    assert_int_equal(b.delay, 7);
    assert_int_equal(b.macTableManager, VIR_XML_MACTABLE_LIBVIRT);
    assert_string_equal(b.zone, "trusted");
    assert_non_null(n = virXMLNextElement(&c, n, &err));
    assert_int_equal(virXMLReadMac(&c, n, mac), 0);
    assert_memory_equal(mac, wantMac, 6);
    assert_non_null(n = virXMLNextElement(&c, n, &err));
    assert_int_equal(virXMLReadIPChildren(&c, n, 0x0a010001, 24, d), 0);
    assert_true(d->present);
    assert_int_equal(d->nranges, 2);
    assert_int_equal(d->ranges[0].start, 0x0a01000a);
    assert_int_equal(d->ranges[0].end, 0x0a010014);
    assert_int_equal(d->ranges[0].lease.unit, VIR_XML_LEASE_HOURS);
    assert_int_equal(virXMLLeaseSeconds(&d->ranges[0].lease), 3 * 3600);
    assert_int_equal(d->ranges[1].lease.unit, VIR_XML_LEASE_NONE);
    assert_int_equal(d->nhosts, 2);
    assert_string_equal(d->hosts[0].name, "h1");
    assert_false(d->hosts[0].hasMac);
    assert_int_equal(d->hosts[0].ip, 0x0a010005);
    assert_int_equal(d->hosts[0].lease.unit, VIR_XML_LEASE_MINUTES);
    assert_int_equal(d->hosts[0].lease.expiry, 0);
    assert_true(d->hosts[1].hasMac);
    assert_memory_equal(d->hosts[1].mac, hostMac, 6);
    assert_string_equal(d->hosts[1].name, "");
    assert_null(virXMLNextElement(&c, n, &err));
    assert_int_equal(err, 0);
    /* the same <dhcp> under a /29 (10.1.0.0-7): the first range is outside */
    memset(d, 0, sizeof(*d));
    virResetLastError();
    assert_int_equal(virXMLReadIPChildren(&c, n, 0x0a010001, 29, d), -1);
    assert_non_null(strstr(virGetLastErrorMessage(),
                           "DHCP range 10.1.0.10-10.1.0.20 in network XML is not inside"));
    free(d);
    xmlFreeDoc(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_domain),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_network),
        cmocka_unit_test(test_ipv4),
        cmocka_unit_test(test_bridge_mac_dhcp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
