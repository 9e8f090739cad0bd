/* What a first start creates in the state directory and later starts
 * reuse: a development CA (ca.pem, ca-key.pem), the TLS server certificate
 * it issues for localhost and 127.0.0.1 (tls-cert.pem, tls-key.pem), and
 * credentials.json, the one set of credentials the server accepts. */
#include <limits.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <string.h>
#include <time.h>

#include "devkms.h"
#include "signer/x509.h"
#include "signer/memory.h"

#define CA_DAYS (10 * 365)
#define TLS_DAYS 825
#define RENEW_BEFORE_DAYS 30

typedef struct pem_paths {
    char ca[PATH_MAX], ca_key[PATH_MAX], cert[PATH_MAX], key[PATH_MAX];
} pem_paths;

/* A certificate for `key`, signed by issuer_key (self-signed when issuer
 * is NULL): the development CA, or the TLS certificate of this host. */
static X509 *issue(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, bool ca,
                   int days)
{
    signer_cert_request req = {
        .organization = "devkms",
        .common_name = cn,
        .not_before_s = -3600,
        .not_after_s = (long)days * 86400,
        .ca = ca,
        .path_length = ca ? 0 : -1,
        .extended_key_usage = ca ? NULL : "serverAuth",
        .subject_alt_name = ca ? NULL : "DNS:localhost,IP:127.0.0.1,IP:::1",
    };
    return signer_cert_issue(&req, key, issuer, issuer_key, NULL);
}

static int write_pem(const char *path, X509 *cert, EVP_PKEY *key, signer_error *err)
{
    BIO *b = BIO_new(BIO_s_mem());
    if (b == NULL)
        return signer_error_set(err, SIGNER_ERR_NO_MEMORY, "out of memory");
    int ok = cert ? PEM_write_bio_X509(b, cert)
                  : PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL);
    char *data = NULL;
    long len = BIO_get_mem_data(b, &data);
    int rc = ok == 1 ? devkms_file_write_atomic(path, data, (size_t)len, cert ? 0644 : 0600, err)
                     : signer_error_set(err, SIGNER_ERR_CRYPTO, "PEM encoding failed");
    if (data != NULL && len > 0)
        signer_wipe(data, (size_t)len); /* it may be a private key */
    BIO_free(b);
    return rc;
}

static X509 *read_cert(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return NULL;
    X509 *cert = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    return cert;
}

static EVP_PKEY *read_key(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return NULL;
    EVP_PKEY *key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    return key;
}

/* Loads the CA, or makes a new one when either half is missing. */
static int prepare_ca(const pem_paths *p, X509 **ca, EVP_PKEY **ca_key, bool *fresh,
                      signer_error *err)
{
    *ca = read_cert(p->ca);
    *ca_key = read_key(p->ca_key);
    *fresh = false;
    if (*ca != NULL && *ca_key != NULL && X509_check_private_key(*ca, *ca_key) == 1)
        return 0;
    X509_free(*ca);
    EVP_PKEY_free(*ca_key);
    *ca_key = EVP_EC_gen("P-256");
    *ca = *ca_key ? issue("devkms development CA", *ca_key, NULL, *ca_key, true, CA_DAYS) : NULL;
    if (*ca == NULL)
        return signer_error_set(err, SIGNER_ERR_CRYPTO, "cannot create the development CA");
    if (write_pem(p->ca_key, NULL, *ca_key, err) != 0 || write_pem(p->ca, *ca, NULL, err) != 0)
        return -1;
    signer_log(SIGNER_LOG_INFO, "created a development CA in %s", p->ca);
    *fresh = true;
    return 0;
}

/* True when the certificate is signed by `ca` and valid for 30 more days. */
static bool cert_usable(X509 *cert, X509 *ca)
{
    if (cert == NULL || X509_verify(cert, X509_get0_pubkey(ca)) != 1)
        return false;
    time_t soon = time(NULL) + (time_t)RENEW_BEFORE_DAYS * 86400;
    return X509_cmp_time(X509_get0_notAfter(cert), &soon) > 0;
}

int devkms_tls_prepare(const char *state_dir, signer_buf *cert_pem, signer_buf *key_pem,
                       signer_error *err)
{
    pem_paths p;
    if (devkms_path(p.ca, sizeof(p.ca), state_dir, "ca.pem", err) ||
        devkms_path(p.ca_key, sizeof(p.ca_key), state_dir, "ca-key.pem", err) ||
        devkms_path(p.cert, sizeof(p.cert), state_dir, "tls-cert.pem", err) ||
        devkms_path(p.key, sizeof(p.key), state_dir, "tls-key.pem", err))
        return -1;
    X509 *ca = NULL, *cert = NULL;
    EVP_PKEY *ca_key = NULL, *key = NULL;
    bool fresh_ca;
    int rc = -1;
    if (prepare_ca(&p, &ca, &ca_key, &fresh_ca, err) != 0)
        goto out;
    cert = fresh_ca ? NULL : read_cert(p.cert);
    key = fresh_ca ? NULL : read_key(p.key);
    if (!cert_usable(cert, ca) || key == NULL || X509_check_private_key(cert, key) != 1) {
        X509_free(cert);
        EVP_PKEY_free(key);
        key = EVP_EC_gen("P-256");
        cert = key ? issue("localhost", key, ca, ca_key, false, TLS_DAYS) : NULL;
        if (cert == NULL) {
            signer_error_set(err, SIGNER_ERR_CRYPTO, "cannot issue the TLS certificate");
            goto out;
        }
        if (write_pem(p.key, NULL, key, err) != 0 || write_pem(p.cert, cert, NULL, err) != 0)
            goto out;
        signer_log(SIGNER_LOG_INFO, "issued a TLS certificate for localhost in %s", p.cert);
    }
    if (devkms_file_read(p.cert, 65536, cert_pem, err) != 0 ||
        devkms_file_read(p.key, 65536, key_pem, err) != 0 ||
        signer_buf_append(cert_pem, "", 1, err) != 0 || /* MHD wants C strings */
        signer_buf_append(key_pem, "", 1, err) != 0)
        goto out;
    rc = 0;
out:
    ERR_clear_error();
    X509_free(ca);
    X509_free(cert);
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(key);
    return rc;
}

