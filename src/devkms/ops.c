/* Dispatch, and what every operation on a key shares: finding the key the
 * way KMS accepts references to it, the key policy check, KeyMetadata. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ops.h"
#include "signer/memory.h"

static const ops_handler handlers[KMS_OP_COUNT] = {
    [KMS_OP_CREATE_KEY] = ops_create_key,
    [KMS_OP_DESCRIBE_KEY] = ops_describe_key,
    [KMS_OP_LIST_KEYS] = ops_list_keys,
    [KMS_OP_GET_KEY_POLICY] = ops_get_key_policy,
    [KMS_OP_PUT_KEY_POLICY] = ops_put_key_policy,
    [KMS_OP_ENABLE_KEY] = ops_enable_key,
    [KMS_OP_DISABLE_KEY] = ops_disable_key,
    [KMS_OP_SCHEDULE_KEY_DELETION] = ops_schedule_key_deletion,
    [KMS_OP_CANCEL_KEY_DELETION] = ops_cancel_key_deletion,
    [KMS_OP_ENCRYPT] = ops_encrypt,
    [KMS_OP_DECRYPT] = ops_decrypt,
    [KMS_OP_GENERATE_DATA_KEY] = ops_generate_data_key,
    [KMS_OP_GENERATE_DATA_KEY_WITHOUT_PLAINTEXT] = ops_generate_data_key_without_plaintext,
    [KMS_OP_GENERATE_RANDOM] = ops_generate_random,
    [KMS_OP_CREATE_ALIAS] = ops_create_alias,
    [KMS_OP_UPDATE_ALIAS] = ops_update_alias,
    [KMS_OP_DELETE_ALIAS] = ops_delete_alias,
    [KMS_OP_LIST_ALIASES] = ops_list_aliases,
};

int kms_dispatch(devkms *kms, kms_op op, const kms_args *args, json_t **response,
                 kms_outcome *outcome, kms_error *e)
{
    *response = NULL;
    memset(outcome, 0, sizeof(*outcome));
    if ((unsigned)op >= KMS_OP_COUNT)
        return kms_fail(e, "UnknownOperationException", "unknown operation");
    int rc = handlers[op](kms, args, response, outcome, e);
    if (rc != 0 && *response != NULL) {
        json_decref(*response);
        *response = NULL;
    }
    return rc;
}

int64_t ops_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

json_t *ops_date(int64_t ms)
{
    return json_real((double)ms / 1000.0);
}

int ops_dry_run(kms_error *e)
{
    return kms_fail(e, "DryRunOperationException",
                    "The request would have succeeded, but the DryRun option is set.");
}

void ops_key_arn(const devkms *kms, const char *id, char *out, size_t size)
{
    snprintf(out, size, "arn:aws:kms:%s:%s:key/%s", kms->creds.region, kms->cfg.account_id, id);
}

void ops_alias_arn(const devkms *kms, const char *name, char *out, size_t size)
{
    snprintf(out, size, "arn:aws:kms:%s:%s:%s", kms->creds.region, kms->cfg.account_id, name);
}

static bool is_key_id(const char *s)
{
    if (strlen(s) != KMS_KEY_ID_LEN)
        return false;
    for (int i = 0; i < KMS_KEY_ID_LEN; i++) {
        char c = s[i];
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    }
    return true;
}

/* "arn:aws:kms:<region>:<account>:<rest>" of this server -> rest. */
static const char *arn_rest(const devkms *kms, const char *ref)
{
    char prefix[160];
    int n = snprintf(prefix, sizeof(prefix), "arn:aws:kms:%s:%s:", kms->creds.region,
                     kms->cfg.account_id);
    return strncmp(ref, prefix, (size_t)n) == 0 ? ref + n : NULL;
}

static int not_found(kms_error *e, const char *ref)
{
    return kms_fail(e, "NotFoundException", "Key '%.300s' does not exist", ref);
}

