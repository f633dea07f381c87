/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-shared.c: the parts of the test driver both halves need: the memory
 * generator, the checksum, and the checks the library applies to what a
 * worker sends back (a worker fed hostile XML may be compromised, so its
 * result is checked field by field before use).
 *
 * Linked into the library and the worker. Keep parsers of untrusted text
 * out of here: XML is parsed only in the worker.
 */
#include <endian.h>
#include <stdio.h>
#if defined(__x86_64__) && defined(__GNUC__)
# include <immintrin.h>
# define TEST_MEMORY_AVX512 1
#endif

#include "util/internal.h"
#include "drivers/test/test-shared.h"

_Static_assert(sizeof(testFault) == 16, "testFault layout");
_Static_assert(sizeof(testDomainDef) == 272, "testDomainDef layout");
_Static_assert(sizeof(testNetworkDef) == 272, "testNetworkDef layout");
_Static_assert(sizeof(testSaveHeader) == 328, "testSaveHeader layout");
_Static_assert(sizeof(testSaveRecord) == 32, "testSaveRecord layout");
_Static_assert(sizeof(testJobParams) == 568, "testJobParams layout");
_Static_assert(offsetof(testDomainDef, memory_kib) % 8 == 0, "aligned");
_Static_assert(offsetof(testSaveHeader, def) == 56, "testSaveHeader layout");
_Static_assert(offsetof(testSaveRecord, check) == 24, "testSaveRecord layout");

/* splitmix64's finaliser: a bijection with good avalanche, a few cycles. */
static inline uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t pageSeed(const uint8_t uuid[16], uint64_t index)
{
    uint64_t lo, hi;
    memcpy(&lo, uuid, 8);
    memcpy(&hi, uuid + 8, 8);
    lo = le64toh(lo);
    hi = le64toh(hi);
    return mix64(lo ^ mix64(hi ^ mix64(index + 0x9e3779b97f4a7c15ull)));
}

/* Word j of a page is mix64(seed + (j + 1) * golden): the words are
 * independent of each other, so the loop pipelines (several GB/s). Words
 * are stored little-endian, so the bytes are the same on every host. */
void testMemoryPage(const uint8_t uuid[16], uint64_t index, uint8_t *out)
{
    uint64_t seed = pageSeed(uuid, index);
    for (size_t j = 0; j < TEST_PAGE_SIZE / 8; j++) {
        uint64_t w = htole64(mix64(seed + (j + 1) * 0x9e3779b97f4a7c15ull));
        memcpy(out + j * 8, &w, 8);
    }
}

#define FNV_PRIME 0x100000001b3ull

void testMemSumInit(testMemSum *s, uint64_t h)
{
    for (size_t k = 0; k < 4; k++)
        s->lane[k] = h;
}

uint64_t testMemSumFinal(const testMemSum *s, uint64_t h)
{
    for (size_t k = 0; k < 4; k++) {
        h ^= s->lane[k];
        h *= FNV_PRIME;
    }
    return h;
}

void testMemSumUpdate(testMemSum *s, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    uint64_t l0 = s->lane[0], l1 = s->lane[1], l2 = s->lane[2], l3 = s->lane[3];
    size_t i = 0;

    for (; i + 32 <= len; i += 32) {
        uint64_t w[4];
        memcpy(w, p + i, sizeof(w));
        l0 = (l0 ^ le64toh(w[0])) * FNV_PRIME;
        l1 = (l1 ^ le64toh(w[1])) * FNV_PRIME;
        l2 = (l2 ^ le64toh(w[2])) * FNV_PRIME;
        l3 = (l3 ^ le64toh(w[3])) * FNV_PRIME;
    }
    /* Memory is whole KiB: only a caller's own last call may leave words
     * (and bytes) over; they go to the lanes in order, zero-padded. */
    for (size_t k = 0; i < len; k++, i += 8) {
        uint64_t w = 0;
        memcpy(&w, p + i, len - i < 8 ? len - i : 8);
        uint64_t *l = k == 0 ? &l0 : k == 1 ? &l1 : k == 2 ? &l2 : &l3;
        *l = (*l ^ le64toh(w)) * FNV_PRIME;
    }
    s->lane[0] = l0;
    s->lane[1] = l1;
    s->lane[2] = l2;
    s->lane[3] = l3;
}

