/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test_conf.c: the test driver's node descriptions (test:///PATH.xml) and
 * the XML it writes for its canonical definitions.
 *
 * The node description is the administrator's configuration and is parsed
 * here, in the client, with libxml2 locked down: no network, no DTD, no
 * entity expansion, a size cap. XML passed to the API (DefineXML,
 * CreateXML, ...) is never parsed here: the worker parses it.
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

/* ---- node description parsing -------------------------------------------- */

typedef struct parseCtx {
    const char *file;      /* for messages */
} parseCtx;

static void ATTRIBUTE_FMT_PRINTF(3, 4)
xmlFail(const parseCtx *c, xmlNodePtr n, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    virReportError(VIR_ERR_XML_ERROR, "node description %s, line %ld: %s",
                   c->file, n ? (long)xmlGetLineNo(n) : 0L, msg);
}

static bool isTestNS(xmlNodePtr n)
{
    return n->ns && n->ns->href && STREQ((const char *)n->ns->href, TEST_XML_NS);
}

static bool isPlain(xmlNodePtr n, const char *name)
{
    return !n->ns && STREQ((const char *)n->name, name);
}

/* The element's text, trimmed; malloc'd ("" when empty), NULL on OOM. */
static char *nodeText(xmlNodePtr n)
{
    xmlChar *t = xmlNodeGetContent(n);
    const char *s = t ? (const char *)t : "";
    size_t len;
    char *ret;

    while (isspace((unsigned char)*s))
        s++;
    len = strlen(s);
    while (len && isspace((unsigned char)s[len - 1]))
        len--;
    ret = virStrndup(s, len);
    xmlFree(t);
    return ret;
}

/* Children must be elements, comments or blank text. */
static int checkOnlyElements(const parseCtx *c, xmlNodePtr parent)
{
    for (xmlNodePtr n = parent->children; n; n = n->next) {
        if (n->type == XML_ELEMENT_NODE || n->type == XML_COMMENT_NODE)
            continue;
        if (n->type == XML_TEXT_NODE && xmlIsBlankNode(n))
            continue;
        xmlFail(c, n, "unexpected content inside <%s>", (const char *)parent->name);
        return -1;
    }
    return 0;
}

