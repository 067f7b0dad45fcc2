/*
 * cdc-bridge log: one line per message on stderr with a UTC timestamp,
 * the ident and the level; levels filter; newlines never split a line;
 * cdc_error() fills the caller's buffer, truncates safely, returns -1.
 */

#include <fcntl.h>
#include <regex.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"


/* runs fn with stderr captured; returns what it wrote (malloc()ed) */
static char *
capture(void (*fn)(void))
{
    int      fds[2], saved;
    char    *buf;
    ssize_t  n;
    size_t   len;

    assert_int_equal(pipe(fds), 0);
    saved = dup(STDERR_FILENO);
    assert_true(saved >= 0);
    assert_true(dup2(fds[1], STDERR_FILENO) >= 0);
    close(fds[1]);

    fn();

    assert_true(dup2(saved, STDERR_FILENO) >= 0);
    close(saved);

    buf = calloc(1, 65536);
    assert_non_null(buf);
    len = 0;

    while ((n = read(fds[0], buf + len, 65535 - len)) > 0) {
        len += (size_t) n;
    }

    close(fds[0]);

    return buf;
}


static void
emit_levels(void)
{
    cdc_log_set_ident("sink orders");
    cdc_log_set_level(CDC_LOG_WARN);
    cdc_log_error("broken %d", 1);
    cdc_log_warn("careful\nnow");
    cdc_log_info("not shown");
    cdc_log_debug("not shown either");
    cdc_log_set_level(-1);
    cdc_log_error("silenced");
    cdc_log_set_level(CDC_LOG_INFO);
    cdc_log_set_ident(NULL);
}


static void
test_line_format_and_levels(void **state)
{
    char     *out, *second;
    regex_t   re;

    out = capture(emit_levels);

    assert_int_equal(regcomp(&re, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:"
                             "[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z cdc-bridge "
                             "sink orders\\[[0-9]+\\]: error: broken 1\n",
                             REG_EXTENDED), 0);
    assert_int_equal(regexec(&re, out, 0, NULL, 0), 0);
    regfree(&re);

    second = strchr(out, '\n');
    assert_non_null(second);
    /* the embedded newline became a blank: still one line */
    assert_non_null(strstr(second + 1, "]: warn: careful now\n"));
    assert_null(strstr(out, "not shown"));
    assert_null(strstr(out, "silenced"));
    assert_null(strchr(strchr(second + 1, '\n') + 1, '\n'));

    free(out);
}


static void
test_level_parse(void **state)
{
    assert_int_equal(cdc_log_level_parse("error"), CDC_LOG_ERROR);
    assert_int_equal(cdc_log_level_parse("WARN"), CDC_LOG_WARN);
    assert_int_equal(cdc_log_level_parse("warning"), CDC_LOG_WARN);
    assert_int_equal(cdc_log_level_parse("info"), CDC_LOG_INFO);
    assert_int_equal(cdc_log_level_parse("debug"), CDC_LOG_DEBUG);
    assert_int_equal(cdc_log_level_parse("loud"), -1);
    assert_int_equal(cdc_log_level_parse(NULL), -1);

    cdc_log_set_level(99);
    assert_int_equal(cdc_log_get_level(), CDC_LOG_DEBUG);
    cdc_log_set_level(CDC_LOG_INFO);
}


static void
test_cdc_error(void **state)
{
    char  err[16];

    memset(err, 'x', sizeof(err));
    assert_int_equal(cdc_error(err, sizeof(err), "bad port \"%s\"", "abc"),
                     -1);
    assert_string_equal(err, "bad port \"abc\"");

    /* truncated, always terminated */
    assert_int_equal(cdc_error(err, sizeof(err), "%s", "0123456789abcdefgh"),
                     -1);
    assert_string_equal(err, "0123456789abcde");

    assert_int_equal(cdc_error(NULL, 0, "ignored %d", 1), -1);
}


static void
emit_long(void)
{
    char  big[10000];

    memset(big, 'z', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    cdc_log_error("%s", big);
}


static void
test_long_message_is_one_line(void **state)
{
    char  *out;

    out = capture(emit_long);
    assert_true(strlen(out) > 1000);
    assert_true(strlen(out) <= 4096);
    assert_int_equal(out[strlen(out) - 1], '\n');
    assert_ptr_equal(strchr(out, '\n'), out + strlen(out) - 1);
    free(out);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_line_format_and_levels),
        cmocka_unit_test(test_level_parse),
        cmocka_unit_test(test_cdc_error),
        cmocka_unit_test(test_long_message_is_one_line),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
