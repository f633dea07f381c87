/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * netxml-worker.c: libvirt's network XML, parsed and validated in a
 * worker that holds no capability (op "network.parse"): the only place
 * network XML given to the API meets libxml2. The document is read with
 * util/virxml.c's locked-down reader.
 *
 * The grammar is the subset docs/NETWORK-DRIVER.md describes, which is
 * what libvirt 9's net-dumpxml prints for such a network. Anything else is
 * refused by name (VIR_ERR_CONFIG_UNSUPPORTED), never silently dropped;
 * harmless settings are kept and echoed back.
 *
 *   <network [connections='N'] [ipv6='no']>     connections: ignored (live state)
 *     <name>NAME</name>                          required
 *     <uuid>UUID</uuid>?                         random v4 if absent
 *     <title>TEXT</title>? <description>TEXT</description>?
 *     <bridge [name='IF'] [stp='on|off'] [delay='S'] [macTableManager='kernel']/>?
 *     <mac address='MAC'/>?
 *     <forward [mode='nat|route'] [dev='IF']>?   no <forward>: isolated
 *       <nat [ipv6='no']><port start='N' end='N'/>?</nat>?     nat only
 *       <interface dev='IF'/>?                   must be dev=
 *     </forward>
 *     <mtu size='N'/>?
 *     <domain name='DNS' [localOnly='yes|no']/>?
 *     <dns [enable='yes|no']/>?
 *     <ip address='A' (netmask='M' | prefix='N') [family='ipv4'] [localPtr='yes|no']>?
 *       <dhcp>?
 *         <range start='A' end='A'><lease expiry='N' [unit='seconds|minutes|hours']/>?</range>*
 *         <host [mac='MAC'] [name='LABEL'] ip='A'><lease .../>?</host>*
 *       </dhcp>
 *     </ip>
 *   </network>
 */
#include <stdio.h>

#include <libxml/tree.h>

#include "util/internal.h"
#undef VIR_FROM_THIS   /* unit tests include several of these files in one unit */
#define VIR_FROM_THIS VIR_FROM_NETWORK
#include "util/virerror.h"
#include "util/virxml.h"
#include "util/virxmlcommon.h"
#include "drivers/network/network-worker.h"
#include "worker/job.h"

#define XERR(...) virReportError(VIR_ERR_XML_ERROR, __VA_ARGS__)

static const virXMLCtx ctx = { "network" };
static const virXMLCtx *const c = &ctx;

/* <name>, <uuid>, <title>, <description>: util/virxmlcommon.h. */
static const virXMLCommonRules commonRules = {
    .domain = false, .nameMax = NET_NAME_MAX, .nameCheck = netNameCheck,
};

enum {
    SEEN_BRIDGE = 1 << 4, SEEN_MAC = 1 << 5, SEEN_FORWARD = 1 << 6, SEEN_MTU = 1 << 7,
    SEEN_DOMAIN = 1 << 8, SEEN_DNS = 1 << 9, SEEN_IP = 1 << 10,
};

/* A required IPv4 attribute. */
static int attrIPv4(xmlNodePtr n, const char *name, const char *where, uint32_t *out)
{
    VIR_AUTOFREE(char *) v = virXMLAttr(n, name);
    if (virXMLParseIPv4(v, out) < 0 || *out == 0) {
        XERR("invalid or missing IPv4 address %s='%.40s' on <%s> in network XML",
             name, v ? v : "", where);
        return -1;
    }
    return 0;
}

/* 'yes'/'no' (or on/off for @onoff); absent leaves *out alone. */
static int attrYesNo(xmlNodePtr n, const char *name, bool onoff, uint32_t *out)
{
    VIR_AUTOFREE(char *) v = virXMLAttr(n, name);
    const char *yes = onoff ? "on" : "yes", *no = onoff ? "off" : "no";

    if (!v)
        return 0;
    if (STREQ(v, yes)) {
        *out = NET_TRI_YES;
    } else if (STREQ(v, no)) {
        *out = NET_TRI_NO;
    } else {
        XERR("invalid %s='%.32s' on <%s> in network XML (expected %s or %s)",
             name, v, (const char *)n->name, yes, no);
        return -1;
    }
    return 0;
}

