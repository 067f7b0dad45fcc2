/*
 * cdc-bridge Kafka set-up shared by both wings: see kafka.h.
 */

#include <stdio.h>
#include <string.h>

#include "kafka.h"
#include "log.h"


#define CDC_KAFKA_CLIENT_ID  "cdc-bridge"


int
cdc_kafka_conf_set(rd_kafka_conf_t *conf, const char *name,
    const char *value, char *err, size_t errlen)
{
    char  errstr[512];

    if (rd_kafka_conf_set(conf, name, value, errstr, sizeof(errstr))
        != RD_KAFKA_CONF_OK)
    {
        return cdc_error(err, errlen, "kafka: %s=%s: %s", name,
                         strstr(name, "password") ? "(secret)" : value,
                         errstr);
    }

    return 0;
}


static void
cdc_kafka_log(const rd_kafka_t *rk, int level, const char *fac,
    const char *buf)
{
    int  lvl;

    /* syslog levels; librdkafka's LOG_ERR (3) are mostly transient
       connection failures it retries by itself: warnings for us */
    if (level <= 2) {
        lvl = CDC_LOG_ERROR;

    } else if (level <= 4) {
        lvl = CDC_LOG_WARN;

    } else if (level <= 6) {
        lvl = CDC_LOG_INFO;

    } else {
        lvl = CDC_LOG_DEBUG;
    }

    cdc_log(lvl, "kafka: %s: %s", fac, buf);
}


static void
cdc_kafka_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    char                 fatal[512];
    rd_kafka_resp_err_t  ferr;

    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        ferr = rd_kafka_fatal_error(rk, fatal, sizeof(fatal));
        cdc_log_error("kafka: fatal error: %s: %s", rd_kafka_err2name(ferr),
                      fatal);
        return;
    }

    cdc_log_warn("kafka: %s: %s", rd_kafka_err2name(err), reason);
}


static int
cdc_kafka_common(rd_kafka_conf_t *conf, const cdc_config_t *cf, char *err,
    size_t errlen)
{
    char  num[32];

    /* the producer refuses bigger messages itself (MSG_SIZE_TOO_LARGE);
       a consumer grows fetch.max.bytes to it, so it can read them */
    (void) snprintf(num, sizeof(num), "%d",
                    cf->max_message_bytes > 0 ? cf->max_message_bytes
                                              : 1000000);

    if (cdc_kafka_conf_set(conf, "bootstrap.servers", cf->brokers, err,
                           errlen) != 0
        || cdc_kafka_conf_set(conf, "client.id", CDC_KAFKA_CLIENT_ID, err,
                              errlen) != 0
        || cdc_kafka_conf_set(conf, "message.max.bytes", num, err, errlen)
           != 0)
    {
        return -1;
    }

    if (cf->security_protocol && cf->security_protocol[0]
        && cdc_kafka_conf_set(conf, "security.protocol",
                              cf->security_protocol, err, errlen) != 0)
    {
        return -1;
    }

    if (cf->sasl_mechanism && cf->sasl_mechanism[0]
        && cdc_kafka_conf_set(conf, "sasl.mechanisms", cf->sasl_mechanism,
                              err, errlen) != 0)
    {
        return -1;
    }

    if (cf->sasl_username
        && cdc_kafka_conf_set(conf, "sasl.username", cf->sasl_username, err,
                              errlen) != 0)
    {
        return -1;
    }

    if (cf->sasl_password
        && cdc_kafka_conf_set(conf, "sasl.password", cf->sasl_password, err,
                              errlen) != 0)
    {
        return -1;
    }

    if (cf->ssl_ca
        && cdc_kafka_conf_set(conf, "ssl.ca.location", cf->ssl_ca, err,
                              errlen) != 0)
    {
        return -1;
    }

    rd_kafka_conf_set_log_cb(conf, cdc_kafka_log);
    rd_kafka_conf_set_error_cb(conf, cdc_kafka_error);

    return 0;
}


