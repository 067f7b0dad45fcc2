/*
 * binlog framing: the 19-byte header, FORMAT_DESCRIPTION (checksum
 * algorithm), CRC32, the small fixed-layout events (QUERY, ROTATE, XID,
 * GTIDs, ANNOTATE, …) and the error helper.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "binlog_int.h"


static int cdc_bl_fde_parse(cdc_binlog_event_t *ev,
    cdc_binlog_format_t *fmt, const uint8_t *buf, char *err, size_t errlen);
static int cdc_bl_version_ge(const char *v, unsigned a, unsigned b,
    unsigned c);
static int cdc_bl_body_parse(cdc_binlog_event_t *ev,
    const cdc_binlog_format_t *fmt, char *err, size_t errlen);
static int cdc_bl_gtid_tagged_parse(cdc_binlog_event_t *ev, char *err,
    size_t errlen);
static int cdc_bl_xid_parse(cdc_binlog_xid_t *x, int32_t format_id,
    uint8_t gtrid_len, uint8_t bqual_len, const uint8_t *data,
    const uint8_t *end);


static uint32_t  cdc_crc_table[8][256];
static int       cdc_crc_ready;


int
cdc_bl_error(char *err, size_t errlen, const char *fmt, ...)
{
    va_list  ap;

    if (err != NULL && errlen > 0) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }

    return -1;
}


void
cdc_binlog_format_init(cdc_binlog_format_t *fmt)
{
    memset(fmt, 0, sizeof(*fmt));
    fmt->binlog_version = 4;
    fmt->verify = 1;

    /* v4 defaults, used until an FDE says otherwise */
    fmt->post_header_len[CDC_BL_QUERY - 1] = 13;
    fmt->post_header_len[CDC_BL_ROTATE - 1] = 8;
    fmt->post_header_len[CDC_BL_TABLE_MAP - 1] = 8;
    fmt->post_header_len[CDC_BL_WRITE_ROWS_V1 - 1] = 8;
    fmt->post_header_len[CDC_BL_UPDATE_ROWS_V1 - 1] = 8;
    fmt->post_header_len[CDC_BL_DELETE_ROWS_V1 - 1] = 8;
    fmt->post_header_len[CDC_BL_WRITE_ROWS - 1] = 10;
    fmt->post_header_len[CDC_BL_UPDATE_ROWS - 1] = 10;
    fmt->post_header_len[CDC_BL_DELETE_ROWS - 1] = 10;
    fmt->post_header_len[CDC_BL_PARTIAL_UPDATE_ROWS - 1] = 10;
}


static void
cdc_crc_init(void)
{
    uint32_t  c;
    unsigned  i, j;

    for (i = 0; i < 256; i++) {
        c = i;
        for (j = 0; j < 8; j++) {
            c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
        }
        cdc_crc_table[0][i] = c;
    }

    for (i = 0; i < 256; i++) {
        c = cdc_crc_table[0][i];
        for (j = 1; j < 8; j++) {
            c = cdc_crc_table[0][c & 0xff] ^ (c >> 8);
            cdc_crc_table[j][i] = c;
        }
    }

    cdc_crc_ready = 1;
}


uint32_t
cdc_binlog_crc32(uint32_t crc, const uint8_t *p, size_t len)
{
    uint32_t  a, b;

    if (!cdc_crc_ready) {
        cdc_crc_init();
    }

    crc = ~crc;

    /* slicing by 8 */
    while (len >= 8) {
        a = crc ^ cdc_le32(p);
        b = cdc_le32(p + 4);
        crc = cdc_crc_table[7][a & 0xff] ^ cdc_crc_table[6][(a >> 8) & 0xff]
              ^ cdc_crc_table[5][(a >> 16) & 0xff]
              ^ cdc_crc_table[4][a >> 24]
              ^ cdc_crc_table[3][b & 0xff]
              ^ cdc_crc_table[2][(b >> 8) & 0xff]
              ^ cdc_crc_table[1][(b >> 16) & 0xff]
              ^ cdc_crc_table[0][b >> 24];
        p += 8;
        len -= 8;
    }

    while (len--) {
        crc = cdc_crc_table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
    }

    return ~crc;
}


