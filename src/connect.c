/*
 * connect.c: connections, the handle helpers shared by domain.c and
 * network.c, and UUIDs.
 */
#include <stdio.h>
#include <sys/random.h>

#include "driver.h"
#include "util/viralloc.h"

#define VIR_FROM_THIS VIR_FROM_NONE
#include "util/virerror.h"

static const virConnectDriver *const drivers[] = {
    &testConnectDriver,
};

#define DEFAULT_URI "test:///default"

/* ---- UUIDs -------------------------------------------------------------- */

int virUUIDParse(const char *str, unsigned char *uuid)
{
    size_t n = 0;

    if (!str)
        return -1;
    while (*str == ' ')
        str++;
    for (; *str && n < 32; str++) {
        int v;
        if (*str == '-')
            continue;
        if (*str >= '0' && *str <= '9')
            v = *str - '0';
        else if (*str >= 'a' && *str <= 'f')
            v = *str - 'a' + 10;
        else if (*str >= 'A' && *str <= 'F')
            v = *str - 'A' + 10;
        else
            return -1;
        if (n % 2 == 0)
            uuid[n / 2] = (unsigned char)(v << 4);
        else
            uuid[n / 2] |= (unsigned char)v;
        n++;
    }
    while (*str == ' ')
        str++;
    return n == 32 && *str == '\0' ? 0 : -1;
}

void virUUIDFormat(const unsigned char *u, char *buf)
{
    snprintf(buf, VIR_UUID_STRING_BUFLEN,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
             "%02x%02x%02x%02x%02x%02x",
             u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7],
             u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
}

int virUUIDGenerate(unsigned char *uuid)
{
    if (getrandom(uuid, VIR_UUID_BUFLEN, 0) != VIR_UUID_BUFLEN) {
        virReportSystemError(errno, "%s", "cannot generate a UUID");
        return -1;
    }
    uuid[6] = (uuid[6] & 0x0f) | 0x40;
    uuid[8] = (uuid[8] & 0x3f) | 0x80;
    return 0;
}

/* ---- connection references ------------------------------------------- */

void virConnectHold(virConnectPtr conn)
{
    /* Relaxed: taking a reference publishes nothing; the holder already
     * reached conn through a reference of its own. */
    atomic_fetch_add_explicit(&conn->refs, 1, memory_order_relaxed);
}

void virConnectRelease(virConnectPtr conn)
{
    if (!conn)
        return;
    /* acq_rel: every use of the object by other holders happens before
     * the free by the last one. */
    if (atomic_fetch_sub_explicit(&conn->refs, 1, memory_order_acq_rel) != 1)
        return;
    if (conn->driver && conn->driver->connectFree)
        conn->driver->connectFree(conn);
    atomic_store_explicit(&conn->magic, VIR_DEAD_MAGIC, memory_order_relaxed);
    pthread_mutex_destroy(&conn->closeLock);
    free(conn->uri);
    free(conn);
}

static bool connectValid(virConnectPtr conn)
{
    return conn && atomic_load_explicit(&conn->magic, memory_order_relaxed) ==
                   VIR_CONNECT_MAGIC;
}

int virConnectCheck(virConnectPtr conn, const char *func)
{
    if (!connectValid(conn)) {
        virReportErrorFull(VIR_FROM_NONE, VIR_ERR_INVALID_CONN, 0,
                           "%s: invalid connection pointer", func);
        return -1;
    }
    if (atomic_load_explicit(&conn->closed, memory_order_acquire)) {
        virReportErrorFull(VIR_FROM_NONE, VIR_ERR_INVALID_CONN, 0,
                           "%s: the connection '%s' has been closed", func,
                           conn->uri);
        return -1;
    }
    return 0;
}

