/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * security-sandbox-test.c: the worker's own report (test.report) of what
 * the sandbox left it, for a root caller's workers: capabilities in every
 * set (none, or exactly the op's), no_new_privs, the seccomp filter, the
 * ids and groups when the uid option is on, the limits (defaults and per
 * connection), the descriptors, and a filesystem root that holds only
 * /proc. Root only; skipped otherwise. See docs/SECURITY.md.
 */
#include <linux/capability.h>
#include <stdio.h>
#include <sys/resource.h>

#include "jobtest.h"

/* The value after "key" in the worker's report; fails the test if absent. */
static const char *value(const char *key)
{
    const char *v = jobResultValue(key);
    if (!v)
        fail_msg("no '%s' in the worker's report:\n%s", key, jobResult);
    return v;
}

/* Run test.report in a group with @cfg, for an op keeping @caps. */
static void report(const virSupGroupConfig *cfg, uint64_t caps)
{
    const virSupProfile prof = { .name = "test.caps", .caps = caps };
    const virSupOp op = {
        .name = "test.report", .type = VIR_JOB_BOUNDED, .profile = &prof,
        .commit = jobKeepResult,
    };
    virSupGroup *g = virSupGroupNew(cfg);
    assert_non_null(g);
    jobResult[0] = '\0';
    virSupJobParams p;
    memset(&p, 0, sizeof(p));
    p.op = &op;
    p.target = "report";
    virJobPtr job = virSupJobCreate(g, &p);
    assert_non_null(job);
    waitEnded(job);
    if (jobState(job) != VIR_JOB_COMPLETE)
        fail_msg("test.report did not complete: %s", jobErrorMessage(job));
    assert_int_equal(virJobDestroy(job), 0);
    virSupGroupClose(g);
}

static void assertNoCaps(void)
{
    assert_string_equal(value("CapInh:"), "0000000000000000");
    assert_string_equal(value("CapPrm:"), "0000000000000000");
    assert_string_equal(value("CapEff:"), "0000000000000000");
    assert_string_equal(value("CapBnd:"), "0000000000000000");
    assert_string_equal(value("CapAmb:"), "0000000000000000");
}

static void assertCommon(void)
{
    assert_string_equal(value("NoNewPrivs:"), "1");
    assert_string_equal(value("Seccomp:"), "2");          /* filter mode */
    assert_string_equal(value("fds:"), "3");              /* control only */
    assert_string_equal(value("core:"), "0");
    assert_string_equal(value("dumpable:"), "0");
    assert_string_equal(value("root:"), "proc");          /* nothing else */
}

static void testDefaultRootWorker(void **s)
{
    (void)s;
    report(NULL, 0);
    assertNoCaps();
    assertCommon();
    assert_string_equal(value("Uid:"), "0\t0\t0\t0");
    /* The defaults (supervisor.c): 256 descriptors, 16 GiB of address
     * space (none under ASan, whose shadow needs terabytes); CPU and file
     * size are the caller's (the deadline bounds time; a save writes what
     * it must). */
    assert_string_equal(value("nofile:"), "256");
#if !defined(__SANITIZE_ADDRESS__)
    assert_string_equal(value("as:"), "17179869184 17179869184");
#endif
    struct rlimit cpu;
    getrlimit(RLIMIT_CPU, &cpu);
    char want[64];
    snprintf(want, sizeof(want), "%lld %lld",
             cpu.rlim_cur == RLIM_INFINITY ? -1LL : (long long)cpu.rlim_cur,
             cpu.rlim_max == RLIM_INFINITY ? -1LL : (long long)cpu.rlim_max);
    assert_string_equal(value("cpu:"), want);
}

static void testLimitsPerConnection(void **s)
{
    (void)s;
    virSupGroupConfig cfg;
    memset(&cfg, 0, sizeof(cfg));
#if !defined(__SANITIZE_ADDRESS__)
    cfg.rlimit_as = 1ull << 30;
#endif
    cfg.rlimit_cpu = 100;
    cfg.rlimit_nofile = 64;
    cfg.rlimit_fsize = 1ull << 20;
    report(&cfg, 0);
    assertNoCaps();
    assertCommon();
#if !defined(__SANITIZE_ADDRESS__)
    assert_string_equal(value("as:"), "1073741824 1073741824");
#endif
    /* Soft and hard alike: the worker cannot raise them back. */
    assert_string_equal(value("cpu:"), "100 100");
    assert_string_equal(value("nofile:"), "64");
    assert_string_equal(value("nofile-max:"), "64");
    assert_string_equal(value("fsize:"), "1048576 1048576");
}

static void testUidOption(void **s)
{
    (void)s;
    virSupGroupConfig cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.set_ids = true;
    cfg.uid = 65534;
    cfg.gid = 65534;
    report(&cfg, 0);
    assertNoCaps();
    assertCommon();
    assert_string_equal(value("Uid:"), "65534\t65534\t65534\t65534");
    assert_string_equal(value("Gid:"), "65534\t65534\t65534\t65534");
    assert_string_equal(value("Groups:"), "");            /* none at all */

    /* Under another uid an op still keeps exactly what it declares. */
    report(&cfg, 1ull << CAP_CHOWN);
    assert_string_equal(value("Uid:"), "65534\t65534\t65534\t65534");
    assert_string_equal(value("CapEff:"), "0000000000000001");
    assert_string_equal(value("CapPrm:"), "0000000000000001");
    assert_string_equal(value("CapBnd:"), "0000000000000001");
    assert_string_equal(value("CapAmb:"), "0000000000000000");
    assertCommon();
}

static void testOpKeepsExactlyItsCaps(void **s)
{
    (void)s;
    /* An op that declares CAP_CHOWN keeps it, and nothing else, in the
     * effective, permitted and bounding sets; never inheritable or ambient. */
    report(NULL, 1ull << CAP_CHOWN);
    assert_string_equal(value("CapEff:"), "0000000000000001");
    assert_string_equal(value("CapPrm:"), "0000000000000001");
    assert_string_equal(value("CapBnd:"), "0000000000000001");
    assert_string_equal(value("CapInh:"), "0000000000000000");
    assert_string_equal(value("CapAmb:"), "0000000000000000");
    assertCommon();
}

int main(void)
{
    if (geteuid() != 0) {
        fprintf(stderr, "security-sandbox-test: skipped: needs root (the sandbox "
                "under test is a root caller's)\n");
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(testDefaultRootWorker),
        cmocka_unit_test(testLimitsPerConnection),
        cmocka_unit_test(testUidOption),
        cmocka_unit_test(testOpKeepsExactlyItsCaps),
    };
    return cmocka_run_group_tests(tests, jobTestSetup, jobTestTeardown);
}
