/*
 * pgoutput: a pure library that decodes PostgreSQL's logical replication
 * stream: the CopyData framing of START_REPLICATION (XLogData 'w', primary
 * keepalive 'k', and the standby status update 'r' a client sends back)
 * and the pgoutput plugin's messages, protocol version 1 (Begin, Commit,
 * Origin, Relation, Type, Insert, Update, Delete, Truncate, Message).  It
 * knows nothing of libpq, MySQL, Kafka or config: bytes in, values out.
 *
 * Errors never abort: a call that fails returns -1 (or NULL) and writes a
 * one-line message naming the message type, the offset and the bad value
 * into the caller's err buffer.  Every length is checked: truncated or
 * hostile input is an error, never a read past the end.
 *
 * Memory: a decoded message is a view into the caller's bytes (strings,
 * column values) plus arrays owned by the decoder; it stays valid until
 * the next cdc_pgo_decode() on the same decoder and as long as the bytes
 * do.  Relations are copied into the decoder's cache (keyed by OID) and
 * live until a Relation message with the same OID replaces them or the
 * decoder is destroyed.
 *
 * Files: copy.c (CopyData framing, status update, LSN text), decode.c
 * (messages, tuple data), relcache.c (the relation cache).
 */

#ifndef CDC_PGOUTPUT_H
#define CDC_PGOUTPUT_H

#include <stddef.h>
#include <stdint.h>


/* microseconds between 1970-01-01 and PostgreSQL's epoch 2000-01-01 */
#define CDC_PGO_EPOCH_DIFF_US     946684800000000LL

#define CDC_PGO_STATUS_LEN        34
#define CDC_PGO_LSN_STRLEN        18      /* "FFFFFFFF/FFFFFFFF" + NUL */

/* replica identity (pg_class.relreplident) */
#define CDC_PGO_IDENT_DEFAULT     'd'
#define CDC_PGO_IDENT_NOTHING     'n'
#define CDC_PGO_IDENT_FULL        'f'
#define CDC_PGO_IDENT_INDEX       'i'

/* column flags in a Relation message */
#define CDC_PGO_COL_KEY           0x01

/* Truncate options */
#define CDC_PGO_TRUNC_CASCADE     0x01
#define CDC_PGO_TRUNC_RESTART     0x02

/* Message flags */
#define CDC_PGO_MSG_TRANSACTIONAL 0x01


/* ---------------------------------------------------- CopyData framing */

typedef struct {
    char            kind;           /* 'w' XLogData, 'k' keepalive */
    uint64_t        start_lsn;      /* 'w': WAL start of the data */
    uint64_t        end_lsn;        /* server's current end of WAL */
    int64_t         send_time;      /* µs since 2000-01-01 */
    int             reply;          /* 'k': the server asks for a status */
    const uint8_t  *data;           /* 'w': the pgoutput message */
    size_t          len;
} cdc_pgo_copy_t;

int cdc_pgo_copy_parse(cdc_pgo_copy_t *c, const uint8_t *p, size_t len,
    char *err, size_t errlen);

/*
 * Writes the 34-byte standby status update ('r') into out: written,
 * flushed and applied LSNs, now (µs since 2000-01-01), reply requested.
 */
size_t cdc_pgo_status_build(uint8_t out[CDC_PGO_STATUS_LEN],
    uint64_t written, uint64_t flushed, uint64_t applied, int64_t now,
    int reply);

/* "16/B374D848" <-> 64-bit LSN; parse returns -1 on a bad text */
int cdc_pgo_lsn_parse(const char *s, uint64_t *lsn, char *err,
    size_t errlen);
void cdc_pgo_lsn_format(uint64_t lsn, char out[CDC_PGO_LSN_STRLEN]);

/* µs since 1970 <-> µs since 2000 */
static inline int64_t
cdc_pgo_time_from_unix_us(int64_t us)
{
    return us - CDC_PGO_EPOCH_DIFF_US;
}

static inline int64_t
cdc_pgo_time_to_unix_us(int64_t pg)
{
    return pg + CDC_PGO_EPOCH_DIFF_US;
}


/* ----------------------------------------------------- pgoutput messages */

enum {
    CDC_PGO_BEGIN = 'B',
    CDC_PGO_COMMIT = 'C',
    CDC_PGO_ORIGIN = 'O',
    CDC_PGO_RELATION = 'R',
    CDC_PGO_TYPE = 'Y',
    CDC_PGO_INSERT = 'I',
    CDC_PGO_UPDATE = 'U',
    CDC_PGO_DELETE = 'D',
    CDC_PGO_TRUNCATE = 'T',
    CDC_PGO_MESSAGE = 'M'
};

