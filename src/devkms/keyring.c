/* The master key: 32 random bytes in their own file (0600), outside the
 * database, under which every key's material is stored (AES-256-GCM, the
 * key id as AAD, so material cannot be swapped between rows). */
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <string.h>
#include <sys/stat.h>

#include "devkms.h"
#include "signer/memory.h"

#define MASTER_BYTES 32
#define IV_BYTES 12
#define TAG_BYTES 16
#define WRAP_VERSION 1

static int create_master(const char *path, signer_error *err)
{
    uint8_t key[MASTER_BYTES];
    if (RAND_priv_bytes(key, sizeof(key)) != 1)
        return signer_error_set(err, SIGNER_ERR_CRYPTO, "no randomness for the master key");
    int rc = devkms_file_write_atomic(path, key, sizeof(key), 0600, err);
    signer_wipe(key, sizeof(key));
    return rc;
}

int devkms_keyring_open(const char *path, devkms_keyring *kr, signer_error *err)
{
    memset(kr, 0, sizeof(*kr));
    if (!devkms_file_exists(path) && create_master(path, err) != 0)
        return signer_error_wrap(err, "creating the master key");
    struct stat st;
    if (stat(path, &st) != 0)
        return signer_error_set(err, SIGNER_ERR_IO, "%s: %s", path, strerror(errno));
    if (st.st_mode & 077)
        return signer_error_set(err, SIGNER_ERR_STATE,
                                "%s is readable by other users (mode %03o); chmod 600 it",
                                path, (unsigned)(st.st_mode & 0777));
    signer_buf data = SIGNER_BUF_INIT;
    if (devkms_file_read(path, MASTER_BYTES + 1, &data, err) != 0)
        return -1;
    if (data.len != MASTER_BYTES) {
        signer_buf_free(&data);
        return signer_error_set(err, SIGNER_ERR_STATE, "%s is not a devkms master key (%d bytes "
                                "expected)", path, MASTER_BYTES);
    }
    kr->master = signer_secure_alloc(MASTER_BYTES);
    if (kr->master == NULL) {
        signer_buf_free(&data);
        return signer_error_set(err, SIGNER_ERR_NO_MEMORY, "out of memory");
    }
    memcpy(kr->master, data.data, MASTER_BYTES);
    signer_buf_free(&data);
    return 0;
}

void devkms_keyring_close(devkms_keyring *kr)
{
    signer_secure_free(kr->master, MASTER_BYTES);
    kr->master = NULL;
}

/* Stored form: version | IV | encrypted material | tag. */
int devkms_keyring_wrap(const devkms_keyring *kr, const char *key_id,
                        const uint8_t material[KMS_MATERIAL_BYTES], signer_buf *out,
                        signer_error *err)
{
    uint8_t blob[1 + IV_BYTES + KMS_MATERIAL_BYTES + TAG_BYTES];
    blob[0] = WRAP_VERSION;
    if (RAND_bytes(blob + 1, IV_BYTES) != 1)
        return signer_error_set(err, SIGNER_ERR_CRYPTO, "no randomness");
    int n = 0, rc = -1;
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    if (c != NULL &&
        EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, kr->master, blob + 1) == 1 &&
        EVP_EncryptUpdate(c, NULL, &n, (const uint8_t *)key_id, (int)strlen(key_id)) == 1 &&
        EVP_EncryptUpdate(c, blob + 1 + IV_BYTES, &n, material, KMS_MATERIAL_BYTES) == 1 &&
        EVP_EncryptFinal_ex(c, blob + 1 + IV_BYTES + n, &n) == 1 &&
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAG_BYTES,
                            blob + 1 + IV_BYTES + KMS_MATERIAL_BYTES) == 1)
        rc = signer_buf_append(out, blob, sizeof(blob), err);
    else
        signer_error_set(err, SIGNER_ERR_CRYPTO, "wrapping key material failed");
    EVP_CIPHER_CTX_free(c);
    return rc;
}

int devkms_keyring_unwrap(const devkms_keyring *kr, const char *key_id, const uint8_t *blob,
                          size_t len, uint8_t material[KMS_MATERIAL_BYTES], signer_error *err)
{
    if (len != 1 + IV_BYTES + KMS_MATERIAL_BYTES + TAG_BYTES || blob[0] != WRAP_VERSION)
        return signer_error_set(err, SIGNER_ERR_STATE, "stored key material of %s is damaged",
                                key_id);
    uint8_t tag[TAG_BYTES];
    memcpy(tag, blob + 1 + IV_BYTES + KMS_MATERIAL_BYTES, TAG_BYTES);
    int n = 0, rc = -1;
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    if (c != NULL &&
        EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, kr->master, blob + 1) == 1 &&
        EVP_DecryptUpdate(c, NULL, &n, (const uint8_t *)key_id, (int)strlen(key_id)) == 1 &&
        EVP_DecryptUpdate(c, material, &n, blob + 1 + IV_BYTES, KMS_MATERIAL_BYTES) == 1 &&
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG_BYTES, tag) == 1 &&
        EVP_DecryptFinal_ex(c, material + n, &n) == 1)
        rc = 0;
    else {
        signer_wipe(material, KMS_MATERIAL_BYTES);
        signer_error_set(err, SIGNER_ERR_STATE,
                         "key material of %s does not decrypt under this master key (was "
                         "master.key replaced?)", key_id);
    }
    EVP_CIPHER_CTX_free(c);
    return rc;
}
