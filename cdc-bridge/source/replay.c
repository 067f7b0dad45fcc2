/*
 * replay: a binlog file through the stream processor to one JSON line per
 * change (see replay.h).
 */

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "binlog/binlog.h"
#include "source/replay.h"
#include "source/stream.h"


typedef struct {
    FILE   *out;
    int     werr;
    int   (*filter)(void *data, const char *db, const char *table);
    void   *filter_data;
} cdc_replay_ctx_t;


static int
cdc_replay_filter(void *data, const char *db, const char *table)
{
    cdc_replay_ctx_t  *x = data;

    return x->filter(x->filter_data, db, table);
}


static int
cdc_replay_emit(void *data, const cdc_stream_change_t *c)
{
    cdc_replay_ctx_t  *x = data;
    FILE              *f = x->out;

    if (fputs("{\"topic\":\"", f) == EOF
        || fwrite(c->topic, 1, c->topic_len, f) != c->topic_len
        || fputs("\",\"key\":", f) == EOF
        || fwrite(c->key, 1, c->key_len, f) != c->key_len
        || fputs(",\"value\":", f) == EOF
        || fwrite(c->value, 1, c->value_len, f) != c->value_len
        || fputs("}\n", f) == EOF)
    {
        x->werr = errno ? errno : EIO;
        return -1;
    }

    return 0;
}


int
cdc_replay_file(const char *path, const cdc_replay_opts_t *o, FILE *out,
    char *err, size_t errlen)
{
    cdc_binlog_file_t  *f;
    cdc_stream_t       *s;
    cdc_stream_opts_t   so;
    cdc_replay_ctx_t    x;
    const uint8_t      *ev;
    size_t              len;
    uint64_t            off;
    char               *copy;
    char                e[512];
    int                 rc;

    f = cdc_binlog_file_open(path, err, errlen);
    if (f == NULL) {
        return -1;
    }

    x.out = out;
    x.werr = 0;
    x.filter = o ? o->filter : NULL;
    x.filter_data = o ? o->filter_data : NULL;

    memset(&so, 0, sizeof(so));
    so.topic_prefix = (o && o->topic_prefix) ? o->topic_prefix : "cdc";
    so.verify_checksum = !(o && o->no_verify_checksum);
    so.fixed_ts_ms = o ? o->fixed_ts_ms : 0;
    so.filter = x.filter ? cdc_replay_filter : NULL;
    so.data = &x;
    so.emit = cdc_replay_emit;

    s = cdc_stream_create(&so, err, errlen);
    if (s == NULL) {
        cdc_binlog_file_close(f);
        return -1;
    }

    copy = strdup(path);
    if (copy == NULL) {
        snprintf(err, errlen, "%s: out of memory", path);
        cdc_stream_destroy(s);
        cdc_binlog_file_close(f);
        return -1;
    }
    (void) cdc_stream_set_position(s, basename(copy), 4, NULL, NULL);
    free(copy);

    rc = 0;
    for ( ;; ) {
        rc = cdc_binlog_file_next(f, &ev, &len, &off, err, errlen);
        if (rc <= 0) {
            break;
        }

        if (cdc_stream_feed(s, ev, len, e, sizeof(e)) != 0) {
            if (x.werr) {
                snprintf(err, errlen, "%s: offset %llu: write: %s", path,
                         (unsigned long long) off, strerror(x.werr));
            } else {
                snprintf(err, errlen, "%s: offset %llu: %s", path,
                         (unsigned long long) off, e);
            }
            rc = -1;
            break;
        }
    }

    if (rc == 0 && fflush(out) != 0) {
        snprintf(err, errlen, "%s: write: %s", path, strerror(errno));
        rc = -1;
    }

    if (o == NULL || !o->quiet) {
        fprintf(stderr, "cdc-bridge: %s: %llu events, %llu changes, "
                "%llu transactions\n", path,
                (unsigned long long) cdc_stream_stats(s)->events,
                (unsigned long long) cdc_stream_stats(s)->rows,
                (unsigned long long) cdc_stream_stats(s)->transactions);
    }

    cdc_stream_destroy(s);
    cdc_binlog_file_close(f);
    return rc < 0 ? -1 : 0;
}
