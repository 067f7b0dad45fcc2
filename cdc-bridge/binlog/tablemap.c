/*
 * TABLE_MAP events: column types, per-type metadata and the optional
 * metadata of binlog_row_metadata=FULL (signedness, charsets, names,
 * ENUM/SET strings, geometry types, primary key, visibility, vector
 * dimensions).  A table owns its strings in one arena, freed at once.
 */

#include <stdlib.h>
#include <string.h>

#include "binlog_int.h"


typedef struct cdc_bl_chunk_s  cdc_bl_chunk_t;

struct cdc_bl_chunk_s {
    cdc_bl_chunk_t  *next;
    size_t           used;
    size_t           size;
    char             data[];
};


enum {
    CDC_TM_SIGNEDNESS = 1,
    CDC_TM_DEFAULT_CHARSET,
    CDC_TM_COLUMN_CHARSET,
    CDC_TM_COLUMN_NAME,
    CDC_TM_SET_STR_VALUE,
    CDC_TM_ENUM_STR_VALUE,
    CDC_TM_GEOMETRY_TYPE,
    CDC_TM_SIMPLE_PRIMARY_KEY,
    CDC_TM_PRIMARY_KEY_WITH_PREFIX,
    CDC_TM_ENUM_AND_SET_DEFAULT_CHARSET,
    CDC_TM_ENUM_AND_SET_COLUMN_CHARSET,
    CDC_TM_COLUMN_VISIBILITY,
    CDC_TM_VECTOR_DIMENSIONALITY
};


static void *cdc_bl_alloc(cdc_binlog_table_t *t, size_t n);
static char *cdc_bl_strndup(cdc_binlog_table_t *t, const uint8_t *s,
    size_t n);
static int cdc_bl_meta_parse(cdc_binlog_table_t *t, const uint8_t *p,
    const uint8_t *end);
static int cdc_bl_optional_parse(cdc_binlog_table_t *t, int mariadb,
    unsigned type, const uint8_t *p, const uint8_t *end);
static int cdc_bl_is_char_col(const cdc_binlog_column_t *c);


static void *
cdc_bl_alloc(cdc_binlog_table_t *t, size_t n)
{
    cdc_bl_chunk_t  *c;
    size_t           size;
    void            *p;

    n = (n + 15) & ~(size_t) 15;
    c = t->arena;

    if (c == NULL || c->size - c->used < n) {
        size = n > 4000 ? n : 4000;
        c = malloc(sizeof(cdc_bl_chunk_t) + size);
        if (c == NULL) {
            return NULL;
        }
        c->next = t->arena;
        c->used = 0;
        c->size = size;
        t->arena = c;
    }

    p = c->data + c->used;
    c->used += n;
    memset(p, 0, n);
    return p;
}


static char *
cdc_bl_strndup(cdc_binlog_table_t *t, const uint8_t *s, size_t n)
{
    char  *d;

    d = cdc_bl_alloc(t, n + 1);
    if (d == NULL) {
        return NULL;
    }

    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}


/*
 * MariaDB writes a SEQUENCE's state as a row of a table with exactly these
 * columns (one insert per cache refill or SETVAL); the TABLE_MAP has no
 * flag for it, so the column names (binlog_row_metadata=FULL) tell.
 */
int
cdc_binlog_table_is_sequence(const cdc_binlog_table_t *t)
{
    unsigned  i;

    static const char *const  cols[] = {
        "next_not_cached_value", "minimum_value", "maximum_value",
        "start_value", "increment", "cache_size", "cycle_option",
        "cycle_count"
    };

    if (!t->have_names || t->ncols != sizeof(cols) / sizeof(cols[0])) {
        return 0;
    }

    for (i = 0; i < t->ncols; i++) {
        if (t->cols[i].name == NULL || strcmp(t->cols[i].name, cols[i]) != 0)
        {
            return 0;
        }
    }

    return 1;
}


void
cdc_binlog_table_free(cdc_binlog_table_t *t)
{
    cdc_bl_chunk_t  *c, *next;

    if (t == NULL) {
        return;
    }

    for (c = t->arena; c; c = next) {
        next = c->next;
        free(c);
    }

    free(t);
}


int
cdc_binlog_type_is_numeric(unsigned type)
{
    switch (type) {
    case CDC_MT_TINY:
    case CDC_MT_SHORT:
    case CDC_MT_INT24:
    case CDC_MT_LONG:
    case CDC_MT_LONGLONG:
    case CDC_MT_FLOAT:
    case CDC_MT_DOUBLE:
    case CDC_MT_NEWDECIMAL:
    case CDC_MT_DECIMAL:
        return 1;
    default:
        return 0;
    }
}


