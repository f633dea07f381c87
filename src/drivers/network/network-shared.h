/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * network-shared.h: helpers of the network driver used by both of its
 * halves (network-shared.c, linked into the library and the worker). No
 * parsing of untrusted text here: XML is parsed only in the worker
 * (netxml-worker.c).
 *
 * All calls are pure functions of their arguments: thread-safe; they
 * report nothing through virerror (a check returns a static English
 * reason instead).
 */
#pragma once

#include "drivers/network/network-proto.h"
#include "util/virnetlink.h"

/* Check a network name: 1..NET_NAME_MAX-1 bytes of [A-Za-z0-9_.-], not
 * starting with '.'. Returns 0, or -1 with @why set. */
int netNameCheck(const char *name, size_t maxlen, const char **why);

/* Check an interface name: 1..15 bytes of [A-Za-z0-9_.-], not "." or
 * "..", terminated within NET_IFNAME_MAX. Returns 0, or -1 with @why. */
int netIfnameCheck(const char *name, const char **why);

/* Check a DNS name (letters, digits, '-', labels of 1..63 separated by
 * single dots, at most 253 bytes). @maxlen bounds the buffer. */
int netDNSNameCheck(const char *name, size_t maxlen, const char **why);

/* Validate a definition that came from a worker or from disk, field by
 * field: magic, version, terminated strings of allowed characters, zeroed
 * tails and unused slots, ranges inside the subnet and apart, hosts
 * unique. A definition that passes can be turned into kernel requests,
 * nftables rules and a dnsmasq configuration without further checks.
 * @needBridge: the bridge name must be set (a stored definition).
 * Returns 0, or -1 with @why set to a static reason. */
int netDefCheck(const netDef *def, bool needBridge, const char **why);

/* The subnet's first and last addresses (network and broadcast). */
static inline uint32_t netMaskOf(uint32_t prefix)
{
    return prefix ? ~(uint32_t)0 << (32 - prefix) : 0;
}

/* "192.168.122.1" into @buf (at least 16 bytes); returns @buf. */
char *netIPv4Format(uint32_t addr, char *buf);
/* "52:54:00:12:34:56" into @buf (at least 18 bytes); returns @buf. */
char *netMacFormat(const uint8_t mac[6], char *buf);

/* A lease's length in seconds as dnsmasq wants it; 0 for infinite, and
 * for NET_LEASE_NONE. */
uint64_t netLeaseSeconds(const netLease *lease);

/* Phase and fault names ("bridge", "error", ...); NULL when out of range. */
const char *netPhaseName(uint32_t phase);
const char *netFaultName(uint32_t kind);
/* Parse "PHASE:KIND" (VIRTSUP_NETWORK_TEST_FAULT). Returns 0 or -1. */
int netFaultParse(const char *spec, uint32_t *phase, uint32_t *kind);

/* The nftables table of network @name: "virtsup_" NAME into @buf. */
void netTableName(const char *name, char *buf, size_t len);

/* The owner mark of one start of network @name: "virtsup network NAME
 * TOKEN" (TOKEN: 16 hex digits) into @buf (NET_OWNER_MAX bytes). */
void netOwnerFormat(const char *name, uint64_t token, char *buf);
/* Check an owner mark: "virtsup network ", a name, a space, 16 hex
 * digits, terminated within NET_OWNER_MAX. Returns 0 or -1 with @why. */
int netOwnerCheck(const char *owner, const char **why);

/* Check a netStartParams blob (magic, version, size, the def inside, the
 * table name). Returns 0 or -1 with @why. */
int netStartParamsCheck(const void *blob, size_t len, const char **why);

/* What must not exist before network @netname (bridge @bridge, subnet
 * @addr/@prefix when @addr is not 0, nftables table @table of @family)
 * is started: a link of that name, a route or an address of another
 * link overlapping the subnet (default routes aside), the table. Returns
 * 0 when there is none; -1 with VIR_ERR_RESOURCE_BUSY naming the first
 * conflict ("...collides with route 192.168.0.0/16 on 'eth0'"), or
 * another error if the kernel could not be asked. */
int netCheckConflicts(virNetlinkSock *nl, const char *netname, const char *bridge,
                          uint32_t addr, unsigned int prefix, int family, const char *table);

