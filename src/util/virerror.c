/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virerror.c: the thread-local last error, and libvirt's error handlers.
 *
 * An error raised in an application thread goes, after it became the
 * thread's last error, to the handler of the connection the failing call
 * was made on (virConnSetErrorFunc), else to the process-wide one
 * (virSetErrorFunc), else to virDefaultErrorFunc, which prints it on
 * stderr, as libvirt does. Threads of the library (virErrorSetThreadInternal)
 * and the worker program never call a handler and never print.
 */
#include <pthread.h>
#include <stdio.h>

#include "util/virerror.h"

static pthread_mutex_t handlerLock = PTHREAD_MUTEX_INITIALIZER;
static virErrorFunc globalHandler;    /* NULL: virDefaultErrorFunc */
static void *globalHandlerData;
static const virErrorConnHooks *connHooks;
static __thread bool threadInternal;
static __thread void *threadConn;      /* the connection of the current call */

/* One per thread. The strings it holds are freed at thread exit through a
 * key destructor, so a thread that ends with an error set leaks nothing. */
static __thread virError lastError;
static pthread_key_t lastErrorKey;
static pthread_once_t lastErrorOnce = PTHREAD_ONCE_INIT;

static void clearError(virErrorPtr e);

static void lastErrorDestroy(void *p)
{
    clearError(p);
}

static void lastErrorKeyInit(void)
{
    (void)pthread_key_create(&lastErrorKey, lastErrorDestroy);
}

/* Tie this thread's error to the key once, so its destructor runs. */
static void lastErrorTrack(void)
{
    static __thread bool tracked;
    if (tracked)
        return;
    pthread_once(&lastErrorOnce, lastErrorKeyInit);
    if (pthread_setspecific(lastErrorKey, &lastError) == 0)
        tracked = true;
}

static void clearError(virErrorPtr e)
{
    free(e->message);
    free(e->str1);
    free(e->str2);
    free(e->str3);
    memset(e, 0, sizeof(*e));
}

VIR_EXPORT virErrorPtr virGetLastError(void)
{
    return lastError.code == VIR_ERR_OK ? NULL : &lastError;
}

VIR_EXPORT int virGetLastErrorCode(void)
{
    return lastError.code;
}

VIR_EXPORT int virGetLastErrorDomain(void)
{
    return lastError.code == VIR_ERR_OK ? VIR_FROM_NONE : lastError.domain;
}

VIR_EXPORT void virResetLastError(void)
{
    threadConn = NULL;
    if (lastError.code != VIR_ERR_OK || lastError.message)
        clearError(&lastError);
}

void virErrorSetThreadInternal(void)
{
    threadInternal = true;
}

static __thread bool threadQuiet;

bool virErrorSetQuiet(bool quiet)
{
    bool old = threadQuiet;
    threadQuiet = quiet;
    return old;
}

void virErrorSetConnHooks(const virErrorConnHooks *hooks)
{
    connHooks = hooks;
}

void virErrorSetCurrentConn(void *conn)
{
    threadConn = conn;
}

void virErrorForgetConn(void *conn)
{
    if (threadConn == conn)
        threadConn = NULL;
}

void virErrorForkPrepare(void)
{
    pthread_mutex_lock(&handlerLock);
}

void virErrorForkParent(void)
{
    pthread_mutex_unlock(&handlerLock);
}

void virErrorForkChild(void)
{
    threadConn = NULL;
    pthread_mutex_unlock(&handlerLock);
}

/* The names virDefaultErrorFunc prints for the domains the library uses. */
static const char *domainName(int domain)
{
    switch (domain) {
    case VIR_FROM_DOM: return "Domain";
    case VIR_FROM_DOMAIN: return "Domain Config";
    case VIR_FROM_NETWORK: return "Network Driver";
    case VIR_FROM_NET: return "Network";
    case VIR_FROM_TEST: return "Test Driver";
    case VIR_FROM_QEMU: return "QEMU Driver";
    case VIR_FROM_XML: return "XML Util";
    case VIR_FROM_CONF: return "Config File";
    case VIR_FROM_URI: return "URI Utils";
    case VIR_FROM_SECURITY: return "Security Driver";
    case VIR_FROM_EVENT: return "Events";
    case VIR_FROM_THREAD: return "Thread jobs";
    case VIR_FROM_JOB: return "Job Supervisor";
    case VIR_FROM_SHM: return "Status Segment";
    default: return "";
    }
}

