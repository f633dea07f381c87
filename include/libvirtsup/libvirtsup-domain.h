/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libvirtsup-domain.h: domains, libvirt-compatible where libvirt has the
 * call, plus the RFC's asynchronous *Job variants.
 *
 * A virDomainPtr names its domain by UUID, as libvirt's do: it stays valid
 * across save, restore, destroy and start of the same domain. Handles are
 * reference counted: each one returned to the caller is released with
 * virDomainFree(). All calls are thread-safe.
 *
 * The synchronous calls (virDomainSave, ...) are their *Job variant plus a
 * wait, so both behave the same. One async job per domain at a time: a
 * second one fails at once with VIR_ERR_JOB_ACTIVE.
 */
#pragma once

#include "libvirtsup/libvirtsup-common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    VIR_DOMAIN_NOSTATE = 0,
    VIR_DOMAIN_RUNNING = 1,
    VIR_DOMAIN_BLOCKED = 2,
    VIR_DOMAIN_PAUSED = 3,
    VIR_DOMAIN_SHUTDOWN = 4,
    VIR_DOMAIN_SHUTOFF = 5,
    VIR_DOMAIN_CRASHED = 6,
    VIR_DOMAIN_PMSUSPENDED = 7,
} virDomainState;

typedef struct _virDomainInfo {
    unsigned char state;        /* virDomainState */
    unsigned long maxMem;       /* KiB */
    unsigned long memory;       /* KiB */
    unsigned short nrVirtCpu;
    unsigned long long cpuTime; /* ns */
} virDomainInfo;
typedef virDomainInfo *virDomainInfoPtr;

typedef enum {
    VIR_CONNECT_LIST_DOMAINS_ACTIVE = 1 << 0,
    VIR_CONNECT_LIST_DOMAINS_INACTIVE = 1 << 1,
    VIR_CONNECT_LIST_DOMAINS_PERSISTENT = 1 << 2,
    VIR_CONNECT_LIST_DOMAINS_TRANSIENT = 1 << 3,
    VIR_CONNECT_LIST_DOMAINS_RUNNING = 1 << 4,
    VIR_CONNECT_LIST_DOMAINS_PAUSED = 1 << 5,
    VIR_CONNECT_LIST_DOMAINS_SHUTOFF = 1 << 6,
    VIR_CONNECT_LIST_DOMAINS_OTHER = 1 << 7,
} virConnectListAllDomainsFlags;

typedef enum {
    VIR_DUMP_CRASH = 1 << 0,        /* the domain is left crashed (shut off) after */
    VIR_DUMP_LIVE = 1 << 1,         /* keep running while dumping (not paused) */
    VIR_DUMP_BYPASS_CACHE = 1 << 2,
    VIR_DUMP_RESET = 1 << 3,
    VIR_DUMP_MEMORY_ONLY = 1 << 4,
} virDomainCoreDumpFlags;

/* libvirt's virDomainGetJobInfo record. */
typedef enum {
    VIR_DOMAIN_JOB_NONE = 0,
    VIR_DOMAIN_JOB_BOUNDED = 1,
    VIR_DOMAIN_JOB_UNBOUNDED = 2,
    VIR_DOMAIN_JOB_COMPLETED = 3,
    VIR_DOMAIN_JOB_FAILED = 4,
    VIR_DOMAIN_JOB_CANCELLED = 5,
} virDomainJobType;

typedef struct _virDomainJobInfo {
    int type;                          /* virDomainJobType */
    unsigned long long timeElapsed;    /* ms */
    unsigned long long timeRemaining;  /* ms */
    unsigned long long dataTotal;      /* bytes */
    unsigned long long dataProcessed;
    unsigned long long dataRemaining;
    unsigned long long memTotal;
    unsigned long long memProcessed;
    unsigned long long memRemaining;
    unsigned long long fileTotal;
    unsigned long long fileProcessed;
    unsigned long long fileRemaining;
} virDomainJobInfo;
typedef virDomainJobInfo *virDomainJobInfoPtr;

/* Listing and lookup. Lists return arrays the caller frees: each element
 * with virDomainFree(), then the array with free(). Return the count or -1. */
int virConnectListAllDomains(virConnectPtr conn, virDomainPtr **domains,
                             unsigned int flags);
virDomainPtr virDomainLookupByName(virConnectPtr conn, const char *name);
virDomainPtr virDomainLookupByUUIDString(virConnectPtr conn, const char *uuid);

/* Accessors. Strings from Get*Desc are malloc'd (caller frees); GetName's is
 * owned by the handle. */
const char *virDomainGetName(virDomainPtr domain);
int virDomainGetUUIDString(virDomainPtr domain, char *buf);
int virDomainGetInfo(virDomainPtr domain, virDomainInfoPtr info);
int virDomainGetState(virDomainPtr domain, int *state, int *reason,
                      unsigned int flags);
char *virDomainGetXMLDesc(virDomainPtr domain, unsigned int flags);
virConnectPtr virDomainGetConnect(virDomainPtr domain);
int virDomainRef(virDomainPtr domain);
int virDomainFree(virDomainPtr domain);

/* Life cycle (synchronous). */
virDomainPtr virDomainDefineXML(virConnectPtr conn, const char *xml);
int virDomainUndefine(virDomainPtr domain);
int virDomainCreate(virDomainPtr domain);
virDomainPtr virDomainCreateXML(virConnectPtr conn, const char *xmlDesc,
                                unsigned int flags);
virDomainPtr virDomainCreateLinux(virConnectPtr conn, const char *xmlDesc,
                                  unsigned int flags);
int virDomainDestroy(virDomainPtr domain);
int virDomainSave(virDomainPtr domain, const char *to);
int virDomainRestore(virConnectPtr conn, const char *from);
int virDomainCoreDump(virDomainPtr domain, const char *to, unsigned int flags);

/* The domain's active async job, libvirt style. GetJobInfo reports
 * VIR_DOMAIN_JOB_NONE when there is none. AbortJob cancels it (-1 with
 * VIR_ERR_OPERATION_INVALID when there is none). */
int virDomainGetJobInfo(virDomainPtr domain, virDomainJobInfoPtr info);
int virDomainAbortJob(virDomainPtr domain);

/* The RFC's asynchronous variants: each returns a job at once (or NULL
 * with an error, having changed nothing); see libvirtsup-job.h. */
virJobPtr virDomainCreateLinuxJob(virConnectPtr conn, const char *xmlDesc,
                                  unsigned int flags);
virJobPtr virDomainCreateJob(virDomainPtr domain, unsigned int flags);
virJobPtr virDomainSaveJob(virDomainPtr domain, const char *to);
virJobPtr virDomainRestoreJob(virConnectPtr conn, const char *from);
virJobPtr virDomainDumpCoreJob(virDomainPtr domain, const char *to, int flags);

#ifdef __cplusplus
}
#endif
