/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * driver.h: the objects behind the public handles and the driver table
 * (libvirt's style: one struct of function pointers per driver, so a qemu
 * driver can sit beside the test driver).
 *
 * Library-only. The public layer (connect.c, domain.c, network.c) checks
 * handles, NULL arguments and read-only connections, resets the last error
 * and dispatches (VIR_DRIVER_CALL); a driver checks flags, state and
 * everything else. Every slot but connectOpen may be left NULL: the call
 * then fails with VIR_ERR_NO_SUPPORT.
 *
 * Locking: a handle's fields other than its reference count are immutable
 * after creation. A driver keeps its own state under its own lock.
 */
#pragma once

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "libvirtsup/libvirtsup.h"
#include "event.h"
#include "uri.h"

#define VIR_CONNECT_MAGIC 0x434e4e56u  /* "VNNC" */
#define VIR_DOMAIN_MAGIC  0x4d4f4456u  /* "VDOM" */
#define VIR_NETWORK_MAGIC 0x54454e56u  /* "VNET" */
#define VIR_DEAD_MAGIC    0xdeadbeefu  /* written at free */

typedef struct virConnectDriver virConnectDriver;

struct _virConnect {
    _Atomic uint32_t magic;
    /* Memory references: the caller's (openRefs) plus one per domain,
     * network and job opaque that points here. Freed at zero. */
    _Atomic int refs;
    /* The caller's references (open + virConnectRef). At zero the
     * connection is closed: the driver's state is torn down (its jobs
     * cancelled and reaped), and every call through it or its objects
     * fails with VIR_ERR_INVALID_CONN. */
    _Atomic int openRefs;
    _Atomic bool closed;
    bool readonly;
    /* The fork generation it was opened in (virSupForkGeneration) and its
     * process: in a forked child it is the parent's, dead (connect.c). */
    unsigned int forkgen;
    pid_t owner;
    char *uri;
    const virConnectDriver *driver;
    void *privateData;             /* the driver's */
    /* The network driver's state of this connection (networkStateOpen):
     * set on network:///system and qemu:///system, NULL elsewhere. */
    void *networkPrivateData;
    pthread_mutex_t closeLock;     /* serialises the close with itself */

    /* libvirt's per-connection error handler and last error, and its close
     * callback (connect.c), under errLock. */
    pthread_mutex_t errLock;
    virError err;
    virErrorFunc errFunc;
    void *errFuncData;
    virConnectCloseFunc closeCb;
    void *closeOpaque;
    virFreeCallback closeFree;
};

struct _virDomain {
    _Atomic uint32_t magic;
    _Atomic int refs;
    virConnectPtr conn;            /* holds a memory reference */
    char name[64];
    unsigned char uuid[VIR_UUID_BUFLEN];
};

struct _virNetwork {
    _Atomic uint32_t magic;
    _Atomic int refs;
    virConnectPtr conn;
    char name[64];
    unsigned char uuid[VIR_UUID_BUFLEN];
};

struct virConnectDriver {
    const char *name;              /* URI scheme it serves: "test" */
    const char *typeName;          /* virConnectGetType's answer: "TEST" */

    /* The hypervisor's version (virConnectGetVersion). */
    int (*connectGetVersion)(virConnectPtr conn, unsigned long *hvVer);

    /* The URI query parameters this driver takes besides the common ones
     * (virURICommonParams), NULL-terminated; NULL for none. connectOpen
     * reads their values (virURIGetParam, virURIGetNumber); any other
     * parameter fails the open, naming it. */
    const char *const *uriParams;

    /* Set up conn->privateData from the URI (path, the driver's own
     * parameters) and the common settings. Required. Returns 0, or -1
     * with an error reported. */
    int (*connectOpen)(virConnectPtr conn, const virURI *uri,
                       const virConnectConfig *cfg);
    /* Tear the driver state down: cancel and reap its jobs. Objects may
     * still point at the connection afterwards. */
    void (*connectClose)(virConnectPtr conn);
    /* Free what connectOpen allocated, when the last reference goes. */
    void (*connectFree)(virConnectPtr conn);

