/*
 * Decodes every real binlog in $STRANGLER_TESTDATA/binlogs (default
 * ../shared/testdata) and checks the values its README lists.  Each file
 * goes through cdc_replay_file (the --from-file path) and each output line
 * is parsed back with jansson, so the JSON is also checked for validity.
 * Without the folder every test reports itself skipped.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "binlog/binlog.h"
#include "event.h"
#include "source/replay.h"
#include "source/stream.h"


typedef struct {
    json_t  **msgs;        /* {"topic","key","value"} per change */
    size_t    n;
    int       rc;
    char      err[512];
} out_t;


static char  testdata[1024];
static char  sakila[1024];


static const char *
path_of(const char *name, char *buf, size_t len)
{
    snprintf(buf, len, "%s/binlogs/%s", testdata, name);
    return buf;
}


static int
have_testdata(void)
{
    char  p[1100];

    return access(path_of("README.md", p, sizeof(p)), R_OK) == 0;
}


#define NEED_TESTDATA()                                                      \
    do {                                                                     \
        if (!have_testdata()) {                                              \
            print_message("testdata not found at %s: skipped\n", testdata);  \
            skip();                                                          \
        }                                                                    \
    } while (0)


static void
out_free(out_t *o)
{
    size_t  i;

    for (i = 0; i < o->n; i++) {
        json_decref(o->msgs[i]);
    }
    free(o->msgs);
    memset(o, 0, sizeof(*o));
}


static void
replay_path(const char *path, out_t *o)
{
    char              *buf;
    size_t             len;
    FILE              *f;
    char              *line, *save, *nl;
    json_error_t       je;
    cdc_replay_opts_t  opts;

    memset(o, 0, sizeof(*o));
    memset(&opts, 0, sizeof(opts));
    opts.topic_prefix = "t";
    opts.fixed_ts_ms = 42;
    opts.quiet = 1;

    buf = NULL;
    len = 0;
    f = open_memstream(&buf, &len);
    assert_non_null(f);
    o->rc = cdc_replay_file(path, &opts, f, o->err, sizeof(o->err));
    assert_int_equal(fclose(f), 0);

    save = buf;
    for (line = buf; line && *line; line = nl) {
        nl = strchr(line, '\n');
        assert_non_null(nl);
        *nl++ = '\0';
        o->msgs = realloc(o->msgs, sizeof(json_t *) * (o->n + 1));
        assert_non_null(o->msgs);
        o->msgs[o->n] = json_loads(line, 0, &je);
        if (o->msgs[o->n] == NULL) {
            fail_msg("line %zu is not JSON (%s): %.200s", o->n, je.text,
                     line);
        }
        o->n++;
    }
    free(save);
}


static void
replay(const char *name, out_t *o)
{
    char  p[1100];

    replay_path(path_of(name, p, sizeof(p)), o);
    if (o->rc != 0) {
        fail_msg("%s: %s", name, o->err);
    }
}


static json_t *
val(out_t *o, size_t i)
{
    assert_true(i < o->n);
    return json_object_get(o->msgs[i], "value");
}


static json_t *
img(out_t *o, size_t i, const char *which)
{
    return json_object_get(val(o, i), which);
}


static const char *
op(out_t *o, size_t i)
{
    return json_string_value(json_object_get(val(o, i), "op"));
}


static void
expect_str(json_t *row, const char *col, const char *want)
{
    json_t  *v;

    v = json_object_get(row, col);
    if (!json_is_string(v)) {
        fail_msg("column %s: not a string (want \"%s\")", col, want);
    }
    assert_string_equal(json_string_value(v), want);
}


static void
expect_int(json_t *row, const char *col, json_int_t want)
{
    json_t  *v;

    v = json_object_get(row, col);
    if (!json_is_integer(v)) {
        fail_msg("column %s: not an integer (want %lld)", col,
                 (long long) want);
    }
    assert_int_equal(json_integer_value(v), want);
}


static void
expect_null(json_t *row, const char *col)
{
    json_t  *v;

    v = json_object_get(row, col);
    assert_non_null(v);
    assert_true(json_is_null(v));
}


static void
expect_absent(json_t *row, const char *col)
{
    assert_null(json_object_get(row, col));
}


/* the JSON text of any value, for number checks beyond json_int_t */
static void
expect_raw(json_t *row, const char *col, const char *want)
{
    char  *s;

    s = json_dumps(json_object_get(row, col), JSON_ENCODE_ANY);
    assert_non_null(s);
    assert_string_equal(s, want);
    free(s);
}


/* ------------------------------------------------------------------ */
/* walking events directly                                              */

typedef struct {
    unsigned   counts[256];
    unsigned   total;
    uint64_t   first_offset[256];
    uint64_t   after_100;          /* offset of the event after type 100 */
    int        saw_100;
} walk_t;


static void
walk(const char *name, walk_t *w)
{
    char                 p[1100], err[256];
    cdc_binlog_file_t   *f;
    const uint8_t       *ev;
    size_t               len;
    uint64_t             off;
    cdc_binlog_format_t  fmt;
    cdc_binlog_event_t   e;
    int                  rc, prev100;

    memset(w, 0, sizeof(*w));
    cdc_binlog_format_init(&fmt);

    f = cdc_binlog_file_open(path_of(name, p, sizeof(p)), err, sizeof(err));
    if (f == NULL) {
        fail_msg("%s", err);
    }

    prev100 = 0;
    while ((rc = cdc_binlog_file_next(f, &ev, &len, &off, err, sizeof(err)))
           == 1)
    {
        if (cdc_binlog_event_parse(&e, &fmt, ev, len, 0, err, sizeof(err))
            != 0)
        {
            fail_msg("%s at %llu: %s", name, (unsigned long long) off, err);
        }
        if (w->counts[e.h.type]++ == 0) {
            w->first_offset[e.h.type] = off;
        }
        w->total++;
        if (prev100) {
            w->after_100 = off;
            prev100 = 0;
        }
        if (e.h.type == 100) {
            w->saw_100 = 1;
            prev100 = 1;
        }
    }

    if (rc != 0) {
        fail_msg("%s: %s", name, err);
    }
    cdc_binlog_file_close(f);
}


