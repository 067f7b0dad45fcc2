/*
 * stream: the binlog stream processor behind `cdc-bridge run`.  Fed one raw
 * event at a time (from mariadb_rpl_fetch or cdc_binlog_file_next), it
 * tracks the position, keeps table maps, decodes row images and calls
 * back once per row change with the topic, key and value JSON of a
 * Debezium envelope (docs/events.md), and once per committed transaction
 * with the position that is safe to checkpoint.
 *
 *   cdc_stream_opts_t  o = { .topic_prefix = "monolith", .emit = f, … };
 *   cdc_stream_t      *s = cdc_stream_create(&o, err, sizeof(err));
 *   cdc_stream_set_position(s, "binlog.000007", 4, "0-1-42");  (resume)
 *   while (fetch(&ev, &len)) {
 *       if (cdc_stream_feed(s, ev, len, err, sizeof(err)) != 0) { … }
 *   }
 *   cdc_stream_destroy(s);
 *
 * Single-threaded; the buffers passed to callbacks are valid only during
 * the call.  Handled: FDE (checksum algorithm), ROTATE (file and pos;
 * artificial rotates from the server too), MariaDB GTID/GTID_LIST,
 * MySQL GTID/ANONYMOUS/GTID_TAGGED, QUERY (BEGIN, COMMIT, DDL: the
 * ddl callback), TABLE_MAP (a new table id after ALTER → new shape),
 * ROWS v0/v1/v2, PARTIAL_UPDATE_ROWS, TRANSACTION_PAYLOAD (zstd; inner
 * events handled in order), XID, MariaDB compressed QUERY and ROWS events
 * (165-171, log_bin_compress=ON: inflated, then handled as the plain
 * type).  XA: the changes of an XA START … XA PREPARE group are held
 * (xa.h) and emitted at its XA COMMIT, with the XA COMMIT's GTID, file,
 * pos and ts_ms as their source, or dropped at XA ROLLBACK; XA COMMIT …
 * ONE PHASE is an ordinary transaction.  Types with nothing to stream
 * (STOP, ANNOTATE, …) are skipped; an unknown type is skipped between
 * transactions (Aurora's 100) but is an error inside one, since it may
 * carry changes.
 */

#ifndef CDC_SOURCE_STREAM_H
#define CDC_SOURCE_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "binlog/binlog.h"


#define CDC_STREAM_FILE_LEN   256
#define CDC_STREAM_GTID_LEN   128
#define CDC_STREAM_STATE_LEN  1024


/*
 * A position.  file/pos: where to restart from (the end of the last
 * event consumed).  gtid: the last GTID seen ("d-s-n" for MariaDB,
 * "uuid:n" or "uuid:tag:n" for MySQL, "" before any).  gtid_state:
 * MariaDB only, the last committed GTID per replication domain
 * ("0-1-42,1-2-7"), what @slave_connect_state wants to resume.
 * ts_ms: the commit time at the source of the current transaction
 * (MySQL 8 immediate_commit_timestamp when present, else the event
 * header's seconds × 1000).
 */
typedef struct {
    char       file[CDC_STREAM_FILE_LEN];
    uint64_t   pos;
    char       gtid[CDC_STREAM_GTID_LEN];
    char       gtid_state[CDC_STREAM_STATE_LEN];
    uint64_t   ts_ms;
    uint32_t   server_id;       /* the originating server of the event */
} cdc_stream_pos_t;


/* one row change, handed to the emit callback */
typedef struct {
    const char              *topic;
    size_t                   topic_len;
    const char              *key;        /* JSON; "null" without a PK */
    size_t                   key_len;
    const char              *value;      /* the envelope JSON */
    size_t                   value_len;
    const char              *db;
    const char              *table;
    char                     op;         /* 'c', 'u', 'd' */
    uint64_t                 event_pos;  /* start of the rows event */
    unsigned                 row;        /* row index within the event */
    const cdc_stream_pos_t  *pos;        /* gtid, file, ts of this txn */
} cdc_stream_change_t;


/* return 0 to go on, -1 to stop: cdc_stream_feed then returns -1 */
typedef int (*cdc_stream_emit_pt)(void *data, const cdc_stream_change_t *c);

