/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virdl.h: a library loaded with dlopen into a table of its calls, all or
 * nothing: how the spawn helpers load the libraries their profile names
 * (docs/WORKER.md, "Libraries loaded per sandbox"), and a test that runs
 * such a library's code in-process. Not thread-safe: called once, in the
 * helper, before it starts any thread or worker.
 */
#pragma once

#include <stddef.h>

typedef struct virDLSym {
    const char *name;   /* "xmlFreeDoc" */
    void **slot;        /* where its address goes: (void **)&table.freeDoc */
} virDLSym;

/* dlopen @soname (RTLD_NOW | RTLD_LOCAL) and resolve every one of @syms.
 * Returns the handle with every slot written, or NULL with no slot
 * written, the library closed and why (dlerror's words, or the missing
 * symbol) in @why. At most VIR_DL_SYMS_MAX symbols. */
#define VIR_DL_SYMS_MAX 32
void *virDLLoad(const char *soname, const virDLSym *syms, size_t nsyms,
                char *why, size_t whylen);
