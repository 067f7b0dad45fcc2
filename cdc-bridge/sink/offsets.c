/*
 * cdc-bridge sink: consumed offsets live in the target database,
 *
 *   strangler_cdc.offsets (service, topic, partition, next_offset,
 *                          source_ts_ms, gtid, file, pos)
 *
 * written in the same transaction as the changes they cover, and read
 * back whenever the group assigns partitions to the sink, so a change is
 * applied exactly once however the sink stops.  Kafka's own group offsets
 * are not used.  source_ts_ms is the partition's applied time: the newest
 * source time of a row, heartbeat row or progress marker (op "m",
 * docs/events.md) applied there; gtid/file/pos the newest one's source
 * position.  The service's watermark is the minimum over its partitions
 * (cdc_offsets_watermark), whichever sink instance asks.
 * strangler_cdc.applied keeps the last applied source position per
 * service, for people.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sink/sink.h"


int
cdc_offsets_init(PGconn *pg, char *err, size_t errlen)
{
    if (cdc_pg_ensure_schema(pg, "strangler_cdc", err, errlen) != 0) {
        return -1;
    }

    return cdc_pg_exec(pg,
        "CREATE TABLE IF NOT EXISTS strangler_cdc.offsets ("
        " service text NOT NULL, topic text NOT NULL,"
        " partition integer NOT NULL, next_offset bigint NOT NULL,"
        " updated_at timestamptz NOT NULL DEFAULT now(),"
        " PRIMARY KEY (service, topic, partition));"
        "ALTER TABLE strangler_cdc.offsets"
        " ADD COLUMN IF NOT EXISTS source_ts_ms bigint,"
        " ADD COLUMN IF NOT EXISTS gtid text,"
        " ADD COLUMN IF NOT EXISTS file text,"
        " ADD COLUMN IF NOT EXISTS pos bigint;"
        "CREATE TABLE IF NOT EXISTS strangler_cdc.applied ("
        " service text PRIMARY KEY, source_ts_ms bigint, gtid text,"
        " file text, pos bigint,"
        " applied_at timestamptz NOT NULL DEFAULT now())", err, errlen);
}


cdc_sink_part_t *
cdc_offsets_part(cdc_sink_t *s, const char *topic, int32_t partition)
{
    size_t            i;
    cdc_sink_part_t  *p;

    for (i = 0; i < s->nparts; i++) {
        p = &s->parts[i];
        if (p->partition == partition && strcmp(p->topic, topic) == 0) {
            return p;
        }
    }

    if (s->nparts == CDC_SINK_MAX_PARTS || strlen(topic) >= 256) {
        return NULL;
    }

    p = &s->parts[s->nparts++];
    memset(p, 0, sizeof(*p));
    snprintf(p->topic, sizeof(p->topic), "%s", topic);
    p->partition = partition;
    p->next = -1;
    p->hwm = -1;

    return p;
}


static void cdc_offsets_array_str(cdc_sql_t *b, const char *v);


/*
 * A row for every assigned partition (next offset 0, no applied time) if
 * it has none yet: the watermark then counts a partition no instance has
 * applied anything in as unknown instead of leaving it out.
 */
static int
cdc_offsets_claim(cdc_sink_t *s, rd_kafka_topic_partition_list_t *parts,
    char *err, size_t errlen)
{
    int          i, rc;
    char         num[32];
    cdc_sql_t    t, p;
    PGresult    *r;
    const char  *vals[3];

    memset(&t, 0, sizeof(t));
    memset(&p, 0, sizeof(p));
    cdc_sql_add(&t, "{");
    cdc_sql_add(&p, "{");

    for (i = 0; i < parts->cnt; i++) {
        if (i) {
            cdc_sql_add(&t, ",");
            cdc_sql_add(&p, ",");
        }
        cdc_offsets_array_str(&t, parts->elems[i].topic);
        snprintf(num, sizeof(num), "%d", (int) parts->elems[i].partition);
        cdc_sql_add(&p, num);
    }

    cdc_sql_add(&t, "}");
    cdc_sql_add(&p, "}");
    rc = 0;

    if (t.oom || p.oom) {
        rc = cdc_error(err, errlen, "out of memory");

    } else if (parts->cnt > 0) {
        vals[0] = s->svc->name;
        vals[1] = t.p;
        vals[2] = p.p;

        r = cdc_pg_query(s->pg,
            "INSERT INTO strangler_cdc.offsets"
            " (service, topic, partition, next_offset)"
            " SELECT $1, t, p, 0 FROM unnest($2::text[], $3::integer[])"
            " AS u(t, p) ON CONFLICT (service, topic, partition)"
            " DO NOTHING", 3, vals, err, errlen);

        if (r == NULL || PQresultStatus(r) != PGRES_COMMAND_OK) {
            rc = -1;
        }

        PQclear(r);
    }

    free(t.p);
    free(p.p);

    return rc;
}


