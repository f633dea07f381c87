/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * netdrv-xml.c: fuzz the network driver's XML parser (netxml-worker.c),
 * the one that reads network XML given to qemu:/// connections.
 *
 * An accepted definition passes netDefCheck, and the library's XML for it
 * (netDefFormat) parses back to the same definition.
 */
#include "../../src/drivers/network/netxml-worker.c"
#include "fuzz-job.h"
#include "drivers/network/network_conf.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static netDef def, again;
    const char *why = NULL;
    char *xml;

    if (size > NET_XML_MAX)
        return 0;
    if (netParseXML((const char *)data, size, &def) < 0) {
        virResetLastError();
        return 0;
    }
    FUZZ_CHECK(netDefCheck(&def, false, &why) == 0, "accepted but invalid: %s", why);
    xml = netDefFormat(&def, 0);
    FUZZ_CHECK(xml != NULL, "cannot format an accepted definition");
    FUZZ_CHECK(netParseXML(xml, strlen(xml), &again) == 0,
               "the library's XML does not parse back: %s\n%s", virGetLastErrorMessage(), xml);
    FUZZ_CHECK(memcmp(&def, &again, sizeof(def)) == 0, "round trip changed the definition:\n%s", xml);
    free(xml);
    return 0;
}
