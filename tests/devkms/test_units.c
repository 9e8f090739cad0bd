/* devkms's parts on their own: the key policy language, the ciphertext
 * format, and request validation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "devkms.h"

#define ACCOUNT "111122223333"
#define ME "arn:aws:iam::" ACCOUNT ":user/devkms"
#define KEY "arn:aws:kms:us-east-1:" ACCOUNT ":key/1234abcd-12ab-44cd-86ef-1234567890ab"

static kms_policy_decision decide(const char *policy, const char *action, const char *k1,
                                  const char *v1, char *why, size_t why_len)
{
    kms_policy_request req = {.action = action, .principal = ME, .account_id = ACCOUNT,
                              .resource = KEY};
    if (k1 != NULL)
        kms_policy_request_add(&req, k1, v1);
    kms_error e;
    kms_policy_decision d;
    char scratch[400];
    if (kms_policy_check(policy, &e) != 0)
        fail_msg("policy refused: %s", e.message);
    if (kms_policy_evaluate(policy, &req, &d, why ? why : scratch, why ? why_len : sizeof(scratch),
                            &e) != 0)
        fail_msg("evaluate: %s", e.message);
    return d;
}

#define ALLOW(cond) \
    "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"kms:Decrypt\"," \
    "\"Resource\":\"*\",\"Condition\":" cond "}]}"

static void test_policy_operators(void **state)
{
    (void)state;
    const char *pcr = "kms:RecipientAttestation:PCR0";
    const char *eq = ALLOW("{\"StringEquals\":{\"kms:RecipientAttestation:PCR0\":[\"aa\",\"bb\"]}}");
    assert_int_equal(decide(eq, "kms:Decrypt", pcr, "bb", NULL, 0), KMS_POLICY_ALLOW);
    assert_int_equal(decide(eq, "kms:Decrypt", pcr, "BB", NULL, 0), KMS_POLICY_IMPLICIT_DENY);
    assert_int_equal(decide(eq, "kms:Decrypt", NULL, NULL, NULL, 0), KMS_POLICY_IMPLICIT_DENY);
    /* Condition key names are case-insensitive, as in IAM. */
    assert_int_equal(decide(eq, "kms:Decrypt", "KMS:recipientattestation:pcr0", "aa", NULL, 0),
                     KMS_POLICY_ALLOW);
    const char *ic =
        ALLOW("{\"StringEqualsIgnoreCase\":{\"kms:RecipientAttestation:ImageSha384\":\"AbCd\"}}");
    assert_int_equal(decide(ic, "kms:Decrypt", "kms:RecipientAttestation:ImageSha384", "abcd",
                            NULL, 0), KMS_POLICY_ALLOW);
    char why[400];
    assert_int_equal(decide(ic, "kms:Decrypt", "kms:RecipientAttestation:ImageSha384", "abce",
                            why, sizeof(why)), KMS_POLICY_IMPLICIT_DENY);
    assert_non_null(strstr(why, "ImageSha384"));
    assert_non_null(strstr(why, "abce"));
    const char *ne = ALLOW("{\"StringNotEquals\":{\"kms:EncryptionContext:app\":\"x\"}}");
    assert_int_equal(decide(ne, "kms:Decrypt", "kms:EncryptionContext:app", "y", NULL, 0),
                     KMS_POLICY_ALLOW);
    assert_int_equal(decide(ne, "kms:Decrypt", "kms:EncryptionContext:app", "x", NULL, 0),
                     KMS_POLICY_IMPLICIT_DENY);
    assert_int_equal(decide(ne, "kms:Decrypt", NULL, NULL, NULL, 0), KMS_POLICY_ALLOW);
    const char *like = ALLOW("{\"StringLike\":{\"kms:EncryptionContext:app\":\"sig?er*\"}}");
    assert_int_equal(decide(like, "kms:Decrypt", "kms:EncryptionContext:app", "signer-1", NULL,
                            0), KMS_POLICY_ALLOW);
    assert_int_equal(decide(like, "kms:Decrypt", "kms:EncryptionContext:app", "Signer", NULL, 0),
                     KMS_POLICY_IMPLICIT_DENY);
    const char *ifx = ALLOW("{\"StringEqualsIfExists\":{\"kms:EncryptionContext:app\":\"x\"}}");
    assert_int_equal(decide(ifx, "kms:Decrypt", NULL, NULL, NULL, 0), KMS_POLICY_ALLOW);
    assert_int_equal(decide(ifx, "kms:Decrypt", "kms:EncryptionContext:app", "y", NULL, 0),
                     KMS_POLICY_IMPLICIT_DENY);
    const char *null = ALLOW("{\"Null\":{\"kms:RecipientAttestation:PCR0\":\"false\"}}");
    assert_int_equal(decide(null, "kms:Decrypt", pcr, "aa", NULL, 0), KMS_POLICY_ALLOW);
    assert_int_equal(decide(null, "kms:Decrypt", NULL, NULL, NULL, 0), KMS_POLICY_IMPLICIT_DENY);
    /* Several keys: all must hold. */
    const char *both = ALLOW("{\"StringEquals\":{\"kms:RecipientAttestation:PCR0\":\"aa\","
                             "\"kms:RecipientAttestation:PCR8\":\"bb\"}}");
    assert_int_equal(decide(both, "kms:Decrypt", pcr, "aa", why, sizeof(why)),
                     KMS_POLICY_IMPLICIT_DENY);
    assert_non_null(strstr(why, "PCR8"));
}

