/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * segment.c: creating (supervisor) and opening (readers) the status segment
 * file, and finding slots in it.
 *
 * A reader treats the file as hostile: the header is copied with pread and
 * validated against the file size before anything is mapped, and only the
 * bytes the validated header accounts for are mapped. The slot count a
 * reader uses is the validated copy in virShmSegment, never the live header.
 */
#include <assert.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>

#define VIR_FROM_THIS VIR_FROM_SHM
#include "util/viralloc.h"
#include "util/virerror.h"
#include "shm/segment.h"

uint64_t virShmProgressTableOffset(uint32_t nslots)
{
    uint64_t groups = ((uint64_t)nslots + VIR_SHM_LIFECYCLE_GROUP - 1) / VIR_SHM_LIFECYCLE_GROUP;
    return VIR_SHM_LIFECYCLE_OFFSET + groups * 2 * VIR_SHM_PAGE_SIZE;
}

uint64_t virShmSegmentBytes(uint32_t nslots)
{
    return virShmProgressTableOffset(nslots) + (uint64_t)nslots * VIR_SHM_PROGRESS_SIZE;
}

virShmProgress *virShmSlotProgress(const virShmSegment *seg, uint32_t slot)
{
    assert(slot < seg->nslots);
    return (virShmProgress *)((char *)seg->base + virShmSlotProgressOffset(seg, slot));
}

virShmLifecycle *virShmSlotLifecycle(const virShmSegment *seg, uint32_t slot)
{
    assert(slot < seg->nslots);
    return (virShmLifecycle *)((char *)seg->base + VIR_SHM_LIFECYCLE_OFFSET +
                               (uint64_t)(slot / VIR_SHM_LIFECYCLE_GROUP) * 2 * VIR_SHM_PAGE_SIZE +
                               (uint64_t)(slot % VIR_SHM_LIFECYCLE_GROUP) * VIR_SHM_LIFECYCLE_SIZE);
}

uint64_t virShmSlotProgressOffset(const virShmSegment *seg, uint32_t slot)
{
    return virShmProgressTableOffset(seg->nslots) + (uint64_t)slot * VIR_SHM_PROGRESS_SIZE;
}

static _Atomic uint64_t *slotMap(const virShmSegment *seg)
{
    return (_Atomic uint64_t *)((char *)seg->base + VIR_SHM_MAP_OFFSET);
}

void virShmSlotMarkWritten(virShmSegment *seg, uint32_t slot)
{
    assert(slot < seg->nslots);
    /* Release: a reader that acquires the word with this bit set sees the
     * slot's records as they were written before it. */
    atomic_fetch_or_explicit(&slotMap(seg)[slot / 64], UINT64_C(1) << (slot % 64),
                             memory_order_release);
}

uint32_t virShmWrittenSlots(const virShmSegment *seg)
{
    const _Atomic uint64_t *map = slotMap(seg);
    uint32_t n = 0;

    for (uint32_t w = 0; w < (seg->nslots + 63) / 64; w++) {
        /* Relaxed: a count to size an allocation, not a promise. */
        uint64_t bits = atomic_load_explicit(&map[w], memory_order_relaxed);
        if (w == seg->nslots / 64)
            bits &= (UINT64_C(1) << (seg->nslots % 64)) - 1;
        n += (uint32_t)__builtin_popcountll(bits);
    }
    return n;
}

uint32_t virShmNextWrittenSlot(const virShmSegment *seg, uint32_t from)
{
    const _Atomic uint64_t *map = slotMap(seg);

    while (from < seg->nslots) {
        /* Acquire: pairs with the release in virShmSlotMarkWritten. */
        uint64_t w = atomic_load_explicit(&map[from / 64], memory_order_acquire);
        w &= ~UINT64_C(0) << (from % 64);
        if (w) {
            uint32_t slot = from - from % 64 + (uint32_t)__builtin_ctzll(w);
            return slot < seg->nslots ? slot : seg->nslots;
        }
        from = from - from % 64 + 64;
    }
    return seg->nslots;
}

