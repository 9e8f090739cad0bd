/* Frames: a 4-byte big-endian length, then one CBOR item. */
#include "codec.h"

int rpc_frame_begin(signer_buf *out, size_t *mark, signer_error *err)
{
    static const uint8_t zero[RPC_FRAME_HEADER_BYTES];
    *mark = out->len;
    return signer_buf_append(out, zero, sizeof(zero), err);
}

void rpc_frame_end(signer_buf *out, size_t mark)
{
    size_t n = out->len - mark - RPC_FRAME_HEADER_BYTES;
    uint8_t *h = out->data + mark;
    h[0] = (uint8_t)(n >> 24);
    h[1] = (uint8_t)(n >> 16);
    h[2] = (uint8_t)(n >> 8);
    h[3] = (uint8_t)n;
}

uint32_t rpc_frame_length(const uint8_t h[RPC_FRAME_HEADER_BYTES])
{
    return (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
}
