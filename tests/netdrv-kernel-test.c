/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * netdrv-kernel-test.c: the network driver's kernel requests, for real,
 * in a private network namespace: bridges with their settings, addresses,
 * routes and links listed back, a link's master and state, deletion that
 * checks the name, and the per-network nftables table installed in one
 * transaction (all or nothing), looked up and removed without touching
 * any other table.
 */
#include <linux/if.h>
#include <linux/netfilter.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "../src/drivers/network/nftables-worker.c"
#include "util/virnetdevtap.h"
#include "nettest.h"

static void test_bridge(void **s)
{
    (void)s;
    static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
    virNetlinkSock *nl = virNetlinkOpen();
    virNetlinkBridgeConf conf = { "vtest0", false, 0, 1400, mac, "virtsup network t 0000000000000001" };
    virNetlinkLink l;
    int ifindex = 0;

    assert_non_null(nl);
    assert_int_equal(virNetlinkLinkGet(nl, "vtest0", &l), 0);
    assert_int_equal(virNetlinkBridgeCreate(nl, &conf, &ifindex), 0);
    assert_true(ifindex > 0);
    assert_int_equal(virNetlinkLinkGet(nl, "vtest0", &l), 1);
    assert_int_equal(l.ifindex, ifindex);
    assert_string_equal(l.kind, "bridge");
    assert_int_equal(l.mtu, 1400);
    assert_memory_equal(l.mac, mac, 6);
    assert_false(l.flags & IFF_UP);
    assert_string_equal(l.alias, "virtsup network t 0000000000000001");

    /* A second bridge of the same name: refused, in the kernel's words. */
    virResetLastError();
    assert_int_equal(virNetlinkBridgeCreate(nl, &conf, &ifindex), -1);
    assert_non_null(strstr(virGetLastErrorMessage(), "cannot create bridge 'vtest0'"));
    assert_non_null(strstr(virGetLastErrorMessage(), "File exists"));

    /* STP on with a 2 s delay, as the kernel keeps it. */
    virNetlinkBridgeConf stp = { "vtest1", true, 2, 0, NULL, NULL };
    int idx1;
    assert_int_equal(virNetlinkBridgeCreate(nl, &stp, &idx1), 0);
    assert_int_equal(netTestSh("ip -d link show vtest1 | grep -q 'stp_state 1'"), 0);
    assert_int_equal(netTestSh("ip -d link show vtest1 | grep -q 'forward_delay 200 '"), 0);
    assert_int_equal(netTestSh("ip -d link show vtest0 | grep -q 'stp_state 0'"), 0);

    /* Address, state, listing. */
    assert_int_equal(virNetlinkAddrAdd(nl, ifindex, "vtest0", 0xc0a8fa01, 24), 0);
    assert_int_equal(virNetlinkLinkSetUp(nl, ifindex, "vtest0", true), 0);
    assert_int_equal(virNetlinkLinkGet(nl, "vtest0", &l), 1);
    assert_true(l.flags & IFF_UP);
    virNetlinkAddr *addrs;
    size_t naddrs;
    bool found = false;
    assert_int_equal(virNetlinkAddrList(nl, &addrs, &naddrs), 0);
    for (size_t i = 0; i < naddrs; i++)
        if (addrs[i].ifindex == ifindex && addrs[i].addr == 0xc0a8fa01 && addrs[i].prefix == 24)
            found = true;
    free(addrs);
    assert_true(found);
    assert_int_equal(netTestSh("ip -4 addr show vtest0 | grep -q 'inet 192.168.250.1/24 brd 192.168.250.255'"), 0);
    virNetlinkRoute *routes;
    size_t nroutes;
    found = false;
    assert_int_equal(virNetlinkRouteList(nl, &routes, &nroutes), 0);
    for (size_t i = 0; i < nroutes; i++)
        if (routes[i].oif == ifindex && routes[i].dst == 0xc0a8fa00 && routes[i].prefix == 24)
            found = true;
    free(routes);
    assert_true(found);
    /* The same address again: the kernel's refusal is reported. */
    virResetLastError();
    assert_int_equal(virNetlinkAddrAdd(nl, ifindex, "vtest0", 0xc0a8fa01, 24), -1);
    assert_non_null(strstr(virGetLastErrorMessage(), "192.168.250.1/24"));
    /* The fault request is refused by the kernel itself. */
    virResetLastError();
    assert_int_equal(virNetlinkFaultRequest(nl, ifindex, "injected"), -1);
    assert_non_null(strstr(virGetLastErrorMessage(), "injected"));

    /* A port: vtest1 enslaved to vtest0 and released again. */
    assert_int_equal(virNetlinkLinkSetMaster(nl, idx1, "vtest1", ifindex), -1); /* bridge in bridge */
    assert_int_equal(netTestSh("ip link add vtveth0 type veth peer name vtveth1"), 0);
    virNetlinkLink v;
    assert_int_equal(virNetlinkLinkGet(nl, "vtveth0", &v), 1);
    assert_string_equal(v.kind, "veth");
    assert_int_equal(virNetlinkLinkSetMaster(nl, v.ifindex, "vtveth0", ifindex), 0);
    assert_int_equal(virNetlinkLinkSetMTU(nl, v.ifindex, "vtveth0", 1400), 0);
    assert_int_equal(virNetlinkLinkGet(nl, "vtveth0", &v), 1);
    assert_int_equal(v.master, ifindex);
    assert_int_equal(virNetlinkLinkSetMaster(nl, v.ifindex, "vtveth0", 0), 0);
    assert_int_equal(virNetlinkLinkGet(nl, "vtveth0", &v), 1);
    assert_int_equal(v.master, 0);

    /* Deletion of what we own only: another mark, or none, is left. */
    static const uint8_t mac2[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x57 };
    assert_int_equal(virNetlinkLinkDeleteOwned(nl, "vtest0", mac, "virtsup network t 0000000000000002"), 0);
    assert_int_equal(virNetlinkLinkDeleteOwned(nl, "vtest0", mac2, "virtsup network t 0000000000000001"), 0);
    assert_int_equal(virNetlinkLinkGet(nl, "vtest0", &l), 1);
    /* Deletion checks the name behind the index. */
    assert_int_equal(virNetlinkLinkDelete(nl, ifindex + 1000, "vtest0"), 0);
    assert_int_equal(virNetlinkLinkGet(nl, "vtest0", &l), 1);
    assert_int_equal(virNetlinkLinkDelete(nl, ifindex, "vtest0"), 1);
    assert_int_equal(virNetlinkLinkGet(nl, "vtest0", &l), 0);
    assert_int_equal(virNetlinkLinkDelete(nl, ifindex, "vtest0"), 0);
    /* Made but not marked (and of our MAC): ours. */
    virNetlinkLink l1;
    assert_int_equal(virNetlinkLinkGet(nl, "vtest1", &l1), 1);
    assert_string_equal(l1.alias, "");
    assert_int_equal(virNetlinkLinkDeleteOwned(nl, "vtest1", l1.mac, "virtsup network t 0000000000000001"), 1);
    assert_int_equal(virNetlinkLinkDeleteByName(nl, "vtveth0"), 1);
    assert_int_equal(virNetlinkLinkGet(nl, "vtveth1", &v), 0);   /* the peer went too */
    virNetlinkClose(nl);
}

