/* devkms end to end: the real binary, a libcurl client signing with
 * CURLOPT_AWS_SIGV4, keys and aliases, errors with KMS's exception names,
 * the Recipient flow with attestation documents from a test chain (and each
 * refusal), OpenSSL's CMS_decrypt on CiphertextForRecipient, key policies,
 * parallel clients, the log, and a restart. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "test_chain.h"

#define ACCOUNT "111122223333"
#define MARKER "plaintext-that-must-never-be-logged"

static devkms_proc kms;
static char state_dir[256];
static test_chain chain_a, chain_b;
static EVP_PKEY *rsa;       /* the "enclave's" ephemeral key */
static signer_buf spki;     /* its DER SubjectPublicKeyInfo */

static int setup(void **state)
{
    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (test_chain_make(&chain_a, -3600, 3 * 3600) != 0 ||
        test_chain_make(&chain_b, -3600, 3 * 3600) != 0)
        return -1;
    rsa = EVP_RSA_gen(2048);
    unsigned char *der = NULL;
    int n = rsa ? i2d_PUBKEY(rsa, &der) : -1;
    if (n <= 0 || signer_buf_append(&spki, der, (size_t)n, NULL) != 0)
        return -1;
    OPENSSL_free(der);
    harness_temp_dir(state_dir, sizeof(state_dir));
    char root[300];
    snprintf(root, sizeof(root), "%s.root.pem", state_dir);
    if (test_chain_write_root_pem(&chain_a, root) != 0)
        return -1;
    const char *extra[] = {"--attestation-root", root, "--day-seconds", "1", NULL};
    return devkms_start(&kms, state_dir, extra);
}

static int teardown(void **state)
{
    (void)state;
    /* A clean stop: exit status 0, and no sanitizer report in the log. */
    int status = devkms_stop(&kms, SIGTERM);
    if (status != 0 || devkms_log_has_sanitizer_report(&kms)) {
        fprintf(stderr, "devkms exited with %d; see %s\n", status, kms.log_path);
        return -1;
    }
    harness_remove(&kms);
    char root[300];
    snprintf(root, sizeof(root), "%s.root.pem", state_dir);
    unlink(root);
    test_chain_free(&chain_a);
    test_chain_free(&chain_b);
    EVP_PKEY_free(rsa);
    signer_buf_free(&spki);
    curl_global_cleanup();
    return 0;
}

/* ---- small helpers ---------------------------------------------------------- */

static void call(const char *op, json_t *req, kms_reply *r)
{
    if (kms_call(&kms, op, req, r) != 0)
        fail_msg("%s: no answer from devkms", op);
}

static void expect_ok(const char *op, json_t *req, kms_reply *r)
{
    call(op, req, r);
    if (r->status != 200)
        fail_msg("%s: HTTP %ld %s: %s", op, r->status, r->type, r->message);
}

static void expect_error(const char *op, json_t *req, const char *type, const char *needle)
{
    kms_reply r;
    call(op, req, &r);
    if (strcmp(r.type, type) != 0)
        fail_msg("%s: expected %s, got HTTP %ld %s: %s", op, type, r.status, r.type, r.message);
    long want = strcmp(type, "KMSInternalException") == 0       ? 500
                : strcmp(type, "DryRunOperationException") == 0 ? 412
                                                                : 400;
    assert_int_equal(r.status, want);
    if (needle != NULL && strstr(r.message, needle) == NULL)
        fail_msg("%s: message \"%s\" does not mention \"%s\"", op, r.message, needle);
    kms_reply_free(&r);
}

static char *create_key(json_t *req)
{
    kms_reply r;
    expect_ok("CreateKey", req ? req : json_object(), &r);
    json_t *meta = json_object_get(r.body, "KeyMetadata");
    char *id = strdup(json_string_value(json_object_get(meta, "KeyId")));
    kms_reply_free(&r);
    return id;
}

static json_t *b64_json(const uint8_t *data, size_t len)
{
    char *text = b64_encode(data, len);
    json_t *s = json_string(text);
    free(text);
    return s;
}

static char *encrypt(const char *key, const char *plaintext, json_t *context)
{
    json_t *req = json_pack("{s:s, s:o}", "KeyId", key, "Plaintext",
                            b64_json((const uint8_t *)plaintext, strlen(plaintext)));
    if (context)
        json_object_set_new(req, "EncryptionContext", context);
    kms_reply r;
    expect_ok("Encrypt", req, &r);
    char *blob = strdup(reply_string(&r, "CiphertextBlob"));
    kms_reply_free(&r);
    return blob;
}

static void expect_plaintext(const kms_reply *r, const char *field, const void *want, size_t len)
{
    const char *text = reply_string(r, field);
    if (text == NULL)
        fail_msg("answer has no %s", field);
    signer_buf got = SIGNER_BUF_INIT;
    assert_int_equal(b64_decode(text, &got), 0);
    assert_int_equal(got.len, len);
    assert_memory_equal(got.data, want, len);
    signer_buf_free(&got);
}

/* ---- keys ----------------------------------------------------------------------- */

