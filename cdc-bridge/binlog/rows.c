/*
 * ROWS events (v0/v1/v2, PARTIAL_UPDATE_ROWS): columns-present bitmaps,
 * NULL bitmaps and column values.  Values are views into the event; no
 * allocation on this path.
 */

#include <string.h>

#include "binlog_int.h"


static int cdc_bl_image(cdc_binlog_rows_t *r, const cdc_binlog_table_t *t,
    const uint8_t *present, cdc_binlog_value_t *vals, int partial_after,
    const uint8_t *partial_bits, char *err, size_t errlen);


int
cdc_binlog_is_rows_event(unsigned type)
{
    switch (type) {
    case CDC_BL_WRITE_ROWS_V0:
    case CDC_BL_UPDATE_ROWS_V0:
    case CDC_BL_DELETE_ROWS_V0:
    case CDC_BL_WRITE_ROWS_V1:
    case CDC_BL_UPDATE_ROWS_V1:
    case CDC_BL_DELETE_ROWS_V1:
    case CDC_BL_WRITE_ROWS:
    case CDC_BL_UPDATE_ROWS:
    case CDC_BL_DELETE_ROWS:
    case CDC_BL_PARTIAL_UPDATE_ROWS:
        return 1;
    default:
        return 0;
    }
}


int
cdc_binlog_rows_open(cdc_binlog_rows_t *r, const cdc_binlog_event_t *ev,
    const cdc_binlog_format_t *fmt, char *err, size_t errlen)
{
    const uint8_t  *p, *end;
    size_t          phl, bm;
    uint64_t        ncols;
    unsigned        extra, type;

    type = ev->h.type;
    memset(r, 0, sizeof(*r));
    r->type = type;
    r->table_id = ev->u.rows.table_id;
    r->flags = ev->u.rows.flags;

    switch (type) {
    case CDC_BL_WRITE_ROWS_V0:
    case CDC_BL_WRITE_ROWS_V1:
    case CDC_BL_WRITE_ROWS:
        r->op = 'c';
        break;
    case CDC_BL_DELETE_ROWS_V0:
    case CDC_BL_DELETE_ROWS_V1:
    case CDC_BL_DELETE_ROWS:
        r->op = 'd';
        break;
    case CDC_BL_PARTIAL_UPDATE_ROWS:
        r->partial = 1;
        r->op = 'u';
        break;
    case CDC_BL_UPDATE_ROWS_V0:
    case CDC_BL_UPDATE_ROWS_V1:
    case CDC_BL_UPDATE_ROWS:
        r->op = 'u';
        break;
    default:
        return cdc_bl_error(err, errlen, "%s event is not a rows event",
                            cdc_binlog_type_name(type));
    }

    phl = fmt->post_header_len[type - 1];
    if (phl == 0) {
        phl = type >= CDC_BL_WRITE_ROWS ? 10 : 8;
    }

    end = ev->body + ev->body_len;
    if (ev->body_len < phl) {
        goto truncated;
    }
    p = ev->body + phl;

    if (phl == 10) {
        /* v2: extra row info, its length counting its own two bytes */
        extra = cdc_le16(ev->body + 8);
        if (extra < 2 || (size_t) (end - p) < extra - 2u) {
            goto truncated;
        }
        p += extra - 2;
    }

    if (cdc_lenenc(&p, end, &ncols) != 0 || ncols == 0 || ncols > 4096) {
        goto truncated;
    }

    r->ncols = (unsigned) ncols;
    bm = (r->ncols + 7) / 8;

    if ((size_t) (end - p) < bm) {
        goto truncated;
    }
    r->present[0] = p;
    r->present[1] = p;
    p += bm;

    if (r->op == 'u') {
        if ((size_t) (end - p) < bm) {
            goto truncated;
        }
        r->present[1] = p;
        p += bm;
    }

    r->p = p;
    r->end = end;
    return 0;

truncated:

    return cdc_bl_error(err, errlen, "%s event (table id %llu): header "
                        "truncated or malformed", cdc_binlog_type_name(type),
                        (unsigned long long) r->table_id);
}


