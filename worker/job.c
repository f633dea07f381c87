/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * job.c (worker side): progress into the shared status page, cancellation,
 * and the final report to the supervisor. Worker process only.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>

#define VIR_FROM_THIS VIR_FROM_JOB
#include "util/virerror.h"
#include "util/virxmllib.h"
#include "worker/worker-priv.h"

volatile sig_atomic_t virWorkerTermFlag;

extern const virWorkerOp *const __start_virtsup_ops[] __attribute__((weak));
extern const virWorkerOp *const __stop_virtsup_ops[] __attribute__((weak));
extern const virWorkerPreload *const __start_virtsup_preloads[] __attribute__((weak));
extern const virWorkerPreload *const __stop_virtsup_preloads[] __attribute__((weak));

#ifdef VIRTSUP_WORKER
/* libxml2: the XML code of util/ calls it through a table (virxmllib.h). */
VIR_WORKER_PRELOAD_REGISTER(xmlPreloadDef, VIR_PROTO_LIB_XML, virXMLLibLoad);
#endif

void virWorkerPreloadRun(uint32_t libs)
{
    for (const virWorkerPreload *const *pl = __start_virtsup_preloads;
         pl && pl < __stop_virtsup_preloads; pl++) {
        if (*pl && ((*pl)->lib & libs))
            (void)(*pl)->load();
    }
}

const virWorkerOp *virWorkerOpLookup(const char *name)
{
    for (const virWorkerOp *const *op = __start_virtsup_ops;
         op && op < __stop_virtsup_ops; op++) {
        if (*op && STREQ((*op)->name, name))
            return *op;
    }
    return NULL;
}

void virWorkerJobInit(virWorkerJobPtr job, virShmProgress *page, uint64_t job_id,
                      virJobType type, int ctlfd, unsigned int nresources)
{
    memset(job, 0, sizeof(*job));
    job->page = page;
    job->job_id = job_id;
    job->ctlfd = ctlfd;
    job->nresources = nresources;
    job->detachfd = -1;
    job->start_mono_ns = virShmNowMono();
    job->data.type = type;
}

void virWorkerJobInitProfile(virWorkerJobPtr job,
                             const char fdnames[][VIR_PROTO_FD_NAME_MAX],
                             int detachfd)
{
    for (unsigned int i = 0; i < job->nresources && i < VIR_PROTO_RESOURCES_MAX; i++)
        virStrcpyTrunc(job->fdnames[i], sizeof(job->fdnames[i]), fdnames[i]);
    job->detachfd = detachfd;
}

static void publish(virWorkerJobPtr job)
{
    virShmProgressWrite(job->page, &job->data);
}

static unsigned int clampPercent(long long p)
{
    return p < 0 ? 0 : p > 100 ? 100 : (unsigned int)p;
}

void virWorkerJobInitialize(virWorkerJobPtr job, unsigned int etaSeconds)
{
    job->start_mono_ns = virShmNowMono();
    job->data.flags |= VIR_SHM_PR_INITIALIZED;
    job->data.elapsed_ms = 0;
    if (etaSeconds) {
        job->data.flags |= VIR_SHM_PR_HAS_ETA;
        job->data.eta_ms = (uint64_t)etaSeconds * 1000;
    }
    publish(job);
}

void virWorkerJobUpdateRel(virWorkerJobPtr job, int elapsedDelta, int etaDelta, int percentDelta)
{
    long long e = (long long)job->data.elapsed_ms + (long long)elapsedDelta * 1000;
    long long r = (long long)job->data.eta_ms + (long long)etaDelta * 1000;
    job->data.elapsed_ms = e < 0 ? 0 : (uint64_t)e;
    job->data.eta_ms = r < 0 ? 0 : (uint64_t)r;
    job->data.flags |= VIR_SHM_PR_HAS_ETA;
    job->data.percent = clampPercent((long long)job->data.percent + percentDelta);
    publish(job);
}

void virWorkerJobUpdateAbs(virWorkerJobPtr job, unsigned int elapsed, unsigned int eta,
                     unsigned int percent)
{
    job->data.elapsed_ms = (uint64_t)elapsed * 1000;
    job->data.eta_ms = (uint64_t)eta * 1000;
    job->data.flags |= VIR_SHM_PR_HAS_ETA;
    job->data.percent = clampPercent(percent);
    publish(job);
}

void virWorkerJobUpdateBytes(virWorkerJobPtr job, uint64_t done, uint64_t total)
{
    job->data.bytes_done = done;
    job->data.bytes_total = total;
    if (total) {
        /* With a byte total the supervisor derives the ETA from the
         * measured rate; an estimate given at virWorkerJobInitialize would only
         * go stale (it is never lowered by byte updates). */
        job->data.flags &= ~VIR_SHM_PR_HAS_ETA;
        job->data.eta_ms = 0;
        if (done > total)
            done = total;
        if (total != job->pct_total || done < job->pct_from || done >= job->pct_next) {
            /* 128-bit products: no overflow for any 64-bit byte count. */
            unsigned int p = (unsigned int)((unsigned __int128)done * 100 / total);
            job->data.percent = p;
            job->pct_total = total;
            job->pct_from = (uint64_t)(((unsigned __int128)p * total + 99) / 100);
            job->pct_next = p >= 100 ? UINT64_MAX :
                (uint64_t)(((unsigned __int128)(p + 1) * total + 99) / 100);
        }
    }
    publish(job);
}

