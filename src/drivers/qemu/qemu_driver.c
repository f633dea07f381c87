/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qemu_driver.c: the qemu driver's library side (qemu:///system,
 * qemu:///session): real QEMU guests, each owned by a virtsup-shim that
 * outlives the application (docs/QEMU-DRIVER.md).
 *
 * Per connection: the domains (persistent definitions from disk, running
 * guests found in the run directory), under one driver mutex taken only
 * briefly, never across a round trip to a shim; and a watcher thread that
 * follows every running guest's shim (a subscription to its events and a
 * pidfd of the shim) and keeps each domain's state true: QEMU's run state
 * while it runs, its end and the reason as soon as it comes.
 *
 * Long work runs as jobs: XML is parsed by a worker (qemu.domain.parse);
 * a start (qemu.domain.start) is prepared here with the caller's authority
 * (run directory, files, command line, the shim) and followed by a worker
 * through the shim, phase by phase; its commit checks the outcome in the
 * shim's own record, never the worker's word. Monitor round trips are made
 * by the caller's thread (suspend, resume, shutdown, reboot) or by the
 * start worker, never by the reaper thread, always with a timeout. The
 * one monitor command the watcher issues is a reboot's restart
 * (rebootRestart): sent on its subscription without waiting, the replies
 * and the run state coming back as events.
 */
#include <fcntl.h>
#include <linux/capability.h>
#include <net/if.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <dirent.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/socket.h>

#include "driver.h"
#include "driverjob.h"
#include "event.h"
#include "objlist.h"
#include "drivers/qemu/qemu_command.h"
#include "drivers/qemu/qemu_conf.h"
#include "drivers/qemu/qemu_driver.h"
#include "supervisor/supervisor.h"
#include "util/viralloc.h"
#include "util/virjsonflat.h"
#include "util/virnetdevtap.h"
#include "util/virnetlink.h"
#include "util/virpoll.h"
#include "util/virprocess.h"
#include "util/virshim.h"

#define VIR_FROM_THIS VIR_FROM_QEMU
#include "util/virerror.h"


typedef struct qemuDomObj {
    virObjListItem item;      /* name, UUID, ID (-1 when not running): first */
    qemuDomainDef *def;       /* the definition (persistent or transient) */
    qemuDomainDef *nextDef;   /* redefined while running: used from the next start */
    bool persistent;
    int state, reason;
    /* While a shim owns a QEMU for it: */
    bool active;
    bool started;             /* the start was committed */
    bool destroying;          /* we asked it to stop */
    bool saved;               /* stopped because a save completed */
    bool restored;            /* this run was started by a restore */
    virShimStatus shim;       /* the last status seen */
    char runDir[PATH_MAX];
    int subFd;                /* the watcher's subscription, -1 */
    unsigned int resubscribed;  /* times the subscription was made again */
    int pidfd;                /* the shim's pidfd, -1 (or none where pidfds are missing) */
    uint64_t watchId;         /* epoll key; 0: not watched */
    virDriverJobSlot slot;
    virDriverJobStats lastJob;  /* GetJobStats(COMPLETED); type NONE: none */
    bool crashDumped;         /* stopped after a VIR_DUMP_CRASH dump: shut off, crashed */
    /* A reboot (virDomainReboot): QEMU paused at the guest's shutdown
     * (run state "shutdown"), the watcher sent system_reset, set-action
     * and cont (the ids of their replies); the guest runs again. */
    bool rebooting;
    bool rebootFailed;        /* one of them failed: the guest is stopped, shut off (shutdown) */
    uint64_t rebootIds[3];
} qemuDomObj;

typedef struct qemuDriver {
    /* Taken before lock by whatever ties a name and a UUID to a domain
     * (define, undefine, a new transient domain): a define writes its
     * files (flushed) holding this one, not lock, so the other domains'
     * calls and the watcher do not wait for the disk. */
    pthread_mutex_t defineLock;
    pthread_mutex_t lock;     /* everything below */
    pthread_cond_t changed;   /* a domain's state changed */
    virObjList doms;          /* the domains (guarded by lock) */
    uint64_t lastWatch;
    struct qemuCleanup **cleanups;  /* ended guests whose shim is still exiting */
    size_t ncleanups;
    virDriverJobGuard guard;  /* the connection's job group */
    bool guardOpen;
    qemuConfig cfg;
    /* the watcher */
    pthread_t watcher;
    bool watcherRunning;
    int epfd, wakefd;
    bool stop;
    /* The watcher's receive buffer: held here, not only on its stack, so a
     * fork of the client (a detached start's middle process) sees it. */
    virShimIncoming *watchIn;
    virEventState *events;    /* the connection's domain events */
    /* Guests other connections start (here or in other processes): the
     * run directory and each guest's directory in it, watched with
     * inotify (runDirEvents). Guarded by lock. */
    int inofd;
    int runWd;                /* the run directory's watch */
    struct qemuDirWatch { int wd; char name[QEMU_NAME_MAX]; } *dirWatches;
    size_t ndirWatches;
    unsigned int recovering;  /* recoverMain threads running (lock; changed) */
} qemuDriver;

#define WATCH_KEY_RUNDIR UINT64_MAX   /* epoll key of inofd (watch keys are smaller) */

/* A guest that ended while its shim was still exiting: its run directory
 * goes when the shim is gone (watched like a guest, by the same key). */
typedef struct qemuCleanup {
    uint64_t watchId;
    char runDir[PATH_MAX];
    virShimStatus shim;
    int subFd, pidfd;
} qemuCleanup;

static qemuDriver *driverOf(virConnectPtr conn)
{
    return conn->privateData;
}

/* ---- objects (driver lock held) -------------------------------------------- */

static qemuDomObj *domFindUUID(qemuDriver *d, const uint8_t *uuid)
{
    return (qemuDomObj *)virObjListFindByUUID(&d->doms, uuid);
}

static qemuDomObj *domFindName(qemuDriver *d, const char *name)
{
    return (qemuDomObj *)virObjListFindByName(&d->doms, name);
}

static qemuDomObj *domFindWatch(qemuDriver *d, uint64_t id)
{
    for (size_t i = 0; i < d->doms.n; i++)
        if (((qemuDomObj *)d->doms.items[i])->watchId == id)
            return (qemuDomObj *)d->doms.items[i];
    return NULL;
}

static void domDispose(virObjListItem *item)
{
    qemuDomObj *obj = (qemuDomObj *)item;

    virForceClose(&obj->subFd);
    virForceClose(&obj->pidfd);
    free(obj->def);
    free(obj->nextDef);
    free(obj);
}

static bool itemActive(const virObjListItem *item)
{
    return ((const qemuDomObj *)item)->active;
}

static bool itemPersistent(const virObjListItem *item)
{
    return ((const qemuDomObj *)item)->persistent;
}

static void itemState(const virObjListItem *item, int *state, int *reason)
{
    *state = ((const qemuDomObj *)item)->state;
    *reason = ((const qemuDomObj *)item)->reason;
}

static virDriverJobSlot *itemSlot(virObjListItem *item)
{
    return &((qemuDomObj *)item)->slot;
}

static const virObjListOps domainOps = {
    .dispose = domDispose, .isActive = itemActive, .isPersistent = itemPersistent,
    .getState = itemState, .jobSlot = itemSlot,
};

/* Takes @def, unless it fails: NULL reported (a name or UUID already
 * listed, or no memory). */
static qemuDomObj *domAdd(qemuDriver *d, qemuDomainDef *def)
{
    qemuDomObj *obj;

    if (!VIR_ALLOC(obj))
        return NULL;
    obj->state = VIR_DOMAIN_SHUTOFF;
    obj->subFd = obj->pidfd = -1;
    if (virObjListAdd(&d->doms, &obj->item, def->name, def->uuid) < 0) {
        domDispose(&obj->item);
        return NULL;
    }
    obj->def = def;
    return obj;
}

static void domRemove(qemuDriver *d, qemuDomObj *obj)
{
    virObjListRemove(&d->doms, &obj->item);
}

/* Lock the driver and find the domain of @dom; NULL reported (the lock
 * released) when it is gone. */
static qemuDomObj *domLock(virDomainPtr dom, qemuDriver **dp)
{
    *dp = driverOf(dom->conn);
    return (qemuDomObj *)virObjListLockObject(&(*dp)->doms, dom->uuid, dom->name);
}

/* The lock of guest @name's run directory: held while a start prepares it
 * and while anyone removes one, by every process, so a directory being
 * made for a start is never taken for one left behind. @wait: block
 * (bounded by the holder: a start's preparation) or try once. Returns the
 * descriptor holding it, or -1 (not reported when busy and !@wait). */
static int runLock(const qemuConfig *cfg, const char *name, bool wait)
{
    char path[PATH_MAX];
    int fd;

    snprintf(path, sizeof(path), "%s/.lock-%s", cfg->runDir, name);
    if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0) {
        virReportSystemError(errno, "cannot open %s", path);
        return -1;
    }
    while (flock(fd, wait ? LOCK_EX : LOCK_EX | LOCK_NB) < 0) {
        if (errno == EINTR)
            continue;
        if (errno != EWOULDBLOCK)
            virReportSystemError(errno, "cannot lock %s", path);
        close(fd);
        return -1;
    }
    return fd;
}

/* Remove a run directory whose shim @st has gone (checked by identity),
 * if it is still that shim's: never one a new start has made meanwhile. */
static void removeRunDir(const qemuConfig *cfg, const char *dir, const char *name,
                         const virShimStatus *st)
{
    virShimStatus now;
    int lock;

    bool quiet = virErrorSetQuiet(true);

    if (virShimOwnerAlive(st) || (lock = runLock(cfg, name, false)) < 0) {
        virResetLastError();
        virErrorSetQuiet(quiet);
        return;
    }
    if (virShimStateRead(dir, &now) == 0 && now.shim_pid == st->shim_pid &&
        now.shim_start == st->shim_start)
        (void)qemuRemoveDir(dir);
    virResetLastError();
    virErrorSetQuiet(quiet);
    close(lock);
}

/* ---- states ------------------------------------------------------------------ */

static void domEvent(qemuDriver *d, const qemuDomObj *obj, int event, int detail)
{
    virEventStateQueueLifecycle(d->events, VIR_EVENT_OBJ_DOMAIN, obj->def->name,
                                obj->def->uuid, event, detail);
}

/* The lifecycle event of a change of state (libvirt's). */
static void stateEvent(qemuDriver *d, const qemuDomObj *obj, int oldState, int state,
                       int reason)
{
    switch (state) {
    case VIR_DOMAIN_RUNNING:
        if (reason == VIR_DOMAIN_RUNNING_RESTORED && oldState != VIR_DOMAIN_RUNNING)
            domEvent(d, obj, VIR_DOMAIN_EVENT_STARTED, VIR_DOMAIN_EVENT_STARTED_RESTORED);
        else if (reason == VIR_DOMAIN_RUNNING_BOOTED && oldState != VIR_DOMAIN_RUNNING &&
                 oldState != VIR_DOMAIN_SHUTDOWN &&
                 (oldState != VIR_DOMAIN_PAUSED || obj->reason != VIR_DOMAIN_PAUSED_USER))
            domEvent(d, obj, VIR_DOMAIN_EVENT_STARTED, VIR_DOMAIN_EVENT_STARTED_BOOTED);
        else
            domEvent(d, obj, VIR_DOMAIN_EVENT_RESUMED, VIR_DOMAIN_EVENT_RESUMED_UNPAUSED);
        break;
    case VIR_DOMAIN_PAUSED:
        if (reason == VIR_DOMAIN_PAUSED_STARTING_UP)
            break;
        domEvent(d, obj, VIR_DOMAIN_EVENT_SUSPENDED,
                 reason == VIR_DOMAIN_PAUSED_IOERROR ? VIR_DOMAIN_EVENT_SUSPENDED_IOERROR :
                 reason == VIR_DOMAIN_PAUSED_WATCHDOG ? VIR_DOMAIN_EVENT_SUSPENDED_WATCHDOG :
                 VIR_DOMAIN_EVENT_SUSPENDED_PAUSED);
        break;
    case VIR_DOMAIN_CRASHED:
        domEvent(d, obj, VIR_DOMAIN_EVENT_CRASHED,
                 reason == VIR_DOMAIN_CRASHED_PANICKED ? VIR_DOMAIN_EVENT_CRASHED_PANICKED : 0);
        break;
    case VIR_DOMAIN_SHUTOFF:
        if (oldState == VIR_DOMAIN_SHUTOFF)
            break;
        if (reason == VIR_DOMAIN_SHUTOFF_SHUTDOWN)
            domEvent(d, obj, VIR_DOMAIN_EVENT_SHUTDOWN, VIR_DOMAIN_EVENT_SHUTDOWN_FINISHED);
        domEvent(d, obj, VIR_DOMAIN_EVENT_STOPPED,
                 reason == VIR_DOMAIN_SHUTOFF_SHUTDOWN ? VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN :
                 reason == VIR_DOMAIN_SHUTOFF_DESTROYED ? VIR_DOMAIN_EVENT_STOPPED_DESTROYED :
                 reason == VIR_DOMAIN_SHUTOFF_CRASHED ? VIR_DOMAIN_EVENT_STOPPED_CRASHED :
                 reason == VIR_DOMAIN_SHUTOFF_SAVED ? VIR_DOMAIN_EVENT_STOPPED_SAVED :
                 VIR_DOMAIN_EVENT_STOPPED_FAILED);
        break;
    default:
        break;
    }
}

static void setState(qemuDriver *d, qemuDomObj *obj, int state, int reason)
{
    int old = obj->state;

    if (obj->state == state && obj->reason == reason)
        return;
    stateEvent(d, obj, old, state, reason);
    obj->state = state;
    obj->reason = reason;
    pthread_cond_broadcast(&d->changed);
}

/* What QEMU's run state means for a running domain. */
static void stateFromRunstate(qemuDomObj *obj, const char *rs, int *state, int *reason)
{
    *state = obj->state;
    *reason = obj->reason;
    if (!*rs)
        return;
    if (STREQ(rs, "running")) {
        *state = VIR_DOMAIN_RUNNING;
        if (obj->state != VIR_DOMAIN_RUNNING)
            *reason = obj->state == VIR_DOMAIN_PAUSED && obj->reason != VIR_DOMAIN_PAUSED_STARTING_UP ?
                      VIR_DOMAIN_RUNNING_UNPAUSED : VIR_DOMAIN_RUNNING_BOOTED;
    } else if (STREQ(rs, "paused") || STREQ(rs, "debug")) {
        *state = VIR_DOMAIN_PAUSED;
        *reason = STREQ(rs, "paused") ? VIR_DOMAIN_PAUSED_USER : VIR_DOMAIN_PAUSED_UNKNOWN;
    } else if (STREQ(rs, "prelaunch")) {
        *state = VIR_DOMAIN_PAUSED;
        *reason = VIR_DOMAIN_PAUSED_STARTING_UP;
    } else if (STREQ(rs, "internal-error")) {
        *state = VIR_DOMAIN_CRASHED;
        *reason = VIR_DOMAIN_CRASHED_UNKNOWN;
    } else if (STREQ(rs, "guest-panicked")) {
        *state = VIR_DOMAIN_CRASHED;
        *reason = VIR_DOMAIN_CRASHED_PANICKED;
    } else if (STREQ(rs, "shutdown")) {
        *state = VIR_DOMAIN_SHUTDOWN;
        *reason = VIR_DOMAIN_SHUTDOWN_UNKNOWN;
    } else if (STREQ(rs, "io-error")) {
        *state = VIR_DOMAIN_PAUSED;
        *reason = VIR_DOMAIN_PAUSED_IOERROR;
    } else if (STREQ(rs, "watchdog")) {
        *state = VIR_DOMAIN_PAUSED;
        *reason = VIR_DOMAIN_PAUSED_WATCHDOG;
    } else if (STREQ(rs, "inmigrate") || STREQ(rs, "postmigrate") ||
               STREQ(rs, "finish-migrate")) {
        *state = VIR_DOMAIN_PAUSED;
        *reason = VIR_DOMAIN_PAUSED_MIGRATION;
    } else if (STREQ(rs, "save-vm") || STREQ(rs, "restore-vm")) {
        /* QEMU says save-vm while it writes a dump too. */
        *state = VIR_DOMAIN_PAUSED;
        *reason = obj->slot.opname && STREQ(obj->slot.opname, QEMU_OP_DOMAIN_DUMP)
                  ? VIR_DOMAIN_PAUSED_DUMP : VIR_DOMAIN_PAUSED_SAVE;
    } else if (STREQ(rs, "suspended")) {
        *state = VIR_DOMAIN_PMSUSPENDED;
        *reason = 0;
    }
}

/* Why a guest is shut off, from the shim's record of its end. @lost: the
 * shim died without one. */
static int shutoffReason(const qemuDomObj *obj, const virShimStatus *st, bool lost)
{
    if (lost || obj->crashDumped)
        return VIR_DOMAIN_SHUTOFF_CRASHED;
    if (obj->rebootFailed)
        return VIR_DOMAIN_SHUTOFF_SHUTDOWN;
    if (obj->saved)
        return VIR_DOMAIN_SHUTOFF_SAVED;
    switch (st->exit_reason) {
    case VIR_SHIM_EXIT_SETUP:
        return VIR_DOMAIN_SHUTOFF_FAILED;
    case VIR_SHIM_EXIT_STOPPED:
        return obj->started || obj->destroying ? VIR_DOMAIN_SHUTOFF_DESTROYED : VIR_DOMAIN_SHUTOFF_FAILED;
    case VIR_SHIM_EXIT_KILLED:
    case VIR_SHIM_EXIT_CRASHED:
        return VIR_DOMAIN_SHUTOFF_CRASHED;
    case VIR_SHIM_EXIT_MONITOR:
        return obj->started ? VIR_DOMAIN_SHUTOFF_CRASHED : VIR_DOMAIN_SHUTOFF_FAILED;
    default:
        break;
    }
    const char *r = st->shutdown_reason;
    bool clean = st->exit_code == CLD_EXITED && st->exit_status == 0;
    /* A guest shutdown that ended QEMU: it exits 0. (The reason stays
     * recorded after a reboot's shutdown, which QEMU outlived: a failed
     * exit later is no shutdown.) */
    if ((STREQ(r, "guest-shutdown") || STREQ(r, "guest-reset")) && clean)
        return VIR_DOMAIN_SHUTOFF_SHUTDOWN;
    if (STREQ(r, "host-qmp-quit") || STREQ(r, "host-signal") || STREQ(r, "host-ui"))
        return VIR_DOMAIN_SHUTOFF_DESTROYED;
    if (STREQ(r, "guest-panic"))
        return VIR_DOMAIN_SHUTOFF_CRASHED;
    if (!obj->started)
        return VIR_DOMAIN_SHUTOFF_FAILED;
    return clean ? VIR_DOMAIN_SHUTOFF_SHUTDOWN : VIR_DOMAIN_SHUTOFF_CRASHED;
}

/* ---- watching ---------------------------------------------------------------- */

static void unwatch(qemuDriver *d, qemuDomObj *obj)
{
    if (obj->subFd >= 0) {
        (void)epoll_ctl(d->epfd, EPOLL_CTL_DEL, obj->subFd, NULL);
        virForceClose(&obj->subFd);
    }
    if (obj->pidfd >= 0) {
        (void)epoll_ctl(d->epfd, EPOLL_CTL_DEL, obj->pidfd, NULL);
        virForceClose(&obj->pidfd);
    }
    obj->watchId = 0;
}

/* Follow @obj's shim: @sub is a subscribed connection (taken), the pidfd
 * is opened here. 0, or -1 reported (and @sub closed). */
static int watch(qemuDriver *d, qemuDomObj *obj, int sub)
{
    struct epoll_event ev = { .events = EPOLLIN };

    obj->watchId = ++d->lastWatch;
    obj->subFd = sub;
    obj->pidfd = virProcessOpenPidfd(obj->shim.shim_pid, obj->shim.shim_start);
    ev.data.u64 = obj->watchId << 1;
    if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, sub, &ev) < 0) {
        virReportSystemError(errno, "%s", "cannot watch a guest's shim");
        unwatch(d, obj);
        return -1;
    }
    if (obj->pidfd >= 0) {
        ev.data.u64 = obj->watchId << 1 | 1;
        if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, obj->pidfd, &ev) < 0) {
            virReportSystemError(errno, "%s", "cannot watch a guest's shim");
            unwatch(d, obj);
            return -1;
        }
    }
    return 0;
}

static bool statusFollow(qemuDomObj *o);
static bool logSaysSaved(qemuDriver *d, const qemuDomObj *o);

/* The reason DOMAINS/NAME.ended gives for the end of guest @o's run (its
 * domain ID), written by a connection that recorded it, or -1. Lock held. */
static int endedOfRun(qemuDriver *d, const qemuDomObj *o)
{
    int id, reason;

    if (!o->persistent || o->item.id < 0 ||
        (reason = qemuEndedRead(&d->cfg, o->def->name, &id)) < 0 || id != o->item.id)
        return -1;
    return reason;
}

/* The guest has ended (or its shim is gone): record why, clean up. Driver
 * lock held. @st: the shim's last record. */
