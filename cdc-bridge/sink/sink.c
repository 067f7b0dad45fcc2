/*
 * cdc-bridge sink --service NAME: Kafka -> the service's PostgreSQL,
 * exactly once.
 *
 *   consumer group   <prefix>.sink.<service>
 *   topics           <prefix>.<db>.<table> of every mapped table, plus
 *                    the heartbeat table's topic (it advances the
 *                    watermark while the monolith is idle)
 *   offsets          strangler_cdc.offsets in the target, written in each
 *                    batch's transaction and read back on every partition
 *                    assignment; an offset Kafka no longer holds stops the
 *                    sink (exit 3) and says how to recover
 *
 * --replay-dead-letters consumes the dead-letter topic (group
 * <prefix>.sink.<service>.replay, offsets in the same table) up to where
 * it ended at start, re-applies each change and exits.
 * --reset-offsets TOPIC sets the stored offsets of TOPIC to the oldest
 * event Kafka holds (recovery, after a re-snapshot) and exits.
 */

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "kafka.h"
#include "clock.h"
#include "log.h"
#include "sink/sink.h"


#define CDC_SINK_EXIT_OK       0
#define CDC_SINK_EXIT_ERROR    1
#define CDC_SINK_EXIT_USAGE    2
#define CDC_SINK_EXIT_OFFSET   3


static volatile sig_atomic_t  cdc_sink_stop;


static void
cdc_sink_signal(int signo)
{
    cdc_sink_stop = 1;
}


static void
cdc_sink_usage(FILE *out)
{
    fprintf(out,
        "usage: cdc-bridge sink [-c FILE] --service NAME [--instance ID]\n"
        "       cdc-bridge sink [-c FILE] --service NAME "
        "--replay-dead-letters\n"
        "       cdc-bridge sink [-c FILE] --service NAME "
        "--reset-offsets TOPIC\n\n"
        "Applies the service's changes from Kafka into its PostgreSQL "
        "database,\nexactly once (offsets are kept in the target, "
        "strangler_cdc.offsets).  Several instances of one service (one "
        "--instance ID\neach, letters, digits, '.', '_', '-') share its "
        "partitions.\n");
}


static void
cdc_sink_drop_batch(cdc_sink_t *s, cdc_sink_batch_t *b)
{
    size_t  i;

    for (i = 0; i < b->nchanges; i++) {
        rd_kafka_message_destroy(b->changes[i].msg);
        free(b->changes[i].error);
    }

    for (i = 0; i < CDC_SINK_MAX_PARTS; i++) {
        b->next[i] = -1;
    }

    b->nchanges = 0;
    b->last_ts = 0;
    b->last_pos = 0;
    b->last_gtid[0] = '\0';
    b->last_file[0] = '\0';
    cdc_jv_arena_free(&b->arena);
}


static void cdc_sink_committed(cdc_sink_t *s, cdc_sink_batch_t *b);


/*
 * Waits for the applier thread to finish its batch, accounts for it when
 * it committed, and frees it.  Returns the batch's result: 0 applied (or
 * nothing in flight), 1 stopped before it could commit.
 */
static int
cdc_sink_wait(cdc_sink_t *s)
{
    int                rc;
    cdc_sink_batch_t  *b;

    b = s->applying;

    if (b == NULL) {
        return 0;
    }

    pthread_join(s->applier, NULL);
    s->applying = NULL;
    rc = b->rc;

    if (rc == 0) {
        cdc_sink_committed(s, b);
    }

    cdc_sink_drop_batch(s, b);

    return rc;
}


static void
cdc_sink_quiesce(cdc_sink_t *s)
{
    if (cdc_sink_wait(s) != 0) {
        s->fatal = 1;
    }
}


static void *
cdc_sink_applier(void *arg)
{
    char               err[CDC_SINK_ERRLEN];
    cdc_sink_t        *s;
    cdc_sink_batch_t  *b;
    struct timespec    ts;

    s = arg;
    b = s->applying;
    b->rc = 1;

    for ( ;; ) {
        if (cdc_apply_batch(s, b, err, sizeof(err)) == 0) {
            b->rc = 0;
            break;
        }

        cdc_series_add(s->m_retries, 1);
        cdc_log_warn("service %s: batch of %zu not applied: %s; retrying",
                     s->svc->name, b->nchanges, err);

        if (s->pg && PQstatus(s->pg) == CONNECTION_OK
            && PQtransactionStatus(s->pg) != PQTRANS_IDLE)
        {
            PQclear(PQexec(s->pg, "ROLLBACK"));
        }

        if (s->pg == NULL || PQstatus(s->pg) != CONNECTION_OK) {
            if (cdc_pg_reconnect(s, err, sizeof(err)) != 0) {
                break;
            }

        } else {
            ts.tv_sec = 0;
            ts.tv_nsec = 200000000L;
            nanosleep(&ts, NULL);
        }

        if (*s->stop) {
            break;
        }
    }

    cdc_log_debug("service %s: batch of %zu: %lld ms to apply",
                  s->svc->name, b->nchanges,
                  (long long) (cdc_clock_mono_ms() - b->started_ms));

    __atomic_store_n(&s->applier_done, 1, __ATOMIC_RELEASE);

    return NULL;
}


