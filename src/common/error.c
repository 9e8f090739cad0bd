/* The project's single error type: a code plus a readable message. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "signer/error.h"

int signer_error_set(signer_error *err, signer_status code, const char *fmt, ...)
{
    if (err == NULL)
        return -1;
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    return -1;
}

int signer_error_wrap(signer_error *err, const char *context)
{
    if (err == NULL)
        return -1;
    char inner[SIGNER_ERROR_MESSAGE_MAX];
    memcpy(inner, err->message, sizeof(inner));
    inner[sizeof(inner) - 1] = '\0';
    /* Context first; the inner message fills what is left (truncated). */
    int n = snprintf(err->message, sizeof(err->message), "%s: ", context);
    if (n < 0 || (size_t)n >= sizeof(err->message))
        return -1;
    size_t room = sizeof(err->message) - (size_t)n - 1;
    size_t len = strnlen(inner, room);
    memcpy(err->message + n, inner, len);
    err->message[(size_t)n + len] = '\0';
    return -1;
}

void signer_error_clear(signer_error *err)
{
    if (err == NULL)
        return;
    err->code = SIGNER_OK;
    err->message[0] = '\0';
}

const char *signer_status_name(signer_status code)
{
    switch (code) {
    case SIGNER_OK: return "ok";
    case SIGNER_ERR_INVALID_ARGUMENT: return "invalid argument";
    case SIGNER_ERR_INVALID_KEY: return "invalid key";
    case SIGNER_ERR_UNSUPPORTED: return "unsupported";
    case SIGNER_ERR_NO_MEMORY: return "out of memory";
    case SIGNER_ERR_CRYPTO: return "crypto failure";
    case SIGNER_ERR_IO: return "i/o error";
    case SIGNER_ERR_PROTOCOL: return "protocol error";
    case SIGNER_ERR_STATE: return "bad state";
    case SIGNER_ERR_SEALING: return "sealing failure";
    }
    return "unknown error";
}
