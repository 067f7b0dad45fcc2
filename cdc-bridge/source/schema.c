/*
 * What the snapshot and the stream must agree on about a source table,
 * read from the server: its columns in table order (invisible ones too)
 * with their declared types, and its key by the binlog's rule.
 *
 * The key rule is MariaDB's (TABLE_SHARE::primary_key, which the
 * TABLE_MAP's SIMPLE_PRIMARY_KEY metadata carries): the PRIMARY KEY, else
 * the first UNIQUE key, in the server's key order (what SHOW INDEX lists),
 * whose columns are all NOT NULL, none of them a prefix, and that is not
 * a long unique (a HASH key outside the MEMORY engine).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "event.h"
#include "log.h"
#include "source/source.h"


unsigned
cdc_source_native_type(const char *data_type)
{
    if (strcasecmp(data_type, "uuid") == 0) {
        return CDC_NATIVE_UUID;
    }

    if (strcasecmp(data_type, "inet4") == 0) {
        return CDC_NATIVE_INET4;
    }

    if (strcasecmp(data_type, "inet6") == 0) {
        return CDC_NATIVE_INET6;
    }

    return CDC_NATIVE_NONE;
}


void
cdc_source_columns_free(cdc_src_col_t *cols, size_t n)
{
    size_t  i;

    if (cols == NULL) {
        return;
    }

    for (i = 0; i < n; i++) {
        free(cols[i].name);
        free(cols[i].data_type);
    }

    free(cols);
}


static MYSQL_RES *
cdc_source_schema_query(MYSQL *mysql, const char *what, const char *db,
    const char *table, const char *fmt, char *err, size_t errlen)
{
    char        q[1400], edb[520], etb[520];
    MYSQL_RES  *res;

    if (strlen(db) >= 256 || strlen(table) >= 256) {
        cdc_error(err, errlen, "%s of %s.%s: name too long", what, db,
                  table);
        return NULL;
    }

    mysql_real_escape_string(mysql, edb, db, strlen(db));
    mysql_real_escape_string(mysql, etb, table, strlen(table));
    snprintf(q, sizeof(q), fmt, edb, etb);

    if (mysql_query(mysql, q) != 0) {
        cdc_error(err, errlen, "%s of %s.%s: %s (%u)", what, db, table,
                  mysql_error(mysql), mysql_errno(mysql));
        return NULL;
    }

    res = mysql_store_result(mysql);
    if (res == NULL) {
        cdc_error(err, errlen, "%s of %s.%s: no result", what, db, table);
    }

    return res;
}


int
cdc_source_columns(MYSQL *mysql, const char *db, const char *table,
    cdc_src_col_t **cols, size_t *n, char *err, size_t errlen)
{
    MYSQL_RES      *res;
    MYSQL_ROW       row;
    cdc_src_col_t  *c;
    size_t          i;

    *cols = NULL;
    *n = 0;

    res = cdc_source_schema_query(mysql, "columns", db, table,
                                  "SELECT COLUMN_NAME, LOWER(DATA_TYPE) "
                                  "FROM information_schema.COLUMNS WHERE "
                                  "TABLE_SCHEMA = '%s' AND TABLE_NAME = "
                                  "'%s' ORDER BY ORDINAL_POSITION",
                                  err, errlen);
    if (res == NULL) {
        return -1;
    }

    c = calloc(mysql_num_rows(res) + 1, sizeof(cdc_src_col_t));
    if (c == NULL) {
        mysql_free_result(res);
        return cdc_error(err, errlen, "out of memory");
    }

    for (i = 0; (row = mysql_fetch_row(res)) != NULL; i++) {
        c[i].name = strdup(row[0] ? row[0] : "");
        c[i].data_type = strdup(row[1] ? row[1] : "");
        if (c[i].name == NULL || c[i].data_type == NULL) {
            mysql_free_result(res);
            cdc_source_columns_free(c, i + 1);
            return cdc_error(err, errlen, "out of memory");
        }
        c[i].native = cdc_source_native_type(c[i].data_type);
    }

    mysql_free_result(res);
    *cols = c;
    *n = i;

    return 0;
}


/* a SHOW INDEX row: may its key be the binlog's key? */
static int
cdc_source_key_usable(MYSQL_ROW row, int memory)
{
    /* 1 Non_unique, 2 Key_name, 4 Column_name, 7 Sub_part, 9 Null,
       10 Index_type */
    if (strcmp(row[2], "PRIMARY") == 0) {
        return 1;
    }

    if (row[1] == NULL || strcmp(row[1], "0") != 0 || row[7] != NULL
        || row[4] == NULL)
    {
        return 0;
    }

    if (row[9] != NULL && strcmp(row[9], "YES") == 0) {
        return 0;
    }

    return !(row[10] && strcmp(row[10], "HASH") == 0 && !memory);
}


static void
cdc_source_key_clear(char **c, size_t *k)
{
    while (*k > 0) {
        (*k)--;
        free(c[*k]);
        c[*k] = NULL;
    }
}


static int
cdc_source_engine_is_memory(MYSQL *mysql, const char *db,
    const char *table, char *err, size_t errlen)
{
    MYSQL_RES  *res;
    MYSQL_ROW   row;
    int         memory;

    res = cdc_source_schema_query(mysql, "engine", db, table,
                                  "SELECT ENGINE FROM information_schema."
                                  "TABLES WHERE TABLE_SCHEMA = '%s' AND "
                                  "TABLE_NAME = '%s'", err, errlen);
    if (res == NULL) {
        return -1;
    }

    row = mysql_fetch_row(res);
    memory = row && row[0] && (strcasecmp(row[0], "MEMORY") == 0
                               || strcasecmp(row[0], "HEAP") == 0);
    mysql_free_result(res);

    return memory;
}


