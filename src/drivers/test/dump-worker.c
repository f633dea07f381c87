/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * dump-worker.c: TEST_OP_DOMAIN_DUMP, an ELF64 core file of the domain as
 * QEMU's dump-guest-memory writes one for x86-64 guests:
 *
 *   ELF header (ET_CORE, EM_X86_64)
 *   program headers: PT_NOTE, then one PT_LOAD per RAM range
 *   notes: NT_PRPSINFO ("CORE"), one NT_PRSTATUS per vCPU (pr_pid = vCPU + 1)
 *   padding to a page boundary
 *   the RAM ranges' data, in order; p_paddr = p_vaddr = guest physical address
 *
 * Memory byte k of the domain lies in the range whose [offset, offset +
 * size) holds k. Only the memory that carries data (testMemoryTouched:
 * page k / 4096 = testMemoryPage(uuid, ...)) is in the file: a range's
 * p_filesz covers its part of it, and its zero tail is p_memsz beyond
 * p_filesz (the ELF spec's zero-filled part of a segment: readelf
 * shows it, gdb reads zeros there), so an 8 GiB guest's core is its data
 * and headers, not gigabytes of zeros. Each segment's file bytes follow
 * the previous one's, page-aligned (the data ends on a page boundary
 * unless it reaches the memory's partial last page).
 */
#include <elf.h>
#include <stdio.h>
#include <sys/procfs.h>

#include "util/internal.h"
#undef VIR_FROM_THIS   /* unit tests include several of these files in one unit */
#define VIR_FROM_THIS VIR_FROM_TEST
#include "util/virerror.h"
#include "libvirtsup/libvirtsup-domain.h"
#include "drivers/test/test-worker.h"

#define LOW_RAM_END   0xa0000ull                 /* 640 KiB: the legacy VGA hole follows */
#define HIGH_RAM_BASE 0x100000ull                /* 1 MiB */
#define PCI_HOLE      0xc0000000ull              /* 3 GiB: the PCI hole up to 4 GiB */
#define ABOVE_4G      0x100000000ull

size_t testMemRanges(uint64_t memory_bytes, testMemRange ranges[TEST_MEM_RANGES_MAX])
{
    uint64_t left = memory_bytes, off = 0, n;
    size_t count = 0;

    n = left < LOW_RAM_END ? left : LOW_RAM_END;
    ranges[count++] = (testMemRange){ 0, off, n };
    off += n;
    left -= n;
    if (left) {
        n = left < PCI_HOLE - HIGH_RAM_BASE ? left : PCI_HOLE - HIGH_RAM_BASE;
        ranges[count++] = (testMemRange){ HIGH_RAM_BASE, off, n };
        off += n;
        left -= n;
    }
    if (left)
        ranges[count++] = (testMemRange){ ABOVE_4G, off, left };
    return count;
}

static size_t noteSize(size_t desc)
{
    /* Nhdr, name "CORE\0" padded to 8, descriptor padded to 4. */
    return sizeof(Elf64_Nhdr) + 8 + ((desc + 3) & ~(size_t)3);
}

static uint8_t *putNote(uint8_t *p, uint32_t type, const void *desc, size_t len)
{
    Elf64_Nhdr nh = { .n_namesz = 5, .n_descsz = (Elf64_Word)len, .n_type = type };
    memcpy(p, &nh, sizeof(nh));
    p += sizeof(nh);
    memcpy(p, "CORE\0\0\0\0", 8);
    p += 8;
    memcpy(p, desc, len);
    return p + ((len + 3) & ~(size_t)3);
}

/* The headers and notes, up to the first memory byte (page-aligned).
 * Returns a zero-padded buffer of *@len bytes, or NULL (error reported). */
/* Bytes of range @r in the file: its part of the first @touched bytes. */
static uint64_t fileSize(const testMemRange *r, uint64_t touched)
{
    if (touched <= r->offset)
        return 0;
    return touched - r->offset < r->size ? touched - r->offset : r->size;
}

