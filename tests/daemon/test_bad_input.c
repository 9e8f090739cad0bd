/* Hostile and malformed input: every case gets a clear Err (or a closed
 * connection), the daemon never crashes, and everyone else keeps being
 * served. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "signer/crypto.h"

#define MAX_FRAME 65536

static test_daemon daemon_;
static signer_client *session_; /* one session that must survive every Err */

/* ---- a tiny CBOR writer, independent of the code under test ---- */

typedef struct cb {
    uint8_t b[8192];
    size_t n;
} cb;

static cb *head(cb *c, unsigned major, uint64_t v)
{
    uint8_t m = (uint8_t)(major << 5);
    if (v < 24) {
        c->b[c->n++] = m | (uint8_t)v;
    } else if (v <= 0xff) {
        c->b[c->n++] = m | 24;
        c->b[c->n++] = (uint8_t)v;
    } else if (v <= 0xffff) {
        c->b[c->n++] = m | 25;
        c->b[c->n++] = (uint8_t)(v >> 8);
        c->b[c->n++] = (uint8_t)v;
    } else {
        c->b[c->n++] = m | 27;
        for (int i = 7; i >= 0; i--)
            c->b[c->n++] = (uint8_t)(v >> (8 * i));
    }
    return c;
}
static cb *map(cb *c, uint64_t n)
{
    return head(c, 5, n);
}
static cb *arr(cb *c, uint64_t n)
{
    return head(c, 4, n);
}
static cb *uint_(cb *c, uint64_t v)
{
    return head(c, 0, v);
}
static cb *text(cb *c, const char *s)
{
    head(c, 3, strlen(s));
    memcpy(c->b + c->n, s, strlen(s));
    c->n += strlen(s);
    return c;
}
static cb *bytes(cb *c, const uint8_t *p, size_t n)
{
    head(c, 2, n);
    memcpy(c->b + c->n, p, n);
    c->n += n;
    return c;
}
static cb *raw(cb *c, uint8_t byte)
{
    c->b[c->n++] = byte;
    return c;
}

/* Sends `c` as one frame on the shared session and returns the answer. */
static const char *ask(const cb *c)
{
    static char msg[256];
    assert_int_equal(test_raw_call(session_, c->b, c->n, msg, sizeof(msg)), 0);
    return msg;
}

static void expect_err(const cb *c, const char *needle)
{
    const char *msg = ask(c);
    if (strcmp(msg, "OK") == 0)
        fail_msg("expected an Err containing \"%s\", got Ok", needle);
    if (strstr(msg, needle) == NULL)
        fail_msg("expected an Err containing \"%s\", got \"%s\"", needle, msg);
}

static int setup(void **state)
{
    (void)state;
    const char *extra[] = {
        "--max-frame", "65536",           "--max-keys", "100", "--max-keys-total",
        "150",         "--frame-timeout", "1000",       NULL};
    if (signer_crypto_init(NULL) != 0 || test_daemon_start(&daemon_, extra) != 0)
        return -1;
    session_ = test_connect(&daemon_, 1);
    return session_ ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    signer_client_close(session_);
    return test_daemon_stop(&daemon_) == 0 ? 0 : -1;
}

/* The shared session imports one key of each type first (handles 0..3). */
static void test_session_keys(void **state)
{
    (void)state;
    const char *names[] = {"Secp256k1", "NistP256", "Ed25519", "Bls"};
    for (int i = 0; i < 4; i++) {
        cb c = {0};
        text(map(&c, 1), "GenerateAndImport");
        text(&c, names[i]);
        assert_string_equal(ask(&c), "OK");
    }
}

static void test_not_cbor(void **state)
{
    (void)state;
    cb c = {0};
    raw(raw(raw(&c, 0xff), 0xff), 0x1c); /* break outside a container, reserved */
    expect_err(&c, "CBOR");
    cb e = {0};
    expect_err(&e, "empty frame");
}

