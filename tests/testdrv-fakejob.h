/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * testdrv-fakejob.h: a recording stand-in for worker/job.h, so the test
 * driver's worker functions (compiled into a test by #include of their
 * .c files) run inside a cmocka program without the worker runtime.
 * It records progress, phases, faults, the result and the ending.
 */
#pragma once

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>

#include "worker/job.h"
#include "util/virerror.h"
#include "drivers/test/test-proto.h"
#include "util/virxmlkeep.h"

enum { FAKE_NONE, FAKE_SUCCESS, FAKE_FAILURE, FAKE_ERROR, FAKE_CANCELLED };

/* Not the worker runtime's struct _virWorkerJob: a recorder of its own,
 * passed to the code under test as a virWorkerJobPtr (FJ) and read back
 * through that pointer (FAKE) by the stand-in calls below. */
typedef struct fakeJob {
    int fd;                       /* resource 0, -1: none */
    bool cancel;                  /* cancel asked */
    uint64_t cancelAtBytes;       /* if set, cancel is asked once done >= this */
    void (*atBytes)(void *arg);   /* if set, called once when done >= atBytesDone */
    void *atBytesArg;
    uint64_t atBytesDone;
    bool initialized;
    uint64_t done, total;
    unsigned int percent;
    char phases[1024];            /* "a|b|c" */
    int nfaults;
    char fault[64];               /* last action injected */
    unsigned int faultPercent;    /* percent when it was */
    uint64_t faultDone;
    uint8_t result[4096];
    size_t resultlen;
    int finished;                 /* FAKE_* */
    int nfinish;                  /* how many Finish calls (must be 1) */
    int code;
    char message[512];
} fakeJob;
#define FJ(f) ((virWorkerJobPtr)(void *)(f))
#define FAKE(job) ((fakeJob *)(void *)(job))

static inline void fakeJobInit(fakeJob *j, int fd)
{
    memset(j, 0, sizeof(*j));
    j->fd = fd;
}

void virWorkerJobInitialize(virWorkerJobPtr job, unsigned int etaSeconds)
{
    (void)etaSeconds;
    FAKE(job)->initialized = true;
}
void virWorkerJobUpdateRel(virWorkerJobPtr job, int e, int eta, int p)
{
    (void)e; (void)eta;
    long long np = (long long)FAKE(job)->percent + p;
    FAKE(job)->percent = np < 0 ? 0 : np > 100 ? 100 : (unsigned int)np;
}
void virWorkerJobUpdateAbs(virWorkerJobPtr job, unsigned int e, unsigned int eta, unsigned int p)
{
    (void)e; (void)eta;
    FAKE(job)->percent = p > 100 ? 100 : p;
}
void virWorkerJobUpdateBytes(virWorkerJobPtr job, uint64_t done, uint64_t total)
{
    FAKE(job)->done = done;
    FAKE(job)->total = total;
    if (total)
        FAKE(job)->percent = done >= total ? 100 : (unsigned int)(done * 100 / total);
    if (FAKE(job)->cancelAtBytes && done >= FAKE(job)->cancelAtBytes)
        FAKE(job)->cancel = true;
    if (FAKE(job)->atBytes && done >= FAKE(job)->atBytesDone) {
        void (*fn)(void *) = FAKE(job)->atBytes;
        FAKE(job)->atBytes = NULL;
        fn(FAKE(job)->atBytesArg);
    }
}
void virWorkerJobSetPhase(virWorkerJobPtr job, const char *phase)
{
    size_t n = strlen(FAKE(job)->phases);
    snprintf(FAKE(job)->phases + n, sizeof(FAKE(job)->phases) - n, "%s%s", n ? "|" : "", phase);
}
bool virWorkerJobCancelRequested(virWorkerJobPtr job)
{
    return FAKE(job)->cancel;
}
bool virWorkerJobFinishCancel(virWorkerJobPtr job)
{
    if (!FAKE(job)->cancel)
        return false;
    FAKE(job)->finished = FAKE_CANCELLED;
    FAKE(job)->nfinish++;
    return true;
}
int virWorkerJobSetResult(virWorkerJobPtr job, const void *data, size_t len)
{
    if (len > sizeof(FAKE(job)->result))
        return -1;
    memcpy(FAKE(job)->result, data, len);
    FAKE(job)->resultlen = len;
    return 0;
}
int virWorkerJobFinishSuccess(virWorkerJobPtr job)
{
    FAKE(job)->finished = FAKE_SUCCESS;
    FAKE(job)->nfinish++;
    return 0;
}
int virWorkerJobFinishFailure(virWorkerJobPtr job, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(FAKE(job)->message, sizeof(FAKE(job)->message), fmt, ap);
    va_end(ap);
    FAKE(job)->code = code;
    FAKE(job)->finished = FAKE_FAILURE;
    FAKE(job)->nfinish++;
    return 0;
}
int virWorkerJobFinishError(virWorkerJobPtr job)
{
    virErrorPtr e = virGetLastError();
    snprintf(FAKE(job)->message, sizeof(FAKE(job)->message), "%s", e ? e->message : "(no error set)");
    FAKE(job)->code = e ? e->code : -1;
    FAKE(job)->finished = FAKE_ERROR;
    FAKE(job)->nfinish++;
    return 0;
}
int virWorkerJobResourceFD(virWorkerJobPtr job, unsigned int i)
{
    return i == 0 ? FAKE(job)->fd : -1;
}
int virWorkerJobFD(virWorkerJobPtr job, const char *name)
{
    /* The one descriptor a fake job holds answers to any name. */
    return name && *name ? FAKE(job)->fd : -1;
}
const char *virWorkerJobResourceName(virWorkerJobPtr job, unsigned int i)
{
    (void)job;
    return i == 0 ? "" : NULL;
}
int virWorkerJobDetach(virWorkerJobPtr job, pid_t pid)
{
    (void)job;
    (void)pid;
    return -1;
}
unsigned int virWorkerJobResourceCount(virWorkerJobPtr job)
{
    return FAKE(job)->fd >= 0;
}
int virWorkerJobInjectFault(virWorkerJobPtr job, const char *action)
{
    FAKE(job)->nfaults++;
    snprintf(FAKE(job)->fault, sizeof(FAKE(job)->fault), "%s", action);
    FAKE(job)->faultPercent = FAKE(job)->percent;
    FAKE(job)->faultDone = FAKE(job)->done;
    return 0;
}
/* The ops linked into this test register in the same section as in the
 * worker; looking them up checks that registration works. */
