/*
 * cdc-bridge sink: lag accounting.  A thread of its own, every 200 ms:
 *
 *   pending       sum over the assigned partitions of Kafka's high
 *                 watermark (librdkafka's cached value) minus the next
 *                 offset to apply: consumed-but-unapplied plus unconsumed
 *   watermark_ms  the newest source commit time applied (heartbeat rows
 *                 count: their beat_ms column, or the event's ts_ms)
 *   lag_ms        now - watermark_ms
 *
 * goes to the lag file (include/strangler/lagfile.h: "<file>.tmp" then
 * rename), to gauges in /metrics and to /status.  The main loop only
 * updates the numbers under s->lock.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <strangler/lagfile.h>

#include "clock.h"
#include "log.h"
#include "sink/sink.h"


#define CDC_LAG_PERIOD_MS  200


typedef struct {
    pthread_t        thread;
    int              running;
    int              quit;         /* __atomic: the thread stops */
    cdc_http_t      *http;
    cdc_series_t    *m_lag;
    cdc_series_t    *m_pending;
    cdc_series_t    *m_watermark;
    cdc_series_t    *m_commit_lag;
    strangler_lag_t  last;
} cdc_lag_state_t;


/* wall clock, for lag against source commit times (clock.h) */
int64_t
cdc_lag_now_ms(void)
{
    return cdc_clock_wall_ms();
}


static void
cdc_lag_compute(cdc_sink_t *s, strangler_lag_t *lag)
{
    int              any;
    size_t           i;
    int64_t          lo, hi, pending;
    cdc_sink_part_t *p;

    lag->updated_ms = cdc_lag_now_ms();
    pending = 0;
    any = 0;

    pthread_mutex_lock(&s->lock);

    for (i = 0; i < s->nparts; i++) {
        p = &s->parts[i];

        if (!p->assigned || p->next < 0 || s->rk == NULL) {
            continue;
        }

        if (rd_kafka_get_watermark_offsets(s->rk, p->topic, p->partition,
                                           &lo, &hi)
            == RD_KAFKA_RESP_ERR_NO_ERROR && hi >= 0)
        {
            p->hwm = hi;
        }

        if (p->hwm >= 0) {
            any = 1;
            if (p->hwm > p->next) {
                pending += p->hwm - p->next;
            }
        }
    }

    lag->pending = any ? pending : -1;
    lag->watermark_ms = s->watermark_ms;
    lag->lag_ms = s->watermark_ms > 0 ? lag->updated_ms - s->watermark_ms
                                      : -1;
    if (lag->lag_ms < -1) {
        lag->lag_ms = 0;               /* clocks a little apart */
    }

    pthread_mutex_unlock(&s->lock);
}


static void
cdc_lag_write(cdc_sink_t *s, const strangler_lag_t *lag)
{
    int    fd, n;
    char   buf[STRANGLER_LAGFILE_MAX], tmp[4096];

    if (s->svc->lag_file == NULL || s->svc->lag_file[0] == '\0') {
        return;
    }

    n = strangler_lagfile_format(buf, sizeof(buf), lag, s->svc->name);
    if (n < 0) {
        return;
    }

    if (snprintf(tmp, sizeof(tmp), "%s.tmp", s->svc->lag_file)
        >= (int) sizeof(tmp))
    {
        return;
    }

    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

    if (fd == -1) {
        cdc_log_warn("service %s: lag file \"%s\": %s", s->svc->name, tmp,
                     strerror(errno));
        return;
    }

    if (write(fd, buf, (size_t) n) != n) {
        cdc_log_warn("service %s: lag file \"%s\": %s", s->svc->name, tmp,
                     strerror(errno));
        close(fd);
        return;
    }

    if (close(fd) != 0 || rename(tmp, s->svc->lag_file) != 0) {
        cdc_log_warn("service %s: lag file \"%s\": %s", s->svc->name,
                     s->svc->lag_file, strerror(errno));
    }
}


static void
cdc_lag_publish(cdc_sink_t *s, const strangler_lag_t *lag)
{
    cdc_lag_state_t  *ls;

    ls = s->lag;

    cdc_series_set(ls->m_lag, lag->lag_ms >= 0 ? lag->lag_ms / 1000.0 : -1);
    cdc_series_set(ls->m_pending, (double) lag->pending);
    cdc_series_set(ls->m_watermark, lag->watermark_ms / 1000.0);

    pthread_mutex_lock(&s->lock);
    cdc_series_set(ls->m_commit_lag, s->commit_lag_ms / 1000.0);
    ls->last = *lag;
    pthread_mutex_unlock(&s->lock);

    cdc_lag_write(s, lag);
}


void
cdc_lag_write_now(cdc_sink_t *s)
{
    strangler_lag_t  lag;

    if (s->lag == NULL) {
        return;
    }

    cdc_lag_compute(s, &lag);
    cdc_lag_publish(s, &lag);
}


static void *
cdc_lag_thread(void *arg)
{
    cdc_sink_t       *s;
    cdc_lag_state_t  *ls;
    struct timespec   ts;

    s = arg;
    ls = s->lag;

    while (!__atomic_load_n(&ls->quit, __ATOMIC_RELAXED)) {
        cdc_lag_write_now(s);

        ts.tv_sec = 0;
        ts.tv_nsec = CDC_LAG_PERIOD_MS * 1000000L;
        nanosleep(&ts, NULL);
    }

    return NULL;
}


