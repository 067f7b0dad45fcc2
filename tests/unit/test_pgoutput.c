/*
 * The pgoutput decoder (cdc-bridge/pgoutput/) on hand-built messages:
 * every protocol 1 message type, tuple data (null, unchanged TOAST, text,
 * binary), the CopyData framing and the standby status update, the
 * relation cache, LSN text; every truncation of every message is an
 * error with a message, never a read past the end (ASan).
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pgoutput/pgoutput.h"


typedef struct {
    uint8_t  b[4096];
    size_t   n;
} msg_t;


static void
p8(msg_t *m, unsigned v)
{
    m->b[m->n++] = (uint8_t) v;
}


static void
p16(msg_t *m, unsigned v)
{
    p8(m, v >> 8);
    p8(m, v);
}


static void
p32(msg_t *m, uint32_t v)
{
    p16(m, v >> 16);
    p16(m, v & 0xffff);
}


static void
p64(msg_t *m, uint64_t v)
{
    p32(m, (uint32_t) (v >> 32));
    p32(m, (uint32_t) v);
}


static void
pstr(msg_t *m, const char *s)
{
    memcpy(m->b + m->n, s, strlen(s) + 1);
    m->n += strlen(s) + 1;
}


static void
ptext(msg_t *m, const char *s)
{
    p8(m, 't');
    p32(m, (uint32_t) strlen(s));
    memcpy(m->b + m->n, s, strlen(s));
    m->n += strlen(s);
}


/* Relation 16384 public.items (id int4 key, name text, price numeric) */
static void
relation_items(msg_t *m, uint32_t oid, char ident)
{
    m->n = 0;
    p8(m, 'R');
    p32(m, oid);
    pstr(m, "public");
    pstr(m, "items");
    p8(m, (unsigned) ident);
    p16(m, 3);
    p8(m, 1); pstr(m, "id"); p32(m, 23); p32(m, 0xffffffff);
    p8(m, 0); pstr(m, "name"); p32(m, 25); p32(m, 0xffffffff);
    p8(m, 0); pstr(m, "price"); p32(m, 1700); p32(m, (10 << 16 | 2) + 4);
}


static cdc_pgo_t *
decoder_with_items(void)
{
    cdc_pgo_t      *d;
    cdc_pgo_msg_t   m;
    msg_t           r;
    char            err[256];

    d = cdc_pgo_create(err, sizeof(err));
    assert_non_null(d);
    relation_items(&r, 16384, 'd');
    assert_int_equal(cdc_pgo_decode(d, r.b, r.n, &m, err, sizeof(err)), 0);
    return d;
}


static void
assert_text(const cdc_pgo_value_t *v, const char *s)
{
    assert_int_equal(v->kind, CDC_PGO_TEXT);
    assert_int_equal(v->len, strlen(s));
    assert_memory_equal(v->p, s, strlen(s));
}


/* every proper prefix of m fails with a message; m itself decodes */
static void
assert_truncations_fail(cdc_pgo_t *d, const msg_t *m)
{
    cdc_pgo_msg_t   out;
    uint8_t        *copy;
    char            err[256];
    size_t          len;

    for (len = 0; len < m->n; len++) {
        /* an exact-size heap copy, so ASan sees any read past the end */
        copy = malloc(len ? len : 1);
        assert_non_null(copy);
        memcpy(copy, m->b, len);
        err[0] = '\0';
        if (cdc_pgo_decode(d, copy, len, &out, err, sizeof(err)) != -1) {
            fail_msg("prefix of %zu of %zu bytes decoded", len, m->n);
        }
        assert_true(err[0] != '\0');
        free(copy);
    }

    assert_int_equal(cdc_pgo_decode(d, m->b, m->n, &out, err, sizeof(err)),
                     0);
}


