/* Blocking whole-buffer reads and writes on stream sockets. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "signer/net.h"

int net_write_all(int fd, const void *buf, size_t len, signer_error *err)
{
    const unsigned char *p = buf;
    while (len > 0) {
        /* MSG_NOSIGNAL: a peer that went away must not kill the process. */
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return signer_error_set(err, SIGNER_ERR_IO, "write failed: %s", strerror(errno));
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int net_read_exact(int fd, void *buf, size_t len, signer_error *err)
{
    unsigned char *p = buf;
    while (len > 0) {
        ssize_t n = read(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return signer_error_set(err, SIGNER_ERR_IO, "read failed: %s", strerror(errno));
        if (n == 0)
            return signer_error_set(err, SIGNER_ERR_IO, "connection closed");
        p += n;
        len -= (size_t)n;
    }
    return 0;
}
