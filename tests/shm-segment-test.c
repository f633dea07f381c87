/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * shm-segment-test.c: the status segment file: creation, permissions, the
 * run directory, the ring, every refusal of a bad file, sanitising what is
 * read, and telling a live supervisor from a stale segment.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "util/viralloc.h"
#include "util/virerror.h"
#include "shm/segment.h"
#include "testutils.h"

static char *rundir;

static int setupRunDir(void **state)
{
    (void)state;
    rundir = testMakeRunDir();
    return rundir ? 0 : -1;
}

static int teardownRunDir(void **state)
{
    (void)state;
    testRemoveDir(rundir);
    free(rundir);
    rundir = NULL;
    return 0;
}

static void assertError(const char *needle)
{
    virErrorPtr e = virGetLastError();

    assert_non_null(e);
    assert_non_null(e->message);
    if (!strstr(e->message, needle))
        fail_msg("error \"%s\" does not say \"%s\"", e->message, needle);
}

/* The name virShmSegmentCreate gives this process's segment. */
static char *ownSegmentPath(void)
{
    return virAsprintf("%s/%d-%llu.seg", rundir, (int)getpid(),
                       (unsigned long long)virShmProcStartTime(getpid()));
}

static void testRoundTrip(void **state)
{
    (void)state;
    mode_t old = umask(0077);
    virShmSegment *seg = virShmSegmentCreate(rundir, 16);
    umask(old);
    assert_non_null(seg);
    VIR_AUTOFREE(char *) expect = ownSegmentPath();
    assert_string_equal(seg->path, expect);
    assert_true(seg->writable);
    assert_int_equal(seg->nslots, 16);

    struct stat sb;
    assert_int_equal(stat(seg->path, &sb), 0);
    assert_true(S_ISREG(sb.st_mode));
    assert_int_equal(sb.st_mode & 07777, 0640);
    /* Header, slot map, 2 groups of 8 lifecycle records (a page of records
     * and a page of error texts each), 16 progress pages. */
    assert_int_equal(sb.st_size, 12288 + 2 * 8192 + 16 * 4096);
    /* Sparse: the slots were never touched. */
    assert_true((long long)sb.st_blocks * 512 < sb.st_size);
    int fdflags = fcntl(seg->fd, F_GETFD);
    assert_true(fdflags >= 0 && (fdflags & FD_CLOEXEC));

    virShmSegment *ro = virShmSegmentOpen(seg->path);
    assert_non_null(ro);
    assert_false(ro->writable);
    assert_int_equal(ro->nslots, 16);
    assert_int_equal(ro->size, 12288 + 2 * 8192 + 16 * 4096);
    fdflags = fcntl(ro->fd, F_GETFD);
    assert_true(fdflags >= 0 && (fdflags & FD_CLOEXEC));

    const virShmHeader *h = ro->base;
    assert_true(h->magic == VIR_SHM_MAGIC);
    assert_int_equal(h->abi_version, VIR_SHM_ABI_VERSION);
    assert_int_equal(h->supervisor_pid, getpid());
    assert_int_equal(h->owner_uid, geteuid());
    assert_true(h->supervisor_start_time == virShmProcStartTime(getpid()));
    assert_true(h->created_realtime_ns > 0 && h->created_realtime_ns <= virShmNowReal());
    assert_true(atomic_load(&h->next_job_id) == 1);
    assert_true(virShmSupervisorAlive(ro));

    /* What the writer's mapping publishes, the reader's mapping reads. */
    virShmProgressData pd = { .type = 1, .flags = VIR_SHM_PR_INITIALIZED,
                              .percent = 42, .elapsed_ms = 1234, .eta_ms = 99,
                              .bytes_done = 1 << 20, .bytes_total = 1 << 21 };
    strcpy(pd.phase, "writing memory");
    virShmProgressWrite(virShmSlotProgress(seg, 15), &pd);
    virShmProgressData got;
    assert_int_equal(virShmProgressRead(virShmSlotProgress(ro, 15), &got), 0);
    assert_memory_equal(&got, &pd, sizeof(pd));
    assert_true(virShmSlotProgress(seg, 15)->updates == 1);

    virShmLifecycleData ld;
    memset(&ld, 0, sizeof(ld));
    ld.job_id = 7;
    ld.state = VIR_SHM_STATE_FAILED;
    ld.term_signal = 11;
    strcpy(ld.op, "domain-save");
    strcpy(ld.error, "worker crashed: signal 11 (SIGSEGV)");
    virShmLifecycleWrite(virShmSlotLifecycle(seg, 3), &ld);
    virShmLifecycleData lgot;
    assert_int_equal(virShmLifecycleRead(virShmSlotLifecycle(ro, 3), &lgot), 0);
    assert_memory_equal(&lgot, &ld, sizeof(ld));

    /* The lifecycle records eight to a page after the slot map, each
     * page followed by one of their error texts; the progress pages after
     * them (16 slots: 2 groups, 4 pages). */
    assert_ptr_equal((char *)virShmSlotLifecycle(seg, 0), (char *)seg->base + 12288);
    assert_ptr_equal((char *)virShmSlotLifecycle(seg, 3), (char *)seg->base + 12288 + 3 * 512);
    assert_ptr_equal((char *)virShmSlotLifecycle(seg, 9),
                     (char *)seg->base + 12288 + 8192 + 512);
    assert_memory_equal((char *)virShmSlotLifecycle(seg, 3) + 4096, ld.error,
                        strlen(ld.error) + 1);
    assert_ptr_equal((char *)virShmSlotProgress(seg, 0), (char *)seg->base + 12288 + 16384);
    assert_ptr_equal((char *)virShmSlotProgress(seg, 3),
                     (char *)seg->base + 12288 + 16384 + 3 * 4096);

    /* Destroy marks the segment closed for readers still mapping it. */
    char *path = strdup(seg->path);
    virShmSegmentDestroy(seg);
    assert_true(atomic_load(&h->flags) & VIR_SHM_HDR_CLOSED);
    assert_int_equal(access(path, F_OK), -1);
    assert_int_equal(errno, ENOENT);
    virShmSegmentClose(ro);
    free(path);

    virShmSegmentClose(NULL);
    virShmSegmentDestroy(NULL);
}

