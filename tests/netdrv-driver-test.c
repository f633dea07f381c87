/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * netdrv-driver-test.c: the network driver end to end through the public
 * API on network:///system, in a private network namespace, with real
 * workers, a real dnsmasq under its virtsup-shim and a state directory of
 * the test's own ($VIRTSUP_NETWORK_DIR): define, list, lookup, XML,
 * start as a job, found again by the next connection, dnsmasq's death
 * noticed at once by the connection's watcher (it is started again), destroy removing every trace, undefine;
 * a fault, a crash and a cancel at each phase leave nothing behind; and
 * the watcher scans again, unprompted, after a scan that could not read a
 * network's state.
 */
#include <dirent.h>
#include <fcntl.h>
#include <linux/netfilter.h>
#include <net/if.h>
#include <pwd.h>
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/stat.h>

#include "jobtest.h"
#include "nettest.h"
#include "drivers/network/network-shared.h"
#include "drivers/network/network_driver.h"
#include "util/viralloc.h"
#include "util/shimproto.h"
#include "util/virnetdevtap.h"
#include "util/virprocess.h"

static char *dir;

static const char natXML[] =
    "<network>\n"
    "  <name>nd1</name>\n"
    "  <forward mode='nat'/>\n"
    "  <bridge name='vnd1' stp='off' delay='0'/>\n"
    "  <ip address='192.168.120.1' netmask='255.255.255.0'>\n"
    "    <dhcp><range start='192.168.120.2' end='192.168.120.50'/></dhcp>\n"
    "  </ip>\n"
    "</network>\n";

static virConnectPtr connOpen(void)
{
    virConnectPtr c = virConnectOpen("network:///system");
    if (!c)
        fail_msg("network:///system: %s", virGetLastErrorMessage());
    return c;
}

static bool linkExists(const char *name)
{
    virNetlinkSock *nl = virNetlinkOpen();
    virNetlinkLink l;
    int rc = virNetlinkLinkGet(nl, name, &l);
    virNetlinkClose(nl);
    assert_true(rc >= 0);
    return rc == 1;
}

/* What dnsmasq's shim recorded for network @name; false when none. */
static bool shimState(const char *name, virShimStatus *st)
{
    char p[600];
    int fd;
    bool ok;

    snprintf(p, sizeof(p), "%s/run/%s/shim/state", dir, name);
    if ((fd = open(p, O_RDONLY | O_CLOEXEC)) < 0)
        return false;
    ok = read(fd, st, sizeof(*st)) == (ssize_t)sizeof(*st);
    close(fd);
    return ok && st->magic == VIR_SHIM_STATUS_MAGIC;
}

/* @rel@name@ext exists under the state directory. */
static bool pathExists(const char *rel, const char *name, const char *ext)
{
    char p[600];
    snprintf(p, sizeof(p), "%s/%s%s%s", dir, rel, name, ext);
    return access(p, F_OK) == 0;
}

/* Nothing of network @name (bridge @br) is left: no link, table, DHCP
 * socket, run files; @pids (dnsmasq, its shim) are gone. */
static void assertNothingLeft(const char *name, const char *br, const pid_t *pids, size_t n)
{
    char table[96];

    netTableName(name, table, sizeof(table));
    assert_false(linkExists(br));
    assert_int_equal(virNetlinkNftTableExists(NFPROTO_IPV4, table), 0);
    assert_int_equal(virNetlinkUDPBound(67, 0, 0), 0);
    assert_false(pathExists("run/", name, ""));
    assert_false(pathExists("run/", name, ".state"));
    for (size_t i = 0; i < n; i++) {
        if (pids[i] > 0)
            assert_true(TEST_WAIT_UNTIL(!testProcessAlive(pids[i]), TEST_TIMEOUT_MS));
    }
}

/* A guest on bridge @br: a veth pair whose far end sits in a network
 * namespace of its own (a process this test starts, and kills by pid),
 * where busybox's DHCP client asks for a lease, configures what it got,
 * and pings @gw. The address leased is written to @leaseOut. */
