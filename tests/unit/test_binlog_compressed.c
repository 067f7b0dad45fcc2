/*
 * MariaDB compressed events (binlog/compress.c) and XA transactions in the
 * stream (source/stream.c, source/xa.c).
 *
 * On bytes: compressed blocks made here with zlib, good and damaged
 * (truncated, garbage, a wrong length, an unknown algorithm: an error,
 * never a crash); rows events compressed here as v1 and v2 and rebuilt.
 *
 * On a real binlog: tests/unit/data/mariadb_compress_xa.000001, written by
 * MariaDB 10.11 with --log-bin-compress=ON --log-bin-compress-min-len=10
 * (see tests/unit/data/README.md): a compressed CREATE TABLE (165),
 * compressed WRITE/UPDATE/DELETE_ROWS_V1 (166-168), a plain WRITE_ROWS_V1,
 * XA 'r' prepared then rolled back, XA 'c' prepared, another transaction,
 * XA COMMIT 'c', and XA COMMIT 'o' ONE PHASE.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "binlog/binlog.h"
#include "source/stream.h"


#define FIXTURE  "tests/unit/data/mariadb_compress_xa.000001"

/* event offsets in the fixture (mariadb-binlog shows the same) */
#define AT_WRITE_COMPRESSED   762      /* WRITE_ROWS_COMPRESSED_V1 */
#define AT_ANNOTATE           619      /* inside GTID 0-1-27 */
#define AT_CHECKPOINT         339      /* BINLOG_CHECKPOINT, between */
#define AT_R_PREPARED_FROM    1601     /* end of the group before XA 'r' */
#define AT_C_PREPARED_FROM    2087     /* end of XA ROLLBACK 'r' */
#define AT_C_PREPARE_END      2626     /* after XA 'c''s XA_PREPARE */
#define AT_C_COMMIT_GTID      2884     /* GTID 0-1-35, COMPLETED_XA */
#define AT_C_COMMIT_QUERY     2927     /* XA COMMIT X'63',X'',1 */


static uint8_t  *fixture;
static size_t    fixture_len;


static void
load_fixture(void)
{
    char   path[2048];
    FILE  *f;
    long   n;
    const char  *root;

    root = getenv("STRANGLER_ROOT");
    snprintf(path, sizeof(path), "%s/%s", root && root[0] ? root : ".",
             FIXTURE);
    f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    assert_true(n > 4);
    rewind(f);
    fixture = malloc((size_t) n);
    assert_non_null(fixture);
    assert_int_equal(fread(fixture, 1, (size_t) n, f), (size_t) n);
    fclose(f);
    fixture_len = (size_t) n;
}


static uint32_t
le32(const uint8_t *p)
{
    return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16
           | (uint32_t) p[3] << 24;
}


static void
put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t) v;
    p[1] = (uint8_t) (v >> 8);
    p[2] = (uint8_t) (v >> 16);
    p[3] = (uint8_t) (v >> 24);
}


/* a MariaDB block: header byte, length in lenlen bytes, zlib data */
static size_t
make_block(uint8_t *out, size_t cap, const uint8_t *src, size_t len,
    unsigned lenlen)
{
    uLongf    zlen;
    unsigned  i;

    out[0] = (uint8_t) (0x80 | lenlen);
    for (i = 0; i < lenlen; i++) {
        out[1 + i] = (uint8_t) (len >> (8 * (lenlen - 1 - i)));
    }

    zlen = (uLongf) (cap - 1 - lenlen);
    assert_int_equal(compress(out + 1 + lenlen, &zlen, src, (uLong) len),
                     Z_OK);
    return 1 + lenlen + zlen;
}


static void
test_block_good(void **state)
{
    uint8_t   src[70000], blk[80000], *out = NULL;
    size_t    i, n, cap = 0, outlen;
    char      err[256];
    unsigned  lenlen;

    for (i = 0; i < sizeof(src); i++) {
        src[i] = (uint8_t) (i * 7 + (i >> 9));
    }

    /* 1-byte length for 200 bytes, 3 bytes for 70000, and the widths a
       writer may choose beyond the minimum */
    for (lenlen = 1; lenlen <= 4; lenlen++) {
        size_t  len = lenlen == 1 ? 200 : lenlen == 2 ? 1000 : sizeof(src);

        n = make_block(blk, sizeof(blk), src, len, lenlen);
        assert_int_equal(cdc_binlog_uncompress_block(blk, n, &out, &cap,
                                                     &outlen, err,
                                                     sizeof(err)), 0);
        assert_int_equal(outlen, len);
        assert_memory_equal(out, src, len);
    }

    free(out);
}


