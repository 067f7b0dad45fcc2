/*
 * cdc-bridge sink: a batch of changes -> one PostgreSQL transaction.
 *
 * Fast path: changes are collapsed per (table, primary key) to the last
 * one (a key change is a delete of the old key and an upsert of the new);
 * the deletes run first as DELETE … WHERE key IN (…), then the upserts as
 * multi-row INSERT … ON CONFLICT (key) DO UPDATE, grouped by table and
 * column set; then the consumed offsets, all in one transaction.
 *
 * Slow path, when PostgreSQL rejects something in the fast path for a
 * reason in the data (not a broken connection): the transaction is rolled
 * back and the batch applied again change by change, in order, each under
 * a savepoint; a change PostgreSQL rejects is dead-lettered and the rest
 * keep going.  Tables without a primary key always go change by change,
 * matching rows on every column (IS NOT DISTINCT FROM).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sink/sink.h"


#define CDC_APPLY_MAX_ROWS    10000
#define CDC_APPLY_MAX_PARAMS  1000000

#define CDC_APPLY_OK          0
#define CDC_APPLY_TRANSIENT   1
#define CDC_APPLY_DATA        2


typedef struct {
    cdc_sink_table_t   *table;
    const char         *key;
    uint64_t            hash;
    int                 del;        /* 1: delete, 0: upsert */
    const char        **vals;
    size_t              nvals;
    size_t              change;
    int                 done;
    int                 ins;        /* last change an insert or a read */
    int                 must;       /* the row must be there before the
                                       batch: its first change in the
                                       batch is an update or a delete */
} cdc_apply_action_t;


static const char  cdc_absent[] = "";

#define cdc_is_absent(v)  ((v) == cdc_absent)


static char    cdc_apply_err[CDC_SINK_ERRLEN];
static char    cdc_apply_state[6];
static size_t  cdc_apply_rows;      /* rows the last statement changed */
static size_t  cdc_apply_inserted;  /* … of which it inserted (RETURNING) */


static uint64_t
cdc_apply_hash(const void *table, const char *key)
{
    uint64_t  h;

    h = 1469598103934665603ULL ^ (uint64_t) (uintptr_t) table;

    for ( /* void */ ; *key; key++) {
        h ^= (unsigned char) *key;
        h *= 1099511628211ULL;
    }

    return h;
}


/* ---------------------------------------------------------------- prepare */

/*
 * The target column of the k-th member named name.  Rows of a table
 * mostly list their columns in the same order, so the column found for
 * position k last time is tried first.
 */
static long
cdc_apply_find(cdc_sink_table_t *t, size_t k, const char *name)
{
    long    idx, *nh;
    size_t  n;

    if (k < t->nhint && t->hint[k] >= 0 && (size_t) t->hint[k] < t->ncols
        && strcmp(t->cols[t->hint[k]].name, name) == 0)
    {
        return t->hint[k];
    }

    idx = cdc_catalog_find(t, name);

    if (k >= t->nhint) {
        n = k + 16;
        nh = realloc(t->hint, n * sizeof(long));
        if (nh == NULL) {
            return idx;
        }
        while (t->nhint < n) {
            nh[t->nhint++] = -1;
        }
        t->hint = nh;
    }

    t->hint[k] = idx;

    return idx;
}


static const char **
cdc_apply_row(cdc_sink_t *s, cdc_sink_batch_t *b, cdc_sink_change_t *c,
    cdc_jv_t *img)
{
    int           rc;
    long          idx;
    size_t        i, k, n;
    cdc_jv_t     *m;
    const char   *dst, **vals;
    size_t        len;
    char          err[CDC_SINK_ERRLEN];
    cdc_sink_table_t  *t;

    t = c->table;
    n = t->ncols;

    for (k = 0, m = img->child; m; m = m->next, k++) {
        dst = cdc_catalog_map_column(s, t, m->key);

        if (dst == NULL || cdc_apply_find(t, k, dst) >= 0
            || (t->ngone && cdc_catalog_gone(t, m->key, 0)))
        {
            continue;
        }

        /* the source gained a column the target lacks */
        if (!s->svc->create_tables) {
            if (asprintf(&c->error, "column \"%s\" of %s is not in target "
                         "table %s and create_tables is off: add it (ALTER "
                         "TABLE %s ADD COLUMN …), then replay the dead "
                         "letters (cdc-bridge sink --service %s "
                         "--replay-dead-letters)", m->key, t->src,
                         t->qname, t->qname, s->svc->name) < 0)
            {
                c->error = NULL;
            }
            c->sqlstate = "42703";
            return NULL;
        }

        /* DDL: the applier must be done with the connection and the
           table's columns first */
        if (s->quiesce) {
            s->quiesce(s);
        }

        rc = cdc_catalog_add_column(s, t, m->key, dst, m, err, sizeof(err));

        if (rc == 1) {
            (void) cdc_catalog_gone(t, m->key, 1);
            continue;
        }

        if (rc != 0) {
            cdc_log_error("service %s: %s", s->svc->name, err);
            if (s->pg == NULL || PQstatus(s->pg) != CONNECTION_OK) {
                return NULL;
            }
            c->error = strdup(err);
            c->sqlstate = "42703";
            return NULL;
        }

        n = t->ncols;
    }

    vals = cdc_jv_alloc(&b->arena, n * sizeof(char *));
    if (vals == NULL) {
        return NULL;
    }

    for (i = 0; i < n; i++) {
        vals[i] = cdc_absent;
    }

    for (k = 0, m = img->child; m; m = m->next, k++) {
        dst = cdc_catalog_map_column(s, t, m->key);
        if (dst == NULL) {
            continue;
        }

        idx = cdc_apply_find(t, k, dst);
        if (idx < 0) {
            continue;
        }

        if (cdc_typemap_value(m, t->cols[idx].kind, &b->arena, &vals[idx],
                              &len, err, sizeof(err)) != 0)
        {
            if (asprintf(&c->error, "column \"%s\": %s", m->key, err) < 0) {
                c->error = NULL;
            }
            c->sqlstate = "22P02";
            return NULL;
        }

        /*
         * values go to libpq as C strings: a NUL would cut the value
         * short and store a wrong row, so refuse it as PostgreSQL does
         */
        if (vals[idx] && memchr(vals[idx], '\0', len) != NULL) {
            if (asprintf(&c->error, "column \"%s\": text with a NUL "
                         "character, which PostgreSQL cannot store",
                         m->key) < 0)
            {
                c->error = NULL;
            }
            c->sqlstate = "22021";
            return NULL;
        }
    }

    c->nvals = n;

    return vals;
}


