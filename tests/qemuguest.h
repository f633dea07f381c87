/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qemuguest.h: what the tests with a real QEMU and the real test guest
 * (tests/guest) share: finding QEMU, building the guest (qgPrepare), its
 * domain XML, waiting for its boot marker, and its command channel.
 */
#pragma once

#include "qemutest.h"
#include "filehas.h"

static char guestDir[1024];
static char qemuPath[4096];

static inline int findQEMU(void)
{
    const char *path = getenv("PATH");
    char buf[4096];
    while (path && *path) {
        const char *c = strchr(path, ':');
        size_t n = c ? (size_t)(c - path) : strlen(path);
        snprintf(buf, sizeof(buf), "%.*s/qemu-system-x86_64", (int)n, path);
        if (n && access(buf, X_OK) == 0) {
            snprintf(qemuPath, sizeof(qemuPath), "%s", buf);
            return 0;
        }
        path += n + (c ? 1 : 0);
    }
    return -1;
}

static inline int setupT(void **state)
{
    qemuT *t = qtSetupWith(state, NULL, NULL);
    /* QEMU runs as nobody: the tree it is given paths in must be reachable. */
    assert_int_equal(chmod(t->root, 0755), 0);
    return 0;
}

static inline const char *guestXML(qemuT *t, const char *name, const char *extraDevices)
{
    static char xml[16384];
    snprintf(xml, sizeof(xml),
             "<domain type='qemu'>\n"
             "  <name>%s</name>\n"
             "  <memory unit='MiB'>192</memory>\n"
             "  <vcpu>1</vcpu>\n"
             "  <os>\n"
             "    <type arch='x86_64'>hvm</type>\n"
             "    <kernel>%s/vmlinux</kernel>\n"
             "    <initrd>%s/initrd.cpio.gz</initrd>\n"
             "    <cmdline>console=ttyS0 quiet panic=-1</cmdline>\n"
             "  </os>\n"
             "  <features><acpi/></features>\n"
             "  <on_reboot>destroy</on_reboot>\n"
             "  <devices>\n"
             "    <serial type='file'><source path='%s/%s.console'/><target port='0'/></serial>\n"
             "    <serial type='unix'><source mode='bind' path='%s/%s.cmd'/><target port='1'/></serial>\n"
             "    %s\n"
             "  </devices>\n"
             "</domain>\n",
             name, guestDir, guestDir, t->root, name, t->root, name,
             extraDevices ? extraDevices : "");
    return xml;
}

static inline void waitBooted(qemuT *t, const char *name)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/%s.console", t->root, name);
    if (!TEST_WAIT_UNTIL(fileHas(path, "VIRTSUP-GUEST-READY"), TEST_TIMEOUT_MS * 2))
        fail_msg("the guest did not boot to its marker (console in %s)", path);
}

static inline int channelOpen(qemuT *t, const char *name)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%.80s/%.20s.cmd", t->root, name) >=
        sizeof(sa.sun_path))
        fail_msg("socket path too long");
    assert_true(fd >= 0);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        fail_msg("cannot connect to the guest's channel %s: %s", sa.sun_path, strerror(errno));
    return fd;
}

/* Send @cmd, read the answer between BEGIN and END within @timeout_ms:
 * 1 with the output in @out, 0 on timeout. */
static inline int channelTry(int fd, const char *cmd, char *out, size_t len, int timeout_ms)
{
    char buf[8192];
    size_t got = 0;
    long long end = testNowMs() + timeout_ms;

    if (cmd) {
        char line[512];
        int n = snprintf(line, sizeof(line), "%s\n", cmd);
        assert_int_equal(write(fd, line, (size_t)n), n);
    }
    for (;;) {
        char *b, *e;
        buf[got] = '\0';
        if ((b = strstr(buf, "BEGIN\n")) && (e = strstr(b, "END "))) {
            size_t n = (size_t)(e - (b + 6));
            if (n >= len)
                n = len - 1;
            memcpy(out, b + 6, n);
            out[n] = '\0';
            while (n && out[n - 1] == '\n')
                out[--n] = '\0';
            return 1;
        }
        long long left = end - testNowMs();
        if (left <= 0)
            return 0;
        struct pollfd p = { fd, POLLIN, 0 };
        if (poll(&p, 1, (int)left) <= 0)
            return 0;
        ssize_t n = read(fd, buf + got, sizeof(buf) - 1 - got);
        if (n <= 0)
            return 0;
        got += (size_t)n;
    }
}

static inline void channel(int fd, const char *cmd, char *out, size_t len)
{
    if (!channelTry(fd, cmd, out, len, TEST_TIMEOUT_MS))
        fail_msg("the guest did not answer '%s'", cmd ? cmd : "(a command sent before)");
}

/* Define guest @name (guestXML) on t->conn (opened here), start it, wait
 * for its boot marker, fill @fillMiB MiB of its RAM with random data: the
 * domain, and the fill's md5 in @md5 (33 bytes). */
