/* NSM request and response CBOR, as serde_cbor writes AWS's nsm-api
 * types: unit variants are text ("GetRandom"), struct variants are
 * one-entry maps ({"DescribePCR": {"index": 0}}), Option::None is null. */
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "signer_cbor.h"

typedef struct storage {
    cbor_item_t *root;
    signer_cbor_owned owned;
} storage;

static const char *const op_names[] = {
    [NSM_OP_DESCRIBE_PCR] = "DescribePCR",
    [NSM_OP_DESCRIBE_NSM] = "DescribeNSM",
    [NSM_OP_ATTESTATION] = "Attestation",
    [NSM_OP_GET_RANDOM] = "GetRandom",
    [NSM_OP_ERROR] = "Error",
};

static int op_from(const cbor_item_t *name, nsm_op *op)
{
    for (int i = 0; i <= NSM_OP_ERROR; i++)
        if (signer_cbor_text_is(name, op_names[i])) {
            *op = (nsm_op)i;
            return 0;
        }
    return -1;
}

/* ---- writing ---- */

static int write_opt_bytes(signer_buf *out, const char *name, const nsm_opt_bytes *b,
                           signer_error *err)
{
    if (signer_cbor_write_text(out, name, err) != 0)
        return -1;
    if (!b->present)
        return signer_cbor_write_null(out, err);
    return signer_cbor_write_bytes(out, b->bytes.data, b->bytes.len, err);
}

/* {"Name": {  — the head of a struct variant with `fields` fields. */
static int write_variant(signer_buf *out, nsm_op op, size_t fields, signer_error *err)
{
    return signer_cbor_write_map(out, 1, err) || signer_cbor_write_text(out, op_names[op], err) ||
                   signer_cbor_write_map(out, fields, err)
               ? -1
               : 0;
}

int nsm_request_encode(const nsm_request *req, signer_buf *out, signer_error *err)
{
    switch (req->op) {
    case NSM_OP_DESCRIBE_NSM:
    case NSM_OP_GET_RANDOM: return signer_cbor_write_text(out, op_names[req->op], err);
    case NSM_OP_DESCRIBE_PCR:
        return write_variant(out, req->op, 1, err) || signer_cbor_write_text(out, "index", err) ||
                       signer_cbor_write_uint(out, req->index, err)
                   ? -1
                   : 0;
    case NSM_OP_ATTESTATION:
        return write_variant(out, req->op, 3, err) ||
                       write_opt_bytes(out, "user_data", &req->user_data, err) ||
                       write_opt_bytes(out, "nonce", &req->nonce, err) ||
                       write_opt_bytes(out, "public_key", &req->public_key, err)
                   ? -1
                   : 0;
    default: return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT, "not an NSM request");
    }
}

int nsm_response_encode(const nsm_response *resp, signer_buf *out, signer_error *err)
{
    const nsm_description *d = &resp->describe;
    switch (resp->op) {
    case NSM_OP_ERROR:
        return signer_cbor_write_map(out, 1, err) || signer_cbor_write_text(out, "Error", err) ||
                       signer_cbor_write_text(out, resp->error, err)
                   ? -1
                   : 0;
    case NSM_OP_DESCRIBE_PCR:
        return write_variant(out, resp->op, 2, err) || signer_cbor_write_text(out, "lock", err) ||
                       signer_cbor_write_bool(out, resp->lock, err) ||
                       signer_cbor_write_text(out, "data", err) ||
                       signer_cbor_write_bytes(out, resp->data.data, resp->data.len, err)
                   ? -1
                   : 0;
    case NSM_OP_ATTESTATION:
        return write_variant(out, resp->op, 1, err) ||
                       signer_cbor_write_text(out, "document", err) ||
                       signer_cbor_write_bytes(out, resp->document.data, resp->document.len, err)
                   ? -1
                   : 0;
    case NSM_OP_GET_RANDOM:
        return write_variant(out, resp->op, 1, err) || signer_cbor_write_text(out, "random", err) ||
                       signer_cbor_write_bytes(out, resp->random.data, resp->random.len, err)
                   ? -1
                   : 0;
    case NSM_OP_DESCRIBE_NSM: {
        size_t locked = 0;
        for (int i = 0; i < 32; i++)
            locked += (d->locked_pcrs >> i) & 1;
        if (write_variant(out, resp->op, 7, err) ||
            signer_cbor_write_text(out, "version_major", err) ||
            signer_cbor_write_uint(out, d->version_major, err) ||
            signer_cbor_write_text(out, "version_minor", err) ||
            signer_cbor_write_uint(out, d->version_minor, err) ||
            signer_cbor_write_text(out, "version_patch", err) ||
            signer_cbor_write_uint(out, d->version_patch, err) ||
            signer_cbor_write_text(out, "module_id", err) ||
            signer_cbor_write_text(out, d->module_id, err) ||
            signer_cbor_write_text(out, "max_pcrs", err) ||
            signer_cbor_write_uint(out, d->max_pcrs, err) ||
            signer_cbor_write_text(out, "locked_pcrs", err) ||
            signer_cbor_write_array(out, locked, err))
            return -1;
        for (unsigned i = 0; i < 32; i++)
            if ((d->locked_pcrs >> i) & 1 && signer_cbor_write_uint(out, i, err) != 0)
                return -1;
        return signer_cbor_write_text(out, "digest", err) ||
                       signer_cbor_write_text(out, d->digest, err)
                   ? -1
                   : 0;
    }
    }
    return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT, "not an NSM response");
}

