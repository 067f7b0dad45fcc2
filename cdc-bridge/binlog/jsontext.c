/*
 * JSON text helpers shared by the binlog library and the envelope writer:
 * string escaping with UTF-8 validation, shortest round-trip numbers and
 * base64.  All append to a cdc_buf_t, with no allocation beyond its
 * growth.
 */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "binlog_int.h"


static const char  cdc_hex[] = "0123456789abcdef";
static const char  cdc_b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";


/* length of the valid UTF-8 sequence at p (max n bytes), 0 if invalid */
static size_t
cdc_utf8_len(const uint8_t *p, size_t n)
{
    uint8_t  c;

    c = p[0];

    if (c >= 0xc2 && c <= 0xdf) {
        return (n >= 2 && (p[1] & 0xc0) == 0x80) ? 2 : 0;
    }

    if (c >= 0xe0 && c <= 0xef) {
        if (n < 3 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80) {
            return 0;
        }
        if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] > 0x9f)) {
            return 0;
        }
        return 3;
    }

    if (c >= 0xf0 && c <= 0xf4) {
        if (n < 4 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80
            || (p[3] & 0xc0) != 0x80)
        {
            return 0;
        }
        if ((c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] > 0x8f)) {
            return 0;
        }
        return 4;
    }

    return 0;
}


int
cdc_binlog_utf8_valid(const uint8_t *p, size_t len)
{
    size_t  i, n;

    for (i = 0; i < len; ) {
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        n = cdc_utf8_len(p + i, len - i);
        if (n == 0) {
            return 0;
        }
        i += n;
    }

    return 1;
}


int
cdc_binlog_json_escape(cdc_buf_t *b, const char *str, size_t len)
{
    if (cdc_buf_grow(b, len * 6 + 3) != 0) {
        return -1;
    }

    b->data[b->len++] = '"';
    if (cdc_binlog_json_escape_raw(b, str, len) != 0) {
        return -1;
    }
    b->data[b->len++] = '"';
    b->data[b->len] = '\0';
    return 0;
}


int
cdc_binlog_json_escape_raw(cdc_buf_t *b, const char *str, size_t len)
{
    const uint8_t  *s, *run;
    size_t          i, n;
    char           *o;
    uint8_t         c;

    /* worst case 6 bytes per input byte, plus quotes */
    if (cdc_buf_grow(b, len * 6 + 3) != 0) {
        return -1;
    }

    s = (const uint8_t *) str;
    o = b->data + b->len;

    for (i = 0; i < len; ) {
        c = s[i];

        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            run = s + i;
            do {
                i++;
            } while (i < len && s[i] >= 0x20 && s[i] < 0x80 && s[i] != '"'
                     && s[i] != '\\');
            memcpy(o, run, (size_t) (s + i - run));
            o += s + i - run;
            continue;
        }

        if (c >= 0x80) {
            n = cdc_utf8_len(s + i, len - i);
            if (n == 0) {
                /* U+FFFD REPLACEMENT CHARACTER */
                *o++ = (char) 0xef;
                *o++ = (char) 0xbf;
                *o++ = (char) 0xbd;
                i++;
                continue;
            }
            memcpy(o, s + i, n);
            o += n;
            i += n;
            continue;
        }

        *o++ = '\\';
        switch (c) {
        case '"': *o++ = '"'; break;
        case '\\': *o++ = '\\'; break;
        case '\n': *o++ = 'n'; break;
        case '\r': *o++ = 'r'; break;
        case '\t': *o++ = 't'; break;
        case '\b': *o++ = 'b'; break;
        case '\f': *o++ = 'f'; break;
        default:
            *o++ = 'u';
            *o++ = '0';
            *o++ = '0';
            *o++ = cdc_hex[c >> 4];
            *o++ = cdc_hex[c & 15];
        }
        i++;
    }

    *o = '\0';
    b->len = (size_t) (o - b->data);
    return 0;
}


int
cdc_binlog_put_double(cdc_buf_t *b, double v, int is_float)
{
    char    tmp[40];
    int     prec, n;
    float   f;

    if (!isfinite(v)) {
        return cdc_buf_put(b, "null", 4);
    }

    n = 0;
    for (prec = is_float ? 6 : 15; prec <= (is_float ? 9 : 17); prec++) {
        n = snprintf(tmp, sizeof(tmp), "%.*g", prec, v);
        if (n <= 0 || (size_t) n >= sizeof(tmp)) {
            return -1;
        }
        if (is_float) {
            f = strtof(tmp, NULL);
            if (f == (float) v) {
                break;
            }
        } else if (strtod(tmp, NULL) == v) {
            break;
        }
    }

    return cdc_buf_put(b, tmp, (size_t) n);
}


int
cdc_binlog_base64(cdc_buf_t *b, const uint8_t *p, size_t len)
{
    if (cdc_buf_put(b, "\"", 1) != 0
        || cdc_binlog_base64_raw(b, p, len) != 0)
    {
        return -1;
    }

    return cdc_buf_put(b, "\"", 1);
}


int
cdc_binlog_base64_raw(cdc_buf_t *b, const uint8_t *p, size_t len)
{
    char     *o;
    size_t    i;
    uint32_t  v;

    if (cdc_buf_grow(b, (len + 2) / 3 * 4 + 1) != 0) {
        return -1;
    }

    o = b->data + b->len;

    for (i = 0; i + 2 < len; i += 3) {
        v = (uint32_t) p[i] << 16 | (uint32_t) p[i + 1] << 8 | p[i + 2];
        *o++ = cdc_b64[v >> 18];
        *o++ = cdc_b64[(v >> 12) & 63];
        *o++ = cdc_b64[(v >> 6) & 63];
        *o++ = cdc_b64[v & 63];
    }

    if (i < len) {
        v = (uint32_t) p[i] << 16;
        if (i + 1 < len) {
            v |= (uint32_t) p[i + 1] << 8;
        }
        *o++ = cdc_b64[v >> 18];
        *o++ = cdc_b64[(v >> 12) & 63];
        *o++ = i + 1 < len ? cdc_b64[(v >> 6) & 63] : '=';
        *o++ = '=';
    }

    *o = '\0';
    b->len = (size_t) (o - b->data);
    return 0;
}
