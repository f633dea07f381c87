/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libvirtsup-network.h: virtual networks, libvirt-compatible, plus the
 * RFC's asynchronous create calls. Same handle rules as domains.
 */
#pragma once

#include "libvirtsup/libvirtsup-common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    VIR_CONNECT_LIST_NETWORKS_INACTIVE = 1 << 0,
    VIR_CONNECT_LIST_NETWORKS_ACTIVE = 1 << 1,
    VIR_CONNECT_LIST_NETWORKS_PERSISTENT = 1 << 2,
    VIR_CONNECT_LIST_NETWORKS_TRANSIENT = 1 << 3,
} virConnectListAllNetworksFlags;

int virConnectListAllNetworks(virConnectPtr conn, virNetworkPtr **nets,
                              unsigned int flags);
virNetworkPtr virNetworkLookupByName(virConnectPtr conn, const char *name);
virNetworkPtr virNetworkDefineXML(virConnectPtr conn, const char *xml);
int virNetworkUndefine(virNetworkPtr network);
int virNetworkCreate(virNetworkPtr network);
virNetworkPtr virNetworkCreateXML(virConnectPtr conn, const char *xmlDesc);
int virNetworkDestroy(virNetworkPtr network);
const char *virNetworkGetName(virNetworkPtr network);
int virNetworkGetUUIDString(virNetworkPtr network, char *buf);
char *virNetworkGetXMLDesc(virNetworkPtr network, unsigned int flags);
int virNetworkIsActive(virNetworkPtr network);
int virNetworkRef(virNetworkPtr network);
int virNetworkFree(virNetworkPtr network);

virJobPtr virNetworkCreateJob(virNetworkPtr network);
virJobPtr virNetworkCreateXMLJob(virConnectPtr conn, const char *xmlDesc);

#ifdef __cplusplus
}
#endif