static uint8_t *buildHeaders(const testDomainDef *def, const testMemRange *ranges,
                             size_t nranges, size_t *len)
{
    size_t phnum = 1 + nranges;
    size_t notes = noteSize(sizeof(struct elf_prpsinfo)) +
                   def->vcpus * noteSize(sizeof(struct elf_prstatus));
    size_t notesOff = sizeof(Elf64_Ehdr) + phnum * sizeof(Elf64_Phdr);
    size_t dataOff = (notesOff + notes + TEST_PAGE_SIZE - 1) & ~(size_t)(TEST_PAGE_SIZE - 1);
    uint8_t *buf = calloc(1, dataOff), *p;
    Elf64_Ehdr eh = { .e_type = ET_CORE };
    struct elf_prpsinfo ps;
    char uuid[37];

    if (!buf) {
        virReportOOMError();
        return NULL;
    }
    memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS64;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    eh.e_ident[EI_OSABI] = ELFOSABI_NONE;
    eh.e_machine = EM_X86_64;
    eh.e_version = EV_CURRENT;
    eh.e_phoff = sizeof(Elf64_Ehdr);
    eh.e_ehsize = sizeof(Elf64_Ehdr);
    eh.e_phentsize = sizeof(Elf64_Phdr);
    eh.e_phnum = (Elf64_Half)phnum;
    memcpy(buf, &eh, sizeof(eh));

    p = buf + sizeof(eh);
    Elf64_Phdr note = { .p_type = PT_NOTE, .p_offset = notesOff,
                        .p_filesz = notes, .p_align = 4 };
    memcpy(p, &note, sizeof(note));
    p += sizeof(note);
    uint64_t touched = testMemoryTouched(def), fileOff = dataOff;
    for (size_t i = 0; i < nranges; i++) {
        Elf64_Phdr ld = {
            .p_type = PT_LOAD, .p_flags = PF_R | PF_W | PF_X,
            .p_offset = fileOff,
            .p_vaddr = ranges[i].paddr, .p_paddr = ranges[i].paddr,
            .p_filesz = fileSize(&ranges[i], touched), .p_memsz = ranges[i].size,
            .p_align = TEST_PAGE_SIZE,
        };
        memcpy(p, &ld, sizeof(ld));
        p += sizeof(ld);
        fileOff += ld.p_filesz;
    }

    memset(&ps, 0, sizeof(ps));
    ps.pr_sname = 'R';
    ps.pr_pid = 1;
    virStrcpyTrunc(ps.pr_fname, sizeof(ps.pr_fname), def->name);
    testUUIDFormat(def->uuid, uuid);
    {
        /* pr_psargs is a fixed 80-byte field: format wide, then truncate. */
        char args[TEST_NAME_MAX + 64];
        snprintf(args, sizeof(args), "domain %s uuid %s", def->name, uuid);
        virStrcpyTrunc(ps.pr_psargs, sizeof(ps.pr_psargs), args);
    }
    p = putNote(p, NT_PRPSINFO, &ps, sizeof(ps));
    for (uint32_t v = 0; v < def->vcpus; v++) {
        struct elf_prstatus st;
        memset(&st, 0, sizeof(st));
        st.pr_pid = (pid_t)(v + 1);
        p = putNote(p, NT_PRSTATUS, &st, sizeof(st));
    }
    *len = dataOff;
    return buf;
}

int testElfCoreWrite(virWorkerJobPtr job, int fd, const testDomainDef *def,
                     unsigned int flags, uint64_t rate_bps)
{
    testMemRange ranges[TEST_MEM_RANGES_MAX];
    size_t nranges = testMemRanges(def->memory_kib * 1024, ranges);
    VIR_AUTOFREE(uint8_t *) head = NULL;
    virWorkerIO io = { .buf = NULL };
    testFaultState faults;
    size_t headLen;
    int rc = -1;

    if (!(head = buildHeaders(def, ranges, nranges, &headLen)))
        return -1;
    /* Progress and pacing count the bytes written: the data, not the zero tails. */
    if (virWorkerIOInit(&io, job, fd, "core dump", headLen + testMemoryTouched(def), rate_bps) < 0)
        return -1;
    virWorkerJobInitialize(job, rate_bps ? (unsigned int)(io.total / rate_bps) : 0);
    testFaultInit(&faults, def->faults, def->nfaults, TEST_FAULT_OP_DUMP);
    testFaultPoll(job, &faults, 0);

    virWorkerJobSetPhase(job, "writing notes");
    if ((rc = virWorkerIOWrite(&io, head, headLen)) < 0)
        goto cleanup;
    virWorkerJobSetPhase(job, (flags & VIR_DUMP_LIVE) ? "writing memory (live)" : "writing memory");
    for (size_t r = 0; r < nranges; r++) {
        uint64_t end = ranges[r].offset + fileSize(&ranges[r], testMemoryTouched(def));
        for (uint64_t off = ranges[r].offset; off < end;) {
            size_t n = end - off < io.chunk ? (size_t)(end - off) : io.chunk;
            testMemoryFill(def->uuid, off, io.buf, n);
            if ((rc = virWorkerIOWrite(&io, io.buf, n)) < 0)
                goto cleanup;
            off += n;
            testFaultPoll(job, &faults, virWorkerIOPercent(&io));
        }
    }
    virWorkerJobSetPhase(job, "syncing");
    rc = virWorkerIOSync(&io);

 cleanup:
    virWorkerIOFree(&io);
    return rc;
}

static void testDumpRun(virWorkerJobPtr job, const void *params, size_t len)
{
    testJobParams p;
    const char *xml;
    int fd = testJobDomainTarget(job, params, len, &p, &xml, "core dump");

    if (fd < 0) {
        virWorkerJobFinishError(job);
        return;
    }
    testJobEnd(job, testElfCoreWrite(job, fd, &p.dom, p.flags,
                                     virWorkerIORateMin(p.bandwidth_bps, p.dom.rate_bps)));
}

VIR_WORKER_OP_REGISTER(testDumpOp, TEST_OP_DOMAIN_DUMP, testDumpRun);
