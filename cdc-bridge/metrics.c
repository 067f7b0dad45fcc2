/*
 * cdc-bridge metrics: the registry, its Prometheus text rendering, and the
 * loopback HTTP server (libmicrohttpd) for /metrics, /status, /healthz.
 * See metrics.h.
 */

#include <arpa/inet.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "log.h"
#include "metrics.h"


struct cdc_series_s {
    cdc_series_t   *next;
    cdc_metric_t   *family;
    char          **values;             /* raw label values */
    char           *labels;             /* rendered: a="x",b="y" */
    double          value;              /* counter, gauge */
    double          sum;                /* histogram */
    uint64_t        count;
    uint64_t       *buckets;            /* per bucket, not cumulative */
};


struct cdc_metric_s {
    cdc_metric_t       *next;
    cdc_metrics_t      *reg;
    cdc_metric_type_t   type;
    char               *name;           /* with the prefix */
    char               *help;
    char               *labels[CDC_METRICS_MAX_LABELS];
    size_t              nlabels;
    double             *bounds;
    size_t              nbounds;
    cdc_series_t       *series;
    cdc_series_t      **last;
};


struct cdc_metrics_s {
    pthread_mutex_t     lock;
    cdc_metric_t       *families;
    cdc_metric_t      **last;
    void              (*on_render)(void *data);
    void               *render_data;
};


struct cdc_http_s {
    struct MHD_Daemon  *daemon;
    cdc_http_conf_t     conf;
    char               *listen;
    int                 port;
};


const double  CDC_METRICS_LATENCY_BUCKETS[] = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
    10, 30, 60
};

const size_t  CDC_METRICS_LATENCY_NBUCKETS =
    sizeof(CDC_METRICS_LATENCY_BUCKETS) / sizeof(double);


/* ------------------------------------------------------------ registry */

cdc_metrics_t *
cdc_metrics_create(void)
{
    cdc_metrics_t  *m;

    m = calloc(1, sizeof(*m));

    if (m == NULL) {
        return NULL;
    }

    if (pthread_mutex_init(&m->lock, NULL) != 0) {
        free(m);
        return NULL;
    }

    m->last = &m->families;

    return m;
}


static void
cdc_series_free(cdc_series_t *s, size_t nlabels)
{
    size_t  i;

    for (i = 0; s->values && i < nlabels; i++) {
        free(s->values[i]);
    }

    free(s->values);
    free(s->labels);
    free(s->buckets);
    free(s);
}


static void
cdc_family_free(cdc_metric_t *f)
{
    size_t         i;
    cdc_series_t  *s, *next;

    for (s = f->series; s; s = next) {
        next = s->next;
        cdc_series_free(s, f->nlabels);
    }

    for (i = 0; i < f->nlabels; i++) {
        free(f->labels[i]);
    }

    free(f->bounds);
    free(f->name);
    free(f->help);
    free(f);
}


void
cdc_metrics_destroy(cdc_metrics_t *m)
{
    cdc_metric_t  *f, *next;

    if (m == NULL) {
        return;
    }

    for (f = m->families; f; f = next) {
        next = f->next;
        cdc_family_free(f);
    }

    (void) pthread_mutex_destroy(&m->lock);
    free(m);
}


static int
cdc_metric_name_ok(const char *s, int label)
{
    const char  *p;

    if (*s == '\0' || (*s >= '0' && *s <= '9')) {
        return 0;
    }

    for (p = s; *p; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
              || (*p >= '0' && *p <= '9') || *p == '_'
              || (!label && *p == ':')))
        {
            return 0;
        }
    }

    return !(label && s[0] == '_' && s[1] == '_');
}


static int
cdc_ends_with(const char *s, const char *suffix)
{
    size_t  n, m;

    n = strlen(s);
    m = strlen(suffix);

    return n >= m && strcmp(s + n - m, suffix) == 0;
}