/* One pass over @len bytes of memory from @offset (a page boundary): each
 * word is generated (testMemoryPage's), then stored into @out (when not
 * NULL) or compared with @in (when not NULL), and summed into its lane.
 * Four lanes, so the FNV multiplies of neighbouring words overlap instead
 * of waiting for each other. Returns (when comparing) the index of the
 * first page that differs, or UINT64_MAX.
 *
 * The four words of a step are plain scalars, each loaded once, so the
 * compiler keeps the lanes, the generator's position and the page's
 * difference in registers: written with arrays (w[4], got[4]) gcc -O2
 * built them on the stack and spilled two lanes, and verifying ran at
 * 1.4-2.8 GB/s instead of 4-6 (docs/PERFORMANCE.md). */
static inline __attribute__((always_inline)) uint64_t
memoryPass(const uint8_t uuid[16], uint64_t offset, uint8_t *out, const uint8_t *in,
           size_t len, testMemSum *s)
{
    const uint64_t golden = 0x9e3779b97f4a7c15ull;
    uint64_t index = offset / TEST_PAGE_SIZE, bad = UINT64_MAX;
    uint64_t l0 = s->lane[0], l1 = s->lane[1], l2 = s->lane[2], l3 = s->lane[3];

    while (len >= 32) {
        size_t n = len < TEST_PAGE_SIZE ? len - len % 32 : TEST_PAGE_SIZE;
        /* Word j (from 0) of the page is mix64(seed + (j + 1) * golden). */
        uint64_t x = pageSeed(uuid, index), diff = 0;

        for (size_t j = 0; j < n; j += 32) {
            uint64_t w0 = htole64(mix64(x + golden));
            uint64_t w1 = htole64(mix64(x + 2 * golden));
            uint64_t w2 = htole64(mix64(x + 3 * golden));
            uint64_t w3 = htole64(mix64(x + 4 * golden));
            x += 4 * golden;
            if (out) {
                memcpy(out + j, &w0, 8);
                memcpy(out + j + 8, &w1, 8);
                memcpy(out + j + 16, &w2, 8);
                memcpy(out + j + 24, &w3, 8);
            } else {
                uint64_t g0, g1, g2, g3;
                memcpy(&g0, in + j, 8);
                memcpy(&g1, in + j + 8, 8);
                memcpy(&g2, in + j + 16, 8);
                memcpy(&g3, in + j + 24, 8);
                /* Each word loaded once and kept in a register: left to
                 * itself, gcc loads some again for the sum (one register
                 * short), which costs more than keeping them. */
                __asm__("" : "+r"(g0), "+r"(g1), "+r"(g2), "+r"(g3));
                diff |= (g0 ^ w0) | (g1 ^ w1) | (g2 ^ w2) | (g3 ^ w3);
                /* What was read is what is summed. */
                w0 = g0;
                w1 = g1;
                w2 = g2;
                w3 = g3;
            }
            l0 = (l0 ^ le64toh(w0)) * FNV_PRIME;
            l1 = (l1 ^ le64toh(w1)) * FNV_PRIME;
            l2 = (l2 ^ le64toh(w2)) * FNV_PRIME;
            l3 = (l3 ^ le64toh(w3)) * FNV_PRIME;
        }
        if (diff && bad == UINT64_MAX)
            bad = index;
        if (out)
            out += n;
        else
            in += n;
        len -= n;
        offset += n;
        if (n == TEST_PAGE_SIZE)
            index++;
    }
    s->lane[0] = l0;
    s->lane[1] = l1;
    s->lane[2] = l2;
    s->lane[3] = l3;
    if (len) {
        /* Less than four words (never for whole KiB of memory). */
        uint8_t page[TEST_PAGE_SIZE];
        size_t at = (size_t)(offset % TEST_PAGE_SIZE);
        testMemoryPage(uuid, index, page);
        if (out)
            memcpy(out, page + at, len);
        else if (memcmp(in, page + at, len) != 0 && bad == UINT64_MAX)
            bad = index;
        testMemSumUpdate(s, out ? out : in, len);
    }
    return bad;
}

