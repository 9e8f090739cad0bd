/* The KMS client: CiphertextForRecipient against AWS's own vector, the
 * request it sends (SigV4, headers, JSON), and every fault a network, a
 * proxy or a server can produce, each with the message a user reads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <jansson.h>
#include <openssl/pem.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fake_kms.h"
#include "internal.h"
#include "process.h"

static char dir[64] = "/tmp/signer-kms-test-XXXXXX";
static char ca_path[128], endpoint[64], proxy_addr[128];
static int port;
static test_process proxy;
static EVP_PKEY *vector_key;
static signer_buf vector_cms, vector_plain;

static const kms_credentials creds = {"AKIDTEST", "secret", "session-token-xyz", "eu-test-1"};

static void unhex(const char *hex, signer_buf *out)
{
    size_t n = strlen(hex) / 2;
    assert_int_equal(signer_buf_reserve(out, n, NULL), 0);
    for (size_t i = 0; i < n; i++)
        sscanf(hex + 2 * i, "%2hhx", &out->data[out->len++]);
}

static void load_vector(void)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/kms-ciphertext-for-recipient.json", SIGNER_TEST_VECTORS_DIR);
    json_t *v = json_load_file(path, 0, NULL);
    assert_non_null(v);
    const char *pem = json_string_value(json_object_get(v, "recipient_private_key_pem"));
    BIO *bio = BIO_new_mem_buf(pem, -1);
    vector_key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    BIO_free(bio);
    assert_non_null(vector_key);
    const char *b64 = json_string_value(json_object_get(v, "ciphertext_for_recipient_base64"));
    size_t n;
    assert_int_equal(signer_buf_reserve(&vector_cms, strlen(b64), NULL), 0);
    assert_int_equal(sodium_base642bin(vector_cms.data, vector_cms.cap, b64, strlen(b64), NULL, &n,
                                       NULL, sodium_base64_VARIANT_ORIGINAL),
                     0);
    vector_cms.len = n;
    unhex(json_string_value(json_object_get(v, "plaintext_hex")), &vector_plain);
    json_decref(v);
}

static int setup(void **state)
{
    (void)state;
    signal(SIGPIPE, SIG_IGN);
    if (mkdtemp(dir) == NULL || kms_global_init(NULL) != 0)
        return -1;
    snprintf(ca_path, sizeof(ca_path), "%s/ca.pem", dir);
    port = fake_kms_start(ca_path);
    if (port < 0)
        return -1;
    snprintf(endpoint, sizeof(endpoint), "https://localhost:%d", port);
    /* The real proxy, as in an enclave's parent instance. */
    char remote[64];
    snprintf(proxy_addr, sizeof(proxy_addr), "unix:%s/proxy.sock", dir);
    snprintf(remote, sizeof(remote), "127.0.0.1:%d", port);
    const char *argv[] = {SIGNER_PROXY_PATH, "--listen", proxy_addr, "--remote", remote, NULL};
    if (test_process_start(&proxy, argv, proxy_addr, 5000) != 0)
        return -1;
    load_vector();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    test_process_stop(&proxy, SIGTERM);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    EVP_PKEY_free(vector_key);
    signer_buf_free(&vector_cms);
    signer_buf_free(&vector_plain);
    return system(cmd) == 0 ? 0 : -1;
}

static kms_client *client(const char *via, long timeout_ms, int attempts)
{
    kms_settings s = {.endpoint = endpoint,
                      .proxy = via,
                      .ca_file = ca_path,
                      .request_timeout_ms = timeout_ms,
                      .max_attempts = attempts};
    kms_client *c;
    signer_error err;
    if (kms_client_open(&s, &creds, &c, &err) != 0)
        fail_msg("kms_client_open: %s", err.message);
    return c;
}

/* ---- CiphertextForRecipient ---- */

static void test_recipient_vector(void **state)
{
    (void)state;
    signer_buf out = SIGNER_BUF_INIT;
    signer_error err;
    if (kms_recipient_open(vector_key, vector_cms.data, vector_cms.len, &out, &err) != 0)
        fail_msg("%s", err.message);
    assert_int_equal(out.len, vector_plain.len);
    assert_memory_equal(out.data, vector_plain.data, out.len);
    signer_buf_free(&out);
    /* Another key cannot open it; garbage is not CMS. */
    EVP_PKEY *other = EVP_RSA_gen(2048);
    assert_int_equal(kms_recipient_open(other, vector_cms.data, vector_cms.len, &out, &err), -1);
    assert_non_null(strstr(err.message, "cannot open CiphertextForRecipient"));
    EVP_PKEY_free(other);
    assert_int_equal(kms_recipient_open(vector_key, (const uint8_t *)"junk", 4, &out, &err), -1);
    assert_non_null(strstr(err.message, "not CMS"));
    /* A flipped bit in the encrypted content breaks it. */
    vector_cms.data[vector_cms.len - 40] ^= 1;
    int rc = kms_recipient_open(vector_key, vector_cms.data, vector_cms.len, &out, &err);
    vector_cms.data[vector_cms.len - 40] ^= 1;
    assert_true(rc == -1 || out.len != vector_plain.len ||
                memcmp(out.data, vector_plain.data, out.len) != 0);
    signer_buf_free(&out);
}

