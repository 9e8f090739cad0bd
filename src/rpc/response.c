/* Responses: {"Ok": value} or {"Err": {"message": text, "source": ...}}. */
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "signer/memory.h"

/* ---- server side ---- */

static int begin_ok(signer_buf *out, size_t *mark, signer_error *err)
{
    return rpc_frame_begin(out, mark, err) || signer_cbor_write_map(out, 1, err) ||
                   signer_cbor_write_text(out, "Ok", err)
               ? -1
               : 0;
}

static int typed_bytes(signer_buf *out, signer_key_type type, const uint8_t *b, size_t n,
                       signer_error *err)
{
    return signer_cbor_write_map(out, 1, err) ||
                   signer_cbor_write_text(out, signer_key_type_name(type), err) ||
                   signer_cbor_write_bytes(out, b, n, err)
               ? -1
               : 0;
}

/* On failure the half-written frame is dropped so the stream stays valid. */
static int finish(signer_buf *out, size_t mark, int failed)
{
    if (failed) {
        signer_wipe(out->data + mark, out->len - mark);
        out->len = mark;
        return -1;
    }
    rpc_frame_end(out, mark);
    return 0;
}

int rpc_encode_ok_null(signer_buf *out, signer_error *err)
{
    size_t mark;
    if (begin_ok(out, &mark, err) != 0)
        return finish(out, mark, 1);
    return finish(out, mark, signer_cbor_write_null(out, err));
}

int rpc_encode_ok_typed_bytes(signer_buf *out, signer_key_type type, const uint8_t *bytes,
                              size_t len, signer_error *err)
{
    size_t mark;
    int failed = begin_ok(out, &mark, err) || typed_bytes(out, type, bytes, len, err);
    return finish(out, mark, failed);
}

int rpc_encode_ok_imported(signer_buf *out, signer_key_type type, const uint8_t *public_key,
                           size_t public_key_len, uint64_t handle, signer_error *err)
{
    size_t mark;
    int failed = begin_ok(out, &mark, err) || signer_cbor_write_map(out, 2, err) ||
                 signer_cbor_write_text(out, "public_key", err) ||
                 typed_bytes(out, type, public_key, public_key_len, err) ||
                 signer_cbor_write_text(out, "handle", err) ||
                 signer_cbor_write_uint(out, handle, err);
    return finish(out, mark, failed);
}

int rpc_encode_ok_sealed(signer_buf *out, const uint8_t *sealed, size_t sealed_len,
                         signer_key_type type, const uint8_t *public_key, size_t public_key_len,
                         const uint64_t *handle, signer_error *err)
{
    size_t mark;
    int failed = begin_ok(out, &mark, err) || signer_cbor_write_map(out, handle ? 3 : 2, err) ||
                 signer_cbor_write_text(out, "encrypted_private_key", err) ||
                 signer_cbor_write_bytes(out, sealed, sealed_len, err) ||
                 signer_cbor_write_text(out, "public_key", err) ||
                 typed_bytes(out, type, public_key, public_key_len, err) ||
                 (handle && (signer_cbor_write_text(out, "handle", err) ||
                             signer_cbor_write_uint(out, *handle, err)));
    return finish(out, mark, failed);
}

int rpc_encode_err(signer_buf *out, const char *message, signer_error *err)
{
    size_t mark;
    int failed = rpc_frame_begin(out, &mark, err) || signer_cbor_write_map(out, 1, err) ||
                 signer_cbor_write_text(out, "Err", err) || signer_cbor_write_map(out, 2, err) ||
                 signer_cbor_write_text(out, "message", err) ||
                 signer_cbor_write_text(out, message, err) ||
                 signer_cbor_write_text(out, "source", err) || signer_cbor_write_null(out, err);
    return finish(out, mark, failed);
}

/* ---- client side ---- */

typedef struct response_storage {
    cbor_item_t *root;
    signer_cbor_owned owned;
} response_storage;

static int decode_typed_bytes(const cbor_item_t *item, signer_cbor_owned *owned,
                              signer_key_type *type, rpc_bytes *out, signer_error *err)
{
    cbor_item_t *k, *v;
    if (signer_cbor_single_entry(item, "a typed value", &k, &v, err) != 0 ||
        rpc_cbor_key_type(k, type, err) != 0)
        return -1;
    return signer_cbor_bytes(v, owned, out, err);
}

