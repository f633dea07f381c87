/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qemu-domain-xml.c: fuzz the qemu driver's domain XML parser
 * (qemu-xml-worker.c, qemuDomainParseXML), the one that reads the XML
 * given to qemu:/// connections (virDomainDefineXML, CreateXML, and the
 * XML inside a save image being restored).
 *
 * Checks beyond "no crash": a definition the parser accepts passes the
 * library's qemuDomainDefCheck (the library would refuse it otherwise);
 * the library's XML for it, inactive and live, is written; the inactive
 * XML parses back, and writing that again gives the same XML.
 */
#include "../../worker/jobio.c"
#include "../../src/drivers/qemu/qemu-xml-worker.c"
#include "fuzz-job.h"
#include "drivers/qemu/qemu_conf.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const qemuLiveInfo inactive = { -1 }, live = { 7 };
    qemuDomainDef *def = NULL, *again = NULL;
    const char *why = NULL;
    char *xml, *xml2, *liveXML;

    if (size > QEMU_XML_MAX)        /* the library refuses more */
        return 0;
    if (qemuDomainParseXML((const char *)data, size, &def) < 0) {
        virResetLastError();
        return 0;
    }
    FUZZ_CHECK(qemuDomainDefCheck(def, def->size, &why) == 0, "accepted but invalid: %s", why);
    xml = qemuDomainDefFormat(def, &inactive);
    FUZZ_CHECK(xml != NULL, "cannot format an accepted definition");
    liveXML = qemuDomainDefFormat(def, &live);
    FUZZ_CHECK(liveXML != NULL, "cannot format an accepted definition as live XML");
    FUZZ_CHECK(qemuDomainParseXML(xml, strlen(xml), &again) == 0,
               "the library's XML does not parse back: %s\n%s", virGetLastErrorMessage(), xml);
    FUZZ_CHECK(memcmp(def->uuid, again->uuid, sizeof(def->uuid)) == 0 &&
               strcmp(def->name, again->name) == 0, "round trip changed the name or UUID");
    xml2 = qemuDomainDefFormat(again, &inactive);
    FUZZ_CHECK(xml2 != NULL && strcmp(xml, xml2) == 0,
               "round trip changed the XML:\n%s\n---\n%s", xml, xml2 ? xml2 : "");
    free(xml);
    free(xml2);
    free(liveXML);
    free(def);
    free(again);
    return 0;
}
