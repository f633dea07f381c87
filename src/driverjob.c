/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * driverjob.c: the job helpers every driver shares (see driverjob.h).
 */
#include "driverjob.h"
#include "util/viralloc.h"

#define VIR_FROM_THIS VIR_FROM_JOB
#include "util/virerror.h"

/* ---- results ---- */

virDomainPtr virDriverJobResultDomainNew(virConnectPtr conn, const char *name,
                                         const unsigned char *uuid)
{
    virDomainPtr dom = virGetDomain(conn, name, uuid);

    if (!dom)
        virReportOOMError();
    return dom;
}

virNetworkPtr virDriverJobResultNetworkNew(virConnectPtr conn, const char *name,
                                           const unsigned char *uuid)
{
    virNetworkPtr net = virGetNetwork(conn, name, uuid);

    if (!net)
        virReportOOMError();
    return net;
}

static void releaseDomain(void *ref)
{
    virDomainFree(ref);
}

static void releaseNetwork(void *ref)
{
    virNetworkFree(ref);
}

int virDriverJobResultDomainGive(virJobPtr job, virDomainPtr dom)
{
    if (virSupJobSetResult(job, VIR_DRIVER_RESULT_DOMAIN, dom, releaseDomain) < 0) {
        virDriverJobResultDomainDrop(dom);
        return -1;
    }
    return 0;
}

int virDriverJobResultNetworkGive(virJobPtr job, virNetworkPtr net)
{
    if (virSupJobSetResult(job, VIR_DRIVER_RESULT_NETWORK, net, releaseNetwork) < 0) {
        virDriverJobResultNetworkDrop(net);
        return -1;
    }
    return 0;
}

void virDriverJobResultDomainDrop(virDomainPtr dom)
{
    virErrorPtr saved;

    if (!dom)
        return;
    saved = virSaveLastError();
    virDomainFree(dom);
    virRestoreLastError(&saved);
}

void virDriverJobResultNetworkDrop(virNetworkPtr net)
{
    virErrorPtr saved;

    if (!net)
        return;
    saved = virSaveLastError();
    virNetworkFree(net);
    virRestoreLastError(&saved);
}

/* ---- the synchronous calls ---- */

int virDriverJobWaitResult(virJobPtr job, virDomainPtr *dom, virNetworkPtr *net)
{
    virJobInfo info;
    virErrorPtr saved;
    int ret = -1;

    if (!job)
        return -1;
    if (virJobWait(job, -1) != 0 || virJobGetInfo(job, &info) < 0)
        goto cleanup;
    if (info.state == VIR_JOB_COMPLETE) {
        if (dom && !(*dom = virJobGetDomain(job)))
            goto cleanup;
        if (net && !(*net = virJobGetNetwork(job)))
            goto cleanup;
        ret = 0;
    } else {
        virErrorPtr err = virJobGetError(job);
        if (err && err->message)
            virReportErrorFull(err->domain, err->code, err->int1, "%s",
                               err->message);
        else
            virReportError(VIR_ERR_OPERATION_FAILED, "job %llu %s",
                           virJobGetID(job),
                           info.state == VIR_JOB_CANCELLED ? "was cancelled"
                                                           : "failed");
    }

 cleanup:
    saved = ret < 0 ? virSaveLastError() : NULL;
    virJobDestroy(job);
    if (ret < 0)
        virRestoreLastError(&saved);
    return ret;
}