static char *
cdc_apply_key(cdc_sink_t *s, cdc_sink_batch_t *b, cdc_sink_change_t *c,
    const char **vals)
{
    char              *key, *p;
    size_t             i, len;
    const char        *v;
    cdc_sink_table_t  *t;

    t = c->table;
    len = 1;

    for (i = 0; i < t->npk; i++) {
        v = t->pk[i] < c->nvals ? vals[t->pk[i]] : cdc_absent;

        if (v == NULL || cdc_is_absent(v)) {
            if (asprintf(&c->error, "primary key column \"%s\" of %s is "
                         "missing or null in the change",
                         t->cols[t->pk[i]].name, t->qname) < 0)
            {
                c->error = NULL;
            }
            c->sqlstate = "23502";
            return NULL;
        }

        len += strlen(v) + 1;
    }

    key = cdc_jv_alloc(&b->arena, len);
    if (key == NULL) {
        return NULL;
    }

    p = key;

    for (i = 0; i < t->npk; i++) {
        v = vals[t->pk[i]];
        len = strlen(v);
        memcpy(p, v, len);
        p += len;
        *p++ = '\x1f';
    }

    *p = '\0';

    return key;
}


static cdc_sink_table_t *
cdc_apply_table(cdc_sink_t *s, const char *db, const char *table)
{
    size_t  i;

    for (i = 0; i < s->ntables; i++) {
        if (strcmp(s->tables[i].map->src_table, table) == 0
            && strcmp(s->tables[i].map->src_db, db) == 0)
        {
            return &s->tables[i];
        }
    }

    return NULL;
}


/*
 * Parses and converts one change.  Returns 0 (c->error set when the
 * change is to be dead-lettered), or 1 when PostgreSQL is unreachable.
 */
int
cdc_apply_prepare(cdc_sink_t *s, cdc_sink_batch_t *b, cdc_sink_change_t *c)
{
    char                 err[CDC_SINK_ERRLEN];
    const char          *op, *db, *table;
    rd_kafka_message_t  *msg;

    msg = c->msg;
    c->prepared = 1;
    c->table = NULL;
    c->error = NULL;
    c->bvals = NULL;
    c->avals = NULL;
    c->nvals = 0;
    c->file = NULL;
    c->pos = 0;
    c->skip = 0;

    if (msg->payload == NULL || msg->len == 0) {
        return 0;                       /* a tombstone: nothing to do */
    }

    c->value = cdc_jv_parse(&b->arena, msg->payload, msg->len, err,
                            sizeof(err));

    if (c->value == NULL || c->value->type != CDC_JV_OBJECT) {
        if (asprintf(&c->error, "not a change event: %s",
                     c->value ? "not an object" : err) < 0)
        {
            c->error = NULL;
        }
        c->sqlstate = "22P02";
        return 0;
    }

    op = cdc_jv_get_str(c->value, "op");
    c->source = cdc_jv_get(c->value, "source");
    c->before = cdc_jv_get(c->value, "before");
    c->after = cdc_jv_get(c->value, "after");
    db = cdc_jv_get_str(c->source, "db");
    table = cdc_jv_get_str(c->source, "table");
    c->ts_ms = cdc_jv_get_int(c->source, "ts_ms", 0);

    if (op == NULL || db == NULL || table == NULL || op[0] == '\0') {
        c->error = strdup("not a change event: no op, source.db or "
                          "source.table");
        c->sqlstate = "22P02";
        return 0;
    }

    c->op = op[0];

    if (c->op == 'm') {
        return 0;                       /* a progress marker (events.md) */
    }

    c->table = cdc_apply_table(s, db, table);

    if (c->table == NULL) {
        return 0;                       /* heartbeat, or not this service's */
    }

    c->file = cdc_jv_get_str(c->source, "file");
    c->pos = cdc_jv_get_int(c->source, "pos", 0);
    c->replayed = 0;
    cdc_ddl_seen(s, c);

    if (c->op == 't' || c->table->trunc_pos >= 0) {
        cdc_ddl_prepare(s, b, c);
        if (c->op == 't' || c->skip) {
            return 0;
        }
    }

    if (c->before && c->before->type != CDC_JV_OBJECT) {
        c->before = NULL;
    }

    if (c->after && c->after->type != CDC_JV_OBJECT) {
        c->after = NULL;
    }

    if ((c->op == 'c' || c->op == 'r' || c->op == 'u') && c->after == NULL)
    {
        c->error = strdup("change without \"after\"");
        c->sqlstate = "22P02";
        return 0;
    }

    if ((c->op == 'd' || c->op == 'u') && c->before == NULL) {
        if (c->op == 'd') {
            c->error = strdup("delete without \"before\"");
            c->sqlstate = "22P02";
            return 0;
        }
    }

    if (c->op != 'c' && c->op != 'r' && c->op != 'u' && c->op != 'd') {
        if (asprintf(&c->error, "unknown op \"%s\"", op) < 0) {
            c->error = NULL;
        }
        c->sqlstate = "22P02";
        return 0;
    }

    if (c->after) {
        c->avals = cdc_apply_row(s, b, c, c->after);
        if (c->avals == NULL) {
            return c->error ? 0 : 1;
        }
    }

    if (c->before) {
        c->bvals = cdc_apply_row(s, b, c, c->before);
        if (c->bvals == NULL) {
            return c->error ? 0 : 1;
        }
    }

    if (c->table->npk == 0) {
        return 0;
    }

    if (c->avals) {
        c->akey = cdc_apply_key(s, b, c, c->avals);
        if (c->akey == NULL) {
            return c->error ? 0 : 1;
        }
    }

    if (c->bvals) {
        c->bkey = cdc_apply_key(s, b, c, c->bvals);
        if (c->bkey == NULL) {
            return c->error ? 0 : 1;
        }
    }

    return 0;
}


