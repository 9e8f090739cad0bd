/* RPC codec: frames and the CBOR shapes of the ten calls, compatible with
 * the Rust tee-signer (serde externally tagged enums) and Signatory's client.
 *
 * Framing: a 4-byte big-endian length N, then N bytes holding exactly one
 * CBOR data item.  Both directions.
 *
 * Bytes are accepted as a byte string (definite or indefinite), an array of
 * unsigned integers 0..255, or null (empty); they are always emitted as a
 * definite byte string.  Unknown extra map keys in arguments are ignored. */
#ifndef SIGNER_RPC_H
#define SIGNER_RPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "signer/buf.h"
#include "signer/crypto.h"
#include "signer/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RPC_FRAME_HEADER_BYTES 4
#define RPC_FRAME_DEFAULT_MAX (1u << 20) /* 1 MiB */
#define RPC_FRAME_LIMIT (64u << 20)      /* highest cap an operator may set */

typedef enum rpc_call {
    RPC_INITIALIZE = 0,
    RPC_IMPORT,
    RPC_IMPORT_UNENCRYPTED,
    RPC_GENERATE,
    RPC_GENERATE_AND_IMPORT,
    RPC_SIGN,
    RPC_SIGN_WITH,
    RPC_PUBLIC_KEY,
    RPC_PUBLIC_KEY_FROM,
    RPC_PROVE_POSSESSION,
} rpc_call;

#define RPC_CALL_COUNT 10

/* Wire name of a call, e.g. "GenerateAndImport". */
const char *rpc_call_name(rpc_call call);

typedef signer_bytes rpc_bytes;

/* Initialize's argument.  Every field is a NUL-terminated string or NULL
 * when absent (or null on the wire). */
typedef struct rpc_credentials {
    char *access_key_id;
    char *secret_access_key;
    char *session_token;
    char *encryption_key_id;
    char *region;
} rpc_credentials;

/* A decoded request, or one to encode.  Which fields are used depends on
 * `call`:
 *   Initialize:          credentials
 *   Import:              data (sealed key)
 *   ImportUnencrypted:   key_type, data (raw private key)
 *   Generate(AndImport): key_type
 *   Sign:                handle, message, version
 *   SignWith:            data (sealed key), message, version
 *   PublicKey:           handle
 *   PublicKeyFrom:       data (sealed key)
 *   ProvePossession:     handle
 * `version` is SIGNER_VERSION_LATEST when absent on the wire; when encoding,
 * `has_version` says whether to send it. */
typedef struct rpc_request {
    rpc_call call;
    signer_key_type key_type;
    uint64_t handle;
    unsigned version;
    bool has_version;
    rpc_bytes data;
    rpc_bytes message;
    rpc_credentials credentials;
    void *internal_; /* decoder-owned storage; freed by rpc_request_free */
} rpc_request;

/* Decodes one request item (the frame's payload, without the length).
 * On failure `err` says what is wrong with the input; nothing to free. */
int rpc_request_decode(const uint8_t *item, size_t item_len, rpc_request *req, signer_error *err);

/* Wipes and frees what rpc_request_decode allocated. */
void rpc_request_free(rpc_request *req);

/* Appends `req` to `out` as one frame (client side). */
int rpc_request_encode(const rpc_request *req, signer_buf *out, signer_error *err);

/* Server-side answers, each appended to `out` as one frame. */
int rpc_encode_ok_null(signer_buf *out, signer_error *err);
/* {"Ok": {Type: bytes}}: a public key, a signature or a proof of possession. */
int rpc_encode_ok_typed_bytes(signer_buf *out, signer_key_type type, const uint8_t *bytes,
                              size_t len, signer_error *err);
/* Import: {"Ok": {"public_key": {Type: bytes}, "handle": n}}. */
int rpc_encode_ok_imported(signer_buf *out, signer_key_type type, const uint8_t *public_key,
                           size_t public_key_len, uint64_t handle, signer_error *err);
/* Generate, GenerateAndImport, ImportUnencrypted:
 * {"Ok": {"encrypted_private_key": bytes, "public_key": {...}[, "handle": n]}}.
 * `handle` NULL leaves the handle out (Generate). */
int rpc_encode_ok_sealed(signer_buf *out, const uint8_t *sealed, size_t sealed_len,
                         signer_key_type type, const uint8_t *public_key, size_t public_key_len,
                         const uint64_t *handle, signer_error *err);
/* {"Err": {"message": text, "source": null}}. */
int rpc_encode_err(signer_buf *out, const char *message, signer_error *err);

/* A decoded answer (client side). */
typedef struct rpc_response {
    bool ok;
    char *error_message;      /* Err: the message, with sources joined by ": " */
    signer_key_type key_type; /* type of public_key / signature */
    rpc_bytes public_key;
    rpc_bytes signature; /* Sign, SignWith, ProvePossession */
    rpc_bytes encrypted_private_key;
    bool has_handle;
    uint64_t handle;
    void *internal_;
} rpc_response;

/* Decodes the answer to `call` (the frame's payload, without the length). */
int rpc_response_decode(rpc_call call, const uint8_t *item, size_t item_len, rpc_response *resp,
                        signer_error *err);
void rpc_response_free(rpc_response *resp);

/* The private-key map {Type: bytes(32)}: the plaintext that gets sealed. */
int rpc_private_key_encode(const signer_key *key, signer_buf *out, signer_error *err);
/* Parses and validates a private-key map into `key`. */
int rpc_private_key_decode(const uint8_t *item, size_t item_len, signer_key *key,
                           signer_error *err);

/* Big-endian length from a frame header. */
uint32_t rpc_frame_length(const uint8_t header[RPC_FRAME_HEADER_BYTES]);

#ifdef __cplusplus
}
#endif
#endif
