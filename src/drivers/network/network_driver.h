/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * network_driver.h: the network driver's table (network:///system), in
 * the list of src/connect.c. Its calls are described in network_driver.c
 * and docs/NETWORK-DRIVER.md.
 */
#pragma once

#include "driver.h"

extern const virConnectDriver networkConnectDriver;

/* networkActiveBridge (a hypervisor driver's way to the networks) is
 * declared in src/driver.h, where other drivers may include it. */