static void
cdc_sink_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t e,
    rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    char         err[CDC_SINK_ERRLEN];
    size_t       i;
    cdc_sink_t  *s;

    s = opaque;
    s->rebalanced = 1;

    /* what is read again is not a replay by `run` */
    for (i = 0; i < s->nparts; i++) {
        s->parts[i].seen_file[0] = '\0';
    }

    /* the batch in flight commits (or not) before anything moves */
    if (cdc_sink_wait(s) != 0) {
        s->fatal = 1;
    }

    if (e != RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        pthread_mutex_lock(&s->lock);
        for (i = 0; i < s->nparts; i++) {
            s->parts[i].assigned = 0;
        }
        pthread_mutex_unlock(&s->lock);

        rd_kafka_assign(rk, NULL);
        return;
    }

    /* where to start: what the target database says was applied */
    while (cdc_offsets_load(s, parts, err, sizeof(err)) != 0) {
        cdc_log_warn("service %s: reading offsets: %s", s->svc->name, err);

        if (cdc_pg_reconnect(s, err, sizeof(err)) != 0) {
            s->fatal = 1;
            rd_kafka_assign(rk, NULL);
            return;
        }
    }

    rd_kafka_assign(rk, parts);
}


static void
cdc_sink_offset_gone(cdc_sink_t *s, rd_kafka_message_t *m)
{
    size_t            i;
    int64_t           offset;
    const char       *topic, *table;
    cdc_sink_part_t  *p;

    topic = m->rkt ? rd_kafka_topic_name(m->rkt) : "?";
    table = topic;

    for (i = 0; i < s->ntables; i++) {
        if (strcmp(s->tables[i].topic, topic) == 0) {
            table = s->tables[i].src;
        }
    }

    /* the offset the sink asked for: the one stored in the target */
    pthread_mutex_lock(&s->lock);
    p = cdc_offsets_part(s, topic, m->partition);
    offset = p && p->next >= 0 ? p->next : m->offset;
    pthread_mutex_unlock(&s->lock);

    cdc_log_error("service %s: %s[%d]: offset %lld is no longer in Kafka "
                  "(%s): retention removed changes this sink has not "
                  "applied, so it stops instead of skipping them.  "
                  "Recover: snapshot %s again (docs/cdc-bridge.md, "
                  "\"Sink\"), then run `cdc-bridge sink --service %s "
                  "--reset-offsets %s` and start the sink",
                  s->svc->name, topic, (int) m->partition,
                  (long long) offset, rd_kafka_message_errstr(m), table,
                  s->svc->name, topic);
}


/* The heartbeat's time: its beat_ms column when it has one. */
static int64_t
cdc_sink_heartbeat_ms(cdc_sink_change_t *c)
{
    int64_t  beat;

    beat = cdc_jv_get_int(c->after, "beat_ms", 0);

    return beat > c->ts_ms ? beat : c->ts_ms;
}


