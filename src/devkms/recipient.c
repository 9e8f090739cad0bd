/* The Recipient flow: an attestation document is verified (signature,
 * chain to the configured root, age), its PCRs become policy condition keys,
 * and the answer is sealed to its RSA key as AWS does: a BER CMS
 * EnvelopedData with a KeyTransRecipientInfo (RSAES-OAEP, SHA-256 and MGF1
 * SHA-256; recipient named by SubjectKeyIdentifier = SHA-256 of the
 * SubjectPublicKeyInfo) and AES-256-CBC content. */
#include <openssl/asn1t.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>

#include "devkms.h"

static int denied(kms_error *e, const char *reason)
{
    return kms_fail(e, "AccessDeniedException",
                    "The attestation document in the Recipient parameter was refused: %s",
                    reason);
}

int kms_recipient_verify(const signer_buf *root_der, uint64_t max_age_ms, const char *algorithm,
                         const signer_buf *document, kms_attested *out, kms_error *e)
{
    memset(out, 0, sizeof(*out));
    if (algorithm == NULL || strcmp(algorithm, "RSAES_OAEP_SHA_256") != 0)
        return kms_fail(e, "ValidationException",
                        "1 validation error detected: Value at 'recipient.keyEncryptionAlgorithm' "
                        "failed to satisfy constraint: Member must satisfy enum value set: "
                        "[RSAES_OAEP_SHA_256]");
    if (document->len == 0)
        return kms_fail(e, "ValidationException",
                        "1 validation error detected: Value null at "
                        "'recipient.attestationDocument' failed to satisfy constraint: Member "
                        "must not be null");
    signer_error err;
    if (signer_attestation_parse(document->data, document->len, &out->doc, &err) != 0)
        return denied(e, err.message);
    signer_attestation_verify_options opts = {
        .root_der = root_der->data, .root_der_len = root_der->len,
        .now_ms = 0, .max_age_ms = max_age_ms, .max_future_ms = 5 * 60 * 1000,
    };
    if (signer_attestation_verify(&out->doc, &opts, NULL, &err) != 0) {
        kms_attested_free(out);
        return denied(e, err.message);
    }
    const signer_attestation_bytes *pk = &out->doc.public_key;
    if (!pk->present) {
        kms_attested_free(out);
        return denied(e, "it carries no public_key to encrypt the response for");
    }
    const unsigned char *p = pk->data;
    out->rsa = d2i_PUBKEY(NULL, &p, (long)pk->len);
    ERR_clear_error();
    if (out->rsa == NULL || p != pk->data + pk->len || EVP_PKEY_get_base_id(out->rsa) != EVP_PKEY_RSA ||
        EVP_PKEY_get_bits(out->rsa) < 2048 || EVP_PKEY_get_bits(out->rsa) > 4096) {
        kms_attested_free(out);
        return denied(e, "its public_key is not an RSA key of 2048 to 4096 bits (DER "
                         "SubjectPublicKeyInfo)");
    }
    for (int i = 0; i < SIGNER_ATTESTATION_PCR_COUNT; i++) {
        const signer_attestation_pcr *pcr = &out->doc.pcrs[i];
        for (size_t j = 0; j < pcr->len; j++)
            snprintf(out->pcr_hex[i] + 2 * j, 3, "%02x", pcr->value[j]);
        snprintf(out->pcr_keys[i], sizeof(out->pcr_keys[i]), "kms:RecipientAttestation:PCR%d", i);
    }
    return 0;
}

void kms_attested_free(kms_attested *a)
{
    signer_attestation_doc_free(&a->doc);
    EVP_PKEY_free(a->rsa);
    a->rsa = NULL;
}

int kms_attested_conditions(kms_attested *a, kms_policy_request *req)
{
    /* ImageSha384 is PCR0, the enclave image's measurement. */
    if (a->doc.pcrs[0].len != 0 &&
        kms_policy_request_add(req, "kms:RecipientAttestation:ImageSha384", a->pcr_hex[0]) != 0)
        return -1;
    for (int i = 0; i < SIGNER_ATTESTATION_PCR_COUNT; i++)
        if (a->doc.pcrs[i].len != 0 &&
            kms_policy_request_add(req, a->pcr_keys[i], a->pcr_hex[i]) != 0)
            return -1;
    return 0;
}

/* ---- CMS ------------------------------------------------------------------- */

/* OpenSSL's CMS names a key-transport recipient by a certificate, so the
 * document's bare public key goes into a throwaway certificate whose
 * SubjectKeyIdentifier is what AWS uses: SHA-256 of the SPKI. */
static X509 *placeholder_cert(EVP_PKEY *rsa, const signer_attestation_bytes *spki)
{
    X509 *cert = X509_new();
    X509_NAME *name = X509_NAME_new();
    ASN1_OCTET_STRING *ski = ASN1_OCTET_STRING_new();
    EVP_PKEY *signer = EVP_EC_gen("P-256");
    unsigned char md[32];
    unsigned int md_len = 0;
    bool ok = cert && name && ski && signer &&
              EVP_Digest(spki->data, spki->len, md, &md_len, EVP_sha256(), NULL) == 1 &&
              ASN1_OCTET_STRING_set(ski, md, (int)md_len) == 1 &&
              X509_set_version(cert, 2) == 1 &&
              ASN1_INTEGER_set(X509_get_serialNumber(cert), 1) == 1 &&
              X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                         (const unsigned char *)"recipient", -1, -1, 0) == 1 &&
              X509_set_subject_name(cert, name) == 1 && X509_set_issuer_name(cert, name) == 1 &&
              X509_gmtime_adj(X509_getm_notBefore(cert), 0) != NULL &&
              X509_gmtime_adj(X509_getm_notAfter(cert), 60) != NULL &&
              X509_set_pubkey(cert, rsa) == 1 &&
              X509_add1_ext_i2d(cert, NID_subject_key_identifier, ski, 0, 0) == 1 &&
              X509_sign(cert, signer, EVP_sha256()) > 0;
    EVP_PKEY_free(signer);
    ASN1_OCTET_STRING_free(ski);
    X509_NAME_free(name);
    if (!ok) {
        X509_free(cert);
        return NULL;
    }
    return cert;
}

