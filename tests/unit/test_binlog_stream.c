/*
 * The stream processor (source/stream.c) over real binlogs: commit
 * positions (after the XID, after a compressed payload), GTIDs and the
 * MariaDB gtid state, ROTATE, the table filter, a callback stopping the
 * stream, and resume positions.  Skipped without the shared test data.
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

#include "binlog/binlog.h"
#include "source/stream.h"


static char  testdata[1024];


typedef struct {
    unsigned           commits;
    cdc_stream_pos_t   pos[16];
    unsigned           rows;
    char               ops[64];
    int                stop_after;     /* emit returns -1 after n rows */
    int                want_db;        /* filter answer */
    unsigned           filtered;
    uint64_t           xid_end[16];    /* log_pos of each XID seen */
    unsigned           nxid;
} rec_t;


static int
rec_emit(void *data, const cdc_stream_change_t *c)
{
    rec_t  *r = data;

    if (r->rows < sizeof(r->ops) - 1) {
        r->ops[r->rows] = c->op;
    }
    r->rows++;
    return (r->stop_after && (int) r->rows >= r->stop_after) ? -1 : 0;
}


static int
rec_commit(void *data, const cdc_stream_pos_t *pos)
{
    rec_t  *r = data;

    if (r->commits < 16) {
        r->pos[r->commits] = *pos;
    }
    r->commits++;
    return 0;
}


static int
rec_filter(void *data, const char *db, const char *table)
{
    rec_t  *r = data;

    r->filtered++;
    return r->want_db;
}


static int
have_testdata(void)
{
    char  p[1100];

    snprintf(p, sizeof(p), "%s/binlogs/README.md", testdata);
    return access(p, R_OK) == 0;
}


#define NEED_TESTDATA()                                                      \
    do {                                                                     \
        if (!have_testdata()) {                                              \
            print_message("testdata not found at %s: skipped\n", testdata);  \
            skip();                                                          \
        }                                                                    \
    } while (0)


/* feeds a whole file; returns cdc_stream_feed's first failure or 0 */
static int
feed_file(cdc_stream_t *s, const char *name, rec_t *r, char *err,
    size_t errlen)
{
    char                 p[1100];
    cdc_binlog_file_t   *f;
    const uint8_t       *ev;
    size_t               len;
    uint64_t             off;
    int                  rc;

    snprintf(p, sizeof(p), "%s/binlogs/%s", testdata, name);
    f = cdc_binlog_file_open(p, err, errlen);
    assert_non_null(f);

    rc = 0;
    while (cdc_binlog_file_next(f, &ev, &len, &off, err, errlen) == 1) {
        if (ev[4] == CDC_BL_XID && r->nxid < 16) {
            r->xid_end[r->nxid++] = (uint64_t) ev[13] | (uint64_t) ev[14] << 8
                                    | (uint64_t) ev[15] << 16
                                    | (uint64_t) ev[16] << 24;
        }
        rc = cdc_stream_feed(s, ev, len, err, errlen);
        if (rc != 0) {
            break;
        }
    }

    cdc_binlog_file_close(f);
    return rc;
}


static cdc_stream_t *
make(rec_t *r, int filter)
{
    cdc_stream_opts_t   o;
    cdc_stream_t       *s;
    char                err[256];

    memset(&o, 0, sizeof(o));
    o.topic_prefix = "p";
    o.emit = rec_emit;
    o.commit = rec_commit;
    o.filter = filter ? rec_filter : NULL;
    o.data = r;
    o.verify_checksum = 1;
    s = cdc_stream_create(&o, err, sizeof(err));
    assert_non_null(s);
    return s;
}


static void
test_mariadb_commits(void **state)
{
    rec_t          r;
    cdc_stream_t  *s;
    char           err[512];

    NEED_TESTDATA();
    memset(&r, 0, sizeof(r));
    s = make(&r, 0);
    assert_int_equal(cdc_stream_set_position(s, "rmc_mariadb-bin.000001", 4,
                                             NULL, NULL), 0);
    assert_int_equal(feed_file(s, "rmc_mariadb-bin.000001", &r, err,
                               sizeof(err)), 0);

    assert_int_equal(r.rows, 2);
    assert_int_equal(r.commits, 2);
    assert_int_equal(r.nxid, 2);

    /* the checkpoint is the end of the XID, with that transaction's GTID */
    assert_int_equal(r.pos[0].pos, r.xid_end[0]);
    assert_string_equal(r.pos[0].gtid, "0-1-1");
    assert_string_equal(r.pos[0].file, "rmc_mariadb-bin.000001");
    assert_int_equal(r.pos[1].pos, r.xid_end[1]);
    assert_string_equal(r.pos[1].gtid, "0-1-2");
    assert_string_equal(r.pos[1].gtid_state, "0-1-2");
    assert_int_equal(r.pos[1].ts_ms, 1650493195000ULL);
    assert_int_equal(r.pos[1].server_id, 1);

    assert_memory_equal(cdc_stream_committed(s), &r.pos[1],
                        sizeof(cdc_stream_pos_t));
    assert_int_equal(cdc_stream_stats(s)->rows, 2);
    assert_int_equal(cdc_stream_stats(s)->transactions, 2);
    cdc_stream_destroy(s);
}