static void test_key_lifecycle(void **state)
{
    (void)state;
    kms_reply r;
    char *id = create_key(json_pack("{s:s}", "Description", "lifecycle"));
    char arn[256];
    snprintf(arn, sizeof(arn), "arn:aws:kms:%s:%s:key/%s", kms.region, ACCOUNT, id);

    expect_ok("DescribeKey", json_pack("{s:s}", "KeyId", arn), &r);
    json_t *m = json_object_get(r.body, "KeyMetadata");
    assert_string_equal(json_string_value(json_object_get(m, "KeyId")), id);
    assert_string_equal(json_string_value(json_object_get(m, "Arn")), arn);
    assert_string_equal(json_string_value(json_object_get(m, "KeyState")), "Enabled");
    assert_string_equal(json_string_value(json_object_get(m, "Description")), "lifecycle");
    assert_string_equal(json_string_value(json_object_get(m, "KeySpec")), "SYMMETRIC_DEFAULT");
    assert_string_equal(json_string_value(json_object_get(m, "KeyUsage")), "ENCRYPT_DECRYPT");
    assert_true(json_is_true(json_object_get(m, "Enabled")));
    assert_true(json_is_number(json_object_get(m, "CreationDate")));
    kms_reply_free(&r);

    expect_ok("ListKeys", json_object(), &r);
    bool listed = false;
    size_t i;
    json_t *k;
    json_array_foreach(json_object_get(r.body, "Keys"), i, k)
        listed = listed || strcmp(json_string_value(json_object_get(k, "KeyId")), id) == 0;
    assert_true(listed);
    kms_reply_free(&r);

    expect_ok("GetKeyPolicy", json_pack("{s:s, s:s}", "KeyId", id, "PolicyName", "default"), &r);
    assert_non_null(strstr(reply_string(&r, "Policy"), "arn:aws:iam::" ACCOUNT ":root"));
    kms_reply_free(&r);

    expect_ok("DisableKey", json_pack("{s:s}", "KeyId", id), &r);
    kms_reply_free(&r);
    expect_error("Encrypt", json_pack("{s:s, s:s}", "KeyId", id, "Plaintext", "aGk="),
                 "DisabledException", "disabled");
    expect_ok("EnableKey", json_pack("{s:s}", "KeyId", id), &r);
    kms_reply_free(&r);
    char *blob = encrypt(id, "before deletion", NULL);

    expect_error("ScheduleKeyDeletion", json_pack("{s:s, s:i}", "KeyId", id,
                                                  "PendingWindowInDays", 6),
                 "ValidationException", "pendingWindowInDays");
    expect_ok("ScheduleKeyDeletion", json_pack("{s:s, s:i}", "KeyId", id,
                                               "PendingWindowInDays", 7), &r);
    assert_string_equal(reply_string(&r, "KeyState"), "PendingDeletion");
    assert_int_equal(json_integer_value(json_object_get(r.body, "PendingWindowInDays")), 7);
    assert_true(json_is_number(json_object_get(r.body, "DeletionDate")));
    kms_reply_free(&r);
    expect_error("Encrypt", json_pack("{s:s, s:s}", "KeyId", id, "Plaintext", "aGk="),
                 "KMSInvalidStateException", "pending deletion");
    expect_error("Decrypt", json_pack("{s:s}", "CiphertextBlob", blob),
                 "KMSInvalidStateException", "pending deletion");
    expect_ok("CancelKeyDeletion", json_pack("{s:s}", "KeyId", id), &r);
    kms_reply_free(&r);
    expect_ok("DescribeKey", json_pack("{s:s}", "KeyId", id), &r);
    assert_string_equal(json_string_value(json_object_get(json_object_get(r.body, "KeyMetadata"),
                                                          "KeyState")), "Disabled");
    kms_reply_free(&r);
    expect_error("CancelKeyDeletion", json_pack("{s:s}", "KeyId", id),
                 "KMSInvalidStateException", NULL);

    /* This server's days last one second: after 7 the key is gone. */
    expect_ok("ScheduleKeyDeletion", json_pack("{s:s, s:i}", "KeyId", id,
                                               "PendingWindowInDays", 7), &r);
    kms_reply_free(&r);
    sleep(8);
    expect_error("DescribeKey", json_pack("{s:s}", "KeyId", id), "NotFoundException", NULL);
    expect_error("Decrypt", json_pack("{s:s}", "CiphertextBlob", blob),
                 "InvalidCiphertextException", "does not exist");
    free(blob);
    free(id);
}

static void test_create_key_refusals(void **state)
{
    (void)state;
    expect_error("CreateKey", json_pack("{s:s}", "KeySpec", "RSA_2048"),
                 "UnsupportedOperationException", "RSA_2048");
    expect_error("CreateKey", json_pack("{s:s}", "KeyUsage", "SIGN_VERIFY"),
                 "UnsupportedOperationException", NULL);
    expect_error("CreateKey", json_pack("{s:s}", "Policy", "{not json"),
                 "MalformedPolicyDocumentException", "JSON");
    expect_error("CreateKey", json_pack("{s:i}", "Description", 5), "SerializationException",
                 "Description");
}

/* ---- Encrypt / Decrypt ------------------------------------------------------------ */

