/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * domain-xml.c: fuzz the worker's domain XML parser (xml-worker.c), the
 * one that reads XML given to virDomainDefineXML/CreateXML/CreateLinux.
 *
 * Checks beyond "no crash": a definition the parser accepts passes the
 * library's testDomainDefCheck (the commit step would refuse it
 * otherwise), and the library's XML for it parses back to the same
 * definition, and writing that gives the same XML again (the elements
 * kept without interpretation, util/virxmlkeep.h, read back as written).
 */
#include "../../worker/jobio.c"
#include "../../src/drivers/test/test-worker.c"
#include "../../src/drivers/test/xml-worker.c"
#include "fuzz-job.h"
#include "drivers/test/test_driver.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    testDomainDef def, again;
    virXMLKeep keep = VIR_XML_KEEP_INIT, keep2 = VIR_XML_KEEP_INIT;
    const char *why = NULL;
    char *xml, *xml2;

    if (size > TEST_XML_MAX)        /* the library refuses more */
        return 0;
    if (testDomainParseXML((const char *)data, size, &def, &keep) < 0) {
        virResetLastError();
        return 0;
    }
    FUZZ_CHECK(testDomainDefCheck(&def, &why) == 0, "accepted but invalid: %s", why);
    FUZZ_CHECK(virXMLKeepCheck(keep.data, keep.len, &why) == 0,
               "kept elements the library refuses: %s", why);
    xml = testDomainDefFormat(&def, &keep, -1);
    FUZZ_CHECK(xml != NULL, "cannot format an accepted definition");
    FUZZ_CHECK(testDomainParseXML(xml, strlen(xml), &again, &keep2) == 0,
               "the library's XML does not parse back: %s\n%s", virGetLastErrorMessage(), xml);
    FUZZ_CHECK(memcmp(&def, &again, sizeof(def)) == 0, "round trip changed the definition:\n%s", xml);
    /* The kept elements read back as they were written (the second round
     * also keeps what the first wrote for <vcpu>, <os>...). */
    xml2 = testDomainDefFormat(&again, &keep2, -1);
    FUZZ_CHECK(xml2 != NULL && strcmp(xml, xml2) == 0,
               "round trip changed the XML:\n%s\n---\n%s", xml, xml2 ? xml2 : "");
    free(xml);
    free(xml2);
    virXMLKeepClear(&keep);
    virXMLKeepClear(&keep2);
    return 0;
}