static void testBadArgs(void **state)
{
    (void)state;
    assert_null(virShmSegmentCreate(rundir, 0));
    assertError("slot count 0 out of range");
    assert_null(virShmSegmentCreate(rundir, VIR_SHM_MAX_SLOTS + 1));
    assertError("out of range");
    assert_null(virShmSegmentCreate(NULL, 4));
    assert_null(virShmSegmentOpen(NULL));
}

static void testExclusive(void **state)
{
    (void)state;
    virShmSegment *seg = virShmSegmentCreate(rundir, 4);
    assert_non_null(seg);
    /* Same process, same name: the file is never reused. */
    assert_null(virShmSegmentCreate(rundir, 4));
    assertError("cannot create status segment");
    assertError("File exists");
    /* The failed attempt did not remove the first segment. */
    assert_int_equal(access(seg->path, F_OK), 0);
    virShmSegmentDestroy(seg);
}

static void testSymlinkRefused(void **state)
{
    (void)state;
    VIR_AUTOFREE(char *) path = ownSegmentPath();
    VIR_AUTOFREE(char *) victim = virAsprintf("%s/victim", rundir);

    /* A dangling symlink planted at our name must not create its target. */
    assert_int_equal(symlink(victim, path), 0);
    assert_null(virShmSegmentCreate(rundir, 4));
    assertError(path);
    assert_int_equal(access(victim, F_OK), -1);
    assert_int_equal(unlink(path), 0);

    /* A reader does not follow a symlink to a valid segment either. */
    virShmSegment *seg = virShmSegmentCreate(rundir, 4);
    assert_non_null(seg);
    VIR_AUTOFREE(char *) link = virAsprintf("%s/link.seg", rundir);
    assert_int_equal(symlink(seg->path, link), 0);
    assert_null(virShmSegmentOpen(link));
    assertError("cannot open segment");
    assertError("Too many levels of symbolic links");
    unlink(link);
    virShmSegmentDestroy(seg);
}

