/* What the binaries share about being a process: reading numeric options
 * and stopping on a signal. */
#ifndef SIGNER_PROCESS_H
#define SIGNER_PROCESS_H

#include "signer/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Parses the decimal option `opt` = `s` into `out` when it lies in
 * [min, max]; otherwise prints "PROGRAM: OPT wants a number from MIN to
 * MAX, not "S"" on stderr and returns -1. */
int signer_option_number(const char *program, const char *opt, const char *s,
                         unsigned long long min, unsigned long long max, unsigned long long *out);

/* Installs handlers so that SIGTERM and SIGINT make the returned file
 * descriptor readable (poll it next to the listening socket), and ignores
 * SIGPIPE.  Returns the descriptor, or -1. */
int signer_stop_signal_fd(signer_error *err);

#ifdef __cplusplus
}
#endif
#endif
