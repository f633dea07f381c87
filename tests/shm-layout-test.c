/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * shm-layout-test.c: the status segment layout is an ABI. Every offset and
 * size written in shm/segment.h and docs/SEGMENT-ABI.md is checked here.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/internal.h"
#include "shm/segment.h"

#define OFF(type, field, off) assert_int_equal(offsetof(type, field), (off))
#define SIZE(type, field, sz) assert_int_equal(sizeof(((type *)0)->field), (sz))

static void testConstants(void **state)
{
    (void)state;
    /* "VSUPSEG1" read as a little-endian 64-bit word. */
    const char text[8] = { 'V', 'S', 'U', 'P', 'S', 'E', 'G', '1' };
    uint64_t word = 0;
    for (int i = 7; i >= 0; i--)
        word = (word << 8) | (uint8_t)text[i];
    assert_true(word == VIR_SHM_MAGIC);

    assert_int_equal(VIR_SHM_ABI_VERSION, 2);
    assert_int_equal(VIR_SHM_PAGE_SIZE, 4096);
    assert_int_equal(VIR_SHM_HEADER_SIZE, 4096);
    assert_int_equal(VIR_SHM_MAP_OFFSET, 4096);
    assert_int_equal(VIR_SHM_MAP_SIZE, 8192);
    assert_int_equal(VIR_SHM_LIFECYCLE_OFFSET, 12288);
    assert_int_equal(VIR_SHM_LIFECYCLE_SIZE, 512);
    assert_int_equal(VIR_SHM_LIFECYCLE_GROUP, 8);
    assert_int_equal(VIR_SHM_ERROR_DELTA, 4096);
    assert_int_equal(VIR_SHM_PROGRESS_SIZE, 4096);
    assert_int_equal(VIR_SHM_MAX_SLOTS, 65536);
    assert_int_equal(VIR_SHM_OP_MAX, 48);
    assert_int_equal(VIR_SHM_TARGET_MAX, 96);
    assert_int_equal(VIR_SHM_PHASE_MAX, 64);
    assert_int_equal(VIR_SHM_ERROR_MAX, 512);

    assert_int_equal(VIR_SHM_STATE_EMPTY, 0);
    assert_int_equal(VIR_SHM_STATE_QUEUED, 1);
    assert_int_equal(VIR_SHM_STATE_RUNNING, 2);
    assert_int_equal(VIR_SHM_STATE_COMPLETED, 3);
    assert_int_equal(VIR_SHM_STATE_FAILED, 4);
    assert_int_equal(VIR_SHM_STATE_CANCELLED, 5);
    assert_int_equal(VIR_SHM_STATE_LAST, 6);

    assert_int_equal(VIR_SHM_LC_CANCEL_REQUESTED, 0x01);
    assert_int_equal(VIR_SHM_LC_CANCEL_ACKED, 0x02);
    assert_int_equal(VIR_SHM_LC_STALLED, 0x04);
    assert_int_equal(VIR_SHM_LC_KILLED, 0x08);
    assert_int_equal(VIR_SHM_LC_REPAIRED, 0x10);
    assert_int_equal(VIR_SHM_PR_INITIALIZED, 0x01);
    assert_int_equal(VIR_SHM_PR_HAS_ETA, 0x02);
    assert_int_equal(VIR_SHM_PR_CANCEL_ACK, 0x04);
    assert_int_equal(VIR_SHM_HDR_CLOSED, 0x01);
}

