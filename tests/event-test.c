/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The event loop (src/event.c) and the events of the test driver: the
 * default poll() loop's watches and timers, domain and network events
 * delivered from the loop's thread, events of a node shared by two
 * connections, JOB_COMPLETED at a job's end, and virDomainGetJobStats /
 * virDomainAbortJob on a job another connection started.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
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
        cmocka_unit_test(testLifecycleEvents),
        cmocka_unit_test(testJobCompletedEvent),
        cmocka_unit_test(testJobOfAnotherConnection),
    };
    virSetErrorFunc(NULL, quiet);
    return cmocka_run_group_tests(tests, drvSetupRundir, drvTeardownRundir);
}
