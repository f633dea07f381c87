/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virxml.h: reading untrusted XML with libxml2, locked down, and the
 * element and attribute helpers every grammar's parser is written with
 * (one parser per grammar, each in a worker: the domain and network
 * parsers of the drivers).
 *
 * These are the rules for XML input, in one place, for every process and
 * grammar. Hostile input is stopped before libxml2 sees it where possible:
 * a size cap, no NUL bytes (so no UTF-16/32 tricks), UTF-8 forced (the document's
 * own encoding declaration is ignored, so "<!" cannot hide as UTF-7), and
 * no DOCTYPE at all (no entity declarations: no billion laughs, no
 * external entities). libxml2 runs without network access and without
 * entity substitution, and the tree is checked again after (no entity
 * node, nesting at most VIR_XML_DEPTH_MAX deep).
 *
 * Errors are reported (VIR_ERR_XML_ERROR for malformed or invalid input,
 * VIR_ERR_CONFIG_UNSUPPORTED for an element or attribute the grammar does
 * not have) naming the document kind (@c->what: "domain", "network").
 * Thread-safety: the calls keep no state; a document is used by one
 * thread.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include "util/virxmllib.h"   /* the worker: libxml2 through a table */

/* How deep elements may nest in any document read here. */
#define VIR_XML_DEPTH_MAX 64

typedef struct virXMLCtx {
    const char *what;     /* "domain", "network": for messages */
} virXMLCtx;

/* Parse @len bytes of untrusted @xml (at most @maxlen) whose root element
 * must be <@root> without a namespace. Returns the document (free with
 * xmlFreeDoc), or NULL with an error reported. */
xmlDocPtr virXMLReadUntrusted(const virXMLCtx *c, const char *xml, size_t len,
                              size_t maxlen, const char *root);

/* For the children of an element: 1 to skip @n (comment, blank text), 0
 * for an element, -1 (reported) for text outside any element. */
int virXMLNotElement(const virXMLCtx *c, xmlNodePtr n);

/* The first element child of @parent, or the next element after @n:
 * comments and blank text skipped. NULL at the end, or NULL with *@err
 * set to -1 and an error reported for text outside any element (@err is
 * left alone otherwise). The loop of every parser:
 *   for (n = virXMLFirstElement(c, p, &err); n; n = virXMLNextElement(c, n, &err)) ...
 *   if (err < 0) return -1; */
xmlNodePtr virXMLFirstElement(const virXMLCtx *c, xmlNodePtr parent, int *err);
xmlNodePtr virXMLNextElement(const virXMLCtx *c, xmlNodePtr n, int *err);

/* True if @n is element <@name> without a namespace. */
bool virXMLIsPlain(xmlNodePtr n, const char *name);
/* "prefix:name" or "name" of @n into @buf; returns @buf. */
const char *virXMLNodeName(xmlNodePtr n, char *buf, size_t len);
/* Report "unsupported element <X> in WHAT XML" (CONFIG_UNSUPPORTED). */
void virXMLUnsupportedElement(const virXMLCtx *c, xmlNodePtr n);

/* Every attribute of @n must be one of @allowed (NULL-terminated, or NULL
 * for none); an unknown one is reported by name. Returns 0 or -1. */
int virXMLCheckAttrs(const virXMLCtx *c, xmlNodePtr n, const char *const *allowed);
/* Attribute @name of @n, trimmed; caller frees. NULL if absent (nothing
 * reported) or out of memory (reported). */
char *virXMLAttr(xmlNodePtr n, const char *name);
/* The text of a leaf element (text children only), trimmed; caller frees.
 * NULL with an error if it has child elements. */
char *virXMLLeafText(const virXMLCtx *c, xmlNodePtr n);
/* An element that must have no children but comments and blanks. */
int virXMLCheckEmpty(const virXMLCtx *c, xmlNodePtr n);
/* Only one of each element: @seen is a bit set the caller keeps. */
int virXMLOnce(const virXMLCtx *c, xmlNodePtr n, uint32_t *seen, uint32_t bit);

/* Decimal digits only. Returns 0, -1 (not a number), -2 (overflow). No
 * error reported. */
int virXMLParseU64(const char *s, uint64_t *out);
/* Trim XML whitespace in place; returns the start. */
char *virXMLTrim(char *s);

/* <uuid>: 32 hex digits, '-' allowed between bytes (libvirt's rule).
 * Returns 0, or -1 with an error naming the text. */
int virXMLParseUUID(const virXMLCtx *c, xmlNodePtr n, uint8_t uuid[16]);
/* A random (version 4) UUID. Returns 0, or -1 with an error. */
int virXMLRandomUUID(uint8_t uuid[16]);

/* A memory size, <memory unit='KiB'>N</memory> (libvirt's units, KiB when
 * absent; no attribute but unit), in bytes. Returns 0, or -1 with an error
 * naming the value. */
int virXMLNodeScaled(const virXMLCtx *c, xmlNodePtr n, uint64_t *bytes);

