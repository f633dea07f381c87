/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * network_driver.c: real virtual networks for network:///system (libvirt's
 * virtnetworkd URI) and for qemu:///system, whose table has the network
 * slots below too, the library side (trusted, in the client). See
 * docs/NETWORK-DRIVER.md.
 *
 * State lives on disk, not in the process, so every connection (of this
 * process or the next one) sees the same networks:
 *   DIR/NAME.net          a persistent definition (a checked netDef)
 *   DIR/run/NAME.state    an active network (netStatus: its definition
 *                         and the owner mark of the start that made it)
 *   DIR/run/NAME/         dnsmasq's configuration and leases, and the
 *                         state directory of the virtsup-shim owning it
 * DIR is the connection's (networkStateOpen): $VIRTSUP_NETWORK_DIR (read
 * with secure_getenv), else /var/lib/virtsup/network, for network:///system
 * and qemu:///system; ROOT/network for qemu:///system?root=ROOT. The busy
 * list below is keyed by DIR and name. A network is active while its
 * state file is there and its bridge, carrying the start's mark, exists
 * (a reboot removes the bridge: the stale state file is then dropped).
 *
 * XML given to the API is parsed by a worker (op network.parse, no
 * capability); a start is a job (op network.start) whose worker holds
 * CAP_NET_ADMIN only and asks this side's agent thread for dnsmasq, which
 * is started under its own virtsup-shim as the unprivileged dnsmasq user
 * and outlives the application. Destroy, and the clean-up after a start
 * that did not complete, remove only what carries the start's mark.
 *
 * Locking: driverLock (process-wide) guards the busy list and is held
 * around every read-modify-write of the files; DIR/lock (flock) does the
 * same between processes. Neither is held while waiting for a job.
 */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <linux/capability.h>
#include <linux/netfilter.h>

#include "driverjob.h"
#include "objlist.h"
#include "supervisor/supervisor.h"
#include "util/internal.h"
#include "util/viralloc.h"
#undef VIR_FROM_THIS
#define VIR_FROM_THIS VIR_FROM_NETWORK
#include "util/virerror.h"
#include "util/virnetlink.h"
#include "util/virpoll.h"
#include "util/virprocess.h"
#include "util/virshim.h"
#include "drivers/network/network_conf.h"
#include "drivers/network/network_driver.h"

#define NET_DIR_DEFAULT "/var/lib/virtsup/network"
#define SHIM_START_MS 30000
#define SHIM_STOP_MS 20000
#define DNSMASQ_PATH "/usr/sbin/dnsmasq"
/* Active networks with dnsmasq a connection follows at once. */
#define NET_WATCH_MAX 64

/* DIR/run/NAME.state */
typedef struct netStatus {
    uint32_t magic;                      /* NET_STATUS_MAGIC */
    uint32_t version;                    /* 1 */
    uint32_t dnsmasq;                    /* 1: a dnsmasq was started */
    uint32_t restarts;                   /* dnsmasq restarts after its death */
    char owner[NET_OWNER_MAX];
    char table[NET_NAME_MAX + 16];
    netDef def;
} netStatus;
#define NET_STATUS_MAGIC 0x5453454eu    /* "NEST" */

/* A network with a start job running in this process. */
typedef struct netBusy {
    char dir[PATH_MAX];                  /* the connection's network directory */
    char name[NET_NAME_MAX];
    virJobPtr job;                       /* NULL while it is being created */
    struct netBusy *next;
} netBusy;

static pthread_mutex_t driverLock = PTHREAD_MUTEX_INITIALIZER;
static netBusy *busyList;

/* The connection's dnsmasq watcher: subscribed to the shim of every
 * active network's dnsmasq, and to DIR/run (inotify) for networks started
 * or destroyed by anyone. Its buffers hang off the connection, so a
 * process forked meanwhile sees them in use. */
typedef struct netWatch {
    const char *dir;                     /* its connection's network directory */
    pthread_t thread;
    bool running;
    int stopfd;                          /* eventfd: close -> watcher */
    int inotifyfd;                       /* -1: none, looks instead (watchLook) */
    uint64_t seen;                       /* without inotify: the run directory last looked at */
    size_t n;
    int fds[NET_WATCH_MAX];
    char names[NET_WATCH_MAX][NET_NAME_MAX];
    virShimIncoming *in;
    /* systemd's habit (StartLimitBurst=5 in 10 s): a dnsmasq that keeps
     * dying is not started again by the watcher beyond that; the next
     * call on the network still does. */
    struct {
        char name[NET_NAME_MAX];
        long long since;
        unsigned int n;
    } limit[NET_WATCH_MAX];
} netWatch;

typedef struct netConn {
    char dir[PATH_MAX];                  /* DIR: where its networks live */
    pthread_mutex_t lock;
    pthread_cond_t created;
    virSupGroup *group;                  /* NULL once closing */
    unsigned int creating;
    netWatch watch;
} netConn;

/* One job's context (start or parse). */
typedef struct netJob {
    virConnectPtr conn;                  /* a memory reference */
    const char *dir;                     /* its connection's DIR (kept by the reference) */
    bool start;
    bool define;                         /* parse: store the definition */
    netStatus st;                        /* start: what the state file will hold */
    netBusy *busy;                       /* start: our entry in busyList */
    /* the agent */
    int agentfd;                         /* our end of the pair, -1 */
    void *agentbuf;                      /* the agent thread's buffer, reachable
                                            from here while it runs (a fork of
                                            this process sees it as in use) */
    int stopfd[2];                       /* done -> agent: finish */
    pthread_t agent;
    bool agentRunning;
    int shimfd;                          /* subscribed to dnsmasq's shim, -1 */
    bool badDnsmasq;                     /* test fault: dnsmasq refuses its options */
} netJob;

/* ---- paths and files ------------------------------------------------------ */

static const char *netDir(void)
{
    const char *d = secure_getenv("VIRTSUP_NETWORK_DIR");
    return d && *d == '/' ? d : NET_DIR_DEFAULT;
}

static int pathf(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int pathf(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= len) {
        virReportError(VIR_ERR_INTERNAL_ERROR,
                       "a path in the network directory is too long: '%.64s...'", buf);
        return -1;
    }
    return 0;
}

static int mkdirMode(const char *path, mode_t mode)
{
    if (mkdir(path, mode) < 0 && errno != EEXIST) {
        virReportSystemError(errno, "cannot create directory '%s'", path);
        return -1;
    }
    if (chmod(path, mode) < 0) {
        virReportSystemError(errno, "cannot set the mode of '%s'", path);
        return -1;
    }
    return 0;
}

/* DIR and DIR/run exist (0755: dnsmasq, unprivileged, goes through). */
static int dirsMake(const char *nd)
{
    char p[PATH_MAX];

    if (mkdirMode(nd, 0755) < 0 || pathf(p, sizeof(p), "%s/run", nd) < 0 ||
        mkdirMode(p, 0755) < 0)
        return -1;
    return 0;
}

/* The cross-process lock: an flock on DIR/lock. Returns its fd or -1. */
static int fileLock(const char *nd)
{
    char p[PATH_MAX];
    int fd;

    if (dirsMake(nd) < 0 || pathf(p, sizeof(p), "%s/lock", nd) < 0)
        return -1;
    if ((fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0) {
        virReportSystemError(errno, "cannot open '%s'", p);
        return -1;
    }
    while (flock(fd, LOCK_EX) < 0) {
        if (errno != EINTR) {
            virReportSystemError(errno, "cannot lock '%s'", p);
            close(fd);
            return -1;
        }
    }
    return fd;
}

static void fileUnlock(int fd)
{
    if (fd >= 0)
        close(fd);
}

/* Write @len bytes to @path atomically (temporary name, fsync, rename). */
static int fileWriteAtomic(const char *path, const void *data, size_t len, mode_t mode)
{
    char tmp[PATH_MAX];
    int fd;

    if (pathf(tmp, sizeof(tmp), "%s.new", path) < 0)
        return -1;
    if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode)) < 0) {
        virReportSystemError(errno, "cannot create '%s'", tmp);
        return -1;
    }
    if (write(fd, data, len) != (ssize_t)len || fchmod(fd, mode) < 0 || fsync(fd) < 0) {
        virReportSystemError(errno ? errno : EIO, "cannot write '%s'", tmp);
        close(fd);
        unlink(tmp);
        return -1;
    }
    close(fd);
    if (rename(tmp, path) < 0) {
        virReportSystemError(errno, "cannot rename '%s' to '%s'", tmp, path);
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* Read exactly @len bytes of @path. 1 read, 0 absent, -1 error. */
static int fileRead(const char *path, void *data, size_t len)
{
    struct stat sb;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    ssize_t n;

    if (fd < 0) {
        if (errno == ENOENT)
            return 0;
        virReportSystemError(errno, "cannot open '%s'", path);
        return -1;
    }
    if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) || (size_t)sb.st_size != len) {
        virReportError(VIR_ERR_INTERNAL_ERROR, "'%s' is not a network record of this version",
                       path);
        close(fd);
        return -1;
    }
    n = read(fd, data, len);
    close(fd);
    if (n != (ssize_t)len) {
        virReportSystemError(n < 0 ? errno : EIO, "cannot read '%s'", path);
        return -1;
    }
    return 1;
}

