/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * network-proto.h: what passes between the network driver's halves: the
 * library side (network_driver.c and friends, trusted, in the client) and
 * the worker side (*-worker.c, in virtsup-worker). Fixed-size records, so
 * the library checks what a worker proposes without any parser
 * (netDefCheck), and keeps definitions on disk in the same form.
 *
 * Included by both halves; includes nothing of supervisor/ or worker/.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NET_NAME_MAX      64     /* bytes with NUL; [A-Za-z0-9_.-]+, not starting with '.' */
#define NET_IFNAME_MAX    16     /* IFNAMSIZ */
#define NET_DOMAIN_MAX    256    /* a DNS name, 253 bytes at most */
#define NET_HOSTNAME_MAX  64     /* one DNS label */
#define NET_RANGES_MAX    16
#define NET_HOSTS_MAX     256
#define NET_XML_MAX       (256 * 1024)   /* bytes of XML accepted */
#define NET_TITLE_MAX     256            /* <title>: one line */
#define NET_DESC_MAX      2048           /* <description> */
#define NET_MTU_MIN       68
#define NET_MTU_MAX       65535
#define NET_DELAY_MAX     30             /* seconds: the kernel's forward delay cap */
#define NET_OWNER_MAX     128            /* "virtsup network NAME TOKEN" */

/* Op names, shared by virSupOp (library) and VIR_WORKER_OP_REGISTER (worker). */
#define NET_OP_PARSE   "network.parse"   /* parse + validate XML; no capability */
#define NET_OP_START   "network.start"   /* bring a checked definition up: CAP_NET_ADMIN */

typedef enum {
    NET_FORWARD_NONE = 0,        /* isolated: no <forward> */
    NET_FORWARD_NAT = 1,
    NET_FORWARD_ROUTE = 2,
    NET_FORWARD_LAST
} netForwardMode;

/* Tri-state attributes keep what the XML said, so it is echoed as given. */
typedef enum {
    NET_TRI_ABSENT = 0,
    NET_TRI_YES = 1,
    NET_TRI_NO = 2,
} netTristate;

/* <lease expiry='N' unit='seconds|minutes|hours'/>; expiry 0 = infinite. */
typedef enum {
    NET_LEASE_NONE = 0,          /* no <lease>: dnsmasq's default (1 hour) */
    NET_LEASE_SECONDS = 1,
    NET_LEASE_MINUTES = 2,
    NET_LEASE_HOURS = 3,
} netLeaseUnit;

typedef struct netLease {
    uint32_t unit;               /* netLeaseUnit */
    uint32_t expiry;             /* in unit; 0: infinite */
} netLease;

typedef struct netDhcpRange {
    uint32_t start, end;         /* host order, start <= end, inside the subnet */
    netLease lease;
} netDhcpRange;

typedef struct netDhcpHost {
    uint8_t  mac[6];
    uint8_t  hasMac;
    uint8_t  reserved;
    uint32_t ip;                 /* host order; 0: none */
    char     name[NET_HOSTNAME_MAX];   /* may be empty */
    netLease lease;
} netDhcpHost;

/* Harmless settings that change nothing here but were given, so
 * GetXMLDesc echoes them (libvirt prints them only when set). */
typedef enum {
    NET_ECHO_IPV6_NO         = 1 << 0,   /* <network ipv6='no'> */
    NET_ECHO_MACTABLE_KERNEL = 1 << 1,   /* <bridge macTableManager='kernel'> */
    NET_ECHO_NAT_IPV6_NO     = 1 << 2,   /* <nat ipv6='no'> */
    NET_ECHO_IP_FAMILY       = 1 << 3,   /* <ip family='ipv4'> */
    NET_ECHO_DNS             = 1 << 4,   /* <dns/> without enable= */
    NET_ECHO_ALL             = (1 << 5) - 1,
} netEcho;

/* A network definition, canonical: XML is generated from it, never kept
 * raw. Unused array slots and string tails are zero. */
typedef struct netDef {
    uint32_t magic;                      /* NET_DEF_MAGIC */
    uint32_t version;                    /* NET_DEF_VERSION */
    char     name[NET_NAME_MAX];
    uint8_t  uuid[16];
    /* <bridge name= stp= delay=/>: the name is chosen by the library when
     * the XML gives none (virbrN), so a stored definition always has one. */
    char     bridge[NET_IFNAME_MAX];
    uint8_t  stp;                        /* 1: on (libvirt's default) */
    uint8_t  hasMac;                     /* <mac address=>: chosen when absent */
    uint8_t  mac[6];
    uint32_t delay;                      /* forward delay, seconds */
    /* <forward mode= dev=><nat><port start= end=/></nat></forward> */
    uint32_t forward;                    /* netForwardMode */
    char     forwardDev[NET_IFNAME_MAX]; /* may be empty */
    uint32_t natPortStart, natPortEnd;   /* both 0 for route/isolated */
    uint32_t mtu;                        /* <mtu size=>; 0: the kernel's */
    /* <domain name= localOnly=/>, <dns enable=/> */
    char     domain[NET_DOMAIN_MAX];     /* may be empty */
    uint32_t domainLocalOnly;            /* netTristate */
    uint32_t dnsEnable;                  /* netTristate; NO: dnsmasq serves no DNS */
    /* <ip address= netmask=|prefix= localPtr=> */
    uint32_t ipv4;                       /* host order; 0: no address */
    uint32_t prefix;                     /* 8..30 with an address, else 0 */
    uint32_t ipNetmaskForm;              /* 1: the XML said netmask=, 0: prefix= */
    uint32_t localPtr;                   /* netTristate */
    uint32_t hasDhcp;                    /* a <dhcp> element (maybe empty) */
    uint32_t nranges;
    uint32_t nhosts;
    uint32_t echo;                       /* netEcho bits */
    char     title[NET_TITLE_MAX];       /* UTF-8, no control characters */
    char     description[NET_DESC_MAX];  /* UTF-8, tabs and newlines allowed */
    netDhcpRange ranges[NET_RANGES_MAX];
    netDhcpHost hosts[NET_HOSTS_MAX];
} netDef;
#define NET_DEF_MAGIC   0x4454454eu      /* "NETD" */
#define NET_DEF_VERSION 1u

