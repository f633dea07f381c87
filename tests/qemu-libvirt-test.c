/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qemu-libvirt-test.c: the qemu driver as a libvirt user meets it: the
 * domain XML libvirt 9 prints, defined and echoed back (kept elements
 * checked as untrusted), and virDomainReboot, with the stand-in for QEMU
 * (tests/helpers/fake-qemu, which writes the system_reset it gets to the
 * guest's log). Its own program: qemu-driver-test is near its time limit
 * under valgrind.
 */
#include "qemutest.h"
#include "drivers/qemu/qemu-proto.h"

static char fake[4096];

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "r");
    char *buf;
    long n;

    if (!f)
        fail_msg("cannot open %s", path);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    rewind(f);
    assert_non_null(buf = malloc((size_t)n + 1));
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    if (len)
        *len = (size_t)n;
    return buf;
}

/* The stored definition of @src under another name and UUID, with @rec
 * (@len bytes of kept records, as a worker could send them) as its kept
 * top-level elements, written where the driver reads definitions. */
static void writeTampered(qemuT *t, const char *src, const char *name, uint8_t uuidByte,
                          const void *rec, size_t len)
{
    char path[1024];
    size_t n;
    snprintf(path, sizeof(path), "%s/domains/%s.def", t->root, src);
    qemuDomainDef *d = (qemuDomainDef *)slurp(path, &n);
    qemuDomainDef *e = calloc(1, n + len + 1);

    assert_non_null(e);
    assert_int_equal(n, d->size);
    memcpy(e, d, n);
    snprintf(e->name, sizeof(e->name), "%s", name);
    e->uuid[15] = uuidByte;
    memcpy(e->pool + e->poolLen, rec, len);
    e->extraTop = (qemuKept){ e->poolLen, (uint32_t)len };
    e->poolLen += (uint32_t)len + 1;
    e->size += (uint32_t)len + 1;
    snprintf(path, sizeof(path), "%s/domains/%s.def", t->root, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(e, 1, e->size, f), e->size);
    fclose(f);
    free(e);
    free(d);
}

/* What `virsh dumpxml` prints for a libvirt 9 guest (pc on TCG, disks, an
 * interface, serial, console, channel, controllers, metadata, seclabel)
 * is defined through the driver; GetXMLDesc writes the elements kept
 * without interpretation back as libvirt wrote them, also from the
 * definition stored on disk (a new connection). Kept records that a
 * compromised worker could answer are checked by the library as
 * untrusted (the same check as the define's answer, qemuDomainDefCheck):
 * an injected element is refused, markup in a text is written escaped. */
