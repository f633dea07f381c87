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
 * second one fails at once with VIR_ERR_OPERATION_INVALID.
 */
#pragma once

#include "libvirtsup/libvirtsup-common.h"
#include "libvirtsup/libvirtsup-event.h"

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

/* Why a domain is in its state (virDomainGetState's @reason), libvirt's. */
typedef enum {
    VIR_DOMAIN_NOSTATE_UNKNOWN = 0,
} virDomainNostateReason;

typedef enum {
    VIR_DOMAIN_RUNNING_UNKNOWN = 0,
    VIR_DOMAIN_RUNNING_BOOTED = 1,
    VIR_DOMAIN_RUNNING_MIGRATED = 2,
    VIR_DOMAIN_RUNNING_RESTORED = 3,
    VIR_DOMAIN_RUNNING_FROM_SNAPSHOT = 4,
    VIR_DOMAIN_RUNNING_UNPAUSED = 5,
    VIR_DOMAIN_RUNNING_MIGRATION_CANCELED = 6,
    VIR_DOMAIN_RUNNING_SAVE_CANCELED = 7,
    VIR_DOMAIN_RUNNING_WAKEUP = 8,
    VIR_DOMAIN_RUNNING_CRASHED = 9,
    VIR_DOMAIN_RUNNING_POSTCOPY = 10,
    VIR_DOMAIN_RUNNING_POSTCOPY_FAILED = 11,
} virDomainRunningReason;

typedef enum {
    VIR_DOMAIN_BLOCKED_UNKNOWN = 0,
} virDomainBlockedReason;

typedef enum {
    VIR_DOMAIN_PAUSED_UNKNOWN = 0,
    VIR_DOMAIN_PAUSED_USER = 1,
    VIR_DOMAIN_PAUSED_MIGRATION = 2,
    VIR_DOMAIN_PAUSED_SAVE = 3,
    VIR_DOMAIN_PAUSED_DUMP = 4,
    VIR_DOMAIN_PAUSED_IOERROR = 5,
    VIR_DOMAIN_PAUSED_WATCHDOG = 6,
    VIR_DOMAIN_PAUSED_FROM_SNAPSHOT = 7,
    VIR_DOMAIN_PAUSED_SHUTTING_DOWN = 8,
    VIR_DOMAIN_PAUSED_SNAPSHOT = 9,
    VIR_DOMAIN_PAUSED_CRASHED = 10,
    VIR_DOMAIN_PAUSED_STARTING_UP = 11,
    VIR_DOMAIN_PAUSED_POSTCOPY = 12,
    VIR_DOMAIN_PAUSED_POSTCOPY_FAILED = 13,
} virDomainPausedReason;

typedef enum {
    VIR_DOMAIN_SHUTDOWN_UNKNOWN = 0,
    VIR_DOMAIN_SHUTDOWN_USER = 1,
} virDomainShutdownReason;

typedef enum {
    VIR_DOMAIN_SHUTOFF_UNKNOWN = 0,
    VIR_DOMAIN_SHUTOFF_SHUTDOWN = 1,
    VIR_DOMAIN_SHUTOFF_DESTROYED = 2,
    VIR_DOMAIN_SHUTOFF_CRASHED = 3,
    VIR_DOMAIN_SHUTOFF_MIGRATED = 4,
    VIR_DOMAIN_SHUTOFF_SAVED = 5,
    VIR_DOMAIN_SHUTOFF_FAILED = 6,
    VIR_DOMAIN_SHUTOFF_FROM_SNAPSHOT = 7,
    VIR_DOMAIN_SHUTOFF_DAEMON = 8,
} virDomainShutoffReason;

typedef enum {
    VIR_DOMAIN_CRASHED_UNKNOWN = 0,
    VIR_DOMAIN_CRASHED_PANICKED = 1,
} virDomainCrashedReason;

typedef enum {
    VIR_DOMAIN_PMSUSPENDED_UNKNOWN = 0,
} virDomainPMSuspendedReason;

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

