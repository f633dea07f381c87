/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hostile-ops.c: a test-only op that behaves as a compromised worker
 * would. After the sandbox is set up it tries, in turn, everything that
 * could reach beyond its own job, and reports each attempt's outcome: one
 * "name: result" line, where result is "ok" if the attempt worked (a
 * sandbox failure), the errno name if it was refused, or a fact the test
 * checks ("orphan: PID"). Parameters: "sup=PID helper=PID other=PID
 * seg=PATH mem=0|1". Linked only into build/tests/virtsup-worker-test.
 * What the test asserts: tests/security-hostile-test.c, docs/SECURITY.md.
 */
#include <dirent.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/netlink.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>

#include "util/virerror.h"
#include "worker/worker-priv.h"

typedef struct {
    char text[8192];
    size_t len;
} hostileOut;

static void say(hostileOut *o, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void say(hostileOut *o, const char *name, const char *fmt, ...)
{
    va_list ap;
    int n = snprintf(o->text + o->len, sizeof(o->text) - o->len, "%s: ", name);
    if (n > 0 && (size_t)n < sizeof(o->text) - o->len)
        o->len += (size_t)n;
    va_start(ap, fmt);
    n = vsnprintf(o->text + o->len, sizeof(o->text) - o->len, fmt, ap);
    va_end(ap);
    if (n > 0 && (size_t)n < sizeof(o->text) - o->len)
        o->len += (size_t)n;
    if (o->len < sizeof(o->text) - 1)
        o->text[o->len++] = '\n';
    o->text[o->len] = '\0';
}

/* "ok" when @rc says the call worked, else the errno's name. */
static void outcome(hostileOut *o, const char *name, long rc)
{
    if (rc >= 0) {
        say(o, name, "ok");
        return;
    }
    const char *e = strerrorname_np(errno);
    say(o, name, "%s", e ? e : "unknown-errno");
}

static long openAndClose(const char *path, int flags)
{
    int fd = open(path, flags | O_CLOEXEC, 0600);
    if (fd >= 0)
        close(fd);
    return fd;
}

static long param(const char *params, size_t len, const char *key, char *buf,
                  size_t buflen)
{
    char tmp[1024];
    size_t n = len < sizeof(tmp) - 1 ? len : sizeof(tmp) - 1;
    memcpy(tmp, params ? params : "", n);
    tmp[n] = '\0';
    size_t kl = strlen(key);
    for (char *p = tmp; (p = strstr(p, key)); p += kl) {
        if ((p == tmp || p[-1] == ' ') && p[kl] == '=') {
            size_t vl = strcspn(p + kl + 1, " ");
            if (vl >= buflen)
                vl = buflen - 1;
            memcpy(buf, p + kl + 1, vl);
            buf[vl] = '\0';
            return strtol(buf, NULL, 10);
        }
    }
    buf[0] = '\0';
    return 0;
}

/* Every other page of the segment, by every path that does not need the
 * segment's descriptor (which we do not hold). */
static void trySlots(hostileOut *o, virWorkerJobPtr job, const char *seg)
{
    void *page = job->page;
    /* Growing our page's mapping would bring in the next pages of the file:
     * our lifecycle record, then the other slots. */
    void *grown = mremap(page, VIR_SHM_PAGE_SIZE, 64 * VIR_SHM_PAGE_SIZE, MREMAP_MAYMOVE);
    outcome(o, "slot-mremap", grown == MAP_FAILED ? -1 : 0);
    /* Point our page at another offset of the same file (slot 0's page). */
    outcome(o, "slot-remap-file-pages",
            syscall(SYS_remap_file_pages, page, VIR_SHM_PAGE_SIZE, 0, 1UL, 0));
    outcome(o, "segment-open-rw", seg[0] ? openAndClose(seg, O_RDWR) : -1);
    outcome(o, "segment-open-ro", seg[0] ? openAndClose(seg, O_RDONLY) : -1);

    /* /proc/self/map_files/<range> opens the mapped file itself. */
    DIR *d = opendir("/proc/self/map_files");
    if (!d) {
        outcome(o, "map-files", -1);
    } else {
        long rc = -1;
        int err = ENOENT;
        struct dirent *e;
        while ((e = readdir(d))) {
            char p[512];
            if (e->d_name[0] == '.')
                continue;
            snprintf(p, sizeof(p), "/proc/self/map_files/%s", e->d_name);
            if ((rc = openAndClose(p, O_RDWR)) >= 0)
                break;
            err = errno;
        }
        closedir(d);
        errno = err;
        outcome(o, "map-files", rc);
    }
}

/* The descriptors of another process, as /proc links: the helper holds
 * the segment's descriptor for a moment at each spawn. The outcome is the
 * refusal of a descriptor that was there to open: one the process closed
 * between our listing and our open (the helper's socket pair of a ready
 * worker it is forking, say) answers ENOENT, which says nothing of
 * access, and is only counted ("NAME-vanished: N"). */
static void tryFds(hostileOut *o, const char *name, pid_t pid)
{
    char dir[64];
    snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
    DIR *d = opendir(dir);
    if (!d) {
        outcome(o, name, -1);
        return;
    }
    long rc = -1;
    int err = 0;
    unsigned int vanished = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        char p[384];
        if (e->d_name[0] == '.')
            continue;
        snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
        if ((rc = openAndClose(p, O_RDWR)) >= 0)
            break;
        if (errno == ENOENT)
            vanished++;
        else if (!err)
            err = errno;
    }
    if (vanished) {
        char what[96];
        snprintf(what, sizeof(what), "%s-vanished", name);
        say(o, what, "%u", vanished);
    }
    closedir(d);
    errno = err ? err : ENOENT;
    outcome(o, name, rc);
}

