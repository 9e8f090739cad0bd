/* The crypto core against vectors from independent implementations:
 * Taquito (Tezos), RFC 8032 and the Ethereum BLS suite; and its refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "signer/crypto.h"
#include "signer/memory.h"

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = strlen(hex) / 2;
    assert_true(n <= cap);
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
    return n;
}

/* Calls `check` on every JSON line of a vectors file; returns the count. */
static int each_vector(const char *file, void (*check)(json_t *))
{
    char path[512], line[4096];
    snprintf(path, sizeof(path), "%s/%s", SIGNER_TEST_VECTORS_DIR, file);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    int n = 0;
    while (fgets(line, sizeof(line), f)) {
        json_error_t jerr;
        json_t *v = json_loads(line, 0, &jerr);
        if (v == NULL)
            fail_msg("%s: %s", file, jerr.text);
        check(v);
        json_decref(v);
        n++;
    }
    fclose(f);
    return n;
}

static const char *field(json_t *v, const char *name)
{
    const char *s = json_string_value(json_object_get(v, name));
    return s;
}

static void import_hex(signer_key *key, signer_key_type type, const char *sk_hex)
{
    uint8_t sk[64];
    signer_error err;
    size_t n = unhex(sk_hex, sk, sizeof(sk));
    if (signer_key_import(key, type, sk, n, &err) != 0)
        fail_msg("import: %s", err.message);
}

static void check_tezos(json_t *v)
{
    signer_key_type type;
    signer_key key;
    signer_error err;
    uint8_t pk[64], msg[1024], want[128], sig[SIGNER_SIGNATURE_MAX];
    const char *name = field(v, "type");
    assert_int_equal(signer_key_type_from_name(name, strlen(name), &type, &err), 0);
    import_hex(&key, type, field(v, "sk"));
    size_t pk_len = unhex(field(v, "pk"), pk, sizeof(pk));
    size_t msg_len = unhex(field(v, "msg"), msg, sizeof(msg));
    size_t sig_len = unhex(field(v, "sig"), want, sizeof(want));
    assert_int_equal(pk_len, signer_key_public_size(&key));
    assert_memory_equal(key.public_key, pk, pk_len);
    /* The vector's own signature verifies (latest version). */
    if (signer_verify(type, pk, pk_len, msg, msg_len, SIGNER_VERSION_LATEST, want, sig_len, &err) !=
        0)
        fail_msg("%s vector signature: %s", name, err.message);
    assert_int_equal(signer_sign(&key, msg, msg_len, SIGNER_VERSION_LATEST, sig, &err), 0);
    assert_int_equal(sig_len, signer_signature_size(type));
    if (type == SIGNER_KEY_NISTP256)
        assert_int_equal(signer_verify(type, pk, pk_len, msg, msg_len, 2, sig, sig_len, &err), 0);
    else
        assert_memory_equal(sig, want, sig_len);
    /* A changed message breaks it (a flipped bit, or one byte more). */
    if (msg_len > 0)
        msg[0] ^= 1;
    else
        msg_len = 1;
    assert_int_equal(signer_verify(type, pk, pk_len, msg, msg_len, 2, sig, sig_len, &err), -1);
    signer_key_wipe(&key);
}

static void test_tezos_vectors(void **state)
{
    (void)state;
    /* 3 vectors per key type in the shared file. */
    assert_true(each_vector("tezos-signing.jsonl", check_tezos) >= 4);
}

static void check_rfc8032(json_t *v)
{
    signer_key key;
    uint8_t pk[32];
    import_hex(&key, SIGNER_KEY_ED25519, field(v, "sk"));
    unhex(field(v, "pk"), pk, sizeof(pk));
    assert_memory_equal(key.public_key, pk, 32);
    signer_key_wipe(&key);
}

static void test_rfc8032_public_keys(void **state)
{
    (void)state;
    assert_int_equal(each_vector("rfc8032-ed25519.jsonl", check_rfc8032), 4);
}

static void check_eth2(json_t *v)
{
    signer_key key;
    signer_error err;
    uint8_t buf[96], msg[32], sig[SIGNER_SIGNATURE_MAX];
    import_hex(&key, SIGNER_KEY_BLS, field(v, "sk"));
    if (field(v, "pk") != NULL) {
        unhex(field(v, "pk"), buf, sizeof(buf));
        assert_memory_equal(key.public_key, buf, 48);
    } else {
        unhex(field(v, "msg"), msg, sizeof(msg));
        unhex(field(v, "sig"), buf, sizeof(buf));
        assert_int_equal(signer_sign(&key, msg, sizeof(msg), 2, sig, &err), 0);
        assert_memory_equal(sig, buf, 96);
        assert_int_equal(signer_sign(&key, msg, sizeof(msg), SIGNER_VERSION_LATEST, sig, &err), 0);
        assert_memory_equal(sig, buf, 96);
    }
    signer_key_wipe(&key);
}

