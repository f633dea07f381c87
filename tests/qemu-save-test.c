/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qemu-save-test.c: virDomainSaveJob and virDomainRestoreJob on a real
 * QEMU (TCG) running the real test guest (tests/guest). One boot serves
 * every check: a little guest RAM is filled and its checksum taken over
 * the command channel; then
 *
 *  - a save on a connection capped at a few MiB/s is cancelled while QEMU
 *    streams: the guest runs on, answers, its memory unchanged, no file;
 *  - a save completes: progress from QEMU's figures, the image named only
 *    at the end, the guest shut off (saved), QEMU gone;
 *  - images refused: truncated, a header that disagrees with its XML, a
 *    defined domain of another memory size (at the call); 16 bytes flipped
 *    inside a record in the middle (the job fails naming the record's
 *    offset, QEMU is stopped, no guest is left);
 *  - a restore whose guest cannot start (its log file cannot be opened)
 *    after its job and worker exist: the job fails with the start's
 *    error, no guest is left;
 *  - the image restores: progress = bytes fed / image size, the guest runs
 *    (reason restored) and its memory checksum is the one it had;
 *  - the completed save and restore each raise JOB_COMPLETED (default
 *    event loop) with libvirt's typed parameters; the cancelled, refused
 *    and failed jobs raise none.
 *
 * A second boot for the faults: a save onto a full file system (root: a
 * small tmpfs), the save's worker killed while it reads, a cancel at once
 * (preparing); restores cancelled at once and while loading, their
 * feeder killed, their QEMU killed; an image whose stream is re-cut into
 * records of mixed sizes restores; then QEMU killed during a save. Each
 * time: the job's error says why, no file is left, and the guest either
 * runs on unchanged (its checksum) or, for a restore, is not left at all.
 *
 * A third boot: a guest that writes to its raw disk is saved; its restore
 * fails while the disk image is missing (no guest left, the save image
 * kept) and succeeds with it back: the disk holds what the guest wrote
 * before the save and takes its writes after.
 *
 * Skips (77) when QEMU or the guest cannot be had here.
 */
#include "qemuguest.h"
#include "drivers/qemu/qemu-proto.h"

#include <sched.h>
#include <sys/mount.h>
#include <sys/statvfs.h>

#define FILL_MIB 8

/* A copy of @from at @to, for damaging. */
static void copyFile(const char *from, const char *to)
{
    char cmd[2200];
    snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", from, to);
    assert_int_equal(system(cmd), 0);
}

/* The offset of record @index of the image @path, and its header. */
static uint64_t recordOffset(const char *path, uint64_t index, qemuImageHeader *h)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(pread(fd, h, sizeof(*h), 0), (ssize_t)sizeof(*h));
    uint64_t off = h->headerLen;
    for (uint64_t i = 0; i < index; i++) {
        qemuImageChunk rec;
        assert_int_equal(pread(fd, &rec, sizeof(rec), (off_t)off), (ssize_t)sizeof(rec));
        assert_int_equal(rec.type, QEMU_CHUNK_DATA);
        off += sizeof(rec) + rec.len;
    }
    close(fd);
    return off;
}

/* @from's stream re-cut into records of mixed sizes at @to, every
 * checksum made to match: a full record, then fifteen of 4 KiB + 1..15
 * bytes (none a whole number of pages, together far less than the
 * restore's pipe), over and over. A valid image the save never writes. */
static void recutImage(const char *from, const char *to)
{
    qemuImageHeader h;
    uint64_t off = recordOffset(from, 0, &h);
    int in = open(from, O_RDONLY | O_CLOEXEC);
    int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    uint8_t *stream = malloc(h.streamBytes), *head = malloc(h.headerLen);
    uint64_t got = 0, chunks = 0, at;

    assert_true(in >= 0 && out >= 0 && stream && head);
    assert_int_equal(pread(in, head, h.headerLen, 0), (ssize_t)h.headerLen);
    for (uint64_t i = 0; i < h.chunks; i++) {
        qemuImageChunk rec;
        assert_int_equal(pread(in, &rec, sizeof(rec), (off_t)off), (ssize_t)sizeof(rec));
        assert_true(got + rec.len <= h.streamBytes);
        assert_int_equal(pread(in, stream + got, rec.len, (off_t)(off + sizeof(rec))),
                         (ssize_t)rec.len);
        got += rec.len;
        off += sizeof(rec) + rec.len;
    }
    assert_true(got == h.streamBytes);
    at = h.headerLen;
    for (uint64_t done = 0; done < got; chunks++) {
        uint64_t len = chunks % 16 ? 4096 + chunks % 16 : QEMU_IMAGE_CHUNK;
        if (len > got - done)
            len = got - done;
        qemuImageChunk rec = { QEMU_CHUNK_DATA, (uint32_t)len,
                               qemuHash64(stream + done, len, h.seed + chunks) };
        assert_int_equal(pwrite(out, &rec, sizeof(rec), (off_t)at), (ssize_t)sizeof(rec));
        assert_int_equal(pwrite(out, stream + done, len, (off_t)(at + sizeof(rec))), (ssize_t)len);
        at += sizeof(rec) + len;
        done += len;
    }
    uint64_t totals[2] = { got, chunks };
    qemuImageChunk end = { QEMU_CHUNK_END, 0, qemuHash64(totals, sizeof(totals), h.seed + chunks) };
    assert_int_equal(pwrite(out, &end, sizeof(end), (off_t)at), (ssize_t)sizeof(end));
    h.chunks = chunks;
    memcpy(head, &h, sizeof(h));
    h.hash = qemuImageHeaderHash(&h, (const char *)head + sizeof(h));
    memcpy(head, &h, sizeof(h));
    assert_int_equal(pwrite(out, head, h.headerLen, 0), (ssize_t)h.headerLen);
    printf("re-cut image: %llu records instead of the save's\n", (unsigned long long)chunks);
    free(stream);
    free(head);
    close(in);
    close(out);
}

/* The guest is shut off and nothing of a QEMU for it is left. */
static void noGuestLeft(qemuT *t, virDomainPtr dom)
{
    virShimStatus st;
    qtWaitState(dom, VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_FAILED);
    assert_int_equal(virDomainIsActive(dom), 0);
    if (qtShimStatus(t, "sv", &st) == 0)
        assert_true(TEST_WAIT_UNTIL(!virProcessAlive(st.child_pid, st.child_start) &&
                                    !virProcessAlive(st.shim_pid, st.shim_start),
                                    TEST_TIMEOUT_MS));
}

