/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * uri.c: parsing connection URIs and their query parameters.
 */
#include <ctype.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>

#include "uri.h"
#include "util/viralloc.h"

#define VIR_FROM_THIS VIR_FROM_URI
#include "util/virerror.h"

void virURIFree(virURI *uri)
{
    if (!uri)
        return;
    free(uri->scheme);
    free(uri->path);
    for (size_t i = 0; i < uri->nparams; i++) {
        free(uri->params[i].name);
        free(uri->params[i].value);
    }
    free(uri);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decode @len bytes of @s into a new string; '+' stays '+'.
 * A NUL byte (%00) or a bad escape is refused. */
static char *decode(const char *s, size_t len, const char *what)
{
    char *out = virAllocN(len + 1, 1);
    size_t j = 0;

    if (!out)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        if (s[i] != '%') {
            out[j++] = s[i];
            continue;
        }
        int hi = i + 1 < len ? hexval(s[i + 1]) : -1;
        int lo = i + 2 < len ? hexval(s[i + 2]) : -1;
        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
            virReportError(VIR_ERR_INVALID_ARG,
                           "invalid URI: bad percent escape in the %s", what);
            free(out);
            return NULL;
        }
        out[j++] = (char)(hi * 16 + lo);
        i += 2;
    }
    out[j] = '\0';
    return out;
}

virURI *virURIParse(const char *str)
{
    VIR_AUTOFREE(virURI *) uri = NULL;
    const char *p, *sep, *q;

    if (!str || !*str) {
        virReportError(VIR_ERR_INVALID_ARG, "%s", "invalid URI: empty");
        return NULL;
    }
    if (strnlen(str, VIR_URI_MAX + 1) > VIR_URI_MAX) {
        virReportError(VIR_ERR_INVALID_ARG,
                       "invalid URI: longer than %d bytes", VIR_URI_MAX);
        return NULL;
    }
    for (p = str; *p; p++) {
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f) {
            virReportError(VIR_ERR_INVALID_ARG,
                           "invalid URI '%s': it contains a space or a "
                           "control or non-ASCII character", str);
            return NULL;
        }
    }
    sep = strstr(str, "://");
    if (!sep || sep == str) {
        virReportError(VIR_ERR_INVALID_ARG,
                       "invalid URI '%s': expected SCHEME:///PATH", str);
        return NULL;
    }
    for (p = str; p < sep; p++) {
        if (!isalnum((unsigned char)*p) && *p != '+' && *p != '-' && *p != '.') {
            virReportError(VIR_ERR_INVALID_ARG,
                           "invalid URI '%s': bad character in the scheme", str);
            return NULL;
        }
    }
    if (!VIR_ALLOC(uri))
        return NULL;
    if (!(uri->scheme = virStrndup(str, sep - str)))
        goto error;

    p = sep + 3;
    if (*p != '/') {
        /* A host (test://host/...) means a remote node: not supported. */
        virReportError(VIR_ERR_INVALID_ARG,
                       "invalid URI '%s': a host is not supported, use %s:///PATH",
                       str, uri->scheme);
        goto error;
    }
    if (strchr(p, '#')) {
        virReportError(VIR_ERR_INVALID_ARG,
                       "invalid URI '%s': fragments are not supported", str);
        goto error;
    }
    q = strchr(p, '?');
    if (!(uri->path = decode(p, q ? (size_t)(q - p) : strlen(p), "path")))
        goto error;

    while (q && *q) {
        const char *start = q + 1, *end, *eq;
        end = start + strcspn(start, "&;");
        q = *end ? end : NULL;
        if (end == start)
            continue;
        if (uri->nparams == VIR_URI_PARAMS_MAX) {
            virReportError(VIR_ERR_INVALID_ARG,
                           "invalid URI '%s': more than %d parameters",
                           str, VIR_URI_PARAMS_MAX);
            goto error;
        }
        eq = memchr(start, '=', end - start);
        if (!eq || eq == start) {
            virReportError(VIR_ERR_INVALID_ARG,
                           "invalid URI '%s': parameter '%.*s' is not NAME=VALUE",
                           str, (int)(end - start), start);
            goto error;
        }
        virURIParam *pp = &uri->params[uri->nparams++];
        if (!(pp->name = decode(start, eq - start, "parameter name")) ||
            !(pp->value = decode(eq + 1, end - eq - 1, "parameter value")))
            goto error;
        for (size_t i = 0; i + 1 < uri->nparams; i++) {
            if (STREQ(uri->params[i].name, pp->name)) {
                virReportError(VIR_ERR_INVALID_ARG,
                               "invalid URI '%s': parameter '%s' given twice",
                               str, pp->name);
                goto error;
            }
        }
    }
    return VIR_STEAL_PTR(uri);

 error:
    virURIFree(VIR_STEAL_PTR(uri));
    return NULL;
}

/* A decimal unsigned number in [0, max], nothing else. */
static int parseNumber(const virURIParam *p, unsigned long long max,
                       unsigned long long *out)
{
    const char *s = p->value;
    unsigned long long v = 0;

    if (!*s)
        goto bad;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            goto bad;
        unsigned d = (unsigned)(*s - '0');
        if (d > max || v > (max - d) / 10)
            goto range;
        v = v * 10 + d;
    }
    *out = v;
    return 0;

 bad:
    virReportError(VIR_ERR_INVALID_ARG,
                   "invalid URI parameter %s='%s': expected a decimal number",
                   p->name, p->value);
    return -1;
 range:
    virReportError(VIR_ERR_INVALID_ARG,
                   "invalid URI parameter %s='%s': larger than %llu",
                   p->name, p->value, max);
    return -1;
}