/* The persistent definition of @name. 1, 0 none, -1 error. */
static int defLoad(const char *nd, const char *name, netDef *def)
{
    char p[PATH_MAX];
    const char *why = NULL;
    int rc = -1;

    if (netNameCheck(name, NET_NAME_MAX, &why) < 0)
        return 0;
    if (pathf(p, sizeof(p), "%s/%s.net", nd, name) < 0 ||
        (rc = fileRead(p, def, sizeof(*def))) <= 0)
        return rc < 0 ? -1 : 0;
    if (netDefCheck(def, true, &why) < 0 || STRNEQ(def->name, name)) {
        virReportError(VIR_ERR_INTERNAL_ERROR, "'%s' is not a valid network definition: %s",
                       p, why ? why : "its name differs");
        return -1;
    }
    return 1;
}

static bool ownerIsOurs(const netStatus *st)
{
    const char *why;
    return netOwnerCheck(st->owner, &why) == 0;
}

/* The state of active network @name, checked. 1, 0 none, -1 error. */
static int statusLoad(const char *nd, const char *name, netStatus *st)
{
    char p[PATH_MAX];
    const char *why = NULL;
    int rc = -1;

    if (netNameCheck(name, NET_NAME_MAX, &why) < 0)
        return 0;
    if (pathf(p, sizeof(p), "%s/run/%s.state", nd, name) < 0 ||
        (rc = fileRead(p, st, sizeof(*st))) <= 0)
        return rc < 0 ? -1 : 0;
    if (st->magic != NET_STATUS_MAGIC || st->version != 1 ||
        netDefCheck(&st->def, true, &why) < 0 || STRNEQ(st->def.name, name) ||
        !ownerIsOurs(st) || !memchr(st->table, '\0', sizeof(st->table))) {
        virReportError(VIR_ERR_INTERNAL_ERROR, "'%s' is not a valid network state: %s",
                       p, why ? why : "bad header, name or mark");
        return -1;
    }
    return 1;
}

static int statusSave(const char *nd, const netStatus *st)
{
    char p[PATH_MAX];

    if (pathf(p, sizeof(p), "%s/run/%s.state", nd, st->def.name) < 0)
        return -1;
    return fileWriteAtomic(p, st, sizeof(*st), 0600);
}

/* Remove DIR/run/NAME/ and what it holds (two levels: shim/, leases/). */
static void runDirRemove(const char *nd, const char *name)
{
    char p[PATH_MAX], q[PATH_MAX + 300];
    static const char *const subs[] = { "shim", "leases" };

    if (pathf(p, sizeof(p), "%s/run/%s", nd, name) < 0)
        return;
    for (size_t i = 0; i < ARRAY_CARDINALITY(subs); i++) {
        DIR *d;
        struct dirent *e;
        snprintf(q, sizeof(q), "%s/%s", p, subs[i]);
        if (!(d = opendir(q)))
            continue;
        while ((e = readdir(d))) {
            if (STREQ(e->d_name, ".") || STREQ(e->d_name, ".."))
                continue;
            (void)unlinkat(dirfd(d), e->d_name, 0);
        }
        closedir(d);
        (void)rmdir(q);
    }
    snprintf(q, sizeof(q), "%s/dnsmasq.conf", p);
    (void)unlink(q);
    (void)rmdir(p);
}

/* ---- the busy list (one start job per network in this process) ---------- */

/* A forked child starts with an empty busy list: the starts on it are
 * its parent's (their entries stay with the parent's jobs, which the
 * child never touches), so the list and its lock, which a thread that does
 * not exist in the child may have held, start afresh. */
static void netForkChild(void)
{
    busyList = NULL;
    pthread_mutex_init(&driverLock, NULL);
}

static void netForkInstall(void)
{
    (void)pthread_atfork(NULL, NULL, netForkChild);
}

static netBusy *busyFind(const char *nd, const char *name)
{
    for (netBusy *b = busyList; b; b = b->next) {
        if (STREQ(b->name, name) && STREQ(b->dir, nd))
            return b;
    }
    return NULL;
}

static int busyError(const netBusy *b)
{
    if (b->job)
        virReportError(VIR_ERR_OPERATION_INVALID,
                       "network '%s' already has a job running: job %llu (%s)", b->name,
                       (unsigned long long)virJobGetID(b->job), NET_OP_START);
    else
        virReportError(VIR_ERR_OPERATION_INVALID,
                       "network '%s' already has a job running: a start being created",
                       b->name);
    return -1;
}

/* Under driverLock. */
static netBusy *busyTake(const char *nd, const char *name)
{
    netBusy *b = busyFind(nd, name);

    if (b) {
        busyError(b);
        return NULL;
    }
    if (!VIR_ALLOC(b))
        return NULL;
    snprintf(b->name, sizeof(b->name), "%s", name);
    snprintf(b->dir, sizeof(b->dir), "%s", nd);
    b->next = busyList;
    busyList = b;
    return b;
}

static void busyRelease(netBusy *b)
{
    pthread_mutex_lock(&driverLock);
    for (netBusy **pp = &busyList; *pp; pp = &(*pp)->next) {
        if (*pp == b) {
            *pp = b->next;
            break;
        }
    }
    pthread_mutex_unlock(&driverLock);
    free(b);
}

/* ---- dnsmasq under its shim ------------------------------------------------ */

static int dnsmasqUser(uid_t *uid, gid_t *gid)
{
    struct passwd pw, *res = NULL;
    char buf[1024];

    if (getpwnam_r("dnsmasq", &pw, buf, sizeof(buf), &res) != 0 || !res) {
        virReportError(VIR_ERR_OPERATION_FAILED, "%s",
                       "there is no user 'dnsmasq' to run the network's DHCP server as "
                       "(install dnsmasq-base)");
        return -1;
    }
    *uid = pw.pw_uid;
    *gid = pw.pw_gid;
    return 0;
}

/* Write dnsmasq's configuration for @def into DIR/run/NAME/ (with its
 * leases directory, owned by the dnsmasq user). *@none when the network
 * needs no dnsmasq. */
static int dnsmasqPrepare(const char *nd, const netDef *def, bool *none)
{
    char dir[PATH_MAX], p[PATH_MAX + 32], lease[PATH_MAX + 64];
    char *conf = NULL;
    uid_t uid;
    gid_t gid;
    int ret = -1;

    if (pathf(dir, sizeof(dir), "%s/run/%s", nd, def->name) < 0)
        return -1;
    snprintf(lease, sizeof(lease), "%s/leases/dnsmasq.leases", dir);
    conf = netDnsmasqConf(def, lease, none);
    if (*none)
        return 0;
    if (!conf || dnsmasqUser(&uid, &gid) < 0)
        goto cleanup;
    if (mkdirMode(dir, 0755) < 0)
        goto cleanup;
    snprintf(p, sizeof(p), "%s/leases", dir);
    if (mkdirMode(p, 0700) < 0)
        goto cleanup;
    if (chown(p, uid, gid) < 0) {
        virReportSystemError(errno, "cannot give '%s' to the dnsmasq user", p);
        goto cleanup;
    }
    snprintf(p, sizeof(p), "%s/shim", dir);
    if (mkdirMode(p, 0700) < 0)
        goto cleanup;
    snprintf(p, sizeof(p), "%s/dnsmasq.conf", dir);
    if (fileWriteAtomic(p, conf, strlen(conf), 0644) < 0)
        goto cleanup;
    ret = 0;
 cleanup:
    free(conf);
    return ret;
}

/* Start dnsmasq of @def under a new shim. Fills @status. @bad (tests):
 * with an option it refuses, so that it fails to start for real. */
