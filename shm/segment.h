/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * segment.h: the status segment, an ABI shared by the supervisor (writes
 * lifecycle), the workers (write progress) and virtsup-stat (reads).
 *
 * File: <rundir>/<supervisor pid>-<supervisor start time>.seg, mode 0640.
 *
 *   offset 0                  header page (virShmHeader), 4096 bytes
 *   4096                      slot map: bit i set once slot i was written
 *   12288 + g * 8192          slots 8g..8g+7: a page of their lifecycle
 *                             records (512 bytes each), then a page of
 *                             their error texts (at the same places)
 *   P + i * 4096              slot i's progress page (its worker writes),
 *                             P = 12288 + ceil(nslots / 8) * 8192
 *
 * The progress of a slot has a page of its own: the worker maps it and
 * nothing else, so it cannot forge the lifecycle (state, error, pid) that
 * operators read (see docs/SEGMENT-ABI.md). The lifecycle records, which
 * no worker maps, sit eight to a page and carry the progress as the
 * supervisor samples it; the slot map tells a reader which slots hold
 * anything at all. A scan of N running jobs reads N/8 pages.
 *
 * Each section is guarded by a seqlock with exactly one writer. Readers
 * never block writers and retry a bounded number of times. Everything read
 * from the segment is untrusted: the read calls validate and clamp.
 *
 * May be included by supervisor/, worker/, src/ and tools/.
 */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define VIR_SHM_MAGIC        UINT64_C(0x3147455350555356) /* "VSUPSEG1" little-endian */
#define VIR_SHM_ABI_VERSION  2u
#define VIR_SHM_PAGE_SIZE    4096u
#define VIR_SHM_HEADER_SIZE  4096u
#define VIR_SHM_MAX_SLOTS    65536u
#define VIR_SHM_DEFAULT_SLOTS 1024u
#define VIR_SHM_MAP_OFFSET   4096u      /* the slot map: one bit per slot */
#define VIR_SHM_MAP_SIZE     (VIR_SHM_MAX_SLOTS / 8)
#define VIR_SHM_LIFECYCLE_OFFSET (VIR_SHM_MAP_OFFSET + VIR_SHM_MAP_SIZE)
#define VIR_SHM_LIFECYCLE_SIZE 512u     /* one lifecycle record (without its error text) */
#define VIR_SHM_LIFECYCLE_GROUP 8u      /* records on a page; their error texts on the next */
#define VIR_SHM_ERROR_DELTA  4096u      /* a record's error text: one page further */
#define VIR_SHM_PROGRESS_SIZE  4096u    /* one page per slot */

#define VIR_SHM_OP_MAX     48   /* bytes, including the terminating NUL */
#define VIR_SHM_TARGET_MAX 96
#define VIR_SHM_PHASE_MAX  64
#define VIR_SHM_ERROR_MAX  512

/* Lifecycle states as stored in the segment (not the public virJobState). */
typedef enum {
    VIR_SHM_STATE_EMPTY = 0,      /* slot never used */
    VIR_SHM_STATE_QUEUED = 1,     /* waiting for a worker (concurrency cap) */
    VIR_SHM_STATE_RUNNING = 2,
    VIR_SHM_STATE_COMPLETED = 3,
    VIR_SHM_STATE_FAILED = 4,
    VIR_SHM_STATE_CANCELLED = 5,
    VIR_SHM_STATE_LAST
} virShmState;

/* Lifecycle flags. */
#define VIR_SHM_LC_CANCEL_REQUESTED (1u << 0)
#define VIR_SHM_LC_CANCEL_ACKED     (1u << 1)  /* worker said it saw the cancel */
#define VIR_SHM_LC_STALLED          (1u << 2)  /* no progress for the stall time */
#define VIR_SHM_LC_KILLED           (1u << 3)  /* we sent SIGKILL */
#define VIR_SHM_LC_REPAIRED         (1u << 4)  /* progress seqlock was left odd */

/* Progress flags (worker side). */
#define VIR_SHM_PR_INITIALIZED  (1u << 0)  /* virWorkerJobInitialize was called */
#define VIR_SHM_PR_HAS_ETA      (1u << 1)
#define VIR_SHM_PR_CANCEL_ACK   (1u << 2)  /* worker saw the cancel request */

/* Header flags. */
#define VIR_SHM_HDR_CLOSED      (1u << 0)  /* supervisor shut down cleanly */

/* --- the layout (the ABI; docs/SEGMENT-ABI.md, tests/shm-layout-test.c) --- */

