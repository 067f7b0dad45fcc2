/*
 * cdc-bridge kafka.c against an in-process librdkafka mock cluster: the
 * producer's back-pressure (a tiny queue still delivers everything, in
 * order per key), the stop flag, delivery reports carrying the caller's
 * opaque, bad settings named, and the consumer's out-of-range offset
 * arriving as an error, never a silent reset.
 */

#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "config.h"
#include "kafka.h"
#include "log.h"


#define NMSG  3000


typedef struct {
    rd_kafka_t               *host;
    rd_kafka_mock_cluster_t  *mc;
    cdc_config_t              cf;
} fixture_t;


typedef struct {
    int   delivered;
    int   failed;
    int   seen[NMSG];
    int   last[4];                      /* last sequence per key */
    int   out_of_order;
} reports_t;


static int
setup(void **state)
{
    fixture_t        *f;
    rd_kafka_conf_t  *conf;
    char              errstr[256];

    cdc_log_set_level(CDC_LOG_ERROR);

    f = calloc(1, sizeof(*f));
    assert_non_null(f);

    conf = rd_kafka_conf_new();
    /* the host handle has no bootstrap.servers by design: no CONFWARN */
    assert_int_equal(rd_kafka_conf_set(conf, "log_level", "4", errstr,
                                       sizeof(errstr)), RD_KAFKA_CONF_OK);
    f->host = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    assert_non_null(f->host);
    f->mc = rd_kafka_mock_cluster_new(f->host, 1);
    assert_non_null(f->mc);
    assert_int_equal(rd_kafka_mock_topic_create(f->mc, "t", 4, 1), 0);

    f->cf.brokers = strdup(rd_kafka_mock_cluster_bootstraps(f->mc));
    f->cf.security_protocol = strdup("plaintext");
    f->cf.compression = strdup("lz4");
    f->cf.max_inflight_kb = 1;          /* about 4 messages: back-pressure */
    f->cf.linger_ms = 1;
    f->cf.message_timeout_ms = 0;

    *state = f;

    return 0;
}


static int
teardown(void **state)
{
    fixture_t  *f;

    f = *state;
    free(f->cf.brokers);
    free(f->cf.security_protocol);
    free(f->cf.compression);
    rd_kafka_mock_cluster_destroy(f->mc);
    rd_kafka_destroy(f->host);
    free(f);

    return 0;
}


static void
dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    int         seq, key;
    reports_t  *r;

    r = opaque;
    seq = (int) (intptr_t) m->_private;

    if (m->err) {
        r->failed++;
        return;
    }

    r->delivered++;

    if (seq >= 0 && seq < NMSG) {
        r->seen[seq]++;
        key = seq % 4;

        if (seq < r->last[key]) {
            r->out_of_order++;
        }

        r->last[key] = seq;
    }
}


static void
test_backpressure_delivers_all(void **state)
{
    int          i, rc;
    char         key[8], val[256], err[256];
    fixture_t   *f;
    rd_kafka_t  *rk;
    reports_t   *r;

    f = *state;
    r = calloc(1, sizeof(*r));
    assert_non_null(r);

    rk = cdc_kafka_producer_new(&f->cf, dr, r, NULL, err, sizeof(err));
    assert_non_null(rk);

    for (i = 0; i < NMSG; i++) {
        (void) snprintf(key, sizeof(key), "k%d", i % 4);
        memset(val, 'a' + i % 26, sizeof(val));
        rc = cdc_kafka_produce(rk, "t", key, strlen(key), val, sizeof(val),
                               (void *) (intptr_t) i, NULL, err,
                               sizeof(err));
        assert_int_equal(rc, 0);
    }

    assert_int_equal(cdc_kafka_flush(rk, 30000), 0);
    assert_int_equal(cdc_kafka_fatal(rk, err, sizeof(err)), 0);
    assert_int_equal(cdc_kafka_producer_destroy(rk, 1000), 0);

    assert_int_equal(r->failed, 0);
    assert_int_equal(r->delivered, NMSG);
    assert_int_equal(r->out_of_order, 0);

    for (i = 0; i < NMSG; i++) {
        assert_int_equal(r->seen[i], 1);
    }

    free(r);
}


