/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * domain.c: the public domain calls. Each checks its handles and NULL
 * arguments, refuses to change anything through a read-only connection,
 * then dispatches to the connection's driver. The synchronous life-cycle
 * calls are their *Job variant plus a wait (virDriverJobWaitResult), so both behave
 * the same.
 */
#include "driverjob.h"
#include "util/viralloc.h"

#define VIR_FROM_THIS VIR_FROM_DOMAIN
#include "util/virerror.h"

/**
 * virConnectListAllDomains:
 * @conn: an open connection
 * @domains: set to a new array of handles; the caller frees each with
 *           virDomainFree(), then the array with free(); NULL: only count
 * @flags: virConnectListAllDomainsFlags filters; within each group
 *         (active/inactive, persistent/transient, state) a domain must
 *         match one of the bits given, no bit means no filter
 *
 * Returns the number of domains, or -1 (VIR_ERR_INVALID_CONN,
 * VIR_ERR_INVALID_ARG for NULL @domains or an unknown flag).
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT int virConnectListAllDomains(virConnectPtr conn, virDomainPtr **domains,
                                        unsigned int flags)
{
    virDomainPtr *list = NULL;   /* a NULL @domains asks for the count only */
    int n;

    virResetLastError();
    if (virConnectCheck(conn, __func__) < 0)
        return -1;
    n = VIR_DRIVER_CALL(conn, connectListAllDomains, -1, conn, domains ? domains : &list, flags);
    for (int i = 0; i < n && list; i++)
        virDomainFree(list[i]);
    free(list);
    return n;
}

/**
 * virDomainLookupByName:
 * @conn: an open connection
 * @name: the domain's name
 *
 * Returns a new handle (free with virDomainFree()), or NULL with
 * VIR_ERR_NO_DOMAIN when there is no such domain.
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT virDomainPtr virDomainLookupByName(virConnectPtr conn, const char *name)
{
    virResetLastError();
    if (virConnectCheck(conn, __func__) < 0)
        return NULL;
    virCheckNonNullArg(name, NULL);
    return VIR_DRIVER_CALL(conn, domainLookupByName, NULL, conn, name);
}

/**
 * virDomainLookupByUUIDString:
 * @conn: an open connection
 * @uuidstr: 32 hexadecimal digits, dashes optional
 *
 * Returns a new handle (free with virDomainFree()), or NULL with
 * VIR_ERR_INVALID_ARG for a malformed UUID or VIR_ERR_NO_DOMAIN.
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
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
    return VIR_DRIVER_CALL(conn, domainLookupByUUID, NULL, conn, uuid);
}

/**
 * virDomainGetName:
 * Returns the domain's name, owned by the handle (valid until it is
 * freed), or NULL with VIR_ERR_INVALID_DOMAIN / VIR_ERR_INVALID_CONN.
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT const char *virDomainGetName(virDomainPtr domain)
{
    virResetLastError();
    if (virDomainCheck(domain, __func__) < 0)
        return NULL;
    return domain->name;
}

/**
 * virDomainGetUUIDString:
 * @buf: at least VIR_UUID_STRING_BUFLEN bytes, filled with the UUID
 *
 * Returns 0 or -1.
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT int virDomainGetUUIDString(virDomainPtr domain, char *buf)
{
    virResetLastError();
    if (virDomainCheck(domain, __func__) < 0)
        return -1;
    virCheckNonNullArg(buf, -1);
    virUUIDFormat(domain->uuid, buf);
    return 0;
}

/**
 * virDomainGetInfo:
 * @info: filled with state, memory (KiB), vCPUs and CPU time (ns)
 *
 * Returns 0, or -1 (VIR_ERR_NO_DOMAIN once the domain was undefined).
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT int virDomainGetInfo(virDomainPtr domain, virDomainInfoPtr info)
{
    virResetLastError();
    if (virDomainCheck(domain, __func__) < 0)
        return -1;
    virCheckNonNullArg(info, -1);
    return VIR_DRIVER_CALL(domain->conn, domainGetInfo, -1, domain, info);
}

/**
 * virDomainGetState:
 * @state: set to a virDomainState
 * @reason: if not NULL, set to libvirt's reason for that state (e.g. 5,
 *          saved, for a shut-off domain that was saved)
 * @flags: must be 0
 *
 * Returns 0 or -1.
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT int virDomainGetState(virDomainPtr domain, int *state, int *reason,
                                 unsigned int flags)
{
    virResetLastError();
    if (virDomainCheck(domain, __func__) < 0)
        return -1;
    virCheckNonNullArg(state, -1);
    return VIR_DRIVER_CALL(domain->conn, domainGetState, -1, domain, state, reason, flags);
}

/**
 * virDomainGetXMLDesc:
 * @flags: 0 or VIR_DOMAIN_XML_SECURE | VIR_DOMAIN_XML_INACTIVE (others:
 *         VIR_ERR_INVALID_ARG)
 *
 * Returns the domain's XML, generated from its canonical definition
 * (test-namespace faults and rate included), malloc'd: the caller frees
 * it. NULL on error.
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT char *virDomainGetXMLDesc(virDomainPtr domain, unsigned int flags)
{
    virResetLastError();
    if (virDomainCheck(domain, __func__) < 0)
        return NULL;
    return VIR_DRIVER_CALL(domain->conn, domainGetXMLDesc, NULL, domain, flags);
}

/**
 * virDomainGetConnect:
 * Returns the connection of the domain (not a new reference), or NULL.
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT virConnectPtr virDomainGetConnect(virDomainPtr domain)
{
    virResetLastError();
    if (virDomainCheck(domain, __func__) < 0)
        return NULL;
    return domain->conn;
}

/**
 * virDomainRef:
 * Takes one more reference on the handle, released with virDomainFree().
 * Works on handles of a closed connection too. Returns 0 or -1.
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT int virDomainRef(virDomainPtr domain)
{
    virResetLastError();
    /* Works on objects of a closed connection too: they must be freeable
     * and a job may keep its result alive. */
    return virHandleRef(&virDomainHandle, VIR_HANDLE_MAGIC(domain),
                        VIR_HANDLE_REFS(domain), __func__);
}

