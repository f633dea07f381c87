/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qemutest.h: shared set-up for the qemu driver's tests: a private tree
 * (?root=) per test, URIs, domain XML, waits on the driver's state, and the
 * cleanup that kills what a test started (by pid and start time, read from
 * the shims' state files) and removes its tree.
 */
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "libvirtsup/libvirtsup.h"
#include "drivers/qemu/qemu_conf.h"
#include "drivers/qemu/qemu_driver.h"
#include "util/internal.h"
#include "util/virprocess.h"
#include "util/virshim.h"
#include "testutils.h"

typedef struct qemuT {
    char root[256];
    char uri[8192];
    virConnectPtr conn;
} qemuT;

static inline const char *qtBuildDir(void)
{
    const char *b = getenv("VIRTSUP_BUILDDIR");
    return b ? b : "build";
}

/* A fresh tree and its URI (?root=, and ?emulator= when given). */
static inline void qtInit(qemuT *t, const char *emulator, const char *extra)
{
    char tmpl[] = "/tmp/virtsup-qemu-XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    snprintf(t->root, sizeof(t->root), "%s", tmpl);
    snprintf(t->uri, sizeof(t->uri), "qemu:///%s?root=%s%s%s%s%s",
             geteuid() == 0 ? "system" : "session", t->root,
             emulator ? "&emulator=" : "", emulator ? emulator : "",
             extra ? "&" : "", extra ? extra : "");
    t->conn = NULL;
}

static inline virConnectPtr qtOpen(qemuT *t)
{
    virConnectPtr c = virConnectOpen(t->uri);
    if (!c)
        fail_msg("virConnectOpen(%s): %s", t->uri, virGetLastErrorMessage());
    return c;
}

/* Kill every shim and QEMU the tree's run directory names (identity
 * checked), wait for them, remove the tree. */
static inline void qtCleanup(qemuT *t)
{
    char run[512];
    DIR *d;
    struct dirent *e;

    if (t->conn) {
        virConnectClose(t->conn);
        t->conn = NULL;
    }
    snprintf(run, sizeof(run), "%s/run", t->root);
    if ((d = opendir(run))) {
        while ((e = readdir(d))) {
            char dir[1024];
            virShimStatus st;
            if (e->d_name[0] == '.')
                continue;
            snprintf(dir, sizeof(dir), "%s/%s", run, e->d_name);
            if (virShimStateRead(dir, &st) < 0) {
                virResetLastError();
                continue;
            }
            if (virProcessKillIdentity(st.shim_pid, st.shim_start, SIGKILL) == 0)
                assert_true(TEST_WAIT_UNTIL(!virProcessAlive(st.shim_pid, st.shim_start),
                                            TEST_TIMEOUT_MS));
            if (virProcessKillIdentity(st.child_pid, st.child_start, SIGKILL) == 0)
                assert_true(TEST_WAIT_UNTIL(!virProcessAlive(st.child_pid, st.child_start),
                                            TEST_TIMEOUT_MS));
        }
        closedir(d);
    }
    /* The shims' own errors (and a sanitizer's, in such a build) land in
     * the guests' logs. */
    snprintf(run, sizeof(run), "%s/log", t->root);
    if ((d = opendir(run))) {
        while ((e = readdir(d))) {
            char path[1024], buf[65536];
            if (e->d_name[0] == '.')
                continue;
            snprintf(path, sizeof(path), "%s/%s", run, e->d_name);
            int fd = open(path, O_RDONLY | O_CLOEXEC);
            ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
            if (fd >= 0)
                close(fd);
            buf[n > 0 ? n : 0] = '\0';
            if (strstr(buf, "Sanitizer") || strstr(buf, "runtime error"))
                fail_msg("%s shows an error:\n%s", path, buf);
        }
        closedir(d);
    }
    testRemoveDir(t->root);
}

/* cmocka setup/teardown: a fresh tree in *@state (qtSetupWith), removed
 * with everything it started (qtTeardown). */
static inline qemuT *qtSetupWith(void **state, const char *emulator, const char *extra)
{
    qemuT *t = calloc(1, sizeof(*t));
    assert_non_null(t);
    qtInit(t, emulator, extra);
    *state = t;
    return t;
}

static inline int qtTeardown(void **state)
{
    qemuT *t = *state;
    qtCleanup(t);
    free(t);
    return 0;
}

/* In a child process (another application): open the tree, define @xml,
 * start it (and wait for the start to complete when @wait), tell the
 * parent, then wait to be killed (qtKillApp). Fails the test when the
 * child could not. */
static inline pid_t qtAppStartsGuest(qemuT *t, const char *xml, bool wait)
{
    int p[2], status;
    char ok;
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        virConnectPtr c = virConnectOpen(t->uri);
        virDomainPtr dom = c ? virDomainDefineXML(c, xml) : NULL;
        virJobPtr job = dom ? virDomainCreateJob(dom, 0) : NULL;
        if (!job)
            _exit(2);
        if (wait) {
            virJobInfo info;
            if (virJobWait(job, TEST_TIMEOUT_MS) < 0 || virJobGetInfo(job, &info) < 0 ||
                info.state != VIR_JOB_COMPLETE)
                _exit(3);
        }
        (void)!write(p[1], "k", 1);
        for (;;)
            pause();
    }
    close(p[1]);
    if (read(p[0], &ok, 1) != 1) {
        assert_int_equal(waitpid(pid, &status, 0), pid);
        fail_msg("the application could not start the guest (exit %d)", WEXITSTATUS(status));
    }
    close(p[0]);
    return pid;
}