static void testHeader(void **state)
{
    (void)state;
    assert_int_equal(sizeof(virShmHeader), 4096);
    OFF(virShmHeader, magic, 0);                  SIZE(virShmHeader, magic, 8);
    OFF(virShmHeader, abi_version, 8);            SIZE(virShmHeader, abi_version, 4);
    OFF(virShmHeader, header_size, 12);           SIZE(virShmHeader, header_size, 4);
    OFF(virShmHeader, lifecycle_size, 16);        SIZE(virShmHeader, lifecycle_size, 4);
    OFF(virShmHeader, nslots, 20);                SIZE(virShmHeader, nslots, 4);
    OFF(virShmHeader, progress_size, 24);         SIZE(virShmHeader, progress_size, 4);
    OFF(virShmHeader, map_size, 28);              SIZE(virShmHeader, map_size, 4);
    OFF(virShmHeader, supervisor_pid, 32);        SIZE(virShmHeader, supervisor_pid, 4);
    OFF(virShmHeader, owner_uid, 36);             SIZE(virShmHeader, owner_uid, 4);
    OFF(virShmHeader, supervisor_start_time, 40); SIZE(virShmHeader, supervisor_start_time, 8);
    OFF(virShmHeader, created_realtime_ns, 48);   SIZE(virShmHeader, created_realtime_ns, 8);
    OFF(virShmHeader, flags, 56);                 SIZE(virShmHeader, flags, 4);
    OFF(virShmHeader, reserved0, 60);             SIZE(virShmHeader, reserved0, 4);
    OFF(virShmHeader, next_job_id, 64);           SIZE(virShmHeader, next_job_id, 8);
    OFF(virShmHeader, map_offset, 72);            SIZE(virShmHeader, map_offset, 8);
    OFF(virShmHeader, lifecycle_offset, 80);      SIZE(virShmHeader, lifecycle_offset, 8);
    OFF(virShmHeader, progress_offset, 88);       SIZE(virShmHeader, progress_offset, 8);
    OFF(virShmHeader, reserved, 96);              SIZE(virShmHeader, reserved, 4000);
}

static void testProgress(void **state)
{
    (void)state;
    assert_int_equal(sizeof(virShmProgressData), 112);
    OFF(virShmProgressData, type, 0);         SIZE(virShmProgressData, type, 4);
    OFF(virShmProgressData, flags, 4);        SIZE(virShmProgressData, flags, 4);
    OFF(virShmProgressData, percent, 8);      SIZE(virShmProgressData, percent, 4);
    OFF(virShmProgressData, reserved0, 12);   SIZE(virShmProgressData, reserved0, 4);
    OFF(virShmProgressData, elapsed_ms, 16);  SIZE(virShmProgressData, elapsed_ms, 8);
    OFF(virShmProgressData, eta_ms, 24);      SIZE(virShmProgressData, eta_ms, 8);
    OFF(virShmProgressData, bytes_done, 32);  SIZE(virShmProgressData, bytes_done, 8);
    OFF(virShmProgressData, bytes_total, 40); SIZE(virShmProgressData, bytes_total, 8);
    OFF(virShmProgressData, phase, 48);       SIZE(virShmProgressData, phase, 64);

    assert_int_equal(sizeof(virShmProgress), 136);
    OFF(virShmProgress, seq, 0);              SIZE(virShmProgress, seq, 4);
    OFF(virShmProgress, cancel_requested, 4); SIZE(virShmProgress, cancel_requested, 4);
    OFF(virShmProgress, job_id, 8);           SIZE(virShmProgress, job_id, 8);
    OFF(virShmProgress, data, 16);            SIZE(virShmProgress, data, 112);
    OFF(virShmProgress, updates, 128);        SIZE(virShmProgress, updates, 8);
}

