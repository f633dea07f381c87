/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * netdrv-xml-test.c: the network XML subset as the worker parses it and
 * the library prints it back: what libvirt 9's net-dumpxml prints for
 * such a network is accepted and echoed, everything else is refused by
 * name; netDefCheck catches every corruption a compromised worker could
 * send; the dnsmasq configuration generated from a definition is accepted
 * by dnsmasq itself; the test driver's network parser gives the same
 * verdict and message on <bridge>, <mac> and <dhcp> (one reader of them).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "../src/drivers/network/netxml-worker.c"
#include "testdrv-fakejob.h"
#include "drivers/network/network_conf.h"
#include "drivers/test/xml-shared.h"

static netDef *parse(const char *xml)
{
    netDef *d = calloc(1, sizeof(*d));
    assert_non_null(d);
    virResetLastError();
    if (netParseXML(xml, strlen(xml), d) < 0)
        fail_msg("parse failed: %s\n%s", virGetLastErrorMessage(), xml);
    return d;
}

/* @xml is refused, with a message holding @needle. */
static void refused(const char *xml, const char *needle)
{
    netDef *d = calloc(1, sizeof(*d));
    assert_non_null(d);
    virResetLastError();
    if (netParseXML(xml, strlen(xml), d) == 0)
        fail_msg("accepted: %s", xml);
    if (!strstr(virGetLastErrorMessage(), needle))
        fail_msg("message '%s' lacks '%s' for %s", virGetLastErrorMessage(), needle, xml);
    free(d);
}

/* libvirt 9's net-dumpxml of its default network, while a guest uses it. */
static const char dumpxmlDefault[] =
    "<network connections='1'>\n"
    "  <name>default</name>\n"
    "  <uuid>3e3fce45-4f53-4fa7-bb32-11f34168b82b</uuid>\n"
    "  <forward mode='nat'>\n"
    "    <nat>\n"
    "      <port start='1024' end='65535'/>\n"
    "    </nat>\n"
    "  </forward>\n"
    "  <bridge name='virbr0' stp='on' delay='0'/>\n"
    "  <mac address='52:54:00:0a:cd:21'/>\n"
    "  <ip address='192.168.122.1' netmask='255.255.255.0'>\n"
    "    <dhcp>\n"
    "      <range start='192.168.122.2' end='192.168.122.254'/>\n"
    "    </dhcp>\n"
    "  </ip>\n"
    "</network>\n";

static void test_dumpxml_default(void **s)
{
    (void)s;
    netDef *d = parse(dumpxmlDefault);
    static const uint8_t uuid[16] = { 0x3e, 0x3f, 0xce, 0x45, 0x4f, 0x53, 0x4f, 0xa7,
                                      0xbb, 0x32, 0x11, 0xf3, 0x41, 0x68, 0xb8, 0x2b };
    const char *why = NULL;

    assert_string_equal(d->name, "default");
    assert_memory_equal(d->uuid, uuid, 16);
    assert_int_equal(d->forward, NET_FORWARD_NAT);
    assert_int_equal(d->natPortStart, 1024);
    assert_int_equal(d->natPortEnd, 65535);
    assert_string_equal(d->bridge, "virbr0");
    assert_int_equal(d->stp, 1);
    assert_int_equal(d->delay, 0);
    assert_int_equal(d->hasMac, 1);
    assert_int_equal(d->ipv4, 0xc0a87a01);
    assert_int_equal(d->prefix, 24);
    assert_int_equal(d->ipNetmaskForm, 1);
    assert_int_equal(d->nranges, 1);
    assert_int_equal(d->ranges[0].start, 0xc0a87a02);
    assert_int_equal(d->ranges[0].end, 0xc0a87afe);
    assert_int_equal(netDefCheck(d, true, &why), 0);

    /* Printed back as libvirt prints it (connections only when live). */
    char *x = netDefFormat(d, 1);
    assert_non_null(x);
    assert_string_equal(x, dumpxmlDefault);
    free(x);
    free(d);
}

