/*
 * xml-worker.c: domain and network XML, parsed and validated in the
 * worker: the only place where untrusted XML meets libxml2 (a parser bug
 * an attacker finds takes down one job's worker, not the client).
 *
 * Hostile input is stopped before libxml2 sees it where possible: a size
 * cap, no NUL bytes (so no UTF-16/32 tricks), UTF-8 forced (the document's
 * own encoding declaration is ignored, so "<!" cannot hide as UTF-7), and
 * no DOCTYPE at all (no entity declarations: no billion laughs, no
 * external entities). libxml2 itself runs without network access and
 * without entity substitution, and the tree is checked again after.
 *
 * The grammar is strict: any element or attribute not listed below is an
 * error, never silently dropped.
 *
 *   <domain type='test|kvm|qemu' [id='N'] [xmlns:test='TEST_XML_NS']>
 *     <name>NAME</name>                      required
 *     <uuid>UUID</uuid>                      optional: random v4 if absent
 *     <memory [unit='b|bytes|KB|k|KiB|MB|M|MiB|GB|G|GiB|TB|T|TiB']>N</memory>
 *     <currentMemory [unit]>N</currentMemory> optional, checked, ignored
 *     <title>, <description>                 optional text, ignored
 *     <vcpu [placement='static|auto'] [current='N']>N</vcpu> optional (1)
 *     <os>                                   optional (hvm)
 *       <type [arch='..'] [machine='..']>hvm|linux</type>
 *       <kernel/> <initrd/> <cmdline/> <boot dev='..'/>   ignored
 *     </os>
 *     <test:fault op='save,restore,dump,create' [at='0..100'] action='..'/>  (up to 8)
 *     <test:rate bytes-per-second='N'/>
 *   </domain>
 *
 *   <network [xmlns:test=...]>
 *     <name>NAME</name> <uuid>UUID</uuid>?
 *     <bridge name='IF' [stp='on|off'] [delay='N']/>?
 *     <forward [mode='nat|route|isolated']/>?   (no mode: nat)
 *     <ip address='A.B.C.D' (prefix='N' | netmask='A.B.C.D') [family='ipv4']>
 *       <dhcp><range start='A.B.C.D' end='A.B.C.D'/>*</dhcp>?       (ignored)
 *     </ip>?
 *     <test:fault .../>* <test:rate .../>?
 *   </network>
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <sys/random.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "util/internal.h"
#undef VIR_FROM_THIS   /* unit tests include several of these files in one unit */
#define VIR_FROM_THIS VIR_FROM_TEST
#include "util/virerror.h"
#include "drivers/test/test-worker.h"

typedef struct xmlCtx {
    const char *what;     /* "domain" or "network", for messages */
} xmlCtx;

#define XERR(...) virReportError(VIR_ERR_XML_ERROR, __VA_ARGS__)

/* --- text and numbers --- */

static bool isSpace(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Trim XML whitespace in place; returns the start. */
static char *trim(char *s)
{
    size_t n;
    while (isSpace(*s))
        s++;
    n = strlen(s);
    while (n && isSpace(s[n - 1]))
        s[--n] = '\0';
    return s;
}

static int parseU64(const char *s, uint64_t *out)
{
    uint64_t v = 0;

    if (!*s)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, (uint64_t)(*s - '0'), &v))
            return -2;
    }
    *out = v;
    return 0;
}

static const char *nodeName(xmlNodePtr n, char *buf, size_t len)
{
    if (n->ns && n->ns->prefix)
        snprintf(buf, len, "%s:%s", (const char *)n->ns->prefix, (const char *)n->name);
    else
        snprintf(buf, len, "%s", (const char *)n->name);
    return buf;
}

static bool inTestNS(xmlNodePtr n)
{
    return n->ns && n->ns->href && STREQ((const char *)n->ns->href, TEST_XML_NS);
}

static bool isPlain(xmlNodePtr n, const char *name)
{
    return !n->ns && STREQ((const char *)n->name, name);
}

static void unsupportedElement(const xmlCtx *c, xmlNodePtr n)
{
    char buf[128];
    virReportError(VIR_ERR_CONFIG_UNSUPPORTED, "unsupported element <%s> in %s XML",
                   nodeName(n, buf, sizeof(buf)), c->what);
}

