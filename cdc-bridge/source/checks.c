/*
 * What the source server must offer before `run` starts: every problem is
 * reported with the setting to change and how, so an operator fixes it
 * in one go.
 */

#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "source/source.h"


typedef struct {
    char    *buf;
    size_t   len;
    size_t   used;
    int      n;
} cdc_problems_t;


static void
cdc_problem(cdc_problems_t *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));


static void
cdc_problem(cdc_problems_t *p, const char *fmt, ...)
{
    va_list  ap;
    int      n;

    if (p->buf == NULL || p->used + 1 >= p->len) {
        p->n++;
        return;
    }

    if (p->n > 0) {
        n = snprintf(p->buf + p->used, p->len - p->used, "; ");
        if (n > 0) {
            p->used += (size_t) n;
        }
        if (p->used >= p->len) {
            p->used = p->len - 1;
        }
    }

    va_start(ap, fmt);
    n = vsnprintf(p->buf + p->used, p->len - p->used, fmt, ap);
    va_end(ap);

    if (n > 0) {
        p->used += (size_t) n;
    }

    if (p->used >= p->len) {
        p->used = p->len - 1;
    }

    p->n++;
}


/* one row of SELECT @@a, @@b, ...; values copied into out[] */
static int
cdc_check_vars(MYSQL *mysql, const char *q, char out[][64], size_t n,
    char *err, size_t errlen)
{
    MYSQL_RES  *res;
    MYSQL_ROW   row;
    size_t      i;

    if (mysql_query(mysql, q) != 0) {
        return cdc_error(err, errlen, "\"%s\": %s (%u)", q,
                         mysql_error(mysql), mysql_errno(mysql));
    }

    res = mysql_store_result(mysql);
    if (res == NULL || (row = mysql_fetch_row(res)) == NULL
        || mysql_num_fields(res) < n)
    {
        if (res) {
            mysql_free_result(res);
        }
        return cdc_error(err, errlen, "\"%s\": no result", q);
    }

    for (i = 0; i < n; i++) {
        snprintf(out[i], 64, "%s", row[i] ? row[i] : "");
    }

    mysql_free_result(res);

    return 0;
}


static int
cdc_check_has_grant(MYSQL *mysql, const char *priv, int *has, char *err,
    size_t errlen)
{
    MYSQL_RES  *res;
    MYSQL_ROW   row;
    const char *g;

    *has = 0;

    if (mysql_query(mysql, "SHOW GRANTS FOR CURRENT_USER()") != 0) {
        return cdc_error(err, errlen, "SHOW GRANTS: %s (%u)",
                         mysql_error(mysql), mysql_errno(mysql));
    }

    res = mysql_store_result(mysql);
    if (res == NULL) {
        return cdc_error(err, errlen, "SHOW GRANTS: %s", mysql_error(mysql));
    }

    while ((row = mysql_fetch_row(res)) != NULL) {
        g = row[0];
        if (g == NULL || strstr(g, " ON *.* ") == NULL) {
            continue;
        }
        if (strstr(g, "GRANT ALL PRIVILEGES ON *.*") || strstr(g, priv)) {
            *has = 1;
        }
    }

    mysql_free_result(res);

    return 0;
}


/*
 * SELECT on one pattern's tables: a cheap query that needs the grant.
 * 1 when it reported a problem (then the pattern's tables may be hidden
 * from information_schema too).
 */
