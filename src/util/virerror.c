/*
 * virerror.c: the thread-local last error.
 */
#include <pthread.h>
#include <stdio.h>

#include "util/virerror.h"

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

VIR_EXPORT void virResetLastError(void)
{
    if (lastError.code != VIR_ERR_OK || lastError.message)
        clearError(&lastError);
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

virErrorPtr virSaveLastError(void)
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

void virFreeError(virErrorPtr err)
{
    if (!err)
        return;
    clearError(err);
    free(err);
}
