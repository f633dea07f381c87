/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * shimproto.h: the wire contract between virtsup-shim (the owner of one
 * long-lived process: a guest's QEMU, a network's dnsmasq) and its clients
 * (the library, a job's worker). Shared by shim/ and src/; documented in
 * docs/SHIM.md.
 *
 * The shim is exec'd with:
 *   fd 3  the spec: a sealed memfd, virShimSpecHeader then entries
 *   fd 4  a SOCK_SEQPACKET socket to its starter: one virShimHello, closed
 *   fd 5  the log file (append), or /dev/null
 *   fd 6, 7, ...  descriptors for the child, in the order of the spec's
 *         VIR_SHIM_ENTRY_FD entries, then the spec's nclients connected
 *         SOCK_SEQPACKET sockets: clients from the first moment, already
 *         subscribed (no event can be missed, however fast the child ends)
 * and argv[1] = its state directory, where it creates:
 *   control.sock  AF_UNIX SOCK_SEQPACKET, mode 0600: requests and events
 *   state         a virShimStatus, rewritten atomically (temp + rename) at
 *                 every change, before the change is pushed to clients
 *
 * On the control socket every record is one virShimMsgHeader plus its
 * payload (at most VIR_SHIM_MSG_MAX bytes in all), descriptors with
 * SCM_RIGHTS. Numbers are native-endian (same host). Everything a client
 * receives is checked before use (sizes, terminated strings); the shim
 * checks every request the same way.
 */
#pragma once

#include <stdint.h>

#define VIR_SHIM_PROTO_VERSION 1u
#define VIR_SHIM_MSG_MAX       (64 * 1024)
#define VIR_SHIM_FDS_MAX       8             /* descriptors with one QMP request */

#define VIR_SHIM_SOCKET_NAME   "control.sock"
#define VIR_SHIM_STATE_NAME    "state"

#define VIR_SHIM_FD_SPEC       3
#define VIR_SHIM_FD_REPORT     4
#define VIR_SHIM_FD_LOG        5
#define VIR_SHIM_FD_CHILD_FIRST 6
#define VIR_SHIM_CHILD_FDS_MAX 24           /* descriptors handed to the child */
#define VIR_SHIM_CLIENTS_MAX   4            /* pre-connected clients */

/* ---- the spec (fd 3) ---------------------------------------------------- */

#define VIR_SHIM_SPEC_MAGIC 0x50535356u    /* "VSSP" */
#define VIR_SHIM_SPEC_MAX   (256 * 1024)

typedef enum {
    VIR_SHIM_SPEC_QMP = 1 << 0,         /* the child speaks QMP on qmp_fd */
    VIR_SHIM_SPEC_PRIVATE_ROOT = 1 << 1,/* the child sees only the MOUNT entries */
    VIR_SHIM_SPEC_SET_IDS = 1 << 2,     /* switch the child to uid/gid, no groups */
    VIR_SHIM_SPEC_PDEATHSIG = 1 << 3,   /* the child is killed if the shim dies */
    VIR_SHIM_SPEC_USERNS = 1 << 4,      /* not root: build the private root in a
                                           user namespace of the child's own */
} virShimSpecFlags;

typedef struct virShimSpecHeader {
    uint32_t magic;
    uint32_t version;           /* VIR_SHIM_PROTO_VERSION */
    uint32_t size;              /* of the whole spec, header included */
    uint32_t flags;             /* virShimSpecFlags */
    uint32_t uid, gid;          /* SET_IDS */
    uint64_t caps;              /* capabilities the child keeps: bit (1 << CAP_X) */
    uint32_t term_timeout_ms;   /* STOP: SIGTERM, then SIGKILL after this; 0: 10 s */
    uint32_t qmp_timeout_ms;    /* greeting and the shim's own commands; 0: 30 s */
    int32_t  qmp_fd;            /* QMP: the child's descriptor of the monitor */
    uint32_t log_max;           /* bytes the log may grow to; 0: 1 MiB */
    char     name[32];          /* what the child is ("qemu"), for messages */
    char     crash_runstates[128]; /* QMP: comma list of run states after which
                                      the child is stopped as crashed */
    uint32_t nentries;
    uint32_t nclients;          /* pre-connected, subscribed clients (<= 4) */
    /* then nentries entries, each a virShimSpecEntry + its data, 8-aligned */
} virShimSpecHeader;

typedef enum {
    VIR_SHIM_ENTRY_ARG = 1,     /* data: NUL-terminated argument; the first is the program */
    VIR_SHIM_ENTRY_ENV = 2,     /* data: "NAME=VALUE\0" */
    VIR_SHIM_ENTRY_FD = 3,      /* arg: the child's descriptor number of the next
                                   descriptor the shim was given (6, 7, ...) */
    VIR_SHIM_ENTRY_MOUNT = 4,   /* arg: virShimMountKind; data: "SOURCE\0TARGET\0" */
} virShimEntryType;

typedef enum {
    VIR_SHIM_MOUNT_BIND_RO = 1, /* SOURCE (file or directory) at TARGET, read-only */
    VIR_SHIM_MOUNT_BIND_RW = 2, /* the same, writable */
    VIR_SHIM_MOUNT_DEV = 3,     /* the device node SOURCE at TARGET */
    VIR_SHIM_MOUNT_PROC = 4,    /* a proc instance at TARGET that shows the child
                                   only itself (hidepid); SOURCE empty */
    VIR_SHIM_MOUNT_TMPFS = 5,   /* a small empty tmpfs at TARGET owned by uid/gid */
    VIR_SHIM_MOUNT_SYMLINK = 6, /* a symbolic link TARGET -> SOURCE */
} virShimMountKind;

typedef struct virShimSpecEntry {
    uint32_t type;              /* virShimEntryType */
    uint32_t len;               /* bytes of data following (not padded) */
    int32_t  arg;
    uint32_t reserved;
} virShimSpecEntry;

/* ---- status: the state file, and in replies and events ------------------ */

#define VIR_SHIM_STATUS_MAGIC 0x54535356u  /* "VSST" */
#define VIR_SHIM_MESSAGE_MAX 1024

typedef enum {
    VIR_SHIM_CHILD_STARTING = 1,  /* forked; set-up and exec under way */
    VIR_SHIM_CHILD_RUNNING = 2,   /* exec'd */
    VIR_SHIM_CHILD_EXITED = 3,    /* reaped: exit_* filled in */
} virShimChildState;

typedef enum {
    VIR_SHIM_EXIT_NONE = 0,
    VIR_SHIM_EXIT_SETUP = 1,      /* set-up or exec failed: message says what */
    VIR_SHIM_EXIT_EXITED = 2,     /* ended by itself (exit_code/exit_status) */
    VIR_SHIM_EXIT_STOPPED = 3,    /* stopped on request (STOP, or SIGTERM to the shim) */
    VIR_SHIM_EXIT_KILLED = 4,     /* killed by a signal the shim did not send */
    VIR_SHIM_EXIT_CRASHED = 5,    /* stopped because it entered a crash run state */
    VIR_SHIM_EXIT_MONITOR = 6,    /* stopped because its monitor failed (no greeting,
                                     broken stream) */
} virShimExitReason;

typedef enum {
    VIR_SHIM_QMP_NONE = 0,        /* no monitor (not a QMP child) */
    VIR_SHIM_QMP_CONNECTING = 1,  /* waiting for the greeting / capabilities */
    VIR_SHIM_QMP_READY = 2,
    VIR_SHIM_QMP_BROKEN = 3,      /* closed, timed out or spoke garbage */
} virShimQMPState;

typedef struct virShimStatus {
    uint32_t magic;
    uint32_t version;
    uint32_t size;              /* sizeof(virShimStatus) */
    uint32_t seq;               /* bumped at every change */
    int32_t  shim_pid;
    int32_t  child_pid;         /* 0 before the fork */
    uint64_t shim_start;        /* start times in clock ticks after boot */
    uint64_t child_start;
    uint64_t child_started_ns;  /* CLOCK_REALTIME */
    uint64_t child_exited_ns;
    uint32_t child_state;       /* virShimChildState */
    uint32_t exit_reason;       /* virShimExitReason */
    int32_t  exit_code;         /* CLD_EXITED, CLD_KILLED, CLD_DUMPED; 0 before */
    int32_t  exit_status;       /* exit status or signal */
    int32_t  setup_errno;       /* SETUP: errno of the failed step */
    uint32_t qmp_state;         /* virShimQMPState */
    char     runstate[32];      /* QMP "status" ("running", "paused", ...), "" if unknown */
    char     shutdown_reason[32]; /* QMP: reason of the last SHUTDOWN event */
    char     name[32];          /* the spec's */
    char     message[VIR_SHIM_MESSAGE_MAX]; /* SETUP: the step and error; otherwise
                                     the last lines the child wrote to stderr,
                                     printable ASCII, terminated */
} virShimStatus;

/* ---- the starter's report (fd 4) ---------------------------------------- */

typedef struct virShimHello {
    uint32_t magic;             /* VIR_SHIM_STATUS_MAGIC */
    uint32_t version;
    int32_t  err;               /* 0, or errno of what failed */
    uint32_t reserved;
    char     message[256];      /* what failed */
    virShimStatus status;       /* err == 0: the child forked */
} virShimHello;

/* ---- the control socket ------------------------------------------------- */

typedef enum {
    /* client -> shim */
    VIR_SHIM_MSG_STATUS = 1,     /* no payload; reply: virShimStatus */
    VIR_SHIM_MSG_SUBSCRIBE = 2,  /* no payload; reply: virShimStatus; then events */
    VIR_SHIM_MSG_SIGNAL = 3,     /* int32 signo; reply: virShimStatus */
    VIR_SHIM_MSG_STOP = 4,       /* uint32 timeout_ms (0: the spec's); SIGTERM, then
                                    SIGKILL; reply once reaped: virShimStatus */
    VIR_SHIM_MSG_QMP = 5,        /* virShimQMPRequest + arguments JSON object text
                                    (may be empty); SCM_RIGHTS descriptors go to
                                    QEMU with the command; reply: flat return */
    /* shim -> client */
    VIR_SHIM_MSG_REPLY = 64,     /* virShimReply + data */
    VIR_SHIM_MSG_EVENT = 65,     /* virShimEvent + virShimStatus + flat data */
} virShimMsgType;

typedef struct virShimMsgHeader {
    uint32_t type;              /* virShimMsgType */
    uint32_t version;           /* VIR_SHIM_PROTO_VERSION */
    uint64_t id;                /* a request's id, echoed in its reply; 0 in events */
    uint32_t len;               /* payload bytes after this header */
    uint32_t reserved;
} virShimMsgHeader;

typedef struct virShimQMPRequest {
    uint32_t timeout_ms;        /* 0: the spec's qmp_timeout_ms */
    uint32_t reserved;
    char     command[64];       /* "query-status"; [a-z0-9_-]+ */
} virShimQMPRequest;

typedef struct virShimReply {
    int32_t  err;               /* 0; EREMOTEIO QMP error (message "Class: desc");
                                   ETIMEDOUT; ENOTCONN no monitor; ESRCH the child
                                   has exited; EPROTO bad request; EBUSY too many
                                   requests queued */
    uint32_t flags;             /* VIR_SHIM_REPLY_STATUS: a virShimStatus follows */
    char     message[512];
    /* then: a virShimStatus (STATUS, SUBSCRIBE, SIGNAL, STOP), or the QMP
     * return value flattened (see below) */
} virShimReply;

#define VIR_SHIM_REPLY_STATUS 1u

typedef enum {
    VIR_SHIM_EVENT_STATE = 1,   /* the status changed (child started, exec'd,
                                   monitor ready, run state, exited) */
    VIR_SHIM_EVENT_QMP = 2,     /* a QMP event; name = its name, data flattened */
} virShimEventKind;

typedef struct virShimEvent {
    uint32_t kind;              /* virShimEventKind */
    uint32_t reserved;
    char     name[64];
    /* then a virShimStatus, then the flattened data */
} virShimEvent;

/*
 * Flattened JSON ("flat"): what the shim makes of a QMP value so that no
 * client has to parse JSON written by a (possibly hostile) QEMU. One line
 * per leaf, "PATH=VALUE\n": PATH joins object keys and array indexes with
 * '.' ("ram.total", "0.thread-id"; the value itself is "" when it is not a
 * container), VALUE is the number, true, false, null, or the string with
 * escapes decoded and every byte below 0x20 or equal to 0x7f replaced by
 * '?'. Keys hold only [A-Za-z0-9_.-] (others become '?'). Empty objects
 * and arrays give no line. See src/util/virjsonflat.h.
 */
