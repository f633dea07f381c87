/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * job-profile-test.c: what virSupJobCreate accepts of an op's profile.
 * Descriptors must be what the profile names, in number and kind; a
 * directory or an O_PATH descriptor is refused in every profile; a bad
 * profile is refused with a message naming it. Profiles with another
 * sandbox run under a spawn helper of their own; profiles that differ only
 * in their descriptors share one. The worker finds its descriptors by
 * name. (What each profile's worker may do: security-hostile-test.)
 */
#include <fcntl.h>
#include <sys/socket.h>

#include "jobtest.h"

static const virSupFdSpec twoFDs[] = {
    { "in", VIR_SUP_FD_PIPE_READ },
    { "sock", VIR_SUP_FD_SOCKET },
};
static const virSupProfile profTwo = { .name = "test.two", .fds = twoFDs, .nfds = 2 };
static const virSupOp opTwo = {
    .name = "test.report", .type = VIR_JOB_BOUNDED, .profile = &profTwo,
    .commit = jobKeepResult,
};

static void assertRefused(virSupGroup *g, const virSupOp *op, const int *fds, size_t nfds,
                          const char *needle)
{
    virSupJobParams p;
    memset(&p, 0, sizeof(p));
    p.op = op;
    p.target = "profile";
    p.fds = fds;
    p.nfds = nfds;
    virResetLastError();
    virJobPtr job = virSupJobCreate(g, &p);
    if (job)
        fail_msg("virSupJobCreate accepted what it should refuse (%s)", needle);
    virErrorPtr e = virGetLastError();
    assert_non_null(e);
    assert_int_equal(e->code, VIR_ERR_INVALID_ARG);
    if (!strstr(e->message, needle))
        fail_msg("message '%s' lacks '%s'", e->message, needle);
}

static void testDescriptorsChecked(void **s)
{
    (void)s;
    virSupGroup *g = virSupGroupNew(NULL);
    assert_non_null(g);
    int pipefd[2], sv[2];
    assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    int dir = open(testRunDir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int opath = open(testRunDir, O_PATH | O_CLOEXEC);
    assert_true(dir >= 0 && opath >= 0);

    /* No directory, no O_PATH: not even in the default profile. */
    assertRefused(g, &opSucceed, &dir, 1, "never a directory");
    assertRefused(g, &opSucceed, &opath, 1, "never a directory");
    /* Exactly the profile's number... */
    int one[1] = { pipefd[0] };
    assertRefused(g, &opTwo, one, 1, "takes 2 descriptors");
    /* ... and kinds, in order. */
    int swapped[2] = { sv[0], pipefd[0] };
    assertRefused(g, &opTwo, swapped, 2, "('in') of a job of test.report must be the read end of a pipe");
    int wrongEnd[2] = { pipefd[1], sv[0] };
    assertRefused(g, &opTwo, wrongEnd, 2, "must be the read end of a pipe");
    /* A bad profile. */
    static const virSupFdSpec unnamed[] = { { "", VIR_SUP_FD_READ } };
    static const virSupProfile profUnnamed = { .name = "test.unnamed", .fds = unnamed, .nfds = 1 };
    static const virSupOp opUnnamed = { .name = "test.succeed", .type = VIR_JOB_BOUNDED,
                                        .profile = &profUnnamed };
    assertRefused(g, &opUnnamed, one, 1, "needs a name");
    static const virSupProfile profBadSet = { .name = "test.badset", .syscalls = 99 };
    static const virSupOp opBadSet = { .name = "test.succeed", .type = VIR_JOB_BOUNDED,
                                       .profile = &profBadSet };
    assertRefused(g, &opBadSet, NULL, 0, "unknown system-call set");
    static const virSupProfile profBadLibs = { .name = "test.badlibs", .libs = 1u << 7 };
    static const virSupOp opBadLibs = { .name = "test.succeed", .type = VIR_JOB_BOUNDED,
                                        .profile = &profBadLibs };
    assertRefused(g, &opBadLibs, NULL, 0, "names unknown libraries (0x80)");

    /* The right ones: the worker holds them at 4 and 5, named. */
    int good[2] = { pipefd[0], sv[0] };
    virSupJobParams p;
    memset(&p, 0, sizeof(p));
    p.op = &opTwo;
    p.target = "profile";
    p.fds = good;
    p.nfds = 2;
    jobResult[0] = '\0';
    virJobPtr job = virSupJobCreate(g, &p);
    assert_non_null(job);
    waitEnded(job);
    if (jobState(job) != VIR_JOB_COMPLETE)
        fail_msg("the two-descriptor job failed: %s", jobErrorMessage(job));
    const char *v = jobResultValue("fd-names:");
    assert_non_null(v);
    assert_string_equal(v, "in=4 sock=5");
    assert_int_equal(virJobDestroy(job), 0);

    close(dir);
    close(opath);
    for (int i = 0; i < 2; i++) {
        close(pipefd[i]);
        close(sv[i]);
    }
    virSupGroupClose(g);
}

static void testHelperPerSandbox(void **s)
{
    (void)s;
    static const virSupProfile profCaps = { .name = "test.caps", .caps = 1ULL << 12 };
    static const virSupOp opCapsSucceed = { .name = "test.succeed", .type = VIR_JOB_BOUNDED,
                                            .profile = &profCaps };
    virSupGroup *g = virSupGroupNew(NULL);
    assert_non_null(g);
    pid_t def = virSupHelperPid();
    assert_true(def > 0);
    /* Descriptors alone do not make another sandbox. */
    assert_int_equal(virSupProfileHelperPid(&profTwo), def);
    /* Another capability set does, started at its first job. */
    assert_int_equal(virSupProfileHelperPid(&profCaps), 0);
    virJobPtr job = startJob(g, &opCapsSucceed, NULL);
    waitEnded(job);
    assert_int_equal(jobState(job), VIR_JOB_COMPLETE);
    pid_t other = virSupProfileHelperPid(&profCaps);
    assert_true(other > 0);
    assert_int_not_equal(other, def);
    /* Its name shows in ps. */
    char path[64], cmd[256] = "";
    snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)other);
    FILE *f = fopen(path, "re");
    assert_non_null(f);
    size_t n = fread(cmd, 1, sizeof(cmd) - 1, f);
    fclose(f);
    for (size_t i = 0; i + 1 < n; i++)
        if (!cmd[i])
            cmd[i] = ' ';
    assert_non_null(strstr(cmd, "--spawn-helper test.caps"));
    assert_int_equal(virJobDestroy(job), 0);
    virSupGroupClose(g);
    /* Every helper is gone with the supervisor. */
    assert_true(TEST_WAIT_UNTIL(!testProcessAlive(other), TEST_TIMEOUT_MS));
    assert_int_equal(testCountChildren(), 0);
}