static void tryProcess(hostileOut *o, const char *who, pid_t pid)
{
    char name[64], path[64];
    if (pid <= 0)
        return;
    /* Signal 0: the permission check alone, harmless if it passes. */
    snprintf(name, sizeof(name), "signal-%s", who);
    outcome(o, name, kill(pid, 0));
    snprintf(name, sizeof(name), "signal-group-%s", who);
    outcome(o, name, kill(-pid, 0));
    snprintf(name, sizeof(name), "sigqueue-%s", who);
    outcome(o, name, sigqueue(pid, 0, (union sigval){ 0 }));
    snprintf(name, sizeof(name), "ptrace-%s", who);
    long rc = ptrace(PTRACE_SEIZE, pid, NULL, NULL);
    if (rc == 0)
        ptrace(PTRACE_DETACH, pid, NULL, NULL);
    outcome(o, name, rc);
    snprintf(name, sizeof(name), "mem-%s", who);
    snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
    outcome(o, name, openAndClose(path, O_RDONLY));
    snprintf(name, sizeof(name), "vm-read-%s", who);
    char buf[16];
    struct iovec local = { buf, sizeof(buf) }, remote = { (void *)0x400000, sizeof(buf) };
    outcome(o, name, process_vm_readv(pid, &local, 1, &remote, 1, 0));
    snprintf(name, sizeof(name), "pidfd-%s", who);
    long fd = syscall(SYS_pidfd_open, pid, 0);
    if (fd >= 0)
        close((int)fd);
    outcome(o, name, fd);
    snprintf(name, sizeof(name), "fds-%s", who);
    tryFds(o, name, pid);
}

static void tryFiles(hostileOut *o)
{
    outcome(o, "tmp-create", openAndClose("/tmp/virtsup-hostile", O_WRONLY | O_CREAT | O_EXCL));
    outcome(o, "root-mkdir", mkdir("/virtsup-hostile", 0700));
    outcome(o, "root-create", openAndClose("/virtsup-hostile", O_WRONLY | O_CREAT | O_EXCL));
    outcome(o, "shadow-read", openAndClose("/etc/shadow", O_RDONLY));
    outcome(o, "passwd-write", openAndClose("/etc/passwd", O_WRONLY | O_APPEND));
    outcome(o, "sysrq-write", openAndClose("/proc/sysrq-trigger", O_WRONLY));
    outcome(o, "proc-pid1-root", openAndClose("/proc/1/root", O_RDONLY | O_DIRECTORY));
    outcome(o, "mount", mount("none", "/proc", "tmpfs", 0, NULL));
    outcome(o, "unshare-user", unshare(CLONE_NEWUSER));
}

static void tryPrivileges(hostileOut *o)
{
    struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof(data));
    data[CAP_SYS_ADMIN / 32].effective = data[CAP_SYS_ADMIN / 32].permitted =
        1u << (CAP_SYS_ADMIN % 32);
    outcome(o, "capset", syscall(SYS_capset, &hdr, data));
    outcome(o, "ambient-raise", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_SYS_ADMIN, 0, 0));
    outcome(o, "nnp-clear", prctl(PR_SET_NO_NEW_PRIVS, 0, 0, 0, 0) < 0 ||
                            prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 0 ? -1 : 0);
    if (getuid() != 0)
        outcome(o, "setuid-0", setuid(0));
    else
        say(o, "setuid-0", "n/a");
    char *argv[] = { (char *)"su", NULL };
    outcome(o, "exec-su", execve("/usr/bin/su", argv, argv + 1));
}

