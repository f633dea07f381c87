/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ring.c: handing out job ids and their slots. Supervisor only; callers
 * serialise (the job table lock).
 */
#include <inttypes.h>

#define VIR_FROM_THIS VIR_FROM_SHM
#include "util/virerror.h"
#include "shm/segment.h"

static bool slotBusy(const virShmSegment *seg, uint32_t slot)
{
    const virShmLifecycle *l = virShmSlotLifecycle(seg, slot);
    const uint32_t *word = (const uint32_t *)((const char *)l->data +
                                              offsetof(virShmLifecycleData, state));
    /* Relaxed: the supervisor is this section's only writer and reads back
     * its own stores; the word holds state and flags. */
    uint32_t state = __atomic_load_n(word, __ATOMIC_RELAXED);

    return state == VIR_SHM_STATE_QUEUED || state == VIR_SHM_STATE_RUNNING;
}

int virShmRingAlloc(virShmSegment *seg, const char *op, const char *target,
                    uint64_t *job_id, uint32_t *slot)
{
    virShmHeader *hdr = seg->base;
    virShmLifecycleData lc;
    /* Relaxed: only the supervisor touches it, under its own lock. */
    uint64_t id = atomic_load_explicit(&hdr->next_job_id, memory_order_relaxed);
    uint32_t s;
    uint32_t tries;

    if (id == 0)
        id = 1;
    /* One lap of the ring visits every slot once. */
    for (tries = 0; tries < seg->nslots; tries++, id++) {
        if (!slotBusy(seg, virShmRingSlot(seg, id)))
            break;
    }
    if (tries == seg->nslots) {
        virReportError(VIR_ERR_RESOURCE_BUSY,
                       "status ring full: all %" PRIu32 " slots hold unfinished jobs",
                       seg->nslots);
        return -1;
    }
    s = virShmRingSlot(seg, id);

    memset(&lc, 0, sizeof(lc));
    lc.job_id = id;
    lc.generation = id / seg->nslots;
    lc.state = VIR_SHM_STATE_QUEUED;
    lc.start_realtime_ns = virShmNowReal();
    virStrcpyTrunc(lc.op, sizeof(lc.op), op);
    virStrcpyTrunc(lc.target, sizeof(lc.target), target);

    /* The progress page first: once the lifecycle names the new job, a
     * reader must not find the previous job's progress under it. */
    virShmProgressReset(virShmSlotProgress(seg, s), id);
    virShmLifecycleWrite(virShmSlotLifecycle(seg, s), &lc);
    virShmSlotMarkWritten(seg, s);
    atomic_store_explicit(&hdr->next_job_id, id + 1, memory_order_relaxed);

    *job_id = id;
    *slot = s;
    return 0;
}
