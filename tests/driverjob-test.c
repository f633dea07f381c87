/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * driverjob-test.c: the job helpers every driver shares (src/driverjob.c),
 * each on its own: the per-object job slot and the job statistics, the
 * atomic output file and the input file, the guard between closing a
 * connection and creating a job, and result handles.
 */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>

#include "jobtest.h"
#include "driverjob.h"
#include "util/virerror.h"

/* ---- the slot ---- */

static void testSlot(void **s)
{
    (void)s;
    virDriverJobSlot slot = { 0 };
    uint64_t t1 = 0, t2 = 0;
    virDomainJobInfo info;

    assert_false(virDriverJobSlotBusy(&slot));
    assert_int_equal(virDriverJobSlotCheckFree(&slot, "domain", "d"), 0);
    assert_int_equal(virDriverJobSlotGetInfo(&slot, &info), 0);
    assert_int_equal(info.type, VIR_DOMAIN_JOB_NONE);
    assert_int_equal(virDriverJobSlotAbort(&slot, "domain", "d"), -1);
    assert_int_equal(virGetLastError()->code, VIR_ERR_OPERATION_INVALID);
    assert_string_equal(virGetLastErrorMessage(), "domain 'd' has no active job");

    assert_int_equal(virDriverJobSlotTake(&slot, "x.save", "domain", "d", &t1), 0);
    assert_true(t1 != 0);
    assert_true(virDriverJobSlotBusy(&slot));
    /* Starting: a second job fails at once, naming the first. */
    assert_int_equal(virDriverJobSlotTake(&slot, "x.dump", "domain", "d", &t2), -1);
    assert_int_equal(virGetLastError()->code, VIR_ERR_OPERATION_INVALID);
    assert_string_equal(virGetLastErrorMessage(),
                        "domain 'd' already has a job starting (x.save)");
    assert_int_equal(virDriverJobSlotCheckFree(&slot, "domain", "d"), -1);
    assert_int_equal(virDriverJobSlotGetInfo(&slot, &info), 0);
    assert_int_equal(info.type, VIR_DOMAIN_JOB_BOUNDED);
    assert_int_equal(virDriverJobSlotAbort(&slot, "domain", "d"), -1);
    assert_int_equal(virGetLastError()->code, VIR_ERR_OPERATION_FAILED);

    /* Running: named by id. */
    virSupGroup *g = virSupGroupNew(NULL);
    assert_non_null(g);
    virJobPtr job = startJob(g, &opCancel, "pct=20");
    virDriverJobSlotSetJob(&slot, t1 + 1000, job);     /* not the holder: ignored */
    assert_null(slot.job);
    virDriverJobSlotSetJob(&slot, t1, job);
    assert_ptr_equal(slot.job, job);
    char want[128];
    snprintf(want, sizeof(want), "domain 'd' already has a job running: job %llu (x.save)",
             virJobGetID(job));
    assert_int_equal(virDriverJobSlotTake(&slot, "x.dump", "domain", "d", &t2), -1);
    assert_string_equal(virGetLastErrorMessage(), want);
    waitPercent(job, 20);
    assert_int_equal(virDriverJobSlotGetInfo(&slot, &info), 0);
    assert_int_equal(info.type, VIR_DOMAIN_JOB_BOUNDED);
    assert_int_equal(virDriverJobSlotAbort(&slot, "domain", "d"), 0);
    waitEnded(job);
    assert_int_equal(jobState(job), VIR_JOB_CANCELLED);

    /* Released only by its holder's token. */
    assert_false(virDriverJobSlotRelease(&slot, t1 + 1000));
    assert_true(virDriverJobSlotBusy(&slot));
    assert_true(virDriverJobSlotRelease(&slot, t1));
    assert_false(virDriverJobSlotBusy(&slot));
    assert_null(slot.job);
    assert_false(virDriverJobSlotRelease(&slot, t1));
    /* Tokens are never reused. */
    assert_int_equal(virDriverJobSlotTake(&slot, "x.save", "domain", "d", &t2), 0);
    assert_true(t2 != t1);
    assert_true(virDriverJobSlotRelease(&slot, t2));
    assert_int_equal(virJobDestroy(job), 0);
    virSupGroupClose(g);
}

/* ---- job statistics ---- */

