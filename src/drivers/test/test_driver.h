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
#include "util/virxmlkeep.h"

#define TEST_NODE_MAX (1024 * 1024)     /* bytes of a node description */
#define TEST_NODE_OBJECTS_MAX 1024      /* domains, networks per node */

/* A parsed node description (test:///PATH.xml). */
typedef struct testNodeDef {
    testDomainDef *doms;
    virXMLKeep *domKeeps;     /* doms[i]'s elements kept without interpretation */
    size_t ndoms;
    testNetworkDef *nets;
    virXMLKeep *netKeeps;
    size_t nnets;
} testNodeDef;

/* The fixed contents of test:///default: libvirt's test driver's domain
 * "test" and network "default", with the elements of libvirt's XML for
 * them the driver keeps without interpretation (<clock>, <devices>, the
 * DHCP range...) in @keep (what it held is freed; NULL: not wanted).
 * Returns 0, or -1 with an error reported (out of memory). */
int testDefaultDomainDef(testDomainDef *def, virXMLKeep *keep);
int testDefaultNetworkDef(testNetworkDef *def, virXMLKeep *keep);

/* Load the node description at the absolute @path with libxml2 (no
 * network, no DTD, no entity expansion, at most TEST_NODE_MAX bytes, also
 * for each file= it refers to, relative to its directory). Every def is
 * checked with testDomainDefCheck/testNetworkDefCheck; names and UUIDs
 * are unique. Returns 0, or -1 with VIR_ERR_XML_ERROR (or a system error)
 * reported saying which file and element. */
int testNodeLoad(const char *path, testNodeDef *node);
void testNodeClear(testNodeDef *node);

/* The XML of a canonical def with its kept elements (@keep NULL: none;
 * records that passed virXMLKeepCheck), in libvirt's element order: what
 * GetXMLDesc returns and what a save image carries. @id: the running
 * domain's ID, or -1 (not written). Returns a malloc'd string, or NULL on
 * OOM (reported). */
char *testDomainDefFormat(const testDomainDef *def, const virXMLKeep *keep, int id);
char *testNetworkDefFormat(const testNetworkDef *def, const virXMLKeep *keep);

