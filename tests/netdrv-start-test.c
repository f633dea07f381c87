/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * netdrv-start-test.c: the op "network.start" run by real workers holding
 * CAP_NET_ADMIN only, in a private network namespace, with this test
 * playing the library's dnsmasq agent (it starts a real dnsmasq, as the
 * dnsmasq user with the three capabilities it needs). A NAT network comes
 * up with its bridge, address, table and a dnsmasq serving on it; a fault
 * at each phase (the kernel, nftables or dnsmasq refusing) and a cancel at
 * each phase leave nothing behind; conflicts are refused before anything
 * changes, naming them, and what was there is untouched.
 */
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/netfilter.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "jobtest.h"
#include "nettest.h"
#include "drivers/network/network_conf.h"

extern char **environ;

static const virSupProfile startProfile = {
    .name = "net.start", .caps = 1ULL << CAP_NET_ADMIN, .syscalls = VIR_SUP_SYSCALLS_NETLINK,
    .libs = VIR_SUP_LIB_NFTABLES,
};
static const virSupOp opStart = {
    .name = NET_OP_START, .type = VIR_JOB_BOUNDED, .profile = &startProfile,
};

static char *dir;              /* conf and lease files */

/* ---- the agent: what the library does, done directly ---- */

typedef struct agent {
    int fd;                    /* our end of the pair */
    const char *conf;          /* dnsmasq's configuration */
    bool badStart;             /* start dnsmasq with an option it refuses */
    pid_t pid;                 /* the dnsmasq we started, 0 when none */
    pthread_t thread;
    int starts, stops;
} agent;

static void agentReply(agent *a, uint32_t type, int pid, const char *msg)
{
    netAgentMsg m;
    memset(&m, 0, sizeof(m));
    m.magic = NET_AGENT_MAGIC;
    m.type = type;
    m.pid = pid;
    snprintf(m.message, sizeof(m.message), "%s", msg ? msg : "");
    (void)send(a->fd, &m, sizeof(m), MSG_NOSIGNAL);
}