/* kinds of a column value in TupleData */
enum {
    CDC_PGO_NULL = 'n',
    CDC_PGO_UNCHANGED = 'u',        /* a TOASTed value not sent */
    CDC_PGO_TEXT = 't',
    CDC_PGO_BINARY = 'b'
};

typedef struct {
    char            kind;           /* CDC_PGO_NULL ... */
    uint32_t        len;            /* 't', 'b' */
    const uint8_t  *p;              /* not NUL-terminated */
} cdc_pgo_value_t;

typedef struct {
    uint16_t          ncols;
    cdc_pgo_value_t  *cols;         /* owned by the decoder */
} cdc_pgo_tuple_t;

typedef struct {
    char      *name;
    uint8_t    flags;               /* CDC_PGO_COL_KEY */
    uint32_t   type_oid;
    int32_t    typmod;
} cdc_pgo_column_t;

typedef struct {
    uint32_t           oid;
    char              *nspname;
    char              *relname;
    char               replident;   /* CDC_PGO_IDENT_... */
    uint16_t           ncols;
    cdc_pgo_column_t  *cols;
} cdc_pgo_relation_t;

typedef struct {
    char   type;                    /* CDC_PGO_BEGIN ... */

    union {
        struct {
            uint64_t  final_lsn;
            int64_t   commit_time;  /* µs since 2000-01-01 */
            uint32_t  xid;
        } begin;

        struct {
            uint8_t   flags;
            uint64_t  commit_lsn;
            uint64_t  end_lsn;
            int64_t   commit_time;
        } commit;

        struct {
            uint64_t     lsn;
            const char  *name;
        } origin;

        const cdc_pgo_relation_t  *relation;   /* in the cache */

        struct {
            uint32_t     oid;
            const char  *nspname;
            const char  *name;
        } type;

        /* Insert, Update, Delete */
        struct {
            const cdc_pgo_relation_t  *rel;
            char                       old_kind;  /* 'K', 'O' or 0 */
            cdc_pgo_tuple_t            old;       /* when old_kind */
            cdc_pgo_tuple_t            new;       /* not for Delete */
        } change;

        struct {
            uint8_t          options;   /* CDC_PGO_TRUNC_... */
            uint32_t         nrels;
            const uint32_t  *oids;      /* owned by the decoder */
        } truncate;

        struct {
            uint8_t         flags;      /* CDC_PGO_MSG_TRANSACTIONAL */
            uint64_t        lsn;
            const char     *prefix;
            uint32_t        len;
            const uint8_t  *content;
        } message;
    } u;
} cdc_pgo_msg_t;

typedef struct cdc_pgo_s  cdc_pgo_t;

cdc_pgo_t *cdc_pgo_create(char *err, size_t errlen);
void cdc_pgo_destroy(cdc_pgo_t *d);

/*
 * Decodes one pgoutput message (the payload of an XLogData).  A Relation
 * message is stored in the cache; an Insert, Update or Delete of an OID
 * no Relation message described, or whose tuple has another number of
 * columns than the relation, is an error.
 */
int cdc_pgo_decode(cdc_pgo_t *d, const uint8_t *p, size_t len,
    cdc_pgo_msg_t *m, char *err, size_t errlen);

/* the cached relation of an OID, or NULL */
const cdc_pgo_relation_t *cdc_pgo_relation(const cdc_pgo_t *d,
    uint32_t oid);
unsigned cdc_pgo_relation_count(const cdc_pgo_t *d);

/* the decoder's cache (relcache.c) */
typedef struct cdc_pgo_relcache_s  cdc_pgo_relcache_t;

cdc_pgo_relcache_t *cdc_pgo_relcache_create(void);
void cdc_pgo_relcache_destroy(cdc_pgo_relcache_t *c);
const cdc_pgo_relation_t *cdc_pgo_relcache_get(
    const cdc_pgo_relcache_t *c, uint32_t oid);
/* takes ownership of r (also on failure); returns the stored entry */
const cdc_pgo_relation_t *cdc_pgo_relcache_put(cdc_pgo_relcache_t *c,
    cdc_pgo_relation_t *r);
unsigned cdc_pgo_relcache_count(const cdc_pgo_relcache_t *c);
void cdc_pgo_relation_free(cdc_pgo_relation_t *r);

#endif /* CDC_PGOUTPUT_H */
