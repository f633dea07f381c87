/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virstring.c: object names and the growing text buffer (virstring.h).
 */
#include <stdarg.h>
#include <stdio.h>

#include "util/viralloc.h"
#include "util/virerror.h"
#include "util/virstring.h"

int virNameCheck(const char *name, size_t maxlen, const char **why)
{
    size_t len = strnlen(name, maxlen);

    if (len == maxlen) {
        *why = "name is too long or not terminated";
        return -1;
    }
    if (len == 0) {
        *why = "name is empty";
        return -1;
    }
    if (name[0] == '.') {
        *why = "name starts with '.'";
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-')) {
            *why = "name holds a character other than letters, digits, '_', '.' and '-'";
            return -1;
        }
    }
    return 0;
}

int virIfnameCheck(const char *name, const char **why)
{
    if (strnlen(name, VIR_IFNAME_MAX) == VIR_IFNAME_MAX) {
        *why = "interface name is longer than 15 bytes";
        return -1;
    }
    return virNameCheck(name, VIR_IFNAME_MAX, why);
}

int virDNSNameCheck(const char *name, size_t maxlen, const char **why)
{
    size_t len = strnlen(name, maxlen), label = 0;

    if (len == maxlen || len > 253) {
        *why = "DNS name is longer than 253 bytes";
        return -1;
    }
    if (len == 0) {
        *why = "DNS name is empty";
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (c == '.') {
            if (label == 0 || name[i - 1] == '-') {
                *why = "DNS name has an empty label or a label ending in '-'";
                return -1;
            }
            label = 0;
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '-')) {
            *why = "DNS name holds a character other than letters, digits, '-' and '.'";
            return -1;
        }
        if (c == '-' && label == 0) {
            *why = "DNS name has a label starting with '-'";
            return -1;
        }
        if (++label > 63) {
            *why = "DNS name has a label longer than 63 bytes";
            return -1;
        }
    }
    if (label == 0 || name[len - 1] == '-') {
        *why = "DNS name ends with '.' or '-'";
        return -1;
    }
    return 0;
}

void virBufferAddf(virBuffer *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (b->oom)
        return;
    for (;;) {
        va_start(ap, fmt);
        n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->oom = true;
            return;
        }
        if (b->s && b->len + (size_t)n < b->cap) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = (b->cap ? b->cap : 512) * 2 + (size_t)n;
        char *s = virReallocN(b->s, cap, 1);
        if (!s) {
            b->oom = true;
            return;
        }
        b->s = s;
        b->cap = cap;
    }
}

void virBufferEscapeXML(virBuffer *b, const char *s)
{
    static const struct {
        char c;
        const char *entity;
    } esc[] = {
        { '&', "&amp;" }, { '<', "&lt;" }, { '>', "&gt;" }, { '\'', "&apos;" }, { '"', "&quot;" },
    };

    while (*s) {
        size_t run = strcspn(s, "&<>'\"");
        if (run)
            virBufferAddf(b, "%.*s", (int)run, s);
        s += run;
        if (!*s)
            break;
        for (size_t i = 0; i < ARRAY_CARDINALITY(esc); i++)
            if (esc[i].c == *s)
                virBufferAddf(b, "%s", esc[i].entity);
        s++;
    }
}

char *virBufferFinish(virBuffer *b)
{
    char *s = b->s;

    if (!b->oom && !s)
        s = virAllocN(1, 1);
    if (b->oom || !s) {
        free(b->oom ? s : NULL);
        b->s = NULL;
        b->len = b->cap = 0;
        b->oom = false;
        virReportOOMError();
        return NULL;
    }
    b->s = NULL;
    b->len = b->cap = 0;
    return s;
}
