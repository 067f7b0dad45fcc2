/*
 * cdc-bridge run, the source wing: the parts around the decoder's stream
 * processor (stream.h) that talk to the server, to Kafka and to the disk.
 *
 *   conn.c        replication and SQL connections (mariadb_rpl_*)
 *   checks.c      server settings and grants the source needs
 *   checkpoint.c  the durable position, and the acknowledgement tracker
 *                 that decides which position may become durable
 *   snapshot.c    the initial consistent snapshot, chunked, resumable
 *   schema.c      a table's columns and key as the binlog sees them
 *   heartbeat.c   the heartbeat row the bridge updates while idle
 *   run.c         `cdc-bridge run`: the main loop
 */

#ifndef CDC_SOURCE_H
#define CDC_SOURCE_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include <mysql.h>
#include <mariadb_rpl.h>
#include <librdkafka/rdkafka.h>

#include "binlog/binlog.h"
#include "config.h"


#define CDC_SRC_FILE_MAX   256
#define CDC_SRC_GTID_MAX   1024


/* A replication position: a GTID set (MariaDB "d-s-n,..."), file:pos or
 * both.  The GTID wins when both are known: it survives a failover. */
typedef struct {
    char      file[CDC_SRC_FILE_MAX];
    uint64_t  pos;
    char      gtid[CDC_SRC_GTID_MAX];
} cdc_src_pos_t;


/* -------------------------------------------------------- conn */

/*
 * A plain SQL connection to the source (utf8mb4, time_zone +00:00,
 * timeouts, TLS per [source] ssl_mode).  NULL with the reason in err.
 */
MYSQL *cdc_source_connect(const cdc_config_t *cf, int read_timeout_s,
    char *err, size_t errlen);

/*
 * Registers as a replica with server_id and starts the binlog dump at
 * pos (GTID when set, else file:pos; an empty position means "now").
 * heartbeat_ms: the server sends a heartbeat event when idle that long.
 * Takes ownership of mysql (closed by cdc_source_rpl_close).
 */
MARIADB_RPL *cdc_source_rpl_open(MYSQL *mysql, const cdc_config_t *cf,
    const cdc_src_pos_t *pos, int heartbeat_ms, char *err, size_t errlen);
void cdc_source_rpl_close(MARIADB_RPL *rpl);

/* The server's current end of binlog: SHOW MASTER STATUS + gtid pos. */
int cdc_source_current_pos(MYSQL *mysql, cdc_src_pos_t *pos, char *err,
    size_t errlen);

/* Parses a --start / [source] start value: "d-s-n[,...]", "file:pos",
 * "uuid:n" (MySQL, refused for now: see docs).  -1 with err naming the
 * value: every number is range-checked (no wrap-around), empty list
 * items, trailing separators and repeated domains are refused. */
int cdc_source_parse_pos(const char *s, cdc_src_pos_t *pos, char *err,
    size_t errlen);

/* A MariaDB GTID list "d-s-n[,d-s-n…]" as @slave_connect_state takes it;
 * -1 with the faulty item in err. */
int cdc_source_gtid_check(const char *s, char *err, size_t errlen);

/* A binlog file name and a position 4..2^32-1; -1 with err. */
int cdc_source_binlog_pos_check(const char *file, uint64_t pos, char *err,
    size_t errlen);

/* "gtid=... file=... pos=..." for logs */
const char *cdc_source_pos_str(const cdc_src_pos_t *pos, char *buf,
    size_t len);

/* Is this server error a purged / missing start position (1236)? */
int cdc_source_err_purged(unsigned int errnum);

/* Runs one statement; -1 with "query: error" in err. */
int cdc_source_query(MYSQL *mysql, const char *q, char *err, size_t errlen);


/* -------------------------------------------------------- schema */

/* a column as information_schema.COLUMNS has it, in table order */
typedef struct {
    char      *name;
    char      *data_type;       /* lower case: "int", "uuid", … */
    unsigned   native;          /* CDC_NATIVE_* from data_type */
} cdc_src_col_t;

/* CDC_NATIVE_UUID/INET4/INET6 for MariaDB's types of those names */
unsigned cdc_source_native_type(const char *data_type);

/* every column of db.table, invisible ones too; 0 columns: no table */
int cdc_source_columns(MYSQL *mysql, const char *db, const char *table,
    cdc_src_col_t **cols, size_t *n, char *err, size_t errlen);
void cdc_source_columns_free(cdc_src_col_t *cols, size_t n);