/* ---- what goes on the wire ---- */

static void test_encrypt_request(void **state)
{
    (void)state;
    kms_client *c = client(NULL, 0, 0);
    signer_buf blob = SIGNER_BUF_INIT;
    signer_error err;
    fake_kms_script(NULL, 0);
    fake_kms_set_ok_body("{\"CiphertextBlob\":\"AQID\",\"KeyId\":\"arn:aws:kms:x\"}");
    static const uint8_t plain[] = "\xa1\x67"
                                   "Ed25519"
                                   "secret";
    if (kms_encrypt(c, "alias/signer", plain, sizeof(plain), &blob, &err) != 0)
        fail_msg("%s", err.message);
    assert_int_equal(blob.len, 3);
    assert_int_equal(blob.data[2], 3);
    const char *h = fake_kms_last_headers();
    assert_non_null(strstr(h, "post / http/1.1"));
    assert_non_null(strstr(h, "x-amz-target: trentservice.encrypt"));
    assert_non_null(strstr(h, "content-type: application/x-amz-json-1.1"));
    assert_non_null(strstr(h, "x-amz-security-token: session-token-xyz"));
    assert_non_null(strstr(h, "authorization: aws4-hmac-sha256 credential=akidtest/"));
    assert_non_null(strstr(h, "/eu-test-1/kms/aws4_request"));
    assert_null(strstr(h, "expect:"));
    json_t *body = json_loads(fake_kms_last_body(), 0, NULL);
    assert_string_equal(json_string_value(json_object_get(body, "KeyId")), "alias/signer");
    char want[128];
    sodium_bin2base64(want, sizeof(want), plain, sizeof(plain), sodium_base64_VARIANT_ORIGINAL);
    assert_string_equal(json_string_value(json_object_get(body, "Plaintext")), want);
    json_decref(body);
    /* Keep-alive: a second call reuses the connection and still works. */
    blob.len = 0;
    assert_int_equal(kms_encrypt(c, "alias/signer", plain, 3, &blob, &err), 0);
    signer_buf_free(&blob);
    kms_client_close(c);
}

/* Decrypt with Recipient, through the real proxy. */
static void test_decrypt_for_recipient_via_proxy(void **state)
{
    (void)state;
    kms_client *c = client(proxy_addr, 0, 0);
    char body[8192] = "{\"CiphertextForRecipient\":\"";
    size_t at = strlen(body);
    sodium_bin2base64(body + at, sizeof(body) - at, vector_cms.data, vector_cms.len,
                      sodium_base64_VARIANT_ORIGINAL);
    strcat(body, "\",\"KeyId\":\"k\"}");
    fake_kms_script(NULL, 0);
    fake_kms_set_ok_body(body);
    static const uint8_t doc[] = "attestation document bytes", blob[] = {9, 8, 7};
    kms_recipient r = {{doc, sizeof(doc)}, vector_key};
    signer_buf out = SIGNER_BUF_INIT;
    signer_error err;
    if (kms_decrypt_for_recipient(c, "key-1", blob, sizeof(blob), &r, &out, &err) != 0)
        fail_msg("%s", err.message);
    assert_memory_equal(out.data, vector_plain.data, vector_plain.len);
    json_t *req = json_loads(fake_kms_last_body(), 0, NULL);
    json_t *rec = json_object_get(req, "Recipient");
    assert_string_equal(json_string_value(json_object_get(rec, "KeyEncryptionAlgorithm")),
                        "RSAES_OAEP_SHA_256");
    assert_string_equal(json_string_value(json_object_get(rec, "AttestationDocument")),
                        "YXR0ZXN0YXRpb24gZG9jdW1lbnQgYnl0ZXMA");
    assert_string_equal(json_string_value(json_object_get(req, "CiphertextBlob")), "CQgH");
    assert_string_equal(json_string_value(json_object_get(req, "KeyId")), "key-1");
    assert_non_null(strstr(fake_kms_last_headers(), "trentservice.decrypt"));
    json_decref(req);
    signer_buf_free(&out);
    kms_client_close(c);
}

/* ---- faults ---- */

