/*
 * cdc-bridge run: DDL statements that empty a captured table (TRUNCATE,
 * DROP TABLE) become truncate events on every partition of its topic.
 */

#ifndef CDC_SOURCE_DDL_H
#define CDC_SOURCE_DDL_H

#include <stddef.h>

#include "source/source.h"
#include "source/stream.h"


#define CDC_DDL_MAX_TABLES  256


typedef struct {
    char         db[256];
    char         table[256];
    const char  *kind;          /* "TRUNCATE", "DROP TABLE", "CREATE OR
                                   REPLACE TABLE" */
} cdc_ddl_table_t;


/*
 * The tables a TRUNCATE [TABLE], DROP TABLE [IF EXISTS] or CREATE OR
 * REPLACE TABLE statement empties (db: the statement's default
 * database), at most max; 0 for any other statement.  Pure: no I/O.
 */
int cdc_ddl_parse(const char *db, const char *sql, size_t len,
    cdc_ddl_table_t *tables, size_t max);

/* 1 if the statement drops or truncates partitions (rows go without
   row events) */
int cdc_ddl_drops_partition(const char *sql, size_t len);

/* sends t's truncate event to every partition of its topic; -1 stops */
int cdc_ddl_truncate(cdc_run_t *r, const cdc_ddl_table_t *t,
    const cdc_stream_pos_t *pos);


#endif /* CDC_SOURCE_DDL_H */
