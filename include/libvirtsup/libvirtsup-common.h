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

/**
 * virTypedParamsFree:
 * @params: an array returned by the library (NULL accepted)
 * @nparams: its length
 *
 * Frees the strings it holds and the array. Since: 0.1.0
 */
void virTypedParamsFree(virTypedParameterPtr params, int nparams);

/**
 * virTypedParamsGetULLong / virTypedParamsGetString:
 *
 * Look a field up by name. Returns 1 and sets *value when found with the
 * right type, 0 when absent, -1 on a bad argument or a type mismatch.
 * *value of a string points into @params. Since: 0.1.0
 */
int virTypedParamsGetULLong(virTypedParameterPtr params, int nparams,
                            const char *name, unsigned long long *value);
int virTypedParamsGetString(virTypedParameterPtr params, int nparams,
                            const char *name, const char **value);

/**
 * virGetVersion:
 * @libVer: set to LIBVIRTSUP_VERSION_NUMBER of the running library
 * Returns 0, or -1 if @libVer is NULL. Since: 0.1.0
 */
int virGetVersion(unsigned long *libVer);

#ifdef __cplusplus
}
#endif
