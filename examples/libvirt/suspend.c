/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * suspend.c: suspend a running domain and resume it, checking its state
 * in between, as libvirt's suspend example does.
 *
 *   suspend [URI [NAME]]     (defaults: test:///default, the first running domain)
 */
#include <stdio.h>
#include <stdlib.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

static int checkState(virDomainPtr dom, int want, const char *what)
{
    int state, reason;

    if (virDomainGetState(dom, &state, &reason, 0) < 0) {
        fprintf(stderr, "Unable to get the state: %s\n", virGetLastErrorMessage());
        return -1;
    }
    printf("%s: state %d, reason %d\n", what, state, reason);
    if (state != want) {
        fprintf(stderr, "expected state %d\n", want);
        return -1;
    }
    return 0;
}

int main(int argc, char *argv[])
{
    const char *uri = argc > 1 ? argv[1] : "test:///default";
    virConnectPtr conn;
    virDomainPtr dom = NULL, *doms = NULL;
    int ndoms, ret = EXIT_FAILURE;

    if (!(conn = virConnectOpen(uri))) {
        fprintf(stderr, "Unable to connect to %s\n", uri);
        return EXIT_FAILURE;
    }
    if (argc > 2) {
        dom = virDomainLookupByName(conn, argv[2]);
    } else {
        ndoms = virConnectListAllDomains(conn, &doms, VIR_CONNECT_LIST_DOMAINS_RUNNING);
        if (ndoms > 0)
            dom = doms[0];
        for (int i = 1; i < ndoms; i++)
            virDomainFree(doms[i]);
        free(doms);
    }
    if (!dom) {
        fprintf(stderr, "No running domain: %s\n", virGetLastErrorMessage());
        goto cleanup;
    }
    printf("Domain '%s'\n", virDomainGetName(dom));
    if (checkState(dom, VIR_DOMAIN_RUNNING, "before") < 0)
        goto cleanup;
    if (virDomainSuspend(dom) < 0) {
        fprintf(stderr, "Unable to suspend: %s\n", virGetLastErrorMessage());
        goto cleanup;
    }
    if (checkState(dom, VIR_DOMAIN_PAUSED, "suspended") < 0)
        goto cleanup;
    if (virDomainSuspend(dom) == 0) {
        fprintf(stderr, "a paused domain was suspended again\n");
        goto cleanup;
    }
    printf("suspending again fails: %s\n", virGetLastErrorMessage());
    if (virDomainResume(dom) < 0) {
        fprintf(stderr, "Unable to resume: %s\n", virGetLastErrorMessage());
        goto cleanup;
    }
    if (checkState(dom, VIR_DOMAIN_RUNNING, "resumed") < 0)
        goto cleanup;
    ret = EXIT_SUCCESS;

 cleanup:
    if (dom)
        virDomainFree(dom);
    virConnectClose(conn);
    return ret;
}
