/* Test helper: certificate chains and signed documents (see test_chain.h). */
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "test_chain.h"

#include "signer/x509.h"

uint64_t test_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static X509 *make_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, int ca,
                       long serial, long not_before_s, long not_after_s)
{
    signer_cert_request req = {
        .organization = "signer tests",
        .common_name = cn,
        .not_before_s = not_before_s,
        .not_after_s = not_after_s,
        .ca = ca,
        .path_length = -1,
        .serial = serial,
        .digest = EVP_sha384(),
    };
    return signer_cert_issue(&req, key, issuer, issuer_key, NULL);
}

static int to_der(X509 *cert, signer_buf *out)
{
    unsigned char *p = NULL;
    int n = i2d_X509(cert, &p);
    if (n <= 0)
        return -1;
    int rc = signer_buf_append(out, p, (size_t)n, NULL);
    OPENSSL_free(p);
    return rc;
}

int test_chain_make(test_chain *c, long not_before_s, long not_after_s)
{
    memset(c, 0, sizeof(*c));
    c->root_key = EVP_EC_gen("P-384");
    c->inter_key = EVP_EC_gen("P-384");
    c->leaf_key = EVP_EC_gen("P-384");
    if (!c->root_key || !c->inter_key || !c->leaf_key)
        return -1;
    static long serial = 1;
    c->root = make_cert("test root", c->root_key, NULL, c->root_key, 1, serial++, -86400,
                        10L * 365 * 86400);
    if (c->root == NULL)
        return -1;
    c->inter = make_cert("test intermediate", c->inter_key, c->root, c->root_key, 1, serial++,
                         -86400, 365L * 86400);
    if (c->inter == NULL)
        return -1;
    c->leaf = make_cert("test enclave", c->leaf_key, c->inter, c->inter_key, 0, serial++,
                        not_before_s, not_after_s);
    if (c->leaf == NULL)
        return -1;
    unsigned char *p = NULL;
    int n = i2d_PrivateKey(c->leaf_key, &p);
    if (n <= 0)
        return -1;
    int rc = signer_buf_append(&c->leaf_key_der, p, (size_t)n, NULL);
    OPENSSL_clear_free(p, (size_t)n);
    if (rc != 0 || to_der(c->root, &c->root_der) || to_der(c->inter, &c->inter_der) ||
        to_der(c->leaf, &c->leaf_der))
        return -1;
    return 0;
}

void test_chain_free(test_chain *c)
{
    EVP_PKEY_free(c->root_key);
    EVP_PKEY_free(c->inter_key);
    EVP_PKEY_free(c->leaf_key);
    X509_free(c->root);
    X509_free(c->inter);
    X509_free(c->leaf);
    signer_buf_free(&c->root_der);
    signer_buf_free(&c->inter_der);
    signer_buf_free(&c->leaf_der);
    signer_buf_free(&c->leaf_key_der);
    memset(c, 0, sizeof(*c));
}

int test_chain_write_root_pem(const test_chain *c, const char *path)
{
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return -1;
    int ok = PEM_write_X509(f, c->root);
    return (fclose(f) == 0 && ok == 1) ? 0 : -1;
}

void test_pcrs_fill(signer_attestation_pcr pcrs[SIGNER_ATTESTATION_PCR_COUNT], uint8_t seed)
{
    memset(pcrs, 0, sizeof(signer_attestation_pcr) * SIGNER_ATTESTATION_PCR_COUNT);
    for (int i = 0; i < 16; i++) {
        memset(pcrs[i].value, (uint8_t)(seed + i), 48);
        pcrs[i].len = 48;
    }
}

int test_doc_make(const test_chain *c, const signer_attestation_fields *fields, signer_buf *out)
{
    signer_attestation_bytes bundle[2] = {
        {c->root_der.data, c->root_der.len, true},
        {c->inter_der.data, c->inter_der.len, true},
    };
    signer_attestation_issuer issuer = {
        .key_der = {c->leaf_key_der.data, c->leaf_key_der.len, true},
        .certificate = {c->leaf_der.data, c->leaf_der.len, true},
        .cabundle = bundle,
        .cabundle_count = 2,
    };
    signer_error err;
    if (signer_attestation_encode(fields, &issuer, out, &err) != 0) {
        fprintf(stderr, "test_doc_make: %s\n", err.message);
        return -1;
    }
    return 0;
}