cdc_binlog_table_t *
cdc_binlog_table_parse(const cdc_binlog_event_t *ev,
    const cdc_binlog_format_t *fmt, char *err, size_t errlen)
{
    cdc_binlog_table_t  *t;
    const uint8_t       *p, *end, *mend;
    size_t               phl;
    unsigned             dblen, tlen, i;
    uint64_t             ncols, mlen, otype, olen;
    const char          *what;

    t = calloc(1, sizeof(*t));
    if (t == NULL) {
        cdc_bl_error(err, errlen, "TABLE_MAP: out of memory");
        return NULL;
    }

    t->table_id = ev->u.rows.table_id;
    t->flags = ev->u.rows.flags;

    phl = fmt->post_header_len[CDC_BL_TABLE_MAP - 1];
    if (phl == 0) {
        phl = 8;
    }

    p = ev->body + phl;
    end = ev->body + ev->body_len;
    what = "database name";

    if (p >= end || (size_t) (end - p) < (size_t) p[0] + 2u) {
        goto truncated;
    }
    dblen = p[0];
    t->db = cdc_bl_strndup(t, p + 1, dblen);
    p += dblen + 2;

    what = "table name";
    if (p >= end || (size_t) (end - p) < (size_t) p[0] + 2u) {
        goto truncated;
    }
    tlen = p[0];
    t->table = cdc_bl_strndup(t, p + 1, tlen);
    p += tlen + 2;

    what = "column count";
    if (cdc_lenenc(&p, end, &ncols) != 0) {
        goto truncated;
    }

    if (ncols == 0 || ncols > 4096 || (uint64_t) (end - p) < ncols) {
        what = "column types";
        goto truncated;
    }

    t->ncols = (unsigned) ncols;
    t->cols = cdc_bl_alloc(t, sizeof(cdc_binlog_column_t) * t->ncols);
    if (t->db == NULL || t->table == NULL || t->cols == NULL) {
        cdc_bl_error(err, errlen, "TABLE_MAP: out of memory");
        goto failed;
    }

    for (i = 0; i < t->ncols; i++) {
        t->cols[i].binlog_type = p[i];
        t->cols[i].type = p[i];
        t->cols[i].visible = 1;
    }
    p += t->ncols;

    what = "metadata";
    if (cdc_lenenc(&p, end, &mlen) != 0 || (uint64_t) (end - p) < mlen) {
        goto truncated;
    }

    if (cdc_bl_meta_parse(t, p, p + mlen) != 0) {
        goto truncated;
    }
    p += mlen;

    what = "null bitmap";
    if ((size_t) (end - p) < (t->ncols + 7) / 8) {
        goto truncated;
    }

    for (i = 0; i < t->ncols; i++) {
        t->cols[i].nullable = (p[i / 8] >> (i % 8)) & 1;
    }
    p += (t->ncols + 7) / 8;

    /* optional metadata (MySQL 8.0.1+, MariaDB 10.5+) */
    while (p < end) {
        otype = *p++;
        if (cdc_lenenc(&p, end, &olen) != 0
            || (uint64_t) (end - p) < olen)
        {
            what = "optional metadata";
            goto truncated;
        }

        mend = p + olen;
        if (cdc_bl_optional_parse(t, fmt != NULL && fmt->mariadb,
                                  (unsigned) otype, p, mend) != 0)
        {
            cdc_bl_error(err, errlen, "TABLE_MAP %s.%s: optional metadata "
                         "field %u (%llu bytes) is malformed", t->db,
                         t->table, (unsigned) otype,
                         (unsigned long long) olen);
            goto failed;
        }
        p = mend;
    }

    /* a pk the metadata does not list: none (key is null) */
    return t;

truncated:

    cdc_bl_error(err, errlen, "TABLE_MAP (table id %llu): %s truncated or "
                 "malformed", (unsigned long long) t->table_id, what);

failed:

    cdc_binlog_table_free(t);
    return NULL;
}


