/*
 * cdc-bridge sink: JSON reader keeping numbers as text (see json.h).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sink/json.h"


#define CDC_JV_BLOCK  (64 * 1024)
#define CDC_JV_DEPTH   64


struct cdc_jv_block_s {
    cdc_jv_block_t  *next;
    size_t              size;
    size_t              off;
    unsigned char       data[];
};


typedef struct {
    cdc_jv_arena_t  *arena;
    const char   *start;
    const char   *p;
    const char   *end;
    char         *err;
    size_t        errlen;
    int           depth;
} cdc_jv_parser_t;


static cdc_jv_t *cdc_jv_value(cdc_jv_parser_t *jp);


void *
cdc_jv_alloc(cdc_jv_arena_t *a, size_t size)
{
    size_t              bsize;
    cdc_jv_block_t  *b;
    void               *p;

    size = (size + 15) & ~(size_t) 15;
    b = a->head;

    if (b == NULL || b->size - b->off < size) {
        bsize = size > CDC_JV_BLOCK ? size : CDC_JV_BLOCK;
        b = malloc(sizeof(cdc_jv_block_t) + bsize);
        if (b == NULL) {
            return NULL;
        }
        b->size = bsize;
        b->off = 0;
        b->next = a->head;
        a->head = b;
    }

    p = b->data + b->off;
    b->off += size;
    a->used += size;

    return p;
}


char *
cdc_jv_strndup(cdc_jv_arena_t *a, const char *s, size_t len)
{
    char  *p;

    p = cdc_jv_alloc(a, len + 1);
    if (p == NULL) {
        return NULL;
    }

    memcpy(p, s, len);
    p[len] = '\0';

    return p;
}


void
cdc_jv_arena_free(cdc_jv_arena_t *a)
{
    cdc_jv_block_t  *b, *next;

    for (b = a->head; b; b = next) {
        next = b->next;
        free(b);
    }

    a->head = NULL;
    a->used = 0;
}


static void *
cdc_jv_fail(cdc_jv_parser_t *jp, const char *what)
{
    cdc_error(jp->err, jp->errlen, "offset %ld: %s",
              (long) (jp->p - jp->start), what);
    return NULL;
}


static void
cdc_jv_ws(cdc_jv_parser_t *jp)
{
    while (jp->p < jp->end
           && (*jp->p == ' ' || *jp->p == '\t' || *jp->p == '\n'
               || *jp->p == '\r'))
    {
        jp->p++;
    }
}


static int
cdc_jv_hex4(const char *p, unsigned *out)
{
    int       i;
    unsigned  v, c;

    v = 0;

    for (i = 0; i < 4; i++) {
        c = (unsigned char) p[i];

        if (c >= '0' && c <= '9') {
            c -= '0';
        } else if (c >= 'a' && c <= 'f') {
            c = c - 'a' + 10;
        } else if (c >= 'A' && c <= 'F') {
            c = c - 'A' + 10;
        } else {
            return -1;
        }

        v = v * 16 + c;
    }

    *out = v;

    return 0;
}


static char *
cdc_jv_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        *o++ = (char) cp;
    } else if (cp < 0x800) {
        *o++ = (char) (0xc0 | (cp >> 6));
        *o++ = (char) (0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        *o++ = (char) (0xe0 | (cp >> 12));
        *o++ = (char) (0x80 | ((cp >> 6) & 0x3f));
        *o++ = (char) (0x80 | (cp & 0x3f));
    } else {
        *o++ = (char) (0xf0 | (cp >> 18));
        *o++ = (char) (0x80 | ((cp >> 12) & 0x3f));
        *o++ = (char) (0x80 | ((cp >> 6) & 0x3f));
        *o++ = (char) (0x80 | (cp & 0x3f));
    }

    return o;
}


/* jp->p is just past the opening quote */
static char *
cdc_jv_string(cdc_jv_parser_t *jp, size_t *lenp)
{
    char        *out, *o;
    unsigned     cp, lo;
    const char  *s, *q;

    s = jp->p;

    for (q = s; q < jp->end && *q != '"' && *q != '\\'; q++) {
        if ((unsigned char) *q < 0x20) {
            jp->p = q;
            return cdc_jv_fail(jp, "control character in string");
        }
    }

    if (q < jp->end && *q == '"') {
        /* the common case: nothing to unescape */
        jp->p = q + 1;
        *lenp = (size_t) (q - s);
        return cdc_jv_strndup(jp->arena, s, (size_t) (q - s));
    }

    /* the unescaped text is never longer than the escaped one */
    for (q = s; q < jp->end && *q != '"'; q++) {
        if (*q == '\\') {
            q++;
        }
    }

    if (q >= jp->end) {
        return cdc_jv_fail(jp, "unterminated string");
    }

    out = cdc_jv_alloc(jp->arena, (size_t) (q - s) + 1);
    if (out == NULL) {
        return cdc_jv_fail(jp, "out of memory");
    }

    o = out;

    while (jp->p < jp->end && *jp->p != '"') {
        if (*jp->p != '\\') {
            if ((unsigned char) *jp->p < 0x20) {
                return cdc_jv_fail(jp, "control character in string");
            }
            *o++ = *jp->p++;
            continue;
        }

        jp->p++;

        if (jp->p >= jp->end) {
            return cdc_jv_fail(jp, "unterminated string");
        }

        switch (*jp->p++) {
        case '"':  *o++ = '"'; break;
        case '\\': *o++ = '\\'; break;
        case '/':  *o++ = '/'; break;
        case 'b':  *o++ = '\b'; break;
        case 'f':  *o++ = '\f'; break;
        case 'n':  *o++ = '\n'; break;
        case 'r':  *o++ = '\r'; break;
        case 't':  *o++ = '\t'; break;
        case 'u':
            if (jp->end - jp->p < 4 || cdc_jv_hex4(jp->p, &cp) != 0) {
                return cdc_jv_fail(jp, "bad \\u escape");
            }
            jp->p += 4;

            if (cp >= 0xd800 && cp < 0xdc00) {
                if (jp->end - jp->p < 6 || jp->p[0] != '\\'
                    || jp->p[1] != 'u'
                    || cdc_jv_hex4(jp->p + 2, &lo) != 0
                    || lo < 0xdc00 || lo > 0xdfff)
                {
                    return cdc_jv_fail(jp, "unpaired surrogate");
                }
                jp->p += 6;
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);

            } else if (cp >= 0xdc00 && cp <= 0xdfff) {
                return cdc_jv_fail(jp, "unpaired surrogate");
            }

            /* \u0000 stays as a NUL byte; PostgreSQL rejects it in text,
               which dead-letters the change with SQLSTATE 22021/22P05 */
            o = cdc_jv_utf8(o, cp);
            break;
        default:
            return cdc_jv_fail(jp, "bad escape");
        }
    }

    if (jp->p >= jp->end) {
        return cdc_jv_fail(jp, "unterminated string");
    }

    jp->p++;
    *o = '\0';
    *lenp = (size_t) (o - out);

    return out;
}


