/*
 * cdc-bridge run: DDL that empties a table.  TRUNCATE [TABLE] t,
 * DROP TABLE [IF EXISTS] t[, …] and MariaDB's CREATE OR REPLACE TABLE t
 * of a captured table become a truncate
 * event (op "t", before and after null, as Debezium's connectors write
 * it) sent to EVERY partition of the table's topic, so a sink meets it in
 * each partition after all the changes before it (docs/events.md).
 * Other DDL (ALTER TABLE …) needs no event: the next rows carry the new
 * shape in their TABLE_MAP.
 */

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "log.h"
#include "source/ddl.h"
#include "source/run_int.h"


/* skips blanks and comments (slash-star, -- and # to the line end) */
static const char *
cdc_ddl_blank(const char *p, const char *end)
{
    for ( ;; ) {
        while (p < end && isspace((unsigned char) *p)) {
            p++;
        }

        if (end - p >= 2 && p[0] == '/' && p[1] == '*') {
            p = memmem(p + 2, (size_t) (end - p - 2), "*/", 2);
            p = p ? p + 2 : end;
            continue;
        }

        if ((end - p >= 2 && p[0] == '-' && p[1] == '-') || (p < end
            && *p == '#'))
        {
            while (p < end && *p != '\n') {
                p++;
            }
            continue;
        }

        return p;
    }
}


/* the keyword w (case-insensitive, whole word) at p, or NULL */
static const char *
cdc_ddl_word(const char *p, const char *end, const char *w)
{
    size_t  n;

    p = cdc_ddl_blank(p, end);
    n = strlen(w);

    if ((size_t) (end - p) < n || strncasecmp(p, w, n) != 0) {
        return NULL;
    }

    if (p + n < end && (isalnum((unsigned char) p[n]) || p[n] == '_'
                        || p[n] == '$'))
    {
        return NULL;
    }

    return p + n;
}


/* one identifier, `quoted` (`` for `) or bare, into out; NULL if none */
static const char *
cdc_ddl_ident(const char *p, const char *end, char *out, size_t len)
{
    size_t  n;

    p = cdc_ddl_blank(p, end);
    n = 0;

    if (p < end && *p == '`') {
        for (p++; p < end; p++) {
            if (*p == '`') {
                if (p + 1 < end && p[1] == '`') {
                    p++;
                } else {
                    break;
                }
            }
            if (n + 1 >= len) {
                return NULL;
            }
            out[n++] = *p;
        }

        if (p == end) {
            return NULL;
        }
        p++;

    } else {
        while (p < end && (isalnum((unsigned char) *p) || *p == '_'
                           || *p == '$' || (unsigned char) *p >= 0x80))
        {
            if (n + 1 >= len) {
                return NULL;
            }
            out[n++] = *p++;
        }
    }

    out[n] = '\0';

    return n ? p : NULL;
}


/* [db.]table into t, db defaulting to the statement's */
static const char *
cdc_ddl_name(const char *p, const char *end, const char *db,
    cdc_ddl_table_t *t)
{
    char  first[sizeof(t->table)];

    p = cdc_ddl_ident(p, end, first, sizeof(first));
    if (p == NULL) {
        return NULL;
    }

    if (p < end && *p == '.') {
        snprintf(t->db, sizeof(t->db), "%s", first);
        return cdc_ddl_ident(p + 1, end, t->table, sizeof(t->table));
    }

    snprintf(t->db, sizeof(t->db), "%s", db);
    snprintf(t->table, sizeof(t->table), "%s", first);

    return p;
}


int
cdc_ddl_parse(const char *db, const char *sql, size_t len,
    cdc_ddl_table_t *tables, size_t max)
{
    size_t       n;
    const char  *p, *q, *end;

    end = sql + len;

    if ((p = cdc_ddl_word(sql, end, "TRUNCATE")) != NULL) {
        q = cdc_ddl_word(p, end, "TABLE");
        p = q ? q : p;

        if (max == 0 || cdc_ddl_name(p, end, db, &tables[0]) == NULL) {
            return 0;
        }

        tables[0].kind = "TRUNCATE";
        return 1;
    }

    /* MariaDB: the old table and its rows go first */
    if ((p = cdc_ddl_word(sql, end, "CREATE")) != NULL
        && (p = cdc_ddl_word(p, end, "OR")) != NULL
        && (p = cdc_ddl_word(p, end, "REPLACE")) != NULL
        && (p = cdc_ddl_word(p, end, "TABLE")) != NULL)
    {
        if (max == 0 || cdc_ddl_name(p, end, db, &tables[0]) == NULL) {
            return 0;
        }

        tables[0].kind = "CREATE OR REPLACE TABLE";
        return 1;
    }

    if ((p = cdc_ddl_word(sql, end, "DROP")) == NULL
        || (p = cdc_ddl_word(p, end, "TABLE")) == NULL)
    {
        /* DROP TEMPORARY TABLE too: temporary tables are not captured */
        return 0;
    }

    if ((q = cdc_ddl_word(p, end, "IF")) != NULL
        && (q = cdc_ddl_word(q, end, "EXISTS")) != NULL)
    {
        p = q;
    }

    for (n = 0; n < max; ) {
        p = cdc_ddl_name(p, end, db, &tables[n]);
        if (p == NULL) {
            break;
        }

        tables[n++].kind = "DROP TABLE";
        p = cdc_ddl_blank(p, end);

        if (p == end || *p != ',') {
            break;
        }
        p++;
    }

    return (int) n;
}


