/* Ciphertext blobs (CiphertextBlob): what Encrypt returns and Decrypt
 * takes back.
 *
 *   "DK" | version 1 | 36 | key id (36 ASCII) | IV (12) | ciphertext | tag (16)
 *
 * AES-256-GCM under the KMS key's material.  The AAD is the header (magic
 * through IV) followed by the encryption context in a canonical form (pairs
 * sorted by key, each string length-prefixed), so a blob cannot be moved to
 * another key, have its header edited, or be opened with another context. */
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <string.h>

#include "devkms.h"
#include "signer/memory.h"

#define MAGIC0 'D'
#define MAGIC1 'K'
#define VERSION 1
#define IV_BYTES 12
#define TAG_BYTES 16
#define HEADER_BYTES (4 + KMS_KEY_ID_LEN + IV_BYTES)

static int put_u32(signer_buf *b, uint32_t v, signer_error *err)
{
    uint8_t be[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    return signer_buf_append(b, be, 4, err);
}

static int put_string(signer_buf *b, const char *s, signer_error *err)
{
    size_t n = strlen(s);
    return put_u32(b, (uint32_t)n, err) != 0 ? -1 : signer_buf_append(b, s, n, err);
}

static int build_aad(const uint8_t *header, const kms_context *ctx, signer_buf *aad,
                     signer_error *err)
{
    if (signer_buf_append(aad, header, HEADER_BYTES, err) != 0 ||
        put_u32(aad, (uint32_t)ctx->count, err) != 0)
        return -1;
    for (size_t i = 0; i < ctx->count; i++)
        if (put_string(aad, ctx->keys[i], err) != 0 || put_string(aad, ctx->values[i], err) != 0)
            return -1;
    return 0;
}

static bool key_id_valid(const uint8_t *id)
{
    for (int i = 0; i < KMS_KEY_ID_LEN; i++) {
        uint8_t c = id[i];
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    }
    return true;
}

int kms_blob_key_id(const uint8_t *blob, size_t len, char id[KMS_KEY_ID_LEN + 1])
{
    if (len < HEADER_BYTES + TAG_BYTES || blob[0] != MAGIC0 || blob[1] != MAGIC1 ||
        blob[2] != VERSION || blob[3] != KMS_KEY_ID_LEN || !key_id_valid(blob + 4))
        return -1;
    memcpy(id, blob + 4, KMS_KEY_ID_LEN);
    id[KMS_KEY_ID_LEN] = '\0';
    return 0;
}

int kms_blob_seal(const char *key_id, const uint8_t material[KMS_MATERIAL_BYTES],
                  const kms_context *ctx, const uint8_t *plaintext, size_t len, signer_buf *out,
                  signer_error *err)
{
    if (strlen(key_id) != KMS_KEY_ID_LEN || len > KMS_PLAINTEXT_MAX)
        return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT, "bad key id or plaintext size");
    uint8_t header[HEADER_BYTES] = {MAGIC0, MAGIC1, VERSION, KMS_KEY_ID_LEN};
    memcpy(header + 4, key_id, KMS_KEY_ID_LEN);
    if (RAND_bytes(header + 4 + KMS_KEY_ID_LEN, IV_BYTES) != 1)
        return signer_error_set(err, SIGNER_ERR_CRYPTO, "no randomness for the IV");
    signer_buf aad = SIGNER_BUF_INIT;
    int rc = -1, n = 0, fin = 0;
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    if (c == NULL || build_aad(header, ctx, &aad, err) != 0 ||
        signer_buf_reserve(out, HEADER_BYTES + len + TAG_BYTES, err) != 0)
        goto out;
    uint8_t *dst = out->data + out->len;
    memcpy(dst, header, HEADER_BYTES);
    if (EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, material, header + 4 + KMS_KEY_ID_LEN) != 1 ||
        EVP_EncryptUpdate(c, NULL, &n, aad.data, (int)aad.len) != 1 ||
        EVP_EncryptUpdate(c, dst + HEADER_BYTES, &n, plaintext, (int)len) != 1 ||
        EVP_EncryptFinal_ex(c, dst + HEADER_BYTES + n, &fin) != 1 ||
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAG_BYTES, dst + HEADER_BYTES + len) != 1) {
        signer_error_set(err, SIGNER_ERR_CRYPTO, "AES-GCM encryption failed");
        goto out;
    }
    out->len += HEADER_BYTES + len + TAG_BYTES;
    rc = 0;
out:
    if (c == NULL)
        signer_error_set(err, SIGNER_ERR_NO_MEMORY, "out of memory");
    EVP_CIPHER_CTX_free(c);
    signer_buf_free(&aad);
    return rc;
}

int kms_blob_open(const uint8_t material[KMS_MATERIAL_BYTES], const kms_context *ctx,
                  const uint8_t *blob, size_t len, signer_buf *plaintext, signer_error *err)
{
    char id[KMS_KEY_ID_LEN + 1];
    if (kms_blob_key_id(blob, len, id) != 0)
        return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT, "not a devkms ciphertext");
    size_t ct_len = len - HEADER_BYTES - TAG_BYTES;
    signer_buf aad = SIGNER_BUF_INIT;
    int rc = -1, n = 0, fin = 0;
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    if (c == NULL) {
        signer_error_set(err, SIGNER_ERR_NO_MEMORY, "out of memory");
        goto out;
    }
    if (build_aad(blob, ctx, &aad, err) != 0 || signer_buf_reserve(plaintext, ct_len + 1, err) != 0)
        goto out;
    uint8_t *dst = plaintext->data + plaintext->len;
    uint8_t tag[TAG_BYTES];
    memcpy(tag, blob + len - TAG_BYTES, TAG_BYTES);
    if (EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, material, blob + 4 + KMS_KEY_ID_LEN) != 1 ||
        EVP_DecryptUpdate(c, NULL, &n, aad.data, (int)aad.len) != 1 ||
        EVP_DecryptUpdate(c, dst, &n, blob + HEADER_BYTES, (int)ct_len) != 1 ||
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG_BYTES, tag) != 1 ||
        EVP_DecryptFinal_ex(c, dst + n, &fin) != 1) {
        signer_wipe(dst, ct_len);
        signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT,
                         "the ciphertext, its key or its encryption context do not match");
        goto out;
    }
    plaintext->len += ct_len;
    rc = 0;
out:
    EVP_CIPHER_CTX_free(c);
    signer_buf_free(&aad);
    return rc;
}
