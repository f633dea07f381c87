/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * stdio-closed-test.c: an application that closed its standard
 * descriptors (a daemon that did not reopen them on /dev/null) and then
 * uses the library. open() hands out the lowest free number, so without
 * care the status segment, the helper's socket or a job's descriptors land
 * on 0, 1 or 2, and the application's next printf writes into them (the
 * segment's header overwritten: virtsup-stat says "bad magic"). Every
 * descriptor the library keeps must live at 3 or above.
 *
 * The work runs in a forked child (the test keeps its own stdio), which
 * reports over a pipe (testRunChild).
 */
#include "drivertest.h"
#include "shm/segment.h"
#include "supervisor/supervisor.h"

/* The descriptors 0..2 the library took, as a list ("" if none). */
static const char *takenLow(void)
{
    static char list[512];
    list[0] = '\0';
    for (int fd = 0; fd < 3; fd++) {
        if (fcntl(fd, F_GETFD) >= 0) {
            char target[256] = "?";
            char path[64];
            snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
            ssize_t n = readlink(path, target, sizeof(target) - 1);
            target[n > 0 ? n : 1] = '\0';
            size_t len = strlen(list);
            snprintf(list + len, sizeof(list) - len, " %d (%.40s)", fd, target);
        }
    }
    return list;
}

/* The descriptors 0..2 the library keeps: none once a look finds none,
 * else what the last look lists when the wait ends. The library's
 * threads open descriptors of their own (a ready worker's /proc/PID/stat,
 * the descriptors that come with a spawn helper's message): the kernel
 * gives them the lowest free number, here 0, 1 or 2, for the moment until
 * virFDAboveStdio moves them up. A look that falls in that moment (seen
 * under valgrind, which stretches it) is not a descriptor kept there,
 * nor is one taken after a look found none (a look after that one could
 * fall in such a moment: CI saw "0 (/proc/PID/stat)" so); one kept there
 * is in every look until the wait ends. */
static const char *keptLow(void)
{
    if (TEST_WAIT_UNTIL(!*takenLow(), TEST_TIMEOUT_MS))
        return "";
    return takenLow();
}

/* In the child, with 0, 1 and 2 closed. Returns the exit code. */
static int childMain(void)
{
    char img[600], node[600];
    const char *low;

    virConnectPtr conn = virConnectOpen("test:///default?bandwidth=64");
    if (!conn) {
        testSay("virConnectOpen: %s\n", virGetLastErrorMessage());
        return 1;
    }
    if (*(low = keptLow())) {
        testSay("after virConnectOpen the library holds descriptors below 3:%s\n", low);
        return 1;
    }
    virDomainPtr dom = virDomainLookupByName(conn, "test");
    snprintf(img, sizeof(img), "%s/test.img", rundir);
    virJobPtr job = dom ? virDomainSaveJob(dom, img) : NULL;
    if (!job) {
        testSay("virDomainSaveJob: %s\n", virGetLastErrorMessage());
        return 1;
    }
    if (*(low = keptLow())) {
        testSay("with a job running the library holds descriptors below 3:%s\n", low);
        return 1;
    }
    /* What a careless application does next: its output goes nowhere
     * (EBADF), not into the library. */
    static const char junk[] = "the application's own output, which must not land in "
                               "the library's descriptors\n";
    for (int fd = 0; fd < 3; fd++)
        if (write(fd, junk, sizeof(junk) - 1) >= 0) {
            testSay("a write to descriptor %d went somewhere\n", fd);
            return 1;
        }
    virJobInfo info;
    if (virJobWait(job, TEST_TIMEOUT_MS) != 0 || virJobGetInfo(job, &info) < 0 ||
        info.state != VIR_JOB_COMPLETE) {
        virErrorPtr e = virJobGetError(job);
        testSay("the save did not complete: %s\n", e ? e->message : "still running");
        return 1;
    }
    virJobDestroy(job);

    /* A second connection, on a node description (the driver's file
     * loading), while the first is open. */
    snprintf(node, sizeof(node), "%s/node.xml", rundir);
    int nfd = open(node, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (nfd < 0) {
        testSay("cannot write %s\n", node);
        return 1;
    }
    static const char xml[] = "<node><domain type='test'><name>n</name>"
                              "<memory unit='MiB'>1</memory></domain></node>";
    (void)!write(nfd, xml, sizeof(xml) - 1);
    close(nfd);
    char uri[700];
    snprintf(uri, sizeof(uri), "test://%s", node);
    virConnectPtr conn2 = virConnectOpen(uri);
    if (!conn2) {
        testSay("virConnectOpen(%s): %s\n", uri, virGetLastErrorMessage());
        return 1;
    }
    if (*(low = keptLow())) {
        testSay("with two connections the library holds descriptors below 3:%s\n", low);
        return 1;
    }

    /* The segment is intact: its header still says what it is. */
    const char *segpath = virSupSegmentPath();
    virShmSegment *seg = segpath ? virShmSegmentOpen(segpath) : NULL;
    if (!seg) {
        testSay("the status segment does not read back: %s\n", virGetLastErrorMessage());
        return 1;
    }
    virShmSegmentClose(seg);
    virConnectClose(conn2);
    virDomainFree(dom);
    if (virConnectClose(conn) != 0) {
        testSay("virConnectClose did not close the connection\n");
        return 1;
    }
    return 0;
}

/* Close the standard descriptors, then use the library. */
static int childStdioClosed(void)
{
    close(0);
    close(1);
    close(2);
    return childMain();
}

static void testStdioClosed(void **s)
{
    (void)s;
    char out[4096];
    int st = testRunChild(childStdioClosed, out, sizeof(out));
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail_msg("with stdio closed (status 0x%x): %s", st, out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(testStdioClosed),
    };
    drvNeedWorker();
    return cmocka_run_group_tests(tests, drvSetupRundir, drvTeardownRundir);
}