int ops_key_find(devkms *kms, const char *ref, bool allow_alias, ops_key *key,
                 kms_outcome *outcome, kms_error *e)
{
    memset(key, 0, sizeof(*key));
    const char *id = ref;
    bool arn = strncmp(ref, "arn:", 4) == 0;
    if (arn) {
        const char *rest = arn_rest(kms, ref);
        if (rest == NULL)
            return not_found(e, ref); /* another region or account */
        id = strncmp(rest, "key/", 4) == 0 ? rest + 4 : rest;
    }
    char alias_target[KMS_KEY_ID_LEN + 1];
    signer_error err;
    if (strncmp(id, "alias/", 6) == 0) {
        if (!allow_alias)
            return kms_fail(e, "NotFoundException",
                            "%s does not accept an alias (%.300s): use the key ID or key ARN",
                            "this operation", ref);
        kms_alias_row alias;
        bool found;
        if (kms_store_alias_get(kms->store, id, &alias, &found, &err) != 0)
            return kms_fail_internal(e, &err);
        if (!found)
            return kms_fail(e, "NotFoundException", "Alias %.300s is not found.", ref);
        memcpy(alias_target, alias.key_id, sizeof(alias_target));
        id = alias_target;
    } else if (arn && strncmp(arn_rest(kms, ref), "key/", 4) != 0) {
        return not_found(e, ref);
    }
    if (!is_key_id(id))
        return kms_fail(e, "NotFoundException", "Invalid keyId %.300s", ref);
    bool found;
    if (kms_store_key_get(kms->store, id, &key->row, &found, &err) != 0)
        return kms_fail_internal(e, &err);
    if (found && key->row.state == KMS_KEY_PENDING_DELETION &&
        key->row.deletion_ms <= ops_now_ms()) {
        /* The waiting period is over: the key is gone for good. */
        kms_key_row_free(&key->row);
        found = false;
        if (kms_store_purge_expired(kms->store, ops_now_ms(), &err) != 0)
            return kms_fail_internal(e, &err);
    }
    if (!found)
        return not_found(e, ref);
    ops_key_arn(kms, key->row.id, key->arn, sizeof(key->arn));
    if (outcome != NULL)
        memcpy(outcome->key_id, key->row.id, sizeof(outcome->key_id));
    return 0;
}

void ops_key_free(ops_key *key)
{
    kms_key_row_free(&key->row);
}

int ops_key_enabled(const ops_key *key, kms_error *e)
{
    if (key->row.state == KMS_KEY_DISABLED)
        return kms_fail(e, "DisabledException", "%s is disabled.", key->arn);
    return ops_key_not_pending(key, e);
}

int ops_key_not_pending(const ops_key *key, kms_error *e)
{
    if (key->row.state == KMS_KEY_PENDING_DELETION)
        return kms_fail(e, "KMSInvalidStateException", "%s is pending deletion.", key->arn);
    return 0;
}

int ops_key_material(devkms *kms, const ops_key *key, uint8_t material[KMS_MATERIAL_BYTES],
                     kms_error *e)
{
    signer_error err;
    if (devkms_keyring_unwrap(&kms->keyring, key->row.id, key->row.wrapped.data,
                              key->row.wrapped.len, material, &err) != 0)
        return kms_fail_internal(e, &err);
    return 0;
}

void ops_auth_init(devkms *kms, const ops_key *key, kms_op op, ops_auth *auth)
{
    memset(auth, 0, sizeof(*auth));
    snprintf(auth->action, sizeof(auth->action), "kms:%s", kms_op_name(op));
    auth->req.action = auth->action;
    auth->req.principal = kms->principal_arn;
    auth->req.account_id = kms->cfg.account_id;
    auth->req.resource = key->arn;
    kms_policy_request_add(&auth->req, "kms:CallerAccount", kms->cfg.account_id);
    kms_policy_request_add(&auth->req, "aws:PrincipalArn", kms->principal_arn);
    if (op == KMS_OP_ENCRYPT || op == KMS_OP_DECRYPT)
        kms_policy_request_add(&auth->req, "kms:EncryptionAlgorithm", "SYMMETRIC_DEFAULT");
}

