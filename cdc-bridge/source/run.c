/*
 * `cdc-bridge run`: binlog -> Kafka.
 *
 * One thread does the work, in the manner of librdkafka's
 * examples/producer.c: fetch a binlog event, feed it to the stream
 * processor (stream.h), whose callbacks produce one message per row
 * change; rd_kafka_poll() on every pass serves delivery reports; a full
 * producer queue means poll and retry, never buffer more.  The metrics
 * HTTP server runs on its own thread and reads a status copy under a
 * mutex.  Signals only set a flag.
 *
 * Delivery and checkpoints: every message carries a sequence number; the
 * tracker (checkpoint.c) turns delivery reports into "everything up to n
 * is acknowledged" and a transaction's commit position becomes durable
 * only when everything produced before it is.  A failed delivery is fatal
 * and nothing past it is ever checkpointed.
 */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "commands.h"
#include "config.h"
#include "kafka.h"
#include "clock.h"
#include "log.h"
#include "metrics.h"
#include "source/ddl.h"
#include "source/replay.h"
#include "source/source.h"
#include "source/stream.h"
#include "source/run_int.h"


static volatile sig_atomic_t  cdc_run_stopping;


static void
cdc_run_signal(int signo)
{
    cdc_run_stopping = 1;
}


/* -------------------------------------------------------- kafka */

/*
 * "table shop.t, key {"id":1}, 1048710 bytes, binlog binlog.000001:1234
 * gtid 0-1-5" for an event Kafka refused, read back from its envelope
 * (only on that error path, so parsing a big value costs nothing).
 */
static void
cdc_run_describe(const void *key, size_t klen, const void *value,
    size_t vlen, char *buf, size_t len)
{
    json_t      *root, *src;
    const char  *db, *table, *file, *gtid, *snap;

    root = json_loadb(value, vlen, 0, NULL);
    src = root ? json_object_get(root, "source") : NULL;

    db = json_string_value(json_object_get(src, "db"));
    table = json_string_value(json_object_get(src, "table"));
    file = json_string_value(json_object_get(src, "file"));
    gtid = json_string_value(json_object_get(src, "gtid"));
    snap = json_string_value(json_object_get(src, "snapshot"));

    snprintf(buf, len, "table %s.%s, key %.*s%s, %zu bytes (key %zu, "
             "value %zu), %s %s:%" JSON_INTEGER_FORMAT "%s%s",
             db ? db : "?", table ? table : "?",
             (int) (klen > 200 ? 200 : klen), key ? (const char *) key : "",
             klen > 200 ? "…" : "", klen + vlen, klen, vlen,
             snap && strcmp(snap, "true") == 0 ? "snapshot row, snapshot at"
                                               : "binlog",
             file ? file : "?",
             json_integer_value(json_object_get(src, "pos")),
             gtid && gtid[0] ? " gtid " : "", gtid ? gtid : "");

    json_decref(root);
}


static void
cdc_run_too_big(const cdc_config_t *cf, const char *topic, const char *by,
    const char *what)
{
    cdc_log_error("event too big for Kafka, refused by %s: %s, topic %s. "
                  "Nothing past it is checkpointed, so every restart stops "
                  "here again until the limits allow it: raise [kafka] "
                  "max_message_bytes (now %d) and the brokers' "
                  "message.max.bytes or the topic's max.message.bytes, "
                  "and the consumers' limits (docs/cdc-bridge.md, Message "
                  "size)", by, what, topic, cf->max_message_bytes);
}


static void
cdc_run_dr(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque)
{
    cdc_run_t  *r;
    uint64_t    seq;
    char        why[1024], what[700];

    r = opaque;
    seq = (uint64_t) (uintptr_t) msg->_private;

    if (msg->err) {
        cdc_run_describe(msg->key, msg->key_len, msg->payload, msg->len,
                         what, sizeof(what));

        if (msg->err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE
            && !r->acks.failed)
        {
            cdc_run_too_big(r->cf, rd_kafka_topic_name(msg->rkt),
                            "the broker", what);
        }

        snprintf(why, sizeof(why), "topic %s partition %d: %s: %s",
                 rd_kafka_topic_name(msg->rkt), (int) msg->partition,
                 rd_kafka_err2str(msg->err), what);
        cdc_acks_delivered(&r->acks, seq, 0, why);
        return;
    }

    cdc_acks_delivered(&r->acks, seq, 1, NULL);
    cdc_run_store(r->delivered, r->delivered + 1);
    cdc_series_add(r->m_delivered, 1);
}


/*
 * A topic librdkafka has not seen waits for its next metadata refresh
 * (up to a second) before anything can be sent; ask at once instead.
 */
