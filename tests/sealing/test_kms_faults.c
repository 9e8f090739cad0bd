/* The daemon's kms sealing through the real proxy to a scripted KMS: every
 * network and server fault comes back as an Err that names it, and the
 * session goes on (its imported keys keep working). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fake_kms.h"
#include "harness.h"

static char dir[64] = "/tmp/signer-kmsf-test-XXXXXX";
static char proxy_addr[128], proxy_remote[64];
static test_process proxy;
static test_daemon daemon_;

static void start_proxy(void)
{
    const char *argv[] = {SIGNER_PROXY_PATH, "--listen",   proxy_addr,
                          "--remote",        proxy_remote, NULL};
    assert_int_equal(test_process_start(&proxy, argv, proxy_addr, 5000), 0);
}

static int setup(void **state)
{
    (void)state;
    char ca[128], nsm_cfg[160], endpoint[64], cmd[512];
    signal(SIGPIPE, SIG_IGN);
    if (mkdtemp(dir) == NULL)
        return -1;
    snprintf(cmd, sizeof(cmd), "%s %s/nsm >/dev/null", SIGNER_DEV_NSM_CA, dir);
    if (system(cmd) != 0)
        return -1;
    snprintf(ca, sizeof(ca), "%s/kms-ca.pem", dir);
    int port = fake_kms_start(ca);
    snprintf(endpoint, sizeof(endpoint), "https://localhost:%d", port);
    snprintf(proxy_addr, sizeof(proxy_addr), "unix:%s/proxy.sock", dir);
    snprintf(proxy_remote, sizeof(proxy_remote), "127.0.0.1:%d", port);
    const char *argv[] = {SIGNER_PROXY_PATH, "--listen",   proxy_addr,
                          "--remote",        proxy_remote, NULL};
    if (test_process_start(&proxy, argv, proxy_addr, 5000) != 0)
        return -1;
    snprintf(nsm_cfg, sizeof(nsm_cfg), "sim:%s/nsm/nsm.json", dir);
    fake_kms_set_ok_body("{\"CiphertextBlob\":\"AQID\","
                         "\"KeyMetadata\":{\"KeyId\":\"k\",\"KeyState\":\"Enabled\"}}");
    const char *extra[] = {
        "--sealing",     "kms",         "--nsm",    nsm_cfg,     "--kms-endpoint",
        endpoint,        "--kms-proxy", proxy_addr, "--ca-file", ca,
        "--kms-timeout", "1000",        NULL};
    return test_daemon_start(&daemon_, extra);
}

static int teardown(void **state)
{
    (void)state;
    int rc = test_daemon_stop(&daemon_);
    test_process_stop(&proxy, SIGTERM);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return rc == 0 && system(cmd) == 0 ? 0 : -1;
}

/* The answer to `req`: "OK" or the Err message. */
static const char *ask(signer_client *c, const rpc_request *req, rpc_response *out)
{
    static char msg[512];
    rpc_response resp;
    signer_error err;
    if (signer_client_call(c, req, &resp, &err) != 0)
        fail_msg("%s: %s", rpc_call_name(req->call), err.message);
    snprintf(msg, sizeof(msg), "%s", resp.ok ? "OK" : resp.error_message);
    if (out != NULL)
        *out = resp;
    else
        rpc_response_free(&resp);
    return msg;
}

static const rpc_request initialize = {.call = RPC_INITIALIZE,
                                       .credentials = {.access_key_id = "AKIDTEST",
                                                       .secret_access_key = "secret",
                                                       .encryption_key_id = "alias/signer",
                                                       .region = "eu-test-1"}};

static signer_client *session(void)
{
    signer_client *c = test_connect(&daemon_, 0);
    assert_non_null(c);
    fake_kms_script(NULL, 0);
    assert_string_equal(ask(c, &initialize, NULL), "OK");
    return c;
}

static const char *with_script(signer_client *c, const fake_action *a, size_t n,
                               const rpc_request *req)
{
    fake_kms_script(a, n);
    return ask(c, req, NULL);
}

static void expect_contains(const char *msg, const char *needle)
{
    if (strstr(msg, needle) == NULL)
        fail_msg("expected \"%s\" in \"%s\"", needle, msg);
}

static void test_initialize_checks_the_key(void **state)
{
    (void)state;
    signer_client *c = test_connect(&daemon_, 0);
    /* Credentials KMS does not know. */
    const fake_action bad[] = {FAKE_BAD_KEY_ID};
    expect_contains(with_script(c, bad, 1, &initialize),
                    "Initialize: KMS DescribeKey: UnrecognizedClientException");
    /* A disabled key. */
    fake_kms_set_ok_body("{\"KeyMetadata\":{\"KeyId\":\"k\",\"KeyState\":\"Disabled\"}}");
    expect_contains(with_script(c, NULL, 0, &initialize), "alias/signer is Disabled");
    /* No encryption key id at all. */
    rpc_request none = {.call = RPC_INITIALIZE, .credentials = {.access_key_id = "A"}};
    expect_contains(ask(c, &none, NULL), "needs encryption_key_id");
    /* A policy without kms:DescribeKey is no reason to refuse. */
    fake_kms_set_ok_body("{\"CiphertextBlob\":\"AQID\","
                         "\"KeyMetadata\":{\"KeyId\":\"k\",\"KeyState\":\"Enabled\"}}");
    const fake_action denied[] = {FAKE_DENIED};
    assert_string_equal(with_script(c, denied, 1, &initialize), "OK");
    signer_client_close(c);
}

