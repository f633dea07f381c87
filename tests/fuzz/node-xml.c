/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * node-xml.c: fuzz the library's node description loader (test_conf.c,
 * testNodeLoad: libxml2 in the client, behind the locked-down settings).
 *
 * The input is written to a file in a private directory and loaded from
 * there. Checks: every domain and network of a loaded node passes its
 * check, and names and UUIDs are unique, as testNodeLoad promises.
 */
#include <fcntl.h>
#include <unistd.h>

/* The loader itself, so that libFuzzer sees its branches (the library
 * archive is not instrumented). */
#include "../../src/drivers/test/test_conf.c"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    testNodeDef node;
    const char *why = NULL;

    if (size > TEST_NODE_MAX + 1)
        return 0;
    const char *nodePath = fuzzTempFile("node.xml", data, size);
    memset(&node, 0, sizeof(node));
    if (testNodeLoad(nodePath, &node) < 0) {
        virResetLastError();
        testNodeClear(&node);
        return 0;
    }
    for (size_t i = 0; i < node.ndoms; i++) {
        FUZZ_CHECK(testDomainDefCheck(&node.doms[i], &why) == 0, "domain %zu: %s", i, why);
        for (size_t j = 0; j < i; j++)
            FUZZ_CHECK(strcmp(node.doms[i].name, node.doms[j].name) != 0 &&
                       memcmp(node.doms[i].uuid, node.doms[j].uuid, 16) != 0,
                       "domains %zu and %zu share a name or UUID", j, i);
    }
    for (size_t i = 0; i < node.nnets; i++) {
        FUZZ_CHECK(testNetworkDefCheck(&node.nets[i], &why) == 0, "network %zu: %s", i, why);
        for (size_t j = 0; j < i; j++)
            FUZZ_CHECK(strcmp(node.nets[i].name, node.nets[j].name) != 0 &&
                       memcmp(node.nets[i].uuid, node.nets[j].uuid, 16) != 0,
                       "networks %zu and %zu share a name or UUID", j, i);
    }
    testNodeClear(&node);
    return 0;
}
