/*
 * cdc-bridge verify --service NAME: compares every mapped table, source
 * (MySQL) against target (PostgreSQL), without locks.
 *
 * Each table is read in primary-key chunks (keyset pagination, --chunk
 * rows, default 10000) from the source; the target rows in the same key
 * range are read too, and both sides are brought to canonical text per
 * column (the type map's forms: zero dates as NULL, TIME and interval as
 * microseconds, FLOAT as the exact 32-bit value (9 digits; the source
 * read as DOUBLE), DOUBLE as 17, inet without a full-length mask, binary as
 * lowercase hex, JSON as jsonb prints it, timestamps in UTC with trailing
 * zeros of the fraction removed) and merged by key.  Rows missing on
 * one side or different are reported as key ranges.  Counts and a
 * checksum (FNV-1a 64 over the canonical rows in key order) are printed
 * per table.  Exit status: 0 all equal, 1 some differ, 2 error.
 *
 * Both sides must order keys alike: sink/verify.h has the order per key
 * type, verify_key.c the expressions that give it.
 */

#include <arpa/inet.h>
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mysql.h>

#include "commands.h"
#include "log.h"
#include "sink/sink.h"
#include "sink/verify.h"


#define CDC_VERIFY_EQUAL     0
#define CDC_VERIFY_DIFFER    1
#define CDC_VERIFY_ERROR     2

#define CDC_VERIFY_MAX_RANGES  20


typedef struct {
    char  **v;                      /* canonical values, NULL = SQL NULL */
} cdc_verify_row_t;


typedef struct {
    cdc_sink_t         *s;
    cdc_sink_table_t   *t;
    cdc_verify_col_t   *cols;
    size_t              ncols;
    size_t             *pk;         /* indexes into cols, key order */
    size_t              npk;
    long                chunk;

    uint64_t            src_rows, dst_rows;
    uint64_t            src_sum, dst_sum;
    uint64_t            missing, extra, differ;

    /* the open range of mismatching rows */
    char               *range_first;
    char               *range_last;
    size_t              range_rows;
    int                 ranges;
} cdc_verify_t;


static void
cdc_verify_strip_fraction(char *v)
{
    char    *dot;
    size_t   n;

    dot = strchr(v, '.');
    if (dot == NULL) {
        return;
    }

    n = strlen(v);

    while (n > 0 && v[n - 1] == '0') {
        v[--n] = '\0';
    }

    if (n > 0 && v[n - 1] == '.') {
        v[n - 1] = '\0';
    }
}


/* "[-][D day(s) ]H+:MM:SS[.f]" to microseconds */
static int
cdc_verify_usec(const char *v, long long *out)
{
    int         neg, digits;
    char       *end;
    long long   days, h, m, sec, frac;

    neg = 0;
    days = 0;

    if (strstr(v, "day")) {
        days = strtoll(v, &end, 10);
        v = strchr(end, ' ');
        v = v ? strchr(v + 1, ' ') : NULL;
        if (v == NULL) {
            *out = days * 86400000000LL;
            return 0;
        }
        v++;
    }

    if (*v == '-') {
        neg = 1;
        v++;
    } else if (*v == '+') {
        v++;
    }

    h = strtoll(v, &end, 10);
    if (*end != ':') {
        return -1;
    }
    m = strtoll(end + 1, &end, 10);
    if (*end != ':') {
        return -1;
    }
    sec = strtoll(end + 1, &end, 10);
    frac = 0;

    if (*end == '.') {
        end++;
        for (digits = 0; digits < 6; digits++) {
            frac = frac * 10 + (*end >= '0' && *end <= '9' ? *end++ - '0'
                                                           : 0);
        }
    }

    *out = ((h * 3600 + m * 60 + sec) * 1000000 + frac) * (neg ? -1 : 1)
           + days * 86400000000LL;

    return 0;
}


/* an address as inet_ntop writes it; a full-length mask ("/128") dropped */
static char *
cdc_verify_canon_inet(const char *v)
{
    char           a[INET6_ADDRSTRLEN + 8], out[INET6_ADDRSTRLEN + 8];
    char          *slash;
    unsigned char  bin[16];
    int            af;

    snprintf(a, sizeof(a), "%s", v);
    af = strchr(a, ':') ? AF_INET6 : AF_INET;
    slash = strchr(a, '/');

    if (slash) {
        if (strtol(slash + 1, NULL, 10) != (af == AF_INET6 ? 128 : 32)) {
            return strdup(v);
        }
        *slash = '\0';
    }

    if (inet_pton(af, a, bin) != 1
        || inet_ntop(af, bin, out, sizeof(out)) == NULL)
    {
        return strdup(v);
    }

    return strdup(out);
}


