/*
 * binlog library internals: little/big-endian readers, length-encoded
 * integers, and the error helper.  Not part of the public API.
 */

#ifndef CDC_BINLOG_INT_H
#define CDC_BINLOG_INT_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

#include "binlog.h"


#define CDC_BL_JSON_MAX_DEPTH  100


int cdc_bl_error(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));


static inline uint16_t
cdc_le16(const uint8_t *p)
{
    return (uint16_t) (p[0] | (p[1] << 8));
}


static inline uint32_t
cdc_le24(const uint8_t *p)
{
    return (uint32_t) p[0] | ((uint32_t) p[1] << 8) | ((uint32_t) p[2] << 16);
}


static inline uint32_t
cdc_le32(const uint8_t *p)
{
    return (uint32_t) p[0] | ((uint32_t) p[1] << 8)
           | ((uint32_t) p[2] << 16) | ((uint32_t) p[3] << 24);
}


static inline uint64_t
cdc_le48(const uint8_t *p)
{
    return (uint64_t) cdc_le32(p) | ((uint64_t) cdc_le16(p + 4) << 32);
}


static inline uint64_t
cdc_le64(const uint8_t *p)
{
    return (uint64_t) cdc_le32(p) | ((uint64_t) cdc_le32(p + 4) << 32);
}


static inline uint64_t
cdc_be(const uint8_t *p, unsigned n)
{
    uint64_t  v;
    unsigned  i;

    v = 0;
    for (i = 0; i < n; i++) {
        v = (v << 8) | p[i];
    }

    return v;
}


/*
 * Length-encoded integer at *p (not past end): advances *p.  Returns 0, or
 * -1 when truncated.  The NULL marker 251 reads as 0.
 */
static inline int
cdc_lenenc(const uint8_t **pp, const uint8_t *end, uint64_t *v)
{
    const uint8_t  *p;

    p = *pp;
    if (p >= end) {
        return -1;
    }

    if (p[0] < 251) {
        *v = p[0];
        *pp = p + 1;
        return 0;
    }

    switch (p[0]) {
    case 251:
        *v = 0;
        *pp = p + 1;
        return 0;
    case 252:
        if (end - p < 3) {
            return -1;
        }
        *v = cdc_le16(p + 1);
        *pp = p + 3;
        return 0;
    case 253:
        if (end - p < 4) {
            return -1;
        }
        *v = cdc_le24(p + 1);
        *pp = p + 4;
        return 0;
    case 254:
        if (end - p < 9) {
            return -1;
        }
        *v = cdc_le64(p + 1);
        *pp = p + 9;
        return 0;
    default:
        return -1;
    }
}


#endif /* CDC_BINLOG_INT_H */
