/* Every RPC call, end to end over a real socket, for every key type. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "signer/crypto.h"

static test_daemon daemon_;

static const signer_key_type all_types[] = {SIGNER_KEY_SECP256K1, SIGNER_KEY_NISTP256,
                                            SIGNER_KEY_ED25519, SIGNER_KEY_BLS};

static int setup(void **state)
{
    (void)state;
    if (signer_crypto_init(NULL) != 0)
        return -1;
    return test_daemon_start(&daemon_, NULL);
}

static int teardown(void **state)
{
    (void)state;
    return test_daemon_stop(&daemon_) == 0 ? 0 : -1;
}

static void call_ok(signer_client *c, const rpc_request *req, rpc_response *resp)
{
    signer_error err;
    assert_int_equal(signer_client_call(c, req, resp, &err), 0);
    if (!resp->ok)
        fail_msg("%s answered Err: %s", rpc_call_name(req->call), resp->error_message);
}

static char *call_err(signer_client *c, const rpc_request *req)
{
    static char msg[256];
    rpc_response resp;
    signer_error err;
    assert_int_equal(signer_client_call(c, req, &resp, &err), 0);
    assert_false(resp.ok);
    snprintf(msg, sizeof(msg), "%s", resp.error_message);
    rpc_response_free(&resp);
    return msg;
}

static void test_uninitialized_then_initialize(void **state)
{
    (void)state;
    signer_client *c = test_connect(&daemon_, 0);
    assert_non_null(c);
    rpc_request sign = {.call = RPC_SIGN, .handle = 0, .message = {(const uint8_t *)"x", 1}};
    assert_string_equal(call_err(c, &sign), "uninitialized");
    rpc_request gen = {.call = RPC_GENERATE, .key_type = SIGNER_KEY_ED25519};
    assert_string_equal(call_err(c, &gen), "uninitialized");
    rpc_request init = {.call = RPC_INITIALIZE};
    rpc_response resp;
    call_ok(c, &init, &resp);
    rpc_response_free(&resp);
    /* A second Initialize is refused and the session goes on. */
    assert_string_equal(call_err(c, &init), "already initialized");
    call_ok(c, &gen, &resp);
    rpc_response_free(&resp);
    signer_client_close(c);
}

/* Initialize with Signatory-style credentials is accepted in passthrough. */
static void test_initialize_with_credentials(void **state)
{
    (void)state;
    signer_client *c = test_connect(&daemon_, 0);
    rpc_request init = {.call = RPC_INITIALIZE,
                        .credentials = {.access_key_id = "AKID",
                                        .secret_access_key = "s",
                                        .encryption_key_id = "alias/x",
                                        .region = ""}};
    rpc_response resp;
    call_ok(c, &init, &resp);
    rpc_response_free(&resp);
    signer_client_close(c);
}

static void check_sign_verifies(signer_client *c, signer_key_type type, uint64_t handle,
                                const uint8_t *pk, size_t pklen)
{
    static const uint8_t msg[] = "a Tezos operation";
    const unsigned versions[] = {0, 1, 2, 255};
    for (size_t v = 0; v < 5; v++) {
        bool has = v < 4;
        unsigned version = has ? versions[v] : SIGNER_VERSION_LATEST;
        rpc_request sign = {.call = RPC_SIGN,
                            .handle = handle,
                            .message = {msg, sizeof(msg)},
                            .version = version,
                            .has_version = has};
        if (type == SIGNER_KEY_BLS && has && version == 0) {
            assert_non_null(strstr(call_err(c, &sign), "version 0"));
            continue;
        }
        rpc_response resp;
        call_ok(c, &sign, &resp);
        assert_int_equal(resp.key_type, type);
        assert_int_equal(resp.signature.len, signer_signature_size(type));
        assert_int_equal(signer_verify(type, pk, pklen, msg, sizeof(msg), version,
                                       resp.signature.data, resp.signature.len, NULL),
                         0);
        rpc_response_free(&resp);
    }
}