void testMemoryFillSumPlain(const uint8_t uuid[16], uint64_t offset, uint8_t *buf, size_t len,
                            testMemSum *s)
{
    (void)memoryPass(uuid, offset, buf, NULL, len, s);
}

uint64_t testMemoryVerifySumPlain(const uint8_t uuid[16], uint64_t offset, const uint8_t *buf,
                                  size_t len, testMemSum *s)
{
    return memoryPass(uuid, offset, NULL, buf, len, s);
}

#ifdef TEST_MEMORY_AVX512
/* memoryPass over @pages whole pages from page @index, four words at a
 * time in one 256-bit vector: generated (mix64 needs 64-bit multiplies
 * on vectors: AVX-512DQ, on 256 bits: AVX-512VL), then stored into @out
 * or compared with the four read from @in, and the four stored or read
 * summed into the four lanes at once (word k of a step goes to lane k).
 * 24-26 GB/s against 5.8-6.2 for the scalar loop on the machine of
 * docs/PERFORMANCE.md. x86-64 is little-endian: no byte swaps. */
__attribute__((target("avx512f,avx512dq,avx512vl"), always_inline))
static inline uint64_t pagesAvx512(const uint8_t uuid[16], uint64_t index, uint8_t *out,
                                   const uint8_t *in, size_t pages, testMemSum *s)
{
    const uint64_t golden = 0x9e3779b97f4a7c15ull;
    const __m256i c1 = _mm256_set1_epi64x((long long)0xbf58476d1ce4e5b9ull);
    const __m256i c2 = _mm256_set1_epi64x((long long)0x94d049bb133111ebull);
    const __m256i prime = _mm256_set1_epi64x((long long)FNV_PRIME);
    const __m256i step = _mm256_set1_epi64x((long long)(4 * golden));
    __m256i lanes = _mm256_loadu_si256((const __m256i *)(const void *)s->lane);
    uint64_t bad = UINT64_MAX;

    for (size_t p = 0; p < pages; p++, index++) {
        uint64_t seed = pageSeed(uuid, index);
        __m256i x = _mm256_set_epi64x((long long)(seed + 4 * golden), (long long)(seed + 3 * golden),
                                      (long long)(seed + 2 * golden), (long long)(seed + golden));
        __m256i diff = _mm256_setzero_si256();

        for (size_t j = 0; j < TEST_PAGE_SIZE; j += 32) {
            __m256i z = x;
            z = _mm256_mullo_epi64(_mm256_xor_si256(z, _mm256_srli_epi64(z, 30)), c1);
            z = _mm256_mullo_epi64(_mm256_xor_si256(z, _mm256_srli_epi64(z, 27)), c2);
            z = _mm256_xor_si256(z, _mm256_srli_epi64(z, 31));
            if (out) {
                _mm256_storeu_si256((__m256i *)(void *)(out + j), z);
            } else {
                __m256i got = _mm256_loadu_si256((const __m256i *)(const void *)(in + j));
                diff = _mm256_or_si256(diff, _mm256_xor_si256(got, z));
                z = got;
            }
            lanes = _mm256_mullo_epi64(_mm256_xor_si256(lanes, z), prime);
            x = _mm256_add_epi64(x, step);
        }
        if (out)
            out += TEST_PAGE_SIZE;
        else
            in += TEST_PAGE_SIZE;
        if (!out && !_mm256_testz_si256(diff, diff) && bad == UINT64_MAX)
            bad = index;
    }
    _mm256_storeu_si256((__m256i *)(void *)s->lane, lanes);
    return bad;
}

__attribute__((target("avx512f,avx512dq,avx512vl")))
static void fillPagesAvx512(const uint8_t uuid[16], uint64_t index, uint8_t *out, size_t pages,
                            testMemSum *s)
{
    (void)pagesAvx512(uuid, index, out, NULL, pages, s);
}

