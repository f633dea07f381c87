/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * connect.c: connections, the handle helpers shared by domain.c and
 * network.c, and UUIDs; libvirt's per-connection error handlers, close
 * callback and default authentication callbacks.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/random.h>
#include <termios.h>

#include "driver.h"
#include "supervisor/supervisor.h"
#include "util/viralloc.h"

#define VIR_FROM_THIS VIR_FROM_NONE
#include "util/virerror.h"

static const virConnectDriver *const drivers[] = {
    &testConnectDriver,
    &networkConnectDriver,
    &qemuConnectDriver,
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

/* Opened before a fork, in an ancestor of this process. */
static bool connInherited(virConnectPtr conn)
{
    return conn->forkgen != virSupForkGeneration();
}

static void connInheritedError(virConnectPtr conn, const char *func, int from)
{
    virReportErrorFull(from, VIR_ERR_INVALID_CONN, 0,
                       "%s: this connection belongs to the parent process (pid %d); "
                       "open a new connection after fork", func, (int)conn->owner);
}

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
    bool inherited = connInherited(conn);
    /* A connection of the parent (forked child): the driver's state is
     * the parent's, with its locks possibly held by threads that do not
     * exist here and its jobs' files in use by the parent: kept as it is,
     * never torn down or freed through the driver. */
    if (inherited) {
        virSupForkKeep(conn->privateData);
        virSupForkKeep(conn->networkPrivateData);
    } else if (conn->driver && conn->driver->connectFree)
        conn->driver->connectFree(conn);
    atomic_store_explicit(&conn->magic, VIR_DEAD_MAGIC, memory_order_relaxed);
    if (conn->closeFree)
        conn->closeFree(conn->closeOpaque);
    virErrorForgetConn(conn);
    virResetError(&conn->err);
    if (!inherited) {
        pthread_mutex_destroy(&conn->errLock);
        pthread_mutex_destroy(&conn->closeLock);
    }
    free(conn->uri);
    free(conn);
}

static bool connectValid(virConnectPtr conn)
{
    return conn && atomic_load_explicit(&conn->magic, memory_order_relaxed) ==
                   VIR_CONNECT_MAGIC;
}

int virConnectCheckFrom(virConnectPtr conn, const char *func, int from)
{
    if (!connectValid(conn)) {
        virReportErrorFull(from, VIR_ERR_INVALID_CONN, 0,
                           "invalid connection pointer in %s", func);
        return -1;
    }
    if (connInherited(conn)) {
        connInheritedError(conn, func, from);
        return -1;
    }
    virErrorSetCurrentConn(conn);
    if (atomic_load_explicit(&conn->closed, memory_order_acquire)) {
        virReportErrorFull(from, VIR_ERR_INVALID_CONN, 0,
                           "invalid connection pointer in %s: the connection "
                           "'%s' has been closed", func, conn->uri);
        return -1;
    }
    return 0;
}

int virConnectCheckWritableFrom(virConnectPtr conn, const char *func, int from)
{
    if (virConnectCheckFrom(conn, func, from) < 0)
        return -1;
    if (conn->readonly) {
        virReportErrorFull(from, VIR_ERR_OPERATION_DENIED, 0,
                           "read only access prevents %s (the connection '%s' "
                           "is read-only)", func, conn->uri);
        return -1;
    }
    return 0;
}

/* ---- errors by connection ------------------------------------------------- */

static void connErrorRecord(void *opaque, const virError *err)
{
    virConnectPtr conn = opaque;
    virError copy = *err;

    copy.message = virStrdup(err->message);
    copy.str1 = virStrdup(err->str1);
    copy.str2 = virStrdup(err->str2);
    copy.str3 = virStrdup(err->str3);
    pthread_mutex_lock(&conn->errLock);
    virResetError(&conn->err);
    conn->err = copy;
    pthread_mutex_unlock(&conn->errLock);
}

