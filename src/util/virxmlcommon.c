/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virxmlcommon.c: the elements libvirt's domain and network grammars share,
 * read one way for every driver (virxmlcommon.h).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VIR_FROM_THIS VIR_FROM_XML
#include "util/virerror.h"
#include "util/virstring.h"
#include "util/virxmlcommon.h"

#define XERR(...) virReportError(VIR_ERR_XML_ERROR, __VA_ARGS__)

static const char *const actionNames[] = {
    "", "destroy", "restart", "preserve", "rename-restart", "coredump-destroy",
    "coredump-restart",
};

const char *virXMLLifecycleActionName(unsigned int action)
{
    return action < ARRAY_CARDINALITY(actionNames) ? actionNames[action] : "";
}

static int readName(const virXMLCtx *c, xmlNodePtr n, const virXMLCommonRules *r,
                    virXMLCommon *out)
{
    VIR_AUTOFREE(char *) s = NULL;
    size_t max = r->nameMax && r->nameMax < sizeof(out->name) ? r->nameMax : sizeof(out->name);
    const char *why;

    if (!(s = virXMLLeafText(c, n)))
        return -1;
    if ((r->nameCheck ? r->nameCheck(s, max, &why) : virNameCheck(s, max, &why)) < 0) {
        XERR("invalid %s name '%.80s': %s", c->what, s, why);
        return -1;
    }
    virStrcpyTrunc(out->name, max, s);
    return 0;
}

/* <title> (one line) and <description>: their text, NULL when empty. */
static int readText(const virXMLCtx *c, xmlNodePtr n, bool oneLine, char **out)
{
    char *s = virXMLLeafText(c, n);

    if (!s)
        return -1;
    if (oneLine && strchr(s, '\n')) {
        XERR("<%s> in %s XML must be a single line", (const char *)n->name, c->what);
        free(s);
        return -1;
    }
    if (!*s) {
        free(s);
        s = NULL;
    }
    *out = s;
    return 0;
}

/* <memory>, <currentMemory>: in KiB, rounded up, in @r's range. libvirt's
 * dumpCore= of <memory> is accepted (on/off) and means nothing here. */
static int readMemory(const virXMLCtx *c, xmlNodePtr n, const virXMLCommonRules *r,
                      uint64_t *kib)
{
    static const char *const attrs[] = { "unit", "dumpCore", NULL };
    xmlAttrPtr dc;
    uint64_t bytes;

    if (virXMLCheckAttrs(c, n, attrs) < 0)
        return -1;
    if ((dc = xmlHasProp(n, (const xmlChar *)"dumpCore"))) {
        VIR_AUTOFREE(char *) v = virXMLAttr(n, "dumpCore");
        if (!virXMLIsPlain(n, "memory") || !v || (STRNEQ(v, "on") && STRNEQ(v, "off"))) {
            XERR("invalid dumpCore '%.16s' of <%s> in %s XML", v ? v : "",
                 (const char *)n->name, c->what);
            return -1;
        }
        xmlRemoveProp(dc);     /* virXMLNodeScaled takes unit= alone */
    }
    if (virXMLNodeScaled(c, n, &bytes) < 0)
        return -1;
    *kib = bytes / 1024 + (bytes % 1024 != 0);
    if (*kib < r->memoryMinKiB || *kib > r->memoryMaxKiB) {
        XERR("memory of %" PRIu64 " KiB in %s XML is out of range (%" PRIu64 " to %" PRIu64
             " KiB)", *kib, c->what, r->memoryMinKiB, r->memoryMaxKiB);
        return -1;
    }
    return 0;
}

