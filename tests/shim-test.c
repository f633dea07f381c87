/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * shim-test.c: virtsup-shim with a real child (tests/helpers/fake-qemu,
 * which speaks QMP and misbehaves on demand): start, requests, events,
 * descriptors passed to the child, the state file, the exit reasons
 * (stop, exit with a message, set-up failure, killed from outside, monitor
 * silent or speaking garbage, a crash run state), a hung monitor that
 * times out without hanging anything, the shim's own death, the private
 * root and dropped privileges. Each test kills what it started, by pid,
 * and removes its directory.
 */
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <grp.h>
#include <cmocka.h>

#include "util/internal.h"
#include "util/virerror.h"
#include "util/virjsonflat.h"
#include "util/virprocess.h"
#include "util/virshim.h"
#include "testutils.h"

typedef struct shimT {
    char *dir;
    int logfd;
    virShimStatus st;         /* from the hello */
    int sub;                  /* a subscribed connection */
    virShimIncoming *in;
} shimT;

static char fakePath[4096];

static int setupT(void **state)
{
    shimT *t = calloc(1, sizeof(*t));
    char tmpl[] = "/tmp/virtsup-shim-XXXXXX", path[4200];

    assert_non_null(t);
    assert_non_null(t->dir = strdup(mkdtemp(tmpl)));
    snprintf(path, sizeof(path), "%s/log", t->dir);
    assert_true((t->logfd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600)) >= 0);
    assert_non_null(t->in = malloc(sizeof(*t->in)));
    t->sub = -1;
    *state = t;
    return 0;
}

/* Kill what the test started (by pid and start time), wait for it, remove
 * the directory. */
static int teardownT(void **state)
{
    shimT *t = *state;
    pid_t pids[2] = { t->st.shim_pid, t->st.child_pid };
    uint64_t starts[2] = { t->st.shim_start, t->st.child_start };

    for (int i = 0; i < 2; i++) {
        if (virProcessKillIdentity(pids[i], starts[i], SIGKILL) == 0)
            assert_true(TEST_WAIT_UNTIL(!virProcessAlive(pids[i], starts[i]), TEST_TIMEOUT_MS));
    }
    virForceClose(&t->sub);
    virForceClose(&t->logfd);
    /* The shim's own errors (and a sanitizer's, in such a build) are in its log. */
    char path[4200], log[65536];
    snprintf(path, sizeof(path), "%s/log", t->dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, log, sizeof(log) - 1) : -1;
    if (fd >= 0)
        close(fd);
    log[n > 0 ? n : 0] = '\0';
    if (strstr(log, "Sanitizer") || strstr(log, "runtime error"))
        fail_msg("the shim's log shows an error:\n%s", log);
    testRemoveDir(t->dir);
    free(t->dir);
    free(t->in);
    free(t);
    return 0;
}

static virShimSpecBuf *fakeSpec(const char *mode, bool qmp)
{
    virShimSpecBuf *b = virShimSpecNew("fake-qemu");
    assert_non_null(b);
    assert_int_equal(virShimSpecAddArg(b, fakePath), 0);
    assert_int_equal(virShimSpecAddArg(b, "-S"), 0);
    if (qmp) {
        assert_int_equal(virShimSpecAddArg(b, "-chardev"), 0);
        assert_int_equal(virShimSpecAddArg(b, "socket,id=mon,fd=3"), 0);
        assert_int_equal(virShimSpecAddArg(b, "-mon"), 0);
        assert_int_equal(virShimSpecAddArg(b, "chardev=mon,mode=control"), 0);
        virShimSpecSetQMP(b, 3, 2000);
    }
    assert_int_equal(virShimSpecAddArg(b, "-fake"), 0);
    assert_int_equal(virShimSpecAddArg(b, mode), 0);
    virShimSpecSetTermTimeout(b, 3000);
    return b;
}

/* The inode of DIR/NAME. */
static ino_t fileIno(const char *dir, const char *name)
{
    char path[PATH_MAX];
    struct stat sb;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (stat(path, &sb) < 0)
        fail_msg("cannot stat %s: %s", path, strerror(errno));
    return sb.st_ino;
}

