/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * domain-xml.c: fuzz the worker's domain XML parser (xml-worker.c), the
 * one that reads XML given to virDomainDefineXML/CreateXML/CreateLinux.
 *
 * Checks beyond "no crash": a definition the parser accepts passes the
 * library's testDomainDefCheck (the commit step would refuse it
 * otherwise), and the library's XML for it parses back to the same
 * definition.
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
    const char *why = NULL;
    char *xml;

    if (size > TEST_XML_MAX)        /* the library refuses more */
        return 0;
    if (testDomainParseXML((const char *)data, size, &def) < 0) {
        virResetLastError();
        return 0;
    }
    FUZZ_CHECK(testDomainDefCheck(&def, &why) == 0, "accepted but invalid: %s", why);
    xml = testDomainDefFormat(&def);
    FUZZ_CHECK(xml != NULL, "cannot format an accepted definition");
    FUZZ_CHECK(testDomainParseXML(xml, strlen(xml), &again) == 0,
               "the library's XML does not parse back: %s\n%s", virGetLastErrorMessage(), xml);
    FUZZ_CHECK(memcmp(&def, &again, sizeof(def)) == 0, "round trip changed the definition:\n%s", xml);
    free(xml);
    return 0;
}
