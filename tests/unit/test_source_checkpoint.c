/*
 * The source's acknowledgement tracker and checkpoint file: a position
 * becomes safe only when every event before it is acknowledged, in any
 * delivery order; a failed delivery is never passed; the file survives a
 * round trip and a missing file means "no checkpoint".
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "source/source.h"


static cdc_src_pos_t
pos_at(uint64_t p)
{
    cdc_src_pos_t  pos;

    memset(&pos, 0, sizeof(pos));
    snprintf(pos.file, sizeof(pos.file), "binlog.000001");
    pos.pos = p;
    snprintf(pos.gtid, sizeof(pos.gtid), "0-1-%llu", (unsigned long long) p);

    return pos;
}


static void
test_commit_waits_for_every_ack(void **state)
{
    cdc_acks_t     a;
    cdc_src_pos_t  p;
    uint64_t       s1, s2, s3;

    assert_int_equal(cdc_acks_init(&a, 1024, 64), 0);

    s1 = cdc_acks_take(&a);
    s2 = cdc_acks_take(&a);
    p = pos_at(100);
    assert_int_equal(cdc_acks_commit(&a, &p, 1), 0);
    s3 = cdc_acks_take(&a);
    p = pos_at(200);
    assert_int_equal(cdc_acks_commit(&a, &p, 2), 0);

    assert_int_equal(cdc_acks_inflight(&a), 3);

    /* out of order: 2 and 3 first: nothing is safe yet */
    cdc_acks_delivered(&a, s2, 1, NULL);
    cdc_acks_delivered(&a, s3, 1, NULL);
    assert_int_equal(cdc_acks_advance(&a), 0);
    assert_false(a.have_safe);

    cdc_acks_delivered(&a, s1, 1, NULL);
    assert_int_equal(cdc_acks_advance(&a), 1);
    assert_true(a.have_safe);
    assert_int_equal(a.safe.pos, 200);
    assert_int_equal(cdc_acks_inflight(&a), 0);

    cdc_acks_free(&a);
}


static void
test_failure_is_never_passed(void **state)
{
    cdc_acks_t     a;
    cdc_src_pos_t  p;
    uint64_t       s1, s2;

    assert_int_equal(cdc_acks_init(&a, 1024, 64), 0);

    s1 = cdc_acks_take(&a);
    p = pos_at(100);
    cdc_acks_commit(&a, &p, 1);
    s2 = cdc_acks_take(&a);
    p = pos_at(200);
    cdc_acks_commit(&a, &p, 2);

    cdc_acks_delivered(&a, s1, 1, NULL);
    cdc_acks_delivered(&a, s2, 0, "broker said no");
    cdc_acks_advance(&a);

    assert_int_equal(a.safe.pos, 100);
    assert_int_equal(a.failed, s2);
    assert_string_equal(a.failed_why, "broker said no");

    cdc_acks_free(&a);
}


static void
test_window_is_bounded(void **state)
{
    cdc_acks_t  a;
    uint64_t    i, first;

    assert_int_equal(cdc_acks_init(&a, 128, 64), 0);

    first = cdc_acks_take(&a);
    for (i = 1; i < 128; i++) {
        (void) cdc_acks_take(&a);
    }

    /* the oldest is still out: no room for more */
    for (i = first + 1; i <= 128; i++) {
        cdc_acks_delivered(&a, i, 1, NULL);
    }
    assert_int_equal(cdc_acks_room(&a), 0);

    cdc_acks_delivered(&a, first, 1, NULL);
    assert_int_equal(a.done, 128);
    assert_true(cdc_acks_room(&a) > 0);

    cdc_acks_free(&a);
}


static void
test_commits_without_events_coalesce(void **state)
{
    cdc_acks_t     a;
    cdc_src_pos_t  p;
    uint64_t       i, s;

    assert_int_equal(cdc_acks_init(&a, 1024, 4), 0);

    s = cdc_acks_take(&a);

    /* many transactions of unwanted tables: one pending entry */
    for (i = 0; i < 1000; i++) {
        p = pos_at(1000 + i);
        assert_int_equal(cdc_acks_commit(&a, &p, 1), 0);
    }

    assert_int_equal(a.ccount, 1);
    cdc_acks_delivered(&a, s, 1, NULL);
    cdc_acks_advance(&a);
    assert_int_equal(a.safe.pos, 1999);

    /* nothing in flight: safe at once */
    p = pos_at(5000);
    cdc_acks_commit(&a, &p, 1);
    assert_int_equal(a.safe.pos, 5000);

    cdc_acks_free(&a);
}


