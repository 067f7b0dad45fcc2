/*
 * Column value decoding and text forms, from hand-built bytes: integers,
 * DECIMAL (vectors from MySQL's decimal.c comments), temporal types with
 * fractions and negatives, MySQL binary JSON edge cases, JSON diffs, and
 * truncated input.  Each value goes through cdc_event_put_binlog_value,
 * so these also pin the JSON forms of docs/events.md.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "binlog/binlog.h"
#include "event.h"


/* decodes bytes for a column and returns its JSON form (static buffer) */
static const char *
json_of(const cdc_binlog_column_t *c, const uint8_t *p, size_t len)
{
    static cdc_buf_t     out;
    cdc_buf_t            scratch = { NULL, 0, 0 };
    cdc_binlog_value_t   v;
    size_t               used;
    char                 err[256];

    if (cdc_binlog_value_decode(&v, c, p, p + len, &used, err, sizeof(err))
        != 0)
    {
        fail_msg("decode: %s", err);
    }
    assert_int_equal(used, len);

    out.len = 0;
    if (cdc_event_put_binlog_value(&out, c, &v, NULL, &scratch, err,
                                   sizeof(err)) != 0)
    {
        fail_msg("json: %s", err);
    }
    cdc_buf_free(&scratch);
    return out.data;
}


static cdc_binlog_column_t
col(unsigned type, unsigned meta, unsigned meta2, int is_unsigned)
{
    cdc_binlog_column_t  c;

    memset(&c, 0, sizeof(c));
    c.type = (uint8_t) type;
    c.binlog_type = (uint8_t) type;
    c.meta = (uint16_t) meta;
    c.meta2 = (uint16_t) meta2;
    c.is_unsigned = is_unsigned ? 1 : 0;
    c.visible = 1;
    return c;
}


static void
test_integers(void **state)
{
    cdc_binlog_column_t  c;
    static const uint8_t  m1[] = { 0xff };
    static const uint8_t  s16[] = { 0x00, 0x80 };
    static const uint8_t  i24[] = { 0x00, 0x00, 0x80 };
    static const uint8_t  i24p[] = { 0xff, 0xff, 0x7f };
    static const uint8_t  u32[] = { 0xd3, 0xf9, 0x88, 0xc0 };
    static const uint8_t  u64[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                    0xff, 0xff };
    static const uint8_t  i64[] = { 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                    0x00, 0x80 };

    c = col(CDC_MT_TINY, 0, 0, 0);
    assert_string_equal(json_of(&c, m1, 1), "-1");
    c = col(CDC_MT_TINY, 0, 0, 1);
    assert_string_equal(json_of(&c, m1, 1), "255");
    c = col(CDC_MT_SHORT, 0, 0, 0);
    assert_string_equal(json_of(&c, s16, 2), "-32768");
    c = col(CDC_MT_SHORT, 0, 0, 1);
    assert_string_equal(json_of(&c, s16, 2), "32768");
    c = col(CDC_MT_INT24, 0, 0, 0);
    assert_string_equal(json_of(&c, i24, 3), "-8388608");
    assert_string_equal(json_of(&c, i24p, 3), "8388607");
    c = col(CDC_MT_INT24, 0, 0, 1);
    assert_string_equal(json_of(&c, i24, 3), "8388608");
    c = col(CDC_MT_LONG, 0, 0, 1);
    assert_string_equal(json_of(&c, u32, 4), "3230202323");
    c = col(CDC_MT_LONG, 0, 0, 0);
    assert_string_equal(json_of(&c, u32, 4), "-1064764973");
    c = col(CDC_MT_LONGLONG, 0, 0, 1);
    assert_string_equal(json_of(&c, u64, 8), "18446744073709551615");
    c = col(CDC_MT_LONGLONG, 0, 0, 0);
    assert_string_equal(json_of(&c, u64, 8), "-1");
    assert_string_equal(json_of(&c, i64, 8), "-9223372036854775808");
}


