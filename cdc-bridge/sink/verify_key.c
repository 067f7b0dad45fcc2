/*
 * cdc-bridge verify: key order on both sides (the table in verify.h) and
 * JSON in the form jsonb stores it.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "log.h"
#include "sink/verify.h"


cdc_verify_key_t
cdc_verify_key_class(cdc_pg_kind_t kind)
{
    switch (kind) {
    case CDC_PG_NUMBER:
    case CDC_PG_BOOL:
        return CDC_VERIFY_KEY_NUM;
    case CDC_PG_FLOAT4:
    case CDC_PG_FLOAT8:
        return CDC_VERIFY_KEY_FLOAT;
    case CDC_PG_DATE:
    case CDC_PG_TIMESTAMP:
    case CDC_PG_TIMESTAMPTZ:
        return CDC_VERIFY_KEY_TIME;
    case CDC_PG_INTERVAL:
        return CDC_VERIFY_KEY_INTERVAL;
    case CDC_PG_BYTEA:
        return CDC_VERIFY_KEY_BYTES;
    case CDC_PG_BIT:
        return CDC_VERIFY_KEY_BITS;
    default:
        return CDC_VERIFY_KEY_TEXT;
    }
}


static int
cdc_verify_num_zero(const char *p)
{
    for ( /* void */ ; *p; p++) {
        if (*p >= '1' && *p <= '9') {
            return 0;
        }
    }

    return 1;
}


/* compares magnitudes: integer digits without leading zeros, then the
   fraction digit by digit (a missing digit is 0) */
static int
cdc_verify_num_abs_cmp(const char *a, const char *b)
{
    int     r;
    size_t  ia, ib;

    while (*a == '0') {
        a++;
    }
    while (*b == '0') {
        b++;
    }

    ia = strspn(a, "0123456789");
    ib = strspn(b, "0123456789");

    if (ia != ib) {
        return ia < ib ? -1 : 1;
    }

    r = memcmp(a, b, ia);
    if (r) {
        return r < 0 ? -1 : 1;
    }

    a += ia + (a[ia] == '.');
    b += ib + (b[ib] == '.');

    while (*a || *b) {
        r = (*a ? *a : '0') - (*b ? *b : '0');
        if (r) {
            return r < 0 ? -1 : 1;
        }
        a += *a != '\0';
        b += *b != '\0';
    }

    return 0;
}


int
cdc_verify_num_cmp(const char *a, const char *b)
{
    int  na, nb, r;

    na = *a == '-';
    nb = *b == '-';
    a += *a == '-' || *a == '+';
    b += *b == '-' || *b == '+';

    /* "-0" is zero */
    na = na && !cdc_verify_num_zero(a);
    nb = nb && !cdc_verify_num_zero(b);

    if (na != nb) {
        return na ? -1 : 1;
    }

    r = cdc_verify_num_abs_cmp(a, b);

    return na ? -r : r;
}


int
cdc_verify_key_value_cmp(cdc_verify_key_t key, const char *a, const char *b)
{
    int          r;
    long double  x, y;

    if (a == NULL || b == NULL) {
        return (a != NULL) - (b != NULL);
    }

    switch (key) {

    case CDC_VERIFY_KEY_NUM:
    case CDC_VERIFY_KEY_INTERVAL:
        return cdc_verify_num_cmp(a, b);

    case CDC_VERIFY_KEY_FLOAT:
        x = strtold(a, NULL);
        y = strtold(b, NULL);
        return x < y ? -1 : x > y;

    default:
        r = strcmp(a, b);
        return r < 0 ? -1 : r > 0;
    }
}


static void
cdc_verify_my_ident(cdc_sql_t *q, const char *name)
{
    const char  *p;

    cdc_sql_add(q, "`");

    for (p = name; *p; p++) {
        cdc_sql_addn(q, p, 1);
        if (*p == '`') {
            cdc_sql_addn(q, "`", 1);
        }
    }

    cdc_sql_add(q, "`");
}