static int dnsmasqSpawn(const char *nd, const netDef *def, bool bad, virShimStatus *status)
{
    char dir[PATH_MAX], shimdir[PATH_MAX + 16];
    virShimSpecBuf *spec = NULL;
    uid_t uid;
    gid_t gid;
    int ret = -1;

    if (pathf(dir, sizeof(dir), "%s/run/%s", nd, def->name) < 0 ||
        dnsmasqUser(&uid, &gid) < 0)
        return -1;
    snprintf(shimdir, sizeof(shimdir), "%s/shim", dir);
    if (!(spec = virShimSpecNew("dnsmasq")))
        return -1;
    virShimSpecSetIds(spec, uid, gid);
    /* What dnsmasq 2.90 refuses to start without, unprivileged. */
    virShimSpecSetCaps(spec, (1ULL << CAP_NET_ADMIN) | (1ULL << CAP_NET_RAW) |
                             (1ULL << CAP_NET_BIND_SERVICE));
    virShimSpecSetTermTimeout(spec, 5000);
    if (virShimSpecAddArg(spec, DNSMASQ_PATH) < 0 ||
        virShimSpecAddArg(spec, "--keep-in-foreground") < 0 ||
        virShimSpecAddArg(spec, "--log-facility=-") < 0 ||
        virShimSpecAddArgf(spec, "--conf-file=%s/dnsmasq.conf", dir) < 0 ||
        (bad && virShimSpecAddArg(spec, "--no-such-option") < 0))
        goto cleanup;
    ret = virShimSpawn(shimdir, -1, spec, NULL, 0, SHIM_START_MS, status);
 cleanup:
    virShimSpecFree(spec);
    return ret;
}

/* The state dnsmasq's shim last recorded. 1 read, 0 none, -1 error. */
static int dnsmasqState(const char *nd, const char *name, virShimStatus *status)
{
    char dir[PATH_MAX];

    if (pathf(dir, sizeof(dir), "%s/run/%s/shim", nd, name) < 0)
        return -1;
    if (virShimStateRead(dir, status) < 0) {
        if (errno != ENOENT)
            return -1;
        virResetLastError();
        return 0;
    }
    return 1;
}

/* Stop dnsmasq of network @name if its shim is still there. */
static void dnsmasqStop(const char *nd, const char *name)
{
    char shimdir[PATH_MAX];
    virShimIncoming *in = NULL;
    virShimStatus status;
    uint32_t ms = SHIM_STOP_MS;
    int fd;

    if (pathf(shimdir, sizeof(shimdir), "%s/run/%s/shim", nd, name) < 0)
        return;
    if ((fd = virShimConnect(shimdir)) >= 0) {
        if (VIR_ALLOC(in))
            (void)virShimCall(fd, VIR_SHIM_MSG_STOP, &ms, sizeof(ms), NULL, 0,
                              SHIM_STOP_MS + 5000, NULL, NULL, in);
        free(in);
        close(fd);
    } else {
        virResetLastError();
    }
    /* A shim that does not answer: the child by its identity. */
    if (dnsmasqState(nd, name, &status) > 0 && status.child_state != VIR_SHIM_CHILD_EXITED &&
        status.child_pid > 0) {
        (void)virProcessKillIdentity(status.child_pid, status.child_start, SIGKILL);
        (void)virProcessKillIdentity(status.shim_pid, status.shim_start, SIGKILL);
    }
    virResetLastError();
}

/* ---- the agent: dnsmasq on the start worker's request --------------------- */

static void agentReply(netJob *nj, uint32_t type, int pid, const char *msg)
{
    netAgentMsg m;

    memset(&m, 0, sizeof(m));
    m.magic = NET_AGENT_MAGIC;
    m.type = type;
    m.pid = pid;
    snprintf(m.message, sizeof(m.message), "%.495s", msg ? msg : "");
    (void)send(nj->agentfd, &m, sizeof(m), MSG_NOSIGNAL);
}

static void agentStart(netJob *nj)
{
    virShimStatus status;
    virShimIncoming *in = NULL;
    char shimdir[PATH_MAX];

    if (dnsmasqSpawn(nj->dir, &nj->st.def, nj->badDnsmasq, &status) < 0) {
        const virError *e = virGetLastError();
        agentReply(nj, NET_AGENT_FAILED, 0, e && e->message ? e->message : "cannot start it");
        virResetLastError();
        return;
    }
    nj->st.dnsmasq = 1;
    /* Follow it: its exit while the job runs fails the DHCP phase. */
    if (pathf(shimdir, sizeof(shimdir), "%s/run/%s/shim", nj->dir, nj->st.def.name) == 0 &&
        (nj->shimfd = virShimConnect(shimdir)) >= 0 && VIR_ALLOC(in) &&
        virShimCall(nj->shimfd, VIR_SHIM_MSG_SUBSCRIBE, NULL, 0, NULL, 0, SHIM_START_MS,
                    NULL, NULL, in) == 0 && in->err == 0 &&
        !(in->hasStatus && in->status.child_state == VIR_SHIM_CHILD_EXITED)) {
        free(in);
        agentReply(nj, NET_AGENT_STARTED, status.child_pid, NULL);
        return;
    }
    free(in);
    /* The shim is already gone: dnsmasq ended (a set-up failure, a bad
     * option): its recorded end is the reason. */
    if (nj->shimfd >= 0)
        close(nj->shimfd);
    nj->shimfd = -1;
    virResetLastError();
    if (dnsmasqState(nj->dir, nj->st.def.name, &status) > 0 &&
        status.child_state == VIR_SHIM_CHILD_EXITED)
        agentReply(nj, NET_AGENT_EXITED, 0, status.message);
    else
        agentReply(nj, NET_AGENT_FAILED, 0, "cannot follow dnsmasq's shim");
    virResetLastError();
}

static void *agentMain(void *opaque)
{
    netJob *nj = opaque;
    virShimIncoming *in;

    nj->agentbuf = VIR_ALLOC(in);

    while (in) {
        struct pollfd pfd[3] = { { nj->agentfd, POLLIN, 0 }, { nj->stopfd[0], POLLIN, 0 },
                                 { nj->shimfd, POLLIN, 0 } };
        if (virPollNoIntr(pfd, 3, -1) < 0)
            break;
        if (pfd[1].revents)
            break;
        if (pfd[2].revents) {
            int rc = virShimRecv(nj->shimfd, 0, in);
            if (rc < 0 || (rc > 0 && in->hasStatus &&
                           in->status.child_state == VIR_SHIM_CHILD_EXITED)) {
                virShimStatus status;
                close(nj->shimfd);
                nj->shimfd = -1;
                virResetLastError();
                if (dnsmasqState(nj->dir, nj->st.def.name, &status) > 0)
                    agentReply(nj, NET_AGENT_EXITED, 0, status.message);
                else
                    agentReply(nj, NET_AGENT_EXITED, 0, "its shim went away");
                virResetLastError();
            }
        }
        if (pfd[0].revents) {
            netAgentMsg m;
            ssize_t n = recv(nj->agentfd, &m, sizeof(m), MSG_DONTWAIT);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
                break;
            if (n != (ssize_t)sizeof(m) || m.magic != NET_AGENT_MAGIC)
                continue;
            if (m.type == NET_AGENT_START && !nj->st.dnsmasq) {
                agentStart(nj);
            } else if (m.type == NET_AGENT_STOP) {
                if (nj->shimfd >= 0)
                    close(nj->shimfd);
                nj->shimfd = -1;
                dnsmasqStop(nj->dir, nj->st.def.name);
                nj->st.dnsmasq = 0;
                agentReply(nj, NET_AGENT_STOPPED, 0, NULL);
            }
        }
    }
    free(in);
    return NULL;
}

/* ---- a connection's network state ---------------------------------------- */

/* The network state of @conn (network:///system, qemu:///system), or NULL
 * with the refusal reported: a session connection runs no networks. */
static netConn *netConnOf(virConnectPtr conn)
{
    netConn *c = conn->networkPrivateData;

    if (!c)
        virReportError(VIR_ERR_OPERATION_DENIED,
                       "%s:///session cannot run virtual networks: a bridge, its addresses "
                       "and NAT rules need CAP_NET_ADMIN in the host's network namespace, "
                       "which a session does not have; use %s:///system as root",
                       conn->driver->name, conn->driver->name);
    return c;
}

/* ---- jobs ----------------------------------------------------------------- */

/* Is network @name active? Fills @st. When dnsmasq has died, it is
 * started again (its death noticed: counted in st->restarts). A state
 * file whose bridge is gone (a reboot, someone's `ip link del`) is
 * dropped. 1 active, 0 not, -1 error. Under the file lock. */
static int networkIsActiveName(const char *nd, const char *name, netStatus *st);

static void netJobFree(void *opaque)
{
    netJob *nj = opaque;

    if (!nj)
        return;
    if (nj->agentfd >= 0)
        close(nj->agentfd);
    for (int i = 0; i < 2; i++) {
        if (nj->stopfd[i] >= 0)
            close(nj->stopfd[i]);
    }
    if (nj->shimfd >= 0)
        close(nj->shimfd);
    if (nj->conn)
        virConnectRelease(nj->conn);
    free(nj);
}

