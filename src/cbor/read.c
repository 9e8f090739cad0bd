/* Reading typed values out of a decoded CBOR tree. */
#include <stdlib.h>
#include <string.h>

#include "signer_cbor.h"
#include "signer/memory.h"

void *signer_cbor_owned_alloc(signer_cbor_owned *owned, size_t len, signer_error *err)
{
    if (owned->count >= (int)(sizeof(owned->ptrs) / sizeof(owned->ptrs[0]))) {
        signer_error_set(err, SIGNER_ERR_PROTOCOL, "too many fields");
        return NULL;
    }
    void *p = calloc(1, len ? len : 1);
    if (p == NULL) {
        signer_error_set(err, SIGNER_ERR_NO_MEMORY, "out of memory (%zu bytes)", len);
        return NULL;
    }
    owned->ptrs[owned->count] = p;
    owned->lens[owned->count] = len;
    owned->count++;
    return p;
}

void signer_cbor_owned_release(signer_cbor_owned *owned)
{
    for (int i = 0; i < owned->count; i++) {
        signer_wipe(owned->ptrs[i], owned->lens[i]);
        free(owned->ptrs[i]);
    }
    owned->count = 0;
}

size_t signer_cbor_wipe(cbor_item_t *item)
{
    size_t n = 1;
    switch (cbor_typeof(item)) {
    case CBOR_TYPE_UINT:
    case CBOR_TYPE_NEGINT:
        switch (cbor_int_get_width(item)) {
        case CBOR_INT_8: cbor_set_uint8(item, 0); break;
        case CBOR_INT_16: cbor_set_uint16(item, 0); break;
        case CBOR_INT_32: cbor_set_uint32(item, 0); break;
        case CBOR_INT_64: cbor_set_uint64(item, 0); break;
        }
        break;
    case CBOR_TYPE_BYTESTRING:
    case CBOR_TYPE_STRING:
        if (cbor_isa_bytestring(item) ? cbor_bytestring_is_definite(item)
                                      : cbor_string_is_definite(item)) {
            unsigned char *h =
                cbor_isa_bytestring(item) ? cbor_bytestring_handle(item) : cbor_string_handle(item);
            signer_wipe(h, cbor_isa_bytestring(item) ? cbor_bytestring_length(item)
                                                     : cbor_string_length(item));
        } else {
            size_t chunks_n = cbor_isa_bytestring(item) ? cbor_bytestring_chunk_count(item)
                                                        : cbor_string_chunk_count(item);
            cbor_item_t **chunks = cbor_isa_bytestring(item) ? cbor_bytestring_chunks_handle(item)
                                                             : cbor_string_chunks_handle(item);
            for (size_t i = 0; i < chunks_n; i++)
                n += signer_cbor_wipe(chunks[i]);
        }
        break;
    case CBOR_TYPE_ARRAY: {
        cbor_item_t **items = cbor_array_handle(item);
        for (size_t i = 0; i < cbor_array_size(item); i++)
            n += signer_cbor_wipe(items[i]);
        break;
    }
    case CBOR_TYPE_MAP: {
        struct cbor_pair *pairs = cbor_map_handle(item);
        for (size_t i = 0; i < cbor_map_size(item); i++)
            n += signer_cbor_wipe(pairs[i].key) + signer_cbor_wipe(pairs[i].value);
        break;
    }
    case CBOR_TYPE_TAG: {
        cbor_item_t *inner = cbor_tag_item(item); /* takes a reference */
        n += signer_cbor_wipe(inner);
        cbor_decref(&inner);
        break;
    }
    default: break;
    }
    return n;
}

int signer_cbor_string(const cbor_item_t *item, signer_cbor_owned *owned, signer_bytes *out,
                       signer_error *err)
{
    bool bytes = cbor_isa_bytestring(item);
    bool definite = bytes ? cbor_bytestring_is_definite(item) : cbor_string_is_definite(item);
    if (definite) {
        out->data = bytes ? cbor_bytestring_handle(item) : cbor_string_handle(item);
        out->len = bytes ? cbor_bytestring_length(item) : cbor_string_length(item);
        return 0;
    }
    size_t n = bytes ? cbor_bytestring_chunk_count(item) : cbor_string_chunk_count(item);
    cbor_item_t **chunks =
        bytes ? cbor_bytestring_chunks_handle(item) : cbor_string_chunks_handle(item);
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += bytes ? cbor_bytestring_length(chunks[i]) : cbor_string_length(chunks[i]);
    uint8_t *copy = signer_cbor_owned_alloc(owned, total, err);
    if (copy == NULL)
        return -1;
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        size_t l = bytes ? cbor_bytestring_length(chunks[i]) : cbor_string_length(chunks[i]);
        memcpy(copy + at, bytes ? cbor_bytestring_handle(chunks[i]) : cbor_string_handle(chunks[i]),
               l);
        at += l;
    }
    out->data = copy;
    out->len = total;
    return 0;
}

