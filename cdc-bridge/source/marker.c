/*
 * Progress markers.  When the heartbeat row comes back through the binlog
 * (cdc_run_emit), `run` writes one marker event into every partition of
 * every topic it produces for: each mapped table's topic of every
 * [service.*], the heartbeat table's topic, and every topic it produced
 * to since it started.  A marker is the envelope with op "m", before and
 * after null, and the heartbeat's source block whose ts_ms is the
 * heartbeat's time (its beat_ms, or its commit time when later):
 *
 *   {"before":null,"after":null,"source":{…,"ts_ms":T,"db":…,
 *    "table":<heartbeat table>,…},"op":"m","ts_ms":…}
 *
 * It is produced after every change the binlog holds before the
 * heartbeat, and Kafka keeps a partition's order, so a consumer that has
 * read a partition up to a marker has read every change committed before
 * T that belongs there.  That is how a sink proves an idle partition
 * caught up (docs/events.md, docs/routing.md).
 *
 * Partition counts come from topic metadata, asked once per topic and
 * again every minute.
 */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "kafka.h"
#include "log.h"
#include "source/run_int.h"


#define CDC_MARKER_RECHECK_MS  60000


typedef struct {
    char      topic[512];
    int       nparts;               /* 0: unknown (yet) */
    int64_t   checked_ms;
} cdc_marker_topic_t;


struct cdc_run_markers_s {
    cdc_marker_topic_t  *topics;
    size_t               ntopics;
    size_t               cap;
    cdc_buf_t            value;
};


static void
cdc_marker_add(cdc_run_markers_t *m, const char *topic)
{
    size_t               i, cap;
    cdc_marker_topic_t  *nt;

    if (strlen(topic) >= sizeof(m->topics[0].topic)) {
        return;
    }

    for (i = 0; i < m->ntopics; i++) {
        if (strcmp(m->topics[i].topic, topic) == 0) {
            return;
        }
    }

    if (m->ntopics == m->cap) {
        cap = m->cap ? m->cap * 2 : 16;
        nt = realloc(m->topics, cap * sizeof(cdc_marker_topic_t));
        if (nt == NULL) {
            return;
        }
        m->topics = nt;
        m->cap = cap;
    }

    memset(&m->topics[m->ntopics], 0, sizeof(cdc_marker_topic_t));
    snprintf(m->topics[m->ntopics].topic, sizeof(m->topics[0].topic), "%s",
             topic);
    m->ntopics++;
}


/* the services' mapped tables, the heartbeat table, what run produced */
static void
cdc_marker_topics(cdc_run_t *r, const cdc_stream_change_t *c)
{
    char                       topic[512], db[256];
    const char                *dot;
    size_t                     i, k;
    const cdc_service_conf_t  *svc;

    for (i = 0; i < r->cf->nservices; i++) {
        svc = &r->cf->services[i];

        for (k = 0; k < svc->ntables; k++) {
            if (cdc_config_topic(r->cf, svc->tables[k].src_db,
                                 svc->tables[k].src_table, topic,
                                 sizeof(topic))
                == 0)
            {
                cdc_marker_add(r->markers, topic);
            }
        }
    }

    if (cdc_config_topic(r->cf, c->db, c->table, topic, sizeof(topic)) == 0)
    {
        cdc_marker_add(r->markers, topic);
    }

    for (i = 0; i < r->ntables; i++) {
        dot = strchr(r->tables[i].name, '.');
        if (dot == NULL
            || (size_t) (dot - r->tables[i].name) >= sizeof(db))
        {
            continue;
        }

        memcpy(db, r->tables[i].name, (size_t) (dot - r->tables[i].name));
        db[dot - r->tables[i].name] = '\0';

        if (cdc_config_topic(r->cf, db, dot + 1, topic, sizeof(topic)) == 0)
        {
            cdc_marker_add(r->markers, topic);
        }
    }
}


