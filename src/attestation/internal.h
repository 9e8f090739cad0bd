/* Internal helpers of the attestation library: the COSE ES384 primitives. */
#ifndef SIGNER_ATTESTATION_INTERNAL_H
#define SIGNER_ATTESTATION_INTERNAL_H

#include <cbor.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "signer/attestation.h"
#include "signer_cbor.h" /* the bounded loader and writers shared with the RPC */

/* COSE algorithm identifier of ECDSA P-384 with SHA-384. */
#define ATT_COSE_ES384 (-35)

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