/* Everything of the subset at once, in the order it is printed. */
static const char richXML[] =
    "<network ipv6='no'>\n"
    "  <name>lab-1.net</name>\n"
    "  <uuid>6695eb01-f6a4-8304-79aa-97f2502e193f</uuid>\n"
    "  <title>Lab &amp; test &lt;net&gt;</title>\n"
    "  <description>First line\n"
    "second line, with &apos;quotes&apos; and &quot;more&quot;</description>\n"
    "  <forward mode='nat' dev='eth0'>\n"
    "    <nat ipv6='no'>\n"
    "      <port start='2000' end='3000'/>\n"
    "    </nat>\n"
    "    <interface dev='eth0'/>\n"
    "  </forward>\n"
    "  <bridge name='vlab1' stp='off' delay='5' macTableManager='kernel'/>\n"
    "  <mtu size='9000'/>\n"
    "  <mac address='52:54:00:aa:bb:cc'/>\n"
    "  <domain name='lab.example' localOnly='yes'/>\n"
    "  <dns enable='no'/>\n"
    "  <ip family='ipv4' address='10.20.0.1' prefix='16' localPtr='yes'>\n"
    "    <dhcp>\n"
    "      <range start='10.20.1.10' end='10.20.1.200'>\n"
    "        <lease expiry='2' unit='hours'/>\n"
    "      </range>\n"
    "      <range start='10.20.2.1' end='10.20.2.9'/>\n"
    "      <host mac='52:54:00:00:00:01' name='web' ip='10.20.3.1'>\n"
    "        <lease expiry='0' unit='minutes'/>\n"
    "      </host>\n"
    "      <host name='db' ip='10.20.3.2'/>\n"
    "      <host mac='52:54:00:00:00:03' ip='10.20.3.3'/>\n"
    "    </dhcp>\n"
    "  </ip>\n"
    "</network>\n";

static void test_rich_roundtrip(void **s)
{
    (void)s;
    netDef *d = parse(richXML);
    assert_string_equal(d->title, "Lab & test <net>");
    assert_string_equal(d->forwardDev, "eth0");
    assert_int_equal(d->stp, 0);
    assert_int_equal(d->delay, 5);
    assert_int_equal(d->mtu, 9000);
    assert_int_equal(d->dnsEnable, NET_TRI_NO);
    assert_int_equal(d->domainLocalOnly, NET_TRI_YES);
    assert_int_equal(d->nranges, 2);
    assert_int_equal(d->ranges[0].lease.unit, NET_LEASE_HOURS);
    assert_int_equal(netLeaseSeconds(&d->ranges[0].lease), 7200);
    assert_int_equal(d->nhosts, 3);
    assert_int_equal(d->hosts[1].hasMac, 0);
    assert_string_equal(d->hosts[1].name, "db");
    assert_int_equal(d->echo, NET_ECHO_IPV6_NO | NET_ECHO_MACTABLE_KERNEL |
                              NET_ECHO_NAT_IPV6_NO | NET_ECHO_IP_FAMILY);

    char *x = netDefFormat(d, 0);
    assert_non_null(x);
    assert_string_equal(x, richXML);
    /* And what we print parses to the same record. */
    netDef *again = parse(x);
    assert_memory_equal(d, again, sizeof(*d));
    free(again);
    free(x);
    free(d);
}

static void test_defaults(void **s)
{
    (void)s;
    netDef *d = parse("<network><name>iso</name></network>");
    assert_int_equal(d->forward, NET_FORWARD_NONE);
    assert_int_equal(d->stp, 1);
    assert_int_equal(d->ipv4, 0);
    assert_false(d->bridge[0]);
    /* A random v4 UUID. */
    assert_int_equal(d->uuid[6] >> 4, 4);
    char *x = netDefFormat(d, 0);
    assert_non_null(strstr(x, "<bridge stp='on' delay='0'/>"));
    assert_null(strstr(x, "<forward"));
    free(x);
    free(d);
    /* <forward/> is NAT, with libvirt's port range. */
    d = parse("<network><name>n</name><forward/><ip address='10.0.0.1' prefix='24'/></network>");
    assert_int_equal(d->forward, NET_FORWARD_NAT);
    assert_int_equal(d->natPortStart, 1024);
    free(d);
}

