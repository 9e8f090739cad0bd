/* Timestamped log lines on stderr. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "signer/log.h"

static const char *program = "signer";
static int log_level = SIGNER_LOG_INFO;
static const char *const level_names[] = {"quiet", "error", "warn", "info", "debug"};

void signer_log_setup(const char *name, int level)
{
    program = name;
    log_level = level;
}

bool signer_log_enabled(int level)
{
    return level <= log_level;
}

int signer_log_level_parse(const char *name)
{
    for (int i = SIGNER_LOG_QUIET; i <= SIGNER_LOG_DEBUG; i++)
        if (strcmp(name, level_names[i]) == 0)
            return i;
    return -1;
}

void signer_log(int level, const char *fmt, ...)
{
    if (level < SIGNER_LOG_ERROR || level > SIGNER_LOG_DEBUG || !signer_log_enabled(level))
        return;
    char line[1024];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s %s ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     ts.tv_nsec / 1000000, program, level_names[level]);
    if (n < 0 || (size_t)n >= sizeof(line))
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s\n", line);
}