static void test_not_one_entry_map(void **state)
{
    (void)state;
    cb a = {0};
    uint_(arr(&a, 1), 1);
    expect_err(&a, "exactly one entry");
    cb t = {0};
    text(&t, "Sign");
    expect_err(&t, "exactly one entry");
    cb two = {0};
    text(text(text(text(map(&two, 2), "Generate"), "Bls"), "Generate"), "Bls");
    expect_err(&two, "exactly one entry");
    cb numkey = {0};
    uint_(uint_(map(&numkey, 1), 5), 5);
    expect_err(&numkey, "call name");
}

static void test_trailing_bytes(void **state)
{
    (void)state;
    cb c = {0};
    text(text(map(&c, 1), "Generate"), "Bls");
    raw(&c, 0x00);
    expect_err(&c, "trailing");
}

static void test_truncated_item(void **state)
{
    (void)state;
    cb c = {0};
    text(map(&c, 1), "Generate");
    raw(raw(&c, 0x63), 'B'); /* text of 3 bytes, 1 present */
    expect_err(&c, "truncated");
}

static void test_length_claims_beyond_input(void **state)
{
    (void)state;
    cb a = {0};
    text(map(&a, 1), "Import");
    head(&a, 4, 0xffffffffull); /* an array claiming 4 billion items */
    expect_err(&a, "longer than the input");
    cb m = {0};
    head(&m, 5, 1ull << 40);
    expect_err(&m, "longer than the input");
    cb b = {0};
    text(map(&b, 1), "Import");
    head(&b, 2, 1ull << 62); /* a byte string claiming 4 EiB */
    expect_err(&b, "CBOR");
}

static void test_deep_nesting(void **state)
{
    (void)state;
    cb c = {0};
    text(map(&c, 1), "Import");
    for (int i = 0; i < 1000; i++)
        arr(&c, 1);
    uint_(&c, 0);
    expect_err(&c, "nested too deeply");
}

/* A chain of tags is nesting too (libcbor frees it recursively). */
static void test_tag_chain(void **state)
{
    (void)state;
    cb c = {0};
    text(map(&c, 1), "Import");
    for (int i = 0; i < 8000; i++)
        raw(&c, 0xc1); /* tag 1 */
    uint_(&c, 0);
    expect_err(&c, "nested too deeply");
    cb one = {0};
    raw(text(map(&one, 1), "PublicKey"), 0xc1);
    uint_(&one, 0);
    /* One tag is no nesting problem, just not an integer. */
    assert_string_equal(ask(&one), "PublicKey: handle: expected an unsigned integer");
}

/* A float where null, bytes or an integer is expected: libcbor's own null
 * test would abort the process on it (found by fuzzing). */
static cb *half_float(cb *c)
{
    return raw(raw(raw(c, 0xf9), 0x01), 0xd8);
}

static void test_floats_where_values_expected(void **state)
{
    (void)state;
    static const uint8_t one = 1;
    cb c = {0};
    half_float(text(map(&c, 1), "Initialize"));
    expect_err(&c, "Initialize: argument must be a map");
    cb i = {0};
    half_float(text(map(&i, 1), "Import"));
    expect_err(&i, "Import");
    cb u = {0};
    half_float(text(map(text(map(&u, 1), "ImportUnencrypted"), 1), "Bls"));
    expect_err(&u, "ImportUnencrypted");
    cb m = {0};
    half_float(text(uint_(text(map(text(map(&m, 1), "Sign"), 2), "handle"), 0), "message"));
    expect_err(&m, "message");
    cb v = {0};
    bytes(text(uint_(text(map(text(map(&v, 1), "Sign"), 3), "handle"), 0), "message"), &one, 1);
    half_float(text(&v, "version"));
    expect_err(&v, "version");
    cb p = {0};
    half_float(text(map(&p, 1), "PublicKey"));
    expect_err(&p, "handle");
    assert_true(test_daemon_alive(&daemon_));
}