static int
cdc_bl_meta_parse(cdc_binlog_table_t *t, const uint8_t *p,
    const uint8_t *end)
{
    unsigned              i, b0, b1, real, len;
    cdc_binlog_column_t  *c;

    for (i = 0; i < t->ncols; i++) {
        c = &t->cols[i];

        switch (c->binlog_type) {

        case CDC_MT_FLOAT:
        case CDC_MT_DOUBLE:
        case CDC_MT_BLOB:
        case CDC_MT_TINY_BLOB:
        case CDC_MT_MEDIUM_BLOB:
        case CDC_MT_LONG_BLOB:
        case CDC_MT_GEOMETRY:
        case CDC_MT_JSON:
        case CDC_MT_VECTOR:
        case CDC_MT_TIMESTAMP2:
        case CDC_MT_DATETIME2:
        case CDC_MT_TIME2:
            if (p >= end) {
                return -1;
            }
            c->meta = *p++;
            break;

        case CDC_MT_VARCHAR:
        case CDC_MT_VAR_STRING:
            if (end - p < 2) {
                return -1;
            }
            c->meta = cdc_le16(p);
            p += 2;
            break;

        case CDC_MT_BIT:
            if (end - p < 2) {
                return -1;
            }
            c->meta = (uint16_t) (p[1] * 8 + p[0]);
            p += 2;
            break;

        case CDC_MT_NEWDECIMAL:
            if (end - p < 2) {
                return -1;
            }
            c->meta = p[0];
            c->meta2 = p[1];
            p += 2;
            break;

        case CDC_MT_STRING:
        case CDC_MT_ENUM:
        case CDC_MT_SET:
            if (end - p < 2) {
                return -1;
            }
            b0 = p[0];
            b1 = p[1];
            p += 2;
            if ((b0 & 0x30) != 0x30) {
                /* CHAR longer than 255 bytes: length bits 8-9 in b0 */
                len = b1 | (((b0 & 0x30) ^ 0x30) << 4);
                real = b0 | 0x30;
            } else {
                len = b1;
                real = b0;
            }
            if (real == CDC_MT_ENUM || real == CDC_MT_SET) {
                c->type = (uint8_t) real;
            } else {
                c->type = CDC_MT_STRING;
            }
            c->meta = (uint16_t) len;
            break;

        default:
            break;
        }
    }

    return p == end ? 0 : -1;
}


static int
cdc_bl_is_char_col(const cdc_binlog_column_t *c)
{
    switch (c->type) {
    case CDC_MT_STRING:
    case CDC_MT_VAR_STRING:
    case CDC_MT_VARCHAR:
    case CDC_MT_BLOB:
    case CDC_MT_TINY_BLOB:
    case CDC_MT_MEDIUM_BLOB:
    case CDC_MT_LONG_BLOB:
    case CDC_MT_VECTOR:         /* MySQL 9 counts it (binary charset) */
        return 1;
    default:
        return 0;
    }
}


/* the n-th column (0-based) among those where pick() is true */
static cdc_binlog_column_t *
cdc_bl_nth(cdc_binlog_table_t *t, int (*pick)(const cdc_binlog_column_t *),
    uint64_t n)
{
    unsigned  i;

    for (i = 0; i < t->ncols; i++) {
        if (pick(&t->cols[i]) && n-- == 0) {
            return &t->cols[i];
        }
    }

    return NULL;
}


static int
cdc_bl_is_enum_set(const cdc_binlog_column_t *c)
{
    return c->type == CDC_MT_ENUM || c->type == CDC_MT_SET;
}


static int
cdc_bl_is_enum(const cdc_binlog_column_t *c)
{
    return c->type == CDC_MT_ENUM;
}


static int
cdc_bl_is_set(const cdc_binlog_column_t *c)
{
    return c->type == CDC_MT_SET;
}


static int
cdc_bl_is_geometry(const cdc_binlog_column_t *c)
{
    return c->type == CDC_MT_GEOMETRY;
}


static int
cdc_bl_is_vector(const cdc_binlog_column_t *c)
{
    return c->type == CDC_MT_VECTOR;
}


static int
cdc_bl_is_numeric_col(const cdc_binlog_column_t *c)
{
    return cdc_binlog_type_is_numeric(c->binlog_type);
}


/*
 * The columns SIGNEDNESS has a bit for.  MariaDB gives YEAR one too (its
 * Field_year is a Field_tiny, flagged unsigned); MySQL does not.  Reading
 * MariaDB's bitmap without it shifts every later bit: a signed INT after
 * a YEAR came out unsigned.
 */
static int
cdc_bl_has_sign_bit(const cdc_binlog_column_t *c, int mariadb)
{
    return cdc_bl_is_numeric_col(c)
           || (mariadb && c->binlog_type == CDC_MT_YEAR);
}


