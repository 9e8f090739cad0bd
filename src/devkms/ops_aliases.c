/* Aliases: CreateAlias, UpdateAlias, DeleteAlias, ListAliases. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"

/* KMS: "alias/" then letters, digits, '/', '_' and '-'; "alias/aws/" is
 * reserved for AWS managed keys. */
static int check_alias_name(const char *name, kms_error *e)
{
    if (strncmp(name, "alias/", 6) != 0 || name[6] == '\0')
        return kms_fail(e, "ValidationException",
                        "1 validation error detected: Value '%.300s' at 'aliasName' failed to "
                        "satisfy constraint: Member must start with alias/", name);
    for (const char *p = name + 6; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '/' || *p == '_' || *p == '-'))
            return kms_fail(e, "ValidationException",
                            "1 validation error detected: Value '%.300s' at 'aliasName' failed "
                            "to satisfy constraint: Member must satisfy regular expression "
                            "pattern: ^[a-zA-Z0-9:/_-]+$", name);
    if (strncmp(name, "alias/aws/", 10) == 0)
        return kms_fail(e, "NotAuthorizedException",
                        "Alias names that begin with alias/aws/ are reserved for AWS managed keys");
    return 0;
}

/* Finds the target key (id or ARN) and checks `op` against its policy. */
static int target_key(devkms *kms, const char *ref, kms_op op, ops_key *key,
                      kms_outcome *outcome, kms_error *e)
{
    if (ops_key_find(kms, ref, false, key, outcome, e) != 0)
        return -1;
    ops_auth auth;
    ops_auth_init(kms, key, op, &auth);
    int rc = ops_auth_check(kms, key, &auth, e);
    ops_auth_free(&auth);
    if (rc == 0)
        rc = ops_key_not_pending(key, e);
    if (rc != 0)
        ops_key_free(key);
    return rc;
}

int ops_create_alias(devkms *kms, const kms_args *a, json_t **response, kms_outcome *outcome,
                     kms_error *e)
{
    if (check_alias_name(a->alias_name, e) != 0)
        return -1;
    ops_key key;
    if (target_key(kms, a->key_id, KMS_OP_CREATE_ALIAS, &key, outcome, e) != 0)
        return -1;
    kms_alias_row row;
    memset(&row, 0, sizeof(row));
    snprintf(row.name, sizeof(row.name), "%s", a->alias_name);
    memcpy(row.key_id, key.row.id, sizeof(row.key_id));
    row.created_ms = row.updated_ms = ops_now_ms();
    ops_key_free(&key);
    bool exists;
    signer_error err;
    if (kms_store_alias_insert(kms->store, &row, &exists, &err) != 0)
        return kms_fail_internal(e, &err);
    if (exists) {
        char arn[400];
        ops_alias_arn(kms, a->alias_name, arn, sizeof(arn));
        return kms_fail(e, "AlreadyExistsException", "An alias with the name %s already exists",
                        arn);
    }
    *response = json_object();
    return *response ? 0 : kms_fail(e, "KMSInternalException", "devkms: out of memory");
}

/* The alias and, for the policy check, the key it points at now. */
static int find_alias(devkms *kms, const char *name, kms_alias_row *row, kms_error *e)
{
    bool found;
    signer_error err;
    if (check_alias_name(name, e) != 0)
        return -1;
    if (kms_store_alias_get(kms->store, name, row, &found, &err) != 0)
        return kms_fail_internal(e, &err);
    if (!found) {
        char arn[400];
        ops_alias_arn(kms, name, arn, sizeof(arn));
        return kms_fail(e, "NotFoundException", "Alias %s is not found.", arn);
    }
    return 0;
}

int ops_update_alias(devkms *kms, const kms_args *a, json_t **response, kms_outcome *outcome,
                     kms_error *e)
{
    kms_alias_row row;
    if (find_alias(kms, a->alias_name, &row, e) != 0)
        return -1;
    ops_key key;
    if (target_key(kms, a->key_id, KMS_OP_UPDATE_ALIAS, &key, outcome, e) != 0)
        return -1;
    bool found;
    signer_error err;
    int rc = kms_store_alias_update(kms->store, a->alias_name, key.row.id, ops_now_ms(), &found,
                                    &err);
    ops_key_free(&key);
    if (rc != 0)
        return kms_fail_internal(e, &err);
    *response = json_object();
    return *response ? 0 : kms_fail(e, "KMSInternalException", "devkms: out of memory");
}

int ops_delete_alias(devkms *kms, const kms_args *a, json_t **response, kms_outcome *outcome,
                     kms_error *e)
{
    kms_alias_row row;
    if (find_alias(kms, a->alias_name, &row, e) != 0)
        return -1;
    ops_key key;
    if (ops_key_find(kms, row.key_id, false, &key, outcome, e) == 0) {
        ops_auth auth;
        ops_auth_init(kms, &key, KMS_OP_DELETE_ALIAS, &auth);
        int rc = ops_auth_check(kms, &key, &auth, e);
        ops_auth_free(&auth);
        ops_key_free(&key);
        if (rc != 0)
            return -1;
    }
    bool found;
    signer_error err;
    if (kms_store_alias_delete(kms->store, a->alias_name, &found, &err) != 0)
        return kms_fail_internal(e, &err);
    *response = json_object();
    return *response ? 0 : kms_fail(e, "KMSInternalException", "devkms: out of memory");
}

int ops_list_aliases(devkms *kms, const kms_args *a, json_t **response, kms_outcome *outcome,
                     kms_error *e)
{
    char key_id[KMS_KEY_ID_LEN + 1] = "";
    if (a->key_id != NULL) {
        ops_key key;
        if (ops_key_find(kms, a->key_id, false, &key, outcome, e) != 0)
            return -1;
        memcpy(key_id, key.row.id, sizeof(key_id));
        ops_key_free(&key);
    }
    size_t limit = a->limit.present ? (size_t)a->limit.value : 100;
    kms_alias_row *rows = calloc(limit, sizeof(*rows));
    if (rows == NULL)
        return kms_fail(e, "KMSInternalException", "devkms: out of memory");
    size_t count;
    bool more;
    signer_error err;
    int rc = -1;
    if (kms_store_purge_expired(kms->store, ops_now_ms(), &err) != 0 ||
        kms_store_alias_list(kms->store, key_id[0] ? key_id : NULL, a->marker, limit, rows,
                             &count, &more, &err) != 0) {
        kms_fail_internal(e, &err);
        goto out;
    }
    json_t *list = json_array();
    for (size_t i = 0; list != NULL && i < count; i++) {
        char arn[400];
        ops_alias_arn(kms, rows[i].name, arn, sizeof(arn));
        json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:o, s:o}", "AliasName",
                                              rows[i].name, "AliasArn", arn, "TargetKeyId",
                                              rows[i].key_id, "CreationDate",
                                              ops_date(rows[i].created_ms), "LastUpdatedDate",
                                              ops_date(rows[i].updated_ms)));
    }
    *response = json_pack("{s:o, s:b}", "Aliases", list, "Truncated", more);
    if (*response != NULL && more)
        json_object_set_new(*response, "NextMarker", json_string(rows[count - 1].name));
    rc = *response ? 0 : kms_fail(e, "KMSInternalException", "devkms: out of memory");
out:
    free(rows);
    return rc;
}