static void spawnSpec(shimT *t, virShimSpecBuf *b)
{
    /* A client connected before the shim started: it sees every event,
     * however fast the child ends. */
    if (virShimSpawn(t->dir, t->logfd, b, &t->sub, 1, TEST_TIMEOUT_MS, &t->st) < 0)
        fail_msg("virShimSpawn: %s", virGetLastErrorMessage());
    virShimSpecFree(b);
    assert_true(t->st.shim_pid > 0 && t->st.child_pid > 0);
    assert_true(t->st.shim_pid != getpid());
    assert_true(t->sub >= 0);
    t->in->status = t->st;
}

/* Follow events until @cond holds for the latest status. */
#define WAIT_STATUS(t, cond) \
    do { \
        long long end_ = testNowMs() + TEST_TIMEOUT_MS; \
        const virShimStatus *s = &(t)->in->status; \
        while (!(cond)) { \
            int r_ = virShimRecv((t)->sub, (int)(end_ - testNowMs()), (t)->in); \
            if (r_ <= 0) \
                fail_msg("waiting for %s: %s", #cond, \
                         r_ == 0 ? "timed out" : virGetLastErrorMessage()); \
        } \
    } while (0)

/* The child ended as a guest's shutdown ends QEMU: by itself, status 0,
 * the shutdown's reason recorded. */
static void assertGuestShutdown(shimT *t)
{
    WAIT_STATUS(t, s->child_state == VIR_SHIM_CHILD_EXITED);
    assert_int_equal(t->in->status.exit_reason, VIR_SHIM_EXIT_EXITED);
    assert_int_equal(t->in->status.exit_code, CLD_EXITED);
    assert_int_equal(t->in->status.exit_status, 0);
    assert_string_equal(t->in->status.shutdown_reason, "guest-shutdown");
}

