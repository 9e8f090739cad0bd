/* Reading whole files and streams into a wiping buffer. */
#ifndef SIGNER_FILE_H
#define SIGNER_FILE_H

#include <stddef.h>

#include "signer/buf.h"
#include "signer/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Appends everything `fd` yields until end of input, refusing more than
 * `max` bytes in all.  `what` names the source in messages. */
int signer_read_fd(int fd, const char *what, size_t max, signer_buf *out, signer_error *err);

/* The same for the file at `path`. */
int signer_read_file(const char *path, size_t max, signer_buf *out, signer_error *err);

#ifdef __cplusplus
}
#endif
#endif
