/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * testdrv-shared-test.c: the test driver's shared half: the memory
 * generator, FNV-1a, and the checks of defs and parameters that the
 * library applies to what a worker sends back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>
#include <string.h>
#include <time.h>

#include "drivers/test/test-shared.h"

static const uint8_t uuidA[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
static const uint8_t uuidB[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 17 };

static void test_memory_page(void **state)
{
    (void)state;
    uint8_t a[TEST_PAGE_SIZE], b[TEST_PAGE_SIZE], c[TEST_PAGE_SIZE];
    uint64_t first;

    testMemoryPage(uuidA, 0, a);
    testMemoryPage(uuidA, 0, b);
    assert_memory_equal(a, b, sizeof(a));
    testMemoryPage(uuidA, 1, c);
    assert_memory_not_equal(a, c, sizeof(a));
    testMemoryPage(uuidB, 0, c);
    assert_memory_not_equal(a, c, sizeof(a));

    /* The format is on disk: pin the generator's output. */
    memcpy(&first, a, 8);
    assert_int_equal(first, 0x9771552268397924ull);
    testMemoryPage(uuidA, 123456789, c);
    memcpy(&first, c + 4088, 8);
    assert_int_equal(first, 0xa47a01714ae60172ull);

    /* No run of zero words: every page is full of distinct data. */
    for (size_t i = 0; i < TEST_PAGE_SIZE; i += 8) {
        uint64_t w;
        memcpy(&w, a + i, 8);
        assert_true(w != 0);
    }
}

static void test_memory_fill(void **state)
{
    (void)state;
    uint8_t buf[3 * TEST_PAGE_SIZE], page[TEST_PAGE_SIZE];

    memset(buf, 0xee, sizeof(buf));
    /* From page 7, two and a half pages. */
    testMemoryFill(uuidA, 7 * TEST_PAGE_SIZE, buf, 2 * TEST_PAGE_SIZE + 100);
    for (int i = 0; i < 3; i++) {
        testMemoryPage(uuidA, 7 + (uint64_t)i, page);
        assert_memory_equal(buf + i * TEST_PAGE_SIZE, page, i < 2 ? TEST_PAGE_SIZE : 100);
    }
    assert_int_equal(buf[2 * TEST_PAGE_SIZE + 100], 0xee);
}

static void test_fnv1a(void **state)
{
    (void)state;
    /* The published FNV-1a 64 vectors. */
    assert_int_equal(testFnv1a(TEST_FNV_INIT, "", 0), 0xcbf29ce484222325ull);
    assert_int_equal(testFnv1a(TEST_FNV_INIT, "a", 1), 0xaf63dc4c8601ec8cull);
    assert_int_equal(testFnv1a(TEST_FNV_INIT, "foobar", 6), 0x85944171f73967e8ull);
    /* Streaming equals one pass. */
    assert_int_equal(testFnv1a(testFnv1a(TEST_FNV_INIT, "foo", 3), "bar", 3),
                     0x85944171f73967e8ull);
}

/* Prints throughput (not asserted: timings depend on the machine). */
static void test_speed_report(void **state)
{
    (void)state;
    static uint8_t buf[1 << 20];
    struct timespec t0, t1, t2;
    const int mib = 64;
    volatile uint64_t sink;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < mib; i++)
        testMemoryFill(uuidA, (uint64_t)i << 20, buf, sizeof(buf));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    uint64_t h = TEST_FNV_INIT;
    for (int i = 0; i < mib; i++)
        h = testFnv1a(h, buf, sizeof(buf));
    sink = h;
    (void)sink;
    clock_gettime(CLOCK_MONOTONIC, &t2);
    double g = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    double f = (t2.tv_sec - t1.tv_sec) + (t2.tv_nsec - t1.tv_nsec) / 1e9;
    printf("# testMemoryPage: %.0f MiB/s, testFnv1a: %.0f MiB/s (%d MiB)\n",
           mib / g, mib / f, mib);
}

static void validDomain(testDomainDef *d)
{
    memset(d, 0, sizeof(*d));
    d->magic = TEST_DOMAIN_DEF_MAGIC;
    d->version = 1;
    strcpy(d->name, "web-01.example_x");
    memcpy(d->uuid, uuidA, 16);
    d->memory_kib = 256 * 1024;
    d->current_kib = 128 * 1024;
    d->vcpus = 2;
    d->nfaults = 1;
    d->faults[0] = (testFault){ TEST_FAULT_OP_SAVE | TEST_FAULT_OP_DUMP, 50, TEST_FAULT_SEGV, 0 };
    strcpy(d->os_type, "hvm");
}

static void validNetwork(testNetworkDef *n)
{
    memset(n, 0, sizeof(*n));
    n->magic = TEST_NETWORK_DEF_MAGIC;
    n->version = 1;
    strcpy(n->name, "default");
    memcpy(n->uuid, uuidB, 16);
    strcpy(n->bridge, "virbr0");
    n->ipv4 = 0xc0a87a01;
    n->prefix = 24;
    strcpy(n->forward, "nat");
}