int
cdc_binlog_header_parse(cdc_binlog_header_t *h, const uint8_t *ev,
    size_t len, char *err, size_t errlen)
{
    if (len < CDC_BINLOG_HEADER_LEN) {
        return cdc_bl_error(err, errlen,
                            "event truncated: %zu bytes, the header needs %d",
                            len, CDC_BINLOG_HEADER_LEN);
    }

    h->timestamp = cdc_le32(ev);
    h->type = ev[4];
    h->server_id = cdc_le32(ev + 5);
    h->event_size = cdc_le32(ev + 9);
    h->log_pos = cdc_le32(ev + 13);
    h->flags = cdc_le16(ev + 17);

    if (h->event_size < CDC_BINLOG_HEADER_LEN) {
        return cdc_bl_error(err, errlen, "%s event: bad event size %u",
                            cdc_binlog_type_name(h->type), h->event_size);
    }

    if (h->event_size > len) {
        return cdc_bl_error(err, errlen,
                            "%s event truncated: needs %u bytes, %zu given",
                            cdc_binlog_type_name(h->type), h->event_size,
                            len);
    }

    return 0;
}


static int
cdc_bl_crc_ok(const uint8_t *buf, size_t size, int fde)
{
    uint32_t  want, got;
    uint8_t   hdr[CDC_BINLOG_HEADER_LEN];

    want = cdc_le32(buf + size - CDC_BINLOG_CRC_LEN);
    got = cdc_binlog_crc32(0, buf, size - CDC_BINLOG_CRC_LEN);
    if (got == want) {
        return 1;
    }

    if (fde && (cdc_le16(buf + 17) & CDC_BL_F_BINLOG_IN_USE)) {
        /* the server checksums an FDE with the in-use flag clear */
        memcpy(hdr, buf, sizeof(hdr));
        hdr[17] &= (uint8_t) ~CDC_BL_F_BINLOG_IN_USE;
        got = cdc_binlog_crc32(0, hdr, sizeof(hdr));
        got = cdc_binlog_crc32(got, buf + sizeof(hdr),
                               size - sizeof(hdr) - CDC_BINLOG_CRC_LEN);
        return got == want;
    }

    return 0;
}


int
cdc_binlog_event_parse(cdc_binlog_event_t *ev, cdc_binlog_format_t *fmt,
    const uint8_t *buf, size_t len, int in_payload, char *err,
    size_t errlen)
{
    int   crc;
    char  e[200];

    memset(ev, 0, offsetof(cdc_binlog_event_t, u));

    if (cdc_binlog_header_parse(&ev->h, buf, len, e, sizeof(e)) != 0) {
        return cdc_bl_error(err, errlen, "%s", e);
    }

    ev->body = buf + CDC_BINLOG_HEADER_LEN;
    ev->body_len = ev->h.event_size - CDC_BINLOG_HEADER_LEN;

    if (ev->h.type == CDC_BL_FORMAT_DESCRIPTION) {
        return cdc_bl_fde_parse(ev, fmt, buf, err, errlen);
    }

    if (in_payload) {
        crc = 0;

    } else if (fmt->have_fde) {
        crc = fmt->checksum;

    } else {
        /* before any FDE (a replica's first, artificial ROTATE): guess */
        crc = ev->body_len >= CDC_BINLOG_CRC_LEN
              && cdc_bl_crc_ok(buf, ev->h.event_size, 0);
    }

    if (crc) {
        if (ev->body_len < CDC_BINLOG_CRC_LEN) {
            return cdc_bl_error(err, errlen,
                                "%s event: %u bytes, too short for a CRC32",
                                cdc_binlog_type_name(ev->h.type),
                                ev->h.event_size);
        }

        if (fmt->verify && !cdc_bl_crc_ok(buf, ev->h.event_size, 0)) {
            return cdc_bl_error(err, errlen,
                                "%s event: CRC32 mismatch (stored %08x)",
                                cdc_binlog_type_name(ev->h.type),
                                cdc_le32(buf + ev->h.event_size - 4));
        }

        ev->body_len -= CDC_BINLOG_CRC_LEN;
    }

    return cdc_bl_body_parse(ev, fmt, err, errlen);
}


