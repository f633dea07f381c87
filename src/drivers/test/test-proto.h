/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-proto.h: what passes between the test driver's two halves: the
 * library side (test_driver.c, trusted, in the client) and the worker side
 * (*-worker.c, in virtsup-worker). Fixed-size little-endian records, so the
 * supervisor can check a worker's result without any parser: a worker that
 * was fed hostile XML may be compromised, and what it sends back is
 * untrusted (testDomainDefCheck/testNetworkDefCheck are that check).
 *
 * Included by both halves; includes nothing of supervisor/ or worker/.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TEST_NAME_MAX     64     /* bytes with NUL; [A-Za-z0-9_.-]+, not starting with '.' */
#define TEST_FAULTS_MAX   8
#define TEST_MEMORY_MIN_KIB  (1024ull)               /* 1 MiB */
#define TEST_MEMORY_MAX_KIB  (64ull * 1024 * 1024)   /* 64 GiB */
#define TEST_VCPUS_MAX    256
#define TEST_XML_MAX      (256 * 1024)               /* bytes of XML accepted */
/* The test namespace of the XML (<test:fault>, <test:rate>, <test:memory>). */
#define TEST_XML_NS "http://libvirtsup.org/schemas/test/1.0"

/* The descriptors of the ops' profiles (virWorkerJobFD): save and dump
 * write "output" (an unnamed file the library opened), restore reads
 * "image". Every other op gets none. */
#define TEST_FD_OUTPUT "output"
#define TEST_FD_IMAGE  "image"

/* Op names, shared by virSupOp (library) and VIR_WORKER_OP_REGISTER (worker). */
#define TEST_OP_DOMAIN_DEFINE   "test.domain.define"   /* parse+validate domain XML */
#define TEST_OP_DOMAIN_CREATE   "test.domain.create"   /* parse, validate, boot (CreateXML/CreateLinux) */
#define TEST_OP_DOMAIN_START    "test.domain.start"    /* boot a defined domain (virDomainCreate) */
#define TEST_OP_DOMAIN_SAVE     "test.domain.save"
#define TEST_OP_DOMAIN_RESTORE  "test.domain.restore"
#define TEST_OP_DOMAIN_DUMP     "test.domain.dump"
#define TEST_OP_NETWORK_DEFINE  "test.network.define"
#define TEST_OP_NETWORK_CREATE  "test.network.create"  /* parse, validate, start (CreateXML) */
#define TEST_OP_NETWORK_START   "test.network.start"   /* start a defined network */

typedef enum {
    TEST_FAULT_OP_SAVE = 1 << 0,
    TEST_FAULT_OP_RESTORE = 1 << 1,
    TEST_FAULT_OP_DUMP = 1 << 2,
    TEST_FAULT_OP_CREATE = 1 << 3,   /* create, start, network create/start */
} testFaultOp;

typedef enum {
    TEST_FAULT_NONE = 0,
    TEST_FAULT_SEGV,
    TEST_FAULT_ABORT,
    TEST_FAULT_HANG,
    TEST_FAULT_IGNORE_CANCEL,
    TEST_FAULT_EXIT,
    TEST_FAULT_GARBAGE,
    TEST_FAULT_LAST
} testFaultAction;

/* <test:fault op='save' at='50' action='segv'/> */
typedef struct testFault {
    uint32_t ops;      /* testFaultOp mask */
    uint32_t at;       /* percent 0..100 at which to act */
    uint32_t action;   /* testFaultAction */
    uint32_t reserved;
} testFault;

/* A domain definition, canonical. XML is generated from it, never kept raw
 * (the elements the driver keeps without interpreting them travel beside
 * it as checked records: util/virxmlkeep.h). */
