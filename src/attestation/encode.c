/* Encoding and signing a document: what the NSM does, in software. */
#include <openssl/err.h>
#include <string.h>

#include "internal.h"

static int invalid(signer_error *err, const char *what)
{
    return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT, "attestation fields: %s", what);
}

/* The encoder refuses anything the parser would refuse. */
static int check_fields(const signer_attestation_fields *f, const signer_attestation_issuer *is,
                        size_t *pcr_count, signer_error *err)
{
    if (f->module_id == NULL || f->module_id[0] == '\0' ||
        strlen(f->module_id) > SIGNER_ATTESTATION_MODULE_ID_MAX)
        return invalid(err, "module_id must have 1 to 256 bytes");
    if (f->timestamp_ms == 0)
        return invalid(err, "timestamp must be positive");
    if (f->pcrs == NULL)
        return invalid(err, "no PCRs");
    *pcr_count = 0;
    for (int i = 0; i < SIGNER_ATTESTATION_PCR_COUNT; i++) {
        size_t n = f->pcrs[i].len;
        if (n != 0 && n != 32 && n != 48 && n != 64)
            return invalid(err, "a PCR must have 32, 48 or 64 bytes");
        if (n != 0)
            (*pcr_count)++;
    }
    if (*pcr_count == 0)
        return invalid(err, "at least one PCR is required");
    if (f->public_key.present &&
        (f->public_key.len == 0 || f->public_key.len > SIGNER_ATTESTATION_PUBLIC_KEY_MAX))
        return invalid(err, "public_key must have 1 to 1024 bytes");
    if (f->user_data.present && f->user_data.len > SIGNER_ATTESTATION_USER_DATA_MAX)
        return invalid(err, "user_data must have at most 512 bytes");
    if (f->nonce.present && f->nonce.len > SIGNER_ATTESTATION_NONCE_MAX)
        return invalid(err, "nonce must have at most 512 bytes");
    if (is->cabundle_count < 1 || is->cabundle_count > SIGNER_ATTESTATION_CABUNDLE_MAX ||
        is->cabundle == NULL)
        return invalid(err, "cabundle must hold 1 to 16 certificates");
    if (is->certificate.len == 0 || is->certificate.len > SIGNER_ATTESTATION_CERT_MAX)
        return invalid(err, "the certificate must have 1 to 1024 bytes");
    for (size_t i = 0; i < is->cabundle_count; i++)
        if (is->cabundle[i].len == 0 || is->cabundle[i].len > SIGNER_ATTESTATION_CERT_MAX)
            return invalid(err, "each cabundle certificate must have 1 to 1024 bytes");
    return 0;
}

static int optional_bytes(signer_buf *out, const char *name, const signer_attestation_bytes *b,
                          signer_error *err)
{
    if (signer_cbor_write_text(out, name, err) != 0)
        return -1;
    if (!b->present)
        return signer_cbor_write_null(out, err);
    return signer_cbor_write_bytes(out, b->data, b->len, err);
}

/* The payload map, in the NSM's field order. */
static int write_payload(const signer_attestation_fields *f, const signer_attestation_issuer *is,
                         size_t pcr_count, signer_buf *out, signer_error *err)
{
    if (signer_cbor_write_map(out, 9, err) != 0 || signer_cbor_write_text(out, "module_id", err) != 0 ||
        signer_cbor_write_text(out, f->module_id, err) != 0 || signer_cbor_write_text(out, "digest", err) != 0 ||
        signer_cbor_write_text(out, "SHA384", err) != 0 || signer_cbor_write_text(out, "timestamp", err) != 0 ||
        signer_cbor_write_uint(out, f->timestamp_ms, err) != 0 || signer_cbor_write_text(out, "pcrs", err) != 0 ||
        signer_cbor_write_map(out, pcr_count, err) != 0)
        return -1;
    for (int i = 0; i < SIGNER_ATTESTATION_PCR_COUNT; i++) {
        if (f->pcrs[i].len == 0)
            continue;
        if (signer_cbor_write_uint(out, (uint64_t)i, err) != 0 ||
            signer_cbor_write_bytes(out, f->pcrs[i].value, f->pcrs[i].len, err) != 0)
            return -1;
    }
    if (signer_cbor_write_text(out, "certificate", err) != 0 ||
        signer_cbor_write_bytes(out, is->certificate.data, is->certificate.len, err) != 0 ||
        signer_cbor_write_text(out, "cabundle", err) != 0 ||
        signer_cbor_write_array(out, is->cabundle_count, err) != 0)
        return -1;
    for (size_t i = 0; i < is->cabundle_count; i++)
        if (signer_cbor_write_bytes(out, is->cabundle[i].data, is->cabundle[i].len, err) != 0)
            return -1;
    if (optional_bytes(out, "public_key", &f->public_key, err) != 0 ||
        optional_bytes(out, "user_data", &f->user_data, err) != 0 ||
        optional_bytes(out, "nonce", &f->nonce, err) != 0)
        return -1;
    return 0;
}

