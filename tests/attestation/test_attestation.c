/* The attestation library: encode -> parse -> verify round trips with a
 * chain made here, a real AWS document, and every refusal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <cbor.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_chain.h"

#define FIVE_MINUTES_MS (5u * 60 * 1000)

static test_chain chain_a, chain_b;

static int setup(void **state)
{
    (void)state;
    if (test_chain_make(&chain_a, -3600, 3 * 3600) != 0 ||
        test_chain_make(&chain_b, -3600, 3 * 3600) != 0)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    test_chain_free(&chain_a);
    test_chain_free(&chain_b);
    return 0;
}

static const uint8_t spki_like[] = {0x30, 0x82, 0x01, 0x22, 0x30, 0x0d, 0x06, 0x09};
static const uint8_t user_data[] = "user data";
static const uint8_t nonce[] = {1, 2, 3, 4, 5, 6, 7, 8};

/* A document from chain `c` with PCRs seeded by `seed`, made at `ts`. */
static void make_doc(const test_chain *c, uint64_t ts, uint8_t seed, signer_buf *out)
{
    signer_attestation_pcr pcrs[SIGNER_ATTESTATION_PCR_COUNT];
    test_pcrs_fill(pcrs, seed);
    signer_attestation_fields f = {
        .module_id = "i-0123456789abcdef0-enc0123456789abcdef",
        .timestamp_ms = ts,
        .pcrs = pcrs,
        .public_key = {spki_like, sizeof(spki_like), true},
        .user_data = {user_data, sizeof(user_data) - 1, true},
        .nonce = {nonce, sizeof(nonce), true},
    };
    assert_int_equal(test_doc_make(c, &f, out), 0);
}

static signer_attestation_verify_options opts_for(const test_chain *c)
{
    signer_attestation_verify_options o = {
        .root_der = c->root_der.data, .root_der_len = c->root_der.len,
        .now_ms = 0, .max_age_ms = FIVE_MINUTES_MS, .max_future_ms = 60000,
    };
    return o;
}

/* Parses and verifies; returns the failure (OK when both pass). */
static signer_attestation_failure check(const uint8_t *doc, size_t len,
                                        const signer_attestation_verify_options *o,
                                        char *message, size_t message_len)
{
    signer_attestation_doc d;
    signer_error err;
    if (signer_attestation_parse(doc, len, &d, &err) != 0)
        fail_msg("parse: %s", err.message);
    signer_attestation_failure why = SIGNER_ATTESTATION_OK;
    int rc = signer_attestation_verify(&d, o, &why, &err);
    if (rc != 0 && message != NULL)
        snprintf(message, message_len, "%.*s", (int)message_len - 1, err.message);
    signer_attestation_doc_free(&d);
    assert_true((rc == 0) == (why == SIGNER_ATTESTATION_OK));
    return why;
}

