/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xml-worker.c: the define ops: the XML given to DefineXML is parsed and
 * validated here, in the worker, with the test driver's one parser of
 * each grammar (xml-shared.c), and the checked definition proposed to the
 * library as the job's result.
 */
#include "util/internal.h"
#undef VIR_FROM_THIS   /* unit tests include several of these files in one unit */
#define VIR_FROM_THIS VIR_FROM_TEST
#include "util/virerror.h"
#include "drivers/test/test-worker.h"
#include "drivers/test/xml-shared.h"

/* --- the define ops: parse, validate, propose the def --- */

static void defineRun(virWorkerJobPtr job, const void *params, size_t len, bool network)
{
    union {
        testDomainDef dom;
        testNetworkDef net;
    } def;
    testJobParams p;
    const char *xml;
    virXMLKeep keep = VIR_XML_KEEP_INIT;

    virWorkerJobInitialize(job, 0);
    virWorkerJobSetPhase(job, "validating");
    if (testJobParamsGet(params, len, &p, &xml) < 0 ||
        (network ? testNetworkParseXML(xml, p.xmllen, &def.net, &keep) :
                   testDomainParseXML(xml, p.xmllen, &def.dom, &keep)) < 0 ||
        testJobSetDefResult(job, &def, network ? sizeof(def.net) : sizeof(def.dom), &keep) < 0) {
        virXMLKeepClear(&keep);
        virWorkerJobFinishError(job);
        return;
    }
    virXMLKeepClear(&keep);
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
