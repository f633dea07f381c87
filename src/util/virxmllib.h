/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virxmllib.h: libxml2 in virtsup-worker, loaded only where it is used.
 *
 * virtsup-worker does not link libxml2 (with ICU, libstdc++, liblzma and
 * zlib: about 40 mappings, which every fork of a worker copies and every
 * exit unmaps). The spawn helpers whose profile asks for it
 * (VIR_SUP_LIB_XML) load it with dlopen before their sandbox is entered,
 * and their workers inherit it (docs/WORKER.md, "Libraries loaded per
 * sandbox"). In the worker's build (VIRTSUP_WORKER), the libxml2 calls of
 * the XML code are made through virXMLLib, the table filled by that load;
 * the library links libxml2 as usual and this header does nothing there.
 *
 * Included by util/virxml.h, after the libxml2 headers the XML code uses:
 * a file that uses libxml2 includes util/virxml.h before any other
 * libxml2 header. Calling a libxml2 function that is not in the table is
 * a link error in the worker: add it here and in virxml-worker.c.
 *
 * Before the load, virXMLReadUntrusted fails with "libxml2 is not
 * available in this worker: ..." and the free calls do nothing (they can
 * only be given NULL then), so no other call can be reached.
 */
#pragma once

#ifdef VIRTSUP_WORKER

# include <stdbool.h>
# include <libxml/parser.h>
# include <libxml/tree.h>
# include <libxml/xmlerror.h>

typedef struct virXMLLibCalls {
    __typeof__(xmlNewParserCtxt) *newParserCtxt;
    __typeof__(xmlCtxtReadMemory) *ctxtReadMemory;
    __typeof__(xmlCtxtGetLastError) *ctxtGetLastError;
    __typeof__(xmlFreeParserCtxt) *freeParserCtxt;
    __typeof__(xmlDocGetRootElement) *docGetRootElement;
    __typeof__(xmlFirstElementChild) *firstElementChild;
    __typeof__(xmlFreeDoc) *freeDoc;
    __typeof__(xmlFreeNode) *freeNode;
    __typeof__(xmlUnlinkNode) *unlinkNode;
    __typeof__(xmlGetLineNo) *getLineNo;
    __typeof__(xmlGetNoNsProp) *getNoNsProp;
    __typeof__(xmlHasProp) *hasProp;
    __typeof__(xmlRemoveProp) *removeProp;
    __typeof__(xmlNodeGetContent) *nodeGetContent;
    xmlFreeFunc *freeFunc;     /* libxml2's variable xmlFree */
} virXMLLibCalls;

extern virXMLLibCalls virXMLLib;

/* Load libxml2 (once; in the spawn helper, single-threaded, before its
 * sandbox). Returns 0, or -1 and keeps why for virXMLLibLoaded. */
int virXMLLibLoad(void);
/* Whether it is loaded; if not, *@why (static) says why, for a message. */
bool virXMLLibLoaded(const char **why);

# define xmlNewParserCtxt (virXMLLib.newParserCtxt)
# define xmlCtxtReadMemory (virXMLLib.ctxtReadMemory)
# define xmlCtxtGetLastError (virXMLLib.ctxtGetLastError)
# define xmlFreeParserCtxt (virXMLLib.freeParserCtxt)
# define xmlDocGetRootElement (virXMLLib.docGetRootElement)
# define xmlFirstElementChild (virXMLLib.firstElementChild)
# define xmlFreeDoc (virXMLLib.freeDoc)
# define xmlFreeNode (virXMLLib.freeNode)
# define xmlUnlinkNode (virXMLLib.unlinkNode)
# define xmlGetLineNo (virXMLLib.getLineNo)
# define xmlGetNoNsProp (virXMLLib.getNoNsProp)
# define xmlHasProp (virXMLLib.hasProp)
# define xmlRemoveProp (virXMLLib.removeProp)
# define xmlNodeGetContent (virXMLLib.nodeGetContent)
# undef xmlFree
# define xmlFree (*virXMLLib.freeFunc)

#endif /* VIRTSUP_WORKER */
