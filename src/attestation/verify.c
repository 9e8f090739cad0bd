/* Verifying a parsed document: certificate chain to the given root, the
 * ES384 signature with the leaf key, and the document's age. */
#include <errno.h>
#include <stdarg.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "internal.h"

#define CHAIN_MAX_DEPTH 8 /* leaf, intermediates, root: real ones have 4-5 */

typedef struct verify_ctx {
    X509 *leaf;
    X509 *root;
    STACK_OF(X509) *bundle;
    X509_STORE *store;
    X509_STORE_CTX *ctx;
    EVP_PKEY *leaf_key; /* borrowed from leaf */
} verify_ctx;

static void verify_ctx_free(verify_ctx *v)
{
    X509_STORE_CTX_free(v->ctx);
    X509_STORE_free(v->store);
    sk_X509_pop_free(v->bundle, X509_free);
    X509_free(v->root);
    X509_free(v->leaf);
}

/* A refusal: the document is well formed but must not be trusted. */
__attribute__((format(printf, 4, 5)))
static int refuse(signer_attestation_failure *failure, signer_attestation_failure why,
                  signer_error *err, const char *fmt, ...)
{
    char message[SIGNER_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    if (failure != NULL)
        *failure = why;
    return signer_error_set(err, SIGNER_ERR_INVALID_KEY, "%s", message);
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* The leaf must be a P-384 key that may make signatures. */
static int check_leaf(verify_ctx *v, const signer_attestation_doc *doc,
                      signer_attestation_failure *failure, signer_error *err)
{
    v->leaf = att_x509_from_der(doc->certificate.data, doc->certificate.len);
    if (v->leaf == NULL)
        return refuse(failure, SIGNER_ATTESTATION_BAD_CERTIFICATE, err,
                      "attestation document: its certificate is not a DER X.509 "
                      "certificate");
    v->leaf_key = X509_get0_pubkey(v->leaf);
    if (v->leaf_key == NULL || !att_key_is_p384(v->leaf_key))
        return refuse(failure, SIGNER_ATTESTATION_BAD_CERTIFICATE, err,
                      "attestation document: its certificate's key is not ECDSA P-384");
    uint32_t usage = X509_get_key_usage(v->leaf); /* UINT32_MAX when absent */
    if (!(usage & KU_DIGITAL_SIGNATURE))
        return refuse(failure, SIGNER_ATTESTATION_BAD_CERTIFICATE, err,
                      "attestation document: its certificate's key usage does not allow "
                      "digital signatures");
    return 0;
}

/* Leaf -> cabundle (untrusted) -> the configured root (the only trust
 * anchor), every certificate valid at `at`. */
static int check_chain(verify_ctx *v, const signer_attestation_doc *doc,
                       const signer_attestation_verify_options *opts, time_t at,
                       signer_attestation_failure *failure, signer_error *err)
{
    v->root = att_x509_from_der(opts->root_der, opts->root_der_len);
    if (v->root == NULL)
        return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT,
                                "the trusted root is not a DER X.509 certificate");
    v->bundle = sk_X509_new_null();
    v->store = X509_STORE_new();
    v->ctx = X509_STORE_CTX_new();
    if (v->bundle == NULL || v->store == NULL || v->ctx == NULL ||
        X509_STORE_add_cert(v->store, v->root) != 1)
        return signer_error_set(err, SIGNER_ERR_NO_MEMORY, "out of memory");
    for (size_t i = 0; i < doc->cabundle_count; i++) {
        X509 *c = att_x509_from_der(doc->cabundle[i].data, doc->cabundle[i].len);
        if (c == NULL) {
            return refuse(failure, SIGNER_ATTESTATION_BAD_CHAIN, err,
                          "attestation document: cabundle[%zu] is not a DER X.509 certificate",
                          i);
        }
        if (sk_X509_push(v->bundle, c) <= 0) {
            X509_free(c);
            return signer_error_set(err, SIGNER_ERR_NO_MEMORY, "out of memory");
        }
    }
    if (X509_STORE_CTX_init(v->ctx, v->store, v->leaf, v->bundle) != 1)
        return signer_error_set(err, SIGNER_ERR_CRYPTO, "X509_STORE_CTX_init failed");
    X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(v->ctx);
    X509_VERIFY_PARAM_set_time(param, at);
    X509_VERIFY_PARAM_set_depth(param, CHAIN_MAX_DEPTH);
    /* Not X509_V_FLAG_X509_STRICT: AWS's leaf certificates carry no
     * authority key identifier, which strict mode demands. */
    int ok = X509_verify_cert(v->ctx);
    ERR_clear_error();
    if (ok != 1) {
        int code = X509_STORE_CTX_get_error(v->ctx);
        return refuse(failure, SIGNER_ATTESTATION_BAD_CHAIN, err,
                      "attestation document: certificate chain does not verify to the "
                      "trusted root: %s (at depth %d)", X509_verify_cert_error_string(code),
                      X509_STORE_CTX_get_error_depth(v->ctx));
    }
    return 0;
}

static int check_signature(verify_ctx *v, const signer_attestation_doc *doc,
                           signer_attestation_failure *failure, signer_error *err)
{
    signer_buf tbs = SIGNER_BUF_INIT;
    int rc = att_cose_sig_structure(doc->protected_header.data, doc->protected_header.len,
                                    doc->payload.data, doc->payload.len, &tbs, err);
    if (rc == 0) {
        rc = att_es384_verify(v->leaf_key, tbs.data, tbs.len, doc->signature, err);
        if (rc != 0 && err != NULL && err->code == SIGNER_ERR_INVALID_KEY) {
            if (failure != NULL)
                *failure = SIGNER_ATTESTATION_BAD_SIGNATURE;
            signer_error_wrap(err, "attestation document");
        }
    }
    signer_buf_free(&tbs);
    return rc;
}

static int check_time(const signer_attestation_doc *doc,
                      const signer_attestation_verify_options *opts, uint64_t now,
                      signer_attestation_failure *failure, signer_error *err)
{
    uint64_t ts = doc->timestamp_ms;
    if (ts > now && ts - now > opts->max_future_ms)
        return refuse(failure, SIGNER_ATTESTATION_FROM_FUTURE, err,
                      "attestation document: its timestamp is %llu ms in the future",
                      (unsigned long long)(ts - now));
    if (opts->max_age_ms != 0 && now > ts && now - ts > opts->max_age_ms)
        return refuse(failure, SIGNER_ATTESTATION_EXPIRED, err,
                      "attestation document: it is too old (%llu ms, at most %llu ms allowed)",
                      (unsigned long long)(now - ts), (unsigned long long)opts->max_age_ms);
    return 0;
}

int signer_attestation_verify(const signer_attestation_doc *doc,
                              const signer_attestation_verify_options *opts,
                              signer_attestation_failure *failure, signer_error *err)
{
    if (failure != NULL)
        *failure = SIGNER_ATTESTATION_OK;
    if (doc == NULL || doc->storage == NULL || opts == NULL || opts->root_der == NULL)
        return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT,
                                "verify needs a parsed document and a root certificate");
    uint64_t now = opts->now_ms ? opts->now_ms : now_ms();
    verify_ctx v;
    memset(&v, 0, sizeof(v));
    int rc = -1;
    if (check_leaf(&v, doc, failure, err) == 0 &&
        check_chain(&v, doc, opts, (time_t)(now / 1000), failure, err) == 0 &&
        check_signature(&v, doc, failure, err) == 0 &&
        check_time(doc, opts, now, failure, err) == 0)
        rc = 0;
    verify_ctx_free(&v);
    return rc;
}