static void connErrorHandler(void *opaque, virErrorFunc *func, void **data)
{
    virConnectPtr conn = opaque;

    pthread_mutex_lock(&conn->errLock);
    *func = conn->errFunc;
    *data = conn->errFuncData;
    pthread_mutex_unlock(&conn->errLock);
}

static const virErrorConnHooks connHooks = {
    .record = connErrorRecord,
    .handler = connErrorHandler,
};

static pthread_once_t connHooksOnce = PTHREAD_ONCE_INIT;

static void connHooksInit(void)
{
    virErrorSetConnHooks(&connHooks);
}

/* The calls below work on a closed connection too, while it is not freed,
 * as libvirt's do (its last error is what a caller wants then). */
static bool connCheckMagic(virConnectPtr conn, const char *func)
{
    if (connectValid(conn))
        return true;
    virReportErrorFull(VIR_FROM_NONE, VIR_ERR_INVALID_CONN, 0,
                       "invalid connection pointer in %s", func);
    return false;
}

/**
 * virConnSetErrorFunc:
 * See libvirtsup/virterror.h. Thread-safety: safe from any thread.
 * Since: 0.1.0
 */
VIR_EXPORT void virConnSetErrorFunc(virConnectPtr conn, void *userData,
                                    virErrorFunc handler)
{
    virResetLastError();
    if (!connCheckMagic(conn, __func__))
        return;
    pthread_mutex_lock(&conn->errLock);
    conn->errFunc = handler;
    conn->errFuncData = userData;
    pthread_mutex_unlock(&conn->errLock);
}

VIR_EXPORT virErrorPtr virConnGetLastError(virConnectPtr conn)
{
    virErrorPtr ret;

    if (!connectValid(conn))
        return NULL;
    pthread_mutex_lock(&conn->errLock);
    ret = conn->err.code == VIR_ERR_OK ? NULL : &conn->err;
    pthread_mutex_unlock(&conn->errLock);
    return ret;
}

VIR_EXPORT int virConnCopyLastError(virConnectPtr conn, virErrorPtr to)
{
    int code;

    if (!connectValid(conn) || !to)
        return -1;
    memset(to, 0, sizeof(*to));
    pthread_mutex_lock(&conn->errLock);
    code = conn->err.code;
    if (code != VIR_ERR_OK) {
        *to = conn->err;
        to->message = virStrdup(conn->err.message);
        to->str1 = virStrdup(conn->err.str1);
        to->str2 = virStrdup(conn->err.str2);
        to->str3 = virStrdup(conn->err.str3);
    }
    pthread_mutex_unlock(&conn->errLock);
    return code;
}

VIR_EXPORT void virConnResetLastError(virConnectPtr conn)
{
    if (!connectValid(conn))
        return;
    pthread_mutex_lock(&conn->errLock);
    virResetError(&conn->err);
    pthread_mutex_unlock(&conn->errLock);
}

/* ---- object handles ---------------------------------------------------- */

/* libvirt's error domains: an invalid domain pointer is VIR_FROM_DOM, the
 * connection checks of domain calls VIR_FROM_DOMAIN; networks are
 * VIR_FROM_NETWORK for both. */
const virHandleKind virDomainHandle = {
    VIR_DOMAIN_MAGIC, VIR_ERR_INVALID_DOMAIN, VIR_FROM_DOM, VIR_FROM_DOMAIN, "domain",
};
const virHandleKind virNetworkHandle = {
    VIR_NETWORK_MAGIC, VIR_ERR_INVALID_NETWORK, VIR_FROM_NETWORK, VIR_FROM_NETWORK, "network",
};

static bool handleValid(const virHandleKind *kind, const _Atomic uint32_t *magic,
                        const char *func)
{
    if (magic && atomic_load_explicit(magic, memory_order_relaxed) == kind->magic)
        return true;
    virReportErrorFull(kind->invalidFrom, kind->invalid, 0, "invalid %s pointer in %s",
                       kind->what, func);
    return false;
}

