/* The software NSM: answers the same CBOR requests as /dev/nsm.  Like the
 * real module it signs documents with a short-lived leaf key whose
 * certificate chains to a root (here a development CA, see
 * scripts/dev-nsm-ca.sh); the leaf is renewed before it expires. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend.h"
#include "codec.h"
#include "signer/crypto.h"
#include "signer/memory.h"
#include "signer/x509.h"
#include "sim_config.h"

#define LEAF_LIFETIME_SECONDS (24 * 3600)
#define LEAF_RENEW_BEFORE_SECONDS 3600
#define RANDOM_BYTES_PER_CALL 256

typedef struct sim {
    sim_config cfg;
    pthread_mutex_t lock; /* guards the leaf */
    signer_buf leaf_key;  /* PKCS#8 DER: a secret */
    signer_buf leaf_cert; /* DER */
    time_t leaf_expires;
} sim;

/* Makes a fresh P-384 leaf key and its certificate from the issuing CA. */
static int make_leaf(sim *s, signer_error *err)
{
    signer_cert_request req = {
        .organization = "AWS",
        .common_name = s->cfg.module_id,
        .not_before_s = -60,
        .not_after_s = LEAF_LIFETIME_SECONDS,
        .path_length = -1,
        .digest = EVP_sha384(),
    };
    unsigned char *der = NULL;
    int rc = -1, len = 0;
    time_t now = time(NULL);
    EVP_PKEY *key = EVP_EC_gen("P-384");
    X509 *cert = key ? signer_cert_issue(&req, key, s->cfg.ca_cert, s->cfg.ca_key, err) : NULL;
    if (key == NULL)
        signer_error_set(err, SIGNER_ERR_CRYPTO, "cannot make the NSM leaf key");
    if (cert == NULL)
        goto done;
    signer_buf_clear(&s->leaf_cert);
    signer_buf_clear(&s->leaf_key);
    if ((len = i2d_X509(cert, &der)) <= 0 ||
        signer_buf_append(&s->leaf_cert, der, (size_t)len, err) != 0)
        goto encoding;
    OPENSSL_free(der);
    der = NULL;
    if ((len = i2d_PrivateKey(key, &der)) <= 0 ||
        signer_buf_append(&s->leaf_key, der, (size_t)len, err) != 0)
        goto encoding;
    s->leaf_expires = now + LEAF_LIFETIME_SECONDS;
    rc = 0;
    goto done;
encoding:
    signer_error_set(err, SIGNER_ERR_CRYPTO, "cannot encode the NSM leaf");
done:
    if (der != NULL && len > 0)
        OPENSSL_clear_free(der, (size_t)len);
    X509_free(cert);
    EVP_PKEY_free(key);
    return rc;
}

