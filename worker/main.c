/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * main.c: virtsup-worker. Started once per supervisor as the spawn helper
 * ("zygote"): a freshly exec'd, single-threaded process that never held the
 * client's memory. For each job it forks a worker, which sets up its
 * sandbox and runs the op's worker function. It reports each worker's exit
 * status to the supervisor, kills a job's process group on request, and
 * kills everything when the supervisor goes away (its socket closes).
 *
 * Contract (fds, messages, exit codes): src/util/workerproto.h, docs/WORKER.md.
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#define VIR_FROM_THIS VIR_FROM_JOB
#include "util/virerror.h"
#include "util/virprocess.h"
#include "worker/sandbox.h"
#include "worker/worker-priv.h"

#define MAX_WORKERS 4096
#define MAX_KEPT    1024
/* Ready workers per helper at most (VIR_HELPER_ENV_POOL). */
#define MAX_READY   4

typedef struct {
    uint64_t job_id;
    pid_t pid;        /* 0: free entry */
    bool job;         /* it runs job @job_id (else: ready, or killed unused) */
    int readysock;    /* a ready worker: our end of the socket it waits on; -1 */
    uint64_t readyseq; /* a ready worker: the order it was forked in */
    bool advertised;  /* a ready worker the supervisor holds (READY): it, not
                       * we, hands it its job; TOOK in readysock says which */
    int detachfd;     /* our end of its detach socket; -1 none */
    int nssock;       /* our end of its namespace socket, then (nsHeld) the
                       * namespace it lent us; -1 none */
    bool nsHeld;
} workerEntry;

static workerEntry workers[MAX_WORKERS];
/* Processes workers handed us to keep (virWorkerJobDetach): session
 * leaders spared by the sweep, with their sessions, until they exit. */
static pid_t kept[MAX_KEPT];
static int sockfd = VIR_HELPER_FD_SOCKET;
static int epfd = -1;
/* This helper's sandbox: the profile every worker it forks gets. */
static virProtoSandbox sandbox;

static workerEntry *findByJob(uint64_t id)
{
    for (size_t i = 0; i < MAX_WORKERS; i++)
        if (workers[i].pid && workers[i].job && workers[i].job_id == id)
            return &workers[i];
    return NULL;
}

static workerEntry *findByPid(pid_t pid)
{
    for (size_t i = 0; i < MAX_WORKERS; i++)
        if (workers[i].pid == pid)
            return &workers[i];
    return NULL;
}

static workerEntry *findByNsSock(int fd)
{
    for (size_t i = 0; i < MAX_WORKERS; i++)
        if (workers[i].pid && !workers[i].nsHeld && workers[i].nssock == fd)
            return &workers[i];
    return NULL;
}

static workerEntry *findByDetachFD(int fd)
{
    for (size_t i = 0; i < MAX_WORKERS; i++)
        if (workers[i].pid && workers[i].job && workers[i].detachfd == fd)
            return &workers[i];
    return NULL;
}

static bool isKept(pid_t pid)
{
    for (size_t i = 0; pid > 0 && i < MAX_KEPT; i++)
        if (kept[i] == pid)
            return true;
    return false;
}

static void sendMsg(const void *buf, size_t len)
{
    ssize_t n;
    do {
        n = send(sockfd, buf, len, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    /* A lost supervisor is noticed on the next read (EOF). */
}

/* One record on @sock with @nfds descriptors (SCM_RIGHTS, at most
 * 3 + VIR_PROTO_RESOURCES_MAX), EINTR retried. The bytes sent, or -1. */
static ssize_t sendWithFDs(int sock, const void *buf, size_t len, const int *fds,
                           size_t nfds, int flags)
{
    struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
    union { char buf[CMSG_SPACE(sizeof(int) * (3 + VIR_PROTO_RESOURCES_MAX))];
            struct cmsghdr align; } ctl;
    struct msghdr mh;
    memset(&mh, 0, sizeof(mh));
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    if (nfds) {
        memset(&ctl, 0, sizeof(ctl));
        mh.msg_control = ctl.buf;
        mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
    }
    ssize_t n;
    do {
        n = sendmsg(sock, &mh, MSG_NOSIGNAL | flags);
    } while (n < 0 && errno == EINTR);
    return n;
}

/* One record from @sock into @buf, its descriptors (close-on-exec; any
 * beyond @max closed) into @fds. The bytes read (0 at EOF, -1 with errno),
 * *@trunc set if the kernel cut descriptors off. */
static ssize_t recvWithFDs(int sock, void *buf, size_t len, int *fds, size_t max,
                           size_t *nfds, bool *trunc, int flags)
{
    char cbuf[CMSG_SPACE(sizeof(int) * (3 + VIR_PROTO_RESOURCES_MAX))];
    struct iovec iov = { buf, len };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
                          .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
    ssize_t r = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | flags);
    *nfds = 0;
    *trunc = r >= 0 && (msg.msg_flags & MSG_CTRUNC);
    for (struct cmsghdr *c = r >= 0 ? CMSG_FIRSTHDR(&msg) : NULL; c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t j = 0; j < k; j++) {
            int fd;
            memcpy(&fd, CMSG_DATA(c) + j * sizeof(int), sizeof(int));
            if (*nfds < max)
                fds[(*nfds)++] = fd;
            else
                close(fd);
        }
    }
    return r;
}

/* sendMsg with one descriptor passed along (SCM_RIGHTS), or none if
 * @fd < 0. */
static void sendMsgFD(const void *buf, size_t len, int fd)
{
    (void)sendWithFDs(sockfd, buf, len, &fd, fd >= 0 ? 1 : 0, 0);
}

