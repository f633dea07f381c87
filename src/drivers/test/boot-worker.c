/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * boot-worker.c: the "boot" of a test domain or network, in stages with
 * honest progress: each stage does real work on the guest's memory (a
 * private mapping of the memory that carries data, testMemoryTouched:
 * touched, then loaded with the domain's deterministic pages), counted as bytes so percent,
 * pacing (<test:rate>, the connection's cap), cancel and
 * TEST_FAULT_OP_CREATE faults behave as in the I/O ops.
 *
 * Phases: "validating" (the ops: parse or check), then "allocating memory",
 * "loading firmware", "starting vCPUs" for a domain; "creating bridge",
 * "configuring addresses", "starting" for a network.
 *
 * Ops: TEST_OP_DOMAIN_CREATE and TEST_OP_NETWORK_CREATE (parse the XML,
 * boot, propose the def), TEST_OP_DOMAIN_START and TEST_OP_NETWORK_START
 * (boot the def given in the parameters; no result).
 */
#include <sys/mman.h>

#include "util/internal.h"
#undef VIR_FROM_THIS   /* unit tests include several of these files in one unit */
#define VIR_FROM_THIS VIR_FROM_TEST
#include "util/virerror.h"
#include "drivers/test/test-worker.h"

#define TEST_BOOT_FIRMWARE  (2ull << 20)     /* bytes of "firmware" loaded */
#define TEST_BOOT_PER_VCPU  (64ull << 10)    /* per-vCPU state set up */
#define TEST_BOOT_NETWORK   (4ull << 20)     /* a network's work, nominal */

typedef struct bootStage {
    const char *phase;
    uint64_t bytes;
    bool load;          /* fill with pages (else touch with zeroes) */
} bootStage;

static int bootRun(virWorkerJobPtr job, const bootStage *stages, size_t nstages,
                   const uint8_t uuid[16], const testFault *f, uint32_t nf, uint64_t rate)
{
    virWorkerIO io = { .buf = NULL };
    testFaultState faults;
    uint64_t total = 0, map = 0;
    uint8_t *mem = MAP_FAILED;
    int rc = -1;

    for (size_t i = 0; i < nstages; i++) {
        total += stages[i].bytes;
        if (stages[i].bytes > map)
            map = stages[i].bytes;
    }
    if (virWorkerIOInit(&io, job, -1, "guest memory", total, rate) < 0)
        return -1;
    if (map && (mem = mmap(NULL, map, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)) == MAP_FAILED) {
        virReportSystemError(errno, "cannot allocate %llu bytes of guest memory",
                             (unsigned long long)map);
        goto cleanup;
    }
    virWorkerJobInitialize(job, rate ? (unsigned int)(total / rate) : 0);
    testFaultInit(&faults, f, nf, TEST_FAULT_OP_CREATE);
    testFaultPoll(job, &faults, 0);

    for (size_t i = 0; i < nstages; i++) {
        virWorkerJobSetPhase(job, stages[i].phase);
        for (uint64_t off = 0; off < stages[i].bytes;) {
            size_t n = stages[i].bytes - off < io.chunk ? (size_t)(stages[i].bytes - off) : io.chunk;
            if (stages[i].load)
                testMemoryFill(uuid, off, mem + off, n);
            else
                memset(mem + off, 0, n);
            if ((rc = virWorkerIOAdvance(&io, n)) < 0)
                goto cleanup;
            rc = -1;
            off += n;
            testFaultPoll(job, &faults, virWorkerIOPercent(&io));
        }
    }
    testFaultPoll(job, &faults, 100);
    rc = 0;

 cleanup:
    if (mem != MAP_FAILED)
        munmap(mem, map);
    virWorkerIOFree(&io);
    return rc;
}

int testDomainBoot(virWorkerJobPtr job, const testDomainDef *def, uint64_t rate_bps)
{
    uint64_t touched = testMemoryTouched(def);
    bootStage stages[] = {
        { "allocating memory", touched, false },
        { "loading firmware", touched < TEST_BOOT_FIRMWARE ? touched : TEST_BOOT_FIRMWARE, true },
        { "starting vCPUs", def->vcpus * TEST_BOOT_PER_VCPU < touched ?
                            def->vcpus * TEST_BOOT_PER_VCPU : touched, false },
    };
    const char *why;

    if (testDomainDefCheck(def, &why) < 0) {
        virReportError(VIR_ERR_INTERNAL_ERROR, "invalid domain to start: %s", why);
        return -1;
    }
    return bootRun(job, stages, ARRAY_CARDINALITY(stages), def->uuid,
                   def->faults, def->nfaults, rate_bps);
}

int testNetworkBoot(virWorkerJobPtr job, const testNetworkDef *def, uint64_t rate_bps)
{
    static const bootStage stages[] = {
        { "creating bridge", TEST_BOOT_NETWORK / 2, false },
        { "configuring addresses", TEST_BOOT_NETWORK / 4, true },
        { "starting", TEST_BOOT_NETWORK / 4, false },
    };
    const char *why;

    if (testNetworkDefCheck(def, &why) < 0) {
        virReportError(VIR_ERR_INTERNAL_ERROR, "invalid network to start: %s", why);
        return -1;
    }
    return bootRun(job, stages, ARRAY_CARDINALITY(stages), def->uuid,
                   def->faults, def->nfaults, rate_bps);
}

/* The four ops: @network picks the kind, @create whether the def comes
 * from the XML in the parameters (and is proposed as the result) or is
 * the one the parameters carry. */
static void bootOp(virWorkerJobPtr job, const void *params, size_t len, bool network, bool create)
{
    union {
        testDomainDef dom;
        testNetworkDef net;
    } def;
    testJobParams p;
    const char *xml;
    virXMLKeep keep = VIR_XML_KEEP_INIT;
    int rc;

    virWorkerJobSetPhase(job, "validating");
    if (testJobParamsGet(params, len, &p, &xml) < 0)
        goto error;
    if (network) {
        if (!create)
            def.net = p.net;
        else if (testNetworkParseXML(xml, p.xmllen, &def.net, &keep) < 0)
            goto error;
        rc = testNetworkBoot(job, &def.net, virWorkerIORateMin(p.bandwidth_bps, def.net.rate_bps));
    } else {
        if (!create)
            def.dom = p.dom;
        else if (testDomainParseXML(xml, p.xmllen, &def.dom, &keep) < 0)
            goto error;
        rc = testDomainBoot(job, &def.dom, virWorkerIORateMin(p.bandwidth_bps, def.dom.rate_bps));
    }
    if (rc == 0 && create &&
        testJobSetDefResult(job, &def, network ? sizeof(def.net) : sizeof(def.dom), &keep) < 0)
        goto error;
    virXMLKeepClear(&keep);
    testJobEnd(job, rc);
    return;
 error:
    virXMLKeepClear(&keep);
    virWorkerJobFinishError(job);
}

static void testDomainCreateRun(virWorkerJobPtr job, const void *params, size_t len)
{
    bootOp(job, params, len, false, true);
}

static void testDomainStartRun(virWorkerJobPtr job, const void *params, size_t len)
{
    bootOp(job, params, len, false, false);
}

static void testNetworkCreateRun(virWorkerJobPtr job, const void *params, size_t len)
{
    bootOp(job, params, len, true, true);
}

static void testNetworkStartRun(virWorkerJobPtr job, const void *params, size_t len)
{
    bootOp(job, params, len, true, false);
}

VIR_WORKER_OP_REGISTER(testDomainCreateOp, TEST_OP_DOMAIN_CREATE, testDomainCreateRun);
VIR_WORKER_OP_REGISTER(testDomainStartOp, TEST_OP_DOMAIN_START, testDomainStartRun);
VIR_WORKER_OP_REGISTER(testNetworkCreateOp, TEST_OP_NETWORK_CREATE, testNetworkCreateRun);
VIR_WORKER_OP_REGISTER(testNetworkStartOp, TEST_OP_NETWORK_START, testNetworkStartRun);
