/* The public crypto API: dispatch to the scheme of each key type, and the
 * checks every scheme shares (lengths, signing versions). */
#include <pthread.h>
#include <sodium.h>
#include <string.h>

#include "internal.h"
#include "signer/memory.h"

static const crypto_scheme *const schemes[SIGNER_KEY_TYPE_COUNT] = {
    [SIGNER_KEY_SECP256K1] = &crypto_secp256k1,
    [SIGNER_KEY_NISTP256] = &crypto_p256,
    [SIGNER_KEY_ED25519] = &crypto_ed25519,
    [SIGNER_KEY_BLS] = &crypto_bls,
};

static const crypto_scheme *scheme_of(signer_key_type type)
{
    return (unsigned)type < SIGNER_KEY_TYPE_COUNT ? schemes[type] : NULL;
}

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static signer_error init_error;
static int init_status = -1;

static void init_libraries(void)
{
    if (sodium_init() < 0) {
        signer_error_set(&init_error, SIGNER_ERR_CRYPTO, "libsodium failed to initialise");
        return;
    }
    if (crypto_secp256k1_init(&init_error) != 0 || crypto_p256_init(&init_error) != 0)
        return;
    init_status = 0;
}

int signer_crypto_init(signer_error *err)
{
    pthread_once(&init_once, init_libraries);
    if (init_status != 0 && err != NULL)
        *err = init_error;
    return init_status;
}

const char *signer_key_type_name(signer_key_type type)
{
    const crypto_scheme *s = scheme_of(type);
    return s ? s->name : "?";
}

int signer_key_type_from_name(const char *name, size_t len, signer_key_type *out, signer_error *err)
{
    for (int t = 0; t < SIGNER_KEY_TYPE_COUNT; t++) {
        if (strlen(schemes[t]->name) == len && memcmp(schemes[t]->name, name, len) == 0) {
            *out = (signer_key_type)t;
            return 0;
        }
    }
    return signer_error_set(err, SIGNER_ERR_UNSUPPORTED,
                            "unknown key type (expected Secp256k1, NistP256, Ed25519 or Bls)");
}

size_t signer_public_key_size(signer_key_type type)
{
    const crypto_scheme *s = scheme_of(type);
    return s ? s->public_size : 0;
}

size_t signer_signature_size(signer_key_type type)
{
    const crypto_scheme *s = scheme_of(type);
    return s ? s->signature_size : 0;
}

size_t signer_key_public_size(const signer_key *key)
{
    return signer_public_key_size(key->type);
}

int signer_key_import(signer_key *key, signer_key_type type, const uint8_t *secret,
                      size_t secret_len, signer_error *err)
{
    const crypto_scheme *s = scheme_of(type);
    memset(key, 0, sizeof(*key));
    if (s == NULL)
        return signer_error_set(err, SIGNER_ERR_UNSUPPORTED, "unknown key type");
    if (secret_len != SIGNER_SECRET_KEY_BYTES)
        return signer_error_set(err, SIGNER_ERR_INVALID_KEY,
                                "%s private key must be %d bytes, not %zu", s->name,
                                SIGNER_SECRET_KEY_BYTES, secret_len);
    key->type = type;
    if (s->import(key, secret, err) != 0) {
        signer_key_wipe(key);
        return -1;
    }
    return 0;
}

int signer_key_generate(signer_key *key, signer_key_type type, signer_error *err)
{
    const crypto_scheme *s = scheme_of(type);
    memset(key, 0, sizeof(*key));
    if (s == NULL)
        return signer_error_set(err, SIGNER_ERR_UNSUPPORTED, "unknown key type");
    key->type = type;
    if (s->generate != NULL) {
        if (s->generate(key, err) == 0)
            return 0;
        signer_key_wipe(key);
        return -1;
    }
    /* Rejection sampling: uniform over the valid scalars.  An invalid draw
     * has probability about 2^-128, so the bound is never reached. */
    uint8_t secret[SIGNER_SECRET_KEY_BYTES];
    int rc = -1;
    for (int attempt = 0; attempt < 64 && rc != 0; attempt++) {
        if (signer_random_bytes(secret, sizeof(secret), err) != 0)
            break;
        rc = signer_key_import(key, type, secret, sizeof(secret), err);
    }
    signer_wipe(secret, sizeof(secret));
    return rc;
}

void signer_key_export(const signer_key *key, uint8_t out[SIGNER_SECRET_KEY_BYTES])
{
    schemes[key->type]->export_secret(key, out);
}

/* Versions that exist: 0, 1, 2 and 255 (latest). */
static int check_version(signer_key_type type, unsigned version, signer_error *err)
{
    if (version > SIGNER_VERSION_MAX_KNOWN && version != SIGNER_VERSION_LATEST)
        return signer_error_set(err, SIGNER_ERR_UNSUPPORTED,
                                "unsupported signing version %u (expected 0, 1, 2 or 255)",
                                version);
    if (type == SIGNER_KEY_BLS && version == 0)
        return signer_error_set(err, SIGNER_ERR_UNSUPPORTED,
                                "signing version 0 does not exist for Bls keys");
    return 0;
}

int signer_sign(signer_key *key, const uint8_t *message, size_t message_len, unsigned version,
                uint8_t sig[SIGNER_SIGNATURE_MAX], signer_error *err)
{
    const crypto_scheme *s = scheme_of(key->type);
    if (s == NULL)
        return signer_error_set(err, SIGNER_ERR_UNSUPPORTED, "unknown key type");
    if (check_version(key->type, version, err) != 0)
        return -1;
    return s->sign(key, message, message_len, version, sig, err);
}

int signer_prove_possession(const signer_key *key, uint8_t sig[SIGNER_SIGNATURE_MAX],
                            signer_error *err)
{
    if (key->type != SIGNER_KEY_BLS)
        return signer_error_set(err, SIGNER_ERR_UNSUPPORTED,
                                "proof of possession exists only for Bls keys, not %s",
                                signer_key_type_name(key->type));
    return crypto_bls_prove_possession(key, sig, err);
}

int signer_verify_possession(const uint8_t *public_key, size_t public_key_len, const uint8_t *proof,
                             size_t proof_len, signer_error *err)
{
    if (public_key_len != crypto_bls.public_size || proof_len != crypto_bls.signature_size)
        return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT,
                                "a Bls public key is %zu bytes and a proof %zu bytes",
                                crypto_bls.public_size, crypto_bls.signature_size);
    return crypto_bls_verify_possession(public_key, proof, err);
}

int signer_verify(signer_key_type type, const uint8_t *public_key, size_t public_key_len,
                  const uint8_t *message, size_t message_len, unsigned version, const uint8_t *sig,
                  size_t sig_len, signer_error *err)
{
    const crypto_scheme *s = scheme_of(type);
    if (s == NULL)
        return signer_error_set(err, SIGNER_ERR_UNSUPPORTED, "unknown key type");
    if (check_version(type, version, err) != 0)
        return -1;
    if (public_key_len != s->public_size)
        return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT,
                                "%s public key must be %zu bytes, not %zu", s->name, s->public_size,
                                public_key_len);
    if (sig_len != s->signature_size)
        return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT,
                                "%s signature must be %zu bytes, not %zu", s->name,
                                s->signature_size, sig_len);
    return s->verify(public_key, message, message_len, version, sig, err);
}

void signer_key_wipe(signer_key *key)
{
    const crypto_scheme *s = scheme_of(key->type);
    if (s != NULL && s->release != NULL && key->cache != NULL)
        s->release(key);
    signer_wipe(key, sizeof(*key));
}
