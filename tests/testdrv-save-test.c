/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * testdrv-save-test.c: the save image: write -> verify round trip checked
 * byte by byte, every kind of damage detected with the right message, the
 * save and restore ops through a recording fake job (result, cancel,
 * faults, errors), and the save-image seed corpus.
 *
 * Regenerate the seeds: VIRTSUP_REGEN_CORPUS=1 build/tests/testdrv-save-test
 */
#include <fcntl.h>
#include <libgen.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <cmocka.h>

#include "../worker/jobio.c"
#include "../src/drivers/test/test-worker.c"
#include "../src/drivers/test/save-worker.c"
#include "../src/drivers/test/restore-worker.c"
#include "testdrv-fakejob.h"
#include "testdrv-image.h"

static const char xmlText[] =
    "<domain type='test'><name>saver</name><uuid>10171e25-2c33-3a41-484f-565d646b7279</uuid>"
    "<memory unit='KiB'>4096</memory><vcpu>2</vcpu><os><type>hvm</type></os></domain>";

/* A throwaway fake job for calls whose progress is not checked. */
static virWorkerJobPtr scratchJob(void)
{
    static fakeJob scratch;
    fakeJobInit(&scratch, -1);
    return FJ(&scratch);
}

static void writeWhole(const char *path, const void *b, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, b, len), (ssize_t)len);
    close(fd);
}

/* A fresh 4 MiB image of "saver"; returns its bytes. */
static uint8_t *makeImage(testDomainDef *def, size_t *len)
{
    char path[64];
    int fd = fakeTempFile(path);
    fakeJob job;

    fakeDomainDef(def, "saver", 4096, 2);
    fakeJobInit(&job, fd);
    assert_int_equal(testSaveImageWrite(FJ(&job), fd, def, xmlText, strlen(xmlText), 0), 0);
    close(fd);
    uint8_t *b = fakeReadWhole(path, len);
    unlink(path);
    return b;
}

static void test_round_trip(void **state)
{
    (void)state;
    testDomainDef def, back;
    fakeJob job;
    char path[64];
    int fd = fakeTempFile(path);
    size_t len;
    uint8_t page[TEST_PAGE_SIZE];

    fakeDomainDef(&def, "saver", 4096, 2);
    def.nfaults = 1;  /* a fault for another op rides along, unfired */
    def.faults[0] = (testFault){ TEST_FAULT_OP_DUMP, 0, TEST_FAULT_SEGV, 0 };
    fakeJobInit(&job, fd);
    assert_int_equal(testSaveImageWrite(FJ(&job), fd, &def, xmlText, strlen(xmlText), 0), 0);
    assert_true(job.initialized);
    assert_int_equal(job.nfaults, 0);
    assert_string_equal(job.phases, "writing header|writing memory|syncing");
    /* 4 MiB, all of it current: one DATA run, no zero run. */
    assert_int_equal(job.total, 328 + strlen(xmlText) + 32 + 4096 * 1024);
    assert_int_equal(job.done, job.total);
    assert_int_equal(job.nfinish, 0); /* the pure function does not end the job */
    close(fd);

    /* Check every byte independently of the reader. */
    uint8_t *img = fakeReadWhole(path, &len);
    testSaveHeader hdr;
    testSaveRecord rec;
    assert_int_equal(len, job.total);
    hdr = imgCheck(img, len);
    assert_memory_equal(hdr.magic, "LibvirtSupSave1\0", 16);
    assert_int_equal(hdr.version, 5);
    assert_int_equal(hdr.header_len, 328);
    assert_int_equal(hdr.xml_len, strlen(xmlText));
    assert_int_equal(hdr.memory_bytes, 4096 * 1024);
    assert_int_equal(hdr.records_len, 32 + 4096 * 1024);
    assert_memory_equal(&hdr.def, &def, sizeof(def));
    assert_memory_equal(img + 328, xmlText, strlen(xmlText));
    memcpy(&rec, img + 328 + strlen(xmlText), sizeof(rec));
    assert_int_equal(rec.type, TEST_SAVE_RUN_DATA);
    assert_int_equal(rec.page, 0);
    assert_int_equal(rec.pages, 1024);
    const uint8_t *mem = img + 328 + strlen(xmlText) + 32;
    for (uint64_t i = 0; i < 1024; i++) {
        testMemoryPage(def.uuid, i, page);
        assert_memory_equal(mem + i * TEST_PAGE_SIZE, page, TEST_PAGE_SIZE);
    }
    uint64_t h = TEST_FNV_INIT;
    h = testFnv1a(h, &def, sizeof(def));
    h = testFnv1a(h, xmlText, strlen(xmlText));
    testMemSum ms;
    testMemSumInit(&ms, h);
    testMemSumUpdate(&ms, mem - 32, 32 + 4096 * 1024);
    assert_int_equal(hdr.checksum, testMemSumFinal(&ms, h));
    free(img);

    /* And the reader agrees. */
    fd = open(path, O_RDONLY | O_CLOEXEC);
    fakeJobInit(&job, fd);
    memset(&back, 0, sizeof(back));
    assert_int_equal(testSaveImageVerify(FJ(&job), fd, 0, &back, NULL), 0);
    assert_memory_equal(&back, &def, sizeof(def));
    assert_int_equal(job.done, len);
    assert_string_equal(job.phases, "reading header|reading domain XML|verifying memory");
    close(fd);
    unlink(path);
}

/* testMemoryVerifySum and testMemoryVerifySumPlain (the same without
 * vector instructions) on the same bytes: the same page named and the
 * same sum, returned as one. */