static int
cdc_bl_fde_parse(cdc_binlog_event_t *ev, cdc_binlog_format_t *fmt,
    const uint8_t *buf, char *err, size_t errlen)
{
    size_t          n, i;
    const uint8_t  *b;
    uint8_t         alg;

    b = ev->body;
    if (ev->body_len < 57) {
        return cdc_bl_error(err, errlen,
                            "FORMAT_DESCRIPTION event: body of %zu bytes, "
                            "needs at least 57", ev->body_len);
    }

    ev->u.fde.binlog_version = cdc_le16(b);
    memcpy(fmt->server_version, b + 2, 50);
    fmt->server_version[50] = '\0';
    ev->u.fde.server_version = fmt->server_version;
    ev->u.fde.created = cdc_le32(b + 52);

    if (b[56] != CDC_BINLOG_HEADER_LEN) {
        return cdc_bl_error(err, errlen,
                            "FORMAT_DESCRIPTION event: header length %u, "
                            "only 19 is supported", b[56]);
    }

    fmt->mariadb = strstr(fmt->server_version, "MariaDB") != NULL;

    /* 5.6.1+ (and every MariaDB that writes FDEs we can read) end the
       FDE with the checksum algorithm byte and a checksum */
    n = ev->body_len - 57;
    alg = 255;
    if (cdc_bl_version_ge(fmt->server_version, 5, 6, 1)) {
        if (ev->body_len < 57 + 1 + CDC_BINLOG_CRC_LEN) {
            return cdc_bl_error(err, errlen,
                                "FORMAT_DESCRIPTION event: %zu bytes, too "
                                "short for a %s FDE", ev->body_len,
                                fmt->server_version);
        }
        alg = b[ev->body_len - CDC_BINLOG_CRC_LEN - 1];
        n -= 1 + CDC_BINLOG_CRC_LEN;
        if (alg != 0 && alg != 1) {
            return cdc_bl_error(err, errlen,
                                "FORMAT_DESCRIPTION event: unknown checksum "
                                "algorithm %u", alg);
        }
        if (alg == 1 && fmt->verify
            && !cdc_bl_crc_ok(buf, ev->h.event_size, 1))
        {
            return cdc_bl_error(err, errlen,
                                "FORMAT_DESCRIPTION event: CRC32 mismatch "
                                "(stored %08x)",
                                cdc_le32(buf + ev->h.event_size - 4));
        }
        ev->body_len -= 1 + CDC_BINLOG_CRC_LEN;
    }

    ev->u.fde.checksum_alg = alg;
    fmt->checksum = (alg == 1);
    fmt->binlog_version = ev->u.fde.binlog_version;

    for (i = 0; i < n && i < 255; i++) {
        fmt->post_header_len[i] = b[57 + i];
    }

    fmt->have_fde = 1;
    return 0;
}


static int
cdc_bl_version_ge(const char *v, unsigned a, unsigned b, unsigned c)
{
    unsigned  x[3];
    int       i;
    char     *end;

    for (i = 0; i < 3; i++) {
        x[i] = (unsigned) strtoul(v, &end, 10);
        if (end == v) {
            x[i] = 0;
        }
        v = end;
        if (*v == '.') {
            v++;
        }
    }

    if (x[0] != a) {
        return x[0] > a;
    }

    if (x[1] != b) {
        return x[1] > b;
    }

    return x[2] >= c;
}