static void test_encrypt_decrypt(void **state)
{
    (void)state;
    char *id = create_key(NULL);
    char *other = create_key(NULL);
    kms_reply r;

    char *blob = encrypt(id, "hello", NULL);
    expect_ok("Decrypt", json_pack("{s:s}", "CiphertextBlob", blob), &r);
    expect_plaintext(&r, "Plaintext", "hello", 5);
    assert_non_null(strstr(reply_string(&r, "KeyId"), id));
    assert_string_equal(reply_string(&r, "EncryptionAlgorithm"), "SYMMETRIC_DEFAULT");
    kms_reply_free(&r);
    /* The right KeyId is accepted, another key's is not. */
    expect_ok("Decrypt", json_pack("{s:s, s:s}", "CiphertextBlob", blob, "KeyId", id), &r);
    kms_reply_free(&r);
    expect_error("Decrypt", json_pack("{s:s, s:s}", "CiphertextBlob", blob, "KeyId", other),
                 "IncorrectKeyException", NULL);
    free(blob);

    /* The encryption context is bound: exactly it, in any order. */
    blob = encrypt(id, "with context", json_pack("{s:s, s:s}", "purpose", "test", "b", "2"));
    expect_ok("Decrypt", json_pack("{s:s, s:{s:s, s:s}}", "CiphertextBlob", blob,
                                   "EncryptionContext", "b", "2", "purpose", "test"), &r);
    expect_plaintext(&r, "Plaintext", "with context", 12);
    kms_reply_free(&r);
    expect_error("Decrypt", json_pack("{s:s}", "CiphertextBlob", blob),
                 "InvalidCiphertextException", NULL);
    expect_error("Decrypt", json_pack("{s:s, s:{s:s}}", "CiphertextBlob", blob,
                                      "EncryptionContext", "purpose", "test"),
                 "InvalidCiphertextException", NULL);
    expect_error("Decrypt", json_pack("{s:s, s:{s:s, s:s}}", "CiphertextBlob", blob,
                                      "EncryptionContext", "b", "3", "purpose", "test"),
                 "InvalidCiphertextException", NULL);

    /* Any change to the blob is detected (header, IV, body, tag). */
    signer_buf raw = SIGNER_BUF_INIT;
    assert_int_equal(b64_decode(blob, &raw), 0);
    size_t at[] = {0, 2, 10, 45, 50, raw.len - 20, raw.len - 1};
    for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
        raw.data[at[i]] ^= 0x01;
        expect_error("Decrypt", json_pack("{s:o, s:{s:s, s:s}}", "CiphertextBlob",
                                          b64_json(raw.data, raw.len), "EncryptionContext", "b",
                                          "2", "purpose", "test"),
                     "InvalidCiphertextException", NULL);
        raw.data[at[i]] ^= 0x01;
    }
    /* Moved to another key: refused too. */
    memcpy(raw.data + 4, other, 36);
    expect_error("Decrypt", json_pack("{s:o, s:{s:s, s:s}}", "CiphertextBlob",
                                      b64_json(raw.data, raw.len), "EncryptionContext", "b", "2",
                                      "purpose", "test"),
                 "InvalidCiphertextException", NULL);
    signer_buf_free(&raw);
    expect_error("Decrypt", json_pack("{s:s}", "CiphertextBlob", "bm90IGEgYmxvYg=="),
                 "InvalidCiphertextException", NULL);
    free(blob);

    /* Limits and algorithms as KMS has them. */
    uint8_t big[4097];
    memset(big, 'x', sizeof(big));
    expect_error("Encrypt", json_pack("{s:s, s:o}", "KeyId", id, "Plaintext",
                                      b64_json(big, sizeof(big))),
                 "ValidationException", "4096");
    expect_error("Encrypt", json_pack("{s:s, s:s}", "KeyId", id, "Plaintext", ""),
                 "ValidationException", "plaintext");
    expect_error("Encrypt", json_pack("{s:s, s:s, s:s}", "KeyId", id, "Plaintext", "aGk=",
                                      "EncryptionAlgorithm", "RSAES_OAEP_SHA_256"),
                 "InvalidKeyUsageException", NULL);
    expect_error("Encrypt", json_pack("{s:s, s:s, s:b}", "KeyId", id, "Plaintext", "aGk=",
                                      "DryRun", 1),
                 "DryRunOperationException", NULL);
    free(id);
    free(other);
}

static void test_data_keys_and_random(void **state)
{
    (void)state;
    char *id = create_key(NULL);
    kms_reply r, d;
    const struct {
        const char *spec;
        int bytes;
        size_t want;
    } sizes[] = {{"AES_256", 0, 32}, {"AES_128", 0, 16}, {NULL, 64, 64}, {NULL, 1, 1}};
    for (size_t i = 0; i < 4; i++) {
        json_t *req = json_pack("{s:s, s:{s:s}}", "KeyId", id, "EncryptionContext", "k", "v");
        if (sizes[i].spec)
            json_object_set_new(req, "KeySpec", json_string(sizes[i].spec));
        else
            json_object_set_new(req, "NumberOfBytes", json_integer(sizes[i].bytes));
        expect_ok("GenerateDataKey", req, &r);
        signer_buf key = SIGNER_BUF_INIT;
        assert_int_equal(b64_decode(reply_string(&r, "Plaintext"), &key), 0);
        assert_int_equal(key.len, sizes[i].want);
        expect_ok("Decrypt", json_pack("{s:s, s:{s:s}}", "CiphertextBlob",
                                       reply_string(&r, "CiphertextBlob"), "EncryptionContext",
                                       "k", "v"), &d);
        expect_plaintext(&d, "Plaintext", key.data, key.len);
        kms_reply_free(&d);
        kms_reply_free(&r);
        signer_buf_free(&key);
    }
    expect_error("GenerateDataKey", json_pack("{s:s}", "KeyId", id), "ValidationException",
                 "either");
    expect_error("GenerateDataKey", json_pack("{s:s, s:s, s:i}", "KeyId", id, "KeySpec",
                                              "AES_256", "NumberOfBytes", 32),
                 "ValidationException", "either");
    expect_error("GenerateDataKey", json_pack("{s:s, s:s}", "KeyId", id, "KeySpec", "AES_512"),
                 "ValidationException", "keySpec");
    expect_ok("GenerateDataKeyWithoutPlaintext",
              json_pack("{s:s, s:s}", "KeyId", id, "KeySpec", "AES_256"), &r);
    assert_null(json_object_get(r.body, "Plaintext"));
    assert_non_null(reply_string(&r, "CiphertextBlob"));
    kms_reply_free(&r);

    for (int n = 1; n <= 1024; n *= 4) {
        expect_ok("GenerateRandom", json_pack("{s:i}", "NumberOfBytes", n), &r);
        signer_buf bytes = SIGNER_BUF_INIT;
        assert_int_equal(b64_decode(reply_string(&r, "Plaintext"), &bytes), 0);
        assert_int_equal(bytes.len, n);
        signer_buf_free(&bytes);
        kms_reply_free(&r);
    }
    expect_error("GenerateRandom", json_pack("{s:i}", "NumberOfBytes", 0), "ValidationException",
                 "numberOfBytes");
    expect_error("GenerateRandom", json_pack("{s:i}", "NumberOfBytes", 1025),
                 "ValidationException", "1024");
    free(id);
}

