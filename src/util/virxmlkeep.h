/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virxmlkeep.h: XML elements a driver accepts without interpreting them,
 * kept so that the XML it writes echoes them back (libvirt's <devices>,
 * <clock>, <metadata>... given to a driver that does not model them).
 *
 * A parser (in a worker) encodes each such element, from the tree libxml2
 * built, into a flat record string; the library keeps that string beside
 * its canonical definition and writes the elements again from it. The
 * library never parses XML it was given: it checks the record string with
 * virXMLKeepCheck (a worker's result is untrusted) and writes it with
 * every name checked and every value escaped, so what it writes is always
 * well-formed, namespace prefixes declared, whatever a worker sent.
 *
 * Encoding, records in document order (names and texts UTF-8, NUL-ended):
 *   'E' name NUL             an element starts
 *   'A' name NUL value NUL   an attribute of the element just started
 *   'T' text NUL             a text child (whitespace-only text is dropped)
 *   'e'                      the element ends
 * The top level is a sequence of whole elements. Names are XML names with
 * at most one ':' (a prefix declared by an xmlns:P attribute of the element
 * or an ancestor; "xml" needs none). Comments are not kept.
 *
 * Thread-safety: no state; a virXMLKeep is used by one thread at a time.
 * Errors: see each call.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libxml/tree.h>

#include "util/virstring.h"
#include "util/virxml.h"

/* Bytes of kept records one definition may hold. */
#define VIR_XML_KEEP_MAX (64 * 1024)

typedef struct virXMLKeep {
    uint8_t *data;     /* the records; owned, free with virXMLKeepClear */
    size_t len;
} virXMLKeep;
#define VIR_XML_KEEP_INIT { NULL, 0 }

/* Append element @n and everything inside it to @k. Returns 0, or -1
 * with an error reported: VIR_ERR_XML_ERROR when the kept elements of one
 * document pass VIR_XML_KEEP_MAX bytes (naming @c->what), or
 * VIR_ERR_NO_MEMORY. */
int virXMLKeepAdd(const virXMLCtx *c, virXMLKeep *k, xmlNodePtr n);

/* Check @len bytes of untrusted records: the encoding above, whole
 * elements, nesting at most VIR_XML_DEPTH_MAX, valid names with declared
 * prefixes, UTF-8 without control characters but tab, CR and LF. Returns
 * 0, or -1 with @why set to a static English reason. Reports nothing. */
int virXMLKeepCheck(const void *data, size_t len, const char **why);

/* Write the top-level kept elements to @b, indented by @indent spaces
 * (children 2 more), one element per line. With @only, the elements
 * named in @names (NULL-terminated), in the order of @names; without, the
 * elements not named there, in document order. Returns how many elements
 * were written. @data must have passed virXMLKeepCheck. */
size_t virXMLKeepFormat(virBuffer *b, const void *data, size_t len, unsigned int indent,
                        const char *const *names, bool only);

/* The name of the first top-level kept element not named in @names
 * (NULL-terminated), or NULL if each is (a reader that keeps only some
 * elements in a place checks a worker's records with it). @data must have
 * passed virXMLKeepCheck. */
const char *virXMLKeepOther(const void *data, size_t len, const char *const *names);

/* True if @s (NUL-terminated) is text XML can hold as it is: UTF-8 of
 * XML 1.0 characters (no control characters but tab, LF and CR, no
 * surrogates, U+FFFE or U+FFFF, no overlong forms). A library that writes
 * strings it did not parse itself (a worker's result, a file) into XML
 * checks them with this first. Pure; thread-safe. */
bool virXMLTextValid(const char *s);

/* True if a top-level kept element is named @name. */
bool virXMLKeepHas(const void *data, size_t len, const char *name);

/* A copy of @len bytes at @data in @k (replacing what it held), for a
 * definition's owner. Returns 0, or -1 with VIR_ERR_NO_MEMORY reported. */
int virXMLKeepSet(virXMLKeep *k, const void *data, size_t len);

/* Free what @k holds; @k is empty afterwards. */
void virXMLKeepClear(virXMLKeep *k);
