/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virshim.h: starting and talking to virtsup-shim, the owner of one
 * long-lived process (a guest's QEMU, a network's dnsmasq) that outlives
 * the application. Protocol: shimproto.h; docs/SHIM.md.
 *
 * Usable by the library (start, reconnect, requests) and by a job's worker
 * (requests on a descriptor it was given). Every call that waits has a
 * timeout and says so. Errors are reported with virReportError and -1 is
 * returned, unless said otherwise. Thread-safety: the calls share no
 * state; one descriptor must not be used by two threads at once.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/shimproto.h"

/* ---- the spec: what the shim starts, and how ---- */

typedef struct virShimSpecBuf virShimSpecBuf;

/* A new spec for a child called @name ("qemu"). NULL on OOM (reported). */
virShimSpecBuf *virShimSpecNew(const char *name);
/* Frees the spec and closes the descriptors added to it. NULL accepted. */
void virShimSpecFree(virShimSpecBuf *spec);

/* Setters cannot fail. @flags: virShimSpecFlags (QMP and SET_IDS are also
 * set by the calls below). */
void virShimSpecSetFlags(virShimSpecBuf *spec, uint32_t flags);
void virShimSpecSetIds(virShimSpecBuf *spec, uint32_t uid, uint32_t gid);
void virShimSpecSetCaps(virShimSpecBuf *spec, uint64_t caps);
/* The child speaks QMP on its descriptor @childfd (a socket the shim makes). */
void virShimSpecSetQMP(virShimSpecBuf *spec, int childfd, uint32_t timeout_ms);
void virShimSpecSetTermTimeout(virShimSpecBuf *spec, uint32_t timeout_ms);
/* Comma list of QMP run states after which the child is stopped as crashed. */
void virShimSpecSetCrashRunstates(virShimSpecBuf *spec, const char *list);
void virShimSpecSetLogMax(virShimSpecBuf *spec, uint32_t bytes);

/* Appenders: 0, or -1 with the error reported (the spec then refuses to
 * be spawned). The first argument is the program, by absolute path. */
