/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The return and error conventions of libvirt's calls, written against
 * libvirt's API only. tests/libvirt-conventions-test.sh builds this file
 * twice, through pkg-config libvirtsup-compat and, where libvirt's
 * development files are installed, against libvirt itself (its test
 * driver), and runs both: every expectation below holds for both
 * libraries, except where LIBVIRTSUP_COMPAT marks a documented difference.
 *
 * Usage: conventions   (prints "ok: ..." / "FAIL: ..."; exit 1 on failure)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

static int failures;

#define CHECK(what, cond) \
    do { \
        if (cond) { \
            printf("ok: %s\n", what); \
        } else { \
            printf("FAIL: %s (line %d)\n", what, __LINE__); \
            failures++; \
        } \
    } while (0)

/* The last error is @code from @domain. */
static int lastIs(int code, int domain)
{
    virErrorPtr e = virGetLastError();
    if (e && e->code == code && e->domain == domain && e->message &&
        e->level == VIR_ERR_ERROR)
        return 1;
    printf("    last error: code %d domain %d: %s\n", e ? e->code : 0,
           e ? e->domain : 0, e && e->message ? e->message : "(none)");
    return 0;
}

static int handled;
static int handledCode;
static void *handledData;

static void countingHandler(void *data, virErrorPtr err)
{
    handled++;
    handledCode = err->code;
    handledData = data;
}

static void errorHandlers(void)
{
    virConnectPtr conn = virConnectOpen("test:///default");
    int fds[2];
    char buf[512] = "";
    ssize_t n;

    /* Without a handler, the error is printed on stderr. */
    if (pipe(fds) == 0) {
        int saved = dup(2);
        fflush(stderr);
        dup2(fds[1], 2);
        virDomainLookupByName(conn, "no-such-domain");
        fflush(stderr);
        dup2(saved, 2);
        close(saved);
        close(fds[1]);
        n = read(fds[0], buf, sizeof(buf) - 1);
        buf[n > 0 ? n : 0] = '\0';
        close(fds[0]);
    }
    CHECK("default handler: one line on stderr naming the error's domain",
          strstr(buf, "Test Driver error : ") && strchr(buf, '\n') == buf + strlen(buf) - 1);

    virSetErrorFunc((void *)0x1234, countingHandler);
    handled = 0;
    virDomainLookupByName(conn, "no-such-domain");
    CHECK("virSetErrorFunc: the handler gets the error and its data",
          handled == 1 && handledCode == VIR_ERR_NO_DOMAIN && handledData == (void *)0x1234);

    virConnSetErrorFunc(conn, (void *)0x5678, countingHandler);
    handled = 0;
    virDomainLookupByName(conn, "no-such-domain");
    CHECK("virConnSetErrorFunc: the connection's handler goes first",
          handled == 1 && handledData == (void *)0x5678);
    handled = 0;
    virDomainLookupByName(NULL, "x");
    CHECK("an error without a connection goes to the global handler",
          handled == 1 && handledData == (void *)0x1234 && handledCode == VIR_ERR_INVALID_CONN);
    virConnSetErrorFunc(conn, NULL, NULL);

    virErrorPtr ce = virConnGetLastError(conn);
    CHECK("virConnGetLastError: the connection's last error",
          ce && ce->code == VIR_ERR_NO_DOMAIN);
    virError copy;
    CHECK("virConnCopyLastError returns its code",
          virConnCopyLastError(conn, &copy) == VIR_ERR_NO_DOMAIN && copy.message);
    virResetError(&copy);
    virConnResetLastError(conn);
    ce = virConnGetLastError(conn);
    CHECK("virConnResetLastError forgets it", !ce || ce->code == VIR_ERR_OK);

    virDomainLookupByName(conn, "no-such-domain");
    virErrorPtr saved = virSaveLastError();
    CHECK("virSaveLastError copies the last error",
          saved && saved->code == VIR_ERR_NO_DOMAIN && virGetLastErrorCode() == VIR_ERR_NO_DOMAIN &&
          virGetLastErrorDomain() == VIR_FROM_TEST);
    virFreeError(saved);
    virResetLastError();
    CHECK("virResetLastError: no error, code 0", !virGetLastError() && virGetLastErrorCode() == 0);
    virConnectClose(conn);
}

