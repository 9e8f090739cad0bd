/* Shared by the operation files: key lookup, authorization, answers. */
#ifndef SIGNER_DEVKMS_OPS_H
#define SIGNER_DEVKMS_OPS_H

#include "devkms.h"

/* A key found for a request. */
typedef struct ops_key {
    kms_key_row row;
    char arn[192];
} ops_key;

/* Finds a key by id, key ARN or (when allow_alias) alias name or ARN, as
 * KMS does; NotFoundException otherwise.  Keys whose deletion date has
 * passed are deleted here and are not found. */
int ops_key_find(devkms *kms, const char *ref, bool allow_alias, ops_key *key,
                 kms_outcome *outcome, kms_error *e);
void ops_key_free(ops_key *key);

/* DisabledException / KMSInvalidStateException unless the key is Enabled. */
int ops_key_enabled(const ops_key *key, kms_error *e);
/* KMSInvalidStateException when the key is pending deletion. */
int ops_key_not_pending(const ops_key *key, kms_error *e);

/* The key's material, unwrapped (wipe it after use). */
int ops_key_material(devkms *kms, const ops_key *key, uint8_t material[KMS_MATERIAL_BYTES],
                     kms_error *e);

/* The request as the key policy sees it. */
typedef struct ops_auth {
    kms_policy_request req;
    char action[64];
    char *owned[KMS_CONTEXT_MAX];
    size_t owned_count;
} ops_auth;

void ops_auth_init(devkms *kms, const ops_key *key, kms_op op, ops_auth *auth);
/* Adds kms:EncryptionContext:<key> for each pair. */
int ops_auth_add_context(ops_auth *auth, const kms_context *ctx, kms_error *e);
/* AccessDeniedException (naming the reason) unless the policy allows. */
int ops_auth_check(devkms *kms, const ops_key *key, ops_auth *auth, kms_error *e);
void ops_auth_free(ops_auth *auth);

/* KeyMetadata as DescribeKey returns it. */
json_t *ops_key_metadata(devkms *kms, const ops_key *key);

void ops_key_arn(const devkms *kms, const char *id, char *out, size_t size);
void ops_alias_arn(const devkms *kms, const char *name, char *out, size_t size);
int64_t ops_now_ms(void);
/* Epoch seconds, as JSON numbers AWS uses for dates. */
json_t *ops_date(int64_t ms);
/* DryRunOperationException after every check passed. */
int ops_dry_run(kms_error *e);

/* Checks a policy for CreateKey / PutKeyPolicy: its syntax, and unless
 * bypassed, that it lets the caller change it again later. */
int ops_policy_accept(devkms *kms, const char *policy, const char *key_arn, bool bypass,
                      kms_error *e);

/* The operations. */
typedef int (*ops_handler)(devkms *kms, const kms_args *args, json_t **response,
                           kms_outcome *outcome, kms_error *e);
int ops_create_key(devkms *, const kms_args *, json_t **, kms_outcome *, kms_error *);
int ops_describe_key(devkms *, const kms_args *, json_t **, kms_outcome *, kms_error *);
int ops_list_keys(devkms *, const kms_args *, json_t **, kms_outcome *, kms_error *);
int ops_get_key_policy(devkms *, const kms_args *, json_t **, kms_outcome *, kms_error *);
int ops_put_key_policy(devkms *, const kms_args *, json_t **, kms_outcome *, kms_error *);
int ops_enable_key(devkms *, const kms_args *, json_t **, kms_outcome *, kms_error *);
int ops_disable_key(devkms *, const kms_args *, json_t **, kms_outcome *, kms_error *);
int ops_schedule_key_deletion(devkms *, const kms_args *, json_t **, kms_outcome *, kms_error *);
int ops_cancel_key_deletion(devkms *, const kms_args *, json_t **, kms_outcome *, kms_error *);
int ops_encrypt(devkms *, const kms_args *, json_t **, kms_outcome *, kms_error *);
int ops_decrypt(devkms *, const kms_args *, json_t **, kms_outcome *, kms_error *);
int ops_generate_data_key(devkms *, const kms_args *, json_t **, kms_outcome *, kms_error *);
int ops_generate_data_key_without_plaintext(devkms *, const kms_args *, json_t **,
                                            kms_outcome *, kms_error *);
int ops_generate_random(devkms *, const kms_args *, json_t **, kms_outcome *, kms_error *);
int ops_create_alias(devkms *, const kms_args *, json_t **, kms_outcome *, kms_error *);
int ops_update_alias(devkms *, const kms_args *, json_t **, kms_outcome *, kms_error *);
int ops_delete_alias(devkms *, const kms_args *, json_t **, kms_outcome *, kms_error *);
int ops_list_aliases(devkms *, const kms_args *, json_t **, kms_outcome *, kms_error *);

#endif
