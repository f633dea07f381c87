/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * rundir-full-test.c: the run directory on a small, full tmpfs. The status
 * segment is a sparse file; a store into one of its pages that the file
 * system cannot allocate raises SIGBUS in whoever stores (the application,
 * its workers) or reads through the mapping (virtsup-stat). The library
 * must reserve what it uses first and fail the call with "no space for the
 * status segment in DIR" instead. Root only (it mounts a real tmpfs, in a
 * private mount namespace); skipped otherwise.
 */
#include <sys/stat.h>

#include "jobtest.h"

static char mnt[64];
static bool mounted;

/* The run directory's size, in pages: the segment's header and slot map,
 * and room for two groups of lifecycle records. */
#define RUNDIR_PAGES (VIR_SHM_LIFECYCLE_OFFSET / VIR_SHM_PAGE_SIZE + 13)

/* How many jobs can run at once in a segment given @pages of storage,
 * from the layout (docs/SEGMENT-ABI.md), not from a guess: the header and
 * slot map first; then, for each new slot the ring takes (ids from 1, slot
 * = id % slots), its progress page, and for the first slot of a group of
 * lifecycle records, the group's record page and error page. */
static size_t slotsThatFit(size_t pages)
{
    size_t used = VIR_SHM_LIFECYCLE_OFFSET / VIR_SHM_PAGE_SIZE;
    bool group[VIR_SHM_DEFAULT_SLOTS / VIR_SHM_LIFECYCLE_GROUP] = { false };
    size_t n = 0;

    for (uint64_t id = 1; id <= VIR_SHM_DEFAULT_SLOTS; id++) {
        uint32_t slot = (uint32_t)(id % VIR_SHM_DEFAULT_SLOTS);
        size_t need = 1 + (group[slot / VIR_SHM_LIFECYCLE_GROUP] ? 0 : 2);
        if (used + need > pages)
            break;
        used += need;
        group[slot / VIR_SHM_LIFECYCLE_GROUP] = true;
        n++;
    }
    return n;
}

/* On today's failure mode the process dies of SIGBUS inside the library:
 * say so, rather than leave a bare "Bus error". */
static void onBus(int signo)
{
    static const char msg[] = "SIGBUS: the library stored into the status segment "
                              "on a full file system without reserving space\n";
    (void)signo;
    (void)!write(2, msg, sizeof(msg) - 1);
    _exit(1);
}

static void unmountSmall(void)
{
    if (mounted && umount2(mnt, MNT_DETACH) == 0)
        mounted = false;
    if (mnt[0])
        rmdir(mnt);
}

/* Fill the file system with one file until it refuses; returns its path. */
static const char *fill(void)
{
    static char path[128];
    static char block[4096];
    snprintf(path, sizeof(path), "%s/filler", mnt);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    for (;;) {
        ssize_t n = write(fd, block, sizeof(block));
        if (n < 0) {
            assert_int_equal(errno, ENOSPC);
            break;
        }
    }
    close(fd);
    return path;
}

static void assertNoSpaceMessage(const char *msg)
{
    char want[128];
    snprintf(want, sizeof(want), "no space for the status segment in %s", mnt);
    if (!strstr(msg, want) || !strstr(msg, "No space left on device"))
        fail_msg("the error does not say the run directory is full: '%s'", msg);
}

/* A completely full run directory: the first connection of the process
 * cannot create its segment, and says why. */
static void testFullRefusesStart(void **s)
{
    (void)s;
    signal(SIGBUS, onBus);   /* over cmocka's, which would carry on */
    const char *filler = fill();
    virSupGroup *g = virSupGroupNew(NULL);
    assert_null(g);
    printf("full run directory: %s\n", virGetLastErrorMessage());
    assertNoSpaceMessage(virGetLastErrorMessage());
    assert_int_equal(unlink(filler), 0);
    /* Nothing left: no half-made segment, no helper. */
    assert_int_equal(testCountEntries(mnt), 0);
    assert_int_equal(virSupHelperPid(), 0);
}

/* Room for the header and a few slots: jobs run; when every slot that
 * fits is busy, creation fails with the reason, and works again once one
 * is free. Then history wraps round the slots that fit. */