static void
cdc_run_warm_topic(cdc_run_t *r, const char *topic)
{
    rd_kafka_topic_t           *rkt;
    const struct rd_kafka_metadata  *md;

    rkt = rd_kafka_topic_new(r->rk, topic, NULL);
    if (rkt == NULL) {
        return;
    }

    if (rd_kafka_metadata(r->rk, 0, rkt, &md, 2000)
        == RD_KAFKA_RESP_ERR_NO_ERROR)
    {
        rd_kafka_metadata_destroy(md);
    }

    rd_kafka_topic_destroy(rkt);
}


static cdc_run_table_t *
cdc_run_table(cdc_run_t *r, const char *db, const char *table,
    const char *topic)
{
    char              name[256];
    size_t            i;
    cdc_run_table_t  *t, *n;
    static const char *ops[4] = { "c", "u", "d", "r" };

    if (snprintf(name, sizeof(name), "%s.%s", db, table)
        >= (int) sizeof(name))
    {
        return NULL;
    }

    if (r->last_table && strcmp(r->last_table->name, name) == 0) {
        return r->last_table;
    }

    for (i = 0; i < r->ntables; i++) {
        if (strcmp(r->tables[i].name, name) == 0) {
            r->last_table = &r->tables[i];
            return r->last_table;
        }
    }

    if (r->ntables == CDC_RUN_MAX_TABLES) {
        return NULL;
    }

    pthread_mutex_lock(&r->lock);

    if (r->tables == NULL) {
        n = calloc(CDC_RUN_MAX_TABLES, sizeof(cdc_run_table_t));
        if (n == NULL) {
            pthread_mutex_unlock(&r->lock);
            return NULL;
        }
        r->tables = n;
    }

    t = &r->tables[r->ntables];
    memset(t, 0, sizeof(*t));
    snprintf(t->name, sizeof(t->name), "%s", name);

    for (i = 0; i < 4; i++) {
        t->s[i] = cdc_metric_series(r->m_events, name, ops[i], NULL);
    }

    r->ntables++;
    pthread_mutex_unlock(&r->lock);

    r->last_table = t;
    cdc_run_warm_topic(r, topic);

    return t;
}


int
cdc_run_produce(cdc_run_t *r, const char *db, const char *table,
    const char *topic, const char *key, size_t klen, const char *value,
    size_t vlen, char op)
{
    char              err[512], what[700];
    uint64_t          seq;
    cdc_run_table_t  *t;
    int               i;

    /* back-pressure: the ack window is full, serve delivery reports */
    while (cdc_acks_room(&r->acks) == 0) {
        if (cdc_run_poll(r, 100) != 0) {
            return -1;
        }
    }

    t = cdc_run_table(r, db, table, topic);
    seq = cdc_acks_take(&r->acks);

    if (cdc_kafka_produce(r->rk, topic, key, klen, value, vlen,
                          (void *) (uintptr_t) seq, r->stop, err,
                          sizeof(err))
        != 0)
    {
        /* never acknowledged: the tracker stops before it */
        cdc_acks_delivered(&r->acks, seq, 0, err);

        if (*r->stop) {
            return -1;
        }

        cdc_run_describe(key, klen, value, vlen, what, sizeof(what));

        if (strstr(err, "message.max.bytes")) {
            cdc_run_too_big(r->cf, topic, "the producer", what);

        } else {
            cdc_log_error("produce to %s: %s (%s)", topic, err, what);
        }
        return -1;
    }

    cdc_run_store(r->produced, r->produced + 1);

    if (t) {
        i = op == 'c' ? 0 : op == 'u' ? 1 : op == 'd' ? 2 : 3;
        cdc_run_store(t->n[i], t->n[i] + 1);
        cdc_series_add(t->s[i], 1);
    }

    return 0;
}


int
cdc_run_poll(cdc_run_t *r, int timeout_ms)
{
    char  err[512];

    rd_kafka_poll(r->rk, timeout_ms);

    if (r->acks.failed) {
        cdc_log_error("delivery failed, stopping without checkpointing "
                      "past it: %s", r->acks.failed_why);
        return -1;
    }

    if (cdc_kafka_fatal(r->rk, err, sizeof(err))) {
        cdc_log_error("kafka producer failed, stopping: %s", err);
        r->acks.failed = r->acks.done + 1;
        return -1;
    }

    if (cdc_acks_advance(&r->acks)) {
        cdc_series_set(r->m_inflight, (double) cdc_acks_inflight(&r->acks));
    }

    if (*r->stop) {
        return -1;
    }

    return 0;
}


int
cdc_run_drain(cdc_run_t *r)
{
    while (cdc_acks_inflight(&r->acks) > 0) {
        if (cdc_run_poll(r, 100) != 0) {
            return -1;
        }
    }

    cdc_acks_advance(&r->acks);

    return 0;
}