static void testRunDir(void **state)
{
    (void)state;
    VIR_AUTOFREE(char *) saved = strdup(getenv("VIRTSUP_RUNDIR"));
    VIR_AUTOFREE(char *) sub = virAsprintf("%s/sub", rundir);
    VIR_AUTOFREE(char *) link = virAsprintf("%s/link", rundir);
    VIR_AUTOFREE(char *) file = virAsprintf("%s/file", rundir);
    char *d;
    struct stat sb;

    d = virShmRunDir(true);
    assert_non_null(d);
    assert_string_equal(d, rundir);
    free(d);

    /* Missing: created, private to us. */
    setenv("VIRTSUP_RUNDIR", sub, 1);
    d = virShmRunDir(true);
    assert_non_null(d);
    assert_string_equal(d, sub);
    free(d);
    assert_int_equal(lstat(sub, &sb), 0);
    assert_true(S_ISDIR(sb.st_mode));
    assert_int_equal(sb.st_mode & 0777 & ~(geteuid() == 0 ? 0750 : 0700), 0);

    /* A symlink to a good directory is still refused. */
    assert_int_equal(symlink(sub, link), 0);
    setenv("VIRTSUP_RUNDIR", link, 1);
    assert_null(virShmRunDir(true));
    assertError("is a symbolic link");
    /* Without create it is only a name: nothing is checked or made. */
    d = virShmRunDir(false);
    assert_non_null(d);
    assert_string_equal(d, link);
    free(d);

    int fd = open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    close(fd);
    setenv("VIRTSUP_RUNDIR", file, 1);
    assert_null(virShmRunDir(true));
    assertError("not a directory");

    setenv("VIRTSUP_RUNDIR", sub, 1);
    assert_int_equal(chmod(sub, 0770), 0);
    assert_null(virShmRunDir(true));
    assertError("writable by group or others");
    assert_int_equal(chmod(sub, 0700), 0);

    if (geteuid() == 0) {
        assert_int_equal(chown(sub, 12345, 12345), 0);
        assert_null(virShmRunDir(true));
        assertError("owned by uid 12345");
    }

    setenv("VIRTSUP_RUNDIR", "relative/dir", 1);
    assert_null(virShmRunDir(true));
    assertError("absolute path");

    /* The defaults, without touching the real directories. */
    unsetenv("VIRTSUP_RUNDIR");
    if (geteuid() == 0) {
        d = virShmRunDir(false);
        assert_non_null(d);
        assert_string_equal(d, "/run/virtsup");
        free(d);
    } else {
        VIR_AUTOFREE(char *) xdg = getenv("XDG_RUNTIME_DIR") ?
                                   strdup(getenv("XDG_RUNTIME_DIR")) : NULL;
        setenv("XDG_RUNTIME_DIR", "/xdg", 1);
        d = virShmRunDir(false);
        assert_string_equal(d, "/xdg/virtsup");
        free(d);
        unsetenv("XDG_RUNTIME_DIR");
        assert_null(virShmRunDir(false));
        assertError("XDG_RUNTIME_DIR");
        if (xdg)
            setenv("XDG_RUNTIME_DIR", xdg, 1);
    }
    setenv("VIRTSUP_RUNDIR", saved, 1);
}

static void setState(virShmSegment *seg, uint32_t slot, uint32_t st)
{
    virShmLifecycleData ld;

    assert_int_equal(virShmLifecycleRead(virShmSlotLifecycle(seg, slot), &ld), 0);
    ld.state = st;
    virShmLifecycleWrite(virShmSlotLifecycle(seg, slot), &ld);
}

static void testRing(void **state)
{
    (void)state;
    virShmSegment *seg = virShmSegmentCreate(rundir, 4);
    virShmLifecycleData ld;
    uint64_t id;
    uint32_t slot;

    assert_non_null(seg);
    /* Ids from 1; slot = id % 4; generation = id / 4. */
    for (uint64_t want = 1; want <= 4; want++) {
        uint64_t before = virShmNowReal(), beforeMono = virShmNowMono();
        assert_int_equal(virShmRingAlloc(seg, "domain-save", "test", &id, &slot), 0);
        assert_true(id == want);
        assert_int_equal(slot, want % 4);
        assert_int_equal(virShmRingSlot(seg, id), slot);
        assert_int_equal(virShmLifecycleRead(virShmSlotLifecycle(seg, slot), &ld), 0);
        assert_true(ld.job_id == want);
        assert_true(ld.generation == want / 4);
        assert_int_equal(ld.state, VIR_SHM_STATE_QUEUED);
        assert_string_equal(ld.op, "domain-save");
        assert_string_equal(ld.target, "test");
        assert_true(ld.start_realtime_ns >= before);
        assert_true(ld.start_mono_ns >= beforeMono && ld.start_mono_ns <= virShmNowMono());
        assert_true(ld.end_realtime_ns == 0 && ld.end_mono_ns == 0 && ld.worker_pid == 0 &&
                    ld.error[0] == '\0');
        assert_true(atomic_load(&virShmSlotProgress(seg, slot)->job_id) == want);
    }
    assert_true(atomic_load(&((virShmHeader *)seg->base)->next_job_id) == 5);

    /* Every slot holds a queued or running job: the ring is full. */
    setState(seg, 2, VIR_SHM_STATE_RUNNING);
    assert_int_equal(virShmRingAlloc(seg, "domain-save", "test", &id, &slot), -1);
    assert_int_equal(virGetLastError()->code, VIR_ERR_RESOURCE_BUSY);
    assertError("status ring full: all 4 slots hold unfinished jobs");
    assert_true(atomic_load(&((virShmHeader *)seg->base)->next_job_id) == 5);

    /* Job 2 ends. Id 5 (slot 1, job 1 still queued) is skipped: 6 in slot 2. */
    setState(seg, 2, VIR_SHM_STATE_COMPLETED);
    virShmProgress *p = virShmSlotProgress(seg, 2);
    virShmProgressData junk;
    memset(&junk, 0x5a, sizeof(junk));
    virShmProgressWrite(p, &junk);
    atomic_store(&p->cancel_requested, 1);
    atomic_store(&p->seq, atomic_load(&p->seq) + 1); /* left odd by a dead worker */

    assert_int_equal(virShmRingAlloc(seg, "network-create", NULL, &id, &slot), 0);
    assert_true(id == 6);
    assert_int_equal(slot, 2);
    assert_int_equal(virShmLifecycleRead(virShmSlotLifecycle(seg, 2), &ld), 0);
    assert_true(ld.job_id == 6 && ld.generation == 1);
    assert_int_equal(ld.state, VIR_SHM_STATE_QUEUED);
    assert_string_equal(ld.op, "network-create");
    assert_string_equal(ld.target, "");
    /* The progress page was reset for the new job. */
    assert_int_equal(atomic_load(&p->seq) & 1, 0);
    assert_true(atomic_load(&p->job_id) == 6);
    assert_int_equal(atomic_load(&p->cancel_requested), 0);
    assert_true(p->updates == 0);
    virShmProgressData zero, got;
    memset(&zero, 0, sizeof(zero));
    assert_int_equal(virShmProgressRead(p, &got), 0);
    assert_memory_equal(&got, &zero, sizeof(zero));

    /* Failed and cancelled slots are reusable too; ids keep growing. */
    setState(seg, 3, VIR_SHM_STATE_FAILED);
    setState(seg, 0, VIR_SHM_STATE_CANCELLED);
    assert_int_equal(virShmRingAlloc(seg, "x", "y", &id, &slot), 0);
    assert_true(id == 7 && slot == 3);
    assert_int_equal(virShmRingAlloc(seg, "x", "y", &id, &slot), 0);
    assert_true(id == 8 && slot == 0);
    assert_int_equal(virShmLifecycleRead(virShmSlotLifecycle(seg, 0), &ld), 0);
    assert_true(ld.generation == 2);

    /* Long names are cut, terminated. */
    char longop[200];
    memset(longop, 'o', sizeof(longop) - 1);
    longop[sizeof(longop) - 1] = '\0';
    setState(seg, 1, VIR_SHM_STATE_COMPLETED);
    assert_int_equal(virShmRingAlloc(seg, longop, longop, &id, &slot), 0);
    assert_true(id == 9 && slot == 1);
    assert_int_equal(virShmLifecycleRead(virShmSlotLifecycle(seg, 1), &ld), 0);
    assert_int_equal(strlen(ld.op), VIR_SHM_OP_MAX - 1);
    assert_int_equal(strlen(ld.target), VIR_SHM_TARGET_MAX - 1);
    virShmSegmentDestroy(seg);
}