/* AWS writes the OAEP hash AlgorithmIdentifiers with explicit NULL
 * parameters; OpenSSL leaves them out.  Both are valid (RFC 4055); this
 * rewrites OpenSSL's to AWS's form. */
static int oaep_params_as_aws(X509_ALGOR *alg)
{
    int ok = 0;
    RSA_OAEP_PARAMS *params = RSA_OAEP_PARAMS_new();
    X509_ALGOR *mgf_hash = X509_ALGOR_new();
    ASN1_STRING *mgf_hash_der = NULL, *params_der = NULL;
    if (params == NULL || mgf_hash == NULL)
        goto out;
    params->hashFunc = X509_ALGOR_new();
    params->maskGenFunc = X509_ALGOR_new();
    if (params->hashFunc == NULL || params->maskGenFunc == NULL ||
        X509_ALGOR_set0(params->hashFunc, OBJ_nid2obj(NID_sha256), V_ASN1_NULL, NULL) != 1 ||
        X509_ALGOR_set0(mgf_hash, OBJ_nid2obj(NID_sha256), V_ASN1_NULL, NULL) != 1 ||
        ASN1_item_pack(mgf_hash, ASN1_ITEM_rptr(X509_ALGOR), &mgf_hash_der) == NULL)
        goto out;
    if (X509_ALGOR_set0(params->maskGenFunc, OBJ_nid2obj(NID_mgf1), V_ASN1_SEQUENCE,
                        mgf_hash_der) != 1)
        goto out;
    mgf_hash_der = NULL; /* owned by maskGenFunc */
    if (ASN1_item_pack(params, ASN1_ITEM_rptr(RSA_OAEP_PARAMS), &params_der) == NULL ||
        X509_ALGOR_set0(alg, OBJ_nid2obj(NID_rsaesOaep), V_ASN1_SEQUENCE, params_der) != 1)
        goto out;
    params_der = NULL;
    ok = 1;
out:
    ASN1_STRING_free(params_der);
    ASN1_STRING_free(mgf_hash_der);
    X509_ALGOR_free(mgf_hash);
    RSA_OAEP_PARAMS_free(params);
    return ok;
}

int kms_recipient_seal(const kms_attested *a, const uint8_t *plaintext, size_t len,
                       signer_buf *out, kms_error *e)
{
    const unsigned int flags = CMS_BINARY | CMS_PARTIAL | CMS_STREAM;
    int rc = -1;
    X509 *cert = placeholder_cert(a->rsa, &a->doc.public_key);
    BIO *mem = BIO_new(BIO_s_mem());
    BIO *in = BIO_new(BIO_s_null());
    BIO *stream = NULL;
    CMS_ContentInfo *cms = NULL;
    CMS_RecipientInfo *ri = NULL;
    if (cert == NULL || mem == NULL || in == NULL)
        goto fail;
    cms = CMS_encrypt(NULL, in, EVP_aes_256_cbc(), flags);
    if (cms == NULL)
        goto fail;
    ri = CMS_add1_recipient_cert(cms, cert, CMS_USE_KEYID | CMS_KEY_PARAM);
    EVP_PKEY_CTX *pctx = ri ? CMS_RecipientInfo_get0_pkey_ctx(ri) : NULL;
    if (pctx == NULL || EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_OAEP_PADDING) <= 0 ||
        EVP_PKEY_CTX_set_rsa_oaep_md(pctx, EVP_sha256()) <= 0 ||
        EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) <= 0)
        goto fail;
    /* Streaming (as i2d_CMS_bio_stream does) gives the BER indefinite-length
     * form AWS answers with.  The content key is wrapped when the stream is
     * set up, before anything is written: the moment to adjust the OAEP
     * parameters' encoding. */
    stream = BIO_new_NDEF(mem, (ASN1_VALUE *)cms, ASN1_ITEM_rptr(CMS_ContentInfo));
    X509_ALGOR *alg = NULL;
    if (stream == NULL || CMS_RecipientInfo_ktri_get0_algs(ri, NULL, NULL, &alg) != 1 ||
        alg == NULL || !oaep_params_as_aws(alg))
        goto fail;
    if ((len > 0 && BIO_write(stream, plaintext, (int)len) != (int)len) || BIO_flush(stream) != 1)
        goto fail;
    char *der = NULL;
    long der_len = BIO_get_mem_data(mem, &der);
    if (der_len <= 0 || signer_buf_append(out, der, (size_t)der_len, NULL) != 0)
        goto fail;
    rc = 0;
    goto out;
fail:
    kms_fail(e, "KMSInternalException", "devkms: building CiphertextForRecipient failed");
out:
    /* Unchain the streaming BIOs (cipher, asn1) down to `mem`. */
    while (stream != NULL && stream != mem) {
        BIO *next = BIO_pop(stream);
        BIO_free(stream);
        stream = next;
    }
    ERR_clear_error();
    CMS_ContentInfo_free(cms);
    BIO_free(in);
    BIO_free(mem);
    X509_free(cert);
    return rc;
}