static void testSmallRunDir(void **s)
{
    (void)s;
    signal(SIGBUS, onBus);
    virSupGroup *g = virSupGroupNew(NULL);
    if (!g)
        fail_msg("cannot open a group: %s", virGetLastErrorMessage());

    virJobPtr busy[VIR_SHM_DEFAULT_SLOTS];
    size_t nbusy = 0;
    virJobPtr job = NULL;
    /* Jobs that park at 20 % until cancelled, until no slot is left. */
    for (;;) {
        virSupJobParams p;
        memset(&p, 0, sizeof(p));
        p.op = &opCancel;
        p.target = "unit";
        if (!(job = virSupJobCreate(g, &p)))
            break;
        busy[nbusy++] = job;
        assert_true(nbusy < VIR_SHM_DEFAULT_SLOTS);
    }
    printf("%zu jobs fit (%zu expected in %u pages); then: %s\n", nbusy,
           slotsThatFit(RUNDIR_PAGES), RUNDIR_PAGES, virGetLastErrorMessage());
    /* Exactly what the layout says: nothing else (a child process, a
     * reader) took the run directory's space. */
    assert_int_equal(nbusy, slotsThatFit(RUNDIR_PAGES));
    assertNoSpaceMessage(virGetLastErrorMessage());
    for (size_t i = 0; i < nbusy; i++)
        waitPercent(busy[i], 20);

    /* The operator's view of a full run directory does not fault. */
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "'%s/virtsup-stat' --all > '%s/stat.out' 2>&1",
             getenv("VIRTSUP_BUILDDIR"), testRunDir);
    int rc = system(cmd);
    snprintf(cmd, sizeof(cmd), "cat '%s/stat.out'", testRunDir);
    (void)!system(cmd);
    assert_true(WIFEXITED(rc) && WEXITSTATUS(rc) == 0);

    /* Free one slot: the next job takes it and completes. */
    assert_int_equal(virJobCancel(busy[0]), 0);
    waitEnded(busy[0]);
    assert_int_equal(jobState(busy[0]), VIR_JOB_CANCELLED);
    assert_int_equal(virJobDestroy(busy[0]), 0);
    job = startJob(g, &opSucceed, NULL);
    waitEnded(job);
    assert_int_equal(jobState(job), VIR_JOB_COMPLETE);
    assert_int_equal(virJobDestroy(job), 0);
    for (size_t i = 1; i < nbusy; i++) {
        assert_int_equal(virJobCancel(busy[i]), 0);
        waitEnded(busy[i]);
        assert_int_equal(virJobDestroy(busy[i]), 0);
    }

    /* More jobs in a row than slots fit: each completes (ids go on, the
     * slots that fit are reused). */
    for (size_t i = 0; i < 2 * nbusy + 2; i++) {
        job = startJob(g, &opSucceed, "bytes=100000");
        waitEnded(job);
        if (jobState(job) != VIR_JOB_COMPLETE)
            fail_msg("job %zu: %s", i, jobErrorMessage(job));
        assert_int_equal(virJobDestroy(job), 0);
    }
    virSupGroupClose(g);
    assert_int_equal(testCountEntries(mnt), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(testFullRefusesStart),
        cmocka_unit_test(testSmallRunDir),
    };
    int rc;

    if ((rc = jobTestNeedRoot("mount a small tmpfs")) != 0)
        return rc;
    /* Our own scratch directory (for virtsup-stat's output), then the
     * small tmpfs as the run directory. */
    if (jobTestSetup(NULL) < 0)
        return 1;
    snprintf(mnt, sizeof(mnt), "%s/run", testRunDir);
    if (mkdir(mnt, 0700) < 0)
        return 1;
    atexit(unmountSmall);
    char opts[64];
    snprintf(opts, sizeof(opts), "size=%uk,mode=0700", RUNDIR_PAGES * (VIR_SHM_PAGE_SIZE / 1024));
    if (testMountTmpfs(mnt, opts) < 0) {
        printf("cannot mount a tmpfs on %s (%s), skipped\n", mnt, strerror(errno));
        mnt[0] = '\0';
        jobTestTeardown(NULL);
        return 77;
    }
    mounted = true;
    setenv("VIRTSUP_RUNDIR", mnt, 1);
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    unmountSmall();
    if (mounted) {
        printf("cannot unmount %s\n", mnt);
        rc = 1;
    }
    jobTestTeardown(NULL);
    return rc;
}
