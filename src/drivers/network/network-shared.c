/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * network-shared.c: the checks the library applies to what a worker
 * proposes (a worker fed hostile XML may be compromised, so a definition
 * is checked field by field before use), and small formatters.
 *
 * Linked into the library and the worker. Keep parsers of untrusted text
 * out of here.
 */
#include <linux/netfilter.h>
#include <stdio.h>

#include "util/internal.h"
#include "util/virnetlink.h"
#include "util/virstring.h"
#include "util/virxmlkeep.h"
#define VIR_FROM_THIS VIR_FROM_NETWORK
#include "util/virerror.h"
#include "drivers/network/network-shared.h"

_Static_assert(sizeof(netLease) == 8, "netLease layout");
_Static_assert(sizeof(netDhcpRange) == 16, "netDhcpRange layout");
_Static_assert(sizeof(netDhcpHost) == 84, "netDhcpHost layout");
_Static_assert(offsetof(netDef, ranges) % 4 == 0, "netDef layout");

static bool isZero(const void *p, size_t len)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < len; i++)
        if (b[i])
            return false;
    return true;
}

/* Terminated within @len, and every byte after the terminator zero. */
static bool strCanonical(const char *s, size_t len)
{
    size_t n = strnlen(s, len);
    return n < len && isZero(s + n, len - n);
}

/* Text XML can hold (virXMLTextValid: the library writes it as it is)
 * without control characters, C1 ones included; @multiline allows tabs
 * and newlines. */
static bool textValid(const char *s, bool multiline)
{
    const unsigned char *p = (const unsigned char *)s;

    if (!virXMLTextValid(s))
        return false;
    for (; *p; p++) {
        if ((*p < 0x20 && !(multiline && (*p == '\n' || *p == '\t'))) || *p == 0x7f ||
            (p[0] == 0xc2 && p[1] < 0xa0))
            return false;
    }
    return true;
}

int netNameCheck(const char *name, size_t maxlen, const char **why)
{
    return virNameCheck(name, maxlen, why);
}

int netIfnameCheck(const char *name, const char **why)
{
    return virIfnameCheck(name, why);
}

int netDNSNameCheck(const char *name, size_t maxlen, const char **why)
{
    return virDNSNameCheck(name, maxlen, why);
}

static int leaseCheck(const netLease *l, const char **why)
{
    if (l->unit > NET_LEASE_HOURS) {
        *why = "DHCP lease has an unknown unit";
        return -1;
    }
    if (l->unit == NET_LEASE_NONE && l->expiry) {
        *why = "DHCP lease has an expiry without a unit";
        return -1;
    }
    /* dnsmasq wants at least 2 minutes; a year at most keeps it sane. */
    if (l->unit != NET_LEASE_NONE && l->expiry &&
        (netLeaseSeconds(l) < 120 || netLeaseSeconds(l) > 366ull * 86400)) {
        *why = "DHCP lease is shorter than 2 minutes or longer than a year";
        return -1;
    }
    return 0;
}

static bool macValid(const uint8_t mac[6])
{
    /* Unicast (I/G bit clear) and not all zero. */
    return !(mac[0] & 1) && !isZero(mac, 6);
}

static bool inSubnet(uint32_t a, uint32_t ip, uint32_t prefix)
{
    uint32_t m = netMaskOf(prefix);
    return (a & m) == (ip & m);
}

/* A usable host address of the subnet: neither its network nor its
 * broadcast address. */
static bool hostAddress(uint32_t a, uint32_t ip, uint32_t prefix)
{
    uint32_t m = netMaskOf(prefix);
    return inSubnet(a, ip, prefix) && (a & ~m) != 0 && (a & ~m) != ~m;
}

