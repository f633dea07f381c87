/*
 * domain.c: the public domain calls. Each checks its handles and NULL
 * arguments, refuses to change anything through a read-only connection,
 * then dispatches to the connection's driver. The synchronous life-cycle
 * calls are their *Job variant plus a wait (virJobWaitResult), so both behave
 * the same.
 */
#include "driver.h"
#include "util/viralloc.h"

#define VIR_FROM_THIS VIR_FROM_DOMAIN
#include "util/virerror.h"

int virDomainCheck(virDomainPtr dom, const char *func)
{
    if (!dom || atomic_load_explicit(&dom->magic, memory_order_relaxed) !=
                VIR_DOMAIN_MAGIC) {
        virReportError(VIR_ERR_INVALID_DOMAIN, "%s: invalid domain pointer",
                       func);
        return -1;
    }
    return virConnectCheck(dom->conn, func);
}

static int domainCheckWritable(virDomainPtr dom, const char *func)
{
    if (virDomainCheck(dom, func) < 0)
        return -1;
    return virConnectCheckWritable(dom->conn, func);
}

VIR_EXPORT int virConnectListAllDomains(virConnectPtr conn, virDomainPtr **domains,
                                        unsigned int flags)
{
    virResetLastError();
    if (virConnectCheck(conn, __func__) < 0)
        return -1;
    virCheckNonNullArg(domains, -1);
    return conn->driver->connectListAllDomains(conn, domains, flags);
}

VIR_EXPORT virDomainPtr virDomainLookupByName(virConnectPtr conn, const char *name)
{
    virResetLastError();
    if (virConnectCheck(conn, __func__) < 0)
        return NULL;
    virCheckNonNullArg(name, NULL);
    return conn->driver->domainLookupByName(conn, name);
}

VIR_EXPORT virDomainPtr virDomainLookupByUUIDString(virConnectPtr conn,
                                                    const char *uuidstr)
{
    unsigned char uuid[VIR_UUID_BUFLEN];

    virResetLastError();
    if (virConnectCheck(conn, __func__) < 0)
        return NULL;
    virCheckNonNullArg(uuidstr, NULL);
    if (virUUIDParse(uuidstr, uuid) < 0) {
        virReportError(VIR_ERR_INVALID_ARG,
                       "invalid UUID '%.64s': expected 32 hexadecimal digits",
                       uuidstr);
        return NULL;
    }
    return conn->driver->domainLookupByUUID(conn, uuid);
}

VIR_EXPORT const char *virDomainGetName(virDomainPtr domain)
{
    virResetLastError();
    if (virDomainCheck(domain, __func__) < 0)
        return NULL;
    return domain->name;
}

VIR_EXPORT int virDomainGetUUIDString(virDomainPtr domain, char *buf)
{
    virResetLastError();
    if (virDomainCheck(domain, __func__) < 0)
        return -1;
    virCheckNonNullArg(buf, -1);
    virUUIDFormat(domain->uuid, buf);
    return 0;
}

VIR_EXPORT int virDomainGetInfo(virDomainPtr domain, virDomainInfoPtr info)
{
    virResetLastError();
    if (virDomainCheck(domain, __func__) < 0)
        return -1;
    virCheckNonNullArg(info, -1);
    return domain->conn->driver->domainGetInfo(domain, info);
}

VIR_EXPORT int virDomainGetState(virDomainPtr domain, int *state, int *reason,
                                 unsigned int flags)
{
    virResetLastError();
    if (virDomainCheck(domain, __func__) < 0)
        return -1;
    virCheckNonNullArg(state, -1);
    return domain->conn->driver->domainGetState(domain, state, reason, flags);
}

VIR_EXPORT char *virDomainGetXMLDesc(virDomainPtr domain, unsigned int flags)
{
    virResetLastError();
    if (virDomainCheck(domain, __func__) < 0)
        return NULL;
    return domain->conn->driver->domainGetXMLDesc(domain, flags);
}

VIR_EXPORT virConnectPtr virDomainGetConnect(virDomainPtr domain)
{
    virResetLastError();
    if (virDomainCheck(domain, __func__) < 0)
        return NULL;
    return domain->conn;
}

VIR_EXPORT int virDomainRef(virDomainPtr domain)
{
    virResetLastError();
    /* Works on objects of a closed connection too: they must be freeable
     * and a job may keep its result alive. */
    if (!domain || atomic_load_explicit(&domain->magic, memory_order_relaxed) !=
                   VIR_DOMAIN_MAGIC) {
        virReportError(VIR_ERR_INVALID_DOMAIN, "%s",
                       "virDomainRef: invalid domain pointer");
        return -1;
    }
    atomic_fetch_add_explicit(&domain->refs, 1, memory_order_relaxed);
    return 0;
}

VIR_EXPORT int virDomainFree(virDomainPtr domain)
{
    virResetLastError();
    if (!domain || atomic_load_explicit(&domain->magic, memory_order_relaxed) !=
                   VIR_DOMAIN_MAGIC) {
        virReportError(VIR_ERR_INVALID_DOMAIN, "%s",
                       "virDomainFree: invalid domain pointer");
        return -1;
    }
    /* acq_rel: all uses through other references happen before the free. */
    if (atomic_fetch_sub_explicit(&domain->refs, 1, memory_order_acq_rel) == 1) {
        atomic_store_explicit(&domain->magic, VIR_DEAD_MAGIC, memory_order_relaxed);
        virConnectRelease(domain->conn);
        free(domain);
    }
    return 0;
}

