/*
 * The sink's pure parts: the MySQL -> PostgreSQL type map, the
 * conversion of change-event JSON values to the text PostgreSQL reads,
 * and the JSON reader that keeps numbers exact.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sink/json.h"
#include "sink/typemap.h"


typedef struct {
    const char  *data_type;
    const char  *column_type;
    long         char_length;
    int          precision;
    int          scale;
    int          fsp;
    int          is_json;
    const char  *expect;
} map_case_t;


static const map_case_t  map_cases[] = {
    { "tinyint", "tinyint(4)", -1, 3, 0, -1, 0, "smallint" },
    { "tinyint", "tinyint(3) unsigned", -1, 3, 0, -1, 0, "smallint" },
    { "smallint", "smallint(6)", -1, 5, 0, -1, 0, "smallint" },
    { "smallint", "smallint(5) unsigned", -1, 5, 0, -1, 0, "integer" },
    { "mediumint", "mediumint(8) unsigned", -1, 7, 0, -1, 0, "integer" },
    { "int", "int(11)", -1, 10, 0, -1, 0, "integer" },
    { "int", "int(10) unsigned", -1, 10, 0, -1, 0, "bigint" },
    { "bigint", "bigint(20)", -1, 19, 0, -1, 0, "bigint" },
    { "bigint", "bigint(20) unsigned", -1, 20, 0, -1, 0, "numeric(20)" },
    { "decimal", "decimal(65,30)", -1, 65, 30, -1, 0, "numeric(65,30)" },
    { "decimal", "decimal(10,0)", -1, 10, 0, -1, 0, "numeric(10,0)" },
    { "float", "float", -1, 12, -1, -1, 0, "real" },
    { "double", "double", -1, 22, -1, -1, 0, "double precision" },
    { "bit", "bit(17)", -1, 17, -1, -1, 0, "bit varying(17)" },
    { "date", "date", -1, -1, -1, -1, 0, "date" },
    { "datetime", "datetime", -1, -1, -1, 0, 0,
      "timestamp(0) without time zone" },
    { "datetime", "datetime(6)", -1, -1, -1, 6, 0,
      "timestamp(6) without time zone" },
    { "timestamp", "timestamp(3)", -1, -1, -1, 3, 0,
      "timestamp(3) with time zone" },
    { "time", "time(2)", -1, -1, -1, 2, 0, "interval" },
    { "year", "year(4)", -1, -1, -1, -1, 0, "smallint" },
    { "char", "char(5)", 5, -1, -1, -1, 0, "varchar(5)" },
    { "varchar", "varchar(255)", 255, -1, -1, -1, 0, "varchar(255)" },
    { "mediumtext", "mediumtext", 16777215, -1, -1, -1, 0, "text" },
    { "longtext", "longtext", 4294967295L, -1, -1, -1, 1, "jsonb" },
    { "json", "json", -1, -1, -1, -1, 1, "jsonb" },
    { "longtext", "longtext", 4294967295L, -1, -1, -1, 0, "text" },
    { "binary", "binary(16)", 16, -1, -1, -1, 0, "bytea" },
    { "longblob", "longblob", -1, -1, -1, -1, 0, "bytea" },
    { "enum", "enum('a','b')", 1, -1, -1, -1, 0, "text" },
    { "set", "set('x','y')", 3, -1, -1, -1, 0, "text" },
    { "point", "point", -1, -1, -1, -1, 0, "bytea" },
    { "geometry", "geometry", -1, -1, -1, -1, 0, "bytea" },
};


static void
test_type_map(void **state)
{
    char              buf[128], err[256];
    size_t            i;
    cdc_mysql_type_t  t;

    for (i = 0; i < sizeof(map_cases) / sizeof(map_cases[0]); i++) {
        t.data_type = map_cases[i].data_type;
        t.column_type = map_cases[i].column_type;
        t.char_length = map_cases[i].char_length;
        t.precision = map_cases[i].precision;
        t.scale = map_cases[i].scale;
        t.fsp = map_cases[i].fsp;
        t.is_json = map_cases[i].is_json;

        assert_int_equal(cdc_typemap_pg_type(&t, buf, sizeof(buf), err,
                                             sizeof(err)), 0);
        assert_string_equal(buf, map_cases[i].expect);
    }

    t.data_type = "vector";
    t.column_type = "vector(3)";
    assert_int_equal(cdc_typemap_pg_type(&t, buf, sizeof(buf), err,
                                         sizeof(err)), -1);
    assert_non_null(strstr(err, "vector(3)"));

    t.data_type = "bigint";
    t.column_type = "bigint(20) unsigned";
    assert_int_equal(cdc_typemap_pg_type(&t, buf, 4, err, sizeof(err)), -1);
}


static void
test_kind(void **state)
{
    assert_int_equal(cdc_typemap_kind("bytea"), CDC_PG_BYTEA);
    assert_int_equal(cdc_typemap_kind("date"), CDC_PG_DATE);
    assert_int_equal(cdc_typemap_kind("timestamp(6) without time zone"),
                     CDC_PG_TIMESTAMP);
    assert_int_equal(cdc_typemap_kind("timestamp with time zone"),
                     CDC_PG_TIMESTAMPTZ);
    assert_int_equal(cdc_typemap_kind("interval"), CDC_PG_INTERVAL);
    assert_int_equal(cdc_typemap_kind("bit varying(10)"), CDC_PG_BIT);
    assert_int_equal(cdc_typemap_kind("jsonb"), CDC_PG_JSON);
    assert_int_equal(cdc_typemap_kind("boolean"), CDC_PG_BOOL);
    assert_int_equal(cdc_typemap_kind("numeric(20,0)"), CDC_PG_NUMBER);
    assert_int_equal(cdc_typemap_kind("real"), CDC_PG_FLOAT4);
    assert_int_equal(cdc_typemap_kind("inet"), CDC_PG_INET);
    assert_int_equal(cdc_typemap_kind("uuid"), CDC_PG_UUID);
    assert_int_equal(cdc_typemap_kind("double precision"), CDC_PG_FLOAT8);
    assert_int_equal(cdc_typemap_kind("character varying(5)"), CDC_PG_TEXT);
}


/* value (JSON text) into a column of kind -> expected text, NULL = NULL */
static void
check_value(const char *json, cdc_pg_kind_t kind, const char *expect)
{
    int              rc;
    char             err[256];
    size_t           len;
    cdc_jv_t        *v;
    const char      *out;
    cdc_jv_arena_t   a;

    memset(&a, 0, sizeof(a));
    v = cdc_jv_parse(&a, json, strlen(json), err, sizeof(err));
    assert_non_null(v);

    rc = cdc_typemap_value(v, kind, &a, &out, &len, err, sizeof(err));
    assert_int_equal(rc, 0);

    if (expect == NULL) {
        assert_null(out);
    } else {
        assert_non_null(out);
        assert_string_equal(out, expect);
        assert_int_equal(len, strlen(expect));
    }

    cdc_jv_arena_free(&a);
}