/* Job statistics: bytes done and total, and the phase. */
static void jobFigures(virJobPtr job, unsigned long long *done, unsigned long long *total,
                       char *phase, size_t len)
{
    virTypedParameterPtr params = NULL;
    int n = 0;
    const char *ph = NULL;

    assert_int_equal(virJobGetStats(job, &params, &n, 0), 0);
    *done = *total = 0;
    (void)virTypedParamsGetULLong(params, n, VIR_JOB_STATS_DATA_PROCESSED, done);
    (void)virTypedParamsGetULLong(params, n, VIR_JOB_STATS_DATA_TOTAL, total);
    snprintf(phase, len, "%s",
             virTypedParamsGetString(params, n, VIR_JOB_STATS_PHASE, &ph) == 1 && ph ? ph : "");
    virTypedParamsFree(params, n);
}

static bool exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

/* No file but the test's own in @dir: nothing half-written left. */
static int strayFiles(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    assert_non_null(d);
    while ((e = readdir(d)))
        if (!strncmp(e->d_name, prefix, strlen(prefix)) || !strncmp(e->d_name, ".", 1))
            n += e->d_name[0] == '.' && strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(d);
    return n;
}

static void test_save_cancel_complete(void **state)
{
    qemuT *t = *state;
    char out[256], md5[64], img[512], uri[8300];
    int s, r;

    virDomainPtr dom = qgBootFilled(t, "sv", FILL_MIB, md5, sizeof(md5));
    virJobPtr job;
    int ch = channelOpen(t, "sv");
    /* JOB_COMPLETED, on both connections: only the jobs that completed. */
    qgJobEvents ev;
    int evId = qgWatchJobs(t->conn, &ev);
    printf("guest filled %d MiB, md5 %s\n", FILL_MIB, md5);

    /* 1. Cancel while QEMU streams (a connection capped at 2 MiB/s: the
     * stream of this guest takes seconds at that pace). */
    snprintf(img, sizeof(img), "%s/sv.img", t->root);
    snprintf(uri, sizeof(uri), "%s&bandwidth=2", t->uri);
    virConnectPtr slow = virConnectOpen(uri);
    assert_non_null(slow);
    virDomainPtr sdom = virDomainLookupByName(slow, "sv");
    assert_non_null(sdom);
    int slowEvId = virConnectDomainEventRegisterAny(slow, NULL, VIR_DOMAIN_EVENT_ID_JOB_COMPLETED,
                                                    VIR_DOMAIN_EVENT_CALLBACK(qgOnJobCompleted),
                                                    &ev, NULL);
    assert_true(slowEvId >= 0);
    job = virDomainSaveJob(sdom, img);
    if (!job)
        fail_msg("save: %s", virGetLastErrorMessage());
    unsigned long long done = 0, total = 0;
    char phase[64] = "";
    long long t0 = testNowMs();
    bool moving = TEST_WAIT_UNTIL((jobFigures(job, &done, &total, phase, sizeof(phase)),
                                   (STREQ(phase, "saving memory") && done > 0) ||
                                   qtJobEnd0(job)), TEST_TIMEOUT_MS);
    assert_true(moving);
    printf("save streaming after %lld ms: %llu of %llu bytes, phase '%s'\n",
           testNowMs() - t0, done, total, phase);
    if (qtJobEnd0(job))
        fail_msg("the save ended before it streamed: %s", qtJobError(job));
    assert_string_equal(phase, "saving memory");
    assert_true(total >= 192ULL << 20);
    assert_true(done < total);
    /* The guest's state while saving: paused by the save (the driver
     * learns it from QEMU's STOP event, which may reach it a moment after
     * the worker's first figures). */
    qtWaitState(dom, VIR_DOMAIN_PAUSED, -1);
    t0 = testNowMs();
    assert_int_equal(virJobCancel(job), 0);
    assert_int_equal(qtJobEnd(job), VIR_JOB_CANCELLED);
    printf("cancel -> job cancelled: %lld ms\n", testNowMs() - t0);
    virJobDestroy(job);
    assert_false(exists(img));
    assert_int_equal(strayFiles(t->root, "sv.img"), 0);
    qtWaitState(dom, VIR_DOMAIN_RUNNING, -1);
    printf("cancel -> guest running: %lld ms\n", testNowMs() - t0);
    channel(ch, "echo after the cancelled save", out, sizeof(out));
    assert_string_equal(out, "after the cancelled save");
    channel(ch, "md5 /fill/data", out, sizeof(out));
    assert_string_equal(out, md5);
    virDomainFree(sdom);
    assert_int_equal(virConnectDomainEventDeregisterAny(slow, slowEvId), 0);
    virConnectClose(slow);

    /* 2. A save that completes. */
    virShimStatus st;
    assert_int_equal(qtShimStatus(t, "sv", &st), 0);
    t0 = testNowMs();
    job = virDomainSaveJob(dom, img);
    assert_non_null(job);
    unsigned int lastPct = 0;
    bool backwards = false;
    virJobInfo info;
    while (!qtJobEnd0(job)) {
        assert_int_equal(virJobGetInfo(job, &info), 0);
        backwards |= info.percentComplete < lastPct;
        lastPct = info.percentComplete;
        (void)virJobWait(job, 10);
    }
    if (qtJobEnd(job) != VIR_JOB_COMPLETE)
        fail_msg("save: %s", qtJobError(job));
    assert_false(backwards);
    assert_int_equal(virJobGetInfo(job, &info), 0);
    assert_int_equal(info.percentComplete, 100);
    printf("save completed: %lld ms\n", testNowMs() - t0);
    virJobDestroy(job);
    /* The domain's last-job record: a save that succeeded. */
    int op = -1, ok = -1;
    assert_int_equal(qtJobStats(dom, VIR_DOMAIN_JOB_STATS_COMPLETED, &op, &ok, NULL, 0, NULL),
                     VIR_DOMAIN_JOB_COMPLETED);
    assert_int_equal(op, VIR_DOMAIN_JOB_OPERATION_SAVE);
    assert_int_equal(ok, 1);
    /* JOB_COMPLETED: one event, the completed save's (the cancelled one
     * raised none), with libvirt's fields. */
    qgWaitJobEvents(&ev, 1);
    printf("JOB_COMPLETED: domain %s, operation %d, success %d, %llu of %llu bytes, "
           "%llu ms\n", ev.domain, ev.operation, ev.success, ev.processed, ev.total,
           ev.elapsed);
    assert_int_equal(ev.count, 1);
    assert_int_equal(ev.unsuccessful, 0);
    assert_string_equal(ev.domain, "sv");
    assert_int_equal(ev.operation, VIR_DOMAIN_JOB_OPERATION_SAVE);
    assert_int_equal(ev.success, 1);
    assert_true(ev.haveProcessed && ev.haveTotal && ev.haveElapsed);
    assert_true(ev.total >= 192ULL << 20);
    assert_true(ev.processed == ev.total);
    assert_true(ev.elapsed > 0);
    struct stat sb;
    assert_int_equal(stat(img, &sb), 0);
    assert_true(sb.st_size > FILL_MIB << 20);
    printf("image: %lld bytes\n", (long long)sb.st_size);
    assert_int_equal(strayFiles(t->root, "sv.img"), 0);
    assert_int_equal(virDomainGetState(dom, &s, &r, 0), 0);
    assert_int_equal(s, VIR_DOMAIN_SHUTOFF);
    assert_int_equal(r, VIR_DOMAIN_SHUTOFF_SAVED);
    assert_true(TEST_WAIT_UNTIL(!virProcessAlive(st.child_pid, st.child_start), TEST_TIMEOUT_MS));
    close(ch);

    /* 3. Images refused at the call. */
    char bad[600];
    qemuImageHeader h;
    snprintf(bad, sizeof(bad), "%s/bad.img", t->root);
    copyFile(img, bad);
    assert_int_equal(truncate(bad, sb.st_size - 1000), 0);
    assert_null(virDomainRestoreJob(t->conn, bad));
    printf("truncated: %s\n", virGetLastErrorMessage());
    assert_non_null(strstr(virGetLastErrorMessage(), "truncated"));
    copyFile(img, bad);
    (void)recordOffset(bad, 0, &h);
    h.memoryBytes *= 2;   /* another memory size, the checksum made to match */
    {
        int fd = open(bad, O_RDWR | O_CLOEXEC);
        char *xml = calloc(1, h.xmlLen + 1);
        assert_non_null(xml);
        assert_int_equal(pread(fd, xml, h.xmlLen, sizeof(h)), (ssize_t)h.xmlLen);
        h.hash = qemuImageHeaderHash(&h, xml);
        assert_int_equal(pwrite(fd, &h, sizeof(h), 0), (ssize_t)sizeof(h));
        free(xml);
        close(fd);
    }
    assert_null(virDomainRestoreJob(t->conn, bad));
    printf("other memory size in the header: %s\n", virGetLastErrorMessage());
    assert_non_null(strstr(virGetLastErrorMessage(), "describe different guests"));
    /* The defined domain has other memory than the image. */
    char *orig = virDomainGetXMLDesc(dom, 0);
    assert_non_null(orig);
    char *big = strdup(orig);
    assert_non_null(big);
    char *m = strstr(big, ">196608</memory>");
    if (!m)
        fail_msg("no 196608 KiB <memory> in:\n%s", big);
    memcpy(m, ">262144</memory>", strlen(">262144</memory>"));
    if ((m = strstr(big, ">196608</currentMemory>")))
        memcpy(m, ">262144</currentMemory>", strlen(">262144</currentMemory>"));
    virDomainPtr other = virDomainDefineXML(t->conn, big);
    if (!other)
        fail_msg("redefine: %s", virGetLastErrorMessage());
    assert_null(virDomainRestoreJob(t->conn, img));
    printf("defined with other memory: %s\n", virGetLastErrorMessage());
    assert_non_null(strstr(virGetLastErrorMessage(), "KiB"));
    virDomainFree(other);
    free(big);
    /* The image's name now belongs to a domain with another UUID. */
    char *moved = strdup(orig);
    assert_non_null(moved);
    char *u = strstr(moved, "<uuid>");
    assert_non_null(u);
    u += strlen("<uuid>");
    u[0] = u[0] == 'a' ? 'b' : 'a';
    assert_int_equal(virDomainUndefine(dom), 0);
    other = virDomainDefineXML(t->conn, moved);
    if (!other)
        fail_msg("define with another UUID: %s", virGetLastErrorMessage());
    assert_null(virDomainRestoreJob(t->conn, img));
    printf("name of another UUID: %s\n", virGetLastErrorMessage());
    assert_int_equal(virGetLastErrorCode(), VIR_ERR_DOM_EXIST);
    assert_non_null(strstr(virGetLastErrorMessage(), "cannot restore from '"));
    assert_non_null(strstr(virGetLastErrorMessage(), "already exists with UUID"));
    assert_int_equal(virDomainUndefine(other), 0);
    virDomainFree(other);
    free(moved);
    other = virDomainDefineXML(t->conn, orig);
    assert_non_null(other);
    virDomainFree(other);
    free(orig);

    /* 4. 16 bytes flipped inside a record in the middle: QEMU has loaded
     * the records before it when the feed stops. */
    copyFile(img, bad);
    (void)recordOffset(bad, 0, &h);
    uint64_t mid = recordOffset(bad, h.chunks / 2, &h);
    {
        int fd = open(bad, O_RDWR | O_CLOEXEC);
        uint8_t b[16];
        assert_int_equal(pread(fd, b, sizeof(b), (off_t)(mid + 16 + 4096)), (ssize_t)sizeof(b));
        for (size_t i = 0; i < sizeof(b); i++)
            b[i] ^= 0x5a;
        assert_int_equal(pwrite(fd, b, sizeof(b), (off_t)(mid + 16 + 4096)), (ssize_t)sizeof(b));
        close(fd);
    }
    job = virDomainRestoreJob(t->conn, bad);
    if (!job)
        fail_msg("restore of the flipped image: %s", virGetLastErrorMessage());
    assert_int_equal(qtJobEnd(job), VIR_JOB_FAILED);
    printf("flipped bytes: %s\n", qtJobError(job));
    char want[64];
    snprintf(want, sizeof(want), "corrupt at offset %llu ", (unsigned long long)mid);
    assert_non_null(strstr(qtJobError(job), want));
    assert_non_null(strstr(qtJobError(job), "checksum"));
    virJobDestroy(job);
    noGuestLeft(t, dom);

    /* 4b. The guest's start fails while the worker already feeds (the
     * restore's job exists before QEMU does): its log cannot be opened
     * (a directory in its place). The job fails with the start's error
     * and no guest is left. */
    {
        char logPath[600], kept[620];
        snprintf(logPath, sizeof(logPath), "%s/log/sv.log", t->root);
        snprintf(kept, sizeof(kept), "%s.kept", logPath);
        assert_int_equal(rename(logPath, kept), 0);
        assert_int_equal(mkdir(logPath, 0700), 0);
        job = virDomainRestoreJob(t->conn, img);
        if (!job)
            fail_msg("restore with no log: %s", virGetLastErrorMessage());
        assert_int_equal(qtJobEnd(job), VIR_JOB_FAILED);
        printf("restore whose guest cannot start: %s\n", qtJobError(job));
        assert_non_null(strstr(qtJobError(job), "cannot open the guest's log"));
        virJobDestroy(job);
        noGuestLeft(t, dom);
        assert_int_equal(rmdir(logPath), 0);
        assert_int_equal(rename(kept, logPath), 0);
    }

    /* 5. The image restores, and the guest's memory is what it was. */
    t0 = testNowMs();
    job = virDomainRestoreJob(t->conn, img);
    if (!job)
        fail_msg("restore: %s", virGetLastErrorMessage());
    lastPct = 0;
    backwards = false;
    bool between = false;
    while (!qtJobEnd0(job)) {
        assert_int_equal(virJobGetInfo(job, &info), 0);
        backwards |= info.percentComplete < lastPct;
        between |= info.percentComplete > 0 && info.percentComplete < 100;
        lastPct = info.percentComplete;
        (void)virJobWait(job, 5);
    }
    if (qtJobEnd(job) != VIR_JOB_COMPLETE)
        fail_msg("restore: %s", qtJobError(job));
    printf("restore completed: %lld ms (progress seen between 0 and 100: %s)\n",
           testNowMs() - t0, between ? "yes" : "no");
    assert_false(backwards);
    virDomainPtr rdom = virJobGetDomain(job);
    assert_non_null(rdom);
    virDomainFree(rdom);
    virJobDestroy(job);
    assert_int_equal(qtJobStats(dom, VIR_DOMAIN_JOB_STATS_COMPLETED, &op, &ok, NULL, 0, NULL),
                     VIR_DOMAIN_JOB_COMPLETED);
    assert_int_equal(op, VIR_DOMAIN_JOB_OPERATION_RESTORE);
    assert_int_equal(ok, 1);
    /* The restore's JOB_COMPLETED (the refused and failed ones raised
     * none): bytes fed out of the image's size. */
    qgWaitJobEvents(&ev, 2);
    assert_int_equal(ev.count, 2);
    assert_int_equal(ev.unsuccessful, 0);
    assert_string_equal(ev.domain, "sv");
    assert_int_equal(ev.operation, VIR_DOMAIN_JOB_OPERATION_RESTORE);
    assert_int_equal(ev.success, 1);
    assert_true(ev.haveProcessed && ev.haveTotal);
    assert_true(ev.total > FILL_MIB << 20);
    assert_true(ev.processed == ev.total);
    assert_int_equal(virConnectDomainEventDeregisterAny(t->conn, evId), 0);
    assert_int_equal(virDomainGetState(dom, &s, &r, 0), 0);
    assert_int_equal(s, VIR_DOMAIN_RUNNING);
    assert_int_equal(r, VIR_DOMAIN_RUNNING_RESTORED);
    ch = channelOpen(t, "sv");
    channel(ch, "md5 /fill/data", out, sizeof(out));
    assert_string_equal(out, md5);
    close(ch);
    virDomainFree(dom);
}

