/*
 * stream internals shared by stream.c (events, rows, positions) and
 * stream_xa.c (XA transactions).  Not part of the stream's API.
 */

#ifndef CDC_SOURCE_STREAM_INT_H
#define CDC_SOURCE_STREAM_INT_H

#include "binlog/binlog.h"
#include "source/stream.h"
#include "source/xa.h"


#define CDC_STREAM_MAX_DOMAINS  64
#define CDC_STREAM_MAX_TABLES   1024    /* cached table ids (see commit) */


typedef struct {
    uint64_t             table_id;
    cdc_binlog_table_t  *t;
    uint8_t             *raw;          /* the TABLE_MAP body, to compare */
    size_t               raw_len;
    int                  wanted;
    char                *topic;
    size_t               topic_len;
    int                  used;
} cdc_stream_table_t;


typedef struct {
    uint32_t   domain;
    uint32_t   server;
    uint64_t   seq;
} cdc_stream_domain_t;


struct cdc_stream_s {
    char                  *prefix;
    char                  *name;
    cdc_stream_opts_t      o;

    cdc_binlog_format_t    fmt;
    cdc_stream_pos_t       pos;
    cdc_stream_pos_t       committed;
    cdc_stream_stats_t     stats;

    cdc_stream_table_t    *tables;      /* open addressing, by table id */
    size_t                 ntables;
    size_t                 tables_cap;  /* power of two */

    cdc_binlog_value_t    *before;
    cdc_binlog_value_t    *after;
    unsigned               vals_cap;

    cdc_buf_t              key;
    cdc_buf_t              key2;
    cdc_buf_t              value;
    cdc_buf_t              scratch;

    uint8_t               *payload;
    size_t                 payload_cap;
    uint8_t               *zbuf;        /* a MariaDB compressed event,
                                           rebuilt uncompressed */
    size_t                 zbuf_cap;

    uint64_t               ev_start;    /* start of the top-level event */
    int                    commit_pending;
    int                    in_group;    /* after a GTID or BEGIN, before
                                           its commit */

    /* XA: prepared groups' changes until XA COMMIT/ROLLBACK (xa.h) */
    cdc_xa_t              *xa;
    uint8_t                gtid_xid[CDC_XA_KEY_MAX];  /* of a COMPLETED_XA
                                                         GTID */
    size_t                 gtid_xid_len;
    cdc_stream_pos_t       ended;       /* after the last group, held or
                                           not: the hold of the next XA */

    /* the current transaction's GTID (MariaDB) */
    int                    have_maria_gtid;
    cdc_stream_domain_t    txn_gtid;

    cdc_stream_domain_t    domains[CDC_STREAM_MAX_DOMAINS];
    unsigned               ndomains;
};



/* "…: out of memory" with the event's position; returns -1 */
int cdc_stream_nomem(cdc_stream_t *s, char *err, size_t errlen);

/* stream_xa.c */

/* the key of an XID in the xa.h store; returns its length */
size_t cdc_stream_xid_key(uint8_t *key, const cdc_binlog_xid_t *x);

/* XA_PREPARE: the open XA group becomes pending (or, one phase, is
   emitted) */
int cdc_stream_xa_prepare(cdc_stream_t *s, const cdc_binlog_event_t *ev,
    char *err, size_t errlen);

/* a QUERY starting with "XA ": XA START (MySQL), XA COMMIT (emit the
   held changes), XA ROLLBACK (drop them); others ignored */
int cdc_stream_xa_query(cdc_stream_t *s, const char *q, size_t n,
    char *err, size_t errlen);


#endif /* CDC_SOURCE_STREAM_INT_H */