/* SHOW INDEX FROM `db`.`table` (backticks doubled) */
static MYSQL_RES *
cdc_source_show_index(MYSQL *mysql, const char *db, const char *table,
    char *err, size_t errlen)
{
    char         q[1100], *o;
    const char  *s, *names[2];
    int          i;
    MYSQL_RES   *res;

    names[0] = db;
    names[1] = table;
    o = q + snprintf(q, sizeof(q), "SHOW INDEX FROM ");

    for (i = 0; i < 2; i++) {
        *o++ = '`';
        for (s = names[i]; *s && o < q + sizeof(q) - 8; s++) {
            if (*s == '`') {
                *o++ = '`';
            }
            *o++ = *s;
        }
        *o++ = '`';
        *o++ = i ? '\0' : '.';
    }

    if (mysql_query(mysql, q) != 0) {
        cdc_error(err, errlen, "keys of %s.%s: %s (%u)", db, table,
                  mysql_error(mysql), mysql_errno(mysql));
        return NULL;
    }

    res = mysql_store_result(mysql);
    if (res == NULL) {
        cdc_error(err, errlen, "keys of %s.%s: no result", db, table);
    }

    return res;
}


int
cdc_source_key(MYSQL *mysql, const char *db, const char *table,
    char ***cols, size_t *n, char *err, size_t errlen)
{
    MYSQL_RES   *res;
    MYSQL_ROW    row;
    char       **c, key[256];
    size_t       k;
    int          memory, skip;

    *cols = NULL;
    *n = 0;

    if (strlen(db) >= 256 || strlen(table) >= 256) {
        return cdc_error(err, errlen, "keys of %s.%s: name too long", db,
                         table);
    }

    memory = cdc_source_engine_is_memory(mysql, db, table, err, errlen);
    if (memory < 0) {
        return -1;
    }

    res = cdc_source_show_index(mysql, db, table, err, errlen);
    if (res == NULL) {
        return -1;
    }

    if (mysql_num_fields(res) < 11) {
        mysql_free_result(res);
        return cdc_error(err, errlen, "keys of %s.%s: SHOW INDEX has %u "
                         "columns", db, table, mysql_num_fields(res));
    }

    c = calloc(mysql_num_rows(res) + 1, sizeof(char *));
    if (c == NULL) {
        mysql_free_result(res);
        return cdc_error(err, errlen, "out of memory");
    }

    k = 0;
    key[0] = '\0';
    skip = 1;

    /* rows come key by key, parts in order: keep the first usable key */
    while ((row = mysql_fetch_row(res)) != NULL && row[2] != NULL) {
        if (strcmp(row[2], key) != 0) {
            if (k > 0 && !skip) {
                break;
            }
            snprintf(key, sizeof(key), "%s", row[2]);
            cdc_source_key_clear(c, &k);
            skip = 0;
        }

        if (skip || !cdc_source_key_usable(row, memory)) {
            skip = 1;
            continue;
        }

        c[k] = strdup(row[4] ? row[4] : "");
        if (c[k] == NULL) {
            mysql_free_result(res);
            cdc_source_key_clear(c, &k);
            free(c);
            return cdc_error(err, errlen, "out of memory");
        }
        k++;
    }

    mysql_free_result(res);

    if (skip) {
        cdc_source_key_clear(c, &k);
    }

    *cols = c;
    *n = k;

    return 0;
}


/* a binlog column that may hold a MariaDB UUID/INET4/INET6 */
static int
cdc_source_maybe_native(const cdc_binlog_column_t *c)
{
    return c->type == CDC_MT_STRING && (c->meta == 4 || c->meta == 16)
           && (c->charset == CDC_CHARSET_BINARY || c->charset == 0);
}


int
cdc_source_may_have_native(const cdc_binlog_table_t *t)
{
    unsigned  i;

    for (i = 0; i < t->ncols; i++) {
        if (cdc_source_maybe_native(&t->cols[i])) {
            return 1;
        }
    }

    return 0;
}


int
cdc_source_mark_native(MYSQL *mysql, cdc_binlog_table_t *t, char *err,
    size_t errlen)
{
    cdc_src_col_t  *cols;
    size_t          n, j;
    unsigned        i;
    char            tmp[24];
    const char     *name;

    if (cdc_source_columns(mysql, t->db, t->table, &cols, &n, err, errlen)
        != 0)
    {
        return -1;
    }

    for (i = 0; i < t->ncols; i++) {
        if (!cdc_source_maybe_native(&t->cols[i])) {
            continue;
        }

        name = cdc_event_column_name(t, i, tmp, sizeof(tmp));

        /* by name (by position without names), and only when the
           binlog's shape is the declared type's */
        for (j = 0; j < n; j++) {
            if ((t->cols[i].name ? strcmp(cols[j].name, name) == 0 : j == i)
                && cols[j].native != CDC_NATIVE_NONE
                && t->cols[i].meta
                   == (cols[j].native == CDC_NATIVE_INET4 ? 4 : 16))
            {
                t->cols[i].native = cols[j].native;
            }
        }
    }

    cdc_source_columns_free(cols, n);

    return 0;
}
