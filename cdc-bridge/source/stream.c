/*
 * stream: binlog events in, Debezium envelopes out (see stream.h).
 *
 * Per event: parse the frame, keep the position, keep table maps (a cache
 * keyed by table id that skips re-parsing a TABLE_MAP identical to the
 * last one), decode rows into reusable value arrays and write topic, key
 * and value into reusable buffers: no malloc per row in the steady state.
 * A commit is reported after the position has moved past the committing
 * event, so the checkpoint it yields never replays a half transaction
 * or skips one.  MariaDB compressed events are inflated and handled as
 * their plain type; XA transactions are in stream_xa.c.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "event.h"
#include "source/stream_int.h"




static int cdc_stream_event(cdc_stream_t *s, const uint8_t *buf,
    size_t len, int in_payload, char *err, size_t errlen);
static int cdc_stream_rows(cdc_stream_t *s, const cdc_binlog_event_t *ev,
    char *err, size_t errlen);
static int cdc_stream_table_map(cdc_stream_t *s,
    const cdc_binlog_event_t *ev, char *err, size_t errlen);
static int cdc_stream_query(cdc_stream_t *s, const cdc_binlog_event_t *ev,
    char *err, size_t errlen);
static void cdc_stream_state_str(cdc_stream_t *s);


cdc_stream_t *
cdc_stream_create(const cdc_stream_opts_t *o, char *err, size_t errlen)
{
    cdc_stream_t  *s;

    if (o->topic_prefix == NULL || o->emit == NULL) {
        snprintf(err, errlen, "stream: topic_prefix and emit are required");
        return NULL;
    }

    s = calloc(1, sizeof(*s));
    if (s == NULL) {
        snprintf(err, errlen, "stream: out of memory");
        return NULL;
    }

    s->o = *o;
    s->prefix = strdup(o->topic_prefix);
    s->name = strdup(o->server_name ? o->server_name : o->topic_prefix);
    s->tables_cap = 64;
    s->tables = calloc(s->tables_cap, sizeof(cdc_stream_table_t));
    s->xa = cdc_xa_create();

    if (s->prefix == NULL || s->name == NULL || s->tables == NULL
        || s->xa == NULL)
    {
        snprintf(err, errlen, "stream: out of memory");
        cdc_stream_destroy(s);
        return NULL;
    }

    s->o.topic_prefix = s->prefix;
    s->o.server_name = s->name;

    cdc_binlog_format_init(&s->fmt);
    s->fmt.verify = o->verify_checksum;
    s->pos.pos = 4;
    s->committed = s->pos;
    s->ended = s->pos;
    return s;
}


static void
cdc_stream_table_clear(cdc_stream_table_t *e)
{
    cdc_binlog_table_free(e->t);
    free(e->raw);
    free(e->topic);
    memset(e, 0, sizeof(*e));
}


void
cdc_stream_destroy(cdc_stream_t *s)
{
    size_t  i;

    if (s == NULL) {
        return;
    }

    for (i = 0; s->tables && i < s->tables_cap; i++) {
        if (s->tables[i].used) {
            cdc_stream_table_clear(&s->tables[i]);
        }
    }

    free(s->tables);
    free(s->before);
    free(s->after);
    cdc_buf_free(&s->key);
    cdc_buf_free(&s->key2);
    cdc_buf_free(&s->value);
    cdc_buf_free(&s->scratch);
    free(s->payload);
    free(s->zbuf);
    cdc_xa_destroy(s->xa);
    free(s->prefix);
    free(s->name);
    free(s);
}


static size_t
cdc_strlcpy(char *dst, const char *src, size_t n)
{
    size_t  len;

    len = strlen(src);
    if (n) {
        if (len >= n) {
            memcpy(dst, src, n - 1);
            dst[n - 1] = '\0';
        } else {
            memcpy(dst, src, len + 1);
        }
    }

    return len;
}


int
cdc_stream_set_position(cdc_stream_t *s, const char *file, uint64_t pos,
    const char *gtid, const char *gtid_state)
{
    const char          *p;
    char                *end;
    cdc_stream_domain_t  d;
    unsigned long long   a, b, c;

    if (file != NULL) {
        if (strlen(file) >= sizeof(s->pos.file)) {
            return -1;
        }
        cdc_strlcpy(s->pos.file, file, sizeof(s->pos.file));
    }

    s->pos.pos = pos;

    if (gtid != NULL) {
        cdc_strlcpy(s->pos.gtid, gtid, sizeof(s->pos.gtid));
    }

    if (gtid_state != NULL) {
        s->ndomains = 0;
        p = gtid_state;
        while (*p && s->ndomains < CDC_STREAM_MAX_DOMAINS) {
            a = strtoull(p, &end, 10);
            if (*end != '-') {
                return -1;
            }
            b = strtoull(end + 1, &end, 10);
            if (*end != '-') {
                return -1;
            }
            c = strtoull(end + 1, &end, 10);
            d.domain = (uint32_t) a;
            d.server = (uint32_t) b;
            d.seq = c;
            s->domains[s->ndomains++] = d;
            p = end;
            while (*p == ',' || *p == ' ') {
                p++;
            }
        }
        cdc_stream_state_str(s);
    }

    s->committed = s->pos;
    s->ended = s->pos;
    return 0;
}


const cdc_stream_pos_t *
cdc_stream_position(const cdc_stream_t *s)
{
    return &s->pos;
}


const cdc_stream_pos_t *
cdc_stream_committed(const cdc_stream_t *s)
{
    return &s->committed;
}


const cdc_stream_stats_t *
cdc_stream_stats(const cdc_stream_t *s)
{
    return &s->stats;
}


int
cdc_stream_feed(cdc_stream_t *s, const uint8_t *ev, size_t len, char *err,
    size_t errlen)
{
    cdc_binlog_header_t  h;
    int                  rc;

    if (cdc_binlog_header_parse(&h, ev, len, err, errlen) != 0) {
        return -1;
    }

    s->ev_start = (h.log_pos >= h.event_size) ? h.log_pos - h.event_size
                                               : s->pos.pos;
    s->commit_pending = 0;

    rc = cdc_stream_event(s, ev, len, 0, err, errlen);
    if (rc != 0) {
        return -1;
    }

    if (h.log_pos != 0 && !(h.flags & CDC_BL_F_ARTIFICIAL)
        && h.type != CDC_BL_ROTATE)
    {
        s->pos.pos = h.log_pos;
    }

    if (s->commit_pending) {
        const cdc_stream_pos_t  *hold;

        s->commit_pending = 0;
        s->in_group = 0;
        s->stats.transactions++;

        if (s->ntables > CDC_STREAM_MAX_TABLES) {
            /* every ALTER gives a table a new id; the server repeats the
               TABLE_MAP in each transaction, so between transactions the
               cache can be emptied to keep memory bounded */
            size_t  i;

            for (i = 0; i < s->tables_cap; i++) {
                if (s->tables[i].used) {
                    cdc_stream_table_clear(&s->tables[i]);
                }
            }
            s->ntables = 0;
        }

        if (s->have_maria_gtid) {
            unsigned  i;

            for (i = 0; i < s->ndomains; i++) {
                if (s->domains[i].domain == s->txn_gtid.domain) {
                    break;
                }
            }
            if (i < CDC_STREAM_MAX_DOMAINS) {
                s->domains[i] = s->txn_gtid;
                if (i == s->ndomains) {
                    s->ndomains++;
                }
            }
            cdc_stream_state_str(s);
            s->have_maria_gtid = 0;
        }

        /* while an XA transaction is prepared and undecided, the safe
           position stays before its XA PREPARE group, so a restart
           reads that group again (xa.h); ts_ms is still this commit's */
        s->ended = s->pos;
        hold = cdc_xa_hold(s->xa);
        s->committed = hold ? *hold : s->pos;
        s->committed.ts_ms = s->pos.ts_ms;
        s->stats.xa_pending = cdc_xa_pending(s->xa);

        if (s->o.commit != NULL
            && s->o.commit(s->o.data, &s->committed) != 0)
        {
            snprintf(err, errlen, "%s:%llu: stopped by the commit callback",
                     s->pos.file, (unsigned long long) s->ev_start);
            return -1;
        }
    }

    return 0;
}