static void test_aliases(void **state)
{
    (void)state;
    char *id = create_key(NULL);
    char *id2 = create_key(NULL);
    kms_reply r;
    expect_ok("CreateAlias", json_pack("{s:s, s:s}", "AliasName", "alias/test/app",
                                       "TargetKeyId", id), &r);
    kms_reply_free(&r);
    expect_error("CreateAlias", json_pack("{s:s, s:s}", "AliasName", "alias/test/app",
                                          "TargetKeyId", id2),
                 "AlreadyExistsException", "alias/test/app");
    expect_error("CreateAlias", json_pack("{s:s, s:s}", "AliasName", "alias/aws/s3",
                                          "TargetKeyId", id), "NotAuthorizedException", NULL);
    expect_error("CreateAlias", json_pack("{s:s, s:s}", "AliasName", "nope", "TargetKeyId", id),
                 "ValidationException", "alias/");
    expect_error("CreateAlias", json_pack("{s:s, s:s}", "AliasName", "alias/x",
                                          "TargetKeyId", "alias/test/app"),
                 "NotFoundException", NULL);

    /* Encrypt through the alias name and its ARN; decrypt through it. */
    char alias_arn[256];
    snprintf(alias_arn, sizeof(alias_arn), "arn:aws:kms:%s:%s:alias/test/app", kms.region,
             ACCOUNT);
    char *blob = encrypt("alias/test/app", "via alias", NULL);
    free(blob);
    blob = encrypt(alias_arn, "via alias arn", NULL);
    expect_ok("Decrypt", json_pack("{s:s, s:s}", "CiphertextBlob", blob, "KeyId",
                                   "alias/test/app"), &r);
    expect_plaintext(&r, "Plaintext", "via alias arn", 13);
    kms_reply_free(&r);

    expect_ok("ListAliases", json_pack("{s:s}", "KeyId", id), &r);
    json_t *list = json_object_get(r.body, "Aliases");
    assert_int_equal(json_array_size(list), 1);
    json_t *a = json_array_get(list, 0);
    assert_string_equal(json_string_value(json_object_get(a, "AliasName")), "alias/test/app");
    assert_string_equal(json_string_value(json_object_get(a, "AliasArn")), alias_arn);
    assert_string_equal(json_string_value(json_object_get(a, "TargetKeyId")), id);
    kms_reply_free(&r);

    /* Repointed, the old ciphertext names its key and still decrypts. */
    expect_ok("UpdateAlias", json_pack("{s:s, s:s}", "AliasName", "alias/test/app",
                                       "TargetKeyId", id2), &r);
    kms_reply_free(&r);
    expect_ok("DescribeKey", json_pack("{s:s}", "KeyId", "alias/test/app"), &r);
    assert_string_equal(json_string_value(json_object_get(json_object_get(r.body, "KeyMetadata"),
                                                          "KeyId")), id2);
    kms_reply_free(&r);
    expect_error("Decrypt", json_pack("{s:s, s:s}", "CiphertextBlob", blob, "KeyId",
                                      "alias/test/app"), "IncorrectKeyException", NULL);
    expect_ok("Decrypt", json_pack("{s:s}", "CiphertextBlob", blob), &r);
    kms_reply_free(&r);
    free(blob);

    expect_ok("DeleteAlias", json_pack("{s:s}", "AliasName", "alias/test/app"), &r);
    kms_reply_free(&r);
    expect_error("DescribeKey", json_pack("{s:s}", "KeyId", "alias/test/app"),
                 "NotFoundException", NULL);
    expect_error("DeleteAlias", json_pack("{s:s}", "AliasName", "alias/test/app"),
                 "NotFoundException", NULL);
    free(id);
    free(id2);
}

/* ---- the protocol's edges ------------------------------------------------------- */

static void test_authentication(void **state)
{
    (void)state;
    kms_reply r;
    /* A signature made with the wrong secret. */
    assert_int_equal(kms_call_as(&kms, "ListKeys", json_object(), "wrong-secret", NULL, &r), 0);
    assert_int_equal(r.status, 400);
    assert_string_equal(r.type, "InvalidSignatureException");
    kms_reply_free(&r);
    /* A stale one: libcurl signs with the X-Amz-Date it is given. */
    assert_int_equal(kms_call_as(&kms, "ListKeys", json_object(), NULL,
                                 "X-Amz-Date: 20200101T000000Z", &r), 0);
    assert_string_equal(r.type, "InvalidSignatureException");
    assert_non_null(strstr(r.message, "Signature expired"));
    kms_reply_free(&r);
    /* None at all. */
    assert_int_equal(kms_call_as(&kms, "ListKeys", json_object(), "", NULL, &r), 0);
    assert_string_equal(r.type, "MissingAuthenticationTokenException");
    kms_reply_free(&r);
    /* A session token this server never issued. */
    assert_int_equal(kms_call_as(&kms, "ListKeys", json_object(), NULL,
                                 "X-Amz-Security-Token: FQoGZXIvYXdzEJr", &r), 0);
    assert_string_equal(r.type, "UnrecognizedClientException");
    kms_reply_free(&r);
}