static void test_eth2_bls_vectors(void **state)
{
    (void)state;
    assert_int_equal(each_vector("eth2-bls-sign.jsonl", check_eth2), 12);
}

/* Zero, the group order, order + 1 and all-ones are refused; order - 1 is
 * the largest valid scalar. */
static void test_secret_range(void **state)
{
    (void)state;
    static const struct {
        signer_key_type type;
        const char *order;
    } curves[] = {
        {SIGNER_KEY_SECP256K1, "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141"},
        {SIGNER_KEY_NISTP256, "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551"},
        {SIGNER_KEY_BLS, "73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001"},
    };
    for (size_t i = 0; i < sizeof(curves) / sizeof(curves[0]); i++) {
        uint8_t s[32];
        signer_key key;
        signer_error err;
        memset(s, 0, sizeof(s));
        assert_int_equal(signer_key_import(&key, curves[i].type, s, 32, &err), -1);
        assert_int_equal(err.code, SIGNER_ERR_INVALID_KEY);
        unhex(curves[i].order, s, sizeof(s));
        assert_int_equal(signer_key_import(&key, curves[i].type, s, 32, &err), -1);
        s[31]++;
        assert_int_equal(signer_key_import(&key, curves[i].type, s, 32, &err), -1);
        s[31] -= 2;
        assert_int_equal(signer_key_import(&key, curves[i].type, s, 32, &err), 0);
        signer_key_wipe(&key);
        memset(s, 0xff, sizeof(s));
        assert_int_equal(signer_key_import(&key, curves[i].type, s, 32, &err), -1);
        /* A single byte above the order's first byte, rest zero. */
        uint8_t order[32];
        unhex(curves[i].order, order, sizeof(order));
        memset(s, 0, sizeof(s));
        s[0] = (uint8_t)(order[0] + 1);
        assert_int_equal(signer_key_import(&key, curves[i].type, s, 32, &err), -1);
        s[0] -= 2;
        assert_int_equal(signer_key_import(&key, curves[i].type, s, 32, &err), 0);
        signer_key_wipe(&key);
    }
}

static void test_secret_lengths(void **state)
{
    (void)state;
    uint8_t s[64];
    memset(s, 7, sizeof(s));
    for (int t = 0; t < SIGNER_KEY_TYPE_COUNT; t++) {
        signer_key key;
        signer_error err;
        assert_int_equal(signer_key_import(&key, (signer_key_type)t, s, 31, &err), -1);
        assert_int_equal(err.code, SIGNER_ERR_INVALID_KEY);
        assert_int_equal(signer_key_import(&key, (signer_key_type)t, s, 33, &err), -1);
        assert_int_equal(signer_key_import(&key, (signer_key_type)t, s, 0, &err), -1);
        assert_int_equal(signer_key_import(&key, (signer_key_type)t, s, 32, &err), 0);
        signer_key_wipe(&key);
    }
    signer_key key;
    assert_int_equal(signer_key_import(&key, (signer_key_type)9, s, 32, NULL), -1);
}

static void test_type_names(void **state)
{
    (void)state;
    signer_key_type t;
    signer_error err;
    const char *names[] = {"Secp256k1", "NistP256", "Ed25519", "Bls"};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(signer_key_type_from_name(names[i], strlen(names[i]), &t, &err), 0);
        assert_int_equal(t, i);
        assert_string_equal(signer_key_type_name(t), names[i]);
    }
    assert_int_equal(signer_key_type_from_name("bls", 3, &t, &err), -1);
    assert_int_equal(err.code, SIGNER_ERR_UNSUPPORTED);
    assert_int_equal(signer_key_type_from_name("Bls", 2, &t, &err), -1);
    assert_int_equal(signer_key_type_from_name("Blsx", 4, &t, &err), -1);
    assert_int_equal(signer_public_key_size(SIGNER_KEY_SECP256K1), 33);
    assert_int_equal(signer_public_key_size(SIGNER_KEY_NISTP256), 33);
    assert_int_equal(signer_public_key_size(SIGNER_KEY_ED25519), 32);
    assert_int_equal(signer_public_key_size(SIGNER_KEY_BLS), 48);
    assert_int_equal(signer_signature_size(SIGNER_KEY_BLS), 96);
}

