/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * driver-threads-test.c: 8 threads share one connection; each runs save,
 * restore and dump jobs on its own domain while reading the others' jobs
 * and listing the node. Everything must succeed and the node end as it
 * began. Meant to be clean under SANITIZE=thread as well.
 */
#include <pthread.h>

#include "drivertest.h"

#define NTHREADS 8
#define ROUNDS 3

static virConnectPtr conn;

typedef struct worker {
    int index;
    int failures;
    char msg[512];
} worker;

static void failw(worker *w, const char *what)
{
    if (!w->failures++)
        snprintf(w->msg, sizeof(w->msg), "thread %d: %s: %s", w->index, what,
                 virGetLastErrorMessage());
}

/* A job that did not complete: say why. */
static void failJob(worker *w, const char *what, virJobPtr job)
{
    virJobInfo info = { 0 };
    if (!job) {
        failw(w, what);
        return;
    }
    virJobGetInfo(job, &info);
    if (!w->failures++)
        snprintf(w->msg, sizeof(w->msg), "thread %d: %s: state %d: %s", w->index,
                 what, info.state, drvJobMessage(job));
}

/* Read the other domains' job info and the lists: must never fail. */
static void peekOthers(worker *w)
{
    virDomainPtr *doms = NULL;
    int n = virConnectListAllDomains(conn, &doms, 0);

    if (n < NTHREADS) {
        failw(w, "list");
        return;
    }
    for (int i = 0; i < n; i++) {
        virDomainJobInfo ji;
        virDomainInfo info;
        if (virDomainGetJobInfo(doms[i], &ji) < 0)
            failw(w, "job info");
        if (virDomainGetInfo(doms[i], &info) < 0)
            failw(w, "info");
        char *xml = virDomainGetXMLDesc(doms[i], 0);
        if (!xml)
            failw(w, "xml");
        free(xml);
        virDomainFree(doms[i]);
    }
    free(doms);
}

/* Wait for a job while peeking at the others; returns its state. */
static int waitPeeking(worker *w, virJobPtr job)
{
    virJobInfo info;

    while (virJobWait(job, 20) == 1)
        peekOthers(w);
    if (virJobGetInfo(job, &info) < 0)
        return -1;
    return info.state;
}

static void *run(void *arg)
{
    worker *w = arg;
    char name[32], img[512], core[512];
    virDomainPtr dom;

    snprintf(name, sizeof(name), "d%d", w->index);
    if (!(dom = virDomainLookupByName(conn, name))) {
        failw(w, "lookup");
        return NULL;
    }
    snprintf(img, sizeof(img), "%s/%s.img", rundir, name);
    snprintf(core, sizeof(core), "%s/%s.core", rundir, name);
    for (int r = 0; r < ROUNDS && !w->failures; r++) {
        virJobPtr job;

        if (!(job = virDomainSaveJob(dom, img)) || waitPeeking(w, job) != VIR_JOB_COMPLETE)
            failJob(w, "save", job);
        virJobDestroy(job);
        if (!(job = virDomainRestoreJob(conn, img)) || waitPeeking(w, job) != VIR_JOB_COMPLETE)
            failJob(w, "restore", job);
        virJobDestroy(job);
        if (!(job = virDomainDumpCoreJob(dom, core, 0)) ||
            waitPeeking(w, job) != VIR_JOB_COMPLETE)
            failJob(w, "dump", job);
        virJobDestroy(job);
        int st = -1;
        if (virDomainGetState(dom, &st, NULL, 0) < 0 || st != VIR_DOMAIN_RUNNING)
            failw(w, "state after round");
    }
    virDomainFree(dom);
    return NULL;
}

