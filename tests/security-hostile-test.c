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
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "jobtest.h"
#include "drivers/network/network_driver.h"
#include "drivers/qemu/qemu_driver.h"

/* The profiles the real drivers need, each attacked in turn:
 *  - default: what every test driver op gets;
 *  - net: the network driver's start worker (netStartProfile itself),
 *    CAP_NET_ADMIN and netlink, no files;
 *  - taps: the qemu driver's taps worker (qemuTapsProfile itself),
 *    CAP_NET_ADMIN and netlink, no files;
 *  - io: a save/restore/dump worker of a hypervisor driver: no
 *    capabilities, a pipe end from the hypervisor, an output file and a
 *    socket to the guest's monitor owner;
 *  - detach: a worker whose process may outlive it. */
static const virSupFdSpec ioFDs[] = {
    { "pipe", VIR_SUP_FD_PIPE_READ },
    { "output", VIR_SUP_FD_WRITE },
    { "monitor", VIR_SUP_FD_SOCKET },
};
static const virSupProfile profIO = {
    .name = "test.io", .fds = ioFDs, .nfds = 3,
};
static const virSupProfile profDetach = {
    .name = "test.detach", .detach = true,
};
enum { PROF_DEFAULT, PROF_NET, PROF_TAPS, PROF_IO, PROF_DETACH, PROF_LAST };
static const virSupProfile *const profiles[PROF_LAST] = {
    NULL, &netStartProfile, &qemuTapsProfile, &profIO, &profDetach,
};
static const virSupOp opHostile[PROF_LAST] = {
    [PROF_DEFAULT] = { .name = "test.hostile", .type = VIR_JOB_BOUNDED,
                       .profile = NULL, .commit = jobKeepResult },
    [PROF_NET] = { .name = "test.hostile", .type = VIR_JOB_BOUNDED,
                   .profile = &netStartProfile, .commit = jobKeepResult },
    [PROF_TAPS] = { .name = "test.hostile", .type = VIR_JOB_BOUNDED,
                    .profile = &qemuTapsProfile, .commit = jobKeepResult },
    [PROF_IO] = { .name = "test.hostile", .type = VIR_JOB_BOUNDED,
                  .profile = &profIO, .commit = jobKeepResult },
    [PROF_DETACH] = { .name = "test.hostile", .type = VIR_JOB_BOUNDED,
                      .profile = &profDetach, .commit = jobKeepResult },
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
        fail_msg("attempt '%s' failed with %s, expected one of: %s; the whole report:\n%s",
                 attempt, v, allowed, jobResult);
}

#if defined(__SANITIZE_ADDRESS__)
# define HOSTILE_AS 0ull      /* ASan's shadow does not fit under any limit */
#else
# define HOSTILE_AS (256ull << 20)
#endif

/* The attempt's outcome is exactly @want. */
static void is(const char *attempt, const char *want)
{
    const char *v = value(attempt);
    if (!v)
        fail_msg("attempt '%s' missing from the hostile report:\n%s", attempt, jobResult);
    if (!STREQ(v, want))
        fail_msg("attempt '%s': '%s', expected '%s'", attempt, v, want);
}

/* The pid a profile allowed to outlive the hostile job; killed at the end. */
static pid_t detachedPid;

