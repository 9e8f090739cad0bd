/* Starts the real enclave-signer binary on a unix socket for a test. */
#ifndef SIGNER_TEST_HARNESS_H
#define SIGNER_TEST_HARNESS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "process.h"
#include "signer/client.h"

typedef struct test_daemon {
    test_process process;
    char dir[64];
    char address[128]; /* unix:... */
    int socket_left;   /* set by test_daemon_stop: the daemon left its socket */
} test_daemon;

/* Starts the daemon with --sealing passthrough plus `extra` (NULL-ended)
 * and waits until it accepts connections.  Returns 0 or -1. */
int test_daemon_start(test_daemon *d, const char *const *extra);

/* Sends SIGTERM and waits; returns the exit status (or -1). */
int test_daemon_stop(test_daemon *d);

/* True while the daemon process is alive. */
int test_daemon_alive(const test_daemon *d);

/* Resident memory of the daemon in KiB (from /proc). */
long test_daemon_rss_kib(const test_daemon *d);

/* Connects a client and sends Initialize with an empty map. */
signer_client *test_connect(const test_daemon *d, int initialize);

/* Sends raw bytes as one frame and returns the answer's Err message (or
 * "OK" for an Ok answer) in `msg`.  Returns 0 when an answer arrived. */
int test_raw_call(signer_client *c, const uint8_t *item, size_t len, char *msg, size_t msglen);

/* Hex helpers. */
size_t test_unhex(const char *hex, uint8_t *out, size_t cap);

#endif
