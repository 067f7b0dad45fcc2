
/*
 * ngx_strangler_module: the status handler, JSON (the default) or, with
 * ?format=prometheus, the Prometheus text format.  docs/routing.md
 * describes both; tools build on them, so change them only by adding.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_strangler_module.h"
#include "ngx_http_strangler_route.h"
#include "ngx_http_strangler_shm.h"


#define NGX_HTTP_STRANGLER_JSON_ROUTE    4096
#define NGX_HTTP_STRANGLER_PROM_ROUTE    6144
#define NGX_HTTP_STRANGLER_PROM_LINES    48


static ngx_int_t ngx_http_strangler_status_send(ngx_http_request_t *r,
    ngx_buf_t *b, ngx_str_t *type);
static u_char *ngx_http_strangler_json(u_char *p, u_char *last,
    ngx_http_strangler_main_conf_t *smcf);
static u_char *ngx_http_strangler_json_str(u_char *p, u_char *last,
    ngx_str_t *s);
static u_char *ngx_http_strangler_json_counters(u_char *p, u_char *last,
    ngx_http_strangler_counters_t *c);
static u_char *ngx_http_strangler_json_reasons(u_char *p, u_char *last,
    ngx_http_strangler_node_t *node);
static u_char *ngx_http_strangler_prom(u_char *p, u_char *last,
    ngx_http_strangler_main_conf_t *smcf);
static u_char *ngx_http_strangler_prom_node(u_char *p, u_char *last,
    ngx_uint_t metric, ngx_str_t *name, ngx_http_strangler_node_t *node);
static u_char *ngx_http_strangler_prom_label(u_char *p, u_char *last,
    ngx_str_t *s);


static ngx_str_t  ngx_http_strangler_match_names[] = {
    ngx_string("exact"),
    ngx_string("prefix"),
    ngx_string("prefix_noregex"),
    ngx_string("regex"),
    ngx_string("regex_caseless")
};


static ngx_str_t  ngx_http_strangler_method_names[] = {
    ngx_string("GET"), ngx_string("HEAD"), ngx_string("POST"),
    ngx_string("PUT"), ngx_string("DELETE"), ngx_string("PATCH"),
    ngx_string("OPTIONS"), ngx_string("TRACE"), ngx_string("MKCOL"),
    ngx_string("COPY"), ngx_string("MOVE"), ngx_string("PROPFIND"),
    ngx_string("PROPPATCH"), ngx_string("LOCK"), ngx_string("UNLOCK")
};


static ngx_uint_t  ngx_http_strangler_method_bits[] = {
    NGX_HTTP_GET, NGX_HTTP_HEAD, NGX_HTTP_POST,
    NGX_HTTP_PUT, NGX_HTTP_DELETE, NGX_HTTP_PATCH,
    NGX_HTTP_OPTIONS, NGX_HTTP_TRACE, NGX_HTTP_MKCOL,
    NGX_HTTP_COPY, NGX_HTTP_MOVE, NGX_HTTP_PROPFIND,
    NGX_HTTP_PROPPATCH, NGX_HTTP_LOCK, NGX_HTTP_UNLOCK
};


/* the Prometheus metric families, each printed for every route in turn */

#define NGX_HTTP_STRANGLER_M_REQUESTS    0
#define NGX_HTTP_STRANGLER_M_RESPONSES   1
#define NGX_HTTP_STRANGLER_M_TIME        2
#define NGX_HTTP_STRANGLER_M_DECISIONS   3
#define NGX_HTTP_STRANGLER_M_FALLBACKS   4
#define NGX_HTTP_STRANGLER_M_N           5


static char  *ngx_http_strangler_prom_head[] = {
    "# HELP strangler_requests_total Requests routed, by route and target.\n"
    "# TYPE strangler_requests_total counter\n",

    "# HELP strangler_responses_total Responses sent, by route, target and "
    "status class.\n"
    "# TYPE strangler_responses_total counter\n",

    "# HELP strangler_upstream_response_seconds Upstream response time "
    "(all tries of a request), by route and target.\n"
    "# TYPE strangler_upstream_response_seconds histogram\n",

    "# HELP strangler_decisions_total Routing decisions, by route and "
    "reason.\n"
    "# TYPE strangler_decisions_total counter\n",

    "# HELP strangler_fallbacks_total Answers sent after an internal "
    "redirect from the decided side's failed answer (error_page), by "
    "route.\n"
    "# TYPE strangler_fallbacks_total counter\n"
};


