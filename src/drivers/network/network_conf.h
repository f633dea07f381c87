/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * network_conf.h: the network driver's library side for definitions: XML
 * generated from a checked netDef, the dnsmasq configuration, and the
 * files that keep definitions and live state on disk.
 *
 * Library only (trusted). Nothing here parses XML: the worker does
 * (netxml-worker.c), and what comes back or is read from disk passes
 * netDefCheck first.
 */
#pragma once

#include <sys/types.h>

#include "drivers/network/network-shared.h"

/* libvirt's network XML for @def (which passed netDefCheck). @connections
 * > 0 adds the live connections='N' attribute. malloc'd, or NULL (OOM,
 * reported). */
char *netDefFormat(const netDef *def, unsigned int connections);

/* The dnsmasq configuration of @def, for a dnsmasq run with
 * --conf-file=THIS --keep-in-foreground: @leasefile is where it keeps
 * its leases. NULL when @def needs no dnsmasq (no address, or neither
 * DHCP nor DNS). malloc'd; *@none set when none is needed. */
char *netDnsmasqConf(const netDef *def, const char *leasefile, bool *none);

/* A random locally administered MAC in libvirt's 52:54:00 prefix, for a
 * bridge defined without one. Returns 0, or -1 with an error. */
int netMacGenerate(uint8_t mac[6]);