static int guestDHCP(const char *br, const char *gw, char *leaseOut, size_t len)
{
    char script[600], leasef[600], cmd[4096];
    FILE *f;
    int rc;

    snprintf(script, sizeof(script), "%s/udhcpc.sh", dir);
    snprintf(leasef, sizeof(leasef), "%s/guest-lease", dir);
    f = fopen(script, "w");
    assert_non_null(f);
    fprintf(f, "#!/bin/sh\n[ \"$1\" = bound ] || exit 0\n"
               "ip addr add \"$ip/$subnet\" dev \"$interface\" && echo \"$ip\" > %s\n", leasef);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(script, 0755), 0);
    snprintf(cmd, sizeof(cmd),
             "set -e; ip link add vguest type veth peer name vguestp; "
             "ip link set vguest master %s up; "
             "unshare -n sleep 300 & P=$!; trap 'kill $P' EXIT; "
             "n=0; while [ \"$(readlink /proc/$P/ns/net)\" = \"$(readlink /proc/self/ns/net)\" ]; do "
             "n=$((n+1)); [ $n -lt 100000 ]; done; "
             "ip link set vguestp netns $P; "
             "nsenter -t $P -n sh -c 'ip link set lo up && ip link set vguestp up && "
             "busybox udhcpc -i vguestp -n -q -t 10 -T 2 -s %s >/dev/null 2>&1 && "
             "busybox ping -c 1 -W 10 %s >/dev/null'",
             br, script, gw);
    rc = netTestSh(cmd);
    f = fopen(leasef, "r");
    leaseOut[0] = '\0';
    if (f) {
        if (!fgets(leaseOut, (int)len, f))
            leaseOut[0] = '\0';
        leaseOut[strcspn(leaseOut, "\n")] = '\0';
        fclose(f);
    }
    return rc;
}

static virNetworkPtr startWait(virNetworkPtr net)
{
    long long t0 = testNowMs();
    virJobPtr job = virNetworkCreateJob(net);
    virNetworkPtr got;

    if (!job)
        fail_msg("virNetworkCreateJob: %s", virGetLastErrorMessage());
    waitEnded(job);
    if (jobState(job) != VIR_JOB_COMPLETE)
        fail_msg("start failed: %s", jobErrorMessage(job));
    /* Reported for the notes, never asserted. */
    printf("start of network '%s' (call to end): %lld ms\n", virNetworkGetName(net),
           testNowMs() - t0);
    assert_non_null(got = virJobGetNetwork(job));
    virJobDestroy(job);
    return got;
}

