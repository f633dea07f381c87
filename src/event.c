/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * event.c: the event loop (libvirt's virEvent* calls and a default poll()
 * implementation) and the domain/network event states of drivers.
 *
 * The default loop keeps its watches and timers in two arrays under one
 * mutex; the thread running virEventRunDefaultImpl polls a snapshot with
 * the lock released, and an eventfd wakes it when another thread changes
 * the arrays. Removed entries are only marked; their free functions run
 * at the end of an iteration, outside the lock, never inside the remove
 * call (callers may hold their own locks there).
 *
 * The loop's two locks (implLock, loop.lock) are leaves: nothing else is
 * locked, no error reported and no callback called while one is held (a
 * failed allocation is reported after the lock is released). Fork: see
 * loopForkInstall.
 */
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <time.h>

#include "driver.h"
#include "event.h"
#include "util/viralloc.h"

#define VIR_FROM_THIS VIR_FROM_EVENT
#include "util/virerror.h"

/* ---- the registered implementation ----------------------------------- */

typedef struct eventImpl {
    virEventAddHandleFunc addHandle;
    virEventUpdateHandleFunc updateHandle;
    virEventRemoveHandleFunc removeHandle;
    virEventAddTimeoutFunc addTimeout;
    virEventUpdateTimeoutFunc updateTimeout;
    virEventRemoveTimeoutFunc removeTimeout;
} eventImpl;

static pthread_mutex_t implLock = PTHREAD_MUTEX_INITIALIZER;
static eventImpl impl;

static eventImpl implGet(void)
{
    eventImpl copy;

    pthread_mutex_lock(&implLock);
    copy = impl;
    pthread_mutex_unlock(&implLock);
    return copy;
}

VIR_EXPORT void virEventRegisterImpl(virEventAddHandleFunc addHandle,
                                     virEventUpdateHandleFunc updateHandle,
                                     virEventRemoveHandleFunc removeHandle,
                                     virEventAddTimeoutFunc addTimeout,
                                     virEventUpdateTimeoutFunc updateTimeout,
                                     virEventRemoveTimeoutFunc removeTimeout)
{
    virResetLastError();
    pthread_mutex_lock(&implLock);
    impl = (eventImpl){ addHandle, updateHandle, removeHandle, addTimeout,
                        updateTimeout, removeTimeout };
    pthread_mutex_unlock(&implLock);
}

VIR_EXPORT int virEventAddHandle(int fd, int events, virEventHandleCallback cb,
                                 void *opaque, virFreeCallback ff)
{
    eventImpl i = implGet();
    return i.addHandle ? i.addHandle(fd, events, cb, opaque, ff) : -1;
}

VIR_EXPORT void virEventUpdateHandle(int watch, int events)
{
    eventImpl i = implGet();
    if (i.updateHandle)
        i.updateHandle(watch, events);
}

VIR_EXPORT int virEventRemoveHandle(int watch)
{
    eventImpl i = implGet();
    return i.removeHandle ? i.removeHandle(watch) : -1;
}

VIR_EXPORT int virEventAddTimeout(int frequency, virEventTimeoutCallback cb,
                                  void *opaque, virFreeCallback ff)
{
    eventImpl i = implGet();
    return i.addTimeout ? i.addTimeout(frequency, cb, opaque, ff) : -1;
}

VIR_EXPORT void virEventUpdateTimeout(int timer, int frequency)
{
    eventImpl i = implGet();
    if (i.updateTimeout)
        i.updateTimeout(timer, frequency);
}

VIR_EXPORT int virEventRemoveTimeout(int timer)
{
    eventImpl i = implGet();
    return i.removeTimeout ? i.removeTimeout(timer) : -1;
}

/* ---- the default loop ---------------------------------------------------- */

typedef struct loopHandle {
    int watch;
    int fd;
    int events;               /* virEventHandleType */
    virEventHandleCallback cb;
    void *opaque;
    virFreeCallback ff;
    bool deleted;
} loopHandle;

typedef struct loopTimeout {
    int timer;
    int frequency;            /* ms; -1 disabled */
    long long expiresAt;      /* CLOCK_MONOTONIC ms */
    virEventTimeoutCallback cb;
    void *opaque;
    virFreeCallback ff;
    bool deleted;
} loopTimeout;

