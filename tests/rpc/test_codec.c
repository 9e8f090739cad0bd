/* The RPC codec on its own: request and answer shapes both ways, and the
 * shapes other implementations emit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "signer/rpc.h"

/* Encodes `req`, strips the frame header and decodes it again. */
static void roundtrip(const rpc_request *req, rpc_request *out)
{
    signer_buf buf = SIGNER_BUF_INIT;
    signer_error err;
    assert_int_equal(rpc_request_encode(req, &buf, &err), 0);
    assert_int_equal(rpc_frame_length(buf.data), buf.len - RPC_FRAME_HEADER_BYTES);
    if (rpc_request_decode(buf.data + 4, buf.len - 4, out, &err) != 0)
        fail_msg("decode: %s", err.message);
    signer_buf_free(&buf);
}

static void test_request_roundtrips(void **state)
{
    (void)state;
    static const uint8_t blob[] = {1, 2, 3, 4, 5};
    rpc_request in[] = {
        {.call = RPC_INITIALIZE,
         .credentials = {.access_key_id = "A",
                         .secret_access_key = "S",
                         .encryption_key_id = "K",
                         .region = "eu"}},
        {.call = RPC_IMPORT, .data = {blob, sizeof(blob)}},
        {.call = RPC_IMPORT_UNENCRYPTED, .key_type = SIGNER_KEY_BLS, .data = {blob, 3}},
        {.call = RPC_GENERATE, .key_type = SIGNER_KEY_NISTP256},
        {.call = RPC_GENERATE_AND_IMPORT, .key_type = SIGNER_KEY_SECP256K1},
        {.call = RPC_SIGN, .handle = 7, .message = {blob, 2}, .version = 1, .has_version = true},
        {.call = RPC_SIGN_WITH, .data = {blob, 4}, .message = {blob, 0}},
        {.call = RPC_PUBLIC_KEY, .handle = 1ull << 40},
        {.call = RPC_PUBLIC_KEY_FROM, .data = {blob, 1}},
        {.call = RPC_PROVE_POSSESSION, .handle = 3},
    };
    for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
        rpc_request out;
        roundtrip(&in[i], &out);
        assert_int_equal(out.call, in[i].call);
        assert_int_equal(out.handle, in[i].handle);
        assert_int_equal(out.data.len, in[i].data.len);
        if (in[i].data.len)
            assert_memory_equal(out.data.data, in[i].data.data, in[i].data.len);
        assert_int_equal(out.message.len, in[i].message.len);
        assert_int_equal(out.version, in[i].has_version ? in[i].version : SIGNER_VERSION_LATEST);
        if (in[i].call == RPC_IMPORT_UNENCRYPTED || in[i].call == RPC_GENERATE ||
            in[i].call == RPC_GENERATE_AND_IMPORT)
            assert_int_equal(out.key_type, in[i].key_type);
        if (in[i].call == RPC_INITIALIZE) {
            assert_string_equal(out.credentials.access_key_id, "A");
            assert_string_equal(out.credentials.region, "eu");
            assert_null(out.credentials.session_token);
        }
        rpc_request_free(&out);
    }
}

/* Exact bytes of a Sign request as Signatory's Go client writes it. */
static void test_sign_request_bytes(void **state)
{
    (void)state;
    static const uint8_t msg[] = {0xab};
    rpc_request req = {
        .call = RPC_SIGN, .handle = 1, .message = {msg, 1}, .version = 2, .has_version = true};
    static const uint8_t want[] = {0xa1, 0x64, 'S', 'i', 'g', 'n',  0xa3, 0x66, 'h',
                                   'a',  'n',  'd', 'l', 'e', 0x01, 0x67, 'm',  'e',
                                   's',  's',  'a', 'g', 'e', 0x41, 0xab, 0x67, 'v',
                                   'e',  'r',  's', 'i', 'o', 'n',  0x02};
    signer_buf buf = SIGNER_BUF_INIT;
    assert_int_equal(rpc_request_encode(&req, &buf, NULL), 0);
    assert_int_equal(buf.len, 4 + sizeof(want));
    assert_memory_equal(buf.data + 4, want, sizeof(want));
    signer_buf_free(&buf);
}

/* The Rust server sends Ed25519 signatures as arrays of integers. */
static void test_response_integer_array_signature(void **state)
{
    (void)state;
    uint8_t item[3 + 8 + 2 + 64 * 2];
    size_t n = 0;
    item[n++] = 0xa1;
    item[n++] = 0x62, item[n++] = 'O', item[n++] = 'k';
    item[n++] = 0xa1;
    item[n++] = 0x67;
    memcpy(item + n, "Ed25519", 7);
    n += 7;
    item[n++] = 0x98, item[n++] = 64; /* array(64) */
    for (int i = 0; i < 64; i++) {
        if (i * 3 < 24) {
            item[n++] = (uint8_t)(i * 3);
        } else {
            item[n++] = 0x18;
            item[n++] = (uint8_t)(i * 3);
        }
    }
    rpc_response resp;
    signer_error err;
    assert_int_equal(rpc_response_decode(RPC_SIGN, item, n, &resp, &err), 0);
    assert_true(resp.ok);
    assert_int_equal(resp.key_type, SIGNER_KEY_ED25519);
    assert_int_equal(resp.signature.len, 64);
    assert_int_equal(resp.signature.data[10], 30);
    rpc_response_free(&resp);
}