static void test_refused(void **s)
{
    (void)s;
#define NET(body) "<network><name>n</name>" body "</network>"
#define IP24 "<ip address='192.168.9.1' prefix='24'>"
    /* <bridge>, <mac> and <dhcp>: test_agree_refused (both parsers) */
    refused(NET("<portgroup name='x'/>"), "unsupported element <portgroup> in network XML");
    refused(NET("<bandwidth/>"), "unsupported element <bandwidth>");
    refused(NET("<vlan/>"), "unsupported element <vlan>");
    refused(NET("<metadata/>"), "unsupported element <metadata>");
    refused(NET("<route address='10.1.0.0' prefix='16' gateway='192.168.9.2'/>"),
            "unsupported element <route>");
    refused(NET("<virtualport type='openvswitch'/>"), "unsupported element <virtualport>");
    refused(NET("<port isolated='yes'/>"), "unsupported element <port>");
    refused(NET("<forward mode='bridge'/>"), "unsupported forward mode 'bridge'");
    refused(NET("<forward mode='isolated'/>"), "unsupported forward mode 'isolated'");
    refused(NET("<forward mode='nat'><nat><address start='1.2.3.4' end='1.2.3.5'/></nat></forward>"
                IP24 "</ip>"), "unsupported element <address>");
    refused(NET("<forward mode='route'><nat/></forward>" IP24 "</ip>"),
            "<nat> in network XML needs forward mode 'nat'");
    refused(NET("<forward mode='nat' dev='eth0'><interface dev='eth1'/></forward>" IP24 "</ip>"),
            "must name the forward device");
    refused(NET("<forward mode='nat'/>"), "needs an IPv4 address");
    refused(NET("<ip family='ipv6' address='fd00::1' prefix='64'/>"), "only ipv4");
    refused(NET(IP24 "</ip><ip address='192.168.10.1' prefix='24'/>"), "only one <ip>");
    refused(NET(IP24 "<tftp root='/srv'/></ip>"), "unsupported element <tftp>");
    refused(NET("<dns><forwarder addr='192.0.2.1'/></dns>"), "unsupported element <forwarder>");
    refused("<network trustGuestRxFilters='yes'><name>n</name></network>",
            "unsupported attribute 'trustGuestRxFilters'");
    refused("<network ipv6='yes'><name>n</name></network>", "IPv6 is not supported");
    refused(NET("<mtu size='70000'/>"), "size='70000'");
    refused(NET("<mtu/>"), "needs 'size'");
    refused(NET("<domain name='-bad.example'/>"), "invalid domain name");
    refused(NET("<ip address='192.168.9.0' prefix='24'/>"), "network or broadcast address");
    refused(NET("<ip address='192.168.9.1' prefix='31'/>"), "not 8 to 30");
    refused(NET("<ip address='192.168.9.1' netmask='255.0.255.0'/>"), "invalid IPv4 netmask");
    refused(NET("<ip address='192.168.9.1'/>"), "exactly one of 'prefix' and 'netmask'");
    refused(NET("<title>a\nb</title>"), "single line");
    refused("<network><uuid>1234</uuid><name>n</name></network>", "invalid UUID");
    refused("<network><name>n</name><name>m</name></network>", "more than once");
    refused("<network><name>.hidden</name></network>", "invalid network name");
    refused("<network></network>", "no <name>");
    refused("<domain><name>n</name></domain>", "expected root element <network>");
    refused("<!DOCTYPE network [<!ENTITY x 'y'>]><network><name>&x;</name></network>",
            "must not contain a DTD");
    refused("<network><name>n</name>", "malformed network XML");
    refused("<network>text<name>n</name></network>", "text outside any element");
#undef IP24
#undef NET
}

static netDef *validDef(void)
{
    netDef *d = parse(richXML);
    return d;
}

/* A string field set as a canonical record holds it: zero-filled. */
static void setStr(char *buf, size_t len, const char *v)
{
    memset(buf, 0, len);
    strcpy(buf, v);
}

