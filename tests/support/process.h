/* Test support: real processes (daemon, proxy, devkms) started and
 * stopped by tests, and free loopback ports for them. */
#ifndef SIGNER_TEST_PROCESS_H
#define SIGNER_TEST_PROCESS_H

#include <stdbool.h>
#include <sys/types.h>

typedef struct test_process {
    pid_t pid;
} test_process;

/* Starts argv (NULL-ended).  With `address` (net.h syntax) it waits until a
 * stream connection to it succeeds, at most `wait_ms`.  Returns 0 or -1
 * (the process is stopped again on failure). */
int test_process_start(test_process *p, const char *const *argv, const char *address, int wait_ms);

/* True while the process runs. */
bool test_process_alive(const test_process *p);

/* Sends `sig`, waits up to 10 s (then SIGKILL).  Returns the exit status,
 * 128+signal when killed by a signal, or -1 when it had to be killed. */
int test_process_stop(test_process *p, int sig);

/* Resident memory in KiB (from /proc), or -1. */
long test_process_rss_kib(const test_process *p);

/* A loopback TCP port that was free a moment ago. */
int test_free_port(void);

#endif
