/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virxmlcommon.c: the elements libvirt's domain and network grammars share,
 * read one way for every driver (virxmlcommon.h).
 */
#include <arpa/inet.h>
#include <inttypes.h>
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