static void
test_floats(void **state)
{
    cdc_binlog_column_t  c;
    uint8_t              b[8];
    float                f;
    double               d;

    c = col(CDC_MT_FLOAT, 4, 0, 0);
    f = 1.1f;
    memcpy(b, &f, 4);
    assert_string_equal(json_of(&c, b, 4), "1.1");
    f = 4.0f;
    memcpy(b, &f, 4);
    assert_string_equal(json_of(&c, b, 4), "4");
    f = -3.4028235e38f;
    memcpy(b, &f, 4);
    assert_string_equal(json_of(&c, b, 4), "-3.4028235e+38");

    c = col(CDC_MT_DOUBLE, 8, 0, 0);
    d = 0.1;
    memcpy(b, &d, 8);
    assert_string_equal(json_of(&c, b, 8), "0.1");
    d = 1.0 / 3.0;
    memcpy(b, &d, 8);
    assert_string_equal(json_of(&c, b, 8), "0.3333333333333333");
    d = 5e-324;
    memcpy(b, &d, 8);
    assert_string_equal(json_of(&c, b, 8), "4.94065645841247e-324");
}


static void
test_decimal_vectors(void **state)
{
    /* from the decimal2bin() comment in MySQL's strings/decimal.c */
    static const uint8_t  pos[] = { 0x81, 0x0d, 0xfb, 0x38, 0xd2, 0x04,
                                    0xd2 };
    static const uint8_t  neg[] = { 0x7e, 0xf2, 0x04, 0xc7, 0x2d, 0xfb,
                                    0x2d };
    char                  buf[100], err[200];
    cdc_binlog_column_t   c;
    uint8_t               zero[3];

    assert_int_equal(cdc_binlog_decimal_size(14, 4), 7);
    assert_int_equal(cdc_binlog_decimal_to_str(pos, sizeof(pos), 14, 4, buf,
                                               sizeof(buf), err,
                                               sizeof(err)), 15);
    assert_string_equal(buf, "1234567890.1234");
    assert_true(cdc_binlog_decimal_to_str(neg, sizeof(neg), 14, 4, buf,
                                          sizeof(buf), err, sizeof(err)) > 0);
    assert_string_equal(buf, "-1234567890.1234");

    c = col(CDC_MT_NEWDECIMAL, 14, 4, 0);
    assert_string_equal(json_of(&c, pos, 7), "\"1234567890.1234\"");

    /* DECIMAL(5,2) zero: 0x80 0x00 0x00 → "0.00" */
    assert_int_equal(cdc_binlog_decimal_size(5, 2), 3);
    zero[0] = 0x80;
    zero[1] = 0;
    zero[2] = 0;
    c = col(CDC_MT_NEWDECIMAL, 5, 2, 0);
    assert_string_equal(json_of(&c, zero, 3), "\"0.00\"");

    /* DECIMAL(65,30) sizes and bounds */
    assert_int_equal(cdc_binlog_decimal_size(65, 30), 30);
    assert_int_equal(cdc_binlog_decimal_to_str(pos, 3, 14, 4, buf,
                                               sizeof(buf), err,
                                               sizeof(err)), -1);
    assert_non_null(strstr(err, "DECIMAL(14,4)"));
    assert_int_equal(cdc_binlog_decimal_to_str(pos, 7, 66, 4, buf,
                                               sizeof(buf), err,
                                               sizeof(err)), -1);
}


static void
test_decimal_65_30(void **state)
{
    /* 35 nines . 30 nines: every group 999999999, leading 99999999 */
    uint8_t   b[30];
    char      buf[100], err[200], want[100];
    size_t    k;
    unsigned  i;

    k = 0;
    /* intg 35 = 3*9 + 8: leading 8 digits in 4 bytes */
    b[k++] = 0x05 | 0x80;       /* 99999999 = 0x05F5E0FF */
    b[k++] = 0xf5;
    b[k++] = 0xe0;
    b[k++] = 0xff;
    for (i = 0; i < 3 + 3; i++) {
        b[k++] = 0x3b;          /* 999999999 = 0x3B9AC9FF */
        b[k++] = 0x9a;
        b[k++] = 0xc9;
        b[k++] = 0xff;
    }
    /* frac 30 = 3*9 + 3: 3 digits in 2 bytes, 999 = 0x03E7 */
    b[k++] = 0x03;
    b[k++] = 0xe7;
    assert_int_equal(k, 30);

    memset(want, '9', 35);
    want[35] = '.';
    memset(want + 36, '9', 30);
    want[66] = '\0';

    assert_int_equal(cdc_binlog_decimal_to_str(b, k, 65, 30, buf,
                                               sizeof(buf), err,
                                               sizeof(err)), 66);
    assert_string_equal(buf, want);

    /* a digit group over 999999999 is corrupt, not garbage */
    b[4] = 0x7f;
    assert_int_equal(cdc_binlog_decimal_to_str(b, k, 65, 30, buf,
                                               sizeof(buf), err,
                                               sizeof(err)), -1);
}


