/* Encrypt, Decrypt, GenerateDataKey(WithoutPlaintext), GenerateRandom;
 * with a Recipient, the secret goes back only as CiphertextForRecipient. */
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"
#include "signer/memory.h"

/* A base64 JSON string; plaintexts are wiped from the scratch copy. */
static json_t *b64(const uint8_t *data, size_t len)
{
    char *text = kms_base64_encode(data, len);
    if (text == NULL)
        return NULL;
    json_t *s = json_string(text);
    signer_wipe(text, strlen(text));
    free(text);
    return s;
}

static int set_b64(json_t *o, const char *name, const uint8_t *data, size_t len, kms_error *e)
{
    json_t *v = b64(data, len);
    if (v == NULL || json_object_set_new(o, name, v) != 0)
        return kms_fail(e, "KMSInternalException", "devkms: out of memory");
    return 0;
}

static int check_algorithm(const char *alg, kms_error *e)
{
    if (alg == NULL || strcmp(alg, "SYMMETRIC_DEFAULT") == 0)
        return 0;
    if (strncmp(alg, "RSAES_", 6) == 0 || strcmp(alg, "SM2PKE") == 0)
        return kms_fail(e, "InvalidKeyUsageException",
                        "%s is not a valid encryption algorithm for a symmetric key", alg);
    return kms_fail(e, "ValidationException",
                    "1 validation error detected: Value '%.100s' at 'encryptionAlgorithm' failed "
                    "to satisfy constraint: Member must satisfy enum value set: "
                    "[SYMMETRIC_DEFAULT, RSAES_OAEP_SHA_1, RSAES_OAEP_SHA_256, SM2PKE]", alg);
}

/* The checks every key operation here shares: policy (with the context and
 * the attested PCRs as condition keys), then state, then DryRun. */
static int authorize(devkms *kms, ops_key *key, kms_op op, const kms_args *a,
                     kms_attested *attested, kms_error *e)
{
    ops_auth auth;
    ops_auth_init(kms, key, op, &auth);
    int rc = ops_auth_add_context(&auth, &a->context, e);
    if (rc == 0 && attested != NULL && kms_attested_conditions(attested, &auth.req) != 0)
        rc = kms_fail(e, "ValidationException", "too many condition keys");
    if (rc == 0)
        rc = ops_auth_check(kms, key, &auth, e);
    ops_auth_free(&auth);
    if (rc == 0)
        rc = ops_key_enabled(key, e);
    if (rc == 0 && a->dry_run.present && a->dry_run.value)
        rc = ops_dry_run(e);
    return rc;
}

static int recipient(devkms *kms, const kms_args *a, kms_attested *out, kms_error *e)
{
    return kms_recipient_verify(&kms->root_der, kms->cfg.max_document_age_ms,
                                a->recipient_algorithm, &a->attestation_document, out, e);
}

/* Puts the secret in the answer: Plaintext, or CiphertextForRecipient. */
static int answer_secret(json_t *o, const kms_attested *attested, const uint8_t *secret,
                         size_t len, kms_error *e)
{
    if (attested == NULL)
        return set_b64(o, "Plaintext", secret, len, e);
    signer_buf cms = SIGNER_BUF_INIT;
    int rc = kms_recipient_seal(attested, secret, len, &cms, e);
    if (rc == 0)
        rc = set_b64(o, "CiphertextForRecipient", cms.data, cms.len, e);
    signer_buf_free(&cms);
    return rc;
}

