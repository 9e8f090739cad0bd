/* signer-proxy end to end: a real proxy process between test clients and
 * a test server (the "remote"), over unix and TCP sockets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "process.h"
#include "signer/net.h"

/* ---- the remote: a TCP server with two modes, chosen by the first byte:
 *  'd'  read to end of input, answer the SHA-256 of everything after 'd'
 *  's'  then 8 bytes N (big-endian): send N bytes of a pattern and close
 *  'k'  read 1 MiB, then reset the connection (abortive close)
 *  'w'  read to end of input, then stay open and silent for 3 s */

static int remote_fd;
static int remote_port;

static void *serve_one(void *arg)
{
    int fd = (int)(intptr_t)arg;
    unsigned char mode, buf[65536];
    if (read(fd, &mode, 1) != 1)
        goto out;
    if (mode == 'd') {
        EVP_MD_CTX *sha = EVP_MD_CTX_new();
        EVP_DigestInit_ex(sha, EVP_sha256(), NULL);
        ssize_t n;
        while ((n = read(fd, buf, sizeof(buf))) > 0)
            EVP_DigestUpdate(sha, buf, (size_t)n);
        unsigned char digest[32];
        EVP_DigestFinal_ex(sha, digest, NULL);
        EVP_MD_CTX_free(sha);
        (void)net_write_all(fd, digest, sizeof(digest), NULL);
    } else if (mode == 's') {
        unsigned char len[8];
        if (net_read_exact(fd, len, 8, NULL) != 0)
            goto out;
        unsigned long long total = 0, sent = 0;
        for (int i = 0; i < 8; i++)
            total = total << 8 | len[i];
        for (size_t i = 0; i < sizeof(buf); i++)
            buf[i] = (unsigned char)(i * 7);
        while (sent < total) {
            size_t chunk = total - sent < sizeof(buf) ? (size_t)(total - sent) : sizeof(buf);
            if (net_write_all(fd, buf, chunk, NULL) != 0)
                break;
            sent += chunk;
        }
    } else if (mode == 'w') {
        while (read(fd, buf, sizeof(buf)) > 0)
            ;
        sleep(3);
    } else if (mode == 'k') {
        size_t got = 0;
        ssize_t n;
        while (got < (1u << 20) && (n = read(fd, buf, sizeof(buf))) > 0)
            got += (size_t)n;
        struct linger lg = {.l_onoff = 1, .l_linger = 0};
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    }
out:
    close(fd);
    return NULL;
}

static void *remote_loop(void *arg)
{
    (void)arg;
    for (;;) {
        int fd = accept(remote_fd, NULL, NULL);
        if (fd < 0)
            return NULL;
        pthread_t t;
        pthread_create(&t, NULL, serve_one, (void *)(intptr_t)fd);
        pthread_detach(t);
    }
}

/* ---- the proxy under test ---- */

static test_process proxy;
static char proxy_addr[128];
static char sock_dir[64] = "/tmp/signer-proxy-test-XXXXXX";

static int start_proxy(const char *listen, const char *remote, const char *const *extra)
{
    const char *argv[16] = {SIGNER_PROXY_PATH, "--listen", listen, "--remote", remote};
    int n = 5;
    for (int i = 0; extra && extra[i]; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    return test_process_start(&proxy, argv, listen, 5000);
}

static int setup(void **state)
{
    (void)state;
    signal(SIGPIPE, SIG_IGN);
    remote_port = test_free_port();
    struct sockaddr_in in = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)remote_port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    remote_fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(remote_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(remote_fd, (struct sockaddr *)&in, sizeof(in)) != 0 || listen(remote_fd, 256) != 0)
        return -1;
    pthread_t t;
    pthread_create(&t, NULL, remote_loop, NULL);
    pthread_detach(t);
    if (mkdtemp(sock_dir) == NULL)
        return -1;
    snprintf(proxy_addr, sizeof(proxy_addr), "unix:%s/proxy.sock", sock_dir);
    char remote[64];
    snprintf(remote, sizeof(remote), "127.0.0.1:%d", remote_port);
    return start_proxy(proxy_addr, remote, NULL);
}