static void
put_be(uint8_t *p, uint64_t v, unsigned n)
{
    while (n--) {
        p[n] = (uint8_t) (v & 0xff);
        v >>= 8;
    }
}


static void
test_temporal(void **state)
{
    cdc_binlog_column_t  c;
    uint8_t              b[8];
    uint64_t             ymd, hms, ip;
    int64_t              packed;

    /* DATE 1990-08-01 = 1990*512 + 8*32 + 1 */
    c = col(CDC_MT_DATE, 0, 0, 0);
    b[0] = (1990 * 512 + 8 * 32 + 1) & 0xff;
    b[1] = ((1990 * 512 + 8 * 32 + 1) >> 8) & 0xff;
    b[2] = ((1990 * 512 + 8 * 32 + 1) >> 16) & 0xff;
    assert_string_equal(json_of(&c, b, 3), "\"1990-08-01\"");
    memset(b, 0, 3);
    assert_string_equal(json_of(&c, b, 3), "\"0000-00-00\"");

    /* DATETIME2(3) 2024-01-02 03:04:05.120 */
    c = col(CDC_MT_DATETIME2, 3, 0, 0);
    ymd = ((2024ULL * 13 + 1) << 5) | 2;
    hms = (3 << 12) | (4 << 6) | 5;
    ip = (ymd << 17) | hms;
    put_be(b, ip + 0x8000000000ULL, 5);
    put_be(b + 5, 1200, 2);
    assert_string_equal(json_of(&c, b, 7),
                        "\"2024-01-02 03:04:05.120\"");

    /* DATETIME2(6), DATETIME2(1), the zero datetime */
    c = col(CDC_MT_DATETIME2, 6, 0, 0);
    put_be(b, ip + 0x8000000000ULL, 5);
    put_be(b + 5, 123456, 3);
    assert_string_equal(json_of(&c, b, 8),
                        "\"2024-01-02 03:04:05.123456\"");
    c = col(CDC_MT_DATETIME2, 1, 0, 0);
    put_be(b + 5, 90, 1);            /* fsp 1-2: hundredths */
    assert_string_equal(json_of(&c, b, 6), "\"2024-01-02 03:04:05.9\"");
    c = col(CDC_MT_DATETIME2, 0, 0, 0);
    put_be(b, 0x8000000000ULL, 5);
    assert_string_equal(json_of(&c, b, 5), "\"0000-00-00 00:00:00\"");

    /* TIMESTAMP2(6) 1234567890.123456 → UTC */
    c = col(CDC_MT_TIMESTAMP2, 6, 0, 0);
    put_be(b, 1234567890, 4);
    put_be(b + 4, 123456, 3);
    assert_string_equal(json_of(&c, b, 7),
                        "\"2009-02-13T23:31:30.123456Z\"");
    c = col(CDC_MT_TIMESTAMP2, 2, 0, 0);
    put_be(b + 4, 5, 1);
    assert_string_equal(json_of(&c, b, 5), "\"2009-02-13T23:31:30.05Z\"");

    /* zero TIMESTAMP */
    c = col(CDC_MT_TIMESTAMP2, 0, 0, 0);
    memset(b, 0, 4);
    assert_string_equal(json_of(&c, b, 4), "\"0000-00-00T00:00:00Z\"");
    c = col(CDC_MT_TIMESTAMP, 0, 0, 0);
    assert_string_equal(json_of(&c, b, 4), "\"0000-00-00T00:00:00Z\"");

    /* TIME2(0) -507:48:27 */
    c = col(CDC_MT_TIME2, 0, 0, 0);
    packed = -(int64_t) ((507 << 12) | (48 << 6) | 27);
    put_be(b, (uint64_t) (packed + 0x800000), 3);
    assert_string_equal(json_of(&c, b, 3), "\"-507:48:27\"");

    /* TIME2(1) -00:00:01.5 as MySQL stores it: int part -2, frac 0xce */
    c = col(CDC_MT_TIME2, 1, 0, 0);
    put_be(b, 0x800000 - 2, 3);
    b[3] = 0xce;
    assert_string_equal(json_of(&c, b, 4), "\"-00:00:01.5\"");

    /* TIME2(4) -838:59:58.9999: int -(hms)-1, frac 0x10000 - 9999 */
    c = col(CDC_MT_TIME2, 4, 0, 0);
    put_be(b, 0x800000 - ((838 << 12) | (59 << 6) | 58) - 1, 3);
    put_be(b + 3, 0x10000 - 9999, 2);
    assert_string_equal(json_of(&c, b, 5), "\"-838:59:58.9999\"");

    /* TIME2(6) 12:00:00.500000 */
    c = col(CDC_MT_TIME2, 6, 0, 0);
    put_be(b, (((uint64_t) 12 << 12) << 24) + 500000 + 0x800000000000ULL,
           6);
    assert_string_equal(json_of(&c, b, 6), "\"12:00:00.500000\"");

    /* old TIME -12:34:56 = -123456, old DATETIME */
    c = col(CDC_MT_TIME, 0, 0, 0);
    packed = -123456 + 0x1000000;
    b[0] = packed & 0xff;
    b[1] = (packed >> 8) & 0xff;
    b[2] = (packed >> 16) & 0xff;
    assert_string_equal(json_of(&c, b, 3), "\"-12:34:56\"");

    c = col(CDC_MT_DATETIME, 0, 0, 0);
    ip = 20050525113037ULL;
    memcpy(b, &ip, 8);
    assert_string_equal(json_of(&c, b, 8), "\"2005-05-25 11:30:37\"");

    /* YEAR */
    c = col(CDC_MT_YEAR, 0, 0, 0);
    b[0] = 0;
    assert_string_equal(json_of(&c, b, 1), "0");
    b[0] = 255;
    assert_string_equal(json_of(&c, b, 1), "2155");
}


