/*
 * cdc-bridge sink: the MySQL -> PostgreSQL type map, and the conversion of
 * a change's JSON value (the forms of docs/events.md) to the text
 * PostgreSQL reads for the target column.  Pure functions: no database.
 *
 *   MySQL                          PostgreSQL
 *   TINYINT, SMALLINT              smallint
 *   SMALLINT UNSIGNED, MEDIUMINT   integer
 *   INT                            integer
 *   INT UNSIGNED                   bigint
 *   BIGINT                         bigint
 *   BIGINT UNSIGNED                numeric(20)
 *   DECIMAL(p,s)                   numeric(p,s)
 *   FLOAT / DOUBLE                 real / double precision
 *   BIT(n)                         bit varying(n)
 *   DATE                           date
 *   DATETIME(fsp)                  timestamp(fsp) without time zone
 *   TIMESTAMP(fsp)                 timestamp(fsp) with time zone
 *   TIME(fsp)                      interval (TIME reaches 838:59:59)
 *   YEAR                           smallint
 *   CHAR(n), VARCHAR(n)            varchar(n)
 *   TINYTEXT .. LONGTEXT           text
 *   BINARY, VARBINARY, *BLOB       bytea
 *   JSON (MySQL; MariaDB's JSON    jsonb
 *     alias with CHECK json_valid)
 *   ENUM, SET                      text (label; comma-joined labels)
 *   GEOMETRY and its subtypes      bytea (the WKB; the SRID is not kept)
 *   UUID, INET4, INET6 (MariaDB)   uuid, inet (from their text forms)
 *
 * Values: zero and partial dates ("0000-00-00", "2024-00-10", year 0)
 * become NULL, since PostgreSQL has no such dates; base64 becomes bytea;
 * GEOMETRY {"srid":N,"wkb":"…"} becomes its WKB as bytea; everything else
 * passes as the exact text of the event.
 */

#ifndef CDC_SINK_TYPEMAP_H
#define CDC_SINK_TYPEMAP_H

#include <stddef.h>

#include "sink/json.h"


typedef enum {
    CDC_PG_TEXT = 0,            /* passes as the event's text */
    CDC_PG_BYTEA,
    CDC_PG_DATE,
    CDC_PG_TIMESTAMP,
    CDC_PG_TIMESTAMPTZ,
    CDC_PG_INTERVAL,
    CDC_PG_BIT,
    CDC_PG_JSON,
    CDC_PG_BOOL,
    CDC_PG_NUMBER,              /* integers, numeric */
    CDC_PG_FLOAT4,
    CDC_PG_FLOAT8,
    CDC_PG_INET,                /* inet, cidr: passes as text */
    CDC_PG_UUID                 /* passes as text */
} cdc_pg_kind_t;


/* One column as information_schema.COLUMNS describes it. */
typedef struct {
    const char  *data_type;     /* DATA_TYPE, e.g. "bigint" */
    const char  *column_type;   /* COLUMN_TYPE, e.g. "bigint(20) unsigned" */
    long         char_length;   /* CHARACTER_MAXIMUM_LENGTH, -1 if none */
    int          precision;     /* NUMERIC_PRECISION, -1 if none */
    int          scale;         /* NUMERIC_SCALE, -1 if none */
    int          fsp;           /* DATETIME_PRECISION, -1 if none */
    int          is_json;       /* MariaDB: CHECK (json_valid(col)) */
} cdc_mysql_type_t;


/*
 * The PostgreSQL type for a MySQL column, e.g. "numeric(20)", into buf.
 * Returns 0, or -1 with "unsupported MySQL type \"…\"" in err.
 */
int cdc_typemap_pg_type(const cdc_mysql_type_t *t, char *buf, size_t len,
    char *err, size_t errlen);

/* The conversion class of a PostgreSQL type as format_type() prints it. */
cdc_pg_kind_t cdc_typemap_kind(const char *pg_type);

/*
 * The text PostgreSQL reads for value v into a column of kind: *out is
 * NULL for SQL NULL, else NUL-terminated text of *outlen bytes allocated
 * in a (or pointing into v).  Returns 0, or -1 with the reason in err.
 */
int cdc_typemap_value(const cdc_jv_t *v, cdc_pg_kind_t kind,
    cdc_jv_arena_t *a, const char **out, size_t *outlen, char *err,
    size_t errlen);

/* Is this DATE/DATETIME text a zero or partial date (-> NULL)? */
int cdc_typemap_zero_date(const char *s, size_t len);


#endif /* CDC_SINK_TYPEMAP_H */
