/*
 * binlog: a pure library that turns MySQL/MariaDB binary log bytes into
 * events and typed row values.  It knows nothing of Kafka, PostgreSQL,
 * config or sockets: bytes in, values out.
 *
 * Errors never abort: every call that can fail returns -1 (or NULL) and
 * writes a one-line message naming the event type, the offset and the bad
 * value into the caller's err buffer (redis/git style).  Truncated input
 * is an error, never a read past the end.
 *
 * Memory: parsed events, rows and values are views into the caller's event
 * bytes (no copy, no malloc on the row path); they stay valid as long as
 * those bytes do.  Only table maps own memory (cdc_binlog_table_free).
 *
 * Files: framing.c (headers, FDE, CRC32, small events, file reader),
 * tablemap.c (TABLE_MAP and its optional metadata), rows.c (ROWS events,
 * row images, column values), decimal.c, temporal values in rows.c,
 * jsonbin.c (MySQL binary JSON → text, JSON diffs), payload.c
 * (TRANSACTION_PAYLOAD, zstd), compress.c (MariaDB compressed events,
 * zlib).
 */

#ifndef CDC_BINLOG_H
#define CDC_BINLOG_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>


#define CDC_BINLOG_MAGIC          "\xfe" "bin"
#define CDC_BINLOG_MAGIC_LEN      4
#define CDC_BINLOG_HEADER_LEN     19
#define CDC_BINLOG_CRC_LEN        4
#define CDC_BINLOG_MAX_EVENT      (1024u * 1024u * 1024u)


/* event types (MySQL numbering, MariaDB's 160+) */
enum {
    CDC_BL_UNKNOWN = 0,
    CDC_BL_START_V3 = 1,
    CDC_BL_QUERY = 2,
    CDC_BL_STOP = 3,
    CDC_BL_ROTATE = 4,
    CDC_BL_INTVAR = 5,
    CDC_BL_RAND = 13,
    CDC_BL_USER_VAR = 14,
    CDC_BL_FORMAT_DESCRIPTION = 15,
    CDC_BL_XID = 16,
    CDC_BL_TABLE_MAP = 19,
    CDC_BL_WRITE_ROWS_V0 = 20,
    CDC_BL_UPDATE_ROWS_V0 = 21,
    CDC_BL_DELETE_ROWS_V0 = 22,
    CDC_BL_WRITE_ROWS_V1 = 23,
    CDC_BL_UPDATE_ROWS_V1 = 24,
    CDC_BL_DELETE_ROWS_V1 = 25,
    CDC_BL_INCIDENT = 26,
    CDC_BL_HEARTBEAT = 27,
    CDC_BL_IGNORABLE = 28,
    CDC_BL_ROWS_QUERY = 29,
    CDC_BL_WRITE_ROWS = 30,
    CDC_BL_UPDATE_ROWS = 31,
    CDC_BL_DELETE_ROWS = 32,
    CDC_BL_GTID = 33,
    CDC_BL_ANONYMOUS_GTID = 34,
    CDC_BL_PREVIOUS_GTIDS = 35,
    CDC_BL_TRANSACTION_CONTEXT = 36,
    CDC_BL_VIEW_CHANGE = 37,
    CDC_BL_XA_PREPARE = 38,
    CDC_BL_PARTIAL_UPDATE_ROWS = 39,
    CDC_BL_TRANSACTION_PAYLOAD = 40,
    CDC_BL_HEARTBEAT_V2 = 41,
    CDC_BL_GTID_TAGGED = 42,
    CDC_BL_MARIA_ANNOTATE_ROWS = 160,
    CDC_BL_MARIA_BINLOG_CHECKPOINT = 161,
    CDC_BL_MARIA_GTID = 162,
    CDC_BL_MARIA_GTID_LIST = 163,
    CDC_BL_MARIA_START_ENCRYPTION = 164,
    CDC_BL_MARIA_QUERY_COMPRESSED = 165,
    CDC_BL_MARIA_WRITE_ROWS_COMPRESSED_V1 = 166,
    CDC_BL_MARIA_UPDATE_ROWS_COMPRESSED_V1 = 167,
    CDC_BL_MARIA_DELETE_ROWS_COMPRESSED_V1 = 168,
    CDC_BL_MARIA_WRITE_ROWS_COMPRESSED = 169,
    CDC_BL_MARIA_UPDATE_ROWS_COMPRESSED = 170,
    CDC_BL_MARIA_DELETE_ROWS_COMPRESSED = 171
};