static void
test_checkpoint_round_trip(void **state)
{
    char              dir[] = "/tmp/cdc-ckpt-XXXXXX", err[512], path[600];
    char             *key[2] = { "42", "'a''b'" };
    cdc_checkpoint_t  ck, back;

    assert_non_null(mkdtemp(dir));

    assert_int_equal(cdc_checkpoint_load(dir, &back, err, sizeof(err)), 0);
    assert_false(back.valid);

    memset(&ck, 0, sizeof(ck));
    ck.pos = pos_at(4242);
    ck.snap_state = CDC_SNAP_RUNNING;
    ck.snap_pos = pos_at(4);
    assert_int_equal(cdc_checkpoint_add_done(&ck, "shop.a"), 0);
    assert_int_equal(cdc_checkpoint_set_snap(&ck, "shop.b", key, 2), 0);

    assert_int_equal(cdc_checkpoint_save(dir, &ck, err, sizeof(err)), 0);
    assert_int_equal(cdc_checkpoint_load(dir, &back, err, sizeof(err)), 0);

    assert_true(back.valid);
    assert_string_equal(back.pos.file, "binlog.000001");
    assert_int_equal(back.pos.pos, 4242);
    assert_string_equal(back.pos.gtid, "0-1-4242");
    assert_int_equal(back.snap_state, CDC_SNAP_RUNNING);
    assert_int_equal(back.snap_pos.pos, 4);
    assert_true(cdc_checkpoint_is_done(&back, "shop.a"));
    assert_false(cdc_checkpoint_is_done(&back, "shop.b"));
    assert_string_equal(back.snap_table, "shop.b");
    assert_int_equal(back.snap_nkey, 2);
    assert_string_equal(back.snap_key[1], "'a''b'");

    cdc_checkpoint_free(&ck);
    cdc_checkpoint_free(&back);

    snprintf(path, sizeof(path), "%s/checkpoint.json", dir);
    unlink(path);

    /* a corrupt file is an error naming it, never "no checkpoint" */
    {
        FILE  *f = fopen(path, "w");

        assert_non_null(f);
        fputs("{\"version\":1, \"position\": {", f);
        fclose(f);
    }

    assert_int_equal(cdc_checkpoint_load(dir, &back, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "checkpoint.json"));
    cdc_checkpoint_free(&back);

    unlink(path);
    rmdir(dir);
}


static void
test_checkpoint_unwritable_dir(void **state)
{
    char              err[512];
    cdc_checkpoint_t  ck;

    memset(&ck, 0, sizeof(ck));
    ck.pos = pos_at(10);

    assert_int_equal(cdc_checkpoint_save("/nonexistent/cdc", &ck, err,
                                         sizeof(err)), -1);
    assert_non_null(strstr(err, "/nonexistent/cdc"));
}


static void
test_parse_start(void **state)
{
    cdc_src_pos_t  p;
    char           err[512];

    assert_int_equal(cdc_source_parse_pos("0-1-42", &p, err, sizeof(err)),
                     0);
    assert_string_equal(p.gtid, "0-1-42");
    assert_string_equal(p.file, "");

    assert_int_equal(cdc_source_parse_pos("binlog.000003:1234", &p, err,
                                          sizeof(err)), 0);
    assert_string_equal(p.file, "binlog.000003");
    assert_int_equal(p.pos, 1234);
    assert_string_equal(p.gtid, "");

    assert_int_equal(cdc_source_parse_pos("binlog.000003:x", &p, err,
                                          sizeof(err)), -1);
    assert_non_null(strstr(err, "binlog.000003:x"));

    assert_int_equal(cdc_source_parse_pos(
        "3E11FA47-71CA-11E1-9E33-C80AA9429562:23", &p, err, sizeof(err)),
        -1);
    assert_non_null(strstr(err, "not supported"));

    assert_int_equal(cdc_source_parse_pos(
        "3E11FA47-71CA-11E1-9E33-C80AA9429562:1-42", &p, err, sizeof(err)),
        -1);
    assert_non_null(strstr(err, "not supported"));

    assert_int_equal(cdc_source_parse_pos("binlog.000001:3", &p, err,
                                          sizeof(err)), -1);
    assert_non_null(strstr(err, "at least 4"));
}


/* each refused by name: never retried against the server, never wrapped */
static void
test_parse_start_malformed(void **state)
{
    size_t         i;
    cdc_src_pos_t  p;
    char           err[512];

    static const char  *bad[] = {
        "0-1", "0-1-", "0-1-5,,", "0-1-5,", ",0-1-5", "0-1-5,,1-1-2",
        "0-1-5 1-1-2", "0--1-5", "0-1-5-6", "-0-1-5",
        "0-1-18446744073709551616",             /* 2^64 */
        "0-1-99999999999999999999999",
        "4294967296-1-5", "0-4294967296-5",
        "0-1-5,0-2-6",                           /* domain 0 twice */
        "binlog.000001:4294967300",              /* would wrap to 4 */
        "binlog.000001:18446744073709551620",
        "binlog.000001:-1", "binlog.000001: 4", "binlog.000001:+4",
        "binlog.000001:", ":4", "bin log:4",
    };

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        if (cdc_source_parse_pos(bad[i], &p, err, sizeof(err)) != -1) {
            fail_msg("\"%s\" was accepted", bad[i]);
        }
        if (strstr(err, bad[i]) == NULL) {
            fail_msg("error for \"%s\" does not name it: %s", bad[i], err);
        }
    }

    assert_int_equal(cdc_source_parse_pos("0-1-5, 1-2-18446744073709551615",
                                          &p, err, sizeof(err)), 0);
    assert_int_equal(cdc_source_parse_pos("binlog.000001:4294967295", &p,
                                          err, sizeof(err)), 0);
    assert_int_equal(p.pos, 4294967295u);
}