static void
cdc_stream_state_str(cdc_stream_t *s)
{
    size_t    off;
    unsigned  i;
    int       n;

    off = 0;
    s->pos.gtid_state[0] = '\0';
    for (i = 0; i < s->ndomains; i++) {
        n = snprintf(s->pos.gtid_state + off, sizeof(s->pos.gtid_state) - off,
                     "%s%u-%u-%llu", i ? "," : "", s->domains[i].domain,
                     s->domains[i].server,
                     (unsigned long long) s->domains[i].seq);
        if (n < 0 || (size_t) n >= sizeof(s->pos.gtid_state) - off) {
            break;
        }
        off += (size_t) n;
    }
}


/* a GTID event: a new group (transaction) starts */
static void
cdc_stream_group_start(cdc_stream_t *s)
{
    s->in_group = 1;
    s->gtid_xid_len = 0;

    if (cdc_xa_is_open(s->xa)) {
        /* an XA group that never reached XA_PREPARE */
        cdc_xa_drop(s->xa, cdc_xa_current(s->xa));
    }
}


static void
cdc_stream_mysql_gtid(cdc_stream_t *s, const cdc_binlog_mysql_gtid_t *g)
{
    static const char  hex[] = "0123456789abcdef";
    char              *o;
    unsigned           i;
    int                n;

    o = s->pos.gtid;
    for (i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            *o++ = '-';
        }
        *o++ = hex[g->sid[i] >> 4];
        *o++ = hex[g->sid[i] & 15];
    }
    *o = '\0';

    n = (int) (o - s->pos.gtid);
    if (g->tag[0]) {
        snprintf(o, sizeof(s->pos.gtid) - (size_t) n, ":%s:%lld", g->tag,
                 (long long) g->gno);
    } else {
        snprintf(o, sizeof(s->pos.gtid) - (size_t) n, ":%lld",
                 (long long) g->gno);
    }
}