static struct {
    pthread_mutex_t lock;
    bool registered;          /* virEventRegisterDefaultImpl was called */
    int wakefd;               /* -1 until registered (or in a forked child
                               * that could not make its own) */
    bool running;             /* a thread is in virEventRunDefaultImpl: */
    pthread_t runner;         /* that thread */
    loopHandle *handles;
    size_t nhandles;
    loopTimeout *timeouts;
    size_t ntimeouts;
    int nextWatch, nextTimer;
    /* The running thread's poll set and the watch of each entry, kept
     * from one iteration to the next (grown, never shrunk): only that
     * thread uses them, and a forked child finds them still reachable. */
    struct pollfd *pfd;
    int *pfdWatch;
    size_t pfdMax;
} loop = { .lock = PTHREAD_MUTEX_INITIALIZER, .wakefd = -1, .nextWatch = 1, .nextTimer = 1 };

static long long nowMs(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Loop lock held. */
static void loopWake(void)
{
    uint64_t one = 1;
    if (loop.wakefd >= 0 && write(loop.wakefd, &one, sizeof(one)) < 0) {
        /* EAGAIN: the counter is already non-zero, the loop will wake. */
    }
}

static int loopAddHandle(int fd, int events, virEventHandleCallback cb,
                         void *opaque, virFreeCallback ff)
{
    loopHandle *grown;
    int watch;

    if (fd < 0 || !cb)
        return -1;
    pthread_mutex_lock(&loop.lock);
    /* realloc, not virReallocN: no error is reported with the lock held. */
    if (!(grown = realloc(loop.handles, (loop.nhandles + 1) * sizeof(*grown)))) {
        pthread_mutex_unlock(&loop.lock);
        virReportOOMError();
        return -1;
    }
    loop.handles = grown;
    watch = loop.nextWatch++;
    loop.handles[loop.nhandles++] = (loopHandle){ watch, fd, events, cb, opaque, ff, false };
    loopWake();
    pthread_mutex_unlock(&loop.lock);
    return watch;
}

static void loopUpdateHandle(int watch, int events)
{
    pthread_mutex_lock(&loop.lock);
    for (size_t i = 0; i < loop.nhandles; i++) {
        if (loop.handles[i].watch == watch && !loop.handles[i].deleted) {
            loop.handles[i].events = events;
            loopWake();
        }
    }
    pthread_mutex_unlock(&loop.lock);
}

static int loopRemoveHandle(int watch)
{
    int ret = -1;

    pthread_mutex_lock(&loop.lock);
    for (size_t i = 0; i < loop.nhandles; i++) {
        if (loop.handles[i].watch == watch && !loop.handles[i].deleted) {
            loop.handles[i].deleted = true;
            loopWake();
            ret = 0;
        }
    }
    pthread_mutex_unlock(&loop.lock);
    return ret;
}

static int loopAddTimeout(int frequency, virEventTimeoutCallback cb, void *opaque,
                          virFreeCallback ff)
{
    loopTimeout *grown;
    int timer;

    if (!cb)
        return -1;
    pthread_mutex_lock(&loop.lock);
    if (!(grown = realloc(loop.timeouts, (loop.ntimeouts + 1) * sizeof(*grown)))) {
        pthread_mutex_unlock(&loop.lock);
        virReportOOMError();
        return -1;
    }
    loop.timeouts = grown;
    timer = loop.nextTimer++;
    loop.timeouts[loop.ntimeouts++] = (loopTimeout){
        timer, frequency, frequency >= 0 ? nowMs() + frequency : 0, cb, opaque, ff, false,
    };
    loopWake();
    pthread_mutex_unlock(&loop.lock);
    return timer;
}

static void loopUpdateTimeout(int timer, int frequency)
{
    pthread_mutex_lock(&loop.lock);
    for (size_t i = 0; i < loop.ntimeouts; i++) {
        loopTimeout *t = &loop.timeouts[i];
        if (t->timer == timer && !t->deleted) {
            t->frequency = frequency;
            t->expiresAt = frequency >= 0 ? nowMs() + frequency : 0;
            loopWake();
        }
    }
    pthread_mutex_unlock(&loop.lock);
}

static int loopRemoveTimeout(int timer)
{
    int ret = -1;

    pthread_mutex_lock(&loop.lock);
    for (size_t i = 0; i < loop.ntimeouts; i++) {
        if (loop.timeouts[i].timer == timer && !loop.timeouts[i].deleted) {
            loop.timeouts[i].deleted = true;
            loopWake();
            ret = 0;
        }
    }
    pthread_mutex_unlock(&loop.lock);
    return ret;
}

/* Make the wake-up eventfd if there is none. Returns 0, or -1 with errno
 * (nothing reported: loop lock held). */
static int loopWakeFDLocked(void)
{
    if (loop.wakefd < 0 &&
        (loop.wakefd = virFDAboveStdio(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK))) < 0)
        return -1;
    return 0;
}