static void
test_values(void **state)
{
    check_value("18446744073709551615", CDC_PG_NUMBER,
                "18446744073709551615");
    check_value("-9223372036854775808", CDC_PG_NUMBER,
                "-9223372036854775808");
    check_value("\"-12345678901234567890.0123456789\"", CDC_PG_NUMBER,
                "-12345678901234567890.0123456789");
    check_value("0.1", CDC_PG_FLOAT8, "0.1");
    check_value("1.0000000000000002e-300", CDC_PG_FLOAT8,
                "1.0000000000000002e-300");
    check_value("null", CDC_PG_NUMBER, NULL);
    check_value("\"2024-02-29\"", CDC_PG_DATE, "2024-02-29");
    check_value("\"0000-00-00\"", CDC_PG_DATE, NULL);
    check_value("\"2020-00-10\"", CDC_PG_DATE, NULL);
    check_value("\"2020-05-00\"", CDC_PG_DATE, NULL);
    check_value("\"0000-00-00 00:00:00\"", CDC_PG_TIMESTAMP, NULL);
    check_value("\"0000-00-00T00:00:00.000Z\"", CDC_PG_TIMESTAMPTZ, NULL);
    check_value("\"2022-04-20T22:18:04.500Z\"", CDC_PG_TIMESTAMPTZ,
                "2022-04-20T22:18:04.500Z");
    check_value("\"2024-01-02 03:04:05.123456\"", CDC_PG_TIMESTAMP,
                "2024-01-02 03:04:05.123456");
    check_value("\"-838:59:59.00\"", CDC_PG_INTERVAL, "-838:59:59.00");
    check_value("\"AQIDBA==\"", CDC_PG_BYTEA, "\\x01020304");
    check_value("\"AP8\"", CDC_PG_BYTEA, "\\x00ff");
    check_value("\"\"", CDC_PG_BYTEA, "\\x");
    check_value("{\"srid\":4326,\"wkb\":\"AQEAAAAAAAAAAADwPwAAAAAAAABA\"}",
                CDC_PG_BYTEA,
                "\\x0101000000000000000000f03f0000000000000040");
    check_value("\"1000000001\"", CDC_PG_BIT, "1000000001");
    check_value("\"{\\\"b\\\":1,\\\"a\\\":[1,2]}\"", CDC_PG_JSON,
                "{\"b\":1,\"a\":[1,2]}");
    check_value("{\"a\": [1, 2]}", CDC_PG_JSON, "{\"a\": [1, 2]}");
    check_value("1", CDC_PG_BOOL, "t");
    check_value("0", CDC_PG_BOOL, "f");
    check_value("\"h\\u00e9llo \\u2713 \\ud83d\\ude00\\n\"", CDC_PG_TEXT,
                "h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9f\x98\x80\n");
    check_value("\"x,z\"", CDC_PG_TEXT, "x,z");
    check_value("true", CDC_PG_TEXT, "true");
}


