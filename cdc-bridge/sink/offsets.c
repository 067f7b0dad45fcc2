/*
 * cdc-bridge sink: consumed offsets live in the target database,
 *
 *   strangler_cdc.offsets (service, topic, partition, next_offset)
 *
 * written in the same transaction as the changes they cover, and read
 * back whenever the group assigns partitions to the sink, so a change is
 * applied exactly once however the sink stops.  Kafka's own group offsets
 * are not used.  strangler_cdc.applied keeps the last applied source
 * position per service, for people and for `status`.
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


/* Inside the batch's transaction: every partition the batch advanced. */
int
cdc_offsets_store(cdc_sink_t *s, cdc_sink_batch_t *b, char *err,
    size_t errlen)
{
    int               rc;
    char              num[32], pos[32], ts[32];
    size_t            i, n;
    cdc_sql_t         topics, parts, offs;
    PGresult         *r;
    const char       *vals[6];
    cdc_sink_part_t  *p;

    memset(&topics, 0, sizeof(topics));
    memset(&parts, 0, sizeof(parts));
    memset(&offs, 0, sizeof(offs));
    cdc_sql_add(&topics, "{");
    cdc_sql_add(&parts, "{");
    cdc_sql_add(&offs, "{");
    n = 0;

    for (i = 0; i < s->nparts; i++) {
        p = &s->parts[i];

        if (b->next[i] < 0) {
            continue;
        }

        if (n++) {
            cdc_sql_add(&topics, ",");
            cdc_sql_add(&parts, ",");
            cdc_sql_add(&offs, ",");
        }

        cdc_offsets_array_str(&topics, p->topic);
        snprintf(num, sizeof(num), "%d", (int) p->partition);
        cdc_sql_add(&parts, num);
        snprintf(num, sizeof(num), "%lld", (long long) b->next[i]);
        cdc_sql_add(&offs, num);
    }

    cdc_sql_add(&topics, "}");
    cdc_sql_add(&parts, "}");
    cdc_sql_add(&offs, "}");

    rc = 0;

    if (topics.oom || parts.oom || offs.oom) {
        rc = cdc_error(err, errlen, "out of memory");
        goto done;
    }

    if (n == 0) {
        goto done;
    }

    vals[0] = s->svc->name;
    vals[1] = topics.p;
    vals[2] = parts.p;
    vals[3] = offs.p;

    r = cdc_pg_query(s->pg,
        "INSERT INTO strangler_cdc.offsets AS o"
        " (service, topic, partition, next_offset, updated_at)"
        " SELECT $1, t, p, n, now()"
        " FROM unnest($2::text[], $3::integer[], $4::bigint[]) AS u(t, p, n)"
        " ON CONFLICT (service, topic, partition) DO UPDATE"
        " SET next_offset = EXCLUDED.next_offset,"
        " updated_at = EXCLUDED.updated_at", 4, vals, err, errlen);

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

    free(topics.p);
    free(parts.p);
    free(offs.p);

    return rc;
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
