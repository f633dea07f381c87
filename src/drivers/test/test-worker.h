/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-worker.h: the test driver's worker half, as pure functions the ops
 * in *-worker.c wrap (and tests/testdrv-*-test.c call directly).
 *
 * Worker only: single-threaded, may call worker/job.h. Each function that
 * can fail reports its error (virReportError) and returns -1; one that
 * saw a cancel request returns VIR_WORKER_IO_CANCELLED (-2) without reporting.
 * A @job may be anything the job.h calls accept (unit tests pass a fake).
 */
#pragma once

#include "drivers/test/test-shared.h"
#include "drivers/test/xml-shared.h"
#include "worker/job.h"
#include "worker/jobio.h"

/* --- test-worker.c: helpers shared by the ops --- */

/* Fires the faults of one op as the job's percent reaches each one's
 * `at`. A fired fault may not return (segv, abort, hang, exit, garbage). */
typedef struct testFaultState {
    testFault faults[TEST_FAULTS_MAX];
    uint32_t nfaults;
    uint32_t fired;      /* bit i: fault i fired */
} testFaultState;

void testFaultInit(testFaultState *s, const testFault *faults, uint32_t nfaults,
                   uint32_t op);
void testFaultPoll(virWorkerJobPtr job, testFaultState *s, unsigned int percent);

/* Copy and check the op's parameter blob into @p; *@xml points at the
 * trailing XML (p->xmllen bytes). Returns 0 or -1 (error reported). */
int testJobParamsGet(const void *params, size_t len, testJobParams *p,
                     const char **xml);

/* End a job from an op's return code: 0 success, -1 the reported error,
 * VIR_WORKER_IO_CANCELLED the cancellation. */
void testJobEnd(virWorkerJobPtr job, int rc);

/* Attach @def (@size bytes: a testDomainDef or testNetworkDef) followed
 * by the records of @keep (NULL: none) as the job's result, the layout
 * the library's result check reads. Returns 0, or -1 with an error
 * reported. */
int testJobSetDefResult(virWorkerJobPtr job, const void *def, size_t size,
                        const virXMLKeep *keep);

/* The descriptor @name of the op's profile (TEST_FD_*), or -1 with an
 * error reported naming @what. */
int testJobResourceFD(virWorkerJobPtr job, const char *name, const char *what);

/* For an op that writes @what ("save image") of the domain its parameters
 * carry: the parameters (checked, def included) and its TEST_FD_OUTPUT.
 * Returns the descriptor, or -1 with an error reported. */
int testJobDomainTarget(virWorkerJobPtr job, const void *params, size_t len,
                        testJobParams *p, const char **xml, const char *what);

/* --- save-worker.c / restore-worker.c --- */

/* Write a save image of @def with @xml to @fd, which must be seekable:
 * header (checksum 0), XML, the memory as runs (a DATA run of the pages
 * that carry data, a ZERO run of the rest: testSaveImageSize bytes in
 * all, which progress and @rate_bps count); the checksum is computed while
 * writing and the header rewritten with pwrite at the image's first byte;
 * then fdatasync. @rate_bps 0: unpaced. */
int testSaveImageWrite(virWorkerJobPtr job, int fd, const testDomainDef *def,
                       const char *xml, size_t xmllen, uint64_t rate_bps);

/* Read and verify a whole save image from @fd (header, lengths, size,
 * def, XML, each run's record, every page of data, zero runs over zero
 * memory only, checksum; progress by bytes of the file). On success fills @out and, unless
 * @keep is NULL, @keep with the kept elements of the image's XML (parsed
 * again: it is what GetXMLDesc wrote). */
int testSaveImageVerify(virWorkerJobPtr job, int fd, uint64_t rate_bps, testDomainDef *out,
                        virXMLKeep *keep);

/* --- dump-worker.c --- */

typedef struct testMemRange {
    uint64_t paddr;      /* guest physical address */
    uint64_t offset;     /* byte offset in the domain's linear memory */
    uint64_t size;
} testMemRange;
#define TEST_MEM_RANGES_MAX 3

/* How a guest of @memory_bytes lays its RAM out, as x86 firmware does:
 * [0, 640 KiB), then from 1 MiB up to 3 GiB, then from 4 GiB. At least
 * two ranges (memory is at least 1 MiB). Returns the count. */
size_t testMemRanges(uint64_t memory_bytes, testMemRange ranges[TEST_MEM_RANGES_MAX]);

/* Write an ELF64 x86-64 core of @def to @fd: one PT_NOTE (NT_PRPSINFO,
 * one NT_PRSTATUS per vCPU), one PT_LOAD per memory range, whose p_filesz
 * is its part of the data (testMemoryTouched) and p_memsz the whole range
 * (the zero tail is not written; progress and @rate_bps count what is);
 * fdatasync. */
int testElfCoreWrite(virWorkerJobPtr job, int fd, const testDomainDef *def,
                     unsigned int flags, uint64_t rate_bps);

/* --- xml-worker.c: the define ops; the grammar is xml-shared.h's --- */

/* --- boot-worker.c --- */

/* "Boot" in stages with progress, cancel and TEST_FAULT_OP_CREATE faults. */
int testDomainBoot(virWorkerJobPtr job, const testDomainDef *def, uint64_t rate_bps);
int testNetworkBoot(virWorkerJobPtr job, const testNetworkDef *def, uint64_t rate_bps);
