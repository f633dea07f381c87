/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * testdrv-dump-test.c: the ELF64 core a dump writes: parsed here field by
 * field (every memory byte checked), then given to readelf and, when it is
 * installed, gdb; memory ranges; the dump op with cancel and faults.
 */
#include <elf.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/procfs.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "../worker/jobio.c"
#include "../src/drivers/test/test-worker.c"
#include "../src/drivers/test/dump-worker.c"
#include "testdrv-fakejob.h"

static void test_ranges(void **state)
{
    (void)state;
    testMemRange r[TEST_MEM_RANGES_MAX];
    static const uint64_t sizes[] = {
        1ull << 20, (1ull << 20) + 1024, 256ull << 20, 3ull << 30,
        (3ull << 30) - (1ull << 20) + 0xa0000, 4ull << 30, 64ull << 30,
    };

    for (size_t i = 0; i < ARRAY_CARDINALITY(sizes); i++) {
        size_t n = testMemRanges(sizes[i], r);
        uint64_t sum = 0;
        assert_true(n >= 2 && n <= TEST_MEM_RANGES_MAX);
        for (size_t k = 0; k < n; k++) {
            assert_int_equal(r[k].offset, sum);   /* contiguous in the domain's memory */
            assert_true(r[k].size > 0);
            if (k)
                assert_true(r[k].paddr >= r[k - 1].paddr + r[k - 1].size);
            assert_true(r[k].paddr % TEST_PAGE_SIZE == 0);
            sum += r[k].size;
        }
        assert_int_equal(sum, sizes[i]);
        /* Nothing in the VGA hole nor in the PCI hole. */
        for (size_t k = 0; k < n; k++) {
            assert_false(r[k].paddr < 0x100000 && r[k].paddr + r[k].size > 0xa0000);
            assert_false(r[k].paddr < 0x100000000ull && r[k].paddr + r[k].size > 0xc0000000ull);
        }
    }
    assert_int_equal(testMemRanges(1ull << 20, r), 2);
    assert_int_equal(r[0].size, 0xa0000);
    assert_int_equal(r[1].paddr, 0x100000);
    assert_int_equal(r[1].size, 0x60000);
    assert_int_equal(testMemRanges(4ull << 30, r), 3);
    assert_int_equal(r[2].paddr, 0x100000000ull);
    assert_int_equal(r[2].size, (4ull << 30) - 0xa0000 - (0xc0000000ull - 0x100000));
}

static char corePath[64];

static int tempFile(void)
{
    return fakeTempFile(corePath);
}

/* The bytes of memory the last checked core holds in its file (the sum
 * of its PT_LOAD p_filesz). */
static uint64_t lastInFile;