static int
cdc_stream_event(cdc_stream_t *s, const uint8_t *buf, size_t len,
    int in_payload, char *err, size_t errlen)
{
    cdc_binlog_event_t  ev;
    char                e[256];
    size_t              n, off, ilen;
    const uint8_t      *inner;
    int                 rc;

    if (in_payload != 2) {
        s->stats.events++;
        s->stats.bytes += len;
    }

    if (cdc_binlog_event_parse(&ev, &s->fmt, buf, len, in_payload, e,
                               sizeof(e)) != 0)
    {
        snprintf(err, errlen, "%s:%llu: %s", s->pos.file,
                 (unsigned long long) s->ev_start, e);
        return -1;
    }

    if (s->o.server_id == 0) {
        s->pos.server_id = ev.h.server_id;
    } else {
        s->pos.server_id = s->o.server_id;
    }

    switch (ev.h.type) {

    case CDC_BL_TABLE_MAP:
        return cdc_stream_table_map(s, &ev, err, errlen);

    case CDC_BL_WRITE_ROWS_V0:
    case CDC_BL_UPDATE_ROWS_V0:
    case CDC_BL_DELETE_ROWS_V0:
    case CDC_BL_WRITE_ROWS_V1:
    case CDC_BL_UPDATE_ROWS_V1:
    case CDC_BL_DELETE_ROWS_V1:
    case CDC_BL_WRITE_ROWS:
    case CDC_BL_UPDATE_ROWS:
    case CDC_BL_DELETE_ROWS:
    case CDC_BL_PARTIAL_UPDATE_ROWS:
        return cdc_stream_rows(s, &ev, err, errlen);

    case CDC_BL_QUERY:
        return cdc_stream_query(s, &ev, err, errlen);

    case CDC_BL_XID:
        s->commit_pending = 1;
        return 0;

    case CDC_BL_XA_PREPARE:
        return cdc_stream_xa_prepare(s, &ev, err, errlen);

    case CDC_BL_ROTATE:
        if (in_payload) {
            return 0;
        }
        n = ev.u.rotate.file_len;
        if (n >= sizeof(s->pos.file)) {
            snprintf(err, errlen, "%s:%llu: ROTATE to a %zu-byte file name",
                     s->pos.file, (unsigned long long) s->ev_start, n);
            return -1;
        }
        memcpy(s->pos.file, ev.u.rotate.file, n);
        s->pos.file[n] = '\0';
        s->pos.pos = ev.u.rotate.pos;
        return 0;

    case CDC_BL_MARIA_GTID:
        cdc_stream_group_start(s);
        if (ev.u.maria_gtid.flags & CDC_BL_GTID_PREPARED_XA) {
            uint8_t  key[CDC_XA_KEY_MAX];

            if (cdc_xa_open(s->xa, key,
                            cdc_stream_xid_key(key, &ev.u.maria_gtid.xid),
                            &s->ended) != 0)
            {
                goto nomem;
            }
        } else if (ev.u.maria_gtid.flags & CDC_BL_GTID_COMPLETED_XA) {
            s->gtid_xid_len = cdc_stream_xid_key(s->gtid_xid,
                                                 &ev.u.maria_gtid.xid);
        }
        s->have_maria_gtid = 1;
        s->txn_gtid.domain = ev.u.maria_gtid.domain;
        s->txn_gtid.server = ev.h.server_id;
        s->txn_gtid.seq = ev.u.maria_gtid.seq;
        snprintf(s->pos.gtid, sizeof(s->pos.gtid), "%u-%u-%llu",
                 ev.u.maria_gtid.domain, ev.h.server_id,
                 (unsigned long long) ev.u.maria_gtid.seq);
        s->pos.ts_ms = (uint64_t) ev.h.timestamp * 1000;
        return 0;

    case CDC_BL_MARIA_GTID_LIST:
        if (s->ndomains == 0) {
            uint32_t  i;

            for (i = 0; i < ev.u.maria_gtid_list.count
                        && s->ndomains < CDC_STREAM_MAX_DOMAINS; i++)
            {
                const uint8_t  *p = ev.u.maria_gtid_list.list + 16 * i;
                cdc_stream_domain_t  d;
                unsigned             k;

                d.domain = (uint32_t) p[0] | (uint32_t) p[1] << 8
                           | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
                d.server = (uint32_t) p[4] | (uint32_t) p[5] << 8
                           | (uint32_t) p[6] << 16 | (uint32_t) p[7] << 24;
                d.seq = 0;
                for (k = 8; k > 0; k--) {
                    d.seq = (d.seq << 8) | p[7 + k];
                }
                for (k = 0; k < s->ndomains; k++) {
                    if (s->domains[k].domain == d.domain) {
                        break;
                    }
                }
                if (k == s->ndomains) {
                    s->ndomains++;
                }
                if (s->domains[k].seq <= d.seq || k + 1 == s->ndomains) {
                    s->domains[k] = d;
                }
            }
            cdc_stream_state_str(s);
        }
        return 0;

    case CDC_BL_GTID:
    case CDC_BL_GTID_TAGGED:
        cdc_stream_mysql_gtid(s, &ev.u.gtid);
        /* fall through */
    case CDC_BL_ANONYMOUS_GTID:
        cdc_stream_group_start(s);
        if (ev.h.type == CDC_BL_ANONYMOUS_GTID) {
            s->pos.gtid[0] = '\0';
        }
        s->pos.ts_ms = ev.u.gtid.immediate_commit_us
                       ? ev.u.gtid.immediate_commit_us / 1000
                       : (uint64_t) ev.h.timestamp * 1000;
        return 0;

    case CDC_BL_TRANSACTION_PAYLOAD:
        if (in_payload) {
            snprintf(err, errlen, "%s:%llu: nested TRANSACTION_PAYLOAD",
                     s->pos.file, (unsigned long long) s->ev_start);
            return -1;
        }
        if (cdc_binlog_payload_decompress(&ev, &s->payload, &s->payload_cap,
                                          &n, e, sizeof(e)) != 0)
        {
            snprintf(err, errlen, "%s:%llu: %s", s->pos.file,
                     (unsigned long long) s->ev_start, e);
            return -1;
        }
        off = 0;
        while ((rc = cdc_binlog_payload_next(s->payload, n, &off, &inner,
                                             &ilen, e, sizeof(e))) == 1)
        {
            if (cdc_stream_event(s, inner, ilen, 1, err, errlen) != 0) {
                return -1;
            }
        }
        if (rc < 0) {
            snprintf(err, errlen, "%s:%llu: %s", s->pos.file,
                     (unsigned long long) s->ev_start, e);
            return -1;
        }
        return 0;

    case CDC_BL_MARIA_QUERY_COMPRESSED:
    case CDC_BL_MARIA_WRITE_ROWS_COMPRESSED_V1:
    case CDC_BL_MARIA_UPDATE_ROWS_COMPRESSED_V1:
    case CDC_BL_MARIA_DELETE_ROWS_COMPRESSED_V1:
    case CDC_BL_MARIA_WRITE_ROWS_COMPRESSED:
    case CDC_BL_MARIA_UPDATE_ROWS_COMPRESSED:
    case CDC_BL_MARIA_DELETE_ROWS_COMPRESSED:
        /* log_bin_compress=ON: rebuilt as the plain event (no CRC32,
           hence in_payload 2) and handled as such */
        if (in_payload == 2
            || cdc_binlog_uncompress_event(&ev, &s->fmt, &s->zbuf,
                                           &s->zbuf_cap, &n, e, sizeof(e))
               != 0)
        {
            snprintf(err, errlen, "%s:%llu: %s", s->pos.file,
                     (unsigned long long) s->ev_start,
                     in_payload == 2 ? "compressed event inside a "
                                       "compressed event" : e);
            return -1;
        }
        return cdc_stream_event(s, s->zbuf, n, 2, err, errlen);

    case CDC_BL_START_V3:
    case CDC_BL_STOP:
    case CDC_BL_INTVAR:
    case CDC_BL_RAND:
    case CDC_BL_USER_VAR:
    case CDC_BL_FORMAT_DESCRIPTION:
    case CDC_BL_INCIDENT:
    case CDC_BL_HEARTBEAT:
    case CDC_BL_IGNORABLE:
    case CDC_BL_ROWS_QUERY:
    case CDC_BL_PREVIOUS_GTIDS:
    case CDC_BL_TRANSACTION_CONTEXT:
    case CDC_BL_VIEW_CHANGE:
    case CDC_BL_HEARTBEAT_V2:
    case CDC_BL_MARIA_ANNOTATE_ROWS:
    case CDC_BL_MARIA_BINLOG_CHECKPOINT:
    case CDC_BL_MARIA_START_ENCRYPTION:
        /* nothing to stream (FDE: handled by the parser) */
        return 0;

    default:
        if (s->in_group && !(ev.h.flags & CDC_BL_F_IGNORABLE)) {
            /* it may carry changes of this transaction: skipping it
               could lose them, and the checkpoint would pass them */
            snprintf(err, errlen, "%s:%llu: event type %u (%s) inside the "
                     "transaction of GTID %s is not understood; stopping "
                     "rather than skipping its changes", s->pos.file,
                     (unsigned long long) s->ev_start, ev.h.type,
                     cdc_binlog_type_name(ev.h.type),
                     s->pos.gtid[0] ? s->pos.gtid : "(none)");
            return -1;
        }
        /* between transactions (Aurora's 100, …): nothing to stream */
        return 0;
    }

nomem:

    snprintf(err, errlen, "%s:%llu: out of memory", s->pos.file,
             (unsigned long long) s->ev_start);
    return -1;
}