static void
test_strings_and_bits(void **state)
{
    cdc_binlog_column_t  c;
    static const char   *labels[] = { "one", "two", "th\"ree", "four" };
    static const uint8_t  latin[] = { 3, 0xe9, 0x80, '"' };
    static const uint8_t  bin[] = { 2, 'a', 'b' };
    static const uint8_t  utf8[] = { 4, 0xe4, 0xb8, 0xad, '\n' };
    static const uint8_t  bad[] = { 2, 0xff, 'x' };
    static const uint8_t  bits[] = { 0x02, 0xff };
    static const uint8_t  geo[] = {
        25, 25, 0, 0, 0, 0x01, 0x01, 0x00, 0x00, 0x00, 0, 0, 0, 0, 0, 0,
        0xf0, 0x3f, 0, 0, 0, 0, 0, 0, 0, 0x40
    };
    uint8_t              e[2];

    /* latin1 (cp1252) → UTF-8, escaping kept */
    c = col(CDC_MT_VARCHAR, 20, 0, 0);
    c.charset = 8;
    assert_string_equal(json_of(&c, latin, 4), "\"é€\\\"\"");

    /* utf8mb4 passes through, invalid bytes become U+FFFD */
    c.charset = 255;
    assert_string_equal(json_of(&c, utf8, 5), "\"中\\n\"");
    assert_string_equal(json_of(&c, bad, 3), "\"\xef\xbf\xbdx\"");

    /* BINARY(4) is padded back with zero bytes; VARBINARY is not */
    c = col(CDC_MT_STRING, 4, 0, 0);
    c.charset = 63;
    assert_string_equal(json_of(&c, bin, 3), "\"YWIAAA==\"");
    c = col(CDC_MT_VARCHAR, 4, 0, 0);
    c.charset = 63;
    assert_string_equal(json_of(&c, bin, 3), "\"YWI=\"");

    /* BIT(10) */
    c = col(CDC_MT_BIT, 10, 0, 0);
    assert_string_equal(json_of(&c, bits, 2), "\"1011111111\"");
    c = col(CDC_MT_BIT, 1, 0, 0);
    e[0] = 1;
    assert_string_equal(json_of(&c, e, 1), "\"1\"");

    /* ENUM and SET, with and without labels */
    c = col(CDC_MT_ENUM, 1, 0, 0);
    e[0] = 2;
    assert_string_equal(json_of(&c, e, 1), "2");
    c.labels = labels;
    c.nlabels = 4;
    assert_string_equal(json_of(&c, e, 1), "\"two\"");
    e[0] = 0;
    assert_string_equal(json_of(&c, e, 1), "\"\"");
    e[0] = 9;
    assert_string_equal(json_of(&c, e, 1), "9");

    c = col(CDC_MT_SET, 1, 0, 0);
    e[0] = 0x0d;
    assert_string_equal(json_of(&c, e, 1), "13");
    c.labels = labels;
    c.nlabels = 4;
    assert_string_equal(json_of(&c, e, 1), "\"one,th\\\"ree,four\"");
    e[0] = 0;
    assert_string_equal(json_of(&c, e, 1), "\"\"");

    /* GEOMETRY: SRID 25, then the WKB of POINT(1 2) */
    c = col(CDC_MT_GEOMETRY, 1, 0, 0);
    assert_string_equal(json_of(&c, geo, 1 + 25),
                        "{\"srid\":25,\"wkb\":"
                        "\"AQEAAAAAAAAAAADwPwAAAAAAAABA\"}");

    /* a BLOB without charset metadata: UTF-8 text or base64 */
    c = col(CDC_MT_BLOB, 1, 0, 0);
    assert_string_equal(json_of(&c, bin, 3), "\"ab\"");
    assert_string_equal(json_of(&c, bad, 3), "\"/3g=\"");
}


