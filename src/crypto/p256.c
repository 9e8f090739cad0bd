/* NIST P-256 with OpenSSL 3: ECDSA over BLAKE2b-256(message), random
 * nonces (Tezos accepts any valid signature), compressed public keys.
 * A key's EVP signing context is built on first use and kept in
 * key->cache, so repeated signing skips OpenSSL's provider look-ups. */
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <string.h>

#include "internal.h"
#include "signer/memory.h"

#define P256_PUBLIC_BYTES 33
#define P256_SCALAR_BYTES 32

static EC_GROUP *group;                  /* read-only after init */
static uint8_t order[P256_SCALAR_BYTES]; /* the group order, big-endian */

int crypto_p256_init(signer_error *err)
{
    group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    if (group == NULL || BN_bn2binpad(EC_GROUP_get0_order(group), order, sizeof(order)) < 0)
        return signer_error_set(err, SIGNER_ERR_CRYPTO, "OpenSSL lacks the P-256 curve");
    return 0;
}

static int p256_import(signer_key *key, const uint8_t secret[SIGNER_SECRET_KEY_BYTES],
                       signer_error *err)
{
    if (crypto_is_zero(secret, P256_SCALAR_BYTES) ||
        !crypto_be_less(secret, order, P256_SCALAR_BYTES))
        return signer_error_set(err, SIGNER_ERR_INVALID_KEY,
                                "NistP256 private key is zero or not below the group order");
    BIGNUM *d = BN_secure_new();
    EC_POINT *pub = EC_POINT_new(group);
    BN_CTX *bn = BN_CTX_secure_new();
    int rc = -1;
    if (d != NULL && pub != NULL && bn != NULL && BN_bin2bn(secret, P256_SCALAR_BYTES, d) != NULL) {
        BN_set_flags(d, BN_FLG_CONSTTIME);
        if (EC_POINT_mul(group, pub, d, NULL, NULL, bn) == 1 &&
            EC_POINT_point2oct(group, pub, POINT_CONVERSION_COMPRESSED, key->public_key,
                               P256_PUBLIC_BYTES, bn) == P256_PUBLIC_BYTES)
            rc = 0;
    }
    BN_clear_free(d);
    EC_POINT_free(pub);
    BN_CTX_free(bn);
    if (rc != 0)
        return signer_error_set(err, SIGNER_ERR_CRYPTO, "P-256 public key derivation failed");
    memcpy(key->secret, secret, SIGNER_SECRET_KEY_BYTES);
    return 0;
}

static void p256_export(const signer_key *key, uint8_t out[SIGNER_SECRET_KEY_BYTES])
{
    memcpy(out, key->secret, SIGNER_SECRET_KEY_BYTES);
}

/* Builds an EVP key from a public key and, when given, a private scalar. */
static EVP_PKEY *p256_evp_key(const uint8_t *public_key, const uint8_t *secret)
{
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    BIGNUM *d = secret ? BN_secure_new() : NULL;
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    EVP_PKEY *pkey = NULL;
    if (bld == NULL || ctx == NULL || (secret && d == NULL))
        goto done;
    if (!OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) ||
        !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, public_key,
                                          P256_PUBLIC_BYTES))
        goto done;
    if (secret && (BN_bin2bn(secret, P256_SCALAR_BYTES, d) == NULL ||
                   !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d)))
        goto done;
    params = OSSL_PARAM_BLD_to_param(bld);
    if (params == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &pkey, secret ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params) != 1)
        pkey = NULL;
done:
    /* The scalar went into the builder's secure block (d is a secure
     * BIGNUM), which OSSL_PARAM_free clears before freeing. */
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_clear_free(d);
    EVP_PKEY_CTX_free(ctx);
    return pkey;
}

/* The cached signing context of `key`, made on first use. */
static EVP_PKEY_CTX *p256_signing_context(signer_key *key, signer_error *err)
{
    if (key->cache != NULL)
        return key->cache;
    EVP_PKEY *pkey = p256_evp_key(key->public_key, key->secret);
    EVP_PKEY_CTX *ctx = pkey ? EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL) : NULL;
    EVP_PKEY_free(pkey); /* the context holds its own reference */
    if (ctx == NULL || EVP_PKEY_sign_init(ctx) != 1) {
        EVP_PKEY_CTX_free(ctx);
        signer_error_set(err, SIGNER_ERR_CRYPTO, "cannot set up P-256 signing");
        return NULL;
    }
    key->cache = ctx;
    return ctx;
}

static int p256_sign(signer_key *key, const uint8_t *message, size_t len, unsigned version,
                     uint8_t *sig, signer_error *err)
{
    (void)version;
    uint8_t digest[PREHASH_BYTES], der[80];
    size_t der_len = sizeof(der);
    EVP_PKEY_CTX *ctx = p256_signing_context(key, err);
    if (ctx == NULL)
        return -1;
    crypto_prehash(message, len, digest);
    if (EVP_PKEY_sign(ctx, der, &der_len, digest, sizeof(digest)) != 1)
        return signer_error_set(err, SIGNER_ERR_CRYPTO, "P-256 signing failed");
    /* DER (r, s) to the fixed 64-byte r || s form. */
    const unsigned char *p = der;
    ECDSA_SIG *s = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
    int ok = s != NULL && BN_bn2binpad(ECDSA_SIG_get0_r(s), sig, 32) == 32 &&
             BN_bn2binpad(ECDSA_SIG_get0_s(s), sig + 32, 32) == 32;
    ECDSA_SIG_free(s);
    if (!ok)
        return signer_error_set(err, SIGNER_ERR_CRYPTO, "P-256 signature encoding failed");
    return 0;
}

static int p256_verify(const uint8_t *public_key, const uint8_t *message, size_t len,
                       unsigned version, const uint8_t *sig, signer_error *err)
{
    (void)version;
    uint8_t digest[PREHASH_BYTES];
    unsigned char *der = NULL;
    int der_len = -1, verified = 0;
    EVP_PKEY *pkey = p256_evp_key(public_key, NULL);
    if (pkey == NULL)
        return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT,
                                "not a valid compressed P-256 public key");
    ECDSA_SIG *s = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, 32, NULL), *sv = BN_bin2bn(sig + 32, 32, NULL);
    if (s != NULL && r != NULL && sv != NULL && ECDSA_SIG_set0(s, r, sv) == 1) {
        r = sv = NULL; /* owned by s now */
        der_len = i2d_ECDSA_SIG(s, &der);
    }
    EVP_PKEY_CTX *ctx = der_len > 0 ? EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL) : NULL;
    crypto_prehash(message, len, digest);
    if (ctx != NULL && EVP_PKEY_verify_init(ctx) == 1)
        verified = EVP_PKEY_verify(ctx, der, (size_t)der_len, digest, sizeof(digest)) == 1;
    EVP_PKEY_CTX_free(ctx);
    OPENSSL_free(der);
    BN_free(r);
    BN_free(sv);
    ECDSA_SIG_free(s);
    EVP_PKEY_free(pkey);
    if (!verified)
        return signer_error_set(err, SIGNER_ERR_CRYPTO, "NistP256 signature does not verify");
    return 0;
}

static void p256_release(signer_key *key)
{
    EVP_PKEY_CTX_free(key->cache);
    key->cache = NULL;
}

const crypto_scheme crypto_p256 = {
    .name = "NistP256",
    .public_size = P256_PUBLIC_BYTES,
    .signature_size = 64,
    .import = p256_import,
    .export_secret = p256_export,
    .sign = p256_sign,
    .verify = p256_verify,
    .release = p256_release,
};
