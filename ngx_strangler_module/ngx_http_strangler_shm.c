
/*
 * ngx_strangler_module: the zone and its counters.
 *
 * As in ngx_http_limit_req_module, the zone outlives a reload when its name
 * and size stay the same: init_zone then takes over the old configuration's
 * data.  Counters are kept per route name, so a route keeps its counts
 * across reloads (also when its percent changes), and the workers of the
 * old and the new configuration add to the same counters while both run.
 * Nodes are looked up and created only at configuration load, under the
 * slab mutex; requests touch them with atomic additions only.  A node is
 * never freed: old workers may still count into it.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_strangler_module.h"
#include "ngx_http_strangler_route.h"
#include "ngx_http_strangler_shm.h"


static ngx_http_strangler_node_t *ngx_http_strangler_shm_node(
    ngx_http_strangler_main_conf_t *smcf, u_char *name, size_t len);


ngx_msec_t  ngx_http_strangler_bucket_ms[NGX_HTTP_STRANGLER_BUCKETS] = {
    5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, NGX_MAX_INT_T_VALUE
};


ngx_str_t  ngx_http_strangler_bucket_le[NGX_HTTP_STRANGLER_BUCKETS] = {
    ngx_string("0.005"), ngx_string("0.01"), ngx_string("0.025"),
    ngx_string("0.05"), ngx_string("0.1"), ngx_string("0.25"),
    ngx_string("0.5"), ngx_string("1"), ngx_string("2.5"), ngx_string("5"),
    ngx_string("10"), ngx_string("+Inf")
};


ngx_int_t
ngx_http_strangler_shm_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_strangler_main_conf_t  *osmcf = data;

    size_t                            len;
    ngx_uint_t                        i;
    ngx_slab_pool_t                  *shpool;
    ngx_http_strangler_route_t      **routes;
    ngx_http_strangler_main_conf_t   *smcf;

    smcf = shm_zone->data;

    if (osmcf) {
        /* reload: keep the counters */
        smcf->sh = osmcf->sh;
        smcf->shpool = osmcf->shpool;

    } else {
        shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;
        smcf->shpool = shpool;

        if (shm_zone->shm.exists) {
            smcf->sh = shpool->data;

        } else {
            smcf->sh = ngx_slab_alloc(shpool,
                                      sizeof(ngx_http_strangler_shctx_t));
            if (smcf->sh == NULL) {
                return NGX_ERROR;
            }

            shpool->data = smcf->sh;

            /* running out is reported below, with the remedy */
            shpool->log_nomem = 0;

            ngx_queue_init(&smcf->sh->nodes);
            smcf->sh->generation = 0;
            smcf->sh->nodes_count = 0;

            len = sizeof(" in strangler_zone \"\"") + shm_zone->shm.name.len;

            shpool->log_ctx = ngx_slab_alloc(shpool, len);
            if (shpool->log_ctx == NULL) {
                return NGX_ERROR;
            }

            ngx_sprintf(shpool->log_ctx, " in strangler_zone \"%V\"%Z",
                        &shm_zone->shm.name);
        }
    }

    ngx_shmtx_lock(&smcf->shpool->mutex);

    routes = smcf->routes.elts;

    for (i = 0; i < smcf->routes.nelts; i++) {
        routes[i]->node = ngx_http_strangler_shm_node(smcf,
                                                      routes[i]->name.data,
                                                      routes[i]->name.len);
        if (routes[i]->node == NULL) {
            goto nomem;
        }
    }

    /* requests that match no route count under the empty name */

    smcf->unmatched = ngx_http_strangler_shm_node(smcf, (u_char *) "", 0);
    if (smcf->unmatched == NULL) {
        goto nomem;
    }

    smcf->sh->generation++;

    ngx_shmtx_unlock(&smcf->shpool->mutex);

    return NGX_OK;

nomem:

    ngx_shmtx_unlock(&smcf->shpool->mutex);

    ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                  "strangler_zone \"%V\" (%uz bytes) is too small for "
                  "%ui routes (it holds the counters of %uA route names); "
                  "make it larger",
                  &shm_zone->shm.name, shm_zone->shm.size,
                  smcf->routes.nelts, smcf->sh->nodes_count);

    return NGX_ERROR;
}