void
cdc_verify_src_key_expr(cdc_sql_t *q, const cdc_verify_col_t *c)
{
    if (c->key != CDC_VERIFY_KEY_TEXT) {
        cdc_verify_my_ident(q, c->src);
        return;
    }

    /* UTF-8 bytes whatever the column's character set and collation */
    cdc_sql_add(q, "BINARY CONVERT(");
    cdc_verify_my_ident(q, c->src);
    cdc_sql_add(q, " USING utf8mb4)");
}


void
cdc_verify_time_text(long long us, char *buf, size_t len)
{
    const char          *sign;
    unsigned long long   u;

    sign = us < 0 ? "-" : "";
    u = us < 0 ? 0ULL - (unsigned long long) us : (unsigned long long) us;

    snprintf(buf, len, "%s%llu:%02llu:%02llu.%06llu", sign,
             u / 3600000000ULL, u / 60000000ULL % 60, u / 1000000ULL % 60,
             u % 1000000ULL);
}


static int
cdc_verify_only(const char *v, const char *set)
{
    return v[strspn(v, set)] == '\0';
}


int
cdc_verify_src_key_value(cdc_sql_t *q, MYSQL *my, const cdc_verify_col_t *c,
    const char *v)
{
    char    *e, buf[64];
    size_t   n;

    switch (c->key) {

    case CDC_VERIFY_KEY_NUM:
    case CDC_VERIFY_KEY_FLOAT:
        /* unquoted: MySQL compares a number with a string as doubles */
        if (v == NULL || *v == '\0' || !cdc_verify_only(v, "+-.0123456789eE")) {
            return -1;
        }
        cdc_sql_add(q, v);
        return 0;

    case CDC_VERIFY_KEY_TIME:
        if (v == NULL) {
            cdc_sql_add(q, c->kind == CDC_PG_DATE ? "'0000-00-00'"
                                                  : "'0000-00-00 00:00:00'");
            return 0;
        }
        if (!cdc_verify_only(v, "-:. 0123456789")) {
            return -1;
        }
        cdc_sql_add(q, "'");
        cdc_sql_add(q, v);
        cdc_sql_add(q, "'");
        return 0;

    case CDC_VERIFY_KEY_INTERVAL:
        if (v == NULL || *v == '\0' || !cdc_verify_only(v, "-0123456789")) {
            return -1;
        }
        cdc_verify_time_text(strtoll(v, NULL, 10), buf, sizeof(buf));
        cdc_sql_add(q, "'");
        cdc_sql_add(q, buf);
        cdc_sql_add(q, "'");
        return 0;

    case CDC_VERIFY_KEY_BYTES:
        if (v == NULL || !cdc_verify_only(v, "0123456789abcdef")) {
            return -1;
        }
        cdc_sql_add(q, "X'");
        cdc_sql_add(q, v);
        cdc_sql_add(q, "'");
        return 0;

    case CDC_VERIFY_KEY_BITS:
        if (v == NULL || *v == '\0' || !cdc_verify_only(v, "01")) {
            return -1;
        }
        cdc_sql_add(q, "b'");
        cdc_sql_add(q, v);
        cdc_sql_add(q, "'");
        return 0;

    default:
        break;
    }

    if (v == NULL || my == NULL) {
        return -1;
    }

    n = strlen(v);
    e = malloc(2 * n + 1);
    if (e == NULL) {
        q->oom = 1;
        return 0;
    }

    mysql_real_escape_string(my, e, v, (unsigned long) n);
    cdc_sql_add(q, "'");
    cdc_sql_add(q, e);
    cdc_sql_add(q, "'");
    free(e);

    return 0;
}


void
cdc_verify_dst_key_expr(cdc_sql_t *q, const cdc_verify_col_t *c,
    const char *qname)
{
    cdc_sql_add(q, "cdc_t.");
    cdc_sql_add(q, qname);

    if (c->key == CDC_VERIFY_KEY_TEXT) {
        /* ::text: uuid, inet and the like have no collation */
        cdc_sql_add(q, "::text COLLATE \"C\"");
    }
}