static cdc_metric_t *
cdc_metrics_family(cdc_metrics_t *m, cdc_metric_type_t type,
    const char *name, const char *help, const char *labels,
    const double *bounds, size_t nbounds)
{
    int            bad;
    char          *copy, *tok, *save, *p;
    size_t         i, n;
    cdc_metric_t  *f, *g;

    if (m == NULL || name == NULL) {
        return NULL;
    }

    f = calloc(1, sizeof(*f));

    if (f == NULL) {
        cdc_log_error("metrics: out of memory");
        return NULL;
    }

    f->reg = m;
    f->type = type;
    f->last = &f->series;

    n = strlen(CDC_METRICS_PREFIX);

    if (strncmp(name, CDC_METRICS_PREFIX, n) == 0) {
        f->name = strdup(name);

    } else if (asprintf(&f->name, "%s%s", CDC_METRICS_PREFIX, name) < 0) {
        f->name = NULL;
    }

    f->help = strdup(help ? help : "");

    if (f->name == NULL || f->help == NULL) {
        cdc_log_error("metrics: out of memory");
        goto failed;
    }

    bad = !cdc_metric_name_ok(f->name, 0)
          || (type == CDC_METRIC_COUNTER) != cdc_ends_with(f->name, "_total")
          || cdc_ends_with(f->name, "_count")
          || cdc_ends_with(f->name, "_sum")
          || cdc_ends_with(f->name, "_bucket");

    if (bad) {
        cdc_log_error("metrics: bad name \"%s\" (counters, and only they, "
                      "end in _total; no _count, _sum, _bucket)", f->name);
        goto failed;
    }

    if (f->help[0] == '\0') {
        cdc_log_error("metrics: \"%s\" needs a help text", f->name);
        goto failed;
    }

    if (labels && labels[0]) {
        copy = strdup(labels);

        if (copy == NULL) {
            goto failed;
        }

        for (p = copy; (tok = strtok_r(p, ", ", &save)) != NULL; p = NULL) {
            if (f->nlabels == CDC_METRICS_MAX_LABELS
                || !cdc_metric_name_ok(tok, 1)
                || (type == CDC_METRIC_HISTOGRAM && strcmp(tok, "le") == 0))
            {
                cdc_log_error("metrics: \"%s\": bad label \"%s\" (at most "
                              "%d, [a-zA-Z_][a-zA-Z0-9_]*)", f->name, tok,
                              CDC_METRICS_MAX_LABELS);
                free(copy);
                goto failed;
            }

            f->labels[f->nlabels] = strdup(tok);

            if (f->labels[f->nlabels] == NULL) {
                free(copy);
                goto failed;
            }

            f->nlabels++;
        }

        free(copy);
    }

    if (type == CDC_METRIC_HISTOGRAM) {
        if (bounds == NULL) {
            bounds = CDC_METRICS_LATENCY_BUCKETS;
            nbounds = CDC_METRICS_LATENCY_NBUCKETS;
        }

        if (nbounds == 0 || nbounds > CDC_METRICS_MAX_BUCKETS) {
            cdc_log_error("metrics: \"%s\": 1..%d buckets", f->name,
                          CDC_METRICS_MAX_BUCKETS);
            goto failed;
        }

        for (i = 1; i < nbounds; i++) {
            if (!(bounds[i] > bounds[i - 1])) {
                cdc_log_error("metrics: \"%s\": buckets must ascend",
                              f->name);
                goto failed;
            }
        }

        f->bounds = malloc(nbounds * sizeof(double));

        if (f->bounds == NULL) {
            goto failed;
        }

        memcpy(f->bounds, bounds, nbounds * sizeof(double));
        f->nbounds = nbounds;
    }

    pthread_mutex_lock(&m->lock);

    for (g = m->families; g; g = g->next) {
        if (strcmp(g->name, f->name) != 0) {
            continue;
        }

        bad = g->type != f->type || g->nlabels != f->nlabels;

        for (i = 0; !bad && i < f->nlabels; i++) {
            bad = strcmp(g->labels[i], f->labels[i]) != 0;
        }

        pthread_mutex_unlock(&m->lock);

        if (bad) {
            cdc_log_error("metrics: \"%s\" exists with another type or "
                          "labels", f->name);
            cdc_family_free(f);
            return NULL;
        }

        cdc_family_free(f);

        return g;
    }

    *m->last = f;
    m->last = &f->next;

    pthread_mutex_unlock(&m->lock);

    return f;

failed:

    cdc_family_free(f);

    return NULL;
}