static int
cdc_bl_optional_parse(cdc_binlog_table_t *t, int mariadb, unsigned type,
    const uint8_t *p, const uint8_t *end)
{
    int                   (*pick)(const cdc_binlog_column_t *);
    unsigned               i, j, bit;
    uint64_t               v, idx, cnt, len;
    cdc_binlog_column_t   *c;

    switch (type) {

    case CDC_TM_SIGNEDNESS:
        bit = 0;
        for (i = 0; i < t->ncols; i++) {
            if (!cdc_bl_has_sign_bit(&t->cols[i], mariadb)) {
                continue;
            }
            if (bit / 8 >= (size_t) (end - p)) {
                return -1;
            }
            t->cols[i].is_unsigned = (p[bit / 8] >> (7 - bit % 8)) & 1;
            bit++;
        }
        t->have_signedness = 1;
        return 0;

    case CDC_TM_DEFAULT_CHARSET:
    case CDC_TM_ENUM_AND_SET_DEFAULT_CHARSET:
        pick = type == CDC_TM_DEFAULT_CHARSET ? cdc_bl_is_char_col
                                              : cdc_bl_is_enum_set;
        if (cdc_lenenc(&p, end, &v) != 0) {
            return -1;
        }
        for (i = 0; i < t->ncols; i++) {
            if (pick(&t->cols[i])) {
                t->cols[i].charset = (unsigned) v;
            }
        }
        while (p < end) {
            if (cdc_lenenc(&p, end, &idx) != 0
                || cdc_lenenc(&p, end, &v) != 0)
            {
                return -1;
            }
            c = cdc_bl_nth(t, pick, idx);
            if (c == NULL) {
                return -1;
            }
            c->charset = (unsigned) v;
        }
        t->have_charsets = 1;
        return 0;

    case CDC_TM_COLUMN_CHARSET:
    case CDC_TM_ENUM_AND_SET_COLUMN_CHARSET:
        pick = type == CDC_TM_COLUMN_CHARSET ? cdc_bl_is_char_col
                                             : cdc_bl_is_enum_set;
        for (i = 0; i < t->ncols; i++) {
            if (!pick(&t->cols[i])) {
                continue;
            }
            if (cdc_lenenc(&p, end, &v) != 0) {
                return -1;
            }
            t->cols[i].charset = (unsigned) v;
        }
        t->have_charsets = 1;
        return 0;

    case CDC_TM_COLUMN_NAME:
        for (i = 0; i < t->ncols; i++) {
            if (cdc_lenenc(&p, end, &len) != 0
                || (uint64_t) (end - p) < len)
            {
                return -1;
            }
            t->cols[i].name = cdc_bl_strndup(t, p, len);
            if (t->cols[i].name == NULL) {
                return -1;
            }
            p += len;
        }
        t->have_names = 1;
        return 0;

    case CDC_TM_SET_STR_VALUE:
    case CDC_TM_ENUM_STR_VALUE:
        pick = type == CDC_TM_SET_STR_VALUE ? cdc_bl_is_set : cdc_bl_is_enum;
        for (i = 0; i < t->ncols && p < end; i++) {
            c = &t->cols[i];
            if (!pick(c)) {
                continue;
            }
            if (cdc_lenenc(&p, end, &cnt) != 0 || cnt > 65535) {
                return -1;
            }
            c->labels = cdc_bl_alloc(t, sizeof(char *) * (cnt + 1));
            if (c->labels == NULL) {
                return -1;
            }
            for (j = 0; j < cnt; j++) {
                if (cdc_lenenc(&p, end, &len) != 0
                    || (uint64_t) (end - p) < len)
                {
                    return -1;
                }
                c->labels[j] = cdc_bl_strndup(t, p, len);
                if (c->labels[j] == NULL) {
                    return -1;
                }
                p += len;
            }
            c->nlabels = (unsigned) cnt;
        }
        return 0;

    case CDC_TM_GEOMETRY_TYPE:
    case CDC_TM_VECTOR_DIMENSIONALITY:
        pick = type == CDC_TM_GEOMETRY_TYPE ? cdc_bl_is_geometry
                                            : cdc_bl_is_vector;
        for (i = 0; i < t->ncols && p < end; i++) {
            if (!pick(&t->cols[i])) {
                continue;
            }
            if (cdc_lenenc(&p, end, &v) != 0) {
                return -1;
            }
            if (type == CDC_TM_GEOMETRY_TYPE) {
                t->cols[i].geometry_type = (unsigned) v;
            } else {
                t->cols[i].vector_dim = (unsigned) v;
            }
        }
        return 0;

    case CDC_TM_SIMPLE_PRIMARY_KEY:
    case CDC_TM_PRIMARY_KEY_WITH_PREFIX:
        t->pk = cdc_bl_alloc(t, sizeof(unsigned) * t->ncols);
        if (t->pk == NULL) {
            return -1;
        }
        t->npk = 0;
        while (p < end) {
            if (cdc_lenenc(&p, end, &idx) != 0 || idx >= t->ncols
                || t->npk >= t->ncols)
            {
                return -1;
            }
            v = 0;
            if (type == CDC_TM_PRIMARY_KEY_WITH_PREFIX
                && cdc_lenenc(&p, end, &v) != 0)
            {
                return -1;
            }
            t->cols[idx].pk = 1;
            t->cols[idx].pk_prefix = (unsigned) v;
            t->pk[t->npk++] = (unsigned) idx;
        }
        return 0;

    case CDC_TM_COLUMN_VISIBILITY:
        for (i = 0; i < t->ncols; i++) {
            if (i / 8 >= (size_t) (end - p)) {
                return -1;
            }
            t->cols[i].visible = (p[i / 8] >> (7 - i % 8)) & 1;
        }
        return 0;

    default:
        /* a newer field: skip it */
        return 0;
    }
}
