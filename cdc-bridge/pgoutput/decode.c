/*
 * pgoutput messages, protocol version 1 (PostgreSQL's "Logical
 * Replication Message Formats"), without streamed transactions (no
 * leading xid in Relation, Insert ...: that is protocol 2's "streaming").
 */

#include <stdlib.h>

#include "pgoutput_int.h"


struct cdc_pgo_s {
    cdc_pgo_relcache_t  *rels;
    cdc_pgo_value_t     *vals[2];   /* old and new tuple columns */
    uint16_t             nvals[2];  /* capacity */
    uint32_t            *oids;      /* Truncate */
    uint32_t             noids;
};


static const char *
cdc_pgo_name(char type)
{
    switch (type) {
    case CDC_PGO_BEGIN:    return "Begin";
    case CDC_PGO_COMMIT:   return "Commit";
    case CDC_PGO_ORIGIN:   return "Origin";
    case CDC_PGO_RELATION: return "Relation";
    case CDC_PGO_TYPE:     return "Type";
    case CDC_PGO_INSERT:   return "Insert";
    case CDC_PGO_UPDATE:   return "Update";
    case CDC_PGO_DELETE:   return "Delete";
    case CDC_PGO_TRUNCATE: return "Truncate";
    default:               return "Message";
    }
}


#define cdc_pgo_short(r, what)                                              \
    cdc_pgo_fail(err, errlen, "pgoutput %s: truncated at offset %zu "      \
                 "(reading %s, %zu bytes left)",                          \
                 cdc_pgo_name((char) (r)->start[0]), cdc_pgo_rd_off(r),    \
                 what, cdc_pgo_rd_left(r))


cdc_pgo_t *
cdc_pgo_create(char *err, size_t errlen)
{
    cdc_pgo_t  *d;

    d = calloc(1, sizeof(*d));
    if (d != NULL) {
        d->rels = cdc_pgo_relcache_create();
    }
    if (d == NULL || d->rels == NULL) {
        free(d);
        (void) cdc_pgo_fail(err, errlen, "pgoutput: out of memory");
        return NULL;
    }

    return d;
}


void
cdc_pgo_destroy(cdc_pgo_t *d)
{
    if (d == NULL) {
        return;
    }

    cdc_pgo_relcache_destroy(d->rels);
    free(d->vals[0]);
    free(d->vals[1]);
    free(d->oids);
    free(d);
}


const cdc_pgo_relation_t *
cdc_pgo_relation(const cdc_pgo_t *d, uint32_t oid)
{
    return cdc_pgo_relcache_get(d->rels, oid);
}


unsigned
cdc_pgo_relation_count(const cdc_pgo_t *d)
{
    return cdc_pgo_relcache_count(d->rels);
}


static int
cdc_pgo_begin(cdc_pgo_rd_t *r, cdc_pgo_msg_t *m, char *err, size_t errlen)
{
    uint64_t  t;

    if (cdc_pgo_rd_u64(r, &m->u.begin.final_lsn) != 0
        || cdc_pgo_rd_u64(r, &t) != 0
        || cdc_pgo_rd_u32(r, &m->u.begin.xid) != 0)
    {
        return cdc_pgo_short(r, "final LSN, commit time, xid");
    }
    m->u.begin.commit_time = (int64_t) t;
    return 0;
}


static int
cdc_pgo_commit(cdc_pgo_rd_t *r, cdc_pgo_msg_t *m, char *err, size_t errlen)
{
    uint64_t  t;

    if (cdc_pgo_rd_u8(r, &m->u.commit.flags) != 0
        || cdc_pgo_rd_u64(r, &m->u.commit.commit_lsn) != 0
        || cdc_pgo_rd_u64(r, &m->u.commit.end_lsn) != 0
        || cdc_pgo_rd_u64(r, &t) != 0)
    {
        return cdc_pgo_short(r, "flags, commit LSN, end LSN, commit time");
    }
    m->u.commit.commit_time = (int64_t) t;
    return 0;
}


static int
cdc_pgo_origin(cdc_pgo_rd_t *r, cdc_pgo_msg_t *m, char *err, size_t errlen)
{
    if (cdc_pgo_rd_u64(r, &m->u.origin.lsn) != 0) {
        return cdc_pgo_short(r, "origin LSN");
    }
    if (cdc_pgo_rd_str(r, &m->u.origin.name) != 0) {
        return cdc_pgo_short(r, "origin name");
    }
    return 0;
}


