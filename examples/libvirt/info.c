/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * info.c: what a domain is, found by its ID, as libvirt's dominfo
 * example does.
 *
 *   info [URI [ID]]     (defaults: test:///default, 1)
 */
#include <stdio.h>
#include <stdlib.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

static const char *stateName(int state)
{
    switch (state) {
    case VIR_DOMAIN_NOSTATE: return "no state";
    case VIR_DOMAIN_RUNNING: return "running";
    case VIR_DOMAIN_BLOCKED: return "blocked";
    case VIR_DOMAIN_PAUSED: return "paused";
    case VIR_DOMAIN_SHUTDOWN: return "being shut down";
    case VIR_DOMAIN_SHUTOFF: return "shut off";
    case VIR_DOMAIN_CRASHED: return "crashed";
    case VIR_DOMAIN_PMSUSPENDED: return "suspended by power management";
    }
    return "?";
}

int main(int argc, char *argv[])
{
    const char *uri = argc > 1 ? argv[1] : "test:///default";
    int id = argc > 2 ? atoi(argv[2]) : 1;
    virConnectPtr conn;
    virDomainPtr dom = NULL;
    virDomainInfo info;
    char uuid[VIR_UUID_STRING_BUFLEN];
    int state, reason, ret = EXIT_FAILURE;

    if (!(conn = virConnectOpenReadOnly(uri))) {
        fprintf(stderr, "Failed to connect to %s\n", uri);
        return EXIT_FAILURE;
    }
    if (!(dom = virDomainLookupByID(conn, id))) {
        fprintf(stderr, "Failed to find domain %d: %s\n", id, virGetLastErrorMessage());
        goto error;
    }
    if (virDomainGetInfo(dom, &info) < 0 || virDomainGetUUIDString(dom, uuid) < 0 ||
        virDomainGetState(dom, &state, &reason, 0) < 0) {
        fprintf(stderr, "Failed to get information for domain %d\n", id);
        goto error;
    }
    printf("Domain %d: %s\n", virDomainGetID(dom), virDomainGetName(dom));
    printf("  UUID:       %s\n", uuid);
    printf("  state:      %s (%s, reason %d)\n", stateName(info.state),
           info.state == state ? "as virDomainGetState says" : "virDomainGetState differs",
           reason);
    printf("  vCPUs:      %d\n", info.nrVirtCpu);
    printf("  max memory: %lu KiB\n", info.maxMem);
    printf("  memory:     %lu KiB\n", info.memory);
    printf("  active:     %d\n", virDomainIsActive(dom));
    printf("  persistent: %d\n", virDomainIsPersistent(dom));
    ret = EXIT_SUCCESS;

 error:
    if (dom)
        virDomainFree(dom);
    virConnectClose(conn);
    return ret;
}
