/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * workerproto.h: the wire contract between the supervisor (library), the
 * spawn helper and the workers (virtsup-worker). Shared by supervisor/ and
 * worker/, which never include each other. Documented in docs/WORKER.md.
 *
 * Sockets are AF_UNIX SOCK_SEQPACKET: one record per message, descriptors
 * passed with SCM_RIGHTS. Everything a worker sends is untrusted.
 */
#pragma once

#include <stdint.h>

/* Descriptors a worker holds when its op function starts: nothing else. */
#define VIR_WORKER_FD_CONTROL        3  /* per-job socket to the supervisor */
#define VIR_WORKER_FD_RESOURCE_FIRST 4  /* the job's resources: 4, 5, ... */
/* Then, only in a profile that lets processes outlive the job: the
 * worker's socket to the spawn helper (VIR_PROTO_DETACH), at fd 4 + n
 * for n resources. */
/* The spawn helper holds fd 3: its socket to the supervisor. */
#define VIR_HELPER_FD_SOCKET         3
/* The helper's environment names the application ("PID:START", START its
 * start time in clock ticks after boot, as in /proc/PID/stat): the helper
 * kills its workers and exits when that process ends. */
#define VIR_HELPER_ENV_APP           "VIRTSUP_APP"
/* How many ready workers (forked and sandboxed before their job) each
 * spawn helper keeps: 0 to 4, default 1 (docs/WORKER.md). Taken from the
 * application's environment. */
#define VIR_HELPER_ENV_POOL          "VIRTSUP_WORKER_POOL"

/* Worker exit codes (the exit status is the truth; see docs/WORKER.md). */
#define VIR_WORKER_EXIT_OK          0   /* reported success */
#define VIR_WORKER_EXIT_FAILED      1   /* reported a failure */
#define VIR_WORKER_EXIT_CANCELLED   3   /* reported that it stopped on cancel */
#define VIR_WORKER_EXIT_NO_REPORT   4   /* op function returned without reporting */
#define VIR_WORKER_EXIT_SETUP       120 /* sandbox set-up failed (reported if it could) */
#define VIR_WORKER_EXIT_PROTOCOL    121 /* bad request from the supervisor */
#define VIR_WORKER_EXIT_UNKNOWN_OP  122 /* no such op in this worker */
#define VIR_WORKER_EXIT_EXEC        127 /* the spawn helper could not be executed */

#define VIR_PROTO_VERSION 5u
#define VIR_PROTO_OP_MAX  48
#define VIR_PROTO_MSG_MAX 4096              /* supervisor <-> helper records */
#define VIR_PROTO_RESULT_MAX (64 * 1024)    /* worker result blob, bytes */
#define VIR_PROTO_MESSAGE_MAX 1024          /* worker error message, bytes */
#define VIR_PROTO_RESOURCES_MAX 8
#define VIR_PROTO_PROFILE_NAME_MAX 32
#define VIR_PROTO_FD_NAME_MAX 16

/* The system-call sets of the worker sandbox (worker/sandbox.c; the same
 * values as virSupSyscalls in supervisor/supervisor.h). */
typedef enum {
    VIR_PROTO_SYSCALLS_DEFAULT = 0,  /* the deny list; sockets: AF_UNIX only */
    VIR_PROTO_SYSCALLS_NETLINK = 1,  /* the same, plus AF_NETLINK sockets */
    VIR_PROTO_SYSCALLS_LAST
} virProtoSyscalls;

/* The libraries a sandbox's spawn helper loads for its workers, a bit set
 * (the same values as virSupLibs in supervisor/supervisor.h;
 * docs/WORKER.md, "Libraries loaded per sandbox"). */
typedef enum {
    VIR_PROTO_LIB_XML = 1u << 0,        /* libxml2 */
    VIR_PROTO_LIB_NFTABLES = 1u << 1,   /* libnftables */
    VIR_PROTO_LIB_ALL = (1u << 2) - 1,
} virProtoLibs;

typedef enum {
    /* helper -> supervisor */
    VIR_PROTO_HELLO = 1,         /* virProtoHello; or VIR_PROTO_EXEC_FAILED */
    VIR_PROTO_EXEC_FAILED = 2,   /* virProtoError: exec of the helper failed */
    VIR_PROTO_SPAWNED = 3,       /* virProtoSpawned */
    VIR_PROTO_SPAWN_FAILED = 4,  /* virProtoSpawned with err set */
    VIR_PROTO_EXITED = 5,        /* virProtoExited */
    VIR_PROTO_READY = 6,         /* virProtoReady + fds [its socket, its pidfd (optional)] */
    /* supervisor -> helper */
    VIR_PROTO_SPAWN = 16,        /* virProtoSpawn [+ inline params] + fds [control, segment,
                                  * (params memfd,) resources...] */
    VIR_PROTO_KILL = 17,         /* virProtoKill */
    VIR_PROTO_SANDBOX = 18,      /* virProtoSandbox: once, before any SPAWN */
    /* worker -> supervisor, on the job's control socket */
    VIR_PROTO_RESULT = 32,       /* virProtoResult + message + data */
    /* worker -> helper, on the detach socket, and the helper's answer */
    VIR_PROTO_DETACH = 40,       /* virProtoDetach */
    VIR_PROTO_DETACHED = 41,     /* virProtoDetach, err set on refusal */
    /* ready worker -> helper, left in the socket it waited on */
    VIR_PROTO_TOOK = 42,         /* virProtoTook */
} virProtoType;