static void
cdc_sink_committed(cdc_sink_t *s, cdc_sink_batch_t *b)
{
    size_t              i;
    int64_t             now, wm, applied;
    cdc_sink_change_t  *c;
    cdc_sink_part_t    *p;
    const char         *db, *table;

    now = cdc_lag_now_ms();
    wm = 0;
    applied = 0;

    for (i = 0; i < b->nchanges; i++) {
        c = &b->changes[i];

        if (c->table && !c->error) {
            applied++;
            c->table->applied++;
            cdc_series_add(c->table->m_applied, 1);

            if (c->ts_ms > wm) {
                wm = c->ts_ms;
            }

        } else if (c->value && s->hb_db && c->source) {
            db = cdc_jv_get_str(c->source, "db");
            table = cdc_jv_get_str(c->source, "table");

            if (db && table && strcmp(db, s->hb_db) == 0
                && strcmp(table, s->hb_table) == 0)
            {
                c->after = cdc_jv_get(c->value, "after");
                if (cdc_sink_heartbeat_ms(c) > wm) {
                    wm = cdc_sink_heartbeat_ms(c);
                }
            }
        }
    }

    pthread_mutex_lock(&s->lock);

    for (i = 0; i < s->nparts; i++) {
        p = &s->parts[i];
        if (b->next[i] >= 0) {
            p->next = b->next[i];
        }
    }

    if (wm > s->watermark_ms) {
        s->watermark_ms = wm;
    }

    if (wm > 0) {
        s->commit_lag_ms = now - wm;
    }

    s->applied += (uint64_t) applied;
    s->batches++;
    s->last_applied_ms = now;

    if (b->last_file[0]) {
        memcpy(s->last_file, b->last_file, sizeof(s->last_file));
        s->last_pos = b->last_pos;
        memcpy(s->last_gtid, b->last_gtid, sizeof(s->last_gtid));
    }

    pthread_mutex_unlock(&s->lock);

    cdc_series_add(s->m_applied, (double) applied);
    cdc_series_add(s->m_batches, 1);
    cdc_series_observe(s->m_batch_seconds,
                       (cdc_clock_mono_ms() - b->started_ms) / 1000.0);

    if (wm > 0) {
        cdc_series_observe(s->m_commit_latency, (now - wm) / 1000.0);
    }
}


/* Remembers where the batch ends, for strangler_cdc.applied. */
static void
cdc_sink_position(cdc_sink_batch_t *b, cdc_sink_change_t *c)
{
    const char  *file, *gtid;

    if (c->source == NULL) {
        return;
    }

    if (c->ts_ms >= b->last_ts) {
        file = cdc_jv_get_str(c->source, "file");
        gtid = cdc_jv_get_str(c->source, "gtid");

        b->last_ts = c->ts_ms;
        b->last_pos = cdc_jv_get_int(c->source, "pos", 0);
        snprintf(b->last_file, sizeof(b->last_file), "%s",
                 file ? file : "");
        snprintf(b->last_gtid, sizeof(b->last_gtid), "%s",
                 gtid ? gtid : "");
    }
}


static int
cdc_sink_add(cdc_sink_t *s, cdc_sink_batch_t *b, rd_kafka_message_t *m)
{
    size_t              cap;
    cdc_sink_part_t    *p;
    cdc_sink_change_t  *c, *nc;

    if (b->nchanges == b->changes_cap) {
        cap = b->changes_cap ? b->changes_cap * 2 : 1024;
        nc = realloc(b->changes, cap * sizeof(cdc_sink_change_t));
        if (nc == NULL) {
            return -1;
        }
        b->changes = nc;
        b->changes_cap = cap;
    }

    /* consecutive messages mostly come from the same partition */
    p = s->last_part;

    if (p == NULL || p->partition != m->partition
        || strcmp(p->topic, rd_kafka_topic_name(m->rkt)) != 0)
    {
        pthread_mutex_lock(&s->lock);
        p = cdc_offsets_part(s, rd_kafka_topic_name(m->rkt), m->partition);
        pthread_mutex_unlock(&s->lock);
        s->last_part = p;
    }

    if (p) {
        b->next[p - s->parts] = m->offset + 1;
    }

    if (p == NULL) {
        return -1;
    }

    c = &b->changes[b->nchanges++];
    memset(c, 0, sizeof(*c));
    c->msg = m;
    c->part = (int) (p - s->parts);

    return 0;
}


/* --replay-dead-letters: done when every partition reached its end */
static int
cdc_sink_replay_done(cdc_sink_t *s)
{
    size_t            i;
    cdc_sink_part_t  *p;

    for (i = 0; i < s->nparts; i++) {
        p = &s->parts[i];

        if (p->next < s->replay_end[p->partition % CDC_SINK_MAX_PARTS]) {
            return 0;
        }
    }

    return 1;
}


