/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * network_driver.h: the network driver's table (network:///system), in
 * the list of src/connect.c. Its calls are described in network_driver.c
 * and docs/NETWORK-DRIVER.md.
 */
#pragma once

#include "driver.h"

extern const virConnectDriver networkConnectDriver;

/* For a hypervisor driver's <interface type='network'>: the bridge of
 * active network @netname into @bridge (16 bytes), to put the guest's tap
 * on (virNetDevTapCreateInBridge). Returns 0, or -1 with VIR_ERR_NO_NETWORK
 * (no such network) or VIR_ERR_OPERATION_INVALID (not active). Reads the
 * driver's files: thread-safe, any process. */
int networkActiveBridge(const char *netname, char *bridge);