int
cdc_binlog_rows_next(cdc_binlog_rows_t *r, const cdc_binlog_table_t *t,
    cdc_binlog_value_t *before, cdc_binlog_value_t *after, char *err,
    size_t errlen)
{
    uint64_t        opts;
    const uint8_t  *bits, *start;
    unsigned        i, njson;

    if (r->p >= r->end) {
        return 0;
    }

    start = r->p;

    if (r->ncols != t->ncols) {
        return cdc_bl_error(err, errlen, "%s event for %s.%s: %u columns, "
                            "the table map has %u",
                            cdc_binlog_type_name(r->type), t->db, t->table,
                            r->ncols, t->ncols);
    }

    if (cdc_bl_image(r, t, r->present[0], r->op == 'c' ? after : before,
                     0, NULL, err, errlen)
        != 0)
    {
        return -1;
    }

    if (r->op == 'u') {
        bits = NULL;
        if (r->partial) {
            if (cdc_lenenc(&r->p, r->end, &opts) != 0) {
                return cdc_bl_error(err, errlen, "PARTIAL_UPDATE_ROWS for "
                                    "%s.%s: value options truncated",
                                    t->db, t->table);
            }
            if (opts & 1) {
                njson = 0;
                for (i = 0; i < t->ncols; i++) {
                    njson += t->cols[i].type == CDC_MT_JSON;
                }
                if ((size_t) (r->end - r->p) < (njson + 7) / 8) {
                    return cdc_bl_error(err, errlen, "PARTIAL_UPDATE_ROWS "
                                        "for %s.%s: partial bitmap "
                                        "truncated", t->db, t->table);
                }
                bits = r->p;
                r->p += (njson + 7) / 8;
            }
        }

        if (cdc_bl_image(r, t, r->present[1], after, r->partial, bits, err,
                         errlen)
            != 0)
        {
            return -1;
        }
    }

    if (r->p == start) {
        /* no column present: a row of zero bytes would repeat forever */
        return cdc_bl_error(err, errlen, "%s event for %s.%s: row %u has "
                            "no columns", cdc_binlog_type_name(r->type),
                            t->db, t->table, r->row);
    }

    r->row++;
    return 1;
}


static int
cdc_bl_image(cdc_binlog_rows_t *r, const cdc_binlog_table_t *t,
    const uint8_t *present, cdc_binlog_value_t *vals, int partial_after,
    const uint8_t *partial_bits, char *err, size_t errlen)
{
    const uint8_t       *p, *nulls;
    unsigned             i, k, npresent, json;
    size_t               used;
    cdc_binlog_value_t   tmp, *v;
    char                 e[160];

    npresent = 0;
    for (i = 0; i < t->ncols; i++) {
        npresent += (present[i / 8] >> (i % 8)) & 1;
    }

    p = r->p;
    if ((size_t) (r->end - p) < (npresent + 7) / 8) {
        return cdc_bl_error(err, errlen, "%s event for %s.%s: row %u NULL "
                            "bitmap truncated",
                            cdc_binlog_type_name(r->type), t->db, t->table,
                            r->row);
    }

    nulls = p;
    p += (npresent + 7) / 8;
    k = 0;
    json = 0;

    for (i = 0; i < t->ncols; i++) {
        v = vals ? &vals[i] : &tmp;

        if (t->cols[i].type == CDC_MT_JSON) {
            json++;
        }

        if (!((present[i / 8] >> (i % 8)) & 1)) {
            v->kind = CDC_V_ABSENT;
            continue;
        }

        if ((nulls[k / 8] >> (k % 8)) & 1) {
            v->kind = CDC_V_NULL;
            k++;
            continue;
        }
        k++;

        if (cdc_binlog_value_decode(v, &t->cols[i], p, r->end, &used, e,
                                    sizeof(e))
            != 0)
        {
            return cdc_bl_error(err, errlen, "%s event for %s.%s: row %u "
                                "column %u: %s",
                                cdc_binlog_type_name(r->type), t->db,
                                t->table, r->row, i + 1, e);
        }

        if (partial_after && partial_bits != NULL
            && t->cols[i].type == CDC_MT_JSON
            && ((partial_bits[(json - 1) / 8] >> ((json - 1) % 8)) & 1))
        {
            v->kind = CDC_V_JSON_DIFF;
        }

        p += used;
    }

    r->p = p;
    return 0;
}