static void resetSignals(void)
{
    struct sigaction sa;
    sigset_t all;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_DFL;
    for (int s = 1; s < NSIG; s++)
        sigaction(s, &sa, NULL); /* fails harmlessly for KILL, STOP, 32, 33 */
    sigemptyset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
}

static void onTerm(int signo)
{
    (void)signo;
    virWorkerTermFlag = 1;
}

/* ---- in the worker, after fork ---- */

/* Hand the helper a reference to our mount namespace (and with it our
 * proc instance) on @nssock, then close it. The helper drops it only
 * after it has reported our exit, so that the namespace's teardown (the
 * proc instance, an RCU grace period) is not part of our exit, which
 * cancel and crash detection wait for. Best effort: without it, the
 * teardown is ours, as before. */
static void workerLendNamespace(int nssock)
{
    int ns = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
    if (ns >= 0) {
        char cbuf[CMSG_SPACE(sizeof(int))];
        memset(cbuf, 0, sizeof(cbuf));
        struct iovec iov = { (void *)"n", 1 };
        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
                              .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &ns, sizeof(int));
        (void)sendmsg(nssock, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
        close(ns);
    }
    close(nssock);
}

/* Signals, process group, parent-death signal: the first steps of every
 * worker, ready or forked for its job. Fails by _exit (@ctlfd: where to
 * say why, -1 if nowhere yet). */
static void workerBasics(int ctlfd, pid_t helper)
{
    resetSignals();
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = onTerm;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGTERM, &sa, NULL);

    /* Our own process group, so cancel reaches whatever we spawn, and a
     * terminal's Ctrl-C does not reach us. The helper does it too (race). */
    if (setpgid(0, 0) < 0 && errno != EACCES)
        virWorkerSandboxFail(ctlfd, "setpgid", errno);
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
        virWorkerSandboxFail(ctlfd, "PR_SET_PDEATHSIG", errno);
    if (getppid() != helper)
        _exit(VIR_WORKER_EXIT_SETUP); /* the helper died before we armed it */
}

/* Check SPAWN record @req (@len bytes as received, with the @nin
 * descriptors @in), as both the helper and a ready worker must, and lay
 * its descriptors out in @out as [control, segment, params memfd or -1,
 * resources...]. *@inl: the parameters when they came inside the record
 * (VIR_PROTO_PARAMS_INLINE_MAX), else NULL. Returns how many were laid
 * out (3 + resources), or -1 for a record that breaks the protocol. */
static int spawnPlace(const virProtoSpawn *req, size_t len, const int *in, size_t nin,
                      int *out, const void **inl)
{
    bool named = true;
    *inl = NULL;
    if (len < sizeof(*req))
        return -1;
    for (size_t i = 0; i < VIR_PROTO_RESOURCES_MAX; i++)
        named = named && memchr(req->fdnames[i], '\0', sizeof(req->fdnames[i]));
    if (req->hdr.type != VIR_PROTO_SPAWN || req->hdr.version != VIR_PROTO_VERSION ||
        req->nresources > VIR_PROTO_RESOURCES_MAX ||
        req->op[VIR_PROTO_OP_MAX - 1] != '\0' || !named)
        return -1;
    bool inlined = req->params_len <= VIR_PROTO_PARAMS_INLINE_MAX;
    size_t nres = req->nresources;
    if (nin != (inlined ? 2 : 3) + nres ||
        len != sizeof(*req) + (inlined ? (size_t)req->params_len : 0))
        return -1;
    out[0] = in[0];
    out[1] = in[1];
    out[2] = inlined ? -1 : in[2];
    memcpy(out + 3, in + (inlined ? 2 : 3), nres * sizeof(int));
    if (inlined && req->params_len)
        *inl = (const char *)req + sizeof(*req);
    return 3 + (int)nres;
}

/* The job's part of a worker: its descriptors in place, its status page
 * and parameters, the sandbox (all of it, or for a ready worker, which
 * entered the rest before its job arrived, @ready, only the job's limits
 * and the page's seal: the page is then mapped over @ready, the address
 * the worker's filter already names), then the op. */
static void workerMain(const virProtoSpawn *req, const int *fds, size_t nfds,
                       const void *inl, int detachfd, int nssock, pid_t helper,
                       void *ready) __attribute__((noreturn));