int
cdc_ddl_drops_partition(const char *sql, size_t len)
{
    char         buf[4096];
    const char  *end;

    end = sql + len;

    if (cdc_ddl_word(sql, end, "ALTER") == NULL) {
        return 0;
    }

    len = len < sizeof(buf) - 1 ? len : sizeof(buf) - 1;
    memcpy(buf, sql, len);
    buf[len] = '\0';

    return strcasestr(buf, "TRUNCATE PARTITION") != NULL
           || strcasestr(buf, "DROP PARTITION") != NULL;
}


/* one message to one partition, tracked like every change */
static int
cdc_ddl_produce(cdc_run_t *r, rd_kafka_topic_t *rkt, int32_t part,
    const cdc_buf_t *v)
{
    uint64_t             seq;
    rd_kafka_resp_err_t  e;

    while (cdc_acks_room(&r->acks) == 0) {
        if (cdc_run_poll(r, 100) != 0) {
            return -1;
        }
    }

    seq = cdc_acks_take(&r->acks);

    for ( ;; ) {
        if (rd_kafka_produce(rkt, part, RD_KAFKA_MSG_F_COPY, v->data,
                             v->len, "null", 4, (void *) (uintptr_t) seq)
            == 0)
        {
            cdc_run_store(r->produced, r->produced + 1);
            return 0;
        }

        e = rd_kafka_last_error();

        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL || cdc_run_poll(r, 100) != 0)
        {
            cdc_acks_delivered(&r->acks, seq, 0, rd_kafka_err2str(e));
            cdc_log_error("truncate event to %s [%d]: %s",
                          rd_kafka_topic_name(rkt), (int) part,
                          rd_kafka_err2str(e));
            return -1;
        }
    }
}


static int
cdc_ddl_envelope(cdc_run_t *r, const cdc_ddl_table_t *t,
    const cdc_stream_pos_t *pos, cdc_buf_t *v)
{
    cdc_event_source_t  src;

    memset(&src, 0, sizeof(src));
    src.name = r->cf->topic_prefix;
    src.ts_ms = pos->ts_ms;
    src.db = t->db;
    src.table = t->table;
    src.server_id = pos->server_id;
    src.gtid = pos->gtid[0] ? pos->gtid : NULL;
    src.file = pos->file;
    src.pos = pos->pos;
    src.snapshot = "false";

    if (cdc_event_value_begin(v) != 0 || cdc_buf_puts(v, "null") != 0
        || cdc_event_value_after(v) != 0 || cdc_buf_puts(v, "null") != 0
        || cdc_event_value_end(v, &src, 't', cdc_event_now_ms()) != 0)
    {
        return -1;
    }

    return 0;
}


int
cdc_ddl_truncate(cdc_run_t *r, const cdc_ddl_table_t *t,
    const cdc_stream_pos_t *pos)
{
    int                              rc, i, nparts;
    char                             topic[512];
    cdc_buf_t                        v;
    rd_kafka_topic_t                *rkt;
    const struct rd_kafka_metadata  *md;
    rd_kafka_resp_err_t              e;

    if (cdc_config_topic(r->cf, t->db, t->table, topic, sizeof(topic)) != 0)
    {
        cdc_log_error("%s %s.%s: topic name too long", t->kind, t->db,
                      t->table);
        return -1;
    }

    rkt = rd_kafka_topic_new(r->rk, topic, NULL);
    if (rkt == NULL) {
        cdc_log_error("%s %s.%s: %s", t->kind, t->db, t->table,
                      rd_kafka_err2str(rd_kafka_last_error()));
        return -1;
    }

    /* every partition: each must carry the truncate after its changes */
    while ((e = rd_kafka_metadata(r->rk, 0, rkt, &md, 5000))
           != RD_KAFKA_RESP_ERR_NO_ERROR)
    {
        cdc_log_warn("%s %s.%s: metadata of %s: %s (retrying)", t->kind,
                     t->db, t->table, topic, rd_kafka_err2str(e));
        if (cdc_run_poll(r, 1000) != 0) {
            rd_kafka_topic_destroy(rkt);
            return -1;
        }
    }

    nparts = md->topic_cnt == 1 && md->topics[0].err == 0
             ? md->topics[0].partition_cnt : 0;
    rd_kafka_metadata_destroy(md);

    memset(&v, 0, sizeof(v));
    rc = cdc_ddl_envelope(r, t, pos, &v);

    for (i = 0; rc == 0 && i < nparts; i++) {
        rc = cdc_ddl_produce(r, rkt, i, &v);
    }

    cdc_buf_free(&v);
    rd_kafka_topic_destroy(rkt);

    if (rc == 0) {
        cdc_log_info("%s %s.%s at %s:%" PRIu64 ": truncate event sent to "
                     "the %d partitions of %s", t->kind, t->db, t->table,
                     pos->file, pos->pos, nparts, topic);
    }

    return rc;
}
