/*
 * The envelope writer: exact envelope text, topic, keys, JSON string
 * escaping, base64, bit strings, charsets, and the snapshot's
 * text-protocol value forms (which must match the binlog forms).
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "binlog/binlog.h"
#include "event.h"


static cdc_buf_t  b;


static const char *
str(const char *s, size_t len)
{
    b.len = 0;
    assert_int_equal(cdc_json_put_str(&b, s, len), 0);
    return b.data;
}


static void
test_escaping(void **state)
{
    static const char  ctl[] = { 'a', 0, 1, 0x1f, 0x7f, 'z' };
    json_t            *j;
    json_error_t       je;
    char               all[256];
    int                i;

    assert_string_equal(str("", 0), "\"\"");
    assert_string_equal(str("plain", 5), "\"plain\"");
    assert_string_equal(str("q\"b\\s/", 6), "\"q\\\"b\\\\s/\"");
    assert_string_equal(str("\n\r\t\b\f", 5), "\"\\n\\r\\t\\b\\f\"");
    assert_string_equal(str(ctl, sizeof(ctl)),
                        "\"a\\u0000\\u0001\\u001f\x7fz\"");
    assert_string_equal(str("h\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 12),
                        "\"h\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");

    /* invalid UTF-8: lone continuation, overlong, surrogate, truncated */
    assert_string_equal(str("\x80", 1), "\"\xef\xbf\xbd\"");
    assert_string_equal(str("\xc0\xaf", 2), "\"\xef\xbf\xbd\xef\xbf\xbd\"");
    assert_string_equal(str("\xed\xa0\x80", 3),
                        "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
    assert_string_equal(str("a\xe2\x82", 3),
                        "\"a\xef\xbf\xbd\xef\xbf\xbd\"");

    /* every byte value: still valid JSON that a parser accepts */
    for (i = 0; i < 256; i++) {
        all[i] = (char) i;
    }
    str(all, sizeof(all));
    j = json_loadb(b.data, b.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    if (j == NULL) {
        fail_msg("not JSON: %s", je.text);
    }
    assert_true(json_is_string(j));
    json_decref(j);
}


static void
test_numbers_base64_bits(void **state)
{
    static const uint8_t  bits[] = { 0x05, 0xa0 };

    b.len = 0;
    assert_int_equal(cdc_buf_put_i64(&b, INT64_MIN), 0);
    assert_string_equal(b.data, "-9223372036854775808");
    b.len = 0;
    assert_int_equal(cdc_buf_put_u64(&b, UINT64_MAX), 0);
    assert_string_equal(b.data, "18446744073709551615");
    b.len = 0;
    assert_int_equal(cdc_buf_put_double(&b, 2.5e-7), 0);
    assert_string_equal(b.data, "2.5e-07");
    b.len = 0;
    assert_int_equal(cdc_buf_put_float(&b, 0.3f), 0);
    assert_string_equal(b.data, "0.3");
    b.len = 0;
    assert_int_equal(cdc_buf_put_double(&b, 1.0 / 0.0), 0);
    assert_string_equal(b.data, "null");

    b.len = 0;
    assert_int_equal(cdc_json_put_base64(&b, (const uint8_t *) "", 0), 0);
    assert_string_equal(b.data, "\"\"");
    b.len = 0;
    cdc_json_put_base64(&b, (const uint8_t *) "f", 1);
    cdc_json_put_base64(&b, (const uint8_t *) "fo", 2);
    cdc_json_put_base64(&b, (const uint8_t *) "foo", 3);
    cdc_json_put_base64(&b, (const uint8_t *) "foobar", 6);
    assert_string_equal(b.data, "\"Zg==\"\"Zm8=\"\"Zm9v\"\"Zm9vYmFy\"");

    b.len = 0;
    assert_int_equal(cdc_json_put_bits(&b, bits, 2, 12), 0);
    assert_string_equal(b.data, "\"010110100000\"");
    b.len = 0;
    assert_int_equal(cdc_json_put_bits(&b, bits + 1, 1, 8), 0);
    assert_string_equal(b.data, "\"10100000\"");
}


static void
test_charsets(void **state)
{
    /* latin1 (8): é, €(0x80), ÿ; cp1251 (51): Привет; gbk (28): 中 */
    static const char  latin1[] = "\xe9\x80\xff\n";
    static const char  cp1251[] = "\xcf\xf0\xe8\xe2\xe5\xf2";
    static const char  gbk[] = "\xd6\xd0";

    b.len = 0;
    assert_int_equal(cdc_json_put_text(&b, 8, latin1, 4), 0);
    assert_string_equal(b.data, "\"\xc3\xa9\xe2\x82\xac\xc3\xbf\\n\"");

    b.len = 0;
    assert_int_equal(cdc_json_put_text(&b, 51, cp1251, 6), 0);
    assert_string_equal(b.data, "\"Привет\"");

    b.len = 0;
    assert_int_equal(cdc_json_put_text(&b, 28, gbk, 2), 0);
    assert_string_equal(b.data, "\"中\"");

    /* utf8mb4 (45, 255) and unknown (0) pass through */
    b.len = 0;
    assert_int_equal(cdc_json_put_text(&b, 255, "\xe4\xb8\xad", 3), 0);
    assert_int_equal(cdc_json_put_text(&b, 0, "x", 1), 0);
    assert_string_equal(b.data, "\"中\"\"x\"");
}


static void
test_sql_values(void **state)
{
    static const char  bit[] = { 0x01, 0x02 };
    static const char  geo[] = {
        0, 0, 0, 0, 0x01, 0x01, 0x00, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0xf0,
        0x3f, 0, 0, 0, 0, 0, 0, 0, 0x40
    };

#define SQL(t, f, cs, l, s, want)                                            \
    do {                                                                     \
        b.len = 0;                                                           \
        assert_int_equal(cdc_event_put_sql_value(&b, t, f, cs, l, s,         \
                                                 strlen(s)), 0);             \
        assert_string_equal(b.data, want);                                   \
    } while (0)

    SQL(CDC_MT_LONG, 0, 63, 11, "-3", "-3");
    SQL(CDC_MT_LONGLONG, CDC_SQL_UNSIGNED_FLAG, 63, 20,
        "18446744073709551615", "18446744073709551615");
    SQL(CDC_MT_NEWDECIMAL, 0, 63, 10, "-10.55", "\"-10.55\"");
    SQL(CDC_MT_DOUBLE, 0, 63, 22, "0.1", "0.1");
    SQL(CDC_MT_FLOAT, 0, 63, 12, "1.1", "1.1");
    /* a FLOAT read as CAST(col AS DOUBLE) prints as the stream does */
    SQL(CDC_MT_FLOAT, 0, 63, 12, "1.2345677614212036", "1.2345678");
    SQL(CDC_MT_FLOAT, 0, 63, 12, "16777216", "16777216");
    SQL(CDC_MT_DATE, 0, 63, 10, "0000-00-00", "\"0000-00-00\"");
    SQL(CDC_MT_DATETIME, 0, 63, 23, "2024-01-02 03:04:05.120",
        "\"2024-01-02 03:04:05.120\"");
    SQL(CDC_MT_TIMESTAMP, 0, 63, 26, "2009-02-13 23:31:30.123456",
        "\"2009-02-13T23:31:30.123456Z\"");
    SQL(CDC_MT_TIMESTAMP, 0, 63, 19, "0000-00-00 00:00:00",
        "\"0000-00-00T00:00:00Z\"");
    SQL(CDC_MT_TIME, 0, 63, 10, "-507:48:27", "\"-507:48:27\"");
    SQL(CDC_MT_YEAR, CDC_SQL_UNSIGNED_FLAG, 63, 4, "2006", "2006");
    /* YEAR 0 as SELECT shows it: the stream writes 0 */
    SQL(CDC_MT_YEAR, CDC_SQL_UNSIGNED_FLAG, 63, 4, "0000", "0");
    SQL(CDC_MT_STRING, CDC_SQL_ENUM_FLAG, 45, 8, "PG", "\"PG\"");
    SQL(CDC_MT_STRING, CDC_SQL_SET_FLAG, 45, 40, "a,b", "\"a,b\"");
    SQL(CDC_MT_VAR_STRING, 0, 45, 40, "h\"i", "\"h\\\"i\"");
    SQL(CDC_MT_BLOB, CDC_SQL_BINARY_FLAG, 63, 65535, "ab", "\"YWI=\"");
    SQL(CDC_MT_JSON, 0, 63, 0, "{\"a\": 1}", "\"{\\\"a\\\": 1}\"");
    b.len = 0;
    assert_int_equal(cdc_event_put_sql_value(&b, CDC_MT_LONG, 0, 63, 11,
                                             NULL, 0), 0);
    assert_string_equal(b.data, "null");

    b.len = 0;
    assert_int_equal(cdc_event_put_sql_value(&b, CDC_MT_BIT,
                                             CDC_SQL_UNSIGNED_FLAG, 63, 10,
                                             bit, 2), 0);
    assert_string_equal(b.data, "\"0100000010\"");

    b.len = 0;
    assert_int_equal(cdc_event_put_sql_value(&b, CDC_MT_GEOMETRY, 0, 63, 0,
                                             geo, sizeof(geo)), 0);
    assert_string_equal(b.data, "{\"srid\":0,\"wkb\":"
                                "\"AQEAAAAAAAAAAADwPwAAAAAAAABA\"}");
#undef SQL
}


static void
test_native_types(void **state)
{
    static const uint8_t  uuid[] = {
        0x6c, 0xcd, 0x78, 0x0c, 0xba, 0xba, 0x10, 0x26, 0x95, 0x64, 0x5b,
        0x8c, 0x65, 0x60, 0x24, 0xdb
    };
    static const uint8_t  v6[] = {
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0xff, 0, 0, 0x42, 0x83,
        0x29
    };
    static const uint8_t  mapped[] = {
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4
    };
    static const uint8_t  loop[] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                     0, 0, 0, 1 };
    static const uint8_t  v4[] = { 10, 1, 2, 3 };

#define NATIVE(k, p, n, want)                                                \
    do {                                                                     \
        b.len = 0;                                                           \
        assert_int_equal(cdc_event_put_native(&b, k, p, n), 0);              \
        assert_string_equal(b.data, want);                                   \
    } while (0)

    NATIVE(CDC_NATIVE_UUID, uuid, 16,
           "\"6ccd780c-baba-1026-9564-5b8c656024db\"");
    /* trailing zero bytes dropped by the binlog come back */
    NATIVE(CDC_NATIVE_UUID, uuid, 4,
           "\"6ccd780c-0000-0000-0000-000000000000\"");
    NATIVE(CDC_NATIVE_INET4, v4, 4, "\"10.1.2.3\"");
    NATIVE(CDC_NATIVE_INET4, v4, 0, "\"0.0.0.0\"");
    NATIVE(CDC_NATIVE_INET6, v6, 16, "\"2001:db8::ff00:42:8329\"");
    NATIVE(CDC_NATIVE_INET6, mapped, 16, "\"::ffff:1.2.3.4\"");
    NATIVE(CDC_NATIVE_INET6, loop, 16, "\"::1\"");
    NATIVE(CDC_NATIVE_INET6, loop, 0, "\"::\"");
    /* more bytes than the type holds: not such a value, kept as bytes */
    NATIVE(CDC_NATIVE_INET4, uuid, 5, "\"bM14DLo=\"");
#undef NATIVE
}


