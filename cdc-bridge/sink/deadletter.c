/*
 * cdc-bridge sink: the dead-letter topic ([service.NAME] dead_letter_topic,
 * default <prefix>.dlq.<service>).  A dead letter is the original event,
 * key and value byte for byte, so it can be replayed as it was; why it
 * failed travels in headers, as Kafka Connect's dead-letter queues do:
 *
 *   cdc.error.sqlstate   PostgreSQL's SQLSTATE (or the sink's own, e.g.
 *                        42703 for a column the target lacks)
 *   cdc.error.message    the error text
 *   cdc.source.topic     topic, partition and offset it was read from
 *   cdc.source.partition
 *   cdc.source.offset
 *   cdc.source.position  the binlog position: "file:pos" and gtid
 *   cdc.service          the service
 *
 * Dead letters are flushed before the batch's offsets commit, so none is
 * lost; a crash between the two can write one twice (replaying is an
 * upsert, so that is harmless).
 */

#include <stdio.h>
#include <string.h>

#include "kafka.h"
#include "log.h"
#include "sink/sink.h"


static void
cdc_deadletter_dr(rd_kafka_t *rk, const rd_kafka_message_t *msg,
    void *opaque)
{
    cdc_sink_t  *s;

    s = opaque;

    if (msg->err) {
        s->dlq_failed++;
        cdc_log_error("service %s: dead letter not delivered to %s: %s",
                      s->svc->name, s->dlq_topic,
                      rd_kafka_err2str(msg->err));
    }
}


int
cdc_deadletter_send(cdc_sink_t *s, cdc_sink_change_t *c,
    const char *sqlstate, const char *error, char *err, size_t errlen)
{
    char                  part[16], off[32], pos[512];
    const char           *file, *gtid;
    rd_kafka_headers_t   *hdrs;
    rd_kafka_resp_err_t   e;

    if (s->dlq == NULL) {
        s->dlq = cdc_kafka_producer_new(s->cf, cdc_deadletter_dr, s, NULL,
                                        err, errlen);
        if (s->dlq == NULL) {
            return -1;
        }
    }

    file = cdc_jv_get_str(c->source, "file");
    gtid = cdc_jv_get_str(c->source, "gtid");
    snprintf(part, sizeof(part), "%d", (int) c->msg->partition);
    snprintf(off, sizeof(off), "%lld", (long long) c->msg->offset);
    snprintf(pos, sizeof(pos), "%s:%lld gtid=%s", file ? file : "",
             (long long) cdc_jv_get_int(c->source, "pos", 0),
             gtid ? gtid : "");

    for ( ;; ) {
        hdrs = rd_kafka_headers_new(8);
        rd_kafka_header_add(hdrs, "cdc.error.sqlstate", -1,
                            sqlstate ? sqlstate : "", -1);
        rd_kafka_header_add(hdrs, "cdc.error.message", -1,
                            error ? error : "", -1);
        rd_kafka_header_add(hdrs, "cdc.source.topic", -1,
                            rd_kafka_topic_name(c->msg->rkt), -1);
        rd_kafka_header_add(hdrs, "cdc.source.partition", -1, part, -1);
        rd_kafka_header_add(hdrs, "cdc.source.offset", -1, off, -1);
        rd_kafka_header_add(hdrs, "cdc.source.position", -1, pos, -1);
        rd_kafka_header_add(hdrs, "cdc.service", -1, s->svc->name, -1);

        /* the headers belong to the message once producev succeeds */
        e = rd_kafka_producev(s->dlq,
                              RD_KAFKA_V_TOPIC(s->dlq_topic),
                              RD_KAFKA_V_KEY(c->msg->key, c->msg->key_len),
                              RD_KAFKA_V_VALUE(c->msg->payload, c->msg->len),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                              RD_KAFKA_V_HEADERS(hdrs),
                              RD_KAFKA_V_END);

        if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
            break;
        }

        rd_kafka_headers_destroy(hdrs);

        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL || *s->stop) {
            return cdc_error(err, errlen, "dead letter to %s: %s",
                             s->dlq_topic, rd_kafka_err2str(e));
        }

        rd_kafka_poll(s->dlq, 100);
    }

    rd_kafka_poll(s->dlq, 0);

    return 0;
}


int
cdc_deadletter_flush(cdc_sink_t *s, char *err, size_t errlen)
{
    int  left;

    if (s->dlq == NULL) {
        return 0;
    }

    left = cdc_kafka_flush(s->dlq, 30000);

    if (left > 0 || s->dlq_failed) {
        s->dlq_failed = 0;
        return cdc_error(err, errlen, "dead letters to %s not delivered "
                         "(%d still queued)", s->dlq_topic, left);
    }

    return 0;
}


void
cdc_deadletter_close(cdc_sink_t *s)
{
    if (s->dlq) {
        cdc_kafka_producer_destroy(s->dlq, 10000);
        s->dlq = NULL;
    }
}
