/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * viralloc.c: allocation wrappers with fault injection for tests.
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>

#include "util/viralloc.h"
#include "util/virerror.h"

/* Relaxed: a counter for tests; no other memory is published through it. */
static _Atomic long allocCount;
static _Atomic long allocFailAt;

static bool shouldFail(void)
{
    long n = atomic_fetch_add_explicit(&allocCount, 1, memory_order_relaxed) + 1;
    long at = atomic_load_explicit(&allocFailAt, memory_order_relaxed);
    return at > 0 && n == at;
}

long virAllocTestHook(long failAt)
{
    long n = atomic_exchange_explicit(&allocCount, 0, memory_order_relaxed);
    atomic_store_explicit(&allocFailAt, failAt, memory_order_relaxed);
    return n;
}

void *virAllocN(size_t count, size_t size)
{
    void *p = shouldFail() ? NULL : calloc(count ? count : 1, size ? size : 1);
    if (!p)
        virReportOOMError();
    return p;
}

void *virReallocN(void *ptr, size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size) {
        virReportOOMError();
        return NULL;
    }
    void *p = shouldFail() ? NULL : realloc(ptr, count * size != 0 ? count * size : 1);
    if (!p)
        virReportOOMError();
    return p;
}

char *virStrdup(const char *s)
{
    if (!s)
        return NULL;
    char *p = shouldFail() ? NULL : strdup(s);
    if (!p)
        virReportOOMError();
    return p;
}

char *virStrndup(const char *s, size_t n)
{
    if (!s)
        return NULL;
    char *p = shouldFail() ? NULL : strndup(s, n);
    if (!p)
        virReportOOMError();
    return p;
}

char *virAsprintf(const char *fmt, ...)
{
    char *p = NULL;
    va_list ap;
    if (shouldFail()) {
        virReportOOMError();
        return NULL;
    }
    va_start(ap, fmt);
    int r = vasprintf(&p, fmt, ap);
    va_end(ap);
    if (r < 0) {
        virReportOOMError();
        return NULL;
    }
    return p;
}
