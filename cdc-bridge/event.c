/*
 * event: Debezium-compatible envelopes and the JSON form of every column
 * type (docs/events.md), appended by hand into a reusable cdc_buf_t.
 */

#include <arpa/inet.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "event.h"


static int cdc_put_tm_date(cdc_buf_t *b, unsigned y, unsigned m,
    unsigned d);


int
cdc_buf_putc(cdc_buf_t *b, char c)
{
    if (b->cap - b->len < 2 && cdc_buf_grow(b, 2) != 0) {
        return -1;
    }

    b->data[b->len++] = c;
    b->data[b->len] = '\0';
    return 0;
}


int
cdc_buf_puts(cdc_buf_t *b, const char *s)
{
    return cdc_buf_put(b, s, strlen(s));
}


int
cdc_buf_put_u64(cdc_buf_t *b, uint64_t v)
{
    char   tmp[24];
    char  *e;

    e = tmp + sizeof(tmp);
    do {
        *--e = (char) ('0' + v % 10);
        v /= 10;
    } while (v);

    return cdc_buf_put(b, e, (size_t) (tmp + sizeof(tmp) - e));
}


int
cdc_buf_put_i64(cdc_buf_t *b, int64_t v)
{
    if (v < 0) {
        return cdc_buf_putc(b, '-') == 0
               ? cdc_buf_put_u64(b, 0 - (uint64_t) v) : -1;
    }

    return cdc_buf_put_u64(b, (uint64_t) v);
}


int
cdc_buf_put_double(cdc_buf_t *b, double v)
{
    return cdc_binlog_put_double(b, v, 0);
}


int
cdc_buf_put_float(cdc_buf_t *b, float v)
{
    return cdc_binlog_put_double(b, v, 1);
}


int
cdc_json_put_str(cdc_buf_t *b, const char *s, size_t len)
{
    return cdc_binlog_json_escape(b, s, len);
}


int
cdc_json_put_base64(cdc_buf_t *b, const uint8_t *p, size_t len)
{
    return cdc_binlog_base64(b, p, len);
}


/* ------------------------------------------------------------------ */
/* character sets                                                       */

/* cp1252's 0x80-0x9f (MySQL's latin1 is cp1252; undefined → C1) */
static const uint16_t  cdc_cp1252[32] = {
    0x20ac, 0x0081, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021,
    0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008d, 0x017d, 0x008f,
    0x0090, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
    0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x009d, 0x017e, 0x0178
};


typedef enum {
    CDC_CS_UTF8 = 0,
    CDC_CS_LATIN1,
    CDC_CS_ICONV
} cdc_cs_kind_t;