/* ------------------------------------------------------------------ */
/* MySQL binary JSON                                                    */

static const char *
jb(const uint8_t *p, size_t len)
{
    static cdc_buf_t  out;
    char              err[200];

    out.len = 0;
    if (cdc_binlog_json_to_text(p, len, &out, err, sizeof(err)) != 0) {
        fail_msg("%s", err);
    }
    return out.data;
}


static int
jb_fails(const uint8_t *p, size_t len)
{
    cdc_buf_t  out = { NULL, 0, 0 };
    char       err[200];
    int        rc;

    rc = cdc_binlog_json_to_text(p, len, &out, err, sizeof(err));
    cdc_buf_free(&out);
    return rc != 0;
}


/* n arrays, each holding the next, the innermost holding null */
static const char *
nested(unsigned n, int expect_ok)
{
    uint8_t    *d, *p;
    size_t      total, i;
    cdc_buf_t   out = { NULL, 0, 0 };
    char        err[200];
    int         rc;

    total = 1 + 7 * (size_t) n;
    d = malloc(total);
    assert_non_null(d);
    d[0] = 0x02;
    for (i = 0; i < n; i++) {
        p = d + 1 + 7 * i;
        p[0] = 1;
        p[1] = 0;
        p[2] = (uint8_t) ((total - 1 - 7 * i) & 0xff);
        p[3] = (uint8_t) ((total - 1 - 7 * i) >> 8);
        p[4] = i + 1 < n ? 0x02 : 0x04;
        p[5] = i + 1 < n ? 7 : 0;
        p[6] = 0;
    }

    rc = cdc_binlog_json_to_text(d, total, &out, err, sizeof(err));
    if (rc == 0) {
        assert_int_equal(out.len, 2 * n + 4);
        assert_memory_equal(out.data + n, "null", 4);
    }
    cdc_buf_free(&out);
    free(d);
    (void) expect_ok;
    return rc == 0 ? "ok" : "refused";
}


