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
 * domain or network is queued as an event in the node's event state. Long work runs as jobs: the XML given to DefineXML/CreateXML
 * is parsed by a worker, save/dump write through a descriptor opened here,
 * restore reads one opened here. Each job's commit function (supervisor's
 * reaper thread) checks the worker's result and applies it; its done
 * function releases the object's job slot.
 *
 * A domain or network has at most one job at a time: its slot holds a
 * token (taken before the job is created) and the job once created. Both
 * are cleared by the job's done callback, matched by token, so a job that
 * ends before virSupJobCreate has returned cannot leave a stale slot.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

#include "driverjob.h"
#include "drivers/test/test_driver.h"
#include "event.h"
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

typedef struct testSlot {
    uint64_t token;           /* 0: free */
    virJobPtr job;            /* NULL until virSupJobCreate has returned */
} testSlot;

/* What virDomainGetJobStats(VIR_DOMAIN_JOB_STATS_COMPLETED) returns. */
typedef struct testJobRecord {
    bool valid;
    int type;                 /* VIR_DOMAIN_JOB_COMPLETED/FAILED/CANCELLED */
    int operation;            /* virDomainJobOperation */
    uint64_t elapsed, done, total, rate;
    char errmsg[256];
} testJobRecord;

typedef struct testDomObj {
    testDomainDef def;
    int state;                /* virDomainState */
    int reason;
    int id;                   /* while active; -1 otherwise */
    bool persistent;
    testJobRecord lastJob;
    long long startedMs;      /* CLOCK_MONOTONIC, for cpuTime */
    testSlot slot;
} testDomObj;

typedef struct testNetObj {
    testNetworkDef def;
    bool active;
    bool persistent;
    testSlot slot;
} testNetObj;

/* A node: shared by the connections to it (see testNodeAcquire). */
typedef struct testDriver {
    pthread_mutex_t lock;     /* everything below, and each testConn's group */
    testDomObj **doms;
    size_t ndoms;
    testNetObj **nets;
    size_t nnets;
    uint64_t lastToken;
    int nextID;               /* the next domain ID (from 1, as libvirt) */
    virEventState *events;
    int refs;                 /* connections using it (testDefaultLock for the default node) */
    bool isDefault;
} testDriver;