static int parseU64(const char *s, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;

    if (!s || !*s)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        unsigned d = (unsigned)(*s - '0');
        if (d > max || v > (max - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

static int attrU64(const parseCtx *c, xmlNodePtr n, const char *name,
                   uint64_t max, uint64_t *out)
{
    xmlChar *v = xmlGetNoNsProp(n, (const xmlChar *)name);
    int rc = 0;

    if (!v) {
        xmlFail(c, n, "<%s> lacks the attribute %s", (const char *)n->name, name);
        return -1;
    }
    if (parseU64((const char *)v, max, out) < 0) {
        xmlFail(c, n, "attribute %s='%.40s' of <%s> is not a number from 0 to %" PRIu64,
                name, (const char *)v, (const char *)n->name, max);
        rc = -1;
    }
    xmlFree(v);
    return rc;
}

/* <test:fault op='save,dump' [at='50'] action='segv'/> */
static int parseFault(const parseCtx *c, xmlNodePtr n, testFault *faults,
                      uint32_t *nfaults)
{
    xmlChar *ops = xmlGetNoNsProp(n, (const xmlChar *)"op");
    xmlChar *action = xmlGetNoNsProp(n, (const xmlChar *)"action");
    xmlChar *atstr = xmlGetNoNsProp(n, (const xmlChar *)"at");
    testFault f = { 0 };
    uint64_t at = 0;
    int rc = -1, act;

    if (*nfaults == TEST_FAULTS_MAX) {
        xmlFail(c, n, "more than %d <test:fault> elements", TEST_FAULTS_MAX);
        goto cleanup;
    }
    for (char *save = NULL, *tok = ops ? strtok_r((char *)ops, ",", &save) : NULL;
         tok; tok = strtok_r(NULL, ",", &save)) {
        int bit = testFaultOpFromName(tok);
        if (bit <= 0) {
            xmlFail(c, n, "unknown fault op '%.32s' (expected save, restore, dump, "
                    "create)", tok);
            goto cleanup;
        }
        f.ops |= (uint32_t)bit;
    }
    if (!f.ops) {
        xmlFail(c, n, "%s", "<test:fault> needs op= (save, restore, dump, create)");
        goto cleanup;
    }
    if (!action || (act = testFaultActionFromName((const char *)action)) <= 0) {
        xmlFail(c, n, "%s", "<test:fault> needs action= one of segv, abort, hang, "
                "ignore-cancel, exit, garbage");
        goto cleanup;
    }
    if (atstr && attrU64(c, n, "at", 100, &at) < 0)
        goto cleanup;
    f.at = (uint32_t)at;
    f.action = (uint32_t)act;
    faults[(*nfaults)++] = f;
    rc = 0;

 cleanup:
    xmlFree(ops);
    xmlFree(action);
    xmlFree(atstr);
    return rc;
}

/* Test-namespace children shared by domains and networks. 1 if handled. */
static int parseTestElement(const parseCtx *c, xmlNodePtr n, testFault *faults,
                            uint32_t *nfaults, uint64_t *rate)
{
    if (!isTestNS(n))
        return 0;
    if (STREQ((const char *)n->name, "fault"))
        return parseFault(c, n, faults, nfaults) < 0 ? -1 : 1;
    if (STREQ((const char *)n->name, "rate"))
        return attrU64(c, n, "bytes-per-second", UINT64_MAX / 2, rate) < 0 ? -1 : 1;
    xmlFail(c, n, "unknown element <test:%s>", (const char *)n->name);
    return -1;
}

static int parseName(const parseCtx *c, xmlNodePtr n, char *out, size_t outlen)
{
    VIR_AUTOFREE(char *) s = nodeText(n);
    const char *why = NULL;

    if (!s) {
        virReportOOMError();
        return -1;
    }
    if (virNameCheck(s, outlen, &why) < 0) {
        xmlFail(c, n, "bad name '%.64s': %s", s, why);
        return -1;
    }
    virStrcpyTrunc(out, outlen, s);
    return 0;
}

static int parseUUID(const parseCtx *c, xmlNodePtr n, uint8_t *uuid)
{
    VIR_AUTOFREE(char *) s = nodeText(n);

    if (!s) {
        virReportOOMError();
        return -1;
    }
    if (virUUIDParse(s, uuid) < 0) {
        xmlFail(c, n, "bad UUID '%.64s'", s);
        return -1;
    }
    return 0;
}

static int parseMemory(const parseCtx *c, xmlNodePtr n, uint64_t *kib)
{
    static const struct { const char *unit; uint64_t bytes; } units[] = {
        { "b", 1 }, { "bytes", 1 }, { "KB", 1000 }, { "k", 1024 }, { "K", 1024 },
        { "KiB", 1024 }, { "MB", 1000000 }, { "m", 1 << 20 }, { "M", 1 << 20 },
        { "MiB", 1 << 20 }, { "GB", 1000000000 }, { "g", 1 << 30 },
        { "G", 1 << 30 }, { "GiB", 1 << 30 },
    };
    VIR_AUTOFREE(char *) s = nodeText(n);
    xmlChar *unit = xmlGetNoNsProp(n, (const xmlChar *)"unit");
    uint64_t factor = 0, v;
    int rc = -1;

    if (!s) {
        virReportOOMError();
        goto cleanup;
    }
    if (!unit) {
        factor = 1024;
    } else {
        for (size_t i = 0; i < ARRAY_CARDINALITY(units); i++)
            if (STREQ((const char *)unit, units[i].unit))
                factor = units[i].bytes;
    }
    if (!factor) {
        xmlFail(c, n, "unknown memory unit '%.16s'", (const char *)unit);
        goto cleanup;
    }
    /* Bound the value so value * factor cannot overflow. */
    if (parseU64(s, UINT64_MAX / factor, &v) < 0) {
        xmlFail(c, n, "memory '%.40s' is not a number in range", s);
        goto cleanup;
    }
    *kib = (v * factor + 1023) / 1024;
    rc = 0;

 cleanup:
    xmlFree(unit);
    return rc;
}

/* The children domains and networks share: <name>, <uuid> and the test
 * namespace. Returns 1 if @n was one of them, 0 if not, -1 on error. */
typedef struct commonDef {
    char *name;
    size_t namelen;
    uint8_t *uuid;
    testFault *faults;
    uint32_t *nfaults;
    uint64_t *rate;
    bool haveName, haveUUID;
} commonDef;

static int parseCommonChild(const parseCtx *c, xmlNodePtr n, commonDef *cd)
{
    int rc;

    if ((rc = parseTestElement(c, n, cd->faults, cd->nfaults, cd->rate)) != 0)
        return rc;
    if (isPlain(n, "name")) {
        if (parseName(c, n, cd->name, cd->namelen) < 0)
            return -1;
        cd->haveName = true;
        return 1;
    }
    if (isPlain(n, "uuid")) {
        if (parseUUID(c, n, cd->uuid) < 0)
            return -1;
        cd->haveUUID = true;
        return 1;
    }
    return 0;
}

static int parseDomain(const parseCtx *c, xmlNodePtr root, testDomainDef *def)
{
    commonDef cd = { def->name, sizeof(def->name), def->uuid, def->faults,
                     &def->nfaults, &def->rate_bps, false, false };
    bool haveMemory = false;
    xmlChar *type;
    const char *why = NULL;

    memset(def, 0, sizeof(*def));
    def->magic = TEST_DOMAIN_DEF_MAGIC;
    def->version = 1;
    def->vcpus = 1;
    virStrcpyTrunc(def->os_type, sizeof(def->os_type), "hvm");

    if ((type = xmlGetNoNsProp(root, (const xmlChar *)"type"))) {
        bool ok = STREQ((const char *)type, "test");
        xmlFree(type);
        if (!ok) {
            xmlFail(c, root, "%s", "<domain type=...> must be 'test'");
            return -1;
        }
    }
    if (checkOnlyElements(c, root) < 0)
        return -1;
    for (xmlNodePtr n = root->children; n; n = n->next) {
        int rc;
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if ((rc = parseCommonChild(c, n, &cd)) < 0)
            return -1;
        if (rc)
            continue;
        if (isPlain(n, "memory")) {
            if (parseMemory(c, n, &def->memory_kib) < 0)
                return -1;
            haveMemory = true;
        } else if (isPlain(n, "currentMemory") || isPlain(n, "description")) {
            continue;
        } else if (isPlain(n, "vcpu")) {
            VIR_AUTOFREE(char *) s = nodeText(n);
            uint64_t v;
            if (!s || parseU64(s, TEST_VCPUS_MAX, &v) < 0) {
                xmlFail(c, n, "<vcpu> must be a number from 1 to %d", TEST_VCPUS_MAX);
                return -1;
            }
            def->vcpus = (uint32_t)v;
        } else if (isPlain(n, "os")) {
            if (checkOnlyElements(c, n) < 0)
                return -1;
            for (xmlNodePtr t = n->children; t; t = t->next) {
                if (t->type != XML_ELEMENT_NODE)
                    continue;
                VIR_AUTOFREE(char *) s = isPlain(t, "type") ? nodeText(t) : NULL;
                if (!s || (STRNEQ(s, "hvm") && STRNEQ(s, "linux"))) {
                    xmlFail(c, t, "%s", "<os> holds only <type>hvm</type> or "
                            "<type>linux</type>");
                    return -1;
                }
                virStrcpyTrunc(def->os_type, sizeof(def->os_type), s);
            }
        } else {
            xmlFail(c, n, "unknown element <%s> in <domain>", (const char *)n->name);
            return -1;
        }
    }
    if (!cd.haveName || !haveMemory) {
        xmlFail(c, root, "%s", "<domain> needs <name> and <memory>");
        return -1;
    }
    if (!cd.haveUUID && virUUIDGenerate(def->uuid) < 0)
        return -1;
    if (testDomainDefCheck(def, &why) < 0) {
        xmlFail(c, root, "domain '%s': %s", def->name, why);
        return -1;
    }
    return 0;
}

static int parseIPv4(const char *s, uint32_t *out)
{
    unsigned a[4];
    char tail;

    if (sscanf(s, "%3u.%3u.%3u.%3u%c", &a[0], &a[1], &a[2], &a[3], &tail) != 4)
        return -1;
    for (int i = 0; i < 4; i++)
        if (a[i] > 255)
            return -1;
    *out = (a[0] << 24) | (a[1] << 16) | (a[2] << 8) | a[3];
    return 0;
}

static int parseNetwork(const parseCtx *c, xmlNodePtr root, testNetworkDef *def)
{
    commonDef cd = { def->name, sizeof(def->name), def->uuid, def->faults,
                     &def->nfaults, &def->rate_bps, false, false };
    const char *why = NULL;

    memset(def, 0, sizeof(*def));
    def->magic = TEST_NETWORK_DEF_MAGIC;
    def->version = 1;
    if (checkOnlyElements(c, root) < 0)
        return -1;
    for (xmlNodePtr n = root->children; n; n = n->next) {
        xmlChar *a = NULL;
        int rc;
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if ((rc = parseCommonChild(c, n, &cd)) < 0)
            return -1;
        if (rc)
            continue;
        if (isPlain(n, "bridge")) {
            a = xmlGetNoNsProp(n, (const xmlChar *)"name");
            if (!a || virNameCheck((const char *)a, sizeof(def->bridge), &why) < 0) {
                xmlFail(c, n, "%s", "<bridge name=...> must be an interface name "
                        "(1-15 of [A-Za-z0-9_.-])");
                xmlFree(a);
                return -1;
            }
            virStrcpyTrunc(def->bridge, sizeof(def->bridge), (const char *)a);
        } else if (isPlain(n, "forward")) {
            a = xmlGetNoNsProp(n, (const xmlChar *)"mode");
            const char *m = a ? (const char *)a : "nat";
            if (STRNEQ(m, "nat") && STRNEQ(m, "route") && STRNEQ(m, "isolated")) {
                xmlFail(c, n, "forward mode '%.16s' is not nat, route or isolated", m);
                xmlFree(a);
                return -1;
            }
            virStrcpyTrunc(def->forward, sizeof(def->forward), m);
        } else if (isPlain(n, "ip")) {
            uint64_t prefix = 0;
            a = xmlGetNoNsProp(n, (const xmlChar *)"address");
            if (!a || parseIPv4((const char *)a, &def->ipv4) < 0 || !def->ipv4) {
                xmlFail(c, n, "%s", "<ip address=...> must be a dotted IPv4 address");
                xmlFree(a);
                return -1;
            }
            if (attrU64(c, n, "prefix", 32, &prefix) < 0 || prefix == 0) {
                if (prefix == 0)
                    xmlFail(c, n, "%s", "<ip prefix=...> must be 1 to 32");
                xmlFree(a);
                return -1;
            }
            def->prefix = (uint32_t)prefix;
        } else {
            xmlFail(c, n, "unknown element <%s> in <network>", (const char *)n->name);
            return -1;
        }
        xmlFree(a);
    }
    if (!cd.haveName) {
        xmlFail(c, root, "%s", "<network> needs a <name>");
        return -1;
    }
    if (!cd.haveUUID && virUUIDGenerate(def->uuid) < 0)
        return -1;
    if (testNetworkDefCheck(def, &why) < 0) {
        xmlFail(c, root, "network '%s': %s", def->name, why);
        return -1;
    }
    return 0;
}

/* Read and parse one file: regular, at most TEST_NODE_MAX bytes. */
static xmlDocPtr readDoc(const char *path)
{
    VIR_AUTOCLOSE fd = -1;
    VIR_AUTOFREE(char *) data = NULL;
    struct stat st;
    size_t len = 0;
    xmlParserCtxtPtr ctxt;
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
    /* Refused before libxml2 sees it: no DTD, so no entity declarations
     * (billion laughs) and no external entities. */
    if (memmem(data, len, "<!DOCTYPE", 9)) {
        virReportError(VIR_ERR_XML_ERROR,
                       "node description %s: a DOCTYPE (DTD, entities) is not "
                       "allowed", path);
        return NULL;
    }
    if (!(ctxt = xmlNewParserCtxt())) {
        virReportOOMError();
        return NULL;
    }
    /* No XML_PARSE_NOENT (entities stay unexpanded), no DTD loading, no
     * network; a document with a DTD is refused below. */
    doc = xmlCtxtReadMemory(ctxt, data, (int)len, path, NULL,
                            XML_PARSE_NONET | XML_PARSE_NOERROR |
                            XML_PARSE_NOWARNING | XML_PARSE_NOCDATA);
    if (!doc) {
        const xmlError *e = xmlCtxtGetLastError(ctxt);
        VIR_AUTOFREE(char *) msg = virStrdup(e && e->message ? e->message
                                                             : "not well-formed");
        if (msg && *msg && msg[strlen(msg) - 1] == '\n')
            msg[strlen(msg) - 1] = '\0';
        virReportError(VIR_ERR_XML_ERROR, "node description %s, line %d: %s",
                       path, e ? e->line : 0, msg ? msg : "not well-formed");
    } else if (doc->intSubset || doc->extSubset) {
        virReportError(VIR_ERR_XML_ERROR,
                       "node description %s: a DOCTYPE (DTD, entities) is not "
                       "allowed", path);
        xmlFreeDoc(doc);
        doc = NULL;
    }
    xmlFreeParserCtxt(ctxt);
    return doc;
}

static char *joinPath(const char *nodefile, const char *file)
{
    const char *slash = strrchr(nodefile, '/');

    if (file[0] == '/')
        return virStrdup(file);
    return virAsprintf("%.*s/%s", (int)(slash - nodefile), nodefile, file);
}

/* <domain file='x.xml'/> or an inline <domain>: parse into @def. */
static int parseChild(const parseCtx *c, xmlNodePtr n, bool isDomain,
                      void *def)
{
    xmlChar *file = xmlGetNoNsProp(n, (const xmlChar *)"file");
    const char *what = isDomain ? "domain" : "network";
    int rc = -1;

    if (!file) {
        if (isDomain)
            return parseDomain(c, n, def);
        return parseNetwork(c, n, def);
    }

    VIR_AUTOFREE(char *) path = joinPath(c->file, (const char *)file);
    xmlDocPtr doc = NULL;
    xmlNodePtr root;
    parseCtx sub = { path };

    for (xmlNodePtr k = n->children; k; k = k->next) {
        if (k->type == XML_ELEMENT_NODE ||
            (k->type == XML_TEXT_NODE && !xmlIsBlankNode(k))) {
            xmlFail(c, n, "<%s file=...> must be empty", what);
            goto cleanup;
        }
    }
    if (!path) {
        virReportOOMError();
        goto cleanup;
    }
    if (!(doc = readDoc(path)))
        goto cleanup;
    root = xmlDocGetRootElement(doc);
    if (!root || !isPlain(root, what)) {
        xmlFail(&sub, root, "the root element must be <%s>", what);
        goto cleanup;
    }
    rc = isDomain ? parseDomain(&sub, root, def) : parseNetwork(&sub, root, def);

 cleanup:
    xmlFreeDoc(doc);
    xmlFree(file);
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
    parseCtx c = { path };
    xmlDocPtr doc;
    xmlNodePtr root;
    testNodeDef nd = { 0 };

    memset(node, 0, sizeof(*node));
    if (!(doc = readDoc(path)))
        return -1;
    root = xmlDocGetRootElement(doc);
    if (!root || !isPlain(root, "node")) {
        xmlFail(&c, root, "%s", "the root element must be <node>");
        goto error;
    }
    if (checkOnlyElements(&c, root) < 0)
        goto error;
    for (xmlNodePtr n = root->children; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        bool isDomain = isPlain(n, "domain");
        if (!isDomain && !isPlain(n, "network")) {
            xmlFail(&c, n, "unknown element <%s> in <node> (expected <domain> "
                    "or <network>)", (const char *)n->name);
            goto error;
        }
        if (nd.ndoms + nd.nnets >= TEST_NODE_OBJECTS_MAX) {
            xmlFail(&c, n, "more than %d domains and networks", TEST_NODE_OBJECTS_MAX);
            goto error;
        }
        const char *name;
        bool dup;
        if (isDomain) {
            testDomainDef *d = virReallocN(nd.doms, nd.ndoms + 1, sizeof(*d));
            if (!d)
                goto error;
            nd.doms = d;
            if (parseChild(&c, n, true, &nd.doms[nd.ndoms]) < 0)
                goto error;
            dup = isDuplicate(nd.doms, nd.ndoms, sizeof(*d),
                              offsetof(testDomainDef, name), offsetof(testDomainDef, uuid));
            name = nd.doms[nd.ndoms++].name;
        } else {
            testNetworkDef *d = virReallocN(nd.nets, nd.nnets + 1, sizeof(*d));
            if (!d)
                goto error;
            nd.nets = d;
            if (parseChild(&c, n, false, &nd.nets[nd.nnets]) < 0)
                goto error;
            dup = isDuplicate(nd.nets, nd.nnets, sizeof(*d),
                              offsetof(testNetworkDef, name), offsetof(testNetworkDef, uuid));
            name = nd.nets[nd.nnets++].name;
        }
        if (dup) {
            xmlFail(&c, n, "%s '%s' is defined twice (same name or UUID)",
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
