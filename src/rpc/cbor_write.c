/* Encoding CBOR items and frames straight into a buffer (no tree). */
#include <string.h>

#include "cbor_util.h"

#define HEADER_MAX 9 /* the longest CBOR head: 1 byte + 8-byte argument */

typedef size_t (*head_encoder)(size_t, unsigned char *, size_t);

static int write_head(signer_buf *out, head_encoder enc, size_t value, signer_error *err)
{
    if (signer_buf_reserve(out, HEADER_MAX, err) != 0)
        return -1;
    size_t n = enc(value, out->data + out->len, out->cap - out->len);
    if (n == 0)
        return signer_error_set(err, SIGNER_ERR_NO_MEMORY, "CBOR encoding failed");
    out->len += n;
    return 0;
}

int rpc_cw_map(signer_buf *out, size_t entries, signer_error *err)
{
    return write_head(out, cbor_encode_map_start, entries, err);
}

int rpc_cw_text(signer_buf *out, const char *text, signer_error *err)
{
    size_t n = strlen(text);
    if (write_head(out, cbor_encode_string_start, n, err) != 0)
        return -1;
    return signer_buf_append(out, text, n, err);
}

int rpc_cw_bytes(signer_buf *out, const uint8_t *data, size_t len, signer_error *err)
{
    if (write_head(out, cbor_encode_bytestring_start, len, err) != 0)
        return -1;
    return signer_buf_append(out, data, len, err);
}

int rpc_cw_uint(signer_buf *out, uint64_t value, signer_error *err)
{
    if (signer_buf_reserve(out, HEADER_MAX, err) != 0)
        return -1;
    size_t n = cbor_encode_uint(value, out->data + out->len, out->cap - out->len);
    if (n == 0)
        return signer_error_set(err, SIGNER_ERR_NO_MEMORY, "CBOR encoding failed");
    out->len += n;
    return 0;
}

int rpc_cw_null(signer_buf *out, signer_error *err)
{
    if (signer_buf_reserve(out, 1, err) != 0)
        return -1;
    out->len += cbor_encode_null(out->data + out->len, 1);
    return 0;
}

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
