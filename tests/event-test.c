/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The event loop (src/event.c) and the events of the test driver: the
 * default poll() loop's watches and timers, domain and network events
 * delivered from the loop's thread, events of a node shared by two
 * connections, JOB_COMPLETED at a job's end, and virDomainGetJobStats /
 * virDomainAbortJob on a job another connection started; the default loop
 * across fork() of an application whose event thread runs it.
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "drivertest.h"
#include "testutils.h"

/* Run the default loop until @cond holds or the generous timeout passes. */
static void tick(int timer, void *opaque)
{
    (void)timer;
    (void)opaque;
}

#define RUN_UNTIL(cond) \
    do { \
        int t_ = virEventAddTimeout(50, tick, NULL, NULL); \
        assert_true(t_ > 0); \
        long long end_ = testNowMs() + TEST_TIMEOUT_MS; \
        while (!(cond) && testNowMs() < end_) \
            assert_int_equal(virEventRunDefaultImpl(), 0); \
        virEventRemoveTimeout(t_); \
        assert_true(cond); \
    } while (0)

static int handleCalls, handleEvents, timerCalls, freeCalls;

static void onHandle(int watch, int fd, int events, void *opaque)
{
    char buf[16];
    (void)watch;
    (void)opaque;
    handleCalls++;
    handleEvents = events;
    if (read(fd, buf, sizeof(buf)) < 0) {
        /* empty: the test only counts */
    }
}

static void onTimer(int timer, void *opaque)
{
    (void)opaque;
    if (++timerCalls == 3)
        virEventUpdateTimeout(timer, -1);
}

static void onFree(void *opaque)
{
    (void)opaque;
    freeCalls++;
}

static void testDefaultLoop(void **state)
{
    int fds[2];
    (void)state;

    assert_int_equal(virEventRegisterDefaultImpl(), 0);
    assert_int_equal(virEventRegisterDefaultImpl(), 0);
    assert_int_equal(pipe2(fds, O_CLOEXEC | O_NONBLOCK), 0);
    int watch = virEventAddHandle(fds[0], VIR_EVENT_HANDLE_READABLE, onHandle, NULL, onFree);
    assert_true(watch > 0);
    assert_int_equal(write(fds[1], "x", 1), 1);
    RUN_UNTIL(handleCalls == 1);
    assert_int_equal(handleEvents, VIR_EVENT_HANDLE_READABLE);

    /* Not interested any more: not called even though readable. */
    virEventUpdateHandle(watch, 0);
    assert_int_equal(write(fds[1], "x", 1), 1);
    int t = virEventAddTimeout(0, tick, NULL, NULL);
    assert_int_equal(virEventRunDefaultImpl(), 0);
    assert_int_equal(handleCalls, 1);
    virEventRemoveTimeout(t);

    /* A periodic timer fires until it disables itself. */
    int timer = virEventAddTimeout(10, onTimer, NULL, onFree);
    assert_true(timer > 0);
    RUN_UNTIL(timerCalls == 3);

    /* Removal: the free functions run after the iteration, not inside. */
    assert_int_equal(virEventRemoveHandle(watch), 0);
    assert_int_equal(virEventRemoveTimeout(timer), 0);
    assert_int_equal(virEventRemoveHandle(watch), -1);
    assert_int_equal(freeCalls, 0);
    RUN_UNTIL(freeCalls == 2);
    close(fds[0]);
    close(fds[1]);
}

typedef struct {
    int lifecycle[16][2];      /* event, detail */
    int nlifecycle;
    int jobs;
    int jobOperation;
    unsigned long long jobTotal;
    int reboots;
    int networks[8];
    int nnetworks;
    bool inLoopThread;
    int freed;
} Seen;

static pthread_t loopThread;