static void test_qmp_ready_and_commands(void **state)
{
    shimT *t = *state;
    int c;
    char buf[64];

    spawnSpec(t, fakeSpec("normal", true));
    WAIT_STATUS(t, s->qmp_state == VIR_SHIM_QMP_READY);
    assert_string_equal(t->in->status.runstate, "prelaunch");
    assert_int_equal(t->in->status.child_state, VIR_SHIM_CHILD_RUNNING);
    assert_true(virShimChildAlive(&t->in->status));
    assert_true(virShimOwnerAlive(&t->in->status));

    /* A second client, as the library and a job's worker are. */
    assert_true((c = virShimConnect(t->dir)) >= 0);
    virShimIncoming *in = malloc(sizeof(*in));
    assert_non_null(in);
    assert_int_equal(virShimQMP(c, "query-status", NULL, NULL, 0, 5000, NULL, NULL, in), 0);
    assert_true(virJSONFlatGet(in->data, in->datalen, "status", buf, sizeof(buf)) > 0);
    assert_string_equal(buf, "prelaunch");
    bool running = true;
    assert_int_equal(virJSONFlatGetBool(in->data, in->datalen, "running", &running), 0);
    assert_false(running);

    /* QEMU's own refusal comes back with its class and text. */
    assert_int_equal(virShimQMP(c, "no-such-command", "{\"a\": 1}", NULL, 0, 5000,
                                NULL, NULL, in), -1);
    assert_non_null(strstr(virGetLastErrorMessage(), "CommandNotFound"));
    /* Arguments that are not one JSON object never reach QEMU. */
    assert_int_equal(virShimQMP(c, "cont", "{\"a\": ", NULL, 0, 5000, NULL, NULL, in), -1);
    assert_int_equal(virShimQMP(c, "cont; quit", NULL, NULL, 0, 5000, NULL, NULL, in), -1);

    /* A descriptor travels with the command to the child. */
    int p[2];
    assert_int_equal(pipe(p), 0);
    assert_int_equal(virShimQMP(c, "getfd", "{\"fdname\": \"x\"}", &p[0], 1, 5000,
                                NULL, NULL, in), 0);
    assert_int_equal(virShimQMP(c, "getfd", "{\"fdname\": \"x\"}", NULL, 0, 5000,
                                NULL, NULL, in), -1);
    assert_non_null(strstr(virGetLastErrorMessage(), "No file descriptor"));
    close(p[0]);
    close(p[1]);

    /* cont: the subscriber sees RESUME and the run state change. */
    assert_int_equal(virShimQMP(c, "cont", NULL, NULL, 0, 5000, NULL, NULL, in), 0);
    WAIT_STATUS(t, STREQ(s->runstate, "running"));

    /* The state file says the same. */
    virShimStatus st;
    assert_int_equal(virShimStateRead(t->dir, &st), 0);
    assert_string_equal(st.runstate, "running");
    assert_int_equal(st.child_pid, t->st.child_pid);

    /* Each change trades "state" with its spare: two files in turn, each
     * holding its record, and no file freed (a rename over the old one
     * freed its block, and waited for the discard on a file system
     * mounted with it). */
    ino_t ino[3];
    ino[0] = fileIno(t->dir, VIR_SHIM_STATE_NAME);
    assert_int_equal(virShimQMP(c, "stop", NULL, NULL, 0, 5000, NULL, NULL, in), 0);
    WAIT_STATUS(t, STREQ(s->runstate, "paused"));
    assert_int_equal(virShimStateRead(t->dir, &st), 0);
    assert_string_equal(st.runstate, "paused");
    ino[1] = fileIno(t->dir, VIR_SHIM_STATE_NAME);
    assert_int_equal(virShimQMP(c, "cont", NULL, NULL, 0, 5000, NULL, NULL, in), 0);
    WAIT_STATUS(t, STREQ(s->runstate, "running"));
    assert_int_equal(virShimStateRead(t->dir, &st), 0);
    assert_string_equal(st.runstate, "running");
    ino[2] = fileIno(t->dir, VIR_SHIM_STATE_NAME);
    assert_true(ino[0] != ino[1]);
    assert_true(ino[2] == ino[0]);
    assert_true(fileIno(t->dir, ".state.tmp") == ino[1]);

    /* A guest shutdown: the child exits 0 with the reason recorded, the
     * shim exits and leaves its state. */
    assert_int_equal(virShimQMP(c, "system_powerdown", NULL, NULL, 0, 5000, NULL, NULL, in), 0);
    assertGuestShutdown(t);
    assert_true(TEST_WAIT_UNTIL(!virShimOwnerAlive(&t->st), TEST_TIMEOUT_MS));
    assert_false(virShimChildAlive(&t->st));
    assert_int_equal(virShimStateRead(t->dir, &st), 0);
    assert_int_equal(st.child_state, VIR_SHIM_CHILD_EXITED);
    assert_int_equal(virShimConnect(t->dir), -1);
    free(in);
    close(c);
}

/* A client that goes with a reply unread, as a job's worker killed while
 * the shim answers it: the shim's read of its connection fails
 * (ECONNRESET). That must end that connection and nothing else. It once
 * also closed, by number, the descriptors an earlier request had carried
 * (a getfd's, passed on to QEMU and closed long before): numbers that
 * connections accepted since held. A failed save's done step, connected
 * just after its worker was killed, lost its connection that way, and the
 * guest it was to resume stayed paused. */
static void test_reset_client_keeps_others(void **state)
{
    shimT *t = *state;
    virShimIncoming *in = malloc(sizeof(*in));
    int a, p[2];

    assert_non_null(in);
    spawnSpec(t, fakeSpec("normal", true));
    WAIT_STATUS(t, s->qmp_state == VIR_SHIM_QMP_READY);
    assert_true((a = virShimConnect(t->dir)) >= 0);
    for (int round = 0; round < 16; round++) {
        /* A descriptor the shim receives at its lowest free number, hands
         * to QEMU and closes. */
        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        assert_int_equal(virShimQMP(a, "getfd", "{\"fdname\": \"x\"}", &p[0], 1, 5000,
                                    NULL, NULL, in), 0);
        close(p[0]);
        close(p[1]);
        /* The connection accepted next has that number in the shim. */
        int b = virShimConnect(t->dir);
        assert_true(b >= 0);
        assert_int_equal(virShimQMP(b, "query-status", NULL, NULL, 0, 5000, NULL, NULL, in), 0);
        /* One that asks, and goes without reading the answer. */
        int c = virShimConnect(t->dir);
        uint64_t id;
        assert_true(c >= 0);
        assert_int_equal(virShimQMPSend(c, "query-status", NULL, 5000, &id), 0);
        struct pollfd pfd = { .fd = c, .events = POLLIN };
        assert_int_equal(poll(&pfd, 1, TEST_TIMEOUT_MS), 1);
        close(c);
        /* Two round trips: the shim has handled c's end before the second. */
        for (int i = 0; i < 2; i++)
            assert_int_equal(virShimQMP(a, "query-status", NULL, NULL, 0, 5000, NULL, NULL,
                                        in), 0);
        if (virShimQMP(b, "query-status", NULL, NULL, 0, 5000, NULL, NULL, in) < 0)
            fail_msg("round %d: a connection the shim had accepted is gone after another "
                     "one ended with a reply unread: %s", round, virGetLastErrorMessage());
        close(b);
    }
    close(a);
    free(in);
}