/*
 * Sets each partition's offset to the stored next offset, or 0 when none
 * is stored: a new sink reads every topic from its first event, and an
 * offset Kafka no longer holds stops it (auto.offset.reset=error).
 */
int
cdc_offsets_load(cdc_sink_t *s, rd_kafka_topic_partition_list_t *parts,
    char *err, size_t errlen)
{
    int                          i, k, n;
    PGresult                    *r;
    const char                  *vals[1];
    cdc_sink_part_t             *p;
    rd_kafka_topic_partition_t  *tp;

    if (cdc_offsets_claim(s, parts, err, errlen) != 0) {
        return -1;
    }

    vals[0] = s->svc->name;

    r = cdc_pg_query(s->pg, "SELECT topic, partition, next_offset"
                     " FROM strangler_cdc.offsets WHERE service = $1", 1,
                     vals, err, errlen);

    if (r == NULL) {
        return -1;
    }

    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        PQclear(r);
        return -1;
    }

    n = PQntuples(r);

    pthread_mutex_lock(&s->lock);

    for (i = 0; i < (int) s->nparts; i++) {
        s->parts[i].assigned = 0;
    }

    for (i = 0; i < parts->cnt; i++) {
        tp = &parts->elems[i];
        tp->offset = 0;

        for (k = 0; k < n; k++) {
            if (atoi(PQgetvalue(r, k, 1)) == tp->partition
                && strcmp(PQgetvalue(r, k, 0), tp->topic) == 0)
            {
                tp->offset = strtoll(PQgetvalue(r, k, 2), NULL, 10);
                break;
            }
        }

        p = cdc_offsets_part(s, tp->topic, tp->partition);

        if (p == NULL) {
            pthread_mutex_unlock(&s->lock);
            PQclear(r);
            return cdc_error(err, errlen, "more than %d partitions",
                             CDC_SINK_MAX_PARTS);
        }

        p->next = tp->offset;
        p->assigned = 1;

        cdc_log_info("service %s: %s[%d] from offset %lld", s->svc->name,
                     tp->topic, (int) tp->partition,
                     (long long) tp->offset);
    }

    pthread_mutex_unlock(&s->lock);
    PQclear(r);

    return 0;
}


static void
cdc_offsets_array_str(cdc_sql_t *b, const char *v)
{
    const char  *p;

    cdc_sql_add(b, "\"");

    for (p = v; *p; p++) {
        if (*p == '"' || *p == '\\') {
            cdc_sql_addn(b, "\\", 1);
        }
        cdc_sql_addn(b, p, 1);
    }

    cdc_sql_add(b, "\"");
}


/* a change's source time: heartbeat rows count their beat_ms column */
static int64_t
cdc_offsets_change_ms(cdc_sink_t *s, const cdc_sink_change_t *c)
{
    int64_t      beat;
    const char  *db, *table;

    if (c->table == NULL && c->after && s->hb_db && c->op != 'm') {
        db = cdc_jv_get_str(c->source, "db");
        table = cdc_jv_get_str(c->source, "table");

        if (db && table && strcmp(db, s->hb_db) == 0
            && strcmp(table, s->hb_table) == 0)
        {
            beat = cdc_jv_get_int(c->after, "beat_ms", 0);
            return beat > c->ts_ms ? beat : c->ts_ms;
        }
    }

    return c->ts_ms;
}


static void
cdc_offsets_add_num(cdc_sql_t *b, int64_t v, int null)
{
    char  num[32];

    if (null) {
        cdc_sql_add(b, "NULL");
        return;
    }

    snprintf(num, sizeof(num), "%lld", (long long) v);
    cdc_sql_add(b, num);
}


static void
cdc_offsets_add_str(cdc_sql_t *b, const char *v)
{
    if (v == NULL || v[0] == '\0') {
        cdc_sql_add(b, "NULL");
    } else {
        cdc_offsets_array_str(b, v);
    }
}


/*
 * Array literals of one row per partition the batch advanced: topic,
 * partition, next offset, applied source time (the newest of the batch's
 * changes there, NULL when none has one), and the newest change's
 * position.
 */