static void test_lifecycle(void **s)
{
    (void)s;
    virConnectPtr c = connOpen();
    virNetworkPtr net, got, *list = NULL;
    virShimStatus ss;
    char *xml;
    int n;

    assert_non_null(net = virNetworkDefineXML(c, natXML));
    assert_string_equal(virNetworkGetName(net), "nd1");
    assert_true(pathExists("", "nd1", ".net"));
    assert_int_equal(virNetworkIsActive(net), 0);
    assert_int_equal(n = virConnectListAllNetworks(c, &list, VIR_CONNECT_LIST_NETWORKS_INACTIVE), 1);
    virNetworkFree(list[0]);
    free(list);
    assert_int_equal(virConnectListAllNetworks(c, NULL, VIR_CONNECT_LIST_NETWORKS_ACTIVE), 0);
    assert_non_null(xml = virNetworkGetXMLDesc(net, 0));
    assert_non_null(strstr(xml, "<name>nd1</name>"));
    assert_non_null(strstr(xml, "<bridge name='vnd1'"));
    assert_non_null(strstr(xml, "<mac address='52:54:00:"));   /* chosen at define */
    free(xml);

    /* Start: a job with phases, in a CAP_NET_ADMIN worker. */
    got = startWait(net);
    virNetworkFree(got);
    assert_int_equal(virNetworkIsActive(net), 1);
    assert_true(linkExists("vnd1"));
    assert_int_equal(netTestSh("ip -4 addr show vnd1 | grep -q 'inet 192.168.120.1/24'"), 0);
    assert_int_equal(netTestSh("nft list table ip virtsup_nd1 | grep -q masquerade"), 0);
    assert_int_equal(virNetlinkUDPBound(67, 0, 0), 1);
    assert_true(shimState("nd1", &ss));
    assert_int_equal(ss.child_state, VIR_SHIM_CHILD_RUNNING);
    pid_t dns1 = ss.child_pid, shim1 = ss.shim_pid;
    /* dnsmasq runs as the dnsmasq user, not root. */
    char cmd[200];
    snprintf(cmd, sizeof(cmd), "test \"$(stat -c %%U /proc/%d)\" = dnsmasq", (int)dns1);
    assert_int_equal(netTestSh(cmd), 0);
    /* A second start is refused. */
    assert_null(virNetworkCreateJob(net));
    assert_int_equal(virGetLastError()->code, VIR_ERR_OPERATION_INVALID);
    virNetworkFree(net);
    virConnectClose(c);

    /* The next connection finds it, still active, dnsmasq still there. */
    c = connOpen();
    assert_non_null(net = virNetworkLookupByName(c, "nd1"));
    assert_int_equal(virNetworkIsActive(net), 1);
    assert_true(testProcessAlive(dns1));
    assert_int_equal(virConnectListAllNetworks(c, NULL, VIR_CONNECT_LIST_NETWORKS_ACTIVE |
                                               VIR_CONNECT_LIST_NETWORKS_PERSISTENT), 1);
    /* A listing under allocation failure (swept as tests/alloc-test.c
     * does): each run lists the network or fails with VIR_ERR_NO_MEMORY. */
    virAllocTestHook(0);
    assert_int_equal(virConnectListAllNetworks(c, &list, 0), 1);
    long count = virAllocTestHook(0);
    virNetworkFree(list[0]);
    free(list);
    int failures = 0;
    for (long k = 1; k <= count; k++) {
        virAllocTestHook(k);
        n = virConnectListAllNetworks(c, &list, 0);
        virAllocTestHook(0);
        if (n < 0) {
            assert_int_equal(virGetLastError()->code, VIR_ERR_NO_MEMORY);
            failures++;
            continue;
        }
        assert_int_equal(n, 1);
        assert_string_equal(virNetworkGetName(list[0]), "nd1");
        virNetworkFree(list[0]);
        free(list);
    }
    printf("listing: %ld allocations, %d runs failed cleanly\n", count, failures);
    assert_true(failures > 0);

    /* dnsmasq dies: the connection's watcher notices at once (no call is
     * made meanwhile) and starts it again. */
    assert_int_equal(kill(dns1, SIGKILL), 0);
    assert_true(TEST_WAIT_UNTIL(shimState("nd1", &ss) && ss.child_pid != dns1 &&
                                ss.child_state == VIR_SHIM_CHILD_RUNNING, TEST_TIMEOUT_MS));
    assert_false(testProcessAlive(dns1));
    assert_int_equal(virNetworkIsActive(net), 1);
    assert_true(shimState("nd1", &ss));
    assert_true(ss.child_pid != dns1);
    pid_t dns2 = ss.child_pid, shim2 = ss.shim_pid;
    assert_true(TEST_WAIT_UNTIL(virNetlinkUDPBound(67, 0, 0) == 1, TEST_TIMEOUT_MS));

    /* A guest on the network gets a lease from its dnsmasq and reaches
     * the bridge; dnsmasq records the lease. */
    char lease[64], cmd2[700];
    if (guestDHCP("vnd1", "192.168.120.1", lease, sizeof(lease)) != 0)
        fail_msg("the guest got no lease or could not ping the bridge (lease '%s')", lease);
    assert_int_equal(strncmp(lease, "192.168.120.", 12), 0);
    snprintf(cmd2, sizeof(cmd2), "grep -q ' %s ' %s/run/nd1/leases/dnsmasq.leases", lease, dir);
    assert_int_equal(netTestSh(cmd2), 0);

    /* A guest's port on the bridge, found by the network's name. */
    int tapfd = -1;
    char tap[16], br[16];
    assert_int_equal(networkActiveBridge(c, "nd1", br), 0);
    assert_string_equal(br, "vnd1");
    virNetlinkLink bl, tl;
    virNetlinkSock *nl = virNetlinkOpen();
    assert_int_equal(virNetDevTapCreateInBridge(br, (uint8_t[6]){ 0x52, 0x54, 0, 1, 2, 3 },
                                                &tapfd, tap), 0);
    assert_int_equal(virNetlinkLinkGet(nl, "vnd1", &bl), 1);
    assert_int_equal(virNetlinkLinkGet(nl, tap, &tl), 1);
    assert_int_equal(tl.master, bl.ifindex);

    /* Destroy: every trace goes; the definition stays; the guest's tap is
     * detached (it lives on with its descriptor, on no bridge). */
    long long t0 = testNowMs();
    assert_int_equal(virNetworkDestroy(net), 0);
    printf("destroy of network 'nd1': %lld ms\n", testNowMs() - t0);
    assert_int_equal(virNetlinkLinkGet(nl, tap, &tl), 1);
    assert_int_equal(tl.master, 0);
    close(tapfd);
    assert_true(TEST_WAIT_UNTIL(virNetlinkLinkGet(nl, tap, &tl) == 0, TEST_TIMEOUT_MS));
    virNetlinkClose(nl);
    pid_t pids[] = { dns1, shim1, dns2, shim2 };
    assertNothingLeft("nd1", "vnd1", pids, ARRAY_CARDINALITY(pids));
    assert_int_equal(virNetworkIsActive(net), 0);
    assert_int_equal(networkActiveBridge(c, "nd1", br), -1);
    assert_int_equal(virGetLastError()->code, VIR_ERR_OPERATION_INVALID);
    assert_int_equal(virNetworkDestroy(net), -1);
    assert_int_equal(virGetLastError()->code, VIR_ERR_OPERATION_INVALID);

    /* Undefine: gone. */
    assert_int_equal(virNetworkUndefine(net), 0);
    assert_false(pathExists("", "nd1", ".net"));
    assert_null(virNetworkLookupByName(c, "nd1"));
    assert_int_equal(virGetLastError()->code, VIR_ERR_NO_NETWORK);
    assert_int_equal(virConnectListAllNetworks(c, NULL, 0), 0);
    virNetworkFree(net);
    virConnectClose(c);
}