static uint64_t verifyBoth(const uint8_t uuid[16], uint64_t off, const uint8_t *buf, size_t len,
                           testMemSum *s)
{
    testMemSum plain = *s;
    uint64_t bad = testMemoryVerifySum(uuid, off, buf, len, s);
    uint64_t badPlain = testMemoryVerifySumPlain(uuid, off, buf, len, &plain);

    if (bad != badPlain)
        fail_msg("%zu bytes at %llu: page %llu named, without vectors %llu", len,
                 (unsigned long long)off, (unsigned long long)bad, (unsigned long long)badPlain);
    assert_memory_equal(s, &plain, sizeof(plain));
    return bad;
}

/* The one-pass generate/verify-and-sum loops against the plain
 * definitions (testMemoryFill, then testMemSumUpdate, then a compare):
 * whole and partial pages, at offsets, in one call or in pieces, and
 * every byte of two pages damaged in turn (the page named, what was read
 * summed); the check with and without vector instructions. */
static void test_memory_pass(void **state)
{
    (void)state;
    static const uint8_t uuid[16] = { 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5, 6 };
    static const struct { uint64_t offset; size_t len; } cases[] = {
        { 0, 32 }, { 0, 1024 }, { 0, 4096 }, { 4096, 4096 + 1024 }, { 7 * 4096, 3 * 4096 },
        { 3 * 4096, 5 * 4096 + 3072 }, { 1ull << 40, 2 * 4096 },
    };
    const size_t max = 8 * 4096;
    uint8_t *want = malloc(max), *got = malloc(max);
    assert_non_null(want);
    assert_non_null(got);
    printf("# pages generated and checked with vector instructions: %s\n", testMemoryVector() ? "yes" : "no");

    for (size_t c = 0; c < ARRAY_CARDINALITY(cases); c++) {
        uint64_t off = cases[c].offset;
        size_t len = cases[c].len;
        testMemSum ref, s;

        testMemoryFill(uuid, off, want, len);
        testMemSumInit(&ref, 0x1234);
        testMemSumUpdate(&ref, want, len);

        /* Fill in one call and in pieces (whole pages, then the rest). */
        memset(got, 0xee, max);
        testMemSumInit(&s, 0x1234);
        testMemoryFillSum(uuid, off, got, len, &s);
        assert_memory_equal(got, want, len);
        assert_memory_equal(&s, &ref, sizeof(s));
        memset(got, 0xee, max);
        testMemSumInit(&s, 0x1234);
        testMemoryFillSumPlain(uuid, off, got, len, &s);
        assert_memory_equal(got, want, len);
        assert_memory_equal(&s, &ref, sizeof(s));
        memset(got, 0xee, max);
        testMemSumInit(&s, 0x1234);
        for (size_t at = 0; at < len; at += TEST_PAGE_SIZE)
            testMemoryFillSum(uuid, off + at, got + at,
                              len - at < TEST_PAGE_SIZE ? len - at : TEST_PAGE_SIZE, &s);
        assert_memory_equal(got, want, len);
        assert_memory_equal(&s, &ref, sizeof(s));

        /* Verify: clean, in one call and in pieces. */
        testMemSumInit(&s, 0x1234);
        assert_true(verifyBoth(uuid, off, want, len, &s) == UINT64_MAX);
        assert_memory_equal(&s, &ref, sizeof(s));
        testMemSumInit(&s, 0x1234);
        for (size_t at = 0; at < len; at += TEST_PAGE_SIZE)
            assert_true(verifyBoth(uuid, off + at, want + at,
                                   len - at < TEST_PAGE_SIZE ? len - at : TEST_PAGE_SIZE,
                                   &s) == UINT64_MAX);
        assert_memory_equal(&s, &ref, sizeof(s));
    }

    /* Every byte of three pages (the last partial: 3 KiB) damaged in turn,
     * alone and with the last page damaged too: the first damaged page is
     * named, and the sum is that of the bytes as read. */
    const uint64_t off = 5 * 4096;
    const size_t len = 2 * 4096 + 3072;
    testMemoryFill(uuid, off, want, len);
    for (size_t i = 0; i < len; i++) {
        for (int later = 0; later < 2; later++) {
            testMemSum ref, s;
            memcpy(got, want, len);
            got[i] ^= (uint8_t)(1u << (i % 8));
            if (later && i < 2 * 4096)
                got[2 * 4096 + (i * 7) % 3072] ^= 0x80;
            testMemSumInit(&ref, i);
            testMemSumUpdate(&ref, got, len);
            testMemSumInit(&s, i);
            uint64_t bad = verifyBoth(uuid, off, got, len, &s);
            if (bad != off / 4096 + i / 4096)
                fail_msg("byte %zu damaged: page %llu named, expected %llu", i,
                         (unsigned long long)bad, (unsigned long long)(off / 4096 + i / 4096));
            assert_memory_equal(&s, &ref, sizeof(s));
        }
    }
    free(want);
    free(got);
}

/* Another process shortens the image while it is read: the restore
 * reports the image truncated, and where it stopped. */
static const char *shrinkPath;
static void shrinkTo2MiB(void *arg)
{
    (void)arg;
    assert_int_equal(truncate(shrinkPath, 2 << 20), 0);
}

static void test_shrunk_while_read(void **state)
{
    (void)state;
    testDomainDef def, back;
    char path[64];
    int fd = fakeTempFile(path);
    fakeJob job;

    fakeDomainDef(&def, "saver", 4096, 2);
    assert_int_equal(testSaveImageWrite(scratchJob(), fd, &def, xmlText, strlen(xmlText), 0), 0);
    close(fd);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    fakeJobInit(&job, fd);
    shrinkPath = path;
    job.atBytes = shrinkTo2MiB;
    job.atBytesDone = 1 << 20;
    assert_int_equal(testSaveImageVerify(FJ(&job), fd, 0, &back, NULL), -1);
    assert_null(job.atBytes);   /* it did shrink */
    assert_string_equal(lastMessage(),
                        "save image is truncated: expected 4194831 bytes, file has 2097152");
    close(fd);
    unlink(path);
}

