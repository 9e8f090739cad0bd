/* libFuzzer: a whole client byte stream (frames, CBOR, calls) through a
 * real daemon session over a socketpair, answers drained by a thread. */
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void *drain(void *arg)
{
    int fd = *(int *)arg;
    uint8_t buf[65536];
    while (read(fd, buf, sizeof(buf)) > 0)
        ;
    return NULL;
}

static void *feed(void *arg)
{
    const void **input = arg;
    int fd = *(const int *)input[0];
    (void)net_write_all(fd, input[1], *(const size_t *)input[2], NULL);
    shutdown(fd, SHUT_WR);
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static daemon_config cfg;
    static int ready;
    if (!ready) {
        ready = signer_crypto_init(NULL) == 0;
        cfg.sealing = sealing_backend_find("passthrough");
        cfg.max_frame = 4096;
        cfg.max_connections = 1;
        cfg.max_keys = 16;
        cfg.max_total_keys = 64;
        cfg.frame_timeout_ms = 1000;
        signer_log_setup("enclave-signer", SIGNER_LOG_QUIET);
    }
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
        return 0;
    pthread_t feeder, drainer;
    const void *input[3] = {&sv[1], data, &size};
    pthread_create(&feeder, NULL, feed, input);
    pthread_create(&drainer, NULL, drain, &sv[1]);
    session_serve(sv[0], &cfg, "fuzz"); /* closes sv[0] */
    pthread_join(feeder, NULL);
    pthread_join(drainer, NULL);
    close(sv[1]);
    return 0;
}