/* Joins an Err's message with its chain of sources. */
static int decode_err(const cbor_item_t *e, signer_cbor_owned *owned, char **out, signer_error *err)
{
    signer_buf joined = SIGNER_BUF_INIT;
    for (int depth = 0; e != NULL && !signer_cbor_is_null(e) && depth < SIGNER_CBOR_MAX_DEPTH;
         depth++) {
        const cbor_item_t *msg = NULL, *src = NULL;
        if (cbor_isa_map(e)) {
            struct cbor_pair *p = cbor_map_handle(e);
            for (size_t i = 0; i < cbor_map_size(e); i++) {
                if (signer_cbor_text_is(p[i].key, "message"))
                    msg = p[i].value;
                else if (signer_cbor_text_is(p[i].key, "source"))
                    src = p[i].value;
            }
        }
        char *text;
        if (msg == NULL || signer_cbor_text_dup(msg, owned, &text, err) != 0) {
            signer_buf_free(&joined);
            return signer_error_set(err, SIGNER_ERR_PROTOCOL, "malformed Err answer");
        }
        if ((depth > 0 && signer_buf_append(&joined, ": ", 2, err) != 0) ||
            signer_buf_append(&joined, text, strlen(text), err) != 0) {
            signer_buf_free(&joined);
            return -1;
        }
        e = src;
    }
    char *s = signer_cbor_owned_alloc(owned, joined.len + 1, err);
    if (s != NULL && joined.len)
        memcpy(s, joined.data, joined.len);
    signer_buf_free(&joined);
    if (s == NULL)
        return -1;
    *out = s;
    return 0;
}

static int decode_ok(rpc_call call, const cbor_item_t *v, signer_cbor_owned *owned, rpc_response *r,
                     signer_error *err)
{
    switch (call) {
    case RPC_INITIALIZE: return 0;
    case RPC_SIGN:
    case RPC_SIGN_WITH:
    case RPC_PROVE_POSSESSION:
        return decode_typed_bytes(v, owned, &r->key_type, &r->signature, err);
    case RPC_PUBLIC_KEY:
    case RPC_PUBLIC_KEY_FROM:
        return decode_typed_bytes(v, owned, &r->key_type, &r->public_key, err);
    default: break;
    }
    /* Import, ImportUnencrypted, Generate, GenerateAndImport: a struct. */
    if (!cbor_isa_map(v))
        return signer_error_set(err, SIGNER_ERR_PROTOCOL, "expected a map");
    bool have_pk = false, have_sealed = false;
    struct cbor_pair *p = cbor_map_handle(v);
    for (size_t i = 0; i < cbor_map_size(v); i++) {
        if (signer_cbor_text_is(p[i].key, "public_key")) {
            if (decode_typed_bytes(p[i].value, owned, &r->key_type, &r->public_key, err) != 0)
                return -1;
            have_pk = true;
        } else if (signer_cbor_text_is(p[i].key, "encrypted_private_key")) {
            if (signer_cbor_bytes(p[i].value, owned, &r->encrypted_private_key, err) != 0)
                return -1;
            have_sealed = true;
        } else if (signer_cbor_text_is(p[i].key, "handle")) {
            if (signer_cbor_uint(p[i].value, &r->handle, err) != 0)
                return -1;
            r->has_handle = true;
        }
    }
    bool want_handle = call != RPC_GENERATE, want_sealed = call != RPC_IMPORT;
    if (!have_pk || (want_handle && !r->has_handle) || (want_sealed && !have_sealed))
        return signer_error_set(err, SIGNER_ERR_PROTOCOL, "answer lacks a field");
    return 0;
}

int rpc_response_decode(rpc_call call, const uint8_t *item, size_t item_len, rpc_response *resp,
                        signer_error *err)
{
    memset(resp, 0, sizeof(*resp));
    response_storage *st = calloc(1, sizeof(*st));
    if (st == NULL)
        return signer_error_set(err, SIGNER_ERR_NO_MEMORY, "out of memory");
    resp->internal_ = st;
    cbor_item_t *k, *v;
    if (signer_cbor_load(item, item_len, &st->root, err) != 0 ||
        signer_cbor_single_entry(st->root, "an answer", &k, &v, err) != 0)
        goto fail;
    if (signer_cbor_text_is(k, "Ok")) {
        resp->ok = true;
        if (decode_ok(call, v, &st->owned, resp, err) != 0)
            goto fail;
    } else if (signer_cbor_text_is(k, "Err")) {
        if (decode_err(v, &st->owned, &resp->error_message, err) != 0)
            goto fail;
    } else {
        signer_error_set(err, SIGNER_ERR_PROTOCOL, "answer is neither Ok nor Err");
        goto fail;
    }
    return 0;
fail:
    signer_error_wrap(err, "bad answer");
    rpc_response_free(resp);
    return -1;
}

void rpc_response_free(rpc_response *resp)
{
    response_storage *st = resp->internal_;
    if (st != NULL) {
        if (st->root != NULL) {
            signer_cbor_free(&st->root);
        }
        signer_cbor_owned_release(&st->owned);
        free(st);
    }
    memset(resp, 0, sizeof(*resp));
}