static void testLifecycle(void **state)
{
    (void)state;
    assert_int_equal(sizeof(virShmLifecycleData), 864);
    OFF(virShmLifecycleData, job_id, 0);             SIZE(virShmLifecycleData, job_id, 8);
    OFF(virShmLifecycleData, generation, 8);         SIZE(virShmLifecycleData, generation, 8);
    OFF(virShmLifecycleData, state, 16);             SIZE(virShmLifecycleData, state, 4);
    OFF(virShmLifecycleData, flags, 20);             SIZE(virShmLifecycleData, flags, 4);
    OFF(virShmLifecycleData, worker_pid, 24);        SIZE(virShmLifecycleData, worker_pid, 4);
    OFF(virShmLifecycleData, exit_status, 28);       SIZE(virShmLifecycleData, exit_status, 4);
    OFF(virShmLifecycleData, term_signal, 32);       SIZE(virShmLifecycleData, term_signal, 4);
    OFF(virShmLifecycleData, error_code, 36);        SIZE(virShmLifecycleData, error_code, 4);
    OFF(virShmLifecycleData, start_realtime_ns, 40); SIZE(virShmLifecycleData, start_realtime_ns, 8);
    OFF(virShmLifecycleData, end_realtime_ns, 48);   SIZE(virShmLifecycleData, end_realtime_ns, 8);
    OFF(virShmLifecycleData, rate_bps, 56);          SIZE(virShmLifecycleData, rate_bps, 8);
    OFF(virShmLifecycleData, eta_ms, 64);            SIZE(virShmLifecycleData, eta_ms, 8);
    OFF(virShmLifecycleData, final, 72);             SIZE(virShmLifecycleData, final, 112);
    OFF(virShmLifecycleData, op, 184);               SIZE(virShmLifecycleData, op, 48);
    OFF(virShmLifecycleData, target, 232);           SIZE(virShmLifecycleData, target, 96);
    OFF(virShmLifecycleData, sampled_realtime_ns, 328);
    SIZE(virShmLifecycleData, sampled_realtime_ns, 8);
    OFF(virShmLifecycleData, start_mono_ns, 336);    SIZE(virShmLifecycleData, start_mono_ns, 8);
    OFF(virShmLifecycleData, end_mono_ns, 344);      SIZE(virShmLifecycleData, end_mono_ns, 8);
    OFF(virShmLifecycleData, error, 352);            SIZE(virShmLifecycleData, error, 512);

    assert_int_equal(sizeof(virShmLifecycle), 512);
    OFF(virShmLifecycle, seq, 0);       SIZE(virShmLifecycle, seq, 4);
    OFF(virShmLifecycle, error_len, 4); SIZE(virShmLifecycle, error_len, 4);
    OFF(virShmLifecycle, data, 8);      SIZE(virShmLifecycle, data, 352);
    OFF(virShmLifecycle, reserved, 360); SIZE(virShmLifecycle, reserved, 152);
}

static void testSlotOffsets(void **state)
{
    (void)state;
    virShmSegment one = { .nslots = 1 }, ring = { .nslots = 1024 }, big = { .nslots = 65536 };
    static char base[16];   /* offsets are taken from it, never dereferenced */

    /* Lifecycle records eight to a page after the slot map, each page of
     * them followed by a page of their error texts; the progress pages
     * after that. */
    assert_true(virShmProgressTableOffset(1) == 20480);
    assert_true(virShmProgressTableOffset(8) == 20480);
    assert_true(virShmProgressTableOffset(9) == 28672);
    assert_true(virShmProgressTableOffset(1024) == 12288 + 128 * 8192);
    assert_true(virShmProgressTableOffset(65536) == 12288 + 8192ull * 8192);
    assert_true(virShmSegmentBytes(1) == 20480 + 4096);
    assert_true(virShmSegmentBytes(1024) == 12288 + 128 * 8192 + 1024 * 4096);
    assert_true(virShmSegmentBytes(65536) == 12288 + 8192ull * 8192 + 65536ull * 4096);
    assert_true(virShmSlotProgressOffset(&one, 0) == 20480);
    assert_true(virShmSlotProgressOffset(&ring, 1) == 12288 + 128 * 8192 + 4096);
    assert_true(virShmSlotProgressOffset(&big, 65535) ==
                12288 + 8192ull * 8192 + 65535ull * 4096);
    ring.base = base;
#define LC_OFF(i) ((uintptr_t)virShmSlotLifecycle(&ring, (i)) - (uintptr_t)base)
    assert_true(LC_OFF(0) == 12288);
    assert_true(LC_OFF(7) == 12288 + 7 * 512);
    assert_true(LC_OFF(8) == 12288 + 8192);
    assert_true(LC_OFF(1023) == 12288 + 127 * 8192 + 7 * 512);
#undef LC_OFF
    /* Every progress page starts on a page boundary: a worker maps it alone. */
    for (uint32_t n = 1; n < 70; n++) {
        virShmSegment s = { .nslots = n };
        for (uint32_t i = 0; i < n; i++)
            assert_int_equal(virShmSlotProgressOffset(&s, i) % 4096, 0);
    }
}