static inline virDomainPtr qgBootFilled(qemuT *t, const char *name, int fillMiB, char *md5,
                                        size_t len)
{
    char cmd[32];
    t->conn = qtOpen(t);
    virDomainPtr dom = virDomainDefineXML(t->conn, guestXML(t, name, NULL));
    assert_non_null(dom);
    virJobPtr job = virDomainCreateJob(dom, 0);
    assert_non_null(job);
    if (qtJobEnd(job) != VIR_JOB_COMPLETE)
        fail_msg("start: %s", qtJobError(job));
    virJobDestroy(job);
    waitBooted(t, name);
    int ch = channelOpen(t, name);
    snprintf(cmd, sizeof(cmd), "fill %d", fillMiB);
    channel(ch, cmd, md5, len);
    close(ch);
    assert_int_equal(strlen(md5), 32);
    return dom;
}

/* JOB_COMPLETED events of a connection (virConnectDomainEventRegisterAny
 * with the default event loop, as a libvirt client does): how many came,
 * and libvirt's typed-parameter fields of the last one. A job's end is
 * seen by its waiter after its event was queued: once a later event came,
 * an earlier one has been delivered too. */
typedef struct qgJobEvents {
    int count;
    int unsuccessful;         /* events whose SUCCESS was not true */
    int operation;            /* VIR_DOMAIN_JOB_OPERATION, -1 absent */
    int success;              /* VIR_DOMAIN_JOB_SUCCESS, -1 absent */
    unsigned long long processed, total, elapsed;
    bool haveProcessed, haveTotal, haveElapsed;
    char domain[64];
} qgJobEvents;

static inline void qgOnJobCompleted(virConnectPtr conn, virDomainPtr dom,
                                    virTypedParameterPtr params, int nparams, void *opaque)
{
    qgJobEvents *ev = opaque;
    int b;
    (void)conn;
    ev->count++;
    snprintf(ev->domain, sizeof(ev->domain), "%s", virDomainGetName(dom));
    if (virTypedParamsGetInt(params, nparams, VIR_DOMAIN_JOB_OPERATION, &ev->operation) != 1)
        ev->operation = -1;
    ev->success = virTypedParamsGetBoolean(params, nparams, VIR_DOMAIN_JOB_SUCCESS, &b) == 1
                  ? b : -1;
    ev->unsuccessful += ev->success != 1;
    ev->haveProcessed = virTypedParamsGetULLong(params, nparams, VIR_DOMAIN_JOB_DATA_PROCESSED,
                                                &ev->processed) == 1;
    ev->haveTotal = virTypedParamsGetULLong(params, nparams, VIR_DOMAIN_JOB_DATA_TOTAL,
                                            &ev->total) == 1;
    ev->haveElapsed = virTypedParamsGetULLong(params, nparams, VIR_DOMAIN_JOB_TIME_ELAPSED,
                                              &ev->elapsed) == 1;
}

/* Register the default event loop and @ev for @conn's JOB_COMPLETED
 * events; the callback id. */
static inline int qgWatchJobs(virConnectPtr conn, qgJobEvents *ev)
{
    memset(ev, 0, sizeof(*ev));
    assert_int_equal(virEventRegisterDefaultImpl(), 0);
    int id = virConnectDomainEventRegisterAny(conn, NULL, VIR_DOMAIN_EVENT_ID_JOB_COMPLETED,
                                              VIR_DOMAIN_EVENT_CALLBACK(qgOnJobCompleted), ev,
                                              NULL);
    if (id < 0)
        fail_msg("cannot register for JOB_COMPLETED: %s", virGetLastErrorMessage());
    return id;
}

static inline void qgTick(int timer, void *opaque)
{
    (void)timer;
    (void)opaque;
}

/* Run the default event loop until @ev counted @n events (fails after
 * the generous timeout). A timer keeps each iteration short. */
static inline void qgWaitJobEvents(qgJobEvents *ev, int n)
{
    int timer = virEventAddTimeout(50, qgTick, NULL, NULL);
    assert_true(timer > 0);
    long long end = testNowMs() + TEST_TIMEOUT_MS;
    while (ev->count < n && testNowMs() < end)
        assert_int_equal(virEventRunDefaultImpl(), 0);
    virEventRemoveTimeout(timer);
    if (ev->count < n)
        fail_msg("%d JOB_COMPLETED event(s) seen, %d expected", ev->count, n);
}

/* Find QEMU and build the guest: 0, or 77 with the reason printed. */
static inline int qgPrepare(void)
{
    const char *gd = getenv("VIRTSUP_GUEST_DIR");
    char cmd[8300];

    if (findQEMU() < 0) {
        printf("skipped: qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)\n");
        return 77;
    }
    /* One guest for every build directory (sanitizer builds too): it does
     * not depend on how the project was compiled. */
    snprintf(guestDir, sizeof(guestDir), "%.900s", gd ? gd : "build/guest");
    snprintf(cmd, sizeof(cmd), "sh tests/guest/build-guest.sh '%s' >/dev/null", guestDir);
    int rc = system(cmd);
    if (!WIFEXITED(rc) || WEXITSTATUS(rc) != 0) {
        printf("skipped: the test guest cannot be built here (tests/guest/build-guest.sh "
               "exited %d)\n", WIFEXITED(rc) ? WEXITSTATUS(rc) : -1);
        return 77;
    }
    char real[PATH_MAX];
    if (!realpath(guestDir, real))
        return 77;
    if ((size_t)snprintf(guestDir, sizeof(guestDir), "%s", real) >= sizeof(guestDir))
        return 77;
    return 0;
}
