/*
 * strangler: the per-service lag file, the one channel through which the
 * data side tells the routing side how far behind a service's database is.
 *
 * Written by `cdc-bridge sink` (the service's `lag_file`) at least every
 * 250 ms, atomically: write "<file>.tmp", fsync is not needed (a lost file
 * reads as stale, which fails safe), rename over "<file>".  Read by the
 * nginx module (max_lag, read_your_writes) and by strangler-ctl.
 *
 * The file is one line of ASCII, space separated "key=value" fields, in
 * this order, ending in "\n":
 *
 *   v=1 updated_ms=1700000000250 lag_ms=120 watermark_ms=1700000000130
 *       pending=0 service=orders
 *
 *   v             format version, 1
 *   updated_ms    wall clock (ms since the epoch) when the sink wrote it;
 *                 a reader treats the file as stale when now - updated_ms
 *                 exceeds its own limit
 *   lag_ms        apply lag: wall clock at write minus watermark_ms, ms;
 *                 -1 when unknown (watermark_ms is 0)
 *   watermark_ms  source-clock time (ms since the epoch) up to which every
 *                 change is applied in the service's database: the minimum
 *                 over the service's partitions of the source time applied
 *                 there (rows, heartbeat rows, progress markers), read
 *                 from strangler_cdc.offsets, so every sink instance of
 *                 the service writes the same figure; 0 when unknown
 *   pending       events consumed from Kafka but not applied yet plus
 *                 events in Kafka not consumed yet (from high watermarks)
 *                 on the partitions assigned to the writing instance;
 *                 -1 when unknown
 *   service       the service name (informational)
 *
 * Readers ignore unknown keys, so later versions may append fields.
 */

#ifndef STRANGLER_LAGFILE_H
#define STRANGLER_LAGFILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>


#define STRANGLER_LAGFILE_VERSION  1
#define STRANGLER_LAGFILE_MAX      256


typedef struct {
    int64_t  updated_ms;
    int64_t  lag_ms;
    int64_t  watermark_ms;
    int64_t  pending;
} strangler_lag_t;


/* Formats lag into buf; returns the length, or -1 when it does not fit. */
static inline int
strangler_lagfile_format(char *buf, size_t size, const strangler_lag_t *lag,
    const char *service)
{
    int  n;

    n = snprintf(buf, size,
                 "v=%d updated_ms=%lld lag_ms=%lld watermark_ms=%lld"
                 " pending=%lld service=%s\n",
                 STRANGLER_LAGFILE_VERSION, (long long) lag->updated_ms,
                 (long long) lag->lag_ms, (long long) lag->watermark_ms,
                 (long long) lag->pending, service ? service : "");

    if (n < 0 || (size_t) n >= size) {
        return -1;
    }

    return n;
}


static inline int
strangler_lagfile_num(const char *p, const char *end, int64_t *out)
{
    int      neg;
    int64_t  v;

    neg = 0;
    v = 0;

    if (p < end && *p == '-') {
        neg = 1;
        p++;
    }

    if (p == end) {
        return -1;
    }

    for ( /* void */ ; p < end; p++) {
        if (*p < '0' || *p > '9' || v > (INT64_MAX - 9) / 10) {
            return -1;
        }
        v = v * 10 + (*p - '0');
    }

    *out = neg ? -v : v;

    return 0;
}


/*
 * Parses the contents of a lag file (len bytes, need not be terminated).
 * Returns 0 and fills lag, or -1 when the text is not a version 1 lag
 * file with updated_ms, lag_ms and watermark_ms present.
 */
static inline int
strangler_lagfile_parse(const char *buf, size_t len, strangler_lag_t *lag)
{
    int          seen;
    size_t       klen;
    int64_t      v, version;
    const char  *p, *end, *tok, *eq, *tend;

    p = buf;
    end = buf + len;
    seen = 0;
    version = 0;
    lag->updated_ms = 0;
    lag->lag_ms = -1;
    lag->watermark_ms = 0;
    lag->pending = -1;

    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\n' || *p == '\r')) {
            p++;
        }

        tok = p;

        while (p < end && *p != ' ' && *p != '\n' && *p != '\r') {
            p++;
        }

        tend = p;

        if (tok == tend) {
            break;
        }

        for (eq = tok; eq < tend && *eq != '='; eq++) { /* void */ }

        if (eq == tend) {
            return -1;
        }

        klen = (size_t) (eq - tok);

#define STRANGLER_LAGKEY(name)                                                \
        (klen == sizeof(name) - 1 && __builtin_memcmp(tok, name, klen) == 0)

        if (STRANGLER_LAGKEY("service")) {
            continue;
        }

        if (strangler_lagfile_num(eq + 1, tend, &v) != 0) {
            if (STRANGLER_LAGKEY("v") || STRANGLER_LAGKEY("updated_ms")
                || STRANGLER_LAGKEY("lag_ms")
                || STRANGLER_LAGKEY("watermark_ms")
                || STRANGLER_LAGKEY("pending"))
            {
                return -1;
            }
            continue;
        }

        if (STRANGLER_LAGKEY("v")) {
            version = v;
            seen |= 1;

        } else if (STRANGLER_LAGKEY("updated_ms")) {
            lag->updated_ms = v;
            seen |= 2;

        } else if (STRANGLER_LAGKEY("lag_ms")) {
            lag->lag_ms = v;
            seen |= 4;

        } else if (STRANGLER_LAGKEY("watermark_ms")) {
            lag->watermark_ms = v;
            seen |= 8;

        } else if (STRANGLER_LAGKEY("pending")) {
            lag->pending = v;
        }

#undef STRANGLER_LAGKEY
    }

    if (seen != 15 || version != STRANGLER_LAGFILE_VERSION) {
        return -1;
    }

    return 0;
}


#endif /* STRANGLER_LAGFILE_H */
