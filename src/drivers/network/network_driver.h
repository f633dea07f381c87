/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * network_driver.h: the network driver's table (network:///system), in
 * the list of src/connect.c. Its calls are described in network_driver.c
 * and docs/NETWORK-DRIVER.md.
 */
#pragma once

#include "driver.h"
#include "supervisor/supervisor.h"

extern const virConnectDriver networkConnectDriver;

/* The worker profile of the start op (network.start): CAP_NET_ADMIN and
 * netlink sockets, nothing else. Exported for the hostile-worker test,
 * which attacks it. */
extern const virSupProfile netStartProfile;

/* networkActiveBridge (a hypervisor driver's way to the networks) is
 * declared in src/driver.h, where other drivers may include it. */

/* Tests: while @off, connections opened do without inotify, as where it
 * is missing or past its limits (their watcher looks at the run
 * directory every NET_WATCH_LOOK_MS instead). */
void networkTestNoInotify(bool off);