static void testEightThreads(void **state)
{
    (void)state;
    pthread_t th[NTHREADS];
    worker w[NTHREADS];

    for (int i = 0; i < NTHREADS; i++) {
        memset(&w[i], 0, sizeof(w[i]));
        w[i].index = i;
        assert_int_equal(pthread_create(&th[i], NULL, run, &w[i]), 0);
    }
    for (int i = 0; i < NTHREADS; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
    for (int i = 0; i < NTHREADS; i++)
        if (w[i].failures)
            fail_msg("%s (%d failures)", w[i].msg, w[i].failures);

    virDomainPtr *doms;
    int n = virConnectListAllDomains(conn, &doms, VIR_CONNECT_LIST_DOMAINS_RUNNING);
    assert_int_equal(n, NTHREADS);
    for (int i = 0; i < n; i++) {
        virDomainJobInfo ji;
        assert_int_equal(virDomainGetJobInfo(doms[i], &ji), 0);
        assert_int_equal(ji.type, VIR_DOMAIN_JOB_NONE);
        virDomainFree(doms[i]);
    }
    free(doms);
}

/* Threads keep starting jobs through their domain handles while the
 * connection is closed under them: each call either starts a job (which
 * the close cancels and reaps) or fails with VIR_ERR_INVALID_CONN. */
typedef struct closer {
    virDomainPtr dom;
    char img[512];
    _Atomic int started;
    int bad;
} closer;

static void *startLoop(void *arg)
{
    closer *c = arg;
    for (;;) {
        virJobPtr job = virDomainSaveJob(c->dom, c->img);
        if (!job) {
            int code = drvLastCode();
            if (code == VIR_ERR_INVALID_CONN)
                return NULL;
            c->bad++;
            return NULL;
        }
        c->started++;
        virJobWait(job, -1);
        virJobDestroy(job);
        /* Restore so the next save finds it running (fails harmlessly
         * once the connection is closed). */
        virDomainRestore(virDomainGetConnect(c->dom), c->img);
    }
}

static void testCloseWhileStarting(void **state)
{
    (void)state;
    char uri[600];
    snprintf(uri, sizeof(uri), "test://%s/node.xml?grace=200", rundir);
    virConnectPtr c2 = virConnectOpen(uri);
    closer cl[4];
    pthread_t th[4];

    assert_non_null(c2);
    for (int i = 0; i < 4; i++) {
        memset(&cl[i], 0, sizeof(cl[i]));
        char name[16];
        snprintf(name, sizeof(name), "d%d", i);
        cl[i].dom = virDomainLookupByName(c2, name);
        snprintf(cl[i].img, sizeof(cl[i].img), "%s/close-%d.img", rundir, i);
        assert_int_equal(pthread_create(&th[i], NULL, startLoop, &cl[i]), 0);
    }
    assert_true(TEST_WAIT_UNTIL(cl[0].started + cl[1].started + cl[2].started +
                                cl[3].started > 0, TEST_TIMEOUT_MS));
    /* As libvirt: positive, the four domain handles (and any job handle)
     * still hold it. */
    assert_true(virConnectClose(c2) >= 4);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_int_equal(cl[i].bad, 0);
        virDomainFree(cl[i].dom);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(testEightThreads),
        cmocka_unit_test(testCloseWhileStarting),
    };
    char node[8192], path[512], uri[600];
    size_t off = 0;
    int rc;

    drvNeedWorker();
    if (drvSetupRundir(NULL) < 0)
        return 1;
    off += snprintf(node + off, sizeof(node) - off, "<node>\n");
    for (int i = 0; i < NTHREADS; i++)
        off += snprintf(node + off, sizeof(node) - off,
                        "<domain type='test'><name>d%d</name><memory unit='MiB'>%d</memory>"
                        "<vcpu>2</vcpu></domain>\n", i, 2 + i);
    off += snprintf(node + off, sizeof(node) - off, "</node>\n");
    snprintf(path, sizeof(path), "%s/node.xml", rundir);
    FILE *f = fopen(path, "w");
    if (!f || fwrite(node, 1, off, f) != off || fclose(f) != 0)
        return 1;
    snprintf(uri, sizeof(uri), "test://%s", path);
    if (!(conn = virConnectOpen(uri))) {
        printf("cannot open %s: %s\n", uri, virGetLastErrorMessage());
        return 1;
    }
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    if (virConnectClose(conn) != 0)
        rc = 1;
    drvTeardownRundir(NULL);
    return rc;
}