/* Memory that is not a whole number of pages. */
static void test_partial_page(void **state)
{
    (void)state;
    testDomainDef def, back;
    char path[64];
    int fd = fakeTempFile(path);

    fakeDomainDef(&def, "odd", 1025, 1);
    assert_int_equal(testSaveImageWrite(scratchJob(), fd, &def, "<x/>", 4, 1 << 30), 0);
    assert_int_equal(lseek(fd, 0, SEEK_END), 328 + 4 + 32 + 1025 * 1024);
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    assert_int_equal(testSaveImageVerify(scratchJob(), fd, 0, &back, NULL), 0);
    assert_int_equal(back.memory_kib, 1025);
    close(fd);
    unlink(path);
}

static void expectBad(const uint8_t *img, size_t len, const char *msg)
{
    char path[64];
    int fd = fakeTempFile(path);
    testDomainDef out, before;

    assert_int_equal(write(fd, img, len), (ssize_t)len);
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    memset(&out, 0x5a, sizeof(out));
    before = out;
    virResetLastError();
    assert_int_equal(testSaveImageVerify(scratchJob(), fd, 0, &out, NULL), -1);
    assert_non_null(virGetLastError());
    if (!strstr(lastMessage(), msg))
        fail_msg("got '%s', wanted '%s'", lastMessage(), msg);
    assert_int_equal(virGetLastError()->code, VIR_ERR_OPERATION_FAILED);
    assert_memory_equal(&out, &before, sizeof(out)); /* untouched on failure */
    close(fd);
    unlink(path);
}

#define HDR(img) ((testSaveHeader *)(void *)(img))

static void test_corruption(void **state)
{
    (void)state;
    testDomainDef def;
    size_t len;
    uint8_t *good = makeImage(&def, &len);
    uint8_t *img = malloc(len + 32);
    size_t xl = strlen(xmlText), memOff = 328 + xl + 32;
    char msg[160];

#define FRESH() memcpy(img, good, len)
    FRESH(); img[0] ^= 1;
    expectBad(img, len, "not a libvirtsup save image (bad magic)");
    FRESH(); img[15] = 'x';
    expectBad(img, len, "bad magic");
    FRESH(); HDR(img)->version = 4;
    expectBad(img, len, "unsupported save image version 4 (this build reads version 5)");
    FRESH(); HDR(img)->version = 6;
    expectBad(img, len, "unsupported save image version 6 (this build reads version 5)");
    FRESH(); HDR(img)->header_len = 512;
    expectBad(img, len, "save image header length 512 is wrong (expected 328)");
    FRESH();
    snprintf(msg, sizeof(msg), "save image is truncated: expected %zu bytes, file has 1000", len);
    expectBad(img, 1000, msg);
    snprintf(msg, sizeof(msg), "save image is truncated: expected %zu bytes, file has %zu",
             len, len - 1);
    expectBad(img, len - 1, msg);
    expectBad(img, 200, "save image is truncated: header needs 328 bytes, file has 200");
    expectBad(img, 0, "save image is empty");
    expectBad((const uint8_t *)"hello, world\n", 13, "bad magic");
    img[len] = 0;
    expectBad(img, len + 1, "1 bytes of trailing data");
    FRESH(); img[memOff + 5 * TEST_PAGE_SIZE + 17] ^= 0x40;
    snprintf(msg, sizeof(msg), "page 5 of save image (memory offset 20480, at byte %zu) "
             "differs from the domain's memory", memOff + 5 * TEST_PAGE_SIZE);
    expectBad(img, len, msg);
    FRESH(); img[len - 1] ^= 1;
    expectBad(img, len, "page 1023 of save image (memory offset 4190208, at byte");
    FRESH(); img[328 + 10] ^= 0x20;
    expectBad(img, len, "save image checksum mismatch");
    FRESH(); img[328 + 10] = 0;
    expectBad(img, len, "save image XML holds a NUL byte");
    FRESH(); HDR(img)->checksum ^= 1;
    expectBad(img, len, "save image checksum mismatch");
    FRESH(); HDR(img)->def.vcpus = 3;       /* valid, but not what was saved */
    expectBad(img, len, "save image checksum mismatch");
    FRESH(); strcpy(HDR(img)->def.name, "../etc");
    expectBad(img, len, "save image holds an invalid domain definition: name");
    FRESH(); HDR(img)->def.magic = 0;
    expectBad(img, len, "invalid domain definition: bad domain definition magic");
    FRESH(); HDR(img)->memory_bytes += 4096;
    expectBad(img, len, "does not match the domain's memory (4194304 bytes)");
    FRESH(); HDR(img)->xml_len = 1ull << 40;
    expectBad(img, len, "save image XML length 1099511627776 is out of range (1 to 262144)");
    FRESH(); HDR(img)->xml_len = 0;
    expectBad(img, len, "XML length 0 is out of range");
    FRESH(); HDR(img)->xml_len += 1;
    snprintf(msg, sizeof(msg), "expected %zu bytes, file has %zu", len + 1, len);
    expectBad(img, len, msg);
    FRESH(); HDR(img)->xml_len -= 1;
    expectBad(img, len, "1 bytes of trailing data");
    /* A header of a 64 GiB domain on a small file: its runs stop short. */
    FRESH(); HDR(img)->def.memory_kib = TEST_MEMORY_MAX_KIB;
    HDR(img)->memory_bytes = TEST_MEMORY_MAX_KIB * 1024;
    snprintf(msg, sizeof(msg), "save image memory runs end at byte %zu before the memory does "
             "(page 1024 of 16777216 has no run)", len);
    expectBad(img, len, msg);
    /* The runs' length. */
    FRESH(); HDR(img)->records_len = 0;
    snprintf(msg, sizeof(msg), "save image memory runs length 0 is out of range (32 to %d)",
             4096 * 1024 + 1024 * 32);
    expectBad(img, len, msg);
    FRESH(); HDR(img)->records_len = 1ull << 40;
    expectBad(img, len, "save image memory runs length 1099511627776 is out of range");
    FRESH(); HDR(img)->records_len += 32;
    snprintf(msg, sizeof(msg), "save image is truncated: expected %zu bytes, file has %zu",
             len + 32, len);
    expectBad(img, len, msg);
    FRESH(); HDR(img)->records_len += 32;
    memset(img + len, 0, 32);
    snprintf(msg, sizeof(msg), "save image has 32 bytes after its last memory run (byte %zu)",
             len);
    expectBad(img, len + 32, msg);
    /* The DATA run's record, where it lies. */
    snprintf(msg, sizeof(msg), "save image run record at byte %zu is damaged: ", memOff - 32);
    FRESH(); img[memOff - 32] ^= 1;
    expectBad(img, len, msg);
    expectBad(img, len, "bad record magic");
    FRESH(); img[memOff - 32 + 12] ^= 1;
    expectBad(img, len, msg);
    expectBad(img, len, "its check does not match its contents");
    FRESH(); img[memOff - 1] ^= 1;       /* the check itself */
    expectBad(img, len, "its check does not match its contents");
#undef FRESH
    free(img);
    free(good);
}

