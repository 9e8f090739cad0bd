/* signer-bench: signing through the daemon against the raw library call,
 * measured in one run so that the ratios hold on a noisy machine.
 *
 * Per key type:  raw signs/s; pipelined Sign calls/s on one loopback
 * connection and their ratio to raw (target >= 0.90); the same on two
 * connections and its ratio to one (target >= 1.8); synchronous Sign
 * latency minus (raw sign time + framed echo round trip) (target <= 10 us),
 * both round trips measured with the same minimal client, on one CPU, in
 * alternating trials (see latencies()).  Then the daemon's RSS after importing 10,000 keys in one
 * session (target <= 16 MiB). */
#include <errno.h>
#include <sched.h>
#include <libgen.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "signer/client.h"
#include "signer/crypto.h"
#include "signer/net.h"
#include "signer/rpc.h"

#define MESSAGE_BYTES 128
#define PIPELINE_WINDOW 1024

static double seconds = 1.0; /* per measurement */
#define LATENCY_TRIALS 9     /* alternating sync / echo trials, medians kept */
static char daemon_path[PATH_MAX];

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const signer_error *err)
{
    fprintf(stderr, "signer-bench: %s: %s\n", what, err ? err->message : strerror(errno));
    exit(1);
}

/* ---- the daemon under test ---- */