void virWorkerJobSetPhase(virWorkerJobPtr job, const char *phase)
{
    virStrcpyTrunc(job->data.phase, sizeof(job->data.phase), phase);
    publish(job);
}

bool virWorkerJobCancelRequested(virWorkerJobPtr job)
{
    if (job->ignore_cancel)
        return false;
    /* Relaxed is enough: the flag carries no data with it, and the worker
     * only needs to see it eventually (SIGTERM follows it anyway). */
    bool asked = virWorkerTermFlag ||
        atomic_load_explicit(&job->page->cancel_requested, memory_order_relaxed);
    if (asked && !(job->data.flags & VIR_SHM_PR_CANCEL_ACK)) {
        job->data.flags |= VIR_SHM_PR_CANCEL_ACK;
        publish(job);
    }
    return asked;
}

static int sendReport(virWorkerJobPtr job, virProtoReport report, int code,
                      int domain, const char *message)
{
    virProtoResult r;
    struct iovec iov[3];
    struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 0 };
    size_t mlen = message ? strnlen(message, VIR_PROTO_MESSAGE_MAX) : 0;

    if (job->report != VIR_PROTO_REPORT_NONE)
        return -1; /* one report per job; later ones are ignored */
    job->report = report;

    memset(&r, 0, sizeof(r));
    r.hdr.type = VIR_PROTO_RESULT;
    r.hdr.version = VIR_PROTO_VERSION;
    r.report = report;
    r.code = code;
    r.domain = domain;
    r.message_len = (uint32_t)mlen;
    r.data_len = report == VIR_PROTO_REPORT_SUCCESS ? (uint32_t)job->result_len : 0;
    iov[msg.msg_iovlen++] = (struct iovec){ &r, sizeof(r) };
    if (mlen)
        iov[msg.msg_iovlen++] = (struct iovec){ (void *)message, mlen };
    if (r.data_len)
        iov[msg.msg_iovlen++] = (struct iovec){ job->result, job->result_len };

    /* The supervisor reads this after our exit; a failed send only means
     * the job ends "without reporting", which the exit status still tells. */
    ssize_t n;
    do {
        n = sendmsg(job->ctlfd, &msg, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    return n < 0 ? -1 : 0;
}

bool virWorkerJobFinishCancel(virWorkerJobPtr job)
{
    if (!virWorkerJobCancelRequested(job))
        return false;
    virWorkerJobSetPhase(job, "cancelled");
    sendReport(job, VIR_PROTO_REPORT_CANCELLED, VIR_ERR_OPERATION_ABORTED,
               VIR_FROM_JOB, "cancelled by request");
    return true;
}

int virWorkerJobSetResult(virWorkerJobPtr job, const void *data, size_t len)
{
    if (len > VIR_PROTO_RESULT_MAX) {
        virReportError(VIR_ERR_INVALID_ARG,
                       "job result of %zu bytes exceeds the %d byte limit",
                       len, VIR_PROTO_RESULT_MAX);
        return -1;
    }
    void *copy = len ? malloc(len) : NULL;
    if (len && !copy) {
        virReportOOMError();
        return -1;
    }
    if (len)
        memcpy(copy, data, len);
    free(job->result);
    job->result = copy;
    job->result_len = len;
    return 0;
}

int virWorkerJobFinishSuccess(virWorkerJobPtr job)
{
    if (job->data.type == VIR_JOB_BOUNDED)
        job->data.percent = 100;
    job->data.eta_ms = 0;
    publish(job);
    return sendReport(job, VIR_PROTO_REPORT_SUCCESS, 0, 0, NULL);
}

int virWorkerJobFinishFailure(virWorkerJobPtr job, int code, const char *fmt, ...)
{
    char buf[VIR_PROTO_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    return sendReport(job, VIR_PROTO_REPORT_FAILURE,
                      code ? code : VIR_ERR_OPERATION_FAILED, VIR_FROM_JOB, buf);
}

int virWorkerJobFinishError(virWorkerJobPtr job)
{
    virErrorPtr e = virGetLastError();
    if (!e)
        return virWorkerJobFinishFailure(job, VIR_ERR_INTERNAL_ERROR, "%s",
                                   "operation failed for an unknown reason");
    return sendReport(job, VIR_PROTO_REPORT_FAILURE, e->code, e->domain,
                      e->message ? e->message : "unknown error");
}

int virWorkerJobResourceFD(virWorkerJobPtr job, unsigned int i)
{
    return i < job->nresources ? VIR_WORKER_FD_RESOURCE_FIRST + (int)i : -1;
}

unsigned int virWorkerJobResourceCount(virWorkerJobPtr job)
{
    return job->nresources;
}

int virWorkerJobFD(virWorkerJobPtr job, const char *name)
{
    for (unsigned int i = 0; name && i < job->nresources && i < VIR_PROTO_RESOURCES_MAX; i++)
        if (job->fdnames[i][0] && STREQ(job->fdnames[i], name))
            return VIR_WORKER_FD_RESOURCE_FIRST + (int)i;
    return -1;
}

const char *virWorkerJobResourceName(virWorkerJobPtr job, unsigned int i)
{
    return i < job->nresources && i < VIR_PROTO_RESOURCES_MAX ? job->fdnames[i] : NULL;
}

int virWorkerJobDetach(virWorkerJobPtr job, pid_t pid)
{
    virProtoDetach m;
    ssize_t n;

    if (job->detachfd < 0) {
        virReportError(VIR_ERR_OPERATION_DENIED, "%s",
                       "this job's profile does not let a process outlive its worker");
        return -1;
    }
    memset(&m, 0, sizeof(m));
    m.hdr.type = VIR_PROTO_DETACH;
    m.hdr.version = VIR_PROTO_VERSION;
    m.pid = pid;
    do {
        n = send(job->detachfd, &m, sizeof(m), MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    if (n != (ssize_t)sizeof(m)) {
        virReportSystemError(errno, "%s", "cannot ask the spawn helper to keep a process");
        return -1;
    }
    /* The helper answers at once; a cancel's SIGTERM may interrupt. */
    do {
        n = recv(job->detachfd, &m, sizeof(m), 0);
    } while (n < 0 && errno == EINTR);
    if (n != (ssize_t)sizeof(m) || m.hdr.type != VIR_PROTO_DETACHED) {
        virReportSystemError(n < 0 ? errno : EPROTO, "%s",
                             "no answer from the spawn helper about a process to keep");
        return -1;
    }
    if (m.err) {
        virReportSystemError(m.err, "the spawn helper refused to keep process %d "
                             "(it must be this worker's child and lead a session "
                             "of its own)", (int)pid);
        return -1;
    }
    return 0;
}

int virWorkerJobExitCode(virWorkerJobPtr job)
{
    switch (job->report) {
    case VIR_PROTO_REPORT_SUCCESS:
        return VIR_WORKER_EXIT_OK;
    case VIR_PROTO_REPORT_FAILURE:
        return VIR_WORKER_EXIT_FAILED;
    case VIR_PROTO_REPORT_CANCELLED:
        return VIR_WORKER_EXIT_CANCELLED;
    case VIR_PROTO_REPORT_NONE:
    default:
        return VIR_WORKER_EXIT_NO_REPORT;
    }
}

void virWorkerReportEarly(int ctlfd, int code, const char *fmt, ...)
{
    struct _virWorkerJob job;
    char buf[VIR_PROTO_MESSAGE_MAX];
    va_list ap;

    memset(&job, 0, sizeof(job));
    job.ctlfd = ctlfd;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    sendReport(&job, VIR_PROTO_REPORT_FAILURE, code, VIR_FROM_JOB, buf);
}

/* Reset @signo to its default action with the raw system call: a
 * sanitizer runtime (ASan's handle_segv) intercepts signal() and
 * sigaction() and keeps its own SIGSEGV handler, which would turn the
 * crash into "exit 1". The kernel's struct: handler, flags, restorer, mask. */
static void defaultSignal(int signo)
{
    struct {
        void (*handler)(int);
        unsigned long flags;
        void (*restorer)(void);
        uint64_t mask;
    } ksa = { SIG_DFL, 0, NULL, 0 };
    (void)syscall(SYS_rt_sigaction, signo, &ksa, NULL, sizeof(ksa.mask));
}

static void ignoreTerm(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_IGN;
    sigaction(SIGTERM, &sa, NULL);
}

int virWorkerJobInjectFault(virWorkerJobPtr job, const char *action)
{
    if (STREQ(action, "segv")) {
        volatile int *volatile p = NULL;
        defaultSignal(SIGSEGV);
        /* raise first: UBSan (halt_on_error) would turn the store into exit 1. */
        raise(SIGSEGV);
        *p = 1;
    } else if (STREQ(action, "abort")) {
        abort();
    } else if (STREQ(action, "hang")) {
        ignoreTerm();
        job->ignore_cancel = true;
        for (;;)
            pause();
    } else if (STREQ(action, "ignore-cancel")) {
        ignoreTerm();
        job->ignore_cancel = true;
        return 0;
    } else if (STREQ(action, "exit")) {
        _exit(0);
    } else if (STREQ(action, "garbage")) {
        /* Scribble over our whole page, including the sequence, and leave
         * the sequence odd as a writer that died mid-update would. */
        uint8_t *page = (uint8_t *)job->page;
        for (size_t i = 0; i < VIR_SHM_PAGE_SIZE; i++)
            page[i] = (uint8_t)(0xA5 ^ (i * 131));
        atomic_store_explicit(&job->page->seq, 0x7fffffffu, memory_order_release);
        _exit(0);
    }
    return -1;
}