static void test_roundtrip(void **state)
{
    (void)state;
    signer_buf doc = SIGNER_BUF_INIT;
    uint64_t ts = test_now_ms();
    make_doc(&chain_a, ts, 0x10, &doc);

    signer_attestation_doc d;
    signer_error err;
    assert_int_equal(signer_attestation_parse(doc.data, doc.len, &d, &err), 0);
    assert_string_equal(d.module_id, "i-0123456789abcdef0-enc0123456789abcdef");
    assert_string_equal(d.digest, "SHA384");
    assert_int_equal(d.timestamp_ms, ts);
    for (int i = 0; i < SIGNER_ATTESTATION_PCR_COUNT; i++) {
        assert_int_equal(d.pcrs[i].len, i < 16 ? 48 : 0);
        if (i < 16)
            assert_int_equal(d.pcrs[i].value[47], 0x10 + i);
    }
    assert_int_equal(d.certificate.len, chain_a.leaf_der.len);
    assert_memory_equal(d.certificate.data, chain_a.leaf_der.data, chain_a.leaf_der.len);
    assert_int_equal(d.cabundle_count, 2);
    assert_memory_equal(d.cabundle[0].data, chain_a.root_der.data, chain_a.root_der.len);
    assert_memory_equal(d.cabundle[1].data, chain_a.inter_der.data, chain_a.inter_der.len);
    assert_true(d.public_key.present);
    assert_memory_equal(d.public_key.data, spki_like, sizeof(spki_like));
    assert_int_equal(d.user_data.len, sizeof(user_data) - 1);
    assert_memory_equal(d.nonce.data, nonce, sizeof(nonce));
    signer_attestation_verify_options o = opts_for(&chain_a);
    signer_attestation_failure why;
    if (signer_attestation_verify(&d, &o, &why, &err) != 0)
        fail_msg("verify: %s", err.message);
    signer_attestation_doc_free(&d);
    signer_attestation_doc_free(&d); /* freeing twice is harmless */

    /* The COSE_Sign1 tag (18) is accepted too. */
    signer_buf tagged = SIGNER_BUF_INIT;
    assert_int_equal(signer_buf_append(&tagged, "\xd2", 1, NULL), 0);
    assert_int_equal(signer_buf_append(&tagged, doc.data, doc.len, NULL), 0);
    assert_int_equal(check(tagged.data, tagged.len, &o, NULL, 0), SIGNER_ATTESTATION_OK);
    tagged.data[0] = 0xc1; /* any other tag is not COSE_Sign1 */
    assert_int_equal(signer_attestation_parse(tagged.data, tagged.len, &d, &err), -1);
    assert_int_equal(err.code, SIGNER_ERR_PROTOCOL);
    /* The two-byte form of tag 18. */
    signer_buf_clear(&tagged);
    assert_int_equal(signer_buf_append(&tagged, "\xd8\x12", 2, NULL), 0);
    assert_int_equal(signer_buf_append(&tagged, doc.data, doc.len, NULL), 0);
    assert_int_equal(check(tagged.data, tagged.len, &o, NULL, 0), SIGNER_ATTESTATION_OK);
    signer_buf_free(&tagged);
    signer_buf_free(&doc);
}

static void test_optional_fields(void **state)
{
    (void)state;
    signer_attestation_pcr pcrs[SIGNER_ATTESTATION_PCR_COUNT];
    memset(pcrs, 0, sizeof(pcrs));
    memset(pcrs[3].value, 0xab, 32);
    pcrs[3].len = 32;
    memset(pcrs[31].value, 0xcd, 64);
    pcrs[31].len = 64;
    signer_attestation_fields f = {
        .module_id = "m", .timestamp_ms = test_now_ms(), .pcrs = pcrs,
        .user_data = {(const uint8_t *)"", 0, true}, /* present but empty */
    };
    signer_buf doc = SIGNER_BUF_INIT;
    assert_int_equal(test_doc_make(&chain_a, &f, &doc), 0);
    signer_attestation_doc d;
    signer_error err;
    assert_int_equal(signer_attestation_parse(doc.data, doc.len, &d, &err), 0);
    assert_false(d.public_key.present);
    assert_true(d.user_data.present);
    assert_int_equal(d.user_data.len, 0);
    assert_false(d.nonce.present);
    assert_int_equal(d.pcrs[0].len, 0);
    assert_int_equal(d.pcrs[3].len, 32);
    assert_int_equal(d.pcrs[31].len, 64);
    signer_attestation_doc_free(&d);
    signer_attestation_verify_options o = opts_for(&chain_a);
    assert_int_equal(check(doc.data, doc.len, &o, NULL, 0), SIGNER_ATTESTATION_OK);
    signer_buf_free(&doc);
}