static void test_bad_requests(void **state)
{
    (void)state;
    expect_error("Sign", json_object(), "UnknownOperationException", NULL);
    expect_error("Encrypt", json_pack("{s:s}", "Plaintext", "aGk="), "ValidationException",
                 "keyId");
    expect_error("Encrypt", json_pack("{s:i, s:s}", "KeyId", 7, "Plaintext", "aGk="),
                 "SerializationException", "KeyId");
    expect_error("Encrypt", json_pack("{s:s, s:s}", "KeyId", "alias/none", "Plaintext", "aGk="),
                 "NotFoundException", NULL);
    expect_error("Encrypt", json_pack("{s:s, s:s}", "KeyId",
                                      "12345678-1234-4234-8234-123456789012", "Plaintext",
                                      "aGk="),
                 "NotFoundException", NULL);
    expect_error("Encrypt", json_pack("{s:s, s:s}", "KeyId",
                                      "arn:aws:kms:mars-1:" ACCOUNT
                                      ":key/12345678-1234-4234-8234-123456789012",
                                      "Plaintext", "aGk="),
                 "NotFoundException", NULL);
    char *id = create_key(NULL);
    expect_error("Encrypt", json_pack("{s:s, s:s}", "KeyId", id, "Plaintext", "!!!"),
                 "SerializationException", "base64");
    expect_error("Encrypt", json_pack("{s:s, s:s, s:{s:i}}", "KeyId", id, "Plaintext", "aGk=",
                                      "EncryptionContext", "a", 1),
                 "SerializationException", NULL);
    expect_error("DisableKey", json_pack("{s:s}", "KeyId", "alias/anything"),
                 "NotFoundException", "alias");
    free(id);
}

/* ---- key policies ---------------------------------------------------------------- */

static void test_key_policies(void **state)
{
    (void)state;
    const char *deny_encrypt =
        "{\"Version\":\"2012-10-17\",\"Statement\":["
        "{\"Sid\":\"admin\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::" ACCOUNT
        ":root\"},\"Action\":\"kms:*\",\"Resource\":\"*\"},"
        "{\"Sid\":\"no-encrypt\",\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"kms:Encrypt\","
        "\"Resource\":\"*\",\"Condition\":{\"StringNotEquals\":{\"kms:EncryptionContext:purpose\":"
        "\"test\"}}}]}";
    char *id = create_key(json_pack("{s:s}", "Policy", deny_encrypt));
    expect_error("Encrypt", json_pack("{s:s, s:s}", "KeyId", id, "Plaintext", "aGk="),
                 "AccessDeniedException", "explicitly denied by statement \"no-encrypt\"");
    char *blob = encrypt(id, "allowed", json_pack("{s:s}", "purpose", "test"));
    free(blob);

    /* The lockout check, and how to pass it deliberately. */
    const char *lockout = "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\","
                          "\"Action\":\"kms:Encrypt\"}]}";
    expect_error("PutKeyPolicy", json_pack("{s:s, s:s}", "KeyId", id, "Policy", lockout),
                 "MalformedPolicyDocumentException", "update the key policy");
    expect_error("PutKeyPolicy", json_pack("{s:s, s:s}", "KeyId", id, "Policy",
                                           "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":"
                                           "\"*\",\"Action\":\"kms:*\",\"Condition\":{"
                                           "\"NumericLessThan\":{\"a\":\"1\"}}}]}"),
                 "MalformedPolicyDocumentException", "NumericLessThan");
    kms_reply r;
    expect_ok("PutKeyPolicy", json_pack("{s:s, s:s, s:b}", "KeyId", id, "Policy", lockout,
                                        "BypassPolicyLockoutSafetyCheck", 1), &r);
    kms_reply_free(&r);
    blob = encrypt(id, "now anyone may encrypt", NULL);
    expect_error("Decrypt", json_pack("{s:s}", "CiphertextBlob", blob), "AccessDeniedException",
                 "kms:Decrypt");
    expect_error("DescribeKey", json_pack("{s:s}", "KeyId", id), "AccessDeniedException", NULL);
    free(blob);
    free(id);
}

/* ---- the Recipient flow ----------------------------------------------------------- */

static char *hex(const uint8_t *d, size_t n, bool upper)
{
    char *s = malloc(2 * n + 1);
    for (size_t i = 0; i < n; i++)
        snprintf(s + 2 * i, 3, upper ? "%02X" : "%02x", d[i]);
    return s;
}

/* A key whose Decrypt and GenerateDataKey need the attested PCR0 and image
 * of an enclave with PCRs seeded by `seed`. */
static char *enclave_key(uint8_t seed)
{
    uint8_t pcr0[48];
    memset(pcr0, seed, sizeof(pcr0));
    char *pcr = hex(pcr0, sizeof(pcr0), true); /* case must not matter */
    char policy[4096];
    snprintf(policy, sizeof(policy),
             "{\"Version\":\"2012-10-17\",\"Statement\":["
             "{\"Sid\":\"admin\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::"
             ACCOUNT ":root\"},\"NotAction\":[\"kms:Decrypt\",\"kms:GenerateDataKey\"],"
             "\"Resource\":\"*\"},"
             "{\"Sid\":\"enclave\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"*\"},"
             "\"Action\":[\"kms:Decrypt\",\"kms:GenerateDataKey\"],\"Resource\":\"*\","
             "\"Condition\":{\"StringEqualsIgnoreCase\":{"
             "\"kms:RecipientAttestation:PCR0\":\"%s\","
             "\"kms:RecipientAttestation:ImageSha384\":\"%s\"}}}]}",
             pcr, pcr);
    free(pcr);
    return create_key(json_pack("{s:s}", "Policy", policy));
}

/* An attestation document from `chain`, PCRs seeded by `seed`, made
 * `age_ms` ago, carrying `pk` (NULL: none). */