/* The value of @field in @p, or NULL/-1 when absent. */
static const char *statString(virTypedParameterPtr p, int n, const char *field)
{
    const char *v = NULL;
    return virTypedParamsGetString(p, n, field, &v) == 1 ? v : NULL;
}

static long long statULL(virTypedParameterPtr p, int n, const char *field)
{
    unsigned long long v = 0;
    return virTypedParamsGetULLong(p, n, field, &v) == 1 ? (long long)v : -1;
}

static int statBool(virTypedParameterPtr p, int n, const char *field)
{
    int v = 0;
    return virTypedParamsGetBoolean(p, n, field, &v) == 1 ? v : -1;
}

static void testStats(void **s)
{
    (void)s;
    virDriverJobSlot slot = { 0 };
    virDriverJobStats st;
    virTypedParameterPtr p = NULL;
    int n = 0, op = 0;
    uint64_t token = 0;

    /* No job: nothing to report. */
    assert_int_equal(virDriverJobSlotGetStats(&slot, VIR_DOMAIN_JOB_OPERATION_SAVE, &st), 0);
    assert_int_equal(st.type, VIR_DOMAIN_JOB_NONE);

    /* Starting: active, no figures yet. */
    assert_int_equal(virDriverJobSlotTake(&slot, "x.save", "domain", "d", &token), 0);
    assert_int_equal(virDriverJobSlotGetStats(&slot, VIR_DOMAIN_JOB_OPERATION_SAVE, &st), 0);
    assert_int_equal(st.type, VIR_DOMAIN_JOB_BOUNDED);
    assert_int_equal(st.operation, VIR_DOMAIN_JOB_OPERATION_SAVE);
    assert_int_equal(st.done, 0);

    /* Running: live figures, with the time remaining and no outcome. */
    virSupGroup *g = virSupGroupNew(NULL);
    assert_non_null(g);
    virJobPtr job = startJob(g, &opCancel, "pct=20");
    virDriverJobSlotSetJob(&slot, token, job);
    waitPercent(job, 20);
    assert_int_equal(virDriverJobSlotGetStats(&slot, VIR_DOMAIN_JOB_OPERATION_SAVE, &st), 0);
    assert_int_equal(st.type, VIR_DOMAIN_JOB_BOUNDED);
    assert_int_equal(virDriverJobStatsParams(&st, &p, &n), 0);
    assert_int_equal(virTypedParamsGetInt(p, n, VIR_DOMAIN_JOB_OPERATION, &op), 1);
    assert_int_equal(op, VIR_DOMAIN_JOB_OPERATION_SAVE);
    assert_true(statULL(p, n, VIR_DOMAIN_JOB_TIME_ELAPSED) >= 0);
    assert_true(statULL(p, n, VIR_DOMAIN_JOB_TIME_REMAINING) >= 0);
    assert_int_equal(statBool(p, n, VIR_DOMAIN_JOB_SUCCESS), -1);
    assert_null(statString(p, n, VIR_DOMAIN_JOB_ERRMSG));
    virTypedParamsFree(p, n);

    /* Cancelled: the record carries the job's own error. */
    assert_int_equal(virDriverJobSlotAbort(&slot, "domain", "d"), 0);
    waitEnded(job);
    virErrorPtr err = virJobGetError(job);
    assert_non_null(err);
    virDriverJobStatsEnded(job, VIR_DOMAIN_JOB_OPERATION_SAVE, VIR_JOB_CANCELLED, err, &st);
    assert_int_equal(st.type, VIR_DOMAIN_JOB_CANCELLED);
    assert_string_equal(st.errmsg, err->message);
    assert_int_equal(virDriverJobStatsParams(&st, &p, &n), 0);
    assert_int_equal(statBool(p, n, VIR_DOMAIN_JOB_SUCCESS), 0);
    assert_string_equal(statString(p, n, VIR_DOMAIN_JOB_ERRMSG), err->message);
    assert_int_equal(statULL(p, n, VIR_DOMAIN_JOB_TIME_REMAINING), -1);
    virTypedParamsFree(p, n);
    /* Failed without an error given: a generic reason, never empty. */
    virDriverJobStatsEnded(job, VIR_DOMAIN_JOB_OPERATION_SAVE, VIR_JOB_FAILED, NULL, &st);
    assert_int_equal(st.type, VIR_DOMAIN_JOB_FAILED);
    assert_string_equal(st.errmsg, "the job failed");
    assert_true(virDriverJobSlotRelease(&slot, token));
    assert_int_equal(virJobDestroy(job), 0);

    /* Completed: success, the bytes it moved, no message. */
    job = startJob(g, &opSucceed, "bytes=5000");
    waitEnded(job);
    virDriverJobStatsEnded(job, VIR_DOMAIN_JOB_OPERATION_DUMP, VIR_JOB_COMPLETE, NULL, &st);
    assert_int_equal(st.type, VIR_DOMAIN_JOB_COMPLETED);
    assert_int_equal(st.operation, VIR_DOMAIN_JOB_OPERATION_DUMP);
    assert_string_equal(st.errmsg, "");
    assert_int_equal(virDriverJobStatsParams(&st, &p, &n), 0);
    assert_int_equal(statBool(p, n, VIR_DOMAIN_JOB_SUCCESS), 1);
    assert_null(statString(p, n, VIR_DOMAIN_JOB_ERRMSG));
    assert_int_equal(statULL(p, n, VIR_DOMAIN_JOB_DATA_PROCESSED), 5000);
    assert_int_equal(statULL(p, n, VIR_DOMAIN_JOB_DATA_TOTAL), 5000);
    assert_int_equal(statULL(p, n, VIR_DOMAIN_JOB_DATA_REMAINING), 0);
    virTypedParamsFree(p, n);

    /* GetJobStats's halves: the kept record, read once unless kept; the
     * live job when COMPLETED is not asked; no job: no parameters. */
    virDriverJobStats last = st, got;
    int type = -1;
    assert_int_equal(virDriverJobStatsRead(&slot, &last, VIR_DOMAIN_JOB_OPERATION_DUMP,
                                           VIR_DOMAIN_JOB_STATS_COMPLETED |
                                           VIR_DOMAIN_JOB_STATS_KEEP_COMPLETED, &got), 0);
    assert_int_equal(last.type, VIR_DOMAIN_JOB_COMPLETED);
    assert_int_equal(virDriverJobStatsReturn(0, &got, &type, &p, &n), 0);
    assert_int_equal(type, VIR_DOMAIN_JOB_COMPLETED);
    assert_int_equal(statULL(p, n, VIR_DOMAIN_JOB_DATA_PROCESSED), 5000);
    virTypedParamsFree(p, n);
    assert_int_equal(virDriverJobStatsRead(&slot, &last, VIR_DOMAIN_JOB_OPERATION_DUMP,
                                           VIR_DOMAIN_JOB_STATS_COMPLETED, &got), 0);
    assert_int_equal(got.type, VIR_DOMAIN_JOB_COMPLETED);
    assert_int_equal(last.type, VIR_DOMAIN_JOB_NONE);
    assert_int_equal(virDriverJobStatsRead(&slot, &last, VIR_DOMAIN_JOB_OPERATION_DUMP,
                                           VIR_DOMAIN_JOB_STATS_COMPLETED, &got), 0);
    assert_int_equal(virDriverJobStatsReturn(0, &got, &type, &p, &n), 0);
    assert_int_equal(type, VIR_DOMAIN_JOB_NONE);
    assert_null(p);
    assert_int_equal(n, 0);
    assert_int_equal(virDriverJobStatsRead(&slot, &last, VIR_DOMAIN_JOB_OPERATION_DUMP, 0,
                                           &got), 0);
    assert_int_equal(got.type, VIR_DOMAIN_JOB_NONE);
    assert_int_equal(virDriverJobStatsReturn(-1, &got, &type, &p, &n), -1);
    assert_null(p);
    assert_int_equal(virJobDestroy(job), 0);
    virSupGroupClose(g);
}