static int ipCheck(const netDef *def, const char **why)
{
    if (def->ipv4 == 0) {
        if (def->prefix || def->ipNetmaskForm || def->localPtr || def->hasDhcp ||
            def->nranges || def->nhosts) {
            *why = "IP settings without an address";
            return -1;
        }
        if (def->forward != NET_FORWARD_NONE) {
            *why = "forward mode 'nat' or 'route' needs an IPv4 address";
            return -1;
        }
        return 0;
    }
    if (def->prefix < 8 || def->prefix > 30) {
        *why = "IPv4 prefix is not 8 to 30";
        return -1;
    }
    if (!hostAddress(def->ipv4, def->ipv4, def->prefix)) {
        *why = "IPv4 address is the network or broadcast address of its subnet";
        return -1;
    }
    if (def->ipv4 >> 24 == 127 || def->ipv4 >> 24 == 0 || def->ipv4 >> 28 >= 14) {
        *why = "IPv4 address is a loopback, zero, multicast or reserved address";
        return -1;
    }
    if (def->ipNetmaskForm > 1 || def->localPtr > NET_TRI_NO || def->hasDhcp > 1) {
        *why = "IP flags are out of range";
        return -1;
    }
    if (!def->hasDhcp && (def->nranges || def->nhosts)) {
        *why = "DHCP ranges or hosts without <dhcp>";
        return -1;
    }
    return 0;
}

static int dhcpCheck(const netDef *def, const char **why)
{
    if (def->nranges > NET_RANGES_MAX || def->nhosts > NET_HOSTS_MAX) {
        *why = "too many DHCP ranges or hosts";
        return -1;
    }
    if (!isZero(def->ranges + def->nranges,
                (NET_RANGES_MAX - def->nranges) * sizeof(def->ranges[0])) ||
        !isZero(def->hosts + def->nhosts,
                (NET_HOSTS_MAX - def->nhosts) * sizeof(def->hosts[0]))) {
        *why = "unused DHCP range or host slots are not zero";
        return -1;
    }
    for (uint32_t i = 0; i < def->nranges; i++) {
        const netDhcpRange *r = &def->ranges[i];
        if (!hostAddress(r->start, def->ipv4, def->prefix) ||
            !hostAddress(r->end, def->ipv4, def->prefix) || r->start > r->end) {
            *why = "a DHCP range is not inside the network's subnet, or ends before it starts";
            return -1;
        }
        if (def->ipv4 >= r->start && def->ipv4 <= r->end) {
            *why = "a DHCP range holds the network's own address";
            return -1;
        }
        if (leaseCheck(&r->lease, why) < 0)
            return -1;
        for (uint32_t j = 0; j < i; j++) {
            if (r->start <= def->ranges[j].end && def->ranges[j].start <= r->end) {
                *why = "two DHCP ranges overlap";
                return -1;
            }
        }
    }
    for (uint32_t i = 0; i < def->nhosts; i++) {
        const netDhcpHost *h = &def->hosts[i];
        if (h->hasMac > 1 || h->reserved || (!h->hasMac && !isZero(h->mac, 6))) {
            *why = "a DHCP host has bad flags";
            return -1;
        }
        if (h->hasMac && !macValid(h->mac)) {
            *why = "a DHCP host's MAC address is multicast or zero";
            return -1;
        }
        if (!strCanonical(h->name, sizeof(h->name)) ||
            (h->name[0] && netDNSNameCheck(h->name, sizeof(h->name), why) < 0) ||
            strchr(h->name, '.')) {
            *why = "a DHCP host's name is not a single DNS label";
            return -1;
        }
        if (!h->hasMac && !h->name[0]) {
            *why = "a DHCP host has neither a MAC address nor a name";
            return -1;
        }
        if (!h->ip) {
            *why = "a DHCP host has no IPv4 address";
            return -1;
        }
        if (!hostAddress(h->ip, def->ipv4, def->prefix) || h->ip == def->ipv4) {
            *why = "a DHCP host's address is outside the subnet or the network's own";
            return -1;
        }
        if (leaseCheck(&h->lease, why) < 0)
            return -1;
        for (uint32_t j = 0; j < i; j++) {
            const netDhcpHost *o = &def->hosts[j];
            if (o->ip == h->ip || (h->hasMac && o->hasMac && !memcmp(o->mac, h->mac, 6)) ||
                (h->name[0] && STREQ(o->name, h->name))) {
                *why = "two DHCP hosts share an address, a MAC address or a name";
                return -1;
            }
        }
    }
    return 0;
}

