/* AWS Nitro Enclaves attestation documents: parse, verify and encode.
 *
 * A document is a COSE_Sign1 structure (RFC 9052), untagged or with CBOR
 * tag 18: an array [protected, unprotected, payload, signature] where
 * `protected` is a byte string holding the map {1: -35} (ES384), `payload`
 * is a byte string holding the CBOR map below and `signature` is the 96-byte
 * r||s ECDSA P-384 signature over the Sig_structure
 * ["Signature1", protected, h'', payload] made with the key of `certificate`.
 *
 * Payload map (text keys): module_id (text), digest ("SHA384"), timestamp
 * (milliseconds since the Unix epoch), pcrs ({index 0..31: 32, 48 or 64
 * bytes}), certificate (DER), cabundle (array of DER certificates, root
 * first), and the optional public_key, user_data and nonce (bytes, or null,
 * or absent).
 *
 * The parser never allocates what a length field claims before checking it
 * against the input; the verifier checks the signature, the certificate
 * chain up to a root you give it, and the document's age.  The encoder is
 * the other half: it builds and signs a document from fields, a P-384 key
 * and its certificate chain (the software NSM uses it). */
#ifndef SIGNER_ATTESTATION_H
#define SIGNER_ATTESTATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "signer/buf.h"
#include "signer/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SIGNER_ATTESTATION_MAX_BYTES (32u * 1024) /* largest document parsed */
#define SIGNER_ATTESTATION_PCR_COUNT 32           /* PCR indexes 0..31 */
#define SIGNER_ATTESTATION_PCR_MAX 64             /* a PCR is 32, 48 or 64 bytes */
#define SIGNER_ATTESTATION_CABUNDLE_MAX 16        /* certificates in cabundle */
#define SIGNER_ATTESTATION_CERT_MAX 1024          /* bytes of one DER certificate */
#define SIGNER_ATTESTATION_MODULE_ID_MAX 256      /* bytes of module_id */
#define SIGNER_ATTESTATION_PUBLIC_KEY_MAX 1024
#define SIGNER_ATTESTATION_USER_DATA_MAX 512
#define SIGNER_ATTESTATION_NONCE_MAX 512
#define SIGNER_ATTESTATION_SIGNATURE_BYTES 96 /* ES384 r||s */

/* A byte string.  For the optional fields `present` is false when the field
 * is absent or null; an empty but present value has present=true, len=0. */
typedef struct signer_attestation_bytes {
    const uint8_t *data;
    size_t len;
    bool present;
} signer_attestation_bytes;

/* One PCR; len is 0 when the document has no value at this index. */
typedef struct signer_attestation_pcr {
    uint8_t value[SIGNER_ATTESTATION_PCR_MAX];
    size_t len;
} signer_attestation_pcr;

/* A parsed document.  Every byte view points into memory the document owns
 * until signer_attestation_doc_free. */
typedef struct signer_attestation_doc {
    char *module_id; /* NUL-terminated, non-empty */
    char digest[8];  /* always "SHA384" */
    uint64_t timestamp_ms;
    signer_attestation_pcr pcrs[SIGNER_ATTESTATION_PCR_COUNT];
    signer_attestation_bytes certificate; /* the signing (leaf) certificate, DER */
    signer_attestation_bytes cabundle[SIGNER_ATTESTATION_CABUNDLE_MAX]; /* root first */
    size_t cabundle_count;
    signer_attestation_bytes public_key; /* DER SubjectPublicKeyInfo by convention */
    signer_attestation_bytes user_data;
    signer_attestation_bytes nonce;
    /* The COSE_Sign1 parts the signature covers, as they were on the wire. */
    signer_attestation_bytes protected_header;
    signer_attestation_bytes payload;
    uint8_t signature[SIGNER_ATTESTATION_SIGNATURE_BYTES];
    void *storage; /* private: the decoded CBOR the views point into */
} signer_attestation_doc;

/* Parses a document (COSE_Sign1 bytes) and checks every field's type and
 * size as AWS specifies them.  It does not check the signature, the
 * certificates or the time: see signer_attestation_verify.  On success the
 * caller owns `doc` and releases it with signer_attestation_doc_free; on
 * failure `doc` holds nothing to free.  Errors: SIGNER_ERR_PROTOCOL (not a
 * well-formed document; the message says which part), SIGNER_ERR_NO_MEMORY. */