static void workerMain(const virProtoSpawn *req, const int *fds, size_t nfds,
                       const void *inl, int detachfd, int nssock, pid_t helper,
                       void *ready)
{
    /* Move what we were given out of the way, then into place: control at
     * 3, resources at 4 .. 3 + nres (= nfds), the detach socket (if any)
     * at nfds + 1. The segment and params fds are used, then closed (no
     * params fd, -1, when they came inside the request: @inl). Out
     * of the way means above those, not some fixed number: under a hard
     * fd limit of 64 or less, the process may have no descriptor that
     * high. */
    int hi[3 + VIR_PROTO_RESOURCES_MAX];
    for (size_t i = 0; i < nfds; i++) {
        hi[i] = -1;
        if (fds[i] >= 0 && (hi[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, (int)nfds + 2)) < 0)
            virWorkerSandboxFail(fds[0], "cannot move the job's descriptors into place",
                                 errno);
    }
    if (detachfd >= 0 && (detachfd = fcntl(detachfd, F_DUPFD_CLOEXEC, (int)nfds + 2)) < 0)
        virWorkerSandboxFail(fds[0], "cannot move the detach socket out of the way", errno);
    /* Optional: under a tight descriptor limit, no loan (closed below). */
    if (nssock >= 0)
        nssock = fcntl(nssock, F_DUPFD_CLOEXEC, (int)nfds + 2);
    if (dup2(hi[0], VIR_WORKER_FD_CONTROL) < 0)
        _exit(VIR_WORKER_EXIT_SETUP);
    int ctlfd = VIR_WORKER_FD_CONTROL;
    for (size_t i = 3; i < nfds; i++)
        if (dup2(hi[i], VIR_WORKER_FD_RESOURCE_FIRST + (int)(i - 3)) < 0)
            virWorkerSandboxFail(ctlfd, "cannot place resource descriptor", errno);
    /* A profile that lets processes outlive the job: the detach socket
     * right after the resources. */
    int first_free = VIR_WORKER_FD_RESOURCE_FIRST + (int)req->nresources;
    if (detachfd >= 0) {
        if (dup2(detachfd, first_free) < 0)
            virWorkerSandboxFail(ctlfd, "cannot place the detach socket", errno);
        detachfd = first_free++;
    }

    if (!ready)
        workerBasics(ctlfd, helper);

    /* Map our own progress page, and nothing else of the segment. */
    void *page = mmap(ready, VIR_SHM_PAGE_SIZE, PROT_READ | PROT_WRITE,
                      MAP_SHARED | (ready ? MAP_FIXED : 0), hi[1],
                      (off_t)req->progress_offset);
    if (page == MAP_FAILED)
        virWorkerSandboxFail(ctlfd, "cannot map the job's status page", errno);

    /* The parameters, copied out of the request or their sealed memfd
     * (a buffer of their exact size, as the op was given before). */
    size_t plen = (size_t)req->params_len;
    void *params = NULL;
    if (plen) {
        params = malloc(plen);
        if (!params)
            virWorkerSandboxFail(ctlfd, "parameters", ENOMEM);
        size_t off = inl ? plen : 0;
        if (inl)
            memcpy(params, inl, plen);
        while (off < plen) {
            ssize_t n = pread(hi[2], (char *)params + off, plen - off, (off_t)off);
            if (n <= 0)
                virWorkerSandboxFail(ctlfd, "cannot read job parameters", n < 0 ? errno : EIO);
            off += (size_t)n;
        }
    }

    /* Close everything but control and resources (and, until the sandbox
     * is entered, the namespace socket, which was moved above them): the
     * segment, the helper's socket and epoll, the received copies. */
    if (nssock > first_free &&
        close_range((unsigned int)first_free, (unsigned int)nssock - 1, 0) < 0)
        virWorkerSandboxFail(ctlfd, "close_range", errno);
    if (close_range((unsigned int)(nssock >= first_free ? nssock + 1 : first_free), ~0U, 0) < 0)
        virWorkerSandboxFail(ctlfd, "close_range", errno);
    for (int fd = 0; fd < 3; fd++) {
        /* stdin/stdout/stderr: /dev/null would need a path; closing is
         * what "nothing but the documented set" means. */
        close(fd);
    }

    /* Limits, ids, no_new_privs, capabilities, the filesystem view and
     * the seccomp filter: worker/sandbox.c. */
    if (ready)
        virWorkerSandboxEnterJob(req, ctlfd, page, VIR_SHM_PAGE_SIZE);
    else
        virWorkerSandboxEnter(&sandbox, req, ctlfd, page, VIR_SHM_PAGE_SIZE);
    /* Before any job code: the op sees only control and resources. */
    if (nssock >= 0)
        workerLendNamespace(nssock);

    const virWorkerOp *op = virWorkerOpLookup(req->op);
    if (!op) {
        virWorkerReportEarly(ctlfd, VIR_ERR_NO_SUPPORT,
                             "this virtsup-worker has no operation '%s'", req->op);
        _exit(VIR_WORKER_EXIT_UNKNOWN_OP);
    }

    struct _virWorkerJob job;
    virWorkerJobInit(&job, page, req->job_id, VIR_JOB_BOUNDED, ctlfd,
                     req->nresources);
    virWorkerJobInitProfile(&job, req->fdnames, detachfd);
    op->run(&job, params, plen);
    _exit(virWorkerJobExitCode(&job));
}

/* Where a ready worker keeps what it waits with, out of the way of the
 * descriptors a job brings (they arrive at the lowest free numbers, at
 * most 3 + VIR_PROTO_RESOURCES_MAX of them, and are placed at 3 ..
 * 4 + VIR_PROTO_RESOURCES_MAX). */
#define READY_FD_MIN (3 + VIR_PROTO_RESOURCES_MAX + 3)

/* A ready worker: forked before any job asked for it, it enters every
 * part of the sandbox that does not depend on the job, then waits on
 * @sock for exactly one SPAWN request (with its descriptors) and runs
 * that job as a worker forked for it would. It holds nothing of any job
 * while it waits: only @sock, its detach socket (@detachfd, detach
 * profiles) and a reserved page where the job's status page will be
 * mapped. Never returns. */
static void readyMain(int sock, int detachfd, int nssock, pid_t helper)
    __attribute__((noreturn));
