/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virnetdevtap.h: a guest's port on a bridge: a tap device attached to it,
 * whose descriptor QEMU is given (-netdev tap,fd=N), for a guest's
 * <interface type='network'> (the network's bridge, virNetworkGetBridgeName)
 * or <interface type='bridge'>. The caller holds CAP_NET_ADMIN
 * (qemu:///system, root).
 *
 * The tap lives as long as its descriptor: when QEMU (and every other
 * holder) has closed it, the kernel removes the tap, and so the port.
 */
#pragma once

#include <stdint.h>

/* Create a tap, give it @guestMac with its first byte 0xfe (so the bridge
 * never takes a guest's address as its own), @bridge's MTU, attach it to
 * @bridge and set it up. On success *@tapfd is the tap's descriptor
 * (close-on-exec; the caller owns it) and @ifname (16 bytes) its name
 * ("vnetN"). Returns 0, or -1 with an error (a @bridge that does not exist
 * or is not a bridge: VIR_ERR_NO_NETWORK / VIR_ERR_OPERATION_INVALID);
 * nothing is left on failure. Thread-safe. */
int virNetDevTapCreateInBridge(const char *bridge, const uint8_t guestMac[6], int *tapfd, char *ifname);

/* The same on @fd, a descriptor of /dev/net/tun opened by someone else
 * (a worker holding CAP_NET_ADMIN, given the descriptor by the library):
 * the tap is named @wantName if given (else "vnetN"), its name is written
 * to @ifname (16 bytes). The tap lives as long as @fd (and its duplicates)
 * stays open; on failure the caller closes @fd and nothing is left.
 * Returns 0, or -1 with an error naming @bridge. Thread-safe. */
int virNetDevTapAttach(int fd, const char *bridge, const uint8_t guestMac[6],
                       const char *wantName, char *ifname);

/* The name of the tap @fd is attached to (TUNGETIFF), into @ifname (16
 * bytes): 0, or -1 with an error when @fd is no tap. Needs no capability. */
int virNetDevTapName(int fd, char *ifname);