static void agentFinish(netJob *nj);

/* The job context's release (virJobDestroy, or a job not created). */
static void netJobRelease(void *opaque)
{
    netJob *nj = opaque;
    virErrorPtr saved = virSaveLastError();

    if (nj)
        agentFinish(nj);
    netJobFree(nj);
    virRestoreLastError(&saved);
}

static netJob *netJobNew(virConnectPtr conn)
{
    netConn *c = netConnOf(conn);
    netJob *nj;

    if (!c || !VIR_ALLOC(nj))
        return NULL;
    nj->dir = c->dir;
    nj->agentfd = nj->shimfd = -1;
    nj->stopfd[0] = nj->stopfd[1] = -1;
    virConnectHold(conn);
    nj->conn = conn;
    return nj;
}

static void agentFinish(netJob *nj)
{
    if (!nj->agentRunning)
        return;
    (void)!write(nj->stopfd[1], "x", 1);
    pthread_join(nj->agent, NULL);
    nj->agentRunning = false;
}

/* Remove what a start of @st made, by its mark: dnsmasq, the table, the
 * bridge, the files. Used by destroy and after a start that did not
 * complete (its worker may have been killed before undoing). */
static void netUndo(const char *nd, const netStatus *st)
{
    virNetlinkSock *nl;

    dnsmasqStop(nd, st->def.name);
    (void)virNetlinkNftTableDeleteOwned(NFPROTO_IPV4, st->table, st->owner);
    if ((nl = virNetlinkOpen())) {
        (void)virNetlinkLinkDeleteOwned(nl, st->def.bridge, st->def.mac, st->owner);
        virNetlinkClose(nl);
    }
    runDirRemove(nd, st->def.name);
    virResetLastError();
}

static int netCommitStart(virJobPtr job, void *opaque, const void *result, size_t len)
{
    netJob *nj = opaque;
    const netStartResult *r = result;
    virNetworkPtr net;
    int lockfd, rc;

    if (len != sizeof(*r) || r->magic != NET_START_RESULT_MAGIC) {
        virReportError(VIR_ERR_INTERNAL_ERROR, "%s",
                       "the network's start worker returned a malformed result");
        return -1;
    }
    if (!(net = virGetNetwork(nj->conn, nj->st.def.name, nj->st.def.uuid))) {
        virReportOOMError();
        return -1;
    }
    /* dnsmasq is kept by its shim from now on: stop following it. */
    agentFinish(nj);
    if ((lockfd = fileLock(nj->dir)) < 0) {
        virNetworkFree(net);
        return -1;
    }
    rc = statusSave(nj->dir, &nj->st);
    fileUnlock(lockfd);
    if (rc < 0) {
        virNetworkFree(net);
        return -1;
    }
    /* The job takes this reference as its result. */
    return virDriverJobResultNetworkGive(job, net);
}

static void netDoneStart(virJobPtr job ATTRIBUTE_UNUSED, void *opaque, virJobState state,
                         const virError *error ATTRIBUTE_UNUSED)
{
    netJob *nj = opaque;

    agentFinish(nj);
    if (state != VIR_JOB_COMPLETE) {
        /* The worker undid what it made unless it was killed first; what
         * is left carries this start's mark. */
        virErrorPtr saved = virSaveLastError();
        netUndo(nj->dir, &nj->st);
        virRestoreLastError(&saved);
    }
    busyRelease(nj->busy);
    nj->busy = NULL;
}

/* Choose a free bridge name virbrN for @def: no link of that name, no
 * other stored definition using it. Under the file lock. */
static int bridgeChoose(const char *nd, netDef *def)
{
    virNetlinkSock *nl = virNetlinkOpen();
    char used[256] = { 0 };
    DIR *d;
    struct dirent *e;
    int ret = -1;

    if (!nl)
        return -1;
    if ((d = opendir(nd))) {
        while ((e = readdir(d))) {
            size_t n = strlen(e->d_name);
            netDef other;
            char name[NET_NAME_MAX];
            unsigned int k;
            if (n < 5 || n - 4 >= sizeof(name) || STRNEQ(e->d_name + n - 4, ".net"))
                continue;
            memcpy(name, e->d_name, n - 4);
            name[n - 4] = '\0';
            if (defLoad(nd, name, &other) > 0 && sscanf(other.bridge, "virbr%u", &k) == 1 &&
                k < sizeof(used))
                used[k] = 1;
            virResetLastError();
        }
        closedir(d);
    }
    for (unsigned int k = 0; k < sizeof(used); k++) {
        virNetlinkLink l;
        char name[NET_IFNAME_MAX];
        int rc;
        if (used[k])
            continue;
        snprintf(name, sizeof(name), "virbr%u", k);
        if ((rc = virNetlinkLinkGet(nl, name, &l)) < 0)
            goto cleanup;
        if (rc == 0) {
            memcpy(def->bridge, name, sizeof(name));
            ret = 0;
            goto cleanup;
        }
    }
    virReportError(VIR_ERR_OPERATION_FAILED, "network '%s': no free bridge name virbr0..virbr255",
                   def->name);
 cleanup:
    virNetlinkClose(nl);
    return ret;
}

/* Complete a definition from a worker: check it, choose what it left out. */
static int defComplete(const char *nd, netDef *def)
{
    const char *why = NULL;

    if (netDefCheck(def, false, &why) < 0) {
        virReportError(VIR_ERR_INTERNAL_ERROR,
                       "the network XML worker returned an invalid definition: %s", why);
        return -1;
    }
    if (!def->hasMac) {
        if (netMacGenerate(def->mac) < 0)
            return -1;
        def->hasMac = 1;
    }
    if (!def->bridge[0] && bridgeChoose(nd, def) < 0)
        return -1;
    if (netDefCheck(def, true, &why) < 0) {
        virReportError(VIR_ERR_INTERNAL_ERROR, "network definition: %s", why);
        return -1;
    }
    return 0;
}

/* Another network (stored or active) with @def's name and another UUID,
 * or @def's UUID and another name, or @def's bridge. Under the file lock. */
static int defConflict(const char *nd, const netDef *def)
{
    DIR *d;
    struct dirent *e;
    int ret = 0;

    if (!(d = opendir(nd)))
        return 0;
    while (ret == 0 && (e = readdir(d))) {
        size_t n = strlen(e->d_name);
        char name[NET_NAME_MAX];
        netDef other;
        if (n < 5 || n - 4 >= sizeof(name) || STRNEQ(e->d_name + n - 4, ".net"))
            continue;
        memcpy(name, e->d_name, n - 4);
        name[n - 4] = '\0';
        if (defLoad(nd, name, &other) <= 0) {
            virResetLastError();
            continue;
        }
        if (STREQ(other.name, def->name) && memcmp(other.uuid, def->uuid, 16) != 0) {
            char u[VIR_UUID_STRING_BUFLEN];
            virUUIDFormat(other.uuid, u);
            virReportError(VIR_ERR_OPERATION_FAILED,
                           "network '%s' already exists with uuid %s", def->name, u);
            ret = -1;
        } else if (STRNEQ(other.name, def->name) && memcmp(other.uuid, def->uuid, 16) == 0) {
            virReportError(VIR_ERR_OPERATION_FAILED,
                           "network '%s' already has the uuid of network '%s'", def->name,
                           other.name);
            ret = -1;
        } else if (STRNEQ(other.name, def->name) && STREQ(other.bridge, def->bridge)) {
            virReportError(VIR_ERR_OPERATION_FAILED,
                           "bridge name '%s' is already used by network '%s'", def->bridge,
                           other.name);
            ret = -1;
        }
    }
    closedir(d);
    return ret;
}

static int netCommitDefine(virJobPtr job, void *opaque, const void *result, size_t len)
{
    netJob *nj = opaque;
    netDef *def = NULL;
    char p[PATH_MAX];
    virNetworkPtr net = NULL;
    int lockfd = -1, ret = -1;

    if (len != sizeof(netDef)) {
        virReportError(VIR_ERR_INTERNAL_ERROR, "%s",
                       "the network XML worker returned a result of the wrong size");
        return -1;
    }
    if (!VIR_ALLOC(def))
        return -1;
    memcpy(def, result, sizeof(*def));
    if ((lockfd = fileLock(nj->dir)) < 0 || defComplete(nj->dir, def) < 0 ||
        defConflict(nj->dir, def) < 0)
        goto cleanup;
    if (!nj->define) {
        /* CreateXML: the definition to start. */
        nj->st.def = *def;
        ret = 0;
        goto cleanup;
    }
    if (!(net = virGetNetwork(nj->conn, def->name, def->uuid))) {
        virReportOOMError();
        goto cleanup;
    }
    if (pathf(p, sizeof(p), "%s/%s.net", nj->dir, def->name) < 0 ||
        fileWriteAtomic(p, def, sizeof(*def), 0600) < 0)
        goto cleanup;
    /* The job takes the reference as its result (dropped on failure). */
    ret = virDriverJobResultNetworkGive(job, net);
    net = NULL;
 cleanup:
    if (net)
        virNetworkFree(net);
    fileUnlock(lockfd);
    free(def);
    return ret;
}

