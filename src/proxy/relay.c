/* One proxied stream: two directions, each with one fixed block of
 * buffer, driven by poll.  End of input in one direction is passed on as
 * a half-close (shutdown SHUT_WR), so request/response protocols that
 * close their sending side still get their answer. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proxy.h"

#define BLOCK_BYTES (64u * 1024)

typedef struct direction {
    int from, to;
    unsigned char buf[BLOCK_BYTES];
    size_t start, end; /* unsent bytes are buf[start..end) */
    bool eof;          /* `from` has ended */
    bool done;         /* end passed on to `to` */
    unsigned long long bytes;
} direction;

/* Moves what can be moved without blocking; -1 on a socket error. */
static int pump(direction *d, short revents_from, short revents_to)
{
    if (d->start == d->end && !d->eof && (revents_from & (POLLIN | POLLHUP | POLLERR))) {
        ssize_t n = read(d->from, d->buf, sizeof(d->buf));
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            return 0;
        if (n < 0)
            return -1;
        if (n == 0)
            d->eof = true;
        d->start = 0;
        d->end = (size_t)n;
    }
    if (d->start < d->end && (revents_to & (POLLOUT | POLLERR | POLLHUP))) {
        ssize_t n = send(d->to, d->buf + d->start, d->end - d->start, MSG_NOSIGNAL);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            return 0;
        if (n < 0)
            return -1;
        d->start += (size_t)n;
        d->bytes += (unsigned long long)n;
    }
    if (d->eof && d->start == d->end && !d->done) {
        (void)shutdown(d->to, SHUT_WR);
        d->done = true;
    }
    return 0;
}

/* What to wait for on behalf of `d`. */
static void wants(const direction *d, struct pollfd *from, struct pollfd *to)
{
    if (d->done)
        return;
    if (d->start < d->end)
        to->events |= POLLOUT;
    else if (!d->eof)
        from->events |= POLLIN;
}

static int connect_remote(const proxy_config *cfg, signer_error *err)
{
    char spec[300];
    net_address addr;
    /* Resolved for every stream, so a DNS change is followed. */
    snprintf(spec, sizeof(spec), "tcp:%s", cfg->remote);
    if (net_address_parse(spec, 0, &addr, err) != 0)
        return -1;
    return net_connect_timeout(&addr, (int)cfg->connect_timeout_ms, err);
}

void proxy_relay(int client, const proxy_config *cfg, const char *peer)
{
    static direction zero;
    signer_error err;
    int remote = connect_remote(cfg, &err);
    if (remote < 0) {
        signer_log(SIGNER_LOG_INFO, "%s: %s", peer, err.message);
        close(client);
        return;
    }
    direction *up = malloc(sizeof(*up)), *down = malloc(sizeof(*down));
    if (up == NULL || down == NULL) {
        signer_log(SIGNER_LOG_INFO, "%s: out of memory", peer);
        goto out;
    }
    *up = zero;
    *down = zero;
    up->from = down->to = client;
    up->to = down->from = remote;
    const char *why = "closed";
    while (!(up->done && down->done)) {
        struct pollfd p[2] = {{.fd = client}, {.fd = remote}};
        wants(up, &p[0], &p[1]);
        wants(down, &p[1], &p[0]);
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            why = "poll failed";
            break;
        }
        if (pump(up, p[0].revents, p[1].revents) != 0 ||
            pump(down, p[1].revents, p[0].revents) != 0) {
            why = "socket error";
            break;
        }
        /* A side that hung up entirely keeps reporting POLLHUP even when
         * nothing is asked of it: once its own direction is over and
         * nothing waits to reach it, the stream is finished. */
        if ((p[0].revents & (POLLERR | POLLHUP)) && up->done && down->start == down->end) {
            why = "client gone";
            break;
        }
        if ((p[1].revents & (POLLERR | POLLHUP)) && down->done && up->start == up->end) {
            why = "remote gone";
            break;
        }
    }
    if (cfg->verbose)
        signer_log(SIGNER_LOG_INFO, "%s: %s (%llu bytes up, %llu down)", peer, why, up->bytes,
                   down->bytes);
out:
    free(up);
    free(down);
    close(remote);
    close(client);
}