/* CreateXML: a transient network, gone entirely at destroy. */
static void test_transient(void **s)
{
    (void)s;
    virConnectPtr c = connOpen();
    virJobPtr job;
    virNetworkPtr net;
    virShimStatus ss;

    assert_non_null(job = virNetworkCreateXMLJob(c, natXML));
    waitEnded(job);
    if (jobState(job) != VIR_JOB_COMPLETE)
        fail_msg("start failed: %s", jobErrorMessage(job));
    assert_non_null(net = virJobGetNetwork(job));
    virJobDestroy(job);
    assert_int_equal(virNetworkIsActive(net), 1);
    assert_false(pathExists("", "nd1", ".net"));
    assert_int_equal(virConnectListAllNetworks(c, NULL, VIR_CONNECT_LIST_NETWORKS_TRANSIENT), 1);
    assert_true(shimState("nd1", &ss));
    pid_t pids[] = { ss.child_pid, ss.shim_pid };
    /* Undefining a transient network is refused. */
    assert_int_equal(virNetworkUndefine(net), -1);
    assert_int_equal(virNetworkDestroy(net), 0);
    assertNothingLeft("nd1", "vnd1", pids, 2);
    assert_null(virNetworkLookupByName(c, "nd1"));
    virNetworkFree(net);

    /* Bad XML fails the call, naming what is wrong; nothing is made. */
    assert_null(virNetworkCreateXMLJob(c, "<network><name>x</name><bogus/></network>"));
    assert_non_null(strstr(virGetLastErrorMessage(), "bogus"));
    assert_false(pathExists("run/", "x", ".state"));
    virConnectClose(c);
}

/* A fault, a crash and a cancel at each phase: the job does not complete,
 * and nothing is left (the library cleans up after a killed worker). */