static int onLifecycle(virConnectPtr conn, virDomainPtr dom, int event, int detail,
                       void *opaque)
{
    Seen *s = opaque;
    (void)conn;
    assert_string_equal(virDomainGetName(dom), "test");
    if (s->nlifecycle < 16) {
        s->lifecycle[s->nlifecycle][0] = event;
        s->lifecycle[s->nlifecycle][1] = detail;
        s->nlifecycle++;
    }
    s->inLoopThread = pthread_equal(pthread_self(), loopThread);
    return 0;
}

static void onJobCompleted(virConnectPtr conn, virDomainPtr dom, virTypedParameterPtr params,
                           int nparams, void *opaque)
{
    Seen *s = opaque;
    int success = 0;
    (void)conn;
    (void)dom;
    s->jobs++;
    assert_int_equal(virTypedParamsGetInt(params, nparams, VIR_DOMAIN_JOB_OPERATION,
                                          &s->jobOperation), 1);
    assert_int_equal(virTypedParamsGetULLong(params, nparams, VIR_DOMAIN_JOB_DATA_TOTAL,
                                             &s->jobTotal), 1);
    assert_int_equal(virTypedParamsGetBoolean(params, nparams, VIR_DOMAIN_JOB_SUCCESS,
                                              &success), 1);
    assert_int_equal(success, 1);
}

static void onReboot(virConnectPtr conn, virDomainPtr dom, void *opaque)
{
    (void)conn;
    (void)dom;
    ((Seen *)opaque)->reboots++;
}

static void onNetwork(virConnectPtr conn, virNetworkPtr net, int event, int detail,
                      void *opaque)
{
    Seen *s = opaque;
    (void)conn;
    (void)detail;
    assert_string_equal(virNetworkGetName(net), "default");
    if (s->nnetworks < 8)
        s->networks[s->nnetworks++] = event;
}

static void onSeenFree(void *opaque)
{
    ((Seen *)opaque)->freed++;
}

/* ---- fork ----
 *
 * An application forks while its event thread polls (and, natively,
 * while another thread adds and removes watches and timers). The child
 * runs a loop of its own: it is not "already running", its changes wake
 * its own loop, never the parent's, and no lock of the loop stays held. */

static atomic_bool forkStop, churnStop;
static atomic_uint forkLoopIters, forkLoopErrors, churnOps, parentPipeCalls;
static atomic_int forkLoopTid;
/* The parent's event thread, its pipe watch, the churning thread: static,
 * so that forkTeardown stops them also after a failed assertion. */
static pthread_t forkThread, churnThread;
static bool forkThreadOn, churnThreadOn;
static int forkPfds[2] = { -1, -1 };
static int forkWatch;

static void *forkLoopMain(void *arg)
{
    (void)arg;
    atomic_store(&forkLoopTid, (int)syscall(SYS_gettid));
    while (!atomic_load(&forkStop)) {
        if (virEventRunDefaultImpl() < 0)
            atomic_fetch_add(&forkLoopErrors, 1);
        atomic_fetch_add(&forkLoopIters, 1);
    }
    return NULL;
}

/* Wait until thread @tid is blocked in poll(2); on a timeout, fail saying
 * what it was doing instead (its /proc syscall line) and how many loop
 * iterations it made meanwhile. */
static bool threadInPoll(int tid);
static void waitInPoll(int tid)
{
    unsigned int iters = atomic_load(&forkLoopIters);
    char path[64], buf[128] = "";
    FILE *f;

    if (TEST_WAIT_UNTIL(threadInPoll(tid), TEST_TIMEOUT_MS))
        return;
    snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", tid);
    if ((f = fopen(path, "r"))) {
        if (!fgets(buf, sizeof(buf), f))
            buf[0] = '\0';
        fclose(f);
    } else {
        snprintf(buf, sizeof(buf), "cannot open %s: %s", path, strerror(errno));
    }
    buf[strcspn(buf, "\n")] = '\0';
    fail_msg("the event thread %d was not seen in poll within %d s: it made %u loop "
             "iterations meanwhile; its syscall line: %s", tid, TEST_TIMEOUT_MS / 1000,
             atomic_load(&forkLoopIters) - iters, buf);
}