int netDefCheck(const netDef *def, bool needBridge, const char **why)
{
    if (def->magic != NET_DEF_MAGIC) {
        *why = "bad network definition magic";
        return -1;
    }
    if (def->version != NET_DEF_VERSION) {
        *why = "unsupported network definition version";
        return -1;
    }
    if (!strCanonical(def->name, sizeof(def->name))) {
        *why = "network name is not terminated or its tail is not zero";
        return -1;
    }
    if (netNameCheck(def->name, sizeof(def->name), why) < 0)
        return -1;
    if (!strCanonical(def->bridge, sizeof(def->bridge)) ||
        (def->bridge[0] && netIfnameCheck(def->bridge, why) < 0)) {
        if (def->bridge[0] == '\0')
            *why = "bridge name tail is not zero";
        return -1;
    }
    if (needBridge && !def->bridge[0]) {
        *why = "the network has no bridge name";
        return -1;
    }
    if (def->stp > 1 || def->hasMac > 1) {
        *why = "bridge flags are out of range";
        return -1;
    }
    if (def->delay > NET_DELAY_MAX) {
        *why = "bridge forward delay is above 30 seconds";
        return -1;
    }
    if (def->hasMac ? !macValid(def->mac) : !isZero(def->mac, 6)) {
        *why = "bridge MAC address is multicast or zero";
        return -1;
    }
    if (def->forward >= NET_FORWARD_LAST) {
        *why = "unknown forward mode";
        return -1;
    }
    if (!strCanonical(def->forwardDev, sizeof(def->forwardDev)) ||
        (def->forwardDev[0] && netIfnameCheck(def->forwardDev, why) < 0)) {
        if (def->forwardDev[0] == '\0')
            *why = "forward device tail is not zero";
        return -1;
    }
    if (def->forwardDev[0] && def->forward == NET_FORWARD_NONE) {
        *why = "a forward device without a forward mode";
        return -1;
    }
    if (def->forwardDev[0] && STREQ(def->forwardDev, def->bridge)) {
        *why = "the forward device is the network's own bridge";
        return -1;
    }
    if (def->forward == NET_FORWARD_NAT) {
        if (def->natPortStart == 0 || def->natPortStart > def->natPortEnd ||
            def->natPortEnd > 65535) {
            *why = "NAT port range is not within 1 to 65535, or ends before it starts";
            return -1;
        }
    } else if (def->natPortStart || def->natPortEnd) {
        *why = "a NAT port range without NAT";
        return -1;
    }
    if (def->mtu && (def->mtu < NET_MTU_MIN || def->mtu > NET_MTU_MAX)) {
        *why = "MTU is not 68 to 65535";
        return -1;
    }
    if (!strCanonical(def->domain, sizeof(def->domain)) ||
        (def->domain[0] && netDNSNameCheck(def->domain, sizeof(def->domain), why) < 0)) {
        if (def->domain[0] == '\0')
            *why = "domain name tail is not zero";
        return -1;
    }
    if (def->domainLocalOnly > NET_TRI_NO || def->dnsEnable > NET_TRI_NO ||
        (!def->domain[0] && def->domainLocalOnly)) {
        *why = "DNS flags are out of range";
        return -1;
    }
    if (def->echo & ~(uint32_t)NET_ECHO_ALL) {
        *why = "unknown echo flags";
        return -1;
    }
    if ((def->echo & NET_ECHO_NAT_IPV6_NO) && def->forward != NET_FORWARD_NAT) {
        *why = "NAT settings without NAT";
        return -1;
    }
    if ((def->echo & NET_ECHO_IP_FAMILY) && !def->ipv4) {
        *why = "an IP family without an address";
        return -1;
    }
    if ((def->echo & NET_ECHO_DNS) && def->dnsEnable) {
        *why = "DNS flags disagree";
        return -1;
    }
    if (!strCanonical(def->title, sizeof(def->title)) ||
        !textValid(def->title, false) ||
        !strCanonical(def->description, sizeof(def->description)) ||
        !textValid(def->description, true)) {
        *why = "title or description is not terminated, not UTF-8, or holds control characters";
        return -1;
    }
    if (ipCheck(def, why) < 0 || dhcpCheck(def, why) < 0)
        return -1;
    return 0;
}

