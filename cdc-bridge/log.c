/*
 * cdc-bridge logging: see log.h.
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "log.h"


#define CDC_LOG_LINE  4096


static volatile int  cdc_log_level = CDC_LOG_INFO;
static char          cdc_log_ident[64];

static const char   *cdc_log_names[] = { "error", "warn", "info", "debug" };


void
cdc_log_set_level(int level)
{
    if (level < CDC_LOG_ERROR) {
        level = -1;             /* nothing at all */
    }

    if (level > CDC_LOG_DEBUG) {
        level = CDC_LOG_DEBUG;
    }

    cdc_log_level = level;
}


int
cdc_log_get_level(void)
{
    return cdc_log_level;
}


int
cdc_log_level_parse(const char *name)
{
    int  i;

    if (name == NULL) {
        return -1;
    }

    for (i = 0; i <= CDC_LOG_DEBUG; i++) {
        if (strcasecmp(name, cdc_log_names[i]) == 0) {
            return i;
        }
    }

    if (strcasecmp(name, "warning") == 0) {
        return CDC_LOG_WARN;
    }

    return -1;
}


void
cdc_log_set_ident(const char *ident)
{
    size_t  n;

    if (ident == NULL) {
        cdc_log_ident[0] = '\0';
        return;
    }

    n = strnlen(ident, sizeof(cdc_log_ident) - 1);
    memcpy(cdc_log_ident, ident, n);
    cdc_log_ident[n] = '\0';
}


void
cdc_logv(int level, const char *fmt, va_list ap)
{
    int              n, m;
    char             line[CDC_LOG_LINE];
    size_t           len, off;
    ssize_t          w;
    struct tm        tm;
    struct timespec  ts;

    if (level > cdc_log_level) {
        return;
    }

    if (level < CDC_LOG_ERROR) {
        level = CDC_LOG_ERROR;
    }

    if (clock_gettime(CLOCK_REALTIME, &ts) != 0 || !gmtime_r(&ts.tv_sec, &tm))
    {
        memset(&tm, 0, sizeof(tm));
        ts.tv_nsec = 0;
    }

    n = snprintf(line, sizeof(line),
                 "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ cdc-bridge%s%s[%ld]: "
                 "%s: ",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                 tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
                 cdc_log_ident[0] ? " " : "", cdc_log_ident,
                 (long) getpid(), cdc_log_names[level]);

    if (n < 0) {
        return;
    }

    len = (size_t) n < sizeof(line) ? (size_t) n : sizeof(line) - 1;

    m = vsnprintf(line + len, sizeof(line) - len, fmt, ap);

    if (m > 0) {
        len += (size_t) m;
    }

    if (len > sizeof(line) - 2) {
        len = sizeof(line) - 2;
    }

    /* a message never spans lines: a reader greps one line per event */
    for (off = 0; off < len; off++) {
        if (line[off] == '\n' || line[off] == '\r') {
            line[off] = ' ';
        }
    }

    line[len++] = '\n';

    for (off = 0; off < len; off += (size_t) w) {
        w = write(STDERR_FILENO, line + off, len - off);

        if (w < 0) {
            if (errno == EINTR) {
                w = 0;
                continue;
            }
            return;
        }
    }
}


void
cdc_log(int level, const char *fmt, ...)
{
    va_list  ap;

    va_start(ap, fmt);
    cdc_logv(level, fmt, ap);
    va_end(ap);
}


int
cdc_error(char *err, size_t errlen, const char *fmt, ...)
{
    va_list  ap;

    if (err == NULL || errlen == 0) {
        return -1;
    }

    va_start(ap, fmt);

    if (vsnprintf(err, errlen, fmt, ap) < 0) {
        err[0] = '\0';
    }

    va_end(ap);

    return -1;
}
