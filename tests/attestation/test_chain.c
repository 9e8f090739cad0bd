/* Test helper: certificate chains and signed documents (see test_chain.h). */
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "test_chain.h"

uint64_t test_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (ext == NULL)
        return -1;
    int ok = X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return ok == 1 ? 0 : -1;
}

static X509 *make_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key,
                       int ca, long serial, long not_before_s, long not_after_s)
{
    X509 *cert = X509_new();
    X509_NAME *name = X509_NAME_new();
    if (cert == NULL || name == NULL)
        goto fail;
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), serial);
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"signer tests",
                               -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_subject_name(cert, name);
    X509_set_issuer_name(cert, issuer ? X509_get_subject_name(issuer) : name);
    X509_gmtime_adj(X509_getm_notBefore(cert), not_before_s);
    X509_gmtime_adj(X509_getm_notAfter(cert), not_after_s);
    X509_set_pubkey(cert, key);
    X509 *iss = issuer ? issuer : cert;
    if (add_ext(cert, iss, NID_basic_constraints, ca ? "critical,CA:TRUE" : "critical,CA:FALSE") ||
        add_ext(cert, iss, NID_key_usage,
                ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature") ||
        add_ext(cert, iss, NID_subject_key_identifier, "hash") ||
        (issuer && add_ext(cert, iss, NID_authority_key_identifier, "keyid:always")))
        goto fail;
    if (X509_sign(cert, issuer_key, EVP_sha384()) <= 0)
        goto fail;
    X509_NAME_free(name);
    return cert;
fail:
    X509_NAME_free(name);
    X509_free(cert);
    return NULL;
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