/*
 * The key columns of db.table by the binlog's rule (MariaDB's
 * TABLE_SHARE::primary_key, what TABLE_MAP metadata marks primary): the
 * PRIMARY KEY, else the first UNIQUE key in the server's key order whose
 * columns are all NOT NULL, without prefix parts and not a long unique
 * hash.  *n == 0: no such key.  *cols (n + 1 entries) is the caller's to
 * free, each string and the array.
 */
int cdc_source_key(MYSQL *mysql, const char *db, const char *table,
    char ***cols, size_t *n, char *err, size_t errlen);

/*
 * The binlog logs MariaDB's UUID/INET4/INET6 as BINARY(16)/(4): marks the
 * columns of t declared so (cdc_binlog_column_t native) from the table's
 * types now, by name and only where the binlog's shape is the declared
 * type's (a column changed since, while the stream lags, keeps its bytes).
 * cdc_source_may_have_native: has t any column that could be one (else
 * there is nothing to ask the server).
 */
int cdc_source_may_have_native(const cdc_binlog_table_t *t);
int cdc_source_mark_native(MYSQL *mysql, cdc_binlog_table_t *t, char *err,
    size_t errlen);


/* -------------------------------------------------------- checks */

/*
 * Connects with cf's [source] and checks what `run` needs: log_bin ON,
 * binlog_format ROW, binlog_row_image FULL, binlog_row_metadata FULL,
 * REPLICATION SLAVE, REPLICATION CLIENT (BINLOG MONITOR), SELECT on the
 * configured tables.  Returns 0, or -1 with the setting and the fix in err
 * (several problems separated by "; ").
 */
int cdc_source_check_server(const cdc_config_t *cf, char *err,
    size_t errlen);
int cdc_source_check_conn(MYSQL *mysql, const cdc_config_t *cf, char *err,
    size_t errlen);


/* -------------------------------------------------------- acks */

/*
 * The acknowledgement tracker.  Every produced message gets the next
 * sequence number; delivery reports mark it done in a ring of bits; "done"
 * is the highest n such that 1..n are all delivered.  A commit position
 * becomes safe once done reaches the last sequence produced before it.
 * The ring bounds the window between the oldest undelivered message and
 * the newest one produced: cdc_acks_room() == 0 asks the caller to stop
 * producing and poll (back-pressure).
 */
typedef struct {
    uint64_t        next;        /* next sequence to hand out, from 1 */
    uint64_t        done;        /* 1..done delivered */
    uint64_t        failed;      /* first failed sequence, 0: none */
    char            failed_why[1024];
    uint64_t       *bits;
    uint64_t        nbits;       /* power of two */

    /* commits waiting for done >= seq; a ring, coalesced */
    struct cdc_acks_commit_s {
        uint64_t       seq;
        cdc_src_pos_t  pos;
        int64_t        ts_ms;
    }              *commits;
    size_t          ncommits_max;
    size_t          chead;
    size_t          ccount;

    cdc_src_pos_t   safe;        /* newest position with all acked */
    int             have_safe;
    int64_t         safe_ts_ms;
} cdc_acks_t;

int cdc_acks_init(cdc_acks_t *a, uint64_t window, size_t commits);
void cdc_acks_free(cdc_acks_t *a);
uint64_t cdc_acks_take(cdc_acks_t *a);          /* next sequence */
void cdc_acks_delivered(cdc_acks_t *a, uint64_t seq, int ok,
    const char *why);
/* records a transaction end: safe once everything taken so far is acked */
int cdc_acks_commit(cdc_acks_t *a, const cdc_src_pos_t *pos, int64_t ts_ms);
uint64_t cdc_acks_room(const cdc_acks_t *a);
uint64_t cdc_acks_inflight(const cdc_acks_t *a);
/* moves a->safe forward over commits now acknowledged; 1 if it moved */
int cdc_acks_advance(cdc_acks_t *a);


/* ------------------------------------------------------------ checkpoint */

typedef enum {
    CDC_SNAP_NONE = 0,           /* no snapshot taken or wanted */
    CDC_SNAP_RUNNING,            /* progress below is valid */
    CDC_SNAP_DONE
} cdc_snap_state_t;

typedef struct {
    int             valid;               /* a checkpoint was loaded */
    cdc_src_pos_t   pos;                 /* stream from here */
    int64_t         updated_ms;

    cdc_snap_state_t snap_state;
    cdc_src_pos_t   snap_pos;            /* the snapshot's binlog point */
    char          **snap_done;           /* "db.table" fully emitted */
    size_t          snap_ndone;
    char           *snap_table;          /* table in progress, or NULL */
    char          **snap_key;            /* its last key emitted, as
                                            literals ready for SQL */
    size_t          snap_nkey;
} cdc_checkpoint_t;

