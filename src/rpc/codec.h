/* Internals of the RPC codec shared by requests, answers and key maps. */
#ifndef SIGNER_RPC_CODEC_H
#define SIGNER_RPC_CODEC_H

#include "signer/rpc.h"
#include "signer_cbor.h"

/* Reads a key type: a text string with a wire name. */
int rpc_cbor_key_type(const cbor_item_t *item, signer_key_type *out, signer_error *err);

/* Frames: reserve the 4-byte header, then patch it with the item's length. */
int rpc_frame_begin(signer_buf *out, size_t *mark, signer_error *err);
void rpc_frame_end(signer_buf *out, size_t mark);

#endif
