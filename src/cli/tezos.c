/* Tezos base58check: the text forms operators paste into octez-client,
 * explorers and Signatory's configuration. */
#include <sodium.h>
#include <string.h>

#include "tezos.h"

#define CHECKSUM_BYTES 4
#define KEY_HASH_BYTES 20

static const char alphabet[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/* Prefix bytes from Tezos (src/lib_crypto/base58.ml), as Taquito lists them
 * in taquito-utils src/constants.ts; each gives its text form a fixed start
 * for a payload of exactly `payload` bytes. */
typedef struct tezos_prefix {
    tezos_kind kind;
    signer_key_type type;
    int typed; /* 0: the generic "sig" form, whose type is not recorded */
    const char *name;
    uint8_t bytes[5];
    uint8_t len;
    uint8_t payload;
} tezos_prefix;

static const tezos_prefix prefixes[] = {
    {TEZOS_PUBLIC_KEY, SIGNER_KEY_ED25519, 1, "edpk", {13, 15, 37, 217}, 4, 32},
    {TEZOS_PUBLIC_KEY, SIGNER_KEY_SECP256K1, 1, "sppk", {3, 254, 226, 86}, 4, 33},
    {TEZOS_PUBLIC_KEY, SIGNER_KEY_NISTP256, 1, "p2pk", {3, 178, 139, 127}, 4, 33},
    {TEZOS_PUBLIC_KEY, SIGNER_KEY_BLS, 1, "BLpk", {6, 149, 135, 204}, 4, 48},
    {TEZOS_SIGNATURE, SIGNER_KEY_ED25519, 1, "edsig", {9, 245, 205, 134, 18}, 5, 64},
    {TEZOS_SIGNATURE, SIGNER_KEY_SECP256K1, 1, "spsig1", {13, 115, 101, 19, 63}, 5, 64},
    {TEZOS_SIGNATURE, SIGNER_KEY_NISTP256, 1, "p2sig", {54, 240, 44, 52}, 4, 64},
    {TEZOS_SIGNATURE, SIGNER_KEY_BLS, 1, "BLsig", {40, 171, 64, 207}, 4, 96},
    {TEZOS_SIGNATURE, SIGNER_KEY_ED25519, 0, "sig", {4, 130, 43}, 3, 64},
    {TEZOS_ADDRESS, SIGNER_KEY_ED25519, 1, "tz1", {6, 161, 159}, 3, KEY_HASH_BYTES},
    {TEZOS_ADDRESS, SIGNER_KEY_SECP256K1, 1, "tz2", {6, 161, 161}, 3, KEY_HASH_BYTES},
    {TEZOS_ADDRESS, SIGNER_KEY_NISTP256, 1, "tz3", {6, 161, 164}, 3, KEY_HASH_BYTES},
    {TEZOS_ADDRESS, SIGNER_KEY_BLS, 1, "tz4", {6, 161, 166}, 3, KEY_HASH_BYTES},
};

#define PREFIX_COUNT (sizeof(prefixes) / sizeof(prefixes[0]))

static const char *const kind_names[] = {
    [TEZOS_PUBLIC_KEY] = "a Tezos public key (edpk, sppk, p2pk or BLpk)",
    [TEZOS_SIGNATURE] = "a Tezos signature (edsig, spsig1, p2sig, BLsig or sig)",
    [TEZOS_ADDRESS] = "a Tezos address (tz1, tz2, tz3 or tz4)",
};

int tezos_base58_encode(const uint8_t *in, size_t len, char *out, size_t cap, signer_error *err)
{
    /* Base-256 to base-58 by repeated multiply-and-add on a digit array:
     * quadratic, which is nothing for the hundred-odd bytes used here. */
    uint8_t digits[TEZOS_B58_DATA_MAX * 138 / 100 + 1];
    if (len > TEZOS_B58_DATA_MAX)
        return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT,
                                "base58: %zu bytes is more than the %d handled", len,
                                TEZOS_B58_DATA_MAX);
    size_t zeros = 0;
    while (zeros < len && in[zeros] == 0)
        zeros++;
    size_t size = (len - zeros) * 138 / 100 + 1, used = 0; /* log(256)/log(58) < 1.38 */
    memset(digits, 0, size);
    for (size_t i = zeros; i < len; i++) {
        unsigned carry = in[i];
        size_t j = 0;
        for (size_t k = size; k > 0 && (carry != 0 || j < used); k--, j++) {
            carry += 256u * digits[k - 1];
            digits[k - 1] = (uint8_t)(carry % 58);
            carry /= 58;
        }
        used = j;
    }
    size_t start = size - used;
    while (start < size && digits[start] == 0)
        start++;
    size_t total = zeros + (size - start);
    if (total + 1 > cap)
        return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT,
                                "base58: output buffer too small");
    memset(out, '1', zeros);
    for (size_t i = start; i < size; i++)
        out[zeros + i - start] = alphabet[digits[i]];
    out[total] = '\0';
    return 0;
}

static int base58_value(char c)
{
    const char *p = c ? strchr(alphabet, c) : NULL;
    return p ? (int)(p - alphabet) : -1;
}