/* the first TABLE_MAP for db.table in a file (caller frees) */
static cdc_binlog_table_t *
first_table(const char *name, const char *table)
{
    char                 p[1100], err[256];
    cdc_binlog_file_t   *f;
    const uint8_t       *ev;
    size_t               len;
    uint64_t             off;
    cdc_binlog_format_t  fmt;
    cdc_binlog_event_t   e;
    cdc_binlog_table_t  *t;

    cdc_binlog_format_init(&fmt);
    f = cdc_binlog_file_open(path_of(name, p, sizeof(p)), err, sizeof(err));
    assert_non_null(f);

    while (cdc_binlog_file_next(f, &ev, &len, &off, err, sizeof(err)) == 1) {
        assert_int_equal(cdc_binlog_event_parse(&e, &fmt, ev, len, 0, err,
                                                sizeof(err)), 0);
        if (e.h.type != CDC_BL_TABLE_MAP) {
            continue;
        }
        t = cdc_binlog_table_parse(&e, &fmt, err, sizeof(err));
        if (t == NULL) {
            fail_msg("%s: %s", name, err);
        }
        if (strcmp(t->table, table) == 0) {
            cdc_binlog_file_close(f);
            return t;
        }
        cdc_binlog_table_free(t);
    }

    cdc_binlog_file_close(f);
    fail_msg("%s: no TABLE_MAP for %s", name, table);
    return NULL;
}


/* ------------------------------------------------------------------ */

static void
test_gomysql_decimals(void **state)
{
    out_t        o;
    json_t      *a;
    size_t       i;
    static const char  *rows[][11] = {
        { "-10.55", "-11", "-10.550", "-10.55", "-10.550", "-10.55",
          "-9.99999999999999", "-10.5500000000", "-10.55000",
          "-10.55000000000000000000", "-10.5500000000000000000000000" },
        { "0.01", "0", "0.012", "0.01", "0.012", "0.01", "0.01234567890123",
          "0.0123456789", "0.01235", "0.01234567890123456789",
          "0.0123456789012345678912345" },
        { "0.00", "0", "0.000", "0.00", "0.000", "0.00",
          "-0.00000001234500", "-0.0000000123", "0.00000",
          "-0.00000001234500009877", "-0.0000000123450000987650000" },
        { "99.99", "99999", "9999.999", "99999999.99", "9999999.999",
          "99999999999.99", "9.99999999999999", "9999999999.9999999999",
          "1234500009876.50000", "9999999999.99999999999999999999",
          "99999.9999999999999999999999999" },
        { "-99.99", "-1948", "-1948.140", "-1948.14", "-1948.140",
          "-1948.14", "-9.99999999999999", "-1948.1400000000",
          "-1948.14000", "-1948.14000000000000000000",
          "-1948.1400000000000000000000000" }
    };
    static const size_t  idx[] = { 0, 1, 9, 10, 16 };
    char                 col[16];
    unsigned             c;

    NEED_TESTDATA();
    replay("gomysql_tcb-eval002c-bin.003320", &o);
    assert_int_equal(o.n, 17);

    for (i = 0; i < 5; i++) {
        a = img(&o, idx[i], "after");
        for (c = 0; c < 11; c++) {
            snprintf(col, sizeof(col), "col_%u", c + 2);
            expect_str(a, col, rows[i][c]);
        }
    }

    /* no names in a 5.6 binlog: positional names, key null */
    assert_true(json_is_null(json_object_get(o.msgs[0], "key")));
    assert_string_equal(json_string_value(json_object_get(o.msgs[0],
                                                          "topic")),
                        "t.test.decodedecimal");
    out_free(&o);
}


static void
test_time_negative(void **state)
{
    out_t  o;

    NEED_TESTDATA();
    replay("rmc_time_issue.000001", &o);
    assert_int_equal(o.n, 1);
    expect_str(img(&o, 0, "after"), "col_1", "-507:48:27");
    out_free(&o);
}


static void
test_minimal_image_unsigned(void **state)
{
    out_t                o;
    json_t              *a;
    cdc_binlog_table_t  *t;

    NEED_TESTDATA();
    replay("rmc_minimal_row_metadata.000001", &o);
    assert_int_equal(o.n, 1);
    a = img(&o, 0, "after");
    expect_int(a, "col_1", 1);
    expect_absent(a, "col_2");
    expect_str(a, "col_3", "a");
    expect_absent(a, "col_4");
    expect_raw(a, "col_5", "3230202323");
    out_free(&o);

    t = first_table("rmc_minimal_row_metadata.000001", "t1");
    /* upstream's "column 2" is 0-based: the CHAR; the BLOB is binary */
    assert_int_equal(t->cols[2].charset, 255);
    assert_int_equal(t->cols[1].charset, 63);
    assert_true(t->cols[4].is_unsigned);
    assert_false(t->cols[0].is_unsigned);
    cdc_binlog_table_free(t);
}


static void
test_enum_set_strings(void **state)
{
    out_t                o;
    json_t              *a, *b;
    const char          *f1;
    cdc_binlog_table_t  *t;

    NEED_TESTDATA();
    replay("rmc_mysql-enum-string-set.000001", &o);
    assert_int_equal(o.n, 3);

    assert_string_equal(op(&o, 0), "c");
    a = img(&o, 0, "after");
    f1 = json_string_value(json_object_get(a, "f1"));
    assert_non_null(f1);
    assert_int_equal(strlen(f1), 100);
    assert_memory_equal(f1, "0123456789", 10);
    /* "a 300-character digit string": its length prefix says 298 */
    assert_int_equal(strlen(json_string_value(json_object_get(a, "f2"))),
                     298);
    expect_str(a, "f3", "var1");
    expect_str(a, "f4", "one,three");
    expect_str(a, "f5", "0123456789");

    assert_string_equal(op(&o, 1), "u");
    assert_true(json_equal(img(&o, 1, "before"), a));
    b = img(&o, 1, "after");
    expect_str(b, "f1", "field1");
    expect_str(b, "f2", "field_2");
    expect_str(b, "f3", "variant2");
    expect_str(b, "f4", "two,four");
    assert_string_equal(json_string_value(json_object_get(b, "f5")),
                        json_string_value(json_object_get(a, "f2")));

    assert_string_equal(op(&o, 2), "d");
    assert_true(json_equal(img(&o, 2, "before"), b));
    assert_true(json_is_null(img(&o, 2, "after")));

    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(val(&o, 0), "source"), "gtid")),
                        "93e95066-a2f4-11ec-9b69-9657f0ae95e2:3");
    out_free(&o);

    t = first_table("rmc_mysql-enum-string-set.000001", "t");
    assert_int_equal(t->cols[0].type, CDC_MT_STRING);
    assert_int_equal(t->cols[0].meta, 512);
    assert_int_equal(t->cols[2].type, CDC_MT_ENUM);
    assert_int_equal(t->cols[2].nlabels, 3);
    assert_string_equal(t->cols[2].labels[1], "variant2");
    assert_int_equal(t->cols[3].type, CDC_MT_SET);
    assert_int_equal(t->cols[3].nlabels, 4);
    assert_string_equal(t->cols[3].labels[3], "four");
    cdc_binlog_table_free(t);
}


