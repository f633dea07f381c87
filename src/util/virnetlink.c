/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virnetlink.c: rtnetlink, nfnetlink and sock_diag requests with libmnl
 * (see virnetlink.h). Each request asks for an ack and waits for it, so an
 * error is reported by the call that caused it; the kernel's extended ack
 * text, when there is one, is part of the message.
 */
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/inet_diag.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <stdio.h>
#include <time.h>

#include "util/viralloc.h"
#define VIR_FROM_THIS VIR_FROM_NETWORK
#include "util/virerror.h"
#include "util/virnetlink.h"

/* Requests are small; a dump's reply holds as many messages as fit in
 * the reader's buffer, and the kernel never sends more than 32 KiB at once
 * to a reader that offers that much. */
/* Request buffers start zeroed: libmnl 1.0.4 leaves an attribute's
 * alignment padding unwritten, and stack bytes must not reach the kernel. */
#define NL_REQ_SIZE  4096
#define NL_RECV_SIZE 32768

struct virNetlinkSock {
    struct mnl_socket *nl;
    unsigned int portid;
    uint32_t seq;
};

/* What a request's callbacks collect. */
typedef struct nlReply {
    char kmsg[160];          /* the kernel's extended ack message */
    int (*data)(const struct nlmsghdr *nlh, void *opaque);
    void *opaque;
} nlReply;

static struct mnl_socket *sockOpen(int proto, unsigned int *portid)
{
    struct mnl_socket *nl = mnl_socket_open2(proto, SOCK_CLOEXEC);
    int one = 1;

    if (!nl) {
        virReportSystemError(errno, "%s", "cannot open a netlink socket");
        return NULL;
    }
    /* Best effort: the kernel's explanations, and errors without the
     * request echoed back. */
    (void)mnl_socket_setsockopt(nl, NETLINK_EXT_ACK, &one, sizeof(one));
    (void)mnl_socket_setsockopt(nl, NETLINK_CAP_ACK, &one, sizeof(one));
    if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
        virReportSystemError(errno, "%s", "cannot bind a netlink socket");
        mnl_socket_close(nl);
        return NULL;
    }
    *portid = mnl_socket_get_portid(nl);
    return nl;
}

virNetlinkSock *virNetlinkOpen(void)
{
    virNetlinkSock *s;

    if (!VIR_ALLOC(s))
        return NULL;
    if (!(s->nl = sockOpen(NETLINK_ROUTE, &s->portid))) {
        free(s);
        return NULL;
    }
    s->seq = (uint32_t)time(NULL);
    return s;
}

void virNetlinkClose(virNetlinkSock *s)
{
    if (!s)
        return;
    mnl_socket_close(s->nl);
    free(s);
}

static int errAttrCb(const struct nlattr *attr, void *opaque)
{
    nlReply *r = opaque;

    if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
        mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0) {
        virStrcpyTrunc(r->kmsg, sizeof(r->kmsg), mnl_attr_get_str(attr));
        /* Drop a trailing newline some subsystems add. */
        size_t n = strlen(r->kmsg);
        if (n && r->kmsg[n - 1] == '\n')
            r->kmsg[n - 1] = '\0';
    }
    return MNL_CB_OK;
}

/* NLMSG_ERROR: an ack (error 0) ends the request; an error sets errno and
 * keeps the kernel's message. */
static int errorCb(const struct nlmsghdr *nlh, void *opaque)
{
    nlReply *r = opaque;
    const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);
    size_t off;

    if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*err))) {
        errno = EBADMSG;
        return MNL_CB_ERROR;
    }
    if (err->error == 0)
        return MNL_CB_STOP;
    if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
        off = sizeof(*err);
        if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
            off += err->msg.nlmsg_len - sizeof(struct nlmsghdr);
        if (mnl_nlmsg_size(off) <= nlh->nlmsg_len)
            (void)mnl_attr_parse(nlh, off, errAttrCb, r);
    }
    errno = err->error < 0 ? -err->error : EPROTO;
    return MNL_CB_ERROR;
}

