/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * rlimit-test.c: an application running under lower resource limits than
 * the library's defaults (ulimit -n 200, a hard RLIMIT_AS of 8 GiB, a hard
 * fd limit of 64), without the capability to raise them (a non-root user,
 * or root without CAP_SYS_RESOURCE as in most containers). Jobs must run:
 * the worker's default limits are clamped to what the process may have; a
 * limit asked for that cannot be applied is a clear error naming the limit
 * and both values; running out of descriptors says so.
 *
 * Each case runs in a forked child with real setrlimit (the limits stay
 * there), which reports over a pipe (testRunChild).
 */
#include <cap-ng.h>
#include <sys/resource.h>

#include "jobtest.h"

/* Give up the capability to raise limits, as a non-root user or root in
 * a container lacks it: from every set, the bounding set included, so
 * the exec'd spawn helper and its workers lack it too. */
static int dropSysResource(void)
{
    if (capng_get_caps_process() < 0)
        return -1;
    if (!capng_have_capability(CAPNG_PERMITTED, CAP_SYS_RESOURCE) &&
        !capng_have_capability(CAPNG_BOUNDING_SET, CAP_SYS_RESOURCE))
        return 0;
    capng_update(CAPNG_DROP, CAPNG_EFFECTIVE | CAPNG_PERMITTED | CAPNG_INHERITABLE |
                 CAPNG_BOUNDING_SET, CAP_SYS_RESOURCE);
    return capng_apply(CAPNG_SELECT_BOTH);
}

static int lower(int res, rlim_t soft, rlim_t hard)
{
    struct rlimit rl = { soft, hard };
    if (setrlimit(res, &rl) < 0) {
        testSay("setrlimit(%d, %llu, %llu): %s\n", res, (unsigned long long)soft,
            (unsigned long long)hard, strerror(errno));
        return -1;
    }
    return 0;
}

/* Run one job of @op in a group with @cfg; returns its state, its error in
 * @msg. */
static int runOne(const virSupGroupConfig *cfg, const virSupOp *op, char *msg, size_t len)
{
    virSupGroup *g = virSupGroupNew(cfg);
    if (!g) {
        snprintf(msg, len, "virSupGroupNew: %s", virGetLastErrorMessage());
        return -1;
    }
    virSupJobParams p;
    memset(&p, 0, sizeof(p));
    p.op = op;
    p.target = "unit";
    virJobPtr job = virSupJobCreate(g, &p);
    if (!job) {
        snprintf(msg, len, "virSupJobCreate: %s", virGetLastErrorMessage());
        virSupGroupClose(g);
        return -1;
    }
    virJobInfo info;
    if (virJobWait(job, TEST_TIMEOUT_MS) != 0 || virJobGetInfo(job, &info) < 0) {
        snprintf(msg, len, "the job did not end");
        return -1;
    }
    snprintf(msg, len, "%s", jobErrorMessage(job));
    virJobDestroy(job);
    virSupGroupClose(g);
    return info.state;
}

/* Each case: the limits, then what must happen. 0 = as wanted. */
typedef int (*caseFunc)(void);

static int caseNofile200(void)
{
    char msg[1024];
    if (lower(RLIMIT_NOFILE, 200, 200) < 0)
        return 1;
    int st = runOne(NULL, &opSucceed, msg, sizeof(msg));
    if (st != VIR_JOB_COMPLETE) {
        testSay("hard fd limit 200, default limits: the job did not complete: %s\n", msg);
        return 1;
    }
    return 0;
}

static int caseAs8G(void)
{
    char msg[1024];
    if (lower(RLIMIT_AS, 8ull << 30, 8ull << 30) < 0)
        return 1;
    int st = runOne(NULL, &opSucceed, msg, sizeof(msg));
    if (st != VIR_JOB_COMPLETE) {
        testSay("hard RLIMIT_AS 8 GiB, default limits: the job did not complete: %s\n", msg);
        return 1;
    }
    return 0;
}

static int caseNofile64(void)
{
    char msg[1024];
    virSupGroupConfig cfg;
    memset(&cfg, 0, sizeof(cfg));
    if (lower(RLIMIT_NOFILE, 64, 64) < 0)
        return 1;
    int st = runOne(NULL, &opSucceed, msg, sizeof(msg));
    if (st != VIR_JOB_COMPLETE) {
        testSay("hard fd limit 64, default limits: the job did not complete: %s\n", msg);
        return 1;
    }
    cfg.rlimit_nofile = 60;
    st = runOne(&cfg, &opSucceed, msg, sizeof(msg));
    if (st != VIR_JOB_COMPLETE) {
        testSay("hard fd limit 64, rlimit_nofile=60: the job did not complete: %s\n", msg);
        return 1;
    }
    return 0;
}