static int
cdc_jv_number(cdc_jv_parser_t *jp)
{
    const char  *p;

    p = jp->p;

    if (p < jp->end && *p == '-') {
        p++;
    }

    if (p >= jp->end || *p < '0' || *p > '9') {
        return -1;
    }

    while (p < jp->end && *p >= '0' && *p <= '9') {
        p++;
    }

    if (p < jp->end && *p == '.') {
        p++;
        if (p >= jp->end || *p < '0' || *p > '9') {
            return -1;
        }
        while (p < jp->end && *p >= '0' && *p <= '9') {
            p++;
        }
    }

    if (p < jp->end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < jp->end && (*p == '+' || *p == '-')) {
            p++;
        }
        if (p >= jp->end || *p < '0' || *p > '9') {
            return -1;
        }
        while (p < jp->end && *p >= '0' && *p <= '9') {
            p++;
        }
    }

    jp->p = p;

    return 0;
}


static int
cdc_jv_word(cdc_jv_parser_t *jp, const char *w, size_t n)
{
    if ((size_t) (jp->end - jp->p) < n || memcmp(jp->p, w, n) != 0) {
        return -1;
    }

    jp->p += n;

    return 0;
}


static cdc_jv_t *
cdc_jv_container(cdc_jv_parser_t *jp, cdc_jv_t *v, char close)
{
    size_t       klen;
    char        *key;
    cdc_jv_t  *item, **tail;

    if (++jp->depth > CDC_JV_DEPTH) {
        return cdc_jv_fail(jp, "nested too deep");
    }

    jp->p++;
    tail = &v->child;
    cdc_jv_ws(jp);

    if (jp->p < jp->end && *jp->p == close) {
        jp->p++;
        jp->depth--;
        return v;
    }

    for ( ;; ) {
        key = NULL;

        if (close == '}') {
            cdc_jv_ws(jp);

            if (jp->p >= jp->end || *jp->p != '"') {
                return cdc_jv_fail(jp, "expected a member name");
            }

            jp->p++;
            key = cdc_jv_string(jp, &klen);
            if (key == NULL) {
                return NULL;
            }

            cdc_jv_ws(jp);

            if (jp->p >= jp->end || *jp->p != ':') {
                return cdc_jv_fail(jp, "expected ':'");
            }

            jp->p++;
        }

        item = cdc_jv_value(jp);
        if (item == NULL) {
            return NULL;
        }

        item->key = key;
        *tail = item;
        tail = &item->next;

        cdc_jv_ws(jp);

        if (jp->p < jp->end && *jp->p == ',') {
            jp->p++;
            continue;
        }

        if (jp->p < jp->end && *jp->p == close) {
            jp->p++;
            break;
        }

        return cdc_jv_fail(jp, close == '}' ? "expected ',' or '}'"
                                              : "expected ',' or ']'");
    }

    jp->depth--;

    return v;
}


