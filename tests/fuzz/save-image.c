/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * save-image.c: fuzz the save image reader (restore-worker.c,
 * testSaveImageVerify), which a restore runs on whatever file it is given.
 *
 * The input is the file, in a memfd (a regular file, as a restore's is).
 * Checks: the reader ends with exactly one report; when it accepts an
 * image, the definition it returns passes testDomainDefCheck.
 */
#include <sys/mman.h>

#include "../../worker/jobio.c"
#include "../../src/drivers/test/test-worker.c"
#include "../../src/drivers/test/restore-worker.c"
#include "fuzz-job.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzzJob job = { .fd = -1 };
    testDomainDef def;
    const char *why = NULL;
    int fd, rc;

    fd = memfd_create("save-image", MFD_CLOEXEC);
    FUZZ_CHECK(fd >= 0, "memfd_create: %s", strerror(errno));
    for (size_t off = 0; off < size;) {
        ssize_t n = write(fd, data + off, size - off);
        FUZZ_CHECK(n > 0, "write: %s", strerror(errno));
        off += (size_t)n;
    }
    FUZZ_CHECK(lseek(fd, 0, SEEK_SET) == 0, "lseek: %s", strerror(errno));
    job.fd = fd;
    memset(&def, 0, sizeof(def));
    rc = testSaveImageVerify(FJ(&job), fd, 0, &def, NULL);
    if (rc == 0)
        FUZZ_CHECK(testDomainDefCheck(&def, &why) == 0, "accepted image, invalid def: %s", why);
    virResetLastError();
    close(fd);
    return 0;
}