__attribute__((target("avx512f,avx512dq,avx512vl")))
static uint64_t verifyPagesAvx512(const uint8_t uuid[16], uint64_t index, const uint8_t *in,
                                  size_t pages, testMemSum *s)
{
    return pagesAvx512(uuid, index, NULL, in, pages, s);
}
#endif

bool testMemoryVector(void)
{
#ifdef TEST_MEMORY_AVX512
    /* Also false under valgrind, whose CPU has no AVX-512. */
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512vl");
#else
    return false;
#endif
}

void testMemoryFillSum(const uint8_t uuid[16], uint64_t offset, uint8_t *buf, size_t len,
                       testMemSum *s)
{
#ifdef TEST_MEMORY_AVX512
    if (len >= TEST_PAGE_SIZE && testMemoryVector()) {
        size_t whole = len - len % TEST_PAGE_SIZE;
        fillPagesAvx512(uuid, offset / TEST_PAGE_SIZE, buf, whole / TEST_PAGE_SIZE, s);
        (void)memoryPass(uuid, offset + whole, buf + whole, NULL, len - whole, s);
        return;
    }
#endif
    (void)memoryPass(uuid, offset, buf, NULL, len, s);
}

uint64_t testMemoryVerifySum(const uint8_t uuid[16], uint64_t offset, const uint8_t *buf,
                             size_t len, testMemSum *s)
{
#ifdef TEST_MEMORY_AVX512
    if (len >= TEST_PAGE_SIZE && testMemoryVector()) {
        size_t whole = len - len % TEST_PAGE_SIZE;
        uint64_t bad = verifyPagesAvx512(uuid, offset / TEST_PAGE_SIZE, buf,
                                         whole / TEST_PAGE_SIZE, s);
        uint64_t rest = memoryPass(uuid, offset + whole, NULL, buf + whole, len - whole, s);
        return bad != UINT64_MAX ? bad : rest;
    }
#endif
    return memoryPass(uuid, offset, NULL, buf, len, s);
}

void testMemoryFill(const uint8_t uuid[16], uint64_t offset, uint8_t *buf, size_t len)
{
    uint64_t index = offset / TEST_PAGE_SIZE;
    uint8_t page[TEST_PAGE_SIZE];

    while (len >= TEST_PAGE_SIZE) {
        testMemoryPage(uuid, index++, buf);
        buf += TEST_PAGE_SIZE;
        len -= TEST_PAGE_SIZE;
    }
    if (len) {
        testMemoryPage(uuid, index, page);
        memcpy(buf, page, len);
    }
}

uint64_t testMemoryTouched(const testDomainDef *def)
{
    uint64_t mem = def->memory_kib * 1024;
    uint64_t cur = def->current_kib * 1024;
    uint64_t t = cur < TEST_MEMORY_TOUCHED_MAX ? cur : TEST_MEMORY_TOUCHED_MAX;

    if (def->data_bytes)   /* at most current (testDomainDefCheck); capped for the unchecked */
        t = def->data_bytes < mem ? def->data_bytes : mem;

    /* Whole pages (the memory ends the last one: whole KiB, maybe not pages). */
    t = (t + TEST_PAGE_SIZE - 1) / TEST_PAGE_SIZE * TEST_PAGE_SIZE;
    return t < mem ? t : mem;
}

uint64_t testSaveRecordsLen(const testDomainDef *def)
{
    uint64_t mem = def->memory_kib * 1024, touched = testMemoryTouched(def);

    /* A DATA run of the touched pages (at least 1 MiB), then a ZERO run
     * of the rest when there is one. */
    return sizeof(testSaveRecord) + touched + (touched < mem ? sizeof(testSaveRecord) : 0);
}

uint64_t testSaveImageSize(const testDomainDef *def, uint64_t xmllen)
{
    return sizeof(testSaveHeader) + xmllen + testSaveRecordsLen(def);
}