static int attrU32(xmlNodePtr n, const char *name, uint32_t min, uint32_t max,
                   bool *given, uint32_t *out)
{
    VIR_AUTOFREE(char *) v = virXMLAttr(n, name);
    uint64_t x;

    *given = v != NULL;
    if (!v)
        return 0;
    if (virXMLParseU64(v, &x) < 0 || x < min || x > max) {
        XERR("%s='%.32s' on <%s> in network XML is not a number from %u to %u",
             name, v, (const char *)n->name, min, max);
        return -1;
    }
    *out = (uint32_t)x;
    return 0;
}

static int parseMacText(const char *s, uint8_t mac[6])
{
    unsigned int b[6];
    char tail;

    if (!s || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4],
                     &b[5], &tail) != 6 || strlen(s) != 17)
        return -1;
    for (int i = 0; i < 6; i++)
        mac[i] = (uint8_t)b[i];
    return 0;
}

static int attrMac(xmlNodePtr n, const char *where, uint8_t mac[6])
{
    VIR_AUTOFREE(char *) v = virXMLAttr(n, "address");
    if (!v)
        v = virXMLAttr(n, "mac");
    if (parseMacText(v, mac) < 0) {
        XERR("invalid MAC address '%.40s' on <%s> in network XML "
             "(expected six hex bytes separated by ':')", v ? v : "", where);
        return -1;
    }
    if ((mac[0] & 1) || !(mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5])) {
        XERR("MAC address '%s' on <%s> in network XML is multicast or zero", v, where);
        return -1;
    }
    return 0;
}

static int attrIfname(xmlNodePtr n, const char *name, char out[NET_IFNAME_MAX])
{
    VIR_AUTOFREE(char *) v = virXMLAttr(n, name);
    const char *why;

    if (!v)
        return 0;
    if (strlen(v) >= NET_IFNAME_MAX || netIfnameCheck(v, &why) < 0) {
        if (strlen(v) >= NET_IFNAME_MAX)
            why = "interface name is longer than 15 bytes";
        XERR("invalid interface name %s='%.40s' on <%s> in network XML: %s", name, v,
             (const char *)n->name, why);
        return -1;
    }
    virStrcpyTrunc(out, NET_IFNAME_MAX, v);
    return 0;
}

/* <lease expiry='N' [unit='seconds|minutes|hours']/> (libvirt's default
 * unit: minutes). */
static int parseLease(xmlNodePtr n, netLease *lease)
{
    static const char *const attrs[] = { "expiry", "unit", NULL };
    VIR_AUTOFREE(char *) unit = NULL;
    bool given;

    if (virXMLCheckAttrs(c, n, attrs) < 0 || virXMLCheckEmpty(c, n) < 0)
        return -1;
    if (attrU32(n, "expiry", 0, UINT32_MAX, &given, &lease->expiry) < 0)
        return -1;
    if (!given) {
        XERR("%s", "<lease> in network XML needs 'expiry'");
        return -1;
    }
    unit = virXMLAttr(n, "unit");
    if (!unit || STREQ(unit, "minutes")) {
        lease->unit = NET_LEASE_MINUTES;
    } else if (STREQ(unit, "seconds")) {
        lease->unit = NET_LEASE_SECONDS;
    } else if (STREQ(unit, "hours")) {
        lease->unit = NET_LEASE_HOURS;
    } else {
        XERR("unknown lease unit '%.32s' in network XML (expected seconds, minutes or hours)",
             unit);
        return -1;
    }
    return 0;
}

