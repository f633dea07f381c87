/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libvirtsup-host.h: connections.
 *
 * URIs:
 *   test:///default                 the embedded test node: a running domain
 *                                   "test" (256 MiB, 2 vCPUs) and an active
 *                                   network "default"
 *   test:///ABSOLUTE/PATH.xml       a node description (<node> holding
 *                                   <domain> and <network>, inline or file=)
 * Query parameters (all optional), common to every driver:
 *   ?grace=MS                       cancel grace period before SIGKILL (5000)
 *   &max_workers=N                  concurrent workers; more jobs queue (64)
 *   &stall=MS                       mark a job stalled after MS without progress (0: off)
 *   &stall_cancel=1                 cancel a stalled job
 *   &worker_user=NAME               run workers as this user (root only)
 *   &rlimit_as=BYTES, rlimit_cpu=S, rlimit_nofile=N, rlimit_fsize=BYTES
 * Each driver adds its own; the test driver's:
 *   &bandwidth=MIB_PER_S            cap job I/O (0: no cap)
 * Any other parameter is an error (VIR_ERR_INVALID_ARG) naming it.
 *
 * A connection is thread-safe: one connection may be used from many
 * threads at once, also while long jobs run.
 *
 * virConnectOpen(NULL) opens $LIBVIRT_DEFAULT_URI when it is set and not
 * empty, else test:///default.
 */
#pragma once

#include "libvirtsup/libvirtsup-common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* virConnectOpenAuth flags (libvirt's). */
typedef enum {
    VIR_CONNECT_RO = 1 << 0,           /* read-only, as virConnectOpenReadOnly */
    VIR_CONNECT_NO_ALIASES = 1 << 1,   /* accepted; there are no URI aliases */
} virConnectFlags;

/* Credentials a driver may ask for through virConnectOpenAuth (libvirt's
 * types and layout; no driver of libvirtsup asks for any today). */
typedef enum {
    VIR_CRED_USERNAME = 1,
    VIR_CRED_AUTHNAME = 2,
    VIR_CRED_LANGUAGE = 3,
    VIR_CRED_CNONCE = 4,
    VIR_CRED_PASSPHRASE = 5,
    VIR_CRED_ECHOPROMPT = 6,
    VIR_CRED_NOECHOPROMPT = 7,
    VIR_CRED_REALM = 8,
    VIR_CRED_EXTERNAL = 9,
} virConnectCredentialType;

typedef struct _virConnectCredential {
    int type;                /* virConnectCredentialType */
    const char *prompt;      /* what to ask */
    const char *challenge;   /* more to show, may be NULL */
    const char *defresult;   /* default answer, may be NULL */
    char *result;            /* the answer, malloc'd by the callback */
    unsigned int resultlen;  /* its length */
} virConnectCredential;
typedef virConnectCredential *virConnectCredentialPtr;

/* Fill each credential's result; return 0, or -1 to refuse. */
typedef int (*virConnectAuthCallbackPtr)(virConnectCredentialPtr cred,
                                         unsigned int ncred, void *cbdata);

typedef struct _virConnectAuth {
    int *credtype;           /* the virConnectCredentialType the callback handles */
    unsigned int ncredtype;
    virConnectAuthCallbackPtr cb;
    void *cbdata;
} virConnectAuth;
typedef virConnectAuth *virConnectAuthPtr;

/**
 * virConnectAuthPtrDefault:
 *
 * Callbacks for command-line tools, as libvirt's: each credential is asked
 * on the controlling terminal (standard input and output when there is
 * none), secrets without echo; an empty answer takes the default result.
 * Since: 0.1.0
 */
extern virConnectAuthPtr virConnectAuthPtrDefault;

/**
 * virConnectOpen:
 * @name: a URI as above; NULL means test:///default
 *
 * Returns a new connection the caller closes with virConnectClose(), or
 * NULL with an error (VIR_ERR_INVALID_ARG for a bad URI, VIR_ERR_NO_SUPPORT
 * for an unknown scheme, VIR_ERR_XML_ERROR for a bad node description).
 *
 * Fork: a connection, and the job, domain and network handles made through
 * it, belong to the process that opened it. In a forked child they are
 * dead: virConnectClose, virJobDestroy, virDomainFree and virNetworkFree
 * on them free the child's copy of their memory and nothing else (the
 * parent's jobs are neither cancelled nor waited for, whatever their
 * state; the parent's spawn helper and status segment are not touched);
 * every other call on them fails with VIR_ERR_INVALID_CONN ("this
 * connection belongs to the parent process (pid N); open a new connection
 * after fork") or, for a job, VIR_ERR_INVALID_JOB. A connection opened in
 * the child starts the child's own supervisor (spawn helper, status
 * segment, threads). The library's fork handlers (pthread_atfork) hold
 * its locks across fork(): a fork waits while another thread of the
 * library holds them (at most a spawn helper's start or stop). A child
 * made without fork() (clone, vfork) must exec or _exit without calling
 * the library. The driver state of an inherited connection is left as it
 * was, unreleased (it belongs to the parent).
 * Thread-safety: safe from any thread. Since: 0.1.0
 */
virConnectPtr virConnectOpen(const char *name);

/**
 * virConnectOpenReadOnly:
 *
 * As virConnectOpen, but the connection may only list and watch: starting,
 * cancelling and changing anything fails with VIR_ERR_OPERATION_DENIED.
 * Since: 0.1.0
 */
