/* Internals of the KMS client: JSON bodies in and out. */
#ifndef SIGNER_KMS_INTERNAL_H
#define SIGNER_KMS_INTERNAL_H

#include <stdbool.h>

#include "signer/kms.h"

/* {"KeyId": ..., "Plaintext": base64}.  `body` holds a secret: wipe it. */
int kms_json_encrypt_body(const char *key_id, const uint8_t *plaintext, size_t len,
                          signer_buf *body, signer_error *err);

/* {"KeyId": ...} */
int kms_json_describe_body(const char *key_id, signer_buf *body, signer_error *err);

/* {"KeyId": ..., "CiphertextBlob": base64, "Recipient": {
 *   "KeyEncryptionAlgorithm": "RSAES_OAEP_SHA_256", "AttestationDocument": base64}} */
int kms_json_decrypt_body(const char *key_id, const uint8_t *blob, size_t len,
                          const signer_bytes *attestation_document, signer_buf *body,
                          signer_error *err);

/* Appends the base64-decoded string field `name` of the JSON object in
 * `body`.  A body that is not such an object is SIGNER_ERR_PROTOCOL. */
int kms_json_blob(const char *body, size_t len, const char *name, signer_buf *out,
                  signer_error *err);

/* Copies KeyMetadata.KeyState of a DescribeKey answer. */
int kms_json_key_state(const char *body, size_t len, char *state, size_t cap, signer_error *err);

/* Reads an error answer {"__type": "...#NameException", "message": ...}:
 * the exception's short name and its message (either may come back
 * empty).  Returns -1 when the body is not such an object. */
int kms_json_error(const char *body, size_t len, char *type, size_t type_cap, char *message,
                   size_t message_cap);

/* True for the errors worth retrying (throttling, KMS's internal error). */
bool kms_error_is_transient(const char *type);

#endif