static int
cdc_offsets_arrays(cdc_sink_t *s, cdc_sink_batch_t *b, cdc_sql_t *a)
{
    size_t                    i, k, n, nparts;
    int64_t                  *ts;
    const cdc_sink_change_t **last, *c;
    cdc_sink_part_t          *p;

    /* the main thread may add partitions meanwhile: not this batch's */
    nparts = __atomic_load_n(&s->nparts, __ATOMIC_ACQUIRE);
    ts = calloc(nparts + 1, sizeof(int64_t));
    last = calloc(nparts + 1, sizeof(cdc_sink_change_t *));

    if (ts == NULL || last == NULL) {
        free(ts);
        free(last);
        return -1;
    }

    for (i = 0; i < b->nchanges; i++) {
        c = &b->changes[i];

        if (c->source == NULL || c->part < 0
            || (size_t) c->part >= nparts)
        {
            continue;
        }

        if (cdc_offsets_change_ms(s, c) > ts[c->part]) {
            ts[c->part] = cdc_offsets_change_ms(s, c);
        }
        last[c->part] = c;
    }

    for (k = 0; k < 8; k++) {
        cdc_sql_add(&a[k], "{");
    }

    n = 0;

    for (i = 0; i < nparts; i++) {
        p = &s->parts[i];

        if (b->next[i] < 0) {
            continue;
        }

        if (n++) {
            for (k = 0; k < 8; k++) {
                cdc_sql_add(&a[k], ",");
            }
        }

        c = last[i];
        cdc_offsets_array_str(&a[0], p->topic);
        cdc_offsets_add_num(&a[1], p->partition, 0);
        cdc_offsets_add_num(&a[2], b->next[i], 0);
        cdc_offsets_add_num(&a[3], ts[i], ts[i] <= 0);
        cdc_offsets_add_str(&a[4], c ? cdc_jv_get_str(c->source, "gtid")
                                     : NULL);
        cdc_offsets_add_str(&a[5], c ? cdc_jv_get_str(c->source, "file")
                                     : NULL);
        cdc_offsets_add_num(&a[6], c ? cdc_jv_get_int(c->source, "pos", 0)
                                     : 0, c == NULL);
    }

    for (k = 0; k < 8; k++) {
        cdc_sql_add(&a[k], "}");
    }

    free(ts);
    free(last);

    return (int) n;
}


/* Inside the batch's transaction: every partition the batch advanced. */
int
cdc_offsets_store(cdc_sink_t *s, cdc_sink_batch_t *b, char *err,
    size_t errlen)
{
    int          rc, n;
    char         pos[32], ts[32];
    size_t       k;
    cdc_sql_t    a[8];
    PGresult    *r;
    const char  *vals[8];

    memset(a, 0, sizeof(a));
    rc = 0;

    n = cdc_offsets_arrays(s, b, a);

    for (k = 0; k < 8; k++) {
        if (a[k].oom) {
            n = -1;
        }
    }

    if (n < 0) {
        rc = cdc_error(err, errlen, "out of memory");
        goto done;
    }

    if (n == 0) {
        goto done;
    }

    vals[0] = s->svc->name;

    for (k = 0; k < 7; k++) {
        vals[k + 1] = a[k].p;
    }

    /* the applied time never goes back: a marker may carry a later time
       than the (one-second) commit time of a row after it */
    r = cdc_pg_query(s->pg,
        "INSERT INTO strangler_cdc.offsets AS o"
        " (service, topic, partition, next_offset, source_ts_ms, gtid,"
        " file, pos, updated_at)"
        " SELECT $1, t, p, n, ts, g, f, ps, now()"
        " FROM unnest($2::text[], $3::integer[], $4::bigint[],"
        " $5::bigint[], $6::text[], $7::text[], $8::bigint[])"
        " AS u(t, p, n, ts, g, f, ps)"
        " ON CONFLICT (service, topic, partition) DO UPDATE"
        " SET next_offset = EXCLUDED.next_offset,"
        " source_ts_ms = GREATEST(o.source_ts_ms, EXCLUDED.source_ts_ms),"
        " gtid = COALESCE(EXCLUDED.gtid, o.gtid),"
        " file = COALESCE(EXCLUDED.file, o.file),"
        " pos = COALESCE(EXCLUDED.pos, o.pos),"
        " updated_at = EXCLUDED.updated_at", 8, vals, err, errlen);

    if (r == NULL || PQresultStatus(r) != PGRES_COMMAND_OK) {
        PQclear(r);
        rc = -1;
        goto done;
    }

    PQclear(r);

    snprintf(ts, sizeof(ts), "%lld", (long long) b->last_ts);
    snprintf(pos, sizeof(pos), "%lld", (long long) b->last_pos);
    vals[1] = ts;
    vals[2] = b->last_gtid[0] ? b->last_gtid : NULL;
    vals[3] = b->last_file[0] ? b->last_file : NULL;
    vals[4] = pos;

    r = cdc_pg_query(s->pg,
        "INSERT INTO strangler_cdc.applied AS a"
        " (service, source_ts_ms, gtid, file, pos, applied_at)"
        " VALUES ($1, $2, $3, $4, $5, now())"
        " ON CONFLICT (service) DO UPDATE"
        " SET source_ts_ms = EXCLUDED.source_ts_ms, gtid = EXCLUDED.gtid,"
        " file = EXCLUDED.file, pos = EXCLUDED.pos,"
        " applied_at = EXCLUDED.applied_at", 5, vals, err, errlen);

    if (r == NULL || PQresultStatus(r) != PGRES_COMMAND_OK) {
        rc = -1;
    }

    PQclear(r);

done:

    for (k = 0; k < 8; k++) {
        free(a[k].p);
    }

    return rc;
}