static void test_unknown_call(void **state)
{
    (void)state;
    cb c = {0};
    uint_(text(map(&c, 1), "Explode"), 1);
    expect_err(&c, "unknown call \"Explode\"");
}

static void test_wrong_argument_types(void **state)
{
    (void)state;
    cb pk = {0};
    text(text(map(&pk, 1), "PublicKey"), "zero");
    expect_err(&pk, "unsigned integer");
    cb gen = {0};
    uint_(text(map(&gen, 1), "Generate"), 3);
    expect_err(&gen, "key type");
    cb sign = {0};
    map(text(map(&sign, 1), "Sign"), 2);
    text(text(&sign, "handle"), "0");
    bytes(text(&sign, "message"), (const uint8_t *)"m", 1);
    expect_err(&sign, "handle");
    cb neg = {0};
    head(text(map(&neg, 1), "PublicKey"), 1, 0); /* -1 */
    expect_err(&neg, "unsigned integer");
    cb badbytes = {0};
    arr(text(map(&badbytes, 1), "Import"), 2);
    uint_(uint_(&badbytes, 1), 256);
    expect_err(&badbytes, "0..255");
    cb init = {0};
    uint_(text(map(&init, 1), "Initialize"), 1);
    expect_err(&init, "map of named fields");
}

static void test_missing_field(void **state)
{
    (void)state;
    cb c = {0};
    map(text(map(&c, 1), "Sign"), 1);
    uint_(text(&c, "handle"), 0);
    expect_err(&c, "missing field message");
    cb w = {0};
    map(text(map(&w, 1), "SignWith"), 1);
    bytes(text(&w, "message"), (const uint8_t *)"m", 1);
    expect_err(&w, "missing field encrypted_private_key");
}

static void test_unknown_key_type(void **state)
{
    (void)state;
    cb c = {0};
    text(text(map(&c, 1), "Generate"), "Rsa4096");
    expect_err(&c, "unknown key type");
    cb lower = {0};
    text(text(map(&lower, 1), "GenerateAndImport"), "ed25519");
    expect_err(&lower, "unknown key type");
}

static void test_handle_out_of_range(void **state)
{
    (void)state;
    cb c = {0};
    uint_(text(map(&c, 1), "PublicKey"), 4);
    expect_err(&c, "invalid handle 4");
    cb s = {0};
    map(text(map(&s, 1), "Sign"), 2);
    uint_(text(&s, "handle"), UINT64_MAX);
    bytes(text(&s, "message"), (const uint8_t *)"m", 1);
    expect_err(&s, "invalid handle");
}

static void import_raw(const char *type, const uint8_t *key, size_t len, const char *needle)
{
    cb c = {0};
    map(text(map(&c, 1), "ImportUnencrypted"), 1);
    bytes(text(&c, type), key, len);
    expect_err(&c, needle);
}

static void test_bad_private_keys(void **state)
{
    (void)state;
    static const uint8_t zero[32];
    uint8_t k[33];
    memset(k, 1, sizeof(k));
    const char *types[] = {"Secp256k1", "NistP256", "Ed25519", "Bls"};
    for (int i = 0; i < 4; i++) {
        import_raw(types[i], k, 31, "ImportUnencrypted");
        import_raw(types[i], k, 33, "ImportUnencrypted");
        if (i != 2)
            import_raw(types[i], zero, 32, "ImportUnencrypted");
    }
    /* The group orders themselves, big-endian. */
    uint8_t n[32];
    test_unhex("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141", n, 32);
    import_raw("Secp256k1", n, 32, "ImportUnencrypted");
    test_unhex("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551", n, 32);
    import_raw("NistP256", n, 32, "ImportUnencrypted");
    test_unhex("73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001", n, 32);
    import_raw("Bls", n, 32, "ImportUnencrypted");
    memset(n, 0xff, 32);
    import_raw("Secp256k1", n, 32, "ImportUnencrypted");
    import_raw("NistP256", n, 32, "ImportUnencrypted");
    import_raw("Bls", n, 32, "ImportUnencrypted");
    cb c = {0};
    map(text(map(&c, 1), "ImportUnencrypted"), 2);
    bytes(text(&c, "Ed25519"), k, 32);
    bytes(text(&c, "Bls"), k, 32);
    expect_err(&c, "exactly one entry");
}