/**
 * virDomainFree:
 * Drops one reference; the last one frees the handle (not the domain).
 * Works on handles of a closed connection too. Returns 0, or -1 with
 * VIR_ERR_INVALID_DOMAIN for a bad handle.
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT int virDomainFree(virDomainPtr domain)
{
    virResetLastError();
    return virHandleFree(&virDomainHandle, domain, VIR_HANDLE_MAGIC(domain),
                         VIR_HANDLE_REFS(domain), VIR_HANDLE_CONN(domain), __func__);
}

/**
 * virDomainDefineXML:
 * @conn: a read-write connection
 * @xml: the domain's XML; parsed and validated by a worker process, never
 *       in the caller
 *
 * Defines (or redefines a shut-off) persistent domain. Waits for the
 * parsing job. Returns a new handle (free with virDomainFree()), or NULL:
 * VIR_ERR_XML_ERROR / VIR_ERR_CONFIG_UNSUPPORTED for bad XML,
 * VIR_ERR_DOM_EXIST when the name or UUID belongs to another domain,
 * VIR_ERR_OPERATION_DENIED on a read-only connection.
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT virDomainPtr virDomainDefineXML(virConnectPtr conn, const char *xml)
{
    virResetLastError();
    if (virConnectCheckWritable(conn, __func__) < 0)
        return NULL;
    virCheckNonNullArg(xml, NULL);
    return VIR_DRIVER_CALL(conn, domainDefineXML, NULL, conn, xml);
}

/**
 * virDomainUndefine:
 * Removes a persistent domain's definition; a running one becomes
 * transient. Returns 0, or -1: VIR_ERR_OPERATION_INVALID for a transient
 * domain or while it has a job (the message names the job).
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT int virDomainUndefine(virDomainPtr domain)
{
    virResetLastError();
    if (virDomainCheckWritable(domain, __func__) < 0)
        return -1;
    return VIR_DRIVER_CALL(domain->conn, domainUndefine, -1, domain);
}

/**
 * virDomainDestroy:
 * Stops a running domain at once (a transient one goes away). Returns 0,
 * or -1: VIR_ERR_OPERATION_INVALID when not running or
 * while it has a job (abort it first).
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT int virDomainDestroy(virDomainPtr domain)
{
    virResetLastError();
    if (virDomainCheckWritable(domain, __func__) < 0)
        return -1;
    return VIR_DRIVER_CALL(domain->conn, domainDestroy, -1, domain);
}

/**
 * virDomainGetJobInfo:
 * @info: filled from the domain's active async job (type BOUNDED while it
 *         runs; times in ms, data in bytes), all zero (VIR_DOMAIN_JOB_NONE)
 *         when there is none
 *
 * Returns 0 or -1.
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT int virDomainGetJobInfo(virDomainPtr domain, virDomainJobInfoPtr info)
{
    virResetLastError();
    if (virDomainCheck(domain, __func__) < 0)
        return -1;
    virCheckNonNullArg(info, -1);
    return VIR_DRIVER_CALL(domain->conn, domainGetJobInfo, -1, domain, info);
}

/**
 * virDomainAbortJob:
 * Cancels the domain's active async job (as virJobCancel). Returns 0, or
 * -1 with VIR_ERR_OPERATION_INVALID when there is none,
 * VIR_ERR_OPERATION_DENIED on a read-only connection.
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT int virDomainAbortJob(virDomainPtr domain)
{
    virResetLastError();
    if (virDomainCheckWritable(domain, __func__) < 0)
        return -1;
    return VIR_DRIVER_CALL(domain->conn, domainAbortJob, -1, domain);
}

/* ---- the RFC's async variants ---- */