static void test_stop(void **state)
{
    shimT *t = *state;
    uint32_t timeout = 0;

    spawnSpec(t, fakeSpec("normal", true));
    WAIT_STATUS(t, s->qmp_state == VIR_SHIM_QMP_READY);
    int c = virShimConnect(t->dir);
    assert_true(c >= 0);
    virShimIncoming *in = malloc(sizeof(*in));
    assert_int_equal(virShimCall(c, VIR_SHIM_MSG_STOP, &timeout, sizeof(timeout), NULL, 0,
                                 TEST_TIMEOUT_MS, NULL, NULL, in), 0);
    assert_int_equal(in->err, 0);
    assert_true(in->hasStatus);
    assert_int_equal(in->status.child_state, VIR_SHIM_CHILD_EXITED);
    assert_int_equal(in->status.exit_reason, VIR_SHIM_EXIT_STOPPED);
    assert_string_equal(in->status.shutdown_reason, "host-signal");
    free(in);
    close(c);
}

static void test_exit_message(void **state)
{
    shimT *t = *state;
    virShimSpecBuf *b = virShimSpecNew("fake-qemu");

    virShimSpecAddArg(b, fakePath);
    virShimSpecAddArg(b, "-append");
    virShimSpecAddArg(b, "fake=exit msg=-kernel_/nope:_No_such_file");
    virShimSpecSetQMP(b, 3, 2000);
    spawnSpec(t, b);
    WAIT_STATUS(t, s->child_state == VIR_SHIM_CHILD_EXITED);
    assert_int_equal(t->in->status.exit_reason, VIR_SHIM_EXIT_EXITED);
    assert_int_equal(t->in->status.exit_status, 1);
    assert_string_equal(t->in->status.message, "fake-qemu: -kernel /nope: No such file");
}

static void test_setup_failure(void **state)
{
    shimT *t = *state;
    virShimSpecBuf *b = virShimSpecNew("nothing");

    virShimSpecAddArg(b, "/nonexistent/program");
    spawnSpec(t, b);
    WAIT_STATUS(t, s->child_state == VIR_SHIM_CHILD_EXITED);
    assert_int_equal(t->in->status.exit_reason, VIR_SHIM_EXIT_SETUP);
    assert_int_equal(t->in->status.setup_errno, ENOENT);
    assert_string_equal(t->in->status.message,
                        "cannot execute /nonexistent/program: No such file or directory");
}

static void test_killed_outside(void **state)
{
    shimT *t = *state;

    spawnSpec(t, fakeSpec("normal", true));
    WAIT_STATUS(t, s->qmp_state == VIR_SHIM_QMP_READY);
    assert_int_equal(kill(t->st.child_pid, SIGKILL), 0);
    WAIT_STATUS(t, s->child_state == VIR_SHIM_CHILD_EXITED);
    assert_int_equal(t->in->status.exit_reason, VIR_SHIM_EXIT_KILLED);
    assert_int_equal(t->in->status.exit_code, CLD_KILLED);
    assert_int_equal(t->in->status.exit_status, SIGKILL);
}

static void test_no_greeting(void **state)
{
    shimT *t = *state;
    virShimSpecBuf *b = fakeSpec("nogreet", true);

    virShimSpecSetQMP(b, 3, 300);
    spawnSpec(t, b);
    WAIT_STATUS(t, s->child_state == VIR_SHIM_CHILD_EXITED);
    assert_int_equal(t->in->status.exit_reason, VIR_SHIM_EXIT_MONITOR);
    assert_string_equal(t->in->status.message, "the monitor did not answer within 300 ms");
}

