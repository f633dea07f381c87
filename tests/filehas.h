/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * filehas.h: whether a file (a guest's console log, written as the guest
 * runs) holds a text yet. Shared by the tests with a real guest
 * (qemuguest.h) and bench/qemu-save-bench.c. Reads the whole file in
 * pieces, so a marker far into a long log is found too.
 */
#pragma once

#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

static inline bool fileHas(const char *path, const char *needle)
{
    char buf[65536];
    size_t keep = 0, nlen = strlen(needle);
    bool found = false;
    int fd;

    if (nlen == 0 || nlen > sizeof(buf) / 2 || (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return false;
    for (;;) {
        ssize_t n = read(fd, buf + keep, sizeof(buf) - keep);
        if (n <= 0)
            break;
        size_t len = keep + (size_t)n;
        if (memmem(buf, len, needle, nlen)) {
            found = true;
            break;
        }
        /* The needle may straddle two reads: keep its length less one. */
        keep = nlen - 1 < len ? nlen - 1 : len;
        memmove(buf, buf + len - keep, keep);
    }
    close(fd);
    return found;
}
