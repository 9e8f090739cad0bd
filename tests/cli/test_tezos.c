/* signer-cli's Tezos base58check encoders against outside data: the signing
 * vectors (made with Taquito), Taquito's own published pk -> address pairs,
 * and the base58 examples of the IETF base58 draft. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tezos.h"

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = strlen(hex) / 2;
    assert_true(n <= cap);
    assert_int_equal(sodium_hex2bin(out, cap, hex, strlen(hex), NULL, &n, NULL), 0);
    return n;
}

static signer_key_type type_named(const char *name)
{
    static const char *const names[] = {"Secp256k1", "NistP256", "Ed25519", "Bls"};
    for (int i = 0; i < 4; i++)
        if (strcmp(name, names[i]) == 0)
            return (signer_key_type)i;
    fail_msg("unknown key type %s", name);
    return SIGNER_KEY_ED25519;
}

/* Encodes, then decodes back to the same bytes and type. */
static void check_form(tezos_kind kind, signer_key_type type, const uint8_t *bytes, size_t len,
                       const char *expected)
{
    char text[TEZOS_B58_MAX];
    signer_error err;
    if (tezos_encode(kind, type, bytes, len, text, &err) != 0)
        fail_msg("encode: %s", err.message);
    assert_string_equal(text, expected);
    uint8_t back[TEZOS_B58_DATA_MAX];
    size_t n;
    signer_key_type t = (signer_key_type)-1;
    int typed = -1;
    if (tezos_decode(kind, expected, &t, &typed, back, sizeof(back), &n, &err) != 0)
        fail_msg("decode %s: %s", expected, err.message);
    assert_int_equal(typed, 1);
    assert_int_equal(t, type);
    assert_int_equal(n, len);
    assert_memory_equal(back, bytes, len);
}

/* tests/vectors/tezos-signing.jsonl: pkb58 and sigb58 from pk and sig. */
static void test_signing_vectors(void **state)
{
    (void)state;
    FILE *f = fopen(SIGNER_TEST_VECTORS_DIR "/tezos-signing.jsonl", "r");
    assert_non_null(f);
    char line[4096];
    int lines = 0, types_seen = 0;
    while (fgets(line, sizeof(line), f)) {
        json_error_t jerr;
        json_t *v = json_loads(line, 0, &jerr);
        assert_non_null(v);
        signer_key_type type = type_named(json_string_value(json_object_get(v, "type")));
        uint8_t pk[64], sig[128];
        size_t pk_len = unhex(json_string_value(json_object_get(v, "pk")), pk, sizeof(pk));
        size_t sig_len = unhex(json_string_value(json_object_get(v, "sig")), sig, sizeof(sig));
        check_form(TEZOS_PUBLIC_KEY, type, pk, pk_len,
                   json_string_value(json_object_get(v, "pkb58")));
        check_form(TEZOS_SIGNATURE, type, sig, sig_len,
                   json_string_value(json_object_get(v, "sigb58")));
        types_seen |= 1 << type;
        lines++;
        json_decref(v);
    }
    fclose(f);
    assert_int_equal(lines, 12);
    assert_int_equal(types_seen, 0xf);
}

/* Published pairs: public key -> address (BLAKE2b-160 of the key bytes).
 * From Taquito (github.com/ecadlabs/taquito, commit b900b37123fa),
 * packages/taquito-utils/test/taquito-utils.spec.ts, describe('Public Key
 * conversions'): the four getPkhfromPk cases. */
static void test_taquito_addresses(void **state)
{
    (void)state;
    static const struct {
        const char *pk, *address;
        signer_key_type type;
    } pairs[] = {
        {"edpku61nGAwkeoA7PQJEFWmrVP1eWrSTVoHgCaF2isjWqDeGdux37k",
         "tz1ipB38oB5F76HnbTRqWPLEnVtCgj6yf2nB", SIGNER_KEY_ED25519},
        {"sppk7czKu6So3zDWjhBPBv9wgCrBAfbEFoKYzEaKUsjhNr5Ug6E4Sn1",
         "tz2Gsf1Q857wUzkNGzHsJNC98z881UutMwjg", SIGNER_KEY_SECP256K1},
        {"p2pk67BANWUUX2fod9EQbv8ev7GGLpb4UXvLHEVVMiHBSWPHgyzf1tv",
         "tz3daYfTrShLBfH24hv2kGwXD5y2bApH83RC", SIGNER_KEY_NISTP256},
        {"BLpk1w1wkESXN91Ry39ZMRAhaaHJsDaMZ8wBax5QsKPEKPWTjDBk6dgKMDkoejxxPWJf52cm2osh",
         "tz4WjcodNRoS9LpvDcjuVLHEvWBAqcCwQjJt", SIGNER_KEY_BLS},
    };
    for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
        uint8_t pk[64];
        size_t n;
        signer_key_type type;
        signer_error err;
        if (tezos_decode(TEZOS_PUBLIC_KEY, pairs[i].pk, &type, NULL, pk, sizeof(pk), &n, &err))
            fail_msg("%s: %s", pairs[i].pk, err.message);
        assert_int_equal(type, pairs[i].type);
        char address[TEZOS_B58_MAX];
        assert_int_equal(tezos_encode(TEZOS_ADDRESS, type, pk, n, address, &err), 0);
        assert_string_equal(address, pairs[i].address);
        /* And the address decodes to the key hash. */
        uint8_t hash[20], decoded[32];
        assert_int_equal(tezos_key_hash(pk, n, hash, &err), 0);
        signer_key_type at;
        assert_int_equal(
            tezos_decode(TEZOS_ADDRESS, address, &at, NULL, decoded, sizeof(decoded), &n, &err), 0);
        assert_int_equal(at, pairs[i].type);
        assert_int_equal(n, 20);
        assert_memory_equal(decoded, hash, 20);
    }
}

