/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libvirtsup.h: the one header applications include.
 *
 * libvirtsup runs long, risky virtual-machine operations (create, save,
 * restore, dump core, network create) as supervised jobs, each in its own
 * isolated worker process. See libvirtsup(3).
 */
#pragma once

#include "libvirtsup/libvirtsup-common.h"
#include "libvirtsup/virterror.h"
#include "libvirtsup/libvirtsup-event.h"
#include "libvirtsup/libvirtsup-host.h"
#include "libvirtsup/libvirtsup-domain.h"
#include "libvirtsup/libvirtsup-network.h"
#include "libvirtsup/libvirtsup-job.h"