static pid_t spawnDnsmasq(agent *a, int *errpipe)
{
    char conf[600];
    int p[2];
    pid_t pid;
    posix_spawn_file_actions_t fa;
    snprintf(conf, sizeof(conf), "--conf-file=%s", a->conf);
    char *argv[] = { "setpriv", "--reuid=dnsmasq", "--regid=nogroup", "--clear-groups",
                     "--inh-caps=+net_admin,+net_bind_service,+net_raw",
                     "--ambient-caps=+net_admin,+net_bind_service,+net_raw",
                     "/usr/sbin/dnsmasq", "--keep-in-foreground", "--log-facility=-", conf,
                     a->badStart ? "--no-such-option" : NULL, NULL };
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, p[1], 2);
    assert_int_equal(posix_spawnp(&pid, "setpriv", &fa, NULL, argv, environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    close(p[1]);
    *errpipe = p[0];
    return pid;
}

/* dnsmasq has exited: reap it, collect its last words. (Polled: valgrind
 * knows no pidfd_open, and dnsmasq's stderr may close before it exits.) */
static bool agentReaped(agent *a, int *errfd, char *err, size_t *errlen, size_t errsz)
{
    int st;

    if (a->pid <= 0 || waitpid(a->pid, &st, WNOHANG) != a->pid)
        return false;
    while (*errfd >= 0 && *errlen < errsz - 1) {
        ssize_t n = read(*errfd, err + *errlen, errsz - 1 - *errlen);
        if (n <= 0)
            break;
        *errlen += (size_t)n;
        err[*errlen] = '\0';
    }
    a->pid = 0;
    return true;
}

static void *agentMain(void *opaque)
{
    agent *a = opaque;
    int errfd = -1;
    char err[400] = "";
    size_t errlen = 0;

    for (;;) {
        struct pollfd pfd[2] = { { a->fd, POLLIN, 0 }, { errfd, POLLIN, 0 } };
        if (poll(pfd, 2, a->pid > 0 ? 10 : -1) < 0)
            continue;
        if (pfd[1].revents) {
            ssize_t n = read(errfd, err + errlen, sizeof(err) - 1 - errlen);
            if (n > 0) {
                errlen += (size_t)n;
                err[errlen] = '\0';
            } else {
                close(errfd);
                errfd = -1;
            }
        }
        if (agentReaped(a, &errfd, err, &errlen, sizeof(err)))
            agentReply(a, NET_AGENT_EXITED, 0, err);
        if (pfd[0].revents) {
            netAgentMsg m;
            ssize_t n = recv(a->fd, &m, sizeof(m), 0);
            if (n <= 0)
                break;
            if (m.type == NET_AGENT_START) {
                a->starts++;
                errlen = 0;
                err[0] = '\0';
                a->pid = spawnDnsmasq(a, &errfd);
                agentReply(a, NET_AGENT_STARTED, a->pid, NULL);
            } else if (m.type == NET_AGENT_STOP) {
                a->stops++;
                if (a->pid > 0) {
                    int st;
                    kill(a->pid, SIGTERM);
                    waitpid(a->pid, &st, 0);
                    a->pid = 0;
                }
                agentReply(a, NET_AGENT_STOPPED, 0, NULL);
            }
        }
    }
    if (errfd >= 0)
        close(errfd);
    return NULL;
}

/* ---- a start job ---- */

typedef struct run {
    virJobPtr job;
    agent ag;
    int workerEnd;
    int fwdfd;
} run;

static netDef *natDef(const char *name, const char *bridge, uint32_t net24)
{
    netDef *d = calloc(1, sizeof(*d));
    assert_non_null(d);
    d->magic = NET_DEF_MAGIC;
    d->version = NET_DEF_VERSION;
    strcpy(d->name, name);
    strcpy(d->bridge, bridge);
    d->stp = 0;
    d->hasMac = 1;
    memcpy(d->mac, (uint8_t[6]){ 0x52, 0x54, 0x00, 0x00, (uint8_t)(net24 >> 8), 1 }, 6);
    d->forward = NET_FORWARD_NAT;
    d->natPortStart = 1024;
    d->natPortEnd = 65535;
    d->ipv4 = net24 | 1;
    d->prefix = 24;
    d->hasDhcp = 1;
    d->nranges = 1;
    d->ranges[0].start = net24 | 2;
    d->ranges[0].end = net24 | 100;
    const char *why = NULL;
    if (netDefCheck(d, true, &why) < 0)
        fail_msg("def: %s", why);
    return d;
}

static char confPath[600];

static void writeFile(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

static void startRun(run *r, virSupGroup *g, const netDef *d, uint32_t phase, uint32_t kind,
                     bool badStart)
{
    netStartParams *p = calloc(1, sizeof(*p));
    char leases[600];
    bool none;
    int sv[2], fds[2];

    assert_non_null(p);
    memset(r, 0, sizeof(*r));
    snprintf(confPath, sizeof(confPath), "%s/%s.conf", dir, d->name);
    snprintf(leases, sizeof(leases), "%s/%s.leases", dir, d->name);
    char *conf = netDnsmasqConf(d, leases, &none);
    assert_non_null(conf);
    writeFile(confPath, conf);
    free(conf);
    /* dnsmasq (uid dnsmasq) writes its leases there. */
    struct passwd *pw = getpwnam("dnsmasq");
    assert_non_null(pw);
    int lf = open(leases, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
    assert_true(lf >= 0);
    assert_int_equal(fchown(lf, pw->pw_uid, (gid_t)-1), 0);
    close(lf);

    assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
    r->ag.fd = sv[0];
    r->ag.conf = confPath;
    r->ag.badStart = badStart;
    r->workerEnd = sv[1];
    assert_int_equal(pthread_create(&r->ag.thread, NULL, agentMain, &r->ag), 0);
    r->fwdfd = open("/proc/sys/net/ipv4/ip_forward", O_WRONLY | O_CLOEXEC);
    assert_true(r->fwdfd >= 0);

    p->magic = NET_START_PARAMS_MAGIC;
    p->version = 1;
    p->faultPhase = phase;
    p->faultKind = kind;
    p->agentRes = 0;
    p->forwardRes = 1;
    p->waitDHCP = 1;
    p->waitDNS = 1;
    netTableName(d->name, p->table, sizeof(p->table));
    netOwnerFormat(d->name, 0x1234, p->owner);
    p->def = *d;
    fds[0] = sv[1];
    fds[1] = r->fwdfd;

    virSupJobParams sp;
    memset(&sp, 0, sizeof(sp));
    sp.op = &opStart;
    sp.target = d->name;
    sp.params = p;
    sp.paramslen = sizeof(*p);
    sp.fds = fds;
    sp.nfds = 2;
    sp.grace_ms = 3000;
    r->job = virSupJobCreate(g, &sp);
    if (!r->job)
        fail_msg("start job: %s", virGetLastErrorMessage());
    free(p);
    /* The worker has its own copies. */
    close(r->workerEnd);
    close(r->fwdfd);
}

/* End the agent (it sees our end shut) and return the dnsmasq it left
 * running, if any. */
static pid_t runFinish(run *r)
{
    shutdown(r->ag.fd, SHUT_RDWR);
    pthread_join(r->ag.thread, NULL);
    close(r->ag.fd);
    return r->ag.pid;
}

static virSupGroup *groupNew(void)
{
    virSupGroup *g = virSupGroupNew(NULL);
    if (!g)
        fail_msg("cannot start the supervisor: %s", virGetLastErrorMessage());
    return g;
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

/* Nothing of network @name (bridge @br) is left. */
static void assertNothingLeft(const char *name, const char *br, pid_t dnsmasq)
{
    char table[96];
    netTableName(name, table, sizeof(table));
    assert_false(linkExists(br));
    assert_int_equal(virNetlinkNftTableExists(NFPROTO_IPV4, table), 0);
    assert_int_equal(dnsmasq, 0);
    assert_int_equal(virNetlinkUDPBound(67, 0, 0), 0);
}

static void test_nat_up(void **s)
{
    (void)s;
    virSupGroup *g = groupNew();
    netDef *d = natDef("up1", "vup1", 0xc0a86400);
    run r;
    virNetlinkLink l;

    startRun(&r, g, d, NET_PHASE_NONE, NET_FAULT_NONE, false);
    waitEnded(r.job);
    if (jobState(r.job) != VIR_JOB_COMPLETE)
        fail_msg("start failed: %s", jobErrorMessage(r.job));
    virJobInfo info;
    assert_int_equal(virJobGetInfo(r.job, &info), 0);
    assert_int_equal(info.percentComplete, 100);

    virNetlinkSock *nl = virNetlinkOpen();
    assert_int_equal(virNetlinkLinkGet(nl, "vup1", &l), 1);
    assert_string_equal(l.kind, "bridge");
    assert_true(l.flags & IFF_UP);
    /* Marked as this start's: alias and table comment. */
    char owner[NET_OWNER_MAX], comment[256];
    netOwnerFormat("up1", 0x1234, owner);
    assert_string_equal(l.alias, owner);
    assert_int_equal(virNetlinkNftTableGet(NFPROTO_IPV4, "virtsup_up1", comment, sizeof(comment)), 1);
    assert_string_equal(comment, owner);
    virNetlinkClose(nl);
    assert_int_equal(netTestSh("ip -4 addr show vup1 | grep -q 'inet 192.168.100.1/24'"), 0);
    assert_int_equal(netTestSh("grep -qx 1 /proc/sys/net/ipv4/ip_forward"), 0);
    assert_int_equal(netTestSh("nft list table ip virtsup_up1 | grep -q masquerade"), 0);
    assert_int_equal(virNetlinkUDPBound(67, 0, l.ifindex), 1);
    assert_int_equal(virNetlinkUDPBound(53, 0xc0a86401, 0), 1);
    assert_int_equal(r.ag.starts, 1);
    assert_int_equal(r.ag.stops, 0);

    /* The worker is gone, so is the agent (as in the library, where the
     * shim keeps dnsmasq); dnsmasq runs on. Tear down as destroy will:
     * dnsmasq, table, bridge. */
    pid_t pid = runFinish(&r);
    int st;
    assert_true(pid > 0);
    assert_int_equal(kill(pid, SIGTERM), 0);
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_int_equal(virNetlinkNftTableDelete(NFPROTO_IPV4, "virtsup_up1"), 1);
    nl = virNetlinkOpen();
    assert_int_equal(virNetlinkLinkDelete(nl, l.ifindex, "vup1"), 1);
    virNetlinkClose(nl);
    assertNothingLeft("up1", "vup1", 0);
    assert_int_equal(virJobDestroy(r.job), 0);
    virSupGroupClose(g);
    free(d);
}

/* A fault at each phase: the job fails with the real error; nothing is left. */
static void test_faults(void **s)
{
    (void)s;
    static const struct {
        uint32_t phase;
        const char *needle;
    } cases[] = {
        { NET_PHASE_CHECK, "cannot look at the host's network" },
        { NET_PHASE_BRIDGE, "cannot create bridge 'vf1'" },
        { NET_PHASE_ADDRESSES, "cannot add the address of network 'f1'" },
        { NET_PHASE_FIREWALL, "cannot install the firewall rules of network 'f1': nftables:" },
        { NET_PHASE_DHCP, "dnsmasq of network 'f1' failed to start" },
        { NET_PHASE_UP, "cannot set the network's bridge up" },
    };
    virSupGroup *g = groupNew();
    netDef *d = natDef("f1", "vf1", 0xc0a86500);

    for (size_t i = 0; i < ARRAY_CARDINALITY(cases); i++) {
        run r;
        bool dhcp = cases[i].phase == NET_PHASE_DHCP;
        startRun(&r, g, d, dhcp ? NET_PHASE_NONE : cases[i].phase, NET_FAULT_ERROR, dhcp);
        waitEnded(r.job);
        if (jobState(r.job) != VIR_JOB_FAILED)
            fail_msg("phase %s: job did not fail (%d)", netPhaseName(cases[i].phase),
                     jobState(r.job));
        if (!strstr(jobErrorMessage(r.job), cases[i].needle))
            fail_msg("phase %s: error '%s' lacks '%s'", netPhaseName(cases[i].phase),
                     jobErrorMessage(r.job), cases[i].needle);
        if (dhcp)   /* dnsmasq's own words reach the job */
            assert_non_null(strstr(jobErrorMessage(r.job), "bad command line options"));
        pid_t left = runFinish(&r);
        assertNothingLeft("f1", "vf1", left);
        assert_int_equal(virJobDestroy(r.job), 0);
    }
    virSupGroupClose(g);
    free(d);
}

/* A cancel at each phase: the job ends cancelled; nothing is left. */
static void test_cancel(void **s)
{
    (void)s;
    virSupGroup *g = groupNew();
    netDef *d = natDef("c1", "vc1", 0xc0a86600);

    for (uint32_t ph = NET_PHASE_CHECK; ph < NET_PHASE_LAST; ph++) {
        run r;
        startRun(&r, g, d, ph, NET_FAULT_WAIT, false);
        /* Wait until the worker shows the phase. */
        waitPhase(r.job, netPhaseName(ph));
        assert_int_equal(virJobCancel(r.job), 0);
        waitEnded(r.job);
        if (jobState(r.job) != VIR_JOB_CANCELLED)
            fail_msg("phase %s: job not cancelled: %s", netPhaseName(ph), jobErrorMessage(r.job));
        pid_t left = runFinish(&r);
        assertNothingLeft("c1", "vc1", left);
        if (ph > NET_PHASE_DHCP) {
            assert_int_equal(r.ag.starts, 1);
            assert_int_equal(r.ag.stops, 1);
        }
        assert_int_equal(virJobDestroy(r.job), 0);
    }
    virSupGroupClose(g);
    free(d);
}

/* What is in the way is named, and stays as it was. */
static void test_conflicts(void **s)
{
    (void)s;
    virSupGroup *g = groupNew();
    netDef *d = natDef("k1", "vk1", 0xc0a86700);
    run r;

    /* A link of the bridge's name. */
    assert_int_equal(netTestSh("ip link add vk1 type veth peer name vk1p"), 0);
    startRun(&r, g, d, NET_PHASE_NONE, NET_FAULT_NONE, false);
    waitEnded(r.job);
    assert_int_equal(jobState(r.job), VIR_JOB_FAILED);
    assert_non_null(strstr(jobErrorMessage(r.job),
                           "network interface 'vk1' already exists (index"));
    assert_int_equal(virJobGetError(r.job)->code, VIR_ERR_RESOURCE_BUSY);
    assert_int_equal(runFinish(&r), 0);
    assert_int_equal(r.ag.starts, 0);
    assert_true(linkExists("vk1"));
    assert_int_equal(netTestSh("ip link del vk1"), 0);
    virJobDestroy(r.job);

    /* A route covering the subnet (an address on another link). */
    assert_int_equal(netTestSh("ip link add vkother type veth peer name vkotherp && "
                               "ip addr add 192.168.96.5/20 dev vkother && ip link set vkother up"), 0);
    startRun(&r, g, d, NET_PHASE_NONE, NET_FAULT_NONE, false);
    waitEnded(r.job);
    assert_int_equal(jobState(r.job), VIR_JOB_FAILED);
    assert_non_null(strstr(jobErrorMessage(r.job),
                           "address range 192.168.103.0/24 collides with route "
                           "192.168.96.0/20 on 'vkother'"));
    assert_int_equal(runFinish(&r), 0);
    assert_false(linkExists("vk1"));
    assert_int_equal(netTestSh("ip -4 addr show vkother | grep -q 192.168.96.5/20"), 0);
    virJobDestroy(r.job);
    /* A host address alone (no route of its own) is seen too. */
    assert_int_equal(netTestSh("ip addr flush dev vkother && "
                               "ip addr add 192.168.103.9/32 dev vkother noprefixroute"), 0);
    startRun(&r, g, d, NET_PHASE_NONE, NET_FAULT_NONE, false);
    waitEnded(r.job);
    assert_int_equal(jobState(r.job), VIR_JOB_FAILED);
    assert_non_null(strstr(jobErrorMessage(r.job),
                           "collides with address 192.168.103.9/32 on 'vkother'"));
    runFinish(&r);
    virJobDestroy(r.job);
    assert_int_equal(netTestSh("ip link del vkother"), 0);

    /* A table of the network's name. */
    assert_int_equal(netTestSh("nft add table ip virtsup_k1 && nft add chain ip virtsup_k1 mine"), 0);
    startRun(&r, g, d, NET_PHASE_NONE, NET_FAULT_NONE, false);
    waitEnded(r.job);
    assert_int_equal(jobState(r.job), VIR_JOB_FAILED);
    assert_non_null(strstr(jobErrorMessage(r.job), "nftables table 'virtsup_k1' already exists"));
    runFinish(&r);
    assert_false(linkExists("vk1"));
    assert_int_equal(netTestSh("nft list chain ip virtsup_k1 mine >/dev/null"), 0);
    assert_int_equal(netTestSh("nft delete table ip virtsup_k1"), 0);
    virJobDestroy(r.job);
    virSupGroupClose(g);
    free(d);
}

static int setup(void **s)
{
    (void)s;
    char tmpl[] = "/tmp/virtsup-netstart-XXXXXX";
    if (!mkdtemp(tmpl))
        return -1;
    dir = strdup(tmpl);
    /* dnsmasq (another uid) reads its configuration here. */
    return chmod(dir, 0755);
}

static int teardown(void **s)
{
    (void)s;
    testRemoveDir(dir);
    free(dir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nat_up),
        cmocka_unit_test(test_faults),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_conflicts),
    };
    NET_TEST_MAIN_DNSMASQ(tests, setup, teardown);
}