/* ---- credentials.json --------------------------------------------------- */

static int random_text(char *out, size_t len, const char *alphabet, signer_error *err)
{
    size_t n = strlen(alphabet);
    uint8_t r[64];
    if (len > sizeof(r) || RAND_bytes(r, (int)len) != 1)
        return signer_error_set(err, SIGNER_ERR_CRYPTO, "no randomness");
    for (size_t i = 0; i < len; i++)
        out[i] = alphabet[r[i] % n]; /* 32 and 64 divide 256: no bias */
    out[len] = '\0';
    signer_wipe(r, sizeof(r));
    return 0;
}

static int write_credentials(const char *path, const devkms_credentials *c, signer_error *err)
{
    json_t *o = json_pack("{s:s, s:s, s:s}", "access_key_id", c->access_key_id, "secret_access_key",
                          c->secret_access_key, "region", c->region);
    if (o != NULL && c->session_token[0] != '\0')
        json_object_set_new(o, "session_token", json_string(c->session_token));
    char *text = o ? json_dumps(o, JSON_INDENT(2)) : NULL;
    json_decref(o);
    if (text == NULL)
        return signer_error_set(err, SIGNER_ERR_NO_MEMORY, "out of memory");
    size_t len = strlen(text);
    text[len] = '\n'; /* replaces the NUL: written by length */
    int rc = devkms_file_write_atomic(path, text, len + 1, 0600, err);
    signer_wipe(text, len + 1);
    free(text);
    return rc;
}

static int copy_field(json_t *o, const char *name, char *out, size_t size, bool required,
                      const char *path, signer_error *err)
{
    json_t *v = json_object_get(o, name);
    if (v == NULL && !required) {
        out[0] = '\0';
        return 0;
    }
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) >= size)
        return signer_error_set(err, SIGNER_ERR_STATE,
                                "%s: \"%s\" must be a non-empty string "
                                "shorter than %zu bytes",
                                path, name, size);
    memcpy(out, json_string_value(v), json_string_length(v) + 1);
    return 0;
}

int devkms_credentials_prepare(const char *state_dir, const char *region, devkms_credentials *out,
                               signer_error *err)
{
    static const char upper32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char path[PATH_MAX];
    memset(out, 0, sizeof(*out));
    if (devkms_path(path, sizeof(path), state_dir, "credentials.json", err) != 0)
        return -1;
    if (!devkms_file_exists(path)) {
        memcpy(out->access_key_id, "AKIA", 4);
        if (random_text(out->access_key_id + 4, 16, upper32, err) != 0 ||
            random_text(out->secret_access_key, 40, b64, err) != 0)
            return -1;
        snprintf(out->region, sizeof(out->region), "%s", region ? region : KMS_DEFAULT_REGION);
        return write_credentials(path, out, err);
    }
    signer_buf text = SIGNER_BUF_INIT;
    if (devkms_file_read(path, 65536, &text, err) != 0)
        return -1;
    json_error_t jerr;
    json_t *o = json_loadb((const char *)text.data, text.len, 0, &jerr);
    signer_buf_free(&text);
    if (!json_is_object(o)) {
        json_decref(o);
        return signer_error_set(err, SIGNER_ERR_STATE, "%s is not a JSON object", path);
    }
    int rc = copy_field(o, "access_key_id", out->access_key_id, sizeof(out->access_key_id), true,
                        path, err);
    if (rc == 0)
        rc = copy_field(o, "secret_access_key", out->secret_access_key,
                        sizeof(out->secret_access_key), true, path, err);
    if (rc == 0)
        rc = copy_field(o, "session_token", out->session_token, sizeof(out->session_token), false,
                        path, err);
    if (rc == 0)
        rc = copy_field(o, "region", out->region, sizeof(out->region), false, path, err);
    json_decref(o);
    if (rc != 0)
        return -1;
    bool rewrite = false;
    if (region != NULL && strcmp(region, out->region) != 0) {
        snprintf(out->region, sizeof(out->region), "%s", region);
        rewrite = true;
    } else if (out->region[0] == '\0') {
        snprintf(out->region, sizeof(out->region), "%s", KMS_DEFAULT_REGION);
        rewrite = true;
    }
    return rewrite ? write_credentials(path, out, err) : 0;
}