/* ---- files ---- */

static char *path(const char *name)
{
    static char buf[4][600];
    static int i;
    char *p = buf[i++ % 4];
    snprintf(p, sizeof(buf[0]), "%s/%s", testRunDir, name);
    return p;
}

/* Entries in the run directory whose name starts with @prefix. */
static int entries(const char *prefix)
{
    DIR *d = opendir(testRunDir);
    struct dirent *e;
    int n = 0;
    assert_non_null(d);
    while ((e = readdir(d)))
        if (!strncmp(e->d_name, prefix, strlen(prefix)))
            n++;
    closedir(d);
    return n;
}

static void writeAll(int fd, const char *text)
{
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
}

static void readFile(const char *p, char *buf, size_t len)
{
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    ssize_t n = read(fd, buf, len - 1);
    assert_true(n >= 0);
    buf[n] = '\0';
    close(fd);
}

static void outputCase(bool noTmpfile)
{
    virDriverJobOutput out;
    char buf[128];
    const char *dest = path("out.img");

    virDriverJobOutputNoTmpfile = noTmpfile;
    unlink(dest);
    /* Committed: the whole file appears under its name, nothing else. */
    virDriverJobOutputInit(&out);
    assert_int_equal(virDriverJobOutputOpen(&out, dest, "test image"), 0);
    writeAll(out.fd, "first");
    assert_int_equal(access(dest, F_OK), -1);
    assert_int_equal(virDriverJobOutputCommit(&out), 0);
    virDriverJobOutputClear(&out);
    readFile(dest, buf, sizeof(buf));
    assert_string_equal(buf, "first");
    assert_int_equal(entries(".out.img"), 0);

    /* Not committed (the job failed or was cancelled): the old file is
     * untouched, no temporary name is left. */
    virDriverJobOutputInit(&out);
    assert_int_equal(virDriverJobOutputOpen(&out, dest, "test image"), 0);
    writeAll(out.fd, "second, never committed");
    assert_int_equal(entries(".out.img"), noTmpfile ? 1 : 0);
    virDriverJobOutputDiscard(&out);
    virDriverJobOutputDiscard(&out);             /* idempotent */
    virDriverJobOutputClear(&out);
    readFile(dest, buf, sizeof(buf));
    assert_string_equal(buf, "first");
    assert_int_equal(entries(".out.img"), 0);

    /* Replaced atomically by a later commit. */
    virDriverJobOutputInit(&out);
    assert_int_equal(virDriverJobOutputOpen(&out, dest, "test image"), 0);
    writeAll(out.fd, "third");
    assert_int_equal(virDriverJobOutputCommit(&out), 0);
    virDriverJobOutputClear(&out);
    readFile(dest, buf, sizeof(buf));
    assert_string_equal(buf, "third");
    assert_int_equal(entries(".out.img"), 0);
    virDriverJobOutputNoTmpfile = false;
}