void
cdc_verify_dst_key_param(cdc_sql_t *q, const cdc_verify_col_t *c, size_t n,
    const char *v, const char **param)
{
    *param = v;

    switch (c->key) {

    case CDC_VERIFY_KEY_TIME:
        if (v == NULL) {
            *param = "-infinity";
        }
        cdc_sql_param(q, n);
        break;

    case CDC_VERIFY_KEY_INTERVAL:
        cdc_sql_add(q, "(");
        cdc_sql_param(q, n);
        cdc_sql_add(q, "::bigint * interval '1 microsecond')");
        break;

    case CDC_VERIFY_KEY_BYTES:
        cdc_sql_add(q, "pg_catalog.decode(");
        cdc_sql_param(q, n);
        cdc_sql_add(q, ", 'hex')");
        break;

    case CDC_VERIFY_KEY_TEXT:
        cdc_sql_param(q, n);
        cdc_sql_add(q, "::text");
        break;

    default:
        cdc_sql_param(q, n);
        break;
    }
}


/* one value at a time: jsonb's text, or the value unchanged if rejected */
static int
cdc_verify_json_one(PGconn *pg, char **v, char *err, size_t errlen)
{
    char      *out;
    PGresult  *r;

    r = cdc_pg_query(pg, "SELECT $1::jsonb::text", 1,
                     (const char *const *) v, err, errlen);
    if (r == NULL) {
        return -1;
    }

    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
        out = strdup(PQgetvalue(r, 0, 0));
        if (out == NULL) {
            PQclear(r);
            return cdc_error(err, errlen, "out of memory");
        }
        free(*v);
        *v = out;
    }

    PQclear(r);

    return 0;
}


int
cdc_verify_json_normalize(PGconn *pg, char **vals, size_t n, char *err,
    size_t errlen)
{
    int          ok;
    char        *arr, *out;
    size_t       i, j, m;
    json_t      *a, *s;
    PGresult    *r;
    const char  *p[1];

    a = json_array();
    if (a == NULL) {
        return cdc_error(err, errlen, "out of memory");
    }

    /* the texts as JSON strings: no value can change another's meaning */
    for (i = 0, m = 0; i < n; i++) {
        if (vals[i] == NULL) {
            continue;
        }
        s = json_string(vals[i]);
        if (s == NULL || json_array_append_new(a, s) != 0) {
            json_decref(a);
            return cdc_error(err, errlen, "JSON value is not UTF-8 or "
                             "out of memory");
        }
        m++;
    }

    if (m == 0) {
        json_decref(a);
        return 0;
    }

    arr = json_dumps(a, JSON_COMPACT);
    json_decref(a);

    if (arr == NULL) {
        return cdc_error(err, errlen, "out of memory");
    }

    p[0] = arr;
    r = cdc_pg_query(pg, "SELECT e::jsonb::text FROM "
                     "pg_catalog.jsonb_array_elements_text($1::jsonb) "
                     "WITH ORDINALITY AS x(e, i) ORDER BY i", 1, p, err,
                     errlen);
    free(arr);

    if (r == NULL) {
        return -1;
    }

    ok = PQresultStatus(r) == PGRES_TUPLES_OK && (size_t) PQntuples(r) == m;

    for (i = 0, j = 0; ok && i < n; i++) {
        if (vals[i] == NULL) {
            continue;
        }
        out = strdup(PQgetvalue(r, (int) j++, 0));
        if (out == NULL) {
            PQclear(r);
            return cdc_error(err, errlen, "out of memory");
        }
        free(vals[i]);
        vals[i] = out;
    }

    PQclear(r);

    if (ok) {
        return 0;
    }

    /* some value is not JSON jsonb takes: find it one by one */
    for (i = 0; i < n; i++) {
        if (vals[i] && cdc_verify_json_one(pg, &vals[i], err, errlen) != 0) {
            return -1;
        }
    }

    return 0;
}
