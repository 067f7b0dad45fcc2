
/*
 * ngx_strangler_module: the decision for one request, in this order:
 *
 *   no route matched           legacy (strangler_legacy)   no_route
 *   override header + token    the side it names           override
 *   method not in "methods"    legacy                      method
 *   bucket >= percent          legacy                      split
 *   max_lag, lag over or unknown   legacy                  lag
 *   read_your_writes cookie newer than the service's watermark
 *                              legacy                      rw
 *   otherwise                  service                     split
 *
 * The lag and read-your-writes checks only ever take a request away from
 * the service; they never add to it, so stickiness and monotonicity hold
 * for everything the gate lets through.
 *
 * The split is a pure function of (route name, key, percent), see
 * include/strangler/bucket.h, so it needs no state and no coordination.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <strangler/bucket.h>

#include "ngx_http_strangler_module.h"
#include "ngx_http_strangler_route.h"
#include "ngx_http_strangler_split.h"
#include "ngx_http_strangler_lag.h"


static ngx_int_t ngx_http_strangler_split_override(ngx_http_request_t *r,
    ngx_http_strangler_loc_conf_t *slcf);
static ngx_uint_t ngx_http_strangler_split_bucket(ngx_http_request_t *r,
    ngx_http_strangler_route_t *route);
static ngx_int_t ngx_http_strangler_split_lag_ok(ngx_http_request_t *r,
    ngx_http_strangler_route_t *route, int64_t now_ms);
static ngx_int_t ngx_http_strangler_split_rw_ok(ngx_http_request_t *r,
    ngx_http_strangler_route_t *route, int64_t now_ms);


void
ngx_http_strangler_split_decide(ngx_http_request_t *r,
    ngx_http_strangler_loc_conf_t *slcf, ngx_http_strangler_route_t *route,
    ngx_http_strangler_ctx_t *ctx)
{
    int64_t     now_ms;
    ngx_int_t   forced;
    ngx_uint_t  bucket;

    ctx->route = route;

    if (route == NULL) {
        ctx->target = NGX_HTTP_STRANGLER_LEGACY;
        ctx->reason = NGX_HTTP_STRANGLER_REASON_NO_ROUTE;
        ctx->upstream = &slcf->legacy;
        return;
    }

    ctx->node = route->node;

    if (slcf->override_header.len) {
        forced = ngx_http_strangler_split_override(r, slcf);

        if (forced != NGX_DECLINED) {
            ctx->target = forced;
            ctx->reason = NGX_HTTP_STRANGLER_REASON_OVERRIDE;
            goto done;
        }
    }

    if (route->methods && !(r->method & route->methods)) {
        ctx->target = NGX_HTTP_STRANGLER_LEGACY;
        ctx->reason = NGX_HTTP_STRANGLER_REASON_METHOD;
        goto done;
    }

    bucket = ngx_http_strangler_split_bucket(r, route);

    ctx->reason = NGX_HTTP_STRANGLER_REASON_SPLIT;

    if (!strangler_to_service(bucket, route->percent)) {
        ctx->target = NGX_HTTP_STRANGLER_LEGACY;
        goto done;
    }

    ctx->target = NGX_HTTP_STRANGLER_SERVICE;

    if (route->lag) {
        now_ms = ngx_http_strangler_lag_now_ms();

        if (route->max_lag != NGX_CONF_UNSET_MSEC
            && !ngx_http_strangler_split_lag_ok(r, route, now_ms))
        {
            ctx->target = NGX_HTTP_STRANGLER_LEGACY;
            ctx->reason = NGX_HTTP_STRANGLER_REASON_LAG;

        } else if (route->rw
                   && !ngx_http_strangler_split_rw_ok(r, route, now_ms))
        {
            ctx->target = NGX_HTTP_STRANGLER_LEGACY;
            ctx->reason = NGX_HTTP_STRANGLER_REASON_RW;
        }
    }

done:

    ctx->upstream = &route->upstream[ctx->target];

    /* a write through legacy: reads must wait for the service to catch up */

    if (route->rw && ctx->target == NGX_HTTP_STRANGLER_LEGACY
        && !(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD|NGX_HTTP_OPTIONS
                          |NGX_HTTP_TRACE)))
    {
        ctx->set_rw = 1;
    }

    ngx_log_debug4(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "strangler: route \"%V\" target %V reason %V upstream %V",
                   &route->name, &ngx_http_strangler_targets[ctx->target],
                   &ngx_http_strangler_reasons[ctx->reason], ctx->upstream);
}


