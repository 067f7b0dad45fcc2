/*
 * stream_xa: XA transactions in the stream (see xa.h for the store and
 * docs/events.md, "XA transactions").  MariaDB flags the GTID of an
 * XA START … XA PREPARE group (stream.c opens the store's group there and
 * cdc_stream_emit adds the group's changes to it); XA_PREPARE makes it
 * pending; the XA COMMIT / XA ROLLBACK query of a later group, whose GTID
 * carries the XID, emits or drops it.  MySQL writes XA START as a query
 * and XA COMMIT … ONE PHASE as an XA_PREPARE with one_phase set.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "event.h"
#include "source/stream_int.h"


static int cdc_stream_xa_emit(cdc_stream_t *s, cdc_xa_txn_t *t, char *err,
    size_t errlen);


size_t
cdc_stream_xid_key(uint8_t *key, const cdc_binlog_xid_t *x)
{
    size_t  n;

    n = (size_t) x->gtrid_len + x->bqual_len;
    key[0] = (uint8_t) x->format_id;
    key[1] = (uint8_t) ((uint32_t) x->format_id >> 8);
    key[2] = (uint8_t) ((uint32_t) x->format_id >> 16);
    key[3] = (uint8_t) ((uint32_t) x->format_id >> 24);
    key[4] = x->gtrid_len;
    key[5] = x->bqual_len;
    if (n) {
        memcpy(key + 6, x->data, n);
    }

    return 6 + n;
}


static int
cdc_stream_hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    c = (char) (c | 0x20);
    return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}


/* X'…' → out (at most 64 bytes), *len */
static int
cdc_stream_hex(const char **pp, const char *end, uint8_t *out,
    uint8_t *len)
{
    const char  *p;
    unsigned     n;
    int          hi, lo;

    p = *pp;
    if (end - p < 3 || (*p != 'X' && *p != 'x') || p[1] != '\'') {
        return -1;
    }

    p += 2;
    for (n = 0; p + 1 < end && *p != '\''; n++, p += 2) {
        hi = cdc_stream_hexval(p[0]);
        lo = cdc_stream_hexval(p[1]);
        if (n >= 64 || hi < 0 || lo < 0) {
            return -1;
        }
        out[n] = (uint8_t) (hi << 4 | lo);
    }

    if (p >= end || *p != '\'') {
        return -1;
    }

    *len = (uint8_t) n;
    *pp = p + 1;
    return 0;
}


/* "X'gtrid',X'bqual',formatID" as the server writes it → a key */
static size_t
cdc_stream_xid_text(uint8_t *key, const char *p, const char *end)
{
    uint8_t           buf[128], g, b;
    cdc_binlog_xid_t  x;
    long              f;
    char             *e, num[16];
    size_t            n;

    while (p < end && *p == ' ') {
        p++;
    }

    if (cdc_stream_hex(&p, end, buf, &g) != 0 || p >= end || *p++ != ','
        || cdc_stream_hex(&p, end, buf + g, &b) != 0 || p >= end
        || *p++ != ',')
    {
        return 0;
    }

    n = (size_t) (end - p) < sizeof(num) - 1 ? (size_t) (end - p)
                                              : sizeof(num) - 1;
    memcpy(num, p, n);
    num[n] = '\0';
    f = strtol(num, &e, 10);
    if (e == num) {
        return 0;
    }

    x.format_id = (int32_t) f;
    x.gtrid_len = g;
    x.bqual_len = b;
    x.data = buf;
    return cdc_stream_xid_key(key, &x);
}


int
cdc_stream_xa_prepare(cdc_stream_t *s, const cdc_binlog_event_t *ev,
    char *err, size_t errlen)
{
    uint8_t  key[CDC_XA_KEY_MAX];
    size_t   n;
    char     xid[CDC_BL_XID_STR_LEN];

    if (!cdc_xa_is_open(s->xa)) {
        cdc_binlog_xid_to_str(&ev->u.xa_prepare.xid, xid, sizeof(xid));
        snprintf(err, errlen, "%s:%llu: XA_PREPARE of %s without its XA "
                 "START group", s->pos.file,
                 (unsigned long long) s->ev_start, xid);
        return -1;
    }

    n = cdc_stream_xid_key(key, &ev->u.xa_prepare.xid);
    s->commit_pending = 1;

    if (ev->u.xa_prepare.one_phase) {
        /* MySQL's XA COMMIT … ONE PHASE */
        return cdc_stream_xa_emit(s, cdc_xa_current(s->xa), err, errlen);
    }

    cdc_xa_prepared(s->xa, key, n);
    if (cdc_xa_is_open(s->xa)) {
        return cdc_stream_nomem(s, err, errlen);
    }

    return 0;
}


