/* devkms: a local server speaking the AWS KMS JSON protocol, for
 * development and tests on one machine (never part of the enclave image).
 *
 * Request path: http.c (HTTPS, body) -> sigv4.c (authentication) ->
 * request.c (operation and typed arguments) -> ops_*.c (key lookup, policy,
 * the operation) -> store.c (SQLite) / blob.c (ciphertexts) / recipient.c
 * (attestation and CMS) -> back to http.c, which logs one line. */
#ifndef SIGNER_DEVKMS_H
#define SIGNER_DEVKMS_H

#include <jansson.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "signer/attestation.h"
#include "signer/buf.h"
#include "signer/error.h"
#include "signer/log.h"

#define KMS_KEY_ID_LEN 36       /* a UUID: 8-4-4-4-12 hex digits */
#define KMS_MATERIAL_BYTES 32   /* AES-256 key material of a KMS key */
#define KMS_PLAINTEXT_MAX 4096  /* Encrypt's limit */
#define KMS_CIPHERTEXT_MAX 6144 /* Decrypt's limit */
#define KMS_POLICY_MAX 32768    /* key policy document, bytes */
#define KMS_ALIAS_MAX 256
#define KMS_DATA_KEY_MAX 1024 /* GenerateDataKey / GenerateRandom */
#define KMS_CONTEXT_MAX 64    /* encryption context pairs */
#define KMS_CONTEXT_BYTES_MAX 8192
#define KMS_REQUEST_MAX (1u << 20) /* largest request body read */
#define KMS_DEFAULT_REGION "us-east-1"
#define KMS_DEFAULT_ACCOUNT "111122223333"

/* ---- errors: KMS exception name, HTTP status and message ---------------- */

typedef struct kms_error {
    const char *type; /* e.g. "NotFoundException" */
    int status;       /* 400, or 500 for KMSInternalException */
    char message[512];
} kms_error;

/* Fills `e` (status 500 for KMSInternalException, 412 for
 * DryRunOperationException, 400 otherwise).  Returns -1. */
int kms_fail(kms_error *e, const char *type, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A KMSInternalException carrying a signer_error's message. */
int kms_fail_internal(kms_error *e, const signer_error *err);

/* ---- configuration (options.c) -------------------------------------------- */

typedef struct devkms_config {
    char listen_host[256];
    uint16_t listen_port;
    const char *state_dir;
    const char *region;           /* NULL: credentials.json's, else us-east-1 */
    const char *attestation_root; /* PEM path; NULL: the AWS Nitro root built in */
    const char *master_key;       /* path; NULL: <state>/master.key */
    const char *account_id;
    uint64_t max_document_age_ms;
    unsigned day_seconds; /* length of a "day" of a deletion window */
    unsigned max_connections;
    int log_level;
} devkms_config;

/* Returns 0 to run, 1 when it printed help or the version, -1 on a usage
 * error (already reported on stderr). */
int devkms_options_parse(int argc, char **argv, devkms_config *cfg);

/* ---- files.c: whole-file reads and crash-safe writes ------------------------ */

int devkms_file_read(const char *path, size_t max, signer_buf *out, signer_error *err);
/* Writes via a temporary file, fsync, rename and a directory fsync, so the
 * file is either absent or complete after a crash. */
int devkms_file_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
                             signer_error *err);
bool devkms_file_exists(const char *path);
/* "<dir>/<name>" into out (size PATH_MAX). */
int devkms_path(char *out, size_t size, const char *dir, const char *name, signer_error *err);

/* ---- state.c: development CA, TLS certificate, credentials ------------------ */

typedef struct devkms_credentials {
    char access_key_id[32];
    char secret_access_key[64];
    char session_token[1024]; /* empty: none accepted */
    char region[64];
} devkms_credentials;

/* Creates (first start) or loads ca.pem / ca-key.pem and the TLS server
 * certificate for localhost and 127.0.0.1 (tls-cert.pem / tls-key.pem),
 * re-issuing the server certificate when it is missing or near expiry. */
int devkms_tls_prepare(const char *state_dir, signer_buf *cert_pem, signer_buf *key_pem,
                       signer_error *err);

/* Creates or loads credentials.json; `region` (may be NULL) overrides and
 * is written back so the file always says what the server accepts. */