static void
test_begin_commit(void **state)
{
    cdc_pgo_t      *d = decoder_with_items();
    cdc_pgo_msg_t   m;
    msg_t           b = { .n = 0 };
    char            err[256];

    p8(&b, 'B'); p64(&b, 0x16B374D848ull); p64(&b, 123456789); p32(&b, 742);
    assert_int_equal(cdc_pgo_decode(d, b.b, b.n, &m, err, sizeof(err)), 0);
    assert_int_equal(m.type, CDC_PGO_BEGIN);
    assert_true(m.u.begin.final_lsn == 0x16B374D848ull);
    assert_true(m.u.begin.commit_time == 123456789);
    assert_int_equal(m.u.begin.xid, 742);
    assert_truncations_fail(d, &b);

    b.n = 0;
    p8(&b, 'C'); p8(&b, 0); p64(&b, 0x100); p64(&b, 0x1F8);
    p64(&b, (uint64_t) -5);
    assert_int_equal(cdc_pgo_decode(d, b.b, b.n, &m, err, sizeof(err)), 0);
    assert_int_equal(m.type, CDC_PGO_COMMIT);
    assert_true(m.u.commit.commit_lsn == 0x100);
    assert_true(m.u.commit.end_lsn == 0x1F8);
    assert_true(m.u.commit.commit_time == -5);
    assert_truncations_fail(d, &b);

    cdc_pgo_destroy(d);
}


static void
test_origin_type_message(void **state)
{
    cdc_pgo_t      *d = decoder_with_items();
    cdc_pgo_msg_t   m;
    msg_t           b = { .n = 0 };
    char            err[256];

    p8(&b, 'O'); p64(&b, 77); pstr(&b, "pg_16390");
    assert_int_equal(cdc_pgo_decode(d, b.b, b.n, &m, err, sizeof(err)), 0);
    assert_true(m.u.origin.lsn == 77);
    assert_string_equal(m.u.origin.name, "pg_16390");
    assert_truncations_fail(d, &b);

    b.n = 0;
    p8(&b, 'Y'); p32(&b, 90001); pstr(&b, "shop"); pstr(&b, "mood");
    assert_int_equal(cdc_pgo_decode(d, b.b, b.n, &m, err, sizeof(err)), 0);
    assert_int_equal(m.u.type.oid, 90001);
    assert_string_equal(m.u.type.nspname, "shop");
    assert_string_equal(m.u.type.name, "mood");
    assert_truncations_fail(d, &b);

    b.n = 0;
    p8(&b, 'M'); p8(&b, 1); p64(&b, 0x42); pstr(&b, "strangler");
    p32(&b, 3); p8(&b, 'a'); p8(&b, 0); p8(&b, 'c');
    assert_int_equal(cdc_pgo_decode(d, b.b, b.n, &m, err, sizeof(err)), 0);
    assert_int_equal(m.u.message.flags, CDC_PGO_MSG_TRANSACTIONAL);
    assert_true(m.u.message.lsn == 0x42);
    assert_string_equal(m.u.message.prefix, "strangler");
    assert_int_equal(m.u.message.len, 3);
    assert_memory_equal(m.u.message.content, "a\0c", 3);
    assert_truncations_fail(d, &b);

    cdc_pgo_destroy(d);
}


static void
test_relation(void **state)
{
    cdc_pgo_t                 *d;
    cdc_pgo_msg_t              m;
    const cdc_pgo_relation_t  *r;
    msg_t                      b;
    char                       err[256];

    d = cdc_pgo_create(err, sizeof(err));
    relation_items(&b, 16384, 'f');
    assert_truncations_fail(d, &b);
    assert_int_equal(cdc_pgo_decode(d, b.b, b.n, &m, err, sizeof(err)), 0);
    assert_int_equal(m.type, CDC_PGO_RELATION);

    r = cdc_pgo_relation(d, 16384);
    assert_ptr_equal(r, m.u.relation);
    assert_int_equal(r->oid, 16384);
    assert_string_equal(r->nspname, "public");
    assert_string_equal(r->relname, "items");
    assert_int_equal(r->replident, CDC_PGO_IDENT_FULL);
    assert_int_equal(r->ncols, 3);
    assert_string_equal(r->cols[0].name, "id");
    assert_int_equal(r->cols[0].flags, CDC_PGO_COL_KEY);
    assert_int_equal(r->cols[0].type_oid, 23);
    assert_int_equal(r->cols[0].typmod, -1);
    assert_string_equal(r->cols[2].name, "price");
    assert_int_equal(r->cols[2].flags, 0);
    assert_int_equal(r->cols[2].type_oid, 1700);
    assert_int_equal(r->cols[2].typmod, (10 << 16 | 2) + 4);
    assert_int_equal(cdc_pgo_relation_count(d), 1);
    assert_null(cdc_pgo_relation(d, 16385));

    /* an unknown replica identity */
    relation_items(&b, 16384, 'x');
    assert_int_equal(cdc_pgo_decode(d, b.b, b.n, &m, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "unknown replica identity 0x78"));
    assert_non_null(strstr(err, "public.items"));

    /* a schema change replaces the entry for the OID */
    b.n = 0;
    p8(&b, 'R'); p32(&b, 16384); pstr(&b, "public"); pstr(&b, "items");
    p8(&b, 'd'); p16(&b, 1);
    p8(&b, 1); pstr(&b, "sku"); p32(&b, 1043); p32(&b, 24);
    assert_int_equal(cdc_pgo_decode(d, b.b, b.n, &m, err, sizeof(err)), 0);
    r = cdc_pgo_relation(d, 16384);
    assert_int_equal(r->ncols, 1);
    assert_string_equal(r->cols[0].name, "sku");
    assert_int_equal(cdc_pgo_relation_count(d), 1);

    cdc_pgo_destroy(d);
}