static int readVcpu(const virXMLCtx *c, xmlNodePtr n, const virXMLCommonRules *r,
                    virXMLCommon *out)
{
    static const char *const attrs[] = { "placement", "current", "cpuset", NULL };
    VIR_AUTOFREE(char *) text = NULL;
    VIR_AUTOFREE(char *) cur = NULL;
    VIR_AUTOFREE(char *) placement = NULL;
    uint64_t v, cv;

    if (virXMLCheckAttrs(c, n, attrs) < 0 || !(text = virXMLLeafText(c, n)))
        return -1;
    if (xmlHasProp(n, (const xmlChar *)"cpuset")) {
        virReportError(VIR_ERR_CONFIG_UNSUPPORTED,
                       "unsupported vCPU pinning (<vcpu cpuset=...>) in %s XML", c->what);
        return -1;
    }
    if ((placement = virXMLAttr(n, "placement")) && STRNEQ(placement, "static") &&
        STRNEQ(placement, "auto")) {
        XERR("invalid vCPU placement '%.32s' in %s XML", placement, c->what);
        return -1;
    }
    if (virXMLParseU64(text, &v) < 0 || v < 1 || v > r->vcpusMax) {
        XERR("vCPU count '%.40s' in %s XML is not a number from 1 to %u", text, c->what,
             r->vcpusMax);
        return -1;
    }
    cv = v;
    if ((cur = virXMLAttr(n, "current")) && (virXMLParseU64(cur, &cv) < 0 || cv < 1 || cv > v)) {
        XERR("current vCPU count '%.40s' in %s XML is out of range (1 to %" PRIu64 ")",
             cur, c->what, v);
        return -1;
    }
    out->vcpus = (uint32_t)v;
    out->vcpusCurrent = (uint32_t)cv;
    return 0;
}

static int readAction(const virXMLCtx *c, xmlNodePtr n, bool crash, uint8_t *out)
{
    VIR_AUTOFREE(char *) t = virXMLLeafText(c, n);
    size_t last = crash ? VIR_XML_ACTION_COREDUMP_RESTART : VIR_XML_ACTION_RENAME_RESTART;

    if (!t)
        return -1;
    for (size_t i = VIR_XML_ACTION_DESTROY; i <= last; i++) {
        if (STREQ(t, actionNames[i])) {
            *out = (uint8_t)i;
            return 0;
        }
    }
    XERR("invalid action '%.32s' of <%s> in %s XML", t, (const char *)n->name, c->what);
    return -1;
}

static const struct {
    const char *name;
    bool domainOnly;
} elements[] = {
    [VIR_XML_COMMON_NAME] = { "name", false },
    [VIR_XML_COMMON_UUID] = { "uuid", false },
    [VIR_XML_COMMON_TITLE] = { "title", false },
    [VIR_XML_COMMON_DESCRIPTION] = { "description", false },
    [VIR_XML_COMMON_METADATA] = { "metadata", false },
    [VIR_XML_COMMON_MEMORY] = { "memory", true },
    [VIR_XML_COMMON_CURRENT_MEMORY] = { "currentMemory", true },
    [VIR_XML_COMMON_VCPU] = { "vcpu", true },
    [VIR_XML_COMMON_ON_POWEROFF] = { "on_poweroff", true },
    [VIR_XML_COMMON_ON_REBOOT] = { "on_reboot", true },
    [VIR_XML_COMMON_ON_CRASH] = { "on_crash", true },
};

