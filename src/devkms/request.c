/* KMS requests: X-Amz-Target to an operation, and a JSON body to typed
 * arguments, validated the way KMS validates them. */
#include <openssl/evp.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "devkms.h"
#include "signer/memory.h"

static const char *const op_names[KMS_OP_COUNT] = {
    [KMS_OP_CREATE_KEY] = "CreateKey",
    [KMS_OP_DESCRIBE_KEY] = "DescribeKey",
    [KMS_OP_LIST_KEYS] = "ListKeys",
    [KMS_OP_GET_KEY_POLICY] = "GetKeyPolicy",
    [KMS_OP_PUT_KEY_POLICY] = "PutKeyPolicy",
    [KMS_OP_ENABLE_KEY] = "EnableKey",
    [KMS_OP_DISABLE_KEY] = "DisableKey",
    [KMS_OP_SCHEDULE_KEY_DELETION] = "ScheduleKeyDeletion",
    [KMS_OP_CANCEL_KEY_DELETION] = "CancelKeyDeletion",
    [KMS_OP_ENCRYPT] = "Encrypt",
    [KMS_OP_DECRYPT] = "Decrypt",
    [KMS_OP_GENERATE_DATA_KEY] = "GenerateDataKey",
    [KMS_OP_GENERATE_DATA_KEY_WITHOUT_PLAINTEXT] = "GenerateDataKeyWithoutPlaintext",
    [KMS_OP_GENERATE_RANDOM] = "GenerateRandom",
    [KMS_OP_CREATE_ALIAS] = "CreateAlias",
    [KMS_OP_UPDATE_ALIAS] = "UpdateAlias",
    [KMS_OP_DELETE_ALIAS] = "DeleteAlias",
    [KMS_OP_LIST_ALIASES] = "ListAliases",
};

const char *kms_op_name(kms_op op)
{
    return (unsigned)op < KMS_OP_COUNT ? op_names[op] : "Unknown";
}

int kms_op_from_target(const char *target, kms_op *op, kms_error *e)
{
    static const char prefix[] = "TrentService.";
    if (target == NULL || *target == '\0')
        return kms_fail(e, "UnknownOperationException",
                        "missing X-Amz-Target header (expected TrentService.<Operation>)");
    if (strncmp(target, prefix, sizeof(prefix) - 1) != 0)
        return kms_fail(e, "UnknownOperationException", "unknown X-Amz-Target");
    const char *name = target + sizeof(prefix) - 1;
    for (int i = 0; i < KMS_OP_COUNT; i++) {
        if (strcmp(name, op_names[i]) == 0) {
            *op = (kms_op)i;
            return 0;
        }
    }
    return kms_fail(e, "UnknownOperationException", "devkms does not implement this operation");
}

/* ---- base64 ------------------------------------------------------------- */

int kms_base64_decode(const char *text, size_t max, signer_buf *out)
{
    size_t n = strlen(text);
    if (n > (max / 3 + 1) * 4 + 8 || n > INT32_MAX)
        return -2; /* longer than `max` bytes could ever need */
    if (signer_buf_reserve(out, n / 4 * 3 + 3, NULL) != 0)
        return -1;
    EVP_ENCODE_CTX *ctx = EVP_ENCODE_CTX_new();
    if (ctx == NULL)
        return -1;
    int a = 0, b = 0, rc = -1;
    EVP_DecodeInit(ctx);
    if (EVP_DecodeUpdate(ctx, out->data + out->len, &a, (const unsigned char *)text, (int)n) >= 0 &&
        EVP_DecodeFinal(ctx, out->data + out->len + a, &b) == 1) {
        out->len += (size_t)(a + b);
        rc = 0;
    }
    EVP_ENCODE_CTX_free(ctx);
    return rc;
}

char *kms_base64_encode(const uint8_t *data, size_t len)
{
    char *text = malloc(4 * ((len + 2) / 3) + 1);
    if (text != NULL)
        EVP_EncodeBlock((unsigned char *)text, data, (int)len);
    return text;
}

/* ---- fields --------------------------------------------------------------- */