static void
expect_block_error(const uint8_t *blk, size_t n, const char *want)
{
    uint8_t  *out = NULL;
    size_t    cap = 0, outlen = 0;
    char      err[256];

    err[0] = '\0';
    assert_int_equal(cdc_binlog_uncompress_block(blk, n, &out, &cap,
                                                 &outlen, err, sizeof(err)),
                     -1);
    if (strstr(err, want) == NULL) {
        fail_msg("error \"%s\" lacks \"%s\"", err, want);
    }
    free(out);
}


static void
test_block_bad(void **state)
{
    uint8_t  src[3000], blk[4000], bad[4000];
    size_t   i, n;

    for (i = 0; i < sizeof(src); i++) {
        src[i] = (uint8_t) (i % 251);
    }
    n = make_block(blk, sizeof(blk), src, sizeof(src), 2);

    /* truncated anywhere in the zlib data, or in the header */
    for (i = 0; i < n; i++) {
        expect_block_error(blk, i, i < 3 ? "truncated" : "");
    }
    expect_block_error(blk, n / 2, "data truncated");

    /* garbage zlib data */
    memcpy(bad, blk, n);
    memset(bad + 3, 0x5a, n - 3);
    expect_block_error(bad, n, "zlib");

    /* a length that disagrees with the data, either way */
    memcpy(bad, blk, n);
    bad[2]++;
    expect_block_error(bad, n, "inflates to 3000 bytes, the header "
                               "gives 3001");
    bad[2] -= 2;
    expect_block_error(bad, n, "more than the 2999 bytes");

    /* header: no compressed flag, unknown algorithm, length widths 0, 5,
       zero and impossible lengths */
    memcpy(bad, blk, n);
    bad[0] = 0x02;
    expect_block_error(bad, n, "lacks the compressed flag");
    bad[0] = 0x92;
    expect_block_error(bad, n, "unknown algorithm 1");
    bad[0] = 0x80;
    expect_block_error(bad, n, "length of the length is 0");
    bad[0] = 0x85;
    expect_block_error(bad, n, "length of the length is 5");
    bad[0] = 0x82;
    bad[1] = 0;
    bad[2] = 0;
    expect_block_error(bad, n, "uncompressed length 0");
    bad[0] = 0x84;
    bad[1] = 0xff;
    expect_block_error(bad, n, "is impossible");
}


/*
 * A rows event: header, post-header (8, or 10 with extra row info),
 * width 2, bitmap(s), rows; and the same compressed as type ctype.
 */
static size_t
make_rows(uint8_t *ev, unsigned type, int v2, int update,
    const uint8_t *rows, size_t rows_len, int compress_as, unsigned ctype)
{
    size_t  n;

    memset(ev, 0, 19);
    put_le32(ev, 1700000000);
    ev[4] = (uint8_t) (compress_as ? ctype : type);
    put_le32(ev + 5, 1);
    n = 19;

    memcpy(ev + n, "\x2a\x00\x00\x00\x00\x00\x01\x00", 8);   /* id 42 */
    n += 8;
    if (v2) {
        memcpy(ev + n, "\x04\x00\x07\x07", 4);   /* 2 bytes of extra */
        n += 4;
    }
    ev[n++] = 2;
    ev[n++] = 3;
    if (update) {
        ev[n++] = 3;
    }

    if (compress_as) {
        n += make_block(ev + n, 4096, rows, rows_len, 2);
    } else {
        memcpy(ev + n, rows, rows_len);
        n += rows_len;
    }

    put_le32(ev + 9, (uint32_t) n);
    put_le32(ev + 13, 1000);
    return n;
}