int signer_attestation_parse(const uint8_t *data, size_t len, signer_attestation_doc *doc,
                             signer_error *err);

/* Releases a parsed document (a zeroed or already freed one is fine). */
void signer_attestation_doc_free(signer_attestation_doc *doc);

/* What the verifier is given. */
typedef struct signer_attestation_verify_options {
    const uint8_t *root_der; /* the trusted root certificate, DER */
    size_t root_der_len;
    uint64_t now_ms;        /* time to check at, ms since the epoch; 0 = now */
    uint64_t max_age_ms;    /* refuse documents older than this; 0 = any age */
    uint64_t max_future_ms; /* tolerated clock skew for timestamps ahead of now */
} signer_attestation_verify_options;

/* Why a document was refused by signer_attestation_verify. */
typedef enum signer_attestation_failure {
    SIGNER_ATTESTATION_OK = 0,
    SIGNER_ATTESTATION_BAD_CERTIFICATE, /* leaf unreadable, not P-384, wrong key usage */
    SIGNER_ATTESTATION_BAD_CHAIN,       /* no valid chain to the root at that time */
    SIGNER_ATTESTATION_BAD_SIGNATURE,   /* the COSE signature does not verify */
    SIGNER_ATTESTATION_EXPIRED,         /* older than max_age_ms */
    SIGNER_ATTESTATION_FROM_FUTURE,     /* timestamp later than now + max_future_ms */
} signer_attestation_failure;

/* Verifies a parsed document: the leaf certificate chains through cabundle
 * to the root in `opts` (OpenSSL's X509_verify_cert at opts->now_ms, so
 * every certificate must be valid then), the leaf is a P-384 key allowed to
 * sign, the ES384 signature over the Sig_structure verifies with it, and
 * the timestamp is within max_age_ms before now and max_future_ms after.
 * Returns 0 when all hold.  Otherwise -1, with `*failure` (if non-NULL)
 * saying which check failed and `err` (SIGNER_ERR_INVALID_KEY for a refusal,
 * SIGNER_ERR_INVALID_ARGUMENT for bad options, SIGNER_ERR_NO_MEMORY or
 * SIGNER_ERR_CRYPTO) carrying a message that names the reason. */
int signer_attestation_verify(const signer_attestation_doc *doc,
                              const signer_attestation_verify_options *opts,
                              signer_attestation_failure *failure, signer_error *err);

/* A short name for a failure, e.g. "bad signature". */
const char *signer_attestation_failure_name(signer_attestation_failure failure);

/* Reads one certificate from a PEM or DER file into `der` (replacing what
 * it held), e.g. the root to verify against. */
int signer_attestation_certificate_load(const char *path, signer_buf *der, signer_error *err);

/* The fields of a document to encode.  PCR entries with len 0 are left out
 * (at least one is required); optional byte strings with present=false are
 * written as null, as the NSM does. */
typedef struct signer_attestation_fields {
    const char *module_id;
    uint64_t timestamp_ms;
    const signer_attestation_pcr *pcrs; /* SIGNER_ATTESTATION_PCR_COUNT entries */
    signer_attestation_bytes public_key;
    signer_attestation_bytes user_data;
    signer_attestation_bytes nonce;
} signer_attestation_fields;

/* Who signs: a P-384 private key, its certificate and the CA bundle from
 * the root down to the certificate's issuer. */
typedef struct signer_attestation_issuer {
    signer_attestation_bytes key_der;         /* PKCS#8 or SEC1 DER; a secret */
    signer_attestation_bytes certificate;     /* DER, for key_der's public key */
    const signer_attestation_bytes *cabundle; /* DER certificates, root first */
    size_t cabundle_count;
} signer_attestation_issuer;

/* Encodes `fields` as a document signed with ES384 by `issuer` and appends
 * it to `out` (untagged COSE_Sign1, digest "SHA384", the NSM's field order).
 * The fields must satisfy the limits the parser enforces, and the key must
 * be the certificate's.  Errors: SIGNER_ERR_INVALID_ARGUMENT (bad field),
 * SIGNER_ERR_INVALID_KEY (key unreadable, not P-384, or not the
 * certificate's), SIGNER_ERR_CRYPTO, SIGNER_ERR_NO_MEMORY. */
int signer_attestation_encode(const signer_attestation_fields *fields,
                              const signer_attestation_issuer *issuer, signer_buf *out,
                              signer_error *err);

#ifdef __cplusplus
}
#endif
#endif