cdc_checkpoint_t *
cdc_run_ckpt(cdc_run_t *r)
{
    return &r->ck;
}


volatile sig_atomic_t *
cdc_run_stop_flag(cdc_run_t *r)
{
    return r->stop;
}


void
cdc_run_set_phase(cdc_run_t *r, const char *phase)
{
    pthread_mutex_lock(&r->lock);
    snprintf(r->phase, sizeof(r->phase), "%s", phase);
    pthread_mutex_unlock(&r->lock);
}


/* ------------------------------------------------------------ checkpoint */

static int
cdc_run_checkpoint_try(cdc_run_t *r)
{
    char  err[512];

    if (cdc_checkpoint_save(r->cf->checkpoint_dir, &r->ck, err, sizeof(err))
        != 0)
    {
        cdc_series_add(r->m_ckpt_errors, 1);

        if (!r->ckpt_failing || strcmp(err, r->ckpt_err) != 0) {
            cdc_log_error("checkpoint write failed, not reading the binlog "
                          "past the last durable checkpoint until it "
                          "works (retrying every second): %s", err);
        }

        pthread_mutex_lock(&r->lock);
        r->ckpt_failing = 1;
        snprintf(r->ckpt_err, sizeof(r->ckpt_err), "%s", err);
        pthread_mutex_unlock(&r->lock);
        return -1;
    }

    if (r->ckpt_failing) {
        cdc_log_info("checkpoint writes work again");
    }

    pthread_mutex_lock(&r->lock);
    r->ckpt_failing = 0;
    r->ckpt_err[0] = '\0';
    r->ck.updated_ms = cdc_now_ms();
    pthread_mutex_unlock(&r->lock);

    cdc_series_set(r->m_ckpt_pos, (double) r->ck.pos.pos);

    return 0;
}


int
cdc_run_checkpoint_write(cdc_run_t *r)
{
    while (cdc_run_checkpoint_try(r) != 0) {
        if (cdc_run_poll(r, 1000) != 0) {
            return -1;
        }
    }

    return 0;
}


/* what the writer thread made durable, or why it could not, into /status */
static void
cdc_run_checkpoint_state(cdc_run_t *r)
{
    cdc_ckpt_state_t  st;

    cdc_ckpt_writer_state(r->ckw, &st);

    if (st.failures == r->ckpt_failures && st.failing == r->ckpt_failing
        && (!st.written || st.updated_ms == r->ck.updated_ms))
    {
        return;
    }

    cdc_series_add(r->m_ckpt_errors, (double) (st.failures
                                               - r->ckpt_failures));
    r->ckpt_failures = st.failures;

    if (st.failing
        && (!r->ckpt_failing || strcmp(st.err, r->ckpt_err) != 0))
    {
        cdc_log_error("checkpoint write failed, not reading the binlog "
                      "past the last durable checkpoint until it works "
                      "(retrying every second): %s", st.err);

    } else if (!st.failing && r->ckpt_failing) {
        cdc_log_info("checkpoint writes work again");
    }

    pthread_mutex_lock(&r->lock);
    r->ckpt_failing = st.failing;
    snprintf(r->ckpt_err, sizeof(r->ckpt_err), "%s", st.err);
    if (st.written) {
        r->ck.updated_ms = st.updated_ms;
    }
    pthread_mutex_unlock(&r->lock);

    if (st.written) {
        cdc_series_set(r->m_ckpt_pos, (double) st.pos.pos);
    }
}


/*
 * The stream's safe position goes to the checkpoint writer thread as soon
 * as it moves (called after every binlog event); the thread writes it
 * within [checkpoint] interval (default 100 ms, monotonic clock) without
 * stalling the stream, so what a kill -9 re-sends is what was in flight
 * plus at most that interval.  An undecided XA keeps the safe position
 * before its prepare (stream.c), and so the checkpoint.
 */
static void
cdc_run_checkpoint_tick(cdc_run_t *r)
{
    int64_t  now;

    /* the writer's lock at most every 10 ms: a busy stream taking it at
       every event would starve the writer thread (not a fair lock) */
    now = cdc_clock_mono_ms();
    if (now - r->ckpt_tick_ms < 10 && !r->ckpt_failing) {
        return;
    }
    r->ckpt_tick_ms = now;

    cdc_acks_advance(&r->acks);

    if (r->acks.have_safe
        && (strcmp(r->acks.safe.file, r->ck.pos.file) != 0
            || r->acks.safe.pos != r->ck.pos.pos
            || strcmp(r->acks.safe.gtid, r->ck.pos.gtid) != 0))
    {
        pthread_mutex_lock(&r->lock);
        r->ck.pos = r->acks.safe;
        pthread_mutex_unlock(&r->lock);

        cdc_ckpt_writer_offer(r->ckw, &r->ck);
    }

    cdc_run_checkpoint_state(r);
}


