/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qemu-net-test.c: real QEMU guests on real virtual networks, in a private
 * network namespace the test creates (nothing of the host's network is
 * touched). A NAT network with DHCP is defined, listed, looked up and
 * started through the same qemu:///system?root=DIR connection the guest
 * runs on, as libvirt's clients do (its state under DIR/network, not
 * where network:///system keeps its networks); the test guest (TCG) gets
 * three interfaces on the network's bridge, <interface type='network'>
 * (virtio), <interface type='bridge'> (virtio) and <interface
 * type='network'> (e1000, which the guest's cloud kernel has no driver
 * for: it is checked on the guest's PCI bus only): each is a tap
 * made by a CAP_NET_ADMIN worker, with the guest's MAC (fe:...) on the
 * bridge, handed to QEMU as a descriptor. Through the guest's command
 * channel the two virtio interfaces get a DHCP lease from the network's dnsmasq and
 * ping the bridge. Refusals name the network or bridge and leave no tap; a
 * start that fails after the taps were made leaves none; destroying the
 * network while the guest runs leaves nothing of the network and detaches
 * the guest's taps; destroying the guest removes them. qemu:///session
 * refuses every network call, saying why.
 *
 * Skips (77) when not root, or QEMU, the guest or dnsmasq cannot be had.
 */
#include <linux/netfilter.h>
#include <pwd.h>

#include "qemuguest.h"
#include "nettest.h"
#include "drivers/network/network-shared.h"
#include "util/virerror.h"

#define NET "qn1"
#define BR "vqn1"
#define MAC1 "52:54:00:aa:00:01"
#define MAC2 "52:54:00:aa:00:02"
#define MAC3 "52:54:00:aa:00:03"

static char *netDir;        /* ROOT/network: the qemu connection's networks */
static char *otherDir;      /* $VIRTSUP_NETWORK_DIR: network:///system's */

static const char netXML[] =
    "<network>\n"
    "  <name>" NET "</name>\n"
    "  <forward mode='nat'/>\n"
    "  <bridge name='" BR "' stp='off' delay='0'/>\n"
    "  <ip address='192.168.130.1' netmask='255.255.255.0'>\n"
    "    <dhcp><range start='192.168.130.2' end='192.168.130.50'/></dhcp>\n"
    "  </ip>\n"
    "</network>\n";

static const char nicsXML[] =
    "<interface type='network'><source network='" NET "'/><mac address='" MAC1 "'/>"
    "<model type='virtio'/></interface>\n"
    "    <interface type='bridge'><source bridge='" BR "'/><mac address='" MAC2 "'/>"
    "<model type='virtio'/></interface>\n"
    "    <interface type='network'><source network='" NET "'/><mac address='" MAC3 "'/>"
    "<model type='e1000'/></interface>";

/* The taps in the namespace (links of kind tun), as "NAME MASTER MAC"
 * lines in @out; their number. */
static int taps(char *out, size_t len)
{
    FILE *f = popen("ip -o link show type tun | awk '{ m = \"-\"; a = \"-\"; "
                    "for (i = 1; i <= NF; i++) { if ($i == \"master\") m = $(i + 1); "
                    "if ($i == \"link/ether\") a = $(i + 1) } sub(\":$\", \"\", $2); "
                    "print $2, m, a }'", "r");
    size_t got = 0;
    int n = 0;
    char line[256];

    assert_non_null(f);
    out[0] = '\0';
    while (fgets(line, sizeof(line), f)) {
        n++;
        if (got < len)
            got += (size_t)snprintf(out + got, len - got, "%s", line);
    }
    pclose(f);
    return n;
}

static int tapCount(void)
{
    return netTestSh("exit $(ip -o link show type tun | wc -l)");
}

/* Network call @what on qemu:///session was refused, saying why. */
static void sessionRefused(const char *what)
{
    const virError *e = virGetLastError();
    if (!e)
        fail_msg("%s on qemu:///session: not refused", what);
    printf("%s on qemu:///session: %s\n", what, e->message);
    assert_int_equal(e->code, VIR_ERR_OPERATION_DENIED);
    assert_int_equal(e->domain, VIR_FROM_NETWORK);
    assert_non_null(strstr(e->message, "qemu:///session"));
    assert_non_null(strstr(e->message, "CAP_NET_ADMIN"));
}

/* qemu:///session (a tree of its own) runs guests but no network: every
 * network call is refused with the reason, nothing is made. */
static void test_session_refused(void **state)
{
    qemuT *t = *state;
    char uri[600], p[600];
    virNetworkPtr *list = NULL;
    virConnectPtr sc;

    snprintf(uri, sizeof(uri), "qemu:///session?root=%s/session", t->root);
    if (!(sc = virConnectOpen(uri)))
        fail_msg("%s: %s", uri, virGetLastErrorMessage());
    assert_int_equal(virConnectListAllNetworks(sc, &list, 0), -1);
    sessionRefused("virConnectListAllNetworks");
    assert_null(list);
    assert_null(virNetworkDefineXML(sc, netXML));
    sessionRefused("virNetworkDefineXML");
    assert_null(virNetworkCreateXMLJob(sc, netXML));
    sessionRefused("virNetworkCreateXMLJob");
    assert_null(virNetworkLookupByName(sc, NET));
    sessionRefused("virNetworkLookupByName");
    snprintf(p, sizeof(p), "%s/session/network", t->root);
    assert_int_equal(access(p, F_OK), -1);
    assert_int_equal(tapCount(), 0);
    assert_int_equal(netTestSh("ip link show " BR " >/dev/null 2>&1"), 1);
    /* A guest's <interface type='network'> there: refused, no tap. */
    virJobPtr job = virDomainCreateLinuxJob(sc, guestXML(t, "snet",
        "<interface type='network'><source network='" NET "'/></interface>"), 0);
    if (job) {
        assert_int_equal(qtJobEnd(job), VIR_JOB_FAILED);
        printf("session guest on a network: %s\n", qtJobError(job));
        assert_non_null(strstr(qtJobError(job), "qemu:///session"));
        virJobDestroy(job);
    } else {
        printf("session guest on a network: %s\n", virGetLastErrorMessage());
        assert_non_null(strstr(virGetLastErrorMessage(), "qemu:///"));
    }
    assert_int_equal(tapCount(), 0);
    virConnectClose(sc);
}

static void netStart(virNetworkPtr net)
{
    virJobPtr job = virNetworkCreateJob(net);
    virJobInfo info;
    if (!job)
        fail_msg("virNetworkCreateJob: %s", virGetLastErrorMessage());
    assert_int_equal(virJobWait(job, TEST_TIMEOUT_MS), 0);
    assert_int_equal(virJobGetInfo(job, &info), 0);
    if (info.state != VIR_JOB_COMPLETE)
        fail_msg("the network did not start: %s", qtJobError(job));
    virNetworkFree(virJobGetNetwork(job));
    virJobDestroy(job);
}

/* The guest's interface with MAC @mac asks for a DHCP lease (busybox
 * udhcpc) and configures it: the address it got into @lease. */
static void guestLease(int ch, const char *mac, const char *what, char *lease, size_t len)
{
    char cmd[300], ifname[32], out[1024];
    const char *a;

    snprintf(cmd, sizeof(cmd), "sh for i in /sys/class/net/*; do "
             "[ \"$(cat $i/address)\" = %s ] && basename $i; done", mac);
    channel(ch, cmd, ifname, sizeof(ifname));
    if (!ifname[0])
        fail_msg("the guest has no interface with MAC %s", mac);
    snprintf(cmd, sizeof(cmd), "dhcp %s", ifname);
    channel(ch, cmd, out, sizeof(out));
    printf("%s (%s): %s\n", ifname, what, out);
    if (!(a = strstr(out, "inet 192.168.130.")))
        fail_msg("%s (%s) got no lease in 192.168.130.0/24", ifname, what);
    snprintf(lease, len, "%.20s", a + 5);
    lease[strcspn(lease, "/")] = '\0';
}

/* A domain started with @devices fails before QEMU runs, naming @what;
 * no tap is left and the domain is shut off. */
static void startRefused(qemuT *t, const char *name, const char *devices, const char *what)
{
    virDomainPtr dom = virDomainDefineXML(t->conn, guestXML(t, name, devices));
    int state, reason;
    if (!dom)
        fail_msg("define %s: %s", name, virGetLastErrorMessage());
    assert_null(virDomainCreateJob(dom, 0));
    printf("%s: %s\n", name, virGetLastErrorMessage());
    assert_non_null(strstr(virGetLastErrorMessage(), what));
    assert_int_equal(tapCount(), 0);
    assert_int_equal(virDomainGetState(dom, &state, &reason, 0), 0);
    assert_int_equal(state, VIR_DOMAIN_SHUTOFF);
    assert_int_equal(virDomainUndefine(dom), 0);
    virDomainFree(dom);
}

/* Save the running guest @dom and restore it: QEMU and its taps go with
 * the save; the restored QEMU gets new taps on the same bridge with the
 * same MACs, and the guest reaches the bridge again through them. */
static void saveRestore(qemuT *t, virDomainPtr dom)
{
    char img[600], out[2048];
    int s, r;

    snprintf(img, sizeof(img), "%s/gnet.save", netDir);
    virJobPtr job = virDomainSaveJob(dom, img);
    assert_non_null(job);
    if (qtJobEnd(job) != VIR_JOB_COMPLETE)
        fail_msg("save: %s", qtJobError(job));
    virJobDestroy(job);
    assert_true(TEST_WAIT_UNTIL(tapCount() == 0, TEST_TIMEOUT_MS));

    job = virDomainRestoreJob(t->conn, img);
    if (!job)
        fail_msg("restore: %s", virGetLastErrorMessage());
    if (qtJobEnd(job) != VIR_JOB_COMPLETE)
        fail_msg("restore: %s", qtJobError(job));
    virJobDestroy(job);
    assert_int_equal(virDomainGetState(dom, &s, &r, 0), 0);
    assert_int_equal(s, VIR_DOMAIN_RUNNING);
    assert_int_equal(taps(out, sizeof(out)), 3);
    printf("taps after the restore:\n%s", out);
    assert_non_null(strstr(out, " " BR " fe:54:00:aa:00:01"));
    assert_non_null(strstr(out, " " BR " fe:54:00:aa:00:02"));
    assert_non_null(strstr(out, " " BR " fe:54:00:aa:00:03"));
    int ch = channelOpen(t, "gnet");
    channel(ch, "ping 192.168.130.1", out, sizeof(out));
    assert_string_equal(out, "reachable 192.168.130.1");
    close(ch);
    assert_int_equal(unlink(img), 0);
}

static void test_guest_dhcp(void **state)
{
    qemuT *t = *state;
    virConnectPtr nc, other;
    virNetworkPtr net, got, *list = NULL;
    char out[2048], cmd[1024], lease1[64], lease2[64];
    char *xml;

    /* The networks are the qemu connection's: defined, listed, looked
     * up through it, stored under its ?root=. */
    nc = t->conn = qtOpen(t);
    assert_non_null(net = virNetworkDefineXML(nc, netXML));
    snprintf(cmd, sizeof(cmd), "%s/" NET ".net", netDir);
    assert_int_equal(access(cmd, F_OK), 0);
    assert_int_equal(virConnectListAllNetworks(nc, &list, VIR_CONNECT_LIST_NETWORKS_INACTIVE |
                                               VIR_CONNECT_LIST_NETWORKS_PERSISTENT), 1);
    assert_string_equal(virNetworkGetName(list[0]), NET);
    virNetworkFree(list[0]);
    free(list);
    assert_int_equal(virConnectListAllNetworks(nc, NULL, VIR_CONNECT_LIST_NETWORKS_ACTIVE), 0);
    assert_non_null(got = virNetworkLookupByName(nc, NET));
    assert_int_equal(virNetworkIsActive(got), 0);
    assert_non_null(xml = virNetworkGetXMLDesc(got, 0));
    assert_non_null(strstr(xml, "<bridge name='" BR "'"));
    free(xml);
    virNetworkFree(got);
    /* network:///system keeps its networks elsewhere ($VIRTSUP_NETWORK_DIR
     * here): it does not see this one. */
    assert_non_null(other = virConnectOpen("network:///system"));
    assert_null(virNetworkLookupByName(other, NET));
    assert_int_equal(virGetLastError()->code, VIR_ERR_NO_NETWORK);
    virConnectClose(other);
    snprintf(cmd, sizeof(cmd), "%s/" NET ".net", otherDir);
    assert_int_equal(access(cmd, F_OK), -1);

    /* The network is defined, not active: refused, naming it. */
    startRefused(t, "inactive", nicsXML, "network '" NET "' is not active");
    /* No such network; no such bridge. */
    startRefused(t, "nonet", "<interface type='network'><source network='nope'/></interface>",
                 "nope");
    startRefused(t, "nobridge", "<interface type='bridge'><source bridge='vnope0'/></interface>",
                 "bridge 'vnope0' does not exist");

    netStart(net);
    assert_int_equal(virConnectListAllNetworks(nc, NULL, VIR_CONNECT_LIST_NETWORKS_ACTIVE), 1);
    assert_int_equal(virNetworkIsActive(net), 1);
    pid_t dnsmasq = 0, shim = 0;
    {
        char p[600];
        virShimStatus ss;
        snprintf(p, sizeof(p), "%s/run/" NET "/shim", netDir);
        assert_int_equal(virShimStateRead(p, &ss), 0);
        dnsmasq = ss.child_pid;
        shim = ss.shim_pid;
    }

    /* The guest, with one interface of each kind on the network's bridge. */
    virDomainPtr dom = virDomainDefineXML(t->conn, guestXML(t, "gnet", nicsXML));
    if (!dom)
        fail_msg("define: %s", virGetLastErrorMessage());
    virJobPtr job = virDomainCreateJob(dom, 0);
    if (!job)
        fail_msg("start: %s", virGetLastErrorMessage());
    if (qtJobEnd(job) != VIR_JOB_COMPLETE)
        fail_msg("the guest did not start: %s", qtJobError(job));
    virJobDestroy(job);

    /* Three taps, on the bridge, with the guests' MACs (first byte fe). */
    int ntaps = taps(out, sizeof(out));
    printf("taps:\n%s", out);
    assert_int_equal(ntaps, 3);
    assert_non_null(strstr(out, " " BR " fe:54:00:aa:00:01"));
    assert_non_null(strstr(out, " " BR " fe:54:00:aa:00:02"));
    assert_non_null(strstr(out, " " BR " fe:54:00:aa:00:03"));

    /* A start that fails after its taps were made (QEMU cannot read the
     * kernel) leaves none of them. */
    snprintf(cmd, sizeof(cmd), "<domain type='qemu'><name>badkernel</name><memory unit='MiB'>64"
             "</memory><os><type>hvm</type><kernel>/nonexistent/vmlinuz</kernel></os><devices>"
             "<interface type='network'><source network='" NET "'/></interface></devices>"
             "</domain>");
    job = virDomainCreateLinuxJob(t->conn, cmd, 0);
    assert_non_null(job);
    assert_int_equal(qtJobEnd(job), VIR_JOB_FAILED);
    printf("badkernel: %s\n", qtJobError(job));
    assert_non_null(strstr(qtJobError(job), "/nonexistent/vmlinuz"));
    virJobDestroy(job);
    assert_true(TEST_WAIT_UNTIL(tapCount() == 3, TEST_TIMEOUT_MS));

    /* Both interfaces get a lease from the network's dnsmasq and reach
     * the bridge. */
    waitBooted(t, "gnet");
    int ch = channelOpen(t, "gnet");
    guestLease(ch, MAC1, "virtio, network", lease1, sizeof(lease1));
    guestLease(ch, MAC2, "virtio, bridge", lease2, sizeof(lease2));
    assert_string_not_equal(lease1, lease2);
    /* The e1000 is on the guest's PCI bus (Intel 82540EM). */
    channel(ch, "sh cat /sys/bus/pci/devices/*/vendor /sys/bus/pci/devices/*/device", out,
            sizeof(out));
    assert_non_null(strstr(out, "0x8086"));
    assert_non_null(strstr(out, "0x100e"));
    channel(ch, "ping 192.168.130.1", out, sizeof(out));
    assert_string_equal(out, "reachable 192.168.130.1");
    /* dnsmasq recorded both leases, for the guest's MACs. */
    snprintf(cmd, sizeof(cmd), "grep -q ' " MAC1 " %s ' %s/run/" NET "/leases/dnsmasq.leases && "
             "grep -q ' " MAC2 " %s ' %s/run/" NET "/leases/dnsmasq.leases",
             lease1, netDir, lease2, netDir);
    if (netTestSh(cmd) != 0) {
        snprintf(cmd, sizeof(cmd), "cat %s/run/" NET "/leases/dnsmasq.leases", netDir);
        (void)netTestSh(cmd);
        fail_msg("dnsmasq has not recorded the leases %s and %s", lease1, lease2);
    }
    close(ch);

    /* A restored guest gets its taps too. */
    saveRestore(t, dom);

    /* Destroy the network while the guest runs: nothing of the network
     * is left; the guest's taps are detached (on no bridge) and the guest
     * runs on. */
    char table[96];
    assert_int_equal(virNetworkDestroy(net), 0);
    netTableName(NET, table, sizeof(table));
    assert_int_equal(netTestSh("ip link show " BR " >/dev/null 2>&1"), 1);
    assert_int_equal(virNetlinkNftTableExists(NFPROTO_IPV4, table), 0);
    assert_int_equal(virNetlinkUDPBound(67, 0, 0), 0);
    assert_true(TEST_WAIT_UNTIL(!testProcessAlive(dnsmasq), TEST_TIMEOUT_MS));
    assert_true(TEST_WAIT_UNTIL(!testProcessAlive(shim), TEST_TIMEOUT_MS));
    assert_int_equal(taps(out, sizeof(out)), 3);
    printf("taps after the network's destroy:\n%s", out);
    assert_null(strstr(out, " " BR " "));
    assert_int_equal(virDomainIsActive(dom), 1);

    /* Destroy the guest: QEMU goes, and its taps with it. */
    assert_int_equal(virDomainDestroy(dom), 0);
    assert_true(TEST_WAIT_UNTIL(tapCount() == 0, TEST_TIMEOUT_MS));
    assert_int_equal(virDomainUndefine(dom), 0);
    virDomainFree(dom);

    snprintf(cmd, sizeof(cmd), "test ! -e %s/run/" NET " && test ! -e %s/run/" NET ".state",
             netDir, netDir);
    assert_int_equal(netTestSh(cmd), 0);
    assert_int_equal(virNetworkUndefine(net), 0);
    virNetworkFree(net);
    assert_int_equal(virConnectListAllNetworks(nc, NULL, 0), 0);
    assert_null(virNetworkLookupByName(nc, NET));
    assert_int_equal(virGetLastError()->code, VIR_ERR_NO_NETWORK);
}

static int setupNet(void **state)
{
    char tmpl[] = "/tmp/virtsup-qnet-XXXXXX", p[600];
    assert_non_null(mkdtemp(tmpl));
    otherDir = strdup(tmpl);
    assert_int_equal(setenv("VIRTSUP_NETWORK_DIR", otherDir, 1), 0);
    /* The tree is 0755 (QEMU, and dnsmasq of another uid, read in it). */
    setupT(state);
    snprintf(p, sizeof(p), "%s/network", ((qemuT *)*state)->root);
    netDir = strdup(p);
    return 0;
}

static int teardownNet(void **state)
{
    char p[600];
    virShimStatus ss;

    /* A failed test may leave dnsmasq and its shim: kill them by identity. */
    snprintf(p, sizeof(p), "%s/run/" NET "/shim", netDir);
    bool quiet = virErrorSetQuiet(true);
    int rc = virShimStateRead(p, &ss);
    virErrorSetQuiet(quiet);
    if (rc == 0) {
        if (ss.child_state != VIR_SHIM_CHILD_EXITED)
            (void)virProcessKillIdentity(ss.child_pid, ss.child_start, SIGKILL);
        (void)virProcessKillIdentity(ss.shim_pid, ss.shim_start, SIGKILL);
    }
    virResetLastError();
    qtTeardown(state);
    testRemoveDir(otherDir);
    free(otherDir);
    free(netDir);
    return 0;
}

int main(void)
{
    /* The guest first: building it may fetch the kernel package, which
     * the private namespace could not. */
    int rc = qgPrepare();
    if (rc)
        return rc;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_session_refused, setupNet, teardownNet),
        cmocka_unit_test_setup_teardown(test_guest_dhcp, setupNet, teardownNet),
    };
    NET_TEST_MAIN_DNSMASQ(tests, NULL, NULL);
}