/* A connection's own part. */
typedef struct testConn {
    testDriver *node;
    virSupGroup *group;       /* NULL once the connection is closing (node lock) */
    unsigned int creating;    /* virSupJobCreate calls in flight on group */
    pthread_cond_t created;   /* signalled when creating drops to 0 */
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
    bool holdsSlot;           /* token names the slot of object uuid */
    bool knowUUID;            /* uuid names the target (restore: from the header) */
    uint8_t uuid[16];
    uint64_t token;
    unsigned int flags;
    int fd;                   /* save/dump output, restore input */
    int dirfd;                /* save/dump: the destination's directory */
    char *path;               /* the caller's path, for messages */
    char *base;               /* save/dump: final name in dirfd */
    char *tmpname;            /* a name in dirfd to remove if not committed */
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

/* ---- events ------------------------------------------------------------- */

static void domEvent(testDriver *d, const testDomObj *obj, int event, int detail)
{
    virEventStateQueueLifecycle(d->events, VIR_EVENT_OBJ_DOMAIN, obj->def.name,
                                obj->def.uuid, event, detail);
}

static void netEvent(testDriver *d, const testNetObj *obj, int event)
{
    virEventStateQueueLifecycle(d->events, VIR_EVENT_OBJ_NETWORK, obj->def.name,
                                obj->def.uuid, event, 0);
}

/* ---- object lists (driver lock held) ------------------------------------- */

static testDomObj *domFindUUID(testDriver *d, const uint8_t *uuid)
{
    for (size_t i = 0; i < d->ndoms; i++)
        if (!memcmp(d->doms[i]->def.uuid, uuid, 16))
            return d->doms[i];
    return NULL;
}

static testDomObj *domFindName(testDriver *d, const char *name)
{
    for (size_t i = 0; i < d->ndoms; i++)
        if (STREQ(d->doms[i]->def.name, name))
            return d->doms[i];
    return NULL;
}

static testNetObj *netFindUUID(testDriver *d, const uint8_t *uuid)
{
    for (size_t i = 0; i < d->nnets; i++)
        if (!memcmp(d->nets[i]->def.uuid, uuid, 16))
            return d->nets[i];
    return NULL;
}

static testNetObj *netFindName(testDriver *d, const char *name)
{
    for (size_t i = 0; i < d->nnets; i++)
        if (STREQ(d->nets[i]->def.name, name))
            return d->nets[i];
    return NULL;
}

static testDomObj *domAdd(testDriver *d, const testDomainDef *def)
{
    testDomObj *obj, **list;

    if (!(list = virReallocN(d->doms, d->ndoms + 1, sizeof(*list))))
        return NULL;
    d->doms = list;
    if (!VIR_ALLOC(obj))
        return NULL;
    obj->def = *def;
    obj->state = VIR_DOMAIN_SHUTOFF;
    obj->id = -1;
    d->doms[d->ndoms++] = obj;
    return obj;
}

static void domRemove(testDriver *d, testDomObj *obj)
{
    for (size_t i = 0; i < d->ndoms; i++) {
        if (d->doms[i] == obj) {
            d->doms[i] = d->doms[--d->ndoms];
            free(obj);
            return;
        }
    }
}

static testNetObj *netAdd(testDriver *d, const testNetworkDef *def)
{
    testNetObj *obj, **list;

    if (!(list = virReallocN(d->nets, d->nnets + 1, sizeof(*list))))
        return NULL;
    d->nets = list;
    if (!VIR_ALLOC(obj))
        return NULL;
    obj->def = *def;
    d->nets[d->nnets++] = obj;
    return obj;
}

static void netRemove(testDriver *d, testNetObj *obj)
{
    for (size_t i = 0; i < d->nnets; i++) {
        if (d->nets[i] == obj) {
            d->nets[i] = d->nets[--d->nnets];
            free(obj);
            return;
        }
    }
}

static bool domActive(const testDomObj *obj)
{
    return obj->state != VIR_DOMAIN_SHUTOFF && obj->state != VIR_DOMAIN_CRASHED;
}

/* Start a domain: the next ID, the STARTED event with @detail (none when
 * @detail < 0: the node's initial state). */
static void domSetRunning(testDriver *d, testDomObj *obj, int reason, int detail)
{
    obj->state = VIR_DOMAIN_RUNNING;
    obj->reason = reason;
    obj->startedMs = nowMs();
    obj->id = d->nextID++;
    if (detail >= 0)
        domEvent(d, obj, VIR_DOMAIN_EVENT_STARTED, detail);
}

/* Shut a domain off (the STOPPED event with @detail); a transient one then
 * goes away (libvirt's rule). */
static void domSetShutoff(testDriver *d, testDomObj *obj, int reason, int detail)
{
    obj->state = VIR_DOMAIN_SHUTOFF;
    obj->reason = reason;
    obj->id = -1;
    domEvent(d, obj, VIR_DOMAIN_EVENT_STOPPED, detail);
    if (!obj->persistent && !obj->slot.token)
        domRemove(d, obj);
}

/* Lock and find the domain of @dom; reports VIR_ERR_NO_DOMAIN if gone.
 * On success the driver lock is held. */
static testDomObj *domLock(virDomainPtr dom, testDriver **dp)
{
    testDriver *d = driverOf(dom->conn);
    testDomObj *obj;

    pthread_mutex_lock(&d->lock);
    if (!(obj = domFindUUID(d, dom->uuid))) {
        pthread_mutex_unlock(&d->lock);
        virReportError(VIR_ERR_NO_DOMAIN, "no domain '%s' (it was undefined)",
                       dom->name);
        return NULL;
    }
    *dp = d;
    return obj;
}

static testNetObj *netLock(virNetworkPtr net, testDriver **dp)
{
    testDriver *d = driverOf(net->conn);
    testNetObj *obj;

    pthread_mutex_lock(&d->lock);
    if (!(obj = netFindUUID(d, net->uuid))) {
        pthread_mutex_unlock(&d->lock);
        virReportError(VIR_ERR_NO_NETWORK, "no network '%s' (it was undefined)",
                       net->name);
        return NULL;
    }
    *dp = d;
    return obj;
}

/* Report that @slot is taken by another job of @what '@name'. */
static void slotBusyError(const testSlot *slot, const char *what, const char *name)
{
    unsigned long long id = slot->job ? virJobGetID(slot->job) : 0;

    if (id)
        virReportError(VIR_ERR_JOB_ACTIVE, "%s '%s' already has an active job (job %llu)",
                       what, name, id);
    else
        virReportError(VIR_ERR_JOB_ACTIVE, "%s '%s' already has an active job "
                       "(it is starting)", what, name);
}

static int slotTake(testDriver *d, testSlot *slot, const char *what,
                    const char *name, uint64_t *token)
{
    if (slot->token) {
        slotBusyError(slot, what, name);
        return -1;
    }
    slot->token = *token = ++d->lastToken;
    slot->job = NULL;
    return 0;
}

static void slotRelease(testSlot *slot, uint64_t token)
{
    if (slot->token == token) {
        slot->token = 0;
        slot->job = NULL;
    }
}

/* ---- connections --------------------------------------------------------- */

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

static void nodeFree(testDriver *d)
{
    for (size_t i = 0; i < d->ndoms; i++)
        free(d->doms[i]);
    for (size_t i = 0; i < d->nnets; i++)
        free(d->nets[i]);
    free(d->doms);
    free(d->nets);
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
    d->nextID = 1;
    d->refs = 1;
    if (!(d->events = virEventStateNew()))
        goto error;
    for (size_t i = 0; i < def->ndoms; i++) {
        testDomObj *obj = domAdd(d, &def->doms[i]);
        if (!obj)
            goto error;
        obj->persistent = true;
        domSetRunning(d, obj, REASON_RUNNING_BOOTED, -1);
    }
    for (size_t i = 0; i < def->nnets; i++) {
        testNetObj *obj = netAdd(d, &def->nets[i]);
        if (!obj)
            goto error;
        obj->persistent = true;
        obj->active = true;
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
        testNodeDef def = { &defdom, 1, &defnet, 1 };

        testDefaultDomainDef(&defdom);
        testDefaultNetworkDef(&defnet);
        if ((d = nodeNew(&def))) {
            d->isDefault = true;
            testDefaultNode = d;
        }
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
    pthread_cond_init(&c->created, NULL);
    c->bandwidth_bps = bandwidth * 1024 * 1024;
    if (!(c->group = virSupGroupNew(&cfg->group))) {
        pthread_cond_destroy(&c->created);
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
    testDriver *d = c->node;
    virSupGroup *group;

    /* Its event callbacks go now; those of other connections stay. */
    virEventStateConnClosed(d->events, conn);
    pthread_mutex_lock(&d->lock);
    group = c->group;
    c->group = NULL;
    /* A job being created on the group now must be in the group's table
     * before the group is closed, or it would escape the close. */
    while (c->creating)
        pthread_cond_wait(&c->created, &d->lock);
    pthread_mutex_unlock(&d->lock);
    /* Waits for the group's jobs: their commit and done functions take the
     * driver lock, so it must not be held here. */
    if (group)
        virSupGroupClose(group);
}

static void testConnectFree(virConnectPtr conn)
{
    testConn *c = conn->privateData;

    if (!c)
        return;
    nodeRelease(c->node);
    pthread_cond_destroy(&c->created);
    free(c);
    conn->privateData = NULL;
}

static virEventState *testConnectGetEventState(virConnectPtr conn)
{
    return driverOf(conn)->events;
}

/* ---- domains: listing, lookup, accessors -------------------------------- */

static bool domMatch(const testDomObj *obj, unsigned int flags)
{
    bool active = domActive(obj);

    if ((flags & (VIR_CONNECT_LIST_DOMAINS_ACTIVE | VIR_CONNECT_LIST_DOMAINS_INACTIVE)) &&
        !((flags & VIR_CONNECT_LIST_DOMAINS_ACTIVE && active) ||
          (flags & VIR_CONNECT_LIST_DOMAINS_INACTIVE && !active)))
        return false;
    if ((flags & (VIR_CONNECT_LIST_DOMAINS_PERSISTENT | VIR_CONNECT_LIST_DOMAINS_TRANSIENT)) &&
        !((flags & VIR_CONNECT_LIST_DOMAINS_PERSISTENT && obj->persistent) ||
          (flags & VIR_CONNECT_LIST_DOMAINS_TRANSIENT && !obj->persistent)))
        return false;
    if (flags & (VIR_CONNECT_LIST_DOMAINS_RUNNING | VIR_CONNECT_LIST_DOMAINS_PAUSED |
                 VIR_CONNECT_LIST_DOMAINS_SHUTOFF | VIR_CONNECT_LIST_DOMAINS_OTHER)) {
        int s = obj->state;
        bool ok = (flags & VIR_CONNECT_LIST_DOMAINS_RUNNING && s == VIR_DOMAIN_RUNNING) ||
                  (flags & VIR_CONNECT_LIST_DOMAINS_PAUSED && s == VIR_DOMAIN_PAUSED) ||
                  (flags & VIR_CONNECT_LIST_DOMAINS_SHUTOFF && s == VIR_DOMAIN_SHUTOFF) ||
                  (flags & VIR_CONNECT_LIST_DOMAINS_OTHER &&
                   s != VIR_DOMAIN_RUNNING && s != VIR_DOMAIN_PAUSED &&
                   s != VIR_DOMAIN_SHUTOFF);
        if (!ok)
            return false;
    }
    return true;
}

static int testConnectListAllDomains(virConnectPtr conn, virDomainPtr **doms,
                                     unsigned int flags)
{
    testDriver *d = driverOf(conn);
    virDomainPtr *list = NULL;
    int n = 0;

    virCheckFlags(VIR_CONNECT_LIST_DOMAINS_ACTIVE | VIR_CONNECT_LIST_DOMAINS_INACTIVE |
                  VIR_CONNECT_LIST_DOMAINS_PERSISTENT | VIR_CONNECT_LIST_DOMAINS_TRANSIENT |
                  VIR_CONNECT_LIST_DOMAINS_RUNNING | VIR_CONNECT_LIST_DOMAINS_PAUSED |
                  VIR_CONNECT_LIST_DOMAINS_SHUTOFF | VIR_CONNECT_LIST_DOMAINS_OTHER, -1);

    pthread_mutex_lock(&d->lock);
    if (!(list = virAllocN(d->ndoms + 1, sizeof(*list))))
        goto error;
    for (size_t i = 0; i < d->ndoms; i++) {
        if (!domMatch(d->doms[i], flags))
            continue;
        if (!(list[n] = virGetDomain(conn, d->doms[i]->def.name, d->doms[i]->def.uuid)))
            goto error;
        n++;
    }
    pthread_mutex_unlock(&d->lock);
    *doms = list;
    return n;

 error:
    pthread_mutex_unlock(&d->lock);
    for (int i = 0; list && i < n; i++)
        virDomainFree(list[i]);
    free(list);
    virReportOOMError();
    return -1;
}

static virDomainPtr domHandle(virConnectPtr conn, const testDomObj *obj)
{
    virDomainPtr dom = virGetDomain(conn, obj->def.name, obj->def.uuid);
    if (!dom)
        virReportOOMError();
    return dom;
}

static virDomainPtr testDomainLookupByName(virConnectPtr conn, const char *name)
{
    testDriver *d = driverOf(conn);
    testDomObj *obj;
    virDomainPtr dom = NULL;

    pthread_mutex_lock(&d->lock);
    if ((obj = domFindName(d, name)))
        dom = domHandle(conn, obj);
    pthread_mutex_unlock(&d->lock);
    if (!obj)
        virReportError(VIR_ERR_NO_DOMAIN, "no domain named '%.64s'", name);
    return dom;
}

static virDomainPtr testDomainLookupByUUID(virConnectPtr conn, const unsigned char *uuid)
{
    testDriver *d = driverOf(conn);
    testDomObj *obj;
    virDomainPtr dom = NULL;
    char str[VIR_UUID_STRING_BUFLEN];

    pthread_mutex_lock(&d->lock);
    if ((obj = domFindUUID(d, uuid)))
        dom = domHandle(conn, obj);
    pthread_mutex_unlock(&d->lock);
    if (!obj) {
        virUUIDFormat(uuid, str);
        virReportError(VIR_ERR_NO_DOMAIN, "no domain with UUID %s", str);
    }
    return dom;
}

static int testDomainGetInfo(virDomainPtr dom, virDomainInfoPtr info)
{
    testDriver *d;
    testDomObj *obj = domLock(dom, &d);

    if (!obj)
        return -1;
    memset(info, 0, sizeof(*info));
    info->state = (unsigned char)obj->state;
    info->maxMem = obj->def.memory_kib;
    info->memory = obj->def.memory_kib;
    info->nrVirtCpu = (unsigned short)obj->def.vcpus;
    if (domActive(obj))
        info->cpuTime = (unsigned long long)(nowMs() - obj->startedMs) *
                        1000000ULL * obj->def.vcpus;
    pthread_mutex_unlock(&d->lock);
    return 0;
}

static int testDomainGetState(virDomainPtr dom, int *state, int *reason,
                              unsigned int flags)
{
    testDriver *d;
    testDomObj *obj;

    virCheckFlags(0, -1);
    if (!(obj = domLock(dom, &d)))
        return -1;
    *state = obj->state;
    if (reason)
        *reason = obj->reason;
    pthread_mutex_unlock(&d->lock);
    return 0;
}

static char *testDomainGetXMLDesc(virDomainPtr dom, unsigned int flags)
{
    testDriver *d;
    testDomObj *obj;
    testDomainDef def;

    virCheckFlags(0, NULL);
    if (!(obj = domLock(dom, &d)))
        return NULL;
    def = obj->def;
    pthread_mutex_unlock(&d->lock);
    return testDomainDefFormat(&def);
}

static int testDomainUndefine(virDomainPtr dom)
{
    testDriver *d;
    testDomObj *obj;
    int ret = -1;

    if (!(obj = domLock(dom, &d)))
        return -1;
    if (obj->slot.token) {
        slotBusyError(&obj->slot, "domain", obj->def.name);
    } else if (!obj->persistent) {
        virReportError(VIR_ERR_OPERATION_INVALID,
                       "cannot undefine transient domain '%s'", obj->def.name);
    } else {
        domEvent(d, obj, VIR_DOMAIN_EVENT_UNDEFINED, VIR_DOMAIN_EVENT_UNDEFINED_REMOVED);
        if (domActive(obj))
            obj->persistent = false;
        else
            domRemove(d, obj);
        ret = 0;
    }
    pthread_mutex_unlock(&d->lock);
    return ret;
}

static int testDomainDestroy(virDomainPtr dom)
{
    testDriver *d;
    testDomObj *obj;
    int ret = -1;

    if (!(obj = domLock(dom, &d)))
        return -1;
    if (obj->slot.token) {
        slotBusyError(&obj->slot, "domain", obj->def.name);
    } else if (!domActive(obj)) {
        virReportError(VIR_ERR_OPERATION_INVALID, "domain '%s' is not running",
                       obj->def.name);
    } else {
        domSetShutoff(d, obj, REASON_SHUTOFF_DESTROYED, VIR_DOMAIN_EVENT_STOPPED_DESTROYED);
        ret = 0;
    }
    pthread_mutex_unlock(&d->lock);
    return ret;
}

static int testDomainGetJobInfo(virDomainPtr dom, virDomainJobInfoPtr info)
{
    testDriver *d;
    testDomObj *obj;
    int state = VIR_JOB_RUNNING;
    uint64_t elapsed = 0, remaining = 0, done = 0, total = 0;
    int ret = 0;

    if (!(obj = domLock(dom, &d)))
        return -1;
    memset(info, 0, sizeof(*info));
    if (obj->slot.job) {
        /* Under the lock: the job is not destroyed before its done
         * callback has cleared the slot, which takes this lock. */
        if (virSupJobGetRawStats(obj->slot.job, &state, &elapsed, &remaining,
                              &done, &total) < 0) {
            ret = -1;
        } else {
            static const int types[] = {
                [VIR_JOB_RUNNING] = VIR_DOMAIN_JOB_BOUNDED,
                [VIR_JOB_COMPLETE] = VIR_DOMAIN_JOB_COMPLETED,
                [VIR_JOB_FAILED] = VIR_DOMAIN_JOB_FAILED,
                [VIR_JOB_CANCELLED] = VIR_DOMAIN_JOB_CANCELLED,
            };
            info->type = state >= 0 && state <= VIR_JOB_CANCELLED ? types[state]
                                                                  : VIR_DOMAIN_JOB_FAILED;
            info->timeElapsed = elapsed;
            info->timeRemaining = remaining;
            info->dataTotal = total;
            info->dataProcessed = done;
            info->dataRemaining = total > done ? total - done : 0;
            info->fileTotal = info->dataTotal;
            info->fileProcessed = info->dataProcessed;
            info->fileRemaining = info->dataRemaining;
        }
    } else if (obj->slot.token) {
        info->type = VIR_DOMAIN_JOB_BOUNDED;   /* starting */
    }
    pthread_mutex_unlock(&d->lock);
    return ret;
}

static int testDomainAbortJob(virDomainPtr dom)
{
    testDriver *d;
    testDomObj *obj;
    int ret = -1;

    if (!(obj = domLock(dom, &d)))
        return -1;
    if (!obj->slot.token) {
        virReportError(VIR_ERR_OPERATION_INVALID, "domain '%s' has no active job",
                       obj->def.name);
    } else if (!obj->slot.job) {
        virReportError(VIR_ERR_OPERATION_FAILED,
                       "the job of domain '%s' is still starting: try again",
                       obj->def.name);
    } else if (virJobCancel(obj->slot.job) >= 0) {
        ret = 0;
    }
    pthread_mutex_unlock(&d->lock);
    return ret;
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

/* virDomainGetJobStats's fields for a job (running: @remaining is set;
 * ended: @rec gives success and error). Returns 0, or -1 (OOM, reported). */
static int jobParams(const testJobRecord *rec, bool running, uint64_t remaining,
                     virTypedParameterPtr *params, int *nparams)
{
    int max = 0;
    virTypedParameterPtr p = NULL;
    int n = 0;
    uint64_t left = rec->total > rec->done ? rec->total - rec->done : 0;

    if (virTypedParamsAddInt(&p, &n, &max, VIR_DOMAIN_JOB_OPERATION, rec->operation) < 0 ||
        virTypedParamsAddULLong(&p, &n, &max, VIR_DOMAIN_JOB_TIME_ELAPSED, rec->elapsed) < 0 ||
        (running &&
         virTypedParamsAddULLong(&p, &n, &max, VIR_DOMAIN_JOB_TIME_REMAINING, remaining) < 0) ||
        virTypedParamsAddULLong(&p, &n, &max, VIR_DOMAIN_JOB_DATA_TOTAL, rec->total) < 0 ||
        virTypedParamsAddULLong(&p, &n, &max, VIR_DOMAIN_JOB_DATA_PROCESSED, rec->done) < 0 ||
        virTypedParamsAddULLong(&p, &n, &max, VIR_DOMAIN_JOB_DATA_REMAINING, left) < 0 ||
        virTypedParamsAddULLong(&p, &n, &max, VIR_DOMAIN_JOB_MEMORY_TOTAL, rec->total) < 0 ||
        virTypedParamsAddULLong(&p, &n, &max, VIR_DOMAIN_JOB_MEMORY_PROCESSED, rec->done) < 0 ||
        virTypedParamsAddULLong(&p, &n, &max, VIR_DOMAIN_JOB_MEMORY_REMAINING, left) < 0 ||
        virTypedParamsAddULLong(&p, &n, &max, VIR_DOMAIN_JOB_MEMORY_BPS, rec->rate) < 0 ||
        (!running &&
         virTypedParamsAddBoolean(&p, &n, &max, VIR_DOMAIN_JOB_SUCCESS,
                                  rec->type == VIR_DOMAIN_JOB_COMPLETED) < 0) ||
        (!running && rec->errmsg[0] &&
         virTypedParamsAddString(&p, &n, &max, VIR_DOMAIN_JOB_ERRMSG, rec->errmsg) < 0)) {
        virTypedParamsFree(p, n);
        return -1;
    }
    *params = p;
    *nparams = n;
    return 0;
}

static virDomainPtr testDomainLookupByID(virConnectPtr conn, int id)
{
    testDriver *d = driverOf(conn);
    testDomObj *obj = NULL;
    virDomainPtr dom = NULL;

    pthread_mutex_lock(&d->lock);
    for (size_t i = 0; i < d->ndoms && !obj; i++)
        if (domActive(d->doms[i]) && d->doms[i]->id == id)
            obj = d->doms[i];
    if (obj)
        dom = domHandle(conn, obj);
    pthread_mutex_unlock(&d->lock);
    if (!obj)
        virReportError(VIR_ERR_NO_DOMAIN, "no domain with ID %d", id);
    return dom;
}

static int testDomainGetID(virDomainPtr dom)
{
    testDriver *d;
    testDomObj *obj = domLock(dom, &d);
    int id;

    if (!obj)
        return -1;
    id = domActive(obj) ? obj->id : -1;
    pthread_mutex_unlock(&d->lock);
    return id;
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
    testDriver *d;
    testDomObj *obj = domLock(dom, &d);
    int ret;

    if (!obj)
        return -1;
    ret = domActive(obj) ? 1 : 0;
    pthread_mutex_unlock(&d->lock);
    return ret;
}

static int testDomainIsPersistent(virDomainPtr dom)
{
    testDriver *d;
    testDomObj *obj = domLock(dom, &d);
    int ret;

    if (!obj)
        return -1;
    ret = obj->persistent ? 1 : 0;
    pthread_mutex_unlock(&d->lock);
    return ret;
}

/* Lock the domain of @dom for a change that needs it in state @want (and
 * no job): returns it with the driver lock held, or NULL with an error. */
static testDomObj *domLockForChange(virDomainPtr dom, testDriver **dp, int want)
{
    testDomObj *obj = domLock(dom, dp);

    if (!obj)
        return NULL;
    if (obj->slot.token) {
        slotBusyError(&obj->slot, "domain", obj->def.name);
    } else if (want == VIR_DOMAIN_PAUSED && obj->state != VIR_DOMAIN_PAUSED) {
        virReportError(VIR_ERR_OPERATION_INVALID, "domain '%s' is not paused",
                       obj->def.name);
    } else if (want == VIR_DOMAIN_RUNNING && obj->state != VIR_DOMAIN_RUNNING) {
        virReportError(VIR_ERR_OPERATION_INVALID, "domain '%s' is not running",
                       obj->def.name);
    } else if (want == VIR_DOMAIN_NOSTATE && !domActive(obj)) {
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
    domEvent(d, obj, VIR_DOMAIN_EVENT_SUSPENDED, VIR_DOMAIN_EVENT_SUSPENDED_PAUSED);
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
    domEvent(d, obj, VIR_DOMAIN_EVENT_RESUMED, VIR_DOMAIN_EVENT_RESUMED_UNPAUSED);
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
    domEvent(d, obj, VIR_DOMAIN_EVENT_SHUTDOWN, VIR_DOMAIN_EVENT_SHUTDOWN_FINISHED);
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

static int testDomainGetJobStats(virDomainPtr dom, int *type, virTypedParameterPtr *params,
                                 int *nparams, unsigned int flags)
{
    testDriver *d;
    testDomObj *obj;
    testJobRecord rec = { 0 };
    uint64_t remaining = 0;
    bool running = false;
    int ret = 0;

    virCheckFlags(VIR_DOMAIN_JOB_STATS_COMPLETED | VIR_DOMAIN_JOB_STATS_KEEP_COMPLETED, -1);
    if (!(obj = domLock(dom, &d)))
        return -1;
    if (flags & VIR_DOMAIN_JOB_STATS_COMPLETED) {
        rec = obj->lastJob;
        if (!(flags & VIR_DOMAIN_JOB_STATS_KEEP_COMPLETED))
            obj->lastJob.valid = false;
    } else if (obj->slot.job) {
        /* Under the lock: the job lives until its done callback has
         * cleared the slot, which takes this lock. */
        testJob *tj = virSupJobGetOpaque(obj->slot.job);
        int state = 0;
        if (virSupJobGetRawStats(obj->slot.job, &state, &rec.elapsed, &remaining,
                                 &rec.done, &rec.total) == 0) {
            rec.valid = true;
            running = true;
            rec.type = VIR_DOMAIN_JOB_BOUNDED;
            rec.operation = jobOperation(tj->kind);
            rec.rate = rec.elapsed ? rec.done * 1000 / rec.elapsed : 0;
        }
    }
    pthread_mutex_unlock(&d->lock);

    *params = NULL;
    *nparams = 0;
    *type = rec.valid ? rec.type : VIR_DOMAIN_JOB_NONE;
    if (rec.valid && jobParams(&rec, running, remaining, params, nparams) < 0)
        ret = -1;
    return ret;
}

/* ---- jobs: common ---------------------------------------------------------- */

static void testJobFree(void *opaque)
{
    testJob *tj = opaque;

    if (!tj)
        return;
    if (tj->tmpname && tj->dirfd >= 0)
        (void)unlinkat(tj->dirfd, tj->tmpname, 0);
    virForceClose(&tj->fd);
    virForceClose(&tj->dirfd);
    free(tj->path);
    free(tj->base);
    free(tj->tmpname);
    virConnectRelease(tj->conn);
    free(tj);
}

static testJob *testJobNew(virConnectPtr conn, testJobKind kind)
{
    testJob *tj;

    if (!VIR_ALLOC(tj))
        return NULL;
    tj->fd = tj->dirfd = -1;
    tj->kind = kind;
    virConnectHold(conn);
    tj->conn = conn;
    return tj;
}

/* Release the job's slot, if it holds one (driver lock held). */
static void jobReleaseSlot(testDriver *d, testJob *tj)
{
    if (!tj->holdsSlot)
        return;
    if (tj->kind >= TJ_NET_DEFINE) {
        testNetObj *obj = netFindUUID(d, tj->uuid);
        if (obj)
            slotRelease(&obj->slot, tj->token);
    } else {
        testDomObj *obj = domFindUUID(d, tj->uuid);
        if (obj) {
            slotRelease(&obj->slot, tj->token);
            /* A transient domain shut off while its job ran goes now. */
            if (!obj->persistent && !domActive(obj) && !obj->slot.token)
                domRemove(d, obj);
        }
    }
    tj->holdsSlot = false;
}

/* A domain job ended: keep its figures for GetJobStats(COMPLETED) and
 * raise JOB_COMPLETED when it completed (reaper thread, no lock held). */
static void jobRecordEnd(testDriver *d, virJobPtr job, testJob *tj, virJobState state)
{
    testJobRecord rec = { .valid = true };
    int raw = 0;
    uint64_t remaining = 0;
    uint8_t uuid[VIR_UUID_BUFLEN];
    bool haveUUID = tj->knowUUID;
    virErrorPtr err;
    testDomObj *obj;

    if ((rec.operation = jobOperation(tj->kind)) == VIR_DOMAIN_JOB_OPERATION_UNKNOWN)
        return;
    memcpy(uuid, tj->uuid, sizeof(uuid));
    if (state == VIR_JOB_COMPLETE) {
        virDomainPtr dom = virJobGetDomain(job);
        if (dom) {
            memcpy(uuid, dom->uuid, sizeof(uuid));
            haveUUID = true;
            virDomainFree(dom);
        }
    }
    if (!haveUUID)
        return;
    (void)virSupJobGetRawStats(job, &raw, &rec.elapsed, &remaining, &rec.done, &rec.total);
    rec.rate = rec.elapsed ? rec.done * 1000 / rec.elapsed : 0;
    rec.type = state == VIR_JOB_COMPLETE ? VIR_DOMAIN_JOB_COMPLETED :
               state == VIR_JOB_CANCELLED ? VIR_DOMAIN_JOB_CANCELLED : VIR_DOMAIN_JOB_FAILED;
    /* The job's own error is published after this callback: the record
     * says how it ended; virJobGetError on the job has the details. */
    if (state != VIR_JOB_COMPLETE && (err = virJobGetError(job)) && err->message)
        virStrcpyTrunc(rec.errmsg, sizeof(rec.errmsg), err->message);
    else if (state == VIR_JOB_CANCELLED)
        virStrcpyTrunc(rec.errmsg, sizeof(rec.errmsg), "the job was cancelled");
    else if (state != VIR_JOB_COMPLETE)
        virStrcpyTrunc(rec.errmsg, sizeof(rec.errmsg), "the job failed");

    pthread_mutex_lock(&d->lock);
    if ((obj = domFindUUID(d, uuid))) {
        obj->lastJob = rec;
        if (state == VIR_JOB_COMPLETE) {
            virTypedParameterPtr params = NULL;
            int nparams = 0;
            if (jobParams(&rec, false, 0, &params, &nparams) == 0) {
                virEventStateQueueDomain(d->events, VIR_DOMAIN_EVENT_ID_JOB_COMPLETED,
                                         obj->def.name, obj->def.uuid, params, nparams);
                virTypedParamsFree(params, nparams);
            }
        }
    }
    pthread_mutex_unlock(&d->lock);
}

static void testJobDone(virJobPtr job, void *opaque, virJobState state)
{
    testJob *tj = opaque;
    testDriver *d = driverOf(tj->conn);

    jobRecordEnd(d, job, tj, state);
    pthread_mutex_lock(&d->lock);
    jobReleaseSlot(d, tj);
    pthread_mutex_unlock(&d->lock);
    /* An image not linked into place is removed now, not at destroy. */
    if (tj->tmpname && tj->dirfd >= 0) {
        (void)unlinkat(tj->dirfd, tj->tmpname, 0);
        free(tj->tmpname);
        tj->tmpname = NULL;
    }
    virForceClose(&tj->fd);
    virForceClose(&tj->dirfd);
}

static int commitDomainDefine(virJobPtr, void *, const void *, size_t);
static int commitDomainCreate(virJobPtr, void *, const void *, size_t);
static int commitDomainStart(virJobPtr, void *, const void *, size_t);
static int commitDomainSave(virJobPtr, void *, const void *, size_t);
static int commitDomainRestore(virJobPtr, void *, const void *, size_t);
static int commitDomainDump(virJobPtr, void *, const void *, size_t);
static int commitNetworkDefine(virJobPtr, void *, const void *, size_t);
static int commitNetworkCreate(virJobPtr, void *, const void *, size_t);
static int commitNetworkStart(virJobPtr, void *, const void *, size_t);

/* Save and dump write an unnamed file opened here; restore reads the
 * image opened here. No op needs a capability, a socket or a path. */
static const virSupFdSpec testOutputFD[] = { { TEST_FD_OUTPUT, VIR_SUP_FD_WRITE } };
static const virSupFdSpec testImageFD[] = { { TEST_FD_IMAGE, VIR_SUP_FD_READ } };
static const virSupProfile testOutputProfile = {
    .name = "test.output", .fds = testOutputFD, .nfds = 1,
};
static const virSupProfile testImageProfile = {
    .name = "test.image", .fds = testImageFD, .nfds = 1,
};

#define TEST_OP(kind, opname, prof, commitfn) \
    [kind] = { .name = (opname), .type = VIR_JOB_BOUNDED, .profile = (prof), \
               .commit = (commitfn), .done = testJobDone }

static const virSupOp testOps[TJ_LAST] = {
    TEST_OP(TJ_DOM_DEFINE, TEST_OP_DOMAIN_DEFINE, NULL, commitDomainDefine),
    TEST_OP(TJ_DOM_CREATE, TEST_OP_DOMAIN_CREATE, NULL, commitDomainCreate),
    TEST_OP(TJ_DOM_START, TEST_OP_DOMAIN_START, NULL, commitDomainStart),
    TEST_OP(TJ_DOM_SAVE, TEST_OP_DOMAIN_SAVE, &testOutputProfile, commitDomainSave),
    TEST_OP(TJ_DOM_RESTORE, TEST_OP_DOMAIN_RESTORE, &testImageProfile, commitDomainRestore),
    TEST_OP(TJ_DOM_DUMP, TEST_OP_DOMAIN_DUMP, &testOutputProfile, commitDomainDump),
    TEST_OP(TJ_NET_DEFINE, TEST_OP_NETWORK_DEFINE, NULL, commitNetworkDefine),
    TEST_OP(TJ_NET_CREATE, TEST_OP_NETWORK_CREATE, NULL, commitNetworkCreate),
    TEST_OP(TJ_NET_START, TEST_OP_NETWORK_START, NULL, commitNetworkStart),
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
    testConn *c = connOf(tj->conn);
    testDriver *d = c->node;
    size_t xmllen = xml ? strlen(xml) : 0;
    VIR_AUTOFREE(uint8_t *) blob = NULL;
    virSupJobParams sp = { 0 };
    virSupGroup *group;
    virJobPtr job = NULL;
    uint64_t token = tj->token;
    bool holdsSlot = tj->holdsSlot, isNet = tj->kind >= TJ_NET_DEFINE;
    uint8_t uuid[16];

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

    pthread_mutex_lock(&d->lock);
    if ((group = c->group))
        c->creating++;
    pthread_mutex_unlock(&d->lock);
    if (!group) {
        virReportError(VIR_ERR_INVALID_CONN, "%s", "the connection is closing");
        goto error;
    }
    sp.op = &testOps[tj->kind];
    sp.target = target;
    sp.params = blob;
    sp.paramslen = sizeof(*p) + xmllen;
    sp.fds = tj->fd >= 0 ? &tj->fd : NULL;
    sp.nfds = tj->fd >= 0 ? 1 : 0;
    sp.opaque = tj;
    sp.opaque_free = testJobFree;
    /* From here the job owns tj (when created): done may run at once. */
    job = virSupJobCreate(group, &sp);
    pthread_mutex_lock(&d->lock);
    if (--c->creating == 0)
        pthread_cond_broadcast(&c->created);
    pthread_mutex_unlock(&d->lock);
    if (!job)
        goto error;

    if (holdsSlot) {
        pthread_mutex_lock(&d->lock);
        testSlot *slot = NULL;
        if (isNet) {
            testNetObj *obj = netFindUUID(d, uuid);
            slot = obj ? &obj->slot : NULL;
        } else {
            testDomObj *obj = domFindUUID(d, uuid);
            slot = obj ? &obj->slot : NULL;
        }
        if (slot && slot->token == token)
            slot->job = job;
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

/* Take the slot of the domain @dom for a new job of @kind, after checking
 * that it is @wantActive. Fills tj and *def. */
static int domJobPrepare(virDomainPtr dom, testJob *tj, bool wantActive,
                         testDomainDef *def)
{
    testDriver *d;
    testDomObj *obj;
    int ret = -1;

    if (!(obj = domLock(dom, &d)))
        return -1;
    if (obj->slot.token) {
        slotBusyError(&obj->slot, "domain", obj->def.name);
    } else if (wantActive && !domActive(obj)) {
        virReportError(VIR_ERR_OPERATION_INVALID, "domain '%s' is not running",
                       obj->def.name);
    } else if (!wantActive && domActive(obj)) {
        virReportError(VIR_ERR_OPERATION_INVALID, "domain '%s' is already running",
                       obj->def.name);
    } else if (slotTake(d, &obj->slot, "domain", obj->def.name, &tj->token) == 0) {
        memcpy(tj->uuid, obj->def.uuid, 16);
        tj->holdsSlot = tj->knowUUID = true;
        *def = obj->def;
        ret = 0;
    }
    pthread_mutex_unlock(&d->lock);
    return ret;
}

/* Check a result blob holding a def of @size bytes; copy it to @out. */
static int resultTake(const void *result, size_t len, void *out, size_t size,
                      const char *what)
{
    if (!result || len != size) {
        virReportError(VIR_ERR_OPERATION_FAILED,
                       "the worker returned a %s definition of %zu bytes, "
                       "expected %zu", what, len, size);
        return -1;
    }
    memcpy(out, result, size);
    return 0;
}

static int domResultCheck(const void *result, size_t len, testDomainDef *def)
{
    const char *why = NULL;

    if (resultTake(result, len, def, sizeof(*def), "domain") < 0)
        return -1;
    if (testDomainDefCheck(def, &why) < 0) {
        virReportError(VIR_ERR_OPERATION_FAILED,
                       "the worker returned an invalid domain definition: %s", why);
        return -1;
    }
    return 0;
}

static int netResultCheck(const void *result, size_t len, testNetworkDef *def)
{
    const char *why = NULL;

    if (resultTake(result, len, def, sizeof(*def), "network") < 0)
        return -1;
    if (testNetworkDefCheck(def, &why) < 0) {
        virReportError(VIR_ERR_OPERATION_FAILED,
                       "the worker returned an invalid network definition: %s", why);
        return -1;
    }
    return 0;
}

static virDomainPtr resultDomainNew(virConnectPtr conn, const testDomainDef *def)
{
    return virDriverJobResultDomainNew(conn, def->name, def->uuid);
}

static virNetworkPtr resultNetworkNew(virConnectPtr conn, const testNetworkDef *def)
{
    return virDriverJobResultNetworkNew(conn, def->name, def->uuid);
}

/* ---- files for save and dump --------------------------------------------- */

static char *tempName(const char *base)
{
    uint64_t r = 0;

    if (getrandom(&r, sizeof(r), 0) != sizeof(r))
        r = (uint64_t)nowMs() ^ ((uint64_t)getpid() << 32);
    return virAsprintf(".%.200s.tmp%016" PRIx64, base, r);
}

/* Tests: behave as on a file system without O_TMPFILE. */
bool testDriverNoTmpfile;

/* Open an unnamed file in the directory of @to, to become @to at commit.
 * Refuses a @to that is a directory (or a symlink to one) or not a
 * regular file. */
static int outputOpen(testJob *tj, const char *to, const char *what)
{
    const char *slash = strrchr(to, '/');
    VIR_AUTOFREE(char *) dir = NULL;
    struct stat st;
    const char *base = slash ? slash + 1 : to;

    if (!*to) {
        virReportError(VIR_ERR_INVALID_ARG, "%s", "the path of the image is empty");
        return -1;
    }
    if (!*base || STREQ(base, ".") || STREQ(base, "..") ||
        (stat(to, &st) == 0 && S_ISDIR(st.st_mode))) {
        virReportError(VIR_ERR_INVALID_ARG,
                       "cannot write the %s to '%s': it is a directory (or a "
                       "symbolic link to one)", what, to);
        return -1;
    }
    if (stat(to, &st) == 0 && !S_ISREG(st.st_mode)) {
        virReportError(VIR_ERR_INVALID_ARG,
                       "cannot write the %s to '%s': it exists and is not a "
                       "regular file", what, to);
        return -1;
    }
    if (!(dir = slash ? virStrndup(to, slash == to ? 1 : (size_t)(slash - to))
                      : virStrdup(".")) ||
        !(tj->path = virStrdup(to)) || !(tj->base = virStrdup(base))) {
        virReportOOMError();
        return -1;
    }
    if ((tj->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        virReportSystemError(errno, "cannot write the %s to '%s': cannot open "
                             "its directory '%s'", what, to, dir);
        return -1;
    }
    if (testDriverNoTmpfile) {
        tj->fd = -1;
        errno = EOPNOTSUPP;
    } else {
        tj->fd = openat(tj->dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    }
    if (tj->fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
        /* No O_TMPFILE on this file system: a hidden name, removed by the
         * done callback unless committed. */
        for (int tries = 0; tries < 16 && tj->fd < 0; tries++) {
            free(tj->tmpname);
            if (!(tj->tmpname = tempName(tj->base)))
                return -1;
            tj->fd = openat(tj->dirfd, tj->tmpname,
                            O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC | O_NOFOLLOW, 0600);
            if (tj->fd < 0 && errno != EEXIST)
                break;
        }
        if (tj->fd < 0) {
            free(tj->tmpname);
            tj->tmpname = NULL;
        }
    }
    if (tj->fd < 0) {
        virReportSystemError(errno, "cannot create the %s in directory '%s'",
                             what, dir);
        return -1;
    }
    return 0;
}

/* fsync the file, give it its final name atomically, fsync the directory.
 * On failure @to is untouched and no temporary name is left. */
static int outputCommit(testJob *tj, const char *what)
{
    char proc[64];
    int rc = -1;

    if (fsync(tj->fd) < 0) {
        virReportSystemError(errno, "cannot flush the %s '%s'", what, tj->path);
        return -1;
    }
    if (!tj->tmpname) {
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", tj->fd);
        for (int tries = 0; tries < 16; tries++) {
            if (!(tj->tmpname = tempName(tj->base)))
                return -1;
            rc = linkat(AT_FDCWD, proc, tj->dirfd, tj->tmpname, AT_SYMLINK_FOLLOW);
            if (rc < 0 && errno == ENOENT)   /* no /proc: needs CAP_DAC_READ_SEARCH */
                rc = linkat(tj->fd, "", tj->dirfd, tj->tmpname, AT_EMPTY_PATH);
            if (rc == 0 || errno != EEXIST)
                break;
            free(tj->tmpname);
            tj->tmpname = NULL;
        }
        if (rc < 0) {
            virReportSystemError(errno, "cannot link the %s '%s' into place",
                                 what, tj->path);
            free(tj->tmpname);
            tj->tmpname = NULL;
            return -1;
        }
    }
    if (renameat(tj->dirfd, tj->tmpname, tj->dirfd, tj->base) < 0) {
        virReportSystemError(errno, "cannot rename the %s into '%s'", what, tj->path);
        return -1;   /* done removes tmpname */
    }
    free(tj->tmpname);
    tj->tmpname = NULL;
    if (fsync(tj->dirfd) < 0) {
        virReportSystemError(errno, "cannot flush the directory of '%s'", tj->path);
        return -1;
    }
    return 0;
}

/* ---- the async domain calls ---------------------------------------------- */

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
    if (domJobPrepare(dom, tj, false, &p.dom) < 0) {
        testJobFree(tj);
        return NULL;
    }
    return jobStart(tj, &p, NULL, p.dom.name);
}

static virJobPtr testDomainSaveJob(virDomainPtr dom, const char *to)
{
    testJobParams p;
    testJob *tj;
    VIR_AUTOFREE(char *) xml = NULL;

    if (!(tj = testJobNew(dom->conn, TJ_DOM_SAVE)))
        return NULL;
    paramsInit(&p, dom->conn, 0);
    if (outputOpen(tj, to, "save image") < 0 ||
        domJobPrepare(dom, tj, true, &p.dom) < 0 ||
        !(xml = testDomainDefFormat(&p.dom))) {
        if (tj->holdsSlot) {
            testDriver *d = driverOf(dom->conn);
            pthread_mutex_lock(&d->lock);
            jobReleaseSlot(d, tj);
            pthread_mutex_unlock(&d->lock);
        }
        testJobFree(tj);
        return NULL;
    }
    tj->expectSize = sizeof(testSaveHeader) + strlen(xml) + p.dom.memory_kib * 1024;
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
    if (outputOpen(tj, to, "core dump") < 0 ||
        domJobPrepare(dom, tj, true, &p.dom) < 0) {
        testJobFree(tj);
        return NULL;
    }
    return jobStart(tj, &p, NULL, p.dom.name);
}

static virJobPtr testDomainRestoreJob(virConnectPtr conn, const char *from)
{
    testDriver *d = driverOf(conn);
    testJobParams p;
    testJob *tj;
    testSaveHeader hdr;
    struct stat st;
    const char *why = NULL;
    char target[TEST_NAME_MAX] = "restore";

    if (!(tj = testJobNew(conn, TJ_DOM_RESTORE)))
        return NULL;
    paramsInit(&p, conn, 0);
    if (!*from) {
        virReportError(VIR_ERR_INVALID_ARG, "%s", "the path of the image is empty");
        goto error;
    }
    if ((tj->fd = open(from, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) < 0) {
        virReportSystemError(errno, "cannot open the save image '%s'", from);
        goto error;
    }
    if (fstat(tj->fd, &st) < 0) {
        virReportSystemError(errno, "cannot stat the save image '%s'", from);
        goto error;
    }
    if (!S_ISREG(st.st_mode)) {
        virReportError(VIR_ERR_INVALID_ARG,
                       "cannot restore from '%s': it is %s, not a regular file",
                       from, S_ISDIR(st.st_mode) ? "a directory" : "a special file");
        goto error;
    }
    if (!(tj->path = virStrdup(from))) {
        virReportOOMError();
        goto error;
    }
    /* Peek at the header (a fixed record, no parser) to learn which domain
     * this is, so the restore holds its job slot. The worker verifies the
     * whole image; a bad header is its to report. */
    if (pread(tj->fd, &hdr, sizeof(hdr), 0) == (ssize_t)sizeof(hdr) &&
        !memcmp(hdr.magic, TEST_SAVE_MAGIC, sizeof(TEST_SAVE_MAGIC)) &&
        hdr.version == TEST_SAVE_VERSION && testDomainDefCheck(&hdr.def, &why) == 0) {
        testDomObj *obj;
        int rc = 0;

        memcpy(tj->uuid, hdr.def.uuid, 16);
        tj->knowUUID = true;
        virStrcpyTrunc(target, sizeof(target), hdr.def.name);
        pthread_mutex_lock(&d->lock);
        if ((obj = domFindUUID(d, hdr.def.uuid))) {
            if (obj->slot.token) {
                slotBusyError(&obj->slot, "domain", obj->def.name);
                rc = -1;
            } else if (domActive(obj)) {
                virReportError(VIR_ERR_OPERATION_INVALID,
                               "domain '%s' is already running", obj->def.name);
                rc = -1;
            } else {
                rc = slotTake(d, &obj->slot, "domain", obj->def.name, &tj->token);
                tj->holdsSlot = rc == 0;
            }
        }
        pthread_mutex_unlock(&d->lock);
        if (rc < 0)
            goto error;
    }
    return jobStart(tj, &p, NULL, target);

 error:
    testJobFree(tj);
    return NULL;
}

/* ---- commit functions (reaper thread) ------------------------------------- */

/* Add or update a domain from a def the worker made, under the lock:
 * a name or UUID held by another domain, a running domain of that UUID
 * or one with another job are refused. */
static int domCommitDef(testDriver *d, testJob *tj, const testDomainDef *def,
                        bool start, int reason, bool persistent)
{
    testDomObj *obj = domFindUUID(d, def->uuid);
    testDomObj *byName = domFindName(d, def->name);
    char uuid[VIR_UUID_STRING_BUFLEN];

    if (byName && byName != obj) {
        virUUIDFormat(byName->def.uuid, uuid);
        virReportError(VIR_ERR_DOM_EXIST, "domain '%s' already exists with UUID %s",
                       def->name, uuid);
        return -1;
    }
    if (obj && STRNEQ(obj->def.name, def->name)) {
        virUUIDFormat(def->uuid, uuid);
        virReportError(VIR_ERR_DOM_EXIST, "a domain with UUID %s already exists "
                       "as '%s'", uuid, obj->def.name);
        return -1;
    }
    if (obj && obj->slot.token && !(tj->holdsSlot && obj->slot.token == tj->token)) {
        slotBusyError(&obj->slot, "domain", obj->def.name);
        return -1;
    }
    if (obj && domActive(obj)) {
        virReportError(VIR_ERR_OPERATION_INVALID,
                       start ? "domain '%s' is already running"
                             : "domain '%s' is running: destroy it before "
                               "redefining it", obj->def.name);
        return -1;
    }
    if (!obj) {
        if (!(obj = domAdd(d, def)))
            return -1;
        obj->persistent = persistent;
        if (persistent)
            domEvent(d, obj, VIR_DOMAIN_EVENT_DEFINED, VIR_DOMAIN_EVENT_DEFINED_ADDED);
    } else {
        obj->def = *def;
        if (persistent)
            domEvent(d, obj, VIR_DOMAIN_EVENT_DEFINED, obj->persistent
                     ? VIR_DOMAIN_EVENT_DEFINED_UPDATED : VIR_DOMAIN_EVENT_DEFINED_ADDED);
        obj->persistent = obj->persistent || persistent;
    }
    if (start)
        domSetRunning(d, obj, reason, reason == REASON_RUNNING_RESTORED
                      ? VIR_DOMAIN_EVENT_STARTED_RESTORED : VIR_DOMAIN_EVENT_STARTED_BOOTED);
    return 0;
}

static int commitDomainDefOp(virJobPtr job, testJob *tj, const void *result,
                             size_t len, bool start, int reason, bool persistent)
{
    testDriver *d = driverOf(tj->conn);
    testDomainDef def;
    virDomainPtr h;
    int rc;

    if (domResultCheck(result, len, &def) < 0)
        return -1;
    if (tj->knowUUID && memcmp(def.uuid, tj->uuid, 16)) {
        virReportError(VIR_ERR_OPERATION_FAILED, "%s",
                       "the worker returned a domain other than the one the "
                       "image header names");
        return -1;
    }
    if (!(h = resultDomainNew(tj->conn, &def)))
        return -1;
    pthread_mutex_lock(&d->lock);
    rc = domCommitDef(d, tj, &def, start, reason, persistent);
    pthread_mutex_unlock(&d->lock);
    if (rc < 0) {
        virDriverJobResultDomainDrop(h);
        return -1;
    }
    return virDriverJobResultDomainGive(job, h);
}

static int commitDomainDefine(virJobPtr job, void *opaque, const void *result,
                              size_t len)
{
    return commitDomainDefOp(job, opaque, result, len, false, 0, true);
}

static int commitDomainCreate(virJobPtr job, void *opaque, const void *result,
                              size_t len)
{
    return commitDomainDefOp(job, opaque, result, len, true,
                             REASON_RUNNING_BOOTED, false);
}

static int commitDomainRestore(virJobPtr job, void *opaque, const void *result,
                               size_t len)
{
    return commitDomainDefOp(job, opaque, result, len, true,
                             REASON_RUNNING_RESTORED, false);
}

static int commitDomainStart(virJobPtr job, void *opaque,
                             const void *result ATTRIBUTE_UNUSED,
                             size_t len ATTRIBUTE_UNUSED)
{
    testJob *tj = opaque;
    testDriver *d = driverOf(tj->conn);
    testDomObj *obj;
    testDomainDef def;
    virDomainPtr h;

    pthread_mutex_lock(&d->lock);
    if ((obj = domFindUUID(d, tj->uuid)))
        def = obj->def;
    pthread_mutex_unlock(&d->lock);
    if (!obj || !(h = resultDomainNew(tj->conn, &def))) {
        if (!obj)
            virReportError(VIR_ERR_NO_DOMAIN, "%s", "the domain was undefined meanwhile");
        return -1;
    }
    pthread_mutex_lock(&d->lock);
    if (!(obj = domFindUUID(d, tj->uuid))) {
        pthread_mutex_unlock(&d->lock);
        virDriverJobResultDomainDrop(h);
        virReportError(VIR_ERR_NO_DOMAIN, "%s", "the domain was undefined meanwhile");
        return -1;
    }
    domSetRunning(d, obj, REASON_RUNNING_BOOTED, VIR_DOMAIN_EVENT_STARTED_BOOTED);
    pthread_mutex_unlock(&d->lock);
    return virDriverJobResultDomainGive(job, h);
}

/* Save and dump: link the file into place, then shut the domain off when
 * @shutoffReason is not 0. */
static int commitOutput(virJobPtr job, testJob *tj, const char *what,
                        int shutoffReason)
{
    testDriver *d = driverOf(tj->conn);
    testDomObj *obj;
    testDomainDef def;
    virDomainPtr h = NULL;
    struct stat st;

    if (fstat(tj->fd, &st) < 0) {
        virReportSystemError(errno, "cannot stat the %s '%s'", what, tj->path);
        return -1;
    }
    if (tj->expectSize && (uint64_t)st.st_size != tj->expectSize) {
        virReportError(VIR_ERR_OPERATION_FAILED,
                       "the worker wrote %lld bytes of the %s '%s', expected %" PRIu64,
                       (long long)st.st_size, what, tj->path, tj->expectSize);
        return -1;
    }
    if (tj->kind == TJ_DOM_DUMP) {
        unsigned char magic[4] = { 0 };
        if (pread(tj->fd, magic, 4, 0) != 4 || memcmp(magic, "\177ELF", 4)) {
            virReportError(VIR_ERR_OPERATION_FAILED,
                           "the worker's core dump '%s' is not an ELF file", tj->path);
            return -1;
        }
    }
    pthread_mutex_lock(&d->lock);
    if ((obj = domFindUUID(d, tj->uuid)))
        def = obj->def;
    pthread_mutex_unlock(&d->lock);
    if (obj && !(h = resultDomainNew(tj->conn, &def)))
        return -1;
    if (outputCommit(tj, what) < 0) {
        if (h)
            virDriverJobResultDomainDrop(h);
        return -1;
    }
    pthread_mutex_lock(&d->lock);
    if ((obj = domFindUUID(d, tj->uuid)) && shutoffReason) {
        /* The slot is still held: a transient one goes when done
         * releases it. */
        domSetShutoff(d, obj, shutoffReason, shutoffReason == REASON_SHUTOFF_SAVED
                      ? VIR_DOMAIN_EVENT_STOPPED_SAVED : VIR_DOMAIN_EVENT_STOPPED_CRASHED);
    }
    pthread_mutex_unlock(&d->lock);
    if (!obj || !h) {
        if (h)
            virDomainFree(h);
        return 0;
    }
    return virDriverJobResultDomainGive(job, h);
}

static int commitDomainSave(virJobPtr job, void *opaque,
                            const void *result ATTRIBUTE_UNUSED,
                            size_t len ATTRIBUTE_UNUSED)
{
    return commitOutput(job, opaque, "save image", REASON_SHUTOFF_SAVED);
}

static int commitDomainDump(virJobPtr job, void *opaque,
                            const void *result ATTRIBUTE_UNUSED,
                            size_t len ATTRIBUTE_UNUSED)
{
    testJob *tj = opaque;
    return commitOutput(job, tj, "core dump",
                        (tj->flags & VIR_DUMP_CRASH) ? REASON_SHUTOFF_CRASHED : 0);
}

/* ---- networks ------------------------------------------------------------- */

static int testConnectListAllNetworks(virConnectPtr conn, virNetworkPtr **nets,
                                      unsigned int flags)
{
    testDriver *d = driverOf(conn);
    virNetworkPtr *list = NULL;
    int n = 0;

    virCheckFlags(VIR_CONNECT_LIST_NETWORKS_INACTIVE | VIR_CONNECT_LIST_NETWORKS_ACTIVE |
                  VIR_CONNECT_LIST_NETWORKS_PERSISTENT |
                  VIR_CONNECT_LIST_NETWORKS_TRANSIENT, -1);
    pthread_mutex_lock(&d->lock);
    if (!(list = virAllocN(d->nnets + 1, sizeof(*list))))
        goto error;
    for (size_t i = 0; i < d->nnets; i++) {
        testNetObj *obj = d->nets[i];
        if ((flags & (VIR_CONNECT_LIST_NETWORKS_ACTIVE | VIR_CONNECT_LIST_NETWORKS_INACTIVE)) &&
            !((flags & VIR_CONNECT_LIST_NETWORKS_ACTIVE && obj->active) ||
              (flags & VIR_CONNECT_LIST_NETWORKS_INACTIVE && !obj->active)))
            continue;
        if ((flags & (VIR_CONNECT_LIST_NETWORKS_PERSISTENT |
                      VIR_CONNECT_LIST_NETWORKS_TRANSIENT)) &&
            !((flags & VIR_CONNECT_LIST_NETWORKS_PERSISTENT && obj->persistent) ||
              (flags & VIR_CONNECT_LIST_NETWORKS_TRANSIENT && !obj->persistent)))
            continue;
        if (!(list[n] = virGetNetwork(conn, obj->def.name, obj->def.uuid)))
            goto error;
        n++;
    }
    pthread_mutex_unlock(&d->lock);
    *nets = list;
    return n;

 error:
    pthread_mutex_unlock(&d->lock);
    for (int i = 0; list && i < n; i++)
        virNetworkFree(list[i]);
    free(list);
    virReportOOMError();
    return -1;
}

static virNetworkPtr testNetworkLookupByName(virConnectPtr conn, const char *name)
{
    testDriver *d = driverOf(conn);
    testNetObj *obj;
    virNetworkPtr net = NULL;

    pthread_mutex_lock(&d->lock);
    if ((obj = netFindName(d, name)) &&
        !(net = virGetNetwork(conn, obj->def.name, obj->def.uuid)))
        virReportOOMError();
    pthread_mutex_unlock(&d->lock);
    if (!obj)
        virReportError(VIR_ERR_NO_NETWORK, "no network named '%.64s'", name);
    return net;
}

static int testNetworkIsActive(virNetworkPtr net)
{
    testDriver *d;
    testNetObj *obj = netLock(net, &d);
    int ret;

    if (!obj)
        return -1;
    ret = obj->active ? 1 : 0;
    pthread_mutex_unlock(&d->lock);
    return ret;
}

static char *testNetworkGetXMLDesc(virNetworkPtr net, unsigned int flags)
{
    testDriver *d;
    testNetObj *obj;
    testNetworkDef def;

    virCheckFlags(0, NULL);
    if (!(obj = netLock(net, &d)))
        return NULL;
    def = obj->def;
    pthread_mutex_unlock(&d->lock);
    return testNetworkDefFormat(&def);
}

static int testNetworkDestroy(virNetworkPtr net)
{
    testDriver *d;
    testNetObj *obj;
    int ret = -1;

    if (!(obj = netLock(net, &d)))
        return -1;
    if (obj->slot.token) {
        slotBusyError(&obj->slot, "network", obj->def.name);
    } else if (!obj->active) {
        virReportError(VIR_ERR_OPERATION_INVALID, "network '%s' is not active",
                       obj->def.name);
    } else {
        obj->active = false;
        netEvent(d, obj, VIR_NETWORK_EVENT_STOPPED);
        if (!obj->persistent)
            netRemove(d, obj);
        ret = 0;
    }
    pthread_mutex_unlock(&d->lock);
    return ret;
}

static int testNetworkUndefine(virNetworkPtr net)
{
    testDriver *d;
    testNetObj *obj;
    int ret = -1;

    if (!(obj = netLock(net, &d)))
        return -1;
    if (obj->slot.token) {
        slotBusyError(&obj->slot, "network", obj->def.name);
    } else if (!obj->persistent) {
        virReportError(VIR_ERR_OPERATION_INVALID,
                       "cannot undefine transient network '%s'", obj->def.name);
    } else {
        netEvent(d, obj, VIR_NETWORK_EVENT_UNDEFINED);
        if (obj->active)
            obj->persistent = false;
        else
            netRemove(d, obj);
        ret = 0;
    }
    pthread_mutex_unlock(&d->lock);
    return ret;
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
    int rc = -1;

    if (!(tj = testJobNew(net->conn, TJ_NET_START)))
        return NULL;
    paramsInit(&p, net->conn, 0);
    if (!(obj = netLock(net, &d))) {
        testJobFree(tj);
        return NULL;
    }
    if (obj->slot.token) {
        slotBusyError(&obj->slot, "network", obj->def.name);
    } else if (obj->active) {
        virReportError(VIR_ERR_OPERATION_INVALID, "network '%s' is already active",
                       obj->def.name);
    } else if ((rc = slotTake(d, &obj->slot, "network", obj->def.name,
                              &tj->token)) == 0) {
        memcpy(tj->uuid, obj->def.uuid, 16);
        tj->holdsSlot = tj->knowUUID = true;
        p.net = obj->def;
    }
    pthread_mutex_unlock(&d->lock);
    if (rc < 0) {
        testJobFree(tj);
        return NULL;
    }
    return jobStart(tj, &p, NULL, p.net.name);
}

static int netCommitDef(virJobPtr job, testJob *tj, const void *result, size_t len,
                        bool start, bool persistent)
{
    testDriver *d = driverOf(tj->conn);
    testNetworkDef def;
    testNetObj *obj, *byName;
    virNetworkPtr h;
    int rc = -1;

    if (netResultCheck(result, len, &def) < 0)
        return -1;
    if (!(h = resultNetworkNew(tj->conn, &def)))
        return -1;
    pthread_mutex_lock(&d->lock);
    obj = netFindUUID(d, def.uuid);
    byName = netFindName(d, def.name);
    if ((byName && byName != obj) || (obj && STRNEQ(obj->def.name, def.name))) {
        virReportError(VIR_ERR_NETWORK_EXIST,
                       "network '%s' (or its UUID) already exists", def.name);
    } else if (obj && obj->slot.token) {
        slotBusyError(&obj->slot, "network", obj->def.name);
    } else if (obj && obj->active) {
        virReportError(start ? VIR_ERR_NETWORK_EXIST : VIR_ERR_OPERATION_INVALID,
                       start ? "network '%s' is already active"
                             : "network '%s' is active: destroy it before "
                               "redefining it", obj->def.name);
    } else if (!obj && !(obj = netAdd(d, &def))) {
        /* OOM reported */
    } else {
        obj->def = def;
        if (persistent)
            netEvent(d, obj, VIR_NETWORK_EVENT_DEFINED);
        obj->persistent = obj->persistent || persistent;
        if (start) {
            obj->active = true;
            netEvent(d, obj, VIR_NETWORK_EVENT_STARTED);
        }
        rc = 0;
    }
    pthread_mutex_unlock(&d->lock);
    if (rc < 0) {
        virDriverJobResultNetworkDrop(h);
        return -1;
    }
    return virDriverJobResultNetworkGive(job, h);
}

static int commitNetworkDefine(virJobPtr job, void *opaque, const void *result,
                               size_t len)
{
    return netCommitDef(job, opaque, result, len, false, true);
}

static int commitNetworkCreate(virJobPtr job, void *opaque, const void *result,
                               size_t len)
{
    return netCommitDef(job, opaque, result, len, true, false);
}

static int commitNetworkStart(virJobPtr job, void *opaque,
                              const void *result ATTRIBUTE_UNUSED,
                              size_t len ATTRIBUTE_UNUSED)
{
    testJob *tj = opaque;
    testDriver *d = driverOf(tj->conn);
    testNetObj *obj;
    testNetworkDef def;
    virNetworkPtr h;

    pthread_mutex_lock(&d->lock);
    if ((obj = netFindUUID(d, tj->uuid)))
        def = obj->def;
    pthread_mutex_unlock(&d->lock);
    if (!obj || !(h = resultNetworkNew(tj->conn, &def))) {
        if (!obj)
            virReportError(VIR_ERR_NO_NETWORK, "%s", "the network was undefined meanwhile");
        return -1;
    }
    pthread_mutex_lock(&d->lock);
    if (!(obj = netFindUUID(d, tj->uuid))) {
        pthread_mutex_unlock(&d->lock);
        virDriverJobResultNetworkDrop(h);
        virReportError(VIR_ERR_NO_NETWORK, "%s", "the network was undefined meanwhile");
        return -1;
    }
    obj->active = true;
    netEvent(d, obj, VIR_NETWORK_EVENT_STARTED);
    pthread_mutex_unlock(&d->lock);
    return virDriverJobResultNetworkGive(job, h);
}

/* ---- synchronous define (a worker parses the XML) ------------------------- */

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

/* libvirt's test driver says 2 (0.0.2), and so do we. */
static int testConnectGetVersion(virConnectPtr conn ATTRIBUTE_UNUSED,
                                 unsigned long *hvVer)
{
    *hvVer = 2;
    return 0;
}

const virConnectDriver testConnectDriver = {
    .name = "test",
    .typeName = "TEST",
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
    .uriParams = testURIParams,
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
