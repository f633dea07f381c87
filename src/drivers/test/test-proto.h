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
/* The test namespace of the XML (<test:fault>, <test:rate>). */
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
    uint32_t vcpus;                 /* 1 .. TEST_VCPUS_MAX */
    uint32_t nfaults;               /* 0 .. TEST_FAULTS_MAX */
    testFault faults[TEST_FAULTS_MAX];
    uint64_t rate_bps;              /* <test:rate bytes-per-second='N'/>; 0: unpaced */
    char     os_type[16];           /* "hvm" or "linux" */
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

/* Save image: header, then the domain XML (xml_len bytes, generated by the
 * library from the def, NUL-free), then memory_kib * 1024 bytes of memory,
 * page by page, page i of domain U = testMemoryPage(U, i). The checksum is
 * FNV-1a 64 over the def and the XML byte by byte (testFnv1a), giving h;
 * then the memory's 64-bit little-endian words go round four FNV-1a 64
 * lanes, each started at h (word i into lane i % 4: testMemSumUpdate);
 * the checksum is FNV-1a 64 continued from h over the four lanes' values
 * (testMemSumFinal). Version 1 hashed the memory byte by byte, version 2
 * word by word in one chain (each multiply waiting for the one before);
 * version 3's lanes let them overlap, and generating or checking the
 * memory is then the bound, not the checksum. */
typedef struct testSaveHeader {
    char     magic[16];             /* TEST_SAVE_MAGIC, NUL padded */
    uint32_t version;               /* TEST_SAVE_VERSION */
    uint32_t header_len;            /* sizeof(testSaveHeader) */
    uint64_t xml_len;               /* <= TEST_XML_MAX */
    uint64_t memory_bytes;          /* == def.memory_kib * 1024 */
    uint64_t checksum;              /* see above */
    testDomainDef def;
} testSaveHeader;
#define TEST_SAVE_MAGIC   "LibvirtSupSave1"
#define TEST_SAVE_VERSION 3u
#define TEST_PAGE_SIZE    4096u

/* Results (the blob a worker attaches with virWorkerJobSetResult):
 *  define/create/restore of a domain: a testDomainDef, then the records
 *    of its kept elements (util/virxmlkeep.h; none: nothing follows)
 *  define/create of a network: a testNetworkDef, then the same
 *  save/dump/start: nothing
 * The library checks each one with the calls below before using it. */

/* Fill @out with page @index of the memory of the domain @uuid:
 * deterministic, so restore can verify every byte. @out holds
 * TEST_PAGE_SIZE bytes. Defined in test-shared.c. */
void testMemoryPage(const uint8_t uuid[16], uint64_t index, uint8_t *out);

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