static json_t *document(const test_chain *chain, uint8_t seed, uint64_t age_ms,
                        const signer_buf *pk)
{
    signer_attestation_pcr pcrs[SIGNER_ATTESTATION_PCR_COUNT];
    test_pcrs_fill(pcrs, seed);
    signer_attestation_fields f = {
        .module_id = "i-0123456789abcdef0-enc0123456789abcdef",
        .timestamp_ms = test_now_ms() - age_ms,
        .pcrs = pcrs,
        .public_key = {pk ? pk->data : NULL, pk ? pk->len : 0, pk != NULL},
        .nonce = {(const uint8_t *)"nonce", 5, true},
    };
    signer_buf doc = SIGNER_BUF_INIT;
    assert_int_equal(test_doc_make(chain, &f, &doc), 0);
    json_t *s = b64_json(doc.data, doc.len);
    signer_buf_free(&doc);
    return s;
}

static json_t *recipient(json_t *doc)
{
    return json_pack("{s:s, s:o}", "KeyEncryptionAlgorithm", "RSAES_OAEP_SHA_256",
                     "AttestationDocument", doc);
}

/* Opens CiphertextForRecipient with OpenSSL's CMS_decrypt, the way an
 * enclave (or AWS's own SDK) does. */
static void cms_open(const uint8_t *der, size_t len, EVP_PKEY *key, signer_buf *out)
{
    BIO *in = BIO_new_mem_buf(der, (int)len);
    CMS_ContentInfo *cms = d2i_CMS_bio(in, NULL);
    assert_non_null(cms);
    assert_int_equal(OBJ_obj2nid(CMS_get0_type(cms)), NID_pkcs7_enveloped);
    BIO *plain = BIO_new(BIO_s_mem());
    if (CMS_decrypt(cms, key, NULL, NULL, plain, 0) != 1) {
        ERR_print_errors_fp(stderr);
        fail_msg("CMS_decrypt failed");
    }
    char *data = NULL;
    long n = BIO_get_mem_data(plain, &data);
    signer_buf_clear(out);
    assert_int_equal(signer_buf_append(out, data, (size_t)n, NULL), 0);
    BIO_free(plain);
    BIO_free(in);
    CMS_ContentInfo_free(cms);
}

static void unhex(const char *s, signer_buf *out)
{
    for (size_t i = 0; s[i] && s[i + 1]; i += 2) {
        unsigned v;
        sscanf(s + i, "%2x", &v);
        uint8_t b = (uint8_t)v;
        signer_buf_append(out, &b, 1, NULL);
    }
}

/* The helper opens what AWS really sends (the shared vector), so what it
 * opens of devkms's is opened the same way. */
static void test_cms_helper_opens_aws_vector(void **state)
{
    (void)state;
    json_error_t jerr;
    json_t *v = json_load_file(SIGNER_TEST_VECTORS_DIR "/kms-ciphertext-for-recipient.json", 0,
                               &jerr);
    assert_non_null(v);
    const char *pem = json_string_value(json_object_get(v, "recipient_private_key_pem"));
    BIO *b = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
    BIO_free(b);
    assert_non_null(key);
    signer_buf der = SIGNER_BUF_INIT, plain = SIGNER_BUF_INIT, want = SIGNER_BUF_INIT;
    assert_int_equal(b64_decode(json_string_value(json_object_get(v,
                                "ciphertext_for_recipient_base64")), &der), 0);
    cms_open(der.data, der.len, key, &plain);
    unhex(json_string_value(json_object_get(v, "plaintext_hex")), &want);
    assert_int_equal(plain.len, want.len);
    assert_memory_equal(plain.data, want.data, want.len);
    signer_buf_free(&der);
    signer_buf_free(&plain);
    signer_buf_free(&want);
    EVP_PKEY_free(key);
    json_decref(v);
}

/* devkms's CiphertextForRecipient has AWS's shape: BER with indefinite
 * lengths, EnvelopedData v2, KeyTransRecipientInfo v2 naming the key by
 * SHA-256 of its SPKI, RSAES-OAEP with SHA-256/MGF1-SHA-256 written as AWS
 * writes it, AES-256-CBC. */
static void expect_aws_shape(const signer_buf *cms)
{
    static const uint8_t envelope[] = {0x30, 0x80, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7,
                                       0x0d, 0x01, 0x07, 0x03, 0xa0, 0x80, 0x30, 0x80, 0x02,
                                       0x01, 0x02};
    static const uint8_t oaep[] = {
        0x30, 0x3c, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x07, 0x30, 0x2f,
        0xa0, 0x0f, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
        0x05, 0x00, 0xa1, 0x1c, 0x30, 0x1a, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01,
        0x01, 0x08, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
        0x05, 0x00};
    static const uint8_t aes256cbc[] = {0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04,
                                        0x01, 0x2a};
    assert_true(cms->len > sizeof(envelope));
    assert_memory_equal(cms->data, envelope, sizeof(envelope));
    assert_non_null(memmem(cms->data, cms->len, oaep, sizeof(oaep)));
    assert_non_null(memmem(cms->data, cms->len, aes256cbc, sizeof(aes256cbc)));
    uint8_t rid[34] = {0x80, 0x20};
    unsigned int n = 0;
    assert_int_equal(EVP_Digest(spki.data, spki.len, rid + 2, &n, EVP_sha256(), NULL), 1);
    static const uint8_t ktri_v2[] = {0x02, 0x01, 0x02};
    uint8_t *at = memmem(cms->data, cms->len, rid, sizeof(rid));
    assert_non_null(at);
    assert_memory_equal(at - 3, ktri_v2, 3);
}

static void open_for_recipient(const kms_reply *r, signer_buf *plain)
{
    assert_null(json_object_get(r->body, "Plaintext"));
    signer_buf cms = SIGNER_BUF_INIT;
    const char *cfr = reply_string(r, "CiphertextForRecipient");
    assert_non_null(cfr);
    assert_int_equal(b64_decode(cfr, &cms), 0);
    expect_aws_shape(&cms);
    cms_open(cms.data, cms.len, rsa, plain);
    signer_buf_free(&cms);
}