static void
test_envelope(void **state)
{
    cdc_event_source_t   src;
    json_t              *j;
    json_error_t         je;

    b.len = 0;
    assert_int_equal(cdc_event_topic(&b, "monolith", "shop", "orders"), 0);
    assert_string_equal(b.data, "monolith.shop.orders");

    memset(&src, 0, sizeof(src));
    src.name = "monolith";
    src.ts_ms = 1700000000123ULL;
    src.db = "shop";
    src.table = "orders";
    src.server_id = 1;
    src.gtid = "0-1-42";
    src.file = "binlog.000007";
    src.pos = 1234;
    src.row = 2;
    src.snapshot = "false";

    b.len = 0;
    assert_int_equal(cdc_event_value_begin(&b), 0);
    assert_int_equal(cdc_buf_puts(&b, "{\"id\":1,\"n\":\"a\"}"), 0);
    assert_int_equal(cdc_event_value_after(&b), 0);
    assert_int_equal(cdc_buf_puts(&b, "{\"id\":1,\"n\":\"b\"}"), 0);
    assert_int_equal(cdc_event_value_end(&b, &src, 'u', 1700000000456ULL),
                     0);

    assert_string_equal(b.data,
        "{\"before\":{\"id\":1,\"n\":\"a\"},\"after\":{\"id\":1,\"n\":\"b\"},"
        "\"source\":{\"version\":\"" CDC_EVENT_VERSION "\","
        "\"connector\":\"mysql\",\"name\":\"monolith\","
        "\"ts_ms\":1700000000123,\"db\":\"shop\",\"table\":\"orders\","
        "\"server_id\":1,\"gtid\":\"0-1-42\",\"file\":\"binlog.000007\","
        "\"pos\":1234,\"row\":2,\"snapshot\":\"false\"},\"op\":\"u\","
        "\"ts_ms\":1700000000456}");

    j = json_loadb(b.data, b.len, 0, &je);
    assert_non_null(j);
    json_decref(j);

    /* a delete without GTIDs: after and gtid are null */
    src.gtid = NULL;
    src.snapshot = "last";
    b.len = 0;
    cdc_event_value_begin(&b);
    cdc_buf_puts(&b, "{\"id\":1}");
    cdc_event_value_after(&b);
    cdc_buf_puts(&b, "null");
    cdc_event_value_end(&b, &src, 'd', 5);
    assert_non_null(strstr(b.data, "\"after\":null,"));
    assert_non_null(strstr(b.data, "\"gtid\":null,"));
    assert_non_null(strstr(b.data, "\"snapshot\":\"last\"}"));
    assert_non_null(strstr(b.data, "\"op\":\"d\",\"ts_ms\":5}"));
}


