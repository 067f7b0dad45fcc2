/*
 * cdc-bridge sink: lag accounting.  A thread of its own, every 200 ms,
 * on a PostgreSQL connection of its own:
 *
 *   watermark_ms  the minimum over the service's partitions (every
 *                 partition of its topics the group ever assigned, to
 *                 this instance or another) of the applied source time
 *                 strangler_cdc.offsets holds for it (offsets.c: newest
 *                 row, heartbeat row or marker there); 0 while any of
 *                 them has none.  Every instance of the service computes
 *                 the same figure from the same rows.
 *   lag_ms        now - watermark_ms, -1 when it is 0
 *   pending       sum over this instance's assigned partitions of Kafka's
 *                 high watermark (librdkafka's cached value) minus the
 *                 next offset to apply
 *
 * goes to the lag file (include/strangler/lagfile.h: "<file>.tmp" then
 * rename), to gauges in /metrics and to /status.  While PostgreSQL cannot
 * be read the last watermark read stays (nothing can be applied past it
 * meanwhile) and lag_ms grows.  The main loop only updates its numbers
 * under s->lock.
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
    PGconn          *pg;               /* the thread's own */
    int64_t          pg_tried_ms;
    int              pg_warned;
    int64_t          watermark_ms;     /* from the table, under s->lock */
    char            *parts_json;       /* /status "partitions", under
                                          s->lock */
} cdc_lag_state_t;


/* wall clock, for lag against source commit times (clock.h) */
int64_t
cdc_lag_now_ms(void)
{
    return cdc_clock_wall_ms();
}


/* one partition's row as /status shows it */
static int
cdc_lag_part_json(cdc_sink_t *s, PGresult *r, int k, cdc_sql_t *out)
{
    int              assigned;
    char             buf[1024];
    int64_t          hwm;
    size_t           i;
    const char      *topic, *ts, *gtid, *file, *pos;
    cdc_sink_part_t *p;

    topic = PQgetvalue(r, k, 0);
    ts = PQgetisnull(r, k, 3) ? "null" : PQgetvalue(r, k, 3);
    gtid = PQgetvalue(r, k, 4);
    file = PQgetvalue(r, k, 5);
    pos = PQgetisnull(r, k, 6) ? "null" : PQgetvalue(r, k, 6);

    if (strpbrk(gtid, "\\\"") || strpbrk(file, "\\\"")
        || strpbrk(topic, "\\\""))
    {
        gtid = "";
        file = "";
    }

    assigned = 0;
    hwm = -1;

    for (i = 0; i < s->nparts; i++) {
        p = &s->parts[i];
        if (p->assigned && p->partition == atoi(PQgetvalue(r, k, 1))
            && strcmp(p->topic, topic) == 0)
        {
            assigned = 1;
            hwm = p->hwm;
        }
    }

    snprintf(buf, sizeof(buf),
             "%s{\"topic\":\"%s\",\"partition\":%s,\"next_offset\":%s,"
             "\"source_ts_ms\":%s,\"gtid\":\"%s\",\"file\":\"%s\","
             "\"pos\":%s,\"assigned\":%s,\"high_watermark\":%lld}",
             k ? "," : "", topic, PQgetvalue(r, k, 1), PQgetvalue(r, k, 2),
             ts, gtid, file, pos, assigned ? "true" : "false",
             (long long) hwm);
    cdc_sql_add(out, buf);

    return out->oom ? -1 : 0;
}


/*
 * The lag thread only: the watermark from strangler_cdc.offsets, into
 * ls->watermark_ms and ls->parts_json.  Returns -1 when PostgreSQL could
 * not be read (the last values stay).
 */