/* A document an AWS NSM made, against the real AWS root. */
static void test_real_aws_document(void **state)
{
    (void)state;
    FILE *f = fopen(SIGNER_TEST_ATTESTATION_DIR "/vectors/aws-nitro-attestation.b64", "r");
    assert_non_null(f);
    char b64[8192];
    size_t n = fread(b64, 1, sizeof(b64) - 1, f);
    fclose(f);
    while (n > 0 && (b64[n - 1] == '\n' || b64[n - 1] == '\r'))
        n--;
    uint8_t doc[6144];
    int len = EVP_DecodeBlock(doc, (const unsigned char *)b64, (int)n);
    assert_true(len > 0);
    len -= (b64[n - 1] == '=') + (b64[n - 2] == '='); /* DecodeBlock counts padding */

    signer_attestation_doc d;
    signer_error err;
    if (signer_attestation_parse(doc, (size_t)len, &d, &err) != 0)
        fail_msg("parse: %s", err.message);
    assert_string_equal(d.module_id, "i-0340e0cb833504eb6-enc019c12d31f78864d");
    assert_int_equal(d.timestamp_ms, 1770065027502ull);
    assert_int_equal(d.cabundle_count, 4);
    assert_int_equal(d.pcrs[1].len, 48);
    assert_int_equal(d.pcrs[1].value[0], 0x4b);
    assert_true(d.public_key.present && d.user_data.present && d.nonce.present);

    signer_buf root = SIGNER_BUF_INIT;
    if (signer_attestation_certificate_load(SIGNER_SOURCE_DIR "/share/aws-nitro-root.pem", &root,
                                            &err) != 0)
        fail_msg("%s", err.message);
    signer_attestation_verify_options o = {
        .root_der = root.data, .root_der_len = root.len, .now_ms = d.timestamp_ms + 1000,
        .max_age_ms = FIVE_MINUTES_MS,
    };
    signer_attestation_failure why;
    if (signer_attestation_verify(&d, &o, &why, &err) != 0)
        fail_msg("verify: %s", err.message);
    /* Hours later its leaf certificate has expired. */
    o.now_ms = d.timestamp_ms + 24ull * 3600 * 1000;
    o.max_age_ms = 0;
    assert_int_equal(signer_attestation_verify(&d, &o, &why, &err), -1);
    assert_int_equal(why, SIGNER_ATTESTATION_BAD_CHAIN);
    assert_non_null(strstr(err.message, "expired"));
    /* Our test root is not AWS's. */
    o = opts_for(&chain_a);
    o.now_ms = d.timestamp_ms;
    assert_int_equal(signer_attestation_verify(&d, &o, &why, &err), -1);
    assert_int_equal(why, SIGNER_ATTESTATION_BAD_CHAIN);
    signer_attestation_doc_free(&d);
    signer_buf_free(&root);
}

static void test_wrong_root(void **state)
{
    (void)state;
    signer_buf doc = SIGNER_BUF_INIT;
    make_doc(&chain_a, test_now_ms(), 1, &doc);
    signer_attestation_verify_options o = opts_for(&chain_b);
    char msg[256];
    assert_int_equal(check(doc.data, doc.len, &o, msg, sizeof(msg)),
                     SIGNER_ATTESTATION_BAD_CHAIN);
    assert_non_null(strstr(msg, "certificate chain"));
    signer_buf_free(&doc);
}

static void test_bad_signature(void **state)
{
    (void)state;
    signer_buf doc = SIGNER_BUF_INIT;
    make_doc(&chain_a, test_now_ms(), 1, &doc);
    signer_attestation_verify_options o = opts_for(&chain_a);
    doc.data[doc.len - 1] ^= 0x01; /* the signature is the last item */
    char msg[256];
    assert_int_equal(check(doc.data, doc.len, &o, msg, sizeof(msg)),
                     SIGNER_ATTESTATION_BAD_SIGNATURE);
    assert_non_null(strstr(msg, "signature"));
    signer_buf_free(&doc);
}

static void test_tampered_payload(void **state)
{
    (void)state;
    signer_buf doc = SIGNER_BUF_INIT;
    make_doc(&chain_a, test_now_ms(), 0x40, &doc);
    /* Find PCR0 (48 bytes of 0x40) and change one byte of it. */
    uint8_t pcr0[48];
    memset(pcr0, 0x40, sizeof(pcr0));
    uint8_t *at = memmem(doc.data, doc.len, pcr0, sizeof(pcr0));
    assert_non_null(at);
    at[10] = 0x41;
    signer_attestation_verify_options o = opts_for(&chain_a);
    assert_int_equal(check(doc.data, doc.len, &o, NULL, 0), SIGNER_ATTESTATION_BAD_SIGNATURE);
    signer_buf_free(&doc);
}