int virConnectCheckWritable(virConnectPtr conn, const char *func)
{
    if (virConnectCheck(conn, func) < 0)
        return -1;
    if (conn->readonly) {
        virReportErrorFull(VIR_FROM_NONE, VIR_ERR_OPERATION_DENIED, 0,
                           "%s: the connection '%s' is read-only", func,
                           conn->uri);
        return -1;
    }
    return 0;
}

/* ---- object handles ---------------------------------------------------- */

virDomainPtr virGetDomain(virConnectPtr conn, const char *name,
                          const unsigned char *uuid)
{
    virDomainPtr dom;

    if (!VIR_ALLOC(dom))
        return NULL;
    virStrcpyTrunc(dom->name, sizeof(dom->name), name);
    memcpy(dom->uuid, uuid, VIR_UUID_BUFLEN);
    virConnectHold(conn);
    dom->conn = conn;
    atomic_init(&dom->refs, 1);
    atomic_init(&dom->magic, VIR_DOMAIN_MAGIC);
    return dom;
}

virNetworkPtr virGetNetwork(virConnectPtr conn, const char *name,
                            const unsigned char *uuid)
{
    virNetworkPtr net;

    if (!VIR_ALLOC(net))
        return NULL;
    virStrcpyTrunc(net->name, sizeof(net->name), name);
    memcpy(net->uuid, uuid, VIR_UUID_BUFLEN);
    virConnectHold(conn);
    net->conn = conn;
    atomic_init(&net->refs, 1);
    atomic_init(&net->magic, VIR_NETWORK_MAGIC);
    return net;
}

/* ---- public calls -------------------------------------------------------- */

static virConnectPtr connectOpen(const char *name, bool readonly)
{
    virURI *uri = NULL;
    virConnectConfig cfg;
    virConnectPtr conn = NULL;
    const virConnectDriver *drv = NULL;

    if (!name)
        name = DEFAULT_URI;
    if (!(uri = virURIParse(name)))
        return NULL;
    for (size_t i = 0; i < ARRAY_CARDINALITY(drivers); i++) {
        if (STREQ(drivers[i]->name, uri->scheme))
            drv = drivers[i];
    }
    if (!drv) {
        virReportError(VIR_ERR_NO_SUPPORT,
                       "no driver for URI '%s': unknown scheme '%s' "
                       "(supported: test)", name, uri->scheme);
        goto cleanup;
    }
    if (virURIToConfig(uri, &cfg) < 0)
        goto cleanup;
    if (!VIR_ALLOC(conn))
        goto cleanup;
    if (!(conn->uri = virStrdup(name))) {
        virReportOOMError();
        free(conn);
        conn = NULL;
        goto cleanup;
    }
    pthread_mutex_init(&conn->closeLock, NULL);
    atomic_init(&conn->refs, 1);
    atomic_init(&conn->openRefs, 1);
    atomic_init(&conn->magic, VIR_CONNECT_MAGIC);
    conn->readonly = readonly;
    conn->driver = drv;
    if (drv->connectOpen(conn, uri, &cfg) < 0) {
        virErrorPtr saved = virSaveLastError();
        conn->driver = NULL;
        virConnectRelease(conn);
        virRestoreLastError(&saved);
        conn = NULL;
    }

 cleanup:
    virURIFree(uri);
    return conn;
}