uint64_t testSaveRecordCheck(const testSaveRecord *r)
{
    return testFnv1a(TEST_FNV_INIT, r, offsetof(testSaveRecord, check));
}

void testSaveRecordMake(testSaveRecord *r, uint32_t type, uint64_t page, uint64_t pages)
{
    memset(r, 0, sizeof(*r));
    r->magic = TEST_SAVE_RECORD_MAGIC;
    r->type = type;
    r->page = page;
    r->pages = pages;
    r->check = testSaveRecordCheck(r);
}

uint64_t testFnv1a(uint64_t h, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

void testUUIDFormat(const uint8_t uuid[16], char out[37])
{
    snprintf(out, 37,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             uuid[0], uuid[1], uuid[2], uuid[3], uuid[4], uuid[5], uuid[6], uuid[7],
             uuid[8], uuid[9], uuid[10], uuid[11], uuid[12], uuid[13], uuid[14], uuid[15]);
}

static const char *const faultActionNames[TEST_FAULT_LAST] = {
    [TEST_FAULT_NONE] = "none",
    [TEST_FAULT_SEGV] = "segv",
    [TEST_FAULT_ABORT] = "abort",
    [TEST_FAULT_HANG] = "hang",
    [TEST_FAULT_IGNORE_CANCEL] = "ignore-cancel",
    [TEST_FAULT_EXIT] = "exit",
    [TEST_FAULT_GARBAGE] = "garbage",
};

static const struct {
    uint32_t bit;
    const char *name;
} faultOps[] = {
    { TEST_FAULT_OP_SAVE, "save" },
    { TEST_FAULT_OP_RESTORE, "restore" },
    { TEST_FAULT_OP_DUMP, "dump" },
    { TEST_FAULT_OP_CREATE, "create" },
};
#define TEST_FAULT_OP_ALL (TEST_FAULT_OP_SAVE | TEST_FAULT_OP_RESTORE | \
                           TEST_FAULT_OP_DUMP | TEST_FAULT_OP_CREATE)

const char *testFaultActionName(uint32_t action)
{
    if (action == TEST_FAULT_NONE || action >= TEST_FAULT_LAST)
        return NULL;
    return faultActionNames[action];
}

int testFaultActionFromName(const char *name)
{
    for (int i = TEST_FAULT_NONE + 1; i < TEST_FAULT_LAST; i++)
        if (STREQ(name, faultActionNames[i]))
            return i;
    return -1;
}

const char *testFaultOpName(uint32_t op)
{
    for (size_t i = 0; i < ARRAY_CARDINALITY(faultOps); i++)
        if (faultOps[i].bit == op)
            return faultOps[i].name;
    return NULL;
}

int testFaultOpFromName(const char *name)
{
    for (size_t i = 0; i < ARRAY_CARDINALITY(faultOps); i++)
        if (STREQ(name, faultOps[i].name))
            return (int)faultOps[i].bit;
    return -1;
}

static bool isZero(const void *p, size_t len)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < len; i++)
        if (b[i])
            return false;
    return true;
}

static int faultsCheck(const testFault *faults, uint32_t nfaults, const char **why)
{
    if (nfaults > TEST_FAULTS_MAX) {
        *why = "too many faults";
        return -1;
    }
    for (uint32_t i = 0; i < nfaults; i++) {
        const testFault *f = &faults[i];
        if (f->ops == 0 || (f->ops & ~(uint32_t)TEST_FAULT_OP_ALL)) {
            *why = "fault has an unknown or empty op set";
            return -1;
        }
        if (f->at > 100) {
            *why = "fault percent is above 100";
            return -1;
        }
        if (f->action == TEST_FAULT_NONE || f->action >= TEST_FAULT_LAST) {
            *why = "fault has an unknown action";
            return -1;
        }
        if (f->reserved) {
            *why = "fault has a non-zero reserved field";
            return -1;
        }
    }
    /* Unused slots stay zero: a def is canonical. */
    if (!isZero(faults + nfaults, (TEST_FAULTS_MAX - nfaults) * sizeof(*faults))) {
        *why = "unused fault slots are not zero";
        return -1;
    }
    return 0;
}