/* Published pairs: public key bytes -> base58.  Same Taquito file,
 * describe('encodeKey') and describe('b58DecodePublicKey'); the hex there
 * starts with Tezos' one-byte key tag (00 ed25519, 01 secp256k1, 02 p256,
 * 03 bls), which is not part of the key. */
static void test_taquito_public_keys(void **state)
{
    (void)state;
    static const struct {
        const char *tagged_hex, *b58;
        signer_key_type type;
    } pairs[] = {
        {"0060842d4ba23a9940ef5dcf4404fdaa430cfaaccb5029fad06cb5ea894e4562ae",
         "edpkuNjKKT48xBoT5asPrWdmuM1Yw8D93MwgFgVvtca8jb5pstzaCh", SIGNER_KEY_ED25519},
        {"01021b93c8abcbc2f4ff1a8059b4d6527333e0b531975df2a6b72717935111c64844",
         "sppk7ZWnHCVLsPE4CDFUTH424Qj2gUiJ3sp581nvexfz21w8gPjRVce", SIGNER_KEY_SECP256K1},
        {"02033aba7da4a2e7b5dd9f074555c118829aff16213ea1b65859686bd5fcfeaf3616",
         "p2pk66xmhjiN7LpfrDGFwpxPtJxkLtPjQ6HUxJbKmRbxSR7RMpamDwi", SIGNER_KEY_NISTP256},
        {"03b4cd752babac8e5252b93afbc881ebc43d60339e1627e26d49e83018cedef6ddf5079b4db27c62d4d5"
         "5d6eb0f3b12874",
         "BLpk1yKS9X6vrUiAZiZYfnjiDPkEf215W6rMX6c9gZ7FSFkkH63ZjAuU7VKvZfiBWaoCWtwWY8dQ",
         SIGNER_KEY_BLS},
        {"005c8244b8de7d57795962c1bfc855d0813f8c61eddf3795f804ccdea3e4c82ae9",
         "edpkuLxx9PQD8fZ45eUzrK3BhfDZJHhBuK4Zi49DcEGANwd2rpX82t", SIGNER_KEY_ED25519},
        {"010372438ca5f6719388d07be89240d69eabe61503f7c97fbe499c3d1298cc339973",
         "sppk7c7hkPj47yjYFEHX85q46sFJGw6RBrqoVSHwAJAT4e14KJwzoey", SIGNER_KEY_SECP256K1},
        {"02038f711262480454088fe0d31254211e04cb785affcc9280ce719e3f7e763f974d",
         "p2pk67c5b5THCj5fyksX1C13etdUpLR9BDYvJUuJNrxeGqCgbY3NFpV", SIGNER_KEY_NISTP256},
    };
    /* Tezos' tag of each signer_key_type. */
    static const uint8_t tags[] = {[SIGNER_KEY_ED25519] = 0,
                                   [SIGNER_KEY_SECP256K1] = 1,
                                   [SIGNER_KEY_NISTP256] = 2,
                                   [SIGNER_KEY_BLS] = 3};
    for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
        uint8_t tagged[64];
        size_t n = unhex(pairs[i].tagged_hex, tagged, sizeof(tagged));
        assert_int_equal(tagged[0], tags[pairs[i].type]);
        check_form(TEZOS_PUBLIC_KEY, pairs[i].type, tagged + 1, n - 1, pairs[i].b58);
    }
}

/* Plain base58: the examples of the IETF draft "The Base58 Encoding
 * Scheme" (draft-msporny-base58), section 3. */
static void test_base58_plain(void **state)
{
    (void)state;
    static const struct {
        const char *hex, *b58;
    } v[] = {
        {"48656c6c6f20576f726c6421", "2NEpo7TZRRrLZSi2U"}, /* "Hello World!" */
        {"54686520717569636b2062726f776e20666f78206a756d7073206f76657220746865206c617a7920646f"
         "672e",
         "USm3fpXnKG5EUBx2ndxBDMPVciP5hGey2Jh4NDv6gmeo1LkMeiKrLJUUBk6Z"},
        {"0000287fb4cd", "11233QC4"},
        {"", ""},
        {"00", "1"},
        {"0000", "11"},
        {"3a", "21"}, /* 58 */
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        uint8_t bytes[64], back[64];
        size_t n = unhex(v[i].hex, bytes, sizeof(bytes)), m;
        char text[TEZOS_B58_MAX];
        assert_int_equal(tezos_base58_encode(bytes, n, text, sizeof(text), NULL), 0);
        assert_string_equal(text, v[i].b58);
        assert_int_equal(tezos_base58_decode(v[i].b58, back, sizeof(back), &m, NULL), 0);
        assert_int_equal(m, n);
        assert_memory_equal(back, bytes, n);
    }
}

