/* Parsing a document: the COSE_Sign1 envelope, then the payload map, with
 * every field checked against the limits AWS documents. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* What a parsed document keeps alive: the two decoded trees the byte views
 * point into. */
typedef struct storage {
    cbor_item_t *envelope;
    cbor_item_t *payload;
    cbor_item_t *protected_map;
    bool tagged; /* the input began with the one-byte tag 18 */
} storage;

static int bad(signer_error *err, const char *what)
{
    return signer_error_set(err, SIGNER_ERR_PROTOCOL, "malformed attestation document: %s",
                            what);
}

/* A definite byte string as a view (the NSM never chunks strings). */
static int get_bytes(const cbor_item_t *item, const char *name, size_t min, size_t max,
                     signer_attestation_bytes *out, signer_error *err)
{
    if (!cbor_isa_bytestring(item) || !cbor_bytestring_is_definite(item))
        return signer_error_set(err, SIGNER_ERR_PROTOCOL,
                                "malformed attestation document: %s is not a byte string", name);
    size_t len = cbor_bytestring_length(item);
    if (len < min || len > max)
        return signer_error_set(err, SIGNER_ERR_PROTOCOL,
                                "malformed attestation document: %s has %zu bytes (allowed "
                                "%zu..%zu)", name, len, min, max);
    out->data = cbor_bytestring_handle(item);
    out->len = len;
    out->present = true;
    return 0;
}

/* An optional field: absent, null, or bytes. */
static int get_optional(const cbor_item_t *item, const char *name, size_t max,
                        signer_attestation_bytes *out, signer_error *err)
{
    memset(out, 0, sizeof(*out));
    if (item == NULL || signer_cbor_is_null(item))
        return 0;
    return get_bytes(item, name, 0, max, out, err);
}

static bool text_equals(const cbor_item_t *item, const char *s)
{
    size_t n = strlen(s);
    return cbor_isa_string(item) && cbor_string_is_definite(item) &&
           cbor_string_length(item) == n && memcmp(cbor_string_handle(item), s, n) == 0;
}

static int get_uint(const cbor_item_t *item, uint64_t *out)
{
    if (!cbor_isa_uint(item))
        return -1;
    *out = cbor_get_int(item);
    return 0;
}

/* The protected header: a byte string holding a map whose alg (label 1)
 * is ES384.  Labels we do not know are allowed unless marked critical. */
static int parse_protected(const cbor_item_t *item, storage *st,
                           signer_attestation_doc *doc, signer_error *err)
{
    if (get_bytes(item, "protected header", 1, 64, &doc->protected_header, err) != 0)
        return -1;
    if (signer_cbor_load(doc->protected_header.data, doc->protected_header.len,
                      &st->protected_map, err) != 0)
        return signer_error_wrap(err, "malformed attestation document: protected header");
    const cbor_item_t *map = st->protected_map;
    if (!cbor_isa_map(map))
        return bad(err, "protected header is not a map");
    bool have_alg = false;
    struct cbor_pair *pairs = cbor_map_handle(map);
    for (size_t i = 0; i < cbor_map_size(map); i++) {
        uint64_t label;
        if (get_uint(pairs[i].key, &label) != 0)
            continue; /* text or negative labels: private use, not ours */
        if (label == 2)
            return bad(err, "protected header has critical parameters");
        if (label != 1)
            continue;
        if (have_alg)
            return bad(err, "protected header repeats alg");
        const cbor_item_t *v = pairs[i].value;
        if (!cbor_isa_negint(v) || cbor_get_int(v) != (uint64_t)(-1 - ATT_COSE_ES384))
            return bad(err, "signature algorithm is not ES384 (-35)");
        have_alg = true;
    }
    if (!have_alg)
        return bad(err, "protected header has no alg");
    return 0;
}

