/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test_driver.h: the test driver's library side, private to
 * src/drivers/test/ (test_driver.c, test_conf.c) and to its tests.
 *
 * Library-only: runs in the client process, trusted.
 */
#pragma once

#include "drivers/test/test-proto.h"
#include "drivers/test/test-shared.h"

#define TEST_NODE_MAX (1024 * 1024)     /* bytes of a node description */
#define TEST_NODE_OBJECTS_MAX 1024      /* domains, networks per node */

/* A parsed node description (test:///PATH.xml). */
typedef struct testNodeDef {
    testDomainDef *doms;
    size_t ndoms;
    testNetworkDef *nets;
    size_t nnets;
} testNodeDef;

/* The fixed contents of test:///default. */
void testDefaultDomainDef(testDomainDef *def);
void testDefaultNetworkDef(testNetworkDef *def);

/* Load the node description at the absolute @path with libxml2 (no
 * network, no DTD, no entity expansion, at most TEST_NODE_MAX bytes, also
 * for each file= it refers to, relative to its directory). Every def is
 * checked with testDomainDefCheck/testNetworkDefCheck; names and UUIDs
 * are unique. Returns 0, or -1 with VIR_ERR_XML_ERROR (or a system error)
 * reported saying which file and element. */
int testNodeLoad(const char *path, testNodeDef *node);
void testNodeClear(testNodeDef *node);

/* The XML of a canonical def (what GetXMLDesc returns and what a save
 * image carries). Returns a malloc'd string, or NULL on OOM (reported). */
char *testDomainDefFormat(const testDomainDef *def);
char *testNetworkDefFormat(const testNetworkDef *def);

