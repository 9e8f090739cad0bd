/* The attestation document parser, and the verifier on whatever parses
 * (against the AWS Nitro root, at the document's own time, so the chain
 * and signature code run on real-looking input). */
#include <openssl/pem.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "signer/attestation.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char aws_root_pem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIICETCCAZagAwIBAgIRAPkxdWgbkK/hHUbMtOTn+FYwCgYIKoZIzj0EAwMwSTEL\n"
    "MAkGA1UEBhMCVVMxDzANBgNVBAoMBkFtYXpvbjEMMAoGA1UECwwDQVdTMRswGQYD\n"
    "VQQDDBJhd3Mubml0cm8tZW5jbGF2ZXMwHhcNMTkxMDI4MTMyODA1WhcNNDkxMDI4\n"
    "MTQyODA1WjBJMQswCQYDVQQGEwJVUzEPMA0GA1UECgwGQW1hem9uMQwwCgYDVQQL\n"
    "DANBV1MxGzAZBgNVBAMMEmF3cy5uaXRyby1lbmNsYXZlczB2MBAGByqGSM49AgEG\n"
    "BSuBBAAiA2IABPwCVOumCMHzaHDimtqQvkY4MpJzbolL//Zy2YlES1BR5TSksfbb\n"
    "48C8WBoyt7F2Bw7eEtaaP+ohG2bnUs990d0JX28TcPQXCEPZ3BABIeTPYwEoCWZE\n"
    "h8l5YoQwTcU/9KNCMEAwDwYDVR0TAQH/BAUwAwEB/zAdBgNVHQ4EFgQUkCW1DdkF\n"
    "R+eWw5b6cp3PmanfS5YwDgYDVR0PAQH/BAQDAgGGMAoGCCqGSM49BAMDA2kAMGYC\n"
    "MQCjfy+Rocm9Xue4YnwWmNJVA44fA0P5W2OpYow9OYCVRaEevL8uO1XYru5xtMPW\n"
    "rfMCMQCi85sWBbJwKKXdS6BptQFuZbT73o/gBh1qUxl/nNr12UO8Yfwr6wPLb+6N\n"
    "IwLz3/Y=\n"
    "-----END CERTIFICATE-----\n";

static unsigned char root_der[1024];
static size_t root_len;

static void load_root(void)
{
    BIO *b = BIO_new_mem_buf(aws_root_pem, -1);
    X509 *cert = PEM_read_bio_X509(b, NULL, NULL, NULL);
    unsigned char *p = root_der;
    int n = cert ? i2d_X509(cert, &p) : 0;
    root_len = n > 0 ? (size_t)n : 0;
    X509_free(cert);
    BIO_free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (root_len == 0)
        load_root();
    signer_attestation_doc doc;
    signer_error err;
    if (signer_attestation_parse(data, size, &doc, &err) != 0)
        return 0;
    signer_attestation_verify_options opts = {
        .root_der = root_der,
        .root_der_len = root_len,
        .now_ms = doc.timestamp_ms,
        .max_age_ms = 300000,
    };
    signer_attestation_failure why;
    signer_attestation_verify(&doc, &opts, &why, &err);
    signer_attestation_doc_free(&doc);
    return 0;
}