static int
cdc_check_select(MYSQL *mysql, const char *pattern, const char *user,
    cdc_problems_t *p)
{
    char         db[256], tbl[256], q[2000], edb[520];
    const char  *dot;
    unsigned int e;
    size_t       dlen;

    dot = strchr(pattern, '.');
    if (dot == NULL) {
        return 0;
    }

    dlen = (size_t) (dot - pattern);
    if (dlen == 0 || dlen >= sizeof(db) || strlen(dot + 1) >= sizeof(tbl)) {
        return 0;
    }

    memcpy(db, pattern, dlen);
    db[dlen] = '\0';
    snprintf(tbl, sizeof(tbl), "%s", dot + 1);

    if (strpbrk(db, "*?[") != NULL) {
        return 0;
    }

    mysql_real_escape_string(mysql, edb, db, strlen(db));

    if (strpbrk(tbl, "*?[") != NULL) {
        /* a whole database: SELECT on it shows in information_schema */
        snprintf(q, sizeof(q), "SELECT 1 FROM information_schema."
                 "SCHEMA_PRIVILEGES WHERE TABLE_SCHEMA = '%s' AND "
                 "PRIVILEGE_TYPE = 'SELECT' UNION SELECT 1 FROM "
                 "information_schema.USER_PRIVILEGES WHERE "
                 "PRIVILEGE_TYPE = 'SELECT' UNION SELECT 1 FROM "
                 "information_schema.TABLE_PRIVILEGES WHERE "
                 "TABLE_SCHEMA = '%s' AND PRIVILEGE_TYPE = 'SELECT'",
                 edb, edb);

    } else {
        snprintf(q, sizeof(q), "SELECT * FROM `%s`.`%s` LIMIT 0", db, tbl);
    }

    if (mysql_query(mysql, q) != 0) {
        e = mysql_errno(mysql);

        if (e == 1146 || e == 1049) {
            /* no such table (yet): nothing to read, not a grant problem */
            return 0;
        }

        if (e == 1142 || e == 1044 || e == 1143) {
            cdc_problem(p, "user \"%s\" lacks SELECT on %s: run GRANT "
                        "SELECT ON `%s`.* TO '%s'@'%%'", user, pattern, db,
                        user);
            return 1;
        }

        cdc_problem(p, "checking SELECT on %s: %s (%u)", pattern,
                    mysql_error(mysql), e);
        return 1;
    }

    {
        MYSQL_RES  *res;

        res = mysql_store_result(mysql);
        if (res == NULL) {
            return 0;
        }

        if (strpbrk(tbl, "*?[") != NULL && mysql_num_rows(res) == 0) {
            cdc_problem(p, "user \"%s\" lacks SELECT on %s: run GRANT "
                        "SELECT ON `%s`.* TO '%s'@'%%'", user, pattern, db,
                        user);
            mysql_free_result(res);
            return 1;
        }

        mysql_free_result(res);
    }

    return 0;
}


/* ------------------------------------------------------ table patterns */

typedef struct {
    char   *db;
    char   *name;
    int     table;                      /* BASE TABLE / SYSTEM VERSIONED */
} cdc_check_obj_t;


static void
cdc_check_objs_free(cdc_check_obj_t *o, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        free(o[i].db);
        free(o[i].name);
    }

    free(o);
}


/* every table, view and sequence the user can see; db "" with a name NULL
   for a database with nothing in it */
static int
cdc_check_objs(MYSQL *mysql, cdc_check_obj_t **out, size_t *n, char *err,
    size_t errlen)
{
    MYSQL_RES        *res;
    MYSQL_ROW         row;
    cdc_check_obj_t  *o, *no;
    size_t            cap;

    *out = NULL;
    *n = 0;

    if (mysql_query(mysql, "SELECT s.SCHEMA_NAME, t.TABLE_NAME, "
                    "t.TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED') "
                    "FROM information_schema.SCHEMATA s LEFT JOIN "
                    "information_schema.TABLES t ON t.TABLE_SCHEMA = "
                    "s.SCHEMA_NAME WHERE s.SCHEMA_NAME NOT IN ('mysql', "
                    "'information_schema', 'performance_schema', 'sys') "
                    "ORDER BY 1, 2") != 0
        || (res = mysql_store_result(mysql)) == NULL)
    {
        return cdc_error(err, errlen, "listing tables: %s (%u)",
                         mysql_error(mysql), mysql_errno(mysql));
    }

    o = NULL;
    cap = 0;

    while ((row = mysql_fetch_row(res)) != NULL) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 64;
            no = realloc(o, cap * sizeof(*o));
            if (no == NULL) {
                break;
            }
            o = no;
        }

        o[*n].db = strdup(row[0] ? row[0] : "");
        o[*n].name = row[1] ? strdup(row[1]) : NULL;
        o[*n].table = row[2] && strcmp(row[2], "1") == 0;

        if (o[*n].db == NULL || (row[1] && o[*n].name == NULL)) {
            free(o[*n].db);
            free(o[*n].name);
            break;
        }
        (*n)++;
    }

    if (row != NULL) {
        mysql_free_result(res);
        cdc_check_objs_free(o, *n);
        *n = 0;
        return cdc_error(err, errlen, "listing tables: out of memory");
    }

    mysql_free_result(res);
    *out = o;

    return 0;
}