/* header flags */
#define CDC_BL_F_BINLOG_IN_USE    0x0001
#define CDC_BL_F_ARTIFICIAL       0x0020
#define CDC_BL_F_IGNORABLE        0x0080

/* MariaDB GTID flags2 */
#define CDC_BL_GTID_STANDALONE    0x01
#define CDC_BL_GTID_COMMIT_ID     0x02
#define CDC_BL_GTID_PREPARED_XA   0x40   /* XA START … XA PREPARE group */
#define CDC_BL_GTID_COMPLETED_XA  0x80   /* XA COMMIT / XA ROLLBACK group */

/* column types in TABLE_MAP (MySQL numbering) */
enum {
    CDC_MT_DECIMAL = 0,
    CDC_MT_TINY = 1,
    CDC_MT_SHORT = 2,
    CDC_MT_LONG = 3,
    CDC_MT_FLOAT = 4,
    CDC_MT_DOUBLE = 5,
    CDC_MT_NULL = 6,
    CDC_MT_TIMESTAMP = 7,
    CDC_MT_LONGLONG = 8,
    CDC_MT_INT24 = 9,
    CDC_MT_DATE = 10,
    CDC_MT_TIME = 11,
    CDC_MT_DATETIME = 12,
    CDC_MT_YEAR = 13,
    CDC_MT_NEWDATE = 14,
    CDC_MT_VARCHAR = 15,
    CDC_MT_BIT = 16,
    CDC_MT_TIMESTAMP2 = 17,
    CDC_MT_DATETIME2 = 18,
    CDC_MT_TIME2 = 19,
    CDC_MT_VECTOR = 242,
    CDC_MT_JSON = 245,
    CDC_MT_NEWDECIMAL = 246,
    CDC_MT_ENUM = 247,
    CDC_MT_SET = 248,
    CDC_MT_TINY_BLOB = 249,
    CDC_MT_MEDIUM_BLOB = 250,
    CDC_MT_LONG_BLOB = 251,
    CDC_MT_BLOB = 252,
    CDC_MT_VAR_STRING = 253,
    CDC_MT_STRING = 254,
    CDC_MT_GEOMETRY = 255
};

/* well-known collation ids */
#define CDC_CHARSET_BINARY        63


/* growable byte buffer used for JSON text (defined here so this library
   stays independent of event.h; event.h uses the same type) */
typedef struct {
    char    *data;
    size_t   len;
    size_t   cap;
} cdc_buf_t;

int cdc_buf_grow(cdc_buf_t *b, size_t need);
void cdc_buf_free(cdc_buf_t *b);

static inline int
cdc_buf_put(cdc_buf_t *b, const void *p, size_t n)
{
    if (b->cap - b->len < n + 1 && cdc_buf_grow(b, n + 1) != 0) {
        return -1;
    }

    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}


/* ------------------------------------------------------------------ */
/* framing                                                              */

typedef struct {
    uint32_t   timestamp;        /* seconds since the epoch */
    uint8_t    type;
    uint32_t   server_id;
    uint32_t   event_size;       /* header + body + checksum */
    uint32_t   log_pos;          /* end position; 0 for artificial events
                                    and events inside a payload */
    uint16_t   flags;
} cdc_binlog_header_t;


/*
 * What the FORMAT_DESCRIPTION_EVENT says about the events that follow.
 * Start with cdc_binlog_format_init() (assumes a checksum-less v4 log
 * until an FDE is seen); cdc_binlog_event_parse() updates it on each FDE.
 */
