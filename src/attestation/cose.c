/* COSE_Sign1 with ES384: the Sig_structure and the r||s signature form. */
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/ec.h>
#include <string.h>

#include "internal.h"

#define COORD_BYTES (SIGNER_ATTESTATION_SIGNATURE_BYTES / 2)

int att_cose_sig_structure(const uint8_t *protected_header, size_t protected_len,
                           const uint8_t *payload, size_t payload_len, signer_buf *out,
                           signer_error *err)
{
    if (signer_cbor_write_array(out, 4, err) != 0 || signer_cbor_write_text(out, "Signature1", err) != 0 ||
        signer_cbor_write_bytes(out, protected_header, protected_len, err) != 0 ||
        signer_cbor_write_bytes(out, NULL, 0, err) != 0 || /* external_aad: none */
        signer_cbor_write_bytes(out, payload, payload_len, err) != 0)
        return -1;
    return 0;
}

int att_key_is_p384(EVP_PKEY *key)
{
    char group[32];
    if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC)
        return 0;
    if (EVP_PKEY_get_group_name(key, group, sizeof(group), NULL) != 1)
        return 0;
    return strcmp(group, "secp384r1") == 0;
}

X509 *att_x509_from_der(const uint8_t *der, size_t len)
{
    if (len == 0 || len > SIGNER_ATTESTATION_CERT_MAX)
        return NULL;
    const unsigned char *p = der;
    X509 *cert = d2i_X509(NULL, &p, (long)len);
    if (cert != NULL && p != der + len) { /* trailing bytes: not one certificate */
        X509_free(cert);
        return NULL;
    }
    return cert;
}

int att_es384_sign(EVP_PKEY *key, const uint8_t *msg, size_t len,
                   uint8_t sig[SIGNER_ATTESTATION_SIGNATURE_BYTES], signer_error *err)
{
    int rc = -1;
    unsigned char der[128];
    size_t der_len = sizeof(der);
    ECDSA_SIG *s = NULL;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (md == NULL)
        return signer_error_set(err, SIGNER_ERR_NO_MEMORY, "out of memory");
    if (EVP_DigestSignInit(md, NULL, EVP_sha384(), NULL, key) != 1 ||
        EVP_DigestSign(md, der, &der_len, msg, len) != 1) {
        signer_error_set(err, SIGNER_ERR_CRYPTO, "ES384 signing failed");
        goto out;
    }
    /* OpenSSL speaks DER ECDSA-Sig-Value; COSE wants the fixed-size r||s. */
    const unsigned char *p = der;
    s = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
    if (s == NULL || BN_bn2binpad(ECDSA_SIG_get0_r(s), sig, COORD_BYTES) != COORD_BYTES ||
        BN_bn2binpad(ECDSA_SIG_get0_s(s), sig + COORD_BYTES, COORD_BYTES) != COORD_BYTES) {
        signer_error_set(err, SIGNER_ERR_CRYPTO, "ES384 signature has an unexpected form");
        goto out;
    }
    rc = 0;
out:
    ECDSA_SIG_free(s);
    EVP_MD_CTX_free(md);
    return rc;
}

int att_es384_verify(EVP_PKEY *key, const uint8_t *msg, size_t len,
                     const uint8_t sig[SIGNER_ATTESTATION_SIGNATURE_BYTES], signer_error *err)
{
    int rc = -1;
    unsigned char *der = NULL;
    EVP_MD_CTX *md = NULL;
    ECDSA_SIG *s = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, COORD_BYTES, NULL);
    BIGNUM *sv = BN_bin2bn(sig + COORD_BYTES, COORD_BYTES, NULL);
    if (s == NULL || r == NULL || sv == NULL) {
        signer_error_set(err, SIGNER_ERR_NO_MEMORY, "out of memory");
        goto out;
    }
    if (ECDSA_SIG_set0(s, r, sv) != 1) {
        signer_error_set(err, SIGNER_ERR_CRYPTO, "ECDSA_SIG_set0 failed");
        goto out;
    }
    r = sv = NULL; /* owned by s now */
    int der_len = i2d_ECDSA_SIG(s, &der);
    md = EVP_MD_CTX_new();
    if (der_len <= 0 || md == NULL) {
        signer_error_set(err, SIGNER_ERR_NO_MEMORY, "out of memory");
        goto out;
    }
    if (EVP_DigestVerifyInit(md, NULL, EVP_sha384(), NULL, key) != 1) {
        signer_error_set(err, SIGNER_ERR_CRYPTO, "ES384 verification could not start");
        goto out;
    }
    if (EVP_DigestVerify(md, der, (size_t)der_len, msg, len) != 1) {
        signer_error_set(err, SIGNER_ERR_INVALID_KEY,
                         "the ES384 signature does not verify with the leaf certificate's key");
        goto out;
    }
    rc = 0;
out:
    ERR_clear_error();
    OPENSSL_free(der);
    EVP_MD_CTX_free(md);
    BN_free(r);
    BN_free(sv);
    ECDSA_SIG_free(s);
    return rc;
}
