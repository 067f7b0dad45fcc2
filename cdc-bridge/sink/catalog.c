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


/*
 * The value of a source column default that PostgreSQL can take as is:
 * 1 with the value's text in out (a number, or a quoted string with its
 * quotes removed), 0 for no default (none, or NULL), -1 for anything else
 * (an expression such as current_timestamp(), b'101', a binary or
 * TIMESTAMP value whose text depends on the session).
 */
static int
cdc_catalog_default(const cdc_source_col_t *c, char *out, size_t len)
{
    size_t       n;
    const char  *p, *d;

    d = c->def;

    if (d == NULL || strcmp(d, "NULL") == 0) {
        return 0;
    }

    if (strcmp(c->type.data_type, "timestamp") == 0
        || strstr(c->type.data_type, "binary") != NULL
        || strstr(c->type.data_type, "blob") != NULL)
    {
        return -1;
    }

    if (*d != '\'') {
        p = d + (*d == '-');
        if (*p == '\0' || strspn(p, "0123456789.eE+-") != strlen(p)
            || !(*p >= '0' && *p <= '9'))
        {
            return -1;
        }
        return snprintf(out, len, "%s", d) < (int) len ? 1 : -1;
    }

    /* 'text' with '' and backslash escapes, as MariaDB shows it */
    for (n = 0, p = d + 1; *p; p++) {
        if (*p == '\'' && p[1] == '\'') {
            p++;
        } else if (*p == '\'') {
            break;
        } else if (*p == '\\' && p[1]) {
            p++;
        }
        if (n + 1 >= len) {
            return -1;
        }
        out[n++] = *p;
    }

    out[n] = '\0';

    return *p == '\'' && p[1] == '\0' ? 1 : -1;
}


static int
cdc_catalog_alter_add(cdc_sink_t *s, cdc_sink_table_t *t,
    const char *dst_col, const char *pgtype, const char *def, char *err,
    size_t errlen)
{
    int         rc;
    char       *q, *lit;
    cdc_sql_t   b;

    q = cdc_pg_quote_ident(dst_col);
    lit = def ? PQescapeLiteral(s->pg, def, strlen(def)) : NULL;

    if (q == NULL || (def && lit == NULL)) {
        free(q);
        PQfreemem(lit);
        return cdc_error(err, errlen, "out of memory");
    }

    memset(&b, 0, sizeof(b));
    cdc_sql_add(&b, "ALTER TABLE ");
    cdc_sql_add(&b, t->qname);
    cdc_sql_add(&b, " ADD COLUMN IF NOT EXISTS ");
    cdc_sql_add(&b, q);
    cdc_sql_add(&b, " ");
    cdc_sql_add(&b, pgtype);

    if (lit) {
        cdc_sql_add(&b, " DEFAULT ");
        cdc_sql_add(&b, lit);
    }

    free(q);
    PQfreemem(lit);

    if (b.oom) {
        free(b.p);
        return cdc_error(err, errlen, "out of memory");
    }

    cdc_log_info("service %s: source %s gained a column: %s",
                 s->svc->name, t->src, b.p);

    rc = cdc_pg_exec(s->pg, b.p, err, errlen);
    free(b.p);

    return rc;
}


/*
 * The source gained src_col: adds it to the target with the mapped type
 * and the source's default, so the rows already there get the value the
 * source gave its old rows.  Returns 0, 1 when the source no longer has
 * the column (added and dropped again while the sink lagged: the caller
 * leaves its values out), or -1.
 */
