/* Growable buffer that never leaves stale copies of its contents behind. */
#include <stdlib.h>
#include <string.h>

#include "signer/buf.h"
#include "signer/memory.h"

int signer_buf_reserve(signer_buf *buf, size_t extra, signer_error *err)
{
    if (extra > SIZE_MAX - buf->len)
        return signer_error_set(err, SIGNER_ERR_NO_MEMORY, "buffer size overflow");
    size_t need = buf->len + extra;
    if (need <= buf->cap)
        return 0;
    size_t cap = buf->cap ? buf->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    /* Not realloc: the old block must be wiped before it is released. */
    uint8_t *data = malloc(cap);
    if (data == NULL)
        return signer_error_set(err, SIGNER_ERR_NO_MEMORY, "out of memory (%zu bytes)", cap);
    if (buf->len)
        memcpy(data, buf->data, buf->len);
    if (buf->data) {
        signer_wipe(buf->data, buf->cap);
        free(buf->data);
    }
    buf->data = data;
    buf->cap = cap;
    return 0;
}

int signer_buf_append(signer_buf *buf, const void *data, size_t len, signer_error *err)
{
    if (len == 0)
        return 0;
    if (signer_buf_reserve(buf, len, err) != 0)
        return -1;
    memcpy(buf->data + buf->len, data, len);
    buf->len += len;
    return 0;
}

void signer_buf_consume(signer_buf *buf, size_t n)
{
    if (n >= buf->len) {
        signer_buf_clear(buf);
        return;
    }
    size_t rest = buf->len - n;
    memmove(buf->data, buf->data + n, rest);
    signer_wipe(buf->data + rest, n);
    buf->len = rest;
}

void signer_buf_clear(signer_buf *buf)
{
    if (buf->data)
        signer_wipe(buf->data, buf->len);
    buf->len = 0;
}

void signer_buf_free(signer_buf *buf)
{
    if (buf->data) {
        signer_wipe(buf->data, buf->cap);
        free(buf->data);
    }
    buf->data = NULL;
    buf->len = buf->cap = 0;
}
