/*
 * cdc-bridge sink: reads the exact column types of a source table from
 * the source MySQL's information_schema ([source] host, port, user,
 * password), for create_tables and ADD COLUMN.  The sink needs SELECT on
 * information_schema only (every user has it for tables it can see).
 */

#include <stdlib.h>
#include <string.h>

#include <mysql.h>

#include "log.h"
#include "sink/sink.h"
#include "source/source.h"


void *
cdc_source_db_conn(cdc_sink_t *s, char *err, size_t errlen)
{
    MYSQL         *my;
    unsigned int   timeout;

    if (s->mysql) {
        my = s->mysql;
        if (mysql_ping(my) == 0) {
            return my;
        }
        mysql_close(my);
        s->mysql = NULL;
    }

    my = mysql_init(NULL);
    if (my == NULL) {
        cdc_error(err, errlen, "mysql_init: out of memory");
        return NULL;
    }

    timeout = 10;
    mysql_options(my, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
    mysql_options(my, MYSQL_SET_CHARSET_NAME, "utf8mb4");

    if (mysql_real_connect(my, s->cf->src_host, s->cf->src_user,
                           s->cf->src_password, NULL,
                           (unsigned) s->cf->src_port, NULL, 0) == NULL)
    {
        cdc_error(err, errlen, "source mysql %s:%d (for the source types "
                  "create_tables needs): %s", s->cf->src_host,
                  s->cf->src_port, mysql_error(my));
        mysql_close(my);
        return NULL;
    }

    /* verify reads TIMESTAMP values: in UTC, as the events carry them */
    if (mysql_query(my, "SET time_zone = '+00:00'") != 0) {
        cdc_error(err, errlen, "source mysql: %s", mysql_error(my));
        mysql_close(my);
        return NULL;
    }

    s->mysql = my;

    return my;
}


void
cdc_source_db_close(cdc_sink_t *s)
{
    if (s->mysql) {
        mysql_close(s->mysql);
        s->mysql = NULL;
    }
}


static long
cdc_source_db_num(const char *v)
{
    return v ? strtol(v, NULL, 10) : -1;
}


/* the key by the binlog's rule, the one the events carry (schema.c) */
static int
cdc_source_db_key(MYSQL *my, const char *db, const char *table,
    cdc_source_col_t *cols, size_t ncols, char *err, size_t errlen)
{
    char   **key;
    size_t   nkey, i, k;

    if (cdc_source_key(my, db, table, &key, &nkey, err, errlen) != 0) {
        return -1;
    }

    for (k = 0; k < nkey; k++) {
        for (i = 0; i < ncols; i++) {
            if (strcmp(cols[i].name, key[k]) == 0) {
                cols[i].pk = (int) k + 1;
            }
        }
        free(key[k]);
    }

    free(key);

    return 0;
}


int
cdc_source_db_columns(cdc_sink_t *s, const char *db, const char *table,
    cdc_source_col_t **colsp, size_t *ncolsp, char *err, size_t errlen)
{
    char               q[2048], edb[256], etab[256];
    size_t             i, n;
    MYSQL             *my;
    MYSQL_ROW          row;
    MYSQL_RES         *res;
    cdc_source_col_t  *cols, *c;

    *colsp = NULL;
    *ncolsp = 0;

    if (strlen(db) >= 120 || strlen(table) >= 120) {
        return cdc_error(err, errlen, "name too long: %s.%s", db, table);
    }

    my = cdc_source_db_conn(s, err, errlen);
    if (my == NULL) {
        return -1;
    }

    mysql_real_escape_string(my, edb, db, strlen(db));
    mysql_real_escape_string(my, etab, table, strlen(table));

    /* the CHECK json_valid() subquery finds MariaDB's JSON columns,
       which information_schema reports as longtext */
    snprintf(q, sizeof(q),
             "SELECT c.COLUMN_NAME, LOWER(c.DATA_TYPE), c.COLUMN_TYPE,"
             " c.CHARACTER_MAXIMUM_LENGTH, c.NUMERIC_PRECISION,"
             " c.NUMERIC_SCALE, c.DATETIME_PRECISION, c.IS_NULLABLE,"
             " NULL,"
             " (SELECT COUNT(*) FROM information_schema.CHECK_CONSTRAINTS x"
             "  WHERE x.CONSTRAINT_SCHEMA = c.TABLE_SCHEMA"
             "  AND x.TABLE_NAME = c.TABLE_NAME"
             "  AND x.CHECK_CLAUSE = CONCAT('json_valid(`', c.COLUMN_NAME,"
             "  '`)')), c.COLUMN_DEFAULT"
             " FROM information_schema.COLUMNS c"
             " WHERE c.TABLE_SCHEMA = '%s' AND c.TABLE_NAME = '%s'"
             " ORDER BY c.ORDINAL_POSITION", edb, etab);

    if (mysql_query(my, q) != 0) {
        return cdc_error(err, errlen, "source mysql: columns of %s.%s: %s",
                         db, table, mysql_error(my));
    }

    res = mysql_store_result(my);
    if (res == NULL) {
        return cdc_error(err, errlen, "source mysql: columns of %s.%s: %s",
                         db, table, mysql_error(my));
    }

    n = (size_t) mysql_num_rows(res);

    if (n == 0) {
        mysql_free_result(res);
        return cdc_error(err, errlen, "source table %s.%s does not exist "
                         "(or the [source] user cannot see it)", db, table);
    }

    cols = calloc(n, sizeof(cdc_source_col_t));
    if (cols == NULL) {
        mysql_free_result(res);
        return cdc_error(err, errlen, "out of memory");
    }

    for (i = 0; i < n && (row = mysql_fetch_row(res)) != NULL; i++) {
        c = &cols[i];
        c->name = strdup(row[0]);
        c->type.data_type = strdup(row[1] ? row[1] : "");
        c->type.column_type = strdup(row[2] ? row[2] : "");
        c->type.char_length = cdc_source_db_num(row[3]);
        c->type.precision = (int) cdc_source_db_num(row[4]);
        c->type.scale = (int) cdc_source_db_num(row[5]);
        c->type.fsp = (int) cdc_source_db_num(row[6]);
        c->nullable = row[7] && strcmp(row[7], "YES") == 0;
        c->pk = row[8] ? (int) strtol(row[8], NULL, 10) : 0;
        c->type.is_json = row[9] && strcmp(row[9], "0") != 0;
        c->def = row[10] ? strdup(row[10]) : NULL;

        if (strcmp(c->type.data_type, "json") == 0) {
            c->type.is_json = 1;
        }

        if (c->name == NULL || c->type.data_type == NULL
            || c->type.column_type == NULL)
        {
            mysql_free_result(res);
            cdc_source_db_free_columns(cols, n);
            return cdc_error(err, errlen, "out of memory");
        }
    }

    mysql_free_result(res);

    *colsp = cols;
    *ncolsp = i;

    if (cdc_source_db_key(my, db, table, cols, i, err, errlen) != 0) {
        cdc_source_db_free_columns(cols, i);
        *colsp = NULL;
        *ncolsp = 0;
        return -1;
    }

    return 0;
}


void
cdc_source_db_free_columns(cdc_source_col_t *cols, size_t ncols)
{
    size_t  i;

    if (cols == NULL) {
        return;
    }

    for (i = 0; i < ncols; i++) {
        free(cols[i].name);
        free((char *) cols[i].type.data_type);
        free((char *) cols[i].type.column_type);
        free(cols[i].def);
    }

    free(cols);
}
