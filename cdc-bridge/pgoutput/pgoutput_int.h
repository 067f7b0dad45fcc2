/*
 * pgoutput internals: a bounds-checked big-endian reader shared by
 * copy.c and decode.c.  Every get returns -1 when the bytes run out and
 * leaves the position unchanged.
 */

#ifndef CDC_PGOUTPUT_INT_H
#define CDC_PGOUTPUT_INT_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "pgoutput.h"


typedef struct {
    const uint8_t  *start;
    const uint8_t  *p;
    const uint8_t  *end;
} cdc_pgo_rd_t;


static inline void
cdc_pgo_rd_init(cdc_pgo_rd_t *r, const uint8_t *p, size_t len)
{
    r->start = p;
    r->p = p;
    r->end = p + len;
}


static inline size_t
cdc_pgo_rd_off(const cdc_pgo_rd_t *r)
{
    return (size_t) (r->p - r->start);
}


static inline size_t
cdc_pgo_rd_left(const cdc_pgo_rd_t *r)
{
    return (size_t) (r->end - r->p);
}


static inline int
cdc_pgo_rd_u8(cdc_pgo_rd_t *r, uint8_t *v)
{
    if (cdc_pgo_rd_left(r) < 1) {
        return -1;
    }
    *v = *r->p++;
    return 0;
}


static inline int
cdc_pgo_rd_u16(cdc_pgo_rd_t *r, uint16_t *v)
{
    if (cdc_pgo_rd_left(r) < 2) {
        return -1;
    }
    *v = (uint16_t) (r->p[0] << 8 | r->p[1]);
    r->p += 2;
    return 0;
}


static inline int
cdc_pgo_rd_u32(cdc_pgo_rd_t *r, uint32_t *v)
{
    if (cdc_pgo_rd_left(r) < 4) {
        return -1;
    }
    *v = (uint32_t) r->p[0] << 24 | (uint32_t) r->p[1] << 16
         | (uint32_t) r->p[2] << 8 | (uint32_t) r->p[3];
    r->p += 4;
    return 0;
}


static inline int
cdc_pgo_rd_u64(cdc_pgo_rd_t *r, uint64_t *v)
{
    uint64_t  n;
    int       i;

    if (cdc_pgo_rd_left(r) < 8) {
        return -1;
    }
    for (n = 0, i = 0; i < 8; i++) {
        n = n << 8 | r->p[i];
    }
    r->p += 8;
    *v = n;
    return 0;
}


/* a NUL-terminated string inside the bytes */
static inline int
cdc_pgo_rd_str(cdc_pgo_rd_t *r, const char **s)
{
    const uint8_t  *nul;

    nul = memchr(r->p, '\0', cdc_pgo_rd_left(r));
    if (nul == NULL) {
        return -1;
    }
    *s = (const char *) r->p;
    r->p = nul + 1;
    return 0;
}


static inline int
cdc_pgo_fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list  ap;

    if (err != NULL && errlen > 0) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

#endif /* CDC_PGOUTPUT_INT_H */