static void
cdc_marker_partitions(cdc_run_t *r, cdc_marker_topic_t *t, int64_t now)
{
    rd_kafka_topic_t                *rkt;
    const struct rd_kafka_metadata  *md;

    if (t->nparts > 0 && now - t->checked_ms < CDC_MARKER_RECHECK_MS) {
        return;
    }

    if (t->nparts == 0 && now - t->checked_ms < 1000) {
        return;
    }

    t->checked_ms = now;

    rkt = rd_kafka_topic_new(r->rk, t->topic, NULL);
    if (rkt == NULL) {
        return;
    }

    if (rd_kafka_metadata(r->rk, 0, rkt, &md, 2000)
        == RD_KAFKA_RESP_ERR_NO_ERROR)
    {
        if (md->topic_cnt == 1 && md->topics[0].err == 0
            && md->topics[0].partition_cnt > 0)
        {
            t->nparts = md->topics[0].partition_cnt;
        }
        rd_kafka_metadata_destroy(md);
    }

    rd_kafka_topic_destroy(rkt);
}


static int
cdc_marker_value(cdc_run_t *r, const cdc_stream_change_t *c, cdc_buf_t *b)
{
    uint64_t            ts;
    cdc_event_source_t  src;

    ts = c->pos ? c->pos->ts_ms : 0;
    if (r->last_beat_ms > 0 && (uint64_t) r->last_beat_ms > ts) {
        ts = (uint64_t) r->last_beat_ms;
    }

    memset(&src, 0, sizeof(src));
    src.name = r->cf->topic_prefix;
    src.ts_ms = ts;
    src.db = c->db;
    src.table = c->table;
    src.server_id = c->pos ? c->pos->server_id : 0;
    src.gtid = c->pos && c->pos->gtid[0] ? c->pos->gtid : NULL;
    src.file = c->pos ? c->pos->file : "";
    src.pos = c->event_pos;
    src.row = 0;
    src.snapshot = "false";

    cdc_buf_reset(b);

    if (cdc_event_value_begin(b) != 0 || cdc_buf_puts(b, "null") != 0
        || cdc_event_value_after(b) != 0 || cdc_buf_puts(b, "null") != 0
        || cdc_event_value_end(b, &src, 'm', cdc_event_now_ms()) != 0)
    {
        return -1;
    }

    return 0;
}


/* after the heartbeat row c was produced: a marker into every partition */
int
cdc_run_markers(cdc_run_t *r, const cdc_stream_change_t *c)
{
    int                  p;
    char                 err[512];
    size_t               i;
    int64_t              now;
    uint64_t             seq;
    cdc_marker_topic_t  *t;

    if (r->markers == NULL) {
        r->markers = calloc(1, sizeof(cdc_run_markers_t));
        if (r->markers == NULL) {
            return 0;
        }
    }

    cdc_marker_topics(r, c);

    if (cdc_marker_value(r, c, &r->markers->value) != 0) {
        cdc_log_error("marker: out of memory");
        return -1;
    }

    now = cdc_now_ms();

    for (i = 0; i < r->markers->ntopics; i++) {
        t = &r->markers->topics[i];
        cdc_marker_partitions(r, t, now);

        for (p = 0; p < t->nparts; p++) {
            while (cdc_acks_room(&r->acks) == 0) {
                if (cdc_run_poll(r, 100) != 0) {
                    return -1;
                }
            }

            seq = cdc_acks_take(&r->acks);

            if (cdc_kafka_produce_to(r->rk, t->topic, p, "null", 4,
                                     r->markers->value.data,
                                     r->markers->value.len,
                                     (void *) (uintptr_t) seq, r->stop, err,
                                     sizeof(err))
                != 0)
            {
                cdc_acks_delivered(&r->acks, seq, 0, err);
                if (!*r->stop) {
                    cdc_log_error("marker to %s[%d]: %s", t->topic, p, err);
                }
                return -1;
            }

            cdc_run_store(r->produced, r->produced + 1);
        }
    }

    return 0;
}


void
cdc_run_markers_free(cdc_run_t *r)
{
    if (r->markers == NULL) {
        return;
    }

    cdc_buf_free(&r->markers->value);
    free(r->markers->topics);
    free(r->markers);
    r->markers = NULL;
}