typedef struct virShmHeader {
    uint64_t magic;                 /*   0 VIR_SHM_MAGIC */
    uint32_t abi_version;           /*   8 VIR_SHM_ABI_VERSION */
    uint32_t header_size;           /*  12 VIR_SHM_HEADER_SIZE */
    uint32_t lifecycle_size;        /*  16 VIR_SHM_LIFECYCLE_SIZE */
    uint32_t nslots;                /*  20 1 .. VIR_SHM_MAX_SLOTS */
    uint32_t progress_size;         /*  24 VIR_SHM_PROGRESS_SIZE */
    uint32_t map_size;              /*  28 VIR_SHM_MAP_SIZE */
    int32_t  supervisor_pid;        /*  32 */
    uint32_t owner_uid;             /*  36 */
    uint64_t supervisor_start_time; /*  40 field 22 of /proc/PID/stat (ticks since boot) */
    uint64_t created_realtime_ns;   /*  48 CLOCK_REALTIME at creation */
    _Atomic uint32_t flags;         /*  56 VIR_SHM_HDR_*; written by the supervisor */
    uint32_t reserved0;             /*  60 */
    _Atomic uint64_t next_job_id;   /*  64 next id the ring will hand out; supervisor only */
    uint64_t map_offset;            /*  72 VIR_SHM_MAP_OFFSET */
    uint64_t lifecycle_offset;      /*  80 VIR_SHM_LIFECYCLE_OFFSET */
    uint64_t progress_offset;       /*  88 virShmProgressTableOffset(nslots) */
    uint8_t  reserved[4096 - 96];   /*  96 zero */
} virShmHeader;

/* The data a worker publishes; copied whole under the progress seqlock. */
typedef struct virShmProgressData {
    uint32_t type;           /*  0 VIR_JOB_BOUNDED (0) / VIR_JOB_UNBOUNDED (1) */
    uint32_t flags;          /*  4 VIR_SHM_PR_* */
    uint32_t percent;        /*  8 0..100 (clamped by readers) */
    uint32_t reserved0;      /* 12 */
    uint64_t elapsed_ms;     /* 16 as reported by the worker */
    uint64_t eta_ms;         /* 24 remaining, as reported by the worker */
    uint64_t bytes_done;     /* 32 */
    uint64_t bytes_total;    /* 40 0 when unknown */
    char     phase[VIR_SHM_PHASE_MAX]; /* 48 NUL-terminated (readers force it) */
} virShmProgressData;        /* 112 bytes */

typedef struct virShmProgress {
    _Atomic uint32_t seq;              /*   0 seqlock: odd while written */
    _Atomic uint32_t cancel_requested; /*   4 set to 1 by the supervisor; worker reads */
    _Atomic uint64_t job_id;           /*   8 written by the supervisor before the worker runs */
    virShmProgressData data;           /*  16 */
    uint64_t updates;                  /* 128 number of writes (inside the seqlock) */
} virShmProgress;

/* The data the supervisor publishes about a job. */
typedef struct virShmLifecycleData {
    uint64_t job_id;          /*   0 */
    uint64_t generation;      /*   8 job_id / nslots */
    uint32_t state;           /*  16 virShmState */
    uint32_t flags;           /*  20 VIR_SHM_LC_* */
    int32_t  worker_pid;      /*  24 0 when none */
    int32_t  exit_status;     /*  28 exit code, when exited */
    int32_t  term_signal;     /*  32 signal, when killed; 0 otherwise */
    int32_t  error_code;      /*  36 virErrorNumber, 0 when none */
    uint64_t start_realtime_ns; /* 40 when created */
    uint64_t end_realtime_ns;   /* 48 when ended; 0 while running */
    uint64_t rate_bps;        /*  56 smoothed rate derived by the supervisor */
    uint64_t eta_ms;          /*  64 derived ETA, when the worker gives none */
    virShmProgressData final; /*  72 the worker's progress as last sampled (every
                                 0.5 s while it runs), then its last figures */
    char     op[VIR_SHM_OP_MAX];         /* 184 */
    char     target[VIR_SHM_TARGET_MAX]; /* 232 */
    uint64_t sampled_realtime_ns; /* 328 when `final` was read from the worker's page */
    uint64_t start_mono_ns;   /* 336 CLOCK_MONOTONIC when created; 0 in records of
                                 writers before these two fields (reserved then) */
    uint64_t end_mono_ns;     /* 344 CLOCK_MONOTONIC when ended; 0 while running */
    char     error[VIR_SHM_ERROR_MAX];   /* 352 stored apart: VIR_SHM_ERROR_DELTA */
} virShmLifecycleData;        /* 864 bytes */