int tezos_base58_decode(const char *in, uint8_t *out, size_t cap, size_t *len, signer_error *err)
{
    uint8_t bytes[TEZOS_B58_MAX * 733 / 1000 + 1]; /* log(58)/log(256) < 0.733 */
    size_t n = strlen(in);
    if (n >= TEZOS_B58_MAX)
        return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT,
                                "base58: %zu characters is more than the %d handled", n,
                                TEZOS_B58_MAX - 1);
    size_t zeros = 0;
    while (zeros < n && in[zeros] == '1')
        zeros++;
    size_t size = (n - zeros) * 733 / 1000 + 1, used = 0;
    memset(bytes, 0, size);
    for (size_t i = zeros; i < n; i++) {
        int v = base58_value(in[i]);
        if (v < 0)
            return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT,
                                    "base58: invalid character at position %zu", i + 1);
        unsigned carry = (unsigned)v;
        size_t j = 0;
        for (size_t k = size; k > 0 && (carry != 0 || j < used); k--, j++) {
            carry += 58u * bytes[k - 1];
            bytes[k - 1] = (uint8_t)(carry & 0xff);
            carry >>= 8;
        }
        used = j;
    }
    size_t start = size - used;
    while (start < size && bytes[start] == 0)
        start++;
    size_t total = zeros + (size - start);
    if (total > cap)
        return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT,
                                "base58: decodes to more than %zu bytes", cap);
    memset(out, 0, zeros);
    memcpy(out + zeros, bytes + start, size - start);
    *len = total;
    return 0;
}

/* First 4 bytes of SHA-256(SHA-256(data)). */
static void checksum(const uint8_t *data, size_t len, uint8_t out[CHECKSUM_BYTES])
{
    uint8_t h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, data, len);
    crypto_hash_sha256(h, h, sizeof(h));
    memcpy(out, h, CHECKSUM_BYTES);
}

int tezos_b58check_encode(const uint8_t *prefix, size_t prefix_len, const uint8_t *payload,
                          size_t payload_len, char *out, size_t cap, signer_error *err)
{
    uint8_t data[TEZOS_B58_DATA_MAX];
    if (prefix_len > sizeof(data) - CHECKSUM_BYTES ||
        payload_len > sizeof(data) - CHECKSUM_BYTES - prefix_len)
        return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT,
                                "base58check: %zu bytes is too long", prefix_len + payload_len);
    memcpy(data, prefix, prefix_len);
    memcpy(data + prefix_len, payload, payload_len);
    checksum(data, prefix_len + payload_len, data + prefix_len + payload_len);
    return tezos_base58_encode(data, prefix_len + payload_len + CHECKSUM_BYTES, out, cap, err);
}

int tezos_b58check_decode(const char *in, uint8_t *out, size_t cap, size_t *len, signer_error *err)
{
    uint8_t data[TEZOS_B58_DATA_MAX], sum[CHECKSUM_BYTES];
    size_t n;
    if (tezos_base58_decode(in, data, sizeof(data), &n, err) != 0)
        return -1;
    if (n < CHECKSUM_BYTES)
        return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT, "base58check: too short");
    n -= CHECKSUM_BYTES;
    checksum(data, n, sum);
    if (sodium_memcmp(sum, data + n, CHECKSUM_BYTES) != 0)
        return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT,
                                "base58check: wrong checksum (mistyped or truncated?)");
    if (n > cap)
        return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT,
                                "base58check: decodes to more than %zu bytes", cap);
    memcpy(out, data, n);
    *len = n;
    return 0;
}

static const tezos_prefix *prefix_for(tezos_kind kind, signer_key_type type)
{
    for (size_t i = 0; i < PREFIX_COUNT; i++)
        if (prefixes[i].kind == kind && prefixes[i].type == type && prefixes[i].typed)
            return &prefixes[i];
    return NULL;
}

int tezos_key_hash(const uint8_t *public_key, size_t len, uint8_t hash[20], signer_error *err)
{
    if (crypto_generichash(hash, KEY_HASH_BYTES, public_key, len, NULL, 0) != 0)
        return signer_error_set(err, SIGNER_ERR_CRYPTO, "BLAKE2b failed");
    return 0;
}

int tezos_encode(tezos_kind kind, signer_key_type type, const uint8_t *bytes, size_t len,
                 char out[TEZOS_B58_MAX], signer_error *err)
{
    const tezos_prefix *p = prefix_for(kind, type);
    const tezos_prefix *pk = prefix_for(TEZOS_PUBLIC_KEY, type);
    if (p == NULL || pk == NULL)
        return signer_error_set(err, SIGNER_ERR_UNSUPPORTED, "no Tezos form for this key type");
    /* An address hashes the public key, so it is the key's length we check. */
    size_t want = kind == TEZOS_ADDRESS ? pk->payload : p->payload;
    if (len != want)
        return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT, "%s: expected %zu bytes, got %zu",
                                p->name, want, len);
    if (kind != TEZOS_ADDRESS)
        return tezos_b58check_encode(p->bytes, p->len, bytes, len, out, TEZOS_B58_MAX, err);
    uint8_t hash[KEY_HASH_BYTES];
    if (tezos_key_hash(bytes, len, hash, err) != 0)
        return -1;
    return tezos_b58check_encode(p->bytes, p->len, hash, sizeof(hash), out, TEZOS_B58_MAX, err);
}

int tezos_decode(tezos_kind kind, const char *text, signer_key_type *type, int *typed, uint8_t *out,
                 size_t cap, size_t *len, signer_error *err)
{
    uint8_t data[TEZOS_B58_DATA_MAX];
    size_t n;
    if (tezos_b58check_decode(text, data, sizeof(data), &n, err) != 0)
        return -1;
    for (size_t i = 0; i < PREFIX_COUNT; i++) {
        const tezos_prefix *p = &prefixes[i];
        if (p->kind != kind || n != (size_t)p->len + p->payload ||
            memcmp(data, p->bytes, p->len) != 0)
            continue;
        if (p->payload > cap)
            return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT, "%s: output buffer too small",
                                    p->name);
        memcpy(out, data + p->len, p->payload);
        *len = p->payload;
        if (p->typed)
            *type = p->type;
        if (typed != NULL)
            *typed = p->typed;
        return 0;
    }
    return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT, "not %s", kind_names[kind]);
}
