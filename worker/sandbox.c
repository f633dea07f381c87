/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sandbox.c: what is taken away from a worker before its op runs, and the
 * spawn helper's sweep of descendants that left their job's process group.
 *
 * Order matters: the mount namespace needs CAP_SYS_ADMIN (a root caller's,
 * or that of a user namespace of the worker's own), so it comes first;
 * then limits; then the bounding and ambient sets, while CAP_SETPCAP is
 * still held; then the ids (which drop capabilities unless kept); then
 * no_new_privs, which the seccomp filter needs and which makes the
 * capability cut final across exec; then the capability cut; the seccomp
 * filter last, so that nothing of our own set-up is refused by it.
 * Why each step, and which test shows it: docs/SECURITY.md.
 */
#include <cap-ng.h>
#include <endian.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#define VIR_FROM_THIS VIR_FROM_JOB
#include "util/virerror.h"
#include "util/virmount.h"
#include "worker/sandbox.h"
#include "worker/worker-priv.h"

#ifndef __NR_mseal
# define __NR_mseal 462     /* Linux 6.10; the same number on every arch */
#endif

void virWorkerSandboxFail(int ctlfd, const char *what, int err)
{
    virWorkerReportEarly(ctlfd, VIR_ERR_SYSTEM_ERROR,
                         "worker set-up failed: %s: %s", what, strerror(err));
    _exit(VIR_WORKER_EXIT_SETUP);
}

/* ---- the filesystem: an empty, read-only root with only /proc ---- */

/* The place we build the new root on. Any existing directory will do: the
 * tmpfs mounted on it lives only in our private mount namespace. "/" is
 * not possible (pivot_root needs a mount point other than the root). */
#define SANDBOX_MOUNT_POINT "/tmp"

/* Write @text to /proc/self/@name (uid_map, gid_map, setgroups). */
static int writeSelf(const char *name, const char *text)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/%s", name);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = write(fd, text, strlen(text));
    int err = errno;
    close(fd);
    if (n != (ssize_t)strlen(text)) {
        errno = n < 0 ? err : EIO;
        return -1;
    }
    return 0;
}

/* A non-root caller's worker: a user namespace of its own (where the
 * kernel allows unprivileged ones), with our uid and gid mapped to
 * themselves. Being in a child user namespace is what makes the caller's
 * /proc/<pid>/mem, fd, root, ... closed to us: the kernel then wants
 * CAP_SYS_PTRACE in the caller's namespace, not a matching uid. It also
 * gives us the capabilities to build the empty root below, over mounts
 * that are ours alone. Returns 1 when in it, 0 when the host allows none
 * (carry on without), -1 with errno if it failed half-way. */
static int enterUserNamespace(void)
{
    char map[64];
    uid_t uid = geteuid();
    gid_t gid = getegid();
    if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
        return 0;
    snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)uid, (unsigned)uid);
    if (writeSelf("uid_map", map) < 0)
        return -1;
    if (writeSelf("setgroups", "deny") < 0)
        return -1;
    snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)gid, (unsigned)gid);
    if (writeSelf("gid_map", map) < 0)
        return -1;
    return 1;
}