static int
cdc_sink_replay_ends(cdc_sink_t *s, char *err, size_t errlen)
{
    int                              i;
    int64_t                          lo, hi;
    rd_kafka_topic_t                *rkt;
    rd_kafka_resp_err_t              e;
    const struct rd_kafka_metadata  *md;

    rkt = rd_kafka_topic_new(s->rk, s->dlq_topic, NULL);
    if (rkt == NULL) {
        return cdc_error(err, errlen, "topic %s: %s", s->dlq_topic,
                         rd_kafka_err2str(rd_kafka_last_error()));
    }

    e = rd_kafka_metadata(s->rk, 0, rkt, &md, 10000);
    rd_kafka_topic_destroy(rkt);

    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return cdc_error(err, errlen, "topic %s: %s", s->dlq_topic,
                         rd_kafka_err2str(e));
    }

    if (md->topic_cnt != 1 || md->topics[0].err) {
        rd_kafka_metadata_destroy(md);
        return 0;                       /* no dead letters at all */
    }

    for (i = 0; i < md->topics[0].partition_cnt; i++) {
        e = rd_kafka_query_watermark_offsets(s->rk, s->dlq_topic,
                                             md->topics[0].partitions[i].id,
                                             &lo, &hi, 10000);
        if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
            rd_kafka_metadata_destroy(md);
            return cdc_error(err, errlen, "%s[%d]: %s", s->dlq_topic, i,
                             rd_kafka_err2str(e));
        }

        s->replay_end[md->topics[0].partitions[i].id % CDC_SINK_MAX_PARTS]
            = hi;

        pthread_mutex_lock(&s->lock);
        (void) cdc_offsets_part(s, s->dlq_topic,
                                md->topics[0].partitions[i].id);
        pthread_mutex_unlock(&s->lock);
    }

    rd_kafka_metadata_destroy(md);

    return 1;
}


static void
cdc_sink_metrics(cdc_sink_t *s)
{
    size_t         i;
    cdc_metric_t  *f;
    const char    *name;

    name = s->svc->name;

    f = cdc_metrics_counter(s->metrics, "sink_events_applied_total",
                            "Changes applied to the target.",
                            "service,table");
    for (i = 0; f && i < s->ntables; i++) {
        s->tables[i].m_applied = cdc_metric_series(f, name, s->tables[i].src,
                                                   NULL);
    }

    f = cdc_metrics_counter(s->metrics, "sink_dead_letters_total",
                            "Changes sent to the dead-letter topic.",
                            "service,table");
    for (i = 0; f && i < s->ntables; i++) {
        s->tables[i].m_dead = cdc_metric_series(f, name, s->tables[i].src,
                                                NULL);
    }

    f = cdc_metrics_counter(s->metrics, "sink_unmatched_total",
                            "Updates and deletes whose row was not in the "
                            "target (dead-lettered).", "service,table,op");
    for (i = 0; f && i < s->ntables; i++) {
        s->tables[i].m_unmatched_u = cdc_metric_series(f, name,
                                                       s->tables[i].src,
                                                       "update", NULL);
        s->tables[i].m_unmatched_d = cdc_metric_series(f, name,
                                                       s->tables[i].src,
                                                       "delete", NULL);
    }

    f = cdc_metrics_counter(s->metrics, "sink_unmatched_replays_total",
                            "Unmatched updates and deletes that run had "
                            "produced before (not dead-lettered).",
                            "service,table");
    for (i = 0; f && i < s->ntables; i++) {
        s->tables[i].m_replayed = cdc_metric_series(f, name,
                                                    s->tables[i].src, NULL);
    }

    f = cdc_metrics_counter(s->metrics, "sink_truncates_total",
                            "Source TRUNCATE or DROP TABLE followed (target "
                            "emptied).", "service,table");
    for (i = 0; f && i < s->ntables; i++) {
        s->tables[i].m_truncates = cdc_metric_series(f, name,
                                                     s->tables[i].src, NULL);
    }

    f = cdc_metrics_counter(s->metrics, "sink_skipped_total",
                            "Changes older than a TRUNCATE or DROP TABLE "
                            "already followed (not applied).",
                            "service,table");
    for (i = 0; f && i < s->ntables; i++) {
        s->tables[i].m_skipped = cdc_metric_series(f, name,
                                                   s->tables[i].src, NULL);
    }

    f = cdc_metrics_counter(s->metrics, "sink_applied_total",
                            "Changes applied, all tables.", "service");
    s->m_applied = f ? cdc_metric_series(f, name, NULL) : NULL;

    f = cdc_metrics_counter(s->metrics, "sink_dead_total",
                            "Dead letters, all tables.", "service");
    s->m_dead = f ? cdc_metric_series(f, name, NULL) : NULL;

    f = cdc_metrics_counter(s->metrics, "sink_batches_total",
                            "Transactions committed.", "service");
    s->m_batches = f ? cdc_metric_series(f, name, NULL) : NULL;

    f = cdc_metrics_counter(s->metrics, "sink_pg_connects_total",
                            "Connections made to PostgreSQL.", "service");
    s->m_reconnects = f ? cdc_metric_series(f, name, NULL) : NULL;

    f = cdc_metrics_counter(s->metrics, "sink_batch_retries_total",
                            "Batches retried after a transient error.",
                            "service");
    s->m_retries = f ? cdc_metric_series(f, name, NULL) : NULL;

    f = cdc_metrics_histogram(s->metrics, "sink_batch_duration_seconds",
                              "Time to apply and commit one batch.",
                              "service", NULL, 0);
    s->m_batch_seconds = f ? cdc_metric_series(f, name, NULL) : NULL;

    f = cdc_metrics_histogram(s->metrics, "sink_commit_latency_seconds",
                              "Source commit to target commit.",
                              "service", NULL, 0);
    s->m_commit_latency = f ? cdc_metric_series(f, name, NULL) : NULL;
}