/* A lifecycle record in the segment: everything but the error text, which
 * is VIR_SHM_ERROR_DELTA bytes further (the same place on the next page),
 * under the same sequence. A scan of running jobs reads only the records,
 * eight to a page. */
#define VIR_SHM_LC_HEAD_BYTES offsetof(virShmLifecycleData, error)
typedef struct virShmLifecycle {
    _Atomic uint32_t seq;     /*   0 */
    _Atomic uint32_t error_len; /* 4 bytes in the error text (0: none), a hint
                                   read outside the seqlock */
    uint64_t data[VIR_SHM_LC_HEAD_BYTES / 8]; /* 8 virShmLifecycleData up to error */
    uint8_t  reserved[VIR_SHM_LIFECYCLE_SIZE - 8 - VIR_SHM_LC_HEAD_BYTES]; /* 360 zero */
} virShmLifecycle;

_Static_assert(sizeof(virShmHeader) == VIR_SHM_HEADER_SIZE, "header is one page");
_Static_assert(sizeof(virShmProgressData) == 112, "progress data ABI");
_Static_assert(sizeof(virShmProgress) <= VIR_SHM_PROGRESS_SIZE, "progress fits its page");
_Static_assert(sizeof(virShmLifecycleData) == 864, "lifecycle data ABI");
_Static_assert(sizeof(virShmLifecycle) == VIR_SHM_LIFECYCLE_SIZE, "lifecycle record ABI");
_Static_assert(VIR_SHM_LIFECYCLE_SIZE * VIR_SHM_LIFECYCLE_GROUP == VIR_SHM_PAGE_SIZE,
               "a page of records");
_Static_assert(VIR_SHM_ERROR_MAX <= VIR_SHM_LIFECYCLE_SIZE, "an error text fits its place");
_Static_assert(VIR_SHM_LIFECYCLE_OFFSET % VIR_SHM_PAGE_SIZE == 0, "table on a page");

/* --- the segment as a process sees it --- */

typedef struct virShmSegment {
    int fd;              /* -1 once closed; O_CLOEXEC */
    void *base;          /* the whole file, mapped */
    size_t size;
    uint32_t nslots;
    uint64_t *reserved;  /* supervisor: bit i set once slot i has its storage
                            (virShmSlotReserve); NULL for readers */
    uint32_t nreserved;  /* how many bits are set */
    bool writable;       /* the supervisor's mapping */
    char *path;          /* owned */
} virShmSegment;

/* Where the progress pages start for @nslots slots (after the lifecycle
 * table: a page of eight records, then a page of their error texts, for
 * each eight slots), and the whole file's size. */
uint64_t virShmProgressTableOffset(uint32_t nslots);
uint64_t virShmSegmentBytes(uint32_t nslots);

/* Run directory: VIRTSUP_RUNDIR, else /run/virtsup as root, else
 * $XDG_RUNTIME_DIR/virtsup. Returns a malloc'd path or NULL with an error.
 * @create: make it (0750 as root, 0700 otherwise) if missing, refusing a
 * symlink or a directory owned by someone else. */
char *virShmRunDir(bool create);

/* Supervisor: create <rundir>/<pid>-<starttime>.seg with O_EXCL|O_NOFOLLOW,
 * mode 0640, size for @nslots, header filled, mapped read-write.
 * Returns NULL with an error reported. */
virShmSegment *virShmSegmentCreate(const char *rundir, uint32_t nslots);

/* Supervisor: allocate the storage of @slot (both pages) before anything
 * is stored there, and while at it that of the slots after it in its
 * group of eight lifecycle records, if the file system has room for them
 * (the ring takes them next); all of it mapped. A segment is a sparse file: on a full
 * file system (a small tmpfs) the first store into a page that has none
 * raises SIGBUS. Returns 0, or an errno value (ENOSPC...), reporting
 * nothing. Callers serialise. */
int virShmSlotReserve(virShmSegment *seg, uint32_t slot);
/* Has @slot its storage (supervisor's segment only)? */
static inline bool virShmSlotReserved(const virShmSegment *seg, uint32_t slot)
{
    return seg->reserved && (seg->reserved[slot / 64] >> (slot % 64)) & 1;
}

/* Report "no space for the status segment in <dir of @path>: @what: <err>". */
void virShmReportNoSpace(const char *path, int err, const char *what);

