/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-shared.h: helpers of the test driver used by both of its halves
 * (defined in test-shared.c, linked into the library and the worker), on
 * top of the calls test-proto.h declares. No parsing here: the XML grammar
 * is xml-shared.c's.
 *
 * All calls are pure functions of their arguments: thread-safe, no errors
 * reported through virerror (they return a static English reason instead).
 */
#pragma once

#include "drivers/test/test-proto.h"
#include "util/virstring.h"


/* Fill @len bytes of domain @uuid's memory starting at byte @offset, which
 * must be a multiple of TEST_PAGE_SIZE; the last page may be partial. */
void testMemoryFill(const uint8_t uuid[16], uint64_t offset, uint8_t *buf, size_t len);

/* One pass over @len bytes of domain @uuid's memory from @offset (a
 * multiple of TEST_PAGE_SIZE): generate them into @buf and add them to
 * the save checksum's memory sum @s, as testMemoryFill then
 * testMemSumUpdate would. @len a multiple of 32 except in a last call. */
void testMemoryFillSum(const uint8_t uuid[16], uint64_t offset, uint8_t *buf, size_t len,
                       testMemSum *s);

/* One pass over @len bytes at @buf read from an image, that should be
 * domain @uuid's memory from @offset (a multiple of TEST_PAGE_SIZE):
 * compare each word with the memory it should be and add what was read to
 * @s. Returns the index of the first page that differs, or UINT64_MAX. */
uint64_t testMemoryVerifySum(const uint8_t uuid[16], uint64_t offset, const uint8_t *buf,
                             size_t len, testMemSum *s);
/* Whether testMemoryFillSum and testMemoryVerifySum do whole pages with
 * vector instructions (x86-64 with AVX-512F, DQ and VL: chosen at run
 * time), and the two without them, always: each pair gives the same
 * bytes, answer and sum (tests compare them). */
bool testMemoryVector(void);
void testMemoryFillSumPlain(const uint8_t uuid[16], uint64_t offset, uint8_t *buf, size_t len,
                            testMemSum *s);
uint64_t testMemoryVerifySumPlain(const uint8_t uuid[16], uint64_t offset, const uint8_t *buf,
                                  size_t len, testMemSum *s);

/* The XML names of fault actions ("segv", ...) and ops ("save", ...), as
 * virWorkerJobInjectFault and <test:fault> spell them. NULL when out of range. */
const char *testFaultActionName(uint32_t action);
int testFaultActionFromName(const char *name);       /* -1 if unknown */
const char *testFaultOpName(uint32_t op);           /* one bit */
int testFaultOpFromName(const char *name);          /* a bit, -1 if unknown */

/* Check a testJobParams blob of @len bytes: magic, version, XML length
 * matching @len. Returns 0, or -1 with @why set. Does not check the defs
 * inside (callers check the one the op uses). */
int testJobParamsCheck(const void *blob, size_t len, const char **why);

/* Format @uuid as 36 characters + NUL into @out. */
void testUUIDFormat(const uint8_t uuid[16], char out[37]);
