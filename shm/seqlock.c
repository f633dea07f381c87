/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * seqlock.c: the two seqlocks of a slot (progress: the worker writes;
 * lifecycle: the supervisor writes) and the checks every reader applies to
 * what it copied.
 *
 * The protocol (docs/SEGMENT-ABI.md, "Seqlock protocol"):
 *   writer: seq = odd (relaxed); release fence; data words (relaxed);
 *           seq = even (release)
 *   reader: s1 = seq (acquire); odd -> retry; data words (relaxed);
 *           acquire fence; s2 = seq (relaxed); s1 == s2 -> consistent
 *
 * The data sections are copied as arrays of 8-byte words, each with a
 * relaxed atomic access: a reader racing a writer then reads stale or mixed
 * words, never an undefined value, and ThreadSanitizer sees no data race.
 * Nothing here makes a system call: the worker writes progress from its hot
 * loop and virJobGetInfo reads it on the caller's.
 */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include "shm/segment.h"

/* A word of a data section. may_alias: the words overlay structs with
 * uint32_t and char members. */
typedef uint64_t __attribute__((may_alias)) virShmWord;

#define PROGRESS_WORDS (sizeof(virShmProgressData) / sizeof(virShmWord))
#define LIFECYCLE_HEAD_WORDS (VIR_SHM_LC_HEAD_BYTES / sizeof(virShmWord))
#define LIFECYCLE_ERROR_WORDS (VIR_SHM_ERROR_MAX / sizeof(virShmWord))
#define PROGRESS_FIGURE_WORDS (offsetof(virShmProgressData, phase) / sizeof(virShmWord))
_Static_assert(offsetof(virShmProgressData, phase) % sizeof(virShmWord) == 0,
               "the phase starts on a word");

_Static_assert(sizeof(virShmProgressData) % sizeof(virShmWord) == 0,
               "progress data is whole words");
_Static_assert(VIR_SHM_LC_HEAD_BYTES % sizeof(virShmWord) == 0 &&
               VIR_SHM_ERROR_MAX % sizeof(virShmWord) == 0 &&
               VIR_SHM_LC_HEAD_BYTES + VIR_SHM_ERROR_MAX == sizeof(virShmLifecycleData),
               "lifecycle data is its head and its error text, whole words");
_Static_assert(offsetof(virShmProgress, data) % sizeof(virShmWord) == 0,
               "progress data is word aligned");
_Static_assert(offsetof(virShmLifecycle, data) % sizeof(virShmWord) == 0,
               "lifecycle data is word aligned");

/* ThreadSanitizer does not model fences (GCC even refuses to build them
 * with -fsanitize=thread). Under it each data word carries the ordering
 * instead: release stores and acquire loads give, word by word, what the
 * fences give the whole copy. On x86 both forms are plain moves. */
#if defined(__SANITIZE_THREAD__)
# define SHM_TSAN 1
#elif defined(__has_feature)
# if __has_feature(thread_sanitizer)
#  define SHM_TSAN 1
# endif
#endif
#ifdef SHM_TSAN
# define DATA_STORE_ORDER __ATOMIC_RELEASE
# define DATA_LOAD_ORDER __ATOMIC_ACQUIRE
# define seqFence(order) ((void)0)
#else
# define DATA_STORE_ORDER __ATOMIC_RELAXED
# define DATA_LOAD_ORDER __ATOMIC_RELAXED
# define seqFence(order) atomic_thread_fence(order)
#endif

/* Spin hint between read attempts: no sleep, no system call. */
static inline void cpuRelax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield" ::: "memory");
#else
    atomic_signal_fence(memory_order_seq_cst);
#endif
}

static inline void wordsStore(void *dst, const void *src, size_t nwords)
{
    virShmWord *d = dst;
    const virShmWord *s = src;

    /* Relaxed: ordered against the sequence by the writer's release fence
     * before and its release store of the even sequence after. */
#pragma GCC unroll 16
    for (size_t i = 0; i < nwords; i++)
        __atomic_store_n(&d[i], s[i], DATA_STORE_ORDER);
}

static inline void wordsLoad(void *dst, const void *src, size_t nwords)
{
    virShmWord *d = dst;
    const virShmWord *s = src;

    /* Relaxed: the reader's acquire fence after the copy orders these loads
     * before its second read of the sequence. */
#pragma GCC unroll 16
    for (size_t i = 0; i < nwords; i++)
        d[i] = __atomic_load_n(&s[i], DATA_LOAD_ORDER);
}

