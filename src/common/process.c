/* Numeric options and the stop signal, for every binary. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "signer/process.h"

int signer_option_number(const char *program, const char *opt, const char *s,
                         unsigned long long min, unsigned long long max, unsigned long long *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (*s == '\0' || *s == '-' || *s == '+' || *end != '\0' || errno != 0 || v < min || v > max) {
        fprintf(stderr, "%s: %s wants a number from %llu to %llu, not \"%s\"\n", program, opt, min,
                max, s);
        return -1;
    }
    *out = v;
    return 0;
}

static int stop_pipe[2] = {-1, -1};

/* Only async-signal-safe work: one byte into the pipe. */
static void on_stop(int sig)
{
    (void)sig;
    int saved = errno;
    ssize_t n = write(stop_pipe[1], "x", 1);
    (void)n;
    errno = saved;
}

int signer_stop_signal_fd(signer_error *err)
{
    if (stop_pipe[0] < 0 && pipe2(stop_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
        return signer_error_set(err, SIGNER_ERR_IO, "pipe: %s", strerror(errno));
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    return stop_pipe[0];
}