VIR_EXPORT int virEventRegisterDefaultImpl(void)
{
    virResetLastError();
    pthread_mutex_lock(&loop.lock);
    if (loopWakeFDLocked() < 0) {
        int err = errno;
        pthread_mutex_unlock(&loop.lock);
        virReportSystemError(err, "%s", "cannot create the event loop's eventfd");
        return -1;
    }
    loop.registered = true;
    pthread_mutex_unlock(&loop.lock);
    virEventRegisterImpl(loopAddHandle, loopUpdateHandle, loopRemoveHandle,
                         loopAddTimeout, loopUpdateTimeout, loopRemoveTimeout);
    return 0;
}

static short toPoll(int events)
{
    short p = 0;
    if (events & VIR_EVENT_HANDLE_READABLE)
        p |= POLLIN;
    if (events & VIR_EVENT_HANDLE_WRITABLE)
        p |= POLLOUT;
    return p;
}

static int fromPoll(short revents)
{
    int e = 0;
    if (revents & POLLIN)
        e |= VIR_EVENT_HANDLE_READABLE;
    if (revents & POLLOUT)
        e |= VIR_EVENT_HANDLE_WRITABLE;
    if (revents & (POLLERR | POLLNVAL))
        e |= VIR_EVENT_HANDLE_ERROR;
    if (revents & POLLHUP)
        e |= VIR_EVENT_HANDLE_HANGUP;
    return e;
}

/* Drop deleted entries; their free functions are returned in @frees
 * (loop lock held). */
typedef struct pendingFree {
    virFreeCallback ff;
    void *opaque;
} pendingFree;

static size_t loopPurge(pendingFree *frees, size_t max)
{
    size_t n = 0, j = 0;

    for (size_t i = 0; i < loop.nhandles; i++) {
        if (loop.handles[i].deleted && n < max) {
            if (loop.handles[i].ff)
                frees[n++] = (pendingFree){ loop.handles[i].ff, loop.handles[i].opaque };
            continue;
        }
        loop.handles[j++] = loop.handles[i];
    }
    loop.nhandles = j;
    j = 0;
    for (size_t i = 0; i < loop.ntimeouts; i++) {
        if (loop.timeouts[i].deleted && n < max) {
            if (loop.timeouts[i].ff)
                frees[n++] = (pendingFree){ loop.timeouts[i].ff, loop.timeouts[i].opaque };
            continue;
        }
        loop.timeouts[j++] = loop.timeouts[i];
    }
    loop.ntimeouts = j;
    return n;
}

