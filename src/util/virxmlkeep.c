/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virxmlkeep.c: elements a driver accepts without interpreting them, kept
 * as checked records and written back (virxmlkeep.h has the encoding).
 */
#include <string.h>

#include "util/viralloc.h"
#define VIR_FROM_THIS VIR_FROM_XML
#include "util/virerror.h"
#include "util/virxmlkeep.h"

/* ---- names and texts: the rules the encoder and the checker share ------- */

static bool nameStart(unsigned char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || ch == '_';
}

static bool nameChar(unsigned char ch)
{
    return nameStart(ch) || (ch >= '0' && ch <= '9') || ch == '-' || ch == '.';
}

/* An ASCII XML name with at most one ':' between two non-empty parts.
 * Sets *@colon to the ':' or NULL. */
static bool nameValid(const char *s, const char **colon)
{
    bool start = true;

    *colon = NULL;
    for (const char *p = s; *p; p++) {
        if (*p == ':' && !start && !*colon) {
            *colon = p;
            start = true;
            continue;
        }
        if (start ? !nameStart((unsigned char)*p) : !nameChar((unsigned char)*p))
            return false;
        start = false;
    }
    return !start;
}

/* UTF-8 of XML 1.0 characters: no control characters but tab, LF, CR; no
 * surrogates, U+FFFE/U+FFFF or overlong forms. */
bool virXMLTextValid(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    while (*p) {
        uint32_t cp;
        int n;

        if (*p < 0x80) {
            if (*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r')
                return false;
            p++;
            continue;
        }
        if ((*p & 0xe0) == 0xc0) {
            cp = *p & 0x1f;
            n = 1;
        } else if ((*p & 0xf0) == 0xe0) {
            cp = *p & 0x0f;
            n = 2;
        } else if ((*p & 0xf8) == 0xf0) {
            cp = *p & 0x07;
            n = 3;
        } else {
            return false;
        }
        for (int i = 1; i <= n; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i] & 0x3f);
        }
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
            cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe || cp == 0xffff)
            return false;
        p += n + 1;
    }
    return true;
}

/* ---- encoding (in the parser's process) -------------------------------- */

typedef struct {
    const virXMLCtx *c;
    virXMLKeep *k;
} keepState;

static int put(keepState *st, const void *p, size_t n)
{
    uint8_t *d;

    if (st->k->len + n > VIR_XML_KEEP_MAX) {
        virReportError(VIR_ERR_XML_ERROR,
                       "the elements of %s XML kept without interpretation exceed %d bytes",
                       st->c->what, VIR_XML_KEEP_MAX);
        return -1;
    }
    if (!(d = virReallocN(st->k->data, st->k->len + n, 1)))
        return -1;
    memcpy(d + st->k->len, p, n);
    st->k->data = d;
    st->k->len += n;
    return 0;
}

static int putTag(keepState *st, char tag)
{
    return put(st, &tag, 1);
}

static int putStr(keepState *st, const char *s)
{
    return put(st, s, strlen(s) + 1);
}

static int putName(keepState *st, const char *prefix, const char *name, const char *in)
{
    char buf[256];
    const char *colon;

    if (prefix)
        snprintf(buf, sizeof(buf), "%s:%s", prefix, name);
    else
        snprintf(buf, sizeof(buf), "%s", name);
    if (strlen(buf) >= sizeof(buf) - 1 || !nameValid(buf, &colon)) {
        virReportError(VIR_ERR_CONFIG_UNSUPPORTED,
                       "unsupported name '%.64s' in <%.64s> in %s XML (only ASCII names are kept)",
                       buf, in, st->c->what);
        return -1;
    }
    return putStr(st, buf);
}

static bool blank(const char *s)
{
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
            return false;
    return true;
}

static int putText(keepState *st, const char *s, const char *in)
{
    if (!virXMLTextValid(s)) {
        virReportError(VIR_ERR_XML_ERROR, "invalid characters in <%.64s> in %s XML", in,
                       st->c->what);
        return -1;
    }
    return putStr(st, s);
}

