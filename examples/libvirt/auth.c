/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * auth.c: connect with authentication callbacks of the application's
 * own, as libvirt's openauth example does: the callback answers each
 * credential the driver asks for from the command line.
 *
 *   auth URI USERNAME PASSWORD
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

typedef struct {
    const char *username;
    const char *password;
    int asked;
} AuthData;

static int credTypes[] = { VIR_CRED_AUTHNAME, VIR_CRED_PASSPHRASE };

static int authCallback(virConnectCredentialPtr cred, unsigned int ncred, void *cbdata)
{
    AuthData *data = cbdata;

    for (unsigned int i = 0; i < ncred; i++) {
        const char *answer;

        data->asked++;
        if (cred[i].type == VIR_CRED_AUTHNAME)
            answer = data->username;
        else if (cred[i].type == VIR_CRED_PASSPHRASE)
            answer = data->password;
        else
            return -1;
        cred[i].result = strdup(answer);
        if (!cred[i].result)
            return -1;
        cred[i].resultlen = strlen(answer);
    }
    return 0;
}

int main(int argc, char *argv[])
{
    AuthData data;
    virConnectAuth auth;
    virConnectPtr conn;
    virDomainPtr dom;
    int readonly;

    if (argc != 4) {
        fprintf(stderr, "Usage: %s URI USERNAME PASSWORD\n", argv[0]);
        return EXIT_FAILURE;
    }
    data.username = argv[2];
    data.password = argv[3];
    data.asked = 0;
    auth.credtype = credTypes;
    auth.ncredtype = sizeof(credTypes) / sizeof(int);
    auth.cb = authCallback;
    auth.cbdata = &data;

    conn = virConnectOpenAuth(argv[1], &auth, VIR_CONNECT_RO);
    if (!conn) {
        fprintf(stderr, "Unable to connect to %s: %s\n", argv[1], virGetLastErrorMessage());
        return EXIT_FAILURE;
    }
    printf("Connected to %s; credentials asked: %d\n", argv[1], data.asked);

    /* Read-only: looking is allowed, changing is not. */
    if (!(dom = virDomainLookupByName(conn, "test"))) {
        fprintf(stderr, "No domain 'test': %s\n", virGetLastErrorMessage());
        virConnectClose(conn);
        return EXIT_FAILURE;
    }
    readonly = virDomainSuspend(dom) < 0 && virGetLastError() &&
               virGetLastError()->code == VIR_ERR_OPERATION_DENIED;
    printf("Read-only connection refuses changes: %s\n", readonly ? "yes" : "no");
    virDomainFree(dom);
    virConnectClose(conn);
    return readonly ? EXIT_SUCCESS : EXIT_FAILURE;
}
