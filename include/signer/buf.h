/* A growable byte buffer whose old contents are wiped whenever it moves or
 * is freed, so it can carry frames that hold key material. */
#ifndef SIGNER_BUF_H
#define SIGNER_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "signer/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct signer_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
} signer_buf;

#define SIGNER_BUF_INIT                                                                            \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

/* A read-only view of bytes owned by someone else. */
typedef struct signer_bytes {
    const uint8_t *data;
    size_t len;
} signer_bytes;

/* Makes room for `extra` more bytes after `len`. */
int signer_buf_reserve(signer_buf *buf, size_t extra, signer_error *err);

/* Appends `len` bytes. */
int signer_buf_append(signer_buf *buf, const void *data, size_t len, signer_error *err);

/* Drops the first `n` bytes, moving the rest to the front (wiping the gap). */
void signer_buf_consume(signer_buf *buf, size_t n);

/* Wipes the contents and sets len to 0; keeps the allocation. */
void signer_buf_clear(signer_buf *buf);

/* Wipes and frees. */
void signer_buf_free(signer_buf *buf);

#ifdef __cplusplus
}
#endif
#endif
