/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * benchqmp.h: the raw-QEMU baselines' side of QMP on a pipe (QEMU run with
 * -qmp stdio by a benchmark): send a command, wait for a line. Shared by
 * qemu-start-bench and qemu-save-bench. Exits the benchmark on a stall
 * (30 s) or when QEMU closes its monitor.
 */
#pragma once

#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "benchutil.h"

/* Read QMP lines from @fd until one contains @want; that line in @line
 * when given (truncated to @linelen). @fd -1: forget what the last QEMU
 * left unread (call before each new QEMU). */
static inline void benchQMPWait(int fd, const char *want, char *line, size_t linelen)
{
    static char buf[65536];
    static size_t len;

    if (fd < 0) {
        len = 0;
        return;
    }
    for (;;) {
        char *nl;
        while ((nl = memchr(buf, '\n', len))) {
            *nl = '\0';
            bool found = strstr(buf, want) != NULL;
            if (found && line && linelen) {
                size_t l = strlen(buf) < linelen - 1 ? strlen(buf) : linelen - 1;
                memcpy(line, buf, l);
                line[l] = '\0';
            }
            size_t used = (size_t)(nl - buf) + 1;
            memmove(buf, nl + 1, len - used);
            len -= used;
            if (found)
                return;
        }
        struct pollfd p = { fd, POLLIN, 0 };
        if (poll(&p, 1, 30000) <= 0)
            benchDie("raw QEMU: no answer on QMP within 30 s");
        ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
        if (n <= 0)
            benchDie("raw QEMU: QEMU closed its monitor");
        len += (size_t)n;
    }
}

static inline void benchQMPSend(int fd, const char *json)
{
    size_t len = strlen(json);
    if (write(fd, json, len) != (ssize_t)len)
        benchDie("raw QEMU: cannot write to QMP");
}
