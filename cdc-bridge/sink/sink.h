/*
 * cdc-bridge sink: the state shared by the sink's files.
 *
 *   sink.c        `cdc-bridge sink`: options, consumer, the main loop
 *   pg.c          PostgreSQL connection, statements, SQLSTATE classes
 *   catalog.c     target tables: columns, keys, create_tables, ADD COLUMN
 *   source_db.c   the source MySQL's information_schema (exact types)
 *   apply.c       a batch of changes -> one transaction of SQL
 *   ddl.c         truncate events: TRUNCATE, strangler_cdc.truncates
 *   offsets.c     strangler_cdc.offsets: read on assignment, write in
 *                 the batch's transaction
 *   deadletter.c  the dead-letter topic
 *   lag.c         lag accounting, the lag file, /metrics and /status
 *   verify.c      `cdc-bridge verify`
 *
 * One thread applies (the main loop); lag.c's writer thread and the
 * metrics HTTP thread only read what is under cdc_sink_t.lock.
 */

#ifndef CDC_SINK_SINK_H
#define CDC_SINK_SINK_H

#include <pthread.h>
#include <signal.h>
#include <stdint.h>

#include <libpq-fe.h>
#include <librdkafka/rdkafka.h>

#include "config.h"
#include "metrics.h"
#include "sink/json.h"
#include "sink/typemap.h"


#define CDC_SINK_MAX_PARTS   4096
#define CDC_SINK_ERRLEN      1024


typedef struct {
    char           *name;        /* target column */
    char           *type;        /* format_type(), e.g. "numeric(20)" */
    char           *basetype;    /* without the modifier: "numeric" */
    char           *qname;       /* quoted identifier */
    cdc_pg_kind_t   kind;
    int             pk;          /* 1-based position in the key, or 0 */
} cdc_sink_col_t;


typedef struct {
    const cdc_table_map_t  *map;
    char                   *topic;
    char                   *src;         /* "db.table" */
    char                   *qname;       /* "schema"."table" */
    cdc_sink_col_t         *cols;
    size_t                  ncols;
    size_t                 *pk;          /* indexes into cols, key order */
    size_t                  npk;
    int                     exists;
    long                   *hint;        /* column of the k-th member of
                                            the last row seen */
    size_t                  nhint;
    char                  **gone;        /* columns in changes that the
                                            source no longer has */
    size_t                  ngone;
    int64_t                 gone_ms;     /* when gone was last checked */
    uint64_t                applied;     /* metrics, under lock */
    uint64_t                dead;
    cdc_series_t           *m_applied;
    cdc_series_t           *m_dead;
    cdc_series_t           *m_unmatched_u;   /* update/delete found no */
    cdc_series_t           *m_unmatched_d;   /* row (dead-lettered) */
    cdc_series_t           *m_replayed;      /* … of which replays */
    cdc_series_t           *m_truncates;
    cdc_series_t           *m_skipped;       /* older than a truncate */
    char                    trunc_file[256]; /* the last TRUNCATE/DROP */
    int64_t                 trunc_pos;       /* followed, or "" and -1 */
} cdc_sink_table_t;


typedef struct {
    char      topic[256];
    int32_t   partition;
    int64_t   next;              /* next offset to apply (committed) */
    int64_t   last_ts_ms;        /* source time of the last applied */
    int64_t   hwm;               /* high watermark, last seen */
    int       assigned;
    char      seen_file[128];    /* newest stream source position read */
    int64_t   seen_pos;          /* here since the last assignment, "" */
    int64_t   seen_row;          /* if none (main thread) */
    int64_t   seen_offset;       /* the message that carried it */
} cdc_sink_part_t;


/* a growable SQL text */
typedef struct {
    char    *p;
    size_t   len;
    size_t   cap;
    int      oom;
} cdc_sql_t;


/* one consumed message of the batch */
typedef struct {
    rd_kafka_message_t  *msg;        /* owned until the batch ends */
    cdc_sink_table_t    *table;      /* NULL: not applied (heartbeat…) */
    cdc_jv_t            *value;
    cdc_jv_t            *before;
    cdc_jv_t            *after;
    cdc_jv_t            *source;
    char                 op;
    int64_t              ts_ms;      /* source commit, ms */
    const char         **bvals;      /* converted before image, or NULL */
    const char         **avals;      /* converted after image, or NULL */
    size_t               nvals;      /* columns when converted */
    int                  prepared;
    char                *bkey;       /* key text of before/after rows */
    char                *akey;
    const char          *file;       /* source.file, source.pos */
    int64_t              pos;
    int                  skip;       /* older than a truncate: not applied */
    int                  replayed;   /* older than a change read before
                                        in its partition: `run` produced
                                        it again after a restart */
    char                *error;      /* set: dead-letter it, don't apply */
    const char          *sqlstate;
    int                  part;       /* index into sink->parts */
} cdc_sink_change_t;