/* --- docs/SEGMENT-ABI.md says the same --- */

typedef struct {
    const char *type;
    const char *field;
    size_t off;
    size_t size;
} fieldInfo;

#define FIELD(t, f) { #t, #f, offsetof(t, f), sizeof(((t *)0)->f) }

static const fieldInfo fields[] = {
    FIELD(virShmHeader, magic), FIELD(virShmHeader, abi_version),
    FIELD(virShmHeader, header_size), FIELD(virShmHeader, lifecycle_size),
    FIELD(virShmHeader, nslots), FIELD(virShmHeader, progress_size),
    FIELD(virShmHeader, map_size), FIELD(virShmHeader, supervisor_pid),
    FIELD(virShmHeader, owner_uid), FIELD(virShmHeader, supervisor_start_time),
    FIELD(virShmHeader, created_realtime_ns), FIELD(virShmHeader, flags),
    FIELD(virShmHeader, reserved0), FIELD(virShmHeader, next_job_id),
    FIELD(virShmHeader, map_offset), FIELD(virShmHeader, lifecycle_offset),
    FIELD(virShmHeader, progress_offset), FIELD(virShmHeader, reserved),
    FIELD(virShmProgress, seq), FIELD(virShmProgress, cancel_requested),
    FIELD(virShmProgress, job_id), FIELD(virShmProgress, data),
    FIELD(virShmProgress, updates),
    FIELD(virShmProgressData, type), FIELD(virShmProgressData, flags),
    FIELD(virShmProgressData, percent), FIELD(virShmProgressData, reserved0),
    FIELD(virShmProgressData, elapsed_ms), FIELD(virShmProgressData, eta_ms),
    FIELD(virShmProgressData, bytes_done), FIELD(virShmProgressData, bytes_total),
    FIELD(virShmProgressData, phase),
    FIELD(virShmLifecycle, seq), FIELD(virShmLifecycle, error_len),
    FIELD(virShmLifecycle, data), FIELD(virShmLifecycle, reserved),
    FIELD(virShmLifecycleData, job_id), FIELD(virShmLifecycleData, generation),
    FIELD(virShmLifecycleData, state), FIELD(virShmLifecycleData, flags),
    FIELD(virShmLifecycleData, worker_pid), FIELD(virShmLifecycleData, exit_status),
    FIELD(virShmLifecycleData, term_signal), FIELD(virShmLifecycleData, error_code),
    FIELD(virShmLifecycleData, start_realtime_ns),
    FIELD(virShmLifecycleData, end_realtime_ns), FIELD(virShmLifecycleData, rate_bps),
    FIELD(virShmLifecycleData, eta_ms), FIELD(virShmLifecycleData, final),
    FIELD(virShmLifecycleData, op), FIELD(virShmLifecycleData, target),
    FIELD(virShmLifecycleData, sampled_realtime_ns), FIELD(virShmLifecycleData, start_mono_ns),
    FIELD(virShmLifecycleData, end_mono_ns), FIELD(virShmLifecycleData, error),
};

static const struct {
    const char *type;
    size_t size;
} types[] = {
    { "virShmHeader", sizeof(virShmHeader) },
    { "virShmProgress", sizeof(virShmProgress) },
    { "virShmProgressData", sizeof(virShmProgressData) },
    { "virShmLifecycle", sizeof(virShmLifecycle) },
    { "virShmLifecycleData", sizeof(virShmLifecycleData) },
};

