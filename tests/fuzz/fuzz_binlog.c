/*
 * libFuzzer target: the binlog decoder (cdc-bridge/binlog/) and the stream
 * processor that turns its values into envelopes (source/stream.c,
 * event.c).
 *
 * Inputs:
 *   - starting with the binlog magic "\xfe" "bin": a whole binlog file;
 *     its events are fed one by one to a cdc_stream_t (CRC32 checks off,
 *     so mutations reach the decoders), as `run --from-file` would;
 *     MariaDB compressed events are also rebuilt on their own;
 *   - starting with "zblk": a MariaDB compressed block (header byte,
 *     big-endian length, zlib data; cdc_binlog_uncompress_block);
 *   - otherwise the first byte picks a decoder for the rest:
 *       0: a row image for a table whose column types and metadata come
 *          from the next bytes (cdc_binlog_value_decode per column, then
 *          cdc_event_put_binlog_value);
 *       1: MySQL binary JSON (cdc_binlog_json_to_text);
 *       2: a JSON diff list applied to a fixed document;
 *       3: a binary DECIMAL with precision/scale from the next bytes.
 *
 * Properties checked beyond "no crash, no sanitizer report":
 *   - every key and value the stream emits is valid JSON (jansson), the
 *     value an object with before/after/source/op/ts_ms;
 *   - every JSON text a decoder produces parses;
 *   - a DECIMAL's text has exactly `scale` digits after the point;
 *   - an inflated block has exactly the length its header gives, and a
 *     rebuilt compressed event is a plain event that parses.
 *
 * Seeds: tests/fuzz/corpus/binlog/ and the shared test binlogs (see
 * tests/fuzz/run).
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "binlog/binlog.h"
#include "event.h"
#include "source/stream.h"


static void
must_parse(const char *s, size_t len, const char *what)
{
    json_t        *j;
    json_error_t   je;

    j = json_loadb(s, len, JSON_DECODE_ANY | JSON_ALLOW_NUL
                   | JSON_DECODE_INT_AS_REAL, &je);
    if (j == NULL && strstr(je.text, "NUL byte in object key") != NULL) {
        return;                     /* valid JSON jansson cannot hold */
    }
    if (j == NULL) {
        fprintf(stderr, "%s is not JSON (%s): %.*s\n", what, je.text,
                (int) (len > 400 ? 400 : len), s);
        abort();
    }
    json_decref(j);
}


static int
emit(void *data, const cdc_stream_change_t *c)
{
    json_t        *v;
    json_error_t   je;

    must_parse(c->key, c->key_len, "key");

    v = json_loadb(c->value, c->value_len,
                   JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, &je);
    if (v == NULL && strstr(je.text, "NUL byte in object key") != NULL) {
        return 0;                   /* valid JSON jansson cannot hold */
    }
    if (v == NULL || !json_is_object(v)
        || json_object_get(v, "before") == NULL
        || json_object_get(v, "after") == NULL
        || !json_is_object(json_object_get(v, "source"))
        || !json_is_string(json_object_get(v, "op"))
        || !json_is_number(json_object_get(v, "ts_ms")))
    {
        fprintf(stderr, "bad envelope: %.*s\n", (int) c->value_len,
                c->value);
        abort();
    }
    json_decref(v);

    if (c->topic_len == 0 || memchr(c->topic, '.', c->topic_len) == NULL) {
        abort();
    }

    return 0;
}


/* a compressed event rebuilt: a plain event of its size that parses */
static void
fuzz_rebuilt(const cdc_binlog_event_t *e, cdc_binlog_format_t *fmt)
{
    static uint8_t      *buf;
    static size_t        cap;
    cdc_binlog_event_t   pe;
    size_t               n;
    char                 err[256];

    if (cdc_binlog_uncompress_event(e, fmt, &buf, &cap, &n, err,
                                    sizeof(err)) != 0)
    {
        return;
    }

    if (n < CDC_BINLOG_HEADER_LEN || cdc_binlog_is_compressed(buf[4])
        || (uint32_t) (buf[9] | buf[10] << 8 | buf[11] << 16
                       | (uint32_t) buf[12] << 24) != n)
    {
        abort();
    }

    (void) cdc_binlog_event_parse(&pe, fmt, buf, n, 1, err, sizeof(err));
}


