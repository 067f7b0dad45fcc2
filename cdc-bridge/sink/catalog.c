/*
 * cdc-bridge sink: the target tables.  Reads each mapped table's columns
 * and primary key from pg_catalog; with create_tables, creates missing
 * tables from the source's information_schema through the type map and
 * adds columns the source gained (ALTER TABLE … ADD COLUMN IF NOT EXISTS).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sink/sink.h"


void
cdc_catalog_free(cdc_sink_table_t *t)
{
    size_t  i;

    for (i = 0; i < t->ncols; i++) {
        free(t->cols[i].name);
        free(t->cols[i].type);
        free(t->cols[i].basetype);
        free(t->cols[i].qname);
    }

    free(t->cols);
    free(t->pk);
    t->cols = NULL;
    t->pk = NULL;
    t->ncols = 0;
    t->npk = 0;
}


int
cdc_catalog_load(cdc_sink_t *s, cdc_sink_table_t *t, char *err,
    size_t errlen)
{
    int                i, n;
    size_t             k;
    PGresult          *r;
    cdc_sink_col_t    *c;
    const char        *vals[2];

    vals[0] = t->map->dst_schema;
    vals[1] = t->map->dst_table;

    r = cdc_pg_query(s->pg,
        "SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod),"
        " pg_catalog.format_type(a.atttypid, NULL),"
        " COALESCE((SELECT k.ord FROM pg_catalog.pg_index i,"
        "   unnest(i.indkey::pg_catalog.int2[]) WITH ORDINALITY k(att, ord)"
        "   WHERE i.indrelid = c.oid AND i.indisprimary"
        "   AND k.att = a.attnum), 0)"
        " FROM pg_catalog.pg_attribute a"
        " JOIN pg_catalog.pg_class c ON c.oid = a.attrelid"
        " JOIN pg_catalog.pg_namespace ns ON ns.oid = c.relnamespace"
        " WHERE ns.nspname = $1 AND c.relname = $2 AND a.attnum > 0"
        " AND NOT a.attisdropped ORDER BY a.attnum", 2, vals, err, errlen);

    if (r == NULL) {
        return -1;
    }

    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        PQclear(r);
        return -1;
    }

    cdc_catalog_free(t);

    n = PQntuples(r);
    t->exists = n > 0;

    if (n == 0) {
        PQclear(r);
        return 0;
    }

    t->cols = calloc((size_t) n, sizeof(cdc_sink_col_t));
    t->pk = calloc((size_t) n, sizeof(size_t));

    if (t->cols == NULL || t->pk == NULL) {
        PQclear(r);
        return cdc_error(err, errlen, "out of memory");
    }

    for (i = 0; i < n; i++) {
        c = &t->cols[i];
        c->name = strdup(PQgetvalue(r, i, 0));
        c->type = strdup(PQgetvalue(r, i, 1));
        c->qname = cdc_pg_quote_ident(PQgetvalue(r, i, 0));
        c->pk = atoi(PQgetvalue(r, i, 3));
        c->basetype = strdup(PQgetvalue(r, i, 2));

        if (c->name == NULL || c->type == NULL || c->qname == NULL
            || c->basetype == NULL)
        {
            PQclear(r);
            t->ncols = (size_t) i + 1;
            return cdc_error(err, errlen, "out of memory");
        }

        c->kind = cdc_typemap_kind(c->type);
    }

    t->ncols = (size_t) n;
    PQclear(r);

    /* key columns in key order */
    t->npk = 0;

    for (k = 1; k <= t->ncols; k++) {
        for (i = 0; i < n; i++) {
            if ((size_t) t->cols[i].pk == k) {
                t->pk[t->npk++] = (size_t) i;
                break;
            }
        }
    }

    return 0;
}


const char *
cdc_catalog_map_column(const cdc_sink_t *s, const cdc_sink_table_t *t,
    const char *src_col)
{
    size_t                   i;
    const cdc_column_map_t  *m;

    for (i = 0; i < s->svc->ncolumns; i++) {
        m = &s->svc->columns[i];

        if (strcmp(m->src_column, src_col) == 0
            && strcmp(m->src_table, t->map->src_table) == 0
            && strcmp(m->src_db, t->map->src_db) == 0)
        {
            return m->dst_column;       /* NULL: dropped */
        }
    }

    return src_col;
}


