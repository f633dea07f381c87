/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qemu-save-test.c: virDomainSaveJob and virDomainRestoreJob on a real
 * QEMU (TCG) running the real test guest (tests/guest). One boot serves
 * every check: a little guest RAM is filled and its checksum taken over
 * the command channel; then
 *
 *  - a save on a connection capped at a few MiB/s is cancelled while QEMU
 *    streams: the guest runs on, answers, its memory unchanged, no file;
 *  - a save completes: progress from QEMU's figures, the image named only
 *    at the end, the guest shut off (saved), QEMU gone.
 *
 * Skips (77) when QEMU or the guest cannot be had here.
 */
#include "qemuguest.h"

#define FILL_MIB 8

/* Job statistics: bytes done and total, and the phase. */
static void jobFigures(virJobPtr job, unsigned long long *done, unsigned long long *total,
                       char *phase, size_t len)
{
    virTypedParameterPtr params = NULL;
    int n = 0;
    const char *ph = NULL;

    assert_int_equal(virJobGetStats(job, &params, &n, 0), 0);
    *done = *total = 0;
    (void)virTypedParamsGetULLong(params, n, VIR_JOB_STATS_DATA_PROCESSED, done);
    (void)virTypedParamsGetULLong(params, n, VIR_JOB_STATS_DATA_TOTAL, total);
    snprintf(phase, len, "%s",
             virTypedParamsGetString(params, n, VIR_JOB_STATS_PHASE, &ph) == 1 && ph ? ph : "");
    virTypedParamsFree(params, n);
}

static bool exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

/* No file but the test's own in @dir: nothing half-written left. */
static int strayFiles(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    assert_non_null(d);
    while ((e = readdir(d)))
        if (!strncmp(e->d_name, prefix, strlen(prefix)) || !strncmp(e->d_name, ".", 1))
            n += e->d_name[0] == '.' && strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(d);
    return n;
}

static void test_save_cancel_complete(void **state)
{
    qemuT *t = *state;
    char out[256], md5[64], img[512], uri[8300];
    int s, r;

    t->conn = qtOpen(t);
    virDomainPtr dom = virDomainDefineXML(t->conn, guestXML(t, "sv", NULL));
    assert_non_null(dom);
    virJobPtr job = virDomainCreateJob(dom, 0);
    assert_non_null(job);
    if (qtJobEnd(job) != VIR_JOB_COMPLETE)
        fail_msg("start: %s", qtJobError(job));
    virJobDestroy(job);
    waitBooted(t, "sv");
    int ch = channelOpen(t, "sv");
    char cmd[32];
    snprintf(cmd, sizeof(cmd), "fill %d", FILL_MIB);
    channel(ch, cmd, md5, sizeof(md5));
    assert_int_equal(strlen(md5), 32);
    printf("guest filled %d MiB, md5 %s\n", FILL_MIB, md5);

    /* 1. Cancel while QEMU streams (a connection capped at 2 MiB/s: the
     * stream of this guest takes seconds at that pace). */
    snprintf(img, sizeof(img), "%s/sv.img", t->root);
    snprintf(uri, sizeof(uri), "%s&bandwidth=2", t->uri);
    virConnectPtr slow = virConnectOpen(uri);
    assert_non_null(slow);
    virDomainPtr sdom = virDomainLookupByName(slow, "sv");
    assert_non_null(sdom);
    job = virDomainSaveJob(sdom, img);
    if (!job)
        fail_msg("save: %s", virGetLastErrorMessage());
    unsigned long long done = 0, total = 0;
    char phase[64] = "";
    long long t0 = testNowMs();
    bool moving = TEST_WAIT_UNTIL((jobFigures(job, &done, &total, phase, sizeof(phase)),
                                   (STREQ(phase, "saving memory") && done > 0) ||
                                   qtJobEnd0(job)), TEST_TIMEOUT_MS);
    assert_true(moving);
    printf("save streaming after %lld ms: %llu of %llu bytes, phase '%s'\n",
           testNowMs() - t0, done, total, phase);
    assert_string_equal(phase, "saving memory");
    assert_true(total >= 192ULL << 20);
    assert_true(done < total);
    /* The guest's state while saving: paused by the save. */
    assert_int_equal(virDomainGetState(dom, &s, &r, 0), 0);
    assert_int_equal(s, VIR_DOMAIN_PAUSED);
    t0 = testNowMs();
    assert_int_equal(virJobCancel(job), 0);
    assert_int_equal(qtJobEnd(job), VIR_JOB_CANCELLED);
    printf("cancel -> job cancelled: %lld ms\n", testNowMs() - t0);
    virJobDestroy(job);
    assert_false(exists(img));
    assert_int_equal(strayFiles(t->root, "sv.img"), 0);
    qtWaitState(dom, VIR_DOMAIN_RUNNING, -1);
    printf("cancel -> guest running: %lld ms\n", testNowMs() - t0);
    channel(ch, "echo after the cancelled save", out, sizeof(out));
    assert_string_equal(out, "after the cancelled save");
    channel(ch, "md5 /fill/data", out, sizeof(out));
    assert_string_equal(out, md5);
    virDomainFree(sdom);
    virConnectClose(slow);

    /* 2. A save that completes. */
    virShimStatus st;
    assert_int_equal(qtShimStatus(t, "sv", &st), 0);
    t0 = testNowMs();
    job = virDomainSaveJob(dom, img);
    assert_non_null(job);
    unsigned int lastPct = 0;
    bool backwards = false;
    virJobInfo info;
    while (!qtJobEnd0(job)) {
        assert_int_equal(virJobGetInfo(job, &info), 0);
        backwards |= info.percentComplete < lastPct;
        lastPct = info.percentComplete;
        (void)virJobWait(job, 10);
    }
    if (qtJobEnd(job) != VIR_JOB_COMPLETE)
        fail_msg("save: %s", qtJobError(job));
    assert_false(backwards);
    assert_int_equal(virJobGetInfo(job, &info), 0);
    assert_int_equal(info.percentComplete, 100);
    printf("save completed: %lld ms\n", testNowMs() - t0);
    virJobDestroy(job);
    struct stat sb;
    assert_int_equal(stat(img, &sb), 0);
    assert_true(sb.st_size > FILL_MIB << 20);
    printf("image: %lld bytes\n", (long long)sb.st_size);
    assert_int_equal(strayFiles(t->root, "sv.img"), 0);
    assert_int_equal(virDomainGetState(dom, &s, &r, 0), 0);
    assert_int_equal(s, VIR_DOMAIN_SHUTOFF);
    assert_int_equal(r, VIR_DOMAIN_SHUTOFF_SAVED);
    assert_true(TEST_WAIT_UNTIL(!virProcessAlive(st.child_pid, st.child_start), TEST_TIMEOUT_MS));
    close(ch);
    virDomainFree(dom);
}

int main(void)
{
    int rc = qgPrepare();
    if (rc)
        return rc;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_save_cancel_complete, setupT, qtTeardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