/* -------------------------------------------------------- stream */

static void
cdc_run_pos_from(cdc_src_pos_t *d, const cdc_stream_pos_t *s)
{
    snprintf(d->file, sizeof(d->file), "%s", s->file);
    d->pos = s->pos;
    snprintf(d->gtid, sizeof(d->gtid), "%s", s->gtid_state);
}


static int
cdc_run_filter(void *data, const char *db, const char *table)
{
    cdc_run_t  *r;

    r = data;

    return cdc_config_table_wanted(r->cf, db, table)
           || cdc_heartbeat_is(&r->hb, db, table);
}


/* the heartbeat row's beat_ms in the after image: exact source lag */
static void
cdc_run_heartbeat_seen(cdc_run_t *r, const cdc_stream_change_t *c)
{
    const char  *after, *p;
    int64_t      v;

    after = memmem(c->value, c->value_len, "\"after\":", 8);
    if (after == NULL) {
        return;
    }

    p = memmem(after, c->value_len - (size_t) (after - c->value),
               "\"beat_ms\":", 10);
    if (p == NULL) {
        return;
    }

    v = strtoll(p + 10, NULL, 10);
    if (v > r->last_beat_ms) {
        cdc_run_store(r->last_beat_ms, v);
    }
}


static int
cdc_run_emit(void *data, const cdc_stream_change_t *c)
{
    cdc_run_t  *r;

    r = data;

    if (c->pos && (int64_t) c->pos->ts_ms > r->last_event_ms) {
        cdc_run_store(r->last_event_ms, (int64_t) c->pos->ts_ms);
    }

    if (cdc_heartbeat_is(&r->hb, c->db, c->table)) {
        cdc_run_heartbeat_seen(r, c);

        /* progress travels in order with the data (marker.c) */
        if (cdc_run_produce(r, c->db, c->table, c->topic, c->key,
                            c->key_len, c->value, c->value_len, c->op)
            != 0)
        {
            return -1;
        }

        return cdc_run_markers(r, c);
    }

    return cdc_run_produce(r, c->db, c->table, c->topic, c->key,
                           c->key_len, c->value, c->value_len, c->op);
}


static int
cdc_run_commit(void *data, const cdc_stream_pos_t *pos)
{
    cdc_run_t      *r;
    cdc_src_pos_t   p;

    r = data;

    cdc_run_pos_from(&p, pos);

    if ((int64_t) pos->ts_ms > r->last_event_ms) {
        cdc_run_store(r->last_event_ms, (int64_t) pos->ts_ms);
    }

    while (cdc_acks_commit(&r->acks, &p, (int64_t) pos->ts_ms) != 0) {
        if (cdc_run_poll(r, 100) != 0) {
            return -1;
        }
    }

    pthread_mutex_lock(&r->lock);
    r->handed = p;
    r->have_handed = 1;
    pthread_mutex_unlock(&r->lock);

    return 0;
}


/* logs a DDL; TRUNCATE and DROP TABLE of captured tables travel */
static int
cdc_run_ddl(void *data, const char *db, const char *sql, size_t len,
    const cdc_stream_pos_t *pos)
{
    int               i, n;
    cdc_run_t        *r;
    static cdc_ddl_table_t  t[CDC_DDL_MAX_TABLES];

    r = data;

    cdc_log_info("ddl%s%s at %s:%" PRIu64 ": %.*s", db[0] ? " in " : "",
                 db, pos->file, pos->pos, (int) (len > 200 ? 200 : len),
                 sql);

    n = cdc_ddl_parse(db, sql, len, t, CDC_DDL_MAX_TABLES);

    if (n == 0 && cdc_ddl_drops_partition(sql, len)) {
        cdc_log_warn("ddl at %s:%" PRIu64 " removes a partition's rows "
                     "without row events: sinks keep those rows (check "
                     "with cdc-bridge verify, snapshot the table again)",
                     pos->file, pos->pos);
    }

    for (i = 0; i < n; i++) {
        if (cdc_config_table_wanted(r->cf, t[i].db, t[i].table)
            && cdc_ddl_truncate(r, &t[i], pos) != 0)
        {
            return -1;
        }
    }

    return 0;
}


static void
cdc_run_note(void *data, const char *msg)
{
    cdc_log_warn("binlog: %s", msg);
}


/* a new TABLE_MAP: mark UUID/INET columns (schema.c), on r->schema */
static int
cdc_run_table_map(void *data, cdc_binlog_table_t *t)
{
    cdc_run_t  *r;
    char        err[512];

    r = data;

    if (!cdc_source_may_have_native(t)) {
        return 0;
    }

    if (r->schema == NULL) {
        r->schema = cdc_source_connect(r->cf, 10, err, sizeof(err));
    }

    if (r->schema == NULL
        || cdc_source_mark_native(r->schema, t, err, sizeof(err)) != 0)
    {
        cdc_log_warn("source: column types of %s.%s: %s", t->db, t->table,
                     err);
        if (r->schema) {
            mysql_close(r->schema);
            r->schema = NULL;
        }
        r->schema_lost = 1;
        return -1;
    }

    return 0;
}


