/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * launch.c: the shim's forked child, from fork to exec. Single-threaded
 * (the shim is), so ordinary calls are safe here.
 *
 * Order matters, as in the worker's sandbox: descriptors into place first
 * (nothing else of the shim's may cross the exec); the private root (needs
 * CAP_SYS_ADMIN: root's, or that of a user namespace of our own); limits;
 * the bounding and ambient sets while CAP_SETPCAP is held; the ids;
 * no_new_privs; the capability cut; the parent-death signal (cleared by a
 * change of ids, so after it); exec.
 */
#include <cap-ng.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>

#include "shim/shim.h"
#include "util/virmount.h"
#include "util/virprocess.h"

static void fail(const shimLaunch *l, const char *what, const char *arg, int err)
    __attribute__((noreturn));
static void fail(const shimLaunch *l, const char *what, const char *arg, int err)
{
    shimLaunchError e;

    memset(&e, 0, sizeof(e));
    e.err = err;
    snprintf(e.step, sizeof(e.step), "%s%s%s", what, arg ? " " : "", arg ? arg : "");
    (void)!write(l->errfd, &e, sizeof(e));
    _exit(127);
}

static int writeSelf(const char *name, const char *text)
{
    char path[64];
    int fd;
    ssize_t n;

    snprintf(path, sizeof(path), "/proc/self/%s", name);
    if ((fd = open(path, O_WRONLY | O_CLOEXEC)) < 0)
        return -1;
    n = write(fd, text, strlen(text));
    close(fd);
    return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* mkdir -p of the directories above @path (which is under the new root). */
static int makeParents(char *path)
{
    for (char *p = strchr(path + 1, '/'); p; p = strchr(p + 1, '/')) {
        *p = '\0';
        int rc = mkdir(path, 0755);
        *p = '/';
        if (rc < 0 && errno != EEXIST)
            return -1;
    }
    return 0;
}

/* The flags a bind mount of @source must keep on a remount (the kernel
 * refuses to drop flags that are locked, as in a user namespace). */
static unsigned long lockedFlags(const char *source)
{
    struct statvfs sv;
    unsigned long f = 0;

    if (statvfs(source, &sv) < 0)
        return 0;
    if (sv.f_flag & ST_NOSUID)
        f |= MS_NOSUID;
    if (sv.f_flag & ST_NODEV)
        f |= MS_NODEV;
    if (sv.f_flag & ST_NOEXEC)
        f |= MS_NOEXEC;
    if (sv.f_flag & ST_RDONLY)
        f |= MS_RDONLY;
    return f;
}

static void buildRoot(const shimLaunch *l, bool userns)
{
    const shimSpec *spec = l->spec;
    const char *root = l->statedir;
    char path[4096];

    if (userns) {
        char map[64];
        uid_t uid = geteuid();
        gid_t gid = getegid();
        if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
            fail(l, "cannot create a user namespace for the private root", NULL, errno);
        snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)uid, (unsigned)uid);
        if (writeSelf("uid_map", map) < 0 || writeSelf("setgroups", "deny") < 0)
            fail(l, "cannot map the user namespace's ids", NULL, errno);
        snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)gid, (unsigned)gid);
        if (writeSelf("gid_map", map) < 0)
            fail(l, "cannot map the user namespace's ids", NULL, errno);
    } else if (unshare(CLONE_NEWNS) < 0) {
        fail(l, "cannot create a private mount namespace", NULL, errno);
    }
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
        /* EINVAL: "/" is not a mount point (the application runs in a
         * plain chroot, as pbuilder's build roots); pivot_root would
         * refuse it too. Our own copy of the mount table is made private
         * and the chroot's tree bound onto itself as our root: the spec's
         * paths keep their meaning. A user namespace cannot be made in a
         * chroot at all, so this is the privileged path only. */
        if (errno != EINVAL)
            fail(l, "cannot make the mounts private", NULL, errno);
        if (virMountRootToMountPoint(root) < 0)
            fail(l, "the application runs in a chroot whose root is not a mount point, "
                 "and it cannot be made one for the private root", NULL, errno);
    }
    if (mount("virtsup-root", root, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m") < 0)
        fail(l, "cannot mount the private root on", root, errno);

    for (size_t i = 0; i < spec->nmounts; i++) {
        const shimMount *m = &spec->mounts[i];
        struct stat st;
        int n = snprintf(path, sizeof(path), "%s%s", root, m->target);

        if (n < 0 || (size_t)n >= sizeof(path))
            fail(l, "the path is too long:", m->target, ENAMETOOLONG);
        if (makeParents(path) < 0)
            fail(l, "cannot create the directories of", m->target, errno);
        switch (m->kind) {
        case VIR_SHIM_MOUNT_BIND_RO:
        case VIR_SHIM_MOUNT_BIND_RW:
        case VIR_SHIM_MOUNT_DEV: {
            unsigned long flags = MS_REMOUNT | MS_BIND | MS_NOSUID;
            if (stat(m->source, &st) < 0)
                fail(l, "cannot find", m->source, errno);
            if (S_ISDIR(st.st_mode)) {
                if (mkdir(path, 0755) < 0 && errno != EEXIST)
                    fail(l, "cannot create the mount point", m->target, errno);
            } else {
                int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
                if (fd < 0)
                    fail(l, "cannot create the mount point", m->target, errno);
                close(fd);
            }
            if (mount(m->source, path, NULL, MS_BIND | MS_REC, NULL) < 0)
                fail(l, "cannot bind", m->source, errno);
            if (m->kind == VIR_SHIM_MOUNT_BIND_RO)
                flags |= MS_RDONLY;
            if (m->kind != VIR_SHIM_MOUNT_DEV)
                flags |= MS_NODEV;
            if (mount(NULL, path, NULL, flags | lockedFlags(m->source), NULL) < 0)
                fail(l, "cannot restrict the mount of", m->source, errno);
            break;
        }
        case VIR_SHIM_MOUNT_PROC:
            if (mkdir(path, 0555) < 0 && errno != EEXIST)
                fail(l, "cannot create", m->target, errno);
            if (!userns) {
                /* Only the child's own processes are visible, and none of
                 * the system-wide files (/proc/sys, sysrq-trigger...). */
                if (mount("proc", path, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                          "hidepid=invisible,subset=pid") < 0)
                    fail(l, "cannot mount proc on", m->target, errno);
            } else {
                /* A new instance needs a pid namespace of our own: the
                 * host's, read-only (other users' entries stay closed). */
                if (mount("/proc", path, NULL, MS_BIND | MS_REC, NULL) < 0 ||
                    mount(NULL, path, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID |
                          MS_NODEV | MS_NOEXEC, NULL) < 0)
                    fail(l, "cannot bind /proc on", m->target, errno);
            }
            break;
        case VIR_SHIM_MOUNT_TMPFS: {
            char opts[96];
            if (mkdir(path, 0700) < 0 && errno != EEXIST)
                fail(l, "cannot create", m->target, errno);
            snprintf(opts, sizeof(opts), "mode=0700,size=16m,uid=%u,gid=%u",
                     (spec->hdr.flags & VIR_SHIM_SPEC_SET_IDS) ? spec->hdr.uid : geteuid(),
                     (spec->hdr.flags & VIR_SHIM_SPEC_SET_IDS) ? spec->hdr.gid : getegid());
            if (mount("virtsup-tmp", path, "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0)
                fail(l, "cannot mount a tmpfs on", m->target, errno);
            break;
        }
        case VIR_SHIM_MOUNT_SYMLINK:
            if (symlink(m->source, path) < 0)
                fail(l, "cannot create the symbolic link", m->target, errno);
            break;
        default:
            fail(l, "unknown mount kind for", m->target, EINVAL);
        }
    }
    if (mount(NULL, root, NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0)
        fail(l, "cannot make the private root read-only", NULL, errno);
    if (chdir(root) < 0 || syscall(SYS_pivot_root, ".", ".") < 0)
        fail(l, "cannot enter the private root", NULL, errno);
    if (umount2(".", MNT_DETACH) < 0)
        fail(l, "cannot detach the host's root", NULL, errno);
    if (chdir("/") < 0)
        fail(l, "cannot enter the private root", NULL, errno);
}

static bool haveEffective(unsigned int cap)
{
    return capng_get_caps_process() == 0 && capng_have_capability(CAPNG_EFFECTIVE, cap);
}

void shimLaunchChild(const shimLaunch *l)
{
    const shimSpec *spec = l->spec;
    const virShimSpecHeader *h = &spec->hdr;
    int top = 3, null, moved[VIR_SHIM_CHILD_FDS_MAX], qmp = -1, out;
    int err;
    shimLaunch self = *l;

    /* Descriptors: each target number above 2 is taken by nothing of
     * ours once the sources have been moved above all of them. */
    for (size_t i = 0; i < spec->nfds; i++)
        if (spec->childfd[i] + 1 > top)
            top = spec->childfd[i] + 1;
    if ((h->flags & VIR_SHIM_SPEC_QMP) && h->qmp_fd + 1 > top)
        top = h->qmp_fd + 1;
    if ((self.errfd = fcntl(l->errfd, F_DUPFD_CLOEXEC, top + 64)) < 0)
        _exit(127);
    if ((null = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0)
        fail(&self, "cannot open /dev/null", NULL, errno);
    if ((null = fcntl(null, F_DUPFD_CLOEXEC, top)) < 0 ||
        (out = fcntl(l->outfd, F_DUPFD_CLOEXEC, top)) < 0 ||
        (l->qmpfd >= 0 && (qmp = fcntl(l->qmpfd, F_DUPFD_CLOEXEC, top)) < 0))
        fail(&self, "cannot move descriptors", NULL, errno);
    for (size_t i = 0; i < spec->nfds; i++)
        if ((moved[i] = fcntl(VIR_SHIM_FD_CHILD_FIRST + (int)i, F_DUPFD_CLOEXEC, top)) < 0)
            fail(&self, "cannot move descriptors", NULL, errno);
    for (int fd = 3; fd < top; fd++)
        (void)close(fd);
    if (dup2(null, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
        fail(&self, "cannot set up standard descriptors", NULL, errno);
    for (size_t i = 0; i < spec->nfds; i++)
        if (dup2(moved[i], spec->childfd[i]) < 0)
            fail(&self, "cannot place a descriptor", NULL, errno);
    if (qmp >= 0 && dup2(qmp, h->qmp_fd) < 0)
        fail(&self, "cannot place the monitor descriptor", NULL, errno);
    /* Everything at or above top is CLOEXEC (ours, moved, or inherited
     * from the shim, which opens all its descriptors so). */

    virProcessResetSignals();
    (void)setpgid(0, 0);

    /* The root's directories must be traversable by the child's user. */
    umask(022);
    if (h->flags & VIR_SHIM_SPEC_PRIVATE_ROOT)
        buildRoot(&self, (h->flags & VIR_SHIM_SPEC_USERNS) != 0);
    umask(077);

    struct rlimit rl = { 0, 0 };
    if (setrlimit(RLIMIT_CORE, &rl) < 0)
        fail(&self, "cannot set RLIMIT_CORE", NULL, errno);

    if (haveEffective(CAP_SETPCAP)) {
        for (unsigned int c = 0; c <= CAP_LAST_CAP && c < 64; c++)
            if (!(h->caps & (1ULL << c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 &&
                errno != EINVAL)
                fail(&self, "cannot shrink the capability bounding set", NULL, errno);
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
            fail(&self, "cannot clear the ambient capabilities", NULL, errno);
    }
    if (h->flags & VIR_SHIM_SPEC_SET_IDS) {
        if (h->caps && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
            fail(&self, "PR_SET_KEEPCAPS", NULL, errno);
        if (setgroups(0, NULL) < 0)
            fail(&self, "cannot drop the supplementary groups", NULL, errno);
        if (setresgid(h->gid, h->gid, h->gid) < 0)
            fail(&self, "cannot switch to the child's group", NULL, errno);
        if (setresuid(h->uid, h->uid, h->uid) < 0)
            fail(&self, "cannot switch to the child's user", NULL, errno);
    }
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        fail(&self, "PR_SET_NO_NEW_PRIVS", NULL, errno);
    capng_clear(CAPNG_SELECT_CAPS);
    for (unsigned int c = 0; c <= CAP_LAST_CAP && c < 64; c++)
        if ((h->caps & (1ULL << c)) &&
            capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED | CAPNG_INHERITABLE, c) < 0)
            fail(&self, "cannot keep a capability", NULL, EINVAL);
    if (capng_apply(CAPNG_SELECT_CAPS) < 0)
        fail(&self, "cannot drop capabilities", NULL, errno ? errno : EPERM);
    /* Kept capabilities survive the exec of a non-root program only as
     * ambient ones. */
    for (unsigned int c = 0; c <= CAP_LAST_CAP && c < 64; c++)
        if ((h->caps & (1ULL << c)) &&
            prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
            fail(&self, "cannot raise an ambient capability", NULL, errno);
    (void)prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);

    if (h->flags & VIR_SHIM_SPEC_PDEATHSIG) {
        if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
            fail(&self, "PR_SET_PDEATHSIG", NULL, errno);
        if (getppid() != l->shimpid)
            fail(&self, "the shim died during the set-up", NULL, ESRCH);
    }
    execve(spec->argv[0], spec->argv, spec->envp);
    err = errno;
    fail(&self, "cannot execute", spec->argv[0], err);
}