/* A closed, renamed segment of @nslots slots to spoil. Returns its path. */
/* The slot map: the ring marks each slot it writes; a reader walks only
 * those, across map words, up to nslots, whatever bits lie beyond. */
/* A new slot's storage is reserved with that of the slots the ring takes
 * after it in its group of eight lifecycle records (so that seven jobs
 * in eight find theirs ready), and no further: slots beyond stay holes. */
static void testReserveAhead(void **state)
{
    (void)state;
    virShmSegment *seg = virShmSegmentCreate(rundir, 64);
    uint64_t id;
    uint32_t slot;
    struct stat sb;

    assert_non_null(seg);
    assert_int_equal(seg->nreserved, 0);
    assert_int_equal(virShmRingAlloc(seg, "op", "t", &id, &slot), 0);
    assert_int_equal(slot, 1);
    for (uint32_t i = 0; i < 16; i++)
        assert_int_equal(virShmSlotReserved(seg, i), i >= 1 && i < 8);
    assert_int_equal(seg->nreserved, 7);
    /* Their pages are allocated: 7 progress pages, the group's 2. */
    assert_int_equal(fstat(seg->fd, &sb), 0);
    assert_true((long long)sb.st_blocks * 512 >= 9 * 4096);
    /* Slots 2 to 7 need nothing more; slot 8 starts the next group. */
    for (int i = 0; i < 6; i++)
        assert_int_equal(virShmRingAlloc(seg, "op", "t", &id, &slot), 0);
    assert_int_equal(slot, 7);
    assert_int_equal(seg->nreserved, 7);
    assert_int_equal(virShmRingAlloc(seg, "op", "t", &id, &slot), 0);
    assert_int_equal(slot, 8);
    assert_int_equal(seg->nreserved, 15);
    assert_false(virShmSlotReserved(seg, 16));
    virShmSegmentDestroy(seg);
}

