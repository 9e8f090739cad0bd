/* Internal helpers of the attestation library: bounded CBOR decoding, a
 * tiny CBOR writer and the COSE ES384 primitives. */
#ifndef SIGNER_ATTESTATION_INTERNAL_H
#define SIGNER_ATTESTATION_INTERNAL_H

#include <cbor.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "signer/attestation.h"

/* Deepest nesting accepted; a document needs 3 (payload map -> pcrs map ->
 * value), the COSE envelope 2 (array -> tag). */
#define ATT_CBOR_MAX_DEPTH 8

/* COSE algorithm identifier of ECDSA P-384 with SHA-384. */
#define ATT_COSE_ES384 (-35)

/* Decodes exactly one CBOR item filling all of `data`.  A streaming pass
 * first checks that no array or map claims more entries than there are
 * bytes left and that nesting (tags included) stays within
 * ATT_CBOR_MAX_DEPTH, so libcbor never allocates what a length field claims
 * and freeing the tree never recurses deeply. */
int att_cbor_load(const uint8_t *data, size_t len, cbor_item_t **out, signer_error *err);

/* CBOR writers appending to `out`. */
int att_cw_head_array(signer_buf *out, size_t items, signer_error *err);
int att_cw_head_map(signer_buf *out, size_t entries, signer_error *err);
int att_cw_text(signer_buf *out, const char *text, signer_error *err);
int att_cw_bytes(signer_buf *out, const uint8_t *data, size_t len, signer_error *err);
int att_cw_uint(signer_buf *out, uint64_t value, signer_error *err);
int att_cw_negint(signer_buf *out, int64_t value, signer_error *err);
int att_cw_null(signer_buf *out, signer_error *err);

/* The bytes ES384 signs: the CBOR Sig_structure
 * ["Signature1", protected, h'', payload]. */
int att_cose_sig_structure(const uint8_t *protected_header, size_t protected_len,
                           const uint8_t *payload, size_t payload_len, signer_buf *out,
                           signer_error *err);

/* Signs `msg` with a P-384 key: SHA-384, ECDSA, then the COSE r||s form. */
int att_es384_sign(EVP_PKEY *key, const uint8_t *msg, size_t len,
                   uint8_t sig[SIGNER_ATTESTATION_SIGNATURE_BYTES], signer_error *err);

/* Verifies a COSE r||s ES384 signature.  Returns 0 when it verifies, -1
 * with SIGNER_ERR_INVALID_KEY when it does not (or SIGNER_ERR_CRYPTO, or
 * SIGNER_ERR_NO_MEMORY). */
int att_es384_verify(EVP_PKEY *key, const uint8_t *msg, size_t len,
                     const uint8_t sig[SIGNER_ATTESTATION_SIGNATURE_BYTES], signer_error *err);

/* True when `key` is an EC key on P-384. */
int att_key_is_p384(EVP_PKEY *key);

/* Decodes a whole DER certificate (no trailing bytes), or NULL. */
X509 *att_x509_from_der(const uint8_t *der, size_t len);

#endif