/* Whether @job reaches @phase with bytes moved (false: it ended first, or
 * the test's timeout passed). */
static bool waitMovingQuiet(virJobPtr job, const char *phase)
{
    unsigned long long done = 0, total = 0;
    char ph[64] = "";
    return TEST_WAIT_UNTIL((jobFigures(job, &done, &total, ph, sizeof(ph)),
                            (STREQ(ph, phase) && done > 0) || qtJobEnd0(job)), TEST_TIMEOUT_MS) &&
           !qtJobEnd0(job);
}

/* Wait until @job moves bytes in @phase (or ends: then fail). */
static void waitMoving(virJobPtr job, const char *phase)
{
    unsigned long long done = 0, total = 0;
    char ph[64] = "";
    if (!waitMovingQuiet(job, phase)) {
        jobFigures(job, &done, &total, ph, sizeof(ph));
        fail_msg("the job did not reach '%s' with bytes moved (phase '%s', error '%s')", phase,
                 ph, qtJobError(job));
    }
}

static char smallMnt[600];
static bool smallMounted;

static void checkRunsOn(virDomainPtr dom, qemuT *t, const char *md5)
{
    char out[256];
    qtWaitState(dom, VIR_DOMAIN_RUNNING, -1);
    int ch = channelOpen(t, "fx");
    channel(ch, "md5 /fill/data", out, sizeof(out));
    assert_string_equal(out, md5);
    close(ch);
}