static void readyMain(int sock, int detachfd, int nssock, pid_t helper)
{
    workerBasics(-1, helper);
    if ((sock = fcntl(sock, F_DUPFD_CLOEXEC, READY_FD_MIN)) < 0 ||
        (detachfd >= 0 && (detachfd = fcntl(detachfd, F_DUPFD_CLOEXEC, READY_FD_MIN)) < 0))
        _exit(VIR_WORKER_EXIT_SETUP);
    if (nssock >= 0)
        nssock = fcntl(nssock, F_DUPFD_CLOEXEC, READY_FD_MIN);
    /* Nothing of the helper's: its socket, epoll, other workers' sockets. */
    int keep[3] = { sock, detachfd, nssock };
    for (int fd = 0; fd < 1024 * 1024; ) {
        int next = -1;
        for (size_t i = 0; i < 3; i++)
            if (keep[i] >= fd && (next < 0 || keep[i] < next))
                next = keep[i];
        if (next < 0) {
            (void)close_range((unsigned int)fd, ~0U, 0);
            break;
        }
        if (next > fd && close_range((unsigned int)fd, (unsigned int)next - 1, 0) < 0)
            _exit(VIR_WORKER_EXIT_SETUP);
        fd = next + 1;
    }
    void *page = mmap(NULL, VIR_SHM_PAGE_SIZE, PROT_NONE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED)
        _exit(VIR_WORKER_EXIT_SETUP);
    virWorkerSandboxEnterReady(&sandbox, page);
    if (nssock >= 0)
        workerLendNamespace(nssock);

    union {
        virProtoSpawn spawn;
        char raw[VIR_PROTO_MSG_MAX];
    } buf;
    int fds[3 + VIR_PROTO_RESOURCES_MAX];
    size_t nfds = 0;
    bool trunc = false;
    ssize_t r;
    do {
        r = recvWithFDs(sock, &buf, sizeof(buf), fds, ARRAY_CARDINALITY(fds), &nfds,
                        &trunc, 0);
    } while (r < 0 && errno == EINTR);
    /* EOF: we were let go unused (or the helper is gone). */
    if (r <= 0)
        _exit(0);
    /* From the helper, or straight from the supervisor (advertised): the
     * checks the helper makes of the requests it forks for. */
    int placed[3 + VIR_PROTO_RESOURCES_MAX];
    const void *inl;
    int nplaced = trunc ? -1 : spawnPlace(&buf.spawn, (size_t)r, fds, nfds, placed, &inl);
    if (nplaced < 0)
        _exit(VIR_WORKER_EXIT_PROTOCOL);
    /* Which job we took, left for the helper to read when it needs to
     * (it does not wait for it), before any of the job's code runs: the
     * socket is closed before that code could write to it. */
    virProtoTook took;
    memset(&took, 0, sizeof(took));
    took.hdr.type = VIR_PROTO_TOOK;
    took.hdr.version = VIR_PROTO_VERSION;
    took.job_id = buf.spawn.job_id;
    (void)send(sock, &took, sizeof(took), MSG_NOSIGNAL | MSG_DONTWAIT);
    close(sock);
    workerMain(&buf.spawn, placed, (size_t)nplaced, inl, detachfd, -1, helper, page);
}

/* ---- in the helper ---- */

static void watchNsSock(workerEntry *w);

/* How many ready workers this helper keeps (VIR_HELPER_ENV_POOL), and
 * whether keeping them failed (a ready worker could not enter its
 * sandbox: jobs then get workers forked for them, which report why). */
static unsigned int poolSize = 2;
static bool poolBroken;
static uint64_t readySeq;
/* Ready workers that ended while waiting (killed, crashed) since one last
 * took a job: past READY_LOST_MAX, no more are forked. */
#define READY_LOST_MAX 8
static unsigned int readyLost;
/* The helper's own limits, which its workers inherit: a request that
 * would raise one needs a worker that still holds CAP_SYS_RESOURCE. */
static struct rlimit helperLimits[4];
static const int limitRes[4] = { RLIMIT_AS, RLIMIT_CPU, RLIMIT_NOFILE, RLIMIT_FSIZE };

/* Whether advertised ready worker @w has taken a job: the TOOK record it
 * left in our end of its socket, read now (never waited for). */
static void readyTaken(workerEntry *w)
{
    if (!w->pid || !w->advertised || w->job || w->readysock < 0)
        return;
    virProtoTook t;
    ssize_t n;
    do {
        n = recv(w->readysock, &t, sizeof(t), MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    if (n != (ssize_t)sizeof(t) || t.hdr.type != VIR_PROTO_TOOK ||
        t.hdr.version != VIR_PROTO_VERSION || !t.job_id)
        return;
    w->job = true;
    w->job_id = t.job_id;
    readyLost = 0;
    close(w->readysock);
    w->readysock = -1;
}

static size_t readyCount(void)
{
    size_t n = 0;
    for (size_t i = 0; i < MAX_WORKERS; i++) {
        readyTaken(&workers[i]);
        if (workers[i].pid && workers[i].readysock >= 0)
            n++;
    }
    return n;
}

/* Hand ready worker @w to the supervisor (READY): its socket and pidfd,
 * and our hard limits. From then on only the supervisor sends it a job.
 * Not sent (the supervisor is gone, or no memory): it stays ours, for the
 * requests we are sent (poolTake). */
static void readyAdvertise(workerEntry *w)
{
    virProtoReady r;
    memset(&r, 0, sizeof(r));
    r.hdr.type = VIR_PROTO_READY;
    r.hdr.version = VIR_PROTO_VERSION;
    r.pid = w->pid;
    for (size_t i = 0; i < ARRAY_CARDINALITY(r.hard_limit); i++)
        r.hard_limit[i] = helperLimits[i].rlim_max == RLIM_INFINITY ? UINT64_MAX :
                          (uint64_t)helperLimits[i].rlim_max;
    /* Not reaped before we report its end, so the pid is still its own. */
    int fds[2] = { w->readysock, (int)syscall(SYS_pidfd_open, w->pid, 0) };
    ssize_t n = sendWithFDs(sockfd, &r, sizeof(r), fds, fds[1] >= 0 ? 2 : 1, 0);
    if (fds[1] >= 0)
        close(fds[1]);
    if (n != (ssize_t)sizeof(r))
        return;
    w->advertised = true;
    /* Its detach requests, once it runs the job we will not see it take. */
    if (w->detachfd >= 0) {
        struct epoll_event ev = { .events = EPOLLIN, .data.fd = w->detachfd };
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, w->detachfd, &ev) < 0) {
            close(w->detachfd);
            w->detachfd = -1;
        }
    }
}

