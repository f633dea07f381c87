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

/* libvirt's test driver's default domain and network, as libvirt 9's
 * dumpxml writes them (UUIDs included, so scripts written for it work
 * unchanged), read with the driver's own grammar: what it models goes to
 * the def, the rest is kept and written back. Its memory is libvirt's too:
 * 8 GiB, 2 GiB current; as an idle guest's, most of it is zero (the first
 * 64 MiB carry data: TEST_MEMORY_TOUCHED_MAX), which its saves store as
 * runs and its dumps leave out of the file (test-proto.h, dump-worker.c). */
static const char defaultDomainXML[] =
    "<domain type='test'>"
    "<name>test</name>"
    "<uuid>6695eb01-f6a4-8304-79aa-97f2502e193f</uuid>"
    "<memory unit='KiB'>8388608</memory>"
    "<currentMemory unit='KiB'>2097152</currentMemory>"
    "<vcpu placement='static'>2</vcpu>"
    "<os><type arch='i686'>hvm</type><boot dev='hd'/></os>"
    "<clock offset='utc'/>"
    "<on_poweroff>destroy</on_poweroff>"
    "<on_reboot>restart</on_reboot>"
    "<on_crash>destroy</on_crash>"
    "<devices>"
    "<disk type='file' device='disk'>"
    "<source file='/guest/diskimage1'/>"
    "<target dev='vda' bus='virtio'/>"
    "<address type='pci' domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>"
    "</disk>"
    "<interface type='network'>"
    "<mac address='aa:bb:cc:dd:ee:ff'/>"
    "<source network='default'/>"
    "<target dev='testnet0'/>"
    "<address type='pci' domain='0x0000' bus='0x00' slot='0x01' function='0x0'/>"
    "</interface>"
    "<memballoon model='virtio'>"
    "<address type='pci' domain='0x0000' bus='0x00' slot='0x02' function='0x0'/>"
    "</memballoon>"
    "</devices>"
    "</domain>";

static const char defaultNetworkXML[] =
    "<network>"
    "<name>default</name>"
    "<uuid>dd8fe884-6c02-601e-7551-cca97df1c5df</uuid>"
    "<forward mode='nat'/>"
    "<bridge name='virbr0' stp='on' delay='0'/>"
    "<ip address='192.168.122.1' netmask='255.255.255.0'>"
    "<dhcp><range start='192.168.122.2' end='192.168.122.254'/></dhcp>"
    "</ip>"
    "</network>";

int testDefaultDomainDef(testDomainDef *def, virXMLKeep *keep)
{
    return testDomainParseXML(defaultDomainXML, strlen(defaultDomainXML), def, keep);
}

