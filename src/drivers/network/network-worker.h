/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * network-worker.h: the network driver's worker half, as functions the
 * ops in *-worker.c wrap (and tests call directly).
 *
 * Worker only: single-threaded. Each function that can fail reports its
 * error (virReportError) and returns -1.
 */
#pragma once

#include "drivers/network/network-shared.h"
#include "worker/job.h"

/* --- netxml-worker.c: the only place network XML meets libxml2 --- */

/* Parse and validate libvirt's network XML (the subset in
 * docs/NETWORK-DRIVER.md). On success @out is a canonical definition that
 * passes netDefCheck (its bridge name may still be empty: the library
 * chooses one). */
int netParseXML(const char *xml, size_t len, netDef *out);

/* --- nftables-worker.c --- */

/* Load libnftables (dlopen), once: the spawn helpers of the profiles that
 * name VIR_SUP_LIB_NFTABLES do it before their sandbox
 * (VIR_WORKER_PRELOAD_REGISTER); a test that runs the rules in-process
 * calls it first. 0, or -1 (netNftRun then fails saying why). Not
 * thread-safe. */
int netNftPreload(void);
/* The nftables commands that create table @table with the rules of @def
 * (see nftables-worker.c), commented @owner when not NULL (a checked
 * owner mark). malloc'd, or NULL with an error. */
char *netNftRules(const netDef *def, const char *table, const char *owner);
/* Run nftables commands as one transaction; @what starts the message of
 * a failure, which adds nft's own first line. */
int netNftRun(const char *cmds, const char *what);
/* Install @def's table; @fault (tests) adds a rule nftables refuses, so
 * the whole transaction fails as a real one would. */
int netNftInstall(const netDef *def, const char *table, const char *owner, bool fault);

/* --- start-worker.c --- */

/* Run the phases of the op "network.start" for @p (checked), talking to
 * the library's agent on @agentfd (-1: no dnsmasq) and writing
 * ip_forward through @forwardfd (-1: none). On success *@ifindex is the
 * bridge's. Returns 0, -1 (error reported, everything undone) or -2
 * (cancelled, everything undone). */
int netStartRun(virWorkerJobPtr job, const netStartParams *p, int agentfd, int forwardfd,
                int *ifindex);
