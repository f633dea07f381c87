/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * uri.h: connection URIs ("test:///default?bandwidth=64&grace=2000").
 *
 * Library-only. The parser knows nothing of drivers: it splits the URI
 * into scheme, path and query parameters (percent-decoded), and
 * virURIToConfig turns the query parameters common to every driver
 * (libvirtsup-host.h: grace, max_workers, stall, stall_cancel,
 * worker_user, rlimit_*) into a supervisor group configuration. A driver
 * owns its other parameters: it names them in its table (uriParams) and
 * reads them in connectOpen with virURIGetParam / virURIGetNumber.
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
} virConnectConfig;

/* Parse @str. Returns a new URI (free with virURIFree) or NULL with
 * VIR_ERR_INVALID_ARG reported. Thread-safe. */
virURI *virURIParse(const char *str);
void virURIFree(virURI *uri);

/* The query parameters every driver takes, parsed here (NULL-terminated). */
extern const char *const virURICommonParams[];

/* Fill @cfg from the common query parameters of @uri. Any other parameter
 * must be named in @driverParams (the driver's own, NULL-terminated; NULL
 * for none), else it is an error naming it and listing those known. Bad
 * numbers and worker_user when not root are errors too. Returns 0, or -1
 * with VIR_ERR_INVALID_ARG (VIR_ERR_OPERATION_DENIED for worker_user)
 * reported. Thread-safe. */
int virURIToConfig(const virURI *uri, const char *const *driverParams,
                   virConnectConfig *cfg);

/* For drivers: the (decoded) value of query parameter @name, or NULL when
 * the URI has none. Borrowed from @uri. */
const char *virURIGetParam(const virURI *uri, const char *name);
/* For drivers: parameter @name as a decimal number from 0 to @max. Returns
 * 1 with *@out set, 0 when the URI has no such parameter (*@out
 * untouched), or -1 with VIR_ERR_INVALID_ARG reported naming the
 * parameter and its value. */
int virURIGetNumber(const virURI *uri, const char *name, unsigned long long max,
                    unsigned long long *out);