static void domEnded(qemuDriver *d, qemuDomObj *obj, const virShimStatus *st, bool lost)
{
    /* Stopped on request: by another connection's save, perhaps. Its
     * status says so. If that connection has removed the run directory
     * already (and with it, perhaps, the shim's record: @lost), what it
     * recorded of the end says it (a persistent guest's: written at the
     * save's commit), or the guest's log does (savedLine). */
    bool stopped = !lost && st->exit_reason == VIR_SHIM_EXIT_STOPPED;
    int recorded = -1;
    if (lost || (stopped && !statusFollow(obj))) {
        recorded = endedOfRun(d, obj);
        if (recorded == VIR_DOMAIN_SHUTOFF_SAVED ||
            (stopped && recorded < 0 && logSaysSaved(d, obj)))
            obj->saved = true;
    }
    int reason = lost && recorded > 0 ? recorded : shutoffReason(obj, st, lost);
    /* For connections opened later (qemuEndedWrite), before the run
     * directory goes: one that lags finds the record once it finds the
     * directory gone. */
    if (obj->persistent)
        qemuEndedWrite(&d->cfg, obj->def->name, reason, obj->item.id);
    qemuCleanup *c = NULL, **l;

    /* The shim records the end before it exits: usually it is still there
     * for a moment, and its directory goes once it is gone. */
    if (obj->watchId && virShimOwnerAlive(&obj->shim) && VIR_ALLOC(c) &&
        (l = virReallocN(d->cleanups, d->ncleanups + 1, sizeof(*l)))) {
        d->cleanups = l;
        c->watchId = obj->watchId;
        c->subFd = obj->subFd;
        c->pidfd = obj->pidfd;
        c->shim = obj->shim;
        virStrcpyTrunc(c->runDir, sizeof(c->runDir), obj->runDir);
        d->cleanups[d->ncleanups++] = c;
        obj->subFd = obj->pidfd = -1;
        obj->watchId = 0;
        c = NULL;
    } else {
        free(c);   /* allocated, but the list could not grow */
        unwatch(d, obj);
        if (virShimChildAlive(&obj->shim))
            (void)virProcessKillIdentity(obj->shim.child_pid, obj->shim.child_start, SIGKILL);
        if (obj->runDir[0])
            removeRunDir(&d->cfg, obj->runDir, obj->def->name, &obj->shim);
    }
    virResetLastError();
    obj->active = obj->started = obj->destroying = obj->crashDumped = false;
    obj->rebooting = obj->rebootFailed = false;
    obj->item.id = -1;
    obj->saved = obj->restored = false;
    if (obj->nextDef) {
        free(obj->def);
        obj->def = obj->nextDef;
        obj->nextDef = NULL;
    }
    setState(d, obj, VIR_DOMAIN_SHUTOFF, reason);
    if (!obj->persistent && !virDriverJobSlotBusy(&obj->slot))
        domRemove(d, obj);
}

/* A reboot whose guest has shut down failed: stop QEMU (SIGTERM to its
 * shim, by identity: no round trip); it ends shut off, reason shutdown,
 * as the guest asked. */
static void rebootAbandon(qemuDomObj *obj)
{
    obj->rebootFailed = true;
    obj->rebooting = false;
    (void)virProcessKillIdentity(obj->shim.shim_pid, obj->shim.shim_start, SIGTERM);
    virResetLastError();
}

/* The guest shut down while a reboot was pending: QEMU paused instead of
 * ending (virDomainReboot set its shutdown action to "pause"). Start it
 * again from its reset: system_reset, the shutdown action back to
 * "poweroff" (the reboot is no longer pending), cont. Sent on the
 * watcher's own connection to the shim, which runs them in order; not
 * waited for (no round trip here): their replies come to watcherEvent,
 * and the run state "running" says the guest runs again. Driver lock
 * held. */
static void rebootRestart(qemuDriver *d, qemuDomObj *obj)
{
    static const char *const cmds[3][2] = {
        { "system_reset", NULL },
        { "set-action", "{\"shutdown\": \"poweroff\"}" },
        { "cont", NULL },
    };
    int timeout = (int)d->cfg.monitorTimeoutMs;

    obj->rebooting = true;
    memset(obj->rebootIds, 0, sizeof(obj->rebootIds));
    for (size_t i = 0; i < 3; i++) {
        if (obj->subFd < 0 ||
            virShimQMPSend(obj->subFd, cmds[i][0], cmds[i][1], timeout, &obj->rebootIds[i]) < 0) {
            rebootAbandon(obj);
            return;
        }
    }
}

/* A status of @obj's guest, applied whatever the driver held (driver lock
 * held): its first status after the driver found the guest again. */
static void domStatusApply(qemuDriver *d, qemuDomObj *obj, const virShimStatus *st)
{
    int state, reason;

    obj->shim = *st;
    if (st->child_state == VIR_SHIM_CHILD_EXITED) {
        domEnded(d, obj, st, false);
        return;
    }
    if (!obj->started)
        return;   /* the start job says when it runs */
    /* QEMU alive in "shutdown" is a guest that shut down while a reboot
     * was pending: nothing else keeps QEMU past a shutdown. */
    if (STREQ(st->runstate, "shutdown") && !obj->rebooting && !obj->rebootFailed &&
        !obj->destroying)
        rebootRestart(d, obj);
    stateFromRunstate(obj, st->runstate, &state, &reason);
    if (obj->rebooting) {
        if (STREQ(st->runstate, "running")) {
            obj->rebooting = false;
            reason = VIR_DOMAIN_RUNNING_BOOTED;
        } else if (STREQ(st->runstate, "prelaunch") || STREQ(st->runstate, "shutdown")) {
            /* Reset, not yet running again. */
            state = VIR_DOMAIN_SHUTDOWN;
            reason = VIR_DOMAIN_SHUTDOWN_UNKNOWN;
        }
    }
    setState(d, obj, state, reason);
}

/* A status from the shim's messages or its record (driver lock held),
 * applied only if it records something newer than the driver holds. One
 * with the sequence number held records nothing new, and applying it again
 * could undo what a command set since: a suspend is answered before the
 * shim's query-status records "paused", and QEMU's STOP event, like the
 * status the start ended with, still says "running" (setRunning holds the
 * shim's record as of the command's answer). A guest's end is always
 * applied. */
static void domStatus(qemuDriver *d, qemuDomObj *obj, const virShimStatus *st)
{
    if (obj->shim.shim_pid == st->shim_pid &&
        (st->seq < obj->shim.seq ||
         (st->seq == obj->shim.seq && st->child_state != VIR_SHIM_CHILD_EXITED)))
        return;
    domStatusApply(d, obj, st);
}

static void cleanupFree(qemuDriver *d, qemuCleanup *c)
{
    if (c->subFd >= 0) {
        (void)epoll_ctl(d->epfd, EPOLL_CTL_DEL, c->subFd, NULL);
        close(c->subFd);
    }
    if (c->pidfd >= 0) {
        (void)epoll_ctl(d->epfd, EPOLL_CTL_DEL, c->pidfd, NULL);
        close(c->pidfd);
    }
    free(c);
}

/* @obj's subscription ended while its shim and guest run: the shim drops
 * a subscriber that does not read what it is sent (a watcher held up
 * while the guest made many events), and once closed ours by mistake
 * (docs/SHIM.md). Subscribe again and take the shim's status, or the view
 * would freeze for good; the pidfd stays watched whatever happens here.
 * Driver lock held (a local shim answers at once or refuses). */
static void resubscribe(qemuDriver *d, qemuDomObj *obj, virShimIncoming *in)
{
    struct epoll_event ev = { .events = EPOLLIN, .data.u64 = obj->watchId << 1 };
    int sub = -1;

    (void)epoll_ctl(d->epfd, EPOLL_CTL_DEL, obj->subFd, NULL);
    virForceClose(&obj->subFd);
    if ((sub = virShimConnect(obj->runDir)) < 0 ||
        virShimCall(sub, VIR_SHIM_MSG_SUBSCRIBE, NULL, 0, NULL, 0, 5000, NULL, NULL, in) < 0 ||
        !in->hasStatus || epoll_ctl(d->epfd, EPOLL_CTL_ADD, sub, &ev) < 0) {
        /* Ending: its pidfd says when. */
        virForceClose(&sub);
        virResetLastError();
        return;
    }
    obj->subFd = sub;
    obj->resubscribed++;
    domStatus(d, obj, &in->status);
}

static void watcherEvent(qemuDriver *d, uint64_t key, virShimIncoming *in)
{
    qemuDomObj *obj;
    bool isPidfd = key & 1;

    pthread_mutex_lock(&d->lock);
    if (!(obj = domFindWatch(d, key >> 1))) {
        for (size_t i = 0; i < d->ncleanups; i++) {
            qemuCleanup *c = d->cleanups[i];
            if (c->watchId != key >> 1)
                continue;
            /* Drain what the shim still sends; its end is EOF (or the pidfd). */
            while (!isPidfd && virShimRecv(c->subFd, 0, in) > 0)
                ;
            virResetLastError();
            if (!virShimOwnerAlive(&c->shim)) {
                const char *name = strrchr(c->runDir, '/');
                removeRunDir(&d->cfg, c->runDir, name ? name + 1 : c->runDir, &c->shim);
                cleanupFree(d, c);
                d->cleanups[i] = d->cleanups[--d->ncleanups];
            }
            break;
        }
        pthread_mutex_unlock(&d->lock);
        return;
    }
    if (!isPidfd) {
        int r = virShimRecv(obj->subFd, 0, in);
        if (r > 0 && in->type == VIR_SHIM_MSG_REPLY && in->err && in->id) {
            /* A reply to what rebootRestart sent: any failure ends it. */
            for (size_t i = 0; i < 3; i++)
                if (obj->rebooting && in->id == obj->rebootIds[i])
                    rebootAbandon(obj);
        }
        if (r > 0 && in->type == VIR_SHIM_MSG_EVENT && in->kind == VIR_SHIM_EVENT_QMP &&
            STREQ(in->name, "RESET") && obj->started)
            /* libvirt's: every reset of the guest, a reboot's included. */
            virEventStateQueueDomain(d->events, VIR_DOMAIN_EVENT_ID_REBOOT, obj->def->name,
                                     obj->def->uuid, NULL, 0);
        if (r > 0 && in->hasStatus) {
            domStatus(d, obj, &in->status);
        } else if (r < 0) {
            /* The shim closed (it exits after recording the end) or broke:
             * its state file says how the guest ended, if it could. */
            virResetLastError();
            isPidfd = true;
        }
    }
    if (isPidfd && obj->watchId == key >> 1) {
        virShimStatus st;
        if (virShimStateRead(obj->runDir, &st) == 0 && st.shim_pid == obj->shim.shim_pid &&
            st.child_state == VIR_SHIM_CHILD_EXITED) {
            obj->shim = st;
            domEnded(d, obj, &st, false);
        } else if (!virShimOwnerAlive(&obj->shim)) {
            virResetLastError();
            domEnded(d, obj, &obj->shim, true);
        } else if (obj->subFd >= 0 && key & 1) {
            /* The pidfd fired but the shim runs: not ours any more. */
        } else if (obj->subFd >= 0) {
            resubscribe(d, obj, in);
        }
    }
    pthread_mutex_unlock(&d->lock);
}

static void runDirEvents(qemuDriver *d);
static void runDirLook(qemuDriver *d);

/* A connection without inotify looks at the run directory this often
 * (runDirLook): what inotify would have told it, at most this late. */
#define NO_INOTIFY_LOOK_MS 250

/* qemuTestHoldWatchers: while set, every watcher waits before it handles
 * what it was woken for. */
static pthread_mutex_t testHoldLock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t testHoldCond = PTHREAD_COND_INITIALIZER;
static bool testHold;

void qemuTestHoldWatchers(bool hold)
{
    pthread_mutex_lock(&testHoldLock);
    testHold = hold;
    pthread_cond_broadcast(&testHoldCond);
    pthread_mutex_unlock(&testHoldLock);
}

/* qemuTestNoInotify: while set, connections opened do without inotify. */
static _Atomic bool testNoInotify;

void qemuTestNoInotify(bool off)
{
    atomic_store(&testNoInotify, off);
}

unsigned int qemuTestResubscribed(virDomainPtr dom)
{
    qemuDriver *d;
    qemuDomObj *obj = domLock(dom, &d);
    unsigned int n = 0;

    if (!obj) {
        virResetLastError();
        return 0;
    }
    n = obj->resubscribed;
    pthread_mutex_unlock(&d->lock);
    return n;
}

static void *watcherMain(void *opaque)
{
    qemuDriver *d = opaque;
    virShimIncoming *in = d->watchIn;
    struct epoll_event evs[16];

    /* Without inotify (set before this thread starts, never changed
     * while it runs): a look every NO_INOTIFY_LOOK_MS instead. */
    bool look = d->inofd < 0;
    long long nextLook = virTimeMonoMs() + NO_INOTIFY_LOOK_MS;

    /* What fails here is the driver's to handle: no handler, no printing. */
    virErrorSetThreadInternal();
    for (;;) {
        long long left = nextLook - virTimeMonoMs();
        int n = epoll_wait(d->epfd, evs, 16, !look ? -1 : left > 0 ? (int)left : 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            break;
        pthread_mutex_lock(&testHoldLock);
        while (testHold)
            pthread_cond_wait(&testHoldCond, &testHoldLock);
        pthread_mutex_unlock(&testHoldLock);
        if (look && virTimeMonoMs() >= nextLook) {
            runDirLook(d);
            nextLook = virTimeMonoMs() + NO_INOTIFY_LOOK_MS;
        }
        for (int i = 0; i < n; i++) {
            if (evs[i].data.u64 == 0) {
                uint64_t v;
                (void)!read(d->wakefd, &v, sizeof(v));
                continue;
            }
            if (evs[i].data.u64 == WATCH_KEY_RUNDIR) {
                runDirEvents(d);
                continue;
            }
            watcherEvent(d, evs[i].data.u64, in);
        }
        pthread_mutex_lock(&d->lock);
        bool stop = d->stop;
        pthread_mutex_unlock(&d->lock);
        if (stop)
            break;
    }
    return NULL;
}

/* ---- locks a forked child must not keep ----
 *
 * The start's mark and a job's mark (below) are locks that belong to an
 * open file description, which fork() shares: a child the application
 * forks without exec (a worker model, a snapshot fork as Redis makes)
 * would keep them for as long as it lives, long after the job's done step
 * closed its descriptor in the parent, and every connection would go on
 * seeing a start or a save under way. Each such descriptor is tracked
 * here, and a fork handler closes them all in the child (closing the
 * child's copy leaves the parent's lock as it is). */
static pthread_mutex_t heldLock = PTHREAD_MUTEX_INITIALIZER;
static int *heldFds;
static size_t nheld, aheld;

static void heldForkPrepare(void)
{
    pthread_mutex_lock(&heldLock);
}

static void heldForkParent(void)
{
    pthread_mutex_unlock(&heldLock);
}

/* The forking thread took the lock (prepare) and is the child's only
 * thread: it lets it go after the closes. */
static void heldForkChild(void)
{
    for (size_t i = 0; i < nheld; i++)
        (void)close(heldFds[i]);
    nheld = 0;
    pthread_mutex_unlock(&heldLock);
}

static void heldInstall(void)
{
    (void)pthread_atfork(heldForkPrepare, heldForkParent, heldForkChild);
}

/* Track @fd (a lock's descriptor, or -1: nothing) so a forked child does
 * not keep it. Returns @fd. Without memory to track it, it stays
 * untracked: only a child forked while it is held would keep the lock. */
static int heldTrack(int fd)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;

    if (fd < 0)
        return fd;
    pthread_once(&once, heldInstall);
    pthread_mutex_lock(&heldLock);
    if (nheld == aheld) {
        size_t n = aheld ? aheld * 2 : 16;
        int *grown = realloc(heldFds, n * sizeof(*grown));
        if (grown) {
            heldFds = grown;
            aheld = n;
        }
    }
    if (nheld < aheld)
        heldFds[nheld++] = fd;
    pthread_mutex_unlock(&heldLock);
    return fd;
}

/* Close the tracked descriptor *@fd (if any) and set it to -1. */
static void heldClose(int *fd)
{
    if (*fd < 0)
        return;
    pthread_mutex_lock(&heldLock);
    for (size_t i = 0; i < nheld; i++) {
        if (heldFds[i] == *fd) {
            heldFds[i] = heldFds[--nheld];
            break;
        }
    }
    /* Closed under the lock: a fork meanwhile finds it either tracked and
     * open, or gone from both. */
    virForceClose(fd);
    pthread_mutex_unlock(&heldLock);
}

/* The marks below (a start's, a save's or dump's) are write locks of open
 * file descriptions on a whole file (F_OFD_SETLK): the kernel drops one
 * with the last descriptor of its open file, so when its application
 * dies. Others look with F_OFD_GETLK, which takes nothing: a look never
 * makes a mark's taking fail, as a probe with flock(LOCK_SH|LOCK_NB)
 * could for the instant it held the lock. */

/* Take the mark open at @fd. 0, or -1 with errno (EAGAIN: held). */
static int markTake(int fd)
{
    struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
    if (fcntl(fd, F_OFD_SETLK, &fl) == 0)
        return 0;
    if (errno == EACCES)
        errno = EAGAIN;
    return -1;
}

/* Open mark @file of run directory @dir (O_CLOEXEC | O_NOFOLLOW added to
 * @flags), or -1 with errno: not there yet, or the directory gone. */
static int markOpen(const char *dir, const char *file, int flags)
{
    char path[PATH_MAX + 16];
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    return open(path, flags | O_CLOEXEC | O_NOFOLLOW, 0600);
}

/* Whether someone (this process included) holds the mark open at @fd. */
static bool markHeld(int fd)
{
    struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
    return fcntl(fd, F_OFD_GETLK, &fl) == 0 && fl.l_type != F_UNLCK;
}

/* The mark of a start under way: RUN/NAME/starting, locked (markTake) by the
 * application that starts the guest from before its status is written
 * until the start is committed or has failed, and released by the kernel
 * if that application dies. Another connection that finds the guest not
 * yet started (reconnectOne) stops it only when nobody holds the mark:
 * before, opening a connection (`virtsup list` in another process, or a
 * second connection of the same application) while a start or a restore
 * was under way stopped that guest. The descriptor, or -1 reported. */
static int startingLock(const char *runDir)
{
    int fd;

    if ((fd = markOpen(runDir, "starting", O_RDWR | O_CREAT)) < 0 || markTake(fd) < 0) {
        virReportSystemError(errno, "cannot mark the start under way in %s", runDir);
        virForceClose(&fd);
        return -1;
    }
    return heldTrack(fd);
}

/* The mark of a save or dump under way: RUN/NAME/job. Each connection
 * has its own view of a guest and its own job slot, so only this file
 * keeps two connections (two applications, or two in one) from running a
 * save and a dump of the same guest at once, and one from resuming a
 * guest that another's save has stopped. A save or dump holds it from
 * its call until its done step has put the guest back. The holder writes
 * one record into it, "OP PID ID RAN SEGMENT\n"
 * then zeros to JOB_MARK_RECORD bytes (ID 0 and no SEGMENT until the job
 * exists; RAN: a save's guest ran when it began, 1 or 0, -1 not known
 * yet), for the words of a refusal and for another process's
 * virDomainGetJobStats, which reads the job's figures from that status
 * segment. The done step empties the file before it lets the lock go, so
 * a record found in a mark nobody holds is a job whose application died
 * before its done step: jobMarkRecover puts the guest back. */
#define JOB_MARK_RECORD 512

typedef struct jobMarkRec {
    char op[64];
    int pid;                      /* 0: no record (just taken, or emptied) */
    unsigned long long id;        /* 0: the job not created yet */
    int ran;                      /* save: the guest ran when it began (-1: not known) */
    char seg[JOB_MARK_RECORD];
} jobMarkRec;

static void jobMarkRead(int fd, jobMarkRec *r)
{
    char rec[JOB_MARK_RECORD + 1];
    ssize_t n = pread(fd, rec, JOB_MARK_RECORD, 0);
    int at = 0;

    memset(r, 0, sizeof(*r));
    if (n <= 0)
        return;
    rec[n] = '\0';
    rec[strcspn(rec, "\n")] = '\0';
    if (sscanf(rec, "%63s %d %llu %d %n", r->op, &r->pid, &r->id, &r->ran, &at) < 4 ||
        r->pid <= 0) {
        memset(r, 0, sizeof(*r));
        return;
    }
    if (at > 0)
        virStrcpyTrunc(r->seg, sizeof(r->seg), rec + at);
}

static int jobMarkWrite(int fd, const char *op, unsigned long long id, int ran,
                        const char *seg)
{
    char rec[JOB_MARK_RECORD];
    int n = snprintf(rec, sizeof(rec), "%s %d %llu %d %s\n", op, (int)getpid(), id, ran, seg);

    if (n < 0 || (size_t)n >= sizeof(rec))
        return -1;
    memset(rec + n, 0, sizeof(rec) - (size_t)n);
    /* One fixed-size write: a reader sees the old record or this one. */
    return pwrite(fd, rec, sizeof(rec), 0) == (ssize_t)sizeof(rec) ? 0 : -1;
}

/* Who holds the mark, in words, into @buf. */
static void jobMarkWords(const jobMarkRec *r, char *buf, size_t len)
{
    if (!r->pid)
        snprintf(buf, len, "a save or dump just starting");
    else if (r->pid == getpid())
        snprintf(buf, len, "%s of this process", r->op);
    else
        snprintf(buf, len, "%s of process %d", r->op, r->pid);
}

/* Take the mark of guest @name, run directory @runDir, for a job of op
 * @op; the record a job whose application died left in it goes to @left
 * (pid 0: none), for the caller to put the guest back (jobMarkRecover)
 * once it has let the driver lock go. The descriptor (to close when the
 * job's slot is released), or -1 reported; "already has a job running"
 * naming the holder when taken. */
static int guestJobMark(const char *runDir, const char *name, const char *op, jobMarkRec *left)
{
    char path[PATH_MAX + 16], who[160];
    jobMarkRec r;
    int fd;

    snprintf(path, sizeof(path), "%s/job", runDir);
    if ((fd = markOpen(runDir, "job", O_RDWR | O_CREAT)) < 0) {
        virReportSystemError(errno, "cannot open the job mark of domain '%s' (%s)", name, path);
        return -1;
    }
    if (markTake(fd) < 0) {
        if (errno == EAGAIN) {
            jobMarkRead(fd, &r);
            jobMarkWords(&r, who, sizeof(who));
            virReportError(VIR_ERR_OPERATION_INVALID, "domain '%s' already has a job "
                           "running: %s", name, who);
        } else {
            virReportSystemError(errno, "cannot lock the job mark of domain '%s' (%s)", name,
                                 path);
        }
        close(fd);
        return -1;
    }
    jobMarkRead(fd, left);
    (void)jobMarkWrite(fd, op, 0, -1, "");   /* only the words of a refusal miss it */
    return heldTrack(fd);
}

static int migrationSettle(qemuDriver *d, const char *runDir, bool resume, char *why,
                           size_t whylen);