/* The parse's worker reads the network XML: libxml2, nothing else. */
static const virSupProfile netParseProfile = {
    .name = "net.parse", .libs = VIR_SUP_LIB_XML,
};
static const virSupOp netParseOp = {
    .name = NET_OP_PARSE, .type = VIR_JOB_BOUNDED, .profile = &netParseProfile,
    .commit = netCommitDefine,
};
/* The start's worker: CAP_NET_ADMIN and netlink sockets (links,
 * addresses, routes, nftables), the agent's socket passed to it, and
 * libnftables for the firewall rules. */
const virSupProfile netStartProfile = {
    .name = "net.start", .caps = 1ULL << CAP_NET_ADMIN, .syscalls = VIR_SUP_SYSCALLS_NETLINK,
    .libs = VIR_SUP_LIB_NFTABLES,
};
static const virSupOp netStartOp = {
    .name = NET_OP_START, .type = VIR_JOB_BOUNDED, .profile = &netStartProfile,
    .commit = netCommitStart, .done = netDoneStart,
};

/* Create a job on @conn's group; @nj is the job's from then on (and freed
 * here when it could not be created). */
static virJobPtr netJobCreate(virConnectPtr conn, const virSupOp *op, const char *target,
                              const void *params, size_t len, const int *fds, size_t nfds,
                              netJob *nj)
{
    netConn *c = conn->networkPrivateData;
    virSupJobParams sp = { 0 };
    virSupGroup *group;
    virJobPtr job;

    pthread_mutex_lock(&c->lock);
    if ((group = c->group))
        c->creating++;
    pthread_mutex_unlock(&c->lock);
    if (!group) {
        virReportError(VIR_ERR_INVALID_CONN, "%s", "the connection is closing");
        job = NULL;
        goto failed;
    }
    sp.op = op;
    sp.target = target;
    sp.params = params;
    sp.paramslen = len;
    sp.fds = fds;
    sp.nfds = nfds;
    sp.opaque = nj;
    sp.opaque_free = netJobRelease;
    job = virSupJobCreate(group, &sp);
    pthread_mutex_lock(&c->lock);
    if (--c->creating == 0)
        pthread_cond_broadcast(&c->created);
    pthread_mutex_unlock(&c->lock);
 failed:
    if (!job) {
        /* Neither commit nor done will run: undo what a start prepared. */
        virErrorPtr saved = virSaveLastError();
        agentFinish(nj);
        if (nj->busy) {
            netUndo(nj->dir, &nj->st);
            busyRelease(nj->busy);
        }
        netJobFree(nj);
        virRestoreLastError(&saved);
    }
    return job;
}

/* Parse @xml in a worker and wait: define it (@define) or fill @def. */
static int netParse(virConnectPtr conn, const char *xml, bool define, virNetworkPtr *net,
                    netDef *def)
{
    size_t xmllen = xml ? strlen(xml) : 0;
    netParseParams *pp = NULL;
    netJob *nj;
    virJobPtr job;
    int rc;

    if (def)
        memset(def, 0, sizeof(*def));
    if (xmllen == 0 || xmllen > NET_XML_MAX) {
        virReportError(VIR_ERR_XML_ERROR, "network XML must be 1 to %d bytes", NET_XML_MAX);
        return -1;
    }
    if (!(nj = netJobNew(conn)))
        return -1;
    nj->define = define;
    if (!(pp = virAllocN(sizeof(*pp) + xmllen, 1))) {
        netJobFree(nj);
        return -1;
    }
    pp->magic = NET_PARSE_PARAMS_MAGIC;
    pp->version = 1;
    pp->xmllen = (uint32_t)xmllen;
    memcpy(pp + 1, xml, xmllen);
    job = netJobCreate(conn, &netParseOp, "network-xml", pp, sizeof(*pp) + xmllen, NULL, 0, nj);
    free(pp);
    if (!job)
        return -1;
    /* The definition is read before the job (and nj with it) goes; it
     * is set by the commit only. */
    if (!define && virJobWait(job, -1) == 0 && nj->st.def.magic == NET_DEF_MAGIC)
        *def = nj->st.def;
    rc = virDriverJobWaitResult(job, NULL, net);
    if (rc == 0 && !define && def->magic != NET_DEF_MAGIC) {
        virReportError(VIR_ERR_INTERNAL_ERROR, "%s", "the network XML job gave no definition");
        rc = -1;
    }
    return rc;
}

/* Start network @def (complete, checked): take its busy entry, prepare
 * dnsmasq, create the start job. */
static virJobPtr netStart(virConnectPtr conn, const netDef *def)
{
    netJob *nj = NULL;
    netStartParams *p = NULL;
    netStatus cur;
    int fds[2] = { -1, -1 }, pair[2] = { -1, -1 };
    size_t nfds = 0;
    uint64_t token;
    bool none = true;
    const char *fault;
    virJobPtr job = NULL;
    const char *nd;
    int lockfd = -1;

    if (!(nj = netJobNew(conn)) || !VIR_ALLOC(p))
        goto error;
    nd = nj->dir;
    nj->start = true;
    pthread_mutex_lock(&driverLock);
    nj->busy = busyTake(nd, def->name);
    pthread_mutex_unlock(&driverLock);
    if (!nj->busy)
        goto error;
    if ((lockfd = fileLock(nd)) < 0)
        goto error;
    if (networkIsActiveName(nd, def->name, &cur) != 0) {
        if (!virGetLastError())
            virReportError(VIR_ERR_OPERATION_INVALID, "network '%s' is already active",
                           def->name);
        goto error;
    }
    nj->st.magic = NET_STATUS_MAGIC;
    nj->st.version = 1;
    nj->st.def = *def;
    netTableName(def->name, nj->st.table, sizeof(nj->st.table));
    if (getrandom(&token, sizeof(token), 0) != (ssize_t)sizeof(token)) {
        virReportSystemError(errno, "%s", "cannot make the network's owner mark");
        goto error;
    }
    netOwnerFormat(def->name, token, nj->st.owner);
    runDirRemove(nd, def->name);
    if (dnsmasqPrepare(nd, def, &none) < 0)
        goto error;
    fileUnlock(lockfd);
    lockfd = -1;

    p->magic = NET_START_PARAMS_MAGIC;
    p->version = 1;
    p->agentRes = p->forwardRes = -1;
    if ((fault = secure_getenv("VIRTSUP_NETWORK_TEST_FAULT")) && *fault &&
        netFaultParse(fault, &p->faultPhase, &p->faultKind) < 0) {
        virReportError(VIR_ERR_INVALID_ARG, "VIRTSUP_NETWORK_TEST_FAULT='%s': expected PHASE:KIND",
                       fault);
        goto error;
    }
    if (p->faultPhase == NET_PHASE_DHCP && p->faultKind == NET_FAULT_ERROR) {
        /* The DHCP phase's fault is this side's: dnsmasq fails for real. */
        nj->badDnsmasq = true;
        p->faultPhase = p->faultKind = 0;
    }
    if (!none) {
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0 ||
            pipe2(nj->stopfd, O_CLOEXEC) < 0) {
            virReportSystemError(errno, "%s", "cannot make the dnsmasq agent's sockets");
            goto error;
        }
        nj->agentfd = pair[0];
        pair[0] = -1;
        p->agentRes = (int32_t)nfds;
        fds[nfds++] = pair[1];
        p->waitDHCP = def->hasDhcp && (def->nranges || def->nhosts);
        p->waitDNS = def->dnsEnable != NET_TRI_NO;
    }
    if (def->forward != NET_FORWARD_NONE) {
        int fd = open("/proc/sys/net/ipv4/ip_forward", O_WRONLY | O_CLOEXEC);
        if (fd < 0) {
            virReportSystemError(errno, "%s", "cannot open /proc/sys/net/ipv4/ip_forward");
            goto error;
        }
        p->forwardRes = (int32_t)nfds;
        fds[nfds++] = fd;
    }
    memcpy(p->table, nj->st.table, sizeof(p->table));
    memcpy(p->owner, nj->st.owner, sizeof(p->owner));
    p->def = *def;
    if (nj->agentfd >= 0) {
        if (pthread_create(&nj->agent, NULL, agentMain, nj) != 0) {
            virReportError(VIR_ERR_OPERATION_FAILED, "%s", "cannot start the dnsmasq agent");
            goto error;
        }
        nj->agentRunning = true;
    }
    {
        netBusy *busy = nj->busy;
        char name[NET_NAME_MAX];
        memcpy(name, def->name, sizeof(name));
        job = netJobCreate(conn, &netStartOp, name, p, sizeof(*p), fds, nfds, nj);
        nj = NULL;
        if (job) {
            pthread_mutex_lock(&driverLock);
            /* The job may have ended already: its entry is gone then. */
            for (netBusy *b = busyList; b; b = b->next) {
                if (b == busy)
                    b->job = job;
            }
            pthread_mutex_unlock(&driverLock);
        }
    }
    for (size_t i = 0; i < nfds; i++)
        close(fds[i]);
    free(p);
    return job;

 error:
    fileUnlock(lockfd);
    for (size_t i = 0; i < nfds; i++)
        close(fds[i]);
    if (pair[0] >= 0)
        close(pair[0]);
    if (pair[1] >= 0 && p && p->agentRes < 0)
        close(pair[1]);
    if (nj) {
        agentFinish(nj);
        if (nj->busy) {
            runDirRemove(nj->dir, def->name);
            busyRelease(nj->busy);
        }
        netJobFree(nj);
    }
    free(p);
    return NULL;
}