static void
test_bit(void **state)
{
    out_t    o;
    json_t  *a;

    NEED_TESTDATA();
    replay("rmc_mysql_type_bit.000001", &o);
    assert_int_equal(o.n, 1);
    a = img(&o, 0, "after");
    expect_str(a, "a", "100");
    expect_str(a, "b", "foo");
    expect_str(a, "c", "00100000");
    out_free(&o);
}


static void
test_invisible_unsigned_nulls(void **state)
{
    out_t                o;
    json_t              *a;
    cdc_binlog_table_t  *t;

    NEED_TESTDATA();
    replay("rmc_binlog-invisible-columns.000001", &o);
    assert_int_equal(o.n, 3);

    a = img(&o, 0, "after");
    expect_int(a, "f1", 1);
    expect_int(a, "f2", 2);
    expect_int(a, "f3", -3);
    expect_str(a, "f4", "4");
    expect_str(a, "f5", "BQ==");           /* BLOB x'05' → base64 */
    expect_int(a, "f6", 6000000000LL);

    a = img(&o, 1, "after");
    expect_null(a, "f1");
    expect_null(a, "f2");
    expect_int(a, "f3", -33);
    expect_str(a, "f4", "44");
    expect_str(a, "f5", "VQ==");
    expect_null(a, "f6");

    assert_string_equal(op(&o, 2), "u");
    assert_true(json_equal(img(&o, 2, "before"), a));
    a = img(&o, 2, "after");
    expect_int(a, "f1", 111);
    expect_int(a, "f2", 222);
    expect_int(a, "f3", -333);
    expect_str(a, "f4", "444");
    out_free(&o);

    t = first_table("rmc_binlog-invisible-columns.000001", "t1");
    assert_false(t->cols[0].visible);
    assert_false(t->cols[1].visible);
    assert_true(t->cols[2].visible);
    assert_false(t->cols[5].visible);
    assert_true(t->cols[5].is_unsigned);
    assert_false(t->cols[2].is_unsigned);
    cdc_binlog_table_free(t);
}


static void
test_json_and_partial_updates(void **state)
{
    out_t        o;
    json_t      *a, *d;
    size_t       i;
    static const char  *docs[] = {
        "{\"age\":24,\"data\":\"xxxxxxxxxx\",\"name\":\"Joe\"}",
        "{\"age\":32,\"data\":\"yyyyyyyyyy\",\"name\":\"Sue\"}",
        "{\"age\":40,\"data\":\"zzzzzzzzzz\",\"name\":\"Pete\"}"
    };
    static const char  *names[] = { "Joe", "Sue", "Pete" };
    static const int    ages[] = { 26, 34, 42 };

    NEED_TESTDATA();
    replay("rmc_json.binlog.000001", &o);
    assert_int_equal(o.n, 18);

    for (i = 0; i < 6; i++) {
        assert_string_equal(op(&o, i), "c");
        a = img(&o, i, "after");
        expect_int(a, "col_1", (json_int_t) i + 1);
        expect_str(a, "col_2", docs[i % 3]);
        expect_str(a, "col_3", names[i % 3]);
    }

    /* UPDATE_ROWS_V2 with full images: ages + 1 */
    for (i = 6; i < 12; i++) {
        assert_string_equal(op(&o, i), "u");
        expect_int(img(&o, i, "before"), "col_4", ages[i % 3] - 2);
        expect_int(img(&o, i, "after"), "col_4", ages[i % 3] - 1);
    }
    expect_str(img(&o, 6, "after"), "col_2",
               "{\"age\":25,\"data\":\"xxxxxxxxxx\",\"name\":\"Joe\"}");

    /* PARTIAL_UPDATE_ROWS: before has only id, col 2 a diff */
    for (i = 12; i < 18; i++) {
        assert_string_equal(op(&o, i), "u");
        assert_int_equal(json_object_size(img(&o, i, "before")), 1);
        expect_int(img(&o, i, "before"), "col_1", (json_int_t) i - 11);
        a = img(&o, i, "after");
        expect_absent(a, "col_1");
        d = json_object_get(json_object_get(a, "col_2"), "json_diff");
        assert_true(json_is_array(d));
        assert_int_equal(json_array_size(d), 1);
        assert_string_equal(json_string_value(json_object_get(
                                json_array_get(d, 0), "op")), "replace");
        assert_string_equal(json_string_value(json_object_get(
                                json_array_get(d, 0), "path")), "$.age");
        assert_int_equal(json_integer_value(json_object_get(
                             json_array_get(d, 0), "value")),
                         ages[(i - 12) % 3]);
        expect_str(a, "col_3", names[(i - 12) % 3]);
        expect_int(a, "col_4", ages[(i - 12) % 3]);
    }
    out_free(&o);
}


static void
test_transaction_payload(void **state)
{
    out_t                o;
    walk_t               w;
    char                 p[1100], err[256];
    cdc_binlog_file_t   *f;
    const uint8_t       *ev, *in;
    size_t               len, ilen, off, outlen, cap;
    uint64_t             foff;
    cdc_binlog_format_t  fmt;
    cdc_binlog_event_t   e, ie;
    uint8_t             *buf;
    unsigned             types[8], n;

    NEED_TESTDATA();
    replay("rmc_transaction_compression.000001", &o);
    assert_int_equal(o.n, 1);
    expect_int(img(&o, 0, "after"), "col_1", 1);
    assert_string_equal(json_string_value(json_object_get(o.msgs[0],
                                                          "topic")),
                        "t.test.tb1");
    out_free(&o);

    walk("rmc_transaction_compression.000001", &w);
    assert_int_equal(w.counts[CDC_BL_TRANSACTION_PAYLOAD], 1);
    assert_int_equal(w.first_offset[CDC_BL_TRANSACTION_PAYLOAD], 274);

    /* the inner events, in order */
    cdc_binlog_format_init(&fmt);
    f = cdc_binlog_file_open(path_of("rmc_transaction_compression.000001",
                                     p, sizeof(p)), err, sizeof(err));
    assert_non_null(f);
    buf = NULL;
    cap = 0;
    n = 0;
    while (cdc_binlog_file_next(f, &ev, &len, &foff, err, sizeof(err)) == 1)
    {
        assert_int_equal(cdc_binlog_event_parse(&e, &fmt, ev, len, 0, err,
                                                sizeof(err)), 0);
        if (e.h.type != CDC_BL_TRANSACTION_PAYLOAD) {
            continue;
        }
        assert_int_equal(e.u.payload.compression, 0);
        assert_int_equal(e.u.payload.uncompressed_size, 179);
        assert_int_equal(e.u.payload.len, 124);
        assert_int_equal(cdc_binlog_payload_decompress(&e, &buf, &cap,
                                                       &outlen, err,
                                                       sizeof(err)), 0);
        assert_int_equal(outlen, 179);
        off = 0;
        while (cdc_binlog_payload_next(buf, outlen, &off, &in, &ilen, err,
                                       sizeof(err)) == 1)
        {
            assert_int_equal(cdc_binlog_event_parse(&ie, &fmt, in, ilen, 1,
                                                    err, sizeof(err)), 0);
            assert_true(n < 8);
            types[n++] = ie.h.type;
            if (ie.h.type == CDC_BL_XID) {
                assert_int_equal(ie.u.xid.xid, 462);
            }
            if (ie.h.type == CDC_BL_QUERY) {
                assert_int_equal(ie.u.query.sql_len, 5);
                assert_memory_equal(ie.u.query.sql, "BEGIN", 5);
                assert_memory_equal(ie.u.query.db, "test", 4);
            }
        }
    }
    free(buf);
    cdc_binlog_file_close(f);

    assert_int_equal(n, 4);
    assert_int_equal(types[0], CDC_BL_QUERY);
    assert_int_equal(types[1], CDC_BL_TABLE_MAP);
    assert_int_equal(types[2], CDC_BL_WRITE_ROWS);
    assert_int_equal(types[3], CDC_BL_XID);
}