virConnectPtr virConnectOpenReadOnly(const char *name);

/**
 * virConnectOpenAuth:
 * @name: as for virConnectOpen
 * @auth: callbacks for credentials the driver may ask for (may be NULL;
 *        the test driver asks for none)
 * @flags: VIR_CONNECT_RO (read-only), VIR_CONNECT_NO_ALIASES
 *
 * As virConnectOpen. Returns the connection, or NULL with an error
 * (VIR_ERR_INVALID_ARG for an unknown flag). Since: 0.1.0
 */
virConnectPtr virConnectOpenAuth(const char *name, virConnectAuthPtr auth,
                                 unsigned int flags);

/**
 * virConnectClose:
 *
 * Drop the caller's reference. When the last reference goes, the
 * connection's running jobs are cancelled and reaped (this waits for them,
 * at most their grace period), and when no connection is left in the
 * process the supervisor stops: no worker, spawn helper, thread or
 * descriptor of ours is left behind. Job, domain and network handles stay
 * valid (and hold a reference) until freed; calls through them then fail
 * with VIR_ERR_INVALID_CONN (libvirt keeps such a connection usable).
 * Returns, as libvirt, 0 when no reference is left, a positive number when
 * some are (the caller's own, and one per domain, network or job handle
 * not yet freed: a leak check), or -1 (VIR_ERR_INVALID_CONN).
 * Since: 0.1.0
 */
int virConnectClose(virConnectPtr conn);

/**
 * virConnectRef: take one more reference (released with virConnectClose).
 * Returns 0 or -1. Since: 0.1.0
 */
int virConnectRef(virConnectPtr conn);

/**
 * virConnectGetURI:
 *
 * Returns the connection's URI, malloc'd: the caller frees it; NULL on
 * error. Since: 0.1.0
 */
char *virConnectGetURI(virConnectPtr conn);

/**
 * virConnectIsReadOnly: Returns 1 if read-only, 0 if not, -1 on error.
 * (libvirtsup's; libvirt has no such call.) Since: 0.1.0
 */
int virConnectIsReadOnly(virConnectPtr conn);

/**
 * virConnectGetType:
 *
 * Returns the driver's name as libvirt spells it ("TEST", "QEMU"), a
 * static string the caller must not free; NULL on error. Since: 0.1.0
 */
const char *virConnectGetType(virConnectPtr conn);

/**
 * virConnectGetVersion:
 * @hvVer: set to the hypervisor's version, major * 1,000,000 + minor *
 *         1,000 + release (the test driver's is 2, as libvirt's)
 * Returns 0, or -1 (VIR_ERR_INVALID_ARG for a NULL @hvVer). Since: 0.1.0
 */
int virConnectGetVersion(virConnectPtr conn, unsigned long *hvVer);

/**
 * virConnectGetLibVersion:
 * @libVer: set to the library's version (as virGetVersion)
 * Returns 0 or -1. Since: 0.1.0
 */
int virConnectGetLibVersion(virConnectPtr conn, unsigned long *libVer);

/**
 * virConnectGetHostname:
 *
 * Returns the host's name (gethostname), malloc'd: the caller frees it;
 * NULL on error. Since: 0.1.0
 */
char *virConnectGetHostname(virConnectPtr conn);

/**
 * virConnectIsAlive / virConnectIsEncrypted / virConnectIsSecure:
 *
 * Every libvirtsup connection is local and in-process: alive while open
 * (1), not encrypted (0) and secure (1), as libvirt says of its local
 * drivers. Return -1 on a bad handle. Since: 0.1.0
 */
int virConnectIsAlive(virConnectPtr conn);
int virConnectIsEncrypted(virConnectPtr conn);
int virConnectIsSecure(virConnectPtr conn);

/* Why a connection closed, for virConnectCloseFunc (libvirt's values). */
typedef enum {
    VIR_CONNECT_CLOSE_REASON_ERROR = 0,      /* misc I/O error */
    VIR_CONNECT_CLOSE_REASON_EOF = 1,        /* end of file */
    VIR_CONNECT_CLOSE_REASON_KEEPALIVE = 2,  /* keepalive timer */
    VIR_CONNECT_CLOSE_REASON_CLIENT = 3,     /* the client asked */
} virConnectCloseReason;

typedef void (*virConnectCloseFunc)(virConnectPtr conn, int reason, void *opaque);

/**
 * virConnectRegisterCloseCallback:
 * @cb: called when the connection closes for a reason other than the
 *      application's own virConnectClose (a remote end going away, in
 *      libvirt). libvirtsup's connections are in-process and never close
 *      by themselves, so today it is kept and freed but never called
 * @opaque: passed to @cb
 * @freecb: called on @opaque when the callback is unregistered or the
 *          connection freed (may be NULL)
 *
 * One callback per connection, as libvirt: registering a second one fails
 * with VIR_ERR_OPERATION_INVALID. Returns 0 or -1. Since: 0.1.0
 */
int virConnectRegisterCloseCallback(virConnectPtr conn, virConnectCloseFunc cb,
                                    void *opaque, virFreeCallback freecb);

/**
 * virConnectUnregisterCloseCallback:
 * @cb: the callback registered (another one: VIR_ERR_OPERATION_INVALID)
 * Calls the registered freecb. Returns 0 or -1. Since: 0.1.0
 */
int virConnectUnregisterCloseCallback(virConnectPtr conn, virConnectCloseFunc cb);

#ifdef __cplusplus
}
#endif
