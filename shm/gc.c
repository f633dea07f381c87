/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * gc.c: removing the status segments of supervisors that are gone.
 */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "util/internal.h"
#include "util/viralloc.h"
#include "util/virerror.h"
#include "shm/segment.h"
#include "shm/gc.h"

/* "PID-STARTTIME.seg", as virShmSegmentCreate names them. */
static bool gcParseName(const char *name, pid_t *pid, uint64_t *start)
{
    char *end;
    unsigned long long p, s;

    errno = 0;
    p = strtoull(name, &end, 10);
    if (errno || end == name || *end != '-' || p == 0 || p > INT32_MAX)
        return false;
    name = end + 1;
    s = strtoull(name, &end, 10);
    if (errno || end == name || strcmp(end, ".seg") != 0)
        return false;
    *pid = (pid_t)p;
    *start = s;
    return true;
}

/* Is the segment @name under @dirfd stale? Only when its name's process
 * is gone and, if it opens, the header's supervisor is gone too. */
static bool gcIsStale(const char *rundir, int dirfd, const char *name)
{
    pid_t pid;
    uint64_t start;
    struct stat st, fst;
    char *path;
    virShmSegment *seg;
    bool stale;

    if (!gcParseName(name, &pid, &start))
        return false;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
        !S_ISREG(st.st_mode) || st.st_uid != geteuid())
        return false;
    if (virShmProcStartTime(pid) == start)
        return false;
    /* O_NOFOLLOW in the open; then make sure it is the file we checked. */
    if (!(path = virAsprintf("%s/%s", rundir, name)))
        return false;
    seg = virShmSegmentOpen(path);
    free(path);
    if (!seg) {
        /* Unreadable (truncated, garbage): the name says whose it is. */
        virResetLastError();
        return true;
    }
    if (fstat(seg->fd, &fst) < 0 || fst.st_dev != st.st_dev || fst.st_ino != st.st_ino) {
        virShmSegmentClose(seg);
        return false;
    }
    stale = !virShmSupervisorAlive(seg);
    virShmSegmentClose(seg);
    return stale;
}

int virShmRunDirGC(const char *rundir)
{
    DIR *d;
    struct dirent *e;
    int dirfd, removed = 0;

    if (!rundir) {
        errno = EINVAL;
        return -1;
    }
    if ((dirfd = open(rundir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
        return -1;
    if (!(d = fdopendir(dirfd))) {
        int saved = errno;
        close(dirfd);
        errno = saved;
        return -1;
    }
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        if (gcIsStale(rundir, dirfd, e->d_name) && unlinkat(dirfd, e->d_name, 0) == 0)
            removed++;
    }
    closedir(d);
    return removed;
}