/* A simple value (null, true, false, ...), not a float. */
static bool is_ctrl(const cbor_item_t *item)
{
    return cbor_isa_float_ctrl(item) && cbor_float_get_width(item) == CBOR_FLOAT_0;
}

bool signer_cbor_is_null(const cbor_item_t *item)
{
    return is_ctrl(item) && cbor_ctrl_value(item) == CBOR_CTRL_NULL;
}

bool signer_cbor_is_bool(const cbor_item_t *item)
{
    return is_ctrl(item) &&
           (cbor_ctrl_value(item) == CBOR_CTRL_TRUE || cbor_ctrl_value(item) == CBOR_CTRL_FALSE);
}

bool signer_cbor_bool_value(const cbor_item_t *item)
{
    return is_ctrl(item) && cbor_ctrl_value(item) == CBOR_CTRL_TRUE;
}

bool signer_cbor_text_is(const cbor_item_t *item, const char *s)
{
    if (!cbor_isa_string(item))
        return false;
    size_t n = strlen(s);
    if (cbor_string_is_definite(item))
        return cbor_string_length(item) == n && memcmp(cbor_string_handle(item), s, n) == 0;
    size_t at = 0;
    cbor_item_t **chunks = cbor_string_chunks_handle(item);
    for (size_t i = 0; i < cbor_string_chunk_count(item); i++) {
        size_t l = cbor_string_length(chunks[i]);
        if (l > n - at || memcmp(cbor_string_handle(chunks[i]), s + at, l) != 0)
            return false;
        at += l;
    }
    return at == n;
}

int signer_cbor_text_dup(const cbor_item_t *item, signer_cbor_owned *owned, char **out,
                         signer_error *err)
{
    signer_bytes b;
    signer_cbor_owned scratch = {0};
    if (!cbor_isa_string(item))
        return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT, "expected a text string");
    if (signer_cbor_string(item, &scratch, &b, err) != 0)
        return -1;
    char *s = signer_cbor_owned_alloc(owned, b.len + 1, err);
    if (s != NULL) {
        memcpy(s, b.data, b.len);
        s[b.len] = '\0';
    }
    signer_cbor_owned_release(&scratch);
    if (s == NULL)
        return -1;
    if (strlen(s) != b.len)
        return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT, "text contains a NUL byte");
    *out = s;
    return 0;
}

int signer_cbor_bytes(const cbor_item_t *item, signer_cbor_owned *owned, signer_bytes *out,
                      signer_error *err)
{
    if (cbor_isa_bytestring(item))
        return signer_cbor_string(item, owned, out, err);
    if (signer_cbor_is_null(item)) {
        out->data = (const uint8_t *)"";
        out->len = 0;
        return 0;
    }
    if (!cbor_isa_array(item))
        return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT,
                                "expected bytes (a byte string or an array of integers)");
    size_t n = cbor_array_size(item);
    uint8_t *copy = signer_cbor_owned_alloc(owned, n, err);
    if (copy == NULL)
        return -1;
    cbor_item_t **items = cbor_array_handle(item);
    for (size_t i = 0; i < n; i++) {
        uint64_t v;
        if (!cbor_isa_uint(items[i]) || (v = cbor_get_int(items[i])) > 255)
            return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT,
                                    "byte array element %zu is not an integer 0..255", i);
        copy[i] = (uint8_t)v;
    }
    out->data = copy;
    out->len = n;
    return 0;
}

int signer_cbor_uint(const cbor_item_t *item, uint64_t *out, signer_error *err)
{
    if (!cbor_isa_uint(item))
        return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT, "expected an unsigned integer");
    *out = cbor_get_int(item);
    return 0;
}

int signer_cbor_single_entry(const cbor_item_t *map, const char *what, cbor_item_t **key,
                             cbor_item_t **value, signer_error *err)
{
    if (!cbor_isa_map(map) || cbor_map_size(map) != 1)
        return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT,
                                "%s must be a map with exactly one entry", what);
    struct cbor_pair *pair = cbor_map_handle(map);
    *key = pair->key;
    *value = pair->value;
    return 0;
}