int virHandleCheck(const virHandleKind *kind, const _Atomic uint32_t *magic,
                   virConnectPtr const *conn, bool writable, const char *func)
{
    if (!handleValid(kind, magic, func))
        return -1;
    return writable ? virConnectCheckWritableFrom(*conn, func, kind->connFrom)
                    : virConnectCheckFrom(*conn, func, kind->connFrom);
}

int virDomainCheck(virDomainPtr dom, const char *func)
{
    return virHandleCheck(&virDomainHandle, VIR_HANDLE_MAGIC(dom), VIR_HANDLE_CONN(dom),
                          false, func);
}

int virDomainCheckWritable(virDomainPtr dom, const char *func)
{
    return virHandleCheck(&virDomainHandle, VIR_HANDLE_MAGIC(dom), VIR_HANDLE_CONN(dom),
                          true, func);
}

int virNetworkCheck(virNetworkPtr net, const char *func)
{
    return virHandleCheck(&virNetworkHandle, VIR_HANDLE_MAGIC(net), VIR_HANDLE_CONN(net),
                          false, func);
}

int virNetworkCheckWritable(virNetworkPtr net, const char *func)
{
    return virHandleCheck(&virNetworkHandle, VIR_HANDLE_MAGIC(net), VIR_HANDLE_CONN(net),
                          true, func);
}

int virHandleRef(const virHandleKind *kind, _Atomic uint32_t *magic,
                 _Atomic int *refs, const char *func)
{
    if (!handleValid(kind, magic, func))
        return -1;
    /* Relaxed: the caller holds a reference already. */
    atomic_fetch_add_explicit(refs, 1, memory_order_relaxed);
    return 0;
}

int virHandleFree(const virHandleKind *kind, void *handle, _Atomic uint32_t *magic,
                  _Atomic int *refs, virConnectPtr *conn, const char *func)
{
    if (!handleValid(kind, magic, func))
        return -1;
    /* acq_rel: all uses through other references happen before the free. */
    if (atomic_fetch_sub_explicit(refs, 1, memory_order_acq_rel) == 1) {
        atomic_store_explicit(magic, VIR_DEAD_MAGIC, memory_order_relaxed);
        virConnectRelease(*conn);
        free(handle);
    }
    return 0;
}

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

    pthread_once(&connHooksOnce, connHooksInit);
    if (!name) {
        /* As libvirt: the environment names the default connection. */
        const char *env = getenv("LIBVIRT_DEFAULT_URI");
        name = env && *env ? env : DEFAULT_URI;
    }
    if (!(uri = virURIParse(name)))
        return NULL;
    for (size_t i = 0; i < ARRAY_CARDINALITY(drivers); i++) {
        if (STREQ(drivers[i]->name, uri->scheme))
            drv = drivers[i];
    }
    if (!drv) {
        virReportError(VIR_ERR_NO_SUPPORT,
                       "no driver for URI '%s': unknown scheme '%s' "
                       "(supported: test, network)", name, uri->scheme);
        goto cleanup;
    }
    if (virURIToConfig(uri, drv->uriParams, &cfg) < 0)
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
    pthread_mutex_init(&conn->errLock, NULL);
    atomic_init(&conn->refs, 1);
    atomic_init(&conn->openRefs, 1);
    atomic_init(&conn->magic, VIR_CONNECT_MAGIC);
    conn->readonly = readonly;
    conn->driver = drv;
    conn->forkgen = virSupForkGeneration();
    conn->owner = getpid();
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
 *         $LIBVIRT_DEFAULT_URI if set and not empty, else test:///default
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
 * virConnectOpenAuth:
 * As virConnectOpen; @flags VIR_CONNECT_RO opens read-only. No driver of
 * libvirtsup asks for credentials, so @auth is never called.
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT virConnectPtr virConnectOpenAuth(const char *name,
                                            virConnectAuthPtr auth ATTRIBUTE_UNUSED,
                                            unsigned int flags)
{
    virResetLastError();
    virCheckFlags(VIR_CONNECT_RO | VIR_CONNECT_NO_ALIASES, NULL);
    return connectOpen(name, (flags & VIR_CONNECT_RO) != 0);
}

