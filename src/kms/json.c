/* KMS's JSON protocol (application/x-amz-json-1.1) with jansson; blobs
 * travel as standard base64 (libsodium's strict codec). */
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "signer/memory.h"

#define B64 sodium_base64_VARIANT_ORIGINAL

/* Appends the base64 of `data`. */
static int append_base64(signer_buf *out, const uint8_t *data, size_t len, signer_error *err)
{
    size_t n = sodium_base64_encoded_len(len, B64);
    if (signer_buf_reserve(out, n, err) != 0)
        return -1;
    sodium_bin2base64((char *)out->data + out->len, n, data, len, B64);
    out->len += n - 1; /* without the NUL */
    return 0;
}

static int append_text(signer_buf *out, const char *s, signer_error *err)
{
    return signer_buf_append(out, s, strlen(s), err);
}

/* Appends `s` as a JSON string (quoted and escaped by jansson). */
static int append_json_string(signer_buf *out, const char *s, signer_error *err)
{
    json_t *j = json_string(s);
    char *text = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
    int rc = text ? append_text(out, text, err)
                  : signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT,
                                     "the KMS key id is not valid UTF-8");
    free(text);
    json_decref(j);
    return rc;
}

int kms_json_encrypt_body(const char *key_id, const uint8_t *plaintext, size_t len,
                          signer_buf *body, signer_error *err)
{
    /* Written by hand, not through jansson, so the plaintext never sits in
     * memory that is freed without being wiped. */
    return append_text(body, "{\"KeyId\":", err) || append_json_string(body, key_id, err) ||
                   append_text(body, ",\"Plaintext\":\"", err) ||
                   append_base64(body, plaintext, len, err) || append_text(body, "\"}", err)
               ? -1
               : 0;
}

int kms_json_describe_body(const char *key_id, signer_buf *body, signer_error *err)
{
    return append_text(body, "{\"KeyId\":", err) || append_json_string(body, key_id, err) ||
                   append_text(body, "}", err)
               ? -1
               : 0;
}

int kms_json_decrypt_body(const char *key_id, const uint8_t *blob, size_t len,
                          const signer_bytes *attestation_document, signer_buf *body,
                          signer_error *err)
{
    return append_text(body, "{\"KeyId\":", err) || append_json_string(body, key_id, err) ||
                   append_text(body, ",\"CiphertextBlob\":\"", err) ||
                   append_base64(body, blob, len, err) ||
                   append_text(body,
                               "\",\"Recipient\":{\"KeyEncryptionAlgorithm\":"
                               "\"RSAES_OAEP_SHA_256\",\"AttestationDocument\":\"",
                               err) ||
                   append_base64(body, attestation_document->data, attestation_document->len,
                                 err) ||
                   append_text(body, "\"}}", err)
               ? -1
               : 0;
}

int kms_json_blob(const char *body, size_t len, const char *name, signer_buf *out,
                  signer_error *err)
{
    json_error_t jerr;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL || !json_is_object(root)) {
        json_decref(root);
        return signer_error_set(err, SIGNER_ERR_PROTOCOL, "KMS answered something not JSON");
    }
    json_t *field = json_object_get(root, name);
    const char *b64 = json_string_value(field);
    int rc = -1;
    if (b64 == NULL) {
        signer_error_set(err, SIGNER_ERR_PROTOCOL, "KMS's answer lacks %s", name);
    } else {
        size_t b64_len = json_string_length(field), n;
        size_t cap = b64_len / 4 * 3 + 3;
        if (signer_buf_reserve(out, cap, err) == 0) {
            if (sodium_base642bin(out->data + out->len, cap, b64, b64_len, NULL, &n, NULL, B64) !=
                0)
                signer_error_set(err, SIGNER_ERR_PROTOCOL, "KMS's %s is not base64", name);
            else {
                out->len += n;
                rc = 0;
            }
        }
    }
    json_decref(root);
    return rc;
}

int kms_json_key_state(const char *body, size_t len, char *state, size_t cap, signer_error *err)
{
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
    const char *s =
        json_string_value(json_object_get(json_object_get(root, "KeyMetadata"), "KeyState"));
    int rc = 0;
    if (s == NULL)
        rc = signer_error_set(err, SIGNER_ERR_PROTOCOL, "KMS's answer lacks KeyMetadata.KeyState");
    else
        snprintf(state, cap, "%s", s);
    json_decref(root);
    return rc;
}

int kms_json_error(const char *body, size_t len, char *type, size_t type_cap, char *message,
                   size_t message_cap)
{
    type[0] = message[0] = '\0';
    json_t *root = json_loadb(body, len, 0, NULL);
    if (root == NULL || !json_is_object(root)) {
        json_decref(root);
        return -1;
    }
    /* "__type" may carry a namespace: "com.amazonaws.kms#NotFoundException". */
    const char *t = json_string_value(json_object_get(root, "__type"));
    const char *m = json_string_value(json_object_get(root, "message"));
    if (m == NULL)
        m = json_string_value(json_object_get(root, "Message"));
    if (t != NULL) {
        const char *hash = strrchr(t, '#');
        snprintf(type, type_cap, "%s", hash ? hash + 1 : t);
    }
    if (m != NULL)
        snprintf(message, message_cap, "%s", m);
    json_decref(root);
    return 0;
}

bool kms_error_is_transient(const char *type)
{
    static const char *const transient[] = {"ThrottlingException", "LimitExceededException",
                                            "KMSInternalException", "DependencyTimeoutException"};
    for (size_t i = 0; i < sizeof(transient) / sizeof(transient[0]); i++)
        if (strcmp(type, transient[i]) == 0)
            return true;
    return false;
}
