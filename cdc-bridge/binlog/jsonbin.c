/*
 * MySQL binary JSON (column type 245) to JSON text, and PARTIAL_UPDATE
 * JSON diffs.  Layout (MySQL sql-common/json_binary): a type byte, then
 * objects/arrays as element count, byte size, key entries (offset,
 * length), value entries (type, offset or inlined value), keys, values;
 * "small" containers use 2-byte offsets, "large" ones 4-byte.  Every
 * offset is checked against the container's size.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "binlog_int.h"


enum {
    JB_SMALL_OBJ = 0, JB_LARGE_OBJ, JB_SMALL_ARR, JB_LARGE_ARR, JB_LITERAL,
    JB_INT16, JB_UINT16, JB_INT32, JB_UINT32, JB_INT64, JB_UINT64,
    JB_DOUBLE, JB_STRING, JB_OPAQUE = 15
};


static int cdc_jb_value(cdc_buf_t *o, unsigned type, const uint8_t *p,
    size_t len, int depth, size_t limit, char *err, size_t errlen);


static int
cdc_jb_varlen(const uint8_t **pp, const uint8_t *end, uint64_t *v)
{
    const uint8_t  *p;
    unsigned        i;
    uint64_t        x;

    p = *pp;
    x = 0;
    for (i = 0; i < 5; i++) {
        if (p >= end) {
            return -1;
        }
        x |= (uint64_t) (*p & 0x7f) << (7 * i);
        if (!(*p++ & 0x80)) {
            *pp = p;
            *v = x;
            return 0;
        }
    }

    return -1;
}


static int
cdc_jb_put_num(cdc_buf_t *o, int neg, uint64_t u)
{
    char   tmp[24];
    char  *e;

    e = tmp + sizeof(tmp);
    do {
        *--e = (char) ('0' + u % 10);
        u /= 10;
    } while (u);

    if (neg) {
        *--e = '-';
    }

    return cdc_buf_put(o, e, (size_t) (tmp + sizeof(tmp) - e));
}


static int
cdc_jb_int(cdc_buf_t *o, int64_t v)
{
    return v < 0 ? cdc_jb_put_num(o, 1, 0 - (uint64_t) v)
                 : cdc_jb_put_num(o, 0, (uint64_t) v);
}


static int
cdc_jb_opaque(cdc_buf_t *o, const uint8_t *p, size_t len, char *err,
    size_t errlen)
{
    const uint8_t  *end;
    uint64_t        n, x;
    unsigned        mt;
    int64_t         packed, ip;
    char            tmp[100];
    int             k;
    uint32_t        usec;
    unsigned        ymd, hms, year, month, day, neg;

    end = p + len;
    if (len < 1) {
        return cdc_bl_error(err, errlen, "JSON opaque value truncated");
    }
    mt = *p++;
    if (cdc_jb_varlen(&p, end, &n) != 0 || (uint64_t) (end - p) < n) {
        return cdc_bl_error(err, errlen, "JSON opaque value truncated");
    }

    if (mt == CDC_MT_NEWDECIMAL && n >= 2) {
        k = cdc_binlog_decimal_to_str(p + 2, (size_t) n - 2, p[0], p[1],
                                      tmp, sizeof(tmp), err, errlen);
        if (k < 0) {
            return -1;
        }
        return cdc_buf_put(o, tmp, (size_t) k);
    }

    if ((mt == CDC_MT_DATE || mt == CDC_MT_DATETIME || mt == CDC_MT_TIMESTAMP
         || mt == CDC_MT_TIME || mt == CDC_MT_DATETIME2
         || mt == CDC_MT_TIMESTAMP2 || mt == CDC_MT_TIME2) && n >= 8)
    {
        packed = (int64_t) cdc_le64(p);
        neg = packed < 0;
        x = neg ? 0 - (uint64_t) packed : (uint64_t) packed;
        usec = (uint32_t) (x % (1 << 24));
        ip = (int64_t) (x >> 24);

        if (mt == CDC_MT_TIME || mt == CDC_MT_TIME2) {
            k = snprintf(tmp, sizeof(tmp), "\"%s%02u:%02u:%02u.%06u\"",
                         neg ? "-" : "", (unsigned) ((ip >> 12) % 1024),
                         (unsigned) ((ip >> 6) % 64), (unsigned) (ip % 64),
                         usec % 1000000);
        } else {
            ymd = (unsigned) (ip >> 17);
            hms = (unsigned) (ip % (1 << 17));
            day = ymd % 32;
            month = (ymd >> 5) % 13;
            year = (ymd >> 5) / 13;
            if (mt == CDC_MT_DATE) {
                k = snprintf(tmp, sizeof(tmp), "\"%04u-%02u-%02u\"", year,
                             month, day);
            } else {
                k = snprintf(tmp, sizeof(tmp),
                             "\"%04u-%02u-%02u %02u:%02u:%02u.%06u\"",
                             year, month, day, hms >> 12, (hms >> 6) % 64,
                             hms % 64, usec % 1000000);
            }
        }
        if (k < 0 || (size_t) k >= sizeof(tmp)) {
            return cdc_bl_error(err, errlen, "JSON opaque date too long");
        }
        return cdc_buf_put(o, tmp, (size_t) k);
    }

    k = snprintf(tmp, sizeof(tmp), "\"base64:type%u:", mt);
    if (cdc_buf_put(o, tmp, (size_t) k) != 0
        || cdc_binlog_base64_raw(o, p, (size_t) n) != 0)
    {
        return -1;
    }

    return cdc_buf_put(o, "\"", 1);
}


static int
cdc_jb_container(cdc_buf_t *o, const uint8_t *p, size_t len, int large,
    int obj, int depth, size_t limit, char *err, size_t errlen)
{
    size_t    osz, count, size, hdr, i, ke, ve, koff, klen, voff;
    unsigned  t;
    int       inl;

    if (depth > CDC_BL_JSON_MAX_DEPTH) {
        return cdc_bl_error(err, errlen, "JSON nested over %d levels",
                            CDC_BL_JSON_MAX_DEPTH);
    }

    osz = large ? 4 : 2;
    if (len < 2 * osz) {
        goto bad;
    }

    count = large ? cdc_le32(p) : cdc_le16(p);
    size = large ? cdc_le32(p + osz) : cdc_le16(p + osz);
    if (size > len) {
        goto bad;
    }

    ke = obj ? osz + 2 : 0;
    ve = 1 + osz;
    hdr = 2 * osz;
    if (size < hdr || count > (size - hdr) / (ke + ve)) {
        goto bad;
    }

    if (cdc_buf_put(o, obj ? "{" : "[", 1) != 0) {
        return -1;
    }

    for (i = 0; i < count; i++) {
        if (o->len > limit) {
            /* offsets shared between elements can make a small value
               print as an exponentially large text: refuse it */
            return cdc_bl_error(err, errlen, "JSON text grows beyond %zu "
                                "bytes: malformed document", limit);
        }

        if (i && cdc_buf_put(o, ",", 1) != 0) {
            return -1;
        }

        if (obj) {
            koff = large ? cdc_le32(p + hdr + i * ke)
                         : cdc_le16(p + hdr + i * ke);
            klen = cdc_le16(p + hdr + i * ke + osz);
            if (koff > size || klen > size - koff) {
                goto bad;
            }
            if (cdc_binlog_json_escape(o, (const char *) p + koff, klen) != 0
                || cdc_buf_put(o, ":", 1) != 0)
            {
                return -1;
            }
        }

        ve = hdr + count * ke + i * (1 + osz);
        t = p[ve];
        inl = t == JB_LITERAL || t == JB_INT16 || t == JB_UINT16
              || (large && (t == JB_INT32 || t == JB_UINT32));

        if (inl) {
            if (cdc_jb_value(o, t, p + ve + 1, osz, depth + 1, limit, err,
                             errlen)
                != 0)
            {
                return -1;
            }
            continue;
        }

        voff = large ? cdc_le32(p + ve + 1) : cdc_le16(p + ve + 1);
        if (voff >= size) {
            goto bad;
        }

        if (cdc_jb_value(o, t, p + voff, size - voff, depth + 1, limit,
                         err, errlen)
            != 0)
        {
            return -1;
        }
    }

    return cdc_buf_put(o, obj ? "}" : "]", 1);