static cdc_stream_t *
cdc_run_stream_new(cdc_run_t *r, const cdc_src_pos_t *from, char *err,
    size_t errlen)
{
    cdc_stream_t       *s;
    cdc_stream_opts_t   o;

    memset(&o, 0, sizeof(o));
    o.topic_prefix = r->cf->topic_prefix;
    o.server_name = r->cf->topic_prefix;
    o.verify_checksum = 1;
    o.filter = cdc_run_filter;
    o.table = cdc_run_table_map;
    o.emit = cdc_run_emit;
    o.commit = cdc_run_commit;
    o.ddl = cdc_run_ddl;
    o.note = cdc_run_note;
    o.data = r;

    s = cdc_stream_create(&o, err, errlen);
    if (s == NULL) {
        return NULL;
    }

    if (from->file[0] || from->gtid[0]) {
        cdc_stream_set_position(s, from->file, from->pos ? from->pos : 4,
                                NULL, from->gtid[0] ? from->gtid : NULL);
    }

    return s;
}


/* sleeps ms while serving delivery reports; -1 when stopping */
static int
cdc_run_wait(cdc_run_t *r, int ms)
{
    int64_t  until;

    until = cdc_clock_mono_ms() + ms;

    while (cdc_clock_mono_ms() < until) {
        if (cdc_run_poll(r, 100) != 0) {
            return -1;
        }
        cdc_run_checkpoint_tick(r);
    }

    return 0;
}


/*
 * The start position is fixed: everything before it is in Kafka already
 * (or wanted from it on), and /status says "streaming" only now, so every
 * commit after the phase flips is streamed.  A position taken from the
 * server ("now") is made durable first: a crash before the first commit
 * resumes there, not at a later "now".
 */
static int
cdc_run_stream_from(cdc_run_t *r, const cdc_src_pos_t *from, int durable)
{
    pthread_mutex_lock(&r->lock);
    r->handed = *from;
    r->read_pos = *from;
    r->have_handed = 1;
    if (durable) {
        r->ck.pos = *from;
    }
    pthread_mutex_unlock(&r->lock);

    if (durable && cdc_run_checkpoint_write(r) != 0) {
        return -1;
    }

    cdc_run_set_phase(r, "streaming");

    return 0;
}


