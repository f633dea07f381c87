/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * network-xml.c: fuzz the worker's network XML parser (xml-worker.c), the
 * one that reads XML given to virNetworkDefineXML/CreateXML.
 *
 * As for domains: an accepted definition passes testNetworkDefCheck, and
 * the library's XML for it parses back to the same definition.
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
    const char *why = NULL;
    char *xml;

    if (size > TEST_XML_MAX)
        return 0;
    if (testNetworkParseXML((const char *)data, size, &def) < 0) {
        virResetLastError();
        return 0;
    }
    FUZZ_CHECK(testNetworkDefCheck(&def, &why) == 0, "accepted but invalid: %s", why);
    xml = testNetworkDefFormat(&def);
    FUZZ_CHECK(xml != NULL, "cannot format an accepted definition");
    FUZZ_CHECK(testNetworkParseXML(xml, strlen(xml), &again) == 0,
               "the library's XML does not parse back: %s\n%s", virGetLastErrorMessage(), xml);
    FUZZ_CHECK(memcmp(&def, &again, sizeof(def)) == 0, "round trip changed the definition:\n%s", xml);
    free(xml);
    return 0;
}