static cdc_jv_t *
cdc_jv_value(cdc_jv_parser_t *jp)
{
    cdc_jv_t  *v;

    cdc_jv_ws(jp);

    if (jp->p >= jp->end) {
        return cdc_jv_fail(jp, "unexpected end");
    }

    v = cdc_jv_alloc(jp->arena, sizeof(cdc_jv_t));
    if (v == NULL) {
        return cdc_jv_fail(jp, "out of memory");
    }

    memset(v, 0, sizeof(cdc_jv_t));
    v->raw = jp->p;

    switch (*jp->p) {
    case '{':
        v->type = CDC_JV_OBJECT;
        if (cdc_jv_container(jp, v, '}') == NULL) {
            return NULL;
        }
        break;

    case '[':
        v->type = CDC_JV_ARRAY;
        if (cdc_jv_container(jp, v, ']') == NULL) {
            return NULL;
        }
        break;

    case '"':
        v->type = CDC_JV_STRING;
        jp->p++;
        v->str = cdc_jv_string(jp, &v->len);
        if (v->str == NULL) {
            return NULL;
        }
        break;

    case 'n':
        if (cdc_jv_word(jp, "null", 4) != 0) {
            return cdc_jv_fail(jp, "bad literal");
        }
        v->type = CDC_JV_NULL;
        break;

    case 't':
        if (cdc_jv_word(jp, "true", 4) != 0) {
            return cdc_jv_fail(jp, "bad literal");
        }
        v->type = CDC_JV_TRUE;
        v->str = "true";
        v->len = 4;
        break;

    case 'f':
        if (cdc_jv_word(jp, "false", 5) != 0) {
            return cdc_jv_fail(jp, "bad literal");
        }
        v->type = CDC_JV_FALSE;
        v->str = "false";
        v->len = 5;
        break;

    default:
        if (cdc_jv_number(jp) != 0) {
            return cdc_jv_fail(jp, "bad value");
        }
        v->type = CDC_JV_NUMBER;
        v->len = (size_t) (jp->p - v->raw);
        v->str = cdc_jv_strndup(jp->arena, v->raw, v->len);
        if (v->str == NULL) {
            return cdc_jv_fail(jp, "out of memory");
        }
        break;
    }

    v->rawlen = (size_t) (jp->p - v->raw);

    return v;
}