static cdc_cs_kind_t
cdc_charset_kind(unsigned id, const char **name)
{
    *name = NULL;

    switch (id) {
    case 5: case 8: case 15: case 31: case 47: case 48: case 49: case 94:
    case 11: case 65:
        return CDC_CS_LATIN1;
    case 26: case 34: case 44: case 66: case 99:
        *name = "CP1250"; break;
    case 9: case 21: case 27: case 77:
        *name = "ISO-8859-2"; break;
    case 14: case 23: case 50: case 51: case 52:
        *name = "CP1251"; break;
    case 7: case 74:
        *name = "KOI8-R"; break;
    case 22: case 75:
        *name = "KOI8-U"; break;
    case 25: case 70:
        *name = "ISO-8859-7"; break;
    case 16: case 71:
        *name = "ISO-8859-8"; break;
    case 57: case 67:
        *name = "CP1256"; break;
    case 29: case 58: case 59:
        *name = "CP1257"; break;
    case 28: case 87:
        *name = "GBK"; break;
    case 1: case 84:
        *name = "BIG5"; break;
    case 13: case 88:
        *name = "SHIFT_JIS"; break;
    case 12: case 91:
        *name = "EUC-JP"; break;
    case 19: case 85:
        *name = "EUC-KR"; break;
    case 24: case 86:
        *name = "GB2312"; break;
    case 95: case 96:
        *name = "CP932"; break;
    case 97: case 98:
        *name = "EUC-JP-MS"; break;
    case 35: case 90:
        *name = "UCS-2BE"; break;
    case 54: case 55:
        *name = "UTF-16BE"; break;
    case 56: case 62:
        *name = "UTF-16LE"; break;
    case 60: case 61:
        *name = "UTF-32BE"; break;
    case 248: case 249: case 250:
        *name = "GB18030"; break;
    case 18: case 69:
        *name = "TIS-620"; break;
    case 30: case 78:
        *name = "ISO-8859-9"; break;
    case 20: case 41: case 42: case 79:
        *name = "ISO-8859-13"; break;
    case 4: case 80:
        *name = "CP850"; break;
    case 40: case 81:
        *name = "CP852"; break;
    case 36: case 68:
        *name = "CP866"; break;
    case 39: case 53:
        *name = "MACINTOSH"; break;
    default:
        if ((id >= 128 && id <= 151) || (id >= 358 && id <= 383)) {
            *name = "UCS-2BE";
        } else if (id >= 101 && id <= 124) {
            *name = "UTF-16BE";
        } else if (id >= 160 && id <= 183) {
            *name = "UTF-32BE";
        } else {
            return CDC_CS_UTF8;
        }
    }

    return CDC_CS_ICONV;
}


static int
cdc_json_put_latin1(cdc_buf_t *b, const uint8_t *s, size_t len)
{
    size_t    i;
    char     *o;
    unsigned  cp;

    if (cdc_buf_grow(b, len * 6 + 3) != 0) {
        return -1;
    }

    o = b->data + b->len;
    *o++ = '"';

    for (i = 0; i < len; i++) {
        cp = s[i];
        if (cp >= 0x20 && cp < 0x80 && cp != '"' && cp != '\\') {
            *o++ = (char) cp;
            continue;
        }

        if (cp < 0x80) {
            b->len = (size_t) (o - b->data);
            if (cdc_binlog_json_escape_raw(b, (const char *) s + i, 1) != 0)
            {
                return -1;
            }
            o = b->data + b->len;
            continue;
        }

        if (cp >= 0x80 && cp < 0xa0) {
            cp = cdc_cp1252[cp - 0x80];
        }

        if (cp < 0x800) {
            *o++ = (char) (0xc0 | (cp >> 6));
            *o++ = (char) (0x80 | (cp & 0x3f));
        } else {
            *o++ = (char) (0xe0 | (cp >> 12));
            *o++ = (char) (0x80 | ((cp >> 6) & 0x3f));
            *o++ = (char) (0x80 | (cp & 0x3f));
        }
    }

    *o++ = '"';
    *o = '\0';
    b->len = (size_t) (o - b->data);
    return 0;
}


static int
cdc_json_put_iconv(cdc_buf_t *b, const char *name, const char *s,
    size_t len)
{
    static __thread iconv_t      cd = (iconv_t) -1;
    static __thread const char  *cd_name;
    static __thread cdc_buf_t    tmp;      /* reused: no malloc per value */
    char                        *in, *out;
    size_t                       inleft, outleft, r;

    if (cd == (iconv_t) -1 || cd_name != name) {
        if (cd != (iconv_t) -1) {
            iconv_close(cd);
        }
        cd = iconv_open("UTF-8", name);
        cd_name = name;
        if (cd == (iconv_t) -1) {
            return cdc_json_put_str(b, s, len);
        }
    }

    tmp.len = 0;
    if (cdc_buf_grow(&tmp, len * 4 + 16) != 0) {
        return -1;
    }

    in = (char *) s;
    inleft = len;
    out = tmp.data;
    outleft = tmp.cap - 1;
    (void) iconv(cd, NULL, NULL, NULL, NULL);

    while (inleft > 0) {
        r = iconv(cd, &in, &inleft, &out, &outleft);
        if (r != (size_t) -1) {
            break;
        }
        /* an invalid byte: U+FFFD and go on */
        if (outleft < 3) {
            break;
        }
        *out++ = (char) 0xef;
        *out++ = (char) 0xbf;
        *out++ = (char) 0xbd;
        outleft -= 3;
        in++;
        inleft--;
    }

    return cdc_json_put_str(b, tmp.data, (size_t) (out - tmp.data));
}