int ops_auth_add_context(ops_auth *auth, const kms_context *ctx, kms_error *e)
{
    for (size_t i = 0; i < ctx->count; i++) {
        size_t n = strlen(ctx->keys[i]) + sizeof("kms:EncryptionContext:");
        char *name = malloc(n);
        if (name == NULL)
            return kms_fail(e, "KMSInternalException", "devkms: out of memory");
        snprintf(name, n, "kms:EncryptionContext:%s", ctx->keys[i]);
        auth->owned[auth->owned_count++] = name;
        if (kms_policy_request_add(&auth->req, name, ctx->values[i]) != 0)
            return kms_fail(e, "ValidationException", "too many condition keys");
    }
    return 0;
}

int ops_auth_check(devkms *kms, const ops_key *key, ops_auth *auth, kms_error *e)
{
    kms_policy_decision decision;
    char why[400];
    if (kms_policy_evaluate(key->row.policy, &auth->req, &decision, why, sizeof(why), e) != 0)
        return kms_fail(e, "KMSInternalException", "devkms: the stored key policy of %s no "
                        "longer parses", key->arn);
    if (decision == KMS_POLICY_ALLOW)
        return 0;
    (void)kms;
    return kms_fail(e, "AccessDeniedException",
                    "User: %s is not authorized to perform: %s on resource: %s because %s",
                    auth->req.principal, auth->action, key->arn, why);
}

void ops_auth_free(ops_auth *auth)
{
    for (size_t i = 0; i < auth->owned_count; i++)
        free(auth->owned[i]);
    auth->owned_count = 0;
}

json_t *ops_key_metadata(devkms *kms, const ops_key *key)
{
    const kms_key_row *r = &key->row;
    json_t *m = json_object();
    if (m == NULL)
        return NULL;
    json_object_set_new(m, "AWSAccountId", json_string(kms->cfg.account_id));
    json_object_set_new(m, "KeyId", json_string(r->id));
    json_object_set_new(m, "Arn", json_string(key->arn));
    json_object_set_new(m, "CreationDate", ops_date(r->created_ms));
    json_object_set_new(m, "Enabled", json_boolean(r->state == KMS_KEY_ENABLED));
    json_object_set_new(m, "Description", json_string(r->description ? r->description : ""));
    json_object_set_new(m, "KeyUsage", json_string("ENCRYPT_DECRYPT"));
    json_object_set_new(m, "KeyState", json_string(kms_key_state_name(r->state)));
    if (r->state == KMS_KEY_PENDING_DELETION) {
        json_object_set_new(m, "DeletionDate", ops_date(r->deletion_ms));
        json_object_set_new(m, "PendingDeletionWindowInDays", json_integer(r->pending_days));
    }
    json_object_set_new(m, "Origin", json_string("AWS_KMS"));
    json_object_set_new(m, "KeyManager", json_string("CUSTOMER"));
    json_object_set_new(m, "CustomerMasterKeySpec", json_string("SYMMETRIC_DEFAULT"));
    json_object_set_new(m, "KeySpec", json_string("SYMMETRIC_DEFAULT"));
    json_object_set_new(m, "EncryptionAlgorithms", json_pack("[s]", "SYMMETRIC_DEFAULT"));
    json_object_set_new(m, "MultiRegion", json_false());
    return m;
}

int ops_policy_accept(devkms *kms, const char *policy, const char *key_arn, bool bypass,
                      kms_error *e)
{
    if (kms_policy_check(policy, e) != 0)
        return -1;
    if (bypass)
        return 0;
    /* KMS's lockout safety check: the caller must still be able to change
     * the policy afterwards. */
    kms_policy_request req = {
        .action = "kms:PutKeyPolicy", .principal = kms->principal_arn,
        .account_id = kms->cfg.account_id, .resource = key_arn,
    };
    kms_policy_request_add(&req, "kms:CallerAccount", kms->cfg.account_id);
    kms_policy_request_add(&req, "aws:PrincipalArn", kms->principal_arn);
    kms_policy_decision decision;
    char why[400];
    if (kms_policy_evaluate(policy, &req, &decision, why, sizeof(why), e) != 0)
        return -1;
    if (decision != KMS_POLICY_ALLOW)
        return kms_fail(e, "MalformedPolicyDocumentException",
                        "The new key policy will not allow you to update the key policy in the "
                        "future (%s); set BypassPolicyLockoutSafetyCheck to set it anyway", why);
    return 0;
}