static void test_garbage_sealed_key(void **state)
{
    (void)state;
    static const uint8_t junk[] = {0xde, 0xad, 0xbe, 0xef, 0x00, 0x11};
    const char *calls[] = {"Import", "PublicKeyFrom"};
    for (int i = 0; i < 2; i++) {
        cb c = {0};
        bytes(text(map(&c, 1), calls[i]), junk, sizeof(junk));
        expect_err(&c, "cannot unseal");
        cb e = {0};
        bytes(text(map(&e, 1), calls[i]), junk, 0);
        expect_err(&e, "cannot unseal");
    }
    cb w = {0};
    map(text(map(&w, 1), "SignWith"), 2);
    bytes(text(&w, "encrypted_private_key"), junk, sizeof(junk));
    bytes(text(&w, "message"), junk, 1);
    expect_err(&w, "cannot unseal");
}

static cb sign_frame(uint64_t handle, int64_t version)
{
    cb c = {0};
    map(text(map(&c, 1), "Sign"), version < 0 ? 2 : 3);
    uint_(text(&c, "handle"), handle);
    bytes(text(&c, "message"), (const uint8_t *)"msg", 3);
    if (version >= 0)
        uint_(text(&c, "version"), (uint64_t)version);
    return c;
}

static void test_signing_versions(void **state)
{
    (void)state;
    for (uint64_t h = 0; h < 4; h++) {
        cb v3 = sign_frame(h, 3), v254 = sign_frame(h, 254), v256 = sign_frame(h, 256);
        expect_err(&v3, "version 3");
        expect_err(&v254, "version 254");
        expect_err(&v256, "version 256");
        cb v0 = sign_frame(h, 0);
        if (h == 3)
            expect_err(&v0, "version 0");
        else
            assert_string_equal(ask(&v0), "OK");
    }
}

/* What real clients send: null for empty bytes, integer arrays, chunked
 * byte strings, extra keys, an absent version. */
static void test_lenient_shapes_accepted(void **state)
{
    (void)state;
    cb n = {0};
    map(text(map(&n, 1), "Sign"), 2);
    uint_(text(&n, "handle"), 2);
    raw(text(&n, "message"), 0xf6);
    assert_string_equal(ask(&n), "OK");
    cb a = {0};
    map(text(map(&a, 1), "Sign"), 4);
    uint_(text(&a, "handle"), 0);
    uint_(uint_(uint_(arr(text(&a, "message"), 3), 1), 2), 255);
    text(text(&a, "comment"), "ignored");
    raw(text(&a, "version"), 0xf6);
    assert_string_equal(ask(&a), "OK");
    cb ch = {0};
    map(text(map(&ch, 1), "Sign"), 2);
    uint_(text(&ch, "handle"), 1);
    raw(text(&ch, "message"), 0x5f); /* indefinite byte string */
    bytes(bytes(&ch, (const uint8_t *)"ab", 2), (const uint8_t *)"c", 1);
    raw(&ch, 0xff);
    assert_string_equal(ask(&ch), "OK");
    cb it = {0};
    raw(map(&it, 1), 0x7f); /* the call name as an indefinite text string */
    text(text(&it, "Publi"), "cKey");
    uint_(raw(&it, 0xff), 0);
    assert_string_equal(ask(&it), "OK");
    /* Keys that are not text are unknown keys too, and ignored. */
    cb nk = {0};
    map(text(map(&nk, 1), "Sign"), 3);
    uint_(text(&nk, "handle"), 0);
    bytes(text(&nk, "message"), (const uint8_t *)"x", 1);
    uint_(uint_(&nk, 1), 2);
    assert_string_equal(ask(&nk), "OK");
}

