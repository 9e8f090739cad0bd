/* Ed25519 with libsodium (its signing is about twice as fast as OpenSSL
 * 3.0's EVP path).  Tezos signs BLAKE2b-256(message) as the message. */
#include <sodium.h>
#include <string.h>

#include "internal.h"

/* key->secret holds libsodium's 64-byte form: seed || public key. */

static int ed_import(signer_key *key, const uint8_t secret[SIGNER_SECRET_KEY_BYTES],
                     signer_error *err)
{
    /* Every 32-byte seed is a valid Ed25519 private key. */
    if (crypto_sign_seed_keypair(key->public_key, key->secret, secret) != 0)
        return signer_error_set(err, SIGNER_ERR_CRYPTO, "Ed25519 key derivation failed");
    return 0;
}

static void ed_export(const signer_key *key, uint8_t out[SIGNER_SECRET_KEY_BYTES])
{
    memcpy(out, key->secret, SIGNER_SECRET_KEY_BYTES);
}

static int ed_sign(signer_key *key, const uint8_t *message, size_t len, unsigned version,
                   uint8_t *sig, signer_error *err)
{
    (void)version;
    uint8_t digest[PREHASH_BYTES];
    crypto_prehash(message, len, digest);
    if (crypto_sign_detached(sig, NULL, digest, sizeof(digest), key->secret) != 0)
        return signer_error_set(err, SIGNER_ERR_CRYPTO, "Ed25519 signing failed");
    return 0;
}

static int ed_verify(const uint8_t *public_key, const uint8_t *message, size_t len,
                     unsigned version, const uint8_t *sig, signer_error *err)
{
    (void)version;
    uint8_t digest[PREHASH_BYTES];
    crypto_prehash(message, len, digest);
    if (crypto_sign_verify_detached(sig, digest, sizeof(digest), public_key) != 0)
        return signer_error_set(err, SIGNER_ERR_CRYPTO, "Ed25519 signature does not verify");
    return 0;
}

const crypto_scheme crypto_ed25519 = {
    .name = "Ed25519",
    .public_size = 32,
    .signature_size = 64,
    .import = ed_import,
    .export_secret = ed_export,
    .sign = ed_sign,
    .verify = ed_verify,
};