void virShmSegmentForget(virShmSegment *seg)
{
    if (!seg)
        return;
    seg->base = NULL;
    virShmSegmentClose(seg);
}

void virShmSegmentClose(virShmSegment *seg)
{
    if (!seg)
        return;
    if (seg->base)
        munmap(seg->base, seg->size);
    virForceClose(&seg->fd);
    free(seg->reserved);
    free(seg->path);
    free(seg);
}

void virShmSegmentDestroy(virShmSegment *seg)
{
    if (!seg)
        return;
    if (seg->writable && seg->base) {
        virShmHeader *hdr = seg->base;
        /* Release: a reader that sees CLOSED sees the final lifecycle
         * records the supervisor wrote before shutting down. */
        atomic_fetch_or_explicit(&hdr->flags, VIR_SHM_HDR_CLOSED, memory_order_release);
    }
    if (seg->writable && seg->path)
        unlink(seg->path);
    virShmSegmentClose(seg);
}

virShmSegment *virShmSegmentCreate(const char *rundir, uint32_t nslots)
{
    virShmSegment *seg = NULL;
    VIR_AUTOFREE(char *) path = NULL;
    VIR_AUTOCLOSE fd = -1;
    pid_t pid = getpid();
    uint64_t start;
    uint64_t size;
    void *base;
    virShmHeader *hdr;
    int err;

    virCheckNonNullArg(rundir, NULL);
    if (nslots == 0 || nslots > VIR_SHM_MAX_SLOTS) {
        virReportError(VIR_ERR_INVALID_ARG,
                       "status segment slot count %" PRIu32 " out of range (1..%u)",
                       nslots, VIR_SHM_MAX_SLOTS);
        return NULL;
    }
    if ((start = virShmProcStartTime(pid)) == 0) {
        virReportError(VIR_ERR_INTERNAL_ERROR, "%s",
                       "cannot create status segment: cannot read this process's "
                       "start time from /proc/self/stat");
        return NULL;
    }
    if (!(path = virAsprintf("%s/%d-%" PRIu64 ".seg", rundir, (int)pid, start)))
        return NULL;

    /* O_EXCL|O_NOFOLLOW: never reuse or follow something planted there. */
    fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
    if (fd >= 0 && fd < 3 && (fd = virFDAboveStdio(fd)) < 0) {
        virReportSystemError(errno, "cannot move status segment %s above the "
                             "standard descriptors", path);
        unlink(path);
        return NULL;
    }
    if (fd < 0) {
        virReportSystemError(errno, "cannot create status segment %s", path);
        return NULL;
    }
    /* The umask may have taken the group's read bit away. */
    if (fchmod(fd, 0640) < 0) {
        virReportSystemError(errno, "cannot set mode 0640 on status segment %s", path);
        goto unlink;
    }
    size = virShmSegmentBytes(nslots);
    /* Sparse: unused slots cost no memory until touched. */
    if (ftruncate(fd, (off_t)size) < 0) {
        virReportSystemError(errno, "cannot size status segment %s to %" PRIu64 " bytes",
                             path, size);
        goto unlink;
    }
    /* The storage of the header and the slot map, before the first store
     * into them: on a full file system (a small tmpfs) that store would
     * raise SIGBUS in the application. Slots are reserved as the ring
     * first uses them. */
    if ((err = posix_fallocate(fd, 0, VIR_SHM_LIFECYCLE_OFFSET)) != 0) {
        virShmReportNoSpace(path, err, "cannot reserve its header");
        goto unlink;
    }
    base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (base == MAP_FAILED) {
        virReportSystemError(errno, "cannot map status segment %s", path);
        goto unlink;
    }
    /* Not inherited by a fork of the application (nor by the short-lived
     * process that starts the spawn helper): a child never stores into
     * the parent's segment, and nothing in it reads the file's holes,
     * which on tmpfs allocates their pages (valgrind's leak scan of a
     * child at exit filled a small run directory that way). */
    (void)madvise(base, size, MADV_DONTFORK);

    hdr = base;
    hdr->abi_version = VIR_SHM_ABI_VERSION;
    hdr->header_size = VIR_SHM_HEADER_SIZE;
    hdr->lifecycle_size = VIR_SHM_LIFECYCLE_SIZE;
    hdr->nslots = nslots;
    hdr->progress_size = VIR_SHM_PROGRESS_SIZE;
    hdr->map_size = VIR_SHM_MAP_SIZE;
    hdr->map_offset = VIR_SHM_MAP_OFFSET;
    hdr->lifecycle_offset = VIR_SHM_LIFECYCLE_OFFSET;
    hdr->progress_offset = virShmProgressTableOffset(nslots);
    hdr->supervisor_pid = (int32_t)pid;
    hdr->owner_uid = (uint32_t)geteuid();
    hdr->supervisor_start_time = start;
    hdr->created_realtime_ns = virShmNowReal();
    /* Relaxed: the supervisor alone hands out ids, under its own lock. */
    atomic_store_explicit(&hdr->next_job_id, 1, memory_order_relaxed);
    /* Release, and last: a reader that opens the file while it is being
     * filled sees a zero magic and refuses it rather than half a header. */
    __atomic_store_n(&hdr->magic, VIR_SHM_MAGIC, __ATOMIC_RELEASE);

    if (VIR_ALLOC(seg) == NULL ||
        !(seg->reserved = virAllocN((nslots + 63) / 64, sizeof(*seg->reserved)))) {
        free(seg);
        munmap(base, size);
        goto unlink;
    }
    seg->fd = VIR_STEAL_FD(fd);
    seg->base = base;
    seg->size = size;
    seg->nslots = nslots;
    seg->writable = true;
    seg->path = VIR_STEAL_PTR(path);
    return seg;

 unlink:
    unlink(path);
    return NULL;
}