/* virDomainCoreDumpWithFormat formats: RAW is the ELF core libvirtsup
 * writes; the others are refused with VIR_ERR_OPERATION_UNSUPPORTED. */
typedef enum {
    VIR_DOMAIN_CORE_DUMP_FORMAT_RAW = 0,
    VIR_DOMAIN_CORE_DUMP_FORMAT_KDUMP_ZLIB = 1,
    VIR_DOMAIN_CORE_DUMP_FORMAT_KDUMP_LZO = 2,
    VIR_DOMAIN_CORE_DUMP_FORMAT_KDUMP_SNAPPY = 3,
    VIR_DOMAIN_CORE_DUMP_FORMAT_WIN_DMP = 4,
} virDomainCoreDumpFormat;

/* virDomainSaveFlags / virDomainRestoreFlags flags (libvirt's; only
 * BYPASS_CACHE is accepted: the image is flushed to disk anyway). */
typedef enum {
    VIR_DOMAIN_SAVE_BYPASS_CACHE = 1 << 0,
    VIR_DOMAIN_SAVE_RUNNING = 1 << 1,
    VIR_DOMAIN_SAVE_PAUSED = 1 << 2,
    VIR_DOMAIN_SAVE_RESET_NVRAM = 1 << 3,
} virDomainSaveRestoreFlags;

/* virDomainShutdownFlags / virDomainReboot flags (0 or ACPI_POWER_BTN,
 * which is what the test driver does). */
typedef enum {
    VIR_DOMAIN_SHUTDOWN_DEFAULT = 0,
    VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN = 1 << 0,
    VIR_DOMAIN_SHUTDOWN_GUEST_AGENT = 1 << 1,
    VIR_DOMAIN_SHUTDOWN_INITCTL = 1 << 2,
    VIR_DOMAIN_SHUTDOWN_SIGNAL = 1 << 3,
    VIR_DOMAIN_SHUTDOWN_PARAVIRT = 1 << 4,
} virDomainShutdownFlagValues;

typedef enum {
    VIR_DOMAIN_REBOOT_DEFAULT = 0,
    VIR_DOMAIN_REBOOT_ACPI_POWER_BTN = 1 << 0,
    VIR_DOMAIN_REBOOT_GUEST_AGENT = 1 << 1,
    VIR_DOMAIN_REBOOT_INITCTL = 1 << 2,
    VIR_DOMAIN_REBOOT_SIGNAL = 1 << 3,
    VIR_DOMAIN_REBOOT_PARAVIRT = 1 << 4,
} virDomainRebootFlagValues;

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

/* virDomainGetJobStats: what the job does, and its fields (libvirt's
 * names; which ones libvirtsup fills is said at virDomainGetJobStats). */
typedef enum {
    VIR_DOMAIN_JOB_OPERATION_UNKNOWN = 0,
    VIR_DOMAIN_JOB_OPERATION_START = 1,
    VIR_DOMAIN_JOB_OPERATION_SAVE = 2,
    VIR_DOMAIN_JOB_OPERATION_RESTORE = 3,
    VIR_DOMAIN_JOB_OPERATION_MIGRATION_IN = 4,
    VIR_DOMAIN_JOB_OPERATION_MIGRATION_OUT = 5,
    VIR_DOMAIN_JOB_OPERATION_SNAPSHOT = 6,
    VIR_DOMAIN_JOB_OPERATION_SNAPSHOT_REVERT = 7,
    VIR_DOMAIN_JOB_OPERATION_DUMP = 8,
    VIR_DOMAIN_JOB_OPERATION_BACKUP = 9,
    VIR_DOMAIN_JOB_OPERATION_SNAPSHOT_DELETE = 10,
} virDomainJobOperation;

typedef enum {
    VIR_DOMAIN_JOB_STATS_COMPLETED = 1 << 0,       /* the last completed job instead */
    VIR_DOMAIN_JOB_STATS_KEEP_COMPLETED = 1 << 1,  /* and keep it for the next call */
} virDomainGetJobStatsFlags;

