/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * testdrv-boot-test.c: the create and start ops of domains and networks:
 * parse in the worker, boot in stages with progress, cancel at any point,
 * TEST_FAULT_OP_CREATE faults at their percent, a def as the result.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "../worker/jobio.c"
#include "../src/drivers/test/test-worker.c"
#include "../src/drivers/test/xml-worker.c"
#include "../src/drivers/test/boot-worker.c"
#include "testdrv-fakejob.h"

#define NS "xmlns:test='http://libvirtsup.org/schemas/test/1.0'"

static void test_domain_boot(void **state)
{
    (void)state;
    testDomainDef def;
    fakeJob job;

    fakeDomainDef(&def, "booter", 256 * 1024, 4);
    fakeJobInit(&job, -1);
    assert_int_equal(testDomainBoot(FJ(&job), &def, 0), 0);
    assert_true(job.initialized);
    assert_string_equal(job.phases, "allocating memory|loading firmware|starting vCPUs");
    /* 64 MiB touched, 2 MiB of firmware, 4 x 64 KiB of vCPU state. */
    assert_int_equal(job.total, (64 << 20) + (2 << 20) + 4 * (64 << 10));
    assert_int_equal(job.done, job.total);
    assert_int_equal(job.percent, 100);
    assert_int_equal(job.nfinish, 0);

    /* A small domain touches only its own memory. */
    fakeDomainDef(&def, "tiny", 1024, 256);
    fakeJobInit(&job, -1);
    assert_int_equal(testDomainBoot(FJ(&job), &def, 0), 0);
    assert_int_equal(job.total, 3 << 20);

    def.vcpus = 0;
    fakeJobInit(&job, -1);
    assert_int_equal(testDomainBoot(FJ(&job), &def, 0), -1);
    assert_string_equal(lastMessage(), "invalid domain to start: vCPU count is out of range (1 to 256)");
}

static void test_create_op(void **state)
{
    (void)state;
    const virWorkerOp *op = virWorkerOpLookup(TEST_OP_DOMAIN_CREATE);
    fakeJob job;
    testDomainDef def;
    size_t plen;
    void *p;

    assert_non_null(op);
    p = fakeParams(NULL, NULL,
                   "<domain type='test' " NS "><name>fresh</name><memory unit='MiB'>8</memory>"
                   "<vcpu>2</vcpu><test:fault op='create' at='40' action='abort'/>"
                   "<test:fault op='save' at='0' action='segv'/></domain>", 0, 0, &plen);
    fakeJobInit(&job, -1);
    op->run(FJ(&job), p, plen);
    assert_int_equal(job.nfinish, 1);
    assert_int_equal(job.finished, FAKE_SUCCESS);
    assert_string_equal(job.phases, "validating|allocating memory|loading firmware|starting vCPUs");
    fakeResultDef(&job, &def, sizeof(def), "vcpu");
    assert_string_equal(def.name, "fresh");
    assert_int_equal(def.memory_kib, 8192);
    /* Only the create fault fired, once, at 40% or just after. */
    assert_int_equal(job.nfaults, 1);
    assert_string_equal(job.fault, "abort");
    assert_true(job.faultPercent >= 40 && job.faultPercent <= 60);
    free(p);

    /* Bad XML: fails in validation, nothing booted. */
    p = fakeParams(NULL, NULL, "<domain type='test'><name>x</name><memory>1</memory></domain>",
                   0, 0, &plen);
    fakeJobInit(&job, -1);
    op->run(FJ(&job), p, plen);
    assert_int_equal(job.finished, FAKE_ERROR);
    assert_int_equal(job.code, VIR_ERR_XML_ERROR);
    assert_contains(job.message, "memory of 1 KiB in domain XML is out of range");
    assert_string_equal(job.phases, "validating");
    assert_int_equal(job.resultlen, 0);
    free(p);

    /* Cancel while allocating. */
    p = fakeParams(NULL, NULL, "<domain type='test'><name>c</name><memory unit='MiB'>64</memory></domain>",
                   0, 0, &plen);
    fakeJobInit(&job, -1);
    job.cancelAtBytes = 10 << 20;
    op->run(FJ(&job), p, plen);
    assert_int_equal(job.nfinish, 1);
    assert_int_equal(job.finished, FAKE_CANCELLED);
    assert_int_equal(job.resultlen, 0);
    assert_int_equal(job.done, 10 << 20);
    free(p);
}