/**
 * virDomainCreateLinuxJob:
 * @conn: a read-write connection
 * @xmlDesc: the domain's XML (parsed in a worker)
 * @flags: must be 0
 *
 * Starts a job that parses the XML, boots the domain in stages and adds it
 * as a transient running domain (virJobGetDomain returns it).
 * Returns the job (the caller destroys it with virJobDestroy()), or NULL
 * with an error, having changed nothing.
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT virJobPtr virDomainCreateLinuxJob(virConnectPtr conn, const char *xmlDesc,
                                             unsigned int flags)
{
    virResetLastError();
    if (virConnectCheckWritable(conn, __func__) < 0)
        return NULL;
    virCheckNonNullArg(xmlDesc, NULL);
    return VIR_DRIVER_CALL(conn, domainCreateXMLJob, NULL, conn, xmlDesc, flags, true);
}

/**
 * virDomainCreateJob:
 * @domain: a defined, shut-off domain
 * @flags: must be 0
 *
 * Starts a job that boots the domain. Returns the job, or NULL:
 * VIR_ERR_OPERATION_INVALID when it is running or
 * when it has a job.
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT virJobPtr virDomainCreateJob(virDomainPtr domain, unsigned int flags)
{
    virResetLastError();
    if (virDomainCheckWritable(domain, __func__) < 0)
        return NULL;
    return VIR_DRIVER_CALL(domain->conn, domainCreateJob, NULL, domain, flags);
}

/**
 * virDomainSaveJob:
 * @domain: a running domain
 * @to: the image's path; its directory must exist; not a directory (nor a
 *      symlink to one) nor a special file. An existing file there is
 *      replaced only when the job completes.
 *
 * Starts a job that writes the save image into an unnamed file in @to's
 * directory; when it completes the file is flushed and renamed over @to
 * atomically and the domain is shut off. A failed or cancelled save leaves
 * @to as it was. Returns the job, or NULL with an error (the domain's job
 * slot busy: VIR_ERR_OPERATION_INVALID naming the running job).
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT virJobPtr virDomainSaveJob(virDomainPtr domain, const char *to)
{
    virResetLastError();
    if (virDomainCheckWritable(domain, __func__) < 0)
        return NULL;
    virCheckNonNullArg(to, NULL);
    return VIR_DRIVER_CALL(domain->conn, domainSaveJob, NULL, domain, to);
}

/**
 * virDomainRestoreJob:
 * @conn: a read-write connection
 * @from: a save image (a regular file)
 *
 * Starts a job that reads and verifies the whole image and recreates the
 * domain running (virJobGetDomain returns it; handles of that domain stay
 * valid). A corrupt, truncated or foreign image fails the job and changes
 * nothing. Returns the job, or NULL with an error (e.g. the domain named by
 * the image already runs).
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT virJobPtr virDomainRestoreJob(virConnectPtr conn, const char *from)
{
    virResetLastError();
    if (virConnectCheckWritable(conn, __func__) < 0)
        return NULL;
    virCheckNonNullArg(from, NULL);
    return VIR_DRIVER_CALL(conn, domainRestoreJob, NULL, conn, from);
}

/**
 * virDomainDumpCoreJob:
 * @domain: a running domain
 * @to: the core file's path (as for virDomainSaveJob)
 * @flags: VIR_DUMP_CRASH (the domain is left crashed, shut off) and
 *         VIR_DUMP_LIVE; others are refused
 *
 * Starts a job that writes an ELF64 core file, linked into place
 * atomically when it completes. Returns the job, or NULL with an error.
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT virJobPtr virDomainDumpCoreJob(virDomainPtr domain, const char *to,
                                          int flags)
{
    virResetLastError();
    if (virDomainCheckWritable(domain, __func__) < 0)
        return NULL;
    virCheckNonNullArg(to, NULL);
    if (flags < 0) {
        virReportError(VIR_ERR_INVALID_ARG,
                       "%s: unsupported flags (0x%x)", __func__, (unsigned)flags);
        return NULL;
    }
    return VIR_DRIVER_CALL(domain->conn, domainDumpCoreJob, NULL, domain, to, (unsigned)flags);
}

/* ---- synchronous life cycle: the job plus a wait ---- */