static int enterEmptyRoot(bool ownUserns, const char **what)
{
    /* Our own copy of the mount table; nothing we do here propagates back
     * to the host, and nothing mounted on the host later reaches us. */
    *what = "cannot create a private mount namespace";
    if (!ownUserns && unshare(CLONE_NEWNS) < 0)
        return -1;
    *what = "cannot make the worker's mounts private";
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
        if (errno != EINVAL)
            return -1;
        /* EINVAL: "/" is not a mount point (a plain chroot, as pbuilder's
         * build roots). Leave it for the root of our own copy of the mount
         * table, which is one: the worker ends in the same empty root
         * either way, and nothing of the host or of the chroot stays
         * reachable from it. */
        *what = "the application runs in a chroot whose root is not a mount point, "
                "and the worker cannot leave it for its own mount namespace's root";
        if (virMountLeaveChroot(SANDBOX_MOUNT_POINT) < 0)
            return -1;
        *what = "cannot make the worker's mounts private (after leaving a chroot "
                "whose root is not a mount point)";
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
            return -1;
    }
    *what = "cannot mount the worker's empty root";
    if (mount("virtsup-worker", SANDBOX_MOUNT_POINT, "tmpfs",
              MS_NOSUID | MS_NODEV | MS_NOEXEC,
              "mode=0555,size=16k,nr_inodes=16") < 0)
        return -1;
    *what = "cannot create /proc in the worker's root";
    if (mkdir(SANDBOX_MOUNT_POINT "/proc", 0555) < 0)
        return -1;
    /* A fresh proc instance: "ptraceable" hides every process we could not
     * ptrace (the supervisor, the helper, other workers, other users);
     * "subset=pid" leaves out /proc/sys, /proc/sysrq-trigger and the like;
     * read-only on top. Our own /proc/self stays readable. */
    *what = "cannot mount /proc in the worker's root";
    if (!ownUserns) {
        if (mount("proc", SANDBOX_MOUNT_POINT "/proc", "proc",
                  MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY,
                  "hidepid=ptraceable,subset=pid") < 0)
            return -1;
    } else {
        /* In our own user namespace a new proc instance is refused (the
         * pid namespace is not ours): the host's, bound read-only. Other
         * processes' entries are visible there, but closed (see
         * enterUserNamespace). */
        if (mount("/proc", SANDBOX_MOUNT_POINT "/proc", NULL, MS_BIND | MS_REC, NULL) < 0)
            return -1;
        if (mount(NULL, SANDBOX_MOUNT_POINT "/proc", NULL,
                  MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                  NULL) < 0)
            return -1;
    }
    *what = "cannot make the worker's root read-only";
    if (mount(NULL, SANDBOX_MOUNT_POINT, NULL,
              MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
              NULL) < 0)
        return -1;
    /* pivot_root(".", "."): the old root ends up stacked under the new one
     * and is detached at once, so no path leads back to it. */
    *what = "cannot enter the worker's root";
    if (chdir(SANDBOX_MOUNT_POINT) < 0)
        return -1;
    if (syscall(SYS_pivot_root, ".", ".") < 0)
        return -1;
    *what = "cannot detach the host's filesystem";
    if (umount2(".", MNT_DETACH) < 0)
        return -1;
    if (chdir("/") < 0)
        return -1;
    return 0;
}

/* ---- limits, ids, capabilities ---- */

static void setLimit(int ctlfd, int res, uint64_t v, const char *name)
{
    if (!v)
        return;
    struct rlimit rl = { (rlim_t)v, (rlim_t)v }, cur;
    if (setrlimit(res, &rl) == 0)
        return;
    int err = errno;
    /* The usual cause: above the hard limit the application runs under,
     * which only a process with CAP_SYS_RESOURCE may raise. */
    if (err == EPERM && getrlimit(res, &cur) == 0 && cur.rlim_max != RLIM_INFINITY &&
        v > cur.rlim_max) {
        virWorkerReportEarly(ctlfd, VIR_ERR_SYSTEM_ERROR,
                             "worker set-up failed: cannot set %s to %llu: the hard "
                             "limit is %llu, and this process may not raise it",
                             name, (unsigned long long)v,
                             (unsigned long long)cur.rlim_max);
        _exit(VIR_WORKER_EXIT_SETUP);
    }
    char what[96];
    snprintf(what, sizeof(what), "cannot set %s to %llu", name, (unsigned long long)v);
    virWorkerSandboxFail(ctlfd, what, err);
}

/* Whether our effective set holds @cap: one capget, where libcap-ng
 * would read /proc/self/status. */
static bool haveEffective(unsigned int cap)
{
    struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

    if (cap >= 32 * _LINUX_CAPABILITY_U32S_3 || syscall(SYS_capget, &hdr, data) < 0)
        return false;
    return data[cap / 32].effective & (1u << (cap % 32));
}

/* Set when the spawn helper cut the bounding and ambient sets to its
 * sandbox's once for all its workers (virWorkerSandboxPrepareCaps). */
static bool bsetCut;