/* A line in guest @name's log (LOG/NAME.log), for the operator. */
static void guestLogLine(qemuDriver *d, const char *name, const char *line)
{
    char path[PATH_MAX], ts[32];
    time_t now = time(NULL);
    struct tm tm;
    int fd;

    snprintf(path, sizeof(path), "%s/%s.log", d->cfg.logDir, name);
    if ((fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW)) < 0)
        return;
    strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S", gmtime_r(&now, &tm));
    dprintf(fd, "%s libvirtsup: %s\n", ts, line);
    close(fd);
}

/* The line a save's commit writes in the guest's log before it stops
 * QEMU, as libvirt's "shutting down, reason=saved": for the operator,
 * and for another connection that records the end after the run
 * directory (and the status that says saved) is gone. */
static void savedLine(char *buf, size_t len, int id)
{
    snprintf(buf, len, "shutting down, reason=saved (domain ID %d)", id);
}

/* Whether guest @o's log says its run was ended by a save (savedLine),
 * in its last 8 KiB. Lock held. */
static bool logSaysSaved(qemuDriver *d, const qemuDomObj *o)
{
    char path[PATH_MAX], buf[8193], want[96];
    struct stat sb;
    int fd;
    bool says = false;

    if (o->item.id < 0)
        return false;
    snprintf(path, sizeof(path), "%s/%s.log", d->cfg.logDir, o->def->name);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
        return false;
    if (fstat(fd, &sb) == 0) {
        off_t at = sb.st_size > 8192 ? sb.st_size - 8192 : 0;
        ssize_t n = pread(fd, buf, sizeof(buf) - 1, at);
        if (n > 0) {
            buf[n] = '\0';
            for (ssize_t i = 0; i < n; i++)
                if (!buf[i])
                    buf[i] = ' ';
            savedLine(want, sizeof(want), o->item.id);
            says = strstr(buf, want) != NULL;
        }
    }
    close(fd);
    return says;
}

/* Put back guest @name (run directory @runDir) after a save whose
 * application died before its done step, as that step would have, from
 * the record @left it left in the mark (which the caller holds now): wait
 * until QEMU's migration has ended, cancelling it, and resume the guest
 * if it ran when the save began. A dump needs nothing: QEMU resumes a
 * guest it stopped once its dump fails for want of a reader. Says what it
 * did in the guest's log. Round trips with the monitor timeout; driver
 * lock NOT held. */
static void jobMarkRecover(qemuDriver *d, const char *runDir, const char *name,
                           const jobMarkRec *left)
{
    char why[300], line[600];

    if (!left->pid || STRNEQ(left->op, QEMU_OP_DOMAIN_SAVE) || left->ran < 0)
        return;
    if (migrationSettle(d, runDir, left->ran == 1, why, sizeof(why)) < 0)
        snprintf(line, sizeof(line), "the save of process %d ended with that process; "
                 "putting the guest back failed: %s", left->pid, why);
    else
        snprintf(line, sizeof(line), "the save of process %d ended with that process; "
                 "QEMU's migration has ended%s", left->pid,
                 left->ran == 1 ? " and the guest runs again" : " (the guest was paused)");
    guestLogLine(d, name, line);
}

/* A look at the job mark of run directory @dir: 1 held, 0 free, -1 none
 * (no guest there, or no save or dump yet); its record into @r (empty
 * for none). Opened read-only: every connection that watches the guest
 * hears of a writer's close of the mark (runDirEvents), and a look must
 * not be one. */
static int jobMarkLook(const char *dir, jobMarkRec *r)
{
    int fd, held;

    memset(r, 0, sizeof(*r));
    if ((fd = markOpen(dir, "job", O_RDONLY)) < 0)
        return -1;
    held = markHeld(fd);
    jobMarkRead(fd, r);
    close(fd);
    return held;
}

/* Whether the mark of run directory @runDir holds the record of a job
 * whose application died: nobody holds it and it is not empty. */
static bool jobMarkAbandoned(const char *runDir)
{
    jobMarkRec r;

    return jobMarkLook(runDir, &r) == 0 && r.pid != 0;
}

/* A mark held while its record names a process that is gone is being
 * put back by some connection (jobMarkRecoverDir, perhaps on a watcher's
 * word in another process): wait until it is let go, at most the monitor
 * timeout, so that the caller (an open, or a call on the guest) finds the
 * guest as it will be, rather than refused in the name of a job that has
 * died, or seen paused an instant before it runs again. A look every 10
 * ms: it is seldom needed and brief. Whether it waited. Driver lock NOT
 * held. */
static bool jobMarkRecoveryWait(qemuDriver *d, const char *runDir)
{
    long long until = virTimeMonoMs() + d->cfg.monitorTimeoutMs;
    bool waited = false;
    jobMarkRec r;

    for (;;) {
        if (jobMarkLook(runDir, &r) != 1 || !r.pid || r.pid == getpid() ||
            kill(r.pid, 0) == 0 || errno != ESRCH || virTimeMonoMs() >= until)
            return waited;
        waited = true;
        (void)poll(NULL, 0, 10);
    }
}

/* jobMarkRecoveryWait for guest @dom, before a save or dump takes its
 * mark (under the driver lock, where it cannot wait). */
static void guestRecoveryWait(virDomainPtr dom)
{
    qemuDriver *d;
    qemuDomObj *obj = domLock(dom, &d);
    char dir[PATH_MAX] = "";

    if (!obj)
        return;
    if (obj->active)
        virStrcpyTrunc(dir, sizeof(dir), obj->runDir);
    pthread_mutex_unlock(&d->lock);
    if (dir[0])
        (void)jobMarkRecoveryWait(d, dir);
}

/* Look at guest @name's mark (run directory @runDir) and, if a job whose
 * application died left its record there, take the mark, put the guest
 * back (jobMarkRecover) and empty it; first wait for another connection
 * doing that (jobMarkRecoveryWait). True if either happened: the guest
 * may have changed. Cheap when there is nothing to do: a look
 * (F_OFD_GETLK) and a read. Driver lock NOT held. */
static bool jobMarkRecoverDir(qemuDriver *d, const char *runDir, const char *name)
{
    bool done = false;
    jobMarkRec r;
    int fd;

    bool waited = jobMarkRecoveryWait(d, runDir);
    if (!jobMarkAbandoned(runDir))
        return waited;
    /* Tracked: a fork while it puts the guest back must not keep it.
     * Taken only to put the guest back: a job's start in this instant is
     * refused, naming the job that died. Another connection may have
     * taken it first (or done it already: the record is empty then). */
    if ((fd = heldTrack(markOpen(runDir, "job", O_RDWR))) < 0)
        return false;
    if (markTake(fd) == 0) {
        jobMarkRead(fd, &r);
        if (r.pid) {
            bool quiet = virErrorSetQuiet(true);
            jobMarkRecover(d, runDir, name, &r);
            virResetLastError();
            virErrorSetQuiet(quiet);
            if (ftruncate(fd, 0) < 0) {
                /* the next look does it again */
            }
            done = true;
        }
    }
    heldClose(&fd);
    return done || waited;
}

/* Whether another connection's save or dump runs on guest @dom now (its
 * mark is held while this connection's slot is free): then its record
 * into @r. A guest not running has none. A job that takes the mark just
 * after this look is not seen. */
static bool guestJobForeign(virDomainPtr dom, jobMarkRec *r)
{
    qemuDriver *d;
    qemuDomObj *obj = domLock(dom, &d);
    char dir[PATH_MAX];

    if (!obj)
        return false;   /* the call itself says why */
    dir[0] = '\0';
    if (obj->active && obj->runDir[0] && !virDriverJobSlotBusy(&obj->slot))
        virStrcpyTrunc(dir, sizeof(dir), obj->runDir);
    pthread_mutex_unlock(&d->lock);
    return dir[0] && jobMarkLook(dir, r) == 1;
}

/* Whether a save or dump of any connection runs on guest @dom now: then
 * who, in words, into @who. */
static bool guestJobBusy(virDomainPtr dom, char *who, size_t len)
{
    qemuDriver *d;
    qemuDomObj *obj = domLock(dom, &d);
    jobMarkRec r;

    if (!obj)
        return false;
    /* This connection's own: its job's number. */
    if (obj->slot.job && obj->slot.opname && (STREQ(obj->slot.opname, QEMU_OP_DOMAIN_SAVE) ||
                                              STREQ(obj->slot.opname, QEMU_OP_DOMAIN_DUMP))) {
        snprintf(who, len, "job %llu, %s", (unsigned long long)virSupJobGetID(obj->slot.job),
                 obj->slot.opname);
        pthread_mutex_unlock(&d->lock);
        return true;
    }
    pthread_mutex_unlock(&d->lock);
    if (!guestJobForeign(dom, &r))
        return false;
    jobMarkWords(&r, who, len);
    return true;
}

/* ---- aborting another connection's job ----
 *
 * Only a job's own supervisor can cancel it (it alone signals its worker
 * and writes its status), and each application has its own. So
 * virDomainAbortJob on a guest whose save or dump belongs to another
 * connection (another application, as `virtsup domjobabort` beside a
 * daemon, or another connection of this one) asks that connection: it
 * writes "PID ID REQUESTER\n" (the job's process and number, from the
 * guest's job mark, and its own pid) into RUN/NAME/abort. The owner hears
 * the file's close (inotify, as it hears the mark's: runDirEvents),
 * cancels its job as virJobCancel does, says so in the guest's log, and
 * removes the file: that is the requester's answer. */
#define ABORT_REQUEST "abort"
/* How long a requester waits for the owner to take it: the owner's
 * watcher takes it at once; past this, it is not listening. */
#define ABORT_REQUEST_WAIT_MS 10000u

/* Whether job @r still runs on the guest of run directory @dir: its mark
 * is held and names it. */
static bool jobMarkStill(const char *dir, const jobMarkRec *r)
{
    jobMarkRec now;

    return jobMarkLook(dir, &now) == 1 && now.pid == r->pid && now.id == r->id;
}

/* Ask the connection that runs job @r on guest @name (run directory
 * @dir) to cancel it, and wait until it has taken the request or the job
 * has ended, at most @waitMs. 0, or -1 reported. */
static int abortRequest(const char *dir, const char *name, const jobMarkRec *r,
                        unsigned int waitMs)
{
    char path[PATH_MAX + 16], rec[96], who[160];
    int fd, ino, n;

    jobMarkWords(r, who, sizeof(who));
    if (!r->id) {
        virReportError(VIR_ERR_OPERATION_FAILED, "the job of domain '%s' (%s) is still "
                       "starting: try again", name, who);
        return -1;
    }
    snprintf(path, sizeof(path), "%s/" ABORT_REQUEST, dir);
    n = snprintf(rec, sizeof(rec), "%d %llu %d\n", r->pid, r->id, (int)getpid());
    /* Its removal wakes us (polled as well: a host out of inotify
     * instances still gets its answer, a little later). */
    if ((ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) >= 0 &&
        inotify_add_watch(ino, dir, IN_DELETE | IN_ONLYDIR) < 0)
        virForceClose(&ino);
    if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0 ||
        write(fd, rec, (size_t)n) != n) {
        virReportSystemError(errno ? errno : EIO, "cannot ask for the abort of the job of "
                             "domain '%s' (%s): cannot write %s", name, who, path);
        virForceClose(&fd);
        virForceClose(&ino);
        (void)unlink(path);
        return -1;
    }
    close(fd);   /* the owner hears this close */
    long long until = virTimeMonoMs() + waitMs;
    for (;;) {
        if (access(path, F_OK) < 0 && errno == ENOENT)
            break;                          /* taken */
        if (!jobMarkStill(dir, r)) {
            (void)unlink(path);             /* ended meanwhile */
            break;
        }
        long long left = until - virTimeMonoMs();
        if (left <= 0) {
            (void)unlink(path);
            virForceClose(&ino);
            virReportError(VIR_ERR_OPERATION_TIMEOUT, "domain '%s': the connection that runs "
                           "its job (%s) did not take the request to abort it within %u ms: "
                           "its process may be stopped or hung; only that connection can "
                           "cancel the job", name, who, waitMs);
            return -1;
        }
        struct pollfd p = { .fd = ino, .events = POLLIN };
        if (poll(&p, ino >= 0 ? 1 : 0, (int)(left < 50 ? left : 50)) > 0) {
            char buf[1024];
            while (read(ino, buf, sizeof(buf)) > 0)
                ;
        }
    }
    virForceClose(&ino);
    return 0;
}

/* An abort request was written into guest @o's directory (abortRequest):
 * if it names this connection's job, cancel it, say so in the guest's
 * log and remove the request (the requester's answer). Lock held. */
static void abortTake(qemuDriver *d, qemuDomObj *o)
{
    char path[PATH_MAX + 16], rec[96] = "", line[256];
    int pid = 0, from = 0, fd;
    unsigned long long id = 0;

    if (!o || !o->active || !o->runDir[0] || !o->slot.job)
        return;
    snprintf(path, sizeof(path), "%s/" ABORT_REQUEST, o->runDir);
    if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
        return;
    ssize_t n = read(fd, rec, sizeof(rec) - 1);
    close(fd);
    rec[n > 0 ? n : 0] = '\0';
    if (sscanf(rec, "%d %llu %d", &pid, &id, &from) != 3 || pid != getpid() ||
        id != virSupJobGetID(o->slot.job))
        return;
    bool quiet = virErrorSetQuiet(true);
    if (virDriverJobSlotAbort(&o->slot, "domain", o->def->name) == 0) {
        snprintf(line, sizeof(line), "job %llu (%s) of process %d cancelled at the request of "
                 "process %d (virDomainAbortJob)", id, o->slot.opname ? o->slot.opname : "",
                 pid, from);
        guestLogLine(d, o->def->name, line);
        (void)unlink(path);
    }
    virResetLastError();
    virErrorSetQuiet(quiet);
}

/* Refuse to @verb ("suspended", "resumed", ...) guest @dom while a save
 * or dump of any connection runs on it: that job owns the guest's run
 * state until its done step has put it back (a resume between a save's
 * stop and its commit would let the guest run on past its image).
 * 0, or -1 reported. */
static int guestJobCheck(virDomainPtr dom, const char *verb)
{
    qemuDriver *d;
    qemuDomObj *obj = domLock(dom, &d);
    char who[160], runDir[PATH_MAX];

    if (!obj)
        return -1;
    virStrcpyTrunc(runDir, sizeof(runDir), obj->active ? obj->runDir : "");
    pthread_mutex_unlock(&d->lock);
    /* A save whose application died left the guest to be put back: done
     * before this call acts on it. */
    if (runDir[0])
        jobMarkRecoverDir(d, runDir, dom->name);
    if (!guestJobBusy(dom, who, sizeof(who)))
        return 0;
    virReportError(VIR_ERR_OPERATION_INVALID, "domain '%s' cannot be %s while a job runs on "
                   "it (%s): cancel the job or wait for its end", dom->name, verb, who);
    return -1;
}

/* Whether some application (this one included) is starting the guest of
 * run directory @dir right now: its mark is held. */
static bool startingNow(const char *dir)
{
    int fd;
    bool held;

    if ((fd = markOpen(dir, "starting", O_RDONLY)) < 0)
        return false;
    held = markHeld(fd);
    close(fd);
    return held;
}

/* ---- guests that other connections start ------------------------------------- */

static void reconnectOne(qemuDriver *d, const char *name, bool deferStop);
static int stopGuest(qemuDriver *d, const uint8_t *uuid, const char *name, const char *runDir,
                     const virShimStatus *st);

/* Each connection has its own view of the guests. One opened before another
 * connection (here or in another process) started a guest learns of it
 * here: a change of RUN/NAME/domain.status (the start's commit writes
 * "started") makes it adopt the guest as an open does (reconnectOne), and
 * watch it from then on. Without inotify (or past its limits), a
 * connection looks at the run directory when it is asked instead
 * (adoptWithoutInotify). */
static void runDirWatch(qemuDriver *d)
{
    struct epoll_event ev = { .events = EPOLLIN, .data.u64 = WATCH_KEY_RUNDIR };

    if (atomic_load(&testNoInotify) ||
        (d->inofd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) < 0)
        return;
    if ((d->runWd = inotify_add_watch(d->inofd, d->cfg.runDir,
                                      IN_CREATE | IN_MOVED_TO | IN_ONLYDIR)) < 0 ||
        epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->inofd, &ev) < 0) {
        virForceClose(&d->inofd);
        d->runWd = -1;
    }
}

/* Watch RUN/@name for its status's changes (lock held). */
static void guestDirWatch(qemuDriver *d, const char *name)
{
    char dir[PATH_MAX + QEMU_NAME_MAX];
    struct qemuDirWatch *w;
    int wd;

    if (d->inofd < 0 || strlen(name) >= QEMU_NAME_MAX)
        return;
    snprintf(dir, sizeof(dir), "%s/%s", d->cfg.runDir, name);
    /* The status is written whole into a spare and traded with it: its
     * name always arrives by a rename. A job's mark is let go by the
     * close of its writer: the application's, or, if it died, the
     * kernel's at its exit. */
    if ((wd = inotify_add_watch(d->inofd, dir, IN_MOVED_TO | IN_CLOSE_WRITE | IN_ONLYDIR)) < 0)
        return;
    for (size_t i = 0; i < d->ndirWatches; i++) {
        if (d->dirWatches[i].wd == wd) {
            virStrcpyTrunc(d->dirWatches[i].name, QEMU_NAME_MAX, name);
            return;
        }
    }
    if (!(w = realloc(d->dirWatches, (d->ndirWatches + 1) * sizeof(*w)))) {
        (void)inotify_rm_watch(d->inofd, wd);
        return;
    }
    d->dirWatches = w;
    w[d->ndirWatches].wd = wd;
    virStrcpyTrunc(w[d->ndirWatches].name, QEMU_NAME_MAX, name);
    d->ndirWatches++;
}

/* RUN/@name's guest, if its start was committed and this connection does
 * not hold it as running: adopted (lock held). A start still under way,
 * or an end, is not acted on here. */
static void adoptIfStarted(qemuDriver *d, const char *name)
{
    char dir[PATH_MAX + QEMU_NAME_MAX];
    qemuStatusHeader hdr;
    qemuDomainDef *def;
    qemuDomObj *obj = NULL;

    snprintf(dir, sizeof(dir), "%s/%s", d->cfg.runDir, name);
    bool quiet = virErrorSetQuiet(true);
    def = qemuStatusRead(dir, &hdr);
    virShimStatus st;
    /* A guest that ended (an event of the run before its end, read late)
     * is not taken up again: its end was recorded once. */
    bool adopt = def && hdr.started && !hdr.destroying && STREQ(def->name, name) &&
                 (!(obj = domFindUUID(d, def->uuid)) || !obj->active) &&
                 virShimStateRead(dir, &st) == 0 && virShimOwnerAlive(&st) &&
                 virShimChildAlive(&st) && (!obj || obj->shim.shim_pid != st.shim_pid);
    free(def);
    if (adopt) {
        reconnectOne(d, name, false);
        /* Started, for this connection's listeners and waiters too. */
        if ((obj = domFindName(d, name)) && obj->active) {
            domEvent(d, obj, VIR_DOMAIN_EVENT_STARTED,
                     obj->restored ? VIR_DOMAIN_EVENT_STARTED_RESTORED :
                     VIR_DOMAIN_EVENT_STARTED_BOOTED);
            /* ... and paused, if it is (a restore of a paused guest's
             * image: as its own connection tells it). */
            if (obj->state == VIR_DOMAIN_PAUSED)
                domEvent(d, obj, VIR_DOMAIN_EVENT_SUSPENDED,
                         obj->restored ? VIR_DOMAIN_EVENT_SUSPENDED_RESTORED :
                         VIR_DOMAIN_EVENT_SUSPENDED_PAUSED);
            pthread_cond_broadcast(&d->changed);
        }
    }
    virResetLastError();
    virErrorSetQuiet(quiet);
}

/* adoptIfStarted, unless this connection holds RUN/@name's guest already
 * or is starting it itself (nothing to read then). Lock held. */
static void adoptUnlessOurs(qemuDriver *d, const char *name)
{
    qemuDomObj *o = domFindName(d, name);
    if (!o || (!o->active && !o->slot.token))
        adoptIfStarted(d, name);
}

/* Look at every guest directory, for guests other connections started
 * (lock held). */
static void adoptScan(qemuDriver *d)
{
    DIR *dir = opendir(d->cfg.runDir);
    struct dirent *de;

    while (dir && (de = readdir(dir))) {
        if (de->d_name[0] == '.')
            continue;
        guestDirWatch(d, de->d_name);
        adoptUnlessOurs(d, de->d_name);
    }
    if (dir)
        closedir(dir);
}

/* A connection without inotify (none here, or past the user's limits)
 * learns of guests other connections started when it is asked: each list,
 * lookup and state query looks at the run directory first (lock NOT
 * held). With inotify, nothing to do. */
static void adoptWithoutInotify(qemuDriver *d)
{
    if (d->inofd >= 0)
        return;
    bool quiet = virErrorSetQuiet(true);
    pthread_mutex_lock(&d->lock);
    adoptScan(d);
    pthread_mutex_unlock(&d->lock);
    virResetLastError();
    virErrorSetQuiet(quiet);
}

/* What another connection wrote in the status of guest @o, which this
 * connection holds running, of the guest's coming end: a save whose
 * image is complete stops it (shut off, saved, not destroyed). At each
 * change of the status, and once more when the end is recorded (domEnded:
 * a connection without inotify, or an end read before the change): a
 * read of the status's header, no allocation. False if it could not be
 * read (the run directory is gone). Lock held. */
static bool statusFollow(qemuDomObj *o)
{
    qemuStatusHeader hdr;

    if (!o->active || !o->runDir[0] || o->saved)
        return true;
    /* The record of this run of the guest (IDs are not reused), not of a
     * later one. */
    if (qemuStatusReadHeader(o->runDir, &hdr) < 0 || hdr.id != o->item.id)
        return false;
    if (hdr.flags & QEMU_STATUS_SAVED)
        o->saved = true;
    return true;
}

typedef struct qemuRecovery {
    qemuDriver *d;
    char runDir[PATH_MAX];
    char name[QEMU_NAME_MAX];
} qemuRecovery;