static void
test_rows_event_rebuilt(void **state)
{
    static const struct {
        unsigned  type, ctype;
        int       v2, update;
    } cases[] = {
        { CDC_BL_WRITE_ROWS_V1, CDC_BL_MARIA_WRITE_ROWS_COMPRESSED_V1, 0, 0 },
        { CDC_BL_UPDATE_ROWS_V1, CDC_BL_MARIA_UPDATE_ROWS_COMPRESSED_V1, 0,
          1 },
        { CDC_BL_DELETE_ROWS_V1, CDC_BL_MARIA_DELETE_ROWS_COMPRESSED_V1, 0,
          0 },
        { CDC_BL_WRITE_ROWS, CDC_BL_MARIA_WRITE_ROWS_COMPRESSED, 1, 0 },
        { CDC_BL_UPDATE_ROWS, CDC_BL_MARIA_UPDATE_ROWS_COMPRESSED, 1, 1 },
        { CDC_BL_DELETE_ROWS, CDC_BL_MARIA_DELETE_ROWS_COMPRESSED, 1, 0 },
    };
    uint8_t               rows[600], plain[4096], comp[4096], *out = NULL;
    size_t                i, k, np, nc, cap = 0, outlen;
    cdc_binlog_format_t   fmt;
    cdc_binlog_event_t    ev, re;
    cdc_binlog_rows_t     r;
    char                  err[256];

    /* rows of (INT, VARCHAR(255) as 1-byte length): null bitmap, values */
    for (k = 0, i = 0; k < 20; k++) {
        rows[i++] = 0;
        put_le32(rows + i, (uint32_t) k);
        i += 4;
        rows[i++] = 20;
        memset(rows + i, 'a' + (int) k, 20);
        i += 20;
    }

    cdc_binlog_format_init(&fmt);

    for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        assert_true(cdc_binlog_is_compressed(cases[k].ctype));
        assert_false(cdc_binlog_is_compressed(cases[k].type));

        np = make_rows(plain, cases[k].type, cases[k].v2, cases[k].update,
                       rows, i, 0, 0);
        nc = make_rows(comp, cases[k].type, cases[k].v2, cases[k].update,
                       rows, i, 1, cases[k].ctype);
        assert_true(nc < np);

        assert_int_equal(cdc_binlog_event_parse(&ev, &fmt, comp, nc, 1, err,
                                                sizeof(err)), 0);
        assert_int_equal(ev.u.rows.table_id, 42);
        if (cdc_binlog_uncompress_event(&ev, &fmt, &out, &cap, &outlen, err,
                                        sizeof(err)) != 0)
        {
            fail_msg("%s", err);
        }
        assert_int_equal(outlen, np);
        assert_memory_equal(out, plain, np);

        /* and the rows library reads it */
        assert_int_equal(cdc_binlog_event_parse(&re, &fmt, out, outlen, 1,
                                                err, sizeof(err)), 0);
        assert_int_equal(re.h.type, cases[k].type);
        assert_int_equal(cdc_binlog_rows_open(&r, &re, &fmt, err,
                                              sizeof(err)), 0);
        assert_int_equal(r.ncols, 2);
        assert_true(r.p + i == r.end);

        /* a damaged block is an error naming the type, not a crash */
        comp[nc - 3] ^= 0xff;
        assert_int_equal(cdc_binlog_event_parse(&ev, &fmt, comp, nc, 1, err,
                                                sizeof(err)), 0);
        assert_int_equal(cdc_binlog_uncompress_event(&ev, &fmt, &out, &cap,
                                                     &outlen, err,
                                                     sizeof(err)), -1);
        assert_non_null(strstr(err, cdc_binlog_type_name(cases[k].ctype)));

        /* and so is an event cut inside its bitmaps */
        put_le32(comp + 9, cases[k].v2 ? 19 + 13 : 19 + 9);
        assert_int_equal(cdc_binlog_event_parse(&ev, &fmt, comp,
                                                le32(comp + 9), 1, err,
                                                sizeof(err)), 0);
        assert_int_equal(cdc_binlog_uncompress_event(&ev, &fmt, &out, &cap,
                                                     &outlen, err,
                                                     sizeof(err)), -1);
        assert_non_null(strstr(err, "truncated or malformed"));
    }

    /* a plain event is not rebuilt */
    assert_int_equal(cdc_binlog_event_parse(&ev, &fmt, plain, np, 1, err,
                                            sizeof(err)), 0);
    assert_int_equal(cdc_binlog_uncompress_event(&ev, &fmt, &out, &cap,
                                                 &outlen, err, sizeof(err)),
                     -1);
    free(out);
}