static int
cdc_pgo_type(cdc_pgo_rd_t *r, cdc_pgo_msg_t *m, char *err, size_t errlen)
{
    if (cdc_pgo_rd_u32(r, &m->u.type.oid) != 0) {
        return cdc_pgo_short(r, "type OID");
    }
    if (cdc_pgo_rd_str(r, &m->u.type.nspname) != 0
        || cdc_pgo_rd_str(r, &m->u.type.name) != 0)
    {
        return cdc_pgo_short(r, "type namespace and name");
    }
    return 0;
}


static int
cdc_pgo_message(cdc_pgo_rd_t *r, cdc_pgo_msg_t *m, char *err,
    size_t errlen)
{
    if (cdc_pgo_rd_u8(r, &m->u.message.flags) != 0
        || cdc_pgo_rd_u64(r, &m->u.message.lsn) != 0)
    {
        return cdc_pgo_short(r, "flags, LSN");
    }
    if (cdc_pgo_rd_str(r, &m->u.message.prefix) != 0) {
        return cdc_pgo_short(r, "prefix");
    }
    if (cdc_pgo_rd_u32(r, &m->u.message.len) != 0) {
        return cdc_pgo_short(r, "content length");
    }
    if (cdc_pgo_rd_left(r) < m->u.message.len) {
        return cdc_pgo_short(r, "content");
    }
    m->u.message.content = r->p;
    r->p += m->u.message.len;
    return 0;
}


static int
cdc_pgo_columns(cdc_pgo_rd_t *r, cdc_pgo_relation_t *rel, char *err,
    size_t errlen)
{
    cdc_pgo_column_t  *c;
    const char        *name;
    uint32_t           typmod;
    uint16_t           i;

    /* each column takes at least 10 bytes: refuse a count before calloc */
    if (cdc_pgo_rd_left(r) / 10 < rel->ncols) {
        return cdc_pgo_short(r, "columns");
    }

    rel->cols = calloc(rel->ncols ? rel->ncols : 1, sizeof(*rel->cols));
    if (rel->cols == NULL) {
        return cdc_pgo_fail(err, errlen, "pgoutput: out of memory");
    }

    for (i = 0; i < rel->ncols; i++) {
        c = &rel->cols[i];
        if (cdc_pgo_rd_u8(r, &c->flags) != 0
            || cdc_pgo_rd_str(r, &name) != 0
            || cdc_pgo_rd_u32(r, &c->type_oid) != 0
            || cdc_pgo_rd_u32(r, &typmod) != 0)
        {
            return cdc_pgo_short(r, "a column");
        }
        c->typmod = (int32_t) typmod;
        c->name = strdup(name);
        if (c->name == NULL) {
            return cdc_pgo_fail(err, errlen, "pgoutput: out of memory");
        }
    }

    return 0;
}


static int
cdc_pgo_relation_msg(cdc_pgo_t *d, cdc_pgo_rd_t *r, cdc_pgo_msg_t *m,
    char *err, size_t errlen)
{
    cdc_pgo_relation_t  *rel;
    const char          *nsp, *name;
    uint8_t              ident;

    rel = calloc(1, sizeof(*rel));
    if (rel == NULL) {
        return cdc_pgo_fail(err, errlen, "pgoutput: out of memory");
    }

    if (cdc_pgo_rd_u32(r, &rel->oid) != 0
        || cdc_pgo_rd_str(r, &nsp) != 0
        || cdc_pgo_rd_str(r, &name) != 0
        || cdc_pgo_rd_u8(r, &ident) != 0
        || cdc_pgo_rd_u16(r, &rel->ncols) != 0)
    {
        cdc_pgo_relation_free(rel);
        return cdc_pgo_short(r, "OID, namespace, name, identity, columns");
    }

    if (ident != CDC_PGO_IDENT_DEFAULT && ident != CDC_PGO_IDENT_NOTHING
        && ident != CDC_PGO_IDENT_FULL && ident != CDC_PGO_IDENT_INDEX)
    {
        (void) cdc_pgo_fail(err, errlen, "pgoutput Relation %s.%s (OID %u): "
                            "unknown replica identity 0x%02x", nsp, name,
                            rel->oid, (unsigned) ident);
        cdc_pgo_relation_free(rel);
        return -1;
    }
    rel->replident = (char) ident;

    rel->nspname = strdup(nsp);
    rel->relname = strdup(name);
    if (rel->nspname == NULL || rel->relname == NULL) {
        cdc_pgo_relation_free(rel);
        return cdc_pgo_fail(err, errlen, "pgoutput: out of memory");
    }

    if (cdc_pgo_columns(r, rel, err, errlen) != 0) {
        cdc_pgo_relation_free(rel);
        return -1;
    }

    m->u.relation = cdc_pgo_relcache_put(d->rels, rel);
    if (m->u.relation == NULL) {
        return cdc_pgo_fail(err, errlen, "pgoutput: out of memory");
    }
    return 0;
}


