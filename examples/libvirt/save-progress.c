/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * save-progress.c: what virsh's `save --verbose` does, with an abort: a
 * second thread runs the blocking virDomainSave while the main thread
 * polls virDomainGetJobInfo and prints "Save: [ 42 %]"; the first save is
 * aborted with virDomainAbortJob at a quarter (from a second connection,
 * as another program would), the second one runs to its end, and the
 * domain is restored.
 *
 *   save-progress URI DOMAIN IMAGE
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

typedef struct {
    virDomainPtr dom;
    const char *image;
    int ret;
    int code;
    char message[256];
    volatile int done;
} SaveRun;

static void *saveThread(void *opaque)
{
    SaveRun *run = opaque;

    run->ret = virDomainSave(run->dom, run->image);
    if (run->ret < 0) {
        virErrorPtr err = virGetLastError();
        run->code = err ? err->code : 0;
        snprintf(run->message, sizeof(run->message), "%s",
                 err && err->message ? err->message : "unknown error");
    }
    run->done = 1;
    return NULL;
}

static void pause50ms(void)
{
    struct timespec ts = { 0, 50 * 1000000L };
    nanosleep(&ts, NULL);
}

/* Run one save in a thread; watch it through @watch (another connection's
 * handle of the same domain); abort it at @abortAt percent (0: never). */
static int runSave(virDomainPtr dom, virDomainPtr watch, const char *image, int abortAt)
{
    SaveRun run = { dom, image, 0, 0, "", 0 };
    pthread_t th;
    int last = -1, aborted = 0;

    if (pthread_create(&th, NULL, saveThread, &run) != 0)
        return -1;
    while (!run.done) {
        virDomainJobInfo info;
        if (virDomainGetJobInfo(watch, &info) == 0 && info.type == VIR_DOMAIN_JOB_BOUNDED &&
            info.dataTotal) {
            int pct = (int)(100 - info.dataRemaining * 100 / info.dataTotal);
            if (pct >= 100)
                pct = 99;
            if (pct != last)
                fprintf(stderr, "\rSave: [%3d %%]", pct);
            last = pct;
            if (abortAt && !aborted && pct >= abortAt) {
                if (virDomainAbortJob(watch) < 0)
                    fprintf(stderr, "\nabort failed: %s\n", virGetLastErrorMessage());
                aborted = 1;
            }
        }
        pause50ms();
    }
    pthread_join(th, NULL);
    if (run.ret == 0)
        fprintf(stderr, "\rSave: [100 %%]\n");
    else
        fprintf(stderr, "\n");
    if (run.ret == 0) {
        printf("save: completed, progress seen up to %d %%\n", last);
        return 0;
    }
    printf("save: failed (%s): %s\n",
           run.code == VIR_ERR_OPERATION_ABORTED ? "aborted" : "other error", run.message);
    return aborted && run.code == VIR_ERR_OPERATION_ABORTED ? 1 : -1;
}

int main(int argc, char *argv[])
{
    virConnectPtr conn, other;
    virDomainPtr dom = NULL, watch = NULL;
    int state, reason, ret = EXIT_FAILURE;

    if (argc != 4) {
        fprintf(stderr, "Usage: %s URI DOMAIN IMAGE\n", argv[0]);
        return EXIT_FAILURE;
    }
    conn = virConnectOpen(argv[1]);
    other = virConnectOpen(argv[1]);
    if (!conn || !other || !(dom = virDomainLookupByName(conn, argv[2])) ||
        !(watch = virDomainLookupByName(other, argv[2]))) {
        fprintf(stderr, "Unable to find domain %s: %s\n", argv[2], virGetLastErrorMessage());
        goto cleanup;
    }
    if (runSave(dom, watch, argv[3], 25) != 1) {
        fprintf(stderr, "the first save was not aborted\n");
        goto cleanup;
    }
    if (access(argv[3], F_OK) == 0 || virDomainGetState(dom, &state, &reason, 0) < 0 ||
        state != VIR_DOMAIN_RUNNING) {
        fprintf(stderr, "the aborted save left an image or stopped the domain\n");
        goto cleanup;
    }
    printf("after the abort: no image, the domain still runs\n");
    if (runSave(dom, watch, argv[3], 0) != 0)
        goto cleanup;
    if (virDomainGetState(dom, &state, &reason, 0) < 0 || state != VIR_DOMAIN_SHUTOFF ||
        reason != VIR_DOMAIN_SHUTOFF_SAVED) {
        fprintf(stderr, "the saved domain is not shut off (saved)\n");
        goto cleanup;
    }
    printf("after the save: shut off (saved)\n");
    if (virDomainRestore(conn, argv[3]) < 0 || virDomainGetState(dom, &state, &reason, 0) < 0 ||
        state != VIR_DOMAIN_RUNNING || reason != VIR_DOMAIN_RUNNING_RESTORED) {
        fprintf(stderr, "restore failed: %s\n", virGetLastErrorMessage());
        goto cleanup;
    }
    printf("after the restore: running (restored)\n");
    ret = EXIT_SUCCESS;

 cleanup:
    if (watch)
        virDomainFree(watch);
    if (dom)
        virDomainFree(dom);
    if (other)
        virConnectClose(other);
    if (conn)
        virConnectClose(conn);
    return ret;
}