static void test_policy_statements(void **state)
{
    (void)state;
    const char *p =
        "{\"Version\":\"2012-10-17\",\"Statement\":["
        "{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":[\"arn:aws:iam::999999999999:root\","
        "\"" ACCOUNT "\"]},\"Action\":[\"kms:Encrypt\",\"kms:Gen*\"],\"Resource\":\"*\"},"
        "{\"Sid\":\"nope\",\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"kms:GenerateRandom\"},"
        "{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::999999999999:root\"},"
        "\"Action\":\"kms:Decrypt\"},"
        "{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"" ME "\"},\"NotAction\":\"kms:Decrypt\","
        "\"NotResource\":\"arn:aws:kms:*:*:key/other\"}]}";
    char why[400];
    assert_int_equal(decide(p, "kms:Encrypt", NULL, NULL, NULL, 0), KMS_POLICY_ALLOW);
    assert_int_equal(decide(p, "KMS:generatedatakey", NULL, NULL, NULL, 0), KMS_POLICY_ALLOW);
    assert_int_equal(decide(p, "kms:GenerateRandom", NULL, NULL, why, sizeof(why)),
                     KMS_POLICY_EXPLICIT_DENY);
    assert_non_null(strstr(why, "\"nope\""));
    assert_int_equal(decide(p, "kms:Decrypt", NULL, NULL, NULL, 0), KMS_POLICY_IMPLICIT_DENY);
    assert_int_equal(decide(p, "kms:DescribeKey", NULL, NULL, NULL, 0), KMS_POLICY_ALLOW);
    const char *services = "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":{\"Service\":"
                           "\"ec2.amazonaws.com\"},\"Action\":\"*\"}}";
    assert_int_equal(decide(services, "kms:Encrypt", NULL, NULL, NULL, 0),
                     KMS_POLICY_IMPLICIT_DENY);
    char *def = kms_policy_default(ACCOUNT);
    assert_non_null(def);
    assert_int_equal(decide(def, "kms:Decrypt", NULL, NULL, NULL, 0), KMS_POLICY_ALLOW);
    free(def);
}

static void test_policy_refusals(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "", "[]", "{}", "{\"Statement\":[]}",
        "{\"Version\":\"2020-01-01\",\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\","
        "\"Action\":\"*\"}}",
        "{\"Statement\":{\"Effect\":\"Maybe\",\"Principal\":\"*\",\"Action\":\"*\"}}",
        "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\"}}",
        "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"someone\",\"Action\":\"*\"}}",
        "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\"}}",
        "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"*\","
        "\"NotAction\":\"*\"}}",
        "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":[]}}",
        "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"*\","
        "\"Condition\":{\"ForAnyValue:StringEquals\":{\"a\":\"b\"}}}}",
        "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"*\","
        "\"Condition\":{\"StringEquals\":{\"a\":{\"nested\":1}}}}}",
        "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"*\","
        "\"NotPrincipal\":\"*\"}}",
        "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"*\"},"
        "\"Statement\":{}}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        kms_error e;
        if (kms_policy_check(bad[i], &e) == 0)
            fail_msg("accepted: %s", bad[i]);
        assert_string_equal(e.type, "MalformedPolicyDocumentException");
    }
}