static void *recoverMain(void *opaque)
{
    qemuRecovery *r = opaque;
    qemuDriver *d = r->d;

    virErrorSetThreadInternal();
    (void)jobMarkRecoverDir(d, r->runDir, r->name);
    free(r);
    pthread_mutex_lock(&d->lock);
    d->recovering--;
    pthread_cond_broadcast(&d->changed);
    pthread_mutex_unlock(&d->lock);
    return NULL;
}

/* A writer of guest @o's job mark closed it: a job's done step let it
 * go, or the application that held it died (the kernel closed it at its
 * exit). In the second case the guest is put back at once, by whichever
 * watching connection takes the mark first (jobMarkRecoverDir), rather
 * than at the next open or the next call on the guest: a save's guest
 * would stay paused until then. Round trips with QEMU follow, so it is
 * done on a thread of its own (qemuDriverClose waits for it). Lock held;
 * the look itself is an open, a F_OFD_GETLK and a read. */
static void markClosed(qemuDriver *d, qemuDomObj *o)
{
    qemuRecovery *r;
    pthread_t tid;
    pthread_attr_t attr;

    if (!o || !o->active || !o->runDir[0] || d->stop || !jobMarkAbandoned(o->runDir) ||
        !VIR_ALLOC(r))
        return;
    r->d = d;
    virStrcpyTrunc(r->runDir, sizeof(r->runDir), o->runDir);
    virStrcpyTrunc(r->name, sizeof(r->name), o->def->name);
    d->recovering++;
    if (pthread_attr_init(&attr) != 0) {
        d->recovering--;
        free(r);
        return;
    }
    (void)pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&tid, &attr, recoverMain, r) != 0) {
        /* The next open, or the next call on the guest, does it. */
        d->recovering--;
        free(r);
    }
    pthread_attr_destroy(&attr);
}

/* What inotify says of the run directory (watcher thread). */
static void runDirEvents(qemuDriver *d)
{
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    ssize_t n;

    pthread_mutex_lock(&d->lock);
    while ((n = read(d->inofd, buf, sizeof(buf))) > 0) {
        for (char *p = buf; p < buf + n; ) {
            const struct inotify_event *e = (const struct inotify_event *)p;
            p += sizeof(*e) + e->len;
            if (e->mask & IN_Q_OVERFLOW) {
                adoptScan(d);   /* events were lost */
                continue;
            }
            if (e->mask & IN_IGNORED) {
                for (size_t i = 0; i < d->ndirWatches; i++)
                    if (d->dirWatches[i].wd == e->wd)
                        d->dirWatches[i] = d->dirWatches[--d->ndirWatches];
                continue;
            }
            if (!e->len || e->name[0] == '.')
                continue;
            if (e->wd == d->runWd) {
                /* A new guest directory: watched, then looked at once (its
                 * status may have been written before the watch). */
                guestDirWatch(d, e->name);
                adoptUnlessOurs(d, e->name);
                continue;
            }
            bool status = (e->mask & IN_MOVED_TO) && STREQ(e->name, QEMU_STATUS_NAME);
            bool mark = (e->mask & IN_CLOSE_WRITE) && STREQ(e->name, "job");
            bool abort = (e->mask & IN_CLOSE_WRITE) && STREQ(e->name, ABORT_REQUEST);
            if (!status && !mark && !abort)
                continue;
            for (size_t i = 0; i < d->ndirWatches; i++) {
                if (d->dirWatches[i].wd != e->wd)
                    continue;
                char name[QEMU_NAME_MAX];
                virStrcpyTrunc(name, sizeof(name), d->dirWatches[i].name);
                qemuDomObj *o = domFindName(d, name);
                if (abort)
                    abortTake(d, o);
                else if (mark)
                    markClosed(d, o);
                else if (o && o->active)
                    statusFollow(o);
                else
                    adoptUnlessOurs(d, name);
                break;
            }
        }
    }
    pthread_mutex_unlock(&d->lock);
}

/* What a connection without inotify looks at instead of hearing it
 * (watcher thread, every NO_INOTIFY_LOOK_MS): guests other connections
 * started; for each guest it holds running, a status another connection
 * changed (a save's end), a job mark its dead application let go (put
 * back, as markClosed does: not while a recovery of this connection
 * runs), and a request to abort its own job. A few opens and reads per
 * guest; nothing is written unless there is something to do. */
static void runDirLook(qemuDriver *d)
{
    bool quiet = virErrorSetQuiet(true);

    pthread_mutex_lock(&d->lock);
    if (!d->stop) {
        adoptScan(d);
        for (size_t i = 0; i < d->doms.n; i++) {
            qemuDomObj *o = (qemuDomObj *)d->doms.items[i];
            if (!o->active)
                continue;
            statusFollow(o);
            if (!d->recovering)
                markClosed(d, o);
            abortTake(d, o);
        }
    }
    pthread_mutex_unlock(&d->lock);
    virResetLastError();
    virErrorSetQuiet(quiet);
}

/* ---- finding running guests (at open) ----------------------------------------- */

/* One directory of the run directory, at open (or when another
 * connection started its guest): a running guest, taken up, or what a
 * crashed application left. A guest whose start never completed (its
 * application died during it) is stopped: with @deferStop, by the caller
 * once it has let the driver lock go (reconnectAll, which waits for the
 * end to be recorded); else its shim is sent SIGTERM and the watcher
 * records the end. Driver lock held (no round trip is long: a local shim
 * answers at once or its connection fails). */
static void reconnectOne(qemuDriver *d, const char *name, bool deferStop)
{
    char dir[PATH_MAX];
    qemuStatusHeader hdr;
    qemuDomainDef *def;
    virShimStatus st;
    qemuDomObj *obj;
    virShimIncoming *in = NULL;
    int sub = -1;
    bool haveShim;

    snprintf(dir, sizeof(dir), "%s/%s", d->cfg.runDir, name);
    haveShim = virShimStateRead(dir, &st) == 0;
    def = qemuStatusRead(dir, &hdr);
    virResetLastError();
    if ((!def || !hdr.started) && startingNow(dir)) {
        /* Being started right now, by a live application (another
         * connection, here or elsewhere): not ours to stop. */
        free(def);
        return;
    }
    if (!def || !haveShim || STRNEQ(def->name, name)) {
        /* Left half-made by an application that died while starting it;
         * or being made right now by a start (its lock is held: left be). */
        int lock;
        if (haveShim && virShimOwnerAlive(&st)) {
            (void)virProcessKillIdentity(st.shim_pid, st.shim_start, SIGTERM);
        } else if ((lock = runLock(&d->cfg, name, false)) >= 0) {
            (void)qemuRemoveDir(dir);
            close(lock);
        }
        virResetLastError();
        free(def);
        return;
    }
    obj = domFindUUID(d, def->uuid);
    if (obj && obj->active) {
        free(def);
        return;
    }
    if (!obj) {
        if (!(obj = domAdd(d, def))) {
            free(def);
            return;
        }
        def = NULL;
        obj->persistent = false;
    } else if (!obj->persistent || memcmp(obj->def->uuid, def->uuid, 16) == 0) {
        /* The running definition may differ from the persistent one. */
        obj->nextDef = obj->def;
        obj->def = def;
        def = NULL;
    }
    free(def);
    virStrcpyTrunc(obj->runDir, sizeof(obj->runDir), dir);
    obj->shim = st;
    obj->item.id = hdr.id;
    obj->active = true;
    obj->started = hdr.started;
    obj->destroying = hdr.destroying;
    obj->saved = hdr.flags & QEMU_STATUS_SAVED;
    obj->restored = hdr.flags & QEMU_STATUS_RESTORED;
    obj->state = VIR_DOMAIN_PAUSED;
    obj->reason = VIR_DOMAIN_PAUSED_STARTING_UP;
    if (hdr.started && hdr.state > 0) {
        obj->state = hdr.state;
        obj->reason = hdr.reason;
    }
    if (virShimOwnerAlive(&st) && VIR_ALLOC(in) &&
        (sub = virShimConnect(dir)) >= 0 &&
        virShimCall(sub, VIR_SHIM_MSG_SUBSCRIBE, NULL, 0, NULL, 0, 5000, NULL, NULL, in) == 0 &&
        in->hasStatus && watch(d, obj, sub) == 0) {
        sub = -1;
        domStatusApply(d, obj, &in->status);
        if (obj->active && !obj->started) {
            /* Its start never completed (the application died during it):
             * stopped, as libvirt does. */
            obj->destroying = false;
            if (!deferStop)
                (void)virProcessKillIdentity(st.shim_pid, st.shim_start, SIGTERM);
        }
    } else {
        virResetLastError();
        virForceClose(&sub);
        if (virShimStateRead(dir, &st) == 0)
            obj->shim = st;
        virResetLastError();
        domEnded(d, obj, &obj->shim, obj->shim.child_state != VIR_SHIM_CHILD_EXITED);
    }
    free(in);
}

static void reconnectAll(qemuDriver *d)
{
    DIR *dir = opendir(d->cfg.runDir);
    struct dirent *e;

    if (!dir)
        return;
    /* Probes of what may be gone: their failures are expected. */
    bool quiet = virErrorSetQuiet(true);
    pthread_mutex_lock(&d->lock);
    while ((e = readdir(dir))) {
        if (e->d_name[0] == '.')
            continue;
        guestDirWatch(d, e->d_name);
        reconnectOne(d, e->d_name, true);
    }
    pthread_mutex_unlock(&d->lock);
    /* Guests whose start never completed are stopped, and saves whose
     * application died (a daemon killed mid-save) put back, now, with
     * their ends recorded before the open returns: its caller may at once
     * start or restore the one, or suspend the other, as libvirt's
     * clients may once its daemon has started again. */
    rewinddir(dir);
    while ((e = readdir(dir))) {
        char gdir[PATH_MAX];
        uint8_t uuid[16];
        virShimStatus sst;
        bool stop = false;
        if (e->d_name[0] == '.')
            continue;
        snprintf(gdir, sizeof(gdir), "%s/%s", d->cfg.runDir, e->d_name);
        pthread_mutex_lock(&d->lock);
        qemuDomObj *half = domFindName(d, e->d_name);
        if (half && half->active && !half->started && STREQ(half->runDir, gdir) &&
            !startingNow(gdir)) {
            memcpy(uuid, half->def->uuid, sizeof(uuid));
            sst = half->shim;
            stop = true;
        }
        pthread_mutex_unlock(&d->lock);
        if (stop) {
            if (stopGuest(d, uuid, e->d_name, gdir, &sst) < 0)
                (void)virProcessKillIdentity(sst.shim_pid, sst.shim_start, SIGTERM);
            continue;
        }
        if (!jobMarkRecoverDir(d, gdir, e->d_name))
            continue;
        /* The view as the shim has it now, not as its watcher will have
         * it in a moment: the open's caller looks at once. */
        virShimStatus now;
        qemuDomObj *obj;
        pthread_mutex_lock(&d->lock);
        if ((obj = domFindName(d, e->d_name)) && obj->active &&
            virShimStateRead(gdir, &now) == 0)
            domStatus(d, obj, &now);
        pthread_mutex_unlock(&d->lock);
    }
    closedir(dir);
    virResetLastError();
    virErrorSetQuiet(quiet);
}

/* ---- connections --------------------------------------------------------------- */

static void driverFree(qemuDriver *d)
{
    virObjListClear(&d->doms);
    for (size_t i = 0; i < d->ncleanups; i++)
        free(d->cleanups[i]);
    free(d->cleanups);
    if (d->epfd >= 0)
        close(d->epfd);
    if (d->wakefd >= 0)
        close(d->wakefd);
    if (d->inofd >= 0)
        close(d->inofd);
    free(d->dirWatches);
    free(d->watchIn);
    virEventStateFree(d->events);
    pthread_cond_destroy(&d->changed);
    pthread_mutex_destroy(&d->lock);
    pthread_mutex_destroy(&d->defineLock);
    free(d);
}

int qemuDriverOpen(virConnectPtr conn, const char *path, const qemuURIParams *params,
                   const virSupGroupConfig *group)
{
    qemuDriver *d;
    qemuDomainDef **defs = NULL;
    int ndefs, errors = 0;
    struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 0 };

    if (!VIR_ALLOC(d))
        return -1;
    pthread_mutex_init(&d->defineLock, NULL);
    pthread_mutex_init(&d->lock, NULL);
    /* Timed waits on it (qemuDomainWaitState) count on the monotonic
     * clock: a step of the wall clock neither ends nor stretches them. */
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&d->changed, &ca);
    pthread_condattr_destroy(&ca);
    virObjListInit(&d->doms, VIR_OBJ_LIST_DOMAINS, VIR_FROM_QEMU, &d->lock, &domainOps);
    d->epfd = d->wakefd = d->inofd = d->runWd = -1;
    if (!(d->watchIn = virAllocN(1, sizeof(*d->watchIn))) || !(d->events = virEventStateNew()))
        goto error;
    if (qemuConfigInit(&d->cfg, path, params) < 0)
        goto error;
    if ((d->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
        (d->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0 ||
        epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->wakefd, &ev) < 0) {
        virReportSystemError(errno, "%s", "cannot set up the guests' watcher");
        goto error;
    }
    if ((ndefs = qemuDefLoadAll(&d->cfg, &defs, &errors)) < 0)
        goto error;
    virResetLastError();
    for (int i = 0; i < ndefs; i++) {
        qemuDomObj *obj = NULL;
        if (domFindUUID(d, defs[i]->uuid) || !(obj = domAdd(d, defs[i]))) {
            free(defs[i]);
            continue;
        }
        obj->persistent = true;
        /* Why its last run ended, if a connection recorded it: as a
         * client of libvirt's daemon is told (a running guest's state
         * comes from its run directory below). */
        int last = qemuEndedRead(&d->cfg, obj->def->name, NULL);
        if (last > 0)
            obj->reason = last;
    }
    free(defs);
    runDirWatch(d);
    reconnectAll(d);
    if (virDriverJobGuardOpen(&d->guard, group) < 0)
        goto error;
    d->guardOpen = true;
    if (pthread_create(&d->watcher, NULL, watcherMain, d) != 0) {
        virReportSystemError(errno, "%s", "cannot start the guests' watcher thread");
        virDriverJobGuardClose(&d->guard);
        d->guardOpen = false;
        goto error;
    }
    d->watcherRunning = true;
    conn->privateData = d;
    return 0;
 error:
    driverFree(d);
    return -1;
}

void qemuDriverClose(virConnectPtr conn)
{
    qemuDriver *d = driverOf(conn);
    uint64_t one = 1;

    /* Waits for the connection's jobs: their commit and done functions
     * take the driver lock, so it must not be held here. */
    if (d->guardOpen) {
        virDriverJobGuardClose(&d->guard);
        d->guardOpen = false;
    }
    pthread_mutex_lock(&d->lock);
    d->stop = true;
    pthread_mutex_unlock(&d->lock);
    if (d->watcherRunning) {
        (void)!write(d->wakefd, &one, sizeof(one));
        pthread_join(d->watcher, NULL);
        d->watcherRunning = false;
    }
    /* Guests it was putting back (markClosed): no new one starts now. */
    pthread_mutex_lock(&d->lock);
    while (d->recovering)
        pthread_cond_wait(&d->changed, &d->lock);
    pthread_mutex_unlock(&d->lock);
    virEventStateConnClosed(d->events, conn);
    /* The guests run on: only our view of them goes. */
    pthread_mutex_lock(&d->lock);
    for (size_t i = 0; i < d->doms.n; i++)
        unwatch(d, (qemuDomObj *)d->doms.items[i]);
    for (size_t i = 0; i < d->ncleanups; i++)
        cleanupFree(d, d->cleanups[i]);
    d->ncleanups = 0;
    pthread_mutex_unlock(&d->lock);
}

void qemuDriverFree(virConnectPtr conn)
{
    if (conn->privateData)
        driverFree(conn->privateData);
    conn->privateData = NULL;
}

/* ---- listing, lookup, accessors ---------------------------------------------------- */

static int qemuConnectListAllDomains(virConnectPtr conn, virDomainPtr **doms,
                                     unsigned int flags)
{
    virCheckFlags(VIR_OBJ_LIST_DOMAIN_FLAGS, -1);
    adoptWithoutInotify(driverOf(conn));
    return virObjListExport(&driverOf(conn)->doms, conn, NULL, flags, (void ***)doms);
}

static virDomainPtr domHandle(virConnectPtr conn, const qemuDomObj *obj)
{
    virDomainPtr dom = virGetDomain(conn, obj->def->name, obj->def->uuid);
    if (!dom)
        virReportOOMError();
    return dom;
}

static virDomainPtr qemuDomainLookupByName(virConnectPtr conn, const char *name)
{
    adoptWithoutInotify(driverOf(conn));
    return virObjListLookup(&driverOf(conn)->doms, conn, name, NULL, -1);
}

static virDomainPtr qemuDomainLookupByUUID(virConnectPtr conn, const unsigned char *uuid)
{
    adoptWithoutInotify(driverOf(conn));
    return virObjListLookup(&driverOf(conn)->doms, conn, NULL, uuid, -1);
}

/* A domain has an ID from the moment its start prepares QEMU (libvirt's
 * rule: a domain with an ID is active) until it ends. */
static virDomainPtr qemuDomainLookupByID(virConnectPtr conn, int id)
{
    adoptWithoutInotify(driverOf(conn));
    return virObjListLookup(&driverOf(conn)->doms, conn, NULL, NULL, id);
}

static int qemuDomainGetID(virDomainPtr dom)
{
    return virObjListGetID(&driverOf(dom->conn)->doms, dom->uuid, dom->name);
}

/* QEMU's CPU time (all its threads), if it is still the process the shim
 * started. */
static unsigned long long cpuTimeNs(const virShimStatus *st)
{
    virProcessStatInfo ps;
    long tck = sysconf(_SC_CLK_TCK);

    if (st->child_pid <= 0 || virProcessStat(st->child_pid, &ps) < 0 ||
        ps.start_ticks != st->child_start || tck <= 0)
        return 0;
    return (ps.utime_ticks + ps.stime_ticks) * (1000000000ull / (unsigned long long)tck);
}

static int qemuDomainGetInfo(virDomainPtr dom, virDomainInfoPtr info)
{
    qemuDriver *d;
    qemuDomObj *obj;
    virShimStatus st;

    adoptWithoutInotify(driverOf(dom->conn));
    if (!(obj = domLock(dom, &d)))
        return -1;
    memset(info, 0, sizeof(*info));
    info->state = (unsigned char)obj->state;
    info->maxMem = obj->def->memoryKiB;
    info->memory = obj->def->currentMemoryKiB;
    info->nrVirtCpu = (unsigned short)(obj->active ? obj->def->vcpusCurrent : obj->def->vcpus);
    bool active = obj->active;
    st = obj->shim;
    pthread_mutex_unlock(&d->lock);
    if (active)
        info->cpuTime = cpuTimeNs(&st);
    return 0;
}

static int qemuDomainGetState(virDomainPtr dom, int *state, int *reason, unsigned int flags)
{
    virCheckFlags(0, -1);
    adoptWithoutInotify(driverOf(dom->conn));
    return virObjListGetState(&driverOf(dom->conn)->doms, dom->uuid, dom->name, state,
                              reason);
}

static char *qemuDomainGetXMLDesc(virDomainPtr dom, unsigned int flags)
{
    qemuDriver *d;
    qemuDomObj *obj;
    qemuDomainDef *copy;
    qemuLiveInfo live = { -1 };
    char *xml;

    virCheckFlags(VIR_DOMAIN_XML_SECURE | VIR_DOMAIN_XML_INACTIVE, NULL);
    if (!(obj = domLock(dom, &d)))
        return NULL;
    if (obj->active && !(flags & VIR_DOMAIN_XML_INACTIVE))
        live.id = obj->item.id;
    copy = qemuDefCopy(obj->def);
    pthread_mutex_unlock(&d->lock);
    if (!copy)
        return NULL;
    xml = qemuDomainDefFormat(copy, &live);
    free(copy);
    return xml;
}

int qemuDomainWaitState(virDomainPtr dom, int state, int timeout_ms, int *reason)
{
    qemuDriver *d;
    qemuDomObj *obj;
    struct timespec until;
    int rc = 0;

    clock_gettime(CLOCK_MONOTONIC, &until);   /* d->changed's clock */
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    if (!(obj = domLock(dom, &d)))
        return -1;
    for (;;) {
        if (!(obj = domFindUUID(d, dom->uuid))) {
            /* A transient domain went away: it is shut off. */
            if (state == VIR_DOMAIN_SHUTOFF)
                break;
            rc = -1;
            virReportError(VIR_ERR_NO_DOMAIN, "no domain '%s' any more", dom->name);
            break;
        }
        if (obj->state == state) {
            if (reason)
                *reason = obj->reason;
            break;
        }
        if (pthread_cond_timedwait(&d->changed, &d->lock, &until) == ETIMEDOUT) {
            virReportError(VIR_ERR_OPERATION_TIMEOUT, "domain '%s' did not reach state %d "
                           "within %d ms (it is in state %d, reason %d)", dom->name, state,
                           timeout_ms, obj->state, obj->reason);
            rc = -1;
            break;
        }
    }
    pthread_mutex_unlock(&d->lock);
    return rc;
}

/* ---- jobs ----------------------------------------------------------------------- */

typedef enum { QJ_PARSE, QJ_START, QJ_SAVE, QJ_RESTORE, QJ_DUMP, QJ_TAPS } qemuJobKind;

typedef struct qemuJob {
    virConnectPtr conn;       /* a memory reference */
    qemuJobKind kind;
    bool holdsSlot;
    uint8_t uuid[16];
    uint64_t token;
    qemuDomainDef *def;       /* parse: the checked result */
    virShimStatus shim;       /* start, restore: the guest's shim, to stop on failure */
    virDriverJobOutput out;   /* save: the image; dump: the core */
    bool wasRunning;          /* save: the guest ran when the save began */
    char askFailed[200];      /* save: why QEMU did not say so ("": it did) */
    char runDir[PATH_MAX];    /* save: the guest's run directory */
    qemuImageHeader hdr;      /* restore: the image's header, as checked */
    unsigned int flags;       /* dump: virDomainCoreDumpFlags */
    /* restore: the guest is started on its own thread while the worker
     * feeds the first records (restoreStartMain); commit and done wait
     * for it under @prepLock. */
    pthread_mutex_t prepLock;
    pthread_cond_t prepCond;
    bool prepBusy;            /* the thread may still use this job */
    int handoff;              /* the library's end of the worker's "shim" socket */
    int startLock;            /* start, restore: RUN/NAME/starting, locked until the
                                 start is committed or has failed (startingLock) */
    int jobMark;              /* save, dump: RUN/NAME/job, locked until the slot is
                                 released (guestJobMark) */
} qemuJob;