VIR_EXPORT int virEventRunDefaultImpl(void)
{
    struct pollfd *pfd = NULL;
    int *watches = NULL;
    size_t npfd = 0, nwatch;
    long long now, next = -1;
    int timeout, rc, ret = -1;
    bool oom = false;

    virResetLastError();
    pthread_mutex_lock(&loop.lock);
    if (!loop.registered) {
        pthread_mutex_unlock(&loop.lock);
        virReportError(VIR_ERR_INTERNAL_ERROR, "%s", "virEventRunDefaultImpl: "
                       "call virEventRegisterDefaultImpl() first");
        return -1;
    }
    /* None in a forked child that could not make its own at the fork. */
    if (loopWakeFDLocked() < 0) {
        int err = errno;
        pthread_mutex_unlock(&loop.lock);
        virReportSystemError(err, "%s", "virEventRunDefaultImpl: cannot create the "
                             "event loop's eventfd");
        return -1;
    }
    if (loop.running) {
        pthread_mutex_unlock(&loop.lock);
        virReportError(VIR_ERR_OPERATION_INVALID, "%s", "virEventRunDefaultImpl is "
                       "already running (in another thread, or in a callback)");
        return -1;
    }
    loop.running = true;
    loop.runner = pthread_self();

    /* The poll set: the wake-up eventfd, then every live watch. realloc,
     * not virReallocN: no error is reported with the lock held. */
    nwatch = loop.nhandles;
    if (loop.pfdMax < nwatch + 1) {
        struct pollfd *p = realloc(loop.pfd, (nwatch + 1) * sizeof(*p));
        int *w = p ? realloc(loop.pfdWatch, (nwatch + 1) * sizeof(*w)) : NULL;
        if (p)
            loop.pfd = p;
        if (w)
            loop.pfdWatch = w;
        if (!w) {
            oom = true;
            goto unlock;
        }
        loop.pfdMax = nwatch + 1;
    }
    pfd = loop.pfd;
    watches = loop.pfdWatch;
    pfd[npfd++] = (struct pollfd){ .fd = loop.wakefd, .events = POLLIN };
    for (size_t i = 0; i < loop.nhandles; i++) {
        loopHandle *h = &loop.handles[i];
        if (h->deleted || !toPoll(h->events))
            continue;
        watches[npfd] = h->watch;
        pfd[npfd++] = (struct pollfd){ .fd = h->fd, .events = toPoll(h->events) };
    }
    for (size_t i = 0; i < loop.ntimeouts; i++) {
        loopTimeout *t = &loop.timeouts[i];
        if (!t->deleted && t->frequency >= 0 && (next < 0 || t->expiresAt < next))
            next = t->expiresAt;
    }
    pthread_mutex_unlock(&loop.lock);

    now = nowMs();
    timeout = next < 0 ? -1 : next <= now ? 0 : (int)(next - now > INT32_MAX ? INT32_MAX
                                                                           : next - now);
    do {
        rc = poll(pfd, npfd, timeout);
    } while (rc < 0 && errno == EINTR);
    if (rc < 0) {
        virReportSystemError(errno, "%s", "the event loop's poll failed");
        pthread_mutex_lock(&loop.lock);
        goto unlock;
    }
    if (pfd[0].revents & POLLIN) {
        uint64_t v;
        if (read(loop.wakefd, &v, sizeof(v)) < 0) {
            /* EAGAIN: another wake-up was already consumed */
        }
    }

    /* Timers due: each called once per iteration, rescheduled first. */
    now = nowMs();
    pthread_mutex_lock(&loop.lock);
    for (size_t i = 0; i < loop.ntimeouts; i++) {
        loopTimeout *t = &loop.timeouts[i];
        if (t->deleted || t->frequency < 0 || t->expiresAt > now)
            continue;
        int timer = t->timer;
        virEventTimeoutCallback cb = t->cb;
        void *opaque = t->opaque;
        t->expiresAt = now + t->frequency;
        /* The array may grow (and move) while unlocked: index again after. */
        pthread_mutex_unlock(&loop.lock);
        cb(timer, opaque);
        pthread_mutex_lock(&loop.lock);
    }
    /* Watches that are ready, still registered and still interested. */
    for (size_t k = 1; k < npfd; k++) {
        if (!pfd[k].revents)
            continue;
        for (size_t i = 0; i < loop.nhandles; i++) {
            loopHandle *h = &loop.handles[i];
            if (h->watch != watches[k] || h->deleted)
                continue;
            int events = fromPoll(pfd[k].revents) &
                         (h->events | VIR_EVENT_HANDLE_ERROR | VIR_EVENT_HANDLE_HANGUP);
            virEventHandleCallback cb = h->cb;
            void *opaque = h->opaque;
            int fd = h->fd, watch = h->watch;
            if (!events)
                break;
            pthread_mutex_unlock(&loop.lock);
            cb(watch, fd, events, opaque);
            pthread_mutex_lock(&loop.lock);
            break;
        }
    }
    ret = 0;

 unlock:
    for (;;) {
        pendingFree frees[16];
        size_t n = loopPurge(frees, ARRAY_CARDINALITY(frees));
        if (!n)
            break;
        pthread_mutex_unlock(&loop.lock);
        for (size_t i = 0; i < n; i++)
            frees[i].ff(frees[i].opaque);
        pthread_mutex_lock(&loop.lock);
    }
    loop.running = false;
    pthread_mutex_unlock(&loop.lock);
    if (oom)
        virReportOOMError();
    return ret;
}

/* ---- fork ---------------------------------------------------------------- */

static void stateDispatch(int watch, int fd, int events, void *opaque);

/* In a forked child: make @fd a new eventfd of its own (same number, so
 * whoever holds it needs no update), no longer the object the parent
 * shares. Async-signal-safe. Returns false if it could not (EMFILE,
 * ENOMEM): @fd is then unchanged. */
static bool forkFreshEventfd(int fd)
{
    int nfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    bool ok = nfd >= 0 && dup3(nfd, fd, O_CLOEXEC) >= 0;

    if (nfd >= 0)
        close(nfd);
    return ok;
}

