/* Test harness: a real daemon process per test group. */
#include "harness.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "signer/rpc.h"

int test_daemon_start(test_daemon *d, const char *const *extra)
{
    memset(d, 0, sizeof(*d));
    snprintf(d->dir, sizeof(d->dir), "/tmp/signer-test-XXXXXX");
    if (mkdtemp(d->dir) == NULL)
        return -1;
    char listen[128];
    snprintf(d->address, sizeof(d->address), "unix:%s/s.sock", d->dir);
    snprintf(listen, sizeof(listen), "%s", d->address);
    const char *argv[32] = {SIGNER_DAEMON_PATH,
                            "--listen",
                            listen,
                            "--sealing",
                            "passthrough",
                            "--log-level",
                            getenv("SIGNER_TEST_LOG") ? "debug" : "warn"};
    int n = 7;
    for (int i = 0; extra && extra[i] && n < 31; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    return test_process_start(&d->process, argv, d->address, 5000);
}

int test_daemon_alive(const test_daemon *d)
{
    return test_process_alive(&d->process);
}

int test_daemon_stop(test_daemon *d)
{
    int status = test_process_stop(&d->process, SIGTERM);
    char path[128];
    snprintf(path, sizeof(path), "%s/s.sock", d->dir);
    d->socket_left = unlink(path) == 0;
    rmdir(d->dir);
    return status;
}

long test_daemon_rss_kib(const test_daemon *d)
{
    return test_process_rss_kib(&d->process);
}

signer_client *test_connect(const test_daemon *d, int initialize)
{
    signer_client *c;
    signer_error err;
    if (signer_client_connect(d->address, &c, &err) != 0) {
        fprintf(stderr, "connect: %s\n", err.message);
        return NULL;
    }
    if (initialize) {
        rpc_request req = {.call = RPC_INITIALIZE};
        rpc_response resp;
        if (signer_client_call(c, &req, &resp, &err) != 0 || !resp.ok) {
            fprintf(stderr, "initialize failed\n");
            signer_client_close(c);
            return NULL;
        }
        rpc_response_free(&resp);
    }
    return c;
}

int test_raw_call(signer_client *c, const uint8_t *item, size_t len, char *msg, size_t msglen)
{
    uint8_t header[4] = {(uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
                         (uint8_t)len};
    uint8_t *payload;
    size_t plen;
    if (signer_client_send_raw(c, header, 4, NULL) != 0 ||
        signer_client_send_raw(c, item, len, NULL) != 0 ||
        signer_client_receive_raw(c, &payload, &plen, NULL) != 0)
        return -1;
    /* Any call's Err decodes the same way; Initialize's Ok is null. */
    rpc_response resp;
    signer_error err;
    int rc = rpc_response_decode(RPC_INITIALIZE, payload, plen, &resp, &err);
    free(payload);
    if (rc != 0) {
        snprintf(msg, msglen, "undecodable: %s", err.message);
        return 0;
    }
    snprintf(msg, msglen, "%s", resp.ok ? "OK" : resp.error_message);
    rpc_response_free(&resp);
    return 0;
}

size_t test_unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = strlen(hex) / 2;
    if (n > cap)
        return (size_t)-1;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1)
            return (size_t)-1;
        out[i] = (uint8_t)v;
    }
    return n;
}
