/* Randomness from the kernel's CSPRNG.  In an enclave the daemon also
 * feeds the NSM's randomness into that pool at start-up, so this single
 * source covers both. */
#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "signer/crypto.h"

int signer_random_bytes(uint8_t *buf, size_t len, signer_error *err)
{
    while (len > 0) {
        ssize_t n = getrandom(buf, len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return signer_error_set(err, SIGNER_ERR_CRYPTO, "getrandom failed: %s",
                                    strerror(errno));
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}