static int
cdc_stream_query(cdc_stream_t *s, const cdc_binlog_event_t *ev, char *err,
    size_t errlen)
{
    const char  *q;
    size_t       n;
    char         db[256];

    q = ev->u.query.sql;
    n = ev->u.query.sql_len;
    while (n && (*q == ' ' || *q == '\n' || *q == '\t' || *q == '\r')) {
        q++;
        n--;
    }

    if (n == 5 && strncasecmp(q, "BEGIN", 5) == 0) {
        s->in_group = 1;
        if (s->pos.ts_ms == 0 || !s->pos.gtid[0]) {
            s->pos.ts_ms = (uint64_t) ev->h.timestamp * 1000;
        }
        return 0;
    }

    if ((n == 6 && strncasecmp(q, "COMMIT", 6) == 0)
        || (n == 8 && strncasecmp(q, "ROLLBACK", 8) == 0))
    {
        s->commit_pending = 1;
        return 0;
    }

    if (n >= 3 && strncasecmp(q, "XA ", 3) == 0) {
        return cdc_stream_xa_query(s, q, n, err, errlen);
    }

    if ((n >= 9 && strncasecmp(q, "SAVEPOINT", 9) == 0)
        || (n >= 11 && strncasecmp(q, "ROLLBACK TO", 11) == 0))
    {
        return 0;
    }

    /* a DDL (or a statement-based change): its own transaction */
    s->commit_pending = 1;
    s->pos.ts_ms = (uint64_t) ev->h.timestamp * 1000;

    if (s->o.ddl != NULL) {
        n = ev->u.query.db_len < sizeof(db) ? ev->u.query.db_len
                                            : sizeof(db) - 1;
        memcpy(db, ev->u.query.db, n);
        db[n] = '\0';
        if (s->o.ddl(s->o.data, db, ev->u.query.sql, ev->u.query.sql_len,
                     &s->pos) != 0)
        {
            snprintf(err, errlen, "%s:%llu: stopped by the ddl callback",
                     s->pos.file, (unsigned long long) s->ev_start);
            return -1;
        }
    }

    return 0;
}


