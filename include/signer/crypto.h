/* Crypto core: key generation, validation, public keys and Tezos-style
 * signatures for the four key types.  No I/O.
 *
 * Signing rules (Tezos):
 *  - Secp256k1, NistP256, Ed25519 sign BLAKE2b-256(message): ECDSA over the
 *    digest (secp256k1: RFC 6979 nonces, low-S), Ed25519 over the digest.
 *  - Bls signs the message itself: version 1 with the message-augmentation
 *    ciphersuite, version 2 and latest with the proof-of-possession one;
 *    version 0 is an error.
 * All functions return 0 on success and -1 on failure (see error.h). */
#ifndef SIGNER_CRYPTO_H
#define SIGNER_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "signer/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum signer_key_type {
    SIGNER_KEY_SECP256K1 = 0,
    SIGNER_KEY_NISTP256 = 1,
    SIGNER_KEY_ED25519 = 2,
    SIGNER_KEY_BLS = 3,
} signer_key_type;

#define SIGNER_KEY_TYPE_COUNT 4
#define SIGNER_SECRET_KEY_BYTES 32 /* every type's private key on the wire */
#define SIGNER_PUBLIC_KEY_MAX 48
#define SIGNER_SIGNATURE_MAX 96
#define SIGNER_VERSION_LATEST 255
#define SIGNER_VERSION_MAX_KNOWN 2 /* "latest" means this one */

/* A private key with its public key.  Treat as opaque; its size is public
 * so that key stores can keep keys in locked memory of their own.
 * Wipe it with signer_key_wipe(). */
typedef struct signer_key {
    signer_key_type type;
    uint8_t secret[64]; /* Ed25519: libsodium's seed||pk; others: 32 bytes */
    uint8_t public_key[SIGNER_PUBLIC_KEY_MAX];
    void *cache; /* library object built on first use (NistP256) */
} signer_key;

/* Initialises the crypto libraries.  Call once before any other function;
 * safe to call again.  Not thread-safe on the first call. */
int signer_crypto_init(signer_error *err);

/* Wire name of a key type: "Secp256k1", "NistP256", "Ed25519", "Bls". */
const char *signer_key_type_name(signer_key_type type);

/* Parses a wire name (exact, case-sensitive).  `len` is the name's length. */
int signer_key_type_from_name(const char *name, size_t len, signer_key_type *out,
                              signer_error *err);

size_t signer_public_key_size(signer_key_type type); /* 33, 33, 32, 48 */
size_t signer_signature_size(signer_key_type type);  /* 64, 64, 64, 96 */

/* Fills `buf` with `len` bytes from the operating system's CSPRNG. */
int signer_random_bytes(uint8_t *buf, size_t len, signer_error *err);

/* Makes a fresh key of `type` from the CSPRNG. */
int signer_key_generate(signer_key *key, signer_key_type type, signer_error *err);

/* Imports a raw 32-byte private key as the RPC carries it (big-endian
 * scalar for ECDSA and BLS, seed for Ed25519).  Rejects wrong lengths,
 * zero and scalars >= the group order. */
int signer_key_import(signer_key *key, signer_key_type type, const uint8_t *secret,
                      size_t secret_len, signer_error *err);

/* Writes the 32 private key bytes as the RPC carries them. */
void signer_key_export(const signer_key *key, uint8_t out[SIGNER_SECRET_KEY_BYTES]);

/* The public key's encoding size (signer_public_key_size(key->type)). */
size_t signer_key_public_size(const signer_key *key);

/* Signs `message` with signing version `version` (0, 1, 2 or 255).
 * Writes signer_signature_size(key->type) bytes to `sig`. */
int signer_sign(signer_key *key, const uint8_t *message, size_t message_len, unsigned version,
                uint8_t sig[SIGNER_SIGNATURE_MAX], signer_error *err);

/* BLS proof of possession: signs the compressed public key with the
 * BLS_POP_ ciphersuite.  Writes 96 bytes.  Fails for other key types. */
int signer_prove_possession(const signer_key *key, uint8_t sig[SIGNER_SIGNATURE_MAX],
                            signer_error *err);

/* Checks a signature made by signer_sign with the same rules.
 * Returns 0 when it verifies, -1 otherwise. */
int signer_verify(signer_key_type type, const uint8_t *public_key, size_t public_key_len,
                  const uint8_t *message, size_t message_len, unsigned version, const uint8_t *sig,
                  size_t sig_len, signer_error *err);

/* Checks a BLS proof of possession made by signer_prove_possession. */
int signer_verify_possession(const uint8_t *public_key, size_t public_key_len, const uint8_t *proof,
                             size_t proof_len, signer_error *err);

/* Wipes the key's secret bytes and frees its cached library object. */
void signer_key_wipe(signer_key *key);

#ifdef __cplusplus
}
#endif
#endif
