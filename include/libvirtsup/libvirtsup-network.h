/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libvirtsup-network.h: virtual networks, libvirt-compatible, plus the
 * RFC's asynchronous create calls. Same handle rules as domains.
 */
#pragma once

#include "libvirtsup/libvirtsup-common.h"
#include "libvirtsup/libvirtsup-event.h"

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
/* virNetworkGetXMLDesc flags (libvirt's value): INACTIVE gives a running
 * persistent network's definition as it will start next time. */
typedef enum {
    VIR_NETWORK_XML_INACTIVE = (1 << 0),
} virNetworkXMLFlags;

char *virNetworkGetXMLDesc(virNetworkPtr network, unsigned int flags);
int virNetworkIsActive(virNetworkPtr network);
int virNetworkRef(virNetworkPtr network);
int virNetworkFree(virNetworkPtr network);

/* ---- events (see virConnectDomainEventRegisterAny) ---- */

typedef enum {
    VIR_NETWORK_EVENT_ID_LIFECYCLE = 0,   /* virConnectNetworkEventLifecycleCallback */
} virNetworkEventID;

typedef enum {
    VIR_NETWORK_EVENT_DEFINED = 0,
    VIR_NETWORK_EVENT_UNDEFINED = 1,
    VIR_NETWORK_EVENT_STARTED = 2,
    VIR_NETWORK_EVENT_STOPPED = 3,
} virNetworkEventLifecycleType;

typedef void (*virConnectNetworkEventGenericCallback)(virConnectPtr conn,
                                                      virNetworkPtr net, void *opaque);
/* @detail is 0: libvirt defines none. @net is valid during the call. */
typedef void (*virConnectNetworkEventLifecycleCallback)(virConnectPtr conn,
                                                        virNetworkPtr net, int event,
                                                        int detail, void *opaque);

/* Through void (*)(void): no -Wcast-function-type warning in clients. */
#define VIR_NETWORK_EVENT_CALLBACK(cb) \
    ((virConnectNetworkEventGenericCallback)(void (*)(void))(cb))

/**
 * virConnectNetworkEventRegisterAny / virConnectNetworkEventDeregisterAny:
 * As the domain calls, for networks (@net NULL: every network); the
 * LIFECYCLE events are raised. Since: 0.1.0
 */
int virConnectNetworkEventRegisterAny(virConnectPtr conn, virNetworkPtr net,
                                      int eventID,
                                      virConnectNetworkEventGenericCallback cb,
                                      void *opaque, virFreeCallback freecb);
int virConnectNetworkEventDeregisterAny(virConnectPtr conn, int callbackID);

virJobPtr virNetworkCreateJob(virNetworkPtr network);
virJobPtr virNetworkCreateXMLJob(virConnectPtr conn, const char *xmlDesc);

#ifdef __cplusplus
}
#endif
