/* Sealing backends: how a private key leaves and re-enters the enclave.
 *
 * A sealed key is the backend's ciphertext of the private-key map
 * {Type: bytes} (see rpc_private_key_encode).  A session creates its
 * sealer from the credentials of its Initialize call.
 *
 * Backends:
 *   "passthrough"  the sealed key IS the plaintext map.  For tests and
 *                  Signatory's mock mode only; never the default.
 *   "kms"          AWS KMS (added with the KMS issue). */
#ifndef SIGNER_SEALING_H
#define SIGNER_SEALING_H

#include <stddef.h>
#include <stdint.h>

#include "signer/buf.h"
#include "signer/crypto.h"
#include "signer/error.h"
#include "signer/rpc.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sealing_backend {
    const char *name;
    /* Makes a backend state for one session from Initialize's credentials. */
    int (*open)(const rpc_credentials *credentials, void **state, signer_error *err);
    /* Appends the sealed form of `plaintext` to `out`. */
    int (*seal)(void *state, const uint8_t *plaintext, size_t len, signer_buf *out,
                signer_error *err);
    /* Appends the plaintext of `sealed` to `out`. */
    int (*unseal)(void *state, const uint8_t *sealed, size_t len, signer_buf *out,
                  signer_error *err);
    void (*close)(void *state);
} sealing_backend;

/* The backend called `name`, or NULL. */
const sealing_backend *sealing_backend_find(const char *name);

typedef struct sealer sealer;

/* Opens a session's sealer. */
int sealer_open(const sealing_backend *backend, const rpc_credentials *credentials, sealer **out,
                signer_error *err);

/* Seals `key` (its private-key map) and appends the sealed blob to `out`. */
int sealer_seal_key(sealer *s, const signer_key *key, signer_buf *out, signer_error *err);

/* Unseals `sealed` into `key`, validating the key. */
int sealer_unseal_key(sealer *s, const uint8_t *sealed, size_t len, signer_key *key,
                      signer_error *err);

void sealer_close(sealer *s);

#ifdef __cplusplus
}
#endif
#endif
