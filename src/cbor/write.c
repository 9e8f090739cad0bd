/* Encoding CBOR items and frames straight into a buffer (no tree). */
#include <string.h>

#include "signer_cbor.h"

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

int signer_cbor_write_map(signer_buf *out, size_t entries, signer_error *err)
{
    return write_head(out, cbor_encode_map_start, entries, err);
}

int signer_cbor_write_text(signer_buf *out, const char *text, signer_error *err)
{
    size_t n = strlen(text);
    if (write_head(out, cbor_encode_string_start, n, err) != 0)
        return -1;
    return signer_buf_append(out, text, n, err);
}

int signer_cbor_write_bytes(signer_buf *out, const uint8_t *data, size_t len, signer_error *err)
{
    if (write_head(out, cbor_encode_bytestring_start, len, err) != 0)
        return -1;
    return signer_buf_append(out, data, len, err);
}

int signer_cbor_write_uint(signer_buf *out, uint64_t value, signer_error *err)
{
    if (signer_buf_reserve(out, HEADER_MAX, err) != 0)
        return -1;
    size_t n = cbor_encode_uint(value, out->data + out->len, out->cap - out->len);
    if (n == 0)
        return signer_error_set(err, SIGNER_ERR_NO_MEMORY, "CBOR encoding failed");
    out->len += n;
    return 0;
}

int signer_cbor_write_null(signer_buf *out, signer_error *err)
{
    if (signer_buf_reserve(out, 1, err) != 0)
        return -1;
    out->len += cbor_encode_null(out->data + out->len, 1);
    return 0;
}

int signer_cbor_write_bool(signer_buf *out, bool value, signer_error *err)
{
    if (signer_buf_reserve(out, 1, err) != 0)
        return -1;
    out->len += cbor_encode_bool(value, out->data + out->len, 1);
    return 0;
}

int signer_cbor_write_array(signer_buf *out, size_t items, signer_error *err)
{
    return write_head(out, cbor_encode_array_start, items, err);
}

int signer_cbor_write_int(signer_buf *out, int64_t value, signer_error *err)
{
    if (value >= 0)
        return signer_cbor_write_uint(out, (uint64_t)value, err);
    if (signer_buf_reserve(out, HEADER_MAX, err) != 0)
        return -1;
    /* CBOR stores a negative n as the unsigned -1 - n. */
    size_t n =
        cbor_encode_negint((uint64_t)(-(value + 1)), out->data + out->len, out->cap - out->len);
    if (n == 0)
        return signer_error_set(err, SIGNER_ERR_NO_MEMORY, "CBOR encoding failed");
    out->len += n;
    return 0;
}