static int caseAboveHard(void)
{
    char msg[1024];
    virSupGroupConfig cfg;
    memset(&cfg, 0, sizeof(cfg));
    if (lower(RLIMIT_NOFILE, 64, 64) < 0)
        return 1;
    cfg.rlimit_nofile = 100;
    int st = runOne(&cfg, &opSucceed, msg, sizeof(msg));
    if (st != VIR_JOB_FAILED || !strstr(msg, "RLIMIT_NOFILE") || !strstr(msg, "100") ||
        !strstr(msg, "64")) {
        testSay("hard fd limit 64, rlimit_nofile=100: wanted a failure naming RLIMIT_NOFILE, "
            "100 and 64; got state %d: %s\n", st, msg);
        return 1;
    }
    testSay("above the hard limit: %s\n", msg);
    return 0;
}

/* Queue jobs (one resource descriptor each) until descriptors run out:
 * the error says that is what ran out. */
static int caseExhausted(void)
{
    virSupGroupConfig cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.max_workers = 1;
    /* The soft limit only (ulimit -Sn 64), which valgrind allows too. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || lower(RLIMIT_NOFILE, 64, rl.rlim_max) < 0)
        return 1;
    virSupGroup *g = virSupGroupNew(&cfg);
    if (!g) {
        testSay("virSupGroupNew: %s\n", virGetLastErrorMessage());
        return 1;
    }
    int res = open("/dev/null", O_RDONLY | O_CLOEXEC);
    virJobPtr jobs[64];
    size_t n = 0;
    char msg[1024] = "";
    while (n < ARRAY_CARDINALITY(jobs)) {
        virSupJobParams p;
        memset(&p, 0, sizeof(p));
        p.op = &opCancel;
        p.target = "unit";
        p.fds = &res;
        p.nfds = 1;
        if (!(jobs[n] = virSupJobCreate(g, &p))) {
            snprintf(msg, sizeof(msg), "%s", virGetLastErrorMessage());
            break;
        }
        n++;
    }
    int rc = 0;
    if (n == ARRAY_CARDINALITY(jobs) || !strstr(msg, "Too many open files") ||
        !strstr(msg, "64") || strstr(msg, "invalid resource descriptor")) {
        testSay("fd limit 64: after %zu jobs wanted an error saying descriptors ran out "
            "(naming the limit 64); got: %s\n", n, msg);
        rc = 1;
    } else {
        testSay("descriptors ran out after %zu queued jobs: %s\n", n, msg);
    }
    for (size_t i = 0; i < n; i++)
        virJobCancel(jobs[i]);
    for (size_t i = 0; i < n; i++) {
        virJobWait(jobs[i], TEST_TIMEOUT_MS);
        virJobDestroy(jobs[i]);
    }
    close(res);
    virSupGroupClose(g);
    return rc;
}

static caseFunc currentCase;

static int childCase(void)
{
    if (dropSysResource() < 0) {
        testSay("cannot drop CAP_SYS_RESOURCE\n");
        return 1;
    }
    return currentCase();
}

static void runCase(const char *name, caseFunc fn)
{
    char out[4096];
    currentCase = fn;
    int st = testRunChild(childCase, out, sizeof(out));
    printf("%s: %s", name, out[0] ? out : "ok\n");
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail_msg("%s (status 0x%x): %s", name, st, out);
}

/* valgrind keeps the fd limits to itself: a program under it may lower
 * the soft limit only (the hard one is refused with EPERM). */
static void needHardFdLimit(void)
{
    if (RUNNING_ON_VALGRIND) {
        printf("skipped under valgrind: it refuses a change of the hard fd limit\n");
        skip();
    }
}

static void testNofile200(void **s)
{
    (void)s;
    needHardFdLimit();
    runCase("hard fd limit 200", caseNofile200);
}

static void testAs8G(void **s)
{
    (void)s;
#if defined(__SANITIZE_ADDRESS__)
    printf("skipped under ASan: its shadow memory does not fit under 8 GiB\n");
    skip();
#endif
    if (RUNNING_ON_VALGRIND) {
        printf("skipped under valgrind: its own memory does not fit under 8 GiB\n");
        skip();
    }
    runCase("hard RLIMIT_AS 8 GiB", caseAs8G);
}

static void testNofile64(void **s)
{
    (void)s;
    needHardFdLimit();
    runCase("hard fd limit 64", caseNofile64);
}

static void testAboveHard(void **s)
{
    (void)s;
    needHardFdLimit();
    runCase("limit above the hard limit", caseAboveHard);
}

static void testExhausted(void **s)
{
    (void)s;
    runCase("descriptors run out", caseExhausted);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(testNofile200),
        cmocka_unit_test(testAs8G),
        cmocka_unit_test(testNofile64),
        cmocka_unit_test(testAboveHard),
        cmocka_unit_test(testExhausted),
    };
    if (!getenv("VIRTSUP_WORKER")) {
        printf("VIRTSUP_WORKER is not set: run through make check\n");
        return 77;
    }
    return cmocka_run_group_tests(tests, jobTestSetup, jobTestTeardown);
}