/* The one optional <lease> child of <range> or <host>. */
static int parseLeaseChild(xmlNodePtr parent, netLease *lease)
{
    bool seen = false;

    for (xmlNodePtr n = parent->children; n; n = n->next) {
        int rc = virXMLNotElement(c, n);
        if (rc < 0)
            return -1;
        if (rc > 0)
            continue;
        if (!virXMLIsPlain(n, "lease") || seen) {
            if (seen && virXMLIsPlain(n, "lease"))
                XERR("only one <lease> per <%s> in network XML", (const char *)parent->name);
            else
                virXMLUnsupportedElement(c, n);
            return -1;
        }
        seen = true;
        if (parseLease(n, lease) < 0)
            return -1;
    }
    return 0;
}

static int parseRange(xmlNodePtr n, netDef *def)
{
    static const char *const attrs[] = { "start", "end", NULL };
    netDhcpRange *r;

    if (def->nranges >= NET_RANGES_MAX) {
        XERR("too many DHCP ranges in network XML (at most %d)", NET_RANGES_MAX);
        return -1;
    }
    r = &def->ranges[def->nranges++];
    if (virXMLCheckAttrs(c, n, attrs) < 0 || attrIPv4(n, "start", "range", &r->start) < 0 ||
        attrIPv4(n, "end", "range", &r->end) < 0)
        return -1;
    return parseLeaseChild(n, &r->lease);
}

static int parseHost(xmlNodePtr n, netDef *def)
{
    static const char *const attrs[] = { "mac", "name", "ip", NULL };
    VIR_AUTOFREE(char *) mac = NULL;
    VIR_AUTOFREE(char *) name = NULL;
    netDhcpHost *h;
    const char *why;

    if (xmlHasProp(n, (const xmlChar *)"id")) {
        XERR("%s", "<host id=...> (DHCPv6) is not supported in network XML: IPv6 is not");
        return -1;
    }
    if (virXMLCheckAttrs(c, n, attrs) < 0)
        return -1;
    if (def->nhosts >= NET_HOSTS_MAX) {
        XERR("too many DHCP hosts in network XML (at most %d)", NET_HOSTS_MAX);
        return -1;
    }
    h = &def->hosts[def->nhosts++];
    if ((mac = virXMLAttr(n, "mac"))) {
        if (attrMac(n, "host", h->mac) < 0)
            return -1;
        h->hasMac = 1;
    }
    if ((name = virXMLAttr(n, "name"))) {
        if (strlen(name) >= NET_HOSTNAME_MAX || strchr(name, '.') ||
            netDNSNameCheck(name, NET_HOSTNAME_MAX, &why) < 0) {
            XERR("invalid DHCP host name '%.80s' in network XML: a host name is one "
                 "DNS label (letters, digits and '-', at most 63 bytes)", name);
            return -1;
        }
        virStrcpyTrunc(h->name, sizeof(h->name), name);
    }
    if (!mac && !name) {
        XERR("%s", "a DHCP <host> in network XML needs 'mac' or 'name'");
        return -1;
    }
    if (attrIPv4(n, "ip", "host", &h->ip) < 0)
        return -1;
    return parseLeaseChild(n, &h->lease);
}

static int parseDhcp(xmlNodePtr d, netDef *def)
{
    if (virXMLCheckAttrs(c, d, NULL) < 0)
        return -1;
    def->hasDhcp = 1;
    for (xmlNodePtr n = d->children; n; n = n->next) {
        int rc = virXMLNotElement(c, n);
        if (rc < 0)
            return -1;
        if (rc > 0)
            continue;
        if (virXMLIsPlain(n, "range"))
            rc = parseRange(n, def);
        else if (virXMLIsPlain(n, "host"))
            rc = parseHost(n, def);
        else {
            virXMLUnsupportedElement(c, n);
            rc = -1;
        }
        if (rc < 0)
            return -1;
    }
    return 0;
}