/* ---- liveness ---------------------------------------------------------------- */

static int networkIsActiveName(const char *nd, const char *name, netStatus *st)
{
    virNetlinkSock *nl;
    virNetlinkLink l;
    virShimStatus ss;
    char p[PATH_MAX];
    int rc;

    if ((rc = statusLoad(nd, name, st)) <= 0)
        return rc;
    if (!(nl = virNetlinkOpen()))
        return -1;
    rc = virNetlinkLinkGet(nl, st->def.bridge, &l);
    virNetlinkClose(nl);
    if (rc < 0)
        return -1;
    if (rc == 0 || STRNEQ(l.alias, st->owner)) {
        /* Its bridge is gone (or another's now): the rest goes too. */
        netUndo(nd, st);
        if (pathf(p, sizeof(p), "%s/run/%s.state", nd, name) == 0)
            (void)unlink(p);
        return 0;
    }
    if (st->dnsmasq && dnsmasqState(nd, name, &ss) > 0 && ss.child_state == VIR_SHIM_CHILD_EXITED) {
        /* Supervised: its death is noticed here, and it is started again. */
        if (dnsmasqSpawn(nd, &st->def, false, &ss) == 0) {
            st->restarts++;
            (void)statusSave(nd, st);
        }
        virResetLastError();
    }
    virResetLastError();
    return 1;
}

/* ---- dnsmasq's death, noticed at once ------------------------------------- */

static int netNames(const char *nd, char (**out)[NET_NAME_MAX], size_t *n);

/* dnsmasq of network @name ended (or its shim went away): under the file
 * lock, look at the network as every call does; a dead dnsmasq of a
 * network still active is started again and counted in its state. */
static void watchNoticed(netWatch *w, const char *name)
{
    netStatus st;
    int lockfd;
    size_t i, oldest = 0;
    struct timespec ts;
    long long now;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    now = ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
    for (i = 0; i < NET_WATCH_MAX && STRNEQ(w->limit[i].name, name); i++) {
        if (w->limit[i].since < w->limit[oldest].since)
            oldest = i;
    }
    if (i == NET_WATCH_MAX) {
        i = oldest;
        virStrcpyTrunc(w->limit[i].name, NET_NAME_MAX, name);
        w->limit[i].n = 0;
    }
    if (!w->limit[i].n || now - w->limit[i].since > 10000) {
        w->limit[i].since = now;
        w->limit[i].n = 0;
    }
    if (++w->limit[i].n > 5)
        return;
    if ((lockfd = fileLock(w->dir)) >= 0) {
        (void)networkIsActiveName(w->dir, name, &st);
        fileUnlock(lockfd);
    }
    virResetLastError();
}

static void watchDrop(netWatch *w)
{
    for (size_t i = 0; i < w->n; i++)
        close(w->fds[i]);
    w->n = 0;
}

/* Subscribe to the dnsmasq shim of every active network (what died
 * meanwhile is handled first). False if some could not be looked at (out
 * of memory, a file or shim unreadable for a moment): the caller scans
 * again a little later, rather than stay blind to those until the run
 * directory changes. */
static bool watchScan(netWatch *w)
{
    char (*names)[NET_NAME_MAX] = NULL;
    size_t n = 0;
    bool complete = true;

    watchDrop(w);
    if (netNames(w->dir, &names, &n) < 0) {
        virResetLastError();
        return false;
    }
    for (size_t i = 0; i < n && w->n < NET_WATCH_MAX; i++) {
        char dir[PATH_MAX];
        virShimStatus ss;
        netStatus st;
        int fd;

        int rc = statusLoad(w->dir, names[i], &st);
        if (rc < 0)
            complete = false;
        if (rc <= 0 || !st.dnsmasq ||
            pathf(dir, sizeof(dir), "%s/run/%s/shim", w->dir, names[i]) < 0)
            continue;
        if (dnsmasqState(w->dir, names[i], &ss) > 0 && ss.child_state == VIR_SHIM_CHILD_EXITED)
            watchNoticed(w, names[i]);
        if ((fd = virShimConnect(dir)) < 0) {
            complete = false;
            continue;
        }
        if (virShimCall(fd, VIR_SHIM_MSG_SUBSCRIBE, NULL, 0, NULL, 0, 5000, NULL, NULL,
                        w->in) < 0 ||
            (w->in->hasStatus && w->in->status.child_state == VIR_SHIM_CHILD_EXITED)) {
            close(fd);
            watchNoticed(w, names[i]);
            continue;
        }
        w->fds[w->n] = fd;
        memcpy(w->names[w->n++], names[i], NET_NAME_MAX);
    }
    free(names);
    virResetLastError();
    return complete;
}

/* After an incomplete scan, the next one this much later, doubled after
 * each further incomplete one up to the longest: a network whose state
 * stays unreadable does not keep an idle connection waking 4 times a
 * second. */
#define NET_WATCH_RETRY_MS     250
#define NET_WATCH_RETRY_MAX_MS 30000
/* Without inotify (none here, or past the user's limits), the watcher
 * looks at the run directory this often: what inotify would have told it
 * (a network started or destroyed by another process), at most this late. */
#define NET_WATCH_LOOK_MS      250

static _Atomic bool testNoInotify;

void networkTestNoInotify(bool off)
{
    atomic_store(&testNoInotify, off);
}

/* What DIR/run holds, as a number that changes whenever inotify would
 * have spoken (an entry created, removed or renamed over): each entry's
 * name, inode, size and change time, hashed (FNV-1a). A state file is
 * written into a new file and renamed over the old one, so even two
 * changes within one tick of the file system's clock give another inode. */
