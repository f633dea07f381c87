/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * top.c: a top-style view of the active domains: every interval, each
 * one's CPU use (from virDomainGetInfo's cpuTime), memory, and the
 * progress of its job if it has one (virDomainGetJobInfo).
 *
 *   top [URI [ROUNDS [INTERVAL_MS]]]     (defaults: test:///default, 3, 500)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

typedef struct {
    char uuid[VIR_UUID_STRING_BUFLEN];
    unsigned long long cpuTime;
} Sample;

static double nowSec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static const Sample *findSample(const Sample *s, int n, const char *uuid)
{
    for (int i = 0; i < n; i++)
        if (strcmp(s[i].uuid, uuid) == 0)
            return &s[i];
    return NULL;
}

int main(int argc, char *argv[])
{
    const char *uri = argc > 1 ? argv[1] : "test:///default";
    int rounds = argc > 2 ? atoi(argv[2]) : 3;
    int interval = argc > 3 ? atoi(argv[3]) : 500;
    virConnectPtr conn = virConnectOpenReadOnly(uri);
    Sample *prev = NULL;
    int nprev = 0;
    double prevAt = 0;

    if (!conn) {
        fprintf(stderr, "Unable to connect to %s: %s\n", uri, virGetLastErrorMessage());
        return EXIT_FAILURE;
    }
    for (int r = 0; r < rounds; r++) {
        virDomainPtr *doms = NULL;
        int n = virConnectListAllDomains(conn, &doms, VIR_CONNECT_LIST_DOMAINS_ACTIVE);
        double at = nowSec();
        Sample *cur;

        if (n < 0) {
            fprintf(stderr, "Unable to list domains: %s\n", virGetLastErrorMessage());
            break;
        }
        cur = calloc(n + 1, sizeof(*cur));
        printf("%4s %-16s %-8s %6s %10s  %s\n", "ID", "NAME", "STATE", "CPU%", "MEM(KiB)", "JOB");
        for (int i = 0; i < n; i++) {
            virDomainInfo info;
            virDomainJobInfo job;
            const Sample *p;
            char cpu[16] = "-", jobText[64] = "-";

            if (virDomainGetInfo(doms[i], &info) < 0)
                continue;
            virDomainGetUUIDString(doms[i], cur[i].uuid);
            cur[i].cpuTime = info.cpuTime;
            if ((p = findSample(prev, nprev, cur[i].uuid)) && at > prevAt)
                snprintf(cpu, sizeof(cpu), "%.1f",
                         (double)(info.cpuTime - p->cpuTime) / ((at - prevAt) * 1e9) * 100.0);
            if (virDomainGetJobInfo(doms[i], &job) == 0 && job.type == VIR_DOMAIN_JOB_BOUNDED &&
                job.dataTotal)
                snprintf(jobText, sizeof(jobText), "%llu%%",
                         job.dataProcessed * 100 / job.dataTotal);
            printf("%4d %-16s %-8s %6s %10lu  %s\n", (int)virDomainGetID(doms[i]),
                   virDomainGetName(doms[i]),
                   info.state == VIR_DOMAIN_RUNNING ? "running" :
                   info.state == VIR_DOMAIN_PAUSED ? "paused" : "other",
                   cpu, info.memory, jobText);
            virDomainFree(doms[i]);
        }
        free(doms);
        free(prev);
        prev = cur;
        nprev = n;
        prevAt = at;
        if (r + 1 < rounds) {
            struct timespec ts = { interval / 1000, (interval % 1000) * 1000000L };
            nanosleep(&ts, NULL);
        }
    }
    free(prev);
    virConnectClose(conn);
    return EXIT_SUCCESS;
}