/* Reader: open an existing segment read-only and validate its header
 * against the file size (magic, version, sizes, slot count). Returns NULL
 * with an error whose message says what is wrong. */
virShmSegment *virShmSegmentOpen(const char *path);

/* Unmap and close; NULL accepted. Does not unlink. */
void virShmSegmentClose(virShmSegment *seg);
/* Free @seg's record without unmapping it: for a forked child, where the
 * mapping of the parent's segment does not exist (MADV_DONTFORK) and its
 * address range may be reused. Closes its descriptor if still open. */
void virShmSegmentForget(virShmSegment *seg);

/* Supervisor, clean shutdown: mark closed, unlink, unmap, close. */
void virShmSegmentDestroy(virShmSegment *seg);

/* Slot accessors: no checks beyond an assert that @slot < nslots. */
virShmProgress *virShmSlotProgress(const virShmSegment *seg, uint32_t slot);
virShmLifecycle *virShmSlotLifecycle(const virShmSegment *seg, uint32_t slot);
/* Byte offset of a slot's progress page in the file (for the worker's mmap). */
uint64_t virShmSlotProgressOffset(const virShmSegment *seg, uint32_t slot);

/* --- the slot map --- */

/* Supervisor, once a slot's records are written: set its bit (release, so
 * a reader that sees the bit sees the records). */
void virShmSlotMarkWritten(virShmSegment *seg, uint32_t slot);

/* Reader: the first slot at or after @from whose bit is set, or
 * seg->nslots when none is. A slot whose bit is clear was never written:
 * its pages are holes in the file, and reading them would make tmpfs
 * allocate them. No system call; reads only the map's words. Bits in the
 * map past nslots are ignored. */
uint32_t virShmNextWrittenSlot(const virShmSegment *seg, uint32_t from);
/* Reader: how many slots the map marks (below nslots), e.g. to size what
 * a scan keeps in one allocation. No system call. */
uint32_t virShmWrittenSlots(const virShmSegment *seg);

/* --- seqlocks --- */

/* Writer side of the progress seqlock (the worker; one writer). No system
 * call; safe in a signal handler only if not nested in another write. */
void virShmProgressWrite(virShmProgress *p, const virShmProgressData *d);

/* Reader: copy a consistent snapshot with at most VIR_SHM_READ_RETRIES
 * attempts, then validate it (clamp percent, terminate strings).
 * Returns 0, or -1 (errno EAGAIN, no error reported) if no consistent copy
 * could be had: a writer is mid-update or died mid-update. */
#define VIR_SHM_READ_RETRIES 64
int virShmProgressRead(const virShmProgress *p, virShmProgressData *out);

/* As virShmProgressRead, but copies only the figures (everything before
 * the phase text, which is returned empty): virJobGetInfo's hot path. */
int virShmProgressReadFigures(const virShmProgress *p, virShmProgressData *out);

/* Supervisor writer of the lifecycle seqlock (the record, its error text,
 * and the record's error_len, the text's length). */
void virShmLifecycleWrite(virShmLifecycle *l, const virShmLifecycleData *d);
/* Reader; same contract as virShmProgressRead. Also rejects a state out of
 * range (-1, errno EBADMSG, no error reported) and terminates the strings. */
int virShmLifecycleRead(const virShmLifecycle *l, virShmLifecycleData *out);
/* As virShmLifecycleRead without the error text (returned empty): the
 * record alone, one page for eight slots (a scan's hot path). */
int virShmLifecycleReadHead(const virShmLifecycle *l, virShmLifecycleData *out);
/* Sanitise a copied lifecycle record in place (terminate strings, sanitise
 * the final progress). Returns -1 (errno EBADMSG) if the state is unknown. */
int virShmLifecycleSanitize(virShmLifecycleData *d);
/* Like virShmProgressRepair, for a lifecycle section whose writer (a
 * supervisor) died mid-write: used when salvaging a stale segment. */
bool virShmLifecycleRepair(virShmLifecycle *l);

/* Supervisor, after reaping the slot's worker: if the progress sequence was
 * left odd (worker died mid-write) make it even again. Returns true if it
 * had to repair. */
bool virShmProgressRepair(virShmProgress *p);

/* Supervisor, before a slot's new worker runs: under the seqlock, set the
 * job id, clear cancel_requested, zero the data and the update count. */
void virShmProgressReset(virShmProgress *p, uint64_t job_id);

