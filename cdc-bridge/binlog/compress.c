/*
 * MariaDB compressed events (log_bin_compress=ON): QUERY_COMPRESSED and
 * the compressed WRITE/UPDATE/DELETE_ROWS types, v1 and v2.  The server
 * compresses only the tail of the event (a query's text; a rows event's
 * row images) into one block: a header byte, the uncompressed length
 * big-endian, a zlib stream.  Here the block is inflated and the event
 * rebuilt as its plain type, so the rest of the library reads it as if
 * compression were off.
 */

#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "binlog_int.h"


int
cdc_binlog_is_compressed(unsigned type)
{
    return type >= CDC_BL_MARIA_QUERY_COMPRESSED
           && type <= CDC_BL_MARIA_DELETE_ROWS_COMPRESSED;
}


static int
cdc_bl_grow(uint8_t **out, size_t *cap, size_t need, char *err,
    size_t errlen)
{
    uint8_t  *n;

    if (*cap >= need) {
        return 0;
    }

    n = realloc(*out, need);
    if (n == NULL) {
        return cdc_bl_error(err, errlen, "compressed event: out of memory "
                            "for %zu bytes", need);
    }

    *out = n;
    *cap = need;
    return 0;
}


/* the block's header: *ulen the uncompressed length, *hlen its size */
static int
cdc_bl_block_header(const uint8_t *p, size_t len, uint32_t *ulen,
    size_t *hlen, char *err, size_t errlen)
{
    unsigned  lenlen, alg, i;
    uint32_t  v;

    if (len < 2) {
        return cdc_bl_error(err, errlen, "compressed block of %zu bytes is "
                            "truncated", len);
    }

    if (!(p[0] & 0x80)) {
        return cdc_bl_error(err, errlen, "compressed block: header byte "
                            "0x%02x lacks the compressed flag", p[0]);
    }

    alg = (p[0] & 0x70) >> 4;
    if (alg != 0) {
        return cdc_bl_error(err, errlen, "compressed block: unknown "
                            "algorithm %u (only 0, zlib, is known)", alg);
    }

    lenlen = p[0] & 0x07;
    if (lenlen < 1 || lenlen > 4) {
        return cdc_bl_error(err, errlen, "compressed block: length of the "
                            "length is %u, must be 1..4", lenlen);
    }

    if (len < 1 + lenlen) {
        return cdc_bl_error(err, errlen, "compressed block of %zu bytes is "
                            "truncated", len);
    }

    v = 0;
    for (i = 0; i < lenlen; i++) {
        v = (v << 8) | p[1 + i];
    }

    if (v == 0 || v > CDC_BINLOG_MAX_EVENT) {
        return cdc_bl_error(err, errlen, "compressed block: uncompressed "
                            "length %u is impossible", v);
    }

    *ulen = v;
    *hlen = 1 + lenlen;
    return 0;
}


/* inflates block into dst, which has room for exactly ulen bytes */
static int
cdc_bl_inflate(const uint8_t *block, size_t len, size_t hlen,
    uint8_t *dst, uint32_t ulen, char *err, size_t errlen)
{
    z_stream  z;
    int       rc;

    memset(&z, 0, sizeof(z));
    if (inflateInit(&z) != Z_OK) {
        return cdc_bl_error(err, errlen, "compressed block: zlib: cannot "
                            "start");
    }

    z.next_in = (Bytef *) (block + hlen);
    z.avail_in = (uInt) (len - hlen);
    z.next_out = dst;
    z.avail_out = ulen;

    rc = inflate(&z, Z_FINISH);
    inflateEnd(&z);

    if (rc == Z_STREAM_END) {
        if (z.total_out == ulen) {
            return 0;
        }
        return cdc_bl_error(err, errlen, "compressed block: inflates to "
                            "%lu bytes, the header gives %u", z.total_out,
                            ulen);
    }

    if (z.avail_out == 0) {
        return cdc_bl_error(err, errlen, "compressed block: inflates to "
                            "more than the %u bytes the header gives", ulen);
    }

    return cdc_bl_error(err, errlen, "compressed block: zlib: %s after "
                        "%lu of %zu bytes",
                        rc == Z_BUF_ERROR || rc == Z_OK ? "data truncated"
                        : (z.msg ? z.msg : "bad data"),
                        z.total_in, len - hlen);
}


int
cdc_binlog_uncompress_block(const uint8_t *block, size_t len,
    uint8_t **out, size_t *cap, size_t *outlen, char *err, size_t errlen)
{
    uint32_t  ulen;
    size_t    hlen;

    if (cdc_bl_block_header(block, len, &ulen, &hlen, err, errlen) != 0
        || cdc_bl_grow(out, cap, ulen, err, errlen) != 0
        || cdc_bl_inflate(block, len, hlen, *out, ulen, err, errlen) != 0)
    {
        return -1;
    }

    *outlen = ulen;
    return 0;
}


