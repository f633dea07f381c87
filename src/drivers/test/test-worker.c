/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-worker.c: what the test driver's worker ops share: parameters,
 * faults, the ending of a job.
 */
#include "util/internal.h"
#undef VIR_FROM_THIS   /* unit tests include several of these files in one unit */
#define VIR_FROM_THIS VIR_FROM_TEST
#include "util/virerror.h"
#include "util/viralloc.h"
#include "drivers/test/test-worker.h"

void testFaultInit(testFaultState *s, const testFault *faults, uint32_t nfaults,
                   uint32_t op)
{
    memset(s, 0, sizeof(*s));
    for (uint32_t i = 0; i < nfaults && i < TEST_FAULTS_MAX; i++)
        if (faults[i].ops & op)
            s->faults[s->nfaults++] = faults[i];
}

void testFaultPoll(virWorkerJobPtr job, testFaultState *s, unsigned int percent)
{
    for (uint32_t i = 0; i < s->nfaults; i++) {
        const char *name;
        if ((s->fired & (1u << i)) || percent < s->faults[i].at)
            continue;
        s->fired |= 1u << i;
        if ((name = testFaultActionName(s->faults[i].action)))
            (void)virWorkerJobInjectFault(job, name);
    }
}

int testJobParamsGet(const void *params, size_t len, testJobParams *p,
                     const char **xml)
{
    const char *why = NULL;

    if (testJobParamsCheck(params, len, &why) < 0) {
        virReportError(VIR_ERR_INTERNAL_ERROR, "invalid test job parameters: %s", why);
        return -1;
    }
    memcpy(p, params, sizeof(*p));
    *xml = (const char *)params + sizeof(*p);
    return 0;
}

void testJobEnd(virWorkerJobPtr job, int rc)
{
    if (rc == 0) {
        virWorkerJobFinishSuccess(job);
    } else if (rc == VIR_WORKER_IO_CANCELLED) {
        if (!virWorkerJobFinishCancel(job))
            virWorkerJobFinishFailure(job, VIR_ERR_OPERATION_ABORTED, "%s",
                                "job stopped on a cancel request that was withdrawn");
    } else {
        virWorkerJobFinishError(job);
    }
}

int testJobSetDefResult(virWorkerJobPtr job, const void *def, size_t size,
                        const virXMLKeep *keep)
{
    VIR_AUTOFREE(uint8_t *) blob = NULL;
    size_t klen = keep ? keep->len : 0;

    if (!(blob = virAllocN(size + klen, 1)))
        return -1;
    memcpy(blob, def, size);
    if (klen)
        memcpy(blob + size, keep->data, klen);
    if (virWorkerJobSetResult(job, blob, size + klen) < 0) {
        virReportError(VIR_ERR_INTERNAL_ERROR, "%s", "cannot attach the definition to the job");
        return -1;
    }
    return 0;
}

int testJobResourceFD(virWorkerJobPtr job, const char *name, const char *what)
{
    int fd = virWorkerJobFD(job, name);
    if (fd < 0)
        virReportError(VIR_ERR_INTERNAL_ERROR, "job was given no descriptor for the %s", what);
    return fd;
}

int testJobDomainTarget(virWorkerJobPtr job, const void *params, size_t len,
                        testJobParams *p, const char **xml, const char *what)
{
    const char *why;

    if (testJobParamsGet(params, len, p, xml) < 0)
        return -1;
    if (testDomainDefCheck(&p->dom, &why) < 0) {
        virReportError(VIR_ERR_INTERNAL_ERROR, "invalid domain for the %s: %s", what, why);
        return -1;
    }
    return testJobResourceFD(job, TEST_FD_OUTPUT, what);
}