static int
cdc_bl_body_parse(cdc_binlog_event_t *ev, const cdc_binlog_format_t *fmt,
    char *err, size_t errlen)
{
    const uint8_t  *b, *end, *p;
    size_t          n, phl;
    unsigned        dblen, svlen;
    uint64_t        v;
    const char     *name;

    b = ev->body;
    n = ev->body_len;
    end = b + n;
    name = cdc_binlog_type_name(ev->h.type);

    switch (ev->h.type) {

    case CDC_BL_QUERY:
        phl = fmt->post_header_len[CDC_BL_QUERY - 1];
        if (phl < 13 || n < phl) {
            goto short_body;
        }
        ev->u.query.thread_id = cdc_le32(b);
        ev->u.query.exec_time = cdc_le32(b + 4);
        dblen = b[8];
        ev->u.query.error_code = cdc_le16(b + 9);
        svlen = cdc_le16(b + 11);
        if (n < phl + svlen + dblen + 1) {
            goto short_body;
        }
        p = b + phl + svlen;
        ev->u.query.db = (const char *) p;
        ev->u.query.db_len = dblen;
        p += dblen + 1;
        ev->u.query.sql = (const char *) p;
        ev->u.query.sql_len = (size_t) (end - p);
        return 0;

    case CDC_BL_ROTATE:
        if (n < 8) {
            goto short_body;
        }
        ev->u.rotate.pos = cdc_le64(b);
        ev->u.rotate.file = (const char *) b + 8;
        ev->u.rotate.file_len = n - 8;
        return 0;

    case CDC_BL_XID:
        if (n < 8) {
            goto short_body;
        }
        ev->u.xid.xid = cdc_le64(b);
        return 0;

    case CDC_BL_MARIA_GTID:
        if (n < 13) {
            goto short_body;
        }
        ev->u.maria_gtid.seq = cdc_le64(b);
        ev->u.maria_gtid.domain = cdc_le32(b + 8);
        ev->u.maria_gtid.flags = b[12];
        p = b + 13;
        if ((b[12] & CDC_BL_GTID_COMMIT_ID) && n >= 21) {
            ev->u.maria_gtid.commit_id = cdc_le64(b + 13);
            p += 8;
        }
        if (b[12] & (CDC_BL_GTID_PREPARED_XA | CDC_BL_GTID_COMPLETED_XA)) {
            /* formatID 4, gtrid length 1, bqual length 1, the data */
            if (end - p < 6
                || cdc_bl_xid_parse(&ev->u.maria_gtid.xid, (int32_t)
                                    cdc_le32(p), p[4], p[5], p + 6, end)
                   != 0)
            {
                goto short_body;
            }
        }
        return 0;

    case CDC_BL_XA_PREPARE:
        /* one_phase 1, formatID 4, gtrid length 4, bqual length 4 */
        if (n < 13 || cdc_le32(b + 5) > CDC_BL_XID_DATA_MAX
            || cdc_le32(b + 9) > CDC_BL_XID_DATA_MAX
            || cdc_bl_xid_parse(&ev->u.xa_prepare.xid, (int32_t)
                                cdc_le32(b + 1), (uint8_t) cdc_le32(b + 5),
                                (uint8_t) cdc_le32(b + 9), b + 13, end)
               != 0)
        {
            goto short_body;
        }
        ev->u.xa_prepare.one_phase = b[0];
        return 0;

    case CDC_BL_MARIA_GTID_LIST:
        if (n < 4) {
            goto short_body;
        }
        ev->u.maria_gtid_list.count = cdc_le32(b) & 0x0fffffff;
        if ((n - 4) / 16 < ev->u.maria_gtid_list.count) {
            goto short_body;
        }
        ev->u.maria_gtid_list.list = b + 4;
        return 0;

    case CDC_BL_MARIA_ANNOTATE_ROWS:
        ev->u.text.text = (const char *) b;
        ev->u.text.len = n;
        return 0;

    case CDC_BL_MARIA_BINLOG_CHECKPOINT:
        if (n < 4 || n - 4 < cdc_le32(b)) {
            goto short_body;
        }
        ev->u.text.text = (const char *) b + 4;
        ev->u.text.len = cdc_le32(b);
        return 0;

    case CDC_BL_ROWS_QUERY:
        if (n < 1) {
            goto short_body;
        }
        ev->u.text.text = (const char *) b + 1;
        ev->u.text.len = n - 1;
        return 0;

    case CDC_BL_GTID:
    case CDC_BL_ANONYMOUS_GTID:
        memset(&ev->u.gtid, 0, sizeof(ev->u.gtid));
        if (n < 25) {
            goto short_body;
        }
        ev->u.gtid.flags = b[0];
        memcpy(ev->u.gtid.sid, b + 1, 16);
        ev->u.gtid.gno = (int64_t) cdc_le64(b + 17);
        if (n >= 42 && b[25] == 2) {
            ev->u.gtid.last_committed = (int64_t) cdc_le64(b + 26);
            ev->u.gtid.sequence_number = (int64_t) cdc_le64(b + 34);
            if (n >= 49) {
                v = cdc_le48(b + 42) | ((uint64_t) b[48] << 48);
                ev->u.gtid.immediate_commit_us = v & ~(1ULL << 55);
            }
        }
        return 0;

    case CDC_BL_GTID_TAGGED:
        memset(&ev->u.gtid, 0, sizeof(ev->u.gtid));
        return cdc_bl_gtid_tagged_parse(ev, err, errlen);

    case CDC_BL_TRANSACTION_PAYLOAD:
        p = b;
        ev->u.payload.compression = 255;
        ev->u.payload.len = 0;
        for ( ;; ) {
            uint64_t        type, flen;
            const uint8_t  *vp;

            if (cdc_lenenc(&p, end, &type) != 0) {
                goto short_body;
            }
            if (type == 0) {
                break;
            }
            if (cdc_lenenc(&p, end, &flen) != 0
                || (uint64_t) (end - p) < flen)
            {
                goto short_body;
            }
            vp = p;
            if (cdc_lenenc(&vp, p + flen, &v) != 0) {
                v = 0;
            }
            switch (type) {
            case 1:
                ev->u.payload.len = v;
                break;
            case 2:
                ev->u.payload.compression = v;
                break;
            case 3:
                ev->u.payload.uncompressed_size = v;
                break;
            }
            p += flen;
        }
        if (ev->u.payload.len == 0
            || ev->u.payload.len > (uint64_t) (end - p))
        {
            ev->u.payload.len = (size_t) (end - p);
        }
        ev->u.payload.data = p;
        return 0;

    case CDC_BL_MARIA_WRITE_ROWS_COMPRESSED_V1:
    case CDC_BL_MARIA_UPDATE_ROWS_COMPRESSED_V1:
    case CDC_BL_MARIA_DELETE_ROWS_COMPRESSED_V1:
    case CDC_BL_MARIA_WRITE_ROWS_COMPRESSED:
    case CDC_BL_MARIA_UPDATE_ROWS_COMPRESSED:
    case CDC_BL_MARIA_DELETE_ROWS_COMPRESSED:
    case CDC_BL_TABLE_MAP:
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
        phl = fmt->post_header_len[ev->h.type - 1];
        if (phl == 0) {
            phl = ((ev->h.type >= CDC_BL_WRITE_ROWS
                    && ev->h.type <= CDC_BL_PARTIAL_UPDATE_ROWS)
                   || ev->h.type >= CDC_BL_MARIA_WRITE_ROWS_COMPRESSED)
                  ? 10 : 8;
        }
        if (n < phl || phl < 6) {
            goto short_body;
        }
        if (phl == 6) {
            v = cdc_le32(b);
            ev->u.rows.flags = cdc_le16(b + 4);
        } else {
            v = cdc_le48(b);
            ev->u.rows.flags = cdc_le16(b + 6);
        }
        ev->u.rows.table_id = v;
        return 0;

    default:
        return 0;
    }

short_body:

    return cdc_bl_error(err, errlen, "%s event: body of %zu bytes is "
                        "truncated or malformed", name, n);
}