static inline void qtKillApp(pid_t pid)
{
    int status;
    assert_int_equal(kill(pid, SIGKILL), 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
}

/* The shim status of a running guest @name of the tree. */
static inline int qtShimStatus(qemuT *t, const char *name, virShimStatus *st)
{
    char dir[1024];
    snprintf(dir, sizeof(dir), "%s/run/%s", t->root, name);
    int rc = virShimStateRead(dir, st);
    if (rc < 0)
        virResetLastError();
    return rc;
}

/* `virtsup -q -c URI OP NAME [FILE]` run by another process while this
 * process's watchers are held (qemuTestHoldWatchers, as busy ones are),
 * so that every connection here comes to the guest's end late: once
 * virtsup has ended and guest @name's shim has gone, its run directory is
 * gone too (removed here if virtsup exited before its connection did, as
 * a daemon's connection would), and with @emptyLog the guest's log is
 * emptied (rotated). Checked once the watchers are let go (a failed check
 * ends the test, and the teardown needs them). Returns whether virtsup
 * removed the run directory itself. */
static inline bool qtVirtsupWhileHeld(qemuT *t, const char *op, const char *name,
                                      const char *file, bool emptyLog)
{
    char cli[1100], rundir[600], log[600];
    virShimStatus st;
    int ws = 0;

    snprintf(cli, sizeof(cli), "%s/virtsup", qtBuildDir());
    snprintf(rundir, sizeof(rundir), "%s/run/%s", t->root, name);
    snprintf(log, sizeof(log), "%s/log/%s.log", t->root, name);
    assert_int_equal(qtShimStatus(t, name, &st), 0);
    qemuTestHoldWatchers(true);
    pid_t app = fork();
    if (app == 0) {
        execl(cli, "virtsup", "-q", "-c", t->uri, op, name, file, (char *)NULL);
        _exit(127);
    }
    pid_t waited = app > 0 ? waitpid(app, &ws, 0) : -1;
    bool ended = waited == app && WIFEXITED(ws) && WEXITSTATUS(ws) == 0;
    /* Only after virtsup did its part: a failed one leaves the shim, and
     * the test fails at once below, not after a timeout. */
    bool shimGone = ended && TEST_WAIT_UNTIL(!virShimOwnerAlive(&st), TEST_TIMEOUT_MS);
    bool removed = access(rundir, F_OK) < 0;
    int rmrc = removed || !shimGone ? 0 : qemuRemoveDir(rundir);
    int trc = emptyLog ? truncate(log, 0) : 0;
    qemuTestHoldWatchers(false);
    assert_true(app > 0);
    assert_int_equal(waited, app);
    if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0)
        fail_msg("virtsup %s ended with status 0x%x", op, ws);
    assert_true(shimGone);
    assert_int_equal(rmrc, 0);
    assert_int_equal(trc, 0);
    printf("virtsup %s %s, seen late: run directory %s by virtsup\n", op, name,
           removed ? "removed" : "not removed");
    return removed;
}

/* QEMU's answer to @command (no arguments) through the shim of guest
 * @name, its flat text on one line in @buf, or "?" when it gave none: for
 * a failure message to say what QEMU itself says. */
static inline void qtQMPLine(qemuT *t, const char *name, const char *command, char *buf,
                             size_t len)
{
    char dir[1024];
    virShimIncoming *in = malloc(sizeof(*in));
    snprintf(dir, sizeof(dir), "%s/run/%s", t->root, name);
    int fd = in ? virShimConnect(dir) : -1;
    snprintf(buf, len, "?");
    if (fd >= 0 && virShimQMP(fd, command, NULL, NULL, 0, TEST_TIMEOUT_MS, NULL, NULL, in) == 0)
        snprintf(buf, len, "%s", in->data);
    if (fd >= 0)
        close(fd);
    free(in);
    virResetLastError();
    for (char *c = buf; *c; c++)
        *c = *c == '\n' ? ' ' : *c;
}

