/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xml-shared.c: the test driver's domain and network XML grammar: the one
 * parser of each, compiled into both processes. In the worker it parses
 * the XML given to the API (xml-worker.c's define ops, the create ops):
 * untrusted text, where a parser bug an attacker finds takes down one
 * job's worker, not the client. In the client it parses the <domain> and
 * <network> elements of a node description (test_conf.c), the
 * administrator's configuration. Both read their documents with
 * util/virxml.c's locked-down reader (size cap, depth cap, no NUL bytes,
 * UTF-8 forced, no DTD or entities, no network): the rules for input live
 * there, once.
 *
 * The elements libvirt's grammars share (<name>, <uuid>, <title>,
 * <description>, <metadata>, <memory>, <currentMemory>, <vcpu>, <on_*>)
 * are read by util/virxmlcommon.c, as every driver's parser reads them;
 * what the test driver accepts of them is decided here.
 *
 * The grammar is strict: an element that is neither listed below nor one
 * of libvirt 9's that the driver keeps is an error, never silently
 * dropped. The XML libvirt writes for its test driver's objects is
 * accepted: the elements of libvirt's grammar the test driver does not
 * model (<devices>, <clock>, <features>, <metadata>, ...: domainKept and
 * networkKept below) are kept as they are, without interpretation
 * (util/virxmlkeep.h), and written back by GetXMLDesc; elements the
 * driver reads only in part (<os>, <vcpu>, <bridge>, <ip>...) are read
 * and kept whole. What the driver cannot honour is refused by name
 * (on_poweroff other than destroy, on_reboot other than restart; any
 * element of another namespace, such as <qemu:commandline>).
 * One difference, by flag: a node description's <domain> may leave out
 * type= (it can only be the test driver's: TEST_XML_NODE).
 *
 *   <domain type='test|kvm|qemu' [id='N'] [xmlns:test='TEST_XML_NS']>
 *     <name>NAME</name>                      required
 *     <uuid>UUID</uuid>                      optional: random v4 if absent
 *     <memory [unit='b|bytes|KB|k|KiB|MB|M|MiB|GB|G|GiB|TB|T|TiB']>N</memory>
 *     <currentMemory [unit]>N</currentMemory> optional (<memory>), at most <memory>
 *     <title>, <description>                 optional text, kept
 *     <vcpu [placement='static|auto'] [current='N']>N</vcpu> optional (1), kept
 *     <os>                                   optional (hvm), kept
 *       <type [arch='..'] [machine='..']>hvm|linux</type>
 *       <kernel/> <initrd/> <cmdline/> <boot dev='..'/> <loader/> <nvram/>
 *       <bootmenu/> <smbios/> <bios/> <init/> <initarg/>   kept
 *     </os>
 *     <on_poweroff>destroy</on_poweroff> <on_reboot>restart</on_reboot>  kept
 *     <on_crash>ACTION</on_crash> <metadata>...</metadata>                kept
 *     any element of domainKept                                          kept
 *     <test:fault op='save,restore,dump,create' [at='0..100'] action='..'/>  (up to 8)
 *     <test:rate bytes-per-second='N'/>
 *     <test:memory data-bytes='N'/>     bytes at the start of memory that carry
 *                                       data (whole pages: rounded up as pages are),
 *                                       1 .. <currentMemory>; absent: the first
 *                                       min(<currentMemory>, 64 MiB) (test-proto.h)
 *   </domain>
 *
 *   <network [xmlns:test=...]>
 *     <name>NAME</name> <uuid>UUID</uuid>?
 *     <title>, <description>, <metadata>     optional, kept
 *     <bridge [name='IF'] [stp='on|off'] [delay='S'] [macTableManager] [zone]/>?  kept
 *     <mac address='MAC'/>?                                             kept
 *     <forward [mode='nat|route|isolated']>...</forward>?  (no mode: nat; children kept)
 *     <ip address='A.B.C.D' (prefix='N' | netmask='A.B.C.D') [family='ipv4']>
 *       <dhcp><range start= end=><lease/>?</range>* <host [mac] [name] ip><lease/>?</host>*</dhcp>?
 *     </ip>?                                                             kept
 *     any element of networkKept                                         kept
 *     <test:fault .../>* <test:rate .../>?
 *   </network>
 */
#include <inttypes.h>

#include <libxml/tree.h>

#include "util/internal.h"
#undef VIR_FROM_THIS   /* unit tests include several of these files in one unit */
#define VIR_FROM_THIS VIR_FROM_TEST
#include "util/viralloc.h"
#include "util/virerror.h"
#include "util/virxml.h"
#include "util/virxmlcommon.h"
#include "drivers/test/xml-shared.h"

typedef virXMLCtx xmlCtx;

#define XERR(...) virReportError(VIR_ERR_XML_ERROR, __VA_ARGS__)

static bool inTestNS(xmlNodePtr n)
{
    return n->ns && n->ns->href && STREQ((const char *)n->ns->href, TEST_XML_NS);
}

/* The elements of libvirt 9's domain grammar (its domaincommon.rng) the
 * test driver keeps without interpreting them: harmless for a simulated
 * guest, and written back as they came. */
static const char *const domainKept[] = {
    "genid", "maxMemory", "blkiotune", "memtune", "memoryBacking",
    "vcpus", "iothreads", "iothreadids", "defaultiothread", "cputune", "numatune",
    "resource", "sysinfo", "bootloader", "bootloader_args", "idmap", "features",
    "cpu", "clock", "on_lockfailure", "pm", "perf", "devices",
    "seclabel", "keywrap", "launchSecurity", NULL
};

/* The same for libvirt 9's network grammar (network.rng). */
static const char *const networkKept[] = {
    "mtu", "domain", "dns", "route", "portgroup", "bandwidth",
    "vlan", "virtualport", "port", NULL
};

static bool listed(const char *const *names, xmlNodePtr n)
{
    for (size_t i = 0; names[i]; i++)
        if (virXMLIsPlain(n, names[i]))
            return true;
    return false;
}

/* Keep @n when the caller keeps (@keep NULL: accepted and dropped). */
static int keepIf(const xmlCtx *c, virXMLKeep *keep, xmlNodePtr n)
{
    return keep ? virXMLKeepAdd(c, keep, n) : 0;
}

/* <on_poweroff>, <on_reboot> (read by virXMLCommonRead): the test
 * driver's domains power off as 'destroy' and reboot as 'restart';
 * another action cannot be honoured. */
static int lifecycleHonoured(const char *elem, uint8_t action, uint8_t honoured)
{
    if (action && action != honoured) {
        virReportError(VIR_ERR_CONFIG_UNSUPPORTED,
                       "<%s>%s</%s> cannot be honoured by the test driver "
                       "(its domains do '%s')", elem, virXMLLifecycleActionName(action), elem,
                       virXMLLifecycleActionName(honoured));
        return -1;
    }
    return 0;
}

static int parseOS(const xmlCtx *c, xmlNodePtr os, char *type, size_t typelen)
{
    static const char *const typeAttrs[] = { "arch", "machine", NULL };
    static const char *const bootAttrs[] = { "dev", NULL };
    /* libvirt's, kept whole with <os>; firmware and boot menus mean
     * nothing to a simulated guest */
    static const char *const osKept[] = {
        "loader", "nvram", "bootmenu", "smbios", "bios", "init", "initarg",
        "initenv", "initdir", "inituser", "initgroup", "acpi", "firmware", NULL
    };
    uint32_t seen = 0;

    if (virXMLCheckAttrs(c, os, NULL) < 0)
        return -1;
    for (xmlNodePtr n = os->children; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (virXMLIsPlain(n, "type")) {
            VIR_AUTOFREE(char *) t = NULL;
            if (virXMLOnce(c, n, &seen, 1) < 0 || virXMLCheckAttrs(c, n, typeAttrs) < 0 ||
                !(t = virXMLLeafText(c, n)))
                return -1;
            if (STRNEQ(t, "hvm") && STRNEQ(t, "linux")) {
                XERR("unsupported OS type '%.40s' in domain XML (expected hvm or linux)", t);
                return -1;
            }
            virStrcpyTrunc(type, typelen, t);
        } else if (virXMLIsPlain(n, "kernel") || virXMLIsPlain(n, "initrd") || virXMLIsPlain(n, "cmdline")) {
            VIR_AUTOFREE(char *) t = NULL;
            if (virXMLCheckAttrs(c, n, NULL) < 0 || !(t = virXMLLeafText(c, n)))
                return -1;
        } else if (virXMLIsPlain(n, "boot")) {
            if (virXMLCheckAttrs(c, n, bootAttrs) < 0 || virXMLCheckEmpty(c, n) < 0)
                return -1;
        } else if (listed(osKept, n)) {
            continue;
        } else {
            virXMLUnsupportedElement(c, n);
            return -1;
        }
    }
    return 0;
}

/* <test:fault op='save,dump' at='50' action='segv'/> */
static int parseFault(const xmlCtx *c, xmlNodePtr n, testFault *faults, uint32_t *nfaults)
{
    static const char *const attrs[] = { "op", "at", "action", NULL };
    VIR_AUTOFREE(char *) ops = NULL;
    VIR_AUTOFREE(char *) at = NULL;
    VIR_AUTOFREE(char *) action = NULL;
    testFault f = { 0 };
    uint64_t v;
    int a;

    if (virXMLCheckAttrs(c, n, attrs) < 0 || virXMLCheckEmpty(c, n) < 0)
        return -1;
    if (*nfaults >= TEST_FAULTS_MAX) {
        XERR("too many <test:fault> elements in %s XML (at most %d)", c->what, TEST_FAULTS_MAX);
        return -1;
    }
    if (!(ops = virXMLAttr(n, "op")) || !(action = virXMLAttr(n, "action"))) {
        XERR("<test:fault> in %s XML needs 'op' and 'action'", c->what);
        return -1;
    }
    for (char *save = NULL, *tok = strtok_r(ops, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        int bit = testFaultOpFromName(virXMLTrim(tok));
        if (bit < 0) {
            XERR("unknown fault op '%.32s' in %s XML (expected save, restore, dump, create)",
                 tok, c->what);
            return -1;
        }
        f.ops |= (uint32_t)bit;
    }
    if (!f.ops) {
        XERR("<test:fault> in %s XML has an empty 'op'", c->what);
        return -1;
    }
    if ((a = testFaultActionFromName(action)) < 0) {
        XERR("unknown fault action '%.32s' in %s XML", action, c->what);
        return -1;
    }
    f.action = (uint32_t)a;
    if ((at = virXMLAttr(n, "at"))) {
        if (virXMLParseU64(at, &v) < 0 || v > 100) {
            XERR("fault percent '%.32s' in %s XML is not 0 to 100", at, c->what);
            return -1;
        }
        f.at = (uint32_t)v;
    }
    faults[(*nfaults)++] = f;
    return 0;
}

/* <test:rate bytes-per-second='N'/> */
static int parseRate(const xmlCtx *c, xmlNodePtr n, uint64_t *rate)
{
    static const char *const attrs[] = { "bytes-per-second", NULL };
    VIR_AUTOFREE(char *) s = NULL;

    if (virXMLCheckAttrs(c, n, attrs) < 0 || virXMLCheckEmpty(c, n) < 0)
        return -1;
    if (!(s = virXMLAttr(n, "bytes-per-second")) || virXMLParseU64(s, rate) < 0 || *rate == 0) {
        XERR("<test:rate> in %s XML needs a positive 'bytes-per-second'", c->what);
        return -1;
    }
    return 0;
}

/* <test:memory data-bytes='N'/>, a domain's only; checked against the
 * current memory once that is known (parseDomainRoot). */
static int parseMemoryData(const xmlCtx *c, xmlNodePtr n, uint64_t *bytes)
{
    static const char *const attrs[] = { "data-bytes", NULL };
    VIR_AUTOFREE(char *) s = NULL;

    if (virXMLCheckAttrs(c, n, attrs) < 0 || virXMLCheckEmpty(c, n) < 0)
        return -1;
    if (!(s = virXMLAttr(n, "data-bytes")) || virXMLParseU64(s, bytes) < 0 || *bytes == 0) {
        XERR("<test:memory> in %s XML needs a positive 'data-bytes' (found '%.32s')",
             c->what, s ? s : "");
        return -1;
    }
    return 0;
}

/* The test namespace's elements, common to domains and networks. */
static int parseTestNS(const xmlCtx *c, xmlNodePtr n, testFault *faults, uint32_t *nfaults,
                       uint64_t *rate, uint32_t *seen)
{
    if (STREQ((const char *)n->name, "fault"))
        return parseFault(c, n, faults, nfaults);
    if (STREQ((const char *)n->name, "rate"))
        return virXMLOnce(c, n, seen, 1u << 31) < 0 ? -1 : parseRate(c, n, rate);
    virXMLUnsupportedElement(c, n);
    return -1;
}

/* --- the document --- */

enum {
    SEEN_OS = 1 << 0, SEEN_BRIDGE = 1 << 1, SEEN_FORWARD = 1 << 2, SEEN_IP = 1 << 3,
    SEEN_MAC = 1 << 4, SEEN_TEST_MEMORY = 1 << 5,
};

static const virXMLCommonRules domainRules = {
    .domain = true, .nameMax = TEST_NAME_MAX,
    .memoryMinKiB = TEST_MEMORY_MIN_KIB, .memoryMaxKiB = TEST_MEMORY_MAX_KIB,
    .vcpusMax = TEST_VCPUS_MAX,
};
static const virXMLCommonRules networkRules = { .domain = false, .nameMax = TEST_NAME_MAX };

/* The children domains and networks share: the common elements
 * (util/virxmlcommon.h: read into @cm; kept but <name>, <uuid>, <memory>,
 * <currentMemory>, which the definition models) and the test namespace.
 * Returns 1 if @n was one of them, 0 if not, -1 on error (reported). */
static int parseCommon(const xmlCtx *c, xmlNodePtr n, const virXMLCommonRules *r,
                       virXMLCommon *cm, testFault *faults, uint32_t *nfaults,
                       uint64_t *rate, uint32_t *seen, virXMLKeep *keep)
{
    int rc;

    if (inTestNS(n))
        return parseTestNS(c, n, faults, nfaults, rate, seen) < 0 ? -1 : 1;
    if ((rc = virXMLCommonRead(c, n, r, cm)) <= 0)
        return rc;
    if (rc != VIR_XML_COMMON_NAME && rc != VIR_XML_COMMON_UUID && rc != VIR_XML_COMMON_MEMORY &&
        rc != VIR_XML_COMMON_CURRENT_MEMORY && keepIf(c, keep, n) < 0)
        return -1;
    return 1;
}

/* After the children: the common elements' rules, then into the def. */
static int commonDone(const xmlCtx *c, const virXMLCommonRules *r, virXMLCommon *cm,
                      char name[TEST_NAME_MAX], uint8_t uuid[16])
{
    if (virXMLCommonDone(c, r, cm) < 0)
        return -1;
    virStrcpyTrunc(name, TEST_NAME_MAX, cm->name);
    memcpy(uuid, cm->uuid, 16);
    return 0;
}

static int parseDomainRoot(const xmlCtx *c, xmlNodePtr root, unsigned int flags,
                           testDomainDef *def, virXMLKeep *keep, virXMLCommon *cm)
{
    static const char *const rootAttrs[] = { "type", "id", NULL };
    VIR_AUTOFREE(char *) type = NULL;
    VIR_AUTOFREE(char *) id = NULL;
    uint32_t seen = 0;
    uint64_t ignored;
    int err = 0;

    if (virXMLCheckAttrs(c, root, rootAttrs) < 0)
        return -1;
    type = virXMLAttr(root, "type");
    if ((!type && !(flags & TEST_XML_NODE)) ||
        (type && STRNEQ(type, "test") && STRNEQ(type, "kvm") && STRNEQ(type, "qemu"))) {
        XERR("domain XML needs type='test' (or 'kvm', 'qemu'), found '%.32s'", type ? type : "");
        return -1;
    }
    if ((id = virXMLAttr(root, "id")) && STRNEQ(id, "-1") && virXMLParseU64(id, &ignored) < 0) {
        XERR("invalid domain id '%.32s' in domain XML", id);
        return -1;
    }

    for (xmlNodePtr n = virXMLFirstElement(c, root, &err); n; n = virXMLNextElement(c, n, &err)) {
        int rc;
        if (inTestNS(n) && STREQ((const char *)n->name, "memory"))
            rc = virXMLOnce(c, n, &seen, SEEN_TEST_MEMORY) < 0 ||
                 parseMemoryData(c, n, &def->data_bytes) < 0 ? -1 : 0;
        else if ((rc = parseCommon(c, n, &domainRules, cm, def->faults, &def->nfaults,
                                   &def->rate_bps, &seen, keep)) != 0)
            rc = rc < 0 ? -1 : 0;
        else if (virXMLIsPlain(n, "os"))
            rc = virXMLOnce(c, n, &seen, SEEN_OS) < 0 ||
                 parseOS(c, n, def->os_type, sizeof(def->os_type)) < 0 ? -1 : keepIf(c, keep, n);
        else if (listed(domainKept, n))
            rc = keepIf(c, keep, n);
        else {
            virXMLUnsupportedElement(c, n);
            rc = -1;
        }
        if (rc < 0)
            return -1;
    }
    if (err < 0 || commonDone(c, &domainRules, cm, def->name, def->uuid) < 0 ||
        lifecycleHonoured("on_poweroff", cm->onPoweroff, VIR_XML_ACTION_DESTROY) < 0 ||
        lifecycleHonoured("on_reboot", cm->onReboot, VIR_XML_ACTION_RESTART) < 0)
        return -1;
    def->memory_kib = cm->memoryKiB;
    def->current_kib = cm->currentMemoryKiB;
    def->vcpus = cm->vcpus;
    if (def->data_bytes > def->current_kib * 1024) {
        XERR("<test:memory data-bytes='%" PRIu64 "'> in domain XML is above the domain's "
             "current memory (%" PRIu64 " bytes): the data must fit in <currentMemory>",
             def->data_bytes, def->current_kib * 1024);
        return -1;
    }
    return 0;
}

/* After a parse of @def (@size bytes) with its kept elements in @k: what
 * the library checks of a worker's result (@checkRc, @why), checked here
 * first for a clear message; then the def to @out and @k to @keep (NULL:
 * freed). @k is freed on error. */
static int parseDone(const xmlCtx *c, int checkRc, const char *why, const void *def,
                     size_t size, void *out, virXMLKeep *k, virXMLKeep *keep)
{
    if (checkRc < 0) {
        XERR("invalid %s definition: %s", c->what, why);
        virXMLKeepClear(k);
        return -1;
    }
    memcpy(out, def, size);
    if (keep) {
        virXMLKeepClear(keep);
        *keep = *k;
    } else {
        virXMLKeepClear(k);
    }
    return 0;
}

/* A whole document of kind @what ("domain", "network"). */
static int parseDoc(const char *what, const char *xml, size_t len, void *out, virXMLKeep *keep)
{
    xmlCtx c = { what };
    xmlDocPtr doc;
    int rc;

    if (!(doc = virXMLReadUntrusted(&c, xml, len, TEST_XML_MAX, what)))
        return -1;
    if (STREQ(what, "domain"))
        rc = testDomainParseElement(&c, xmlDocGetRootElement(doc), 0, out, keep);
    else
        rc = testNetworkParseElement(&c, xmlDocGetRootElement(doc), 0, out, keep);
    xmlFreeDoc(doc);
    return rc;
}

int testDomainParseElement(const virXMLCtx *c, xmlNodePtr root, unsigned int flags,
                           testDomainDef *out, virXMLKeep *keep)
{
    testDomainDef def;
    virXMLKeep k = VIR_XML_KEEP_INIT;
    const char *why;

    memset(&def, 0, sizeof(def));
    def.magic = TEST_DOMAIN_DEF_MAGIC;
    def.version = 1;
    def.vcpus = 1;
    virStrcpyTrunc(def.os_type, sizeof(def.os_type), "hvm");
    virXMLCommon cm = VIR_XML_COMMON_INIT;
    int rc = parseDomainRoot(c, root, flags, &def, keep ? &k : NULL, &cm);

    virXMLCommonClear(&cm);
    if (rc < 0) {
        virXMLKeepClear(&k);
        return -1;
    }
    return parseDone(c, testDomainDefCheck(&def, &why), why, &def, sizeof(def), out, &k, keep);
}

int testDomainParseXML(const char *xml, size_t len, testDomainDef *out, virXMLKeep *keep)
{
    return parseDoc("domain", xml, len, out, keep);
}

/* <ip> and its <dhcp>, read by util/virxmlcommon.c as the network
 * driver reads them; ranges and hosts are checked, not modelled (kept with
 * <ip> for echo). */
static int parseIP(const xmlCtx *c, xmlNodePtr ip, testNetworkDef *def)
{
    static const char *const attrs[] = { "address", "prefix", "netmask", "family", NULL };
    VIR_AUTOFREE(virXMLDhcp *) dhcp = NULL;
    bool netmaskForm, familyGiven;

    if (virXMLCheckAttrs(c, ip, attrs) < 0 ||
        virXMLReadIPv4Net(c, ip, 1, 32, &def->ipv4, &def->prefix, &netmaskForm,
                          &familyGiven) < 0)
        return -1;
    if (!VIR_ALLOC(dhcp))
        return -1;
    return virXMLReadIPChildren(c, ip, def->ipv4, def->prefix, dhcp);
}

static int parseNetworkRoot(const xmlCtx *c, xmlNodePtr root, testNetworkDef *def,
                            virXMLKeep *keep, virXMLCommon *cm)
{
    static const char *const forwardAttrs[] = { "mode", NULL };
    uint32_t seen = 0;

    if (virXMLCheckAttrs(c, root, NULL) < 0)
        return -1;
    for (xmlNodePtr n = root->children; n; n = n->next) {
        int rc = 0;
        if ((rc = virXMLNotElement(c, n)) != 0) {
            if (rc < 0)
                return -1;
            continue;
        }
        if ((rc = parseCommon(c, n, &networkRules, cm, def->faults, &def->nfaults,
                              &def->rate_bps, &seen, keep)) != 0) {
            rc = rc < 0 ? -1 : 0;
        } else if (virXMLIsPlain(n, "bridge")) {
            /* every attribute libvirt has is kept (zone=, macTableManager=) */
            virXMLBridge br;
            if (virXMLOnce(c, n, &seen, SEEN_BRIDGE) < 0 || virXMLReadBridge(c, n, &br) < 0)
                return -1;
            virStrcpyTrunc(def->bridge, sizeof(def->bridge), br.name);
            rc = keepIf(c, keep, n);
        } else if (virXMLIsPlain(n, "mac")) {
            uint8_t mac[6];
            if (virXMLOnce(c, n, &seen, SEEN_MAC) < 0 || virXMLReadMac(c, n, mac) < 0)
                return -1;
            rc = keepIf(c, keep, n);
        } else if (virXMLIsPlain(n, "forward")) {
            VIR_AUTOFREE(char *) mode = NULL;
            /* children (<nat>, <interface>...): kept with it, for echo */
            if (virXMLOnce(c, n, &seen, SEEN_FORWARD) < 0 || virXMLCheckAttrs(c, n, forwardAttrs) < 0)
                return -1;
            mode = virXMLAttr(n, "mode");
            if (mode && STRNEQ(mode, "nat") && STRNEQ(mode, "route") &&
                STRNEQ(mode, "isolated")) {
                XERR("unsupported forward mode '%.32s' in network XML "
                     "(expected nat, route or isolated)", mode);
                return -1;
            }
            virStrcpyTrunc(def->forward, sizeof(def->forward), mode ? mode : "nat");
            rc = keepIf(c, keep, n);
        } else if (virXMLIsPlain(n, "ip")) {
            if (seen & SEEN_IP) {
                XERR("%s", "only one <ip> element is supported in network XML");
                return -1;
            }
            seen |= SEEN_IP;
            rc = parseIP(c, n, def) < 0 ? -1 : keepIf(c, keep, n);
        } else if (listed(networkKept, n)) {
            rc = keepIf(c, keep, n);
        } else {
            virXMLUnsupportedElement(c, n);
            rc = -1;
        }
        if (rc < 0)
            return -1;
    }
    return commonDone(c, &networkRules, cm, def->name, def->uuid);
}

int testNetworkParseElement(const virXMLCtx *c, xmlNodePtr root, unsigned int flags,
                            testNetworkDef *out, virXMLKeep *keep)
{
    testNetworkDef def;
    virXMLKeep k = VIR_XML_KEEP_INIT;
    const char *why;

    (void)flags;
    memset(&def, 0, sizeof(def));
    def.magic = TEST_NETWORK_DEF_MAGIC;
    def.version = 1;
    virXMLCommon cm = VIR_XML_COMMON_INIT;
    int rc = parseNetworkRoot(c, root, &def, keep ? &k : NULL, &cm);

    virXMLCommonClear(&cm);
    if (rc < 0) {
        virXMLKeepClear(&k);
        return -1;
    }
    return parseDone(c, testNetworkDefCheck(&def, &why), why, &def, sizeof(def), out, &k, keep);
}

int testNetworkParseXML(const char *xml, size_t len, testNetworkDef *out, virXMLKeep *keep)
{
    return parseDoc("network", xml, len, out, keep);
}