/* TupleData into tuple slot `which` (0 old, 1 new) */
static int
cdc_pgo_tuple(cdc_pgo_t *d, cdc_pgo_rd_t *r, const cdc_pgo_relation_t *rel,
    int which, cdc_pgo_tuple_t *t, char *err, size_t errlen)
{
    cdc_pgo_value_t  *v;
    uint16_t          i, n;
    uint8_t           kind;

    if (cdc_pgo_rd_u16(r, &n) != 0) {
        return cdc_pgo_short(r, "tuple column count");
    }
    if (n != rel->ncols) {
        return cdc_pgo_fail(err, errlen, "pgoutput %s of %s.%s at offset "
                            "%zu: tuple has %u columns, the relation %u",
                            cdc_pgo_name((char) r->start[0]), rel->nspname,
                            rel->relname, cdc_pgo_rd_off(r) - 2,
                            (unsigned) n, (unsigned) rel->ncols);
    }

    if (d->nvals[which] < n) {
        v = realloc(d->vals[which], n * sizeof(*v));
        if (v == NULL) {
            return cdc_pgo_fail(err, errlen, "pgoutput: out of memory");
        }
        d->vals[which] = v;
        d->nvals[which] = n;
    }

    t->ncols = n;
    t->cols = d->vals[which];

    for (i = 0; i < n; i++) {
        v = &t->cols[i];
        memset(v, 0, sizeof(*v));
        if (cdc_pgo_rd_u8(r, &kind) != 0) {
            return cdc_pgo_short(r, "a column's kind");
        }
        v->kind = (char) kind;

        switch (kind) {
        case CDC_PGO_NULL:
        case CDC_PGO_UNCHANGED:
            break;
        case CDC_PGO_TEXT:
        case CDC_PGO_BINARY:
            if (cdc_pgo_rd_u32(r, &v->len) != 0) {
                return cdc_pgo_short(r, "a column's length");
            }
            if (cdc_pgo_rd_left(r) < v->len) {
                return cdc_pgo_short(r, "a column's value");
            }
            v->p = r->p;
            r->p += v->len;
            break;
        default:
            return cdc_pgo_fail(err, errlen, "pgoutput %s of %s.%s at "
                                "offset %zu: column \"%s\" has unknown kind "
                                "0x%02x", cdc_pgo_name((char) r->start[0]),
                                rel->nspname, rel->relname,
                                cdc_pgo_rd_off(r) - 1, rel->cols[i].name,
                                (unsigned) kind);
        }
    }

    return 0;
}


static int
cdc_pgo_change(cdc_pgo_t *d, cdc_pgo_rd_t *r, cdc_pgo_msg_t *m, char *err,
    size_t errlen)
{
    const cdc_pgo_relation_t  *rel;
    uint32_t                   oid;
    uint8_t                    tag;

    if (cdc_pgo_rd_u32(r, &oid) != 0) {
        return cdc_pgo_short(r, "relation OID");
    }

    rel = cdc_pgo_relcache_get(d->rels, oid);
    if (rel == NULL) {
        return cdc_pgo_fail(err, errlen, "pgoutput %s: relation OID %u was "
                            "not described by a Relation message",
                            cdc_pgo_name(m->type), oid);
    }
    m->u.change.rel = rel;

    if (cdc_pgo_rd_u8(r, &tag) != 0) {
        return cdc_pgo_short(r, "tuple tag");
    }

    if ((tag == 'K' || tag == 'O') && m->type != CDC_PGO_INSERT) {
        m->u.change.old_kind = (char) tag;
        if (cdc_pgo_tuple(d, r, rel, 0, &m->u.change.old, err, errlen)
            != 0)
        {
            return -1;
        }
        if (m->type == CDC_PGO_DELETE) {
            return 0;
        }
        if (cdc_pgo_rd_u8(r, &tag) != 0) {
            return cdc_pgo_short(r, "new tuple tag");
        }
    }

    if (tag != 'N' || m->type == CDC_PGO_DELETE) {
        return cdc_pgo_fail(err, errlen, "pgoutput %s of %s.%s at offset "
                            "%zu: unexpected tuple tag 0x%02x",
                            cdc_pgo_name(m->type), rel->nspname,
                            rel->relname, cdc_pgo_rd_off(r) - 1,
                            (unsigned) tag);
    }

    return cdc_pgo_tuple(d, r, rel, 1, &m->u.change.new, err, errlen);
}


