/* Key lifecycle: CreateKey, DescribeKey, ListKeys, Get/PutKeyPolicy,
 * Enable/DisableKey, Schedule/CancelKeyDeletion. */
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"
#include "signer/memory.h"

static int new_key_id(char id[KMS_KEY_ID_LEN + 1], kms_error *e)
{
    uint8_t r[16];
    if (RAND_bytes(r, sizeof(r)) != 1)
        return kms_fail(e, "KMSInternalException", "devkms: no randomness");
    r[6] = (uint8_t)((r[6] & 0x0f) | 0x40); /* UUID version 4 */
    r[8] = (uint8_t)((r[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    snprintf(id, KMS_KEY_ID_LEN + 1,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", r[0], r[1],
             r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14],
             r[15]);
    return 0;
}

/* devkms makes symmetric AWS_KMS keys only; say so rather than pretend. */
static int check_create_args(const kms_args *a, kms_error *e)
{
    if (a->key_spec && a->customer_master_key_spec)
        return kms_fail(e, "ValidationException",
                        "You cannot specify KeySpec and CustomerMasterKeySpec in the same request.");
    const char *spec = a->key_spec ? a->key_spec : a->customer_master_key_spec;
    if (spec && strcmp(spec, "SYMMETRIC_DEFAULT") != 0)
        return kms_fail(e, "UnsupportedOperationException",
                        "devkms creates SYMMETRIC_DEFAULT keys only, not %s", spec);
    if (a->key_usage && strcmp(a->key_usage, "ENCRYPT_DECRYPT") != 0)
        return kms_fail(e, "UnsupportedOperationException",
                        "devkms creates ENCRYPT_DECRYPT keys only, not %s", a->key_usage);
    if (a->origin && strcmp(a->origin, "AWS_KMS") != 0)
        return kms_fail(e, "UnsupportedOperationException",
                        "devkms creates keys with Origin AWS_KMS only, not %s", a->origin);
    if (a->custom_key_store_id || a->xks_key_id)
        return kms_fail(e, "UnsupportedOperationException", "devkms has no custom key stores");
    if (a->multi_region.present && a->multi_region.value)
        return kms_fail(e, "UnsupportedOperationException", "devkms has no multi-Region keys");
    return 0;
}

int ops_create_key(devkms *kms, const kms_args *a, json_t **response, kms_outcome *outcome,
                   kms_error *e)
{
    if (check_create_args(a, e) != 0)
        return -1;
    ops_key key;
    memset(&key, 0, sizeof(key));
    if (new_key_id(key.row.id, e) != 0)
        return -1;
    ops_key_arn(kms, key.row.id, key.arn, sizeof(key.arn));
    int rc = -1;
    uint8_t material[KMS_MATERIAL_BYTES];
    signer_error err;
    key.row.created_ms = ops_now_ms();
    key.row.state = KMS_KEY_ENABLED;
    key.row.description = strdup(a->description ? a->description : "");
    key.row.policy = a->policy ? strdup(a->policy) : kms_policy_default(kms->cfg.account_id);
    if (key.row.description == NULL || key.row.policy == NULL) {
        kms_fail(e, "KMSInternalException", "devkms: out of memory");
        goto out;
    }
    if (a->policy && ops_policy_accept(kms, a->policy, key.arn,
                                       a->bypass_lockout.present && a->bypass_lockout.value,
                                       e) != 0)
        goto out;
    if (RAND_priv_bytes(material, sizeof(material)) != 1) {
        kms_fail(e, "KMSInternalException", "devkms: no randomness");
        goto out;
    }
    if (devkms_keyring_wrap(&kms->keyring, key.row.id, material, &key.row.wrapped, &err) != 0 ||
        kms_store_key_insert(kms->store, &key.row, &err) != 0) {
        kms_fail_internal(e, &err);
        goto out;
    }
    /* Committed (synchronous=FULL) before the answer leaves. */
    memcpy(outcome->key_id, key.row.id, sizeof(outcome->key_id));
    *response = json_pack("{s:o}", "KeyMetadata", ops_key_metadata(kms, &key));
    rc = *response ? 0 : kms_fail(e, "KMSInternalException", "devkms: out of memory");
out:
    signer_wipe(material, sizeof(material));
    ops_key_free(&key);
    return rc;
}

int ops_describe_key(devkms *kms, const kms_args *a, json_t **response, kms_outcome *outcome,
                     kms_error *e)
{
    ops_key key;
    if (ops_key_find(kms, a->key_id, true, &key, outcome, e) != 0)
        return -1;
    ops_auth auth;
    ops_auth_init(kms, &key, KMS_OP_DESCRIBE_KEY, &auth);
    int rc = ops_auth_check(kms, &key, &auth, e);
    if (rc == 0) {
        *response = json_pack("{s:o}", "KeyMetadata", ops_key_metadata(kms, &key));
        if (*response == NULL)
            rc = kms_fail(e, "KMSInternalException", "devkms: out of memory");
    }
    ops_auth_free(&auth);
    ops_key_free(&key);
    return rc;
}

int ops_list_keys(devkms *kms, const kms_args *a, json_t **response, kms_outcome *outcome,
                  kms_error *e)
{
    (void)outcome;
    size_t limit = a->limit.present ? (size_t)a->limit.value : 100;
    char (*ids)[KMS_KEY_ID_LEN + 1] = calloc(limit, sizeof(*ids));
    if (ids == NULL)
        return kms_fail(e, "KMSInternalException", "devkms: out of memory");
    size_t count;
    bool more;
    signer_error err;
    int rc = -1;
    if (kms_store_purge_expired(kms->store, ops_now_ms(), &err) != 0 ||
        kms_store_key_list(kms->store, a->marker, limit, ids, &count, &more, &err) != 0) {
        kms_fail_internal(e, &err);
        goto out;
    }
    json_t *keys = json_array();
    for (size_t i = 0; keys != NULL && i < count; i++) {
        char arn[192];
        ops_key_arn(kms, ids[i], arn, sizeof(arn));
        json_array_append_new(keys, json_pack("{s:s, s:s}", "KeyId", ids[i], "KeyArn", arn));
    }
    *response = json_pack("{s:o, s:b}", "Keys", keys, "Truncated", more);
    if (*response != NULL && more)
        json_object_set_new(*response, "NextMarker", json_string(ids[count - 1]));
    rc = *response ? 0 : kms_fail(e, "KMSInternalException", "devkms: out of memory");
out:
    free(ids);
    return rc;
}

/* Shared shape of the operations that find a key, check the policy, then
 * act: `act` runs once both passed. */
typedef int (*key_action)(devkms *kms, const kms_args *a, ops_key *key, json_t **response,
                          kms_error *e);

static int with_key(devkms *kms, const kms_args *a, kms_op op, key_action act,
                    json_t **response, kms_outcome *outcome, kms_error *e)
{
    ops_key key;
    if (ops_key_find(kms, a->key_id, false, &key, outcome, e) != 0)
        return -1;
    ops_auth auth;
    ops_auth_init(kms, &key, op, &auth);
    int rc = ops_auth_check(kms, &key, &auth, e);
    if (rc == 0)
        rc = act(kms, a, &key, response, e);
    ops_auth_free(&auth);
    ops_key_free(&key);
    return rc;
}

static int empty_answer(json_t **response, kms_error *e)
{
    *response = json_object();
    return *response ? 0 : kms_fail(e, "KMSInternalException", "devkms: out of memory");
}

static int check_policy_name(const kms_args *a, kms_error *e)
{
    if (a->policy_name && strcmp(a->policy_name, "default") != 0)
        return kms_fail(e, "NotFoundException", "No such policy exists: %s (the only key "
                        "policy is \"default\")", a->policy_name);
    return 0;
}

static int get_policy(devkms *kms, const kms_args *a, ops_key *key, json_t **response,
                      kms_error *e)
{
    (void)kms;
    if (check_policy_name(a, e) != 0)
        return -1;
    *response = json_pack("{s:s, s:s}", "Policy", key->row.policy, "PolicyName", "default");
    return *response ? 0 : kms_fail(e, "KMSInternalException", "devkms: out of memory");
}

int ops_get_key_policy(devkms *kms, const kms_args *a, json_t **response, kms_outcome *outcome,
                       kms_error *e)
{
    return with_key(kms, a, KMS_OP_GET_KEY_POLICY, get_policy, response, outcome, e);
}

static int put_policy(devkms *kms, const kms_args *a, ops_key *key, json_t **response,
                      kms_error *e)
{
    if (check_policy_name(a, e) != 0 || ops_key_not_pending(key, e) != 0 ||
        ops_policy_accept(kms, a->policy, key->arn,
                          a->bypass_lockout.present && a->bypass_lockout.value, e) != 0)
        return -1;
    signer_error err;
    if (kms_store_key_set_policy(kms->store, key->row.id, a->policy, &err) != 0)
        return kms_fail_internal(e, &err);
    return empty_answer(response, e);
}

int ops_put_key_policy(devkms *kms, const kms_args *a, json_t **response, kms_outcome *outcome,
                       kms_error *e)
{
    return with_key(kms, a, KMS_OP_PUT_KEY_POLICY, put_policy, response, outcome, e);
}

static int set_state(devkms *kms, ops_key *key, kms_key_state state, int64_t deletion_ms,
                     int days, kms_error *e)
{
    signer_error err;
    if (kms_store_key_set_state(kms->store, key->row.id, state, deletion_ms, days, &err) != 0)
        return kms_fail_internal(e, &err);
    key->row.state = state;
    key->row.deletion_ms = deletion_ms;
    key->row.pending_days = days;
    return 0;
}

static int enable(devkms *kms, const kms_args *a, ops_key *key, json_t **response, kms_error *e)
{
    (void)a;
    if (ops_key_not_pending(key, e) != 0 || set_state(kms, key, KMS_KEY_ENABLED, 0, 0, e) != 0)
        return -1;
    return empty_answer(response, e);
}

int ops_enable_key(devkms *kms, const kms_args *a, json_t **response, kms_outcome *outcome,
                   kms_error *e)
{
    return with_key(kms, a, KMS_OP_ENABLE_KEY, enable, response, outcome, e);
}

static int disable(devkms *kms, const kms_args *a, ops_key *key, json_t **response, kms_error *e)
{
    (void)a;
    if (ops_key_not_pending(key, e) != 0 || set_state(kms, key, KMS_KEY_DISABLED, 0, 0, e) != 0)
        return -1;
    return empty_answer(response, e);
}

int ops_disable_key(devkms *kms, const kms_args *a, json_t **response, kms_outcome *outcome,
                    kms_error *e)
{
    return with_key(kms, a, KMS_OP_DISABLE_KEY, disable, response, outcome, e);
}

static int schedule(devkms *kms, const kms_args *a, ops_key *key, json_t **response,
                    kms_error *e)
{
    if (ops_key_not_pending(key, e) != 0)
        return -1;
    int days = a->pending_window_days.present ? (int)a->pending_window_days.value : 30;
    int64_t when = ops_now_ms() + (int64_t)days * kms->cfg.day_seconds * 1000;
    if (set_state(kms, key, KMS_KEY_PENDING_DELETION, when, days, e) != 0)
        return -1;
    *response = json_pack("{s:s, s:o, s:s, s:i}", "KeyId", key->arn, "DeletionDate",
                          ops_date(when), "KeyState", "PendingDeletion", "PendingWindowInDays",
                          days);
    return *response ? 0 : kms_fail(e, "KMSInternalException", "devkms: out of memory");
}

int ops_schedule_key_deletion(devkms *kms, const kms_args *a, json_t **response,
                              kms_outcome *outcome, kms_error *e)
{
    return with_key(kms, a, KMS_OP_SCHEDULE_KEY_DELETION, schedule, response, outcome, e);
}

static int cancel(devkms *kms, const kms_args *a, ops_key *key, json_t **response, kms_error *e)
{
    (void)a;
    if (key->row.state != KMS_KEY_PENDING_DELETION)
        return kms_fail(e, "KMSInvalidStateException", "%s is not pending deletion.", key->arn);
    /* As in KMS, a key saved from deletion comes back disabled. */
    if (set_state(kms, key, KMS_KEY_DISABLED, 0, 0, e) != 0)
        return -1;
    *response = json_pack("{s:s}", "KeyId", key->arn);
    return *response ? 0 : kms_fail(e, "KMSInternalException", "devkms: out of memory");
}

int ops_cancel_key_deletion(devkms *kms, const kms_args *a, json_t **response,
                            kms_outcome *outcome, kms_error *e)
{
    return with_key(kms, a, KMS_OP_CANCEL_KEY_DELETION, cancel, response, outcome, e);
}
