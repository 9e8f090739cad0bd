/* What an NSM backend does: turn one CBOR request into one CBOR response,
 * as the driver's ioctl does. */
#ifndef SIGNER_NSM_BACKEND_H
#define SIGNER_NSM_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "signer/error.h"

typedef struct nsm_backend {
    const char *name;
    /* Answers `request`; writes at most `*response_len` bytes and sets
     * `*response_len` to the number written.  Fails only when no answer
     * came back at all (the NSM's own errors are CBOR Error answers). */
    int (*transact)(void *state, const uint8_t *request, size_t request_len, uint8_t *response,
                    size_t *response_len, signer_error *err);
    void (*close)(void *state);
} nsm_backend;

int nsm_device_open(const char *path, void **state, signer_error *err);
extern const nsm_backend nsm_device_backend;

int nsm_sim_open(const char *config_path, void **state, signer_error *err);
extern const nsm_backend nsm_sim_backend;

#endif
