/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * security-hostile-test.c: a compromised worker (the test.hostile op)
 * tries everything that could reach beyond its own job while other jobs
 * run. Each attempt must fail or be contained; the other jobs' status and
 * outcomes must be untouched; the supervisor must carry on; nothing the
 * hostile worker spawned may outlive it. Root only (the properties under
 * test are those of a root caller's workers); skipped otherwise.
 * docs/SECURITY.md lists what each attempt shows.
 */
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>

#include "jobtest.h"

static const virSupOp opHostile = {
    .name = "test.hostile", .type = VIR_JOB_BOUNDED, .commit = jobKeepResult,
};

/* The outcome of @attempt in the hostile report, or NULL. */
static const char *value(const char *attempt)
{
    char key[80];
    snprintf(key, sizeof(key), "%s:", attempt);
    return jobResultValue(key);
}

/* The attempt was made and refused with one of the given errno names
 * (a space-separated list). */
static void refused(const char *attempt, const char *allowed)
{
    const char *v = value(attempt);
    if (!v)
        fail_msg("attempt '%s' missing from the hostile report:\n%s", attempt, jobResult);
    if (STREQ(v, "ok"))
        fail_msg("attempt '%s' succeeded: the sandbox let it through", attempt);
    char list[256];
    snprintf(list, sizeof(list), " %s ", allowed);
    char needle[64];
    snprintf(needle, sizeof(needle), " %s ", v);
    if (!strstr(list, needle))
        fail_msg("attempt '%s' failed with %s, expected one of: %s", attempt, v, allowed);
}

#if defined(__SANITIZE_ADDRESS__)
# define HOSTILE_AS 0ull      /* ASan's shadow does not fit under any limit */
#else
# define HOSTILE_AS (256ull << 20)
#endif

static void runHostile(bool asNobody)
{
    /* A non-root caller's workers live in a user namespace of their own,
     * with the host's /proc bound read-only: other processes' entries are
     * there but closed (EACCES), rather than absent (ENOENT). */
    const bool nonroot = geteuid() != 0;
    const char *closedProc = nonroot ? "EACCES EPERM" : "ENOENT";
    virSupGroupConfig cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.rlimit_as = HOSTILE_AS;
    cfg.grace_ms = 2000;
    if (asNobody) {
        cfg.set_ids = true;
        cfg.uid = 65534;
        cfg.gid = 65534;
    }
    virSupGroup *g = virSupGroupNew(&cfg);
    assert_non_null(g);
    /* Bystanders in an ordinary group: two waiting for cancel, two
     * streaming to completion. */
    virSupGroup *other = virSupGroupNew(NULL);
    assert_non_null(other);
    virJobPtr waiters[2], streams[2];
    for (int i = 0; i < 2; i++) {
        waiters[i] = startJob(other, &opCancel, "pct=20");
        streams[i] = startJob(other, &opStream, "ms=1500 total=1000000");
    }
    for (int i = 0; i < 2; i++)
        waitPercent(waiters[i], 20);
    /* The pid is known once the helper's report of the spawn is read,
     * which may come after the worker's first progress: wait for it. */
    int otherPid = 0;
    assert_true(TEST_WAIT_UNTIL((otherPid = jobStatInt(waiters[0],
                                                       VIR_JOB_STATS_WORKER_PID)) > 0,
                                TEST_TIMEOUT_MS));

    char params[1024];
    snprintf(params, sizeof(params), "sup=%d helper=%d other=%d seg=%s mem=%d",
             (int)getpid(), (int)virSupHelperPid(), otherPid, virSupSegmentPath(),
             HOSTILE_AS ? 1 : 0);
    virSupJobParams p;
    memset(&p, 0, sizeof(p));
    p.op = &opHostile;
    p.target = "hostile";
    p.params = params;
    p.paramslen = strlen(params);
    jobResult[0] = '\0';
    virJobPtr h = virSupJobCreate(g, &p);
    assert_non_null(h);
    waitEnded(h);
    if (jobState(h) != VIR_JOB_COMPLETE)
        fail_msg("hostile job did not complete: %s", jobErrorMessage(h));

    if (getenv("HOSTILE_PRINT"))
        fprintf(stderr, "%s", jobResult);
    /* Other slots and the segment: no path to them. */
    refused("slot-mremap", "EPERM");
    refused("slot-remap-file-pages", "EPERM");
    refused("segment-open-rw", "ENOENT");
    refused("segment-open-ro", "ENOENT");
    refused("map-files", "EPERM ENOENT");
    /* The supervisor, the helper, another job's worker. */
    const char *who[] = { "supervisor", "helper", "other" };
    for (size_t i = 0; i < ARRAY_CARDINALITY(who); i++) {
        char a[64];
        snprintf(a, sizeof(a), "signal-%s", who[i]);
        refused(a, "EPERM");
        snprintf(a, sizeof(a), "signal-group-%s", who[i]);
        refused(a, "EPERM");
        snprintf(a, sizeof(a), "sigqueue-%s", who[i]);
        refused(a, "EPERM");
        snprintf(a, sizeof(a), "ptrace-%s", who[i]);
        refused(a, "EPERM");
        snprintf(a, sizeof(a), "mem-%s", who[i]);
        refused(a, closedProc);
        snprintf(a, sizeof(a), "vm-read-%s", who[i]);
        refused(a, "EPERM");
        snprintf(a, sizeof(a), "pidfd-%s", who[i]);
        refused(a, "EPERM");
        snprintf(a, sizeof(a), "fds-%s", who[i]);
        refused(a, closedProc);
    }
    /* Files outside its descriptors, and the kernel. */
    refused("tmp-create", "ENOENT EROFS");
    refused("root-mkdir", "EROFS");
    refused("root-create", "EROFS");
    refused("shadow-read", "ENOENT");
    refused("passwd-write", "ENOENT");
    refused("sysrq-write", nonroot ? "EACCES EROFS ENOENT" : "ENOENT");
    refused("proc-pid1-root", closedProc);
    refused("mount", "EPERM");
    refused("unshare-user", "EPERM");
    /* Privileges. */
    refused("capset", "EPERM");
    refused("ambient-raise", "EPERM");
    refused("nnp-clear", "EINVAL EPERM");
    refused("exec-su", "ENOENT");
    if (asNobody || nonroot)
        refused("setuid-0", "EPERM EINVAL");  /* EINVAL: 0 is not mapped */
    if (HOSTILE_AS) {
        const char *m = value("memory");
        assert_non_null(m);
        assert_int_equal(strncmp(m, "ENOMEM after ", 13), 0);
    }
    /* The escaped grandchild: out of the job's session, and dead now. */
    const char *o = value("orphan");
    assert_non_null(o);
    pid_t orphan = atoi(o);
    assert_true(orphan > 0);
    assert_int_equal(atoi(value("orphan-sid")), orphan);
    assert_true(TEST_WAIT_UNTIL(!testProcessAlive(orphan), TEST_TIMEOUT_MS));

    /* The bystanders: still where they were, and they end as they would. */
    for (int i = 0; i < 2; i++) {
        virJobInfo info;
        assert_int_equal(virJobGetInfo(waiters[i], &info), 0);
        assert_int_equal(info.state, VIR_JOB_RUNNING);
        assert_int_equal(info.percentComplete, 20);
        assert_int_equal(virJobCancel(waiters[i]), 0);
    }
    for (int i = 0; i < 2; i++) {
        waitEnded(waiters[i]);
        assert_int_equal(jobState(waiters[i]), VIR_JOB_CANCELLED);
        waitEnded(streams[i]);
        if (jobState(streams[i]) != VIR_JOB_COMPLETE)
            fail_msg("bystander stream failed: %s", jobErrorMessage(streams[i]));
        virJobInfo info;
        assert_int_equal(virJobGetInfo(streams[i], &info), 0);
        assert_int_equal(info.percentComplete, 100);
    }
    /* The supervisor carries on: a new job in the hostile job's group. */
    virJobPtr after = startJob(g, &opSucceed, "bytes=10");
    waitEnded(after);
    assert_int_equal(jobState(after), VIR_JOB_COMPLETE);

    assert_int_equal(virJobDestroy(after), 0);
    assert_int_equal(virJobDestroy(h), 0);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(virJobDestroy(waiters[i]), 0);
        assert_int_equal(virJobDestroy(streams[i]), 0);
    }
    virSupGroupClose(other);
    virSupGroupClose(g);
    assert_int_equal(testCountChildren(), 0);
}