static int
cdc_sink_loop(cdc_sink_t *s)
{
    int                  batch_size, batch_ms, timeout, done;
    char                 err[CDC_SINK_ERRLEN];
    size_t               i;
    int64_t              start, now, decoded;
    cdc_sink_batch_t    *b;
    rd_kafka_message_t  *m;

    batch_size = s->svc->batch_size > 0 ? s->svc->batch_size : 5000;
    batch_ms = s->svc->batch_time_ms > 0 ? s->svc->batch_time_ms : 200;

    /*
     * The main thread fills and decodes batch N+1 while the applier
     * thread applies batch N; batches still commit one after the other,
     * in order, on the one connection.
     */
    while (!*s->stop && !s->fatal) {

        b = s->applying == &s->batch[0] ? &s->batch[1] : &s->batch[0];
        s->filling = b;
        start = cdc_clock_mono_ms();
        done = 0;

        while (!*s->stop && !s->fatal && (int) b->nchanges < batch_size) {
            now = cdc_clock_mono_ms();

            if (b->nchanges && now - start >= batch_ms) {
                break;
            }

            /* account for the batch in flight as soon as it commits, so
               lag and offsets are current while this one fills */
            if (s->applying
                && __atomic_load_n(&s->applier_done, __ATOMIC_ACQUIRE))
            {
                if (cdc_sink_wait(s) != 0) {
                    s->fatal = 1;
                    break;
                }
            }

            timeout = b->nchanges ? (int) (batch_ms - (now - start)) : 100;
            if (s->applying && timeout > 5) {
                timeout = 5;
            }

            m = rd_kafka_consumer_poll(s->rk, timeout > 0 ? timeout : 1);

            if (s->rebalanced) {
                /* the callback waited for the applier; what was read
                   for this batch is read again from the stored offsets */
                s->rebalanced = 0;
                cdc_sink_drop_batch(s, b);
                start = cdc_clock_mono_ms();
            }

            if (m == NULL) {
                if (s->replay && b->nchanges == 0) {
                    if (cdc_sink_wait(s) != 0) {
                        s->fatal = 1;
                    }
                    if (cdc_sink_replay_done(s)) {
                        done = 1;
                        break;
                    }
                }
                continue;
            }

            if (m->err) {
                if (m->err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET
                    || m->err == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE)
                {
                    cdc_sink_offset_gone(s, m);
                    rd_kafka_message_destroy(m);
                    cdc_sink_wait(s);
                    cdc_sink_drop_batch(s, b);
                    return CDC_SINK_EXIT_OFFSET;
                }

                if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                    rd_kafka_message_destroy(m);
                    continue;
                }

                if (m->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART
                    || m->err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC)
                {
                    cdc_log_debug("service %s: %s", s->svc->name,
                                  rd_kafka_message_errstr(m));
                } else {
                    cdc_log_warn("service %s: kafka: %s", s->svc->name,
                                 rd_kafka_message_errstr(m));
                }

                rd_kafka_message_destroy(m);
                continue;
            }

            if (s->replay
                && m->offset >= s->replay_end[m->partition
                                              % CDC_SINK_MAX_PARTS])
            {
                /* written after we started (or by this run): next time */
                rd_kafka_message_destroy(m);
                continue;
            }

            if (cdc_sink_add(s, b, m) != 0) {
                cdc_log_error("service %s: out of memory", s->svc->name);
                rd_kafka_message_destroy(m);
                cdc_sink_wait(s);
                cdc_sink_drop_batch(s, b);
                return CDC_SINK_EXIT_ERROR;
            }
        }

        if (b->nchanges == 0) {
            if (done) {
                break;
            }
            continue;
        }

        decoded = cdc_clock_mono_ms();

        /* decode; PostgreSQL is needed only for an ADD COLUMN */
        for (i = 0; i < b->nchanges && !*s->stop; i++) {
            if (b->changes[i].prepared) {
                continue;
            }

            if (cdc_apply_prepare(s, b, &b->changes[i]) != 0) {
                b->changes[i].prepared = 0;
                cdc_sink_quiesce(s);

                if (cdc_pg_reconnect(s, err, sizeof(err)) != 0) {
                    break;
                }

                i--;
                continue;
            }

            cdc_sink_position(b, &b->changes[i]);
        }

        now = cdc_clock_mono_ms();

        if (cdc_sink_wait(s) != 0 || *s->stop || s->fatal) {
            cdc_sink_drop_batch(s, b);
            break;
        }

        cdc_log_debug("service %s: batch of %zu: %lld ms to fill, %lld ms "
                      "to decode, %lld ms waiting for the previous batch",
                      s->svc->name, b->nchanges,
                      (long long) (decoded - start),
                      (long long) (now - decoded),
                      (long long) (cdc_clock_mono_ms() - now));

        b->started_ms = cdc_clock_mono_ms();
        s->applying = b;
        __atomic_store_n(&s->applier_done, 0, __ATOMIC_RELEASE);

        if (pthread_create(&s->applier, NULL, cdc_sink_applier, s) != 0) {
            s->applying = NULL;
            cdc_log_error("service %s: pthread_create failed",
                          s->svc->name);
            cdc_sink_drop_batch(s, b);
            return CDC_SINK_EXIT_ERROR;
        }

        if (s->replay) {
            if (cdc_sink_wait(s) != 0) {
                break;
            }
            if (cdc_sink_replay_done(s)) {
                break;
            }
        }
    }

    if (cdc_sink_wait(s) != 0 && !*s->stop) {
        s->fatal = 1;
    }

    return s->fatal ? CDC_SINK_EXIT_ERROR : CDC_SINK_EXIT_OK;
}