static void
test_relation_cache_grows(void **state)
{
    cdc_pgo_t      *d;
    cdc_pgo_msg_t   m;
    msg_t           b;
    char            err[256];
    uint32_t        oid;

    d = cdc_pgo_create(err, sizeof(err));
    for (oid = 1; oid <= 1000; oid++) {
        relation_items(&b, oid * 7919u, 'd');
        assert_int_equal(cdc_pgo_decode(d, b.b, b.n, &m, err, sizeof(err)),
                         0);
    }
    assert_int_equal(cdc_pgo_relation_count(d), 1000);
    for (oid = 1; oid <= 1000; oid++) {
        assert_non_null(cdc_pgo_relation(d, oid * 7919u));
        assert_int_equal(cdc_pgo_relation(d, oid * 7919u)->oid, oid * 7919u);
    }
    assert_null(cdc_pgo_relation(d, 7918));
    cdc_pgo_destroy(d);
}


static void
test_insert(void **state)
{
    cdc_pgo_t      *d = decoder_with_items();
    cdc_pgo_msg_t   m;
    msg_t           b = { .n = 0 };
    char            err[256];

    p8(&b, 'I'); p32(&b, 16384); p8(&b, 'N'); p16(&b, 3);
    ptext(&b, "42"); p8(&b, 'n'); p8(&b, 'b'); p32(&b, 2); p16(&b, 0xfffe);
    assert_int_equal(cdc_pgo_decode(d, b.b, b.n, &m, err, sizeof(err)), 0);
    assert_int_equal(m.type, CDC_PGO_INSERT);
    assert_string_equal(m.u.change.rel->relname, "items");
    assert_int_equal(m.u.change.old_kind, 0);
    assert_int_equal(m.u.change.new.ncols, 3);
    assert_text(&m.u.change.new.cols[0], "42");
    assert_int_equal(m.u.change.new.cols[1].kind, CDC_PGO_NULL);
    assert_int_equal(m.u.change.new.cols[2].kind, CDC_PGO_BINARY);
    assert_int_equal(m.u.change.new.cols[2].len, 2);
    assert_memory_equal(m.u.change.new.cols[2].p, "\xff\xfe", 2);
    assert_truncations_fail(d, &b);

    /* an empty text value */
    b.n = 0;
    p8(&b, 'I'); p32(&b, 16384); p8(&b, 'N'); p16(&b, 3);
    ptext(&b, "1"); ptext(&b, ""); ptext(&b, "0.50");
    assert_int_equal(cdc_pgo_decode(d, b.b, b.n, &m, err, sizeof(err)), 0);
    assert_text(&m.u.change.new.cols[1], "");
    assert_text(&m.u.change.new.cols[2], "0.50");

    cdc_pgo_destroy(d);
}