static int parse_pcrs(const cbor_item_t *map, signer_attestation_doc *doc, signer_error *err)
{
    if (!cbor_isa_map(map))
        return bad(err, "pcrs is not a map");
    size_t n = cbor_map_size(map);
    if (n < 1 || n > SIGNER_ATTESTATION_PCR_COUNT)
        return bad(err, "pcrs must hold 1 to 32 entries");
    struct cbor_pair *pairs = cbor_map_handle(map);
    for (size_t i = 0; i < n; i++) {
        uint64_t index;
        if (get_uint(pairs[i].key, &index) != 0 || index >= SIGNER_ATTESTATION_PCR_COUNT)
            return bad(err, "a PCR index is not an integer from 0 to 31");
        signer_attestation_pcr *pcr = &doc->pcrs[index];
        if (pcr->len != 0)
            return signer_error_set(err, SIGNER_ERR_PROTOCOL,
                                    "malformed attestation document: PCR%u appears twice",
                                    (unsigned)index);
        char name[16];
        snprintf(name, sizeof(name), "PCR%u", (unsigned)index);
        signer_attestation_bytes v;
        if (get_bytes(pairs[i].value, name, 0, SIGNER_ATTESTATION_PCR_MAX, &v, err) != 0)
            return -1;
        if (v.len != 32 && v.len != 48 && v.len != 64)
            return signer_error_set(err, SIGNER_ERR_PROTOCOL,
                                    "malformed attestation document: PCR%u has %zu bytes "
                                    "(32, 48 or 64 expected)", (unsigned)index, v.len);
        memcpy(pcr->value, v.data, v.len);
        pcr->len = v.len;
    }
    return 0;
}

static int parse_cabundle(const cbor_item_t *array, signer_attestation_doc *doc,
                          signer_error *err)
{
    if (!cbor_isa_array(array))
        return bad(err, "cabundle is not an array");
    size_t n = cbor_array_size(array);
    if (n < 1 || n > SIGNER_ATTESTATION_CABUNDLE_MAX)
        return bad(err, "cabundle must hold 1 to 16 certificates");
    cbor_item_t **items = cbor_array_handle(array);
    for (size_t i = 0; i < n; i++)
        if (get_bytes(items[i], "a cabundle certificate", 1, SIGNER_ATTESTATION_CERT_MAX,
                      &doc->cabundle[i], err) != 0)
            return -1;
    doc->cabundle_count = n;
    return 0;
}

static int parse_module_id(const cbor_item_t *item, signer_attestation_doc *doc,
                           signer_error *err)
{
    if (!cbor_isa_string(item) || !cbor_string_is_definite(item))
        return bad(err, "module_id is not a text string");
    size_t n = cbor_string_length(item);
    if (n == 0 || n > SIGNER_ATTESTATION_MODULE_ID_MAX)
        return bad(err, "module_id must have 1 to 256 bytes");
    if (memchr(cbor_string_handle(item), '\0', n) != NULL)
        return bad(err, "module_id contains a NUL byte");
    doc->module_id = malloc(n + 1);
    if (doc->module_id == NULL)
        return signer_error_set(err, SIGNER_ERR_NO_MEMORY, "out of memory");
    memcpy(doc->module_id, cbor_string_handle(item), n);
    doc->module_id[n] = '\0';
    return 0;
}

enum { F_MODULE_ID, F_DIGEST, F_TIMESTAMP, F_PCRS, F_CERTIFICATE, F_CABUNDLE,
       F_PUBLIC_KEY, F_USER_DATA, F_NONCE, F_COUNT };
static const char *const field_names[F_COUNT] = {
    "module_id", "digest", "timestamp", "pcrs", "certificate", "cabundle",
    "public_key", "user_data", "nonce",
};

static int parse_payload(const cbor_item_t *map, signer_attestation_doc *doc, signer_error *err)
{
    if (!cbor_isa_map(map))
        return bad(err, "payload is not a map");
    const cbor_item_t *f[F_COUNT] = {0};
    struct cbor_pair *pairs = cbor_map_handle(map);
    for (size_t i = 0; i < cbor_map_size(map); i++) {
        if (!cbor_isa_string(pairs[i].key))
            return bad(err, "payload keys must be text");
        for (int k = 0; k < F_COUNT; k++) {
            if (!text_equals(pairs[i].key, field_names[k]))
                continue;
            if (f[k] != NULL)
                return signer_error_set(err, SIGNER_ERR_PROTOCOL,
                                        "malformed attestation document: %s appears twice",
                                        field_names[k]);
            f[k] = pairs[i].value;
        }
        /* Other keys are covered by the signature and ignored. */
    }
    for (int k = 0; k <= F_CABUNDLE; k++)
        if (f[k] == NULL)
            return signer_error_set(err, SIGNER_ERR_PROTOCOL,
                                    "malformed attestation document: %s is missing",
                                    field_names[k]);
    if (parse_module_id(f[F_MODULE_ID], doc, err) != 0)
        return -1;
    if (!text_equals(f[F_DIGEST], "SHA384"))
        return bad(err, "digest is not \"SHA384\"");
    memcpy(doc->digest, "SHA384", 7);
    if (get_uint(f[F_TIMESTAMP], &doc->timestamp_ms) != 0 || doc->timestamp_ms == 0)
        return bad(err, "timestamp is not a positive integer");
    if (parse_pcrs(f[F_PCRS], doc, err) != 0)
        return -1;
    if (get_bytes(f[F_CERTIFICATE], "certificate", 1, SIGNER_ATTESTATION_CERT_MAX,
                  &doc->certificate, err) != 0)
        return -1;
    if (parse_cabundle(f[F_CABUNDLE], doc, err) != 0)
        return -1;
    /* AWS: public_key 1..1024 bytes when present; user_data, nonce 0..512. */
    if (get_optional(f[F_PUBLIC_KEY], "public_key", SIGNER_ATTESTATION_PUBLIC_KEY_MAX,
                     &doc->public_key, err) != 0 ||
        get_optional(f[F_USER_DATA], "user_data", SIGNER_ATTESTATION_USER_DATA_MAX,
                     &doc->user_data, err) != 0 ||
        get_optional(f[F_NONCE], "nonce", SIGNER_ATTESTATION_NONCE_MAX, &doc->nonce, err) != 0)
        return -1;
    if (doc->public_key.present && doc->public_key.len == 0)
        return bad(err, "public_key is empty");
    return 0;
}

