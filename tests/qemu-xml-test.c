/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qemu-xml-test.c: domain XML for QEMU guests, as the worker parses it and
 * the library writes it back: what `virsh dumpxml` prints for a typical
 * libvirt 9 guest is accepted (harmless elements kept and echoed), what we
 * cannot give is refused by name, writing and reading back is stable, and
 * the library's check of the definition block refuses tampered records.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "../worker/jobio.c"
#include "../src/drivers/qemu/qemu-xml-worker.c"
#include "testdrv-fakejob.h"
#include "drivers/qemu/qemu_conf.h"

static char *readFile(const char *path)
{
    FILE *f = fopen(path, "r");
    char *buf;
    long n;

    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    rewind(f);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static qemuDomainDef *parse(const char *xml)
{
    qemuDomainDef *def = NULL;
    virResetLastError();
    if (qemuDomainParseXML(xml, strlen(xml), &def) < 0)
        return NULL;
    return def;
}

static char *format(const qemuDomainDef *def)
{
    qemuLiveInfo inactive = { -1 };
    char *xml = qemuDomainDefFormat(def, &inactive);
    assert_non_null(xml);
    return xml;
}

static const char *S(const qemuDomainDef *d, qemuStr s)
{
    const char *v = qemuDefStr(d, s);
    return v ? v : "(null)";
}

static void test_libvirt9_dumpxml(void **state)
{
    (void)state;
    char *xml = readFile("tests/qemu-xml/libvirt9-debian12.xml");
    qemuDomainDef *d = parse(xml);
    const char *why;

    if (!d)
        fail_msg("the typical guest was refused: %s", virGetLastErrorMessage());
    assert_int_equal(qemuDomainDefCheck(d, d->size, &why), 0);
    assert_string_equal(d->name, "debian12");
    assert_int_equal(d->virtType, QEMU_VIRT_KVM);
    assert_int_equal(d->memoryKiB, 2097152);
    assert_int_equal(d->vcpus, 2);
    assert_string_equal(S(d, d->machine), "pc-q35-7.2");
    assert_int_equal(d->bootDevs[0], QEMU_BOOT_HD);
    assert_true(d->features & QEMU_FEATURE_ACPI);
    assert_true(d->features & QEMU_FEATURE_VMPORT_OFF);
    assert_true(d->features & QEMU_FEATURE_HPET_OFF);
    assert_true(d->features & QEMU_FEATURE_RTC_CATCHUP);
    assert_int_equal(d->cpuMode, QEMU_CPU_HOST_PASSTHROUGH);
    assert_string_equal(S(d, d->emulator), "/usr/bin/qemu-system-x86_64");
    assert_int_equal(d->ndisks, 2);
    assert_string_equal(S(d, d->disks[0].source), "/var/lib/libvirt/images/debian12.qcow2");
    assert_int_equal(d->disks[0].format, QEMU_FORMAT_QCOW2);
    assert_int_equal(d->disks[0].bus, QEMU_BUS_VIRTIO);
    assert_int_equal(d->disks[0].discard, QEMU_DISCARD_UNMAP);
    assert_int_equal(d->disks[1].device, QEMU_DISK_CDROM);
    assert_int_equal(d->disks[1].bus, QEMU_BUS_SATA);
    assert_true(d->disks[1].readonly);
    assert_int_equal(d->disks[1].source, 0);
    assert_int_equal(d->nnets, 1);
    assert_int_equal(d->nets[0].type, QEMU_NET_NETWORK);
    assert_string_equal(S(d, d->nets[0].source), "default");
    assert_int_equal(d->nets[0].mac[5], 0x58);
    assert_int_equal(d->nchars, 3);
    assert_int_equal(d->chars[0].kind, QEMU_CHAR_SERIAL);
    assert_int_equal(d->chars[1].kind, QEMU_CHAR_CONSOLE);
    assert_int_equal(d->chars[2].kind, QEMU_CHAR_CHANNEL);
    assert_string_equal(S(d, d->chars[2].name), "org.qemu.guest_agent.0");
    assert_int_equal(d->usb, QEMU_USB_QEMU_XHCI);
    assert_true(d->balloon && d->rng);

    /* Echoed back: what was kept, without libvirt's run-time aliases. */
    char *out = format(d);
    /* Kept elements are written as libvirt writes them, in its places. */
    static const char *const inOrder[] = {
        "  <uuid>a1b2c3d4-e5f6-4a5b-8c9d-0e1f2a3b4c5d</uuid>\n"
        "  <metadata>\n"
        "    <libosinfo:libosinfo xmlns:libosinfo='http://libosinfo.org/xmlns/libvirt/domain/1.0'>\n"
        "      <libosinfo:os id='http://debian.org/debian/12'/>\n"
        "    </libosinfo:libosinfo>\n"
        "  </metadata>\n"
        "  <memory unit='KiB'>2097152</memory>\n",
        "  <vcpu placement='static'>2</vcpu>\n"
        "  <resource>\n    <partition>/machine</partition>\n  </resource>\n  <os>\n",
        "  </os>\n  <features>\n    <acpi/>\n    <apic/>\n    <vmport state='off'/>\n"
        "  </features>\n"
        "  <cpu mode='host-passthrough' check='none' migratable='on'/>\n"
        "  <clock offset='utc'>\n",
        "    <timer name='pit' tickpolicy='delay'/>\n",
        "  <on_crash>destroy</on_crash>\n  <pm>\n    <suspend-to-mem enabled='no'/>\n",
        "      <address type='pci' domain='0x0000' bus='0x04' slot='0x00' function='0x0'/>\n"
        "    </disk>\n",
        "    <controller type='pci' index='1' model='pcie-root-port'>\n"
        "      <model name='pcie-root-port'/>\n      <target chassis='1' port='0x10'/>\n",
        "    <input type='mouse' bus='ps2'/>\n",
        "  </devices>\n  <seclabel type='dynamic' model='apparmor' relabel='yes'>\n"
        "    <label>libvirt-a1b2c3d4-e5f6-4a5b-8c9d-0e1f2a3b4c5d</label>\n",
        "    <label>+64055:+994</label>\n",
        "</domain>\n",
    };
    const char *at = out;
    for (size_t i = 0; i < ARRAY_CARDINALITY(inOrder); i++) {
        const char *f = strstr(at, inOrder[i]);
        if (!f)
            fail_msg("not found after the previous part: %s\nin:\n%s", inOrder[i], out);
        at = f + strlen(inOrder[i]);
    }
    assert_null(strstr(out, "<alias"));
    assert_null(strstr(out, "/dev/pts/2"));

    /* Written and read back, again and again: the same. */
    qemuDomainDef *d2 = parse(out);
    if (!d2)
        fail_msg("our own XML was refused: %s\n%s", virGetLastErrorMessage(), out);
    char *out2 = format(d2);
    assert_string_equal(out, out2);
    assert_memory_equal(d2->uuid, d->uuid, 16);
    free(d2);
    free(out2);
    free(out);
    free(d);
    free(xml);
}

static void test_minimal(void **state)
{
    (void)state;
    qemuDomainDef *d = parse("<domain type='qemu'><name>m</name><memory unit='MiB'>128</memory>"
                             "<os><type>hvm</type><kernel>/k</kernel></os></domain>");
    if (!d)
        fail_msg("%s", virGetLastErrorMessage());
    assert_int_equal(d->memoryKiB, 131072);
    assert_int_equal(d->currentMemoryKiB, 131072);
    assert_int_equal(d->vcpus, 1);
    assert_int_equal(d->onReboot, QEMU_ACTION_RESTART);
    assert_int_equal(d->onPoweroff, QEMU_ACTION_DESTROY);
    /* A UUID is made up when absent; a MAC too, in QEMU's prefix. */
    uint8_t zero[16] = { 0 };
    assert_memory_not_equal(d->uuid, zero, 16);
    free(d);
    d = parse("<domain type='qemu'><name>n</name><memory>16384</memory><os><type>hvm</type></os>"
              "<devices><interface type='user'/></devices></domain>");
    assert_non_null(d);
    assert_int_equal(d->nets[0].mac[0], 0x52);
    assert_int_equal(d->nets[0].mac[1], 0x54);
    assert_int_equal(d->nets[0].model, QEMU_NIC_VIRTIO);
    free(d);
}

#define DOM(devices) "<domain type='qemu'><name>x</name><memory>65536</memory>" \
                     "<os><type>hvm</type></os><devices>" devices "</devices></domain>"

static void expectRefused(const char *xml, int code, const char *message)
{
    qemuDomainDef *d = parse(xml);
    if (d)
        fail_msg("accepted: %s", xml);
    virErrorPtr e = virGetLastError();
    assert_non_null(e);
    if (e->code != code || !strstr(e->message, message))
        fail_msg("%s\n  got %d '%s'\n  wanted %d '...%s...'", xml, e->code, e->message, code,
                 message);
}

static void test_refused(void **state)
{
    (void)state;
    const int U = VIR_ERR_CONFIG_UNSUPPORTED, X = VIR_ERR_XML_ERROR;

    expectRefused(DOM("<graphics type='spice' autoport='yes'/>"), U,
                  "unsupported device <graphics>");
    expectRefused(DOM("<sound model='ich9'/>"), U, "unsupported device <sound>");
    expectRefused(DOM("<hostdev mode='subsystem' type='pci'/>"), U, "unsupported device <hostdev>");
    expectRefused(DOM("<video><model type='qxl'/></video>"), U, "unsupported video model 'qxl'");
    expectRefused(DOM("<disk type='block' device='disk'><source dev='/dev/sda'/>"
                      "<target dev='vda'/></disk>"), U, "unsupported disk type 'block'");
    expectRefused(DOM("<disk type='file' device='disk'><source file='/a'/>"
                      "<target dev='sda' bus='scsi'/></disk>"), U, "unsupported bus 'scsi'");
    expectRefused(DOM("<disk type='file' device='floppy'><source file='/a'/>"
                      "<target dev='fda'/></disk>"), U, "unsupported device 'floppy'");
    expectRefused(DOM("<disk type='file'><source file='/a'/><target dev='vda'/>"
                      "<iotune><total_bytes_sec>1</total_bytes_sec></iotune></disk>"), U,
                  "unsupported element <iotune> in <disk>");
    expectRefused(DOM("<disk type='file'><source file='/a'/><target dev='vda'/>"
                      "<backingStore type='file'><source file='/b'/></backingStore></disk>"), U,
                  "backing chain");
    expectRefused(DOM("<interface type='direct'><source dev='eth0'/></interface>"), U,
                  "unsupported type 'direct'");
    expectRefused(DOM("<interface type='user'><model type='ne2k_pci'/></interface>"), U,
                  "unsupported type 'ne2k_pci'");
    expectRefused(DOM("<serial type='tcp'><source mode='bind' host='0' service='4'/></serial>"), U,
                  "unsupported type 'tcp'");
    expectRefused(DOM("<channel type='spicevmc'><target type='virtio' name='x'/></channel>"), U,
                  "unsupported type 'spicevmc' of <channel>");
    expectRefused(DOM("<input type='tablet' bus='virtio'/>"), U, "unsupported input device 'tablet'");
    expectRefused("<domain type='qemu'><name>x</name><memory>65536</memory><os><type>hvm</type>"
                  "</os><memoryBacking><hugepages/></memoryBacking></domain>", U,
                  "unsupported element <memoryBacking>");
    expectRefused("<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>"
                  "<name>x</name><memory>65536</memory><os><type>hvm</type></os>"
                  "<qemu:commandline><qemu:arg value='-x'/></qemu:commandline></domain>", U,
                  "<qemu:commandline>");
    expectRefused("<domain type='qemu'><name>x</name><memory>65536</memory>"
                  "<os firmware='efi'><type>hvm</type></os></domain>", U, "firmware 'efi'");
    expectRefused("<domain type='qemu'><name>x</name><memory>65536</memory>"
                  "<os><type>hvm</type><loader>/x</loader></os></domain>", U,
                  "unsupported element <loader> in <os>");
    expectRefused("<domain type='xen'><name>x</name><memory>65536</memory>"
                  "<os><type>hvm</type></os></domain>", U, "unsupported domain type 'xen'");
    expectRefused("<domain type='qemu'><name>x</name><memory>65536</memory>"
                  "<os><type arch='aarch64'>hvm</type></os></domain>", U, "architecture 'aarch64'");
    expectRefused("<domain type='qemu'><name>x</name><memory>65536</memory>"
                  "<os><type>hvm</type></os><features><hyperv/></features></domain>", U,
                  "<hyperv> in <features>");
    expectRefused("<domain type='qemu'><name>x</name><memory>65536</memory>"
                  "<os><type>hvm</type></os><cpu><feature policy='require' name='x'/></cpu>"
                  "</domain>", U, "<feature> in <cpu>");
    expectRefused("<domain type='qemu'><name>x</name><memory>65536</memory>"
                  "<os><type>hvm</type></os><pm><suspend-to-mem enabled='yes'/></pm></domain>",
                  U, "suspend-to-mem");
    expectRefused("<domain type='qemu'><name>x</name><memory>65536</memory><vcpu cpuset='1'>1</vcpu>"
                  "<os><type>hvm</type></os></domain>", U, "pinning");

    expectRefused("<domain type='qemu'><memory>65536</memory><os><type>hvm</type></os></domain>",
                  X, "no <name>");
    expectRefused("<domain type='qemu'><name>a/b</name><memory>65536</memory>"
                  "<os><type>hvm</type></os></domain>", X, "invalid domain name 'a/b'");
    expectRefused("<domain type='qemu'><name>x</name><memory>8</memory>"
                  "<os><type>hvm</type></os></domain>", X, "out of range");
    expectRefused("<domain type='qemu'><name>x</name><memory>65536</memory></domain>", X, "no <os>");
    expectRefused(DOM("<disk type='file'><target dev='vda'/></disk>"), X, "has no <source file");
    expectRefused(DOM("<disk type='file'><source file='rel/a'/><target dev='vda'/></disk>"), X,
                  "not absolute");
    expectRefused(DOM("<interface type='network'/>"), X, "has no <source>");
    expectRefused(DOM("<interface type='user'><mac address='01:00:00:00:00:01'/></interface>"), X,
                  "invalid MAC address");
    expectRefused(DOM("<disk type='file'><source file='/a'/><target dev='vda'/></disk>"
                      "<disk type='file'><source file='/b'/><target dev='vda'/></disk>"), X,
                  "two disks have the same target");
    expectRefused("<domain type='qemu'><name>x</name><memory>65536</memory><vcpu>4</vcpu>"
                  "<os><type>hvm</type></os><cpu><topology sockets='1' cores='3' threads='1'/>"
                  "</cpu></domain>", X, "does not give the 4 vCPUs");
    expectRefused("<!DOCTYPE x [<!ENTITY a 'b'>]><domain/>", X, "DTD");
}

/* libvirt's inactive XML of a guest agent channel names no socket: the
 * driver makes one in the guest's run directory (QEMU listens there). */
static void test_agent_channel_without_path(void **state)
{
    (void)state;
    const char *why;
    static const char *const forms[] = {
        DOM("<controller type='virtio-serial' index='0'/><channel type='unix'>"
            "<source mode='bind'/><target type='virtio' name='org.qemu.guest_agent.0'/>"
            "<address type='virtio-serial' controller='0' bus='0' port='1'/></channel>"),
        DOM("<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/>"
            "</channel>"),
    };

    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
        qemuDomainDef *d = parse(forms[i]);
        if (!d)
            fail_msg("%s: %s", forms[i], virGetLastErrorMessage());
        assert_int_equal(d->nchars, 1);
        assert_int_equal(d->chars[0].path, 0);
        assert_int_equal(d->chars[0].listen, 1);
        assert_int_equal(qemuDomainDefCheck(d, d->size, &why), 0);
        char *xml = format(d);
        assert_non_null(strstr(xml, "<source mode='bind'/>"));
        free(xml);
        /* Tampered: a connecting channel without a path. */
        d->chars[0].listen = 0;
        assert_int_equal(qemuDomainDefCheck(d, d->size, &why), -1);
        free(d);
    }
    expectRefused(DOM("<channel type='unix'><source mode='connect'/>"
                      "<target type='virtio' name='org.qemu.guest_agent.0'/></channel>"),
                  VIR_ERR_XML_ERROR, "in connect mode in domain XML needs a <source path=...>");
    expectRefused(DOM("<serial type='unix'><source mode='bind'/><target port='0'/></serial>"),
                  VIR_ERR_XML_ERROR, "<source> in domain XML needs a path in 'path'");
}