bad:

    return cdc_bl_error(err, errlen, "JSON %s: bad count, size or offset",
                        obj ? "object" : "array");
}


static int
cdc_jb_value(cdc_buf_t *o, unsigned type, const uint8_t *p, size_t len,
    int depth, size_t limit, char *err, size_t errlen)
{
    uint64_t        n, x;
    double          d;
    const uint8_t  *s, *end;
    static const unsigned  need[] = { 0, 0, 0, 0, 1, 2, 2, 4, 4, 8, 8, 8 };

    if (type <= JB_DOUBLE && type >= JB_LITERAL && len < need[type]) {
        return cdc_bl_error(err, errlen, "JSON scalar type %u truncated",
                            type);
    }

    switch (type) {
    case JB_SMALL_OBJ:
    case JB_LARGE_OBJ:
    case JB_SMALL_ARR:
    case JB_LARGE_ARR:
        return cdc_jb_container(o, p, len, type & 1, type < JB_SMALL_ARR,
                                depth, limit, err, errlen);
    case JB_LITERAL:
        switch (p[0]) {
        case 0: return cdc_buf_put(o, "null", 4);
        case 1: return cdc_buf_put(o, "true", 4);
        case 2: return cdc_buf_put(o, "false", 5);
        default:
            return cdc_bl_error(err, errlen, "JSON literal %u", p[0]);
        }
    case JB_INT16:
        return cdc_jb_int(o, (int16_t) cdc_le16(p));
    case JB_UINT16:
        return cdc_jb_put_num(o, 0, cdc_le16(p));
    case JB_INT32:
        return cdc_jb_int(o, (int32_t) cdc_le32(p));
    case JB_UINT32:
        return cdc_jb_put_num(o, 0, cdc_le32(p));
    case JB_INT64:
        return cdc_jb_int(o, (int64_t) cdc_le64(p));
    case JB_UINT64:
        return cdc_jb_put_num(o, 0, cdc_le64(p));
    case JB_DOUBLE:
        x = cdc_le64(p);
        memcpy(&d, &x, 8);
        return cdc_binlog_put_double(o, d, 0);
    case JB_STRING:
        s = p;
        end = p + len;
        if (cdc_jb_varlen(&s, end, &n) != 0 || (uint64_t) (end - s) < n) {
            return cdc_bl_error(err, errlen, "JSON string truncated");
        }
        return cdc_binlog_json_escape(o, (const char *) s, (size_t) n);
    case JB_OPAQUE:
        return cdc_jb_opaque(o, p, len, err, errlen);
    default:
        return cdc_bl_error(err, errlen, "JSON value type %u is unknown",
                            type);
    }
}