/* Each corruption of a valid record is caught by netDefCheck. */
static void test_check(void **s)
{
    (void)s;
    const char *why;
    netDef *d;

#define CORRUPT(stmt, needle) do { \
        d = validDef(); \
        assert_int_equal(netDefCheck(d, true, &why), 0); \
        stmt; \
        why = NULL; \
        if (netDefCheck(d, true, &why) == 0) \
            fail_msg("corruption '%s' passed the check", #stmt); \
        if (!strstr(why, (needle))) \
            fail_msg("'%s': reason '%s' lacks '%s'", #stmt, why, (needle)); \
        free(d); \
    } while (0)

    CORRUPT(d->magic++, "magic");
    CORRUPT(d->version = 2, "version");
    CORRUPT(memset(d->name, 'a', sizeof(d->name)), "not terminated");
    CORRUPT(d->name[sizeof(d->name) - 1] = 'x', "tail is not zero");
    CORRUPT(setStr(d->name, sizeof(d->name), "a b"), "holds a character");
    CORRUPT(setStr(d->bridge, sizeof(d->bridge), "br/0"), "holds a character");
    CORRUPT(memset(d->bridge, 0, sizeof(d->bridge)), "no bridge name");
    CORRUPT(d->stp = 2, "bridge flags");
    CORRUPT(d->delay = 31, "forward delay");
    CORRUPT(d->mac[0] = 1, "multicast");
    CORRUPT(d->forward = 7, "forward mode");
    CORRUPT(setStr(d->forwardDev, sizeof(d->forwardDev), "vlab1"), "own bridge");
    CORRUPT(d->natPortStart = 0, "NAT port range");
    CORRUPT(d->natPortEnd = 70000, "NAT port range");
    CORRUPT(d->mtu = 10, "MTU");
    CORRUPT(setStr(d->domain, sizeof(d->domain), "a..b"), "empty label");
    CORRUPT(d->dnsEnable = 9, "DNS flags");
    CORRUPT(d->echo |= 1u << 30, "echo flags");
    CORRUPT(d->title[0] = '\x01', "control characters");
    CORRUPT(setStr(d->description, sizeof(d->description), "\xc3\x28"), "UTF-8");
    CORRUPT(setStr(d->description, sizeof(d->description), "\xed\xa0\x80"), "UTF-8");   /* a surrogate */
    CORRUPT(setStr(d->title, sizeof(d->title), "\xef\xbf\xbf"), "UTF-8");   /* U+FFFF: not XML */
    CORRUPT(setStr(d->title, sizeof(d->title), "\xc2\x85"), "control characters");   /* C1 */
    CORRUPT(d->prefix = 31, "prefix");
    CORRUPT(d->ipv4 = 0x0a140000, "network or broadcast");
    CORRUPT(d->ipv4 = 0x7f000001, "loopback");
    CORRUPT(d->nranges = NET_RANGES_MAX + 1, "too many");
    CORRUPT(d->ranges[5].start = 1, "unused DHCP");
    CORRUPT(d->ranges[0].end = 0x0b000001, "inside the network's subnet");
    CORRUPT(d->ranges[1].start = d->ranges[0].end, "overlap");
    CORRUPT(d->ranges[0].lease.unit = 9, "unknown unit");
    CORRUPT(d->hosts[0].ip = d->ipv4, "network's own");
    CORRUPT(d->hosts[1].ip = d->hosts[0].ip, "share");
    CORRUPT(d->hosts[0].reserved = 1, "bad flags");
    CORRUPT(setStr(d->hosts[0].name, sizeof(d->hosts[0].name), "a.b"), "single DNS label");
    CORRUPT(memset(d->hosts[1].name, 0, sizeof(d->hosts[1].name)), "neither");
    CORRUPT(d->hasDhcp = 0, "without <dhcp>");
    CORRUPT((d->ipv4 = 0, d->prefix = 0), "without an address");
#undef CORRUPT
}

static int runDnsmasqTest(const char *conf)
{
    char path[] = "/tmp/virtsup-netxml-XXXXXX", cmd[256];
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, conf, strlen(conf)), (ssize_t)strlen(conf));
    close(fd);
    snprintf(cmd, sizeof(cmd), "dnsmasq --test --conf-file=%s >/dev/null 2>&1", path);
    int rc = system(cmd);
    unlink(path);
    return rc == -1 ? -1 : WEXITSTATUS(rc);
}