static void test_recipient_flow(void **state)
{
    (void)state;
    char *id = enclave_key(0x10);
    kms_reply r, d;
    signer_buf plain = SIGNER_BUF_INIT, key = SIGNER_BUF_INIT;

    /* The host seals (Encrypt is allowed to the account)... */
    char *blob = encrypt(id, "sealed private key", json_pack("{s:s}", "app", "signer"));
    /* ...but cannot unseal: the policy wants an attested enclave. */
    expect_error("Decrypt", json_pack("{s:s, s:{s:s}}", "CiphertextBlob", blob,
                                      "EncryptionContext", "app", "signer"),
                 "AccessDeniedException", "kms:RecipientAttestation:PCR0");
    /* The enclave can, and gets the plaintext only as CMS for its key. */
    expect_ok("Decrypt", json_pack("{s:s, s:{s:s}, s:o}", "CiphertextBlob", blob,
                                   "EncryptionContext", "app", "signer", "Recipient",
                                   recipient(document(&chain_a, 0x10, 0, &spki))), &r);
    assert_non_null(strstr(reply_string(&r, "KeyId"), id));
    open_for_recipient(&r, &plain);
    assert_int_equal(plain.len, strlen("sealed private key"));
    assert_memory_equal(plain.data, "sealed private key", plain.len);
    kms_reply_free(&r);

    /* GenerateDataKey: the data key sealed twice, for KMS and the enclave. */
    expect_ok("GenerateDataKey", json_pack("{s:s, s:s, s:o}", "KeyId", id, "KeySpec", "AES_256",
                                           "Recipient",
                                           recipient(document(&chain_a, 0x10, 0, &spki))), &r);
    open_for_recipient(&r, &key);
    assert_int_equal(key.len, 32);
    expect_ok("Decrypt", json_pack("{s:s, s:o}", "CiphertextBlob",
                                   reply_string(&r, "CiphertextBlob"), "Recipient",
                                   recipient(document(&chain_a, 0x10, 0, &spki))), &d);
    open_for_recipient(&d, &plain);
    assert_int_equal(plain.len, 32);
    assert_memory_equal(plain.data, key.data, 32);
    kms_reply_free(&d);
    kms_reply_free(&r);

    /* GenerateRandom needs no key: any verified document will do. */
    expect_ok("GenerateRandom", json_pack("{s:i, s:o}", "NumberOfBytes", 48, "Recipient",
                                          recipient(document(&chain_a, 0x77, 0, &spki))), &r);
    open_for_recipient(&r, &plain);
    assert_int_equal(plain.len, 48);
    kms_reply_free(&r);

    signer_buf_free(&plain);
    signer_buf_free(&key);
    free(blob);
    free(id);
}

static void test_recipient_refusals(void **state)
{
    (void)state;
    char *id = enclave_key(0x20);
    char *blob = encrypt(id, "secret", NULL);
#define DECRYPT_WITH(doc) \
    json_pack("{s:s, s:o}", "CiphertextBlob", blob, "Recipient", recipient(doc))

    /* Another enclave image: the PCRs do not match the policy. */
    expect_error("Decrypt", DECRYPT_WITH(document(&chain_a, 0x21, 0, &spki)),
                 "AccessDeniedException", "kms:RecipientAttestation:PCR0");
    /* Signed by a chain that does not lead to the configured root. */
    expect_error("Decrypt", DECRYPT_WITH(document(&chain_b, 0x20, 0, &spki)),
                 "AccessDeniedException", "certificate chain");
    /* A forged signature. */
    json_t *doc = document(&chain_a, 0x20, 0, &spki);
    signer_buf raw = SIGNER_BUF_INIT;
    assert_int_equal(b64_decode(json_string_value(doc), &raw), 0);
    json_decref(doc);
    raw.data[raw.len - 5] ^= 0x40;
    expect_error("Decrypt", DECRYPT_WITH(b64_json(raw.data, raw.len)), "AccessDeniedException",
                 "signature");
    /* A truncated document: malformed CBOR. */
    expect_error("Decrypt", DECRYPT_WITH(b64_json(raw.data, raw.len / 2)),
                 "AccessDeniedException", "malformed");
    static const uint8_t junk[] = {0xff, 0x00, 0x13, 0x37};
    expect_error("Decrypt", DECRYPT_WITH(b64_json(junk, sizeof(junk))), "AccessDeniedException",
                 "malformed");
    signer_buf_free(&raw);
    /* Ten minutes old (devkms accepts five). */
    expect_error("Decrypt", DECRYPT_WITH(document(&chain_a, 0x20, 10 * 60 * 1000, &spki)),
                 "AccessDeniedException", "too old");
    /* No key to encrypt for, or not an RSA key. */
    expect_error("Decrypt", DECRYPT_WITH(document(&chain_a, 0x20, 0, NULL)),
                 "AccessDeniedException", "public_key");
    EVP_PKEY *ec = EVP_EC_gen("P-256");
    unsigned char *der = NULL;
    int n = i2d_PUBKEY(ec, &der);
    signer_buf ec_spki = SIGNER_BUF_INIT;
    signer_buf_append(&ec_spki, der, (size_t)n, NULL);
    OPENSSL_free(der);
    EVP_PKEY_free(ec);
    expect_error("Decrypt", DECRYPT_WITH(document(&chain_a, 0x20, 0, &ec_spki)),
                 "AccessDeniedException", "RSA");
    signer_buf_free(&ec_spki);
    /* Only RSAES_OAEP_SHA_256 exists. */
    expect_error("Decrypt", json_pack("{s:s, s:{s:s, s:o}}", "CiphertextBlob", blob, "Recipient",
                                      "KeyEncryptionAlgorithm", "RSAES_OAEP_SHA_1",
                                      "AttestationDocument",
                                      document(&chain_a, 0x20, 0, &spki)),
                 "ValidationException", "RSAES_OAEP_SHA_256");
    /* GenerateRandom refuses bad documents too. */
    expect_error("GenerateRandom", json_pack("{s:i, s:o}", "NumberOfBytes", 8, "Recipient",
                                             recipient(document(&chain_b, 0x20, 0, &spki))),
                 "AccessDeniedException", "certificate chain");
#undef DECRYPT_WITH
    free(blob);
    free(id);
}

