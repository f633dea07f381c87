/*
 * liveness.c: is a segment's supervisor still running, and the clocks the
 * segment records.
 */
#include <fcntl.h>
#include <stdio.h>
#include <time.h>

#include "util/internal.h"
#include "shm/segment.h"

/* Reads /proc/PID/stat into @buf; returns the text after the command name
 * (" S ppid ..."), or NULL. The command name may hold spaces and ')',
 * so it ends at the last ')'. */
static const char *procStatFields(pid_t pid, char *buf, size_t len)
{
    char path[64];
    size_t got = 0;
    int fd;

    if (pid <= 0)
        return NULL;
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return NULL;
    while (got < len - 1) {
        ssize_t n = read(fd, buf + got, len - 1 - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    buf[got] = '\0';

    char *p = strrchr(buf, ')');
    return p ? p + 1 : NULL;
}

/* Field @n (1-based, n >= 3) of /proc/PID/stat from the text after ')'. */
static const char *statField(const char *rest, int n)
{
    const char *p = rest;

    for (int field = 3; ; field++) {
        while (*p == ' ')
            p++;
        if (!*p)
            return NULL;
        if (field == n)
            return p;
        while (*p && *p != ' ')
            p++;
    }
}

uint64_t virShmProcStartTime(pid_t pid)
{
    char buf[2048];
    const char *rest = procStatFields(pid, buf, sizeof(buf));
    const char *f;
    char *end;
    unsigned long long v;

    if (!rest || !(f = statField(rest, 22)))
        return 0;
    errno = 0;
    v = strtoull(f, &end, 10);
    if (errno || end == f || (*end != ' ' && *end != '\n' && *end != '\0'))
        return 0;
    return v;
}

bool virShmSupervisorAlive(const virShmSegment *seg)
{
    const virShmHeader *hdr = seg->base;
    /* Plain reads: written once before the magic was published; a hostile
     * value only makes us look at another process's start time. */
    pid_t pid = hdr->supervisor_pid;
    uint64_t start = hdr->supervisor_start_time;
    char buf[2048];
    const char *rest, *state;

    if (pid <= 0 || start == 0)
        return false;
    if (virShmProcStartTime(pid) != start)
        return false;
    /* A zombie supervisor has exited: its segment is stale. */
    rest = procStatFields(pid, buf, sizeof(buf));
    state = rest ? statField(rest, 3) : NULL;
    return state && *state != 'Z' && *state != 'X';
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