static void test_garbage(void **state)
{
    shimT *t = *state;

    spawnSpec(t, fakeSpec("garbage", true));
    WAIT_STATUS(t, s->child_state == VIR_SHIM_CHILD_EXITED);
    assert_int_equal(t->in->status.exit_reason, VIR_SHIM_EXIT_MONITOR);
    assert_string_equal(t->in->status.message, "the monitor wrote something that is not JSON");
}

static void test_hung_monitor(void **state)
{
    shimT *t = *state;
    virShimIncoming *in = malloc(sizeof(*in));
    int c;

    spawnSpec(t, fakeSpec("hang", true));
    WAIT_STATUS(t, s->qmp_state == VIR_SHIM_QMP_READY);
    assert_true((c = virShimConnect(t->dir)) >= 0);
    assert_int_equal(virShimQMP(c, "cont", NULL, NULL, 0, 5000, NULL, NULL, in), 0);
    /* From now on the monitor answers nothing: a timeout, not a hang. */
    long long t0 = testNowMs();
    assert_int_equal(virShimQMP(c, "query-status", NULL, NULL, 0, 200, NULL, NULL, in), -1);
    assert_int_equal(virGetLastError()->code, VIR_ERR_OPERATION_TIMEOUT);
    assert_true(testNowMs() - t0 < TEST_TIMEOUT_MS);
    /* The shim itself still answers, and still stops the child. */
    assert_int_equal(virShimCall(c, VIR_SHIM_MSG_STATUS, NULL, 0, NULL, 0, TEST_TIMEOUT_MS,
                                 NULL, NULL, in), 0);
    assert_int_equal(in->status.child_state, VIR_SHIM_CHILD_RUNNING);
    uint32_t timeout = 0;
    assert_int_equal(virShimCall(c, VIR_SHIM_MSG_STOP, &timeout, sizeof(timeout), NULL, 0,
                                 TEST_TIMEOUT_MS, NULL, NULL, in), 0);
    assert_int_equal(in->status.exit_reason, VIR_SHIM_EXIT_STOPPED);
    free(in);
    close(c);
}

/* QEMU exits at a guest's poweroff while the shim writes to its monitor
 * (the query-status it sends on the events just read): the write fails
 * (EPIPE). That is the monitor closing, as an end of file is, not a
 * broken monitor: the child is not stopped, and its end is a clean exit
 * with the shutdown's reason (before, "monitor" and a SIGTERM: the
 * driver called the guest crashed). */
static void test_poweroff_while_writing(void **state)
{
    shimT *t = *state;
    virShimIncoming *in = malloc(sizeof(*in));
    int c;

    assert_non_null(in);
    spawnSpec(t, fakeSpec("deafexit", true));
    WAIT_STATUS(t, s->qmp_state == VIR_SHIM_QMP_READY);
    assert_true((c = virShimConnect(t->dir)) >= 0);
    assert_int_equal(virShimQMP(c, "cont", NULL, NULL, 0, 5000, NULL, NULL, in), 0);
    WAIT_STATUS(t, STREQ(s->runstate, "running"));
    assert_int_equal(virShimQMP(c, "system_powerdown", NULL, NULL, 0, 5000, NULL, NULL, in), 0);
    assertGuestShutdown(t);
    assert_int_equal(t->in->status.qmp_state, VIR_SHIM_QMP_BROKEN);
    free(in);
    close(c);
}

static void test_crash_runstate(void **state)
{
    shimT *t = *state;
    virShimIncoming *in = malloc(sizeof(*in));
    virShimSpecBuf *b = fakeSpec("internal-error", true);
    int c;

    virShimSpecSetCrashRunstates(b, "internal-error,guest-panicked");
    spawnSpec(t, b);
    WAIT_STATUS(t, s->qmp_state == VIR_SHIM_QMP_READY);
    assert_true((c = virShimConnect(t->dir)) >= 0);
    assert_int_equal(virShimQMP(c, "cont", NULL, NULL, 0, 5000, NULL, NULL, in), 0);
    WAIT_STATUS(t, s->child_state == VIR_SHIM_CHILD_EXITED);
    assert_int_equal(t->in->status.exit_reason, VIR_SHIM_EXIT_CRASHED);
    assert_string_equal(t->in->status.runstate, "internal-error");
    assert_string_equal(t->in->status.message, "the run state became internal-error");
    free(in);
    close(c);
}

