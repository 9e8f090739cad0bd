/* Certificates for development CAs and tests. */
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdio.h>

#include "signer/x509.h"

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

static int set_serial(X509 *cert, long serial)
{
    if (serial != 0)
        return ASN1_INTEGER_set(X509_get_serialNumber(cert), serial) == 1 ? 0 : -1;
    unsigned char bytes[16];
    if (RAND_bytes(bytes, sizeof(bytes)) != 1)
        return -1;
    bytes[0] &= 0x7f; /* positive */
    BIGNUM *bn = BN_bin2bn(bytes, sizeof(bytes), NULL);
    int ok = bn != NULL && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) != NULL;
    BN_free(bn);
    return ok ? 0 : -1;
}

static int add_name(X509_NAME *name, const char *field, const char *value)
{
    return value == NULL || X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8,
                                                       (const unsigned char *)value, -1, -1, 0) == 1
               ? 0
               : -1;
}

X509 *signer_cert_issue(const signer_cert_request *req, EVP_PKEY *key, X509 *issuer,
                        EVP_PKEY *issuer_key, signer_error *err)
{
    X509 *cert = X509_new();
    X509_NAME *name = X509_NAME_new();
    char constraints[64];
    if (req->ca && req->path_length >= 0)
        snprintf(constraints, sizeof(constraints), "critical,CA:TRUE,pathlen:%d", req->path_length);
    else
        snprintf(constraints, sizeof(constraints), "critical,CA:%s", req->ca ? "TRUE" : "FALSE");
    X509 *signer = issuer ? issuer : cert;
    int bad =
        cert == NULL || name == NULL || X509_set_version(cert, 2) != 1 ||
        set_serial(cert, req->serial) != 0 || add_name(name, "O", req->organization) != 0 ||
        add_name(name, "CN", req->common_name) != 0 || X509_set_subject_name(cert, name) != 1 ||
        X509_set_issuer_name(cert, issuer ? X509_get_subject_name(issuer) : name) != 1 ||
        X509_gmtime_adj(X509_getm_notBefore(cert), req->not_before_s) == NULL ||
        X509_gmtime_adj(X509_getm_notAfter(cert), req->not_after_s) == NULL ||
        X509_set_pubkey(cert, key) != 1 ||
        add_ext(cert, signer, NID_basic_constraints, constraints) != 0 ||
        add_ext(cert, signer, NID_key_usage,
                req->ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature") != 0 ||
        (req->extended_key_usage &&
         add_ext(cert, signer, NID_ext_key_usage, req->extended_key_usage) != 0) ||
        (req->subject_alt_name &&
         add_ext(cert, signer, NID_subject_alt_name, req->subject_alt_name) != 0) ||
        add_ext(cert, signer, NID_subject_key_identifier, "hash") != 0 ||
        (issuer && add_ext(cert, signer, NID_authority_key_identifier, "keyid:always") != 0) ||
        X509_sign(cert, issuer_key, req->digest ? req->digest : EVP_sha256()) <= 0;
    X509_NAME_free(name);
    if (bad) {
        X509_free(cert);
        signer_error_set(err, SIGNER_ERR_CRYPTO, "cannot issue a certificate for \"%.80s\"",
                         req->common_name ? req->common_name : "");
        return NULL;
    }
    return cert;
}