/* Runs one Encrypt against `actions` and returns the error message ("" on
 * success); `*tries` gets the number of requests the server saw. */
static const char *encrypt_with(const fake_action *actions, size_t n, const char *via,
                                long timeout_ms, int attempts, int *tries)
{
    static char msg[SIGNER_ERROR_MESSAGE_MAX];
    kms_client *c = client(via, timeout_ms, attempts);
    signer_buf blob = SIGNER_BUF_INIT;
    signer_error err;
    fake_kms_set_ok_body("{\"CiphertextBlob\":\"AQID\"}");
    fake_kms_script(actions, n);
    int rc = kms_encrypt(c, "k", (const uint8_t *)"x", 1, &blob, &err);
    snprintf(msg, sizeof(msg), "%s", rc == 0 ? "" : err.message);
    if (tries)
        *tries = fake_kms_requests();
    signer_buf_free(&blob);
    kms_client_close(c);
    return msg;
}

static void test_retries_transient_failures(void **state)
{
    (void)state;
    int tries;
    const fake_action a[] = {FAKE_500, FAKE_THROTTLE};
    assert_string_equal(encrypt_with(a, 2, NULL, 0, 3, &tries), "");
    assert_int_equal(tries, 3);
    const fake_action b[] = {FAKE_CLOSE, FAKE_503_HTML};
    assert_string_equal(encrypt_with(b, 2, proxy_addr, 0, 3, &tries), "");
    const fake_action c[] = {FAKE_THROTTLE, FAKE_THROTTLE, FAKE_THROTTLE};
    const char *m = encrypt_with(c, 3, NULL, 0, 3, &tries);
    assert_int_equal(tries, 3);
    assert_non_null(strstr(m, "KMS Encrypt: ThrottlingException: Rate exceeded"));
    const fake_action d[] = {FAKE_503_HTML, FAKE_503_HTML};
    m = encrypt_with(d, 2, NULL, 0, 2, &tries);
    assert_non_null(strstr(m, "HTTP 503"));
}

static void test_access_denied_is_not_retried(void **state)
{
    (void)state;
    int tries;
    const fake_action a[] = {FAKE_DENIED};
    const char *m = encrypt_with(a, 1, NULL, 0, 3, &tries);
    assert_int_equal(tries, 1);
    assert_string_equal(m, "KMS Encrypt: AccessDeniedException: denied by the key policy");
}

static void test_garbage_and_truncated_answers(void **state)
{
    (void)state;
    const fake_action a[] = {FAKE_GARBAGE};
    assert_non_null(strstr(encrypt_with(a, 1, NULL, 0, 3, NULL), "not JSON"));
    fake_kms_set_ok_body("{\"CiphertextBlob\":\"!!!\"}");
    const fake_action t[] = {FAKE_TRUNCATED};
    const char *m = encrypt_with(t, 1, NULL, 0, 1, NULL);
    assert_non_null(strstr(m, "cannot reach KMS"));
    /* Valid JSON without the field, and a field that is not base64. */
    kms_client *c = client(NULL, 0, 1);
    signer_buf blob = SIGNER_BUF_INIT;
    signer_error err;
    fake_kms_script(NULL, 0);
    fake_kms_set_ok_body("{\"Other\":1}");
    assert_int_equal(kms_encrypt(c, "k", (const uint8_t *)"x", 1, &blob, &err), -1);
    assert_non_null(strstr(err.message, "lacks CiphertextBlob"));
    fake_kms_set_ok_body("{\"CiphertextBlob\":\"@@@@\"}");
    assert_int_equal(kms_encrypt(c, "k", (const uint8_t *)"x", 1, &blob, &err), -1);
    assert_non_null(strstr(err.message, "not base64"));
    signer_buf_free(&blob);
    kms_client_close(c);
}

static void test_timeout(void **state)
{
    (void)state;
    int tries;
    const fake_action a[] = {FAKE_SLOW, FAKE_SLOW};
    const char *m = encrypt_with(a, 2, NULL, 500, 2, &tries);
    assert_non_null(strstr(m, "did not answer in time"));
    assert_non_null(strstr(m, "2 attempts"));
}