static void test_document_age(void **state)
{
    (void)state;
    signer_attestation_verify_options o = opts_for(&chain_a);
    signer_buf doc = SIGNER_BUF_INIT;
    char msg[256];
    make_doc(&chain_a, test_now_ms() - 10 * 60 * 1000, 1, &doc);
    assert_int_equal(check(doc.data, doc.len, &o, msg, sizeof(msg)), SIGNER_ATTESTATION_EXPIRED);
    assert_non_null(strstr(msg, "too old"));
    o.max_age_ms = 0; /* age not checked */
    assert_int_equal(check(doc.data, doc.len, &o, NULL, 0), SIGNER_ATTESTATION_OK);
    signer_buf_clear(&doc);

    o = opts_for(&chain_a);
    make_doc(&chain_a, test_now_ms() + 10 * 60 * 1000, 1, &doc);
    assert_int_equal(check(doc.data, doc.len, &o, msg, sizeof(msg)),
                     SIGNER_ATTESTATION_FROM_FUTURE);
    o.max_future_ms = 20 * 60 * 1000;
    assert_int_equal(check(doc.data, doc.len, &o, NULL, 0), SIGNER_ATTESTATION_OK);
    signer_buf_free(&doc);
}

static void test_expired_certificate(void **state)
{
    (void)state;
    test_chain old;
    assert_int_equal(test_chain_make(&old, -7200, -3600), 0);
    signer_buf doc = SIGNER_BUF_INIT;
    make_doc(&old, test_now_ms(), 1, &doc);
    signer_attestation_verify_options o = opts_for(&old);
    char msg[256];
    assert_int_equal(check(doc.data, doc.len, &o, msg, sizeof(msg)), SIGNER_ATTESTATION_BAD_CHAIN);
    assert_non_null(strstr(msg, "expired"));
    /* At a time the leaf was valid, the same document verifies. */
    o.now_ms = test_now_ms() - 5400 * 1000;
    o.max_age_ms = 0;
    o.max_future_ms = 2 * 3600 * 1000;
    assert_int_equal(check(doc.data, doc.len, &o, NULL, 0), SIGNER_ATTESTATION_OK);
    signer_buf_free(&doc);
    test_chain_free(&old);
}

static void test_encoder_refusals(void **state)
{
    (void)state;
    signer_attestation_pcr pcrs[SIGNER_ATTESTATION_PCR_COUNT];
    test_pcrs_fill(pcrs, 1);
    signer_attestation_bytes bundle[1] = {{chain_a.root_der.data, chain_a.root_der.len, true}};
    signer_attestation_issuer is = {
        .key_der = {chain_b.leaf_key_der.data, chain_b.leaf_key_der.len, true},
        .certificate = {chain_a.leaf_der.data, chain_a.leaf_der.len, true},
        .cabundle = bundle, .cabundle_count = 1,
    };
    signer_attestation_fields f = {.module_id = "m", .timestamp_ms = 1, .pcrs = pcrs};
    signer_buf out = SIGNER_BUF_INIT;
    signer_error err;
    /* Key of another certificate. */
    assert_int_equal(signer_attestation_encode(&f, &is, &out, &err), -1);
    assert_int_equal(err.code, SIGNER_ERR_INVALID_KEY);
    /* Not P-384. */
    EVP_PKEY *p256 = EVP_EC_gen("P-256");
    unsigned char *der = NULL;
    int der_len = i2d_PrivateKey(p256, &der);
    is.key_der = (signer_attestation_bytes){der, (size_t)der_len, true};
    assert_int_equal(signer_attestation_encode(&f, &is, &out, &err), -1);
    assert_int_equal(err.code, SIGNER_ERR_INVALID_KEY);
    assert_non_null(strstr(err.message, "P-384"));
    OPENSSL_free(der);
    EVP_PKEY_free(p256);
    is.key_der = (signer_attestation_bytes){chain_a.leaf_key_der.data, chain_a.leaf_key_der.len,
                                            true};
    /* Fields the parser would refuse. */
    pcrs[2].len = 20;
    assert_int_equal(signer_attestation_encode(&f, &is, &out, &err), -1);
    assert_int_equal(err.code, SIGNER_ERR_INVALID_ARGUMENT);
    memset(pcrs, 0, sizeof(pcrs));
    assert_int_equal(signer_attestation_encode(&f, &is, &out, &err), -1);
    test_pcrs_fill(pcrs, 1);
    f.module_id = "";
    assert_int_equal(signer_attestation_encode(&f, &is, &out, &err), -1);
    f.module_id = "m";
    f.public_key = (signer_attestation_bytes){(const uint8_t *)"", 0, true};
    assert_int_equal(signer_attestation_encode(&f, &is, &out, &err), -1);
    f.public_key.present = false;
    is.cabundle_count = 0;
    assert_int_equal(signer_attestation_encode(&f, &is, &out, &err), -1);
    is.cabundle_count = 1;
    f.timestamp_ms = 0;
    assert_int_equal(signer_attestation_encode(&f, &is, &out, &err), -1);
    f.timestamp_ms = 1;
    assert_int_equal(out.len, 0);
    assert_int_equal(signer_attestation_encode(&f, &is, &out, &err), 0);
    signer_buf_free(&out);
}