static void testSlotMap(void **state)
{
    (void)state;
    virShmSegment *seg = virShmSegmentCreate(rundir, 200);
    uint64_t id;
    uint32_t slot;

    assert_non_null(seg);
    assert_int_equal(virShmNextWrittenSlot(seg, 0), 200);
    /* Ids 1 and 2: slots 1 and 2. */
    for (int i = 0; i < 2; i++)
        assert_int_equal(virShmRingAlloc(seg, "op", "t", &id, &slot), 0);
    assert_int_equal(virShmNextWrittenSlot(seg, 0), 1);
    assert_int_equal(virShmNextWrittenSlot(seg, 1), 1);
    assert_int_equal(virShmNextWrittenSlot(seg, 2), 2);
    assert_int_equal(virShmNextWrittenSlot(seg, 3), 200);
    /* A ring far along: ids 130 and 199, then 200 in slot 0. */
    atomic_store(&((virShmHeader *)seg->base)->next_job_id, 130);
    assert_int_equal(virShmRingAlloc(seg, "op", "t", &id, &slot), 0);
    assert_int_equal(slot, 130);
    atomic_store(&((virShmHeader *)seg->base)->next_job_id, 199);
    assert_int_equal(virShmRingAlloc(seg, "op", "t", &id, &slot), 0);
    assert_int_equal(virShmRingAlloc(seg, "op", "t", &id, &slot), 0);
    assert_int_equal(slot, 0);
    uint32_t want[] = { 0, 1, 2, 130, 199 }, n = 0;
    for (uint32_t i = virShmNextWrittenSlot(seg, 0); i < seg->nslots;
         i = virShmNextWrittenSlot(seg, i + 1)) {
        assert_true(n < ARRAY_CARDINALITY(want));
        assert_int_equal(i, want[n++]);
    }
    assert_int_equal(n, ARRAY_CARDINALITY(want));

    /* Bits past nslots (a hostile writer) are not slots. */
    _Atomic uint64_t *map = (_Atomic uint64_t *)((char *)seg->base + VIR_SHM_MAP_OFFSET);
    atomic_fetch_or(&map[3], UINT64_C(1) << 20);   /* slot 212 */
    assert_int_equal(virShmNextWrittenSlot(seg, 200), 200);
    assert_int_equal(virShmNextWrittenSlot(seg, 131), 199);
    assert_int_equal(virShmNextWrittenSlot(seg, 5000), 200);

    /* Through a reader's mapping, and the holes stay holes. */
    virShmSegment *ro = virShmSegmentOpen(seg->path);
    assert_non_null(ro);
    n = 0;
    for (uint32_t i = virShmNextWrittenSlot(ro, 0); i < ro->nslots;
         i = virShmNextWrittenSlot(ro, i + 1)) {
        virShmLifecycleData ld;
        assert_int_equal(virShmLifecycleRead(virShmSlotLifecycle(ro, i), &ld), 0);
        assert_int_equal(ld.job_id % 200, i);
        n++;
    }
    assert_int_equal(n, 5);
    struct stat sb;
    assert_int_equal(fstat(ro->fd, &sb), 0);
    assert_true((long long)sb.st_blocks * 512 < sb.st_size / 2);
    virShmSegmentClose(ro);
    virShmSegmentDestroy(seg);
}

static char *makeSegmentFile(const char *name, uint32_t nslots)
{
    virShmSegment *seg = virShmSegmentCreate(rundir, nslots);
    char *path = virAsprintf("%s/%s", rundir, name);

    assert_non_null(seg);
    assert_int_equal(rename(seg->path, path), 0);
    virShmSegmentClose(seg);
    return path;
}

static void pokeU32(const char *path, off_t off, uint32_t v)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, &v, sizeof(v), off), sizeof(v));
    close(fd);
}

static void expectOpenFails(const char *path, const char *why)
{
    virShmSegment *seg = virShmSegmentOpen(path);
    if (seg) {
        virShmSegmentClose(seg);
        fail_msg("segment %s opened although %s", path, why);
    }
    assertError(path);
    assertError(why);
}

