/* The NSM's CBOR messages, both directions (serde's externally tagged
 * enums, as in AWS's nsm-api): the client encodes requests and decodes
 * responses; the software NSM decodes requests and encodes responses. */
#ifndef SIGNER_NSM_CODEC_H
#define SIGNER_NSM_CODEC_H

#include <stdbool.h>
#include <stdint.h>

#include "signer/buf.h"
#include "signer/nsm.h"

typedef enum nsm_op {
    NSM_OP_DESCRIBE_PCR,
    NSM_OP_DESCRIBE_NSM,
    NSM_OP_ATTESTATION,
    NSM_OP_GET_RANDOM,
    NSM_OP_ERROR, /* responses only */
} nsm_op;

/* An optional byte string (absent and null are the same). */
typedef struct nsm_opt_bytes {
    signer_bytes bytes;
    bool present;
} nsm_opt_bytes;

typedef struct nsm_request {
    nsm_op op;
    unsigned index;                       /* DescribePCR */
    nsm_opt_bytes user_data, nonce, public_key; /* Attestation */
    void *internal_;
} nsm_request;

typedef struct nsm_response {
    nsm_op op;
    char error[32];            /* Error: the ErrorCode name, e.g. "InvalidIndex" */
    bool lock;                 /* DescribePCR */
    signer_bytes data;         /* DescribePCR: the value */
    signer_bytes document;     /* Attestation */
    signer_bytes random;       /* GetRandom */
    nsm_description describe;  /* DescribeNSM */
    void *internal_;
} nsm_response;

int nsm_request_encode(const nsm_request *req, signer_buf *out, signer_error *err);
int nsm_request_decode(const uint8_t *cbor, size_t len, nsm_request *req, signer_error *err);
void nsm_request_free(nsm_request *req);

int nsm_response_encode(const nsm_response *resp, signer_buf *out, signer_error *err);
int nsm_response_decode(const uint8_t *cbor, size_t len, nsm_response *resp, signer_error *err);
void nsm_response_free(nsm_response *resp);

/* What an ErrorCode means, for messages a user can act on. */
const char *nsm_error_meaning(const char *code);

#endif
