/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qemu_conf.h: the qemu driver's configuration (URIs, paths, QEMU's user,
 * KVM), its files (persistent definitions, the status of running guests)
 * and XML written from a checked definition. Library side only.
 */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "drivers/qemu/qemu-proto.h"

#define QEMU_STATUS_NAME "domain.status"
#define QEMU_DIR_MAX 512          /* the driver's directories, with NUL */

typedef struct qemuConfig {
    bool privileged;          /* qemu:///system (root) */
    char root[QEMU_DIR_MAX];  /* ?root=, or "" */
    char domainsDir[QEMU_DIR_MAX]; /* persistent definitions */
    char runDir[QEMU_DIR_MAX];/* one directory per running guest */
    char logDir[QEMU_DIR_MAX];/* one log per guest */
    char emulator[PATH_MAX];  /* default emulator (resolved) or "" */
    bool setIds;              /* run QEMU as uid/gid (system) */
    uid_t uid;
    gid_t gid;
    bool kvm;                 /* KVM can run guests here */
    char kvmWhy[160];         /* if not, why */
    unsigned monitorTimeoutMs;/* a QMP round trip */
    unsigned startTimeoutMs;  /* QEMU's greeting */
    unsigned stopTimeoutMs;   /* destroy: SIGTERM, then SIGKILL after this */
    uint64_t bandwidthBps;    /* ?bandwidth=MIB_PER_S: save/restore/dump cap (0: none) */
} qemuConfig;

/* The URI parameters of qemu:/// (NULL: absent). */
typedef struct qemuURIParams {
    const char *root;         /* ?root=/ABS/DIR: the whole tree under DIR */
    const char *emulator;     /* ?emulator=/path/to/qemu-system-x86_64 */
    const char *user;         /* ?user=NAME: QEMU's user (root only) */
    const char *group;        /* ?group=NAME */
    const char *monitorTimeout; /* ?monitor_timeout=MS */
    unsigned long long bandwidthMiB; /* ?bandwidth=MIB_PER_S (0: none), already checked */
} qemuURIParams;

/* Fill @cfg for @path ("/system" or "/session") and @params; create the
 * directories. Returns 0, or -1 with an error reported. */
int qemuConfigInit(qemuConfig *cfg, const char *path, const qemuURIParams *params);

/* Whether KVM can run a guest here, and if not why (@why, @len). */
bool qemuKVMUsable(char *why, size_t len);

/* The emulator a definition runs: its <emulator>, or the configured one.
 * NULL (reported) if there is none. */
const char *qemuEmulatorOf(const qemuConfig *cfg, const qemuDomainDef *def);

/* ---- definitions on disk ---- */

/* Write @def as DOMAINS/NAME.def (the checked record, read back at open)
 * and DOMAINS/NAME.xml (for people; never read). Atomic, flushed.
 * 0, or -1 reported. */
int qemuDefSave(const qemuConfig *cfg, const qemuDomainDef *def);
/* Remove the files of @name (and its .ended). 0, or -1 reported. */
int qemuDefDelete(const qemuConfig *cfg, const char *name);
/* DOMAINS/NAME.ended: why the guest's last run ended (a libvirt shut-off
 * reason) and that run's domain ID @id, for connections opened after it
 * (as libvirt's daemon tells its clients; it forgets at a restart, which
 * each new application is here) and for one that comes to the end after
 * the run directory is gone. Written by whichever connection records the
 * end (several may: the same words) and by a save's commit before it
 * stops QEMU, replaced atomically but not flushed: after a host
 * crash the guest shows shut off (unknown), as without it. Removed when
 * a run of the guest begins (a reason of an earlier run would be wrong
 * if that run's end were never recorded) and with the definition.
 * Errors are ignored: it is a courtesy. Write and forget make no
 * allocation (a guest's end is recorded without any). */
void qemuEndedWrite(const qemuConfig *cfg, const char *name, int reason, int id);
/* The reason last written for @name, or -1: none, or not a reason.
 * @id (may be NULL): set to the domain ID of the run it ended, -1 if the
 * record does not say. */
int qemuEndedRead(const qemuConfig *cfg, const char *name, int *id);
void qemuEndedForget(const qemuConfig *cfg, const char *name);
/* Load every DOMAINS/ *.def, checked; a file that fails the check is
 * skipped and reported in @errors (a count). Returns the number loaded
 * into *@defs (an array the caller frees, each element too), or -1. */
int qemuDefLoadAll(const qemuConfig *cfg, qemuDomainDef ***defs, int *errors);

/* Read a definition block from @fd (a .def or the status's copy): checked.
 * Returns a new block or NULL (reported, naming @what). */
qemuDomainDef *qemuDefRead(int fd, const char *what);
/* A copy of a checked definition. NULL on OOM (reported). */
qemuDomainDef *qemuDefCopy(const qemuDomainDef *def);

/* ---- the status of a running guest: RUN/NAME/domain.status ---- */

typedef struct qemuStatusHeader {
    uint32_t magic;           /* QEMU_STATUS_MAGIC */
    uint32_t version;
    int32_t  id;              /* the domain's ID while it runs */
    uint32_t started;         /* 1 once the start was committed */
    int32_t  state, reason;   /* what the driver last set (libvirt's enums) */
    uint32_t persistent;      /* a persistent domain (else transient) */
    uint32_t destroying;      /* the driver asked it to stop (destroy) */
    uint32_t defSize;         /* then the running definition block */
    uint32_t flags;           /* QEMU_STATUS_*; 0 in older records */
} qemuStatusHeader;
#define QEMU_STATUS_MAGIC 0x53535156u  /* "VQSS" */
/* A save's image is complete and the save stops the guest (shut off,
 * reason saved). */
#define QEMU_STATUS_SAVED 1u
/* This run of the guest was started by a restore (the start another
 * connection sees is told as restored). */
#define QEMU_STATUS_RESTORED 2u

/* Write / read RUN/NAME/domain.status. A write replaces the whole record
 * at once (a spare file traded with it, not flushed: see qemu_conf.c) and
 * returns 0, or -1 reported; writers in other processes wait for each
 * other (a flock on @dir), writers in one process are kept apart by the
 * caller (the driver's lock). A read never sees a half-written record:
 * it fills @hdr and returns the running definition (the caller frees it),
 * or NULL reported with errno set (ENOENT: no status; EPROTO: not a valid
 * one; EAGAIN: it kept changing while read). */
int qemuStatusWrite(const char *dir, const qemuStatusHeader *hdr, const qemuDomainDef *def);
qemuDomainDef *qemuStatusRead(const char *dir, qemuStatusHeader *hdr);
/* The header alone, into @hdr: no allocation, nothing reported. 0, or -1
 * with errno (as above). For a connection that follows another's
 * changes of a guest it already knows. */
int qemuStatusReadHeader(const char *dir, qemuStatusHeader *hdr);

/* The next domain ID (a counter in RUN/.next-id, locked). -1 reported. */
int qemuNextID(const qemuConfig *cfg);

/* ---- XML ---- */

typedef struct qemuLiveInfo {
    int id;                   /* -1: inactive XML */
} qemuLiveInfo;

/* Domain XML written from a checked @def. Caller frees; NULL reported. */
char *qemuDomainDefFormat(const qemuDomainDef *def, const qemuLiveInfo *live);

/* Create @path and its parents with @mode (0 on EEXIST). -1 reported. */
int qemuMakeDirs(const char *path, mode_t mode);
/* Remove @dir and what it holds (one level: a guest's run directory). */
int qemuRemoveDir(const char *dir);