static void testValidation(void **state)
{
    (void)state;
    char *p;

    p = makeSegmentFile("good.seg", 4);
    virShmSegment *seg = virShmSegmentOpen(p);
    assert_non_null(seg);
    virShmSegmentClose(seg);
    free(p);

    /* One spoiled header word per case: offset, value, what is said. */
    static const struct {
        const char *name;
        off_t off;
        uint32_t value;
        const char *why;
    } spoiled[] = {
        { "magic.seg", 0, 0x544f4e21, "bad magic (not a libvirtsup status segment)" },
        { "version.seg", 8, 1, "unsupported ABI version 1 (this reader knows version 2)" },
        { "hdrsize.seg", 12, 8192, "bad sizes: header 8192, slot map 8192, lifecycle "
          "record 512 and progress page 4096 bytes, expected 4096, 8192, 512 and 4096" },
        { "lcsize.seg", 16, 848, "bad sizes: header 4096, slot map 8192, lifecycle "
          "record 848 and progress page 4096 bytes" },
        { "prsize.seg", 24, 8192, "progress page 8192 bytes" },
        { "mapsize.seg", 28, 1024, "slot map 1024," },
        { "mapoff.seg", 72, 0, "bad section offsets: slot map 0, lifecycle 12288, "
          "progress 20480, expected 4096, 12288 and 20480 for 4 slots" },
        { "lcoff.seg", 80, 4096, "bad section offsets: slot map 4096, lifecycle 4096," },
        { "progoff.seg", 88, 8192, "progress 8192, expected" },
        { "zeroslots.seg", 20, 0, "slot count 0 out of range" },
        { "hugeslots.seg", 20, 0xffffffffu, "slot count 4294967295 out of range" },
        /* A slot count whose tables do not start where the header says. */
        { "moreslots.seg", 20, 9, "progress 20480, expected 4096, 12288 and 28672 for 9 slots" },
    };
    for (size_t i = 0; i < ARRAY_CARDINALITY(spoiled); i++) {
        p = makeSegmentFile(spoiled[i].name, 4);
        pokeU32(p, spoiled[i].off, spoiled[i].value);
        expectOpenFails(p, spoiled[i].why);
        free(p);
    }

    /* A slot count the file cannot hold, its offsets consistent. */
    p = makeSegmentFile("fewbytes.seg", 4);
    pokeU32(p, 20, 5);
    expectOpenFails(p, "truncated: 36864 bytes, 5 slots need 40960");
    free(p);
    p = makeSegmentFile("fewergroups.seg", 4);
    pokeU32(p, 20, 9);
    pokeU32(p, 88, 28672);
    expectOpenFails(p, "truncated: 36864 bytes, 9 slots need 65536");
    free(p);

    p = makeSegmentFile("nomagic.seg", 4);
    pokeU32(p, 0, 0);
    pokeU32(p, 4, 0);
    expectOpenFails(p, "no magic yet");
    free(p);

    p = makeSegmentFile("truncated.seg", 16);
    assert_int_equal(truncate(p, 8192), 0);
    expectOpenFails(p, "truncated: 8192 bytes, 16 slots need 94208");
    free(p);

    p = makeSegmentFile("tiny.seg", 4);
    assert_int_equal(truncate(p, 100), 0);
    expectOpenFails(p, "too small for a header: 100 bytes, need 4096");
    free(p);

    p = makeSegmentFile("empty.seg", 4);
    assert_int_equal(truncate(p, 0), 0);
    expectOpenFails(p, "too small for a header: 0 bytes");
    free(p);

    /* A FIFO would block a plain open(); it is refused at once. */
    p = virAsprintf("%s/fifo.seg", rundir);
    assert_int_equal(mkfifo(p, 0600), 0);
    expectOpenFails(p, "not a regular file");
    free(p);

    expectOpenFails(rundir, "not a regular file");

    p = virAsprintf("%s/missing.seg", rundir);
    expectOpenFails(p, "No such file or directory");
    free(p);

    /* Garbage in the reserved area and trailing bytes are not refused. */
    p = makeSegmentFile("trailing.seg", 4);
    pokeU32(p, 100, 0xdeadbeef);
    assert_int_equal(truncate(p, 36864 + 12345), 0);
    seg = virShmSegmentOpen(p);
    assert_non_null(seg);
    assert_int_equal(seg->size, 36864);
    virShmSegmentClose(seg);
    free(p);
}