static void
write_checkpoint(const char *dir, const char *text)
{
    char   path[600];
    FILE  *f;

    snprintf(path, sizeof(path), "%s/checkpoint.json", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}


/* a checkpoint that would resume somewhere else is refused, by value */
static void
test_checkpoint_malformed(void **state)
{
    char              dir[] = "/tmp/cdc-ckpt-XXXXXX", err[1024], path[600];
    size_t            i;
    cdc_checkpoint_t  ck;

    static const struct {
        const char  *position;
        const char  *named;
    } bad[] = {
        { "{\"file\":\"binlog.000001\",\"pos\":\"abc\",\"gtid\":\"\"}",
          "\"abc\"" },
        { "{\"file\":\"binlog.000001\",\"gtid\":\"\"}", "binlog.000001" },
        { "{\"file\":\"binlog.000001\",\"pos\":4294967300,\"gtid\":\"\"}",
          "4294967300" },
        { "{\"file\":\"binlog.000001\",\"pos\":-5,\"gtid\":\"\"}", "-5" },
        { "{\"file\":\"binlog.000001\",\"pos\":1.5,\"gtid\":\"\"}", "1.5" },
        { "{\"file\":7,\"pos\":4,\"gtid\":\"\"}", "7" },
        { "{\"file\":\"\",\"pos\":0,\"gtid\":\"0-1-\"}", "0-1-" },
        { "{\"file\":\"\",\"pos\":0,\"gtid\":\"0-1-5,,\"}", "0-1-5,," },
        { "{\"file\":\"\",\"pos\":0,\"gtid\":\"0-1-99999999999999999999\"}",
          "0-1-99999999999999999999" },
        { "\"binlog.000001:4\"", "binlog.000001:4" },
    };

    assert_non_null(mkdtemp(dir));

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char  text[1024];

        snprintf(text, sizeof(text), "{\"version\":1,\"position\":%s,"
                 "\"snapshot\":{\"state\":\"done\"}}", bad[i].position);
        write_checkpoint(dir, text);

        err[0] = '\0';
        if (cdc_checkpoint_load(dir, &ck, err, sizeof(err)) != -1) {
            fail_msg("accepted %s", bad[i].position);
        }
        if (strstr(err, bad[i].named) == NULL
            || strstr(err, "checkpoint.json") == NULL)
        {
            fail_msg("error for %s does not name %s and the file: %s",
                     bad[i].position, bad[i].named, err);
        }
        cdc_checkpoint_free(&ck);
    }

    /* the snapshot's position is checked the same way */
    write_checkpoint(dir, "{\"version\":1,\"position\":{\"file\":\"b.1\","
                     "\"pos\":4,\"gtid\":\"\"},\"snapshot\":{\"state\":"
                     "\"running\",\"position\":{\"file\":\"b.1\",\"pos\":"
                     "\"x\",\"gtid\":\"\"}}}");
    assert_int_equal(cdc_checkpoint_load(dir, &ck, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "snapshot position"));
    cdc_checkpoint_free(&ck);

    /* a good one still loads */
    write_checkpoint(dir, "{\"version\":1,\"position\":{\"file\":\"b.1\","
                     "\"pos\":4294967295,\"gtid\":\"0-1-5,1-1-7\"}}");
    assert_int_equal(cdc_checkpoint_load(dir, &ck, err, sizeof(err)), 0);
    assert_int_equal(ck.pos.pos, 4294967295u);
    cdc_checkpoint_free(&ck);

    /* checkpoint.json a directory: refused when loading, by name */
    snprintf(path, sizeof(path), "%s/checkpoint.json", dir);
    unlink(path);
    assert_int_equal(mkdir(path, 0755), 0);
    assert_int_equal(cdc_checkpoint_load(dir, &ck, err, sizeof(err)), -1);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "directory"));
    cdc_checkpoint_free(&ck);
    rmdir(path);

    /* the dir a file */
    write_checkpoint(dir, "{}");
    assert_int_equal(cdc_checkpoint_load(path, &ck, err, sizeof(err)), -1);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "not a directory"));
    cdc_checkpoint_free(&ck);

    unlink(path);
    rmdir(dir);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_commit_waits_for_every_ack),
        cmocka_unit_test(test_failure_is_never_passed),
        cmocka_unit_test(test_window_is_bounded),
        cmocka_unit_test(test_commits_without_events_coalesce),
        cmocka_unit_test(test_checkpoint_round_trip),
        cmocka_unit_test(test_checkpoint_unwritable_dir),
        cmocka_unit_test(test_parse_start),
        cmocka_unit_test(test_parse_start_malformed),
        cmocka_unit_test(test_checkpoint_malformed),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