static int keepNode(keepState *st, xmlNodePtr n, unsigned int depth)
{
    virBuffer text = VIR_BUFFER_INIT;
    char ename[256];

    virXMLNodeName(n, ename, sizeof(ename));
    if (depth > VIR_XML_DEPTH_MAX) {
        virReportError(VIR_ERR_XML_ERROR, "%s XML nests deeper than %d levels",
                       st->c->what, VIR_XML_DEPTH_MAX);
        return -1;
    }
    if (putTag(st, 'E') < 0 ||
        putName(st, n->ns ? (const char *)n->ns->prefix : NULL, (const char *)n->name, ename) < 0)
        return -1;
    for (xmlNsPtr ns = n->nsDef; ns; ns = ns->next) {
        if (putTag(st, 'A') < 0 ||
            putName(st, ns->prefix ? "xmlns" : NULL,
                    ns->prefix ? (const char *)ns->prefix : "xmlns", ename) < 0 ||
            putText(st, ns->href ? (const char *)ns->href : "", ename) < 0)
            return -1;
    }
    for (xmlAttrPtr a = n->properties; a; a = a->next) {
        xmlChar *v = xmlNodeGetContent((xmlNodePtr)a);
        int rc;

        if (!v) {
            virReportOOMError();
            return -1;
        }
        rc = putTag(st, 'A') < 0 ||
             putName(st, a->ns ? (const char *)a->ns->prefix : NULL, (const char *)a->name, ename) < 0 ||
             putText(st, (const char *)v, ename) < 0 ? -1 : 0;
        xmlFree(v);
        if (rc < 0)
            return -1;
    }
    /* Adjacent text (CDATA included, comments between dropped) is one
     * record, so that what virXMLKeepFormat writes reads back the same. */
    for (xmlNodePtr ch = n->children; ; ch = ch->next) {
        if (ch && (ch->type == XML_TEXT_NODE || ch->type == XML_CDATA_SECTION_NODE)) {
            if (ch->content)
                virBufferAddf(&text, "%s", (const char *)ch->content);
            continue;
        }
        if (!ch || ch->type == XML_ELEMENT_NODE) {
            VIR_AUTOFREE(char *) t = virBufferFinish(&text);
            if (!t || (!blank(t) && (putTag(st, 'T') < 0 || putText(st, t, ename) < 0)))
                return -1;
        }
        if (!ch)
            break;
        if (ch->type == XML_ELEMENT_NODE && keepNode(st, ch, depth + 1) < 0)
            return -1;
        /* comments and processing instructions are not kept */
    }
    return putTag(st, 'e');
}

/* True if @ns is the namespace of an element or attribute in @n's tree. */
static bool nsUsed(xmlNodePtr n, xmlNsPtr ns)
{
    if (n->ns == ns)
        return true;
    for (xmlAttrPtr a = n->properties; a; a = a->next)
        if (a->ns == ns)
            return true;
    for (xmlNodePtr ch = n->children; ch; ch = ch->next)
        if (ch->type == XML_ELEMENT_NODE && nsUsed(ch, ns))
            return true;
    return false;
}

int virXMLKeepAdd(const virXMLCtx *c, virXMLKeep *k, xmlNodePtr n)
{
    keepState st = { c, k };
    size_t before = k->len;
    size_t afterName;
    uint8_t *moved = NULL;

    if (keepNode(&st, n, 1) < 0)
        goto error;
    /* A prefix the kept element uses but an ancestor declares (the root's
     * xmlns:app) is declared on the kept element itself, so that it stands
     * alone: its declaration goes right after the element's name. */
    afterName = before + 1 + strlen((const char *)k->data + before + 1) + 1;
    for (xmlNodePtr up = n->parent; up && up->type == XML_ELEMENT_NODE; up = up->parent) {
        for (xmlNsPtr ns = up->nsDef; ns; ns = ns->next) {
            size_t end = k->len, rlen;
            if (!ns->prefix || !nsUsed(n, ns))
                continue;
            if (putTag(&st, 'A') < 0 || putName(&st, "xmlns", (const char *)ns->prefix, "") < 0 ||
                putText(&st, (const char *)ns->href, (const char *)n->name) < 0)
                goto error;
            /* rotate the record [end, len) to afterName */
            rlen = k->len - end;
            if (!(moved = virAllocN(rlen, 1)))
                goto error;
            memcpy(moved, k->data + end, rlen);
            memmove(k->data + afterName + rlen, k->data + afterName, end - afterName);
            memcpy(k->data + afterName, moved, rlen);
            free(moved);
            moved = NULL;
        }
    }
    return 0;

 error:
    free(moved);
    k->len = before;     /* never half an element */
    return -1;
}

/* ---- checking (untrusted records) ---------------------------------------- */

#define KEEP_NS_MAX    256    /* namespace declarations in scope at once */
#define KEEP_ATTRS_MAX 64     /* attributes of one element */

typedef struct {
    const char *prefix;       /* not NUL-ended at the length */
    size_t len;
    unsigned int depth;
} keepNS;

