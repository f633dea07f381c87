/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * network_conf.c: XML and the dnsmasq configuration, generated from a
 * checked definition (see network_conf.h). Every string in a checked
 * netDef is of a restricted alphabet except the title and description,
 * which are escaped.
 */
#include <stdarg.h>
#include <stdio.h>
#include <sys/random.h>

#include "util/viralloc.h"
#define VIR_FROM_THIS VIR_FROM_NETWORK
#include "util/virerror.h"
#include "drivers/network/network_conf.h"

typedef struct outBuf {
    char *s;
    size_t len, cap;
    bool oom;
} outBuf;

static void ATTRIBUTE_FMT_PRINTF(2, 3) put(outBuf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (b->oom)
        return;
    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->oom = true;
        return;
    }
    if (b->len + (size_t)n + 1 > b->cap) {
        size_t cap = (b->cap ? b->cap * 2 : 2048) + (size_t)n;
        char *p = virReallocN(b->s, cap, 1);
        if (!p) {
            b->oom = true;
            return;
        }
        b->s = p;
        b->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

static void putEscaped(outBuf *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': put(b, "&amp;"); break;
        case '<': put(b, "&lt;"); break;
        case '>': put(b, "&gt;"); break;
        case '\'': put(b, "&apos;"); break;
        case '"': put(b, "&quot;"); break;
        default: put(b, "%c", *s); break;
        }
    }
}

static char *outDone(outBuf *b)
{
    if (b->oom || !b->s) {
        free(b->s);
        virReportOOMError();
        return NULL;
    }
    return b->s;
}

static const char *leaseUnitName(uint32_t unit)
{
    static const char *const names[] = { "", "seconds", "minutes", "hours" };
    return unit <= NET_LEASE_HOURS ? names[unit] : "";
}

static void putLease(outBuf *b, const netLease *l, const char *indent)
{
    put(b, "%s<lease expiry='%u' unit='%s'/>\n", indent, l->expiry, leaseUnitName(l->unit));
}

static const char *yesNo(uint32_t tri)
{
    return tri == NET_TRI_YES ? "yes" : "no";
}

char *netDefFormat(const netDef *def, unsigned int connections)
{
    outBuf b = { NULL, 0, 0, false };
    char uuid[37], a[16], m[16], mac[18];
    const uint8_t *u = def->uuid;

    snprintf(uuid, sizeof(uuid),
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11],
             u[12], u[13], u[14], u[15]);
    put(&b, "<network");
    if (connections)
        put(&b, " connections='%u'", connections);
    if (def->echo & NET_ECHO_IPV6_NO)
        put(&b, " ipv6='no'");
    put(&b, ">\n  <name>%s</name>\n  <uuid>%s</uuid>\n", def->name, uuid);
    if (def->title[0]) {
        put(&b, "  <title>");
        putEscaped(&b, def->title);
        put(&b, "</title>\n");
    }
    if (def->description[0]) {
        put(&b, "  <description>");
        putEscaped(&b, def->description);
        put(&b, "</description>\n");
    }
    if (def->forward != NET_FORWARD_NONE) {
        put(&b, "  <forward mode='%s'", def->forward == NET_FORWARD_NAT ? "nat" : "route");
        if (def->forwardDev[0])
            put(&b, " dev='%s'", def->forwardDev);
        put(&b, ">\n");
        if (def->forward == NET_FORWARD_NAT) {
            put(&b, "    <nat%s>\n", def->echo & NET_ECHO_NAT_IPV6_NO ? " ipv6='no'" : "");
            put(&b, "      <port start='%u' end='%u'/>\n", def->natPortStart, def->natPortEnd);
            put(&b, "    </nat>\n");
        }
        if (def->forwardDev[0])
            put(&b, "    <interface dev='%s'/>\n", def->forwardDev);
        put(&b, "  </forward>\n");
    }
    put(&b, "  <bridge");
    if (def->bridge[0])
        put(&b, " name='%s'", def->bridge);
    put(&b, " stp='%s' delay='%u'%s/>\n", def->stp ? "on" : "off", def->delay,
        def->echo & NET_ECHO_MACTABLE_KERNEL ? " macTableManager='kernel'" : "");
    if (def->mtu)
        put(&b, "  <mtu size='%u'/>\n", def->mtu);
    if (def->hasMac)
        put(&b, "  <mac address='%s'/>\n", netMacFormat(def->mac, mac));
    if (def->domain[0]) {
        put(&b, "  <domain name='%s'", def->domain);
        if (def->domainLocalOnly)
            put(&b, " localOnly='%s'", yesNo(def->domainLocalOnly));
        put(&b, "/>\n");
    }
    if (def->dnsEnable)
        put(&b, "  <dns enable='%s'/>\n", yesNo(def->dnsEnable));
    else if (def->echo & NET_ECHO_DNS)
        put(&b, "  <dns/>\n");
    if (def->ipv4) {
        put(&b, "  <ip");
        if (def->echo & NET_ECHO_IP_FAMILY)
            put(&b, " family='ipv4'");
        put(&b, " address='%s'", netIPv4Format(def->ipv4, a));
        if (def->ipNetmaskForm)
            put(&b, " netmask='%s'", netIPv4Format(netMaskOf(def->prefix), m));
        else
            put(&b, " prefix='%u'", def->prefix);
        if (def->localPtr)
            put(&b, " localPtr='%s'", yesNo(def->localPtr));
        if (!def->hasDhcp) {
            put(&b, "/>\n");
        } else {
            put(&b, ">\n    <dhcp>\n");
            for (uint32_t i = 0; i < def->nranges; i++) {
                const netDhcpRange *r = &def->ranges[i];
                put(&b, "      <range start='%s' end='%s'", netIPv4Format(r->start, a),
                    netIPv4Format(r->end, m));
                if (r->lease.unit) {
                    put(&b, ">\n");
                    putLease(&b, &r->lease, "        ");
                    put(&b, "      </range>\n");
                } else {
                    put(&b, "/>\n");
                }
            }
            for (uint32_t i = 0; i < def->nhosts; i++) {
                const netDhcpHost *h = &def->hosts[i];
                put(&b, "      <host");
                if (h->hasMac)
                    put(&b, " mac='%s'", netMacFormat(h->mac, mac));
                if (h->name[0])
                    put(&b, " name='%s'", h->name);
                put(&b, " ip='%s'", netIPv4Format(h->ip, a));
                if (h->lease.unit) {
                    put(&b, ">\n");
                    putLease(&b, &h->lease, "        ");
                    put(&b, "      </host>\n");
                } else {
                    put(&b, "/>\n");
                }
            }
            put(&b, "    </dhcp>\n  </ip>\n");
        }
    }
    put(&b, "</network>\n");
    return outDone(&b);
}