static uint64_t watchLook(const netWatch *w)
{
    char p[PATH_MAX];
    uint64_t h = 1469598103934665603ULL;
    struct dirent *de;
    struct stat sb;
    DIR *d;

    if (pathf(p, sizeof(p), "%s/run", w->dir) < 0 || !(d = opendir(p)))
        return 0;
    while ((de = readdir(d))) {
        if (fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
            continue;
        uint64_t v[5] = { (uint64_t)sb.st_ino, (uint64_t)sb.st_size,
                          (uint64_t)sb.st_ctim.tv_sec, (uint64_t)sb.st_ctim.tv_nsec,
                          (uint64_t)sb.st_mtim.tv_nsec };
        /* Order-independent: readdir's order may change with no change. */
        uint64_t e = 1469598103934665603ULL;
        for (const char *c = de->d_name; *c; c++)
            e = (e ^ (uint8_t)*c) * 1099511628211ULL;
        for (size_t i = 0; i < sizeof(v); i++)
            e = (e ^ ((const uint8_t *)v)[i]) * 1099511628211ULL;
        h += e;
    }
    closedir(d);
    return h;
}

static void *watchMain(void *opaque)
{
    netWatch *w = opaque;
    struct pollfd p[NET_WATCH_MAX + 2];
    bool rescan = true;
    int retryMs = 0;              /* 0: the last scan was complete */

    bool look = w->inotifyfd < 0;   /* set before this thread started */
    long long retryAt = 0, lookAt = virTimeMonoMs() + NET_WATCH_LOOK_MS;

    virErrorSetQuiet(true);
    for (;;) {
        if (rescan) {
            /* What it sees from here on: a change after this look is
             * looked at again. */
            if (look)
                w->seen = watchLook(w);
            retryMs = watchScan(w) ? 0 :
                      !retryMs ? NET_WATCH_RETRY_MS :
                      retryMs >= NET_WATCH_RETRY_MAX_MS / 2 ? NET_WATCH_RETRY_MAX_MS :
                      retryMs * 2;
            retryAt = retryMs ? virTimeMonoMs() + retryMs : 0;
        }
        rescan = false;
        p[0] = (struct pollfd){ w->stopfd, POLLIN, 0 };
        p[1] = (struct pollfd){ w->inotifyfd, POLLIN, 0 };
        for (size_t i = 0; i < w->n; i++)
            p[i + 2] = (struct pollfd){ w->fds[i], POLLIN, 0 };
        long long now = virTimeMonoMs(), wake = retryAt;
        if (look && (!wake || lookAt < wake))
            wake = lookAt;
        int np = virPollNoIntr(p, w->n + 2, !wake ? -1 : wake > now ? (int)(wake - now) : 0);
        if (np < 0)
            break;
        if (np == 0) {
            now = virTimeMonoMs();
            if (retryAt && now >= retryAt)
                rescan = true;
            if (look && now >= lookAt) {
                lookAt = now + NET_WATCH_LOOK_MS;
                if (watchLook(w) != w->seen)
                    rescan = true;
            }
            continue;
        }
        if (p[0].revents)
            break;
        if (p[1].revents) {
            char buf[4096];
            while (read(w->inotifyfd, buf, sizeof(buf)) > 0)
                ;
            rescan = true;
        }
        for (size_t i = 0; i < w->n; i++) {
            if (!p[i + 2].revents)
                continue;
            int r = virShimRecv(w->fds[i], 0, w->in);
            if (r < 0 || (r > 0 && w->in->type == VIR_SHIM_MSG_EVENT && w->in->hasStatus &&
                          w->in->status.child_state == VIR_SHIM_CHILD_EXITED)) {
                watchNoticed(w, w->names[i]);
                rescan = true;
            }
        }
        virResetLastError();
    }
    watchDrop(w);
    return NULL;
}

/* Start @w; a connection without it still notices at its next call. */
static int watchStart(netWatch *w)
{
    char p[PATH_MAX];

    w->stopfd = w->inotifyfd = -1;
    if (dirsMake(w->dir) < 0 || pathf(p, sizeof(p), "%s/run", w->dir) < 0)
        return -1;
    if (!VIR_ALLOC(w->in))
        return -1;
    if ((w->stopfd = eventfd(0, EFD_CLOEXEC)) < 0) {
        virReportSystemError(errno, "cannot watch the networks' run directory %s", p);
        goto error;
    }
    /* Without inotify (none here, or past the user's limits) the watcher
     * still follows each dnsmasq's shim, and looks at the run directory
     * every NET_WATCH_LOOK_MS instead (watchMain). */
    if (atomic_load(&testNoInotify) ||
        (w->inotifyfd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK)) < 0 ||
        inotify_add_watch(w->inotifyfd, p, IN_CREATE | IN_DELETE | IN_MOVED_TO |
                                              IN_MOVED_FROM) < 0)
        virForceClose(&w->inotifyfd);
    if (pthread_create(&w->thread, NULL, watchMain, w) != 0) {
        virReportError(VIR_ERR_INTERNAL_ERROR, "%s", "cannot start the dnsmasq watcher");
        goto error;
    }
    w->running = true;
    return 0;
 error:
    virForceClose(&w->stopfd);
    virForceClose(&w->inotifyfd);
    free(w->in);
    w->in = NULL;
    return -1;
}

static void watchStop(netWatch *w)
{
    if (w->running) {
        uint64_t one = 1;
        (void)!write(w->stopfd, &one, sizeof(one));
        pthread_join(w->thread, NULL);
        w->running = false;
    }
    virForceClose(&w->stopfd);
    virForceClose(&w->inotifyfd);
    free(w->in);
    w->in = NULL;
}

/* ---- the connection ------------------------------------------------------- */

int networkStateOpen(virConnectPtr conn, const char *dir, const virConnectConfig *cfg)
{
    netConn *c;
    static pthread_once_t forkOnce = PTHREAD_ONCE_INIT;

    pthread_once(&forkOnce, netForkInstall);
    if (!dir)
        dir = netDir();
    if (dir[0] != '/' || strlen(dir) >= sizeof(c->dir) - 64) {
        virReportError(VIR_ERR_INVALID_ARG, "invalid network directory '%s': expected an "
                       "absolute path of at most %zu characters", dir, sizeof(c->dir) - 65);
        return -1;
    }
    if (!VIR_ALLOC(c))
        return -1;
    virStrcpyTrunc(c->dir, sizeof(c->dir), dir);
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->created, NULL);
    if (!(c->group = virSupGroupNew(&cfg->group))) {
        pthread_cond_destroy(&c->created);
        pthread_mutex_destroy(&c->lock);
        free(c);
        return -1;
    }
    c->watch.dir = c->dir;
    conn->networkPrivateData = c;
    /* Without its watcher (no thread) the connection still notices a
     * dead dnsmasq at its next look at the network. */
    if (watchStart(&c->watch) < 0)
        virResetLastError();
    return 0;
}

void networkStateClose(virConnectPtr conn)
{
    netConn *c = conn->networkPrivateData;
    virSupGroup *group;

    if (!c)
        return;
    pthread_mutex_lock(&c->lock);
    group = c->group;
    c->group = NULL;
    while (c->creating)
        pthread_cond_wait(&c->created, &c->lock);
    pthread_mutex_unlock(&c->lock);
    watchStop(&c->watch);
    if (group)
        virSupGroupClose(group);
}

void networkStateFree(virConnectPtr conn)
{
    netConn *c = conn->networkPrivateData;

    if (!c)
        return;
    pthread_cond_destroy(&c->created);
    pthread_mutex_destroy(&c->lock);
    free(c);
    conn->networkPrivateData = NULL;
}

static int networkConnectOpen(virConnectPtr conn, const virURI *uri, const virConnectConfig *cfg)
{
    if (STREQ(uri->path, "/session")) {
        virReportError(VIR_ERR_OPERATION_DENIED, "%s",
                       "network:///session cannot run virtual networks: a bridge, its "
                       "addresses and NAT rules need CAP_NET_ADMIN in the host's network "
                       "namespace, which an unprivileged user does not have; use "
                       "network:///system as root");
        return -1;
    }
    if (STRNEQ(uri->path, "/system")) {
        virReportError(VIR_ERR_INVALID_ARG,
                       "invalid URI '%s': expected network:///system", conn->uri);
        return -1;
    }
    if (geteuid() != 0) {
        virReportError(VIR_ERR_OPERATION_DENIED, "%s",
                       "network:///system needs root (it creates bridges, addresses and "
                       "firewall tables)");
        return -1;
    }
    return networkStateOpen(conn, NULL, cfg);
}

static int networkConnectGetVersion(virConnectPtr conn ATTRIBUTE_UNUSED, unsigned long *hvVer)
{
    *hvVer = 0;
    return 0;
}

/* ---- the calls -------------------------------------------------------------- */

/* What is known of network @name: its stored definition and/or its live
 * state. 0 found, -1 (VIR_ERR_NO_NETWORK, or another error). */
typedef struct netFound {
    bool persistent, active;
    netDef def;                          /* the live one when active */
    netStatus st;
} netFound;

static int netFind(const char *nd, const char *name, netFound *f)
{
    int lockfd, rc;

    memset(f, 0, sizeof(*f));
    if ((lockfd = fileLock(nd)) < 0)
        return -1;
    rc = defLoad(nd, name, &f->def);
    if (rc >= 0) {
        f->persistent = rc > 0;
        rc = networkIsActiveName(nd, name, &f->st);
    }
    fileUnlock(lockfd);
    if (rc < 0)
        return -1;
    f->active = rc > 0;
    if (f->active)
        f->def = f->st.def;
    if (!f->persistent && !f->active) {
        virReportError(VIR_ERR_NO_NETWORK, "no network with matching name '%.64s'", name);
        return -1;
    }
    return 0;
}