/* ---- virConnectAuthPtrDefault ------------------------------------------- */

/* Read one line from @in into a malloc'd string without its newline;
 * without echo when @secret and @in is a terminal. NULL on EOF/error. */
static char *readAnswer(FILE *in, bool secret)
{
    struct termios old, quiet;
    bool restore = false;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;

    if (secret && tcgetattr(fileno(in), &old) == 0) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        restore = tcsetattr(fileno(in), TCSAFLUSH, &quiet) == 0;
    }
    n = getline(&line, &cap, in);
    if (restore) {
        tcsetattr(fileno(in), TCSAFLUSH, &old);
        fputc('\n', stderr);
    }
    if (n < 0) {
        free(line);
        return NULL;
    }
    if (n > 0 && line[n - 1] == '\n')
        line[n - 1] = '\0';
    return line;
}

static int authDefaultCallback(virConnectCredentialPtr cred, unsigned int ncred,
                               void *cbdata ATTRIBUTE_UNUSED)
{
    FILE *tty = fopen("/dev/tty", "r+e");
    FILE *in = tty ? tty : stdin, *out = tty ? tty : stderr;
    int ret = -1;

    for (unsigned int i = 0; i < ncred; i++) {
        bool secret = cred[i].type == VIR_CRED_PASSPHRASE ||
                      cred[i].type == VIR_CRED_NOECHOPROMPT;
        char *answer;

        if (cred[i].type < VIR_CRED_USERNAME || cred[i].type > VIR_CRED_REALM ||
            cred[i].type == VIR_CRED_EXTERNAL)
            goto cleanup;
        if (cred[i].challenge)
            fprintf(out, "%s\n", cred[i].challenge);
        fprintf(out, "%s%s%s%s: ", cred[i].prompt ? cred[i].prompt : "Credential",
                cred[i].defresult ? " [" : "",
                cred[i].defresult ? cred[i].defresult : "",
                cred[i].defresult ? "]" : "");
        fflush(out);
        if (!(answer = readAnswer(in, secret)))
            goto cleanup;
        if (!*answer && cred[i].defresult) {
            free(answer);
            if (!(answer = virStrdup(cred[i].defresult)))
                goto cleanup;
        }
        cred[i].result = answer;
        cred[i].resultlen = (unsigned int)strlen(answer);
    }
    ret = 0;

 cleanup:
    if (tty)
        fclose(tty);
    return ret;
}

static int authDefaultTypes[] = {
    VIR_CRED_AUTHNAME, VIR_CRED_ECHOPROMPT, VIR_CRED_REALM, VIR_CRED_PASSPHRASE,
    VIR_CRED_NOECHOPROMPT, VIR_CRED_USERNAME, VIR_CRED_LANGUAGE, VIR_CRED_CNONCE,
};

static virConnectAuth authDefault = {
    authDefaultTypes, ARRAY_CARDINALITY(authDefaultTypes), authDefaultCallback, NULL,
};

VIR_EXPORT virConnectAuthPtr virConnectAuthPtrDefault = &authDefault;