static pid_t daemon_start(const char *address)
{
    pid_t pid = fork();
    if (pid == 0) {
        execl(daemon_path, daemon_path, "--listen", address, "--sealing", "passthrough",
              "--log-level", "error", (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 500; i++) {
        signer_client *c;
        if (signer_client_connect(address, &c, NULL) == 0) {
            signer_client_close(c);
            return pid;
        }
        usleep(10000);
    }
    die("daemon did not start", NULL);
    return -1;
}

static void daemon_stop(pid_t pid)
{
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
}

static long rss_kib(pid_t pid)
{
    char path[64], line[256];
    long kib = -1;
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
            break;
    fclose(f);
    return kib;
}

/* ---- raw library ---- */

static double raw_rate(signer_key *key, const uint8_t *msg)
{
    uint8_t sig[SIGNER_SIGNATURE_MAX];
    signer_error err;
    long n = 0;
    double start = now(), t;
    do {
        for (int i = 0; i < 32; i++)
            if (signer_sign(key, msg, MESSAGE_BYTES, SIGNER_VERSION_LATEST, sig, &err) != 0)
                die("sign", &err);
        n += 32;
    } while ((t = now() - start) < seconds);
    return (double)n / t;
}

/* ---- pipelined RPC: the client only copies pre-encoded frames and counts
 * answer headers, so the daemon's work dominates ---- */

typedef struct pipe_run {
    signer_client *client;
    signer_buf frame; /* one encoded Sign frame */
    volatile int stop;
    long sent, received;
    double elapsed;
    /* The sender sleeps while the window is full: on a two-core machine a
     * spinning client would take CPU from the daemon it measures. */
    pthread_mutex_t lock;
    pthread_cond_t window;
} pipe_run;

static void *pipe_sender(void *arg)
{
    pipe_run *r = arg;
    uint8_t batch[64 * 1024];
    size_t per = sizeof(batch) / r->frame.len;
    for (size_t i = 0; i < per; i++)
        memcpy(batch + i * r->frame.len, r->frame.data, r->frame.len);
    int fd = signer_client_fd(r->client);
    while (!r->stop) {
        /* Keep at most a window of requests in flight. */
        pthread_mutex_lock(&r->lock);
        while (r->sent - r->received > PIPELINE_WINDOW && !r->stop)
            pthread_cond_wait(&r->window, &r->lock);
        pthread_mutex_unlock(&r->lock);
        size_t k = PIPELINE_WINDOW / 4 < per ? PIPELINE_WINDOW / 4 : per;
        if (net_write_all(fd, batch, k * r->frame.len, NULL) != 0)
            break;
        r->sent += (long)k;
    }
    return NULL;
}

static void *pipe_receiver(void *arg)
{
    pipe_run *r = arg;
    int fd = signer_client_fd(r->client);
    static __thread uint8_t buf[256 * 1024];
    size_t have = 0;
    double start = now();
    while (now() - start < seconds) {
        ssize_t n = read(fd, buf + have, sizeof(buf) - have);
        if (n <= 0)
            break;
        have += (size_t)n;
        size_t off = 0;
        long got = 0;
        while (have - off >= 4) {
            size_t len = rpc_frame_length(buf + off);
            if (have - off < 4 + len)
                break;
            off += 4 + len;
            got++;
        }
        pthread_mutex_lock(&r->lock);
        r->received += got;
        pthread_cond_signal(&r->window);
        pthread_mutex_unlock(&r->lock);
        memmove(buf, buf + off, have - off);
        have -= off;
    }
    r->elapsed = now() - start;
    pthread_mutex_lock(&r->lock);
    r->stop = 1;
    pthread_cond_signal(&r->window);
    pthread_mutex_unlock(&r->lock);
    return NULL;
}

static signer_client *session_with_key(const char *address, signer_key_type type, uint64_t *handle)
{
    signer_client *c;
    signer_error err;
    rpc_response resp;
    if (signer_client_connect(address, &c, &err) != 0)
        die("connect", &err);
    rpc_request init = {.call = RPC_INITIALIZE};
    rpc_request gen = {.call = RPC_GENERATE_AND_IMPORT, .key_type = type};
    if (signer_client_call(c, &init, &resp, &err) != 0 || !resp.ok)
        die("Initialize", &err);
    rpc_response_free(&resp);
    if (signer_client_call(c, &gen, &resp, &err) != 0 || !resp.ok)
        die("GenerateAndImport", &err);
    *handle = resp.handle;
    rpc_response_free(&resp);
    return c;
}

/* Pipelined Sign calls per second over `conns` connections in parallel. */
static double rpc_rate(const char *address, signer_key_type type, const uint8_t *msg, int conns)
{
    pipe_run runs[2];
    pthread_t tx[2], rx[2];
    for (int i = 0; i < conns; i++) {
        memset(&runs[i], 0, sizeof(runs[i]));
        pthread_mutex_init(&runs[i].lock, NULL);
        pthread_cond_init(&runs[i].window, NULL);
        uint64_t handle;
        runs[i].client = session_with_key(address, type, &handle);
        rpc_request sign = {.call = RPC_SIGN,
                            .handle = handle,
                            .message = {msg, MESSAGE_BYTES},
                            .version = SIGNER_VERSION_LATEST,
                            .has_version = true};
        if (rpc_request_encode(&sign, &runs[i].frame, NULL) != 0)
            die("encode", NULL);
    }
    for (int i = 0; i < conns; i++) {
        pthread_create(&rx[i], NULL, pipe_receiver, &runs[i]);
        pthread_create(&tx[i], NULL, pipe_sender, &runs[i]);
    }
    double total = 0;
    for (int i = 0; i < conns; i++) {
        pthread_join(rx[i], NULL);
        runs[i].stop = 1;
        shutdown(signer_client_fd(runs[i].client), SHUT_RDWR);
        pthread_join(tx[i], NULL);
        total += (double)runs[i].received / runs[i].elapsed;
        signer_client_close(runs[i].client);
        signer_buf_free(&runs[i].frame);
        pthread_mutex_destroy(&runs[i].lock);
        pthread_cond_destroy(&runs[i].window);
    }
    return total;
}

/* ---- synchronous latency, and a plain framed echo to subtract ---- */

/* One synchronous round trip at a time, with the same minimal client as
 * the echo below (a pre-encoded frame out, one frame in), so that the
 * difference is the daemon's own work. */
static double sync_latency(const char *address, signer_key_type type, const uint8_t *msg)
{
    uint64_t handle;
    signer_client *c = session_with_key(address, type, &handle);
    rpc_request sign = {.call = RPC_SIGN, .handle = handle, .message = {msg, MESSAGE_BYTES}};
    signer_buf frame = SIGNER_BUF_INIT;
    if (rpc_request_encode(&sign, &frame, NULL) != 0)
        die("encode", NULL);
    int fd = signer_client_fd(c);
    uint8_t answer[512];
    long n = 0;
    double start = now(), t;
    do {
        if (net_write_all(fd, frame.data, frame.len, NULL) != 0 ||
            net_read_exact(fd, answer, 4, NULL) != 0)
            die("Sign", NULL);
        size_t len = rpc_frame_length(answer);
        /* {"Ok": ...}: a one-entry map whose key is the 2-byte text "Ok". */
        if (len > sizeof(answer) - 4 || net_read_exact(fd, answer + 4, len, NULL) != 0 ||
            answer[5] != 0x62 || answer[6] != 'O')
            die("Sign answered Err", NULL);
        n++;
    } while ((t = now() - start) < seconds);
    signer_buf_free(&frame);
    signer_client_close(c);
    return t / (double)n;
}

/* The echo server, in a process of its own like the daemon (a switch
 * between processes costs more than one between threads of a process). */
static void echo_serve(int lfd)
{
    int fd = accept(lfd, NULL, NULL), one = 1;
    uint8_t buf[4096];
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)); /* as the daemon */
    for (;;) {
        if (net_read_exact(fd, buf, 4, NULL) != 0)
            break;
        size_t len = rpc_frame_length(buf);
        if (len > sizeof(buf) - 4 || net_read_exact(fd, buf + 4, len, NULL) != 0 ||
            net_write_all(fd, buf, 4 + len, NULL) != 0)
            break;
    }
    close(fd);
}