static cdc_stream_table_t *
cdc_stream_table_find(cdc_stream_t *s, uint64_t id)
{
    size_t  i, mask;

    mask = s->tables_cap - 1;
    for (i = (size_t) (id * 0x9e3779b97f4a7c15ULL >> 32) & mask; ;
         i = (i + 1) & mask)
    {
        if (!s->tables[i].used || s->tables[i].table_id == id) {
            return &s->tables[i];
        }
    }
}


static int
cdc_stream_tables_grow(cdc_stream_t *s)
{
    cdc_stream_table_t  *old, *e;
    size_t               i, cap;

    old = s->tables;
    cap = s->tables_cap;

    s->tables = calloc(cap * 2, sizeof(cdc_stream_table_t));
    if (s->tables == NULL) {
        s->tables = old;
        return -1;
    }
    s->tables_cap = cap * 2;

    for (i = 0; i < cap; i++) {
        if (old[i].used) {
            e = cdc_stream_table_find(s, old[i].table_id);
            *e = old[i];
        }
    }

    free(old);
    return 0;
}


static int
cdc_stream_table_map(cdc_stream_t *s, const cdc_binlog_event_t *ev,
    char *err, size_t errlen)
{
    cdc_stream_table_t  *e;
    cdc_binlog_table_t  *t;
    char                 msg[256];
    cdc_buf_t            topic = { NULL, 0, 0 };
    cdc_binlog_value_t  *nb, *na;

    e = cdc_stream_table_find(s, ev->u.rows.table_id);
    if (e->used && e->raw_len == ev->body_len
        && memcmp(e->raw, ev->body, ev->body_len) == 0)
    {
        return 0;
    }

    t = cdc_binlog_table_parse(ev, &s->fmt, msg, sizeof(msg));
    if (t == NULL) {
        snprintf(err, errlen, "%s:%llu: %s", s->pos.file,
                 (unsigned long long) s->ev_start, msg);
        return -1;
    }

    if (!e->used && (s->ntables + 1) * 2 > s->tables_cap) {
        if (cdc_stream_tables_grow(s) != 0) {
            cdc_binlog_table_free(t);
            goto nomem;
        }
        e = cdc_stream_table_find(s, ev->u.rows.table_id);
    }

    if (e->used) {
        cdc_stream_table_clear(e);
    } else {
        s->ntables++;
    }

    e->used = 1;
    e->table_id = t->table_id;
    e->t = t;
    e->raw = malloc(ev->body_len ? ev->body_len : 1);
    if (e->raw == NULL || cdc_event_topic(&topic, s->prefix, t->db,
                                          t->table) != 0)
    {
        cdc_buf_free(&topic);
        goto nomem;
    }
    memcpy(e->raw, ev->body, ev->body_len);
    e->raw_len = ev->body_len;
    e->topic = topic.data;
    e->topic_len = topic.len;
    /* a SEQUENCE's refills are no row changes: skipped (docs) */
    e->wanted = !cdc_binlog_table_is_sequence(t)
                && (s->o.filter == NULL
                    || s->o.filter(s->o.data, t->db, t->table));

    if (e->wanted && s->o.table && s->o.table(s->o.data, t) != 0) {
        /* parse it again next time */
        e->raw_len = 0;
        snprintf(err, errlen, "stopped by callback");
        return -1;
    }

    if (t->ncols > s->vals_cap) {
        nb = realloc(s->before, sizeof(cdc_binlog_value_t) * t->ncols);
        if (nb == NULL) {
            goto nomem;
        }
        s->before = nb;
        na = realloc(s->after, sizeof(cdc_binlog_value_t) * t->ncols);
        if (na == NULL) {
            goto nomem;
        }
        s->after = na;
        s->vals_cap = t->ncols;
    }

    return 0;

nomem:

    snprintf(err, errlen, "%s:%llu: out of memory", s->pos.file,
             (unsigned long long) s->ev_start);
    return -1;
}


