/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test_conf.c: the test driver's node descriptions (test:///PATH.xml) and
 * the XML it writes for its canonical definitions.
 *
 * The node description is the administrator's configuration and is parsed
 * here, in the client, with the same locked-down reader (util/virxml.c)
 * and the same grammar (xml-shared.c) as the XML passed to the API, which
 * is never parsed here: the worker parses it.
 */
#include <ctype.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "driver.h"
#include "drivers/test/test_driver.h"
#include "drivers/test/xml-shared.h"
#include "util/viralloc.h"

#define VIR_FROM_THIS VIR_FROM_TEST
#include "util/virerror.h"

/* libvirt's test driver UUIDs, so scripts written for it work unchanged. */
static const char defaultDomainUUID[] = "6695eb01-f6a4-8304-79aa-97f2502e193f";
static const char defaultNetworkUUID[] = "dd8fe884-6c02-601e-7551-cca97df1c5df";

void testDefaultDomainDef(testDomainDef *def)
{
    memset(def, 0, sizeof(*def));
    def->magic = TEST_DOMAIN_DEF_MAGIC;
    def->version = 1;
    virStrcpyTrunc(def->name, sizeof(def->name), "test");
    (void)virUUIDParse(defaultDomainUUID, def->uuid);
    def->memory_kib = 256 * 1024;
    def->vcpus = 2;
    virStrcpyTrunc(def->os_type, sizeof(def->os_type), "hvm");
}

void testDefaultNetworkDef(testNetworkDef *def)
{
    memset(def, 0, sizeof(*def));
    def->magic = TEST_NETWORK_DEF_MAGIC;
    def->version = 1;
    virStrcpyTrunc(def->name, sizeof(def->name), "default");
    (void)virUUIDParse(defaultNetworkUUID, def->uuid);
    virStrcpyTrunc(def->bridge, sizeof(def->bridge), "virbr0");
    def->ipv4 = (192u << 24) | (168u << 16) | (122u << 8) | 1u;
    def->prefix = 24;
    virStrcpyTrunc(def->forward, sizeof(def->forward), "nat");
}

/* ---- formatting ---------------------------------------------------------- */

static void formatFaults(virBuffer *b, const testFault *faults, uint32_t nfaults,
                         uint64_t rate_bps)
{
    for (uint32_t i = 0; i < nfaults && i < TEST_FAULTS_MAX; i++) {
        const char *action = testFaultActionName(faults[i].action);
        bool first = true;

        if (!action)
            continue;
        virBufferAddf(b, "  <test:fault op='");
        for (uint32_t bit = 1; bit && bit <= faults[i].ops; bit <<= 1) {
            const char *op = (faults[i].ops & bit) ? testFaultOpName(bit) : NULL;
            if (op) {
                virBufferAddf(b, "%s%s", first ? "" : ",", op);
                first = false;
            }
        }
        virBufferAddf(b, "' at='%u' action='%s'/>\n", faults[i].at, action);
    }
    if (rate_bps)
        virBufferAddf(b, "  <test:rate bytes-per-second='%" PRIu64 "'/>\n", rate_bps);
}

char *testDomainDefFormat(const testDomainDef *def)
{
    virBuffer b = VIR_BUFFER_INIT;
    char uuid[VIR_UUID_STRING_BUFLEN];
    bool ns = def->nfaults || def->rate_bps;

    virUUIDFormat(def->uuid, uuid);
    virBufferAddf(&b, "<domain type='test'%s>\n", ns ? " xmlns:test='" TEST_XML_NS "'" : "");
    /* Names are [A-Za-z0-9_.-] (testDomainDefCheck): nothing to escape. */
    virBufferAddf(&b, "  <name>%.*s</name>\n", (int)sizeof(def->name), def->name);
    virBufferAddf(&b, "  <uuid>%s</uuid>\n", uuid);
    virBufferAddf(&b, "  <memory unit='KiB'>%" PRIu64 "</memory>\n", def->memory_kib);
    virBufferAddf(&b, "  <vcpu>%u</vcpu>\n", def->vcpus);
    virBufferAddf(&b, "  <os>\n    <type>%.*s</type>\n  </os>\n",
           (int)sizeof(def->os_type), def->os_type);
    formatFaults(&b, def->faults, def->nfaults, def->rate_bps);
    virBufferAddf(&b, "</domain>\n");
    return virBufferFinish(&b);
}