int
cdc_json_put_text(cdc_buf_t *b, unsigned charset, const char *s,
    size_t len)
{
    const char  *name;

    switch (cdc_charset_kind(charset, &name)) {
    case CDC_CS_LATIN1:
        return cdc_json_put_latin1(b, (const uint8_t *) s, len);
    case CDC_CS_ICONV:
        return cdc_json_put_iconv(b, name, s, len);
    default:
        return cdc_json_put_str(b, s, len);
    }
}


int
cdc_json_put_bits(cdc_buf_t *b, const uint8_t *p, size_t len,
    unsigned nbits)
{
    unsigned  i, total;
    char     *o;

    total = (unsigned) len * 8;
    if (nbits > total) {
        nbits = total;
    }

    if (cdc_buf_grow(b, nbits + 3) != 0) {
        return -1;
    }

    o = b->data + b->len;
    *o++ = '"';
    for (i = total - nbits; i < total; i++) {
        *o++ = (p[i / 8] >> (7 - i % 8)) & 1 ? '1' : '0';
    }
    *o++ = '"';
    *o = '\0';
    b->len = (size_t) (o - b->data);
    return 0;
}


int
cdc_json_put_geometry(cdc_buf_t *b, const uint8_t *p, size_t len)
{
    uint32_t  srid;

    if (len < 4) {
        return cdc_json_put_base64(b, p, len);
    }

    srid = (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16
           | (uint32_t) p[3] << 24;

    if (cdc_buf_put(b, "{\"srid\":", 8) != 0
        || cdc_buf_put_u64(b, srid) != 0
        || cdc_buf_put(b, ",\"wkb\":", 7) != 0
        || cdc_json_put_base64(b, p + 4, len - 4) != 0)
    {
        return -1;
    }

    return cdc_buf_putc(b, '}');
}


/* ------------------------------------------------------------------ */
/* temporal text                                                        */

static char *
cdc_digits(char *o, unsigned v, unsigned width)
{
    char  *e;

    e = o + width;
    while (e > o) {
        *--e = (char) ('0' + v % 10);
        v /= 10;
    }

    return o + width;
}


static char *
cdc_frac(char *o, uint32_t usec, unsigned fsp)
{
    static const uint32_t  div[7] = { 1000000, 100000, 10000, 1000, 100,
                                      10, 1 };

    if (fsp == 0 || fsp > 6) {
        return o;
    }

    *o++ = '.';
    return cdc_digits(o, usec / div[fsp], fsp);
}


static int
cdc_put_tm_date(cdc_buf_t *b, unsigned y, unsigned m, unsigned d)
{
    char   tmp[16];
    char  *o;

    o = tmp;
    *o++ = '"';
    o = cdc_digits(o, y % 10000, 4);
    *o++ = '-';
    o = cdc_digits(o, m % 100, 2);
    *o++ = '-';
    o = cdc_digits(o, d % 100, 2);
    *o++ = '"';
    return cdc_buf_put(b, tmp, (size_t) (o - tmp));
}


static int
cdc_put_datetime(cdc_buf_t *b, const cdc_binlog_tm_t *tm, unsigned fsp,
    char sep, int zulu)
{
    char   tmp[40];
    char  *o;

    o = tmp;
    *o++ = '"';
    o = cdc_digits(o, tm->year % 10000, 4);
    *o++ = '-';
    o = cdc_digits(o, tm->month % 100, 2);
    *o++ = '-';
    o = cdc_digits(o, tm->day % 100, 2);
    *o++ = sep;
    o = cdc_digits(o, tm->hour % 100, 2);
    *o++ = ':';
    o = cdc_digits(o, tm->minute % 100, 2);
    *o++ = ':';
    o = cdc_digits(o, tm->second % 100, 2);
    o = cdc_frac(o, tm->usec, fsp);
    if (zulu) {
        *o++ = 'Z';
    }
    *o++ = '"';
    return cdc_buf_put(b, tmp, (size_t) (o - tmp));
}


static int
cdc_put_time(cdc_buf_t *b, const cdc_binlog_tm_t *tm, unsigned fsp)
{
    char   tmp[32];
    char  *o;

    o = tmp;
    *o++ = '"';
    if (tm->neg) {
        *o++ = '-';
    }
    o = cdc_digits(o, tm->hour % 10000,
                   tm->hour >= 1000 ? 4 : (tm->hour >= 100 ? 3 : 2));
    *o++ = ':';
    o = cdc_digits(o, tm->minute % 100, 2);
    *o++ = ':';
    o = cdc_digits(o, tm->second % 100, 2);
    o = cdc_frac(o, tm->usec, fsp);
    *o++ = '"';
    return cdc_buf_put(b, tmp, (size_t) (o - tmp));
}


/* seconds since the epoch → civil UTC (Howard Hinnant's algorithm) */
static void
cdc_civil(int64_t sec, cdc_binlog_tm_t *tm)
{
    int64_t   days, rem, z, era, doe, yoe, y, doy, mp, d, m;

    days = sec / 86400;
    rem = sec % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }

    z = days + 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    y = yoe + era * 400;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;

    tm->year = (unsigned) (y + (m <= 2));
    tm->month = (unsigned) m;
    tm->day = (unsigned) d;
    tm->hour = (unsigned) (rem / 3600);
    tm->minute = (unsigned) (rem / 60 % 60);
    tm->second = (unsigned) (rem % 60);
}


