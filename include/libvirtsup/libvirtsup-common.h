/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libvirtsup-common.h: types shared by every area of the API.
 */
#pragma once

#ifdef __cplusplus
extern "C" {
#endif

#define LIBVIRTSUP_VERSION_NUMBER 1000 /* major * 1,000,000 + minor * 1,000 + micro */

/* Opaque handles. Each is reference counted and carries a magic number, so
 * a stale or foreign pointer gets VIR_ERR_INVALID_* instead of a crash
 * (as long as its memory has not been reused). */
typedef struct _virConnect *virConnectPtr;
typedef struct _virDomain *virDomainPtr;
typedef struct _virNetwork *virNetworkPtr;
typedef struct _virJob *virJobPtr;

/* Called on an opaque pointer the library no longer needs (libvirt's). */
typedef void (*virFreeCallback)(void *opaque);

#define VIR_UUID_BUFLEN 16
#define VIR_UUID_STRING_BUFLEN 37

/* libvirt's typed parameters. */
#define VIR_TYPED_PARAM_FIELD_LENGTH 80
typedef enum {
    VIR_TYPED_PARAM_INT = 1,
    VIR_TYPED_PARAM_UINT = 2,
    VIR_TYPED_PARAM_LLONG = 3,
    VIR_TYPED_PARAM_ULLONG = 4,
    VIR_TYPED_PARAM_DOUBLE = 5,
    VIR_TYPED_PARAM_BOOLEAN = 6,
    VIR_TYPED_PARAM_STRING = 7,
} virTypedParameterType;

typedef struct _virTypedParameter {
    char field[VIR_TYPED_PARAM_FIELD_LENGTH];
    int type;  /* virTypedParameterType */
    union {
        int i;
        unsigned int ui;
        long long int l;
        unsigned long long int ul;
        double d;
        char b;
        char *s;
    } value;
} virTypedParameter;
typedef virTypedParameter *virTypedParameterPtr;

/* libvirt's flag telling a call that the caller understands string
 * parameters; accepted where libvirt accepts it. */
typedef enum {
    VIR_TYPED_PARAM_STRING_OKAY = 1 << 2,
} virTypedParameterFlags;

/**
 * virTypedParamsFree:
 * @params: an array returned by the library or built with
 *          virTypedParamsAdd* (NULL accepted)
 * @nparams: its length
 *
 * Frees the strings it holds and the array. Since: 0.1.0
 */
void virTypedParamsFree(virTypedParameterPtr params, int nparams);

/**
 * virTypedParamsClear:
 *
 * Frees the strings @params holds (and sets those fields to NULL), not
 * the array itself. NULL accepted. Since: 0.1.0
 */
void virTypedParamsClear(virTypedParameterPtr params, int nparams);

/**
 * virTypedParamsGet:
 *
 * Returns the first parameter named @name, a pointer into @params, or
 * NULL when there is none (no error is reported then). Since: 0.1.0
 */
virTypedParameterPtr virTypedParamsGet(virTypedParameterPtr params, int nparams,
                                       const char *name);

/**
 * virTypedParamsGetInt / UInt / LLong / ULLong / Double / Boolean / String:
 *
 * Look a field up by name (the first one of that name). Return 1 and set
 * *value when found with the right type (a boolean is 0 or 1; a string
 * points into @params), 0 when absent (also for a NULL @name, as libvirt),
 * -1 with VIR_ERR_INVALID_ARG on a NULL @value, a negative @nparams or a
 * field of another type; *value is untouched unless 1 is returned.
 * Thread-safety: reentrant. Since: 0.1.0
 */
int virTypedParamsGetInt(virTypedParameterPtr params, int nparams,
                         const char *name, int *value);
int virTypedParamsGetUInt(virTypedParameterPtr params, int nparams,
                          const char *name, unsigned int *value);
int virTypedParamsGetLLong(virTypedParameterPtr params, int nparams,
                           const char *name, long long *value);
int virTypedParamsGetULLong(virTypedParameterPtr params, int nparams,
                            const char *name, unsigned long long *value);
int virTypedParamsGetDouble(virTypedParameterPtr params, int nparams,
                            const char *name, double *value);
int virTypedParamsGetBoolean(virTypedParameterPtr params, int nparams,
                             const char *name, int *value);
int virTypedParamsGetString(virTypedParameterPtr params, int nparams,
                            const char *name, const char **value);

/**
 * virTypedParamsAddInt / UInt / LLong / ULLong / Double / Boolean / String:
 * @params: the array, grown as needed (*params may be NULL at first)
 * @nparams: its length, incremented on success
 * @maxparams: its allocated length, updated when it grows
 * @name: the field (at most VIR_TYPED_PARAM_FIELD_LENGTH - 1 bytes)
 * @value: the value; a string is copied
 *
 * Append a field (a name already there is appended again, as libvirt 9
 * does). Free the array with virTypedParamsFree(). Returns 0, or -1:
 * VIR_ERR_INVALID_ARG (NULL arguments), VIR_ERR_INTERNAL_ERROR (name too
 * long), VIR_ERR_NO_MEMORY; the array is unchanged then. Since: 0.1.0
 */
int virTypedParamsAddInt(virTypedParameterPtr *params, int *nparams,
                         int *maxparams, const char *name, int value);
int virTypedParamsAddUInt(virTypedParameterPtr *params, int *nparams,
                          int *maxparams, const char *name, unsigned int value);
int virTypedParamsAddLLong(virTypedParameterPtr *params, int *nparams,
                           int *maxparams, const char *name, long long value);
int virTypedParamsAddULLong(virTypedParameterPtr *params, int *nparams,
                            int *maxparams, const char *name,
                            unsigned long long value);
int virTypedParamsAddDouble(virTypedParameterPtr *params, int *nparams,
                            int *maxparams, const char *name, double value);
int virTypedParamsAddBoolean(virTypedParameterPtr *params, int *nparams,
                             int *maxparams, const char *name, int value);
int virTypedParamsAddString(virTypedParameterPtr *params, int *nparams,
                            int *maxparams, const char *name, const char *value);

/**
 * virGetVersion:
 * @libVer: set to the running library's version, major * 1,000,000 +
 *          minor * 1,000 + micro (LIBVIRTSUP_VERSION_NUMBER)
 * @type: a driver name; ignored, as in libvirt 9
 * @typeVer: if not NULL, set to the same number (libvirt 9 does the same)
 *
 * libvirt's signature and behaviour. Returns 0, or -1 with
 * VIR_ERR_INVALID_ARG when @libVer is NULL. Since: 0.1.0
 */
int virGetVersion(unsigned long *libVer, const char *type, unsigned long *typeVer);

#ifdef __cplusplus
}
#endif