static void test_blob_format(void **state)
{
    (void)state;
    const char *id = "1234abcd-12ab-44cd-86ef-1234567890ab";
    uint8_t material[KMS_MATERIAL_BYTES], other[KMS_MATERIAL_BYTES];
    memset(material, 7, sizeof(material));
    memset(other, 8, sizeof(other));
    kms_context ctx = {.count = 2, .keys = {"a", "b"}, .values = {"1", "2"}};
    kms_context ctx2 = {.count = 2, .keys = {"a", "b"}, .values = {"1", "3"}};
    kms_context shifted = {.count = 2, .keys = {"a", "b1"}, .values = {"1b", "2"}};
    kms_context none = {0};
    signer_buf blob = SIGNER_BUF_INIT, plain = SIGNER_BUF_INIT;
    signer_error err;
    assert_int_equal(kms_blob_seal(id, material, &ctx, (const uint8_t *)"secret", 6, &blob, &err),
                     0);
    char got[KMS_KEY_ID_LEN + 1];
    assert_int_equal(kms_blob_key_id(blob.data, blob.len, got), 0);
    assert_string_equal(got, id);
    assert_int_equal(kms_blob_open(material, &ctx, blob.data, blob.len, &plain, &err), 0);
    assert_int_equal(plain.len, 6);
    assert_memory_equal(plain.data, "secret", 6);
    /* Length-prefixed context: moving bytes between key and value fails. */
    assert_int_equal(kms_blob_open(material, &shifted, blob.data, blob.len, &plain, &err), -1);
    assert_int_equal(kms_blob_open(material, &ctx2, blob.data, blob.len, &plain, &err), -1);
    assert_int_equal(kms_blob_open(material, &none, blob.data, blob.len, &plain, &err), -1);
    assert_int_equal(kms_blob_open(other, &ctx, blob.data, blob.len, &plain, &err), -1);
    for (size_t i = 0; i < blob.len; i++) {
        blob.data[i] ^= 0x80;
        assert_int_equal(kms_blob_open(material, &ctx, blob.data, blob.len, &plain, &err), -1);
        blob.data[i] ^= 0x80;
    }
    for (size_t n = 0; n < blob.len; n++)
        assert_int_equal(kms_blob_open(material, &ctx, blob.data, n, &plain, &err), -1);
    /* Two encryptions of the same thing differ (random IV). */
    signer_buf again = SIGNER_BUF_INIT;
    assert_int_equal(kms_blob_seal(id, material, &ctx, (const uint8_t *)"secret", 6, &again,
                                   &err), 0);
    assert_int_equal(again.len, blob.len);
    assert_memory_not_equal(again.data, blob.data, blob.len);
    signer_buf_free(&again);
    signer_buf_free(&blob);
    signer_buf_free(&plain);
}

static void expect_parse_error(kms_op op, const char *body, const char *type, const char *needle)
{
    json_t *root;
    kms_args args;
    kms_error e;
    if (kms_request_parse(op, (const uint8_t *)body, strlen(body), &root, &args, &e) == 0)
        fail_msg("%s accepted: %s", kms_op_name(op), body);
    assert_string_equal(e.type, type);
    if (needle && strstr(e.message, needle) == NULL)
        fail_msg("\"%s\" does not mention %s", e.message, needle);
}