static void test_libvirt9_keep(void **state)
{
    qemuT *t = *state;
    char *xml = slurp("tests/qemu-xml/libvirt9-pc-tcg.xml", NULL);
    virDomainPtr dom;
    char *out;

    t->conn = qtOpen(t);
    if (!(dom = virDomainDefineXML(t->conn, xml)))
        fail_msg("libvirt 9's dumpxml was refused: %s", virGetLastErrorMessage());
    virDomainFree(dom);

    static const char *const kept[] = {
        "  <description>i440fx guest on TCG, as virsh dumpxml --inactive prints it</description>\n"
        "  <metadata>\n"
        "    <libosinfo:libosinfo xmlns:libosinfo='http://libosinfo.org/xmlns/libvirt/domain/1.0'>\n"
        "      <libosinfo:os id='http://debian.org/debian/12'/>\n"
        "    </libosinfo:libosinfo>\n"
        "    <app:owner xmlns:app='urn:example:app'>team &amp; co</app:owner>\n"
        "  </metadata>\n"
        "  <memory unit='KiB'>1048576</memory>\n",
        "  <resource>\n    <partition>/machine</partition>\n  </resource>\n",
        "  </os>\n  <features>\n    <acpi/>\n    <apic/>\n  </features>\n"
        "  <cpu mode='custom' match='exact' check='none'>\n"
        "    <model fallback='forbid'>qemu64</model>\n  </cpu>\n"
        "  <clock offset='utc'>\n    <timer name='rtc' tickpolicy='catchup'/>\n"
        "    <timer name='pit' tickpolicy='delay'/>\n    <timer name='hpet' present='no'/>\n"
        "  </clock>\n",
        "  <on_crash>destroy</on_crash>\n"
        "  <pm>\n    <suspend-to-mem enabled='no'/>\n    <suspend-to-disk enabled='no'/>\n"
        "  </pm>\n",
        "      <target dev='vda' bus='virtio'/>\n"
        "      <address type='pci' domain='0x0000' bus='0x00' slot='0x07' function='0x0'/>\n",
        "      <address type='drive' controller='0' bus='1' target='0' unit='0'/>\n",
        "      <address type='pci' domain='0x0000' bus='0x00' slot='0x03' function='0x0'/>\n"
        "    </interface>\n",
        "      <address type='virtio-serial' controller='0' bus='0' port='1'/>\n"
        "    </channel>\n",
        "    <controller type='usb' index='0' model='piix3-uhci'>\n"
        "      <address type='pci' domain='0x0000' bus='0x00' slot='0x01' function='0x2'/>\n"
        "    </controller>\n"
        "    <controller type='pci' index='0' model='pci-root'/>\n",
        "    <input type='tablet' bus='usb'>\n      <address type='usb' bus='0' port='1'/>\n"
        "    </input>\n    <input type='mouse' bus='ps2'/>\n",
        "    <rng model='virtio'>\n      <backend model='random'>/dev/urandom</backend>\n",
        "  </devices>\n"
        "  <seclabel type='dynamic' model='dac' relabel='yes'/>\n"
        "</domain>\n",
    };
    for (int round = 0; round < 2; round++) {
        assert_non_null(dom = virDomainLookupByName(t->conn, "tcg-pc"));
        assert_non_null(out = virDomainGetXMLDesc(dom, 0));
        const char *at = out;
        for (size_t i = 0; i < ARRAY_CARDINALITY(kept); i++) {
            const char *f = strstr(at, kept[i]);
            if (!f)
                fail_msg("round %d: not echoed (in order): %s\nin:\n%s", round, kept[i], out);
            at = f + strlen(kept[i]);
        }
        assert_null(strstr(out, "<alias"));
        free(out);
        virDomainFree(dom);
        /* the stored definition, read by a new connection */
        virConnectClose(t->conn);
        t->conn = qtOpen(t);
    }

    /* A definition whose kept records inject elements: refused when
     * read, named in no list; markup in a kept text: written escaped. */
#define R(s) s, sizeof(s) - 1
    writeTampered(t, "tcg-pc", "inject", 1, R("Emetadata\0eEdevices\0Eemulator\0T/tmp/evil\0ee"));
    writeTampered(t, "tcg-pc", "prefix", 2, R("Eqemu:commandline\0Eqemu:arg\0Avalue\0-x\0ee"));
    writeTampered(t, "tcg-pc", "broken", 3, R("Emetadata\0ee"));
    writeTampered(t, "tcg-pc", "escaped", 4,
                  R("Emetadata\0T</metadata><devices><emulator>/tmp/evil</emulator>\0e"));
#undef R
    virConnectClose(t->conn);
    t->conn = qtOpen(t);
    static const char *const refused[] = { "inject", "prefix", "broken" };
    for (size_t i = 0; i < ARRAY_CARDINALITY(refused); i++) {
        assert_null(virDomainLookupByName(t->conn, refused[i]));
        assert_int_equal(virGetLastError()->code, VIR_ERR_NO_DOMAIN);
    }
    assert_non_null(dom = virDomainLookupByName(t->conn, "escaped"));
    assert_non_null(out = virDomainGetXMLDesc(dom, 0));
    assert_non_null(strstr(out, "  <metadata>&lt;/metadata&gt;&lt;devices&gt;&lt;emulator&gt;"
                                "/tmp/evil&lt;/emulator&gt;</metadata>\n"));
    assert_null(strstr(out, "<emulator>/tmp/evil"));
    free(out);
    assert_int_equal(virDomainUndefine(dom), 0);
    virDomainFree(dom);
    assert_non_null(dom = virDomainLookupByName(t->conn, "tcg-pc"));
    assert_int_equal(virDomainUndefine(dom), 0);
    virDomainFree(dom);
    free(xml);
}

static int setupT(void **state)
{
    qtSetupWith(state, fake, "monitor_timeout=2000");
    return 0;
}

/* virDomainReboot is a reset: QEMU gets system_reset (fake-qemu writes it
 * to the guest's log) and the guest runs on; the guest's part (ACPI,
 * agent) is refused by flag; an inactive guest cannot reboot. */
static void test_reboot(void **state)
{
    qemuT *t = *state;
    virDomainPtr dom;
    char log[PATH_MAX];
    int s, r;

    t->conn = qtOpen(t);
    dom = qtDefineFake(t, "rb", "normal", NULL);
    assert_int_equal(virDomainReboot(dom, 0), -1);
    assert_int_equal(virGetLastError()->code, VIR_ERR_OPERATION_INVALID);
    qtStart(dom);
    snprintf(log, sizeof(log), "%s/rb.log", qemuDriverConfig(t->conn)->logDir);
    char *before = slurp(log, NULL);
    assert_null(strstr(before, "fake-qemu: system_reset"));
    free(before);

    assert_int_equal(virDomainReboot(dom, VIR_DOMAIN_REBOOT_ACPI_POWER_BTN), -1);
    assert_int_equal(virGetLastError()->code, VIR_ERR_ARGUMENT_UNSUPPORTED);
    assert_int_equal(virDomainReboot(dom, VIR_DOMAIN_REBOOT_GUEST_AGENT), -1);
    assert_int_equal(virGetLastError()->code, VIR_ERR_ARGUMENT_UNSUPPORTED);
    char *log1 = slurp(log, NULL);
    assert_null(strstr(log1, "fake-qemu: system_reset"));
    free(log1);

    /* The answer comes after QEMU took the command, which it logged first. */
    assert_int_equal(virDomainReboot(dom, 0), 0);
    char *after = slurp(log, NULL);
    assert_non_null(strstr(after, "fake-qemu: system_reset"));
    free(after);
    assert_int_equal(virDomainGetState(dom, &s, &r, 0), 0);
    assert_int_equal(s, VIR_DOMAIN_RUNNING);
    assert_int_equal(virDomainDestroy(dom), 0);
    assert_int_equal(virDomainUndefine(dom), 0);
    virDomainFree(dom);
}

int main(void)
{
    int rc = qtFakeInit(fake, sizeof(fake));
    if (rc != 0)
        return rc;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_libvirt9_keep, setupT, qtTeardown),
        cmocka_unit_test_setup_teardown(test_reboot, setupT, qtTeardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
