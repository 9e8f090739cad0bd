/* Loading the software NSM's configuration. */
#include <errno.h>
#include <jansson.h>
#include <libgen.h>
#include <limits.h>
#include <openssl/pem.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_config.h"

/* `name` relative to the folder of `config`, unless absolute. */
static void resolve(const char *config, const char *name, char *out, size_t cap)
{
    char copy[PATH_MAX];
    if (name[0] == '/') {
        snprintf(out, cap, "%s", name);
        return;
    }
    snprintf(copy, sizeof(copy), "%s", config);
    snprintf(out, cap, "%s/%s", dirname(copy), name);
}

int sim_pcr_from_file(const char *path, uint8_t out[SIM_PCR_BYTES], signer_error *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return signer_error_set(err, SIGNER_ERR_IO, "cannot read image %s: %s", path,
                                strerror(errno));
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    uint8_t block[1 << 16], register_[2 * SIM_PCR_BYTES];
    int ok = md != NULL && EVP_DigestInit_ex(md, EVP_sha384(), NULL) == 1;
    size_t n;
    while (ok && (n = fread(block, 1, sizeof(block), f)) > 0)
        ok = EVP_DigestUpdate(md, block, n) == 1;
    ok = ok && !ferror(f);
    fclose(f);
    /* Extend a zeroed register with the image's digest. */
    memset(register_, 0, SIM_PCR_BYTES);
    ok = ok && EVP_DigestFinal_ex(md, register_ + SIM_PCR_BYTES, NULL) == 1 &&
         EVP_Digest(register_, sizeof(register_), out, NULL, EVP_sha384(), NULL) == 1;
    EVP_MD_CTX_free(md);
    if (!ok)
        return signer_error_set(err, SIGNER_ERR_IO, "cannot measure %s", path);
    return 0;
}

/* "0".."15" to an index. */
static int pcr_index(const char *key, signer_error *err)
{
    char *end;
    long i = strtol(key, &end, 10);
    if (*key == '\0' || *end != '\0' || i < 0 || i >= SIM_PCR_COUNT)
        return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT, "PCR index \"%s\" is not 0..%d",
                                key, SIM_PCR_COUNT - 1);
    return (int)i;
}

static int load_pcrs(json_t *root, const char *config, sim_config *cfg, signer_error *err)
{
    const char *key;
    json_t *v;
    json_object_foreach(json_object_get(root, "pcrs"), key, v)
    {
        int i = pcr_index(key, err);
        size_t len;
        const char *hex = json_string_value(v);
        if (i < 0)
            return -1;
        if (hex == NULL ||
            sodium_hex2bin(cfg->pcrs[i].value, SIM_PCR_BYTES, hex, strlen(hex), NULL, &len, NULL) !=
                0 ||
            len != SIM_PCR_BYTES)
            return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT,
                                    "pcrs.%s must be %d bytes of hex", key, SIM_PCR_BYTES);
    }
    json_object_foreach(json_object_get(root, "pcr_files"), key, v)
    {
        char path[PATH_MAX];
        int i = pcr_index(key, err);
        if (i < 0)
            return -1;
        if (!json_is_string(v))
            return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT, "pcr_files.%s must be a path",
                                    key);
        resolve(config, json_string_value(v), path, sizeof(path));
        if (sim_pcr_from_file(path, cfg->pcrs[i].value, err) != 0)
            return -1;
    }
    for (int i = 0; i < SIM_PCR_COUNT; i++)
        cfg->pcrs[i].len = SIM_PCR_BYTES; /* unset PCRs read as zeros */
    return 0;
}

static int load_ca(const char *key_path, const char *chain_path, sim_config *cfg, signer_error *err)
{
    FILE *f = fopen(key_path, "r");
    if (f == NULL)
        return signer_error_set(err, SIGNER_ERR_IO, "cannot read %s: %s", key_path,
                                strerror(errno));
    cfg->ca_key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    if (cfg->ca_key == NULL)
        return signer_error_set(err, SIGNER_ERR_INVALID_KEY, "%s holds no PEM private key",
                                key_path);
    f = fopen(chain_path, "r");
    if (f == NULL)
        return signer_error_set(err, SIGNER_ERR_IO, "cannot read %s: %s", chain_path,
                                strerror(errno));
    X509 *chain[SIGNER_ATTESTATION_CABUNDLE_MAX];
    size_t n = 0;
    X509 *cert;
    while (n < SIGNER_ATTESTATION_CABUNDLE_MAX && (cert = PEM_read_X509(f, NULL, NULL, NULL)))
        chain[n++] = cert;
    fclose(f);
    int rc = 0;
    if (n == 0)
        rc = signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT, "%s holds no certificate",
                              chain_path);
    else if (X509_check_private_key(chain[0], cfg->ca_key) != 1)
        rc = signer_error_set(err, SIGNER_ERR_INVALID_KEY,
                              "the first certificate of %s is not the CA key's", chain_path);
    /* cabundle is root first: the file's order reversed. */
    for (size_t i = 0; rc == 0 && i < n; i++) {
        unsigned char *der = NULL;
        int len = i2d_X509(chain[n - 1 - i], &der);
        if (len <= 0 || signer_buf_append(&cfg->cabundle[i], der, (size_t)len, err) != 0)
            rc = signer_error_set(err, SIGNER_ERR_CRYPTO, "cannot encode the CA chain");
        OPENSSL_free(der);
        cfg->cabundle_count = i + 1;
    }
    if (rc == 0) {
        cfg->ca_cert = chain[0];
        chain[0] = NULL;
    }
    for (size_t i = 0; i < n; i++)
        X509_free(chain[i]);
    return rc;
}

int sim_config_load(const char *path, sim_config *cfg, signer_error *err)
{
    json_error_t jerr;
    memset(cfg, 0, sizeof(*cfg));
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL)
        return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT, "NSM simulator config %s: %s",
                                path, jerr.text);
    const char *module_id = json_string_value(json_object_get(root, "module_id"));
    const char *ca_key = json_string_value(json_object_get(root, "ca_key"));
    const char *ca_chain = json_string_value(json_object_get(root, "ca_chain"));
    char key_path[PATH_MAX], chain_path[PATH_MAX];
    int rc = 0;
    if (ca_key == NULL || ca_chain == NULL)
        rc = signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT,
                              "NSM simulator config %s needs ca_key and ca_chain", path);
    snprintf(cfg->module_id, sizeof(cfg->module_id), "%s",
             module_id ? module_id : "i-00000000000000000-enc0000000000000000");
    if (rc == 0)
        rc = load_pcrs(root, path, cfg, err);
    if (rc == 0) {
        resolve(path, ca_key, key_path, sizeof(key_path));
        resolve(path, ca_chain, chain_path, sizeof(chain_path));
        rc = load_ca(key_path, chain_path, cfg, err);
    }
    json_decref(root);
    if (rc != 0)
        sim_config_free(cfg);
    return rc;
}

void sim_config_free(sim_config *cfg)
{
    EVP_PKEY_free(cfg->ca_key);
    X509_free(cfg->ca_cert);
    for (size_t i = 0; i < SIGNER_ATTESTATION_CABUNDLE_MAX; i++)
        signer_buf_free(&cfg->cabundle[i]);
    memset(cfg, 0, sizeof(*cfg));
}