static int
cdc_bl_xid_parse(cdc_binlog_xid_t *x, int32_t format_id, uint8_t gtrid_len,
    uint8_t bqual_len, const uint8_t *data, const uint8_t *end)
{
    if (gtrid_len > 64 || bqual_len > 64
        || end - data < (ptrdiff_t) gtrid_len + bqual_len)
    {
        return -1;
    }

    x->format_id = format_id;
    x->gtrid_len = gtrid_len;
    x->bqual_len = bqual_len;
    x->data = data;
    return 0;
}


void
cdc_binlog_xid_to_str(const cdc_binlog_xid_t *x, char *buf, size_t len)
{
    static const char  hex[] = "0123456789abcdef";
    char               tmp[CDC_BL_XID_STR_LEN];
    size_t             n;
    unsigned           i;

    n = 0;
    tmp[n++] = 'X';
    tmp[n++] = '\'';
    for (i = 0; i < (unsigned) x->gtrid_len + x->bqual_len; i++) {
        if (i == x->gtrid_len) {
            memcpy(tmp + n, "',X'", 4);
            n += 4;
        }
        tmp[n++] = hex[x->data[i] >> 4];
        tmp[n++] = hex[x->data[i] & 15];
    }
    if (x->bqual_len == 0) {
        memcpy(tmp + n, "',X'", 4);
        n += 4;
    }
    tmp[n] = '\0';

    snprintf(buf, len, "%s',%ld", tmp, (long) x->format_id);
}


