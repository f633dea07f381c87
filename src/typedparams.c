/*
 * typedparams.c: libvirt's typed parameters, and virGetVersion.
 */
#define VIR_FROM_THIS VIR_FROM_NONE
#include "libvirtsup/libvirtsup.h"
#include "util/virerror.h"

VIR_EXPORT void virTypedParamsFree(virTypedParameterPtr params, int nparams)
{
    if (!params)
        return;
    for (int i = 0; i < nparams; i++)
        if (params[i].type == VIR_TYPED_PARAM_STRING)
            free(params[i].value.s);
    free(params);
}

static virTypedParameterPtr find(virTypedParameterPtr params, int nparams,
                                 const char *name)
{
    for (int i = 0; i < nparams; i++)
        if (strncmp(params[i].field, name, VIR_TYPED_PARAM_FIELD_LENGTH) == 0)
            return &params[i];
    return NULL;
}

VIR_EXPORT int virTypedParamsGetULLong(virTypedParameterPtr params, int nparams,
                                       const char *name, unsigned long long *value)
{
    virResetLastError();
    if ((!params && nparams) || nparams < 0 || !name || !value) {
        virReportError(VIR_ERR_INVALID_ARG, "%s", "virTypedParamsGetULLong: bad argument");
        return -1;
    }
    virTypedParameterPtr p = find(params, nparams, name);
    if (!p)
        return 0;
    if (p->type != VIR_TYPED_PARAM_ULLONG) {
        virReportError(VIR_ERR_INVALID_ARG, "parameter '%s' is not an unsigned long long",
                       name);
        return -1;
    }
    *value = p->value.ul;
    return 1;
}

VIR_EXPORT int virTypedParamsGetString(virTypedParameterPtr params, int nparams,
                                       const char *name, const char **value)
{
    virResetLastError();
    if ((!params && nparams) || nparams < 0 || !name || !value) {
        virReportError(VIR_ERR_INVALID_ARG, "%s", "virTypedParamsGetString: bad argument");
        return -1;
    }
    virTypedParameterPtr p = find(params, nparams, name);
    if (!p)
        return 0;
    if (p->type != VIR_TYPED_PARAM_STRING) {
        virReportError(VIR_ERR_INVALID_ARG, "parameter '%s' is not a string", name);
        return -1;
    }
    *value = p->value.s;
    return 1;
}

VIR_EXPORT int virGetVersion(unsigned long *libVer)
{
    virResetLastError();
    if (!libVer) {
        virReportError(VIR_ERR_INVALID_ARG, "%s", "virGetVersion: libVer must not be NULL");
        return -1;
    }
    *libVer = LIBVIRTSUP_VERSION_NUMBER;
    return 0;
}
