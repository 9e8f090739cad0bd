/* The daemon's kms sealing against the real devkms through the real proxy:
 * the whole flow, and every refusal a real KMS gives (policy on PCR0,
 * tampered or foreign blobs, a disabled or unknown key, bad credentials, a
 * KMS that goes away), plus the sealed-key format (KMS ciphertext of the
 * CBOR private-key map) read and written from outside the daemon. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "signer/crypto.h"

static char dir[64] = "/tmp/signer-kmsd-test-XXXXXX";
static char endpoint[96], proxy_addr[128], ca[160], nsm_cfg[160], rogue_cfg[160];
static char akid[128], secret[128], region[32] = "eu-test-2";
static char key_a[64], key_b[64], key_c[64], key_open[64];
static char pcr0[100];
static int kms_port;
static test_process devkms, proxy;
static test_daemon signer, rogue;

/* ---- devkms administration, signed by libcurl's SigV4 ---- */

static size_t collect(char *data, size_t size, size_t n, void *userp)
{
    signer_buf *b = userp;
    signer_buf_append(b, data, size * n, NULL);
    return size * n;
}

/* Calls `op` with `body`; returns the HTTP status, the answer in `out`. */
static long kms_admin(const char *op, const char *body, json_t **out)
{
    CURL *h = curl_easy_init();
    signer_buf answer = SIGNER_BUF_INIT;
    char target[96], sigv4[64], url[128];
    snprintf(target, sizeof(target), "X-Amz-Target: TrentService.%s", op);
    snprintf(sigv4, sizeof(sigv4), "aws:amz:%s:kms", region);
    snprintf(url, sizeof(url), "%s/", endpoint);
    struct curl_slist *hdr = curl_slist_append(NULL, target);
    hdr = curl_slist_append(hdr, "Content-Type: application/x-amz-json-1.1");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CAINFO, ca);
    curl_easy_setopt(h, CURLOPT_AWS_SIGV4, sigv4);
    curl_easy_setopt(h, CURLOPT_USERNAME, akid);
    curl_easy_setopt(h, CURLOPT_PASSWORD, secret);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &answer);
    long status = 0;
    if (curl_easy_perform(h) == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    if (out != NULL)
        *out = json_loadb((const char *)answer.data, answer.len, 0, NULL);
    signer_buf_free(&answer);
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
    return status;
}

/* CreateKey with `policy` (NULL: KMS's default); the new key id in `id`. */
static void create_key(const char *policy, char id[64])
{
    json_t *req = json_object(), *resp;
    if (policy)
        json_object_set_new(req, "Policy", json_string(policy));
    char *body = json_dumps(req, 0);
    assert_int_equal(kms_admin("CreateKey", body, &resp), 200);
    snprintf(id, 64, "%s",
             json_string_value(json_object_get(json_object_get(resp, "KeyMetadata"), "KeyId")));
    free(body);
    json_decref(req);
    json_decref(resp);
}

/* ---- processes ---- */

static int start_devkms(const char *listen)
{
    char cmd[1024], out[160], line[512] = "";
    snprintf(out, sizeof(out), "%s/devkms.out", dir);
    unlink(out);
    snprintf(cmd, sizeof(cmd),
             "exec %s --listen %s --state %s/kms --region %s --attestation-root %s/nsm/root.pem "
             "--log-level warn >%s",
             SIGNER_DEVKMS_PATH, listen, dir, region, dir, out);
    const char *argv[] = {"/bin/sh", "-c", cmd, NULL};
    if (test_process_start(&devkms, argv, NULL, 0) != 0)
        return -1;
    for (int i = 0; i < 500 && strstr(line, "ready at") == NULL; i++) {
        FILE *f = fopen(out, "r");
        if (f) {
            if (fgets(line, sizeof(line), f) == NULL)
                line[0] = '\0';
            fclose(f);
        }
        usleep(10000);
    }
    char *url = strstr(line, "https://");
    if (url == NULL)
        return -1;
    sscanf(url, "%95s", endpoint);
    kms_port = atoi(strrchr(endpoint, ':') + 1);
    return 0;
}

static int start_signer(test_daemon *d, const char *nsm)
{
    const char *extra[] = {"--sealing",   "kms",      "--nsm",     nsm, "--kms-endpoint", endpoint,
                           "--kms-proxy", proxy_addr, "--ca-file", ca,  "--kms-timeout",  "3000",
                           NULL};
    return test_daemon_start(d, extra);
}

