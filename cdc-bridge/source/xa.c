/*
 * xa: prepared XA transactions' changes until XA COMMIT / XA ROLLBACK
 * (see xa.h).  Pending transactions are kept in prepare order, so the
 * first one's hold is the oldest.  A change is stored as a small header
 * (lengths, op) followed by its strings, each NUL-terminated.
 */

#include <stdlib.h>
#include <string.h>

#include "source/xa.h"


typedef struct {
    uint32_t  len[5];            /* topic, key, value, db, table */
    char      op;
} cdc_xa_rec_t;


struct cdc_xa_txn_s {
    uint8_t            xid[CDC_XA_KEY_MAX];
    size_t             xid_len;
    cdc_stream_pos_t   hold;
    uint8_t           *data;
    size_t             len;
    size_t             cap;
};


struct cdc_xa_s {
    cdc_xa_txn_t   *open;
    cdc_xa_txn_t  **pending;
    size_t          npending;
    size_t          cap;
};


cdc_xa_t *
cdc_xa_create(void)
{
    return calloc(1, sizeof(cdc_xa_t));
}


static void
cdc_xa_txn_free(cdc_xa_txn_t *t)
{
    if (t != NULL) {
        free(t->data);
        free(t);
    }
}


void
cdc_xa_destroy(cdc_xa_t *x)
{
    size_t  i;

    if (x == NULL) {
        return;
    }

    for (i = 0; i < x->npending; i++) {
        cdc_xa_txn_free(x->pending[i]);
    }

    cdc_xa_txn_free(x->open);
    free(x->pending);
    free(x);
}


size_t
cdc_xa_pending(const cdc_xa_t *x)
{
    return x->npending;
}


static void
cdc_xa_set_xid(cdc_xa_txn_t *t, const uint8_t *xid, size_t xid_len)
{
    if (xid_len > sizeof(t->xid)) {
        xid_len = sizeof(t->xid);
    }

    if (xid_len) {
        memcpy(t->xid, xid, xid_len);
    }
    t->xid_len = xid_len;
}


int
cdc_xa_open(cdc_xa_t *x, const uint8_t *xid, size_t xid_len,
    const cdc_stream_pos_t *hold)
{
    cdc_xa_txn_free(x->open);

    x->open = calloc(1, sizeof(cdc_xa_txn_t));
    if (x->open == NULL) {
        return -1;
    }

    cdc_xa_set_xid(x->open, xid, xid_len);
    x->open->hold = *hold;
    return 0;
}


int
cdc_xa_is_open(const cdc_xa_t *x)
{
    return x->open != NULL;
}


int
cdc_xa_add(cdc_xa_t *x, const cdc_xa_change_t *c)
{
    cdc_xa_txn_t  *t;
    cdc_xa_rec_t   r;
    size_t         need, ncap, i;
    uint8_t       *n;
    const char    *s[5];

    t = x->open;
    if (t == NULL) {
        return -1;
    }

    s[0] = c->topic;
    s[1] = c->key;
    s[2] = c->value;
    s[3] = c->db;
    s[4] = c->table;
    memset(&r, 0, sizeof(r));
    r.len[0] = (uint32_t) c->topic_len;
    r.len[1] = (uint32_t) c->key_len;
    r.len[2] = (uint32_t) c->value_len;
    r.len[3] = (uint32_t) strlen(c->db);
    r.len[4] = (uint32_t) strlen(c->table);
    r.op = c->op;

    need = t->len + sizeof(r);
    for (i = 0; i < 5; i++) {
        need += r.len[i] + 1;
    }

    if (need > t->cap) {
        ncap = t->cap ? t->cap : 4096;
        while (ncap < need) {
            ncap *= 2;
        }
        n = realloc(t->data, ncap);
        if (n == NULL) {
            return -1;
        }
        t->data = n;
        t->cap = ncap;
    }

    memcpy(t->data + t->len, &r, sizeof(r));
    t->len += sizeof(r);
    for (i = 0; i < 5; i++) {
        memcpy(t->data + t->len, s[i], r.len[i]);
        t->len += r.len[i];
        t->data[t->len++] = '\0';
    }

    return 0;
}


void
cdc_xa_prepared(cdc_xa_t *x, const uint8_t *xid, size_t xid_len)
{
    cdc_xa_txn_t   *t, **n;
    size_t          i, ncap;

    t = x->open;
    if (t == NULL) {
        return;
    }

    cdc_xa_set_xid(t, xid, xid_len);

    /* the same XID prepared again (its first prepare was rolled back
       while this stream was not looking): the newer one stands */
    for (i = 0; i < x->npending; i++) {
        if (x->pending[i]->xid_len == xid_len
            && memcmp(x->pending[i]->xid, xid, xid_len) == 0)
        {
            cdc_xa_drop(x, x->pending[i]);
            break;
        }
    }

    if (x->npending == x->cap) {
        ncap = x->cap ? x->cap * 2 : 8;
        n = realloc(x->pending, ncap * sizeof(*n));
        if (n == NULL) {
            /* keep it open: the next open or prepare retries */
            return;
        }
        x->pending = n;
        x->cap = ncap;
    }

    x->pending[x->npending++] = t;
    x->open = NULL;
}


cdc_xa_txn_t *
cdc_xa_find(cdc_xa_t *x, const uint8_t *xid, size_t xid_len)
{
    size_t  i;

    for (i = 0; i < x->npending; i++) {
        if (x->pending[i]->xid_len == xid_len
            && memcmp(x->pending[i]->xid, xid, xid_len) == 0)
        {
            return x->pending[i];
        }
    }

    return NULL;
}


cdc_xa_txn_t *
cdc_xa_current(cdc_xa_t *x)
{
    return x->open;
}


int
cdc_xa_next(const cdc_xa_txn_t *t, size_t *off, cdc_xa_change_t *c)
{
    cdc_xa_rec_t   r;
    const char    *p;

    if (*off + sizeof(r) > t->len) {
        return 0;
    }

    memcpy(&r, t->data + *off, sizeof(r));
    p = (const char *) t->data + *off + sizeof(r);

    c->topic = p;
    c->topic_len = r.len[0];
    p += r.len[0] + 1;
    c->key = p;
    c->key_len = r.len[1];
    p += r.len[1] + 1;
    c->value = p;
    c->value_len = r.len[2];
    p += r.len[2] + 1;
    c->db = p;
    p += r.len[3] + 1;
    c->table = p;
    p += r.len[4] + 1;
    c->op = r.op;

    *off = (size_t) (p - (const char *) t->data);
    return 1;
}


void
cdc_xa_drop(cdc_xa_t *x, cdc_xa_txn_t *t)
{
    size_t  i;

    if (t == x->open) {
        x->open = NULL;
        cdc_xa_txn_free(t);
        return;
    }

    for (i = 0; i < x->npending; i++) {
        if (x->pending[i] == t) {
            memmove(&x->pending[i], &x->pending[i + 1],
                    (x->npending - i - 1) * sizeof(*x->pending));
            x->npending--;
            cdc_xa_txn_free(t);
            return;
        }
    }
}


const cdc_stream_pos_t *
cdc_xa_hold(const cdc_xa_t *x)
{
    return x->npending ? &x->pending[0]->hold : NULL;
}