cdc_metric_t *
cdc_metrics_counter(cdc_metrics_t *m, const char *name, const char *help,
    const char *labels)
{
    return cdc_metrics_family(m, CDC_METRIC_COUNTER, name, help, labels,
                              NULL, 0);
}


cdc_metric_t *
cdc_metrics_gauge(cdc_metrics_t *m, const char *name, const char *help,
    const char *labels)
{
    return cdc_metrics_family(m, CDC_METRIC_GAUGE, name, help, labels,
                              NULL, 0);
}


cdc_metric_t *
cdc_metrics_histogram(cdc_metrics_t *m, const char *name, const char *help,
    const char *labels, const double *buckets, size_t nbuckets)
{
    return cdc_metrics_family(m, CDC_METRIC_HISTOGRAM, name, help, labels,
                              buckets, nbuckets);
}


/* appends s to the stream with \\, \" and \n escaped (label values) */
static void
cdc_metrics_escape(FILE *out, const char *s, int quote)
{
    for ( /* void */ ; *s; s++) {
        switch (*s) {
        case '\\':
            fputs("\\\\", out);
            break;
        case '\n':
            fputs("\\n", out);
            break;
        case '"':
            fputs(quote ? "\\\"" : "\"", out);
            break;
        default:
            fputc(*s, out);
            break;
        }
    }
}


cdc_series_t *
cdc_metric_series(cdc_metric_t *f, ...)
{
    size_t          i, n, len;
    va_list         ap;
    FILE           *mem;
    const char     *v, *vals[CDC_METRICS_MAX_LABELS];
    cdc_series_t   *s, *other;

    if (f == NULL) {
        return NULL;
    }

    va_start(ap, f);

    for (n = 0; (v = va_arg(ap, const char *)) != NULL; n++) {
        if (n == CDC_METRICS_MAX_LABELS) {
            break;
        }
        vals[n] = v;
    }

    va_end(ap);

    if (n != f->nlabels) {
        cdc_log_error("metrics: \"%s\" takes %zu label values, not %zu%s",
                      f->name, f->nlabels, n,
                      n == CDC_METRICS_MAX_LABELS ? " or more" : "");
        return NULL;
    }

    pthread_mutex_lock(&f->reg->lock);

    for (s = f->series; s; s = s->next) {
        for (i = 0; i < n; i++) {
            if (strcmp(s->values[i], vals[i]) != 0) {
                break;
            }
        }

        if (i == n) {
            pthread_mutex_unlock(&f->reg->lock);
            return s;
        }
    }

    pthread_mutex_unlock(&f->reg->lock);

    s = calloc(1, sizeof(*s));

    if (s == NULL) {
        return NULL;
    }

    s->family = f;
    s->values = calloc(n + 1, sizeof(char *));
    mem = NULL;
    s->labels = NULL;
    len = 0;

    if (s->values == NULL) {
        goto failed;
    }

    for (i = 0; i < n; i++) {
        s->values[i] = strdup(vals[i]);

        if (s->values[i] == NULL) {
            goto failed;
        }
    }

    mem = open_memstream(&s->labels, &len);

    if (mem == NULL) {
        goto failed;
    }

    for (i = 0; i < n; i++) {
        fprintf(mem, "%s%s=\"", i ? "," : "", f->labels[i]);
        cdc_metrics_escape(mem, vals[i], 1);
        fputc('"', mem);
    }

    if (fclose(mem) != 0) {
        mem = NULL;
        goto failed;
    }

    mem = NULL;

    if (f->type == CDC_METRIC_HISTOGRAM) {
        s->buckets = calloc(f->nbounds, sizeof(uint64_t));

        if (s->buckets == NULL) {
            goto failed;
        }
    }

    pthread_mutex_lock(&f->reg->lock);

    /* another thread may have added it meanwhile */
    for (other = f->series; other; other = other->next) {
        for (i = 0; i < n; i++) {
            if (strcmp(other->values[i], vals[i]) != 0) {
                break;
            }
        }

        if (i == n) {
            break;
        }
    }

    if (other == NULL) {
        *f->last = s;
        f->last = &s->next;
    }

    pthread_mutex_unlock(&f->reg->lock);

    if (other) {
        cdc_series_free(s, n);
        return other;
    }

    return s;

failed:

    if (mem) {
        (void) fclose(mem);
    }

    cdc_log_error("metrics: out of memory");
    cdc_series_free(s, n);

    return NULL;
}


