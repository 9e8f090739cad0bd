/* Timestamped log lines on stderr, one write per line so lines from
 * concurrent requests never interleave. */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "devkms.h"

static int log_level = DEVKMS_LOG_INFO;

void devkms_log_set_level(int level)
{
    log_level = level;
}

bool devkms_log_enabled(int level)
{
    return level <= log_level;
}

void devkms_log(int level, const char *fmt, ...)
{
    static const char *const names[] = {"", "error", "warn", "info", "debug"};
    if (!devkms_log_enabled(level) || level < DEVKMS_LOG_ERROR || level > DEVKMS_LOG_DEBUG)
        return;
    char line[1024];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ devkms %s ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, ts.tv_nsec / 1000000, names[level]);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s\n", line);
}