static int dropCapabilities(uint64_t keep)
{
    /* The bounding and ambient sets can only be changed with CAP_SETPCAP;
     * a caller without it has nothing there we could drop anyway. */
    capng_select_t sel = CAPNG_SELECT_CAPS;
    if (!bsetCut && haveEffective(CAP_SETPCAP))
        sel = CAPNG_SELECT_ALL;

    capng_clear(CAPNG_SELECT_ALL);
    for (unsigned int c = 0; c <= CAP_LAST_CAP && c < 64; c++) {
        if ((keep & (1ULL << c)) &&
            capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED |
                         CAPNG_BOUNDING_SET, c) < 0)
            return -1;
    }
    return capng_apply(sel);
}


/* ---- seccomp ---- */

static int denyCall(scmp_filter_ctx ctx, const char *name, int err)
{
    int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR)
        return 0; /* not a call on this architecture */
    return seccomp_rule_add(ctx, SCMP_ACT_ERRNO(err), nr, 0);
}

/* The per-worker filter, stacked on the shared one (the stricter answer
 * wins). Its rules name this worker's pid and status page, so it is built
 * here, by hand: a few instructions, no compiler. The kernel reads a pid
 * as a 32-bit int, so only the low word of that argument is compared.
 *   kill(pid, sig): only pid 0 (our group), our pid, minus our pid;
 *   tgkill, rt_sigqueueinfo, rt_tgsigqueueinfo: only our thread group;
 *   mremap of the status page: never;
 *   mount, unshare, pidfd_open: never (also in the shared filter, except
 *   where the spawn helper runs under it itself: it needs pidfd_open, and
 *   its workers mount their own /proc before this is loaded). */
static int workerFilter(void *page)
{
    const uint32_t self = (uint32_t)getpid();
    const uint32_t group = (uint32_t)-(int32_t)getpid();
    const uint64_t addr = (uint64_t)(uintptr_t)page;
    const uint32_t arch = seccomp_arch_native();
    const uint32_t lo = offsetof(struct seccomp_data, args[0]) +
                        (__BYTE_ORDER == __LITTLE_ENDIAN ? 0 : 4);
    const uint32_t hi = offsetof(struct seccomp_data, args[0]) +
                        (__BYTE_ORDER == __LITTLE_ENDIAN ? 4 : 0);
    struct sock_filter f[] = {
        /*  0 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        /*  1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, arch, 1, 0),
        /*  2 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
        /*  3 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        /* +0 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_mount, 24, 0),           /* -> 29 */
        /* +1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_unshare, 23, 0),         /* -> 29 */
        /* +2 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_pidfd_open, 22, 0),      /* -> 29 */
        /* (the numbers below are each instruction's index minus 3) */
        /*  4 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_kill, 5, 0),              /* -> 10 */
        /*  5 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_tgkill, 10, 0),           /* -> 16 */
        /*  6 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_rt_sigqueueinfo, 9, 0),   /* -> 16 */
        /*  7 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_rt_tgsigqueueinfo, 8, 0), /* -> 16 */
        /*  8 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_mremap, 11, 0),           /* -> 20 */
        /*  9 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        /* 10 kill */
                 BPF_STMT(BPF_LD | BPF_W | BPF_ABS, lo),
        /* 11 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 3, 0),                      /* -> 15 */
        /* 12 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, self, 2, 0),                   /* -> 15 */
        /* 13 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, group, 1, 0),                  /* -> 15 */
        /* 14 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
        /* 15 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        /* 16 the thread-group signals */
                 BPF_STMT(BPF_LD | BPF_W | BPF_ABS, lo),
        /* 17 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, self, 1, 0),                   /* -> 19 */
        /* 18 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
        /* 19 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        /* 20 mremap */
                 BPF_STMT(BPF_LD | BPF_W | BPF_ABS, lo),
        /* 21 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)addr, 0, 3),         /* -> 22 / 25 */
        /* 22 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, hi),
        /* 23 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)(addr >> 32), 0, 1), /* -> 24 / 25 */
        /* 24 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
        /* 25 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        /* 26 mount, unshare, pidfd_open (index 29) */
                 BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
    };
    struct sock_fprog prog = { .len = ARRAY_CARDINALITY(f), .filter = f };
    return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
}