void virShmReportNoSpace(const char *path, int err, const char *what)
{
    const char *slash = strrchr(path, '/');
    int dirlen = slash ? (int)(slash - path) : (int)strlen(path);

    virReportSystemError(err, "no space for the status segment in %.*s: %s",
                         dirlen > 0 ? dirlen : 1, dirlen > 0 ? path : "/", what);
}

#ifndef MADV_POPULATE_WRITE
# define MADV_POPULATE_WRITE 23
#endif

/* The storage of slots [@first, @last): their progress pages and the
 * pages of their groups of lifecycle records, in two calls. 0 or errno. */
static int reserveRange(virShmSegment *seg, uint32_t first, uint32_t last)
{
    uint64_t lc = (uint64_t)((const char *)virShmSlotLifecycle(seg, first) -
                             (const char *)seg->base);
    uint64_t lcEnd = (uint64_t)((const char *)virShmSlotLifecycle(seg, last - 1) -
                                (const char *)seg->base);
    int err;

    lc -= lc % VIR_SHM_PAGE_SIZE;
    lcEnd = lcEnd - lcEnd % VIR_SHM_PAGE_SIZE + 2 * VIR_SHM_PAGE_SIZE;
    if ((err = posix_fallocate(seg->fd, (off_t)virShmSlotProgressOffset(seg, first),
                               (off_t)(last - first) * VIR_SHM_PROGRESS_SIZE)) != 0 ||
        (err = posix_fallocate(seg->fd, (off_t)lc, (off_t)(lcEnd - lc))) != 0)
        return err;
    /* Mapped now too, writable, in one call each (Linux 5.14; older ones
     * refuse it, harmlessly): the first store of each job into its new
     * slot took a page fault, 9-15 us on ext4. */
    (void)madvise((char *)seg->base + virShmSlotProgressOffset(seg, first),
                  (size_t)(last - first) * VIR_SHM_PROGRESS_SIZE, MADV_POPULATE_WRITE);
    (void)madvise((char *)seg->base + lc, (size_t)(lcEnd - lc), MADV_POPULATE_WRITE);
    for (uint32_t i = first; i < last; i++) {
        if (!virShmSlotReserved(seg, i)) {
            seg->reserved[i / 64] |= UINT64_C(1) << (i % 64);
            seg->nreserved++;
        }
    }
    return 0;
}