/**
 * virConnectClose:
 * Drops a reference taken by open or virConnectRef. The last one closes
 * the connection: its jobs are cancelled and reaped (this waits, at most
 * their grace period); its domain and network handles then fail with
 * VIR_ERR_INVALID_CONN but may still be freed. Returns, as libvirt, 0
 * when no reference is left and a positive number when some are: the
 * caller's remaining ones plus one per domain, network or job handle not
 * yet freed. -1 on a bad handle.
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT int virConnectClose(virConnectPtr conn)
{
    int left, handles;

    virResetLastError();
    /* A connection of the parent, in a forked child: the last close frees
     * the handle's memory and nothing else (no job is cancelled, waited
     * for, or touched). */
    bool inherited = connectValid(conn) && connInherited(conn);
    if (!inherited && virConnectCheck(conn, __func__) < 0)
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
    /* Relaxed: a snapshot for the caller's leak check; the memory reference
     * of the open ones counts once. */
    handles = atomic_load_explicit(&conn->refs, memory_order_relaxed) - 1;
    if (left == 0 && inherited) {
        atomic_store_explicit(&conn->closed, true, memory_order_release);
        handles = atomic_load_explicit(&conn->refs, memory_order_relaxed) - 1;
        virConnectRelease(conn);
    } else if (left == 0) {
        pthread_mutex_lock(&conn->closeLock);
        /* release: calls that see "closed" also see the driver torn down. */
        atomic_store_explicit(&conn->closed, true, memory_order_release);
        if (conn->driver->connectClose)
            conn->driver->connectClose(conn);
        pthread_mutex_unlock(&conn->closeLock);
        /* The driver's close reaped the jobs: what is left is held by the
         * caller's handles. */
        handles = atomic_load_explicit(&conn->refs, memory_order_relaxed) - 1;
        virErrorForgetConn(conn);
        virConnectRelease(conn);
    }
    return left + (handles > 0 ? handles : 0);
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
    if (virConnectCheckFrom(conn, __func__, VIR_FROM_DOMAIN) < 0)
        return NULL;
    ret = virStrdup(conn->uri);
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
    if (virConnectCheckFrom(conn, __func__, VIR_FROM_DOMAIN) < 0)
        return -1;
    return conn->readonly ? 1 : 0;
}

/**
 * virConnectGetType:
 * Returns the driver's name in capitals, as libvirt ("TEST"), static.
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT const char *virConnectGetType(virConnectPtr conn)
{
    virResetLastError();
    if (virConnectCheckFrom(conn, __func__, VIR_FROM_DOMAIN) < 0)
        return NULL;
    return conn->driver->typeName;
}

/**
 * virConnectGetVersion:
 * The driver's hypervisor version. Returns 0 or -1.
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT int virConnectGetVersion(virConnectPtr conn, unsigned long *hvVer)
{
    virResetLastError();
    if (virConnectCheckFrom(conn, __func__, VIR_FROM_DOMAIN) < 0)
        return -1;
    if (!hvVer) {
        virReportErrorFull(VIR_FROM_DOMAIN, VIR_ERR_INVALID_ARG, 0,
                           "hvVer in %s must not be NULL", __func__);
        return -1;
    }
    return VIR_DRIVER_CALL_FROM(VIR_FROM_DOMAIN, conn, connectGetVersion, -1, conn, hvVer);
}

/**
 * virConnectGetLibVersion:
 * The library's version, as virGetVersion. Returns 0 or -1.
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT int virConnectGetLibVersion(virConnectPtr conn, unsigned long *libVer)
{
    virResetLastError();
    if (virConnectCheckFrom(conn, __func__, VIR_FROM_DOMAIN) < 0)
        return -1;
    if (!libVer) {
        virReportErrorFull(VIR_FROM_DOMAIN, VIR_ERR_INVALID_ARG, 0,
                           "libVer in %s must not be NULL", __func__);
        return -1;
    }
    *libVer = LIBVIRTSUP_VERSION_NUMBER;
    return 0;
}

/**
 * virConnectGetHostname:
 * Returns the host's name, malloc'd (the caller frees it), or NULL.
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT char *virConnectGetHostname(virConnectPtr conn)
{
    char host[256];

    virResetLastError();
    if (virConnectCheckFrom(conn, __func__, VIR_FROM_DOMAIN) < 0)
        return NULL;
    if (gethostname(host, sizeof(host)) < 0) {
        virReportErrorFull(VIR_FROM_DOMAIN, VIR_ERR_SYSTEM_ERROR, errno, "%s",
                           "cannot get the host's name");
        return NULL;
    }
    host[sizeof(host) - 1] = '\0';
    return virStrdup(host);
}

/**
 * virConnectIsAlive / virConnectIsEncrypted / virConnectIsSecure:
 * In-process connections: 1, 0 and 1; -1 on a bad handle.
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
/* What an in-process connection answers (@value) once @conn is checked. */
static int connectFixedAnswer(virConnectPtr conn, const char *func, int value)
{
    virResetLastError();
    if (virConnectCheckFrom(conn, func, VIR_FROM_DOMAIN) < 0)
        return -1;
    return value;
}