static int
cdc_kafka_extra(rd_kafka_conf_t *conf, const char *const *extra, char *err,
    size_t errlen)
{
    size_t  i;

    for (i = 0; extra && extra[i]; i += 2) {
        if (extra[i + 1] == NULL) {
            return cdc_error(err, errlen, "kafka: %s: no value", extra[i]);
        }

        if (cdc_kafka_conf_set(conf, extra[i], extra[i + 1], err, errlen)
            != 0)
        {
            return -1;
        }
    }

    return 0;
}


rd_kafka_t *
cdc_kafka_producer_new(const cdc_config_t *cf, cdc_kafka_dr_pt dr,
    void *opaque, const char *const *extra, char *err, size_t errlen)
{
    char              num[32], timeout[32], errstr[512];
    rd_kafka_t       *rk;
    rd_kafka_conf_t  *conf;

    conf = rd_kafka_conf_new();

    if (conf == NULL) {
        (void) cdc_error(err, errlen, "kafka: out of memory");
        return NULL;
    }

    (void) snprintf(num, sizeof(num), "%d", cf->max_inflight_kb);

    /* 0 means "until delivered": the longest timeout librdkafka takes */
    (void) snprintf(timeout, sizeof(timeout), "%d",
                    cf->message_timeout_ms > 0 ? cf->message_timeout_ms
                                               : 2147483647);

    if (cdc_kafka_common(conf, cf, err, errlen) != 0
        || cdc_kafka_conf_set(conf, "enable.idempotence", "true", err,
                              errlen) != 0
        || cdc_kafka_conf_set(conf, "acks", "all", err, errlen) != 0
        || cdc_kafka_conf_set(conf, "queue.buffering.max.kbytes", num, err,
                              errlen) != 0
        || cdc_kafka_conf_set(conf, "queue.buffering.max.messages",
                              "2000000", err, errlen) != 0
        || cdc_kafka_conf_set(conf, "message.timeout.ms", timeout, err,
                              errlen) != 0
        || cdc_kafka_conf_set(conf, "partitioner", "murmur2_random", err,
                              errlen) != 0
        || cdc_kafka_conf_set(conf, "compression.type",
                              cf->compression ? cf->compression : "none",
                              err, errlen) != 0)
    {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }

    (void) snprintf(num, sizeof(num), "%d", cf->linger_ms);

    if (cdc_kafka_conf_set(conf, "linger.ms", num, err, errlen) != 0
        || cdc_kafka_extra(conf, extra, err, errlen) != 0)
    {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }

    if (dr) {
        rd_kafka_conf_set_dr_msg_cb(conf, dr);
    }

    rd_kafka_conf_set_opaque(conf, opaque);

    /* on success conf belongs to rk */
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));

    if (rk == NULL) {
        rd_kafka_conf_destroy(conf);
        (void) cdc_error(err, errlen, "kafka: producer: %s", errstr);
        return NULL;
    }

    return rk;
}


int
cdc_kafka_produce(rd_kafka_t *rk, const char *topic, const void *key,
    size_t klen, const void *value, size_t vlen, void *msg_opaque,
    volatile sig_atomic_t *stop, char *err, size_t errlen)
{
    return cdc_kafka_produce_to(rk, topic, RD_KAFKA_PARTITION_UA, key, klen,
                                value, vlen, msg_opaque, stop, err, errlen);
}


int
cdc_kafka_produce_to(rd_kafka_t *rk, const char *topic, int32_t partition,
    const void *key, size_t klen, const void *value, size_t vlen,
    void *msg_opaque, volatile sig_atomic_t *stop, char *err, size_t errlen)
{
    rd_kafka_resp_err_t  e;

    for ( ;; ) {
        e = rd_kafka_producev(rk,
                              RD_KAFKA_V_TOPIC(topic),
                              RD_KAFKA_V_PARTITION(partition),
                              RD_KAFKA_V_KEY((void *) key, klen),
                              RD_KAFKA_V_VALUE((void *) value, vlen),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                              RD_KAFKA_V_OPAQUE(msg_opaque),
                              RD_KAFKA_V_END);

        if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
            (void) rd_kafka_poll(rk, 0);
            return 0;
        }

        if (e == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE) {
            return cdc_error(err, errlen, "kafka: %zu bytes is over the "
                             "producer's message.max.bytes: %s",
                             klen + vlen, rd_kafka_err2str(e));
        }

        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            return cdc_error(err, errlen, "kafka: %s", rd_kafka_err2str(e));
        }

        if (stop && *stop) {
            return cdc_error(err, errlen, "stopped");
        }

        /* back-pressure: wait for acknowledgements to make room */
        (void) rd_kafka_poll(rk, 100);
    }
}