static void testOutput(void **s)
{
    (void)s;
    outputCase(false);
    outputCase(true);

    /* Refused: nothing opened, a clear reason. */
    virDriverJobOutput out;
    static const char *const bad[] = { "", "/", ".", "..", "/nonexistent-dir/x" };
    for (size_t i = 0; i < ARRAY_CARDINALITY(bad); i++) {
        virDriverJobOutputInit(&out);
        assert_int_equal(virDriverJobOutputOpen(&out, bad[i], "test image"), -1);
        assert_non_null(virGetLastError());
        virDriverJobOutputClear(&out);
    }
    virDriverJobOutputInit(&out);
    assert_int_equal(virDriverJobOutputOpen(&out, testRunDir, "test image"), -1);
    assert_non_null(strstr(virGetLastErrorMessage(), "it is a directory"));
    virDriverJobOutputClear(&out);
    assert_int_equal(mkfifo(path("fifo"), 0600), 0);
    virDriverJobOutputInit(&out);
    assert_int_equal(virDriverJobOutputOpen(&out, path("fifo"), "test image"), -1);
    assert_non_null(strstr(virGetLastErrorMessage(), "not a regular file"));
    virDriverJobOutputClear(&out);

    /* Input: a regular file only, and a FIFO does not hang the open. */
    int fd = virDriverJobInputOpen(path("out.img"), "test image");
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(virDriverJobInputOpen(path("fifo"), "test image"), -1);
    assert_non_null(strstr(virGetLastErrorMessage(), "a special file"));
    assert_int_equal(virDriverJobInputOpen(testRunDir, "test image"), -1);
    assert_non_null(strstr(virGetLastErrorMessage(), "a directory"));
    assert_int_equal(virDriverJobInputOpen(path("missing"), "test image"), -1);
    assert_non_null(strstr(virGetLastErrorMessage(), "No such file"));
    assert_int_equal(virDriverJobInputOpen("", "test image"), -1);
    unlink(path("fifo"));
    unlink(path("out.img"));
}