#define VIR_DOMAIN_JOB_OPERATION        "operation"        /* int, virDomainJobOperation */
#define VIR_DOMAIN_JOB_TIME_ELAPSED     "time_elapsed"     /* ullong, ms */
#define VIR_DOMAIN_JOB_TIME_REMAINING   "time_remaining"   /* ullong, ms (running jobs) */
#define VIR_DOMAIN_JOB_DATA_TOTAL       "data_total"       /* ullong, bytes */
#define VIR_DOMAIN_JOB_DATA_PROCESSED   "data_processed"   /* ullong, bytes */
#define VIR_DOMAIN_JOB_DATA_REMAINING   "data_remaining"   /* ullong, bytes */
#define VIR_DOMAIN_JOB_MEMORY_TOTAL     "memory_total"     /* ullong, bytes */
#define VIR_DOMAIN_JOB_MEMORY_PROCESSED "memory_processed" /* ullong, bytes */
#define VIR_DOMAIN_JOB_MEMORY_REMAINING "memory_remaining" /* ullong, bytes */
#define VIR_DOMAIN_JOB_MEMORY_BPS       "memory_bps"       /* ullong, bytes/s */
#define VIR_DOMAIN_JOB_DISK_TOTAL       "disk_total"       /* ullong, bytes */
#define VIR_DOMAIN_JOB_DISK_PROCESSED   "disk_processed"   /* ullong, bytes */
#define VIR_DOMAIN_JOB_DISK_REMAINING   "disk_remaining"   /* ullong, bytes */
#define VIR_DOMAIN_JOB_DISK_BPS         "disk_bps"         /* ullong, bytes/s */
#define VIR_DOMAIN_JOB_SUCCESS          "success"          /* boolean, completed jobs */
#define VIR_DOMAIN_JOB_ERRMSG           "errmsg"           /* string, failed jobs */

typedef enum {
    VIR_DOMAIN_ABORT_JOB_POSTCOPY = 1 << 0,   /* refused: there is no post-copy */
} virDomainAbortJobFlagsValues;

/* Listing and lookup. Lists return arrays the caller frees: each element
 * with virDomainFree(), then the array with free(). Return the count or -1. */
int virConnectListAllDomains(virConnectPtr conn, virDomainPtr **domains,
                             unsigned int flags);
virDomainPtr virDomainLookupByName(virConnectPtr conn, const char *name);
virDomainPtr virDomainLookupByUUIDString(virConnectPtr conn, const char *uuid);

/**
 * virDomainLookupByID:
 * @id: a running domain's ID (as virDomainGetID, virConnectListDomains)
 *
 * Returns a new handle, or NULL: VIR_ERR_NO_DOMAIN, VIR_ERR_INVALID_ARG for
 * a negative @id. Since: 0.1.0
 */
virDomainPtr virDomainLookupByID(virConnectPtr conn, int id);

/**
 * virDomainLookupByUUID:
 * @uuid: VIR_UUID_BUFLEN raw bytes
 * Returns a new handle, or NULL (VIR_ERR_NO_DOMAIN). Since: 0.1.0
 */
virDomainPtr virDomainLookupByUUID(virConnectPtr conn, const unsigned char *uuid);

/**
 * virConnectNumOfDomains / virConnectNumOfDefinedDomains:
 * Returns how many domains are active (running, paused) / inactive, or -1.
 * Since: 0.1.0
 */
int virConnectNumOfDomains(virConnectPtr conn);
int virConnectNumOfDefinedDomains(virConnectPtr conn);

/**
 * virConnectListDomains:
 * @ids: filled with the IDs of the active domains, at most @maxids
 * Returns how many were written, or -1 (VIR_ERR_INVALID_ARG for a NULL
 * @ids or a negative @maxids). Since: 0.1.0
 */
int virConnectListDomains(virConnectPtr conn, int *ids, int maxids);

/**
 * virConnectListDefinedDomains:
 * @names: filled with malloc'd names of the inactive domains (the caller
 *         frees each), at most @maxnames
 * Returns how many were written, or -1. Since: 0.1.0
 */
