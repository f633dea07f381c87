/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * save-worker.c: TEST_OP_DOMAIN_SAVE, writing a save image (format in
 * test-proto.h) to the descriptor the supervisor opened.
 *
 * One pass: the image is built in the I/O buffer a chunk at a time, each
 * chunk (SAVE_STEP, less when paced) at a file offset that is a multiple
 * of its size, its memory generated and summed in the same loop
 * (testMemoryFillSum), then written; the writes start their own writeback as they go (jobio.c)
 * so the final fdatasync has little left to do. The memory goes as two
 * runs, laid out before the first byte is written: a DATA run of the
 * pages that carry data (testMemoryTouched), then a ZERO run of the rest,
 * a record alone, so an idle 8 GiB guest costs its data. The header goes
 * out first with checksum 0 (the file has its final layout from the
 * start) and is rewritten with pwrite once the checksum is known; the
 * target must therefore be seekable (the supervisor gives a regular file,
 * which the commit links into place).
 */
#include <sys/stat.h>

#include "util/internal.h"
#undef VIR_FROM_THIS   /* unit tests include several of these files in one unit */
#define VIR_FROM_THIS VIR_FROM_TEST
#include "util/virerror.h"
#include "drivers/test/test-worker.h"

/* Bytes built and written at a time: the first 128 KiB of the I/O
 * buffer, used again and again, so a small image does not fault in the
 * whole fresh 1 MiB buffer, and each chunk is still in the cache when
 * write() copies it. The writeback still goes in 1 MiB steps and at most
 * 8 MiB behind (worker/jobio.h). */
#define SAVE_STEP (128 * 1024)

/* Bytes [@from, @from + @n) of the memory's data, which ends at @mem,
 * into @out (any offsets: a chunk of the file is not page-aligned in
 * memory). The checksum's sum @s goes over every page once and in order:
 * a page that straddles two chunks is summed whole when its first part is
 * written (*@summed, the memory offset summed up to, moves past it) and
 * only copied for its second part. */
static void memorySlice(const testDomainDef *def, uint64_t mem, uint64_t from, size_t n,
                        uint8_t *out, testMemSum *s, uint64_t *summed)
{
    uint8_t page[TEST_PAGE_SIZE];

    while (n > 0) {
        uint64_t pstart = from - from % TEST_PAGE_SIZE;
        size_t plen = mem - pstart < TEST_PAGE_SIZE ? (size_t)(mem - pstart) : TEST_PAGE_SIZE;
        size_t skip = (size_t)(from - pstart);
        size_t take = plen - skip < n ? plen - skip : n;

        if (skip == 0 && take == TEST_PAGE_SIZE && pstart >= *summed) {
            /* Whole pages in place: as many as fit. */
            size_t whole = n - n % TEST_PAGE_SIZE;
            if (whole > mem - pstart)
                whole = (size_t)((mem - pstart) - (mem - pstart) % TEST_PAGE_SIZE);
            testMemoryFillSum(def->uuid, pstart, out, whole, s);
            *summed = pstart + whole;
            take = whole;
        } else {
            /* A page cut by the chunk's start or end (or the last, short page). */
            if (pstart >= *summed) {
                testMemoryFillSum(def->uuid, pstart, page, plen, s);
                *summed = pstart + plen;
            } else {
                testMemoryFill(def->uuid, pstart, page, plen);
            }
            memcpy(out, page + skip, take);
        }
        out += take;
        from += take;
        n -= take;
    }
}

/* The runs of the image: a DATA record, the data, a ZERO record (when
 * the memory does not end with the data). Offsets are from the first
 * byte of the runs. */
typedef struct saveRuns {
    testSaveRecord rec[2];
    uint64_t recAt[2];      /* offset of each record */
    bool recSummed[2];
    size_t nrec;
    uint64_t touched;       /* bytes of data, after rec[0] */
    uint64_t summed;        /* memory offset summed up to (memorySlice) */
} saveRuns;

static void runsInit(saveRuns *r, const testDomainDef *def)
{
    uint64_t mem = def->memory_kib * 1024;
    uint64_t pages = (mem + TEST_PAGE_SIZE - 1) / TEST_PAGE_SIZE;
    uint64_t dataPages;

    memset(r, 0, sizeof(*r));
    r->touched = testMemoryTouched(def);
    dataPages = (r->touched + TEST_PAGE_SIZE - 1) / TEST_PAGE_SIZE;
    testSaveRecordMake(&r->rec[0], TEST_SAVE_RUN_DATA, 0, dataPages);
    r->nrec = 1;
    if (dataPages < pages) {
        testSaveRecordMake(&r->rec[1], TEST_SAVE_RUN_ZERO, dataPages, pages - dataPages);
        r->recAt[1] = sizeof(testSaveRecord) + r->touched;
        r->nrec = 2;
    }
}

