/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * network.c: the public network calls (same rules as domain.c).
 */
#include "driverjob.h"
#include "util/viralloc.h"

#define VIR_FROM_THIS VIR_FROM_NETWORK
#include "util/virerror.h"

/**
 * virConnectListAllNetworks:
 * @nets: set to a new array of handles; free each with virNetworkFree(),
 *         then the array with free(); NULL: only count
 * @flags: virConnectListAllNetworksFlags filters (as for domains)
 *
 * Returns the number of networks, or -1.
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT int virConnectListAllNetworks(virConnectPtr conn, virNetworkPtr **nets,
                                         unsigned int flags)
{
    virNetworkPtr *list = NULL;   /* a NULL @nets asks for the count only */
    int n;

    virResetLastError();
    if (virConnectCheck(conn, __func__) < 0)
        return -1;
    n = VIR_DRIVER_CALL(conn, connectListAllNetworks, -1, conn, nets ? nets : &list, flags);
    for (int i = 0; i < n && list; i++)
        virNetworkFree(list[i]);
    free(list);
    return n;
}

/**
 * virNetworkLookupByName:
 * Returns a new handle (free with virNetworkFree()), or NULL with
 * VIR_ERR_NO_NETWORK.
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT virNetworkPtr virNetworkLookupByName(virConnectPtr conn, const char *name)
{
    virResetLastError();
    if (virConnectCheck(conn, __func__) < 0)
        return NULL;
    virCheckNonNullArg(name, NULL);
    return VIR_DRIVER_CALL(conn, networkLookupByName, NULL, conn, name);
}

/**
 * virNetworkDefineXML:
 * @xml: the network's XML, parsed and validated in a worker
 *
 * Defines a persistent, inactive network and waits. Returns a new handle,
 * or NULL (VIR_ERR_XML_ERROR, VIR_ERR_NETWORK_EXIST, ...).
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT virNetworkPtr virNetworkDefineXML(virConnectPtr conn, const char *xml)
{
    virResetLastError();
    if (virConnectCheckWritable(conn, __func__) < 0)
        return NULL;
    virCheckNonNullArg(xml, NULL);
    return VIR_DRIVER_CALL(conn, networkDefineXML, NULL, conn, xml);
}

/**
 * virNetworkUndefine:
 * Removes a persistent network's definition; an active one becomes
 * transient. Returns 0 or -1.
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT int virNetworkUndefine(virNetworkPtr network)
{
    virResetLastError();
    if (virNetworkCheckWritable(network, __func__) < 0)
        return -1;
    return VIR_DRIVER_CALL(network->conn, networkUndefine, -1, network);
}

/**
 * virNetworkDestroy:
 * Stops an active network (a transient one goes away). Returns 0, or -1
 * (VIR_ERR_OPERATION_INVALID when inactive or while it has a job).
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT int virNetworkDestroy(virNetworkPtr network)
{
    virResetLastError();
    if (virNetworkCheckWritable(network, __func__) < 0)
        return -1;
    return VIR_DRIVER_CALL(network->conn, networkDestroy, -1, network);
}

/**
 * virNetworkGetName:
 * Returns the name, owned by the handle, or NULL.
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT const char *virNetworkGetName(virNetworkPtr network)
{
    virResetLastError();
    if (virNetworkCheck(network, __func__) < 0)
        return NULL;
    return network->name;
}

/**
 * virNetworkGetUUIDString:
 * @buf: at least VIR_UUID_STRING_BUFLEN bytes. Returns 0 or -1.
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT int virNetworkGetUUIDString(virNetworkPtr network, char *buf)
{
    virResetLastError();
    if (virNetworkCheck(network, __func__) < 0)
        return -1;
    virCheckNonNullArg(buf, -1);
    virUUIDFormat(network->uuid, buf);
    return 0;
}

/**
 * virNetworkGetXMLDesc:
 * @flags: 0 or VIR_NETWORK_XML_INACTIVE (others: VIR_ERR_INVALID_ARG)
 *
 * Returns the network's XML (malloc'd, the caller frees it), or NULL.
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT char *virNetworkGetXMLDesc(virNetworkPtr network, unsigned int flags)
{
    virResetLastError();
    if (virNetworkCheck(network, __func__) < 0)
        return NULL;
    return VIR_DRIVER_CALL(network->conn, networkGetXMLDesc, NULL, network, flags);
}

/**
 * virNetworkIsActive:
 * Returns 1 if active, 0 if not, -1 on error.
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT int virNetworkIsActive(virNetworkPtr network)
{
    virResetLastError();
    if (virNetworkCheck(network, __func__) < 0)
        return -1;
    return VIR_DRIVER_CALL(network->conn, networkIsActive, -1, network);
}

/**
 * virNetworkRef:
 * One more reference, released with virNetworkFree(). Returns 0 or -1.
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT int virNetworkRef(virNetworkPtr network)
{
    virResetLastError();
    return virHandleRef(&virNetworkHandle, VIR_HANDLE_MAGIC(network),
                        VIR_HANDLE_REFS(network), __func__);
}

/**
 * virNetworkFree:
 * Drops one reference; the last frees the handle. Returns 0 or -1.
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT int virNetworkFree(virNetworkPtr network)
{
    virResetLastError();
    return virHandleFree(&virNetworkHandle, network, VIR_HANDLE_MAGIC(network),
                         VIR_HANDLE_REFS(network), VIR_HANDLE_CONN(network), __func__);
}

/**
 * virNetworkCreateJob:
 * @network: a defined, inactive network
 *
 * Starts a job that starts the network (virJobGetNetwork returns it).
 * Returns the job, or NULL with an error.
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT virJobPtr virNetworkCreateJob(virNetworkPtr network)
{
    virResetLastError();
    if (virNetworkCheckWritable(network, __func__) < 0)
        return NULL;
    return VIR_DRIVER_CALL(network->conn, networkCreateJob, NULL, network);
}

/**
 * virNetworkCreateXMLJob:
 * @conn: a read-write connection
 * @xmlDesc: the network's XML, parsed in a worker
 *
 * Starts a job that parses the XML and starts a transient network.
 * Returns the job, or NULL with an error.
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT virJobPtr virNetworkCreateXMLJob(virConnectPtr conn, const char *xmlDesc)
{
    virResetLastError();
    if (virConnectCheckWritable(conn, __func__) < 0)
        return NULL;
    virCheckNonNullArg(xmlDesc, NULL);
    return VIR_DRIVER_CALL(conn, networkCreateXMLJob, NULL, conn, xmlDesc);
}

/**
 * virNetworkCreate:
 * virNetworkCreateJob() plus a wait. Returns 0 or -1.
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT int virNetworkCreate(virNetworkPtr network)
{
    return virDriverJobWaitResult(virNetworkCreateJob(network), NULL, NULL);
}

/**
 * virNetworkCreateXML:
 * virNetworkCreateXMLJob() plus a wait. Returns a new handle, or NULL
 * with the job's error.
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT virNetworkPtr virNetworkCreateXML(virConnectPtr conn, const char *xmlDesc)
{
    virNetworkPtr net = NULL;

    if (virDriverJobWaitResult(virNetworkCreateXMLJob(conn, xmlDesc), NULL, &net) < 0)
        return NULL;
    return net;
}

/* ---- events ---- */

