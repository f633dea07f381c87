/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virstring.h: small string helpers every process uses: object names and
 * a growing text buffer for generated text (XML, configuration files,
 * nftables commands).
 *
 * Thread-safety: the calls keep no state; a buffer is used by one thread.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "util/internal.h"

/* Check an object name (a domain's, a network's, an interface's):
 * 1..@maxlen-1 bytes of [A-Za-z0-9_.-], not starting with '.'. Returns 0,
 * or -1 with @why set to a static English reason. Reports nothing. */
int virNameCheck(const char *name, size_t maxlen, const char **why);

#define VIR_IFNAME_MAX 16      /* IFNAMSIZ: an interface name's bytes with its NUL */

/* Check an interface name: 1..15 bytes of [A-Za-z0-9_.-], not starting
 * with '.', terminated within VIR_IFNAME_MAX. Returns 0, or -1 with @why
 * set. Reports nothing. */
int virIfnameCheck(const char *name, const char **why);

/* Check a DNS name (letters, digits, '-', labels of 1..63 bytes separated
 * by single dots, at most 253 bytes), terminated within @maxlen. Returns
 * 0, or -1 with @why set. Reports nothing. */
int virDNSNameCheck(const char *name, size_t maxlen, const char **why);

/* A growing text buffer. Start with VIR_BUFFER_INIT; an allocation
 * failure is remembered and reported by virBufferFinish, so a caller adds
 * without checking each call. */
typedef struct virBuffer {
    char *s;
    size_t len, cap;
    bool oom;
} virBuffer;
#define VIR_BUFFER_INIT { NULL, 0, 0, false }

void virBufferAddf(virBuffer *b, const char *fmt, ...) ATTRIBUTE_FMT_PRINTF(2, 3);
/* Add @s with the five XML special characters escaped. */
void virBufferEscapeXML(virBuffer *b, const char *s);
/* The text (malloc'd; "" if nothing was added; the caller frees it), or
 * NULL with VIR_ERR_NO_MEMORY reported. The buffer is empty afterwards. */
char *virBufferFinish(virBuffer *b);