/* the canonical text of one value (malloc()ed; NULL for SQL NULL) */
static char *
cdc_verify_canon(const cdc_verify_col_t *c, const char *v, int source)
{
    char         buf[64], *out;
    double       d;
    long long    us;
    size_t       i;
    const char  *p;

    if (v == NULL) {
        return NULL;
    }

    switch (c->kind) {

    case CDC_PG_DATE:
    case CDC_PG_TIMESTAMP:
    case CDC_PG_TIMESTAMPTZ:
        if (cdc_typemap_zero_date(v, strlen(v))) {
            return NULL;
        }
        out = strdup(v);
        if (out && c->kind != CDC_PG_DATE) {
            cdc_verify_strip_fraction(out);
        }
        return out;

    case CDC_PG_INTERVAL:
        if (cdc_verify_usec(v, &us) != 0) {
            return strdup(v);
        }
        snprintf(buf, sizeof(buf), "%lld", us);
        return strdup(buf);

    case CDC_PG_FLOAT4:
        /* the stored 32-bit float exactly: 9 digits tell any two apart
           (the source reads FLOAT as DOUBLE: its text has 6 digits) */
        d = strtod(v, NULL);
        snprintf(buf, sizeof(buf), "%.9g", (double) (float) d);
        return strdup(buf);

    case CDC_PG_INET:
        return cdc_verify_canon_inet(v);

    case CDC_PG_UUID:
        out = strdup(v);
        for (i = 0; out && out[i]; i++) {
            out[i] = (char) tolower((unsigned char) out[i]);
        }
        return out;

    case CDC_PG_FLOAT8:
        d = strtod(v, NULL);
        snprintf(buf, sizeof(buf), "%.17g", d);
        return strdup(buf);

    case CDC_PG_BOOL:
        if (strcmp(v, "t") == 0 || strcmp(v, "true") == 0) {
            return strdup("1");
        }
        if (strcmp(v, "f") == 0 || strcmp(v, "false") == 0) {
            return strdup("0");
        }
        return strdup(v);

    case CDC_PG_JSON:
        /* brought to jsonb's form by cdc_verify_json_normalize() */
        return strdup(v);

    case CDC_PG_NUMBER:
        /* YEAR comes as "0000" from MySQL */
        for (p = v; *p == '0' && p[1] >= '0' && p[1] <= '9'; p++) {
            /* void */
        }
        return strdup(p);

    default:
        break;
    }

    (void) source;

    return strdup(v);
}


static void
cdc_verify_free_rows(cdc_verify_row_t *rows, size_t n, size_t ncols)
{
    size_t  i, k;

    for (i = 0; i < n; i++) {
        for (k = 0; k < ncols; k++) {
            free(rows[i].v[k]);
        }
        free(rows[i].v);
    }

    free(rows);
}


static int
cdc_verify_key_cmp(cdc_verify_t *vf, const cdc_verify_row_t *a,
    const cdc_verify_row_t *b)
{
    int     r;
    size_t  i;

    for (i = 0; i < vf->npk; i++) {
        r = cdc_verify_key_value_cmp(vf->cols[vf->pk[i]].key,
                                     a->v[vf->pk[i]], b->v[vf->pk[i]]);
        if (r) {
            return r;
        }
    }

    return 0;
}


static int
cdc_verify_row_eq(cdc_verify_t *vf, const cdc_verify_row_t *a,
    const cdc_verify_row_t *b)
{
    size_t  k;

    for (k = 0; k < vf->ncols; k++) {
        if (a->v[k] == NULL || b->v[k] == NULL) {
            if (a->v[k] != b->v[k]) {
                return 0;
            }
            continue;
        }
        if (strcmp(a->v[k], b->v[k]) != 0) {
            return 0;
        }
    }

    return 1;
}


static uint64_t
cdc_verify_hash(uint64_t h, const cdc_verify_row_t *r, size_t ncols)
{
    size_t       k;
    const char  *p;

    for (k = 0; k < ncols; k++) {
        p = r->v[k] ? r->v[k] : "\\N";
        for ( /* void */ ; *p; p++) {
            h ^= (unsigned char) *p;
            h *= 1099511628211ULL;
        }
        h ^= 0x1f;
        h *= 1099511628211ULL;
    }

    h ^= 0x1e;
    h *= 1099511628211ULL;

    return h;
}