static char *
cdc_lag_status(void *data)
{
    int              n;
    char            *out, *parts, *np;
    size_t           i, cap, len;
    cdc_sink_t      *s;
    cdc_lag_state_t *ls;
    strangler_lag_t  lag;

    s = data;
    ls = s->lag;

    cdc_lag_compute(s, &lag);

    cap = 256;
    len = 0;
    parts = malloc(cap);
    if (parts == NULL) {
        return NULL;
    }
    parts[0] = '\0';

    pthread_mutex_lock(&s->lock);

    for (i = 0; i < s->nparts; i++) {
        if (!s->parts[i].assigned) {
            continue;
        }

        if (cap - len < 400) {
            cap *= 2;
            np = realloc(parts, cap);
            if (np == NULL) {
                pthread_mutex_unlock(&s->lock);
                free(parts);
                return NULL;
            }
            parts = np;
        }

        n = snprintf(parts + len, cap - len,
                     "%s{\"topic\":\"%s\",\"partition\":%d,"
                     "\"next_offset\":%lld,\"high_watermark\":%lld}",
                     len ? "," : "", s->parts[i].topic,
                     (int) s->parts[i].partition,
                     (long long) s->parts[i].next,
                     (long long) s->parts[i].hwm);
        if (n > 0) {
            len += (size_t) n;
        }
    }

    n = asprintf(&out,
                 "{\"service\":\"%s\",\"mode\":\"%s\",\"lag_ms\":%lld,"
                 "\"watermark_ms\":%lld,\"pending\":%lld,"
                 "\"commit_lag_ms\":%lld,\"applied_events\":%llu,"
                 "\"dead_letters\":%llu,\"batches\":%llu,"
                 "\"last_applied\":{\"file\":\"%s\",\"pos\":%lld,"
                 "\"gtid\":\"%s\",\"at_ms\":%lld},\"partitions\":[%s]}\n",
                 s->svc->name, s->replay ? "replay" : "sink",
                 (long long) lag.lag_ms, (long long) lag.watermark_ms,
                 (long long) lag.pending, (long long) s->commit_lag_ms,
                 (unsigned long long) s->applied,
                 (unsigned long long) s->dead,
                 (unsigned long long) s->batches, s->last_file,
                 (long long) s->last_pos, s->last_gtid,
                 (long long) s->last_applied_ms, parts);

    pthread_mutex_unlock(&s->lock);
    free(parts);
    (void) ls;

    return n < 0 ? NULL : out;
}


static int
cdc_lag_health(void *data, char *msg, size_t len)
{
    cdc_sink_t  *s;

    s = data;

    if (s->pg == NULL) {
        snprintf(msg, len, "postgres not connected");
        return 1;
    }

    return 0;
}


int
cdc_lag_start(cdc_sink_t *s, char *err, size_t errlen)
{
    const char       *name;
    cdc_metric_t     *f;
    cdc_http_conf_t   hc;
    cdc_lag_state_t  *ls;

    ls = calloc(1, sizeof(cdc_lag_state_t));
    if (ls == NULL) {
        return cdc_error(err, errlen, "out of memory");
    }

    s->lag = ls;
    name = s->svc->name;

    f = cdc_metrics_gauge(s->metrics, "sink_lag_seconds",
                          "Now minus the source commit time of the newest "
                          "change or heartbeat applied.", "service");
    ls->m_lag = f ? cdc_metric_series(f, name, NULL) : NULL;

    f = cdc_metrics_gauge(s->metrics, "sink_pending_events",
                          "Events in Kafka not applied yet.", "service");
    ls->m_pending = f ? cdc_metric_series(f, name, NULL) : NULL;

    f = cdc_metrics_gauge(s->metrics, "sink_watermark_seconds",
                          "Source time up to which changes are applied.",
                          "service");
    ls->m_watermark = f ? cdc_metric_series(f, name, NULL) : NULL;

    f = cdc_metrics_gauge(s->metrics, "sink_commit_lag_seconds",
                          "Source commit to target commit, last batch.",
                          "service");
    ls->m_commit_lag = f ? cdc_metric_series(f, name, NULL) : NULL;

    if (s->svc->metrics_listen && s->svc->metrics_listen[0]) {
        memset(&hc, 0, sizeof(hc));
        hc.listen = s->svc->metrics_listen;
        hc.metrics = s->metrics;
        hc.status = cdc_lag_status;
        hc.health = cdc_lag_health;
        hc.data = s;

        ls->http = cdc_http_start(&hc, err, errlen);
        if (ls->http == NULL) {
            return -1;
        }

        cdc_log_info("service %s: /metrics and /status on %s", name,
                     s->svc->metrics_listen);
    }

    if (pthread_create(&ls->thread, NULL, cdc_lag_thread, s) != 0) {
        return cdc_error(err, errlen, "pthread_create failed");
    }

    ls->running = 1;

    return 0;
}


void
cdc_lag_stop(cdc_sink_t *s)
{
    cdc_lag_state_t  *ls;

    ls = s->lag;

    if (ls == NULL) {
        return;
    }

    if (ls->http) {
        cdc_http_stop(ls->http);
    }

    if (ls->running) {
        __atomic_store_n(&ls->quit, 1, __ATOMIC_RELAXED);
        pthread_join(ls->thread, NULL);
    }

    free(ls);
    s->lag = NULL;
}