/* "(shop has: order_items, orders)" or "(no database shpo)" */
static void
cdc_check_pattern_hint(const char *pattern, const cdc_check_obj_t *o,
    size_t n, char *buf, size_t len)
{
    size_t       i, used, dlen, shown;
    const char  *dot;
    int          w, known;

    buf[0] = '\0';
    dot = strchr(pattern, '.');

    if (dot == NULL || strpbrk(pattern, "*?[") != NULL || len < 8) {
        return;
    }

    dlen = (size_t) (dot - pattern);
    known = 0;
    shown = 0;
    used = 0;

    for (i = 0; i < n; i++) {
        if (strlen(o[i].db) != dlen || strncmp(o[i].db, pattern, dlen) != 0)
        {
            continue;
        }

        known = 1;

        if (o[i].name && !o[i].table && strcmp(o[i].name, dot + 1) == 0) {
            (void) snprintf(buf, len, " (a view or sequence: no rows to "
                            "stream)");
            return;
        }

        if (o[i].name == NULL || !o[i].table || used + 64 > len) {
            continue;
        }

        w = snprintf(buf + used, len - used, "%s%s", shown ? ", "
                     : " (the tables there: ", o[i].name);
        if (w > 0 && (size_t) w < len - used) {
            used += (size_t) w;
            shown++;
        }
    }

    if (shown) {
        (void) snprintf(buf + used, len - used, ")");

    } else if (!known) {
        (void) snprintf(buf, len, " (no database \"%.*s\")", (int) dlen,
                        pattern);
    }
}


/*
 * Each [source] tables pattern must match a table: one that matches
 * nothing is a typo (or a dropped table), and a snapshot taken without
 * it would be recorded as complete.  The exception is "db.*" on an
 * existing database: its tables may all come later, and then arrive
 * whole through the binlog.
 */
static void
cdc_check_patterns(MYSQL *mysql, const cdc_config_t *cf,
    const unsigned char *skip, cdc_problems_t *p)
{
    char              name[520], hint[400], err[300];
    size_t            i, j, n, plen;
    const char       *pat;
    cdc_check_obj_t  *o;

    if (cdc_check_objs(mysql, &o, &n, err, sizeof(err)) != 0) {
        cdc_problem(p, "%s", err);
        return;
    }

    for (i = 0; i < cf->src_ntables; i++) {
        pat = cf->src_tables[i];
        plen = strlen(pat);

        if (skip[i]) {
            continue;
        }

        for (j = 0; j < n; j++) {
            if (o[j].name && o[j].table) {
                (void) snprintf(name, sizeof(name), "%s.%s", o[j].db,
                                o[j].name);
                if (fnmatch(pat, name, 0) == 0) {
                    break;
                }
            }

            if (plen > 2 && strcmp(pat + plen - 2, ".*") == 0) {
                (void) snprintf(name, sizeof(name), "%.*s", (int) plen - 2,
                                pat);
                if (fnmatch(name, o[j].db, 0) == 0) {
                    break;
                }
            }
        }

        if (j == n) {
            cdc_check_pattern_hint(pat, o, n, hint, sizeof(hint));
            cdc_problem(p, "[source] tables \"%s\" matches no table on "
                        "the source%s: fix or remove the pattern", pat,
                        hint);
        }
    }

    cdc_check_objs_free(o, n);
}