int
cdc_kafka_flush(rd_kafka_t *rk, int timeout_ms)
{
    (void) rd_kafka_flush(rk, timeout_ms);

    return rd_kafka_outq_len(rk);
}


rd_kafka_t *
cdc_kafka_consumer_new(const cdc_config_t *cf, const char *group,
    void (*rebalance)(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                      rd_kafka_topic_partition_list_t *parts, void *opaque),
    void *opaque, const char *const *extra, char *err, size_t errlen)
{
    char                 errstr[512];
    rd_kafka_t          *rk;
    rd_kafka_conf_t     *conf;
    rd_kafka_resp_err_t  e;

    conf = rd_kafka_conf_new();

    if (conf == NULL) {
        (void) cdc_error(err, errlen, "kafka: out of memory");
        return NULL;
    }

    if (cdc_kafka_common(conf, cf, err, errlen) != 0
        || cdc_kafka_conf_set(conf, "group.id", group, err, errlen) != 0
        || cdc_kafka_conf_set(conf, "enable.auto.commit", "false", err,
                              errlen) != 0
        || cdc_kafka_conf_set(conf, "enable.auto.offset.store", "false",
                              err, errlen) != 0
        || cdc_kafka_conf_set(conf, "auto.offset.reset", "error", err,
                              errlen) != 0
        || cdc_kafka_conf_set(conf, "enable.partition.eof", "false", err,
                              errlen) != 0
        || cdc_kafka_conf_set(conf, "fetch.wait.max.ms", "100", err,
                              errlen) != 0
        || cdc_kafka_conf_set(conf, "queued.max.messages.kbytes", "16384",
                              err, errlen) != 0
        || cdc_kafka_extra(conf, extra, err, errlen) != 0)
    {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }

    if (rebalance) {
        rd_kafka_conf_set_rebalance_cb(conf, rebalance);
    }

    rd_kafka_conf_set_opaque(conf, opaque);

    /* on success conf belongs to rk */
    rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));

    if (rk == NULL) {
        rd_kafka_conf_destroy(conf);
        (void) cdc_error(err, errlen, "kafka: consumer: %s", errstr);
        return NULL;
    }

    e = rd_kafka_poll_set_consumer(rk);

    if (e) {
        (void) cdc_error(err, errlen, "kafka: consumer: %s",
                         rd_kafka_err2str(e));
        rd_kafka_destroy(rk);
        return NULL;
    }

    return rk;
}


void
cdc_kafka_consumer_destroy(rd_kafka_t *rk)
{
    rd_kafka_resp_err_t  e;

    if (rk == NULL) {
        return;
    }

    e = rd_kafka_consumer_close(rk);

    if (e) {
        cdc_log_warn("kafka: consumer close: %s", rd_kafka_err2str(e));
    }

    rd_kafka_destroy(rk);
}


int
cdc_kafka_producer_destroy(rd_kafka_t *rk, int timeout_ms)
{
    int  left;

    if (rk == NULL) {
        return 0;
    }

    left = cdc_kafka_flush(rk, timeout_ms);

    if (left > 0) {
        cdc_log_warn("kafka: %d message%s not delivered at shutdown", left,
                     left == 1 ? "" : "s");
    }

    rd_kafka_destroy(rk);

    return left;
}


int
cdc_kafka_fatal(rd_kafka_t *rk, char *err, size_t errlen)
{
    char                 reason[512];
    rd_kafka_resp_err_t  e;

    e = rd_kafka_fatal_error(rk, reason, sizeof(reason));

    if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
        return 0;
    }

    (void) cdc_error(err, errlen, "kafka: fatal: %s: %s",
                     rd_kafka_err2name(e), reason);

    return 1;
}