static void loopForkPrepare(void)
{
    pthread_mutex_lock(&implLock);
    pthread_mutex_lock(&loop.lock);
}

static void loopForkParent(void)
{
    pthread_mutex_unlock(&loop.lock);
    pthread_mutex_unlock(&implLock);
}

/* The child keeps the registered implementation and every watch and timer
 * (as libvirt's loop does), but its loop is its own: not running unless
 * the thread that forked was running it (fork in a callback), and woken
 * through an eventfd of its own, so that the child's changes wake the
 * child's loop, never the parent's. The watches of the library's event
 * states get an eventfd of their own too: on the parent's, the child's
 * loop would consume the wake-ups of the parent's events. */
static void loopForkChild(void)
{
    if (loop.running && !pthread_equal(loop.runner, pthread_self()))
        loop.running = false;
    if (loop.wakefd >= 0 && !forkFreshEventfd(loop.wakefd)) {
        /* virEventRunDefaultImpl makes one (or says why it cannot). */
        close(loop.wakefd);
        loop.wakefd = -1;
    }
    for (size_t i = 0; i < loop.nhandles; i++) {
        loopHandle *h = &loop.handles[i];
        /* Could not: not watched in the child, rather than shared. */
        if (h->cb == stateDispatch && !h->deleted && !forkFreshEventfd(h->fd))
            h->events = 0;
    }
    pthread_mutex_unlock(&loop.lock);
    pthread_mutex_unlock(&implLock);
}

/* The loop's fork handlers hold its locks across fork(). Lock order of
 * all the library's handlers: pthread_atfork runs prepare handlers in the
 * reverse order of their installation, parent and child handlers in that
 * order. These are installed when the library is loaded, before the
 * supervisor's (installed with the first group, supervisor.c forkInstall;
 * the drivers' have no prepare step), so the forking thread takes the
 * supervisor's lock, its job pool's and the error handler's first, the
 * loop's implLock and loop.lock last. Those two are leaves (nothing is
 * locked, reported or called while one is held, see the top of this file),
 * so whoever holds one releases it without waiting for a lock the forking
 * thread holds: taken last, no order of other threads' locking can
 * deadlock the fork. */
__attribute__((constructor)) static void loopForkInstall(void)
{
    /* ENOMEM only: a fork then finds the old behaviour. Nothing to report
     * to at load time. */
    (void)pthread_atfork(loopForkPrepare, loopForkParent, loopForkChild);
}

/* ---- event states of drivers --------------------------------------------- */

typedef struct eventCallback {
    int id;
    virConnectPtr conn;           /* holds a memory reference */
    virEventObjKind kind;
    int eventID;
    bool filter;
    unsigned char uuid[VIR_UUID_BUFLEN];
    void (*cb)(void);
    void *opaque;
    virFreeCallback freecb;
    bool legacy;
    bool deleted;
} eventCallback;

typedef struct eventRecord {
    virEventObjKind kind;
    int eventID;
    char name[64];
    unsigned char uuid[VIR_UUID_BUFLEN];
    int event, detail;
    virTypedParameterPtr params;
    int nparams;
} eventRecord;

struct virEventState {
    /* One for the driver, one while the loop watches efd (dropped by the
     * watch's free function, which the loop calls after the last callback
     * has returned). */
    _Atomic int refs;
    pthread_mutex_t lock;
    eventCallback *cbs;
    size_t ncbs;
    eventRecord *queue;
    size_t nqueue;
    int efd;                      /* written when the queue grows */
    int watch;                    /* -1 while not watched */
    bool dispatching;
    int nextID;
};

virEventState *virEventStateNew(void)
{
    virEventState *state;

    if (!VIR_ALLOC(state))
        return NULL;
    if ((state->efd = virFDAboveStdio(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK))) < 0) {
        virReportSystemError(errno, "%s", "cannot create an eventfd for events");
        free(state);
        return NULL;
    }
    pthread_mutex_init(&state->lock, NULL);
    atomic_init(&state->refs, 1);
    state->watch = -1;
    return state;
}

static void recordClear(eventRecord *r)
{
    virTypedParamsFree(r->params, r->nparams);
    r->params = NULL;
    r->nparams = 0;
}

static void stateUnref(void *opaque)
{
    virEventState *state = opaque;

    /* acq_rel: the loop's last use happens before the free. */
    if (atomic_fetch_sub_explicit(&state->refs, 1, memory_order_acq_rel) != 1)
        return;
    for (size_t i = 0; i < state->nqueue; i++)
        recordClear(&state->queue[i]);
    free(state->queue);
    free(state->cbs);
    close(state->efd);
    pthread_mutex_destroy(&state->lock);
    free(state);
}

