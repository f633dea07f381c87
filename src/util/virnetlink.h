/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virnetlink.h: kernel requests over rtnetlink, nfnetlink and sock_diag,
 * with libmnl: bridges, addresses, links' state, master and marks, dumps
 * of links, addresses and routes, UDP listeners, and the existence and
 * removal of one nftables table by name.
 *
 * Used by the network driver's start worker (a network's bridge-up) and
 * library side (destroy, the clean-up after a killed worker), and by
 * virnetdevtap.c (guests' taps). Only kernel replies are parsed here,
 * never text from a caller.
 *
 * Every call that fails reports an error in an operator's words, with the
 * kernel's own explanation when it gave one ("cannot create bridge
 * 'virbr0': File exists"), and returns -1. A socket is used by one thread
 * at a time.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct virNetlinkSock virNetlinkSock;

/* Open a NETLINK_ROUTE socket (extended acks on). NULL with an error. */
virNetlinkSock *virNetlinkOpen(void);
void virNetlinkClose(virNetlinkSock *nl);

typedef struct virNetlinkLink {
    int ifindex;
    char name[16];
    char kind[16];          /* IFLA_INFO_KIND: "bridge", "tun", "veth", ""... */
    int master;             /* ifindex of its master, 0: none */
    unsigned int flags;     /* IFF_* */
    unsigned int mtu;
    uint8_t mac[6];
    char alias[128];        /* IFLA_IFALIAS, "" if none */
} virNetlinkLink;

typedef struct virNetlinkAddr {
    int ifindex;
    uint32_t addr;          /* host order */
    uint8_t prefix;
} virNetlinkAddr;

typedef struct virNetlinkRoute {
    uint32_t dst;           /* host order */
    uint8_t prefix;
    uint32_t table;
    int oif;                /* 0: none */
} virNetlinkRoute;

/* Dumps (IPv4 only for addresses and routes; routes of every table but
 * "local", unicast only). *out is a new array (free() it), *n its length. */
int virNetlinkLinkList(virNetlinkSock *nl, virNetlinkLink **out, size_t *n);
int virNetlinkAddrList(virNetlinkSock *nl, virNetlinkAddr **out, size_t *n);
int virNetlinkRouteList(virNetlinkSock *nl, virNetlinkRoute **out, size_t *n);

/* One link by name: 1 found (@out filled), 0 no such link, -1 error. */
int virNetlinkLinkGet(virNetlinkSock *nl, const char *name, virNetlinkLink *out);

typedef struct virNetlinkBridgeConf {
    const char *name;
    bool stp;
    unsigned int delay;     /* forward delay, seconds */
    unsigned int mtu;       /* 0: the kernel's */
    const uint8_t *mac;     /* NULL: the kernel's */
    const char *owner;      /* its alias, set right after it is made: who
                               made it (NULL: none) */
} virNetlinkBridgeConf;

/* Create a bridge; fails (EEXIST) if a link of that name exists. On
 * success *ifindex is the new bridge's. */
int virNetlinkBridgeCreate(virNetlinkSock *nl, const virNetlinkBridgeConf *conf, int *ifindex);

/* Delete link @ifindex, but only if it is still called @name (an ifindex
 * alone may have been reused). 1 deleted, 0 not there, -1 error. */
int virNetlinkLinkDelete(virNetlinkSock *nl, int ifindex, const char *name);
/* The same by name alone. */
int virNetlinkLinkDeleteByName(virNetlinkSock *nl, const char *name);
/* Delete link @name only if it is ours: its MAC is @mac and its alias is
 * @owner, or (made but not marked yet: the kernel takes no alias at
 * creation) empty. A link of another owner is left alone. 1 deleted, 0
 * not there or not ours, -1 error. */
int virNetlinkLinkDeleteOwned(virNetlinkSock *nl, const char *name, const uint8_t mac[6],
                           const char *owner);

int virNetlinkLinkSetUp(virNetlinkSock *nl, int ifindex, const char *name, bool up);
/* Enslave @ifindex to @master (0: release it from its master). */
int virNetlinkLinkSetMaster(virNetlinkSock *nl, int ifindex, const char *name, int master);
int virNetlinkLinkSetAlias(virNetlinkSock *nl, int ifindex, const char *name, const char *alias);
int virNetlinkLinkSetMTU(virNetlinkSock *nl, int ifindex, const char *name, unsigned int mtu);
int virNetlinkLinkSetMac(virNetlinkSock *nl, int ifindex, const char *name, const uint8_t mac[6]);

/* Add IPv4 @addr/@prefix (with its broadcast address) to @ifindex. */
int virNetlinkAddrAdd(virNetlinkSock *nl, int ifindex, const char *name, uint32_t addr,
                   unsigned int prefix);

/* Send a request the kernel refuses (an IPv4 address with prefix 33), for
 * the test-only fault injection: reports the kernel's error, returns -1. */
int virNetlinkFaultRequest(virNetlinkSock *nl, int ifindex, const char *what);

/* Whether a UDP socket (any process's, in this network namespace) is
 * bound to local @port, on address @addr (0: the wildcard) and, when
 * @ifindex > 0, to device @ifindex. 1 yes, 0 no, -1 error. For telling
 * that a DHCP or DNS server has opened its sockets. */
int virNetlinkUDPBound(uint16_t port, uint32_t addr, int ifindex);

/* nftables, over a NETLINK_NETFILTER socket opened per call. @family is
 * NFPROTO_IPV4 etc. Exists: 1 yes, 0 no, -1 error; @comment (may be NULL,
 * else @commentlen bytes) gets the table's comment, "" if none. Delete: 1
 * deleted, 0 there was none, -1 error. DeleteOwned: only a table whose
 * comment is @owner (0 for another's, left alone). */
int virNetlinkNftTableExists(int family, const char *name);
int virNetlinkNftTableGet(int family, const char *name, char *comment, size_t commentlen);
int virNetlinkNftTableDelete(int family, const char *name);
int virNetlinkNftTableDeleteOwned(int family, const char *name, const char *owner);