static void
fuzz_block(const uint8_t *p, size_t size)
{
    static uint8_t  *out;
    static size_t    cap;
    size_t           n, want;
    unsigned         i;
    char             err[256];

    if (cdc_binlog_uncompress_block(p, size, &out, &cap, &n, err,
                                    sizeof(err)) != 0)
    {
        return;
    }

    want = 0;
    for (i = 0; i < (p[0] & 7u); i++) {
        want = (want << 8) | p[1 + i];
    }
    if (n != want || cap < n) {
        abort();
    }
}


/* every event through the bare parser too, PREVIOUS_GTIDS included */
static void
fuzz_events(const uint8_t *data, size_t size)
{
    cdc_binlog_format_t  fmt;
    cdc_binlog_event_t   e;
    cdc_binlog_table_t  *t;
    cdc_buf_t            out = { NULL, 0, 0 };
    char                 err[256];
    size_t               off;
    uint32_t             len;

    cdc_binlog_format_init(&fmt);
    fmt.verify = 0;

    for (off = 4; size - off >= CDC_BINLOG_HEADER_LEN; off += len) {
        len = (uint32_t) data[off + 9] | (uint32_t) data[off + 10] << 8
              | (uint32_t) data[off + 11] << 16
              | (uint32_t) data[off + 12] << 24;
        if (len < CDC_BINLOG_HEADER_LEN || len > size - off) {
            break;
        }
        if (cdc_binlog_event_parse(&e, &fmt, data + off, len, 0, err,
                                   sizeof(err)) != 0)
        {
            continue;
        }
        if (e.h.type == CDC_BL_PREVIOUS_GTIDS) {
            out.len = 0;
            (void) cdc_binlog_previous_gtids_to_str(&e, &out, err,
                                                    sizeof(err));
        }
        if (e.h.type == CDC_BL_TABLE_MAP) {
            t = cdc_binlog_table_parse(&e, &fmt, err, sizeof(err));
            cdc_binlog_table_free(t);
        }
        if (cdc_binlog_is_compressed(e.h.type)) {
            fuzz_rebuilt(&e, &fmt);
        }
    }

    cdc_buf_free(&out);
}


static void
fuzz_file(const uint8_t *data, size_t size)
{
    cdc_stream_opts_t   o;
    cdc_stream_t       *s;
    char                err[512];
    size_t              off;
    uint32_t            len;

    memset(&o, 0, sizeof(o));
    o.topic_prefix = "fuzz";
    o.emit = emit;
    o.verify_checksum = 0;
    o.fixed_ts_ms = 1;

    s = cdc_stream_create(&o, err, sizeof(err));
    if (s == NULL) {
        abort();
    }

    off = 4;
    while (size - off >= CDC_BINLOG_HEADER_LEN) {
        len = (uint32_t) data[off + 9] | (uint32_t) data[off + 10] << 8
              | (uint32_t) data[off + 11] << 16
              | (uint32_t) data[off + 12] << 24;
        if (len < CDC_BINLOG_HEADER_LEN || len > size - off) {
            break;
        }
        err[0] = '\0';
        if (cdc_stream_feed(s, data + off, len, err, sizeof(err)) != 0) {
            if (err[0] == '\0') {
                abort();            /* an error must say why */
            }
            break;
        }
        off += len;
    }

    cdc_stream_destroy(s);
}


static const uint8_t  types[] = {
    CDC_MT_TINY, CDC_MT_SHORT, CDC_MT_INT24, CDC_MT_LONG, CDC_MT_LONGLONG,
    CDC_MT_FLOAT, CDC_MT_DOUBLE, CDC_MT_NEWDECIMAL, CDC_MT_DATE,
    CDC_MT_TIME, CDC_MT_DATETIME, CDC_MT_TIMESTAMP, CDC_MT_YEAR,
    CDC_MT_TIMESTAMP2, CDC_MT_DATETIME2, CDC_MT_TIME2, CDC_MT_VARCHAR,
    CDC_MT_STRING, CDC_MT_BLOB, CDC_MT_BIT, CDC_MT_ENUM, CDC_MT_SET,
    CDC_MT_JSON, CDC_MT_GEOMETRY, CDC_MT_VECTOR, CDC_MT_NULL
};