static void test_dnsmasq_conf(void **s)
{
    (void)s;
    netDef *d = validDef();
    bool none = true;
    char *conf = netDnsmasqConf(d, "/run/x/lab.leases", &none);

    assert_non_null(conf);
    assert_false(none);
    assert_non_null(strstr(conf, "\ninterface=vlab1\n"));
    assert_non_null(strstr(conf, "\nbind-dynamic\n"));
    assert_non_null(strstr(conf, "\nport=0\n"));
    assert_non_null(strstr(conf, "\ndomain=lab.example\nlocal=/lab.example/\nexpand-hosts\n"));
    assert_non_null(strstr(conf, "\ndhcp-range=10.20.1.10,10.20.1.200,255.255.0.0,7200s\n"));
    assert_non_null(strstr(conf, "\ndhcp-range=10.20.2.1,10.20.2.9,255.255.0.0\n"));
    assert_non_null(strstr(conf, "\ndhcp-host=52:54:00:00:00:01,10.20.3.1,web,infinite\n"));
    assert_non_null(strstr(conf, "\ndhcp-host=10.20.3.2,db\n"));
    assert_non_null(strstr(conf, "\ndhcp-lease-max=203\n"));
    assert_non_null(strstr(conf, "\ndhcp-leasefile=/run/x/lab.leases\n"));
    if (access("/usr/sbin/dnsmasq", X_OK) == 0)
        assert_int_equal(runDnsmasqTest(conf), 0);
    free(conf);

    /* Hosts without ranges: a static range. */
    d->nranges = 0;
    memset(d->ranges, 0, sizeof(d->ranges));
    conf = netDnsmasqConf(d, "/run/x/lab.leases", &none);
    assert_non_null(strstr(conf, "\ndhcp-range=10.20.0.0,static,255.255.0.0\n"));
    if (access("/usr/sbin/dnsmasq", X_OK) == 0)
        assert_int_equal(runDnsmasqTest(conf), 0);
    free(conf);

    /* No DHCP and no DNS: no dnsmasq at all. */
    d->hasDhcp = 0;
    d->nhosts = 0;
    memset(d->hosts, 0, sizeof(d->hosts));
    assert_null(netDnsmasqConf(d, "/run/x/lab.leases", &none));
    assert_true(none);
    /* A line break in the lease path would inject directives. */
    d->dnsEnable = NET_TRI_YES;
    virResetLastError();
    assert_null(netDnsmasqConf(d, "/run/x\nuser=root", &none));
    assert_non_null(strstr(virGetLastErrorMessage(), "line break"));
    free(d);
}

/* ---- one reader of <bridge>, <mac> and <dhcp> for both network grammars ----
 * The test driver's parser (drivers/test/xml-shared.c, in the library)
 * and this driver's (netxml-worker.c, above) read these elements with
 * util/virxmlcommon.c: the same text gets the same verdict from both, and
 * a refusal the same code, domain and message. */

typedef struct {
    int rc, code, domain;
    char msg[512];
} verdict;

static void takeVerdict(int rc, verdict *v)
{
    const virError *e = virGetLastError();

    v->rc = rc;
    v->code = rc < 0 && e ? e->code : 0;
    v->domain = rc < 0 && e ? e->domain : 0;
    snprintf(v->msg, sizeof(v->msg), "%s", rc < 0 && e && e->message ? e->message : "");
}

/* Both parsers' verdicts on @xml. */
static void bothVerdicts(const char *xml, verdict *net, verdict *test)
{
    netDef *d = calloc(1, sizeof(*d));
    testNetworkDef td;
    virXMLKeep keep = VIR_XML_KEEP_INIT;

    assert_non_null(d);
    virResetLastError();
    takeVerdict(netParseXML(xml, strlen(xml), d), net);
    virResetLastError();
    takeVerdict(testNetworkParseXML(xml, strlen(xml), &td, &keep), test);
    virXMLKeepClear(&keep);
    free(d);
}

/* Both accept @xml, or both refuse it with the same error; when @needle
 * is given, both refuse it with a message holding it. */
static void agree(const char *xml, const char *needle)
{
    verdict n, t;

    bothVerdicts(xml, &n, &t);
    if (n.rc != t.rc || n.code != t.code || n.domain != t.domain || STRNEQ(n.msg, t.msg))
        fail_msg("the parsers disagree on %s\n  network driver: %d %d/%d '%s'\n"
                 "  test driver:    %d %d/%d '%s'", xml, n.rc, n.code, n.domain, n.msg,
                 t.rc, t.code, t.domain, t.msg);
    if (needle && (n.rc == 0 || !strstr(n.msg, needle)))
        fail_msg("%s: wanted a refusal holding '%s', got %d '%s'", xml, needle, n.rc, n.msg);
    if (!needle && n.rc != 0)
        fail_msg("%s: both refused it: '%s'", xml, n.msg);
}

#define AGREE_NET(body) "<network><name>n</name>" body "</network>"
#define AGREE_IP(dhcp) AGREE_NET("<ip address='192.168.9.1' prefix='24'>" dhcp "</ip>")
#define AGREE_DHCP(children) AGREE_IP("<dhcp>" children "</dhcp>")