int testDomainDefCheck(const testDomainDef *def, const char **why)
{
    if (def->magic != TEST_DOMAIN_DEF_MAGIC) {
        *why = "bad domain definition magic";
        return -1;
    }
    if (def->version != 1) {
        *why = "unsupported domain definition version";
        return -1;
    }
    if (virNameCheck(def->name, sizeof(def->name), why) < 0)
        return -1;
    if (def->memory_kib < TEST_MEMORY_MIN_KIB || def->memory_kib > TEST_MEMORY_MAX_KIB) {
        *why = "memory is out of range (1 MiB to 64 GiB)";
        return -1;
    }
    if (def->current_kib < TEST_MEMORY_MIN_KIB || def->current_kib > def->memory_kib) {
        *why = "current memory is out of range (1 MiB to the memory)";
        return -1;
    }
    if (def->data_bytes > def->current_kib * 1024) {
        *why = "memory data size is above the current memory";
        return -1;
    }
    if (def->vcpus < 1 || def->vcpus > TEST_VCPUS_MAX) {
        *why = "vCPU count is out of range (1 to 256)";
        return -1;
    }
    if (faultsCheck(def->faults, def->nfaults, why) < 0)
        return -1;
    if (strnlen(def->os_type, sizeof(def->os_type)) == sizeof(def->os_type) ||
        (STRNEQ(def->os_type, "hvm") && STRNEQ(def->os_type, "linux"))) {
        *why = "OS type is neither 'hvm' nor 'linux'";
        return -1;
    }
    return 0;
}

int testNetworkDefCheck(const testNetworkDef *def, const char **why)
{
    if (def->magic != TEST_NETWORK_DEF_MAGIC) {
        *why = "bad network definition magic";
        return -1;
    }
    if (def->version != 1) {
        *why = "unsupported network definition version";
        return -1;
    }
    if (virNameCheck(def->name, sizeof(def->name), why) < 0)
        return -1;
    if (def->bridge[0] && virNameCheck(def->bridge, sizeof(def->bridge), why) < 0) {
        *why = "bridge name is not an interface name (1-15 of [A-Za-z0-9_.-])";
        return -1;
    }
    if (!def->bridge[0] && !isZero(def->bridge, sizeof(def->bridge))) {
        *why = "empty bridge name is not zero-filled";
        return -1;
    }
    if (def->prefix > 32) {
        *why = "IPv4 prefix is above 32";
        return -1;
    }
    if (def->ipv4 == 0 && def->prefix != 0) {
        *why = "IPv4 prefix without an address";
        return -1;
    }
    if (def->ipv4 != 0 && def->prefix == 0) {
        *why = "IPv4 address without a prefix";
        return -1;
    }
    if (strnlen(def->forward, sizeof(def->forward)) == sizeof(def->forward) ||
        (def->forward[0] && STRNEQ(def->forward, "nat") &&
         STRNEQ(def->forward, "route") && STRNEQ(def->forward, "isolated"))) {
        *why = "forward mode is not one of 'nat', 'route', 'isolated'";
        return -1;
    }
    if (def->reserved) {
        *why = "reserved field is not zero";
        return -1;
    }
    if (faultsCheck(def->faults, def->nfaults, why) < 0)
        return -1;
    return 0;
}

int testJobParamsCheck(const void *blob, size_t len, const char **why)
{
    testJobParams p;

    if (!blob || len < sizeof(p)) {
        *why = "job parameters are too short";
        return -1;
    }
    memcpy(&p, blob, sizeof(p));
    if (p.magic != TEST_JOB_PARAMS_MAGIC || p.version != 1) {
        *why = "job parameters have a bad magic or version";
        return -1;
    }
    /* No TEST_XML_MAX check here: the worker's parser reports too large
     * XML in its own words. */
    if (len - sizeof(p) != p.xmllen) {
        *why = "job parameters' XML length does not match their size";
        return -1;
    }
    return 0;
}