int nsm_sim_open(const char *config_path, void **state, signer_error *err)
{
    sim *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return signer_error_set(err, SIGNER_ERR_NO_MEMORY, "out of memory");
    if (sim_config_load(config_path, &s->cfg, err) != 0) {
        free(s);
        return -1;
    }
    if (make_leaf(s, err) != 0) {
        sim_config_free(&s->cfg);
        free(s);
        return -1;
    }
    pthread_mutex_init(&s->lock, NULL);
    *state = s;
    return 0;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static signer_attestation_bytes view(const nsm_opt_bytes *b)
{
    signer_attestation_bytes v = {b->bytes.data, b->bytes.len, b->present};
    return v;
}

/* An attestation document for `req`, signed by the current leaf. */
static int attest(sim *s, const nsm_request *req, signer_buf *doc, const char **code)
{
    signer_error err;
    if ((req->user_data.present && req->user_data.bytes.len > SIGNER_ATTESTATION_USER_DATA_MAX) ||
        (req->nonce.present && req->nonce.bytes.len > SIGNER_ATTESTATION_NONCE_MAX) ||
        (req->public_key.present &&
         req->public_key.bytes.len > SIGNER_ATTESTATION_PUBLIC_KEY_MAX)) {
        *code = "InputTooLarge";
        return -1;
    }
    signer_attestation_bytes cabundle[SIGNER_ATTESTATION_CABUNDLE_MAX];
    for (size_t i = 0; i < s->cfg.cabundle_count; i++)
        cabundle[i] =
            (signer_attestation_bytes){s->cfg.cabundle[i].data, s->cfg.cabundle[i].len, true};
    signer_attestation_fields fields = {
        .module_id = s->cfg.module_id,
        .timestamp_ms = now_ms(),
        .pcrs = s->cfg.pcrs,
        .public_key = view(&req->public_key),
        .user_data = view(&req->user_data),
        .nonce = view(&req->nonce),
    };
    pthread_mutex_lock(&s->lock);
    int rc = 0;
    if (time(NULL) + LEAF_RENEW_BEFORE_SECONDS >= s->leaf_expires)
        rc = make_leaf(s, &err);
    if (rc == 0) {
        signer_attestation_issuer issuer = {
            .key_der = {s->leaf_key.data, s->leaf_key.len, true},
            .certificate = {s->leaf_cert.data, s->leaf_cert.len, true},
            .cabundle = cabundle,
            .cabundle_count = s->cfg.cabundle_count,
        };
        rc = signer_attestation_encode(&fields, &issuer, doc, &err);
    }
    pthread_mutex_unlock(&s->lock);
    if (rc != 0)
        *code = "InternalError";
    return rc;
}

/* Builds the answer to one request; `scratch` holds data it points to. */
static void answer(sim *s, const nsm_request *req, nsm_response *resp, signer_buf *scratch,
                   uint8_t random[RANDOM_BYTES_PER_CALL])
{
    const char *code = NULL;
    resp->op = req->op;
    switch (req->op) {
    case NSM_OP_DESCRIBE_PCR:
        if (req->index >= SIGNER_ATTESTATION_PCR_COUNT) {
            code = "InvalidIndex";
            break;
        }
        /* Unset registers read as 48 zero bytes, as on Nitro. */
        resp->data = (signer_bytes){s->cfg.pcrs[req->index].value, SIM_PCR_BYTES};
        resp->lock = req->index < SIM_PCR_COUNT;
        break;
    case NSM_OP_DESCRIBE_NSM:
        resp->describe = (nsm_description){
            .version_major = 1, .max_pcrs = 32, .locked_pcrs = (1u << SIM_PCR_COUNT) - 1};
        snprintf(resp->describe.module_id, sizeof(resp->describe.module_id), "%.127s",
                 s->cfg.module_id);
        strcpy(resp->describe.digest, "SHA384");
        break;
    case NSM_OP_GET_RANDOM:
        if (signer_random_bytes(random, RANDOM_BYTES_PER_CALL, NULL) != 0)
            code = "InternalError";
        resp->random = (signer_bytes){random, RANDOM_BYTES_PER_CALL};
        break;
    case NSM_OP_ATTESTATION:
        if (attest(s, req, scratch, &code) == 0)
            resp->document = (signer_bytes){scratch->data, scratch->len};
        break;
    default: code = "InvalidOperation"; break;
    }
    if (code != NULL) {
        resp->op = NSM_OP_ERROR;
        snprintf(resp->error, sizeof(resp->error), "%s", code);
    }
}

static int sim_transact(void *state, const uint8_t *request, size_t request_len, uint8_t *response,
                        size_t *response_len, signer_error *err)
{
    sim *s = state;
    nsm_request req;
    nsm_response resp;
    signer_buf scratch = SIGNER_BUF_INIT, out = SIGNER_BUF_INIT;
    uint8_t random[RANDOM_BYTES_PER_CALL];
    memset(&resp, 0, sizeof(resp));
    if (request_len > NSM_REQUEST_MAX) {
        resp.op = NSM_OP_ERROR;
        strcpy(resp.error, "InputTooLarge");
    } else if (nsm_request_decode(request, request_len, &req, NULL) != 0) {
        resp.op = NSM_OP_ERROR;
        strcpy(resp.error, "InvalidArgument");
    } else {
        answer(s, &req, &resp, &scratch, random);
        nsm_request_free(&req);
    }
    int rc = nsm_response_encode(&resp, &out, err);
    if (rc == 0 && out.len > *response_len) {
        /* The driver's answer when the response does not fit. */
        signer_buf_clear(&out);
        nsm_response small = {.op = NSM_OP_ERROR, .error = "BufferTooSmall"};
        rc = nsm_response_encode(&small, &out, err);
    }
    if (rc == 0 && out.len > *response_len)
        rc = signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT,
                              "NSM response buffer of %zu bytes is too small", *response_len);
    if (rc == 0) {
        memcpy(response, out.data, out.len);
        *response_len = out.len;
    }
    signer_wipe(random, sizeof(random));
    signer_buf_free(&scratch);
    signer_buf_free(&out);
    return rc;
}

static void sim_close(void *state)
{
    sim *s = state;
    if (s == NULL)
        return;
    sim_config_free(&s->cfg);
    signer_buf_free(&s->leaf_key);
    signer_buf_free(&s->leaf_cert);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

const nsm_backend nsm_sim_backend = {
    .name = "sim",
    .transact = sim_transact,
    .close = sim_close,
};