/* Round trip of a frame the size of a Sign request, through a server that
 * only echoes: the transport's share of the latency. */
static double echo_latency(size_t frame_len, size_t answer_len)
{
    char address[64];
    net_address addr;
    signer_error err;
    int lfd;
    snprintf(address, sizeof(address), "tcp:127.0.0.1:%d", 20000 + (int)(getpid() % 20000));
    if (net_address_parse(address, 0, &addr, &err) != 0 || (lfd = net_listen(&addr, 1, &err)) < 0)
        die("echo listen", &err);
    pid_t pid = fork();
    if (pid == 0) {
        echo_serve(lfd);
        _exit(0);
    }
    close(lfd);
    int fd = net_connect(&addr, &err);
    if (fd < 0)
        die("echo connect", &err);
    uint8_t buf[4096] = {0};
    size_t len = frame_len > answer_len ? frame_len : answer_len;
    buf[2] = (uint8_t)((len - 4) >> 8);
    buf[3] = (uint8_t)(len - 4);
    long n = 0;
    double start = now(), t;
    do {
        if (net_write_all(fd, buf, len, NULL) != 0 || net_read_exact(fd, buf, len, NULL) != 0)
            die("echo", NULL);
        n++;
    } while ((t = now() - start) < seconds);
    close(fd);
    waitpid(pid, NULL, 0);
    return t / (double)n;
}

/* Latency is measured with the client, the daemon's session and the echo
 * server sharing one CPU: each round trip is then two plain context
 * switches, instead of a wake-up of another (perhaps idle) core whose cost
 * swings by tens of microseconds on a virtual machine. */
static void pin_to_cpu0(pid_t pid, cpu_set_t *saved)
{
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(0, &one);
    sched_getaffinity(pid, sizeof(*saved), saved);
    sched_setaffinity(pid, sizeof(one), &one);
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), compare_doubles);
    return v[n / 2];
}

/* Median synchronous Sign and echo round trips, measured in alternating
 * short trials so that a slow phase of the machine hits both alike. */
static void latencies(const char *address, pid_t daemon, signer_key_type type, const uint8_t *msg,
                      double *sync, double *echo)
{
    double s[LATENCY_TRIALS], e[LATENCY_TRIALS], full = seconds;
    cpu_set_t self_mask, daemon_mask;
    pin_to_cpu0(0, &self_mask);
    pin_to_cpu0(daemon, &daemon_mask); /* new session threads inherit it */
    seconds = full / 4;
    for (int i = 0; i < LATENCY_TRIALS; i++) {
        s[i] = sync_latency(address, type, msg);
        e[i] = echo_latency(4 + 60 + MESSAGE_BYTES, 4 + 20 + 96);
    }
    seconds = full;
    sched_setaffinity(daemon, sizeof(daemon_mask), &daemon_mask);
    sched_setaffinity(0, sizeof(self_mask), &self_mask);
    *sync = median(s, LATENCY_TRIALS);
    *echo = median(e, LATENCY_TRIALS);
}

/* ---- memory ---- */