VIR_EXPORT int virConnectIsAlive(virConnectPtr conn)
{
    return connectFixedAnswer(conn, __func__, 1);
}

VIR_EXPORT int virConnectIsEncrypted(virConnectPtr conn)
{
    return connectFixedAnswer(conn, __func__, 0);
}

VIR_EXPORT int virConnectIsSecure(virConnectPtr conn)
{
    return connectFixedAnswer(conn, __func__, 1);
}

/**
 * virConnectRegisterCloseCallback:
 * One callback per connection; see libvirtsup-host.h. Returns 0 or -1.
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT int virConnectRegisterCloseCallback(virConnectPtr conn,
                                               virConnectCloseFunc cb,
                                               void *opaque,
                                               virFreeCallback freecb)
{
    int ret = -1;

    virResetLastError();
    if (virConnectCheckFrom(conn, __func__, VIR_FROM_DOMAIN) < 0)
        return -1;
    if (!cb) {
        virReportErrorFull(VIR_FROM_DOMAIN, VIR_ERR_INVALID_ARG, 0,
                           "cb in %s must not be NULL", __func__);
        return -1;
    }
    /* No error is reported under errLock: reporting takes it. */
    pthread_mutex_lock(&conn->errLock);
    if (!conn->closeCb) {
        conn->closeCb = cb;
        conn->closeOpaque = opaque;
        conn->closeFree = freecb;
        ret = 0;
    }
    pthread_mutex_unlock(&conn->errLock);
    if (ret < 0)
        virReportErrorFull(VIR_FROM_DOMAIN, VIR_ERR_OPERATION_INVALID, 0, "%s",
                           "a close callback is already registered on this "
                           "connection");
    return ret;
}

/**
 * virConnectUnregisterCloseCallback:
 * Removes the callback registered (and frees its opaque with its freecb).
 * Returns 0, or -1 (VIR_ERR_OPERATION_INVALID for another callback).
 *
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
VIR_EXPORT int virConnectUnregisterCloseCallback(virConnectPtr conn,
                                                 virConnectCloseFunc cb)
{
    virFreeCallback freecb = NULL;
    void *opaque = NULL;
    int ret = -1;

    virResetLastError();
    if (virConnectCheckFrom(conn, __func__, VIR_FROM_DOMAIN) < 0)
        return -1;
    if (!cb) {
        virReportErrorFull(VIR_FROM_DOMAIN, VIR_ERR_INVALID_ARG, 0,
                           "cb in %s must not be NULL", __func__);
        return -1;
    }
    pthread_mutex_lock(&conn->errLock);
    if (conn->closeCb == cb) {
        freecb = conn->closeFree;
        opaque = conn->closeOpaque;
        conn->closeCb = NULL;
        conn->closeFree = NULL;
        conn->closeOpaque = NULL;
        ret = 0;
    }
    pthread_mutex_unlock(&conn->errLock);
    if (ret < 0)
        virReportErrorFull(VIR_FROM_DOMAIN, VIR_ERR_OPERATION_INVALID, 0, "%s",
                           "this close callback is not registered on this "
                           "connection");
    if (freecb)
        freecb(opaque);
    return ret;
}