static void test_generate_and_import_sign_public_key(void **state)
{
    (void)state;
    signer_client *c = test_connect(&daemon_, 1);
    for (size_t i = 0; i < 4; i++) {
        signer_key_type t = all_types[i];
        rpc_request gi = {.call = RPC_GENERATE_AND_IMPORT, .key_type = t};
        rpc_response g;
        call_ok(c, &gi, &g);
        assert_true(g.has_handle);
        assert_int_equal(g.handle, i);
        assert_int_equal(g.key_type, t);
        assert_int_equal(g.public_key.len, signer_public_key_size(t));
        assert_true(g.encrypted_private_key.len > 0);

        rpc_request pk = {.call = RPC_PUBLIC_KEY, .handle = g.handle};
        rpc_response p;
        call_ok(c, &pk, &p);
        assert_int_equal(p.key_type, t);
        assert_memory_equal(p.public_key.data, g.public_key.data, g.public_key.len);
        rpc_response_free(&p);

        check_sign_verifies(c, t, g.handle, g.public_key.data, g.public_key.len);

        rpc_request pop = {.call = RPC_PROVE_POSSESSION, .handle = g.handle};
        if (t == SIGNER_KEY_BLS) {
            rpc_response r;
            call_ok(c, &pop, &r);
            assert_int_equal(r.key_type, SIGNER_KEY_BLS);
            assert_int_equal(r.signature.len, 96);
            rpc_response_free(&r);
        } else {
            call_err(c, &pop);
        }
        rpc_response_free(&g);
    }
    signer_client_close(c);
}

/* Generate's sealed key goes to another session: Import, PublicKeyFrom,
 * SignWith all see the same key. */
static void test_generate_import_elsewhere(void **state)
{
    (void)state;
    signer_client *a = test_connect(&daemon_, 1), *b = test_connect(&daemon_, 1);
    for (size_t i = 0; i < 4; i++) {
        signer_key_type t = all_types[i];
        rpc_request gen = {.call = RPC_GENERATE, .key_type = t};
        rpc_response g;
        call_ok(a, &gen, &g);
        assert_false(g.has_handle);

        rpc_request from = {.call = RPC_PUBLIC_KEY_FROM, .data = g.encrypted_private_key};
        rpc_response f;
        call_ok(b, &from, &f);
        assert_memory_equal(f.public_key.data, g.public_key.data, g.public_key.len);
        rpc_response_free(&f);

        rpc_request imp = {.call = RPC_IMPORT, .data = g.encrypted_private_key};
        rpc_response im;
        call_ok(b, &imp, &im);
        assert_true(im.has_handle);
        assert_int_equal(im.handle, i);
        assert_memory_equal(im.public_key.data, g.public_key.data, g.public_key.len);
        check_sign_verifies(b, t, im.handle, g.public_key.data, g.public_key.len);
        rpc_response_free(&im);

        static const uint8_t msg[] = "sign with";
        rpc_request sw = {
            .call = RPC_SIGN_WITH, .data = g.encrypted_private_key, .message = {msg, sizeof(msg)}};
        rpc_response s;
        call_ok(b, &sw, &s);
        assert_int_equal(signer_verify(t, g.public_key.data, g.public_key.len, msg, sizeof(msg),
                                       SIGNER_VERSION_LATEST, s.signature.data, s.signature.len,
                                       NULL),
                         0);
        rpc_response_free(&s);
        rpc_response_free(&g);
    }
    signer_client_close(a);
    signer_client_close(b);
}

/* ImportUnencrypted with the Taquito vectors reproduces their public keys
 * and (deterministic types) their signatures through the RPC. */