int virConnectListDefinedDomains(virConnectPtr conn, char **const names, int maxnames);

/* Accessors. Strings from Get*Desc are malloc'd (caller frees); GetName's is
 * owned by the handle. */
const char *virDomainGetName(virDomainPtr domain);
int virDomainGetUUIDString(virDomainPtr domain, char *buf);

/**
 * virDomainGetUUID:
 * @uuid: VIR_UUID_BUFLEN bytes, filled with the raw UUID
 * Returns 0 or -1. Since: 0.1.0
 */
int virDomainGetUUID(virDomainPtr domain, unsigned char *uuid);

/**
 * virDomainGetID:
 *
 * Returns the running domain's ID (the test driver numbers them from 1,
 * each start taking the next, as libvirt's does), or (unsigned int)-1 for
 * an inactive domain or on error. Since: 0.1.0
 */
unsigned int virDomainGetID(virDomainPtr domain);

/**
 * virDomainGetOSType:
 * Returns the OS type ("hvm", "linux"), malloc'd, or NULL. Since: 0.1.0
 */
char *virDomainGetOSType(virDomainPtr domain);

/**
 * virDomainIsActive / virDomainIsPersistent:
 * Returns 1 (active: running or paused; persistent: defined), 0, or -1.
 * Since: 0.1.0
 */
int virDomainIsActive(virDomainPtr domain);
int virDomainIsPersistent(virDomainPtr domain);
int virDomainGetInfo(virDomainPtr domain, virDomainInfoPtr info);
int virDomainGetState(virDomainPtr domain, int *state, int *reason,
                      unsigned int flags);
/* virDomainGetXMLDesc flags (libvirt's values). SECURE changes nothing
 * (no definition holds secrets); INACTIVE gives the definition without
 * what only a running guest has (its ID); UPDATE_CPU and MIGRATABLE are
 * refused with VIR_ERR_INVALID_ARG. */
typedef enum {
    VIR_DOMAIN_XML_SECURE = (1 << 0),
    VIR_DOMAIN_XML_INACTIVE = (1 << 1),
    VIR_DOMAIN_XML_UPDATE_CPU = (1 << 2),
    VIR_DOMAIN_XML_MIGRATABLE = (1 << 3),
} virDomainXMLFlags;

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

/**
 * virDomainCreateWithFlags / virDomainDestroyFlags / virDomainUndefineFlags:
 * As virDomainCreate, virDomainDestroy, virDomainUndefine; @flags must be 0
 * (VIR_ERR_INVALID_ARG otherwise). Since: 0.1.0
 */
int virDomainCreateWithFlags(virDomainPtr domain, unsigned int flags);
int virDomainDestroyFlags(virDomainPtr domain, unsigned int flags);
int virDomainUndefineFlags(virDomainPtr domain, unsigned int flags);

/**
 * virDomainSuspend / virDomainResume:
 *
 * Pause a running domain (state paused, reason user) / run a paused one
 * again (running, reason unpaused). Returns 0, or -1 with
 * VIR_ERR_OPERATION_INVALID when it is not running / not paused, or
 * while a job runs on it (the test driver: a job of the connection; the
 * qemu driver: a save or dump of any connection, in any process, which
 * owns the guest's run state until it ends; the message names the job).
 * Raise the SUSPENDED / RESUMED events. Since: 0.1.0
 */
int virDomainSuspend(virDomainPtr domain);
int virDomainResume(virDomainPtr domain);

/**
 * virDomainShutdown / virDomainShutdownFlags:
 *
 * Ask the guest to shut down; the test driver's guests obey at once
 * (shut off, reason shutdown; a transient one goes away), as libvirt's
 * do. @flags: 0 or VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN (the qemu driver:
 * VIR_DOMAIN_SHUTDOWN_GUEST_AGENT alone is VIR_ERR_ARGUMENT_UNSUPPORTED;
 * a reboot still pending is cancelled, as libvirt). Returns 0 or -1
 * (VIR_ERR_OPERATION_INVALID when not active, or on the qemu driver while
 * a save or dump of any connection runs on it). Raises SHUTDOWN then
 * STOPPED. Since: 0.1.0
 */