/* Whether the "libs:" line of test.report's result names @lib. */
static bool reportMaps(const char *lib)
{
    const char *line = strstr(jobResult, "\nlibs:");
    assert_non_null(line);
    size_t n = strcspn(line + 1, "\n");
    char *copy = strndup(line + 1, n);
    bool has = strstr(copy, lib) != NULL;
    free(copy);
    return has;
}

/* The "xml:" line of test.report's result: "ok" or the error. */
static char *reportXML(void)
{
    const char *line = strstr(jobResult, "\nxml: ");
    assert_non_null(line);
    return strndup(line + 6, strcspn(line + 6, "\n"));
}

/* libxml2 and libnftables are mapped by the helpers and workers of the
 * profiles that name them alone (loaded with dlopen before the sandbox);
 * the others never map them, and say so if asked to read XML. */
static void testLibrariesPerSandbox(void **s)
{
    (void)s;
    static const virSupProfile profNft = { .name = "test.nft",
                                           .syscalls = VIR_SUP_SYSCALLS_NETLINK,
                                           .libs = VIR_SUP_LIB_NFTABLES };
    static const virSupProfile profXML = { .name = "test.xml", .libs = VIR_SUP_LIB_XML };
    static const virSupProfile profBoth = { .name = "test.both",
                                            .libs = VIR_SUP_LIB_XML | VIR_SUP_LIB_NFTABLES };
    static const virSupOp opDefault = { .name = "test.report", .type = VIR_JOB_BOUNDED,
                                        .commit = jobKeepResult };
    static const virSupOp opNft = { .name = "test.report", .type = VIR_JOB_BOUNDED,
                                    .profile = &profNft, .commit = jobKeepResult };
    static const virSupOp opXML = { .name = "test.report", .type = VIR_JOB_BOUNDED,
                                    .profile = &profXML, .commit = jobKeepResult };
    static const virSupOp opBoth = { .name = "test.report", .type = VIR_JOB_BOUNDED,
                                     .profile = &profBoth, .commit = jobKeepResult };
    const virSupOp *ops[4] = { &opDefault, &opNft, &opXML, &opBoth };
    virSupGroup *g = virSupGroupNew(NULL);
    assert_non_null(g);
    /* Twice each (ready workers, or ones forked for their job). */
    for (int round = 0; round < 8; round++) {
        const virSupOp *op = ops[round % 4];
        const uint32_t libs = op->profile ? op->profile->libs : 0;
        virSupJobParams p;
        memset(&p, 0, sizeof(p));
        p.op = op;
        p.target = "libraries";
        jobResult[0] = '\0';
        virJobPtr job = virSupJobCreate(g, &p);
        assert_non_null(job);
        waitEnded(job);
        if (jobState(job) != VIR_JOB_COMPLETE)
            fail_msg("test.report failed: %s", jobErrorMessage(job));
        assert_true(reportMaps("libc.so"));
        if (reportMaps("libnftables.so") != !!(libs & VIR_SUP_LIB_NFTABLES))
            fail_msg("a worker of profile %s %s libnftables: %s", op->profile ?
                     op->profile->name : "default", reportMaps("libnftables.so") ?
                     "maps" : "does not map", jobResult);
        if (reportMaps("libxml2.so") != !!(libs & VIR_SUP_LIB_XML))
            fail_msg("a worker of profile %s %s libxml2: %s", op->profile ?
                     op->profile->name : "default", reportMaps("libxml2.so") ?
                     "maps" : "does not map", jobResult);
        char *xml = reportXML();
        if (libs & VIR_SUP_LIB_XML)
            assert_string_equal(xml, "ok");
        else
            assert_non_null(strstr(xml, "cannot read report XML: libxml2 is not available "
                                        "in this worker: only the workers of profiles that "
                                        "ask for it (VIR_SUP_LIB_XML) load libxml2.so.2"));
        free(xml);
        assert_int_equal(virJobDestroy(job), 0);
    }
    virSupGroupClose(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(testDescriptorsChecked),
        cmocka_unit_test(testHelperPerSandbox),
        cmocka_unit_test(testLibrariesPerSandbox),
    };
    return cmocka_run_group_tests(tests, jobTestSetup, jobTestTeardown);
}
