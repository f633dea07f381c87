/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qemu-tap-worker.c: the taps of a guest's <interface type='network'> and
 * <interface type='bridge'>. The worker keeps CAP_NET_ADMIN and nothing
 * else, and sees no file: the library opens /dev/net/tun once per tap and
 * hands the descriptors over; here each becomes a tap (TUNSETIFF), gets the
 * guest's MAC (first byte 0xfe), the bridge's MTU, the bridge as master,
 * and goes up. The library keeps its own duplicates of the descriptors and
 * gives them to QEMU, so a tap lives exactly as long as QEMU (or, when the
 * start fails, until the library closes them): nothing to remove later.
 * The library checks each tap itself (its name and master) afterwards.
 */
#include <stdio.h>

#include "util/internal.h"
#undef VIR_FROM_THIS
#define VIR_FROM_THIS VIR_FROM_QEMU
#include "util/virerror.h"
#include "util/virnetdevtap.h"
#include "drivers/qemu/qemu-worker.h"

static void qemuTapsRun(virWorkerJobPtr job, const void *params, size_t len)
{
    qemuTapParams p;

    virWorkerJobInitialize(job, 1);
    if (len != sizeof(p)) {
        virWorkerJobFinishFailure(job, VIR_ERR_INTERNAL_ERROR, "%s", "invalid tap parameters");
        return;
    }
    memcpy(&p, params, sizeof(p));
    if (p.magic != QEMU_TAPS_MAGIC || p.ntaps == 0 || p.ntaps > QEMU_NETS_MAX ||
        virWorkerJobResourceCount(job) != p.ntaps) {
        virWorkerJobFinishFailure(job, VIR_ERR_INTERNAL_ERROR, "%s", "invalid tap parameters");
        return;
    }
    virWorkerJobSetPhase(job, "taps");
    for (uint32_t i = 0; i < p.ntaps; i++) {
        qemuTapEntry *t = &p.taps[i];
        char ifname[16];
        t->bridge[sizeof(t->bridge) - 1] = '\0';
        t->ifname[sizeof(t->ifname) - 1] = '\0';
        if (virNetDevTapAttach(virWorkerJobResourceFD(job, i), t->bridge, t->mac,
                               t->ifname, ifname) < 0) {
            virWorkerJobFinishError(job);
            return;
        }
        virWorkerJobUpdateAbs(job, 0, 0, (i + 1) * 100 / p.ntaps);
    }
    virWorkerJobFinishSuccess(job);
}

VIR_WORKER_OP_REGISTER(qemuTapsOp, QEMU_OP_DOMAIN_TAPS, qemuTapsRun);