static void runHostile(int prof, bool asNobody)
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
    p.op = &opHostile[prof];
    p.target = "hostile";
    p.params = params;
    p.paramslen = strlen(params);
    /* The io profile's descriptors: a pipe's read end, an unnamed file
     * open for writing, one end of a socket pair. */
    int pipefd[2] = { -1, -1 }, sock[2] = { -1, -1 }, out = -1;
    int iofds[3];
    if (prof == PROF_IO) {
        assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sock), 0);
        out = open(testRunDir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        assert_true(out >= 0);
        iofds[0] = pipefd[0];
        iofds[1] = out;
        iofds[2] = sock[1];
        p.fds = iofds;
        p.nfds = 3;
    }
    jobResult[0] = '\0';
    virJobPtr h = virSupJobCreate(g, &p);
    assert_non_null(h);
    waitEnded(h);
    if (jobState(h) != VIR_JOB_COMPLETE)
        fail_msg("hostile job did not complete: %s", jobErrorMessage(h));
    for (int i = 0; i < 2; i++) {
        if (pipefd[i] >= 0)
            close(pipefd[i]);
        if (sock[i] >= 0)
            close(sock[i]);
    }
    if (out >= 0)
        close(out);

    if (getenv("HOSTILE_PRINT"))
        fprintf(stderr, "%s", jobResult);
    /* Other slots and the segment: no path to them. */
    refused("slot-mremap", "EPERM");
    refused("slot-remap-file-pages", "EPERM");
    refused("segment-open-rw", "ENOENT");
    refused("segment-open-ro", "ENOENT");
    refused("map-files", "EPERM ENOENT");
    /* The supervisor, the helper, another job's worker. */
    const char *who[] = { "supervisor", "helper", "other", "parent" };
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
    /* The escaped grandchild: out of the job's session, and dead now
     * (also in a profile that allows processes to outlive the job: this
     * one was not handed to the helper). */
    const char *o = value("orphan");
    assert_non_null(o);
    pid_t orphan = atoi(o);
    assert_true(orphan > 0);
    assert_int_equal(atoi(value("orphan-sid")), orphan);
    assert_true(TEST_WAIT_UNTIL(!testProcessAlive(orphan), TEST_TIMEOUT_MS));

    /* What each profile grants, and nothing more. */
    char caps[32];
    snprintf(caps, sizeof(caps), "%llx",
             (unsigned long long)(profiles[prof] ? profiles[prof]->caps : 0));
    is("cap-eff", caps);
    is("socket-unix", "ok");
    refused("socket-inet", "EPERM");
    refused("socket-inet6", "EPERM");
    refused("socket-packet", "EPERM");
    if (prof == PROF_NET || prof == PROF_TAPS)
        is("socket-netlink", "ok");
    else
        refused("socket-netlink", "EPERM");
    /* Descriptors: the control socket, then the profile's, in order. */
    if (prof == PROF_IO) {
        is("fds", "3,4,5,6");
        const char *names = strstr(jobResult, "fd-name: pipe=4\nfd-name: output=5\n"
                                              "fd-name: monitor=6\n");
        if (!names)
            fail_msg("the io profile's descriptors are not named as declared:\n%s", jobResult);
    } else if (prof == PROF_DETACH) {
        is("fds", "3,4");      /* the control socket, the detach socket */
    } else {
        is("fds", "3");
    }
    /* Processes that outlive the job. */
    const char *denied = prof == PROF_DETACH ? "refused" : "EPERM";
    is("detach-self", denied);
    is("detach-init", denied);
    is("detach-same-session", denied);
    if (prof == PROF_DETACH) {
        const char *d = value("detached");
        assert_non_null(d);
        detachedPid = atoi(d);
        if (detachedPid <= 0)
            fail_msg("the detach profile's worker could not keep a process: %s", d);
        is("detach-again", "ok");
        assert_true(testProcessAlive(detachedPid));
    } else {
        assert_null(value("detached"));
    }

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
    if (detachedPid > 0) {
        /* It outlived its job, other jobs' sweeps (the bystanders ended)
         * and still runs. */
        assert_true(testProcessAlive(detachedPid));
    }
    virSupGroupClose(other);
    virSupGroupClose(g);
    assert_int_equal(testCountChildren(), 0);
    if (detachedPid > 0) {
        /* Not our child, nor the helper's to kill: the test started it,
         * so the test ends it, by pid. */
        assert_int_equal(kill(detachedPid, SIGKILL), 0);
        assert_true(TEST_WAIT_UNTIL(!testProcessAlive(detachedPid), TEST_TIMEOUT_MS));
        detachedPid = 0;
    }
}

static void testHostileRootWorker(void **s)
{
    (void)s;
    runHostile(PROF_DEFAULT, false);
}

static void testHostileNobodyWorker(void **s)
{
    (void)s;
    runHostile(PROF_DEFAULT, true);
}

static void testHostileNetWorker(void **s)
{
    (void)s;
    runHostile(PROF_NET, false);
}

static void testHostileNetNobodyWorker(void **s)
{
    (void)s;
    runHostile(PROF_NET, true);
}

static void testHostileTapsWorker(void **s)
{
    (void)s;
    runHostile(PROF_TAPS, false);
}

static void testHostileIOWorker(void **s)
{
    (void)s;
    runHostile(PROF_IO, true);
}

static void testHostileDetachWorker(void **s)
{
    (void)s;
    runHostile(PROF_DETACH, false);
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
    runHostile(PROF_DEFAULT, false);
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
        /* A checkout under a directory closed to others (root's home,
         * 0700): nobody cannot run this program or the worker. Say so and
         * skip this half, rather than fail without a word. */
        const char *worker = getenv("VIRTSUP_WORKER");
        const char *closed = access(self, X_OK) < 0 ? self :
                             worker && access(worker, X_OK) < 0 ? worker : NULL;
        if (closed) {
            fprintf(stderr, "security-hostile-test: non-root caller: skipped: uid 65534 "
                    "cannot run %s (%s): a directory above it is closed to other "
                    "users; build in a checkout others can enter to run this case\n",
                    closed, strerror(errno));
            _exit(77);
        }
        /* Exec from a process born under the new ids: valgrind, when it
         * traces us, keeps per-pid files in /tmp that the old ids own. */
        pid_t inner = fork();
        if (inner == 0) {
            char *argv[] = { (char *)"security-hostile-test", NULL };
            execv(self, argv);
            fprintf(stderr, "security-hostile-test: cannot run %s as uid 65534: %s\n",
                    self, strerror(errno));
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
        cmocka_unit_test(testHostileNetWorker),
        cmocka_unit_test(testHostileNetNobodyWorker),
        cmocka_unit_test(testHostileTapsWorker),
        cmocka_unit_test(testHostileIOWorker),
        cmocka_unit_test(testHostileDetachWorker),
        cmocka_unit_test(testSweepSparesLiveJobs),
    };
    int rc = cmocka_run_group_tests(tests, jobTestSetup, jobTestTeardown);
    /* The same attack from the worker of a non-root application. */
    int rc2 = rerunAsNobody();
    return rc ? rc : rc2 == 77 ? 0 : rc2;
}