static void
test_type_names(void **state)
{
    assert_string_equal(cdc_binlog_type_name(166),
                        "WRITE_ROWS_COMPRESSED_V1");
    assert_string_equal(cdc_binlog_type_name(168),
                        "DELETE_ROWS_COMPRESSED_V1");
    assert_string_equal(cdc_binlog_type_name(169), "WRITE_ROWS_COMPRESSED");
    assert_string_equal(cdc_binlog_type_name(171),
                        "DELETE_ROWS_COMPRESSED");
    assert_string_equal(cdc_binlog_type_name(165), "QUERY_COMPRESSED");
}


/* ------------------------------------------------------------ stream */

typedef struct {
    char               changes[32][96];    /* "c 1 0-1-27" */
    unsigned           nchanges;
    cdc_stream_pos_t   commits[32];
    unsigned           ncommits;
    char               ddl[256];
    char               note[600];
    unsigned           notes;
} rec_t;


static int
rec_emit(void *data, const cdc_stream_change_t *c)
{
    rec_t       *r = data;
    const char  *gtid, *pos;
    int          id;

    assert_int_equal(sscanf(c->key, "{\"id\":%d}", &id), 1);
    gtid = strstr(c->value, "\"gtid\":\"");
    pos = strstr(c->value, "\"pos\":");
    assert_non_null(gtid);
    assert_non_null(pos);
    assert_true(r->nchanges < 32);
    snprintf(r->changes[r->nchanges++], 96, "%c %d %.*s %ld", c->op, id,
             (int) strcspn(gtid + 8, "\""), gtid + 8, atol(pos + 6));
    return 0;
}


static int
rec_commit(void *data, const cdc_stream_pos_t *pos)
{
    rec_t  *r = data;

    assert_true(r->ncommits < 32);
    r->commits[r->ncommits++] = *pos;
    return 0;
}


static int
rec_ddl(void *data, const char *db, const char *sql, size_t len,
    const cdc_stream_pos_t *pos)
{
    rec_t  *r = data;

    snprintf(r->ddl, sizeof(r->ddl), "%s: %.*s", db, (int) len, sql);
    return 0;
}


static void
rec_note(void *data, const char *msg)
{
    rec_t  *r = data;

    snprintf(r->note, sizeof(r->note), "%s", msg);
    r->notes++;
}


static cdc_stream_t *
make_stream(rec_t *r)
{
    cdc_stream_opts_t   o;
    cdc_stream_t       *s;
    char                err[256];

    memset(r, 0, sizeof(*r));
    memset(&o, 0, sizeof(o));
    o.topic_prefix = "p";
    o.emit = rec_emit;
    o.commit = rec_commit;
    o.ddl = rec_ddl;
    o.note = rec_note;
    o.data = r;
    o.verify_checksum = 1;
    o.fixed_ts_ms = 1;
    s = cdc_stream_create(&o, err, sizeof(err));
    assert_non_null(s);
    return s;
}


/*
 * Feeds buf's events: the FDE, then those at or after from (as a server
 * resuming at a GTID sends them).  Returns cdc_stream_feed's failure.
 */
static int
feed(cdc_stream_t *s, const uint8_t *buf, size_t len, size_t from,
    char *err, size_t errlen)
{
    size_t    off;
    uint32_t  n;

    for (off = 4; off + 19 <= len; off += n) {
        n = le32(buf + off + 9);
        assert_true(n >= 19 && n <= len - off);
        if (off != 4 && off < from) {
            continue;
        }
        if (cdc_stream_feed(s, buf + off, n, err, errlen) != 0) {
            return -1;
        }
    }

    return 0;
}