/*
 * "NAME: service:TOKEN" or "NAME: legacy:TOKEN".  Returns the target, or
 * NGX_DECLINED when the header is missing, malformed, given more than once
 * (which one would count is nobody's guess: a proxy may have added one) or
 * the token is wrong.  The token is compared in constant time and never
 * logged.
 */

static ngx_int_t
ngx_http_strangler_split_override(ngx_http_request_t *r,
    ngx_http_strangler_loc_conf_t *slcf)
{
    u_char           *p, *end, diff;
    size_t            len, i;
    ngx_int_t         target;
    ngx_uint_t        n;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h, *found;

    found = NULL;
    part = &r->headers_in.headers.part;
    h = part->elts;

    for (n = 0; /* void */ ; n++) {

        if (n >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            n = 0;
        }

        if (h[n].hash == 0
            || h[n].key.len != slcf->override_header.len
            || ngx_strncasecmp(h[n].key.data, slcf->override_header.data,
                               h[n].key.len)
               != 0)
        {
            continue;
        }

        if (found) {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "strangler: ignored \"%V\" header given more "
                          "than once", &slcf->override_header);
            return NGX_DECLINED;
        }

        found = &h[n];
    }

    if (found == NULL) {
        return NGX_DECLINED;
    }

    p = found->value.data;
    end = p + found->value.len;

    if (end - p > 8 && ngx_strncmp(p, "service:", 8) == 0) {
        target = NGX_HTTP_STRANGLER_SERVICE;
        p += 8;

    } else if (end - p > 7 && ngx_strncmp(p, "legacy:", 7) == 0) {
        target = NGX_HTTP_STRANGLER_LEGACY;
        p += 7;

    } else {
        return NGX_DECLINED;
    }

    len = ngx_min((size_t) (end - p), slcf->override_token.len);
    diff = ((size_t) (end - p) != slcf->override_token.len);

    for (i = 0; i < len; i++) {
        diff |= p[i] ^ slcf->override_token.data[i];
    }

    if (diff != 0) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "strangler: ignored \"%V\" header with a wrong token",
                      &slcf->override_header);
        return NGX_DECLINED;
    }

    return target;
}


static ngx_uint_t
ngx_http_strangler_split_bucket(ngx_http_request_t *r,
    ngx_http_strangler_route_t *route)
{
    ngx_str_t  key;

    key.len = 0;

    if (route->key != NULL
        && ngx_http_complex_value(r, route->key, &key) != NGX_OK)
    {
        key.len = 0;
    }

    /* an empty key (say, no cookie yet) falls back to the client address */

    if (key.len == 0) {
        key = r->connection->addr_text;
    }

    return strangler_bucket(route->name.data, route->name.len,
                            key.data, key.len);
}


/* the service's lag is known, fresh and at most max_lag */

static ngx_int_t
ngx_http_strangler_split_lag_ok(ngx_http_request_t *r,
    ngx_http_strangler_route_t *route, int64_t now_ms)
{
    strangler_lag_t  *lag;

    lag = ngx_http_strangler_lag_get(route->lag, now_ms, r->connection->log);

    if (lag == NULL || lag->lag_ms < 0) {
        return 0;
    }

    return lag->lag_ms <= (int64_t) route->max_lag;
}


/*
 * No read-your-writes cookie, or the service's database has applied the
 * monolith up to the moment in it.  A cookie of digits only is a moment,
 * however long (one beyond int64_t is the far future: legacy until it
 * expires); any other value is ignored (it is not ours to judge).  An
 * unknown lag, or a watermark ahead of nginx's clock, keeps the client on
 * legacy.
 */

static ngx_int_t
ngx_http_strangler_split_rw_ok(ngx_http_request_t *r,
    ngx_http_strangler_route_t *route, int64_t now_ms)
{
    u_char           *p, *end;
    int64_t           t;
    ngx_str_t         v;
    strangler_lag_t  *lag;

    if (ngx_http_complex_value(r, route->rw_value, &v) != NGX_OK
        || v.len == 0)
    {
        return 1;
    }

    t = 0;
    end = v.data + v.len;

    for (p = v.data; p < end; p++) {
        if (*p < '0' || *p > '9') {
            return 1;
        }

        if (t > (INT64_MAX - 9) / 10) {
            t = INT64_MAX;
            continue;
        }

        t = t * 10 + (*p - '0');
    }

    lag = ngx_http_strangler_lag_get(route->lag, now_ms, r->connection->log);

    if (lag == NULL || lag->watermark_ms <= 0
        || lag->watermark_ms > now_ms + NGX_HTTP_STRANGLER_LAG_SKEW)
    {
        return 0;
    }

    return lag->watermark_ms >= t;
}
