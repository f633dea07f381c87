/*
 * network.c: the public network calls (same rules as domain.c).
 */
#include "driver.h"
#include "util/viralloc.h"

#define VIR_FROM_THIS VIR_FROM_NETWORK
#include "util/virerror.h"

int virNetworkCheck(virNetworkPtr net, const char *func)
{
    if (!net || atomic_load_explicit(&net->magic, memory_order_relaxed) !=
                VIR_NETWORK_MAGIC) {
        virReportError(VIR_ERR_INVALID_NETWORK, "%s: invalid network pointer",
                       func);
        return -1;
    }
    return virConnectCheck(net->conn, func);
}

static int networkCheckWritable(virNetworkPtr net, const char *func)
{
    if (virNetworkCheck(net, func) < 0)
        return -1;
    return virConnectCheckWritable(net->conn, func);
}

VIR_EXPORT int virConnectListAllNetworks(virConnectPtr conn, virNetworkPtr **nets,
                                         unsigned int flags)
{
    virResetLastError();
    if (virConnectCheck(conn, __func__) < 0)
        return -1;
    virCheckNonNullArg(nets, -1);
    return conn->driver->connectListAllNetworks(conn, nets, flags);
}

VIR_EXPORT virNetworkPtr virNetworkLookupByName(virConnectPtr conn, const char *name)
{
    virResetLastError();
    if (virConnectCheck(conn, __func__) < 0)
        return NULL;
    virCheckNonNullArg(name, NULL);
    return conn->driver->networkLookupByName(conn, name);
}

VIR_EXPORT virNetworkPtr virNetworkDefineXML(virConnectPtr conn, const char *xml)
{
    virResetLastError();
    if (virConnectCheckWritable(conn, __func__) < 0)
        return NULL;
    virCheckNonNullArg(xml, NULL);
    return conn->driver->networkDefineXML(conn, xml);
}

VIR_EXPORT int virNetworkUndefine(virNetworkPtr network)
{
    virResetLastError();
    if (networkCheckWritable(network, __func__) < 0)
        return -1;
    return network->conn->driver->networkUndefine(network);
}

VIR_EXPORT int virNetworkDestroy(virNetworkPtr network)
{
    virResetLastError();
    if (networkCheckWritable(network, __func__) < 0)
        return -1;
    return network->conn->driver->networkDestroy(network);
}

VIR_EXPORT const char *virNetworkGetName(virNetworkPtr network)
{
    virResetLastError();
    if (virNetworkCheck(network, __func__) < 0)
        return NULL;
    return network->name;
}

VIR_EXPORT int virNetworkGetUUIDString(virNetworkPtr network, char *buf)
{
    virResetLastError();
    if (virNetworkCheck(network, __func__) < 0)
        return -1;
    virCheckNonNullArg(buf, -1);
    virUUIDFormat(network->uuid, buf);
    return 0;
}

VIR_EXPORT char *virNetworkGetXMLDesc(virNetworkPtr network, unsigned int flags)
{
    virResetLastError();
    if (virNetworkCheck(network, __func__) < 0)
        return NULL;
    return network->conn->driver->networkGetXMLDesc(network, flags);
}

VIR_EXPORT int virNetworkIsActive(virNetworkPtr network)
{
    virResetLastError();
    if (virNetworkCheck(network, __func__) < 0)
        return -1;
    return network->conn->driver->networkIsActive(network);
}

VIR_EXPORT int virNetworkRef(virNetworkPtr network)
{
    virResetLastError();
    if (!network || atomic_load_explicit(&network->magic, memory_order_relaxed) !=
                    VIR_NETWORK_MAGIC) {
        virReportError(VIR_ERR_INVALID_NETWORK, "%s",
                       "virNetworkRef: invalid network pointer");
        return -1;
    }
    atomic_fetch_add_explicit(&network->refs, 1, memory_order_relaxed);
    return 0;
}

VIR_EXPORT int virNetworkFree(virNetworkPtr network)
{
    virResetLastError();
    if (!network || atomic_load_explicit(&network->magic, memory_order_relaxed) !=
                    VIR_NETWORK_MAGIC) {
        virReportError(VIR_ERR_INVALID_NETWORK, "%s",
                       "virNetworkFree: invalid network pointer");
        return -1;
    }
    /* acq_rel: all uses through other references happen before the free. */
    if (atomic_fetch_sub_explicit(&network->refs, 1, memory_order_acq_rel) == 1) {
        atomic_store_explicit(&network->magic, VIR_DEAD_MAGIC, memory_order_relaxed);
        virConnectRelease(network->conn);
        free(network);
    }
    return 0;
}

VIR_EXPORT virJobPtr virNetworkCreateJob(virNetworkPtr network)
{
    virResetLastError();
    if (networkCheckWritable(network, __func__) < 0)
        return NULL;
    return network->conn->driver->networkCreateJob(network);
}

VIR_EXPORT virJobPtr virNetworkCreateXMLJob(virConnectPtr conn, const char *xmlDesc)
{
    virResetLastError();
    if (virConnectCheckWritable(conn, __func__) < 0)
        return NULL;
    virCheckNonNullArg(xmlDesc, NULL);
    return conn->driver->networkCreateXMLJob(conn, xmlDesc);
}

VIR_EXPORT int virNetworkCreate(virNetworkPtr network)
{
    return virJobWaitResult(virNetworkCreateJob(network), NULL, NULL);
}

VIR_EXPORT virNetworkPtr virNetworkCreateXML(virConnectPtr conn, const char *xmlDesc)
{
    virNetworkPtr net = NULL;

    if (virJobWaitResult(virNetworkCreateXMLJob(conn, xmlDesc), NULL, &net) < 0)
        return NULL;
    return net;
}