static ngx_http_strangler_node_t *
ngx_http_strangler_shm_node(ngx_http_strangler_main_conf_t *smcf,
    u_char *name, size_t len)
{
    ngx_queue_t                *q;
    ngx_http_strangler_node_t  *node;

    for (q = ngx_queue_head(&smcf->sh->nodes);
         q != ngx_queue_sentinel(&smcf->sh->nodes);
         q = ngx_queue_next(q))
    {
        node = ngx_queue_data(q, ngx_http_strangler_node_t, queue);

        if (node->len == len && ngx_memcmp(node->name, name, len) == 0) {
            return node;
        }
    }

    node = ngx_slab_calloc_locked(smcf->shpool,
                                  offsetof(ngx_http_strangler_node_t, name)
                                  + len + 1);
    if (node == NULL) {
        return NULL;
    }

    node->len = len;
    ngx_memcpy(node->name, name, len);

    ngx_queue_insert_tail(&smcf->sh->nodes, &node->queue);
    smcf->sh->nodes_count++;

    return node;
}


void
ngx_http_strangler_shm_count_request(ngx_http_strangler_ctx_t *ctx)
{
    if (ctx->node == NULL) {
        return;
    }

    (void) ngx_atomic_fetch_add(&ctx->node->target[ctx->target].requests, 1);
    (void) ngx_atomic_fetch_add(&ctx->node->reasons[ctx->reason], 1);
}


/*
 * The response of the decided side: its status class and its upstream
 * time, summed over the tries made since the decision (proxy_next_upstream,
 * as in $upstream_response_time), not over the tries of a fallback.
 */

void
ngx_http_strangler_shm_count_response(ngx_http_request_t *r,
    ngx_http_strangler_ctx_t *ctx, ngx_uint_t status)
{
    ngx_msec_t                      ms;
    ngx_uint_t                      i, b, seen;
    ngx_http_upstream_state_t      *state;
    ngx_http_strangler_counters_t  *c;

    if (ctx->node == NULL) {
        return;
    }

    c = &ctx->node->target[ctx->target];

    if (status >= 100 && status < 600) {
        (void) ngx_atomic_fetch_add(&c->responses[status / 100 - 1], 1);
    }

    if (r->upstream_states == NULL) {
        return;
    }

    state = r->upstream_states->elts;
    ms = 0;
    seen = 0;

    for (i = ctx->states; i < r->upstream_states->nelts; i++) {
        if (state[i].peer == NULL
            || state[i].response_time == (ngx_msec_t) -1)
        {
            continue;
        }

        ms += state[i].response_time;
        seen = 1;
    }

    if (!seen) {
        return;
    }

    for (b = 0; b < NGX_HTTP_STRANGLER_BUCKETS - 1; b++) {
        if (ms <= ngx_http_strangler_bucket_ms[b]) {
            break;
        }
    }

    (void) ngx_atomic_fetch_add(&c->time_bucket[b], 1);
    (void) ngx_atomic_fetch_add(&c->time_sum, ms);
    (void) ngx_atomic_fetch_add(&c->time_count, 1);
}


/* the last upstream tried since the decision, NULL if none was */

ngx_http_upstream_state_t *
ngx_http_strangler_shm_last_try(ngx_http_request_t *r,
    ngx_http_strangler_ctx_t *ctx)
{
    ngx_uint_t                  i;
    ngx_http_upstream_state_t  *state;

    if (r->upstream_states == NULL) {
        return NULL;
    }

    state = r->upstream_states->elts;

    for (i = r->upstream_states->nelts; i > ctx->states; i--) {
        if (state[i - 1].peer) {
            return &state[i - 1];
        }
    }

    return NULL;
}


void
ngx_http_strangler_shm_count_fallback(ngx_http_strangler_ctx_t *ctx)
{
    if (ctx->node == NULL) {
        return;
    }

    (void) ngx_atomic_fetch_add(&ctx->node->fallbacks, 1);
}