/**
 * virDomainCreate:
 * Boots a defined, shut-off domain and waits: virDomainCreateJob() plus
 * a wait. Returns 0, or -1 with the job's error.
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT int virDomainCreate(virDomainPtr domain)
{
    return virDriverJobWaitResult(virDomainCreateJob(domain, 0), NULL, NULL);
}

/**
 * virDomainCreateXML:
 * @flags: must be 0
 *
 * Creates and boots a transient domain from XML (parsed in a worker) and
 * waits. Returns a new handle (free with virDomainFree()), or NULL with the
 * job's error.
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT virDomainPtr virDomainCreateXML(virConnectPtr conn, const char *xmlDesc,
                                           unsigned int flags)
{
    virDomainPtr dom = NULL;

    virResetLastError();
    if (virConnectCheckWritable(conn, __func__) < 0)
        return NULL;
    virCheckNonNullArg(xmlDesc, NULL);
    if (virDriverJobWaitResult(VIR_DRIVER_CALL(conn, domainCreateXMLJob, NULL, conn,
                                               xmlDesc, flags, false),
                               &dom, NULL) < 0)
        return NULL;
    return dom;
}

/**
 * virDomainCreateLinux:
 * As virDomainCreateXML: virDomainCreateLinuxJob() plus a wait.
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT virDomainPtr virDomainCreateLinux(virConnectPtr conn, const char *xmlDesc,
                                             unsigned int flags)
{
    virDomainPtr dom = NULL;

    if (virDriverJobWaitResult(virDomainCreateLinuxJob(conn, xmlDesc, flags), &dom, NULL) < 0)
        return NULL;
    return dom;
}

/**
 * virDomainSave:
 * virDomainSaveJob() plus a wait. Returns 0, or -1 with the job's error.
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT int virDomainSave(virDomainPtr domain, const char *to)
{
    return virDriverJobWaitResult(virDomainSaveJob(domain, to), NULL, NULL);
}

/**
 * virDomainRestore:
 * virDomainRestoreJob() plus a wait. Returns 0, or -1 with the job's
 * error.
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT int virDomainRestore(virConnectPtr conn, const char *from)
{
    return virDriverJobWaitResult(virDomainRestoreJob(conn, from), NULL, NULL);
}

/**
 * virDomainCoreDump:
 * virDomainDumpCoreJob() plus a wait. Returns 0, or -1 with the job's
 * error.
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT int virDomainCoreDump(virDomainPtr domain, const char *to,
                                 unsigned int flags)
{
    if (flags > (unsigned)INT32_MAX) {
        virResetLastError();
        virReportError(VIR_ERR_INVALID_ARG,
                       "%s: unsupported flags (0x%x)", __func__, flags);
        return -1;
    }
    return virDriverJobWaitResult(virDomainDumpCoreJob(domain, to, (int)flags), NULL, NULL);
}

/* ---- libvirt's other domain calls ---- */