/* dir/checkpoint.json; a missing file is "no checkpoint" (valid = 0). */
int cdc_checkpoint_load(const char *dir, cdc_checkpoint_t *ck, char *err,
    size_t errlen);
/* tmp + fsync + rename + fsync(dir) */
int cdc_checkpoint_save(const char *dir, const cdc_checkpoint_t *ck,
    char *err, size_t errlen);
void cdc_checkpoint_free(cdc_checkpoint_t *ck);
int cdc_checkpoint_set_snap(cdc_checkpoint_t *ck, const char *table,
    char **key, size_t nkey);
int cdc_checkpoint_add_done(cdc_checkpoint_t *ck, const char *table);
int cdc_checkpoint_is_done(const cdc_checkpoint_t *ck, const char *table);


/* -------------------------------------------------------- runtime */

/*
 * What the snapshot and the stream share with run.c: the producer, the
 * tracker, the checkpoint, counters.
 */
typedef struct cdc_run_s  cdc_run_t;

/* Produces one event; blocks with back-pressure; -1 on stop or failure. */
int cdc_run_produce(cdc_run_t *r, const char *db, const char *table,
    const char *topic, const char *key, size_t klen, const char *value,
    size_t vlen, char op);
/* rd_kafka_poll + tracker advance; fatal delivery errors return -1 */
int cdc_run_poll(cdc_run_t *r, int timeout_ms);
/* waits until everything produced is acknowledged; -1 on stop/failure */
int cdc_run_drain(cdc_run_t *r);
/* writes r's checkpoint now (retrying while it fails, unless stopped) */
int cdc_run_checkpoint_write(cdc_run_t *r);
cdc_checkpoint_t *cdc_run_ckpt(cdc_run_t *r);
volatile sig_atomic_t *cdc_run_stop_flag(cdc_run_t *r);
void cdc_run_set_phase(cdc_run_t *r, const char *phase);


/* -------------------------------------------------------- snapshot */

/*
 * Takes (or resumes, per the checkpoint) the consistent snapshot of every
 * wanted table, emitting op "r" events; on success the checkpoint says
 * CDC_SNAP_DONE and its pos is the snapshot's binlog position.  Logs
 * the longest chunk query at the end.  -1 with err ("stopped" when the
 * stop flag or a delivery failure ended it).
 */
int cdc_snapshot_run(cdc_run_t *r, const cdc_config_t *cf, char *err,
    size_t errlen);


/* -------------------------------------------------------- heartbeat */

typedef struct {
    MYSQL      *mysql;
    char        db[128];
    char        table[128];
    char        qtable[300];     /* `db`.`table` */
    int64_t     last_ms;         /* last write attempt, monotonic */
    int64_t     last_ok_ms;
    uint32_t    id;              /* row id: our server_id */
    int         warned;
} cdc_heartbeat_t;

int cdc_heartbeat_init(cdc_heartbeat_t *hb, const cdc_config_t *cf,
    char *err, size_t errlen);
/* writes the row when due; errors are logged, reconnects lazily */
void cdc_heartbeat_tick(cdc_heartbeat_t *hb, const cdc_config_t *cf,
    int64_t now_ms);
void cdc_heartbeat_close(cdc_heartbeat_t *hb);
int cdc_heartbeat_is(const cdc_heartbeat_t *hb, const char *db,
    const char *table);


/*
 * The checkpoint writer thread (checkpoint.c): offer() hands it the newest
 * checkpoint (a shallow copy: the snapshot lists must not change while it
 * runs), it writes the newest offered at most once per interval_ms (once a
 * second while writes fail); state() says what is durable.  stop() joins
 * it without writing what is pending: the caller writes the last one.
 */
typedef struct cdc_ckpt_writer_s cdc_ckpt_writer_t;

typedef struct {
    cdc_src_pos_t   pos;            /* newest position written */
    int             written;
    int64_t         updated_ms;     /* wall clock of that write */
    int             failing;        /* the last write failed: err */
    uint64_t        failures;
    char            err[512];
} cdc_ckpt_state_t;

cdc_ckpt_writer_t *cdc_ckpt_writer_start(const char *dir, int interval_ms,
    char *err, size_t errlen);
void cdc_ckpt_writer_offer(cdc_ckpt_writer_t *w, const cdc_checkpoint_t *ck);
void cdc_ckpt_writer_state(cdc_ckpt_writer_t *w, cdc_ckpt_state_t *st);
void cdc_ckpt_writer_stop(cdc_ckpt_writer_t *w);

int64_t cdc_now_ms(void);


#endif /* CDC_SOURCE_H */