long
cdc_catalog_find(const cdc_sink_table_t *t, const char *name)
{
    size_t  i;

    for (i = 0; i < t->ncols; i++) {
        if (strcmp(t->cols[i].name, name) == 0) {
            return (long) i;
        }
    }

    return -1;
}


static int
cdc_catalog_create(cdc_sink_t *s, cdc_sink_table_t *t, char *err,
    size_t errlen)
{
    int                rc;
    char               pgtype[128], *q, *qs;
    size_t             i, ncols, k, npk;
    cdc_sql_t          b;
    const char        *dst;
    cdc_source_col_t  *cols;

    if (cdc_source_db_columns(s, t->map->src_db, t->map->src_table, &cols,
                              &ncols, err, errlen) != 0)
    {
        return -1;
    }

    memset(&b, 0, sizeof(b));
    qs = cdc_pg_quote_ident(t->map->dst_schema);
    rc = -1;
    npk = 0;

    if (qs == NULL) {
        cdc_error(err, errlen, "out of memory");
        goto done;
    }

    if (cdc_pg_ensure_schema(s->pg, t->map->dst_schema, err, errlen) != 0)
    {
        goto done;
    }

    cdc_sql_add(&b, "CREATE TABLE IF NOT EXISTS ");
    cdc_sql_add(&b, t->qname);
    cdc_sql_add(&b, " (");

    for (i = 0; i < ncols; i++) {
        dst = cdc_catalog_map_column(s, t, cols[i].name);

        if (dst == NULL) {
            if (cols[i].pk) {
                cdc_error(err, errlen, "%s: primary key column \"%s\" "
                          "cannot be dropped", t->src, cols[i].name);
                goto done;
            }
            continue;
        }

        if (cdc_typemap_pg_type(&cols[i].type, pgtype, sizeof(pgtype),
                                err, errlen) != 0)
        {
            goto done;
        }

        q = cdc_pg_quote_ident(dst);
        if (q == NULL) {
            cdc_error(err, errlen, "out of memory");
            goto done;
        }

        cdc_sql_add(&b, i ? ", " : "");
        cdc_sql_add(&b, q);
        cdc_sql_add(&b, " ");
        cdc_sql_add(&b, pgtype);
        cdc_sql_add(&b, cols[i].pk ? " NOT NULL" : "");
        free(q);

        if (cols[i].pk) {
            npk++;
        }
    }

    if (npk) {
        cdc_sql_add(&b, ", PRIMARY KEY (");

        for (k = 1; k <= npk; k++) {
            for (i = 0; i < ncols; i++) {
                if ((size_t) cols[i].pk == k) {
                    q = cdc_pg_quote_ident(cdc_catalog_map_column(s, t,
                                                              cols[i].name));
                    if (q == NULL) {
                        cdc_error(err, errlen, "out of memory");
                        goto done;
                    }
                    cdc_sql_add(&b, k > 1 ? ", " : "");
                    cdc_sql_add(&b, q);
                    free(q);
                }
            }
        }

        cdc_sql_add(&b, ")");
    }

    cdc_sql_add(&b, ")");

    if (b.oom) {
        cdc_error(err, errlen, "out of memory");
        goto done;
    }

    cdc_log_info("service %s: %s", s->svc->name, b.p);

    if (cdc_pg_exec(s->pg, b.p, err, errlen) != 0) {
        goto done;
    }

    rc = cdc_catalog_load(s, t, err, errlen);

done:

    free(qs);
    free(b.p);
    cdc_source_db_free_columns(cols, ncols);

    return rc;
}


