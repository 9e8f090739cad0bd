/* A session's sealer: the backend chosen at start-up, opened with the
 * credentials of the session's Initialize. */
#include <stdlib.h>
#include <string.h>

#include "signer/memory.h"
#include "signer/sealing.h"

extern const sealing_backend sealing_passthrough;
extern const sealing_backend sealing_kms;

static const sealing_backend *const backends[] = {&sealing_kms, &sealing_passthrough};

struct sealer {
    const sealing_backend *backend;
    void *state;
};

const sealing_backend *sealing_backend_find(const char *name)
{
    for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
        if (strcmp(backends[i]->name, name) == 0)
            return backends[i];
    return NULL;
}

int sealing_backend_start(const sealing_backend *backend, const sealing_settings *settings,
                          signer_error *err)
{
    return backend->start ? backend->start(settings, err) : 0;
}

int sealer_open(const sealing_backend *backend, const rpc_credentials *credentials, sealer **out,
                signer_error *err)
{
    sealer *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return signer_error_set(err, SIGNER_ERR_NO_MEMORY, "out of memory");
    s->backend = backend;
    if (backend->open(credentials, &s->state, err) != 0) {
        free(s);
        return -1;
    }
    *out = s;
    return 0;
}

int sealer_seal_key(sealer *s, const signer_key *key, signer_buf *out, signer_error *err)
{
    signer_buf plain = SIGNER_BUF_INIT;
    int rc = rpc_private_key_encode(key, &plain, err);
    if (rc == 0)
        rc = s->backend->seal(s->state, plain.data, plain.len, out, err);
    signer_buf_free(&plain);
    return rc;
}

int sealer_unseal_key(sealer *s, const uint8_t *sealed, size_t len, signer_key *key,
                      signer_error *err)
{
    signer_buf plain = SIGNER_BUF_INIT;
    int rc = s->backend->unseal(s->state, sealed, len, &plain, err);
    if (rc == 0)
        rc = rpc_private_key_decode(plain.data, plain.len, key, err);
    signer_buf_free(&plain);
    if (rc != 0)
        signer_error_wrap(err, "cannot unseal the key");
    return rc;
}

void sealer_close(sealer *s)
{
    if (s == NULL)
        return;
    s->backend->close(s->state);
    free(s);
}