/**
 * virConnectNetworkEventRegisterAny:
 * See libvirtsup-network.h. Returns a callback id or -1.
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT int virConnectNetworkEventRegisterAny(virConnectPtr conn, virNetworkPtr net,
                                                 int eventID,
                                                 virConnectNetworkEventGenericCallback cb,
                                                 void *opaque, virFreeCallback freecb)
{
    virEventState *state;

    virResetLastError();
    if (virConnectCheck(conn, __func__) < 0 || (net && virNetworkCheck(net, __func__) < 0) ||
        virEventRegisterArgsCheck(conn, net ? net->conn : NULL, "net", cb != NULL, eventID,
                                  VIR_NETWORK_EVENT_ID_LIFECYCLE, __func__,
                                  VIR_FROM_THIS) < 0)
        return -1;
    if (!(state = VIR_DRIVER_CALL(conn, connectGetEventState, NULL, conn)))
        return -1;
    return virEventStateRegister(state, conn,
                                 VIR_EVENT_OBJ_NETWORK, eventID, net ? net->uuid : NULL,
                                 (void (*)(void))cb, opaque, freecb, false);
}

/**
 * virConnectNetworkEventDeregisterAny:
 * Returns 0 or -1.
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT int virConnectNetworkEventDeregisterAny(virConnectPtr conn, int callbackID)
{
    virEventState *state;

    virResetLastError();
    if (virConnectCheck(conn, __func__) < 0 ||
        virEventCallbackIDCheck(callbackID, __func__, VIR_FROM_THIS) < 0)
        return -1;
    if (!(state = VIR_DRIVER_CALL(conn, connectGetEventState, NULL, conn)))
        return -1;
    return virEventStateDeregister(state, conn,
                                   VIR_EVENT_OBJ_NETWORK, callbackID, NULL);
}