/*
 * MySQL's serialization format (GTID_TAGGED): integers are variable
 * length, the count of trailing one bits in the first byte + 1 giving the
 * byte count; signed ones are zigzag encoded.
 */
static int
cdc_bl_varlen(const uint8_t **pp, const uint8_t *end, uint64_t *v)
{
    const uint8_t  *p;
    unsigned        n, i;
    uint64_t        x;

    p = *pp;
    if (p >= end) {
        return -1;
    }

    if (p[0] == 0xff) {
        if (end - p < 9) {
            return -1;
        }
        *v = cdc_le64(p + 1);
        *pp = p + 9;
        return 0;
    }

    n = 1;
    while (p[0] & (1u << (n - 1))) {
        n++;
    }

    if ((size_t) (end - p) < n) {
        return -1;
    }

    x = 0;
    for (i = 0; i < n; i++) {
        x |= (uint64_t) p[i] << (8 * i);
    }

    *v = x >> n;
    *pp = p + n;
    return 0;
}


static int64_t
cdc_bl_unzigzag(uint64_t v)
{
    return (int64_t) (v >> 1) ^ -(int64_t) (v & 1);
}


static int
cdc_bl_gtid_tagged_parse(cdc_binlog_event_t *ev, char *err, size_t errlen)
{
    const uint8_t  *p, *end;
    uint64_t        v, id, len;
    unsigned        i;

    p = ev->body;
    end = p + ev->body_len;

    /* format version, message size, last non-ignorable field id */
    if (cdc_bl_varlen(&p, end, &v) != 0
        || cdc_bl_varlen(&p, end, &v) != 0
        || cdc_bl_varlen(&p, end, &v) != 0)
    {
        goto bad;
    }

    while (p < end) {
        if (cdc_bl_varlen(&p, end, &id) != 0) {
            goto bad;
        }

        switch (id) {
        case 0:
            if (cdc_bl_varlen(&p, end, &v) != 0) {
                goto bad;
            }
            ev->u.gtid.flags = (uint8_t) v;
            break;
        case 1:
            for (i = 0; i < 16; i++) {
                if (cdc_bl_varlen(&p, end, &v) != 0) {
                    goto bad;
                }
                ev->u.gtid.sid[i] = (uint8_t) v;
            }
            break;
        case 3:
            if (cdc_bl_varlen(&p, end, &len) != 0
                || len >= sizeof(ev->u.gtid.tag)
                || (uint64_t) (end - p) < len)
            {
                goto bad;
            }
            memcpy(ev->u.gtid.tag, p, len);
            ev->u.gtid.tag[len] = '\0';
            p += len;
            break;
        case 2:
        case 4:
        case 5:
            if (cdc_bl_varlen(&p, end, &v) != 0) {
                goto bad;
            }
            if (id == 2) {
                ev->u.gtid.gno = cdc_bl_unzigzag(v);
            } else if (id == 4) {
                ev->u.gtid.last_committed = cdc_bl_unzigzag(v);
            } else {
                ev->u.gtid.sequence_number = cdc_bl_unzigzag(v);
            }
            break;
        case 6:
            if (cdc_bl_varlen(&p, end, &v) != 0) {
                goto bad;
            }
            ev->u.gtid.immediate_commit_us = v;
            break;
        default:
            /* the rest (original timestamp, lengths, versions) is not
               needed */
            return 0;
        }
    }

    return 0;

bad:

    return cdc_bl_error(err, errlen, "GTID_TAGGED event: malformed at "
                        "body offset %td",
                        (ptrdiff_t) (p - ev->body));
}


