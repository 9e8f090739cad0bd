/* Test helper: a throwaway P-384 certificate chain (root -> intermediate ->
 * leaf) made with OpenSSL, and attestation documents signed by it.  Used by
 * the attestation tests and the devkms tests. */
#ifndef SIGNER_TEST_CHAIN_H
#define SIGNER_TEST_CHAIN_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "signer/attestation.h"

typedef struct test_chain {
    EVP_PKEY *root_key, *inter_key, *leaf_key;
    X509 *root, *inter, *leaf;
    signer_buf root_der, inter_der, leaf_der, leaf_key_der;
} test_chain;

/* Makes a chain whose certificates are valid from now + not_before_s to
 * now + not_after_s (seconds, may be negative).  Returns 0 or -1. */
int test_chain_make(test_chain *chain, long not_before_s, long not_after_s);
void test_chain_free(test_chain *chain);

/* Writes the root certificate as PEM to `path`. */
int test_chain_write_root_pem(const test_chain *chain, const char *path);

/* Fills `pcrs` with PCR0..15 of 48 bytes: PCR i = bytes (seed + i). */
void test_pcrs_fill(signer_attestation_pcr pcrs[SIGNER_ATTESTATION_PCR_COUNT], uint8_t seed);

/* Encodes and signs a document with the chain's leaf: `fields` as given,
 * cabundle = [root, intermediate].  Returns 0 or -1 (message on stderr). */
int test_doc_make(const test_chain *chain, const signer_attestation_fields *fields,
                  signer_buf *out);

/* Milliseconds since the epoch. */
uint64_t test_now_ms(void);

#endif
