/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qemu-def.c: fuzz the library's check of a qemu domain definition block
 * (qemu-shared.c, qemuDomainDefCheck) and what the library then does with
 * a block it accepted. The block is what a worker returns for parsed XML
 * (a worker may be hostile: it parsed a stranger's XML) and what a
 * guest's definition and status files hold (a host's crash may leave them
 * damaged), so everything past the check runs in the caller's process.
 *
 * The input is the block. Checks beyond "no crash":
 *  - qemuDefRead of the same bytes from a file gives the same verdict;
 *  - an accepted block's XML (inactive and live) is written, and is one
 *    well-formed <domain> element (nothing the block holds breaks out of
 *    its element); when it parses as a definition, that one is written too;
 *  - QEMU's command line is built for it (qemu_command.c, with every call
 *    that would open, make or look at a file answered here: the input
 *    names paths, none of them is touched) or refused with an error.
 */
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../worker/jobio.c"
#include "../../src/drivers/qemu/qemu-xml-worker.c"
#include "fuzz-job.h"
/* The check and the writer themselves, so that libFuzzer sees their
 * branches (the library archive is not instrumented). */
#include "../../src/drivers/qemu/qemu-shared.c"
#undef VIR_FROM_THIS
#include "../../src/drivers/qemu/qemu_conf.c"

/* qemu_command.c with its file system calls answered here. */
static int fuzzNull(void)
{
    return open("/dev/null", O_RDWR | O_CLOEXEC);
}
static int fuzzOpen(const char *path, int flags, ...)
{
    (void)path;
    (void)flags;
    return fuzzNull();
}
static int fuzzNoFile(const char *path, struct stat *st)
{
    (void)path;
    (void)st;
    errno = ENOENT;
    return -1;
}
static int fuzzSocket(int domain, int type, int protocol)
{
    (void)domain;
    (void)type;
    (void)protocol;
    return fuzzNull();
}
static int fuzzAddr(int fd, const struct sockaddr *sa, socklen_t len)
{
    (void)fd;
    (void)sa;
    (void)len;
    return 0;
}
static int fuzzListen(int fd, int backlog)
{
    (void)fd;
    (void)backlog;
    return 0;
}
static int fuzzUnlink(const char *path)
{
    (void)path;
    return 0;
}
#define open(...) fuzzOpen(__VA_ARGS__)
#define stat(p, s) fuzzNoFile(p, s)
#define lstat(p, s) fuzzNoFile(p, s)
#define socket(...) fuzzSocket(__VA_ARGS__)
#define bind(...) fuzzAddr(__VA_ARGS__)
#define connect(...) fuzzAddr(__VA_ARGS__)
#define listen(...) fuzzListen(__VA_ARGS__)
#define unlink(...) fuzzUnlink(__VA_ARGS__)
#undef VIR_FROM_THIS
#include "../../src/drivers/qemu/qemu_command.c"
#undef open
#undef stat
#undef lstat
#undef socket
#undef bind
#undef connect
#undef listen
#undef unlink

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const qemuLiveInfo inactive = { -1 }, live = { 3 };
    qemuDomainDef *def, *fromFile, *again = NULL;
    static qemuConfig cfg;
    const char *why = NULL;
    char *xml, *xml2, *liveXML;
    int fd;

    if (size > QEMU_DEF_MAX + 1)        /* qemuDefRead reads no more */
        return 0;
    /* Aligned, and exactly @size bytes: a read past the block is a report. */
    def = malloc(size ? size : 1);
    FUZZ_CHECK(def != NULL, "out of memory");
    memcpy(def, data, size);
    int verdict = qemuDomainDefCheck(def, size, &why);

    fd = memfd_create("qemu-def", MFD_CLOEXEC);
    FUZZ_CHECK(fd >= 0, "memfd_create: %s", strerror(errno));
    FUZZ_CHECK(write(fd, data, size) == (ssize_t)size, "write: %s", strerror(errno));
    FUZZ_CHECK(lseek(fd, 0, SEEK_SET) == 0, "lseek: %s", strerror(errno));
    fromFile = qemuDefRead(fd, "the fuzzed definition");
    close(fd);
    FUZZ_CHECK((fromFile != NULL) == (verdict == 0), "qemuDefRead and the check disagree");
    free(fromFile);
    virResetLastError();
    if (verdict < 0) {
        free(def);
        return 0;
    }

    xml = qemuDomainDefFormat(def, &inactive);
    FUZZ_CHECK(xml != NULL, "cannot format an accepted definition");
    liveXML = qemuDomainDefFormat(def, &live);
    FUZZ_CHECK(liveXML != NULL, "cannot format an accepted definition as live XML");
    /* Well-formed XML, one <domain>: whatever the block holds (a kept
     * element's text, a title), it cannot break out of its element. It
     * need not parse as a definition again: the kept elements are checked
     * for shape and place, not for what libvirt's grammar allows in them. */
    fuzzOneElement(xml, "domain", "definition");
    fuzzOneElement(liveXML, "domain", "definition");
    if (qemuDomainParseXML(xml, strlen(xml), &again) == 0) {
        xml2 = qemuDomainDefFormat(again, &inactive);
        FUZZ_CHECK(xml2 != NULL, "cannot format a definition parsed from the library's XML");
        free(xml2);
    }
    virResetLastError();

    /* The command line, as a start (and a restore) would build it. */
    cfg.kvm = size % 2;
    snprintf(cfg.kvmWhy, sizeof(cfg.kvmWhy), "%s", "no /dev/kvm in the fuzzer");
    snprintf(cfg.emulator, sizeof(cfg.emulator), "%s", "/usr/bin/qemu-system-x86_64");
    cfg.startTimeoutMs = cfg.stopTimeoutMs = 1000;
    int taps[QEMU_NETS_MAX], tap = fuzzNull();
    FUZZ_CHECK(tap >= 0, "cannot open /dev/null: %s", strerror(errno));
    for (size_t i = 0; i < QEMU_NETS_MAX; i++)
        taps[i] = tap;
    virShimSpecBuf *spec = qemuBuildLaunchTaps(&cfg, def, "/nonexistent/run/fuzz", size % 3 == 0,
                                               taps);
    close(tap);
    if (spec)
        virShimSpecFree(spec);
    else
        FUZZ_CHECK(virGetLastErrorMessage() && *virGetLastErrorMessage(),
                   "the command line was refused without a reason");
    virResetLastError();

    free(xml);
    free(liveXML);
    free(again);
    free(def);
    return 0;
}