int virXMLCommonRead(const virXMLCtx *c, xmlNodePtr n, const virXMLCommonRules *r,
                     virXMLCommon *out)
{
    int which = VIR_XML_COMMON_NONE;
    int rc;

    for (size_t i = 1; i < ARRAY_CARDINALITY(elements); i++) {
        if ((r->domain || !elements[i].domainOnly) && virXMLIsPlain(n, elements[i].name)) {
            which = (int)i;
            break;
        }
    }
    if (which == VIR_XML_COMMON_NONE)
        return VIR_XML_COMMON_NONE;
    if (virXMLOnce(c, n, &out->seen, 1u << which) < 0)
        return -1;
    /* attributes: <memory>'s, <vcpu>'s and <metadata>'s own; none elsewhere */
    if (which != VIR_XML_COMMON_MEMORY && which != VIR_XML_COMMON_CURRENT_MEMORY &&
        which != VIR_XML_COMMON_VCPU && virXMLCheckAttrs(c, n, NULL) < 0)
        return -1;
    switch ((virXMLCommonElement)which) {
    case VIR_XML_COMMON_NAME:
        rc = readName(c, n, r, out);
        break;
    case VIR_XML_COMMON_UUID:
        rc = virXMLParseUUID(c, n, out->uuid);
        break;
    case VIR_XML_COMMON_TITLE:
        rc = readText(c, n, true, &out->title);
        break;
    case VIR_XML_COMMON_DESCRIPTION:
        rc = readText(c, n, false, &out->description);
        break;
    case VIR_XML_COMMON_METADATA:
        rc = 0;          /* kept whole by the caller (its children are others') */
        break;
    case VIR_XML_COMMON_MEMORY:
        rc = readMemory(c, n, r, &out->memoryKiB);
        break;
    case VIR_XML_COMMON_CURRENT_MEMORY:
        rc = readMemory(c, n, r, &out->currentMemoryKiB);
        break;
    case VIR_XML_COMMON_VCPU:
        rc = readVcpu(c, n, r, out);
        break;
    case VIR_XML_COMMON_ON_POWEROFF:
        rc = readAction(c, n, false, &out->onPoweroff);
        break;
    case VIR_XML_COMMON_ON_REBOOT:
        rc = readAction(c, n, false, &out->onReboot);
        break;
    case VIR_XML_COMMON_ON_CRASH:
        rc = readAction(c, n, true, &out->onCrash);
        break;
    default:
        rc = -1;
        break;
    }
    return rc < 0 ? -1 : which;
}

int virXMLCommonDone(const virXMLCtx *c, const virXMLCommonRules *r, virXMLCommon *out)
{
    if (!(out->seen & (1u << VIR_XML_COMMON_NAME))) {
        XERR("%s XML has no <name>", c->what);
        return -1;
    }
    if (r->domain) {
        if (!(out->seen & (1u << VIR_XML_COMMON_MEMORY))) {
            XERR("%s XML has no <memory>", c->what);
            return -1;
        }
        if (!(out->seen & (1u << VIR_XML_COMMON_CURRENT_MEMORY)))
            out->currentMemoryKiB = out->memoryKiB;
        if (out->currentMemoryKiB > out->memoryKiB) {
            XERR("the current memory in %s XML is larger than the memory", c->what);
            return -1;
        }
        if (!(out->seen & (1u << VIR_XML_COMMON_VCPU)))
            out->vcpus = out->vcpusCurrent = 1;
    }
    if (!(out->seen & (1u << VIR_XML_COMMON_UUID)))
        return virXMLRandomUUID(out->uuid);
    return 0;
}

void virXMLCommonClear(virXMLCommon *out)
{
    free(out->title);
    free(out->description);
    out->title = out->description = NULL;
}

int virXMLParseIPv4(const char *s, uint32_t *out)
{
    struct in_addr a;

    if (!s || inet_pton(AF_INET, s, &a) != 1)
        return -1;
    *out = ntohl(a.s_addr);
    return 0;
}

int virXMLReadIPv4Net(const virXMLCtx *c, xmlNodePtr ip, unsigned int minPrefix,
                      unsigned int maxPrefix, uint32_t *addr, uint32_t *prefix,
                      bool *netmaskForm, bool *familyGiven)
{
    VIR_AUTOFREE(char *) family = virXMLAttr(ip, "family");
    VIR_AUTOFREE(char *) address = NULL;
    VIR_AUTOFREE(char *) pfx = NULL;
    VIR_AUTOFREE(char *) mask = NULL;
    uint64_t p = 0;
    uint32_t m;

    if (family && STRNEQ(family, "ipv4")) {
        XERR("unsupported address family '%.32s' in %s XML: only ipv4", family, c->what);
        return -1;
    }
    *familyGiven = family != NULL;
    address = virXMLAttr(ip, "address");
    if (virXMLParseIPv4(address, addr) < 0 || *addr == 0) {
        XERR("invalid or missing IPv4 address '%.40s' on <ip> in %s XML",
             address ? address : "", c->what);
        return -1;
    }
    pfx = virXMLAttr(ip, "prefix");
    mask = virXMLAttr(ip, "netmask");
    if (!!pfx == !!mask) {
        XERR("<ip> in %s XML needs exactly one of 'prefix' and 'netmask'", c->what);
        return -1;
    }
    if (pfx && (virXMLParseU64(pfx, &p) < 0 || p < minPrefix || p > maxPrefix)) {
        XERR("IPv4 prefix '%.32s' in %s XML is not %u to %u", pfx, c->what, minPrefix,
             maxPrefix);
        return -1;
    }
    if (mask) {
        if (virXMLParseIPv4(mask, &m) < 0 || m == 0 || (~m & (~m + 1)) != 0) {
            XERR("invalid IPv4 netmask '%.40s' in %s XML", mask, c->what);
            return -1;
        }
        p = (uint64_t)__builtin_popcount(m);
        if (p < minPrefix || p > maxPrefix) {
            XERR("IPv4 netmask '%.40s' in %s XML is not /%u to /%u", mask, c->what,
                 minPrefix, maxPrefix);
            return -1;
        }
    }
    *prefix = (uint32_t)p;
    *netmaskForm = mask != NULL;
    return 0;
}

