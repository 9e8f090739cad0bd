/* One error type for the whole project.
 *
 * Every function that can fail returns 0 on success and -1 on failure and,
 * when given a non-NULL `signer_error *`, fills it with a code and a message
 * a user can act on.  Messages never contain key material. */
#ifndef SIGNER_ERROR_H
#define SIGNER_ERROR_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum signer_status {
    SIGNER_OK = 0,
    SIGNER_ERR_INVALID_ARGUMENT, /* malformed or out-of-range input */
    SIGNER_ERR_INVALID_KEY,      /* a key that fails validation */
    SIGNER_ERR_UNSUPPORTED,      /* unknown key type, call or signing version */
    SIGNER_ERR_NO_MEMORY,
    SIGNER_ERR_CRYPTO,   /* a crypto library call failed */
    SIGNER_ERR_IO,       /* socket or file error */
    SIGNER_ERR_PROTOCOL, /* bad frame or bad CBOR on the wire */
    SIGNER_ERR_STATE,    /* call not allowed now (e.g. uninitialized) */
    SIGNER_ERR_SEALING,  /* the sealing backend refused or failed */
} signer_status;

#define SIGNER_ERROR_MESSAGE_MAX 512

typedef struct signer_error {
    signer_status code;
    char message[SIGNER_ERROR_MESSAGE_MAX];
} signer_error;

/* Records `code` and a printf-style message in `err` (if non-NULL).
 * Always returns -1 so callers can write `return signer_error_set(...)`. */
int signer_error_set(signer_error *err, signer_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefixes the message already in `err` with "<context>: ".  Returns -1. */
int signer_error_wrap(signer_error *err, const char *context);

/* Resets `err` to SIGNER_OK with an empty message. */
void signer_error_clear(signer_error *err);

/* A short stable name for a status, e.g. "invalid argument". */
const char *signer_status_name(signer_status code);

#ifdef __cplusplus
}
#endif
#endif
