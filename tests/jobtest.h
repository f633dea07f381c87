/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * jobtest.h: shared set-up for tests that run real jobs through the
 * supervisor with the test-only worker ops (tests/worker-ops).
 */
#pragma once

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "supervisor/job-priv.h"
#include "util/internal.h"
#include "testutils.h"

#define TEST_OP(var, opname) \
    static const virSupOp var = { .name = (opname), .type = VIR_JOB_BOUNDED }

TEST_OP(opSucceed, "test.succeed");
TEST_OP(opFail, "test.fail");
TEST_OP(opSegv, "test.segv");
TEST_OP(opAbort, "test.abort");
TEST_OP(opHang, "test.hang");
TEST_OP(opExit, "test.exit");
TEST_OP(opGarbage, "test.garbage");
TEST_OP(opCancel, "test.cancel");
TEST_OP(opRfc, "test.rfc");
TEST_OP(opIgnoreCancel, "test.ignore-cancel");
TEST_OP(opGrandchild, "test.grandchild");
TEST_OP(opReport, "test.report");
TEST_OP(opNoReport, "test.noreport");
TEST_OP(opUnknown, "test.no-such-op");
TEST_OP(opStream, "test.stream");
TEST_OP(opGate, "test.gate");

static inline virJobPtr startJob(virSupGroup *g, const virSupOp *op, const char *params)
{
    virSupJobParams p;
    memset(&p, 0, sizeof(p));
    p.op = op;
    p.target = "unit";
    p.params = params;
    p.paramslen = params ? strlen(params) : 0;
    virJobPtr job = virSupJobCreate(g, &p);
    if (!job)
        fail_msg("virSupJobCreate(%s): %s", op->name, virGetLastErrorMessage());
    return job;
}

static inline int jobState(virJobPtr job)
{
    virJobInfo info;
    assert_int_equal(virJobGetInfo(job, &info), 0);
    return info.state;
}

static inline void waitEnded(virJobPtr job)
{
    assert_int_equal(virJobWait(job, TEST_TIMEOUT_MS), 0);
}

static inline const char *jobErrorMessage(virJobPtr job)
{
    virErrorPtr e = virJobGetError(job);
    return e && e->message ? e->message : "";
}

/* Wait until the worker has published at least @pct percent. A job that
 * ends first fails the test at once, with its error, instead of letting
 * it wait out the whole timeout (one broken worker must not turn the
 * suite into minutes of timeouts). */
static inline void waitPercent(virJobPtr job, unsigned int pct)
{
    virJobInfo info;
    memset(&info, 0, sizeof(info));
    if (!TEST_WAIT_UNTIL(virJobGetInfo(job, &info) == 0 &&
                         (info.percentComplete >= pct || info.state != VIR_JOB_RUNNING),
                         TEST_TIMEOUT_MS))
        fail_msg("the job is still below %u %% after %d s", pct, TEST_TIMEOUT_MS / 1000);
    if (info.percentComplete < pct)
        fail_msg("the job ended (state %d) at %u %% before reaching %u %%: %s",
                 info.state, info.percentComplete, pct,
                 jobErrorMessage(job));
}

/* A commit function that keeps the worker's result, NUL-terminated and
 * cut to fit, in jobResult for the test to read (.commit = jobKeepResult). */
static char jobResult[16384];
static inline int jobKeepResult(virJobPtr job, void *opaque, const void *res, size_t len)
{
    (void)job;
    (void)opaque;
    size_t n = len < sizeof(jobResult) - 1 ? len : sizeof(jobResult) - 1;
    memcpy(jobResult, res, n);
    jobResult[n] = '\0';
    return 0;
}

/* In jobResult read as "key: value" lines: the value of the line that
 * starts with @key (say "CapEff:"), blanks trimmed, or NULL. */
static inline const char *jobResultValue(const char *key)
{
    static char val[512];
    size_t kl = strlen(key);
    for (const char *p = jobResult; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : p) {
        if (strncmp(p, key, kl) != 0)
            continue;
        p += kl;
        while (*p == ' ' || *p == '\t')
            p++;
        size_t n = strcspn(p, "\n");
        if (n >= sizeof(val))
            n = sizeof(val) - 1;
        memcpy(val, p, n);
        val[n] = '\0';
        return val;
    }
    return NULL;
}

/* The job's phase text (VIR_JOB_STATS_PHASE) is @phase. */
static inline bool jobPhaseIs(virJobPtr job, const char *phase)
{
    virTypedParameterPtr params = NULL;
    int n = 0;
    const char *v = NULL;
    bool is;

    if (virJobGetStats(job, &params, &n, 0) < 0)
        return false;
    is = virTypedParamsGetString(params, n, VIR_JOB_STATS_PHASE, &v) == 1 && v &&
         STREQ(v, phase);
    virTypedParamsFree(params, n);
    return is;
}

/* Wait until the job's phase text is @phase; a job that ends first fails
 * the test at once, with its error (as waitPercent). */
static inline void waitPhase(virJobPtr job, const char *phase)
{
    virJobInfo info;
    memset(&info, 0, sizeof(info));
    if (!TEST_WAIT_UNTIL(jobPhaseIs(job, phase) ||
                         (virJobGetInfo(job, &info) == 0 && info.state != VIR_JOB_RUNNING),
                         TEST_TIMEOUT_MS))
        fail_msg("the job has not reached the phase '%s' after %d s", phase,
                 TEST_TIMEOUT_MS / 1000);
    if (!jobPhaseIs(job, phase) && info.state != VIR_JOB_RUNNING)
        fail_msg("the job ended (state %d) before the phase '%s': %s", info.state, phase,
                 jobErrorMessage(job));
}

/* An int field of the job's stats (virJobGetStats), -1 if absent. */
static inline int jobStatInt(virJobPtr job, const char *field)
{
    virTypedParameterPtr params = NULL;
    int n = 0, v = -1;
    assert_int_equal(virJobGetStats(job, &params, &n, 0), 0);
    for (int i = 0; i < n; i++)
        if (STREQ(params[i].field, field) && params[i].type == VIR_TYPED_PARAM_INT)
            v = params[i].value.i;
    virTypedParamsFree(params, n);
    return v;
}

/* For a test that must run as root (@what: what it does as root, for the
 * skip line) with the worker program built: 0 to go on, or 77 (skipped)
 * after saying why not. */
static inline int jobTestNeedRoot(const char *what)
{
    if (geteuid() != 0) {
        printf("not root: cannot %s, skipped\n", what);
        return 77;
    }
    if (!getenv("VIRTSUP_WORKER") || !getenv("VIRTSUP_BUILDDIR")) {
        printf("VIRTSUP_WORKER and VIRTSUP_BUILDDIR are not set: run through make check\n");
        return 77;
    }
    return 0;
}

static char *testRunDir;

static inline int jobTestSetup(void **state)
{
    (void)state;
    if (!testRunDir)
        testRunDir = testMakeRunDir();
    return testRunDir ? 0 : -1;
}

static inline int jobTestTeardown(void **state)
{
    (void)state;
    testRemoveDir(testRunDir);
    free(testRunDir);
    testRunDir = NULL;
    return 0;
}