/* A restore job that ends @state leaves no guest, as @dom's connection
 * and @also's (another one, whose next restore must not find the guest
 * still running in its view) see it. */
static void restoreEnds(qemuT *t, virDomainPtr dom, virDomainPtr also, virJobPtr job, int state,
                        const char *what, const char *expect)
{
    if (qtJobEnd(job) != state)
        fail_msg("%s: the restore ended %d (%s), expected %d", what, qtJobEnd(job),
                 qtJobError(job), state);
    printf("%s: %s\n", what, qtJobError(job));
    if (expect && !strstr(qtJobError(job), expect))
        fail_msg("%s: the error does not say '%s'", what, expect);
    virJobDestroy(job);
    virShimStatus st;
    int s, r;
    assert_true(TEST_WAIT_UNTIL(virDomainGetState(dom, &s, &r, 0) == 0 &&
                                s == VIR_DOMAIN_SHUTOFF, TEST_TIMEOUT_MS));
    assert_int_equal(virDomainIsActive(dom), 0);
    qtWaitState(also, VIR_DOMAIN_SHUTOFF, -1);
    if (qtShimStatus(t, "fx", &st) == 0)
        assert_true(TEST_WAIT_UNTIL(!virProcessAlive(st.child_pid, st.child_start) &&
                                    !virProcessAlive(st.shim_pid, st.shim_start),
                                    TEST_TIMEOUT_MS));
}

/* A save of @d into @img cancelled at once: cancelled, no image, and @dom
 * (the same guest, maybe through another connection) runs on unchanged. */
static void saveCancelledAtOnce(qemuT *t, virDomainPtr d, virDomainPtr dom, const char *img,
                                const char *md5)
{
    virJobPtr job = virDomainSaveJob(d, img);
    assert_non_null(job);
    assert_int_equal(virJobCancel(job), 0);
    assert_int_equal(qtJobEnd(job), VIR_JOB_CANCELLED);
    virJobDestroy(job);
    assert_false(exists(img));
    checkRunsOn(dom, t, md5);
}

/* Whether the job mark of guest "fx" names a created job (its number is
 * on it: the job's worker may have started). */
static bool markHasJob(qemuT *t)
{
    char path[600], rec[600] = "", op[64];
    int pid = 0;
    unsigned long long id = 0;
    snprintf(path, sizeof(path), "%s/run/fx/job", t->root);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    if (!fgets(rec, sizeof(rec), f))
        rec[0] = '\0';
    fclose(f);
    return sscanf(rec, "%63s %d %llu", op, &pid, &id) == 3 && id > 0;
}