static void typedParams(void)
{
    virTypedParameterPtr p = NULL;
    int n = 0, max = 0, i = -1, b = -1;
    unsigned int ui = 0;
    long long l = 0;
    unsigned long long ul = 0;
    double d = 0;
    const char *s = NULL;

    CHECK("virTypedParamsAdd* of every type",
          virTypedParamsAddInt(&p, &n, &max, "int", -5) == 0 &&
          virTypedParamsAddUInt(&p, &n, &max, "uint", 5) == 0 &&
          virTypedParamsAddLLong(&p, &n, &max, "llong", -(1LL << 40)) == 0 &&
          virTypedParamsAddULLong(&p, &n, &max, "ullong", 1ULL << 60) == 0 &&
          virTypedParamsAddDouble(&p, &n, &max, "double", 0.5) == 0 &&
          virTypedParamsAddBoolean(&p, &n, &max, "bool", 7) == 0 &&
          virTypedParamsAddString(&p, &n, &max, "string", "text") == 0 &&
          n == 7 && max >= 7);
    CHECK("virTypedParamsGet* read them back (1, boolean as 0/1)",
          virTypedParamsGetInt(p, n, "int", &i) == 1 && i == -5 &&
          virTypedParamsGetUInt(p, n, "uint", &ui) == 1 && ui == 5 &&
          virTypedParamsGetLLong(p, n, "llong", &l) == 1 && l == -(1LL << 40) &&
          virTypedParamsGetULLong(p, n, "ullong", &ul) == 1 && ul == 1ULL << 60 &&
          virTypedParamsGetDouble(p, n, "double", &d) == 1 && d == 0.5 &&
          virTypedParamsGetBoolean(p, n, "bool", &b) == 1 && b == 1 &&
          virTypedParamsGetString(p, n, "string", &s) == 1 && s && strcmp(s, "text") == 0);
    CHECK("a duplicate name is appended (libvirt 9)",
          virTypedParamsAddInt(&p, &n, &max, "int", 9) == 0 && n == 8 &&
          virTypedParamsGetInt(p, n, "int", &i) == 1 && i == -5);
    CHECK("an absent field: 0, no error",
          virTypedParamsGetInt(p, n, "absent", &i) == 0 && !virGetLastError());
    CHECK("a NULL name: 0, no error",
          virTypedParamsGetInt(p, n, NULL, &i) == 0 && !virGetLastError());
    CHECK("another type: -1 VIR_ERR_INVALID_ARG",
          virTypedParamsGetULLong(p, n, "int", &ul) == -1 &&
          lastIs(VIR_ERR_INVALID_ARG, VIR_FROM_NONE));
    CHECK("a name of 80 bytes: -1 VIR_ERR_INTERNAL_ERROR",
          virTypedParamsAddInt(&p, &n, &max,
                               "01234567890123456789012345678901234567890123456789"
                               "012345678901234567890123456789", 1) == -1 &&
          lastIs(VIR_ERR_INTERNAL_ERROR, VIR_FROM_NONE) && n == 8);
    CHECK("virTypedParamsGet finds the first of a name",
          virTypedParamsGet(p, n, "uint") == &p[1] && virTypedParamsGet(p, n, "zz") == NULL);
    virTypedParamsClear(p, n);
    free(p);
    virTypedParamsFree(NULL, 0);
}

static void versions(void)
{
    unsigned long lib = 0, type = 0;
    virConnectPtr conn = virConnectOpen("test:///default");

    CHECK("virGetVersion(libVer, type, typeVer): 0, both set",
          virGetVersion(&lib, "Test", &type) == 0 && lib > 0 && type == lib);
    CHECK("virGetVersion(NULL, ...): -1", virGetVersion(NULL, NULL, NULL) == -1);
    CHECK("virConnectGetType: TEST", conn && strcmp(virConnectGetType(conn), "TEST") == 0);
    CHECK("virConnectGetVersion: the test driver's 2",
          virConnectGetVersion(conn, &type) == 0 && type == 2);
    CHECK("virConnectGetVersion(NULL): -1 VIR_ERR_INVALID_ARG from the domain API",
          virConnectGetVersion(conn, NULL) == -1 && lastIs(VIR_ERR_INVALID_ARG, VIR_FROM_DOMAIN));
    CHECK("virConnectGetLibVersion: the library's",
          virConnectGetLibVersion(conn, &type) == 0 && type == lib);
    char *host = virConnectGetHostname(conn);
    char mine[256] = "";
    gethostname(mine, sizeof(mine) - 1);
    CHECK("virConnectGetHostname: the host's name, malloc'd", host && strcmp(host, mine) == 0);
    free(host);
    char *uri = virConnectGetURI(conn);
    CHECK("virConnectGetURI: malloc'd", uri && strcmp(uri, "test:///default") == 0);
    free(uri);
    CHECK("alive 1, encrypted 0, secure 1",
          virConnectIsAlive(conn) == 1 && virConnectIsEncrypted(conn) == 0 &&
          virConnectIsSecure(conn) == 1);
    CHECK("virConnectGetType(NULL): VIR_ERR_INVALID_CONN from the domain API",
          virConnectGetType(NULL) == NULL && lastIs(VIR_ERR_INVALID_CONN, VIR_FROM_DOMAIN));
    virConnectClose(conn);
}

