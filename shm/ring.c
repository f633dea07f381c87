/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ring.c: handing out job ids and their slots. Supervisor only; callers
 * serialise (the job table lock).
 */
#include <inttypes.h>
#include <stdio.h>

#define VIR_FROM_THIS VIR_FROM_SHM
#include "util/virerror.h"
#include "shm/segment.h"

static bool slotBusy(const virShmSegment *seg, uint32_t slot)
{
    /* A slot without storage was never used; reading it would allocate. */
    if (!virShmSlotReserved(seg, slot))
        return false;
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
    int nospace = 0;

    if (id == 0)
        id = 1;
    /* One lap of the ring visits every slot once. */
    for (tries = 0; tries < seg->nslots; tries++, id++) {
        s = virShmRingSlot(seg, id);
        if (slotBusy(seg, s))
            continue;
        if (virShmSlotReserved(seg, s))
            break;
        /* First use of this slot: its storage, or (no room) a slot that
         * has some. Not tried again within this lap once refused. */
        if (!nospace && (nospace = virShmSlotReserve(seg, s)) == 0)
            break;
    }
    if (tries == seg->nslots) {
        if (nospace) {
            char what[128];
            if (seg->nreserved)
                snprintf(what, sizeof(what),
                         "all %" PRIu32 " job slots it has room for hold unfinished jobs",
                         seg->nreserved);
            else
                snprintf(what, sizeof(what), "cannot reserve a job slot");
            virShmReportNoSpace(seg->path, nospace, what);
        } else {
            virReportError(VIR_ERR_RESOURCE_BUSY,
                           "status ring full: all %" PRIu32 " slots hold unfinished jobs",
                           seg->nslots);
        }
        return -1;
    }

    memset(&lc, 0, sizeof(lc));
    lc.job_id = id;
    lc.generation = id / seg->nslots;
    lc.state = VIR_SHM_STATE_QUEUED;
    lc.start_realtime_ns = virShmNowReal();
    lc.start_mono_ns = virShmNowMono();
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