typedef struct {
    uint16_t   binlog_version;
    char       server_version[51];
    int        mariadb;          /* server_version says MariaDB */
    int        checksum;         /* 1: events end with a CRC32 */
    int        verify;           /* 1: check CRC32s (default 1) */
    uint8_t    post_header_len[256];
    int        have_fde;
} cdc_binlog_format_t;

void cdc_binlog_format_init(cdc_binlog_format_t *fmt);

/* crc32 (zlib polynomial) of len bytes, continuing from crc (start: 0) */
uint32_t cdc_binlog_crc32(uint32_t crc, const uint8_t *p, size_t len);

/*
 * Reads the 19-byte header at ev[0..len).  Returns 0, or -1 when len is
 * shorter than a header or shorter than header.event_size.
 */
int cdc_binlog_header_parse(cdc_binlog_header_t *h, const uint8_t *ev,
    size_t len, char *err, size_t errlen);


/* a MySQL GTID, 5.6+ (33/34) and 8.4 tagged (42) */
typedef struct {
    uint8_t    flags;
    uint8_t    sid[16];
    int64_t    gno;
    char       tag[33];          /* "" when untagged */
    int64_t    last_committed;
    int64_t    sequence_number;
    uint64_t   immediate_commit_us;   /* 0 when absent (5.6, 5.7) */
} cdc_binlog_mysql_gtid_t;


/*
 * An XA transaction id (formatID, gtrid, bqual), as MariaDB's GTID events
 * and XA_PREPARE events carry it; data views gtrid then bqual.
 */
typedef struct {
    int32_t         format_id;
    uint8_t         gtrid_len;
    uint8_t         bqual_len;
    const uint8_t  *data;
} cdc_binlog_xid_t;

#define CDC_BL_XID_DATA_MAX   128
#define CDC_BL_XID_STR_LEN    (2 * CDC_BL_XID_DATA_MAX + 24)

/* "X'7831',X'',1", as the server writes it in XA COMMIT/ROLLBACK */
void cdc_binlog_xid_to_str(const cdc_binlog_xid_t *x, char *buf,
    size_t len);


/*
 * One parsed event.  body/body_len exclude the header and the CRC32.
 * Pointers are views into the event bytes.  Types without a member here
 * (STOP, INTVAR, unknown types such as Aurora's 100, …) are returned with
 * only the header and body set: callers skip them.
 */
typedef struct {
    cdc_binlog_header_t   h;
    const uint8_t        *body;
    size_t                body_len;

    union {
        struct {
            uint16_t      binlog_version;
            const char   *server_version;   /* NUL-terminated copy in fmt */
            uint32_t      created;
            uint8_t       checksum_alg;     /* 0 none, 1 crc32, 255 n/a */
        } fde;

        struct {
            uint64_t      pos;
            const char   *file;             /* not NUL-terminated */
            size_t        file_len;
        } rotate;

        struct {
            uint32_t      thread_id;
            uint32_t      exec_time;
            uint16_t      error_code;
            const char   *db;               /* not NUL-terminated */
            size_t        db_len;
            const char   *sql;              /* not NUL-terminated */
            size_t        sql_len;
        } query;

        struct {
            uint64_t      xid;
        } xid;

        struct {
            uint64_t      seq;
            uint32_t      domain;
            uint8_t       flags;            /* CDC_BL_GTID_* */
            uint64_t      commit_id;        /* group commit, 0: none */
            cdc_binlog_xid_t  xid;          /* with PREPARED_XA or
                                               COMPLETED_XA */
        } maria_gtid;

        struct {
            uint8_t       one_phase;
            cdc_binlog_xid_t  xid;
        } xa_prepare;

        struct {
            uint32_t      count;
            const uint8_t *list;            /* count × (dom 4, srv 4,
                                               seq 8) */
        } maria_gtid_list;

        struct {
            const char   *text;             /* ANNOTATE_ROWS, ROWS_QUERY,
                                               BINLOG_CHECKPOINT file */
            size_t        len;
        } text;

        cdc_binlog_mysql_gtid_t   gtid;

        struct {
            uint64_t      compression;      /* 0 zstd, 255 none */
            uint64_t      uncompressed_size;
            const uint8_t *data;            /* the compressed frame */
            size_t        len;
        } payload;

        struct {
            uint64_t      table_id;
        } table_map;                        /* full parse: tablemap.c */

        struct {
            uint64_t      table_id;
            uint16_t      flags;            /* 1: STMT_END_F */
        } rows;                             /* full parse: rows.c */
    } u;
} cdc_binlog_event_t;

