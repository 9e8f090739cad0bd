/* libFuzzer: what a KMS (or anything posing as one) answers: the JSON of
 * success and error bodies, and CiphertextForRecipient's CMS. */
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <stddef.h>
#include <stdint.h>

#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static EVP_PKEY *key;
    if (key == NULL)
        key = EVP_RSA_gen(2048);
    char type[96], message[160];
    signer_buf out = SIGNER_BUF_INIT;
    (void)kms_json_error((const char *)data, size, type, sizeof(type), message, sizeof(message));
    (void)kms_json_blob((const char *)data, size, "CiphertextForRecipient", &out, NULL);
    signer_buf_clear(&out);
    (void)kms_recipient_open(key, data, size, &out, NULL);
    signer_buf_free(&out);
    return 0;
}