void
cdc_series_add(cdc_series_t *s, double v)
{
    if (s == NULL || s->family->type == CDC_METRIC_HISTOGRAM) {
        return;
    }

    /* a counter never goes down */
    if (s->family->type == CDC_METRIC_COUNTER && !(v >= 0)) {
        return;
    }

    pthread_mutex_lock(&s->family->reg->lock);
    s->value += v;
    pthread_mutex_unlock(&s->family->reg->lock);
}


void
cdc_series_set(cdc_series_t *s, double v)
{
    if (s == NULL || s->family->type != CDC_METRIC_GAUGE) {
        return;
    }

    pthread_mutex_lock(&s->family->reg->lock);
    s->value = v;
    pthread_mutex_unlock(&s->family->reg->lock);
}


void
cdc_series_observe(cdc_series_t *s, double v)
{
    size_t         i;
    cdc_metric_t  *f;

    if (s == NULL || s->family->type != CDC_METRIC_HISTOGRAM || isnan(v)) {
        return;
    }

    f = s->family;

    for (i = 0; i < f->nbounds && v > f->bounds[i]; i++) {
        /* void */
    }

    pthread_mutex_lock(&f->reg->lock);

    if (i < f->nbounds) {
        s->buckets[i]++;
    }

    s->sum += v;
    s->count++;

    pthread_mutex_unlock(&f->reg->lock);
}


double
cdc_series_value(cdc_series_t *s)
{
    double  v;

    if (s == NULL) {
        return 0;
    }

    pthread_mutex_lock(&s->family->reg->lock);
    v = s->family->type == CDC_METRIC_HISTOGRAM ? (double) s->count
                                                : s->value;
    pthread_mutex_unlock(&s->family->reg->lock);

    return v;
}


void
cdc_metrics_on_render(cdc_metrics_t *m, void (*fn)(void *data), void *data)
{
    pthread_mutex_lock(&m->lock);
    m->on_render = fn;
    m->render_data = data;
    pthread_mutex_unlock(&m->lock);
}


static void
cdc_metrics_number(FILE *out, double v)
{
    if (isnan(v)) {
        fputs("NaN", out);

    } else if (isinf(v)) {
        fputs(v > 0 ? "+Inf" : "-Inf", out);

    } else if (v == floor(v) && fabs(v) < 1e15) {
        fprintf(out, "%.0f", v);

    } else {
        fprintf(out, "%.15g", v);
    }
}


static void
cdc_metrics_sample(FILE *out, const char *name, const char *suffix,
    const char *labels, const char *extra, double v)
{
    int  any;

    any = (labels && labels[0]) || extra;

    fprintf(out, "%s%s", name, suffix);

    if (any) {
        fprintf(out, "{%s%s%s}", labels ? labels : "",
                labels && labels[0] && extra ? "," : "",
                extra ? extra : "");
    }

    fputc(' ', out);
    cdc_metrics_number(out, v);
    fputc('\n', out);
}