static void qemuJobFree(void *opaque)
{
    qemuJob *qj = opaque;
    if (!qj)
        return;
    free(qj->def);
    virDriverJobOutputClear(&qj->out);
    virForceClose(&qj->handoff);
    heldClose(&qj->startLock);
    heldClose(&qj->jobMark);
    pthread_cond_destroy(&qj->prepCond);
    pthread_mutex_destroy(&qj->prepLock);
    virConnectRelease(qj->conn);
    free(qj);
}

static qemuJob *qemuJobNew(virConnectPtr conn, qemuJobKind kind)
{
    qemuJob *qj;
    if (!VIR_ALLOC(qj))
        return NULL;
    qj->kind = kind;
    qj->handoff = qj->startLock = qj->jobMark = -1;
    pthread_mutex_init(&qj->prepLock, NULL);
    pthread_cond_init(&qj->prepCond, NULL);
    virDriverJobOutputInit(&qj->out);
    virConnectHold(conn);
    qj->conn = conn;
    return qj;
}

static void jobReleaseSlot(qemuDriver *d, qemuJob *qj)
{
    qemuDomObj *obj;

    if (!qj->holdsSlot)
        return;
    if ((obj = domFindUUID(d, qj->uuid)) && virDriverJobSlotRelease(&obj->slot, qj->token) &&
        !obj->persistent && !obj->active)
        domRemove(d, obj);
    qj->holdsSlot = false;
    /* Emptied before the lock goes: a record left in a free mark means a
     * job that never reached this point (jobMarkRecover). */
    if (qj->jobMark >= 0 && ftruncate(qj->jobMark, 0) < 0) {
        /* then the next one to take it puts back a guest that is fine */
    }
    heldClose(&qj->jobMark);
}

/* libvirt's operation of a job of op @opname. */
static int jobOperation(const char *opname)
{
    if (opname && STREQ(opname, QEMU_OP_DOMAIN_START))
        return VIR_DOMAIN_JOB_OPERATION_START;
    if (opname && STREQ(opname, QEMU_OP_DOMAIN_DUMP))
        return VIR_DOMAIN_JOB_OPERATION_DUMP;
    if (opname && STREQ(opname, QEMU_OP_DOMAIN_SAVE))
        return VIR_DOMAIN_JOB_OPERATION_SAVE;
    if (opname && STREQ(opname, QEMU_OP_DOMAIN_RESTORE))
        return VIR_DOMAIN_JOB_OPERATION_RESTORE;
    return VIR_DOMAIN_JOB_OPERATION_UNKNOWN;
}

/* A domain's job ended: keep its figures for GetJobStats(COMPLETED) and,
 * when it completed, raise JOB_COMPLETED with the same figures, as libvirt
 * does (a commit thread, driver lock not held). */
static void jobRecordEnd(qemuDriver *d, virJobPtr job, const qemuJob *qj, virJobState state,
                         const virError *error)
{
    virDriverJobStats st;
    qemuDomObj *obj;

    if (!qj->holdsSlot)
        return;
    virDriverJobStatsEnded(job, jobOperation(virSupJobGetOp(job)->name), state, error, &st);
    pthread_mutex_lock(&d->lock);
    if ((obj = domFindUUID(d, qj->uuid))) {
        obj->lastJob = st;
        if (state == VIR_JOB_COMPLETE) {
            virTypedParameterPtr params = NULL;
            int nparams = 0;
            if (virDriverJobStatsParams(&st, &params, &nparams) == 0) {
                virEventStateQueueDomain(d->events, VIR_DOMAIN_EVENT_ID_JOB_COMPLETED,
                                         obj->def->name, obj->def->uuid, params, nparams);
                virTypedParamsFree(params, nparams);
            }
        }
    }
    pthread_mutex_unlock(&d->lock);
}

static int commitParse(virJobPtr job, void *opaque, const void *result, size_t len)
{
    qemuJob *qj = opaque;
    const char *why;

    (void)job;
    if (!result || len < sizeof(qemuDomainDef) || len > QEMU_DEF_MAX) {
        virReportError(VIR_ERR_OPERATION_FAILED, "the worker returned a definition of %zu "
                       "bytes", len);
        return -1;
    }
    if (!(qj->def = virAllocN(len, 1)))
        return -1;
    memcpy(qj->def, result, len);
    if (qemuDomainDefCheck(qj->def, len, &why) < 0) {
        virReportError(VIR_ERR_OPERATION_FAILED, "the worker returned an invalid domain "
                       "definition: %s", why);
        free(qj->def);
        qj->def = NULL;
        return -1;
    }
    return 0;
}

static int commitStart(virJobPtr job, void *opaque, const void *result, size_t len);
static void doneStart(virJobPtr job, void *opaque, virJobState state, const virError *error);

/* The start job's worker gets one thing: a connection to the guest's shim. */
static const virSupFdSpec startFds[] = { { "shim", VIR_SUP_FD_SOCKET } };
static const virSupProfile startProfile = {
    .name = "qemu.start", .fds = startFds, .nfds = 1,
};

static int commitSave(virJobPtr job, void *opaque, const void *result, size_t len);
static void doneSave(virJobPtr job, void *opaque, virJobState state, const virError *error);

/* Save: the guest's shim (QMP), both ends of the pipe QEMU migrates into
 * (the write end goes to QEMU with getfd), the unnamed image file. */
static const virSupFdSpec saveFds[] = {
    { "shim", VIR_SUP_FD_SOCKET }, { "pipe", VIR_SUP_FD_PIPE_READ },
    { "qemu", VIR_SUP_FD_PIPE_WRITE }, { "output", VIR_SUP_FD_WRITE },
};
static const virSupProfile saveProfile = {
    .name = "qemu.save", .fds = saveFds, .nfds = 4,
};

/* Restore: the new guest's shim (subscribed), the image, both ends of
 * the pipe QEMU loads from (the read end goes to QEMU with getfd). */
static const virSupFdSpec restoreFds[] = {
    { "shim", VIR_SUP_FD_SOCKET }, { "image", VIR_SUP_FD_READ },
    { "pipe", VIR_SUP_FD_PIPE_WRITE }, { "qemu", VIR_SUP_FD_PIPE_READ },
};
static const virSupProfile restoreProfile = {
    .name = "qemu.restore", .fds = restoreFds, .nfds = 4,
};

static int commitDump(virJobPtr job, void *opaque, const void *result, size_t len);
static void doneDump(virJobPtr job, void *opaque, virJobState state, const virError *error);

/* The dump job's worker: the shim connection (QMP, and the pipe's write
 * end goes to QEMU through it) and the unnamed file it writes. */
static const virSupFdSpec dumpFds[] = {
    { "shim", VIR_SUP_FD_SOCKET },
    { "output", VIR_SUP_FD_WRITE },
};
static const virSupProfile dumpProfile = {
    .name = "qemu.dump", .fds = dumpFds, .nfds = 2,
};

/* The taps job's worker: CAP_NET_ADMIN, netlink sockets, and the
 * descriptors of /dev/net/tun it turns into taps (one per interface). */
const virSupProfile qemuTapsProfile = {
    .name = "qemu.taps", .caps = 1ULL << CAP_NET_ADMIN, .syscalls = VIR_SUP_SYSCALLS_NETLINK,
};

/* The parse job's worker reads the domain XML: libxml2, nothing else. */
static const virSupProfile parseProfile = {
    .name = "qemu.parse", .libs = VIR_SUP_LIB_XML,
};

static const virSupOp qemuOps[] = {
    [QJ_PARSE] = { QEMU_OP_DOMAIN_PARSE, VIR_JOB_BOUNDED, &parseProfile, commitParse, NULL },
    [QJ_START] = { QEMU_OP_DOMAIN_START, VIR_JOB_BOUNDED, &startProfile, commitStart,
                   doneStart },
    [QJ_SAVE] = { QEMU_OP_DOMAIN_SAVE, VIR_JOB_BOUNDED, &saveProfile, commitSave, doneSave },
    [QJ_RESTORE] = { QEMU_OP_DOMAIN_RESTORE, VIR_JOB_BOUNDED, &restoreProfile, commitStart,
                     doneStart },
    [QJ_DUMP] = { QEMU_OP_DOMAIN_DUMP, VIR_JOB_BOUNDED, &dumpProfile, commitDump, doneDump },
    [QJ_TAPS] = { QEMU_OP_DOMAIN_TAPS, VIR_JOB_BOUNDED, &qemuTapsProfile, NULL, NULL },
};

/* Give up @qj before its job exists: release its slot, free it, keep this
 * thread's error. */
static void jobAbandon(qemuDriver *d, qemuJob *qj)
{
    pthread_mutex_lock(&d->lock);
    jobReleaseSlot(d, qj);
    pthread_mutex_unlock(&d->lock);
    virErrorPtr saved = virSaveLastError();
    qemuJobFree(qj);
    virRestoreLastError(&saved);
}

/* Create the job of @qj (consumed). On failure its slot is released. */
static virJobPtr jobStart(qemuJob *qj, const void *params, size_t len, const int *fds,
                          size_t nfds, const char *target)
{
    qemuDriver *d = driverOf(qj->conn);
    virSupJobParams sp = { 0 };
    virJobPtr job;
    uint64_t token = qj->token;
    bool holdsSlot = qj->holdsSlot;
    uint8_t uuid[16];

    memcpy(uuid, qj->uuid, sizeof(uuid));
    sp.op = &qemuOps[qj->kind];
    sp.target = target;
    sp.params = params;
    sp.paramslen = len;
    sp.fds = fds;
    sp.nfds = nfds;
    sp.opaque = qj;
    sp.opaque_free = qemuJobFree;
    /* From here the job owns qj (when created): done may run at once. */
    if (!(job = virDriverJobCreate(&d->guard, &sp)))
        goto error;
    if (holdsSlot) {
        qemuDomObj *obj;
        char seg[JOB_MARK_RECORD];
        pthread_mutex_lock(&d->lock);
        if ((obj = domFindUUID(d, uuid)))
            virDriverJobSlotSetJob(&obj->slot, token, job);
        /* The slot still ours: the done step has not released it, so @qj
         * and its mark are still there. The job's number and segment go
         * on the mark, for other processes' job statistics. */
        if (obj && obj->slot.job == job && qj->jobMark >= 0 &&
            virSupJobSegmentPath(job, seg, sizeof(seg)) == 0)
            (void)jobMarkWrite(qj->jobMark, qemuOps[qj->kind].name,
                               (unsigned long long)virSupJobGetID(job),
                               qj->kind == QJ_SAVE ? qj->wasRunning : -1, seg);
        pthread_mutex_unlock(&d->lock);
    }
    return job;

 error:
    jobAbandon(d, qj);
    return NULL;
}

/* Run the job of @qj (consumed) to its end and wait: 0 when it completed
 * (then *@defOut, if given, takes a parse job's definition), else -1 with
 * the job's error as this thread's, @what when it has none. */
static int jobRunWait(qemuJob *qj, const void *params, size_t len, const int *fds, size_t nfds,
                      const char *target, const char *what, qemuDomainDef **defOut)
{
    virJobPtr job;
    virJobInfo info;
    int rc = -1;

    if (!(job = jobStart(qj, params, len, fds, nfds, target)))
        return -1;
    if (virJobWait(job, -1) < 0 || virJobGetInfo(job, &info) < 0) {
        virJobDestroy(job);
        return -1;
    }
    if (info.state != VIR_JOB_COMPLETE) {
        virErrorPtr e = virJobGetError(job);
        if (e)
            virReportErrorFull(e->domain, e->code, 0, "%s", e->message ? e->message : "failed");
        else
            virReportError(VIR_ERR_OPERATION_FAILED, "%s", what);
    } else {
        qemuJob *done = virSupJobGetOpaque(job);
        if (defOut) {
            *defOut = done->def;
            done->def = NULL;
        }
        rc = 0;
    }
    /* virJobDestroy, a public call, resets this thread's last error. */
    virErrorPtr saved = rc < 0 ? virSaveLastError() : NULL;
    virJobDestroy(job);
    if (rc < 0)
        virRestoreLastError(&saved);
    return rc;
}

/* Parse @xml in a worker and wait: the checked definition, or NULL. */
static qemuDomainDef *parseXML(virConnectPtr conn, const char *xml)
{
    size_t xmllen = xml ? strlen(xml) : 0;
    VIR_AUTOFREE(uint8_t *) blob = NULL;
    qemuParseParams p = { QEMU_PARSE_MAGIC, (uint32_t)xmllen };
    qemuJob *qj;
    qemuDomainDef *def = NULL;

    if (xmllen > QEMU_XML_MAX) {
        virReportError(VIR_ERR_XML_ERROR, "domain XML is too large: %zu bytes (at most %d)",
                       xmllen, QEMU_XML_MAX);
        return NULL;
    }
    if (!(blob = virAllocN(sizeof(p) + xmllen + 1, 1)) || !(qj = qemuJobNew(conn, QJ_PARSE)))
        return NULL;
    memcpy(blob, &p, sizeof(p));
    if (xmllen)
        memcpy(blob + sizeof(p), xml, xmllen);
    if (jobRunWait(qj, blob, sizeof(p) + xmllen, NULL, 0, "parse-xml",
                   "parsing the domain XML failed", &def) < 0)
        return NULL;
    return def;
}

/* ---- define, undefine ---------------------------------------------------------------- */

static virDomainPtr qemuDomainDefineXML(virConnectPtr conn, const char *xml)
{
    qemuDriver *d = driverOf(conn);
    qemuDomainDef *def = parseXML(conn, xml);
    qemuDomObj *obj;
    virObjListItem *found;
    virDomainPtr dom = NULL;

    if (!def)
        return NULL;
    if (qemuDomainDefSupported(&d->cfg, def) < 0) {
        free(def);
        return NULL;
    }
    /* Checked, written without the driver's lock, checked again: only a
     * guest of a transient domain that ended can have gone meanwhile
     * (defineLock keeps out whatever else would change the answer). */
    pthread_mutex_lock(&d->defineLock);
    pthread_mutex_lock(&d->lock);
    int clash = virObjListFindForDefine(&d->doms, def->name, def->uuid, &found);
    pthread_mutex_unlock(&d->lock);
    if (clash < 0 || qemuDefSave(&d->cfg, def) < 0) {
        pthread_mutex_unlock(&d->defineLock);
        free(def);
        return NULL;
    }
    pthread_mutex_lock(&d->lock);
    if (virObjListFindForDefine(&d->doms, def->name, def->uuid, &found) < 0)
        goto out;
    obj = (qemuDomObj *)found;
    bool added = !obj;
    if (!obj) {
        if (!(obj = domAdd(d, def)))
            goto out;
        def = NULL;
    } else if (obj->active) {
        /* Used from the next start; what runs now is unchanged. */
        free(obj->nextDef);
        obj->nextDef = def;
        def = NULL;
    } else {
        free(obj->def);
        obj->def = def;
        def = NULL;
    }
    obj->persistent = true;
    domEvent(d, obj, VIR_DOMAIN_EVENT_DEFINED,
             added ? VIR_DOMAIN_EVENT_DEFINED_ADDED : VIR_DOMAIN_EVENT_DEFINED_UPDATED);
    dom = domHandle(conn, obj);
 out:
    pthread_mutex_unlock(&d->lock);
    pthread_mutex_unlock(&d->defineLock);
    free(def);
    return dom;
}

static int qemuDomainUndefine(virDomainPtr dom)
{
    qemuDriver *d;
    qemuDomObj *obj;
    int ret = -1;

    d = driverOf(dom->conn);
    pthread_mutex_lock(&d->defineLock);
    if (!(obj = domLock(dom, &d))) {
        pthread_mutex_unlock(&d->defineLock);
        return -1;
    }
    if (virDriverJobSlotCheckFree(&obj->slot, "domain", obj->def->name) < 0) {
        /* reported */
    } else if (!obj->persistent) {
        virReportError(VIR_ERR_OPERATION_INVALID, "cannot undefine transient domain '%s'",
                       obj->def->name);
    } else if (qemuDefDelete(&d->cfg, obj->def->name) == 0) {
        ret = 0;
        domEvent(d, obj, VIR_DOMAIN_EVENT_UNDEFINED, VIR_DOMAIN_EVENT_UNDEFINED_REMOVED);
        if (obj->active) {
            obj->persistent = false;
            free(obj->nextDef);
            obj->nextDef = NULL;
        } else {
            domRemove(d, obj);
        }
    }
    pthread_mutex_unlock(&d->lock);
    pthread_mutex_unlock(&d->defineLock);
    return ret;
}

/* ---- start ------------------------------------------------------------------------- */

/* Stop a shim we started for a start that will not happen (its QEMU goes
 * with it). No round trip: a signal to the shim, checked by identity. */
static void stopShim(const virShimStatus *st)
{
    if (st->shim_pid > 0)
        (void)virProcessKillIdentity(st->shim_pid, st->shim_start, SIGTERM);
}

static int writeStatus(qemuDomObj *obj)
{
    qemuStatusHeader hdr = {
        .id = obj->item.id, .started = obj->started, .state = obj->state, .reason = obj->reason,
        .persistent = obj->persistent, .destroying = obj->destroying,
        .flags = (obj->saved ? QEMU_STATUS_SAVED : 0) | (obj->restored ? QEMU_STATUS_RESTORED : 0),
    };
    return qemuStatusWrite(obj->runDir, &hdr, obj->def);
}

/* ---- guests' taps ---- */

static const char *netTypeName(const qemuNetDef *n)
{
    return n->type == QEMU_NET_NETWORK ? "network" : "bridge";
}

/* Check that the tap behind @fd is on @bridge; its name into @ifname. */
static int tapCheck(virNetlinkSock *nl, int fd, const char *bridge, char *ifname)
{
    virNetlinkLink br, tap;

    if (virNetDevTapName(fd, ifname) < 0)
        return -1;
    if (virNetlinkLinkGet(nl, bridge, &br) != 1 || virNetlinkLinkGet(nl, ifname, &tap) != 1 ||
        tap.master != br.ifindex || !(tap.flags & IFF_UP)) {
        virReportError(VIR_ERR_OPERATION_FAILED, "the tap '%s' is not up on bridge '%s'",
                       ifname, bridge);
        return -1;
    }
    return 0;
}

void qemuTapsClose(int *tapfds)
{
    for (int i = 0; i < QEMU_NETS_MAX; i++)
        virForceClose(&tapfds[i]);
}

int qemuTapsPrepare(virConnectPtr conn, const qemuDomainDef *def, int *tapfds)
{
    qemuTapParams p = { .magic = QEMU_TAPS_MAGIC };
    int fds[QEMU_NETS_MAX], idx[QEMU_NETS_MAX];
    virNetlinkSock *nl = NULL;
    qemuJob *qj;

    for (int i = 0; i < QEMU_NETS_MAX; i++)
        tapfds[i] = -1;
    for (uint32_t i = 0; i < def->nnets; i++) {
        const qemuNetDef *n = &def->nets[i];
        const char *src = qemuDefStr(def, n->source), *want = qemuDefStr(def, n->ifname);
        qemuTapEntry *t = &p.taps[p.ntaps];

        if (n->type != QEMU_NET_NETWORK && n->type != QEMU_NET_BRIDGE)
            continue;
        if (geteuid() != 0) {
            virReportError(VIR_ERR_CONFIG_UNSUPPORTED, "interface type '%s' (%s '%s') needs "
                           "qemu:///system: a tap on a bridge needs CAP_NET_ADMIN, which this "
                           "process does not have", netTypeName(n), netTypeName(n), src);
            goto error;
        }
        if (n->type == QEMU_NET_NETWORK) {
            if (networkActiveBridge(conn, src, t->bridge) < 0)
                goto error;
        } else if (strlen(src) >= sizeof(t->bridge)) {
            virReportError(VIR_ERR_CONFIG_UNSUPPORTED, "bridge name '%s' is longer than a "
                           "network interface name (15 bytes)", src);
            goto error;
        } else {
            virStrcpyTrunc(t->bridge, sizeof(t->bridge), src);
        }
        /* A name made up for an earlier run (vnetN) is made up again. */
        if (want && strncmp(want, "vnet", 4) != 0)
            virStrcpyTrunc(t->ifname, sizeof(t->ifname), want);
        memcpy(t->mac, n->mac, sizeof(t->mac));
        if ((tapfds[i] = open("/dev/net/tun", O_RDWR | O_CLOEXEC)) < 0) {
            virReportSystemError(errno, "cannot open /dev/net/tun for the tap of %s '%s'",
                                 netTypeName(n), src);
            goto error;
        }
        fds[p.ntaps] = tapfds[i];
        idx[p.ntaps++] = (int)i;
    }
    if (!p.ntaps)
        return 0;
    /* The worker makes the taps on the descriptors; ours are the same
     * devices, and QEMU gets them. */
    if (!(qj = qemuJobNew(conn, QJ_TAPS)) ||
        jobRunWait(qj, &p, sizeof(p), fds, p.ntaps, def->name,
                   "making the guest's taps failed", NULL) < 0)
        goto error;
    if (!(nl = virNetlinkOpen()))
        goto error;
    for (uint32_t k = 0; k < p.ntaps; k++) {
        char ifname[16];
        if (tapCheck(nl, tapfds[idx[k]], p.taps[k].bridge, ifname) < 0)
            goto error;
    }
    virNetlinkClose(nl);
    return 0;

 error:
    if (nl)
        virNetlinkClose(nl);
    qemuTapsClose(tapfds);
    return -1;
}

/* Everything a start needs, done with the caller's authority: the run
 * directory (made exclusively: another process starting the same guest
 * fails here), the status, the files and sockets, the shim. On success the
 * domain is active (paused, starting up) and watched, and @workerFd is a
 * connection to the shim for the start job's worker. Driver lock NOT held;
 * @obj's slot is ours. */