int
cdc_binlog_previous_gtids_to_str(const cdc_binlog_event_t *ev,
    cdc_buf_t *out, char *err, size_t errlen)
{
    static const char  hex[] = "0123456789abcdef";
    const uint8_t     *p, *end;
    uint64_t           v, nsids, nint, i, j, start, stop, taglen;
    int                tagged, k, n;
    char               tmp[64];

    p = ev->body;
    end = p + ev->body_len;
    if (end - p < 8) {
        goto truncated;
    }

    v = cdc_le64(p);
    p += 8;
    tagged = (v & 0xff) == 1 && (v >> 56) == 1;
    nsids = tagged ? (v >> 8) & 0xffffffffffffULL : v;

    for (i = 0; i < nsids; i++) {
        if (end - p < 16) {
            goto truncated;
        }
        if (i && cdc_buf_put(out, ",", 1) != 0) {
            return -1;
        }
        n = 0;
        for (k = 0; k < 16; k++) {
            if (k == 4 || k == 6 || k == 8 || k == 10) {
                tmp[n++] = '-';
            }
            tmp[n++] = hex[p[k] >> 4];
            tmp[n++] = hex[p[k] & 15];
        }
        if (cdc_buf_put(out, tmp, (size_t) n) != 0) {
            return -1;
        }
        p += 16;

        if (tagged) {
            if (cdc_bl_varlen(&p, end, &taglen) != 0
                || (uint64_t) (end - p) < taglen)
            {
                goto truncated;
            }
            if (taglen
                && (cdc_buf_put(out, ":", 1) != 0
                    || cdc_buf_put(out, p, (size_t) taglen) != 0))
            {
                return -1;
            }
            p += taglen;
        }

        if (end - p < 8) {
            goto truncated;
        }
        nint = cdc_le64(p);
        p += 8;
        if ((uint64_t) (end - p) / 16 < nint) {
            goto truncated;
        }

        for (j = 0; j < nint; j++) {
            start = cdc_le64(p);
            stop = cdc_le64(p + 8);
            p += 16;
            if (stop <= start + 1) {
                n = snprintf(tmp, sizeof(tmp), ":%llu",
                             (unsigned long long) start);
            } else {
                n = snprintf(tmp, sizeof(tmp), ":%llu-%llu",
                             (unsigned long long) start,
                             (unsigned long long) stop - 1);
            }
            if (cdc_buf_put(out, tmp, (size_t) n) != 0) {
                return -1;
            }
        }
    }

    return 0;

truncated:

    return cdc_bl_error(err, errlen, "PREVIOUS_GTIDS event: body of %zu "
                        "bytes is truncated", ev->body_len);
}