int
cdc_catalog_add_column(cdc_sink_t *s, cdc_sink_table_t *t,
    const char *src_col, const char *dst_col, const cdc_jv_t *sample,
    char *err, size_t errlen)
{
    int                rc;
    char               pgtype[128], *q;
    size_t             i, ncols;
    cdc_sql_t          b;
    cdc_source_col_t  *cols;

    if (cdc_source_db_columns(s, t->map->src_db, t->map->src_table, &cols,
                              &ncols, err, errlen) != 0)
    {
        return -1;
    }

    for (i = 0; i < ncols; i++) {
        if (strcmp(cols[i].name, src_col) == 0) {
            break;
        }
    }

    if (i == ncols) {
        cdc_source_db_free_columns(cols, ncols);
        return cdc_error(err, errlen, "column \"%s\" of %s is in the "
                         "change but no longer in the source table",
                         src_col, t->src);
    }

    rc = cdc_typemap_pg_type(&cols[i].type, pgtype, sizeof(pgtype), err,
                             errlen);
    cdc_source_db_free_columns(cols, ncols);

    if (rc != 0) {
        return -1;
    }

    q = cdc_pg_quote_ident(dst_col);
    if (q == NULL) {
        return cdc_error(err, errlen, "out of memory");
    }

    memset(&b, 0, sizeof(b));
    cdc_sql_add(&b, "ALTER TABLE ");
    cdc_sql_add(&b, t->qname);
    cdc_sql_add(&b, " ADD COLUMN IF NOT EXISTS ");
    cdc_sql_add(&b, q);
    cdc_sql_add(&b, " ");
    cdc_sql_add(&b, pgtype);
    free(q);

    if (b.oom) {
        free(b.p);
        return cdc_error(err, errlen, "out of memory");
    }

    cdc_log_info("service %s: source %s gained column \"%s\": %s",
                 s->svc->name, t->src, src_col, b.p);

    rc = cdc_pg_exec(s->pg, b.p, err, errlen);
    free(b.p);

    if (rc != 0) {
        return -1;
    }

    return cdc_catalog_load(s, t, err, errlen);
}


int
cdc_catalog_prepare(cdc_sink_t *s, char *err, size_t errlen)
{
    size_t             i;
    char               topic[512], *qs, *qt;
    cdc_sink_table_t  *t;

    s->tables = calloc(s->svc->ntables ? s->svc->ntables : 1,
                       sizeof(cdc_sink_table_t));
    if (s->tables == NULL) {
        return cdc_error(err, errlen, "out of memory");
    }

    s->ntables = s->svc->ntables;

    for (i = 0; i < s->ntables; i++) {
        t = &s->tables[i];
        t->map = &s->svc->tables[i];

        if (cdc_config_topic(s->cf, t->map->src_db, t->map->src_table,
                             topic, sizeof(topic)) != 0)
        {
            return cdc_error(err, errlen, "topic name too long for %s.%s",
                             t->map->src_db, t->map->src_table);
        }

        t->topic = strdup(topic);
        qs = cdc_pg_quote_ident(t->map->dst_schema);
        qt = cdc_pg_quote_ident(t->map->dst_table);

        if (asprintf(&t->src, "%s.%s", t->map->src_db, t->map->src_table)
            < 0)
        {
            t->src = NULL;
        }

        if (qs && qt && asprintf(&t->qname, "%s.%s", qs, qt) < 0) {
            t->qname = NULL;
        }

        free(qs);
        free(qt);

        if (t->topic == NULL || t->src == NULL || t->qname == NULL) {
            return cdc_error(err, errlen, "out of memory");
        }

        if (cdc_catalog_load(s, t, err, errlen) != 0) {
            return -1;
        }

        if (!t->exists) {
            if (!s->svc->create_tables) {
                return cdc_error(err, errlen, "service %s: target table "
                                 "%s.%s (for %s) does not exist: create "
                                 "it, or set create_tables = yes",
                                 s->svc->name, t->map->dst_schema,
                                 t->map->dst_table, t->src);
            }

            if (cdc_catalog_create(s, t, err, errlen) != 0) {
                return -1;
            }
        }

        if (t->npk == 0 && !s->svc->allow_keyless) {
            return cdc_error(err, errlen, "service %s: target table %s.%s "
                             "(for %s) has no primary key: a replay after "
                             "`cdc-bridge run` restarts would insert its "
                             "rows again; give %s a PRIMARY KEY or a "
                             "UNIQUE key of NOT NULL columns (and the "
                             "target the same primary key), or set "
                             "allow_keyless_tables = yes to accept "
                             "duplicates", s->svc->name,
                             t->map->dst_schema, t->map->dst_table, t->src,
                             t->src);
        }

        if (t->npk == 0) {
            cdc_log_warn("service %s: %s.%s has no primary key: its "
                         "changes apply one by one, matching every column, "
                         "and a replay inserts rows again "
                         "(allow_keyless_tables = yes)", s->svc->name,
                         t->map->dst_schema, t->map->dst_table);
        }
    }

    return 0;
}
