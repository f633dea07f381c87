/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * save-bench: save and restore of a 1 GiB test domain through the public
 * API (virDomainSaveJob / virDomainRestoreJob on a test:/// node), beside a
 * plain write()+fsync() loop of the same size into the same directory and a
 * plain read() loop of that file, in the same run; and the save+restore
 * round trip of the smallest test domain beside the same durable I/O alone
 * (write+fsync of its image's size, then a read of it), median of SMALL_ROUNDS.
 * The 1 GiB domain's memory is all data (<test:memory data-bytes='1073741824'/>:
 * without it only its first 64 MiB would be, and its image would hold
 * those and a zero run), so its image is 1 GiB of data, as a guest's
 * whose memory is all in use.
 *
 * Page cache: every file is fsync'd when written, and before each read
 * (restore, read loop) posix_fadvise(POSIX_FADV_DONTNEED) drops its clean
 * pages, so both reads come from the disk. Best of ROUNDS rounds; odd
 * rounds run the baseline of each pair first (write, then read), so
 * neither side always follows the other's I/O.
 *
 * The files go to a fresh directory under VIRTSUP_BUILDDIR (or the current
 * directory) and are removed at the end.
 */
#include <sys/stat.h>

#include "libvirtsup/libvirtsup.h"
#include "util/internal.h"
#include "benchutil.h"

#define ROUNDS 2
#define SMALL_ROUNDS 21
#define CHUNK (1u << 20)

static char dir[PATH_MAX - 64];

static void pathIn(char *buf, size_t len, const char *name)
{
    if ((size_t)snprintf(buf, len, "%s/%s", dir, name) >= len)
        benchDie("path too long");
}

static void runJob(virJobPtr job, const char *what)
{
    virJobInfo info;
    if (!job) {
        fprintf(stderr, "bench: %s: %s\n", what, virGetLastErrorMessage());
        exit(1);
    }
    if (virJobWait(job, -1) != 0 || virJobGetInfo(job, &info) < 0 ||
        info.state != VIR_JOB_COMPLETE) {
        virErrorPtr e = virJobGetError(job);
        fprintf(stderr, "bench: %s did not complete: %s\n", what,
                e && e->message ? e->message : "");
        exit(1);
    }
    virJobDestroy(job);
}

static uint64_t plainWrite(const char *path, uint64_t size, char *buf)
{
    uint64_t t0 = benchNow();
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        benchDie("cannot create the baseline file");
    for (uint64_t off = 0; off < size;) {
        size_t n = size - off < CHUNK ? (size_t)(size - off) : CHUNK;
        buf[0] = (char)off; /* not a page the kernel could share */
        ssize_t w = write(fd, buf, n);
        if (w <= 0)
            benchDie("baseline write failed");
        off += (uint64_t)w;
    }
    if (fsync(fd) < 0)
        benchDie("baseline fsync failed");
    close(fd);
    return benchNow() - t0;
}

static uint64_t plainRead(const char *path, char *buf)
{
    uint64_t t0 = benchNow(), total = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        benchDie("cannot open the baseline file");
    ssize_t r;
    while ((r = read(fd, buf, CHUNK)) > 0)
        total += (uint64_t)r;
    if (r < 0)
        benchDie("baseline read failed");
    close(fd);
    if (total == 0)
        benchDie("baseline file is empty");
    return benchNow() - t0;
}

static double mibps(uint64_t bytes, uint64_t ns)
{
    return (double)bytes / (1024.0 * 1024.0) / ((double)ns / 1e9);
}

int main(void)
{
    char node[PATH_MAX], image[PATH_MAX], plain[PATH_MAX], uri[PATH_MAX + 16];
    const char *bd = getenv("VIRTSUP_BUILDDIR");
    uint64_t save = UINT64_MAX, restore = UINT64_MAX, wr = UINT64_MAX, rd = UINT64_MAX;
    struct stat sb;

    setvbuf(stdout, NULL, _IOLBF, 0);
    char *rundir = benchRunDir();
    if ((size_t)snprintf(dir, sizeof(dir), "%s/save-bench-XXXXXX", bd ? bd : ".") >=
        sizeof(dir) || !mkdtemp(dir))
        benchDie("cannot create the bench directory");
    pathIn(node, sizeof(node), "node.xml");
    pathIn(image, sizeof(image), "big.save");
    pathIn(plain, sizeof(plain), "plain.dat");

    FILE *f = fopen(node, "we");
    if (!f)
        benchDie("cannot write the node description");
    fprintf(f, "<node>\n  <domain type='test' xmlns:test='http://libvirtsup.org/schemas/test/1.0'>\n"
            "    <name>big</name>\n"
            "    <memory unit='GiB'>1</memory>\n    <vcpu>2</vcpu>\n"
            "    <test:memory data-bytes='%llu'/>\n  </domain>\n"
            "  <domain type='test'>\n    <name>small</name>\n"
            "    <memory unit='KiB'>%u</memory>\n    <vcpu>1</vcpu>\n  </domain>\n</node>\n",
            1ull << 30 /* all of its memory */, 1024u /* the test driver's least memory, 1 MiB */);
    fclose(f);
    snprintf(uri, sizeof(uri), "test://%s", node);
    virConnectPtr conn = virConnectOpen(uri);
    if (!conn) {
        fprintf(stderr, "bench: cannot open %s: %s\n", uri, virGetLastErrorMessage());
        return 1;
    }
    char *buf = malloc(CHUNK);
    if (!buf)
        benchDie("out of memory");
    memset(buf, 0xa7, CHUNK);

    uint64_t size = 0;
    for (int r = 0; r < ROUNDS; r++) {
        /* Odd rounds swap each pair (the baseline's write, then its read,
         * first): the read that came first after a round's 2 GiB of
         * writes ran up to 20% slower here (the disk still busy with
         * them), which the restore, always first, used to pay alone. */
        bool swap = r % 2 == 1;
        uint64_t t;

        for (int k = 0; k < 2; k++) {
            if ((k == 0) != swap) {
                virDomainPtr dom = virDomainLookupByName(conn, "big");
                if (!dom)
                    benchDie("no domain 'big'");
                uint64_t t0 = benchNow();
                runJob(virDomainSaveJob(dom, image), "virDomainSaveJob");
                t = benchNow() - t0;
                virDomainFree(dom);
                save = t < save ? t : save;
                if (stat(image, &sb) < 0)
                    benchDie("no save image");
                if (size && (uint64_t)sb.st_size != size)
                    benchDie("the save image changed size between rounds");
                size = (uint64_t)sb.st_size;
            } else {
                /* Round 0 saves first: its image gives the size. */
                t = plainWrite(plain, size, buf);
                wr = t < wr ? t : wr;
            }
        }
        for (int k = 0; k < 2; k++) {
            if ((k == 0) != swap) {
                benchDropCache(image);
                uint64_t t0 = benchNow();
                runJob(virDomainRestoreJob(conn, image), "virDomainRestoreJob");
                t = benchNow() - t0;
                restore = t < restore ? t : restore;
            } else {
                benchDropCache(plain);
                t = plainRead(plain, buf);
                rd = t < rd ? t : rd;
            }
        }
        unlink(image);
        unlink(plain);
    }
    if (size < (1ull << 30))
        benchDie("the 1 GiB domain's save image holds less than 1 GiB of data");
    printf("save image: %llu bytes (1 GiB of memory + header and XML)\n",
           (unsigned long long)size);
    benchLine("save-1GiB", mibps(size, save), "MiB/s", "write-fsync-1GiB", mibps(size, wr),
              "ratio >= 0.95");
    benchLine("restore-1GiB", mibps(size, restore), "MiB/s", "read-1GiB", mibps(size, rd),
              "ratio >= 0.95");

    /* The smallest domain: what a save+restore adds to its I/O. */
    uint64_t rt[SMALL_ROUNDS], io[SMALL_ROUNDS];
    for (int r = 0; r < SMALL_ROUNDS; r++) {
        virDomainPtr dom = virDomainLookupByName(conn, "small");
        if (!dom)
            benchDie("no domain 'small'");
        uint64_t t0 = benchNow();
        runJob(virDomainSaveJob(dom, image), "virDomainSaveJob (small)");
        runJob(virDomainRestoreJob(conn, image), "virDomainRestoreJob (small)");
        rt[r] = benchNow() - t0;
        virDomainFree(dom);
        if (stat(image, &sb) < 0)
            benchDie("no save image");
        io[r] = plainWrite(plain, (uint64_t)sb.st_size, buf);
        io[r] += plainRead(plain, buf);
        unlink(image);
        unlink(plain);
    }
    printf("small save image: %llu bytes\n", (unsigned long long)sb.st_size);
    benchLine("save-restore-smallest-p50", (double)benchPercentile(rt, SMALL_ROUNDS, 50) / 1e6,
              "ms", "write-fsync-read-same-bytes-p50",
              (double)benchPercentile(io, SMALL_ROUNDS, 50) / 1e6, "<= baseline + 0.5 ms");

    virConnectClose(conn);
    free(buf);
    unlink(node);
    rmdir(dir);
    rmdir(rundir);
    return 0;
}
