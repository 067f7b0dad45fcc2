/*
 * cdc-bridge verify: what verify.c and verify_key.c share.
 *
 * Keyset pagination walks MySQL and PostgreSQL in one key order, and the
 * merge compares the canonical key texts in that same order.  How a key
 * column is ordered, bounded and compared depends on its class:
 *
 *   class      MySQL ORDER BY / bound     PostgreSQL ORDER BY / bound
 *   NUM        col, 123.45                col, $n          exact decimal
 *   FLOAT      col, 1.5e3                 col, $n          as numbers
 *   TEXT       BINARY CONVERT(col USING   col::text COLLATE "C", $n
 *              utf8mb4), 'text'                            bytes (UTF-8)
 *   TIME       col, '2024-01-01 10:00:00' col, $n          bytes
 *   INTERVAL   col, '-1:00:00.250000'     col, $n µs       microseconds
 *   BYTES      col, X'00ff'               col, decode()    lowercase hex
 *   BITS       col, b'0101'               col, $n          n binary digits
 *
 * Only text gets COLLATE "C" (on a date it is SQLSTATE 42804).  A zero
 * date, canonical NULL, bounds MySQL as the zero date and PostgreSQL as
 * -infinity: it sorts first on both sides.
 */

#ifndef CDC_SINK_VERIFY_H
#define CDC_SINK_VERIFY_H

#include <stddef.h>

#include <libpq-fe.h>
#include <mysql.h>

#include "sink/sink.h"


typedef enum {
    CDC_VERIFY_KEY_NUM = 0,
    CDC_VERIFY_KEY_FLOAT,
    CDC_VERIFY_KEY_TEXT,
    CDC_VERIFY_KEY_TIME,
    CDC_VERIFY_KEY_INTERVAL,
    CDC_VERIFY_KEY_BYTES,
    CDC_VERIFY_KEY_BITS
} cdc_verify_key_t;


typedef struct {
    char              *src;         /* source column name */
    long               dst;         /* target column index */
    int                pk;          /* key position, 1-based, or 0 */
    cdc_pg_kind_t      kind;
    const char        *mysql_type;  /* data_type */
    int                is_json;
    int                bits;
    cdc_verify_key_t   key;         /* how the key column is ordered */
} cdc_verify_col_t;


/* The key class of a target column kind. */
cdc_verify_key_t cdc_verify_key_class(cdc_pg_kind_t kind);

/* Compares two canonical key values of a class as both databases order
   them; NULL (a zero date) sorts first. */
int cdc_verify_key_value_cmp(cdc_verify_key_t key, const char *a,
    const char *b);

/* Compares decimal texts exactly: "-0.50" < "-0" == "0" < "0.001". */
int cdc_verify_num_cmp(const char *a, const char *b);

/* The MySQL expression a key column is ordered and bounded by. */
void cdc_verify_src_key_expr(cdc_sql_t *q, const cdc_verify_col_t *c);

/* The MySQL literal for canonical key value v (my escapes text; it may
   be NULL for other classes).  Returns 0, or -1 when v does not have
   the class's form. */
int cdc_verify_src_key_value(cdc_sql_t *q, MYSQL *my,
    const cdc_verify_col_t *c, const char *v);

/* The PostgreSQL expression a key column (quoted name qname of table
   alias cdc_t) is ordered and bounded by. */
void cdc_verify_dst_key_expr(cdc_sql_t *q, const cdc_verify_col_t *c,
    const char *qname);

/* Parameter $n for canonical key value v; *param gets its text. */
void cdc_verify_dst_key_param(cdc_sql_t *q, const cdc_verify_col_t *c,
    size_t n, const char *v, const char **param);

/* "[-]H:MM:SS.ffffff" for a TIME of us microseconds. */
void cdc_verify_time_text(long long us, char *buf, size_t len);

/*
 * Replaces each non-NULL JSON text vals[i] (malloc()ed) by the text
 * PostgreSQL's jsonb prints for it, the form the target stores: numbers
 * as numeric (exact, no exponent), keys sorted and deduplicated.  A value
 * jsonb rejects stays as it is.  Returns 0, or -1 with err.
 */
int cdc_verify_json_normalize(PGconn *pg, char **vals, size_t n, char *err,
    size_t errlen);


#endif /* CDC_SINK_VERIFY_H */