/* ------------------------------------------------------------------ */
/* binlog values                                                        */

int
cdc_event_put_native(cdc_buf_t *b, unsigned native, const uint8_t *p,
    size_t len)
{
    uint8_t   v[16];
    char      tmp[INET6_ADDRSTRLEN + 4], *o;
    size_t    n, i;

    n = native == CDC_NATIVE_INET4 ? 4 : 16;

    if (len > n) {
        /* not what the declared type stores: keep the bytes */
        return cdc_json_put_base64(b, p, len);
    }

    /* BINARY(n) in the binlog: trailing zero bytes dropped */
    memset(v, 0, sizeof(v));
    memcpy(v, p, len);

    o = tmp;
    *o++ = '"';

    if (native == CDC_NATIVE_UUID) {
        for (i = 0; i < 16; i++) {
            if (i == 4 || i == 6 || i == 8 || i == 10) {
                *o++ = '-';
            }
            *o++ = "0123456789abcdef"[v[i] >> 4];
            *o++ = "0123456789abcdef"[v[i] & 15];
        }

    } else if (inet_ntop(native == CDC_NATIVE_INET4 ? AF_INET : AF_INET6, v,
                         o, INET6_ADDRSTRLEN) != NULL)
    {
        o += strlen(o);

    } else {
        return cdc_json_put_base64(b, p, len);
    }

    *o++ = '"';

    return cdc_buf_put(b, tmp, (size_t) (o - tmp));
}


static int
cdc_is_blob_type(unsigned t)
{
    return t == CDC_MT_BLOB || t == CDC_MT_TINY_BLOB
           || t == CDC_MT_MEDIUM_BLOB || t == CDC_MT_LONG_BLOB;
}