/* A process that leaves our session and group and is orphaned at once,
 * so only the spawn helper, as subreaper, still knows it. */
static void tryOutlive(hostileOut *o)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0) {
        outcome(o, "orphan", -1);
        return;
    }
    pid_t mid = fork();
    if (mid == 0) {
        pid_t g = fork();
        if (g == 0) {
            pid_t me = setsid();
            if (write(p[1], &me, sizeof(me)) != sizeof(me))
                _exit(1);
            close(p[1]);
            for (;;)
                pause();
        }
        _exit(g > 0 ? 0 : 1);
    }
    close(p[1]);
    pid_t g = -1;
    if (mid < 0 || read(p[0], &g, sizeof(g)) != sizeof(g))
        g = -1;
    close(p[0]);
    if (mid > 0)
        waitpid(mid, NULL, 0);
    say(o, "orphan", "%d", (int)g);
    say(o, "orphan-sid", "%d", g > 0 ? (int)getsid(g) : -1);
}

/* Sockets: a new one of each family the profile's system-call set may or
 * may not allow (the network itself, raw packets, netlink, local). */
static void trySockets(hostileOut *o)
{
    static const struct { const char *name; int family, type, proto; } socks[] = {
        { "socket-inet", AF_INET, SOCK_DGRAM, 0 },
        { "socket-inet6", AF_INET6, SOCK_STREAM, 0 },
        { "socket-packet", AF_PACKET, SOCK_RAW, 0 },
        { "socket-netlink", AF_NETLINK, SOCK_RAW, NETLINK_ROUTE },
        { "socket-unix", AF_UNIX, SOCK_STREAM, 0 },
    };
    for (size_t i = 0; i < sizeof(socks) / sizeof(socks[0]); i++) {
        int fd = socket(socks[i].family, socks[i].type | SOCK_CLOEXEC, socks[i].proto);
        if (fd >= 0)
            close(fd);
        outcome(o, socks[i].name, fd);
    }
}

/* What the worker holds: its effective capabilities, its descriptors, and
 * the names its profile gave them. */
static void tryHoldings(hostileOut *o, virWorkerJobPtr job)
{
    char line[256], list[256] = "";
    size_t len = 0;
    FILE *f = fopen("/proc/self/status", "re");
    while (f && fgets(line, sizeof(line), f))
        if (strncmp(line, "CapEff:", 7) == 0)
            say(o, "cap-eff", "%llx", strtoull(line + 7, NULL, 16));
    if (f)
        fclose(f);
    DIR *d = opendir("/proc/self/fd");
    int self = d ? dirfd(d) : -1;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.' || atoi(e->d_name) == self)
            continue;
        int n = snprintf(list + len, sizeof(list) - len, "%s%s", len ? "," : "", e->d_name);
        if (n > 0 && (size_t)n < sizeof(list) - len)
            len += (size_t)n;
    }
    if (d)
        closedir(d);
    say(o, "fds", "%s", list);
    for (unsigned int i = 0; i < job->nresources; i++)
        if (job->fdnames[i][0])
            say(o, "fd-name", "%s=%d", job->fdnames[i], virWorkerJobFD(job, job->fdnames[i]));
}

/* Processes that outlive the job: refused in every case but one, a child
 * of ours that leads a session of its own, in a profile that allows it. */