int
cdc_binlog_json_to_text(const uint8_t *p, size_t len, cdc_buf_t *out,
    char *err, size_t errlen)
{
    if (len == 0) {
        return cdc_buf_put(out, "null", 4);
    }

    /* a real document prints in well under 32 bytes per stored byte */
    return cdc_jb_value(out, p[0], p + 1, len - 1, 0,
                        out->len + 32 * len + 1024, err, errlen);
}


/* ------------------------------------------------------------------ */
/* PARTIAL_UPDATE JSON diffs                                            */

typedef struct {
    unsigned        op;       /* 0 replace, 1 insert, 2 remove */
    const char     *path;
    size_t          path_len;
    const uint8_t  *val;
    size_t          val_len;
} cdc_jdiff_t;


static int
cdc_jdiff_next(const uint8_t **pp, const uint8_t *end, cdc_jdiff_t *d,
    char *err, size_t errlen)
{
    const uint8_t  *p;
    uint64_t        n;

    p = *pp;
    if (p >= end) {
        return 0;
    }

    d->op = *p++;
    if (d->op > 2) {
        return cdc_bl_error(err, errlen, "JSON diff: unknown operation %u",
                            d->op);
    }

    if (cdc_lenenc(&p, end, &n) != 0 || (uint64_t) (end - p) < n) {
        goto truncated;
    }
    d->path = (const char *) p;
    d->path_len = (size_t) n;
    p += n;

    d->val = NULL;
    d->val_len = 0;
    if (d->op != 2) {
        if (cdc_lenenc(&p, end, &n) != 0 || (uint64_t) (end - p) < n) {
            goto truncated;
        }
        d->val = p;
        d->val_len = (size_t) n;
        p += n;
    }

    *pp = p;
    return 1;

truncated:

    return cdc_bl_error(err, errlen, "JSON diff truncated");
}


