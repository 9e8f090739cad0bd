/* Timestamped log lines on stderr. */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "daemon.h"

static int log_level = LOG_INFO;

void daemon_log_set_level(int level)
{
    log_level = level;
}

bool daemon_log_enabled(int level)
{
    return level <= log_level;
}

void daemon_log(int level, const char *fmt, ...)
{
    static const char *const names[] = {"", "error", "warn", "info", "debug"};
    if (!daemon_log_enabled(level))
        return;
    char line[512];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     ts.tv_nsec / 1000000, names[level]);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    va_end(ap);
    /* One fprintf per line keeps lines from different threads whole. */
    fprintf(stderr, "%s\n", line);
}