static void
test_compressed_update(void **state)
{
    out_t    o;
    walk_t   w;
    json_t  *b, *a;
    char     col[16];
    int      c;

    NEED_TESTDATA();
    walk("osheroff_mysql-bin.compressed", &w);
    assert_int_equal(w.total, 5);                  /* upstream asserts 5 */

    replay("osheroff_mysql-bin.compressed", &o);
    assert_int_equal(o.n, 1);
    assert_string_equal(op(&o, 0), "u");
    b = img(&o, 0, "before");
    a = img(&o, 0, "after");
    expect_int(a, "col_1", 1);
    expect_str(a, "col_2", "Once Upon a Time in the West");
    expect_int(a, "col_3", 1968);
    expect_str(a, "col_4", "Italy");
    expect_str(b, "col_5", "Western");
    expect_str(a, "col_5", "Western|Action");
    expect_str(a, "col_7", "Sergio Leone");
    expect_str(a, "col_8", "Ennio Morricone");
    expect_str(a, "col_11", "Paramount Pictures");
    for (c = 1; c <= 11; c++) {
        if (c == 5) {
            continue;
        }
        snprintf(col, sizeof(col), "col_%d", c);
        assert_true(json_equal(json_object_get(a, col),
                               json_object_get(b, col)));
    }
    out_free(&o);
}


static void
test_gtid_tagged(void **state)
{
    out_t    o;
    walk_t   w;
    json_t  *a;

    NEED_TESTDATA();
    walk("rmc_binlog_transaction_with_GTID_TAG.000001", &w);
    assert_int_equal(w.counts[CDC_BL_GTID_TAGGED], 1);
    assert_int_equal(w.first_offset[CDC_BL_GTID_TAGGED], 245);

    replay("rmc_binlog_transaction_with_GTID_TAG.000001", &o);
    assert_int_equal(o.n, 1);
    a = img(&o, 0, "after");
    expect_int(a, "col_1", 3);
    expect_int(a, "col_2", 100);
    expect_str(a, "col_3", "250.00");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(val(&o, 0), "source"), "gtid")),
                        "55778904-0299-11f1-b1b8-4ef0c4956feb:mytag:3");
    out_free(&o);
}


static void
test_vector(void **state)
{
    out_t                o;
    cdc_binlog_table_t  *t;

    NEED_TESTDATA();
    replay("rmc_vector.binlog", &o);
    assert_int_equal(o.n, 10);
    expect_str(img(&o, 0, "after"), "vector_column", "zcyMP83MDEAzM1NA");
    expect_str(img(&o, 1, "after"), "vector_column", "AACAPwAAgL8AAAAA");
    expect_null(img(&o, 2, "after"), "foo");
    expect_str(img(&o, 3, "after"), "foo", "bar");
    assert_string_equal(op(&o, 8), "d");
    expect_int(json_object_get(o.msgs[8], "key"), "id", 2);
    expect_int(img(&o, 9, "after"), "id", 3);
    expect_raw(json_object_get(o.msgs[0], "key"), "id", "1");
    out_free(&o);

    t = first_table("rmc_vector.binlog", "bar");
    assert_int_equal(t->cols[1].vector_dim, 2);
    assert_int_equal(t->cols[3].vector_dim, 4);
    assert_int_equal(t->npk, 1);
    assert_int_equal(t->pk[0], 0);
    assert_true(t->cols[0].is_unsigned);
    cdc_binlog_table_free(t);
}


static void
test_cdcrs_lineitem(void **state)
{
    out_t    o;
    json_t  *a;
    size_t   i;
    int      upd;

    NEED_TESTDATA();
    replay("cdcrs_binlog.000733", &o);
    a = img(&o, 0, "after");
    expect_int(a, "col_1", 1234567890111LL);
    expect_int(a, "col_2", 1235111);
    expect_int(a, "col_3", 13711);
    expect_int(a, "col_4", 888878711);
    expect_str(a, "col_5", "99.911");
    expect_str(a, "col_6", "76.11");
    expect_str(a, "col_7", "888.1");
    expect_str(a, "col_8", "109.1");
    expect_str(a, "col_9", "code");
    expect_str(a, "col_10", "Y");
    expect_str(a, "col_11", "1990-08-01");
    expect_str(a, "col_12", "1990-06-01");
    expect_str(a, "col_13", "1990-01-01");
    expect_str(a, "col_14", "test@test.com");

    upd = 0;
    for (i = 0; i < o.n; i++) {
        if (strcmp(op(&o, i), "u") == 0) {
            expect_str(img(&o, i, "before"), "col_5", "99.997");
            expect_str(img(&o, i, "after"), "col_5", "88.880");
            expect_str(img(&o, i, "after"), "col_9", "update L_RETURNFLAG ");
            upd++;
        }
    }
    assert_int_equal(upd, 1);
    out_free(&o);
}