static int
cdc_run_stream(cdc_run_t *r, const cdc_src_pos_t *start)
{
    int                 backoff, hb_ms, rc, first;
    char                err[1024], pbuf[CDC_SRC_GTID_MAX + 300];
    MYSQL              *mysql;
    MARIADB_RPL        *rpl;
    MARIADB_RPL_EVENT  *ev;
    cdc_stream_t       *s;
    cdc_src_pos_t       from;
    unsigned int        e;
    int64_t             now;

    from = *start;
    backoff = 250;
    /* the server's heartbeat bounds how long a fetch blocks: delivery
       reports and the checkpoint wait at most that long when idle */
    hb_ms = 100;

    r->ckw = cdc_ckpt_writer_start(r->cf->checkpoint_dir,
                                   r->cf->checkpoint_interval_ms, err,
                                   sizeof(err));
    if (r->ckw == NULL) {
        cdc_log_error("%s", err);
        return -1;
    }

    if ((from.file[0] || from.gtid[0])
        && cdc_run_stream_from(r, &from, 0) != 0)
    {
        return *r->stop && !r->acks.failed ? 0 : -1;
    }

    while (!*r->stop) {
        mysql = cdc_source_connect(r->cf, 10, err,
                                   sizeof(err));
        rpl = NULL;

        if (mysql && from.file[0] == '\0' && from.gtid[0] == '\0') {
            /* no checkpoint, snapshot or start: "now" is fixed before
               the phase says streaming, and kept across reconnects */
            if (cdc_source_current_pos(mysql, &from, err, sizeof(err))
                != 0)
            {
                mysql_close(mysql);
                mysql = NULL;

            } else if (cdc_run_stream_from(r, &from, 1) != 0) {
                mysql_close(mysql);
                return *r->stop && !r->acks.failed ? 0 : -1;
            }
        }

        if (mysql) {
            rpl = cdc_source_rpl_open(mysql, r->cf, &from, hb_ms, err,
                                      sizeof(err));
        }

        if (rpl == NULL) {
            cdc_log_warn("source: %s; retrying in %d ms", err, backoff);
            if (cdc_run_wait(r, backoff) != 0) {
                break;
            }
            backoff = backoff * 2 > 30000 ? 30000 : backoff * 2;
            continue;
        }

        s = cdc_run_stream_new(r, &from, err, sizeof(err));
        if (s == NULL) {
            cdc_source_rpl_close(rpl);
            cdc_log_error("stream: %s", err);
            return -1;
        }

        cdc_log_info("streaming from %s",
                     cdc_source_pos_str(&from, pbuf, sizeof(pbuf)));

        ev = NULL;
        first = 1;
        rc = 0;

        while (!*r->stop) {
            if (r->ckpt_failing) {
                /* nothing past the last durable checkpoint */
                if (cdc_run_poll(r, 200) != 0) {
                    rc = -1;
                    break;
                }
                cdc_run_checkpoint_tick(r);
                continue;
            }

            ev = mariadb_rpl_fetch(rpl, ev);

            if (ev == NULL) {
                e = mysql_errno(rpl->mysql);

                if (cdc_source_err_purged(e)) {
                    cdc_log_error("the start position %s is not in the "
                                  "server's binlog any more (purged?): %s "
                                  "(%u). Nothing was skipped; to recover, "
                                  "remove %s/checkpoint.json to take a new "
                                  "snapshot, or give --start",
                                  cdc_source_pos_str(&from, pbuf,
                                                     sizeof(pbuf)),
                                  mysql_error(rpl->mysql), e,
                                  r->cf->checkpoint_dir);
                    rc = -2;
                    break;
                }

                if (e == 0 && mariadb_rpl_errno(rpl) != 0 && !*r->stop) {
                    /* the client library could not parse an event: it
                       would fail again at the same place */
                    cdc_log_error("binlog at %s: the client library "
                                  "cannot read the next event: %s (%u)",
                                  cdc_source_pos_str(&r->read_pos, pbuf,
                                                     sizeof(pbuf)),
                                  mariadb_rpl_error(rpl),
                                  mariadb_rpl_errno(rpl));
                    rc = -1;
                    break;
                }

                if (!*r->stop) {
                    cdc_log_warn("replication connection lost: %s (%u); "
                                 "reconnecting", mysql_error(rpl->mysql),
                                 e);
                }
                break;
            }

            if (first) {
                backoff = 250;
                first = 0;
            }

            if (ev->event_type == HEARTBEAT_LOG_EVENT) {
                cdc_run_store(r->caught_up_ms, cdc_now_ms());

            } else if (cdc_stream_feed(s, ev->raw_data + ev->raw_data_ofs,
                                       ev->raw_data_size
                                       - ev->raw_data_ofs,
                                       err, sizeof(err))
                       != 0)
            {
                if (r->schema_lost && !*r->stop) {
                    /* the table types could not be read: like a lost
                       connection, read again from the last commit */
                    r->schema_lost = 0;
                    break;
                }
                if (!*r->stop && !r->acks.failed) {
                    cdc_log_error("binlog: %s", err);
                }
                rc = -1;
                break;
            }

            pthread_mutex_lock(&r->lock);
            cdc_run_pos_from(&r->read_pos, cdc_stream_position(s));
            cdc_run_store(r->xa_prepared, cdc_stream_stats(s)->xa_pending);
            pthread_mutex_unlock(&r->lock);

            if (cdc_run_poll(r, 0) != 0) {
                rc = -1;
                break;
            }

            now = cdc_now_ms();
            cdc_run_checkpoint_tick(r);
            cdc_heartbeat_tick(&r->hb, r->cf, now);
        }

        if (ev) {
            mariadb_free_rpl_event(ev);
        }

        cdc_stream_destroy(s);
        cdc_source_rpl_close(rpl);

        if (rc != 0) {
            return rc == -2 ? -2 : (*r->stop && !r->acks.failed ? 0 : -1);
        }

        if (*r->stop) {
            break;
        }

        /* resume after the last transaction handed to Kafka: a partly
           read transaction is read again (at-least-once) */
        if (r->have_handed) {
            from = r->handed;
        }

        cdc_run_store(r->reconnects, r->reconnects + 1);
        cdc_series_add(r->m_reconnects, 1);

        if (cdc_run_wait(r, backoff) != 0) {
            break;
        }
        backoff = backoff * 2 > 30000 ? 30000 : backoff * 2;
    }

    return 0;
}


/* -------------------------------------------------------- main */

static int
cdc_run_mkdir(const char *dir, char *err, size_t errlen)
{
    char   path[4096];
    char  *p;

    if (snprintf(path, sizeof(path), "%s", dir) >= (int) sizeof(path)) {
        return cdc_error(err, errlen, "checkpoint dir too long");
    }

    for (p = path + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(path, 0755) != 0 && errno != EEXIST) {
                return cdc_error(err, errlen, "mkdir %s: %s", path,
                                 strerror(errno));
            }
            *p = '/';
        }
    }

    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        return cdc_error(err, errlen, "mkdir %s: %s", path,
                         strerror(errno));
    }

    return 0;
}


