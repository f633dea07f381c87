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

static int checkHeader(const testSaveHeader *hdr, bool sized, uint64_t size)
{
    const char *why;
    uint64_t expected;

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
    expected = sizeof(*hdr) + hdr->xml_len + hdr->memory_bytes;
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
    expected = io.total = sizeof(hdr) + hdr.xml_len + hdr.memory_bytes;
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
    for (uint64_t off = 0; off < hdr.memory_bytes;) {
        size_t n = hdr.memory_bytes - off < io.chunk ? (size_t)(hdr.memory_bytes - off) : io.chunk;
        uint64_t bad;
        if ((rc = readAll(&io, io.buf, n, expected)) < 0)
            goto cleanup;
        rc = -1;
        /* One pass: each word compared with what it should be and summed. */
        bad = testMemoryVerifySum(hdr.def.uuid, off, io.buf, n, &sum);
        if (bad != UINT64_MAX) {
            CORRUPT("page %" PRIu64 " of save image differs from the domain's memory", bad);
            goto cleanup;
        }
        off += n;
        testFaultPoll(job, &faults, virWorkerIOPercent(&io));
    }

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