static void appDiesMidSave(qemuT *t, virDomainPtr dom, const char *uri, const char *img,
                           const char *md5)
{
    char cli[1100], want[200];
    virShimStatus st;

    snprintf(cli, sizeof(cli), "%s/virtsup", qtBuildDir());
    pid_t app = fork();
    assert_true(app >= 0);
    if (app == 0) {
        execl(cli, "virtsup", "-q", "-c", uri, "save", "fx", img, (char *)NULL);
        _exit(127);
    }
    /* Its save runs: its job is on the guest's mark and the guest is
     * stopped (the save stops it first). An application that ended first
     * ends the wait. */
    int ast = 0;
    pid_t ended = 0;
    if (!TEST_WAIT_UNTIL((ended = waitpid(app, &ast, WNOHANG)) == app ||
                         (markHasJob(t) && qtShimStatus(t, "fx", &st) == 0 &&
                          STRNEQ(st.runstate, "running")), TEST_TIMEOUT_MS) || ended == app)
        fail_msg("the application's save did not get under way (%s)",
                 ended == app ? "it ended first" : "timeout");
    assert_int_equal(kill(app, SIGKILL), 0);
    assert_int_equal(waitpid(app, NULL, 0), app);

    /* This connection watched the guest all along: it puts the guest
     * back as soon as the application's end let the mark go, without
     * being asked anything that would (a GetState does not). Running
     * again after a pause (unpaused): its view from before the save
     * (running, restored, after the restore above) must not end the wait
     * while its watcher has not yet caught up with the pause (seen under
     * valgrind). */
    int s, r;
    if (!TEST_WAIT_UNTIL(virDomainGetState(dom, &s, &r, 0) == 0 &&
                         ((s == VIR_DOMAIN_RUNNING && r == VIR_DOMAIN_RUNNING_UNPAUSED) ||
                          s == VIR_DOMAIN_SHUTOFF),
                         TEST_TIMEOUT_MS) || s != VIR_DOMAIN_RUNNING)
        fail_msg("the watching connection did not put the guest back after its "
                 "application died mid-save: state %d, reason %d", s, r);
    assert_int_equal(r, VIR_DOMAIN_RUNNING_UNPAUSED);

    virConnectPtr c = virConnectOpen(t->uri);
    assert_non_null(c);
    virDomainPtr d = virDomainLookupByName(c, "fx");
    assert_non_null(d);
    assert_int_equal(virDomainGetState(d, &s, &r, 0), 0);
    assert_int_equal(s, VIR_DOMAIN_RUNNING);
    assert_int_equal(qtShimStatus(t, "fx", &st), 0);
    assert_string_equal(st.runstate, "running");
    checkRunsOn(dom, t, md5);
    assert_false(exists(img));
    snprintf(want, sizeof(want), "libvirtsup: the save of process %d ended with that "
             "process; QEMU's migration has ended and the guest runs again", (int)app);
    qtLogSays(t, "fx", want);
    printf("application killed during its save: %s\n", want);
    /* The mark is free and empty: a save now is not refused. */
    saveCancelledAtOnce(t, d, dom, img, md5);
    virDomainFree(d);
    assert_int_equal(virConnectClose(c), 0);
}