/* The shim dies: its child goes with it (no orphan to find later). */
static void test_shim_killed(void **state)
{
    shimT *t = *state;

    spawnSpec(t, fakeSpec("normal", true));
    WAIT_STATUS(t, s->qmp_state == VIR_SHIM_QMP_READY);
    assert_int_equal(kill(t->st.shim_pid, SIGKILL), 0);
    assert_true(TEST_WAIT_UNTIL(!virProcessAlive(t->st.child_pid, t->st.child_start),
                                TEST_TIMEOUT_MS));
    /* The subscriber sees the connection end (after what was queued). */
    int r;
    while ((r = virShimRecv(t->sub, TEST_TIMEOUT_MS, t->in)) > 0)
        ;
    assert_int_equal(r, -1);
    assert_false(virShimOwnerAlive(&t->st));
}

/* A plain child (no monitor) under a private root, as another user, with
 * no capabilities and no_new_privs. */
static void test_private_root(void **state)
{
    shimT *t = *state;
    virShimSpecBuf *b = virShimSpecNew("report");
    char path[4200], log[8192];
    int fd;
    ssize_t n;

    if (geteuid() != 0) {
        fprintf(stderr, "private root as another user needs root: part skipped\n");
        virShimSpecFree(b);
        return;
    }
    virShimSpecAddArg(b, fakePath);
    virShimSpecAddArg(b, "-fake");
    virShimSpecAddArg(b, "report");
    virShimSpecSetFlags(b, VIR_SHIM_SPEC_PRIVATE_ROOT | VIR_SHIM_SPEC_PDEATHSIG);
    virShimSpecSetIds(b, 65534, 65534);
    virShimSpecAddMount(b, VIR_SHIM_MOUNT_BIND_RO, "/usr", "/usr");
    const char *links[] = { "/lib", "/lib64", "/bin", "/sbin" };
    for (size_t i = 0; i < ARRAY_CARDINALITY(links); i++) {
        struct stat st;
        char target[256];
        if (lstat(links[i], &st) < 0)
            continue;
        if (S_ISLNK(st.st_mode)) {
            n = readlink(links[i], target, sizeof(target) - 1);
            assert_true(n > 0);
            target[n] = '\0';
            virShimSpecAddMount(b, VIR_SHIM_MOUNT_SYMLINK, target, links[i]);
        } else {
            virShimSpecAddMount(b, VIR_SHIM_MOUNT_BIND_RO, links[i], links[i]);
        }
    }
    if (access("/etc/ld.so.cache", F_OK) == 0)
        virShimSpecAddMount(b, VIR_SHIM_MOUNT_BIND_RO, "/etc/ld.so.cache", "/etc/ld.so.cache");
    virShimSpecAddMount(b, VIR_SHIM_MOUNT_DEV, "/dev/null", "/dev/null");
    virShimSpecAddMount(b, VIR_SHIM_MOUNT_PROC, NULL, "/proc");
    /* The program itself, where it is. */
    virShimSpecAddMount(b, VIR_SHIM_MOUNT_BIND_RO, fakePath, fakePath);
    spawnSpec(t, b);
    WAIT_STATUS(t, s->child_state == VIR_SHIM_CHILD_EXITED);
    if (t->in->status.exit_reason != VIR_SHIM_EXIT_EXITED || t->in->status.exit_status != 0)
        fail_msg("the child failed: reason %u status %d: %s", t->in->status.exit_reason,
                 t->in->status.exit_status, t->in->status.message);
    snprintf(path, sizeof(path), "%s/log", t->dir);
    assert_true((fd = open(path, O_RDONLY)) >= 0);
    n = read(fd, log, sizeof(log) - 1);
    close(fd);
    assert_true(n > 0);
    log[n] = '\0';
    assert_non_null(strstr(log, "uid=65534 gid=65534 nnp=1"));
    assert_non_null(strstr(log, "CapEff:\t0000000000000000"));
    assert_non_null(strstr(log, "CapBnd:\t0000000000000000"));
    assert_non_null(strstr(log, "etc-passwd=no"));
    /* Its root holds what the spec mounts and nothing else of the host:
     * each entry is a mount's first path component (the program's own
     * directory too, wherever the tree is checked out: /root, /home...). */
    char *line = strstr(log, "root: ");
    assert_non_null(line);
    line += strlen("root:");
    line[strcspn(line, "\n")] = '\0';
    printf("the private root holds:%s\n", line);
    char top[sizeof(fakePath)];
    snprintf(top, sizeof(top), "%s", fakePath[0] == '/' ? fakePath + 1 : "");
    top[strcspn(top, "/")] = '\0';
    static const char *const mounted[] = { "usr", "lib", "lib64", "lib32", "bin", "sbin",
                                           "etc", "dev", "proc" };
    for (char *save = NULL, *e = strtok_r(line, " ", &save); e; e = strtok_r(NULL, " ", &save)) {
        bool known = STREQ(e, top);
        for (size_t i = 0; i < ARRAY_CARDINALITY(mounted); i++)
            known |= STREQ(e, mounted[i]);
        if (!known)
            fail_msg("the private root shows '%s', which the spec does not mount", e);
    }
}