/* A guest with most of its memory zero (8 MiB, 2 MiB current): a DATA run
 * of its 2 MiB of data, a ZERO run for the 6 MiB left; the image is what
 * was written, progress counts it; damage to either run is named where
 * it lies. */
static void test_zero_runs(void **state)
{
    (void)state;
    testDomainDef def, back;
    fakeJob job;
    char path[64], msg[256];
    int fd = fakeTempFile(path);
    size_t len, xl = strlen(xmlText);
    const size_t dataRec = 328 + xl, zeroRec = dataRec + 32 + (2 << 20);
    testSaveRecord rec;

    fakeDomainDef(&def, "saver", 8192, 2);
    def.current_kib = 2048;
    fakeJobInit(&job, fd);
    assert_int_equal(testSaveImageWrite(FJ(&job), fd, &def, xmlText, xl, 0), 0);
    assert_int_equal(job.total, zeroRec + 32);
    assert_int_equal(job.done, job.total);
    close(fd);
    uint8_t *good = fakeReadWhole(path, &len);
    assert_int_equal(len, zeroRec + 32);
    testSaveHeader hdr = imgCheck(good, len);
    assert_int_equal(hdr.memory_bytes, 8 << 20);
    assert_int_equal(hdr.records_len, 32 + (2 << 20) + 32);
    memcpy(&rec, good + dataRec, sizeof(rec));
    assert_int_equal(rec.type, TEST_SAVE_RUN_DATA);
    assert_int_equal(rec.page, 0);
    assert_int_equal(rec.pages, 512);
    memcpy(&rec, good + zeroRec, sizeof(rec));
    assert_int_equal(rec.type, TEST_SAVE_RUN_ZERO);
    assert_int_equal(rec.page, 512);
    assert_int_equal(rec.pages, 1536);

    fd = open(path, O_RDONLY | O_CLOEXEC);
    fakeJobInit(&job, fd);
    assert_int_equal(testSaveImageVerify(FJ(&job), fd, 0, &back, NULL), 0);
    assert_memory_equal(&back, &def, sizeof(def));
    assert_int_equal(back.current_kib, 2048);
    assert_int_equal(job.total, len);        /* progress: bytes of the file */
    assert_int_equal(job.done, len);
    close(fd);
    unlink(path);

    uint8_t *img = malloc(len);
#define FRESH() memcpy(img, good, len)
#define REC(off, field, value) \
    do { memcpy(&rec, img + (off), sizeof(rec)); rec.field = (value); \
         rec.check = testSaveRecordCheck(&rec); memcpy(img + (off), &rec, sizeof(rec)); } while (0)
    /* A flipped byte anywhere in the zero run's record. */
    for (size_t b = 0; b < 32; b++) {
        FRESH(); img[zeroRec + b] ^= 0x10;
        snprintf(msg, sizeof(msg), "save image run record at byte %zu is damaged: %s", zeroRec,
                 b < 4 ? "bad record magic" : "its check does not match its contents");
        expectBad(img, len, msg);
    }
    /* A run length changed, the record's check made to match. */
    FRESH(); REC(zeroRec, pages, 1537);
    snprintf(msg, sizeof(msg), "save image run at byte %zu of 1537 pages from page 512 does "
             "not fit the memory's 2048 pages", zeroRec);
    expectBad(img, len, msg);
    FRESH(); REC(zeroRec, pages, 1535);
    snprintf(msg, sizeof(msg), "save image memory runs end at byte %zu before the memory does "
             "(page 2047 of 2048 has no run)", len);
    expectBad(img, len, msg);
    FRESH(); REC(dataRec, pages, 511);
    snprintf(msg, sizeof(msg), "save image run record at byte %zu is damaged: bad record magic",
             dataRec + 32 + (511 << 12));
    expectBad(img, len, msg);
    FRESH(); REC(dataRec, pages, 513);
    snprintf(msg, sizeof(msg), "save image data run at byte %zu needs %d bytes", dataRec,
             513 << 12);
    expectBad(img, len, msg);
    FRESH(); REC(zeroRec, pages, 0);
    expectBad(img, len, "of 0 pages from page 512 does not fit");
    FRESH(); REC(zeroRec, page, 513);
    snprintf(msg, sizeof(msg), "save image run at byte %zu starts at page 513, the run before "
             "it ended at page 512", zeroRec);
    expectBad(img, len, msg);
    FRESH(); REC(zeroRec, type, 7);
    snprintf(msg, sizeof(msg), "save image run record at byte %zu is damaged: unknown run type",
             zeroRec);
    expectBad(img, len, msg);
    /* A zero run standing for memory that holds data. */
    FRESH(); REC(dataRec, type, TEST_SAVE_RUN_ZERO);
    snprintf(msg, sizeof(msg), "save image zero run at byte %zu covers page 0 (memory offset "
             "0), which holds data in the domain's memory", dataRec);
    expectBad(img, len, msg);
#undef REC
#undef FRESH
    free(img);

    /* Another writer may store zero memory as data: read and checked as
     * zero, byte by byte. Built here by hand: DATA run of all 2048 pages. */
    size_t alen = dataRec + 32 + (8 << 20);
    uint8_t *all = calloc(1, alen);
    memcpy(all, good, dataRec);
    HDR(all)->records_len = 32 + (8 << 20);
    testSaveRecordMake(&rec, TEST_SAVE_RUN_DATA, 0, 2048);
    memcpy(all + dataRec, &rec, sizeof(rec));
    memcpy(all + dataRec + 32, good + dataRec + 32, 2 << 20);
    uint64_t h = testFnv1a(TEST_FNV_INIT, &def, sizeof(def));
    h = testFnv1a(h, xmlText, xl);
    testMemSum ms;
    testMemSumInit(&ms, h);
    testMemSumUpdate(&ms, all + dataRec, 32 + (8 << 20));
    HDR(all)->checksum = testMemSumFinal(&ms, h);
    (void)imgCheck(all, alen);
    fd = fakeTempFile(path);
    assert_int_equal(write(fd, all, alen), (ssize_t)alen);
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    assert_int_equal(testSaveImageVerify(scratchJob(), fd, 0, &back, NULL), 0);
    assert_memory_equal(&back, &def, sizeof(def));
    close(fd);
    unlink(path);
    all[dataRec + 32 + 1000 * TEST_PAGE_SIZE + 5] = 1;
    snprintf(msg, sizeof(msg), "page 1000 of save image (memory offset 4096000, at byte %zu) "
             "differs from the domain's memory", dataRec + 32 + 1000 * TEST_PAGE_SIZE);
    expectBad(all, alen, msg);
    free(all);
    free(good);
}