void virEventStateFree(virEventState *state)
{
    int watch;

    if (!state)
        return;
    pthread_mutex_lock(&state->lock);
    watch = state->watch;
    state->watch = -1;
    pthread_mutex_unlock(&state->lock);
    if (watch >= 0)
        virEventRemoveHandle(watch);
    stateUnref(state);
}

/* Count live callbacks (state lock held). */
static size_t liveCallbacks(const virEventState *state)
{
    size_t n = 0;
    for (size_t i = 0; i < state->ncbs; i++)
        if (!state->cbs[i].deleted)
            n++;
    return n;
}

int virEventStateRegister(virEventState *state, virConnectPtr conn,
                          virEventObjKind kind, int eventID,
                          const unsigned char *uuid, void (*cb)(void),
                          void *opaque, virFreeCallback freecb, bool legacy)
{
    eventCallback *grown;
    int id = -1;

    pthread_mutex_lock(&state->lock);
    if (state->watch < 0) {
        /* The first callback: have the application's loop watch us. */
        atomic_fetch_add_explicit(&state->refs, 1, memory_order_relaxed);
        state->watch = virEventAddHandle(state->efd, VIR_EVENT_HANDLE_READABLE,
                                         stateDispatch, state, stateUnref);
        if (state->watch < 0) {
            atomic_fetch_sub_explicit(&state->refs, 1, memory_order_relaxed);
            pthread_mutex_unlock(&state->lock);
            virReportError(VIR_ERR_INTERNAL_ERROR, "%s", "cannot deliver events: no "
                           "event loop is registered (call virEventRegisterDefaultImpl() "
                           "or virEventRegisterImpl() first)");
            return -1;
        }
    }
    if ((grown = virReallocN(state->cbs, state->ncbs + 1, sizeof(*grown)))) {
        state->cbs = grown;
        id = state->nextID++;
        eventCallback *c = &state->cbs[state->ncbs++];
        memset(c, 0, sizeof(*c));
        c->id = id;
        virConnectHold(conn);
        c->conn = conn;
        c->kind = kind;
        c->eventID = eventID;
        if (uuid) {
            c->filter = true;
            memcpy(c->uuid, uuid, VIR_UUID_BUFLEN);
        }
        c->cb = cb;
        c->opaque = opaque;
        c->freecb = freecb;
        c->legacy = legacy;
    }
    pthread_mutex_unlock(&state->lock);
    return id;
}

/* Drop deleted callbacks unless an event is being delivered; returns them
 * in a new array for the caller to finish outside the lock (lock held). */
static eventCallback *takeDeleted(virEventState *state, size_t *n)
{
    eventCallback *out = NULL;
    size_t j = 0;

    *n = 0;
    if (state->dispatching)
        return NULL;
    for (size_t i = 0; i < state->ncbs; i++)
        if (state->cbs[i].deleted)
            (*n)++;
    if (!*n || !(out = virAllocN(*n, sizeof(*out)))) {
        *n = 0;
        return NULL;
    }
    *n = 0;
    for (size_t i = 0; i < state->ncbs; i++) {
        if (state->cbs[i].deleted)
            out[(*n)++] = state->cbs[i];
        else
            state->cbs[j++] = state->cbs[i];
    }
    state->ncbs = j;
    return out;
}

/* Finish removed callbacks: stop watching when none is left, call the
 * free functions and drop the connection references (no lock held). */
static void finishDeleted(virEventState *state)
{
    eventCallback *gone;
    size_t n;
    int watch = -1;

    pthread_mutex_lock(&state->lock);
    gone = takeDeleted(state, &n);
    if (!state->dispatching && liveCallbacks(state) == 0 && state->watch >= 0) {
        watch = state->watch;
        state->watch = -1;
    }
    pthread_mutex_unlock(&state->lock);
    if (watch >= 0)
        virEventRemoveHandle(watch);
    for (size_t i = 0; i < n; i++) {
        if (gone[i].freecb)
            gone[i].freecb(gone[i].opaque);
        virConnectRelease(gone[i].conn);
    }
    free(gone);
}