static int
cdc_sink_topics(cdc_sink_t *s, char *err, size_t errlen)
{
    size_t                            i;
    char                              topic[512], *dot;
    rd_kafka_resp_err_t               e;
    rd_kafka_topic_partition_list_t  *list, *sub;

    list = rd_kafka_topic_partition_list_new(8);

    for (i = 0; i < s->ntables; i++) {
        if (rd_kafka_topic_partition_list_find(list, s->tables[i].topic,
                                               RD_KAFKA_PARTITION_UA)
            == NULL)
        {
            rd_kafka_topic_partition_list_add(list, s->tables[i].topic,
                                              RD_KAFKA_PARTITION_UA);
        }
    }

    if (s->cf->heartbeat_table && s->cf->heartbeat_table[0]) {
        s->hb_db = strdup(s->cf->heartbeat_table);
        if (s->hb_db == NULL) {
            rd_kafka_topic_partition_list_destroy(list);
            return cdc_error(err, errlen, "out of memory");
        }

        dot = strchr(s->hb_db, '.');
        if (dot == NULL) {
            rd_kafka_topic_partition_list_destroy(list);
            return cdc_error(err, errlen, "heartbeat_table \"%s\": "
                             "expected db.table", s->cf->heartbeat_table);
        }

        *dot = '\0';
        s->hb_table = dot + 1;

        if (cdc_config_topic(s->cf, s->hb_db, s->hb_table, topic,
                             sizeof(topic)) == 0
            && rd_kafka_topic_partition_list_find(list, topic,
                                                  RD_KAFKA_PARTITION_UA)
               == NULL)
        {
            rd_kafka_topic_partition_list_add(list, topic,
                                              RD_KAFKA_PARTITION_UA);
        }
    }

    /* the service's partitions: its watermark is their minimum (lag.c),
       in --replay-dead-letters too */
    s->topics = calloc((size_t) list->cnt + 1, sizeof(char *));
    if (s->topics == NULL) {
        rd_kafka_topic_partition_list_destroy(list);
        return cdc_error(err, errlen, "out of memory");
    }

    for (i = 0; i < (size_t) list->cnt; i++) {
        s->topics[i] = strdup(list->elems[i].topic);
        if (s->topics[i] == NULL) {
            rd_kafka_topic_partition_list_destroy(list);
            return cdc_error(err, errlen, "out of memory");
        }
        s->ntopics++;
    }

    sub = list;

    if (s->replay) {
        sub = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(sub, s->dlq_topic,
                                          RD_KAFKA_PARTITION_UA);
    }

    for (i = 0; i < (size_t) sub->cnt; i++) {
        cdc_log_info("service %s: consuming %s", s->svc->name,
                     sub->elems[i].topic);
    }

    e = rd_kafka_subscribe(s->rk, sub);

    if (sub != list) {
        rd_kafka_topic_partition_list_destroy(sub);
    }

    rd_kafka_topic_partition_list_destroy(list);

    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return cdc_error(err, errlen, "subscribe: %s", rd_kafka_err2str(e));
    }

    return 0;
}