/* Parse the core as a consumer would, checking every byte of memory. */
static void checkCore(const char *path, const testDomainDef *def)
{
    size_t len, nload = 0, nstatus = 0, npsinfo = 0;
    uint8_t *f = fakeReadWhole(path, &len);
    Elf64_Ehdr eh;
    uint8_t page[TEST_PAGE_SIZE];
    uint64_t mem = def->memory_kib * 1024, seen = 0, end = 0, inFile = 0;
    uint64_t touched = testMemoryTouched(def);

    assert_true(len >= sizeof(eh));
    memcpy(&eh, f, sizeof(eh));
    assert_memory_equal(eh.e_ident, ELFMAG, SELFMAG);
    assert_int_equal(eh.e_ident[EI_CLASS], ELFCLASS64);
    assert_int_equal(eh.e_ident[EI_DATA], ELFDATA2LSB);
    assert_int_equal(eh.e_type, ET_CORE);
    assert_int_equal(eh.e_machine, EM_X86_64);
    assert_int_equal(eh.e_phentsize, sizeof(Elf64_Phdr));
    assert_int_equal(eh.e_phoff, sizeof(Elf64_Ehdr));

    for (size_t i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;
        memcpy(&ph, f + eh.e_phoff + i * sizeof(ph), sizeof(ph));
        assert_true(ph.p_offset + ph.p_filesz <= len);
        if (ph.p_offset + ph.p_filesz > end)
            end = ph.p_offset + ph.p_filesz;
        if (ph.p_type == PT_NOTE) {
            assert_int_equal(i, 0);
            for (size_t off = ph.p_offset; off < ph.p_offset + ph.p_filesz;) {
                Elf64_Nhdr nh;
                memcpy(&nh, f + off, sizeof(nh));
                const char *name = (const char *)f + off + sizeof(nh);
                const uint8_t *desc = f + off + sizeof(nh) + ((nh.n_namesz + 3) & ~3u);
                assert_int_equal(nh.n_namesz, 5);
                assert_string_equal(name, "CORE");
                if (nh.n_type == NT_PRSTATUS) {
                    struct elf_prstatus st;
                    assert_int_equal(nh.n_descsz, sizeof(st));
                    memcpy(&st, desc, sizeof(st));
                    assert_int_equal(st.pr_pid, (pid_t)(nstatus + 1));
                    nstatus++;
                } else if (nh.n_type == NT_PRPSINFO) {
                    struct elf_prpsinfo ps;
                    assert_int_equal(nh.n_descsz, sizeof(ps));
                    memcpy(&ps, desc, sizeof(ps));
                    assert_string_equal(ps.pr_fname, def->name);
                    npsinfo++;
                } else {
                    fail_msg("unexpected note type %u", nh.n_type);
                }
                off = (size_t)(desc - f) + ((nh.n_descsz + 3) & ~3u);
            }
        } else {
            assert_int_equal(ph.p_type, PT_LOAD);
            assert_int_equal(ph.p_paddr, ph.p_vaddr);
            assert_int_equal(ph.p_offset % TEST_PAGE_SIZE, 0);
            /* Segment k holds the domain's memory from byte `seen` on: in
             * the file, its part of the data; the zero rest p_memsz beyond. */
            uint64_t data = touched > seen ? touched - seen : 0;
            assert_int_equal(ph.p_filesz, data < ph.p_memsz ? data : ph.p_memsz);
            for (uint64_t b = 0; b < ph.p_filesz; b += TEST_PAGE_SIZE) {
                uint64_t n = ph.p_filesz - b < TEST_PAGE_SIZE ? ph.p_filesz - b : TEST_PAGE_SIZE;
                testMemoryPage(def->uuid, (seen + b) / TEST_PAGE_SIZE, page);
                assert_memory_equal(f + ph.p_offset + b, page, n);
            }
            seen += ph.p_memsz;
            inFile += ph.p_filesz;
            nload++;
        }
    }
    assert_int_equal(nstatus, def->vcpus);
    assert_int_equal(npsinfo, 1);
    assert_int_equal(seen, mem);
    assert_int_equal(inFile, touched);
    assert_int_equal(end, len);
    lastInFile = inFile;
    free(f);
}

static int runOut(const char *cmd, char *out, size_t outlen)
{
    FILE *p = popen(cmd, "r");
    size_t n;
    assert_non_null(p);
    n = fread(out, 1, outlen - 1, p);
    out[n] = '\0';
    /* Drain the rest, so the command never dies of SIGPIPE. */
    char sink[4096];
    while (fread(sink, 1, sizeof(sink), p) > 0)
        ;
    return pclose(p);
}

static size_t countLines(const char *text, const char *word)
{
    size_t n = 0;
    for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        while (*l == ' ')
            l++;
        if (strncmp(l, word, strlen(word)) == 0)
            n++;
    }
    return n;
}

/* Dump a domain of @kib KiB (@curKib current) and check the core, then
 * readelf's and gdb's reading of it. Returns the core's size. */
