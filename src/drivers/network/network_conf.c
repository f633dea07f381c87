/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * network_conf.c: XML and the dnsmasq configuration, generated from a
 * checked definition (see network_conf.h). Every string in a checked
 * netDef is of a restricted alphabet except the title and description,
 * which are escaped.
 */
#include <stdio.h>
#include <sys/random.h>

#include "driver.h"
#include "util/viralloc.h"
#include "util/virstring.h"
#define VIR_FROM_THIS VIR_FROM_NETWORK
#include "util/virerror.h"
#include "drivers/network/network_conf.h"

static const char *leaseUnitName(uint32_t unit)
{
    static const char *const names[] = { "", "seconds", "minutes", "hours" };
    return unit <= NET_LEASE_HOURS ? names[unit] : "";
}

static void putLease(virBuffer *b, const netLease *l, const char *indent)
{
    virBufferAddf(b, "%s<lease expiry='%u' unit='%s'/>\n", indent, l->expiry, leaseUnitName(l->unit));
}

static const char *yesNo(uint32_t tri)
{
    return tri == NET_TRI_YES ? "yes" : "no";
}

char *netDefFormat(const netDef *def, unsigned int connections)
{
    virBuffer b = VIR_BUFFER_INIT;
    char uuid[VIR_UUID_STRING_BUFLEN], a[16], m[16], mac[18];

    virUUIDFormat(def->uuid, uuid);
    virBufferAddf(&b, "<network");
    if (connections)
        virBufferAddf(&b, " connections='%u'", connections);
    if (def->echo & NET_ECHO_IPV6_NO)
        virBufferAddf(&b, " ipv6='no'");
    virBufferAddf(&b, ">\n  <name>%s</name>\n  <uuid>%s</uuid>\n", def->name, uuid);
    if (def->title[0]) {
        virBufferAddf(&b, "  <title>");
        virBufferEscapeXML(&b, def->title);
        virBufferAddf(&b, "</title>\n");
    }
    if (def->description[0]) {
        virBufferAddf(&b, "  <description>");
        virBufferEscapeXML(&b, def->description);
        virBufferAddf(&b, "</description>\n");
    }
    if (def->forward != NET_FORWARD_NONE) {
        virBufferAddf(&b, "  <forward mode='%s'", def->forward == NET_FORWARD_NAT ? "nat" : "route");
        if (def->forwardDev[0])
            virBufferAddf(&b, " dev='%s'", def->forwardDev);
        virBufferAddf(&b, ">\n");
        if (def->forward == NET_FORWARD_NAT) {
            virBufferAddf(&b, "    <nat%s>\n", def->echo & NET_ECHO_NAT_IPV6_NO ? " ipv6='no'" : "");
            virBufferAddf(&b, "      <port start='%u' end='%u'/>\n", def->natPortStart, def->natPortEnd);
            virBufferAddf(&b, "    </nat>\n");
        }
        if (def->forwardDev[0])
            virBufferAddf(&b, "    <interface dev='%s'/>\n", def->forwardDev);
        virBufferAddf(&b, "  </forward>\n");
    }
    virBufferAddf(&b, "  <bridge");
    if (def->bridge[0])
        virBufferAddf(&b, " name='%s'", def->bridge);
    virBufferAddf(&b, " stp='%s' delay='%u'%s/>\n", def->stp ? "on" : "off", def->delay,
        def->echo & NET_ECHO_MACTABLE_KERNEL ? " macTableManager='kernel'" : "");
    if (def->mtu)
        virBufferAddf(&b, "  <mtu size='%u'/>\n", def->mtu);
    if (def->hasMac)
        virBufferAddf(&b, "  <mac address='%s'/>\n", netMacFormat(def->mac, mac));
    if (def->domain[0]) {
        virBufferAddf(&b, "  <domain name='%s'", def->domain);
        if (def->domainLocalOnly)
            virBufferAddf(&b, " localOnly='%s'", yesNo(def->domainLocalOnly));
        virBufferAddf(&b, "/>\n");
    }
    if (def->dnsEnable)
        virBufferAddf(&b, "  <dns enable='%s'/>\n", yesNo(def->dnsEnable));
    else if (def->echo & NET_ECHO_DNS)
        virBufferAddf(&b, "  <dns/>\n");
    if (def->ipv4) {
        virBufferAddf(&b, "  <ip");
        if (def->echo & NET_ECHO_IP_FAMILY)
            virBufferAddf(&b, " family='ipv4'");
        virBufferAddf(&b, " address='%s'", netIPv4Format(def->ipv4, a));
        if (def->ipNetmaskForm)
            virBufferAddf(&b, " netmask='%s'", netIPv4Format(netMaskOf(def->prefix), m));
        else
            virBufferAddf(&b, " prefix='%u'", def->prefix);
        if (def->localPtr)
            virBufferAddf(&b, " localPtr='%s'", yesNo(def->localPtr));
        if (!def->hasDhcp) {
            virBufferAddf(&b, "/>\n");
        } else {
            virBufferAddf(&b, ">\n    <dhcp>\n");
            for (uint32_t i = 0; i < def->nranges; i++) {
                const netDhcpRange *r = &def->ranges[i];
                virBufferAddf(&b, "      <range start='%s' end='%s'", netIPv4Format(r->start, a),
                    netIPv4Format(r->end, m));
                if (r->lease.unit) {
                    virBufferAddf(&b, ">\n");
                    putLease(&b, &r->lease, "        ");
                    virBufferAddf(&b, "      </range>\n");
                } else {
                    virBufferAddf(&b, "/>\n");
                }
            }
            for (uint32_t i = 0; i < def->nhosts; i++) {
                const netDhcpHost *h = &def->hosts[i];
                virBufferAddf(&b, "      <host");
                if (h->hasMac)
                    virBufferAddf(&b, " mac='%s'", netMacFormat(h->mac, mac));
                if (h->name[0])
                    virBufferAddf(&b, " name='%s'", h->name);
                virBufferAddf(&b, " ip='%s'", netIPv4Format(h->ip, a));
                if (h->lease.unit) {
                    virBufferAddf(&b, ">\n");
                    putLease(&b, &h->lease, "        ");
                    virBufferAddf(&b, "      </host>\n");
                } else {
                    virBufferAddf(&b, "/>\n");
                }
            }
            virBufferAddf(&b, "    </dhcp>\n  </ip>\n");
        }
    }
    virBufferAddf(&b, "</network>\n");
    return virBufferFinish(&b);
}