/* The shared filter: the same for every worker, so the spawn helper has
 * libseccomp compile it once (virWorkerSandboxPrepare) and each worker,
 * forked with a copy of it, only loads it. Compiling it in every worker
 * cost 0.3-0.5 ms a job (docs/PERFORMANCE.md). */
static struct sock_fprog sharedFilter;
static int sharedSet = -1;    /* the virProtoSyscalls it was built for */
/* Set once the spawn helper runs under the shared filter itself: its
 * workers inherit it, and load only their own program. */
static bool sharedInHelper;

/* Denied to workers, but needed by the spawn helper (pidfd_open, for the
 * pidfd of each worker it reports) or by a worker's set-up before its own
 * program is loaded (its /proc: unshare, mount): left out of the shared
 * filter the helper runs under; the per-worker program denies them. */
static const char *const helperNeeds[] = { "mount", "unshare", "pidfd_open", NULL };

/* New sockets: AF_UNIX only (socketpair, a local connection), and with the
 * netlink set AF_NETLINK too (links, addresses, nftables). Every other
 * family (the network: AF_INET, AF_INET6, AF_PACKET...) is refused. */
static int socketRules(scmp_filter_ctx ctx, int set)
{
    int rc;

    if (set == VIR_PROTO_SYSCALLS_NETLINK) {
        for (int f = 0; f < AF_NETLINK; f++) {
            if (f == AF_UNIX)
                continue;
            if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(socket), 1,
                                       SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)f))) < 0)
                return rc;
        }
        return seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(socket), 1,
                                SCMP_A0(SCMP_CMP_GT, (scmp_datum_t)AF_NETLINK));
    }
    return seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(socket), 1,
                            SCMP_A0(SCMP_CMP_NE, (scmp_datum_t)AF_UNIX));
}

static bool helperNeeded(const char *name)
{
    for (size_t i = 0; helperNeeds[i]; i++)
        if (STREQ(name, helperNeeds[i]))
            return true;
    return false;
}

static int buildSharedFilter(struct sock_fprog *out, int set, bool forHelper)
{
    static const char *const denied[] = {
        /* other processes' memory and registers */
        "ptrace", "process_vm_readv", "process_vm_writev", "kcmp",
        /* the filesystem view we built, and namespaces */
        "mount", "umount2", "pivot_root", "chroot", "move_mount", "open_tree",
        "fsopen", "fsmount", "fsconfig", "fspick", "mount_setattr",
        "unshare", "setns",
        /* the kernel itself */
        "kexec_load", "kexec_file_load", "init_module", "finit_module",
        "delete_module", "bpf", "perf_event_open", "reboot", "swapon",
        "swapoff", "acct", "quotactl", "syslog",
        /* keyrings are shared by uid, across jobs and with the caller */
        "add_key", "request_key", "keyctl",
        /* descriptors of other processes, signals by pidfd (a /proc/<pid>
         * directory descriptor names any process) */
        "pidfd_open", "pidfd_getfd", "pidfd_send_signal",
        /* remaps a shared mapping onto other pages of the same file */
        "remap_file_pages",
        /* large kernel attack surfaces no op needs */
        "io_uring_setup", "io_uring_enter", "io_uring_register", "userfaultfd",
        /* signals by thread id alone (glibc uses tgkill) */
        "tkill",
        NULL
    };
    static const unsigned long nsflags[] = {
        CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWIPC,
        CLONE_NEWUTS, CLONE_NEWCGROUP,
    };
    int rc = -ENOMEM, fd = -1;
    struct stat st;
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);

    if (!ctx) {
        errno = ENOMEM;
        return -1;
    }
    for (size_t i = 0; denied[i]; i++)
        if ((!forHelper || !helperNeeded(denied[i])) &&
            (rc = denyCall(ctx, denied[i], EPERM)) < 0)
            goto out;
    /* clone3 takes its flags in memory a filter cannot read: ENOSYS makes
     * libc fall back to clone, whose flags it can. */
    if ((rc = denyCall(ctx, "clone3", ENOSYS)) < 0)
        goto out;
    if ((rc = socketRules(ctx, set)) < 0)
        goto out;
    for (size_t i = 0; i < ARRAY_CARDINALITY(nsflags); i++) {
        rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
                              SCMP_A0(SCMP_CMP_MASKED_EQ, nsflags[i], nsflags[i]));
        if (rc < 0)
            goto out;
    }
    /* The compiled program, read back from a memfd. */
    if ((fd = memfd_create("virtsup-seccomp", MFD_CLOEXEC)) < 0 ||
        (rc = seccomp_export_bpf(ctx, fd)) < 0 ||
        fstat(fd, &st) < 0 || st.st_size <= 0 ||
        st.st_size % (off_t)sizeof(struct sock_filter) != 0) {
        rc = rc < 0 ? rc : -(errno ? errno : EINVAL);
        goto out;
    }
    struct sock_filter *prog = malloc((size_t)st.st_size);
    if (!prog || pread(fd, prog, (size_t)st.st_size, 0) != st.st_size) {
        free(prog);
        rc = -(errno ? errno : EIO);
        goto out;
    }
    out->filter = prog;
    out->len = (unsigned short)((size_t)st.st_size / sizeof(struct sock_filter));
    rc = 0;

 out:
    if (fd >= 0)
        close(fd);
    seccomp_release(ctx);
    if (rc < 0) {
        errno = -rc;
        return -1;
    }
    return 0;
}