static int setup(void **state)
{
    (void)state;
    char cmd[1024], path[160], remote[64];
    signal(SIGPIPE, SIG_IGN);
    if (mkdtemp(dir) == NULL || curl_global_init(CURL_GLOBAL_DEFAULT) != 0 ||
        signer_crypto_init(NULL) != 0)
        return -1;
    /* Two images under one development root: the signer and a rogue. */
    snprintf(cmd, sizeof(cmd),
             "%s %s/nsm --pcr-file 0=%s >/dev/null && %s %s/nsm --config rogue.json "
             "--pcr-file 0=%s >/dev/null",
             SIGNER_DEV_NSM_CA, dir, SIGNER_DAEMON_PATH, SIGNER_DEV_NSM_CA, dir, SIGNER_CLI_PATH);
    if (system(cmd) != 0)
        return -1;
    snprintf(nsm_cfg, sizeof(nsm_cfg), "sim:%s/nsm/nsm.json", dir);
    snprintf(rogue_cfg, sizeof(rogue_cfg), "sim:%s/nsm/rogue.json", dir);
    snprintf(cmd, sizeof(cmd), "%s --nsm %s --print-measurements | awk '$1==\"PCR0\"{print $2}'",
             SIGNER_DAEMON_PATH, nsm_cfg);
    FILE *p = popen(cmd, "r");
    if (p == NULL || fgets(pcr0, sizeof(pcr0), p) == NULL)
        return -1;
    pclose(p);
    pcr0[strcspn(pcr0, "\n")] = '\0';
    if (start_devkms("127.0.0.1:0") != 0)
        return -1;
    snprintf(ca, sizeof(ca), "%s/kms/ca.pem", dir);
    snprintf(path, sizeof(path), "%s/kms/credentials.json", dir);
    json_t *creds = json_load_file(path, 0, NULL);
    snprintf(akid, sizeof(akid), "%s", json_string_value(json_object_get(creds, "access_key_id")));
    snprintf(secret, sizeof(secret), "%s",
             json_string_value(json_object_get(creds, "secret_access_key")));
    json_decref(creds);
    /* A, B: Decrypt only for the signer's PCR0.  C: disabled.  open: the
     * default policy, so the test itself may Encrypt and Decrypt. */
    char policy[2048];
    snprintf(policy, sizeof(policy),
             "{\"Version\":\"2012-10-17\",\"Statement\":["
             "{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"*\"},\"Action\":[\"kms:Encrypt\","
             "\"kms:DescribeKey\",\"kms:DisableKey\",\"kms:PutKeyPolicy\"],\"Resource\":\"*\"},"
             "{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"*\"},\"Action\":\"kms:Decrypt\","
             "\"Resource\":\"*\",\"Condition\":{\"StringEqualsIgnoreCase\":"
             "{\"kms:RecipientAttestation:PCR0\":\"%s\"}}}]}",
             pcr0);
    create_key(policy, key_a);
    create_key(policy, key_b);
    create_key(policy, key_c);
    create_key(NULL, key_open);
    snprintf(cmd, sizeof(cmd), "{\"KeyId\":\"%s\"}", key_c);
    if (kms_admin("DisableKey", cmd, NULL) != 200)
        return -1;
    snprintf(proxy_addr, sizeof(proxy_addr), "unix:%s/proxy.sock", dir);
    snprintf(remote, sizeof(remote), "127.0.0.1:%d", kms_port);
    const char *argv[] = {SIGNER_PROXY_PATH, "--listen", proxy_addr, "--remote", remote, NULL};
    if (test_process_start(&proxy, argv, proxy_addr, 5000) != 0)
        return -1;
    return start_signer(&signer, nsm_cfg) == 0 && start_signer(&rogue, rogue_cfg) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    int rc = test_daemon_stop(&signer) | test_daemon_stop(&rogue);
    test_process_stop(&proxy, SIGTERM);
    test_process_stop(&devkms, SIGTERM);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return rc == 0 && system(cmd) == 0 ? 0 : -1;
}

/* ---- RPC helpers ---- */

