/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xml-shared.h: the test driver's domain and network XML grammar, one
 * parser of each, in both processes (xml-shared.c): the worker parses the
 * XML given to the API with it, the client the elements of a node
 * description. Thread-safe (no state); errors reported with virReportError
 * (VIR_ERR_XML_ERROR, VIR_ERR_CONFIG_UNSUPPORTED), naming the element.
 */
#pragma once

#include <libxml/tree.h>

#include "drivers/test/test-shared.h"
#include "util/virxml.h"
#include "util/virxmlkeep.h"

/* Flags of the Element calls. */
#define TEST_XML_NODE (1u << 0)   /* from a node description: type= may be absent */

/* Parse untrusted XML text (at most TEST_XML_MAX bytes) into a checked
 * definition (testDomainDefCheck / testNetworkDefCheck hold) and, into
 * @keep, the elements kept without interpretation (what it held before
 * is freed; @keep NULL: they are accepted and dropped). Returns 0, or -1
 * with an error reported (@out and @keep unchanged). */
int testDomainParseXML(const char *xml, size_t len, testDomainDef *out, virXMLKeep *keep);
int testNetworkParseXML(const char *xml, size_t len, testNetworkDef *out, virXMLKeep *keep);

/* The same for element @root of a document read with virXMLReadUntrusted
 * (<domain> / <network>). */
int testDomainParseElement(const virXMLCtx *c, xmlNodePtr root, unsigned int flags,
                           testDomainDef *out, virXMLKeep *keep);
int testNetworkParseElement(const virXMLCtx *c, xmlNodePtr root, unsigned int flags,
                            testNetworkDef *out, virXMLKeep *keep);