int virWorkerSandboxPrepare(int set)
{
    if (sharedFilter.filter && sharedSet == set)
        return 0;
    free(sharedFilter.filter);
    sharedFilter.filter = NULL;
    sharedSet = -1;
    if (buildSharedFilter(&sharedFilter, set, false) < 0)
        return -1;
    sharedSet = set;
    return 0;
}

int virWorkerSandboxSeccomp(int set, void *page)
{
    if (sharedInHelper && sharedSet == set)
        return workerFilter(page);
    if (virWorkerSandboxPrepare(set) < 0)
        return -1;
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &sharedFilter, 0, 0) < 0)
        return -1;
    return workerFilter(page);
}

/* ---- the whole sequence ---- */

/* Set when the spawn helper entered the empty root itself: its workers,
 * forked from it, start there and only mount their own /proc. */
static bool rootShared;
/* ... and whether it did so with CAP_SYS_ADMIN of the host (a root caller)
 * rather than from a user namespace. */
static bool rootSharedHost;

/* A worker in the helper's root: a proc instance of its own over /proc.
 * One instance shared by all workers would not do: hidepid hides an entry
 * only when it is looked up, and an entry another process looked up (a
 * worker its own /proc/self) stays in that instance's cache, visible
 * (though closed) to every other worker. Copying the helper's two-entry
 * mount table and one proc mount cost far less than building the root. */
static int enterOwnProc(const char **what)
{
    *what = "cannot create the worker's mount namespace";
    if (unshare(CLONE_NEWNS) < 0)
        return -1;
    *what = "cannot mount the worker's /proc";
    return mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY,
                 "hidepid=ptraceable,subset=pid");
}

/* Enter the empty root (and, for a non-root caller, the user namespace
 * that allows it). Returns 0, 1 when nothing could be done (no
 * capability, no user namespaces), -1 with errno and @what on failure. */
static int enterRoot(const char **what)
{
    if (haveEffective(CAP_SYS_ADMIN))
        return enterEmptyRoot(false, what);
    if (geteuid() != 0) {
        int in = enterUserNamespace();
        if (in < 0) {
            *what = "cannot map ids in the worker's user namespace";
            return -1;
        }
        return in > 0 ? enterEmptyRoot(true, what) : 1;
    }
    return 1;
}

int virWorkerSandboxPrepareRoot(void)
{
    const char *what = NULL;
    bool host = haveEffective(CAP_SYS_ADMIN);
    int r = enterRoot(&what);
    if (r == 0) {
        rootShared = true;
        rootSharedHost = host;
    }
    return r < 0 ? -1 : 0;
}

/* The filesystem view: the helper's empty root with a proc instance of
 * our own, or, if the helper could not enter it, our own root. */