static int parse_envelope(const cbor_item_t *root, storage *st, signer_attestation_doc *doc,
                          signer_error *err)
{
    const cbor_item_t *array = root;
    if (cbor_isa_tag(root) && st->tagged)
        return bad(err, "tagged twice");
    if (cbor_isa_tag(root)) {
        if (cbor_tag_value(root) != 18)
            return bad(err, "tagged, but not as COSE_Sign1 (18)");
        array = cbor_move(cbor_tag_item(root)); /* the tree still holds a reference */
    }
    if (!cbor_isa_array(array) || cbor_array_size(array) != 4)
        return bad(err, "not a COSE_Sign1 array of 4 items");
    cbor_item_t **parts = cbor_array_handle(array);
    if (parse_protected(parts[0], st, doc, err) != 0)
        return -1;
    if (!cbor_isa_map(parts[1]))
        return bad(err, "unprotected header is not a map");
    if (get_bytes(parts[2], "payload", 1, SIGNER_ATTESTATION_MAX_BYTES, &doc->payload, err) != 0)
        return -1;
    signer_attestation_bytes sig;
    if (get_bytes(parts[3], "signature", SIGNER_ATTESTATION_SIGNATURE_BYTES,
                  SIGNER_ATTESTATION_SIGNATURE_BYTES, &sig, err) != 0)
        return -1;
    memcpy(doc->signature, sig.data, sig.len);
    return 0;
}

int signer_attestation_parse(const uint8_t *data, size_t len, signer_attestation_doc *doc,
                             signer_error *err)
{
    memset(doc, 0, sizeof(*doc));
    if (len > SIGNER_ATTESTATION_MAX_BYTES)
        return signer_error_set(err, SIGNER_ERR_PROTOCOL,
                                "attestation document too large (%zu bytes, at most %u)", len,
                                SIGNER_ATTESTATION_MAX_BYTES);
    storage *st = calloc(1, sizeof(*st));
    if (st == NULL)
        return signer_error_set(err, SIGNER_ERR_NO_MEMORY, "out of memory");
    doc->storage = st;
    /* libcbor 0.8 refuses the one-byte form of tags 6..20, and COSE_Sign1's
     * tag 18 is one of them (0xd2): take it off by hand. */
    if (len > 0 && data[0] == 0xd2) {
        data++;
        len--;
        st->tagged = true;
    }
    if (signer_cbor_load(data, len, &st->envelope, err) != 0) {
        signer_error_wrap(err, "malformed attestation document");
        goto fail;
    }
    if (parse_envelope(st->envelope, st, doc, err) != 0)
        goto fail;
    if (signer_cbor_load(doc->payload.data, doc->payload.len, &st->payload, err) != 0) {
        signer_error_wrap(err, "malformed attestation document: payload");
        goto fail;
    }
    if (parse_payload(st->payload, doc, err) != 0)
        goto fail;
    return 0;
fail:
    signer_attestation_doc_free(doc);
    return -1;
}

void signer_attestation_doc_free(signer_attestation_doc *doc)
{
    if (doc == NULL)
        return;
    storage *st = doc->storage;
    if (st != NULL) {
        signer_cbor_free(&st->payload);
        signer_cbor_free(&st->protected_map);
        signer_cbor_free(&st->envelope);
        free(st);
    }
    free(doc->module_id);
    memset(doc, 0, sizeof(*doc));
}