typedef struct testDomainDef {
    uint32_t magic;                 /* TEST_DOMAIN_DEF_MAGIC */
    uint32_t version;               /* 1 */
    char     name[TEST_NAME_MAX];
    uint8_t  uuid[16];
    uint64_t memory_kib;            /* TEST_MEMORY_MIN_KIB .. MAX */
    uint64_t current_kib;           /* <currentMemory>: TEST_MEMORY_MIN_KIB .. memory_kib */
    uint32_t vcpus;                 /* 1 .. TEST_VCPUS_MAX */
    uint32_t nfaults;               /* 0 .. TEST_FAULTS_MAX */
    testFault faults[TEST_FAULTS_MAX];
    uint64_t rate_bps;              /* <test:rate bytes-per-second='N'/>; 0: unpaced */
    char     os_type[16];           /* "hvm" or "linux" */
    uint64_t data_bytes;            /* <test:memory data-bytes='N'/>: bytes at the start of
                                     * memory that carry data, 1 .. current_kib * 1024;
                                     * 0: the default (testMemoryTouched) */
} testDomainDef;
#define TEST_DOMAIN_DEF_MAGIC 0x44545356u /* "VSTD" */

typedef struct testNetworkDef {
    uint32_t magic;                 /* TEST_NETWORK_DEF_MAGIC */
    uint32_t version;               /* 1 */
    char     name[TEST_NAME_MAX];
    uint8_t  uuid[16];
    char     bridge[16];            /* interface name, may be empty */
    uint32_t ipv4;                  /* host order; 0: none */
    uint32_t prefix;                /* 0..32 */
    char     forward[16];           /* "", "nat", "route", "isolated" */
    uint32_t nfaults;
    uint32_t reserved;
    testFault faults[TEST_FAULTS_MAX];
    uint64_t rate_bps;
} testNetworkDef;
#define TEST_NETWORK_DEF_MAGIC 0x4e545356u /* "VSTN" */

/* Parameters of each op (the virSupJobCreate blob). */
typedef struct testJobParams {
    uint32_t magic;                 /* TEST_JOB_PARAMS_MAGIC */
    uint32_t version;               /* 1 */
    uint32_t flags;                 /* op flags (VIR_DUMP_*) */
    uint32_t xmllen;                /* bytes of XML following this struct (define/create ops) */
    uint64_t bandwidth_bps;         /* connection's cap; 0: none */
    testDomainDef dom;              /* save, dump, start: the domain */
    testNetworkDef net;             /* network start: the network */
    /* followed by xmllen bytes of XML, not NUL-terminated */
} testJobParams;
#define TEST_JOB_PARAMS_MAGIC 0x50545356u /* "VSTP" */

/* The simulated guest's memory, as an idle guest's is: the pages that
 * hold its first min(current, TEST_MEMORY_TOUCHED_MAX) bytes carry data
 * (its first def.data_bytes bytes when <test:memory data-bytes='N'/>
 * sets them, at most current), page i of domain U being
 * testMemoryPage(U, i); every other byte, up to <memory>, is zero (never
 * touched, or ballooned out). testMemoryTouched gives that bound in
 * bytes: a multiple of TEST_PAGE_SIZE, or the memory size when the data
 * reaches its (partial) last page. */
#define TEST_PAGE_SIZE    4096u
#define TEST_MEMORY_TOUCHED_MAX (64ull << 20)    /* 64 MiB */

/* Save image: header, then the domain XML (xml_len bytes, generated by the
 * library from the def, NUL-free), then the memory as records_len bytes of
 * runs: each a testSaveRecord, a DATA run followed by its pages' bytes
 * (pages * TEST_PAGE_SIZE, less for the memory's partial last page), a
 * ZERO run by nothing. The runs cover the memory's pages in order, each
 * starting where the one before ended, the last ending at the last page;
 * a ZERO run may only cover zero memory. The save writes one DATA run for
 * the touched pages and one ZERO run for the rest (none if nothing is
 * left): an idle 8 GiB guest's image is its 64 MiB of data.
 *
 * The checksum is FNV-1a 64 over the def and the XML byte by byte
 * (testFnv1a), giving h; then the runs, as stored (records and data),
 * as 64-bit little-endian words round four FNV-1a 64 lanes, each started
 * at h (word i into lane i % 4: testMemSumUpdate); the checksum is FNV-1a
 * 64 continued from h over the four lanes' values (testMemSumFinal). A
 * ZERO run's bytes are its record's: summing the record checks every
 * byte it stands for. Each record also carries its own check, so a
 * damaged record is named where it lies.
 *
 * Versions: 1 hashed the memory byte by byte, 2 word by word in one
 * chain, 3 in four lanes (the memory stored whole, every byte); 4 stores
 * the memory as runs, and its def carries current_kib; 5's def carries
 * data_bytes (8 bytes more, at its end). A reader takes its own version
 * only. */