static void test_agree_accepted(void **s)
{
    (void)s;
    agree(AGREE_NET("<bridge name='virbr0' stp='on' delay='0'/>"), NULL);
    agree(AGREE_NET("<bridge/>"), NULL);
    agree(AGREE_NET("<bridge name='br-x_1.2' stp='off' delay='30' macTableManager='kernel'/>"),
          NULL);
    agree(AGREE_NET("<bridge name='abcdefghijklmno'/>"), NULL);      /* 15 bytes */
    agree(AGREE_NET("<mac address='52:54:00:0A:cd:21'/>"), NULL);
    agree(AGREE_NET("<!-- c --><mac address='52:54:00:0a:cd:21'>\n  </mac>"), NULL);
    agree(AGREE_IP("<dhcp/>"), NULL);
    agree(AGREE_IP(""), NULL);
    agree(AGREE_DHCP("<range start='192.168.9.2' end='192.168.9.99'>"
                     "<lease expiry='1' unit='hours'/></range>"
                     "<range start='192.168.9.200' end='192.168.9.254'/>"
                     "<host mac='52:54:00:00:00:01' name='web' ip='192.168.9.100'>"
                     "<lease expiry='0'/></host>"
                     "<host name='db' ip='192.168.9.101'><lease expiry='2' unit='minutes'/></host>"
                     "<host mac='52:54:00:00:00:02' ip='192.168.9.102'/>"), NULL);
    /* 63-byte host name: one DNS label at its longest */
    agree(AGREE_DHCP("<host name='a23456789012345678901234567890123456789012345678901234567890123'"
                     " ip='192.168.9.5'/>"), NULL);
}

