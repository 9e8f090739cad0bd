/* Requests: {CallName: argument}, serde's externally tagged enum. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"

typedef struct request_storage {
    cbor_item_t *root;
    signer_cbor_owned owned;
} request_storage;

/* A struct argument's fields: name -> where the value is, found once. */
typedef struct field {
    const char *name;
    cbor_item_t *value;
} field;

static int collect_fields(const cbor_item_t *map, field *fields, size_t n, signer_error *err)
{
    if (!cbor_isa_map(map))
        return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT,
                                "argument must be a map of named fields");
    struct cbor_pair *pairs = cbor_map_handle(map);
    for (size_t i = 0; i < cbor_map_size(map); i++) {
        if (!cbor_isa_string(pairs[i].key))
            continue; /* not a field name: an unknown key, ignored like the others */
        for (size_t f = 0; f < n; f++) {
            if (!signer_cbor_text_is(pairs[i].key, fields[f].name))
                continue;
            if (fields[f].value != NULL)
                return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT, "duplicate field %s",
                                        fields[f].name);
            fields[f].value = pairs[i].value;
        }
        /* Unknown fields are ignored, as serde does by default. */
    }
    return 0;
}

static int require(const field *f, signer_error *err)
{
    if (f->value == NULL)
        return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT, "missing field %s", f->name);
    return 0;
}

/* Wraps an argument error with the field's name. */
static int field_error(signer_error *err, const char *name)
{
    return signer_error_wrap(err, name);
}

static int decode_version(const cbor_item_t *item, rpc_request *req, signer_error *err)
{
    if (item == NULL || signer_cbor_is_null(item))
        return 0; /* absent means latest */
    uint64_t v;
    if (signer_cbor_uint(item, &v, err) != 0)
        return field_error(err, "version");
    if (v > SIGNER_VERSION_LATEST)
        return signer_error_set(err, SIGNER_ERR_UNSUPPORTED, "unsupported signing version %llu",
                                (unsigned long long)v);
    req->version = (unsigned)v;
    req->has_version = true;
    return 0;
}

static int decode_credentials(const cbor_item_t *arg, signer_cbor_owned *owned, rpc_credentials *c,
                              signer_error *err)
{
    if (signer_cbor_is_null(arg))
        return 0;
    field f[] = {{"access_key_id", NULL},
                 {"secret_access_key", NULL},
                 {"session_token", NULL},
                 {"encryption_key_id", NULL},
                 {"region", NULL}};
    char **dest[] = {&c->access_key_id, &c->secret_access_key, &c->session_token,
                     &c->encryption_key_id, &c->region};
    if (collect_fields(arg, f, 5, err) != 0)
        return -1;
    for (size_t i = 0; i < 5; i++) {
        if (f[i].value == NULL || signer_cbor_is_null(f[i].value))
            continue;
        if (signer_cbor_text_dup(f[i].value, owned, dest[i], err) != 0)
            return field_error(err, f[i].name);
    }
    return 0;
}

static int decode_sign(const cbor_item_t *arg, signer_cbor_owned *owned, rpc_request *req,
                       signer_error *err)
{
    bool with = req->call == RPC_SIGN_WITH;
    field f[] = {
        {with ? "encrypted_private_key" : "handle", NULL}, {"message", NULL}, {"version", NULL}};
    if (collect_fields(arg, f, 3, err) != 0 || require(&f[0], err) != 0 || require(&f[1], err) != 0)
        return -1;
    if (with ? signer_cbor_bytes(f[0].value, owned, &req->data, err)
             : signer_cbor_uint(f[0].value, &req->handle, err))
        return field_error(err, f[0].name);
    if (signer_cbor_bytes(f[1].value, owned, &req->message, err) != 0)
        return field_error(err, "message");
    return decode_version(f[2].value, req, err);
}

static int decode_argument(const cbor_item_t *arg, signer_cbor_owned *owned, rpc_request *req,
                           signer_error *err)
{
    cbor_item_t *k, *v;
    switch (req->call) {
    case RPC_INITIALIZE: return decode_credentials(arg, owned, &req->credentials, err);
    case RPC_IMPORT:
    case RPC_PUBLIC_KEY_FROM: return signer_cbor_bytes(arg, owned, &req->data, err);
    case RPC_IMPORT_UNENCRYPTED:
        if (signer_cbor_single_entry(arg, "the private key", &k, &v, err) != 0 ||
            rpc_cbor_key_type(k, &req->key_type, err) != 0)
            return -1;
        return signer_cbor_bytes(v, owned, &req->data, err);
    case RPC_GENERATE:
    case RPC_GENERATE_AND_IMPORT: return rpc_cbor_key_type(arg, &req->key_type, err);
    case RPC_SIGN:
    case RPC_SIGN_WITH: return decode_sign(arg, owned, req, err);
    case RPC_PUBLIC_KEY:
    case RPC_PROVE_POSSESSION:
        if (signer_cbor_uint(arg, &req->handle, err) != 0)
            return field_error(err, "handle");
        return 0;
    }
    return signer_error_set(err, SIGNER_ERR_UNSUPPORTED, "unknown call");
}

