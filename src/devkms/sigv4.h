/* AWS Signature Version 4, the server side: canonical request, string to
 * sign, signature, and the checks AWS makes on the Authorization header.
 * Canonicalisation is written here; HMAC and SHA-256 come from OpenSSL. */
#ifndef SIGNER_DEVKMS_SIGV4_H
#define SIGNER_DEVKMS_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "signer/buf.h"
#include "signer/error.h"

#define SIGV4_MAX_SKEW_SECONDS (5 * 60)

typedef struct sigv4_pair {
    const char *name;  /* header name (any case) or query key, as received */
    const char *value; /* query values still percent-encoded; may be NULL */
} sigv4_pair;

/* A request as it arrived.  `path` is the request target's path as on the
 * wire (not percent-decoded); query parameters likewise. */
typedef struct sigv4_request {
    const char *method;
    const char *path;
    const sigv4_pair *query;
    size_t query_count;
    const sigv4_pair *headers;
    size_t header_count;
    const uint8_t *body;
    size_t body_len;
} sigv4_request;

typedef struct sigv4_credentials {
    const char *access_key_id;
    const char *secret_access_key;
    const char *session_token; /* NULL or "": requests must not carry one */
    const char *region;
    const char *service;
} sigv4_credentials;

typedef enum sigv4_status {
    SIGV4_OK = 0,
    SIGV4_MISSING,      /* no Authorization header */
    SIGV4_INCOMPLETE,   /* malformed Authorization, missing X-Amz-Date, host unsigned */
    SIGV4_UNKNOWN_KEY,  /* access key id or security token not recognised */
    SIGV4_BAD_SCOPE,    /* credential scope: date, region, service or terminator */
    SIGV4_EXPIRED,      /* X-Amz-Date more than 5 minutes away from now */
    SIGV4_MISMATCH,     /* the signature does not match */
} sigv4_status;

typedef struct sigv4_result {
    sigv4_status status;
    char message[320]; /* what AWS would say */
} sigv4_result;

/* Verifies a request's signature at time `now`.  `normalize_path` is true
 * for every service but S3 (KMS included).  Returns 0 when the request is
 * authentic, else -1 with `res` saying why. */
int sigv4_verify(const sigv4_request *req, const sigv4_credentials *cred, time_t now,
                 bool normalize_path, sigv4_result *res);

/* The steps, exposed for tests against AWS's published test suite.
 * `signed_headers` is the SignedHeaders list ("host;x-amz-date"). */
int sigv4_canonical_request(const sigv4_request *req, const char *signed_headers,
                            bool normalize_path, signer_buf *out, signer_error *err);
int sigv4_string_to_sign(const char *amz_date, const char *scope, const signer_buf *creq,
                         signer_buf *out, signer_error *err);
/* Hex signature of `sts` with the key derived from the secret and scope. */
int sigv4_signature(const char *secret, const char *date8, const char *region,
                    const char *service, const signer_buf *sts, char hex[65], signer_error *err);

#endif