/* ---- malformed input ---------------------------------------------------- */

static void expect_malformed(const uint8_t *data, size_t len, const char *needle)
{
    signer_attestation_doc d;
    signer_error err;
    if (signer_attestation_parse(data, len, &d, &err) == 0)
        fail_msg("parsed a malformed document (expected \"%s\")", needle ? needle : "");
    assert_int_equal(err.code, SIGNER_ERR_PROTOCOL);
    if (needle != NULL && strstr(err.message, needle) == NULL)
        fail_msg("message \"%s\" does not mention \"%s\"", err.message, needle);
    /* A failed parse leaves nothing behind. */
    assert_null(d.storage);
    assert_null(d.module_id);
}

/* Serialises a libcbor item and releases it. */
static void serialize(cbor_item_t *item, signer_buf *out)
{
    unsigned char *buf = NULL;
    size_t cap = 0;
    size_t n = cbor_serialize_alloc(item, &buf, &cap);
    assert_true(n > 0);
    signer_buf_clear(out);
    assert_int_equal(signer_buf_append(out, buf, n, NULL), 0);
    free(buf);
    cbor_decref(&item);
}

/* A COSE_Sign1 envelope around `payload` (the signature does not matter:
 * parsing comes before verification). */
static void envelope(const signer_buf *payload, const uint8_t *protected_map, size_t pm_len,
                     size_t sig_len, signer_buf *out)
{
    static const uint8_t zeros[128];
    cbor_item_t *a = cbor_new_definite_array(4);
    assert_true(cbor_array_push(a, cbor_move(cbor_build_bytestring(protected_map, pm_len))));
    assert_true(cbor_array_push(a, cbor_move(cbor_new_definite_map(0))));
    assert_true(cbor_array_push(a, cbor_move(cbor_build_bytestring(payload->data, payload->len))));
    assert_true(cbor_array_push(a, cbor_move(cbor_build_bytestring(zeros, sig_len))));
    serialize(a, out);
}

static void map_put(cbor_item_t *map, const char *key, cbor_item_t *value)
{
    assert_true(cbor_map_add(map, (struct cbor_pair){cbor_move(cbor_build_string(key)),
                                                     cbor_move(value)}));
}

/* The payload map with one field changed: `skip` leaves a field out,
 * `replace` gives it another value, `extra` adds a pair at the end. */
static cbor_item_t *payload_with(const char *skip, const char *replace, cbor_item_t *value)
{
    static const uint8_t pcr[48], cert[300];
    cbor_item_t *m = cbor_new_definite_map(12);
    const char *names[] = {"module_id", "digest", "timestamp", "pcrs", "certificate", "cabundle"};
    for (int i = 0; i < 6; i++) {
        if (skip != NULL && strcmp(skip, names[i]) == 0)
            continue;
        cbor_item_t *v;
        if (replace != NULL && strcmp(replace, names[i]) == 0) {
            v = cbor_incref(value);
        } else if (i == 0) {
            v = cbor_build_string("module");
        } else if (i == 1) {
            v = cbor_build_string("SHA384");
        } else if (i == 2) {
            v = cbor_build_uint64(1700000000000ull);
        } else if (i == 3) {
            v = cbor_new_definite_map(1);
            assert_true(cbor_map_add(v, (struct cbor_pair){cbor_move(cbor_build_uint8(0)),
                                                           cbor_move(cbor_build_bytestring(pcr, 48))}));
        } else if (i == 4) {
            v = cbor_build_bytestring(cert, sizeof(cert));
        } else {
            v = cbor_new_definite_array(1);
            assert_true(cbor_array_push(v, cbor_move(cbor_build_bytestring(cert, sizeof(cert)))));
        }
        map_put(m, names[i], v);
    }
    if (replace != NULL && strncmp(replace, "+", 1) == 0)
        map_put(m, replace + 1, cbor_incref(value));
    if (value != NULL)
        cbor_decref(&value);
    return m;
}

