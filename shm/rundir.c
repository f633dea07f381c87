/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * rundir.c: where status segments live, and making sure that place is ours.
 */
#include <stdio.h>
#include <sys/stat.h>

#define VIR_FROM_THIS VIR_FROM_SHM
#include "util/viralloc.h"
#include "util/virerror.h"
#include "shm/segment.h"

static char *runDirPath(void)
{
    /* secure_getenv: a set-id program must not be pointed elsewhere. */
    const char *env = secure_getenv("VIRTSUP_RUNDIR");
    const char *xdg;

    if (env && *env) {
        if (env[0] != '/') {
            virReportError(VIR_ERR_CONFIG_UNSUPPORTED,
                           "VIRTSUP_RUNDIR must be an absolute path, not '%s'", env);
            return NULL;
        }
        return virStrdup(env);
    }
    if (geteuid() == 0)
        return virStrdup("/run/virtsup");
    xdg = secure_getenv("XDG_RUNTIME_DIR");
    if (!xdg || xdg[0] != '/') {
        virReportError(VIR_ERR_CONFIG_UNSUPPORTED, "%s",
                       "cannot find the run directory: XDG_RUNTIME_DIR is not set "
                       "to an absolute path (set it, or VIRTSUP_RUNDIR)");
        return NULL;
    }
    return virAsprintf("%s/virtsup", xdg);
}

char *virShmRunDir(bool create)
{
    VIR_AUTOFREE(char *) dir = runDirPath();
    uid_t euid = geteuid();
    struct stat sb;

    if (!dir)
        return NULL;
    if (!create)
        return VIR_STEAL_PTR(dir);

    if (mkdir(dir, euid == 0 ? 0750 : 0700) < 0 && errno != EEXIST) {
        virReportSystemError(errno, "cannot create run directory %s", dir);
        return NULL;
    }
    /* lstat: a symlink here could send our segments anywhere. */
    if (lstat(dir, &sb) < 0) {
        virReportSystemError(errno, "cannot check run directory %s", dir);
        return NULL;
    }
    if (S_ISLNK(sb.st_mode)) {
        virReportError(VIR_ERR_OPERATION_DENIED,
                       "run directory %s is a symbolic link; refusing to use it", dir);
        return NULL;
    }
    if (!S_ISDIR(sb.st_mode)) {
        virReportError(VIR_ERR_OPERATION_DENIED,
                       "run directory %s is not a directory", dir);
        return NULL;
    }
    if (sb.st_uid != euid) {
        virReportError(VIR_ERR_OPERATION_DENIED,
                       "run directory %s is owned by uid %u, not by this process's uid %u",
                       dir, (unsigned)sb.st_uid, (unsigned)euid);
        return NULL;
    }
    if (sb.st_mode & (S_IWGRP | S_IWOTH)) {
        virReportError(VIR_ERR_OPERATION_DENIED,
                       "run directory %s is writable by group or others (mode %04o)",
                       dir, (unsigned)(sb.st_mode & 07777));
        return NULL;
    }
    return VIR_STEAL_PTR(dir);
}