static void
test_update(void **state)
{
    cdc_pgo_t      *d = decoder_with_items();
    cdc_pgo_msg_t   m;
    msg_t           b = { .n = 0 };
    char            err[256];

    /* no old tuple; the TOASTed column unchanged */
    p8(&b, 'U'); p32(&b, 16384); p8(&b, 'N'); p16(&b, 3);
    ptext(&b, "1"); p8(&b, 'u'); ptext(&b, "9.99");
    assert_int_equal(cdc_pgo_decode(d, b.b, b.n, &m, err, sizeof(err)), 0);
    assert_int_equal(m.type, CDC_PGO_UPDATE);
    assert_int_equal(m.u.change.old_kind, 0);
    assert_int_equal(m.u.change.new.cols[1].kind, CDC_PGO_UNCHANGED);
    assert_truncations_fail(d, &b);

    /* the key changed: old key, then the new row */
    b.n = 0;
    p8(&b, 'U'); p32(&b, 16384);
    p8(&b, 'K'); p16(&b, 3); ptext(&b, "1"); p8(&b, 'n'); p8(&b, 'n');
    p8(&b, 'N'); p16(&b, 3); ptext(&b, "2"); ptext(&b, "x"); p8(&b, 'n');
    assert_int_equal(cdc_pgo_decode(d, b.b, b.n, &m, err, sizeof(err)), 0);
    assert_int_equal(m.u.change.old_kind, 'K');
    assert_text(&m.u.change.old.cols[0], "1");
    assert_int_equal(m.u.change.old.cols[1].kind, CDC_PGO_NULL);
    assert_text(&m.u.change.new.cols[0], "2");
    assert_text(&m.u.change.new.cols[1], "x");
    assert_true(m.u.change.old.cols != m.u.change.new.cols);
    assert_truncations_fail(d, &b);

    /* replica identity full: the old row */
    b.n = 0;
    p8(&b, 'U'); p32(&b, 16384);
    p8(&b, 'O'); p16(&b, 3); ptext(&b, "1"); ptext(&b, "a"); ptext(&b, "1");
    p8(&b, 'N'); p16(&b, 3); ptext(&b, "1"); ptext(&b, "b"); ptext(&b, "1");
    assert_int_equal(cdc_pgo_decode(d, b.b, b.n, &m, err, sizeof(err)), 0);
    assert_int_equal(m.u.change.old_kind, 'O');
    assert_text(&m.u.change.old.cols[1], "a");
    assert_text(&m.u.change.new.cols[1], "b");
    assert_truncations_fail(d, &b);

    /* an old tuple and no new one */
    b.n = 0;
    p8(&b, 'U'); p32(&b, 16384);
    p8(&b, 'K'); p16(&b, 3); ptext(&b, "1"); p8(&b, 'n'); p8(&b, 'n');
    p8(&b, 'K');
    assert_int_equal(cdc_pgo_decode(d, b.b, b.n, &m, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "unexpected tuple tag 0x4b"));

    cdc_pgo_destroy(d);
}


static void
test_delete_truncate(void **state)
{
    cdc_pgo_t      *d = decoder_with_items();
    cdc_pgo_msg_t   m;
    msg_t           b = { .n = 0 };
    char            err[256];

    p8(&b, 'D'); p32(&b, 16384);
    p8(&b, 'K'); p16(&b, 3); ptext(&b, "7"); p8(&b, 'n'); p8(&b, 'n');
    assert_int_equal(cdc_pgo_decode(d, b.b, b.n, &m, err, sizeof(err)), 0);
    assert_int_equal(m.type, CDC_PGO_DELETE);
    assert_int_equal(m.u.change.old_kind, 'K');
    assert_text(&m.u.change.old.cols[0], "7");
    assert_truncations_fail(d, &b);

    /* a Delete with a new tuple */
    b.n = 0;
    p8(&b, 'D'); p32(&b, 16384);
    p8(&b, 'N'); p16(&b, 3); ptext(&b, "7"); p8(&b, 'n'); p8(&b, 'n');
    assert_int_equal(cdc_pgo_decode(d, b.b, b.n, &m, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "Delete of public.items"));
    assert_non_null(strstr(err, "unexpected tuple tag 0x4e"));

    b.n = 0;
    p8(&b, 'T'); p32(&b, 2); p8(&b, CDC_PGO_TRUNC_CASCADE);
    p32(&b, 16384); p32(&b, 99);
    assert_int_equal(cdc_pgo_decode(d, b.b, b.n, &m, err, sizeof(err)), 0);
    assert_int_equal(m.type, CDC_PGO_TRUNCATE);
    assert_int_equal(m.u.truncate.options, CDC_PGO_TRUNC_CASCADE);
    assert_int_equal(m.u.truncate.nrels, 2);
    assert_int_equal(m.u.truncate.oids[0], 16384);
    assert_int_equal(m.u.truncate.oids[1], 99);
    assert_truncations_fail(d, &b);

    /* a relation count the bytes cannot hold */
    b.n = 0;
    p8(&b, 'T'); p32(&b, 0xffffffff); p8(&b, 0); p32(&b, 1);
    assert_int_equal(cdc_pgo_decode(d, b.b, b.n, &m, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "Truncate: truncated"));

    cdc_pgo_destroy(d);
}