/**
 * virDomainLookupByID:
 * Returns a new handle of the running domain @id, or NULL
 * (VIR_ERR_NO_DOMAIN; VIR_ERR_INVALID_ARG for a negative @id).
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT virDomainPtr virDomainLookupByID(virConnectPtr conn, int id)
{
    virResetLastError();
    if (virConnectCheck(conn, __func__) < 0)
        return NULL;
    if (id < 0) {
        virReportError(VIR_ERR_INVALID_ARG, "id in %s must be zero or greater", __func__);
        return NULL;
    }
    return VIR_DRIVER_CALL(conn, domainLookupByID, NULL, conn, id);
}

/**
 * virDomainLookupByUUID:
 * Returns a new handle, or NULL (VIR_ERR_NO_DOMAIN).
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT virDomainPtr virDomainLookupByUUID(virConnectPtr conn, const unsigned char *uuid)
{
    virResetLastError();
    if (virConnectCheck(conn, __func__) < 0)
        return NULL;
    virCheckNonNullArg(uuid, NULL);
    return VIR_DRIVER_CALL(conn, domainLookupByUUID, NULL, conn, uuid);
}

/* The active (@active) or inactive domains, from the driver's list. */
static int listDomains(virConnectPtr conn, bool active, virDomainPtr **doms)
{
    return VIR_DRIVER_CALL(conn, connectListAllDomains, -1, conn, doms,
                           active ? VIR_CONNECT_LIST_DOMAINS_ACTIVE
                                  : VIR_CONNECT_LIST_DOMAINS_INACTIVE);
}

static void freeDomains(virDomainPtr *doms, int n)
{
    for (int i = 0; i < n; i++)
        virDomainFree(doms[i]);
    free(doms);
}

/**
 * virConnectNumOfDomains:
 * Returns the number of active domains, or -1.
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT int virConnectNumOfDomains(virConnectPtr conn)
{
    virDomainPtr *doms = NULL;
    int n;

    virResetLastError();
    if (virConnectCheck(conn, __func__) < 0)
        return -1;
    if ((n = listDomains(conn, true, &doms)) >= 0)
        freeDomains(doms, n);
    return n;
}

/**
 * virConnectNumOfDefinedDomains:
 * Returns the number of inactive domains, or -1.
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT int virConnectNumOfDefinedDomains(virConnectPtr conn)
{
    virDomainPtr *doms = NULL;
    int n;

    virResetLastError();
    if (virConnectCheck(conn, __func__) < 0)
        return -1;
    if ((n = listDomains(conn, false, &doms)) >= 0)
        freeDomains(doms, n);
    return n;
}

/**
 * virConnectListDomains:
 * Fills @ids with the IDs of at most @maxids active domains. Returns how
 * many, or -1.
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT int virConnectListDomains(virConnectPtr conn, int *ids, int maxids)
{
    virDomainPtr *doms = NULL;
    int n, k = 0;

    virResetLastError();
    if (virConnectCheck(conn, __func__) < 0)
        return -1;
    virCheckNonNullArg(ids, -1);
    if (maxids < 0) {
        virReportError(VIR_ERR_INVALID_ARG, "maxids in %s must be zero or greater",
                       __func__);
        return -1;
    }
    if ((n = listDomains(conn, true, &doms)) < 0)
        return -1;
    for (int i = 0; i < n && k < maxids; i++) {
        int id = VIR_DRIVER_CALL(conn, domainGetID, -1, doms[i]);
        /* A domain stopped since the list was made is left out. */
        if (id >= 0)
            ids[k++] = id;
    }
    freeDomains(doms, n);
    virResetLastError();
    return k;
}