ngx_int_t
ngx_http_strangler_status_handler(ngx_http_request_t *r)
{
    size_t                           size;
    ngx_int_t                        rc;
    ngx_str_t                        format, type;
    ngx_buf_t                       *b;
    ngx_uint_t                       i, prom;
    ngx_http_strangler_route_t     **routes;
    ngx_http_strangler_main_conf_t  *smcf;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);

    if (rc != NGX_OK) {
        return rc;
    }

    prom = 0;

    if (ngx_http_arg(r, (u_char *) "format", 6, &format) == NGX_OK) {
        if (format.len == 10
            && ngx_strncmp(format.data, "prometheus", 10) == 0)
        {
            prom = 1;

        } else if (format.len != 4
                   || ngx_strncmp(format.data, "json", 4) != 0)
        {
            return NGX_HTTP_BAD_REQUEST;
        }
    }

    smcf = ngx_http_get_module_main_conf(r, ngx_http_strangler_module);

    if (smcf->sh == NULL) {
        return NGX_HTTP_SERVICE_UNAVAILABLE;
    }

    /* a generous bound: ngx_slprintf() stops at the end in any case */

    size = 2 * NGX_HTTP_STRANGLER_PROM_ROUTE;
    routes = smcf->routes.elts;

    for (i = 0; i < smcf->routes.nelts; i++) {
        if (prom) {
            size += NGX_HTTP_STRANGLER_PROM_ROUTE
                    + 2 * NGX_HTTP_STRANGLER_PROM_LINES
                      * routes[i]->name.len;

        } else {
            size += NGX_HTTP_STRANGLER_JSON_ROUTE
                    + 12 * (routes[i]->name.len + routes[i]->pattern.len)
                    + 12 * (routes[i]->upstream[0].len
                            + routes[i]->upstream[1].len);
        }
    }

    b = ngx_create_temp_buf(r->pool, size);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (prom) {
        b->last = ngx_http_strangler_prom(b->last, b->end, smcf);
        ngx_str_set(&type, "text/plain; version=0.0.4; charset=utf-8");

    } else {
        b->last = ngx_http_strangler_json(b->last, b->end, smcf);
        ngx_str_set(&type, "application/json");
    }

    if (b->last == b->end) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "strangler: status output exceeds %uz bytes", size);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_strangler_status_send(r, b, &type);
}