/* The library's check of a block that came from a worker. */
static void test_def_check(void **state)
{
    (void)state;
    const char *why;
    qemuDomainDef *d = parse(DOM("<disk type='file'><source file='/img/a'/><target dev='vda'/>"
                                 "</disk><serial type='unix'><source path='/s/c.sock'/></serial>"));
    if (!d)
        fail_msg("%s", virGetLastErrorMessage());
    size_t n = d->size;
    qemuDomainDef *t = malloc(n);

    memcpy(t, d, n);
    assert_int_equal(qemuDomainDefCheck(t, n, &why), 0);
    assert_int_equal(qemuDomainDefCheck(t, n - 1, &why), -1);
    t->disks[0].source = t->poolLen + 5;             /* outside the pool */
    assert_int_equal(qemuDomainDefCheck(t, n, &why), -1);
    memcpy(t, d, n);
    t->pool[t->poolLen - 1] = 'x';                    /* unterminated */
    assert_int_equal(qemuDomainDefCheck(t, n, &why), -1);
    memcpy(t, d, n);
    memcpy(t->pool + t->disks[0].source - 1, "/../x", 6);
    assert_int_equal(qemuDomainDefCheck(t, n, &why), -1);
    assert_string_equal(why, "a disk path is not a clean absolute path");
    memcpy(t, d, n);
    t->disks[0].bus = 9;
    assert_int_equal(qemuDomainDefCheck(t, n, &why), -1);
    memcpy(t, d, n);
    memcpy(t->name, "../etc", 7);
    assert_int_equal(qemuDomainDefCheck(t, n, &why), -1);
    memcpy(t, d, n);
    t->ndisks = QEMU_DISKS_MAX + 1;
    assert_int_equal(qemuDomainDefCheck(t, n, &why), -1);
    free(t);
    free(d);

    /* A user-mode interface has no source: one would be written into the
     * XML unchecked. */
    d = parse(DOM("<disk type='file'><source file='/img/a'/><target dev='vda'/></disk>"
                  "<interface type='user'/>"));
    if (!d)
        fail_msg("%s", virGetLastErrorMessage());
    assert_int_equal(qemuDomainDefCheck(d, d->size, &why), 0);
    d->nets[0].source = d->disks[0].target;
    assert_int_equal(qemuDomainDefCheck(d, d->size, &why), -1);
    assert_string_equal(why, "a user-mode interface has a source");
    free(d);

    /* Text the library would write into XML as it is must be XML's: a
     * title or command line that is not UTF-8 (or holds U+FFFF) is
     * refused, or GetXMLDesc would write XML no parser reads. */
    d = parse("<domain type='qemu'><name>x</name><title>ab\xc3\xa9</title><memory>65536</memory>"
              "<os><type>hvm</type><kernel>/k</kernel><cmdline>c=abcd</cmdline></os></domain>");
    if (!d)
        fail_msg("%s", virGetLastErrorMessage());
    assert_int_equal(qemuDomainDefCheck(d, d->size, &why), 0);
    static const char *const bad[] = { "\xff\xfe\xfd\xfc", "\xc3\x28..", "\xef\xbf\xbf.",
                                       "\xed\xa0\x80." /* a surrogate */ };
    for (size_t i = 0; i < ARRAY_CARDINALITY(bad); i++) {
        for (int which = 0; which < 2; which++) {
            char *s = d->pool + (which ? d->cmdline : d->title) - 1 + (which ? 2 : 0);
            char saved[4];
            memcpy(saved, s, 4);
            memcpy(s, bad[i], 4);
            assert_int_equal(qemuDomainDefCheck(d, d->size, &why), -1);
            assert_string_equal(why, which ? "the kernel command line is not text" :
                                "the title or description is not text");
            memcpy(s, saved, 4);
        }
    }
    assert_int_equal(qemuDomainDefCheck(d, d->size, &why), 0);
    free(d);
}