/* ---- <bridge>, <mac>, <dhcp> ---- */

int virXMLReadTristate(const virXMLCtx *c, xmlNodePtr n, const char *name, bool onOff,
                       uint8_t *out)
{
    VIR_AUTOFREE(char *) v = virXMLAttr(n, name);
    const char *yes = onOff ? "on" : "yes", *no = onOff ? "off" : "no";

    if (!v)
        return 0;
    if (STREQ(v, yes)) {
        *out = VIR_XML_TRI_YES;
    } else if (STREQ(v, no)) {
        *out = VIR_XML_TRI_NO;
    } else {
        XERR("invalid %s='%.32s' on <%s> in %s XML (expected %s or %s)", name, v,
             (const char *)n->name, c->what, yes, no);
        return -1;
    }
    return 0;
}

int virXMLReadIfnameAttr(const virXMLCtx *c, xmlNodePtr n, const char *name,
                         char out[VIR_IFNAME_MAX])
{
    VIR_AUTOFREE(char *) v = virXMLAttr(n, name);
    const char *why;

    if (!v)
        return 0;
    if (virIfnameCheck(v, &why) < 0) {
        XERR("invalid interface name %s='%.40s' on <%s> in %s XML: %s", name, v,
             (const char *)n->name, c->what, why);
        return -1;
    }
    virStrcpyTrunc(out, VIR_IFNAME_MAX, v);
    return 0;
}

int virXMLReadBridge(const virXMLCtx *c, xmlNodePtr n, virXMLBridge *out)
{
    static const char *const attrs[] = { "name", "stp", "delay", "macTableManager", "zone",
                                         NULL };
    VIR_AUTOFREE(char *) delay = NULL;
    VIR_AUTOFREE(char *) mtm = NULL;
    VIR_AUTOFREE(char *) zone = NULL;
    const char *why;
    uint64_t d;

    memset(out, 0, sizeof(*out));
    if (virXMLCheckAttrs(c, n, attrs) < 0 || virXMLCheckEmpty(c, n) < 0)
        return -1;
    if (virXMLReadIfnameAttr(c, n, "name", out->name) < 0 || virXMLReadTristate(c, n, "stp", true, &out->stp) < 0)
        return -1;
    if ((delay = virXMLAttr(n, "delay"))) {
        if (virXMLParseU64(delay, &d) < 0 || d > VIR_XML_BRIDGE_DELAY_MAX) {
            XERR("delay='%.32s' on <bridge> in %s XML is not a number of seconds from 0 to %u",
                 delay, c->what, VIR_XML_BRIDGE_DELAY_MAX);
            return -1;
        }
        out->delayGiven = true;
        out->delay = (uint32_t)d;
    }
    if ((mtm = virXMLAttr(n, "macTableManager"))) {
        if (STREQ(mtm, "kernel")) {
            out->macTableManager = VIR_XML_MACTABLE_KERNEL;
        } else if (STREQ(mtm, "libvirt")) {
            out->macTableManager = VIR_XML_MACTABLE_LIBVIRT;
        } else {
            XERR("invalid macTableManager='%.32s' on <bridge> in %s XML "
                 "(expected kernel or libvirt)", mtm, c->what);
            return -1;
        }
    }
    if ((zone = virXMLAttr(n, "zone"))) {
        if (virNameCheck(zone, sizeof(out->zone), &why) < 0) {
            XERR("invalid zone='%.40s' on <bridge> in %s XML: %s", zone, c->what, why);
            return -1;
        }
        virStrcpyTrunc(out->zone, sizeof(out->zone), zone);
    }
    return 0;
}