int virDomainShutdown(virDomainPtr domain);
int virDomainShutdownFlags(virDomainPtr domain, unsigned int flags);

/**
 * virDomainReboot:
 * @flags: 0 or VIR_DOMAIN_REBOOT_ACPI_POWER_BTN
 * The test driver's guests reboot at once and keep running (reason
 * booted). Raises the REBOOT event. The qemu driver's reboot is
 * libvirt's: the guest is asked (ACPI power button) and, once it has
 * shut down, runs again in the same QEMU with the same ID (REBOOT event
 * then); returns once the guest was asked. VIR_DOMAIN_REBOOT_GUEST_AGENT
 * alone: VIR_ERR_ARGUMENT_UNSUPPORTED (docs/QEMU-DRIVER.md); refused
 * (VIR_ERR_OPERATION_INVALID) while a save or dump of any connection runs
 * on it. Returns 0 or -1. Since: 0.1.0
 */
int virDomainReboot(virDomainPtr domain, unsigned int flags);

/**
 * virDomainSaveFlags / virDomainRestoreFlags:
 * @dxml: must be NULL (a changed definition is refused with
 *        VIR_ERR_ARGUMENT_UNSUPPORTED, as libvirt's test driver does)
 * @flags: 0 or VIR_DOMAIN_SAVE_BYPASS_CACHE
 * As virDomainSave / virDomainRestore. Since: 0.1.0
 */
int virDomainSaveFlags(virDomainPtr domain, const char *to, const char *dxml,
                       unsigned int flags);
int virDomainRestoreFlags(virConnectPtr conn, const char *from, const char *dxml,
                          unsigned int flags);

/**
 * virDomainCoreDumpWithFormat:
 * @dumpformat: VIR_DOMAIN_CORE_DUMP_FORMAT_RAW (an ELF core); the kdump
 *              and Windows formats: VIR_ERR_OPERATION_UNSUPPORTED
 * @flags: VIR_DUMP_CRASH, VIR_DUMP_LIVE, VIR_DUMP_MEMORY_ONLY (what is
 *         written anyway: the guest's memory), VIR_DUMP_BYPASS_CACHE
 * As virDomainCoreDump. Since: 0.1.0
 */
int virDomainCoreDumpWithFormat(virDomainPtr domain, const char *to,
                                unsigned int dumpformat, unsigned int flags);

/* The domain's active async job, libvirt style (whose, as at
 * virDomainGetJobStats). GetJobInfo reports VIR_DOMAIN_JOB_NONE when there
 * is none. AbortJob cancels it, as virJobCancel does, and returns once the
 * cancel is under way, not when the job has ended; -1 with
 * VIR_ERR_OPERATION_INVALID when there is none. On the qemu driver a save
 * or dump of another connection (another application, or another
 * connection of this one) is cancelled by that connection, which alone can:
 * AbortJob asks it (a request file in the guest's run directory, which
 * that connection hears through inotify, or finds within 250 ms if it
 * has none), waits until it has taken the
 * request or the job has ended, and fails with VIR_ERR_OPERATION_TIMEOUT,
 * naming the job and its process, if neither happens within the
 * connection's monitor timeout (at most 10 s). Thread-safe. */
int virDomainGetJobInfo(virDomainPtr domain, virDomainJobInfoPtr info);
int virDomainAbortJob(virDomainPtr domain);

