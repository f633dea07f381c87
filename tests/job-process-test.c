/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * job-process-test.c: what the worker's sandbox leaves it, and what the
 * supervisor leaves the application: no child, thread or descriptor after
 * the last close, its SIGCHLD handler untouched, our workers invisible to
 * its waitpid(-1).
 */
#include <signal.h>
#include <sys/wait.h>

#include "jobtest.h"

static const virSupOp opReportKeep = {
    .name = "test.report", .type = VIR_JOB_BOUNDED, .commit = jobKeepResult,
};

static void testWorkerSandbox(void **s)
{
    (void)s;
    /* Nothing of the application's environment reaches a worker. */
    setenv("VIRTSUP_TEST_SECRET", "hunter2", 1);
    setenv("LD_LIBRARY_PATH", "/nonexistent", 1);
    virSupGroup *g = virSupGroupNew(NULL);
    assert_non_null(g);
    char tmpl[] = "/tmp/virtsup-res-XXXXXX";
    int res = mkstemp(tmpl);
    assert_true(res >= 0);
    unlink(tmpl);
    virSupJobParams p;
    memset(&p, 0, sizeof(p));
    p.op = &opReportKeep;
    p.fds = &res;
    p.nfds = 1;
    virJobPtr job = virSupJobCreate(g, &p);
    assert_non_null(job);
    close(res);
    waitEnded(job);
    assert_int_equal(jobState(job), VIR_JOB_COMPLETE);

    /* Exactly the documented descriptors: control (3) and one resource (4). */
    assert_string_equal(jobResultValue("fds:"), "3 4");
    assert_string_equal(jobResultValue("CapEff:"), "0000000000000000");
    assert_string_equal(jobResultValue("CapPrm:"), "0000000000000000");
    assert_string_equal(jobResultValue("CapInh:"), "0000000000000000");
    assert_string_equal(jobResultValue("CapAmb:"), "0000000000000000");
    if (geteuid() == 0)
        assert_string_equal(jobResultValue("CapBnd:"), "0000000000000000");
    assert_string_equal(jobResultValue("NoNewPrivs:"), "1");
    const char *env = jobResultValue("env:");
    assert_non_null(env);
    assert_null(strstr(env, "VIRTSUP_TEST_SECRET"));
    assert_null(strstr(env, "LD_LIBRARY_PATH"));
    assert_non_null(strstr(env, "PATH"));
    unsetenv("VIRTSUP_TEST_SECRET");
    unsetenv("LD_LIBRARY_PATH");
    assert_string_equal(jobResultValue("SigBlk:"), "0000000000000000");
    assert_string_equal(jobResultValue("core:"), "0");
    assert_string_equal(jobResultValue("dumpable:"), "0");
    /* Its own process group, not ours, not the helper's. */
    char *pid = strdup(jobResultValue("pid:"));
    assert_string_equal(jobResultValue("pgid:"), pid);
    assert_int_not_equal(atoi(pid), getpgrp());
    assert_int_not_equal(atoi(jobResultValue("sid:")), getsid(0));
    free(pid);
    assert_int_equal(virJobDestroy(job), 0);
    virSupGroupClose(g);
}

static void testCloseLeavesNothing(void **s)
{
    (void)s;
    int fds = testCountFDs(), threads = testCountThreads();
    virSupGroup *g = virSupGroupNew(NULL);
    assert_non_null(g);
    pid_t helper = virSupHelperPid();
    assert_true(helper > 0);
    assert_true(testProcessAlive(helper));
    assert_true(testCountThreads() > threads);
    char *seg = strdup(virSupSegmentPath());
    assert_int_equal(access(seg, F_OK), 0);
    virJobPtr a = startJob(g, &opCancel, NULL);
    virJobPtr b = startJob(g, &opSucceed, NULL);
    waitEnded(b);
    virSupGroupClose(g);
    assert_int_equal(jobState(a), VIR_JOB_CANCELLED);
    /* The finished jobs hold no descriptor but their own event fd. */
    assert_int_equal(virJobDestroy(a), 0);
    assert_int_equal(virJobDestroy(b), 0);
    assert_int_equal(testCountFDs(), fds);
    assert_int_equal(testCountThreads(), threads);
    assert_int_equal(testCountChildren(), 0);
    assert_true(TEST_WAIT_UNTIL(!testProcessAlive(helper), TEST_TIMEOUT_MS));
    assert_int_equal(access(seg, F_OK), -1); /* removed on clean shutdown */
    free(seg);
}

/* A job read back through its status segment, as another process reads
 * it (virSupForeignJobRead, what the qemu driver shows of another
 * application's save): the figures the job's own handle gives, its end,
 * and a refusal for a job or a segment that is not there. */
