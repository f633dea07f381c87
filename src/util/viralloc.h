/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * viralloc.h: allocation in the library, with a test hook that fails the
 * Nth allocation (SQLite-style fault injection, see tests/alloc-test.c).
 *
 * Every wrapper reports VIR_ERR_NO_MEMORY on failure and returns NULL/-1.
 * Thread-safety: all calls are thread-safe; the failure counter is global.
 */
#pragma once

#include "util/internal.h"

void *virAllocN(size_t count, size_t size);          /* zeroed, like calloc */
void *virReallocN(void *ptr, size_t count, size_t size);
char *virStrdup(const char *s);                        /* NULL in, NULL out, no error */
char *virStrndup(const char *s, size_t n);
char *virAsprintf(const char *fmt, ...) ATTRIBUTE_FMT_PRINTF(1, 2);

#define VIR_ALLOC(ptr) ((ptr) = virAllocN(1, sizeof(*(ptr))))
#define VIR_ALLOC_N(ptr, n) ((ptr) = virAllocN((n), sizeof(*(ptr))))

/* Test hook: the Nth wrapped allocation from now fails (n >= 1); 0 turns
 * the hook off. Returns how many wrapped allocations happened since the
 * last call, so a test can learn how many a call makes. */
long virAllocTestHook(long failAt);