/* Sanitise a copied progress record in place (clamp, terminate). */
void virShmProgressSanitize(virShmProgressData *d);

/* --- the ring (supervisor only; callers serialise) --- */

/* Find the next job id whose slot (id % nslots) is not QUEUED or RUNNING,
 * starting at header->next_job_id (ids start at 1 and only grow; ids whose
 * slot is busy are skipped). A slot used for the first time gets its
 * storage reserved first (virShmSlotReserve); when the file system has no
 * room for it, ids whose slot already has storage are used instead, so a
 * full run directory only shortens the history. Writes a fresh lifecycle
 * record (state QUEUED, job id, generation, op, target, start time), resets
 * the progress page, and advances next_job_id. Returns 0, or -1 with
 * VIR_ERR_RESOURCE_BUSY ("status ring full: all N slots hold unfinished
 * jobs") when every slot is busy, or VIR_ERR_SYSTEM_ERROR ("no space for the
 * status segment in DIR: ...") when every slot that has storage is busy and
 * no more can be had. */
int virShmRingAlloc(virShmSegment *seg, const char *op, const char *target,
                    uint64_t *job_id, uint32_t *slot);
/* Slot for a job id. */
static inline uint32_t virShmRingSlot(const virShmSegment *seg, uint64_t job_id)
{
    return (uint32_t)(job_id % seg->nslots);
}

/* --- a reader's view of a slot (view.c) --- */

static inline bool virShmStateEnded(uint32_t state)
{
    return state == VIR_SHM_STATE_COMPLETED || state == VIR_SHM_STATE_FAILED ||
           state == VIR_SHM_STATE_CANCELLED;
}

/* How long the job of record @lc ran, in ms: until its end, or until now
 * (@nowMono, @nowReal: virShmNowMono(), virShmNowReal()) while it runs.
 * From the record's monotonic stamps, which a step of the wall clock (an
 * NTP step, `date -s`, a virtual machine resumed) does not move; from its
 * wall-clock stamps when it has none (a writer before 2026-12-05) or when
 * they are ahead of this reader's clock (a reader in another time
 * namespace). 0 when neither says. Pure: any thread. */
uint64_t virShmLifecycleElapsedMs(const virShmLifecycleData *lc, uint64_t nowMono,
                                  uint64_t nowReal);

typedef enum {
    VIR_SHM_VIEW_EMPTY,         /* never used, or an ended job not asked for */
    VIR_SHM_VIEW_JOB,           /* lc holds the job; pr its progress, see source */
    VIR_SHM_VIEW_INCONSISTENT,  /* the slot cannot be trusted: why says how */
} virShmViewKind;

typedef enum {
    VIR_SHM_PROGRESS_NONE,      /* queued, or not sampled yet: pr zero */
    VIR_SHM_PROGRESS_SAMPLED,   /* a running job's, as the supervisor last sampled it */
    VIR_SHM_PROGRESS_FINAL,     /* an ended job's last progress */
} virShmProgressSource;

typedef struct virShmJobView {
    virShmViewKind kind;
    const char *why;            /* INCONSISTENT: static text */
    virShmLifecycleData lc;
    virShmProgressSource source;
    virShmProgressData pr;
} virShmJobView;

/* Reader: what slot @slot holds, into @v. The lifecycle record is read
 * consistently (else INCONSISTENT) and checked against the slot's place
 * in the ring (job id % nslots, generation); an EMPTY slot, or without
 * @ended a completed, failed or cancelled job, is EMPTY. The progress is
 * the record's own (sampled from the worker's page by the supervisor, or
 * the last once ended): a scan touches one page per eight jobs and never
 * a worker's page. The error text is read (a page further) only when the
 * record's error_len says there is one. Everything comes out sanitised.
 * No system call, no error reported. */
void virShmSlotView(const virShmSegment *seg, uint32_t slot, bool ended, virShmJobView *v);

/* --- liveness --- */

/* Start time of @pid (field 22 of /proc/PID/stat), 0 if it does not exist. */
uint64_t virShmProcStartTime(pid_t pid);
/* True if the process that created the segment still runs (pid and start
 * time both match). */
bool virShmSupervisorAlive(const virShmSegment *seg);

/* Monotonic / realtime clocks in ns (vDSO: no system call). */
uint64_t virShmNowMono(void);
/* CLOCK_MONOTONIC_COARSE: same base, a few ms behind, no TSC read. */
uint64_t virShmNowMonoCoarse(void);
uint64_t virShmNowReal(void);