static int
cdc_put_labels(cdc_buf_t *b, const cdc_binlog_column_t *c, uint64_t v,
    int set)
{
    unsigned  i;
    int       first;

    if (c->labels == NULL) {
        return cdc_buf_put_u64(b, v);
    }

    if (!set) {
        if (v == 0) {
            return cdc_buf_put(b, "\"\"", 2);
        }
        if (v > c->nlabels) {
            return cdc_buf_put_u64(b, v);
        }
        return cdc_json_put_str(b, c->labels[v - 1],
                                strlen(c->labels[v - 1]));
    }

    if (cdc_buf_putc(b, '"') != 0) {
        return -1;
    }

    first = 1;
    for (i = 0; i < c->nlabels && i < 64; i++) {
        if (!((v >> i) & 1)) {
            continue;
        }
        if (!first && cdc_buf_putc(b, ',') != 0) {
            return -1;
        }
        first = 0;
        if (cdc_binlog_json_escape_raw(b, c->labels[i],
                                       strlen(c->labels[i])) != 0)
        {
            return -1;
        }
    }

    return cdc_buf_putc(b, '"');
}


int
cdc_event_put_binlog_value(cdc_buf_t *b, const cdc_binlog_column_t *c,
    const cdc_binlog_value_t *v, const cdc_binlog_value_t *before,
    cdc_buf_t *scratch, char *err, size_t errlen)
{
    char             tmp[96];
    int              n;
    cdc_binlog_tm_t  tm;
    cdc_buf_t        doc = { NULL, 0, 0 };
    size_t           mark;

    switch (v->kind) {

    case CDC_V_ABSENT:
    case CDC_V_NULL:
        return cdc_buf_put(b, "null", 4);

    case CDC_V_INT:
        return cdc_buf_put_i64(b, v->v.i);

    case CDC_V_UINT:
    case CDC_V_YEAR:
        return cdc_buf_put_u64(b, v->v.u);

    case CDC_V_FLOAT:
        return cdc_binlog_put_double(b, v->v.d, 1);

    case CDC_V_DOUBLE:
        return cdc_binlog_put_double(b, v->v.d, 0);

    case CDC_V_DECIMAL:
        tmp[0] = '"';
        n = cdc_binlog_decimal_to_str(v->v.s.p, v->v.s.len, c->meta,
                                      c->meta2, tmp + 1, sizeof(tmp) - 2,
                                      err, errlen);
        if (n < 0) {
            return -1;
        }
        tmp[n + 1] = '"';
        return cdc_buf_put(b, tmp, (size_t) n + 2);

    case CDC_V_DATE:
        return cdc_put_tm_date(b, v->v.tm.year, v->v.tm.month, v->v.tm.day);

    case CDC_V_DATETIME:
        return cdc_put_datetime(b, &v->v.tm, v->fsp, ' ', 0);

    case CDC_V_TIMESTAMP:
        if (v->v.ts.sec == 0 && v->v.ts.usec == 0) {
            memset(&tm, 0, sizeof(tm));
        } else {
            cdc_civil(v->v.ts.sec, &tm);
            tm.usec = v->v.ts.usec;
        }
        return cdc_put_datetime(b, &tm, v->fsp, 'T', 1);

    case CDC_V_TIME:
        return cdc_put_time(b, &v->v.tm, v->fsp);

    case CDC_V_STRING:
        if (c->charset == 0 && cdc_is_blob_type(c->type)
            && !cdc_binlog_utf8_valid(v->v.s.p, v->v.s.len))
        {
            /* no charset metadata: bytes that are not text */
            return cdc_json_put_base64(b, v->v.s.p, v->v.s.len);
        }
        return cdc_json_put_text(b, c->charset, (const char *) v->v.s.p,
                                 v->v.s.len);

    case CDC_V_BINARY:
        if (c->native != CDC_NATIVE_NONE) {
            return cdc_event_put_native(b, c->native, v->v.s.p, v->v.s.len);
        }
        if (c->type == CDC_MT_STRING && v->v.s.len < c->meta) {
            /* BINARY(n): the binlog drops trailing zero bytes */
            scratch->len = 0;
            if (cdc_buf_grow(scratch, c->meta + 1) != 0) {
                return -1;
            }
            memcpy(scratch->data, v->v.s.p, v->v.s.len);
            memset(scratch->data + v->v.s.len, 0, c->meta - v->v.s.len);
            return cdc_json_put_base64(b, (uint8_t *) scratch->data,
                                       c->meta);
        }
        return cdc_json_put_base64(b, v->v.s.p, v->v.s.len);

    case CDC_V_ENUM:
        return cdc_put_labels(b, c, v->v.u, 0);

    case CDC_V_SET:
        return cdc_put_labels(b, c, v->v.u, 1);

    case CDC_V_BIT:
        return cdc_json_put_bits(b, v->v.s.p, v->v.s.len, c->meta);

    case CDC_V_JSON:
        scratch->len = 0;
        if (cdc_binlog_json_to_text(v->v.s.p, v->v.s.len, scratch, err,
                                    errlen) != 0)
        {
            return -1;
        }
        return cdc_json_put_str(b, scratch->data, scratch->len);

    case CDC_V_JSON_DIFF:
        if (before != NULL && before->kind == CDC_V_JSON) {
            scratch->len = 0;
            if (cdc_binlog_json_to_text(before->v.s.p, before->v.s.len,
                                        scratch, err, errlen) != 0
                || cdc_binlog_json_diff_apply(scratch->data, scratch->len,
                                              v->v.s.p, v->v.s.len, &doc,
                                              err, errlen) != 0)
            {
                cdc_buf_free(&doc);
                return -1;
            }
            n = cdc_json_put_str(b, doc.data, doc.len);
            cdc_buf_free(&doc);
            return n;
        }
        mark = b->len;
        if (cdc_buf_put(b, "{\"json_diff\":", 13) != 0
            || cdc_binlog_json_diff_to_text(v->v.s.p, v->v.s.len, b, err,
                                            errlen) != 0)
        {
            b->len = mark;
            return -1;
        }
        return cdc_buf_putc(b, '}');

    case CDC_V_GEOMETRY:
        return cdc_json_put_geometry(b, v->v.s.p, v->v.s.len);

    case CDC_V_VECTOR:
        return cdc_json_put_base64(b, v->v.s.p, v->v.s.len);
    }

    snprintf(err, errlen, "value kind %d unknown", (int) v->kind);
    return -1;
}


