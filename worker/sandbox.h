/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sandbox.h: the worker's sandbox (what a job's process may still do once
 * its op function runs) and the spawn helper's sweep of escaped
 * descendants. Worker process only. The properties and the tests that show
 * them: docs/SECURITY.md.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "util/workerproto.h"

/* Fail the job's set-up: report "worker set-up failed: @what: <errno text>"
 * on @ctlfd (if it can) and exit with VIR_WORKER_EXIT_SETUP. Worker only,
 * after fork; never returns. */
void virWorkerSandboxFail(int ctlfd, const char *what, int err)
    __attribute__((noreturn));

/*
 * Enter the sandbox, in the freshly forked worker, after its descriptors
 * are in place and everything else is closed, and before the op runs:
 *  - with CAP_SYS_ADMIN (a root caller): a private mount namespace whose
 *    root is an empty read-only tmpfs holding only a fresh, read-only
 *    /proc (hidepid=ptraceable, pid entries only): no path reaches the run
 *    directory, the segment, /etc, /tmp or another process's /proc files;
 *    without it (a non-root caller), the same root from a user namespace
 *    of its own where the host allows one (the host's /proc bound
 *    read-only; other processes' entries closed by the namespace);
 *  - RLIMIT_CORE 0 and the request's limits (AS, CPU, NOFILE, FSIZE);
 *  - optionally (req->set_ids) no supplementary groups, then gid, then uid;
 *  - PR_SET_NO_NEW_PRIVS; capabilities cut to sb->caps (the profile's) in every set
 *    (effective, permitted, inheritable, ambient; bounding when we can);
 *  - not dumpable;
 *  - a seccomp filter (virWorkerSandboxSeccomp) of the profile's
 *    system-call set (sb->syscalls).
 * @page: the job's mapped status page (sealed against mremap). Any failure
 * ends the process through virWorkerSandboxFail. Not thread-safe (the
 * worker is single-threaded at this point).
 */
void virWorkerSandboxEnter(const virProtoSandbox *sb, const virProtoSpawn *req,
                           int ctlfd, void *page, size_t pagelen);

/*
 * A ready worker (forked before its job is known, docs/WORKER.md): the
 * part of virWorkerSandboxEnter that does not depend on the job, in the
 * same order: the filesystem view, RLIMIT_CORE 0, the bounding set,
 * no_new_privs, the capabilities, not dumpable, the seccomp filter, whose
 * per-worker rules name @page (the address the job's status page will be
 * mapped at, reserved by the caller). Any failure ends the process
 * (exit code VIR_WORKER_EXIT_SETUP; there is no job to report it to).
 * Not thread-safe.
 */
void virWorkerSandboxEnterReady(const virProtoSandbox *sb, void *page);

/*
 * A ready worker, once its job arrived and its status page is mapped at
 * @page: the page sealed (where the kernel can) and the request's limits
 * set (each at most the limit the worker already has: the spawn helper
 * hands a ready worker no request that would raise one, as only a worker
 * that still holds CAP_SYS_RESOURCE could). Failures are reported on
 * @ctlfd and end the process. Not thread-safe.
 */
void virWorkerSandboxEnterJob(const virProtoSpawn *req, int ctlfd, void *page,
                              size_t pagelen);

/* The seccomp filter alone (part of virWorkerSandboxEnter): denies with
 * EPERM ptrace, process_vm_readv/writev, mount and namespace calls, kernel
 * module, kexec, keyring, bpf, perf_event_open and pidfd calls, signals to
 * any process but this one and its process group, any mremap of @page,
 * and sockets of any family but AF_UNIX (VIR_PROTO_SYSCALLS_DEFAULT) or
 * but AF_UNIX and AF_NETLINK (VIR_PROTO_SYSCALLS_NETLINK); clone3 fails
 * with ENOSYS (so libc falls back to clone, whose namespace flags are
 * refused). @set: a virProtoSyscalls. Returns 0, or -1 with errno set.
 * Requires no_new_privs. */
int virWorkerSandboxSeccomp(int set, void *page);

/* In the spawn helper, once: compile the part of the seccomp filter that
 * is the same for every worker of its profile (system-call set @set), so
 * each forked worker only loads it. Returns 0, or -1 with errno set
 * (workers then compile it themselves). */
int virWorkerSandboxPrepare(int set);

/* In the spawn helper, once, after virWorkerSandboxPrepareRoot and
 * before any worker: run under the shared part of the workers' seccomp
 * filter of @set (virProtoSyscalls), without the denials of mount,
 * unshare and pidfd_open (the helper needs pidfd_open; a worker mounts
 * its own /proc before its own program, which denies all three, is
 * loaded). Every worker forked afterwards inherits it and loads only its
 * own small program (virWorkerSandboxSeccomp). Sets no_new_privs on the
 * helper (it never executes a program). -1 with errno if it cannot
 * (ENOTSUP: the helper did not enter the workers' root): each worker
 * then loads the whole filter itself. Not thread-safe. */
int virWorkerSandboxPrepareHelperFilter(int set);

/* In the spawn helper, once, before any worker: cut the bounding set to
 * @sb's capabilities and clear the ambient set, which every worker forked
 * from it inherits, so that none has to (where we hold CAP_SETPCAP;
 * without it, nothing to do: 0). The helper's own effective and permitted
 * sets are untouched (it never executes a program). -1 with errno on
 * failure: each worker then cuts them itself. Not thread-safe. */
int virWorkerSandboxPrepareCaps(const virProtoSandbox *sb);

/* In the spawn helper, once, before any worker: enter the workers' empty
 * root (a private mount namespace holding only a read-only /proc that
 * shows what its viewer may ptrace), so every worker forked afterwards
 * starts in it and mounts nothing itself. The helper needs no path after
 * its exec: everything reaches it as descriptors. Returns 0 (entered, or
 * nothing to do for this caller), or -1 with errno (workers then build
 * their own root, as before). */
int virWorkerSandboxPrepareRoot(void);

/* True while @pid is a live worker of the helper (its table), or a
 * process it keeps (a detached one's session leader). */
typedef bool (*virWorkerIsLiveFunc)(pid_t pid);

/*
 * In the spawn helper (a child subreaper), after a worker or an orphan was
 * reaped: SIGKILL every child of the helper that is neither a live worker
 * nor in a live worker's process group, nor in a kept process's session
 * (isLive says which pids count). Such a child is a descendant of
 * some job that left its job's group (setsid, setpgid) and was orphaned
 * onto us; when its job has ended, or when it escaped its group, it has
 * no business running. Killed children are reaped by the caller's normal
 * SIGCHLD path (their own orphans come to us in turn and are swept then).
 * Returns how many were signalled. Helper only; not thread-safe.
 */
int virWorkerSandboxSweep(virWorkerIsLiveFunc isLive);

/* Whether the sweep spares child @pid (it is, or is in the group of, or in
 * the session of, a pid @isLive accepts). Helper only. */
bool virWorkerSandboxSpared(pid_t pid, virWorkerIsLiveFunc isLive);

/* The helper's children (alive or zombie), up to @max, into @out. Helper
 * only; not thread-safe. */
size_t virWorkerSandboxChildren(pid_t *out, size_t max);
