/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * events.c: domain and network events from the default event loop, as
 * libvirt's event-test example: a thread runs virEventRunDefaultImpl, a
 * second connection to the same node registers lifecycle, job-completed
 * and network callbacks, and the first one suspends, resumes, saves and
 * restores the domain and restarts the network. Every change, and the
 * end of each job, arrives as an event in the loop's thread.
 *
 *   events URI DOMAIN IMAGE
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

static volatile int quit;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int seen;
static pthread_t loopThread;

static const char *eventName(int event, int detail)
{
    static const char *const names[][7] = {
        [VIR_DOMAIN_EVENT_DEFINED] = { "Defined Added", "Defined Updated" },
        [VIR_DOMAIN_EVENT_UNDEFINED] = { "Undefined Removed" },
        [VIR_DOMAIN_EVENT_STARTED] = { "Started Booted", "Started Migrated", "Started Restored" },
        [VIR_DOMAIN_EVENT_SUSPENDED] = { "Suspended Paused" },
        [VIR_DOMAIN_EVENT_RESUMED] = { "Resumed Unpaused" },
        [VIR_DOMAIN_EVENT_STOPPED] = { "Stopped Shutdown", "Stopped Destroyed", "Stopped Crashed",
                                       "Stopped Migrated", "Stopped Saved", "Stopped Failed" },
        [VIR_DOMAIN_EVENT_SHUTDOWN] = { "Shutdown Finished" },
    };
    if (event < 0 || event > VIR_DOMAIN_EVENT_SHUTDOWN || detail < 0 || detail >= 7 ||
        !names[event][detail])
        return "other";
    return names[event][detail];
}

static void noteEvent(void)
{
    pthread_mutex_lock(&lock);
    seen++;
    pthread_cond_broadcast(&cond);
    pthread_mutex_unlock(&lock);
}

static int lifecycleCallback(virConnectPtr conn, virDomainPtr dom, int event, int detail,
                             void *opaque)
{
    (void)conn;
    (void)opaque;
    printf("event: domain %s: %s (in the loop thread: %s)\n", virDomainGetName(dom),
           eventName(event, detail), pthread_equal(pthread_self(), loopThread) ? "yes" : "no");
    fflush(stdout);
    noteEvent();
    return 0;
}

static void jobCompletedCallback(virConnectPtr conn, virDomainPtr dom,
                                 virTypedParameterPtr params, int nparams, void *opaque)
{
    int op = 0;
    unsigned long long total = 0, elapsed = 0;

    (void)conn;
    (void)opaque;
    virTypedParamsGetInt(params, nparams, VIR_DOMAIN_JOB_OPERATION, &op);
    virTypedParamsGetULLong(params, nparams, VIR_DOMAIN_JOB_DATA_TOTAL, &total);
    virTypedParamsGetULLong(params, nparams, VIR_DOMAIN_JOB_TIME_ELAPSED, &elapsed);
    printf("event: domain %s: job completed: operation %s, %llu bytes\n",
           virDomainGetName(dom),
           op == VIR_DOMAIN_JOB_OPERATION_SAVE ? "save" :
           op == VIR_DOMAIN_JOB_OPERATION_RESTORE ? "restore" : "other", total);
    fflush(stdout);
    noteEvent();
}

static void networkCallback(virConnectPtr conn, virNetworkPtr net, int event, int detail,
                            void *opaque)
{
    (void)conn;
    (void)detail;
    (void)opaque;
    printf("event: network %s: %s\n", virNetworkGetName(net),
           event == VIR_NETWORK_EVENT_STARTED ? "Started" :
           event == VIR_NETWORK_EVENT_STOPPED ? "Stopped" : "other");
    fflush(stdout);
    noteEvent();
}

static void *runLoop(void *opaque)
{
    (void)opaque;
    while (!quit) {
        if (virEventRunDefaultImpl() < 0) {
            fprintf(stderr, "event loop failed: %s\n", virGetLastErrorMessage());
            break;
        }
    }
    return NULL;
}

static void wakeLoop(int timer, void *opaque)
{
    (void)opaque;
    virEventRemoveTimeout(timer);
}