/* ------------------------------------------------------------------ */
/* text-protocol values (the snapshot)                                  */

int
cdc_event_put_sql_value(cdc_buf_t *b, unsigned mysql_type,
    unsigned flags, unsigned charsetnr, unsigned length, const char *s,
    size_t len)
{
    char     *end;
    double    d;
    char      tmp[64];

    if (s == NULL) {
        return cdc_buf_put(b, "null", 4);
    }

    switch (mysql_type) {

    case CDC_MT_TINY:
    case CDC_MT_SHORT:
    case CDC_MT_INT24:
    case CDC_MT_LONG:
    case CDC_MT_LONGLONG:
    case CDC_MT_YEAR:
        /* YEAR 0 is shown as "0000": a number has no leading zeros */
        while (len > 1 && s[0] == '0') {
            s++;
            len--;
        }
        if (len == 0) {
            return cdc_buf_put(b, "0", 1);
        }
        return cdc_buf_put(b, s, len);

    case CDC_MT_DECIMAL:
    case CDC_MT_NEWDECIMAL:
        return cdc_json_put_str(b, s, len);

    case CDC_MT_FLOAT:
    case CDC_MT_DOUBLE:
        if (len >= sizeof(tmp)) {
            return cdc_json_put_str(b, s, len);
        }
        memcpy(tmp, s, len);
        tmp[len] = '\0';
        d = strtod(tmp, &end);
        if (end == tmp) {
            return cdc_buf_put(b, "null", 4);
        }
        return cdc_binlog_put_double(b, mysql_type == CDC_MT_FLOAT
                                        ? (double) (float) d : d,
                                     mysql_type == CDC_MT_FLOAT);

    case CDC_MT_TIMESTAMP:
    case CDC_MT_TIMESTAMP2:
        if (len < 19 || len >= sizeof(tmp) - 4) {
            return cdc_json_put_str(b, s, len);
        }
        tmp[0] = '"';
        memcpy(tmp + 1, s, len);
        tmp[11] = 'T';
        tmp[len + 1] = 'Z';
        tmp[len + 2] = '"';
        return cdc_buf_put(b, tmp, len + 3);

    case CDC_MT_BIT:
        return cdc_json_put_bits(b, (const uint8_t *) s, len,
                                 length ? length : (unsigned) len * 8);

    case CDC_MT_GEOMETRY:
        return cdc_json_put_geometry(b, (const uint8_t *) s, len);

    case CDC_MT_JSON:
    case CDC_MT_DATE:
    case CDC_MT_NEWDATE:
    case CDC_MT_DATETIME:
    case CDC_MT_DATETIME2:
    case CDC_MT_TIME:
    case CDC_MT_TIME2:
    case CDC_MT_ENUM:
    case CDC_MT_SET:
        return cdc_json_put_str(b, s, len);

    case CDC_MT_VECTOR:
        return cdc_json_put_base64(b, (const uint8_t *) s, len);

    default:
        if (flags & (CDC_SQL_ENUM_FLAG | CDC_SQL_SET_FLAG)) {
            return cdc_json_put_str(b, s, len);
        }
        if (charsetnr == CDC_CHARSET_BINARY) {
            /* BINARY(n) arrives padded by the server already */
            return cdc_json_put_base64(b, (const uint8_t *) s, len);
        }
        return cdc_json_put_str(b, s, len);
    }
}


