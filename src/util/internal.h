/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * internal.h: habits shared by every process of libvirtsup (library, worker,
 * tools): cleanup attributes, argument checks, small helpers.
 *
 * May be included from anywhere; includes nothing of supervisor/ or worker/.
 */
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define VIR_EXPORT __attribute__((visibility("default")))
#define ATTRIBUTE_UNUSED __attribute__((unused))
#define ATTRIBUTE_NONNULL(...) __attribute__((nonnull(__VA_ARGS__)))
#define ATTRIBUTE_FMT_PRINTF(a, b) __attribute__((format(printf, a, b)))

#define ARRAY_CARDINALITY(a) (sizeof(a) / sizeof((a)[0]))
#define STREQ(a, b) (strcmp((a), (b)) == 0)
#define STRNEQ(a, b) (strcmp((a), (b)) != 0)
#define STREQ_NULLABLE(a, b) ((a) == (b) || ((a) && (b) && STREQ((a), (b))))

static inline void virFreep(void *p) { free(*(void **)p); }
static inline void virClosep(int *fd)
{
    if (*fd >= 0) {
        int saved = errno;
        close(*fd);
        errno = saved;
    }
}

/* g_autofree-style cleanups; hand ownership off with VIR_STEAL_PTR/FD. */
#define VIR_AUTOFREE(type) __attribute__((cleanup(virFreep))) type
#define VIR_AUTOCLOSE __attribute__((cleanup(virClosep))) int

static inline void *virStealPtr(void *pp)
{
    void **p = pp;
    void *v = *p;
    *p = NULL;
    return v;
}
static inline int virStealFD(int *fd)
{
    int v = *fd;
    *fd = -1;
    return v;
}
#define VIR_STEAL_PTR(p) virStealPtr(&(p))
#define VIR_STEAL_FD(fd) virStealFD(&(fd))

/* Close a descriptor and set it to -1; safe on -1. */
static inline void virForceClose(int *fd)
{
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

/* A descriptor the library keeps must not sit on 0, 1 or 2: an application
 * that closed its standard descriptors would write its output into it.
 * Returns @fd itself when it is above 2 (or negative); otherwise a
 * close-on-exec duplicate at 3 or above, @fd being closed. On failure
 * closes @fd and returns -1 with errno set. Async-signal-safe. */
static inline int virFDAboveStdio(int fd)
{
    if (fd < 0 || fd > 2)
        return fd;
    int high = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    int saved = errno;
    close(fd);
    errno = saved;
    return high;
}

/* Copy a string into a fixed buffer, always terminated, truncating. */
static inline void virStrcpyTrunc(char *dst, size_t len, const char *src)
{
    if (len == 0)
        return;
    size_t n = 0;
    /* A loop, not strnlen: gcc warns when the bound exceeds a literal. */
    while (src && n < len - 1 && src[n])
        n++;
    if (n)
        memcpy(dst, src, n);
    dst[n] = '\0';
}