/* Kept records as a hostile worker could send them: each is refused by
 * the library's check, or written escaped where it is only text. */
static qemuDomainDef *withKept(const qemuDomainDef *d, const void *rec, size_t len, int where)
{
    qemuDomainDef *t = calloc(1, d->size + len + 1);
    qemuKept k = { d->poolLen, (uint32_t)len };

    assert_non_null(t);
    memcpy(t, d, d->size);
    memcpy(t->pool + t->poolLen, rec, len);
    t->poolLen += (uint32_t)len + 1;
    t->size += (uint32_t)len + 1;
    if (where == 0)
        t->extraTop = k;
    else if (where == 1)
        t->extraDevices = k;
    else
        t->disks[0].extra = k;
    return t;
}

static void test_kept_hostile(void **state)
{
    (void)state;
    static const struct {
        const char *rec;
        size_t len;
        int where;
        const char *why;      /* NULL: accepted */
    } cases[] = {
#define R(s) s, sizeof(s) - 1
        /* a second <devices>, an emulator in it */
        { R("Edevices\0Eemulator\0T/tmp/evil\0ee"), 0, "kept elements are malformed" },
        /* a name that is markup */
        { R("Emetadata><devices\0e"), 0, "kept elements are malformed" },
        /* an undeclared prefix (qemu:commandline without its namespace) */
        { R("Emetadata\0Eqemu:commandline\0ee"), 0, "kept elements are malformed" },
        /* an element that ends twice, closing <devices> early */
        { R("Econtroller\0ee"), 1, "kept elements are malformed" },
        /* a disk's kept child that is not an <address> */
        { R("Esource\0Afile\0/etc/shadow\0e"), 2, "a device's kept elements" },
        /* a control character in a value */
        { R("Eaddress\0Atype\0a\x01\0e"), 2, "a device's kept elements" },
        /* markup as text: accepted, and written escaped */
        { R("Emetadata\0T</metadata><devices><emulator>/tmp/evil</emulator>\0e"), 0, NULL },
#undef R
    };
    qemuDomainDef *d = parse(DOM("<disk type='file'><source file='/img/a'/><target dev='vda'/>"
                                 "</disk>"));
    const char *why;

    if (!d)
        fail_msg("%s", virGetLastErrorMessage());
    for (size_t i = 0; i < ARRAY_CARDINALITY(cases); i++) {
        qemuDomainDef *t = withKept(d, cases[i].rec, cases[i].len, cases[i].where);
        int rc = qemuDomainDefCheck(t, t->size, &why);
        if (cases[i].why) {
            if (rc != -1)
                fail_msg("case %zu was accepted", i);
            assert_non_null(strstr(why, cases[i].why));
        } else {
            if (rc != 0)
                fail_msg("case %zu was refused: %s", i, why);
            char *out = format(t);
            assert_non_null(strstr(out, "  <metadata>&lt;/metadata&gt;&lt;devices&gt;&lt;emulator&gt;"
                                        "/tmp/evil&lt;/emulator&gt;</metadata>\n"));
            assert_null(strstr(out, "<emulator>/tmp/evil"));
            free(out);
        }
        free(t);
    }
    /* records that run past the pool */
    qemuDomainDef *t = withKept(d, "Emetadata\0e", 11, 0);
    t->extraTop.len = t->poolLen;
    assert_int_equal(qemuDomainDefCheck(t, t->size, &why), -1);
    free(t);
    free(d);
}