static int
cdc_bl_lenprefixed(cdc_binlog_value_t *v, unsigned n, const uint8_t *p,
    const uint8_t *end, size_t *used, char *err, size_t errlen)
{
    uint64_t  len;

    if (n < 1 || n > 4) {
        return cdc_bl_error(err, errlen, "bad length size %u", n);
    }

    if ((size_t) (end - p) < n) {
        goto truncated;
    }

    len = n == 4 ? cdc_le32(p) : (n == 3 ? cdc_le24(p)
                                         : (n == 2 ? cdc_le16(p) : p[0]));
    if ((uint64_t) (end - p - n) < len) {
        goto truncated;
    }

    v->v.s.p = p + n;
    v->v.s.len = (size_t) len;
    *used = n + (size_t) len;
    return 0;

truncated:

    return cdc_bl_error(err, errlen, "value truncated");
}


int
cdc_binlog_value_decode(cdc_binlog_value_t *v,
    const cdc_binlog_column_t *c, const uint8_t *p, const uint8_t *end,
    size_t *used, char *err, size_t errlen)
{
    size_t    avail, n, fb;
    uint64_t  x;
    int64_t   packed, ip, frac;
    uint32_t  f;
    float     fl;
    double    db;
    unsigned  fsp;

    avail = (size_t) (end - p);
    v->fsp = 0;

#define NEED(k)                                                              \
    do {                                                                     \
        if (avail < (size_t) (k)) {                                          \
            return cdc_bl_error(err, errlen, "type %u: value needs %zu "     \
                                "bytes, %zu left", c->type, (size_t) (k),    \
                                avail);                                      \
        }                                                                    \
        *used = (size_t) (k);                                                \
    } while (0)

    switch (c->type) {

    case CDC_MT_TINY:
        NEED(1);
        if (c->is_unsigned) {
            v->kind = CDC_V_UINT;
            v->v.u = p[0];
        } else {
            v->kind = CDC_V_INT;
            v->v.i = (int8_t) p[0];
        }
        return 0;

    case CDC_MT_SHORT:
        NEED(2);
        if (c->is_unsigned) {
            v->kind = CDC_V_UINT;
            v->v.u = cdc_le16(p);
        } else {
            v->kind = CDC_V_INT;
            v->v.i = (int16_t) cdc_le16(p);
        }
        return 0;

    case CDC_MT_INT24:
        NEED(3);
        x = cdc_le24(p);
        if (c->is_unsigned) {
            v->kind = CDC_V_UINT;
            v->v.u = x;
        } else {
            v->kind = CDC_V_INT;
            v->v.i = (x & 0x800000) ? (int64_t) x - 0x1000000 : (int64_t) x;
        }
        return 0;

    case CDC_MT_LONG:
        NEED(4);
        if (c->is_unsigned) {
            v->kind = CDC_V_UINT;
            v->v.u = cdc_le32(p);
        } else {
            v->kind = CDC_V_INT;
            v->v.i = (int32_t) cdc_le32(p);
        }
        return 0;

    case CDC_MT_LONGLONG:
        NEED(8);
        if (c->is_unsigned) {
            v->kind = CDC_V_UINT;
            v->v.u = cdc_le64(p);
        } else {
            v->kind = CDC_V_INT;
            v->v.i = (int64_t) cdc_le64(p);
        }
        return 0;

    case CDC_MT_FLOAT:
        NEED(4);
        f = cdc_le32(p);
        memcpy(&fl, &f, 4);
        v->kind = CDC_V_FLOAT;
        v->v.d = fl;
        return 0;

    case CDC_MT_DOUBLE:
        NEED(8);
        x = cdc_le64(p);
        memcpy(&db, &x, 8);
        v->kind = CDC_V_DOUBLE;
        v->v.d = db;
        return 0;

    case CDC_MT_NEWDECIMAL:
        n = cdc_binlog_decimal_size(c->meta, c->meta2);
        if (n == 0 || c->meta > 65) {
            return cdc_bl_error(err, errlen, "DECIMAL(%u,%u) is invalid",
                                c->meta, c->meta2);
        }
        NEED(n);
        v->kind = CDC_V_DECIMAL;
        v->v.s.p = p;
        v->v.s.len = n;
        return 0;

    case CDC_MT_YEAR:
        NEED(1);
        v->kind = CDC_V_YEAR;
        v->v.u = p[0] ? 1900u + p[0] : 0;
        return 0;

    case CDC_MT_DATE:
    case CDC_MT_NEWDATE:
        NEED(3);
        x = cdc_le24(p);
        memset(&v->v.tm, 0, sizeof(v->v.tm));
        v->kind = CDC_V_DATE;
        v->v.tm.day = x & 31;
        v->v.tm.month = (x >> 5) & 15;
        v->v.tm.year = (unsigned) (x >> 9);
        return 0;

    case CDC_MT_TIME:
        NEED(3);
        x = cdc_le24(p);
        ip = (x & 0x800000) ? (int64_t) x - 0x1000000 : (int64_t) x;
        memset(&v->v.tm, 0, sizeof(v->v.tm));
        v->kind = CDC_V_TIME;
        if (ip < 0) {
            v->v.tm.neg = 1;
            ip = -ip;
        }
        v->v.tm.hour = (unsigned) (ip / 10000);
        v->v.tm.minute = (unsigned) (ip / 100 % 100);
        v->v.tm.second = (unsigned) (ip % 100);
        return 0;

    case CDC_MT_DATETIME:
        NEED(8);
        x = cdc_le64(p);
        memset(&v->v.tm, 0, sizeof(v->v.tm));
        v->kind = CDC_V_DATETIME;
        v->v.tm.second = x % 100;
        v->v.tm.minute = x / 100 % 100;
        v->v.tm.hour = x / 10000 % 100;
        x /= 1000000;
        v->v.tm.day = x % 100;
        v->v.tm.month = x / 100 % 100;
        v->v.tm.year = (unsigned) (x / 10000);
        return 0;

    case CDC_MT_TIMESTAMP:
        NEED(4);
        v->kind = CDC_V_TIMESTAMP;
        v->v.ts.sec = cdc_le32(p);
        v->v.ts.usec = 0;
        return 0;

    case CDC_MT_TIMESTAMP2:
    case CDC_MT_DATETIME2:
    case CDC_MT_TIME2:
        fsp = c->meta;
        if (fsp > 6) {
            return cdc_bl_error(err, errlen, "fractional precision %u",
                                fsp);
        }
        fb = (fsp + 1) / 2;
        n = c->type == CDC_MT_TIMESTAMP2 ? 4
            : (c->type == CDC_MT_DATETIME2 ? 5 : 3);
        NEED(n + fb);
        v->fsp = (uint8_t) fsp;

        if (c->type == CDC_MT_TIMESTAMP2) {
            v->kind = CDC_V_TIMESTAMP;
            v->v.ts.sec = (int64_t) cdc_be(p, 4);
            f = (uint32_t) cdc_be(p + 4, (unsigned) fb);
            v->v.ts.usec = fb == 1 ? f * 10000 : (fb == 2 ? f * 100 : f);
            if (v->v.ts.usec > 999999) {
                return cdc_bl_error(err, errlen, "bad fraction %u", f);
            }
            return 0;
        }

        if (c->type == CDC_MT_DATETIME2) {
            ip = (int64_t) cdc_be(p, 5) - 0x8000000000LL;
            f = (uint32_t) cdc_be(p + 5, (unsigned) fb);
            memset(&v->v.tm, 0, sizeof(v->v.tm));
            v->kind = CDC_V_DATETIME;
            if (ip < 0) {
                v->v.tm.neg = 1;
                ip = -ip;
            }
            x = (uint64_t) ip >> 17;            /* year*13+month, day */
            v->v.tm.day = x % 32;
            x >>= 5;
            v->v.tm.month = x % 13;
            v->v.tm.year = (unsigned) (x / 13);
            x = (uint64_t) ip % (1 << 17);
            v->v.tm.second = x % 64;
            v->v.tm.minute = (x >> 6) % 64;
            v->v.tm.hour = (unsigned) (x >> 12);
            v->v.tm.usec = fb == 1 ? f * 10000 : (fb == 2 ? f * 100 : f);
            if (v->v.tm.usec > 999999) {
                return cdc_bl_error(err, errlen, "bad fraction %u", f);
            }
            return 0;
        }

        /* TIME2: a packed signed value, fraction borrowed for negatives */
        ip = (int64_t) cdc_be(p, 3) - 0x800000;
        if (fb == 0) {
            packed = ip * (1LL << 24);
        } else if (fb == 1) {
            frac = p[3];
            if (ip < 0 && frac) {
                ip++;
                frac -= 0x100;
            }
            packed = ip * (1LL << 24) + frac * 10000;
        } else if (fb == 2) {
            frac = (int64_t) cdc_be(p + 3, 2);
            if (ip < 0 && frac) {
                ip++;
                frac -= 0x10000;
            }
            packed = ip * (1LL << 24) + frac * 100;
        } else {
            packed = (int64_t) cdc_be(p, 6) - 0x800000000000LL;
        }

        memset(&v->v.tm, 0, sizeof(v->v.tm));
        v->kind = CDC_V_TIME;
        if (packed < 0) {
            v->v.tm.neg = 1;
            packed = -packed;
        }
        ip = packed >> 24;
        v->v.tm.usec = (uint32_t) (packed % (1 << 24));
        v->v.tm.hour = (unsigned) ((ip >> 12) % (1 << 10));
        v->v.tm.minute = (unsigned) ((ip >> 6) % (1 << 6));
        v->v.tm.second = (unsigned) (ip % (1 << 6));
        if (v->v.tm.usec > 999999) {
            return cdc_bl_error(err, errlen, "bad TIME fraction %u",
                                v->v.tm.usec);
        }
        return 0;

    case CDC_MT_VARCHAR:
    case CDC_MT_VAR_STRING:
    case CDC_MT_STRING:
        if (cdc_bl_lenprefixed(v, c->meta < 256 ? 1 : 2, p, end, used, err,
                               errlen)
            != 0)
        {
            return -1;
        }
        v->kind = c->charset == CDC_CHARSET_BINARY ? CDC_V_BINARY
                                                   : CDC_V_STRING;
        return 0;

    case CDC_MT_BLOB:
    case CDC_MT_TINY_BLOB:
    case CDC_MT_MEDIUM_BLOB:
    case CDC_MT_LONG_BLOB:
        if (cdc_bl_lenprefixed(v, c->meta, p, end, used, err, errlen) != 0)
        {
            return -1;
        }
        v->kind = c->charset == CDC_CHARSET_BINARY ? CDC_V_BINARY
                                                   : CDC_V_STRING;
        return 0;

    case CDC_MT_JSON:
    case CDC_MT_GEOMETRY:
    case CDC_MT_VECTOR:
        if (cdc_bl_lenprefixed(v, c->meta, p, end, used, err, errlen) != 0)
        {
            return -1;
        }
        v->kind = c->type == CDC_MT_JSON ? CDC_V_JSON
                  : (c->type == CDC_MT_GEOMETRY ? CDC_V_GEOMETRY
                                                : CDC_V_VECTOR);
        return 0;

    case CDC_MT_ENUM:
        if (c->meta != 1 && c->meta != 2) {
            return cdc_bl_error(err, errlen, "ENUM storage size %u",
                                c->meta);
        }
        NEED(c->meta);
        v->kind = CDC_V_ENUM;
        v->v.u = c->meta == 1 ? p[0] : cdc_le16(p);
        return 0;

    case CDC_MT_SET:
        if (c->meta < 1 || c->meta > 8) {
            return cdc_bl_error(err, errlen, "SET storage size %u",
                                c->meta);
        }
        NEED(c->meta);
        v->kind = CDC_V_SET;
        v->v.u = 0;
        for (n = c->meta; n > 0; n--) {
            v->v.u = (v->v.u << 8) | p[n - 1];
        }
        return 0;

    case CDC_MT_BIT:
        n = (c->meta + 7u) / 8u;
        NEED(n);
        v->kind = CDC_V_BIT;
        v->v.s.p = p;
        v->v.s.len = n;
        return 0;

    case CDC_MT_NULL:
        *used = 0;
        v->kind = CDC_V_NULL;
        return 0;

    default:
        return cdc_bl_error(err, errlen, "column type %u is not supported",
                            c->type);
    }

#undef NEED
}
