/* libFuzzer: one request payload through the request decoder. */
#include <stddef.h>
#include <stdint.h>

#include "signer/rpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rpc_request req;
    if (rpc_request_decode(data, size, &req, NULL) == 0)
        rpc_request_free(&req);
    return 0;
}
