/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * liveness.c: is a segment's supervisor still running, and the clocks the
 * segment records.
 */
#include <fcntl.h>
#include <stdio.h>
#include <time.h>

#include "util/internal.h"
#include "shm/segment.h"
#include "util/virprocess.h"

uint64_t virShmProcStartTime(pid_t pid)
{
    return virProcessStartTime(pid);
}

bool virShmSupervisorAlive(const virShmSegment *seg)
{
    const virShmHeader *hdr = seg->base;
    /* Plain reads: written once before the magic was published; a hostile
     * value only makes us look at another process's start time. A zombie
     * supervisor has exited: its segment is stale. */
    return virProcessAlive(hdr->supervisor_pid, hdr->supervisor_start_time);
}

static uint64_t nowNs(clockid_t clk)
{
    struct timespec ts;

    /* vDSO on Linux: no system call. */
    if (clock_gettime(clk, &ts) < 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t virShmNowMono(void)
{
    return nowNs(CLOCK_MONOTONIC);
}

uint64_t virShmNowMonoCoarse(void)
{
    return nowNs(CLOCK_MONOTONIC_COARSE);
}

uint64_t virShmNowReal(void)
{
    return nowNs(CLOCK_REALTIME);
}
