/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * restore-worker.c: TEST_OP_DOMAIN_RESTORE, reading and verifying a whole
 * save image (format in test-proto.h) before the supervisor recreates the
 * domain from the def it holds. Every check names what is wrong, so an
 * operator can tell a truncated copy from a foreign or damaged file.
 */
#include <inttypes.h>
#include <sys/stat.h>

#include "util/internal.h"
#undef VIR_FROM_THIS   /* unit tests include several of these files in one unit */
#define VIR_FROM_THIS VIR_FROM_TEST
#include "util/virerror.h"
#include "drivers/test/test-worker.h"

#define CORRUPT(...) virReportError(VIR_ERR_OPERATION_FAILED, __VA_ARGS__)

/* Bytes of memory read and checked at a time: the first 128 KiB of the
 * I/O buffer, used again and again, so a small image does not fault in
 * the whole fresh 1 MiB buffer (256 page faults: 0.6 ms against 0.3 ms
 * for a 1 MiB image here) and what was just read is still in the
 * cache when it is checked. The disk does not see it: read-ahead runs
 * 8 MiB ahead whatever the size of the reads (worker/jobio.h). */
#define RESTORE_STEP (128 * 1024)

static int checkHeader(const testSaveHeader *hdr, bool sized, uint64_t size)
{
    const char *why;
    uint64_t expected, runsMax;

    if (memcmp(hdr->magic, TEST_SAVE_MAGIC, sizeof(TEST_SAVE_MAGIC)) != 0 ||
        !memchr(hdr->magic, '\0', sizeof(hdr->magic))) {
        CORRUPT("%s", "not a libvirtsup save image (bad magic)");
        return -1;
    }
    if (hdr->version != TEST_SAVE_VERSION) {
        CORRUPT("unsupported save image version %u (this build reads version %u)",
                hdr->version, TEST_SAVE_VERSION);
        return -1;
    }
    if (hdr->header_len != sizeof(*hdr)) {
        CORRUPT("save image header length %u is wrong (expected %zu)",
                hdr->header_len, sizeof(*hdr));
        return -1;
    }
    if (hdr->xml_len == 0 || hdr->xml_len > TEST_XML_MAX) {
        CORRUPT("save image XML length %" PRIu64 " is out of range (1 to %d)",
                hdr->xml_len, TEST_XML_MAX);
        return -1;
    }
    if (testDomainDefCheck(&hdr->def, &why) < 0) {
        CORRUPT("save image holds an invalid domain definition: %s", why);
        return -1;
    }
    if (hdr->memory_bytes != hdr->def.memory_kib * 1024) {
        CORRUPT("save image memory size %" PRIu64 " does not match the domain's memory "
                "(%" PRIu64 " bytes)", hdr->memory_bytes, hdr->def.memory_kib * 1024);
        return -1;
    }
    /* At most every page as a one-page DATA run. */
    runsMax = hdr->memory_bytes + (hdr->memory_bytes + TEST_PAGE_SIZE - 1) / TEST_PAGE_SIZE *
              sizeof(testSaveRecord);
    if (hdr->records_len < sizeof(testSaveRecord) || hdr->records_len > runsMax) {
        CORRUPT("save image memory runs length %" PRIu64 " is out of range (%zu to %" PRIu64
                ")", hdr->records_len, sizeof(testSaveRecord), runsMax);
        return -1;
    }
    expected = sizeof(*hdr) + hdr->xml_len + hdr->records_len;
    if (sized && size < expected) {
        CORRUPT("save image is truncated: expected %" PRIu64 " bytes, file has %" PRIu64,
                expected, size);
        return -1;
    }
    if (sized && size > expected) {
        CORRUPT("save image has %" PRIu64 " bytes of trailing data after the expected %"
                PRIu64, size - expected, expected);
        return -1;
    }
    return 0;
}