/*
 * A batch: filled and decoded by the main thread, then applied by the
 * applier thread while the main thread fills and decodes the next one.
 */
typedef struct {
    cdc_sink_change_t  *changes;
    size_t              nchanges;
    size_t              changes_cap;
    cdc_jv_arena_t      arena;
    int64_t             next[CDC_SINK_MAX_PARTS];  /* per part: next offset
                                                      after this batch, or
                                                      -1 */
    int64_t             last_ts;
    int64_t             last_pos;
    char                last_gtid[128];
    char                last_file[256];
    int64_t             started_ms;
    int                 rc;             /* applier: 0 applied, 1 stopped */
} cdc_sink_batch_t;


typedef struct cdc_sink_s  cdc_sink_t;

struct cdc_sink_s {
    cdc_config_t          *cf;
    cdc_service_conf_t    *svc;
    const char            *group;
    int                    replay;       /* --replay-dead-letters */
    volatile sig_atomic_t *stop;

    PGconn                *pg;
    void                  *mysql;        /* MYSQL *, lazily */

    rd_kafka_t            *rk;           /* consumer */
    rd_kafka_t            *dlq;          /* producer, lazily */
    char                  *dlq_topic;
    int                    dlq_failed;   /* delivery reports */

    cdc_sink_table_t      *tables;
    size_t                 ntables;
    char                  *hb_db;        /* heartbeat table, or NULL */
    char                  *hb_table;
    char                 **topics;
    size_t                 ntopics;

    cdc_sink_part_t        parts[CDC_SINK_MAX_PARTS];
    size_t                 nparts;
    cdc_sink_part_t       *last_part;    /* the last message's */
    int                    rebalanced;   /* drop the batch in memory */
    int                    fatal;        /* stop with an error */
    int64_t                replay_end[CDC_SINK_MAX_PARTS];

    cdc_sink_batch_t       batch[2];
    cdc_sink_batch_t      *filling;
    cdc_sink_batch_t      *applying;     /* NULL: the applier is idle */
    pthread_t              applier;
    int                    applier_done; /* __atomic: the thread ended */
    void                 (*quiesce)(cdc_sink_t *s);  /* waits for the
                                                        applier */
    cdc_sql_t              sql;
    const char           **params;
    size_t                 params_cap;
    cdc_sql_t             *arrays;       /* one array literal per column */
    size_t                 narrays;

    /* lag and counters: under lock */
    pthread_mutex_t        lock;
    int64_t                watermark_ms;
    int64_t                last_applied_ms;   /* wall clock */
    int64_t                commit_lag_ms;     /* last source->target */
    uint64_t               applied;
    uint64_t               dead;
    uint64_t               batches;
    char                   last_file[256];
    int64_t                last_pos;
    char                   last_gtid[128];
    void                  *lag;              /* lag.c's state */

    cdc_metrics_t         *metrics;
    cdc_series_t          *m_applied;
    cdc_series_t          *m_dead;
    cdc_series_t          *m_batches;
    cdc_series_t          *m_batch_seconds;
    cdc_series_t          *m_commit_latency;
    cdc_series_t          *m_reconnects;
    cdc_series_t          *m_retries;
};


/* pg.c */
void cdc_sql_add(cdc_sql_t *b, const char *s);
void cdc_sql_addn(cdc_sql_t *b, const char *s, size_t n);
void cdc_sql_param(cdc_sql_t *b, size_t n);
PGconn *cdc_pg_connect(const cdc_service_conf_t *svc, const char *app,
    char *err, size_t errlen);
int cdc_pg_exec(PGconn *pg, const char *sql, char *err, size_t errlen);
PGresult *cdc_pg_query(PGconn *pg, const char *sql, int n,
    const char *const *vals, char *err, size_t errlen);
