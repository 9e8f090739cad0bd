/* Accept loop of signer-proxy: a thread per stream, a cap on streams,
 * stop on SIGTERM/SIGINT. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/vm_sockets.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proxy.h"

#define STREAM_STACK_BYTES (256u * 1024)

typedef struct stream {
    int fd;
    const proxy_config *cfg;
    char peer[80];
} stream;

static atomic_uint open_streams;

static void *stream_thread(void *arg)
{
    stream *s = arg;
    proxy_relay(s->fd, s->cfg, s->peer);
    atomic_fetch_sub(&open_streams, 1);
    free(s);
    return NULL;
}

static void describe(const struct sockaddr_storage *ss, char *out, size_t len)
{
    static atomic_ulong counter;
    char host[INET6_ADDRSTRLEN] = "?";
    unsigned long id = atomic_fetch_add(&counter, 1) + 1;
    if (ss->ss_family == AF_VSOCK) {
        const struct sockaddr_vm *vm = (const struct sockaddr_vm *)ss;
        snprintf(out, len, "#%lu vsock:%u:%u", id, vm->svm_cid, vm->svm_port);
    } else if (ss->ss_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, host, sizeof(host));
        snprintf(out, len, "#%lu tcp:%s", id, host);
    } else {
        snprintf(out, len, "#%lu", id);
    }
}

static void start_stream(const proxy_config *cfg, int fd, const struct sockaddr_storage *ss,
                         pthread_attr_t *attr)
{
    stream *s = calloc(1, sizeof(*s));
    if (s == NULL || atomic_load(&open_streams) >= cfg->max_connections) {
        signer_log(SIGNER_LOG_INFO, "refusing a stream: %s",
                   s ? "too many open streams" : "out of memory");
        free(s);
        close(fd);
        return;
    }
    s->fd = fd;
    s->cfg = cfg;
    describe(ss, s->peer, sizeof(s->peer));
    atomic_fetch_add(&open_streams, 1);
    pthread_t tid;
    int rc = pthread_create(&tid, attr, stream_thread, s);
    if (rc != 0) {
        atomic_fetch_sub(&open_streams, 1);
        signer_log(SIGNER_LOG_INFO, "%s: cannot start a thread: %s", s->peer, strerror(rc));
        close(fd);
        free(s);
        return;
    }
    if (cfg->verbose)
        signer_log(SIGNER_LOG_INFO, "%s: forwarding to %s", s->peer, cfg->remote);
}

typedef struct accept_context {
    const proxy_config *cfg;
    pthread_attr_t *attr;
} accept_context;

static void accepted(int fd, const struct sockaddr_storage *peer, void *arg)
{
    accept_context *ctx = arg;
    start_stream(ctx->cfg, fd, peer, ctx->attr);
}

int proxy_serve(const proxy_config *cfg)
{
    signer_error err;
    int lfd, stop_fd;
    if (net_serve_prepare(&cfg->listen, &lfd, &stop_fd, &err) != 0) {
        signer_log(SIGNER_LOG_ERROR, "%s", err.message);
        return -1;
    }
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, STREAM_STACK_BYTES);
    signer_log(SIGNER_LOG_INFO, "listening on %s, forwarding to %s", cfg->listen.text, cfg->remote);
    accept_context ctx = {cfg, &attr};
    net_serve_until(&cfg->listen, lfd, stop_fd, accepted, &ctx);
    pthread_attr_destroy(&attr);
    signer_log(SIGNER_LOG_INFO, "stopped");
    return 0;
}