extern const virWorkerOp *const __start_virtsup_ops[] __attribute__((weak));
extern const virWorkerOp *const __stop_virtsup_ops[] __attribute__((weak));
const virWorkerOp *virWorkerOpLookup(const char *name)
{
    for (const virWorkerOp *const *op = __start_virtsup_ops;
         op && op < __stop_virtsup_ops; op++)
        if (*op && strcmp((*op)->name, name) == 0)
            return *op;
    return NULL;
}

/* The last error's message, or "". */
static inline const char *lastMessage(void)
{
    virErrorPtr e = virGetLastError();
    return e && e->message ? e->message : "";
}

#define assert_contains(hay, needle) \
    do { \
        const char *h_ = (hay), *n_ = (needle); \
        if (!strstr(h_, n_)) \
            fail_msg("'%s' does not contain '%s'", h_, n_); \
    } while (0)

/* A zeroed, valid domain def. */
static inline void fakeDomainDef(testDomainDef *d, const char *name, uint64_t kib, uint32_t vcpus)
{
    memset(d, 0, sizeof(*d));
    d->magic = TEST_DOMAIN_DEF_MAGIC;
    d->version = 1;
    snprintf(d->name, sizeof(d->name), "%s", name);
    for (int i = 0; i < 16; i++)
        d->uuid[i] = (uint8_t)(0x10 + i * 7);
    d->memory_kib = kib;
    d->current_kib = kib;
    d->vcpus = vcpus;
    snprintf(d->os_type, sizeof(d->os_type), "hvm");
}

/* A params blob with @xml appended; caller frees. */
static inline void *fakeParams(const testDomainDef *dom, const testNetworkDef *net,
                               const char *xml, uint64_t bw, uint32_t flags, size_t *len)
{
    size_t xl = xml ? strlen(xml) : 0;
    uint8_t *b = calloc(1, sizeof(testJobParams) + xl);
    testJobParams p;
    memset(&p, 0, sizeof(p));
    p.magic = TEST_JOB_PARAMS_MAGIC;
    p.version = 1;
    p.flags = flags;
    p.xmllen = (uint32_t)xl;
    p.bandwidth_bps = bw;
    if (dom)
        p.dom = *dom;
    if (net)
        p.net = *net;
    memcpy(b, &p, sizeof(p));
    if (xl)
        memcpy(b + sizeof(p), xml, xl);
    *len = sizeof(p) + xl;
    return b;
}

/* A new empty file /tmp/testdrv-XXXXXX; its name goes to @path (64 bytes). */
static inline int fakeTempFile(char *path)
{
    strcpy(path, "/tmp/testdrv-XXXXXX");
    int fd = mkostemp(path, O_CLOEXEC);
    assert_true(fd >= 0);
    return fd;
}

/* The whole of a file; caller frees. */
static inline uint8_t *fakeReadWhole(const char *path, size_t *len)
{
    struct stat sb;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(fstat(fd, &sb), 0);
    uint8_t *b = malloc((size_t)sb.st_size + 1);
    assert_int_equal(read(fd, b, (size_t)sb.st_size), sb.st_size);
    close(fd);
    *len = (size_t)sb.st_size;
    return b;
}

/* A define/create/restore result: a def of @size bytes, copied to @def,
 * then the records of the kept elements, which must pass the library's
 * check and (unless @name is NULL) hold element <@name>. */
static inline void fakeResultDef(const fakeJob *j, void *def, size_t size, const char *name)
{
    const char *why = NULL;

    if (j->resultlen < size)
        fail_msg("result of %zu bytes, less than a definition (%zu)", j->resultlen, size);
    memcpy(def, j->result, size);
    if (virXMLKeepCheck(j->result + size, j->resultlen - size, &why) < 0)
        fail_msg("kept elements refused: %s", why);
    if (name && !virXMLKeepHas(j->result + size, j->resultlen - size, name))
        fail_msg("element <%s> not kept", name);
}