static void test_faults(void **state)
{
    qemuT *t = *state;
    char md5[64], img[512], uri[8300];
    virJobPtr job;

    virDomainPtr dom = qgBootFilled(t, "fx", FILL_MIB, md5, sizeof(md5));
    /* A connection capped at 2 MiB/s: its jobs take seconds on this guest. */
    snprintf(uri, sizeof(uri), "%s&bandwidth=2", t->uri);
    virConnectPtr slow = virConnectOpen(uri);
    assert_non_null(slow);
    virDomainPtr sdom = virDomainLookupByName(slow, "fx");
    assert_non_null(sdom);
    snprintf(img, sizeof(img), "%s/fx.img", t->root);

    /* A full file system (a 16 MiB tmpfs; the image is larger). */
    if (smallMounted) {
        char full[700];
        snprintf(full, sizeof(full), "%s/fx.img", smallMnt);
        job = virDomainSaveJob(dom, full);
        assert_non_null(job);
        assert_int_equal(qtJobEnd(job), VIR_JOB_FAILED);
        printf("disk full: %s\n", qtJobError(job));
        assert_non_null(strstr(qtJobError(job), "No space left on device"));
        virJobDestroy(job);
        DIR *dd = opendir(smallMnt);
        struct dirent *e;
        assert_non_null(dd);
        while ((e = readdir(dd)))
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
                fail_msg("left on the full file system: %s", e->d_name);
        closedir(dd);
        assert_false(exists(full));
        struct statvfs vfs;
        assert_int_equal(statvfs(smallMnt, &vfs), 0);
        assert_true(vfs.f_bfree * vfs.f_bsize > 15 << 20);   /* the unnamed file is gone */
        checkRunsOn(dom, t, md5);
    } else {
        printf("disk full: not checked (a small tmpfs needs root)\n");
    }

    /* The save's reader (its worker) killed while QEMU streams. */
    job = virDomainSaveJob(sdom, img);
    assert_non_null(job);
    waitMoving(job, "saving memory");
    assert_int_equal(kill(qtWorkerPid(job), SIGKILL), 0);
    assert_int_equal(qtJobEnd(job), VIR_JOB_FAILED);
    printf("save's worker killed: %s\n", qtJobError(job));
    virJobDestroy(job);
    assert_false(exists(img));
    checkRunsOn(dom, t, md5);

    /* The same from a connection whose view of the guest lags (its
     * watcher held, as a busy one is): another connection has just
     * resumed the guest, or paused it. The failed save gives the guest
     * back as QEMU had it when the save began, not as the view says. */
    for (int paused = 0; paused < 2; paused++) {
        virShimStatus st;
        /* The lagging view: the guest as it was before its last change. */
        if (!paused)
            assert_int_equal(virDomainSuspend(dom), 0);
        qtWaitState(sdom, paused ? VIR_DOMAIN_RUNNING : VIR_DOMAIN_PAUSED, -1);
        qemuTestHoldWatchers(true);
        int changed = paused ? virDomainSuspend(dom) : virDomainResume(dom);
        job = changed == 0 ? virDomainSaveJob(sdom, img) : NULL;
        bool moving = job && waitMovingQuiet(job, "saving memory");
        int killed = moving ? kill(qtWorkerPid(job), SIGKILL) : -1;
        int end = job ? qtJobEnd(job) : -1;
        /* The job's end waited for its done step: QEMU's run state is final. */
        int read = qtShimStatus(t, "fx", &st);
        /* And QEMU's own word, for a failure to show whose view was wrong. */
        char qs[256], qm[256];
        qtQMPLine(t, "fx", "query-status", qs, sizeof(qs));
        qtQMPLine(t, "fx", "query-migrate", qm, sizeof(qm));
        /* Checked once the watchers are let go: a failed check ends the
         * test, and the teardown needs them. */
        qemuTestHoldWatchers(false);
        assert_int_equal(changed, 0);
        assert_non_null(job);
        if (!moving)
            fail_msg("the save did not reach 'saving memory': %s", qtJobError(job));
        assert_int_equal(killed, 0);
        assert_int_equal(end, VIR_JOB_FAILED);
        assert_int_equal(read, 0);
        printf("save's worker killed, lagging view, guest %s before: run state %s\n",
               paused ? "paused" : "running", st.runstate);
        if (STRNEQ(st.runstate, paused ? "paused" : "running"))
            fail_msg("the failed save left the guest %s (the shim's record), not %s; the "
                     "job's error: %s; QEMU's query-status: %s; query-migrate: %s",
                     st.runstate, paused ? "paused" : "running", qtJobError(job), qs, qm);
        virJobDestroy(job);
        if (paused)
            assert_int_equal(virDomainResume(dom), 0);
        assert_false(exists(img));
        checkRunsOn(dom, t, md5);
    }

    /* A cancel at once (preparing). */
    saveCancelledAtOnce(t, sdom, dom, img, md5);

    /* The image the restores below use. */
    job = virDomainSaveJob(dom, img);
    assert_non_null(job);
    if (qtJobEnd(job) != VIR_JOB_COMPLETE)
        fail_msg("save: %s", qtJobError(job));
    virJobDestroy(job);
    qtWaitState(sdom, VIR_DOMAIN_SHUTOFF, -1);

    /* Restores that do not complete leave no guest. */
    job = virDomainRestoreJob(t->conn, img);
    assert_non_null(job);
    assert_int_equal(virJobCancel(job), 0);
    restoreEnds(t, dom, sdom, job, VIR_JOB_CANCELLED, "restore cancelled at once", NULL);

    job = virDomainRestoreJob(slow, img);
    assert_non_null(job);
    waitMoving(job, "loading memory");
    assert_int_equal(virJobCancel(job), 0);
    restoreEnds(t, dom, sdom, job, VIR_JOB_CANCELLED, "restore cancelled while loading", NULL);

    job = virDomainRestoreJob(slow, img);
    assert_non_null(job);
    waitMoving(job, "loading memory");
    assert_int_equal(kill(qtWorkerPid(job), SIGKILL), 0);
    restoreEnds(t, dom, sdom, job, VIR_JOB_FAILED, "restore's feeder killed", "worker crashed");

    job = virDomainRestoreJob(slow, img);
    assert_non_null(job);
    waitMoving(job, "loading memory");
    virShimStatus st;
    assert_int_equal(qtShimStatus(t, "fx", &st), 0);
    assert_int_equal(kill(st.child_pid, SIGKILL), 0);
    restoreEnds(t, dom, sdom, job, VIR_JOB_FAILED, "restore's QEMU killed", "QEMU");

    /* The image still restores, the guest as it was. */
    job = virDomainRestoreJob(t->conn, img);
    assert_non_null(job);
    if (qtJobEnd(job) != VIR_JOB_COMPLETE)
        fail_msg("restore: %s", qtJobError(job));
    virJobDestroy(job);
    checkRunsOn(dom, t, md5);
    assert_int_equal(unlink(img), 0);

    /* Records of mixed sizes (fifteen small ones after each full one)
     * restore too, the guest as it was. */
    job = virDomainSaveJob(dom, img);
    assert_non_null(job);
    if (qtJobEnd(job) != VIR_JOB_COMPLETE)
        fail_msg("save: %s", qtJobError(job));
    virJobDestroy(job);
    char mixed[600];
    snprintf(mixed, sizeof(mixed), "%s/fx-mixed.img", t->root);
    recutImage(img, mixed);
    job = virDomainRestoreJob(t->conn, mixed);
    if (!job)
        fail_msg("restore of the re-cut image: %s", virGetLastErrorMessage());
    if (qtJobEnd(job) != VIR_JOB_COMPLETE)
        fail_msg("restore of the re-cut image: %s", qtJobError(job));
    virJobDestroy(job);
    checkRunsOn(dom, t, md5);
    assert_int_equal(unlink(img), 0);
    assert_int_equal(unlink(mixed), 0);

    /* The application dies during a save: virtsup, the command-line
     * client, killed while its save streams at 2 MiB/s. The guest, which
     * the save had stopped, is put back by the next connection to open
     * (as libvirt's daemon does when it starts again): running, its memory
     * unchanged, a line in its log, no image. Before, it stayed paused for
     * good, "paused (user)". */
    appDiesMidSave(t, dom, uri, img, md5);

    /* QEMU killed while it streams into a save (a new capped connection:
     * it finds the guest another connection restored). */
    virDomainFree(sdom);
    virConnectClose(slow);
    slow = virConnectOpen(uri);
    assert_non_null(slow);
    sdom = virDomainLookupByName(slow, "fx");
    assert_non_null(sdom);
    job = virDomainSaveJob(sdom, img);
    assert_non_null(job);
    waitMoving(job, "saving memory");
    assert_int_equal(qtShimStatus(t, "fx", &st), 0);
    assert_int_equal(kill(st.child_pid, SIGKILL), 0);
    assert_int_equal(qtJobEnd(job), VIR_JOB_FAILED);
    printf("save's QEMU killed: %s\n", qtJobError(job));
    assert_non_null(strstr(qtJobError(job), "QEMU"));
    virJobDestroy(job);
    assert_false(exists(img));
    qtWaitState(dom, VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_CRASHED);
    virDomainFree(sdom);
    virConnectClose(slow);
    virDomainFree(dom);
}

/* A guest with a raw disk (a root-only file QEMU gets as a descriptor):
 * the guest writes to it, is saved, and its restore fails while the disk
 * image is missing (QEMU's own words, no guest left, the image kept);
 * with the disk back it restores, reads what it wrote before the save
 * from the device (its page cache dropped), and writes on: the disk
 * works after a restore, and host and guest see the same bytes. */
static void diskMd5(const char *path, char *out, size_t len)
{
    char cmd[700];
    snprintf(cmd, sizeof(cmd), "md5sum '%s'", path);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    char sum[64] = "";
    assert_int_equal(fscanf(f, "%32s", sum), 1);
    pclose(f);
    snprintf(out, len, "%s", sum);
}