int virEventStateDeregister(virEventState *state, virConnectPtr conn,
                            virEventObjKind kind, int callbackID, void (*cb)(void))
{
    int ret = -1;

    pthread_mutex_lock(&state->lock);
    for (size_t i = 0; i < state->ncbs; i++) {
        eventCallback *c = &state->cbs[i];
        if (c->deleted || c->conn != conn || c->kind != kind)
            continue;
        if (callbackID >= 0 ? c->id == callbackID : (c->legacy && c->cb == cb)) {
            c->deleted = true;
            ret = 0;
            break;
        }
    }
    pthread_mutex_unlock(&state->lock);
    if (ret < 0) {
        if (callbackID >= 0)
            virReportError(VIR_ERR_INVALID_ARG, "no event callback with id %d on "
                           "this connection", callbackID);
        else
            virReportError(VIR_ERR_INVALID_ARG, "%s", "this event callback is not "
                           "registered on this connection");
        return -1;
    }
    finishDeleted(state);
    return 0;
}

void virEventStateConnClosed(virEventState *state, virConnectPtr conn)
{
    pthread_mutex_lock(&state->lock);
    for (size_t i = 0; i < state->ncbs; i++)
        if (state->cbs[i].conn == conn)
            state->cbs[i].deleted = true;
    pthread_mutex_unlock(&state->lock);
    finishDeleted(state);
}

static void queueRecord(virEventState *state, eventRecord *r)
{
    eventRecord *grown;
    uint64_t one = 1;

    pthread_mutex_lock(&state->lock);
    /* Nobody listens: nothing to keep. */
    if (liveCallbacks(state) == 0 ||
        !(grown = virReallocN(state->queue, state->nqueue + 1, sizeof(*grown)))) {
        pthread_mutex_unlock(&state->lock);
        recordClear(r);
        return;
    }
    state->queue = grown;
    state->queue[state->nqueue++] = *r;
    if (write(state->efd, &one, sizeof(one)) < 0) {
        /* EAGAIN: already signalled */
    }
    pthread_mutex_unlock(&state->lock);
}

void virEventStateQueueLifecycle(virEventState *state, virEventObjKind kind,
                                 const char *name, const unsigned char *uuid,
                                 int event, int detail)
{
    eventRecord r = { 0 };

    if (!state)
        return;
    r.kind = kind;
    r.eventID = kind == VIR_EVENT_OBJ_DOMAIN ? VIR_DOMAIN_EVENT_ID_LIFECYCLE
                                             : VIR_NETWORK_EVENT_ID_LIFECYCLE;
    virStrcpyTrunc(r.name, sizeof(r.name), name);
    memcpy(r.uuid, uuid, VIR_UUID_BUFLEN);
    r.event = event;
    r.detail = detail;
    queueRecord(state, &r);
}

void virEventStateQueueDomain(virEventState *state, int eventID, const char *name,
                              const unsigned char *uuid,
                              virTypedParameterPtr params, int nparams)
{
    eventRecord r = { 0 };
    int max = 0;

    if (!state)
        return;
    r.kind = VIR_EVENT_OBJ_DOMAIN;
    r.eventID = eventID;
    virStrcpyTrunc(r.name, sizeof(r.name), name);
    memcpy(r.uuid, uuid, VIR_UUID_BUFLEN);
    for (int i = 0; i < nparams; i++) {
        virTypedParameterPtr p = &params[i];
        int rc = 0;
        switch (p->type) {
        case VIR_TYPED_PARAM_INT:
            rc = virTypedParamsAddInt(&r.params, &r.nparams, &max, p->field, p->value.i);
            break;
        case VIR_TYPED_PARAM_UINT:
            rc = virTypedParamsAddUInt(&r.params, &r.nparams, &max, p->field, p->value.ui);
            break;
        case VIR_TYPED_PARAM_LLONG:
            rc = virTypedParamsAddLLong(&r.params, &r.nparams, &max, p->field, p->value.l);
            break;
        case VIR_TYPED_PARAM_ULLONG:
            rc = virTypedParamsAddULLong(&r.params, &r.nparams, &max, p->field, p->value.ul);
            break;
        case VIR_TYPED_PARAM_DOUBLE:
            rc = virTypedParamsAddDouble(&r.params, &r.nparams, &max, p->field, p->value.d);
            break;
        case VIR_TYPED_PARAM_BOOLEAN:
            rc = virTypedParamsAddBoolean(&r.params, &r.nparams, &max, p->field, p->value.b);
            break;
        case VIR_TYPED_PARAM_STRING:
            rc = virTypedParamsAddString(&r.params, &r.nparams, &max, p->field, p->value.s);
            break;
        }
        if (rc < 0) {
            recordClear(&r);
            return;
        }
    }
    queueRecord(state, &r);
}