char *testNetworkDefFormat(const testNetworkDef *def)
{
    virBuffer b = VIR_BUFFER_INIT;
    char uuid[VIR_UUID_STRING_BUFLEN];
    bool ns = def->nfaults || def->rate_bps;

    virUUIDFormat(def->uuid, uuid);
    virBufferAddf(&b, "<network%s>\n", ns ? " xmlns:test='" TEST_XML_NS "'" : "");
    virBufferAddf(&b, "  <name>%.*s</name>\n", (int)sizeof(def->name), def->name);
    virBufferAddf(&b, "  <uuid>%s</uuid>\n", uuid);
    if (def->forward[0])
        virBufferAddf(&b, "  <forward mode='%.*s'/>\n", (int)sizeof(def->forward),
               def->forward);
    if (def->bridge[0])
        virBufferAddf(&b, "  <bridge name='%.*s'/>\n", (int)sizeof(def->bridge),
               def->bridge);
    if (def->ipv4)
        virBufferAddf(&b, "  <ip address='%u.%u.%u.%u' prefix='%u'/>\n",
               def->ipv4 >> 24, (def->ipv4 >> 16) & 0xff,
               (def->ipv4 >> 8) & 0xff, def->ipv4 & 0xff, def->prefix);
    formatFaults(&b, def->faults, def->nfaults, def->rate_bps);
    virBufferAddf(&b, "</network>\n");
    return virBufferFinish(&b);
}

/* ---- node description parsing --------------------------------------------
 *
 * A node description is read with the same locked-down reader as any XML
 * (util/virxml.c) and its <domain> and <network> elements are parsed by
 * the test driver's one parser of each grammar (xml-shared.c), the same
 * the worker uses for the XML given to the API. What is the node
 * description's own: the <node> root, file= references, unique names and
 * UUIDs, and the file it came from in every message. */

/* Re-report the last error as "node description PATH: <message>". */
static void nodeError(const char *path)
{
    virErrorPtr e = virGetLastError();
    int code = e ? e->code : VIR_ERR_XML_ERROR;
    VIR_AUTOFREE(char *) msg = virStrdup(e && e->message ? e->message : "invalid");

    virReportError(code, "node description %s: %s", path, msg ? msg : "invalid");
}

/* Read one file: regular, at most TEST_NODE_MAX bytes. Returns the
 * document with root <@root>, or NULL with an error naming @path. */
static xmlDocPtr readDoc(const char *path, const char *root)
{
    VIR_AUTOCLOSE fd = -1;
    VIR_AUTOFREE(char *) data = NULL;
    virXMLCtx c = { root };
    struct stat st;
    size_t len = 0;
    xmlDocPtr doc;

    /* O_NONBLOCK: a FIFO (or a device) named here must not hang the open;
     * it is refused below as not a regular file. */
    if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) < 0) {
        virReportSystemError(errno, "cannot open node description %s", path);
        return NULL;
    }
    if (fstat(fd, &st) < 0) {
        virReportSystemError(errno, "cannot stat node description %s", path);
        return NULL;
    }
    if (!S_ISREG(st.st_mode)) {
        virReportError(VIR_ERR_XML_ERROR,
                       "node description %s is not a regular file", path);
        return NULL;
    }
    if (st.st_size > TEST_NODE_MAX) {
        virReportError(VIR_ERR_XML_ERROR,
                       "node description %s is larger than %d bytes", path,
                       TEST_NODE_MAX);
        return NULL;
    }
    if (!(data = virAllocN(TEST_NODE_MAX + 1, 1)))
        return NULL;
    for (;;) {
        ssize_t n = read(fd, data + len, TEST_NODE_MAX + 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            virReportSystemError(errno, "cannot read node description %s", path);
            return NULL;
        }
        if (n == 0)
            break;
        len += n;
        if (len > TEST_NODE_MAX) {
            virReportError(VIR_ERR_XML_ERROR,
                           "node description %s is larger than %d bytes", path,
                           TEST_NODE_MAX);
            return NULL;
        }
    }
    if (!(doc = virXMLReadUntrusted(&c, data, len, TEST_NODE_MAX, root)))
        nodeError(path);
    return doc;
}

static char *joinPath(const char *nodefile, const char *file)
{
    const char *slash = strrchr(nodefile, '/');

    if (file[0] == '/')
        return virStrdup(file);
    return virAsprintf("%.*s/%s", (int)(slash - nodefile), nodefile, file);
}

/* <domain file='x.xml'/> or an inline <domain> (or <network>) of the node
 * description @path: parse into @def. */