static const char *ask(signer_client *c, const rpc_request *req, rpc_response *out)
{
    static char msg[SIGNER_ERROR_MESSAGE_MAX];
    rpc_response resp;
    signer_error err;
    if (signer_client_call(c, req, &resp, &err) != 0)
        fail_msg("%s: %s", rpc_call_name(req->call), err.message);
    snprintf(msg, sizeof(msg), "%s", resp.ok ? "OK" : resp.error_message);
    if (out != NULL && resp.ok)
        *out = resp;
    else
        rpc_response_free(&resp);
    return msg;
}

static void expect_contains(const char *msg, const char *needle)
{
    if (strstr(msg, needle) == NULL)
        fail_msg("expected \"%s\" in \"%s\"", needle, msg);
}

static rpc_request initialize(const char *key_id)
{
    rpc_request r = {.call = RPC_INITIALIZE,
                     .credentials = {.access_key_id = akid,
                                     .secret_access_key = secret,
                                     .encryption_key_id = (char *)key_id,
                                     .region = region}};
    return r;
}

static signer_client *session(test_daemon *d, const char *key_id)
{
    signer_client *c = test_connect(d, 0);
    assert_non_null(c);
    rpc_request init = initialize(key_id);
    assert_string_equal(ask(c, &init, NULL), "OK");
    return c;
}

/* Seals a fresh key of `type` under the session's key; the blob in `out`. */
static void seal_new(signer_client *c, signer_key_type type, signer_buf *out, uint8_t *pk)
{
    rpc_request gen = {.call = RPC_GENERATE, .key_type = type};
    rpc_response r;
    assert_string_equal(ask(c, &gen, &r), "OK");
    signer_buf_append(out, r.encrypted_private_key.data, r.encrypted_private_key.len, NULL);
    memcpy(pk, r.public_key.data, r.public_key.len);
    rpc_response_free(&r);
}

/* ---- tests ---- */

static void test_full_flow(void **state)
{
    (void)state;
    static const uint8_t msg[] = "\x03 a tezos operation";
    for (int t = 0; t < SIGNER_KEY_TYPE_COUNT; t++) {
        signer_client *c = session(&signer, key_a);
        signer_buf blob = SIGNER_BUF_INIT;
        uint8_t pk[SIGNER_PUBLIC_KEY_MAX];
        size_t pk_len = signer_public_key_size((signer_key_type)t);
        seal_new(c, (signer_key_type)t, &blob, pk);
        signer_client_close(c);
        /* A new session (as after a restart) brings it back. */
        c = session(&signer, key_a);
        rpc_request imp = {.call = RPC_IMPORT, .data = {blob.data, blob.len}};
        rpc_response r;
        assert_string_equal(ask(c, &imp, &r), "OK");
        assert_memory_equal(r.public_key.data, pk, pk_len);
        rpc_request sign = {.call = RPC_SIGN, .handle = r.handle, .message = {msg, sizeof(msg)}};
        rpc_response_free(&r);
        assert_string_equal(ask(c, &sign, &r), "OK");
        assert_int_equal(signer_verify((signer_key_type)t, pk, pk_len, msg, sizeof(msg), 255,
                                       r.signature.data, r.signature.len, NULL),
                         0);
        rpc_response_free(&r);
        rpc_request with = {
            .call = RPC_SIGN_WITH, .data = {blob.data, blob.len}, .message = {msg, sizeof(msg)}};
        assert_string_equal(ask(c, &with, &r), "OK");
        assert_int_equal(signer_verify((signer_key_type)t, pk, pk_len, msg, sizeof(msg), 255,
                                       r.signature.data, r.signature.len, NULL),
                         0);
        rpc_response_free(&r);
        rpc_request from = {.call = RPC_PUBLIC_KEY_FROM, .data = {blob.data, blob.len}};
        assert_string_equal(ask(c, &from, &r), "OK");
        assert_memory_equal(r.public_key.data, pk, pk_len);
        rpc_response_free(&r);
        signer_buf_free(&blob);
        signer_client_close(c);
    }
}