static void
test_errors(void **state)
{
    cdc_pgo_t      *d = decoder_with_items();
    cdc_pgo_msg_t   m;
    msg_t           b = { .n = 0 };
    char            err[256];

    p8(&b, 'Z');
    assert_int_equal(cdc_pgo_decode(d, b.b, b.n, &m, err, sizeof(err)), -1);
    assert_string_equal(err, "pgoutput: unknown message type 0x5a");

    /* protocol 2's stream messages are not protocol 1 */
    b.n = 0;
    p8(&b, 'S'); p32(&b, 1); p8(&b, 1);
    assert_int_equal(cdc_pgo_decode(d, b.b, b.n, &m, err, sizeof(err)), -1);
    assert_string_equal(err, "pgoutput: unknown message type 0x53");

    b.n = 0;
    p8(&b, 'I'); p32(&b, 5); p8(&b, 'N'); p16(&b, 0);
    assert_int_equal(cdc_pgo_decode(d, b.b, b.n, &m, err, sizeof(err)), -1);
    assert_string_equal(err, "pgoutput Insert: relation OID 5 was not "
                        "described by a Relation message");

    b.n = 0;
    p8(&b, 'I'); p32(&b, 16384); p8(&b, 'N'); p16(&b, 2);
    ptext(&b, "1"); ptext(&b, "2");
    assert_int_equal(cdc_pgo_decode(d, b.b, b.n, &m, err, sizeof(err)), -1);
    assert_string_equal(err, "pgoutput Insert of public.items at offset 6: "
                        "tuple has 2 columns, the relation 3");

    b.n = 0;
    p8(&b, 'I'); p32(&b, 16384); p8(&b, 'N'); p16(&b, 3);
    ptext(&b, "1"); p8(&b, 'x');
    assert_int_equal(cdc_pgo_decode(d, b.b, b.n, &m, err, sizeof(err)), -1);
    assert_string_equal(err, "pgoutput Insert of public.items at offset 14: "
                        "column \"name\" has unknown kind 0x78");

    b.n = 0;
    p8(&b, 'I'); p32(&b, 16384); p8(&b, 'K');
    assert_int_equal(cdc_pgo_decode(d, b.b, b.n, &m, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "unexpected tuple tag 0x4b"));

    b.n = 0;
    p8(&b, 'B'); p64(&b, 1); p64(&b, 2); p32(&b, 3); p8(&b, 0);
    assert_int_equal(cdc_pgo_decode(d, b.b, b.n, &m, err, sizeof(err)), -1);
    assert_string_equal(err, "pgoutput Begin: 1 bytes left over at "
                        "offset 21");

    /* a text length past the end */
    b.n = 0;
    p8(&b, 'I'); p32(&b, 16384); p8(&b, 'N'); p16(&b, 3);
    p8(&b, 't'); p32(&b, 0x7fffffff); p8(&b, 'a');
    assert_int_equal(cdc_pgo_decode(d, b.b, b.n, &m, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "reading a column's value"));

    assert_int_equal(cdc_pgo_decode(d, b.b, 0, &m, err, sizeof(err)), -1);
    assert_string_equal(err, "pgoutput: empty message");

    cdc_pgo_destroy(d);
}