int
cdc_metrics_render(cdc_metrics_t *m, char **out, size_t *len)
{
    char              le[64];
    FILE             *mem;
    size_t            i;
    uint64_t          cum;
    cdc_metric_t     *f;
    cdc_series_t     *s;
    void            (*hook)(void *data);
    void             *data;

    static const char *const  types[] = { "counter", "gauge", "histogram" };

    *out = NULL;
    *len = 0;

    pthread_mutex_lock(&m->lock);
    hook = m->on_render;
    data = m->render_data;
    pthread_mutex_unlock(&m->lock);

    if (hook) {
        hook(data);
    }

    mem = open_memstream(out, len);

    if (mem == NULL) {
        return -1;
    }

    pthread_mutex_lock(&m->lock);

    for (f = m->families; f; f = f->next) {
        if (f->series == NULL) {
            continue;
        }

        fprintf(mem, "# HELP %s ", f->name);
        cdc_metrics_escape(mem, f->help, 0);
        fprintf(mem, "\n# TYPE %s %s\n", f->name, types[f->type]);

        for (s = f->series; s; s = s->next) {
            if (f->type != CDC_METRIC_HISTOGRAM) {
                cdc_metrics_sample(mem, f->name, "", s->labels, NULL,
                                   s->value);
                continue;
            }

            cum = 0;

            for (i = 0; i < f->nbounds; i++) {
                cum += s->buckets[i];
                (void) snprintf(le, sizeof(le), "le=\"%.15g\"",
                                f->bounds[i]);
                cdc_metrics_sample(mem, f->name, "_bucket", s->labels, le,
                                   (double) cum);
            }

            cdc_metrics_sample(mem, f->name, "_bucket", s->labels,
                               "le=\"+Inf\"", (double) s->count);
            cdc_metrics_sample(mem, f->name, "_sum", s->labels, NULL,
                               s->sum);
            cdc_metrics_sample(mem, f->name, "_count", s->labels, NULL,
                               (double) s->count);
        }
    }

    pthread_mutex_unlock(&m->lock);

    if (fclose(mem) != 0) {
        free(*out);
        *out = NULL;
        *len = 0;
        return -1;
    }

    return 0;
}


/* ---------------------------------------------------------------- HTTP */

static enum MHD_Result
cdc_http_send(struct MHD_Connection *conn, unsigned status, char *body,
    size_t len, const char *type)
{
    enum MHD_Result       rc;
    struct MHD_Response  *resp;

    /* body is malloc()ed: the response frees it */
    resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);

    if (resp == NULL) {
        free(body);
        return MHD_NO;
    }

    if (MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type)
        != MHD_YES
        || MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
                                   "no-store") != MHD_YES)
    {
        MHD_destroy_response(resp);
        return MHD_NO;
    }

    rc = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);

    return rc;
}


static enum MHD_Result
cdc_http_text(struct MHD_Connection *conn, unsigned status,
    const char *text)
{
    char  *body;

    body = strdup(text);

    if (body == NULL) {
        return MHD_NO;
    }

    return cdc_http_send(conn, status, body, strlen(body),
                         "text/plain; charset=utf-8");
}


static enum MHD_Result
cdc_http_handler(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
    int          rc;
    char        *body, msg[512], *text;
    size_t       len;
    cdc_http_t  *h;

    h = cls;

    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        return cdc_http_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
                             "method not allowed\n");
    }

    if (strcmp(url, "/metrics") == 0 && h->conf.metrics) {
        if (cdc_metrics_render(h->conf.metrics, &body, &len) != 0) {
            return cdc_http_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
                                 "out of memory\n");
        }

        return cdc_http_send(conn, MHD_HTTP_OK, body, len,
                             "text/plain; version=0.0.4; charset=utf-8");
    }

    if (strcmp(url, "/status") == 0 && h->conf.status) {
        body = h->conf.status(h->conf.data);

        if (body == NULL) {
            return cdc_http_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
                                 "status unavailable\n");
        }

        return cdc_http_send(conn, MHD_HTTP_OK, body, strlen(body),
                             "application/json");
    }

    if (strcmp(url, "/healthz") == 0) {
        msg[0] = '\0';
        rc = h->conf.health ? h->conf.health(h->conf.data, msg, sizeof(msg))
                            : 0;

        if (rc == 0) {
            return cdc_http_text(conn, MHD_HTTP_OK, "ok\n");
        }

        if (asprintf(&text, "%s\n", msg[0] ? msg : "unhealthy") < 0) {
            return MHD_NO;
        }

        return cdc_http_send(conn, MHD_HTTP_SERVICE_UNAVAILABLE, text,
                             strlen(text), "text/plain; charset=utf-8");
    }

    return cdc_http_text(conn, MHD_HTTP_NOT_FOUND,
                         "not found: try /metrics, /status, /healthz\n");
}


static void
cdc_http_log(void *cls, const char *fmt, va_list ap)
{
    char  buf[512];

    (void) vsnprintf(buf, sizeof(buf), fmt, ap);
    buf[strcspn(buf, "\n")] = '\0';

    cdc_log_warn("http: %s", buf);
}