static int teardown(void **state)
{
    (void)state;
    int status = test_process_stop(&proxy, SIGTERM);
    rmdir(sock_dir);
    return status == 0 ? 0 : -1;
}

static int connect_proxy(void)
{
    net_address addr;
    assert_int_equal(net_address_parse(proxy_addr, 0, &addr, NULL), 0);
    int fd = net_connect(&addr, NULL);
    assert_true(fd >= 0);
    return fd;
}

/* Sends `len` bytes through the proxy, half-closes, checks the digest. */
static void digest_roundtrip(size_t len)
{
    unsigned char *data = malloc(len + 1), want[32], got[32];
    assert_non_null(data);
    data[0] = 'd';
    for (size_t i = 1; i <= len; i++)
        data[i] = (unsigned char)(i * 31 + len);
    EVP_Digest(data + 1, len, want, NULL, EVP_sha256(), NULL);
    int fd = connect_proxy();
    assert_int_equal(net_write_all(fd, data, len + 1, NULL), 0);
    assert_int_equal(shutdown(fd, SHUT_WR), 0);
    assert_int_equal(net_read_exact(fd, got, 32, NULL), 0);
    assert_memory_equal(got, want, 32);
    /* The remote closed after answering: the proxy passes the end on. */
    assert_int_equal(read(fd, got, 1), 0);
    close(fd);
    free(data);
}

static void test_half_close_roundtrip(void **state)
{
    (void)state;
    digest_roundtrip(0);
    digest_roundtrip(1);
    digest_roundtrip(5u << 20);
}

static void *parallel_client(void *arg)
{
    (void)arg;
    for (int i = 0; i < 5; i++)
        digest_roundtrip(200000 + (size_t)i);
    return NULL;
}

static void test_many_concurrent_streams(void **state)
{
    (void)state;
    pthread_t t[48];
    for (int i = 0; i < 48; i++)
        assert_int_equal(pthread_create(&t[i], NULL, parallel_client, NULL), 0);
    for (int i = 0; i < 48; i++)
        pthread_join(t[i], NULL);
    assert_true(test_process_alive(&proxy));
}

/* A client that does not read while the remote sends 256 MiB: the proxy
 * holds one block per direction, so its memory stays small. */
static void test_slow_reader_does_not_grow_memory(void **state)
{
    (void)state;
    const unsigned long long total = 256ull << 20;
    unsigned char req[9] = {'s'};
    for (int i = 0; i < 8; i++)
        req[1 + i] = (unsigned char)(total >> (56 - 8 * i));
    long before = test_process_rss_kib(&proxy);
    int fd = connect_proxy();
    int small = 4096;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    assert_int_equal(net_write_all(fd, req, sizeof(req), NULL), 0);
    sleep(1); /* the remote pushes as fast as the proxy lets it */
    long during = test_process_rss_kib(&proxy);
    assert_true(during >= 0 && during - before < 4096);
    unsigned char buf[65536];
    unsigned long long got = 0;
    ssize_t n;
    while ((n = read(fd, buf, sizeof(buf))) > 0) {
        for (ssize_t i = 0; i < n; i++)
            if (buf[i] != (unsigned char)(((got + (unsigned long long)i) % 65536) * 7))
                fail_msg("byte %llu corrupted", got + (unsigned long long)i);
        got += (unsigned long long)n;
    }
    assert_true(got == total);
    close(fd);
}

/* The remote resets mid-stream: the client sees the stream end, and the
 * proxy goes on serving. */
static void test_remote_reset_mid_stream(void **state)
{
    (void)state;
    int fd = connect_proxy();
    unsigned char *data = calloc(1, 2u << 20);
    data[0] = 'k';
    (void)net_write_all(fd, data, 2u << 20, NULL); /* may fail once reset */
    struct pollfd p = {.fd = fd, .events = POLLIN};
    assert_int_equal(poll(&p, 1, 10000), 1);
    assert_true(read(fd, data, 1) <= 0);
    close(fd);
    free(data);
    assert_true(test_process_alive(&proxy));
    digest_roundtrip(10);
}