static void
test_stream_compressed_and_xa(void **state)
{
    static const char  *want[] = {
        "c 1 0-1-27 762", "c 2 0-1-27 762",
        "u 2 0-1-28 1033",
        "d 1 0-1-29 1283",
        "c 4 0-1-30 1529",
        "c 3 0-1-34 2800",
        /* XA 'c': at its XA COMMIT, with the commit's GTID and pos */
        "c 11 0-1-35 2927", "u 2 0-1-35 2927",
        "c 12 0-1-36 3178",
    };
    rec_t          r;
    cdc_stream_t  *s;
    char           err[512];
    unsigned       i;

    s = make_stream(&r);
    assert_int_equal(cdc_stream_set_position(s, "binlog.000004", 4, NULL,
                                             NULL), 0);
    assert_int_equal(feed(s, fixture, fixture_len, 0, err, sizeof(err)), 0);

    /* every row, compressed or not; nothing of the rolled back XA 'r' */
    assert_int_equal(r.nchanges, sizeof(want) / sizeof(want[0]));
    for (i = 0; i < r.nchanges; i++) {
        assert_string_equal(r.changes[i], want[i]);
    }

    /* the compressed DDL reached the ddl callback as text */
    assert_string_equal(r.ddl, "shop: CREATE TABLE shop.f (id INT PRIMARY "
                               "KEY, v VARCHAR(300)) ENGINE=InnoDB");

    /* commits: DDL, 4 transactions, XA PREPARE 'r' (held before it),
       XA ROLLBACK 'r', XA PREPARE 'c' (held), the insert of id 3 (still
       held), XA COMMIT 'c', the one-phase XA */
    assert_int_equal(r.ncommits, 11);
    assert_int_equal(r.commits[4].pos, AT_R_PREPARED_FROM);
    assert_int_equal(r.commits[5].pos, AT_R_PREPARED_FROM);
    assert_string_equal(r.commits[5].gtid_state, "0-1-30");
    assert_int_equal(r.commits[6].pos, AT_C_PREPARED_FROM);
    assert_string_equal(r.commits[6].gtid_state, "0-1-32");
    assert_int_equal(r.commits[7].pos, AT_C_PREPARED_FROM);
    assert_int_equal(r.commits[8].pos, AT_C_PREPARED_FROM);
    assert_string_equal(r.commits[8].gtid_state, "0-1-32");
    assert_int_equal(r.commits[9].pos, 3015);
    assert_string_equal(r.commits[9].gtid_state, "0-1-35");
    assert_int_equal(r.commits[10].pos, fixture_len);
    assert_string_equal(r.commits[10].gtid_state, "0-1-36");

    assert_int_equal(cdc_stream_stats(s)->xa_committed, 1);
    assert_int_equal(cdc_stream_stats(s)->xa_rolled_back, 1);
    assert_int_equal(cdc_stream_stats(s)->xa_unknown, 0);
    assert_int_equal(cdc_stream_stats(s)->xa_pending, 0);
    assert_int_equal(r.notes, 0);
    cdc_stream_destroy(s);

    /* resumed from the held position: XA 'c' is read again and emitted
       once, at its commit */
    s = make_stream(&r);
    assert_int_equal(cdc_stream_set_position(s, "binlog.000004",
                                             AT_C_PREPARED_FROM, NULL,
                                             "0-1-32"), 0);
    assert_int_equal(feed(s, fixture, fixture_len, AT_C_PREPARED_FROM, err,
                          sizeof(err)), 0);
    assert_int_equal(r.nchanges, 4);
    assert_string_equal(r.changes[0], "c 3 0-1-34 2800");
    assert_string_equal(r.changes[1], "c 11 0-1-35 2927");
    assert_string_equal(r.changes[2], "u 2 0-1-35 2927");
    assert_string_equal(r.changes[3], "c 12 0-1-36 3178");
    cdc_stream_destroy(s);

    /* resumed after the prepare: the commit finds nothing and says so */
    s = make_stream(&r);
    assert_int_equal(cdc_stream_set_position(s, "binlog.000004",
                                             AT_C_PREPARE_END, NULL,
                                             "0-1-33"), 0);
    assert_int_equal(feed(s, fixture, fixture_len, AT_C_PREPARE_END, err,
                          sizeof(err)), 0);
    assert_int_equal(r.nchanges, 2);
    assert_int_equal(r.notes, 1);
    assert_non_null(strstr(r.note, "binlog.000004:2927: XA COMMIT "
                                   "X'63',X'',1: its XA PREPARE is before"));
    assert_int_equal(cdc_stream_stats(s)->xa_unknown, 1);
    cdc_stream_destroy(s);
}