static int parseIP(xmlNodePtr ip, netDef *def)
{
    static const char *const attrs[] = { "address", "prefix", "netmask", "family",
                                         "localPtr", NULL };
    bool netmaskForm, familyGiven;
    bool seenDhcp = false;

    if (def->ipv4) {
        XERR("%s", "only one <ip> element (IPv4) is supported in network XML");
        return -1;
    }
    if (virXMLCheckAttrs(c, ip, attrs) < 0 ||
        virXMLReadIPv4Net(c, ip, 8, 30, &def->ipv4, &def->prefix, &netmaskForm,
                          &familyGiven) < 0)
        return -1;
    if (familyGiven)
        def->echo |= NET_ECHO_IP_FAMILY;
    if (netmaskForm)
        def->ipNetmaskForm = 1;
    if (attrYesNo(ip, "localPtr", false, &def->localPtr) < 0)
        return -1;

    for (xmlNodePtr n = ip->children; n; n = n->next) {
        int rc = virXMLNotElement(c, n);
        if (rc < 0)
            return -1;
        if (rc > 0)
            continue;
        if (!virXMLIsPlain(n, "dhcp")) {
            virXMLUnsupportedElement(c, n);
            return -1;
        }
        if (seenDhcp) {
            XERR("%s", "only one <dhcp> per <ip> in network XML");
            return -1;
        }
        seenDhcp = true;
        if (parseDhcp(n, def) < 0)
            return -1;
    }
    return 0;
}

static int parseBridge(xmlNodePtr n, netDef *def)
{
    static const char *const attrs[] = { "name", "stp", "delay", "macTableManager", NULL };
    VIR_AUTOFREE(char *) mtm = NULL;
    uint32_t stp = NET_TRI_ABSENT;
    bool given;

    if (virXMLCheckAttrs(c, n, attrs) < 0 || virXMLCheckEmpty(c, n) < 0 ||
        attrIfname(n, "name", def->bridge) < 0 || attrYesNo(n, "stp", true, &stp) < 0 ||
        attrU32(n, "delay", 0, NET_DELAY_MAX, &given, &def->delay) < 0)
        return -1;
    if (stp == NET_TRI_NO)
        def->stp = 0;
    if ((mtm = virXMLAttr(n, "macTableManager"))) {
        if (STRNEQ(mtm, "kernel")) {
            XERR("unsupported macTableManager='%.32s' on <bridge> in network XML "
                 "(only 'kernel')", mtm);
            return -1;
        }
        def->echo |= NET_ECHO_MACTABLE_KERNEL;
    }
    return 0;
}

static int parseNat(xmlNodePtr nat, netDef *def)
{
    static const char *const attrs[] = { "ipv6", NULL };
    static const char *const portAttrs[] = { "start", "end", NULL };
    VIR_AUTOFREE(char *) ipv6 = NULL;
    bool seenPort = false, gs, ge;

    if (virXMLCheckAttrs(c, nat, attrs) < 0)
        return -1;
    if ((ipv6 = virXMLAttr(nat, "ipv6"))) {
        if (STRNEQ(ipv6, "no")) {
            XERR("unsupported <nat ipv6='%.32s'> in network XML (IPv6 is not supported)",
                 ipv6);
            return -1;
        }
        def->echo |= NET_ECHO_NAT_IPV6_NO;
    }
    for (xmlNodePtr n = nat->children; n; n = n->next) {
        int rc = virXMLNotElement(c, n);
        if (rc < 0)
            return -1;
        if (rc > 0)
            continue;
        if (!virXMLIsPlain(n, "port") || seenPort) {
            if (seenPort && virXMLIsPlain(n, "port"))
                XERR("%s", "only one <port> in <nat> in network XML");
            else
                virXMLUnsupportedElement(c, n);
            return -1;
        }
        seenPort = true;
        if (virXMLCheckAttrs(c, n, portAttrs) < 0 || virXMLCheckEmpty(c, n) < 0 ||
            attrU32(n, "start", 1, 65535, &gs, &def->natPortStart) < 0 ||
            attrU32(n, "end", 1, 65535, &ge, &def->natPortEnd) < 0)
            return -1;
        if (!gs || !ge || def->natPortStart > def->natPortEnd) {
            XERR("%s", "<port> in <nat> in network XML needs 'start' <= 'end'");
            return -1;
        }
    }
    return 0;
}