static void test_import_unencrypted_vectors(void **state)
{
    (void)state;
    signer_client *c = test_connect(&daemon_, 1);
    FILE *f = fopen(SIGNER_TEST_VECTORS_DIR "/tezos-signing.jsonl", "r");
    assert_non_null(f);
    char line[4096];
    int count = 0;
    while (fgets(line, sizeof(line), f)) {
        json_t *v = json_loads(line, 0, NULL);
        assert_non_null(v);
        const char *type = json_string_value(json_object_get(v, "type"));
        uint8_t sk[32], pk[48], msg[1024], sig[96];
        size_t skl = test_unhex(json_string_value(json_object_get(v, "sk")), sk, sizeof(sk));
        size_t pkl = test_unhex(json_string_value(json_object_get(v, "pk")), pk, sizeof(pk));
        size_t ml = test_unhex(json_string_value(json_object_get(v, "msg")), msg, sizeof(msg));
        size_t sl = test_unhex(json_string_value(json_object_get(v, "sig")), sig, sizeof(sig));
        signer_key_type t;
        assert_int_equal(signer_key_type_from_name(type, strlen(type), &t, NULL), 0);

        rpc_request imp = {.call = RPC_IMPORT_UNENCRYPTED, .key_type = t, .data = {sk, skl}};
        rpc_response im;
        call_ok(c, &imp, &im);
        assert_int_equal(im.public_key.len, pkl);
        assert_memory_equal(im.public_key.data, pk, pkl);
        rpc_request sign = {.call = RPC_SIGN, .handle = im.handle, .message = {msg, ml}};
        rpc_response s;
        call_ok(c, &sign, &s);
        assert_int_equal(s.signature.len, sl);
        if (t == SIGNER_KEY_NISTP256)
            assert_int_equal(signer_verify(t, pk, pkl, msg, ml, SIGNER_VERSION_LATEST,
                                           s.signature.data, s.signature.len, NULL),
                             0);
        else
            assert_memory_equal(s.signature.data, sig, sl);
        /* The sealed key from ImportUnencrypted signs the same way. */
        rpc_request sw = {
            .call = RPC_SIGN_WITH, .data = im.encrypted_private_key, .message = {msg, ml}};
        rpc_response w;
        call_ok(c, &sw, &w);
        if (t != SIGNER_KEY_NISTP256)
            assert_memory_equal(w.signature.data, sig, sl);
        rpc_response_free(&w);
        rpc_response_free(&s);
        rpc_response_free(&im);
        json_decref(v);
        count++;
    }
    fclose(f);
    assert_true(count >= 12);
    signer_client_close(c);
}

/* Messages far above the Rust server's 4096-byte limit work. */
static void test_large_message(void **state)
{
    (void)state;
    signer_client *c = test_connect(&daemon_, 1);
    size_t len = 512 * 1024;
    uint8_t *msg = malloc(len);
    assert_non_null(msg);
    for (size_t i = 0; i < len; i++)
        msg[i] = (uint8_t)(i * 31);
    rpc_request gi = {.call = RPC_GENERATE_AND_IMPORT, .key_type = SIGNER_KEY_ED25519};
    rpc_response g, s;
    call_ok(c, &gi, &g);
    rpc_request sign = {.call = RPC_SIGN, .handle = g.handle, .message = {msg, len}};
    call_ok(c, &sign, &s);
    assert_int_equal(signer_verify(SIGNER_KEY_ED25519, g.public_key.data, g.public_key.len, msg,
                                   len, SIGNER_VERSION_LATEST, s.signature.data, s.signature.len,
                                   NULL),
                     0);
    rpc_response_free(&s);
    rpc_response_free(&g);
    free(msg);
    signer_client_close(c);
}

/* Pipelined requests are answered in order. */
static void test_pipelined_in_order(void **state)
{
    (void)state;
    signer_client *c = test_connect(&daemon_, 1);
    rpc_request gi = {.call = RPC_GENERATE_AND_IMPORT, .key_type = SIGNER_KEY_SECP256K1};
    rpc_response g;
    call_ok(c, &gi, &g);
    enum { N = 300 };
    for (unsigned i = 0; i < N; i++) {
        uint8_t m[4] = {(uint8_t)i, (uint8_t)(i >> 8), 7, 7};
        rpc_request s = {.call = i % 3 == 2 ? RPC_PUBLIC_KEY : RPC_SIGN,
                         .handle = g.handle,
                         .message = {m, sizeof(m)}};
        assert_int_equal(signer_client_send(c, &s, NULL), 0);
    }
    for (unsigned i = 0; i < N; i++) {
        uint8_t m[4] = {(uint8_t)i, (uint8_t)(i >> 8), 7, 7};
        rpc_call call = i % 3 == 2 ? RPC_PUBLIC_KEY : RPC_SIGN;
        rpc_response r;
        assert_int_equal(signer_client_receive(c, call, &r, NULL), 0);
        assert_true(r.ok);
        if (call == RPC_SIGN)
            assert_int_equal(signer_verify(SIGNER_KEY_SECP256K1, g.public_key.data,
                                           g.public_key.len, m, sizeof(m), 255, r.signature.data,
                                           r.signature.len, NULL),
                             0);
        rpc_response_free(&r);
    }
    rpc_response_free(&g);
    signer_client_close(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uninitialized_then_initialize),
        cmocka_unit_test(test_initialize_with_credentials),
        cmocka_unit_test(test_generate_and_import_sign_public_key),
        cmocka_unit_test(test_generate_import_elsewhere),
        cmocka_unit_test(test_import_unencrypted_vectors),
        cmocka_unit_test(test_large_message),
        cmocka_unit_test(test_pipelined_in_order),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
