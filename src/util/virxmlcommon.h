/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virxmlcommon.h: the elements libvirt's domain and network grammars have
 * in common, read one way for every driver's parser (the test driver's
 * domain and network grammar, the qemu driver's domain grammar, the
 * network driver's network grammar), in whichever process parses:
 *
 *   <name>, <uuid>, <title>, <description>, <metadata>       both grammars
 *   <memory>, <currentMemory>, <vcpu>,
 *   <on_poweroff>, <on_reboot>, <on_crash>                   domains
 *   <ip> (address, prefix), <bridge>, <mac>, <ip>'s <dhcp>   networks
 *
 * A parser hands each child of its root to virXMLCommonRead; what the
 * call reads (the element's grammar: attributes, text, units, numbers,
 * once only) is the same for every driver, what a driver accepts of it
 * (a lifecycle action it can honour, current memory below memory...)
 * stays the driver's, decided on the values read. Elements kept without
 * interpretation (<metadata>, or a driver's own choice) are kept by the
 * caller with util/virxmlkeep.h. The untrusted-input rules are
 * util/virxml.c's: the document comes from virXMLReadUntrusted.
 *
 * Errors are reported as util/virxml.h says, naming @c->what.
 * Thread-safety: no state; a virXMLCommon is used by one thread.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libxml/tree.h>

#include "util/virstring.h"
#include "util/virxml.h"

#define VIR_XML_COMMON_NAME_MAX 64     /* bytes of a name, with its NUL */

/* What virXMLCommonRead read (bit 1 << element in virXMLCommon.seen). */
typedef enum {
    VIR_XML_COMMON_NONE = 0,          /* not one of the common elements */
    VIR_XML_COMMON_NAME,
    VIR_XML_COMMON_UUID,
    VIR_XML_COMMON_TITLE,
    VIR_XML_COMMON_DESCRIPTION,
    VIR_XML_COMMON_METADATA,
    VIR_XML_COMMON_MEMORY,
    VIR_XML_COMMON_CURRENT_MEMORY,
    VIR_XML_COMMON_VCPU,
    VIR_XML_COMMON_ON_POWEROFF,
    VIR_XML_COMMON_ON_REBOOT,
    VIR_XML_COMMON_ON_CRASH,
} virXMLCommonElement;

/* libvirt's lifecycle actions (<on_crash> alone has the coredump ones). */
typedef enum {
    VIR_XML_ACTION_NONE = 0,          /* element absent */
    VIR_XML_ACTION_DESTROY,
    VIR_XML_ACTION_RESTART,
    VIR_XML_ACTION_PRESERVE,
    VIR_XML_ACTION_RENAME_RESTART,
    VIR_XML_ACTION_COREDUMP_DESTROY,
    VIR_XML_ACTION_COREDUMP_RESTART,
} virXMLLifecycleAction;

/* A driver's ranges for the values read. */
typedef struct virXMLCommonRules {
    bool domain;                      /* a domain: its elements too; else a network */
    size_t nameMax;                   /* buffer for a name, with its NUL (<= the max above) */
    /* the name's rule (virNameCheck when NULL); 0, or -1 with @why set */
    int (*nameCheck)(const char *name, size_t max, const char **why);
    uint64_t memoryMinKiB, memoryMaxKiB;
    uint32_t vcpusMax;
} virXMLCommonRules;

typedef struct virXMLCommon {
    uint32_t seen;                    /* 1 << virXMLCommonElement of each one read */
    char name[VIR_XML_COMMON_NAME_MAX];
    uint8_t uuid[16];                 /* random (v4) after virXMLCommonDone if not given */
    char *title, *description;        /* owned; NULL when absent */
    uint64_t memoryKiB;               /* rounded up to KiB */
    uint64_t currentMemoryKiB;        /* memoryKiB after virXMLCommonDone if not given */
    uint32_t vcpus, vcpusCurrent;     /* 1 after virXMLCommonDone if not given */
    uint8_t onPoweroff, onReboot, onCrash;   /* virXMLLifecycleAction */
} virXMLCommon;
#define VIR_XML_COMMON_INIT { 0 }

/* Read child @n of the root when it is one of the common elements of the
 * grammar @r names (each at most once). Returns the element read (> 0),
 * VIR_XML_COMMON_NONE when @n is not one of them (nothing reported), or
 * -1 with an error reported: an unknown attribute, child elements, a
 * value that is not valid (a name by @r->nameCheck, a UUID, a memory size
 * and unit, a vCPU count, a one-line title, a lifecycle action), a value
 * out of @r's range, vCPU pinning (cpuset=: CONFIG_UNSUPPORTED). */
int virXMLCommonRead(const virXMLCtx *c, xmlNodePtr n, const virXMLCommonRules *r,
                     virXMLCommon *out);

/* After the children: <name> is required, and <memory> for a domain; a
 * missing <uuid> is made up; current memory and vCPUs default to the
 * maximum and may not exceed it. Returns 0, or -1 with an error. */
int virXMLCommonDone(const virXMLCtx *c, const virXMLCommonRules *r, virXMLCommon *out);

/* Free what @out holds. */
void virXMLCommonClear(virXMLCommon *out);

/* An IPv4 address in dotted-quad form into host order. Returns 0, or -1
 * (nothing reported). */
int virXMLParseIPv4(const char *s, uint32_t *out);

/* A network's <ip [family='ipv4'] address='A' (prefix='N' | netmask='M')>,
 * as libvirt's network grammar has it in both drivers: the address (not
 * 0.0.0.0) and the prefix length from either form, from @minPrefix to
 * @maxPrefix; *@netmaskForm tells which form was given, *@familyGiven
 * whether family= was. Its other attributes and children are the
 * caller's. Returns 0, or -1 with an error naming the value (another
 * family, a bad address, both or neither form, a prefix out of range, a
 * netmask that is not contiguous). */
int virXMLReadIPv4Net(const virXMLCtx *c, xmlNodePtr ip, unsigned int minPrefix,
                      unsigned int maxPrefix, uint32_t *addr, uint32_t *prefix,
                      bool *netmaskForm, bool *familyGiven);

/* ---- <bridge>, <mac>, <dhcp>: both network grammars (the test driver's
 * and the network driver's) read them here, so both accept and refuse the
 * same text with the same message. What a driver cannot honour of what
 * was read (a firewalld zone, macTableManager='libvirt') it refuses
 * itself, by name, after the read. ---- */

#define VIR_XML_BRIDGE_DELAY_MAX  30    /* seconds: the kernel's forward delay cap */
#define VIR_XML_DHCP_RANGES_MAX   16
#define VIR_XML_DHCP_HOSTS_MAX    256
#define VIR_XML_DHCP_HOSTNAME_MAX 64    /* one DNS label, with its NUL */

/* An on/off or yes/no attribute as given, so that it can be echoed. */
typedef enum {
    VIR_XML_TRI_ABSENT = 0,
    VIR_XML_TRI_YES = 1,              /* 'on' / 'yes' */
    VIR_XML_TRI_NO = 2,               /* 'off' / 'no' */
} virXMLTristate;

typedef enum {
    VIR_XML_MACTABLE_ABSENT = 0,
    VIR_XML_MACTABLE_KERNEL,
    VIR_XML_MACTABLE_LIBVIRT,
} virXMLMacTableManager;

/* An on/off (@onOff) or yes/no attribute @name of @n into *@out
 * (virXMLTristate); an absent one leaves *@out alone. Returns 0, or -1
 * with an error naming the attribute and the value expected. */
int virXMLReadTristate(const virXMLCtx *c, xmlNodePtr n, const char *name, bool onOff,
                       uint8_t *out);

/* An interface name in @n's attribute @name (virIfnameCheck's rule) into
 * @out; an absent attribute leaves @out alone. Returns 0, or -1 with an
 * error naming the attribute and the reason. */
int virXMLReadIfnameAttr(const virXMLCtx *c, xmlNodePtr n, const char *name,
                         char out[VIR_IFNAME_MAX]);

/* <bridge [name='IF'] [stp='on|off'] [delay='S'] [macTableManager='kernel|libvirt']
 *         [zone='ZONE']/> */
typedef struct virXMLBridge {
    char name[VIR_IFNAME_MAX];        /* "" when absent; else virIfnameCheck's rule */
    uint8_t stp;                      /* virXMLTristate */
    uint8_t macTableManager;          /* virXMLMacTableManager */
    bool delayGiven;
    uint32_t delay;                   /* 0..VIR_XML_BRIDGE_DELAY_MAX */
    char zone[VIR_XML_COMMON_NAME_MAX];   /* "" when absent; virNameCheck's rule */
} virXMLBridge;

/* Read <bridge> @n: no children, only the attributes above, each valid.
 * Returns 0, or -1 with an error naming the attribute and its value. */
int virXMLReadBridge(const virXMLCtx *c, xmlNodePtr n, virXMLBridge *out);

/* A MAC address in @n's attribute @attr (required): six hex bytes
 * separated by ':', unicast and not zero. Returns 0, or -1 with an error. */
int virXMLReadMacAttr(const virXMLCtx *c, xmlNodePtr n, const char *attr, uint8_t mac[6]);

/* Read <mac address='MAC'/> @n (no other attribute, no children).
 * Returns 0, or -1 with an error. */
int virXMLReadMac(const virXMLCtx *c, xmlNodePtr n, uint8_t mac[6]);

/* <lease expiry='N' [unit='seconds|minutes|hours']/>: expiry 0 means
 * infinite; else 2 minutes to a year (dnsmasq's floor; a sane ceiling). */
typedef enum {
    VIR_XML_LEASE_NONE = 0,           /* no <lease> */
    VIR_XML_LEASE_SECONDS = 1,
    VIR_XML_LEASE_MINUTES = 2,        /* libvirt's default unit */
    VIR_XML_LEASE_HOURS = 3,
} virXMLLeaseUnit;

typedef struct virXMLDhcpLease {
    uint8_t unit;                     /* virXMLLeaseUnit */
    uint32_t expiry;                  /* in unit; 0: infinite */
} virXMLDhcpLease;

typedef struct virXMLDhcpRange {
    uint32_t start, end;              /* host order */
    virXMLDhcpLease lease;
} virXMLDhcpRange;

typedef struct virXMLDhcpHost {
    bool hasMac;
    uint8_t mac[6];
    char name[VIR_XML_DHCP_HOSTNAME_MAX];   /* "" when absent */
    uint32_t ip;                      /* host order */
    virXMLDhcpLease lease;
} virXMLDhcpHost;

/* What the <dhcp> of an <ip> holds. About 22 KiB: allocate it. */
typedef struct virXMLDhcp {
    bool present;                     /* a <dhcp> element was given (maybe empty) */
    uint32_t nranges, nhosts;
    virXMLDhcpRange ranges[VIR_XML_DHCP_RANGES_MAX];
    virXMLDhcpHost hosts[VIR_XML_DHCP_HOSTS_MAX];
} virXMLDhcp;

/* Read the children of a network's <ip> @ip, whose address @addr and
 * prefix length @prefix the caller read (virXMLReadIPv4Net): at most one
 * <dhcp>, with <range start= end=> and <host [mac=] [name=] ip=> (mac or
 * name required; id=, DHCPv6, refused), each with at most one <lease>;
 * nothing else. Every range and host address lies inside the subnet and
 * is neither its network nor its broadcast address nor @addr; a range
 * does not end before it starts nor overlap another; hosts share no
 * address, MAC or name; at most VIR_XML_DHCP_RANGES_MAX ranges and
 * VIR_XML_DHCP_HOSTS_MAX hosts. @out must be zeroed by the caller.
 * Returns 0, or -1 with an error naming what is wrong. */
int virXMLReadIPChildren(const virXMLCtx *c, xmlNodePtr ip, uint32_t addr, uint32_t prefix,
                         virXMLDhcp *out);

/* A lease's length in seconds (0: none given or infinite). */
uint64_t virXMLLeaseSeconds(const virXMLDhcpLease *l);

/* libvirt's name of @action ("destroy", "rename-restart"...), "" if none. */
const char *virXMLLifecycleActionName(unsigned int action);