/* ",3600s" or ",infinite" for dnsmasq; nothing without a <lease>. */
static void putDnsmasqLease(virBuffer *b, const netLease *l)
{
    if (!l->unit)
        return;
    if (!l->expiry)
        virBufferAddf(b, ",infinite");
    else
        virBufferAddf(b, ",%llus", (unsigned long long)netLeaseSeconds(l));
}

char *netDnsmasqConf(const netDef *def, const char *leasefile, bool *none)
{
    virBuffer b = VIR_BUFFER_INIT;
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
    virBufferAddf(&b, "## Generated by libvirtsup for network '%s': changes here are lost.\n",
        def->name);
    virBufferAddf(&b, "strict-order\n");
    /* The supervising process keeps dnsmasq's pid; no pid file. */
    virBufferAddf(&b, "pid-file=\n");
    virBufferAddf(&b, "except-interface=lo\n");
    virBufferAddf(&b, "bind-dynamic\n");
    virBufferAddf(&b, "interface=%s\n", def->bridge);
    if (!dns)
        virBufferAddf(&b, "port=0\n");
    if (def->domain[0]) {
        virBufferAddf(&b, "domain=%s\n", def->domain);
        if (def->domainLocalOnly == NET_TRI_YES)
            virBufferAddf(&b, "local=/%s/\n", def->domain);
        virBufferAddf(&b, "expand-hosts\n");
    }
    if (dhcp) {
        netIPv4Format(netMaskOf(def->prefix), m);
        for (uint32_t i = 0; i < def->nranges; i++) {
            const netDhcpRange *r = &def->ranges[i];
            virBufferAddf(&b, "dhcp-range=%s,%s,%s", netIPv4Format(r->start, a),
                netIPv4Format(r->end, e), m);
            putDnsmasqLease(&b, &r->lease);
            virBufferAddf(&b, "\n");
            leases += (uint64_t)r->end - r->start + 1;
        }
        if (!def->nranges)
            virBufferAddf(&b, "dhcp-range=%s,static,%s\n",
                netIPv4Format(def->ipv4 & netMaskOf(def->prefix), a), m);
        virBufferAddf(&b, "dhcp-no-override\n");
        virBufferAddf(&b, "dhcp-authoritative\n");
        virBufferAddf(&b, "dhcp-lease-max=%llu\n", (unsigned long long)(leases + def->nhosts));
        for (uint32_t i = 0; i < def->nhosts; i++) {
            const netDhcpHost *h = &def->hosts[i];
            virBufferAddf(&b, "dhcp-host=");
            if (h->hasMac)
                virBufferAddf(&b, "%s,", netMacFormat(h->mac, mac));
            virBufferAddf(&b, "%s", netIPv4Format(h->ip, a));
            if (h->name[0])
                virBufferAddf(&b, ",%s", h->name);
            putDnsmasqLease(&b, &h->lease);
            virBufferAddf(&b, "\n");
        }
        virBufferAddf(&b, "dhcp-leasefile=%s\n", leasefile);
    }
    return virBufferFinish(&b);
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