static void enterView(int ctlfd)
{
    /* A root caller's worker (it holds CAP_SYS_ADMIN until the cut below)
     * loses the host's filesystem. A non-root caller's does too, from a
     * user namespace of its own, where the host allows those; where it
     * does not, it keeps its uid's authority over files (docs/SECURITY.md). */
    /* Usually the helper did this once for all its workers; if it could
     * not, each worker does it for itself. (A non-root caller's worker does
     * it inside its own user namespace, whose capabilities are dropped
     * with the rest below.) */
    const char *what = NULL;
    if (!rootShared) {
        if (enterRoot(&what) < 0)
            virWorkerSandboxFail(ctlfd, what, errno);
    } else if (rootSharedHost && enterOwnProc(&what) < 0) {
        virWorkerSandboxFail(ctlfd, what, errno);
    }
    struct rlimit core = { 0, 0 };
    if (setrlimit(RLIMIT_CORE, &core) < 0)
        virWorkerSandboxFail(ctlfd, "RLIMIT_CORE", errno);
}

static void setJobLimits(int ctlfd, const virProtoSpawn *req)
{
    setLimit(ctlfd, RLIMIT_AS, req->rlimit_as, "RLIMIT_AS");
    setLimit(ctlfd, RLIMIT_CPU, req->rlimit_cpu, "RLIMIT_CPU");
    setLimit(ctlfd, RLIMIT_NOFILE, req->rlimit_nofile, "RLIMIT_NOFILE");
    setLimit(ctlfd, RLIMIT_FSIZE, req->rlimit_fsize, "RLIMIT_FSIZE");
}

/* The bounding and ambient sets first, while we still hold CAP_SETPCAP:
 * a change of uid takes it away, and with it the means to shrink them. */
