/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virmount.c: leaving a chroot whose root is not a mount point, or making
 * its root one (virmount.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/virmount.h"

int virMountLeaveChroot(const char *inside)
{
    struct stat here, up;

    /* With the working directory left outside the new root, ".." climbs
     * freely (the kernel stops ".." only at the process's own root). */
    if (chdir("/") < 0 || chroot(inside) < 0)
        return -1;
    for (int i = 0; i < 4096; i++) {
        if (stat(".", &here) < 0 || stat("..", &up) < 0)
            return -1;
        if (here.st_dev == up.st_dev && here.st_ino == up.st_ino)
            return chroot(".") < 0 || chdir("/") < 0 ? -1 : 0;
        if (chdir("..") < 0)
            return -1;
    }
    errno = ELOOP;
    return -1;
}

int virMountRootToMountPoint(const char *inside)
{
    int old = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    int tree = -1, saved, rc = -1;

    if (old < 0)
        return -1;
    if (virMountLeaveChroot(inside) < 0 ||
        mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        goto out;
    /* A copy of the chroot's tree, attached on the chroot's directory
     * itself: its root is a mount point. The descriptor names that root
     * once attached. */
    tree = open_tree(old, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_EMPTY_PATH);
    if (tree < 0 ||
        move_mount(tree, "", old, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0 ||
        fchdir(tree) < 0 || chroot(".") < 0 || chdir("/") < 0)
        goto out;
    rc = 0;
 out:
    saved = errno;
    if (tree >= 0)
        close(tree);
    close(old);
    errno = saved;
    return rc;
}
