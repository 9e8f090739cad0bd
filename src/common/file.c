/* Whole files and streams, read with a bound. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "signer/file.h"

#define READ_BLOCK 65536

int signer_read_fd(int fd, const char *what, size_t max, signer_buf *out, signer_error *err)
{
    size_t start = out->len;
    for (;;) {
        size_t room = max - (out->len - start);
        if (signer_buf_reserve(out, room < READ_BLOCK ? room + 1 : READ_BLOCK, err) != 0)
            return -1;
        ssize_t n = read(fd, out->data + out->len, out->cap - out->len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return signer_error_set(err, SIGNER_ERR_IO, "cannot read %s: %s", what,
                                    strerror(errno));
        if (n == 0)
            return 0;
        out->len += (size_t)n;
        if (out->len - start > max)
            return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT, "%s is larger than %zu bytes",
                                    what, max);
    }
}

int signer_read_file(const char *path, size_t max, signer_buf *out, signer_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return signer_error_set(err, SIGNER_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    int rc = signer_read_fd(fd, path, max, out, err);
    close(fd);
    return rc;
}