static int startPrepare(virConnectPtr conn, qemuDriver *d, const uint8_t *uuid, bool incoming,
                        int *workerFd, int *startLock,
                        virShimStatus *shim)
{
    int tapfds[QEMU_NETS_MAX];
    qemuDomObj *obj;
    qemuDomainDef *def = NULL;
    virShimSpecBuf *spec = NULL;
    char runDir[PATH_MAX], logPath[PATH_MAX];
    int logfd = -1, id, clients[2] = { -1, -1 }, rc = -1, lock = -1;
    virShimStatus st;
    struct stat sb;
    bool madeDir = false;

    for (int i = 0; i < QEMU_NETS_MAX; i++)
        tapfds[i] = -1;
    pthread_mutex_lock(&d->lock);
    if ((obj = domFindUUID(d, uuid)))
        def = qemuDefCopy(obj->def);
    pthread_mutex_unlock(&d->lock);
    if (!def)
        return -1;
    snprintf(runDir, sizeof(runDir), "%s/%s", d->cfg.runDir, def->name);
    /* Another process may be starting the same guest: one at a time. */
    if ((lock = runLock(&d->cfg, def->name, true)) < 0)
        goto out;
    if (mkdir(runDir, 0700) < 0) {
        virShimStatus old;
        if (errno != EEXIST) {
            virReportSystemError(errno, "cannot create the run directory %s", runDir);
            goto out;
        }
        /* Left by a guest that just ended (its shim exiting), that ended
         * while nobody watched, or by a crash. */
        bool quiet = virErrorSetQuiet(true);
        int haveOld = virShimStateRead(runDir, &old);
        virErrorSetQuiet(quiet);
        if (haveOld == 0 && virShimOwnerAlive(&old)) {
            /* Its guest has ended: the shim is on its way out. */
            if (old.child_state == VIR_SHIM_CHILD_EXITED)
                (void)virProcessWaitGone(old.shim_pid, old.shim_start, 10000);
            if (virShimOwnerAlive(&old)) {
                virReportError(VIR_ERR_OPERATION_INVALID, "domain '%s' is already running "
                               "(started by another process: shim %d)", def->name,
                               old.shim_pid);
                goto out;
            }
        }
        virResetLastError();
        if (qemuRemoveDir(runDir) < 0 || mkdir(runDir, 0700) < 0) {
            virReportSystemError(errno, "cannot make the run directory %s afresh", runDir);
            goto out;
        }
    }
    madeDir = true;
    if ((*startLock = startingLock(runDir)) < 0 || (id = qemuNextID(&d->cfg)) < 0)
        goto out;
    /* A new run: the reason of the last one's end no longer says anything. */
    qemuEndedForget(&d->cfg, def->name);
    pthread_mutex_lock(&d->lock);
    obj = domFindUUID(d, uuid);
    if (obj) {
        virStrcpyTrunc(obj->runDir, sizeof(obj->runDir), runDir);
        obj->item.id = id;
        obj->started = obj->destroying = obj->restored = false;
        obj->state = VIR_DOMAIN_SHUTOFF;
        if (writeStatus(obj) < 0)
            obj = NULL;
    }
    pthread_mutex_unlock(&d->lock);
    if (!obj)
        goto out;
    if (qemuTapsPrepare(conn, def, tapfds) < 0)
        goto out;
    if (!(spec = qemuBuildLaunchTaps(&d->cfg, def, runDir, incoming, tapfds)))
        goto out;
    snprintf(logPath, sizeof(logPath), "%s/%s.log", d->cfg.logDir, def->name);
    if (stat(logPath, &sb) == 0 && sb.st_size > 512 * 1024) {
        char old[PATH_MAX + 8];
        snprintf(old, sizeof(old), "%s.old", logPath);
        (void)rename(logPath, old);
    }
    if ((logfd = open(logPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0) {
        virReportSystemError(errno, "cannot open the guest's log %s", logPath);
        goto out;
    }
    if (virShimSpawn(runDir, logfd, spec, clients, 2, 30000, &st) < 0)
        goto out;
    madeDir = false;   /* the shim's now; the watcher cleans it at the end */
    /* ... and may do so at once, once it watches: a QEMU that exits at
     * start-up ends the shim before this returns. Its removal only tries
     * the run lock (it runs under the driver's lock), so the lock goes
     * now, before the watch: the shim's record protects the directory
     * from here on (removers check the shim's identity). */
    virForceClose(&lock);
    pthread_mutex_lock(&d->lock);
    if ((obj = domFindUUID(d, uuid))) {
        obj->shim = st;
        obj->active = true;
        setState(d, obj, VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_STARTING_UP);
        if (watch(d, obj, clients[0]) == 0) {
            clients[0] = -1;
            rc = 0;
        }
    }
    pthread_mutex_unlock(&d->lock);
    if (rc < 0) {
        stopShim(&st);
        goto out;
    }
    *workerFd = clients[1];
    clients[1] = -1;
    *shim = st;
 out:
    if (madeDir)
        (void)qemuRemoveDir(runDir);
    virForceClose(&lock);
    virForceClose(&clients[0]);
    virForceClose(&clients[1]);
    virForceClose(&logfd);
    /* QEMU has its own duplicates: a tap lives exactly as long as QEMU. */
    qemuTapsClose(tapfds);
    virShimSpecFree(spec);
    free(def);
    return rc;
}

/* Take @obj's slot for a start (driver lock held). */
static int startTakeSlot(qemuDriver *d, qemuDomObj *obj, qemuJob *qj)
{
    (void)d;
    if (virDriverJobSlotCheckFree(&obj->slot, "domain", obj->def->name) < 0)
        return -1;
    if (obj->active) {
        virReportError(VIR_ERR_OPERATION_INVALID, "domain '%s' is already running",
                       obj->def->name);
        return -1;
    }
    if (virDriverJobSlotTake(&obj->slot, qemuOps[qj->kind].name, "domain", obj->def->name,
                             &qj->token) < 0)
        return -1;
    memcpy(qj->uuid, obj->def->uuid, 16);
    qj->holdsSlot = true;
    return 0;
}

static int streamPipe(int p[2]);

/* A start of the domain of @uuid failed before its shim ran: it is shut
 * off (failed) unless it runs after all. Driver lock held. */
static void startPrepareFailed(qemuDriver *d, const uint8_t *uuid)
{
    qemuDomObj *obj = domFindUUID(d, uuid);
    if (obj && !obj->active) {
        obj->item.id = -1;
        setState(d, obj, VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_FAILED);
    }
}

/* Start the guest of @qj (consumed): prepare it, then create the job that
 * follows it. */
static virJobPtr startJob(virConnectPtr conn, qemuJob *qj, const char *name)
{
    qemuDriver *d = driverOf(conn);
    qemuStartParams p = { .magic = QEMU_START_MAGIC, .monitorTimeoutMs = d->cfg.monitorTimeoutMs };
    int wfd = -1;
    virJobPtr job;

    virStrcpyTrunc(p.name, sizeof(p.name), name);
    if (startPrepare(conn, d, qj->uuid, false, &wfd, &qj->startLock, &qj->shim) < 0) {
        pthread_mutex_lock(&d->lock);
        startPrepareFailed(d, qj->uuid);
        jobReleaseSlot(d, qj);
        pthread_mutex_unlock(&d->lock);
        virErrorPtr saved = virSaveLastError();
        qemuJobFree(qj);
        virRestoreLastError(&saved);
        return NULL;
    }
    virShimStatus shim = qj->shim;
    job = jobStart(qj, &p, sizeof(p), &wfd, 1, name);
    close(wfd);
    if (!job)
        stopShim(&shim);   /* the watcher records the end */
    return job;
}

/* The restore's thread that starts the guest (startPrepare: run
 * directory, taps, shim, QEMU with -incoming defer) while the job's worker
 * already verifies and feeds the image's first records, then hands the
 * worker the connection to the shim, or the start's error
 * (qemuRestoreHandoff). The job's commit and done wait for it
 * (restoreStartWait); until then @qj lives. */
static void *restoreStartMain(void *opaque)
{
    qemuJob *qj = opaque;
    qemuDriver *d = driverOf(qj->conn);
    qemuRestoreHandoff h;
    virShimStatus shim;
    int wfd = -1, startLock = -1;
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int))];
    } cm;
    struct iovec iov = { &h, sizeof(h) };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

    memset(&h, 0, sizeof(h));
    memset(&shim, 0, sizeof(shim));
    if (startPrepare(qj->conn, d, qj->uuid, true, &wfd, &startLock, &shim) < 0) {
        virErrorPtr e = virGetLastError();
        h.code = e && e->code ? e->code : VIR_ERR_OPERATION_FAILED;
        virStrcpyTrunc(h.message, sizeof(h.message),
                       e && e->message ? e->message : "the guest could not be started");
        pthread_mutex_lock(&d->lock);
        startPrepareFailed(d, qj->uuid);
        pthread_mutex_unlock(&d->lock);
    } else {
        memset(&cm, 0, sizeof(cm));
        msg.msg_control = cm.buf;
        msg.msg_controllen = sizeof(cm.buf);
        struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
        cmsg->cmsg_level = SOL_SOCKET;
        cmsg->cmsg_type = SCM_RIGHTS;
        cmsg->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cmsg), &wfd, sizeof(int));
    }
    /* A worker that ended already (cancelled, killed) takes nothing: the
     * done step stops the shim. */
    ssize_t n;
    do {
        n = sendmsg(qj->handoff, &msg, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    virForceClose(&wfd);
    virResetLastError();
    pthread_mutex_lock(&qj->prepLock);
    qj->shim = shim;
    qj->startLock = startLock;
    virForceClose(&qj->handoff);
    qj->prepBusy = false;
    pthread_cond_broadcast(&qj->prepCond);
    /* The job may end and free @qj as soon as this lock is let go. */
    pthread_mutex_unlock(&qj->prepLock);
    return NULL;
}

/* Wait until the restore's start thread of @qj is done with it (a start
 * job has none). */
static void restoreStartWait(qemuJob *qj)
{
    pthread_mutex_lock(&qj->prepLock);
    while (qj->prepBusy)
        pthread_cond_wait(&qj->prepCond, &qj->prepLock);
    pthread_mutex_unlock(&qj->prepLock);
}

/* Restore the guest of @qj (consumed) from @imagefd (the image at @from):
 * the job's worker starts at once with the image and verifies and feeds
 * its first records (so the job shows progress within milliseconds)
 * while a thread starts the guest's shim and QEMU and then hands the
 * worker its connection to the shim. */
static virJobPtr restoreJob(virConnectPtr conn, qemuJob *qj, const char *name, int imagefd,
                            const char *from)
{
    qemuDriver *d = driverOf(conn);
    qemuRestoreParams rp = {
        .magic = QEMU_RESTORE_MAGIC, .monitorTimeoutMs = d->cfg.monitorTimeoutMs,
        .bandwidthBps = d->cfg.bandwidthBps, .header = qj->hdr,
    };
    int pfd[2] = { -1, -1 }, hand[2] = { -1, -1 };
    pthread_t tid;
    virJobPtr job;

    virStrcpyTrunc(rp.name, sizeof(rp.name), name);
    virStrcpyTrunc(rp.path, sizeof(rp.path), from);
    if (streamPipe(pfd) < 0)
        goto error;
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, hand) < 0) {
        virReportSystemError(errno, "%s", "cannot make a socket pair for the restore's worker");
        goto error;
    }
    qj->handoff = hand[0];
    hand[0] = -1;
    /* The job's commit and done wait for the thread from here on, so @qj
     * stays ours to give it; a job that is not created frees @qj with
     * nothing waiting. */
    qj->prepBusy = true;
    int fds[4] = { hand[1], imagefd, pfd[1], pfd[0] };
    job = jobStart(qj, &rp, sizeof(rp), fds, 4, name);
    virForceClose(&hand[1]);
    virForceClose(&pfd[0]);
    virForceClose(&pfd[1]);
    if (!job)
        return NULL;
    if (pthread_create(&tid, NULL, restoreStartMain, qj) != 0) {
        /* The worker sees its socket closed and fails the job, whose done
         * step gives the domain up. */
        pthread_mutex_lock(&d->lock);
        startPrepareFailed(d, qj->uuid);
        pthread_mutex_unlock(&d->lock);
        pthread_mutex_lock(&qj->prepLock);
        virForceClose(&qj->handoff);
        qj->prepBusy = false;
        pthread_cond_broadcast(&qj->prepCond);
        pthread_mutex_unlock(&qj->prepLock);
        return job;
    }
    pthread_detach(tid);
    return job;

 error:
    virForceClose(&pfd[0]);
    virForceClose(&pfd[1]);
    jobAbandon(d, qj);
    return NULL;
}

static virJobPtr qemuDomainCreateJob(virDomainPtr dom, unsigned int flags)
{
    qemuDriver *d;
    qemuDomObj *obj;
    qemuJob *qj;
    char name[QEMU_NAME_MAX];
    int rc;

    virCheckFlags(0, NULL);
    if (!(qj = qemuJobNew(dom->conn, QJ_START)))
        return NULL;
    if (!(obj = domLock(dom, &d))) {
        qemuJobFree(qj);
        return NULL;
    }
    rc = startTakeSlot(d, obj, qj);
    virStrcpyTrunc(name, sizeof(name), obj->def->name);
    pthread_mutex_unlock(&d->lock);
    if (rc < 0) {
        qemuJobFree(qj);
        return NULL;
    }
    return startJob(dom->conn, qj, name);
}

/* Run @def (taken) as its domain for @qj: a new transient domain, or the
 * defined one of that name and UUID, whose definition is used again after
 * (a restore from @from also requires the same memory size). Takes the
 * domain's slot. 0, or -1 reported. */
static int adoptDef(qemuDriver *d, qemuDomainDef *def, qemuJob *qj, const char *from)
{
    qemuDomObj *obj = NULL;
    virObjListItem *found;
    int rc = -1, clash;
    bool quiet = false;
    char what[PATH_MAX + 32] = "";

    if (from)
        snprintf(what, sizeof(what), "cannot restore from '%s': ", from);
    pthread_mutex_lock(&d->defineLock);
    pthread_mutex_lock(&d->lock);
    /* A restore's clash is reported once, with what was restored first. */
    if (from)
        quiet = virErrorSetQuiet(true);
    clash = virObjListFindForDefine(&d->doms, def->name, def->uuid, &found);
    if (from)
        virErrorSetQuiet(quiet);
    if (clash < 0) {
        if (from) {
            const char *msg = virGetLastErrorMessage();
            char clashMsg[1024];

            virStrcpyTrunc(clashMsg, sizeof(clashMsg), msg ? msg : "");
            virReportError(VIR_ERR_DOM_EXIST, "%s%s", what, clashMsg);
        }
    } else if ((obj = (qemuDomObj *)found) &&
               (obj->active || virDriverJobSlotBusy(&obj->slot))) {
        virReportError(VIR_ERR_OPERATION_INVALID, "%sdomain '%s' is already running or busy",
                       what, def->name);
    } else if (obj && from && obj->def->memoryKiB != def->memoryKiB) {
        virReportError(VIR_ERR_OPERATION_FAILED, "%sthe image holds %llu KiB of memory, "
                       "domain '%s' is defined with %llu KiB", what,
                       (unsigned long long)def->memoryKiB, def->name,
                       (unsigned long long)obj->def->memoryKiB);
    } else {
        if (!obj) {
            if ((obj = domAdd(d, def)))
                def = NULL;
        } else {
            /* A persistent domain started from other XML: this one runs,
             * the persistent one is used again after. */
            free(obj->nextDef);
            obj->nextDef = obj->def;
            obj->def = def;
            def = NULL;
        }
        if (obj)
            rc = startTakeSlot(d, obj, qj);
    }
    pthread_mutex_unlock(&d->lock);
    pthread_mutex_unlock(&d->defineLock);
    free(def);
    return rc;
}

static virJobPtr qemuDomainCreateXMLJob(virConnectPtr conn, const char *xml,
                                        unsigned int flags, bool linux_)
{
    qemuDriver *d = driverOf(conn);
    qemuDomainDef *def;
    qemuJob *qj;
    char name[QEMU_NAME_MAX];

    (void)linux_;
    virCheckFlags(0, NULL);
    /* The XML is parsed (in a worker) before the call returns, as libvirt's
     * virDomainCreateXML does: a malformed or unsupported definition is an
     * error of the call; the job is the start. */
    if (!(def = parseXML(conn, xml)))
        return NULL;
    if (qemuDomainDefSupported(&d->cfg, def) < 0 || !(qj = qemuJobNew(conn, QJ_START))) {
        free(def);
        return NULL;
    }
    virStrcpyTrunc(name, sizeof(name), def->name);
    if (adoptDef(d, def, qj, NULL) < 0) {
        qemuJobFree(qj);
        return NULL;
    }
    return startJob(conn, qj, name);
}

static int commitStart(virJobPtr job, void *opaque, const void *result, size_t len)
{
    qemuJob *qj = opaque;
    qemuDriver *d = driverOf(qj->conn);
    qemuDomObj *obj;
    virShimStatus st;
    virDomainPtr h = NULL;
    char runDir[PATH_MAX] = "", name[QEMU_NAME_MAX] = "";

    (void)result;
    (void)len;
    restoreStartWait(qj);
    pthread_mutex_lock(&d->lock);
    if ((obj = domFindUUID(d, qj->uuid))) {
        virStrcpyTrunc(runDir, sizeof(runDir), obj->runDir);
        virStrcpyTrunc(name, sizeof(name), obj->def->name);
    }
    pthread_mutex_unlock(&d->lock);
    if (!obj) {
        virReportError(VIR_ERR_NO_DOMAIN, "%s", "the domain went away during its start");
        return -1;
    }
    /* The shim's own record decides, not the worker's word: a file read,
     * no round trip. A restored image of a paused guest stays paused. */
    bool restore = qj->kind == QJ_RESTORE, paused = restore && !qj->hdr.wasRunning;
    if (virShimStateRead(runDir, &st) < 0)
        return -1;
    if (st.shim_pid != qj->shim.shim_pid || st.child_state != VIR_SHIM_CHILD_RUNNING ||
        st.qmp_state != VIR_SHIM_QMP_READY || STRNEQ(st.runstate, paused ? "paused" : "running") ||
        !virShimChildAlive(&st)) {
        virReportError(VIR_ERR_OPERATION_FAILED, "QEMU of domain '%s' is not %s (run "
                       "state '%s'): it stopped before its %s completed", name,
                       paused ? "paused" : "running", st.runstate, restore ? "restore" : "start");
        return -1;
    }
    if (!(h = virDriverJobResultDomainNew(qj->conn, name, qj->uuid)))
        return -1;
    pthread_mutex_lock(&d->lock);
    if ((obj = domFindUUID(d, qj->uuid)) && obj->active) {
        obj->started = true;
        obj->restored = restore;
        if (st.seq >= obj->shim.seq)
            obj->shim = st;
        if (paused) {
            /* libvirt's events of a restore that stays paused: started
             * (restored), then suspended (restored); not setState's
             * suspended (paused) alone, which never said it started. */
            domEvent(d, obj, VIR_DOMAIN_EVENT_STARTED, VIR_DOMAIN_EVENT_STARTED_RESTORED);
            domEvent(d, obj, VIR_DOMAIN_EVENT_SUSPENDED, VIR_DOMAIN_EVENT_SUSPENDED_RESTORED);
            obj->state = VIR_DOMAIN_PAUSED;
            obj->reason = VIR_DOMAIN_PAUSED_USER;
            pthread_cond_broadcast(&d->changed);
        } else
            setState(d, obj, VIR_DOMAIN_RUNNING,
                     restore ? VIR_DOMAIN_RUNNING_RESTORED : VIR_DOMAIN_RUNNING_BOOTED);
        (void)writeStatus(obj);
    }
    pthread_mutex_unlock(&d->lock);
    heldClose(&qj->startLock);   /* committed: "started" is on record */
    if (!obj) {
        virReportError(VIR_ERR_OPERATION_FAILED, "domain '%s' ended during its start", name);
        virDriverJobResultDomainDrop(h);
        return -1;
    }
    return virDriverJobResultDomainGive(job, h);
}

static void doneStart(virJobPtr job, void *opaque, virJobState state, const virError *error)
{
    qemuJob *qj = opaque;
    qemuDriver *d = driverOf(qj->conn);
    qemuDomObj *obj;
    bool stop = false;

    restoreStartWait(qj);
    jobRecordEnd(d, job, qj, state, error);
    pthread_mutex_lock(&d->lock);
    obj = domFindUUID(d, qj->uuid);
    if (state != VIR_JOB_COMPLETE || !obj || !obj->started)
        stop = true;
    char runDir[PATH_MAX] = "", name[QEMU_NAME_MAX] = "";
    if (stop && obj && obj->active && qj->shim.shim_pid > 0 &&
        obj->shim.shim_pid == qj->shim.shim_pid) {
        virStrcpyTrunc(runDir, sizeof(runDir), obj->runDir);
        virStrcpyTrunc(name, sizeof(name), obj->def->name);
    }
    pthread_mutex_unlock(&d->lock);
    /* A start that did not complete leaves no QEMU: its shim stops it, and
     * the end (shut off, failed) is recorded before the job is seen to
     * end, as a destroy's is, not when the watcher gets to it. The slot
     * is held until then: the shim is reached through the run directory,
     * where no other start may put a shim of its own meanwhile. */
    if (stop && (!runDir[0] || stopGuest(d, qj->uuid, name, runDir, &qj->shim) < 0))
        stopShim(&qj->shim);
    heldClose(&qj->startLock);
    pthread_mutex_lock(&d->lock);
    jobReleaseSlot(d, qj);
    pthread_mutex_unlock(&d->lock);
}

/* ---- life cycle of a running guest --------------------------------------------------- */