static void test_policy_refuses_other_measurements(void **state)
{
    (void)state;
    signer_client *good = session(&signer, key_a);
    signer_buf blob = SIGNER_BUF_INIT;
    uint8_t pk[SIGNER_PUBLIC_KEY_MAX];
    seal_new(good, SIGNER_KEY_ED25519, &blob, pk);
    signer_client_close(good);
    signer_client *c = session(&rogue, key_a);
    /* The rogue may seal (Encrypt is allowed) and use what it holds ... */
    rpc_request keep = {.call = RPC_GENERATE_AND_IMPORT, .key_type = SIGNER_KEY_BLS};
    assert_string_equal(ask(c, &keep, NULL), "OK");
    /* ... but KMS will not unseal for it, and says why. */
    rpc_request imp = {.call = RPC_IMPORT, .data = {blob.data, blob.len}};
    const char *msg = ask(c, &imp, NULL);
    expect_contains(msg, "Import: cannot unseal the key: KMS Decrypt: AccessDeniedException");
    expect_contains(msg, "kms:RecipientAttestation:PCR0");
    rpc_request with = {
        .call = RPC_SIGN_WITH, .data = {blob.data, blob.len}, .message = {(const uint8_t *)"m", 1}};
    expect_contains(ask(c, &with, NULL), "AccessDeniedException");
    rpc_request sign = {.call = RPC_SIGN, .handle = 0, .message = {(const uint8_t *)"m", 1}};
    assert_string_equal(ask(c, &sign, NULL), "OK");
    signer_buf_free(&blob);
    signer_client_close(c);
}

static void test_bad_blobs(void **state)
{
    (void)state;
    signer_client *c = session(&signer, key_b);
    signer_buf from_b = SIGNER_BUF_INIT;
    uint8_t pk[SIGNER_PUBLIC_KEY_MAX];
    seal_new(c, SIGNER_KEY_SECP256K1, &from_b, pk);
    signer_client_close(c);
    c = session(&signer, key_a);
    /* Sealed under another KMS key. */
    rpc_request imp = {.call = RPC_IMPORT, .data = {from_b.data, from_b.len}};
    expect_contains(ask(c, &imp, NULL), "IncorrectKeyException");
    /* Tampered. */
    signer_buf blob = SIGNER_BUF_INIT;
    seal_new(c, SIGNER_KEY_SECP256K1, &blob, pk);
    blob.data[blob.len - 5] ^= 0x40;
    imp.data = (rpc_bytes){blob.data, blob.len};
    expect_contains(ask(c, &imp, NULL), "InvalidCiphertextException");
    /* Not a KMS ciphertext at all. */
    imp.data = (rpc_bytes){(const uint8_t *)"\xa1\x67"
                                            "Ed25519",
                           9};
    expect_contains(ask(c, &imp, NULL), "Import: cannot unseal the key: KMS Decrypt:");
    signer_buf_free(&blob);
    signer_buf_free(&from_b);
    signer_client_close(c);
}

static void test_initialize_refusals(void **state)
{
    (void)state;
    signer_client *c = test_connect(&signer, 0);
    rpc_request init = initialize(key_c);
    expect_contains(ask(c, &init, NULL), "is Disabled");
    init = initialize("alias/no-such-key");
    expect_contains(ask(c, &init, NULL), "NotFoundException");
    init = initialize(key_a);
    init.credentials.secret_access_key = "wrong secret";
    expect_contains(ask(c, &init, NULL), "InvalidSignatureException");
    init = initialize(key_a);
    init.credentials.access_key_id = "AKIANOTKNOWN0000000";
    expect_contains(ask(c, &init, NULL), "UnrecognizedClientException");
    /* After all that, the same session initializes and works. */
    init = initialize(key_a);
    assert_string_equal(ask(c, &init, NULL), "OK");
    rpc_request gen = {.call = RPC_GENERATE_AND_IMPORT, .key_type = SIGNER_KEY_NISTP256};
    assert_string_equal(ask(c, &gen, NULL), "OK");
    signer_client_close(c);
}

/* KMS goes away: calls that need it fail clearly, imported keys keep
 * signing, and once KMS is back the same session unseals again. */