VIR_EXPORT void virDefaultErrorFunc(virErrorPtr err)
{
    const char *lvl;
    const char *msg;
    size_t len;

    if (!err || err->code == VIR_ERR_OK)
        return;
    lvl = err->level == VIR_ERR_WARNING ? "warning" :
          err->level == VIR_ERR_ERROR ? "error" : "";
    msg = err->message ? err->message : "unknown error";
    len = strlen(msg);
    /* One line, one write: lines of several threads do not interleave. */
    fprintf(stderr, "libvirtsup: %s %s : %s%s", domainName(err->domain), lvl, msg,
            len && msg[len - 1] == '\n' ? "" : "\n");
}

VIR_EXPORT void virSetErrorFunc(void *userData, virErrorFunc handler)
{
    pthread_mutex_lock(&handlerLock);
    globalHandler = handler;
    globalHandlerData = userData;
    pthread_mutex_unlock(&handlerLock);
}

/* Hand the thread's new last error to whoever should see it. */
static void dispatch(void)
{
#ifdef VIRTSUP_WORKER
    /* A worker reports up its control socket, never on its stderr. */
    return;
#else
    virErrorFunc func = NULL;
    void *data = NULL;

    if (threadInternal || threadQuiet)
        return;
    if (threadConn && connHooks) {
        connHooks->record(threadConn, &lastError);
        connHooks->handler(threadConn, &func, &data);
    }
    if (!func) {
        pthread_mutex_lock(&handlerLock);
        func = globalHandler;
        data = globalHandlerData;
        pthread_mutex_unlock(&handlerLock);
    }
    if (func)
        func(data, &lastError);
    else
        virDefaultErrorFunc(&lastError);
#endif
}

VIR_EXPORT void virResetError(virErrorPtr err)
{
    if (err)
        clearError(err);
}

VIR_EXPORT const char *virGetLastErrorMessage(void)
{
    if (lastError.code == VIR_ERR_OK || !lastError.message)
        return "no error";
    return lastError.message;
}

static char *dupOrNull(const char *s)
{
    return s ? strdup(s) : NULL;
}

VIR_EXPORT int virCopyLastError(virErrorPtr to)
{
    if (!to)
        return -1;
    memset(to, 0, sizeof(*to));
    if (lastError.code == VIR_ERR_OK)
        return 0;
    *to = lastError;
    to->message = dupOrNull(lastError.message);
    to->str1 = dupOrNull(lastError.str1);
    to->str2 = dupOrNull(lastError.str2);
    to->str3 = dupOrNull(lastError.str3);
    return to->code;
}

void virReportErrorFull(int domain, int code, int sys_errno,
                        const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    int saved = errno;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (sys_errno) {
        size_t n = strlen(buf);
        char ebuf[128];
        const char *es = strerror_r(sys_errno, ebuf, sizeof(ebuf));
        snprintf(buf + n, sizeof(buf) - n, ": %s", es);
    }

    lastErrorTrack();
    clearError(&lastError);
    lastError.code = code ? code : VIR_ERR_INTERNAL_ERROR;
    lastError.domain = domain;
    lastError.level = VIR_ERR_ERROR;
    lastError.int1 = sys_errno;
    /* If even this allocation fails the code still tells what happened. */
    lastError.message = strdup(buf);
    dispatch();
    errno = saved;
}

virErrorPtr virErrorCopyNew(int domain, int code, int int1, const char *message)
{
    virErrorPtr e = calloc(1, sizeof(*e));
    if (!e)
        return NULL;
    e->code = code;
    e->domain = domain;
    e->level = VIR_ERR_ERROR;
    e->int1 = int1;
    e->message = strdup(message ? message : "unknown error");
    if (!e->message) {
        free(e);
        return NULL;
    }
    return e;
}

VIR_EXPORT virErrorPtr virSaveLastError(void)
{
    virErrorPtr e = calloc(1, sizeof(*e));
    if (e && virCopyLastError(e) < 0) {
        free(e);
        return NULL;
    }
    return e;
}

void virRestoreLastError(virErrorPtr *saved)
{
    if (!saved || !*saved)
        return;
    lastErrorTrack();
    clearError(&lastError);
    lastError = **saved;
    free(*saved);
    *saved = NULL;
}

VIR_EXPORT void virFreeError(virErrorPtr err)
{
    if (!err)
        return;
    clearError(err);
    free(err);
}
