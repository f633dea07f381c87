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
#include "util/viralloc.h"
#include "util/virerror.h"
#include "util/virxml.h"
#include "util/virxmlcommon.h"
#include "drivers/network/network-worker.h"
#include "worker/job.h"

#define XERR(...) virReportError(VIR_ERR_XML_ERROR, __VA_ARGS__)

static const virXMLCtx ctx = { "network" };
static const virXMLCtx *const c = &ctx;

/* <bridge>, <mac> and <ip>'s <dhcp> are read by util/virxmlcommon.c, as
 * the test driver's network grammar reads them: its limits are ours. */
_Static_assert(NET_IFNAME_MAX == VIR_IFNAME_MAX && NET_DELAY_MAX == VIR_XML_BRIDGE_DELAY_MAX &&
               NET_RANGES_MAX == VIR_XML_DHCP_RANGES_MAX &&
               NET_HOSTS_MAX == VIR_XML_DHCP_HOSTS_MAX &&
               NET_HOSTNAME_MAX == VIR_XML_DHCP_HOSTNAME_MAX &&
               (int)NET_LEASE_SECONDS == (int)VIR_XML_LEASE_SECONDS &&
               (int)NET_LEASE_MINUTES == (int)VIR_XML_LEASE_MINUTES &&
               (int)NET_LEASE_HOURS == (int)VIR_XML_LEASE_HOURS,
               "the network driver's limits are util/virxmlcommon.h's");

/* <name>, <uuid>, <title>, <description>: util/virxmlcommon.h. */
static const virXMLCommonRules commonRules = {
    .domain = false, .nameMax = NET_NAME_MAX, .nameCheck = netNameCheck,
};

enum {
    SEEN_BRIDGE = 1 << 4, SEEN_MAC = 1 << 5, SEEN_FORWARD = 1 << 6, SEEN_MTU = 1 << 7,
    SEEN_DOMAIN = 1 << 8, SEEN_DNS = 1 << 9, SEEN_IP = 1 << 10,
};

/* 'yes'/'no'; absent leaves *out alone. */
static int attrYesNo(xmlNodePtr n, const char *name, uint32_t *out)
{
    uint8_t v = (uint8_t)*out;

    if (virXMLReadTristate(c, n, name, false, &v) < 0)
        return -1;
    *out = v;
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

static int attrIfname(xmlNodePtr n, const char *name, char out[NET_IFNAME_MAX])
{
    return virXMLReadIfnameAttr(c, n, name, out);
}

static void leaseInto(const virXMLDhcpLease *from, netLease *to)
{
    to->unit = from->unit;       /* virXMLLeaseUnit and netLeaseUnit agree */
    to->expiry = from->expiry;
}

/* What util/virxmlcommon.c read of <ip>'s <dhcp> into @def. */
static void dhcpInto(const virXMLDhcp *d, netDef *def)
{
    def->hasDhcp = d->present;
    def->nranges = d->nranges;
    for (uint32_t i = 0; i < d->nranges; i++) {
        def->ranges[i].start = d->ranges[i].start;
        def->ranges[i].end = d->ranges[i].end;
        leaseInto(&d->ranges[i].lease, &def->ranges[i].lease);
    }
    def->nhosts = d->nhosts;
    for (uint32_t i = 0; i < d->nhosts; i++) {
        const virXMLDhcpHost *h = &d->hosts[i];
        memcpy(def->hosts[i].mac, h->mac, sizeof(h->mac));
        def->hosts[i].hasMac = h->hasMac;
        def->hosts[i].ip = h->ip;
        virStrcpyTrunc(def->hosts[i].name, sizeof(def->hosts[i].name), h->name);
        leaseInto(&h->lease, &def->hosts[i].lease);
    }
}

static int parseIP(xmlNodePtr ip, netDef *def)
{
    static const char *const attrs[] = { "address", "prefix", "netmask", "family",
                                         "localPtr", NULL };
    VIR_AUTOFREE(virXMLDhcp *) dhcp = NULL;
    bool netmaskForm, familyGiven;

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
    if (attrYesNo(ip, "localPtr", &def->localPtr) < 0)
        return -1;
    if (!VIR_ALLOC(dhcp))
        return -1;
    if (virXMLReadIPChildren(c, ip, def->ipv4, def->prefix, dhcp) < 0)
        return -1;
    dhcpInto(dhcp, def);
    return 0;
}

/* <bridge> (util/virxmlcommon.c reads it); a firewalld zone and a MAC
 * table managed by libvirt are not honoured here. */
static int parseBridge(xmlNodePtr n, netDef *def)
{
    virXMLBridge b;

    if (virXMLReadBridge(c, n, &b) < 0)
        return -1;
    if (b.zone[0]) {
        virReportError(VIR_ERR_CONFIG_UNSUPPORTED,
                       "unsupported attribute 'zone' on <bridge> in network XML "
                       "(the network driver does not use firewalld zones)");
        return -1;
    }
    if (b.macTableManager == VIR_XML_MACTABLE_LIBVIRT) {
        virReportError(VIR_ERR_CONFIG_UNSUPPORTED, "%s",
                       "unsupported macTableManager='libvirt' on <bridge> in network XML "
                       "(only 'kernel')");
        return -1;
    }
    if (b.macTableManager == VIR_XML_MACTABLE_KERNEL)
        def->echo |= NET_ECHO_MACTABLE_KERNEL;
    virStrcpyTrunc(def->bridge, sizeof(def->bridge), b.name);
    if (b.stp == VIR_XML_TRI_NO)
        def->stp = 0;
    def->delay = b.delay;
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
    return attrYesNo(n, "localOnly", &def->domainLocalOnly);
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
        if (virXMLOnce(c, n, seen, SEEN_MAC) < 0 || virXMLReadMac(c, n, def->mac) < 0)
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
            virXMLCheckEmpty(c, n) < 0 || attrYesNo(n, "enable", &def->dnsEnable) < 0)
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