/*
 * The service's partitions as the target database has them: one row per
 * partition of the given topics (topic, partition, next_offset,
 * source_ts_ms, gtid, file, pos).  Every partition the group ever
 * assigned has a row (cdc_offsets_claim), so one no instance has applied
 * anything in yet reads as NULL.  Caller PQclear()s.
 */
PGresult *
cdc_offsets_partitions(PGconn *pg, const char *service,
    char *const *topics, size_t ntopics, char *err, size_t errlen)
{
    size_t       i;
    cdc_sql_t    t;
    PGresult    *r;
    const char  *vals[2];

    memset(&t, 0, sizeof(t));
    cdc_sql_add(&t, "{");

    for (i = 0; i < ntopics; i++) {
        if (i) {
            cdc_sql_add(&t, ",");
        }
        cdc_offsets_array_str(&t, topics[i]);
    }

    cdc_sql_add(&t, "}");

    if (t.oom) {
        free(t.p);
        (void) cdc_error(err, errlen, "out of memory");
        return NULL;
    }

    vals[0] = service;
    vals[1] = t.p;

    r = cdc_pg_query(pg, "SELECT topic, partition, next_offset,"
                     " source_ts_ms, gtid, file, pos"
                     " FROM strangler_cdc.offsets"
                     " WHERE service = $1 AND topic = ANY($2::text[])"
                     " ORDER BY topic, partition", 2, vals, err, errlen);
    free(t.p);

    if (r != NULL && PQresultStatus(r) != PGRES_TUPLES_OK) {
        PQclear(r);
        return NULL;
    }

    return r;
}


/*
 * --reset-offsets TOPIC: the stored offsets of every partition of topic
 * become Kafka's oldest retained offset.  For recovery after retention
 * passed the sink, once the table has been snapshotted again.
 */
int
cdc_offsets_reset(cdc_sink_t *s, const char *topic, char *err,
    size_t errlen)
{
    int                             i;
    char                            part[16], off[32];
    int64_t                         lo, hi;
    PGresult                       *r;
    const char                     *vals[4];
    rd_kafka_topic_t               *rkt;
    rd_kafka_resp_err_t             e;
    const struct rd_kafka_metadata *md;

    rkt = rd_kafka_topic_new(s->rk, topic, NULL);
    if (rkt == NULL) {
        return cdc_error(err, errlen, "topic \"%s\": %s", topic,
                         rd_kafka_err2str(rd_kafka_last_error()));
    }

    e = rd_kafka_metadata(s->rk, 0, rkt, &md, 10000);
    rd_kafka_topic_destroy(rkt);

    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return cdc_error(err, errlen, "topic \"%s\": metadata: %s", topic,
                         rd_kafka_err2str(e));
    }

    if (md->topic_cnt != 1 || md->topics[0].err) {
        rd_kafka_metadata_destroy(md);
        return cdc_error(err, errlen, "topic \"%s\" does not exist", topic);
    }

    for (i = 0; i < md->topics[0].partition_cnt; i++) {
        e = rd_kafka_query_watermark_offsets(s->rk, topic,
                                             md->topics[0].partitions[i].id,
                                             &lo, &hi, 10000);
        if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
            rd_kafka_metadata_destroy(md);
            return cdc_error(err, errlen, "%s[%d]: watermarks: %s", topic,
                             i, rd_kafka_err2str(e));
        }

        snprintf(part, sizeof(part), "%d", md->topics[0].partitions[i].id);
        snprintf(off, sizeof(off), "%lld", (long long) lo);
        vals[0] = s->svc->name;
        vals[1] = topic;
        vals[2] = part;
        vals[3] = off;

        r = cdc_pg_query(s->pg,
            "INSERT INTO strangler_cdc.offsets"
            " (service, topic, partition, next_offset)"
            " VALUES ($1, $2, $3, $4) ON CONFLICT (service, topic, partition)"
            " DO UPDATE SET next_offset = EXCLUDED.next_offset,"
            " updated_at = now()", 4, vals, err, errlen);

        if (r == NULL || PQresultStatus(r) != PGRES_COMMAND_OK) {
            PQclear(r);
            rd_kafka_metadata_destroy(md);
            return -1;
        }

        PQclear(r);

        cdc_log_info("service %s: %s[%s] offset set to %s (oldest "
                     "retained)", s->svc->name, topic, part, off);
    }

    rd_kafka_metadata_destroy(md);

    return 0;
}