static void
test_json_binary(void **state)
{
    static const uint8_t  t[] = { 0x04, 0x01 };
    static const uint8_t  n[] = { 0x04, 0x00 };
    static const uint8_t  i64[] = { 0x09, 0, 0, 0, 0, 0, 0, 0, 0x80 };
    static const uint8_t  u64[] = { 0x0a, 0xff, 0xff, 0xff, 0xff, 0xff,
                                    0xff, 0xff, 0xff };
    static const uint8_t  str[] = { 0x0c, 4, 'a', '"', '\n', 'b' };
    static const uint8_t  obj[] = { 0x00, 1, 0, 12, 0, 11, 0, 1, 0,
                                    0x05, 1, 0, 'a' };
    static const uint8_t  arr[] = { 0x02, 2, 0, 12, 0, 0x05, 0xff, 0xff,
                                    0x0c, 10, 0, 1, 'x' };
    static const uint8_t  large[] = { 0x03, 1, 0, 0, 0, 13, 0, 0, 0,
                                      0x07, 0xfe, 0xff, 0xff, 0xff };
    static const uint8_t  badoff[] = { 0x02, 1, 0, 8, 0, 0x0c, 0x40, 0 };
    static const uint8_t  badcount[] = { 0x02, 0xff, 0x7f, 8, 0, 0x05, 1,
                                         0 };
    static const uint8_t  opaque_dec[] = { 0x0f, 246, 5, 5, 2, 0x80, 0x0c,
                                           0x22 };
    static const uint8_t  opaque_blob[] = { 0x0f, 252, 2, 0xff, 0x00 };
    uint8_t               dd[9];
    double                v;

    assert_string_equal(jb(t, sizeof(t)), "true");
    assert_string_equal(jb(n, sizeof(n)), "null");
    assert_string_equal(jb(t, 0), "null");
    assert_string_equal(jb(i64, sizeof(i64)), "-9223372036854775808");
    assert_string_equal(jb(u64, sizeof(u64)), "18446744073709551615");
    assert_string_equal(jb(str, sizeof(str)), "\"a\\\"\\nb\"");
    assert_string_equal(jb(obj, sizeof(obj)), "{\"a\":1}");
    assert_string_equal(jb(arr, sizeof(arr)), "[-1,\"x\"]");
    assert_string_equal(jb(large, sizeof(large)), "[-2]");

    dd[0] = 0x0b;
    v = 0.1;
    memcpy(dd + 1, &v, 8);
    assert_string_equal(jb(dd, 9), "0.1");

    /* opaque DECIMAL(5,2) 12.34 is a number; other opaque: base64 */
    assert_string_equal(jb(opaque_dec, sizeof(opaque_dec)), "12.34");
    assert_string_equal(jb(opaque_blob, sizeof(opaque_blob)),
                        "\"base64:type252:/wA=\"");

    /* malformed: offsets out of range, counts too large, truncation */
    assert_true(jb_fails(badoff, sizeof(badoff)));
    assert_true(jb_fails(badcount, sizeof(badcount)));
    assert_true(jb_fails(obj, 5));
    assert_true(jb_fails(i64, 4));
    assert_true(jb_fails(str, 3));

    /* shared offsets: 40 levels of [x, x] would print 2^40 elements */
    {
        uint8_t   *d, *q;
        unsigned   lv;
        size_t     total;

        total = 1 + 10 * 40 + 4;
        d = malloc(total);
        assert_non_null(d);
        d[0] = 0x02;
        for (lv = 0; lv < 40; lv++) {
            q = d + 1 + 10 * lv;
            q[0] = 2;
            q[1] = 0;
            q[2] = (uint8_t) ((total - 1 - 10 * lv) & 0xff);
            q[3] = (uint8_t) ((total - 1 - 10 * lv) >> 8);
            q[4] = 0x02;
            q[5] = 10;
            q[6] = 0;
            q[7] = 0x02;
            q[8] = 10;
            q[9] = 0;
        }
        q = d + 1 + 400;
        q[0] = 0;
        q[1] = 0;
        q[2] = 4;
        q[3] = 0;
        assert_true(jb_fails(d, total));
        free(d);
    }

    /* nesting: 50 levels decode, 300 are refused */
    assert_string_equal(nested(50, 1), "ok");
    assert_string_equal(nested(300, 0), "refused");
}