    /* The list calls (domains, networks): @doms is never NULL (the public
     * call asks for a list and counts it for a count-only call). */
    int (*connectListAllDomains)(virConnectPtr conn, virDomainPtr **doms,
                                 unsigned int flags);
    virDomainPtr (*domainLookupByName)(virConnectPtr conn, const char *name);
    virDomainPtr (*domainLookupByUUID)(virConnectPtr conn,
                                       const unsigned char *uuid);
    int (*domainGetInfo)(virDomainPtr dom, virDomainInfoPtr info);
    int (*domainGetState)(virDomainPtr dom, int *state, int *reason,
                          unsigned int flags);
    char *(*domainGetXMLDesc)(virDomainPtr dom, unsigned int flags);
    virDomainPtr (*domainDefineXML)(virConnectPtr conn, const char *xml);
    int (*domainUndefine)(virDomainPtr dom);
    int (*domainDestroy)(virDomainPtr dom);
    int (*domainGetJobInfo)(virDomainPtr dom, virDomainJobInfoPtr info);
    int (*domainAbortJob)(virDomainPtr dom);
    virJobPtr (*domainCreateXMLJob)(virConnectPtr conn, const char *xml,
                                    unsigned int flags, bool linux_);
    virJobPtr (*domainCreateJob)(virDomainPtr dom, unsigned int flags);
    virJobPtr (*domainSaveJob)(virDomainPtr dom, const char *to);
    virJobPtr (*domainRestoreJob)(virConnectPtr conn, const char *from);
    virJobPtr (*domainDumpCoreJob)(virDomainPtr dom, const char *to,
                                   unsigned int flags);

    int (*connectListAllNetworks)(virConnectPtr conn, virNetworkPtr **nets,
                                  unsigned int flags);
    virNetworkPtr (*networkLookupByName)(virConnectPtr conn, const char *name);
    virNetworkPtr (*networkDefineXML)(virConnectPtr conn, const char *xml);
    int (*networkUndefine)(virNetworkPtr net);
    int (*networkDestroy)(virNetworkPtr net);
    int (*networkIsActive)(virNetworkPtr net);
    char *(*networkGetXMLDesc)(virNetworkPtr net, unsigned int flags);
    virJobPtr (*networkCreateXMLJob)(virConnectPtr conn, const char *xml);
    virJobPtr (*networkCreateJob)(virNetworkPtr net);

    /* The node's event state (event.h), shared by the connections to the
     * same node; the public layer registers callbacks in it. */
    virEventState *(*connectGetEventState)(virConnectPtr conn);
    virDomainPtr (*domainLookupByID)(virConnectPtr conn, int id);
    /* The running domain's ID, -1 when inactive or on error (reported). */
    int (*domainGetID)(virDomainPtr dom);
    char *(*domainGetOSType)(virDomainPtr dom);
    int (*domainIsActive)(virDomainPtr dom);
    int (*domainIsPersistent)(virDomainPtr dom);
    int (*domainSuspend)(virDomainPtr dom);
    int (*domainResume)(virDomainPtr dom);
    int (*domainShutdown)(virDomainPtr dom, unsigned int flags);
    int (*domainReboot)(virDomainPtr dom, unsigned int flags);
    int (*domainGetJobStats)(virDomainPtr dom, int *type, virTypedParameterPtr *params,
                             int *nparams, unsigned int flags);
};

/* Dispatch from a public call to the connection's driver: call slot @slot
 * of @conn's driver with the arguments that follow, or, when the driver
 * leaves the slot empty (NULL), report VIR_ERR_NO_SUPPORT naming the
 * public call, in libvirt's words, and yield @err (-1 or NULL). Every
 * public wrapper reaches a driver through this macro and nothing else:
 * tests/check-drivers fails on a direct "->driver->slot(" call, and builds
 * docs/DRIVERS.md (which driver implements which call) from the calls of
 * this macro and the drivers' tables. Use it in the public function
 * itself: __func__ is the name reported. */
#define VIR_DRIVER_UNSUPPORTED_FMT \
    "this function is not supported by the connection driver: %s"
#define VIR_DRIVER_CALL(conn, slot, err, ...) \
    VIR_DRIVER_CALL_FROM(VIR_FROM_THIS, conn, slot, err, __VA_ARGS__)