static long rss_after_imports(const char *address, pid_t pid, int keys)
{
    signer_client *c;
    signer_error err;
    rpc_response r;
    if (signer_client_connect(address, &c, &err) != 0)
        die("connect", &err);
    rpc_request init = {.call = RPC_INITIALIZE};
    if (signer_client_call(c, &init, &r, &err) != 0)
        die("Initialize", &err);
    rpc_response_free(&r);
    for (int i = 0; i < keys; i++) {
        uint8_t sk[32] = {1};
        sk[28] = (uint8_t)(i >> 24), sk[29] = (uint8_t)(i >> 16);
        sk[30] = (uint8_t)(i >> 8), sk[31] = (uint8_t)i;
        signer_key_type type = (signer_key_type)(i % SIGNER_KEY_TYPE_COUNT);
        rpc_request imp = {.call = RPC_IMPORT_UNENCRYPTED, .key_type = type, .data = {sk, 32}};
        if (signer_client_send(c, &imp, &err) != 0)
            die("ImportUnencrypted", &err);
        if (i >= 64 && (signer_client_receive(c, RPC_IMPORT_UNENCRYPTED, &r, &err) != 0 || !r.ok))
            die("ImportUnencrypted", &err);
        if (i >= 64)
            rpc_response_free(&r);
    }
    for (int i = 0; i < (keys < 64 ? keys : 64); i++) {
        if (signer_client_receive(c, RPC_IMPORT_UNENCRYPTED, &r, &err) != 0 || !r.ok)
            die("ImportUnencrypted", &err);
        rpc_response_free(&r);
    }
    long kib = rss_kib(pid); /* measured while the session holds the keys */
    signer_client_close(c);
    return kib;
}

static const char *verdict(int ok)
{
    return ok ? "ok" : "MISSED";
}

int main(int argc, char **argv)
{
    signer_error err;
    if (argc > 1 && strcmp(argv[1], "--quick") == 0)
        seconds = 0.2;
    const char *env = getenv("SIGNER_DAEMON");
    if (env)
        snprintf(daemon_path, sizeof(daemon_path), "%s", env);
    else {
        char self[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        if (n < 0)
            die("readlink", NULL);
        self[n] = '\0';
        snprintf(daemon_path, sizeof(daemon_path), "%s/enclave-signer", dirname(self));
    }
    if (signer_crypto_init(&err) != 0)
        die("crypto init", &err);
    signal(SIGPIPE, SIG_IGN);
    char address[64];
    snprintf(address, sizeof(address), "tcp:127.0.0.1:%d", 40000 + (int)(getpid() % 20000));
    pid_t pid = daemon_start(address);

    uint8_t msg[MESSAGE_BYTES];
    for (size_t i = 0; i < sizeof(msg); i++)
        msg[i] = (uint8_t)(i * 7 + 3);
    printf("signer-bench: %d-byte messages, %.1f s per measurement, daemon %s\n", MESSAGE_BYTES,
           seconds, address);
    printf("latency: client, session and echo server share CPU 0; medians of %d alternating "
           "trials\n\n",
           LATENCY_TRIALS);
    printf("%-10s %10s %10s %6s %10s %6s %10s %10s %10s %12s  %s\n", "key", "raw/s", "rpc/s",
           "ratio", "rpc2/s", "x1", "raw us", "echo us", "sync us", "overhead us", "missed");
    int all_ok = 1;
    for (int t = 0; t < SIGNER_KEY_TYPE_COUNT; t++) {
        signer_key key;
        if (signer_key_generate(&key, (signer_key_type)t, &err) != 0)
            die("generate", &err);
        double raw = raw_rate(&key, msg);
        double one = rpc_rate(address, (signer_key_type)t, msg, 1);
        double two = rpc_rate(address, (signer_key_type)t, msg, 2);
        double sync, echo;
        latencies(address, pid, (signer_key_type)t, msg, &sync, &echo);
        double overhead = sync - 1.0 / raw - echo;
        bool ratio_ok = one / raw >= 0.90, scale_ok = two / one >= 1.8,
             overhead_ok = overhead <= 10e-6;
        printf("%-10s %10.0f %10.0f %6.3f %10.0f %6.2f %10.1f %10.1f %10.1f %12.1f  %s%s%s\n",
               signer_key_type_name((signer_key_type)t), raw, one, one / raw, two, two / one,
               1e6 / raw, echo * 1e6, sync * 1e6, overhead * 1e6, ratio_ok ? "" : "ratio ",
               scale_ok ? "" : "x1 ", overhead_ok ? "" : "overhead");
        int ok = ratio_ok && scale_ok && overhead_ok;
        all_ok &= ok;
        signer_key_wipe(&key);
    }
    daemon_stop(pid);

    pid = daemon_start(address);
    long kib = rss_after_imports(address, pid, 10000);
    daemon_stop(pid);
    printf("\nRSS after importing 10000 keys in one session: %.1f MiB (target <= 16): %s\n",
           (double)kib / 1024.0, verdict(kib >= 0 && kib <= 16 * 1024));
    printf("targets: ratio >= 0.90, x1 >= 1.8, overhead <= 10 us: %s\n", verdict(all_ok));
    return 0;
}
