/*
 * event: the Debezium-compatible change envelope, written as JSON text with
 * a hand-written appender into a reusable buffer (no DOM, no per-value
 * malloc).  docs/events.md is the contract with the sink: every column
 * type's JSON form, the envelope, keys, the timezone rule.
 *
 *   topic  <prefix>.<db>.<table>
 *   key    {"id":1}   (the key columns: the PRIMARY KEY, else the first
 *                      UNIQUE NOT NULL key, as the TABLE_MAP marks it and
 *                      the snapshot chooses it; JSON null without a key)
 *   value  {"before":{…}|null,"after":{…}|null,
 *           "source":{"version":…,"connector":"mysql","name":<prefix>,
 *                     "ts_ms":…,"db":…,"table":…,"server_id":…,
 *                     "gtid":…|null,"file":…,"pos":…,"row":…,
 *                     "snapshot":"false"|"true"|"last"},
 *           "op":"c"|"u"|"d"|"r","ts_ms":…}
 *
 * Two producers use the same value forms: the binlog stream
 * (cdc_event_put_binlog_value, from decoded row images) and the snapshot
 * (cdc_event_put_sql_value, from text-protocol result sets).
 */

#ifndef CDC_EVENT_H
#define CDC_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include "binlog/binlog.h"


#define CDC_EVENT_VERSION  "cdc-bridge-1.0"


/* ------------------------------------------------------------------ */
/* the appender (cdc_buf_t is declared in binlog/binlog.h)             */

/* b->len = 0, keeping the memory */
#define cdc_buf_reset(b)  ((b)->len = 0)

int cdc_buf_putc(cdc_buf_t *b, char c);
int cdc_buf_puts(cdc_buf_t *b, const char *s);
int cdc_buf_put_i64(cdc_buf_t *b, int64_t v);
int cdc_buf_put_u64(cdc_buf_t *b, uint64_t v);

/* shortest text that reads back as the same double ("%.17g" trimmed);
   NaN and infinities (impossible in MySQL) become null */
int cdc_buf_put_double(cdc_buf_t *b, double v);
/* shortest text that reads back as the same float */
int cdc_buf_put_float(cdc_buf_t *b, float v);

/*
 * A JSON string with quotes: s is UTF-8; " \ and control characters are
 * escaped (\n \t \r \b \f, others \u00XX); invalid UTF-8 sequences are
 * replaced with U+FFFD so the output is always valid JSON.
 */
int cdc_json_put_str(cdc_buf_t *b, const char *s, size_t len);

/*
 * A JSON string with quotes from text in MySQL collation charset: utf8mb3
 * and utf8mb4 as-is, latin1 (MySQL's latin1 is cp1252) and ascii mapped
 * to UTF-8 directly, other charsets converted with iconv(3) when it knows
 * them, else treated as UTF-8.  charset 0 (unknown) is utf8mb4.
 */
int cdc_json_put_text(cdc_buf_t *b, unsigned charset, const char *s,
    size_t len);

/* "<base64 of p>" (RFC 4648, padded), quotes included */
int cdc_json_put_base64(cdc_buf_t *b, const uint8_t *p, size_t len);

/* "0101…": nbits characters from big-endian bytes p[0..len) */
int cdc_json_put_bits(cdc_buf_t *b, const uint8_t *p, size_t len,
    unsigned nbits);

/* {"srid":N,"wkb":"<base64>"} from MySQL's internal form: 4-byte LE SRID
   followed by WKB */
int cdc_json_put_geometry(cdc_buf_t *b, const uint8_t *p, size_t len);


/* ------------------------------------------------------------------ */
/* column values                                                        */

/*
 * Appends the JSON form of one decoded binlog value of column c (see
 * docs/events.md).  before: the same column's before-image value, used
 * to apply a PARTIAL_UPDATE JSON diff (may be NULL).  scratch: a buffer
 * the call may use for intermediate text (JSON documents, diffs).
 * A CDC_V_ABSENT value must not be passed (callers leave the field out).
 */
int cdc_event_put_binlog_value(cdc_buf_t *b, const cdc_binlog_column_t *c,
    const cdc_binlog_value_t *v, const cdc_binlog_value_t *before,
    cdc_buf_t *scratch, char *err, size_t errlen);

/*
 * The text form of a MariaDB UUID ("6ccd780c-baba-1026-9564-5b8c656024db",
 * the bytes in the order the binlog and SELECT HEX() show them), INET4
 * ("10.1.2.3") or INET6 ("::1", RFC 5952 as SELECT shows it) value
 * (native: CDC_NATIVE_*), quotes included.  Shorter values are padded
 * with zero bytes (the binlog drops them from BINARY(n)); a longer one is
 * written as base64, as any binary value.
 */
