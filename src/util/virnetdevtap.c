/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virnetdevtap.c: taps on bridges for guests (see virnetdevtap.h).
 */
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <sys/ioctl.h>

#include "util/internal.h"
#define VIR_FROM_THIS VIR_FROM_NETWORK
#include "util/virerror.h"
#include "util/virnetlink.h"
#include "util/virnetdevtap.h"

int virNetDevTapCreateInBridge(const char *bridge, const uint8_t guestMac[6], int *tapfd, char *ifname)
{
    virNetlinkSock *nl = NULL;
    virNetlinkLink br, tap;
    struct ifreq ifr;
    uint8_t mac[6];
    int fd = -1, rc;

    if (!(nl = virNetlinkOpen()))
        return -1;
    if ((rc = virNetlinkLinkGet(nl, bridge, &br)) <= 0) {
        if (rc == 0)
            virReportError(VIR_ERR_NO_NETWORK, "bridge '%s' does not exist", bridge);
        goto error;
    }
    if (STRNEQ(br.kind, "bridge")) {
        virReportError(VIR_ERR_OPERATION_INVALID,
                       "network interface '%s' is not a bridge (it is %s%s)", bridge,
                       br.kind[0] ? "a " : "a device of no kind", br.kind);
        goto error;
    }
    if ((fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC)) < 0) {
        virReportSystemError(errno, "%s", "cannot open /dev/net/tun to make a guest's tap");
        goto error;
    }
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
    virStrcpyTrunc(ifr.ifr_name, sizeof(ifr.ifr_name), "vnet%d");
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        virReportSystemError(errno, "cannot create a tap for bridge '%s'", bridge);
        goto error;
    }
    /* From here the tap exists; closing fd removes it again. */
    virStrcpyTrunc(ifname, IFNAMSIZ, ifr.ifr_name);
    if ((rc = virNetlinkLinkGet(nl, ifname, &tap)) <= 0) {
        if (rc == 0)
            virReportError(VIR_ERR_OPERATION_FAILED, "tap '%s' vanished", ifname);
        goto error;
    }
    memcpy(mac, guestMac, 6);
    mac[0] = 0xfe;
    if (virNetlinkLinkSetMac(nl, tap.ifindex, ifname, mac) < 0 ||
        (br.mtu && virNetlinkLinkSetMTU(nl, tap.ifindex, ifname, br.mtu) < 0) ||
        virNetlinkLinkSetMaster(nl, tap.ifindex, ifname, br.ifindex) < 0 ||
        virNetlinkLinkSetUp(nl, tap.ifindex, ifname, true) < 0)
        goto error;
    virNetlinkClose(nl);
    *tapfd = fd;
    return 0;

 error:
    if (fd >= 0)
        close(fd);
    virNetlinkClose(nl);
    return -1;
}
