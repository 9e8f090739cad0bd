/* The passthrough backend: the sealed key is the plaintext private-key map.
 * Only for tests and Signatory's mock mode; the daemon warns loudly. */
#include "signer/sealing.h"

static int passthrough_open(const rpc_credentials *credentials, void **state, signer_error *err)
{
    (void)credentials; /* any map is accepted, even an empty one */
    (void)err;
    *state = NULL;
    return 0;
}

static int passthrough_copy(void *state, const uint8_t *in, size_t len, signer_buf *out,
                            signer_error *err)
{
    (void)state;
    return signer_buf_append(out, in, len, err);
}

static void passthrough_close(void *state)
{
    (void)state;
}

const sealing_backend sealing_passthrough = {
    .name = "passthrough",
    .open = passthrough_open,
    .seal = passthrough_copy,
    .unseal = passthrough_copy,
    .close = passthrough_close,
};