/* Every attribute of @n must be one of @allowed (NULL-terminated). */
static int checkAttrs(const xmlCtx *c, xmlNodePtr n, const char *const *allowed)
{
    char buf[128];
    for (xmlAttrPtr a = n->properties; a; a = a->next) {
        bool ok = false;
        for (size_t i = 0; !a->ns && allowed && allowed[i]; i++)
            if (STREQ((const char *)a->name, allowed[i]))
                ok = true;
        if (!ok) {
            virReportError(VIR_ERR_CONFIG_UNSUPPORTED,
                           "unsupported attribute '%s%s%s' on <%s> in %s XML",
                           a->ns && a->ns->prefix ? (const char *)a->ns->prefix : "",
                           a->ns && a->ns->prefix ? ":" : "",
                           (const char *)a->name, nodeName(n, buf, sizeof(buf)), c->what);
            return -1;
        }
    }
    return 0;
}

/* Attribute @name of @n, trimmed, caller frees; NULL if absent (no error). */
static char *attr(xmlNodePtr n, const char *name)
{
    xmlChar *v = xmlGetNoNsProp(n, (const xmlChar *)name);
    char *r;
    if (!v)
        return NULL;
    r = strdup(trim((char *)v));
    xmlFree(v);
    if (!r)
        virReportOOMError();
    return r;
}

/* The text of a leaf element: text/CDATA children only, trimmed. Caller frees. */
static char *leafText(const xmlCtx *c, xmlNodePtr n)
{
    char buf[128];
    xmlChar *v;
    char *r;

    for (xmlNodePtr k = n->children; k; k = k->next) {
        if (k->type == XML_TEXT_NODE || k->type == XML_CDATA_SECTION_NODE ||
            k->type == XML_COMMENT_NODE)
            continue;
        XERR("element <%s> in %s XML must hold only text", nodeName(n, buf, sizeof(buf)), c->what);
        return NULL;
    }
    if (!(v = xmlNodeGetContent(n))) {
        virReportOOMError();
        return NULL;
    }
    r = strdup(trim((char *)v));
    xmlFree(v);
    if (!r)
        virReportOOMError();
    return r;
}

/* A text element whose text is not kept. */
static int textOnly(const xmlCtx *c, xmlNodePtr n)
{
    char *t = leafText(c, n);
    int rc = t ? 0 : -1;
    free(t);
    return rc;
}

/* An element that must have no children except comments and blanks. */
static int checkEmpty(const xmlCtx *c, xmlNodePtr n)
{
    for (xmlNodePtr k = n->children; k; k = k->next) {
        if (k->type == XML_COMMENT_NODE)
            continue;
        if (k->type == XML_TEXT_NODE) {
            const char *t = (const char *)k->content;
            while (t && isSpace(*t))
                t++;
            if (!t || !*t)
                continue;
        }
        if (k->type == XML_ELEMENT_NODE) {
            unsupportedElement(c, k);
        } else {
            char buf[128];
            XERR("element <%s> in %s XML must be empty", nodeName(n, buf, sizeof(buf)), c->what);
        }
        return -1;
    }
    return 0;
}

/* Only one of each element: @seen is a bit set the caller keeps. */
static int once(const xmlCtx *c, xmlNodePtr n, uint32_t *seen, uint32_t bit)
{
    char buf[128];
    if (*seen & bit) {
        XERR("element <%s> appears more than once in %s XML",
             nodeName(n, buf, sizeof(buf)), c->what);
        return -1;
    }
    *seen |= bit;
    return 0;
}