#define CDC_BL_ROWS_STMT_END_F    0x0001


/*
 * Parses one whole event (header included, exactly event_size bytes, as
 * the file reader or mariadb_rpl_fetch returns it without the network OK
 * byte).  Verifies the CRC32 when fmt says the log has one and fmt->verify
 * is set; an FDE's CRC also matches with LOG_EVENT_BINLOG_IN_USE_F
 * cleared (the server computes it that way and clears the flag at close).
 * On an FDE, updates fmt (checksum algorithm: the byte before the CRC for
 * 5.6.1+ servers; none for older ones).  in_payload: the event came out of
 * a TRANSACTION_PAYLOAD, which carries no CRC32.
 */
int cdc_binlog_event_parse(cdc_binlog_event_t *ev, cdc_binlog_format_t *fmt,
    const uint8_t *buf, size_t len, int in_payload, char *err,
    size_t errlen);

/*
 * A MySQL PREVIOUS_GTIDS event (35) as GTID set text appended to out:
 * "uuid:1-52", entries joined with ",", tagged ones (8.3+ format) as
 * "uuid:tag:1-2"; "" for an empty set.  Returns 0 or -1 (truncated).
 */
int cdc_binlog_previous_gtids_to_str(const cdc_binlog_event_t *ev,
    cdc_buf_t *out, char *err, size_t errlen);

/* "WRITE_ROWS_V1" etc.; "UNKNOWN" for types this library does not know */
const char *cdc_binlog_type_name(unsigned type);


/* ------------------------------------------------------------------ */
/* file reader                                                          */

typedef struct cdc_binlog_file_s  cdc_binlog_file_t;

/*
 * Opens a binlog file (mapped read-only) and checks the magic.  Returns
 * NULL with "path: reason" in err.
 */
cdc_binlog_file_t *cdc_binlog_file_open(const char *path, char *err,
    size_t errlen);

/*
 * Next event: *ev points at its header, *len is its event_size and *offset
 * its start in the file.  Returns 1, 0 at a clean end of file, or -1 when
 * the file ends inside an event ("path: event at offset N truncated: needs
 * N bytes, M left") or an event size is impossible.
 */
int cdc_binlog_file_next(cdc_binlog_file_t *f, const uint8_t **ev,
    size_t *len, uint64_t *offset, char *err, size_t errlen);

void cdc_binlog_file_close(cdc_binlog_file_t *f);


/* ------------------------------------------------------------------ */
/* TRANSACTION_PAYLOAD (MySQL 8 binlog_transaction_compression)          */

/*
 * Decompresses a parsed payload event into *out (grown with realloc as
 * needed, reused across calls; free() it when done).  The inner events
 * have 19-byte headers, no CRC32, log_pos 0: iterate them with
 * cdc_binlog_payload_next and parse them with in_payload = 1.
 */
int cdc_binlog_payload_decompress(const cdc_binlog_event_t *ev,
    uint8_t **out, size_t *cap, size_t *outlen, char *err, size_t errlen);

/* returns 1 and the next inner event, 0 at the end, -1 if truncated */
int cdc_binlog_payload_next(const uint8_t *data, size_t len, size_t *off,
    const uint8_t **ev, size_t *evlen, char *err, size_t errlen);


/* ------------------------------------------------------------------ */
/* MariaDB compressed events (log_bin_compress=ON)                       */

/*
 * True for QUERY_COMPRESSED (165), the *_ROWS_COMPRESSED_V1 types
 * (166-168) and the *_ROWS_COMPRESSED (v2) types (169-171).
 */