/**
 * virConnectOpen:
 * @name: a URI (see libvirtsup-host.h and docs/TEST-DRIVER.md); NULL is
 *         test:///default
 *
 * Opens a connection with its own node state and its own supervisor group.
 * Returns it (close with virConnectClose()), or NULL: VIR_ERR_INVALID_ARG
 * (bad URI or parameter), VIR_ERR_NO_SUPPORT (unknown scheme),
 * VIR_ERR_XML_ERROR (bad node description).
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT virConnectPtr virConnectOpen(const char *name)
{
    virResetLastError();
    return connectOpen(name, false);
}

/**
 * virConnectOpenReadOnly:
 * As virConnectOpen; the connection may list and watch only: every call
 * that changes something fails with VIR_ERR_OPERATION_DENIED.
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT virConnectPtr virConnectOpenReadOnly(const char *name)
{
    virResetLastError();
    return connectOpen(name, true);
}

/**
 * virConnectClose:
 * Drops a reference taken by open or virConnectRef. The last one closes
 * the connection: its jobs are cancelled and reaped (this waits, at most
 * their grace period); its domain and network handles then fail with
 * VIR_ERR_INVALID_CONN but may still be freed. Returns the references
 * left, or -1.
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT int virConnectClose(virConnectPtr conn)
{
    int left;

    virResetLastError();
    if (virConnectCheck(conn, __func__) < 0)
        return -1;
    /* acq_rel: the closer sees every use made under the other references. */
    left = atomic_fetch_sub_explicit(&conn->openRefs, 1, memory_order_acq_rel) - 1;
    if (left < 0) {
        /* Raced with another close of the last reference. */
        atomic_fetch_add_explicit(&conn->openRefs, 1, memory_order_relaxed);
        virReportError(VIR_ERR_INVALID_CONN, "%s",
                       "virConnectClose: the connection has been closed");
        return -1;
    }
    if (left == 0) {
        pthread_mutex_lock(&conn->closeLock);
        /* release: calls that see "closed" also see the driver torn down. */
        atomic_store_explicit(&conn->closed, true, memory_order_release);
        if (conn->driver->connectClose)
            conn->driver->connectClose(conn);
        pthread_mutex_unlock(&conn->closeLock);
        virConnectRelease(conn);
    }
    return left;
}

/**
 * virConnectRef:
 * Takes one more reference, dropped with virConnectClose(). Returns 0 or
 * -1.
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT int virConnectRef(virConnectPtr conn)
{
    virResetLastError();
    if (virConnectCheck(conn, __func__) < 0)
        return -1;
    atomic_fetch_add_explicit(&conn->openRefs, 1, memory_order_relaxed);
    return 0;
}

/**
 * virConnectGetURI:
 * Returns the URI the connection was opened with, malloc'd (the caller
 * frees it), or NULL.
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT char *virConnectGetURI(virConnectPtr conn)
{
    char *ret;

    virResetLastError();
    if (virConnectCheck(conn, __func__) < 0)
        return NULL;
    if (!(ret = virStrdup(conn->uri)))
        virReportOOMError();
    return ret;
}

/**
 * virConnectIsReadOnly:
 * Returns 1 if read-only, 0 if not, -1 on error.
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT int virConnectIsReadOnly(virConnectPtr conn)
{
    virResetLastError();
    if (virConnectCheck(conn, __func__) < 0)
        return -1;
    return conn->readonly ? 1 : 0;
}

/* ---- jobs ------------------------------------------------------------------ */

int virJobWaitResult(virJobPtr job, virDomainPtr *dom, virNetworkPtr *net)
{
    virJobInfo info;
    virErrorPtr saved;
    int ret = -1;

    if (!job)
        return -1;
    if (virJobWait(job, -1) != 0 || virJobGetInfo(job, &info) < 0)
        goto cleanup;
    if (info.state == VIR_JOB_COMPLETE) {
        if (dom && !(*dom = virJobGetDomain(job)))
            goto cleanup;
        if (net && !(*net = virJobGetNetwork(job)))
            goto cleanup;
        ret = 0;
    } else {
        virErrorPtr err = virJobGetError(job);
        if (err && err->message)
            virReportErrorFull(err->domain, err->code, err->int1, "%s",
                               err->message);
        else
            virReportError(VIR_ERR_OPERATION_FAILED, "job %llu %s",
                           virJobGetID(job),
                           info.state == VIR_JOB_CANCELLED ? "was cancelled"
                                                           : "failed");
    }

 cleanup:
    saved = ret < 0 ? virSaveLastError() : NULL;
    virJobDestroy(job);
    if (ret < 0)
        virRestoreLastError(&saved);
    return ret;
}
