/* Socket addresses and stream helpers shared by the daemon and host tools.
 *
 * Address syntax:  vsock:PORT | vsock:CID:PORT | tcp:HOST:PORT | unix:PATH
 * (HOST may be a name, an IPv4 address or a bracketed IPv6 address). */
#ifndef SIGNER_NET_H
#define SIGNER_NET_H

#include <stddef.h>
#include <sys/socket.h>

#include "signer/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct net_address {
    struct sockaddr_storage storage;
    socklen_t len;
    int family; /* AF_VSOCK, AF_INET, AF_INET6 or AF_UNIX */
    char text[128];
} net_address;

/* Parses `spec`.  For vsock without a CID, `default_cid` is used
 * (VMADDR_CID_ANY to listen, the peer's CID to connect). */
int net_address_parse(const char *spec, unsigned default_cid, net_address *out, signer_error *err);

/* Opens a listening socket (CLOEXEC; a stale unix socket file is replaced).
 * Returns the fd or -1. */
int net_listen(const net_address *addr, int backlog, signer_error *err);

/* Connects a stream socket.  Returns the fd or -1. */
int net_connect(const net_address *addr, signer_error *err);

/* The same, giving up after `timeout_ms` milliseconds (negative: never). */
int net_connect_timeout(const net_address *addr, int timeout_ms, signer_error *err);

/* Arms SIGTERM/SIGINT (see process.h) and listens on `addr`: the two
 * descriptors net_serve_until takes. */
int net_serve_prepare(const net_address *addr, int *lfd, int *stop_fd, signer_error *err);

/* Called with each accepted connection, which it then owns. */
typedef void (*net_accept_fn)(int fd, const struct sockaddr_storage *peer, void *ctx);

/* Accepts connections on `lfd` (CLOEXEC) until `stop_fd` becomes readable
 * or poll fails, handing each to `accepted`.  Running out of descriptors or
 * memory only pauses accepting for a moment.  Then closes `lfd` and removes
 * a unix socket file of `addr`. */
void net_serve_until(const net_address *addr, int lfd, int stop_fd, net_accept_fn accepted,
                     void *ctx);

/* Writes all `len` bytes (retrying on EINTR and short writes; no SIGPIPE). */
int net_write_all(int fd, const void *buf, size_t len, signer_error *err);

/* Reads exactly `len` bytes.  Returns 0, or -1 with SIGNER_ERR_IO (the
 * message says "connection closed" on EOF). */
int net_read_exact(int fd, void *buf, size_t len, signer_error *err);

#ifdef __cplusplus
}
#endif
#endif