static inline void wordsZero(void *dst, size_t nwords)
{
    virShmWord *d = dst;

    /* Relaxed: same ordering as wordsStore. */
    for (size_t i = 0; i < nwords; i++)
        __atomic_store_n(&d[i], 0, DATA_STORE_ORDER);
}

/* Open a write: make the sequence odd and return the value to close with.
 * (seq + 1) | 1 is odd even if a dead writer left seq odd, and differs
 * from it, so a reader that saw the old value notices the change. */
static inline uint32_t seqBegin(_Atomic uint32_t *seq)
{
    /* Relaxed: the single writer reads back its own last store. */
    uint32_t odd = (atomic_load_explicit(seq, memory_order_relaxed) + 1) | 1;

    /* Relaxed store, then a release fence: the fence keeps the odd value
     * ahead of every data store that follows, for a reader whose acquire
     * fence comes after loading any of those data words. */
    atomic_store_explicit(seq, odd, memory_order_relaxed);
    seqFence(memory_order_release);
    return odd + 1;
}

static inline void seqEnd(_Atomic uint32_t *seq, uint32_t even)
{
    /* Release: a reader that acquires this even value sees every data
     * word written before it. */
    atomic_store_explicit(seq, even, memory_order_release);
}

/* One attempt of the read side. Returns true if @dst holds a consistent
 * copy of @nwords words at @src (and @dst2 of @nwords2 words at @src2, a
 * second area under the same sequence, when @nwords2 is not 0). */
static inline bool seqTryRead2(const _Atomic uint32_t *seq, const void *src,
                               void *dst, size_t nwords, const void *src2,
                               void *dst2, size_t nwords2)
{
    /* Acquire: pairs with the writer's release store of an even value, so
     * the copy below sees at least that write's data. */
    uint32_t s1 = atomic_load_explicit((_Atomic uint32_t *)seq, memory_order_acquire);
    if (s1 & 1)
        return false;
    wordsLoad(dst, src, nwords);
    if (nwords2)
        wordsLoad(dst2, src2, nwords2);
    /* Acquire fence: if a copied word came from a write that started after
     * s1, the writer's release fence synchronises with this fence and the
     * load below sees that write's odd sequence (or later). */
    seqFence(memory_order_acquire);
    /* Relaxed: ordered by the fence above. */
    uint32_t s2 = atomic_load_explicit((_Atomic uint32_t *)seq, memory_order_relaxed);
    return s1 == s2;
}

static int seqRead2(const _Atomic uint32_t *seq, const void *src, void *dst, size_t nwords,
                    const void *src2, void *dst2, size_t nwords2)
{
    for (int attempt = 0; attempt < VIR_SHM_READ_RETRIES; attempt++) {
        if (attempt)
            cpuRelax();
        if (seqTryRead2(seq, src, dst, nwords, src2, dst2, nwords2))
            return 0;
    }
    errno = EAGAIN;
    return -1;
}

static int seqRead(const _Atomic uint32_t *seq, const void *src, void *dst,
                   size_t nwords)
{
    return seqRead2(seq, src, dst, nwords, NULL, NULL, 0);
}

/* A record's error text: the same place on the next page. */
static inline const void *lifecycleError(const virShmLifecycle *l)
{
    return (const char *)l + VIR_SHM_ERROR_DELTA;
}

/* A dead writer's odd sequence made even; the one writer is known gone. */
static bool seqRepair(_Atomic uint32_t *seq)
{
    /* Relaxed: the caller reaped the writer (or it never ran), so no store
     * of it is still in flight; nothing else is written here. */
    uint32_t s = atomic_load_explicit(seq, memory_order_relaxed);
    if (!(s & 1))
        return false;
    /* Release: readers that take the even value see the data as it was
     * left, which the caller flags as repaired (VIR_SHM_LC_REPAIRED). */
    atomic_store_explicit(seq, s + 1, memory_order_release);
    return true;
}

static void terminate(char *s, size_t len)
{
    s[len - 1] = '\0';
}

void virShmProgressSanitize(virShmProgressData *d)
{
    /* 0 is VIR_JOB_BOUNDED, 1 VIR_JOB_UNBOUNDED; anything else is bounded. */
    if (d->type != 1)
        d->type = 0;
    if (d->percent > 100)
        d->percent = 100;
    d->reserved0 = 0;
    terminate(d->phase, sizeof(d->phase));
}

