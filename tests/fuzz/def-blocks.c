/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * def-blocks.c: fuzz the library's checks of the fixed-size definition
 * blocks a worker returns (a worker may be hostile: it parsed a stranger's
 * XML) and network definition files hold, and the XML the library then
 * writes from an accepted block, in the caller's process:
 *
 *   first byte % 3 == 0: a test domain (testDomainDef, then kept elements:
 *                        testDomainDefCheck, virXMLKeepCheck, as the test
 *                        driver checks a worker's result);
 *                    1:  a test network (testNetworkDef, then kept
 *                        elements, the same);
 *                    2:  a network of the network driver (netDef:
 *                        netDefCheck, with and without its bridge).
 *
 * The rest of the input is the block (short inputs are zero-padded, so
 * the fuzzer reaches the checks past the first fields). Checks beyond "no
 * crash": the XML written for an accepted block (inactive and live) is one
 * well-formed element of the right name: nothing a block holds (a title,
 * a kept element's text) breaks out of its place.
 */
/* The checks and writers themselves, so that libFuzzer sees their
 * branches (the library archive is not instrumented). */
#include "../../src/drivers/test/test-shared.c"
#undef VIR_FROM_THIS
#include "../../src/drivers/test/test_conf.c"
#undef VIR_FROM_THIS
#define isZero netIsZero          /* a static helper of both drivers */
#include "../../src/drivers/network/network-shared.c"
#undef VIR_FROM_THIS
#include "../../src/drivers/network/network_conf.c"
#undef isZero
#include "util/virxmlkeep.h"
#include "fuzz.h"

static void wellFormed(char *xml, const char *root)
{
    fuzzOneElement(xml, root, "block");
    free(xml);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static union {
        testDomainDef dom;
        testNetworkDef net;
        netDef nd;
    } b;
    const char *why = NULL;

    if (size < 1)
        return 0;
    int kind = data[0] % 3;
    size_t want = kind == 0 ? sizeof(b.dom) : kind == 1 ? sizeof(b.net) : sizeof(b.nd);
    size_t have = size - 1 < want ? size - 1 : want;
    memset(&b, 0, sizeof(b));
    memcpy(&b, data + 1, have);

    if (kind == 2) {
        for (int needBridge = 0; needBridge < 2; needBridge++) {
            if (netDefCheck(&b.nd, needBridge, &why) < 0)
                continue;
            wellFormed(netDefFormat(&b.nd, 0), "network");
            wellFormed(netDefFormat(&b.nd, 3), "network");
        }
        return 0;
    }
    /* The kept elements: the bytes after the block, as a worker sends them. */
    virXMLKeep keep = VIR_XML_KEEP_INIT;
    size_t rest = size - 1 - have;
    if (rest > VIR_XML_KEEP_MAX || virXMLKeepCheck(data + 1 + have, rest, &why) < 0)
        return 0;
    if (rest) {
        FUZZ_CHECK(virXMLKeepSet(&keep, data + 1 + have, rest) == 0, "cannot keep %zu bytes", rest);
    }
    if (kind == 0 && testDomainDefCheck(&b.dom, &why) == 0) {
        wellFormed(testDomainDefFormat(&b.dom, &keep, -1), "domain");
        wellFormed(testDomainDefFormat(&b.dom, &keep, 4), "domain");
    } else if (kind == 1 && testNetworkDefCheck(&b.net, &why) == 0) {
        wellFormed(testNetworkDefFormat(&b.net, &keep), "network");
    }
    virXMLKeepClear(&keep);
    virResetLastError();
    return 0;
}