VIR_EXPORT virDomainPtr virDomainDefineXML(virConnectPtr conn, const char *xml)
{
    virResetLastError();
    if (virConnectCheckWritable(conn, __func__) < 0)
        return NULL;
    virCheckNonNullArg(xml, NULL);
    return conn->driver->domainDefineXML(conn, xml);
}

VIR_EXPORT int virDomainUndefine(virDomainPtr domain)
{
    virResetLastError();
    if (domainCheckWritable(domain, __func__) < 0)
        return -1;
    return domain->conn->driver->domainUndefine(domain);
}

VIR_EXPORT int virDomainDestroy(virDomainPtr domain)
{
    virResetLastError();
    if (domainCheckWritable(domain, __func__) < 0)
        return -1;
    return domain->conn->driver->domainDestroy(domain);
}

VIR_EXPORT int virDomainGetJobInfo(virDomainPtr domain, virDomainJobInfoPtr info)
{
    virResetLastError();
    if (virDomainCheck(domain, __func__) < 0)
        return -1;
    virCheckNonNullArg(info, -1);
    return domain->conn->driver->domainGetJobInfo(domain, info);
}

VIR_EXPORT int virDomainAbortJob(virDomainPtr domain)
{
    virResetLastError();
    if (domainCheckWritable(domain, __func__) < 0)
        return -1;
    return domain->conn->driver->domainAbortJob(domain);
}

/* ---- the RFC's async variants ---- */

VIR_EXPORT virJobPtr virDomainCreateLinuxJob(virConnectPtr conn, const char *xmlDesc,
                                             unsigned int flags)
{
    virResetLastError();
    if (virConnectCheckWritable(conn, __func__) < 0)
        return NULL;
    virCheckNonNullArg(xmlDesc, NULL);
    return conn->driver->domainCreateXMLJob(conn, xmlDesc, flags, true);
}

VIR_EXPORT virJobPtr virDomainCreateJob(virDomainPtr domain, unsigned int flags)
{
    virResetLastError();
    if (domainCheckWritable(domain, __func__) < 0)
        return NULL;
    return domain->conn->driver->domainCreateJob(domain, flags);
}

VIR_EXPORT virJobPtr virDomainSaveJob(virDomainPtr domain, const char *to)
{
    virResetLastError();
    if (domainCheckWritable(domain, __func__) < 0)
        return NULL;
    virCheckNonNullArg(to, NULL);
    return domain->conn->driver->domainSaveJob(domain, to);
}

VIR_EXPORT virJobPtr virDomainRestoreJob(virConnectPtr conn, const char *from)
{
    virResetLastError();
    if (virConnectCheckWritable(conn, __func__) < 0)
        return NULL;
    virCheckNonNullArg(from, NULL);
    return conn->driver->domainRestoreJob(conn, from);
}

VIR_EXPORT virJobPtr virDomainDumpCoreJob(virDomainPtr domain, const char *to,
                                          int flags)
{
    virResetLastError();
    if (domainCheckWritable(domain, __func__) < 0)
        return NULL;
    virCheckNonNullArg(to, NULL);
    if (flags < 0) {
        virReportError(VIR_ERR_INVALID_ARG,
                       "%s: unsupported flags (0x%x)", __func__, (unsigned)flags);
        return NULL;
    }
    return domain->conn->driver->domainDumpCoreJob(domain, to, (unsigned)flags);
}

/* ---- synchronous life cycle: the job plus a wait ---- */

VIR_EXPORT int virDomainCreate(virDomainPtr domain)
{
    return virJobWaitResult(virDomainCreateJob(domain, 0), NULL, NULL);
}

VIR_EXPORT virDomainPtr virDomainCreateXML(virConnectPtr conn, const char *xmlDesc,
                                           unsigned int flags)
{
    virDomainPtr dom = NULL;

    virResetLastError();
    if (virConnectCheckWritable(conn, __func__) < 0)
        return NULL;
    virCheckNonNullArg(xmlDesc, NULL);
    if (virJobWaitResult(conn->driver->domainCreateXMLJob(conn, xmlDesc, flags, false),
                      &dom, NULL) < 0)
        return NULL;
    return dom;
}

VIR_EXPORT virDomainPtr virDomainCreateLinux(virConnectPtr conn, const char *xmlDesc,
                                             unsigned int flags)
{
    virDomainPtr dom = NULL;

    if (virJobWaitResult(virDomainCreateLinuxJob(conn, xmlDesc, flags), &dom, NULL) < 0)
        return NULL;
    return dom;
}

VIR_EXPORT int virDomainSave(virDomainPtr domain, const char *to)
{
    return virJobWaitResult(virDomainSaveJob(domain, to), NULL, NULL);
}

VIR_EXPORT int virDomainRestore(virConnectPtr conn, const char *from)
{
    return virJobWaitResult(virDomainRestoreJob(conn, from), NULL, NULL);
}

VIR_EXPORT int virDomainCoreDump(virDomainPtr domain, const char *to,
                                 unsigned int flags)
{
    if (flags > (unsigned)INT32_MAX) {
        virResetLastError();
        virReportError(VIR_ERR_INVALID_ARG,
                       "%s: unsupported flags (0x%x)", __func__, flags);
        return -1;
    }
    return virJobWaitResult(virDomainDumpCoreJob(domain, to, (int)flags), NULL, NULL);
}
