/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qemu_driver.h: the qemu driver's entry points beyond its table, for the
 * public calls that are being added, the network driver and tests.
 * Library side only.
 */
#pragma once

#include "driver.h"
#include "drivers/qemu/qemu_conf.h"

extern const virConnectDriver qemuConnectDriver;

/* The worker profile of the taps op (qemu.domain.taps): CAP_NET_ADMIN and
 * netlink sockets, no file. Exported for the hostile-worker test. */
extern const virSupProfile qemuTapsProfile;

/* Set up a connection for @path ("/system", "/session"): configuration,
 * directories, persistent definitions, running guests found again (their
 * shims reconnected), the watcher thread, the job group. 0, or -1
 * reported. */
int qemuDriverOpen(virConnectPtr conn, const char *path, const qemuURIParams *params,
                   const virSupGroupConfig *group);
/* Stop watching and cancel the connection's jobs; the guests run on. */
void qemuDriverClose(virConnectPtr conn);
void qemuDriverFree(virConnectPtr conn);

/* Tests: wait until @dom is in @state (changes come from the watcher),
 * at most @timeout_ms; the reason too. 0, or -1 reported. */
int qemuDomainWaitState(virDomainPtr dom, int state, int timeout_ms, int *reason);

/* The connection's configuration (paths, QEMU's ids, KVM). */
const qemuConfig *qemuDriverConfig(virConnectPtr conn);

/* Tests: while @hold, every qemu driver's watcher thread waits before it
 * handles what woke it (a shim's event, a shim's end), so that a test can
 * show what is recorded without it. Release before closing a connection. */
void qemuTestHoldWatchers(bool hold);
/* Tests: while @off, connections opened do without inotify, as where it
 * is missing or past its limits. */
void qemuTestNoInotify(bool off);
/* Tests: how many times @dom's watcher has subscribed to its shim again
 * after its subscription ended while the guest ran (0 also for an
 * unknown domain). */
unsigned int qemuTestResubscribed(virDomainPtr dom);
