/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virdl.c: libraries loaded into tables of their calls (virdl.h).
 */
#include <dlfcn.h>
#include <stdio.h>

#include "util/virdl.h"

void *virDLLoad(const char *soname, const virDLSym *syms, size_t nsyms,
                char *why, size_t whylen)
{
    void *addr[VIR_DL_SYMS_MAX];
    void *lib;

    if (nsyms > VIR_DL_SYMS_MAX) {
        snprintf(why, whylen, "%s: too many symbols asked for (%zu)", soname, nsyms);
        return NULL;
    }
    if (!(lib = dlopen(soname, RTLD_NOW | RTLD_LOCAL))) {
        const char *e = dlerror();
        snprintf(why, whylen, "%s", e ? e : soname);
        return NULL;
    }
    for (size_t i = 0; i < nsyms; i++) {
        if (!(addr[i] = dlsym(lib, syms[i].name))) {
            snprintf(why, whylen, "%s has no %s", soname, syms[i].name);
            dlclose(lib);
            return NULL;
        }
    }
    for (size_t i = 0; i < nsyms; i++)
        *syms[i].slot = addr[i];
    return lib;
}