/**
 * virConnectListDefinedDomains:
 * Fills @names with malloc'd names of at most @maxnames inactive domains
 * (the caller frees each). Returns how many, or -1 (nothing to free then).
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT int virConnectListDefinedDomains(virConnectPtr conn, char **const names,
                                            int maxnames)
{
    virDomainPtr *doms = NULL;
    int n, k = 0;

    virResetLastError();
    if (virConnectCheck(conn, __func__) < 0)
        return -1;
    virCheckNonNullArg(names, -1);
    if (maxnames < 0) {
        virReportError(VIR_ERR_INVALID_ARG, "maxnames in %s must be zero or greater",
                       __func__);
        return -1;
    }
    if ((n = listDomains(conn, false, &doms)) < 0)
        return -1;
    for (int i = 0; i < n && k < maxnames; i++) {
        if (!(names[k] = virStrdup(doms[i]->name))) {
            for (int j = 0; j < k; j++) {
                free(names[j]);
                names[j] = NULL;
            }
            freeDomains(doms, n);
            return -1;
        }
        k++;
    }
    freeDomains(doms, n);
    return k;
}

/**
 * virDomainGetUUID:
 * @uuid: VIR_UUID_BUFLEN bytes. Returns 0 or -1.
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT int virDomainGetUUID(virDomainPtr domain, unsigned char *uuid)
{
    virResetLastError();
    if (virDomainCheck(domain, __func__) < 0)
        return -1;
    virCheckNonNullArg(uuid, -1);
    memcpy(uuid, domain->uuid, VIR_UUID_BUFLEN);
    return 0;
}

/**
 * virDomainGetID:
 * Returns the running domain's ID, or (unsigned int)-1 when it is
 * inactive or on error.
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT unsigned int virDomainGetID(virDomainPtr domain)
{
    virResetLastError();
    if (virDomainCheck(domain, __func__) < 0)
        return (unsigned int)-1;
    return (unsigned int)VIR_DRIVER_CALL(domain->conn, domainGetID, -1, domain);
}

/**
 * virDomainGetOSType:
 * Returns the OS type, malloc'd (the caller frees it), or NULL.
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT char *virDomainGetOSType(virDomainPtr domain)
{
    virResetLastError();
    if (virDomainCheck(domain, __func__) < 0)
        return NULL;
    return VIR_DRIVER_CALL(domain->conn, domainGetOSType, NULL, domain);
}

/**
 * virDomainIsActive:
 * Returns 1 if running or paused, 0 if not, -1 on error.
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT int virDomainIsActive(virDomainPtr domain)
{
    virResetLastError();
    if (virDomainCheck(domain, __func__) < 0)
        return -1;
    return VIR_DRIVER_CALL(domain->conn, domainIsActive, -1, domain);
}

/**
 * virDomainIsPersistent:
 * Returns 1 if defined, 0 if transient, -1 on error.
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT int virDomainIsPersistent(virDomainPtr domain)
{
    virResetLastError();
    if (virDomainCheck(domain, __func__) < 0)
        return -1;
    return VIR_DRIVER_CALL(domain->conn, domainIsPersistent, -1, domain);
}

/**
 * virDomainCreateWithFlags:
 * virDomainCreate with @flags 0. Returns 0 or -1.
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT int virDomainCreateWithFlags(virDomainPtr domain, unsigned int flags)
{
    virResetLastError();
    virCheckFlags(0, -1);
    return virDriverJobWaitResult(virDomainCreateJob(domain, 0), NULL, NULL);
}

/**
 * virDomainDestroyFlags:
 * virDomainDestroy with @flags 0. Returns 0 or -1.
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT int virDomainDestroyFlags(virDomainPtr domain, unsigned int flags)
{
    virResetLastError();
    virCheckFlags(0, -1);
    return virDomainDestroy(domain);
}

/**
 * virDomainUndefineFlags:
 * virDomainUndefine with @flags 0. Returns 0 or -1.
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT int virDomainUndefineFlags(virDomainPtr domain, unsigned int flags)
{
    virResetLastError();
    virCheckFlags(0, -1);
    return virDomainUndefine(domain);
}

/**
 * virDomainSuspend:
 * Pauses a running domain. Returns 0 or -1.
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT int virDomainSuspend(virDomainPtr domain)
{
    virResetLastError();
    if (virDomainCheckWritable(domain, __func__) < 0)
        return -1;
    return VIR_DRIVER_CALL(domain->conn, domainSuspend, -1, domain);
}

/**
 * virDomainResume:
 * Runs a paused domain again. Returns 0 or -1.
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT int virDomainResume(virDomainPtr domain)
{
    virResetLastError();
    if (virDomainCheckWritable(domain, __func__) < 0)
        return -1;
    return VIR_DRIVER_CALL(domain->conn, domainResume, -1, domain);
}

/**
 * virDomainShutdownFlags:
 * Shuts an active domain down. Returns 0 or -1.
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT int virDomainShutdownFlags(virDomainPtr domain, unsigned int flags)
{
    virResetLastError();
    if (virDomainCheckWritable(domain, __func__) < 0)
        return -1;
    return VIR_DRIVER_CALL(domain->conn, domainShutdown, -1, domain, flags);
}

/**
 * virDomainShutdown:
 * virDomainShutdownFlags(domain, 0).
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT int virDomainShutdown(virDomainPtr domain)
{
    virResetLastError();
    if (virDomainCheckWritable(domain, __func__) < 0)
        return -1;
    return VIR_DRIVER_CALL(domain->conn, domainShutdown, -1, domain, 0);
}

/**
 * virDomainReboot:
 * Reboots an active domain. Returns 0 or -1.
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT int virDomainReboot(virDomainPtr domain, unsigned int flags)
{
    virResetLastError();
    if (virDomainCheckWritable(domain, __func__) < 0)
        return -1;
    return VIR_DRIVER_CALL(domain->conn, domainReboot, -1, domain, flags);
}

/* A changed definition for the image is not something we can honour. */
static int refuseDxml(const char *dxml, const char *func)
{
    if (!dxml)
        return 0;
    virReportError(VIR_ERR_ARGUMENT_UNSUPPORTED,
                   "%s: a changed domain XML for the image is not supported", func);
    return -1;
}