static void cutBoundingSet(int ctlfd, const virProtoSandbox *sb)
{
    if (bsetCut || !haveEffective(CAP_SETPCAP))
        return;
    for (unsigned int c = 0; c <= CAP_LAST_CAP && c < 64; c++)
        if (!(sb->caps & (1ULL << c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 &&
            errno != EINVAL)
            virWorkerSandboxFail(ctlfd, "cannot shrink the capability bounding set", errno);
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
        virWorkerSandboxFail(ctlfd, "cannot clear the ambient capabilities", errno);
}

/* no_new_privs, the capabilities cut to the profile's, not dumpable, and
 * the seccomp filter naming @page. */
static void dropPrivileges(int ctlfd, const virProtoSandbox *sb, void *page)
{
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        virWorkerSandboxFail(ctlfd, "PR_SET_NO_NEW_PRIVS", errno);
    if (dropCapabilities(sb->caps) < 0)
        virWorkerSandboxFail(ctlfd, "cannot drop capabilities", errno ? errno : EPERM);
    (void)prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
    /* Not dumpable: no core, and other processes of our uid cannot ptrace
     * us or open our /proc files. */
    (void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    if (virWorkerSandboxSeccomp((int)sb->syscalls, page) < 0)
        virWorkerSandboxFail(ctlfd, "cannot install the seccomp filter", errno);
}

int virWorkerSandboxPrepareHelperFilter(int set)
{
    struct sock_fprog prog = { 0, NULL };

    /* Only where the helper entered the workers' root for them: a worker
     * that has to build its own needs the whole mount API first. */
    if (!rootShared) {
        errno = ENOTSUP;
        return -1;
    }
    if (buildSharedFilter(&prog, set, true) < 0)
        return -1;
    int rc = prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    if (rc == 0)
        rc = prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
    int err = errno;
    free(prog.filter);
    if (rc < 0) {
        errno = err;
        return -1;
    }
    sharedInHelper = true;
    sharedSet = set;
    return 0;
}

int virWorkerSandboxPrepareCaps(const virProtoSandbox *sb)
{
    if (!haveEffective(CAP_SETPCAP))
        return 0;
    for (unsigned int c = 0; c <= CAP_LAST_CAP && c < 64; c++)
        if (!(sb->caps & (1ULL << c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 &&
            errno != EINVAL)
            return -1;
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
        return -1;
    bsetCut = true;
    return 0;
}

void virWorkerSandboxEnter(const virProtoSandbox *sb, const virProtoSpawn *req,
                           int ctlfd, void *page, size_t pagelen)
{
    /* Seal the status page where the kernel can (Linux 6.10): no mremap,
     * munmap or mprotect of it, whatever the filter below allows. Older
     * kernels rely on the filter's mremap rule alone. */
    (void)syscall(__NR_mseal, page, pagelen, 0UL);

    enterView(ctlfd);
    setJobLimits(ctlfd, req);
    cutBoundingSet(ctlfd, sb);
    /* KEEPCAPS lets an op keep its declared capabilities across the
     * change of uid (cut to exactly those next). */
    if (req->set_ids) {
        if (sb->caps && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
            virWorkerSandboxFail(ctlfd, "PR_SET_KEEPCAPS", errno);
        if (setgroups(0, NULL) < 0)
            virWorkerSandboxFail(ctlfd, "setgroups", errno);
        if (setresgid(req->gid, req->gid, req->gid) < 0)
            virWorkerSandboxFail(ctlfd, "setresgid", errno);
        if (setresuid(req->uid, req->uid, req->uid) < 0)
            virWorkerSandboxFail(ctlfd, "setresuid", errno);
    }
    dropPrivileges(ctlfd, sb, page);
}

void virWorkerSandboxEnterReady(const virProtoSandbox *sb, void *page)
{
    enterView(-1);
    cutBoundingSet(-1, sb);
    dropPrivileges(-1, sb, page);
}

void virWorkerSandboxEnterJob(const virProtoSpawn *req, int ctlfd, void *page,
                              size_t pagelen)
{
    (void)syscall(__NR_mseal, page, pagelen, 0UL);
    setJobLimits(ctlfd, req);
}

/* ---- in the spawn helper ---- */

static pid_t parsePid(const char **p)
{
    char *end;
    while (**p == ' ' || **p == '\n')
        (*p)++;
    if (!**p)
        return 0;
    long v = strtol(*p, &end, 10);
    if (end == *p)
        return 0;
    *p = end;
    return v > 0 ? (pid_t)v : 0;
}

static bool inLiveGroup(pid_t pid, virWorkerIsLiveFunc isLive)
{
    if (isLive(pid))
        return true;
    pid_t pgid = getpgid(pid);
    /* A child we have not reaped cannot vanish under us: ESRCH here means
     * it is a zombie we will reap, nothing to kill. */
    if (pgid < 0 || isLive(pgid))
        return true;
    /* A kept (detached) process leads a session of its own: what stays in
     * that session is kept with it. */
    pid_t sid = getsid(pid);
    return sid < 0 || isLive(sid);
}

size_t virWorkerSandboxChildren(pid_t *out, size_t max)
{
    static char buf[64 * 1024];   /* MAX_WORKERS pids and their strays */
    char path[64];
    size_t len = 0, n = 0;

    /* The helper is single-threaded: its children are its main thread's.
     * A child listed here stays our child (alive or zombie) until we reap
     * it, so its pid cannot be reused before we act on it. */
    snprintf(path, sizeof(path), "/proc/self/task/%d/children", (int)getpid());
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    for (;;) {
        ssize_t r = read(fd, buf + len, sizeof(buf) - 1 - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        len += (size_t)r;
    }
    close(fd);
    buf[len] = '\0';
    for (const char *p = buf; *p && n < max;) {
        pid_t pid = parsePid(&p);
        if (!pid)
            break;
        out[n++] = pid;
    }
    return n;
}

int virWorkerSandboxSweep(virWorkerIsLiveFunc isLive)
{
    static pid_t kids[8192];
    size_t nk = virWorkerSandboxChildren(kids, ARRAY_CARDINALITY(kids));
    int n = 0;

    for (size_t i = 0; i < nk; i++) {
        if (inLiveGroup(kids[i], isLive))
            continue;
        if (kill(kids[i], SIGKILL) == 0)
            n++;
    }
    return n;
}

bool virWorkerSandboxSpared(pid_t pid, virWorkerIsLiveFunc isLive)
{
    return inLiveGroup(pid, isLive);
}