#define EXPECT_DOMAIN_BAD(stmt, reason) \
    do { \
        testDomainDef d_; \
        const char *why_ = NULL; \
        validDomain(&d_); \
        { testDomainDef *d = &d_; stmt; } \
        assert_int_equal(testDomainDefCheck(&d_, &why_), -1); \
        assert_non_null(why_); \
        if (!strstr(why_, reason)) \
            fail_msg("%s: got '%s', wanted '%s'", #stmt, why_, reason); \
    } while (0)

static void test_domain_def_check(void **state)
{
    (void)state;
    testDomainDef dom;
    const char *why = NULL;

    validDomain(&dom);
    assert_int_equal(testDomainDefCheck(&dom, &why), 0);
    dom.memory_kib = TEST_MEMORY_MIN_KIB;
    dom.current_kib = TEST_MEMORY_MIN_KIB;
    dom.vcpus = TEST_VCPUS_MAX;
    strcpy(dom.os_type, "linux");
    assert_int_equal(testDomainDefCheck(&dom, &why), 0);
    dom.memory_kib = TEST_MEMORY_MAX_KIB;
    dom.nfaults = TEST_FAULTS_MAX;
    for (int i = 0; i < TEST_FAULTS_MAX; i++)
        dom.faults[i] = (testFault){ TEST_FAULT_OP_CREATE, 100, TEST_FAULT_GARBAGE, 0 };
    memset(dom.name, 'n', sizeof(dom.name) - 1);
    dom.name[sizeof(dom.name) - 1] = '\0';
    assert_int_equal(testDomainDefCheck(&dom, &why), 0);

    EXPECT_DOMAIN_BAD(d->magic ^= 1, "magic");
    EXPECT_DOMAIN_BAD(d->version = 2, "version");
    EXPECT_DOMAIN_BAD(d->name[0] = '\0', "empty");
    EXPECT_DOMAIN_BAD(memset(d->name, 'a', sizeof(d->name)), "too long or not terminated");
    EXPECT_DOMAIN_BAD(strcpy(d->name, ".hidden"), "starts with '.'");
    EXPECT_DOMAIN_BAD(strcpy(d->name, "a/b"), "character");
    EXPECT_DOMAIN_BAD(strcpy(d->name, "a b"), "character");
    EXPECT_DOMAIN_BAD(strcpy(d->name, "caf\xc3\xa9"), "character");
    EXPECT_DOMAIN_BAD(d->memory_kib = TEST_MEMORY_MIN_KIB - 1, "memory");
    EXPECT_DOMAIN_BAD(d->memory_kib = TEST_MEMORY_MAX_KIB + 1, "memory");
    EXPECT_DOMAIN_BAD(d->memory_kib = UINT64_MAX, "memory");
    EXPECT_DOMAIN_BAD(d->current_kib = d->memory_kib + 1,
                      "current memory is out of range (1 MiB to the memory)");
    EXPECT_DOMAIN_BAD(d->current_kib = TEST_MEMORY_MIN_KIB - 1, "current memory");
    EXPECT_DOMAIN_BAD(d->current_kib = 0, "current memory");
    EXPECT_DOMAIN_BAD(d->vcpus = 0, "vCPU");
    EXPECT_DOMAIN_BAD(d->vcpus = TEST_VCPUS_MAX + 1, "vCPU");
    EXPECT_DOMAIN_BAD(d->nfaults = TEST_FAULTS_MAX + 1, "too many faults");
    EXPECT_DOMAIN_BAD(d->nfaults = UINT32_MAX, "too many faults");
    EXPECT_DOMAIN_BAD(d->faults[0].ops = 0, "op set");
    EXPECT_DOMAIN_BAD(d->faults[0].ops = 1u << 7, "op set");
    EXPECT_DOMAIN_BAD(d->faults[0].at = 101, "percent");
    EXPECT_DOMAIN_BAD(d->faults[0].action = TEST_FAULT_NONE, "action");
    EXPECT_DOMAIN_BAD(d->faults[0].action = TEST_FAULT_LAST, "action");
    EXPECT_DOMAIN_BAD(d->faults[0].reserved = 1, "reserved");
    EXPECT_DOMAIN_BAD(d->faults[3].action = 1, "unused fault slots");
    EXPECT_DOMAIN_BAD(strcpy(d->os_type, "xen"), "OS type");
    EXPECT_DOMAIN_BAD(memset(d->os_type, 'h', sizeof(d->os_type)), "OS type");
}

#define EXPECT_NETWORK_BAD(stmt, reason) \
    do { \
        testNetworkDef n_; \
        const char *why_ = NULL; \
        validNetwork(&n_); \
        { testNetworkDef *n = &n_; stmt; } \
        assert_int_equal(testNetworkDefCheck(&n_, &why_), -1); \
        assert_non_null(why_); \
        if (!strstr(why_, reason)) \
            fail_msg("%s: got '%s', wanted '%s'", #stmt, why_, reason); \
    } while (0)

static void test_network_def_check(void **state)
{
    (void)state;
    testNetworkDef net;
    const char *why = NULL;

    validNetwork(&net);
    assert_int_equal(testNetworkDefCheck(&net, &why), 0);
    memset(net.bridge, 0, sizeof(net.bridge));
    net.ipv4 = 0;
    net.prefix = 0;
    memset(net.forward, 0, sizeof(net.forward));
    assert_int_equal(testNetworkDefCheck(&net, &why), 0);
    strcpy(net.forward, "isolated");
    assert_int_equal(testNetworkDefCheck(&net, &why), 0);

    EXPECT_NETWORK_BAD(n->magic = TEST_DOMAIN_DEF_MAGIC, "magic");
    EXPECT_NETWORK_BAD(n->version = 0, "version");
    EXPECT_NETWORK_BAD(strcpy(n->name, "bad;name"), "character");
    EXPECT_NETWORK_BAD(memset(n->name, 'x', sizeof(n->name)), "not terminated");
    EXPECT_NETWORK_BAD(memset(n->bridge, 'b', sizeof(n->bridge)), "bridge");
    EXPECT_NETWORK_BAD(strcpy(n->bridge, "br/0"), "bridge");
    EXPECT_NETWORK_BAD((n->bridge[0] = '\0', n->bridge[5] = 'x'), "zero-filled");
    EXPECT_NETWORK_BAD(n->prefix = 33, "prefix");
    EXPECT_NETWORK_BAD(n->prefix = 0, "without a prefix");
    EXPECT_NETWORK_BAD(n->ipv4 = 0, "without an address");
    EXPECT_NETWORK_BAD(strcpy(n->forward, "bridge"), "forward");
    EXPECT_NETWORK_BAD(memset(n->forward, 'n', sizeof(n->forward)), "forward");
    EXPECT_NETWORK_BAD(n->reserved = 1, "reserved");
    EXPECT_NETWORK_BAD(n->nfaults = 9, "too many");
    EXPECT_NETWORK_BAD((n->nfaults = 1, n->faults[0].ops = TEST_FAULT_OP_CREATE), "action");
}

static void test_params_check(void **state)
{
    (void)state;
    uint8_t buf[sizeof(testJobParams) + 10];
    testJobParams p;
    const char *why;

    memset(&p, 0, sizeof(p));
    p.magic = TEST_JOB_PARAMS_MAGIC;
    p.version = 1;
    p.xmllen = 10;
    memcpy(buf, &p, sizeof(p));
    assert_int_equal(testJobParamsCheck(buf, sizeof(buf), &why), 0);
    assert_int_equal(testJobParamsCheck(buf, sizeof(buf) - 1, &why), -1);
    assert_int_equal(testJobParamsCheck(buf, 10, &why), -1);
    assert_int_equal(testJobParamsCheck(NULL, 0, &why), -1);
    p.xmllen = 0;
    memcpy(buf, &p, sizeof(p));
    assert_int_equal(testJobParamsCheck(buf, sizeof(p), &why), 0);
    p.magic++;
    memcpy(buf, &p, sizeof(p));
    assert_int_equal(testJobParamsCheck(buf, sizeof(p), &why), -1);
}

static void test_names(void **state)
{
    (void)state;
    for (uint32_t a = TEST_FAULT_SEGV; a < TEST_FAULT_LAST; a++)
        assert_int_equal(testFaultActionFromName(testFaultActionName(a)), (int)a);
    assert_null(testFaultActionName(TEST_FAULT_NONE));
    assert_null(testFaultActionName(TEST_FAULT_LAST));
    assert_int_equal(testFaultActionFromName("none"), -1);
    assert_int_equal(testFaultActionFromName("SEGV"), -1);
    assert_string_equal(testFaultActionName(TEST_FAULT_IGNORE_CANCEL), "ignore-cancel");
    for (uint32_t b = 1; b <= TEST_FAULT_OP_CREATE; b <<= 1)
        assert_int_equal(testFaultOpFromName(testFaultOpName(b)), (int)b);
    assert_null(testFaultOpName(3));
    assert_int_equal(testFaultOpFromName("migrate"), -1);

    char s[37];
    testUUIDFormat(uuidA, s);
    assert_string_equal(s, "01020304-0506-0708-090a-0b0c0d0e0f10");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_memory_page),
        cmocka_unit_test(test_memory_fill),
        cmocka_unit_test(test_fnv1a),
        cmocka_unit_test(test_speed_report),
        cmocka_unit_test(test_domain_def_check),
        cmocka_unit_test(test_network_def_check),
        cmocka_unit_test(test_params_check),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