/* ---- reading ---- */

/* Loads `cbor` and splits it into the variant's name and its value (NULL
 * for a unit variant). */
static int load_variant(const uint8_t *cbor, size_t len, storage **out, nsm_op *op,
                        const cbor_item_t **value, signer_error *err)
{
    storage *st = calloc(1, sizeof(*st));
    if (st == NULL)
        return signer_error_set(err, SIGNER_ERR_NO_MEMORY, "out of memory");
    *out = st;
    *value = NULL;
    if (signer_cbor_load(cbor, len, &st->root, err) != 0)
        return -1;
    cbor_item_t *name = st->root, *v = NULL;
    if (cbor_isa_map(st->root) &&
        signer_cbor_single_entry(st->root, "an NSM message", &name, &v, err) != 0)
        return -1;
    if (op_from(name, op) != 0)
        return signer_error_set(err, SIGNER_ERR_PROTOCOL, "unknown NSM message");
    *value = v;
    return 0;
}

static void release(storage *st)
{
    if (st == NULL)
        return;
    if (st->root != NULL) {
        signer_cbor_free(&st->root);
    }
    signer_cbor_owned_release(&st->owned);
    free(st);
}

/* The value of field `name` in the struct map `map`, or NULL. */
static const cbor_item_t *get(const cbor_item_t *map, const char *name)
{
    struct cbor_pair *p = cbor_map_handle(map);
    for (size_t i = 0; i < cbor_map_size(map); i++)
        if (signer_cbor_text_is(p[i].key, name))
            return p[i].value;
    return NULL;
}

static int need(const cbor_item_t *map, const char *name, const cbor_item_t **out,
                signer_error *err)
{
    *out = get(map, name);
    if (*out == NULL)
        return signer_error_set(err, SIGNER_ERR_PROTOCOL, "NSM message lacks \"%s\"", name);
    return 0;
}

static int read_opt_bytes(const cbor_item_t *map, const char *name, storage *st, nsm_opt_bytes *out,
                          signer_error *err)
{
    const cbor_item_t *v = get(map, name);
    out->present = v != NULL && !signer_cbor_is_null(v);
    if (!out->present)
        return 0;
    if (!cbor_isa_bytestring(v))
        return signer_error_set(err, SIGNER_ERR_PROTOCOL, "NSM field \"%s\" is not bytes", name);
    return signer_cbor_bytes(v, &st->owned, &out->bytes, err);
}

static int read_uint(const cbor_item_t *map, const char *name, uint64_t max, unsigned *out,
                     signer_error *err)
{
    const cbor_item_t *v;
    uint64_t u;
    if (need(map, name, &v, err) != 0 || signer_cbor_uint(v, &u, err) != 0)
        return -1;
    if (u > max)
        return signer_error_set(err, SIGNER_ERR_PROTOCOL, "NSM field \"%s\" out of range", name);
    *out = (unsigned)u;
    return 0;
}

static int read_bytes(const cbor_item_t *map, const char *name, storage *st, signer_bytes *out,
                      signer_error *err)
{
    const cbor_item_t *v;
    if (need(map, name, &v, err) != 0)
        return -1;
    if (!cbor_isa_bytestring(v))
        return signer_error_set(err, SIGNER_ERR_PROTOCOL, "NSM field \"%s\" is not bytes", name);
    return signer_cbor_bytes(v, &st->owned, out, err);
}

static int read_text(const cbor_item_t *map, const char *name, storage *st, char *out, size_t cap,
                     signer_error *err)
{
    const cbor_item_t *v;
    char *s;
    if (need(map, name, &v, err) != 0 || signer_cbor_text_dup(v, &st->owned, &s, err) != 0)
        return -1;
    if (strlen(s) >= cap)
        return signer_error_set(err, SIGNER_ERR_PROTOCOL, "NSM field \"%s\" too long", name);
    strcpy(out, s);
    return 0;
}

/* Whether `op` carries a struct (map) or nothing, in this direction. */
static int check_shape(nsm_op op, const cbor_item_t *value, bool request, signer_error *err)
{
    bool unit = request && (op == NSM_OP_DESCRIBE_NSM || op == NSM_OP_GET_RANDOM);
    if (op == NSM_OP_ERROR)
        unit = false;
    if (unit ? value != NULL : value == NULL || (op != NSM_OP_ERROR && !cbor_isa_map(value)))
        return signer_error_set(err, SIGNER_ERR_PROTOCOL, "malformed NSM %s %s", op_names[op],
                                request ? "request" : "response");
    return 0;
}

