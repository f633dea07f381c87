/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libvirt/virterror.h for libvirt clients built against libvirtsup: the
 * errors of libvirtsup/virterror.h (libvirt's codes, domains and virError
 * layout). See libvirt/libvirt.h beside this file.
 */
#pragma once

#ifndef LIBVIRTSUP_COMPAT
# define LIBVIRTSUP_COMPAT 1
#endif

#include <libvirtsup/libvirtsup.h>