static void test_duplicate_field(void **state)
{
    (void)state;
    cb c = {0};
    map(text(map(&c, 1), "Sign"), 3);
    uint_(text(&c, "handle"), 0);
    uint_(text(&c, "handle"), 1);
    bytes(text(&c, "message"), (const uint8_t *)"m", 1);
    expect_err(&c, "duplicate field handle");
}

static void test_key_limit(void **state)
{
    (void)state;
    const char *msg = "OK";
    int i;
    for (i = 0; i < 200 && strcmp(msg, "OK") == 0; i++) {
        cb c = {0};
        text(text(map(&c, 1), "GenerateAndImport"), "Ed25519");
        msg = ask(&c);
    }
    assert_int_equal(i, 100 - 4 + 1);
    assert_non_null(strstr(msg, "limit"));
}

/* The keys of all sessions share one limit; a session that closes gives
 * its keys back.  Runs after test_key_limit: session_ holds 100 keys. */
static void test_total_key_limit(void **state)
{
    (void)state;
    rpc_request gen = {.call = RPC_GENERATE_AND_IMPORT, .key_type = SIGNER_KEY_ED25519};
    rpc_response r;
    signer_client *h = test_connect(&daemon_, 1);
    int kept = 0;
    for (;; kept++) {
        assert_int_equal(signer_client_call(h, &gen, &r, NULL), 0);
        bool ok = r.ok;
        if (!ok)
            assert_non_null(strstr(r.error_message, "in all sessions"));
        rpc_response_free(&r);
        if (!ok)
            break;
    }
    assert_int_equal(kept, 50);
    signer_client_close(h);
    for (int i = 0; i < 100; i++) { /* the daemon frees them when it sees the close */
        h = test_connect(&daemon_, 1);
        assert_int_equal(signer_client_call(h, &gen, &r, NULL), 0);
        bool ok = r.ok;
        rpc_response_free(&r);
        signer_client_close(h);
        if (ok)
            return;
        usleep(20000);
    }
    fail_msg("keys of a closed session were not given back");
}

/* An oversize frame is answered with Err and its payload skipped: the
 * session carries on, and nothing of the claimed size is allocated. */