/* NLMSG_DONE ends a dump; it carries the dump's own error, if any. */
static int doneCb(const struct nlmsghdr *nlh, void *opaque)
{
    int err = 0;

    (void)opaque;
    if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(err))
        memcpy(&err, mnl_nlmsg_get_payload(nlh), sizeof(err));
    if (err < 0) {
        errno = -err;
        return MNL_CB_ERROR;
    }
    return MNL_CB_STOP;
}

static int dataCb(const struct nlmsghdr *nlh, void *opaque)
{
    nlReply *r = opaque;
    return r->data ? r->data(nlh, r->opaque) : MNL_CB_OK;
}

/* Send @nlh (or the batch of @len bytes at @buf) on @nl, then read until
 * the ack, the end of the dump or an error. Returns 0, or -1 with errno
 * and r->kmsg set. */
static int talk(struct mnl_socket *nl, unsigned int portid, const void *buf, size_t len,
                uint32_t seq, nlReply *r)
{
    /* With a table of our own, libmnl calls only these for control
     * messages (NOOP and OVERRUN are skipped). */
    static mnl_cb_t ctl[NLMSG_MIN_TYPE] = { [NLMSG_ERROR] = errorCb, [NLMSG_DONE] = doneCb };
    char rbuf[NL_RECV_SIZE];
    int rc;

    if (mnl_socket_sendto(nl, buf, len) < 0)
        return -1;
    for (;;) {
        ssize_t n = mnl_socket_recvfrom(nl, rbuf, sizeof(rbuf));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        rc = mnl_cb_run2(rbuf, (size_t)n, seq, portid, dataCb, r, ctl, NLMSG_MIN_TYPE);
        if (rc == MNL_CB_ERROR)
            return -1;
        if (rc == MNL_CB_STOP)
            return 0;
    }
}

/* Report the failure of @what with errno and the kernel's message. */
static void reportFailure(const nlReply *r, const char *what)
{
    int err = errno;
    if (r->kmsg[0])
        virReportSystemError(err, "%s (kernel: %s)", what, r->kmsg);
    else
        virReportSystemError(err, "%s", what);
}

static int request(virNetlinkSock *s, struct nlmsghdr *nlh, nlReply *r, const char *what)
{
    nlReply local = { "", NULL, NULL };

    if (!r)
        r = &local;
    nlh->nlmsg_seq = ++s->seq;
    if (talk(s->nl, s->portid, nlh, nlh->nlmsg_len, nlh->nlmsg_seq, r) < 0) {
        reportFailure(r, what);
        return -1;
    }
    return 0;
}

/* A message header at @buf, which is zeroed already. */
static struct nlmsghdr *msgPut(char *buf, uint16_t type, uint16_t flags)
{
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = NLM_F_REQUEST | flags;
    return nlh;
}

/* @buf holds NL_REQ_SIZE bytes: zeroed whole, so no byte of padding goes
 * to the kernel uninitialised. */
static struct nlmsghdr *msgStart(char *buf, uint16_t type, uint16_t flags)
{
    memset(buf, 0, NL_REQ_SIZE);
    return msgPut(buf, type, flags);
}

/* ---- links ---- */

static int linkKindCb(const struct nlattr *attr, void *opaque)
{
    virNetlinkLink *l = opaque;
    if (mnl_attr_get_type(attr) == IFLA_INFO_KIND &&
        mnl_attr_validate(attr, MNL_TYPE_STRING) == 0)
        snprintf(l->kind, sizeof(l->kind), "%.*s", (int)mnl_attr_get_payload_len(attr),
                 (const char *)mnl_attr_get_payload(attr));
    return MNL_CB_OK;
}