int ops_encrypt(devkms *kms, const kms_args *a, json_t **response, kms_outcome *outcome,
                kms_error *e)
{
    if (check_algorithm(a->encryption_algorithm, e) != 0)
        return -1;
    ops_key key;
    if (ops_key_find(kms, a->key_id, true, &key, outcome, e) != 0)
        return -1;
    uint8_t material[KMS_MATERIAL_BYTES];
    signer_buf blob = SIGNER_BUF_INIT;
    signer_error err;
    int rc = -1;
    if (authorize(kms, &key, KMS_OP_ENCRYPT, a, NULL, e) != 0 ||
        ops_key_material(kms, &key, material, e) != 0)
        goto out;
    if (kms_blob_seal(key.row.id, material, &a->context, a->plaintext.data, a->plaintext.len,
                      &blob, &err) != 0) {
        kms_fail_internal(e, &err);
        goto out;
    }
    *response = json_pack("{s:s, s:s}", "KeyId", key.arn, "EncryptionAlgorithm",
                          "SYMMETRIC_DEFAULT");
    rc = *response ? set_b64(*response, "CiphertextBlob", blob.data, blob.len, e)
                   : kms_fail(e, "KMSInternalException", "devkms: out of memory");
out:
    signer_wipe(material, sizeof(material));
    signer_buf_free(&blob);
    ops_key_free(&key);
    return rc;
}

int ops_decrypt(devkms *kms, const kms_args *a, json_t **response, kms_outcome *outcome,
                kms_error *e)
{
    if (check_algorithm(a->encryption_algorithm, e) != 0)
        return -1;
    char id[KMS_KEY_ID_LEN + 1];
    if (kms_blob_key_id(a->ciphertext.data, a->ciphertext.len, id) != 0)
        return kms_fail(e, "InvalidCiphertextException",
                        "The ciphertext is not a KMS ciphertext blob (or it was damaged).");
    ops_key key;
    if (a->key_id != NULL) {
        if (ops_key_find(kms, a->key_id, true, &key, outcome, e) != 0)
            return -1;
        bool same = strcmp(key.row.id, id) == 0;
        ops_key_free(&key);
        if (!same)
            return kms_fail(e, "IncorrectKeyException", "The key ID in the request does not "
                            "identify a CMK that can perform this operation.");
    }
    if (ops_key_find(kms, id, false, &key, outcome, e) != 0) {
        /* A blob naming no key is a bad ciphertext, as far as KMS says. */
        if (strcmp(e->type, "NotFoundException") == 0)
            kms_fail(e, "InvalidCiphertextException",
                     "The ciphertext names key %s, which does not exist (deleted, or the "
                     "ciphertext was altered).", id);
        return -1;
    }
    kms_attested attested;
    bool attest = a->has_recipient;
    uint8_t material[KMS_MATERIAL_BYTES];
    signer_buf plaintext = SIGNER_BUF_INIT;
    signer_error err;
    int rc = -1;
    if (attest && recipient(kms, a, &attested, e) != 0) {
        attest = false;
        goto out;
    }
    if (authorize(kms, &key, KMS_OP_DECRYPT, a, attest ? &attested : NULL, e) != 0 ||
        ops_key_material(kms, &key, material, e) != 0)
        goto out;
    if (kms_blob_open(material, &a->context, a->ciphertext.data, a->ciphertext.len, &plaintext,
                      &err) != 0) {
        kms_fail(e, "InvalidCiphertextException",
                 "The ciphertext does not decrypt with this key and encryption context.");
        goto out;
    }
    *response = json_pack("{s:s, s:s}", "KeyId", key.arn, "EncryptionAlgorithm",
                          "SYMMETRIC_DEFAULT");
    rc = *response ? answer_secret(*response, attest ? &attested : NULL, plaintext.data,
                                   plaintext.len, e)
                   : kms_fail(e, "KMSInternalException", "devkms: out of memory");
out:
    if (attest)
        kms_attested_free(&attested);
    signer_wipe(material, sizeof(material));
    signer_buf_free(&plaintext);
    ops_key_free(&key);
    return rc;
}

static int data_key_size(const kms_args *a, size_t *n, kms_error *e)
{
    if (a->number_of_bytes.present == (a->key_spec != NULL))
        return kms_fail(e, "ValidationException",
                        "Please specify either number of bytes or key spec.");
    if (a->number_of_bytes.present) {
        *n = (size_t)a->number_of_bytes.value;
        return 0;
    }
    if (strcmp(a->key_spec, "AES_256") == 0)
        *n = 32;
    else if (strcmp(a->key_spec, "AES_128") == 0)
        *n = 16;
    else
        return kms_fail(e, "ValidationException",
                        "1 validation error detected: Value '%.100s' at 'keySpec' failed to "
                        "satisfy constraint: Member must satisfy enum value set: [AES_256, "
                        "AES_128]", a->key_spec);
    return 0;
}

