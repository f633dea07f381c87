/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virshim.c: the client side of virtsup-shim (see virshim.h).
 */
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>

#include "util/internal.h"
#include "util/viralloc.h"
#include "util/virpoll.h"
#include "util/virprocess.h"
#include "util/virshim.h"

#define VIR_FROM_THIS VIR_FROM_NONE
#include "util/virerror.h"

#ifndef VIRTSUP_LIBEXECDIR
# define VIRTSUP_LIBEXECDIR "/usr/local/libexec"
#endif

struct virShimSpecBuf {
    virShimSpecHeader hdr;
    uint8_t *entries;
    size_t len, cap;
    int fds[VIR_SHIM_CHILD_FDS_MAX];
    size_t nfds;
    bool failed;              /* an appender failed: refuse to spawn */
};

virShimSpecBuf *virShimSpecNew(const char *name)
{
    virShimSpecBuf *b;

    if (!VIR_ALLOC(b))
        return NULL;
    b->hdr.magic = VIR_SHIM_SPEC_MAGIC;
    b->hdr.version = VIR_SHIM_PROTO_VERSION;
    b->hdr.flags = VIR_SHIM_SPEC_PDEATHSIG;
    virStrcpyTrunc(b->hdr.name, sizeof(b->hdr.name), name);
    return b;
}

void virShimSpecFree(virShimSpecBuf *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->nfds; i++)
        virForceClose(&b->fds[i]);
    free(b->entries);
    free(b);
}

void virShimSpecSetFlags(virShimSpecBuf *b, uint32_t flags)
{
    b->hdr.flags = flags;
}

void virShimSpecSetIds(virShimSpecBuf *b, uint32_t uid, uint32_t gid)
{
    b->hdr.flags |= VIR_SHIM_SPEC_SET_IDS;
    b->hdr.uid = uid;
    b->hdr.gid = gid;
}

void virShimSpecSetCaps(virShimSpecBuf *b, uint64_t caps)
{
    b->hdr.caps = caps;
}

void virShimSpecSetQMP(virShimSpecBuf *b, int childfd, uint32_t timeout_ms)
{
    b->hdr.flags |= VIR_SHIM_SPEC_QMP;
    b->hdr.qmp_fd = childfd;
    b->hdr.qmp_timeout_ms = timeout_ms;
}

void virShimSpecSetTermTimeout(virShimSpecBuf *b, uint32_t timeout_ms)
{
    b->hdr.term_timeout_ms = timeout_ms;
}

void virShimSpecSetCrashRunstates(virShimSpecBuf *b, const char *list)
{
    virStrcpyTrunc(b->hdr.crash_runstates, sizeof(b->hdr.crash_runstates), list);
}

void virShimSpecSetLogMax(virShimSpecBuf *b, uint32_t bytes)
{
    b->hdr.log_max = bytes;
}

static int addEntry(virShimSpecBuf *b, uint32_t type, int32_t arg,
                    const void *a, size_t alen, const void *c, size_t clen)
{
    size_t need = sizeof(virShimSpecEntry) + ((alen + clen + 7) & ~(size_t)7);
    virShimSpecEntry e = { type, (uint32_t)(alen + clen), arg, 0 };

    if (b->failed)
        return -1;
    if (b->len + need + sizeof(virShimSpecHeader) > VIR_SHIM_SPEC_MAX) {
        virReportError(VIR_ERR_INTERNAL_ERROR, "the start-up spec of %s is too large",
                       b->hdr.name);
        b->failed = true;
        return -1;
    }
    if (b->len + need > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 4096;
        while (cap < b->len + need)
            cap *= 2;
        uint8_t *p = virReallocN(b->entries, cap, 1);
        if (!p) {
            b->failed = true;
            return -1;
        }
        b->entries = p;
        b->cap = cap;
    }
    memset(b->entries + b->len, 0, need);
    memcpy(b->entries + b->len, &e, sizeof(e));
    if (alen)
        memcpy(b->entries + b->len + sizeof(e), a, alen);
    if (clen)
        memcpy(b->entries + b->len + sizeof(e) + alen, c, clen);
    b->len += need;
    b->hdr.nentries++;
    return 0;
}