static void
test_json_diff(void **state)
{
    /* REPLACE $.age 26; INSERT $.tags[5] "x"; REMOVE $.data */
    static const uint8_t  diff[] = {
        0, 5, '$', '.', 'a', 'g', 'e', 3, 0x05, 26, 0,
        1, 9, '$', '.', 't', 'a', 'g', 's', '[', '5', ']', 3, 0x0c, 1, 'x',
        2, 6, '$', '.', 'd', 'a', 't', 'a'
    };
    static const char    *doc =
        "{\"age\":25,\"data\":\"xx\",\"name\":\"Joe\",\"tags\":[1]}";
    cdc_buf_t             out = { NULL, 0, 0 };
    char                  err[200];

    assert_int_equal(cdc_binlog_json_diff_apply(doc, strlen(doc), diff,
                                                sizeof(diff), &out, err,
                                                sizeof(err)), 0);
    assert_string_equal(out.data,
                        "{\"age\":26,\"name\":\"Joe\",\"tags\":[1,\"x\"]}");

    out.len = 0;
    assert_int_equal(cdc_binlog_json_diff_to_text(diff, sizeof(diff), &out,
                                                  err, sizeof(err)), 0);
    assert_string_equal(out.data,
                        "[{\"op\":\"replace\",\"path\":\"$.age\","
                        "\"value\":26},"
                        "{\"op\":\"insert\",\"path\":\"$.tags[5]\","
                        "\"value\":\"x\"},"
                        "{\"op\":\"remove\",\"path\":\"$.data\"}]");

    /* replacing a key that is not there is an error, not a silent add */
    out.len = 0;
    assert_int_equal(cdc_binlog_json_diff_apply("{}", 2, diff, 11, &out, err,
                                                sizeof(err)), -1);
    assert_non_null(strstr(err, "$.age"));

    /* through the value writer: a diff on top of the before image's
       binary document gives the whole new document as a JSON string */
    {
        static const uint8_t  bdoc[] = { 0x00, 1, 0, 12, 0, 11, 0, 1, 0,
                                         0x05, 1, 0, 'a' };
        static const uint8_t  d2[] = { 0, 3, '$', '.', 'a', 3, 0x05, 9, 0 };
        cdc_binlog_column_t   c;
        cdc_binlog_value_t    before, after;
        cdc_buf_t             scratch = { NULL, 0, 0 };

        memset(&c, 0, sizeof(c));
        c.type = CDC_MT_JSON;
        c.meta = 4;
        before.kind = CDC_V_JSON;
        before.v.s.p = bdoc;
        before.v.s.len = sizeof(bdoc);
        after.kind = CDC_V_JSON_DIFF;
        after.v.s.p = d2;
        after.v.s.len = sizeof(d2);

        out.len = 0;
        assert_int_equal(cdc_event_put_binlog_value(&out, &c, &after,
                                                    &before, &scratch, err,
                                                    sizeof(err)), 0);
        assert_string_equal(out.data, "\"{\\\"a\\\":9}\"");

        /* without the before document: the diff object */
        out.len = 0;
        assert_int_equal(cdc_event_put_binlog_value(&out, &c, &after, NULL,
                                                    &scratch, err,
                                                    sizeof(err)), 0);
        assert_string_equal(out.data, "{\"json_diff\":[{\"op\":\"replace\","
                                      "\"path\":\"$.a\",\"value\":9}]}");
        cdc_buf_free(&scratch);
    }

    /* truncated diff */
    out.len = 0;
    assert_int_equal(cdc_binlog_json_diff_to_text(diff, 9, &out, err,
                                                  sizeof(err)), -1);
    cdc_buf_free(&out);
}