/* Fork ready workers until there are poolSize of them. Failures are
 * quiet: a job without a ready worker gets one forked for it. */
static void poolRefill(void)
{
    while (!poolBroken && readyCount() < poolSize) {
        workerEntry *slot = findByPid(0);
        int rv[2] = { -1, -1 }, dv[2] = { -1, -1 }, nv[2] = { -1, -1 };
        if (!slot || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, rv) < 0)
            return;
        if (sandbox.detach &&
            socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, dv) < 0) {
            close(rv[0]);
            close(rv[1]);
            return;
        }
        if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, nv) < 0)
            nv[0] = nv[1] = -1;
        pid_t helper = getpid();
        pid_t pid = fork();
        if (pid == 0)
            readyMain(rv[1], dv[1], nv[1], helper);
        close(rv[1]);
        if (dv[1] >= 0)
            close(dv[1]);
        if (nv[1] >= 0)
            close(nv[1]);
        if (pid < 0) {
            close(rv[0]);
            if (dv[0] >= 0)
                close(dv[0]);
            if (nv[0] >= 0)
                close(nv[0]);
            return;
        }
        (void)setpgid(pid, pid);
        memset(slot, 0, sizeof(*slot));
        slot->pid = pid;
        slot->readysock = rv[0];
        slot->readyseq = ++readySeq;
        slot->detachfd = dv[0];
        slot->nssock = nv[0];
        watchNsSock(slot);
        readyAdvertise(slot);
    }
}

/* Whether @req may go to a ready worker: one that has dropped its
 * capabilities cannot change its ids or raise a limit. */
static bool poolFits(const virProtoSpawn *req)
{
    const uint64_t want[4] = { req->rlimit_as, req->rlimit_cpu, req->rlimit_nofile,
                               req->rlimit_fsize };
    if (req->set_ids)
        return false;
    for (size_t i = 0; i < 4; i++)
        if (want[i] && helperLimits[i].rlim_max != RLIM_INFINITY &&
            want[i] > helperLimits[i].rlim_max)
            return false;
    return true;
}

/* Hand @req to a ready worker: its entry, now the job's, or NULL (none
 * ready, or the one we tried is gone: it is killed and reaped unused). */
static workerEntry *poolTake(const virProtoSpawn *req, size_t len, const int *fds,
                             size_t nfds)
{
    if (!poolFits(req))
        return NULL;
    for (;;) {
        /* The one that waited longest: the most likely to be through its
         * set-up. */
        workerEntry *w = NULL;
        for (size_t i = 0; i < MAX_WORKERS; i++)
            if (workers[i].pid && workers[i].readysock >= 0 && !workers[i].advertised &&
                (!w || workers[i].readyseq < w->readyseq))
                w = &workers[i];
        if (!w)
            return NULL;
        ssize_t n = sendWithFDs(w->readysock, req, len, fds, nfds, MSG_DONTWAIT);
        /* It has what it needs; it closes its end, we close ours. */
        close(w->readysock);
        w->readysock = -1;
        if (n != (ssize_t)len) {
            /* Gone or stuck: it never gets a job. */
            (void)kill(-w->pid, SIGKILL);
            (void)kill(w->pid, SIGKILL);
            continue;
        }
        w->job = true;
        w->job_id = req->job_id;
        readyLost = 0;
        return w;
    }
}


/* SPAWN @req, @len bytes as received (the record, and its parameters
 * when they came inside it), with its @nfds descriptors @fds (closed by
 * the caller). */
static void handleSpawn(const virProtoSpawn *req, size_t len, int *fds, size_t nfds)
{
    virProtoSpawned rep;
    memset(&rep, 0, sizeof(rep));
    rep.hdr.type = VIR_PROTO_SPAWNED;
    rep.hdr.version = VIR_PROTO_VERSION;
    rep.job_id = req->job_id;

    workerEntry *slot = NULL;
    workerEntry *ready = NULL;
    int dv[2] = { -1, -1 };
    int pidfd = -1;
    int nv[2] = { -1, -1 };
    int placed[3 + VIR_PROTO_RESOURCES_MAX];
    const void *inl;
    int nplaced = spawnPlace(req, len, fds, nfds, placed, &inl);
    if (nplaced < 0) {
        rep.err = EPROTO;
    } else if ((ready = poolTake(req, len, fds, nfds))) {
        rep.pid = ready->pid;
        pidfd = (int)syscall(SYS_pidfd_open, ready->pid, 0);
        if (ready->detachfd >= 0) {
            struct epoll_event ev = { .events = EPOLLIN, .data.fd = ready->detachfd };
            if (epoll_ctl(epfd, EPOLL_CTL_ADD, ready->detachfd, &ev) < 0) {
                close(ready->detachfd);
                ready->detachfd = -1;
            }
        }
    } else if (!(slot = findByPid(0))) {
        rep.err = EAGAIN;
    } else if (sandbox.detach &&
               socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, dv) < 0) {
        rep.err = errno;
    } else {
        /* Optional (see workerLendNamespace): no socket, no loan. */
        if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, nv) < 0)
            nv[0] = nv[1] = -1;
        pid_t helper = getpid();
        pid_t pid = fork();
        if (pid == 0) {
            if (dv[0] >= 0)
                close(dv[0]);
            if (nv[0] >= 0)
                close(nv[0]);
            workerMain(req, placed, (size_t)nplaced, inl, dv[1], nv[1], helper, NULL);
        }
        if (dv[1] >= 0)
            close(dv[1]);
        if (nv[1] >= 0)
            close(nv[1]);
        if (pid < 0) {
            rep.err = errno;
            if (dv[0] >= 0)
                close(dv[0]);
            if (nv[0] >= 0)
                close(nv[0]);
        } else {
            /* Also here, so a kill right after SPAWNED reaches the group
             * even if the worker has not run setpgid yet. */
            (void)setpgid(pid, pid);
            slot->pid = pid;
            slot->job = true;
            slot->readysock = -1;
            slot->job_id = req->job_id;
            slot->detachfd = dv[0];
            slot->nssock = nv[0];
            slot->nsHeld = false;
            watchNsSock(slot);
            if (dv[0] >= 0) {
                struct epoll_event ev = { .events = EPOLLIN, .data.fd = dv[0] };
                if (epoll_ctl(epfd, EPOLL_CTL_ADD, dv[0], &ev) < 0) {
                    /* Its requests go unanswered: virWorkerJobDetach fails. */
                    close(dv[0]);
                    slot->detachfd = -1;
                }
            }
            rep.pid = pid;
            /* Not reaped before EXITED is sent, so the pid is still this
             * worker's (a zombie at worst). Optional: none on kernels
             * without pidfds. */
            pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
        }
    }
    if (rep.err)
        rep.hdr.type = VIR_PROTO_SPAWN_FAILED;
    sendMsgFD(&rep, sizeof(rep), pidfd);
    if (pidfd >= 0)
        close(pidfd);
}