int virXMLReadMacAttr(const virXMLCtx *c, xmlNodePtr n, const char *attr, uint8_t mac[6])
{
    VIR_AUTOFREE(char *) v = virXMLAttr(n, attr);
    bool ok = v && strlen(v) == 17;

    /* exactly "xx:xx:xx:xx:xx:xx": no sign, blank or 0x that scanf would take */
    for (size_t i = 0; ok && i < 17; i++)
        ok = i % 3 == 2 ? v[i] == ':' : isxdigit((unsigned char)v[i]) != 0;
    if (!ok) {
        XERR("invalid MAC address %s='%.40s' on <%s> in %s XML "
             "(expected six hex bytes separated by ':')", attr, v ? v : "",
             (const char *)n->name, c->what);
        return -1;
    }
    for (int i = 0; i < 6; i++)
        mac[i] = (uint8_t)strtoul(v + 3 * i, NULL, 16);
    if ((mac[0] & 1) || !(mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5])) {
        XERR("MAC address %s='%s' on <%s> in %s XML is multicast or zero", attr, v,
             (const char *)n->name, c->what);
        return -1;
    }
    return 0;
}

int virXMLReadMac(const virXMLCtx *c, xmlNodePtr n, uint8_t mac[6])
{
    static const char *const attrs[] = { "address", NULL };

    if (virXMLCheckAttrs(c, n, attrs) < 0 || virXMLCheckEmpty(c, n) < 0)
        return -1;
    return virXMLReadMacAttr(c, n, "address", mac);
}

uint64_t virXMLLeaseSeconds(const virXMLDhcpLease *l)
{
    static const uint64_t mult[] = { 0, 1, 60, 3600 };

    return l->unit < ARRAY_CARDINALITY(mult) ? l->expiry * mult[l->unit] : 0;
}

static int readLease(const virXMLCtx *c, xmlNodePtr n, virXMLDhcpLease *lease)
{
    static const char *const attrs[] = { "expiry", "unit", NULL };
    VIR_AUTOFREE(char *) expiry = NULL;
    VIR_AUTOFREE(char *) unit = NULL;
    uint64_t e, secs;

    if (virXMLCheckAttrs(c, n, attrs) < 0 || virXMLCheckEmpty(c, n) < 0)
        return -1;
    if (!(expiry = virXMLAttr(n, "expiry"))) {
        XERR("<lease> in %s XML needs 'expiry'", c->what);
        return -1;
    }
    if (virXMLParseU64(expiry, &e) < 0 || e > UINT32_MAX) {
        XERR("expiry='%.32s' on <lease> in %s XML is not a number from 0 to %u", expiry,
             c->what, UINT32_MAX);
        return -1;
    }
    unit = virXMLAttr(n, "unit");
    if (!unit || STREQ(unit, "minutes")) {
        lease->unit = VIR_XML_LEASE_MINUTES;
    } else if (STREQ(unit, "seconds")) {
        lease->unit = VIR_XML_LEASE_SECONDS;
    } else if (STREQ(unit, "hours")) {
        lease->unit = VIR_XML_LEASE_HOURS;
    } else {
        XERR("unknown lease unit '%.32s' in %s XML (expected seconds, minutes or hours)",
             unit, c->what);
        return -1;
    }
    lease->expiry = (uint32_t)e;
    secs = virXMLLeaseSeconds(lease);
    if (e && (secs < 120 || secs > 366ull * 86400)) {
        XERR("a DHCP lease of %" PRIu64 " seconds in %s XML is shorter than 2 minutes or "
             "longer than a year (0 means infinite)", secs, c->what);
        return -1;
    }
    return 0;
}