/* Check that @dom runs and copy what a request to its shim needs. */
static int activeShim(virDomainPtr dom, char *runDir, size_t len, virShimStatus *st,
                      bool allowStarting)
{
    qemuDriver *d;
    qemuDomObj *obj = domLock(dom, &d);
    int rc = -1;

    if (!obj)
        return -1;
    if (!obj->active) {
        virReportError(VIR_ERR_OPERATION_INVALID, "domain '%s' is not running", obj->def->name);
    } else if (!obj->started && !allowStarting) {
        virReportError(VIR_ERR_OPERATION_INVALID, "domain '%s' is still starting",
                       obj->def->name);
    } else {
        virStrcpyTrunc(runDir, len, obj->runDir);
        *st = obj->shim;
        rc = 0;
    }
    pthread_mutex_unlock(&d->lock);
    return rc;
}

static int domainQMPArgs(virDomainPtr dom, const char *command, const char *args,
                         virShimIncoming **out);

/* A QMP command to @dom's QEMU through its shim, from the caller's thread. */
static int domainQMP(virDomainPtr dom, const char *command, virShimIncoming **out)
{
    return domainQMPArgs(dom, command, NULL, out);
}

/* The same with @args (a JSON object, or NULL). */
static int domainQMPArgs(virDomainPtr dom, const char *command, const char *args,
                         virShimIncoming **out)
{
    qemuDriver *d = driverOf(dom->conn);
    char runDir[PATH_MAX];
    virShimStatus st;
    virShimIncoming *in;
    int fd, rc;

    if (activeShim(dom, runDir, sizeof(runDir), &st, false) < 0)
        return -1;
    if (!VIR_ALLOC(in))
        return -1;
    bool quiet = virErrorSetQuiet(true);
    fd = virShimConnect(runDir);
    virErrorSetQuiet(quiet);
    if (fd < 0) {
        free(in);
        virReportError(VIR_ERR_OPERATION_INVALID, "domain '%s' is not running any more",
                       dom->name);
        return -1;
    }
    rc = virShimQMP(fd, command, args, NULL, 0, (int)d->cfg.monitorTimeoutMs, NULL, NULL, in);
    close(fd);
    if (rc == 0 && out)
        *out = in;
    else
        free(in);
    return rc;
}

/* Stop the guest whose shim is @st in @runDir (SIGTERM, SIGKILL after the
 * stop timeout; the shim replies once QEMU is reaped) and record its end at
 * once. Driver lock NOT held. 0, or -1 reported. */
static int stopGuest(qemuDriver *d, const uint8_t *uuid, const char *name, const char *runDir,
                     const virShimStatus *st)
{
    qemuDomObj *obj;
    virShimIncoming *in;
    uint32_t timeout = d->cfg.stopTimeoutMs;
    int fd;

    if (!VIR_ALLOC(in))
        return -1;
    /* A shim already gone has nothing to stop. */
    bool quiet = virErrorSetQuiet(true);
    if ((fd = virShimConnect(runDir)) >= 0) {
        int rc = virShimCall(fd, VIR_SHIM_MSG_STOP, &timeout, sizeof(timeout), NULL, 0,
                             (int)timeout + 10000, NULL, NULL, in);
        close(fd);
        if (rc < 0 && virShimOwnerAlive(st)) {
            char why[512];
            virShimStatus fin;
            virStrcpyTrunc(why, sizeof(why), virGetLastErrorMessage());
            /* A shim that has recorded its child's end is on its way out:
             * it may close our connection before it reads the request.
             * Its record, written before it tells anyone, says so. */
            if (!(virShimStateRead(runDir, &fin) == 0 && fin.shim_pid == st->shim_pid &&
                  fin.child_state == VIR_SHIM_CHILD_EXITED)) {
                virErrorSetQuiet(quiet);
                virReportError(VIR_ERR_OPERATION_FAILED, "cannot stop domain '%s': %s", name,
                               why);
                free(in);
                return -1;
            }
        }
    }
    virResetLastError();
    virErrorSetQuiet(quiet);
    /* Recorded at once, not when the watcher gets to it. */
    pthread_mutex_lock(&d->lock);
    if ((obj = domFindUUID(d, uuid)) && obj->active && obj->shim.shim_pid == st->shim_pid) {
        virShimStatus fin;
        quiet = virErrorSetQuiet(true);
        if (virShimStateRead(runDir, &fin) == 0 && fin.child_state == VIR_SHIM_CHILD_EXITED)
            domStatus(d, obj, &fin);
        virResetLastError();
        virErrorSetQuiet(quiet);
    }
    pthread_mutex_unlock(&d->lock);
    free(in);
    return 0;
}

/* Mark @uuid as being stopped (@crashed: after a VIR_DUMP_CRASH dump,
 * shut off crashed, else destroyed) and stop it. 0, or -1 reported. */
static int domStop(qemuDriver *d, const unsigned char *uuid, const char *name, bool crashed)
{
    qemuDomObj *obj;
    char runDir[PATH_MAX];
    virShimStatus st;

    pthread_mutex_lock(&d->lock);
    if (!(obj = domFindUUID(d, uuid)) || !obj->active) {
        virReportError(obj ? VIR_ERR_OPERATION_INVALID : VIR_ERR_NO_DOMAIN,
                       "domain '%s' is not running", name);
        pthread_mutex_unlock(&d->lock);
        return -1;
    }
    obj->destroying = true;
    if (crashed)
        obj->crashDumped = true;
    (void)writeStatus(obj);
    virStrcpyTrunc(runDir, sizeof(runDir), obj->runDir);
    st = obj->shim;
    pthread_mutex_unlock(&d->lock);
    return stopGuest(d, uuid, name, runDir, &st);
}

static int qemuDomainDestroy(virDomainPtr dom)
{
    qemuDriver *d;

    if (!domLock(dom, &d))
        return -1;
    pthread_mutex_unlock(&d->lock);
    return domStop(d, dom->uuid, dom->name, false);
}

/* ---- dump ----------------------------------------------------------------------------- */

static virJobPtr qemuDomainDumpCoreJob(virDomainPtr dom, const char *to, unsigned int flags)
{
    qemuDriver *d;
    qemuDomObj *obj;
    qemuJob *qj;
    qemuDumpParams p = { .magic = QEMU_DUMP_MAGIC };
    jobMarkRec left = { .pid = 0 };
    char runDir[PATH_MAX];
    int fds[2] = { -1, -1 };
    virJobPtr job;

    /* The core is QEMU's ELF dump of the guest's memory, whatever
     * MEMORY_ONLY says; BYPASS_CACHE: the worker drops what it wrote from
     * the page cache anyway. */
    virCheckFlags(VIR_DUMP_CRASH | VIR_DUMP_LIVE | VIR_DUMP_MEMORY_ONLY |
                  VIR_DUMP_BYPASS_CACHE, NULL);
    if (!(qj = qemuJobNew(dom->conn, QJ_DUMP)))
        return NULL;
    qj->flags = flags;
    if (virDriverJobOutputOpen(&qj->out, to, "core dump") < 0) {
        qemuJobFree(qj);
        return NULL;
    }
    guestRecoveryWait(dom);
    if (!(obj = domLock(dom, &d))) {
        qemuJobFree(qj);
        return NULL;
    }
    if (!obj->active || !obj->started) {
        virReportError(VIR_ERR_OPERATION_INVALID, "domain '%s' is not running%s",
                       obj->def->name, obj->active ? " yet (still starting)" : "");
    } else if (virDriverJobSlotTake(&obj->slot, QEMU_OP_DOMAIN_DUMP, "domain", obj->def->name,
                                    &qj->token) == 0) {
        memcpy(qj->uuid, obj->def->uuid, 16);
        qj->holdsSlot = true;
        virStrcpyTrunc(runDir, sizeof(runDir), obj->runDir);
        virStrcpyTrunc(p.name, sizeof(p.name), obj->def->name);
        if ((qj->jobMark = guestJobMark(obj->runDir, obj->def->name, QEMU_OP_DOMAIN_DUMP,
                                        &left)) < 0)
            jobReleaseSlot(d, qj);
    }
    p.monitorTimeoutMs = d->cfg.monitorTimeoutMs;
    p.maxBps = d->cfg.bandwidthBps;
    p.flags = flags;
    pthread_mutex_unlock(&d->lock);
    if (!qj->holdsSlot) {
        qemuJobFree(qj);
        return NULL;
    }
    jobMarkRecover(d, runDir, p.name, &left);
    /* The worker's own connection to the shim (it subscribes itself). */
    bool quiet = virErrorSetQuiet(true);
    fds[0] = virShimConnect(runDir);
    virErrorSetQuiet(quiet);
    if (fds[0] < 0) {
        virResetLastError();
        pthread_mutex_lock(&d->lock);
        jobReleaseSlot(d, qj);
        pthread_mutex_unlock(&d->lock);
        qemuJobFree(qj);
        virReportError(VIR_ERR_OPERATION_INVALID, "domain '%s' is not running any more",
                       dom->name);
        return NULL;
    }
    fds[1] = qj->out.fd;
    job = jobStart(qj, &p, sizeof(p), fds, 2, dom->name);
    close(fds[0]);
    return job;
}

/* The file is QEMU's ELF core (checked here, not taken on the worker's
 * word), named into place; with VIR_DUMP_CRASH the guest is then stopped
 * (shut off, crashed), as libvirt does. */
static int commitDump(virJobPtr job, void *opaque, const void *result, size_t len)
{
    qemuJob *qj = opaque;
    qemuDriver *d = driverOf(qj->conn);
    unsigned char magic[5] = { 0 };
    struct stat sb;
    char name[QEMU_NAME_MAX] = "";

    (void)job;
    (void)result;
    (void)len;
    if (fstat(qj->out.fd, &sb) < 0) {
        virReportSystemError(errno, "cannot stat the core dump '%s'", qj->out.path);
        return -1;
    }
    /* ELF64 ("\177ELF", class 2): what dump-guest-memory writes for x86-64. */
    if (pread(qj->out.fd, magic, sizeof(magic), 0) != (ssize_t)sizeof(magic) ||
        memcmp(magic, "\177ELF", 4) || magic[4] != 2) {
        virReportError(VIR_ERR_OPERATION_FAILED, "the core dump '%s' written from QEMU's "
                       "stream is not an ELF64 file (%lld bytes)", qj->out.path,
                       (long long)sb.st_size);
        return -1;
    }
    if (virDriverJobOutputCommit(&qj->out) < 0)
        return -1;
    if (!(qj->flags & VIR_DUMP_CRASH))
        return 0;
    pthread_mutex_lock(&d->lock);
    qemuDomObj *obj = domFindUUID(d, qj->uuid);
    if (obj)
        virStrcpyTrunc(name, sizeof(name), obj->def->name);
    pthread_mutex_unlock(&d->lock);
    /* The file is in place: a guest that ended meanwhile is no failure. */
    if (obj && domStop(d, qj->uuid, name, true) < 0)
        return -1;
    virResetLastError();
    return 0;
}

static void doneDump(virJobPtr job, void *opaque, virJobState state, const virError *error)
{
    qemuJob *qj = opaque;
    qemuDriver *d = driverOf(qj->conn);

    jobRecordEnd(d, job, qj, state, error);
    pthread_mutex_lock(&d->lock);
    jobReleaseSlot(d, qj);
    pthread_mutex_unlock(&d->lock);
    /* A core not named into place goes now, not at virJobDestroy. */
    virDriverJobOutputDiscard(&qj->out);
}

#define QEMU_AGENT_CHANNEL "org.qemu.guest_agent.0"

/* QEMU's action at the guest's shutdown: "poweroff" (QEMU ends: the
 * default, always in force unless a reboot is pending) or "pause" (a
 * reboot is pending: the watcher restarts the guest, rebootRestart). */
static int setShutdownAction(virDomainPtr dom, const char *action)
{
    char args[64];

    snprintf(args, sizeof(args), "{\"shutdown\": \"%s\"}", action);
    return domainQMPArgs(dom, "set-action", args, NULL);
}

/* The guest agent asked for alone (@flags: VIR_DOMAIN_SHUTDOWN_* or the
 * same VIR_DOMAIN_REBOOT_* values; @what: "shut down", "rebooted"): 0
 * when it is not, else -1 reported, as libvirt when the domain has no
 * agent channel; with one, because this driver does not speak to the
 * agent. With the ACPI flag too the power button is used (libvirt's
 * fallback from the agent). */
static int agentRefused(virDomainPtr dom, unsigned int flags, const char *what)
{
    qemuDriver *d;
    qemuDomObj *obj;
    bool haveAgent = false;

    if (!(flags & VIR_DOMAIN_REBOOT_GUEST_AGENT) || (flags & VIR_DOMAIN_REBOOT_ACPI_POWER_BTN))
        return 0;
    if (!(obj = domLock(dom, &d)))
        return -1;
    for (uint32_t i = 0; i < obj->def->nchars; i++) {
        const qemuCharDef *c = &obj->def->chars[i];
        const char *name = qemuDefStr(obj->def, c->name);
        if (c->kind == QEMU_CHAR_CHANNEL && name && STREQ(name, QEMU_AGENT_CHANNEL))
            haveAgent = true;
    }
    pthread_mutex_unlock(&d->lock);
    if (!haveAgent)
        virReportError(VIR_ERR_ARGUMENT_UNSUPPORTED, "QEMU guest agent is not configured "
                       "for domain '%s' (no <channel> named '%s'): it cannot be %s through "
                       "its agent", dom->name, QEMU_AGENT_CHANNEL, what);
    else
        virReportError(VIR_ERR_ARGUMENT_UNSUPPORTED, "domain '%s' cannot be %s through its "
                       "guest agent: the qemu driver does not use the agent (the ACPI power "
                       "button flag does it)", dom->name, what);
    return -1;
}

static int qemuDomainShutdown(virDomainPtr dom, unsigned int flags)
{
    virCheckFlags(VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN | VIR_DOMAIN_SHUTDOWN_GUEST_AGENT, -1);
    if (agentRefused(dom, flags, "shut down") < 0 || guestJobCheck(dom, "shut down") < 0)
        return -1;
    /* A reboot still pending is cancelled (libvirt's): the guest's
     * shutdown ends QEMU. A QEMU that cannot be told has no reboot
     * pending either (virDomainReboot told it first), and
     * system_powerdown says what is wrong with the monitor. */
    virErrorPtr saved = virSaveLastError();
    bool quiet = virErrorSetQuiet(true);
    (void)setShutdownAction(dom, "poweroff");
    virErrorSetQuiet(quiet);
    virRestoreLastError(&saved);
    /* The ACPI power button: the guest decides, later (as libvirt). */
    return domainQMP(dom, "system_powerdown", NULL);
}

/* libvirt's reboot: the guest is asked to shut down (ACPI power button)
 * with a reboot pending; QEMU's shutdown action is "pause" meanwhile, so
 * when the guest shuts down QEMU stays, and the watcher resets and
 * continues it (rebootRestart): the same QEMU, the same domain ID, a
 * VIR_DOMAIN_EVENT_ID_REBOOT. A guest that ignores the button keeps the
 * reboot pending until it shuts down (as libvirt); virDomainShutdown
 * cancels it. With <on_reboot>destroy or preserve the reboot is a
 * shutdown (libvirt's override). Flags 0: the power button (the guest
 * agent is not used); the agent alone: agentRefused. */
static int qemuDomainReboot(virDomainPtr dom, unsigned int flags)
{
    qemuDriver *d;
    qemuDomObj *obj;
    bool asShutdown;

    virCheckFlags(VIR_DOMAIN_REBOOT_ACPI_POWER_BTN | VIR_DOMAIN_REBOOT_GUEST_AGENT, -1);
    if (agentRefused(dom, flags, "rebooted") < 0 || guestJobCheck(dom, "rebooted") < 0)
        return -1;
    if (!(obj = domLock(dom, &d)))
        return -1;
    asShutdown = obj->def->onReboot != QEMU_ACTION_RESTART;
    pthread_mutex_unlock(&d->lock);
    if (asShutdown)
        return qemuDomainShutdown(dom, 0);
    if (setShutdownAction(dom, "pause") < 0)
        return -1;
    if (domainQMP(dom, "system_powerdown", NULL) < 0) {
        /* Not asked: no reboot pending. */
        virErrorPtr saved = virSaveLastError();
        bool quiet = virErrorSetQuiet(true);
        (void)setShutdownAction(dom, "poweroff");
        virErrorSetQuiet(quiet);
        virRestoreLastError(&saved);
        return -1;
    }
    return 0;
}

static int setRunning(virDomainPtr dom, const char *command, int state, int reason)
{
    qemuDriver *d = driverOf(dom->conn);
    qemuDomObj *obj;

    if (guestJobCheck(dom, state == VIR_DOMAIN_RUNNING ? "resumed" : "suspended") < 0 ||
        domainQMP(dom, command, NULL) < 0)
        return -1;
    pthread_mutex_lock(&d->lock);
    if ((obj = domFindUUID(d, dom->uuid)) && obj->active) {
        /* What the shim has recorded by now (its record is written before
         * it tells anyone) is older than this command's effect: the
         * watcher may still have it queued, e.g. QEMU's STOP event with the
         * run state "running" that the shim's query-status turns into
         * "paused" only later. Holding its sequence number here makes the
         * watcher skip those (domStatus), so a suspend that returned is not
         * undone by them. */
        virShimStatus now;
        bool quiet = virErrorSetQuiet(true);
        if (virShimStateRead(obj->runDir, &now) == 0 && now.shim_pid == obj->shim.shim_pid &&
            now.seq >= obj->shim.seq) {
            if (now.child_state == VIR_SHIM_CHILD_EXITED)
                domStatus(d, obj, &now);   /* ended meanwhile: may remove @obj */
            else
                obj->shim = now;
        }
        virResetLastError();
        virErrorSetQuiet(quiet);
        if ((obj = domFindUUID(d, dom->uuid)) && obj->active) {
            setState(d, obj, state, reason);
            (void)writeStatus(obj);
        }
    }
    pthread_mutex_unlock(&d->lock);
    return 0;
}

static int qemuDomainSuspend(virDomainPtr dom)
{
    return setRunning(dom, "stop", VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_USER);
}

static int qemuDomainResume(virDomainPtr dom)
{
    return setRunning(dom, "cont", VIR_DOMAIN_RUNNING, VIR_DOMAIN_RUNNING_UNPAUSED);
}

/* ---- save and restore ------------------------------------------------------------------ */

/* A pipe for QEMU's migration stream, as large as the kernel lets us make
 * it (fewer wake-ups on both sides). 0, or -1 reported. */
static int streamPipe(int p[2])
{
    if (pipe2(p, O_CLOEXEC) < 0) {
        virReportSystemError(errno, "%s", "cannot create a pipe for QEMU's migration stream");
        return -1;
    }
    (void)fcntl(p[0], F_SETPIPE_SZ, QEMU_IMAGE_CHUNK);
    return 0;
}

/* Whether the guest of a save runs as the save begins: what a save that
 * fails gives back (doneSave resumes the guest only then). Asked of QEMU
 * (query-status, after every command sent before it): this connection's
 * own view can lag (its watcher has not handled the shim's event yet)
 * when another connection has just paused or resumed the guest, and so
 * can the shim's record (a STOP event's run state is only read back by
 * the shim's own query-status, after it). Asked twice (a timeout once);
 * without an answer, the view, and why QEMU did not answer is kept for
 * the job's error, should the save fail. */
static void saveWasRunning(qemuDriver *d, qemuJob *qj, int shim)
{
    virShimIncoming *in;
    bool running = false;

    bool quiet = virErrorSetQuiet(true);
    if (VIR_ALLOC(in)) {
        for (int tries = 0; tries < 2; tries++) {
            virResetLastError();
            if (virShimQMP(shim, "query-status", NULL, NULL, 0, (int)d->cfg.monitorTimeoutMs,
                           NULL, NULL, in) == 0) {
                if (virJSONFlatGetBool(in->data, in->datalen, "running", &running) == 0) {
                    qj->wasRunning = running;
                    qj->askFailed[0] = '\0';
                    break;
                }
                virReportError(VIR_ERR_INTERNAL_ERROR, "%s", "QEMU's answer to 'query-status' "
                               "has no run state");
            }
            virErrorPtr e = virGetLastError();
            snprintf(qj->askFailed, sizeof(qj->askFailed), "%s",
                     e && e->message ? e->message : "no answer");
            if (e && e->code == VIR_ERR_OPERATION_TIMEOUT)
                break;   /* not twice the monitor timeout in the caller's call */
        }
    } else {
        virStrcpyTrunc(qj->askFailed, sizeof(qj->askFailed), "out of memory");
    }
    free(in);
    virResetLastError();
    virErrorSetQuiet(quiet);
}

