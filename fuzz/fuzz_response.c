/* libFuzzer: an answer payload through the client's decoder, for a call
 * chosen by the first byte. */
#include <stddef.h>
#include <stdint.h>

#include "signer/rpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    rpc_response resp;
    if (rpc_response_decode((rpc_call)(data[0] % RPC_CALL_COUNT), data + 1, size - 1, &resp,
                            NULL) == 0)
        rpc_response_free(&resp);
    return 0;
}