int
cdc_stream_nomem(cdc_stream_t *s, char *err, size_t errlen)
{
    snprintf(err, errlen, "%s:%llu: out of memory", s->pos.file,
             (unsigned long long) s->ev_start);
    return -1;
}


static int
cdc_stream_emit(cdc_stream_t *s, cdc_stream_table_t *e, char op,
    const cdc_binlog_value_t *before, const cdc_binlog_value_t *after,
    cdc_buf_t *key, unsigned row, uint64_t now, char *err, size_t errlen)
{
    cdc_event_source_t   src;
    cdc_stream_change_t  ch;
    char                 msg[256];
    const char          *gtid;

    gtid = s->pos.gtid[0] ? s->pos.gtid : NULL;

    src.name = s->name;
    src.ts_ms = s->pos.ts_ms;
    src.db = e->t->db;
    src.table = e->t->table;
    src.server_id = s->pos.server_id;
    src.gtid = gtid;
    src.file = s->pos.file;
    src.pos = s->ev_start;
    src.row = row;
    src.snapshot = s->o.snapshot ? "true" : "false";

    s->value.len = 0;
    if (cdc_event_value_begin(&s->value) != 0) {
        goto nomem;
    }

    if (before != NULL) {
        if (cdc_event_put_binlog_row(&s->value, e->t, before, NULL,
                                     &s->scratch, msg, sizeof(msg)) != 0)
        {
            goto failed;
        }
    } else if (cdc_buf_put(&s->value, "null", 4) != 0) {
        goto nomem;
    }

    if (cdc_event_value_after(&s->value) != 0) {
        goto nomem;
    }

    if (after != NULL) {
        if (cdc_event_put_binlog_row(&s->value, e->t, after,
                                     op == 'u' ? before : NULL,
                                     &s->scratch, msg, sizeof(msg)) != 0)
        {
            goto failed;
        }
    } else if (cdc_buf_put(&s->value, "null", 4) != 0) {
        goto nomem;
    }

    if (cdc_xa_is_open(s->xa)) {
        /* a prepared XA transaction's change waits for its XA COMMIT */
        cdc_xa_change_t  xc;

        xc.topic = e->topic;
        xc.topic_len = e->topic_len;
        xc.key = key->data;
        xc.key_len = key->len;
        xc.value = s->value.data;
        xc.value_len = s->value.len;
        xc.db = e->t->db;
        xc.table = e->t->table;
        xc.op = op;
        return cdc_xa_add(s->xa, &xc) == 0 ? 0 : cdc_stream_nomem(s, err,
                                                                 errlen);
    }

    if (cdc_event_value_end(&s->value, &src, op, now) != 0) {
        goto nomem;
    }

    ch.topic = e->topic;
    ch.topic_len = e->topic_len;
    ch.key = key->data;
    ch.key_len = key->len;
    ch.value = s->value.data;
    ch.value_len = s->value.len;
    ch.db = e->t->db;
    ch.table = e->t->table;
    ch.op = op;
    ch.event_pos = s->ev_start;
    ch.row = row;
    ch.pos = &s->pos;

    s->stats.rows++;

    if (s->o.emit(s->o.data, &ch) != 0) {
        snprintf(err, errlen, "%s:%llu: stopped by the emit callback",
                 s->pos.file, (unsigned long long) s->ev_start);
        return -1;
    }

    return 0;

failed:

    snprintf(err, errlen, "%s:%llu: %s.%s row %u: %s", s->pos.file,
             (unsigned long long) s->ev_start, e->t->db, e->t->table, row,
             msg);
    return -1;

nomem:

    snprintf(err, errlen, "%s:%llu: out of memory", s->pos.file,
             (unsigned long long) s->ev_start);
    return -1;
}


