
/*
 * ngx_strangler_module: the route table.
 */


#ifndef _NGX_HTTP_STRANGLER_ROUTE_H_INCLUDED_
#define _NGX_HTTP_STRANGLER_ROUTE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_strangler_module.h"
#include "ngx_http_strangler_lag.h"


#define NGX_HTTP_STRANGLER_EXACT           0    /* = /x   */
#define NGX_HTTP_STRANGLER_PREFIX          1    /* /x     */
#define NGX_HTTP_STRANGLER_PREFIX_NOREGEX  2    /* ^~ /x  */
#define NGX_HTTP_STRANGLER_REGEX           3    /* ~ re   */
#define NGX_HTTP_STRANGLER_REGEX_CASELESS  4    /* ~* re  */


struct ngx_http_strangler_route_s {
    ngx_str_t                     name;      /* hashed, $strangler_route */
    ngx_str_t                     pattern;
    ngx_uint_t                    match;
    ngx_regex_t                  *regex;

    ngx_str_t                     upstream[NGX_HTTP_STRANGLER_TARGETS];
    ngx_uint_t                    percent;   /* hundredths, 0..10000 */
    ngx_http_complex_value_t     *key;       /* NULL: $remote_addr */
    ngx_uint_t                    methods;   /* NGX_HTTP_GET|...; 0: all */

    ngx_http_strangler_node_t    *node;      /* counters in the zone */

    ngx_msec_t                    max_lag;   /* NGX_CONF_UNSET_MSEC: off */
    ngx_http_strangler_lag_t     *lag;       /* lag_source */
    ngx_flag_t                    rw;        /* read_your_writes */
    ngx_str_t                     rw_cookie;
    ngx_http_complex_value_t     *rw_value;  /* $cookie_<rw_cookie> */

    ngx_str_t                     file;      /* where it was declared */
    ngx_uint_t                    line;
};


typedef struct {
    ngx_http_strangler_route_t   *route;
    /* the route's prefixes that are routes too, shortest first, itself last */
    ngx_http_strangler_route_t  **chain;
    ngx_uint_t                    nchain;
} ngx_http_strangler_prefix_t;


char *ngx_http_strangler_route_block(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_strangler_route_init_table(ngx_conf_t *cf,
    ngx_http_strangler_main_conf_t *smcf);
ngx_http_strangler_route_t *ngx_http_strangler_route_find(
    ngx_http_strangler_table_t *table, ngx_str_t *uri, ngx_log_t *log);
ngx_int_t ngx_http_strangler_route_parse_percent(ngx_str_t *value);


#endif /* _NGX_HTTP_STRANGLER_ROUTE_H_INCLUDED_ */