/* Fresh keys sign and verify; export then import gives the same key. */
static void test_generate_sign_verify(void **state)
{
    (void)state;
    static const uint8_t msg[] = "\x03tezos operation bytes";
    for (int t = 0; t < SIGNER_KEY_TYPE_COUNT; t++) {
        signer_key a, b, c;
        signer_error err;
        uint8_t secret[SIGNER_SECRET_KEY_BYTES], sig[SIGNER_SIGNATURE_MAX];
        size_t pk_len = signer_public_key_size((signer_key_type)t);
        size_t sig_len = signer_signature_size((signer_key_type)t);
        assert_int_equal(signer_key_generate(&a, (signer_key_type)t, &err), 0);
        assert_int_equal(signer_key_generate(&c, (signer_key_type)t, &err), 0);
        assert_memory_not_equal(a.public_key, c.public_key, pk_len);
        signer_key_export(&a, secret);
        assert_int_equal(signer_key_import(&b, (signer_key_type)t, secret, 32, &err), 0);
        assert_memory_equal(a.public_key, b.public_key, pk_len);
        for (unsigned v = 0; v <= 255; v++) {
            int exists = (v <= 2 || v == 255) && !(t == SIGNER_KEY_BLS && v == 0);
            int rc = signer_sign(&a, msg, sizeof(msg), v, sig, &err);
            assert_int_equal(rc, exists ? 0 : -1);
            if (!exists) {
                assert_int_equal(err.code, SIGNER_ERR_UNSUPPORTED);
                continue;
            }
            assert_int_equal(signer_verify((signer_key_type)t, b.public_key, pk_len, msg,
                                           sizeof(msg), v, sig, sig_len, &err),
                             0);
            /* Another key's signature does not verify. */
            assert_int_equal(signer_verify((signer_key_type)t, c.public_key, pk_len, msg,
                                           sizeof(msg), v, sig, sig_len, &err),
                             -1);
        }
        signer_key_wipe(&a);
        signer_key_wipe(&b);
        signer_key_wipe(&c);
    }
}

/* BLS versions 1 (augmented) and 2 (proof of possession) are different
 * ciphersuites: a signature of one never verifies as the other. */
static void test_bls_versions_are_separate(void **state)
{
    (void)state;
    signer_key key;
    signer_error err;
    uint8_t v1[96], v2[96];
    static const uint8_t msg[] = {1, 2, 3};
    assert_int_equal(signer_key_generate(&key, SIGNER_KEY_BLS, &err), 0);
    assert_int_equal(signer_sign(&key, msg, 3, 1, v1, &err), 0);
    assert_int_equal(signer_sign(&key, msg, 3, 2, v2, &err), 0);
    assert_memory_not_equal(v1, v2, 96);
    assert_int_equal(signer_verify(SIGNER_KEY_BLS, key.public_key, 48, msg, 3, 1, v1, 96, &err), 0);
    assert_int_equal(signer_verify(SIGNER_KEY_BLS, key.public_key, 48, msg, 3, 2, v1, 96, &err),
                     -1);
    assert_int_equal(signer_verify(SIGNER_KEY_BLS, key.public_key, 48, msg, 3, 1, v2, 96, &err),
                     -1);
    assert_int_equal(signer_sign(&key, msg, 3, 0, v1, &err), -1);
    assert_int_equal(signer_verify(SIGNER_KEY_BLS, key.public_key, 48, msg, 3, 0, v2, 96, &err),
                     -1);
    signer_key_wipe(&key);
}

static void test_proof_of_possession(void **state)
{
    (void)state;
    signer_key key, other;
    signer_error err;
    uint8_t proof[96], sig[96];
    assert_int_equal(signer_key_generate(&key, SIGNER_KEY_BLS, &err), 0);
    assert_int_equal(signer_key_generate(&other, SIGNER_KEY_BLS, &err), 0);
    assert_int_equal(signer_prove_possession(&key, proof, &err), 0);
    assert_int_equal(signer_verify_possession(key.public_key, 48, proof, 96, &err), 0);
    assert_int_equal(signer_verify_possession(other.public_key, 48, proof, 96, &err), -1);
    /* Domain separation: signing the public key as a message is not a proof. */
    assert_int_equal(signer_sign(&key, key.public_key, 48, 2, sig, &err), 0);
    assert_memory_not_equal(sig, proof, 96);
    assert_int_equal(signer_verify_possession(key.public_key, 48, sig, 96, &err), -1);
    signer_key_wipe(&other);
    for (int t = 0; t < SIGNER_KEY_BLS; t++) {
        assert_int_equal(signer_key_generate(&other, (signer_key_type)t, &err), 0);
        assert_int_equal(signer_prove_possession(&other, proof, &err), -1);
        assert_int_equal(err.code, SIGNER_ERR_UNSUPPORTED);
        signer_key_wipe(&other);
    }
    signer_key_wipe(&key);
}

/* libsecp256k1 emits low-S signatures, which Tezos requires; the high-S
 * twin of a valid signature is refused by verification. */