/* The save image's checksum is XXH64 (the specification's vectors), and
 * the header check refuses what it must. */
static void test_image_header(void **state)
{
    (void)state;
    assert_true(qemuHash64("", 0, 0) == 0xef46db3751d8e999ULL);
    assert_true(qemuHash64("abc", 3, 0) == 0x44bc2cf5ad770999ULL);

    const char *xml = "<domain type='qemu'><name>h</name></domain>";
    qemuImageHeader h = { .version = QEMU_IMAGE_VERSION, .chunkMax = QEMU_IMAGE_CHUNK,
                          .memoryBytes = 64ULL << 20, .streamBytes = 3 << 20, .chunks = 3,
                          .complete = 1, .seed = 42 };
    const char *why = NULL;
    memcpy(h.magic, QEMU_IMAGE_MAGIC, 8);
    h.xmlLen = (uint32_t)strlen(xml);
    h.headerLen = QEMU_IMAGE_ALIGN;
    snprintf(h.name, sizeof(h.name), "h");
    h.hash = qemuImageHeaderHash(&h, xml);
    assert_int_equal(qemuImageHeaderCheck(&h, xml, qemuImageBytes(&h), &why), 0);
    assert_int_equal(qemuImageHeaderCheck(&h, xml, qemuImageBytes(&h) - 1, &why), -1);
    assert_string_equal(why, "it is truncated");
    qemuImageHeader bad = h;
    bad.memoryBytes *= 2;   /* checksum not made to match */
    assert_int_equal(qemuImageHeaderCheck(&bad, xml, 0, &why), -1);
    assert_string_equal(why, "its header does not match its checksum");
    bad = h;
    bad.complete = 0;
    bad.hash = qemuImageHeaderHash(&bad, xml);
    assert_int_equal(qemuImageHeaderCheck(&bad, xml, 0, &why), -1);
    bad = h;
    bad.streamBytes = bad.chunks * QEMU_IMAGE_CHUNK + 1;
    bad.hash = qemuImageHeaderHash(&bad, xml);
    assert_int_equal(qemuImageHeaderCheck(&bad, xml, 0, &why), -1);
    bad = h;
    bad.version = 2;
    assert_int_equal(qemuImageHeaderCheck(&bad, xml, 0, &why), -1);
    assert_string_equal(why, "its format version is not one this build reads");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_libvirt9_dumpxml),
        cmocka_unit_test(test_minimal),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_agent_channel_without_path),
        cmocka_unit_test(test_def_check),
        cmocka_unit_test(test_kept_hostile),
        cmocka_unit_test(test_image_header),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