static void
test_int_table(void **state)
{
    out_t    o;
    json_t  *a;

    NEED_TESTDATA();
    replay("cdcrs_int_table_binlog.000001", &o);
    assert_int_equal(o.n, 3);
    a = img(&o, 0, "after");
    expect_int(a, "col_1", 1);
    expect_int(a, "col_2", 11);
    expect_int(a, "col_3", 111);
    expect_int(a, "col_4", 1111);
    expect_int(a, "col_5", 11111);
    expect_int(a, "col_6", 1);
    a = img(&o, 1, "after");
    expect_int(a, "col_2", 22);
    expect_int(a, "col_3", 222);
    assert_string_equal(op(&o, 2), "d");
    assert_true(json_equal(img(&o, 2, "before"), a));
    out_free(&o);
}


static void
test_float_double_blobs(void **state)
{
    out_t    o;
    json_t  *b, *a;

    NEED_TESTDATA();
    replay("cdcrs_5.7_update_rows.bin", &o);
    assert_int_equal(o.n, 1);
    b = img(&o, 0, "before");
    a = img(&o, 0, "after");
    expect_str(b, "col_2", "abc");
    expect_str(b, "col_6", "abc");             /* LONGTEXT, 4-byte length */
    expect_raw(b, "col_7", "1");
    expect_raw(b, "col_8", "2");
    expect_str(b, "col_9", "3.0000");
    expect_str(a, "col_2", "xd");
    expect_str(a, "col_5", "xd");
    expect_raw(a, "col_7", "4");
    expect_raw(a, "col_8", "4");
    expect_str(a, "col_9", "4.0000");
    out_free(&o);
}


static void
test_apecloud(void **state)
{
    out_t    o;
    walk_t   w;
    json_t  *a;

    NEED_TESTDATA();
    walk("apecloud_mysql-bin.000080", &w);
    assert_int_equal(w.total, 37);                 /* upstream asserts 37 */
    assert_int_equal(w.counts[CDC_BL_GTID], 10);

    replay("apecloud_mysql-bin.000080", &o);
    assert_int_equal(o.n, 7);
    a = img(&o, o.n - 1, "after");
    assert_string_equal(json_string_value(json_object_get(
                            o.msgs[o.n - 1], "topic")), "t.a.emoji");
    expect_int(a, "col_1", 2);
    expect_str(a, "col_2", "");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(val(&o, o.n - 1), "source"),
                            "gtid")),
                        "58cf6502-63db-11ed-8079-0242ac110002:62");
    out_free(&o);
}


static void
test_osheroff_crc32(void **state)
{
    out_t    o;
    walk_t   w;
    size_t   i;
    int      found;
    json_t  *a;

    NEED_TESTDATA();
    walk("osheroff_mysql-bin.checksum-crc32", &w);
    assert_int_equal(w.total, 303);                /* upstream asserts 303 */
    assert_int_equal(w.counts[CDC_BL_WRITE_ROWS] + w.counts[CDC_BL_UPDATE_ROWS]
                     + w.counts[CDC_BL_DELETE_ROWS], 60);

    replay("osheroff_mysql-bin.checksum-crc32", &o);
    assert_int_equal(o.n, 63);
    found = 0;
    for (i = 0; i < o.n; i++) {
        if (strcmp(json_string_value(json_object_get(o.msgs[i], "topic")),
                   "t.menkor_dev.fund_account") != 0
            || strcmp(op(&o, i), "c") != 0)
        {
            continue;
        }
        a = img(&o, i, "after");
        expect_int(a, "col_1", 13500014);
        expect_str(a, "col_2", "0.00");
        expect_str(a, "col_8", "CNY");
        expect_str(a, "col_11", "2018-05-04T11:42:33Z");   /* 1525434153 */
        found = 1;
        break;
    }
    assert_true(found);
    out_free(&o);
}


static void
test_osheroff_none(void **state)
{
    out_t    o;
    walk_t   w;
    json_t  *a;

    NEED_TESTDATA();
    walk("osheroff_mysql-bin.checksum-none", &w);
    assert_int_equal(w.total, 191);                /* upstream asserts 191 */
    assert_int_equal(w.counts[CDC_BL_STOP], 1);

    replay("osheroff_mysql-bin.checksum-none", &o);
    assert_int_equal(o.n, 36);
    a = img(&o, 0, "after");
    expect_str(a, "col_1", "42b0a771-9345-4b19-b503-d51b5fff30ef");
    expect_str(a, "col_2", "2018-10-30 18:02:09");
    expect_str(a, "col_3", "2018-10-30 18:02:09");
    expect_str(a, "col_4", "086");
    expect_str(a, "col_5", "zh-cn");
    expect_str(a, "col_6", "18888888888");
    expect_str(a, "col_7", "test_nickname");
    out_free(&o);
}


static void
test_aurora_padding(void **state)
{
    out_t   o;
    walk_t  w;

    NEED_TESTDATA();
    walk("osheroff_mysql-bin.aurora-padding", &w);
    assert_true(w.saw_100);
    assert_int_equal(w.first_offset[100], 281);
    assert_int_equal(w.after_100, 1209);
    assert_int_equal(w.first_offset[CDC_BL_QUERY], 1209);

    replay("osheroff_mysql-bin.aurora-padding", &o);
    assert_int_equal(o.rc, 0);
    out_free(&o);
}


static void
test_canal_schema_changes(void **state)
{
    out_t    o;
    size_t   i, n;
    json_t  *a;
    json_int_t  id;
    int      seen35, seen36, seen40;

    NEED_TESTDATA();
    replay("canal_tsdb_mysql-bin.000003", &o);

    seen35 = seen36 = seen40 = 0;
    for (i = 0; i < o.n; i++) {
        if (strcmp(json_string_value(json_object_get(o.msgs[i], "topic")),
                   "t.wanshao.wanshao_test") != 0)
        {
            continue;
        }
        a = img(&o, i, "after");
        id = json_integer_value(json_object_get(a, "col_1"));
        n = json_object_size(a);
        if (id == 35) {
            assert_int_equal(n, 4);
            expect_str(a, "col_2", "helol");
            expect_int(a, "col_3", 123);
            expect_int(a, "col_4", 123);
            seen35 = 1;
        } else if (id == 36) {
            assert_int_equal(n, 5);
            expect_str(a, "col_2", "hel33ol");
            expect_int(a, "col_4", 124);
            expect_null(a, "col_5");
            seen36 = 1;
        } else if (id >= 37 && id <= 39) {
            assert_int_equal(n, 6);
        } else if (id >= 40 && id <= 50) {
            assert_int_equal(n, 5);
            seen40++;
        }
    }
    assert_true(seen35 && seen36);
    assert_int_equal(seen40, 11);
    out_free(&o);
}


