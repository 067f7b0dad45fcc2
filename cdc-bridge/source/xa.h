/*
 * xa: the changes of XA transactions that are prepared but not yet
 * decided, for the stream (stream.c).  MariaDB binlogs an XA transaction
 * in two groups: XA START … XA END + XA_PREPARE with its rows, and later
 * XA COMMIT or XA ROLLBACK alone.  The stream keeps each prepared group's
 * rendered changes here under its XID and emits them at XA COMMIT, or
 * drops them at XA ROLLBACK; the position to resume from stays before the
 * oldest undecided prepare (hold), so a restart reads it again.
 *
 *   cdc_xa_t  *x = cdc_xa_create();
 *   cdc_xa_open(x, xid, xid_len, &hold);        at the group's start
 *   cdc_xa_add(x, &change);                     each row
 *   cdc_xa_prepared(x, xid, xid_len);           at XA_PREPARE
 *   t = cdc_xa_find(x, xid, xid_len);           at XA COMMIT/ROLLBACK
 *   while (cdc_xa_next(t, &off, &change)) …;  cdc_xa_drop(x, t);
 *
 * Memory: each undecided XA holds its changes' JSON until decided.
 */

#ifndef CDC_SOURCE_XA_H
#define CDC_SOURCE_XA_H

#include <stddef.h>
#include <stdint.h>

#include "source/stream.h"


/* formatID (4, little-endian), gtrid length, bqual length, the data */
#define CDC_XA_KEY_MAX  (6 + 128)


typedef struct cdc_xa_s      cdc_xa_t;
typedef struct cdc_xa_txn_s  cdc_xa_txn_t;


/* one change, its envelope cut before ,"source" (stream.c ends it) */
typedef struct {
    const char  *topic;
    size_t       topic_len;
    const char  *key;
    size_t       key_len;
    const char  *value;
    size_t       value_len;
    const char  *db;             /* NUL-terminated */
    const char  *table;          /* NUL-terminated */
    char         op;
} cdc_xa_change_t;


cdc_xa_t *cdc_xa_create(void);
void cdc_xa_destroy(cdc_xa_t *x);

/* XA transactions prepared and not decided (the open one not counted) */
size_t cdc_xa_pending(const cdc_xa_t *x);

/*
 * Opens the group of a new XA transaction (xid may be NULL when only the
 * XA_PREPARE will tell it); hold: where to resume to read it again.
 * A group still open is dropped first (it never reached XA_PREPARE).
 * Returns 0 or -1 (out of memory).
 */
int cdc_xa_open(cdc_xa_t *x, const uint8_t *xid, size_t xid_len,
    const cdc_stream_pos_t *hold);

/* 1 while a group is open */
int cdc_xa_is_open(const cdc_xa_t *x);

/* copies a change into the open group; 0 or -1 (out of memory) */
int cdc_xa_add(cdc_xa_t *x, const cdc_xa_change_t *c);

/* the open group reached XA_PREPARE with this xid: it is now pending */
void cdc_xa_prepared(cdc_xa_t *x, const uint8_t *xid, size_t xid_len);

/* the pending transaction with xid; NULL if none */
cdc_xa_txn_t *cdc_xa_find(cdc_xa_t *x, const uint8_t *xid, size_t xid_len);

/* the open group (a one-phase commit ends it), NULL if none */
cdc_xa_txn_t *cdc_xa_current(cdc_xa_t *x);

/* next change of t from *off (start at 0): 1, or 0 at the end */
int cdc_xa_next(const cdc_xa_txn_t *t, size_t *off, cdc_xa_change_t *c);

/* forgets t (decided) */
void cdc_xa_drop(cdc_xa_t *x, cdc_xa_txn_t *t);

/* the hold of the oldest pending XA transaction, NULL if none */
const cdc_stream_pos_t *cdc_xa_hold(const cdc_xa_t *x);


#endif /* CDC_SOURCE_XA_H */