int nsm_request_decode(const uint8_t *cbor, size_t len, nsm_request *req, signer_error *err)
{
    memset(req, 0, sizeof(*req));
    storage *st = NULL;
    const cbor_item_t *v;
    int rc = load_variant(cbor, len, &st, &req->op, &v, err);
    req->internal_ = st;
    if (rc == 0 && req->op == NSM_OP_ERROR)
        rc = signer_error_set(err, SIGNER_ERR_PROTOCOL, "Error is not a request");
    if (rc == 0)
        rc = check_shape(req->op, v, true, err);
    if (rc == 0 && req->op == NSM_OP_DESCRIBE_PCR)
        rc = read_uint(v, "index", UINT16_MAX, &req->index, err);
    if (rc == 0 && req->op == NSM_OP_ATTESTATION)
        rc = read_opt_bytes(v, "user_data", st, &req->user_data, err) ||
                     read_opt_bytes(v, "nonce", st, &req->nonce, err) ||
                     read_opt_bytes(v, "public_key", st, &req->public_key, err)
                 ? -1
                 : 0;
    if (rc != 0)
        nsm_request_free(req);
    return rc;
}

void nsm_request_free(nsm_request *req)
{
    release(req->internal_);
    memset(req, 0, sizeof(*req));
}

static int decode_describe(const cbor_item_t *v, storage *st, nsm_description *d, signer_error *err)
{
    const cbor_item_t *locked;
    if (read_uint(v, "version_major", UINT16_MAX, &d->version_major, err) ||
        read_uint(v, "version_minor", UINT16_MAX, &d->version_minor, err) ||
        read_uint(v, "version_patch", UINT16_MAX, &d->version_patch, err) ||
        read_text(v, "module_id", st, d->module_id, sizeof(d->module_id), err) ||
        read_uint(v, "max_pcrs", UINT16_MAX, &d->max_pcrs, err) ||
        read_text(v, "digest", st, d->digest, sizeof(d->digest), err) ||
        need(v, "locked_pcrs", &locked, err))
        return -1;
    if (!cbor_isa_array(locked))
        return signer_error_set(err, SIGNER_ERR_PROTOCOL, "locked_pcrs is not an array");
    cbor_item_t **items = cbor_array_handle(locked);
    for (size_t i = 0; i < cbor_array_size(locked); i++) {
        uint64_t index;
        if (signer_cbor_uint(items[i], &index, err) != 0)
            return -1;
        if (index < 32)
            d->locked_pcrs |= 1u << index;
    }
    return 0;
}

int nsm_response_decode(const uint8_t *cbor, size_t len, nsm_response *resp, signer_error *err)
{
    memset(resp, 0, sizeof(*resp));
    storage *st = NULL;
    const cbor_item_t *v, *lock;
    int rc = load_variant(cbor, len, &st, &resp->op, &v, err);
    resp->internal_ = st;
    if (rc == 0)
        rc = check_shape(resp->op, v, false, err);
    if (rc == 0) {
        switch (resp->op) {
        case NSM_OP_ERROR:
            /* serde writes the ErrorCode as text. */
            if (!cbor_isa_string(v) || cbor_string_length(v) >= sizeof(resp->error) ||
                !cbor_string_is_definite(v))
                rc = signer_error_set(err, SIGNER_ERR_PROTOCOL, "malformed NSM error");
            else
                memcpy(resp->error, cbor_string_handle(v), cbor_string_length(v));
            break;
        case NSM_OP_DESCRIBE_PCR:
            rc = need(v, "lock", &lock, err) || read_bytes(v, "data", st, &resp->data, err);
            if (rc == 0 && !signer_cbor_is_bool(lock))
                rc = signer_error_set(err, SIGNER_ERR_PROTOCOL, "lock is not a bool");
            if (rc == 0)
                resp->lock = signer_cbor_bool_value(lock);
            break;
        case NSM_OP_ATTESTATION: rc = read_bytes(v, "document", st, &resp->document, err); break;
        case NSM_OP_GET_RANDOM: rc = read_bytes(v, "random", st, &resp->random, err); break;
        case NSM_OP_DESCRIBE_NSM: rc = decode_describe(v, st, &resp->describe, err); break;
        }
    }
    if (rc != 0)
        nsm_response_free(resp);
    return rc;
}

void nsm_response_free(nsm_response *resp)
{
    release(resp->internal_);
    memset(resp, 0, sizeof(*resp));
}

const char *nsm_error_meaning(const char *code)
{
    static const struct {
        const char *code, *meaning;
    } table[] = {
        {"InvalidArgument", "an argument is invalid"},
        {"InvalidIndex", "PCR index out of range"},
        {"InvalidResponse", "the response does not match the request"},
        {"ReadOnlyIndex", "the PCR is locked"},
        {"InvalidOperation", "the NSM cannot do this"},
        {"BufferTooSmall", "the response buffer is too small"},
        {"InputTooLarge", "the request is too large"},
        {"InternalError", "internal NSM error"},
    };
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        if (strcmp(table[i].code, code) == 0)
            return table[i].meaning;
    return "unknown NSM error";
}