static void test_agree_refused(void **s)
{
    (void)s;
    /* <bridge> */
    agree(AGREE_NET("<bridge name='abcdefghijklmnop'/>"), "longer than 15 bytes");
    agree(AGREE_NET("<bridge name=''/>"), "name is empty");
    agree(AGREE_NET("<bridge name='a/b'/>"), "invalid interface name name='a/b' on <bridge>");
    agree(AGREE_NET("<bridge name='.hidden'/>"), "starts with '.'");
    agree(AGREE_NET("<bridge name='br&#10;0'/>"), "invalid interface name");
    agree(AGREE_NET("<bridge name='br&#xe9;'/>"), "invalid interface name");
    agree(AGREE_NET("<bridge name='br0' foo='1'/>"), "unsupported attribute 'foo' on <bridge>");
    agree(AGREE_NET("<bridge name='br0'><x/></bridge>"), "unsupported element <x>");
    agree(AGREE_NET("<bridge name='br0'>text</bridge>"), "<bridge>");
    agree(AGREE_NET("<bridge name='br0'/><bridge name='br1'/>"), "appears more than once");
    agree(AGREE_NET("<bridge stp='maybe'/>"), "invalid stp='maybe' on <bridge>");
    agree(AGREE_NET("<bridge stp='ON'/>"), "expected on or off");
    agree(AGREE_NET("<bridge stp='yes'/>"), "expected on or off");
    agree(AGREE_NET("<bridge delay='31'/>"), "delay='31' on <bridge>");
    agree(AGREE_NET("<bridge delay='-1'/>"), "delay='-1'");
    agree(AGREE_NET("<bridge delay='0x10'/>"), "delay='0x10'");
    agree(AGREE_NET("<bridge delay='18446744073709551617'/>"), "not a number of seconds");
    agree(AGREE_NET("<bridge delay=''/>"), "delay=''");
    agree(AGREE_NET("<bridge macTableManager='hub'/>"), "invalid macTableManager='hub'");
    agree(AGREE_NET("<bridge zone='no zone'/>"), "invalid zone='no zone'");
    agree(AGREE_NET("<x:bridge xmlns:x='urn:x' name='br0'/>"), "unsupported element");
    /* <mac> */
    agree(AGREE_NET("<mac address='01:00:5e:00:00:01'/>"), "multicast or zero");
    agree(AGREE_NET("<mac address='00:00:00:00:00:00'/>"), "multicast or zero");
    agree(AGREE_NET("<mac address='52:54:00:zz:00:01'/>"), "invalid MAC address");
    agree(AGREE_NET("<mac address='52:54:00:00:01'/>"), "invalid MAC address");
    agree(AGREE_NET("<mac address='52:54:00:00:00:01:02'/>"), "invalid MAC address");
    agree(AGREE_NET("<mac address=' 2:54:00:00:00:01'/>"), "invalid MAC address");
    agree(AGREE_NET("<mac address='+2:54:00:00:00:01'/>"), "invalid MAC address");
    agree(AGREE_NET("<mac address='52-54-00-00-00-01'/>"), "invalid MAC address");
    agree(AGREE_NET("<mac/>"), "invalid MAC address address=''");
    agree(AGREE_NET("<mac address='52:54:00:00:00:01' type='x'/>"), "unsupported attribute");
    agree(AGREE_NET("<mac address='52:54:00:00:00:01'><x/></mac>"), "unsupported element <x>");
    agree(AGREE_NET("<mac address='52:54:00:00:00:01'/><mac address='52:54:00:00:00:02'/>"),
          "appears more than once");
    /* <ip>'s children and <dhcp> */
    agree(AGREE_IP("<tftp root='/srv'/>"), "unsupported element <tftp>");
    agree(AGREE_IP("<dhcp/><dhcp/>"), "only one <dhcp> per <ip>");
    agree(AGREE_IP("<dhcp foo='1'/>"), "unsupported attribute 'foo' on <dhcp>");
    agree(AGREE_IP("<dhcp>junk</dhcp>"), "text outside any element");
    agree(AGREE_DHCP("<bootp file='pxe'/>"), "unsupported element <bootp>");
    /* <range> */
    agree(AGREE_DHCP("<range start='192.168.9.9' end='192.168.9.2'/>"), "ends before it starts");
    agree(AGREE_DHCP("<range start='192.168.8.2' end='192.168.9.9'/>"),
          "not inside the network's subnet");
    agree(AGREE_DHCP("<range start='192.168.9.0' end='192.168.9.9'/>"),
          "not inside the network's subnet");
    agree(AGREE_DHCP("<range start='192.168.9.2' end='192.168.9.255'/>"),
          "not inside the network's subnet");
    agree(AGREE_DHCP("<range start='192.168.9.1' end='192.168.9.9'/>"),
          "holds the network's own address");
    agree(AGREE_DHCP("<range start='192.168.9.2' end='192.168.9.9'/>"
                     "<range start='192.168.9.9' end='192.168.9.20'/>"), "overlap");
    agree(AGREE_DHCP("<range end='192.168.9.9'/>"), "start='' on <range>");
    agree(AGREE_DHCP("<range start='0.0.0.0' end='192.168.9.9'/>"), "start='0.0.0.0'");
    agree(AGREE_DHCP("<range start='192.168.9.2.5' end='192.168.9.9'/>"), "invalid or missing");
    agree(AGREE_DHCP("<range start='192.168.9.2' end='192.168.9.9' step='2'/>"),
          "unsupported attribute 'step' on <range>");
    agree(AGREE_DHCP("<range start='192.168.9.2' end='192.168.9.9'><x/></range>"),
          "unsupported element <x>");
    /* <lease> */
    agree(AGREE_DHCP("<range start='192.168.9.2' end='192.168.9.9'>"
                     "<lease expiry='1' unit='days'/></range>"), "unknown lease unit 'days'");
    agree(AGREE_DHCP("<range start='192.168.9.2' end='192.168.9.9'>"
                     "<lease expiry='1' unit='seconds'/></range>"), "shorter than 2 minutes");
    agree(AGREE_DHCP("<range start='192.168.9.2' end='192.168.9.9'>"
                     "<lease expiry='9000' unit='hours'/></range>"), "longer than a year");
    agree(AGREE_DHCP("<range start='192.168.9.2' end='192.168.9.9'>"
                     "<lease expiry='4294967296'/></range>"), "expiry='4294967296'");
    agree(AGREE_DHCP("<range start='192.168.9.2' end='192.168.9.9'>"
                     "<lease unit='hours'/></range>"), "needs 'expiry'");
    agree(AGREE_DHCP("<range start='192.168.9.2' end='192.168.9.9'>"
                     "<lease expiry='-1'/></range>"), "expiry='-1'");
    agree(AGREE_DHCP("<range start='192.168.9.2' end='192.168.9.9'>"
                     "<lease expiry='5'/><lease expiry='6'/></range>"), "only one <lease>");
    /* <host> */
    agree(AGREE_DHCP("<host mac='52:54:00:00:00:01'/>"), "ip='' on <host>");
    agree(AGREE_DHCP("<host ip='192.168.9.5'/>"), "needs 'mac' or 'name'");
    agree(AGREE_DHCP("<host name='a.b' ip='192.168.9.5'/>"), "one DNS label");
    agree(AGREE_DHCP("<host name='-a' ip='192.168.9.5'/>"), "one DNS label");
    agree(AGREE_DHCP("<host name='' ip='192.168.9.5'/>"), "one DNS label");
    agree(AGREE_DHCP("<host name='a234567890123456789012345678901234567890123456789012345678901234'"
                     " ip='192.168.9.5'/>"), "one DNS label");
    agree(AGREE_DHCP("<host id='0:1:2' ip='192.168.9.5'/>"), "DHCPv6");
    agree(AGREE_DHCP("<host mac='01:54:00:00:00:01' ip='192.168.9.5'/>"), "multicast or zero");
    agree(AGREE_DHCP("<host mac='52:54:00:00:00:01' ip='10.0.0.5'/>"), "outside the network's subnet");
    agree(AGREE_DHCP("<host mac='52:54:00:00:00:01' ip='192.168.9.1'/>"), "or its own");
    agree(AGREE_DHCP("<host name='a' ip='192.168.9.5'/><host name='b' ip='192.168.9.5'/>"),
          "share an address");
    agree(AGREE_DHCP("<host mac='52:54:00:00:00:01' ip='192.168.9.5'/>"
                     "<host mac='52:54:00:00:00:01' ip='192.168.9.6'/>"), "share an address");
    agree(AGREE_DHCP("<host name='a' ip='192.168.9.5'/><host name='a' ip='192.168.9.6'/>"),
          "share an address");
    agree(AGREE_DHCP("<host name='a' ip='192.168.9.5' extra='1'/>"), "unsupported attribute");
}

