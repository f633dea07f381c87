/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * start-worker.c: the op "network.start": bring a checked network
 * definition up, phase by phase, in a worker that holds CAP_NET_ADMIN and
 * nothing else (no file, no path, no other process: it was given the
 * definition, an agent socket and the ip_forward file as descriptors).
 *
 *   checking   nothing in the way: the bridge's name, the subnet, the table
 *   bridge     the bridge, with its STP, delay, MTU and MAC
 *   addresses  the IPv4 address (and so the subnet's route)
 *   firewall   IPv4 forwarding on (nat, route), the network's nftables table
 *   DHCP       dnsmasq, started by the library's agent on request; ready
 *              once its sockets are open on the bridge
 *   up         the bridge set up
 *
 * A failure or a cancel at any phase undoes what the earlier phases did,
 * in reverse order, before the job reports: no bridge, table or dnsmasq is
 * left. (A worker killed before it could undo is cleaned up by the
 * library.) The test-only fault of the parameters makes a phase's real
 * call fail, crash the worker, or wait for cancellation.
 */
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <stdio.h>
#include <time.h>

#include <linux/netfilter.h>

#include "util/internal.h"
#undef VIR_FROM_THIS
#define VIR_FROM_THIS VIR_FROM_NETWORK
#include "util/virerror.h"
#include "util/virnetlink.h"
#include "drivers/network/network-worker.h"
#include "worker/job.h"

#define CANCELLED (-2)
/* dnsmasq opens its sockets in milliseconds; generous for a loaded host. */
#define DHCP_READY_MS 30000
/* Waiting for the agent to stop dnsmasq when rolling back. */
#define DHCP_STOP_MS 20000

typedef struct netStart {
    virWorkerJobPtr job;
    netStartParams p;
    virNetlinkSock *nl;
    int ifindex;
    int agentfd;
    int forwardfd;
    bool bridgeMade;
    bool tableMade;
    bool dnsmasqAsked;       /* START sent: STOP owed on rollback */
} netStart;

static const unsigned int phasePercent[NET_PHASE_LAST] = {
    [NET_PHASE_CHECK] = 5, [NET_PHASE_BRIDGE] = 20, [NET_PHASE_ADDRESSES] = 35,
    [NET_PHASE_FIREWALL] = 55, [NET_PHASE_DHCP] = 80, [NET_PHASE_UP] = 95,
};

static long long nowMs(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void sleepMs(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    (void)nanosleep(&ts, NULL);
}

/* Enter @phase: progress, the test fault, the cancel check. Returns 1
 * when the phase must fail its real call (fault "error"), 0 to go on,
 * CANCELLED. */
static int phaseBegin(netStart *st, netPhase phase)
{
    char text[64];

    snprintf(text, sizeof(text), "%s", netPhaseName(phase));
    virWorkerJobSetPhase(st->job, text);
    virWorkerJobUpdateAbs(st->job, 0, 0, phasePercent[phase]);
    if (st->p.faultPhase == phase) {
        switch (st->p.faultKind) {
        case NET_FAULT_ERROR:
            return virWorkerJobCancelRequested(st->job) ? CANCELLED : 1;
        case NET_FAULT_CRASH:
            (void)virWorkerJobInjectFault(st->job, "segv");
            break;
        case NET_FAULT_WAIT:
            /* Until the cancel arrives: its SIGTERM ends the sleep. */
            while (!virWorkerJobCancelRequested(st->job))
                sleepMs(50);
            break;
        case NET_FAULT_HANG:
            (void)virWorkerJobInjectFault(st->job, "hang");
            break;
        }
    }
    return virWorkerJobCancelRequested(st->job) ? CANCELLED : 0;
}

/* ---- the agent ---- */

static int agentSend(netStart *st, uint32_t type)
{
    netAgentMsg m;

    memset(&m, 0, sizeof(m));
    m.magic = NET_AGENT_MAGIC;
    m.type = type;
    if (send(st->agentfd, &m, sizeof(m), MSG_NOSIGNAL) != (ssize_t)sizeof(m)) {
        virReportSystemError(errno, "%s", "cannot reach the library's dnsmasq agent");
        return -1;
    }
    return 0;
}

/* Wait up to @ms for a message. 1 received, 0 none yet, -1 error (the
 * agent went away: the library is gone or closing). */
static int agentRecv(netStart *st, int ms, netAgentMsg *m)
{
    struct pollfd pfd = { .fd = st->agentfd, .events = POLLIN };
    ssize_t n;
    int rc = poll(&pfd, 1, ms);

    if (rc < 0)
        return errno == EINTR ? 0 : -1;
    if (rc == 0)
        return 0;
    n = recv(st->agentfd, m, sizeof(*m), MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return 0;
    if (n != (ssize_t)sizeof(*m) || m->magic != NET_AGENT_MAGIC) {
        virReportError(VIR_ERR_OPERATION_FAILED, "%s",
                       "the library's dnsmasq agent went away or sent garbage");
        return -1;
    }
    m->message[sizeof(m->message) - 1] = '\0';
    return 1;
}

/* ---- the phases ---- */

static int doCheck(netStart *st)
{
    const netDef *d = &st->p.def;
    return netCheckConflicts(st->nl, d->name, d->bridge, d->ipv4, d->prefix,
                                 NFPROTO_IPV4, st->p.table);
}

static int doBridge(netStart *st, bool fault)
{
    const netDef *d = &st->p.def;
    virNetlinkBridgeConf conf = { d->bridge, d->stp != 0, d->delay, d->mtu,
                               d->hasMac ? d->mac : NULL, st->p.owner };

    if (fault) {
        /* The real request, with an MTU the kernel refuses for a bridge. */
        conf.mtu = NET_MTU_MAX + 1;
    }
    if (virNetlinkBridgeCreate(st->nl, &conf, &st->ifindex) < 0)
        return -1;
    st->bridgeMade = true;
    return 0;
}

static int doAddresses(netStart *st, bool fault)
{
    const netDef *d = &st->p.def;
    char what[128];

    if (fault) {
        snprintf(what, sizeof(what), "cannot add the address of network '%s'", d->name);
        return virNetlinkFaultRequest(st->nl, st->ifindex, what);
    }
    if (!d->ipv4)
        return 0;
    return virNetlinkAddrAdd(st->nl, st->ifindex, d->bridge, d->ipv4, d->prefix);
}

static int doFirewall(netStart *st, bool fault)
{
    const netDef *d = &st->p.def;

    if (st->forwardfd >= 0 && d->forward != NET_FORWARD_NONE) {
        if (pwrite(st->forwardfd, "1\n", 2, 0) != 2) {
            virReportSystemError(errno, "cannot enable IPv4 forwarding for network '%s'",
                                 d->name);
            return -1;
        }
    }
    if (netNftInstall(d, st->p.table, st->p.owner, fault) < 0)
        return -1;
    st->tableMade = true;
    return 0;
}

/* dnsmasq's sockets: DHCP on the bridge, DNS on the address. */
static int dnsmasqReady(netStart *st)
{
    int rc;

    if (st->p.waitDHCP && (rc = virNetlinkUDPBound(67, 0, st->ifindex)) <= 0)
        return rc;
    if (st->p.waitDNS && (rc = virNetlinkUDPBound(53, st->p.def.ipv4, 0)) <= 0)
        return rc;
    return 1;
}

static int doDHCP(netStart *st)
{
    long long deadline = nowMs() + DHCP_READY_MS;
    bool running = false;
    netAgentMsg m;
    int rc;

    if (st->agentfd < 0)
        return 0;
    if (agentSend(st, NET_AGENT_START) < 0)
        return -1;
    st->dnsmasqAsked = true;
    for (;;) {
        if (virWorkerJobCancelRequested(st->job))
            return CANCELLED;
        if ((rc = agentRecv(st, running ? 5 : 50, &m)) < 0)
            return -1;
        if (rc > 0) {
            if (m.type == NET_AGENT_STARTED) {
                running = true;
            } else if (m.type == NET_AGENT_FAILED || m.type == NET_AGENT_EXITED) {
                /* Nothing left to stop. */
                st->dnsmasqAsked = false;
                virReportError(VIR_ERR_OPERATION_FAILED,
                               "dnsmasq of network '%s' failed to start: %s",
                               st->p.def.name, m.message[0] ? m.message : "no reason given");
                return -1;
            }
        }
        if (running && (rc = dnsmasqReady(st)) != 0)
            return rc < 0 ? -1 : 0;
        if (nowMs() > deadline) {
            virReportError(VIR_ERR_OPERATION_TIMEOUT,
                           "dnsmasq of network '%s' did not open its sockets within %d s",
                           st->p.def.name, DHCP_READY_MS / 1000);
            return -1;
        }
    }
}

static int doUp(netStart *st, bool fault)
{
    if (fault)
        return virNetlinkFaultRequest(st->nl, st->ifindex, "cannot set the network's bridge up");
    return virNetlinkLinkSetUp(st->nl, st->ifindex, st->p.def.bridge, true);
}

/* Undo in reverse order, whatever the earlier phases did. Errors are
 * reported but do not stop the rest; the caller's error is kept. */
static void rollback(netStart *st)
{
    virErrorPtr saved = virSaveLastError();
    netAgentMsg m;

    virWorkerJobSetPhase(st->job, "rolling back");
    if (st->dnsmasqAsked && agentSend(st, NET_AGENT_STOP) == 0) {
        long long deadline = nowMs() + DHCP_STOP_MS;
        int rc;
        while (nowMs() < deadline) {
            if ((rc = agentRecv(st, 100, &m)) < 0)
                break;
            if (rc > 0 && (m.type == NET_AGENT_STOPPED || m.type == NET_AGENT_EXITED ||
                           m.type == NET_AGENT_FAILED))
                break;
        }
    }
    if (st->tableMade)
        (void)virNetlinkNftTableDeleteOwned(NFPROTO_IPV4, st->p.table, st->p.owner);
    if (st->bridgeMade)
        (void)virNetlinkLinkDeleteOwned(st->nl, st->p.def.bridge, st->p.def.mac, st->p.owner);
    virRestoreLastError(&saved);
}

int netStartRun(virWorkerJobPtr job, const netStartParams *p, int agentfd, int forwardfd,
                int *ifindex)
{
    netStart st = { .job = job, .p = *p, .agentfd = agentfd, .forwardfd = forwardfd };
    static int (*const phases[])(netStart *, bool) = {
        [NET_PHASE_BRIDGE] = doBridge, [NET_PHASE_ADDRESSES] = doAddresses,
        [NET_PHASE_FIREWALL] = doFirewall, [NET_PHASE_UP] = doUp,
    };
    int rc = 0;

    virWorkerJobInitialize(job, 0);
    if (!(st.nl = virNetlinkOpen()))
        return -1;
    for (uint32_t ph = NET_PHASE_CHECK; ph < NET_PHASE_LAST && rc == 0; ph++) {
        int fault = phaseBegin(&st, ph);
        if (fault == CANCELLED) {
            rc = CANCELLED;
            break;
        }
        if (ph == NET_PHASE_CHECK)
            rc = fault ? virNetlinkFaultRequest(st.nl, 0, "cannot look at the host's network") :
                 doCheck(&st);
        else if (ph == NET_PHASE_DHCP)
            rc = doDHCP(&st);   /* a DHCP fault is the library's: dnsmasq fails for real */
        else
            rc = phases[ph](&st, fault == 1);
    }
    if (rc == 0 && virWorkerJobCancelRequested(job))
        rc = CANCELLED;
    if (rc != 0)
        rollback(&st);
    else
        *ifindex = st.ifindex;
    virNetlinkClose(st.nl);
    return rc;
}

static void netStartOp(virWorkerJobPtr job, const void *params, size_t len)
{
    netStartParams *p = malloc(sizeof(*p));
    netStartResult res = { NET_START_RESULT_MAGIC, 0 };
    const char *why = NULL;
    int rc, ifindex = 0;

    if (!p) {
        virWorkerJobFinishFailure(job, VIR_ERR_NO_MEMORY, "%s", "out of memory");
        return;
    }
    if (netStartParamsCheck(params, len, &why) < 0) {
        virWorkerJobFinishFailure(job, VIR_ERR_INTERNAL_ERROR, "bad start parameters: %s", why);
        free(p);
        return;
    }
    memcpy(p, params, sizeof(*p));
    rc = netStartRun(job, p,
                     p->agentRes >= 0 ? virWorkerJobResourceFD(job, (unsigned int)p->agentRes) : -1,
                     p->forwardRes >= 0 ? virWorkerJobResourceFD(job, (unsigned int)p->forwardRes) : -1,
                     &ifindex);
    free(p);
    if (rc == CANCELLED) {
        virWorkerJobFinishCancel(job);
    } else if (rc < 0) {
        virWorkerJobFinishError(job);
    } else {
        res.ifindex = ifindex;
        if (virWorkerJobSetResult(job, &res, sizeof(res)) < 0) {
            virWorkerJobFinishFailure(job, VIR_ERR_INTERNAL_ERROR, "%s",
                                      "cannot attach the result to the job");
            return;
        }
        virWorkerJobUpdateAbs(job, 0, 0, 100);
        virWorkerJobSetPhase(job, "up");
        virWorkerJobFinishSuccess(job);
    }
}

VIR_WORKER_OP_REGISTER(netStartOpReg, NET_OP_START, netStartOp);
