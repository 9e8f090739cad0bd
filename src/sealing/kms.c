/* The kms backend.  Sealing is KMS Encrypt under the session's key.
 * Unsealing is KMS Decrypt with a Recipient: an attestation document from
 * the NSM carrying this process's RSA-2048 public key, so KMS (checking
 * its key policy's PCR conditions) answers only to measured code, and only
 * this process can open the answer.  The RSA key lives as long as the
 * process and never leaves it. */
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#include "signer/memory.h"
#include "signer/sealing.h"

static const sealing_settings *settings;
static EVP_PKEY *rsa_key;
static signer_buf rsa_spki; /* DER SubjectPublicKeyInfo, for the documents */

typedef struct kms_session {
    kms_client *client;
    char *key_id;
} kms_session;

static int kms_start(const sealing_settings *s, signer_error *err)
{
    if (s->nsm == NULL)
        return signer_error_set(err, SIGNER_ERR_SEALING,
                                "the kms backend needs an NSM for attestation documents");
    if (kms_global_init(err) != 0)
        return -1;
    rsa_key = EVP_RSA_gen(2048);
    unsigned char *der = NULL;
    int len = rsa_key ? i2d_PUBKEY(rsa_key, &der) : -1;
    int rc = len > 0 ? signer_buf_append(&rsa_spki, der, (size_t)len, err)
                     : signer_error_set(err, SIGNER_ERR_CRYPTO, "cannot make the RSA key");
    OPENSSL_free(der);
    if (rc == 0)
        settings = s;
    return rc;
}

static void kms_close(void *state);

/* Initialize fails early for what would fail every later call: credentials
 * KMS does not accept, a key that does not exist or is not enabled.  A
 * policy that does not grant kms:DescribeKey is not an error. */
static int check_key(kms_session *s, signer_error *err)
{
    char state[32];
    if (kms_describe_key(s->client, s->key_id, state, sizeof(state), err) != 0)
        return strcmp(kms_client_last_error(s->client), "AccessDeniedException") == 0 ? 0 : -1;
    if (strcmp(state, "Enabled") != 0)
        return signer_error_set(err, SIGNER_ERR_SEALING, "KMS key %.100s is %s, not Enabled",
                                s->key_id, state);
    return 0;
}

static int kms_open(const rpc_credentials *cr, void **state, signer_error *err)
{
    if (cr->encryption_key_id == NULL || *cr->encryption_key_id == '\0')
        return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT,
                                "Initialize needs encryption_key_id (the KMS key that seals)");
    const char *region = cr->region && *cr->region ? cr->region : settings->default_region;
    kms_credentials kc = {.access_key_id = cr->access_key_id,
                          .secret_access_key = cr->secret_access_key,
                          .session_token = cr->session_token,
                          .region = region};
    kms_session *s = calloc(1, sizeof(*s));
    if (s == NULL || (s->key_id = strdup(cr->encryption_key_id)) == NULL) {
        free(s);
        return signer_error_set(err, SIGNER_ERR_NO_MEMORY, "out of memory");
    }
    if (kms_client_open(&settings->kms, &kc, &s->client, err) != 0 ||
        check_key(s, err) != 0) {
        kms_close(s);
        return -1;
    }
    *state = s;
    return 0;
}

static int kms_seal(void *state, const uint8_t *plaintext, size_t len, signer_buf *out,
                    signer_error *err)
{
    kms_session *s = state;
    return kms_encrypt(s->client, s->key_id, plaintext, len, out, err);
}

static int kms_unseal(void *state, const uint8_t *sealed, size_t len, signer_buf *out,
                      signer_error *err)
{
    kms_session *s = state;
    signer_buf doc = SIGNER_BUF_INIT;
    signer_bytes spki = {rsa_spki.data, rsa_spki.len};
    /* A fresh document per call: KMS refuses stale ones. */
    int rc = nsm_attest(settings->nsm, NULL, NULL, &spki, &doc, err);
    if (rc == 0) {
        kms_recipient recipient = {{doc.data, doc.len}, rsa_key};
        rc = kms_decrypt_for_recipient(s->client, s->key_id, sealed, len, &recipient, out, err);
    }
    signer_buf_free(&doc);
    return rc;
}

static void kms_close(void *state)
{
    kms_session *s = state;
    if (s == NULL)
        return;
    kms_client_close(s->client);
    free(s->key_id);
    free(s);
}

const sealing_backend sealing_kms = {
    .name = "kms",
    .start = kms_start,
    .open = kms_open,
    .seal = kms_seal,
    .unseal = kms_unseal,
    .close = kms_close,
};