static void testForeignRead(void **s)
{
    (void)s;
    virSupGroup *g = virSupGroupNew(NULL);
    assert_non_null(g);
    virJobPtr a = startJob(g, &opCancel, NULL);
    waitPercent(a, 20);
    char seg[4096];
    assert_int_equal(virSupJobSegmentPath(a, seg, sizeof(seg)), 0);
    assert_string_equal(seg, virSupSegmentPath());
    assert_int_equal(virSupJobSegmentPath(a, seg, 4), -1);   /* does not fit */
    assert_int_equal(virSupJobSegmentPath(a, seg, sizeof(seg)), 0);

    virSupForeignJob fj;
    uint64_t done = 0, total = 0;
    assert_int_equal(virSupForeignJobRead(seg, virJobGetID(a), &fj), 0);
    assert_int_equal(virSupJobGetRawStats(a, NULL, NULL, NULL, &done, &total), 0);
    assert_int_equal(fj.state, VIR_JOB_RUNNING);
    assert_true(fj.done == done && fj.total == total);

    /* A job the segment never held, and no segment at all. */
    assert_int_equal(virSupForeignJobRead(seg, virJobGetID(a) + 100000, &fj), -1);
    assert_non_null(strstr(virGetLastErrorMessage(), "is no longer in the status segment"));
    assert_int_equal(virSupForeignJobRead("/nonexistent/1-1.seg", 1, &fj), -1);

    assert_int_equal(virJobCancel(a), 0);
    waitEnded(a);
    assert_int_equal(virSupForeignJobRead(seg, virJobGetID(a), &fj), 0);
    assert_int_equal(fj.state, VIR_JOB_CANCELLED);
    assert_int_equal(fj.remaining_ms, 0);
    /* Its record has its monotonic start and end, and the elapsed time
     * read from another process is theirs (a step of the wall clock does
     * not change it: tests/virtsup-stat-test.sh). */
    virShmSegment *sg = virShmSegmentOpen(seg);
    assert_non_null(sg);
    static virShmJobView v;
    virShmSlotView(sg, virShmRingSlot(sg, virJobGetID(a)), true, &v);
    assert_int_equal(v.kind, VIR_SHM_VIEW_JOB);
    assert_true(v.lc.start_mono_ns > 0 && v.lc.end_mono_ns >= v.lc.start_mono_ns &&
                v.lc.end_mono_ns <= virShmNowMono());
    assert_true(fj.elapsed_ms == (v.lc.end_mono_ns - v.lc.start_mono_ns) / 1000000);
    virShmSegmentClose(sg);
    assert_int_equal(virJobDestroy(a), 0);
    virSupGroupClose(g);
}

static volatile sig_atomic_t chldCount;
static void onChld(int signo)
{
    (void)signo;
    chldCount++;
}

static void testApplicationSigchld(void **s)
{
    (void)s;
    struct sigaction sa, old, now;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = onChld;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    assert_int_equal(sigaction(SIGCHLD, &sa, &old), 0);
    chldCount = 0;

    virSupGroup *g = virSupGroupNew(NULL);
    assert_non_null(g);
    virJobPtr jobs[4];
    for (int i = 0; i < 4; i++)
        jobs[i] = startJob(g, i % 2 ? &opSegv : &opSucceed, NULL);
    /* While they run, the application's own waitpid(-1) sees none of them. */
    for (int i = 0; i < 4; i++) {
        int st;
        pid_t r = waitpid(-1, &st, WNOHANG | __WALL);
        assert_true(r == 0 || (r < 0 && errno == ECHILD));
    }
    for (int i = 0; i < 4; i++)
        waitEnded(jobs[i]);
    /* The exit statuses stayed ours: crashes are still told as crashes. */
    for (int i = 0; i < 4; i++) {
        assert_int_equal(jobState(jobs[i]), i % 2 ? VIR_JOB_FAILED : VIR_JOB_COMPLETE);
        if (i % 2)
            assert_string_equal(jobErrorMessage(jobs[i]), "worker crashed: signal 11 (SIGSEGV)");
        assert_int_equal(virJobDestroy(jobs[i]), 0);
    }
    virSupGroupClose(g);
    assert_int_equal(chldCount, 0); /* none of ours */

    /* The application's own children still raise its SIGCHLD. */
    pid_t own = fork();
    if (own == 0)
        _exit(7);
    int st = 0;
    assert_int_equal(waitpid(own, &st, 0), own);
    assert_int_equal(WEXITSTATUS(st), 7);
    assert_true(TEST_WAIT_UNTIL(chldCount == 1, TEST_TIMEOUT_MS));

    /* And its handler is still its own. */
    assert_int_equal(sigaction(SIGCHLD, NULL, &now), 0);
    assert_ptr_equal(now.sa_handler, onChld);
    sigaction(SIGCHLD, &old, NULL);
}

static void testIgnoredSigchld(void **s)
{
    (void)s;
    /* An application that ignores SIGCHLD (auto-reaping) still gets true
     * exit statuses for our jobs: the helper does not inherit SIG_IGN. */
    struct sigaction sa, old;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_IGN;
    sigaction(SIGCHLD, &sa, &old);
    virSupGroup *g = virSupGroupNew(NULL);
    assert_non_null(g);
    virJobPtr job = startJob(g, &opAbort, NULL);
    waitEnded(job);
    assert_string_equal(jobErrorMessage(job), "worker crashed: signal 6 (SIGABRT)");
    assert_int_equal(virJobDestroy(job), 0);
    virSupGroupClose(g);
    sigaction(SIGCHLD, &old, NULL);
}

static void testMissingWorkerProgram(void **s)
{
    (void)s;
    /* The path is read once per process: exercise the helper start error
     * through the internal call instead. */
    virSupHelper h;
    assert_int_equal(virSupHelperStart(&h, "/nonexistent/virtsup-worker", "default"), -1);
    assert_non_null(strstr(virGetLastErrorMessage(), "cannot run the worker program"));
    assert_int_equal(virSupHelperStart(&h, "/bin/true", "default"), -1);
    assert_non_null(strstr(virGetLastErrorMessage(), "did not answer"));
    assert_int_equal(testCountChildren(), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(testWorkerSandbox),
        cmocka_unit_test(testCloseLeavesNothing),
        cmocka_unit_test(testForeignRead),
        cmocka_unit_test(testApplicationSigchld),
        cmocka_unit_test(testIgnoredSigchld),
        cmocka_unit_test(testMissingWorkerProgram),
    };
    return cmocka_run_group_tests(tests, jobTestSetup, jobTestTeardown);
}