static void test_unreachable_and_untrusted(void **state)
{
    (void)state;
    signer_error err;
    signer_buf blob = SIGNER_BUF_INIT;
    kms_client *c;
    /* Nothing listens behind this proxy address. */
    char dead[160];
    snprintf(dead, sizeof(dead), "unix:%s/no-proxy.sock", dir);
    kms_settings s = {.endpoint = endpoint,
                      .proxy = dead,
                      .ca_file = ca_path,
                      .connect_timeout_ms = 500,
                      .max_attempts = 2};
    assert_int_equal(kms_client_open(&s, &creds, &c, &err), 0);
    assert_int_equal(kms_encrypt(c, "k", (const uint8_t *)"x", 1, &blob, &err), -1);
    assert_non_null(strstr(err.message, "cannot reach KMS"));
    assert_non_null(strstr(err.message, "no-proxy.sock"));
    kms_client_close(c);
    /* A server whose certificate the client does not trust. */
    s.proxy = NULL;
    s.ca_file = "/etc/ssl/certs/ca-certificates.crt";
    s.max_attempts = 1;
    assert_int_equal(kms_client_open(&s, &creds, &c, &err), 0);
    assert_int_equal(kms_encrypt(c, "k", (const uint8_t *)"x", 1, &blob, &err), -1);
    assert_non_null(strstr(err.message, "TLS with KMS failed"));
    kms_client_close(c);
}

static void test_bad_settings(void **state)
{
    (void)state;
    kms_client *c;
    signer_error err;
    kms_settings s = {.endpoint = "http://plain"};
    assert_int_equal(kms_client_open(&s, &creds, &c, &err), -1);
    assert_non_null(strstr(err.message, "https"));
    kms_credentials none = {"", "", NULL, "eu-test-1"};
    s.endpoint = NULL;
    assert_int_equal(kms_client_open(&s, &none, &c, &err), -1);
    kms_credentials no_region = {"A", "S", NULL, ""};
    assert_int_equal(kms_client_open(&s, &no_region, &c, &err), -1);
    assert_non_null(strstr(err.message, "region"));
    /* A region is part of a host name; credentials go into headers. */
    kms_credentials host = {"A", "S", NULL, "attacker.example/"};
    assert_int_equal(kms_client_open(&s, &host, &c, &err), -1);
    assert_non_null(strstr(err.message, "not an AWS region name"));
    kms_credentials header = {"A", "S", "token\r\nX-Injected: 1", "eu-west-1"};
    assert_int_equal(kms_client_open(&s, &header, &c, &err), -1);
    assert_non_null(strstr(err.message, "control characters"));
}

static void test_describe_key(void **state)
{
    (void)state;
    kms_client *c = client(proxy_addr, 0, 1);
    char key_state[32];
    signer_error err;
    fake_kms_script(NULL, 0);
    fake_kms_set_ok_body("{\"KeyMetadata\":{\"KeyId\":\"k\",\"KeyState\":\"Disabled\"}}");
    assert_int_equal(kms_describe_key(c, "alias/x", key_state, sizeof(key_state), &err), 0);
    assert_string_equal(key_state, "Disabled");
    assert_string_equal(kms_client_last_error(c), "");
    assert_non_null(strstr(fake_kms_last_headers(), "trentservice.describekey"));
    assert_string_equal(fake_kms_last_body(), "{\"KeyId\":\"alias/x\"}");
    const fake_action denied[] = {FAKE_DENIED};
    fake_kms_script(denied, 1);
    assert_int_equal(kms_describe_key(c, "alias/x", key_state, sizeof(key_state), &err), -1);
    assert_string_equal(kms_client_last_error(c), "AccessDeniedException");
    fake_kms_set_ok_body("{}");
    assert_int_equal(kms_describe_key(c, "alias/x", key_state, sizeof(key_state), &err), -1);
    assert_non_null(strstr(err.message, "KeyState"));
    kms_client_close(c);
}

static void test_error_json(void **state)
{
    (void)state;
    char type[64], msg[64];
    assert_int_equal(kms_json_error("{\"__type\":\"a.b#NotFoundException\",\"message\":\"m\"}", 48,
                                    type, sizeof(type), msg, sizeof(msg)),
                     0);
    assert_string_equal(type, "NotFoundException");
    assert_string_equal(msg, "m");
    assert_int_equal(kms_json_error("[1]", 3, type, sizeof(type), msg, sizeof(msg)), -1);
    assert_int_equal(kms_json_error("", 0, type, sizeof(type), msg, sizeof(msg)), -1);
    assert_true(kms_error_is_transient("ThrottlingException"));
    assert_false(kms_error_is_transient("AccessDeniedException"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recipient_vector),
        cmocka_unit_test(test_encrypt_request),
        cmocka_unit_test(test_decrypt_for_recipient_via_proxy),
        cmocka_unit_test(test_retries_transient_failures),
        cmocka_unit_test(test_access_denied_is_not_retried),
        cmocka_unit_test(test_garbage_and_truncated_answers),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_unreachable_and_untrusted),
        cmocka_unit_test(test_bad_settings),
        cmocka_unit_test(test_describe_key),
        cmocka_unit_test(test_error_json),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
