/* Tezos base58check forms of public keys, signatures and addresses
 * (signer-cli's private helper; no I/O).
 *
 * base58check(prefix, payload) = base58(prefix || payload || checksum) where
 * checksum is the first 4 bytes of SHA-256(SHA-256(prefix || payload)).  An
 * address (tz1/tz2/tz3/tz4) is base58check of BLAKE2b-160 of the public key
 * bytes.  The prefix bytes are the ones Tezos and Taquito use
 * (taquito-utils src/constants.ts).
 *
 * Uses libsodium's hashes: call sodium_init() (signer_crypto_init does)
 * before any function here.  All functions return 0 or -1 (see error.h). */
#ifndef SIGNER_CLI_TEZOS_H
#define SIGNER_CLI_TEZOS_H

#include <stddef.h>
#include <stdint.h>

#include "signer/crypto.h"
#include "signer/error.h"

/* Room for the longest text form here (BLsig: 104 bytes -> 142 chars) + NUL. */
#define TEZOS_B58_MAX 160
/* Longest decoded base58check data handled (prefix + payload + checksum). */
#define TEZOS_B58_DATA_MAX 112

typedef enum tezos_kind {
    TEZOS_PUBLIC_KEY, /* edpk, sppk, p2pk, BLpk */
    TEZOS_SIGNATURE,  /* edsig, spsig1, p2sig, BLsig */
    TEZOS_ADDRESS,    /* tz1, tz2, tz3, tz4 */
} tezos_kind;

/* Plain base58 (Bitcoin alphabet), leading zero bytes as '1'.  Writes a
 * NUL-terminated string; fails when it does not fit in `cap`. */
int tezos_base58_encode(const uint8_t *in, size_t len, char *out, size_t cap, signer_error *err);

/* Decodes plain base58 into `out` (at most `cap` bytes), length in `*len`. */
int tezos_base58_decode(const char *in, uint8_t *out, size_t cap, size_t *len, signer_error *err);

/* base58check(prefix, payload) as a NUL-terminated string. */
int tezos_b58check_encode(const uint8_t *prefix, size_t prefix_len, const uint8_t *payload,
                          size_t payload_len, char *out, size_t cap, signer_error *err);

/* Decodes base58check and checks its checksum; `out` gets prefix || payload
 * (without the checksum). */
int tezos_b58check_decode(const char *in, uint8_t *out, size_t cap, size_t *len, signer_error *err);

/* The Tezos text form of `bytes`.  For TEZOS_PUBLIC_KEY and TEZOS_SIGNATURE
 * `bytes` is the key or signature as the RPC carries it; for TEZOS_ADDRESS it
 * is the public key (hashed here).  The length must match the type. */
int tezos_encode(tezos_kind kind, signer_key_type type, const uint8_t *bytes, size_t len,
                 char out[TEZOS_B58_MAX], signer_error *err);

/* Parses a Tezos text form of `kind` (any of the four key types), checking
 * prefix, checksum and length.  Writes the raw bytes (the public key, the
 * signature or the 20-byte key hash) to `out` and their type to `*type`.
 * The generic "sig" prefix carries no type: `*type` is then left alone and
 * `*typed` (if not NULL) is set to 0; otherwise 1. */
int tezos_decode(tezos_kind kind, const char *text, signer_key_type *type, int *typed, uint8_t *out,
                 size_t cap, size_t *len, signer_error *err);

/* BLAKE2b-160 of a public key: the payload of its address. */
int tezos_key_hash(const uint8_t *public_key, size_t len, uint8_t hash[20], signer_error *err);

#endif