static void closeCb(virConnectPtr conn, int reason, void *opaque)
{
    (void)conn;
    (void)reason;
    (void)opaque;
}

static void closeCb2(virConnectPtr conn, int reason, void *opaque)
{
    closeCb(conn, reason, opaque);
}

static int freed;
static void countFree(void *opaque)
{
    (void)opaque;
    freed++;
}

static void connections(void)
{
    virConnectPtr conn, ro;
    virDomainPtr dom;

    setenv("LIBVIRT_DEFAULT_URI", "test:///default", 1);
    conn = virConnectOpen(NULL);
    char *uri = conn ? virConnectGetURI(conn) : NULL;
    CHECK("virConnectOpen(NULL) opens $LIBVIRT_DEFAULT_URI", uri && strcmp(uri, "test:///default") == 0);
    free(uri);
    unsetenv("LIBVIRT_DEFAULT_URI");

    ro = virConnectOpenAuth("test:///default", virConnectAuthPtrDefault, VIR_CONNECT_RO);
    dom = ro ? virDomainLookupByName(ro, "test") : NULL;
    CHECK("virConnectOpenAuth(VIR_CONNECT_RO): read-only: VIR_ERR_OPERATION_DENIED",
          dom && virDomainDestroy(dom) == -1 && lastIs(VIR_ERR_OPERATION_DENIED, VIR_FROM_DOMAIN));
    CHECK("virConnectOpenAuth with an unknown flag: NULL, VIR_ERR_INVALID_ARG",
          virConnectOpenAuth("test:///default", NULL, 1u << 8) == NULL &&
          virGetLastErrorCode() == VIR_ERR_INVALID_ARG);
    CHECK("virConnectAuthPtrDefault has a callback and credential types",
          virConnectAuthPtrDefault && virConnectAuthPtrDefault->cb &&
          virConnectAuthPtrDefault->ncredtype > 0);

    CHECK("close callback: registered",
          virConnectRegisterCloseCallback(conn, closeCb, NULL, countFree) == 0);
#ifdef LIBVIRTSUP_COMPAT
    /* The documented rules (libvirt's remote driver keeps them); libvirt's
     * test driver ignores close callbacks altogether. */
    CHECK("close callback: a second one is refused",
          virConnectRegisterCloseCallback(conn, closeCb2, NULL, NULL) == -1);
    CHECK("close callback: unregistering another one is refused",
          virConnectUnregisterCloseCallback(conn, closeCb2) == -1);
    freed = 0;
    CHECK("close callback: unregistered, its free function called",
          virConnectUnregisterCloseCallback(conn, closeCb) == 0 && freed == 1);
#else
    CHECK("close callback: unregistered", virConnectUnregisterCloseCallback(conn, closeCb) == 0);
#endif

    /* virConnectClose counts what still holds the connection. */
    CHECK("virConnectRef: 0", virConnectRef(ro) == 0);
    CHECK("virConnectClose with a reference and a handle left: positive",
          virConnectClose(ro) > 0);
    CHECK("virConnectClose of the last reference, a domain handle held: positive",
          virConnectClose(ro) > 0);
    CHECK("virDomainFree of the last handle: 0", virDomainFree(dom) == 0);
    CHECK("virConnectClose with nothing held: 0", virConnectClose(conn) == 0);
    CHECK("virConnectClose(NULL): -1 VIR_ERR_INVALID_CONN",
          virConnectClose(NULL) == -1 && lastIs(VIR_ERR_INVALID_CONN, VIR_FROM_NONE));
}