/* ------------------------------------------------------------- statements */

static int
cdc_apply_arrays(cdc_sink_t *s, size_t n)
{
    size_t      i;
    cdc_sql_t  *na;

    if (n > s->narrays) {
        na = realloc(s->arrays, n * sizeof(cdc_sql_t));
        if (na == NULL) {
            return -1;
        }
        memset(na + s->narrays, 0, (n - s->narrays) * sizeof(cdc_sql_t));
        s->arrays = na;
        s->narrays = n;
    }

    for (i = 0; i < n; i++) {
        s->arrays[i].len = 0;
        s->arrays[i].oom = 0;
        cdc_sql_addn(&s->arrays[i], "{", 1);
    }

    return 0;
}


/* one element of an array literal: NULL, or "text" with \ and " escaped */
static void
cdc_apply_element(cdc_sql_t *b, const char *v, size_t i)
{
    const char  *p, *run;

    if (i) {
        cdc_sql_addn(b, ",", 1);
    }

    if (v == NULL) {
        cdc_sql_addn(b, "NULL", 4);
        return;
    }

    cdc_sql_addn(b, "\"", 1);

    for (run = p = v; *p; p++) {
        if (*p == '"' || *p == '\\') {
            cdc_sql_addn(b, run, (size_t) (p - run));
            cdc_sql_addn(b, "\\", 1);
            run = p;
        }
    }

    cdc_sql_addn(b, run, (size_t) (p - run));
    cdc_sql_addn(b, "\"", 1);
}


/* "$n::basetype[]" for column j */
static void
cdc_apply_array_param(cdc_sql_t *b, cdc_sink_col_t *col, size_t n)
{
    cdc_sql_param(b, n);
    cdc_sql_add(b, "::");
    cdc_sql_add(b, col->basetype);
    cdc_sql_add(b, "[]");
}

static int
cdc_apply_params(cdc_sink_t *s, size_t n)
{
    const char  **np;
    size_t        cap;

    if (n <= s->params_cap) {
        return 0;
    }

    cap = s->params_cap ? s->params_cap : 1024;

    while (cap < n) {
        cap *= 2;
    }

    np = realloc(s->params, cap * sizeof(char *));
    if (np == NULL) {
        return -1;
    }

    s->params = np;
    s->params_cap = cap;

    return 0;
}


/* rows changed; with RETURNING (xmax = 0), the rows inserted */
static void
cdc_apply_count(PGresult *r, ExecStatusType st)
{
    int  i, n;

    cdc_apply_inserted = 0;

    if (st == PGRES_TUPLES_OK) {
        n = PQntuples(r);
        cdc_apply_rows = (size_t) n;

        for (i = 0; i < n; i++) {
            cdc_apply_inserted += PQgetvalue(r, i, 0)[0] == 't';
        }
        return;
    }

    cdc_apply_rows = (size_t) strtoul(PQcmdTuples(r), NULL, 10);
}


/* Runs s->sql with n params; CDC_APPLY_OK, _TRANSIENT or _DATA. */
static int
cdc_apply_run(cdc_sink_t *s, int n)
{
    PGresult        *r;
    ExecStatusType   st;
    const char      *state;

    if (s->sql.oom) {
        s->sql.oom = 0;
        snprintf(cdc_apply_err, sizeof(cdc_apply_err), "out of memory");
        return CDC_APPLY_TRANSIENT;
    }

    r = PQexecParams(s->pg, s->sql.p, n, NULL, s->params, NULL, NULL, 0);
    st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;

    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
        cdc_apply_count(r, st);
        PQclear(r);
        return CDC_APPLY_OK;
    }

    state = cdc_pg_sqlstate(r);
    snprintf(cdc_apply_state, sizeof(cdc_apply_state), "%s", state);
    snprintf(cdc_apply_err, sizeof(cdc_apply_err), "%s",
             r ? PQresultErrorMessage(r) : PQerrorMessage(s->pg));

    /* one line: libpq ends messages with a newline */
    cdc_apply_err[strcspn(cdc_apply_err, "\n")] = '\0';

    PQclear(r);

    return cdc_pg_transient(s->pg, cdc_apply_state) ? CDC_APPLY_TRANSIENT
                                                    : CDC_APPLY_DATA;
}


static int
cdc_apply_simple(cdc_sink_t *s, const char *sql)
{
    s->sql.len = 0;
    cdc_sql_add(&s->sql, sql);

    return cdc_apply_run(s, 0);
}


static int
cdc_apply_present(const char *v)
{
    return !cdc_is_absent(v);
}


/*
 * An update or delete whose row is not in the target: never a silent
 * success.  In the fast path this sends the batch change by change; there
 * the change is dead-lettered with SQLSTATE 02000 (no_data) and counted.
 */
