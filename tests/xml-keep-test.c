/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xml-keep-test.c: the XML libvirt 9 writes is accepted and written back.
 * libvirt's own dumpxml of its test driver's domain and network parse
 * (in the worker's parser) and the library writes them back byte for
 * byte; what the driver does not model is kept (util/virxmlkeep.c) with
 * namespaces, mixed content and escapes intact and stable over a second
 * round; hostile kept records from a worker are refused by the library's
 * check; the size cap holds; the default node's objects carry libvirt's
 * elements.
 */
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
#include "drivers/test/test_driver.h"

/* `virsh -c test:///default dumpxml test` and `net-dumpxml default` of
 * libvirt 9.0.0, as printed. */
static const char libvirtTestDomain[] =
    "<domain type='test' id='1'>\n"
    "  <name>test</name>\n"
    "  <uuid>6695eb01-f6a4-8304-79aa-97f2502e193f</uuid>\n"
    "  <memory unit='KiB'>8388608</memory>\n"
    "  <currentMemory unit='KiB'>2097152</currentMemory>\n"
    "  <vcpu placement='static'>2</vcpu>\n"
    "  <os>\n"
    "    <type arch='i686'>hvm</type>\n"
    "    <boot dev='hd'/>\n"
    "  </os>\n"
    "  <clock offset='utc'/>\n"
    "  <on_poweroff>destroy</on_poweroff>\n"
    "  <on_reboot>restart</on_reboot>\n"
    "  <on_crash>destroy</on_crash>\n"
    "  <devices>\n"
    "    <disk type='file' device='disk'>\n"
    "      <source file='/guest/diskimage1'/>\n"
    "      <target dev='vda' bus='virtio'/>\n"
    "      <address type='pci' domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>\n"
    "    </disk>\n"
    "    <interface type='network'>\n"
    "      <mac address='aa:bb:cc:dd:ee:ff'/>\n"
    "      <source network='default'/>\n"
    "      <target dev='testnet0'/>\n"
    "      <address type='pci' domain='0x0000' bus='0x00' slot='0x01' function='0x0'/>\n"
    "    </interface>\n"
    "    <memballoon model='virtio'>\n"
    "      <address type='pci' domain='0x0000' bus='0x00' slot='0x02' function='0x0'/>\n"
    "    </memballoon>\n"
    "  </devices>\n"
    "</domain>\n";

static const char libvirtDefaultNetwork[] =
    "<network>\n"
    "  <name>default</name>\n"
    "  <uuid>dd8fe884-6c02-601e-7551-cca97df1c5df</uuid>\n"
    "  <forward mode='nat'/>\n"
    "  <bridge name='virbr0' stp='on' delay='0'/>\n"
    "  <ip address='192.168.122.1' netmask='255.255.255.0'>\n"
    "    <dhcp>\n"
    "      <range start='192.168.122.2' end='192.168.122.254'/>\n"
    "    </dhcp>\n"
    "  </ip>\n"
    "</network>\n";

static void test_libvirt_domain_echo(void **state)
{
    (void)state;
    testDomainDef d;
    virXMLKeep k = VIR_XML_KEEP_INIT;
    const char *why = NULL;
    char *xml;

    assert_int_equal(testDomainParseXML(libvirtTestDomain, strlen(libvirtTestDomain), &d, &k), 0);
    assert_int_equal(d.memory_kib, 8388608);
    assert_int_equal(d.current_kib, 2097152);      /* modelled: GetInfo's memory */
    assert_int_equal(d.vcpus, 2);
    assert_string_equal(d.os_type, "hvm");
    assert_int_equal(virXMLKeepCheck(k.data, k.len, &why), 0);
    assert_true(virXMLKeepHas(k.data, k.len, "devices"));
    assert_true(virXMLKeepHas(k.data, k.len, "clock"));
    assert_false(virXMLKeepHas(k.data, k.len, "memory"));   /* the driver's own */
    assert_false(virXMLKeepHas(k.data, k.len, "currentMemory"));
    assert_non_null(xml = testDomainDefFormat(&d, &k, 1));
    assert_string_equal(xml, libvirtTestDomain);
    free(xml);

    /* Without an ID (shut off) and without kept elements: the driver's own. */
    assert_non_null(xml = testDomainDefFormat(&d, NULL, -1));
    assert_non_null(strstr(xml, "<domain type='test'>\n"));
    assert_non_null(strstr(xml, "  <currentMemory unit='KiB'>2097152</currentMemory>\n"
                                "  <vcpu placement='static'>2</vcpu>\n"
                                "  <os>\n    <type>hvm</type>\n  </os>\n</domain>\n"));
    free(xml);
    virXMLKeepClear(&k);
}

static void test_libvirt_network_echo(void **state)
{
    (void)state;
    testNetworkDef n;
    virXMLKeep k = VIR_XML_KEEP_INIT;
    char *xml;

    assert_int_equal(testNetworkParseXML(libvirtDefaultNetwork, strlen(libvirtDefaultNetwork),
                                         &n, &k), 0);
    assert_string_equal(n.bridge, "virbr0");
    assert_int_equal(n.prefix, 24);
    assert_non_null(xml = testNetworkDefFormat(&n, &k));
    assert_string_equal(xml, libvirtDefaultNetwork);
    free(xml);
    virXMLKeepClear(&k);
}

/* The default node's objects: libvirt's XML, byte for byte. */
static void test_default_node(void **state)
{
    (void)state;
    testDomainDef d;
    testNetworkDef n;
    virXMLKeep k = VIR_XML_KEEP_INIT;
    char *xml;

    assert_int_equal(testDefaultDomainDef(&d, &k), 0);
    assert_int_equal(d.memory_kib, 8388608);
    assert_int_equal(d.current_kib, 2097152);
    assert_non_null(xml = testDomainDefFormat(&d, &k, 1));
    assert_string_equal(xml, libvirtTestDomain);
    free(xml);
    assert_int_equal(testDefaultNetworkDef(&n, &k), 0);
    assert_non_null(xml = testNetworkDefFormat(&n, &k));
    assert_string_equal(xml, libvirtDefaultNetwork);
    free(xml);
    virXMLKeepClear(&k);
}

/* Namespaces declared on the root, mixed content, CDATA, escapes,
 * comments: written so that they read back the same, twice. */
static void test_kept_content(void **state)
{
    (void)state;
    static const char in[] =
        "<domain type='kvm' xmlns:app='http://example.org/app/1'>"
        "<name>kept</name>"
        "<title>a &lt;title&gt; &amp; more</title>"
        "<metadata>"
        "<app:info app:level='3'>mixed <app:b>bold</app:b> text<![CDATA[ & <x> ]]>end</app:info>"
        "<other:thing xmlns:other='urn:other'><other:leaf a=\"it's &quot;q&quot;&#10;nl\"/></other:thing>"
        "</metadata>"
        "<memory unit='MiB'>64</memory>"
        "<devices><!-- dropped --><disk type='file'><source file='/a b/c&amp;d'/></disk></devices>"
        "</domain>";
    testDomainDef d, d2;
    virXMLKeep k = VIR_XML_KEEP_INIT, k2 = VIR_XML_KEEP_INIT;
    char *xml, *xml2;

    assert_int_equal(testDomainParseXML(in, strlen(in), &d, &k), 0);
    assert_non_null(xml = testDomainDefFormat(&d, &k, -1));
    /* libvirt's order: title and metadata before <memory> */
    assert_non_null(strstr(xml, "  <uuid>"));
    assert_true(strstr(xml, "<title>") < strstr(xml, "<memory"));
    assert_true(strstr(xml, "<metadata>") < strstr(xml, "<memory"));
    assert_non_null(strstr(xml, "  <title>a &lt;title&gt; &amp; more</title>\n"));
    /* the prefix declared on the root is declared on the kept element */
    assert_non_null(strstr(xml, "  <metadata xmlns:app='http://example.org/app/1'>\n"
                                "    <app:info app:level='3'>"
                                "mixed <app:b>bold</app:b> text &amp; &lt;x&gt; end</app:info>\n"));
    assert_non_null(strstr(xml, "<other:leaf a='it&apos;s &quot;q&quot;&#10;nl'/>"));
    assert_non_null(strstr(xml, "<source file='/a b/c&amp;d'/>"));
    assert_null(strstr(xml, "dropped"));
    assert_null(strstr(xml, "type='kvm'"));     /* the test driver's domain */

    assert_int_equal(testDomainParseXML(xml, strlen(xml), &d2, &k2), 0);
    assert_memory_equal(&d, &d2, sizeof(d));
    /* (the second round keeps what the first wrote for <vcpu>, <os>...) */
    assert_non_null(xml2 = testDomainDefFormat(&d2, &k2, -1));
    assert_string_equal(xml, xml2);
    free(xml);
    free(xml2);
    virXMLKeepClear(&k);
    virXMLKeepClear(&k2);
}

/* A worker's records are untrusted: every malformed one is refused. */
static void test_check_hostile(void **state)
{
    (void)state;
    static const struct { const char *rec; size_t len; } bad[] = {
#define R(s) { s, sizeof(s) - 1 }
        R("Ea\0"),                               /* not ended */
        R("e"),                                  /* ends nothing */
        R("Ea\0ee"),
        R("Tx\0"),                               /* text outside */
        R("Ea\0Tx\0Ab\0c\0e"),                   /* attribute after a child */
        R("Aa\0b\0"),                            /* attribute outside */
        R("E1a\0e"),                             /* bad name */
        R("Ea b\0e"),
        R("E\0e"),
        R("Ea:\0e"),
        R("Ea:b:c\0e"),
        R("Ep:a\0e"),                            /* undeclared prefix */
        R("Ea\0Ap:x\0v\0e"),
        R("Exmlns:a\0e"),
        R("Ea\0Ax\0v\0Ax\0w\0e"),                /* repeated attribute */
        R("Ea\0Ax\0v\1\0e"),                     /* control character */
        R("Ea\0T\xff\0e"),                       /* not UTF-8 */
        R("Ea\0T\xc0\xaf\0e"),                   /* overlong */
        R("Ea\0T\xed\xa0\x80\0e"),               /* surrogate */
        R("Ea\0T\xef\xbf\xbf\0e"),               /* U+FFFF */
        R("Ea\0Tx"),                             /* unterminated text */
        R("Xa\0e"),                              /* unknown record */
        R("Ea\0Axmlns:p\0u\0eEp:b\0e"),          /* a declaration's scope ends */
#undef R
    };
    const char *why;
    char deep[VIR_XML_DEPTH_MAX * 4 + 16];
    size_t n = 0;

    for (size_t i = 0; i < ARRAY_CARDINALITY(bad); i++) {
        why = NULL;
        if (virXMLKeepCheck(bad[i].rec, bad[i].len, &why) != -1)
            fail_msg("record %zu accepted", i);
        assert_non_null(why);
    }
    for (int i = 0; i <= VIR_XML_DEPTH_MAX; i++) {
        memcpy(deep + n, "Ea\0", 3);
        n += 3;
    }
    memset(deep + n, 'e', VIR_XML_DEPTH_MAX + 1);
    n += VIR_XML_DEPTH_MAX + 1;
    assert_int_equal(virXMLKeepCheck(deep, n, &why), -1);
    assert_string_equal(why, "kept elements nest too deep");
    /* one level less passes */
    assert_int_equal(virXMLKeepCheck(deep + 3, n - 4, &why), 0);

    /* Good ones, written safely. */
    static const char good[] = "Ea\0Axmlns:p\0u\0Ap:x\0<'&\"\0Ep:b\0T]]>&<\0ee";
    virBuffer b = VIR_BUFFER_INIT;
    char *out;
    assert_int_equal(virXMLKeepCheck(good, sizeof(good) - 1, &why), 0);
    assert_int_equal(virXMLKeepFormat(&b, good, sizeof(good) - 1, 2, NULL, false), 1);
    assert_non_null(out = virBufferFinish(&b));
    assert_string_equal(out, "  <a xmlns:p='u' p:x='&lt;&apos;&amp;&quot;'>\n"
                             "    <p:b>]]&gt;&amp;&lt;</p:b>\n"
                             "  </a>\n");
    free(out);
    assert_int_equal(virXMLKeepCheck("", 0, &why), 0);
}

/* The kept elements of one document are capped, with a clear message. */
static void test_keep_cap(void **state)
{
    (void)state;
    size_t n = VIR_XML_KEEP_MAX / 18 + 10, len = 0;    /* 18 bytes a <disk> */
    char *xml = malloc(n * 32 + 256);
    testDomainDef d;
    virXMLKeep k = VIR_XML_KEEP_INIT;

    assert_non_null(xml);
    len += (size_t)sprintf(xml, "<domain type='test'><name>big</name><memory>1024</memory><devices>");
    for (size_t i = 0; i < n; i++)
        len += (size_t)sprintf(xml + len, "<disk type='file'/>");
    len += (size_t)sprintf(xml + len, "</devices></domain>");
    virResetLastError();
    assert_int_equal(testDomainParseXML(xml, len, &d, &k), -1);
    assert_non_null(strstr(virGetLastErrorMessage(), "kept without interpretation exceed 65536 bytes"));
    assert_int_equal(k.len, 0);
    /* Without keeping (NULL), the same document is accepted. */
    assert_int_equal(testDomainParseXML(xml, len, &d, NULL), 0);
    free(xml);
}

/* The define op's result: the def, then the kept records. */
static void test_define_result(void **state)
{
    (void)state;
    fakeJob job;
    testJobParams p;
    size_t xmllen = strlen(libvirtTestDomain);
    uint8_t *params = malloc(sizeof(p) + xmllen);
    testDomainDef d;
    const char *why;

    assert_non_null(params);
    fakeJobInit(&job, -1);
    memset(&p, 0, sizeof(p));
    p.magic = TEST_JOB_PARAMS_MAGIC;
    p.version = 1;
    p.xmllen = (uint32_t)xmllen;
    memcpy(params, &p, sizeof(p));
    memcpy(params + sizeof(p), libvirtTestDomain, xmllen);
    testDomainDefineRun(FJ(&job), params, sizeof(p) + xmllen);
    assert_int_equal(job.finished, FAKE_SUCCESS);
    assert_true(job.resultlen > sizeof(d));
    memcpy(&d, job.result, sizeof(d));
    assert_int_equal(testDomainDefCheck(&d, &why), 0);
    assert_int_equal(virXMLKeepCheck(job.result + sizeof(d), job.resultlen - sizeof(d), &why), 0);
    assert_true(virXMLKeepHas(job.result + sizeof(d), job.resultlen - sizeof(d), "devices"));
    free(params);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_libvirt_domain_echo),
        cmocka_unit_test(test_libvirt_network_echo),
        cmocka_unit_test(test_default_node),
        cmocka_unit_test(test_kept_content),
        cmocka_unit_test(test_check_hostile),
        cmocka_unit_test(test_keep_cap),
        cmocka_unit_test(test_define_result),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
