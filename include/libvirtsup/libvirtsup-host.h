/*
 * libvirtsup-host.h: connections.
 *
 * URIs:
 *   test:///default                 the embedded test node: a running domain
 *                                   "test" (256 MiB, 2 vCPUs) and an active
 *                                   network "default"
 *   test:///ABSOLUTE/PATH.xml       a node description (<node> holding
 *                                   <domain> and <network>, inline or file=)
 * Query parameters (all optional):
 *   ?bandwidth=MIB_PER_S            cap job I/O (0: no cap)
 *   &grace=MS                       cancel grace period before SIGKILL (5000)
 *   &max_workers=N                  concurrent workers; more jobs queue (64)
 *   &stall=MS                       mark a job stalled after MS without progress (0: off)
 *   &stall_cancel=1                 cancel a stalled job
 *   &worker_user=NAME               run workers as this user (root only)
 *   &rlimit_as=BYTES, rlimit_cpu=S, rlimit_nofile=N, rlimit_fsize=BYTES
 *
 * A connection is thread-safe: one connection may be used from many
 * threads at once, also while long jobs run.
 */
#pragma once

#include "libvirtsup/libvirtsup-common.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * virConnectOpen:
 * @name: a URI as above; NULL means test:///default
 *
 * Returns a new connection the caller closes with virConnectClose(), or
 * NULL with an error (VIR_ERR_INVALID_ARG for a bad URI, VIR_ERR_NO_SUPPORT
 * for an unknown scheme, VIR_ERR_XML_ERROR for a bad node description).
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
 * virConnectClose:
 *
 * Drop the caller's reference. When the last reference goes, the
 * connection's running jobs are cancelled and reaped (this waits for them,
 * at most their grace period), and when no connection is left in the
 * process the supervisor stops: no worker, spawn helper, thread or
 * descriptor of ours is left behind. Job, domain and network handles stay
 * valid (and hold a reference) until freed.
 * Returns the number of references left, or -1 on a bad handle.
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
 * Since: 0.1.0
 */
int virConnectIsReadOnly(virConnectPtr conn);

#ifdef __cplusplus
}
#endif
