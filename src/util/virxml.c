/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virxml.c: untrusted XML, read with libxml2 locked down, and the helpers
 * each grammar's parser uses (see virxml.h). Linked into the worker, where
 * the parsers meet untrusted text, and into the library, where the same
 * parsers read the administrator's node descriptions under the same rules.
 */
#include <stdio.h>
#include <sys/random.h>

#include <libxml/parser.h>

#define VIR_FROM_THIS VIR_FROM_XML
#include "util/virerror.h"
#include "util/virxml.h"

#define XERR(...) virReportError(VIR_ERR_XML_ERROR, __VA_ARGS__)

static bool isSpace(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

char *virXMLTrim(char *s)
{
    size_t n;
    while (isSpace(*s))
        s++;
    n = strlen(s);
    while (n && isSpace(s[n - 1]))
        s[--n] = '\0';
    return s;
}

int virXMLParseU64(const char *s, uint64_t *out)
{
    uint64_t v = 0;

    if (!*s)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        if (__builtin_mul_overflow(v, 10, &v) ||
            __builtin_add_overflow(v, (uint64_t)(*s - '0'), &v))
            return -2;
    }
    *out = v;
    return 0;
}

const char *virXMLNodeName(xmlNodePtr n, char *buf, size_t len)
{
    if (n->ns && n->ns->prefix)
        snprintf(buf, len, "%s:%s", (const char *)n->ns->prefix, (const char *)n->name);
    else
        snprintf(buf, len, "%s", (const char *)n->name);
    return buf;
}

bool virXMLIsPlain(xmlNodePtr n, const char *name)
{
    return !n->ns && STREQ((const char *)n->name, name);
}

void virXMLUnsupportedElement(const virXMLCtx *c, xmlNodePtr n)
{
    char buf[128];
    virReportError(VIR_ERR_CONFIG_UNSUPPORTED, "unsupported element <%s> in %s XML",
                   virXMLNodeName(n, buf, sizeof(buf)), c->what);
}

int virXMLCheckAttrs(const virXMLCtx *c, xmlNodePtr n, const char *const *allowed)
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
                           (const char *)a->name, virXMLNodeName(n, buf, sizeof(buf)),
                           c->what);
            return -1;
        }
    }
    return 0;
}

/* A trimmed malloc'd copy of @v, which is freed. */
static char *takeTrimmed(xmlChar *v)
{
    char *r = strdup(virXMLTrim((char *)v));
    xmlFree(v);
    if (!r)
        virReportOOMError();
    return r;
}

char *virXMLAttr(xmlNodePtr n, const char *name)
{
    xmlChar *v = xmlGetNoNsProp(n, (const xmlChar *)name);
    return v ? takeTrimmed(v) : NULL;
}

char *virXMLLeafText(const virXMLCtx *c, xmlNodePtr n)
{
    char buf[128];
    xmlChar *v;

    for (xmlNodePtr k = n->children; k; k = k->next) {
        if (k->type == XML_TEXT_NODE || k->type == XML_CDATA_SECTION_NODE ||
            k->type == XML_COMMENT_NODE)
            continue;
        XERR("element <%s> in %s XML must hold only text",
             virXMLNodeName(n, buf, sizeof(buf)), c->what);
        return NULL;
    }
    if (!(v = xmlNodeGetContent(n))) {
        virReportOOMError();
        return NULL;
    }
    return takeTrimmed(v);
}

int virXMLCheckEmpty(const virXMLCtx *c, xmlNodePtr n)
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
            virXMLUnsupportedElement(c, k);
        } else {
            char buf[128];
            XERR("element <%s> in %s XML must be empty",
                 virXMLNodeName(n, buf, sizeof(buf)), c->what);
        }
        return -1;
    }
    return 0;
}