typedef enum field_kind {
    F_STRING,      /* const char * at offset */
    F_BLOB,        /* base64 -> signer_buf at offset */
    F_INT,         /* kms_opt_int */
    F_BOOL,        /* kms_opt_bool */
    F_CONTEXT,     /* EncryptionContext -> args->context */
    F_RECIPIENT,   /* Recipient -> has_recipient, recipient_algorithm, attestation_document */
    F_STRING_LIST, /* GrantTokens: checked, ignored */
    F_TAGS,        /* Tags: checked, ignored */
} field_kind;

typedef struct field_spec {
    const char *name;
    field_kind kind;
    bool required;
    long min, max; /* string/blob lengths, integer range */
    size_t offset;
} field_spec;

#define ARG(f) offsetof(kms_args, f)
#define KEY_ID {"KeyId", F_STRING, true, 1, 2048, ARG(key_id)}
#define KEY_ID_OPT {"KeyId", F_STRING, false, 1, 2048, ARG(key_id)}
#define GRANTS {"GrantTokens", F_STRING_LIST, false, 0, 10, 0}
#define CONTEXT {"EncryptionContext", F_CONTEXT, false, 0, 0, 0}
#define RECIPIENT {"Recipient", F_RECIPIENT, false, 0, 0, 0}
#define DRY_RUN {"DryRun", F_BOOL, false, 0, 0, ARG(dry_run)}
#define END {NULL, F_STRING, false, 0, 0, 0}

static const field_spec f_create_key[] = {
    {"Policy", F_STRING, false, 1, KMS_POLICY_MAX, ARG(policy)},
    {"Description", F_STRING, false, 0, 8192, ARG(description)},
    {"KeyUsage", F_STRING, false, 1, 64, ARG(key_usage)},
    {"KeySpec", F_STRING, false, 1, 64, ARG(key_spec)},
    {"CustomerMasterKeySpec", F_STRING, false, 1, 64, ARG(customer_master_key_spec)},
    {"Origin", F_STRING, false, 1, 64, ARG(origin)},
    {"CustomKeyStoreId", F_STRING, false, 1, 64, ARG(custom_key_store_id)},
    {"XksKeyId", F_STRING, false, 1, 128, ARG(xks_key_id)},
    {"BypassPolicyLockoutSafetyCheck", F_BOOL, false, 0, 0, ARG(bypass_lockout)},
    {"MultiRegion", F_BOOL, false, 0, 0, ARG(multi_region)},
    {"Tags", F_TAGS, false, 0, 50, 0},
    END,
};
static const field_spec f_key_only[] = {KEY_ID, GRANTS, END};
static const field_spec f_list[] = {
    {"Limit", F_INT, false, 1, 1000, ARG(limit)},
    {"Marker", F_STRING, false, 1, 1024, ARG(marker)},
    END,
};
static const field_spec f_get_policy[] = {
    KEY_ID, {"PolicyName", F_STRING, false, 1, 128, ARG(policy_name)}, END,
};
static const field_spec f_put_policy[] = {
    KEY_ID,
    {"PolicyName", F_STRING, false, 1, 128, ARG(policy_name)},
    {"Policy", F_STRING, true, 1, KMS_POLICY_MAX, ARG(policy)},
    {"BypassPolicyLockoutSafetyCheck", F_BOOL, false, 0, 0, ARG(bypass_lockout)},
    END,
};
static const field_spec f_schedule_deletion[] = {
    KEY_ID, {"PendingWindowInDays", F_INT, false, 7, 30, ARG(pending_window_days)}, END,
};
static const field_spec f_encrypt[] = {
    KEY_ID,
    {"Plaintext", F_BLOB, true, 1, KMS_PLAINTEXT_MAX, ARG(plaintext)},
    CONTEXT, GRANTS,
    {"EncryptionAlgorithm", F_STRING, false, 1, 64, ARG(encryption_algorithm)},
    DRY_RUN, END,
};
static const field_spec f_decrypt[] = {
    {"CiphertextBlob", F_BLOB, true, 1, KMS_CIPHERTEXT_MAX, ARG(ciphertext)},
    KEY_ID_OPT, CONTEXT, GRANTS,
    {"EncryptionAlgorithm", F_STRING, false, 1, 64, ARG(encryption_algorithm)},
    RECIPIENT, DRY_RUN, END,
};
static const field_spec f_data_key[] = {
    KEY_ID, CONTEXT, GRANTS,
    {"NumberOfBytes", F_INT, false, 1, KMS_DATA_KEY_MAX, ARG(number_of_bytes)},
    {"KeySpec", F_STRING, false, 1, 64, ARG(key_spec)},
    RECIPIENT, DRY_RUN, END,
};
static const field_spec f_data_key_no_plaintext[] = {
    KEY_ID, CONTEXT, GRANTS,
    {"NumberOfBytes", F_INT, false, 1, KMS_DATA_KEY_MAX, ARG(number_of_bytes)},
    {"KeySpec", F_STRING, false, 1, 64, ARG(key_spec)},
    DRY_RUN, END,
};
static const field_spec f_random[] = {
    {"NumberOfBytes", F_INT, false, 1, KMS_DATA_KEY_MAX, ARG(number_of_bytes)},
    {"CustomKeyStoreId", F_STRING, false, 1, 64, ARG(custom_key_store_id)},
    RECIPIENT, END,
};
static const field_spec f_alias_target[] = {
    {"AliasName", F_STRING, true, 1, KMS_ALIAS_MAX, ARG(alias_name)},
    {"TargetKeyId", F_STRING, true, 1, 2048, ARG(key_id)},
    END,
};
static const field_spec f_alias_only[] = {
    {"AliasName", F_STRING, true, 1, KMS_ALIAS_MAX, ARG(alias_name)}, END,
};
static const field_spec f_list_aliases[] = {
    KEY_ID_OPT,
    {"Limit", F_INT, false, 1, 1000, ARG(limit)},
    {"Marker", F_STRING, false, 1, 1024, ARG(marker)},
    END,
};