static void
test_bad_values(void **state)
{
    char             err[256];
    size_t           len;
    cdc_jv_t        *v;
    const char      *out;
    cdc_jv_arena_t   a;

    memset(&a, 0, sizeof(a));

    v = cdc_jv_parse(&a, "\"not base64!\"", 13, err, sizeof(err));
    assert_non_null(v);
    assert_int_equal(cdc_typemap_value(v, CDC_PG_BYTEA, &a, &out, &len,
                                       err, sizeof(err)), -1);
    assert_non_null(strstr(err, "base64"));

    v = cdc_jv_parse(&a, "{\"srid\":0}", 10, err, sizeof(err));
    assert_non_null(v);
    assert_int_equal(cdc_typemap_value(v, CDC_PG_BYTEA, &a, &out, &len,
                                       err, sizeof(err)), -1);
    assert_non_null(strstr(err, "wkb"));

    v = cdc_jv_parse(&a, "{\"json_diff\":[]}", 16, err, sizeof(err));
    assert_non_null(v);
    assert_int_equal(cdc_typemap_value(v, CDC_PG_JSON, &a, &out, &len,
                                       err, sizeof(err)), -1);
    assert_non_null(strstr(err, "binlog_row_image=FULL"));

    cdc_jv_arena_free(&a);
}


static void
test_json_reader(void **state)
{
    char             err[256];
    const char      *doc;
    cdc_jv_t        *v, *after;
    cdc_jv_arena_t   a;

    memset(&a, 0, sizeof(a));
    doc = "{\"before\":null,\"after\":{\"id\":18446744073709551615,"
          "\"x\":-1.5e-3,\"s\":\"a\\\"b\"},\"source\":{\"ts_ms\":"
          "1700000000123,\"db\":\"shop\"},\"op\":\"c\"}";

    v = cdc_jv_parse(&a, doc, strlen(doc), err, sizeof(err));
    assert_non_null(v);
    assert_int_equal(v->type, CDC_JV_OBJECT);
    assert_int_equal(cdc_jv_get(v, "before")->type, CDC_JV_NULL);

    after = cdc_jv_get(v, "after");
    assert_non_null(after);
    assert_string_equal(cdc_jv_get(after, "id")->str,
                        "18446744073709551615");
    assert_string_equal(cdc_jv_get(after, "x")->str, "-1.5e-3");
    assert_string_equal(cdc_jv_get_str(after, "s"), "a\"b");
    assert_int_equal(cdc_jv_get_int(cdc_jv_get(v, "source"), "ts_ms", 0),
                     1700000000123LL);
    assert_string_equal(cdc_jv_get_str(v, "op"), "c");
    assert_null(cdc_jv_get(v, "nope"));

    assert_null(cdc_jv_parse(&a, "{\"a\":}", 6, err, sizeof(err)));
    assert_non_null(strstr(err, "offset 5"));
    assert_null(cdc_jv_parse(&a, "[1,2", 4, err, sizeof(err)));
    assert_null(cdc_jv_parse(&a, "{\"a\":1} x", 9, err, sizeof(err)));
    assert_non_null(strstr(err, "trailing"));
    assert_null(cdc_jv_parse(&a, "\"\\ud800\"", 8, err, sizeof(err)));
    assert_null(cdc_jv_parse(&a, "01x", 3, err, sizeof(err)));
    assert_null(cdc_jv_parse(&a, "\"a\nb\"", 5, err, sizeof(err)));

    cdc_jv_arena_free(&a);
}


static void
test_zero_dates(void **state)
{
    assert_true(cdc_typemap_zero_date("0000-00-00", 10));
    assert_true(cdc_typemap_zero_date("0000-01-01", 10));
    assert_true(cdc_typemap_zero_date("2020-00-00 10:00:00", 19));
    assert_false(cdc_typemap_zero_date("2020-01-01", 10));
    assert_false(cdc_typemap_zero_date("1000-01-01", 10));
    assert_false(cdc_typemap_zero_date("0001-01-01", 10));
    assert_false(cdc_typemap_zero_date("20", 2));
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_type_map),
        cmocka_unit_test(test_kind),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_json_reader),
        cmocka_unit_test(test_zero_dates),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