/* an event changed in a copy of the fixture, its CRC32 made right */
static uint8_t *
patched(size_t at, size_t byte, uint8_t value)
{
    uint8_t   *b;
    uint32_t   n;

    b = malloc(fixture_len);
    assert_non_null(b);
    memcpy(b, fixture, fixture_len);
    n = le32(b + at + 9);
    b[at + byte] = value;
    put_le32(b + at + n - 4, cdc_binlog_crc32(0, b + at, n - 4));
    return b;
}


static void
test_stream_unknown_and_damaged(void **state)
{
    rec_t          r;
    cdc_stream_t  *s;
    char           err[512];
    uint8_t       *b;

    /* an unknown type inside a transaction stops the stream, named */
    b = patched(AT_ANNOTATE, 4, 150);
    s = make_stream(&r);
    assert_int_equal(cdc_stream_set_position(s, "binlog.000004", 4, NULL,
                                             NULL), 0);
    assert_int_equal(feed(s, b, fixture_len, 0, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "binlog.000004:619: event type 150 "
                                "(UNKNOWN) inside the transaction of GTID "
                                "0-1-27"));
    assert_int_equal(r.nchanges, 0);
    assert_int_equal(r.ncommits, 1);            /* the DDL only */
    cdc_stream_destroy(s);
    free(b);

    /* between transactions it is skipped */
    b = patched(AT_CHECKPOINT, 4, 150);
    s = make_stream(&r);
    assert_int_equal(feed(s, b, fixture_len, 0, err, sizeof(err)), 0);
    assert_int_equal(r.nchanges, 9);
    cdc_stream_destroy(s);
    free(b);

    /* damaged zlib data (CRC32 right): an error at that event */
    b = patched(AT_WRITE_COMPRESSED, 19 + 8 + 5, 0x00);
    s = make_stream(&r);
    assert_int_equal(cdc_stream_set_position(s, "binlog.000004", 4, NULL,
                                             NULL), 0);
    assert_int_equal(feed(s, b, fixture_len, 0, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "binlog.000004:762: "
                                "WRITE_ROWS_COMPRESSED_V1 event: "
                                "compressed block"));
    assert_int_equal(r.nchanges, 0);
    cdc_stream_destroy(s);
    free(b);
}


/* without the XID in the XA COMMIT's GTID (MySQL has none there), the
   XA COMMIT X'63',X'',1 statement's text names it */
static void
test_stream_xid_from_text(void **state)
{
    rec_t          r;
    cdc_stream_t  *s;
    char           err[512];
    uint8_t       *b;

    /* GTID 0-1-35: flags2 0x8d (COMPLETED_XA, …) → 0x0d */
    assert_int_equal(fixture[AT_C_COMMIT_GTID + 19 + 12], 0x8d);
    b = patched(AT_C_COMMIT_GTID, 19 + 12, 0x0d);
    s = make_stream(&r);
    assert_int_equal(feed(s, b, fixture_len, 0, err, sizeof(err)), 0);
    assert_int_equal(r.nchanges, 9);
    assert_string_equal(r.changes[6], "c 11 0-1-35 2927");
    assert_int_equal(cdc_stream_stats(s)->xa_committed, 1);
    assert_int_equal(r.notes, 0);
    cdc_stream_destroy(s);
    free(b);
}


int
main(void)
{
    int  rc;

    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_block_good),
        cmocka_unit_test(test_block_bad),
        cmocka_unit_test(test_rows_event_rebuilt),
        cmocka_unit_test(test_type_names),
        cmocka_unit_test(test_stream_compressed_and_xa),
        cmocka_unit_test(test_stream_unknown_and_damaged),
        cmocka_unit_test(test_stream_xid_from_text),
    };

    load_fixture();
    rc = cmocka_run_group_tests_name("binlog compressed and XA", tests,
                                     NULL, NULL);
    free(fixture);
    return rc;
}
