/* One log line per event on stderr, shared by the binaries: a UTC
 * timestamp, the program, the level and the message.  One write per line,
 * so lines from concurrent threads never interleave.  Never log key
 * material, plaintext or credentials. */
#ifndef SIGNER_LOG_H
#define SIGNER_LOG_H

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
    SIGNER_LOG_QUIET = 0,
    SIGNER_LOG_ERROR = 1,
    SIGNER_LOG_WARN = 2,
    SIGNER_LOG_INFO = 3,
    SIGNER_LOG_DEBUG = 4,
};

/* Names the program in every line and sets the most verbose level kept. */
void signer_log_setup(const char *program, int level);

bool signer_log_enabled(int level);

void signer_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "quiet", "error", "warn", "info" or "debug" to a level; -1 otherwise. */
int signer_log_level_parse(const char *name);

#ifdef __cplusplus
}
#endif
#endif
