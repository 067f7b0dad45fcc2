/*
 * The CopyData framing of a START_REPLICATION stream (PostgreSQL's
 * "Streaming Replication Protocol"): XLogData and primary keepalive from
 * the server, the standby status update from the client; LSN text.
 */

#include <inttypes.h>
#include <stdlib.h>

#include "pgoutput_int.h"


int
cdc_pgo_copy_parse(cdc_pgo_copy_t *c, const uint8_t *p, size_t len,
    char *err, size_t errlen)
{
    cdc_pgo_rd_t  r;
    uint8_t       kind, reply;
    uint64_t      t;

    memset(c, 0, sizeof(*c));
    cdc_pgo_rd_init(&r, p, len);

    if (cdc_pgo_rd_u8(&r, &kind) != 0) {
        return cdc_pgo_fail(err, errlen, "replication stream: empty "
                            "CopyData message");
    }

    switch (kind) {

    case 'w':
        if (cdc_pgo_rd_u64(&r, &c->start_lsn) != 0
            || cdc_pgo_rd_u64(&r, &c->end_lsn) != 0
            || cdc_pgo_rd_u64(&r, &t) != 0)
        {
            return cdc_pgo_fail(err, errlen, "replication stream: XLogData "
                                "header truncated at %zu of 25 bytes", len);
        }
        c->kind = 'w';
        c->send_time = (int64_t) t;
        c->data = r.p;
        c->len = cdc_pgo_rd_left(&r);
        return 0;

    case 'k':
        if (cdc_pgo_rd_u64(&r, &c->end_lsn) != 0
            || cdc_pgo_rd_u64(&r, &t) != 0
            || cdc_pgo_rd_u8(&r, &reply) != 0)
        {
            return cdc_pgo_fail(err, errlen, "replication stream: primary "
                                "keepalive truncated at %zu of 18 bytes",
                                len);
        }
        if (reply > 1) {
            return cdc_pgo_fail(err, errlen, "replication stream: primary "
                                "keepalive reply flag %u is not 0 or 1",
                                (unsigned) reply);
        }
        c->kind = 'k';
        c->send_time = (int64_t) t;
        c->reply = reply;
        return 0;

    default:
        return cdc_pgo_fail(err, errlen, "replication stream: unknown "
                            "CopyData message type 0x%02x", (unsigned) kind);
    }
}


static void
cdc_pgo_put64(uint8_t *p, uint64_t v)
{
    int  i;

    for (i = 7; i >= 0; i--) {
        p[i] = (uint8_t) (v & 0xff);
        v >>= 8;
    }
}


size_t
cdc_pgo_status_build(uint8_t out[CDC_PGO_STATUS_LEN], uint64_t written,
    uint64_t flushed, uint64_t applied, int64_t now, int reply)
{
    out[0] = 'r';
    cdc_pgo_put64(out + 1, written);
    cdc_pgo_put64(out + 9, flushed);
    cdc_pgo_put64(out + 17, applied);
    cdc_pgo_put64(out + 25, (uint64_t) now);
    out[33] = reply ? 1 : 0;
    return CDC_PGO_STATUS_LEN;
}


static int
cdc_pgo_hex32(const char *s, const char *end, uint32_t *v)
{
    uint64_t  n;
    int       d;

    if (s == end || end - s > 8) {
        return -1;
    }

    for (n = 0; s < end; s++) {
        if (*s >= '0' && *s <= '9') {
            d = *s - '0';
        } else if (*s >= 'a' && *s <= 'f') {
            d = *s - 'a' + 10;
        } else if (*s >= 'A' && *s <= 'F') {
            d = *s - 'A' + 10;
        } else {
            return -1;
        }
        n = n << 4 | (uint64_t) d;
    }

    *v = (uint32_t) n;
    return 0;
}


int
cdc_pgo_lsn_parse(const char *s, uint64_t *lsn, char *err, size_t errlen)
{
    const char  *slash;
    uint32_t     hi, lo;

    slash = strchr(s, '/');
    if (slash == NULL
        || cdc_pgo_hex32(s, slash, &hi) != 0
        || cdc_pgo_hex32(slash + 1, slash + 1 + strlen(slash + 1), &lo) != 0)
    {
        return cdc_pgo_fail(err, errlen, "invalid LSN \"%s\" (expected "
                            "hex/hex, e.g. 0/16B3748)", s);
    }

    *lsn = (uint64_t) hi << 32 | lo;
    return 0;
}


void
cdc_pgo_lsn_format(uint64_t lsn, char out[CDC_PGO_LSN_STRLEN])
{
    snprintf(out, CDC_PGO_LSN_STRLEN, "%" PRIX32 "/%" PRIX32,
             (uint32_t) (lsn >> 32), (uint32_t) lsn);
}