/* The same, reporting in the error domain @from (libvirt's for the call). */
#define VIR_DRIVER_CALL_FROM(from, conn, slot, err, ...) \
    ((conn)->driver->slot ? (conn)->driver->slot(__VA_ARGS__) \
                          : (virReportErrorFull((from), VIR_ERR_NO_SUPPORT, 0, \
                                                VIR_DRIVER_UNSUPPORTED_FMT, __func__), \
                             (err)))

/* The drivers linked in, in the order URIs are offered to them. */
extern const virConnectDriver testConnectDriver;
extern const virConnectDriver networkConnectDriver;   /* network:///system */
extern const virConnectDriver qemuConnectDriver;

/* --- handles (connect.c, domain.c, network.c) --- */

/* Take/drop a memory reference on a connection (objects, job opaques). */
void virConnectHold(virConnectPtr conn);
void virConnectRelease(virConnectPtr conn);

/* Check a connection handle: magic, then not closed. Returns 0, or -1
 * with VIR_ERR_INVALID_CONN reported in the error domain @from (libvirt
 * reports it in the domain of the calling API: VIR_FROM_DOMAIN for domain
 * and host calls, VIR_FROM_NETWORK for network calls). A valid handle
 * becomes the thread's current connection for error handlers. */
int virConnectCheckFrom(virConnectPtr conn, const char *func, int from);
/* As above, for a handle whose calls change something: also -1 with
 * VIR_ERR_OPERATION_DENIED on a read-only connection. */
int virConnectCheckWritableFrom(virConnectPtr conn, const char *func, int from);
/* The same, in the caller's VIR_FROM_THIS. */
#define virConnectCheck(conn, func) virConnectCheckFrom((conn), (func), VIR_FROM_THIS)
#define virConnectCheckWritable(conn, func) \
    virConnectCheckWritableFrom((conn), (func), VIR_FROM_THIS)

/* New handles (one reference, owned by the caller), or NULL (OOM). */
virDomainPtr virGetDomain(virConnectPtr conn, const char *name,
                          const unsigned char *uuid);
virNetworkPtr virGetNetwork(virConnectPtr conn, const char *name,
                            const unsigned char *uuid);

/* Check a domain/network handle (magic, its connection open). -1 with
 * VIR_ERR_INVALID_DOMAIN/NETWORK or VIR_ERR_INVALID_CONN. */
int virDomainCheck(virDomainPtr dom, const char *func);
int virNetworkCheck(virNetworkPtr net, const char *func);
/* As above, for calls that change something: also -1 with
 * VIR_ERR_OPERATION_DENIED on a read-only connection. */
int virDomainCheckWritable(virDomainPtr dom, const char *func);
int virNetworkCheckWritable(virNetworkPtr net, const char *func);

/* What the handle helpers below need to know of a kind of handle; one
 * per kind (connect.c: virDomainHandle, virNetworkHandle). Domains and
 * networks share these helpers: their handles have the same fields. */
typedef struct virHandleKind {
    uint32_t magic;
    int invalid;                 /* VIR_ERR_INVALID_DOMAIN, ... */
    int invalidFrom;             /* its error domain (libvirt's: VIR_FROM_DOM) */
    int connFrom;                /* the connection check's (VIR_FROM_DOMAIN) */
    const char *what;            /* "domain" */
} virHandleKind;
extern const virHandleKind virDomainHandle;
extern const virHandleKind virNetworkHandle;

/* The handle's magic (valid handle), then its connection (open; and not
 * read-only when @writable). Returns 0, or -1 with an error. */
int virHandleCheck(const virHandleKind *kind, const _Atomic uint32_t *magic,
                   virConnectPtr const *conn, bool writable, const char *func);
/* virDomainRef / virNetworkRef: works on handles of a closed connection
 * too. Returns 0, or -1 for a bad handle. */
int virHandleRef(const virHandleKind *kind, _Atomic uint32_t *magic,
                 _Atomic int *refs, const char *func);
/* virDomainFree / virNetworkFree: the last reference frees @handle (and
 * releases its connection). Returns 0, or -1 for a bad handle. */