int devkms_credentials_prepare(const char *state_dir, const char *region, devkms_credentials *out,
                               signer_error *err);

/* ---- keyring.c: the master key and key material at rest -------------------- */

typedef struct devkms_keyring {
    uint8_t *master; /* 32 bytes, locked memory */
} devkms_keyring;

/* Loads the master key file, creating it (0600) when absent.  Refuses a
 * file other users can read. */
int devkms_keyring_open(const char *path, devkms_keyring *kr, signer_error *err);
void devkms_keyring_close(devkms_keyring *kr);
/* AES-256-GCM under the master key, bound to the key id. */
int devkms_keyring_wrap(const devkms_keyring *kr, const char *key_id,
                        const uint8_t material[KMS_MATERIAL_BYTES], signer_buf *out,
                        signer_error *err);
int devkms_keyring_unwrap(const devkms_keyring *kr, const char *key_id, const uint8_t *blob,
                          size_t len, uint8_t material[KMS_MATERIAL_BYTES], signer_error *err);

/* ---- store.c: keys and aliases in SQLite ------------------------------------ */

typedef enum kms_key_state {
    KMS_KEY_ENABLED = 0,
    KMS_KEY_DISABLED = 1,
    KMS_KEY_PENDING_DELETION = 2,
} kms_key_state;

const char *kms_key_state_name(kms_key_state state);

typedef struct kms_key_row {
    char id[KMS_KEY_ID_LEN + 1];
    int64_t created_ms;
    char *description; /* malloc'd, never NULL after a get */
    kms_key_state state;
    int64_t deletion_ms; /* PendingDeletion only */
    int pending_days;
    char *policy;       /* malloc'd */
    signer_buf wrapped; /* key material under the master key */
} kms_key_row;

void kms_key_row_free(kms_key_row *row);

typedef struct kms_alias_row {
    char name[KMS_ALIAS_MAX + 1];
    char key_id[KMS_KEY_ID_LEN + 1];
    int64_t created_ms;
    int64_t updated_ms;
} kms_alias_row;

typedef struct kms_store kms_store;

/* Opens (creating) the database: WAL journal, synchronous=FULL, so a write
 * is on disk when the call returns. */
int kms_store_open(const char *path, kms_store **out, signer_error *err);
void kms_store_close(kms_store *s);
int kms_store_key_insert(kms_store *s, const kms_key_row *row, signer_error *err);
int kms_store_key_get(kms_store *s, const char *id, kms_key_row *row, bool *found,
                      signer_error *err);
int kms_store_key_set_state(kms_store *s, const char *id, kms_key_state state, int64_t deletion_ms,
                            int pending_days, signer_error *err);
int kms_store_key_set_policy(kms_store *s, const char *id, const char *policy, signer_error *err);
/* Deletes the keys whose deletion date has passed, with their aliases. */
int kms_store_purge_expired(kms_store *s, int64_t now_ms, signer_error *err);
/* Deletes a key and every alias pointing at it. */
int kms_store_key_delete(kms_store *s, const char *id, signer_error *err);
/* Up to `limit` key ids after `after` (NULL: from the start), in id order. */
int kms_store_key_list(kms_store *s, const char *after, size_t limit,
                       char (*ids)[KMS_KEY_ID_LEN + 1], size_t *count, bool *more,
                       signer_error *err);
int kms_store_alias_insert(kms_store *s, const kms_alias_row *row, bool *exists, signer_error *err);
int kms_store_alias_get(kms_store *s, const char *name, kms_alias_row *row, bool *found,
                        signer_error *err);
int kms_store_alias_update(kms_store *s, const char *name, const char *key_id, int64_t updated_ms,
                           bool *found, signer_error *err);
int kms_store_alias_delete(kms_store *s, const char *name, bool *found, signer_error *err);
/* Up to `limit` aliases (of `key_id`, or all when NULL) after `after`. */
int kms_store_alias_list(kms_store *s, const char *key_id, const char *after, size_t limit,
                         kms_alias_row *rows, size_t *count, bool *more, signer_error *err);

/* ---- blob.c: the ciphertext format ------------------------------------------ */