/* The counts' edges, the same in both: 16 ranges and 256 hosts are
 * accepted, one more is refused. */
static void test_agree_limits(void **s)
{
    (void)s;
    size_t cap = 64 * 1024, len;
    char *xml = malloc(cap);

    assert_non_null(xml);
    for (int extra = 0; extra <= 1; extra++) {
        len = (size_t)snprintf(xml, cap, "<network><name>n</name><ip address='10.0.0.1' "
                               "prefix='16'><dhcp>");
        for (int i = 0; i < 16 + extra; i++)
            len += (size_t)snprintf(xml + len, cap - len,
                                    "<range start='10.0.%d.1' end='10.0.%d.9'/>", i + 1, i + 1);
        snprintf(xml + len, cap - len, "</dhcp></ip></network>");
        agree(xml, extra ? "too many DHCP ranges" : NULL);

        len = (size_t)snprintf(xml, cap, "<network><name>n</name><ip address='10.0.0.1' "
                               "prefix='16'><dhcp>");
        for (int i = 0; i < 256 + extra; i++)
            len += (size_t)snprintf(xml + len, cap - len,
                                    "<host mac='52:54:00:00:%02x:%02x' ip='10.0.%d.%d'/>",
                                    i >> 8, i & 255, 100 + i / 200, 2 + i % 200);
        snprintf(xml + len, cap - len, "</dhcp></ip></network>");
        agree(xml, extra ? "too many DHCP hosts" : NULL);
    }
    free(xml);
}

/* What only one of them honours: the network driver uses no firewalld
 * zone and lets the kernel manage the bridge's MAC table; the test driver
 * simulates and keeps both. The text is read alike (a bad zone is refused
 * by both, above); this driver refuses these by name. */
static void test_agree_honoured(void **s)
{
    (void)s;
    static const struct {
        const char *xml, *needle;
    } cases[] = {
        { AGREE_NET("<bridge name='br0' zone='trusted'/>"), "unsupported attribute 'zone'" },
        { AGREE_NET("<bridge name='br0' macTableManager='libvirt'/>"),
          "unsupported macTableManager='libvirt'" },
    };

    for (size_t i = 0; i < ARRAY_CARDINALITY(cases); i++) {
        verdict n, t;
        bothVerdicts(cases[i].xml, &n, &t);
        if (t.rc != 0)
            fail_msg("test driver refused %s: %s", cases[i].xml, t.msg);
        if (n.rc == 0 || n.code != VIR_ERR_CONFIG_UNSUPPORTED || !strstr(n.msg, cases[i].needle))
            fail_msg("network driver: %s: %d %d '%s'", cases[i].xml, n.rc, n.code, n.msg);
    }
}

#undef AGREE_DHCP
#undef AGREE_IP
#undef AGREE_NET

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dumpxml_default),
        cmocka_unit_test(test_rich_roundtrip),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_check),
        cmocka_unit_test(test_dnsmasq_conf),
        cmocka_unit_test(test_agree_accepted),
        cmocka_unit_test(test_agree_refused),
        cmocka_unit_test(test_agree_limits),
        cmocka_unit_test(test_agree_honoured),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