static int
cdc_lag_read_table(cdc_sink_t *s)
{
    int               k, n;
    char              err[CDC_SINK_ERRLEN], app[128];
    int64_t           wm, ts, now;
    PGresult         *r;
    cdc_sql_t         js;
    cdc_lag_state_t  *ls;

    ls = s->lag;
    now = cdc_lag_now_ms();

    if (ls->pg == NULL) {
        if (now - ls->pg_tried_ms < 1000) {
            return -1;
        }

        ls->pg_tried_ms = now;
        snprintf(app, sizeof(app), "cdc-bridge sink %s lag", s->svc->name);
        ls->pg = cdc_pg_connect(s->svc, app, err, sizeof(err));

        if (ls->pg == NULL) {
            if (!ls->pg_warned) {
                cdc_log_warn("service %s: lag: %s", s->svc->name, err);
                ls->pg_warned = 1;
            }
            return -1;
        }

        ls->pg_warned = 0;
    }

    r = cdc_offsets_partitions(ls->pg, s->svc->name, s->topics, s->ntopics,
                               err, sizeof(err));
    if (r == NULL) {
        if (!ls->pg_warned) {
            cdc_log_warn("service %s: lag: %s", s->svc->name, err);
            ls->pg_warned = 1;
        }
        PQfinish(ls->pg);
        ls->pg = NULL;
        return -1;
    }

    n = PQntuples(r);
    wm = n > 0 ? INT64_MAX : 0;
    memset(&js, 0, sizeof(js));

    pthread_mutex_lock(&s->lock);

    for (k = 0; k < n; k++) {
        ts = PQgetisnull(r, k, 3) ? 0 : strtoll(PQgetvalue(r, k, 3), NULL,
                                                 10);
        if (ts < wm) {
            wm = ts;
        }
        (void) cdc_lag_part_json(s, r, k, &js);
    }

    ls->watermark_ms = wm > 0 ? wm : 0;

    if (!js.oom) {
        free(ls->parts_json);
        ls->parts_json = js.p;
    } else {
        free(js.p);
    }

    pthread_mutex_unlock(&s->lock);
    PQclear(r);

    return 0;
}


static void
cdc_lag_compute(cdc_sink_t *s, strangler_lag_t *lag)
{
    int              any;
    size_t           i;
    int64_t          lo, hi, pending, wm;
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

    wm = ((cdc_lag_state_t *) s->lag)->watermark_ms;

    lag->pending = any ? pending : -1;
    lag->watermark_ms = wm;
    lag->lag_ms = wm > 0 ? lag->updated_ms - wm : -1;
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
    int64_t           start, left;
    cdc_sink_t       *s;
    cdc_lag_state_t  *ls;
    struct timespec   ts;

    s = arg;
    ls = s->lag;

    while (!__atomic_load_n(&ls->quit, __ATOMIC_RELAXED)) {
        start = cdc_clock_mono_ms();
        (void) cdc_lag_read_table(s);
        cdc_lag_write_now(s);

        /* every 200 ms, however long the query took */
        left = CDC_LAG_PERIOD_MS - (cdc_clock_mono_ms() - start);
        ts.tv_sec = 0;
        ts.tv_nsec = (left > 10 ? left : 10) * 1000000L;
        nanosleep(&ts, NULL);
    }

    return NULL;
}


static char *
cdc_lag_status(void *data)
{
    int              n;
    char            *out;
    cdc_sink_t      *s;
    cdc_lag_state_t *ls;
    strangler_lag_t  lag;

    s = data;
    ls = s->lag;

    cdc_lag_compute(s, &lag);

    pthread_mutex_lock(&s->lock);

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
                 (long long) s->last_applied_ms,
                 ls->parts_json ? ls->parts_json : "");

    pthread_mutex_unlock(&s->lock);

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
                          "Now minus the service's watermark (the oldest "
                          "partition's applied source time).", "service");
    ls->m_lag = f ? cdc_metric_series(f, name, NULL) : NULL;

    f = cdc_metrics_gauge(s->metrics, "sink_pending_events",
                          "Events in Kafka not applied yet.", "service");
    ls->m_pending = f ? cdc_metric_series(f, name, NULL) : NULL;

    f = cdc_metrics_gauge(s->metrics, "sink_watermark_seconds",
                          "Source time up to which changes are applied "
                          "on every partition.",
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

    if (ls->pg) {
        PQfinish(ls->pg);
    }

    free(ls->parts_json);
    free(ls);
    s->lag = NULL;
}