static void test_transient_faults_are_retried(void **state)
{
    (void)state;
    signer_client *c = session();
    rpc_request gen = {.call = RPC_GENERATE, .key_type = SIGNER_KEY_ED25519};
    rpc_response resp;
    const fake_action a[] = {FAKE_500, FAKE_CLOSE};
    fake_kms_script(a, 2);
    assert_string_equal(ask(c, &gen, &resp), "OK");
    assert_int_equal(resp.encrypted_private_key.len, 3); /* the scripted blob */
    rpc_response_free(&resp);
    assert_int_equal(fake_kms_requests(), 3);
    signer_client_close(c);
}

static void test_faults_give_clear_errors(void **state)
{
    (void)state;
    signer_client *c = session();
    rpc_request keep = {.call = RPC_GENERATE_AND_IMPORT, .key_type = SIGNER_KEY_SECP256K1};
    rpc_response resp;
    assert_string_equal(ask(c, &keep, &resp), "OK");
    uint64_t handle = resp.handle;
    rpc_response_free(&resp);

    rpc_request gen = {.call = RPC_GENERATE, .key_type = SIGNER_KEY_BLS};
    const fake_action throttle[] = {FAKE_THROTTLE, FAKE_THROTTLE, FAKE_THROTTLE};
    expect_contains(with_script(c, throttle, 3, &gen),
                    "Generate: KMS Encrypt: ThrottlingException: Rate exceeded");
    const fake_action garbage[] = {FAKE_GARBAGE};
    expect_contains(with_script(c, garbage, 1, &gen), "not JSON");
    const fake_action cut[] = {FAKE_TRUNCATED, FAKE_TRUNCATED, FAKE_TRUNCATED};
    expect_contains(with_script(c, cut, 3, &gen), "cannot reach KMS");
    const fake_action slow[] = {FAKE_SLOW, FAKE_SLOW, FAKE_SLOW};
    expect_contains(with_script(c, slow, 3, &gen), "did not answer in time");
    const fake_action html[] = {FAKE_503_HTML, FAKE_503_HTML, FAKE_503_HTML};
    expect_contains(with_script(c, html, 3, &gen), "HTTP 503");
    const fake_action denied[] = {FAKE_DENIED};
    expect_contains(with_script(c, denied, 1, &gen),
                    "AccessDeniedException: denied by the key policy");
    /* Decrypt answered with something that is no CMS for this enclave. */
    fake_kms_set_ok_body("{\"CiphertextForRecipient\":\"AAECAwQF\"}");
    rpc_request imp = {.call = RPC_IMPORT, .data = {(const uint8_t *)"\x01\x02\x03", 3}};
    expect_contains(with_script(c, NULL, 0, &imp), "Import: cannot unseal the key");
    expect_contains(ask(c, &imp, NULL), "not CMS");
    /* After all that, the session's key still signs. */
    rpc_request sign = {.call = RPC_SIGN, .handle = handle, .message = {(const uint8_t *)"m", 1}};
    assert_string_equal(ask(c, &sign, NULL), "OK");
    fake_kms_set_ok_body("{\"CiphertextBlob\":\"AQID\","
                         "\"KeyMetadata\":{\"KeyId\":\"k\",\"KeyState\":\"Enabled\"}}");
    signer_client_close(c);
}

static void test_proxy_dies(void **state)
{
    (void)state;
    signer_client *c = session();
    rpc_request gen = {.call = RPC_GENERATE, .key_type = SIGNER_KEY_NISTP256};
    assert_string_equal(ask(c, &gen, NULL), "OK");
    test_process_stop(&proxy, SIGKILL);
    const char *msg = ask(c, &gen, NULL);
    expect_contains(msg, "cannot reach KMS");
    expect_contains(msg, "proxy.sock");
    start_proxy();
    assert_string_equal(ask(c, &gen, NULL), "OK");
    signer_client_close(c);
}

/* The proxy dies while a request is on its way to KMS: the call fails
 * with a clear Err (the retries find no proxy), the session goes on. */
static void test_proxy_dies_mid_request(void **state)
{
    (void)state;
    signer_client *c = session();
    rpc_request gen = {.call = RPC_GENERATE, .key_type = SIGNER_KEY_SECP256K1};
    const fake_action slow[] = {FAKE_SLOW};
    fake_kms_script(slow, 1);
    assert_int_equal(signer_client_send(c, &gen, NULL), 0);
    usleep(500000); /* the request now waits inside the fake KMS */
    test_process_stop(&proxy, SIGKILL);
    rpc_response resp;
    signer_error err;
    assert_int_equal(signer_client_receive(c, RPC_GENERATE, &resp, &err), 0);
    assert_false(resp.ok);
    expect_contains(resp.error_message, "Generate: KMS Encrypt: cannot reach KMS");
    rpc_response_free(&resp);
    start_proxy();
    assert_string_equal(ask(c, &gen, NULL), "OK");
    signer_client_close(c);
}

/* A client that leaves while its call waits on KMS: the daemon finishes
 * the call, drops the answer and serves the next client. */
static void test_client_leaves_during_kms_call(void **state)
{
    (void)state;
    signer_client *c = session();
    rpc_request gen = {.call = RPC_GENERATE, .key_type = SIGNER_KEY_ED25519};
    const fake_action slow[] = {FAKE_SLOW};
    fake_kms_script(slow, 1);
    assert_int_equal(signer_client_send(c, &gen, NULL), 0);
    signer_client_close(c);
    c = session();
    assert_string_equal(ask(c, &gen, NULL), "OK");
    signer_client_close(c);
    assert_true(test_daemon_alive(&daemon_));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_initialize_checks_the_key),
        cmocka_unit_test(test_transient_faults_are_retried),
        cmocka_unit_test(test_faults_give_clear_errors),
        cmocka_unit_test(test_proxy_dies),
        cmocka_unit_test(test_proxy_dies_mid_request),
        cmocka_unit_test(test_client_leaves_during_kms_call),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
