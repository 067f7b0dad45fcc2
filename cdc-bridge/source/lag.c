/*
 * Source lag, metrics and /status of `cdc-bridge run`.
 *
 * Source lag is now minus the source commit time of the newest event
 * read.  Binlog commit times have one-second resolution and stop moving
 * while the monolith is idle, so two more clocks count: the heartbeat
 * row's beat_ms (exact, written by heartbeat.c) and the moment the
 * server last sent a replication heartbeat, which it does only when we
 * have read everything.
 */

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "metrics.h"
#include "source/run_int.h"


int64_t
cdc_run_lag_ms(const cdc_run_t *r, int64_t now)
{
    int64_t  seen, event, beat, caught_up;

    event = cdc_run_load(r->last_event_ms);
    beat = cdc_run_load(r->last_beat_ms);
    caught_up = cdc_run_load(r->caught_up_ms);

    seen = event > beat ? event : beat;
    if (seen <= 0) {
        return -1;
    }

    if (caught_up > 0 && caught_up >= seen) {
        /* the server said nothing is left to read */
        return now - caught_up;
    }

    return now > seen ? now - seen : 0;
}



static void
cdc_run_render(void *data)
{
    cdc_run_t  *r;
    int64_t     now, lag;

    r = data;
    now = cdc_now_ms();

    pthread_mutex_lock(&r->lock);

    lag = cdc_run_lag_ms(r, now);

    cdc_series_set(r->m_lag, lag >= 0 ? (double) lag / 1000.0 : -1);
    cdc_series_set(r->m_inflight, (double) cdc_acks_inflight(&r->acks));
    cdc_series_set(r->m_pos, (double) r->read_pos.pos);
    cdc_series_set(r->m_ckpt_age, r->ck.updated_ms > 0
                   ? (double) (now - r->ck.updated_ms) / 1000.0 : -1);

    pthread_mutex_unlock(&r->lock);
}


static int
cdc_run_json_str(char *buf, size_t len, size_t *used, const char *s)
{
    int  n;

    n = snprintf(buf + *used, len - *used, "\"");
    if (n < 0 || (size_t) n >= len - *used) {
        return -1;
    }
    *used += (size_t) n;

    for ( ; *s; s++) {
        if (*used + 8 >= len) {
            return -1;
        }

        if (*s == '"' || *s == '\\') {
            buf[(*used)++] = '\\';
            buf[(*used)++] = *s;
        } else if ((unsigned char) *s < 0x20) {
            *used += (size_t) snprintf(buf + *used, len - *used, "\\u%04x",
                                       (unsigned char) *s);
        } else {
            buf[(*used)++] = *s;
        }
    }

    if (*used + 2 >= len) {
        return -1;
    }

    buf[(*used)++] = '"';
    buf[*used] = '\0';

    return 0;
}


#define cdc_run_cat(...)                                                     \
    do {                                                                     \
        int  n_;                                                             \
        n_ = snprintf(buf + used, len - used, __VA_ARGS__);                  \
        if (n_ < 0 || (size_t) n_ >= len - used) {                           \
            goto overflow;                                                   \
        }                                                                    \
        used += (size_t) n_;                                                 \
    } while (0)


static void
cdc_run_json_pos(char *buf, size_t len, size_t *usedp,
    const cdc_src_pos_t *p, int *ok)
{
    size_t  used;

    used = *usedp;

    cdc_run_cat("{\"file\":");
    if (cdc_run_json_str(buf, len, &used, p->file) != 0) {
        goto overflow;
    }
    cdc_run_cat(",\"pos\":%" PRIu64 ",\"gtid\":", p->pos);
    if (cdc_run_json_str(buf, len, &used, p->gtid) != 0) {
        goto overflow;
    }
    cdc_run_cat("}");

    *usedp = used;
    return;

overflow:
    *ok = 0;
}