static int
cdc_apply_unmatched(cdc_sink_t *s, cdc_apply_action_t **acts, size_t n,
    char op, size_t missing)
{
    size_t             j, len;
    cdc_sink_table_t  *t;

    (void) s;
    t = acts[0]->table;
    snprintf(cdc_apply_state, sizeof(cdc_apply_state), "02000");

    len = (size_t) snprintf(cdc_apply_err, sizeof(cdc_apply_err),
                            "%s matched no row in %s",
                            op == 'u' ? "update" : "delete", t->qname);

    if (n > 1) {
        snprintf(cdc_apply_err + len, sizeof(cdc_apply_err) - len,
                 ": %zu of %zu rows missing", missing, n);
        return CDC_APPLY_DATA;
    }

    for (j = 0; j < t->npk && len < sizeof(cdc_apply_err); j++) {
        len += (size_t) snprintf(cdc_apply_err + len,
                                 sizeof(cdc_apply_err) - len, "%s%s=%.64s",
                                 j ? ", " : " (", t->cols[t->pk[j]].name,
                                 acts[0]->vals[t->pk[j]]);
    }

    if (len < sizeof(cdc_apply_err)) {
        snprintf(cdc_apply_err + len, sizeof(cdc_apply_err) - len,
                 "%s: the target lacks the row (never inserted here, "
                 "deleted, or truncated); not applied",
                 t->npk ? ")" : "");
    }

    return CDC_APPLY_DATA;
}


/* INSERT … VALUES (…),(…) ON CONFLICT (key) DO UPDATE for acts[0..n) */
static int
cdc_apply_upsert(cdc_sink_t *s, cdc_apply_action_t **acts, size_t n,
    int plain)
{
    int                rc;
    size_t             i, j, np, ncols, first;
    const char        *v;
    cdc_sink_table_t  *t;
    cdc_sql_t         *b;

    t = acts[0]->table;
    b = &s->sql;
    b->len = 0;
    ncols = 0;

    cdc_sql_add(b, "INSERT INTO ");
    cdc_sql_add(b, t->qname);
    cdc_sql_add(b, " (");

    for (j = 0; j < acts[0]->nvals; j++) {
        if (cdc_apply_present(acts[0]->vals[j])) {
            cdc_sql_add(b, ncols++ ? ", " : "");
            cdc_sql_add(b, t->cols[j].qname);
        }
    }

    if (cdc_apply_params(s, ncols * n) != 0) {
        snprintf(cdc_apply_err, sizeof(cdc_apply_err), "out of memory");
        return CDC_APPLY_TRANSIENT;
    }

    np = 0;

    if (n > 1) {
        /* many rows: one array per column, so the statement has ncols
           parameters whatever the row count (cheap to parse and bind) */
        if (cdc_apply_arrays(s, ncols) != 0) {
            snprintf(cdc_apply_err, sizeof(cdc_apply_err), "out of memory");
            return CDC_APPLY_TRANSIENT;
        }

        for (i = 0; i < n; i++) {
            np = 0;
            for (j = 0; j < acts[i]->nvals; j++) {
                v = acts[i]->vals[j];
                if (cdc_apply_present(v)) {
                    cdc_apply_element(&s->arrays[np++], v, i);
                }
            }
        }

        cdc_sql_add(b, ") SELECT * FROM unnest(");
        np = 0;

        for (j = 0; j < acts[0]->nvals; j++) {
            if (!cdc_apply_present(acts[0]->vals[j])) {
                continue;
            }

            cdc_sql_addn(&s->arrays[np], "}", 1);
            if (s->arrays[np].oom) {
                snprintf(cdc_apply_err, sizeof(cdc_apply_err),
                         "out of memory");
                return CDC_APPLY_TRANSIENT;
            }

            s->params[np] = s->arrays[np].p;
            cdc_sql_add(b, np ? ", " : "");
            cdc_apply_array_param(b, &t->cols[j], ++np);
        }

        cdc_sql_add(b, ")");
        goto conflict;
    }

    cdc_sql_add(b, ") VALUES ");

    for (i = 0; i < n; i++) {
        cdc_sql_add(b, i ? ",(" : "(");
        first = 1;

        for (j = 0; j < acts[i]->nvals; j++) {
            v = acts[i]->vals[j];

            if (!cdc_apply_present(v)) {
                continue;
            }

            cdc_sql_add(b, first ? "" : ",");
            first = 0;
            s->params[np++] = v;
            cdc_sql_param(b, np);
        }

        cdc_sql_add(b, ")");
    }

conflict:

    if (t->npk && !plain) {
        cdc_sql_add(b, " ON CONFLICT (");

        for (j = 0; j < t->npk; j++) {
            cdc_sql_add(b, j ? ", " : "");
            cdc_sql_add(b, t->cols[t->pk[j]].qname);
        }

        cdc_sql_add(b, ") DO ");
        first = 1;

        for (j = 0; j < acts[0]->nvals; j++) {
            if (!cdc_apply_present(acts[0]->vals[j]) || t->cols[j].pk) {
                continue;
            }

            cdc_sql_add(b, first ? "UPDATE SET " : ", ");
            first = 0;
            cdc_sql_add(b, t->cols[j].qname);
            cdc_sql_add(b, " = EXCLUDED.");
            cdc_sql_add(b, t->cols[j].qname);
        }

        if (first) {
            cdc_sql_add(b, "NOTHING");
        }
    }

    if (!acts[0]->must) {
        return cdc_apply_run(s, (int) np);
    }

    /* updates: the rows must have been there */
    cdc_sql_add(b, " RETURNING (xmax = 0)");

    rc = cdc_apply_run(s, (int) np);
    if (rc != CDC_APPLY_OK || cdc_apply_inserted == 0) {
        return rc;
    }

    return cdc_apply_unmatched(s, acts, n, 'u', cdc_apply_inserted);
}