/* Is thread @tid blocked in poll(2) now (/proc/self/task/TID/syscall)?
 * A poll(2) that a signal interrupted without running a handler goes on
 * in the kernel as restart_syscall(2), still blocked in the same poll,
 * and its line shows that number from then on. Under valgrind a forked
 * child's SIGCHLD (SIG_DFL) does that: valgrind keeps every signal
 * blocked in the forking thread outside blocking syscalls, so the signal
 * is queued rather than discarded and taken by the event thread in poll.
 * Nothing else the event thread calls resumes that way (its lock waits,
 * and valgrind's, have no timeout). */
static bool threadInPoll(int tid)
{
    long nr = testThreadSyscall(tid);
    return nr == SYS_poll || nr == SYS_ppoll || nr == SYS_restart_syscall;
}

static void onParentPipe(int watch, int fd, int events, void *opaque)
{
    char buf[16];
    (void)watch;
    (void)events;
    (void)opaque;
    if (read(fd, buf, sizeof(buf)) > 0)
        atomic_fetch_add(&parentPipeCalls, 1);
}

static void onFlag(int timer, void *opaque)
{
    (void)timer;
    *(int *)opaque = 1;
}

static void onChildPipe(int watch, int fd, int events, void *opaque)
{
    char buf[16];
    (void)watch;
    (void)events;
    if (read(fd, buf, sizeof(buf)) > 0)
        *(int *)opaque = 1;
}

/* In the child (no other thread): a loop of its own. Returns NULL, or
 * what failed. */
static const char *childOwnLoop(void)
{
    static char why[256];
    int safety = 0, fired = 0, readable = 0;
    int fds[2];

    /* Ends a Run that nothing else would end: its firing is a failure. */
    int st = virEventAddTimeout(TEST_TIMEOUT_MS, onFlag, &safety, NULL);
    if (st <= 0)
        return "virEventAddTimeout in the child failed";
    /* The add woke the child's loop (its own eventfd): this returns. */
    if (virEventRunDefaultImpl() < 0) {
        snprintf(why, sizeof(why), "virEventRunDefaultImpl in the child: %s",
                 virGetLastErrorMessage());
        return why;
    }
    if (safety)
        return "the child's loop was not woken by the child's own change";
    /* A timer of the child's fires. */
    int t = virEventAddTimeout(1, onFlag, &fired, NULL);
    while (!fired && !safety)
        if (virEventRunDefaultImpl() < 0)
            return "virEventRunDefaultImpl in the child failed";
    if (!fired)
        return "the child's timer did not fire";
    /* A watch of the child's is called, removed and freed. */
    if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0)
        return "pipe2 in the child failed";
    int w = virEventAddHandle(fds[0], VIR_EVENT_HANDLE_READABLE, onChildPipe, &readable, NULL);
    if (w <= 0 || write(fds[1], "x", 1) != 1)
        return "a watch of the child's could not be added";
    while (!readable && !safety)
        if (virEventRunDefaultImpl() < 0)
            return "virEventRunDefaultImpl in the child failed";
    if (!readable)
        return "the child's watch was not called";
    if (virEventRemoveHandle(w) < 0 || virEventRemoveTimeout(t) < 0 ||
        virEventRemoveTimeout(st) < 0)
        return "the child's watch or timers could not be removed";
    if (virEventRunDefaultImpl() < 0)
        return "virEventRunDefaultImpl in the child failed";
    close(fds[0]);
    close(fds[1]);
    return NULL;
}

/* Fork; the child runs childOwnLoop and says how it went through a pipe.
 * Waits (up to the generous timeout) for the child to end. */