/* Wait until @n events were seen; 0, or -1 after 60 s. */
static int waitEvents(int n)
{
    struct timespec deadline;
    int rc = 0;

    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 60;
    pthread_mutex_lock(&lock);
    while (seen < n && rc == 0)
        rc = pthread_cond_timedwait(&cond, &lock, &deadline);
    rc = seen >= n ? 0 : -1;
    pthread_mutex_unlock(&lock);
    return rc;
}

#define TRY(call) \
    do { \
        if ((call) < 0) { \
            fprintf(stderr, "%s failed: %s\n", #call, virGetLastErrorMessage()); \
            goto cleanup; \
        } \
    } while (0)

int main(int argc, char *argv[])
{
    virConnectPtr conn = NULL, watcher = NULL;
    virDomainPtr dom = NULL;
    virNetworkPtr net = NULL;
    int lifecycleID = -1, jobID = -1, netID = -1, expected = 0, ret = EXIT_FAILURE;

    if (argc != 4) {
        fprintf(stderr, "Usage: %s URI DOMAIN IMAGE\n", argv[0]);
        return EXIT_FAILURE;
    }
    if (virEventRegisterDefaultImpl() < 0) {
        fprintf(stderr, "no event loop: %s\n", virGetLastErrorMessage());
        return EXIT_FAILURE;
    }
    if (!(conn = virConnectOpen(argv[1])) || !(watcher = virConnectOpenReadOnly(argv[1]))) {
        fprintf(stderr, "Unable to connect to %s\n", argv[1]);
        goto cleanup;
    }
    pthread_create(&loopThread, NULL, runLoop, NULL);

    lifecycleID = virConnectDomainEventRegisterAny(watcher, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                                   VIR_DOMAIN_EVENT_CALLBACK(lifecycleCallback),
                                                   NULL, NULL);
    jobID = virConnectDomainEventRegisterAny(watcher, NULL, VIR_DOMAIN_EVENT_ID_JOB_COMPLETED,
                                             VIR_DOMAIN_EVENT_CALLBACK(jobCompletedCallback),
                                             NULL, NULL);
    netID = virConnectNetworkEventRegisterAny(watcher, NULL, VIR_NETWORK_EVENT_ID_LIFECYCLE,
                                              VIR_NETWORK_EVENT_CALLBACK(networkCallback),
                                              NULL, NULL);
    if (lifecycleID < 0 || jobID < 0 || netID < 0) {
        fprintf(stderr, "Unable to register callbacks: %s\n", virGetLastErrorMessage());
        goto cleanup;
    }
    if (!(dom = virDomainLookupByName(conn, argv[2])) ||
        !(net = virNetworkLookupByName(conn, "default")))
        goto cleanup;

    TRY(virDomainSuspend(dom));
    TRY(virDomainResume(dom));
    expected += 2;
    TRY(waitEvents(expected));
    TRY(virDomainSave(dom, argv[3]));
    expected += 2;                  /* stopped (saved), job completed */
    TRY(waitEvents(expected));
    TRY(virDomainRestore(conn, argv[3]));
    expected += 2;                  /* started (restored), job completed */
    TRY(waitEvents(expected));
    TRY(virNetworkDestroy(net));
    TRY(virNetworkCreate(net));
    expected += 2;
    TRY(waitEvents(expected));
    printf("%d events seen\n", seen);
    ret = EXIT_SUCCESS;

 cleanup:
    if (ret != EXIT_SUCCESS)
        fprintf(stderr, "%d events seen, %d expected\n", seen, expected);
    if (lifecycleID >= 0)
        virConnectDomainEventDeregisterAny(watcher, lifecycleID);
    if (jobID >= 0)
        virConnectDomainEventDeregisterAny(watcher, jobID);
    if (netID >= 0)
        virConnectNetworkEventDeregisterAny(watcher, netID);
    if (dom)
        virDomainFree(dom);
    if (net)
        virNetworkFree(net);
    if (watcher) {
        quit = 1;
        /* A timer due at once wakes the loop so it sees quit. */
        virEventAddTimeout(0, wakeLoop, NULL, NULL);
        pthread_join(loopThread, NULL);
        virConnectClose(watcher);
    }
    if (conn)
        virConnectClose(conn);
    return ret;
}