int
cdc_cmd_sink(int argc, char **argv)
{
    int                  c, rc, replay;
    char                 err[CDC_SINK_ERRLEN], group[512], dlq[512];
    char                 ident[128], app[128], instance[600];
    const char          *file, *service, *reset, *inst;
    cdc_sink_t          *s;
    cdc_config_t         cf;
    struct sigaction     sa;
    cdc_service_conf_t  *svc;

    static const struct option  opts[] = {
        { "config", required_argument, NULL, 'c' },
        { "service", required_argument, NULL, 's' },
        { "replay-dead-letters", no_argument, NULL, 'R' },
        { "reset-offsets", required_argument, NULL, 'O' },
        { "instance", required_argument, NULL, 'I' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };

    file = NULL;
    service = NULL;
    reset = NULL;
    inst = "1";
    replay = 0;
    optind = 1;

    while ((c = getopt_long(argc, argv, "c:s:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': file = optarg; break;
        case 's': service = optarg; break;
        case 'R': replay = 1; break;
        case 'O': reset = optarg; break;
        case 'I': inst = optarg; break;
        case 'h': cdc_sink_usage(stdout); return CDC_SINK_EXIT_OK;
        default: cdc_sink_usage(stderr); return CDC_SINK_EXIT_USAGE;
        }
    }

    if (inst[0] == '\0' || strlen(inst) > 64
        || strspn(inst, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                        "0123456789._-") != strlen(inst))
    {
        fprintf(stderr, "cdc-bridge sink: --instance \"%s\": expected 1 to "
                "64 letters, digits, '.', '_' or '-'\n", inst);
        return CDC_SINK_EXIT_USAGE;
    }

    if (service == NULL || optind != argc) {
        cdc_sink_usage(stderr);
        return CDC_SINK_EXIT_USAGE;
    }

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = cdc_sink_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    snprintf(ident, sizeof(ident), "sink %s", service);
    cdc_log_set_ident(ident);

    if (cdc_config_load(&cf, file, err, sizeof(err)) != 0) {
        cdc_log_error("%s", err);
        cdc_config_free(&cf);
        return CDC_SINK_EXIT_ERROR;
    }

    cdc_log_set_level(cf.log_level);

    svc = cdc_config_service(&cf, service);
    if (svc == NULL) {
        cdc_log_error("%s: no service \"%s\" ([service.%s] or "
                      "CDC_SERVICE_<NAME>_POSTGRES)",
                      cf.file && cf.file[0] ? cf.file : "environment",
                      service, service);
        cdc_config_free(&cf);
        return CDC_SINK_EXIT_ERROR;
    }

    s = calloc(1, sizeof(cdc_sink_t));
    if (s == NULL) {
        cdc_config_free(&cf);
        return CDC_SINK_EXIT_ERROR;
    }

    s->cf = &cf;
    s->svc = svc;
    s->replay = replay;
    s->stop = &cdc_sink_stop;
    s->quiesce = cdc_sink_quiesce;
    cdc_sink_drop_batch(s, &s->batch[0]);
    cdc_sink_drop_batch(s, &s->batch[1]);
    pthread_mutex_init(&s->lock, NULL);
    rc = CDC_SINK_EXIT_ERROR;


    snprintf(group, sizeof(group), "%s.sink.%s%s", cf.topic_prefix,
             svc->name, replay ? ".replay" : "");

    if (svc->dead_letter_topic && svc->dead_letter_topic[0]) {
        snprintf(dlq, sizeof(dlq), "%s", svc->dead_letter_topic);
    } else {
        snprintf(dlq, sizeof(dlq), "%s.dlq.%s", cf.topic_prefix, svc->name);
    }

    s->dlq_topic = dlq;
    s->group = group;

    s->metrics = cdc_metrics_create();
    if (s->metrics == NULL) {
        cdc_log_error("out of memory");
        goto done;
    }

    snprintf(app, sizeof(app), "cdc-bridge sink %s", svc->name);
    s->pg = cdc_pg_connect(svc, app, err, sizeof(err));

    if (s->pg == NULL) {
        cdc_log_error("%s", err);
        goto done;
    }

    if (cdc_offsets_init(s->pg, err, sizeof(err)) != 0
        || cdc_catalog_prepare(s, err, sizeof(err)) != 0
        || cdc_ddl_init(s, err, sizeof(err)) != 0)
    {
        cdc_log_error("service %s: %s", svc->name, err);
        goto done;
    }

    cdc_sink_metrics(s);

    {
        /* static membership: a restarted sink takes its partitions back
           at once; on a real cluster a second sink with the same
           --instance fences the first, others share the partitions */
        snprintf(instance, sizeof(instance), "%s.%s", group, inst);

        const char *const  extra[] = {
            "group.instance.id", instance,
            "topic.metadata.refresh.interval.ms", "2000",
            "fetch.wait.max.ms", "50",
            /* keep a few batches read ahead while one applies */
            "queued.min.messages", "200000",
            "max.partition.fetch.bytes", "4194304",
            /* a sink that died holds its partitions this long */
            "session.timeout.ms", "6000",
            "heartbeat.interval.ms", "1000",
            NULL
        };

        s->rk = cdc_kafka_consumer_new(&cf, group, cdc_sink_rebalance, s,
                                       extra, err, sizeof(err));
    }

    if (s->rk == NULL) {
        cdc_log_error("service %s: %s", svc->name, err);
        goto done;
    }

    if (reset) {
        if (cdc_offsets_reset(s, reset, err, sizeof(err)) != 0) {
            cdc_log_error("service %s: --reset-offsets: %s", svc->name,
                          err);
            goto done;
        }
        rc = CDC_SINK_EXIT_OK;
        goto done;
    }

    if (replay) {
        c = cdc_sink_replay_ends(s, err, sizeof(err));

        if (c < 0) {
            cdc_log_error("service %s: %s", svc->name, err);
            goto done;
        }

        if (c == 0 || cdc_sink_replay_done(s)) {
            cdc_log_info("service %s: no dead letters to replay in %s",
                         svc->name, dlq);
            rc = CDC_SINK_EXIT_OK;
            goto done;
        }
    }

    if (cdc_sink_topics(s, err, sizeof(err)) != 0
        || cdc_lag_start(s, err, sizeof(err)) != 0)
    {
        cdc_log_error("service %s: %s", svc->name, err);
        goto done;
    }

    cdc_log_info("service %s: %s, group %s, dead letters to %s",
                 svc->name, replay ? "replaying dead letters" : "applying",
                 group, dlq);

    rc = cdc_sink_loop(s);

    cdc_lag_write_now(s);

    cdc_log_info("service %s: %s: %llu changes applied, %llu dead letters",
                 svc->name, rc == 0 ? "stopped" : "failed",
                 (unsigned long long) s->applied,
                 (unsigned long long) s->dead);

done:

    cdc_lag_stop(s);
    cdc_sink_wait(s);
    cdc_sink_drop_batch(s, &s->batch[0]);
    cdc_sink_drop_batch(s, &s->batch[1]);

    if (s->rk) {
        cdc_kafka_consumer_destroy(s->rk);
    }

    cdc_deadletter_close(s);
    cdc_source_db_close(s);

    if (s->pg) {
        PQfinish(s->pg);
    }

    if (s->tables) {
        size_t  i;

        for (i = 0; i < s->ntables; i++) {
            cdc_catalog_free(&s->tables[i]);
            while (s->tables[i].ngone) {
                free(s->tables[i].gone[--s->tables[i].ngone]);
            }
            free(s->tables[i].gone);
            free(s->tables[i].hint);
            free(s->tables[i].topic);
            free(s->tables[i].src);
            free(s->tables[i].qname);
        }
        free(s->tables);
    }

    free(s->hb_db);

    if (s->topics) {
        size_t  i;

        for (i = 0; i < s->ntopics; i++) {
            free(s->topics[i]);
        }
        free(s->topics);
    }

    free(s->batch[0].changes);
    free(s->batch[1].changes);
    free(s->params);
    free(s->sql.p);

    if (s->arrays) {
        size_t  i;

        for (i = 0; i < s->narrays; i++) {
            free(s->arrays[i].p);
        }
        free(s->arrays);
    }

    if (s->metrics) {
        cdc_metrics_destroy(s->metrics);
    }

    pthread_mutex_destroy(&s->lock);
    free(s);
    cdc_config_free(&cf);

    return rc;
}
