/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qemu-worker.h: the qemu driver's worker half (virtsup-worker only; unit
 * tests call these directly).
 */
#pragma once

#include "drivers/qemu/qemu-proto.h"
#include "worker/job.h"

/* qemu-xml-worker.c: parse domain XML (@len bytes) into a new definition
 * block (*@out, caller frees; its size is (*out)->size). Returns 0, or -1
 * with the error reported (VIR_ERR_XML_ERROR, VIR_ERR_CONFIG_UNSUPPORTED). */
int qemuDomainParseXML(const char *xml, size_t len, qemuDomainDef **out);

/* qemu-start-worker.c: follow the start of a guest through its shim (@fd,
 * a connection to it) up to the running state: subscribe, wait for the
 * monitor, `cont`, wait for the run state "running". Progress and phases
 * go to @job. On cancel the shim is told to stop QEMU. Returns 0, -1 with
 * the error reported (QEMU's own message when it exited), or
 * VIR_WORKER_IO_CANCELLED-style -2 when it stopped on cancel. With
 * !@resume it returns once the monitor is ready (QEMU still stopped: a
 * restore feeds it first). */
int qemuStartFollow(virWorkerJobPtr job, int fd, const qemuStartParams *p, bool resume);