static int linkAttrCb(const struct nlattr *attr, void *opaque)
{
    virNetlinkLink *l = opaque;

    switch (mnl_attr_get_type(attr)) {
    case IFLA_IFNAME:
        if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
            virStrcpyTrunc(l->name, sizeof(l->name), mnl_attr_get_str(attr));
        break;
    case IFLA_MASTER:
        if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
            l->master = (int)mnl_attr_get_u32(attr);
        break;
    case IFLA_MTU:
        if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
            l->mtu = mnl_attr_get_u32(attr);
        break;
    case IFLA_ADDRESS:
        if (mnl_attr_get_payload_len(attr) == 6)
            memcpy(l->mac, mnl_attr_get_payload(attr), 6);
        break;
    case IFLA_LINKINFO:
        if (mnl_attr_validate(attr, MNL_TYPE_NESTED) == 0)
            (void)mnl_attr_parse_nested(attr, linkKindCb, l);
        break;
    case IFLA_IFALIAS:
        if (mnl_attr_validate(attr, MNL_TYPE_STRING) == 0)
            snprintf(l->alias, sizeof(l->alias), "%.*s",
                     (int)strnlen(mnl_attr_get_payload(attr), mnl_attr_get_payload_len(attr)),
                     (const char *)mnl_attr_get_payload(attr));
        break;
    }
    return MNL_CB_OK;
}

static int linkParse(const struct nlmsghdr *nlh, virNetlinkLink *l)
{
    const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);

    if (nlh->nlmsg_type != RTM_NEWLINK || nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifi)))
        return -1;
    memset(l, 0, sizeof(*l));
    l->ifindex = ifi->ifi_index;
    l->flags = ifi->ifi_flags;
    (void)mnl_attr_parse(nlh, sizeof(*ifi), linkAttrCb, l);
    return 0;
}

/* A growing array for dumps. */
typedef struct nlList {
    void *items;
    size_t n, cap, size;
    bool oom;
} nlList;

static void *listNext(nlList *L)
{
    if (L->n == L->cap) {
        size_t cap = L->cap ? L->cap * 2 : 16;
        void *p = virReallocN(L->items, cap, L->size);
        if (!p) {
            L->oom = true;
            return NULL;
        }
        L->items = p;
        L->cap = cap;
    }
    return (char *)L->items + L->size * L->n++;
}

static int linkListCb(const struct nlmsghdr *nlh, void *opaque)
{
    nlList *L = opaque;
    virNetlinkLink l, *slot;

    if (linkParse(nlh, &l) < 0)
        return MNL_CB_OK;
    if (!(slot = listNext(L)))
        return MNL_CB_ERROR;
    *slot = l;
    return MNL_CB_OK;
}

static int dump(virNetlinkSock *s, uint16_t type, uint8_t family, size_t hdrlen,
                nlList *L, int (*cb)(const struct nlmsghdr *, void *), const char *what)
{
    char buf[NL_REQ_SIZE] = { 0 };
    struct nlmsghdr *nlh = msgStart(buf, type, NLM_F_DUMP);
    uint8_t *fam = mnl_nlmsg_put_extra_header(nlh, hdrlen);
    nlReply r = { "", cb, L };

    /* The family is the first byte of ifinfomsg, ifaddrmsg and rtmsg. */
    fam[0] = family;
    if (request(s, nlh, &r, what) < 0) {
        if (L->oom) {
            virResetLastError();
            virReportOOMError();
        }
        free(L->items);
        return -1;
    }
    return 0;
}

int virNetlinkLinkList(virNetlinkSock *s, virNetlinkLink **out, size_t *n)
{
    nlList L = { NULL, 0, 0, sizeof(virNetlinkLink), false };

    if (dump(s, RTM_GETLINK, AF_UNSPEC, sizeof(struct ifinfomsg), &L, linkListCb,
             "cannot list the network interfaces") < 0)
        return -1;
    *out = L.items;
    *n = L.n;
    return 0;
}

static int linkGetCb(const struct nlmsghdr *nlh, void *opaque)
{
    virNetlinkLink *l = opaque;
    if (linkParse(nlh, l) == 0)
        l->flags |= 1u << 31;    /* seen; cleared by the caller */
    return MNL_CB_OK;
}