int cdc_binlog_is_compressed(unsigned type);

/*
 * One compressed block as MariaDB writes it: a header byte (0x80 | the
 * algorithm << 4 | the length of the length, 1..4; algorithm 0 is zlib),
 * the uncompressed length big-endian in that many bytes, then the zlib
 * stream.  Inflates block[0..len) into *out (grown with realloc, reused
 * across calls; free() it when done); *outlen gets exactly the length the
 * header gives.  A bad header, an unknown algorithm, a length over
 * CDC_BINLOG_MAX_EVENT, damaged or truncated zlib data, or data that
 * inflates to another length is an error.
 */
int cdc_binlog_uncompress_block(const uint8_t *block, size_t len,
    uint8_t **out, size_t *cap, size_t *outlen, char *err, size_t errlen);

/*
 * Rebuilds a parsed compressed event as the plain event it stands for
 * (QUERY, *_ROWS_V1 or *_ROWS v2) into *out: the same header with the
 * plain type and the new event_size, the uncompressed body, and no
 * CRC32 (parse it with in_payload = 1).  What precedes the compressed
 * block (query post-header, status variables, database; rows post-header,
 * extra row info, column count and bitmaps) is copied as it is.
 */
int cdc_binlog_uncompress_event(const cdc_binlog_event_t *ev,
    const cdc_binlog_format_t *fmt, uint8_t **out, size_t *cap,
    size_t *outlen, char *err, size_t errlen);


/* ------------------------------------------------------------------ */
/* TABLE_MAP                                                            */

/*
 * One column of a table map with everything the optional metadata says.
 * type is the real type: STRING columns whose meta says ENUM or SET are
 * reported as CDC_MT_ENUM / CDC_MT_SET; meta is normalised per type:
 *   FLOAT/DOUBLE/BLOB/JSON/GEOMETRY/VECTOR: pack length in bytes
 *   VARCHAR/VAR_STRING/STRING: maximum length in bytes
 *   ENUM/SET: storage length in bytes (1/2; 1..8)
 *   BIT: number of bits
 *   NEWDECIMAL: precision (meta) and scale (meta2)
 *   TIME2/DATETIME2/TIMESTAMP2: fsp 0..6
 */
typedef struct {
    uint8_t        type;
    uint8_t        binlog_type;     /* as written in the TABLE_MAP */
    uint16_t       meta;
    uint16_t       meta2;
    unsigned       nullable:1;
    unsigned       is_unsigned:1;   /* from SIGNEDNESS */
    unsigned       visible:1;       /* from COLUMN_VISIBILITY, default 1 */
    unsigned       pk:1;            /* part of the primary key */
    unsigned       pk_prefix;       /* PRIMARY_KEY_WITH_PREFIX, 0: whole */
    unsigned       charset;         /* collation id, 0 when unknown */
    unsigned       geometry_type;   /* GEOMETRY_TYPE, 0 when unknown */
    unsigned       vector_dim;      /* VECTOR_DIMENSIONALITY */
    const char    *name;            /* NULL when the binlog has none */
    const char   **labels;          /* ENUM/SET strings, NULL if unknown */
    unsigned       nlabels;
    unsigned       native;          /* CDC_NATIVE_*: set by the reader from
                                       the table's column types, never
                                       decoded (the binlog cannot tell) */
} cdc_binlog_column_t;


/*
 * MariaDB's UUID, INET4 and INET6 are logged as BINARY(16)/BINARY(4) with
 * the binary charset; a reader that knows the column's declared type (from
 * information_schema) marks it so the value is written in its text form.
 */
#define CDC_NATIVE_NONE   0
#define CDC_NATIVE_UUID   1
#define CDC_NATIVE_INET4  2
#define CDC_NATIVE_INET6  3


typedef struct {
    uint64_t              table_id;
    uint16_t              flags;
    char                 *db;
    char                 *table;
    unsigned              ncols;
    cdc_binlog_column_t  *cols;
    unsigned             *pk;          /* pk column indexes, in key order */
    unsigned              npk;
    int                   have_names;
    int                   have_charsets;
    int                   have_signedness;
    void                 *arena;       /* owns every string above */
} cdc_binlog_table_t;