/* table ids 224..227 for the same table, each with its own shape */
static void
test_canal_table_ids(void **state)
{
    char                 p[1100], err[256];
    cdc_binlog_file_t   *f;
    const uint8_t       *ev;
    size_t               len;
    uint64_t             off;
    cdc_binlog_format_t  fmt;
    cdc_binlog_event_t   e;
    cdc_binlog_table_t  *t;
    uint64_t             ids[16];
    unsigned             cols[16], n, i;

    NEED_TESTDATA();
    cdc_binlog_format_init(&fmt);
    f = cdc_binlog_file_open(path_of("canal_tsdb_mysql-bin.000003", p,
                                     sizeof(p)), err, sizeof(err));
    assert_non_null(f);
    n = 0;
    while (cdc_binlog_file_next(f, &ev, &len, &off, err, sizeof(err)) == 1) {
        assert_int_equal(cdc_binlog_event_parse(&e, &fmt, ev, len, 0, err,
                                                sizeof(err)), 0);
        if (e.h.type != CDC_BL_TABLE_MAP) {
            continue;
        }
        t = cdc_binlog_table_parse(&e, &fmt, err, sizeof(err));
        assert_non_null(t);
        if (strcmp(t->table, "wanshao_test") == 0
            && (n == 0 || ids[n - 1] != t->table_id))
        {
            assert_true(n < 16);
            ids[n] = t->table_id;
            cols[n] = t->ncols;
            n++;
        }
        cdc_binlog_table_free(t);
    }
    cdc_binlog_file_close(f);

    assert_int_equal(n, 4);
    for (i = 0; i < 4; i++) {
        assert_int_equal(ids[i], 224 + i);
    }
    assert_int_equal(cols[0], 4);
    assert_int_equal(cols[1], 5);
    assert_int_equal(cols[2], 6);
    assert_int_equal(cols[3], 5);
}


static void
test_truncated_file(void **state)
{
    out_t  o;
    char   p[1100];

    NEED_TESTDATA();
    replay_path(path_of("rmc_binlog_truncated_prev_gtid_event.000001", p,
                        sizeof(p)), &o);
    assert_int_equal(o.rc, -1);
    assert_non_null(strstr(o.err, "truncated"));
    assert_non_null(strstr(o.err, "offset 120"));
    assert_non_null(strstr(o.err, "rmc_binlog_truncated_prev_gtid_event"));
    assert_int_equal(o.n, 0);
    out_free(&o);
}


static void
test_mariadb(void **state)
{
    out_t                o;
    json_t              *a, *src;
    cdc_binlog_table_t  *t;
    walk_t               w;

    NEED_TESTDATA();
    walk("rmc_mariadb-bin.000001", &w);
    assert_int_equal(w.counts[CDC_BL_MARIA_GTID], 2);
    assert_int_equal(w.counts[CDC_BL_MARIA_GTID_LIST], 1);
    assert_int_equal(w.counts[CDC_BL_MARIA_BINLOG_CHECKPOINT], 1);
    assert_int_equal(w.counts[CDC_BL_MARIA_ANNOTATE_ROWS], 2);
    assert_int_equal(w.counts[CDC_BL_WRITE_ROWS_V1], 2);

    replay("rmc_mariadb-bin.000001", &o);
    assert_int_equal(o.n, 2);
    a = img(&o, 0, "after");
    expect_int(a, "id", 62);
    expect_str(a, "topic", "foo");
    expect_str(a, "event_type", "JSON");
    expect_str(a, "event", "eyJmb28iOjF9");      /* BLOB '{"foo":1}' */
    expect_str(a, "created", "2022-04-20T22:18:04Z");
    expect_int(json_object_get(o.msgs[0], "key"), "id", 62);
    expect_int(img(&o, 1, "after"), "id", 63);
    src = json_object_get(val(&o, 1), "source");
    assert_string_equal(json_string_value(json_object_get(src, "gtid")),
                        "0-1-2");
    assert_string_equal(json_string_value(json_object_get(src, "file")),
                        "rmc_mariadb-bin.000001");
    out_free(&o);

    t = first_table("rmc_mariadb-bin.000001", "outbox");
    assert_string_equal(t->cols[0].name, "id");
    assert_true(t->cols[0].pk);
    assert_int_equal(t->cols[0].charset, 0);
    assert_int_equal(t->cols[1].charset, 45);
    assert_int_equal(t->cols[2].charset, 45);
    assert_int_equal(t->cols[3].charset, 63);
    assert_int_equal(t->cols[4].charset, 0);
    assert_int_equal(t->cols[2].nlabels, 3);
    assert_string_equal(t->cols[2].labels[2], "PROTOBUF");
    cdc_binlog_table_free(t);
}


static void
test_hidden_gcol(void **state)
{
    out_t    o;
    json_t  *a;

    NEED_TESTDATA();
    replay("rmc_rpl_unfiltered_hidden_gcol.000001", &o);
    assert_int_equal(o.n, 1);
    a = img(&o, 0, "after");
    expect_int(a, "col_1", 1);
    expect_absent(a, "col_2");
    expect_str(a, "col_3", "1");
    out_free(&o);
}


typedef struct {
    unsigned          commits;
    cdc_stream_pos_t  last;
} commits_t;


static int
count_emit(void *data, const cdc_stream_change_t *c)
{
    return 0;
}


static int
count_commit(void *data, const cdc_stream_pos_t *pos)
{
    commits_t  *c = data;

    c->commits++;
    c->last = *pos;
    return 0;
}


static void
test_statement_gtids(void **state)
{
    char                 p[1100], err[512];
    cdc_binlog_file_t   *f;
    const uint8_t       *ev;
    size_t               len;
    uint64_t             off;
    cdc_stream_opts_t    so;
    cdc_stream_t        *s;
    commits_t            c;

    NEED_TESTDATA();
    memset(&so, 0, sizeof(so));
    memset(&c, 0, sizeof(c));
    so.topic_prefix = "t";
    so.emit = count_emit;
    so.commit = count_commit;
    so.data = &c;
    so.verify_checksum = 1;
    s = cdc_stream_create(&so, err, sizeof(err));
    assert_non_null(s);
    assert_int_equal(cdc_stream_set_position(s, "x.000001", 4, NULL, NULL),
                     0);

    f = cdc_binlog_file_open(path_of("rmc_binlog_transaction_with_GTID."
                                     "000001", p, sizeof(p)), err,
                             sizeof(err));
    assert_non_null(f);
    while (cdc_binlog_file_next(f, &ev, &len, &off, err, sizeof(err)) == 1) {
        if (cdc_stream_feed(s, ev, len, err, sizeof(err)) != 0) {
            fail_msg("%s", err);
        }
    }

    /* CREATE, BEGIN…COMMIT, DROP: three transactions with GTIDs 1-3 */
    assert_true(c.commits >= 3);
    assert_string_equal(c.last.gtid,
                        "006c2cf2-b1ea-11e4-9057-8c705a3d3e78:3");
    assert_int_equal(cdc_stream_stats(s)->rows, 0);
    assert_memory_equal(cdc_stream_committed(s), &c.last, sizeof(c.last));
    cdc_binlog_file_close(f);
    cdc_stream_destroy(s);
}


