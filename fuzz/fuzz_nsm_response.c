/* libFuzzer: NSM answers (from the device or the simulator) through the
 * response decoder, and requests through the simulator's decoder. */
#include <stddef.h>
#include <stdint.h>

#include "codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    nsm_response resp;
    nsm_request req;
    if (nsm_response_decode(data, size, &resp, NULL) == 0)
        nsm_response_free(&resp);
    if (nsm_request_decode(data, size, &req, NULL) == 0)
        nsm_request_free(&req);
    return 0;
}