static void handleKill(const virProtoKill *req)
{
    workerEntry *w = findByJob(req->job_id);
    /* A ready worker the supervisor handed this job to: we may not have
     * read its TOOK yet, or it may not have read the job yet. */
    if (!w && req->pid > 0 && (w = findByPid(req->pid))) {
        readyTaken(w);
        if (!w->advertised || (w->job && w->job_id != req->job_id))
            w = NULL;
    }
    /* The worker is not reaped until we report it, so its pid, which is
     * also its group id, cannot have been reused. */
    if (!w || req->signo <= 0 || req->signo >= NSIG)
        return;
    if (kill(-w->pid, req->signo) < 0)
        (void)kill(w->pid, req->signo);
}

static bool isLiveWorker(pid_t pid)
{
    return pid > 0 && (findByPid(pid) != NULL || isKept(pid));
}

/* The parent of @pid, from /proc (0 if unknown). */
static pid_t parentOf(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    /* "pid (comm) state ppid ...": comm may hold anything, so from the last ')'. */
    const char *p = strrchr(buf, ')');
    int ppid = 0;
    char state;
    if (!p || sscanf(p + 1, " %c %d", &state, &ppid) != 2)
        return 0;
    return (pid_t)ppid;
}

/* Watch @w's namespace socket for the descriptor it lends us. */
static void watchNsSock(workerEntry *w)
{
    struct epoll_event ev = { .events = EPOLLIN, .data.fd = w->nssock };
    /* Not watched (ENOMEM): the descriptor stays in flight in the socket,
     * a reference all the same, until we close the socket. */
    if (w->nssock >= 0)
        (void)epoll_ctl(epfd, EPOLL_CTL_ADD, w->nssock, &ev);
}

/* @w lent us its mount namespace: take the descriptor out of the socket
 * and keep it until we have reported the worker's exit. Left in the
 * socket it would stay "in flight", and the kernel counts descriptors in
 * flight per user: with a few hundred jobs running, any worker of the
 * same uid (without CAP_SYS_RESOURCE, and with its descriptor limit
 * lower than that count) could no longer pass a descriptor at all
 * (ETOOMANYREFS). */
static void handleNsLoan(workerEntry *w)
{
    char byte;
    int ns = -1;
    size_t nfds = 0;
    bool trunc = false;
    ssize_t n = recvWithFDs(w->nssock, &byte, 1, &ns, 1, &nfds, &trunc, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0 || nfds != 1) {
        if (nfds)
            close(ns);
        ns = -1;
    }
    epoll_ctl(epfd, EPOLL_CTL_DEL, w->nssock, NULL);
    close(w->nssock);
    w->nssock = ns;
    w->nsHeld = ns >= 0;
}

/* A worker asks us to keep one of its children past its own end. */
static void handleDetach(workerEntry *w)
{
    virProtoDetach m;
    ssize_t n = recv(w->detachfd, &m, sizeof(m), MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        /* The worker closed it (exited): its end is reaped with it. */
        epoll_ctl(epfd, EPOLL_CTL_DEL, w->detachfd, NULL);
        close(w->detachfd);
        w->detachfd = -1;
        return;
    }
    int err = 0;
    if (n != (ssize_t)sizeof(m) || m.hdr.type != VIR_PROTO_DETACH ||
        m.hdr.version != VIR_PROTO_VERSION) {
        err = EPROTO;
    } else if (m.pid <= 0 || parentOf(m.pid) != w->pid) {
        err = ESRCH;        /* not this worker's child */
    } else if (getsid(m.pid) != m.pid) {
        err = EINVAL;       /* still in the job's session: setsid() first */
    } else if (!isKept(m.pid)) {
        size_t i = 0;
        while (i < MAX_KEPT && kept[i])
            i++;
        if (i == MAX_KEPT)
            err = EAGAIN;
        else
            kept[i] = m.pid;
    }
    pid_t pid = n == (ssize_t)sizeof(m) ? m.pid : 0;
    memset(&m, 0, sizeof(m));
    m.hdr.type = VIR_PROTO_DETACHED;
    m.hdr.version = VIR_PROTO_VERSION;
    m.pid = pid;
    m.err = err;
    (void)send(w->detachfd, &m, sizeof(m), MSG_NOSIGNAL | MSG_DONTWAIT);
}