/* Loads the signing key and checks it belongs to the certificate. */
static EVP_PKEY *load_key(const signer_attestation_issuer *is, signer_error *err)
{
    const unsigned char *p = is->key_der.data;
    EVP_PKEY *key = is->key_der.len ? d2i_AutoPrivateKey(NULL, &p, (long)is->key_der.len) : NULL;
    X509 *cert = att_x509_from_der(is->certificate.data, is->certificate.len);
    const char *problem = NULL;
    if (key == NULL)
        problem = "the signing key is not a DER private key";
    else if (!att_key_is_p384(key))
        problem = "the signing key is not ECDSA P-384";
    else if (cert == NULL)
        problem = "the certificate is not a DER X.509 certificate";
    else if (X509_check_private_key(cert, key) != 1)
        problem = "the signing key does not match the certificate";
    X509_free(cert);
    ERR_clear_error();
    if (problem != NULL) {
        EVP_PKEY_free(key);
        signer_error_set(err, SIGNER_ERR_INVALID_KEY, "attestation issuer: %s", problem);
        return NULL;
    }
    return key;
}

int signer_attestation_encode(const signer_attestation_fields *fields,
                              const signer_attestation_issuer *issuer, signer_buf *out,
                              signer_error *err)
{
    /* h'a10138 22': the protected header map {1: -35}. */
    static const uint8_t protected_header[] = {0xa1, 0x01, 0x38, 0x22};
    size_t pcr_count = 0;
    if (fields == NULL || issuer == NULL)
        return invalid(err, "fields and issuer are required");
    if (check_fields(fields, issuer, &pcr_count, err) != 0)
        return -1;
    EVP_PKEY *key = load_key(issuer, err);
    if (key == NULL)
        return -1;
    int rc = -1;
    uint8_t sig[SIGNER_ATTESTATION_SIGNATURE_BYTES];
    signer_buf payload = SIGNER_BUF_INIT, tbs = SIGNER_BUF_INIT;
    if (write_payload(fields, issuer, pcr_count, &payload, err) != 0)
        goto out;
    if (payload.len > SIGNER_ATTESTATION_MAX_BYTES - 128) { /* room for the envelope */
        signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT,
                         "attestation fields: the document would exceed %u bytes",
                         SIGNER_ATTESTATION_MAX_BYTES);
        goto out;
    }
    if (att_cose_sig_structure(protected_header, sizeof(protected_header), payload.data,
                               payload.len, &tbs, err) != 0 ||
        att_es384_sign(key, tbs.data, tbs.len, sig, err) != 0)
        goto out;
    /* Untagged COSE_Sign1, as the NSM emits it. */
    if (signer_cbor_write_array(out, 4, err) != 0 ||
        signer_cbor_write_bytes(out, protected_header, sizeof(protected_header), err) != 0 ||
        signer_cbor_write_map(out, 0, err) != 0 ||
        signer_cbor_write_bytes(out, payload.data, payload.len, err) != 0 ||
        signer_cbor_write_bytes(out, sig, sizeof(sig), err) != 0)
        goto out;
    rc = 0;
out:
    signer_buf_free(&payload);
    signer_buf_free(&tbs);
    EVP_PKEY_free(key);
    return rc;
}