/* Every network's name (stored or active), sorted, unique. */
static int netNames(const char *nd, char (**out)[NET_NAME_MAX], size_t *n)
{
    static const char *const subs[] = { "", "/run" };
    char (*names)[NET_NAME_MAX] = NULL;
    size_t count = 0, alloc = 0;

    for (size_t i = 0; i < 2; i++) {
        char p[PATH_MAX];
        const char *ext = i ? ".state" : ".net";
        size_t el = strlen(ext);
        DIR *d;
        struct dirent *e;
        if (pathf(p, sizeof(p), "%s%s", nd, subs[i]) < 0)
            goto error;
        if (!(d = opendir(p)))
            continue;
        while ((e = readdir(d))) {
            size_t len = strlen(e->d_name);
            const char *why;
            bool dup = false;
            if (len <= el || len - el >= NET_NAME_MAX || STRNEQ(e->d_name + len - el, ext))
                continue;
            if (count == alloc) {
                void *nn = virReallocN(names, (alloc = alloc ? alloc * 2 : 16), sizeof(*names));
                if (!nn) {
                    closedir(d);
                    goto error;
                }
                names = nn;
            }
            memcpy(names[count], e->d_name, len - el);
            names[count][len - el] = '\0';
            for (size_t k = 0; k < count; k++)
                dup = dup || STREQ(names[k], names[count]);
            if (!dup && netNameCheck(names[count], NET_NAME_MAX, &why) == 0)
                count++;
        }
        closedir(d);
    }
    if (count)
        qsort(names, count, sizeof(*names), (int (*)(const void *, const void *))strcmp);
    *out = names;
    *n = count;
    return 0;
 error:
    free(names);
    return -1;
}

int networkConnectListAllNetworks(virConnectPtr conn, virNetworkPtr **nets,
                                         unsigned int flags)
{
    const unsigned int known = VIR_OBJ_LIST_NETWORK_FLAGS;
    char (*names)[NET_NAME_MAX] = NULL;
    virNetworkPtr *list = NULL;
    size_t n = 0;
    int count = 0;
    netConn *c = netConnOf(conn);

    if (!c)
        return -1;
    if (flags & ~known) {
        virReportError(VIR_ERR_INVALID_ARG, "unsupported flags (0x%x) in function %s",
                       flags & ~known, __func__);
        return -1;
    }
    if (netNames(c->dir, &names, &n) < 0)
        return -1;
    if (nets && !(list = virAllocN(n + 1, sizeof(*list)))) {
        free(names);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        netFound f;
        if (netFind(c->dir, names[i], &f) < 0) {
            /* Gone since its name was read, or a damaged record: not
             * listed. Anything else (no memory, a lock or netlink socket
             * refused) would make the answer wrong: the listing fails. */
            const virError *e = virGetLastError();
            if (!e || e->code == VIR_ERR_NO_NETWORK || e->code == VIR_ERR_INTERNAL_ERROR) {
                virResetLastError();
                continue;
            }
            for (int k = 0; k < count && list; k++)
                virNetworkFree(list[k]);
            free(list);
            free(names);
            return -1;
        }
        if (!virObjListMatchNetwork(flags, f.active, f.persistent))
            continue;
        if (list && !(list[count] = virGetNetwork(conn, f.def.name, f.def.uuid))) {
            virReportOOMError();
            for (int k = 0; k < count; k++)
                virNetworkFree(list[k]);
            free(list);
            free(names);
            return -1;
        }
        count++;
    }
    free(names);
    if (nets)
        *nets = list;
    return count;
}

virNetworkPtr networkLookupByName(virConnectPtr conn, const char *name)
{
    netConn *c = netConnOf(conn);
    netFound f;
    virNetworkPtr net;

    if (!c || netFind(c->dir, name, &f) < 0)
        return NULL;
    if (!(net = virGetNetwork(conn, f.def.name, f.def.uuid)))
        virReportOOMError();
    return net;
}

/* @net's record, checking that it still is the same network (same UUID). */
static int netFindHandle(virNetworkPtr net, netFound *f)
{
    netConn *c = netConnOf(net->conn);

    if (!c || netFind(c->dir, net->name, f) < 0)
        return -1;
    if (memcmp(f->def.uuid, net->uuid, VIR_UUID_BUFLEN) != 0) {
        virReportError(VIR_ERR_NO_NETWORK, "no network '%s' (it was undefined)", net->name);
        return -1;
    }
    return 0;
}

int networkIsActive(virNetworkPtr net)
{
    netFound f;

    if (netFindHandle(net, &f) < 0)
        return -1;
    return f.active ? 1 : 0;
}

char *networkGetXMLDesc(virNetworkPtr net, unsigned int flags)
{
    netConn *c = netConnOf(net->conn);
    netFound f;

    if (flags & ~(unsigned int)VIR_NETWORK_XML_INACTIVE) {
        virReportError(VIR_ERR_INVALID_ARG, "unsupported flags (0x%x) in function %s",
                       flags & ~(unsigned int)VIR_NETWORK_XML_INACTIVE, __func__);
        return NULL;
    }
    if (!c || netFindHandle(net, &f) < 0)
        return NULL;
    if ((flags & VIR_NETWORK_XML_INACTIVE) && f.persistent && f.active &&
        defLoad(c->dir, f.def.name, &f.def) < 0)
        return NULL;
    return netDefFormat(&f.def, 0);
}

virNetworkPtr networkDefineXML(virConnectPtr conn, const char *xml)
{
    virNetworkPtr net = NULL;

    if (netParse(conn, xml, true, &net, NULL) < 0)
        return NULL;
    return net;
}

int networkUndefine(virNetworkPtr net)
{
    netConn *c = netConnOf(net->conn);
    const char *nd = c ? c->dir : NULL;
    netFound f;
    char p[PATH_MAX];
    int lockfd, ret = -1;

    if (!c || netFindHandle(net, &f) < 0)
        return -1;
    if (!f.persistent) {
        virReportError(VIR_ERR_OPERATION_INVALID, "network '%s' is not persistent", net->name);
        return -1;
    }
    if ((lockfd = fileLock(nd)) < 0)
        return -1;
    /* An active network stays, as a transient one, until destroyed. */
    if (pathf(p, sizeof(p), "%s/%s.net", nd, net->name) == 0) {
        if (unlink(p) < 0 && errno != ENOENT)
            virReportSystemError(errno, "cannot remove '%s'", p);
        else
            ret = 0;
    }
    fileUnlock(lockfd);
    return ret;
}

int networkDestroy(virNetworkPtr net)
{
    netConn *c = netConnOf(net->conn);
    const char *nd = c ? c->dir : NULL;
    netFound f;
    netBusy *b;
    char p[PATH_MAX];
    int lockfd, rc;

    if (!c)
        return -1;
    pthread_mutex_lock(&driverLock);
    if ((b = busyFind(nd, net->name))) {
        busyError(b);
        pthread_mutex_unlock(&driverLock);
        return -1;
    }
    pthread_mutex_unlock(&driverLock);
    if (netFindHandle(net, &f) < 0)
        return -1;
    if (!f.active) {
        virReportError(VIR_ERR_OPERATION_INVALID, "network '%s' is not active", net->name);
        return -1;
    }
    if ((lockfd = fileLock(nd)) < 0)
        return -1;
    if ((rc = statusLoad(nd, net->name, &f.st)) > 0) {
        /* Its guests' taps leave the bridge with it (the kernel releases
         * the ports of a deleted bridge). */
        netUndo(nd, &f.st);
        if (pathf(p, sizeof(p), "%s/run/%s.state", nd, net->name) == 0 && unlink(p) < 0 &&
            errno != ENOENT) {
            virReportSystemError(errno, "cannot remove '%s'", p);
            rc = -1;
        }
    } else if (rc == 0) {
        virReportError(VIR_ERR_OPERATION_INVALID, "network '%s' is not active", net->name);
        rc = -1;
    }
    fileUnlock(lockfd);
    return rc > 0 ? 0 : -1;
}

virJobPtr networkCreateXMLJob(virConnectPtr conn, const char *xml)
{
    netDef *def;
    virJobPtr job = NULL;

    if (!VIR_ALLOC(def))
        return NULL;
    if (netParse(conn, xml, false, NULL, def) == 0)
        job = netStart(conn, def);
    free(def);
    return job;
}

virJobPtr networkCreateJob(virNetworkPtr net)
{
    netFound f;

    if (netFindHandle(net, &f) < 0)
        return NULL;
    if (f.active) {
        virReportError(VIR_ERR_OPERATION_INVALID, "network '%s' is already active", net->name);
        return NULL;
    }
    return netStart(net->conn, &f.def);
}

const virConnectDriver networkConnectDriver = {
    .name = "network",
    .typeName = "NETWORK",
    .connectGetVersion = networkConnectGetVersion,
    .connectOpen = networkConnectOpen,
    .connectClose = networkStateClose,
    .connectFree = networkStateFree,
    NETWORK_DRIVER_SLOTS,
};

int networkActiveBridge(virConnectPtr conn, const char *netname, char *bridge)
{
    netConn *c = netConnOf(conn);
    netFound f;

    if (!c || netFind(c->dir, netname, &f) < 0)
        return -1;
    if (!f.active) {
        virReportError(VIR_ERR_OPERATION_INVALID, "network '%s' is not active", netname);
        return -1;
    }
    memcpy(bridge, f.def.bridge, NET_IFNAME_MAX);
    return 0;
}
