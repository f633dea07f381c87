/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * typedparams.c: libvirt's typed parameters, and virGetVersion.
 *
 * Return conventions are libvirt 9's, measured against its library: a Get
 * of an absent field (or of a NULL name) is 0 with no error, a field of
 * another type is -1 VIR_ERR_INVALID_ARG, an Add of a name already present
 * appends it again, a name too long is VIR_ERR_INTERNAL_ERROR.
 */
#include <stdio.h>

#define VIR_FROM_THIS VIR_FROM_NONE
#include "libvirtsup/libvirtsup.h"
#include "util/viralloc.h"
#include "util/virerror.h"

VIR_EXPORT void virTypedParamsClear(virTypedParameterPtr params, int nparams)
{
    if (!params)
        return;
    for (int i = 0; i < nparams; i++) {
        if (params[i].type == VIR_TYPED_PARAM_STRING) {
            free(params[i].value.s);
            params[i].value.s = NULL;
        }
    }
}

VIR_EXPORT void virTypedParamsFree(virTypedParameterPtr params, int nparams)
{
    virTypedParamsClear(params, nparams);
    free(params);
}

static virTypedParameterPtr find(virTypedParameterPtr params, int nparams,
                                 const char *name)
{
    if (!params || !name)
        return NULL;
    for (int i = 0; i < nparams; i++)
        if (strncmp(params[i].field, name, VIR_TYPED_PARAM_FIELD_LENGTH) == 0)
            return &params[i];
    return NULL;
}

VIR_EXPORT virTypedParameterPtr virTypedParamsGet(virTypedParameterPtr params,
                                                  int nparams, const char *name)
{
    virResetLastError();
    return find(params, nparams, name);
}

static const char *typeName(int type)
{
    static const char *const names[] = {
        [VIR_TYPED_PARAM_INT] = "int", [VIR_TYPED_PARAM_UINT] = "uint",
        [VIR_TYPED_PARAM_LLONG] = "llong", [VIR_TYPED_PARAM_ULLONG] = "ullong",
        [VIR_TYPED_PARAM_DOUBLE] = "double", [VIR_TYPED_PARAM_BOOLEAN] = "boolean",
        [VIR_TYPED_PARAM_STRING] = "string",
    };
    return type > 0 && (size_t)type < ARRAY_CARDINALITY(names) ? names[type] : "unknown";
}

/* The field @name of @type for a Get call: 1 found (*out set), 0 absent,
 * -1 on an error (reported). */
static int lookup(const char *func, virTypedParameterPtr params, int nparams,
                  const char *name, const void *value, int type,
                  virTypedParameterPtr *out)
{
    virResetLastError();
    if (!value) {
        virReportError(VIR_ERR_INVALID_ARG, "value in %s must not be NULL", func);
        return -1;
    }
    if (nparams < 0 || (!params && nparams)) {
        virReportError(VIR_ERR_INVALID_ARG, "invalid parameter array in %s "
                       "(%d elements)", func, nparams);
        return -1;
    }
    if (!(*out = find(params, nparams, name)))
        return 0;
    if ((*out)->type != type) {
        virReportError(VIR_ERR_INVALID_ARG, "invalid type '%s' requested for "
                       "parameter '%s', actual type is '%s'", typeName(type), name,
                       typeName((*out)->type));
        return -1;
    }
    return 1;
}

#define GETTER(Name, T, TYPE, member) \
    VIR_EXPORT int virTypedParamsGet##Name(virTypedParameterPtr params, int nparams, \
                                           const char *name, T *value) \
    { \
        virTypedParameterPtr p; \
        int rc = lookup(__func__, params, nparams, name, value, TYPE, &p); \
        if (rc == 1) \
            *value = p->value.member; \
        return rc; \
    }

GETTER(Int, int, VIR_TYPED_PARAM_INT, i)
GETTER(UInt, unsigned int, VIR_TYPED_PARAM_UINT, ui)
GETTER(LLong, long long, VIR_TYPED_PARAM_LLONG, l)
GETTER(ULLong, unsigned long long, VIR_TYPED_PARAM_ULLONG, ul)
GETTER(Double, double, VIR_TYPED_PARAM_DOUBLE, d)
GETTER(String, const char *, VIR_TYPED_PARAM_STRING, s)
#undef GETTER

