
/*
 * ngx_strangler_module: types shared by the module's files.
 *
 * module.c  directives, conf create/merge, variables, phase handlers
 * route.c   the route table: exact, longest prefix, regex
 * split.c   the decision: override, methods, bucket vs percent
 * shm.c     the zone and the counters that survive reloads
 * lag.c     the service's sync lag, from its lag file
 * status.c  JSON and Prometheus output
 */


#ifndef _NGX_HTTP_STRANGLER_MODULE_H_INCLUDED_
#define _NGX_HTTP_STRANGLER_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


#define NGX_HTTP_STRANGLER_LEGACY         0
#define NGX_HTTP_STRANGLER_SERVICE        1
#define NGX_HTTP_STRANGLER_TARGETS        2

/* why a request went where it went: $strangler_reason, status counters */
#define NGX_HTTP_STRANGLER_REASON_SPLIT     0
#define NGX_HTTP_STRANGLER_REASON_OVERRIDE  1
#define NGX_HTTP_STRANGLER_REASON_METHOD    2
#define NGX_HTTP_STRANGLER_REASON_LAG       3
#define NGX_HTTP_STRANGLER_REASON_RW        4
#define NGX_HTTP_STRANGLER_REASON_NO_ROUTE  5
#define NGX_HTTP_STRANGLER_REASONS          6

/* 0..100 in hundredths */
#define NGX_HTTP_STRANGLER_PERCENT_MAX    10000


typedef struct ngx_http_strangler_node_s   ngx_http_strangler_node_t;
typedef struct ngx_http_strangler_route_s  ngx_http_strangler_route_t;
typedef struct ngx_http_strangler_shctx_s  ngx_http_strangler_shctx_t;


/* a reference to an upstream{} name, checked after the http block */
typedef struct {
    ngx_str_t                     name;
    ngx_str_t                     file;
    ngx_uint_t                    line;
} ngx_http_strangler_upstream_ref_t;


typedef struct {
    ngx_array_t                   exact;     /* route *, sorted */
    ngx_array_t                   prefix;    /* prefix_t, sorted */
    ngx_array_t                   regex;     /* route *, as declared */
} ngx_http_strangler_table_t;


typedef struct {
    ngx_array_t                   routes;    /* route *, as declared */
    ngx_http_strangler_table_t    table;

    ngx_array_t                   refs;      /* upstream_ref_t */
    ngx_array_t                   lag_sources;  /* lag_t * */
    ngx_uint_t                    rw_routes;    /* with read_your_writes */

    ngx_shm_zone_t               *shm_zone;
    ngx_http_strangler_shctx_t   *sh;
    ngx_slab_pool_t              *shpool;
    ngx_http_strangler_node_t    *unmatched;

    ngx_str_t                     legacy;    /* http-level default */

    ngx_str_t                     status_file;  /* first strangler_status */
    ngx_uint_t                    status_line;
} ngx_http_strangler_main_conf_t;


typedef struct {
    ngx_flag_t                    enable;
    ngx_str_t                     legacy;

    ngx_str_t                     override_header;
    ngx_str_t                     override_token;
} ngx_http_strangler_loc_conf_t;


/*
 * The decision for one request; kept as the request's module ctx and, for
 * the main request, behind a pool cleanup that outlives internal redirects.
 */
typedef struct {
    ngx_http_strangler_route_t   *route;
    ngx_http_strangler_node_t    *node;
    ngx_str_t                    *upstream;
    ngx_uint_t                    target;
    ngx_uint_t                    reason;
    ngx_uint_t                    set_rw;    /* a write: set the rw cookie */
    ngx_uint_t                    states;    /* upstream states before it */
    ngx_uint_t                    fallback;  /* side answered, redirected */
} ngx_http_strangler_ctx_t;


extern ngx_module_t  ngx_http_strangler_module;

extern ngx_str_t     ngx_http_strangler_targets[];
extern ngx_str_t     ngx_http_strangler_reasons[];


ngx_int_t ngx_http_strangler_status_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_strangler_add_upstream_ref(ngx_conf_t *cf,
    ngx_http_strangler_main_conf_t *smcf, ngx_str_t *name);
ngx_int_t ngx_http_strangler_check_utf8(ngx_conf_t *cf, char *what,
    ngx_str_t *name);


#endif /* _NGX_HTTP_STRANGLER_MODULE_H_INCLUDED_ */