static void
test_rows_and_keys(void **state)
{
    cdc_binlog_column_t  cols[3];
    cdc_binlog_table_t   t;
    cdc_binlog_value_t   v[3];
    unsigned             pk[2] = { 2, 0 };
    cdc_buf_t            scratch = { NULL, 0, 0 };
    char                 err[200], name[24];

    memset(cols, 0, sizeof(cols));
    memset(&t, 0, sizeof(t));
    cols[0].type = CDC_MT_LONG;
    cols[1].type = CDC_MT_VARCHAR;
    cols[1].meta = 10;
    cols[2].type = CDC_MT_LONG;
    cols[2].is_unsigned = 1;
    t.db = "d";
    t.table = "t";
    t.ncols = 3;
    t.cols = cols;

    memset(v, 0, sizeof(v));
    v[0].kind = CDC_V_INT;
    v[0].v.i = -1;
    v[1].kind = CDC_V_STRING;
    v[1].v.s.p = (const uint8_t *) "x\"";
    v[1].v.s.len = 2;
    v[2].kind = CDC_V_UINT;
    v[2].v.u = 7;

    /* no names: positional, no pk: key null */
    b.len = 0;
    assert_int_equal(cdc_event_put_binlog_row(&b, &t, v, NULL, &scratch,
                                              err, sizeof(err)), 0);
    assert_string_equal(b.data, "{\"col_1\":-1,\"col_2\":\"x\\\"\","
                                "\"col_3\":7}");
    b.len = 0;
    assert_int_equal(cdc_event_put_binlog_key(&b, &t, v, &scratch, err,
                                              sizeof(err)), 0);
    assert_string_equal(b.data, "null");
    assert_string_equal(cdc_event_column_name(&t, 1, name, sizeof(name)),
                        "col_2");

    /* names and a two-column key in key order; an absent column is left
       out of the row, a NULL is null */
    cols[0].name = "a";
    cols[1].name = "b";
    cols[2].name = "c";
    t.pk = pk;
    t.npk = 2;
    v[1].kind = CDC_V_NULL;
    b.len = 0;
    assert_int_equal(cdc_event_put_binlog_key(&b, &t, v, &scratch, err,
                                              sizeof(err)), 0);
    assert_string_equal(b.data, "{\"c\":7,\"a\":-1}");
    b.len = 0;
    assert_int_equal(cdc_event_put_binlog_row(&b, &t, v, NULL, &scratch,
                                              err, sizeof(err)), 0);
    assert_string_equal(b.data, "{\"a\":-1,\"b\":null,\"c\":7}");

    v[1].kind = CDC_V_ABSENT;
    b.len = 0;
    assert_int_equal(cdc_event_put_binlog_row(&b, &t, v, NULL, &scratch,
                                              err, sizeof(err)), 0);
    assert_string_equal(b.data, "{\"a\":-1,\"c\":7}");

    /* a key column absent from the image: null key */
    v[0].kind = CDC_V_ABSENT;
    b.len = 0;
    assert_int_equal(cdc_event_put_binlog_key(&b, &t, v, &scratch, err,
                                              sizeof(err)), 0);
    assert_string_equal(b.data, "null");

    cdc_buf_free(&scratch);
}


static int
teardown(void **state)
{
    cdc_buf_free(&b);
    return 0;
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_numbers_base64_bits),
        cmocka_unit_test(test_charsets),
        cmocka_unit_test(test_sql_values),
        cmocka_unit_test(test_native_types),
        cmocka_unit_test(test_envelope),
        cmocka_unit_test(test_rows_and_keys),
    };

    return cmocka_run_group_tests_name("event", tests, NULL, teardown);
}