/* Call @c for @r (no lock held). */
static void deliver(const eventCallback *c, const eventRecord *r)
{
    if (r->kind == VIR_EVENT_OBJ_DOMAIN) {
        virDomainPtr dom = virGetDomain(c->conn, r->name, r->uuid);
        if (!dom)
            return;
        switch (r->eventID) {
        case VIR_DOMAIN_EVENT_ID_LIFECYCLE:
            ((virConnectDomainEventCallback)(void (*)(void))c->cb)(c->conn, dom, r->event,
                                                                   r->detail, c->opaque);
            break;
        case VIR_DOMAIN_EVENT_ID_JOB_COMPLETED:
            ((virConnectDomainEventJobCompletedCallback)(void (*)(void))c->cb)(
                c->conn, dom, r->params, r->nparams, c->opaque);
            break;
        default:
            ((virConnectDomainEventGenericCallback)(void (*)(void))c->cb)(c->conn, dom,
                                                                          c->opaque);
            break;
        }
        virDomainFree(dom);
    } else {
        virNetworkPtr net = virGetNetwork(c->conn, r->name, r->uuid);
        if (!net)
            return;
        ((virConnectNetworkEventLifecycleCallback)(void (*)(void))c->cb)(c->conn, net,
                                                                         r->event, r->detail,
                                                                         c->opaque);
        virNetworkFree(net);
    }
}

/* The loop's callback: deliver everything queued, in order. */
static void stateDispatch(int watch ATTRIBUTE_UNUSED, int fd ATTRIBUTE_UNUSED,
                          int events ATTRIBUTE_UNUSED, void *opaque)
{
    virEventState *state = opaque;
    eventRecord *queue;
    size_t nqueue;
    uint64_t v;

    if (read(state->efd, &v, sizeof(v)) < 0) {
        /* EAGAIN: nothing new since the last drain */
    }
    pthread_mutex_lock(&state->lock);
    if (state->dispatching) {
        /* A callback runs the loop again: the outer call delivers. */
        pthread_mutex_unlock(&state->lock);
        return;
    }
    queue = state->queue;
    nqueue = state->nqueue;
    state->queue = NULL;
    state->nqueue = 0;
    state->dispatching = true;

    for (size_t e = 0; e < nqueue; e++) {
        const eventRecord *r = &queue[e];
        /* Callbacks added while delivering get the next events only;
         * removed ones are skipped from the moment they are removed. */
        size_t ncbs = state->ncbs;
        for (size_t i = 0; i < ncbs; i++) {
            eventCallback c = state->cbs[i];
            if (c.deleted || c.kind != r->kind || c.eventID != r->eventID ||
                (c.filter && memcmp(c.uuid, r->uuid, VIR_UUID_BUFLEN)))
                continue;
            /* c.conn stays referenced: deleted callbacks are not dropped
             * while dispatching. */
            pthread_mutex_unlock(&state->lock);
            deliver(&c, r);
            pthread_mutex_lock(&state->lock);
        }
    }
    state->dispatching = false;
    pthread_mutex_unlock(&state->lock);

    for (size_t e = 0; e < nqueue; e++)
        recordClear(&queue[e]);
    free(queue);
    finishDeleted(state);
}

/* ---- the public calls' argument checks ---- */

int virEventRegisterArgsCheck(virConnectPtr conn, virConnectPtr objConn, const char *objArg,
                              bool haveCb, int eventID, int lastID, const char *func,
                              int from)
{
    if (objConn && objConn != conn) {
        virReportErrorFull(from, VIR_ERR_INVALID_ARG, 0,
                           "%s in %s belongs to another connection", objArg, func);
        return -1;
    }
    if (!haveCb) {
        virReportErrorFull(from, VIR_ERR_INVALID_ARG, 0, "cb in %s must not be NULL", func);
        return -1;
    }
    if (eventID < 0 || eventID > lastID) {
        virReportErrorFull(from, VIR_ERR_INVALID_ARG, 0,
                           "eventID in %s must be less than %d", func, lastID + 1);
        return -1;
    }
    return 0;
}

int virEventCallbackIDCheck(int callbackID, const char *func, int from)
{
    if (callbackID < 0) {
        virReportErrorFull(from, VIR_ERR_INVALID_ARG, 0,
                           "callbackID in %s must be zero or greater", func);
        return -1;
    }
    return 0;
}