/* Bytes [@from, @from + @n) of the runs into @out, each record summed
 * whole where its first byte is, the data by memorySlice: the sum goes
 * over the runs once and in order, whatever the chunks' boundaries. */
static void runsSlice(saveRuns *r, const testDomainDef *def, uint64_t from, size_t n,
                      uint8_t *out, testMemSum *s)
{
    const uint64_t dataAt = sizeof(testSaveRecord), dataEnd = dataAt + r->touched;

    while (n > 0) {
        size_t take;
        if (from >= dataAt && from < dataEnd) {
            take = dataEnd - from < n ? (size_t)(dataEnd - from) : n;
            memorySlice(def, r->touched, from - dataAt, take, out, s, &r->summed);
        } else {
            size_t i = from < dataAt ? 0 : 1;
            uint64_t at = from - r->recAt[i];
            take = sizeof(testSaveRecord) - at < n ? (size_t)(sizeof(testSaveRecord) - at) : n;
            if (!r->recSummed[i]) {
                testMemSumUpdate(s, &r->rec[i], sizeof(r->rec[i]));
                r->recSummed[i] = true;
            }
            memcpy(out, (const uint8_t *)&r->rec[i] + at, take);
        }
        out += take;
        from += take;
        n -= take;
    }
}

int testSaveImageWrite(virWorkerJobPtr job, int fd, const testDomainDef *def,
                       const char *xml, size_t xmllen, uint64_t rate_bps)
{
    testSaveHeader hdr;
    testFaultState faults;
    virWorkerIO io = { .buf = NULL };
    saveRuns runs;
    uint64_t head;
    testMemSum sum;
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

    runsInit(&runs, def);
    memset(&hdr, 0, sizeof(hdr));
    memcpy(hdr.magic, TEST_SAVE_MAGIC, sizeof(TEST_SAVE_MAGIC));
    hdr.version = TEST_SAVE_VERSION;
    hdr.header_len = sizeof(hdr);
    hdr.xml_len = xmllen;
    hdr.memory_bytes = def->memory_kib * 1024;
    hdr.records_len = testSaveRecordsLen(def);
    hdr.def = *def;
    head = sizeof(hdr) + xmllen;

    /* Progress and pacing count the bytes written: a ZERO run costs its
     * record, not the memory it stands for. */
    if (virWorkerIOInit(&io, job, fd, "save image", head + hdr.records_len, rate_bps) < 0)
        return -1;
    virWorkerJobInitialize(job, rate_bps ? (unsigned int)(io.total / rate_bps) : 0);
    testFaultInit(&faults, def->faults, def->nfaults, TEST_FAULT_OP_SAVE);
    testFaultPoll(job, &faults, 0);

    uint64_t h = testFnv1a(TEST_FNV_INIT, &hdr.def, sizeof(hdr.def));
    h = testFnv1a(h, xml, xmllen);
    testMemSumInit(&sum, h);
    virWorkerJobSetPhase(job, "writing header");
    /* Chunk by chunk: [header | XML | runs ...], each written whole at
     * its own multiple of the chunk size. A chunk is at most SAVE_STEP. */
    const size_t step = io.chunk < SAVE_STEP ? io.chunk : SAVE_STEP;
    for (uint64_t off = 0; off < io.total;) {
        size_t n = io.total - off < step ? (size_t)(io.total - off) : step;
        size_t fill = 0;
        if (off < sizeof(hdr)) {
            size_t k = sizeof(hdr) - off < n ? (size_t)(sizeof(hdr) - off) : n;
            memcpy(io.buf, (const char *)&hdr + off, k);
            fill = k;
        }
        if (fill < n && off + fill < head) {
            uint64_t x = off + fill - sizeof(hdr);
            size_t k = xmllen - x < n - fill ? (size_t)(xmllen - x) : n - fill;
            memcpy(io.buf + fill, xml + x, k);
            fill += k;
        }
        if (fill < n) {
            if (off + fill == head)
                virWorkerJobSetPhase(job, "writing memory");
            runsSlice(&runs, def, off + fill - head, n - fill, io.buf + fill, &sum);
        }
        if ((rc = virWorkerIOWrite(&io, io.buf, n)) < 0)
            goto cleanup;
        off += n;
        testFaultPoll(job, &faults, virWorkerIOPercent(&io));
    }

    hdr.checksum = testMemSumFinal(&sum, h);
    if ((rc = virWorkerIOPwrite(&io, &hdr, sizeof(hdr), (uint64_t)start)) < 0)
        goto cleanup;
    virWorkerJobSetPhase(job, "syncing");
    rc = virWorkerIOSync(&io);

 cleanup:
    virWorkerIOFree(&io);
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
                                       virWorkerIORateMin(p.bandwidth_bps, p.dom.rate_bps)));
}

VIR_WORKER_OP_REGISTER(testSaveOp, TEST_OP_DOMAIN_SAVE, testSaveRun);