static char *
cdc_verify_key_text(cdc_verify_t *vf, const cdc_verify_row_t *r)
{
    char    *out;
    size_t   i, len, n;

    len = 3;

    for (i = 0; i < vf->npk; i++) {
        len += strlen(vf->cols[vf->pk[i]].src) + 2
               + (r->v[vf->pk[i]] ? strlen(r->v[vf->pk[i]]) : 4);
    }

    out = malloc(len);
    if (out == NULL) {
        return NULL;
    }

    n = 0;
    out[0] = '\0';

    for (i = 0; i < vf->npk; i++) {
        n += (size_t) snprintf(out + n, len - n, "%s%s=%s", i ? "," : "",
                               vf->cols[vf->pk[i]].src,
                               r->v[vf->pk[i]] ? r->v[vf->pk[i]] : "NULL");
    }

    return out;
}


static void
cdc_verify_range_close(cdc_verify_t *vf)
{
    if (vf->range_first == NULL) {
        return;
    }

    if (vf->ranges < CDC_VERIFY_MAX_RANGES) {
        printf("  differ: key range [%s .. %s] (%zu row%s)\n",
               vf->range_first, vf->range_last, vf->range_rows,
               vf->range_rows == 1 ? "" : "s");
    } else if (vf->ranges == CDC_VERIFY_MAX_RANGES) {
        printf("  (more ranges differ)\n");
    }

    vf->ranges++;
    free(vf->range_first);
    free(vf->range_last);
    vf->range_first = NULL;
    vf->range_last = NULL;
    vf->range_rows = 0;
}


static void
cdc_verify_mismatch(cdc_verify_t *vf, const cdc_verify_row_t *r)
{
    char  *k;

    k = cdc_verify_key_text(vf, r);
    if (k == NULL) {
        return;
    }

    if (vf->range_first == NULL) {
        vf->range_first = k;
        vf->range_last = strdup(k);
    } else {
        free(vf->range_last);
        vf->range_last = k;
    }

    vf->range_rows++;
}


/* JSON columns of source rows in jsonb's form, as the target holds them */
static int
cdc_verify_src_json(cdc_verify_t *vf, cdc_verify_row_t *rows, size_t n,
    char *err, size_t errlen)
{
    int      rc;
    char   **vals;
    size_t   i, k;

    vals = calloc(n + 1, sizeof(char *));
    if (vals == NULL) {
        cdc_verify_free_rows(rows, n, vf->ncols);
        return cdc_error(err, errlen, "out of memory");
    }

    rc = 0;

    for (k = 0; rc == 0 && k < vf->ncols; k++) {
        if (vf->cols[k].kind != CDC_PG_JSON) {
            continue;
        }
        for (i = 0; i < n; i++) {
            vals[i] = rows[i].v[k];
        }
        rc = cdc_verify_json_normalize(vf->s->pg, vals, n, err, errlen);
        for (i = 0; i < n; i++) {
            rows[i].v[k] = vals[i];
        }
    }

    free(vals);

    if (rc != 0) {
        cdc_verify_free_rows(rows, n, vf->ncols);
    }

    return rc;
}


