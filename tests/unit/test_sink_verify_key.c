/*
 * cdc-bridge verify's key handling: each key class is ordered, bounded
 * and compared alike on both sides (sink/verify.h); only text gets
 * COLLATE "C".
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sink/verify.h"


static void
test_num_cmp(void **state)
{
    assert_int_equal(cdc_verify_num_cmp("1", "2"), -1);
    assert_int_equal(cdc_verify_num_cmp("10", "9"), 1);
    assert_int_equal(cdc_verify_num_cmp("-10", "-9"), -1);
    assert_int_equal(cdc_verify_num_cmp("-0", "0"), 0);
    assert_int_equal(cdc_verify_num_cmp("-0.000", "0"), 0);
    assert_int_equal(cdc_verify_num_cmp("-0.50", "0"), -1);
    assert_int_equal(cdc_verify_num_cmp("0.001", "0"), 1);
    assert_int_equal(cdc_verify_num_cmp("1.50", "1.5"), 0);
    assert_int_equal(cdc_verify_num_cmp("007", "7"), 0);
    assert_int_equal(cdc_verify_num_cmp("1.05", "1.5"), -1);
    /* past long double's precision */
    assert_int_equal(cdc_verify_num_cmp("1234567890123456789012345",
                                        "1234567890123456789012345.00001"),
                     -1);
    assert_int_equal(cdc_verify_num_cmp("18446744073709551615",
                                        "18446744073709551614"), 1);
    assert_int_equal(cdc_verify_num_cmp("-18446744073709551615",
                                        "-18446744073709551614"), -1);
}


static void
test_value_cmp(void **state)
{
    /* TIME as microseconds: numeric, not text */
    assert_int_equal(cdc_verify_key_value_cmp(CDC_VERIFY_KEY_INTERVAL,
                                              "-3600000000", "-1000000"),
                     -1);
    assert_int_equal(cdc_verify_key_value_cmp(CDC_VERIFY_KEY_INTERVAL,
                                              "500000", "36000000000"), -1);
    /* bytes as hex, text as UTF-8 bytes */
    assert_int_equal(cdc_verify_key_value_cmp(CDC_VERIFY_KEY_BYTES, "7f",
                                              "80"), -1);
    assert_int_equal(cdc_verify_key_value_cmp(CDC_VERIFY_KEY_BYTES, "00",
                                              ""), 1);
    assert_int_equal(cdc_verify_key_value_cmp(CDC_VERIFY_KEY_TEXT, "Z", "a"),
                     -1);
    assert_int_equal(cdc_verify_key_value_cmp(CDC_VERIFY_KEY_TEXT,
                                              "\xc3\xa9", "\xe2\x82\xac"),
                     -1);
    /* fractions without trailing zeros */
    assert_int_equal(cdc_verify_key_value_cmp(CDC_VERIFY_KEY_TIME,
                                              "2024-01-01 00:00:00",
                                              "2024-01-01 00:00:00.000001"),
                     -1);
    assert_int_equal(cdc_verify_key_value_cmp(CDC_VERIFY_KEY_TIME,
                                              "2024-01-01 00:00:00.5",
                                              "2024-01-01 00:00:00.123"), 1);
    /* a zero date (NULL) first */
    assert_int_equal(cdc_verify_key_value_cmp(CDC_VERIFY_KEY_TIME, NULL,
                                              "1000-01-01"), -1);
    assert_int_equal(cdc_verify_key_value_cmp(CDC_VERIFY_KEY_BITS, "0111",
                                              "1000"), -1);
}


static void
test_time_text(void **state)
{
    char  buf[64];

    cdc_verify_time_text(-3600250000LL, buf, sizeof(buf));
    assert_string_equal(buf, "-1:00:00.250000");
    cdc_verify_time_text(3020399000000LL, buf, sizeof(buf));
    assert_string_equal(buf, "838:59:59.000000");
    cdc_verify_time_text(0, buf, sizeof(buf));
    assert_string_equal(buf, "0:00:00.000000");
}