static void forkChildLoop(void)
{
    int p[2];
    char out[256] = "";
    int status = 0;

    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        const char *why = childOwnLoop();
        if (why)
            (void)!write(p[1], why, strlen(why));
        _exit(why ? 1 : 0);
    }
    close(p[1]);
    bool ended = TEST_WAIT_UNTIL(waitpid(pid, &status, WNOHANG) == pid, TEST_TIMEOUT_MS);
    if (!ended) {
        /* Blocked (a lock held at the fork, or a loop never woken). */
        (void)kill(pid, SIGKILL);
        (void)waitpid(pid, &status, 0);
    }
    ssize_t n = read(p[0], out, sizeof(out) - 1);
    out[n > 0 ? n : 0] = '\0';
    close(p[0]);
    if (!ended)
        fail_msg("the forked child did not end within %d s", TEST_TIMEOUT_MS / 1000);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("the forked child failed (status 0x%x): %s", status, out);
}

/* The event thread of the parent starts, with a watch of the parent's. */
static void forkLoopStart(void)
{
    assert_int_equal(virEventRegisterDefaultImpl(), 0);
    atomic_store(&forkStop, false);
    atomic_store(&forkLoopErrors, 0);
    atomic_store(&forkLoopTid, 0);
    atomic_store(&parentPipeCalls, 0);
    assert_int_equal(pipe2(forkPfds, O_CLOEXEC | O_NONBLOCK), 0);
    forkWatch = virEventAddHandle(forkPfds[0], VIR_EVENT_HANDLE_READABLE, onParentPipe,
                                  NULL, NULL);
    assert_true(forkWatch > 0);
    assert_int_equal(pthread_create(&forkThread, NULL, forkLoopMain, NULL), 0);
    forkThreadOn = true;
    assert_true(TEST_WAIT_UNTIL(atomic_load(&forkLoopTid) > 0, TEST_TIMEOUT_MS));
}

/* Stop the churning thread and the parent's event thread (a change wakes
 * it), free what they left: after each fork test, passed or failed. */
static int forkTeardown(void **state)
{
    (void)state;
    if (churnThreadOn) {
        atomic_store(&churnStop, true);
        pthread_join(churnThread, NULL);
        churnThreadOn = false;
    }
    atomic_store(&forkStop, true);
    /* Wakes the loop thread, and the iteration run here. */
    int t = virEventAddTimeout(0, tick, NULL, NULL);
    if (forkThreadOn) {
        pthread_join(forkThread, NULL);
        forkThreadOn = false;
    }
    if (forkWatch > 0)
        virEventRemoveHandle(forkWatch);
    forkWatch = 0;
    virEventRemoveTimeout(t);
    /* What was removed: freed at the end of an iteration. */
    (void)virEventRunDefaultImpl();
    for (int i = 0; i < 2; i++) {
        if (forkPfds[i] >= 0)
            close(forkPfds[i]);
        forkPfds[i] = -1;
    }
    return 0;
}

/* The parent's loop still works, and made no error. */
static void forkLoopCheck(void)
{
    unsigned int calls = atomic_load(&parentPipeCalls);
    assert_int_equal(write(forkPfds[1], "x", 1), 1);
    assert_true(TEST_WAIT_UNTIL(atomic_load(&parentPipeCalls) > calls, TEST_TIMEOUT_MS));
    assert_int_equal(atomic_load(&forkLoopErrors), 0);
}

/* Fork while the event thread polls: the child's loop is its own (before:
 * "virEventRunDefaultImpl is already running" in the child, and its
 * changes woke the parent's loop). */
static void testForkWhilePolling(void **state)
{
    (void)state;

    forkLoopStart();
    int tid = atomic_load(&forkLoopTid);
    for (int i = 0; i < 3; i++) {
        waitInPoll(tid);
        unsigned int iters = atomic_load(&forkLoopIters);
        forkChildLoop();
        /* Nothing the child did woke the parent's loop (before: the
         * child's changes wrote to the eventfd the parent polls). Had it,
         * the iteration it made ends before the thread polls again. */
        waitInPoll(tid);
        assert_int_equal(atomic_load(&forkLoopIters), iters);
    }
    forkLoopCheck();
}

