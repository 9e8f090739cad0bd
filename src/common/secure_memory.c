/* Locked, non-dumpable memory for private keys. */
#include <sodium.h>
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