static void test_kms_goes_away(void **state)
{
    (void)state;
    signer_client *c = session(&signer, key_a);
    signer_buf blob = SIGNER_BUF_INIT;
    uint8_t pk[SIGNER_PUBLIC_KEY_MAX];
    seal_new(c, SIGNER_KEY_ED25519, &blob, pk);
    rpc_request imp = {.call = RPC_IMPORT, .data = {blob.data, blob.len}};
    assert_string_equal(ask(c, &imp, NULL), "OK");
    test_process_stop(&devkms, SIGKILL);
    expect_contains(ask(c, &imp, NULL), "cannot reach KMS");
    rpc_request sign = {.call = RPC_SIGN, .handle = 0, .message = {(const uint8_t *)"m", 1}};
    assert_string_equal(ask(c, &sign, NULL), "OK");
    char listen[64];
    snprintf(listen, sizeof(listen), "127.0.0.1:%d", kms_port);
    assert_int_equal(start_devkms(listen), 0);
    assert_string_equal(ask(c, &imp, NULL), "OK");
    signer_buf_free(&blob);
    signer_client_close(c);
}

/* The sealed key is exactly KMS's ciphertext of the CBOR map {Type: bytes},
 * so blobs move between this signer and the Rust one both ways. */
static void test_sealed_key_format(void **state)
{
    (void)state;
    signer_client *c = session(&signer, key_open);
    signer_buf blob = SIGNER_BUF_INIT;
    uint8_t pk[SIGNER_PUBLIC_KEY_MAX];
    seal_new(c, SIGNER_KEY_ED25519, &blob, pk);
    /* Outside: plain KMS Decrypt shows the map. */
    char b64[1024], body[1200];
    sodium_bin2base64(b64, sizeof(b64), blob.data, blob.len, sodium_base64_VARIANT_ORIGINAL);
    snprintf(body, sizeof(body), "{\"CiphertextBlob\":\"%s\"}", b64);
    json_t *resp;
    assert_int_equal(kms_admin("Decrypt", body, &resp), 200);
    const char *plain64 = json_string_value(json_object_get(resp, "Plaintext"));
    uint8_t plain[64];
    size_t plain_len;
    assert_int_equal(sodium_base642bin(plain, sizeof(plain), plain64, strlen(plain64), NULL,
                                       &plain_len, NULL, sodium_base64_VARIANT_ORIGINAL),
                     0);
    json_decref(resp);
    /* a1 67 "Ed25519" 58 20 <32 bytes> */
    assert_int_equal(plain_len, 1 + 1 + 7 + 2 + 32);
    assert_memory_equal(plain,
                        "\xa1\x67"
                        "Ed25519\x58\x20",
                        11);
    signer_key key;
    assert_int_equal(signer_key_import(&key, SIGNER_KEY_ED25519, plain + 11, 32, NULL), 0);
    assert_memory_equal(key.public_key, pk, 32);
    signer_key_wipe(&key);
    /* And in: a map sealed by plain KMS Encrypt imports. */
    static const uint8_t map[] = "\xa1\x69Secp256k1\x58\x20"
                                 "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
                                 "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x07";
    sodium_bin2base64(b64, sizeof(b64), map, sizeof(map) - 1, sodium_base64_VARIANT_ORIGINAL);
    snprintf(body, sizeof(body), "{\"KeyId\":\"%s\",\"Plaintext\":\"%s\"}", key_open, b64);
    assert_int_equal(kms_admin("Encrypt", body, &resp), 200);
    const char *sealed64 = json_string_value(json_object_get(resp, "CiphertextBlob"));
    uint8_t sealed[512];
    size_t sealed_len;
    assert_int_equal(sodium_base642bin(sealed, sizeof(sealed), sealed64, strlen(sealed64), NULL,
                                       &sealed_len, NULL, sodium_base64_VARIANT_ORIGINAL),
                     0);
    json_decref(resp);
    rpc_request imp = {.call = RPC_IMPORT, .data = {sealed, sealed_len}};
    rpc_response r;
    assert_string_equal(ask(c, &imp, &r), "OK");
    assert_int_equal(signer_key_import(&key, SIGNER_KEY_SECP256K1, map + 13, 32, NULL), 0);
    assert_memory_equal(r.public_key.data, key.public_key, 33);
    signer_key_wipe(&key);
    rpc_response_free(&r);
    signer_buf_free(&blob);
    signer_client_close(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_flow),
        cmocka_unit_test(test_policy_refuses_other_measurements),
        cmocka_unit_test(test_bad_blobs),
        cmocka_unit_test(test_initialize_refusals),
        cmocka_unit_test(test_sealed_key_format),
        cmocka_unit_test(test_kms_goes_away),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
