/* Internals of signer-proxy: the host-side byte forwarder that carries the
 * enclave's KMS traffic (vsock in production, TCP or unix in development)
 * to one allowed host:port, like AWS's vsock-proxy with its allowlist. */
#ifndef SIGNER_PROXY_H
#define SIGNER_PROXY_H

#include <stdbool.h>
#include <stddef.h>

#include "signer/error.h"
#include "signer/log.h"
#include "signer/net.h"

#define PROXY_ALLOWLIST_MAX 64

typedef struct proxy_allowlist {
    char entries[PROXY_ALLOWLIST_MAX][272]; /* "host:port", lower-case host */
    size_t count;
} proxy_allowlist;

/* Adds "HOST:PORT" (a name, an IPv4 address or [IPv6]). */
int proxy_allowlist_add(proxy_allowlist *list, const char *host_port, signer_error *err);

/* Reads one HOST:PORT per line; blank lines and '#' comments are skipped. */
int proxy_allowlist_load(proxy_allowlist *list, const char *path, signer_error *err);

/* True when "HOST:PORT" is on the list (host compared without case). */
bool proxy_allowlist_allows(const proxy_allowlist *list, const char *host_port);

typedef struct proxy_config {
    net_address listen;
    char remote[272]; /* HOST:PORT every stream goes to */
    unsigned max_connections;
    unsigned connect_timeout_ms;
    bool verbose;
} proxy_config;

/* Relays bytes between `client` and a new connection to cfg->remote until
 * both directions have ended; closes `client`.  Never buffers more than
 * one fixed-size block per direction. */
void proxy_relay(int client, const proxy_config *cfg, const char *peer);

/* Accepts streams until SIGTERM/SIGINT, one thread each. */
int proxy_serve(const proxy_config *cfg);

#endif
