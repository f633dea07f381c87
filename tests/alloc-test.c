/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * alloc-test.c: allocation failure in the caller, SQLite style.
 *
 * For save, restore, dump and create (as jobs: start, wait, read the
 * outcome, destroy), first count the wrapped allocations one whole call
 * makes (virAllocTestHook(0) returns the count), then run it again once
 * for every N from 1 to that count with the Nth allocation failing. Each
 * run must either succeed or fail cleanly: the call returns NULL with an
 * error set, or the job ends FAILED with an error; never a crash, a hang
 * or a leak (leaks are found by ASan and valgrind, which CI runs this
 * under); and a failed run changes nothing (no file at the destination,
 * the domain as it was).
 *
 * The counter is global, so allocations of the supervisor's reaper thread
 * (commit steps, outcome) are in the sweep too. Allocations not made
 * through src/util/viralloc.h (libc's directly, libxml2's) are not.
 */
#include "drivertest.h"
#include "util/viralloc.h"

static virConnectPtr conn;
static virDomainPtr dom;           /* "a", 1 MiB, no pacing */
static char img[600], out[600];
static unsigned long totalRuns, totalFailed;

enum { OP_SAVE, OP_RESTORE, OP_DUMP, OP_CREATE, OP_LAST };
static const char *const opNames[OP_LAST] = { "save", "restore", "dump", "create" };

/* Bring the world to the state @op starts from. Hook off. */
static void prepare(int op)
{
    virAllocTestHook(0);
    unlink(out);
    switch (op) {
    case OP_SAVE:
    case OP_DUMP:
        if (drvState(dom) != VIR_DOMAIN_RUNNING)
            assert_int_equal(virDomainCreate(dom), 0);
        break;
    case OP_RESTORE:
        if (drvState(dom) == VIR_DOMAIN_RUNNING)
            assert_int_equal(virDomainDestroy(dom), 0);
        break;
    case OP_CREATE: {
        virDomainPtr d = virDomainLookupByName(conn, "c");
        if (d) {
            assert_int_equal(virDomainDestroy(d), 0);
            virDomainFree(d);
        }
        virResetLastError();
        break;
    }
    }
    virResetLastError();
}

static virJobPtr start(int op)
{
    switch (op) {
    case OP_SAVE:
        return virDomainSaveJob(dom, out);
    case OP_RESTORE:
        return virDomainRestoreJob(conn, img);
    case OP_DUMP:
        return virDomainDumpCoreJob(dom, out, 0);
    case OP_CREATE:
        return virDomainCreateLinuxJob(conn, "<domain type='test'><name>c</name>"
                                       "<memory unit='MiB'>1</memory></domain>", 0);
    }
    return NULL;
}

/* Run @op once with the @n th allocation failing (0: none). Returns true
 * if it succeeded. */
static bool runOnce(int op, long n)
{
    virJobPtr job;
    bool ok;
    char what[700];

    snprintf(what, sizeof(what), "%s, allocation %ld failing", opNames[op], n);
    prepare(op);
    virAllocTestHook(n);
    job = start(op);
    if (!job) {
        virAllocTestHook(0);
        virErrorPtr e = virGetLastError();
        if (!e || !e->message || !*e->message)
            fail_msg("%s: the call failed without an error", what);
        size_t l = strlen(what);
        snprintf(what + l, sizeof(what) - l, " (call failed: %s)", e->message);
        ok = false;
    } else {
        if (virJobWait(job, TEST_TIMEOUT_MS) != 0)
            fail_msg("%s: the job did not end: %s", what, virGetLastErrorMessage());
        virJobInfo info;
        int gi = virJobGetInfo(job, &info);
        virErrorPtr e = virJobGetError(job);
        virAllocTestHook(0);
        if (gi != 0)
            fail_msg("%s: virJobGetInfo failed: %s", what, virGetLastErrorMessage());
        ok = info.state == VIR_JOB_COMPLETE;
        if (!ok && info.state != VIR_JOB_FAILED)
            fail_msg("%s: job state %d", what, info.state);
        if (!ok && (!e || !e->message || !*e->message))
            fail_msg("%s: the job failed without an error", what);
        if (!ok) {
            size_t l = strlen(what);
            snprintf(what + l, sizeof(what) - l, " (job failed: %s)", e->message);
        }
        if (virJobDestroy(job) != 0)
            fail_msg("%s: virJobDestroy failed", what);
    }

    /* A failed run changed nothing. */
    if (!ok) {
        switch (op) {
        case OP_SAVE:
        case OP_DUMP:
            if (drvExists(out))
                fail_msg("%s: a file appeared at the destination", what);
            if (drvState(dom) != VIR_DOMAIN_RUNNING)
                fail_msg("%s: the domain stopped", what);
            break;
        case OP_RESTORE:
            if (drvState(dom) != VIR_DOMAIN_SHUTOFF)
                fail_msg("%s: the domain runs", what);
            break;
        case OP_CREATE: {
            virDomainPtr d = virDomainLookupByName(conn, "c");
            if (d)
                fail_msg("%s: a domain appeared", what);
            virResetLastError();
            break;
        }
        }
    }
    totalRuns++;
    if (!ok)
        totalFailed++;
    return ok;
}

static void sweep(int op)
{
    long count, failed = 0;

    prepare(op);
    virAllocTestHook(0);
    assert_true(runOnce(op, 0));
    /* runOnce turned the hook off right after the call and its job: the
     * count returned now covers them (plus the checks after, harmlessly). */
    prepare(op);
    virAllocTestHook(0);
    virJobPtr job = start(op);
    assert_non_null(job);
    assert_int_equal(virJobWait(job, TEST_TIMEOUT_MS), 0);
    virJobInfo info;
    assert_int_equal(virJobGetInfo(job, &info), 0);
    virJobGetError(job);
    assert_int_equal(virJobDestroy(job), 0);
    count = virAllocTestHook(0);
    assert_int_equal(info.state, VIR_JOB_COMPLETE);
    assert_true(count > 0);

    for (long n = 1; n <= count; n++)
        if (!runOnce(op, n))
            failed++;
    /* Nothing was broken for good: a clean run still works. */
    assert_true(runOnce(op, 0));
    printf("%s: %ld allocations, each failed once: %ld runs failed cleanly, %ld succeeded\n",
           opNames[op], count, failed, count - failed);
}

#define OP_TEST(fn, op) static void fn(void **state) { (void)state; sweep(op); }
OP_TEST(testSave, OP_SAVE)
OP_TEST(testRestore, OP_RESTORE)
OP_TEST(testDump, OP_DUMP)
OP_TEST(testCreate, OP_CREATE)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(testSave),
        cmocka_unit_test(testRestore),
        cmocka_unit_test(testDump),
        cmocka_unit_test(testCreate),
    };
    drvNeedWorker();
    if (drvSetupRundir(NULL) < 0)
        return 1;
    conn = drvOpenNode("node.xml", "<node><domain type='test'><name>a</name>"
                       "<memory unit='MiB'>1</memory></domain></node>", "");
    assert_non_null(dom = virDomainLookupByName(conn, "a"));
    drvPath(img, sizeof(img), "a.img");
    drvPath(out, sizeof(out), "out");
    /* The image every restore starts from. */
    if (virDomainSave(dom, img) != 0) {
        printf("cannot save the image to restore: %s\n", virGetLastErrorMessage());
        return 1;
    }
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    printf("allocation failure: %lu runs, %lu failed cleanly\n", totalRuns, totalFailed);
    virDomainFree(dom);
    if (virConnectClose(conn) != 0)
        rc = 1;
    drvTeardownRundir(NULL);
    return rc;
}
