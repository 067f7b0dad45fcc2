/*
 * TRANSACTION_PAYLOAD (MySQL 8 binlog_transaction_compression): the zstd
 * frame and the events inside it (19-byte headers, no CRC32).
 */

#include <stdlib.h>
#include <string.h>

#include <zstd.h>

#include "binlog_int.h"


#define CDC_PAYLOAD_MAX  (1024ULL * 1024 * 1024)


int
cdc_binlog_payload_decompress(const cdc_binlog_event_t *ev,
    uint8_t **out, size_t *cap, size_t *outlen, char *err, size_t errlen)
{
    unsigned long long  size;
    size_t              r;
    uint8_t            *n;

    if (ev->u.payload.compression == 255) {
        size = ev->u.payload.len;

    } else if (ev->u.payload.compression != 0) {
        return cdc_bl_error(err, errlen, "TRANSACTION_PAYLOAD: unknown "
                            "compression type %llu",
                            (unsigned long long) ev->u.payload.compression);

    } else {
        size = ZSTD_getFrameContentSize(ev->u.payload.data,
                                        ev->u.payload.len);
        if (size == ZSTD_CONTENTSIZE_ERROR) {
            return cdc_bl_error(err, errlen, "TRANSACTION_PAYLOAD: not a "
                                "zstd frame (%zu bytes)", ev->u.payload.len);
        }
        if (size == ZSTD_CONTENTSIZE_UNKNOWN) {
            size = ev->u.payload.uncompressed_size;
        }
    }

    if (size > CDC_PAYLOAD_MAX) {
        return cdc_bl_error(err, errlen, "TRANSACTION_PAYLOAD: uncompressed "
                            "size %llu is too large", size);
    }

    if (*cap < size + 1) {
        n = realloc(*out, (size_t) size + 1);
        if (n == NULL) {
            return cdc_bl_error(err, errlen, "TRANSACTION_PAYLOAD: out of "
                                "memory for %llu bytes", size);
        }
        *out = n;
        *cap = (size_t) size + 1;
    }

    if (ev->u.payload.compression == 255) {
        if (size) {
            memcpy(*out, ev->u.payload.data, (size_t) size);
        }
        *outlen = (size_t) size;
        return 0;
    }

    r = ZSTD_decompress(*out, *cap, ev->u.payload.data, ev->u.payload.len);
    if (ZSTD_isError(r)) {
        return cdc_bl_error(err, errlen, "TRANSACTION_PAYLOAD: zstd: %s",
                            ZSTD_getErrorName(r));
    }

    *outlen = r;
    return 0;
}


int
cdc_binlog_payload_next(const uint8_t *data, size_t len, size_t *off,
    const uint8_t **ev, size_t *evlen, char *err, size_t errlen)
{
    size_t    left;
    uint32_t  size;

    left = len - *off;
    if (left == 0) {
        return 0;
    }

    if (left < CDC_BINLOG_HEADER_LEN) {
        return cdc_bl_error(err, errlen, "TRANSACTION_PAYLOAD: inner event "
                            "at %zu truncated (%zu bytes left)", *off, left);
    }

    size = cdc_le32(data + *off + 9);
    if (size < CDC_BINLOG_HEADER_LEN || size > left) {
        return cdc_bl_error(err, errlen, "TRANSACTION_PAYLOAD: inner event "
                            "at %zu has size %u, %zu bytes left", *off, size,
                            left);
    }

    *ev = data + *off;
    *evlen = size;
    *off += size;
    return 1;
}