int testDefaultNetworkDef(testNetworkDef *def, virXMLKeep *keep)
{
    return testNetworkParseXML(defaultNetworkXML, strlen(defaultNetworkXML), def, keep);
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

/* The kept elements libvirt writes before <memory>, between <memory> and
 * <os> (around <currentMemory> and <vcpu>), and the ones written where
 * the driver's own would be; every other kept element follows <os>, in
 * the order given. */
static const char *const domainBeforeMemory[] = {
    "genid", "title", "description", "metadata", "maxMemory", NULL
};
static const char *const domainBeforeVcpu[] = {
    "blkiotune", "memtune", "memoryBacking", NULL
};
static const char *const domainBeforeOS[] = {
    "vcpus", "iothreads", "iothreadids", "defaultiothread", "cputune", "numatune",
    "resource", "sysinfo", "bootloader", "bootloader_args", NULL
};
static const char *const domainPlaced[] = {
    "genid", "title", "description", "metadata", "maxMemory", "currentMemory",
    "blkiotune", "memtune", "memoryBacking", "vcpu", "vcpus", "iothreads",
    "iothreadids", "defaultiothread", "cputune", "numatune", "resource", "sysinfo",
    "bootloader", "bootloader_args", "os", NULL
};

/* Kept element @name if there is one, else @fallback (printf-style). */
#define KEPT_OR(b, k, name, ...) \
    do { \
        static const char *const one_[] = { name, NULL }; \
        if (!(k) || !virXMLKeepFormat(b, (k)->data, (k)->len, 2, one_, true)) \
            virBufferAddf(b, __VA_ARGS__); \
    } while (0)

char *testDomainDefFormat(const testDomainDef *def, const virXMLKeep *keep, int id)
{
    virBuffer b = VIR_BUFFER_INIT;
    char uuid[VIR_UUID_STRING_BUFLEN];
    bool ns = def->nfaults || def->rate_bps || def->data_bytes;
    const uint8_t *kd = keep ? keep->data : NULL;
    size_t kl = keep ? keep->len : 0;

    virUUIDFormat(def->uuid, uuid);
    virBufferAddf(&b, "<domain type='test'");
    if (id >= 0)
        virBufferAddf(&b, " id='%d'", id);
    virBufferAddf(&b, "%s>\n", ns ? " xmlns:test='" TEST_XML_NS "'" : "");
    /* Names are [A-Za-z0-9_.-] (testDomainDefCheck): nothing to escape. */
    virBufferAddf(&b, "  <name>%.*s</name>\n", (int)sizeof(def->name), def->name);
    virBufferAddf(&b, "  <uuid>%s</uuid>\n", uuid);
    virXMLKeepFormat(&b, kd, kl, 2, domainBeforeMemory, true);
    virBufferAddf(&b, "  <memory unit='KiB'>%" PRIu64 "</memory>\n", def->memory_kib);
    virBufferAddf(&b, "  <currentMemory unit='KiB'>%" PRIu64 "</currentMemory>\n",
                  def->current_kib);
    virXMLKeepFormat(&b, kd, kl, 2, domainBeforeVcpu, true);
    KEPT_OR(&b, keep, "vcpu", "  <vcpu placement='static'>%u</vcpu>\n", def->vcpus);
    virXMLKeepFormat(&b, kd, kl, 2, domainBeforeOS, true);
    KEPT_OR(&b, keep, "os", "  <os>\n    <type>%.*s</type>\n  </os>\n",
            (int)sizeof(def->os_type), def->os_type);
    virXMLKeepFormat(&b, kd, kl, 2, domainPlaced, false);
    formatFaults(&b, def->faults, def->nfaults, def->rate_bps);
    if (def->data_bytes)
        virBufferAddf(&b, "  <test:memory data-bytes='%" PRIu64 "'/>\n", def->data_bytes);
    virBufferAddf(&b, "</domain>\n");
    return virBufferFinish(&b);
}

/* libvirt's order: name, uuid, metadata, forward, bridge, mtu, mac, ...,
 * ip; the kept elements written where the driver's own would be. */
static const char *const networkPlaced[] = { "metadata", "forward", "bridge", "ip", NULL };
static const char *const networkBeforeForward[] = { "metadata", NULL };

char *testNetworkDefFormat(const testNetworkDef *def, const virXMLKeep *keep)
{
    virBuffer b = VIR_BUFFER_INIT;
    char uuid[VIR_UUID_STRING_BUFLEN];
    bool ns = def->nfaults || def->rate_bps;
    const uint8_t *kd = keep ? keep->data : NULL;
    size_t kl = keep ? keep->len : 0;
    static const char *const forwardOnly[] = { "forward", NULL };
    static const char *const bridgeOnly[] = { "bridge", NULL };
    static const char *const ipOnly[] = { "ip", NULL };

    virUUIDFormat(def->uuid, uuid);
    virBufferAddf(&b, "<network%s>\n", ns ? " xmlns:test='" TEST_XML_NS "'" : "");
    virBufferAddf(&b, "  <name>%.*s</name>\n", (int)sizeof(def->name), def->name);
    virBufferAddf(&b, "  <uuid>%s</uuid>\n", uuid);
    virXMLKeepFormat(&b, kd, kl, 2, networkBeforeForward, true);
    if (!virXMLKeepFormat(&b, kd, kl, 2, forwardOnly, true) && def->forward[0])
        virBufferAddf(&b, "  <forward mode='%.*s'/>\n", (int)sizeof(def->forward),
               def->forward);
    if (!virXMLKeepFormat(&b, kd, kl, 2, bridgeOnly, true) && def->bridge[0])
        virBufferAddf(&b, "  <bridge name='%.*s'/>\n", (int)sizeof(def->bridge),
               def->bridge);
    virXMLKeepFormat(&b, kd, kl, 2, networkPlaced, false);
    if (!virXMLKeepFormat(&b, kd, kl, 2, ipOnly, true) && def->ipv4)
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
static int parseChild(const char *path, xmlNodePtr n, bool isDomain, void *def,
                      virXMLKeep *keep)
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
    rc = isDomain ? testDomainParseElement(&c, n, TEST_XML_NODE, def, keep)
                  : testNetworkParseElement(&c, n, TEST_XML_NODE, def, keep);
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
    for (size_t i = 0; i < node->ndoms; i++)
        virXMLKeepClear(&node->domKeeps[i]);
    for (size_t i = 0; i < node->nnets; i++)
        virXMLKeepClear(&node->netKeeps[i]);
    free(node->doms);
    free(node->domKeeps);
    free(node->nets);
    free(node->netKeeps);
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
            virXMLKeep *k;
            if (!d)
                goto error;
            nd.doms = d;
            if (!(k = virReallocN(nd.domKeeps, nd.ndoms + 1, sizeof(*k))))
                goto error;
            nd.domKeeps = k;
            k[nd.ndoms] = (virXMLKeep)VIR_XML_KEEP_INIT;
            if (parseChild(path, n, true, &nd.doms[nd.ndoms], &k[nd.ndoms]) < 0)
                goto error;
            dup = isDuplicate(nd.doms, nd.ndoms, sizeof(*d),
                              offsetof(testDomainDef, name), offsetof(testDomainDef, uuid));
            name = nd.doms[nd.ndoms++].name;
        } else {
            testNetworkDef *d = virReallocN(nd.nets, nd.nnets + 1, sizeof(*d));
            virXMLKeep *k;
            if (!d)
                goto error;
            nd.nets = d;
            if (!(k = virReallocN(nd.netKeeps, nd.nnets + 1, sizeof(*k))))
                goto error;
            nd.netKeeps = k;
            k[nd.nnets] = (virXMLKeep)VIR_XML_KEEP_INIT;
            if (parseChild(path, n, false, &nd.nets[nd.nnets], &k[nd.nnets]) < 0)
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