static void testHostileRootWorker(void **s)
{
    (void)s;
    runHostile(false);
}

static void testHostileNobodyWorker(void **s)
{
    (void)s;
    runHostile(true);
}

/* The helper's children that are in process group @pgid, but not @pgid. */
static pid_t orphanInGroup(pid_t helper, pid_t pgid)
{
    char path[64], buf[4096];
    snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)helper, (int)helper);
    FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    for (char *p = buf, *end; *p; p = end) {
        long pid = strtol(p, &end, 10);
        if (end == p)
            break;
        if (pid != pgid && getpgid((pid_t)pid) == pgid)
            return (pid_t)pid;
    }
    return 0;
}

static void testSweepSparesLiveJobs(void **s)
{
    (void)s;
    /* An orphan that stayed in its live job's group survives other jobs'
     * ends (each one sweeps), and dies with its own job. */
    static const virSupOp opOrphan = { .name = "test.orphan-in-group",
                                       .type = VIR_JOB_BOUNDED };
    virSupGroup *g = virSupGroupNew(NULL);
    assert_non_null(g);
    virJobPtr a = startJob(g, &opOrphan, NULL);
    waitPercent(a, 50);
    pid_t worker = 0;
    assert_true(TEST_WAIT_UNTIL((worker = jobStatInt(a, VIR_JOB_STATS_WORKER_PID)) > 0,
                                TEST_TIMEOUT_MS));
    pid_t orphan = 0;
    assert_true(TEST_WAIT_UNTIL((orphan = orphanInGroup(virSupHelperPid(), worker)) > 0,
                                TEST_TIMEOUT_MS));
    for (int i = 0; i < 3; i++) {
        virJobPtr b = startJob(g, &opSucceed, NULL);
        waitEnded(b);
        assert_int_equal(jobState(b), VIR_JOB_COMPLETE);
        assert_int_equal(virJobDestroy(b), 0);
    }
    assert_true(testProcessAlive(orphan));
    assert_int_equal(virJobCancel(a), 0);
    waitEnded(a);
    assert_int_equal(jobState(a), VIR_JOB_CANCELLED);
    assert_true(TEST_WAIT_UNTIL(!testProcessAlive(orphan), TEST_TIMEOUT_MS));
    assert_int_equal(virJobDestroy(a), 0);
    virSupGroupClose(g);
}