int virShmSlotReserve(virShmSegment *seg, uint32_t slot)
{
    assert(seg->writable && seg->reserved && slot < seg->nslots);
    if (virShmSlotReserved(seg, slot))
        return 0;
    /* This slot and the ones the ring takes after it in its group of
     * eight lifecycle records: four calls for them all instead of two per
     * job and a page fault at its first store (35 us of each job's
     * creation on ext4, 21 us on tmpfs). Ids need not start at 1 (a ring
     * written far along), and slots far from where the ring is stay
     * holes. A slot's progress page, and the page of its lifecycle record
     * with the page of their error texts (shared with the seven other
     * slots of the group: reserving twice is harmless). */
    uint32_t last = slot - slot % VIR_SHM_LIFECYCLE_GROUP + VIR_SHM_LIFECYCLE_GROUP;
    if (last > seg->nslots)
        last = seg->nslots;
    while (last > slot + 1 && virShmSlotReserved(seg, last - 1))
        last--;
    if (last > slot + 1 && reserveRange(seg, slot, last) == 0)
        return 0;
    /* A file system short of room (a small tmpfs, which gives back what
     * a failed call allocated): this slot alone, so that every slot that
     * fits is still used. */
    return reserveRange(seg, slot, slot + 1);
}

/* The checks of a header copy against the file's size. Reports and
 * returns -1 on the first problem. */
static int validateHeader(const char *path, const virShmHeader *h, off_t fsize)
{
    if (h->magic != VIR_SHM_MAGIC) {
        if (h->magic == 0)
            virReportError(VIR_ERR_PARSE_FAILED,
                           "segment %s: no magic yet (being created, or not a "
                           "libvirtsup status segment)", path);
        else
            virReportError(VIR_ERR_PARSE_FAILED,
                           "segment %s: bad magic (not a libvirtsup status segment)",
                           path);
        return -1;
    }
    if (h->abi_version != VIR_SHM_ABI_VERSION) {
        virReportError(VIR_ERR_PARSE_FAILED,
                       "segment %s: unsupported ABI version %" PRIu32
                       " (this reader knows version %u)",
                       path, h->abi_version, VIR_SHM_ABI_VERSION);
        return -1;
    }
    if (h->header_size != VIR_SHM_HEADER_SIZE || h->lifecycle_size != VIR_SHM_LIFECYCLE_SIZE ||
        h->progress_size != VIR_SHM_PROGRESS_SIZE || h->map_size != VIR_SHM_MAP_SIZE) {
        virReportError(VIR_ERR_PARSE_FAILED,
                       "segment %s: bad sizes: header %" PRIu32 ", slot map %" PRIu32
                       ", lifecycle record %" PRIu32 " and progress page %" PRIu32
                       " bytes, expected %u, %u, %u and %u",
                       path, h->header_size, h->map_size, h->lifecycle_size,
                       h->progress_size, VIR_SHM_HEADER_SIZE, VIR_SHM_MAP_SIZE,
                       VIR_SHM_LIFECYCLE_SIZE, VIR_SHM_PROGRESS_SIZE);
        return -1;
    }
    if (h->nslots == 0 || h->nslots > VIR_SHM_MAX_SLOTS) {
        virReportError(VIR_ERR_PARSE_FAILED,
                       "segment %s: slot count %" PRIu32 " out of range (1..%u)",
                       path, h->nslots, VIR_SHM_MAX_SLOTS);
        return -1;
    }
    if (h->map_offset != VIR_SHM_MAP_OFFSET || h->lifecycle_offset != VIR_SHM_LIFECYCLE_OFFSET ||
        h->progress_offset != virShmProgressTableOffset(h->nslots)) {
        virReportError(VIR_ERR_PARSE_FAILED,
                       "segment %s: bad section offsets: slot map %" PRIu64
                       ", lifecycle %" PRIu64 ", progress %" PRIu64
                       ", expected %u, %u and %" PRIu64 " for %" PRIu32 " slots",
                       path, h->map_offset, h->lifecycle_offset, h->progress_offset,
                       VIR_SHM_MAP_OFFSET, VIR_SHM_LIFECYCLE_OFFSET,
                       virShmProgressTableOffset(h->nslots), h->nslots);
        return -1;
    }
    if ((uint64_t)fsize < virShmSegmentBytes(h->nslots)) {
        virReportError(VIR_ERR_PARSE_FAILED,
                       "segment %s: truncated: %lld bytes, %" PRIu32 " slots need %" PRIu64,
                       path, (long long)fsize, h->nslots, virShmSegmentBytes(h->nslots));
        return -1;
    }
    return 0;
}

