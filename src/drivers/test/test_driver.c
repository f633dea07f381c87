/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test_driver.c: the test driver's library side (trusted, in the client).
 *
 * The node (domains and networks, under one mutex taken only briefly:
 * never while waiting for a job or doing file I/O) is shared by every
 * connection of the process to test:///default, as libvirt's is, and is
 * private to its connection for a node description (test:///PATH.xml).
 * Each connection has its own supervisor group: closing it cancels the
 * jobs it started, not those of the other connections. Every change of a
 * domain or network is queued as an event in the node's event state.
 *
 * Long work runs as jobs: the XML given to DefineXML/CreateXML is parsed
 * by a worker, save/dump write through a descriptor opened here, restore
 * reads one opened here. Each job's commit function (a commit thread)
 * checks the worker's result and applies it; its done function releases
 * the object's job slot.
 *
 * What every driver does around a job (the connection's group and its
 * close, one job per object, the atomic output file, results) is in
 * src/driverjob.c; domains and networks share one object list and one
 * code path wherever they behave alike (listing, lookup, undefine,
 * destroy, committing a definition, starting).
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

#include "driverjob.h"
#include "drivers/test/test_driver.h"
#include "event.h"
#include "objlist.h"
#include "supervisor/supervisor.h"
#include "util/viralloc.h"

#define VIR_FROM_THIS VIR_FROM_TEST
#include "util/virerror.h"

/* libvirt's state reasons. */
enum {
    REASON_RUNNING_BOOTED = 1,
    REASON_RUNNING_RESTORED = 3,
    REASON_SHUTOFF_DESTROYED = 2,
    REASON_SHUTOFF_CRASHED = 3,
    REASON_SHUTOFF_SAVED = 5,
};

typedef enum { OBJ_DOMAIN, OBJ_NETWORK, OBJ_LAST } testObjKind;
static const char *const kindNames[OBJ_LAST] = { "domain", "network" };

/* What domains and networks have in common; first in each, so a testObj
 * of kind OBJ_DOMAIN is a testDomObj. The list's part (name, UUID, ID) is
 * first of all (src/objlist.h). */
typedef struct testObj {
    virObjListItem item;
    testObjKind kind;
    bool persistent;
    virDriverJobSlot slot;
    virXMLKeep keep;          /* the def's elements kept without interpretation */
} testObj;

typedef struct testDomObj {
    testObj o;
    testDomainDef def;
    int state;                /* virDomainState */
    int reason;
    virDriverJobStats lastJob;   /* GetJobStats(COMPLETED); type NONE: none */
    long long startedMs;      /* CLOCK_MONOTONIC, for cpuTime */
} testDomObj;

typedef struct testNetObj {
    testObj o;
    testNetworkDef def;
    bool active;
} testNetObj;

/* A node: shared by the connections to it (see nodeAcquireDefault). */
typedef struct testDriver {
    pthread_mutex_t lock;     /* the lists and the objects */
    virObjList lists[OBJ_LAST];   /* domains, networks (guarded by lock) */
    int nextID;               /* the next domain ID (from 1, as libvirt) */
    virEventState *events;
    int refs;                 /* connections using it (testDefaultLock for the default node) */
    bool isDefault;
} testDriver;

/* A connection's own part: its jobs and their pace. */
typedef struct testConn {
    testDriver *node;
    virDriverJobGuard guard;
    uint64_t bandwidth_bps;
} testConn;

typedef enum {
    TJ_DOM_DEFINE,
    TJ_DOM_CREATE,
    TJ_DOM_START,
    TJ_DOM_SAVE,
    TJ_DOM_RESTORE,
    TJ_DOM_DUMP,
    TJ_NET_DEFINE,
    TJ_NET_CREATE,
    TJ_NET_START,
    TJ_LAST
} testJobKind;

/* A job's opaque: what its commit and done functions need. */
typedef struct testJob {
    virConnectPtr conn;       /* a memory reference */
    testJobKind kind;
    testObjKind okind;
    bool holdsSlot;           /* token names the slot of object uuid */
    bool knowUUID;            /* uuid names the target (restore: from the header) */
    uint8_t uuid[16];
    uint64_t token;
    unsigned int flags;
    virDriverJobOutput out;   /* save/dump */
    int infd;                 /* restore: the image */
    uint64_t expectSize;      /* save: the exact image size */
} testJob;

static long long nowMs(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static testConn *connOf(virConnectPtr conn)
{
    return conn->privateData;
}

static testDriver *driverOf(virConnectPtr conn)
{
    return connOf(conn)->node;
}

#define DOM(obj) ((testDomObj *)(obj))
#define NET(obj) ((testNetObj *)(obj))

/* ---- events --------------------------------------------------------------- */

/* The lifecycle event @event (a VIR_DOMAIN_EVENT_* or VIR_NETWORK_EVENT_*
 * of @obj's kind) with @detail (domains only). Driver lock held. */
static void objEvent(testDriver *d, const testObj *obj, int event, int detail)
{
    virEventStateQueueLifecycle(d->events, obj->kind == OBJ_DOMAIN ? VIR_EVENT_OBJ_DOMAIN
                                                                   : VIR_EVENT_OBJ_NETWORK,
                                obj->item.name, obj->item.uuid, event,
                                obj->kind == OBJ_DOMAIN ? detail : 0);
}

/* ---- objects (driver lock held) ------------------------------------------ */

static testObj *objFindUUID(testDriver *d, testObjKind kind, const uint8_t *uuid)
{
    return (testObj *)virObjListFindByUUID(&d->lists[kind], uuid);
}

static void objDispose(virObjListItem *item)
{
    testObj *obj = (testObj *)item;

    virXMLKeepClear(&obj->keep);
    free(obj);
}

static bool objActive(const testObj *obj);

static bool itemActive(const virObjListItem *item)
{
    return objActive((const testObj *)item);
}

static bool itemPersistent(const virObjListItem *item)
{
    return ((const testObj *)item)->persistent;
}

static void itemState(const virObjListItem *item, int *state, int *reason)
{
    *state = DOM(item)->state;
    *reason = DOM(item)->reason;
}

static virDriverJobSlot *itemSlot(virObjListItem *item)
{
    return &((testObj *)item)->slot;
}

static const virObjListOps domainOps = {
    .dispose = objDispose, .isActive = itemActive, .isPersistent = itemPersistent,
    .getState = itemState, .jobSlot = itemSlot,
};
static const virObjListOps networkOps = {
    .dispose = objDispose, .isActive = itemActive, .isPersistent = itemPersistent,
    .jobSlot = itemSlot,
};

/* A new object holding a copy of @def (a testDomainDef or testNetworkDef)
 * and of @keep (NULL: none): a domain shut off, a network inactive, not
 * persistent. */
static testObj *objAdd(testDriver *d, testObjKind kind, const void *def,
                       const virXMLKeep *keep)
{
    testObj *obj;
    const char *name;
    const uint8_t *uuid;

    if (kind == OBJ_DOMAIN) {
        testDomObj *dom;
        if (!VIR_ALLOC(dom))
            return NULL;
        dom->def = *(const testDomainDef *)def;
        dom->state = VIR_DOMAIN_SHUTOFF;
        name = dom->def.name;
        uuid = dom->def.uuid;
        obj = &dom->o;
    } else {
        testNetObj *net;
        if (!VIR_ALLOC(net))
            return NULL;
        net->def = *(const testNetworkDef *)def;
        name = net->def.name;
        uuid = net->def.uuid;
        obj = &net->o;
    }
    obj->kind = kind;
    if ((keep && virXMLKeepSet(&obj->keep, keep->data, keep->len) < 0) ||
        virObjListAdd(&d->lists[kind], &obj->item, name, uuid) < 0) {
        objDispose(&obj->item);
        return NULL;
    }
    return obj;
}

static void objRemove(testDriver *d, testObj *obj)
{
    virObjListRemove(&d->lists[obj->kind], &obj->item);
}

static bool objActive(const testObj *obj)
{
    if (obj->kind == OBJ_NETWORK)
        return NET(obj)->active;
    return DOM(obj)->state != VIR_DOMAIN_SHUTOFF && DOM(obj)->state != VIR_DOMAIN_CRASHED;
}

/* An inactive transient object goes away (libvirt's rule), once no job
 * holds it. Returns true if it went. */
static bool objGoneIfTransient(testDriver *d, testObj *obj)
{
    if (obj->persistent || objActive(obj) || virDriverJobSlotBusy(&obj->slot))
        return false;
    objRemove(d, obj);
    return true;
}

/* Start a domain: the next ID, the STARTED event with @detail (none when
 * @detail < 0: the node's initial state). */
static void domSetRunning(testDriver *d, testDomObj *obj, int reason, int detail)
{
    obj->state = VIR_DOMAIN_RUNNING;
    obj->reason = reason;
    obj->startedMs = nowMs();
    obj->o.item.id = d->nextID++;
    if (detail >= 0)
        objEvent(d, &obj->o, VIR_DOMAIN_EVENT_STARTED, detail);
}

/* Shut a domain off (the STOPPED event with @detail); a transient one then
 * goes away, unless a job holds it (its done step removes it). */
static void domSetShutoff(testDriver *d, testDomObj *obj, int reason, int detail)
{
    obj->state = VIR_DOMAIN_SHUTOFF;
    obj->reason = reason;
    obj->o.item.id = -1;
    objEvent(d, &obj->o, VIR_DOMAIN_EVENT_STOPPED, detail);
    objGoneIfTransient(d, &obj->o);
}

/* Start a network (the STARTED event). */
static void netSetActive(testDriver *d, testNetObj *obj)
{
    obj->active = true;
    objEvent(d, &obj->o, VIR_NETWORK_EVENT_STARTED, 0);
}

/* Lock and find the object of a handle; reports VIR_ERR_NO_DOMAIN /
 * VIR_ERR_NO_NETWORK if it is gone. On success the driver lock is held. */
static testObj *objLock(virConnectPtr conn, testObjKind kind, const unsigned char *uuid,
                        const char *name, testDriver **dp)
{
    *dp = driverOf(conn);
    return (testObj *)virObjListLockObject(&(*dp)->lists[kind], uuid, name);
}

static virObjList *domList(virDomainPtr dom)
{
    return &driverOf(dom->conn)->lists[OBJ_DOMAIN];
}

static testDomObj *domLock(virDomainPtr dom, testDriver **dp)
{
    return DOM(objLock(dom->conn, OBJ_DOMAIN, dom->uuid, dom->name, dp));
}

static testNetObj *netLock(virNetworkPtr net, testDriver **dp)
{
    return NET(objLock(net->conn, OBJ_NETWORK, net->uuid, net->name, dp));
}

/* A new handle for the object of @kind named @name with @uuid (a
 * virDomainPtr or virNetworkPtr), or NULL with VIR_ERR_NO_MEMORY reported. */
static void *objHandle(virConnectPtr conn, testObjKind kind, const char *name,
                       const uint8_t *uuid)
{
    if (kind == OBJ_DOMAIN)
        return virDriverJobResultDomainNew(conn, name, uuid);
    return virDriverJobResultNetworkNew(conn, name, uuid);
}

static void objHandleFree(testObjKind kind, void *h)
{
    if (kind == OBJ_DOMAIN)
        virDriverJobResultDomainDrop(h);
    else
        virDriverJobResultNetworkDrop(h);
}

/* ---- connections and nodes ----------------------------------------------- */

/* The test driver's own URI parameters (docs/TEST-DRIVER.md):
 * bandwidth=MIB_PER_S caps the I/O of every job of the connection. */
static const char *const testURIParams[] = { "bandwidth", NULL };
/* Largest bandwidth accepted: 1 TiB/s, far above any disk, far below overflow. */
#define BANDWIDTH_MAX_MIB (1024ull * 1024)

/* The node of test:///default, shared by the process's connections to it
 * (as libvirt's test driver does): made by the first open, freed when the
 * last connection using it is freed; the next open makes a fresh one. */
static pthread_mutex_t testDefaultLock = PTHREAD_MUTEX_INITIALIZER;
static testDriver *testDefaultNode;

/* A forked child makes a default node of its own (the parent's, whose
 * objects hold the parent's jobs, stays with the inherited connections
 * that use it), so the pointer and its lock, which a thread that does not
 * exist in the child may have held, start afresh. */
static void testForkChild(void)
{
    testDefaultNode = NULL;
    pthread_mutex_init(&testDefaultLock, NULL);
}

static void testForkInstall(void)
{
    (void)pthread_atfork(NULL, NULL, testForkChild);
}

static void nodeFree(testDriver *d)
{
    for (int k = 0; k < OBJ_LAST; k++)
        virObjListClear(&d->lists[k]);
    virEventStateFree(d->events);
    pthread_mutex_destroy(&d->lock);
    free(d);
}

/* A new node holding @def's domains (running) and networks (active). */
static testDriver *nodeNew(const testNodeDef *def)
{
    testDriver *d;

    if (!VIR_ALLOC(d))
        return NULL;
    pthread_mutex_init(&d->lock, NULL);
    virObjListInit(&d->lists[OBJ_DOMAIN], VIR_OBJ_LIST_DOMAINS, VIR_FROM_TEST, &d->lock,
                   &domainOps);
    virObjListInit(&d->lists[OBJ_NETWORK], VIR_OBJ_LIST_NETWORKS, VIR_FROM_TEST, &d->lock,
                   &networkOps);
    d->nextID = 1;
    d->refs = 1;
    if (!(d->events = virEventStateNew()))
        goto error;
    for (size_t i = 0; i < def->ndoms; i++) {
        testObj *obj = objAdd(d, OBJ_DOMAIN, &def->doms[i],
                              def->domKeeps ? &def->domKeeps[i] : NULL);
        if (!obj)
            goto error;
        obj->persistent = true;
        domSetRunning(d, DOM(obj), REASON_RUNNING_BOOTED, -1);
    }
    for (size_t i = 0; i < def->nnets; i++) {
        testObj *obj = objAdd(d, OBJ_NETWORK, &def->nets[i],
                              def->netKeeps ? &def->netKeeps[i] : NULL);
        if (!obj)
            goto error;
        obj->persistent = true;
        NET(obj)->active = true;
    }
    return d;

 error:
    nodeFree(d);
    return NULL;
}
/* The default node, made on first use; one more connection uses it. */
static testDriver *nodeAcquireDefault(void)
{
    testDriver *d;

    pthread_mutex_lock(&testDefaultLock);
    if ((d = testDefaultNode)) {
        d->refs++;
    } else {
        testDomainDef defdom;
        testNetworkDef defnet;
        virXMLKeep domKeep = VIR_XML_KEEP_INIT, netKeep = VIR_XML_KEEP_INIT;
        testNodeDef def = { .doms = &defdom, .domKeeps = &domKeep, .ndoms = 1,
                            .nets = &defnet, .netKeeps = &netKeep, .nnets = 1 };

        if (testDefaultDomainDef(&defdom, &domKeep) == 0 &&
            testDefaultNetworkDef(&defnet, &netKeep) == 0 &&
            (d = nodeNew(&def))) {
            d->isDefault = true;
            testDefaultNode = d;
        }
        virXMLKeepClear(&domKeep);
        virXMLKeepClear(&netKeep);
    }
    pthread_mutex_unlock(&testDefaultLock);
    return d;
}

static void nodeRelease(testDriver *d)
{
    bool last;

    if (!d)
        return;
    if (d->isDefault) {
        pthread_mutex_lock(&testDefaultLock);
        if ((last = --d->refs == 0))
            testDefaultNode = NULL;
        pthread_mutex_unlock(&testDefaultLock);
    } else {
        last = --d->refs == 0;
    }
    if (last)
        nodeFree(d);
}

static int testConnectOpen(virConnectPtr conn, const virURI *uri,
                           const virConnectConfig *cfg)
{
    testConn *c;
    testDriver *d = NULL;
    unsigned long long bandwidth = 0;
    static pthread_once_t forkOnce = PTHREAD_ONCE_INIT;

    pthread_once(&forkOnce, testForkInstall);

    if (virURIGetNumber(uri, "bandwidth", BANDWIDTH_MAX_MIB, &bandwidth) < 0)
        return -1;
    if (STREQ(uri->path, "/default")) {
        d = nodeAcquireDefault();
    } else if (STREQ(uri->path, "/") || uri->path[0] != '/') {
        virReportError(VIR_ERR_INVALID_ARG,
                       "invalid URI '%s': expected test:///default or "
                       "test:///ABSOLUTE/PATH.xml", conn->uri);
        return -1;
    } else {
        testNodeDef def = { 0 };
        if (testNodeLoad(uri->path, &def) < 0)
            return -1;
        d = nodeNew(&def);
        testNodeClear(&def);
    }
    if (!d)
        return -1;

    if (!VIR_ALLOC(c)) {
        nodeRelease(d);
        return -1;
    }
    c->node = d;
    c->bandwidth_bps = bandwidth * 1024 * 1024;
    if (virDriverJobGuardOpen(&c->guard, &cfg->group) < 0) {
        free(c);
        nodeRelease(d);
        return -1;
    }
    conn->privateData = c;
    return 0;
}

static void testConnectClose(virConnectPtr conn)
{
    testConn *c = connOf(conn);

    /* Its event callbacks go now; those of other connections stay. */
    virEventStateConnClosed(c->node->events, conn);
    /* Waits for the connection's jobs: their commit and done functions
     * take the node's lock, so it is not held here. */
    virDriverJobGuardClose(&c->guard);
}

static void testConnectFree(virConnectPtr conn)
{
    testConn *c = conn->privateData;

    if (!c)
        return;
    nodeRelease(c->node);
    free(c);
    conn->privateData = NULL;
}

static virEventState *testConnectGetEventState(virConnectPtr conn)
{
    return driverOf(conn)->events;
}

/* libvirt's test driver says 2 (0.0.2), and so do we. */
static int testConnectGetVersion(virConnectPtr conn ATTRIBUTE_UNUSED,
                                 unsigned long *hvVer)
{
    *hvVer = 2;
    return 0;
}

/* ---- listing and lookup -------------------------------------------------- */

static int testConnectListAllDomains(virConnectPtr conn, virDomainPtr **doms,
                                     unsigned int flags)
{
    virCheckFlags(VIR_OBJ_LIST_DOMAIN_FLAGS, -1);
    return virObjListExport(&driverOf(conn)->lists[OBJ_DOMAIN], conn, NULL, flags,
                            (void ***)doms);
}

static int testConnectListAllNetworks(virConnectPtr conn, virNetworkPtr **nets,
                                      unsigned int flags)
{
    virCheckFlags(VIR_OBJ_LIST_NETWORK_FLAGS, -1);
    return virObjListExport(&driverOf(conn)->lists[OBJ_NETWORK], conn, NULL, flags,
                            (void ***)nets);
}

static virDomainPtr testDomainLookupByName(virConnectPtr conn, const char *name)
{
    return virObjListLookup(&driverOf(conn)->lists[OBJ_DOMAIN], conn, name, NULL, -1);
}

static virDomainPtr testDomainLookupByUUID(virConnectPtr conn, const unsigned char *uuid)
{
    return virObjListLookup(&driverOf(conn)->lists[OBJ_DOMAIN], conn, NULL, uuid, -1);
}

static virDomainPtr testDomainLookupByID(virConnectPtr conn, int id)
{
    return virObjListLookup(&driverOf(conn)->lists[OBJ_DOMAIN], conn, NULL, NULL, id);
}

static virNetworkPtr testNetworkLookupByName(virConnectPtr conn, const char *name)
{
    return virObjListLookup(&driverOf(conn)->lists[OBJ_NETWORK], conn, name, NULL, -1);
}

/* ---- accessors ------------------------------------------------------------ */

static int testDomainGetInfo(virDomainPtr dom, virDomainInfoPtr info)
{
    testDriver *d;
    testDomObj *obj = domLock(dom, &d);

    if (!obj)
        return -1;
    memset(info, 0, sizeof(*info));
    info->state = (unsigned char)obj->state;
    info->maxMem = obj->def.memory_kib;
    info->memory = obj->def.current_kib;
    info->nrVirtCpu = (unsigned short)obj->def.vcpus;
    if (objActive(&obj->o))
        info->cpuTime = (unsigned long long)(nowMs() - obj->startedMs) *
                        1000000ULL * obj->def.vcpus;
    pthread_mutex_unlock(&d->lock);
    return 0;
}

static int testDomainGetState(virDomainPtr dom, int *state, int *reason,
                              unsigned int flags)
{
    virCheckFlags(0, -1);
    return virObjListGetState(domList(dom), dom->uuid, dom->name, state, reason);
}

static char *testDomainGetXMLDesc(virDomainPtr dom, unsigned int flags)
{
    testDriver *d;
    testDomObj *obj;
    testDomainDef def;
    virXMLKeep keep = VIR_XML_KEEP_INIT;
    char *xml = NULL;
    int id, rc;

    virCheckFlags(VIR_DOMAIN_XML_SECURE | VIR_DOMAIN_XML_INACTIVE, NULL);
    if (!(obj = domLock(dom, &d)))
        return NULL;
    def = obj->def;
    id = objActive(&obj->o) && !(flags & VIR_DOMAIN_XML_INACTIVE) ? obj->o.item.id : -1;
    rc = virXMLKeepSet(&keep, obj->o.keep.data, obj->o.keep.len);
    pthread_mutex_unlock(&d->lock);
    if (rc == 0)
        xml = testDomainDefFormat(&def, &keep, id);
    virXMLKeepClear(&keep);
    return xml;
}

static int testNetworkIsActive(virNetworkPtr net)
{
    return virObjListIsActive(&driverOf(net->conn)->lists[OBJ_NETWORK], net->uuid,
                              net->name);
}

static char *testNetworkGetXMLDesc(virNetworkPtr net, unsigned int flags)
{
    testDriver *d;
    testNetObj *obj;
    testNetworkDef def;
    virXMLKeep keep = VIR_XML_KEEP_INIT;
    char *xml = NULL;
    int rc;

    /* One definition per network: the inactive one is the same. */
    virCheckFlags(VIR_NETWORK_XML_INACTIVE, NULL);
    if (!(obj = netLock(net, &d)))
        return NULL;
    def = obj->def;
    rc = virXMLKeepSet(&keep, obj->o.keep.data, obj->o.keep.len);
    pthread_mutex_unlock(&d->lock);
    if (rc == 0)
        xml = testNetworkDefFormat(&def, &keep);
    virXMLKeepClear(&keep);
    return xml;
}

static int testDomainGetID(virDomainPtr dom)
{
    return virObjListGetID(domList(dom), dom->uuid, dom->name);
}

static char *testDomainGetOSType(virDomainPtr dom)
{
    testDriver *d;
    testDomObj *obj = domLock(dom, &d);
    char type[sizeof(obj->def.os_type)];

    if (!obj)
        return NULL;
    virStrcpyTrunc(type, sizeof(type), obj->def.os_type);
    pthread_mutex_unlock(&d->lock);
    return virStrdup(type);
}


static int testDomainIsActive(virDomainPtr dom)
{
    return virObjListIsActive(domList(dom), dom->uuid, dom->name);
}

static int testDomainIsPersistent(virDomainPtr dom)
{
    return virObjListIsPersistent(domList(dom), dom->uuid, dom->name);
}

/* Lock the domain of @dom for a change that needs it in state @want (and
 * no job): returns it with the driver lock held, or NULL with an error. */
static testDomObj *domLockForChange(virDomainPtr dom, testDriver **dp, int want)
{
    testDomObj *obj = domLock(dom, dp);

    if (!obj)
        return NULL;
    if (virDriverJobSlotCheckFree(&obj->o.slot, "domain", obj->def.name) < 0) {
        /* reported */
    } else if (want == VIR_DOMAIN_PAUSED && obj->state != VIR_DOMAIN_PAUSED) {
        virReportError(VIR_ERR_OPERATION_INVALID, "domain '%s' is not paused",
                       obj->def.name);
    } else if (want == VIR_DOMAIN_RUNNING && obj->state != VIR_DOMAIN_RUNNING) {
        virReportError(VIR_ERR_OPERATION_INVALID, "domain '%s' is not running",
                       obj->def.name);
    } else if (want == VIR_DOMAIN_NOSTATE && !objActive(&obj->o)) {
        virReportError(VIR_ERR_OPERATION_INVALID, "domain '%s' is not running",
                       obj->def.name);
    } else {
        return obj;
    }
    pthread_mutex_unlock(&(*dp)->lock);
    return NULL;
}

static int testDomainSuspend(virDomainPtr dom)
{
    testDriver *d;
    testDomObj *obj = domLockForChange(dom, &d, VIR_DOMAIN_RUNNING);

    if (!obj)
        return -1;
    obj->state = VIR_DOMAIN_PAUSED;
    obj->reason = VIR_DOMAIN_PAUSED_USER;
    objEvent(d, &obj->o, VIR_DOMAIN_EVENT_SUSPENDED, VIR_DOMAIN_EVENT_SUSPENDED_PAUSED);
    pthread_mutex_unlock(&d->lock);
    return 0;
}

static int testDomainResume(virDomainPtr dom)
{
    testDriver *d;
    testDomObj *obj = domLockForChange(dom, &d, VIR_DOMAIN_PAUSED);

    if (!obj)
        return -1;
    obj->state = VIR_DOMAIN_RUNNING;
    obj->reason = VIR_DOMAIN_RUNNING_UNPAUSED;
    objEvent(d, &obj->o, VIR_DOMAIN_EVENT_RESUMED, VIR_DOMAIN_EVENT_RESUMED_UNPAUSED);
    pthread_mutex_unlock(&d->lock);
    return 0;
}

/* The test driver's guests obey at once, as libvirt's do. */
static int testDomainShutdown(virDomainPtr dom, unsigned int flags)
{
    testDriver *d;
    testDomObj *obj;

    virCheckFlags(VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN, -1);
    if (!(obj = domLockForChange(dom, &d, VIR_DOMAIN_NOSTATE)))
        return -1;
    objEvent(d, &obj->o, VIR_DOMAIN_EVENT_SHUTDOWN, VIR_DOMAIN_EVENT_SHUTDOWN_FINISHED);
    domSetShutoff(d, obj, VIR_DOMAIN_SHUTOFF_SHUTDOWN, VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN);
    pthread_mutex_unlock(&d->lock);
    return 0;
}

static int testDomainReboot(virDomainPtr dom, unsigned int flags)
{
    testDriver *d;
    testDomObj *obj;

    virCheckFlags(VIR_DOMAIN_REBOOT_ACPI_POWER_BTN, -1);
    if (!(obj = domLockForChange(dom, &d, VIR_DOMAIN_NOSTATE)))
        return -1;
    /* A reboot keeps the ID and runs again from the start. */
    obj->state = VIR_DOMAIN_RUNNING;
    obj->reason = VIR_DOMAIN_RUNNING_BOOTED;
    obj->startedMs = nowMs();
    virEventStateQueueDomain(d->events, VIR_DOMAIN_EVENT_ID_REBOOT, obj->def.name,
                             obj->def.uuid, NULL, 0);
    pthread_mutex_unlock(&d->lock);
    return 0;
}

/* ---- undefine and destroy ------------------------------------------------- */

static int objUndefine(virConnectPtr conn, testObjKind kind, const unsigned char *uuid,
                       const char *name)
{
    testDriver *d;
    testObj *obj;
    int ret = -1;

    if (!(obj = objLock(conn, kind, uuid, name, &d)))
        return -1;
    if (virDriverJobSlotCheckFree(&obj->slot, kindNames[kind], obj->item.name) < 0) {
        /* reported */
    } else if (!obj->persistent) {
        virReportError(VIR_ERR_OPERATION_INVALID,
                       "cannot undefine transient %s '%s'", kindNames[kind], obj->item.name);
    } else {
        if (kind == OBJ_DOMAIN)
            objEvent(d, obj, VIR_DOMAIN_EVENT_UNDEFINED, VIR_DOMAIN_EVENT_UNDEFINED_REMOVED);
        else
            objEvent(d, obj, VIR_NETWORK_EVENT_UNDEFINED, 0);
        obj->persistent = false;
        objGoneIfTransient(d, obj);
        ret = 0;
    }
    pthread_mutex_unlock(&d->lock);
    return ret;
}

static int objDestroy(virConnectPtr conn, testObjKind kind, const unsigned char *uuid,
                      const char *name)
{
    testDriver *d;
    testObj *obj;
    int ret = -1;

    if (!(obj = objLock(conn, kind, uuid, name, &d)))
        return -1;
    if (virDriverJobSlotCheckFree(&obj->slot, kindNames[kind], obj->item.name) < 0) {
        /* reported */
    } else if (!objActive(obj)) {
        virReportError(VIR_ERR_OPERATION_INVALID, "%s '%s' is not %s", kindNames[kind],
                       obj->item.name, kind == OBJ_DOMAIN ? "running" : "active");
    } else if (kind == OBJ_DOMAIN) {
        domSetShutoff(d, DOM(obj), REASON_SHUTOFF_DESTROYED,
                      VIR_DOMAIN_EVENT_STOPPED_DESTROYED);
        ret = 0;
    } else {
        NET(obj)->active = false;
        objEvent(d, obj, VIR_NETWORK_EVENT_STOPPED, 0);
        objGoneIfTransient(d, obj);
        ret = 0;
    }
    pthread_mutex_unlock(&d->lock);
    return ret;
}

static int testDomainUndefine(virDomainPtr dom)
{
    return objUndefine(dom->conn, OBJ_DOMAIN, dom->uuid, dom->name);
}

static int testDomainDestroy(virDomainPtr dom)
{
    return objDestroy(dom->conn, OBJ_DOMAIN, dom->uuid, dom->name);
}

static int testNetworkUndefine(virNetworkPtr net)
{
    return objUndefine(net->conn, OBJ_NETWORK, net->uuid, net->name);
}

static int testNetworkDestroy(virNetworkPtr net)
{
    return objDestroy(net->conn, OBJ_NETWORK, net->uuid, net->name);
}

/* ---- the domain's job ----------------------------------------------------- */

static int testDomainGetJobInfo(virDomainPtr dom, virDomainJobInfoPtr info)
{
    return virObjListGetJobInfo(domList(dom), dom->uuid, dom->name, info);
}

static int testDomainAbortJob(virDomainPtr dom)
{
    return virObjListAbortJob(domList(dom), dom->uuid, dom->name);
}

/* libvirt's name for what a job of @kind does; UNKNOWN: not a domain job
 * libvirt would report (define, network jobs). */
static int jobOperation(testJobKind kind)
{
    switch (kind) {
    case TJ_DOM_SAVE: return VIR_DOMAIN_JOB_OPERATION_SAVE;
    case TJ_DOM_RESTORE: return VIR_DOMAIN_JOB_OPERATION_RESTORE;
    case TJ_DOM_DUMP: return VIR_DOMAIN_JOB_OPERATION_DUMP;
    case TJ_DOM_CREATE:
    case TJ_DOM_START: return VIR_DOMAIN_JOB_OPERATION_START;
    default: return VIR_DOMAIN_JOB_OPERATION_UNKNOWN;
    }
}

static int testDomainGetJobStats(virDomainPtr dom, int *type, virTypedParameterPtr *params,
                                 int *nparams, unsigned int flags)
{
    testDriver *d;
    testDomObj *obj;
    virDriverJobStats st;
    int ret;

    virCheckFlags(VIR_DOMAIN_JOB_STATS_COMPLETED | VIR_DOMAIN_JOB_STATS_KEEP_COMPLETED, -1);
    if (!(obj = domLock(dom, &d)))
        return -1;
    /* Under the lock: the job lives until its done callback has cleared
     * the slot, which takes this lock. */
    const testJob *tj = obj->o.slot.job ? virSupJobGetOpaque(obj->o.slot.job) : NULL;
    ret = virDriverJobStatsRead(&obj->o.slot, &obj->lastJob,
                                tj ? jobOperation(tj->kind) : VIR_DOMAIN_JOB_OPERATION_UNKNOWN,
                                flags, &st);
    pthread_mutex_unlock(&d->lock);
    return virDriverJobStatsReturn(ret, &st, type, params, nparams);
}

/* ---- jobs: common ---------------------------------------------------------- */

static void testJobFree(void *opaque)
{
    testJob *tj = opaque;

    if (!tj)
        return;
    virDriverJobOutputClear(&tj->out);
    virForceClose(&tj->infd);
    virConnectRelease(tj->conn);
    free(tj);
}

static testJob *testJobNew(virConnectPtr conn, testJobKind kind)
{
    testJob *tj;

    if (!VIR_ALLOC(tj))
        return NULL;
    virDriverJobOutputInit(&tj->out);
    tj->infd = -1;
    tj->kind = kind;
    tj->okind = kind >= TJ_NET_DEFINE ? OBJ_NETWORK : OBJ_DOMAIN;
    virConnectHold(conn);
    tj->conn = conn;
    return tj;
}

/* Release the job's slot, if it holds one (driver lock held). */
static void jobReleaseSlot(testDriver *d, testJob *tj)
{
    testObj *obj;

    if (!tj->holdsSlot)
        return;
    if ((obj = objFindUUID(d, tj->okind, tj->uuid)) &&
        virDriverJobSlotRelease(&obj->slot, tj->token))
        objGoneIfTransient(d, obj);   /* shut off while its job ran */
    tj->holdsSlot = false;
}

/* A domain job ended: keep its figures for GetJobStats(COMPLETED) and
 * raise JOB_COMPLETED when it completed (a commit thread, no lock held). */
static void jobRecordEnd(testDriver *d, virJobPtr job, testJob *tj, virJobState state,
                         const virError *err)
{
    virDriverJobStats st;
    uint8_t uuid[VIR_UUID_BUFLEN];
    bool haveUUID = tj->knowUUID;
    int operation;
    testDomObj *obj;

    if ((operation = jobOperation(tj->kind)) == VIR_DOMAIN_JOB_OPERATION_UNKNOWN)
        return;
    memcpy(uuid, tj->uuid, sizeof(uuid));
    if (state == VIR_JOB_COMPLETE) {
        /* The domain the commit made (the job is not ended yet: its
         * result is read directly, not through virJobGetDomain). */
        int kind = 0;
        virDomainPtr dom = virSupJobGetResult(job, &kind);
        if (dom && kind == VIR_DRIVER_RESULT_DOMAIN) {
            memcpy(uuid, dom->uuid, sizeof(uuid));
            haveUUID = true;
        }
    }
    if (!haveUUID)
        return;
    virDriverJobStatsEnded(job, operation, state, err, &st);

    pthread_mutex_lock(&d->lock);
    if ((obj = DOM(objFindUUID(d, OBJ_DOMAIN, uuid)))) {
        obj->lastJob = st;
        if (state == VIR_JOB_COMPLETE) {
            virTypedParameterPtr params = NULL;
            int nparams = 0;
            if (virDriverJobStatsParams(&st, &params, &nparams) == 0) {
                virEventStateQueueDomain(d->events, VIR_DOMAIN_EVENT_ID_JOB_COMPLETED,
                                         obj->def.name, obj->def.uuid, params, nparams);
                virTypedParamsFree(params, nparams);
            }
        }
    }
    pthread_mutex_unlock(&d->lock);
}

static void testJobDone(virJobPtr job, void *opaque, virJobState state,
                        const virError *err)
{
    testJob *tj = opaque;
    testDriver *d = driverOf(tj->conn);

    jobRecordEnd(d, job, tj, state, err);
    pthread_mutex_lock(&d->lock);
    jobReleaseSlot(d, tj);
    pthread_mutex_unlock(&d->lock);
    /* An image not linked into place is removed now, not at destroy. */
    virDriverJobOutputDiscard(&tj->out);
    virForceClose(&tj->infd);
}

static int commitDomainDefine(virJobPtr, void *, const void *, size_t);
static int commitDomainCreate(virJobPtr, void *, const void *, size_t);
static int commitStart(virJobPtr, void *, const void *, size_t);
static int commitDomainSave(virJobPtr, void *, const void *, size_t);
static int commitDomainRestore(virJobPtr, void *, const void *, size_t);
static int commitDomainDump(virJobPtr, void *, const void *, size_t);
static int commitNetworkDefine(virJobPtr, void *, const void *, size_t);
static int commitNetworkCreate(virJobPtr, void *, const void *, size_t);

/* Save and dump write an unnamed file opened here; restore reads the
 * image opened here. No op needs a capability, a socket or a path. The
 * ops that read XML (define, create, start, and restore: the image's)
 * call libxml2; save and dump do not map it. */
static const virSupFdSpec testOutputFD[] = { { TEST_FD_OUTPUT, VIR_SUP_FD_WRITE } };
static const virSupFdSpec testImageFD[] = { { TEST_FD_IMAGE, VIR_SUP_FD_READ } };
static const virSupProfile testXMLProfile = {
    .name = "test.xml", .libs = VIR_SUP_LIB_XML,
};
static const virSupProfile testOutputProfile = {
    .name = "test.output", .fds = testOutputFD, .nfds = 1,
};
static const virSupProfile testImageProfile = {
    .name = "test.image", .libs = VIR_SUP_LIB_XML, .fds = testImageFD, .nfds = 1,
};

#define TEST_OP(kind, opname, prof, commitfn) \
    [kind] = { .name = (opname), .type = VIR_JOB_BOUNDED, .profile = (prof), \
               .commit = (commitfn), .done = testJobDone }

static const virSupOp testOps[TJ_LAST] = {
    TEST_OP(TJ_DOM_DEFINE, TEST_OP_DOMAIN_DEFINE, &testXMLProfile, commitDomainDefine),
    TEST_OP(TJ_DOM_CREATE, TEST_OP_DOMAIN_CREATE, &testXMLProfile, commitDomainCreate),
    TEST_OP(TJ_DOM_START, TEST_OP_DOMAIN_START, &testXMLProfile, commitStart),
    TEST_OP(TJ_DOM_SAVE, TEST_OP_DOMAIN_SAVE, &testOutputProfile, commitDomainSave),
    TEST_OP(TJ_DOM_RESTORE, TEST_OP_DOMAIN_RESTORE, &testImageProfile, commitDomainRestore),
    TEST_OP(TJ_DOM_DUMP, TEST_OP_DOMAIN_DUMP, &testOutputProfile, commitDomainDump),
    TEST_OP(TJ_NET_DEFINE, TEST_OP_NETWORK_DEFINE, &testXMLProfile, commitNetworkDefine),
    TEST_OP(TJ_NET_CREATE, TEST_OP_NETWORK_CREATE, &testXMLProfile, commitNetworkCreate),
    TEST_OP(TJ_NET_START, TEST_OP_NETWORK_START, &testXMLProfile, commitStart),
};
#undef TEST_OP

static void paramsInit(testJobParams *p, virConnectPtr conn, unsigned int flags)
{
    memset(p, 0, sizeof(*p));
    p->magic = TEST_JOB_PARAMS_MAGIC;
    p->version = 1;
    p->flags = flags;
    p->bandwidth_bps = connOf(conn)->bandwidth_bps;
}

/* Create the job of @tj (consumed) with params @p followed by @xml.
 * On failure its slot is released and everything it opened is closed. */
static virJobPtr jobStart(testJob *tj, testJobParams *p, const char *xml,
                          const char *target)
{
    testDriver *d = driverOf(tj->conn);
    size_t xmllen = xml ? strlen(xml) : 0;
    VIR_AUTOFREE(uint8_t *) blob = NULL;
    virSupJobParams sp = { 0 };
    virJobPtr job = NULL;
    uint64_t token = tj->token;
    bool holdsSlot = tj->holdsSlot;
    testObjKind okind = tj->okind;
    uint8_t uuid[16];
    int fd = tj->out.fd >= 0 ? tj->out.fd : tj->infd;

    memcpy(uuid, tj->uuid, sizeof(uuid));
    if (xmllen > TEST_XML_MAX) {
        virReportError(VIR_ERR_XML_ERROR, "XML is larger than %d bytes", TEST_XML_MAX);
        goto error;
    }
    p->xmllen = (uint32_t)xmllen;
    if (!(blob = virAllocN(sizeof(*p) + xmllen + 1, 1)))
        goto error;
    memcpy(blob, p, sizeof(*p));
    if (xmllen)
        memcpy(blob + sizeof(*p), xml, xmllen);

    sp.op = &testOps[tj->kind];
    sp.target = target;
    sp.params = blob;
    sp.paramslen = sizeof(*p) + xmllen;
    sp.fds = fd >= 0 ? &fd : NULL;
    sp.nfds = fd >= 0 ? 1 : 0;
    sp.opaque = tj;
    sp.opaque_free = testJobFree;
    /* From here the job owns tj (when created): done may run at once. */
    if (!(job = virDriverJobCreate(&connOf(tj->conn)->guard, &sp)))
        goto error;

    if (holdsSlot) {
        testObj *obj;
        pthread_mutex_lock(&d->lock);
        if ((obj = objFindUUID(d, okind, uuid)))
            virDriverJobSlotSetJob(&obj->slot, token, job);
        pthread_mutex_unlock(&d->lock);
    }
    return job;

 error:
    pthread_mutex_lock(&d->lock);
    jobReleaseSlot(d, tj);
    pthread_mutex_unlock(&d->lock);
    {
        virErrorPtr saved = virSaveLastError();
        testJobFree(tj);
        virRestoreLastError(&saved);
    }
    return NULL;
}

/* Take the slot of @obj for @tj, after checking that it is @wantActive.
 * Driver lock held. Returns 0, or -1 with an error reported. */
static int objJobPrepare(testObj *obj, testJob *tj, bool wantActive)
{
    const char *kind = kindNames[obj->kind];

    if (virDriverJobSlotCheckFree(&obj->slot, kind, obj->item.name) < 0)
        return -1;
    if (wantActive != objActive(obj)) {
        virReportError(VIR_ERR_OPERATION_INVALID, "%s '%s' is %s", kind, obj->item.name,
                       wantActive ? (obj->kind == OBJ_DOMAIN ? "not running" : "not active")
                                  : (obj->kind == OBJ_DOMAIN ? "already running"
                                                             : "already active"));
        return -1;
    }
    if (virDriverJobSlotTake(&obj->slot, testOps[tj->kind].name, kind, obj->item.name,
                             &tj->token) < 0)
        return -1;
    memcpy(tj->uuid, obj->item.uuid, 16);
    tj->holdsSlot = tj->knowUUID = true;
    return 0;
}

/* objJobPrepare for the domain of @dom, copying its def into @def (and
 * its kept elements into @keep, unless NULL). */
static int domJobPrepare(virDomainPtr dom, testJob *tj, bool wantActive,
                         testDomainDef *def, virXMLKeep *keep)
{
    testDriver *d;
    testDomObj *obj;
    int ret;

    if (!(obj = domLock(dom, &d)))
        return -1;
    if ((ret = objJobPrepare(&obj->o, tj, wantActive)) == 0) {
        *def = obj->def;
        if (keep && virXMLKeepSet(keep, obj->o.keep.data, obj->o.keep.len) < 0)
            ret = -1;
    }
    pthread_mutex_unlock(&d->lock);
    return ret;
}

/* A worker's result: a def, copied to @out and checked with
 * testDomainDefCheck / testNetworkDefCheck, followed by the records of the
 * elements it kept (checked with virXMLKeepCheck), copied to @keep. */
static int resultCheck(testObjKind kind, const void *result, size_t len, void *out,
                       virXMLKeep *keep)
{
    size_t size = kind == OBJ_DOMAIN ? sizeof(testDomainDef) : sizeof(testNetworkDef);
    const char *why = NULL;

    if (!result || len < size || len - size > VIR_XML_KEEP_MAX) {
        virReportError(VIR_ERR_OPERATION_FAILED,
                       "the worker returned a %s definition of %zu bytes, "
                       "expected %zu", kindNames[kind], len, size);
        return -1;
    }
    memcpy(out, result, size);
    if ((kind == OBJ_DOMAIN ? testDomainDefCheck(out, &why)
                            : testNetworkDefCheck(out, &why)) < 0) {
        virReportError(VIR_ERR_OPERATION_FAILED,
                       "the worker returned an invalid %s definition: %s",
                       kindNames[kind], why);
        return -1;
    }
    if (virXMLKeepCheck((const uint8_t *)result + size, len - size, &why) < 0) {
        virReportError(VIR_ERR_OPERATION_FAILED,
                       "the worker returned invalid kept XML elements for a %s: %s",
                       kindNames[kind], why);
        return -1;
    }
    return virXMLKeepSet(keep, (const uint8_t *)result + size, len - size);
}

/* ---- the async calls -------------------------------------------------------- */

static virJobPtr testDomainCreateXMLJob(virConnectPtr conn, const char *xml,
                                        unsigned int flags, bool linux_)
{
    testJobParams p;
    testJob *tj;

    virCheckFlags(0, NULL);
    if (!(tj = testJobNew(conn, TJ_DOM_CREATE)))
        return NULL;
    paramsInit(&p, conn, 0);
    return jobStart(tj, &p, xml, linux_ ? "create-linux" : "create-xml");
}

static virJobPtr testDomainCreateJob(virDomainPtr dom, unsigned int flags)
{
    testJobParams p;
    testJob *tj;

    virCheckFlags(0, NULL);
    if (!(tj = testJobNew(dom->conn, TJ_DOM_START)))
        return NULL;
    paramsInit(&p, dom->conn, 0);
    if (domJobPrepare(dom, tj, false, &p.dom, NULL) < 0) {
        testJobFree(tj);
        return NULL;
    }
    return jobStart(tj, &p, NULL, p.dom.name);
}

/* Release what a job call took before its job was created. */
static virJobPtr jobAbandon(testJob *tj)
{
    testDriver *d = driverOf(tj->conn);
    virErrorPtr saved = virSaveLastError();

    pthread_mutex_lock(&d->lock);
    jobReleaseSlot(d, tj);
    pthread_mutex_unlock(&d->lock);
    testJobFree(tj);
    virRestoreLastError(&saved);
    return NULL;
}

static virJobPtr testDomainSaveJob(virDomainPtr dom, const char *to)
{
    testJobParams p;
    testJob *tj;
    VIR_AUTOFREE(char *) xml = NULL;
    virXMLKeep keep = VIR_XML_KEEP_INIT;
    int rc;

    if (!(tj = testJobNew(dom->conn, TJ_DOM_SAVE)))
        return NULL;
    paramsInit(&p, dom->conn, 0);
    /* The image carries the domain's XML, kept elements included: a
     * restore gives them back (libvirt's image carries its XML too). */
    rc = virDriverJobOutputOpen(&tj->out, to, "save image") < 0 ||
         domJobPrepare(dom, tj, true, &p.dom, &keep) < 0 ||
         !(xml = testDomainDefFormat(&p.dom, &keep, -1)) ? -1 : 0;
    virXMLKeepClear(&keep);
    if (rc < 0)
        return jobAbandon(tj);
    tj->expectSize = testSaveImageSize(&p.dom, strlen(xml));
    return jobStart(tj, &p, xml, p.dom.name);
}

static virJobPtr testDomainDumpCoreJob(virDomainPtr dom, const char *to,
                                       unsigned int flags)
{
    testJobParams p;
    testJob *tj;

    virCheckFlags(VIR_DUMP_CRASH | VIR_DUMP_LIVE, NULL);
    if (!(tj = testJobNew(dom->conn, TJ_DOM_DUMP)))
        return NULL;
    tj->flags = flags;
    paramsInit(&p, dom->conn, flags);
    if (virDriverJobOutputOpen(&tj->out, to, "core dump") < 0 ||
        domJobPrepare(dom, tj, true, &p.dom, NULL) < 0)
        return jobAbandon(tj);
    return jobStart(tj, &p, NULL, p.dom.name);
}

static virJobPtr testDomainRestoreJob(virConnectPtr conn, const char *from)
{
    testDriver *d = driverOf(conn);
    testJobParams p;
    testJob *tj;
    testSaveHeader hdr;
    const char *why = NULL;
    char target[TEST_NAME_MAX] = "restore";

    if (!(tj = testJobNew(conn, TJ_DOM_RESTORE)))
        return NULL;
    paramsInit(&p, conn, 0);
    if ((tj->infd = virDriverJobInputOpen(from, "save image")) < 0)
        return jobAbandon(tj);
    /* Peek at the header (a fixed record, no parser) to learn which domain
     * this is, so the restore holds its job slot. The worker verifies the
     * whole image; a bad header is its to report. */
    if (pread(tj->infd, &hdr, sizeof(hdr), 0) == (ssize_t)sizeof(hdr) &&
        !memcmp(hdr.magic, TEST_SAVE_MAGIC, sizeof(TEST_SAVE_MAGIC)) &&
        hdr.version == TEST_SAVE_VERSION && testDomainDefCheck(&hdr.def, &why) == 0) {
        testObj *obj;
        int rc = 0;

        memcpy(tj->uuid, hdr.def.uuid, 16);
        tj->knowUUID = true;
        virStrcpyTrunc(target, sizeof(target), hdr.def.name);
        pthread_mutex_lock(&d->lock);
        if ((obj = objFindUUID(d, OBJ_DOMAIN, hdr.def.uuid)))
            rc = objJobPrepare(obj, tj, false);
        pthread_mutex_unlock(&d->lock);
        if (rc < 0)
            return jobAbandon(tj);
    }
    return jobStart(tj, &p, NULL, target);
}

static virJobPtr testNetworkCreateXMLJob(virConnectPtr conn, const char *xml)
{
    testJobParams p;
    testJob *tj;

    if (!(tj = testJobNew(conn, TJ_NET_CREATE)))
        return NULL;
    paramsInit(&p, conn, 0);
    return jobStart(tj, &p, xml, "network-create-xml");
}

static virJobPtr testNetworkCreateJob(virNetworkPtr net)
{
    testDriver *d;
    testNetObj *obj;
    testJobParams p;
    testJob *tj;
    int rc;

    if (!(tj = testJobNew(net->conn, TJ_NET_START)))
        return NULL;
    paramsInit(&p, net->conn, 0);
    if (!(obj = netLock(net, &d))) {
        testJobFree(tj);
        return NULL;
    }
    if ((rc = objJobPrepare(&obj->o, tj, false)) == 0)
        p.net = obj->def;
    pthread_mutex_unlock(&d->lock);
    if (rc < 0) {
        testJobFree(tj);
        return NULL;
    }
    return jobStart(tj, &p, NULL, p.net.name);
}

/* ---- the synchronous defines (a worker parses the XML) --------------------- */

static virDomainPtr testDomainDefineXML(virConnectPtr conn, const char *xml)
{
    testJobParams p;
    testJob *tj;
    virDomainPtr dom = NULL;

    if (!(tj = testJobNew(conn, TJ_DOM_DEFINE)))
        return NULL;
    paramsInit(&p, conn, 0);
    if (virDriverJobWaitResult(jobStart(tj, &p, xml, "define-xml"), &dom, NULL) < 0)
        return NULL;
    return dom;
}

static virNetworkPtr testNetworkDefineXML(virConnectPtr conn, const char *xml)
{
    testJobParams p;
    testJob *tj;
    virNetworkPtr net = NULL;

    if (!(tj = testJobNew(conn, TJ_NET_DEFINE)))
        return NULL;
    paramsInit(&p, conn, 0);
    if (virDriverJobWaitResult(jobStart(tj, &p, xml, "network-define-xml"), NULL, &net) < 0)
        return NULL;
    return net;
}

/* ---- commit functions (a commit thread) ------------------------------------ */

/* Hand the job @h, a handle of kind @kind, as its result. */
static int resultGive(virJobPtr job, testObjKind kind, void *h)
{
    if (kind == OBJ_DOMAIN)
        return virDriverJobResultDomainGive(job, h);
    return virDriverJobResultNetworkGive(job, h);
}

/* Add or update an object from a def a worker made (@def: a checked
 * testDomainDef or testNetworkDef), under the lock: a name or UUID held by
 * another object, an active object of that UUID or one with another job
 * are refused. Then start it if @start. */
static int objCommitDef(testDriver *d, testJob *tj, const void *def, virXMLKeep *keep,
                        const char *name, const uint8_t *uuid, bool start, int reason,
                        bool persistent)
{
    testObjKind kind = tj->okind;
    const char *what = kindNames[kind];
    virObjListItem *found;
    testObj *obj;
    int exist = kind == OBJ_DOMAIN ? VIR_ERR_DOM_EXIST : VIR_ERR_NETWORK_EXIST;

    if (virObjListFindForDefine(&d->lists[kind], name, uuid, &found) < 0)
        return -1;
    obj = (testObj *)found;
    if (obj && virDriverJobSlotBusy(&obj->slot) &&
        !(tj->holdsSlot && obj->slot.token == tj->token))
        return virDriverJobSlotCheckFree(&obj->slot, what, obj->item.name);
    if (obj && objActive(obj)) {
        virReportError(start && kind == OBJ_NETWORK ? exist : VIR_ERR_OPERATION_INVALID,
                       start ? "%s '%s' is already %s"
                             : "%s '%s' is %s: destroy it before redefining it",
                       what, obj->item.name, kind == OBJ_DOMAIN ? "running" : "active");
        return -1;
    }
    bool updated = obj && obj->persistent;
    if (!obj) {
        if (!(obj = objAdd(d, kind, def, keep)))
            return -1;
    } else {
        if (kind == OBJ_DOMAIN)
            DOM(obj)->def = *(const testDomainDef *)def;
        else
            NET(obj)->def = *(const testNetworkDef *)def;
        /* the new definition's kept elements replace the old ones */
        virXMLKeepClear(&obj->keep);
        obj->keep = *keep;
        *keep = (virXMLKeep)VIR_XML_KEEP_INIT;
    }
    if (persistent && kind == OBJ_DOMAIN)
        objEvent(d, obj, VIR_DOMAIN_EVENT_DEFINED, updated ? VIR_DOMAIN_EVENT_DEFINED_UPDATED
                                                           : VIR_DOMAIN_EVENT_DEFINED_ADDED);
    else if (persistent)
        objEvent(d, obj, VIR_NETWORK_EVENT_DEFINED, 0);
    obj->persistent = obj->persistent || persistent;
    if (start && kind == OBJ_DOMAIN)
        domSetRunning(d, DOM(obj), reason, reason == REASON_RUNNING_RESTORED
                      ? VIR_DOMAIN_EVENT_STARTED_RESTORED : VIR_DOMAIN_EVENT_STARTED_BOOTED);
    else if (start)
        netSetActive(d, NET(obj));
    return 0;
}

static int commitDefOp(virJobPtr job, testJob *tj, const void *result, size_t len,
                       bool start, int reason, bool persistent)
{
    testDriver *d = driverOf(tj->conn);
    union {
        testDomainDef dom;
        testNetworkDef net;
    } def;
    const char *name = tj->okind == OBJ_DOMAIN ? def.dom.name : def.net.name;
    const uint8_t *uuid = tj->okind == OBJ_DOMAIN ? def.dom.uuid : def.net.uuid;
    virXMLKeep keep = VIR_XML_KEEP_INIT;
    void *h = NULL;
    int rc = -1;

    if (resultCheck(tj->okind, result, len, &def, &keep) < 0)
        goto cleanup;
    if (tj->knowUUID && memcmp(uuid, tj->uuid, 16)) {
        virReportError(VIR_ERR_OPERATION_FAILED, "%s",
                       "the worker returned a domain other than the one the "
                       "image header names");
        goto cleanup;
    }
    if (!(h = objHandle(tj->conn, tj->okind, name, uuid)))
        goto cleanup;
    pthread_mutex_lock(&d->lock);
    rc = objCommitDef(d, tj, &def, &keep, name, uuid, start, reason, persistent);
    pthread_mutex_unlock(&d->lock);
    if (rc < 0)
        objHandleFree(tj->okind, h);
    else
        rc = resultGive(job, tj->okind, h);

 cleanup:
    virXMLKeepClear(&keep);
    return rc;
}

static int commitDomainDefine(virJobPtr job, void *opaque, const void *result,
                              size_t len)
{
    return commitDefOp(job, opaque, result, len, false, 0, true);
}

static int commitDomainCreate(virJobPtr job, void *opaque, const void *result,
                              size_t len)
{
    return commitDefOp(job, opaque, result, len, true, REASON_RUNNING_BOOTED, false);
}

static int commitDomainRestore(virJobPtr job, void *opaque, const void *result,
                               size_t len)
{
    return commitDefOp(job, opaque, result, len, true, REASON_RUNNING_RESTORED, false);
}

static int commitNetworkDefine(virJobPtr job, void *opaque, const void *result,
                               size_t len)
{
    return commitDefOp(job, opaque, result, len, false, 0, true);
}

static int commitNetworkCreate(virJobPtr job, void *opaque, const void *result,
                               size_t len)
{
    return commitDefOp(job, opaque, result, len, true, 0, false);
}

/* Start a defined domain or network (its slot holds the job). */
static int commitStart(virJobPtr job, void *opaque,
                       const void *result ATTRIBUTE_UNUSED,
                       size_t len ATTRIBUTE_UNUSED)
{
    testJob *tj = opaque;
    testDriver *d = driverOf(tj->conn);
    testObj *obj;
    void *h = NULL;

    pthread_mutex_lock(&d->lock);
    if ((obj = objFindUUID(d, tj->okind, tj->uuid))) {
        if ((h = objHandle(tj->conn, tj->okind, obj->item.name, obj->item.uuid))) {
            if (tj->okind == OBJ_DOMAIN)
                domSetRunning(d, DOM(obj), REASON_RUNNING_BOOTED,
                              VIR_DOMAIN_EVENT_STARTED_BOOTED);
            else
                netSetActive(d, NET(obj));
        }
    }
    pthread_mutex_unlock(&d->lock);
    if (!obj)
        virReportError(tj->okind == OBJ_DOMAIN ? VIR_ERR_NO_DOMAIN : VIR_ERR_NO_NETWORK,
                       "the %s was undefined meanwhile", kindNames[tj->okind]);
    if (!h)
        return -1;
    return resultGive(job, tj->okind, h);
}

/* Save and dump: check and link the file into place, then shut the domain
 * off when @shutoffReason is not 0. */
static int commitOutput(virJobPtr job, testJob *tj, int shutoffReason)
{
    testDriver *d = driverOf(tj->conn);
    testObj *obj;
    virDomainPtr h = NULL;
    struct stat st;

    if (fstat(tj->out.fd, &st) < 0) {
        virReportSystemError(errno, "cannot stat the %s '%s'", tj->out.what, tj->out.path);
        return -1;
    }
    if (tj->expectSize && (uint64_t)st.st_size != tj->expectSize) {
        virReportError(VIR_ERR_OPERATION_FAILED,
                       "the worker wrote %lld bytes of the %s '%s', expected %" PRIu64,
                       (long long)st.st_size, tj->out.what, tj->out.path, tj->expectSize);
        return -1;
    }
    if (tj->kind == TJ_DOM_DUMP) {
        unsigned char magic[4] = { 0 };
        if (pread(tj->out.fd, magic, 4, 0) != 4 || memcmp(magic, "\177ELF", 4)) {
            virReportError(VIR_ERR_OPERATION_FAILED,
                           "the worker's core dump '%s' is not an ELF file", tj->out.path);
            return -1;
        }
    }
    pthread_mutex_lock(&d->lock);
    if ((obj = objFindUUID(d, OBJ_DOMAIN, tj->uuid)) &&
        !(h = objHandle(tj->conn, OBJ_DOMAIN, obj->item.name, obj->item.uuid))) {
        pthread_mutex_unlock(&d->lock);
        return -1;
    }
    pthread_mutex_unlock(&d->lock);
    if (virDriverJobOutputCommit(&tj->out) < 0) {
        virDriverJobResultDomainDrop(h);
        return -1;
    }
    pthread_mutex_lock(&d->lock);
    if ((obj = objFindUUID(d, OBJ_DOMAIN, tj->uuid)) && shutoffReason) {
        /* The slot is still held: a transient one goes when done
         * releases it. */
        domSetShutoff(d, DOM(obj), shutoffReason, shutoffReason == REASON_SHUTOFF_SAVED
                      ? VIR_DOMAIN_EVENT_STOPPED_SAVED : VIR_DOMAIN_EVENT_STOPPED_CRASHED);
        obj = objFindUUID(d, OBJ_DOMAIN, tj->uuid);
    }
    pthread_mutex_unlock(&d->lock);
    if (!obj || !h) {
        virDriverJobResultDomainDrop(h);
        return 0;
    }
    return virDriverJobResultDomainGive(job, h);
}

static int commitDomainSave(virJobPtr job, void *opaque,
                            const void *result ATTRIBUTE_UNUSED,
                            size_t len ATTRIBUTE_UNUSED)
{
    return commitOutput(job, opaque, REASON_SHUTOFF_SAVED);
}

static int commitDomainDump(virJobPtr job, void *opaque,
                            const void *result ATTRIBUTE_UNUSED,
                            size_t len ATTRIBUTE_UNUSED)
{
    testJob *tj = opaque;
    return commitOutput(job, tj, (tj->flags & VIR_DUMP_CRASH) ? REASON_SHUTOFF_CRASHED : 0);
}

const virConnectDriver testConnectDriver = {
    .name = "test",
    .typeName = "TEST",
    .uriParams = testURIParams,
    .connectGetVersion = testConnectGetVersion,
    .connectGetEventState = testConnectGetEventState,
    .domainLookupByID = testDomainLookupByID,
    .domainGetID = testDomainGetID,
    .domainGetOSType = testDomainGetOSType,
    .domainIsActive = testDomainIsActive,
    .domainIsPersistent = testDomainIsPersistent,
    .domainSuspend = testDomainSuspend,
    .domainResume = testDomainResume,
    .domainShutdown = testDomainShutdown,
    .domainReboot = testDomainReboot,
    .domainGetJobStats = testDomainGetJobStats,
    .connectOpen = testConnectOpen,
    .connectClose = testConnectClose,
    .connectFree = testConnectFree,
    .connectListAllDomains = testConnectListAllDomains,
    .domainLookupByName = testDomainLookupByName,
    .domainLookupByUUID = testDomainLookupByUUID,
    .domainGetInfo = testDomainGetInfo,
    .domainGetState = testDomainGetState,
    .domainGetXMLDesc = testDomainGetXMLDesc,
    .domainDefineXML = testDomainDefineXML,
    .domainUndefine = testDomainUndefine,
    .domainDestroy = testDomainDestroy,
    .domainGetJobInfo = testDomainGetJobInfo,
    .domainAbortJob = testDomainAbortJob,
    .domainCreateXMLJob = testDomainCreateXMLJob,
    .domainCreateJob = testDomainCreateJob,
    .domainSaveJob = testDomainSaveJob,
    .domainRestoreJob = testDomainRestoreJob,
    .domainDumpCoreJob = testDomainDumpCoreJob,
    .connectListAllNetworks = testConnectListAllNetworks,
    .networkLookupByName = testNetworkLookupByName,
    .networkDefineXML = testNetworkDefineXML,
    .networkUndefine = testNetworkUndefine,
    .networkDestroy = testNetworkDestroy,
    .networkIsActive = testNetworkIsActive,
    .networkGetXMLDesc = testNetworkGetXMLDesc,
    .networkCreateXMLJob = testNetworkCreateXMLJob,
    .networkCreateJob = testNetworkCreateJob,
};