static void
test_filter_and_stop(void **state)
{
    rec_t          r;
    cdc_stream_t  *s;
    char           err[512];

    NEED_TESTDATA();

    /* filtered out: no change, rows counted as skipped, commits still */
    memset(&r, 0, sizeof(r));
    r.want_db = 0;
    s = make(&r, 1);
    assert_int_equal(feed_file(s, "rmc_mariadb-bin.000001", &r, err,
                               sizeof(err)), 0);
    assert_int_equal(r.rows, 0);
    assert_true(r.filtered >= 1);
    assert_int_equal(cdc_stream_stats(s)->skipped_rows, 2);
    assert_int_equal(r.commits, 2);
    cdc_stream_destroy(s);

    /* the emit callback stops the stream: the commit is not reported */
    memset(&r, 0, sizeof(r));
    r.stop_after = 1;
    s = make(&r, 0);
    assert_int_equal(feed_file(s, "rmc_mariadb-bin.000001", &r, err,
                               sizeof(err)), -1);
    assert_non_null(strstr(err, "stopped by the emit callback"));
    assert_int_equal(r.commits, 0);
    cdc_stream_destroy(s);
}


static void
test_payload_commit_and_rotate(void **state)
{
    rec_t          r;
    cdc_stream_t  *s;
    char           err[512];

    NEED_TESTDATA();
    memset(&r, 0, sizeof(r));
    s = make(&r, 0);
    assert_int_equal(feed_file(s, "rmc_transaction_compression.000001", &r,
                               err, sizeof(err)), 0);

    /* the XID is inside the payload at offset 274: the commit position is
       the end of the payload event (274 + 157), not 0 or the XID's */
    assert_int_equal(r.rows, 1);
    assert_int_equal(r.commits, 1);
    assert_int_equal(r.pos[0].pos, 274 + 157);
    assert_string_equal(r.pos[0].gtid, "");           /* anonymous */

    /* the final ROTATE moves to the next file */
    assert_int_equal(cdc_stream_position(s)->pos, 4);
    assert_string_not_equal(cdc_stream_position(s)->file, "");
    assert_memory_equal(cdc_stream_position(s)->file, "binlog.", 7);
    cdc_stream_destroy(s);
}


static void
test_resume_and_order(void **state)
{
    rec_t          r;
    cdc_stream_t  *s;
    char           err[512];

    NEED_TESTDATA();

    /* a resume state is parsed and reported back */
    memset(&r, 0, sizeof(r));
    s = make(&r, 0);
    assert_int_equal(cdc_stream_set_position(s, "binlog.000009", 1234,
                                             "1-2-7", "0-1-5,1-2-7"), 0);
    assert_string_equal(cdc_stream_position(s)->gtid_state, "0-1-5,1-2-7");
    assert_string_equal(cdc_stream_committed(s)->file, "binlog.000009");
    assert_int_equal(cdc_stream_committed(s)->pos, 1234);
    assert_int_equal(cdc_stream_set_position(s, NULL, 4, NULL, "bad"), -1);

    /* a MariaDB GTID for domain 0 replaces that domain only */
    assert_int_equal(cdc_stream_set_position(s, "rmc_mariadb-bin.000001", 4,
                                             NULL, "0-1-0,1-2-7"), 0);
    assert_int_equal(feed_file(s, "rmc_mariadb-bin.000001", &r, err,
                               sizeof(err)), 0);
    assert_string_equal(r.pos[1].gtid_state, "0-1-2,1-2-7");
    cdc_stream_destroy(s);

    /* every change in order (vector: eight inserts, id 2 deleted, id 3
       inserted); key changes are covered by test_replay_file.py */
    memset(&r, 0, sizeof(r));
    s = make(&r, 0);
    assert_int_equal(feed_file(s, "rmc_vector.binlog", &r, err,
                               sizeof(err)), 0);
    assert_string_equal(r.ops, "ccccccccdc");
    cdc_stream_destroy(s);
}


int
main(void)
{
    const char  *td;

    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mariadb_commits),
        cmocka_unit_test(test_filter_and_stop),
        cmocka_unit_test(test_payload_commit_and_rotate),
        cmocka_unit_test(test_resume_and_order),
    };

    td = getenv("STRANGLER_TESTDATA");
    snprintf(testdata, sizeof(testdata), "%s",
             td && td[0] ? td : "../shared/testdata");

    return cmocka_run_group_tests_name("binlog stream", tests, NULL, NULL);
}
