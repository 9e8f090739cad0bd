/* A client of AWS KMS (or devkms) for the enclave: HTTPS with SigV4,
 * Encrypt, and Decrypt with a Recipient attestation document, whose
 * CiphertextForRecipient only the enclave's RSA key opens.
 *
 * The TCP stream can go through a stream proxy (vsock in an enclave), so
 * the enclave needs neither DNS nor a network: TLS runs end to end from
 * here to KMS.  One client per session; it keeps its connection alive
 * between calls.  Every function returns 0 or -1 and fills `err` with a
 * message that says what failed (network, TLS, KMS's own answer). */
#ifndef SIGNER_KMS_H
#define SIGNER_KMS_H

#include <openssl/types.h>
#include <stddef.h>
#include <stdint.h>

#include "signer/buf.h"
#include "signer/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* How to reach KMS; shared by every session of a process. */
typedef struct kms_settings {
    const char *endpoint;    /* https://HOST[:PORT] or HOST[:PORT]; NULL: the
                                region's kms.REGION.amazonaws.com */
    const char *proxy;       /* stream proxy address (net.h syntax), NULL: direct */
    const char *ca_file;     /* PEM bundle of trusted CAs; NULL: the system's */
    long connect_timeout_ms; /* 0: 5000 */
    long request_timeout_ms; /* per attempt; 0: 10000 */
    int max_attempts;        /* on network errors, 5xx and throttling; 0: 3 */
} kms_settings;

/* Who signs the requests (SigV4, service "kms"). */
typedef struct kms_credentials {
    const char *access_key_id;
    const char *secret_access_key;
    const char *session_token; /* NULL when not temporary credentials */
    const char *region;
} kms_credentials;

typedef struct kms_client kms_client;

/* Makes a client; copies what it needs from both arguments. */
int kms_client_open(const kms_settings *settings, const kms_credentials *credentials,
                    kms_client **out, signer_error *err);

/* KMS Encrypt: appends the ciphertext blob of `plaintext` under `key_id`. */
int kms_encrypt(kms_client *c, const char *key_id, const uint8_t *plaintext, size_t len,
                signer_buf *blob, signer_error *err);

/* The enclave side of Decrypt: its attestation document (carrying the DER
 * SubjectPublicKeyInfo of `key`) and the RSA private key. */
typedef struct kms_recipient {
    signer_bytes attestation_document;
    EVP_PKEY *key;
} kms_recipient;

/* KMS Decrypt of `blob` (which must be under `key_id`) with Recipient:
 * KMS answers CiphertextForRecipient, decrypted here with recipient->key;
 * the plaintext is appended to `plaintext`. */
int kms_decrypt_for_recipient(kms_client *c, const char *key_id, const uint8_t *blob, size_t len,
                              const kms_recipient *recipient, signer_buf *plaintext,
                              signer_error *err);

/* KMS DescribeKey: copies the key's KeyState ("Enabled", "Disabled",
 * "PendingDeletion", ...) into `state`. */
int kms_describe_key(kms_client *c, const char *key_id, char *state, size_t cap, signer_error *err);

/* The exception name of the last call's KMS error answer (for example
 * "AccessDeniedException"), or "" when it failed otherwise or succeeded. */
const char *kms_client_last_error(const kms_client *c);

void kms_client_close(kms_client *c);

/* Opens a CiphertextForRecipient: BER CMS EnvelopedData whose content key
 * is wrapped with RSAES-OAEP SHA-256 for `key`, content AES-256-CBC. */
int kms_recipient_open(EVP_PKEY *key, const uint8_t *cms, size_t len, signer_buf *plaintext,
                       signer_error *err);

/* Process-wide set-up (libcurl); call once before any client. */
int kms_global_init(signer_error *err);

#ifdef __cplusplus
}
#endif
#endif
