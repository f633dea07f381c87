/*
 * save-worker.c: TEST_OP_DOMAIN_SAVE, writing a save image (format in
 * test-proto.h) to the descriptor the supervisor opened.
 *
 * The checksum is computed while the memory is written, and the header is
 * written twice: first with checksum 0 (so the file has its final layout
 * from the start), then again with pwrite at the image's first byte once
 * the checksum is known. The target must therefore be seekable; the
 * supervisor gives a regular file (the commit links it into place).
 */
#include <sys/stat.h>

#include "util/internal.h"
#undef VIR_FROM_THIS   /* unit tests include several of these files in one unit */
#define VIR_FROM_THIS VIR_FROM_TEST
#include "util/virerror.h"
#include "drivers/test/test-worker.h"

int testSaveImageWrite(virWorkerJobPtr job, int fd, const testDomainDef *def,
                       const char *xml, size_t xmllen, uint64_t rate_bps)
{
    testSaveHeader hdr;
    testFaultState faults;
    virJobIO io = { .buf = NULL };
    uint64_t mem = def->memory_kib * 1024;
    uint64_t h;
    off_t start;
    int rc = -1;

    if (xmllen == 0 || xmllen > TEST_XML_MAX || memchr(xml, '\0', xmllen)) {
        virReportError(VIR_ERR_INTERNAL_ERROR, "%s",
                       "domain XML for the save image is empty, too large or holds a NUL byte");
        return -1;
    }
    if ((start = lseek(fd, 0, SEEK_CUR)) < 0) {
        virReportSystemError(errno, "%s", "save image target is not seekable");
        return -1;
    }

    memset(&hdr, 0, sizeof(hdr));
    memcpy(hdr.magic, TEST_SAVE_MAGIC, sizeof(TEST_SAVE_MAGIC));
    hdr.version = TEST_SAVE_VERSION;
    hdr.header_len = sizeof(hdr);
    hdr.xml_len = xmllen;
    hdr.memory_bytes = mem;
    hdr.def = *def;

    if (virJobIOInit(&io, job, fd, "save image", sizeof(hdr) + xmllen + mem, rate_bps) < 0)
        return -1;
    virWorkerJobInitialize(job, rate_bps ? (unsigned int)(io.total / rate_bps) : 0);
    testFaultInit(&faults, def->faults, def->nfaults, TEST_FAULT_OP_SAVE);
    testFaultPoll(job, &faults, 0);

    virWorkerJobSetPhase(job, "writing header");
    if ((rc = virJobIOWrite(&io, &hdr, sizeof(hdr))) < 0 ||
        (rc = virJobIOWrite(&io, xml, xmllen)) < 0)
        goto cleanup;
    h = testFnv1a(TEST_FNV_INIT, &hdr.def, sizeof(hdr.def));
    h = testFnv1a(h, xml, xmllen);

    virWorkerJobSetPhase(job, "writing memory");
    for (uint64_t off = 0; off < mem;) {
        size_t n = mem - off < io.chunk ? (size_t)(mem - off) : io.chunk;
        testMemoryFill(def->uuid, off, io.buf, n);
        h = testFnv1aWords(h, io.buf, n);
        if ((rc = virJobIOWrite(&io, io.buf, n)) < 0)
            goto cleanup;
        off += n;
        testFaultPoll(job, &faults, virJobIOPercent(&io));
    }

    hdr.checksum = h;
    if ((rc = virJobIOPwrite(&io, &hdr, sizeof(hdr), (uint64_t)start)) < 0)
        goto cleanup;
    virWorkerJobSetPhase(job, "syncing");
    rc = virJobIOSync(&io);

 cleanup:
    virJobIOFree(&io);
    return rc;
}

static void testSaveRun(virWorkerJobPtr job, const void *params, size_t len)
{
    testJobParams p;
    const char *xml;
    int fd = testJobDomainTarget(job, params, len, &p, &xml, "save image");

    if (fd < 0) {
        virWorkerJobFinishError(job);
        return;
    }
    testJobEnd(job, testSaveImageWrite(job, fd, &p.dom, xml, p.xmllen,
                                       virJobIORateMin(p.bandwidth_bps, p.dom.rate_bps)));
}

VIR_WORKER_OP_REGISTER(testSaveOp, TEST_OP_DOMAIN_SAVE, testSaveRun);