int virXMLOnce(const virXMLCtx *c, xmlNodePtr n, uint32_t *seen, uint32_t bit)
{
    char buf[128];
    if (*seen & bit) {
        /* The line of the second one: in a file of many objects (a node
         * description) the name alone does not say where it is. */
        long line = xmlGetLineNo(n);
        if (line > 0)
            XERR("element <%s> appears more than once in %s XML (line %ld)",
                 virXMLNodeName(n, buf, sizeof(buf)), c->what, line);
        else
            XERR("element <%s> appears more than once in %s XML",
                 virXMLNodeName(n, buf, sizeof(buf)), c->what);
        return -1;
    }
    *seen |= bit;
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

int virXMLParseUUID(const virXMLCtx *c, xmlNodePtr n, uint8_t uuid[16])
{
    VIR_AUTOFREE(char *) s = virXMLLeafText(c, n);
    if (!s)
        return -1;
    if (parseUUIDText(s, uuid) < 0) {
        XERR("invalid UUID '%.80s' in %s XML: expected 32 hex digits", s, c->what);
        return -1;
    }
    return 0;
}

int virXMLRandomUUID(uint8_t uuid[16])
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

/* Entity references or nodes anywhere: refused (belt and braces: no DTD
 * gets this far). Elements nested deeper than VIR_XML_DEPTH_MAX: refused
 * (no grammar goes near it; libxml2's own limit is 256). */
static int checkTree(const virXMLCtx *c, xmlNodePtr n, unsigned int depth)
{
    if (depth > VIR_XML_DEPTH_MAX) {
        XERR("%s XML nests elements more than %d deep", c->what, VIR_XML_DEPTH_MAX);
        return -1;
    }
    for (; n; n = n->next) {
        if (n->type == XML_ENTITY_REF_NODE || n->type == XML_ENTITY_NODE ||
            n->type == XML_ENTITY_DECL || n->type == XML_DTD_NODE ||
            n->type == XML_XINCLUDE_START) {
            XERR("%s", "XML must not use entities or a DTD");
            return -1;
        }
        if (n->type == XML_ELEMENT_NODE && checkTree(c, n->children, depth + 1) < 0)
            return -1;
    }
    return 0;
}

xmlDocPtr virXMLReadUntrusted(const virXMLCtx *c, const char *xml, size_t len,
                              size_t maxlen, const char *root)
{
    xmlParserCtxtPtr ctxt;
    xmlDocPtr doc;
    xmlNodePtr top;

    if (!xml || len == 0) {
        XERR("%s XML is empty", c->what);
        return NULL;
    }
    if (len > maxlen || len > INT32_MAX) {
        XERR("%s XML is too large: %zu bytes (at most %zu)", c->what, len, maxlen);
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
#ifdef VIRTSUP_WORKER
    const char *why;
    if (!virXMLLibLoaded(&why)) {
        virReportError(VIR_ERR_OPERATION_FAILED, "cannot read %s XML: libxml2 is not "
                       "available in this worker: %s", c->what, why);
        return NULL;
    }
#endif
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
            virXMLTrim(msg);
        }
        XERR("malformed %s XML: line %d: %s", c->what, e ? e->line : 0, msg);
        xmlFreeParserCtxt(ctxt);
        return NULL;
    }
    xmlFreeParserCtxt(ctxt);

    if (doc->intSubset || doc->extSubset || checkTree(c, doc->children, 1) < 0) {
        if (doc->intSubset || doc->extSubset)
            XERR("%s XML must not contain a DTD or entity declarations", c->what);
        xmlFreeDoc(doc);
        return NULL;
    }
    top = xmlDocGetRootElement(doc);
    if (!top || top->ns || STRNEQ((const char *)top->name, root)) {
        char buf[128];
        XERR("expected root element <%s> in %s XML, found <%s>", root, c->what,
             top ? virXMLNodeName(top, buf, sizeof(buf)) : "nothing");
        xmlFreeDoc(doc);
        return NULL;
    }
    return doc;
}

int virXMLNotElement(const virXMLCtx *c, xmlNodePtr n)
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

static xmlNodePtr elementFrom(const virXMLCtx *c, xmlNodePtr n, int *err)
{
    for (; n; n = n->next) {
        int rc = virXMLNotElement(c, n);
        if (rc < 0) {
            *err = -1;
            return NULL;
        }
        if (rc == 0)
            return n;
    }
    return NULL;
}

xmlNodePtr virXMLFirstElement(const virXMLCtx *c, xmlNodePtr parent, int *err)
{
    return elementFrom(c, parent->children, err);
}

xmlNodePtr virXMLNextElement(const virXMLCtx *c, xmlNodePtr n, int *err)
{
    return elementFrom(c, n->next, err);
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

int virXMLNodeScaled(const virXMLCtx *c, xmlNodePtr n, uint64_t *bytes)
{
    static const char *const attrs[] = { "unit", NULL };
    VIR_AUTOFREE(char *) unit = NULL;
    VIR_AUTOFREE(char *) text = NULL;
    uint64_t scale = 1024, v;
    int rc;

    if (virXMLCheckAttrs(c, n, attrs) < 0 || !(text = virXMLLeafText(c, n)))
        return -1;
    if ((unit = virXMLAttr(n, "unit"))) {
        scale = 0;
        for (size_t i = 0; i < ARRAY_CARDINALITY(memUnits); i++)
            if (STREQ(unit, memUnits[i].unit))
                scale = memUnits[i].scale;
        if (!scale) {
            XERR("unknown memory unit '%.32s' in %s XML", unit, c->what);
            return -1;
        }
    }
    if ((rc = virXMLParseU64(text, &v)) == -1) {
        XERR("invalid memory value '%.40s' in %s XML: not a number", text, c->what);
        return -1;
    }
    if (rc == -2 || __builtin_mul_overflow(v, scale, bytes)) {
        XERR("memory value '%.40s %s' in %s XML is too large", text, unit ? unit : "KiB",
             c->what);
        return -1;
    }
    return 0;
}