static void reapChildren(void)
{
    for (;;) {
        siginfo_t si;
        memset(&si, 0, sizeof(si));
        if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT | __WALL) < 0 ||
            si.si_pid == 0)
            return;
        pid_t pid = si.si_pid;
        workerEntry *w = findByPid(pid);
        for (size_t i = 0; i < MAX_KEPT; i++)
            if (kept[i] == pid)
                kept[i] = 0;    /* a kept process ended: its session is swept */
        if (w) {
            /* While the worker is still a zombie its group id cannot be
             * reused: take down whatever it left running in its group. */
            (void)kill(-pid, SIGKILL);
        }
        memset(&si, 0, sizeof(si));
        if (waitid(P_PID, (id_t)pid, &si, WEXITED | __WALL) < 0)
            continue;
        if (!w) {
            /* An orphaned grandchild handed to us as subreaper: its own
             * orphans are ours now, sweep them too. */
            (void)virWorkerSandboxSweep(isLiveWorker);
            continue;
        }
        readyTaken(w);
        if (!w->job) {
            /* A ready worker that ended without a job: it could not enter
             * its sandbox (then no more of them: each job's own worker
             * says why), or it was killed. Nothing to report, but to the
             * supervisor if it held it: it forgets it, or, if it had just
             * sent it a job it never read, ends that job. */
            if (w->advertised) {
                virProtoExited gone;
                memset(&gone, 0, sizeof(gone));
                gone.hdr.type = VIR_PROTO_EXITED;
                gone.hdr.version = VIR_PROTO_VERSION;
                gone.pid = pid;
                gone.code = si.si_code;
                gone.status = si.si_status;
                sendMsg(&gone, sizeof(gone));
            }
            if (w->readysock >= 0 &&
                ((si.si_code == CLD_EXITED && si.si_status == VIR_WORKER_EXIT_SETUP) ||
                 ++readyLost >= READY_LOST_MAX))
                poolBroken = true;
            if (w->readysock >= 0)
                close(w->readysock);
            if (w->detachfd >= 0)
                close(w->detachfd);
            if (w->nssock >= 0)
                close(w->nssock);
            memset(w, 0, sizeof(*w));
            w->readysock = w->detachfd = w->nssock = -1;
            (void)virWorkerSandboxSweep(isLiveWorker);
            poolRefill();
            continue;
        }
        virProtoExited ex;
        memset(&ex, 0, sizeof(ex));
        ex.hdr.type = VIR_PROTO_EXITED;
        ex.hdr.version = VIR_PROTO_VERSION;
        ex.job_id = w->job_id;
        ex.pid = pid;
        ex.code = si.si_code;
        ex.status = si.si_status;
        w->pid = 0;
        w->job = false;
        w->advertised = false;
        if (w->detachfd >= 0) {
            epoll_ctl(epfd, EPOLL_CTL_DEL, w->detachfd, NULL);
            close(w->detachfd);
            w->detachfd = -1;
        }
        sendMsg(&ex, sizeof(ex));
        /* Reported: now the worker's namespace may go (closing the socket
         * drops the reference it lent us, which is the last one). */
        if (w->nssock >= 0) {
            close(w->nssock);
            w->nssock = -1;
        }
        w->nsHeld = false;
        /* Whatever left its job's process group (setsid) and came to us as
         * an orphan was not reached by the group kill above: sweep it. */
        (void)virWorkerSandboxSweep(isLiveWorker);
        /* A ready worker for the next job: forked now, after the report,
         * rather than when this one took its job, so that its set-up does
         * not compete with a running job for the CPU (and with its end,
         * which cancel, crash detection and virJobWait wait for). */
        poolRefill();
    }
}

static void killAllAndExit(void) __attribute__((noreturn));
static void killAllAndExit(void)
{
    static pid_t kids[8192];
    for (size_t i = 0; i < MAX_WORKERS; i++)
        if (workers[i].pid)
            (void)kill(-workers[i].pid, SIGKILL);
    for (;;) {
        /* Also what left its group: it comes to us as an orphan, and we
         * would otherwise wait for it forever. Kept processes (and their
         * sessions) stay: they outlive the supervisor by design, and are
         * adopted by init (or the next subreaper) when we exit. */
        (void)virWorkerSandboxSweep(isKept);
        size_t n = virWorkerSandboxChildren(kids, ARRAY_CARDINALITY(kids));
        pid_t wait_for = 0;
        for (size_t i = 0; i < n && !wait_for; i++)
            if (!virWorkerSandboxSpared(kids[i], isKept))
                wait_for = kids[i];
        if (!wait_for)
            break;
        siginfo_t si;
        memset(&si, 0, sizeof(si));
        /* Killed: it ends soon. Reap it, then look again (its own orphans
         * come to us in turn). */
        (void)waitid(P_PID, (id_t)wait_for, &si, WEXITED | __WALL);
    }
    _exit(0);
}

/* The first record from the supervisor: this helper's sandbox. */
static int readSandbox(void)
{
    ssize_t n;
    do {
        n = recv(sockfd, &sandbox, sizeof(sandbox), 0);
    } while (n < 0 && errno == EINTR);
    if (n != (ssize_t)sizeof(sandbox) || sandbox.hdr.type != VIR_PROTO_SANDBOX ||
        sandbox.hdr.version != VIR_PROTO_VERSION ||
        sandbox.syscalls >= VIR_PROTO_SYSCALLS_LAST ||
        (sandbox.libs & ~(uint32_t)VIR_PROTO_LIB_ALL) ||
        !memchr(sandbox.name, '\0', sizeof(sandbox.name)))
        return -1;
    return 0;
}

/* A pidfd of the application the environment names (VIR_HELPER_ENV_APP);
 * -1 if it cannot be watched that way (no pidfds, no variable: the
 * socket's EOF alone then says it ended), -2 if it has ended already. */