/**
 * virDomainGetJobStats:
 * @type: set to a virDomainJobType
 * @params: set to a new array (free with virTypedParamsFree), NULL when
 *          there is no job
 * @flags: 0, or VIR_DOMAIN_JOB_STATS_COMPLETED for the domain's last
 *         ended job (kept until the next job starts; with
 *         VIR_DOMAIN_JOB_STATS_KEEP_COMPLETED, also kept after reading)
 *
 * The domain's job: on the test driver, by whichever connection of the
 * process started it (its node is the process's); on the qemu driver, the
 * connection's own or, with none, a save or dump that another connection
 * (in any process) runs on the guest, its live figures read from that
 * job's status segment (COMPLETED: the connection's own only). Fields:
 * VIR_DOMAIN_JOB_OPERATION, TIME_ELAPSED, TIME_REMAINING (running),
 * DATA_* and DISK_* (bytes of the image or core file), MEMORY_* (the
 * guest memory processed), MEMORY_BPS, and for an ended job SUCCESS and
 * ERRMSG (when it failed or was cancelled). Returns 0 or -1.
 * Since: 0.1.0
 */
int virDomainGetJobStats(virDomainPtr domain, int *type, virTypedParameterPtr *params,
                         int *nparams, unsigned int flags);

/**
 * virDomainAbortJobFlags:
 * @flags: must be 0 (VIR_DOMAIN_ABORT_JOB_POSTCOPY: VIR_ERR_INVALID_ARG)
 * As virDomainAbortJob. Since: 0.1.0
 */
int virDomainAbortJobFlags(virDomainPtr domain, unsigned int flags);

/* ---- events (libvirt's model; see libvirtsup-event.h) ---- */

typedef enum {
    VIR_DOMAIN_EVENT_ID_LIFECYCLE = 0,        /* virConnectDomainEventCallback */
    VIR_DOMAIN_EVENT_ID_REBOOT = 1,           /* virConnectDomainEventGenericCallback */
    VIR_DOMAIN_EVENT_ID_RTC_CHANGE = 2,
    VIR_DOMAIN_EVENT_ID_WATCHDOG = 3,
    VIR_DOMAIN_EVENT_ID_IO_ERROR = 4,
    VIR_DOMAIN_EVENT_ID_GRAPHICS = 5,
    VIR_DOMAIN_EVENT_ID_IO_ERROR_REASON = 6,
    VIR_DOMAIN_EVENT_ID_CONTROL_ERROR = 7,
    VIR_DOMAIN_EVENT_ID_BLOCK_JOB = 8,
    VIR_DOMAIN_EVENT_ID_DISK_CHANGE = 9,
    VIR_DOMAIN_EVENT_ID_TRAY_CHANGE = 10,
    VIR_DOMAIN_EVENT_ID_PMWAKEUP = 11,
    VIR_DOMAIN_EVENT_ID_PMSUSPEND = 12,
    VIR_DOMAIN_EVENT_ID_BALLOON_CHANGE = 13,
    VIR_DOMAIN_EVENT_ID_PMSUSPEND_DISK = 14,
    VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED = 15,
    VIR_DOMAIN_EVENT_ID_BLOCK_JOB_2 = 16,
    VIR_DOMAIN_EVENT_ID_TUNABLE = 17,
    VIR_DOMAIN_EVENT_ID_AGENT_LIFECYCLE = 18,
    VIR_DOMAIN_EVENT_ID_DEVICE_ADDED = 19,
    VIR_DOMAIN_EVENT_ID_MIGRATION_ITERATION = 20,
    VIR_DOMAIN_EVENT_ID_JOB_COMPLETED = 21,   /* virConnectDomainEventJobCompletedCallback */
    VIR_DOMAIN_EVENT_ID_DEVICE_REMOVAL_FAILED = 22,
    VIR_DOMAIN_EVENT_ID_METADATA_CHANGE = 23,
    VIR_DOMAIN_EVENT_ID_BLOCK_THRESHOLD = 24,
    VIR_DOMAIN_EVENT_ID_MEMORY_FAILURE = 25,
    VIR_DOMAIN_EVENT_ID_MEMORY_DEVICE_SIZE_CHANGE = 26,
} virDomainEventID;