static int resolveUser(const virURIParam *p, virSupGroupConfig *g)
{
    struct passwd pw, *res = NULL;
    char buf[16384];
    int rc;

    if (geteuid() != 0) {
        virReportError(VIR_ERR_OPERATION_DENIED,
                       "URI parameter worker_user='%s' needs root: only root "
                       "can run workers as another user", p->value);
        return -1;
    }
    rc = getpwnam_r(p->value, &pw, buf, sizeof(buf), &res);
    if (rc != 0) {
        virReportSystemError(rc, "cannot look up worker_user '%s'", p->value);
        return -1;
    }
    if (!res) {
        virReportError(VIR_ERR_INVALID_ARG,
                       "invalid URI parameter worker_user='%s': no such user",
                       p->value);
        return -1;
    }
    g->set_ids = true;
    g->uid = pw.pw_uid;
    g->gid = pw.pw_gid;
    return 0;
}

const char *const virURICommonParams[] = {
    "grace", "max_workers", "stall", "stall_cancel", "worker_user",
    "rlimit_as", "rlimit_cpu", "rlimit_nofile", "rlimit_fsize", NULL
};

static bool inList(const char *const *list, const char *name)
{
    for (size_t i = 0; list && list[i]; i++)
        if (STREQ(list[i], name))
            return true;
    return false;
}

static void unknownParam(const char *name, const char *const *driverParams)
{
    char known[512] = "";
    size_t len = 0;
    const char *const *lists[] = { virURICommonParams, driverParams };

    for (size_t l = 0; l < ARRAY_CARDINALITY(lists); l++) {
        for (size_t i = 0; lists[l] && lists[l][i]; i++) {
            int n = snprintf(known + len, sizeof(known) - len, "%s%s",
                             len ? ", " : "", lists[l][i]);
            if (n < 0 || (size_t)n >= sizeof(known) - len)
                break;
            len += (size_t)n;
        }
    }
    virReportError(VIR_ERR_INVALID_ARG,
                   "invalid URI: unknown parameter '%s' (known: %s)", name, known);
}

const char *virURIGetParam(const virURI *uri, const char *name)
{
    for (size_t i = 0; i < uri->nparams; i++)
        if (STREQ(uri->params[i].name, name))
            return uri->params[i].value;
    return NULL;
}

int virURIGetNumber(const virURI *uri, const char *name, unsigned long long max,
                    unsigned long long *out)
{
    for (size_t i = 0; i < uri->nparams; i++)
        if (STREQ(uri->params[i].name, name))
            return parseNumber(&uri->params[i], max, out) < 0 ? -1 : 1;
    return 0;
}

int virURIToConfig(const virURI *uri, const char *const *driverParams,
                   virConnectConfig *cfg)
{
    memset(cfg, 0, sizeof(*cfg));

    for (size_t i = 0; i < uri->nparams; i++) {
        const virURIParam *p = &uri->params[i];
        virSupGroupConfig *g = &cfg->group;
        unsigned long long v;

        if (!inList(virURICommonParams, p->name)) {
            if (inList(driverParams, p->name))
                continue;       /* the driver's own: it reads it */
            unknownParam(p->name, driverParams);
            return -1;
        }
        if (STREQ(p->name, "worker_user")) {
            if (resolveUser(p, g) < 0)
                return -1;
        } else if (STREQ(p->name, "grace")) {
            if (parseNumber(p, INT_MAX, &v) < 0)
                return -1;
            g->grace_ms = v;
        } else if (STREQ(p->name, "max_workers")) {
            if (parseNumber(p, 4096, &v) < 0)
                return -1;
            if (v == 0) {
                virReportError(VIR_ERR_INVALID_ARG, "%s",
                               "invalid URI parameter max_workers=0: at least one "
                               "worker is needed");
                return -1;
            }
            g->max_workers = v;
        } else if (STREQ(p->name, "stall")) {
            if (parseNumber(p, INT_MAX, &v) < 0)
                return -1;
            g->stall_ms = v;
        } else if (STREQ(p->name, "stall_cancel")) {
            if (parseNumber(p, 1, &v) < 0)
                return -1;
            g->stall_cancel = v == 1;
        } else if (STREQ(p->name, "rlimit_as")) {
            if (parseNumber(p, UINT64_MAX, &v) < 0)
                return -1;
            g->rlimit_as = v;
        } else if (STREQ(p->name, "rlimit_cpu")) {
            if (parseNumber(p, UINT64_MAX, &v) < 0)
                return -1;
            g->rlimit_cpu = v;
        } else if (STREQ(p->name, "rlimit_nofile")) {
            if (parseNumber(p, 1024 * 1024, &v) < 0)
                return -1;
            g->rlimit_nofile = v;
        } else if (STREQ(p->name, "rlimit_fsize")) {
            if (parseNumber(p, UINT64_MAX, &v) < 0)
                return -1;
            g->rlimit_fsize = v;
        }
    }
    return 0;
}
