/*
 * cdc-bridge Kafka set-up shared by both wings: a producer for `run` and a
 * consumer for `sink`, both built from cdc_config_t's [kafka] section.
 *
 * Producer settings (callers may override through extra):
 *   bootstrap.servers             [kafka] brokers
 *   message.max.bytes             [kafka] max_message_bytes (producer
 *                                 and consumer: the consumer's
 *                                 fetch.max.bytes grows to it)
 *   enable.idempotence            true (so acks=all, retries unbounded,
 *                                 order kept per partition)
 *   acks                          all
 *   queue.buffering.max.kbytes    [kafka] max_inflight_kb: the bound on
 *                                 bytes waiting for acknowledgement;
 *                                 produce then fails with QUEUE_FULL, which
 *                                 cdc_kafka_produce() turns into
 *                                 back-pressure (poll and retry)
 *   queue.buffering.max.messages  10000000 (the byte bound is the one)
 *   linger.ms                     [kafka] linger
 *   message.timeout.ms            [kafka] message_timeout (0: never give
 *                                 up while a broker is down)
 *   compression.type              [kafka] compression
 *   partitioner                   murmur2_random (Java's: same key, same
 *                                 partition as other clients)
 *   security.protocol, sasl.*, ssl.ca.location   from [kafka]
 *
 * Consumer settings:
 *   group.id                      the caller's group
 *   enable.auto.commit            false (the sink stores offsets in the
 *                                 target database)
 *   enable.auto.offset.store      false
 *   auto.offset.reset             error: an offset Kafka no longer holds
 *                                 arrives as a message whose err is
 *                                 RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET,
 *                                 never as a silent jump
 *   enable.partition.eof          false
 *
 * librdkafka's own log lines go through cdc_log() (its syslog levels
 * mapped to ours, "kafka: FAC: message"); error callbacks are logged as
 * warnings, and fatal errors (idempotence broken) as errors, which the
 * caller sees through cdc_kafka_fatal().
 */

#ifndef CDC_KAFKA_H
#define CDC_KAFKA_H

#include <signal.h>
#include <stddef.h>

#include <librdkafka/rdkafka.h>

#include "config.h"


/*
 * Delivery report callback: called from rd_kafka_poll()/flush() on the
 * polling thread for every produced message, ok or failed; msg->_private
 * is the opaque given to cdc_kafka_produce().
 */
typedef void (*cdc_kafka_dr_pt)(rd_kafka_t *rk,
    const rd_kafka_message_t *msg, void *opaque);


/*
 * Sets one librdkafka property, with the error "kafka: name=value: why"
 * in err.  Returns 0 or -1.
 */
int cdc_kafka_conf_set(rd_kafka_conf_t *conf, const char *name,
    const char *value, char *err, size_t errlen);

/*
 * A producer as described above.  dr may be NULL; opaque is given to dr
 * as its third argument (rd_kafka_opaque()).  extra: NULL, or a
 * NULL-terminated list of name, value pairs applied last.  NULL with the
 * reason in err on failure.
 */
rd_kafka_t *cdc_kafka_producer_new(const cdc_config_t *cf,
    cdc_kafka_dr_pt dr, void *opaque, const char *const *extra, char *err,
    size_t errlen);

/*
 * Produces one message (copied) to topic, partitioned by key.  When the
 * queue is full it serves delivery reports (rd_kafka_poll 100 ms) and
 * retries until it fits or *stop becomes non-zero (stop may be NULL).
 * msg_opaque reaches the delivery report as msg->_private.  Returns 0, or
 * -1 with the reason in err, which does not repeat the topic (stop:
 * "stopped").
 */
int cdc_kafka_produce(rd_kafka_t *rk, const char *topic, const void *key,
    size_t klen, const void *value, size_t vlen, void *msg_opaque,
    volatile sig_atomic_t *stop, char *err, size_t errlen);

/* the same into one partition (RD_KAFKA_PARTITION_UA: by key) */
int cdc_kafka_produce_to(rd_kafka_t *rk, const char *topic,
    int32_t partition, const void *key, size_t klen, const void *value,
    size_t vlen, void *msg_opaque, volatile sig_atomic_t *stop, char *err,
    size_t errlen);

/*
 * Waits up to timeout_ms for every queued message to be delivered (or
 * fail), serving delivery reports.  Returns the number still queued.
 */
int cdc_kafka_flush(rd_kafka_t *rk, int timeout_ms);

/*
 * A high-level (group) consumer as described above, with its main queue
 * forwarded to the consumer queue so rd_kafka_consumer_poll() serves
 * everything.  rebalance may be NULL (librdkafka's default assign).
 * opaque: rd_kafka_opaque().  extra as for the producer.
 */
rd_kafka_t *cdc_kafka_consumer_new(const cdc_config_t *cf,
    const char *group,
    void (*rebalance)(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                      rd_kafka_topic_partition_list_t *parts, void *opaque),
    void *opaque, const char *const *extra, char *err, size_t errlen);

/* rd_kafka_consumer_close() then rd_kafka_destroy(); rk may be NULL. */
void cdc_kafka_consumer_destroy(rd_kafka_t *rk);

/*
 * Producer: flushes for up to timeout_ms, logs how many messages were
 * left undelivered, destroys.  Returns the number left.  rk may be NULL.
 */
int cdc_kafka_producer_destroy(rd_kafka_t *rk, int timeout_ms);

/*
 * Non-zero when librdkafka raised a fatal error on rk (e.g. the
 * idempotent producer lost its guarantees); the reason goes to err.  The
 * caller must then stop without checkpointing further.
 */
int cdc_kafka_fatal(rd_kafka_t *rk, char *err, size_t errlen);


#endif /* CDC_KAFKA_H */
