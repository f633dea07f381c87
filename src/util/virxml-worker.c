/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virxml-worker.c: libxml2 loaded with dlopen by the spawn helpers whose
 * profile asks for it (util/virxmllib.h). Worker only.
 */
#include "util/internal.h"
#include "util/virdl.h"
#include "util/virxml.h"

/* What the table holds before the load: the free calls, the only ones
 * code can reach without a document (given NULL), do nothing. */
static void noFreeDoc(xmlDocPtr doc) { (void)doc; }
static void noFreeNode(xmlNodePtr node) { (void)node; }
static void noFreeParserCtxt(xmlParserCtxtPtr ctxt) { (void)ctxt; }
static void noFree(void *mem) { (void)mem; }
static xmlFreeFunc noFreeFunc = noFree;

virXMLLibCalls virXMLLib = {
    .freeParserCtxt = noFreeParserCtxt,
    .freeDoc = noFreeDoc,
    .freeNode = noFreeNode,
    .freeFunc = &noFreeFunc,
};

#define XML_SONAME "libxml2.so.2"

static void *xmlLib;
static char xmlWhy[200];

int virXMLLibLoad(void)
{
#define XML_SYM(field, name) { name, (void **)&virXMLLib.field }
    static const virDLSym syms[] = {
        XML_SYM(newParserCtxt, "xmlNewParserCtxt"),
        XML_SYM(ctxtReadMemory, "xmlCtxtReadMemory"),
        XML_SYM(ctxtGetLastError, "xmlCtxtGetLastError"),
        XML_SYM(freeParserCtxt, "xmlFreeParserCtxt"),
        XML_SYM(docGetRootElement, "xmlDocGetRootElement"),
        XML_SYM(firstElementChild, "xmlFirstElementChild"),
        XML_SYM(freeDoc, "xmlFreeDoc"),
        XML_SYM(freeNode, "xmlFreeNode"),
        XML_SYM(unlinkNode, "xmlUnlinkNode"),
        XML_SYM(getLineNo, "xmlGetLineNo"),
        XML_SYM(getNoNsProp, "xmlGetNoNsProp"),
        XML_SYM(hasProp, "xmlHasProp"),
        XML_SYM(removeProp, "xmlRemoveProp"),
        XML_SYM(nodeGetContent, "xmlNodeGetContent"),
        XML_SYM(freeFunc, "xmlFree"),
    };
#undef XML_SYM

    if (!xmlLib)
        xmlLib = virDLLoad(XML_SONAME, syms, ARRAY_CARDINALITY(syms), xmlWhy, sizeof(xmlWhy));
    return xmlLib ? 0 : -1;
}

bool virXMLLibLoaded(const char **why)
{
    if (xmlLib)
        return true;
    *why = xmlWhy[0] ? xmlWhy : "only the workers of profiles that ask for it "
                                "(VIR_SUP_LIB_XML) load " XML_SONAME;
    return false;
}