static void test_secp256k1_low_s(void **state)
{
    (void)state;
    static const uint8_t half_order[32] = {0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                           0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                           0x5d, 0x57, 0x6e, 0x73, 0x57, 0xa4, 0x50, 0x1d,
                                           0xdf, 0xe9, 0x2f, 0x46, 0x68, 0x1b, 0x20, 0xa0};
    static const uint8_t order[32] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
                                      0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b,
                                      0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41};
    signer_key key;
    signer_error err;
    assert_int_equal(signer_key_generate(&key, SIGNER_KEY_SECP256K1, &err), 0);
    for (int i = 0; i < 200; i++) {
        uint8_t msg[4] = {(uint8_t)i, 1, 2, 3}, sig[SIGNER_SIGNATURE_MAX], high[64];
        assert_int_equal(signer_sign(&key, msg, 4, 2, sig, &err), 0);
        assert_true(memcmp(sig + 32, half_order, 32) <= 0);
        /* high = n - s */
        memcpy(high, sig, 32);
        int borrow = 0;
        for (int b = 31; b >= 0; b--) {
            int d = order[b] - sig[32 + b] - borrow;
            borrow = d < 0;
            high[32 + b] = (uint8_t)(d + (borrow ? 256 : 0));
        }
        assert_int_equal(
            signer_verify(SIGNER_KEY_SECP256K1, key.public_key, 33, msg, 4, 2, sig, 64, &err), 0);
        assert_int_equal(
            signer_verify(SIGNER_KEY_SECP256K1, key.public_key, 33, msg, 4, 2, high, 64, &err), -1);
    }
    signer_key_wipe(&key);
}

static void test_verify_rejects_garbage(void **state)
{
    (void)state;
    uint8_t junk[96], msg[1] = {0};
    signer_error err;
    memset(junk, 0xee, sizeof(junk));
    for (int t = 0; t < SIGNER_KEY_TYPE_COUNT; t++) {
        size_t pk = signer_public_key_size((signer_key_type)t);
        size_t sig = signer_signature_size((signer_key_type)t);
        assert_int_equal(signer_verify((signer_key_type)t, junk, pk, msg, 1, 2, junk, sig, &err),
                         -1);
        assert_int_equal(
            signer_verify((signer_key_type)t, junk, pk - 1, msg, 1, 2, junk, sig, &err), -1);
        assert_int_equal(err.code, SIGNER_ERR_INVALID_ARGUMENT);
        assert_int_equal(
            signer_verify((signer_key_type)t, junk, pk, msg, 1, 2, junk, sig + 1, &err), -1);
        assert_int_equal(err.code, SIGNER_ERR_INVALID_ARGUMENT);
    }
}

/* A wiped key holds no secret bytes and no cached library object. */
static void test_wipe(void **state)
{
    (void)state;
    static const uint8_t zero[sizeof(signer_key)];
    uint8_t sig[SIGNER_SIGNATURE_MAX];
    for (int t = 0; t < SIGNER_KEY_TYPE_COUNT; t++) {
        signer_key key;
        assert_int_equal(signer_key_generate(&key, (signer_key_type)t, NULL), 0);
        assert_int_equal(signer_sign(&key, sig, 8, 2, sig, NULL), 0); /* builds caches */
        signer_key_wipe(&key);
        assert_memory_equal(&key, zero, sizeof(key));
    }
}

/* The wiping allocators keep what they move. */
static void test_wiping_allocators(void **state)
{
    (void)state;
    char *p = signer_wiping_realloc(NULL, 10);
    memcpy(p, "0123456789", 10);
    p = signer_wiping_realloc(p, 100000);
    assert_memory_equal(p, "0123456789", 10);
    p = signer_wiping_realloc(p, 4);
    assert_memory_equal(p, "0123", 4);
    signer_wiping_free(p);
    signer_wiping_free(NULL);
}

int main(void)
{
    /* The daemon runs OpenSSL with wiping allocators and a secure heap;
     * so do these tests (P-256 keys go through both). */
    if (signer_memory_harden_openssl() != 0 || signer_crypto_init(NULL) != 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tezos_vectors),
        cmocka_unit_test(test_rfc8032_public_keys),
        cmocka_unit_test(test_eth2_bls_vectors),
        cmocka_unit_test(test_secret_range),
        cmocka_unit_test(test_secret_lengths),
        cmocka_unit_test(test_type_names),
        cmocka_unit_test(test_generate_sign_verify),
        cmocka_unit_test(test_bls_versions_are_separate),
        cmocka_unit_test(test_proof_of_possession),
        cmocka_unit_test(test_secp256k1_low_s),
        cmocka_unit_test(test_verify_rejects_garbage),
        cmocka_unit_test(test_wipe),
        cmocka_unit_test(test_wiping_allocators),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