static void expect_decode_error(tezos_kind kind, const char *text, const char *fragment)
{
    uint8_t out[TEZOS_B58_DATA_MAX];
    size_t n;
    signer_key_type type;
    signer_error err;
    assert_int_equal(tezos_decode(kind, text, &type, NULL, out, sizeof(out), &n, &err), -1);
    if (strstr(err.message, fragment) == NULL)
        fail_msg("%s: \"%s\" lacks \"%s\"", text, err.message, fragment);
}

static void test_rejects(void **state)
{
    (void)state;
    const char *pk = "edpku61nGAwkeoA7PQJEFWmrVP1eWrSTVoHgCaF2isjWqDeGdux37k";
    char bad[TEZOS_B58_MAX];
    /* One character changed: the checksum catches it. */
    snprintf(bad, sizeof(bad), "%s", pk);
    bad[20] = bad[20] == 'a' ? 'b' : 'a';
    expect_decode_error(TEZOS_PUBLIC_KEY, bad, "checksum");
    /* Characters outside the alphabet. */
    snprintf(bad, sizeof(bad), "%s", pk);
    bad[10] = '0';
    expect_decode_error(TEZOS_PUBLIC_KEY, bad, "invalid character");
    expect_decode_error(TEZOS_PUBLIC_KEY, "edpkIl", "invalid character");
    /* Truncated. */
    snprintf(bad, sizeof(bad), "%.*s", (int)strlen(pk) - 1, pk);
    expect_decode_error(TEZOS_PUBLIC_KEY, bad, "checksum");
    expect_decode_error(TEZOS_PUBLIC_KEY, "", "too short");
    /* The right encoding of the wrong kind. */
    expect_decode_error(TEZOS_SIGNATURE, pk, "not a Tezos signature");
    expect_decode_error(TEZOS_ADDRESS, pk, "not a Tezos address");
    expect_decode_error(TEZOS_PUBLIC_KEY, "tz1ipB38oB5F76HnbTRqWPLEnVtCgj6yf2nB",
                        "not a Tezos public key");
    /* Far too long. */
    memset(bad, 'z', sizeof(bad) - 1);
    bad[sizeof(bad) - 1] = '\0';
    expect_decode_error(TEZOS_PUBLIC_KEY, bad, "more than");

    /* Encoding checks the length of the bytes for the type. */
    uint8_t bytes[96] = {1};
    char text[TEZOS_B58_MAX];
    signer_error err;
    assert_int_equal(tezos_encode(TEZOS_PUBLIC_KEY, SIGNER_KEY_ED25519, bytes, 33, text, &err), -1);
    assert_int_equal(tezos_encode(TEZOS_SIGNATURE, SIGNER_KEY_BLS, bytes, 64, text, &err), -1);
    assert_int_equal(tezos_encode(TEZOS_ADDRESS, SIGNER_KEY_BLS, bytes, 33, text, &err), -1);
    assert_int_equal(tezos_encode(TEZOS_SIGNATURE, SIGNER_KEY_BLS, bytes, 96, text, &err), 0);
    assert_int_equal(strncmp(text, "BLsig", 5), 0);
}

/* The generic "sig" form carries no type. */
static void test_generic_signature(void **state)
{
    (void)state;
    uint8_t sig[64], back[64];
    for (int i = 0; i < 64; i++)
        sig[i] = (uint8_t)(i * 7 + 3);
    static const uint8_t generic[] = {4, 130, 43};
    char text[TEZOS_B58_MAX];
    assert_int_equal(tezos_b58check_encode(generic, 3, sig, 64, text, sizeof(text), NULL), 0);
    assert_int_equal(strncmp(text, "sig", 3), 0);
    signer_key_type type = SIGNER_KEY_BLS;
    int typed = -1;
    size_t n;
    assert_int_equal(
        tezos_decode(TEZOS_SIGNATURE, text, &type, &typed, back, sizeof(back), &n, NULL), 0);
    assert_int_equal(typed, 0);
    assert_int_equal(type, SIGNER_KEY_BLS); /* left alone */
    assert_int_equal(n, 64);
    assert_memory_equal(back, sig, 64);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_signing_vectors),
        cmocka_unit_test(test_taquito_addresses),
        cmocka_unit_test(test_taquito_public_keys),
        cmocka_unit_test(test_base58_plain),
        cmocka_unit_test(test_rejects),
        cmocka_unit_test(test_generic_signature),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