/* Read exactly @len bytes, or report the image truncated. */
static int readAll(virWorkerIO *io, void *buf, size_t len, uint64_t expected)
{
    size_t got;
    int rc = virWorkerIORead(io, buf, len, &got);

    if (rc < 0)
        return rc;
    if (got < len) {
        CORRUPT("save image is truncated: expected %" PRIu64 " bytes, file has %" PRIu64,
                expected, io->done);
        return -1;
    }
    return 0;
}

/* @len bytes at @buf read from an image, that should be zero memory
 * from @offset (a page boundary): summed into @s; returns the index of
 * the first page that is not zero, or UINT64_MAX. */
static uint64_t zeroVerifySum(uint64_t offset, const uint8_t *buf, size_t len, testMemSum *s)
{
    uint64_t bad = UINT64_MAX;

    for (size_t i = 0; i < len && bad == UINT64_MAX; i += TEST_PAGE_SIZE) {
        size_t n = len - i < TEST_PAGE_SIZE ? len - i : TEST_PAGE_SIZE;
        uint64_t acc = 0, w;
        for (size_t j = 0; j + 8 <= n; j += 8) {
            memcpy(&w, buf + i + j, 8);
            acc |= w;
        }
        if (acc)
            bad = (offset + i) / TEST_PAGE_SIZE;
    }
    testMemSumUpdate(s, buf, len);
    return bad;
}

/* The runs (test-proto.h): each record checked where it lies, its pages
 * against the domain's memory (data below testMemoryTouched, zero above),
 * all of it summed in order into @sum. Errors name the file offset. */
static int verifyRuns(virWorkerJobPtr job, virWorkerIO *io, const testSaveHeader *hdr,
                      uint64_t expected, testFaultState *faults, testMemSum *sum)
{
    const uint64_t mem = hdr->memory_bytes;
    const uint64_t pages = (mem + TEST_PAGE_SIZE - 1) / TEST_PAGE_SIZE;
    const uint64_t touched = testMemoryTouched(&hdr->def);
    const uint64_t dataPages = (touched + TEST_PAGE_SIZE - 1) / TEST_PAGE_SIZE;
    const uint64_t end = sizeof(*hdr) + hdr->xml_len + hdr->records_len;
    const size_t step = io->chunk < RESTORE_STEP ? io->chunk : RESTORE_STEP;
    uint64_t at = sizeof(*hdr) + hdr->xml_len, next = 0;
    int rc;

    while (next < pages) {
        testSaveRecord r;
        const char *what = NULL;

        if (end - at < sizeof(r)) {
            CORRUPT("save image memory runs end at byte %" PRIu64 " before the memory does "
                    "(page %" PRIu64 " of %" PRIu64 " has no run)", end, next, pages);
            return -1;
        }
        if ((rc = readAll(io, &r, sizeof(r), expected)) < 0)
            return rc;
        if (r.magic != TEST_SAVE_RECORD_MAGIC)
            what = "bad record magic";
        else if (r.check != testSaveRecordCheck(&r))
            what = "its check does not match its contents";
        else if (r.type != TEST_SAVE_RUN_DATA && r.type != TEST_SAVE_RUN_ZERO)
            what = "unknown run type";
        if (what) {
            CORRUPT("save image run record at byte %" PRIu64 " is damaged: %s", at, what);
            return -1;
        }
        if (r.page != next) {
            CORRUPT("save image run at byte %" PRIu64 " starts at page %" PRIu64
                    ", the run before it ended at page %" PRIu64, at, r.page, next);
            return -1;
        }
        if (r.pages == 0 || r.pages > pages - next) {
            CORRUPT("save image run at byte %" PRIu64 " of %" PRIu64 " pages from page %"
                    PRIu64 " does not fit the memory's %" PRIu64 " pages", at, r.pages,
                    r.page, pages);
            return -1;
        }
        testMemSumUpdate(sum, &r, sizeof(r));
        if (r.type == TEST_SAVE_RUN_ZERO && r.page < dataPages) {
            CORRUPT("save image zero run at byte %" PRIu64 " covers page %" PRIu64
                    " (memory offset %" PRIu64 "), which holds data in the domain's memory",
                    at, r.page, r.page * TEST_PAGE_SIZE);
            return -1;
        }
        at += sizeof(r);
        if (r.type == TEST_SAVE_RUN_DATA) {
            uint64_t off = r.page * TEST_PAGE_SIZE;
            uint64_t stop = (r.page + r.pages) * TEST_PAGE_SIZE < mem ?
                            (r.page + r.pages) * TEST_PAGE_SIZE : mem;
            if (end - at < stop - off) {
                CORRUPT("save image data run at byte %" PRIu64 " needs %" PRIu64
                        " bytes, the memory runs end at byte %" PRIu64,
                        at - sizeof(r), stop - off, end);
                return -1;
            }
            while (off < stop) {
                size_t n = stop - off < step ? (size_t)(stop - off) : step;
                size_t below = off < touched ? (touched - off < n ? (size_t)(touched - off) : n) : 0;
                uint64_t bad = UINT64_MAX;
                if ((rc = readAll(io, io->buf, n, expected)) < 0)
                    return rc;
                /* One pass: each word compared with what it should be and summed. */
                if (below)
                    bad = testMemoryVerifySum(hdr->def.uuid, off, io->buf, below, sum);
                if (n > below) {
                    uint64_t zbad = zeroVerifySum(off + below, io->buf + below, n - below, sum);
                    if (bad == UINT64_MAX)
                        bad = zbad;
                }
                if (bad != UINT64_MAX) {
                    CORRUPT("page %" PRIu64 " of save image (memory offset %" PRIu64
                            ", at byte %" PRIu64 ") differs from the domain's memory",
                            bad, bad * TEST_PAGE_SIZE, at + (bad * TEST_PAGE_SIZE - off));
                    return -1;
                }
                at += n;
                off += n;
                testFaultPoll(job, faults, virWorkerIOPercent(io));
            }
        }
        next += r.pages;
        testFaultPoll(job, faults, virWorkerIOPercent(io));
    }
    if (at != end) {
        CORRUPT("save image has %" PRIu64 " bytes after its last memory run (byte %" PRIu64
                "), within the runs length the header gives", end - at, at);
        return -1;
    }
    return 0;
}

