/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * testdrv-worker-test.c: the test driver's worker ops run by the real
 * worker (virtsup-worker, sandboxed) through the supervisor, with no
 * library-side driver: params in, descriptors down, result blob up, and
 * the outcome of faults and cancel as DESIGN.md gives them.
 */
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "jobtest.h"
#include "drivers/test/test-shared.h"
#include "util/virxmlkeep.h"

#define assert_contains(hay, needle) \
    do { \
        if (!strstr((hay), (needle))) \
            fail_msg("'%s' does not contain '%s'", (hay), (needle)); \
    } while (0)

/* A commit that keeps the result blob for the test to read. */
static uint8_t lastResult[4096];
static size_t lastResultLen;
static int keepResult(virJobPtr job, void *opaque, const void *res, size_t len)
{
    (void)job;
    (void)opaque;
    lastResultLen = len < sizeof(lastResult) ? len : sizeof(lastResult);
    if (lastResultLen)
        memcpy(lastResult, res, lastResultLen);
    return 0;
}

/* The ops' profiles, as the test driver declares them: the worker finds
 * its descriptor by name. */
static const virSupFdSpec outFD[] = { { TEST_FD_OUTPUT, VIR_SUP_FD_WRITE } };
static const virSupFdSpec imageFD[] = { { TEST_FD_IMAGE, VIR_SUP_FD_READ } };
static const virSupProfile profOut = { .name = "test.output", .fds = outFD, .nfds = 1 };
static const virSupProfile profImage = { .name = "test.image", .libs = VIR_SUP_LIB_XML,
                                         .fds = imageFD, .nfds = 1 };
static const virSupProfile profXML = { .name = "test.xml", .libs = VIR_SUP_LIB_XML };

#define DRV_OP(var, opname, prof) \
    static const virSupOp var = { .name = (opname), .type = VIR_JOB_BOUNDED, \
                                  .profile = (prof), .commit = keepResult }
DRV_OP(opSave, TEST_OP_DOMAIN_SAVE, &profOut);
DRV_OP(opRestore, TEST_OP_DOMAIN_RESTORE, &profImage);
DRV_OP(opDump, TEST_OP_DOMAIN_DUMP, &profOut);
DRV_OP(opCreate, TEST_OP_DOMAIN_CREATE, &profXML);
DRV_OP(opNetCreate, TEST_OP_NETWORK_CREATE, &profXML);

static void domainDef(testDomainDef *d, const char *name, uint64_t kib)
{
    memset(d, 0, sizeof(*d));
    d->magic = TEST_DOMAIN_DEF_MAGIC;
    d->version = 1;
    snprintf(d->name, sizeof(d->name), "%s", name);
    for (int i = 0; i < 16; i++)
        d->uuid[i] = (uint8_t)(0xa0 + i);
    d->memory_kib = kib;
    d->current_kib = kib;
    d->vcpus = 2;
    strcpy(d->os_type, "hvm");
}

static virJobPtr runOp(virSupGroup *g, const virSupOp *op, const testDomainDef *dom,
                       const char *xml, int fd)
{
    size_t xl = xml ? strlen(xml) : 0;
    uint8_t *blob = calloc(1, sizeof(testJobParams) + xl);
    testJobParams p;
    virSupJobParams sp;
    virJobPtr job;

    memset(&p, 0, sizeof(p));
    p.magic = TEST_JOB_PARAMS_MAGIC;
    p.version = 1;
    p.xmllen = (uint32_t)xl;
    if (dom)
        p.dom = *dom;
    memcpy(blob, &p, sizeof(p));
    if (xl)
        memcpy(blob + sizeof(p), xml, xl);
    memset(&sp, 0, sizeof(sp));
    sp.op = op;
    sp.target = "testdrv";
    sp.params = blob;
    sp.paramslen = sizeof(p) + xl;
    sp.fds = &fd;
    sp.nfds = fd >= 0 ? 1 : 0;
    lastResultLen = 0;
    job = virSupJobCreate(g, &sp);
    free(blob);
    if (!job)
        fail_msg("virSupJobCreate(%s): %s", op->name, virGetLastErrorMessage());
    return job;
}

static int tempFile(char *path)
{
    strcpy(path, "/tmp/testdrv-worker-XXXXXX");
    int fd = mkostemp(path, O_CLOEXEC);
    assert_true(fd >= 0);
    return fd;
}

/* What the library writes for domainDef("roundtrip", 8192), with a kept
 * element: a restore parses it again for those. */
static const char saveXml[] =
    "<domain type='test'><name>roundtrip</name><uuid>a0a1a2a3-a4a5-a6a7-a8a9-aaabacadaeaf</uuid>"
    "<memory unit='KiB'>8192</memory><vcpu>2</vcpu><clock offset='utc'/></domain>";

/* The result is a def of @size bytes and kept records the library takes,
 * holding <@name>. */
static void checkKept(size_t size, const char *name)
{
    const char *why = NULL;

    assert_true(lastResultLen > size);
    assert_int_equal(virXMLKeepCheck(lastResult + size, lastResultLen - size, &why), 0);
    assert_true(virXMLKeepHas(lastResult + size, lastResultLen - size, name));
}

