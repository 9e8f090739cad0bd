/* Locked, non-dumpable memory for private keys. */
#include <malloc.h>
#include <openssl/crypto.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "signer/memory.h"

void signer_wipe(void *p, size_t len)
{
    if (p != NULL && len > 0)
        sodium_memzero(p, len);
}

void *signer_secure_alloc(size_t len)
{
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    /* Best effort: RLIMIT_MEMLOCK may be small; the keys still work. */
    (void)mlock(p, len);
    (void)madvise(p, len, MADV_DONTDUMP);
    return p;
}

void signer_secure_free(void *p, size_t len)
{
    if (p == NULL)
        return;
    signer_wipe(p, len);
    (void)munlock(p, len);
    (void)munmap(p, len);
}

void signer_wiping_free(void *p)
{
    if (p == NULL)
        return;
    sodium_memzero(p, malloc_usable_size(p));
    free(p);
}

void *signer_wiping_realloc(void *p, size_t len)
{
    if (p == NULL)
        return malloc(len);
    /* Never realloc() in place: the old block must be wiped before it goes
     * back to the allocator. */
    void *fresh = malloc(len ? len : 1);
    if (fresh == NULL)
        return NULL;
    size_t old = malloc_usable_size(p);
    memcpy(fresh, p, old < len ? old : len);
    signer_wiping_free(p);
    return fresh;
}

static void *openssl_malloc(size_t len, const char *file, int line)
{
    (void)file;
    (void)line;
    return malloc(len);
}

static void *openssl_realloc(void *p, size_t len, const char *file, int line)
{
    (void)file;
    (void)line;
    return signer_wiping_realloc(p, len);
}

static void openssl_free(void *p, const char *file, int line)
{
    (void)file;
    (void)line;
    signer_wiping_free(p);
}

#define OPENSSL_SECURE_HEAP_BYTES (8u << 20) /* ~250,000 private scalars */
#define OPENSSL_SECURE_MIN_BYTES 32

int signer_memory_harden_openssl(void)
{
    if (CRYPTO_set_mem_functions(openssl_malloc, openssl_realloc, openssl_free) != 1)
        return -1;
    /* 0 is failure; 2 means the heap works but could not be locked. */
    return CRYPTO_secure_malloc_init(OPENSSL_SECURE_HEAP_BYTES, OPENSSL_SECURE_MIN_BYTES) == 0 ? -1
                                                                                               : 0;
}
