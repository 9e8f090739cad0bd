/* Blocking whole-buffer reads and writes on stream sockets. */
#include <errno.h>
#include <poll.h>
#include <sys/un.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "signer/net.h"
#include "signer/process.h"

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

int net_serve_prepare(const net_address *addr, int *lfd, int *stop_fd, signer_error *err)
{
    if ((*stop_fd = signer_stop_signal_fd(err)) < 0)
        return -1;
    return (*lfd = net_listen(addr, 512, err)) < 0 ? -1 : 0;
}

void net_serve_until(const net_address *addr, int lfd, int stop_fd, net_accept_fn accepted,
                     void *ctx)
{
    struct pollfd fds[2] = {{.fd = lfd, .events = POLLIN}, {.fd = stop_fd, .events = POLLIN}};
    for (;;) {
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (fds[1].revents)
            break;
        struct sockaddr_storage ss;
        socklen_t sslen = sizeof(ss);
        int fd = accept4(lfd, (struct sockaddr *)&ss, &sslen, SOCK_CLOEXEC);
        if (fd < 0) {
            /* Out of descriptors or memory: back off briefly and go on; a
             * connection reset before accept needs nothing. */
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                poll(NULL, 0, 10);
            continue;
        }
        accepted(fd, &ss, ctx);
    }
    close(lfd);
    if (addr->family == AF_UNIX)
        unlink(((const struct sockaddr_un *)&addr->storage)->sun_path);
}