/**
 * virDomainSaveFlags:
 * virDomainSave with @dxml NULL and @flags 0 or VIR_DOMAIN_SAVE_BYPASS_CACHE.
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT int virDomainSaveFlags(virDomainPtr domain, const char *to, const char *dxml,
                                  unsigned int flags)
{
    virResetLastError();
    if (virDomainCheckWritable(domain, __func__) < 0)
        return -1;
    virCheckFlags(VIR_DOMAIN_SAVE_BYPASS_CACHE, -1);
    if (refuseDxml(dxml, __func__) < 0)
        return -1;
    return virDomainSave(domain, to);
}

/**
 * virDomainRestoreFlags:
 * virDomainRestore with @dxml NULL and @flags 0 or
 * VIR_DOMAIN_SAVE_BYPASS_CACHE.
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT int virDomainRestoreFlags(virConnectPtr conn, const char *from, const char *dxml,
                                     unsigned int flags)
{
    virResetLastError();
    if (virConnectCheckWritable(conn, __func__) < 0)
        return -1;
    virCheckFlags(VIR_DOMAIN_SAVE_BYPASS_CACHE, -1);
    if (refuseDxml(dxml, __func__) < 0)
        return -1;
    return virDomainRestore(conn, from);
}

/**
 * virDomainCoreDumpWithFormat:
 * virDomainCoreDump in the RAW (ELF) format. Returns 0 or -1.
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT int virDomainCoreDumpWithFormat(virDomainPtr domain, const char *to,
                                           unsigned int dumpformat, unsigned int flags)
{
    virResetLastError();
    if (virDomainCheckWritable(domain, __func__) < 0)
        return -1;
    if (dumpformat > VIR_DOMAIN_CORE_DUMP_FORMAT_WIN_DMP) {
        virReportError(VIR_ERR_INVALID_ARG, "dumpformat '%u' is not supported", dumpformat);
        return -1;
    }
    if (dumpformat != VIR_DOMAIN_CORE_DUMP_FORMAT_RAW) {
        virReportError(VIR_ERR_OPERATION_UNSUPPORTED, "%s",
                       dumpformat == VIR_DOMAIN_CORE_DUMP_FORMAT_WIN_DMP
                       ? "the Windows crash dump format is not supported: only ELF"
                       : "kdump-compressed formats are not supported: only ELF");
        return -1;
    }
    virCheckFlags(VIR_DUMP_CRASH | VIR_DUMP_LIVE | VIR_DUMP_BYPASS_CACHE |
                  VIR_DUMP_MEMORY_ONLY, -1);
    /* The ELF core is the guest's memory: MEMORY_ONLY is what we write, and
     * the file is flushed anyway (BYPASS_CACHE). */
    return virDomainCoreDump(domain, to,
                             flags & ~(unsigned int)(VIR_DUMP_MEMORY_ONLY | VIR_DUMP_BYPASS_CACHE));
}