/* MySQL: SELECT … for one chunk after the key in last (NULL: first) */
static int
cdc_verify_src_chunk(cdc_verify_t *vf, const cdc_verify_row_t *last,
    cdc_verify_row_t **rowsp, size_t *nrowsp, char *err, size_t errlen)
{
    int                 bits;
    char                num[32];
    size_t              i, k, n;
    MYSQL              *my;
    MYSQL_ROW           row;
    MYSQL_RES          *res;
    cdc_sql_t           q;
    cdc_verify_col_t   *c;
    cdc_verify_row_t   *rows;
    unsigned long      *lens;

    my = cdc_source_db_conn(vf->s, err, errlen);
    if (my == NULL) {
        return -1;
    }

    memset(&q, 0, sizeof(q));
    cdc_sql_add(&q, "SELECT ");

#define cdc_verify_ident(name)                                                \
    do {                                                                      \
        const char *p_;                                                       \
        cdc_sql_add(&q, "`");                                                 \
        for (p_ = (name); *p_; p_++) {                                        \
            cdc_sql_addn(&q, p_, 1);                                          \
            if (*p_ == '`') {                                                 \
                cdc_sql_addn(&q, "`", 1);                                     \
            }                                                                 \
        }                                                                     \
        cdc_sql_add(&q, "`");                                                 \
    } while (0)

    for (k = 0; k < vf->ncols; k++) {
        c = &vf->cols[k];
        cdc_sql_add(&q, k ? ", " : "");

        if (strcmp(c->mysql_type, "bit") == 0) {
            bits = c->bits > 0 ? c->bits : 1;
            snprintf(num, sizeof(num), "%d", bits);
            cdc_sql_add(&q, "LPAD(BIN(");
            cdc_verify_ident(c->src);
            cdc_sql_add(&q, "), ");
            cdc_sql_add(&q, num);
            cdc_sql_add(&q, ", '0')");

        } else if (c->kind == CDC_PG_BYTEA
                   && (strstr(c->mysql_type, "blob")
                       || strstr(c->mysql_type, "binary")))
        {
            cdc_sql_add(&q, "LOWER(HEX(");
            cdc_verify_ident(c->src);
            cdc_sql_add(&q, "))");

        } else if (c->kind == CDC_PG_BYTEA) {
            cdc_sql_add(&q, "LOWER(HEX(ST_AsWKB(");
            cdc_verify_ident(c->src);
            cdc_sql_add(&q, ")))");

        } else if (strcmp(c->mysql_type, "float") == 0) {
            /* the text protocol shows FLOAT with 6 digits */
            cdc_sql_add(&q, "CAST(");
            cdc_verify_ident(c->src);
            cdc_sql_add(&q, " AS DOUBLE)");

        } else {
            cdc_verify_ident(c->src);
        }
    }

    cdc_sql_add(&q, " FROM ");
    cdc_verify_ident(vf->t->map->src_db);
    cdc_sql_add(&q, ".");
    cdc_verify_ident(vf->t->map->src_table);

    if (last) {
        cdc_sql_add(&q, " WHERE (");

        for (i = 0; i < vf->npk; i++) {
            cdc_sql_add(&q, i ? ", " : "");
            cdc_verify_src_key_expr(&q, &vf->cols[vf->pk[i]]);
        }

        cdc_sql_add(&q, ") > (");

        for (i = 0; i < vf->npk; i++) {
            cdc_sql_add(&q, i ? ", " : "");
            if (cdc_verify_src_key_value(&q, my, &vf->cols[vf->pk[i]],
                                         last->v[vf->pk[i]]) != 0)
            {
                free(q.p);
                return cdc_error(err, errlen, "key column %s: cannot bound "
                                 "a chunk by \"%s\"",
                                 vf->cols[vf->pk[i]].src,
                                 last->v[vf->pk[i]] ? last->v[vf->pk[i]]
                                                    : "NULL");
            }
        }

        cdc_sql_add(&q, ")");
    }

    cdc_sql_add(&q, " ORDER BY ");

    for (i = 0; i < vf->npk; i++) {
        cdc_sql_add(&q, i ? ", " : "");
        cdc_verify_src_key_expr(&q, &vf->cols[vf->pk[i]]);
    }

#undef cdc_verify_ident

    snprintf(num, sizeof(num), " LIMIT %ld", vf->chunk);
    cdc_sql_add(&q, num);

    if (q.oom) {
        free(q.p);
        return cdc_error(err, errlen, "out of memory");
    }

    if (mysql_query(my, q.p) != 0) {
        cdc_error(err, errlen, "source %s: %s", vf->t->src, mysql_error(my));
        free(q.p);
        return -1;
    }

    free(q.p);

    res = mysql_store_result(my);
    if (res == NULL) {
        return cdc_error(err, errlen, "source %s: %s", vf->t->src,
                         mysql_error(my));
    }

    n = (size_t) mysql_num_rows(res);
    rows = calloc(n + 1, sizeof(cdc_verify_row_t));

    if (rows == NULL) {
        mysql_free_result(res);
        return cdc_error(err, errlen, "out of memory");
    }

    for (i = 0; i < n && (row = mysql_fetch_row(res)) != NULL; i++) {
        lens = mysql_fetch_lengths(res);
        rows[i].v = calloc(vf->ncols, sizeof(char *));
        if (rows[i].v == NULL) {
            mysql_free_result(res);
            cdc_verify_free_rows(rows, i, vf->ncols);
            return cdc_error(err, errlen, "out of memory");
        }
        for (k = 0; k < vf->ncols; k++) {
            (void) lens;
            rows[i].v[k] = cdc_verify_canon(&vf->cols[k], row[k], 1);
        }
    }

    mysql_free_result(res);

    if (cdc_verify_src_json(vf, rows, i, err, errlen) != 0) {
        return -1;
    }

    *rowsp = rows;
    *nrowsp = i;

    return 0;
}