virShmSegment *virShmSegmentOpen(const char *path)
{
    virShmSegment *seg = NULL;
    VIR_AUTOCLOSE fd = -1;
    virShmHeader hdr;
    struct stat sb;
    size_t got = 0;
    uint64_t size;
    void *base;

    virCheckNonNullArg(path, NULL);

    /* O_NONBLOCK: a FIFO planted under the name must not hang us in open();
     * it is refused below as not a regular file. */
    fd = virFDAboveStdio(open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK |
                              O_NOCTTY));
    if (fd < 0) {
        virReportSystemError(errno, "cannot open segment %s", path);
        return NULL;
    }
    if (fstat(fd, &sb) < 0) {
        virReportSystemError(errno, "cannot stat segment %s", path);
        return NULL;
    }
    if (!S_ISREG(sb.st_mode)) {
        virReportError(VIR_ERR_PARSE_FAILED, "segment %s: not a regular file", path);
        return NULL;
    }
    if (sb.st_size < (off_t)sizeof(hdr)) {
        virReportError(VIR_ERR_PARSE_FAILED,
                       "segment %s: too small for a header: %lld bytes, need %zu",
                       path, (long long)sb.st_size, sizeof(hdr));
        return NULL;
    }
    /* Copy the header rather than map it: validating a private copy
     * cannot fault, and its fields cannot change under the checks. */
    while (got < sizeof(hdr)) {
        ssize_t n = pread(fd, (char *)&hdr + got, sizeof(hdr) - got, (off_t)got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            virReportSystemError(errno, "cannot read segment %s", path);
            return NULL;
        }
        if (n == 0) {
            virReportError(VIR_ERR_PARSE_FAILED,
                           "segment %s: truncated: header cut at %zu bytes", path, got);
            return NULL;
        }
        got += (size_t)n;
    }
    if (validateHeader(path, &hdr, sb.st_size) < 0)
        return NULL;

    /* Map only what the validated header accounts for and the file holds. */
    size = virShmSegmentBytes(hdr.nslots);
    base = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
    if (base == MAP_FAILED) {
        virReportSystemError(errno, "cannot map segment %s", path);
        return NULL;
    }
    (void)madvise(base, size, MADV_DONTFORK);   /* as virShmSegmentCreate */
    /* Narrow the window of a truncation between the first fstat and the
     * mapping: touching a page past the end of file raises SIGBUS. Only
     * the file's owner can still shrink it later (docs/SEGMENT-ABI.md). */
    if (fstat(fd, &sb) < 0 || (uint64_t)sb.st_size < size) {
        virReportError(VIR_ERR_PARSE_FAILED,
                       "segment %s: truncated while being opened: %lld bytes, "
                       "%" PRIu32 " slots need %" PRIu64,
                       path, (long long)sb.st_size, hdr.nslots, size);
        munmap(base, size);
        return NULL;
    }

    if (VIR_ALLOC(seg) == NULL || !(seg->path = virStrdup(path))) {
        free(seg);
        munmap(base, size);
        return NULL;
    }
    seg->fd = VIR_STEAL_FD(fd);
    seg->base = base;
    seg->size = size;
    seg->nslots = hdr.nslots;
    seg->writable = false;
    return seg;
}