/* <test:memory data-bytes='N'/>: the image holds N bytes of data (whole
 * pages) and a zero run, whatever the 64 MiB default would give; restore
 * checks the runs against the data size its header's def carries. */
static void test_data_bytes(void **state)
{
    (void)state;
    testDomainDef def, back;
    char path[64];
    int fd = fakeTempFile(path);
    size_t len, xl = strlen(xmlText);
    testSaveRecord rec;
    const uint64_t data = (5ull << 20) + 1, dataPages = (5 << 20) / TEST_PAGE_SIZE + 1;

    fakeDomainDef(&def, "saver", 16384, 1);
    def.current_kib = 12288;
    def.data_bytes = data;
    assert_int_equal(testSaveImageWrite(scratchJob(), fd, &def, xmlText, xl, 0), 0);
    close(fd);
    uint8_t *img = fakeReadWhole(path, &len);
    /* Header, XML, a DATA run of 1281 pages, a ZERO run of the other 2815. */
    assert_int_equal(len, 328 + xl + 32 + dataPages * TEST_PAGE_SIZE + 32);
    testSaveHeader hdr = imgCheck(img, len);
    assert_int_equal(hdr.def.data_bytes, data);
    memcpy(&rec, img + 328 + xl, sizeof(rec));
    assert_int_equal(rec.type, TEST_SAVE_RUN_DATA);
    assert_int_equal(rec.pages, dataPages);
    memcpy(&rec, img + len - 32, sizeof(rec));
    assert_int_equal(rec.type, TEST_SAVE_RUN_ZERO);
    assert_int_equal(rec.page, dataPages);
    assert_int_equal(rec.pages, 4096 - dataPages);

    fd = open(path, O_RDONLY | O_CLOEXEC);
    memset(&back, 0, sizeof(back));
    assert_int_equal(testSaveImageVerify(scratchJob(), fd, 0, &back, NULL), 0);
    assert_memory_equal(&back, &def, sizeof(def));
    close(fd);
    unlink(path);

    /* A header whose def says less data than the image holds: its last
     * data pages are not the zero the def gives them. */
    HDR(img)->def.data_bytes = 4ull << 20;
    expectBad(img, len, "page 1024 of save image (memory offset 4194304");
    /* More data than the current memory: an invalid def. */
    HDR(img)->def.data_bytes = (12ull << 20) + 1;
    expectBad(img, len, "invalid domain definition: memory data size is above the current memory");
    free(img);
}

/* Through a pipe the size is unknown until the end: still detected. */
static void verifyFromPipe(const uint8_t *img, size_t len, int expectRc, const char *msg)
{
    int fds[2];
    pid_t pid;
    testDomainDef out;
    int status;

    assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        size_t off = 0;
        while (off < len) {
            ssize_t w = write(fds[1], img + off, len - off);
            if (w <= 0)
                _exit(1);
            off += (size_t)w;
        }
        _exit(0);
    }
    close(fds[1]);
    assert_int_equal(testSaveImageVerify(scratchJob(), fds[0], 0, &out, NULL), expectRc);
    if (msg && !strstr(lastMessage(), msg))
        fail_msg("got '%s', wanted '%s'", lastMessage(), msg);
    close(fds[0]);
    assert_int_equal(waitpid(pid, &status, 0), pid);
}

static void test_pipe(void **state)
{
    (void)state;
    testDomainDef def;
    size_t len;
    uint8_t *img = makeImage(&def, &len);
    char msg[128];

    verifyFromPipe(img, len, 0, NULL);
    snprintf(msg, sizeof(msg), "save image is truncated: expected %zu bytes, file has %zu",
             len, len - 4096);
    verifyFromPipe(img, len - 4096, -1, msg);
    free(img);
}

