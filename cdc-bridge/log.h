/*
 * cdc-bridge logging: leveled lines on stderr, one write(2) per line so
 * lines from several threads never interleave:
 *
 *   2026-11-22T02:55:01.123Z cdc-bridge run[1234]: error: message
 *
 * The level comes from cdc_log_set_level() (the config's [log] level, or
 * CDC_LOG_LEVEL); messages above it cost one comparison.
 *
 * cdc_error() is git's error() idiom for the bridge's libraries: it
 * formats a message into the caller's buffer and returns -1, so a failing
 * path reads "return cdc_error(err, errlen, "bad port \"%s\"", v);".
 */

#ifndef CDC_LOG_H
#define CDC_LOG_H

#include <stdarg.h>
#include <stddef.h>


typedef enum {
    CDC_LOG_ERROR = 0,
    CDC_LOG_WARN,
    CDC_LOG_INFO,
    CDC_LOG_DEBUG
} cdc_log_level_t;


/*
 * Messages with a level above this are dropped; default CDC_LOG_INFO; a
 * negative level drops everything.
 */
void cdc_log_set_level(int level);
int cdc_log_get_level(void);

/*
 * "error", "warn", "info", "debug" → the level; -1 when name is none of
 * them.
 */
int cdc_log_level_parse(const char *name);

/*
 * The word after "cdc-bridge" in every line, e.g. "run" or "sink orders";
 * copied (at most 63 bytes).  Default: none.
 */
void cdc_log_set_ident(const char *ident);

void cdc_log(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void cdc_logv(int level, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

#define cdc_log_error(...)  cdc_log(CDC_LOG_ERROR, __VA_ARGS__)
#define cdc_log_warn(...)   cdc_log(CDC_LOG_WARN, __VA_ARGS__)
#define cdc_log_info(...)   cdc_log(CDC_LOG_INFO, __VA_ARGS__)
#define cdc_log_debug(...)  cdc_log(CDC_LOG_DEBUG, __VA_ARGS__)

/*
 * Formats fmt into err (errlen bytes, always terminated when errlen > 0,
 * silently truncated) and returns -1.  err may be NULL.
 */
int cdc_error(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));


#endif /* CDC_LOG_H */