static void test_faults(void **s)
{
    (void)s;
    virConnectPtr c = connOpen();
    virNetworkPtr net;
    static const char *const kinds[] = { "error", "crash", "wait" };

    assert_non_null(net = virNetworkDefineXML(c, natXML));
    for (uint32_t ph = NET_PHASE_CHECK; ph < NET_PHASE_LAST; ph++) {
        for (size_t k = 0; k < ARRAY_CARDINALITY(kinds); k++) {
            char spec[64];
            virJobPtr job;
            virShimStatus ss;
            pid_t pids[2] = { 0, 0 };
            snprintf(spec, sizeof(spec), "%s:%s", netPhaseName(ph), kinds[k]);
            assert_int_equal(setenv("VIRTSUP_NETWORK_TEST_FAULT", spec, 1), 0);
            job = virNetworkCreateJob(net);
            if (!job)
                fail_msg("%s: %s", spec, virGetLastErrorMessage());
            if (STREQ(kinds[k], "wait")) {
                /* The worker waits in the phase for the cancel. */
                waitPhase(job, netPhaseName(ph));
                assert_true(virJobCancel(job) >= 0);
            }
            waitEnded(job);
            int want = STREQ(kinds[k], "wait") ? VIR_JOB_CANCELLED : VIR_JOB_FAILED;
            if (jobState(job) != want)
                fail_msg("%s: the job ended in state %d: %s", spec, jobState(job),
                         jobErrorMessage(job));
            printf("%s: %s\n", spec, jobErrorMessage(job));
            if (STREQ(kinds[k], "crash"))
                assert_non_null(strstr(jobErrorMessage(job), "SIGSEGV"));
            if (ph == NET_PHASE_DHCP && STREQ(kinds[k], "error"))
                assert_non_null(strstr(jobErrorMessage(job), "bad command line options"));
            if (shimState("nd1", &ss)) {
                pids[0] = ss.child_pid;
                pids[1] = ss.shim_pid;
            }
            virJobDestroy(job);
            assertNothingLeft("nd1", "vnd1", pids, 2);
            assert_int_equal(virNetworkIsActive(net), 0);
        }
    }
    assert_int_equal(unsetenv("VIRTSUP_NETWORK_TEST_FAULT"), 0);
    /* After all that, it starts. */
    virNetworkFree(startWait(net));
    assert_int_equal(virNetworkDestroy(net), 0);
    assert_int_equal(virNetworkUndefine(net), 0);
    virNetworkFree(net);
    virConnectClose(c);
}


/* Network nd1 (natXML) defined and started on @c: its dnsmasq runs, its
 * pid and its shim's in *@dns and *@shim. */
static void startNd1(virConnectPtr c, pid_t *dns, pid_t *shim)
{
    virNetworkPtr net, got;
    virShimStatus ss;

    assert_non_null(net = virNetworkDefineXML(c, natXML));
    got = startWait(net);
    virNetworkFree(got);
    virNetworkFree(net);
    assert_true(shimState("nd1", &ss));
    assert_int_equal(ss.child_state, VIR_SHIM_CHILD_RUNNING);
    *dns = ss.child_pid;
    *shim = ss.shim_pid;
}

/* nd1's dnsmasq was started again after @dns1 died: the new one runs.
 * Then nd1 destroyed through @c, nothing of it left (@shim1's and both
 * dnsmasqs' processes gone), and undefined. */
static void nd1RestartedThenGone(virConnectPtr c, pid_t dns1, pid_t shim1)
{
    virNetworkPtr net;
    virShimStatus ss;

    if (!TEST_WAIT_UNTIL(shimState("nd1", &ss) && ss.child_pid != dns1 &&
                         ss.child_state == VIR_SHIM_CHILD_RUNNING, TEST_TIMEOUT_MS))
        fail_msg("dnsmasq was not started again (its pid %d, state %d)", (int)ss.child_pid,
                 (int)ss.child_state);
    pid_t pids[] = { dns1, shim1, ss.child_pid, ss.shim_pid };
    assert_non_null(net = virNetworkLookupByName(c, "nd1"));
    assert_int_equal(virNetworkDestroy(net), 0);
    assertNothingLeft("nd1", "vnd1", pids, ARRAY_CARDINALITY(pids));
    assert_int_equal(virNetworkUndefine(net), 0);
    virNetworkFree(net);
}
/* The connection's watcher looks again, a little later, at a network
 * whose state it could not read, with nothing changing in the run
 * directory to wake it. Here the state file is damaged in place (its
 * first bytes) while a new connection's watcher makes its first scans,
 * so that it subscribes to no shim; dnsmasq is killed, which nobody then
 * sees, and the file is mended, in place again. Only a later scan of the
 * watcher's own can notice that dnsmasq died and start it again. */