static void testHostileNonRootCaller(void **s)
{
    (void)s;
    runHostile(false);
}

/* Can this (non-root) process have a user namespace? The sandbox of a
 * non-root caller's workers depends on it. */
static bool userNamespacesAllowed(void)
{
    pid_t pid = fork();
    if (pid == 0)
        _exit(unshare(CLONE_NEWUSER) == 0 ? 0 : 1);
    int st = 0;
    return pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
           WEXITSTATUS(st) == 0;
}

/* Run this program again as uid/gid 65534, as a non-root application
 * would be. Returns its exit status (77: skipped). */
static int rerunAsNobody(void)
{
    /* The program's path, resolved now (under valgrind, /proc/self/exe
     * would name valgrind's tool when exec'd). */
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0)
        return 1;
    self[n] = '\0';
    pid_t pid = fork();
    if (pid == 0) {
        if (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 ||
            setresuid(65534, 65534, 65534) < 0)
            _exit(2);
        setenv("VIRTSUP_TEST_NONROOT_CALLER", "1", 1);
        /* Exec from a process born under the new ids: valgrind, when it
         * traces us, keeps per-pid files in /tmp that the old ids own. */
        pid_t inner = fork();
        if (inner == 0) {
            char *argv[] = { (char *)"security-hostile-test", NULL };
            execv(self, argv);
            _exit(2);
        }
        int ist = 0;
        if (inner < 0 || waitpid(inner, &ist, 0) != inner || !WIFEXITED(ist))
            _exit(1);
        _exit(WEXITSTATUS(ist));
    }
    int st = 0;
    if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
        return 1;
    return WEXITSTATUS(st);
}

int main(void)
{
    if (getenv("VIRTSUP_TEST_NONROOT_CALLER") && geteuid() != 0) {
        if (!userNamespacesAllowed()) {
            fprintf(stderr, "security-hostile-test: non-root caller: skipped: this "
                    "host allows no unprivileged user namespaces\n");
            return 77;
        }
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(testHostileNonRootCaller),
        };
        return cmocka_run_group_tests(tests, jobTestSetup, jobTestTeardown);
    }
    if (geteuid() != 0) {
        fprintf(stderr, "security-hostile-test: skipped: needs root (the sandbox "
                "under test is a root caller's, then a non-root one's)\n");
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(testHostileRootWorker),
        cmocka_unit_test(testHostileNobodyWorker),
        cmocka_unit_test(testSweepSparesLiveJobs),
    };
    int rc = cmocka_run_group_tests(tests, jobTestSetup, jobTestTeardown);
    /* The same attack from the worker of a non-root application. */
    int rc2 = rerunAsNobody();
    return rc ? rc : rc2 == 77 ? 0 : rc2;
}