static const uint8_t es384[] = {0xa1, 0x01, 0x38, 0x22};

static void expect_payload_refused(cbor_item_t *payload, const char *needle)
{
    signer_buf p = SIGNER_BUF_INIT, doc = SIGNER_BUF_INIT;
    serialize(payload, &p);
    envelope(&p, es384, sizeof(es384), 96, &doc);
    expect_malformed(doc.data, doc.len, needle);
    signer_buf_free(&p);
    signer_buf_free(&doc);
}

static void test_malformed_payloads(void **state)
{
    (void)state;
    static const uint8_t b20[20], b513[513];
    /* The baseline parses: the refusals below come from the one change. */
    {
        signer_buf p = SIGNER_BUF_INIT, doc = SIGNER_BUF_INIT;
        serialize(payload_with(NULL, NULL, NULL), &p);
        envelope(&p, es384, sizeof(es384), 96, &doc);
        signer_attestation_doc d;
        signer_error err;
        if (signer_attestation_parse(doc.data, doc.len, &d, &err) != 0)
            fail_msg("baseline: %s", err.message);
        signer_attestation_doc_free(&d);
        /* Wrong algorithm, wrong signature size, critical header. */
        static const uint8_t es256[] = {0xa1, 0x01, 0x26};
        static const uint8_t crit[] = {0xa2, 0x01, 0x38, 0x22, 0x02, 0x80};
        envelope(&p, es256, sizeof(es256), 96, &doc);
        expect_malformed(doc.data, doc.len, "ES384");
        envelope(&p, crit, sizeof(crit), 96, &doc);
        expect_malformed(doc.data, doc.len, "critical");
        envelope(&p, es384, sizeof(es384), 64, &doc);
        expect_malformed(doc.data, doc.len, "signature");
        signer_buf_free(&p);
        signer_buf_free(&doc);
    }
    const char *required[] = {"module_id", "digest", "timestamp", "pcrs", "certificate",
                              "cabundle"};
    for (int i = 0; i < 6; i++)
        expect_payload_refused(payload_with(required[i], NULL, NULL), required[i]);
    expect_payload_refused(payload_with(NULL, "digest", cbor_build_string("SHA256")), "digest");
    expect_payload_refused(payload_with(NULL, "module_id", cbor_build_string("")), "module_id");
    expect_payload_refused(payload_with(NULL, "module_id", cbor_build_uint8(1)), "module_id");
    expect_payload_refused(payload_with(NULL, "timestamp", cbor_build_uint8(0)), "timestamp");
    expect_payload_refused(payload_with(NULL, "timestamp", cbor_build_negint8(5)), "timestamp");
    expect_payload_refused(payload_with(NULL, "certificate", cbor_build_string("x")),
                           "certificate");
    expect_payload_refused(payload_with(NULL, "cabundle", cbor_new_definite_array(0)),
                           "cabundle");
    expect_payload_refused(payload_with(NULL, "pcrs", cbor_new_definite_map(0)), "pcrs");
    cbor_item_t *pcrs = cbor_new_definite_map(1);
    assert_true(cbor_map_add(pcrs, (struct cbor_pair){cbor_move(cbor_build_uint8(0)),
                                                      cbor_move(cbor_build_bytestring(b20, 20))}));
    expect_payload_refused(payload_with(NULL, "pcrs", pcrs), "PCR0");
    pcrs = cbor_new_definite_map(1);
    assert_true(cbor_map_add(pcrs, (struct cbor_pair){cbor_move(cbor_build_uint8(32)),
                                                      cbor_move(cbor_build_bytestring(b20, 20))}));
    expect_payload_refused(payload_with(NULL, "pcrs", pcrs), "PCR index");
    expect_payload_refused(payload_with(NULL, "+public_key", cbor_build_bytestring(b20, 0)),
                           "public_key");
    expect_payload_refused(payload_with(NULL, "+user_data", cbor_build_bytestring(b513, 513)),
                           "user_data");
    expect_payload_refused(payload_with(NULL, "+nonce", cbor_build_string("n")), "nonce");
    expect_payload_refused(payload_with(NULL, "+digest", cbor_build_string("SHA384")), "twice");
    /* Not a map at all. */
    expect_payload_refused(cbor_build_string("payload"), "payload");
}