int
cdc_binlog_json_diff_to_text(const uint8_t *diff, size_t difflen,
    cdc_buf_t *out, char *err, size_t errlen)
{
    static const char  *ops[] = { "replace", "insert", "remove" };
    const uint8_t      *p, *end;
    cdc_jdiff_t         d;
    int                 rc, first;

    p = diff;
    end = diff + difflen;
    first = 1;

    if (cdc_buf_put(out, "[", 1) != 0) {
        return -1;
    }

    while ((rc = cdc_jdiff_next(&p, end, &d, err, errlen)) == 1) {
        if (cdc_buf_put(out, first ? "{\"op\":\"" : ",{\"op\":\"",
                        first ? 7 : 8) != 0
            || cdc_buf_put(out, ops[d.op], strlen(ops[d.op])) != 0
            || cdc_buf_put(out, "\",\"path\":", 9) != 0
            || cdc_binlog_json_escape(out, d.path, d.path_len) != 0)
        {
            return -1;
        }
        first = 0;

        if (d.op != 2) {
            if (cdc_buf_put(out, ",\"value\":", 9) != 0
                || cdc_binlog_json_to_text(d.val, d.val_len, out, err,
                                           errlen) != 0)
            {
                return -1;
            }
        }

        if (cdc_buf_put(out, "}", 1) != 0) {
            return -1;
        }
    }

    if (rc < 0) {
        return -1;
    }

    return cdc_buf_put(out, "]", 1);
}


/*
 * One step of a MySQL JSON path: .key, ."key" or [n].  Returns 1 with the
 * step, 0 at the end, -1 on a syntax error.
 */
static int
cdc_jpath_step(const char **pp, const char *end, char *key, size_t keylen,
    long *idx)
{
    const char  *p;
    size_t       n;

    p = *pp;
    if (p >= end) {
        return 0;
    }

    n = 0;

    if (*p == '[') {
        p++;
        if (p >= end || *p < '0' || *p > '9') {
            return -1;
        }
        *idx = 0;
        while (p < end && *p >= '0' && *p <= '9') {
            *idx = *idx * 10 + (*p++ - '0');
            if (*idx > 100000000) {
                return -1;
            }
        }
        if (p >= end || *p != ']') {
            return -1;
        }
        *pp = p + 1;
        key[0] = '\0';
        return 1;
    }

    if (*p != '.') {
        return -1;
    }
    p++;
    *idx = -1;

    if (p < end && *p == '"') {
        p++;
        while (p < end && *p != '"') {
            if (*p == '\\' && p + 1 < end) {
                p++;
            }
            if (n + 1 >= keylen) {
                return -1;
            }
            key[n++] = *p++;
        }
        if (p >= end) {
            return -1;
        }
        p++;

    } else {
        while (p < end && *p != '.' && *p != '[') {
            if (n + 1 >= keylen) {
                return -1;
            }
            key[n++] = *p++;
        }
        if (n == 0) {
            return -1;
        }
    }

    key[n] = '\0';
    *pp = p;
    return 1;
}


