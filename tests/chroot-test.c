/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * chroot-test.c: the application runs in a plain chroot whose root is a
 * directory, not a mount point (a pbuilder-style build root). Making "/"
 * private (EINVAL there) and pivot_root both need a mount point; jobs must
 * run all the same, in the same empty root. Root only: the chroot is built
 * in a forked child, in a mount namespace of its own, from bind mounts of
 * the host's /usr, /proc, /dev and the build directory below a plain
 * directory. Skipped otherwise. A guest of the qemu driver (the stand-in
 * for QEMU) starts there too: its shim makes "/" private and pivots into
 * the guest's private root, which need a mount point as well.
 */
#include <libgen.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "jobtest.h"

static char root[PATH_MAX];

/* The compromised worker of tests/security-hostile-test.c: what it reaches
 * of the filesystem from a worker started in the chroot. */
static const virSupOp opHostile = {
    .name = "test.hostile", .type = VIR_JOB_BOUNDED, .commit = jobKeepResult,
};

/* mkdir -p of @path below the chroot. */
static int mkdirBelow(const char *path)
{
    char buf[PATH_MAX * 2];
    snprintf(buf, sizeof(buf), "%s%s", root, path);
    for (char *p = buf + strlen(root) + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) < 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(buf, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

/* The host's @path at the same place in the chroot: a symbolic link as
 * such (/lib -> usr/lib on a merged /usr), a directory by a bind mount. */
static int mirror(const char *path)
{
    char dst[PATH_MAX * 2], link[PATH_MAX];
    struct stat st;
    if (lstat(path, &st) < 0)
        return errno == ENOENT ? 0 : -1;
    snprintf(dst, sizeof(dst), "%s%s", root, path);
    if (S_ISLNK(st.st_mode)) {
        ssize_t n = readlink(path, link, sizeof(link) - 1);
        if (n < 0)
            return -1;
        link[n] = '\0';
        return symlink(link, dst);
    }
    if (mkdirBelow(path) < 0)
        return -1;
    return mount(path, dst, "none", MS_BIND | MS_REC, NULL);
}

/* In the chroot: a guest of the qemu driver (the stand-in for QEMU,
 * tests/helpers/fake-qemu) starts in its private root, whose set-up
 * makes "/" private and pivots into a new root, and is destroyed. */
static int guestInChroot(const char *build)
{
    char uri[PATH_MAX + 128], xml[1024];
    int rc = 1;

    if (mkdir("/tmp/qemu-tree", 0700) < 0) {
        testSay("cannot make the qemu driver's tree in the chroot: %s\n", strerror(errno));
        return 2;
    }
    snprintf(uri, sizeof(uri), "qemu:///system?root=/tmp/qemu-tree&emulator=%s/tests/fake-qemu",
             build);
    snprintf(xml, sizeof(xml),
             "<domain type='qemu'><name>inchroot</name><memory unit='MiB'>64</memory>"
             "<os><type>hvm</type><kernel>/nonexistent/vmlinux</kernel>"
             "<cmdline>fake=normal</cmdline></os><devices/></domain>");
    virConnectPtr conn = virConnectOpen(uri);
    if (!conn) {
        testSay("qemu driver in the chroot: %s\n", virGetLastErrorMessage());
        return 1;
    }
    virDomainPtr dom = virDomainDefineXML(conn, xml);
    virJobPtr job = dom ? virDomainCreateJob(dom, 0) : NULL;
    virJobInfo info = { .state = VIR_JOB_FAILED };
    if (!job || virJobWait(job, TEST_TIMEOUT_MS) != 0 || virJobGetInfo(job, &info) < 0) {
        testSay("a guest in the chroot: %s\n", virGetLastErrorMessage());
    } else if (info.state != VIR_JOB_COMPLETE) {
        virErrorPtr e = virJobGetError(job);
        testSay("a guest in the chroot did not start: %s\n", e && e->message ? e->message : "");
    } else {
        int st = -1, reason = -1;
        if (virDomainDestroy(dom) < 0 || virDomainGetState(dom, &st, &reason, 0) < 0 ||
            st != VIR_DOMAIN_SHUTOFF)
            testSay("a guest in the chroot was not destroyed: %s\n", virGetLastErrorMessage());
        else
            rc = 0;
    }
    if (rc && dom)
        (void)virDomainDestroy(dom);
    if (job)
        virJobDestroy(job);
    if (dom)
        virDomainFree(dom);
    virConnectClose(conn);
    if (!rc)
        testSay("a guest started and was destroyed in the chroot, in its private root\n");
    return rc;
}

/* In the child: build the chroot, enter it, run two jobs. */
static int runInChroot(void)
{
    static const char *const host[] = { "/usr", "/lib", "/lib64", "/lib32", "/bin",
                                        "/sbin", "/etc", "/proc", "/dev" };
    char build[PATH_MAX];

    if (unshare(CLONE_NEWNS) < 0 || mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0) {
        testSay("cannot make a private mount namespace: %s\n", strerror(errno));
        return 77;
    }
    for (size_t i = 0; i < ARRAY_CARDINALITY(host); i++) {
        if (mirror(host[i]) < 0) {
            testSay("cannot mirror %s in the chroot: %s\n", host[i], strerror(errno));
            return 2;
        }
    }
    /* The worker program and virtsup-stat, at the same paths. */
    if (!realpath(getenv("VIRTSUP_BUILDDIR"), build) || mirror(build) < 0) {
        testSay("cannot mirror the build directory: %s\n", strerror(errno));
        return 2;
    }
    if (mkdirBelow("/tmp") < 0 || mkdirBelow("/run/virtsup") < 0) {
        testSay("cannot make /tmp in the chroot: %s\n", strerror(errno));
        return 2;
    }
    /* The chroot's root is a plain directory: no mount point. */
    struct stat r, parent;
    char up[PATH_MAX + 4];
    snprintf(up, sizeof(up), "%s/..", root);
    if (stat(root, &r) < 0 || stat(up, &parent) < 0 || r.st_dev != parent.st_dev) {
        testSay("the chroot's root is a mount point: the test would prove nothing\n");
        return 2;
    }
    if (chroot(root) < 0 || chdir("/") < 0) {
        testSay("cannot chroot into %s: %s\n", root, strerror(errno));
        return 2;
    }
    setenv("VIRTSUP_RUNDIR", "/run/virtsup", 1);

    virSupGroup *g = virSupGroupNew(NULL);
    if (!g) {
        testSay("cannot open a group in the chroot: %s\n", virGetLastErrorMessage());
        return 1;
    }
    int rc = 0;
    for (int i = 0; i < 2; i++) {
        virSupJobParams p;
        memset(&p, 0, sizeof(p));
        p.op = &opSucceed;
        p.target = "unit";
        virJobPtr job = virSupJobCreate(g, &p);
        if (!job || virJobWait(job, TEST_TIMEOUT_MS) != 0) {
            testSay("job %d: %s\n", i, virGetLastErrorMessage());
            rc = 1;
            break;
        }
        virJobInfo info;
        virJobGetInfo(job, &info);
        if (info.state != VIR_JOB_COMPLETE) {
            virErrorPtr e = virJobGetError(job);
            testSay("job %d in the chroot: state %d: %s\n", i, info.state,
                    e && e->message ? e->message : "");
            rc = 1;
        }
        virJobDestroy(job);
        if (rc)
            break;
    }
    /* The same empty root as outside a chroot: neither the host's files
     * nor the chroot's are there, and it is read-only. */
    if (!rc) {
        char params[128];
        snprintf(params, sizeof(params), "sup=%d helper=%d other=0 seg=none mem=0",
                 (int)getpid(), (int)virSupHelperPid());
        virSupJobParams p;
        memset(&p, 0, sizeof(p));
        p.op = &opHostile;
        p.target = "unit";
        p.params = params;
        p.paramslen = strlen(params);
        virJobPtr job = virSupJobCreate(g, &p);
        if (!job || virJobWait(job, TEST_TIMEOUT_MS) != 0) {
            testSay("hostile job: %s\n", virGetLastErrorMessage());
            rc = 1;
        } else {
            static const char *const want[][2] = {
                { "shadow-read:", "ENOENT" }, { "passwd-write:", "ENOENT" },
                { "root-mkdir:", "EROFS" }, { "root-create:", "EROFS" },
            };
            for (size_t i = 0; i < ARRAY_CARDINALITY(want); i++) {
                const char *v = jobResultValue(want[i][0]);
                if (!v || !STREQ(v, want[i][1])) {
                    testSay("a worker started in the chroot: %s %s (wanted %s)\n",
                            want[i][0], v ? v : "(not reported)", want[i][1]);
                    rc = 1;
                }
            }
        }
        if (job)
            virJobDestroy(job);
    }
    virSupGroupClose(g);
    if (!rc)
        testSay("two jobs completed in a chroot whose root is not a mount point, "
                "and a worker there finds the same empty, read-only root\n");
    if (!rc)
        rc = guestInChroot(build);
    return rc;
}

static void testPlainChroot(void **s)
{
    (void)s;
    char out[4096];
    int st = testRunChild(runInChroot, out, sizeof(out));
    printf("%s", out);
    if (WIFEXITED(st) && WEXITSTATUS(st) == 77)
        skip();
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail_msg("in a plain chroot (status %d): %s", st, out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(testPlainChroot),
    };
    int rc;

    if ((rc = jobTestNeedRoot("build a chroot")) != 0)
        return rc;
    if (jobTestSetup(NULL) < 0)
        return 1;
    snprintf(root, sizeof(root), "%s/chroot", testRunDir);
    if (mkdir(root, 0755) < 0)
        return 1;
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    jobTestTeardown(NULL);
    return rc;
}
