/* libFuzzer: the content of a sealed key (the private-key map). */
#include <stddef.h>
#include <stdint.h>

#include "signer/rpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready)
        ready = signer_crypto_init(NULL) == 0;
    signer_key key;
    if (rpc_private_key_decode(data, size, &key, NULL) == 0)
        signer_key_wipe(&key);
    return 0;
}