static size_t dumpAndCheck(uint64_t kib, uint64_t curKib, uint64_t dataBytes, uint32_t vcpus,
                           size_t loads, unsigned int flags)
{
    testDomainDef def;
    fakeJob job;
    char cmd[256], out[16384];
    int fd = tempFile();
    struct stat sb;

    fakeDomainDef(&def, "dumpee", kib, vcpus);
    def.current_kib = curKib;
    def.data_bytes = dataBytes;
    fakeJobInit(&job, fd);
    assert_int_equal(testElfCoreWrite(FJ(&job), fd, &def, flags, 0), 0);
    close(fd);
    assert_int_equal(job.done, job.total);
    assert_string_equal(job.phases, (flags & VIR_DUMP_LIVE) ?
                        "writing notes|writing memory (live)|syncing" :
                        "writing notes|writing memory|syncing");
    checkCore(corePath, &def);
    assert_int_equal(stat(corePath, &sb), 0);
    assert_int_equal(job.total, (uint64_t)sb.st_size);    /* progress: bytes written */

    snprintf(cmd, sizeof(cmd), "readelf -W -h -l '%s' 2>&1", corePath);
    int rc = runOut(cmd, out, sizeof(out));
    if (rc != 0)
        fail_msg("readelf failed (%d): %s", rc, out);
    assert_contains(out, "CORE (Core file)");
    assert_contains(out, "Advanced Micro Devices X86-64");
    assert_int_equal(countLines(out, "LOAD"), loads);
    assert_int_equal(countLines(out, "NOTE"), 1);
    assert_true(strstr(out, "Warning") == NULL && strstr(out, "Error") == NULL);

    /* readelf -n decodes the notes. */
    snprintf(cmd, sizeof(cmd), "readelf -W -n '%s' 2>&1", corePath);
    assert_int_equal(runOut(cmd, out, sizeof(out)), 0);
    assert_contains(out, "NT_PRPSINFO");
    assert_contains(out, "NT_PRSTATUS");

    if (system("command -v gdb >/dev/null 2>&1") == 0) {
        snprintf(cmd, sizeof(cmd),
                 "gdb -nx -batch -ex 'info files' -ex 'info threads' -c '%s' 2>&1", corePath);
        rc = runOut(cmd, out, sizeof(out));
        if (rc != 0)
            fail_msg("gdb failed (%d): %s", rc, out);
        assert_contains(out, "Local core dump file");
        assert_contains(out, "0x0000000000100000");
        assert_true(strstr(out, "not in executable format") == NULL);
        assert_true(strstr(out, "is not a core dump") == NULL);
    } else {
        print_message("gdb not installed: gdb check skipped\n");
    }
    unlink(corePath);
    return (size_t)sb.st_size;
}

static void test_core_small(void **state)
{
    (void)state;
    dumpAndCheck(1024, 1024, 0, 1, 2, 0);
}

static void test_core_many_vcpus(void **state)
{
    (void)state;
    dumpAndCheck(4096, 4096, 0, 256, 2, VIR_DUMP_LIVE);
}

static void test_core_partial_page(void **state)
{
    (void)state;
    dumpAndCheck(1025, 1025, 0, 3, 2, 0);
}

/* libvirt's default domain: 8 GiB, 2 GiB current, its first 64 MiB data.
 * Three RAM ranges; the second and third end in zero (p_filesz < p_memsz),
 * the third all zero (p_filesz 0): the core is its 64 MiB of data and
 * headers, which readelf and gdb accept. */
static void test_core_mostly_zero(void **state)
{
    (void)state;
    size_t size = dumpAndCheck(8388608, 2097152, 0, 2, 3, 0);
    assert_true(size > 64ull << 20 && size < (64ull << 20) + 8192);

    /* What readelf shows: FileSiz below MemSiz for the zero tails. */
    testDomainDef def;
    fakeJob job;
    char cmd[256], out[16384];
    int fd = tempFile();
    fakeDomainDef(&def, "dumpee", 8388608, 2);
    def.current_kib = 2097152;
    fakeJobInit(&job, fd);
    assert_int_equal(testElfCoreWrite(FJ(&job), fd, &def, 0, 0), 0);
    close(fd);
    snprintf(cmd, sizeof(cmd), "readelf -W -l '%s' 2>&1", corePath);
    assert_int_equal(runOut(cmd, out, sizeof(out)), 0);
    /* Type Offset VirtAddr PhysAddr FileSiz MemSiz */
    assert_contains(out, "0x0000000000100000 0x0000000000100000 0x3f60000 0xbff00000");
    assert_contains(out, "0x0000000100000000 0x0000000100000000 0x000000 0x140060000");
    assert_true(strstr(out, "Warning") == NULL && strstr(out, "Error") == NULL);
    if (system("command -v gdb >/dev/null 2>&1") == 0) {
        /* gdb reads a zero tail as zeros: in the second range past the
         * data, and in the third. The data reads as the domain's page. */
        uint8_t page[TEST_PAGE_SIZE];
        uint64_t w0;
        char want[64];
        snprintf(cmd, sizeof(cmd), "gdb -nx -batch -ex 'x/2gx 0x5000000' "
                 "-ex 'x/2gx 0x100001000' -ex 'x/1gx 0x200000' -c '%s' 2>&1", corePath);
        assert_int_equal(runOut(cmd, out, sizeof(out)), 0);
        assert_contains(out, "0x5000000:\t0x0000000000000000\t0x0000000000000000");
        assert_contains(out, "0x100001000:\t0x0000000000000000\t0x0000000000000000");
        /* Guest physical 2 MiB is linear byte 2 MiB - 384 KiB (the hole). */
        testMemoryPage(def.uuid, ((2 << 20) - 0x60000) / TEST_PAGE_SIZE, page);
        memcpy(&w0, page, 8);
        snprintf(want, sizeof(want), "0x200000:\t0x%016llx", (unsigned long long)w0);
        assert_contains(out, want);
        assert_true(strstr(out, "Cannot access memory") == NULL);
    }
    unlink(corePath);
}