static int openApp(void)
{
    const char *v = getenv(VIR_HELPER_ENV_APP);
    int pid = 0;
    unsigned long long start = 0;
    if (!v || sscanf(v, "%d:%llu", &pid, &start) != 2 || pid <= 0 || !start)
        return -1;
    int fd = virProcessOpenPidfd((pid_t)pid, (uint64_t)start);
    if (fd < 0)
        return errno == ESRCH ? -2 : -1;
    return fd;
}

static int helperMain(void)
{
    resetSignals();
    for (size_t i = 0; i < MAX_WORKERS; i++) {
        workers[i].readysock = -1;
        workers[i].detachfd = -1;
        workers[i].nssock = -1;
    }
    const char *pool = getenv(VIR_HELPER_ENV_POOL);
    if (pool && *pool) {
        char *end;
        unsigned long v = strtoul(pool, &end, 10);
        poolSize = *end ? poolSize : (unsigned int)(v < MAX_READY ? v : MAX_READY);
    }
    for (size_t i = 0; i < ARRAY_CARDINALITY(limitRes); i++)
        if (getrlimit(limitRes[i], &helperLimits[i]) < 0)
            poolSize = 0;
    if (setsid() < 0 && errno != EPERM)
        return VIR_WORKER_EXIT_SETUP;
    /* Orphans of our workers come to us (and are reaped), not to init. */
    (void)prctl(PR_SET_CHILD_SUBREAPER, 1);

    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, NULL);
    int sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (sfd < 0 || ep < 0)
        return VIR_WORKER_EXIT_SETUP;
    epfd = ep;
    (void)fcntl(sockfd, F_SETFD, FD_CLOEXEC);
    struct epoll_event ev = { .events = EPOLLIN, .data.fd = sockfd };
    epoll_ctl(ep, EPOLL_CTL_ADD, sockfd, &ev);
    ev.data.fd = sfd;
    epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);
    /* The application, through a pidfd: our socket's EOF is not enough,
     * a forked child of the application may hold a copy of it for ever. */
    int appfd = openApp();
    if (appfd == -2)
        killAllAndExit();    /* it is gone already */
    if (appfd >= 0) {
        ev.data.fd = appfd;
        epoll_ctl(ep, EPOLL_CTL_ADD, appfd, &ev);
    }

    virProtoHello hello;
    memset(&hello, 0, sizeof(hello));
    hello.hdr.type = VIR_PROTO_HELLO;
    hello.hdr.version = VIR_PROTO_VERSION;
    hello.pid = getpid();
    sendMsg(&hello, sizeof(hello));

    /* The profile-wide set-up, once for all our workers: our sandbox
     * first (the supervisor sends it before any SPAWN), then the compiled
     * system-call filter of its set (failure: each worker compiles it) and
     * the workers' empty root (failure: each worker enters its own). */
    if (readSandbox() < 0)
        killAllAndExit();
    /* The libraries this sandbox's ops call, while files can be opened. */
    virWorkerPreloadRun(sandbox.libs);
    (void)virWorkerSandboxPrepare((int)sandbox.syscalls);
    (void)virWorkerSandboxPrepareRoot();
    (void)virWorkerSandboxPrepareCaps(&sandbox);
    (void)virWorkerSandboxPrepareHelperFilter((int)sandbox.syscalls);
    poolRefill();

    for (;;) {
        struct epoll_event evs[16];
        int n = epoll_wait(ep, evs, 16, -1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            killAllAndExit();
        }
        for (int i = 0; i < n; i++) {
            if (evs[i].data.fd == sfd) {
                struct signalfd_siginfo si;
                while (read(sfd, &si, sizeof(si)) == sizeof(si))
                    ;
                reapChildren();
                continue;
            }
            if (appfd >= 0 && evs[i].data.fd == appfd)
                killAllAndExit();    /* the application ended */
            if (evs[i].data.fd != sockfd) {
                workerEntry *w = findByDetachFD(evs[i].data.fd);
                if (w)
                    handleDetach(w);
                else if ((w = findByNsSock(evs[i].data.fd)))
                    handleNsLoan(w);
                continue;
            }
            union {
                virProtoHeader hdr;
                virProtoSpawn spawn;
                virProtoKill kill;
                char raw[VIR_PROTO_MSG_MAX];
            } buf;
            int fds[3 + VIR_PROTO_RESOURCES_MAX];
            size_t nfds = 0;
            bool trunc = false;
            ssize_t r = recvWithFDs(sockfd, &buf, sizeof(buf), fds, ARRAY_CARDINALITY(fds),
                                    &nfds, &trunc, MSG_DONTWAIT);
            if (r < 0 && (errno == EAGAIN || errno == EINTR))
                continue;
            if (r <= 0)
                killAllAndExit(); /* the supervisor is gone */
            if ((size_t)r >= sizeof(virProtoHeader) && buf.hdr.version == VIR_PROTO_VERSION) {
                if (buf.hdr.type == VIR_PROTO_SPAWN && (size_t)r >= sizeof(virProtoSpawn) &&
                    !trunc)
                    handleSpawn(&buf.spawn, (size_t)r, fds, nfds);
                else if (buf.hdr.type == VIR_PROTO_KILL && (size_t)r == sizeof(virProtoKill))
                    handleKill(&buf.kill);
            }
            for (size_t j = 0; j < nfds; j++)
                close(fds[j]);
        }
    }
}

int main(int argc, char **argv)
{
    /* "--spawn-helper PROFILE": the profile's name is for ps only. */
    if ((argc == 2 || argc == 3) && STREQ(argv[1], "--spawn-helper"))
        return helperMain();
    fprintf(stderr, "virtsup-worker: this program is started by libvirtsup "
            "(as its spawn helper) and is not meant to be run by hand\n");
    return 2;
}