/*
 * A transaction committed (XID, COMMIT query, a DDL, an autocommitted
 * non-transactional statement, XA_PREPARE, XA COMMIT / ROLLBACK).  pos is
 * the position AFTER the commit event (and its GTID), safe to checkpoint
 * once every change emitted before it is acknowledged; while an XA
 * transaction is prepared and undecided it is instead the position
 * before that XA's PREPARE group (the oldest such), so a restart reads
 * the prepared changes again.  pos->ts_ms is always this commit's.
 */
typedef int (*cdc_stream_commit_pt)(void *data, const cdc_stream_pos_t *pos);

/* a DDL statement (QUERY other than BEGIN/COMMIT/ROLLBACK/SAVEPOINT) */
typedef int (*cdc_stream_ddl_pt)(void *data, const char *db,
    const char *sql, size_t len, const cdc_stream_pos_t *pos);

/* something worth a warning in the log (msg names the position) */
typedef void (*cdc_stream_note_pt)(void *data, const char *msg);

/* 1: stream db.table's changes, 0: skip them */
typedef int (*cdc_stream_filter_pt)(void *data, const char *db,
    const char *table);

/*
 * A wanted table's TABLE_MAP was parsed (a new table id or a changed
 * shape): the callback may annotate t's columns (cdc_binlog_column_t
 * native) from what it knows of the table.  -1 stops the feed.
 */
typedef int (*cdc_stream_table_pt)(void *data, cdc_binlog_table_t *t);


typedef struct {
    const char            *topic_prefix;   /* required */
    const char            *server_name;    /* source.name; default: the
                                              topic prefix */
    uint32_t               server_id;      /* 0: use each event's */
    int                    snapshot;       /* label changes snapshot
                                              "true" instead of "false" */
    int                    verify_checksum; /* check CRC32s (1 default:
                                              set by the caller) */
    uint64_t               fixed_ts_ms;    /* != 0: envelope ts_ms (for
                                              reproducible output) */
    cdc_stream_filter_pt   filter;         /* NULL: every table */
    cdc_stream_table_pt    table;          /* may be NULL */
    cdc_stream_emit_pt     emit;           /* required */
    cdc_stream_commit_pt   commit;         /* may be NULL */
    cdc_stream_ddl_pt      ddl;            /* may be NULL */
    cdc_stream_note_pt     note;           /* may be NULL */
    void                  *data;           /* passed to the callbacks */
} cdc_stream_opts_t;


typedef struct cdc_stream_s  cdc_stream_t;


typedef struct {
    uint64_t   events;          /* events fed (inner payload events too) */
    uint64_t   rows;            /* row changes emitted */
    uint64_t   skipped_rows;    /* rows of filtered-out tables */
    uint64_t   transactions;    /* commits */
    uint64_t   bytes;           /* event bytes fed */
    uint64_t   xa_committed;    /* XA transactions emitted at XA COMMIT */
    uint64_t   xa_rolled_back;  /* … dropped at XA ROLLBACK */
    uint64_t   xa_unknown;      /* XA COMMIT/ROLLBACK whose prepare this
                                   stream never read */
    uint64_t   xa_pending;      /* prepared, undecided (at the last
                                   commit) */
} cdc_stream_stats_t;


/* the options are copied (strings too); NULL with err on failure */
cdc_stream_t *cdc_stream_create(const cdc_stream_opts_t *o, char *err,
    size_t errlen);

/*
 * Resume point: file and pos of the next event, and (optional, NULL to
 * keep) the last GTID / MariaDB gtid state, so positions reported before
 * the first ROTATE are right.
 */
int cdc_stream_set_position(cdc_stream_t *s, const char *file,
    uint64_t pos, const char *gtid, const char *gtid_state);

/*
 * Feeds one event, header included, exactly as mariadb_rpl_fetch (without
 * the leading network OK byte) or cdc_binlog_file_next return it.
 * Returns 0, or -1 with err set (a decode error names the file, the
 * event's position and type, and the table); a callback's -1 is passed
 * on with err "stopped by callback".
 */
int cdc_stream_feed(cdc_stream_t *s, const uint8_t *ev, size_t len,
    char *err, size_t errlen);

/* the current position (end of the last event fed) */
const cdc_stream_pos_t *cdc_stream_position(const cdc_stream_t *s);

/* the last committed position (what the commit callback last got) */
const cdc_stream_pos_t *cdc_stream_committed(const cdc_stream_t *s);

const cdc_stream_stats_t *cdc_stream_stats(const cdc_stream_t *s);

void cdc_stream_destroy(cdc_stream_t *s);


#endif /* CDC_SOURCE_STREAM_H */
