/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * segment.c: fuzz the status segment reader (shm/): what virtsup-stat and
 * virJobGetInfo do with a segment file that may be stale, truncated or
 * hostile. The input is the file: virShmSegmentOpen validates its header;
 * then the slot map is walked, every slot's lifecycle and progress are
 * read through the seqlock readers, and the liveness check runs on the
 * header's supervisor.
 *
 * Checks: what a reader returns is sanitised (states in range, strings
 * terminated within their fields, percent at most 100).
 */
#include <fcntl.h>
#include <unistd.h>

/* The readers themselves, so that libFuzzer sees their branches (the
 * library archive is not instrumented). */
#include "../../shm/segment.c"
#include "../../shm/seqlock.c"
#include "../../shm/liveness.c"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    virShmSegment *seg;

    const char *segPath = fuzzTempFile("1-1.seg", data, size);

    if (!(seg = virShmSegmentOpen(segPath))) {
        virResetLastError();
        return 0;
    }
    (void)virShmSupervisorAlive(seg);
    /* The slot map's walk stays within the slots, in order. */
    uint32_t prev = 0;
    bool first = true;
    for (uint32_t s = virShmNextWrittenSlot(seg, 0); s < seg->nslots;
         s = virShmNextWrittenSlot(seg, s + 1)) {
        FUZZ_CHECK(first || s > prev, "slot map walk went from %u to %u", prev, s);
        prev = s;
        first = false;
    }
    for (uint32_t s = 0; s < seg->nslots; s++) {
        virShmLifecycleData lc;
        virShmProgressData pr;
        if (virShmLifecycleRead(virShmSlotLifecycle(seg, s), &lc) == 0) {
            FUZZ_CHECK(lc.state < VIR_SHM_STATE_LAST, "slot %u: state %u", s, (unsigned)lc.state);
            FUZZ_CHECK(memchr(lc.op, '\0', sizeof(lc.op)) != NULL, "slot %u: op unterminated", s);
            FUZZ_CHECK(memchr(lc.target, '\0', sizeof(lc.target)) != NULL,
                       "slot %u: target unterminated", s);
            FUZZ_CHECK(memchr(lc.error, '\0', sizeof(lc.error)) != NULL,
                       "slot %u: error unterminated", s);
        }
        if (virShmProgressRead(virShmSlotProgress(seg, s), &pr) == 0) {
            FUZZ_CHECK(pr.percent <= 100, "slot %u: percent %u", s, (unsigned)pr.percent);
            FUZZ_CHECK(memchr(pr.phase, '\0', sizeof(pr.phase)) != NULL,
                       "slot %u: phase unterminated", s);
        }
    }
    virShmSegmentClose(seg);
    return 0;
}
