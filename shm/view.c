/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * view.c: what a reader (virtsup-stat, a benchmark) makes of one slot:
 * the lifecycle record checked against its place in the ring, and the
 * progress to show with it (the record's own: see segment.h). No system
 * call; everything read is untrusted and comes out sanitised.
 */
#include <errno.h>
#include <string.h>

#include "shm/segment.h"

uint64_t virShmLifecycleElapsedMs(const virShmLifecycleData *lc, uint64_t nowMono,
                                  uint64_t nowReal)
{
    bool ended = virShmStateEnded(lc->state);
    uint64_t endMono = ended ? lc->end_mono_ns : nowMono;
    uint64_t endReal = ended ? lc->end_realtime_ns : nowReal;

    if (lc->start_mono_ns && endMono >= lc->start_mono_ns)
        return (endMono - lc->start_mono_ns) / 1000000;
    if (lc->start_realtime_ns && endReal > lc->start_realtime_ns)
        return (endReal - lc->start_realtime_ns) / 1000000;
    return 0;
}

void virShmSlotView(const virShmSegment *seg, uint32_t slot, bool ended, virShmJobView *v)
{
    virShmLifecycleData *lc = &v->lc;

    const virShmLifecycle *l = virShmSlotLifecycle(seg, slot);

    v->kind = VIR_SHM_VIEW_EMPTY;
    v->why = NULL;
    v->source = VIR_SHM_PROGRESS_NONE;
    if (virShmLifecycleReadHead(l, lc) < 0) {
        v->kind = VIR_SHM_VIEW_INCONSISTENT;
        v->why = errno == EBADMSG ?
                 "the slot holds an unknown job state" :
                 "no consistent copy of the slot (a writer is mid-update or died mid-update)";
        return;
    }
    if (lc->state == VIR_SHM_STATE_EMPTY)
        return;
    if (lc->job_id % seg->nslots != slot || lc->generation != lc->job_id / seg->nslots) {
        v->kind = VIR_SHM_VIEW_INCONSISTENT;
        v->why = "the slot's job id or generation does not match its place in the ring";
        return;
    }
    if (!ended && virShmStateEnded(lc->state))
        return;
    v->kind = VIR_SHM_VIEW_JOB;

    /* Relaxed: only whether to look; what is read comes under the
     * sequence, and a stale hint costs a page or misses a text that came
     * meanwhile (the next scan has it). */
    if (atomic_load_explicit(&l->error_len, memory_order_relaxed)) {
        /* Its error text, on the page after the record: read with the
         * record again, under the same sequence. A record that moved on
         * to another job meanwhile keeps what was read first. */
        virShmLifecycleData whole;
        if (virShmLifecycleRead(l, &whole) == 0 && whole.job_id == lc->job_id &&
            whole.state == lc->state)
            *lc = whole;
    }
    /* The progress is the record's own (sanitised with it): the worker's
     * page is not read, so a scan costs one page per eight jobs. */
    if (lc->state == VIR_SHM_STATE_RUNNING && lc->sampled_realtime_ns) {
        v->pr = lc->final;
        v->source = VIR_SHM_PROGRESS_SAMPLED;
    } else if (virShmStateEnded(lc->state)) {
        v->pr = lc->final;
        v->source = VIR_SHM_PROGRESS_FINAL;
    } else {
        memset(&v->pr, 0, sizeof(v->pr));
    }
}