static void test_watch_retry(void **s)
{
    (void)s;
    virConnectPtr c = connOpen();
    virShimStatus ss;
    char state[600], evbuf[4096];
    uint32_t magic = 0, damaged = 0;
    pid_t dns1, shim1;

    startNd1(c, &dns1, &shim1);
    /* Its watcher goes with it. */
    virConnectClose(c);

    snprintf(state, sizeof(state), "%s/run/nd1.state", dir);
    int fd = open(state, O_RDWR | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(pread(fd, &magic, sizeof(magic), 0), (ssize_t)sizeof(magic));
    assert_int_equal(pwrite(fd, &damaged, sizeof(damaged), 0), (ssize_t)sizeof(damaged));
    int in = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    assert_true(in >= 0);
    assert_true(inotify_add_watch(in, state, IN_CLOSE_NOWRITE) >= 0);

    /* A new connection: once it is open, only its watcher reads the file
     * (this test makes no call); a read means a scan that could not use
     * it, after which the watcher is subscribed to nothing. */
    c = connOpen();
    while (read(in, evbuf, sizeof(evbuf)) > 0)
        ;
    struct pollfd p = { in, POLLIN, 0 };
    assert_int_equal(poll(&p, 1, TEST_TIMEOUT_MS), 1);
    close(in);

    assert_int_equal(kill(dns1, SIGKILL), 0);
    assert_true(TEST_WAIT_UNTIL(shimState("nd1", &ss) && ss.child_pid == dns1 &&
                                ss.child_state == VIR_SHIM_CHILD_EXITED, TEST_TIMEOUT_MS));
    assert_int_equal(pwrite(fd, &magic, sizeof(magic), 0), (ssize_t)sizeof(magic));
    close(fd);

    /* Noticed by a later scan, and started again. */
    nd1RestartedThenGone(c, dns1, shim1);
    virConnectClose(c);
}

/* A connection without inotify (none here, or past the user's limits)
 * still starts again the dnsmasq of a network that another connection
 * started after it was opened: its watcher looks at the run directory
 * every 250 ms, finds the network, and follows its dnsmasq's shim. Before,
 * such a connection had no watcher at all: a dead dnsmasq was started
 * again only at the next call on its network. */
static void test_watch_no_inotify(void **s)
{
    (void)s;
    networkTestNoInotify(true);
    virConnectPtr blind = connOpen();
    networkTestNoInotify(false);
    virConnectPtr c = connOpen();
    pid_t dns1, shim1;

    startNd1(c, &dns1, &shim1);
    /* The starting connection and its watcher go: the blind one is the
     * only one left, and this test makes no call on it until dnsmasq
     * runs again. */
    virConnectClose(c);
    assert_int_equal(kill(dns1, SIGKILL), 0);
    nd1RestartedThenGone(blind, dns1, shim1);
    virConnectClose(blind);
}

static void test_uris(void **s)
{
    (void)s;
    assert_null(virConnectOpen("network:///session"));
    assert_non_null(strstr(virGetLastErrorMessage(), "CAP_NET_ADMIN"));
    assert_null(virConnectOpen("network:///other"));
    assert_int_equal(virGetLastError()->code, VIR_ERR_INVALID_ARG);
}

static int setup(void **s)
{
    (void)s;
    char tmpl[] = "/tmp/virtsup-netdrv-XXXXXX";
    if (!mkdtemp(tmpl))
        return -1;
    dir = strdup(tmpl);
    /* dnsmasq (another uid) reads its configuration below. */
    if (chmod(dir, 0755) < 0)
        return -1;
    return setenv("VIRTSUP_NETWORK_DIR", dir, 1);
}

static int teardown(void **s)
{
    (void)s;
    /* A failed test may leave a dnsmasq and its shim (they outlive us by
     * design): kill those this test started, by their recorded identity. */
    char p[600];
    snprintf(p, sizeof(p), "%s/run", dir);
    DIR *d = opendir(p);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        virShimStatus ss;
        if (e->d_name[0] == '.' || !shimState(e->d_name, &ss))
            continue;
        if (ss.child_state != VIR_SHIM_CHILD_EXITED)
            (void)virProcessKillIdentity(ss.child_pid, ss.child_start, SIGKILL);
        (void)virProcessKillIdentity(ss.shim_pid, ss.shim_start, SIGKILL);
    }
    if (d)
        closedir(d);
    testRemoveDir(dir);
    free(dir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uris),
        cmocka_unit_test(test_lifecycle),
        cmocka_unit_test(test_transient),
        cmocka_unit_test(test_faults),
        cmocka_unit_test(test_watch_retry),
        cmocka_unit_test(test_watch_no_inotify),
    };
    NET_TEST_MAIN_DNSMASQ(tests, setup, teardown);
}