static ngx_int_t
ngx_http_strangler_status_send(ngx_http_request_t *r, ngx_buf_t *b,
    ngx_str_t *type)
{
    ngx_int_t         rc;
    ngx_chain_t       out;
    ngx_table_elt_t  *cc;

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = b->last - b->pos;
    r->headers_out.content_type = *type;
    r->headers_out.content_type_len = type->len;
    r->headers_out.content_type_lowcase = NULL;

    /* counters change all the time */

    cc = ngx_list_push(&r->headers_out.headers);
    if (cc == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cc->hash = 1;
#if (nginx_version >= 1023000)
    cc->next = NULL;
#endif
    ngx_str_set(&cc->key, "Cache-Control");
    ngx_str_set(&cc->value, "no-store");

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


static u_char *
ngx_http_strangler_json(u_char *p, u_char *last,
    ngx_http_strangler_main_conf_t *smcf)
{
    ngx_uint_t                    i, j, t, n;
    ngx_http_strangler_route_t  **routes, *route;

    p = ngx_slprintf(p, last,
                     "{\"version\":1,\"nginx_version\":\"" NGINX_VERSION "\","
                     "\"strangler_version\":\"" NGX_HTTP_STRANGLER_VERSION "\","
                     "\"zone\":\"%V\",\"generation\":%uA,\"routes\":[",
                     &smcf->shm_zone->shm.name, smcf->sh->generation);

    routes = smcf->routes.elts;

    for (i = 0; i < smcf->routes.nelts; i++) {
        route = routes[i];

        p = ngx_slprintf(p, last, "%s{\"name\":", i ? "," : "");
        p = ngx_http_strangler_json_str(p, last, &route->name);
        p = ngx_slprintf(p, last, ",\"match\":\"%V\",\"pattern\":",
                         &ngx_http_strangler_match_names[route->match]);
        p = ngx_http_strangler_json_str(p, last, &route->pattern);

        p = ngx_slprintf(p, last,
                         ",\"percent\":%ui.%02ui,\"service\":",
                         route->percent / 100, route->percent % 100);
        p = ngx_http_strangler_json_str(p, last,
                                &route->upstream[NGX_HTTP_STRANGLER_SERVICE]);
        p = ngx_slprintf(p, last, ",\"legacy\":");
        p = ngx_http_strangler_json_str(p, last,
                                 &route->upstream[NGX_HTTP_STRANGLER_LEGACY]);

        p = ngx_slprintf(p, last, ",\"methods\":[");

        n = 0;

        for (j = 0; j < sizeof(ngx_http_strangler_method_bits)
                        / sizeof(ngx_uint_t); j++)
        {
            if (route->methods & ngx_http_strangler_method_bits[j]) {
                p = ngx_slprintf(p, last, "%s\"%V\"", n++ ? "," : "",
                                 &ngx_http_strangler_method_names[j]);
            }
        }

        p = ngx_slprintf(p, last, "],\"reasons\":");
        p = ngx_http_strangler_json_reasons(p, last, route->node);

        p = ngx_slprintf(p, last, ",\"fallbacks\":%uA,\"targets\":{",
                         route->node->fallbacks);

        for (t = 0; t < NGX_HTTP_STRANGLER_TARGETS; t++) {
            p = ngx_slprintf(p, last, "%s\"%V\":{\"upstream\":",
                             t ? "," : "", &ngx_http_strangler_targets[t]);
            p = ngx_http_strangler_json_str(p, last, &route->upstream[t]);
            p = ngx_slprintf(p, last, ",");
            p = ngx_http_strangler_json_counters(p, last,
                                                 &route->node->target[t]);
            p = ngx_slprintf(p, last, "}");
        }

        p = ngx_slprintf(p, last, "}}");
    }

    p = ngx_slprintf(p, last, "],\"unmatched\":{");
    p = ngx_http_strangler_json_counters(p, last,
                       &smcf->unmatched->target[NGX_HTTP_STRANGLER_LEGACY]);
    p = ngx_slprintf(p, last, ",\"fallbacks\":%uA}}\n",
                     smcf->unmatched->fallbacks);

    return p;
}


static u_char *
ngx_http_strangler_json_str(u_char *p, u_char *last, ngx_str_t *s)
{
    size_t  len;

    len = s->len + ngx_escape_json(NULL, s->data, s->len);

    if ((size_t) (last - p) < len + 2) {
        return last;
    }

    *p++ = '"';
    p = (u_char *) ngx_escape_json(p, s->data, s->len);
    *p++ = '"';

    return p;
}


static u_char *
ngx_http_strangler_json_counters(u_char *p, u_char *last,
    ngx_http_strangler_counters_t *c)
{
    ngx_uint_t         b;
    ngx_atomic_uint_t  cum, sum;

    sum = c->time_sum;

    p = ngx_slprintf(p, last,
                     "\"requests\":%uA,\"responses\":{\"1xx\":%uA,"
                     "\"2xx\":%uA,\"3xx\":%uA,\"4xx\":%uA,\"5xx\":%uA},"
                     "\"upstream_response_seconds\":{\"sum\":%uA.%03uA,"
                     "\"count\":%uA,\"buckets\":[",
                     c->requests, c->responses[0], c->responses[1],
                     c->responses[2], c->responses[3], c->responses[4],
                     sum / 1000, sum % 1000, c->time_count);

    cum = 0;

    for (b = 0; b < NGX_HTTP_STRANGLER_BUCKETS; b++) {
        cum += c->time_bucket[b];
        p = ngx_slprintf(p, last, "%s{\"le\":\"%V\",\"count\":%uA}",
                         b ? "," : "", &ngx_http_strangler_bucket_le[b], cum);
    }

    return ngx_slprintf(p, last, "]}");
}


static u_char *
ngx_http_strangler_json_reasons(u_char *p, u_char *last,
    ngx_http_strangler_node_t *node)
{
    ngx_uint_t  i;

    p = ngx_slprintf(p, last, "{");

    for (i = 0; i < NGX_HTTP_STRANGLER_REASONS; i++) {
        p = ngx_slprintf(p, last, "%s\"%V\":%uA", i ? "," : "",
                         &ngx_http_strangler_reasons[i], node->reasons[i]);
    }

    return ngx_slprintf(p, last, "}");
}


static u_char *
ngx_http_strangler_prom(u_char *p, u_char *last,
    ngx_http_strangler_main_conf_t *smcf)
{
    ngx_str_t                     empty = ngx_null_string;
    ngx_uint_t                    i, m;
    ngx_http_strangler_route_t  **routes;

    routes = smcf->routes.elts;

    for (m = 0; m < NGX_HTTP_STRANGLER_M_N; m++) {
        p = ngx_slprintf(p, last, "%s", ngx_http_strangler_prom_head[m]);

        for (i = 0; i < smcf->routes.nelts; i++) {
            p = ngx_http_strangler_prom_node(p, last, m, &routes[i]->name,
                                             routes[i]->node);
        }

        p = ngx_http_strangler_prom_node(p, last, m, &empty,
                                         smcf->unmatched);
    }

    p = ngx_slprintf(p, last,
                     "# HELP strangler_route_percent Share of the route's "
                     "requests sent to the service, 0..100.\n"
                     "# TYPE strangler_route_percent gauge\n");

    for (i = 0; i < smcf->routes.nelts; i++) {
        p = ngx_slprintf(p, last, "strangler_route_percent{route=\"");
        p = ngx_http_strangler_prom_label(p, last, &routes[i]->name);
        p = ngx_slprintf(p, last, "\"} %ui.%02ui\n",
                         routes[i]->percent / 100, routes[i]->percent % 100);
    }

    p = ngx_slprintf(p, last,
                     "# HELP strangler_config_generation Configurations "
                     "loaded since the zone was created.\n"
                     "# TYPE strangler_config_generation gauge\n"
                     "strangler_config_generation %uA\n",
                     smcf->sh->generation);

    return p;
}


/* the unmatched requests have route="" and only the legacy target */

static u_char *
ngx_http_strangler_prom_node(u_char *p, u_char *last, ngx_uint_t metric,
    ngx_str_t *name, ngx_http_strangler_node_t *node)
{
    ngx_uint_t                      t, i, ntargets;
    ngx_atomic_uint_t               cum, sum;
    ngx_http_strangler_counters_t  *c;

    ntargets = name->len ? NGX_HTTP_STRANGLER_TARGETS : 1;

    if (metric == NGX_HTTP_STRANGLER_M_DECISIONS) {
        for (i = 0; i < NGX_HTTP_STRANGLER_REASONS; i++) {
            p = ngx_slprintf(p, last, "strangler_decisions_total{route=\"");
            p = ngx_http_strangler_prom_label(p, last, name);
            p = ngx_slprintf(p, last, "\",reason=\"%V\"} %uA\n",
                             &ngx_http_strangler_reasons[i],
                             node->reasons[i]);
        }

        return p;
    }

    if (metric == NGX_HTTP_STRANGLER_M_FALLBACKS) {
        p = ngx_slprintf(p, last, "strangler_fallbacks_total{route=\"");
        p = ngx_http_strangler_prom_label(p, last, name);
        return ngx_slprintf(p, last, "\"} %uA\n", node->fallbacks);
    }

    for (t = 0; t < ntargets; t++) {
        c = &node->target[t];

        switch (metric) {

        case NGX_HTTP_STRANGLER_M_REQUESTS:
            p = ngx_slprintf(p, last, "strangler_requests_total{route=\"");
            p = ngx_http_strangler_prom_label(p, last, name);
            p = ngx_slprintf(p, last, "\",target=\"%V\"} %uA\n",
                             &ngx_http_strangler_targets[t], c->requests);
            break;

        case NGX_HTTP_STRANGLER_M_RESPONSES:
            for (i = 0; i < NGX_HTTP_STRANGLER_CLASSES; i++) {
                p = ngx_slprintf(p, last,
                                 "strangler_responses_total{route=\"");
                p = ngx_http_strangler_prom_label(p, last, name);
                p = ngx_slprintf(p, last,
                                 "\",target=\"%V\",class=\"%uixx\"} %uA\n",
                                 &ngx_http_strangler_targets[t], i + 1,
                                 c->responses[i]);
            }

            break;

        default: /* NGX_HTTP_STRANGLER_M_TIME */
            cum = 0;

            for (i = 0; i < NGX_HTTP_STRANGLER_BUCKETS; i++) {
                cum += c->time_bucket[i];

                p = ngx_slprintf(p, last,
                            "strangler_upstream_response_seconds_bucket"
                            "{route=\"");
                p = ngx_http_strangler_prom_label(p, last, name);
                p = ngx_slprintf(p, last, "\",target=\"%V\",le=\"%V\"} %uA\n",
                                 &ngx_http_strangler_targets[t],
                                 &ngx_http_strangler_bucket_le[i], cum);
            }

            /* the count from the buckets, so that it equals +Inf */

            sum = c->time_sum;

            p = ngx_slprintf(p, last,
                             "strangler_upstream_response_seconds_sum"
                             "{route=\"");
            p = ngx_http_strangler_prom_label(p, last, name);
            p = ngx_slprintf(p, last, "\",target=\"%V\"} %uA.%03uA\n",
                             &ngx_http_strangler_targets[t],
                             sum / 1000, sum % 1000);

            p = ngx_slprintf(p, last,
                             "strangler_upstream_response_seconds_count"
                             "{route=\"");
            p = ngx_http_strangler_prom_label(p, last, name);
            p = ngx_slprintf(p, last, "\",target=\"%V\"} %uA\n",
                             &ngx_http_strangler_targets[t], cum);
        }
    }

    return p;
}


/* label values escape backslash, double quote and line feed */

static u_char *
ngx_http_strangler_prom_label(u_char *p, u_char *last, ngx_str_t *s)
{
    u_char  *c, *end;

    end = s->data + s->len;

    for (c = s->data; c < end; c++) {
        if (last - p < 2) {
            return last;
        }

        switch (*c) {

        case '\\':
        case '"':
            *p++ = '\\';
            *p++ = *c;
            break;

        case '\n':
            *p++ = '\\';
            *p++ = 'n';
            break;

        default:
            *p++ = *c;
        }
    }

    return p;
}