VIR_EXPORT int virTypedParamsGetBoolean(virTypedParameterPtr params, int nparams,
                                        const char *name, int *value)
{
    virTypedParameterPtr p;
    int rc = lookup(__func__, params, nparams, name, value, VIR_TYPED_PARAM_BOOLEAN, &p);
    if (rc == 1)
        *value = p->value.b ? 1 : 0;
    return rc;
}

/* Make room for one more field named @name; returns it (type set, value
 * zeroed), or NULL with an error and the array unchanged. */
static virTypedParameterPtr append(const char *func, virTypedParameterPtr *params,
                                   int *nparams, int *maxparams, const char *name,
                                   int type)
{
    virTypedParameterPtr p;

    virResetLastError();
    if (!params || !nparams || !maxparams || !name) {
        virReportError(VIR_ERR_INVALID_ARG, "%s in %s must not be NULL",
                       !params ? "params" : !nparams ? "nparams" :
                       !maxparams ? "maxparams" : "name", func);
        return NULL;
    }
    if (*nparams < 0 || *maxparams < 0 || (*nparams && !*params)) {
        virReportError(VIR_ERR_INVALID_ARG, "invalid parameter array in %s", func);
        return NULL;
    }
    if (strlen(name) >= VIR_TYPED_PARAM_FIELD_LENGTH) {
        virReportError(VIR_ERR_INTERNAL_ERROR, "field name '%s' too long (at most "
                       "%d bytes)", name, VIR_TYPED_PARAM_FIELD_LENGTH - 1);
        return NULL;
    }
    if (*nparams >= *maxparams) {
        int grown = *nparams < 8 ? 8 : *nparams * 2;
        virTypedParameterPtr a = virReallocN(*params, (size_t)grown, sizeof(*a));
        if (!a)
            return NULL;
        *params = a;
        *maxparams = grown;
    }
    p = &(*params)[*nparams];
    memset(p, 0, sizeof(*p));
    virStrcpyTrunc(p->field, sizeof(p->field), name);
    p->type = type;
    return p;
}

#define ADDER(Name, T, TYPE, member) \
    VIR_EXPORT int virTypedParamsAdd##Name(virTypedParameterPtr *params, int *nparams, \
                                           int *maxparams, const char *name, T value) \
    { \
        virTypedParameterPtr p = append(__func__, params, nparams, maxparams, name, TYPE); \
        if (!p) \
            return -1; \
        p->value.member = value; \
        (*nparams)++; \
        return 0; \
    }

ADDER(Int, int, VIR_TYPED_PARAM_INT, i)
ADDER(UInt, unsigned int, VIR_TYPED_PARAM_UINT, ui)
ADDER(LLong, long long, VIR_TYPED_PARAM_LLONG, l)
ADDER(ULLong, unsigned long long, VIR_TYPED_PARAM_ULLONG, ul)
ADDER(Double, double, VIR_TYPED_PARAM_DOUBLE, d)
#undef ADDER

VIR_EXPORT int virTypedParamsAddBoolean(virTypedParameterPtr *params, int *nparams,
                                        int *maxparams, const char *name, int value)
{
    virTypedParameterPtr p = append(__func__, params, nparams, maxparams, name,
                                    VIR_TYPED_PARAM_BOOLEAN);
    if (!p)
        return -1;
    p->value.b = value ? 1 : 0;
    (*nparams)++;
    return 0;
}

VIR_EXPORT int virTypedParamsAddString(virTypedParameterPtr *params, int *nparams,
                                       int *maxparams, const char *name,
                                       const char *value)
{
    virTypedParameterPtr p;
    char *copy;

    if (!(p = append(__func__, params, nparams, maxparams, name, VIR_TYPED_PARAM_STRING)))
        return -1;
    /* A NULL value is kept as NULL, as libvirt does. */
    if (value && !(copy = virStrdup(value)))
        return -1;
    if (!value)
        copy = NULL;
    p->value.s = copy;
    (*nparams)++;
    return 0;
}

VIR_EXPORT int virGetVersion(unsigned long *libVer, const char *type ATTRIBUTE_UNUSED,
                             unsigned long *typeVer)
{
    virResetLastError();
    if (!libVer) {
        virReportError(VIR_ERR_INVALID_ARG, "%s",
                       "libVer in virGetVersion must not be NULL");
        return -1;
    }
    *libVer = LIBVIRTSUP_VERSION_NUMBER;
    if (typeVer)
        *typeVer = LIBVIRTSUP_VERSION_NUMBER;
    return 0;
}
