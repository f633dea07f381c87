/*
 * virterror.h: errors, in libvirt's model.
 *
 * Every public call returns -1 or NULL on failure and leaves a thread-local
 * "last error" that virGetLastError() returns. A job's own error is kept on
 * the job (virJobGetError). Codes, domains and the virError layout are those
 * of libvirt where libvirt has them, so code written for libvirt compiles.
 */
#pragma once

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    VIR_ERR_NONE = 0,
    VIR_ERR_WARNING = 1,
    VIR_ERR_ERROR = 2,
} virErrorLevel;

/* Where an error came from (libvirt's values; VIR_FROM_JOB is ours). */
typedef enum {
    VIR_FROM_NONE = 0,
    VIR_FROM_XML = 5,
    VIR_FROM_DOM = 6,
    VIR_FROM_RPC = 7,
    VIR_FROM_CONF = 9,
    VIR_FROM_QEMU = 10,
    VIR_FROM_NET = 11,
    VIR_FROM_TEST = 12,
    VIR_FROM_NETWORK = 19,
    VIR_FROM_DOMAIN = 20,
    VIR_FROM_SECURITY = 24,
    VIR_FROM_URI = 45,
    VIR_FROM_THREAD = 61,
    VIR_FROM_JOB = 1000,     /* the job supervisor and its workers */
    VIR_FROM_SHM = 1001,     /* the status segment */
} virErrorDomain;

/* Error codes (libvirt's values; the VIR_ERR_*JOB* ones are ours). */
typedef enum {
    VIR_ERR_OK = 0,
    VIR_ERR_INTERNAL_ERROR = 1,
    VIR_ERR_NO_MEMORY = 2,
    VIR_ERR_NO_SUPPORT = 3,
    VIR_ERR_NO_CONNECT = 5,
    VIR_ERR_INVALID_CONN = 6,
    VIR_ERR_INVALID_DOMAIN = 7,
    VIR_ERR_INVALID_ARG = 8,
    VIR_ERR_OPERATION_FAILED = 9,
    VIR_ERR_XML_ERROR = 27,
    VIR_ERR_DOM_EXIST = 28,
    VIR_ERR_OPERATION_DENIED = 29,
    VIR_ERR_OPEN_FAILED = 30,
    VIR_ERR_READ_FAILED = 31,
    VIR_ERR_PARSE_FAILED = 32,
    VIR_ERR_WRITE_FAILED = 34,
    VIR_ERR_XML_DETAIL = 35,
    VIR_ERR_INVALID_NETWORK = 36,
    VIR_ERR_NETWORK_EXIST = 37,
    VIR_ERR_SYSTEM_ERROR = 38,
    VIR_ERR_NO_DOMAIN = 42,
    VIR_ERR_NO_NETWORK = 43,
    VIR_ERR_OPERATION_INVALID = 55,
    VIR_ERR_CONFIG_UNSUPPORTED = 67,
    VIR_ERR_OPERATION_TIMEOUT = 68,
    VIR_ERR_ARGUMENT_UNSUPPORTED = 74,
    VIR_ERR_OPERATION_ABORTED = 78,
    VIR_ERR_OVERFLOW = 82,
    VIR_ERR_OPERATION_UNSUPPORTED = 84,
    VIR_ERR_RESOURCE_BUSY = 87,
    VIR_ERR_ACCESS_DENIED = 88,
    VIR_ERR_INVALID_JOB = 1000,    /* NULL, destroyed or foreign virJobPtr */
    VIR_ERR_JOB_CRASHED = 1001,    /* the worker died of a signal */
    VIR_ERR_JOB_NO_REPORT = 1002,  /* the worker exited without reporting */
    VIR_ERR_JOB_ACTIVE = 1003,     /* the object already has an async job */
} virErrorNumber;

/* libvirt's layout, field for field. */
typedef struct _virError {
    int code;            /* virErrorNumber */
    int domain;          /* virErrorDomain */
    char *message;       /* English, for operators; never NULL when code != 0 */
    virErrorLevel level;
    void *conn;          /* unused, always NULL (deprecated in libvirt too) */
    void *dom;           /* unused, always NULL */
    char *str1;          /* extra information, may be NULL */
    char *str2;
    char *str3;
    int int1;            /* for system errors: the errno value */
    int int2;
    void *net;           /* unused, always NULL */
} virError;
typedef virError *virErrorPtr;

/**
 * virGetLastError:
 *
 * The last error of a public call made by this thread.
 * Returns: a pointer owned by the library, valid until the thread's next
 * libvirtsup call; NULL when the last call succeeded.
 * Thread-safety: per-thread; safe from any thread.
 * Since: 0.1.0
 */
virErrorPtr virGetLastError(void);

/**
 * virResetLastError:
 *
 * Forgets this thread's last error. Every public call does it on entry.
 * Thread-safety: per-thread. Since: 0.1.0
 */
void virResetLastError(void);

/**
 * virCopyLastError:
 * @to: where to copy this thread's last error; the caller owns the copied
 *      strings and frees them with virResetError().
 *
 * Returns: the error code copied (0 when there is no error), -1 on a bad
 * argument. Thread-safety: per-thread. Since: 0.1.0
 */
int virCopyLastError(virErrorPtr to);

/**
 * virResetError:
 * @err: an error filled by virCopyLastError(); its strings are freed and
 *       it is zeroed. NULL is accepted.
 * Since: 0.1.0
 */
void virResetError(virErrorPtr err);

/**
 * virGetLastErrorMessage:
 *
 * Returns: this thread's last error message, or "no error"; never NULL.
 * The string is owned by the library and valid until the next call.
 * Since: 0.1.0
 */
const char *virGetLastErrorMessage(void);

#ifdef __cplusplus
}
#endif