static void test_request_validation(void **state)
{
    (void)state;
    json_t *root;
    kms_args args;
    kms_error e;
    const char *ok = "{\"KeyId\":\"k\",\"Plaintext\":\"aGk=\",\"EncryptionContext\":"
                     "{\"z\":\"1\",\"a\":\"2\"},\"Unknown\":[1,2]}";
    assert_int_equal(kms_request_parse(KMS_OP_ENCRYPT, (const uint8_t *)ok, strlen(ok), &root,
                                       &args, &e), 0);
    assert_string_equal(args.key_id, "k");
    assert_int_equal(args.plaintext.len, 2);
    assert_int_equal(args.context.count, 2);
    assert_string_equal(args.context.keys[0], "a"); /* sorted */
    kms_request_free(root, &args);
    assert_int_equal(kms_request_parse(KMS_OP_LIST_KEYS, NULL, 0, &root, &args, &e), 0);
    kms_request_free(root, &args);

    expect_parse_error(KMS_OP_ENCRYPT, "{", "SerializationException", NULL);
    expect_parse_error(KMS_OP_ENCRYPT, "[]", "SerializationException", NULL);
    expect_parse_error(KMS_OP_ENCRYPT, "{\"KeyId\":\"k\",\"KeyId\":\"j\",\"Plaintext\":\"aGk=\"}",
                       "SerializationException", NULL);
    expect_parse_error(KMS_OP_ENCRYPT, "{\"Plaintext\":\"aGk=\"}", "ValidationException",
                       "'keyId'");
    expect_parse_error(KMS_OP_ENCRYPT, "{\"KeyId\":\"\",\"Plaintext\":\"aGk=\"}",
                       "ValidationException", "greater than or equal to 1");
    expect_parse_error(KMS_OP_ENCRYPT, "{\"KeyId\":\"k\",\"Plaintext\":\"a!==\"}",
                       "SerializationException", "base64");
    expect_parse_error(KMS_OP_ENCRYPT, "{\"KeyId\":\"k\",\"Plaintext\":\"aGk=\","
                       "\"EncryptionContext\":{\"\":\"x\"}}", "ValidationException", NULL);
    expect_parse_error(KMS_OP_GENERATE_RANDOM, "{\"NumberOfBytes\":1.5}",
                       "SerializationException", "integer");
    expect_parse_error(KMS_OP_GENERATE_RANDOM, "{\"NumberOfBytes\":-1}", "ValidationException",
                       "greater than or equal to 1");
    expect_parse_error(KMS_OP_SCHEDULE_KEY_DELETION, "{\"KeyId\":\"k\",\"PendingWindowInDays\":31}",
                       "ValidationException", "30");
    expect_parse_error(KMS_OP_DECRYPT, "{\"CiphertextBlob\":\"aGk=\",\"Recipient\":\"x\"}",
                       "SerializationException", "Recipient");
    expect_parse_error(KMS_OP_CREATE_KEY, "{\"Tags\":[{\"TagKey\":1}]}", "SerializationException",
                       "Tags");
    expect_parse_error(KMS_OP_ENCRYPT, "{\"KeyId\":\"k\\u0000x\",\"Plaintext\":\"aGk=\"}",
                       "SerializationException", NULL);
    kms_op op;
    assert_int_equal(kms_op_from_target("TrentService.GenerateDataKey", &op, &e), 0);
    assert_int_equal(op, KMS_OP_GENERATE_DATA_KEY);
    assert_int_equal(kms_op_from_target("TrentService.Sign", &op, &e), -1);
    assert_int_equal(kms_op_from_target("OtherService.Encrypt", &op, &e), -1);
    assert_int_equal(kms_op_from_target(NULL, &op, &e), -1);
    assert_string_equal(e.type, "UnknownOperationException");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_policy_operators),
        cmocka_unit_test(test_policy_statements),
        cmocka_unit_test(test_policy_refusals),
        cmocka_unit_test(test_blob_format),
        cmocka_unit_test(test_request_validation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