/* Adds, updates and removes watches and timers without pause. */
static void *churnMain(void *arg)
{
    int fd = *(int *)arg;
    while (!atomic_load(&churnStop)) {
        int w = virEventAddHandle(fd, VIR_EVENT_HANDLE_READABLE, onParentPipe, NULL, NULL);
        int t = virEventAddTimeout(TEST_TIMEOUT_MS, tick, NULL, NULL);
        virEventUpdateHandle(w, 0);
        virEventUpdateTimeout(t, -1);
        if (w <= 0 || t <= 0 || virEventRemoveHandle(w) < 0 || virEventRemoveTimeout(t) < 0)
            atomic_fetch_add(&forkLoopErrors, 1);
        atomic_fetch_add(&churnOps, 1);
    }
    return NULL;
}

/* Fork while the event thread runs and another thread changes its watches
 * and timers: the fork handlers hold the loop's locks across fork(), so
 * no child finds one held by a thread it does not have. */
static void testForkWhileChurning(void **state)
{
    int forks = RUNNING_ON_VALGRIND ? 4 : 20;
    (void)state;

#if defined(__SANITIZE_ADDRESS__)
    /* As in fork-child-test: GCC 12's libasan holds none of its
     * allocator's locks across fork(), so a child forked while another
     * thread allocates (here: adds a watch) can block for ever in its
     * own first allocation of that size. */
    printf("skipped under AddressSanitizer: its allocator is not fork-safe in this "
           "runtime (a child can block for ever on an allocator lock held at the fork)\n");
    skip();
#endif
    forkLoopStart();
    atomic_store(&churnOps, 0);
    atomic_store(&churnStop, false);
    assert_int_equal(pthread_create(&churnThread, NULL, churnMain, &forkPfds[0]), 0);
    churnThreadOn = true;
    for (int i = 0; i < forks; i++) {
        unsigned int before = atomic_load(&churnOps);
        /* Fork while changes are being made: wait for the next one. */
        assert_true(TEST_WAIT_UNTIL(atomic_load(&churnOps) > before, TEST_TIMEOUT_MS));
        forkChildLoop();
    }
    forkLoopCheck();
}