int virShimSpecAddArg(virShimSpecBuf *b, const char *arg)
{
    return addEntry(b, VIR_SHIM_ENTRY_ARG, 0, arg, strlen(arg) + 1, NULL, 0);
}

int virShimSpecAddArgf(virShimSpecBuf *b, const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;
    int rc;

    va_start(ap, fmt);
    rc = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (rc < 0) {
        virReportOOMError();
        b->failed = true;
        return -1;
    }
    rc = virShimSpecAddArg(b, s);
    free(s);
    return rc;
}

int virShimSpecAddEnv(virShimSpecBuf *b, const char *nameValue)
{
    return addEntry(b, VIR_SHIM_ENTRY_ENV, 0, nameValue, strlen(nameValue) + 1, NULL, 0);
}

int virShimSpecAddFD(virShimSpecBuf *b, int fd, int childfd)
{
    int dup;

    if (b->failed)
        return -1;
    if (b->nfds == VIR_SHIM_CHILD_FDS_MAX) {
        virReportError(VIR_ERR_INTERNAL_ERROR, "%s would get more than %d descriptors",
                       b->hdr.name, VIR_SHIM_CHILD_FDS_MAX);
        b->failed = true;
        return -1;
    }
    if ((dup = fcntl(fd, F_DUPFD_CLOEXEC, 3)) < 0) {
        virReportSystemError(errno, "%s", "cannot duplicate a descriptor");
        b->failed = true;
        return -1;
    }
    if (addEntry(b, VIR_SHIM_ENTRY_FD, childfd, NULL, 0, NULL, 0) < 0) {
        close(dup);
        return -1;
    }
    b->fds[b->nfds++] = dup;
    return 0;
}

int virShimSpecAddMount(virShimSpecBuf *b, int kind, const char *source, const char *target)
{
    const char *src = source ? source : "";
    return addEntry(b, VIR_SHIM_ENTRY_MOUNT, kind, src, strlen(src) + 1,
                    target, strlen(target) + 1);
}

const char *virShimPath(void)
{
    const char *p = secure_getenv("VIRTSUP_SHIM");
    return p && *p ? p : VIRTSUP_LIBEXECDIR "/virtsup-shim";
}

/* ---- start ---- */

extern char **environ;