static const unsigned  charsets[] = { 0, 8, 33, 45, 63, 255, 51, 28, 35 };
static const char     *labels[] = { "a", "b\"", "c\\", "" };


static void
fuzz_values(const uint8_t *p, size_t size)
{
    cdc_binlog_column_t  c;
    cdc_binlog_value_t   v, before;
    cdc_buf_t            out = { NULL, 0, 0 };
    cdc_buf_t            scratch = { NULL, 0, 0 };
    const uint8_t       *end;
    size_t               used;
    char                 err[256];

    end = p + size;

    while (end - p >= 4) {
        memset(&c, 0, sizeof(c));
        c.type = types[p[0] % sizeof(types)];
        c.meta = (uint16_t) (p[1] | (p[2] & 0x0f) << 8);
        c.meta2 = p[2] >> 4;
        c.is_unsigned = p[3] & 1;
        c.charset = charsets[(p[3] >> 1) % 9];
        if (p[3] & 0x80) {
            c.labels = labels;
            c.nlabels = 4;
        }
        p += 4;

        if (cdc_binlog_value_decode(&v, &c, p, end, &used, err, sizeof(err))
            != 0)
        {
            break;
        }
        if (used > (size_t) (end - p)) {
            abort();
        }

        out.len = 0;
        before.kind = CDC_V_JSON;
        before.v.s.p = (const uint8_t *) "\x04\x00";
        before.v.s.len = 2;
        if (cdc_event_put_binlog_value(&out, &c, &v, &before, &scratch, err,
                                       sizeof(err)) == 0)
        {
            must_parse(out.data, out.len, "value");
        }
        p += used;
    }

    cdc_buf_free(&out);
    cdc_buf_free(&scratch);
}


static void
fuzz_decimal(const uint8_t *p, size_t size)
{
    char      buf[100], err[200];
    unsigned  prec, scale;
    int       n;
    char     *dot;

    if (size < 2) {
        return;
    }

    prec = p[0] % 67;
    scale = p[1] % 32;
    n = cdc_binlog_decimal_to_str(p + 2, size - 2, prec, scale, buf,
                                  sizeof(buf), err, sizeof(err));
    if (n < 0) {
        return;
    }

    if ((size_t) n != strlen(buf)) {
        abort();
    }

    dot = strchr(buf, '.');
    if (scale == 0 ? dot != NULL : (dot == NULL || strlen(dot + 1) != scale))
    {
        fprintf(stderr, "DECIMAL(%u,%u) printed as %s\n", prec, scale, buf);
        abort();
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cdc_buf_t  out = { NULL, 0, 0 };
    char       err[256];
    static const char  doc[] = "{\"a\":[1,2,{\"b\":null}],\"c\":\"x\"}";

    if (size >= 4 && memcmp(data, CDC_BINLOG_MAGIC, 4) == 0) {
        fuzz_events(data, size);
        fuzz_file(data, size);
        return 0;
    }

    if (size >= 4 && memcmp(data, "zblk", 4) == 0) {
        fuzz_block(data + 4, size - 4);
        return 0;
    }

    if (size < 1) {
        return 0;
    }

    switch (data[0] % 4) {
    case 0:
        fuzz_values(data + 1, size - 1);
        break;
    case 1:
        if (cdc_binlog_json_to_text(data + 1, size - 1, &out, err,
                                    sizeof(err)) == 0)
        {
            must_parse(out.data, out.len, "binary JSON");
        }
        break;
    case 2:
        if (cdc_binlog_json_diff_apply(doc, sizeof(doc) - 1, data + 1,
                                       size - 1, &out, err, sizeof(err))
            == 0)
        {
            must_parse(out.data, out.len, "diffed JSON");
        }
        out.len = 0;
        if (cdc_binlog_json_diff_to_text(data + 1, size - 1, &out, err,
                                         sizeof(err)) == 0)
        {
            must_parse(out.data, out.len, "diff");
        }
        break;
    default:
        fuzz_decimal(data + 1, size - 1);
        break;
    }

    cdc_buf_free(&out);
    return 0;
}