/* Events of the shared default node reach another connection. */
static void testLifecycleEvents(void **state)
{
    Seen seen = { 0 };
    (void)state;

    loopThread = pthread_self();
    assert_int_equal(virEventRegisterDefaultImpl(), 0);
    virConnectPtr a = virConnectOpen("test:///default");
    virConnectPtr watcher = virConnectOpenReadOnly("test:///default");
    virDomainPtr dom = virDomainLookupByName(a, "test");
    virNetworkPtr net = virNetworkLookupByName(a, "default");

    int lc = virConnectDomainEventRegisterAny(watcher, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                              VIR_DOMAIN_EVENT_CALLBACK(onLifecycle), &seen,
                                              onSeenFree);
    int rb = virConnectDomainEventRegisterAny(watcher, NULL, VIR_DOMAIN_EVENT_ID_REBOOT,
                                              VIR_DOMAIN_EVENT_CALLBACK(onReboot), &seen,
                                              NULL);
    int nt = virConnectNetworkEventRegisterAny(watcher, NULL, VIR_NETWORK_EVENT_ID_LIFECYCLE,
                                               VIR_NETWORK_EVENT_CALLBACK(onNetwork), &seen,
                                               NULL);
    assert_true(lc >= 0 && rb >= 0 && nt >= 0);
    assert_int_equal(virConnectDomainEventRegisterAny(watcher, NULL, 999,
                                                      VIR_DOMAIN_EVENT_CALLBACK(onReboot),
                                                      NULL, NULL), -1);
    assert_last_error(VIR_ERR_INVALID_ARG);
    /* The same argument checks for domains and networks, in libvirt's
     * error domains: a handle of another connection, no callback, an
     * unknown event, a negative callback id. */
    assert_int_equal(virConnectDomainEventRegisterAny(watcher, dom,
                                                      VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                                      VIR_DOMAIN_EVENT_CALLBACK(onLifecycle),
                                                      NULL, NULL), -1);
    assert_last_error(VIR_ERR_INVALID_ARG);
    assert_int_equal(virGetLastError()->domain, VIR_FROM_DOMAIN);
    assert_string_equal(virGetLastErrorMessage(),
                        "dom in virConnectDomainEventRegisterAny belongs to another connection");
    assert_int_equal(virConnectNetworkEventRegisterAny(watcher, net,
                                                       VIR_NETWORK_EVENT_ID_LIFECYCLE,
                                                       VIR_NETWORK_EVENT_CALLBACK(onNetwork),
                                                       NULL, NULL), -1);
    assert_last_error(VIR_ERR_INVALID_ARG);
    assert_int_equal(virGetLastError()->domain, VIR_FROM_NETWORK);
    assert_int_equal(virConnectNetworkEventRegisterAny(watcher, NULL,
                                                       VIR_NETWORK_EVENT_ID_LIFECYCLE,
                                                       NULL, NULL, NULL), -1);
    assert_last_error(VIR_ERR_INVALID_ARG);
    assert_string_equal(virGetLastErrorMessage(),
                        "cb in virConnectNetworkEventRegisterAny must not be NULL");
    assert_int_equal(virConnectNetworkEventRegisterAny(watcher, NULL, 1,
                                                       VIR_NETWORK_EVENT_CALLBACK(onNetwork),
                                                       NULL, NULL), -1);
    assert_string_equal(virGetLastErrorMessage(),
                        "eventID in virConnectNetworkEventRegisterAny must be less than 1");
    assert_int_equal(virConnectNetworkEventDeregisterAny(watcher, -1), -1);
    assert_last_error(VIR_ERR_INVALID_ARG);
    assert_int_equal(virGetLastError()->domain, VIR_FROM_NETWORK);
    assert_int_equal(virConnectDomainEventDeregisterAny(watcher, -1), -1);
    assert_int_equal(virGetLastError()->domain, VIR_FROM_DOMAIN);
    assert_string_equal(virGetLastErrorMessage(),
                        "callbackID in virConnectDomainEventDeregisterAny must be zero or greater");

    assert_int_equal(virDomainSuspend(dom), 0);
    assert_int_equal(virDomainResume(dom), 0);
    assert_int_equal(virDomainReboot(dom, 0), 0);
    assert_int_equal(virDomainDestroy(dom), 0);
    assert_int_equal(virNetworkDestroy(net), 0);
    /* Nothing is delivered outside the loop. */
    assert_int_equal(seen.nlifecycle, 0);
    RUN_UNTIL(seen.nlifecycle == 3 && seen.reboots == 1 && seen.nnetworks == 1);
    assert_true(seen.inLoopThread);
    assert_int_equal(seen.lifecycle[0][0], VIR_DOMAIN_EVENT_SUSPENDED);
    assert_int_equal(seen.lifecycle[0][1], VIR_DOMAIN_EVENT_SUSPENDED_PAUSED);
    assert_int_equal(seen.lifecycle[1][0], VIR_DOMAIN_EVENT_RESUMED);
    assert_int_equal(seen.lifecycle[2][0], VIR_DOMAIN_EVENT_STOPPED);
    assert_int_equal(seen.lifecycle[2][1], VIR_DOMAIN_EVENT_STOPPED_DESTROYED);
    assert_int_equal(seen.networks[0], VIR_NETWORK_EVENT_STOPPED);

    /* A deregistered callback hears nothing more; its freecb ran. */
    assert_int_equal(virConnectDomainEventDeregisterAny(watcher, lc), 0);
    assert_int_equal(seen.freed, 1);
    assert_int_equal(virConnectDomainEventDeregisterAny(watcher, lc), -1);
    assert_last_error(VIR_ERR_INVALID_ARG);
    assert_int_equal(virNetworkCreate(net), 0);
    RUN_UNTIL(seen.nnetworks == 2);
    assert_int_equal(seen.networks[1], VIR_NETWORK_EVENT_STARTED);
    assert_int_equal(seen.nlifecycle, 3);

    virDomainFree(dom);
    virNetworkFree(net);
    assert_int_equal(virConnectClose(a), 0);
    /* Closing drops the connection's remaining callbacks. */
    assert_int_equal(virConnectClose(watcher), 0);
}