/* ------------------------------------------------------------------ */
/* topic, rows, key, envelope                                           */

int
cdc_event_topic(cdc_buf_t *b, const char *prefix, const char *db,
    const char *table)
{
    if (cdc_buf_puts(b, prefix) != 0 || cdc_buf_putc(b, '.') != 0
        || cdc_buf_puts(b, db) != 0 || cdc_buf_putc(b, '.') != 0)
    {
        return -1;
    }

    return cdc_buf_puts(b, table);
}


const char *
cdc_event_column_name(const cdc_binlog_table_t *t, unsigned i, char *buf,
    size_t len)
{
    if (t->cols[i].name != NULL) {
        return t->cols[i].name;
    }

    snprintf(buf, len, "col_%u", i + 1);
    return buf;
}


static int
cdc_put_field_name(cdc_buf_t *b, const cdc_binlog_table_t *t, unsigned i)
{
    char         tmp[24];
    const char  *name;

    name = cdc_event_column_name(t, i, tmp, sizeof(tmp));
    if (cdc_json_put_str(b, name, strlen(name)) != 0) {
        return -1;
    }

    return cdc_buf_putc(b, ':');
}


int
cdc_event_put_binlog_row(cdc_buf_t *b, const cdc_binlog_table_t *t,
    const cdc_binlog_value_t *vals, const cdc_binlog_value_t *before,
    cdc_buf_t *scratch, char *err, size_t errlen)
{
    unsigned  i;
    int       first;

    if (cdc_buf_putc(b, '{') != 0) {
        return -1;
    }

    first = 1;
    for (i = 0; i < t->ncols; i++) {
        if (vals[i].kind == CDC_V_ABSENT) {
            continue;
        }

        if ((!first && cdc_buf_putc(b, ',') != 0)
            || cdc_put_field_name(b, t, i) != 0)
        {
            return -1;
        }
        first = 0;

        if (cdc_event_put_binlog_value(b, &t->cols[i], &vals[i],
                                       before ? &before[i] : NULL, scratch,
                                       err, errlen)
            != 0)
        {
            return -1;
        }
    }

    return cdc_buf_putc(b, '}');
}