static void test_err_with_sources(void **state)
{
    (void)state;
    signer_buf buf = SIGNER_BUF_INIT;
    assert_int_equal(rpc_encode_err(&buf, "uninitialized", NULL), 0);
    rpc_response resp;
    assert_int_equal(rpc_response_decode(RPC_SIGN, buf.data + 4, buf.len - 4, &resp, NULL), 0);
    assert_false(resp.ok);
    assert_string_equal(resp.error_message, "uninitialized");
    rpc_response_free(&resp);
    signer_buf_free(&buf);
    /* {"Err": {"message": "a", "source": {"message": "b", "source": null}}} */
    static const uint8_t chained[] = {0xa1, 0x63, 'E',  'r',  'r', 0xa2, 0x67, 'm', 'e', 's', 's',
                                      'a',  'g',  'e',  0x61, 'a', 0x66, 's',  'o', 'u', 'r', 'c',
                                      'e',  0xa2, 0x67, 'm',  'e', 's',  's',  'a', 'g', 'e', 0x61,
                                      'b',  0x66, 's',  'o',  'u', 'r',  'c',  'e', 0xf6};
    assert_int_equal(rpc_response_decode(RPC_SIGN, chained, sizeof(chained), &resp, NULL), 0);
    assert_string_equal(resp.error_message, "a: b");
    rpc_response_free(&resp);
}

static void test_ok_answers_decode(void **state)
{
    (void)state;
    static const uint8_t pk[33] = {2, 1, 2, 3};
    static const uint8_t sealed[5] = {9, 9, 9, 9, 9};
    uint64_t handle = 12;
    signer_buf buf = SIGNER_BUF_INIT;
    assert_int_equal(
        rpc_encode_ok_sealed(&buf, sealed, 5, SIGNER_KEY_SECP256K1, pk, 33, &handle, NULL), 0);
    rpc_response r;
    assert_int_equal(
        rpc_response_decode(RPC_GENERATE_AND_IMPORT, buf.data + 4, buf.len - 4, &r, NULL), 0);
    assert_true(r.ok && r.has_handle);
    assert_int_equal(r.handle, 12);
    assert_int_equal(r.encrypted_private_key.len, 5);
    assert_memory_equal(r.public_key.data, pk, 33);
    rpc_response_free(&r);
    /* Generate has no handle; a GenerateAndImport answer without one is bad. */
    signer_buf_clear(&buf);
    assert_int_equal(
        rpc_encode_ok_sealed(&buf, sealed, 5, SIGNER_KEY_SECP256K1, pk, 33, NULL, NULL), 0);
    assert_int_equal(rpc_response_decode(RPC_GENERATE, buf.data + 4, buf.len - 4, &r, NULL), 0);
    assert_false(r.has_handle);
    rpc_response_free(&r);
    assert_int_equal(
        rpc_response_decode(RPC_GENERATE_AND_IMPORT, buf.data + 4, buf.len - 4, &r, NULL), -1);
    signer_buf_free(&buf);
}

static void test_private_key_map(void **state)
{
    (void)state;
    signer_key key, back;
    assert_int_equal(signer_crypto_init(NULL), 0);
    assert_int_equal(signer_key_generate(&key, SIGNER_KEY_BLS, NULL), 0);
    signer_buf buf = SIGNER_BUF_INIT;
    assert_int_equal(rpc_private_key_encode(&key, &buf, NULL), 0);
    /* {"Bls": bytes(32)} */
    assert_int_equal(buf.len, 1 + 4 + 2 + 32);
    assert_int_equal(buf.data[0], 0xa1);
    assert_memory_equal(buf.data + 1,
                        "\x63"
                        "Bls",
                        4);
    assert_int_equal(rpc_private_key_decode(buf.data, buf.len, &back, NULL), 0);
    assert_int_equal(back.type, SIGNER_KEY_BLS);
    assert_memory_equal(back.public_key, key.public_key, 48);
    buf.data[buf.len - 1] ^= 0xff; /* still a valid scalar or not: never the same key */
    signer_key other;
    if (rpc_private_key_decode(buf.data, buf.len, &other, NULL) == 0) {
        assert_memory_not_equal(other.public_key, key.public_key, 48);
        signer_key_wipe(&other);
    }
    assert_int_equal(rpc_private_key_decode(buf.data, buf.len - 1, &other, NULL), -1);
    signer_buf_free(&buf);
    signer_key_wipe(&key);
    signer_key_wipe(&back);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_roundtrips),
        cmocka_unit_test(test_sign_request_bytes),
        cmocka_unit_test(test_response_integer_array_signature),
        cmocka_unit_test(test_err_with_sources),
        cmocka_unit_test(test_ok_answers_decode),
        cmocka_unit_test(test_private_key_map),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