int
cdc_source_check_conn(MYSQL *mysql, const cdc_config_t *cf, char *err,
    size_t errlen)
{
    char            v[5][64], version[64];
    unsigned char  *skip;
    int             has, mariadb;
    size_t          i;
    const char     *user;
    cdc_problems_t  p;

    p.buf = err;
    p.len = errlen;
    p.used = 0;
    p.n = 0;

    if (errlen > 0) {
        err[0] = '\0';
    }

    user = cf->src_user ? cf->src_user : "";

    if (cdc_check_vars(mysql, "SELECT @@version", &version, 1, err, errlen)
        != 0)
    {
        return -1;
    }

    mariadb = strstr(version, "MariaDB") != NULL;

    if (cdc_check_vars(mysql, "SELECT @@global.log_bin, "
                       "@@global.binlog_format, @@global.binlog_row_image",
                       v, 3, err, errlen) != 0)
    {
        return -1;
    }

    if (strcmp(v[0], "1") != 0 && strcasecmp(v[0], "ON") != 0) {
        cdc_problem(&p, "log_bin is OFF: start the server with --log-bin "
                    "(log_bin = ON, or log_bin = /path/binlog in my.cnf) "
                    "and restart");
    }

    if (strcasecmp(v[1], "ROW") != 0) {
        cdc_problem(&p, "binlog_format is %s, must be ROW: set "
                    "binlog_format = ROW in my.cnf (and SET GLOBAL "
                    "binlog_format = 'ROW')", v[1]);
    }

    if (strcasecmp(v[2], "FULL") != 0) {
        cdc_problem(&p, "binlog_row_image is %s, must be FULL: set "
                    "binlog_row_image = FULL in my.cnf (and SET GLOBAL "
                    "binlog_row_image = 'FULL')", v[2]);
    }

    if (cdc_check_vars(mysql, "SELECT @@global.binlog_row_metadata",
                       &v[3], 1, NULL, 0) != 0)
    {
        cdc_problem(&p, "binlog_row_metadata is not supported by this "
                    "server (%s): MariaDB >= 10.5 or MySQL >= 8.0.1 is "
                    "needed", version);

    } else if (strcasecmp(v[3], "FULL") != 0) {
        cdc_problem(&p, "binlog_row_metadata is %s, must be FULL: set "
                    "binlog_row_metadata = FULL in my.cnf (and SET GLOBAL "
                    "binlog_row_metadata = 'FULL')", v[3]);
    }

    if (cdc_check_has_grant(mysql, "REPLICATION SLAVE", &has, err, errlen)
        != 0)
    {
        return -1;
    }

    if (!has) {
        cdc_problem(&p, "user \"%s\" lacks REPLICATION SLAVE: run GRANT "
                    "REPLICATION SLAVE ON *.* TO '%s'@'%%'", user, user);
    }

    /* REPLICATION CLIENT is BINLOG MONITOR since MariaDB 10.5 */
    if (mysql_query(mysql, "SHOW MASTER STATUS") != 0) {
        if (mysql_errno(mysql) == 1227 || mysql_errno(mysql) == 1045) {
            cdc_problem(&p, "user \"%s\" lacks REPLICATION CLIENT: run "
                        "GRANT REPLICATION CLIENT ON *.* TO '%s'@'%%'%s",
                        user, user, mariadb ? " (BINLOG MONITOR on MariaDB "
                        ">= 10.5)" : "");
        } else {
            cdc_problem(&p, "SHOW MASTER STATUS: %s (%u)",
                        mysql_error(mysql), mysql_errno(mysql));
        }

    } else {
        MYSQL_RES  *res;

        res = mysql_store_result(mysql);
        if (res) {
            mysql_free_result(res);
        }
    }

    skip = calloc(cf->src_ntables + 1, 1);
    if (skip == NULL) {
        return cdc_error(err, errlen, "out of memory");
    }

    for (i = 0; i < cf->src_ntables; i++) {
        skip[i] = (unsigned char) cdc_check_select(mysql, cf->src_tables[i],
                                                   user, &p);
    }

    cdc_check_patterns(mysql, cf, skip, &p);
    free(skip);

    if (!mariadb) {
        cdc_log_info("source is %s: GTID start (uuid:n) is not supported, "
                     "positions are file:pos", version);
    }

    if (p.n > 0) {
        return -1;
    }

    return 0;
}


int
cdc_source_check_server(const cdc_config_t *cf, char *err, size_t errlen)
{
    MYSQL  *mysql;
    int     rc;

    mysql = cdc_source_connect(cf, 30, err, errlen);
    if (mysql == NULL) {
        return -1;
    }

    rc = cdc_source_check_conn(mysql, cf, err, errlen);
    mysql_close(mysql);

    return rc;
}
