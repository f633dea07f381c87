/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * drivertest.h: helpers shared by the tests/driver-*-test.c programs
 * (connections, domains and the test driver through the public API).
 */
#pragma once

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "libvirtsup/libvirtsup.h"
#include "util/internal.h"
#include "testutils.h"

#define TEST_NS "xmlns:test='http://libvirtsup.org/schemas/test/1.0'"

static char *rundir;

static inline int drvSetupRundir(void **state)
{
    (void)state;
    if (!(rundir = testMakeRunDir()))
        return -1;
    return 0;
}

static inline int drvTeardownRundir(void **state)
{
    (void)state;
    testRemoveDir(rundir);
    free(rundir);
    rundir = NULL;
    return 0;
}

/* Skip (exit 77) when the worker program is not there. */
static inline void drvNeedWorker(void)
{
    const char *w = getenv("VIRTSUP_WORKER");
    if (!w || access(w, X_OK) != 0) {
        printf("VIRTSUP_WORKER is not set to an executable worker: run through make check\n");
        exit(77);
    }
}

/* The last error's code (0 if none). */
static inline int drvLastCode(void)
{
    virErrorPtr e = virGetLastError();
    return e ? e->code : 0;
}

#define assert_last_error(code_) \
    do { \
        if (drvLastCode() != (code_)) \
            fail_msg("expected error %d, got %d: %s", (code_), drvLastCode(), \
                     virGetLastErrorMessage()); \
    } while (0)

#define assert_last_message_has(s_) \
    do { \
        if (!strstr(virGetLastErrorMessage(), (s_))) \
            fail_msg("error message '%s' lacks '%s'", virGetLastErrorMessage(), (s_)); \
    } while (0)

/* A path under the run directory; static buffer per call site is enough. */
static inline char *drvPath(char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "%s/%s", rundir, name);
    return buf;
}

static inline void drvWriteFile(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* The whole file, malloc'd; *len set. NULL if it does not exist. */
static inline uint8_t *drvReadFile(const char *path, size_t *len)
{
    FILE *f = fopen(path, "r");
    uint8_t *buf = NULL;
    size_t cap = 0, n = 0;

    if (!f)
        return NULL;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 1 << 20;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        if (r == 0)
            break;
        n += r;
    }
    fclose(f);
    *len = n;
    return buf;
}

static inline bool drvExists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* Define a domain of @kib KiB named @name, with extra XML (faults, rate). */
static inline virDomainPtr drvDefine(virConnectPtr conn, const char *name,
                                     unsigned long long kib, const char *extra)
{
    char xml[4096];
    virDomainPtr dom;

    snprintf(xml, sizeof(xml),
             "<domain type='test' " TEST_NS "><name>%s</name>"
             "<memory unit='KiB'>%llu</memory><vcpu>1</vcpu>%s</domain>",
             name, kib, extra ? extra : "");
    dom = virDomainDefineXML(conn, xml);
    if (!dom)
        fail_msg("define %s: %s", name, virGetLastErrorMessage());
    return dom;
}

/* Start the spawn helper of the test driver's ops that read XML (a define
 * runs there) before a test counts its descriptors and children: like
 * every sandbox's helper, it lives as long as the supervisor. Returns 0,
 * or -1 with the error left set. */
static inline int drvStartXMLHelper(virConnectPtr conn)
{
    virDomainPtr dom = virDomainDefineXML(conn, "<domain type='test'><name>xml-helper"
                                          "</name><memory unit='KiB'>1024</memory>"
                                          "<vcpu>1</vcpu></domain>");
    int rc = dom && virDomainUndefine(dom) == 0 ? 0 : -1;
    if (dom)
        virDomainFree(dom);
    return rc;
}

static inline int drvState(virDomainPtr dom)
{
    int st = -1;
    assert_int_equal(virDomainGetState(dom, &st, NULL, 0), 0);
    return st;
}

/* Wait for @job and return its state; *code (if given) gets the error code. */
static inline int drvWait(virJobPtr job, int *code)
{
    virJobInfo info;
    assert_non_null(job);
    assert_int_equal(virJobWait(job, TEST_TIMEOUT_MS), 0);
    assert_int_equal(virJobGetInfo(job, &info), 0);
    if (code) {
        virErrorPtr e = virJobGetError(job);
        *code = e ? e->code : 0;
    }
    return info.state;
}

/* The job's error message, or "". */
static inline const char *drvJobMessage(virJobPtr job)
{
    virErrorPtr e = virJobGetError(job);
    return e && e->message ? e->message : "";
}

/* Open a connection to a node description written from @xml (domains in
 * it start running without a boot job). @params: "" or "?grace=300". */
static inline virConnectPtr drvOpenNode(const char *name, const char *xml,
                                        const char *params)
{
    char path[512], uri[700];
    virConnectPtr c;

    drvPath(path, sizeof(path), name);
    drvWriteFile(path, xml, strlen(xml));
    snprintf(uri, sizeof(uri), "test://%s%s", path, params);
    if (!(c = virConnectOpen(uri)))
        fail_msg("open %s: %s", uri, virGetLastErrorMessage());
    return c;
}