static const field_spec *const op_fields[KMS_OP_COUNT] = {
    [KMS_OP_CREATE_KEY] = f_create_key,
    [KMS_OP_DESCRIBE_KEY] = f_key_only,
    [KMS_OP_LIST_KEYS] = f_list,
    [KMS_OP_GET_KEY_POLICY] = f_get_policy,
    [KMS_OP_PUT_KEY_POLICY] = f_put_policy,
    [KMS_OP_ENABLE_KEY] = f_key_only,
    [KMS_OP_DISABLE_KEY] = f_key_only,
    [KMS_OP_SCHEDULE_KEY_DELETION] = f_schedule_deletion,
    [KMS_OP_CANCEL_KEY_DELETION] = f_key_only,
    [KMS_OP_ENCRYPT] = f_encrypt,
    [KMS_OP_DECRYPT] = f_decrypt,
    [KMS_OP_GENERATE_DATA_KEY] = f_data_key,
    [KMS_OP_GENERATE_DATA_KEY_WITHOUT_PLAINTEXT] = f_data_key_no_plaintext,
    [KMS_OP_GENERATE_RANDOM] = f_random,
    [KMS_OP_CREATE_ALIAS] = f_alias_target,
    [KMS_OP_UPDATE_ALIAS] = f_alias_target,
    [KMS_OP_DELETE_ALIAS] = f_alias_only,
    [KMS_OP_LIST_ALIASES] = f_list_aliases,
};

/* KMS names members in lowerCamelCase in its validation messages. */
static void camel(const char *name, char *out, size_t size)
{
    snprintf(out, size, "%s", name);
    if (out[0] >= 'A' && out[0] <= 'Z')
        out[0] = (char)(out[0] - 'A' + 'a');
}

static int invalid(kms_error *e, const char *name, const char *constraint)
{
    char member[64];
    camel(name, member, sizeof(member));
    return kms_fail(e, "ValidationException",
                    "1 validation error detected: Value at '%s' failed to satisfy constraint: "
                    "%s", member, constraint);
}

static int wrong_type(kms_error *e, const char *name, const char *expected)
{
    return kms_fail(e, "SerializationException", "%s must be %s", name, expected);
}