/* Test-only fault injection (VIRTSUP_NETWORK_TEST_FAULT=PHASE:KIND, read
 * by the library; see docs/NETWORK-DRIVER.md). At the start of PHASE the
 * start worker makes the real call fail (a netlink request the kernel
 * refuses, an nft command libnftables refuses), crashes, or waits for
 * cancellation. */
typedef enum {
    NET_PHASE_NONE = 0,
    NET_PHASE_CHECK,             /* conflicts with existing links, routes, tables */
    NET_PHASE_BRIDGE,
    NET_PHASE_ADDRESSES,
    NET_PHASE_FIREWALL,
    NET_PHASE_DHCP,
    NET_PHASE_UP,
    NET_PHASE_LAST
} netPhase;

typedef enum {
    NET_FAULT_NONE = 0,
    NET_FAULT_ERROR,             /* the phase's real call fails */
    NET_FAULT_CRASH,             /* SIGSEGV: the library must clean up */
    NET_FAULT_WAIT,              /* wait for cancellation (honoured) */
    NET_FAULT_HANG,              /* ignore cancellation: killed after the grace */
    NET_FAULT_LAST
} netFaultKind;

/* Parameters of NET_OP_PARSE: this header, then xmllen bytes of XML. */
typedef struct netParseParams {
    uint32_t magic;                      /* NET_PARSE_PARAMS_MAGIC */
    uint32_t version;                    /* 1 */
    uint32_t xmllen;
    uint32_t reserved;
} netParseParams;
#define NET_PARSE_PARAMS_MAGIC 0x5050454eu  /* "NEPP" */

/* Parameters of NET_OP_START. Its resource descriptors: the agent socket
 * (index agentRes, or -1 when the network runs no dnsmasq) and
 * /proc/sys/net/ipv4/ip_forward opened for writing (index forwardRes, or
 * -1: isolated networks do not forward). */
typedef struct netStartParams {
    uint32_t magic;                      /* NET_START_PARAMS_MAGIC */
    uint32_t version;                    /* 1 */
    uint32_t faultPhase;                 /* netPhase; NONE: no fault */
    uint32_t faultKind;                  /* netFaultKind */
    int32_t  agentRes;
    int32_t  forwardRes;
    uint32_t waitDHCP;                   /* dnsmasq must have its DHCP socket on the bridge */
    uint32_t waitDNS;                    /* ... and its DNS socket on the address */
    char     table[NET_NAME_MAX + 16];   /* the nftables table: "virtsup_" NAME */
    /* Marks what this start makes as its own: the bridge's alias and the
     * table's comment, so that clean-up removes only what carries it. */
    char     owner[NET_OWNER_MAX];
    netDef   def;
} netStartParams;
#define NET_START_PARAMS_MAGIC 0x5053454eu  /* "NESP" */

/* The start worker and the library's agent for that job talk over a
 * SOCK_SEQPACKET pair, one netAgentMsg per record: the worker asks at its
 * DHCP phase that dnsmasq be started (and, rolling back, stopped); the
 * agent, in the library, starts it under its virtsup-shim with what the
 * library alone decided (program, configuration, ids), and says what
 * happened. The worker names no path and no program. */
typedef enum {
    NET_AGENT_START = 1,                 /* worker: start dnsmasq now */
    NET_AGENT_STOP = 2,                  /* worker: stop it (rollback) */
    NET_AGENT_STARTED = 101,             /* agent: running, pid */
    NET_AGENT_FAILED = 102,              /* agent: could not start it: message */
    NET_AGENT_EXITED = 103,              /* agent: it ended: message */
    NET_AGENT_STOPPED = 104,             /* agent: stopped as asked */
} netAgentType;

typedef struct netAgentMsg {
    uint32_t magic;                      /* NET_AGENT_MAGIC */
    uint32_t type;                       /* netAgentType */
    int32_t  pid;
    uint32_t reserved;
    char     message[496];               /* NUL-terminated */
} netAgentMsg;
#define NET_AGENT_MAGIC 0x4741454eu      /* "NEAG" */

/* What NET_OP_START reports on success: the bridge's ifindex. */
typedef struct netStartResult {
    uint32_t magic;                      /* NET_START_RESULT_MAGIC */
    int32_t  ifindex;
} netStartResult;
#define NET_START_RESULT_MAGIC 0x5253454eu  /* "NESR" */