static int parseForward(xmlNodePtr f, netDef *def)
{
    static const char *const attrs[] = { "mode", "dev", NULL };
    static const char *const ifAttrs[] = { "dev", NULL };
    VIR_AUTOFREE(char *) mode = virXMLAttr(f, "mode");
    bool seenNat = false, seenIface = false;

    if (!mode || STREQ(mode, "nat")) {
        def->forward = NET_FORWARD_NAT;
        def->natPortStart = 1024;
        def->natPortEnd = 65535;
    } else if (STREQ(mode, "route")) {
        def->forward = NET_FORWARD_ROUTE;
    } else {
        XERR("unsupported forward mode '%.32s' in network XML (nat or route; no "
             "<forward> at all makes an isolated network)", mode);
        return -1;
    }
    if (virXMLCheckAttrs(c, f, attrs) < 0 || attrIfname(f, "dev", def->forwardDev) < 0)
        return -1;
    for (xmlNodePtr n = f->children; n; n = n->next) {
        int rc = virXMLNotElement(c, n);
        if (rc < 0)
            return -1;
        if (rc > 0)
            continue;
        if (virXMLIsPlain(n, "nat") && def->forward == NET_FORWARD_NAT && !seenNat) {
            seenNat = true;
            if (parseNat(n, def) < 0)
                return -1;
        } else if (virXMLIsPlain(n, "interface") && !seenIface) {
            char dev[NET_IFNAME_MAX] = "";
            seenIface = true;
            if (virXMLCheckAttrs(c, n, ifAttrs) < 0 || virXMLCheckEmpty(c, n) < 0 ||
                attrIfname(n, "dev", dev) < 0)
                return -1;
            /* libvirt prints the forward device again as <interface>. */
            if (!dev[0] || (def->forwardDev[0] && STRNEQ(dev, def->forwardDev))) {
                XERR("%s", "<interface dev=...> in <forward> in network XML must name the "
                     "forward device (dev=); a pool of devices is not supported");
                return -1;
            }
            virStrcpyTrunc(def->forwardDev, sizeof(def->forwardDev), dev);
        } else {
            if (virXMLIsPlain(n, "nat") && def->forward != NET_FORWARD_NAT)
                XERR("%s", "<nat> in network XML needs forward mode 'nat'");
            else if (virXMLIsPlain(n, "nat") || virXMLIsPlain(n, "interface"))
                XERR("element <%s> appears more than once in <forward> in network XML",
                     (const char *)n->name);
            else
                virXMLUnsupportedElement(c, n);
            return -1;
        }
    }
    return 0;
}

static int parseDomain(xmlNodePtr n, netDef *def)
{
    static const char *const attrs[] = { "name", "localOnly", NULL };
    VIR_AUTOFREE(char *) name = NULL;
    const char *why;

    if (virXMLCheckAttrs(c, n, attrs) < 0 || virXMLCheckEmpty(c, n) < 0)
        return -1;
    if (!(name = virXMLAttr(n, "name")) || strlen(name) >= NET_DOMAIN_MAX ||
        netDNSNameCheck(name, NET_DOMAIN_MAX, &why) < 0) {
        XERR("invalid domain name '%.80s' on <domain> in network XML", name ? name : "");
        return -1;
    }
    virStrcpyTrunc(def->domain, sizeof(def->domain), name);
    return attrYesNo(n, "localOnly", false, &def->domainLocalOnly);
}