static char *
cdc_run_status(void *data)
{
    cdc_run_t  *r;
    char       *buf;
    size_t      len, used, i, k;
    int64_t     now, lag;
    uint64_t    n[4];
    int         ok;

    r = data;
    cdc_run_render(r);

    len = 4096 + r->ntables * 400;
    buf = malloc(len);
    if (buf == NULL) {
        return NULL;
    }

    used = 0;
    ok = 1;
    now = cdc_now_ms();

    pthread_mutex_lock(&r->lock);

    lag = cdc_run_lag_ms(r, now);

    cdc_run_cat("{\"command\":\"run\",\"phase\":");
    if (cdc_run_json_str(buf, len, &used, r->phase) != 0) {
        goto overflow;
    }
    cdc_run_cat(",\"source_lag_ms\":%" PRId64 ",\"last_event_ts_ms\":%"
                PRId64 ",\"last_heartbeat_ms\":%" PRId64
                ",\"events_produced\":%" PRIu64 ",\"events_delivered\":%"
                PRIu64 ",\"in_flight\":%" PRIu64 ",\"reconnects\":%" PRIu64
                ",\"xa_prepared\":%" PRIu64 ",\"position\":", lag,
                cdc_run_load(r->last_event_ms),
                cdc_run_load(r->last_beat_ms), cdc_run_load(r->produced),
                cdc_run_load(r->delivered), cdc_acks_inflight(&r->acks),
                cdc_run_load(r->reconnects),
                cdc_run_load(r->xa_prepared));
    cdc_run_json_pos(buf, len, &used, &r->read_pos, &ok);
    cdc_run_cat(",\"handed_to_kafka\":");
    cdc_run_json_pos(buf, len, &used, &r->handed, &ok);
    cdc_run_cat(",\"checkpoint\":");
    cdc_run_json_pos(buf, len, &used, &r->ck.pos, &ok);
    cdc_run_cat(",\"checkpoint_updated_ms\":%" PRId64
                ",\"checkpoint_error\":", r->ck.updated_ms);
    if (r->ckpt_failing) {
        if (cdc_run_json_str(buf, len, &used, r->ckpt_err) != 0) {
            goto overflow;
        }
    } else {
        cdc_run_cat("null");
    }
    cdc_run_cat(",\"snapshot\":\"%s\",\"tables\":{",
                r->ck.snap_state == CDC_SNAP_RUNNING ? "running"
                : r->ck.snap_state == CDC_SNAP_DONE ? "done" : "none");

    for (i = 0; i < r->ntables; i++) {
        if (i > 0) {
            cdc_run_cat(",");
        }
        if (cdc_run_json_str(buf, len, &used, r->tables[i].name) != 0) {
            goto overflow;
        }
        for (k = 0; k < 4; k++) {
            n[k] = cdc_run_load(r->tables[i].n[k]);
        }
        cdc_run_cat(":{\"c\":%" PRIu64 ",\"u\":%" PRIu64 ",\"d\":%" PRIu64
                    ",\"r\":%" PRIu64 ",\"events\":%" PRIu64 "}",
                    n[0], n[1], n[2], n[3], n[0] + n[1] + n[2] + n[3]);
    }

    cdc_run_cat("}}");

    pthread_mutex_unlock(&r->lock);

    if (!ok) {
        free(buf);
        return NULL;
    }

    return buf;

overflow:

    pthread_mutex_unlock(&r->lock);
    free(buf);

    return NULL;
}


static int
cdc_run_health(void *data, char *msg, size_t len)
{
    cdc_run_t  *r;
    int         rc;

    r = data;
    rc = 0;

    pthread_mutex_lock(&r->lock);
    if (r->ckpt_failing) {
        snprintf(msg, len, "checkpoint writes fail: %s", r->ckpt_err);
        rc = 1;
    }
    pthread_mutex_unlock(&r->lock);

    return rc;
}


int
cdc_run_metrics_init(cdc_run_t *r, char *err, size_t errlen)
{
    cdc_metrics_t    *m;
    cdc_http_conf_t   hc;

    m = cdc_metrics_create();
    if (m == NULL) {
        return cdc_error(err, errlen, "metrics: out of memory");
    }

    r->metrics = m;

    r->m_events = cdc_metrics_counter(m, "source_events_total",
        "Row change events produced to Kafka, per source table and op.",
        "table,op");
    r->m_delivered = cdc_metric_series(cdc_metrics_counter(m,
        "source_delivered_total",
        "Events Kafka acknowledged.", NULL), NULL);
    r->m_lag = cdc_metric_series(cdc_metrics_gauge(m,
        "source_lag_seconds",
        "Now minus the source commit time of the last event read "
        "(heartbeats keep it honest when idle); -1 unknown.", NULL), NULL);
    r->m_inflight = cdc_metric_series(cdc_metrics_gauge(m,
        "source_in_flight_events",
        "Events produced but not yet acknowledged by Kafka.", NULL), NULL);
    r->m_pos = cdc_metric_series(cdc_metrics_gauge(m,
        "source_binlog_position",
        "Binlog offset of the last event read, in its file.", NULL), NULL);
    r->m_ckpt_pos = cdc_metric_series(cdc_metrics_gauge(m,
        "source_checkpoint_position",
        "Binlog offset of the durable checkpoint, in its file.", NULL),
        NULL);
    r->m_ckpt_age = cdc_metric_series(cdc_metrics_gauge(m,
        "source_checkpoint_age_seconds",
        "Seconds since the checkpoint was last written.", NULL), NULL);
    r->m_ckpt_errors = cdc_metric_series(cdc_metrics_counter(m,
        "source_checkpoint_errors_total",
        "Failed checkpoint writes.", NULL), NULL);
    r->m_reconnects = cdc_metric_series(cdc_metrics_counter(m,
        "source_reconnects_total",
        "Replication connections re-established.", NULL), NULL);

    cdc_metrics_on_render(m, cdc_run_render, r);

    if (r->cf->metrics_listen == NULL || r->cf->metrics_listen[0] == '\0') {
        return 0;
    }

    memset(&hc, 0, sizeof(hc));
    hc.listen = r->cf->metrics_listen;
    hc.metrics = m;
    hc.status = cdc_run_status;
    hc.health = cdc_run_health;
    hc.data = r;

    r->http = cdc_http_start(&hc, err, errlen);
    if (r->http == NULL) {
        return -1;
    }

    cdc_log_info("metrics on http://%s/metrics, status on /status",
                 r->cf->metrics_listen);

    return 0;
}