/* CPU time (clock ticks) the proxy has used so far. */
static long proxy_cpu_ticks(void)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)proxy.pid);
    FILE *f = fopen(path, "r");
    long utime = 0, stime = 0;
    assert_non_null(f);
    assert_int_equal(
        fscanf(f, "%*d %*s %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %ld %ld", &utime, &stime),
        2);
    fclose(f);
    return utime + stime;
}

/* A client that closes while the remote stays silent: the proxy must not
 * spin on the client's hang-up. */
static void test_no_spin_after_client_leaves(void **state)
{
    (void)state;
    int fd = connect_proxy();
    assert_int_equal(net_write_all(fd, "wxyz", 4, NULL), 0);
    close(fd);
    usleep(200000);
    long before = proxy_cpu_ticks();
    sleep(1);
    long used = proxy_cpu_ticks() - before;
    assert_true(used < 20); /* a spinning thread would burn ~100 ticks a second */
}

/* Clients that connect and vanish, without a byte. */
static void test_dropped_clients(void **state)
{
    (void)state;
    for (int i = 0; i < 500; i++)
        close(connect_proxy());
    digest_roundtrip(100);
}

static void test_refuses_destination_not_on_allowlist(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof(path), "%s/allow.txt", sock_dir);
    FILE *f = fopen(path, "w");
    fprintf(f, "# KMS only\nkms.eu-west-1.amazonaws.com:443\n\n  127.0.0.1:1  # comment\n");
    fclose(f);
    test_process p;
    const char *argv[] = {SIGNER_PROXY_PATH,
                          "--listen",
                          "tcp:127.0.0.1:0",
                          "--remote",
                          "evil.example.com:443",
                          "--allowlist",
                          path,
                          NULL};
    assert_int_equal(test_process_start(&p, argv, NULL, 0), 0);
    assert_int_equal(test_process_stop(&p, 0), 2);
    const char *argv2[] = {SIGNER_PROXY_PATH,
                           "--listen",
                           "tcp:127.0.0.1:0",
                           "--remote",
                           "KMS.eu-west-1.amazonaws.com:443",
                           "--allow",
                           "other:1",
                           "--allowlist",
                           path,
                           "--remote",
                           "127.0.0.1:2",
                           NULL};
    assert_int_equal(test_process_start(&p, argv2, NULL, 0), 0);
    assert_int_equal(test_process_stop(&p, 0), 2); /* 127.0.0.1:2 is not listed */
    const char *argv3[] = {SIGNER_PROXY_PATH, "--remote", "x:1", "--allow", "nonsense", NULL};
    assert_int_equal(test_process_start(&p, argv3, NULL, 0), 0);
    assert_int_equal(test_process_stop(&p, 0), 2);
    unlink(path);
}

/* A remote that is down: the client's stream is closed at once and a
 * second proxy over TCP keeps serving. */
static void test_unreachable_remote(void **state)
{
    (void)state;
    test_process p;
    char listen[64], remote[64];
    snprintf(listen, sizeof(listen), "tcp:127.0.0.1:%d", test_free_port());
    snprintf(remote, sizeof(remote), "127.0.0.1:%d", test_free_port());
    const char *argv[] = {SIGNER_PROXY_PATH,   "--listen", listen, "--remote", remote,
                          "--connect-timeout", "2000",     NULL};
    assert_int_equal(test_process_start(&p, argv, listen, 5000), 0);
    net_address addr;
    assert_int_equal(net_address_parse(listen, 0, &addr, NULL), 0);
    for (int i = 0; i < 3; i++) {
        int fd = net_connect(&addr, NULL);
        assert_true(fd >= 0);
        char c;
        assert_true(read(fd, &c, 1) <= 0);
        close(fd);
    }
    assert_true(test_process_alive(&p));
    assert_int_equal(test_process_stop(&p, SIGTERM), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_half_close_roundtrip),
        cmocka_unit_test(test_many_concurrent_streams),
        cmocka_unit_test(test_slow_reader_does_not_grow_memory),
        cmocka_unit_test(test_remote_reset_mid_stream),
        cmocka_unit_test(test_no_spin_after_client_leaves),
        cmocka_unit_test(test_dropped_clients),
        cmocka_unit_test(test_refuses_destination_not_on_allowlist),
        cmocka_unit_test(test_unreachable_remote),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