/* ---- parallel clients -------------------------------------------------------------- */

typedef struct worker {
    const char *key;
    int done;
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    for (int i = 0; i < 15; i++) {
        char text[64];
        snprintf(text, sizeof(text), "worker %p message %d", (void *)w, i);
        kms_reply r, d;
        if (kms_call(&kms, "Encrypt", json_pack("{s:s, s:o}", "KeyId", w->key, "Plaintext",
                                                b64_json((const uint8_t *)text, strlen(text))),
                     &r) != 0 || r.status != 200) {
            kms_reply_free(&r);
            continue;
        }
        if (kms_call(&kms, "Decrypt", json_pack("{s:s}", "CiphertextBlob",
                                                reply_string(&r, "CiphertextBlob")), &d) == 0 &&
            d.status == 200) {
            signer_buf p = SIGNER_BUF_INIT;
            if (b64_decode(reply_string(&d, "Plaintext"), &p) == 0 && p.len == strlen(text) &&
                memcmp(p.data, text, p.len) == 0)
                w->done++;
            signer_buf_free(&p);
        }
        kms_reply_free(&d);
        kms_reply_free(&r);
    }
    return NULL;
}

static void test_parallel_clients(void **state)
{
    (void)state;
    char *id = create_key(NULL);
    /* A client that connects and says nothing must not hold the others up. */
    int idle = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    addr.sin_port = htons((uint16_t)atoi(strrchr(kms.endpoint, ':') + 1));
    assert_int_equal(connect(idle, (struct sockaddr *)&addr, sizeof(addr)), 0);
    pthread_t t[6];
    worker w[6];
    for (int i = 0; i < 6; i++) {
        w[i] = (worker){id, 0};
        assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
    }
    for (int i = 0; i < 6; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(w[i].done, 15);
    }
    close(idle);
    free(id);
}

/* ---- logs and restarts ----------------------------------------------------------- */

static void test_log_has_no_secrets(void **state)
{
    (void)state;
    char *id = create_key(NULL);
    char *blob = encrypt(id, MARKER, NULL);
    kms_reply r;
    expect_ok("Decrypt", json_pack("{s:s}", "CiphertextBlob", blob), &r);
    kms_reply_free(&r);
    char *b64 = b64_encode((const uint8_t *)MARKER, strlen(MARKER));
    char *log = devkms_log(&kms);
    assert_non_null(log);
    char line[256];
    snprintf(line, sizeof(line), "op=Encrypt key=%s outcome=ok status=200 latency_ms=", id);
    assert_non_null(strstr(log, line));
    assert_non_null(strstr(log, "outcome=AccessDeniedException"));
    assert_null(strstr(log, MARKER));
    assert_null(strstr(log, b64));
    assert_null(strstr(log, kms.secret));
    free(log);
    free(b64);
    free(blob);
    free(id);
}

static char *file_text(const char *dir, const char *name)
{
    char path[400];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return NULL;
    char *text = calloc(1, 65536);
    size_t n = fread(text, 1, 65535, f);
    text[n] = '\0';
    fclose(f);
    return text;
}

static void test_restart_keeps_everything(void **state)
{
    (void)state;
    char *id = create_key(NULL);
    kms_reply r;
    expect_ok("CreateAlias", json_pack("{s:s, s:s}", "AliasName", "alias/restart",
                                       "TargetKeyId", id), &r);
    kms_reply_free(&r);
    char *blob = encrypt("alias/restart", "survives restarts", NULL);
    char *ca = file_text(state_dir, "ca.pem");
    char *creds = file_text(state_dir, "credentials.json");
    struct stat st;
    char path[400];
    snprintf(path, sizeof(path), "%s/master.key", state_dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);

    char root[300];
    snprintf(root, sizeof(root), "%s.root.pem", state_dir);
    const char *extra[] = {"--attestation-root", root, "--day-seconds", "1", NULL};
    devkms_stop(&kms, SIGTERM);
    assert_int_equal(devkms_start(&kms, state_dir, extra), 0);

    char *ca2 = file_text(state_dir, "ca.pem");
    char *creds2 = file_text(state_dir, "credentials.json");
    assert_string_equal(ca, ca2);
    assert_string_equal(creds, creds2);
    expect_ok("Decrypt", json_pack("{s:s, s:s}", "CiphertextBlob", blob, "KeyId",
                                   "alias/restart"), &r);
    expect_plaintext(&r, "Plaintext", "survives restarts", 17);
    kms_reply_free(&r);

    /* A second devkms on the same state is refused. */
    devkms_proc twin;
    assert_int_equal(devkms_start(&twin, state_dir, extra), -1);
    free(ca);
    free(ca2);
    free(creds);
    free(creds2);
    free(blob);
    free(id);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_lifecycle),
        cmocka_unit_test(test_create_key_refusals),
        cmocka_unit_test(test_encrypt_decrypt),
        cmocka_unit_test(test_data_keys_and_random),
        cmocka_unit_test(test_aliases),
        cmocka_unit_test(test_authentication),
        cmocka_unit_test(test_bad_requests),
        cmocka_unit_test(test_key_policies),
        cmocka_unit_test(test_cms_helper_opens_aws_vector),
        cmocka_unit_test(test_recipient_flow),
        cmocka_unit_test(test_recipient_refusals),
        cmocka_unit_test(test_parallel_clients),
        cmocka_unit_test(test_log_has_no_secrets),
        cmocka_unit_test(test_restart_keeps_everything),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