static int parseChild(const char *path, xmlNodePtr n, bool isDomain, void *def)
{
    const char *what = isDomain ? "domain" : "network";
    virXMLCtx c = { what };
    VIR_AUTOFREE(char *) file = virXMLAttr(n, "file");
    VIR_AUTOFREE(char *) sub = NULL;
    xmlDocPtr doc = NULL;
    int rc = -1;

    if (file) {
        if (n->properties->next || virXMLCheckEmpty(&c, n) < 0) {
            virReportError(VIR_ERR_XML_ERROR, "<%s file=...> must be empty and "
                           "have no other attribute", what);
            nodeError(path);
            return -1;
        }
        if (!(sub = joinPath(path, file))) {
            virReportOOMError();
            return -1;
        }
        if (!(doc = readDoc(sub, what)))
            return -1;
        path = sub;
        n = xmlDocGetRootElement(doc);
    }
    rc = isDomain ? testDomainParseElement(&c, n, TEST_XML_NODE, def)
                  : testNetworkParseElement(&c, n, TEST_XML_NODE, def);
    if (rc < 0)
        nodeError(path);
    xmlFreeDoc(doc);
    return rc;
}

/* Does element @n of @arr (elements of @size bytes, a name and a UUID at
 * the offsets given) share its name or UUID with an earlier one? */
static bool isDuplicate(const void *arr, size_t n, size_t size, size_t nameoff,
                        size_t uuidoff)
{
    const char *base = arr, *last = base + n * size;

    for (size_t i = 0; i < n; i++) {
        const char *e = base + i * size;
        if (STREQ(e + nameoff, last + nameoff) || !memcmp(e + uuidoff, last + uuidoff, 16))
            return true;
    }
    return false;
}

void testNodeClear(testNodeDef *node)
{
    free(node->doms);
    free(node->nets);
    memset(node, 0, sizeof(*node));
}

int testNodeLoad(const char *path, testNodeDef *node)
{
    virXMLCtx c = { "node description" };
    xmlDocPtr doc;
    xmlNodePtr root;
    testNodeDef nd = { 0 };

    memset(node, 0, sizeof(*node));
    if (!(doc = readDoc(path, "node")))
        return -1;
    root = xmlDocGetRootElement(doc);
    if (virXMLCheckAttrs(&c, root, NULL) < 0) {
        nodeError(path);
        goto error;
    }
    for (xmlNodePtr n = root->children; n; n = n->next) {
        int rc;
        if ((rc = virXMLNotElement(&c, n)) != 0) {
            if (rc < 0) {
                nodeError(path);
                goto error;
            }
            continue;
        }
        bool isDomain = virXMLIsPlain(n, "domain");
        if (!isDomain && !virXMLIsPlain(n, "network")) {
            char buf[128];
            virReportError(VIR_ERR_XML_ERROR, "node description %s: unknown element "
                           "<%s> in <node> (expected <domain> or <network>)", path,
                           virXMLNodeName(n, buf, sizeof(buf)));
            goto error;
        }
        if (nd.ndoms + nd.nnets >= TEST_NODE_OBJECTS_MAX) {
            virReportError(VIR_ERR_XML_ERROR, "node description %s: more than %d "
                           "domains and networks", path, TEST_NODE_OBJECTS_MAX);
            goto error;
        }
        const char *name;
        bool dup;
        if (isDomain) {
            testDomainDef *d = virReallocN(nd.doms, nd.ndoms + 1, sizeof(*d));
            if (!d)
                goto error;
            nd.doms = d;
            if (parseChild(path, n, true, &nd.doms[nd.ndoms]) < 0)
                goto error;
            dup = isDuplicate(nd.doms, nd.ndoms, sizeof(*d),
                              offsetof(testDomainDef, name), offsetof(testDomainDef, uuid));
            name = nd.doms[nd.ndoms++].name;
        } else {
            testNetworkDef *d = virReallocN(nd.nets, nd.nnets + 1, sizeof(*d));
            if (!d)
                goto error;
            nd.nets = d;
            if (parseChild(path, n, false, &nd.nets[nd.nnets]) < 0)
                goto error;
            dup = isDuplicate(nd.nets, nd.nnets, sizeof(*d),
                              offsetof(testNetworkDef, name), offsetof(testNetworkDef, uuid));
            name = nd.nets[nd.nnets++].name;
        }
        if (dup) {
            virReportError(VIR_ERR_XML_ERROR, "node description %s: %s '%s' is defined "
                           "twice (same name or UUID)", path,
                           isDomain ? "domain" : "network", name);
            goto error;
        }
    }
    xmlFreeDoc(doc);
    *node = nd;
    return 0;

 error:
    xmlFreeDoc(doc);
    testNodeClear(&nd);
    return -1;
}
