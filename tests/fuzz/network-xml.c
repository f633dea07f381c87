/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * network-xml.c: fuzz the worker's network XML parser (xml-worker.c), the
 * one that reads XML given to virNetworkDefineXML/CreateXML.
 *
 * As for domains: an accepted definition passes testNetworkDefCheck, and
 * the library's XML for it parses back to the same definition and is
 * written the same again.
 */
#include "../../worker/jobio.c"
#include "../../src/drivers/test/test-worker.c"
#include "../../src/drivers/test/xml-worker.c"
#include "fuzz-job.h"
#include "drivers/test/test_driver.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    testNetworkDef def, again;
    virXMLKeep keep = VIR_XML_KEEP_INIT, keep2 = VIR_XML_KEEP_INIT;
    const char *why = NULL;
    char *xml, *xml2;

    if (size > TEST_XML_MAX)        /* the library refuses more */
        return 0;
    if (testNetworkParseXML((const char *)data, size, &def, &keep) < 0) {
        virResetLastError();
        return 0;
    }
    FUZZ_CHECK(testNetworkDefCheck(&def, &why) == 0, "accepted but invalid: %s", why);
    FUZZ_CHECK(virXMLKeepCheck(keep.data, keep.len, &why) == 0,
               "kept elements the library refuses: %s", why);
    xml = testNetworkDefFormat(&def, &keep);
    FUZZ_CHECK(xml != NULL, "cannot format an accepted definition");
    FUZZ_CHECK(testNetworkParseXML(xml, strlen(xml), &again, &keep2) == 0,
               "the library's XML does not parse back: %s\n%s", virGetLastErrorMessage(), xml);
    FUZZ_CHECK(memcmp(&def, &again, sizeof(def)) == 0, "round trip changed the definition:\n%s", xml);
    /* The kept elements read back as they were written (the second round
     * also keeps what the first wrote for <vcpu>, <os>...). */
    xml2 = testNetworkDefFormat(&again, &keep2);
    FUZZ_CHECK(xml2 != NULL && strcmp(xml, xml2) == 0,
               "round trip changed the XML:\n%s\n---\n%s", xml, xml2 ? xml2 : "");
    free(xml);
    free(xml2);
    virXMLKeepClear(&keep);
    virXMLKeepClear(&keep2);
    return 0;
}