static int length_check(kms_error *e, const field_spec *f, size_t len)
{
    char constraint[96];
    if ((long)len < f->min) {
        snprintf(constraint, sizeof(constraint),
                 "Member must have length greater than or equal to %ld", f->min);
        return invalid(e, f->name, constraint);
    }
    if ((long)len > f->max) {
        snprintf(constraint, sizeof(constraint),
                 "Member must have length less than or equal to %ld", f->max);
        return invalid(e, f->name, constraint);
    }
    return 0;
}

static int string_field(const field_spec *f, const json_t *v, kms_args *args, kms_error *e)
{
    if (!json_is_string(v))
        return wrong_type(e, f->name, "a string");
    size_t len = json_string_length(v);
    if (memchr(json_string_value(v), '\0', len) != NULL)
        return wrong_type(e, f->name, "a string without NUL characters");
    if (length_check(e, f, len) != 0)
        return -1;
    *(const char **)((char *)args + f->offset) = json_string_value(v);
    return 0;
}

static int blob_field(const field_spec *f, const json_t *v, kms_args *args, kms_error *e)
{
    if (!json_is_string(v))
        return wrong_type(e, f->name, "a base64 string");
    signer_buf *out = (signer_buf *)((char *)args + f->offset);
    signer_buf_clear(out);
    int rc = kms_base64_decode(json_string_value(v), (size_t)f->max, out);
    if (rc == -2)
        return length_check(e, f, (size_t)f->max + 1);
    if (rc != 0)
        return wrong_type(e, f->name, "valid base64");
    return length_check(e, f, out->len);
}

static int int_field(const field_spec *f, const json_t *v, kms_args *args, kms_error *e)
{
    if (!json_is_integer(v))
        return wrong_type(e, f->name, "an integer");
    json_int_t n = json_integer_value(v);
    char constraint[96];
    if (n < f->min || n > f->max) {
        snprintf(constraint, sizeof(constraint), "Member must have value %s %ld",
                 n < f->min ? "greater than or equal to" : "less than or equal to",
                 n < f->min ? f->min : f->max);
        return invalid(e, f->name, constraint);
    }
    kms_opt_int *out = (kms_opt_int *)((char *)args + f->offset);
    out->present = true;
    out->value = (long)n;
    return 0;
}

static int bool_field(const field_spec *f, const json_t *v, kms_args *args, kms_error *e)
{
    if (!json_is_boolean(v))
        return wrong_type(e, f->name, "a boolean");
    kms_opt_bool *out = (kms_opt_bool *)((char *)args + f->offset);
    out->present = true;
    out->value = json_is_true(v);
    return 0;
}

static int context_compare(const void *a, const void *b)
{
    const char *const *x = a, *const *y = b;
    return strcmp(*x, *y);
}

/* EncryptionContext: a map of non-empty string keys to string values,
 * kept sorted by key (the AAD is canonical, whatever order JSON had). */
static int context_field(const json_t *v, kms_args *args, kms_error *e)
{
    if (!json_is_object(v))
        return wrong_type(e, "EncryptionContext", "a map of strings");
    size_t n = json_object_size(v);
    if (n > KMS_CONTEXT_MAX)
        return invalid(e, "EncryptionContext", "Member must have at most 64 entries");
    const char *pairs[KMS_CONTEXT_MAX][2];
    size_t i = 0, total = 0;
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)v, key, value) {
        if (!json_is_string(value))
            return wrong_type(e, "EncryptionContext values", "strings");
        if (*key == '\0')
            return invalid(e, "EncryptionContext", "Keys must not be empty");
        size_t vlen = json_string_length(value);
        if (memchr(json_string_value(value), '\0', vlen) != NULL)
            return wrong_type(e, "EncryptionContext values", "strings without NUL characters");
        total += strlen(key) + vlen;
        pairs[i][0] = key;
        pairs[i][1] = json_string_value(value);
        i++;
    }
    if (total > KMS_CONTEXT_BYTES_MAX)
        return invalid(e, "EncryptionContext", "Member must be at most 8192 bytes");
    qsort(pairs, n, sizeof(pairs[0]), context_compare);
    args->context.count = n;
    for (i = 0; i < n; i++) {
        args->context.keys[i] = pairs[i][0];
        args->context.values[i] = pairs[i][1];
    }
    return 0;
}