static void test_flat_json(void **state ATTRIBUTE_UNUSED)
{
    char out[512];
    const char *in = "{\"return\": {\"status\": \"run\\nning\", \"n\": -12, \"a\": [1, {\"b\": true}],"
                     " \"e\": {}, \"k.x\": null, \"u\": \"\\u00e9\\u0041\"}, \"id\": \"vs-3\"}";
    ssize_t n = virJSONFlatten(in, strlen(in), out, sizeof(out));
    assert_true(n > 0);
    assert_string_equal(out, "return.status=run?ning\nreturn.n=-12\nreturn.a.0=1\n"
                             "return.a.1.b=true\nreturn.k?x=null\nreturn.u=?A\nid=vs-3\n");
    int64_t v;
    assert_int_equal(virJSONFlatGetI64(out, (size_t)n, "return.n", &v), 0);
    assert_int_equal(v, -12);
    assert_int_equal(virJSONFlatGet(out, (size_t)n, "return", NULL, 0), -1);
    /* Malformed, trailing garbage, too deep, too large, lone surrogate. */
    const char *bad[] = { "{", "{\"a\":1} x", "{\"a\":01}", "[1,]", "\"a\x01\"", "{\"a\":tru}",
                          "\"\\ud800\"", "{\"a\":1,}" };
    for (size_t i = 0; i < ARRAY_CARDINALITY(bad); i++)
        assert_int_equal(virJSONFlatten(bad[i], strlen(bad[i]), out, sizeof(out)), -1);
    char deep[200];
    memset(deep, '[', 100);
    memset(deep + 100, ']', 100);
    assert_int_equal(virJSONFlatten(deep, sizeof(deep), out, sizeof(out)), -1);
    assert_int_equal(virJSONFlatten("\"abcdef\"", 8, out, 4), -1);
    assert_true(virJSONIsObject("{\"a\": [1]}", 10));
    assert_false(virJSONIsObject("[1]", 3));
    char buf[64] = "";
    size_t used = 0;
    assert_int_equal(virJSONAppendString(buf, sizeof(buf), &used, "a\"b\\c\n"), 0);
    assert_string_equal(buf, "\"a\\\"b\\\\c\\u000a\"");
    assert_int_equal(virJSONAppendString(buf, 8, &used, "too long for it"), -1);
}

/* A request that carries a descriptor, refused by the kernel because too
 * many descriptors of the sender's user are in flight (ETOOMANYREFS):
 * the error says so, not "the process it owned may have ended". A child
 * with a uid of its own (the kernel's count is per uid) and a limit of 16
 * open files queues descriptors unread in a socket until the kernel
 * refuses one more, then sends the request. Seen when a qemu job's
 * worker (limit 256) handed QEMU its pipe while another suite ran. */