static void test_write_errors(void **state)
{
    (void)state;
    testDomainDef def;
    int fds[2];
    int fd;

    fakeDomainDef(&def, "saver", 4096, 2);
    fd = open("/dev/full", O_WRONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(testSaveImageWrite(scratchJob(), fd, &def, xmlText, strlen(xmlText), 0), -1);
    assert_string_equal(lastMessage(), "cannot write save image: No space left on device");
    close(fd);

    assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
    assert_int_equal(testSaveImageWrite(scratchJob(), fds[1], &def, xmlText, strlen(xmlText), 0), -1);
    assert_contains(lastMessage(), "save image target is not seekable");
    close(fds[0]);
    close(fds[1]);

    fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    assert_int_equal(testSaveImageWrite(scratchJob(), fd, &def, "a\0b", 3, 0), -1);
    assert_contains(lastMessage(), "NUL");
    assert_int_equal(testSaveImageWrite(scratchJob(), fd, &def, "", 0, 0), -1);
    close(fd);
}

/* The ops as the worker runs them: params in, Finish call and result out. */
static void test_ops(void **state)
{
    (void)state;
    const virWorkerOp *save = virWorkerOpLookup(TEST_OP_DOMAIN_SAVE);
    const virWorkerOp *restore = virWorkerOpLookup(TEST_OP_DOMAIN_RESTORE);
    testDomainDef def, back;
    fakeJob job;
    char path[64];
    size_t plen;
    int fd = fakeTempFile(path);

    assert_non_null(save);
    assert_non_null(restore);
    fakeDomainDef(&def, "saver", 2048, 1);
    void *params = fakeParams(&def, NULL, xmlText, 0, 0, &plen);

    fakeJobInit(&job, fd);
    save->run(FJ(&job), params, plen);
    assert_int_equal(job.nfinish, 1);
    assert_int_equal(job.finished, FAKE_SUCCESS);
    assert_int_equal(job.resultlen, 0);

    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    free(params);
    params = fakeParams(NULL, NULL, NULL, 0, 0, &plen);
    fakeJobInit(&job, fd);
    restore->run(FJ(&job), params, plen);
    assert_int_equal(job.nfinish, 1);
    assert_int_equal(job.finished, FAKE_SUCCESS);
    fakeResultDef(&job, &back, sizeof(back), "os");     /* the image's XML has <os> */
    assert_memory_equal(&back, &def, sizeof(def));

    /* No descriptor. */
    fakeJobInit(&job, -1);
    restore->run(FJ(&job), params, plen);
    assert_int_equal(job.finished, FAKE_ERROR);
    assert_contains(job.message, "no descriptor for the save image");

    /* Bad parameters: short blob, bad def. */
    fakeJobInit(&job, fd);
    save->run(FJ(&job), params, 10);
    assert_int_equal(job.finished, FAKE_ERROR);
    assert_contains(job.message, "invalid test job parameters");
    free(params);
    def.vcpus = 0;
    params = fakeParams(&def, NULL, xmlText, 0, 0, &plen);
    fakeJobInit(&job, fd);
    save->run(FJ(&job), params, plen);
    assert_int_equal(job.finished, FAKE_ERROR);
    assert_contains(job.message, "invalid domain for the save image: vCPU count");
    free(params);

    /* A corrupt image fails the restore op with no result. */
    assert_int_equal(pwrite(fd, "X", 1, 0), 1);
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    params = fakeParams(NULL, NULL, NULL, 0, 0, &plen);
    fakeJobInit(&job, fd);
    restore->run(FJ(&job), params, plen);
    assert_int_equal(job.finished, FAKE_ERROR);
    assert_int_equal(job.resultlen, 0);
    assert_string_equal(job.message, "not a libvirtsup save image (bad magic)");
    free(params);
    close(fd);
    unlink(path);
}

static void test_cancel(void **state)
{
    (void)state;
    const virWorkerOp *save = virWorkerOpLookup(TEST_OP_DOMAIN_SAVE);
    const virWorkerOp *restore = virWorkerOpLookup(TEST_OP_DOMAIN_RESTORE);
    testDomainDef def;
    fakeJob job;
    char path[64];
    size_t plen;
    int fd = fakeTempFile(path);

    fakeDomainDef(&def, "saver", 8192, 1);
    void *params = fakeParams(&def, NULL, xmlText, 0, 0, &plen);
    fakeJobInit(&job, fd);
    job.cancelAtBytes = 3 << 20;
    save->run(FJ(&job), params, plen);
    assert_int_equal(job.nfinish, 1);
    assert_int_equal(job.finished, FAKE_CANCELLED);
    assert_true(job.done >= 3 << 20 && job.done < 5 << 20);

    /* A full image, then cancel its restore half way. */
    assert_int_equal(ftruncate(fd, 0), 0);
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    fakeJobInit(&job, fd);
    save->run(FJ(&job), params, plen);
    assert_int_equal(job.finished, FAKE_SUCCESS);
    free(params);
    params = fakeParams(NULL, NULL, NULL, 0, 0, &plen);
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    fakeJobInit(&job, fd);
    job.cancelAtBytes = 4 << 20;
    restore->run(FJ(&job), params, plen);
    assert_int_equal(job.finished, FAKE_CANCELLED);
    assert_int_equal(job.resultlen, 0);
    free(params);
    close(fd);
    unlink(path);
}

static void test_faults(void **state)
{
    (void)state;
    testDomainDef def, out;
    fakeJob job;
    char path[64];
    int fd = fakeTempFile(path);

    fakeDomainDef(&def, "saver", 8192, 1);
    def.nfaults = 3;
    def.faults[0] = (testFault){ TEST_FAULT_OP_SAVE | TEST_FAULT_OP_DUMP, 50, TEST_FAULT_SEGV, 0 };
    def.faults[1] = (testFault){ TEST_FAULT_OP_CREATE, 10, TEST_FAULT_ABORT, 0 };
    def.faults[2] = (testFault){ TEST_FAULT_OP_RESTORE, 0, TEST_FAULT_IGNORE_CANCEL, 0 };
    fakeJobInit(&job, fd);
    assert_int_equal(testSaveImageWrite(FJ(&job), fd, &def, xmlText, strlen(xmlText), 0), 0);
    /* The fake's fault returns: only the save fault fired, once, at 50%. */
    assert_int_equal(job.nfaults, 1);
    assert_string_equal(job.fault, "segv");
    assert_true(job.faultPercent >= 50 && job.faultPercent < 65);

    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    fakeJobInit(&job, fd);
    assert_int_equal(testSaveImageVerify(FJ(&job), fd, 0, &out, NULL), 0);
    assert_int_equal(job.nfaults, 1);
    assert_string_equal(job.fault, "ignore-cancel");
    /* at=0 fires right after the header, before any memory is read */
    assert_true(job.faultDone <= sizeof(testSaveHeader));
    close(fd);
    unlink(path);
}

/* The seed corpus: a valid 1 MiB image, a valid image with a zero run,
 * damaged ones (a zero run's record flipped, or too long), old versions. */
static void seedPath(char *buf, size_t len, const char *name)
{
    char src[] = __FILE__;
    snprintf(buf, len, "%s/fuzz/corpus/save-image/%s", dirname(src), name);
}

static void test_seed_corpus(void **state)
{
    (void)state;
    char seed[512], path[64];
    testDomainDef def, out;
    size_t len, seedLen;
    int fd = fakeTempFile(path);
    static const char seedXml[] =
        "<domain type='test'>\n  <name>seed</name>\n"
        "  <uuid>5eed5eed-0000-4000-8000-000000000001</uuid>\n"
        "  <memory unit='KiB'>1024</memory>\n  <vcpu>1</vcpu>\n"
        "  <os>\n    <type>hvm</type>\n  </os>\n</domain>\n";

    memset(&def, 0, sizeof(def));
    def.magic = TEST_DOMAIN_DEF_MAGIC;
    def.version = 1;
    strcpy(def.name, "seed");
    memcpy(def.uuid, "\x5e\xed\x5e\xed\x00\x00\x40\x00\x80\x00\x00\x00\x00\x00\x00\x01", 16);
    def.memory_kib = 1024;
    def.current_kib = 1024;
    def.vcpus = 1;
    strcpy(def.os_type, "hvm");
    assert_int_equal(testSaveImageWrite(scratchJob(), fd, &def, seedXml, strlen(seedXml), 0), 0);
    close(fd);
    uint8_t *fresh = fakeReadWhole(path, &len);
    unlink(path);

    /* The same domain with 4 MiB, 1 MiB current: a DATA run, a ZERO run. */
    static const char zeroXml[] =
        "<domain type='test'>\n  <name>seed</name>\n"
        "  <uuid>5eed5eed-0000-4000-8000-000000000001</uuid>\n"
        "  <memory unit='KiB'>4096</memory>\n"
        "  <currentMemory unit='KiB'>1024</currentMemory>\n  <vcpu>1</vcpu>\n"
        "  <os>\n    <type>hvm</type>\n  </os>\n</domain>\n";
    testDomainDef zdef = def;
    zdef.memory_kib = 4096;
    fd = fakeTempFile(path);
    assert_int_equal(testSaveImageWrite(scratchJob(), fd, &zdef, zeroXml, strlen(zeroXml), 0), 0);
    close(fd);
    size_t zlen;
    uint8_t *zfresh = fakeReadWhole(path, &zlen);
    unlink(path);
    /* 4 MiB, 3 MiB current, <test:memory data-bytes='2097153'/>: 513
     * pages of data, a ZERO run of the other 511. */
    static const char dataXml[] =
        "<domain type='test' xmlns:test='" TEST_XML_NS "'>\n  <name>seed</name>\n"
        "  <uuid>5eed5eed-0000-4000-8000-000000000001</uuid>\n"
        "  <memory unit='KiB'>4096</memory>\n"
        "  <currentMemory unit='KiB'>3072</currentMemory>\n  <vcpu>1</vcpu>\n"
        "  <os>\n    <type>hvm</type>\n  </os>\n"
        "  <test:memory data-bytes='2097153'/>\n</domain>\n";
    testDomainDef ddef = zdef;
    ddef.current_kib = 3072;
    ddef.data_bytes = (2 << 20) + 1;
    fd = fakeTempFile(path);
    assert_int_equal(testSaveImageWrite(scratchJob(), fd, &ddef, dataXml, strlen(dataXml), 0), 0);
    close(fd);
    size_t dlen;
    uint8_t *dfresh = fakeReadWhole(path, &dlen);
    unlink(path);
    assert_int_equal(dlen, sizeof(testSaveHeader) + strlen(dataXml) + 32 + 513 * 4096 + 32);

    size_t zeroRec = zlen - sizeof(testSaveRecord);
    testSaveRecord rec;
    uint8_t *damaged = malloc(zlen), *longRun = malloc(zlen);
    memcpy(damaged, zfresh, zlen);
    damaged[zeroRec + 17] ^= 0x01;                /* a byte of its page count */
    memcpy(longRun, zfresh, zlen);
    memcpy(&rec, longRun + zeroRec, sizeof(rec));
    rec.pages++;
    rec.check = testSaveRecordCheck(&rec);        /* a consistent record, too long */
    memcpy(longRun + zeroRec, &rec, sizeof(rec));

    if (getenv("VIRTSUP_REGEN_CORPUS")) {
        seedPath(seed, sizeof(seed), "valid-1mib.img");
        writeWhole(seed, fresh, len);
        seedPath(seed, sizeof(seed), "valid-zero-run.img");
        writeWhole(seed, zfresh, zlen);
        seedPath(seed, sizeof(seed), "valid-data-bytes.img");
        writeWhole(seed, dfresh, dlen);
        seedPath(seed, sizeof(seed), "zero-run-damaged.img");
        writeWhole(seed, damaged, zlen);
        seedPath(seed, sizeof(seed), "zero-run-too-long.img");
        writeWhole(seed, longRun, zlen);
        seedPath(seed, sizeof(seed), "bad-magic.img");
        writeWhole(seed, "LibvirtSupSave0\0 and then some bytes", 36);
        seedPath(seed, sizeof(seed), "header-only.img");
        writeWhole(seed, fresh, sizeof(testSaveHeader));
        seedPath(seed, sizeof(seed), "short.img");
        writeWhole(seed, fresh, 100);
    }
    /* The committed seeds are what this build writes, and they verify. */
    const struct { const char *name; const uint8_t *img; size_t len; const testDomainDef *def; }
    valid[] = {
        { "valid-1mib.img", fresh, len, &def },
        { "valid-zero-run.img", zfresh, zlen, &zdef },
        { "valid-data-bytes.img", dfresh, dlen, &ddef },
    };
    for (size_t i = 0; i < ARRAY_CARDINALITY(valid); i++) {
        seedPath(seed, sizeof(seed), valid[i].name);
        uint8_t *committed = fakeReadWhole(seed, &seedLen);
        assert_int_equal(seedLen, valid[i].len);
        assert_memory_equal(committed, valid[i].img, valid[i].len);
        fd = open(seed, O_RDONLY | O_CLOEXEC);
        assert_int_equal(testSaveImageVerify(scratchJob(), fd, 0, &out, NULL), 0);
        assert_memory_equal(&out, valid[i].def, sizeof(def));
        close(fd);
        free(committed);
    }
    free(fresh);
    free(zfresh);
    free(dfresh);
    free(damaged);
    free(longRun);

    /* The damaged seeds are rejected, each for its own reason. */
    char zmsg[2][160];
    snprintf(zmsg[0], sizeof(zmsg[0]), "save image run record at byte %zu is damaged: its check "
             "does not match its contents", zeroRec);
    snprintf(zmsg[1], sizeof(zmsg[1]), "save image run at byte %zu of 769 pages from page 256 "
             "does not fit the memory's 1024 pages", zeroRec);
    const struct { const char *name, *msg; } bad[] = {
        { "bad-magic.img", "not a libvirtsup save image (bad magic)" },
        { "header-only.img", "save image is truncated: expected" },
        { "short.img", "save image is truncated: header needs 328 bytes, file has 100" },
        { "version-2-start.img", "unsupported save image version 2 (this build reads version 5)" },
        { "version-3-start.img", "unsupported save image version 3 (this build reads version 5)" },
        { "version-4-start.img", "unsupported save image version 4 (this build reads version 5)" },
        { "zero-run-damaged.img", zmsg[0] },
        { "zero-run-too-long.img", zmsg[1] },
    };
    for (size_t i = 0; i < ARRAY_CARDINALITY(bad); i++) {
        seedPath(seed, sizeof(seed), bad[i].name);
        fd = open(seed, O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        virResetLastError();
        assert_int_equal(testSaveImageVerify(scratchJob(), fd, 0, &out, NULL), -1);
        if (!strstr(lastMessage(), bad[i].msg))
            fail_msg("%s: got '%s', wanted '%s'", bad[i].name, lastMessage(), bad[i].msg);
        close(fd);
    }
}

static double secondsSince(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Opt-in figures (VIRTSUP_TESTDRV_MEASURE=1): the save and restore of a
 * 256 MiB domain (its 64 MiB of data, the rest a zero run), and the share
 * of FNV-1a in them. Printed, never asserted. */
static void test_measure(void **state)
{
    (void)state;
    testDomainDef def, out;
    struct timespec t0;
    char path[64];
    int fd;

    if (!getenv("VIRTSUP_TESTDRV_MEASURE")) {
        skip();
        return;
    }
    fakeDomainDef(&def, "measured", 256 * 1024, 2);
    fd = fakeTempFile(path);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(testSaveImageWrite(scratchJob(), fd, &def, xmlText, strlen(xmlText), 0), 0);
    double save = secondsSince(&t0);
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(testSaveImageVerify(scratchJob(), fd, 0, &out, NULL), 0);
    double restore = secondsSince(&t0);
    close(fd);
    unlink(path);

    uint8_t *buf = malloc(1 << 20);
    double gen = 0, fnv = 0;
    testMemSum ms;
    testMemSumInit(&ms, TEST_FNV_INIT);
    for (int i = 0; i < 64; i++) {
        clock_gettime(CLOCK_MONOTONIC, &t0);
        testMemoryFill(def.uuid, (uint64_t)i << 20, buf, 1 << 20);
        gen += secondsSince(&t0);
        clock_gettime(CLOCK_MONOTONIC, &t0);
        testMemSumUpdate(&ms, buf, 1 << 20);
        fnv += secondsSince(&t0);
    }
    free(buf);
    printf("# 256 MiB, 64 MiB of data: save %.2f s (incl. fdatasync), restore %.2f s; "
           "of which page generation %.2f s, checksum %.2f s (%.0f%% of save) [%016llx]\n",
           save, restore, gen, fnv, 100 * fnv / save,
           (unsigned long long)testMemSumFinal(&ms, TEST_FNV_INIT));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_partial_page),
        cmocka_unit_test(test_memory_pass),
        cmocka_unit_test(test_shrunk_while_read),
        cmocka_unit_test(test_corruption),
        cmocka_unit_test(test_zero_runs),
        cmocka_unit_test(test_data_bytes),
        cmocka_unit_test(test_pipe),
        cmocka_unit_test(test_write_errors),
        cmocka_unit_test(test_ops),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_faults),
        cmocka_unit_test(test_seed_corpus),
        cmocka_unit_test(test_measure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