char *netIPv4Format(uint32_t a, char *buf)
{
    snprintf(buf, 16, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
    return buf;
}

char *netMacFormat(const uint8_t m[6], char *buf)
{
    snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
    return buf;
}

uint64_t netLeaseSeconds(const netLease *l)
{
    static const uint64_t scale[] = { 0, 1, 60, 3600 };
    return l->unit <= NET_LEASE_HOURS ? (uint64_t)l->expiry * scale[l->unit] : 0;
}

static const char *const phaseNames[NET_PHASE_LAST] = {
    [NET_PHASE_NONE] = "none",
    [NET_PHASE_CHECK] = "checking",
    [NET_PHASE_BRIDGE] = "bridge",
    [NET_PHASE_ADDRESSES] = "addresses",
    [NET_PHASE_FIREWALL] = "firewall",
    [NET_PHASE_DHCP] = "DHCP",
    [NET_PHASE_UP] = "up",
};

static const char *const faultNames[NET_FAULT_LAST] = {
    [NET_FAULT_NONE] = "none",
    [NET_FAULT_ERROR] = "error",
    [NET_FAULT_CRASH] = "crash",
    [NET_FAULT_WAIT] = "wait",
    [NET_FAULT_HANG] = "hang",
};

const char *netPhaseName(uint32_t phase)
{
    return phase < NET_PHASE_LAST ? phaseNames[phase] : NULL;
}

const char *netFaultName(uint32_t kind)
{
    return kind < NET_FAULT_LAST ? faultNames[kind] : NULL;
}

int netFaultParse(const char *spec, uint32_t *phase, uint32_t *kind)
{
    const char *colon = strchr(spec, ':');

    if (!colon)
        return -1;
    for (uint32_t p = NET_PHASE_CHECK; p < NET_PHASE_LAST; p++) {
        if (strlen(phaseNames[p]) != (size_t)(colon - spec) ||
            strncasecmp(spec, phaseNames[p], (size_t)(colon - spec)) != 0)
            continue;
        for (uint32_t k = NET_FAULT_ERROR; k < NET_FAULT_LAST; k++) {
            if (STREQ(colon + 1, faultNames[k])) {
                *phase = p;
                *kind = k;
                return 0;
            }
        }
    }
    return -1;
}

void netTableName(const char *name, char *buf, size_t len)
{
    snprintf(buf, len, "virtsup_%s", name);
}

void netOwnerFormat(const char *name, uint64_t token, char *buf)
{
    snprintf(buf, NET_OWNER_MAX, "virtsup network %s %016llx", name, (unsigned long long)token);
}

int netOwnerCheck(const char *owner, const char **why)
{
    static const char prefix[] = "virtsup network ";
    size_t len = strnlen(owner, NET_OWNER_MAX);
    const char *sp;
    char name[NET_NAME_MAX];

    *why = "owner mark is not 'virtsup network NAME TOKEN'";
    if (len == NET_OWNER_MAX || strncmp(owner, prefix, sizeof(prefix) - 1) != 0)
        return -1;
    owner += sizeof(prefix) - 1;
    if (!(sp = strchr(owner, ' ')) || (size_t)(sp - owner) >= sizeof(name))
        return -1;
    memcpy(name, owner, (size_t)(sp - owner));
    name[sp - owner] = '\0';
    if (netNameCheck(name, sizeof(name), why) < 0)
        return -1;
    *why = "owner mark is not 'virtsup network NAME TOKEN'";
    if (strlen(sp + 1) != 16 || strspn(sp + 1, "0123456789abcdef") != 16)
        return -1;
    return 0;
}

int netStartParamsCheck(const void *blob, size_t len, const char **why)
{
    netStartParams p;
    char table[sizeof(p.table)];

    if (!blob || len != sizeof(p)) {
        *why = "start parameters have the wrong size";
        return -1;
    }
    memcpy(&p, blob, sizeof(p));
    if (p.magic != NET_START_PARAMS_MAGIC || p.version != 1) {
        *why = "start parameters have a bad magic or version";
        return -1;
    }
    if (p.faultPhase >= NET_PHASE_LAST || p.faultKind >= NET_FAULT_LAST) {
        *why = "start parameters name an unknown fault";
        return -1;
    }
    if (p.agentRes < -1 || p.agentRes > 1 || p.forwardRes < -1 || p.forwardRes > 1 ||
        (p.agentRes >= 0 && p.agentRes == p.forwardRes) || p.waitDHCP > 1 || p.waitDNS > 1 ||
        ((p.waitDHCP || p.waitDNS) && p.agentRes < 0)) {
        *why = "start parameters have bad descriptor indexes or flags";
        return -1;
    }
    if (netDefCheck(&p.def, true, why) < 0)
        return -1;
    if (netOwnerCheck(p.owner, why) < 0)
        return -1;
    if (!p.def.hasMac) {
        *why = "start parameters' definition has no MAC address";
        return -1;
    }
    netTableName(p.def.name, table, sizeof(table));
    if (strnlen(p.table, sizeof(p.table)) == sizeof(p.table) || STRNEQ(table, p.table)) {
        *why = "start parameters name another nftables table";
        return -1;
    }
    return 0;
}

/* ---- conflicts with what the host has ---- */

static bool overlaps(uint32_t a, unsigned int pa, uint32_t b, unsigned int pb)
{
    unsigned int p = pa < pb ? pa : pb;
    uint32_t m = p ? ~(uint32_t)0 << (32 - p) : 0;
    return (a & m) == (b & m);
}

static const char *linkName(const virNetlinkLink *links, size_t n, int ifindex, char *buf,
                            size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (links[i].ifindex == ifindex)
            return links[i].name;
    snprintf(buf, len, "index %d", ifindex);
    return buf;
}

#define IP4(a) (a) >> 24, ((a) >> 16) & 0xff, ((a) >> 8) & 0xff, (a) & 0xff

int netCheckConflicts(virNetlinkSock *s, const char *netname, const char *bridge,
                          uint32_t addr, unsigned int prefix, int family, const char *table)
{
    VIR_AUTOFREE(virNetlinkLink *) links = NULL;
    VIR_AUTOFREE(virNetlinkRoute *) routes = NULL;
    VIR_AUTOFREE(virNetlinkAddr *) addrs = NULL;
    size_t nlinks, nroutes, naddrs;
    uint32_t net = addr & (prefix ? ~(uint32_t)0 << (32 - prefix) : 0);
    char buf[32];
    int rc;

    if (virNetlinkLinkList(s, &links, &nlinks) < 0)
        return -1;
    for (size_t i = 0; i < nlinks; i++) {
        if (STREQ(links[i].name, bridge)) {
            virReportError(VIR_ERR_RESOURCE_BUSY,
                           "cannot start network '%s': network interface '%s' already "
                           "exists (index %d%s%s)", netname, bridge, links[i].ifindex,
                           links[i].kind[0] ? ", kind " : "", links[i].kind);
            return -1;
        }
    }
    if (addr) {
        if (virNetlinkRouteList(s, &routes, &nroutes) < 0 ||
            virNetlinkAddrList(s, &addrs, &naddrs) < 0)
            return -1;
        for (size_t i = 0; i < nroutes; i++) {
            const virNetlinkRoute *r = &routes[i];
            if (r->prefix == 0 || !overlaps(net, prefix, r->dst, r->prefix))
                continue;
            virReportError(VIR_ERR_RESOURCE_BUSY,
                           "cannot start network '%s': its address range %u.%u.%u.%u/%u "
                           "collides with route %u.%u.%u.%u/%u%s%s%s", netname, IP4(net),
                           prefix, IP4(r->dst), r->prefix, r->oif ? " on '" : "",
                           r->oif ? linkName(links, nlinks, r->oif, buf, sizeof(buf)) : "",
                           r->oif ? "'" : "");
            return -1;
        }
        for (size_t i = 0; i < naddrs; i++) {
            const virNetlinkAddr *a = &addrs[i];
            if (!overlaps(net, prefix, a->addr, a->prefix))
                continue;
            virReportError(VIR_ERR_RESOURCE_BUSY,
                           "cannot start network '%s': its address range %u.%u.%u.%u/%u "
                           "collides with address %u.%u.%u.%u/%u on '%s'", netname,
                           IP4(net), prefix, IP4(a->addr), a->prefix,
                           linkName(links, nlinks, a->ifindex, buf, sizeof(buf)));
            return -1;
        }
    }
    if ((rc = virNetlinkNftTableExists(family, table)) != 0) {
        if (rc > 0)
            virReportError(VIR_ERR_RESOURCE_BUSY,
                           "cannot start network '%s': nftables table '%s' already exists "
                           "(another program's, or left behind: 'nft delete table %s %s' "
                           "removes it)", netname, table,
                           family == NFPROTO_IPV4 ? "ip" : "inet", table);
        return -1;
    }
    return 0;
}

