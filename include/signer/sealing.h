/* Sealing backends: how a private key leaves and re-enters the enclave.
 *
 * A sealed key is the backend's ciphertext of the private-key map
 * {Type: bytes} (see rpc_private_key_encode).  A session creates its
 * sealer from the credentials of its Initialize call.
 *
 * Backends:
 *   "kms"          AWS KMS: Encrypt to seal; Decrypt with a Recipient
 *                  attestation document from the NSM to unseal, so only
 *                  measured code can read the key.  The default.
 *   "passthrough"  the sealed key IS the plaintext map.  For tests and
 *                  Signatory's mock mode only. */
#ifndef SIGNER_SEALING_H
#define SIGNER_SEALING_H

#include <stddef.h>
#include <stdint.h>

#include "signer/buf.h"
#include "signer/crypto.h"
#include "signer/error.h"
#include "signer/kms.h"
#include "signer/nsm.h"
#include "signer/rpc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What the process gives its backend at start-up. */
typedef struct sealing_settings {
    kms_settings kms;           /* how to reach KMS */
    const char *default_region; /* when Initialize's region is empty */
    nsm *nsm;                   /* attestation documents (kms backend) */
} sealing_settings;

typedef struct sealing_backend {
    const char *name;
    /* Once per process, before any session (NULL: nothing to do).  The
     * settings must outlive every session. */
    int (*start)(const sealing_settings *settings, signer_error *err);
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

/* Runs the backend's start hook. */
int sealing_backend_start(const sealing_backend *backend, const sealing_settings *settings,
                          signer_error *err);

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
