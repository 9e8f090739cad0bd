/* CiphertextForRecipient: KMS's answer for an attested enclave, opened
 * with OpenSSL's CMS API.  CMS_decrypt handles the OAEP parameters
 * (SHA-256) the RecipientInfo names. */
#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>

#include "signer/kms.h"

int kms_recipient_open(EVP_PKEY *key, const uint8_t *cms, size_t len, signer_buf *plaintext,
                       signer_error *err)
{
    if (len == 0 || len > (1u << 20))
        return signer_error_set(err, SIGNER_ERR_SEALING,
                                "CiphertextForRecipient of %zu bytes is not plausible", len);
    BIO *in = BIO_new_mem_buf(cms, (int)len);
    BIO *out = BIO_new(BIO_s_secmem()); /* cleared when freed */
    /* d2i reads BER, including the indefinite lengths KMS uses. */
    CMS_ContentInfo *ci = in ? d2i_CMS_bio(in, NULL) : NULL;
    int rc = -1;
    ERR_clear_error();
    if (ci == NULL) {
        signer_error_set(err, SIGNER_ERR_SEALING, "CiphertextForRecipient is not CMS");
    } else if (CMS_get0_type(ci) == NULL || OBJ_obj2nid(CMS_get0_type(ci)) != NID_pkcs7_enveloped) {
        signer_error_set(err, SIGNER_ERR_SEALING,
                         "CiphertextForRecipient is not CMS EnvelopedData");
    } else if (out == NULL || CMS_decrypt(ci, key, NULL, NULL, out, CMS_BINARY) != 1) {
        unsigned long e = ERR_peek_last_error();
        signer_error_set(err, SIGNER_ERR_SEALING,
                         "cannot open CiphertextForRecipient (not for this enclave's key?): %s",
                         e ? ERR_reason_error_string(e) : "CMS decryption failed");
    } else {
        char *data;
        long n = BIO_get_mem_data(out, &data);
        rc = signer_buf_append(plaintext, data, (size_t)n, err);
    }
    ERR_clear_error();
    CMS_ContentInfo_free(ci);
    BIO_free(in);
    BIO_free(out);
    return rc;
}