static void
test_stop_while_queue_full(void **state)
{
    int                     i, rc;
    char                    val[512], err[256];
    fixture_t              *f;
    rd_kafka_t             *rk;
    reports_t              *r;
    volatile sig_atomic_t   stop;

    f = *state;
    r = calloc(1, sizeof(*r));
    assert_non_null(r);

    /* nothing gets acknowledged: the queue fills and stays full */
    assert_int_equal(rd_kafka_mock_broker_set_down(f->mc, -1), 0);

    rk = cdc_kafka_producer_new(&f->cf, dr, r, NULL, err, sizeof(err));
    assert_non_null(rk);

    stop = 1;
    memset(val, 'x', sizeof(val));
    rc = 0;

    for (i = 0; i < 100 && rc == 0; i++) {
        rc = cdc_kafka_produce(rk, "t", "k", 1, val, sizeof(val),
                               (void *) (intptr_t) -1, &stop, err,
                               sizeof(err));
    }

    assert_int_equal(rc, -1);
    assert_string_equal(err, "stopped");
    assert_true(i < 100);

    assert_int_equal(rd_kafka_mock_broker_set_up(f->mc, -1), 0);
    assert_int_equal(cdc_kafka_producer_destroy(rk, 30000), 0);
    assert_int_equal(r->failed, 0);
    assert_int_equal(r->delivered, i - 1);

    free(r);
}


static void
test_bad_setting_is_named(void **state)
{
    char         err[256];
    fixture_t   *f;
    rd_kafka_t  *rk;

    static const char *const  extra[] = { "no.such.property", "1", NULL };
    static const char *const  odd[] = { "linger.ms", NULL };

    f = *state;

    rk = cdc_kafka_producer_new(&f->cf, NULL, NULL, extra, err, sizeof(err));
    assert_null(rk);
    assert_non_null(strstr(err, "kafka: no.such.property=1: "));

    rk = cdc_kafka_producer_new(&f->cf, NULL, NULL, odd, err, sizeof(err));
    assert_null(rk);
    assert_non_null(strstr(err, "linger.ms: no value"));

    rk = cdc_kafka_consumer_new(&f->cf, "g", NULL, NULL, extra, err,
                                sizeof(err));
    assert_null(rk);
    assert_non_null(strstr(err, "no.such.property"));
}


static void
test_out_of_range_is_an_error(void **state)
{
    int                               i, got_err;
    char                              err[256];
    time_t                            deadline;
    fixture_t                        *f;
    rd_kafka_t                       *p, *c;
    rd_kafka_message_t               *m;
    rd_kafka_topic_partition_list_t  *parts;

    f = *state;

    p = cdc_kafka_producer_new(&f->cf, NULL, NULL, NULL, err, sizeof(err));
    assert_non_null(p);

    for (i = 0; i < 5; i++) {
        assert_int_equal(rd_kafka_producev(p, RD_KAFKA_V_TOPIC("t"),
                                           RD_KAFKA_V_PARTITION(0),
                                           RD_KAFKA_V_VALUE("v", 1),
                                           RD_KAFKA_V_MSGFLAGS(
                                               RD_KAFKA_MSG_F_COPY),
                                           RD_KAFKA_V_END), 0);
    }

    assert_int_equal(cdc_kafka_producer_destroy(p, 30000), 0);

    c = cdc_kafka_consumer_new(&f->cf, "sink-test", NULL, NULL, NULL, err,
                               sizeof(err));
    assert_non_null(c);

    /* an offset the partition never had, as after retention passed it */
    parts = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(parts, "t", 0)->offset = 1000;
    assert_int_equal(rd_kafka_assign(c, parts), 0);
    rd_kafka_topic_partition_list_destroy(parts);

    got_err = 0;
    deadline = time(NULL) + 20;

    while (!got_err && time(NULL) < deadline) {
        m = rd_kafka_consumer_poll(c, 200);

        if (m == NULL) {
            continue;
        }

        /* never a message: that would be a silent reset to 0..4 */
        assert_int_not_equal(m->err, RD_KAFKA_RESP_ERR_NO_ERROR);

        if (m->err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET) {
            got_err = 1;
        }

        rd_kafka_message_destroy(m);
    }

    assert_true(got_err);

    cdc_kafka_consumer_destroy(c);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test_setup_teardown(test_backpressure_delivers_all,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_while_queue_full, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_bad_setting_is_named, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_out_of_range_is_an_error,
                                        setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
