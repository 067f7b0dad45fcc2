/*
 * cdc-bridge sink: the PostgreSQL connection.  As pg_basebackup's
 * streamutil.c does: PQconnectdbParams with the conninfo expanded, an
 * empty search_path so every name is schema-qualified, decisions on
 * SQLSTATE (never on message text), out-of-line parameters.
 */

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "sink/sink.h"


/* libpq's messages end in (and may hold) newlines: one log line */
static void
cdc_pg_one_line(char *s)
{
    for ( /* void */ ; *s; s++) {
        if (*s == '\n' || *s == '\t') {
            *s = ' ';
        }
    }
}


static void
cdc_pg_notice(void *arg, const char *message)
{
    cdc_log_debug("postgres: %.*s", (int) strcspn(message, "\n"), message);
}


PGconn *
cdc_pg_connect(const cdc_service_conf_t *svc, const char *app, char *err,
    size_t errlen)
{
    int          i;
    PGconn      *pg;
    const char  *keys[5], *vals[5];

    i = 0;
    keys[i] = "dbname";
    vals[i++] = svc->postgres ? svc->postgres : "";
    keys[i] = "application_name";
    vals[i++] = app;
    keys[i] = "connect_timeout";
    vals[i++] = "10";

    if (svc->password && svc->password[0]) {
        keys[i] = "password";
        vals[i++] = svc->password;
    }

    keys[i] = NULL;
    vals[i] = NULL;

    pg = PQconnectdbParams(keys, vals, 1);

    if (pg == NULL) {
        cdc_error(err, errlen, "service %s: out of memory", svc->name);
        return NULL;
    }

    if (PQstatus(pg) != CONNECTION_OK) {
        cdc_error(err, errlen, "service %s: postgres \"%s\": %s", svc->name,
                  svc->postgres, PQerrorMessage(pg));
        cdc_pg_one_line(err);
        PQfinish(pg);
        return NULL;
    }

    PQsetNoticeProcessor(pg, cdc_pg_notice, NULL);

    /* names are always schema-qualified; nothing resolves through a
       schema someone else can create objects in */
    if (cdc_pg_exec(pg, "SELECT pg_catalog.set_config('search_path', '', "
                    "false), pg_catalog.set_config('TimeZone', 'UTC', "
                    "false), pg_catalog.set_config('DateStyle', 'ISO, YMD',"
                    " false), pg_catalog.set_config('IntervalStyle', "
                    "'postgres', false), pg_catalog.set_config("
                    "'extra_float_digits', '3', false)", err, errlen) != 0)
    {
        PQfinish(pg);
        return NULL;
    }

    return pg;
}


PGresult *
cdc_pg_query(PGconn *pg, const char *sql, int n, const char *const *vals,
    char *err, size_t errlen)
{
    PGresult        *r;
    ExecStatusType   st;

    r = PQexecParams(pg, sql, n, NULL, vals, NULL, NULL, 0);

    if (r == NULL) {
        cdc_error(err, errlen, "postgres: %s", PQerrorMessage(pg));
        return NULL;
    }

    st = PQresultStatus(r);

    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        cdc_error(err, errlen, "postgres: SQLSTATE %s: %s",
                  cdc_pg_sqlstate(r), PQresultErrorMessage(r));
        return r;
    }

    return r;
}


int
cdc_pg_exec(PGconn *pg, const char *sql, char *err, size_t errlen)
{
    int              rc;
    PGresult        *r;
    ExecStatusType   st;

    /* the simple protocol: sql may hold several statements */
    r = PQexec(pg, sql);
    if (r == NULL) {
        return cdc_error(err, errlen, "postgres: %s", PQerrorMessage(pg));
    }

    st = PQresultStatus(r);
    rc = (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) ? 0 : -1;

    if (rc != 0) {
        cdc_error(err, errlen, "postgres: SQLSTATE %s: %s",
                  cdc_pg_sqlstate(r), PQresultErrorMessage(r));
    }
    PQclear(r);

    return rc;
}


const char *
cdc_pg_sqlstate(const PGresult *r)
{
    const char  *s;

    s = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;

    return s ? s : "08006";
}


/*
 * Transient: the connection broke, the server is shutting down or ran out
 * of something, or the transaction lost a race (serialization, deadlock).
 * The batch is retried whole.  Anything else is about the data: the change
 * is dead-lettered.
 */