static void test_too_many_refs_words(void **state)
{
    int out[2];
    char msg[1024] = "";

    (void)state;
    if (geteuid() != 0) {
        print_message("skipped: needs root for a uid of its own\n");
        skip();
    }
    if (RUNNING_ON_VALGRIND) {
        /* valgrind keeps a program's limit of open files to itself (the
         * kernel's stays as it was), so the kernel never refuses. */
        print_message("skipped under valgrind: its setrlimit(RLIMIT_NOFILE) does not reach "
                      "the kernel\n");
        skip();
    }
    assert_int_equal(pipe2(out, O_CLOEXEC), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct rlimit rl = { 16, 16 };
        int a[2], b[2], sent = 0;
        close(out[0]);
        if (setgroups(0, NULL) < 0 || setgid(4244) < 0 || setuid(4244) < 0 ||
            setrlimit(RLIMIT_NOFILE, &rl) < 0 ||
            socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, a) < 0 ||
            socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, b) < 0)
            _exit(2);
        for (; sent < 64; sent++) {
            union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int))]; } cm;
            char byte = 0;
            struct iovec iov = { &byte, 1 };
            struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.buf,
                                .msg_controllen = sizeof(cm.buf) };
            struct cmsghdr *c = CMSG_FIRSTHDR(&m);
            c->cmsg_level = SOL_SOCKET;
            c->cmsg_type = SCM_RIGHTS;
            c->cmsg_len = CMSG_LEN(sizeof(int));
            memcpy(CMSG_DATA(c), &b[1], sizeof(int));
            if (sendmsg(a[0], &m, MSG_DONTWAIT) < 0)
                break;
        }
        if (sent == 64 || errno != ETOOMANYREFS)
            _exit(3);
        virShimIncoming *in = calloc(1, sizeof(*in));
        if (!in || virShimCall(b[0], VIR_SHIM_MSG_QMP, "{}", 2, &b[1], 1, 1000, NULL, NULL,
                               in) == 0)
            _exit(4);
        const char *e = virGetLastErrorMessage();
        if (write(out[1], e, strlen(e)) < 0)
            _exit(5);
        _exit(0);
    }
    close(out[1]);
    ssize_t n = read(out[0], msg, sizeof(msg) - 1);
    msg[n > 0 ? n : 0] = '\0';
    close(out[0]);
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    print_message("a request with a descriptor, too many in flight: %s\n", msg);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    assert_non_null(strstr(msg, "cannot pass a descriptor to the shim"));
    assert_non_null(strstr(msg, "limit of open files (16)"));
    assert_non_null(strstr(msg, "ETOOMANYREFS"));
}

int main(void)
{
    const char *b = getenv("VIRTSUP_BUILDDIR");
    snprintf(fakePath, sizeof(fakePath), "%s/tests/fake-qemu", b ? b : "build");
    if (access(fakePath, X_OK) < 0 || access(virShimPath(), X_OK) < 0) {
        printf("skipped: %s or %s is not built\n", fakePath, virShimPath());
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flat_json),
        cmocka_unit_test_setup_teardown(test_qmp_ready_and_commands, setupT, teardownT),
        cmocka_unit_test_setup_teardown(test_reset_client_keeps_others, setupT, teardownT),
        cmocka_unit_test_setup_teardown(test_stop, setupT, teardownT),
        cmocka_unit_test_setup_teardown(test_exit_message, setupT, teardownT),
        cmocka_unit_test_setup_teardown(test_setup_failure, setupT, teardownT),
        cmocka_unit_test_setup_teardown(test_killed_outside, setupT, teardownT),
        cmocka_unit_test_setup_teardown(test_no_greeting, setupT, teardownT),
        cmocka_unit_test_setup_teardown(test_garbage, setupT, teardownT),
        cmocka_unit_test_setup_teardown(test_hung_monitor, setupT, teardownT),
        cmocka_unit_test_setup_teardown(test_crash_runstate, setupT, teardownT),
        cmocka_unit_test_setup_teardown(test_poweroff_while_writing, setupT, teardownT),
        cmocka_unit_test_setup_teardown(test_shim_killed, setupT, teardownT),
        cmocka_unit_test_setup_teardown(test_private_root, setupT, teardownT),
        cmocka_unit_test(test_too_many_refs_words),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