/* A guest saved while paused comes back paused, its memory intact, and
 * runs on when resumed. QEMU sends no event when it finishes loading a
 * paused guest's image (it sets the run state without one): the restore
 * waited for its shim to learn it, for the whole monitor timeout, and
 * then failed ("not paused (run state 'inmigrate')"). */
/* @e (@who's) holds libvirt's two events of a paused guest's restore,
 * in order: started (restored), then suspended (restored). */
static void restoredPausedEvents(qtEvents *e, const char *who)
{
    qtWaitEvent(e, VIR_DOMAIN_EVENT_SUSPENDED, VIR_DOMAIN_EVENT_SUSPENDED_RESTORED);
    for (int i = 0; i < e->n; i++)
        printf("%s's event %d: %d/%d\n", who, i, e->event[i], e->detail[i]);
    assert_int_equal(e->n, 2);
    assert_int_equal(e->event[0], VIR_DOMAIN_EVENT_STARTED);
    assert_int_equal(e->detail[0], VIR_DOMAIN_EVENT_STARTED_RESTORED);
}

/* A connection opened now (virtsup domstate --reason beside a daemon)
 * sees guest fx shut off, saved; @after says after what, for a failure. */
static void laterSeesSaved(qemuT *t, const char *after)
{
    int s, r;
    virConnectPtr later = qtOpen(t);
    virDomainPtr ldom = virDomainLookupByName(later, "fx");
    assert_non_null(ldom);
    assert_int_equal(virDomainGetState(ldom, &s, &r, 0), 0);
    assert_int_equal(s, VIR_DOMAIN_SHUTOFF);
    if (r != VIR_DOMAIN_SHUTOFF_SAVED)
        fail_msg("a connection opened after %s sees the guest shut off with reason %d, "
                 "not saved", after, r);
    virDomainFree(ldom);
    assert_int_equal(virConnectClose(later), 0);
}

/* A connection whose view lags (its watcher held, as a busy one is)
 * records a save's end only after the saving application (virtsup, another
 * process) has ended and the run directory with the status that said
 * "saved" is gone, and the guest's log no longer holds the save's line
 * (rotated). The record of the end that the save's commit wrote says it:
 * shut off, saved. Before, such a connection found the shim gone without
 * a record and said crashed, and wrote that for connections opened later. */
static void savedSeenLate(qemuT *t, virDomainPtr dom, const char *img)
{
    qtVirtsupWhileHeld(t, "save", "fx", img, true);
    qtWaitState(dom, VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_SAVED);
    /* And it recorded the same for connections opened later. */
    laterSeesSaved(t, "the lagging one recorded the end");
    assert_int_equal(unlink(img), 0);
}

static void test_paused_round_trip(void **state)
{
    qemuT *t = *state;
    char md5[64], img[512];
    int s, r;

    virDomainPtr dom = qgBootFilled(t, "fx", FILL_MIB, md5, sizeof(md5));
    snprintf(img, sizeof(img), "%s/fx.img", t->root);
    assert_int_equal(virDomainSuspend(dom), 0);
    /* Two other connections watch the guest: one as usual, one without
     * inotify. Each must see the save's end as libvirt tells it: shut
     * off, saved (not destroyed), and the first the event stopped
     * (saved). */
    qtEvents oev = { 0 };
    assert_int_equal(virEventRegisterDefaultImpl(), 0);
    int timer = virEventAddTimeout(50, qtTick, NULL, NULL);
    assert_true(timer >= 0);
    virConnectPtr watcher = qtOpen(t);
    qemuTestNoInotify(true);
    virConnectPtr blind = qtOpen(t);
    qemuTestNoInotify(false);
    virDomainPtr wdom = virDomainLookupByName(watcher, "fx");
    virDomainPtr bdom = virDomainLookupByName(blind, "fx");
    assert_non_null(wdom);
    assert_non_null(bdom);
    assert_int_equal(virConnectDomainEventRegister(watcher, qtLifecycleCb, &oev, NULL), 0);
    virJobPtr job = virDomainSaveJob(dom, img);
    assert_non_null(job);
    if (qtJobEnd(job) != VIR_JOB_COMPLETE)
        fail_msg("save of the paused guest: %s", qtJobError(job));
    virJobDestroy(job);
    qtWaitEvent(&oev, VIR_DOMAIN_EVENT_STOPPED, VIR_DOMAIN_EVENT_STOPPED_SAVED);
    virDomainPtr seen[2] = { wdom, bdom };
    for (int i = 0; i < 2; i++) {
        assert_true(TEST_WAIT_UNTIL(virDomainGetState(seen[i], &s, &r, 0) == 0 &&
                                    s == VIR_DOMAIN_SHUTOFF, TEST_TIMEOUT_MS));
        if (r != VIR_DOMAIN_SHUTOFF_SAVED)
            fail_msg("the %s connection sees the saved guest shut off with reason %d, "
                     "not saved", i ? "inotify-less" : "other", r);
        virDomainFree(seen[i]);
    }
    assert_int_equal(virConnectClose(blind), 0);
    /* A connection opened after the end (virtsup domstate --reason beside
     * a daemon) is told the same, once the run directory is gone. */
    {
        char rundir[600];
        snprintf(rundir, sizeof(rundir), "%s/run/fx", t->root);
        assert_true(TEST_WAIT_UNTIL(access(rundir, F_OK) < 0, TEST_TIMEOUT_MS));
        laterSeesSaved(t, "the save");
    }
    /* The restore's lifecycle events, as libvirt's: started (restored),
     * then suspended (restored); the same in the watching connection,
     * which adopts the restored guest. */
    qtEvents ev = { 0 };
    oev.n = 0;
    assert_int_equal(virConnectDomainEventRegister(t->conn, qtLifecycleCb, &ev, NULL), 0);
    long long t0 = testNowMs();
    job = virDomainRestoreJob(t->conn, img);
    assert_non_null(job);
    if (qtJobEnd(job) != VIR_JOB_COMPLETE)
        fail_msg("restore of the paused guest's image: %s", qtJobError(job));
    printf("paused guest restored in %lld ms\n", testNowMs() - t0);
    virJobDestroy(job);
    assert_int_equal(virDomainGetState(dom, &s, &r, 0), 0);
    assert_int_equal(s, VIR_DOMAIN_PAUSED);
    restoredPausedEvents(&ev, "the restoring connection");
    restoredPausedEvents(&oev, "the watching connection");
    assert_int_equal(virConnectDomainEventDeregister(watcher, qtLifecycleCb), 0);
    assert_int_equal(virConnectClose(watcher), 0);
    assert_int_equal(virConnectDomainEventDeregister(t->conn, qtLifecycleCb), 0);
    virEventRemoveTimeout(timer);
    assert_int_equal(virDomainResume(dom), 0);
    checkRunsOn(dom, t, md5);
    assert_int_equal(unlink(img), 0);
    savedSeenLate(t, dom, img);
    virDomainFree(dom);
}