static int
cdc_stream_rows(cdc_stream_t *s, const cdc_binlog_event_t *ev, char *err,
    size_t errlen)
{
    cdc_stream_table_t  *e;
    cdc_binlog_rows_t    r;
    char                 msg[256];
    int                  rc;
    uint64_t             now;
    unsigned             row;

    if (errlen) {
        err[0] = '\0';
    }

    e = cdc_stream_table_find(s, ev->u.rows.table_id);
    if (!e->used) {
        snprintf(err, errlen, "%s:%llu: %s event for table id %llu without "
                 "a TABLE_MAP", s->pos.file,
                 (unsigned long long) s->ev_start,
                 cdc_binlog_type_name(ev->h.type),
                 (unsigned long long) ev->u.rows.table_id);
        return -1;
    }

    if (cdc_binlog_rows_open(&r, ev, &s->fmt, msg, sizeof(msg)) != 0) {
        goto failed;
    }

    now = s->o.fixed_ts_ms ? s->o.fixed_ts_ms : cdc_event_now_ms();
    if (s->pos.ts_ms == 0) {
        s->pos.ts_ms = (uint64_t) ev->h.timestamp * 1000;
    }

    for ( ;; ) {
        row = r.row;
        rc = cdc_binlog_rows_next(&r, e->t, s->before, s->after, msg,
                                  sizeof(msg));
        if (rc < 0) {
            goto failed;
        }
        if (rc == 0) {
            break;
        }

        if (!e->wanted) {
            s->stats.skipped_rows++;
            continue;
        }

        switch (r.op) {

        case 'c':
            s->key.len = 0;
            if (cdc_event_put_binlog_key(&s->key, e->t, s->after,
                                         &s->scratch, msg, sizeof(msg)) != 0
                || cdc_stream_emit(s, e, 'c', NULL, s->after, &s->key, row,
                                   now, err, errlen) != 0)
            {
                goto out;
            }
            break;

        case 'd':
            s->key.len = 0;
            if (cdc_event_put_binlog_key(&s->key, e->t, s->before,
                                         &s->scratch, msg, sizeof(msg)) != 0
                || cdc_stream_emit(s, e, 'd', s->before, NULL, &s->key, row,
                                   now, err, errlen) != 0)
            {
                goto out;
            }
            break;

        default:
            s->key.len = 0;
            s->key2.len = 0;
            if (cdc_event_put_binlog_key(&s->key, e->t, s->after,
                                         &s->scratch, msg, sizeof(msg)) != 0
                || cdc_event_put_binlog_key(&s->key2, e->t, s->before,
                                            &s->scratch, msg, sizeof(msg))
                   != 0)
            {
                goto out;
            }

            if (s->key.len == 4 && s->key2.len > 4) {
                /* a MINIMAL after image without the key columns */
                s->key.len = 0;
                if (cdc_buf_put(&s->key, s->key2.data, s->key2.len) != 0) {
                    goto out;
                }
            }

            if (s->key2.len > 4
                && (s->key.len != s->key2.len
                    || memcmp(s->key.data, s->key2.data, s->key.len) != 0))
            {
                /* the primary key changed: a delete of the old key, then
                   a create of the new one (as Debezium does) */
                if (cdc_stream_emit(s, e, 'd', s->before, NULL, &s->key2,
                                    row, now, err, errlen) != 0
                    || cdc_stream_emit(s, e, 'c', NULL, s->after, &s->key,
                                       row, now, err, errlen) != 0)
                {
                    goto out;
                }
                break;
            }

            if (cdc_stream_emit(s, e, 'u', s->before, s->after, &s->key,
                                row, now, err, errlen) != 0)
            {
                goto out;
            }
            break;
        }
    }

    return 0;

failed:

    snprintf(err, errlen, "%s:%llu: %s", s->pos.file,
             (unsigned long long) s->ev_start, msg);
    return -1;

out:

    /* err is set by emit; a key error left it in msg */
    if (err[0] == '\0') {
        snprintf(err, errlen, "%s:%llu: %s", s->pos.file,
                 (unsigned long long) s->ev_start, msg);
    }
    return -1;
}