/* Names an unknown call in the error, keeping only printable characters. */
static int unknown_call(const cbor_item_t *key, signer_error *err)
{
    char name[41] = "";
    if (cbor_isa_string(key) && cbor_string_is_definite(key)) {
        size_t n = cbor_string_length(key);
        const unsigned char *s = cbor_string_handle(key);
        size_t i;
        for (i = 0; i < n && i < sizeof(name) - 1; i++)
            name[i] = isprint(s[i]) ? (char)s[i] : '?';
        name[i] = '\0';
    }
    return signer_error_set(err, SIGNER_ERR_UNSUPPORTED, "unknown call \"%s\"", name);
}

int rpc_request_decode(const uint8_t *item, size_t item_len, rpc_request *req, signer_error *err)
{
    memset(req, 0, sizeof(*req));
    req->version = SIGNER_VERSION_LATEST;
    request_storage *st = calloc(1, sizeof(*st));
    if (st == NULL)
        return signer_error_set(err, SIGNER_ERR_NO_MEMORY, "out of memory");
    req->internal_ = st;
    if (signer_cbor_load(item, item_len, &st->root, err) != 0)
        goto fail;
    cbor_item_t *key, *arg;
    if (signer_cbor_single_entry(st->root, "a request", &key, &arg, err) != 0)
        goto fail;
    if (!cbor_isa_string(key)) {
        signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT, "request key must be a call name");
        goto fail;
    }
    int call = -1;
    for (int i = 0; i < RPC_CALL_COUNT && call < 0; i++)
        if (signer_cbor_text_is(key, rpc_call_name((rpc_call)i)))
            call = i;
    if (call < 0) {
        unknown_call(key, err);
        goto fail;
    }
    req->call = (rpc_call)call;
    if (decode_argument(arg, &st->owned, req, err) != 0) {
        signer_error_wrap(err, rpc_call_name(req->call));
        goto fail;
    }
    return 0;
fail:
    rpc_request_free(req);
    return -1;
}

void rpc_request_free(rpc_request *req)
{
    request_storage *st = req->internal_;
    if (st != NULL) {
        if (st->root != NULL) {
            signer_cbor_free(&st->root);
        }
        signer_cbor_owned_release(&st->owned);
        free(st);
    }
    rpc_call call = req->call;
    memset(req, 0, sizeof(*req));
    req->call = call;
}

/* ---- client side ---- */

static int encode_credentials(const rpc_credentials *c, signer_buf *out, signer_error *err)
{
    const char *names[] = {"access_key_id", "secret_access_key", "session_token",
                           "encryption_key_id", "region"};
    const char *values[] = {c->access_key_id, c->secret_access_key, c->session_token,
                            c->encryption_key_id, c->region};
    size_t n = 0;
    for (size_t i = 0; i < 5; i++)
        n += values[i] != NULL;
    if (signer_cbor_write_map(out, n, err) != 0)
        return -1;
    for (size_t i = 0; i < 5; i++)
        if (values[i] != NULL && (signer_cbor_write_text(out, names[i], err) != 0 ||
                                  signer_cbor_write_text(out, values[i], err) != 0))
            return -1;
    return 0;
}

static int encode_argument(const rpc_request *req, signer_buf *out, signer_error *err)
{
    const char *type = signer_key_type_name(req->key_type);
    switch (req->call) {
    case RPC_INITIALIZE: return encode_credentials(&req->credentials, out, err);
    case RPC_IMPORT:
    case RPC_PUBLIC_KEY_FROM:
        return signer_cbor_write_bytes(out, req->data.data, req->data.len, err);
    case RPC_IMPORT_UNENCRYPTED:
        return signer_cbor_write_map(out, 1, err) || signer_cbor_write_text(out, type, err) ||
                       signer_cbor_write_bytes(out, req->data.data, req->data.len, err)
                   ? -1
                   : 0;
    case RPC_GENERATE:
    case RPC_GENERATE_AND_IMPORT: return signer_cbor_write_text(out, type, err);
    case RPC_SIGN:
    case RPC_SIGN_WITH:
        if (signer_cbor_write_map(out, req->has_version ? 3 : 2, err) != 0)
            return -1;
        if (req->call == RPC_SIGN
                ? signer_cbor_write_text(out, "handle", err) ||
                      signer_cbor_write_uint(out, req->handle, err)
                : signer_cbor_write_text(out, "encrypted_private_key", err) ||
                      signer_cbor_write_bytes(out, req->data.data, req->data.len, err))
            return -1;
        if (signer_cbor_write_text(out, "message", err) ||
            signer_cbor_write_bytes(out, req->message.data, req->message.len, err))
            return -1;
        if (req->has_version && (signer_cbor_write_text(out, "version", err) ||
                                 signer_cbor_write_uint(out, req->version, err)))
            return -1;
        return 0;
    case RPC_PUBLIC_KEY:
    case RPC_PROVE_POSSESSION: return signer_cbor_write_uint(out, req->handle, err);
    }
    return signer_error_set(err, SIGNER_ERR_UNSUPPORTED, "unknown call");
}

int rpc_request_encode(const rpc_request *req, signer_buf *out, signer_error *err)
{
    size_t mark;
    if ((unsigned)req->call >= RPC_CALL_COUNT)
        return signer_error_set(err, SIGNER_ERR_UNSUPPORTED, "unknown call");
    if (rpc_frame_begin(out, &mark, err) != 0 || signer_cbor_write_map(out, 1, err) != 0 ||
        signer_cbor_write_text(out, rpc_call_name(req->call), err) != 0 ||
        encode_argument(req, out, err) != 0)
        return -1;
    rpc_frame_end(out, mark);
    return 0;
}