/* PostgreSQL: rows with key in (lo, hi]; NULL bounds are open */
static int
cdc_verify_dst_chunk(cdc_verify_t *vf, const cdc_verify_row_t *lo,
    const cdc_verify_row_t *hi, cdc_verify_row_t **rowsp, size_t *nrowsp,
    char *err, size_t errlen)
{
    int                 i, n, np;
    size_t              k, j;
    PGresult           *r;
    cdc_sql_t           q;
    const char         *params[64];
    cdc_verify_col_t   *c;
    cdc_sink_col_t     *dc;
    cdc_verify_row_t   *rows;

    memset(&q, 0, sizeof(q));
    cdc_sql_add(&q, "SELECT ");

    for (k = 0; k < vf->ncols; k++) {
        c = &vf->cols[k];
        dc = &vf->t->cols[c->dst];
        cdc_sql_add(&q, k ? ", " : "");

        switch (c->kind) {
        case CDC_PG_BYTEA:
            cdc_sql_add(&q, "pg_catalog.encode(");
            cdc_sql_add(&q, dc->qname);
            cdc_sql_add(&q, ", 'hex')");
            break;
        case CDC_PG_TIMESTAMPTZ:
            cdc_sql_add(&q, "pg_catalog.to_char(");
            cdc_sql_add(&q, dc->qname);
            cdc_sql_add(&q, " AT TIME ZONE 'UTC', "
                        "'YYYY-MM-DD HH24:MI:SS.US')");
            break;
        case CDC_PG_TIMESTAMP:
            cdc_sql_add(&q, "pg_catalog.to_char(");
            cdc_sql_add(&q, dc->qname);
            cdc_sql_add(&q, ", 'YYYY-MM-DD HH24:MI:SS.US')");
            break;
        case CDC_PG_JSON:
            /* a json (not jsonb) target prints as it was written */
            cdc_sql_add(&q, dc->qname);
            cdc_sql_add(&q, "::jsonb::text");
            break;
        default:
            cdc_sql_add(&q, dc->qname);
            cdc_sql_add(&q, "::text");
            break;
        }
    }

    /* ORDER BY names the table's columns, not the ::text outputs */
    cdc_sql_add(&q, " FROM ");
    cdc_sql_add(&q, vf->t->qname);
    cdc_sql_add(&q, " AS cdc_t");
    np = 0;

#define cdc_verify_keylist()                                                  \
    do {                                                                      \
        cdc_sql_add(&q, "(");                                                 \
        for (j = 0; j < vf->npk; j++) {                                       \
            cdc_sql_add(&q, j ? ", " : "");                                   \
            cdc_verify_dst_key_expr(&q, &vf->cols[vf->pk[j]],                 \
                vf->t->cols[vf->cols[vf->pk[j]].dst].qname);                  \
        }                                                                     \
        cdc_sql_add(&q, ")");                                                 \
    } while (0)

#define cdc_verify_bound(row)                                                 \
    do {                                                                      \
        cdc_sql_add(&q, "(");                                                 \
        for (j = 0; j < vf->npk; j++) {                                       \
            cdc_sql_add(&q, j ? ", " : "");                                   \
            np++;                                                             \
            cdc_verify_dst_key_param(&q, &vf->cols[vf->pk[j]], (size_t) np,   \
                                     (row)->v[vf->pk[j]], &params[np - 1]);   \
        }                                                                     \
        cdc_sql_add(&q, ")");                                                 \
    } while (0)

    if (lo || hi) {
        cdc_sql_add(&q, " WHERE ");
    }

    if (lo) {
        cdc_verify_keylist();
        cdc_sql_add(&q, " > ");
        cdc_verify_bound(lo);
    }

    if (hi) {
        cdc_sql_add(&q, lo ? " AND " : "");
        cdc_verify_keylist();
        cdc_sql_add(&q, " <= ");
        cdc_verify_bound(hi);
    }

    cdc_sql_add(&q, " ORDER BY ");
    cdc_verify_keylist();

#undef cdc_verify_keylist
#undef cdc_verify_bound

    if (q.oom) {
        free(q.p);
        return cdc_error(err, errlen, "out of memory");
    }

    r = cdc_pg_query(vf->s->pg, q.p, np, params, err, errlen);
    free(q.p);

    if (r == NULL) {
        return -1;
    }

    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        PQclear(r);
        return -1;
    }

    n = PQntuples(r);
    rows = calloc((size_t) n + 1, sizeof(cdc_verify_row_t));

    if (rows == NULL) {
        PQclear(r);
        return cdc_error(err, errlen, "out of memory");
    }

    for (i = 0; i < n; i++) {
        rows[i].v = calloc(vf->ncols, sizeof(char *));
        if (rows[i].v == NULL) {
            PQclear(r);
            cdc_verify_free_rows(rows, (size_t) i, vf->ncols);
            return cdc_error(err, errlen, "out of memory");
        }
        for (k = 0; k < vf->ncols; k++) {
            rows[i].v[k] = cdc_verify_canon(&vf->cols[k],
                                            PQgetisnull(r, i, (int) k)
                                            ? NULL
                                            : PQgetvalue(r, i, (int) k), 0);
        }
    }

    PQclear(r);
    *rowsp = rows;
    *nrowsp = (size_t) n;

    return 0;
}