static int data_key(devkms *kms, const kms_args *a, kms_op op, bool with_plaintext,
                    json_t **response, kms_outcome *outcome, kms_error *e)
{
    size_t n = 0;
    if (data_key_size(a, &n, e) != 0)
        return -1;
    ops_key key;
    if (ops_key_find(kms, a->key_id, true, &key, outcome, e) != 0)
        return -1;
    kms_attested attested;
    bool attest = with_plaintext && a->has_recipient;
    uint8_t material[KMS_MATERIAL_BYTES], secret[KMS_DATA_KEY_MAX];
    signer_buf blob = SIGNER_BUF_INIT;
    signer_error err;
    int rc = -1;
    if (attest && recipient(kms, a, &attested, e) != 0) {
        attest = false;
        goto out;
    }
    if (authorize(kms, &key, op, a, attest ? &attested : NULL, e) != 0 ||
        ops_key_material(kms, &key, material, e) != 0)
        goto out;
    if (RAND_priv_bytes(secret, (int)n) != 1) {
        kms_fail(e, "KMSInternalException", "devkms: no randomness");
        goto out;
    }
    if (kms_blob_seal(key.row.id, material, &a->context, secret, n, &blob, &err) != 0) {
        kms_fail_internal(e, &err);
        goto out;
    }
    *response = json_pack("{s:s}", "KeyId", key.arn);
    if (*response == NULL) {
        kms_fail(e, "KMSInternalException", "devkms: out of memory");
        goto out;
    }
    rc = set_b64(*response, "CiphertextBlob", blob.data, blob.len, e);
    if (rc == 0 && with_plaintext)
        rc = answer_secret(*response, attest ? &attested : NULL, secret, n, e);
out:
    if (attest)
        kms_attested_free(&attested);
    signer_wipe(material, sizeof(material));
    signer_wipe(secret, sizeof(secret));
    signer_buf_free(&blob);
    ops_key_free(&key);
    return rc;
}

int ops_generate_data_key(devkms *kms, const kms_args *a, json_t **response,
                          kms_outcome *outcome, kms_error *e)
{
    return data_key(kms, a, KMS_OP_GENERATE_DATA_KEY, true, response, outcome, e);
}

int ops_generate_data_key_without_plaintext(devkms *kms, const kms_args *a, json_t **response,
                                            kms_outcome *outcome, kms_error *e)
{
    return data_key(kms, a, KMS_OP_GENERATE_DATA_KEY_WITHOUT_PLAINTEXT, false, response, outcome,
                    e);
}

int ops_generate_random(devkms *kms, const kms_args *a, json_t **response, kms_outcome *outcome,
                        kms_error *e)
{
    (void)outcome;
    if (a->custom_key_store_id != NULL)
        return kms_fail(e, "CustomKeyStoreNotFoundException", "devkms has no custom key stores");
    if (!a->number_of_bytes.present)
        return kms_fail(e, "ValidationException",
                        "1 validation error detected: Value null at 'numberOfBytes' failed to "
                        "satisfy constraint: Member must not be null");
    size_t n = (size_t)a->number_of_bytes.value;
    kms_attested attested;
    bool attest = a->has_recipient;
    if (attest && recipient(kms, a, &attested, e) != 0)
        return -1;
    uint8_t secret[KMS_DATA_KEY_MAX];
    int rc = -1;
    if (RAND_bytes(secret, (int)n) != 1) {
        kms_fail(e, "KMSInternalException", "devkms: no randomness");
        goto out;
    }
    *response = json_object();
    rc = *response ? answer_secret(*response, attest ? &attested : NULL, secret, n, e)
                   : kms_fail(e, "KMSInternalException", "devkms: out of memory");
out:
    if (attest)
        kms_attested_free(&attested);
    signer_wipe(secret, sizeof(secret));
    return rc;
}