/* DELETE … WHERE (key) IN ((…),(…)) for acts[0..n) */
static int
cdc_apply_delete(cdc_sink_t *s, cdc_apply_action_t **acts, size_t n)
{
    int                rc;
    size_t             i, j, np;
    cdc_sink_table_t  *t;
    cdc_sql_t         *b;

    t = acts[0]->table;
    b = &s->sql;
    b->len = 0;

    if (cdc_apply_params(s, t->npk * n) != 0) {
        snprintf(cdc_apply_err, sizeof(cdc_apply_err), "out of memory");
        return CDC_APPLY_TRANSIENT;
    }

    cdc_sql_add(b, "DELETE FROM ");
    cdc_sql_add(b, t->qname);
    cdc_sql_add(b, " WHERE (");

    for (j = 0; j < t->npk; j++) {
        cdc_sql_add(b, j ? ", " : "");
        cdc_sql_add(b, t->cols[t->pk[j]].qname);
    }

    np = 0;

    if (n > 1) {
        if (cdc_apply_arrays(s, t->npk) != 0) {
            snprintf(cdc_apply_err, sizeof(cdc_apply_err), "out of memory");
            return CDC_APPLY_TRANSIENT;
        }

        for (i = 0; i < n; i++) {
            for (j = 0; j < t->npk; j++) {
                cdc_apply_element(&s->arrays[j], acts[i]->vals[t->pk[j]], i);
            }
        }

        cdc_sql_add(b, ") IN (SELECT * FROM unnest(");

        for (j = 0; j < t->npk; j++) {
            cdc_sql_addn(&s->arrays[j], "}", 1);
            if (s->arrays[j].oom) {
                snprintf(cdc_apply_err, sizeof(cdc_apply_err),
                         "out of memory");
                return CDC_APPLY_TRANSIENT;
            }
            s->params[j] = s->arrays[j].p;
            cdc_sql_add(b, j ? ", " : "");
            cdc_apply_array_param(b, &t->cols[t->pk[j]], j + 1);
        }

        cdc_sql_add(b, "))");
        np = t->npk;
        goto run;
    }

    cdc_sql_add(b, ") IN (");

    for (i = 0; i < n; i++) {
        cdc_sql_add(b, i ? "," : "");
        cdc_sql_add(b, t->npk > 1 ? "(" : "");

        for (j = 0; j < t->npk; j++) {
            cdc_sql_add(b, j ? "," : "");
            s->params[np++] = acts[i]->vals[t->pk[j]];
            cdc_sql_param(b, np);
        }

        cdc_sql_add(b, t->npk > 1 ? ")" : "");
    }

    cdc_sql_add(b, ")");

run:

    rc = cdc_apply_run(s, (int) np);
    if (rc != CDC_APPLY_OK || !acts[0]->must || cdc_apply_rows >= n) {
        return rc;
    }

    return cdc_apply_unmatched(s, acts, n, 'd', n - cdc_apply_rows);
}


/* ctid of the first row equal to vals on every column (no primary key) */
static void
cdc_apply_match(cdc_sink_t *s, cdc_sink_table_t *t, const char **vals,
    size_t nvals, size_t *np)
{
    size_t      j, first;
    cdc_sql_t  *b;

    b = &s->sql;
    cdc_sql_add(b, " WHERE ctid = (SELECT ctid FROM ");
    cdc_sql_add(b, t->qname);
    first = 1;

    for (j = 0; j < nvals; j++) {
        if (!cdc_apply_present(vals[j])) {
            continue;
        }

        cdc_sql_add(b, first ? " WHERE " : " AND ");
        first = 0;
        cdc_sql_add(b, t->cols[j].qname);
        cdc_sql_add(b, " IS NOT DISTINCT FROM ");
        s->params[(*np)++] = vals[j];
        cdc_sql_param(b, *np);
    }

    cdc_sql_add(b, " LIMIT 1)");
}


/* one change on its own (slow path, tables without a key) */
static int
cdc_apply_one(cdc_sink_t *s, cdc_sink_change_t *c)
{
    int                 rc;
    size_t              j, np, first;
    cdc_sql_t          *b;
    cdc_sink_table_t   *t;
    cdc_apply_action_t  a, *ap;

    t = c->table;
    ap = &a;
    memset(&a, 0, sizeof(a));
    a.table = t;
    a.nvals = c->nvals;

    if (t->npk) {
        if (c->op == 'd' || (c->op == 'u' && c->bkey
                             && strcmp(c->bkey, c->akey) != 0))
        {
            a.vals = c->bvals;
            a.must = 1;
            rc = cdc_apply_delete(s, &ap, 1);
            if (rc != CDC_APPLY_OK || c->op == 'd') {
                return rc;
            }
            a.must = 0;

        } else {
            a.must = c->op == 'u';
        }

        a.vals = c->avals;
        return cdc_apply_upsert(s, &ap, 1, 0);
    }

    if (cdc_apply_params(s, 2 * c->nvals + 2) != 0) {
        snprintf(cdc_apply_err, sizeof(cdc_apply_err), "out of memory");
        return CDC_APPLY_TRANSIENT;
    }

    b = &s->sql;
    b->len = 0;
    np = 0;

    if (c->op == 'c' || c->op == 'r' || (c->op == 'u' && c->bvals == NULL))
    {
        /* no key: a plain INSERT */
        a.vals = c->avals;
        return cdc_apply_upsert(s, &ap, 1, 0);
    }

    if (c->op == 'd') {
        cdc_sql_add(b, "DELETE FROM ");
        cdc_sql_add(b, t->qname);
        cdc_apply_match(s, t, c->bvals, c->nvals, &np);
        goto run;
    }

    cdc_sql_add(b, "UPDATE ");
    cdc_sql_add(b, t->qname);
    first = 1;

    for (j = 0; j < c->nvals; j++) {
        if (!cdc_apply_present(c->avals[j])) {
            continue;
        }

        cdc_sql_add(b, first ? " SET " : ", ");
        first = 0;
        cdc_sql_add(b, t->cols[j].qname);
        cdc_sql_add(b, " = ");
        s->params[np++] = c->avals[j];
        cdc_sql_param(b, np);
    }

    cdc_apply_match(s, t, c->bvals, c->nvals, &np);

run:

    rc = cdc_apply_run(s, (int) np);
    if (rc != CDC_APPLY_OK || cdc_apply_rows > 0) {
        return rc;
    }

    a.vals = c->bvals;
    return cdc_apply_unmatched(s, &ap, 1, c->op, 1);
}