/* A new connection (t->conn) finds the running guest @name again: same
 * QEMU (pid and start time) as @before, running. Its shim status in
 * *@after; returns its handle. */
static inline virDomainPtr qtFoundAgain(qemuT *t, const char *name,
                                        const virShimStatus *before, virShimStatus *after)
{
    int s, r;
    t->conn = qtOpen(t);
    virDomainPtr dom = virDomainLookupByName(t->conn, name);
    assert_non_null(dom);
    assert_int_equal(virDomainGetState(dom, &s, &r, 0), 0);
    assert_int_equal(s, VIR_DOMAIN_RUNNING);
    assert_int_equal(qtShimStatus(t, name, after), 0);
    assert_int_equal(after->child_pid, before->child_pid);
    assert_true(after->child_start == before->child_start);
    return dom;
}

/* Wait for a job to end and return its state. */
static inline int qtJobEnd(virJobPtr job)
{
    virJobInfo info;
    assert_int_equal(virJobWait(job, TEST_TIMEOUT_MS), 0);
    assert_int_equal(virJobGetInfo(job, &info), 0);
    return info.state;
}

/* The pid of @job's worker (0 when it has none: not running). */
static inline int qtWorkerPid(virJobPtr job)
{
    virTypedParameterPtr params = NULL;
    int n = 0, pid = 0;
    assert_int_equal(virJobGetStats(job, &params, &n, 0), 0);
    (void)virTypedParamsGetInt(params, n, VIR_JOB_STATS_WORKER_PID, &pid);
    virTypedParamsFree(params, n);
    return pid;
}

/* True once @job has ended (does not wait). */
static inline bool qtJobEnd0(virJobPtr job)
{
    virJobInfo info;
    return virJobGetInfo(job, &info) == 0 && info.state != VIR_JOB_RUNNING;
}

/* The bytes @job reports done (0 when it reports none). */
static inline unsigned long long qtJobProcessed(virJobPtr job)
{
    virTypedParameterPtr params = NULL;
    unsigned long long done = 0;
    int n = 0;
    if (virJobGetStats(job, &params, &n, 0) == 0)
        (void)virTypedParamsGetULLong(params, n, VIR_JOB_STATS_DATA_PROCESSED, &done);
    virTypedParamsFree(params, n);
    return done;
}

static inline const char *qtJobError(virJobPtr job)
{
    virErrorPtr e = virJobGetError(job);
    return e && e->message ? e->message : "";
}

static inline void qtWaitState(virDomainPtr dom, int state, int reason)
{
    int r = -1;
    if (qemuDomainWaitState(dom, state, TEST_TIMEOUT_MS, &r) < 0)
        fail_msg("waiting for state %d: %s", state, virGetLastErrorMessage());
    if (reason >= 0 && r != reason)
        fail_msg("state %d with reason %d, expected reason %d", state, r, reason);
}

/* virDomainGetJobStats of @dom with @flags: the job type, and its
 * operation in *@op (-1 when absent), SUCCESS in *@success (-1 absent),
 * ERRMSG copied to @errmsg ("" absent), DATA_PROCESSED in *@done. */
static inline int qtJobStats(virDomainPtr dom, unsigned int flags, int *op, int *success,
                             char *errmsg, size_t errlen, unsigned long long *done)
{
    virTypedParameterPtr params = NULL;
    int nparams = 0, type = -1, b;
    const char *s = NULL;
    if (virDomainGetJobStats(dom, &type, &params, &nparams, flags) < 0)
        fail_msg("virDomainGetJobStats: %s", virGetLastErrorMessage());
    *op = -1;
    if (virTypedParamsGetInt(params, nparams, VIR_DOMAIN_JOB_OPERATION, op) != 1)
        *op = -1;
    if (success)
        *success = virTypedParamsGetBoolean(params, nparams, VIR_DOMAIN_JOB_SUCCESS, &b) == 1
                   ? b : -1;
    if (errmsg) {
        errmsg[0] = '\0';
        if (virTypedParamsGetString(params, nparams, VIR_DOMAIN_JOB_ERRMSG, &s) == 1 && s)
            snprintf(errmsg, errlen, "%s", s);
    }
    if (done && virTypedParamsGetULLong(params, nparams, VIR_DOMAIN_JOB_DATA_PROCESSED,
                                        done) != 1)
        *done = 0;
    virTypedParamsFree(params, nparams);
    return type;
}

/* Guest @name's log (LOG/NAME.log under the test's root) says @want in
 * its last 64 KiB; the test fails showing them otherwise. */