int
cdc_pg_transient(PGconn *pg, const char *st)
{
    if (pg == NULL || PQstatus(pg) != CONNECTION_OK) {
        return 1;
    }

    if (strncmp(st, "08", 2) == 0     /* connection exception */
        || strncmp(st, "40", 2) == 0  /* serialization, deadlock */
        || strncmp(st, "53", 2) == 0  /* insufficient resources */
        || strncmp(st, "57", 2) == 0  /* operator intervention */
        || strncmp(st, "58", 2) == 0  /* system error */
        || strcmp(st, "55P03") == 0   /* lock not available */
        || strcmp(st, "XX000") == 0)
    {
        return 1;
    }

    return 0;
}


char *
cdc_pg_quote_ident(const char *s)
{
    char        *out, *o;
    size_t       n;
    const char  *p;

    n = 3;

    for (p = s; *p; p++) {
        n += *p == '"' ? 2 : 1;
    }

    out = malloc(n);
    if (out == NULL) {
        return NULL;
    }

    o = out;
    *o++ = '"';

    for (p = s; *p; p++) {
        if (*p == '"') {
            *o++ = '"';
        }
        *o++ = *p;
    }

    *o++ = '"';
    *o = '\0';

    return out;
}


/* Reconnects with backoff (0.2 s .. 5 s) until it works or stop. */
int
cdc_pg_reconnect(cdc_sink_t *s, char *err, size_t errlen)
{
    int              delay_ms;
    char             app[128];
    struct timespec  ts;

    snprintf(app, sizeof(app), "cdc-bridge sink %s", s->svc->name);
    delay_ms = 200;

    for ( ;; ) {
        if (s->pg) {
            PQfinish(s->pg);
            s->pg = NULL;
        }

        if (*s->stop) {
            return cdc_error(err, errlen, "stopped");
        }

        s->pg = cdc_pg_connect(s->svc, app, err, errlen);

        if (s->pg) {
            cdc_series_add(s->m_reconnects, 1);
            cdc_log_info("service %s: connected to postgres",
                         s->svc->name);
            return 0;
        }

        cdc_log_warn("%s; retrying in %d ms", err, delay_ms);

        ts.tv_sec = delay_ms / 1000;
        ts.tv_nsec = (long) (delay_ms % 1000) * 1000000;
        nanosleep(&ts, NULL);

        if (delay_ms < 5000) {
            delay_ms *= 2;
        }
    }
}


void
cdc_sql_addn(cdc_sql_t *b, const char *s, size_t n)
{
    char    *np;
    size_t   cap;

    if (b->len + n + 1 > b->cap) {
        cap = b->cap ? b->cap : 1024;
        while (cap < b->len + n + 1) {
            cap *= 2;
        }
        np = realloc(b->p, cap);
        if (np == NULL) {
            b->oom = 1;
            return;
        }
        b->p = np;
        b->cap = cap;
    }

    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}


void
cdc_sql_add(cdc_sql_t *b, const char *s)
{
    cdc_sql_addn(b, s, strlen(s));
}


/* "$n" */
void
cdc_sql_param(cdc_sql_t *b, size_t n)
{
    char  buf[24], *p;

    p = buf + sizeof(buf);

    do {
        *--p = (char) ('0' + n % 10);
        n /= 10;
    } while (n);

    *--p = '$';
    cdc_sql_addn(b, p, (size_t) (buf + sizeof(buf) - p));
}


/*
 * CREATE SCHEMA IF NOT EXISTS checks the database's CREATE privilege even
 * when the schema exists; a role that only owns its schemas (created for
 * it by an administrator) must not need it, so look first.
 */
int
cdc_pg_ensure_schema(PGconn *pg, const char *schema, char *err,
    size_t errlen)
{
    int          rc, n;
    char        *q, *sql;
    PGresult    *r;
    const char  *vals[1];

    vals[0] = schema;
    r = cdc_pg_query(pg, "SELECT 1 FROM pg_catalog.pg_namespace"
                     " WHERE nspname = $1", 1, vals, err, errlen);

    if (r == NULL || PQresultStatus(r) != PGRES_TUPLES_OK) {
        PQclear(r);
        return -1;
    }

    n = PQntuples(r);
    PQclear(r);

    if (n > 0) {
        return 0;
    }

    q = cdc_pg_quote_ident(schema);
    if (q == NULL || asprintf(&sql, "CREATE SCHEMA IF NOT EXISTS %s", q) < 0)
    {
        free(q);
        return cdc_error(err, errlen, "out of memory");
    }

    rc = cdc_pg_exec(pg, sql, err, errlen);
    free(sql);
    free(q);

    return rc;
}