const char *signer_attestation_failure_name(signer_attestation_failure failure)
{
    switch (failure) {
    case SIGNER_ATTESTATION_OK: return "ok";
    case SIGNER_ATTESTATION_BAD_CERTIFICATE: return "bad certificate";
    case SIGNER_ATTESTATION_BAD_CHAIN: return "bad certificate chain";
    case SIGNER_ATTESTATION_BAD_SIGNATURE: return "bad signature";
    case SIGNER_ATTESTATION_EXPIRED: return "expired";
    case SIGNER_ATTESTATION_FROM_FUTURE: return "from the future";
    }
    return "unknown";
}

int signer_attestation_certificate_load(const char *path, signer_buf *der, signer_error *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return signer_error_set(err, SIGNER_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    X509 *cert = PEM_read_X509(f, NULL, NULL, NULL);
    if (cert == NULL) {
        rewind(f);
        cert = d2i_X509_fp(f, NULL);
    }
    fclose(f);
    ERR_clear_error();
    if (cert == NULL)
        return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT,
                                "%s holds no PEM or DER X.509 certificate", path);
    unsigned char *p = NULL;
    int n = i2d_X509(cert, &p);
    X509_free(cert);
    if (n <= 0)
        return signer_error_set(err, SIGNER_ERR_CRYPTO, "cannot encode the certificate of %s",
                                path);
    signer_buf_clear(der);
    int rc = signer_buf_append(der, p, (size_t)n, err);
    OPENSSL_free(p);
    return rc;
}