/* A guest whose data (1.5 MiB current) ends inside its second range. */
static void test_core_small_current(void **state)
{
    (void)state;
    dumpAndCheck(4096, 512 + 1024, 0, 1, 2, 0);
}

/* <test:memory data-bytes='N'/>: the file holds N bytes of memory (whole
 * pages), not the min(current, 64 MiB) default; the rest is zero tails. */
static void test_core_data_bytes(void **state)
{
    (void)state;
    dumpAndCheck(16384, 12288, (5ull << 20) + 1, 1, 2, 0);
    assert_int_equal(lastInFile, (5ull << 20) + TEST_PAGE_SIZE);
    /* All of a 4 MiB guest's memory, its partial last page included. */
    dumpAndCheck(4097, 4097, 4097ull * 1024, 1, 2, 0);
    assert_int_equal(lastInFile, 4097ull * 1024);
}

static void test_dump_op(void **state)
{
    (void)state;
    const virWorkerOp *op = virWorkerOpLookup(TEST_OP_DOMAIN_DUMP);
    testDomainDef def;
    fakeJob job;
    size_t plen;
    int fd = tempFile();

    assert_non_null(op);
    fakeDomainDef(&def, "dumpee", 8192, 2);
    def.nfaults = 2;
    def.faults[0] = (testFault){ TEST_FAULT_OP_DUMP, 100, TEST_FAULT_EXIT, 0 };
    def.faults[1] = (testFault){ TEST_FAULT_OP_SAVE, 0, TEST_FAULT_SEGV, 0 };
    void *params = fakeParams(&def, NULL, NULL, 0, VIR_DUMP_CRASH, &plen);
    fakeJobInit(&job, fd);
    op->run(FJ(&job), params, plen);
    assert_int_equal(job.nfinish, 1);
    assert_int_equal(job.finished, FAKE_SUCCESS);
    assert_int_equal(job.nfaults, 1);
    assert_string_equal(job.fault, "exit");
    assert_int_equal(job.faultPercent, 100);
    close(fd);
    checkCore(corePath, &def);

    /* Cancel half way. */
    assert_int_equal(truncate(corePath, 0), 0);
    fd = open(corePath, O_WRONLY | O_CLOEXEC);
    fakeJobInit(&job, fd);
    job.cancelAtBytes = 4 << 20;
    op->run(FJ(&job), params, plen);
    assert_int_equal(job.finished, FAKE_CANCELLED);
    assert_int_equal(job.nfinish, 1);
    close(fd);
    free(params);

    /* A full disk. */
    fd = open("/dev/full", O_WRONLY | O_CLOEXEC);
    params = fakeParams(&def, NULL, NULL, 0, 0, &plen);
    fakeJobInit(&job, fd);
    op->run(FJ(&job), params, plen);
    assert_int_equal(job.finished, FAKE_ERROR);
    assert_string_equal(job.message, "cannot write core dump: No space left on device");
    close(fd);
    free(params);
    unlink(corePath);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ranges),
        cmocka_unit_test(test_core_small),
        cmocka_unit_test(test_core_many_vcpus),
        cmocka_unit_test(test_core_partial_page),
        cmocka_unit_test(test_core_mostly_zero),
        cmocka_unit_test(test_core_small_current),
        cmocka_unit_test(test_core_data_bytes),
        cmocka_unit_test(test_dump_op),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
