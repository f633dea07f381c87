/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * jobs-then-die.c: a client for tests/supervisor-death-test.c. It opens a
 * node with N paced domains, starts a save of each into DESTDIR, waits
 * until every save shows progress, prints
 *   ready PID...
 * (the worker pids) and waits to be killed.
 *
 * Usage: jobs-then-die NODEFILE DESTDIR N
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "libvirtsup/libvirtsup.h"
#include "supervisor/job-priv.h"
#include "../testutils.h"

int main(int argc, char **argv)
{
    virConnectPtr conn;
    virJobPtr jobs[64];
    char uri[600], name[32], path[600];
    int n;

    if (argc != 4 || (n = atoi(argv[3])) < 1 || n > 64) {
        fprintf(stderr, "usage: jobs-then-die NODEFILE DESTDIR N (1..64)\n");
        return 2;
    }
    snprintf(uri, sizeof(uri), "test://%s", argv[1]);
    if (!(conn = virConnectOpen(uri))) {
        fprintf(stderr, "cannot open %s: %s\n", uri, virGetLastErrorMessage());
        return 1;
    }
    for (int i = 0; i < n; i++) {
        virDomainPtr dom;
        snprintf(name, sizeof(name), "d%d", i);
        snprintf(path, sizeof(path), "%s/%s.img", argv[2], name);
        if (!(dom = virDomainLookupByName(conn, name)) ||
            !(jobs[i] = virDomainSaveJob(dom, path))) {
            fprintf(stderr, "cannot save %s: %s\n", name, virGetLastErrorMessage());
            return 1;
        }
        virDomainFree(dom);
    }
    for (int i = 0; i < n; i++) {
        virJobInfo info;
        if (!TEST_WAIT_UNTIL(virJobGetInfo(jobs[i], &info) == 0 &&
                             (info.state != VIR_JOB_RUNNING ||
                              (info.percentComplete > 0 && jobs[i]->pid > 0)),
                             TEST_TIMEOUT_MS)) {
            fprintf(stderr, "job %d shows no progress\n", i);
            return 1;
        }
        if (info.state != VIR_JOB_RUNNING) {
            virErrorPtr e = virJobGetError(jobs[i]);
            fprintf(stderr, "job %d is no longer running (state %d): %s\n", i, info.state,
                    e && e->message ? e->message : "");
            return 1;
        }
    }
    printf("ready");
    for (int i = 0; i < n; i++)
        printf(" %d", (int)jobs[i]->pid);
    printf("\n");
    fflush(stdout);
    for (;;)
        pause();
}