static int parseName(const xmlCtx *c, xmlNodePtr n, char *out, size_t outlen)
{
    VIR_AUTOFREE(char *) s = leafText(c, n);
    const char *why;

    if (!s)
        return -1;
    if (testNameCheck(s, outlen, &why) < 0) {
        XERR("invalid %s name '%.80s': %s", c->what, s, why);
        return -1;
    }
    virStrcpyTrunc(out, outlen, s);
    return 0;
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* 32 hex digits, '-' allowed between bytes (libvirt's rule). */
static int parseUUIDText(const char *s, uint8_t uuid[16])
{
    size_t i = 0;

    while (*s && i < 16) {
        int hi, lo;
        if (*s == '-' && i > 0) {
            s++;
            continue;
        }
        if ((hi = hexval(s[0])) < 0 || (lo = hexval(s[1])) < 0)
            return -1;
        uuid[i++] = (uint8_t)(hi << 4 | lo);
        s += 2;
    }
    return (i == 16 && *s == '\0') ? 0 : -1;
}

static int parseUUID(const xmlCtx *c, xmlNodePtr n, uint8_t uuid[16])
{
    VIR_AUTOFREE(char *) s = leafText(c, n);
    if (!s)
        return -1;
    if (parseUUIDText(s, uuid) < 0) {
        XERR("invalid UUID '%.80s' in %s XML: expected 32 hex digits", s, c->what);
        return -1;
    }
    return 0;
}

static int randomUUID(uint8_t uuid[16])
{
    size_t got = 0;
    while (got < 16) {
        ssize_t r = getrandom(uuid + got, 16 - got, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            virReportSystemError(errno, "%s", "cannot generate a UUID");
            return -1;
        }
        got += (size_t)r;
    }
    uuid[6] = (uint8_t)((uuid[6] & 0x0f) | 0x40);   /* version 4 */
    uuid[8] = (uint8_t)((uuid[8] & 0x3f) | 0x80);   /* RFC 4122 variant */
    return 0;
}

static const struct {
    const char *unit;
    uint64_t scale;
} memUnits[] = {
    { "b", 1 }, { "bytes", 1 },
    { "KB", 1000ull }, { "k", 1024ull }, { "KiB", 1024ull },
    { "MB", 1000000ull }, { "M", 1048576ull }, { "MiB", 1048576ull },
    { "GB", 1000000000ull }, { "G", 1073741824ull }, { "GiB", 1073741824ull },
    { "TB", 1000000000000ull }, { "T", 1099511627776ull }, { "TiB", 1099511627776ull },
};

/* <memory unit='..'>N</memory> in KiB, rounded up, range checked. */
static int parseMemory(const xmlCtx *c, xmlNodePtr n, uint64_t *kib)
{
    static const char *const attrs[] = { "unit", NULL };
    VIR_AUTOFREE(char *) unit = NULL;
    VIR_AUTOFREE(char *) text = NULL;
    uint64_t scale = 1024, v, bytes;
    int rc;

    if (checkAttrs(c, n, attrs) < 0 || !(text = leafText(c, n)))
        return -1;
    if ((unit = attr(n, "unit"))) {
        scale = 0;
        for (size_t i = 0; i < ARRAY_CARDINALITY(memUnits); i++)
            if (STREQ(unit, memUnits[i].unit))
                scale = memUnits[i].scale;
        if (!scale) {
            XERR("unknown memory unit '%.32s' in %s XML", unit, c->what);
            return -1;
        }
    }
    if ((rc = parseU64(text, &v)) == -1) {
        XERR("invalid memory value '%.40s' in %s XML: not a number", text, c->what);
        return -1;
    }
    if (rc == -2 || __builtin_mul_overflow(v, scale, &bytes)) {
        XERR("memory value '%.40s %s' in %s XML is too large", text, unit ? unit : "KiB", c->what);
        return -1;
    }
    *kib = bytes / 1024 + (bytes % 1024 != 0);
    if (*kib < TEST_MEMORY_MIN_KIB || *kib > TEST_MEMORY_MAX_KIB) {
        XERR("memory of %" PRIu64 " KiB is out of range (%llu to %llu KiB)",
             *kib, TEST_MEMORY_MIN_KIB, TEST_MEMORY_MAX_KIB);
        return -1;
    }
    return 0;
}

static int parseVcpu(const xmlCtx *c, xmlNodePtr n, uint32_t *vcpus)
{
    static const char *const attrs[] = { "placement", "current", NULL };
    VIR_AUTOFREE(char *) text = NULL;
    VIR_AUTOFREE(char *) cur = NULL;
    uint64_t v, cv;

    if (checkAttrs(c, n, attrs) < 0 || !(text = leafText(c, n)))
        return -1;
    if (parseU64(text, &v) < 0 || v < 1 || v > TEST_VCPUS_MAX) {
        XERR("vCPU count '%.40s' is not a number from 1 to %d", text, TEST_VCPUS_MAX);
        return -1;
    }
    if ((cur = attr(n, "current")) && (parseU64(cur, &cv) < 0 || cv < 1 || cv > v)) {
        XERR("current vCPU count '%.40s' is out of range (1 to %" PRIu64 ")", cur, v);
        return -1;
    }
    *vcpus = (uint32_t)v;
    return 0;
}

static int parseOS(const xmlCtx *c, xmlNodePtr os, char *type, size_t typelen)
{
    static const char *const typeAttrs[] = { "arch", "machine", NULL };
    static const char *const bootAttrs[] = { "dev", NULL };
    uint32_t seen = 0;

    if (checkAttrs(c, os, NULL) < 0)
        return -1;
    for (xmlNodePtr n = os->children; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (isPlain(n, "type")) {
            VIR_AUTOFREE(char *) t = NULL;
            if (once(c, n, &seen, 1) < 0 || checkAttrs(c, n, typeAttrs) < 0 ||
                !(t = leafText(c, n)))
                return -1;
            if (STRNEQ(t, "hvm") && STRNEQ(t, "linux")) {
                XERR("unsupported OS type '%.40s' in domain XML (expected hvm or linux)", t);
                return -1;
            }
            virStrcpyTrunc(type, typelen, t);
        } else if (isPlain(n, "kernel") || isPlain(n, "initrd") || isPlain(n, "cmdline")) {
            VIR_AUTOFREE(char *) t = NULL;
            if (checkAttrs(c, n, NULL) < 0 || !(t = leafText(c, n)))
                return -1;
        } else if (isPlain(n, "boot")) {
            if (checkAttrs(c, n, bootAttrs) < 0 || checkEmpty(c, n) < 0)
                return -1;
        } else {
            unsupportedElement(c, n);
            return -1;
        }
    }
    return 0;
}

/* <test:fault op='save,dump' at='50' action='segv'/> */
static int parseFault(const xmlCtx *c, xmlNodePtr n, testFault *faults, uint32_t *nfaults)
{
    static const char *const attrs[] = { "op", "at", "action", NULL };
    VIR_AUTOFREE(char *) ops = NULL;
    VIR_AUTOFREE(char *) at = NULL;
    VIR_AUTOFREE(char *) action = NULL;
    testFault f = { 0 };
    uint64_t v;
    int a;

    if (checkAttrs(c, n, attrs) < 0 || checkEmpty(c, n) < 0)
        return -1;
    if (*nfaults >= TEST_FAULTS_MAX) {
        XERR("too many <test:fault> elements in %s XML (at most %d)", c->what, TEST_FAULTS_MAX);
        return -1;
    }
    if (!(ops = attr(n, "op")) || !(action = attr(n, "action"))) {
        XERR("<test:fault> in %s XML needs 'op' and 'action'", c->what);
        return -1;
    }
    for (char *save = NULL, *tok = strtok_r(ops, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        int bit = testFaultOpFromName(trim(tok));
        if (bit < 0) {
            XERR("unknown fault op '%.32s' in %s XML (expected save, restore, dump, create)",
                 tok, c->what);
            return -1;
        }
        f.ops |= (uint32_t)bit;
    }
    if (!f.ops) {
        XERR("<test:fault> in %s XML has an empty 'op'", c->what);
        return -1;
    }
    if ((a = testFaultActionFromName(action)) < 0) {
        XERR("unknown fault action '%.32s' in %s XML", action, c->what);
        return -1;
    }
    f.action = (uint32_t)a;
    if ((at = attr(n, "at"))) {
        if (parseU64(at, &v) < 0 || v > 100) {
            XERR("fault percent '%.32s' in %s XML is not 0 to 100", at, c->what);
            return -1;
        }
        f.at = (uint32_t)v;
    }
    faults[(*nfaults)++] = f;
    return 0;
}

/* <test:rate bytes-per-second='N'/> */
static int parseRate(const xmlCtx *c, xmlNodePtr n, uint64_t *rate)
{
    static const char *const attrs[] = { "bytes-per-second", NULL };
    VIR_AUTOFREE(char *) s = NULL;

    if (checkAttrs(c, n, attrs) < 0 || checkEmpty(c, n) < 0)
        return -1;
    if (!(s = attr(n, "bytes-per-second")) || parseU64(s, rate) < 0 || *rate == 0) {
        XERR("<test:rate> in %s XML needs a positive 'bytes-per-second'", c->what);
        return -1;
    }
    return 0;
}

/* The test namespace's elements, common to domains and networks. */
static int parseTestNS(const xmlCtx *c, xmlNodePtr n, testFault *faults, uint32_t *nfaults,
                       uint64_t *rate, uint32_t *seen)
{
    if (STREQ((const char *)n->name, "fault"))
        return parseFault(c, n, faults, nfaults);
    if (STREQ((const char *)n->name, "rate"))
        return once(c, n, seen, 1u << 31) < 0 ? -1 : parseRate(c, n, rate);
    unsupportedElement(c, n);
    return -1;
}

/* --- the document --- */

/* Entity references or nodes anywhere: refused (belt and braces: no DTD
 * gets this far). */
static int checkTree(xmlNodePtr n)
{
    for (; n; n = n->next) {
        if (n->type == XML_ENTITY_REF_NODE || n->type == XML_ENTITY_NODE ||
            n->type == XML_ENTITY_DECL || n->type == XML_DTD_NODE ||
            n->type == XML_XINCLUDE_START) {
            XERR("%s", "XML must not use entities or a DTD");
            return -1;
        }
        if (n->type == XML_ELEMENT_NODE && checkTree(n->children) < 0)
            return -1;
    }
    return 0;
}

static xmlDocPtr readDoc(const xmlCtx *c, const char *xml, size_t len, const char *root)
{
    xmlParserCtxtPtr ctxt;
    xmlDocPtr doc;
    xmlNodePtr top;

    if (!xml || len == 0) {
        XERR("%s XML is empty", c->what);
        return NULL;
    }
    if (len > TEST_XML_MAX) {
        XERR("%s XML is too large: %zu bytes (at most %d)", c->what, len, TEST_XML_MAX);
        return NULL;
    }
    if (memchr(xml, '\0', len)) {
        XERR("%s XML holds a NUL byte (only UTF-8 is accepted)", c->what);
        return NULL;
    }
    if (memmem(xml, len, "<!DOCTYPE", 9) || memmem(xml, len, "<!ENTITY", 8)) {
        XERR("%s XML must not contain a DTD or entity declarations", c->what);
        return NULL;
    }
    if (!(ctxt = xmlNewParserCtxt())) {
        virReportOOMError();
        return NULL;
    }
    doc = xmlCtxtReadMemory(ctxt, xml, (int)len, "untrusted.xml", "UTF-8",
                            XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
                            XML_PARSE_IGNORE_ENC | XML_PARSE_NOCDATA);
    if (!doc) {
        xmlErrorPtr e = xmlCtxtGetLastError(ctxt);
        char msg[160] = "parse error";
        if (e && e->message) {
            virStrcpyTrunc(msg, sizeof(msg), e->message);
            trim(msg);
        }
        XERR("malformed %s XML: line %d: %s", c->what, e ? e->line : 0, msg);
        xmlFreeParserCtxt(ctxt);
        return NULL;
    }
    xmlFreeParserCtxt(ctxt);

    if (doc->intSubset || doc->extSubset || checkTree(doc->children) < 0) {
        if (doc->intSubset || doc->extSubset)
            XERR("%s XML must not contain a DTD or entity declarations", c->what);
        xmlFreeDoc(doc);
        return NULL;
    }
    top = xmlDocGetRootElement(doc);
    if (!top || top->ns || STRNEQ((const char *)top->name, root)) {
        char buf[128];
        XERR("expected root element <%s> in %s XML, found <%s>", root, c->what,
             top ? nodeName(top, buf, sizeof(buf)) : "nothing");
        xmlFreeDoc(doc);
        return NULL;
    }
    return doc;
}

/* For the children of a root: 1 to skip @n (comment, blank text), 0 for
 * an element, -1 (reported) for text outside any element. */
static int notElement(const xmlCtx *c, xmlNodePtr n)
{
    if (n->type == XML_TEXT_NODE) {
        const char *t = (const char *)n->content;
        while (t && isSpace(*t))
            t++;
        if (t && *t) {
            XERR("%s XML has text outside any element", c->what);
            return -1;
        }
        return 1;
    }
    return n->type == XML_ELEMENT_NODE ? 0 : 1;
}

enum {
    SEEN_NAME = 1 << 0, SEEN_UUID = 1 << 1, SEEN_MEMORY = 1 << 2, SEEN_CURMEM = 1 << 3,
    SEEN_VCPU = 1 << 4, SEEN_OS = 1 << 5, SEEN_BRIDGE = 1 << 6, SEEN_FORWARD = 1 << 7,
    SEEN_IP = 1 << 8,
};

/* The children domains and networks share: <name>, <uuid>, the test
 * namespace. Returns 1 if @n was one of them (parsed), 0 if not, -1 on
 * error (reported). */
static int parseCommon(const xmlCtx *c, xmlNodePtr n, char name[TEST_NAME_MAX],
                       uint8_t uuid[16], testFault *faults, uint32_t *nfaults,
                       uint64_t *rate, uint32_t *seen)
{
    int rc;

    if (inTestNS(n))
        rc = parseTestNS(c, n, faults, nfaults, rate, seen);
    else if (isPlain(n, "name"))
        rc = once(c, n, seen, SEEN_NAME) < 0 || checkAttrs(c, n, NULL) < 0 ? -1 :
             parseName(c, n, name, TEST_NAME_MAX);
    else if (isPlain(n, "uuid"))
        rc = once(c, n, seen, SEEN_UUID) < 0 || checkAttrs(c, n, NULL) < 0 ? -1 :
             parseUUID(c, n, uuid);
    else
        return 0;
    return rc < 0 ? -1 : 1;
}

/* After the children: <name> is required, a missing <uuid> is made up. */
static int commonDone(const xmlCtx *c, uint32_t seen, uint8_t uuid[16])
{
    if (!(seen & SEEN_NAME)) {
        XERR("%s XML has no <name>", c->what);
        return -1;
    }
    if (!(seen & SEEN_UUID))
        return randomUUID(uuid);
    return 0;
}

static int parseDomainRoot(const xmlCtx *c, xmlNodePtr root, testDomainDef *def)
{
    static const char *const rootAttrs[] = { "type", "id", NULL };
    VIR_AUTOFREE(char *) type = NULL;
    VIR_AUTOFREE(char *) id = NULL;
    uint32_t seen = 0;
    uint64_t ignored;

    if (checkAttrs(c, root, rootAttrs) < 0)
        return -1;
    if (!(type = attr(root, "type")) ||
        (STRNEQ(type, "test") && STRNEQ(type, "kvm") && STRNEQ(type, "qemu"))) {
        XERR("domain XML needs type='test' (or 'kvm', 'qemu'), found '%.32s'", type ? type : "");
        return -1;
    }
    if ((id = attr(root, "id")) && STRNEQ(id, "-1") && parseU64(id, &ignored) < 0) {
        XERR("invalid domain id '%.32s' in domain XML", id);
        return -1;
    }

    for (xmlNodePtr n = root->children; n; n = n->next) {
        int rc;
        if ((rc = notElement(c, n)) != 0) {
            if (rc < 0)
                return -1;
            continue;
        }
        if ((rc = parseCommon(c, n, def->name, def->uuid, def->faults, &def->nfaults,
                              &def->rate_bps, &seen)) != 0)
            rc = rc < 0 ? -1 : 0;
        else if (isPlain(n, "memory"))
            rc = once(c, n, &seen, SEEN_MEMORY) < 0 ? -1 : parseMemory(c, n, &def->memory_kib);
        else if (isPlain(n, "title") || isPlain(n, "description"))
            rc = checkAttrs(c, n, NULL) < 0 ? -1 : textOnly(c, n);
        else if (isPlain(n, "currentMemory"))
            rc = once(c, n, &seen, SEEN_CURMEM) < 0 ? -1 : parseMemory(c, n, &ignored);
        else if (isPlain(n, "vcpu"))
            rc = once(c, n, &seen, SEEN_VCPU) < 0 ? -1 : parseVcpu(c, n, &def->vcpus);
        else if (isPlain(n, "os"))
            rc = once(c, n, &seen, SEEN_OS) < 0 ? -1 :
                 parseOS(c, n, def->os_type, sizeof(def->os_type));
        else {
            unsupportedElement(c, n);
            rc = -1;
        }
        if (rc < 0)
            return -1;
    }
    if (commonDone(c, seen, def->uuid) < 0)
        return -1;
    if (!(seen & SEEN_MEMORY)) {
        XERR("%s", "domain XML has no <memory>");
        return -1;
    }
    return 0;
}

int testDomainParseXML(const char *xml, size_t len, testDomainDef *out)
{
    xmlCtx c = { "domain" };
    testDomainDef def;
    xmlDocPtr doc;
    const char *why;
    int rc;

    if (!(doc = readDoc(&c, xml, len, "domain")))
        return -1;
    memset(&def, 0, sizeof(def));
    def.magic = TEST_DOMAIN_DEF_MAGIC;
    def.version = 1;
    def.vcpus = 1;
    virStrcpyTrunc(def.os_type, sizeof(def.os_type), "hvm");
    rc = parseDomainRoot(&c, xmlDocGetRootElement(doc), &def);
    xmlFreeDoc(doc);
    if (rc < 0)
        return -1;
    /* What the library will check, checked here first for a clear message. */
    if (testDomainDefCheck(&def, &why) < 0) {
        XERR("invalid domain definition: %s", why);
        return -1;
    }
    *out = def;
    return 0;
}

static int parseIPv4(const char *s, uint32_t *out)
{
    struct in_addr a;
    if (inet_pton(AF_INET, s, &a) != 1)
        return -1;
    *out = ntohl(a.s_addr);
    return 0;
}

static int parseIP(const xmlCtx *c, xmlNodePtr ip, testNetworkDef *def)
{
    static const char *const attrs[] = { "address", "prefix", "netmask", "family", NULL };
    static const char *const rangeAttrs[] = { "start", "end", NULL };
    VIR_AUTOFREE(char *) addr = NULL;
    VIR_AUTOFREE(char *) prefix = NULL;
    VIR_AUTOFREE(char *) mask = NULL;
    VIR_AUTOFREE(char *) family = NULL;
    uint64_t p = 0;
    uint32_t m;

    if (checkAttrs(c, ip, attrs) < 0)
        return -1;
    if ((family = attr(ip, "family")) && STRNEQ(family, "ipv4")) {
        XERR("unsupported address family '%.32s' in network XML (only ipv4)", family);
        return -1;
    }
    if (!(addr = attr(ip, "address")) || parseIPv4(addr, &def->ipv4) < 0 || def->ipv4 == 0) {
        XERR("invalid or missing IPv4 address '%.40s' in network XML", addr ? addr : "");
        return -1;
    }
    prefix = attr(ip, "prefix");
    mask = attr(ip, "netmask");
    if (!!prefix == !!mask) {
        XERR("%s", "<ip> in network XML needs exactly one of 'prefix' and 'netmask'");
        return -1;
    }
    if (prefix && (parseU64(prefix, &p) < 0 || p < 1 || p > 32)) {
        XERR("IPv4 prefix '%.32s' in network XML is not 1 to 32", prefix);
        return -1;
    }
    if (mask) {
        if (parseIPv4(mask, &m) < 0 || m == 0 || (~m & (~m + 1)) != 0) {
            XERR("invalid IPv4 netmask '%.40s' in network XML", mask);
            return -1;
        }
        p = (uint64_t)__builtin_popcount(m);
    }
    def->prefix = (uint32_t)p;

    for (xmlNodePtr d = ip->children; d; d = d->next) {
        if (d->type != XML_ELEMENT_NODE)
            continue;
        if (!isPlain(d, "dhcp") || checkAttrs(c, d, NULL) < 0) {
            if (!isPlain(d, "dhcp"))
                unsupportedElement(c, d);
            return -1;
        }
        for (xmlNodePtr r = d->children; r; r = r->next) {
            VIR_AUTOFREE(char *) start = NULL;
            VIR_AUTOFREE(char *) end = NULL;
            uint32_t s, e;
            if (r->type != XML_ELEMENT_NODE)
                continue;
            if (!isPlain(r, "range")) {
                unsupportedElement(c, r);
                return -1;
            }
            if (checkAttrs(c, r, rangeAttrs) < 0 || checkEmpty(c, r) < 0)
                return -1;
            if (!(start = attr(r, "start")) || !(end = attr(r, "end")) ||
                parseIPv4(start, &s) < 0 || parseIPv4(end, &e) < 0 || s > e) {
                XERR("%s", "invalid DHCP <range> in network XML");
                return -1;
            }
        }
    }
    return 0;
}

static int parseNetworkRoot(const xmlCtx *c, xmlNodePtr root, testNetworkDef *def)
{
    static const char *const bridgeAttrs[] = { "name", "stp", "delay", NULL };
    static const char *const forwardAttrs[] = { "mode", NULL };
    uint32_t seen = 0;

    if (checkAttrs(c, root, NULL) < 0)
        return -1;
    for (xmlNodePtr n = root->children; n; n = n->next) {
        int rc = 0;
        if ((rc = notElement(c, n)) != 0) {
            if (rc < 0)
                return -1;
            continue;
        }
        if ((rc = parseCommon(c, n, def->name, def->uuid, def->faults, &def->nfaults,
                              &def->rate_bps, &seen)) != 0) {
            rc = rc < 0 ? -1 : 0;
        } else if (isPlain(n, "bridge")) {
            VIR_AUTOFREE(char *) name = NULL;
            VIR_AUTOFREE(char *) stp = NULL;
            VIR_AUTOFREE(char *) delay = NULL;
            const char *why;
            uint64_t ignored;
            if (once(c, n, &seen, SEEN_BRIDGE) < 0 || checkAttrs(c, n, bridgeAttrs) < 0 ||
                checkEmpty(c, n) < 0)
                return -1;
            if ((name = attr(n, "name")) && name[0]) {
                if (testNameCheck(name, sizeof(def->bridge), &why) < 0) {
                    XERR("invalid bridge name '%.40s' in network XML: %s", name, why);
                    return -1;
                }
                virStrcpyTrunc(def->bridge, sizeof(def->bridge), name);
            }
            if ((stp = attr(n, "stp")) && STRNEQ(stp, "on") && STRNEQ(stp, "off")) {
                XERR("invalid bridge stp '%.32s' in network XML (expected on or off)", stp);
                return -1;
            }
            if ((delay = attr(n, "delay")) && parseU64(delay, &ignored) < 0) {
                XERR("invalid bridge delay '%.32s' in network XML", delay);
                return -1;
            }
        } else if (isPlain(n, "forward")) {
            VIR_AUTOFREE(char *) mode = NULL;
            if (once(c, n, &seen, SEEN_FORWARD) < 0 || checkAttrs(c, n, forwardAttrs) < 0 ||
                checkEmpty(c, n) < 0)
                return -1;
            mode = attr(n, "mode");
            if (mode && STRNEQ(mode, "nat") && STRNEQ(mode, "route") &&
                STRNEQ(mode, "isolated")) {
                XERR("unsupported forward mode '%.32s' in network XML "
                     "(expected nat, route or isolated)", mode);
                return -1;
            }
            virStrcpyTrunc(def->forward, sizeof(def->forward), mode ? mode : "nat");
        } else if (isPlain(n, "ip")) {
            if (seen & SEEN_IP) {
                XERR("%s", "only one <ip> element is supported in network XML");
                return -1;
            }
            seen |= SEEN_IP;
            rc = parseIP(c, n, def);
        } else {
            unsupportedElement(c, n);
            rc = -1;
        }
        if (rc < 0)
            return -1;
    }
    return commonDone(c, seen, def->uuid);
}

int testNetworkParseXML(const char *xml, size_t len, testNetworkDef *out)
{
    xmlCtx c = { "network" };
    testNetworkDef def;
    xmlDocPtr doc;
    const char *why;
    int rc;

    if (!(doc = readDoc(&c, xml, len, "network")))
        return -1;
    memset(&def, 0, sizeof(def));
    def.magic = TEST_NETWORK_DEF_MAGIC;
    def.version = 1;
    rc = parseNetworkRoot(&c, xmlDocGetRootElement(doc), &def);
    xmlFreeDoc(doc);
    if (rc < 0)
        return -1;
    if (testNetworkDefCheck(&def, &why) < 0) {
        XERR("invalid network definition: %s", why);
        return -1;
    }
    *out = def;
    return 0;
}

/* --- the define ops: parse, validate, propose the def --- */

static void defineRun(virWorkerJobPtr job, const void *params, size_t len, bool network)
{
    union {
        testDomainDef dom;
        testNetworkDef net;
    } def;
    testJobParams p;
    const char *xml;

    virWorkerJobInitialize(job, 0);
    virWorkerJobSetPhase(job, "validating");
    if (testJobParamsGet(params, len, &p, &xml) < 0 ||
        (network ? testNetworkParseXML(xml, p.xmllen, &def.net) :
                   testDomainParseXML(xml, p.xmllen, &def.dom)) < 0) {
        virWorkerJobFinishError(job);
        return;
    }
    if (virWorkerJobSetResult(job, &def, network ? sizeof(def.net) : sizeof(def.dom)) < 0) {
        virWorkerJobFinishFailure(job, VIR_ERR_INTERNAL_ERROR, "%s",
                            "cannot attach the definition to the job");
        return;
    }
    virWorkerJobUpdateRel(job, 0, 0, 100);
    virWorkerJobFinishSuccess(job);
}

static void testDomainDefineRun(virWorkerJobPtr job, const void *params, size_t len)
{
    defineRun(job, params, len, false);
}

static void testNetworkDefineRun(virWorkerJobPtr job, const void *params, size_t len)
{
    defineRun(job, params, len, true);
}

VIR_WORKER_OP_REGISTER(testDomainDefineOp, TEST_OP_DOMAIN_DEFINE, testDomainDefineRun);
VIR_WORKER_OP_REGISTER(testNetworkDefineOp, TEST_OP_NETWORK_DEFINE, testNetworkDefineRun);