cdc_http_t *
cdc_http_start(const cdc_http_conf_t *conf, char *err, size_t errlen)
{
    int                        rc, port, v6;
    char                       host[256], portstr[16];
    size_t                     n;
    const char                *colon, *p;
    cdc_http_t                *h;
    struct addrinfo            hints, *ai;
    const union MHD_DaemonInfo  *info;
    struct sockaddr_storage    ss;

    p = conf->listen;

    if (p == NULL || *p == '\0') {
        (void) cdc_error(err, errlen, "no listen address");
        return NULL;
    }

    if (p[0] == '[') {
        colon = strstr(p, "]:");
        if (colon == NULL) {
            goto bad;
        }
        n = (size_t) (colon - p - 1);
        p++;
        colon++;

    } else {
        colon = strrchr(p, ':');
        if (colon == NULL) {
            goto bad;
        }
        n = (size_t) (colon - p);
    }

    if (n == 0 || n >= sizeof(host)) {
        goto bad;
    }

    memcpy(host, p, n);
    host[n] = '\0';

    port = atoi(colon + 1);

    if (port < 0 || port > 65535 || colon[1] == '\0'
        || strspn(colon + 1, "0123456789") != strlen(colon + 1))
    {
        goto bad;
    }

    (void) snprintf(portstr, sizeof(portstr), "%d", port);

    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;

    if (strcmp(host, "localhost") == 0) {
        (void) snprintf(host, sizeof(host), "127.0.0.1");
    }

    hints.ai_flags |= AI_NUMERICHOST;

    rc = getaddrinfo(host, portstr, &hints, &ai);

    if (rc != 0) {
        (void) cdc_error(err, errlen, "listen \"%s\": %s (a numeric "
                         "loopback address is expected)", conf->listen,
                         gai_strerror(rc));
        return NULL;
    }

    memset(&ss, 0, sizeof(ss));
    memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
    freeaddrinfo(ai);

    v6 = ss.ss_family == AF_INET6;

    if (v6 ? !IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *) &ss)
                                       ->sin6_addr)
           : (ntohl(((struct sockaddr_in *) &ss)->sin_addr.s_addr) >> 24)
             != 127)
    {
        (void) cdc_error(err, errlen, "listen \"%s\": not a loopback "
                         "address (the endpoints have no authentication)",
                         conf->listen);
        return NULL;
    }

    h = calloc(1, sizeof(*h));

    if (h == NULL) {
        (void) cdc_error(err, errlen, "out of memory");
        return NULL;
    }

    h->conf = *conf;
    h->listen = strdup(conf->listen);

    if (h->listen == NULL) {
        free(h);
        (void) cdc_error(err, errlen, "out of memory");
        return NULL;
    }

    h->conf.listen = h->listen;

    h->daemon = MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD
                                 | MHD_USE_ERROR_LOG
                                 | (v6 ? MHD_USE_IPv6 : 0),
                                 (uint16_t) port, NULL, NULL,
                                 cdc_http_handler, h,
                                 MHD_OPTION_EXTERNAL_LOGGER, cdc_http_log,
                                 NULL,
                                 MHD_OPTION_SOCK_ADDR, &ss,
                                 MHD_OPTION_CONNECTION_TIMEOUT,
                                 (unsigned int) 10,
                                 MHD_OPTION_END);

    if (h->daemon == NULL) {
        (void) cdc_error(err, errlen, "listen \"%s\": cannot start the HTTP "
                         "server (port in use?)", conf->listen);
        free(h->listen);
        free(h);
        return NULL;
    }

    h->port = port;
    info = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);

    if (info && info->port) {
        h->port = info->port;
    }

    return h;

bad:

    (void) cdc_error(err, errlen, "bad listen address \"%s\" (host:port)",
                     conf->listen);

    return NULL;
}


int
cdc_http_port(const cdc_http_t *h)
{
    return h ? h->port : 0;
}


void
cdc_http_stop(cdc_http_t *h)
{
    if (h == NULL) {
        return;
    }

    MHD_stop_daemon(h->daemon);
    free(h->listen);
    free(h);
}