/*
 * Parses a TABLE_MAP event (ev from cdc_binlog_event_parse) into a newly
 * allocated table.  Optional metadata fields 1-13 are decoded; unknown
 * ones are skipped.  Returns NULL with err set.
 */
cdc_binlog_table_t *cdc_binlog_table_parse(const cdc_binlog_event_t *ev,
    const cdc_binlog_format_t *fmt, char *err, size_t errlen);

void cdc_binlog_table_free(cdc_binlog_table_t *t);

/* 1 when t is a MariaDB SEQUENCE (its state row), by its column names */
int cdc_binlog_table_is_sequence(const cdc_binlog_table_t *t);

/* true for the types SIGNEDNESS covers */
int cdc_binlog_type_is_numeric(unsigned type);


/* ------------------------------------------------------------------ */
/* ROWS events and values                                               */

typedef enum {
    CDC_V_ABSENT = 0,     /* not in this image (MINIMAL, hidden column) */
    CDC_V_NULL,
    CDC_V_INT,            /* i: every signed integer */
    CDC_V_UINT,           /* u: unsigned integers */
    CDC_V_FLOAT,          /* d holds a float's value */
    CDC_V_DOUBLE,         /* d */
    CDC_V_DECIMAL,        /* s/len: binary decimal; meta/meta2 = p, s */
    CDC_V_DATE,           /* tm */
    CDC_V_DATETIME,       /* tm (+ usec, fsp) */
    CDC_V_TIMESTAMP,      /* ts: seconds + usec since the epoch */
    CDC_V_TIME,           /* tm: neg, hour (0..838), min, sec, usec */
    CDC_V_YEAR,           /* u: 0 or 1901..2155 */
    CDC_V_STRING,         /* s/len bytes + charset (text columns) */
    CDC_V_BINARY,         /* s/len bytes (binary charset) */
    CDC_V_ENUM,           /* u: 1-based index, 0 for '' */
    CDC_V_SET,            /* u: bitmask */
    CDC_V_BIT,            /* s/len big-endian bytes, nbits in meta */
    CDC_V_JSON,           /* s/len: MySQL binary JSON */
    CDC_V_JSON_DIFF,      /* s/len: PARTIAL_UPDATE diff list */
    CDC_V_GEOMETRY,       /* s/len: 4-byte LE SRID then WKB */
    CDC_V_VECTOR          /* s/len: float32 LE array */
} cdc_binlog_vkind_t;


typedef struct {
    int        neg;
    unsigned   year, month, day;
    unsigned   hour, minute, second;
    uint32_t   usec;
} cdc_binlog_tm_t;


typedef struct {
    cdc_binlog_vkind_t  kind;
    uint8_t             fsp;        /* temporal: column fsp */
    union {
        int64_t           i;
        uint64_t          u;
        double            d;
        cdc_binlog_tm_t   tm;
        struct {
            int64_t       sec;
            uint32_t      usec;
        } ts;
        struct {
            const uint8_t *p;
            size_t         len;
        } s;
    } v;
} cdc_binlog_value_t;


/*
 * A ROWS event's header after cdc_binlog_rows_open; rows are then read one
 * image at a time with cdc_binlog_rows_next.
 */
typedef struct {
    unsigned        type;          /* event type */
    char            op;            /* 'c' write, 'u' update, 'd' delete */
    int             partial;       /* PARTIAL_UPDATE_ROWS */
    uint64_t        table_id;
    uint16_t        flags;
    unsigned        ncols;
    const uint8_t  *present[2];    /* columns-present bitmaps: before
                                      (or the only one) and after */
    const uint8_t  *p;             /* the next row */
    const uint8_t  *end;
    unsigned        row;           /* rows read so far */
} cdc_binlog_rows_t;


/* true for WRITE/UPDATE/DELETE_ROWS v0/v1/v2 and PARTIAL_UPDATE_ROWS */
int cdc_binlog_is_rows_event(unsigned type);

