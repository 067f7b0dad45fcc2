
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

/* how far a lag file's updated_ms may be ahead of nginx's clock */
#define NGX_HTTP_STRANGLER_LAG_SKEW      1000

/* what the last look at a lag source found; a change is logged once */
#define NGX_HTTP_STRANGLER_LAG_UNSET       0     /* not looked at yet */
#define NGX_HTTP_STRANGLER_LAG_OK          1
#define NGX_HTTP_STRANGLER_LAG_MISSING     2
#define NGX_HTTP_STRANGLER_LAG_UNREADABLE  3
#define NGX_HTTP_STRANGLER_LAG_IRREGULAR   4     /* not a regular file */
#define NGX_HTTP_STRANGLER_LAG_TOO_LONG    5
#define NGX_HTTP_STRANGLER_LAG_MALFORMED   6
#define NGX_HTTP_STRANGLER_LAG_STALE_TIME  7
#define NGX_HTTP_STRANGLER_LAG_FUTURE      8

/* ngx_http_strangler_read_file() failures, besides NGX_ERROR (errno) */
#define NGX_HTTP_STRANGLER_FILE_IRREGULAR  -2
#define NGX_HTTP_STRANGLER_FILE_TOO_LONG   -3


typedef struct {
    ngx_str_t                     path;      /* null-terminated */
    ngx_msec_t                    stale;

    /* per worker: the last read, at most LAG_CACHE ms old */
    ngx_msec_t                    read_at;
    ngx_uint_t                    read;      /* read_at is valid */
    ngx_uint_t                    file;      /* LAG_OK or why not, at read */
    ngx_err_t                     err;       /* errno of a failed read */
    ngx_uint_t                    state;     /* LAG_*, as last logged */
    strangler_lag_t               lag;
} ngx_http_strangler_lag_t;


ngx_http_strangler_lag_t *ngx_http_strangler_lag_add(ngx_conf_t *cf,
    ngx_http_strangler_main_conf_t *smcf, ngx_str_t *path, ngx_msec_t stale);
strangler_lag_t *ngx_http_strangler_lag_get(ngx_http_strangler_lag_t *src,
    int64_t now_ms, ngx_log_t *log);
int64_t ngx_http_strangler_lag_now_ms(void);
ssize_t ngx_http_strangler_read_file(u_char *path, u_char *buf, size_t size,
    ngx_err_t *err);


#endif /* _NGX_HTTP_STRANGLER_LAG_H_INCLUDED_ */