static int recipient_field(const json_t *v, kms_args *args, kms_error *e)
{
    if (!json_is_object(v))
        return wrong_type(e, "Recipient", "a structure");
    static const field_spec algorithm = {"KeyEncryptionAlgorithm", F_STRING, false, 1, 64,
                                         ARG(recipient_algorithm)};
    static const field_spec document = {"AttestationDocument", F_BLOB, false, 1,
                                        SIGNER_ATTESTATION_MAX_BYTES, ARG(attestation_document)};
    const json_t *a = json_object_get(v, algorithm.name);
    const json_t *d = json_object_get(v, document.name);
    if ((a != NULL && string_field(&algorithm, a, args, e) != 0) ||
        (d != NULL && blob_field(&document, d, args, e) != 0))
        return -1;
    args->has_recipient = true;
    return 0;
}

static int list_field(const field_spec *f, const json_t *v, kms_error *e)
{
    if (!json_is_array(v))
        return wrong_type(e, f->name, "a list");
    if (json_array_size(v) > (size_t)f->max)
        return invalid(e, f->name, "Member must have length less than or equal to the limit");
    size_t i;
    json_t *item;
    json_array_foreach(v, i, item) {
        if (f->kind == F_STRING_LIST && !json_is_string(item))
            return wrong_type(e, f->name, "a list of strings");
        if (f->kind == F_TAGS &&
            (!json_is_object(item) || !json_is_string(json_object_get(item, "TagKey")) ||
             !json_is_string(json_object_get(item, "TagValue"))))
            return wrong_type(e, f->name, "a list of {TagKey, TagValue}");
    }
    return 0;
}

static int read_field(const field_spec *f, const json_t *v, kms_args *args, kms_error *e)
{
    switch (f->kind) {
    case F_STRING: return string_field(f, v, args, e);
    case F_BLOB: return blob_field(f, v, args, e);
    case F_INT: return int_field(f, v, args, e);
    case F_BOOL: return bool_field(f, v, args, e);
    case F_CONTEXT: return context_field(v, args, e);
    case F_RECIPIENT: return recipient_field(v, args, e);
    case F_STRING_LIST:
    case F_TAGS: return list_field(f, v, e);
    }
    return wrong_type(e, f->name, "valid");
}

int kms_request_parse(kms_op op, const uint8_t *body, size_t len, json_t **root, kms_args *args,
                      kms_error *e)
{
    memset(args, 0, sizeof(*args));
    *root = NULL;
    if ((unsigned)op >= KMS_OP_COUNT)
        return kms_fail(e, "UnknownOperationException", "unknown operation");
    if (len > KMS_REQUEST_MAX)
        return kms_fail(e, "ValidationException", "request body too large");
    json_error_t jerr;
    json_t *doc = len == 0 ? json_object()
                           : json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (doc == NULL)
        return kms_fail(e, "SerializationException", "request body is not valid JSON");
    if (!json_is_object(doc)) {
        json_decref(doc);
        return kms_fail(e, "SerializationException", "request body must be a JSON object");
    }
    *root = doc;
    for (const field_spec *f = op_fields[op]; f->name != NULL; f++) {
        const json_t *v = json_object_get(doc, f->name);
        /* null is how some clients say "absent". */
        if (v == NULL || json_is_null(v)) {
            if (f->required) {
                char member[64];
                camel(f->name, member, sizeof(member));
                kms_fail(e, "ValidationException",
                         "1 validation error detected: Value null at '%s' failed to satisfy "
                         "constraint: Member must not be null", member);
                goto fail;
            }
            continue;
        }
        if (read_field(f, v, args, e) != 0)
            goto fail;
    }
    /* Unknown members are ignored, as AWS does for forward compatibility. */
    return 0;
fail:
    kms_request_free(*root, args);
    *root = NULL;
    return -1;
}

void kms_request_free(json_t *root, kms_args *args)
{
    if (args != NULL) {
        signer_buf_free(&args->plaintext);
        signer_buf_free(&args->ciphertext);
        signer_buf_free(&args->attestation_document);
        memset(args, 0, sizeof(*args));
    }
    if (root != NULL)
        json_decref(root);
}