/* the first few differing rows: which column, both canonical values */
static void
cdc_verify_detail(cdc_verify_t *vf, const cdc_verify_row_t *a,
    const cdc_verify_row_t *b)
{
    char    *key;
    size_t   k;

    if (vf->differ > CDC_VERIFY_MAX_RANGES) {
        return;
    }

    for (k = 0; k < vf->ncols; k++) {
        if (a->v[k] && b->v[k] ? strcmp(a->v[k], b->v[k]) == 0
                               : a->v[k] == b->v[k])
        {
            continue;
        }

        key = cdc_verify_key_text(vf, a);
        printf("  row %s column %s: source %.60s%s%s, target %.60s%s%s\n",
               key ? key : "?", vf->cols[k].src,
               a->v[k] ? "\"" : "", a->v[k] ? a->v[k] : "NULL",
               a->v[k] ? "\"" : "", b->v[k] ? "\"" : "",
               b->v[k] ? b->v[k] : "NULL", b->v[k] ? "\"" : "");
        free(key);
    }
}


static int
cdc_verify_merge(cdc_verify_t *vf, cdc_verify_row_t *src, size_t ns,
    cdc_verify_row_t *dst, size_t nd)
{
    int     cmp;
    size_t  i, j;

    i = 0;
    j = 0;

    while (i < ns || j < nd) {
        if (i == ns) {
            cmp = 1;
        } else if (j == nd) {
            cmp = -1;
        } else {
            cmp = cdc_verify_key_cmp(vf, &src[i], &dst[j]);
        }

        if (cmp < 0) {
            vf->missing++;
            vf->src_sum = cdc_verify_hash(vf->src_sum, &src[i], vf->ncols);
            cdc_verify_mismatch(vf, &src[i++]);

        } else if (cmp > 0) {
            vf->extra++;
            vf->dst_sum = cdc_verify_hash(vf->dst_sum, &dst[j], vf->ncols);
            cdc_verify_mismatch(vf, &dst[j++]);

        } else {
            vf->src_sum = cdc_verify_hash(vf->src_sum, &src[i], vf->ncols);
            vf->dst_sum = cdc_verify_hash(vf->dst_sum, &dst[j], vf->ncols);

            if (cdc_verify_row_eq(vf, &src[i], &dst[j])) {
                cdc_verify_range_close(vf);
            } else {
                vf->differ++;
                cdc_verify_detail(vf, &src[i], &dst[j]);
                cdc_verify_mismatch(vf, &src[i]);
            }

            i++;
            j++;
        }
    }

    return 0;
}


/*
 * Each side must return its keys after lo and ascending in the merge's
 * order; were a key type ordered differently by a database, paging would
 * skip or repeat rows, so that is an error, never a silent "equal".
 */
static int
cdc_verify_ordered(cdc_verify_t *vf, const cdc_verify_row_t *lo,
    const cdc_verify_row_t *rows, size_t n, const char *side, char *err,
    size_t errlen)
{
    char                    *k;
    size_t                   i;
    const cdc_verify_row_t  *prev;

    for (i = 0; i < n; i++) {
        prev = i ? &rows[i - 1] : lo;

        if (prev == NULL || cdc_verify_key_cmp(vf, prev, &rows[i]) < 0) {
            continue;
        }

        k = cdc_verify_key_text(vf, &rows[i]);
        cdc_error(err, errlen, "%s rows out of key order at %s: MySQL and "
                  "PostgreSQL order this key type differently", side,
                  k ? k : "?");
        free(k);

        return -1;
    }

    return 0;
}


