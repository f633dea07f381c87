/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hello.c: connect, say what is there, disconnect. A libvirt client as
 * libvirt's own examples are written: it includes <libvirt/libvirt.h>
 * and builds unchanged against libvirt or, with
 * `pkg-config --cflags --libs libvirtsup-compat`, against libvirtsup.
 *
 *   hello [URI]
 */
#include <stdio.h>
#include <stdlib.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

static int showDomains(virConnectPtr conn)
{
    int nactive, ninactive, i;
    int *ids = NULL;
    char **names = NULL;
    virDomainPtr *doms = NULL;
    int ndoms;

    if ((nactive = virConnectNumOfDomains(conn)) < 0 ||
        (ninactive = virConnectNumOfDefinedDomains(conn)) < 0)
        return -1;
    printf("There are %d active and %d inactive domains\n", nactive, ninactive);

    ids = calloc(nactive + 1, sizeof(*ids));
    if ((nactive = virConnectListDomains(conn, ids, nactive)) < 0)
        goto error;
    for (i = 0; i < nactive; i++) {
        virDomainPtr dom = virDomainLookupByID(conn, ids[i]);
        if (!dom)
            goto error;
        printf("  active   id %d: %s\n", ids[i], virDomainGetName(dom));
        virDomainFree(dom);
    }
    names = calloc(ninactive + 1, sizeof(*names));
    if ((ninactive = virConnectListDefinedDomains(conn, names, ninactive)) < 0)
        goto error;
    for (i = 0; i < ninactive; i++) {
        printf("  inactive: %s\n", names[i]);
        free(names[i]);
    }

    /* The newer call gives both at once. */
    ndoms = virConnectListAllDomains(conn, &doms, VIR_CONNECT_LIST_DOMAINS_ACTIVE |
                                                  VIR_CONNECT_LIST_DOMAINS_INACTIVE);
    if (ndoms < 0)
        goto error;
    printf("virConnectListAllDomains: %d domains\n", ndoms);
    for (i = 0; i < ndoms; i++)
        virDomainFree(doms[i]);
    free(doms);
    free(ids);
    free(names);
    return 0;

 error:
    free(ids);
    free(names);
    return -1;
}

int main(int argc, char *argv[])
{
    const char *uri = argc > 1 ? argv[1] : NULL;
    virConnectPtr conn;
    unsigned long hvVer, libVer;
    char *host, *name;
    int ret = EXIT_FAILURE;

    printf("Attempting to connect to hypervisor\n");
    conn = virConnectOpenAuth(uri, virConnectAuthPtrDefault, 0);
    if (!conn) {
        fprintf(stderr, "No connection to hypervisor: %s\n", virGetLastErrorMessage());
        return EXIT_FAILURE;
    }
    name = virConnectGetURI(conn);
    printf("Connected to hypervisor at \"%s\"\n", name);
    free(name);

    if (virConnectGetVersion(conn, &hvVer) < 0 || virConnectGetLibVersion(conn, &libVer) < 0)
        goto disconnect;
    printf("Hypervisor: %s %lu.%lu.%lu\n", virConnectGetType(conn),
           hvVer / 1000000, hvVer / 1000 % 1000, hvVer % 1000);
    printf("Library version: %lu.%lu.%lu\n", libVer / 1000000, libVer / 1000 % 1000,
           libVer % 1000);
    if (!(host = virConnectGetHostname(conn)))
        goto disconnect;
    printf("Host: %s\n", host);
    free(host);

    if (showDomains(conn) < 0)
        goto disconnect;
    ret = EXIT_SUCCESS;

 disconnect:
    if (ret != EXIT_SUCCESS)
        fprintf(stderr, "Failed: %s\n", virGetLastErrorMessage());
    if (virConnectClose(conn) != 0) {
        fprintf(stderr, "Failed to disconnect from hypervisor: references leaked\n");
        ret = EXIT_FAILURE;
    } else {
        printf("Disconnected from hypervisor\n");
    }
    return ret;
}