int virShimSpawn(const char *statedir, int logfd, const virShimSpecBuf *b,
                 int *clients, size_t nclients, int timeout_ms, virShimStatus *status)
{
    const char *shim = virShimPath();
    int fds[3 + VIR_SHIM_CHILD_FDS_MAX + VIR_SHIM_CLIENTS_MAX];
    int theirs[VIR_SHIM_CLIENTS_MAX] = { -1, -1, -1, -1 };
    int sv[2] = { -1, -1 }, spec = -1, null = -1, ret = -1;
    char *argv[] = { (char *)"virtsup-shim", (char *)statedir, NULL };
    char *envp[8];
    size_t nenv = 0;
    virShimHello hello;
    virShimSpecHeader hdr = b->hdr;
    const char *why;

    if (b->failed) {
        virReportError(VIR_ERR_INTERNAL_ERROR, "the start-up spec of %s is incomplete",
                       b->hdr.name);
        return -1;
    }
    if (access(shim, X_OK) < 0) {
        virReportSystemError(errno, "cannot run the shim program %s", shim);
        return -1;
    }
    if (nclients > VIR_SHIM_CLIENTS_MAX) {
        virReportError(VIR_ERR_INTERNAL_ERROR, "at most %d pre-connected clients",
                       VIR_SHIM_CLIENTS_MAX);
        return -1;
    }
    for (size_t i = 0; i < nclients; i++)
        clients[i] = -1;
    for (size_t i = 0; i < nclients; i++) {
        int pair[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0) {
            virReportSystemError(errno, "%s", "cannot create a connection to the shim");
            goto cleanup;
        }
        clients[i] = pair[0];
        theirs[i] = pair[1];
    }
    hdr.nclients = (uint32_t)nclients;
    hdr.size = (uint32_t)(sizeof(hdr) + b->len);
    if ((spec = memfd_create("virtsup-shim-spec", MFD_CLOEXEC | MFD_ALLOW_SEALING)) < 0 ||
        write(spec, &hdr, sizeof(hdr)) != (ssize_t)sizeof(hdr) ||
        (b->len && write(spec, b->entries, b->len) != (ssize_t)b->len) ||
        fcntl(spec, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0) {
        virReportSystemError(errno, "%s", "cannot write the shim's start-up spec");
        goto cleanup;
    }
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
        virReportSystemError(errno, "%s", "cannot create the shim's report socket");
        goto cleanup;
    }
    if (logfd < 0 && (null = open("/dev/null", O_WRONLY | O_CLOEXEC)) < 0) {
        virReportSystemError(errno, "%s", "cannot open /dev/null");
        goto cleanup;
    }
    fds[0] = spec;
    fds[1] = sv[1];
    fds[2] = logfd >= 0 ? logfd : null;
    for (size_t i = 0; i < b->nfds; i++)
        fds[3 + i] = b->fds[i];
    for (size_t i = 0; i < nclients; i++)
        fds[3 + b->nfds + i] = theirs[i];
    /* A fixed PATH and the sanitizers' options: the application's
     * environment stays out of a root process. */
    envp[nenv++] = (char *)"PATH=/usr/sbin:/usr/bin:/sbin:/bin";
    for (char **e = environ; e && *e && nenv + 1 < ARRAY_CARDINALITY(envp); e++)
        if (!strncmp(*e, "ASAN_OPTIONS=", 13) || !strncmp(*e, "UBSAN_OPTIONS=", 14) ||
            !strncmp(*e, "LSAN_OPTIONS=", 13))
            envp[nenv++] = *e;
    envp[nenv] = NULL;
    if (virProcessSpawnDetached(shim, argv, envp, fds, 3 + b->nfds + nclients) < 0)
        goto cleanup;
    virForceClose(&sv[1]);

    struct pollfd pfd = { .fd = sv[0], .events = POLLIN };
    if (virPollNoIntr(&pfd, 1, timeout_ms) <= 0) {
        virReportError(VIR_ERR_OPERATION_TIMEOUT, "the shim %s did not start within %d ms",
                       shim, timeout_ms);
        goto cleanup;
    }
    memset(&hello, 0, sizeof(hello));
    ssize_t n = recv(sv[0], &hello, sizeof(hello), 0);
    if (n == 0) {
        virReportError(VIR_ERR_INTERNAL_ERROR, "the shim %s exited at once (cannot be "
                       "executed, or killed)", shim);
        goto cleanup;
    }
    if (n != (ssize_t)sizeof(hello) || hello.magic != VIR_SHIM_STATUS_MAGIC ||
        hello.version != VIR_SHIM_PROTO_VERSION) {
        virReportError(VIR_ERR_INTERNAL_ERROR, "the program %s did not answer as a "
                       "libvirtsup shim (wrong version installed?)", shim);
        goto cleanup;
    }
    hello.message[sizeof(hello.message) - 1] = '\0';
    if (hello.err) {
        virReportSystemError(hello.err, "the shim could not start %s: %s", b->hdr.name,
                             hello.message);
        goto cleanup;
    }
    if (virShimStatusCheck(&hello.status, &why) < 0) {
        virReportError(VIR_ERR_INTERNAL_ERROR, "the shim reported an invalid status: %s", why);
        goto cleanup;
    }
    *status = hello.status;
    ret = 0;

 cleanup:
    for (size_t i = 0; i < nclients; i++) {
        virForceClose(&theirs[i]);
        if (ret < 0)
            virForceClose(&clients[i]);
    }
    virForceClose(&spec);
    virForceClose(&sv[0]);
    virForceClose(&sv[1]);
    virForceClose(&null);
    return ret;
}