int cdc_binlog_rows_open(cdc_binlog_rows_t *r, const cdc_binlog_event_t *ev,
    const cdc_binlog_format_t *fmt, char *err, size_t errlen);

/*
 * Decodes the next row into before[] and/or after[], arrays of t->ncols
 * values indexed by column ordinal (columns absent from the image are
 * CDC_V_ABSENT).  A write fills after, a delete before, an update both
 * (an image the event does not have may be NULL).  Returns 1, 0 when
 * the event has no more rows, -1 on error
 * (a column count that disagrees with t, truncated data, a bad length).
 */
int cdc_binlog_rows_next(cdc_binlog_rows_t *r, const cdc_binlog_table_t *t,
    cdc_binlog_value_t *before, cdc_binlog_value_t *after, char *err,
    size_t errlen);

/*
 * Decodes one column value at p (at most end - p bytes) for column c;
 * *used gets its size.  Exposed for tests and the fuzzer.
 */
int cdc_binlog_value_decode(cdc_binlog_value_t *v,
    const cdc_binlog_column_t *c, const uint8_t *p, const uint8_t *end,
    size_t *used, char *err, size_t errlen);


/* ------------------------------------------------------------------ */
/* text forms (into a caller's buffer, NUL-terminated)                 */

/*
 * Binary NEWDECIMAL (precision, scale) → "[-]digits[.scale digits]",
 * exact.  buf needs at least 84 bytes.  Returns the text length or -1.
 */
int cdc_binlog_decimal_to_str(const uint8_t *p, size_t len,
    unsigned precision, unsigned scale, char *buf, size_t buflen,
    char *err, size_t errlen);

/* bytes a binary decimal of (precision, scale) takes */
size_t cdc_binlog_decimal_size(unsigned precision, unsigned scale);


/* JSON text helpers (jsontext.c), used by event.c too */

/* "…" with " \ and controls escaped; invalid UTF-8 → U+FFFD */
int cdc_binlog_json_escape(cdc_buf_t *b, const char *s, size_t len);
/* the same without the quotes */
int cdc_binlog_json_escape_raw(cdc_buf_t *b, const char *s, size_t len);
/* shortest text that reads back as v (a float's value when is_float);
   non-finite → null */
int cdc_binlog_put_double(cdc_buf_t *b, double v, int is_float);
/* "<base64>" with quotes */
int cdc_binlog_base64(cdc_buf_t *b, const uint8_t *p, size_t len);
/* base64 without quotes */
int cdc_binlog_base64_raw(cdc_buf_t *b, const uint8_t *p, size_t len);
int cdc_binlog_utf8_valid(const uint8_t *p, size_t len);


/*
 * MySQL binary JSON (type 245) → compact JSON text appended to out, keys
 * in storage order, strings escaped, doubles shortest round-trip, opaque
 * DECIMAL as a number, opaque DATE/TIME/DATETIME as strings, other opaque
 * values as "base64:typeN:…" (as MySQL prints them).  An empty value is
 * JSON null.  Returns 0 or -1 (nesting over 100 levels, bad offsets).
 */
int cdc_binlog_json_to_text(const uint8_t *p, size_t len, cdc_buf_t *out,
    char *err, size_t errlen);

/*
 * Applies a PARTIAL_UPDATE_ROWS JSON diff list to doc (JSON text) and
 * appends the resulting document text to out.  Paths: $, .key, ."key",
 * [n].  Returns 0 or -1.
 */
int cdc_binlog_json_diff_apply(const char *doc, size_t doclen,
    const uint8_t *diff, size_t difflen, cdc_buf_t *out, char *err,
    size_t errlen);

/*
 * The diff itself as JSON: [{"op":"replace","path":"$.age","value":26}]
 * (what the stream emits when the before image lacks the document).
 */
int cdc_binlog_json_diff_to_text(const uint8_t *diff, size_t difflen,
    cdc_buf_t *out, char *err, size_t errlen);


#endif /* CDC_BINLOG_H */