cdc_jv_t *
cdc_jv_parse(cdc_jv_arena_t *a, const char *text, size_t len, char *err,
    size_t errlen)
{
    cdc_jv_t         *v;
    cdc_jv_parser_t   jp;

    jp.arena = a;
    jp.start = text;
    jp.p = text;
    jp.end = text + len;
    jp.err = err;
    jp.errlen = errlen;
    jp.depth = 0;

    v = cdc_jv_value(&jp);
    if (v == NULL) {
        return NULL;
    }

    cdc_jv_ws(&jp);

    if (jp.p != jp.end) {
        return cdc_jv_fail(&jp, "trailing characters");
    }

    return v;
}


cdc_jv_t *
cdc_jv_get(const cdc_jv_t *obj, const char *key)
{
    cdc_jv_t  *m;

    if (obj == NULL || obj->type != CDC_JV_OBJECT) {
        return NULL;
    }

    for (m = obj->child; m; m = m->next) {
        if (strcmp(m->key, key) == 0) {
            return m;
        }
    }

    return NULL;
}


int64_t
cdc_jv_get_int(const cdc_jv_t *obj, const char *key, int64_t def)
{
    char        *end;
    long long    v;
    cdc_jv_t  *m;

    m = cdc_jv_get(obj, key);

    if (m == NULL
        || (m->type != CDC_JV_NUMBER && m->type != CDC_JV_STRING))
    {
        return def;
    }

    v = strtoll(m->str, &end, 10);

    if (end == m->str) {
        return def;
    }

    return (int64_t) v;
}


const char *
cdc_jv_get_str(const cdc_jv_t *obj, const char *key)
{
    cdc_jv_t  *m;

    m = cdc_jv_get(obj, key);

    if (m == NULL || m->type != CDC_JV_STRING) {
        return NULL;
    }

    return m->str;
}


long
cdc_jv_base64_decode(const char *in, size_t len, unsigned char *out)
{
    int            v, n;
    size_t         i;
    unsigned       acc;
    unsigned char  c, *o;

    o = out;
    acc = 0;
    n = 0;

    for (i = 0; i < len; i++) {
        c = (unsigned char) in[i];

        if (c >= 'A' && c <= 'Z') {
            v = c - 'A';
        } else if (c >= 'a' && c <= 'z') {
            v = c - 'a' + 26;
        } else if (c >= '0' && c <= '9') {
            v = c - '0' + 52;
        } else if (c == '+' || c == '-') {
            v = 62;
        } else if (c == '/' || c == '_') {
            v = 63;
        } else if (c == '=') {
            break;
        } else {
            return -1;
        }

        acc = (acc << 6) | (unsigned) v;

        if (++n == 4) {
            *o++ = (unsigned char) (acc >> 16);
            *o++ = (unsigned char) (acc >> 8);
            *o++ = (unsigned char) acc;
            acc = 0;
            n = 0;
        }
    }

    for ( /* void */ ; i < len; i++) {
        if (in[i] != '=') {
            return -1;
        }
    }

    if (n == 1) {
        return -1;
    }

    if (n == 2) {
        *o++ = (unsigned char) (acc >> 4);

    } else if (n == 3) {
        *o++ = (unsigned char) (acc >> 10);
        *o++ = (unsigned char) (acc >> 2);
    }

    return (long) (o - out);
}