int virShimSpecAddArg(virShimSpecBuf *spec, const char *arg);
int virShimSpecAddArgf(virShimSpecBuf *spec, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int virShimSpecAddEnv(virShimSpecBuf *spec, const char *nameValue);
/* The child gets a duplicate of @fd as its descriptor @childfd (>= 3). */
int virShimSpecAddFD(virShimSpecBuf *spec, int fd, int childfd);
/* With VIR_SHIM_SPEC_PRIVATE_ROOT: what the child's root holds
 * (virShimMountKind; @source NULL for PROC and TMPFS). */
int virShimSpecAddMount(virShimSpecBuf *spec, int kind, const char *source,
                        const char *target);

/* ---- starting ---- */

/* The shim program: $VIRTSUP_SHIM (read with secure_getenv), or
 * LIBEXECDIR/virtsup-shim. */
const char *virShimPath(void);

/* Start a shim for @spec in @statedir (an existing, private directory) with
 * @logfd as its log (-1: none), and wait at most @timeout_ms for it to say
 * that the child was forked. The shim is not the caller's child (see
 * virProcessSpawnDetached) and outlives it. On success fills @status (the
 * child may still fail its set-up or exec: that comes as its exit) and
 * @clients[0..@nclients) (at most VIR_SHIM_CLIENTS_MAX; CLOEXEC) with
 * connections to the shim made before it started, already subscribed:
 * they see every event from the first, however fast the child ends. */
int virShimSpawn(const char *statedir, int logfd, const virShimSpecBuf *spec,
                 int *clients, size_t nclients, int timeout_ms, virShimStatus *status);

/* ---- talking ---- */

/* One record received from a shim, checked. Large: allocate it. */
typedef struct virShimIncoming {
    uint32_t type;              /* VIR_SHIM_MSG_REPLY or VIR_SHIM_MSG_EVENT */
    uint64_t id;
    int err;                    /* reply: 0 or an errno value */
    char message[512];          /* reply: why it failed (printable) */
    uint32_t kind;              /* event: virShimEventKind */
    char name[64];              /* event: its name */
    bool hasStatus;
    virShimStatus status;       /* events, and replies that carry one */
    const char *data;           /* flat text (NUL-terminated), or "" */
    size_t datalen;
    char buf[VIR_SHIM_MSG_MAX + 1];
} virShimIncoming;

/* Connect to the shim of @statedir. Returns the descriptor (CLOEXEC), or
 * -1 with errno kept (ENOENT or ECONNREFUSED: no shim there any more) and
 * an error reported. */
int virShimConnect(const char *statedir);

/* Receive one record, waiting at most @timeout_ms (-1: for ever, only for
 * an event loop that polled first). Returns 1 with @in filled, 0 on
 * timeout, -1 when the shim closed the connection (errno ECONNRESET) or
 * sent something malformed (errno EPROTO), with an error reported. */
int virShimRecv(int fd, int timeout_ms, virShimIncoming *in);

/* Events that arrive while virShimCall waits for its reply go here. */
typedef void (*virShimEventFunc)(const virShimIncoming *ev, void *opaque);

/* Send request @type with @payload (and @fds, QMP only) and wait at most
 * @timeout_ms for its reply into @in. Returns 0 when the shim answered
 * (look at in->err), -1 with an error reported when it did not (timeout:
 * VIR_ERR_OPERATION_TIMEOUT). */
int virShimCall(int fd, uint32_t type, const void *payload, size_t len,
                const int *fds, size_t nfds, int timeout_ms,
                virShimEventFunc onEvent, void *opaque, virShimIncoming *in);

/* A QMP command through the shim: @args a JSON object text or NULL.
 * Returns 0 with the flat return value in @in->data, or -1 with an error
 * reported: QEMU's own "Class: desc" for a refused command
 * (VIR_ERR_OPERATION_FAILED), VIR_ERR_OPERATION_TIMEOUT, or
 * VIR_ERR_OPERATION_INVALID when the process has exited. */
int virShimQMP(int fd, const char *command, const char *args, const int *fds, size_t nfds,
               int timeout_ms, virShimEventFunc onEvent, void *opaque, virShimIncoming *in);

/* The same, without waiting: the request is sent and *@id names its reply,
 * which the caller takes with virShimRecv (type VIR_SHIM_MSG_REPLY, that
 * id) while it goes on with other work (a save's worker keeps reading the
 * pipe QEMU writes into: QEMU may hold its monitor until it can write).
 * Returns 0, or -1 with an error reported. */
int virShimQMPSend(int fd, const char *command, const char *args, int timeout_ms, uint64_t *id);
/* The outcome of @in, the reply to QMP @command: 0, or -1 reported as
 * virShimQMP reports it. */
int virShimQMPResult(const virShimIncoming *in, const char *command, int timeout_ms);

/* ---- status ---- */

/* Check a status that came from a shim or a state file: magic, version,
 * size, terminated strings, known enum values. 0, or -1 with @why. */
int virShimStatusCheck(const virShimStatus *st, const char **why);

/* Read and check STATEDIR/state (the shim's last record), twice over so a
 * record being rewritten is never taken half old, half new. Returns 0, or
 * -1 with errno kept (ENOENT: none written; EAGAIN: it kept changing
 * while read; EPROTO: truncated or invalid) and an error reported.
 * Thread-safety: any thread; @st is the caller's. */
int virShimStateRead(const char *statedir, virShimStatus *st);

/* True if the shim recorded in @st still runs (pid and start time). */
bool virShimOwnerAlive(const virShimStatus *st);
/* True if the child recorded in @st still runs (pid and start time, not a
 * zombie): false once it has exited, whoever saw it. */
bool virShimChildAlive(const virShimStatus *st);