const char *
cdc_binlog_type_name(unsigned type)
{
    switch (type) {
    case CDC_BL_START_V3: return "START_V3";
    case CDC_BL_QUERY: return "QUERY";
    case CDC_BL_STOP: return "STOP";
    case CDC_BL_ROTATE: return "ROTATE";
    case CDC_BL_INTVAR: return "INTVAR";
    case CDC_BL_RAND: return "RAND";
    case CDC_BL_USER_VAR: return "USER_VAR";
    case CDC_BL_FORMAT_DESCRIPTION: return "FORMAT_DESCRIPTION";
    case CDC_BL_XID: return "XID";
    case CDC_BL_TABLE_MAP: return "TABLE_MAP";
    case CDC_BL_WRITE_ROWS_V0: return "WRITE_ROWS_V0";
    case CDC_BL_UPDATE_ROWS_V0: return "UPDATE_ROWS_V0";
    case CDC_BL_DELETE_ROWS_V0: return "DELETE_ROWS_V0";
    case CDC_BL_WRITE_ROWS_V1: return "WRITE_ROWS_V1";
    case CDC_BL_UPDATE_ROWS_V1: return "UPDATE_ROWS_V1";
    case CDC_BL_DELETE_ROWS_V1: return "DELETE_ROWS_V1";
    case CDC_BL_INCIDENT: return "INCIDENT";
    case CDC_BL_HEARTBEAT: return "HEARTBEAT";
    case CDC_BL_IGNORABLE: return "IGNORABLE";
    case CDC_BL_ROWS_QUERY: return "ROWS_QUERY";
    case CDC_BL_WRITE_ROWS: return "WRITE_ROWS";
    case CDC_BL_UPDATE_ROWS: return "UPDATE_ROWS";
    case CDC_BL_DELETE_ROWS: return "DELETE_ROWS";
    case CDC_BL_GTID: return "GTID";
    case CDC_BL_ANONYMOUS_GTID: return "ANONYMOUS_GTID";
    case CDC_BL_PREVIOUS_GTIDS: return "PREVIOUS_GTIDS";
    case CDC_BL_TRANSACTION_CONTEXT: return "TRANSACTION_CONTEXT";
    case CDC_BL_VIEW_CHANGE: return "VIEW_CHANGE";
    case CDC_BL_XA_PREPARE: return "XA_PREPARE";
    case CDC_BL_PARTIAL_UPDATE_ROWS: return "PARTIAL_UPDATE_ROWS";
    case CDC_BL_TRANSACTION_PAYLOAD: return "TRANSACTION_PAYLOAD";
    case CDC_BL_HEARTBEAT_V2: return "HEARTBEAT_V2";
    case CDC_BL_GTID_TAGGED: return "GTID_TAGGED";
    case CDC_BL_MARIA_ANNOTATE_ROWS: return "ANNOTATE_ROWS";
    case CDC_BL_MARIA_BINLOG_CHECKPOINT: return "BINLOG_CHECKPOINT";
    case CDC_BL_MARIA_GTID: return "MARIADB_GTID";
    case CDC_BL_MARIA_GTID_LIST: return "GTID_LIST";
    case CDC_BL_MARIA_START_ENCRYPTION: return "START_ENCRYPTION";
    case CDC_BL_MARIA_QUERY_COMPRESSED: return "QUERY_COMPRESSED";
    case CDC_BL_MARIA_WRITE_ROWS_COMPRESSED_V1:
        return "WRITE_ROWS_COMPRESSED_V1";
    case CDC_BL_MARIA_UPDATE_ROWS_COMPRESSED_V1:
        return "UPDATE_ROWS_COMPRESSED_V1";
    case CDC_BL_MARIA_DELETE_ROWS_COMPRESSED_V1:
        return "DELETE_ROWS_COMPRESSED_V1";
    case CDC_BL_MARIA_WRITE_ROWS_COMPRESSED:
        return "WRITE_ROWS_COMPRESSED";
    case CDC_BL_MARIA_UPDATE_ROWS_COMPRESSED:
        return "UPDATE_ROWS_COMPRESSED";
    case CDC_BL_MARIA_DELETE_ROWS_COMPRESSED:
        return "DELETE_ROWS_COMPRESSED";
    default: return "UNKNOWN";
    }
}