/* A NUL-ended string at @pos; its end + 1 in *@next. */
static const char *getStr(const uint8_t *d, size_t len, size_t pos, size_t *next)
{
    const uint8_t *nul;

    if (pos >= len || !(nul = memchr(d + pos, 0, len - pos)))
        return NULL;
    *next = (size_t)(nul - d) + 1;
    return (const char *)d + pos;
}

static bool prefixDeclared(const keepNS *ns, size_t nns, const char *name, const char *colon)
{
    size_t len = (size_t)(colon - name);

    if (len == 3 && !memcmp(name, "xml", 3))
        return true;
    for (size_t i = 0; i < nns; i++)
        if (ns[i].len == len && !memcmp(ns[i].prefix, name, len))
            return true;
    return false;
}

int virXMLKeepCheck(const void *data, size_t len, const char **why)
{
    const uint8_t *d = data;
    keepNS ns[KEEP_NS_MAX];
    const char *attrs[KEEP_ATTRS_MAX];
    const char *elem = NULL;     /* start tag being read (its attributes) */
    size_t nns = 0, nattrs = 0, pos = 0;
    unsigned int depth = 0;

    if (len > VIR_XML_KEEP_MAX) {
        *why = "kept elements too large";
        return -1;
    }
    while (pos < len) {
        uint8_t tag = d[pos++];
        const char *s, *v, *colon;

        if (tag != 'A' && elem) {
            /* the start tag is complete: its prefixes must be declared */
            if (nameValid(elem, &colon) && colon && !prefixDeclared(ns, nns, elem, colon)) {
                *why = "kept element with an undeclared namespace prefix";
                return -1;
            }
            for (size_t i = 0; i < nattrs; i++) {
                (void)nameValid(attrs[i], &colon);
                if (colon && strncmp(attrs[i], "xmlns:", 6) &&
                    !prefixDeclared(ns, nns, attrs[i], colon)) {
                    *why = "kept attribute with an undeclared namespace prefix";
                    return -1;
                }
            }
            elem = NULL;
        }
        switch (tag) {
        case 'E':
            if (!(s = getStr(d, len, pos, &pos)) || !nameValid(s, &colon) ||
                (colon && colon - s == 5 && !memcmp(s, "xmlns", 5))) {
                *why = "kept element without a valid name";
                return -1;
            }
            if (++depth > VIR_XML_DEPTH_MAX) {
                *why = "kept elements nest too deep";
                return -1;
            }
            elem = s;
            nattrs = 0;
            break;
        case 'A':
            if (!elem) {
                *why = "kept attribute outside a start tag";
                return -1;
            }
            if (!(s = getStr(d, len, pos, &pos)) || !nameValid(s, &colon) ||
                !(v = getStr(d, len, pos, &pos)) || !virXMLTextValid(v)) {
                *why = "kept attribute without a valid name or value";
                return -1;
            }
            if (nattrs == KEEP_ATTRS_MAX) {
                *why = "kept element with too many attributes";
                return -1;
            }
            for (size_t i = 0; i < nattrs; i++) {
                if (STREQ(attrs[i], s)) {
                    *why = "kept element with a repeated attribute";
                    return -1;
                }
            }
            attrs[nattrs++] = s;
            if (colon && colon - s == 5 && !memcmp(s, "xmlns", 5)) {
                if (nns == KEEP_NS_MAX) {
                    *why = "kept elements declare too many namespaces";
                    return -1;
                }
                ns[nns++] = (keepNS){ colon + 1, strlen(colon + 1), depth };
            }
            break;
        case 'T':
            if (!depth || !(s = getStr(d, len, pos, &pos)) || !virXMLTextValid(s)) {
                *why = "kept text outside an element or not valid UTF-8 text";
                return -1;
            }
            break;
        case 'e':
            if (!depth) {
                *why = "kept element ends that never started";
                return -1;
            }
            while (nns && ns[nns - 1].depth == depth)
                nns--;
            depth--;
            break;
        default:
            *why = "unknown record in kept elements";
            return -1;
        }
    }
    if (depth) {
        *why = "kept element not ended";
        return -1;
    }
    return 0;
}

/* ---- writing (checked records) -------------------------------------------- */

static void escape(virBuffer *b, const char *s, bool attr)
{
    const char *run = s;

    for (; *s; s++) {
        const char *rep = NULL;
        switch (*s) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '\r': rep = "&#13;"; break;
        case '\'': rep = attr ? "&apos;" : NULL; break;
        case '"': rep = attr ? "&quot;" : NULL; break;
        case '\n': rep = attr ? "&#10;" : NULL; break;
        case '\t': rep = attr ? "&#9;" : NULL; break;
        }
        if (rep) {
            virBufferAddf(b, "%.*s%s", (int)(s - run), run, rep);
            run = s + 1;
        }
    }
    virBufferAddf(b, "%s", run);
}

