/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * uri.h: connection URIs ("test:///default?bandwidth=64&grace=2000").
 *
 * Library-only. The parser knows nothing of drivers: it splits the URI
 * into scheme, path and query parameters (percent-decoded), and
 * virURIToConfig turns the generic query parameters of libvirtsup-host.h
 * into a supervisor group configuration.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "supervisor/supervisor.h"

#define VIR_URI_MAX 4096          /* bytes of a URI accepted */
#define VIR_URI_PARAMS_MAX 32

typedef struct virURIParam {
    char *name;
    char *value;
} virURIParam;

typedef struct virURI {
    char *scheme;                 /* "test" */
    char *path;                   /* "/default", "/etc/node.xml"; decoded */
    size_t nparams;
    virURIParam params[VIR_URI_PARAMS_MAX];
} virURI;

/* Connection settings common to every driver, from the query. */
typedef struct virConnectConfig {
    virSupGroupConfig group;      /* handed to virSupGroupNew */
    uint64_t bandwidth_bps;       /* ?bandwidth= in MiB/s, as bytes/s; 0: none */
} virConnectConfig;

/* Parse @str. Returns a new URI (free with virURIFree) or NULL with
 * VIR_ERR_INVALID_ARG reported. Thread-safe. */
virURI *virURIParse(const char *str);
void virURIFree(virURI *uri);

/* Fill @cfg from the query parameters of @uri. Unknown parameters, bad
 * numbers and worker_user when not root are errors (-1, reported). */
int virURIToConfig(const virURI *uri, virConnectConfig *cfg);
