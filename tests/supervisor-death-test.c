/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * supervisor-death-test.c: a client killed with SIGKILL while its jobs run.
 *
 * tests/helpers/jobs-then-die.c starts paced saves into a directory and
 * says "ready" once they all show progress; this test SIGKILLs it, then:
 * every worker and the spawn helper are gone (measured, with a generous
 * timeout: the time is printed, not asserted); the destination directory
 * holds no file (saves write O_TMPFILE files, linked only at commit); the
 * dead supervisor's segment is shown as stale by virtsup-stat and removed
 * by `virtsup-stat --gc`, or by the next supervisor that starts.
 */
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "libvirtsup/libvirtsup.h"
#include "testutils.h"

#define NJOBS 4

static char *rundir;
static char destdir[600], nodefile[600];
static const char *builddir;

typedef struct {
    pid_t client;
    pid_t workers[NJOBS];
    pid_t helper;
    char segment[700];
} victim;

static int countEntries(const char *dir, const char *suffix, char *found, size_t len)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    assert_non_null(d);
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (suffix && (l < strlen(suffix) || strcmp(e->d_name + l - strlen(suffix), suffix)))
            continue;
        if (found)
            snprintf(found, len, "%s/%s", dir, e->d_name);
        n++;
    }
    closedir(d);
    return n;
}

/* Parent pid of @pid from /proc/PID/stat (field 4), -1 if unknown. */
static pid_t parentOf(pid_t pid)
{
    char path[64], buf[1024];
    FILE *f;
    size_t n;
    char *p;
    int ppid = -1;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    if (!(f = fopen(path, "r")))
        return -1;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    if ((p = strrchr(buf, ')')) && sscanf(p + 1, " %*c %d", &ppid) == 1)
        return ppid;
    return -1;
}

/* Start the client, wait for its "ready" line. */
static void startVictim(victim *v)
{
    char prog[600], line[512];
    int pfd[2];
    FILE *f;

    snprintf(prog, sizeof(prog), "%s/tests/jobs-then-die", builddir);
    assert_int_equal(pipe2(pfd, O_CLOEXEC), 0);
    v->client = fork();
    assert_true(v->client >= 0);
    if (v->client == 0) {
        char n[16];
        snprintf(n, sizeof(n), "%d", NJOBS);
        dup2(pfd[1], STDOUT_FILENO);
        execl(prog, prog, nodefile, destdir, n, (char *)NULL);
        _exit(127);
    }
    close(pfd[1]);
    assert_non_null(f = fdopen(pfd[0], "r"));
    if (!fgets(line, sizeof(line), f))
        fail_msg("the client said nothing (see its stderr)");
    fclose(f);
    char *p = line;
    assert_int_equal(strncmp(p, "ready", 5), 0);
    p += 5;
    for (int i = 0; i < NJOBS; i++) {
        v->workers[i] = (pid_t)strtol(p, &p, 10);
        assert_true(v->workers[i] > 0);
        assert_true(testProcessAlive(v->workers[i]));
    }
    /* The workers' parent is the spawn helper, not the client. */
    v->helper = parentOf(v->workers[0]);
    assert_true(v->helper > 0 && v->helper != v->client);
    assert_int_equal(countEntries(rundir, ".seg", v->segment, sizeof(v->segment)), 1);
}

/* SIGKILL the client; everything it started must go. */
static void killVictim(victim *v)
{
    int status;

    long long t0 = testNowMs();
    assert_int_equal(kill(v->client, SIGKILL), 0);
    assert_int_equal(waitpid(v->client, &status, 0), v->client);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    bool gone = TEST_WAIT_UNTIL(({
        bool any = testProcessAlive(v->helper);
        for (int i = 0; i < NJOBS; i++)
            any = any || testProcessAlive(v->workers[i]);
        !any; }), TEST_TIMEOUT_MS);
    long long ms = testNowMs() - t0;
    if (!gone)
        fail_msg("workers or the spawn helper still run %lld ms after the client died", ms);
    printf("all %d workers and the spawn helper gone %lld ms after SIGKILL\n", NJOBS, ms);
    /* No temporary file, named or hidden, at the destination. */
    if (countEntries(destdir, NULL, NULL, 0) != 0)
        fail_msg("%d files left in %s", countEntries(destdir, NULL, NULL, 0), destdir);
    /* The segment stays: nobody removed it yet. */
    assert_int_equal(access(v->segment, F_OK), 0);
}

static int runStat(const char *args, char *out, size_t len)
{
    char cmd[1600];
    FILE *p;
    size_t n;

    snprintf(cmd, sizeof(cmd), "'%s/virtsup-stat' -r '%s' %s 2>&1", builddir, rundir, args);
    assert_non_null(p = popen(cmd, "r"));
    n = fread(out, 1, len - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void testStatGC(void **state)
{
    (void)state;
    victim v;
    char out[8192];

    startVictim(&v);
    killVictim(&v);
    runStat("", out, sizeof(out));
    if (!strstr(out, "stale"))
        fail_msg("virtsup-stat does not show the dead supervisor as stale:\n%s", out);
    if (runStat("--gc", out, sizeof(out)) != 0 || !strstr(out, "removed"))
        fail_msg("virtsup-stat --gc failed:\n%s", out);
    assert_int_not_equal(access(v.segment, F_OK), 0);
    assert_int_equal(countEntries(rundir, ".seg", NULL, 0), 0);
}

static void testNextSupervisor(void **state)
{
    (void)state;
    victim v;
    virConnectPtr c;
    char mine[700];

    startVictim(&v);
    killVictim(&v);
    /* This process starts a supervisor in the same run directory. */
    assert_non_null(c = virConnectOpen("test:///default"));
    assert_int_not_equal(access(v.segment, F_OK), 0);
    assert_int_equal(countEntries(rundir, ".seg", mine, sizeof(mine)), 1);
    assert_string_not_equal(mine, v.segment);
    assert_int_equal(virConnectClose(c), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(testStatGC),
        cmocka_unit_test(testNextSupervisor),
    };
    char node[8192];
    size_t off = 0;

    builddir = getenv("VIRTSUP_BUILDDIR");
    if (!builddir || !getenv("VIRTSUP_WORKER")) {
        printf("VIRTSUP_BUILDDIR and VIRTSUP_WORKER are not set: run through make check\n");
        return 77;
    }
    if (!(rundir = testMakeRunDir()))
        return 1;
    snprintf(destdir, sizeof(destdir), "%s/dest", rundir);
    snprintf(nodefile, sizeof(nodefile), "%s/node.xml", rundir);
    if (mkdir(destdir, 0700) < 0)
        return 1;
    /* 32 MiB at 1 MiB/s: half a minute of saving, far longer than the test. */
    off += snprintf(node + off, sizeof(node) - off, "<node>");
    for (int i = 0; i < NJOBS; i++)
        off += snprintf(node + off, sizeof(node) - off,
                        "<domain type='test' xmlns:test='http://libvirtsup.org/schemas/test/1.0'>"
                        "<name>d%d</name><memory unit='MiB'>32</memory>"
                        "<test:rate bytes-per-second='1048576'/></domain>", i);
    snprintf(node + off, sizeof(node) - off, "</node>");
    FILE *f = fopen(nodefile, "w");
    if (!f || fputs(node, f) < 0 || fclose(f) != 0)
        return 1;

    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    testRemoveDir(rundir);
    free(rundir);
    return rc;
}