/* True if the element whose children start at @pos has a text child. */
static bool mixed(const uint8_t *d, size_t pos);

/* Write the element at @pos (an 'E'); returns the position after it.
 * @indent < 0: inside mixed content, written as it is, no line breaks. */
static size_t formatElem(virBuffer *b, const uint8_t *d, size_t pos, int indent)
{
    const char *name = (const char *)d + pos + 1;
    bool inl;

    pos += 1 + strlen(name) + 1;
    virBufferAddf(b, "%*s<%s", indent < 0 ? 0 : indent, "", name);
    while (d[pos] == 'A') {
        const char *an = (const char *)d + pos + 1;
        const char *av = an + strlen(an) + 1;
        virBufferAddf(b, " %s='", an);
        escape(b, av, true);
        virBufferAddf(b, "'");
        pos = (size_t)((const uint8_t *)av - d) + strlen(av) + 1;
    }
    if (d[pos] == 'e') {
        virBufferAddf(b, "/>%s", indent < 0 ? "" : "\n");
        return pos + 1;
    }
    /* Text children: everything inside as it is (<x>text</x>, mixed
     * content); element children only: one per line, indented. */
    inl = indent < 0 || mixed(d, pos);
    virBufferAddf(b, ">%s", inl ? "" : "\n");
    while (d[pos] != 'e') {
        if (d[pos] == 'E') {
            pos = formatElem(b, d, pos, inl ? -1 : indent + 2);
        } else {         /* 'T' */
            const char *t = (const char *)d + pos + 1;
            escape(b, t, false);
            pos += 1 + strlen(t) + 1;
        }
    }
    virBufferAddf(b, "%*s</%s>%s", inl ? 0 : indent, "", name, indent < 0 ? "" : "\n");
    return pos + 1;
}

/* The position after the element at @pos (checked records). */
static size_t skipElem(const uint8_t *d, size_t pos)
{
    unsigned int depth = 0;

    do {
        uint8_t tag = d[pos++];
        if (tag == 'E' || tag == 'T') {
            pos += strlen((const char *)d + pos) + 1;
            depth += tag == 'E';
        } else if (tag == 'A') {
            pos += strlen((const char *)d + pos) + 1;
            pos += strlen((const char *)d + pos) + 1;
        } else {
            depth--;
        }
    } while (depth);
    return pos;
}

static bool mixed(const uint8_t *d, size_t pos)
{
    while (d[pos] != 'e') {
        if (d[pos] == 'T')
            return true;
        pos = skipElem(d, pos);
    }
    return false;
}

static bool named(const char *name, const char *const *names)
{
    for (size_t i = 0; names && names[i]; i++)
        if (STREQ(name, names[i]))
            return true;
    return false;
}

size_t virXMLKeepFormat(virBuffer *b, const void *data, size_t len, unsigned int indent,
                        const char *const *names, bool only)
{
    const uint8_t *d = data;
    size_t n = 0;

    if (!only) {
        for (size_t pos = 0; pos < len; pos = skipElem(d, pos)) {
            if (!named((const char *)d + pos + 1, names)) {
                formatElem(b, d, pos, (int)indent);
                n++;
            }
        }
        return n;
    }
    for (size_t i = 0; names && names[i]; i++) {
        for (size_t pos = 0; pos < len; pos = skipElem(d, pos)) {
            if (STREQ((const char *)d + pos + 1, names[i])) {
                formatElem(b, d, pos, (int)indent);
                n++;
            }
        }
    }
    return n;
}

const char *virXMLKeepOther(const void *data, size_t len, const char *const *names)
{
    const uint8_t *d = data;

    for (size_t pos = 0; pos < len; pos = skipElem(d, pos))
        if (!named((const char *)d + pos + 1, names))
            return (const char *)d + pos + 1;
    return NULL;
}

bool virXMLKeepHas(const void *data, size_t len, const char *name)
{
    const uint8_t *d = data;

    for (size_t pos = 0; pos < len; pos = skipElem(d, pos))
        if (STREQ((const char *)d + pos + 1, name))
            return true;
    return false;
}

int virXMLKeepSet(virXMLKeep *k, const void *data, size_t len)
{
    uint8_t *copy = NULL;

    if (len && !(copy = virAllocN(len, 1)))
        return -1;
    if (len)
        memcpy(copy, data, len);
    free(k->data);
    k->data = copy;
    k->len = len;
    return 0;
}

void virXMLKeepClear(virXMLKeep *k)
{
    free(k->data);
    k->data = NULL;
    k->len = 0;
}