static int
cdc_run_replay_filter(void *data, const char *db, const char *table)
{
    return cdc_config_table_wanted(data, db, table);
}


static void
cdc_run_usage(FILE *out)
{
    fprintf(out,
        "usage: cdc-bridge run [-c FILE] [--start POS] [--no-snapshot]\n"
        "       cdc-bridge run [-c FILE] --from-file BINLOG --to-stdout\n"
        "\n"
        "  -c FILE              configuration (default %s)\n"
        "  --start POS          stream from POS instead of the checkpoint:\n"
        "                       a MariaDB GTID list (0-1-42) or file:pos\n"
        "  --no-snapshot        no initial snapshot without a checkpoint\n"
        "  --check              check the server's settings and exit\n"
        "  --from-file BINLOG   decode a binlog file instead of a server\n"
        "  --to-stdout          with --from-file: JSON lines on stdout\n",
        CDC_CONFIG_DEFAULT_FILE);
}


int
cdc_cmd_run(int argc, char **argv)
{
    int                 c, rc, check_only, no_snapshot, to_stdout, left;
    int                 cfg_start;
    char                err[2048], pbuf[CDC_SRC_GTID_MAX + 300];
    const char         *file, *from_file, *start;
    cdc_config_t        cf;
    cdc_run_t          *r;
    cdc_src_pos_t       pos;
    struct sigaction    sa;
    cdc_replay_opts_t   ro;

    static const struct option  opts[] = {
        { "config", required_argument, NULL, 'c' },
        { "start", required_argument, NULL, 's' },
        { "no-snapshot", no_argument, NULL, 'n' },
        { "check", no_argument, NULL, 'k' },
        { "from-file", required_argument, NULL, 'f' },
        { "to-stdout", no_argument, NULL, 'o' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };

    file = NULL;
    from_file = NULL;
    start = NULL;
    check_only = 0;
    no_snapshot = 0;
    to_stdout = 0;
    optind = 1;

    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            file = optarg;
            break;
        case 's':
            start = optarg;
            break;
        case 'n':
            no_snapshot = 1;
            break;
        case 'k':
            check_only = 1;
            break;
        case 'f':
            from_file = optarg;
            break;
        case 'o':
            to_stdout = 1;
            break;
        case 'h':
            cdc_run_usage(stdout);
            return 0;
        default:
            cdc_run_usage(stderr);
            return 2;
        }
    }

    if (optind < argc) {
        fprintf(stderr, "cdc-bridge run: unexpected argument \"%s\"\n",
                argv[optind]);
        return 2;
    }

    cdc_log_set_ident("run");

    if (cdc_config_load(&cf, file, err, sizeof(err)) != 0) {
        fprintf(stderr, "cdc-bridge run: %s\n", err);
        return 1;
    }

    cdc_log_set_level(cf.log_level);

    if (from_file) {
        if (!to_stdout) {
            fprintf(stderr, "cdc-bridge run: --from-file needs --to-stdout "
                    "(files are not streamed to Kafka)\n");
            cdc_config_free(&cf);
            return 2;
        }

        memset(&ro, 0, sizeof(ro));
        ro.topic_prefix = cf.topic_prefix;
        ro.filter = cf.src_ntables ? cdc_run_replay_filter : NULL;
        ro.filter_data = &cf;

        rc = cdc_replay_file(from_file, &ro, stdout, err, sizeof(err));
        if (rc != 0) {
            fprintf(stderr, "cdc-bridge run: %s\n", err);
        }

        cdc_config_free(&cf);
        return rc == 0 ? 0 : 1;
    }

    if (to_stdout) {
        fprintf(stderr, "cdc-bridge run: --to-stdout needs --from-file\n");
        cdc_config_free(&cf);
        return 2;
    }

    /* --start overrides the checkpoint; [source] start is only where a
       bridge without a checkpoint begins (parsed now to fail early) */
    cfg_start = 0;

    if (start == NULL && cf.start && cf.start[0]) {
        start = cf.start;
        cfg_start = 1;
    }

    memset(&pos, 0, sizeof(pos));

    if (start && cdc_source_parse_pos(start, &pos, err, sizeof(err)) != 0) {
        fprintf(stderr, "cdc-bridge run: %s\n", err);
        cdc_config_free(&cf);
        return 2;
    }

    if (cdc_source_check_server(&cf, err, sizeof(err)) != 0) {
        cdc_log_error("source %s:%d is not ready for change capture: %s",
                      cf.src_host, cf.src_port, err);
        cdc_config_free(&cf);
        return 1;
    }

    if (check_only) {
        printf("source %s:%d: ok\n", cf.src_host, cf.src_port);
        cdc_config_free(&cf);
        return 0;
    }

    r = calloc(1, sizeof(cdc_run_t));
    if (r == NULL) {
        cdc_config_free(&cf);
        return 1;
    }

    r->cf = &cf;
    r->stop = &cdc_run_stopping;
    pthread_mutex_init(&r->lock, NULL);
    snprintf(r->phase, sizeof(r->phase), "starting");
    rc = 1;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = cdc_run_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (cdc_acks_init(&r->acks, CDC_RUN_ACK_WINDOW, CDC_RUN_COMMITS) != 0) {
        cdc_log_error("out of memory");
        goto done;
    }

    if (cdc_run_mkdir(cf.checkpoint_dir, err, sizeof(err)) != 0
        || cdc_checkpoint_load(cf.checkpoint_dir, &r->ck, err, sizeof(err))
           != 0)
    {
        cdc_log_error("%s", err);
        goto done;
    }

    if (cdc_heartbeat_init(&r->hb, &cf, err, sizeof(err)) != 0) {
        cdc_log_error("%s", err);
        goto done;
    }

    if (cdc_run_metrics_init(r, err, sizeof(err)) != 0) {
        cdc_log_error("%s", err);
        goto done;
    }

    r->rk = cdc_kafka_producer_new(&cf, cdc_run_dr, r, NULL, err,
                                   sizeof(err));
    if (r->rk == NULL) {
        cdc_log_error("%s", err);
        goto done;
    }

    if (start && !cfg_start) {
        cdc_log_info("starting at %s (--start), not at the checkpoint",
                     cdc_source_pos_str(&pos, pbuf, sizeof(pbuf)));

    } else if (r->ck.valid && r->ck.snap_state != CDC_SNAP_RUNNING) {
        pos = r->ck.pos;
        cdc_log_info("resuming from checkpoint %s",
                     cdc_source_pos_str(&pos, pbuf, sizeof(pbuf)));

    } else if (start) {
        cdc_log_info("no checkpoint: starting at %s ([source] start)",
                     cdc_source_pos_str(&pos, pbuf, sizeof(pbuf)));

    } else if (cf.snapshot && !no_snapshot) {
        if (cdc_snapshot_run(r, &cf, err, sizeof(err)) != 0) {
            if (!cdc_run_stopping || r->acks.failed) {
                cdc_log_error("snapshot: %s", err);
            } else {
                /* progress up to the last chunk checkpoint is kept */
                rc = 0;
            }
            goto shutdown;
        }
        pos = r->ck.pos;

    } else {
        /* no snapshot wanted: from now on */
        cdc_log_info("no checkpoint and no snapshot: streaming from the "
                     "current end of the binlog");
    }

    if (!cdc_run_stopping) {
        rc = cdc_run_stream(r, &pos);
        rc = rc == 0 ? 0 : 1;
    } else {
        rc = 0;
    }