static int
cdc_pgo_truncate(cdc_pgo_t *d, cdc_pgo_rd_t *r, cdc_pgo_msg_t *m,
    char *err, size_t errlen)
{
    uint32_t  n, i, *oids;

    if (cdc_pgo_rd_u32(r, &n) != 0
        || cdc_pgo_rd_u8(r, &m->u.truncate.options) != 0)
    {
        return cdc_pgo_short(r, "relation count, options");
    }
    if (cdc_pgo_rd_left(r) / 4 < n) {
        return cdc_pgo_short(r, "relation OIDs");
    }

    if (d->noids < n) {
        oids = realloc(d->oids, (size_t) n * sizeof(*oids));
        if (oids == NULL) {
            return cdc_pgo_fail(err, errlen, "pgoutput: out of memory");
        }
        d->oids = oids;
        d->noids = n;
    }

    for (i = 0; i < n; i++) {
        (void) cdc_pgo_rd_u32(r, &d->oids[i]);
    }

    m->u.truncate.nrels = n;
    m->u.truncate.oids = d->oids;
    return 0;
}


static int
cdc_pgo_dispatch(cdc_pgo_t *d, cdc_pgo_rd_t *r, cdc_pgo_msg_t *m,
    char *err, size_t errlen)
{
    switch (m->type) {
    case CDC_PGO_BEGIN:
        return cdc_pgo_begin(r, m, err, errlen);
    case CDC_PGO_COMMIT:
        return cdc_pgo_commit(r, m, err, errlen);
    case CDC_PGO_ORIGIN:
        return cdc_pgo_origin(r, m, err, errlen);
    case CDC_PGO_RELATION:
        return cdc_pgo_relation_msg(d, r, m, err, errlen);
    case CDC_PGO_TYPE:
        return cdc_pgo_type(r, m, err, errlen);
    case CDC_PGO_INSERT:
    case CDC_PGO_UPDATE:
    case CDC_PGO_DELETE:
        return cdc_pgo_change(d, r, m, err, errlen);
    case CDC_PGO_TRUNCATE:
        return cdc_pgo_truncate(d, r, m, err, errlen);
    case CDC_PGO_MESSAGE:
        return cdc_pgo_message(r, m, err, errlen);
    default:
        return cdc_pgo_fail(err, errlen, "pgoutput: unknown message type "
                            "0x%02x", (unsigned) (uint8_t) m->type);
    }
}


int
cdc_pgo_decode(cdc_pgo_t *d, const uint8_t *p, size_t len,
    cdc_pgo_msg_t *m, char *err, size_t errlen)
{
    cdc_pgo_rd_t  r;
    uint8_t       type;

    memset(m, 0, sizeof(*m));
    cdc_pgo_rd_init(&r, p, len);

    if (cdc_pgo_rd_u8(&r, &type) != 0) {
        return cdc_pgo_fail(err, errlen, "pgoutput: empty message");
    }
    m->type = (char) type;

    if (cdc_pgo_dispatch(d, &r, m, err, errlen) != 0) {
        return -1;
    }

    if (cdc_pgo_rd_left(&r) != 0) {
        return cdc_pgo_fail(err, errlen, "pgoutput %s: %zu bytes left over "
                            "at offset %zu", cdc_pgo_name(m->type),
                            cdc_pgo_rd_left(&r), cdc_pgo_rd_off(&r));
    }

    return 0;
}