/* ---- talking ---- */

int virShimConnect(const char *statedir)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int dirfd = -1, fd = -1, err;
    int n = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", statedir, VIR_SHIM_SOCKET_NAME);

    if (n < 0 || (size_t)n >= sizeof(sa.sun_path)) {
        /* Too long for a socket address: through a descriptor of the
         * directory instead. */
        if ((dirfd = open(statedir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
            err = errno;
            virReportSystemError(err, "cannot open the state directory %s", statedir);
            errno = err;
            return -1;
        }
        snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/%s", dirfd,
                 VIR_SHIM_SOCKET_NAME);
    }
    if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) < 0 ||
        connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        err = errno;
        virReportSystemError(err, "cannot connect to the shim in %s", statedir);
        virForceClose(&fd);
        virForceClose(&dirfd);
        errno = err;
        return -1;
    }
    virForceClose(&dirfd);
    return fd;
}

int virShimStatusCheck(const virShimStatus *st, const char **why)
{
    if (st->magic != VIR_SHIM_STATUS_MAGIC || st->version != VIR_SHIM_PROTO_VERSION ||
        st->size != sizeof(*st)) {
        *why = "bad magic, version or size";
        return -1;
    }
    if (!memchr(st->runstate, '\0', sizeof(st->runstate)) ||
        !memchr(st->shutdown_reason, '\0', sizeof(st->shutdown_reason)) ||
        !memchr(st->name, '\0', sizeof(st->name)) ||
        !memchr(st->message, '\0', sizeof(st->message))) {
        *why = "a string is not terminated";
        return -1;
    }
    for (const char *p = st->message; *p; p++) {
        if (*p < 0x20 || *p >= 0x7f) {
            *why = "the message is not printable";
            return -1;
        }
    }
    if (st->child_state > VIR_SHIM_CHILD_EXITED || st->exit_reason > VIR_SHIM_EXIT_MONITOR ||
        st->qmp_state > VIR_SHIM_QMP_BROKEN || st->shim_pid < 0 || st->child_pid < 0) {
        *why = "a field is out of range";
        return -1;
    }
    return 0;
}

static int waitFor(int fd, short events, int timeout_ms, uint64_t deadline)
{
    struct pollfd pfd = { .fd = fd, .events = events };
    int t = timeout_ms;

    if (timeout_ms >= 0) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        uint64_t now = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
        t = now >= deadline ? 0 : (int)(deadline - now);
    }
    return virPollNoIntr(&pfd, 1, t);
}

