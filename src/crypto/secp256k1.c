/* secp256k1 with libsecp256k1: RFC 6979 nonces, low-S signatures (which
 * Tezos requires), compressed 33-byte public keys. */
#include <secp256k1.h>
#include <string.h>

#include "internal.h"
#include "signer/memory.h"

/* Signing and verifying only read the context, so one context serves every
 * thread once it is set up. */
static secp256k1_context *ctx;

int crypto_secp256k1_init(signer_error *err)
{
    uint8_t seed[32];
    ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    if (ctx == NULL)
        return signer_error_set(err, SIGNER_ERR_CRYPTO, "cannot create a secp256k1 context");
    /* Blinding against side channels during signing. */
    if (signer_random_bytes(seed, sizeof(seed), err) != 0)
        return -1;
    int ok = secp256k1_context_randomize(ctx, seed);
    signer_wipe(seed, sizeof(seed));
    if (!ok)
        return signer_error_set(err, SIGNER_ERR_CRYPTO, "cannot randomise the secp256k1 context");
    return 0;
}

static int secp_import(signer_key *key, const uint8_t secret[SIGNER_SECRET_KEY_BYTES],
                       signer_error *err)
{
    secp256k1_pubkey pk;
    size_t len = 33;
    /* seckey_verify is constant time and rejects zero and >= the order. */
    if (!secp256k1_ec_seckey_verify(ctx, secret))
        return signer_error_set(err, SIGNER_ERR_INVALID_KEY,
                                "Secp256k1 private key is zero or not below the group order");
    if (!secp256k1_ec_pubkey_create(ctx, &pk, secret) ||
        !secp256k1_ec_pubkey_serialize(ctx, key->public_key, &len, &pk, SECP256K1_EC_COMPRESSED))
        return signer_error_set(err, SIGNER_ERR_CRYPTO, "secp256k1 public key derivation failed");
    memcpy(key->secret, secret, SIGNER_SECRET_KEY_BYTES);
    return 0;
}

static void secp_export(const signer_key *key, uint8_t out[SIGNER_SECRET_KEY_BYTES])
{
    memcpy(out, key->secret, SIGNER_SECRET_KEY_BYTES);
}

static int secp_sign(signer_key *key, const uint8_t *message, size_t len, unsigned version,
                     uint8_t *sig, signer_error *err)
{
    (void)version; /* every version signs the same way for ECDSA keys */
    uint8_t digest[PREHASH_BYTES];
    secp256k1_ecdsa_signature s;
    crypto_prehash(message, len, digest);
    /* The default nonce function is RFC 6979; libsecp256k1 emits low-S. */
    if (!secp256k1_ecdsa_sign(ctx, &s, digest, key->secret, NULL, NULL) ||
        !secp256k1_ecdsa_signature_serialize_compact(ctx, sig, &s))
        return signer_error_set(err, SIGNER_ERR_CRYPTO, "secp256k1 signing failed");
    return 0;
}

static int secp_verify(const uint8_t *public_key, const uint8_t *message, size_t len,
                       unsigned version, const uint8_t *sig, signer_error *err)
{
    (void)version;
    uint8_t digest[PREHASH_BYTES];
    secp256k1_pubkey pk;
    secp256k1_ecdsa_signature s;
    if (!secp256k1_ec_pubkey_parse(ctx, &pk, public_key, 33))
        return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT,
                                "not a valid compressed secp256k1 public key");
    if (!secp256k1_ecdsa_signature_parse_compact(ctx, &s, sig))
        return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT,
                                "not a valid secp256k1 signature");
    crypto_prehash(message, len, digest);
    /* Verification fails for high-S signatures, as in Tezos. */
    if (!secp256k1_ecdsa_verify(ctx, &s, digest, &pk))
        return signer_error_set(err, SIGNER_ERR_CRYPTO, "secp256k1 signature does not verify");
    return 0;
}

const crypto_scheme crypto_secp256k1 = {
    .name = "Secp256k1",
    .public_size = 33,
    .signature_size = 64,
    .import = secp_import,
    .export_secret = secp_export,
    .sign = secp_sign,
    .verify = secp_verify,
};