typedef struct testSaveHeader {
    char     magic[16];             /* TEST_SAVE_MAGIC, NUL padded */
    uint32_t version;               /* TEST_SAVE_VERSION */
    uint32_t header_len;            /* sizeof(testSaveHeader) */
    uint64_t xml_len;               /* <= TEST_XML_MAX */
    uint64_t memory_bytes;          /* == def.memory_kib * 1024 */
    uint64_t records_len;           /* bytes of runs after the XML */
    uint64_t checksum;              /* see above */
    testDomainDef def;
} testSaveHeader;
#define TEST_SAVE_MAGIC   "LibvirtSupSave1"
#define TEST_SAVE_VERSION 5u

typedef struct testSaveRecord {
    uint32_t magic;                 /* TEST_SAVE_RECORD_MAGIC */
    uint32_t type;                  /* TEST_SAVE_RUN_DATA or TEST_SAVE_RUN_ZERO */
    uint64_t page;                  /* first page of the run */
    uint64_t pages;                 /* pages in the run, >= 1 */
    uint64_t check;                 /* testFnv1a(TEST_FNV_INIT, the 24 bytes above) */
} testSaveRecord;
#define TEST_SAVE_RECORD_MAGIC 0x52525356u /* "VSRR" */
#define TEST_SAVE_RUN_DATA 1u
#define TEST_SAVE_RUN_ZERO 2u

/* Results (the blob a worker attaches with virWorkerJobSetResult):
 *  define/create/restore of a domain: a testDomainDef, then the records
 *    of its kept elements (util/virxmlkeep.h; none: nothing follows)
 *  define/create of a network: a testNetworkDef, then the same
 *  save/dump/start: nothing
 * The library checks each one with the calls below before using it. */

/* Fill @out with the data of page @index of the domain @uuid:
 * deterministic, so restore can verify every byte. @out holds
 * TEST_PAGE_SIZE bytes. Defined in test-shared.c. */
void testMemoryPage(const uint8_t uuid[16], uint64_t index, uint8_t *out);

/* Bytes of @def's memory that carry data (the rest is zero): see above. */
uint64_t testMemoryTouched(const testDomainDef *def);

/* A save image's runs for @def (records_len) and its whole size with
 * @xmllen bytes of XML: what the save writes, and the library expects. */
uint64_t testSaveRecordsLen(const testDomainDef *def);
uint64_t testSaveImageSize(const testDomainDef *def, uint64_t xmllen);

/* A run's record, its check computed. */
void testSaveRecordMake(testSaveRecord *r, uint32_t type, uint64_t page, uint64_t pages);
/* A record's own check over its first 24 bytes. */
uint64_t testSaveRecordCheck(const testSaveRecord *r);

/* FNV-1a 64 over a buffer, continuing from @h (start with TEST_FNV_INIT). */
#define TEST_FNV_INIT 0xcbf29ce484222325ull
uint64_t testFnv1a(uint64_t h, const void *buf, size_t len);

/* The memory part of the save checksum: four FNV-1a 64 lanes over the
 * memory's little-endian 64-bit words, word i into lane i % 4. Init with
 * the FNV of the def and the XML; update with the memory in order, in
 * lengths that are multiples of 32 bytes (four words) except the last
 * (whose odd words, and a zero-padded partial word, go to the next lanes);
 * final gives the checksum. */
typedef struct testMemSum {
    uint64_t lane[4];
} testMemSum;
void testMemSumInit(testMemSum *s, uint64_t h);
void testMemSumUpdate(testMemSum *s, const void *buf, size_t len);
uint64_t testMemSumFinal(const testMemSum *s, uint64_t h);

/* Validate a def that came from a worker or a file: magic, version,
 * terminated names of the allowed characters, ranges, fault enums. Returns
 * 0, or -1 with @why set to a static English reason. */
int testDomainDefCheck(const testDomainDef *def, const char **why);
int testNetworkDefCheck(const testNetworkDef *def, const char **why);
