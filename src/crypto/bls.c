/* BLS12-381 with blst, public keys in G1 (48 bytes), signatures in G2
 * (96 bytes).  BLS signs the message itself, no prehash:
 *   version 1            message augmentation (public key prepended)
 *   version 2 and latest proof-of-possession ciphersuite
 * A proof of possession signs the compressed public key. */
#include <blst.h>
#include <string.h>

#include "internal.h"
#include "signer/memory.h"

static const char dst_aug[] = "BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_AUG_";
static const char dst_pop_sig[] = "BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_";
static const char dst_pop_proof[] = "BLS_POP_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_";

#define BLS_PUBLIC_BYTES 48
#define BLS_SIGNATURE_BYTES 96

/* key->secret holds the 32-byte big-endian scalar, as on the wire. */

static int bls_import(signer_key *key, const uint8_t secret[SIGNER_SECRET_KEY_BYTES],
                      signer_error *err)
{
    blst_scalar sk;
    blst_p1 pk;
    blst_scalar_from_bendian(&sk, secret);
    if (!blst_sk_check(&sk)) {
        signer_wipe(&sk, sizeof(sk));
        return signer_error_set(err, SIGNER_ERR_INVALID_KEY,
                                "Bls private key is zero or not below the group order");
    }
    blst_sk_to_pk_in_g1(&pk, &sk);
    blst_p1_compress(key->public_key, &pk);
    memcpy(key->secret, secret, SIGNER_SECRET_KEY_BYTES);
    signer_wipe(&sk, sizeof(sk));
    return 0;
}

/* The standard KeyGen (HKDF over 32 random bytes) rather than rejection
 * sampling: half of all 32-byte strings are not below the BLS order. */
static int bls_generate(signer_key *key, signer_error *err)
{
    uint8_t ikm[32], secret[SIGNER_SECRET_KEY_BYTES];
    blst_scalar sk;
    if (signer_random_bytes(ikm, sizeof(ikm), err) != 0)
        return -1;
    blst_keygen(&sk, ikm, sizeof(ikm), NULL, 0);
    blst_bendian_from_scalar(secret, &sk);
    int rc = bls_import(key, secret, err);
    signer_wipe(ikm, sizeof(ikm));
    signer_wipe(secret, sizeof(secret));
    signer_wipe(&sk, sizeof(sk));
    return rc;
}

static void bls_export(const signer_key *key, uint8_t out[SIGNER_SECRET_KEY_BYTES])
{
    memcpy(out, key->secret, SIGNER_SECRET_KEY_BYTES);
}

/* Hashes (aug || message) to G2 under `dst` and signs it. */
static void bls_sign_with_dst(const signer_key *key, const uint8_t *message, size_t len,
                              const char *dst, const uint8_t *aug, size_t aug_len, uint8_t *sig)
{
    blst_scalar sk;
    blst_p2 point;
    blst_hash_to_g2(&point, message, len, (const byte *)dst, strlen(dst), aug, aug_len);
    blst_scalar_from_bendian(&sk, key->secret);
    blst_sign_pk_in_g1(&point, &point, &sk);
    signer_wipe(&sk, sizeof(sk));
    blst_p2_compress(sig, &point);
}

static int bls_sign(signer_key *key, const uint8_t *message, size_t len, unsigned version,
                    uint8_t *sig, signer_error *err)
{
    (void)err;
    if (version == 1)
        bls_sign_with_dst(key, message, len, dst_aug, key->public_key, BLS_PUBLIC_BYTES, sig);
    else
        bls_sign_with_dst(key, message, len, dst_pop_sig, NULL, 0, sig);
    return 0;
}

int crypto_bls_prove_possession(const signer_key *key, uint8_t *sig, signer_error *err)
{
    (void)err;
    bls_sign_with_dst(key, key->public_key, BLS_PUBLIC_BYTES, dst_pop_proof, NULL, 0, sig);
    return 0;
}

/* Verifies `sig` over (aug || message) under `dst`, rejecting public keys
 * and signatures outside their prime-order groups and the identity key. */
static int bls_check(const uint8_t *public_key, const uint8_t *message, size_t len, const char *dst,
                     const uint8_t *aug, size_t aug_len, const uint8_t *sig, signer_error *err)
{
    blst_p1_affine pk;
    blst_p2_affine s;
    if (blst_p1_uncompress(&pk, public_key) != BLST_SUCCESS || !blst_p1_affine_in_g1(&pk) ||
        blst_p1_affine_is_inf(&pk))
        return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT, "not a valid Bls public key");
    if (blst_p2_uncompress(&s, sig) != BLST_SUCCESS || !blst_p2_affine_in_g2(&s))
        return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT, "not a valid Bls signature");
    if (blst_core_verify_pk_in_g1(&pk, &s, true, message, len, (const byte *)dst, strlen(dst), aug,
                                  aug_len) != BLST_SUCCESS)
        return signer_error_set(err, SIGNER_ERR_CRYPTO, "Bls signature does not verify");
    return 0;
}

static int bls_verify(const uint8_t *public_key, const uint8_t *message, size_t len,
                      unsigned version, const uint8_t *sig, signer_error *err)
{
    if (version == 1)
        return bls_check(public_key, message, len, dst_aug, public_key, BLS_PUBLIC_BYTES, sig, err);
    return bls_check(public_key, message, len, dst_pop_sig, NULL, 0, sig, err);
}

int crypto_bls_verify_possession(const uint8_t *public_key, const uint8_t *proof, signer_error *err)
{
    return bls_check(public_key, public_key, BLS_PUBLIC_BYTES, dst_pop_proof, NULL, 0, proof, err);
}

const crypto_scheme crypto_bls = {
    .name = "Bls",
    .public_size = BLS_PUBLIC_BYTES,
    .signature_size = BLS_SIGNATURE_BYTES,
    .import = bls_import,
    .generate = bls_generate,
    .export_secret = bls_export,
    .sign = bls_sign,
    .verify = bls_verify,
};
