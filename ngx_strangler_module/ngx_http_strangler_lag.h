
/*
 * ngx_strangler_module: the service's sync lag, from its lag file.
 */


#ifndef _NGX_HTTP_STRANGLER_LAG_H_INCLUDED_
#define _NGX_HTTP_STRANGLER_LAG_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <strangler/lagfile.h>
#include <strangler/route_grammar.h>

#include "ngx_http_strangler_module.h"


/* a worker reads a lag file at most this often */
#define NGX_HTTP_STRANGLER_LAG_CACHE     100

/* a lag file older than this is stale, unless lag_source says otherwise */
#define NGX_HTTP_STRANGLER_LAG_STALE     STRANGLER_LAG_STALE_MS


typedef struct {
    ngx_str_t                     path;      /* null-terminated */
    ngx_msec_t                    stale;

    /* per worker: the last read, at most LAG_CACHE ms old */
    ngx_msec_t                    read_at;
    ngx_uint_t                    read;      /* read_at is valid */
    ngx_uint_t                    valid;     /* lag parsed from the file */
    strangler_lag_t               lag;
} ngx_http_strangler_lag_t;


ngx_http_strangler_lag_t *ngx_http_strangler_lag_add(ngx_conf_t *cf,
    ngx_http_strangler_main_conf_t *smcf, ngx_str_t *path, ngx_msec_t stale);
strangler_lag_t *ngx_http_strangler_lag_get(ngx_http_strangler_lag_t *src,
    int64_t now_ms, ngx_log_t *log);
int64_t ngx_http_strangler_lag_now_ms(void);


#endif /* _NGX_HTTP_STRANGLER_LAG_H_INCLUDED_ */