/* ---- the guard ---- */

typedef struct {
    virDriverJobGuard *guard;
    atomic_bool done;
} closing;

static void *closeThread(void *arg)
{
    closing *c = arg;
    virDriverJobGuardClose(c->guard);
    atomic_store(&c->done, true);
    return NULL;
}

static bool guardClosing(virDriverJobGuard *guard)
{
    pthread_mutex_lock(&guard->lock);
    bool isClosing = guard->group == NULL;
    pthread_mutex_unlock(&guard->lock);
    return isClosing;
}

static void testGuard(void **s)
{
    (void)s;
    virDriverJobGuard guard;
    virSupJobParams p;

    assert_int_equal(virDriverJobGuardOpen(&guard, NULL), 0);
    memset(&p, 0, sizeof(p));
    p.op = &opCancel;
    p.params = "pct=20";
    p.paramslen = 6;
    virJobPtr job = virDriverJobCreate(&guard, &p);
    assert_non_null(job);
    waitPercent(job, 20);

    /* Closing cancels and waits for the job; meanwhile no new job. */
    closing c = { .guard = &guard };
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, closeThread, &c), 0);
    assert_true(TEST_WAIT_UNTIL(atomic_load(&c.done) || guardClosing(&guard),
                                TEST_TIMEOUT_MS));
    assert_null(virDriverJobCreate(&guard, &p));
    assert_int_equal(virGetLastError()->code, VIR_ERR_INVALID_CONN);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(jobState(job), VIR_JOB_CANCELLED);
    assert_int_equal(virJobDestroy(job), 0);
    virDriverJobGuardClose(&guard);                 /* idempotent */
    assert_null(virDriverJobCreate(&guard, &p));     /* and stays closed */
    assert_int_equal(virGetLastError()->code, VIR_ERR_INVALID_CONN);
    assert_int_equal(testCountChildren(), 0);

}

/* ---- results ---- */

static void testResults(void **s)
{
    (void)s;
    virConnectPtr conn = virConnectOpen("test:///default");
    assert_non_null(conn);
    unsigned char uuid[VIR_UUID_BUFLEN] = { 1, 2, 3 };
    virSupGroup *g = virSupGroupNew(NULL);
    virJobPtr job = startJob(g, &opSucceed, NULL);
    waitEnded(job);

    virDomainPtr dom = virDriverJobResultDomainNew(conn, "r", uuid);
    assert_non_null(dom);
    assert_int_equal(virDriverJobResultDomainGive(job, dom), 0);   /* the job's now */
    virDomainPtr back = virJobGetDomain(job);
    assert_ptr_equal(back, dom);
    assert_string_equal(virDomainGetName(back), "r");
    virDomainFree(back);
    assert_null(virJobGetNetwork(job));                            /* not a network */
    assert_int_equal(virGetLastError()->code, VIR_ERR_OPERATION_INVALID);

    /* A later result replaces (and releases) the earlier one. */
    virNetworkPtr net = virDriverJobResultNetworkNew(conn, "n", uuid);
    assert_int_equal(virDriverJobResultNetworkGive(job, net), 0);
    assert_null(virJobGetDomain(job));
    virNetworkPtr nback = virJobGetNetwork(job);
    assert_ptr_equal(nback, net);
    virNetworkFree(nback);

    /* Drop keeps the thread's error. */
    virReportErrorFull(VIR_FROM_TEST, VIR_ERR_OPERATION_FAILED, 0, "%s", "kept");
    virDriverJobResultDomainDrop(virDriverJobResultDomainNew(conn, "x", uuid));
    assert_string_equal(virGetLastErrorMessage(), "kept");
    virDriverJobResultDomainDrop(NULL);

    /* Destroying the job releases its result; valgrind/ASan see leaks. */
    assert_int_equal(virJobDestroy(job), 0);
    virSupGroupClose(g);
    assert_int_equal(virConnectClose(conn), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(testSlot),
        cmocka_unit_test(testStats),
        cmocka_unit_test(testOutput),
        cmocka_unit_test(testGuard),
        cmocka_unit_test(testResults),
    };
    return cmocka_run_group_tests(tests, jobTestSetup, jobTestTeardown);
}
