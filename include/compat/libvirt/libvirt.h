/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libvirt/libvirt.h for libvirt clients built against libvirtsup.
 *
 * Installed as $(includedir)/libvirtsup/compat/libvirt/libvirt.h, never in
 * the place of libvirt's own headers: `pkg-config --cflags libvirtsup-compat`
 * puts that directory first on the include path, so a client's
 * `#include <libvirt/libvirt.h>` finds this file even where libvirt's
 * development files are installed too, and `--libs` links libvirtsup.
 *
 * What is here is libvirtsup's API (see libvirtsup(3)): libvirt's calls,
 * types and constants where libvirtsup has them, with libvirt 9's values
 * and layouts, plus the asynchronous virJob* calls. A call libvirtsup
 * does not have fails to compile: nothing is declared that is not
 * implemented. LIBVIR_VERSION_NUMBER and LIBVIR_CHECK_VERSION are not
 * defined: libvirtsup follows no one libvirt release in full, and a client
 * that tests them should be told so at compile time.
 */
#pragma once

/* Tells a client which library it is being built against. */
#define LIBVIRTSUP_COMPAT 1

#include <libvirtsup/libvirtsup.h>