int virNetlinkLinkGet(virNetlinkSock *s, const char *name, virNetlinkLink *out)
{
    char buf[NL_REQ_SIZE] = { 0 };
    struct nlmsghdr *nlh = msgStart(buf, RTM_GETLINK, NLM_F_ACK);
    struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
    virNetlinkLink l;
    nlReply r = { "", linkGetCb, &l };
    char what[80];

    memset(&l, 0, sizeof(l));
    ifi->ifi_family = AF_UNSPEC;
    mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
    nlh->nlmsg_seq = ++s->seq;
    if (talk(s->nl, s->portid, nlh, nlh->nlmsg_len, nlh->nlmsg_seq, &r) < 0) {
        if (errno == ENODEV)
            return 0;
        snprintf(what, sizeof(what), "cannot look up network interface '%s'", name);
        reportFailure(&r, what);
        return -1;
    }
    /* A GET answers with the link, then the ack. */
    if (!(l.flags & (1u << 31)))
        return 0;
    l.flags &= ~(1u << 31);
    *out = l;
    return 1;
}

int virNetlinkBridgeCreate(virNetlinkSock *s, const virNetlinkBridgeConf *c, int *ifindex)
{
    char buf[NL_REQ_SIZE] = { 0 };
    struct nlmsghdr *nlh = msgStart(buf, RTM_NEWLINK, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
    struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
    struct nlattr *info, *data;
    char what[80];
    virNetlinkLink l;
    int rc;

    ifi->ifi_family = AF_UNSPEC;
    mnl_attr_put_strz(nlh, IFLA_IFNAME, c->name);
    if (c->mtu)
        mnl_attr_put_u32(nlh, IFLA_MTU, c->mtu);
    if (c->mac)
        mnl_attr_put(nlh, IFLA_ADDRESS, 6, c->mac);
    info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
    mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bridge");
    data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
    /* The delay before STP: the kernel checks it against STP's bounds
     * only while STP is on, and raises it to 2 s when STP starts. In
     * clock_t (1/100 s). */
    mnl_attr_put_u32(nlh, IFLA_BR_FORWARD_DELAY, c->delay * 100);
    mnl_attr_put_u32(nlh, IFLA_BR_STP_STATE, c->stp ? 1 : 0);
    mnl_attr_nest_end(nlh, data);
    mnl_attr_nest_end(nlh, info);
    snprintf(what, sizeof(what), "cannot create bridge '%s'", c->name);
    if (request(s, nlh, NULL, what) < 0)
        return -1;
    if ((rc = virNetlinkLinkGet(s, c->name, &l)) <= 0) {
        if (rc == 0)
            virReportError(VIR_ERR_OPERATION_FAILED,
                           "bridge '%s' vanished right after it was created", c->name);
        return -1;
    }
    *ifindex = l.ifindex;
    if (c->owner && virNetlinkLinkSetAlias(s, l.ifindex, c->name, c->owner) < 0)
        return -1;
    return 0;
}

int virNetlinkLinkDelete(virNetlinkSock *s, int ifindex, const char *name)
{
    char buf[NL_REQ_SIZE] = { 0 };
    struct nlmsghdr *nlh = msgStart(buf, RTM_DELLINK, NLM_F_ACK);
    struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
    char what[80];
    virNetlinkLink l;
    nlReply r = { "", NULL, NULL };
    int rc;

    /* Only the link that still has both the index and the name: an
     * index alone may have been reused by another link meanwhile. */
    if ((rc = virNetlinkLinkGet(s, name, &l)) <= 0)
        return rc;
    if (ifindex > 0 && l.ifindex != ifindex)
        return 0;
    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_index = l.ifindex;
    nlh->nlmsg_seq = ++s->seq;
    if (talk(s->nl, s->portid, nlh, nlh->nlmsg_len, nlh->nlmsg_seq, &r) < 0) {
        if (errno == ENODEV)
            return 0;
        snprintf(what, sizeof(what), "cannot delete network interface '%s'", name);
        reportFailure(&r, what);
        return -1;
    }
    return 1;
}

int virNetlinkLinkDeleteByName(virNetlinkSock *s, const char *name)
{
    return virNetlinkLinkDelete(s, 0, name);
}

int virNetlinkLinkDeleteOwned(virNetlinkSock *s, const char *name, const uint8_t mac[6],
                           const char *owner)
{
    virNetlinkLink l;
    int rc;

    if ((rc = virNetlinkLinkGet(s, name, &l)) <= 0)
        return rc;
    if (memcmp(l.mac, mac, 6) != 0 || (l.alias[0] && STRNEQ(l.alias, owner)))
        return 0;
    return virNetlinkLinkDelete(s, l.ifindex, name);
}

/* An RTM_NEWLINK changing link @ifindex, with one attribute added by @put. */
static int linkChange(virNetlinkSock *s, int ifindex, unsigned int flags, unsigned int change,
                      void (*put)(struct nlmsghdr *, const void *), const void *arg,
                      const char *what)
{
    char buf[NL_REQ_SIZE] = { 0 };
    struct nlmsghdr *nlh = msgStart(buf, RTM_NEWLINK, NLM_F_ACK);
    struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_index = ifindex;
    ifi->ifi_flags = flags;
    ifi->ifi_change = change;
    if (put)
        put(nlh, arg);
    return request(s, nlh, NULL, what);
}

int virNetlinkLinkSetUp(virNetlinkSock *s, int ifindex, const char *name, bool up)
{
    char what[80];
    snprintf(what, sizeof(what), "cannot set network interface '%s' %s", name,
             up ? "up" : "down");
    return linkChange(s, ifindex, up ? IFF_UP : 0, IFF_UP, NULL, NULL, what);
}

static void putMaster(struct nlmsghdr *nlh, const void *arg)
{
    mnl_attr_put_u32(nlh, IFLA_MASTER, *(const uint32_t *)arg);
}

int virNetlinkLinkSetMaster(virNetlinkSock *s, int ifindex, const char *name, int master)
{
    uint32_t m = (uint32_t)master;
    char what[96];
    if (master)
        snprintf(what, sizeof(what), "cannot attach network interface '%s' to its bridge", name);
    else
        snprintf(what, sizeof(what), "cannot detach network interface '%s' from its bridge", name);
    return linkChange(s, ifindex, 0, 0, putMaster, &m, what);
}

static void putAlias(struct nlmsghdr *nlh, const void *arg)
{
    mnl_attr_put_strz(nlh, IFLA_IFALIAS, arg);
}

int virNetlinkLinkSetAlias(virNetlinkSock *s, int ifindex, const char *name, const char *alias)
{
    char what[96];
    snprintf(what, sizeof(what), "cannot mark network interface '%s' as ours", name);
    return linkChange(s, ifindex, 0, 0, putAlias, alias, what);
}

static void putMTU(struct nlmsghdr *nlh, const void *arg)
{
    mnl_attr_put_u32(nlh, IFLA_MTU, *(const unsigned int *)arg);
}

int virNetlinkLinkSetMTU(virNetlinkSock *s, int ifindex, const char *name, unsigned int mtu)
{
    char what[96];
    snprintf(what, sizeof(what), "cannot set the MTU of network interface '%s' to %u",
             name, mtu);
    return linkChange(s, ifindex, 0, 0, putMTU, &mtu, what);
}

static void putMac(struct nlmsghdr *nlh, const void *arg)
{
    mnl_attr_put(nlh, IFLA_ADDRESS, 6, arg);
}

int virNetlinkLinkSetMac(virNetlinkSock *s, int ifindex, const char *name, const uint8_t mac[6])
{
    char what[96];
    snprintf(what, sizeof(what), "cannot set the MAC address of network interface '%s'", name);
    return linkChange(s, ifindex, 0, 0, putMac, mac, what);
}

/* ---- addresses ---- */

static int addrRequest(virNetlinkSock *s, int ifindex, uint32_t addr, unsigned int prefix,
                       const char *what)
{
    char buf[NL_REQ_SIZE] = { 0 };
    struct nlmsghdr *nlh = msgStart(buf, RTM_NEWADDR, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
    struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
    uint32_t mask = prefix && prefix <= 32 ? ~(uint32_t)0 << (32 - prefix) : 0;

    ifa->ifa_family = AF_INET;
    ifa->ifa_prefixlen = (uint8_t)prefix;
    ifa->ifa_scope = RT_SCOPE_UNIVERSE;
    ifa->ifa_index = (uint32_t)ifindex;
    mnl_attr_put_u32(nlh, IFA_LOCAL, htonl(addr));
    mnl_attr_put_u32(nlh, IFA_ADDRESS, htonl(addr));
    if (prefix < 31)
        mnl_attr_put_u32(nlh, IFA_BROADCAST, htonl(addr | ~mask));
    return request(s, nlh, NULL, what);
}

int virNetlinkAddrAdd(virNetlinkSock *s, int ifindex, const char *name, uint32_t addr,
                   unsigned int prefix)
{
    char what[120];
    snprintf(what, sizeof(what), "cannot add address %u.%u.%u.%u/%u to network interface '%s'",
             addr >> 24, (addr >> 16) & 0xff, (addr >> 8) & 0xff, addr & 0xff, prefix, name);
    return addrRequest(s, ifindex, addr, prefix, what);
}

int virNetlinkFaultRequest(virNetlinkSock *s, int ifindex, const char *what)
{
    return addrRequest(s, ifindex, 0x0a000001, 33, what);
}

static int addrAttrCb(const struct nlattr *attr, void *opaque)
{
    uint32_t *a = opaque;
    int t = mnl_attr_get_type(attr);

    /* IFA_LOCAL is the address; IFA_ADDRESS the peer on point-to-point
     * links, the same otherwise. Prefer IFA_LOCAL. */
    if ((t == IFA_LOCAL || (t == IFA_ADDRESS && !a[1])) &&
        mnl_attr_validate(attr, MNL_TYPE_U32) == 0) {
        a[0] = ntohl(mnl_attr_get_u32(attr));
        a[1] = t == IFA_LOCAL ? 2 : 1;
    }
    return MNL_CB_OK;
}

static int addrListCb(const struct nlmsghdr *nlh, void *opaque)
{
    nlList *L = opaque;
    const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
    uint32_t a[2] = { 0, 0 };
    virNetlinkAddr *slot;

    if (nlh->nlmsg_type != RTM_NEWADDR || nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifa)) ||
        ifa->ifa_family != AF_INET)
        return MNL_CB_OK;
    (void)mnl_attr_parse(nlh, sizeof(*ifa), addrAttrCb, a);
    if (!a[1])
        return MNL_CB_OK;
    if (!(slot = listNext(L)))
        return MNL_CB_ERROR;
    slot->ifindex = (int)ifa->ifa_index;
    slot->addr = a[0];
    slot->prefix = ifa->ifa_prefixlen;
    return MNL_CB_OK;
}

