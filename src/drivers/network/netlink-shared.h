/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * netlink-shared.h: the kernel requests of the network driver, over
 * rtnetlink and nfnetlink with libmnl: bridges, addresses, links' state
 * and master, dumps of links, addresses and routes (for conflict checks),
 * and the existence and removal of one nftables table by name.
 *
 * Linked into the worker (the start job builds a network) and the library
 * (destroy, the clean-up after a start worker that was killed, guests'
 * taps). Only kernel replies are parsed here, never text from a caller.
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

typedef struct netlinkSock netlinkSock;

/* Open a NETLINK_ROUTE socket (extended acks on). NULL with an error. */
netlinkSock *netlinkOpen(void);
void netlinkClose(netlinkSock *nl);

typedef struct netlinkLink {
    int ifindex;
    char name[16];
    char kind[16];          /* IFLA_INFO_KIND: "bridge", "tun", "veth", ""... */
    int master;             /* ifindex of its master, 0: none */
    unsigned int flags;     /* IFF_* */
    unsigned int mtu;
    uint8_t mac[6];
    char alias[128];        /* IFLA_IFALIAS, "" if none */
} netlinkLink;

typedef struct netlinkAddr {
    int ifindex;
    uint32_t addr;          /* host order */
    uint8_t prefix;
} netlinkAddr;

typedef struct netlinkRoute {
    uint32_t dst;           /* host order */
    uint8_t prefix;
    uint32_t table;
    int oif;                /* 0: none */
} netlinkRoute;

/* Dumps (IPv4 only for addresses and routes; routes of every table but
 * "local", unicast only). *out is a new array (free() it), *n its length. */
int netlinkLinkList(netlinkSock *nl, netlinkLink **out, size_t *n);
int netlinkAddrList(netlinkSock *nl, netlinkAddr **out, size_t *n);
int netlinkRouteList(netlinkSock *nl, netlinkRoute **out, size_t *n);

/* One link by name: 1 found (@out filled), 0 no such link, -1 error. */
int netlinkLinkGet(netlinkSock *nl, const char *name, netlinkLink *out);

typedef struct netlinkBridgeConf {
    const char *name;
    bool stp;
    unsigned int delay;     /* forward delay, seconds */
    unsigned int mtu;       /* 0: the kernel's */
    const uint8_t *mac;     /* NULL: the kernel's */
    const char *owner;      /* its alias, set right after it is made: who
                               made it (NULL: none) */
} netlinkBridgeConf;

/* Create a bridge; fails (EEXIST) if a link of that name exists. On
 * success *ifindex is the new bridge's. */
int netlinkBridgeCreate(netlinkSock *nl, const netlinkBridgeConf *conf, int *ifindex);

/* Delete link @ifindex, but only if it is still called @name (an ifindex
 * alone may have been reused). 1 deleted, 0 not there, -1 error. */
int netlinkLinkDelete(netlinkSock *nl, int ifindex, const char *name);
/* The same by name alone. */
int netlinkLinkDeleteByName(netlinkSock *nl, const char *name);
/* Delete link @name only if it is ours: its MAC is @mac and its alias is
 * @owner, or (made but not marked yet: the kernel takes no alias at
 * creation) empty. A link of another owner is left alone. 1 deleted, 0
 * not there or not ours, -1 error. */
int netlinkLinkDeleteOwned(netlinkSock *nl, const char *name, const uint8_t mac[6],
                           const char *owner);

int netlinkLinkSetUp(netlinkSock *nl, int ifindex, const char *name, bool up);
/* Enslave @ifindex to @master (0: release it from its master). */
int netlinkLinkSetMaster(netlinkSock *nl, int ifindex, const char *name, int master);
int netlinkLinkSetAlias(netlinkSock *nl, int ifindex, const char *name, const char *alias);
int netlinkLinkSetMTU(netlinkSock *nl, int ifindex, const char *name, unsigned int mtu);
int netlinkLinkSetMac(netlinkSock *nl, int ifindex, const char *name, const uint8_t mac[6]);

/* Add IPv4 @addr/@prefix (with its broadcast address) to @ifindex. */
int netlinkAddrAdd(netlinkSock *nl, int ifindex, const char *name, uint32_t addr,
                   unsigned int prefix);

/* Send a request the kernel refuses (an IPv4 address with prefix 33), for
 * the test-only fault injection: reports the kernel's error, returns -1. */
int netlinkFaultRequest(netlinkSock *nl, int ifindex, const char *what);

/* What must not exist before network @netname (bridge @bridge, subnet
 * @addr/@prefix when @addr is not 0, nftables table @table of @family)
 * is started: a link of that name, a route or an address of another
 * link overlapping the subnet (default routes aside), the table. Returns
 * 0 when there is none; -1 with VIR_ERR_RESOURCE_BUSY naming the first
 * conflict ("...collides with route 192.168.0.0/16 on 'eth0'"), or
 * another error if the kernel could not be asked. */
int netlinkCheckConflicts(netlinkSock *nl, const char *netname, const char *bridge,
                          uint32_t addr, unsigned int prefix, int family, const char *table);

/* Whether a UDP socket (any process's, in this network namespace) is
 * bound to local @port, on address @addr (0: the wildcard) and, when
 * @ifindex > 0, to device @ifindex. 1 yes, 0 no, -1 error. For telling
 * that a DHCP or DNS server has opened its sockets. */
int netlinkUDPBound(uint16_t port, uint32_t addr, int ifindex);

/* nftables, over a NETLINK_NETFILTER socket opened per call. @family is
 * NFPROTO_IPV4 etc. Exists: 1 yes, 0 no, -1 error; @comment (may be NULL,
 * else @commentlen bytes) gets the table's comment, "" if none. Delete: 1
 * deleted, 0 there was none, -1 error. DeleteOwned: only a table whose
 * comment is @owner (0 for another's, left alone). */
int netlinkNftTableExists(int family, const char *name);
int netlinkNftTableGet(int family, const char *name, char *comment, size_t commentlen);
int netlinkNftTableDelete(int family, const char *name);
int netlinkNftTableDeleteOwned(int family, const char *name, const char *owner);