static uint64_t deadlineOf(int timeout_ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000 +
           (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
}

static int recvUntil(int fd, int timeout_ms, uint64_t deadline, virShimIncoming *in)
{
    virShimMsgHeader h;
    const char *why = NULL;
    int r = waitFor(fd, POLLIN, timeout_ms, deadline);
    ssize_t n;

    if (r < 0) {
        virReportSystemError(errno, "%s", "cannot wait for the shim");
        return -1;
    }
    if (r == 0)
        return 0;
    do {
        n = recv(fd, in->buf, VIR_SHIM_MSG_MAX, MSG_DONTWAIT | MSG_TRUNC);
    } while (n < 0 && errno == EINTR);
    if (n < 0 && errno == EAGAIN)
        return 0;
    if (n <= 0) {
        virReportError(VIR_ERR_OPERATION_FAILED, "%s", "the shim closed the connection "
                       "(the process it owned has ended)");
        errno = ECONNRESET;
        return -1;
    }
    if ((size_t)n > VIR_SHIM_MSG_MAX || (size_t)n < sizeof(h)) {
        why = "bad size";
        goto bad;
    }
    memcpy(&h, in->buf, sizeof(h));
    if (h.version != VIR_SHIM_PROTO_VERSION || h.len != (size_t)n - sizeof(h)) {
        why = "bad version or length";
        goto bad;
    }
    in->type = h.type;
    in->id = h.id;
    in->err = 0;
    in->message[0] = in->name[0] = '\0';
    in->kind = 0;
    in->hasStatus = false;
    in->data = "";
    in->datalen = 0;
    const char *p = in->buf + sizeof(h);
    size_t left = h.len;
    if (h.type == VIR_SHIM_MSG_REPLY) {
        virShimReply rep;
        if (left < sizeof(rep)) {
            why = "short reply";
            goto bad;
        }
        memcpy(&rep, p, sizeof(rep));
        p += sizeof(rep);
        left -= sizeof(rep);
        in->err = rep.err;
        rep.message[sizeof(rep.message) - 1] = '\0';
        virStrcpyTrunc(in->message, sizeof(in->message), rep.message);
        if (rep.flags & VIR_SHIM_REPLY_STATUS) {
            if (left != sizeof(virShimStatus)) {
                why = "bad status size";
                goto bad;
            }
            memcpy(&in->status, p, sizeof(in->status));
            in->hasStatus = true;
            left = 0;
        }
    } else if (h.type == VIR_SHIM_MSG_EVENT) {
        virShimEvent ev;
        if (left < sizeof(ev) + sizeof(virShimStatus)) {
            why = "short event";
            goto bad;
        }
        memcpy(&ev, p, sizeof(ev));
        p += sizeof(ev);
        left -= sizeof(ev);
        in->kind = ev.kind;
        ev.name[sizeof(ev.name) - 1] = '\0';
        virStrcpyTrunc(in->name, sizeof(in->name), ev.name);
        memcpy(&in->status, p, sizeof(in->status));
        in->hasStatus = true;
        p += sizeof(virShimStatus);
        left -= sizeof(virShimStatus);
    } else {
        why = "unknown record type";
        goto bad;
    }
    if (in->hasStatus && virShimStatusCheck(&in->status, &why) < 0)
        goto bad;
    for (const char *s = in->message; *s; s++)
        if (*s < 0x20 || *s >= 0x7f)
            in->message[s - in->message] = '?';
    /* Flat data: printable ASCII lines. */
    for (size_t i = 0; i < left; i++) {
        if ((p[i] < 0x20 && p[i] != '\n') || p[i] >= 0x7f) {
            why = "data that is not flat text";
            goto bad;
        }
    }
    ((char *)p)[left] = '\0';   /* buf has one byte more than a record */
    in->data = p;
    in->datalen = left;
    return 1;

 bad:
    virReportError(VIR_ERR_INTERNAL_ERROR, "the shim sent a malformed record: %s", why);
    errno = EPROTO;
    return -1;
}

int virShimRecv(int fd, int timeout_ms, virShimIncoming *in)
{
    return recvUntil(fd, timeout_ms, deadlineOf(timeout_ms), in);
}

static uint64_t nextRequestId(void)
{
    static _Atomic uint64_t next = 1;
    return next++;
}

static int sendRequest(int fd, uint32_t type, const void *payload, size_t len,
                       const int *fds, size_t nfds, int timeout_ms, uint64_t deadline,
                       uint64_t *id)
{
    virShimMsgHeader h = { type, VIR_SHIM_PROTO_VERSION, nextRequestId(), (uint32_t)len, 0 };
    struct iovec iov[2] = { { &h, sizeof(h) }, { (void *)payload, len } };
    struct msghdr m = { .msg_iov = iov, .msg_iovlen = 2 };
    char cbuf[CMSG_SPACE(sizeof(int) * VIR_SHIM_FDS_MAX)];
    ssize_t n;

    if (nfds > VIR_SHIM_FDS_MAX || sizeof(h) + len > VIR_SHIM_MSG_MAX) {
        virReportError(VIR_ERR_INTERNAL_ERROR, "%s", "a request to the shim is too large");
        return -1;
    }
    if (nfds) {
        memset(cbuf, 0, sizeof(cbuf));
        m.msg_control = cbuf;
        m.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
        struct cmsghdr *c = CMSG_FIRSTHDR(&m);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
    }
    for (;;) {
        n = sendmsg(fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n >= 0)
            break;
        if (errno == EINTR)
            continue;
        if (errno == ETOOMANYREFS && nfds) {
            /* Not the shim: the kernel counts the descriptors in flight
             * in UNIX sockets per user, and refuses one more to a sender
             * without CAP_SYS_RESOURCE once that count passes its own
             * descriptor limit (a job's worker: 256 by default). */
            struct rlimit rl = { 0 };
            (void)getrlimit(RLIMIT_NOFILE, &rl);
            virReportError(VIR_ERR_SYSTEM_ERROR, "cannot pass a descriptor to the shim: the "
                           "kernel counts more descriptors in flight in UNIX sockets for "
                           "this user than this process's limit of open files (%llu) allows "
                           "(ETOOMANYREFS); some process of the same user holds descriptors "
                           "sent to it unread", (unsigned long long)rl.rlim_cur);
            return -1;
        }
        if (errno != EAGAIN) {
            virReportSystemError(errno, "%s", "cannot send a request to the shim "
                                 "(the process it owned may have ended)");
            return -1;
        }
        int r = waitFor(fd, POLLOUT, timeout_ms, deadline);
        if (r == 0) {
            virReportError(VIR_ERR_OPERATION_TIMEOUT, "the shim did not take a request "
                           "within %d ms", timeout_ms);
            return -1;
        }
        if (r < 0) {
            virReportSystemError(errno, "%s", "cannot wait for the shim");
            return -1;
        }
    }
    *id = h.id;
    return 0;
}

int virShimCall(int fd, uint32_t type, const void *payload, size_t len,
                const int *fds, size_t nfds, int timeout_ms,
                virShimEventFunc onEvent, void *opaque, virShimIncoming *in)
{
    uint64_t deadline = deadlineOf(timeout_ms);
    uint64_t id;

    if (sendRequest(fd, type, payload, len, fds, nfds, timeout_ms, deadline, &id) < 0)
        return -1;
    for (;;) {
        int r = recvUntil(fd, timeout_ms, deadline, in);
        if (r < 0)
            return -1;
        if (r == 0) {
            virReportError(VIR_ERR_OPERATION_TIMEOUT, "the shim did not answer within %d ms",
                           timeout_ms);
            return -1;
        }
        if (in->type == VIR_SHIM_MSG_EVENT) {
            if (onEvent)
                onEvent(in, opaque);
            continue;
        }
        if (in->id == id)
            return 0;
        /* A late reply to an earlier request that timed out: dropped. */
    }
}

/* The payload of a QMP request (caller frees), or NULL reported. */
static char *qmpPayload(const char *command, const char *args, int timeout_ms, size_t *len)
{
    size_t alen = args ? strlen(args) : 0;
    char *payload;
    virShimQMPRequest q;

    memset(&q, 0, sizeof(q));
    q.timeout_ms = timeout_ms > 0 ? (uint32_t)timeout_ms : 0;
    if (strlen(command) >= sizeof(q.command) ||
        sizeof(q) + alen > VIR_SHIM_MSG_MAX - sizeof(virShimMsgHeader)) {
        virReportError(VIR_ERR_INTERNAL_ERROR, "the monitor command '%.64s' is too large",
                       command);
        return NULL;
    }
    virStrcpyTrunc(q.command, sizeof(q.command), command);
    if (!(payload = virAllocN(sizeof(q) + alen + 1, 1)))
        return NULL;
    memcpy(payload, &q, sizeof(q));
    if (alen)
        memcpy(payload + sizeof(q), args, alen);
    *len = sizeof(q) + alen;
    return payload;
}

int virShimQMPSend(int fd, const char *command, const char *args, int timeout_ms, uint64_t *id)
{
    size_t len;
    VIR_AUTOFREE(char *) payload = qmpPayload(command, args, timeout_ms, &len);

    if (!payload)
        return -1;
    return sendRequest(fd, VIR_SHIM_MSG_QMP, payload, len, NULL, 0, timeout_ms + 1000,
                       deadlineOf(timeout_ms + 1000), id);
}

int virShimQMP(int fd, const char *command, const char *args, const int *fds, size_t nfds,
               int timeout_ms, virShimEventFunc onEvent, void *opaque, virShimIncoming *in)
{
    size_t len;
    VIR_AUTOFREE(char *) payload = qmpPayload(command, args, timeout_ms, &len);

    if (!payload)
        return -1;
    /* The shim has its own deadline for the monitor; ours covers the shim
     * itself, with a little more. */
    if (virShimCall(fd, VIR_SHIM_MSG_QMP, payload, len, fds, nfds,
                    timeout_ms + 1000, onEvent, opaque, in) < 0)
        return -1;
    return virShimQMPResult(in, command, timeout_ms);
}

int virShimQMPResult(const virShimIncoming *in, const char *command, int timeout_ms)
{
    switch (in->err) {
    case 0:
        return 0;
    case EREMOTEIO:
        virReportError(VIR_ERR_OPERATION_FAILED, "QEMU refused '%s': %s", command, in->message);
        return -1;
    case ETIMEDOUT:
        virReportError(VIR_ERR_OPERATION_TIMEOUT, "QEMU's monitor did not answer '%s' "
                       "within %d ms", command, timeout_ms);
        return -1;
    case ESRCH:
        virReportError(VIR_ERR_OPERATION_INVALID, "cannot send '%s': QEMU has exited", command);
        return -1;
    default:
        virReportError(VIR_ERR_OPERATION_FAILED, "cannot send '%s' to QEMU: %s", command,
                       in->message);
        return -1;
    }
}

int virShimStateRead(const char *statedir, virShimStatus *st)
{
    char path[4096];
    const char *why;
    virShimStatus again;
    int fd, err = 0;
    ssize_t n = -1;
    bool steady = false;

    snprintf(path, sizeof(path), "%s/%s", statedir, VIR_SHIM_STATE_NAME);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
        err = errno;
        virReportSystemError(err, "cannot read the shim's state %s", path);
        errno = err;
        return -1;
    }
    /* The shim writes a change into its spare file in place and then
     * trades it with "state" (shim/main.c, writeState): a reader that
     * opened "state" just before two changes could read while the
     * second is written into the very file it holds. Two reads that
     * agree were not torn. */
    for (int tries = 0; tries < 16 && !steady; tries++) {
        if ((n = pread(fd, st, sizeof(*st), 0)) != (ssize_t)sizeof(*st)) {
            err = errno;
            break;
        }
        steady = pread(fd, &again, sizeof(again), 0) == (ssize_t)sizeof(again) &&
                 memcmp(st, &again, sizeof(again)) == 0;
    }
    close(fd);
    if (n != (ssize_t)sizeof(*st)) {
        virReportError(VIR_ERR_INTERNAL_ERROR, "the shim's state %s is truncated", path);
        errno = n < 0 ? err : EPROTO;
        return -1;
    }
    if (!steady) {
        virReportError(VIR_ERR_INTERNAL_ERROR, "the shim's state %s kept changing while it "
                       "was read", path);
        errno = EAGAIN;
        return -1;
    }
    if (virShimStatusCheck(st, &why) < 0) {
        virReportError(VIR_ERR_INTERNAL_ERROR, "the shim's state %s is invalid: %s", path, why);
        errno = EPROTO;
        return -1;
    }
    return 0;
}

bool virShimOwnerAlive(const virShimStatus *st)
{
    return virProcessAlive(st->shim_pid, st->shim_start);
}

bool virShimChildAlive(const virShimStatus *st)
{
    return st->child_state != VIR_SHIM_CHILD_EXITED &&
           virProcessAlive(st->child_pid, st->child_start);
}