/* ------------------------------------------------------------------ batch */

/*
 * Rows whose last change is an insert (or a snapshot read) are almost
 * always new: a plain INSERT costs PostgreSQL much less than ON CONFLICT.
 * Under a savepoint, so a row that is there after all (SQLSTATE 23505:
 * a re-snapshot, a pre-filled target) costs one retry as an upsert.
 */
static int
cdc_apply_group(cdc_sink_t *s, cdc_apply_action_t **acts, size_t n)
{
    int  rc;

    if (!acts[0]->ins || acts[0]->must || acts[0]->table->npk == 0) {
        return cdc_apply_upsert(s, acts, n, 0);
    }

    rc = cdc_apply_simple(s, "SAVEPOINT cdc_insert");
    if (rc != CDC_APPLY_OK) {
        return rc;
    }

    rc = cdc_apply_upsert(s, acts, n, 1);

    if (rc == CDC_APPLY_DATA && strcmp(cdc_apply_state, "23505") == 0) {
        rc = cdc_apply_simple(s, "ROLLBACK TO SAVEPOINT cdc_insert");
        if (rc != CDC_APPLY_OK) {
            return rc;
        }

        rc = cdc_apply_upsert(s, acts, n, 0);
    }

    if (rc != CDC_APPLY_OK) {
        return rc;
    }

    return cdc_apply_simple(s, "RELEASE SAVEPOINT cdc_insert");
}


static int
cdc_apply_same_cols(const cdc_apply_action_t *a, const cdc_apply_action_t *b)
{
    size_t  j;

    if (a->table != b->table || a->nvals != b->nvals || a->ins != b->ins
        || a->must != b->must)
    {
        return 0;
    }

    for (j = 0; j < a->nvals; j++) {
        if (cdc_is_absent(a->vals[j]) != cdc_is_absent(b->vals[j])) {
            return 0;
        }
    }

    return 1;
}


static int
cdc_apply_collapsed(cdc_sink_t *s, cdc_sink_batch_t *b)
{
    int                   rc;
    size_t                i, k, nacts, cap, mask, h, n, ncols, limit;
    cdc_sink_change_t    *c;
    cdc_apply_action_t   *acts, *a, **slots, **grp;

    cap = 16;

    while (cap < b->nchanges * 4) {
        cap *= 2;
    }

    mask = cap - 1;
    acts = cdc_jv_alloc(&b->arena, 2 * b->nchanges * sizeof(*acts) + 1);
    slots = cdc_jv_alloc(&b->arena, cap * sizeof(*slots));
    grp = cdc_jv_alloc(&b->arena, 2 * b->nchanges * sizeof(*grp) + 1);

    if (acts == NULL || slots == NULL || grp == NULL) {
        snprintf(cdc_apply_err, sizeof(cdc_apply_err), "out of memory");
        return CDC_APPLY_TRANSIENT;
    }

    memset(slots, 0, cap * sizeof(*slots));
    nacts = 0;

#define cdc_apply_set(tbl, k_, del_, must_, vals_, ci)                        \
    do {                                                                      \
        uint64_t  hh = cdc_apply_hash(tbl, k_);                               \
        for (h = hh & mask; slots[h]; h = (h + 1) & mask) {                   \
            if (slots[h]->hash == hh && slots[h]->table == (tbl)              \
                && strcmp(slots[h]->key, k_) == 0)                            \
            {                                                                 \
                break;                                                        \
            }                                                                 \
        }                                                                     \
        if (slots[h] == NULL) {                                               \
            a = &acts[nacts++];                                               \
            a->table = (tbl);                                                 \
            a->key = (k_);                                                    \
            a->hash = hh;                                                     \
            a->must = (must_);                                                \
            slots[h] = a;                                                     \
        }                                                                     \
        a = slots[h];                                                         \
        a->del = (del_);                                                      \
        a->vals = (vals_);                                                    \
        a->nvals = c->nvals;                                                  \
        a->change = (ci);                                                     \
        a->done = 0;                                                          \
        a->ins = !(del_) && (c->op == 'c' || c->op == 'r');                   \
    } while (0)

    for (i = 0; i < b->nchanges; i++) {
        c = &b->changes[i];

        if (c->table == NULL || c->error || c->table->npk == 0 || c->skip
            || c->op == 't')
        {
            continue;
        }

        if (c->op == 'd') {
            cdc_apply_set(c->table, c->bkey, 1, 1, c->bvals, i);
            continue;
        }

        if (c->op == 'u' && c->bkey && strcmp(c->bkey, c->akey) != 0) {
            cdc_apply_set(c->table, c->bkey, 1, 1, c->bvals, i);
            cdc_apply_set(c->table, c->akey, 0, 0, c->avals, i);
            continue;
        }

        cdc_apply_set(c->table, c->akey, 0, c->op == 'u', c->avals, i);
    }

#undef cdc_apply_set

    /* deletes, per table */
    for (i = 0; i < nacts; i++) {
        if (!acts[i].del || acts[i].done) {
            continue;
        }

        n = 0;

        for (k = i; k < nacts; k++) {
            if (acts[k].del && !acts[k].done
                && acts[k].table == acts[i].table
                && acts[k].must == acts[i].must)
            {
                acts[k].done = 1;
                grp[n++] = &acts[k];

                if (n == CDC_APPLY_MAX_ROWS) {
                    rc = cdc_apply_delete(s, grp, n);
                    if (rc != CDC_APPLY_OK) {
                        return rc;
                    }
                    n = 0;
                }
            }
        }

        if (n) {
            rc = cdc_apply_delete(s, grp, n);
            if (rc != CDC_APPLY_OK) {
                return rc;
            }
        }
    }

    /* upserts, per table and column set */
    for (i = 0; i < nacts; i++) {
        if (acts[i].del || acts[i].done) {
            continue;
        }

        ncols = 0;

        for (k = 0; k < acts[i].nvals; k++) {
            ncols += !cdc_is_absent(acts[i].vals[k]);
        }

        limit = CDC_APPLY_MAX_PARAMS / (ncols ? ncols : 1);
        if (limit > CDC_APPLY_MAX_ROWS) {
            limit = CDC_APPLY_MAX_ROWS;
        }

        n = 0;

        for (k = i; k < nacts; k++) {
            if (!acts[k].del && !acts[k].done
                && cdc_apply_same_cols(&acts[i], &acts[k]))
            {
                acts[k].done = 1;
                grp[n++] = &acts[k];

                if (n == limit) {
                    rc = cdc_apply_group(s, grp, n);
                    if (rc != CDC_APPLY_OK) {
                        return rc;
                    }
                    n = 0;
                }
            }
        }

        if (n) {
            rc = cdc_apply_group(s, grp, n);
            if (rc != CDC_APPLY_OK) {
                return rc;
            }
        }
    }

    /* tables without a key: in order, one by one */
    for (i = 0; i < b->nchanges; i++) {
        c = &b->changes[i];

        if (c->table && !c->error && c->table->npk == 0 && !c->skip
            && c->op != 't')
        {
            rc = cdc_apply_one(s, c);
            if (rc != CDC_APPLY_OK) {
                return rc;
            }
        }
    }

    return CDC_APPLY_OK;
}