int virHandleFree(const virHandleKind *kind, void *handle, _Atomic uint32_t *magic,
                  _Atomic int *refs, virConnectPtr *conn, const char *func);

/* The arguments of the helpers above for handle @h (NULL accepted). */
#define VIR_HANDLE_MAGIC(h) ((h) ? &(h)->magic : NULL)
#define VIR_HANDLE_CONN(h) ((h) ? &(h)->conn : NULL)
#define VIR_HANDLE_REFS(h) ((h) ? &(h)->refs : NULL)

/* UUIDs: "6695eb01-f6a4-8304-79aa-97f2502e193f" (dashes optional on
 * input). Parse returns 0 or -1 (no error reported). */
int virUUIDParse(const char *str, unsigned char *uuid);
void virUUIDFormat(const unsigned char *uuid, char *buf);
/* A random (version 4) UUID. Returns 0, or -1 with an error. */
int virUUIDGenerate(unsigned char *uuid);

/* ---- between drivers ---- */

/* The network driver (network_driver.c) serves the network calls of
 * network:///system and of a hypervisor driver's connection (libvirt's
 * qemu:///system answers them too). Its state on a connection lives in
 * conn->networkPrivateData:
 *
 * networkStateOpen: set it up for @conn, the networks living in directory
 * @dir (absolute; NULL: $VIRTSUP_NETWORK_DIR, else
 * /var/lib/virtsup/network, which network:///system uses too), its jobs
 * in a group of their own made from @cfg, and its dnsmasq watcher
 * started. Returns 0, or -1 with an error reported. Call it from the
 * driver's connectOpen, and networkStateClose/Free from its connectClose
 * and connectFree (both do nothing on a connection without the state).
 * A connection without it (a session) has every network call refused
 * with VIR_ERR_OPERATION_DENIED saying why (CAP_NET_ADMIN in the host's
 * network namespace). */
int networkStateOpen(virConnectPtr conn, const char *dir, const virConnectConfig *cfg);
/* Cancel and reap its jobs, stop its watcher. */
void networkStateClose(virConnectPtr conn);
/* Free it (the last reference of the connection). */
void networkStateFree(virConnectPtr conn);

/* The network slots, for a driver's table (same contracts as the slots of
 * struct virConnectDriver). Thread-safe. */
int networkConnectListAllNetworks(virConnectPtr conn, virNetworkPtr **nets, unsigned int flags);
virNetworkPtr networkLookupByName(virConnectPtr conn, const char *name);
virNetworkPtr networkDefineXML(virConnectPtr conn, const char *xml);
int networkUndefine(virNetworkPtr net);
int networkDestroy(virNetworkPtr net);
int networkIsActive(virNetworkPtr net);
char *networkGetXMLDesc(virNetworkPtr net, unsigned int flags);
virJobPtr networkCreateXMLJob(virConnectPtr conn, const char *xml);
virJobPtr networkCreateJob(virNetworkPtr net);
/* ... in a driver's table (tests/check-drivers reads this list for each
 * table naming it, for docs/DRIVERS.md). */
#define NETWORK_DRIVER_SLOTS \
    .connectListAllNetworks = networkConnectListAllNetworks, \
    .networkLookupByName = networkLookupByName, \
    .networkDefineXML = networkDefineXML, \
    .networkUndefine = networkUndefine, \
    .networkDestroy = networkDestroy, \
    .networkIsActive = networkIsActive, \
    .networkGetXMLDesc = networkGetXMLDesc, \
    .networkCreateXMLJob = networkCreateXMLJob, \
    .networkCreateJob = networkCreateJob

/* For a hypervisor driver's <interface type='network'>: the bridge of
 * active network @netname of @conn (the networks of its network state)
 * into @bridge (16 bytes), to put the guest's tap on. Returns 0, or -1
 * with VIR_ERR_NO_NETWORK (no such network), VIR_ERR_OPERATION_INVALID
 * (not active) naming the network, or VIR_ERR_OPERATION_DENIED (a
 * connection without network state). Reads the driver's files:
 * thread-safe. */
int networkActiveBridge(virConnectPtr conn, const char *netname, char *bridge);
