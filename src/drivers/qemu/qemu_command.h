/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qemu_command.h: from a checked definition to what the guest's shim
 * starts: QEMU's command line, the descriptors it gets (disk images,
 * serial files and sockets opened here, with the caller's authority), and
 * its private root (only the paths the definition names). Library side.
 */
#pragma once

#include "drivers/qemu/qemu_conf.h"
#include "util/virshim.h"

/* The descriptor number QEMU gets its monitor on. */
#define QEMU_MONITOR_FD 3

/* Whether @def can run here at all (domain type, CPU mode, buses for the
 * machine, interfaces): 0, or -1 with VIR_ERR_CONFIG_UNSUPPORTED naming
 * what cannot be given. Checked at define time and again at start. */
int qemuDomainDefSupported(const qemuConfig *cfg, const qemuDomainDef *def);

/* Build the shim's spec for starting @def with its state in @runDir.
 * Opens the files QEMU may use (the spec keeps duplicates), creates the
 * listening sockets of unix serial ports and channels. A file that cannot
 * be opened here is handed to QEMU by path, so that QEMU's own message says
 * why it cannot have it. Returns the spec, or NULL with an error reported
 * (nothing left open). @incoming: QEMU waits for a migration stream
 * (-incoming defer; a restore gives it one with migrate-incoming). */
virShimSpecBuf *qemuBuildLaunch(const qemuConfig *cfg, const qemuDomainDef *def,
                                const char *runDir, bool incoming);

/* The same for a definition with <interface type='network'|'bridge'>:
 * @tapfds[i] is the tap of interface i (made by qemuTapsPrepare; -1 for
 * the other types). The spec keeps duplicates; the caller still closes
 * its own. qemuBuildLaunch is this with no taps (such an interface then
 * fails). */
virShimSpecBuf *qemuBuildLaunchTaps(const qemuConfig *cfg, const qemuDomainDef *def,
                                    const char *runDir, bool incoming,
                                    const int *tapfds);

/* The taps of @def's <interface type='network'|'bridge'> (qemu_driver.c):
 * for each such interface i, the bridge (the active network's, named in
 * errors; or the one named, which must exist), a descriptor of
 * /dev/net/tun opened here, made a tap on the bridge with the guest's MAC
 * by a job whose worker holds CAP_NET_ADMIN only, then checked here (its
 * name, its master, up). @tapfds (QEMU_NETS_MAX) gets the descriptors (-1
 * for other interfaces). Returns 0, or -1 with an error and nothing left
 * (every tap is gone with its descriptor). Not as root: refused
 * (VIR_ERR_CONFIG_UNSUPPORTED). Waits for the job: not on a commit thread. */
int qemuTapsPrepare(virConnectPtr conn, const qemuDomainDef *def, int *tapfds);
/* Close @tapfds (QEMU_NETS_MAX): a tap QEMU does not hold is removed. */
void qemuTapsClose(int *tapfds);