static int
cdc_verify_table(cdc_sink_t *s, cdc_sink_table_t *t, long chunk)
{
    int                rc, equal;
    char               err[CDC_SINK_ERRLEN];
    size_t             i, k, ns, nd, nsc;
    const char        *dst;
    cdc_verify_t       vf;
    cdc_source_col_t  *sc;
    cdc_verify_row_t  *src, *dstrows, *last;

    memset(&vf, 0, sizeof(vf));
    vf.s = s;
    vf.t = t;
    vf.chunk = chunk;
    vf.src_sum = 1469598103934665603ULL;
    vf.dst_sum = 1469598103934665603ULL;
    last = NULL;
    src = NULL;
    dstrows = NULL;
    ns = 0;
    nd = 0;
    rc = -1;

    if (cdc_source_db_columns(s, t->map->src_db, t->map->src_table, &sc,
                              &nsc, err, sizeof(err)) != 0)
    {
        printf("%s: error: %s\n", t->src, err);
        return -1;
    }

    vf.cols = calloc(nsc + 1, sizeof(cdc_verify_col_t));
    vf.pk = calloc(nsc + 1, sizeof(size_t));

    if (vf.cols == NULL || vf.pk == NULL) {
        goto done;
    }

    equal = 1;

    for (i = 0; i < nsc; i++) {
        dst = cdc_catalog_map_column(s, t, sc[i].name);
        if (dst == NULL) {
            continue;
        }

        k = vf.ncols;
        vf.cols[k].src = sc[i].name;
        vf.cols[k].dst = cdc_catalog_find(t, dst);
        vf.cols[k].pk = sc[i].pk;
        vf.cols[k].mysql_type = sc[i].type.data_type;
        vf.cols[k].is_json = sc[i].type.is_json;
        vf.cols[k].bits = sc[i].type.precision;

        if (vf.cols[k].dst < 0) {
            printf("%s: column \"%s\" is missing in target %s\n", t->src,
                   sc[i].name, t->qname);
            equal = 0;
            continue;
        }

        vf.cols[k].kind = t->cols[vf.cols[k].dst].kind;
        vf.cols[k].key = cdc_verify_key_class(vf.cols[k].kind);
        vf.ncols++;
    }

    for (k = 1; k <= vf.ncols; k++) {
        for (i = 0; i < vf.ncols; i++) {
            if ((size_t) vf.cols[i].pk == k) {
                vf.pk[vf.npk++] = i;
            }
        }
    }

    if (vf.npk == 0) {
        printf("%s: error: no primary key: verify needs one\n", t->src);
        goto done;
    }

    if (!equal) {
        rc = 1;
        goto done;
    }

    for ( ;; ) {
        if (cdc_verify_src_chunk(&vf, last, &src, &ns, err, sizeof(err))
            != 0)
        {
            printf("%s: error: %s\n", t->src, err);
            goto done;
        }

        /* the target rows in the same key range; the last chunk takes
           everything after it */
        if (cdc_verify_dst_chunk(&vf, last,
                                 ns == (size_t) chunk ? &src[ns - 1] : NULL,
                                 &dstrows, &nd, err, sizeof(err)) != 0)
        {
            printf("%s: error: %s\n", t->src, err);
            cdc_verify_free_rows(src, ns, vf.ncols);
            src = NULL;
            goto done;
        }

        if (cdc_verify_ordered(&vf, last, src, ns, "source", err,
                               sizeof(err)) != 0
            || cdc_verify_ordered(&vf, last, dstrows, nd, "target", err,
                                  sizeof(err)) != 0)
        {
            printf("%s: error: %s\n", t->src, err);
            cdc_verify_free_rows(src, ns, vf.ncols);
            cdc_verify_free_rows(dstrows, nd, vf.ncols);
            src = NULL;
            goto done;
        }

        vf.src_rows += ns;
        vf.dst_rows += nd;
        cdc_verify_merge(&vf, src, ns, dstrows, nd);
        cdc_verify_free_rows(dstrows, nd, vf.ncols);

        if (last) {
            cdc_verify_free_rows(last, 1, vf.ncols);
            last = NULL;
        }

        if (ns < (size_t) chunk) {
            cdc_verify_free_rows(src, ns, vf.ncols);
            src = NULL;
            break;
        }

        /* keep the chunk's last row as the next lower bound */
        last = calloc(1, sizeof(cdc_verify_row_t));
        if (last == NULL) {
            cdc_verify_free_rows(src, ns, vf.ncols);
            goto done;
        }
        last->v = src[ns - 1].v;
        src[ns - 1].v = calloc(vf.ncols, sizeof(char *));
        cdc_verify_free_rows(src, ns, vf.ncols);
        src = NULL;
    }

    cdc_verify_range_close(&vf);

    equal = vf.missing == 0 && vf.extra == 0 && vf.differ == 0;

    printf("%s -> %s: source %llu rows checksum %016llx, target %llu rows "
           "checksum %016llx: %s", t->src, t->qname,
           (unsigned long long) vf.src_rows,
           (unsigned long long) vf.src_sum,
           (unsigned long long) vf.dst_rows,
           (unsigned long long) vf.dst_sum, equal ? "equal\n" : "DIFFER");

    if (!equal) {
        printf(" (%llu missing in target, %llu extra in target, %llu "
               "different)\n", (unsigned long long) vf.missing,
               (unsigned long long) vf.extra,
               (unsigned long long) vf.differ);
    }

    rc = equal ? 0 : 1;

done:

    if (last) {
        cdc_verify_free_rows(last, 1, vf.ncols);
    }

    free(vf.range_first);
    free(vf.range_last);
    free(vf.cols);
    free(vf.pk);
    cdc_source_db_free_columns(sc, nsc);

    return rc;
}