/* a decided XA transaction's changes, with the XA COMMIT as their source */
static int
cdc_stream_xa_emit(cdc_stream_t *s, cdc_xa_txn_t *t, char *err,
    size_t errlen)
{
    cdc_event_source_t   src;
    cdc_stream_change_t  ch;
    cdc_xa_change_t      c;
    size_t               off;
    uint64_t             now;

    now = s->o.fixed_ts_ms ? s->o.fixed_ts_ms : cdc_event_now_ms();

    src.name = s->name;
    src.ts_ms = s->pos.ts_ms;
    src.server_id = s->pos.server_id;
    src.gtid = s->pos.gtid[0] ? s->pos.gtid : NULL;
    src.file = s->pos.file;
    src.pos = s->ev_start;
    src.row = 0;
    src.snapshot = s->o.snapshot ? "true" : "false";

    off = 0;
    while (cdc_xa_next(t, &off, &c)) {
        src.db = c.db;
        src.table = c.table;

        s->value.len = 0;
        if (cdc_buf_put(&s->value, c.value, c.value_len) != 0
            || cdc_event_value_end(&s->value, &src, c.op, now) != 0)
        {
            return cdc_stream_nomem(s, err, errlen);
        }

        ch.topic = c.topic;
        ch.topic_len = c.topic_len;
        ch.key = c.key;
        ch.key_len = c.key_len;
        ch.value = s->value.data;
        ch.value_len = s->value.len;
        ch.db = c.db;
        ch.table = c.table;
        ch.op = c.op;
        ch.event_pos = s->ev_start;
        ch.row = src.row++;
        ch.pos = &s->pos;

        s->stats.rows++;
        if (s->o.emit(s->o.data, &ch) != 0) {
            snprintf(err, errlen, "%s:%llu: stopped by the emit callback",
                     s->pos.file, (unsigned long long) s->ev_start);
            return -1;
        }
    }

    cdc_xa_drop(s->xa, t);
    s->stats.xa_committed++;
    return 0;
}


/* XA START (MySQL), XA COMMIT, XA ROLLBACK; XA END and others: nothing */
int
cdc_stream_xa_query(cdc_stream_t *s, const char *q, size_t n, char *err,
    size_t errlen)
{
    uint8_t        key[CDC_XA_KEY_MAX];
    size_t         len, skip;
    cdc_xa_txn_t  *t;
    char           msg[512];
    int            commit;

    if (n >= 8 && strncasecmp(q, "XA START", 8) == 0) {
        /* MySQL writes it; MariaDB's GTID event says it instead */
        if (!cdc_xa_is_open(s->xa)
            && cdc_xa_open(s->xa, NULL, 0, &s->ended) != 0)
        {
            return cdc_stream_nomem(s, err, errlen);
        }
        return 0;
    }

    if (n >= 9 && strncasecmp(q, "XA COMMIT", 9) == 0) {
        commit = 1;
        skip = 9;
    } else if (n >= 11 && strncasecmp(q, "XA ROLLBACK", 11) == 0) {
        commit = 0;
        skip = 11;
    } else {
        return 0;
    }

    s->commit_pending = 1;

    if (memmem(q, n, "ONE PHASE", 9) != NULL) {
        t = cdc_xa_current(s->xa);

    } else {
        len = s->gtid_xid_len;
        if (len) {
            memcpy(key, s->gtid_xid, len);
        } else {
            len = cdc_stream_xid_text(key, q + skip, q + n);
        }
        t = len ? cdc_xa_find(s->xa, key, len) : NULL;
    }

    if (t == NULL) {
        /* nothing of it was read here: it was decided already (a replay
           after a restart resumes before the oldest undecided prepare,
           not before every prepare), or the stream started after it */
        s->stats.xa_unknown++;
        if (commit && s->o.note != NULL) {
            snprintf(msg, sizeof(msg), "%s:%llu: %.*s: its XA PREPARE is "
                     "before where this stream started: its changes were "
                     "sent before a restart, or were never read if the "
                     "bridge started (snapshot, --start) between its "
                     "PREPARE and COMMIT", s->pos.file,
                     (unsigned long long) s->ev_start,
                     (int) (n > 200 ? 200 : n), q);
            s->o.note(s->o.data, msg);
        }
        return 0;
    }

    if (!commit) {
        cdc_xa_drop(s->xa, t);
        s->stats.xa_rolled_back++;
        return 0;
    }

    return cdc_stream_xa_emit(s, t, err, errlen);
}