static void test_disk_guest(void **state)
{
    qemuT *t = *state;
    char disk[600], moved[620], img[600], dev[1024], out[256], host[64], md5[64];
    int s, r;

    snprintf(disk, sizeof(disk), "%s/dk.raw", t->root);
    snprintf(moved, sizeof(moved), "%s.away", disk);
    snprintf(img, sizeof(img), "%s/dk.img", t->root);
    int fd = open(disk, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, 4 << 20), 0);
    close(fd);
    snprintf(dev, sizeof(dev), "<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
             "<source file='%s'/><target dev='vda' bus='virtio'/></disk>", disk);
    t->conn = qtOpen(t);
    virDomainPtr dom = virDomainDefineXML(t->conn, guestXML(t, "dk", dev));
    if (!dom)
        fail_msg("define: %s", virGetLastErrorMessage());
    virJobPtr job = virDomainCreateJob(dom, 0);
    assert_non_null(job);
    if (qtJobEnd(job) != VIR_JOB_COMPLETE)
        fail_msg("start: %s", qtJobError(job));
    virJobDestroy(job);
    waitBooted(t, "dk");
    int ch = channelOpen(t, "dk");
    channel(ch, "fill 2", md5, sizeof(md5));
    /* The guest writes 1 MiB of its random fill at 1 MiB into the disk. */
    channel(ch, "sh dd if=/fill/data of=/dev/vda bs=1048576 seek=1 count=1 conv=notrunc,fsync "
            "2>/dev/null && sync && echo written", out, sizeof(out));
    assert_string_equal(out, "written");
    channel(ch, "md5 /dev/vda", out, sizeof(out));
    close(ch);
    diskMd5(disk, host, sizeof(host));
    assert_string_equal(out, host);

    job = virDomainSaveJob(dom, img);
    assert_non_null(job);
    if (qtJobEnd(job) != VIR_JOB_COMPLETE)
        fail_msg("save: %s", qtJobError(job));
    virJobDestroy(job);
    assert_int_equal(virDomainGetState(dom, &s, &r, 0), 0);
    assert_int_equal(s, VIR_DOMAIN_SHUTOFF);
    assert_int_equal(r, VIR_DOMAIN_SHUTOFF_SAVED);
    /* What the guest wrote is in the file, unchanged by the save. */
    diskMd5(disk, out, sizeof(out));
    assert_string_equal(out, host);

    /* The disk image is missing: the restore fails, no guest is left,
     * the save image stays. */
    assert_int_equal(rename(disk, moved), 0);
    job = virDomainRestoreJob(t->conn, img);
    if (job) {
        assert_int_equal(qtJobEnd(job), VIR_JOB_FAILED);
        printf("restore without its disk: %s\n", qtJobError(job));
        assert_non_null(strstr(qtJobError(job), "dk.raw"));
        virJobDestroy(job);
    } else {
        printf("restore without its disk (refused at the call): %s\n",
               virGetLastErrorMessage());
        assert_non_null(strstr(virGetLastErrorMessage(), "dk.raw"));
    }
    assert_int_equal(virDomainIsActive(dom), 0);
    virShimStatus st;
    if (qtShimStatus(t, "dk", &st) == 0)
        assert_true(TEST_WAIT_UNTIL(!virProcessAlive(st.child_pid, st.child_start) &&
                                    !virProcessAlive(st.shim_pid, st.shim_start),
                                    TEST_TIMEOUT_MS));
    assert_true(exists(img));
    assert_int_equal(rename(moved, disk), 0);

    /* With its disk back it restores. */
    job = virDomainRestoreJob(t->conn, img);
    if (!job)
        fail_msg("restore: %s", virGetLastErrorMessage());
    if (qtJobEnd(job) != VIR_JOB_COMPLETE)
        fail_msg("restore: %s", qtJobError(job));
    virJobDestroy(job);
    assert_int_equal(virDomainGetState(dom, &s, &r, 0), 0);
    assert_int_equal(s, VIR_DOMAIN_RUNNING);
    assert_int_equal(r, VIR_DOMAIN_RUNNING_RESTORED);
    ch = channelOpen(t, "dk");
    channel(ch, "md5 /fill/data", out, sizeof(out));
    assert_string_equal(out, md5);
    /* Read from the device, not the guest's cache: the bytes written before
     * the save. */
    channel(ch, "sh echo 3 > /proc/sys/vm/drop_caches && md5sum /dev/vda | cut -d' ' -f1", out,
            sizeof(out));
    assert_string_equal(out, host);
    /* And the disk takes writes after the restore (QEMU activated it). */
    channel(ch, "sh dd if=/fill/data of=/dev/vda bs=1048576 seek=3 count=1 conv=notrunc,fsync "
            "2>/dev/null && sync && echo written", out, sizeof(out));
    assert_string_equal(out, "written");
    channel(ch, "sh echo 3 > /proc/sys/vm/drop_caches && md5sum /dev/vda | cut -d' ' -f1", out,
            sizeof(out));
    close(ch);
    diskMd5(disk, host, sizeof(host));
    printf("disk after the restore and a write: guest %s, host %s\n", out, host);
    assert_string_equal(out, host);
    assert_int_equal(virDomainDestroy(dom), 0);
    virDomainFree(dom);
}

int main(void)
{
    int rc = qgPrepare();
    if (rc)
        return rc;
    /* A small file system for the disk-full check, in a private mount
     * namespace (it goes with this process whatever happens). */
    snprintf(smallMnt, sizeof(smallMnt), "/tmp/virtsup-qemu-small-%d", (int)getpid());
    if (geteuid() == 0 && unshare(CLONE_NEWNS) == 0 &&
        mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) == 0 &&
        mkdir(smallMnt, 0700) == 0) {
        if (mount("tmpfs", smallMnt, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                  "size=16m,mode=0700") == 0)
            smallMounted = true;
        else
            rmdir(smallMnt);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_save_cancel_complete, setupT, qtTeardown),
        cmocka_unit_test_setup_teardown(test_faults, setupT, qtTeardown),
        cmocka_unit_test_setup_teardown(test_paused_round_trip, setupT, qtTeardown),
        cmocka_unit_test_setup_teardown(test_disk_guest, setupT, qtTeardown),
    };
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    if (smallMounted)
        (void)umount2(smallMnt, MNT_DETACH);
    if (smallMnt[0])
        (void)rmdir(smallMnt);
    return rc;
}