shutdown:

    cdc_run_set_phase(r, "stopping");

    /* bounded flush, then checkpoint whatever got acknowledged */
    left = cdc_kafka_flush(r->rk, 10000);
    rd_kafka_poll(r->rk, 0);

    if (left > 0) {
        cdc_log_warn("%d events not acknowledged at shutdown: they will be "
                     "produced again on restart", left);
    }

    /* the last checkpoint is written here, after the writer thread */
    cdc_ckpt_writer_stop(r->ckw);
    r->ckw = NULL;

    if (!r->acks.failed || r->acks.done + 1 < r->acks.failed) {
        cdc_acks_advance(&r->acks);
    }

    if (r->acks.have_safe && r->ck.snap_state != CDC_SNAP_RUNNING) {
        r->ck.pos = r->acks.safe;
        if (cdc_run_checkpoint_try(r) != 0) {
            rc = 1;
        } else {
            cdc_log_info("checkpoint at %s",
                         cdc_source_pos_str(&r->ck.pos, pbuf, sizeof(pbuf)));
        }
    }

    if (r->acks.failed) {
        rc = 1;
    }

done:

    if (r->rk) {
        cdc_kafka_producer_destroy(r->rk, 1000);
    }

    cdc_ckpt_writer_stop(r->ckw);
    cdc_http_stop(r->http);
    cdc_metrics_destroy(r->metrics);
    cdc_heartbeat_close(&r->hb);
    if (r->schema) {
        mysql_close(r->schema);
    }
    cdc_run_markers_free(r);
    cdc_checkpoint_free(&r->ck);
    cdc_acks_free(&r->acks);
    free(r->tables);
    pthread_mutex_destroy(&r->lock);
    free(r);
    cdc_config_free(&cf);

    return rc;
}