static void test_save_restore_dump(void **state)
{
    (void)state;
    virSupGroup *g = virSupGroupNew(NULL);
    testDomainDef def, back;
    char img[64], core[64], cmd[160];
    int fd;
    virJobPtr job;

    assert_non_null(g);
    domainDef(&def, "roundtrip", 8192);
    fd = tempFile(img);
    job = runOp(g, &opSave, &def, saveXml, fd);
    close(fd);
    waitEnded(job);
    if (jobState(job) != VIR_JOB_COMPLETE)
        fail_msg("save: %s", jobErrorMessage(job));
    assert_int_equal(lastResultLen, 0);
    virJobDestroy(job);

    fd = open(img, O_RDONLY | O_CLOEXEC);
    job = runOp(g, &opRestore, NULL, NULL, fd);
    close(fd);
    waitEnded(job);
    if (jobState(job) != VIR_JOB_COMPLETE)
        fail_msg("restore: %s", jobErrorMessage(job));
    checkKept(sizeof(back), "clock");
    memcpy(&back, lastResult, sizeof(back));
    assert_memory_equal(&back, &def, sizeof(def));
    virJobDestroy(job);

    /* A damaged image fails with the reader's message. */
    assert_int_equal(truncate(img, 1000), 0);
    fd = open(img, O_RDONLY | O_CLOEXEC);
    job = runOp(g, &opRestore, NULL, NULL, fd);
    close(fd);
    waitEnded(job);
    assert_int_equal(jobState(job), VIR_JOB_FAILED);
    char msg[128];
    snprintf(msg, sizeof(msg), "save image is truncated: expected %zu bytes, file has 1000",
             (size_t)testSaveImageSize(&def, strlen(saveXml)));
    assert_string_equal(jobErrorMessage(job), msg);
    virJobDestroy(job);
    unlink(img);

    fd = tempFile(core);
    job = runOp(g, &opDump, &def, NULL, fd);
    close(fd);
    waitEnded(job);
    if (jobState(job) != VIR_JOB_COMPLETE)
        fail_msg("dump: %s", jobErrorMessage(job));
    virJobDestroy(job);
    snprintf(cmd, sizeof(cmd), "readelf -h -l '%s' >/dev/null", core);
    assert_int_equal(system(cmd), 0);
    unlink(core);
    virSupGroupClose(g);
}

static void test_create(void **state)
{
    (void)state;
    virSupGroup *g = virSupGroupNew(NULL);
    testDomainDef d;
    testNetworkDef n;
    virJobPtr job;

    assert_non_null(g);
    job = runOp(g, &opCreate, NULL,
                "<domain type='test'><name>born</name><memory unit='MiB'>256</memory></domain>", -1);
    waitEnded(job);
    if (jobState(job) != VIR_JOB_COMPLETE)
        fail_msg("create: %s", jobErrorMessage(job));
    assert_int_equal(lastResultLen, sizeof(d));
    memcpy(&d, lastResult, sizeof(d));
    assert_string_equal(d.name, "born");
    const char *why;
    assert_int_equal(testDomainDefCheck(&d, &why), 0);
    virJobDestroy(job);

    /* Hostile XML: the worker rejects it; the client never parsed it. */
    job = runOp(g, &opCreate, NULL,
                "<!DOCTYPE d [<!ENTITY a 'aaaa'><!ENTITY b '&a;&a;&a;&a;'>]>"
                "<domain type='test'><name>&b;</name><memory>1024</memory></domain>", -1);
    waitEnded(job);
    assert_int_equal(jobState(job), VIR_JOB_FAILED);
    assert_string_equal(jobErrorMessage(job),
                        "domain XML must not contain a DTD or entity declarations");
    assert_int_equal(lastResultLen, 0);
    virJobDestroy(job);

    job = runOp(g, &opNetCreate, NULL,
                "<network><name>lan</name><ip address='10.0.0.1' prefix='24'/></network>", -1);
    waitEnded(job);
    if (jobState(job) != VIR_JOB_COMPLETE)
        fail_msg("network create: %s", jobErrorMessage(job));
    checkKept(sizeof(n), "ip");
    memcpy(&n, lastResult, sizeof(n));
    assert_int_equal(testNetworkDefCheck(&n, &why), 0);
    assert_int_equal(n.ipv4, 0x0a000001);
    virJobDestroy(job);
    virSupGroupClose(g);
}

static void test_faults_and_cancel(void **state)
{
    (void)state;
    virSupGroup *g = virSupGroupNew(NULL);
    testDomainDef def;
    char img[64];
    int fd;
    virJobPtr job;

    assert_non_null(g);
    /* A segfault at 50% of a save. */
    domainDef(&def, "crashy", 4096);
    def.nfaults = 1;
    def.faults[0] = (testFault){ TEST_FAULT_OP_SAVE, 50, TEST_FAULT_SEGV, 0 };
    fd = tempFile(img);
    job = runOp(g, &opSave, &def, "<domain/>", fd);
    close(fd);
    waitEnded(job);
    assert_int_equal(jobState(job), VIR_JOB_FAILED);
    assert_string_equal(jobErrorMessage(job), "worker crashed: signal 11 (SIGSEGV)");
    virJobDestroy(job);

    /* A slow dump (1 MiB/s, 64 MiB), cancelled once it has started. */
    domainDef(&def, "slow", 65536);
    def.rate_bps = 1 << 20;
    fd = open(img, O_WRONLY | O_CLOEXEC);
    job = runOp(g, &opDump, &def, NULL, fd);
    close(fd);
    waitPercent(job, 1);
    assert_int_equal(virJobCancel(job), 0);
    waitEnded(job);
    assert_int_equal(jobState(job), VIR_JOB_CANCELLED);
    virJobDestroy(job);
    unlink(img);
    virSupGroupClose(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_save_restore_dump),
        cmocka_unit_test(test_create),
        cmocka_unit_test(test_faults_and_cancel),
    };
    return cmocka_run_group_tests(tests, jobTestSetup, jobTestTeardown);
}