/* The one optional <lease> child of <range> or <host>. */
static int readLeaseChild(const virXMLCtx *c, xmlNodePtr parent, virXMLDhcpLease *lease)
{
    int err = 0;

    for (xmlNodePtr n = virXMLFirstElement(c, parent, &err); n;
         n = virXMLNextElement(c, n, &err)) {
        if (!virXMLIsPlain(n, "lease")) {
            virXMLUnsupportedElement(c, n);
            return -1;
        }
        if (lease->unit != VIR_XML_LEASE_NONE) {
            XERR("only one <lease> per <%s> in %s XML", (const char *)parent->name, c->what);
            return -1;
        }
        if (readLease(c, n, lease) < 0)
            return -1;
    }
    return err;
}

static uint32_t maskOf(uint32_t prefix)
{
    return prefix == 0 ? 0 : prefix >= 32 ? UINT32_MAX : ~(UINT32_MAX >> prefix);
}

/* @a is a host address of @addr/@prefix: neither its network nor its
 * broadcast address. */
static bool hostOf(uint32_t a, uint32_t addr, uint32_t prefix)
{
    uint32_t m = maskOf(prefix);

    return (a & m) == (addr & m) && (a & ~m) != 0 && (a & ~m) != ~m;
}

static void ipText(uint32_t a, char buf[16])
{
    snprintf(buf, 16, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

/* A required IPv4 attribute. */
static int readIPv4Attr(const virXMLCtx *c, xmlNodePtr n, const char *name, uint32_t *out)
{
    VIR_AUTOFREE(char *) v = virXMLAttr(n, name);

    if (virXMLParseIPv4(v, out) < 0 || *out == 0) {
        XERR("invalid or missing IPv4 address %s='%.40s' on <%s> in %s XML", name,
             v ? v : "", (const char *)n->name, c->what);
        return -1;
    }
    return 0;
}

static int readRange(const virXMLCtx *c, xmlNodePtr n, uint32_t addr, uint32_t prefix,
                     virXMLDhcp *out)
{
    static const char *const attrs[] = { "start", "end", NULL };
    virXMLDhcpRange *r;
    char s[16], e[16];

    if (out->nranges >= VIR_XML_DHCP_RANGES_MAX) {
        XERR("too many DHCP ranges in %s XML (at most %d)", c->what, VIR_XML_DHCP_RANGES_MAX);
        return -1;
    }
    r = &out->ranges[out->nranges];
    if (virXMLCheckAttrs(c, n, attrs) < 0 || readIPv4Attr(c, n, "start", &r->start) < 0 ||
        readIPv4Attr(c, n, "end", &r->end) < 0)
        return -1;
    ipText(r->start, s);
    ipText(r->end, e);
    if (r->start > r->end) {
        XERR("DHCP range %s-%s in %s XML ends before it starts", s, e, c->what);
        return -1;
    }
    if (!hostOf(r->start, addr, prefix) || !hostOf(r->end, addr, prefix)) {
        XERR("DHCP range %s-%s in %s XML is not inside the network's subnet (its host "
             "addresses)", s, e, c->what);
        return -1;
    }
    if (addr >= r->start && addr <= r->end) {
        XERR("DHCP range %s-%s in %s XML holds the network's own address", s, e, c->what);
        return -1;
    }
    for (uint32_t j = 0; j < out->nranges; j++) {
        if (r->start <= out->ranges[j].end && out->ranges[j].start <= r->end) {
            XERR("DHCP ranges in %s XML overlap at %s-%s", c->what, s, e);
            return -1;
        }
    }
    if (readLeaseChild(c, n, &r->lease) < 0)
        return -1;
    out->nranges++;
    return 0;
}

static int readHost(const virXMLCtx *c, xmlNodePtr n, uint32_t addr, uint32_t prefix,
                    virXMLDhcp *out)
{
    static const char *const attrs[] = { "mac", "name", "ip", NULL };
    VIR_AUTOFREE(char *) name = NULL;
    virXMLDhcpHost *h;
    const char *why;
    char ip[16];

    if (xmlHasProp(n, (const xmlChar *)"id")) {
        XERR("<host id=...> (DHCPv6) is not supported in %s XML: IPv6 is not", c->what);
        return -1;
    }
    if (virXMLCheckAttrs(c, n, attrs) < 0)
        return -1;
    if (out->nhosts >= VIR_XML_DHCP_HOSTS_MAX) {
        XERR("too many DHCP hosts in %s XML (at most %d)", c->what, VIR_XML_DHCP_HOSTS_MAX);
        return -1;
    }
    h = &out->hosts[out->nhosts];
    if (xmlHasProp(n, (const xmlChar *)"mac")) {
        if (virXMLReadMacAttr(c, n, "mac", h->mac) < 0)
            return -1;
        h->hasMac = true;
    }
    if ((name = virXMLAttr(n, "name"))) {
        if (strchr(name, '.') || virDNSNameCheck(name, sizeof(h->name), &why) < 0) {
            XERR("invalid DHCP host name '%.80s' in %s XML: a host name is one DNS label "
                 "(letters, digits and '-', at most 63 bytes)", name, c->what);
            return -1;
        }
        virStrcpyTrunc(h->name, sizeof(h->name), name);
    }
    if (!h->hasMac && !name) {
        XERR("a DHCP <host> in %s XML needs 'mac' or 'name'", c->what);
        return -1;
    }
    if (readIPv4Attr(c, n, "ip", &h->ip) < 0)
        return -1;
    ipText(h->ip, ip);
    if (!hostOf(h->ip, addr, prefix) || h->ip == addr) {
        XERR("DHCP host address %s in %s XML is outside the network's subnet or its own",
             ip, c->what);
        return -1;
    }
    for (uint32_t j = 0; j < out->nhosts; j++) {
        const virXMLDhcpHost *o = &out->hosts[j];
        if (o->ip == h->ip || (h->hasMac && o->hasMac && !memcmp(o->mac, h->mac, 6)) ||
            (h->name[0] && STREQ(o->name, h->name))) {
            XERR("two DHCP hosts in %s XML share an address, a MAC address or a name (%s)",
                 c->what, ip);
            return -1;
        }
    }
    if (readLeaseChild(c, n, &h->lease) < 0)
        return -1;
    out->nhosts++;
    return 0;
}

static int readDhcp(const virXMLCtx *c, xmlNodePtr d, uint32_t addr, uint32_t prefix,
                    virXMLDhcp *out)
{
    int err = 0;

    if (virXMLCheckAttrs(c, d, NULL) < 0)
        return -1;
    out->present = true;
    for (xmlNodePtr n = virXMLFirstElement(c, d, &err); n; n = virXMLNextElement(c, n, &err)) {
        int rc;
        if (virXMLIsPlain(n, "range")) {
            rc = readRange(c, n, addr, prefix, out);
        } else if (virXMLIsPlain(n, "host")) {
            rc = readHost(c, n, addr, prefix, out);
        } else {
            virXMLUnsupportedElement(c, n);
            rc = -1;
        }
        if (rc < 0)
            return -1;
    }
    return err;
}

int virXMLReadIPChildren(const virXMLCtx *c, xmlNodePtr ip, uint32_t addr, uint32_t prefix,
                         virXMLDhcp *out)
{
    int err = 0;

    for (xmlNodePtr n = virXMLFirstElement(c, ip, &err); n; n = virXMLNextElement(c, n, &err)) {
        if (!virXMLIsPlain(n, "dhcp")) {
            virXMLUnsupportedElement(c, n);
            return -1;
        }
        if (out->present) {
            XERR("only one <dhcp> per <ip> in %s XML", c->what);
            return -1;
        }
        if (readDhcp(c, n, addr, prefix, out) < 0)
            return -1;
    }
    return err;
}