static int
cdc_apply_dead(cdc_sink_t *s, cdc_sink_change_t *c, const char *state,
    const char *error, char *err, size_t errlen)
{
    if (cdc_deadletter_send(s, c, state, error, err, errlen) != 0) {
        return -1;
    }

    pthread_mutex_lock(&s->lock);
    s->dead++;
    if (c->table) {
        c->table->dead++;
    }
    pthread_mutex_unlock(&s->lock);

    cdc_series_add(s->m_dead, 1);
    if (c->table) {
        cdc_series_add(c->table->m_dead, 1);
    }

    cdc_log_warn("service %s: dead letter: %s[%d]@%lld (%s): SQLSTATE %s: "
                 "%s", s->svc->name, rd_kafka_topic_name(c->msg->rkt),
                 (int) c->msg->partition, (long long) c->msg->offset,
                 c->table ? c->table->src : "?", state, error);

    return 0;
}


/*
 * Slow path: the batch's truncate events, each under a savepoint; one
 * PostgreSQL refuses (a foreign key into the table, …) is dead-lettered,
 * and the table's later truncate events are tried in its place.
 */
static int
cdc_apply_truncates(cdc_sink_t *s, cdc_sink_batch_t *b, char *err,
    size_t errlen)
{
    int                 rc;
    cdc_sink_change_t  *bad;

    for ( ;; ) {
        rc = cdc_apply_simple(s, "SAVEPOINT cdc_truncate");
        if (rc != CDC_APPLY_OK) {
            return CDC_APPLY_TRANSIENT;
        }

        rc = cdc_ddl_apply(s, b, &bad, cdc_apply_state,
                           sizeof(cdc_apply_state), cdc_apply_err,
                           sizeof(cdc_apply_err));

        if (rc == CDC_APPLY_OK) {
            rc = cdc_apply_simple(s, "RELEASE SAVEPOINT cdc_truncate");
            return rc == CDC_APPLY_OK ? rc : CDC_APPLY_TRANSIENT;
        }

        if (rc == CDC_APPLY_TRANSIENT
            || cdc_apply_simple(s, "ROLLBACK TO SAVEPOINT cdc_truncate")
               != CDC_APPLY_OK
            || cdc_apply_dead(s, bad, cdc_apply_state, cdc_apply_err, err,
                              errlen) != 0)
        {
            return CDC_APPLY_TRANSIENT;
        }

        bad->skip = 1;
    }
}


/*
 * Slow path, a change PostgreSQL rejected (its savepoint still open).  A
 * value too big for its column may mean the source widened the column:
 * then the target is widened and CDC_APPLY_OK says "apply it again" (once
 * per change).  Else the change is dead-lettered: CDC_APPLY_DATA.
 */
static int
cdc_apply_rejected(cdc_sink_t *s, cdc_sink_change_t *c, int retried,
    char *err, size_t errlen)
{
    int          w;
    char         hint[CDC_SINK_ERRLEN], why[2 * CDC_SINK_ERRLEN];
    const char  *st;

    st = cdc_apply_state;

    if (cdc_apply_simple(s, "ROLLBACK TO SAVEPOINT cdc_change")
        != CDC_APPLY_OK)
    {
        return CDC_APPLY_TRANSIENT;
    }

    hint[0] = '\0';
    w = 0;

    if (!retried && (strcmp(st, "22003") == 0 || strcmp(st, "22001") == 0
                     || strcmp(st, "22P02") == 0))
    {
        w = cdc_catalog_widen(s, c->table, hint, sizeof(hint));
        if (w < 0) {
            snprintf(cdc_apply_err, sizeof(cdc_apply_err), "widening a "
                     "column of %s failed", c->table->qname);
            return CDC_APPLY_TRANSIENT;
        }
        if (w > 0) {
            return CDC_APPLY_OK;
        }
    }

    if (strcmp(st, "02000") == 0) {
        cdc_series_add(c->op == 'd' ? c->table->m_unmatched_d
                                    : c->table->m_unmatched_u, 1);

        /* the same change applied before: its row was deleted since */
        if (c->replayed) {
            cdc_series_add(c->table->m_replayed, 1);
            cdc_log_info("service %s: %s[%d]@%lld: produced again by a "
                         "run restart: %s (already applied; not "
                         "dead-lettered)", s->svc->name,
                         rd_kafka_topic_name(c->msg->rkt),
                         (int) c->msg->partition,
                         (long long) c->msg->offset, cdc_apply_err);
            return CDC_APPLY_DATA;
        }
    }

    snprintf(why, sizeof(why), "%s%s%s", cdc_apply_err, hint[0] ? "; " : "",
             hint);

    if (cdc_apply_dead(s, c, st, why, err, errlen) != 0) {
        return CDC_APPLY_TRANSIENT;
    }

    return CDC_APPLY_DATA;
}


