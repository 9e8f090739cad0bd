/* Internals of the crypto core: one scheme table entry per key type. */
#ifndef SIGNER_CRYPTO_INTERNAL_H
#define SIGNER_CRYPTO_INTERNAL_H

#include <stdbool.h>

#include "signer/crypto.h"

#define PREHASH_BYTES 32 /* BLAKE2b-256 */

/* What differs between key types.  `secret` is always the 32 wire bytes,
 * already checked for length; `import` validates its range. */
typedef struct crypto_scheme {
    const char *name;
    size_t public_size;
    size_t signature_size;
    /* Validates the secret, fills key->secret and key->public_key. */
    int (*import)(signer_key *key, const uint8_t secret[SIGNER_SECRET_KEY_BYTES],
                  signer_error *err);
    /* Makes a fresh key; NULL means: random bytes, rejected until valid. */
    int (*generate)(signer_key *key, signer_error *err);
    void (*export_secret)(const signer_key *key, uint8_t out[SIGNER_SECRET_KEY_BYTES]);
    /* `version` is already known to exist (0, 1, 2 or 255). */
    int (*sign)(signer_key *key, const uint8_t *message, size_t len, unsigned version, uint8_t *sig,
                signer_error *err);
    /* 0 when `sig` verifies, -1 otherwise.  Sizes are already checked. */
    int (*verify)(const uint8_t *public_key, const uint8_t *message, size_t len, unsigned version,
                  const uint8_t *sig, signer_error *err);
    /* Frees key->cache; NULL for schemes that never make one. */
    void (*release)(signer_key *key);
} crypto_scheme;

extern const crypto_scheme crypto_secp256k1;
extern const crypto_scheme crypto_p256;
extern const crypto_scheme crypto_ed25519;
extern const crypto_scheme crypto_bls;

/* Per-library set-up, called once by signer_crypto_init. */
int crypto_secp256k1_init(signer_error *err);
int crypto_p256_init(signer_error *err);

/* BLS proof of possession (the public API checks the key type). */
int crypto_bls_prove_possession(const signer_key *key, uint8_t *sig, signer_error *err);
int crypto_bls_verify_possession(const uint8_t *public_key, const uint8_t *proof,
                                 signer_error *err);

/* BLAKE2b-256 of `message`: what ECDSA and Ed25519 keys sign. */
void crypto_prehash(const uint8_t *message, size_t len, uint8_t digest[PREHASH_BYTES]);

/* Constant-time: 1 when the big-endian `a` is less than `b`. */
int crypto_be_less(const uint8_t *a, const uint8_t *b, size_t len);

/* Constant-time: 1 when all `len` bytes are zero. */
int crypto_is_zero(const uint8_t *a, size_t len);

#endif