/* A common element's value (@which, read by virXMLCommonRead) into @def. */
static int commonInto(int which, const virXMLCommon *cm, netDef *def)
{
    const char *text = which == VIR_XML_COMMON_TITLE ? cm->title : cm->description;
    char *out = which == VIR_XML_COMMON_TITLE ? def->title : def->description;
    size_t len = which == VIR_XML_COMMON_TITLE ? sizeof(def->title) : sizeof(def->description);

    switch (which) {
    case VIR_XML_COMMON_NAME:
        virStrcpyTrunc(def->name, sizeof(def->name), cm->name);
        return 0;
    case VIR_XML_COMMON_UUID:
        memcpy(def->uuid, cm->uuid, sizeof(def->uuid));
        return 0;
    case VIR_XML_COMMON_TITLE:
    case VIR_XML_COMMON_DESCRIPTION:
        if (text && strlen(text) >= len) {
            XERR("<%s> in network XML is longer than %zu bytes",
                 which == VIR_XML_COMMON_TITLE ? "title" : "description", len - 1);
            return -1;
        }
        virStrcpyTrunc(out, len, text ? text : "");
        return 0;
    default:          /* <metadata>: not kept by this driver */
        virReportError(VIR_ERR_CONFIG_UNSUPPORTED, "%s",
                       "unsupported element <metadata> in network XML");
        return -1;
    }
}

static int parseRootChild(xmlNodePtr n, netDef *def, uint32_t *seen, virXMLCommon *cm)
{
    bool given;
    int which;

    if ((which = virXMLCommonRead(c, n, &commonRules, cm)) != VIR_XML_COMMON_NONE)
        return which < 0 ? -1 : commonInto(which, cm, def);
    if (virXMLIsPlain(n, "bridge"))
        return virXMLOnce(c, n, seen, SEEN_BRIDGE) < 0 ? -1 : parseBridge(n, def);
    if (virXMLIsPlain(n, "mac")) {
        static const char *const attrs[] = { "address", NULL };
        if (virXMLOnce(c, n, seen, SEEN_MAC) < 0 || virXMLCheckAttrs(c, n, attrs) < 0 ||
            virXMLCheckEmpty(c, n) < 0 || attrMac(n, "mac", def->mac) < 0)
            return -1;
        def->hasMac = 1;
        return 0;
    }
    if (virXMLIsPlain(n, "forward"))
        return virXMLOnce(c, n, seen, SEEN_FORWARD) < 0 ? -1 : parseForward(n, def);
    if (virXMLIsPlain(n, "mtu")) {
        static const char *const attrs[] = { "size", NULL };
        if (virXMLOnce(c, n, seen, SEEN_MTU) < 0 || virXMLCheckAttrs(c, n, attrs) < 0 ||
            virXMLCheckEmpty(c, n) < 0 ||
            attrU32(n, "size", NET_MTU_MIN, NET_MTU_MAX, &given, &def->mtu) < 0)
            return -1;
        if (!given) {
            XERR("%s", "<mtu> in network XML needs 'size'");
            return -1;
        }
        return 0;
    }
    if (virXMLIsPlain(n, "domain"))
        return virXMLOnce(c, n, seen, SEEN_DOMAIN) < 0 ? -1 : parseDomain(n, def);
    if (virXMLIsPlain(n, "dns")) {
        static const char *const attrs[] = { "enable", NULL };
        if (virXMLOnce(c, n, seen, SEEN_DNS) < 0 || virXMLCheckAttrs(c, n, attrs) < 0 ||
            virXMLCheckEmpty(c, n) < 0 || attrYesNo(n, "enable", false, &def->dnsEnable) < 0)
            return -1;
        if (!def->dnsEnable)
            def->echo |= NET_ECHO_DNS;
        return 0;
    }
    if (virXMLIsPlain(n, "ip")) {
        *seen |= SEEN_IP;
        return parseIP(n, def);
    }
    virXMLUnsupportedElement(c, n);
    return -1;
}

