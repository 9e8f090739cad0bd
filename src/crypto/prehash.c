/* The Tezos prehash and small constant-time helpers. */
#include <sodium.h>

#include "internal.h"

void crypto_prehash(const uint8_t *message, size_t len, uint8_t digest[PREHASH_BYTES])
{
    /* Cannot fail for these sizes (libsodium checks only out/key lengths). */
    (void)crypto_generichash(digest, PREHASH_BYTES, message, len, NULL, 0);
}

int crypto_be_less(const uint8_t *a, const uint8_t *b, size_t len)
{
    /* Scan from the least significant byte so the most significant
     * difference decides; no branch depends on the values. */
    unsigned lt = 0;
    for (size_t i = len; i-- > 0;) {
        unsigned x = a[i], y = b[i];
        unsigned less = (x - y) >> 8 & 1; /* x < y */
        unsigned differ = ((x ^ y) + 0xff) >> 8 & 1;
        lt = (lt & ~(0u - differ)) | (less & (0u - differ));
    }
    return (int)lt;
}

int crypto_is_zero(const uint8_t *a, size_t len)
{
    return sodium_is_zero(a, len);
}