void virShmProgressWrite(virShmProgress *p, const virShmProgressData *d)
{
    uint32_t even = seqBegin(&p->seq);

    wordsStore(&p->data, d, PROGRESS_WORDS);
    /* Relaxed: inside the seqlock, like the data; one writer. */
    __atomic_store_n(&p->updates, __atomic_load_n(&p->updates, __ATOMIC_RELAXED) + 1,
                     __ATOMIC_RELAXED);
    seqEnd(&p->seq, even);
}

int virShmProgressRead(const virShmProgress *p, virShmProgressData *out)
{
    virShmProgressData copy;

    if (seqRead(&p->seq, &p->data, &copy, PROGRESS_WORDS) < 0)
        return -1;
    virShmProgressSanitize(&copy);
    *out = copy;
    return 0;
}

int virShmProgressReadFigures(const virShmProgress *p, virShmProgressData *out)
{
    virShmProgressData copy;

    /* The words before the phase text only: the numbers. */
    if (seqRead(&p->seq, &p->data, &copy, PROGRESS_FIGURE_WORDS) < 0)
        return -1;
    copy.phase[0] = '\0';
    virShmProgressSanitize(&copy);
    *out = copy;
    return 0;
}

bool virShmProgressRepair(virShmProgress *p)
{
    return seqRepair(&p->seq);
}

void virShmProgressReset(virShmProgress *p, uint64_t job_id)
{
    uint32_t even = seqBegin(&p->seq);

    /* Relaxed: published by the even sequence below, like the data. */
    atomic_store_explicit(&p->job_id, job_id, memory_order_relaxed);
    atomic_store_explicit(&p->cancel_requested, 0, memory_order_relaxed);
    wordsZero(&p->data, PROGRESS_WORDS);
    __atomic_store_n(&p->updates, 0, __ATOMIC_RELAXED);
    seqEnd(&p->seq, even);
}

void virShmLifecycleWrite(virShmLifecycle *l, const virShmLifecycleData *d)
{
    uint32_t even = seqBegin(&l->seq);

    wordsStore(l->data, d, LIFECYCLE_HEAD_WORDS);
    /* Relaxed: a hint for readers (whether to read the error page at
     * all); the error text itself is read under the sequence. */
    atomic_store_explicit(&l->error_len, (uint32_t)strnlen(d->error, sizeof(d->error)),
                          memory_order_relaxed);
    wordsStore((void *)lifecycleError(l), d->error, LIFECYCLE_ERROR_WORDS);
    seqEnd(&l->seq, even);
}

int virShmLifecycleSanitize(virShmLifecycleData *d)
{
    virShmProgressSanitize(&d->final);
    terminate(d->op, sizeof(d->op));
    terminate(d->target, sizeof(d->target));
    terminate(d->error, sizeof(d->error));
    if (d->state >= VIR_SHM_STATE_LAST) {
        errno = EBADMSG;
        return -1;
    }
    return 0;
}

int virShmLifecycleRead(const virShmLifecycle *l, virShmLifecycleData *out)
{
    virShmLifecycleData copy;

    if (seqRead2(&l->seq, l->data, &copy, LIFECYCLE_HEAD_WORDS,
                 lifecycleError(l), copy.error, LIFECYCLE_ERROR_WORDS) < 0)
        return -1;
    if (virShmLifecycleSanitize(&copy) < 0)
        return -1;
    *out = copy;
    return 0;
}

int virShmLifecycleReadHead(const virShmLifecycle *l, virShmLifecycleData *out)
{
    virShmLifecycleData copy;

    /* The record only: the error text is on another page. */
    if (seqRead(&l->seq, l->data, &copy, LIFECYCLE_HEAD_WORDS) < 0)
        return -1;
    copy.error[0] = '\0';
    copy.error[sizeof(copy.error) - 1] = '\0';
    if (virShmLifecycleSanitize(&copy) < 0)
        return -1;
    memcpy(out, &copy, VIR_SHM_LC_HEAD_BYTES);
    out->error[0] = '\0';
    return 0;
}

bool virShmLifecycleRepair(virShmLifecycle *l)
{
    return seqRepair(&l->seq);
}