const char *cdc_pg_sqlstate(const PGresult *r);
int cdc_pg_transient(PGconn *pg, const char *sqlstate);
char *cdc_pg_quote_ident(const char *s);
int cdc_pg_reconnect(cdc_sink_t *s, char *err, size_t errlen);
int cdc_pg_ensure_schema(PGconn *pg, const char *schema, char *err,
    size_t errlen);

/* catalog.c */
int cdc_catalog_load(cdc_sink_t *s, cdc_sink_table_t *t, char *err,
    size_t errlen);
int cdc_catalog_prepare(cdc_sink_t *s, char *err, size_t errlen);
int cdc_catalog_add_column(cdc_sink_t *s, cdc_sink_table_t *t,
    const char *src_col, const char *dst_col, const cdc_jv_t *sample,
    char *err, size_t errlen);
const char *cdc_catalog_map_column(const cdc_sink_t *s,
    const cdc_sink_table_t *t, const char *src_col);
long cdc_catalog_find(const cdc_sink_table_t *t, const char *name);
int cdc_catalog_gone(cdc_sink_table_t *t, const char *col, int add);
int cdc_catalog_widen(cdc_sink_t *s, cdc_sink_table_t *t, char *msg,
    size_t msglen);
int cdc_catalog_widens(const char *from, const char *to);
void cdc_catalog_free(cdc_sink_table_t *t);

/* source_db.c: MySQL information_schema */
typedef struct {
    char              *name;
    cdc_mysql_type_t   type;
    int                pk;           /* 1-based key position, 0 */
    int                nullable;
    char              *def;          /* COLUMN_DEFAULT as MariaDB shows
                                        it ('x', 7, NULL, now()), or NULL */
} cdc_source_col_t;

int cdc_source_db_columns(cdc_sink_t *s, const char *db, const char *table,
    cdc_source_col_t **cols, size_t *ncols, char *err, size_t errlen);
void cdc_source_db_free_columns(cdc_source_col_t *cols, size_t ncols);
void cdc_source_db_close(cdc_sink_t *s);
void *cdc_source_db_conn(cdc_sink_t *s, char *err, size_t errlen);

/* apply.c */
int cdc_apply_prepare(cdc_sink_t *s, cdc_sink_batch_t *b,
    cdc_sink_change_t *c);
int cdc_apply_batch(cdc_sink_t *s, cdc_sink_batch_t *b, char *err,
    size_t errlen);

/* ddl.c: truncate events */
int cdc_ddl_init(cdc_sink_t *s, char *err, size_t errlen);
int cdc_ddl_pos_cmp(const char *fa, int64_t pa, const char *fb, int64_t pb);
void cdc_ddl_prepare(cdc_sink_t *s, cdc_sink_batch_t *b,
    cdc_sink_change_t *c);
void cdc_ddl_seen(cdc_sink_t *s, cdc_sink_change_t *c);
int cdc_ddl_apply(cdc_sink_t *s, cdc_sink_batch_t *b,
    cdc_sink_change_t **bad, char *state, size_t statelen, char *err,
    size_t errlen);

/* offsets.c */
int cdc_offsets_init(PGconn *pg, char *err, size_t errlen);
int cdc_offsets_load(cdc_sink_t *s, rd_kafka_topic_partition_list_t *parts,
    char *err, size_t errlen);
int cdc_offsets_store(cdc_sink_t *s, cdc_sink_batch_t *b, char *err,
    size_t errlen);
int cdc_offsets_reset(cdc_sink_t *s, const char *topic, char *err,
    size_t errlen);
cdc_sink_part_t *cdc_offsets_part(cdc_sink_t *s, const char *topic,
    int32_t partition);
PGresult *cdc_offsets_partitions(PGconn *pg, const char *service,
    char *const *topics, size_t ntopics, char *err, size_t errlen);

/* deadletter.c */
int cdc_deadletter_send(cdc_sink_t *s, cdc_sink_change_t *c,
    const char *sqlstate, const char *error, char *err, size_t errlen);
int cdc_deadletter_flush(cdc_sink_t *s, char *err, size_t errlen);
void cdc_deadletter_close(cdc_sink_t *s);

/* lag.c */
int cdc_lag_start(cdc_sink_t *s, char *err, size_t errlen);
void cdc_lag_stop(cdc_sink_t *s);
void cdc_lag_write_now(cdc_sink_t *s);
int64_t cdc_lag_now_ms(void);


#endif /* CDC_SINK_SINK_H */