static void test_malformed_envelopes(void **state)
{
    (void)state;
    signer_buf doc = SIGNER_BUF_INIT;
    make_doc(&chain_a, test_now_ms(), 1, &doc);
    /* Every truncation is refused, and so is a trailing byte. */
    for (size_t n = 0; n < doc.len; n++)
        expect_malformed(doc.data, n, NULL);
    assert_int_equal(signer_buf_append(&doc, "\x00", 1, NULL), 0);
    expect_malformed(doc.data, doc.len, "trailing");
    signer_buf_free(&doc);

    /* Lengths that claim more than the input holds are refused before
     * anything is allocated for them. */
    static const uint8_t huge_array[] = {0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    static const uint8_t huge_map[] = {0xbb, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x01};
    static const uint8_t huge_bytes[] = {0x84, 0x5b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    static const uint8_t three[] = {0x83, 0x40, 0xa0, 0x40};
    static const uint8_t not_array[] = {0xa0};
    static const uint8_t junk[] = {0xff, 0xff};
    expect_malformed(huge_array, sizeof(huge_array), "array longer");
    expect_malformed(huge_map, sizeof(huge_map), "map longer");
    expect_malformed(huge_bytes, sizeof(huge_bytes), "truncated");
    expect_malformed(three, sizeof(three), "COSE_Sign1");
    expect_malformed(not_array, sizeof(not_array), "COSE_Sign1");
    expect_malformed(junk, sizeof(junk), NULL);
    /* Deep nesting (arrays, tags) is cut off early. */
    uint8_t deep[64];
    memset(deep, 0x81, sizeof(deep));
    deep[sizeof(deep) - 1] = 0x00;
    expect_malformed(deep, sizeof(deep), "nested too deeply");
    memset(deep, 0xc1, sizeof(deep)); /* tag 1, again and again */
    deep[sizeof(deep) - 1] = 0x00;
    expect_malformed(deep, sizeof(deep), "nested too deeply");
    /* Tag 18 in its two-byte form is COSE_Sign1 as well, but only once. */
    static const uint8_t twice[] = {0xd2, 0xd8, 0x12, 0x80};
    expect_malformed(twice, sizeof(twice), "tagged twice");
    /* Too large as a whole. */
    uint8_t *big = calloc(1, SIGNER_ATTESTATION_MAX_BYTES + 1);
    assert_non_null(big);
    expect_malformed(big, SIGNER_ATTESTATION_MAX_BYTES + 1, "too large");
    free(big);
}

static void test_verify_arguments(void **state)
{
    (void)state;
    signer_buf doc = SIGNER_BUF_INIT;
    make_doc(&chain_a, test_now_ms(), 1, &doc);
    signer_attestation_doc d;
    signer_error err;
    assert_int_equal(signer_attestation_parse(doc.data, doc.len, &d, &err), 0);
    signer_attestation_verify_options o = {.root_der = (const uint8_t *)"x", .root_der_len = 1};
    assert_int_equal(signer_attestation_verify(&d, &o, NULL, &err), -1);
    assert_int_equal(err.code, SIGNER_ERR_INVALID_ARGUMENT);
    o.root_der = NULL;
    assert_int_equal(signer_attestation_verify(&d, &o, NULL, &err), -1);
    signer_attestation_doc_free(&d);
    assert_int_equal(signer_attestation_certificate_load("/nonexistent/root.pem", &doc, &err), -1);
    assert_int_equal(err.code, SIGNER_ERR_IO);
    signer_buf_free(&doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_optional_fields),
        cmocka_unit_test(test_real_aws_document),
        cmocka_unit_test(test_wrong_root),
        cmocka_unit_test(test_bad_signature),
        cmocka_unit_test(test_tampered_payload),
        cmocka_unit_test(test_document_age),
        cmocka_unit_test(test_expired_certificate),
        cmocka_unit_test(test_encoder_refusals),
        cmocka_unit_test(test_malformed_payloads),
        cmocka_unit_test(test_malformed_envelopes),
        cmocka_unit_test(test_verify_arguments),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