#define OWNER "virtsup network n1 00000000000000a1"

static netDef *natDef(void)
{
    netDef *d = calloc(1, sizeof(*d));
    assert_non_null(d);
    d->magic = NET_DEF_MAGIC;
    d->version = NET_DEF_VERSION;
    strcpy(d->name, "n1");
    strcpy(d->bridge, "vtbr0");
    d->forward = NET_FORWARD_NAT;
    d->natPortStart = 1024;
    d->natPortEnd = 65535;
    d->ipv4 = 0xc0a8fb01;
    d->prefix = 24;
    const char *why = NULL;
    if (netDefCheck(d, true, &why) < 0)
        fail_msg("def: %s", why);
    return d;
}

/* The text nft lists for table @t, or "" if there is none. */
static char listed[8192];
static const char *listTable(const char *t)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "nft list table ip %s 2>/dev/null", t);
    listed[0] = '\0';
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    size_t n = fread(listed, 1, sizeof(listed) - 1, f);
    listed[n] = '\0';
    pclose(f);
    return listed;
}

static void test_nftables(void **s)
{
    (void)s;
    netDef *d = natDef();

    /* Not loaded yet: the rules cannot run, and the error says why. */
    virResetLastError();
    assert_int_equal(netNftRun("list tables", "listing"), -1);
    assert_non_null(strstr(virGetLastErrorMessage(),
                           "listing: nftables is not available in this worker"));
    /* What the netlink set's spawn helper does before its sandbox. */
    assert_int_equal(netNftPreload(), 0);
    assert_int_equal(netNftPreload(), 0);

    /* A bystander's table, which nothing here may touch. */
    assert_int_equal(netTestSh("nft add table ip bystander && nft add chain ip bystander c"), 0);
    assert_int_equal(virNetlinkNftTableExists(NFPROTO_IPV4, "virtsup_n1"), 0);

    /* A refused transaction leaves no table. */
    virResetLastError();
    assert_int_equal(netNftInstall(d, "virtsup_n1", OWNER, true), -1);
    assert_non_null(strstr(virGetLastErrorMessage(),
                           "cannot install the firewall rules of network 'n1': nftables:"));
    assert_int_equal(virNetlinkNftTableExists(NFPROTO_IPV4, "virtsup_n1"), 0);

    assert_int_equal(netNftInstall(d, "virtsup_n1", OWNER, false), 0);
    assert_int_equal(virNetlinkNftTableExists(NFPROTO_IPV4, "virtsup_n1"), 1);
    const char *t = listTable("virtsup_n1");
    assert_non_null(strstr(t, "iifname \"vtbr0\" oifname \"vtbr0\" accept"));
    assert_non_null(strstr(t, "oifname \"vtbr0\" ip daddr 192.168.251.0/24 ct state established,related accept"));
    assert_non_null(strstr(t, "iifname \"vtbr0\" ip saddr 192.168.251.0/24 accept"));
    assert_non_null(strstr(t, "masquerade to :1024-65535"));
    assert_non_null(strstr(t, "ip saddr 192.168.251.0/24 ip daddr != 192.168.251.0/24 masquerade\n"));
    assert_non_null(strstr(t, "ip daddr 224.0.0.0/24 return"));
    char comment[256];
    assert_int_equal(virNetlinkNftTableGet(NFPROTO_IPV4, "virtsup_n1", comment, sizeof(comment)), 1);
    assert_string_equal(comment, OWNER);
    /* Another owner's mark: left alone. */
    assert_int_equal(virNetlinkNftTableDeleteOwned(NFPROTO_IPV4, "virtsup_n1",
                                                "virtsup network n1 00000000000000a2"), 0);
    assert_int_equal(virNetlinkNftTableExists(NFPROTO_IPV4, "virtsup_n1"), 1);

    /* A table of that name exists: never added to. */
    virResetLastError();
    assert_int_equal(netNftInstall(d, "virtsup_n1", OWNER, false), -1);
    assert_non_null(strstr(virGetLastErrorMessage(), "File exists"));

    assert_int_equal(virNetlinkNftTableDeleteOwned(NFPROTO_IPV4, "virtsup_n1", OWNER), 1);
    assert_int_equal(virNetlinkNftTableExists(NFPROTO_IPV4, "virtsup_n1"), 0);
    assert_int_equal(virNetlinkNftTableDelete(NFPROTO_IPV4, "virtsup_n1"), 0);
    assert_int_equal(virNetlinkNftTableDeleteOwned(NFPROTO_IPV4, "virtsup_n1", OWNER), 0);

    /* Route mode through a forward device; isolated. */
    d->forward = NET_FORWARD_ROUTE;
    d->natPortStart = d->natPortEnd = 0;
    strcpy(d->forwardDev, "eth9");
    assert_int_equal(netNftInstall(d, "virtsup_n1", OWNER, false), 0);
    t = listTable("virtsup_n1");
    assert_non_null(strstr(t, "iifname \"eth9\" oifname \"vtbr0\" ip daddr 192.168.251.0/24 accept"));
    assert_non_null(strstr(t, "iifname \"vtbr0\" oifname \"eth9\" ip saddr 192.168.251.0/24 accept"));
    assert_null(strstr(t, "masquerade"));
    assert_int_equal(virNetlinkNftTableDelete(NFPROTO_IPV4, "virtsup_n1"), 1);
    d->forward = NET_FORWARD_NONE;
    d->forwardDev[0] = '\0';
    assert_int_equal(netNftInstall(d, "virtsup_n1", OWNER, false), 0);
    t = listTable("virtsup_n1");
    assert_non_null(strstr(t, "iifname \"vtbr0\" reject"));
    assert_null(strstr(t, "saddr"));
    assert_int_equal(virNetlinkNftTableDelete(NFPROTO_IPV4, "virtsup_n1"), 1);

    /* The bystander is still there, as it was. */
    assert_int_equal(netTestSh("nft list chain ip bystander c >/dev/null"), 0);
    assert_int_equal(netTestSh("nft delete table ip bystander"), 0);
    free(d);
}

