/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * testdrv-image.h: a save image checked byte by byte without the reader
 * (restore-worker.c), from the format test-proto.h describes: the header,
 * each run's record, every page of data (the domain's pattern below
 * testMemoryTouched, zero above), that the runs cover the memory, and the
 * checksum. For cmocka tests; a difference fails the test naming where.
 */
#pragma once

#include <stdint.h>
#include <string.h>

#include "drivers/test/test-proto.h"

/* Check the @len bytes of image @img; returns its header. */
static inline testSaveHeader imgCheck(const uint8_t *img, size_t len)
{
    testSaveHeader h;
    uint8_t page[TEST_PAGE_SIZE];
    static const uint8_t zero[TEST_PAGE_SIZE];

    assert_true(len >= sizeof(h));
    memcpy(&h, img, sizeof(h));
    assert_string_equal(h.magic, TEST_SAVE_MAGIC);
    assert_int_equal(h.version, TEST_SAVE_VERSION);
    assert_int_equal(h.header_len, sizeof(h));
    assert_int_equal(h.memory_bytes, h.def.memory_kib * 1024);
    assert_int_equal(len, sizeof(h) + h.xml_len + h.records_len);

    uint64_t mem = h.memory_bytes, touched = testMemoryTouched(&h.def);
    uint64_t pages = (mem + TEST_PAGE_SIZE - 1) / TEST_PAGE_SIZE, next = 0;
    uint64_t sum = testFnv1a(TEST_FNV_INIT, &h.def, sizeof(h.def));
    sum = testFnv1a(sum, img + sizeof(h), h.xml_len);
    testMemSum ms;
    testMemSumInit(&ms, sum);

    const uint8_t *p = img + sizeof(h) + h.xml_len, *end = img + len;
    while (next < pages) {
        testSaveRecord r;
        assert_true(end - p >= (ptrdiff_t)sizeof(r));
        memcpy(&r, p, sizeof(r));
        assert_int_equal(r.magic, TEST_SAVE_RECORD_MAGIC);
        assert_int_equal(r.check, testSaveRecordCheck(&r));
        assert_int_equal(r.page, next);
        assert_true(r.pages >= 1 && r.pages <= pages - next);
        testMemSumUpdate(&ms, p, sizeof(r));
        p += sizeof(r);
        if (r.type == TEST_SAVE_RUN_ZERO) {
            /* Only memory that is zero. */
            assert_true(r.page * TEST_PAGE_SIZE >= touched);
        } else {
            assert_int_equal(r.type, TEST_SAVE_RUN_DATA);
            for (uint64_t i = r.page; i < r.page + r.pages; i++) {
                size_t n = mem - i * TEST_PAGE_SIZE < TEST_PAGE_SIZE ?
                           (size_t)(mem - i * TEST_PAGE_SIZE) : TEST_PAGE_SIZE;
                const uint8_t *want = zero;
                assert_true(end - p >= (ptrdiff_t)n);
                if (i * TEST_PAGE_SIZE < touched) {
                    testMemoryPage(h.def.uuid, i, page);
                    want = page;
                }
                if (memcmp(p, want, n))
                    fail_msg("page %llu of the image differs from the domain's memory",
                             (unsigned long long)i);
                testMemSumUpdate(&ms, p, n);
                p += n;
            }
        }
        next += r.pages;
    }
    assert_true(p == end);
    assert_int_equal(testMemSumFinal(&ms, sum), h.checksum);
    return h;
}