/* Lifecycle events and their details (libvirt's values). */
typedef enum {
    VIR_DOMAIN_EVENT_DEFINED = 0,
    VIR_DOMAIN_EVENT_UNDEFINED = 1,
    VIR_DOMAIN_EVENT_STARTED = 2,
    VIR_DOMAIN_EVENT_SUSPENDED = 3,
    VIR_DOMAIN_EVENT_RESUMED = 4,
    VIR_DOMAIN_EVENT_STOPPED = 5,
    VIR_DOMAIN_EVENT_SHUTDOWN = 6,
    VIR_DOMAIN_EVENT_PMSUSPENDED = 7,
    VIR_DOMAIN_EVENT_CRASHED = 8,
} virDomainEventType;

typedef enum {
    VIR_DOMAIN_EVENT_DEFINED_ADDED = 0,
    VIR_DOMAIN_EVENT_DEFINED_UPDATED = 1,
    VIR_DOMAIN_EVENT_DEFINED_RENAMED = 2,
    VIR_DOMAIN_EVENT_DEFINED_FROM_SNAPSHOT = 3,
} virDomainEventDefinedDetailType;

typedef enum {
    VIR_DOMAIN_EVENT_UNDEFINED_REMOVED = 0,
    VIR_DOMAIN_EVENT_UNDEFINED_RENAMED = 1,
} virDomainEventUndefinedDetailType;

typedef enum {
    VIR_DOMAIN_EVENT_STARTED_BOOTED = 0,
    VIR_DOMAIN_EVENT_STARTED_MIGRATED = 1,
    VIR_DOMAIN_EVENT_STARTED_RESTORED = 2,
    VIR_DOMAIN_EVENT_STARTED_FROM_SNAPSHOT = 3,
    VIR_DOMAIN_EVENT_STARTED_WAKEUP = 4,
} virDomainEventStartedDetailType;

typedef enum {
    VIR_DOMAIN_EVENT_SUSPENDED_PAUSED = 0,
    VIR_DOMAIN_EVENT_SUSPENDED_MIGRATED = 1,
    VIR_DOMAIN_EVENT_SUSPENDED_IOERROR = 2,
    VIR_DOMAIN_EVENT_SUSPENDED_WATCHDOG = 3,
    VIR_DOMAIN_EVENT_SUSPENDED_RESTORED = 4,
    VIR_DOMAIN_EVENT_SUSPENDED_FROM_SNAPSHOT = 5,
    VIR_DOMAIN_EVENT_SUSPENDED_API_ERROR = 6,
    VIR_DOMAIN_EVENT_SUSPENDED_POSTCOPY = 7,
    VIR_DOMAIN_EVENT_SUSPENDED_POSTCOPY_FAILED = 8,
} virDomainEventSuspendedDetailType;

typedef enum {
    VIR_DOMAIN_EVENT_RESUMED_UNPAUSED = 0,
    VIR_DOMAIN_EVENT_RESUMED_MIGRATED = 1,
    VIR_DOMAIN_EVENT_RESUMED_FROM_SNAPSHOT = 2,
    VIR_DOMAIN_EVENT_RESUMED_POSTCOPY = 3,
    VIR_DOMAIN_EVENT_RESUMED_POSTCOPY_FAILED = 4,
} virDomainEventResumedDetailType;

typedef enum {
    VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN = 0,
    VIR_DOMAIN_EVENT_STOPPED_DESTROYED = 1,
    VIR_DOMAIN_EVENT_STOPPED_CRASHED = 2,
    VIR_DOMAIN_EVENT_STOPPED_MIGRATED = 3,
    VIR_DOMAIN_EVENT_STOPPED_SAVED = 4,
    VIR_DOMAIN_EVENT_STOPPED_FAILED = 5,
    VIR_DOMAIN_EVENT_STOPPED_FROM_SNAPSHOT = 6,
} virDomainEventStoppedDetailType;

typedef enum {
    VIR_DOMAIN_EVENT_SHUTDOWN_FINISHED = 0,
    VIR_DOMAIN_EVENT_SHUTDOWN_GUEST = 1,
    VIR_DOMAIN_EVENT_SHUTDOWN_HOST = 2,
} virDomainEventShutdownDetailType;