static int
cdc_jdiff_apply_one(json_t **root, const cdc_jdiff_t *d, json_t *val)
{
    const char  *p, *end;
    char         key[1024];
    long         idx;
    json_t      *cur, *next;
    int          rc;

    p = d->path;
    end = d->path + d->path_len;
    if (p >= end || *p != '$') {
        return -1;
    }
    p++;

    rc = cdc_jpath_step(&p, end, key, sizeof(key), &idx);
    if (rc < 0) {
        return -1;
    }

    if (rc == 0) {
        if (d->op != 0) {
            return -1;
        }
        json_decref(*root);
        *root = json_incref(val);
        return 0;
    }

    cur = *root;

    for ( ;; ) {
        const char  *save;
        char         nkey[1024];
        long         nidx;

        save = p;
        rc = cdc_jpath_step(&p, end, nkey, sizeof(nkey), &nidx);
        if (rc < 0) {
            return -1;
        }

        if (rc == 0) {
            break;
        }

        next = idx >= 0 ? json_array_get(cur, (size_t) idx)
                        : json_object_get(cur, key);
        if (next == NULL) {
            return -1;
        }
        cur = next;
        (void) save;
        memcpy(key, nkey, sizeof(key));
        idx = nidx;
    }

    /* the last step on cur */
    switch (d->op) {
    case 0:
        if (idx >= 0) {
            return json_array_set(cur, (size_t) idx, val);
        }
        if (json_object_get(cur, key) == NULL) {
            return -1;
        }
        return json_object_set(cur, key, val);
    case 1:
        if (idx >= 0) {
            if ((size_t) idx >= json_array_size(cur)) {
                return json_array_append(cur, val);
            }
            return json_array_insert(cur, (size_t) idx, val);
        }
        return json_object_set(cur, key, val);
    default:
        if (idx >= 0) {
            return json_array_remove(cur, (size_t) idx);
        }
        return json_object_del(cur, key);
    }
}


int
cdc_binlog_json_diff_apply(const char *doc, size_t doclen,
    const uint8_t *diff, size_t difflen, cdc_buf_t *out, char *err,
    size_t errlen)
{
    json_t         *root, *val;
    json_error_t    je;
    const uint8_t  *p, *end;
    cdc_jdiff_t     d;
    cdc_buf_t       tmp = { NULL, 0, 0 };
    char           *s;
    int             rc;

    root = json_loadb(doc, doclen, JSON_DECODE_ANY, &je);
    if (root == NULL) {
        return cdc_bl_error(err, errlen, "JSON diff: the before document "
                            "does not parse: %s", je.text);
    }

    p = diff;
    end = diff + difflen;
    val = NULL;

    while ((rc = cdc_jdiff_next(&p, end, &d, err, errlen)) == 1) {
        val = NULL;
        if (d.op != 2) {
            tmp.len = 0;
            if (cdc_binlog_json_to_text(d.val, d.val_len, &tmp, err, errlen)
                != 0)
            {
                rc = -1;
                break;
            }
            val = json_loadb(tmp.data, tmp.len, JSON_DECODE_ANY, &je);
            if (val == NULL) {
                rc = cdc_bl_error(err, errlen, "JSON diff: value does not "
                                  "parse: %s", je.text);
                break;
            }
        }

        if (cdc_jdiff_apply_one(&root, &d, val) != 0) {
            rc = cdc_bl_error(err, errlen, "JSON diff: cannot apply %s at "
                              "path %.*s",
                              d.op == 0 ? "replace"
                              : (d.op == 1 ? "insert" : "remove"),
                              (int) d.path_len, d.path);
            json_decref(val);
            break;
        }
        json_decref(val);
    }

    cdc_buf_free(&tmp);

    if (rc < 0) {
        json_decref(root);
        return -1;
    }

    s = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER
                         | JSON_ENCODE_ANY);
    json_decref(root);
    if (s == NULL) {
        return cdc_bl_error(err, errlen, "JSON diff: cannot print result");
    }

    rc = cdc_buf_put(out, s, strlen(s));
    free(s);
    return rc;
}
