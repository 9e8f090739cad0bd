/* KMS exceptions: the name clients switch on, its HTTP status, a message. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "devkms.h"

int kms_fail(kms_error *e, const char *type, const char *fmt, ...)
{
    if (e == NULL)
        return -1;
    e->type = type;
    if (strcmp(type, "KMSInternalException") == 0)
        e->status = 500;
    else if (strcmp(type, "DryRunOperationException") == 0)
        e->status = 412;
    else
        e->status = 400;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof(e->message), fmt, ap);
    va_end(ap);
    return -1;
}

int kms_fail_internal(kms_error *e, const signer_error *err)
{
    return kms_fail(e, "KMSInternalException", "devkms: %s",
                    err != NULL ? err->message : "internal error");
}