static const fieldInfo *findField(const char *type, const char *field)
{
    for (size_t i = 0; i < ARRAY_CARDINALITY(fields); i++)
        if (strcmp(fields[i].type, type) == 0 && strcmp(fields[i].field, field) == 0)
            return &fields[i];
    return NULL;
}

/* The text between the first pair of backquotes in @s, into @out. */
static bool quoted(const char *s, char *out, size_t len)
{
    const char *a = strchr(s, '`');
    const char *b = a ? strchr(a + 1, '`') : NULL;

    if (!b || (size_t)(b - a - 1) >= len)
        return false;
    memcpy(out, a + 1, (size_t)(b - a - 1));
    out[b - a - 1] = '\0';
    return true;
}

static void testDocumented(void **state)
{
    (void)state;
    const char *dir = getenv("VIRTSUP_BUILDDIR");
    char path[4096], line[1024], type[64] = "";
    bool seen[ARRAY_CARDINALITY(fields)] = { false };
    size_t headings = 0;
    FILE *f;

    /* Run from the source tree (make check), or find it from the build dir. */
    snprintf(path, sizeof(path), "docs/SEGMENT-ABI.md");
    if (access(path, R_OK) != 0 && dir)
        snprintf(path, sizeof(path), "%s/../docs/SEGMENT-ABI.md", dir);
    if (!(f = fopen(path, "re")))
        fail_msg("cannot read docs/SEGMENT-ABI.md (run from the source tree)");

    while (fgets(line, sizeof(line), f)) {
        unsigned long off, size;
        char name[64];

        if (strncmp(line, "### ", 4) == 0) {
            type[0] = '\0';
            if (!quoted(line, type, sizeof(type)))
                continue;
            /* "### Header (`virShmHeader`, 4096 bytes)" */
            const char *comma = strchr(strchr(line, '`') + 1, '`');
            unsigned long bytes = 0;
            size_t t;
            for (t = 0; t < ARRAY_CARDINALITY(types); t++)
                if (strcmp(types[t].type, type) == 0)
                    break;
            if (t == ARRAY_CARDINALITY(types))
                fail_msg("%s documents unknown type %s", path, type);
            if (sscanf(comma, "`, %lu bytes", &bytes) != 1 || bytes != types[t].size)
                fail_msg("%s: %s is %zu bytes, the heading says: %s",
                         path, type, types[t].size, line);
            headings++;
            continue;
        }
        if (!type[0] || sscanf(line, "| %lu | %lu |", &off, &size) != 2)
            continue;
        const char *cell = strchr(line + 1, '|');
        cell = cell ? strchr(cell + 1, '|') : NULL;
        if (!cell || !quoted(cell, name, sizeof(name)))
            fail_msg("%s: a row of %s names no field: %s", path, type, line);
        const fieldInfo *fi = findField(type, name);
        if (!fi)
            fail_msg("%s documents %s.%s, which does not exist", path, type, name);
        if (fi->off != off || fi->size != size)
            fail_msg("%s: %s.%s documented at %lu size %lu, is at %zu size %zu",
                     path, type, name, off, size, fi->off, fi->size);
        seen[fi - fields] = true;
    }
    fclose(f);
    assert_int_equal(headings, ARRAY_CARDINALITY(types));
    for (size_t i = 0; i < ARRAY_CARDINALITY(fields); i++)
        if (!seen[i])
            fail_msg("%s does not document %s.%s", path, fields[i].type, fields[i].field);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(testConstants),
        cmocka_unit_test(testHeader),
        cmocka_unit_test(testProgress),
        cmocka_unit_test(testLifecycle),
        cmocka_unit_test(testSlotOffsets),
        cmocka_unit_test(testDocumented),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
