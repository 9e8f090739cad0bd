/* Issuing X.509 certificates (OpenSSL underneath): the development CAs of
 * devkms and of the software NSM, and the tests' chains. */
#ifndef SIGNER_X509_H
#define SIGNER_X509_H

#include <openssl/types.h>
#include <stdbool.h>

#include "signer/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct signer_cert_request {
    const char *organization;       /* O=, or NULL */
    const char *common_name;        /* CN= */
    long not_before_s, not_after_s; /* validity, in seconds from now */
    bool ca;                        /* CA:TRUE + keyCertSign,cRLSign; else
                                       CA:FALSE + digitalSignature */
    int path_length;                /* a CA's pathlen, or -1 for none */
    const char *extended_key_usage; /* e.g. "serverAuth", or NULL */
    const char *subject_alt_name;   /* e.g. "DNS:localhost,IP:127.0.0.1", or NULL */
    long serial;                    /* 0: 127 random bits */
    const EVP_MD *digest;           /* NULL: SHA-256 */
} signer_cert_request;

/* A version 3 certificate for `key` as `req` describes, with subject and
 * authority key identifiers, signed by `issuer_key` under `issuer`'s name,
 * or self-signed when `issuer` is NULL (then `issuer_key` is `key`'s
 * private half).  Returns NULL, with `err` filled, on failure. */
X509 *signer_cert_issue(const signer_cert_request *req, EVP_PKEY *key, X509 *issuer,
                        EVP_PKEY *issuer_key, signer_error *err);

#ifdef __cplusplus
}
#endif
#endif
