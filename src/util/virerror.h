/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virerror.h: reporting errors inside libvirtsup (libvirt's model).
 *
 * A function that fails reports once, at the place that knows why, and
 * returns -1/NULL; callers pass the failure up without reporting again.
 * Used by the library, the worker and the tools alike.
 */
#pragma once

#include <stdarg.h>

#include "libvirtsup/virterror.h"
#include "util/internal.h"

#ifndef VIR_FROM_THIS
# define VIR_FROM_THIS VIR_FROM_NONE
#endif

void virReportErrorFull(int domain, int code, int sys_errno,
                        const char *fmt, ...) ATTRIBUTE_FMT_PRINTF(4, 5);

/* virReportError(VIR_ERR_INVALID_ARG, "%s", "path must be absolute"); */
#define virReportError(code, ...) \
    virReportErrorFull(VIR_FROM_THIS, (code), 0, __VA_ARGS__)
/* The message gets ": <strerror(errnum)>" appended and int1 = errnum. */
#define virReportSystemError(errnum, ...) \
    virReportErrorFull(VIR_FROM_THIS, VIR_ERR_SYSTEM_ERROR, (errnum), __VA_ARGS__)
#define virReportOOMError() \
    virReportErrorFull(VIR_FROM_THIS, VIR_ERR_NO_MEMORY, 0, "%s", \
                       "out of memory")

/* Save and restore the last error around cleanup code that may fail
 * (virSaveLastError and virFreeError are public). Restoring calls no
 * handler: the error was dispatched when it was raised. */
void virRestoreLastError(virErrorPtr *saved);

/* Threads the library starts call this first: errors raised there (a
 * job's commit, for instance) go to no handler and are never printed. */
void virErrorSetThreadInternal(void);

/* While quiet, errors this thread raises become its last error but go to
 * no handler: for internal calls whose failure the caller expects and
 * handles (a probe of a file that may be missing). Returns the previous
 * setting, to restore. */
bool virErrorSetQuiet(bool quiet);

/* How errors find their connection (set once by src/connect.c): a public
 * call names the connection it works on with virErrorSetCurrentConn (its
 * handle check does it); virResetLastError forgets it. An error raised
 * then is recorded as the connection's last error and goes to its handler
 * if it has one. virErrorForgetConn is called when a connection is freed. */
typedef struct virErrorConnHooks {
    void (*record)(void *conn, const virError *err);
    void (*handler)(void *conn, virErrorFunc *func, void **data);
} virErrorConnHooks;
void virErrorSetConnHooks(const virErrorConnHooks *hooks);
void virErrorSetCurrentConn(void *conn);
void virErrorForgetConn(void *conn);
/* Fork handlers (called by the supervisor's, supervisor.c): the handler
 * lock is held across fork(); the child forgets the forking thread's
 * current connection (it belongs to the parent). */
void virErrorForkPrepare(void);
void virErrorForkParent(void);
void virErrorForkChild(void);

/* Deep copy of an error (for keeping a job's error); NULL on OOM. */
virErrorPtr virErrorCopyNew(int domain, int code, int int1, const char *message);

/* Public entry points call this first. */
#define virResetLastErrorInternal() virResetLastError()

/* Reject unknown flag bits, libvirt's virCheckFlags. */
#define virCheckFlags(supported, retval) \
    do { \
        unsigned long long unknown_ = (unsigned long long)(flags) & \
                                      ~(unsigned long long)(supported); \
        if (unknown_) { \
            virReportErrorFull(VIR_FROM_THIS, VIR_ERR_INVALID_ARG, 0, \
                               "unsupported flags (0x%llx) in function %s", \
                               unknown_, __func__); \
            return retval; \
        } \
    } while (0)

#define virCheckNonNullArg(arg, retval) \
    do { \
        if (!(arg)) { \
            virReportErrorFull(VIR_FROM_THIS, VIR_ERR_INVALID_ARG, 0, \
                               "%s in %s must not be NULL", \
                               #arg, __func__); \
            return retval; \
        } \
    } while (0)