static char *
src_value(cdc_pg_kind_t kind, const char *v)
{
    int               rc;
    cdc_sql_t         q;
    cdc_verify_col_t  c;

    memset(&q, 0, sizeof(q));
    memset(&c, 0, sizeof(c));
    c.kind = kind;
    c.key = cdc_verify_key_class(kind);

    rc = cdc_verify_src_key_value(&q, NULL, &c, v);
    if (rc != 0) {
        free(q.p);
        return NULL;
    }

    return q.p;
}


static void
test_src_literals(void **state)
{
    char  *s;

    s = src_value(CDC_PG_NUMBER, "18446744073709551614");
    assert_string_equal(s, "18446744073709551614");
    free(s);
    s = src_value(CDC_PG_INTERVAL, "-1000000");
    assert_string_equal(s, "'-0:00:01.000000'");
    free(s);
    s = src_value(CDC_PG_BYTEA, "00ff");
    assert_string_equal(s, "X'00ff'");
    free(s);
    s = src_value(CDC_PG_BIT, "0101");
    assert_string_equal(s, "b'0101'");
    free(s);
    s = src_value(CDC_PG_DATE, NULL);
    assert_string_equal(s, "'0000-00-00'");
    free(s);
    s = src_value(CDC_PG_TIMESTAMP, "2024-01-01 10:00:00.5");
    assert_string_equal(s, "'2024-01-01 10:00:00.5'");
    free(s);

    /* not of the class's form: refused, never spliced into SQL */
    assert_null(src_value(CDC_PG_NUMBER, "1 OR 1=1"));
    assert_null(src_value(CDC_PG_BYTEA, "zz"));
    assert_null(src_value(CDC_PG_BIT, "2"));
    assert_null(src_value(CDC_PG_DATE, "2024-01-01' --"));
}


static void
test_dst_exprs(void **state)
{
    size_t             i;
    cdc_sql_t          q;
    const char        *p;
    cdc_verify_col_t   c;

    static const struct {
        cdc_pg_kind_t   kind;
        const char     *v;
        const char     *expr;
        const char     *param;
        const char     *value;
    } cases[] = {
        { CDC_PG_TEXT, "a", "cdc_t.\"k\"::text COLLATE \"C\"", "$1::text",
          "a" },
        { CDC_PG_DATE, "2024-01-01", "cdc_t.\"k\"", "$1", "2024-01-01" },
        { CDC_PG_DATE, NULL, "cdc_t.\"k\"", "$1", "-infinity" },
        { CDC_PG_TIMESTAMPTZ, "2024-01-01 00:00:00", "cdc_t.\"k\"", "$1",
          "2024-01-01 00:00:00" },
        { CDC_PG_BYTEA, "00ff", "cdc_t.\"k\"",
          "pg_catalog.decode($1, 'hex')", "00ff" },
        { CDC_PG_INTERVAL, "-1000000", "cdc_t.\"k\"",
          "($1::bigint * interval '1 microsecond')", "-1000000" },
        { CDC_PG_BIT, "0101", "cdc_t.\"k\"", "$1", "0101" },
        { CDC_PG_NUMBER, "12", "cdc_t.\"k\"", "$1", "12" },
    };

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memset(&c, 0, sizeof(c));
        c.kind = cases[i].kind;
        c.key = cdc_verify_key_class(c.kind);

        memset(&q, 0, sizeof(q));
        cdc_verify_dst_key_expr(&q, &c, "\"k\"");
        assert_string_equal(q.p, cases[i].expr);
        free(q.p);

        memset(&q, 0, sizeof(q));
        cdc_verify_dst_key_param(&q, &c, 1, cases[i].v, &p);
        assert_string_equal(q.p, cases[i].param);
        assert_string_equal(p, cases[i].value);
        free(q.p);
    }
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_num_cmp),
        cmocka_unit_test(test_value_cmp),
        cmocka_unit_test(test_time_text),
        cmocka_unit_test(test_src_literals),
        cmocka_unit_test(test_dst_exprs),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