static void test_start_op(void **state)
{
    (void)state;
    const virWorkerOp *op = virWorkerOpLookup(TEST_OP_DOMAIN_START);
    fakeJob job;
    testDomainDef def;
    size_t plen;
    void *p;

    assert_non_null(op);
    fakeDomainDef(&def, "defined", 4096, 1);
    def.nfaults = 1;
    def.faults[0] = (testFault){ TEST_FAULT_OP_CREATE, 100, TEST_FAULT_GARBAGE, 0 };
    /* A paced start (a 64 MiB/s cap on the connection) still completes. */
    p = fakeParams(&def, NULL, NULL, 64 << 20, 0, &plen);
    fakeJobInit(&job, -1);
    op->run(FJ(&job), p, plen);
    assert_int_equal(job.finished, FAKE_SUCCESS);
    assert_int_equal(job.resultlen, 0);
    assert_string_equal(job.fault, "garbage");
    assert_int_equal(job.faultPercent, 100);
    free(p);

    def.memory_kib = 12;
    p = fakeParams(&def, NULL, NULL, 0, 0, &plen);
    fakeJobInit(&job, -1);
    op->run(FJ(&job), p, plen);
    assert_int_equal(job.finished, FAKE_ERROR);
    assert_contains(job.message, "invalid domain to start: memory is out of range");
    free(p);
}

static void test_network_ops(void **state)
{
    (void)state;
    const virWorkerOp *create = virWorkerOpLookup(TEST_OP_NETWORK_CREATE);
    const virWorkerOp *start = virWorkerOpLookup(TEST_OP_NETWORK_START);
    fakeJob job;
    testNetworkDef net;
    size_t plen;
    void *p;

    assert_non_null(create);
    assert_non_null(start);
    p = fakeParams(NULL, NULL,
                   "<network " NS "><name>lan</name><bridge name='br-lan'/>"
                   "<ip address='10.9.8.1' prefix='24'/>"
                   "<test:fault op='create' at='50' action='hang'/></network>", 0, 0, &plen);
    fakeJobInit(&job, -1);
    create->run(FJ(&job), p, plen);
    assert_int_equal(job.finished, FAKE_SUCCESS);
    assert_string_equal(job.phases, "validating|creating bridge|configuring addresses|starting");
    fakeResultDef(&job, &net, sizeof(net), "ip");
    assert_string_equal(net.bridge, "br-lan");
    assert_string_equal(job.fault, "hang");
    assert_true(job.faultPercent >= 50);
    free(p);

    net.nfaults = 0;
    memset(net.faults, 0, sizeof(net.faults));
    p = fakeParams(NULL, &net, NULL, 0, 0, &plen);
    fakeJobInit(&job, -1);
    job.cancelAtBytes = 1 << 20;
    start->run(FJ(&job), p, plen);
    assert_int_equal(job.finished, FAKE_CANCELLED);
    fakeJobInit(&job, -1);
    start->run(FJ(&job), p, plen);
    assert_int_equal(job.finished, FAKE_SUCCESS);
    assert_int_equal(job.nfaults, 0);
    free(p);

    /* A network start with a bad def. */
    net.prefix = 40;
    p = fakeParams(NULL, &net, NULL, 0, 0, &plen);
    fakeJobInit(&job, -1);
    start->run(FJ(&job), p, plen);
    assert_int_equal(job.finished, FAKE_ERROR);
    assert_contains(job.message, "invalid network to start: IPv4 prefix is above 32");
    free(p);
}

static int teardown(void **state)
{
    (void)state;
    xmlCleanupParser();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_domain_boot),
        cmocka_unit_test(test_create_op),
        cmocka_unit_test(test_start_op),
        cmocka_unit_test(test_network_ops),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
