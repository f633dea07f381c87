/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * gc.h: removing the status segments of supervisors that are gone.
 */
#pragma once

/**
 * virShmRunDirGC:
 * @rundir: the run directory (virShmRunDir)
 *
 * Remove from @rundir every segment (a regular file named
 * PID-STARTTIME.seg, owned by this euid) whose supervisor is gone: the
 * process named by the file name (pid and start time) no longer runs and,
 * if the header can be read, neither does the one it records. A segment
 * of a live supervisor, a file of another name or another owner, and a
 * symlink are never touched. Called by a supervisor as it starts, as
 * DESIGN.md says; `virtsup-stat --gc` does the same for operators.
 *
 * Best effort: reports no error (a supervisor must start even when an old
 * file cannot be removed). Returns how many segments were removed, or -1
 * with errno set if @rundir cannot be read.
 *
 * Thread-safety: safe; it works on names under one directory descriptor.
 */
int virShmRunDirGC(const char *rundir);
