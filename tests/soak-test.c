/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * soak-test.c: a bounded random mix of jobs on one shared connection.
 *
 * SOAK_THREADS threads (default 4) each run their share of SOAK_JOBS jobs
 * (default 200; `make soak` runs 4000): a random op (save, restore, dump,
 * create, network create), a random fault (none, segv, abort, exit,
 * garbage, hang, ignore-cancel) at a random percent, and a random cancel
 * (none, early, late). Every job must end, and end in an outcome the
 * injection allows (DESIGN.md's outcome table; where a cancel races the
 * fault or the end of the work, either side's outcome); a failed or
 * cancelled job must leave no file at its destination. The seed
 * (SOAK_SEED, default from the clock) is printed so a run can be repeated.
 * At the end: no job lost, no descriptor leaked, no child left.
 */
#include <pthread.h>

#include "drivertest.h"

enum { OP_SAVE, OP_RESTORE, OP_DUMP, OP_CREATE, OP_NET_CREATE, OP_LAST };
static const char *const opNames[OP_LAST] = { "save", "restore", "dump", "create", "net-create" };
static const char *const faultOps[OP_LAST] = { "save", "restore", "dump", "create", "create" };

enum { ACT_NONE, ACT_SEGV, ACT_ABORT, ACT_EXIT, ACT_GARBAGE, ACT_HANG, ACT_IGNORE, ACT_LAST };
static const char *const actNames[ACT_LAST] = {
    "none", "segv", "abort", "exit", "garbage", "hang", "ignore-cancel",
};
enum { CANCEL_NONE, CANCEL_EARLY, CANCEL_LATE, CANCEL_LAST };

#define RATE (8u << 20)          /* a 1 MiB domain saves in ~1/8 s */
#define HANG_DEADLINE_MS 1000

static virConnectPtr conn;
static unsigned long long seed;
static int njobs, nthreads;

typedef struct {
    int id;
    uint64_t rng;
    int jobs, ended, lost, bad;
    int states[8];
    int injected[ACT_LAST];
    int cancels;
    char failure[512];
} worker;

static uint32_t next(worker *w)
{
    /* xorshift64* */
    w->rng ^= w->rng >> 12;
    w->rng ^= w->rng << 25;
    w->rng ^= w->rng >> 27;
    return (uint32_t)((w->rng * 2685821657736338717ULL) >> 32);
}

/* Is (state, code, message) an outcome the injection allows? */
static bool allowed(int act, int cancel, int state, int code, const char *msg)
{
    bool cancelled = state == VIR_JOB_CANCELLED && code == VIR_ERR_OPERATION_ABORTED &&
                     (strstr(msg, "cancelled by request") || strstr(msg, "did not stop"));

    if (cancel != CANCEL_NONE && cancelled)
        return true;
    switch (act) {
    case ACT_NONE:
    case ACT_IGNORE:
        return state == VIR_JOB_COMPLETE;
    case ACT_SEGV:
        return state == VIR_JOB_FAILED && code == VIR_ERR_JOB_CRASHED && strstr(msg, "signal 11");
    case ACT_ABORT:
        return state == VIR_JOB_FAILED && code == VIR_ERR_JOB_CRASHED && strstr(msg, "signal 6");
    case ACT_EXIT:
    case ACT_GARBAGE:
        return state == VIR_JOB_FAILED && code == VIR_ERR_JOB_NO_REPORT;
    case ACT_HANG:
        return cancel == CANCEL_NONE && state == VIR_JOB_FAILED &&
               code == VIR_ERR_OPERATION_TIMEOUT && strstr(msg, "timed out");
    }
    return false;
}

static void extraXML(char *buf, size_t len, int op, int act, unsigned int at)
{
    if (act == ACT_NONE)
        snprintf(buf, len, "<test:rate bytes-per-second='%u'/>", RATE);
    else
        snprintf(buf, len, "<test:fault op='%s' at='%u' action='%s'/>"
                 "<test:rate bytes-per-second='%u'/>", faultOps[op], at, actNames[act], RATE);
}

static void destroyDomain(const char *name)
{
    virDomainPtr d = virDomainLookupByName(conn, name);
    if (d) {
        if (drvState(d) == VIR_DOMAIN_RUNNING)
            virDomainDestroy(d);
        virDomainFree(d);
    }
}

#define BAD(w, ...) do { if (!(w)->bad++) snprintf((w)->failure, sizeof((w)->failure), __VA_ARGS__); } while (0)

static void oneJob(worker *w, int i)
{
    int op = next(w) % OP_LAST;
    int act = next(w) % ACT_LAST;
    int cancel = next(w) % CANCEL_LAST;
    unsigned int at = (next(w) % 3) * 40;            /* 0, 40, 80 */
    char name[64], extra[256], xml[1024], dest[600], img[600];
    virDomainPtr dom = NULL;
    virJobPtr job = NULL;

    snprintf(name, sizeof(name), "s%d-%d", w->id, i);
    extraXML(extra, sizeof(extra), op, act, at);
    snprintf(dest, sizeof(dest), "%s/%s.out", rundir, name);
    snprintf(img, sizeof(img), "%s/%s.img", rundir, name);
    snprintf(xml, sizeof(xml), op == OP_NET_CREATE ?
             "<network " TEST_NS "><name>%s</name>%s</network>" :
             "<domain type='test' " TEST_NS "><name>%s</name>"
             "<memory unit='MiB'>1</memory>%s</domain>", name, extra);

    /* What the op starts from: a running domain, or an image of one. */
    if (op == OP_SAVE || op == OP_DUMP || op == OP_RESTORE) {
        if (!(dom = virDomainCreateXML(conn, xml, 0))) {
            BAD(w, "%s: cannot create the domain: %s", name, virGetLastErrorMessage());
            return;
        }
        if (op == OP_RESTORE) {
            if (virDomainSave(dom, img) != 0) {
                BAD(w, "%s: cannot save the image: %s", name, virGetLastErrorMessage());
                virDomainFree(dom);
                return;
            }
            virDomainFree(dom);
            dom = NULL;
        }
    }
    switch (op) {
    case OP_SAVE:
        job = virDomainSaveJob(dom, dest);
        break;
    case OP_DUMP:
        job = virDomainDumpCoreJob(dom, dest, 0);
        break;
    case OP_RESTORE:
        job = virDomainRestoreJob(conn, img);
        break;
    case OP_CREATE:
        job = virDomainCreateLinuxJob(conn, xml, 0);
        break;
    case OP_NET_CREATE:
        job = virNetworkCreateXMLJob(conn, xml);
        break;
    }
    w->jobs++;
    w->injected[act]++;
    if (!job) {
        BAD(w, "%s %s: the call failed: %s", name, opNames[op], virGetLastErrorMessage());
        goto cleanup;
    }
    if (cancel == CANCEL_EARLY) {
        virJobCancel(job);
    } else if (cancel == CANCEL_LATE) {
        virJobInfo info;
        TEST_WAIT_UNTIL(virJobGetInfo(job, &info) == 0 &&
                        (info.percentComplete >= at || info.state != VIR_JOB_RUNNING),
                        TEST_TIMEOUT_MS);
        virJobCancel(job);
    } else if (act == ACT_HANG) {
        virJobSetDeadline(job, HANG_DEADLINE_MS);
    }
    if (cancel != CANCEL_NONE)
        w->cancels++;
    if (virJobWait(job, TEST_TIMEOUT_MS) != 0) {
        w->lost++;
        BAD(w, "%s %s %s: the job did not end", name, opNames[op], actNames[act]);
        virJobCancel(job);
        virJobWait(job, -1);
    } else {
        virJobInfo info;
        virErrorPtr e = virJobGetError(job);
        const char *msg = e && e->message ? e->message : "";
        int code = e ? e->code : 0;
        w->ended++;
        if (virJobGetInfo(job, &info) != 0) {
            BAD(w, "%s: virJobGetInfo failed", name);
        } else {
            w->states[info.state & 7]++;
            if (!allowed(act, cancel, info.state, code, msg))
                BAD(w, "%s %s, fault %s at %u, cancel %d: state %d, error %d '%s'",
                    name, opNames[op], actNames[act], at, cancel, info.state, code, msg);
            if (info.state != VIR_JOB_COMPLETE && (op == OP_SAVE || op == OP_DUMP) &&
                drvExists(dest))
                BAD(w, "%s %s: the job ended %d but left a file", name, opNames[op], info.state);
        }
    }
    virJobDestroy(job);

 cleanup:
    if (dom)
        virDomainFree(dom);
    if (op == OP_NET_CREATE) {
        virNetworkPtr n = virNetworkLookupByName(conn, name);
        if (n) {
            virNetworkDestroy(n);
            virNetworkFree(n);
        }
    } else {
        destroyDomain(name);
    }
    virResetLastError();
    unlink(dest);
    unlink(img);
}

static void *threadMain(void *arg)
{
    worker *w = arg;
    for (int i = w->id; i < njobs; i += nthreads)
        oneJob(w, i);
    return NULL;
}

static void testSoak(void **state)
{
    (void)state;
    worker ws[64];
    pthread_t th[64];
    int fds0 = testCountFDs(), kids0 = testCountChildren();
    int total = 0, ended = 0, lost = 0, bad = 0, injected[ACT_LAST] = { 0 }, cancels = 0;
    int states[8] = { 0 };

    printf("soak: %d jobs, %d threads, seed %llu (SOAK_SEED=%llu to repeat)\n",
           njobs, nthreads, seed, seed);
    fflush(stdout);
    for (int t = 0; t < nthreads; t++) {
        memset(&ws[t], 0, sizeof(ws[t]));
        ws[t].id = t;
        ws[t].rng = (seed + 1) * 0x9E3779B97F4A7C15ULL + (uint64_t)t * 0xBF58476D1CE4E5B9ULL;
        if (!ws[t].rng)
            ws[t].rng = 1;
        assert_int_equal(pthread_create(&th[t], NULL, threadMain, &ws[t]), 0);
    }
    for (int t = 0; t < nthreads; t++) {
        assert_int_equal(pthread_join(th[t], NULL), 0);
        total += ws[t].jobs;
        ended += ws[t].ended;
        lost += ws[t].lost;
        bad += ws[t].bad;
        cancels += ws[t].cancels;
        for (int s = 0; s < 8; s++)
            states[s] += ws[t].states[s];
        for (int a = 0; a < ACT_LAST; a++)
            injected[a] += ws[t].injected[a];
        if (ws[t].bad)
            printf("thread %d: %d problems, first: %s\n", t, ws[t].bad, ws[t].failure);
    }
    printf("soak: %d jobs, %d ended, %d lost; %d completed, %d failed, %d cancelled; "
           "%d cancels asked; faults injected:", total, ended, lost,
           states[VIR_JOB_COMPLETE], states[VIR_JOB_FAILED], states[VIR_JOB_CANCELLED], cancels);
    for (int a = 1; a < ACT_LAST; a++)
        printf(" %s %d", actNames[a], injected[a]);
    printf("\n");
    assert_int_equal(total, njobs);
    assert_int_equal(lost, 0);
    assert_int_equal(bad, 0);
    assert_true(TEST_WAIT_UNTIL(testCountFDs() == fds0, 5000));
    assert_int_equal(testCountChildren(), kids0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(testSoak),
    };
    const char *s;

    drvNeedWorker();
    njobs = (s = getenv("SOAK_JOBS")) ? atoi(s) : 200;
    nthreads = (s = getenv("SOAK_THREADS")) ? atoi(s) : 4;
    seed = (s = getenv("SOAK_SEED")) ? strtoull(s, NULL, 10) : (unsigned long long)time(NULL);
    if (njobs < 1 || nthreads < 1 || nthreads > 64) {
        printf("SOAK_JOBS must be >= 1 and SOAK_THREADS 1..64\n");
        return 1;
    }
    if (drvSetupRundir(NULL) < 0 || !(conn = virConnectOpen("test:///default?grace=300")) ||
        drvStartXMLHelper(conn) < 0) {
        printf("cannot open test:///default: %s\n", virGetLastErrorMessage());
        return 1;
    }
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    if (virConnectClose(conn) != 0)
        rc = 1;
    drvTeardownRundir(NULL);
    return rc;
}