int virNetlinkAddrList(virNetlinkSock *s, virNetlinkAddr **out, size_t *n)
{
    nlList L = { NULL, 0, 0, sizeof(virNetlinkAddr), false };

    if (dump(s, RTM_GETADDR, AF_INET, sizeof(struct ifaddrmsg), &L, addrListCb,
             "cannot list the IPv4 addresses") < 0)
        return -1;
    *out = L.items;
    *n = L.n;
    return 0;
}

/* ---- routes ---- */

static int routeAttrCb(const struct nlattr *attr, void *opaque)
{
    virNetlinkRoute *r = opaque;

    switch (mnl_attr_get_type(attr)) {
    case RTA_DST:
        if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
            r->dst = ntohl(mnl_attr_get_u32(attr));
        break;
    case RTA_OIF:
        if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
            r->oif = (int)mnl_attr_get_u32(attr);
        break;
    case RTA_TABLE:
        if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
            r->table = mnl_attr_get_u32(attr);
        break;
    }
    return MNL_CB_OK;
}

static int routeListCb(const struct nlmsghdr *nlh, void *opaque)
{
    nlList *L = opaque;
    const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
    virNetlinkRoute r = { 0 }, *slot;

    if (nlh->nlmsg_type != RTM_NEWROUTE || nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*rtm)) ||
        rtm->rtm_family != AF_INET || rtm->rtm_type != RTN_UNICAST)
        return MNL_CB_OK;
    r.prefix = rtm->rtm_dst_len;
    r.table = rtm->rtm_table;
    (void)mnl_attr_parse(nlh, sizeof(*rtm), routeAttrCb, &r);
    if (r.table == RT_TABLE_LOCAL)
        return MNL_CB_OK;
    if (!(slot = listNext(L)))
        return MNL_CB_ERROR;
    *slot = r;
    return MNL_CB_OK;
}