typedef struct virProtoHeader {
    uint32_t type;               /* virProtoType */
    uint32_t version;            /* VIR_PROTO_VERSION */
} virProtoHeader;

typedef struct virProtoHello {
    virProtoHeader hdr;
    int32_t pid;
    int32_t reserved;
} virProtoHello;

typedef struct virProtoError {
    virProtoHeader hdr;
    int32_t err;                 /* errno */
    int32_t reserved;
} virProtoError;

/* What every worker of one spawn helper gets (a profile's sandbox): sent
 * once, right after HELLO; the helper applies what it can once for all
 * its workers (the compiled system-call filter, the empty root). */
typedef struct virProtoSandbox {
    virProtoHeader hdr;
    char name[VIR_PROTO_PROFILE_NAME_MAX]; /* NUL-terminated, for messages */
    uint64_t caps;               /* capabilities to keep: bit CAP_X */
    uint32_t syscalls;           /* virProtoSyscalls */
    uint32_t detach;             /* 1: workers may keep processes (VIR_PROTO_DETACH) */
    uint32_t libs;               /* virProtoLibs */
    uint32_t reserved;
} virProtoSandbox;

typedef struct virProtoSpawn {
    virProtoHeader hdr;
    uint64_t job_id;
    uint64_t progress_offset;    /* mmap offset of the slot's progress page */
    uint64_t params_len;         /* parameter bytes: inline or in a memfd
                                  * (VIR_PROTO_PARAMS_INLINE_MAX) */
    uint64_t rlimit_as, rlimit_cpu, rlimit_nofile, rlimit_fsize; /* 0: leave */
    uint32_t nresources;         /* descriptors after the first three */
    uint32_t set_ids;            /* 1: switch to uid/gid, no groups */
    uint32_t uid, gid;
    char op[VIR_PROTO_OP_MAX];   /* NUL-terminated */
    /* The resources' names ("" when the op's profile names none), each
     * NUL-terminated: the worker finds them with virWorkerJobFD. */
    char fdnames[VIR_PROTO_RESOURCES_MAX][VIR_PROTO_FD_NAME_MAX];
} virProtoSpawn;

/* Parameters of at most this many bytes follow the SPAWN record in the
 * same message (its length is then sizeof(virProtoSpawn) + params_len)
 * and no params descriptor is passed; longer ones are passed as a sealed
 * memfd, the third descriptor. The rule is the length alone: both sides
 * apply it, and a record that breaks it is refused. */
#define VIR_PROTO_PARAMS_INLINE_MAX (VIR_PROTO_MSG_MAX - sizeof(virProtoSpawn))

typedef struct virProtoDetach {
    virProtoHeader hdr;
    int32_t pid;                 /* the process to keep */
    int32_t err;                 /* DETACHED: 0, or errno of the refusal */
} virProtoDetach;

/* SPAWNED carries a pidfd of the worker (SCM_RIGHTS) when the helper
 * could open one: the supervisor's hard kill (grace period, deadline)
 * then reaches the worker even while the helper does not run (stopped). */
typedef struct virProtoSpawned {
    virProtoHeader hdr;
    uint64_t job_id;
    int32_t pid;                 /* 0 on failure */
    int32_t err;                 /* errno on failure */
} virProtoSpawned;

typedef struct virProtoKill {
    virProtoHeader hdr;
    uint64_t job_id;
    int32_t signo;
    int32_t pid;                 /* its worker, if known (a ready worker's job
                                  * the helper may not know yet); 0 */
} virProtoKill;

/* A ready worker, handed to the supervisor: it sends its next SPAWN to the
 * socket that comes with this record, straight to the worker. */
typedef struct virProtoReady {
    virProtoHeader hdr;
    int32_t pid;
    int32_t reserved;
    /* The hard limits it can still raise its own to (RLIMIT_AS, _CPU,
     * _NOFILE, _FSIZE; UINT64_MAX: unlimited): a request that asks for
     * more, or for other ids, goes to the helper. */
    uint64_t hard_limit[4];
} virProtoReady;

/* What a ready worker leaves for its helper when it takes a job, before
 * any of the job's code runs; the helper reads it when it needs to. */
typedef struct virProtoTook {
    virProtoHeader hdr;
    uint64_t job_id;
} virProtoTook;

typedef struct virProtoExited {
    virProtoHeader hdr;
    uint64_t job_id;             /* 0: a ready worker (@pid) ended without
                                  * saying it took a job */
    int32_t pid;
    int32_t code;                /* CLD_EXITED, CLD_KILLED, CLD_DUMPED */
    int32_t status;              /* exit status or signal number */
    int32_t reserved;
} virProtoExited;

typedef enum {
    VIR_PROTO_REPORT_NONE = 0,
    VIR_PROTO_REPORT_SUCCESS = 1,
    VIR_PROTO_REPORT_FAILURE = 2,
    VIR_PROTO_REPORT_CANCELLED = 3,
} virProtoReport;

typedef struct virProtoResult {
    virProtoHeader hdr;
    uint32_t report;             /* virProtoReport */
    int32_t code;                /* virErrorNumber, failures */
    int32_t domain;              /* virErrorDomain, failures */
    uint32_t message_len;        /* <= VIR_PROTO_MESSAGE_MAX, follows */
    uint32_t data_len;           /* <= VIR_PROTO_RESULT_MAX, follows the message */
    uint32_t reserved;
} virProtoResult;
