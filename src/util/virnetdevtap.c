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

/* TUNSETIFF on @fd, then MAC, MTU, master and up through netlink. */
static int tapAttach(virNetlinkSock *nl, int fd, const char *bridge, const uint8_t guestMac[6],
                     const char *wantName, char *ifname)
{
    virNetlinkLink br, tap;
    struct ifreq ifr;
    uint8_t mac[6];
    int rc;

    if ((rc = virNetlinkLinkGet(nl, bridge, &br)) <= 0) {
        if (rc == 0)
            virReportError(VIR_ERR_NO_NETWORK, "bridge '%s' does not exist", bridge);
        return -1;
    }
    if (STRNEQ(br.kind, "bridge")) {
        virReportError(VIR_ERR_OPERATION_INVALID,
                       "network interface '%s' is not a bridge (it is %s%s)", bridge,
                       br.kind[0] ? "a " : "a device of no kind", br.kind);
        return -1;
    }
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
    virStrcpyTrunc(ifr.ifr_name, sizeof(ifr.ifr_name), wantName && wantName[0] ? wantName : "vnet%d");
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        if (errno == EBUSY || errno == EEXIST || errno == EINVAL)
            virReportSystemError(errno, "cannot create the tap '%s' for bridge '%s' (a "
                                 "device of that name exists?)", ifr.ifr_name, bridge);
        else
            virReportSystemError(errno, "cannot create a tap for bridge '%s'", bridge);
        return -1;
    }
    /* From here the tap exists; closing fd removes it again. */
    virStrcpyTrunc(ifname, IFNAMSIZ, ifr.ifr_name);
    if ((rc = virNetlinkLinkGet(nl, ifname, &tap)) <= 0) {
        if (rc == 0)
            virReportError(VIR_ERR_OPERATION_FAILED, "tap '%s' vanished", ifname);
        return -1;
    }
    memcpy(mac, guestMac, 6);
    mac[0] = 0xfe;
    if (virNetlinkLinkSetMac(nl, tap.ifindex, ifname, mac) < 0 ||
        (br.mtu && virNetlinkLinkSetMTU(nl, tap.ifindex, ifname, br.mtu) < 0) ||
        virNetlinkLinkSetMaster(nl, tap.ifindex, ifname, br.ifindex) < 0 ||
        virNetlinkLinkSetUp(nl, tap.ifindex, ifname, true) < 0)
        return -1;
    return 0;
}

int virNetDevTapAttach(int fd, const char *bridge, const uint8_t guestMac[6],
                       const char *wantName, char *ifname)
{
    virNetlinkSock *nl = virNetlinkOpen();
    int rc;

    if (!nl)
        return -1;
    rc = tapAttach(nl, fd, bridge, guestMac, wantName, ifname);
    virNetlinkClose(nl);
    return rc;
}

int virNetDevTapCreateInBridge(const char *bridge, const uint8_t guestMac[6], int *tapfd, char *ifname)
{
    int fd;

    if ((fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC)) < 0) {
        virReportSystemError(errno, "%s", "cannot open /dev/net/tun to make a guest's tap");
        return -1;
    }
    if (virNetDevTapAttach(fd, bridge, guestMac, NULL, ifname) < 0) {
        close(fd);
        return -1;
    }
    *tapfd = fd;
    return 0;
}

int virNetDevTapName(int fd, char *ifname)
{
    struct ifreq ifr;

    memset(&ifr, 0, sizeof(ifr));
    if (ioctl(fd, TUNGETIFF, &ifr) < 0) {
        virReportSystemError(errno, "%s", "a guest's tap descriptor is not attached to a tap");
        return -1;
    }
    if (!(ifr.ifr_flags & IFF_TAP)) {
        virReportError(VIR_ERR_OPERATION_FAILED, "device '%.16s' is not a tap", ifr.ifr_name);
        return -1;
    }
    virStrcpyTrunc(ifname, IFNAMSIZ, ifr.ifr_name);
    return 0;
}