static void
test_crc_mismatch(void **state)
{
    char                 p[1100], err[512];
    FILE                *fp;
    uint8_t             *data;
    long                 size;
    cdc_stream_opts_t    so;
    cdc_stream_t        *s;
    commits_t            c;
    size_t               off, len;
    int                  failed;

    NEED_TESTDATA();
    fp = fopen(path_of("cdcrs_int_table_binlog.000001", p, sizeof(p)), "rb");
    assert_non_null(fp);
    assert_int_equal(fseek(fp, 0, SEEK_END), 0);
    size = ftell(fp);
    rewind(fp);
    data = malloc((size_t) size);
    assert_non_null(data);
    assert_int_equal(fread(data, 1, (size_t) size, fp), (size_t) size);
    fclose(fp);

    memset(&so, 0, sizeof(so));
    memset(&c, 0, sizeof(c));
    so.topic_prefix = "t";
    so.emit = count_emit;
    so.commit = count_commit;
    so.data = &c;
    so.verify_checksum = 1;
    s = cdc_stream_create(&so, err, sizeof(err));
    assert_non_null(s);

    /* flip one byte in the last event's body */
    off = 4;
    failed = 0;
    while (off + 19 <= (size_t) size) {
        len = (size_t) data[off + 9] | (size_t) data[off + 10] << 8
              | (size_t) data[off + 11] << 16;
        if (off + len == (size_t) size) {
            data[off + 20] ^= 0x40;
        }
        if (cdc_stream_feed(s, data + off, len, err, sizeof(err)) != 0) {
            failed = 1;
            break;
        }
        off += len;
    }

    assert_true(failed);
    assert_non_null(strstr(err, "CRC32 mismatch"));
    cdc_stream_destroy(s);
    free(data);
}


/* the PREVIOUS_GTIDS set of a file, as text */
static void
expect_previous_gtids(const char *name, const char *want)
{
    char                 p[1100], err[256];
    cdc_binlog_file_t   *f;
    const uint8_t       *ev;
    size_t               len;
    uint64_t             off;
    cdc_binlog_format_t  fmt;
    cdc_binlog_event_t   e;
    cdc_buf_t            out = { NULL, 0, 0 };
    int                  found;

    cdc_binlog_format_init(&fmt);
    f = cdc_binlog_file_open(path_of(name, p, sizeof(p)), err, sizeof(err));
    assert_non_null(f);
    found = 0;
    while (cdc_binlog_file_next(f, &ev, &len, &off, err, sizeof(err)) == 1) {
        assert_int_equal(cdc_binlog_event_parse(&e, &fmt, ev, len, 0, err,
                                                sizeof(err)), 0);
        if (e.h.type == CDC_BL_PREVIOUS_GTIDS) {
            assert_int_equal(cdc_binlog_previous_gtids_to_str(&e, &out, err,
                                                              sizeof(err)),
                             0);
            found = 1;
            break;
        }
    }
    cdc_binlog_file_close(f);
    assert_true(found);
    assert_string_equal(out.data ? out.data : "", want);
    cdc_buf_free(&out);
}


static void
test_previous_gtids(void **state)
{
    NEED_TESTDATA();
    expect_previous_gtids("apecloud_mysql-bin.000080",
                          "58cf6502-63db-11ed-8079-0242ac110002:1-52");
    expect_previous_gtids("rmc_transaction_compression.000001",
                          "357df524-4139-11ee-9979-b033ee13919e:1");
    expect_previous_gtids("rmc_binlog_transaction_with_GTID_TAG.000001",
                          "55778904-0299-11f1-b1b8-4ef0c4956feb:1-13,"
                          "55778904-0299-11f1-b1b8-4ef0c4956feb:mytag:1-2");
    expect_previous_gtids("osheroff_mysql-bin.compressed", "");
}


/* the FDE's CRC only matches with LOG_EVENT_BINLOG_IN_USE_F cleared */
static void
test_fde_in_use_crc(void **state)
{
    char                 p[1100], err[256];
    cdc_binlog_file_t   *f;
    const uint8_t       *ev;
    size_t               len;
    uint64_t             off;
    cdc_binlog_format_t  fmt;
    cdc_binlog_event_t   e;
    uint32_t             stored;

    NEED_TESTDATA();
    f = cdc_binlog_file_open(path_of("canal_tsdb_mysql-bin.000003", p,
                                     sizeof(p)), err, sizeof(err));
    assert_non_null(f);
    assert_int_equal(cdc_binlog_file_next(f, &ev, &len, &off, err,
                                          sizeof(err)), 1);
    assert_int_equal(ev[4], CDC_BL_FORMAT_DESCRIPTION);
    assert_true(ev[17] & CDC_BL_F_BINLOG_IN_USE);

    stored = (uint32_t) ev[len - 4] | (uint32_t) ev[len - 3] << 8
             | (uint32_t) ev[len - 2] << 16 | (uint32_t) ev[len - 1] << 24;
    assert_int_not_equal(cdc_binlog_crc32(0, ev, len - 4), stored);

    cdc_binlog_format_init(&fmt);
    assert_int_equal(cdc_binlog_event_parse(&e, &fmt, ev, len, 0, err,
                                            sizeof(err)), 0);
    assert_true(fmt.checksum);
    assert_int_equal(e.u.fde.checksum_alg, 1);
    assert_memory_equal(e.u.fde.server_version, "5.7.19", 6);
    cdc_binlog_file_close(f);
}


static int
sakila_setup(void **state)
{
    char   cmd[2600], p[1100];
    int    fd;

    if (!have_testdata()) {
        return 0;
    }

    snprintf(sakila, sizeof(sakila), "/tmp/cdc-test-sakila-XXXXXX");
    fd = mkstemp(sakila);
    if (fd == -1) {
        return -1;
    }
    close(fd);

    snprintf(cmd, sizeof(cmd), "gzip -dc '%s' > '%s'",
             path_of("osheroff_mysql-bin.sakila.gz", p, sizeof(p)), sakila);
    return system(cmd) == 0 ? 0 : -1;
}


static int
sakila_teardown(void **state)
{
    if (sakila[0]) {
        unlink(sakila);
    }
    return 0;
}