static void testSanitize(void **state)
{
    (void)state;
    virShmSegment *seg = virShmSegmentCreate(rundir, 2);
    assert_non_null(seg);
    virShmSegment *ro = virShmSegmentOpen(seg->path);
    assert_non_null(ro);

    /* A hostile worker: unterminated phase, percent and type out of range. */
    virShmProgressData pd;
    memset(&pd, 'q', sizeof(pd));
    pd.type = 9;
    pd.percent = 101;
    virShmProgressWrite(virShmSlotProgress(seg, 1), &pd);
    virShmProgressData got;
    assert_int_equal(virShmProgressRead(virShmSlotProgress(ro, 1), &got), 0);
    assert_int_equal(strlen(got.phase), VIR_SHM_PHASE_MAX - 1);
    assert_int_equal(got.percent, 100);
    assert_int_equal(got.type, 0);
    assert_int_equal(got.reserved0, 0);
    assert_true(got.elapsed_ms == pd.elapsed_ms);

    pd.type = 1;
    pd.percent = 0xffffffffu;
    virShmProgressWrite(virShmSlotProgress(seg, 1), &pd);
    assert_int_equal(virShmProgressRead(virShmSlotProgress(ro, 1), &got), 0);
    assert_int_equal(got.percent, 100);
    assert_int_equal(got.type, 1);

    /* Lifecycle: every string full to the brim, final progress out of range. */
    virShmLifecycleData ld;
    memset(&ld, 'x', sizeof(ld));
    ld.state = VIR_SHM_STATE_RUNNING;
    ld.final.percent = 1000;
    ld.final.type = 7;
    virShmLifecycleWrite(virShmSlotLifecycle(seg, 0), &ld);
    virShmLifecycleData lgot;
    assert_int_equal(virShmLifecycleRead(virShmSlotLifecycle(ro, 0), &lgot), 0);
    assert_int_equal(strlen(lgot.op), VIR_SHM_OP_MAX - 1);
    assert_int_equal(strlen(lgot.target), VIR_SHM_TARGET_MAX - 1);
    assert_int_equal(strlen(lgot.error), VIR_SHM_ERROR_MAX - 1);
    assert_int_equal(strlen(lgot.final.phase), VIR_SHM_PHASE_MAX - 1);
    assert_int_equal(lgot.final.percent, 100);
    assert_int_equal(lgot.final.type, 0);

    /* An unknown state is refused, and the output left untouched. */
    uint32_t bad[] = { VIR_SHM_STATE_LAST, 99, 0xffffffffu };
    for (size_t i = 0; i < ARRAY_CARDINALITY(bad); i++) {
        ld.state = bad[i];
        virShmLifecycleWrite(virShmSlotLifecycle(seg, 0), &ld);
        memset(&lgot, 0, sizeof(lgot));
        errno = 0;
        assert_int_equal(virShmLifecycleRead(virShmSlotLifecycle(ro, 0), &lgot), -1);
        assert_int_equal(errno, EBADMSG);
        assert_true(lgot.job_id == 0 && lgot.op[0] == '\0');
    }
    virShmSegmentClose(ro);
    virShmSegmentDestroy(seg);
}

/* Child: create a segment, report its path, exit without destroying it. */
static pid_t spawnSegmentOwner(char *path, size_t len)
{
    int pfd[2];
    assert_int_equal(pipe2(pfd, O_CLOEXEC), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        virShmSegment *seg = virShmSegmentCreate(rundir, 2);
        char buf[512] = "";
        if (seg)
            snprintf(buf, sizeof(buf), "%s", seg->path);
        if (write(pfd[1], buf, sizeof(buf)) != (ssize_t)sizeof(buf))
            _exit(2);
        _exit(seg ? 0 : 1);
    }
    close(pfd[1]);
    char buf[512];
    assert_int_equal(read(pfd[0], buf, sizeof(buf)), sizeof(buf));
    close(pfd[0]);
    assert_true(buf[0] != '\0');
    snprintf(path, len, "%s", buf);
    return pid;
}

static void testStale(void **state)
{
    (void)state;
    char path[512];
    int status;

    /* Our own segment: alive; with another start time or pid: stale. */
    virShmSegment *seg = virShmSegmentCreate(rundir, 2);
    assert_non_null(seg);
    virShmSegment *ro = virShmSegmentOpen(seg->path);
    assert_non_null(ro);
    assert_true(virShmSupervisorAlive(ro));
    virShmHeader *h = seg->base;
    h->supervisor_start_time += 1; /* the pid was reused by another process */
    assert_false(virShmSupervisorAlive(ro));
    h->supervisor_start_time -= 1;
    assert_true(virShmSupervisorAlive(ro));
    h->supervisor_pid = 0;
    assert_false(virShmSupervisorAlive(ro));
    h->supervisor_pid = -5;
    assert_false(virShmSupervisorAlive(ro));
    h->supervisor_pid = getpid();
    virShmSegmentClose(ro);
    virShmSegmentDestroy(seg);

    /* A supervisor that exited: stale while a zombie, and once reaped. */
    pid_t pid = spawnSegmentOwner(path, sizeof(path));
    assert_true(TEST_WAIT_UNTIL(!testProcessAlive(pid), TEST_TIMEOUT_MS));
    ro = virShmSegmentOpen(path);
    assert_non_null(ro);
    assert_int_equal(((const virShmHeader *)ro->base)->supervisor_pid, pid);
    assert_false(virShmSupervisorAlive(ro));
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_false(virShmSupervisorAlive(ro));
    assert_true(virShmProcStartTime(pid) == 0);
    virShmSegmentClose(ro);
    unlink(path);
}

/* Every allocation of create and open failing in turn: a clean error, no
 * file left behind, no descriptor leaked. */