/* where the compressed block starts in a QUERY_COMPRESSED body */
static int
cdc_bl_query_head(const cdc_binlog_event_t *ev,
    const cdc_binlog_format_t *fmt, size_t *head)
{
    size_t  phl, n;

    phl = fmt->post_header_len[CDC_BL_MARIA_QUERY_COMPRESSED - 1];
    if (phl == 0) {
        phl = fmt->post_header_len[CDC_BL_QUERY - 1];
    }

    n = ev->body_len;
    if (phl < 13 || n < phl) {
        return -1;
    }

    /* post-header, status variables, database name and its NUL */
    *head = phl + cdc_le16(ev->body + 11) + ev->body[8] + 1;
    return *head < n ? 0 : -1;
}


/* where the compressed block starts in a compressed rows event body */
static int
cdc_bl_rows_head(const cdc_binlog_event_t *ev,
    const cdc_binlog_format_t *fmt, size_t *head)
{
    const uint8_t  *p, *end;
    size_t          phl, bm;
    uint64_t        width;
    unsigned        extra;

    phl = fmt->post_header_len[ev->h.type - 1];
    if (phl == 0) {
        phl = ev->h.type >= CDC_BL_MARIA_WRITE_ROWS_COMPRESSED ? 10 : 8;
    }

    p = ev->body;
    end = p + ev->body_len;
    if (phl < 6 || ev->body_len < phl) {
        return -1;
    }

    if (phl == 10) {
        /* v2: the extra row info, its length counting its own bytes */
        extra = cdc_le16(p + 8);
        if (extra < 2 || ev->body_len - 8 < extra) {
            return -1;
        }
        p += 8 + extra;
    } else {
        p += phl;
    }

    if (cdc_lenenc(&p, end, &width) != 0 || width == 0 || width > 4096) {
        return -1;
    }

    bm = ((size_t) width + 7) / 8;
    if (ev->h.type == CDC_BL_MARIA_UPDATE_ROWS_COMPRESSED_V1
        || ev->h.type == CDC_BL_MARIA_UPDATE_ROWS_COMPRESSED)
    {
        bm *= 2;
    }

    if ((size_t) (end - p) <= bm) {
        return -1;
    }

    *head = (size_t) (p - ev->body) + bm;
    return 0;
}


static unsigned
cdc_bl_plain_type(unsigned type)
{
    if (type == CDC_BL_MARIA_QUERY_COMPRESSED) {
        return CDC_BL_QUERY;
    }

    if (type >= CDC_BL_MARIA_WRITE_ROWS_COMPRESSED) {
        return type - CDC_BL_MARIA_WRITE_ROWS_COMPRESSED + CDC_BL_WRITE_ROWS;
    }

    return type - CDC_BL_MARIA_WRITE_ROWS_COMPRESSED_V1
           + CDC_BL_WRITE_ROWS_V1;
}


int
cdc_binlog_uncompress_event(const cdc_binlog_event_t *ev,
    const cdc_binlog_format_t *fmt, uint8_t **out, size_t *cap,
    size_t *outlen, char *err, size_t errlen)
{
    const char  *name;
    size_t       head, hlen, total;
    uint32_t     ulen;
    uint8_t     *p;
    char         e[160];
    int          rc;

    name = cdc_binlog_type_name(ev->h.type);

    if (!cdc_binlog_is_compressed(ev->h.type)) {
        return cdc_bl_error(err, errlen, "%s event is not compressed", name);
    }

    rc = ev->h.type == CDC_BL_MARIA_QUERY_COMPRESSED
         ? cdc_bl_query_head(ev, fmt, &head)
         : cdc_bl_rows_head(ev, fmt, &head);
    if (rc != 0) {
        return cdc_bl_error(err, errlen, "%s event: body of %zu bytes is "
                            "truncated or malformed", name, ev->body_len);
    }

    if (cdc_bl_block_header(ev->body + head, ev->body_len - head, &ulen,
                            &hlen, e, sizeof(e)) != 0)
    {
        return cdc_bl_error(err, errlen, "%s event: %s", name, e);
    }

    total = CDC_BINLOG_HEADER_LEN + head + ulen;
    if (total > CDC_BINLOG_MAX_EVENT) {
        return cdc_bl_error(err, errlen, "%s event: uncompressed size %zu "
                            "is too large", name, total);
    }

    if (cdc_bl_grow(out, cap, total, err, errlen) != 0) {
        return -1;
    }

    p = *out;
    memcpy(p, ev->body - CDC_BINLOG_HEADER_LEN, CDC_BINLOG_HEADER_LEN + head);

    if (cdc_bl_inflate(ev->body + head, ev->body_len - head, hlen,
                       p + CDC_BINLOG_HEADER_LEN + head, ulen, e, sizeof(e))
        != 0)
    {
        return cdc_bl_error(err, errlen, "%s event: %s", name, e);
    }

    p[4] = (uint8_t) cdc_bl_plain_type(ev->h.type);
    p[9] = (uint8_t) total;
    p[10] = (uint8_t) (total >> 8);
    p[11] = (uint8_t) (total >> 16);
    p[12] = (uint8_t) (total >> 24);

    *outlen = total;
    return 0;
}