/* ",3600s" or ",infinite" for dnsmasq; nothing without a <lease>. */
static void putDnsmasqLease(outBuf *b, const netLease *l)
{
    if (!l->unit)
        return;
    if (!l->expiry)
        put(b, ",infinite");
    else
        put(b, ",%llus", (unsigned long long)netLeaseSeconds(l));
}

char *netDnsmasqConf(const netDef *def, const char *leasefile, bool *none)
{
    outBuf b = { NULL, 0, 0, false };
    bool dhcp = def->hasDhcp && (def->nranges || def->nhosts);
    bool dns = def->dnsEnable != NET_TRI_NO;
    char a[16], e[16], m[16], mac[18];
    uint64_t leases = 0;

    *none = !def->ipv4 || (!dhcp && !dns);
    if (*none)
        return NULL;
    if (strpbrk(leasefile, "\n\r")) {
        virReportError(VIR_ERR_INVALID_ARG, "the lease file path '%s' holds a line break",
                       leasefile);
        return NULL;
    }
    put(&b, "## Generated by libvirtsup for network '%s': changes here are lost.\n",
        def->name);
    put(&b, "strict-order\n");
    /* The supervising process keeps dnsmasq's pid; no pid file. */
    put(&b, "pid-file=\n");
    put(&b, "except-interface=lo\n");
    put(&b, "bind-dynamic\n");
    put(&b, "interface=%s\n", def->bridge);
    if (!dns)
        put(&b, "port=0\n");
    if (def->domain[0]) {
        put(&b, "domain=%s\n", def->domain);
        if (def->domainLocalOnly == NET_TRI_YES)
            put(&b, "local=/%s/\n", def->domain);
        put(&b, "expand-hosts\n");
    }
    if (dhcp) {
        netIPv4Format(netMaskOf(def->prefix), m);
        for (uint32_t i = 0; i < def->nranges; i++) {
            const netDhcpRange *r = &def->ranges[i];
            put(&b, "dhcp-range=%s,%s,%s", netIPv4Format(r->start, a),
                netIPv4Format(r->end, e), m);
            putDnsmasqLease(&b, &r->lease);
            put(&b, "\n");
            leases += (uint64_t)r->end - r->start + 1;
        }
        if (!def->nranges)
            put(&b, "dhcp-range=%s,static,%s\n",
                netIPv4Format(def->ipv4 & netMaskOf(def->prefix), a), m);
        put(&b, "dhcp-no-override\n");
        put(&b, "dhcp-authoritative\n");
        put(&b, "dhcp-lease-max=%llu\n", (unsigned long long)(leases + def->nhosts));
        for (uint32_t i = 0; i < def->nhosts; i++) {
            const netDhcpHost *h = &def->hosts[i];
            put(&b, "dhcp-host=");
            if (h->hasMac)
                put(&b, "%s,", netMacFormat(h->mac, mac));
            put(&b, "%s", netIPv4Format(h->ip, a));
            if (h->name[0])
                put(&b, ",%s", h->name);
            putDnsmasqLease(&b, &h->lease);
            put(&b, "\n");
        }
        put(&b, "dhcp-leasefile=%s\n", leasefile);
    }
    return outDone(&b);
}

int netMacGenerate(uint8_t mac[6])
{
    uint8_t r[3];

    if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
        virReportSystemError(errno, "%s", "cannot generate a MAC address");
        return -1;
    }
    mac[0] = 0x52;
    mac[1] = 0x54;
    mac[2] = 0x00;
    memcpy(mac + 3, r, 3);
    return 0;
}