static void tryDetach(hostileOut *o, virWorkerJobPtr job)
{
    int rc = virWorkerJobDetach(job, getpid());
    say(o, "detach-self", "%s", rc == 0 ? "ok" : job->detachfd < 0 ? "EPERM" : "refused");
    rc = virWorkerJobDetach(job, 1);
    say(o, "detach-init", "%s", rc == 0 ? "ok" : job->detachfd < 0 ? "EPERM" : "refused");
    /* A child still in our session; it ends when we close its pipe (the
     * filter lets us signal only ourselves and our group). */
    int q[2];
    if (pipe2(q, O_CLOEXEC) < 0)
        return;
    pid_t c = fork();
    if (c == 0) {
        char b;
        close(q[1]);
        while (read(q[0], &b, 1) < 0 && errno == EINTR)
            ;
        _exit(0);
    }
    close(q[0]);
    rc = c > 0 ? virWorkerJobDetach(job, c) : -1;
    say(o, "detach-same-session", "%s", rc == 0 ? "ok" : job->detachfd < 0 ? "EPERM" : "refused");
    close(q[1]);
    if (c > 0)
        waitpid(c, NULL, 0);
    if (job->detachfd < 0)
        return;
    /* The one allowed: our child, in a session of its own. */
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return;
    c = fork();
    if (c == 0) {
        char ok = setsid() > 0 ? 'y' : 'n';
        if (write(p[1], &ok, 1) != 1)
            _exit(1);
        for (;;)
            pause();
    }
    close(p[1]);
    char ok = 'n';
    if (c < 0 || read(p[0], &ok, 1) != 1 || ok != 'y') {
        say(o, "detached", "setsid failed");
        close(p[0]);
        return;
    }
    close(p[0]);
    rc = virWorkerJobDetach(job, c);
    say(o, "detached", "%d", rc == 0 ? (int)c : -1);
    say(o, "detach-again", "%s", virWorkerJobDetach(job, c) == 0 ? "ok" : "refused");
}

/* Allocate and touch 1 MiB at a time until the address space limit says
 * no (or 64 GiB, far above any limit the test sets). */
static void tryMemory(hostileOut *o)
{
    enum { CHUNK = 1 << 20, MAX_CHUNKS = 64 * 1024 };
    static void *chunks[MAX_CHUNKS];
    size_t n = 0;
    while (n < MAX_CHUNKS) {
        void *c = malloc(CHUNK);
        if (!c)
            break;
        memset(c, 0xa5, CHUNK);
        chunks[n++] = c;
    }
    for (size_t i = 0; i < n; i++)
        free(chunks[i]);
    say(o, "memory", "%s after %zu MiB", n < MAX_CHUNKS ? "ENOMEM" : "ok", n);
}

static void opHostile(virWorkerJobPtr job, const void *params, size_t len)
{
    static hostileOut out;
    char buf[512], seg[512];
    pid_t sup = (pid_t)param(params, len, "sup", buf, sizeof(buf));
    pid_t helper = (pid_t)param(params, len, "helper", buf, sizeof(buf));
    pid_t other = (pid_t)param(params, len, "other", buf, sizeof(buf));
    long mem = param(params, len, "mem", buf, sizeof(buf));
    param(params, len, "seg", seg, sizeof(seg));

    virWorkerJobInitialize(job, 1);
    virWorkerJobSetPhase(job, "misbehaving");
    trySlots(&out, job, seg);
    tryProcess(&out, "supervisor", sup);
    tryProcess(&out, "helper", helper);
    tryProcess(&out, "other", other);
    /* Our own spawn helper (the default profile's is "helper"). */
    tryProcess(&out, "parent", getppid());
    tryFiles(&out);
    tryPrivileges(&out);
    tryOutlive(&out);
    trySockets(&out);
    tryHoldings(&out, job);
    tryDetach(&out, job);
    if (mem)
        tryMemory(&out);
    virWorkerJobUpdateAbs(job, 1, 0, 100);
    virWorkerJobSetResult(job, out.text, out.len);
    virWorkerJobFinishSuccess(job);
}
VIR_WORKER_OP_REGISTER(opHostileDef, "test.hostile", opHostile);

/* Leaves an orphan in its own process group (double fork, no setsid), so
 * it is the spawn helper's child but still in a live job's group; then
 * waits for cancel. The sweep must spare it until the job ends. */
static void opOrphanInGroup(virWorkerJobPtr job, const void *params, size_t len)
{
    (void)params;
    (void)len;
    virWorkerJobInitialize(job, 0);
    pid_t mid = fork();
    if (mid == 0) {
        if (fork() == 0) {
            for (;;)
                pause();
        }
        _exit(0);
    }
    if (mid > 0)
        waitpid(mid, NULL, 0);
    virWorkerJobUpdateAbs(job, 0, 0, 50);
    while (!virWorkerJobCancelRequested(job)) {
        struct timespec ts = { 0, 1000000 };
        nanosleep(&ts, NULL); /* SIGTERM interrupts it at once */
    }
    if (!virWorkerJobFinishCancel(job))
        virWorkerJobFinishFailure(job, VIR_ERR_INTERNAL_ERROR, "cancel seen but not finished");
}
VIR_WORKER_OP_REGISTER(opOrphanInGroupDef, "test.orphan-in-group", opOrphanInGroup);