static inline void qtLogSays(qemuT *t, const char *name, const char *want)
{
    char path[700], log[65536];
    struct stat sb;
    snprintf(path, sizeof(path), "%s/log/%s.log", t->root, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &sb) < 0)
        fail_msg("cannot read the guest's log %s: %s", path, strerror(errno));
    off_t at = sb.st_size > (off_t)sizeof(log) - 1 ? sb.st_size - (off_t)sizeof(log) + 1 : 0;
    ssize_t n = pread(fd, log, sizeof(log) - 1, at);
    close(fd);
    log[n > 0 ? n : 0] = '\0';
    if (!strstr(log, want))
        fail_msg("the guest's log does not say '%s':\n%s", want, log);
}

/* Lifecycle events of a connection, collected by qtLifecycleCb (the
 * default event loop, registered with virConnectDomainEventRegister), and
 * a timer that keeps virEventRunDefaultImpl returning (qtTick). */
typedef struct qtEvents {
    int n;
    int event[32], detail[32];
} qtEvents;

static inline int qtLifecycleCb(virConnectPtr conn, virDomainPtr dom, int event, int detail,
                       void *opaque)
{
    qtEvents *e = opaque;
    (void)conn;
    (void)dom;
    if (e->n < 32) {
        e->event[e->n] = event;
        e->detail[e->n] = detail;
        e->n++;
    }
    return 0;
}

static inline void qtTick(int timer, void *opaque)
{
    (void)timer;
    (void)opaque;
}

/* Run the application's event loop until @e holds @event/@detail. */
static inline void qtWaitEvent(qtEvents *e, int event, int detail)
{
    long long end = testNowMs() + TEST_TIMEOUT_MS;
    for (;;) {
        for (int i = 0; i < e->n; i++)
            if (e->event[i] == event && e->detail[i] == detail)
                return;
        if (testNowMs() > end) {
            char seen[32 * 12] = "";
            for (int i = 0; i < e->n; i++)
                snprintf(seen + strlen(seen), sizeof(seen) - strlen(seen), " %d/%d",
                         e->event[i], e->detail[i]);
            fail_msg("no event %d/%d (%d seen:%s)", event, detail, e->n, seen);
        }
        assert_int_equal(virEventRunDefaultImpl(), 0);
    }
}

/* The start of main() in a test of the stand-in for QEMU: the default
 * event loop registered and @fake (@len bytes) set to the stand-in's path.
 * Returns 0; 77 after a line saying why when the stand-in or the shim is
 * not built (skip); 1 when the event loop cannot be registered. */
static inline int qtFakeInit(char *fake, size_t len)
{
    if (virEventRegisterDefaultImpl() < 0)
        return 1;
    snprintf(fake, len, "%s/tests/fake-qemu", qtBuildDir());
    if (access(fake, X_OK) < 0 || access(virShimPath(), X_OK) < 0) {
        printf("skipped: %s or %s is not built\n", fake, virShimPath());
        return 77;
    }
    return 0;
}

/* Domain XML for the stand-in for QEMU (tests/helpers/fake-qemu, named by
 * ?emulator=): 64 MiB, a kernel path that is never read, and @mode as its
 * fake= word (normal, hang, crash-after, slowgreet, exit...: how it
 * behaves); @extra (or NULL) goes after <os>. Returns @buf. */
static inline const char *qtFakeXML(char *buf, size_t len, const char *name, const char *mode,
                                    const char *extra)
{
    snprintf(buf, len,
             "<domain type='qemu'><name>%s</name><memory unit='MiB'>64</memory>"
             "<os><type>hvm</type><kernel>/nonexistent/vmlinux</kernel>"
             "<cmdline>fake=%s</cmdline></os>%s<devices/></domain>",
             name, mode, extra ? extra : "");
    return buf;
}

/* Define qtFakeXML(@name, @mode, @extra) on @t's connection; fails the
 * test if it is refused. */
static inline virDomainPtr qtDefineFake(qemuT *t, const char *name, const char *mode,
                                        const char *extra)
{
    char xml[2048];
    virDomainPtr dom = virDomainDefineXML(t->conn, qtFakeXML(xml, sizeof(xml), name, mode,
                                                             extra));
    if (!dom)
        fail_msg("define %s: %s", name, virGetLastErrorMessage());
    return dom;
}

/* Start @dom and wait for its start job; fails the test unless the job
 * completed. */
static inline void qtStart(virDomainPtr dom)
{
    virJobPtr job = virDomainCreateJob(dom, 0);
    if (!job)
        fail_msg("CreateJob: %s", virGetLastErrorMessage());
    int st = qtJobEnd(job);
    if (st != VIR_JOB_COMPLETE)
        fail_msg("the start ended in state %d: %s", st, qtJobError(job));
    virJobDestroy(job);
}
