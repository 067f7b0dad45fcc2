
/*
 * ngx_strangler_module: the zone and its counters.
 */


#ifndef _NGX_HTTP_STRANGLER_SHM_H_INCLUDED_
#define _NGX_HTTP_STRANGLER_SHM_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_strangler_module.h"


#define NGX_HTTP_STRANGLER_CLASSES   5      /* 1xx .. 5xx */
#define NGX_HTTP_STRANGLER_BUCKETS   12     /* 11 bounds and +Inf */


typedef struct {
    ngx_atomic_t                    requests;
    ngx_atomic_t                    responses[NGX_HTTP_STRANGLER_CLASSES];
    ngx_atomic_t                    time_sum;      /* ms */
    ngx_atomic_t                    time_count;
    /* per bucket, not cumulative; the output sums them up */
    ngx_atomic_t                    time_bucket[NGX_HTTP_STRANGLER_BUCKETS];
} ngx_http_strangler_counters_t;


/* one per route name ever configured; found by name again after reload */
struct ngx_http_strangler_node_s {
    ngx_queue_t                     queue;
    ngx_http_strangler_counters_t   target[NGX_HTTP_STRANGLER_TARGETS];
    ngx_atomic_t                    reasons[NGX_HTTP_STRANGLER_REASONS];
    ngx_atomic_t                    fallbacks;
    size_t                          len;
    u_char                          name[1];
};


struct ngx_http_strangler_shctx_s {
    ngx_queue_t                     nodes;
    ngx_atomic_t                    generation;    /* configurations loaded */
    ngx_atomic_t                    nodes_count;
};


extern ngx_msec_t  ngx_http_strangler_bucket_ms[NGX_HTTP_STRANGLER_BUCKETS];
extern ngx_str_t   ngx_http_strangler_bucket_le[NGX_HTTP_STRANGLER_BUCKETS];


ngx_int_t ngx_http_strangler_shm_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
void ngx_http_strangler_shm_count_request(ngx_http_strangler_ctx_t *ctx);
void ngx_http_strangler_shm_count_response(ngx_http_request_t *r,
    ngx_http_strangler_ctx_t *ctx, ngx_uint_t status);
ngx_http_upstream_state_t *ngx_http_strangler_shm_last_try(
    ngx_http_request_t *r, ngx_http_strangler_ctx_t *ctx);
void ngx_http_strangler_shm_count_fallback(ngx_http_strangler_ctx_t *ctx);


#endif /* _NGX_HTTP_STRANGLER_SHM_H_INCLUDED_ */