static int
cdc_apply_slow(cdc_sink_t *s, cdc_sink_batch_t *b, char *err,
    size_t errlen)
{
    int                 rc;
    size_t              i, retried;
    cdc_sink_change_t  *c;

    retried = (size_t) -1;

    rc = cdc_apply_simple(s, "BEGIN");
    if (rc != CDC_APPLY_OK) {
        return CDC_APPLY_TRANSIENT;
    }

    rc = cdc_apply_truncates(s, b, err, errlen);
    if (rc != CDC_APPLY_OK) {
        return rc;
    }

    for (i = 0; i < b->nchanges; i++) {
        c = &b->changes[i];

        if (c->error) {
            if (cdc_apply_dead(s, c, c->sqlstate, c->error, err, errlen)
                != 0)
            {
                return CDC_APPLY_TRANSIENT;
            }
            continue;
        }

        if (c->table == NULL || c->skip || c->op == 't') {
            continue;
        }

        rc = cdc_apply_simple(s, "SAVEPOINT cdc_change");
        if (rc != CDC_APPLY_OK) {
            return CDC_APPLY_TRANSIENT;
        }

        rc = cdc_apply_one(s, c);

        if (rc == CDC_APPLY_TRANSIENT) {
            return rc;
        }

        if (rc == CDC_APPLY_DATA) {
            rc = cdc_apply_rejected(s, c, i == retried, err, errlen);
            if (rc == CDC_APPLY_TRANSIENT) {
                return rc;
            }

            if (rc == CDC_APPLY_OK) {
                retried = i--;              /* a column was widened */
            }

            continue;
        }

        rc = cdc_apply_simple(s, "RELEASE SAVEPOINT cdc_change");
        if (rc != CDC_APPLY_OK) {
            return CDC_APPLY_TRANSIENT;
        }
    }

    return CDC_APPLY_OK;
}


static int
cdc_apply_finish(cdc_sink_t *s, cdc_sink_batch_t *b, char *err,
    size_t errlen)
{
    int     rc;
    size_t  i;

    if (cdc_offsets_store(s, b, err, errlen) != 0) {
        return CDC_APPLY_TRANSIENT;
    }

    /* dead letters are in Kafka before the offsets past them commit */
    if (cdc_deadletter_flush(s, err, errlen) != 0) {
        return CDC_APPLY_TRANSIENT;
    }

    rc = cdc_apply_simple(s, "COMMIT");
    if (rc != CDC_APPLY_OK) {
        cdc_error(err, errlen, "commit: SQLSTATE %s: %s", cdc_apply_state,
                  cdc_apply_err);
        return CDC_APPLY_TRANSIENT;
    }

    for (i = 0; i < b->nchanges; i++) {
        if (b->changes[i].skip && b->changes[i].op != 't') {
            cdc_series_add(b->changes[i].table->m_skipped, 1);
        }
    }

    return CDC_APPLY_OK;
}


/*
 * Applies b->changes[0..nchanges) and their offsets in one transaction.
 * Returns 0, or 1 when the batch must be retried after a reconnect (err
 * says why); the caller keeps the messages.
 */
int
cdc_apply_batch(cdc_sink_t *s, cdc_sink_batch_t *b, char *err,
    size_t errlen)
{
    int                 rc, dead;
    size_t              i;
    cdc_sink_change_t  *c;

    dead = 0;
    err[0] = '\0';

    /* every change was prepared by the main thread */
    for (i = 0; i < b->nchanges; i++) {
        c = &b->changes[i];
        dead |= c->error != NULL;
    }

    if (!dead) {
        rc = cdc_apply_simple(s, "BEGIN");

        if (rc == CDC_APPLY_OK) {
            rc = cdc_ddl_apply(s, b, &c, cdc_apply_state,
                               sizeof(cdc_apply_state), cdc_apply_err,
                               sizeof(cdc_apply_err));
        }

        if (rc == CDC_APPLY_OK) {
            rc = cdc_apply_collapsed(s, b);
        }

        if (rc == CDC_APPLY_OK) {
            rc = cdc_apply_finish(s, b, err, errlen);
            if (rc == CDC_APPLY_OK) {
                return 0;
            }
            return 1;
        }

        if (rc == CDC_APPLY_TRANSIENT) {
            cdc_error(err, errlen, "SQLSTATE %s: %s", cdc_apply_state,
                      cdc_apply_err);
            return 1;
        }

        cdc_log_info("service %s: batch of %zu rejected (SQLSTATE %s: %s); "
                     "applying it change by change", s->svc->name,
                     b->nchanges, cdc_apply_state, cdc_apply_err);

        if (cdc_apply_simple(s, "ROLLBACK") != CDC_APPLY_OK) {
            cdc_error(err, errlen, "rollback: SQLSTATE %s: %s",
                      cdc_apply_state, cdc_apply_err);
            return 1;
        }
    }

    rc = cdc_apply_slow(s, b, err, errlen);

    if (rc == CDC_APPLY_OK) {
        rc = cdc_apply_finish(s, b, err, errlen);
    }

    if (rc != CDC_APPLY_OK) {
        if (err[0] == '\0') {
            cdc_error(err, errlen, "SQLSTATE %s: %s", cdc_apply_state,
                      cdc_apply_err);
        }
        return 1;
    }

    return 0;
}