int virNetlinkRouteList(virNetlinkSock *s, virNetlinkRoute **out, size_t *n)
{
    nlList L = { NULL, 0, 0, sizeof(virNetlinkRoute), false };

    if (dump(s, RTM_GETROUTE, AF_INET, sizeof(struct rtmsg), &L, routeListCb,
             "cannot list the IPv4 routes") < 0)
        return -1;
    *out = L.items;
    *n = L.n;
    return 0;
}

/* ---- nftables tables, over nfnetlink ---- */

static void nfPut(struct nlmsghdr *nlh, uint8_t family, uint16_t resid)
{
    struct nfgenmsg *nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
    nfg->nfgen_family = family;
    nfg->version = NFNETLINK_V0;
    nfg->res_id = htons(resid);
}

typedef struct nftTable {
    bool seen;
    char *comment;
    size_t commentlen;
} nftTable;

/* The table's comment: nft keeps it in the table's user data as a
 * type-length-value list (type 0: the comment, NUL-terminated). */
static void nftUserdataComment(const uint8_t *d, size_t len, char *out, size_t outlen)
{
    size_t off = 0;

    while (off + 2 <= len) {
        uint8_t type = d[off], n = d[off + 1];
        if (off + 2 + n > len)
            return;
        if (type == 0 && n > 0) {
            snprintf(out, outlen, "%.*s", (int)strnlen((const char *)d + off + 2, n),
                     (const char *)d + off + 2);
            return;
        }
        off += 2 + (size_t)n;
    }
}

