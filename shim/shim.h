/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * shim.h: the pieces of virtsup-shim (see README.md and docs/SHIM.md).
 * Single-threaded; private to shim/.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/internal.h"
#include "util/shimproto.h"

#define SHIM_ARGS_MAX   512
#define SHIM_ENV_MAX    64
#define SHIM_MOUNTS_MAX 64

typedef struct shimMount {
    int kind;                  /* virShimMountKind */
    const char *source;
    const char *target;
} shimMount;

/* The spec, checked; strings point into @blob. */
typedef struct shimSpec {
    void *blob;
    size_t size;
    virShimSpecHeader hdr;
    char *argv[SHIM_ARGS_MAX + 1];
    size_t nargv;
    char *envp[SHIM_ENV_MAX + 1];
    size_t nenv;
    int childfd[VIR_SHIM_CHILD_FDS_MAX];  /* child's number of fd 6 + i */
    size_t nfds;
    shimMount mounts[SHIM_MOUNTS_MAX];
    size_t nmounts;
} shimSpec;

/* spec.c: read and check the spec from @fd. Returns 0, or -1 with @err
 * (a static English reason). */
int shimSpecRead(int fd, shimSpec *spec, const char **err);
void shimSpecFree(shimSpec *spec);

/* launch.c: in the forked child; never returns. Failures are written to
 * @errfd as a shimLaunchError and end the child with status 127. */
typedef struct shimLaunchError {
    int32_t err;
    char step[200];
} shimLaunchError;

typedef struct shimLaunch {
    const shimSpec *spec;
    const char *statedir;     /* an existing directory to build the root on */
    int errfd;                /* CLOEXEC pipe to the shim */
    int outfd;                /* the child's stdout and stderr */
    int qmpfd;                /* the child's end of the monitor, or -1 */
    pid_t shimpid;
} shimLaunch;

void shimLaunchChild(const shimLaunch *l) __attribute__((noreturn));