int
cdc_catalog_add_column(cdc_sink_t *s, cdc_sink_table_t *t,
    const char *src_col, const char *dst_col, const cdc_jv_t *sample,
    char *err, size_t errlen)
{
    int                rc, d;
    char               pgtype[128], def[1024];
    size_t             i, ncols;
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
        cdc_log_warn("service %s: column \"%s\" of %s is in changes but no "
                     "longer in the source table (added and dropped while "
                     "the sink lagged): its values are left out, as the "
                     "source's DROP COLUMN left them", s->svc->name,
                     src_col, t->src);
        return 1;
    }

    rc = cdc_typemap_pg_type(&cols[i].type, pgtype, sizeof(pgtype), err,
                             errlen);
    d = cdc_catalog_default(&cols[i], def, sizeof(def));

    if (d < 0) {
        cdc_log_warn("service %s: column \"%s\" of %s has the default %s, "
                     "which the sink does not copy: the target's rows from "
                     "before the ADD COLUMN get NULL there; set them "
                     "yourself (UPDATE %s SET …) or snapshot the table "
                     "again", s->svc->name, src_col, t->src, cols[i].def,
                     t->qname);
    }

    cdc_source_db_free_columns(cols, ncols);

    if (rc != 0) {
        return -1;
    }

    rc = cdc_catalog_alter_add(s, t, dst_col, pgtype, d > 0 ? def : NULL,
                               err, errlen);

    if (rc != 0 && d > 0 && s->pg && PQstatus(s->pg) == CONNECTION_OK) {
        cdc_log_warn("service %s: %s.%s: default '%s' refused (%s): the "
                     "column is added without it; the target's old rows "
                     "get NULL there", s->svc->name, t->src, src_col, def,
                     err);
        rc = cdc_catalog_alter_add(s, t, dst_col, pgtype, NULL, err,
                                   errlen);
    }

    if (rc != 0) {
        return -1;
    }

    return cdc_catalog_load(s, t, err, errlen);
}


/*
 * Columns in changes that the source no longer has; forgotten after 10 s,
 * so a column added again is looked up again.
 */