static void
test_sakila(void **state)
{
    out_t        o;
    size_t       i, k;
    const char  *topic;
    json_t      *a;
    int          film1, pay1, staff1;
    static const struct {
        const char  *table;
        unsigned     rows;
        unsigned     seen;
    } want_init[] = {
        { "actor", 200, 0 }, { "address", 603, 0 }, { "category", 16, 0 },
        { "city", 600, 0 }, { "country", 109, 0 }, { "customer", 599, 0 },
        { "film", 1000, 0 }, { "film_actor", 5462, 0 },
        { "film_category", 1000, 0 }, { "film_text", 1000, 0 },
        { "inventory", 4581, 0 }, { "language", 6, 0 },
        { "payment", 16049, 0 }, { "rental", 16044, 0 }, { "staff", 2, 0 },
        { "store", 2, 0 }
    };
    unsigned     seen[16];

    NEED_TESTDATA();
    memset(seen, 0, sizeof(seen));

    replay_path(sakila, &o);
    if (o.rc != 0) {
        fail_msg("%s", o.err);
    }
    assert_int_equal(o.n, 47273);

    film1 = pay1 = staff1 = 0;
    for (i = 0; i < o.n; i++) {
        topic = json_string_value(json_object_get(o.msgs[i], "topic"));
        assert_non_null(topic);
        assert_memory_equal(topic, "t.sakila.", 9);
        for (k = 0; k < 16; k++) {
            if (strcmp(topic + 9, want_init[k].table) == 0) {
                seen[k]++;
                break;
            }
        }
        if (k == 16) {
            fail_msg("unexpected topic %s", topic);
        }

        a = img(&o, i, "after");
        if (!film1 && strcmp(topic, "t.sakila.film") == 0) {
            expect_int(a, "col_1", 1);
            expect_str(a, "col_2", "ACADEMY DINOSAUR");
            expect_int(a, "col_4", 2006);               /* YEAR */
            expect_null(a, "col_6");
            expect_str(a, "col_8", "0.99");
            expect_int(a, "col_9", 86);
            expect_str(a, "col_10", "20.99");
            expect_int(a, "col_11", 2);                 /* ENUM, no labels */
            expect_int(a, "col_12", 12);                /* SET, no labels */
            expect_str(a, "col_13", "2006-02-15T04:03:42Z");
            film1 = 1;
        }
        if (!pay1 && strcmp(topic, "t.sakila.payment") == 0) {
            expect_int(a, "col_4", 76);
            expect_str(a, "col_5", "2.99");
            expect_str(a, "col_6", "2005-05-25 11:30:37");   /* DATETIME */
            expect_str(a, "col_7", "2006-02-15T21:12:30Z");
            pay1 = 1;
        }
        if (!staff1 && strcmp(topic, "t.sakila.staff") == 0) {
            /* the PNG picture: no charset metadata, not UTF-8 → base64 */
            assert_memory_equal(json_string_value(json_object_get(a,
                                                                  "col_5")),
                                "iVBORw0KGgo", 11);
            staff1 = 1;
        }
    }

    for (k = 0; k < 16; k++) {
        if (seen[k] != want_init[k].rows) {
            fail_msg("%s: %u rows, want %u", want_init[k].table, seen[k],
                     want_init[k].rows);
        }
    }
    assert_true(film1 && pay1 && staff1);
    out_free(&o);
}


static void
test_sakila_event_counts(void **state)
{
    char                 err[256];
    cdc_binlog_file_t   *f;
    const uint8_t       *ev;
    size_t               len;
    uint64_t             off;
    cdc_binlog_format_t  fmt;
    cdc_binlog_event_t   e;
    unsigned             counts[256], total;

    NEED_TESTDATA();
    memset(counts, 0, sizeof(counts));
    total = 0;
    cdc_binlog_format_init(&fmt);
    f = cdc_binlog_file_open(sakila, err, sizeof(err));
    assert_non_null(f);
    while (cdc_binlog_file_next(f, &ev, &len, &off, err, sizeof(err)) == 1) {
        assert_int_equal(cdc_binlog_event_parse(&e, &fmt, ev, len, 0, err,
                                                sizeof(err)), 0);
        counts[e.h.type]++;
        total++;
    }
    cdc_binlog_file_close(f);

    assert_int_equal(total, 1462);                 /* upstream asserts */
    assert_int_equal(counts[CDC_BL_FORMAT_DESCRIPTION], 1);
    assert_int_equal(counts[CDC_BL_QUERY], 54);
    assert_int_equal(counts[CDC_BL_TABLE_MAP], 18);
    assert_int_equal(counts[CDC_BL_WRITE_ROWS_V1], 1374);
    assert_int_equal(counts[CDC_BL_XID], 15);
    assert_false(fmt.checksum);
}


int
main(void)
{
    const char  *td;

    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gomysql_decimals),
        cmocka_unit_test(test_time_negative),
        cmocka_unit_test(test_minimal_image_unsigned),
        cmocka_unit_test(test_enum_set_strings),
        cmocka_unit_test(test_bit),
        cmocka_unit_test(test_invisible_unsigned_nulls),
        cmocka_unit_test(test_json_and_partial_updates),
        cmocka_unit_test(test_transaction_payload),
        cmocka_unit_test(test_compressed_update),
        cmocka_unit_test(test_gtid_tagged),
        cmocka_unit_test(test_vector),
        cmocka_unit_test(test_cdcrs_lineitem),
        cmocka_unit_test(test_int_table),
        cmocka_unit_test(test_float_double_blobs),
        cmocka_unit_test(test_apecloud),
        cmocka_unit_test(test_osheroff_crc32),
        cmocka_unit_test(test_osheroff_none),
        cmocka_unit_test(test_aurora_padding),
        cmocka_unit_test(test_canal_schema_changes),
        cmocka_unit_test(test_canal_table_ids),
        cmocka_unit_test(test_truncated_file),
        cmocka_unit_test(test_mariadb),
        cmocka_unit_test(test_hidden_gcol),
        cmocka_unit_test(test_statement_gtids),
        cmocka_unit_test(test_crc_mismatch),
        cmocka_unit_test(test_fde_in_use_crc),
        cmocka_unit_test(test_previous_gtids),
    };

    const struct CMUnitTest sakila_tests[] = {
        cmocka_unit_test(test_sakila),
        cmocka_unit_test(test_sakila_event_counts),
    };

    td = getenv("STRANGLER_TESTDATA");
    snprintf(testdata, sizeof(testdata), "%s",
             td && td[0] ? td : "../shared/testdata");

    return cmocka_run_group_tests_name("binlog files", tests, NULL, NULL)
           | cmocka_run_group_tests_name("sakila", sakila_tests,
                                         sakila_setup, sakila_teardown);
}