static int nftTableAttrCb(const struct nlattr *attr, void *opaque)
{
    nftTable *t = opaque;
    if (mnl_attr_get_type(attr) == NFTA_TABLE_USERDATA && t->comment)
        nftUserdataComment(mnl_attr_get_payload(attr), mnl_attr_get_payload_len(attr),
                           t->comment, t->commentlen);
    return MNL_CB_OK;
}

static int nftTableCb(const struct nlmsghdr *nlh, void *opaque)
{
    nftTable *t = opaque;
    if (NFNL_MSG_TYPE(nlh->nlmsg_type) == NFT_MSG_NEWTABLE) {
        t->seen = true;
        if (nlh->nlmsg_len >= mnl_nlmsg_size(sizeof(struct nfgenmsg)))
            (void)mnl_attr_parse(nlh, sizeof(struct nfgenmsg), nftTableAttrCb, t);
    }
    return MNL_CB_OK;
}

int virNetlinkNftTableGet(int family, const char *name, char *comment, size_t commentlen)
{
    char buf[NL_REQ_SIZE] = { 0 }, what[120];
    unsigned int portid;
    struct mnl_socket *nl = sockOpen(NETLINK_NETFILTER, &portid);
    struct nlmsghdr *nlh;
    nftTable t = { false, comment, commentlen };
    nlReply r = { "", nftTableCb, &t };
    int rc;

    if (comment && commentlen)
        comment[0] = '\0';
    if (!nl)
        return -1;
    nlh = msgStart(buf, (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETTABLE, NLM_F_ACK);
    nlh->nlmsg_seq = (uint32_t)time(NULL);
    nfPut(nlh, (uint8_t)family, 0);
    mnl_attr_put_strz(nlh, NFTA_TABLE_NAME, name);
    rc = talk(nl, portid, nlh, nlh->nlmsg_len, nlh->nlmsg_seq, &r);
    if (rc < 0 && errno == ENOENT) {
        rc = 0;
    } else if (rc < 0) {
        snprintf(what, sizeof(what), "cannot look up nftables table '%s'", name);
        reportFailure(&r, what);
    } else {
        rc = t.seen ? 1 : 0;
    }
    mnl_socket_close(nl);
    return rc;
}

int virNetlinkNftTableExists(int family, const char *name)
{
    return virNetlinkNftTableGet(family, name, NULL, 0);
}

int virNetlinkNftTableDeleteOwned(int family, const char *name, const char *owner)
{
    char comment[256];
    int rc = virNetlinkNftTableGet(family, name, comment, sizeof(comment));

    if (rc <= 0)
        return rc;
    if (STRNEQ(comment, owner))
        return 0;
    return virNetlinkNftTableDelete(family, name);
}

int virNetlinkNftTableDelete(int family, const char *name)
{
    char buf[NL_REQ_SIZE] = { 0 }, what[120];
    unsigned int portid;
    struct mnl_socket *nl = sockOpen(NETLINK_NETFILTER, &portid);
    struct mnl_nlmsg_batch *b;
    struct nlmsghdr *nlh;
    uint32_t seq = (uint32_t)time(NULL);
    nlReply r = { "", NULL, NULL };
    int rc;

    if (!nl)
        return -1;
    /* Changes to nftables go in a batch: begin, the change, end. */
    memset(buf, 0, sizeof(buf));
    b = mnl_nlmsg_batch_start(buf, sizeof(buf));
    nlh = msgPut(mnl_nlmsg_batch_current(b), NFNL_MSG_BATCH_BEGIN, 0);
    nlh->nlmsg_seq = seq++;
    nfPut(nlh, AF_UNSPEC, NFNL_SUBSYS_NFTABLES);
    mnl_nlmsg_batch_next(b);
    nlh = msgPut(mnl_nlmsg_batch_current(b), (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_DELTABLE,
                   NLM_F_ACK);
    nlh->nlmsg_seq = seq;
    nfPut(nlh, (uint8_t)family, 0);
    mnl_attr_put_strz(nlh, NFTA_TABLE_NAME, name);
    mnl_nlmsg_batch_next(b);
    nlh = msgPut(mnl_nlmsg_batch_current(b), NFNL_MSG_BATCH_END, 0);
    nlh->nlmsg_seq = seq + 1;
    nfPut(nlh, AF_UNSPEC, NFNL_SUBSYS_NFTABLES);
    mnl_nlmsg_batch_next(b);
    rc = talk(nl, portid, mnl_nlmsg_batch_head(b), mnl_nlmsg_batch_size(b), seq, &r);
    mnl_nlmsg_batch_stop(b);
    if (rc < 0 && errno == ENOENT) {
        rc = 0;
    } else if (rc < 0) {
        snprintf(what, sizeof(what), "cannot delete nftables table '%s'", name);
        reportFailure(&r, what);
    } else {
        rc = 1;
    }
    mnl_socket_close(nl);
    return rc;
}

/* ---- sockets, over sock_diag ---- */

typedef struct udpQuery {
    uint16_t port;
    uint32_t addr;
    int ifindex;
    bool found;
} udpQuery;

static int udpCb(const struct nlmsghdr *nlh, void *opaque)
{
    udpQuery *q = opaque;
    const struct inet_diag_msg *m = mnl_nlmsg_get_payload(nlh);

    if (nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
        nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*m)) || m->idiag_family != AF_INET)
        return MNL_CB_OK;
    if (ntohs(m->id.idiag_sport) == q->port && ntohl(m->id.idiag_src[0]) == q->addr &&
        (q->ifindex <= 0 || (int)m->id.idiag_if == q->ifindex))
        q->found = true;
    return MNL_CB_OK;
}

int virNetlinkUDPBound(uint16_t port, uint32_t addr, int ifindex)
{
    char buf[NL_REQ_SIZE];
    unsigned int portid;
    struct mnl_socket *nl = sockOpen(NETLINK_SOCK_DIAG, &portid);
    struct nlmsghdr *nlh;
    struct inet_diag_req_v2 *req;
    udpQuery q = { port, addr, ifindex, false };
    nlReply r = { "", udpCb, &q };
    int rc;

    if (!nl)
        return -1;
    nlh = msgStart(buf, SOCK_DIAG_BY_FAMILY, NLM_F_DUMP);
    nlh->nlmsg_seq = (uint32_t)time(NULL);
    req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));
    req->sdiag_family = AF_INET;
    req->sdiag_protocol = IPPROTO_UDP;
    req->idiag_states = ~0u;
    rc = talk(nl, portid, nlh, nlh->nlmsg_len, nlh->nlmsg_seq, &r);
    if (rc < 0)
        reportFailure(&r, "cannot list the UDP sockets");
    mnl_socket_close(nl);
    return rc < 0 ? -1 : q.found ? 1 : 0;
}