int cdc_event_put_native(cdc_buf_t *b, unsigned native, const uint8_t *p,
    size_t len);

/*
 * Appends the JSON form of a text-protocol value (mysql_fetch_row) for a
 * column described by MYSQL_FIELD's type, flags, charsetnr and decimals,
 * so the snapshot writes exactly what the stream writes.  s == NULL is
 * SQL NULL.  Requires the session to use time_zone '+00:00' (TIMESTAMP
 * values are written as UTC) and character_set_results utf8mb4 (text is
 * taken as UTF-8).  Rules: integer and YEAR types → numbers as given
 * (YEAR "0000" → 0);
 * DECIMAL → string; FLOAT/DOUBLE → numbers, re-printed shortest;
 * DATE/DATETIME/TIME → strings as given; TIMESTAMP "Y-m-d H:M:S[.f]" →
 * "Y-m-dTH:M:S[.f]Z"; BIT → bit string of the field length; JSON →
 * string; GEOMETRY → {"srid","wkb"}; ENUM/SET (as STRING with the
 * ENUM/SET flag) → label string; binary charset (63) → base64; other
 * text → string.
 */
int cdc_event_put_sql_value(cdc_buf_t *b, unsigned mysql_type,
    unsigned flags, unsigned charsetnr, unsigned length, const char *s,
    size_t len);

/* MYSQL_FIELD flags that cdc_event_put_sql_value reads */
#define CDC_SQL_UNSIGNED_FLAG   32
#define CDC_SQL_BINARY_FLAG     128
#define CDC_SQL_ENUM_FLAG       256
#define CDC_SQL_SET_FLAG        2048


/* ------------------------------------------------------------------ */
/* topic, key, envelope                                                 */

/* <prefix>.<db>.<table> into b (appended) */
int cdc_event_topic(cdc_buf_t *b, const char *prefix, const char *db,
    const char *table);

/*
 * The column name for column i (0-based) of t: its name, or "col_<i+1>"
 * when the binlog carries no names.  buf is used for the positional form.
 */
const char *cdc_event_column_name(const cdc_binlog_table_t *t, unsigned i,
    char *buf, size_t len);

/*
 * A row object {"a":…,"b":…} from a binlog image: every column present
 * in the image, in table order (absent columns are left out).
 */
int cdc_event_put_binlog_row(cdc_buf_t *b, const cdc_binlog_table_t *t,
    const cdc_binlog_value_t *vals, const cdc_binlog_value_t *before,
    cdc_buf_t *scratch, char *err, size_t errlen);

/*
 * The key from a row image: {"<pk col>":value,…} in primary-key order,
 * or null when t has no primary key (or a pk column is absent).
 */
int cdc_event_put_binlog_key(cdc_buf_t *b, const cdc_binlog_table_t *t,
    const cdc_binlog_value_t *vals, cdc_buf_t *scratch, char *err,
    size_t errlen);


/* the source block's fields */
typedef struct {
    const char  *name;          /* topic prefix / logical server name */
    uint64_t     ts_ms;         /* commit time at the source (ms) */
    const char  *db;
    const char  *table;
    uint32_t     server_id;     /* the originating server (event header) */
    const char  *gtid;          /* NULL: JSON null */
    const char  *file;
    uint64_t     pos;           /* start of the rows event (its TABLE_MAP
                                   for snapshots: the snapshot position) */
    unsigned     row;           /* row number within the event, from 0 */
    const char  *snapshot;      /* "false", "true", "last" */
} cdc_event_source_t;


/*
 * The value envelope, written in three steps so the row objects go
 * straight into b with no copy:
 *   cdc_event_value_begin(b)        {"before":
 *   … before row object or "null" …
 *   cdc_event_value_after(b)        ,"after":
 *   … after row object or "null" …
 *   cdc_event_value_end(b, src, op, now_ms)
 *                                   ,"source":{…},"op":"c","ts_ms":N}
 */
int cdc_event_value_begin(cdc_buf_t *b);
int cdc_event_value_after(cdc_buf_t *b);
int cdc_event_value_end(cdc_buf_t *b, const cdc_event_source_t *src,
    char op, uint64_t now_ms);

/* wall clock in ms, for the envelope's ts_ms */
uint64_t cdc_event_now_ms(void);


#endif /* CDC_EVENT_H */
