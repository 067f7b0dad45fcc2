
/*
 * ngx_strangler_module: the service's sync lag, read from the lag file the
 * bridge's sink writes (include/strangler/lagfile.h).
 *
 * Each worker keeps the last read of each file and reads it again when that
 * is 100 ms old, so a file costs at most ten small reads a second per
 * worker, whatever the request rate.  Anything doubtful reads as "lag
 * unknown": a missing, unreadable or malformed file, or one whose
 * updated_ms is older than the source's stale limit (the sink stopped).
 * The callers then fail safe, to legacy.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_strangler_module.h"
#include "ngx_http_strangler_lag.h"


static void ngx_http_strangler_lag_read(ngx_http_strangler_lag_t *src,
    ngx_log_t *log);


/* one source per path and stale limit, shared by the routes that use it */

ngx_http_strangler_lag_t *
ngx_http_strangler_lag_add(ngx_conf_t *cf,
    ngx_http_strangler_main_conf_t *smcf, ngx_str_t *path, ngx_msec_t stale)
{
    ngx_str_t                   full;
    ngx_uint_t                  i;
    ngx_http_strangler_lag_t  **srcs, *src, **sp;

    full = *path;

    if (ngx_conf_full_name(cf->cycle, &full, 1) != NGX_OK) {
        return NULL;
    }

    srcs = smcf->lag_sources.elts;

    for (i = 0; i < smcf->lag_sources.nelts; i++) {
        if (srcs[i]->path.len == full.len
            && ngx_strncmp(srcs[i]->path.data, full.data, full.len) == 0
            && srcs[i]->stale == stale)
        {
            return srcs[i];
        }
    }

    src = ngx_pcalloc(cf->pool, sizeof(ngx_http_strangler_lag_t));
    if (src == NULL) {
        return NULL;
    }

    src->path = full;
    src->stale = stale;

    sp = ngx_array_push(&smcf->lag_sources);
    if (sp == NULL) {
        return NULL;
    }

    *sp = src;

    return src;
}


int64_t
ngx_http_strangler_lag_now_ms(void)
{
    ngx_time_t  *tp;

    tp = ngx_timeofday();

    return (int64_t) tp->sec * 1000 + tp->msec;
}


/* the lag, or NULL when it is unknown or stale */

strangler_lag_t *
ngx_http_strangler_lag_get(ngx_http_strangler_lag_t *src, int64_t now_ms,
    ngx_log_t *log)
{
    if (!src->read
        || (ngx_msec_int_t) (ngx_current_msec - src->read_at)
           >= NGX_HTTP_STRANGLER_LAG_CACHE)
    {
        ngx_http_strangler_lag_read(src, log);
    }

    if (!src->valid) {
        return NULL;
    }

    if (now_ms - src->lag.updated_ms > (int64_t) src->stale) {
        return NULL;
    }

    return &src->lag;
}


static void
ngx_http_strangler_lag_read(ngx_http_strangler_lag_t *src, ngx_log_t *log)
{
    ssize_t   n;
    ngx_fd_t  fd;
    u_char    buf[STRANGLER_LAGFILE_MAX];

    src->read = 1;
    src->read_at = ngx_current_msec;
    src->valid = 0;

    fd = ngx_open_file(src->path.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);

    if (fd == NGX_INVALID_FILE) {
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, log, ngx_errno,
                       "strangler: lag file \"%V\" not opened, fd:%d",
                       &src->path, fd);
        return;
    }

    n = ngx_read_fd(fd, buf, sizeof(buf));

    if (n == -1) {
        ngx_log_error(NGX_LOG_WARN, log, ngx_errno,
                      ngx_read_fd_n " \"%V\" failed", &src->path);
    }

    if (ngx_close_file(fd) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_ALERT, log, ngx_errno,
                      ngx_close_file_n " \"%V\" failed", &src->path);
    }

    if (n <= 0 || n == (ssize_t) sizeof(buf)) {
        return;
    }

    if (strangler_lagfile_parse((const char *) buf, (size_t) n, &src->lag)
        != 0)
    {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, log, 0,
                       "strangler: lag file \"%V\" is malformed",
                       &src->path);
        return;
    }

    src->valid = 1;
}