/* An encryption context: pointers into the request's JSON, sorted by key. */
typedef struct kms_context {
    size_t count;
    const char *keys[KMS_CONTEXT_MAX];
    const char *values[KMS_CONTEXT_MAX];
} kms_context;

/* Encrypts under a key's material; the blob names the key and the context
 * is authenticated (not stored). */
int kms_blob_seal(const char *key_id, const uint8_t material[KMS_MATERIAL_BYTES],
                  const kms_context *ctx, const uint8_t *plaintext, size_t len, signer_buf *out,
                  signer_error *err);
/* The key id a blob names; -1 when it is not a devkms ciphertext. */
int kms_blob_key_id(const uint8_t *blob, size_t len, char id[KMS_KEY_ID_LEN + 1]);
/* Decrypts; -1 (SIGNER_ERR_INVALID_ARGUMENT) when the blob, key or context
 * do not match. */
int kms_blob_open(const uint8_t material[KMS_MATERIAL_BYTES], const kms_context *ctx,
                  const uint8_t *blob, size_t len, signer_buf *plaintext, signer_error *err);

/* ---- policy.c: key policies ------------------------------------------------- */

#define KMS_POLICY_CONDITIONS_MAX 112

typedef struct kms_policy_request {
    const char *action;    /* "kms:Decrypt" */
    const char *principal; /* the caller's ARN */
    const char *account_id;
    const char *resource; /* the key's ARN */
    size_t count;         /* condition keys known for this request */
    const char *keys[KMS_POLICY_CONDITIONS_MAX];
    const char *values[KMS_POLICY_CONDITIONS_MAX];
} kms_policy_request;

/* Adds a condition key (strings must outlive the request). */
int kms_policy_request_add(kms_policy_request *req, const char *key, const char *value);

/* Checks a policy document against the supported language; on failure a
 * MalformedPolicyDocumentException saying what is wrong. */
int kms_policy_check(const char *text, kms_error *e);

typedef enum kms_policy_decision {
    KMS_POLICY_ALLOW,
    KMS_POLICY_IMPLICIT_DENY,
    KMS_POLICY_EXPLICIT_DENY,
} kms_policy_decision;

/* Evaluates a (checked) policy: an explicit Deny wins, then any Allow.
 * `why` receives a reason for a denial (a failed condition, or the Deny). */
int kms_policy_evaluate(const char *text, const kms_policy_request *req,
                        kms_policy_decision *decision, char *why, size_t why_len, kms_error *e);

/* The policy CreateKey gives a key without one (AWS's default). */
char *kms_policy_default(const char *account_id);

/* ---- request.c: operations and their arguments ------------------------------ */

typedef enum kms_op {
    KMS_OP_CREATE_KEY,
    KMS_OP_DESCRIBE_KEY,
    KMS_OP_LIST_KEYS,
    KMS_OP_GET_KEY_POLICY,
    KMS_OP_PUT_KEY_POLICY,
    KMS_OP_ENABLE_KEY,
    KMS_OP_DISABLE_KEY,
    KMS_OP_SCHEDULE_KEY_DELETION,
    KMS_OP_CANCEL_KEY_DELETION,
    KMS_OP_ENCRYPT,
    KMS_OP_DECRYPT,
    KMS_OP_GENERATE_DATA_KEY,
    KMS_OP_GENERATE_DATA_KEY_WITHOUT_PLAINTEXT,
    KMS_OP_GENERATE_RANDOM,
    KMS_OP_CREATE_ALIAS,
    KMS_OP_UPDATE_ALIAS,
    KMS_OP_DELETE_ALIAS,
    KMS_OP_LIST_ALIASES,
    KMS_OP_COUNT
} kms_op;

/* "Encrypt" etc. */
const char *kms_op_name(kms_op op);

/* Maps X-Amz-Target ("TrentService.Encrypt") to an operation, or fails
 * with UnknownOperationException. */
int kms_op_from_target(const char *target, kms_op *op, kms_error *e);

typedef struct kms_opt_int {
    bool present;
    long value;
} kms_opt_int;

typedef struct kms_opt_bool {
    bool present;
    bool value;
} kms_opt_bool;

/* The typed arguments of any operation; strings point into the request's
 * JSON tree, byte fields are decoded copies (wiped on free). */