static void
test_truncated_values(void **state)
{
    cdc_binlog_column_t  c;
    cdc_binlog_value_t   v;
    size_t               used;
    char                 err[200];
    static const uint8_t  b[] = { 0xff, 0xff, 0xff, 0xff, 0x10 };

    c = col(CDC_MT_LONGLONG, 0, 0, 0);
    assert_int_equal(cdc_binlog_value_decode(&v, &c, b, b + 4, &used, err,
                                             sizeof(err)), -1);
    assert_non_null(strstr(err, "needs 8 bytes"));

    /* BLOB length 0xffffffff with 1 byte left */
    c = col(CDC_MT_BLOB, 4, 0, 0);
    assert_int_equal(cdc_binlog_value_decode(&v, &c, b, b + 5, &used, err,
                                             sizeof(err)), -1);

    /* VARCHAR(300): 2-byte length 0xffff */
    c = col(CDC_MT_VARCHAR, 300, 0, 0);
    assert_int_equal(cdc_binlog_value_decode(&v, &c, b, b + 5, &used, err,
                                             sizeof(err)), -1);

    /* bad metadata */
    c = col(CDC_MT_TIME2, 7, 0, 0);
    assert_int_equal(cdc_binlog_value_decode(&v, &c, b, b + 5, &used, err,
                                             sizeof(err)), -1);
    c = col(CDC_MT_NEWDECIMAL, 70, 2, 0);
    assert_int_equal(cdc_binlog_value_decode(&v, &c, b, b + 5, &used, err,
                                             sizeof(err)), -1);
    c = col(CDC_MT_ENUM, 3, 0, 0);
    assert_int_equal(cdc_binlog_value_decode(&v, &c, b, b + 5, &used, err,
                                             sizeof(err)), -1);
    c = col(200, 0, 0, 0);
    assert_int_equal(cdc_binlog_value_decode(&v, &c, b, b + 5, &used, err,
                                             sizeof(err)), -1);
    assert_non_null(strstr(err, "200"));
}


static void
test_event_framing(void **state)
{
    uint8_t              ev[64];
    cdc_binlog_event_t   e;
    cdc_binlog_format_t  fmt;
    char                 err[200];
    uint32_t             crc;

    /* an XID event with a CRC32 */
    memset(ev, 0, sizeof(ev));
    ev[4] = CDC_BL_XID;
    ev[9] = 19 + 8 + 4;
    ev[13] = 100;
    ev[19] = 47;
    crc = cdc_binlog_crc32(0, ev, 27);
    ev[27] = crc & 0xff;
    ev[28] = (crc >> 8) & 0xff;
    ev[29] = (crc >> 16) & 0xff;
    ev[30] = (crc >> 24) & 0xff;

    cdc_binlog_format_init(&fmt);
    fmt.have_fde = 1;
    fmt.checksum = 1;
    assert_int_equal(cdc_binlog_event_parse(&e, &fmt, ev, 31, 0, err,
                                            sizeof(err)), 0);
    assert_int_equal(e.u.xid.xid, 47);
    assert_int_equal(e.body_len, 8);
    assert_int_equal(e.h.log_pos, 100);

    ev[20] ^= 1;
    assert_int_equal(cdc_binlog_event_parse(&e, &fmt, ev, 31, 0, err,
                                            sizeof(err)), -1);
    assert_non_null(strstr(err, "CRC32 mismatch"));

    /* shorter than its header says, shorter than a header */
    assert_int_equal(cdc_binlog_event_parse(&e, &fmt, ev, 30, 0, err,
                                            sizeof(err)), -1);
    assert_non_null(strstr(err, "truncated"));
    assert_int_equal(cdc_binlog_event_parse(&e, &fmt, ev, 10, 0, err,
                                            sizeof(err)), -1);

    /* XID body too short */
    ev[9] = 19 + 4;
    fmt.checksum = 0;
    assert_int_equal(cdc_binlog_event_parse(&e, &fmt, ev, 23, 0, err,
                                            sizeof(err)), -1);
    assert_non_null(strstr(err, "XID"));

    /* crc32 check value */
    assert_int_equal(cdc_binlog_crc32(0, (const uint8_t *) "123456789", 9),
                     0xcbf43926);
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_integers),
        cmocka_unit_test(test_floats),
        cmocka_unit_test(test_decimal_vectors),
        cmocka_unit_test(test_decimal_65_30),
        cmocka_unit_test(test_temporal),
        cmocka_unit_test(test_strings_and_bits),
        cmocka_unit_test(test_json_binary),
        cmocka_unit_test(test_json_diff),
        cmocka_unit_test(test_truncated_values),
        cmocka_unit_test(test_event_framing),
    };

    return cmocka_run_group_tests_name("binlog values", tests, NULL, NULL);
}
