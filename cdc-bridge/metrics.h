/*
 * cdc-bridge metrics: a small registry of counters, gauges and histograms
 * with labels, rendered in the Prometheus text format (0.0.4) so that
 * `promtool check metrics` accepts it, and a loopback HTTP server
 * (libmicrohttpd, its own thread) that serves
 *
 *   GET /metrics   the registry, text/plain; version=0.0.4
 *   GET /status    a JSON document the owning command supplies
 *   GET /healthz   "ok" (200) or the health callback's message (503)
 *
 * Names: every family is rendered as "cdc_bridge_" + name (the prefix is
 * added unless name already starts with it); counters must end in
 * "_total" and no name may end in _count, _sum or _bucket (promtool's
 * rules), otherwise creation fails.
 *
 * Usage, hot path without lookups:
 *
 *   cdc_metric_t  *f;
 *   cdc_series_t  *s;
 *
 *   f = cdc_metrics_counter(m, "events_total", "Row events produced.",
 *                           "table,op");
 *   s = cdc_metric_series(f, "shop.orders", "c", NULL);
 *   ...
 *   cdc_series_add(s, 1);
 *
 * Thread safety: every function may be called from any thread.  Families
 * and series live until cdc_metrics_destroy(); handles never dangle.
 * Asking again for a family with the same name, type and labels returns
 * the same family; the same label values return the same series.
 */

#ifndef CDC_METRICS_H
#define CDC_METRICS_H

#include <stddef.h>


#define CDC_METRICS_PREFIX      "cdc_bridge_"
#define CDC_METRICS_MAX_LABELS  4
#define CDC_METRICS_MAX_BUCKETS 24


typedef struct cdc_metrics_s  cdc_metrics_t;
typedef struct cdc_metric_s   cdc_metric_t;      /* a family */
typedef struct cdc_series_s   cdc_series_t;      /* one label set */

typedef enum {
    CDC_METRIC_COUNTER = 0,
    CDC_METRIC_GAUGE,
    CDC_METRIC_HISTOGRAM
} cdc_metric_type_t;


cdc_metrics_t *cdc_metrics_create(void);
void cdc_metrics_destroy(cdc_metrics_t *m);

/*
 * labels: comma-separated label names ("service,table"), NULL or "" for
 * none; at most CDC_METRICS_MAX_LABELS.  Returns NULL (and logs why) on a
 * bad name, a bad label name, or a clash with an existing family of
 * another type or labels.
 */
cdc_metric_t *cdc_metrics_counter(cdc_metrics_t *m, const char *name,
    const char *help, const char *labels);
cdc_metric_t *cdc_metrics_gauge(cdc_metrics_t *m, const char *name,
    const char *help, const char *labels);

/*
 * buckets: ascending upper bounds, without +Inf (added); NULL uses
 * CDC_METRICS_LATENCY_BUCKETS (seconds, 1 ms .. 60 s).
 */
cdc_metric_t *cdc_metrics_histogram(cdc_metrics_t *m, const char *name,
    const char *help, const char *labels, const double *buckets,
    size_t nbuckets);

/*
 * The series for the label values that follow, exactly as many as the
 * family has label names, then NULL (unlabelled: just NULL).  Values may
 * hold any UTF-8; they are escaped on output.  NULL on a wrong count or
 * out of memory; cdc_series_*() accept NULL and do nothing, so a metrics
 * failure never stops the pipeline.
 */
cdc_series_t *cdc_metric_series(cdc_metric_t *f, ...);

void cdc_series_add(cdc_series_t *s, double v);     /* counter, gauge */
void cdc_series_set(cdc_series_t *s, double v);     /* gauge */
void cdc_series_observe(cdc_series_t *s, double v); /* histogram */
double cdc_series_value(cdc_series_t *s);           /* counter, gauge */

/*
 * Called (under no lock of the registry) at the start of every render,
 * e.g. to refresh gauges computed from "now".  One hook per registry.
 */
void cdc_metrics_on_render(cdc_metrics_t *m, void (*fn)(void *data),
    void *data);

/*
 * Renders every family in creation order into a malloc()ed,
 * NUL-terminated buffer; the caller free()s *out.  Returns 0, or -1 when
 * out of memory.
 */
int cdc_metrics_render(cdc_metrics_t *m, char **out, size_t *len);


/* ---------------------------------------------------------------- HTTP */

typedef struct cdc_http_s  cdc_http_t;

typedef struct {
    /* "127.0.0.1:9187", "[::1]:9187", "localhost:9187"; port 0 picks a
       free port (see cdc_http_port) */
    const char     *listen;
    cdc_metrics_t  *metrics;            /* NULL: /metrics is 404 */

    /* /status: a malloc()ed NUL-terminated JSON document, freed by the
       server; NULL answers 500.  NULL callback: /status is 404. */
    char          *(*status)(void *data);

    /* /healthz: 0 = healthy; otherwise msg (len bytes) says why, and the
       answer is 503.  NULL callback: always healthy. */
    int            (*health)(void *data, char *msg, size_t len);

    void           *data;               /* passed to the callbacks */
} cdc_http_conf_t;


/*
 * Starts the server on its own thread; the callbacks run on that thread.
 * The listen host must be a loopback address (127.0.0.0/8, ::1 or
 * "localhost"): the endpoints have no authentication.  NULL with a
 * message in err on failure (bad address, port in use).
 */
cdc_http_t *cdc_http_start(const cdc_http_conf_t *conf, char *err,
    size_t errlen);
int cdc_http_port(const cdc_http_t *h);
void cdc_http_stop(cdc_http_t *h);


extern const double  CDC_METRICS_LATENCY_BUCKETS[];
extern const size_t  CDC_METRICS_LATENCY_NBUCKETS;


#endif /* CDC_METRICS_H */