typedef struct kms_args {
    const char *key_id; /* KeyId, or TargetKeyId */
    const char *alias_name;
    const char *description;
    const char *policy;
    const char *policy_name;
    const char *key_spec; /* CreateKey and GenerateDataKey */
    const char *customer_master_key_spec;
    const char *key_usage;
    const char *origin;
    const char *custom_key_store_id;
    const char *xks_key_id;
    const char *encryption_algorithm;
    const char *marker;
    kms_opt_int limit;
    kms_opt_int number_of_bytes;
    kms_opt_int pending_window_days;
    kms_opt_bool bypass_lockout;
    kms_opt_bool multi_region;
    kms_opt_bool dry_run;
    signer_buf plaintext;
    signer_buf ciphertext;
    kms_context context;
    bool has_recipient;
    const char *recipient_algorithm;
    signer_buf attestation_document;
} kms_args;

/* Parses a request body (JSON object; empty means {}) for `op`: types,
 * required fields, lengths and ranges as KMS validates them
 * (ValidationException / SerializationException).  On success the caller
 * owns *root and args and releases them with kms_request_free. */
int kms_request_parse(kms_op op, const uint8_t *body, size_t len, json_t **root, kms_args *args,
                      kms_error *e);
void kms_request_free(json_t *root, kms_args *args);

/* Base64 over OpenSSL's codec.  Decoding appends to `out`; it returns -1
 * for invalid base64, -2 for text too long to hold at most `max` bytes. */
int kms_base64_decode(const char *text, size_t max, signer_buf *out);
char *kms_base64_encode(const uint8_t *data, size_t len); /* malloc'd */

/* ---- recipient.c: attestation documents and CiphertextForRecipient --------- */

typedef struct kms_attested {
    signer_attestation_doc doc;
    EVP_PKEY *rsa; /* the document's public_key */
    char pcr_hex[SIGNER_ATTESTATION_PCR_COUNT][2 * SIGNER_ATTESTATION_PCR_MAX + 1];
    char pcr_keys[SIGNER_ATTESTATION_PCR_COUNT][48];
} kms_attested;

/* Parses and verifies a Recipient's attestation document against the root
 * (chain, signature, age) and reads its RSA public key.  Any failure is an
 * AccessDeniedException naming the reason. */
int kms_recipient_verify(const signer_buf *root_der, uint64_t max_age_ms, const char *algorithm,
                         const signer_buf *document, kms_attested *out, kms_error *e);
void kms_attested_free(kms_attested *a);
/* Adds kms:RecipientAttestation:ImageSha384 and :PCR<n> for the policy. */
int kms_attested_conditions(kms_attested *a, kms_policy_request *req);
/* CiphertextForRecipient: BER CMS EnvelopedData, the content key wrapped
 * with RSAES-OAEP SHA-256 for the document's key, AES-256-CBC content. */
int kms_recipient_seal(const kms_attested *a, const uint8_t *plaintext, size_t len, signer_buf *out,
                       kms_error *e);

/* ---- the server's state and operations (ops.c, ops_*.c) -------------------- */

typedef struct devkms {
    devkms_config cfg;
    kms_store *store;
    devkms_keyring keyring;
    devkms_credentials creds;
    signer_buf root_der;
    char principal_arn[128];
} devkms;

/* What a request did, for its log line. */
typedef struct kms_outcome {
    char key_id[KMS_KEY_ID_LEN + 1];
} kms_outcome;

/* Runs one authenticated operation; on success *response is the JSON
 * answer. */
int kms_dispatch(devkms *kms, kms_op op, const kms_args *args, json_t **response,
                 kms_outcome *outcome, kms_error *e);

/* ---- http.c: the HTTPS server ---------------------------------------------- */

typedef struct devkms_server devkms_server;

/* Binds, then serves on threads of its own (one per connection). */
int devkms_server_start(devkms *kms, const signer_buf *cert_pem, const signer_buf *key_pem,
                        devkms_server **out, uint16_t *port, signer_error *err);
void devkms_server_stop(devkms_server *server);

/* The AWS Nitro Enclaves root certificate (PEM), built in from share/. */
extern const char devkms_default_root_pem[];

#endif