typedef enum {
    VIR_DOMAIN_EVENT_PMSUSPENDED_MEMORY = 0,
    VIR_DOMAIN_EVENT_PMSUSPENDED_DISK = 1,
} virDomainEventPMSuspendedDetailType;

typedef enum {
    VIR_DOMAIN_EVENT_CRASHED_PANICKED = 0,
    VIR_DOMAIN_EVENT_CRASHED_CRASHLOADED = 1,
} virDomainEventCrashedDetailType;

/* Callbacks. @dom is valid during the call only (virDomainRef to keep
 * it); the return value of the lifecycle callback is ignored. */
typedef int (*virConnectDomainEventCallback)(virConnectPtr conn, virDomainPtr dom,
                                             int event, int detail, void *opaque);
typedef void (*virConnectDomainEventGenericCallback)(virConnectPtr conn,
                                                     virDomainPtr dom, void *opaque);
/* @params: the job's statistics, as virDomainGetJobStats with
 * VIR_DOMAIN_JOB_STATS_COMPLETED; owned by the library, valid during the
 * call. */
typedef void (*virConnectDomainEventJobCompletedCallback)(virConnectPtr conn,
                                                          virDomainPtr dom,
                                                          virTypedParameterPtr params,
                                                          int nparams, void *opaque);

/* Through void (*)(void): no -Wcast-function-type warning in clients. */
#define VIR_DOMAIN_EVENT_CALLBACK(cb) \
    ((virConnectDomainEventGenericCallback)(void (*)(void))(cb))

/**
 * virConnectDomainEventRegisterAny:
 * @conn: the connection
 * @dom: only events of this domain (NULL: every domain of the node)
 * @eventID: a virDomainEventID; libvirtsup raises LIFECYCLE, REBOOT and
 *           JOB_COMPLETED, the others are accepted and never raised
 * @cb: the callback of that ID's type, cast with VIR_DOMAIN_EVENT_CALLBACK
 * @opaque: passed to @cb
 * @freecb: called on @opaque once the callback is removed (may be NULL)
 *
 * Events of the node reach every connection to it: on test:///default,
 * what another connection of the process does (a save it started and
 * completed, a destroy) is seen too. Callbacks run from the registered
 * event loop (libvirtsup-event.h), never from a library thread; one event
 * is delivered to every callback before the next. A job's end raises
 * JOB_COMPLETED (when it completed) along with the lifecycle events of
 * what it did (save: STOPPED/SAVED, restore: STARTED/RESTORED, ...).
 * Returns a callback id >= 0 for virConnectDomainEventDeregisterAny, or
 * -1: VIR_ERR_INVALID_ARG (bad ID, NULL @cb), VIR_ERR_INTERNAL_ERROR when
 * no event loop is registered. Thread-safety: safe from any thread.
 * Since: 0.1.0
 */
int virConnectDomainEventRegisterAny(virConnectPtr conn, virDomainPtr dom,
                                     int eventID,
                                     virConnectDomainEventGenericCallback cb,
                                     void *opaque, virFreeCallback freecb);

/**
 * virConnectDomainEventDeregisterAny:
 * Removes the callback @callbackID of @conn; its freecb runs (from the
 * event loop if an event is being delivered). Returns 0, or -1 with
 * VIR_ERR_INVALID_ARG for an unknown id. Since: 0.1.0
 */
int virConnectDomainEventDeregisterAny(virConnectPtr conn, int callbackID);

/**
 * virConnectDomainEventRegister / virConnectDomainEventDeregister:
 * libvirt's first event calls: a lifecycle callback for every domain,
 * identified by its function. Return 0 or -1. Since: 0.1.0
 */
int virConnectDomainEventRegister(virConnectPtr conn, virConnectDomainEventCallback cb,
                                  void *opaque, virFreeCallback freecb);
int virConnectDomainEventDeregister(virConnectPtr conn,
                                    virConnectDomainEventCallback cb);

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