static void handles(void)
{
    virConnectPtr conn = virConnectOpen("test:///default");
    virDomainInfo info;
    char uuid[VIR_UUID_STRING_BUFLEN];

    CHECK("a NULL domain: VIR_ERR_INVALID_DOMAIN from VIR_FROM_DOM",
          virDomainGetInfo(NULL, &info) == -1 && lastIs(VIR_ERR_INVALID_DOMAIN, VIR_FROM_DOM));
    CHECK("a NULL connection in a domain call: VIR_ERR_INVALID_CONN from VIR_FROM_DOMAIN",
          virDomainLookupByName(NULL, "test") == NULL &&
          lastIs(VIR_ERR_INVALID_CONN, VIR_FROM_DOMAIN));
    CHECK("a NULL argument: VIR_ERR_INVALID_ARG from VIR_FROM_DOMAIN",
          virDomainLookupByName(conn, NULL) == NULL && lastIs(VIR_ERR_INVALID_ARG, VIR_FROM_DOMAIN));
    CHECK("an unknown domain: VIR_ERR_NO_DOMAIN from VIR_FROM_TEST",
          virDomainLookupByName(conn, "nosuch") == NULL && lastIs(VIR_ERR_NO_DOMAIN, VIR_FROM_TEST));
    CHECK("a malformed UUID: VIR_ERR_INVALID_ARG from VIR_FROM_DOMAIN",
          virDomainLookupByUUIDString(conn, "zz") == NULL &&
          lastIs(VIR_ERR_INVALID_ARG, VIR_FROM_DOMAIN));
    CHECK("a NULL network: VIR_ERR_INVALID_NETWORK from VIR_FROM_NETWORK",
          virNetworkGetName(NULL) == NULL && lastIs(VIR_ERR_INVALID_NETWORK, VIR_FROM_NETWORK));
    CHECK("a NULL connection in a network call: VIR_ERR_INVALID_CONN from VIR_FROM_NETWORK",
          virNetworkLookupByName(NULL, "default") == NULL &&
          lastIs(VIR_ERR_INVALID_CONN, VIR_FROM_NETWORK));
    CHECK("an unknown network: VIR_ERR_NO_NETWORK from VIR_FROM_TEST",
          virNetworkLookupByName(conn, "nosuch") == NULL && lastIs(VIR_ERR_NO_NETWORK, VIR_FROM_TEST));
    virDomainPtr dom = virDomainLookupByName(conn, "test");
    CHECK("an unknown flag: VIR_ERR_INVALID_ARG from VIR_FROM_TEST",
          virDomainGetXMLDesc(dom, 1u << 20) == NULL &&
          lastIs(VIR_ERR_INVALID_ARG, VIR_FROM_TEST));
    CHECK("virDomainGetUUIDString: the test domain's UUID",
          virDomainGetUUIDString(dom, uuid) == 0 &&
          strcmp(uuid, "6695eb01-f6a4-8304-79aa-97f2502e193f") == 0);
    memset(&info, 0, sizeof(info));
    CHECK("virDomainGetInfo of the test domain: running, 8 GiB, 2 GiB of it current, 2 vCPUs",
          virDomainGetInfo(dom, &info) == 0 && info.state == VIR_DOMAIN_RUNNING &&
          info.maxMem == 8388608 && info.memory == 2097152 && info.nrVirtCpu == 2);
    char *xml = virDomainGetXMLDesc(dom, 0);
    CHECK("virDomainGetXMLDesc of the test domain: its <memory> and <currentMemory>",
          xml && strstr(xml, "<memory unit='KiB'>8388608</memory>\n"
                             "  <currentMemory unit='KiB'>2097152</currentMemory>\n"));
    free(xml);
    CHECK("virConnectListAllDomains(conn, NULL, 0): the count",
          virConnectListAllDomains(conn, NULL, 0) == 1);
    CHECK("virConnectListAllNetworks(conn, NULL, 0): the count",
          virConnectListAllNetworks(conn, NULL, 0) == 1);
    CHECK("virConnectListAllDomains with an unknown flag: VIR_ERR_INVALID_ARG",
          virConnectListAllDomains(conn, NULL, 1u << 30) == -1 &&
          virGetLastErrorCode() == VIR_ERR_INVALID_ARG);
    virDomainFree(dom);
    virConnectClose(conn);
}

int main(void)
{
    errorHandlers();
    typedParams();
    versions();
    connections();
    handles();
    if (failures) {
        printf("%d check(s) failed\n", failures);
        return 1;
    }
    printf("all conventions hold\n");
    return 0;
}