static virJobPtr qemuDomainSaveJob(virDomainPtr dom, const char *to)
{
    qemuDriver *d;
    qemuDomObj *obj;
    qemuJob *qj;
    qemuDomainDef *def = NULL;
    qemuSaveParams p = { .magic = QEMU_SAVE_MAGIC };
    jobMarkRec left = { .pid = 0 };
    VIR_AUTOFREE(uint8_t *) blob = NULL;
    char *xml = NULL;
    int pfd[2] = { -1, -1 }, shim = -1;
    virJobPtr job = NULL;

    if (!to || !*to) {
        virReportError(VIR_ERR_INVALID_ARG, "%s", "no path given for the save image");
        return NULL;
    }
    if (!(qj = qemuJobNew(dom->conn, QJ_SAVE)))
        return NULL;
    guestRecoveryWait(dom);
    if (!(obj = domLock(dom, &d))) {
        qemuJobFree(qj);
        return NULL;
    }
    if (!obj->active || !obj->started) {
        virReportError(VIR_ERR_OPERATION_INVALID, "domain '%s' is not running", obj->def->name);
    } else if (virDriverJobSlotTake(&obj->slot, QEMU_OP_DOMAIN_SAVE, "domain", obj->def->name,
                                    &qj->token) == 0) {
        memcpy(qj->uuid, obj->def->uuid, 16);
        qj->holdsSlot = true;
        qj->shim = obj->shim;
        qj->wasRunning = obj->state == VIR_DOMAIN_RUNNING;
        virStrcpyTrunc(qj->runDir, sizeof(qj->runDir), obj->runDir);
        if ((qj->jobMark = guestJobMark(obj->runDir, obj->def->name, QEMU_OP_DOMAIN_SAVE,
                                        &left)) >= 0)
            def = qemuDefCopy(obj->def);
    }
    pthread_mutex_unlock(&d->lock);
    if (!def)
        goto error;
    jobMarkRecover(d, qj->runDir, def->name, &left);
    p.monitorTimeoutMs = d->cfg.monitorTimeoutMs;
    p.bandwidthBps = d->cfg.bandwidthBps;
    p.memoryBytes = def->memoryKiB * 1024;
    memcpy(p.uuid, def->uuid, 16);
    virStrcpyTrunc(p.name, sizeof(p.name), def->name);
    if (!(xml = qemuDomainDefFormat(def, NULL)))
        goto error;
    p.xmlLen = (uint32_t)strlen(xml);
    if (p.xmlLen > QEMU_XML_MAX) {
        virReportError(VIR_ERR_INTERNAL_ERROR, "the XML of domain '%s' is too large for an "
                       "image: %u bytes", def->name, p.xmlLen);
        goto error;
    }
    if (!(blob = virAllocN(sizeof(p) + p.xmlLen, 1)))
        goto error;
    memcpy(blob, &p, sizeof(p));
    memcpy(blob + sizeof(p), xml, p.xmlLen);
    if (virDriverJobOutputOpen(&qj->out, to, "save image") < 0 || streamPipe(pfd) < 0)
        goto error;
    if ((shim = virShimConnect(qj->runDir)) < 0) {
        virResetLastError();
        virReportError(VIR_ERR_OPERATION_INVALID, "domain '%s' is not running any more",
                       def->name);
        goto error;
    }
    saveWasRunning(d, qj, shim);
    /* From here the worker may stop the guest: whoever finds this record
     * left by a dead application knows whether to resume it. */
    (void)jobMarkWrite(qj->jobMark, QEMU_OP_DOMAIN_SAVE, 0, qj->wasRunning, "");
    {
        int fds[4] = { shim, pfd[0], pfd[1], qj->out.fd };
        job = jobStart(qj, blob, sizeof(p) + p.xmlLen, fds, 4, def->name);
        qj = NULL;   /* consumed */
    }
 error:
    if (qj)
        jobAbandon(d, qj);
    virForceClose(&shim);
    virForceClose(&pfd[0]);
    virForceClose(&pfd[1]);
    free(xml);
    free(def);
    return job;
}

/* The image is complete: name it, then stop the guest (shut off, saved).
 * If naming fails the guest is still there, paused, and done resumes it. */
static int commitSave(virJobPtr job, void *opaque, const void *result, size_t len)
{
    qemuJob *qj = opaque;
    qemuDriver *d = driverOf(qj->conn);
    qemuDomObj *obj;
    qemuSaveResult res;
    struct stat sb;
    char name[QEMU_NAME_MAX] = "", line[96];

    (void)job;
    if (!result || len != sizeof(res)) {
        virReportError(VIR_ERR_OPERATION_FAILED, "the save worker returned %zu bytes of "
                       "result", len);
        return -1;
    }
    memcpy(&res, result, sizeof(res));
    if (fstat(qj->out.fd, &sb) < 0 || res.magic != QEMU_SAVE_MAGIC ||
        (uint64_t)sb.st_size != res.imageBytes) {
        virReportError(VIR_ERR_OPERATION_FAILED, "the save image has %lld bytes, the worker "
                       "says it wrote %" PRIu64, (long long)sb.st_size, res.imageBytes);
        return -1;
    }
    if (virDriverJobOutputCommit(&qj->out) < 0)
        return -1;
    pthread_mutex_lock(&d->lock);
    int id = -1;
    if ((obj = domFindUUID(d, qj->uuid)) && obj->active &&
        obj->shim.shim_pid == qj->shim.shim_pid) {
        obj->saved = obj->destroying = true;
        (void)writeStatus(obj);
        virStrcpyTrunc(name, sizeof(name), obj->def->name);
        id = obj->item.id;
        /* Before QEMU stops: a connection that records the end after the
         * run directory (and the status above) is gone reads it here. */
        if (obj->persistent)
            qemuEndedWrite(&d->cfg, name, VIR_DOMAIN_SHUTOFF_SAVED, id);
    }
    pthread_mutex_unlock(&d->lock);
    if (!name[0])
        return 0;   /* ended meanwhile: the image is all that is left of it */
    savedLine(line, sizeof(line), id);
    guestLogLine(d, name, line);
    return stopGuest(d, qj->uuid, name, qj->runDir, &qj->shim);
}

/* A save that did not complete leaves the guest as it was: the worker
 * resumes it, but a worker that died (or was killed) cannot; then QEMU
 * may still be migrating into a pipe nobody reads (it fails at once: the
 * reader is gone) or sit paused. Waits until QEMU's migration has ended
 * (cancelling it while it runs), whether the guest ran or not: a save
 * started right after the job's end is refused while it has not ("There's
 * a migration process in progress"). Then, if @resume, resumes the guest.
 * Round trips with the monitor timeout. 0 once the migration has ended
 * (and QEMU says the guest runs, if @resume); -1 with what went wrong in
 * @why. */
static int saveSettle(qemuDriver *d, qemuJob *qj, bool resume, char *why, size_t whylen)
{
    return migrationSettle(d, qj->runDir, resume, why, whylen);
}

/* saveSettle's work, for the guest of run directory @runDir (also what
 * jobMarkRecover does for a save whose application died). */
static int migrationSettle(qemuDriver *d, const char *runDir, bool resume, char *why,
                           size_t whylen)
{
    virShimIncoming *in;
    char status[32] = "";
    int fd = -1, rc = -1;

    bool quiet = virErrorSetQuiet(true);
    virResetLastError();
    if (!VIR_ALLOC(in) || (fd = virShimConnect(runDir)) < 0)
        goto out;
    long long until = virTimeMonoMs() + d->cfg.monitorTimeoutMs;
    bool over = false;
    while (!over && virTimeMonoMs() < until) {
        if (virShimQMP(fd, "query-migrate", NULL, NULL, 0, (int)d->cfg.monitorTimeoutMs, NULL,
                       NULL, in) < 0)
            goto out;
        status[0] = '\0';
        (void)virJSONFlatGet(in->data, in->datalen, "status", status, sizeof(status));
        over = qemuMigrationOver(status);
        if (!over) {
            (void)virShimQMP(fd, "migrate_cancel", NULL, NULL, 0,
                             (int)d->cfg.monitorTimeoutMs, NULL, NULL, in);
            (void)poll(NULL, 0, 5);
        }
    }
    virResetLastError();
    if (!over)
        virReportError(VIR_ERR_OPERATION_TIMEOUT, "QEMU's migration into the save image had "
                       "not ended %u ms after the save (status '%s')",
                       d->cfg.monitorTimeoutMs, status);
    else
        rc = resume ? qemuResumeAfterMigration(fd, d->cfg.monitorTimeoutMs, in) : 0;
 out:
    if (rc < 0) {
        virErrorPtr e = virGetLastError();
        snprintf(why, whylen, "%s", e && e->message ? e->message :
                 "QEMU refused to resume it");
    }
    virForceClose(&fd);
    virResetLastError();
    virErrorSetQuiet(quiet);
    free(in);
    return rc;
}

/* Whether the guest of a save still runs (running or paused), after its
 * shim's record; a guest that ended says so in its state, not in a note. */
static bool saveGuestAlive(const qemuJob *qj)
{
    virShimStatus st;
    bool quiet = virErrorSetQuiet(true);
    bool alive = virShimStateRead(qj->runDir, &st) == 0 && st.shim_pid == qj->shim.shim_pid &&
                 virShimChildAlive(&st);
    virResetLastError();
    virErrorSetQuiet(quiet);
    return alive;
}

static void doneSave(virJobPtr job, void *opaque, virJobState state, const virError *error)
{
    qemuJob *qj = opaque;
    qemuDriver *d = driverOf(qj->conn);

    /* The partial image first, though freeing it can wait for the disk:
     * the worker has resumed the guest, and the shim is recording that;
     * saveSettle's round trips, made at once, delayed the record
     * (cancel -> running p99 5.6 ms against 3.7 ms, docs/QEMU-DRIVER.md). */
    virDriverJobOutputDiscard(&qj->out);
    if (state != VIR_JOB_COMPLETE) {
        /* What the caller must know: a guest this save may have left
         * paused, and why the library did not know it ran. */
        char why[300], note[512];
        if (saveSettle(d, qj, qj->wasRunning, why, sizeof(why)) < 0 && saveGuestAlive(qj)) {
            if (qj->wasRunning)
                snprintf(note, sizeof(note), "the guest, %s when the save began, may be left "
                         "paused: %s", qj->askFailed[0] ? "taken as running" : "running", why);
            else
                snprintf(note, sizeof(note), "QEMU's migration out of the guest may not have "
                         "ended (a save of it fails until it has): %s", why);
            (void)virSupJobErrorAppend(job, note);
        }
        if (qj->askFailed[0]) {
            snprintf(note, sizeof(note), "QEMU did not say whether the guest ran as the save "
                     "began (%s), so it was taken as %s", qj->askFailed,
                     qj->wasRunning ? "running" : "paused");
            (void)virSupJobErrorAppend(job, note);
        }
    }
    /* After the notes: the job's record carries the error it ends with. */
    jobRecordEnd(d, job, qj, state, error);
    pthread_mutex_lock(&d->lock);
    jobReleaseSlot(d, qj);
    pthread_mutex_unlock(&d->lock);
}

/* The usual restore: the image of a domain that is still defined as it
 * was saved. Its XML is then, byte for byte, what that definition formats
 * to (a save writes qemuDomainDefFormat of its definition), and the
 * definition itself is the parse's result: a copy of it, without a parse
 * worker (the restore's first progress comes that much sooner). NULL
 * otherwise, also on failure: the caller parses. Nothing of the image is
 * parsed here, only compared. */
static qemuDomainDef *definedAsImage(qemuDriver *d, const qemuImageHeader *h, const char *xml)
{
    qemuDomainDef *def = NULL;
    qemuDomObj *obj;

    pthread_mutex_lock(&d->lock);
    if ((obj = (qemuDomObj *)virObjListFindByUUID(&d->doms, h->uuid)) && !obj->active) {
        char *mine = qemuDomainDefFormat(obj->def, NULL);
        if (mine && STREQ(mine, xml))
            def = qemuDefCopy(obj->def);
        free(mine);
    }
    pthread_mutex_unlock(&d->lock);
    virResetLastError();
    return def;
}

/* Read and check the header of the image on @fd (@from, for messages) and
 * parse its XML in a worker (unless definedAsImage has it). Returns the
 * definition, or NULL reported. */
static qemuDomainDef *restoreReadImage(virConnectPtr conn, int fd, const char *from,
                                       qemuImageHeader *h)
{
    VIR_AUTOFREE(char *) xml = NULL;
    qemuDomainDef *def;
    const char *why = NULL;
    struct stat sb;

    if (fstat(fd, &sb) < 0) {
        virReportSystemError(errno, "cannot read the save image '%s'", from);
        return NULL;
    }
    if (pread(fd, h, sizeof(*h), 0) != (ssize_t)sizeof(*h)) {
        why = "it is too short to be a save image";
    } else if (memcmp(h->magic, QEMU_IMAGE_MAGIC, sizeof(h->magic)) != 0) {
        why = "it is not a save image of the qemu driver";
    } else if (!h->xmlLen || h->xmlLen > QEMU_XML_MAX) {
        why = "its header has impossible sizes";
    } else if (!(xml = virAllocN(h->xmlLen + 1, 1))) {
        return NULL;
    } else if (pread(fd, xml, h->xmlLen, sizeof(*h)) != (ssize_t)h->xmlLen) {
        why = "it is truncated";
    } else {
        (void)qemuImageHeaderCheck(h, xml, (uint64_t)sb.st_size, &why);
    }
    if (why) {
        virReportError(VIR_ERR_OPERATION_FAILED, "cannot restore from '%s': %s", from, why);
        return NULL;
    }
    if (!(def = definedAsImage(driverOf(conn), h, xml)) && !(def = parseXML(conn, xml)))
        return NULL;
    if (memcmp(def->uuid, h->uuid, 16) != 0 || STRNEQ(def->name, h->name) ||
        def->memoryKiB * 1024 != h->memoryBytes) {
        virReportError(VIR_ERR_OPERATION_FAILED, "cannot restore from '%s': its header and "
                       "its domain XML describe different guests", from);
        free(def);
        return NULL;
    }
    return def;
}

static virJobPtr qemuDomainRestoreJob(virConnectPtr conn, const char *from)
{
    qemuDriver *d = driverOf(conn);
    qemuDomainDef *def;
    qemuJob *qj;
    qemuImageHeader h;
    char name[QEMU_NAME_MAX];
    int fd;

    if (!from || !*from) {
        virReportError(VIR_ERR_INVALID_ARG, "%s", "no path given for the save image");
        return NULL;
    }
    if ((fd = virDriverJobInputOpen(from, "save image")) < 0)
        return NULL;
    if (!(def = restoreReadImage(conn, fd, from, &h)) ||
        qemuDomainDefSupported(&d->cfg, def) < 0 || !(qj = qemuJobNew(conn, QJ_RESTORE))) {
        free(def);
        close(fd);
        return NULL;
    }
    qj->hdr = h;
    /* The worker's first reads (a save dropped the image from the page
     * cache): under way while it starts. */
    (void)posix_fadvise(fd, h.headerLen, 4 * QEMU_IMAGE_CHUNK, POSIX_FADV_WILLNEED);
    virStrcpyTrunc(name, sizeof(name), def->name);
    if (adoptDef(d, def, qj, from) < 0) {
        qemuJobFree(qj);
        close(fd);
        return NULL;
    }
    virJobPtr job = restoreJob(conn, qj, name, fd, from);
    close(fd);
    return job;
}

/* ---- the domain's job ------------------------------------------------------------------ */

/* The figures of another connection's save or dump of @dom, from its
 * mark and its status segment, into @st: true if there is one. While the
 * mark is held the job is not over (its done step may still be putting
 * the guest back), so it is shown running, with no figures when its
 * number is not on the mark yet or its segment cannot be read. */
static bool foreignJobStats(virDomainPtr dom, virDriverJobStats *st)
{
    virSupForeignJob fj;
    jobMarkRec r;

    if (!guestJobForeign(dom, &r))
        return false;
    memset(st, 0, sizeof(*st));
    st->type = VIR_DOMAIN_JOB_BOUNDED;
    st->operation = jobOperation(r.op);
    if (!r.id || !r.seg[0])
        return true;
    bool quiet = virErrorSetQuiet(true);
    int rc = virSupForeignJobRead(r.seg, r.id, &fj);
    virResetLastError();
    virErrorSetQuiet(quiet);
    if (rc < 0)
        return true;
    st->elapsed_ms = fj.elapsed_ms;
    st->remaining_ms = fj.remaining_ms;
    st->done = fj.done;
    st->total = fj.total;
    st->rate = fj.elapsed_ms ? fj.done * 1000 / fj.elapsed_ms : 0;
    return true;
}

static int qemuDomainGetJobInfo(virDomainPtr dom, virDomainJobInfoPtr info)
{
    virDriverJobStats st;

    if (virObjListGetJobInfo(&driverOf(dom->conn)->doms, dom->uuid, dom->name, info) < 0)
        return -1;
    /* No job of this connection: another's save or dump, if any. */
    if (info->type == VIR_DOMAIN_JOB_NONE && foreignJobStats(dom, &st))
        virDriverJobInfoFill(info, st.type, st.elapsed_ms, st.remaining_ms, st.done, st.total);
    return 0;
}

static int qemuDomainGetJobStats(virDomainPtr dom, int *type, virTypedParameterPtr *params,
                                 int *nparams, unsigned int flags)
{
    qemuDriver *d;
    qemuDomObj *obj;
    virDriverJobStats st;
    int ret;

    virCheckFlags(VIR_DOMAIN_JOB_STATS_COMPLETED | VIR_DOMAIN_JOB_STATS_KEEP_COMPLETED, -1);
    if (!(obj = domLock(dom, &d)))
        return -1;
    /* Under the lock, as GetJobInfo. */
    ret = virDriverJobStatsRead(&obj->slot, &obj->lastJob, jobOperation(obj->slot.opname),
                                flags, &st);
    pthread_mutex_unlock(&d->lock);
    /* No live job of this connection: another's save or dump, if any (a
     * completed job's record is only ever the connection's own). */
    if (ret == 0 && !(flags & VIR_DOMAIN_JOB_STATS_COMPLETED) &&
        st.type == VIR_DOMAIN_JOB_NONE)
        (void)foreignJobStats(dom, &st);
    return virDriverJobStatsReturn(ret, &st, type, params, nparams);
}

static int qemuDomainAbortJob(virDomainPtr dom)
{
    qemuDriver *d;
    qemuDomObj *obj = domLock(dom, &d);
    char dir[PATH_MAX] = "";
    jobMarkRec r;
    bool mine;

    if (!obj)
        return -1;
    mine = virDriverJobSlotBusy(&obj->slot);
    if (obj->active)
        virStrcpyTrunc(dir, sizeof(dir), obj->runDir);
    pthread_mutex_unlock(&d->lock);
    /* Another connection's save or dump: asked to cancel it. */
    if (!mine && dir[0] && jobMarkLook(dir, &r) == 1)
        return abortRequest(dir, dom->name, &r,
                            d->cfg.monitorTimeoutMs < ABORT_REQUEST_WAIT_MS ?
                            d->cfg.monitorTimeoutMs : ABORT_REQUEST_WAIT_MS);
    return virObjListAbortJob(&d->doms, dom->uuid, dom->name);
}

static virEventState *qemuConnectGetEventState(virConnectPtr conn)
{
    return driverOf(conn)->events;
}

static char *qemuDomainGetOSType(virDomainPtr dom)
{
    qemuDriver *d;
    qemuDomObj *obj = domLock(dom, &d);
    char *s;

    if (!obj)
        return NULL;
    pthread_mutex_unlock(&d->lock);
    if (!(s = virStrdup("hvm")))
        virReportOOMError();
    return s;
}


static int qemuDomainIsActive(virDomainPtr dom)
{
    adoptWithoutInotify(driverOf(dom->conn));
    return virObjListIsActive(&driverOf(dom->conn)->doms, dom->uuid, dom->name);
}

static int qemuDomainIsPersistent(virDomainPtr dom)
{
    return virObjListIsPersistent(&driverOf(dom->conn)->doms, dom->uuid, dom->name);
}

/* For tests and the network driver. */
const qemuConfig *qemuDriverConfig(virConnectPtr conn)
{
    return &driverOf(conn)->cfg;
}

/* ---- the table ------------------------------------------------------------------- */

static const char *const qemuURIParamNames[] = {
    "root", "emulator", "user", "group", "monitor_timeout", "bandwidth", NULL
};

static int qemuConnectOpen(virConnectPtr conn, const virURI *uri, const virConnectConfig *cfg)
{
    qemuURIParams p = {
        .root = virURIGetParam(uri, "root"),
        .emulator = virURIGetParam(uri, "emulator"),
        .user = virURIGetParam(uri, "user"),
        .group = virURIGetParam(uri, "group"),
        .monitorTimeout = virURIGetParam(uri, "monitor_timeout"),
    };
    const qemuConfig *qc;
    char netdir[QEMU_DIR_MAX + 16];

    if (virURIGetNumber(uri, "bandwidth", 1024 * 1024, &p.bandwidthMiB) < 0)
        return -1;
    if (qemuDriverOpen(conn, uri->path, &p, &cfg->group) < 0)
        return -1;
    /* libvirt's qemu:///system answers the network calls too: the
     * network driver's state for this connection, its networks those of
     * network:///system, or under ROOT/network with ?root=. A session
     * has none: its network calls are refused, saying why. */
    qc = qemuDriverConfig(conn);
    if (!qc->privileged)
        return 0;
    if (qc->root[0])
        snprintf(netdir, sizeof(netdir), "%s/network", qc->root);
    if (networkStateOpen(conn, qc->root[0] ? netdir : NULL, cfg) < 0) {
        virErrorPtr saved = virSaveLastError();
        qemuDriverClose(conn);
        qemuDriverFree(conn);
        virRestoreLastError(&saved);
        return -1;
    }
    return 0;
}

static void qemuConnectClose(virConnectPtr conn)
{
    networkStateClose(conn);
    qemuDriverClose(conn);
}

static void qemuConnectFree(virConnectPtr conn)
{
    networkStateFree(conn);
    qemuDriverFree(conn);
}

const virConnectDriver qemuConnectDriver = {
    .name = "qemu",
    .uriParams = qemuURIParamNames,
    .connectOpen = qemuConnectOpen,
    .connectClose = qemuConnectClose,
    .connectFree = qemuConnectFree,
    .connectListAllDomains = qemuConnectListAllDomains,
    .domainLookupByName = qemuDomainLookupByName,
    .domainLookupByUUID = qemuDomainLookupByUUID,
    .domainGetInfo = qemuDomainGetInfo,
    .domainGetState = qemuDomainGetState,
    .domainGetXMLDesc = qemuDomainGetXMLDesc,
    .domainDefineXML = qemuDomainDefineXML,
    .domainUndefine = qemuDomainUndefine,
    .domainDestroy = qemuDomainDestroy,
    .connectGetEventState = qemuConnectGetEventState,
    .domainLookupByID = qemuDomainLookupByID,
    .domainGetID = qemuDomainGetID,
    .domainGetOSType = qemuDomainGetOSType,
    .domainIsActive = qemuDomainIsActive,
    .domainIsPersistent = qemuDomainIsPersistent,
    .domainSuspend = qemuDomainSuspend,
    .domainResume = qemuDomainResume,
    .domainShutdown = qemuDomainShutdown,
    .domainReboot = qemuDomainReboot,
    .domainGetJobInfo = qemuDomainGetJobInfo,
    .domainAbortJob = qemuDomainAbortJob,
    .domainGetJobStats = qemuDomainGetJobStats,
    .domainCreateXMLJob = qemuDomainCreateXMLJob,
    .domainCreateJob = qemuDomainCreateJob,
    .domainDumpCoreJob = qemuDomainDumpCoreJob,
    .domainSaveJob = qemuDomainSaveJob,
    .domainRestoreJob = qemuDomainRestoreJob,
    /* The network calls: the network driver's, on this connection's
     * network state (refused on qemu:///session). */
    NETWORK_DRIVER_SLOTS,
};
