/* Memory for secrets: wiping, and page-locked regions that are kept out of
 * core dumps and swap. */
#ifndef SIGNER_MEMORY_H
#define SIGNER_MEMORY_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Zeroes `len` bytes in a way the compiler cannot remove. */
void signer_wipe(void *p, size_t len);

/* Maps `len` zeroed bytes, locks them in RAM where the system allows and
 * excludes them from core dumps.  Returns NULL when out of memory. */
void *signer_secure_alloc(size_t len);

/* Wipes, unlocks and unmaps a region from signer_secure_alloc (NULL is ok). */
void signer_secure_free(void *p, size_t len);

/* free() and realloc() that wipe the block they release, for libraries
 * that hold secrets in memory of their own (libcurl copies request bodies,
 * OpenSSL keeps key data and TLS records). */
void signer_wiping_free(void *p);
void *signer_wiping_realloc(void *p, size_t len);

/* Makes OpenSSL wipe everything it frees and gives it a locked secure heap
 * for private scalars (BN_secure_new).  Call first thing in main(), before
 * OpenSSL allocates anything; returns -1 when it is too late. */
int signer_memory_harden_openssl(void);

#ifdef __cplusplus
}
#endif
#endif