int
cdc_event_put_binlog_key(cdc_buf_t *b, const cdc_binlog_table_t *t,
    const cdc_binlog_value_t *vals, cdc_buf_t *scratch, char *err,
    size_t errlen)
{
    unsigned  i, c;

    if (t->npk == 0) {
        return cdc_buf_put(b, "null", 4);
    }

    for (i = 0; i < t->npk; i++) {
        if (vals[t->pk[i]].kind == CDC_V_ABSENT) {
            return cdc_buf_put(b, "null", 4);
        }
    }

    if (cdc_buf_putc(b, '{') != 0) {
        return -1;
    }

    for (i = 0; i < t->npk; i++) {
        c = t->pk[i];
        if ((i && cdc_buf_putc(b, ',') != 0)
            || cdc_put_field_name(b, t, c) != 0
            || cdc_event_put_binlog_value(b, &t->cols[c], &vals[c], NULL,
                                          scratch, err, errlen) != 0)
        {
            return -1;
        }
    }

    return cdc_buf_putc(b, '}');
}


int
cdc_event_value_begin(cdc_buf_t *b)
{
    return cdc_buf_put(b, "{\"before\":", 10);
}


int
cdc_event_value_after(cdc_buf_t *b)
{
    return cdc_buf_put(b, ",\"after\":", 9);
}


static int
cdc_put_str_or_null(cdc_buf_t *b, const char *s)
{
    if (s == NULL) {
        return cdc_buf_put(b, "null", 4);
    }

    return cdc_json_put_str(b, s, strlen(s));
}


int
cdc_event_value_end(cdc_buf_t *b, const cdc_event_source_t *src, char op,
    uint64_t now_ms)
{
    char  ops[8];

    ops[0] = '"';
    ops[1] = op;
    ops[2] = '"';

    if (cdc_buf_put(b, ",\"source\":{\"version\":\""
                       CDC_EVENT_VERSION "\",\"connector\":\"mysql\","
                       "\"name\":",
                    sizeof(",\"source\":{\"version\":\"" CDC_EVENT_VERSION
                           "\",\"connector\":\"mysql\",\"name\":") - 1)
        != 0
        || cdc_put_str_or_null(b, src->name) != 0
        || cdc_buf_put(b, ",\"ts_ms\":", 9) != 0
        || cdc_buf_put_u64(b, src->ts_ms) != 0
        || cdc_buf_put(b, ",\"db\":", 6) != 0
        || cdc_put_str_or_null(b, src->db) != 0
        || cdc_buf_put(b, ",\"table\":", 9) != 0
        || cdc_put_str_or_null(b, src->table) != 0
        || cdc_buf_put(b, ",\"server_id\":", 13) != 0
        || cdc_buf_put_u64(b, src->server_id) != 0
        || cdc_buf_put(b, ",\"gtid\":", 8) != 0
        || cdc_put_str_or_null(b, src->gtid) != 0
        || cdc_buf_put(b, ",\"file\":", 8) != 0
        || cdc_put_str_or_null(b, src->file ? src->file : "") != 0
        || cdc_buf_put(b, ",\"pos\":", 7) != 0
        || cdc_buf_put_u64(b, src->pos) != 0
        || cdc_buf_put(b, ",\"row\":", 7) != 0
        || cdc_buf_put_u64(b, src->row) != 0
        || cdc_buf_put(b, ",\"snapshot\":", 12) != 0
        || cdc_put_str_or_null(b, src->snapshot ? src->snapshot : "false")
           != 0
        || cdc_buf_put(b, "},\"op\":", 7) != 0
        || cdc_buf_put(b, ops, 3) != 0
        || cdc_buf_put(b, ",\"ts_ms\":", 9) != 0
        || cdc_buf_put_u64(b, now_ms) != 0)
    {
        return -1;
    }

    return cdc_buf_putc(b, '}');
}


uint64_t
cdc_event_now_ms(void)
{
    return (uint64_t) cdc_clock_wall_ms();
}