int
cdc_catalog_gone(cdc_sink_table_t *t, const char *col, int add)
{
    size_t    i;
    int64_t   now;
    char    **ng;

    now = cdc_lag_now_ms();

    if (t->ngone && now - t->gone_ms > 10000) {
        for (i = 0; i < t->ngone; i++) {
            free(t->gone[i]);
        }
        t->ngone = 0;
    }

    for (i = 0; i < t->ngone; i++) {
        if (strcmp(t->gone[i], col) == 0) {
            return 1;
        }
    }

    if (!add) {
        return 0;
    }

    ng = realloc(t->gone, (t->ngone + 1) * sizeof(char *));
    if (ng == NULL) {
        return 0;
    }

    t->gone = ng;
    t->gone[t->ngone] = strdup(col);
    t->ngone += t->gone[t->ngone] != NULL;
    t->gone_ms = t->ngone == 1 ? now : t->gone_ms;

    return 1;
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
            return cdc_error(err, errlen, "target table %s.%s "
                             "(for %s) has no primary key: a replay after "
                             "`cdc-bridge run` restarts would insert its "
                             "rows again; give %s a PRIMARY KEY or a "
                             "UNIQUE key of NOT NULL columns (and the "
                             "target the same primary key), or set "
                             "allow_keyless_tables = yes to accept "
                             "duplicates",
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


/* ------------------------------------------------------------- widening */

typedef struct {
    int    fam;         /* 1 integer, 2 numeric, 3 varchar/text, 4 float,
                           5 timestamp, 6 timestamptz, 7 bit varying,
                           8 interval; 0 other */
    long   a;           /* digits, length, precision; -1 unbounded */
    long   b;           /* numeric scale */
} cdc_catalog_shape_t;


static void
cdc_catalog_shape(const char *t, cdc_catalog_shape_t *sh)
{
    const char  *p;

    sh->fam = 0;
    sh->a = -1;
    sh->b = 0;
    p = strchr(t, '(');

    if (p) {
        sh->a = strtol(p + 1, NULL, 10);
        p = strchr(p, ',');
        sh->b = p ? strtol(p + 1, NULL, 10) : 0;
    }

    if (strcmp(t, "smallint") == 0 || strcmp(t, "integer") == 0
        || strcmp(t, "bigint") == 0)
    {
        sh->fam = 1;
        sh->a = t[0] == 's' ? 5 : t[0] == 'i' ? 10 : 19;

    } else if (strncmp(t, "numeric", 7) == 0) {
        sh->fam = 2;

    } else if (strncmp(t, "character varying", 17) == 0
               || strncmp(t, "varchar", 7) == 0 || strcmp(t, "text") == 0)
    {
        sh->fam = 3;

    } else if (strcmp(t, "real") == 0 || strcmp(t, "double precision") == 0)
    {
        sh->fam = 4;
        sh->a = t[0] == 'r' ? 1 : 2;

    } else if (strncmp(t, "timestamp", 9) == 0) {
        sh->fam = strstr(t, "without") ? 5 : 6;
        sh->a = sh->a < 0 ? 6 : sh->a;

    } else if (strncmp(t, "bit varying", 11) == 0) {
        sh->fam = 7;

    } else if (strncmp(t, "interval", 8) == 0) {
        sh->fam = 8;
        sh->a = sh->a < 0 ? 6 : sh->a;
    }
}


/* 1 if every value of type from fits type to, and they differ */
int
cdc_catalog_widens(const char *from, const char *to)
{
    cdc_catalog_shape_t  f, t;

    cdc_catalog_shape(from, &f);
    cdc_catalog_shape(to, &t);

    if (f.fam == 0 || t.fam == 0) {
        return 0;
    }

    if (f.fam == 1 && t.fam == 2) {
        return t.a < 0 || t.a - t.b >= f.a + (f.a == 19);
    }

    if (f.fam != t.fam) {
        return 0;
    }

    if (f.fam == 2) {
        if (f.a < 0) {
            return 0;
        }
        return t.a < 0 || (t.b >= f.b && t.a - t.b >= f.a - f.b
                           && (t.a != f.a || t.b != f.b));
    }

    if (f.a < 0) {
        return 0;                       /* unbounded already */
    }

    return t.a < 0 || t.a > f.a;
}


/* the target's column types now, in the open transaction */
static PGresult *
cdc_catalog_types(cdc_sink_t *s, cdc_sink_table_t *t, char *err,
    size_t errlen)
{
    const char  *vals[2];

    vals[0] = t->map->dst_schema;
    vals[1] = t->map->dst_table;

    return cdc_pg_query(s->pg,
        "SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod)"
        " FROM pg_catalog.pg_attribute a"
        " JOIN pg_catalog.pg_class c ON c.oid = a.attrelid"
        " JOIN pg_catalog.pg_namespace ns ON ns.oid = c.relnamespace"
        " WHERE ns.nspname = $1 AND c.relname = $2 AND a.attnum > 0"
        " AND NOT a.attisdropped", 2, vals, err, errlen);
}


/* ALTER COLUMN … TYPE, and the column's type names in memory */
static int
cdc_catalog_alter_type(cdc_sink_t *s, cdc_sink_table_t *t, long j,
    const char *pgtype, char *err, size_t errlen)
{
    char         sql[1024], *type, *base;
    const char  *p;

    snprintf(sql, sizeof(sql), "ALTER TABLE %s ALTER COLUMN %s TYPE %s",
             t->qname, t->cols[j].qname, pgtype);

    /* refused (a view uses the column, …): the transaction goes on */
    if (cdc_pg_exec(s->pg, "SAVEPOINT cdc_widen", err, errlen) != 0) {
        return -1;
    }

    if (cdc_pg_exec(s->pg, sql, err, errlen) != 0) {
        (void) cdc_pg_exec(s->pg, "ROLLBACK TO SAVEPOINT cdc_widen", sql,
                           sizeof(sql));
        return -1;
    }

    cdc_log_info("service %s: source %s widened a column: %s", s->svc->name,
                 t->src, sql);

    /* "timestamp(3) with time zone" -> "timestamp with time zone" */
    type = strdup(pgtype);
    p = strchr(pgtype, '(');
    base = p ? strndup(pgtype, (size_t) (p - pgtype)) : strdup(pgtype);

    if (type == NULL || base == NULL) {
        free(type);
        free(base);
        return cdc_error(err, errlen, "out of memory");
    }

    if (p && strchr(p, ')')) {
        snprintf(sql, sizeof(sql), "%s%s", base, strchr(p, ')') + 1);
        free(base);
        base = strdup(sql);
    }

    if (base == NULL) {
        free(type);
        return cdc_error(err, errlen, "out of memory");
    }

    /* only the applier reads these two; kind stays the same */
    free(t->cols[j].type);
    free(t->cols[j].basetype);
    t->cols[j].type = type;
    t->cols[j].basetype = base;

    return 0;
}


/*
 * After a change of t was rejected for its data (SQLSTATE 22…): a source
 * column now wider than its target column (INT -> BIGINT, VARCHAR(10) ->
 * VARCHAR(100), …) is widened in the target, in the open transaction,
 * when create_tables is on.  Returns 1 if a column was widened (apply the
 * change again), 0 if not (msg then says which target column is narrower
 * than the source's and how to fix it, or is empty), -1 on an error.
 * Applier thread; the main thread waits for it before any ADD COLUMN.
 */
int
cdc_catalog_widen(cdc_sink_t *s, cdc_sink_table_t *t, char *msg,
    size_t msglen)
{
    int                i, n, widened;
    char               pgtype[128], err[CDC_SINK_ERRLEN];
    long               j;
    size_t             k, ncols, len;
    PGresult          *r;
    const char        *dst, *cur;
    cdc_source_col_t  *cols;

    msg[0] = '\0';
    len = 0;
    widened = 0;

    if (cdc_source_db_columns(s, t->map->src_db, t->map->src_table, &cols,
                              &ncols, err, sizeof(err)) != 0)
    {
        return 0;
    }

    r = cdc_catalog_types(s, t, err, sizeof(err));
    n = r && PQresultStatus(r) == PGRES_TUPLES_OK ? PQntuples(r) : 0;

    for (k = 0; k < ncols; k++) {
        dst = cdc_catalog_map_column(s, t, cols[k].name);
        j = dst ? cdc_catalog_find(t, dst) : -1;

        if (j < 0 || cdc_typemap_pg_type(&cols[k].type, pgtype,
                                         sizeof(pgtype), err, sizeof(err))
                     != 0)
        {
            continue;
        }

        for (i = 0, cur = NULL; i < n; i++) {
            if (strcmp(PQgetvalue(r, i, 0), dst) == 0) {
                cur = PQgetvalue(r, i, 1);
            }
        }

        if (cur == NULL || !cdc_catalog_widens(cur, pgtype)) {
            continue;
        }

        if (s->svc->create_tables
            && cdc_typemap_kind(pgtype) == t->cols[j].kind)
        {
            if (cdc_catalog_alter_type(s, t, j, pgtype, err, sizeof(err))
                == 0)
            {
                widened = 1;
                continue;
            }

            cdc_log_error("service %s: widening %s.%s: %s", s->svc->name,
                          t->src, cols[k].name, err);

            if (s->pg == NULL || PQstatus(s->pg) != CONNECTION_OK) {
                widened = -1;
                break;
            }
        }

        if (len < msglen) {
            len += (size_t) snprintf(msg + len, msglen - len,
                       "%scolumn \"%s\" is %s at the source (%s) but %s in "
                       "target %s: ALTER TABLE %s ALTER COLUMN %s TYPE %s, "
                       "then replay the dead letters", len ? "; " : "",
                       cols[k].name, pgtype, cols[k].type.column_type, cur,
                       t->qname, t->qname, t->cols[j].qname, pgtype);
        }
    }

    PQclear(r);
    cdc_source_db_free_columns(cols, ncols);

    return widened;
}