/* A job's end is an event: JOB_COMPLETED with its statistics, and the
 * lifecycle events of what it did. */
static void testJobCompletedEvent(void **state)
{
    Seen seen = { 0 };
    char img[512];
    (void)state;

    drvNeedWorker();
    loopThread = pthread_self();
    assert_int_equal(virEventRegisterDefaultImpl(), 0);
    virConnectPtr conn = drvOpenNode("events-node.xml",
                                     "<node><domain type='test'><name>test</name>"
                                     "<memory unit='MiB'>4</memory></domain></node>", "");
    virDomainPtr dom = virDomainLookupByName(conn, "test");
    int lc = virConnectDomainEventRegisterAny(conn, dom, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                              VIR_DOMAIN_EVENT_CALLBACK(onLifecycle), &seen,
                                              NULL);
    int jc = virConnectDomainEventRegisterAny(conn, NULL, VIR_DOMAIN_EVENT_ID_JOB_COMPLETED,
                                              VIR_DOMAIN_EVENT_CALLBACK(onJobCompleted),
                                              &seen, NULL);
    assert_true(lc >= 0 && jc >= 0);

    drvPath(img, sizeof(img), "events.img");
    assert_int_equal(virDomainSave(dom, img), 0);
    RUN_UNTIL(seen.jobs == 1 && seen.nlifecycle == 1);
    assert_int_equal(seen.jobOperation, VIR_DOMAIN_JOB_OPERATION_SAVE);
    assert_true(seen.jobTotal >= 4u << 20);
    assert_int_equal(seen.lifecycle[0][0], VIR_DOMAIN_EVENT_STOPPED);
    assert_int_equal(seen.lifecycle[0][1], VIR_DOMAIN_EVENT_STOPPED_SAVED);

    assert_int_equal(virDomainRestore(conn, img), 0);
    RUN_UNTIL(seen.jobs == 2 && seen.nlifecycle == 2);
    assert_int_equal(seen.jobOperation, VIR_DOMAIN_JOB_OPERATION_RESTORE);
    assert_int_equal(seen.lifecycle[1][0], VIR_DOMAIN_EVENT_STARTED);
    assert_int_equal(seen.lifecycle[1][1], VIR_DOMAIN_EVENT_STARTED_RESTORED);

    /* The last job's statistics stay readable. */
    int type = 0, n = 0, success = 0;
    virTypedParameterPtr params = NULL;
    assert_int_equal(virDomainGetJobStats(dom, &type, &params, &n,
                                          VIR_DOMAIN_JOB_STATS_COMPLETED), 0);
    assert_int_equal(type, VIR_DOMAIN_JOB_COMPLETED);
    assert_int_equal(virTypedParamsGetBoolean(params, n, VIR_DOMAIN_JOB_SUCCESS, &success), 1);
    assert_int_equal(success, 1);
    virTypedParamsFree(params, n);
    assert_int_equal(virDomainGetJobStats(dom, &type, &params, &n,
                                          VIR_DOMAIN_JOB_STATS_COMPLETED), 0);
    assert_int_equal(type, VIR_DOMAIN_JOB_NONE);
    assert_null(params);

    unlink(img);
    virDomainFree(dom);
    assert_int_equal(virConnectClose(conn), 0);
}