static void test_oversize_frame(void **state)
{
    (void)state;
    long before = test_daemon_rss_kib(&daemon_);
    size_t len = MAX_FRAME + 1000;
    uint8_t *junk = calloc(1, len);
    uint8_t header[4] = {(uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
                         (uint8_t)len};
    assert_int_equal(signer_client_send_raw(session_, header, 4, NULL), 0);
    assert_int_equal(signer_client_send_raw(session_, junk, len, NULL), 0);
    free(junk);
    uint8_t *payload;
    size_t plen;
    assert_int_equal(signer_client_receive_raw(session_, &payload, &plen, NULL), 0);
    free(payload);
    cb c = {0};
    uint_(text(map(&c, 1), "PublicKey"), 0);
    assert_string_equal(ask(&c), "OK");

    /* Many connections each claiming 4 GiB. */
    for (int i = 0; i < 50; i++) {
        signer_client *h = test_connect(&daemon_, 0);
        uint8_t huge[4] = {0xff, 0xff, 0xff, 0xff};
        assert_int_equal(signer_client_send_raw(h, huge, 4, NULL), 0);
        char msg[256];
        assert_int_equal(signer_client_receive_raw(h, &payload, &plen, NULL), 0);
        free(payload);
        (void)msg;
        signer_client_close(h);
    }
    long after = test_daemon_rss_kib(&daemon_);
    assert_true(after - before < 32 * 1024);
    assert_string_equal(ask(&c), "OK");
}

/* Clients that vanish mid-frame, and thousands that come and go. */
static void test_dropped_connections(void **state)
{
    (void)state;
    for (int i = 0; i < 3000; i++) {
        signer_client *h = test_connect(&daemon_, 0);
        assert_non_null(h);
        if (i % 3 == 1) {
            uint8_t partial[6] = {0, 0, 0, 100, 0xa1, 0x64};
            signer_client_send_raw(h, partial, sizeof(partial), NULL);
        } else if (i % 3 == 2) {
            uint8_t half[2] = {0, 0};
            signer_client_send_raw(h, half, sizeof(half), NULL);
        }
        signer_client_close(h);
    }
    assert_true(test_daemon_alive(&daemon_));
    cb c = {0};
    uint_(text(map(&c, 1), "PublicKey"), 0);
    assert_string_equal(ask(&c), "OK");
}

/* Half a frame, then silence: the daemon closes that connection after
 * --frame-timeout; a session idle between frames is never closed. */
static void test_stalled_half_frame(void **state)
{
    (void)state;
    signer_client *h = test_connect(&daemon_, 1);
    assert_non_null(h);
    uint8_t half[14] = {0, 0, 0, 100, 0xa1, 0x64};
    assert_int_equal(signer_client_send_raw(h, half, sizeof(half), NULL), 0);
    sleep(2);
    uint8_t byte;
    assert_true(read(signer_client_fd(h), &byte, 1) <= 0);
    signer_client_close(h);
    /* session_ has been idle far longer than the timeout, and still works. */
    cb c = {0};
    uint_(text(map(&c, 1), "PublicKey"), 0);
    assert_string_equal(ask(&c), "OK");
}

/* A client that leaves an answer unread and disconnects, mid-batch. */
static void test_disconnect_with_pending_answers(void **state)
{
    (void)state;
    /* The sessions the previous test dropped may still be closing; the
     * daemon refuses connections beyond its cap until they are gone. */
    signer_client *h = NULL;
    for (int i = 0; i < 500 && h == NULL; i++)
        if ((h = test_connect(&daemon_, 1)) == NULL)
            usleep(10000);
    assert_non_null(h);
    cb g = {0};
    text(text(map(&g, 1), "GenerateAndImport"), "Bls");
    uint8_t header[4] = {0, 0, 0, (uint8_t)g.n};
    for (int i = 0; i < 20; i++) {
        signer_client_send_raw(h, header, 4, NULL);
        signer_client_send_raw(h, g.b, g.n, NULL);
    }
    signer_client_close(h);
    cb c = {0};
    uint_(text(map(&c, 1), "PublicKey"), 0);
    assert_string_equal(ask(&c), "OK");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_session_keys),
        cmocka_unit_test(test_not_cbor),
        cmocka_unit_test(test_not_one_entry_map),
        cmocka_unit_test(test_trailing_bytes),
        cmocka_unit_test(test_truncated_item),
        cmocka_unit_test(test_length_claims_beyond_input),
        cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_tag_chain),
        cmocka_unit_test(test_floats_where_values_expected),
        cmocka_unit_test(test_unknown_call),
        cmocka_unit_test(test_wrong_argument_types),
        cmocka_unit_test(test_missing_field),
        cmocka_unit_test(test_unknown_key_type),
        cmocka_unit_test(test_handle_out_of_range),
        cmocka_unit_test(test_bad_private_keys),
        cmocka_unit_test(test_garbage_sealed_key),
        cmocka_unit_test(test_signing_versions),
        cmocka_unit_test(test_lenient_shapes_accepted),
        cmocka_unit_test(test_duplicate_field),
        cmocka_unit_test(test_oversize_frame),
        cmocka_unit_test(test_dropped_connections),
        cmocka_unit_test(test_disconnect_with_pending_answers),
        cmocka_unit_test(test_stalled_half_frame),
        cmocka_unit_test(test_key_limit),
        cmocka_unit_test(test_total_key_limit),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