static void
test_copy_framing(void **state)
{
    cdc_pgo_copy_t   c;
    msg_t            b = { .n = 0 };
    uint8_t         *copy;
    char             err[256];
    size_t           len;

    p8(&b, 'w'); p64(&b, 0x1000); p64(&b, 0x2000); p64(&b, 555);
    p8(&b, 'B'); p8(&b, 'x');
    assert_int_equal(cdc_pgo_copy_parse(&c, b.b, b.n, err, sizeof(err)), 0);
    assert_int_equal(c.kind, 'w');
    assert_true(c.start_lsn == 0x1000 && c.end_lsn == 0x2000);
    assert_true(c.send_time == 555);
    assert_int_equal(c.len, 2);
    assert_ptr_equal(c.data, b.b + 25);

    for (len = 0; len < 25; len++) {
        copy = malloc(len ? len : 1);
        memcpy(copy, b.b, len);
        assert_int_equal(cdc_pgo_copy_parse(&c, copy, len, err,
                                            sizeof(err)), -1);
        free(copy);
    }
    assert_string_equal(err, "replication stream: XLogData header "
                        "truncated at 24 of 25 bytes");

    b.n = 0;
    p8(&b, 'k'); p64(&b, 0xABCDEF); p64(&b, 9); p8(&b, 1);
    assert_int_equal(cdc_pgo_copy_parse(&c, b.b, b.n, err, sizeof(err)), 0);
    assert_int_equal(c.kind, 'k');
    assert_true(c.end_lsn == 0xABCDEF && c.send_time == 9);
    assert_int_equal(c.reply, 1);
    for (len = 0; len < b.n; len++) {
        copy = malloc(len ? len : 1);
        memcpy(copy, b.b, len);
        assert_int_equal(cdc_pgo_copy_parse(&c, copy, len, err,
                                            sizeof(err)), -1);
        free(copy);
    }

    b.b[17] = 2;
    assert_int_equal(cdc_pgo_copy_parse(&c, b.b, b.n, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "reply flag 2"));

    b.b[0] = 'd';
    assert_int_equal(cdc_pgo_copy_parse(&c, b.b, b.n, err, sizeof(err)), -1);
    assert_string_equal(err, "replication stream: unknown CopyData message "
                        "type 0x64");
}


static void
test_status_update(void **state)
{
    uint8_t  out[CDC_PGO_STATUS_LEN];
    msg_t    want = { .n = 0 };

    p8(&want, 'r');
    p64(&want, 0x0102030405060708ull);
    p64(&want, 0x10);
    p64(&want, 0x20);
    p64(&want, (uint64_t) -1);
    p8(&want, 1);

    assert_int_equal(cdc_pgo_status_build(out, 0x0102030405060708ull, 0x10,
                                          0x20, -1, 7), 34);
    assert_int_equal(want.n, 34);
    assert_memory_equal(out, want.b, 34);

    assert_true(cdc_pgo_time_to_unix_us(cdc_pgo_time_from_unix_us(42)) == 42);
    assert_true(cdc_pgo_time_from_unix_us(946684800000000LL) == 0);
}


static void
test_lsn_text(void **state)
{
    uint64_t  lsn;
    char      s[CDC_PGO_LSN_STRLEN], err[256];

    assert_int_equal(cdc_pgo_lsn_parse("16/B374D848", &lsn, err,
                                       sizeof(err)), 0);
    assert_true(lsn == 0x16B374D848ull);
    cdc_pgo_lsn_format(lsn, s);
    assert_string_equal(s, "16/B374D848");

    cdc_pgo_lsn_format(0, s);
    assert_string_equal(s, "0/0");
    cdc_pgo_lsn_format((uint64_t) -1, s);
    assert_string_equal(s, "FFFFFFFF/FFFFFFFF");
    assert_int_equal(cdc_pgo_lsn_parse(s, &lsn, err, sizeof(err)), 0);
    assert_true(lsn == (uint64_t) -1);

    assert_int_equal(cdc_pgo_lsn_parse("0/16b3748", &lsn, err, sizeof(err)),
                     0);
    assert_true(lsn == 0x16b3748);

    assert_int_equal(cdc_pgo_lsn_parse("16B374D848", &lsn, err,
                                       sizeof(err)), -1);
    assert_string_equal(err, "invalid LSN \"16B374D848\" (expected hex/hex, "
                        "e.g. 0/16B3748)");
    assert_int_equal(cdc_pgo_lsn_parse("/1", &lsn, err, sizeof(err)), -1);
    assert_int_equal(cdc_pgo_lsn_parse("1/", &lsn, err, sizeof(err)), -1);
    assert_int_equal(cdc_pgo_lsn_parse("1/g", &lsn, err, sizeof(err)), -1);
    assert_int_equal(cdc_pgo_lsn_parse("1/123456789", &lsn, err,
                                       sizeof(err)), -1);
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_begin_commit),
        cmocka_unit_test(test_origin_type_message),
        cmocka_unit_test(test_relation),
        cmocka_unit_test(test_relation_cache_grows),
        cmocka_unit_test(test_insert),
        cmocka_unit_test(test_update),
        cmocka_unit_test(test_delete_truncate),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_copy_framing),
        cmocka_unit_test(test_status_update),
        cmocka_unit_test(test_lsn_text),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
