/* Address syntax shared by every binary: vsock:[CID:]PORT, tcp:HOST:PORT,
 * unix:PATH. */
#include <errno.h>
#include <fcntl.h>
#include <linux/vm_sockets.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "signer/net.h"

static int parse_number(const char *s, unsigned long max, unsigned long *out)
{
    char *end;
    if (*s == '\0' || *s == '-' || *s == '+')
        return -1;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno != 0 || *end != '\0' || v > max)
        return -1;
    *out = v;
    return 0;
}

static int parse_vsock(const char *rest, unsigned default_cid, net_address *out, signer_error *err)
{
    unsigned long cid = default_cid, port;
    const char *colon = strchr(rest, ':');
    char cid_text[16];
    if (colon != NULL) {
        size_t n = (size_t)(colon - rest);
        if (n == 0 || n >= sizeof(cid_text))
            return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT, "bad vsock CID");
        memcpy(cid_text, rest, n);
        cid_text[n] = '\0';
        if (parse_number(cid_text, UINT32_MAX, &cid) != 0)
            return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT, "bad vsock CID");
        rest = colon + 1;
    }
    if (parse_number(rest, UINT32_MAX, &port) != 0)
        return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT, "bad vsock port");
    struct sockaddr_vm *vm = (struct sockaddr_vm *)&out->storage;
    vm->svm_family = AF_VSOCK;
    vm->svm_cid = (unsigned)cid;
    vm->svm_port = (unsigned)port;
    out->len = sizeof(*vm);
    out->family = AF_VSOCK;
    return 0;
}

static int parse_tcp(const char *rest, net_address *out, signer_error *err)
{
    char host[256];
    const char *port;
    if (rest[0] == '[') {
        const char *close = strchr(rest, ']');
        if (close == NULL || close[1] != ':')
            return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT, "expected tcp:[IPV6]:PORT");
        size_t n = (size_t)(close - rest - 1);
        if (n >= sizeof(host))
            return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT, "host name too long");
        memcpy(host, rest + 1, n);
        host[n] = '\0';
        port = close + 2;
    } else {
        const char *colon = strrchr(rest, ':');
        if (colon == NULL)
            return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT, "expected tcp:HOST:PORT");
        size_t n = (size_t)(colon - rest);
        if (n == 0 || n >= sizeof(host))
            return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT, "bad host name");
        memcpy(host, rest, n);
        host[n] = '\0';
        port = colon + 1;
    }
    unsigned long p;
    if (parse_number(port, 65535, &p) != 0)
        return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT, "bad TCP port \"%s\"", port);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0)
        return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT, "cannot resolve %s: %s", host,
                                gai_strerror(rc));
    memcpy(&out->storage, res->ai_addr, res->ai_addrlen);
    out->len = res->ai_addrlen;
    out->family = res->ai_family;
    freeaddrinfo(res);
    return 0;
}

static int parse_unix(const char *path, net_address *out, signer_error *err)
{
    struct sockaddr_un *un = (struct sockaddr_un *)&out->storage;
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof(un->sun_path))
        return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT,
                                "unix socket path empty or longer than %zu bytes",
                                sizeof(un->sun_path) - 1);
    un->sun_family = AF_UNIX;
    memcpy(un->sun_path, path, n + 1);
    out->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
    out->family = AF_UNIX;
    return 0;
}

int net_address_parse(const char *spec, unsigned default_cid, net_address *out, signer_error *err)
{
    memset(out, 0, sizeof(*out));
    snprintf(out->text, sizeof(out->text), "%s", spec);
    int rc;
    if (strncmp(spec, "vsock:", 6) == 0)
        rc = parse_vsock(spec + 6, default_cid, out, err);
    else if (strncmp(spec, "tcp:", 4) == 0)
        rc = parse_tcp(spec + 4, out, err);
    else if (strncmp(spec, "unix:", 5) == 0)
        rc = parse_unix(spec + 5, out, err);
    else
        rc = signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT,
                              "unknown address kind (use vsock:PORT, tcp:HOST:PORT or unix:PATH)");
    if (rc != 0) {
        char ctx[160];
        snprintf(ctx, sizeof(ctx), "address \"%.100s\"", spec);
        signer_error_wrap(err, ctx);
    }
    return rc;
}

static int socket_for(const net_address *addr, signer_error *err)
{
    int fd = socket(addr->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        signer_error_set(err, SIGNER_ERR_IO, "socket(%s): %s", addr->text, strerror(errno));
    return fd;
}

int net_listen(const net_address *addr, int backlog, signer_error *err)
{
    int fd = socket_for(addr, err);
    if (fd < 0)
        return -1;
    int one = 1;
    if (addr->family == AF_INET || addr->family == AF_INET6)
        (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (addr->family == AF_UNIX) {
        /* Replace a stale socket left by an earlier run, never a file. */
        const char *path = ((const struct sockaddr_un *)&addr->storage)->sun_path;
        struct stat st;
        if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
            (void)unlink(path);
    }
    if (bind(fd, (const struct sockaddr *)&addr->storage, addr->len) != 0 ||
        listen(fd, backlog) != 0) {
        signer_error_set(err, SIGNER_ERR_IO, "cannot listen on %s: %s", addr->text,
                         strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

int net_connect(const net_address *addr, signer_error *err)
{
    return net_connect_timeout(addr, -1, err);
}

/* Waits for a non-blocking connect to finish; 0 when connected. */
static int wait_connected(int fd, int timeout_ms)
{
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    int rc;
    do {
        rc = poll(&p, 1, timeout_ms);
    } while (rc < 0 && errno == EINTR);
    if (rc == 0)
        errno = ETIMEDOUT;
    if (rc <= 0)
        return -1;
    int soerr = 0;
    socklen_t len = sizeof(soerr);
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0)
        return -1;
    errno = soerr;
    return soerr == 0 ? 0 : -1;
}

int net_connect_timeout(const net_address *addr, int timeout_ms, signer_error *err)
{
    int fd = socket_for(addr, err);
    if (fd < 0)
        return -1;
    int flags = fcntl(fd, F_GETFL);
    if (timeout_ms >= 0)
        (void)fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    int rc;
    do {
        rc = connect(fd, (const struct sockaddr *)&addr->storage, addr->len);
    } while (rc != 0 && errno == EINTR && timeout_ms < 0);
    if (rc != 0 && timeout_ms >= 0 && (errno == EINPROGRESS || errno == EINTR))
        rc = wait_connected(fd, timeout_ms);
    if (rc != 0) {
        signer_error_set(err, SIGNER_ERR_IO, "cannot connect to %s: %s", addr->text,
                         errno == ETIMEDOUT ? "timed out" : strerror(errno));
        close(fd);
        return -1;
    }
    if (timeout_ms >= 0)
        (void)fcntl(fd, F_SETFL, flags);
    if (addr->family == AF_INET || addr->family == AF_INET6) {
        int one = 1;
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    return fd;
}
