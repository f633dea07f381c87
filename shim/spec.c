/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spec.c: reading the spec the starter wrote into a sealed memfd. The
 * starter is trusted (the library, as the same user or root), but the spec
 * is still checked like any input: sizes, terminated strings, counts.
 */
#include <sys/stat.h>

#include "shim/shim.h"

static const char *entryString(const uint8_t *data, uint32_t len, const char **err)
{
    if (len == 0 || data[len - 1] != '\0' || memchr(data, '\0', len) != data + len - 1) {
        *err = "a spec string is not one NUL-terminated string";
        return NULL;
    }
    return (const char *)data;
}

int shimSpecRead(int fd, shimSpec *spec, const char **err)
{
    struct stat st;
    size_t got = 0, pos;
    uint8_t *blob;

    memset(spec, 0, sizeof(*spec));
    if (fstat(fd, &st) < 0 || st.st_size < (off_t)sizeof(virShimSpecHeader) ||
        st.st_size > VIR_SHIM_SPEC_MAX) {
        *err = "the spec is missing or has a bad size";
        return -1;
    }
    if (!(blob = malloc((size_t)st.st_size))) {
        *err = "out of memory";
        return -1;
    }
    while (got < (size_t)st.st_size) {
        ssize_t n = pread(fd, blob + got, (size_t)st.st_size - got, (off_t)got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            free(blob);
            *err = "cannot read the spec";
            return -1;
        }
        got += (size_t)n;
    }
    spec->blob = blob;
    spec->size = got;
    memcpy(&spec->hdr, blob, sizeof(spec->hdr));
    if (spec->hdr.magic != VIR_SHIM_SPEC_MAGIC || spec->hdr.version != VIR_SHIM_PROTO_VERSION ||
        spec->hdr.size != got) {
        *err = "the spec has a bad magic, version or size (a different libvirtsup?)";
        goto error;
    }
    if (!memchr(spec->hdr.name, '\0', sizeof(spec->hdr.name)) ||
        !memchr(spec->hdr.crash_runstates, '\0', sizeof(spec->hdr.crash_runstates))) {
        *err = "a string of the spec header is not terminated";
        goto error;
    }
    pos = sizeof(virShimSpecHeader);
    for (uint32_t i = 0; i < spec->hdr.nentries; i++) {
        virShimSpecEntry e;
        const char *s, *t;
        if (pos + sizeof(e) > got) {
            *err = "the spec is truncated";
            goto error;
        }
        memcpy(&e, blob + pos, sizeof(e));
        pos += sizeof(e);
        if (e.len > got - pos) {
            *err = "a spec entry runs past its end";
            goto error;
        }
        const uint8_t *data = blob + pos;
        pos += (e.len + 7) & ~7u;
        switch (e.type) {
        case VIR_SHIM_ENTRY_ARG:
            if (!(s = entryString(data, e.len, err)))
                goto error;
            if (spec->nargv == SHIM_ARGS_MAX) {
                *err = "too many arguments in the spec";
                goto error;
            }
            spec->argv[spec->nargv++] = (char *)s;
            break;
        case VIR_SHIM_ENTRY_ENV:
            if (!(s = entryString(data, e.len, err)))
                goto error;
            if (spec->nenv == SHIM_ENV_MAX || !strchr(s, '=')) {
                *err = "too many or malformed environment entries in the spec";
                goto error;
            }
            spec->envp[spec->nenv++] = (char *)s;
            break;
        case VIR_SHIM_ENTRY_FD:
            if (spec->nfds == VIR_SHIM_CHILD_FDS_MAX || e.arg < 0 || e.arg > 1023) {
                *err = "too many or out of range descriptors in the spec";
                goto error;
            }
            for (size_t k = 0; k < spec->nfds; k++) {
                if (spec->childfd[k] == e.arg) {
                    *err = "two descriptors of the spec have the same number";
                    goto error;
                }
            }
            spec->childfd[spec->nfds++] = e.arg;
            break;
        case VIR_SHIM_ENTRY_MOUNT: {
            const char *end;
            if (e.len < 3 || data[e.len - 1] != '\0' ||
                !(end = memchr(data, '\0', e.len)) || end == (const char *)data + e.len - 1) {
                *err = "a mount entry of the spec is not SOURCE\\0TARGET\\0";
                goto error;
            }
            s = (const char *)data;
            t = end + 1;
            if (strlen(t) + 1 != e.len - (size_t)(t - s) || t[0] != '/' ||
                strstr(t, "/../") || strstr(t, "/./") || STREQ(t, "/")) {
                *err = "a mount target of the spec is not a clean absolute path";
                goto error;
            }
            if (e.arg < VIR_SHIM_MOUNT_BIND_RO || e.arg > VIR_SHIM_MOUNT_SYMLINK ||
                spec->nmounts == SHIM_MOUNTS_MAX) {
                *err = "a mount entry of the spec has a bad kind, or there are too many";
                goto error;
            }
            spec->mounts[spec->nmounts++] = (shimMount){ e.arg, s, t };
            break;
        }
        default:
            *err = "the spec has an entry of unknown type";
            goto error;
        }
    }
    if (pos != got) {
        *err = "the spec has bytes after its last entry";
        goto error;
    }
    if (spec->nargv == 0 || spec->argv[0][0] != '/') {
        *err = "the spec names no program, or not by an absolute path";
        goto error;
    }
    if ((spec->hdr.flags & VIR_SHIM_SPEC_QMP) &&
        (spec->hdr.qmp_fd < 3 || spec->hdr.qmp_fd > 1023)) {
        *err = "the spec's monitor descriptor number is out of range";
        goto error;
    }
    for (size_t k = 0; k < spec->nfds; k++) {
        if (spec->childfd[k] < 3 ||
            ((spec->hdr.flags & VIR_SHIM_SPEC_QMP) && spec->childfd[k] == spec->hdr.qmp_fd)) {
            *err = "a descriptor of the spec has a reserved number";
            goto error;
        }
    }
    if (spec->hdr.nclients > VIR_SHIM_CLIENTS_MAX) {
        *err = "the spec asks for too many pre-connected clients";
        goto error;
    }
    spec->argv[spec->nargv] = NULL;
    spec->envp[spec->nenv] = NULL;
    if (!spec->hdr.term_timeout_ms)
        spec->hdr.term_timeout_ms = 10000;
    if (!spec->hdr.qmp_timeout_ms)
        spec->hdr.qmp_timeout_ms = 30000;
    if (!spec->hdr.log_max)
        spec->hdr.log_max = 1024 * 1024;
    return 0;

 error:
    shimSpecFree(spec);
    return -1;
}

void shimSpecFree(shimSpec *spec)
{
    free(spec->blob);
    memset(spec, 0, sizeof(*spec));
}
