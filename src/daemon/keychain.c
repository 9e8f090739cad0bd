/* A session's keys live in fixed-size chunks of locked memory, so a key
 * never moves (no stale copies) and a handle is a plain index. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "signer/memory.h"

#define KEYS_PER_CHUNK 256
#define CHUNK_BYTES (KEYS_PER_CHUNK * sizeof(signer_key))

/* Keys held by all sessions: the enclave's memory is one budget. */
static atomic_size_t keys_alive;

void keychain_init(keychain *kc, size_t max_keys, size_t max_total)
{
    memset(kc, 0, sizeof(*kc));
    kc->max_keys = max_keys;
    kc->max_total = max_total;
}

signer_key *keychain_next_slot(keychain *kc, signer_error *err)
{
    if (kc->count >= kc->max_keys) {
        signer_error_set(err, SIGNER_ERR_STATE, "this session already holds %zu keys, the limit",
                         kc->count);
        return NULL;
    }
    if (atomic_load(&keys_alive) >= kc->max_total) {
        signer_error_set(err, SIGNER_ERR_STATE,
                         "the signer holds %zu keys in all sessions, its limit", kc->max_total);
        return NULL;
    }
    size_t chunk = kc->count / KEYS_PER_CHUNK;
    if (chunk == kc->chunk_count) {
        signer_key **chunks = realloc(kc->chunks, (chunk + 1) * sizeof(*chunks));
        if (chunks == NULL) {
            signer_error_set(err, SIGNER_ERR_NO_MEMORY, "out of memory for keys");
            return NULL;
        }
        kc->chunks = chunks;
        kc->chunks[chunk] = signer_secure_alloc(CHUNK_BYTES);
        if (kc->chunks[chunk] == NULL) {
            signer_error_set(err, SIGNER_ERR_NO_MEMORY, "out of memory for keys");
            return NULL;
        }
        kc->chunk_count++;
    }
    signer_key *slot = &kc->chunks[chunk][kc->count % KEYS_PER_CHUNK];
    signer_key_wipe(slot);
    return slot;
}

uint64_t keychain_commit(keychain *kc)
{
    atomic_fetch_add(&keys_alive, 1);
    return kc->count++;
}

signer_key *keychain_get(keychain *kc, uint64_t handle, signer_error *err)
{
    if (handle >= kc->count) {
        signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT,
                         "invalid handle %llu (this session holds %zu keys)",
                         (unsigned long long)handle, kc->count);
        return NULL;
    }
    return &kc->chunks[handle / KEYS_PER_CHUNK][handle % KEYS_PER_CHUNK];
}

void keychain_free(keychain *kc)
{
    for (size_t i = 0; i < kc->count; i++)
        signer_key_wipe(&kc->chunks[i / KEYS_PER_CHUNK][i % KEYS_PER_CHUNK]);
    for (size_t c = 0; c < kc->chunk_count; c++)
        signer_secure_free(kc->chunks[c], CHUNK_BYTES);
    atomic_fetch_sub(&keys_alive, kc->count);
    free(kc->chunks);
    memset(kc, 0, sizeof(*kc));
}