int
cdc_cmd_verify(int argc, char **argv)
{
    int                  c, rc, r;
    long                 chunk;
    char                 err[CDC_SINK_ERRLEN], ident[128];
    size_t               i;
    const char          *file, *service, *only;
    cdc_sink_t          *s;
    cdc_config_t         cf;
    cdc_service_conf_t  *svc;
    static volatile sig_atomic_t  stop;

    static const struct option  opts[] = {
        { "config", required_argument, NULL, 'c' },
        { "service", required_argument, NULL, 's' },
        { "table", required_argument, NULL, 't' },
        { "chunk", required_argument, NULL, 'n' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };

    file = NULL;
    service = NULL;
    only = NULL;
    chunk = 10000;
    optind = 1;

    while ((c = getopt_long(argc, argv, "c:s:t:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': file = optarg; break;
        case 's': service = optarg; break;
        case 't': only = optarg; break;
        case 'n':
            chunk = strtol(optarg, NULL, 10);
            if (chunk < 1 || chunk > 10000000) {
                fprintf(stderr, "cdc-bridge verify: bad --chunk \"%s\"\n",
                        optarg);
                return CDC_VERIFY_ERROR;
            }
            break;
        case 'h':
            printf("usage: cdc-bridge verify [-c FILE] --service NAME "
                   "[--table db.table] [--chunk ROWS]\n");
            return 0;
        default:
            return CDC_VERIFY_ERROR;
        }
    }

    if (service == NULL || optind != argc) {
        fprintf(stderr, "usage: cdc-bridge verify [-c FILE] --service NAME "
                "[--table db.table] [--chunk ROWS]\n");
        return CDC_VERIFY_ERROR;
    }

    snprintf(ident, sizeof(ident), "verify %s", service);
    cdc_log_set_ident(ident);

    if (cdc_config_load(&cf, file, err, sizeof(err)) != 0) {
        cdc_log_error("%s", err);
        cdc_config_free(&cf);
        return CDC_VERIFY_ERROR;
    }

    svc = cdc_config_service(&cf, service);
    if (svc == NULL) {
        cdc_log_error("no service \"%s\"", service);
        cdc_config_free(&cf);
        return CDC_VERIFY_ERROR;
    }

    s = calloc(1, sizeof(cdc_sink_t));
    if (s == NULL) {
        cdc_config_free(&cf);
        return CDC_VERIFY_ERROR;
    }

    s->cf = &cf;
    s->svc = svc;
    s->stop = &stop;
    pthread_mutex_init(&s->lock, NULL);
    rc = CDC_VERIFY_ERROR;

    s->pg = cdc_pg_connect(svc, "cdc-bridge verify", err, sizeof(err));
    if (s->pg == NULL) {
        cdc_log_error("%s", err);
        goto done;
    }

    /* read-only, and one snapshot of the target per table chunk */
    svc->create_tables = 0;

    if (cdc_catalog_prepare(s, err, sizeof(err)) != 0) {
        cdc_log_error("%s", err);
        goto done;
    }

    rc = CDC_VERIFY_EQUAL;

    for (i = 0; i < s->ntables; i++) {
        if (only && strcmp(only, s->tables[i].src) != 0) {
            continue;
        }

        r = cdc_verify_table(s, &s->tables[i], chunk);

        if (r < 0) {
            rc = CDC_VERIFY_ERROR;
        } else if (r > 0 && rc == CDC_VERIFY_EQUAL) {
            rc = CDC_VERIFY_DIFFER;
        }
    }

    printf("service %s: %s\n", svc->name,
           rc == CDC_VERIFY_EQUAL ? "equal"
           : rc == CDC_VERIFY_DIFFER ? "NOT EQUAL" : "error");

done:

    cdc_source_db_close(s);

    if (s->pg) {
        PQfinish(s->pg);
    }

    if (s->tables) {
        for (i = 0; i < s->ntables; i++) {
            cdc_catalog_free(&s->tables[i]);
            free(s->tables[i].topic);
            free(s->tables[i].src);
            free(s->tables[i].qname);
        }
        free(s->tables);
    }

    pthread_mutex_destroy(&s->lock);
    free(s);
    cdc_config_free(&cf);

    return rc;
}