int testSaveImageVerify(virWorkerJobPtr job, int fd, uint64_t rate_bps, testDomainDef *out,
                        virXMLKeep *keep)
{
    testSaveHeader hdr;
    testFaultState faults;
    virWorkerIO io = { .buf = NULL };
    VIR_AUTOFREE(char *) xml = NULL;
    struct stat sb;
    bool sized;
    uint64_t expected, h;
    testMemSum sum;
    size_t got;
    uint8_t extra;
    int rc = -1;

    if (fstat(fd, &sb) < 0) {
        virReportSystemError(errno, "%s", "cannot stat save image");
        return -1;
    }
    sized = S_ISREG(sb.st_mode);
    if (virWorkerIOInit(&io, job, fd, "save image", sized ? (uint64_t)sb.st_size : 0, rate_bps) < 0)
        return -1;
    virWorkerJobInitialize(job, rate_bps && sized ? (unsigned int)(io.total / rate_bps) : 0);

    virWorkerJobSetPhase(job, "reading header");
    memset(&hdr, 0, sizeof(hdr));
    if ((rc = virWorkerIORead(&io, &hdr, sizeof(hdr), &got)) < 0)
        goto cleanup;
    rc = -1;
    if (got == 0) {
        CORRUPT("%s", "save image is empty");
        goto cleanup;
    }
    if (got < sizeof(hdr)) {
        /* Say "not a save image" rather than "truncated" for a short foreign file. */
        if (got < sizeof(hdr.magic) ||
            memcmp(hdr.magic, TEST_SAVE_MAGIC, sizeof(TEST_SAVE_MAGIC)) != 0)
            CORRUPT("%s", "not a libvirtsup save image (bad magic)");
        else
            CORRUPT("save image is truncated: header needs %zu bytes, file has %zu",
                    sizeof(hdr), got);
        goto cleanup;
    }
    if (checkHeader(&hdr, sized, io.total) < 0)
        goto cleanup;
    expected = io.total = sizeof(hdr) + hdr.xml_len + hdr.records_len;
    virWorkerIOSetRate(&io, virWorkerIORateMin(rate_bps, hdr.def.rate_bps));
    testFaultInit(&faults, hdr.def.faults, hdr.def.nfaults, TEST_FAULT_OP_RESTORE);
    testFaultPoll(job, &faults, 0);

    virWorkerJobSetPhase(job, "reading domain XML");
    if (!(xml = malloc(hdr.xml_len))) {
        virReportOOMError();
        goto cleanup;
    }
    if ((rc = readAll(&io, xml, hdr.xml_len, expected)) < 0)
        goto cleanup;
    rc = -1;
    if (memchr(xml, '\0', hdr.xml_len)) {
        CORRUPT("%s", "save image XML holds a NUL byte");
        goto cleanup;
    }
    h = testFnv1a(TEST_FNV_INIT, &hdr.def, sizeof(hdr.def));
    h = testFnv1a(h, xml, hdr.xml_len);
    testMemSumInit(&sum, h);

    virWorkerJobSetPhase(job, "verifying memory");
    if ((rc = verifyRuns(job, &io, &hdr, expected, &faults, &sum)) < 0)
        goto cleanup;
    rc = -1;

    /* A file that grew while we read, or a pipe, may hold more. */
    if ((rc = virWorkerIORead(&io, &extra, 1, &got)) < 0)
        goto cleanup;
    rc = -1;
    if (got) {
        CORRUPT("save image has trailing data after the expected %" PRIu64 " bytes", expected);
        goto cleanup;
    }
    h = testMemSumFinal(&sum, h);
    if (h != hdr.checksum) {
        CORRUPT("save image checksum mismatch (header says %016" PRIx64
                ", contents give %016" PRIx64 ")", hdr.checksum, h);
        goto cleanup;
    }
    if (keep) {
        /* The elements kept without interpretation are in the XML only. */
        testDomainDef parsed;
        if (testDomainParseXML(xml, hdr.xml_len, &parsed, keep) < 0) {
            virErrorPtr e = virGetLastError();
            CORRUPT("save image holds invalid domain XML: %s", e && e->message ? e->message : "?");
            goto cleanup;
        }
        if (STRNEQ(parsed.name, hdr.def.name) || memcmp(parsed.uuid, hdr.def.uuid, 16)) {
            CORRUPT("save image's domain XML names another domain ('%s') than its header ('%s')",
                    parsed.name, hdr.def.name);
            goto cleanup;
        }
    }
    *out = hdr.def;
    rc = 0;

 cleanup:
    virWorkerIOFree(&io);
    return rc;
}

static void testRestoreRun(virWorkerJobPtr job, const void *params, size_t len)
{
    testJobParams p;
    testDomainDef def;
    const char *xml;
    virXMLKeep keep = VIR_XML_KEEP_INIT;
    int fd, rc;

    if (testJobParamsGet(params, len, &p, &xml) < 0 ||
        (fd = testJobResourceFD(job, TEST_FD_IMAGE, "save image")) < 0) {
        virWorkerJobFinishError(job);
        return;
    }
    /* Paced by the connection's cap, then also by the image's own
     * <test:rate> once its header is read. */
    rc = testSaveImageVerify(job, fd, p.bandwidth_bps, &def, &keep);
    if (rc == 0 && testJobSetDefResult(job, &def, sizeof(def), &keep) < 0)
        rc = -1;
    virXMLKeepClear(&keep);
    testJobEnd(job, rc);
}

VIR_WORKER_OP_REGISTER(testRestoreOp, TEST_OP_DOMAIN_RESTORE, testRestoreRun);