static void testAllocFailures(void **state)
{
    (void)state;
    int fds = testCountFDs();
    virShmSegment *seg = NULL;
    long n;

    for (n = 1; n < 20 && !seg; n++) {
        virAllocTestHook(n);
        seg = virShmSegmentCreate(rundir, 4);
        virAllocTestHook(0);
        if (!seg) {
            assert_int_equal(virGetLastError()->code, VIR_ERR_NO_MEMORY);
            assert_int_equal(testCountEntries(rundir), 0);
            assert_int_equal(testCountFDs(), fds);
        }
    }
    assert_non_null(seg);
    assert_true(n > 2); /* at least one failure was injected */

    virShmSegment *ro = NULL;
    for (n = 1; n < 20 && !ro; n++) {
        virAllocTestHook(n);
        ro = virShmSegmentOpen(seg->path);
        virAllocTestHook(0);
        if (!ro) {
            assert_int_equal(virGetLastError()->code, VIR_ERR_NO_MEMORY);
            assert_int_equal(testCountFDs(), fds + 1);
        }
    }
    assert_non_null(ro);
    assert_true(n > 2);
    virShmSegmentClose(ro);
    virShmSegmentDestroy(seg);
    assert_int_equal(testCountEntries(rundir), 0);
    assert_int_equal(testCountFDs(), fds);
}

static void testProcStartTime(void **state)
{
    (void)state;
    assert_true(virShmProcStartTime(getpid()) > 0);
    assert_true(virShmProcStartTime(1) > 0);
    assert_true(virShmProcStartTime(1) <= virShmProcStartTime(getpid()));
    assert_true(virShmProcStartTime(0) == 0);
    assert_true(virShmProcStartTime(-1) == 0);
    assert_true(virShmProcStartTime(0x3fffffff) == 0);

    /* A command name with spaces and parentheses does not shift fields. */
    int tochild[2], fromchild[2];
    assert_int_equal(pipe2(tochild, O_CLOEXEC), 0);
    assert_int_equal(pipe2(fromchild, O_CLOEXEC), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char c;
        /* Our start time read while our name is still plain. */
        uint64_t before = virShmProcStartTime(getpid());
        prctl(PR_SET_NAME, "a) 1 2 (b) 3 4");
        if (write(fromchild[1], &before, sizeof(before)) != sizeof(before))
            _exit(1);
        /* Wait for the parent to finish looking, then go. */
        if (read(tochild[0], &c, 1) < 0)
            _exit(1);
        _exit(0);
    }
    uint64_t before = 0;
    assert_int_equal(read(fromchild[0], &before, sizeof(before)), sizeof(before));
    assert_true(before > 0);
    char comm[64] = "";
    char cpath[64];
    snprintf(cpath, sizeof(cpath), "/proc/%d/comm", (int)pid);
    FILE *f = fopen(cpath, "re");
    assert_non_null(f);
    assert_non_null(fgets(comm, sizeof(comm), f));
    fclose(f);
    assert_non_null(strstr(comm, "a) 1 2 (b) 3"));
    /* The name's fake fields ("1 2", "3") would shift a parser that took
     * the first ')': the answer must not change with the name. */
    uint64_t st = virShmProcStartTime(pid);
    assert_true(st == before);
    /* The child was forked after us: it started no earlier, and not after
     * now (in clock ticks since boot). */
    assert_true(st >= virShmProcStartTime(getpid()));
    long hz = sysconf(_SC_CLK_TCK);
    struct timespec up;
    clock_gettime(CLOCK_BOOTTIME, &up);
    assert_true(st <= (uint64_t)up.tv_sec * (uint64_t)hz + (uint64_t)hz);
    assert_int_equal(write(tochild[1], "x", 1), 1);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    close(tochild[0]);
    close(tochild[1]);
    close(fromchild[0]);
    close(fromchild[1]);
}

static void testClocks(void **state)
{
    (void)state;
    uint64_t a = virShmNowMono();
    uint64_t b = virShmNowMono();
    assert_true(a > 0 && b >= a);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t r = virShmNowReal();
    uint64_t ref = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    assert_true(r >= ref);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(testRoundTrip, setupRunDir, teardownRunDir),
        cmocka_unit_test_setup_teardown(testBadArgs, setupRunDir, teardownRunDir),
        cmocka_unit_test_setup_teardown(testExclusive, setupRunDir, teardownRunDir),
        cmocka_unit_test_setup_teardown(testSymlinkRefused, setupRunDir, teardownRunDir),
        cmocka_unit_test_setup_teardown(testRunDir, setupRunDir, teardownRunDir),
        cmocka_unit_test_setup_teardown(testRing, setupRunDir, teardownRunDir),
        cmocka_unit_test_setup_teardown(testSlotMap, setupRunDir, teardownRunDir),
        cmocka_unit_test_setup_teardown(testReserveAhead, setupRunDir, teardownRunDir),
        cmocka_unit_test_setup_teardown(testValidation, setupRunDir, teardownRunDir),
        cmocka_unit_test_setup_teardown(testSanitize, setupRunDir, teardownRunDir),
        cmocka_unit_test_setup_teardown(testStale, setupRunDir, teardownRunDir),
        cmocka_unit_test_setup_teardown(testAllocFailures, setupRunDir, teardownRunDir),
        cmocka_unit_test(testProcStartTime),
        cmocka_unit_test(testClocks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