/**
 * virDomainGetJobStats:
 * See libvirtsup-domain.h. Returns 0 or -1.
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT int virDomainGetJobStats(virDomainPtr domain, int *type,
                                    virTypedParameterPtr *params, int *nparams,
                                    unsigned int flags)
{
    virResetLastError();
    if (virDomainCheck(domain, __func__) < 0)
        return -1;
    virCheckNonNullArg(type, -1);
    virCheckNonNullArg(params, -1);
    virCheckNonNullArg(nparams, -1);
    return VIR_DRIVER_CALL(domain->conn, domainGetJobStats, -1, domain, type, params,
                           nparams, flags);
}

/**
 * virDomainAbortJobFlags:
 * virDomainAbortJob with @flags 0. Returns 0 or -1.
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT int virDomainAbortJobFlags(virDomainPtr domain, unsigned int flags)
{
    virResetLastError();
    if (virDomainCheckWritable(domain, __func__) < 0)
        return -1;
    virCheckFlags(0, -1);
    return virDomainAbortJob(domain);
}

/* ---- events ---- */

/**
 * virConnectDomainEventRegisterAny:
 * See libvirtsup-domain.h. Returns a callback id or -1.
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT int virConnectDomainEventRegisterAny(virConnectPtr conn, virDomainPtr dom,
                                                int eventID,
                                                virConnectDomainEventGenericCallback cb,
                                                void *opaque, virFreeCallback freecb)
{
    virEventState *state;

    virResetLastError();
    if (virConnectCheck(conn, __func__) < 0 || (dom && virDomainCheck(dom, __func__) < 0) ||
        virEventRegisterArgsCheck(conn, dom ? dom->conn : NULL, "dom", cb != NULL, eventID,
                                  VIR_DOMAIN_EVENT_ID_MEMORY_DEVICE_SIZE_CHANGE, __func__,
                                  VIR_FROM_THIS) < 0)
        return -1;
    if (!(state = VIR_DRIVER_CALL(conn, connectGetEventState, NULL, conn)))
        return -1;
    return virEventStateRegister(state, conn, VIR_EVENT_OBJ_DOMAIN, eventID,
                                 dom ? dom->uuid : NULL, (void (*)(void))cb, opaque,
                                 freecb, false);
}

/**
 * virConnectDomainEventDeregisterAny:
 * Returns 0 or -1.
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT int virConnectDomainEventDeregisterAny(virConnectPtr conn, int callbackID)
{
    virEventState *state;

    virResetLastError();
    if (virConnectCheck(conn, __func__) < 0 ||
        virEventCallbackIDCheck(callbackID, __func__, VIR_FROM_THIS) < 0)
        return -1;
    if (!(state = VIR_DRIVER_CALL(conn, connectGetEventState, NULL, conn)))
        return -1;
    return virEventStateDeregister(state, conn, VIR_EVENT_OBJ_DOMAIN, callbackID, NULL);
}

/**
 * virConnectDomainEventRegister:
 * A lifecycle callback for every domain. Returns 0 or -1.
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT int virConnectDomainEventRegister(virConnectPtr conn,
                                             virConnectDomainEventCallback cb,
                                             void *opaque, virFreeCallback freecb)
{
    virEventState *state;

    virResetLastError();
    if (virConnectCheck(conn, __func__) < 0)
        return -1;
    virCheckNonNullArg(cb, -1);
    if (!(state = VIR_DRIVER_CALL(conn, connectGetEventState, NULL, conn)))
        return -1;
    return virEventStateRegister(state, conn, VIR_EVENT_OBJ_DOMAIN,
                                 VIR_DOMAIN_EVENT_ID_LIFECYCLE, NULL, (void (*)(void))cb,
                                 opaque, freecb, true) < 0 ? -1 : 0;
}

/**
 * virConnectDomainEventDeregister:
 * Removes the callback @cb registered with virConnectDomainEventRegister.
 * Returns 0 or -1.
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT int virConnectDomainEventDeregister(virConnectPtr conn,
                                               virConnectDomainEventCallback cb)
{
    virEventState *state;

    virResetLastError();
    if (virConnectCheck(conn, __func__) < 0)
        return -1;
    virCheckNonNullArg(cb, -1);
    if (!(state = VIR_DRIVER_CALL(conn, connectGetEventState, NULL, conn)))
        return -1;
    return virEventStateDeregister(state, conn, VIR_EVENT_OBJ_DOMAIN, -1,
                                   (void (*)(void))cb);
}