static int parseRoot(xmlNodePtr root, netDef *def, virXMLCommon *cm)
{
    static const char *const attrs[] = { "connections", "ipv6", NULL };
    VIR_AUTOFREE(char *) ipv6 = NULL;
    VIR_AUTOFREE(char *) conns = NULL;
    uint32_t seen = 0;
    uint64_t ignored;

    if (virXMLCheckAttrs(c, root, attrs) < 0)
        return -1;
    if ((conns = virXMLAttr(root, "connections")) && virXMLParseU64(conns, &ignored) < 0) {
        XERR("invalid connections='%.32s' on <network> in network XML", conns);
        return -1;
    }
    if ((ipv6 = virXMLAttr(root, "ipv6"))) {
        if (STRNEQ(ipv6, "no")) {
            XERR("unsupported <network ipv6='%.32s'> in network XML (IPv6 is not supported)",
                 ipv6);
            return -1;
        }
        def->echo |= NET_ECHO_IPV6_NO;
    }
    for (xmlNodePtr n = root->children; n; n = n->next) {
        int rc = virXMLNotElement(c, n);
        if (rc < 0)
            return -1;
        if (rc > 0)
            continue;
        if (parseRootChild(n, def, &seen, cm) < 0)
            return -1;
    }
    if (virXMLCommonDone(c, &commonRules, cm) < 0)
        return -1;
    memcpy(def->uuid, cm->uuid, sizeof(def->uuid));   /* made up if absent */
    return 0;
}

int netParseXML(const char *xml, size_t len, netDef *out)
{
    netDef *def;
    xmlDocPtr doc;
    const char *why;
    int rc;

    if (!(doc = virXMLReadUntrusted(c, xml, len, NET_XML_MAX, "network")))
        return -1;
    /* netDef is large (hosts): on the heap. */
    if (!(def = calloc(1, sizeof(*def)))) {
        xmlFreeDoc(doc);
        virReportOOMError();
        return -1;
    }
    def->magic = NET_DEF_MAGIC;
    def->version = NET_DEF_VERSION;
    def->stp = 1;
    virXMLCommon cm = VIR_XML_COMMON_INIT;
    rc = parseRoot(xmlDocGetRootElement(doc), def, &cm);
    virXMLCommonClear(&cm);
    xmlFreeDoc(doc);
    /* What the library will check, checked here first for a clear message. */
    if (rc == 0 && netDefCheck(def, false, &why) < 0) {
        XERR("invalid network definition: %s", why);
        rc = -1;
    }
    if (rc == 0)
        memcpy(out, def, sizeof(*def));
    free(def);
    return rc;
}

/* --- the parse op: parse, validate, propose the definition --- */

static void netParseRun(virWorkerJobPtr job, const void *params, size_t len)
{
    netParseParams p;
    netDef *def = NULL;

    virWorkerJobInitialize(job, 0);
    virWorkerJobSetPhase(job, "validating");
    if (!params || len < sizeof(p)) {
        virWorkerJobFinishFailure(job, VIR_ERR_INTERNAL_ERROR, "%s",
                                  "network parse parameters are too short");
        return;
    }
    memcpy(&p, params, sizeof(p));
    if (p.magic != NET_PARSE_PARAMS_MAGIC || p.version != 1 || p.xmllen != len - sizeof(p)) {
        virWorkerJobFinishFailure(job, VIR_ERR_INTERNAL_ERROR, "%s",
                                  "network parse parameters are malformed");
        return;
    }
    if (!(def = calloc(1, sizeof(*def)))) {
        virWorkerJobFinishFailure(job, VIR_ERR_NO_MEMORY, "%s", "out of memory");
        return;
    }
    if (netParseXML((const char *)params + sizeof(p), p.xmllen, def) < 0) {
        virWorkerJobFinishError(job);
    } else if (virWorkerJobSetResult(job, def, sizeof(*def)) < 0) {
        virWorkerJobFinishFailure(job, VIR_ERR_INTERNAL_ERROR, "%s",
                                  "cannot attach the definition to the job");
    } else {
        virWorkerJobUpdateRel(job, 0, 0, 100);
        virWorkerJobFinishSuccess(job);
    }
    free(def);
}

VIR_WORKER_OP_REGISTER(netParseOp, NET_OP_PARSE, netParseRun);
