/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * diskfull-test.c: a save onto a full file system. A 16 MiB tmpfs is
 * mounted for the test (root only: otherwise it is skipped with exit 77),
 * and a 64 MiB domain is saved onto it, as a job and synchronously. The
 * job fails with "No space left on device", leaves no file (nor any space
 * used: the unnamed O_TMPFILE file is freed), an old image there is left
 * byte for byte, and the domain keeps running. The tmpfs is mounted in a
 * private mount namespace when one can be had (so it goes with the process
 * even if it crashes), and unmounted on every way out.
 */
#include <dirent.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/statvfs.h>

#include "drivertest.h"

static char mnt[600];
static bool mounted;
static virConnectPtr conn;

static void unmountSmall(void)
{
    if (mounted && umount2(mnt, MNT_DETACH) == 0)
        mounted = false;
    if (mnt[0])
        rmdir(mnt);
}

static unsigned long long usedBlocks(void)
{
    struct statvfs sv;
    assert_int_equal(statvfs(mnt, &sv), 0);
    return (unsigned long long)(sv.f_blocks - sv.f_bfree);
}

static void testSaveJobENOSPC(void **state)
{
    (void)state;
    char img[700];
    int code = 0;
    unsigned long long used0 = usedBlocks();
    virDomainPtr dom = virDomainLookupByName(conn, "big");

    assert_non_null(dom);
    snprintf(img, sizeof(img), "%s/big.img", mnt);
    virJobPtr job = virDomainSaveJob(dom, img);
    assert_non_null(job);
    assert_int_equal(drvWait(job, &code), VIR_JOB_FAILED);
    printf("save job on a full disk: error %d: %s\n", code, drvJobMessage(job));
    if (!strstr(drvJobMessage(job), "No space left on device"))
        fail_msg("the error does not say the disk is full: '%s'", drvJobMessage(job));
    assert_int_equal(virJobDestroy(job), 0);
    assert_false(drvExists(img));
    assert_int_equal(testCountEntries(mnt), 0);
    assert_true(TEST_WAIT_UNTIL(usedBlocks() == used0, TEST_TIMEOUT_MS));
    assert_int_equal(drvState(dom), VIR_DOMAIN_RUNNING);
    virDomainFree(dom);
}

static void testSaveSyncKeepsOld(void **state)
{
    (void)state;
    char img[700];
    static const char old[] = "an older image that must survive";
    virDomainPtr dom = virDomainLookupByName(conn, "big");
    size_t len = 0;

    assert_non_null(dom);
    snprintf(img, sizeof(img), "%s/old.img", mnt);
    drvWriteFile(img, old, sizeof(old));
    assert_int_equal(virDomainSave(dom, img), -1);
    assert_last_message_has("No space left on device");
    uint8_t *now = drvReadFile(img, &len);
    assert_non_null(now);
    assert_int_equal(len, sizeof(old));
    assert_memory_equal(now, old, sizeof(old));
    free(now);
    assert_int_equal(testCountEntries(mnt), 1);
    assert_int_equal(drvState(dom), VIR_DOMAIN_RUNNING);
    assert_int_equal(unlink(img), 0);
    virDomainFree(dom);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(testSaveJobENOSPC),
        cmocka_unit_test(testSaveSyncKeepsOld),
    };
    int rc;

    drvNeedWorker();
    if (geteuid() != 0) {
        printf("not root: cannot mount a small tmpfs, skipped\n");
        return 77;
    }
    if (drvSetupRundir(NULL) < 0)
        return 1;
    snprintf(mnt, sizeof(mnt), "%s/small", rundir);
    if (mkdir(mnt, 0700) < 0)
        return 1;
    /* In a mount namespace of our own when one can be had; without one,
     * the atexit handler unmounts. */
    atexit(unmountSmall);
    if (testMountTmpfs(mnt, "size=16m,mode=0700") < 0) {
        printf("cannot mount a tmpfs on %s (%s), skipped\n", mnt, strerror(errno));
        mnt[0] = '\0';
        drvTeardownRundir(NULL);
        return 77;
    }
    mounted = true;
    conn = drvOpenNode("node.xml",
                       "<node><domain type='test'><name>big</name>"
                       "<memory unit='MiB'>64</memory></domain></node>", "");
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    if (virConnectClose(conn) != 0)
        rc = 1;
    unmountSmall();
    if (mounted) {
        printf("cannot unmount %s\n", mnt);
        rc = 1;
    }
    drvTeardownRundir(NULL);
    return rc;
}