/* A second connection sees a job the first started, reads its figures and
 * aborts it, as virsh domjobinfo / domjobabort in another process would
 * on libvirt. */
static void testJobOfAnotherConnection(void **state)
{
    char img[512];
    (void)state;

    drvNeedWorker();
    virConnectPtr a = virConnectOpen("test:///default?bandwidth=1");
    virConnectPtr b = virConnectOpen("test:///default");
    virDomainPtr da = virDomainLookupByName(a, "test");
    virDomainPtr db = virDomainLookupByName(b, "test");
    virDomainJobInfo info;
    virTypedParameterPtr params = NULL;
    int type = 0, n = 0, op = 0;
    unsigned long long processed = 0;
    const char *errmsg = NULL;

    drvPath(img, sizeof(img), "other.img");
    virJobPtr job = virDomainSaveJob(da, img);
    assert_non_null(job);
    assert_true(TEST_WAIT_UNTIL(virDomainGetJobInfo(db, &info) == 0 &&
                                info.dataProcessed > 0, TEST_TIMEOUT_MS));
    assert_int_equal(info.type, VIR_DOMAIN_JOB_BOUNDED);
    assert_true(info.dataTotal > info.dataProcessed);
    assert_int_equal(virDomainGetJobStats(db, &type, &params, &n, 0), 0);
    assert_int_equal(type, VIR_DOMAIN_JOB_BOUNDED);
    assert_int_equal(virTypedParamsGetInt(params, n, VIR_DOMAIN_JOB_OPERATION, &op), 1);
    assert_int_equal(op, VIR_DOMAIN_JOB_OPERATION_SAVE);
    assert_int_equal(virTypedParamsGetULLong(params, n, VIR_DOMAIN_JOB_DATA_PROCESSED,
                                             &processed), 1);
    assert_true(processed > 0);
    virTypedParamsFree(params, n);

    assert_int_equal(virDomainAbortJobFlags(db, 1), -1);
    assert_last_error(VIR_ERR_INVALID_ARG);
    assert_int_equal(virDomainAbortJob(db), 0);
    assert_int_equal(virJobWait(job, TEST_TIMEOUT_MS), 0);
    assert_int_equal(virJobGetError(job)->code, VIR_ERR_OPERATION_ABORTED);
    char jobmsg[256];
    snprintf(jobmsg, sizeof(jobmsg), "%s", virJobGetError(job)->message);
    assert_int_equal(virJobDestroy(job), 0);
    assert_false(drvExists(img));
    assert_int_equal(drvState(db), VIR_DOMAIN_RUNNING);

    assert_int_equal(virDomainGetJobStats(db, &type, &params, &n,
                                          VIR_DOMAIN_JOB_STATS_COMPLETED), 0);
    assert_int_equal(type, VIR_DOMAIN_JOB_CANCELLED);
    assert_int_equal(virTypedParamsGetString(params, n, VIR_DOMAIN_JOB_ERRMSG, &errmsg), 1);
    /* The job's own message, handed to the driver when the job ended. */
    assert_string_equal(errmsg, jobmsg);
    assert_non_null(strstr(errmsg, "cancelled"));
    virTypedParamsFree(params, n);

    virDomainFree(da);
    virDomainFree(db);
    assert_int_equal(virConnectClose(a), 0);
    assert_int_equal(virConnectClose(b), 0);
}

static void quiet(void *opaque, virErrorPtr err)
{
    (void)opaque;
    (void)err;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(testDefaultLoop),
        cmocka_unit_test_teardown(testForkWhilePolling, forkTeardown),
        cmocka_unit_test_teardown(testForkWhileChurning, forkTeardown),
        cmocka_unit_test(testLifecycleEvents),
        cmocka_unit_test(testJobCompletedEvent),
        cmocka_unit_test(testJobOfAnotherConnection),
    };
    virSetErrorFunc(NULL, quiet);
    return cmocka_run_group_tests(tests, drvSetupRundir, drvTeardownRundir);
}
