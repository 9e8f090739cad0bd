/* Internal CBOR helpers of the RPC codec (libcbor underneath). */
#ifndef SIGNER_RPC_CBOR_UTIL_H
#define SIGNER_RPC_CBOR_UTIL_H

#include <cbor.h>
#include <stdbool.h>

#include "signer/buf.h"
#include "signer/rpc.h"

#define RPC_CBOR_MAX_DEPTH 16

/* Decodes exactly one CBOR item filling all of `data`.  Before libcbor
 * builds the tree, a streaming pass checks that no declared length exceeds
 * the bytes left and that nesting stays within RPC_CBOR_MAX_DEPTH, so a
 * small input can never make the decoder allocate a large amount. */
int rpc_cbor_load(const uint8_t *data, size_t len, cbor_item_t **out, signer_error *err);

/* Zeroes every string and integer in the tree (before cbor_decref), so
 * secrets that came over the wire do not linger in freed memory. */
void rpc_cbor_wipe(cbor_item_t *item);

/* Heap copies owned by a decoded message, wiped on release. */
typedef struct rpc_owned {
    void *ptrs[8];
    size_t lens[8];
    int count;
} rpc_owned;

void *rpc_owned_alloc(rpc_owned *owned, size_t len, signer_error *err);
void rpc_owned_release(rpc_owned *owned);

/* True when `item` is a text string equal to `s`. */
bool rpc_cbor_text_is(const cbor_item_t *item, const char *s);

/* Copies a text string into a NUL-terminated owned string. */
int rpc_cbor_text_dup(const cbor_item_t *item, rpc_owned *owned, char **out,
                      signer_error *err);

/* Reads bytes: a byte string, an array of integers 0..255, or null (empty). */
int rpc_cbor_bytes(const cbor_item_t *item, rpc_owned *owned, rpc_bytes *out,
                   signer_error *err);

/* Reads an unsigned integer. */
int rpc_cbor_uint(const cbor_item_t *item, uint64_t *out, signer_error *err);

/* Reads a key type: a text string with a wire name. */
int rpc_cbor_key_type(const cbor_item_t *item, signer_key_type *out, signer_error *err);

/* The single entry of a one-entry map ({Name: value}). */
int rpc_cbor_single_entry(const cbor_item_t *map, const char *what, cbor_item_t **key,
                          cbor_item_t **value, signer_error *err);

/* Encoders appending to a buffer. */
int rpc_cw_map(signer_buf *out, size_t entries, signer_error *err);
int rpc_cw_text(signer_buf *out, const char *text, signer_error *err);
int rpc_cw_bytes(signer_buf *out, const uint8_t *data, size_t len, signer_error *err);
int rpc_cw_uint(signer_buf *out, uint64_t value, signer_error *err);
int rpc_cw_null(signer_buf *out, signer_error *err);

/* Frames: reserve the 4-byte header, then patch it with the item's length. */
int rpc_frame_begin(signer_buf *out, size_t *mark, signer_error *err);
void rpc_frame_end(signer_buf *out, size_t mark);

#endif
