/* Accept loop: one thread per connection, a cap on concurrent sessions,
 * and a graceful stop on SIGTERM/SIGINT (stop accepting, let every session
 * finish the request it is on, then exit). */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/vm_sockets.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"

#define SESSION_STACK_BYTES (512u * 1024)
#define SHUTDOWN_GRACE_SECONDS 5

typedef struct connection {
    int fd;
    char peer[64];
    const daemon_config *cfg;
    struct connection *prev, *next;
} connection;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t all_done = PTHREAD_COND_INITIALIZER;
static connection *active;
static unsigned active_count;

static void *connection_thread(void *arg)
{
    connection *c = arg;
    session_serve(c->fd, c->cfg, c->peer);
    signer_log(SIGNER_LOG_INFO, "%s: closed", c->peer);
    pthread_mutex_lock(&lock);
    if (c->prev)
        c->prev->next = c->next;
    else
        active = c->next;
    if (c->next)
        c->next->prev = c->prev;
    if (--active_count == 0)
        pthread_cond_signal(&all_done);
    pthread_mutex_unlock(&lock);
    free(c);
    return NULL;
}

static void describe_peer(const struct sockaddr_storage *ss, char *out, size_t len)
{
    static unsigned long counter;
    char host[INET6_ADDRSTRLEN] = "?";
    switch (ss->ss_family) {
    case AF_INET: {
        const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
        snprintf(out, len, "tcp:%s:%u", host, ntohs(in->sin_port));
        return;
    }
    case AF_INET6: {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
        snprintf(out, len, "tcp:[%s]:%u", host, ntohs(in6->sin6_port));
        return;
    }
    case AF_VSOCK: {
        const struct sockaddr_vm *vm = (const struct sockaddr_vm *)ss;
        snprintf(out, len, "vsock:%u:%u", vm->svm_cid, vm->svm_port);
        return;
    }
    default: snprintf(out, len, "unix#%lu", ++counter);
    }
}

static void start_session(const daemon_config *cfg, int fd, const struct sockaddr_storage *ss,
                          pthread_attr_t *attr)
{
    connection *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        signer_log(SIGNER_LOG_ERROR, "out of memory: dropping a connection");
        close(fd);
        return;
    }
    c->fd = fd;
    c->cfg = cfg;
    describe_peer(ss, c->peer, sizeof(c->peer));
    if (ss->ss_family == AF_INET || ss->ss_family == AF_INET6) {
        int one = 1;
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    pthread_mutex_lock(&lock);
    if (active_count >= cfg->max_connections) {
        pthread_mutex_unlock(&lock);
        signer_log(SIGNER_LOG_WARN, "%s: refused, %u sessions already open", c->peer,
                   cfg->max_connections);
        close(fd);
        free(c);
        return;
    }
    c->next = active;
    if (active)
        active->prev = c;
    active = c;
    active_count++;
    pthread_t tid;
    int rc = pthread_create(&tid, attr, connection_thread, c);
    if (rc != 0) {
        active = c->next;
        if (active)
            active->prev = NULL;
        active_count--;
        pthread_mutex_unlock(&lock);
        signer_log(SIGNER_LOG_ERROR, "%s: cannot start a thread: %s", c->peer, strerror(rc));
        close(fd);
        free(c);
        return;
    }
    pthread_mutex_unlock(&lock);
    signer_log(SIGNER_LOG_INFO, "%s: connected", c->peer);
}

/* Ends reading on every session: each one answers what it has already
 * received, then sees end of input and closes. */
static unsigned drain_sessions(void)
{
    pthread_mutex_lock(&lock);
    for (connection *c = active; c != NULL; c = c->next)
        (void)shutdown(c->fd, SHUT_RD);
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += SHUTDOWN_GRACE_SECONDS;
    while (active_count > 0)
        if (pthread_cond_timedwait(&all_done, &lock, &deadline) == ETIMEDOUT)
            break;
    unsigned left = active_count;
    pthread_mutex_unlock(&lock);
    if (left > 0)
        signer_log(SIGNER_LOG_WARN, "%u sessions still busy at exit", left);
    return left;
}

typedef struct accept_context {
    const daemon_config *cfg;
    pthread_attr_t *attr;
} accept_context;

static void accepted(int fd, const struct sockaddr_storage *peer, void *arg)
{
    accept_context *ctx = arg;
    start_session(ctx->cfg, fd, peer, ctx->attr);
}

int server_run(const daemon_config *cfg, unsigned *busy)
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
    pthread_attr_setstacksize(&attr, SESSION_STACK_BYTES);
    signer_log(SIGNER_LOG_INFO, "listening on %s (sealing: %s)", cfg->listen.text,
               cfg->sealing->name);

    accept_context ctx = {cfg, &attr};
    net_serve_until(&cfg->listen, lfd, stop_fd, accepted, &ctx);
    signer_log(SIGNER_LOG_INFO, "stopping: no new connections, finishing open sessions");
    *busy = drain_sessions();
    pthread_attr_destroy(&attr);
    signer_log(SIGNER_LOG_INFO, "stopped");
    return 0;
}