/* A guest's port: a tap on the bridge, gone with its descriptor. */
static void test_port(void **s)
{
    (void)s;
    static const uint8_t guest[6] = { 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef };
    virNetlinkSock *nl = virNetlinkOpen();
    static const uint8_t brmac[6] = { 0x52, 0x54, 0x00, 0x00, 0x00, 0x10 };
    virNetlinkBridgeConf conf = { "vport0", false, 0, 1450, brmac, NULL };
    virNetlinkLink br, tap;
    char ifname[16];
    int brindex, fd = -1;

    if (access("/dev/net/tun", R_OK | W_OK) != 0)
        skip();
    assert_int_equal(virNetlinkBridgeCreate(nl, &conf, &brindex), 0);
    assert_int_equal(virNetDevTapCreateInBridge("vport0", guest, &fd, ifname), 0);
    assert_true(fd >= 0);
    assert_int_equal(strncmp(ifname, "vnet", 4), 0);
    assert_int_equal(virNetlinkLinkGet(nl, ifname, &tap), 1);
    assert_string_equal(tap.kind, "tun");
    assert_int_equal(tap.master, brindex);
    assert_int_equal(tap.mtu, 1450);
    assert_true(tap.flags & IFF_UP);
    assert_int_equal(tap.mac[0], 0xfe);
    assert_memory_equal(tap.mac + 1, guest + 1, 5);
    /* The bridge keeps its own MAC. */
    assert_int_equal(virNetlinkLinkGet(nl, "vport0", &br), 1);
    assert_memory_equal(br.mac, brmac, 6);
    close(fd);
    assert_int_equal(virNetlinkLinkGet(nl, ifname, &tap), 0);

    /* Not a bridge; no such bridge: refused, nothing made. */
    assert_int_equal(netTestSh("ip link add vportv type veth peer name vportw"), 0);
    virResetLastError();
    assert_int_equal(virNetDevTapCreateInBridge("vportv", guest, &fd, ifname), -1);
    assert_non_null(strstr(virGetLastErrorMessage(), "'vportv' is not a bridge (it is a veth)"));
    virResetLastError();
    assert_int_equal(virNetDevTapCreateInBridge("vnope", guest, &fd, ifname), -1);
    assert_non_null(strstr(virGetLastErrorMessage(), "bridge 'vnope' does not exist"));
    assert_int_equal(netTestSh("ip link del vportv && ip link del vport0"), 0);
    assert_int_equal(netTestSh("! ip -o link | grep -q vnet"), 0);   /* no tap left */
    virNetlinkClose(nl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bridge),
        cmocka_unit_test(test_port),
        cmocka_unit_test(test_nftables),
    };
    netTestEnterNamespace();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
