/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virmount.h: a process whose root is a plain directory (a chroot that is
 * not a mount point, as pbuilder's build roots) has what a private mount
 * namespace needs: making "/" private and pivot_root(2) both refuse such
 * a root with EINVAL.
 *
 * Used by the worker's and the shim's sandbox set-up, in a mount namespace
 * of their own made just before. No call here reports through virerror:
 * each returns 0, or -1 with errno set. Not thread-safe: they change the
 * calling process's root and working directory (single-threaded set-up
 * code only).
 */
#pragma once

/* Leave the chroot for the root of the process's own mount namespace (a
 * mount point). @inside is a directory below the current root that does
 * not hold the working directory; the walk up starts there. Needs
 * CAP_SYS_CHROOT. Afterwards nothing of the chroot is the process's root
 * or working directory. */
int virMountLeaveChroot(const char *inside);

/* Make the current root a mount point with the same content: leave the
 * chroot (as virMountLeaveChroot, from @inside), make every mount of the
 * namespace private (MS_REC | MS_PRIVATE, so nothing below propagates
 * back to the host), bind the chroot's directory (with its submounts)
 * onto itself and enter that bind as root and working directory "/". The
 * paths the process knew keep their meaning. Needs CAP_SYS_ADMIN and
 * CAP_SYS_CHROOT in the mount namespace's owner, and Linux 5.2 or later
 * (open_tree, move_mount: errno ENOSYS before). */
int virMountRootToMountPoint(const char *inside);
