
/*
 * ngx_strangler_module: the service's sync lag, read from the lag file the
 * bridge's sink writes (include/strangler/lagfile.h).
 *
 * Each worker keeps the last read of each file and reads it again when that
 * is 100 ms old, so a file costs at most ten small reads a second per
 * worker, whatever the request rate.  Anything doubtful reads as "lag
 * unknown": a missing, unreadable or malformed file, anything but a regular
 * file, or one whose updated_ms is older than the source's stale limit
 * (the sink stopped) or ahead of nginx's clock by more than
 * NGX_HTTP_STRANGLER_LAG_SKEW.  The callers then fail safe, to legacy.
 * Each worker logs a [warn] when a source turns bad and a [notice] when it
 * is good again, once per change.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_strangler_module.h"
#include "ngx_http_strangler_lag.h"


static void ngx_http_strangler_lag_read(ngx_http_strangler_lag_t *src,
    ngx_log_t *log);
static void ngx_http_strangler_lag_log_state(ngx_http_strangler_lag_t *src,
    ngx_uint_t state, int64_t now_ms);


/* the states of a lag source that say why it is not used */

static char  *ngx_http_strangler_lag_states[] = {
    "",
    "",
    "is missing",
    "cannot be read",
    "is not a regular file",
    "is too long to be a lag file",
    "is malformed",
    "",
    ""
};


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


/* the lag, or NULL when it is unknown, stale or from the future */

strangler_lag_t *
ngx_http_strangler_lag_get(ngx_http_strangler_lag_t *src, int64_t now_ms,
    ngx_log_t *log)
{
    ngx_uint_t  state;

    if (!src->read
        || (ngx_msec_int_t) (ngx_current_msec - src->read_at)
           >= NGX_HTTP_STRANGLER_LAG_CACHE)
    {
        ngx_http_strangler_lag_read(src, log);
    }

    /*
     * Compared, never subtracted: updated_ms comes from a file and may be
     * anything, now_ms - updated_ms could overflow.  now_ms is a wall clock
     * in ms, far from either end of int64_t.
     */

    state = src->file;

    if (state == NGX_HTTP_STRANGLER_LAG_OK) {
        if (src->lag.updated_ms < now_ms - (int64_t) src->stale) {
            state = NGX_HTTP_STRANGLER_LAG_STALE_TIME;

        } else if (src->lag.updated_ms
                   > now_ms + NGX_HTTP_STRANGLER_LAG_SKEW)
        {
            state = NGX_HTTP_STRANGLER_LAG_FUTURE;
        }
    }

    if (state != src->state) {
        ngx_http_strangler_lag_log_state(src, state, now_ms);
        src->state = state;
    }

    if (state != NGX_HTTP_STRANGLER_LAG_OK) {
        return NULL;
    }

    return &src->lag;
}


/*
 * Once per change of state and worker, not per read: a lag source that
 * stays bad would otherwise log ten times a second.
 */

static void
ngx_http_strangler_lag_log_state(ngx_http_strangler_lag_t *src,
    ngx_uint_t state, int64_t now_ms)
{
    ngx_err_t   err;
    ngx_log_t  *log;

    log = ngx_cycle->log;

    if (state == NGX_HTTP_STRANGLER_LAG_OK) {
        if (src->state != NGX_HTTP_STRANGLER_LAG_UNSET) {
            ngx_log_error(NGX_LOG_NOTICE, log, 0,
                          "strangler: lag source \"%V\" is good again",
                          &src->path);
        }

        return;
    }

    err = (state == NGX_HTTP_STRANGLER_LAG_MISSING
           || state == NGX_HTTP_STRANGLER_LAG_UNREADABLE) ? src->err : 0;

    switch (state) {

    case NGX_HTTP_STRANGLER_LAG_STALE_TIME:
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "strangler: lag source \"%V\" is stale: updated_ms "
                      "%L is over %M ms before now (%L), the service's "
                      "share goes to legacy",
                      &src->path, src->lag.updated_ms, src->stale, now_ms);
        return;

    case NGX_HTTP_STRANGLER_LAG_FUTURE:
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "strangler: lag source \"%V\" is from the future: "
                      "updated_ms %L is over %d ms after now (%L), the "
                      "service's share goes to legacy",
                      &src->path, src->lag.updated_ms,
                      NGX_HTTP_STRANGLER_LAG_SKEW, now_ms);
        return;

    default:
        ngx_log_error(NGX_LOG_WARN, log, err,
                      "strangler: lag source \"%V\" %s, the service's "
                      "share goes to legacy",
                      &src->path, ngx_http_strangler_lag_states[state]);
    }
}


static void
ngx_http_strangler_lag_read(ngx_http_strangler_lag_t *src, ngx_log_t *log)
{
    ssize_t    n;
    ngx_err_t  err;
    u_char     buf[STRANGLER_LAGFILE_MAX];

    src->read = 1;
    src->read_at = ngx_current_msec;

    n = ngx_http_strangler_read_file(src->path.data, buf, sizeof(buf), &err);

    src->err = err;

    if (n == NGX_ERROR) {
        src->file = (err == NGX_ENOENT || err == NGX_ENOTDIR)
                    ? NGX_HTTP_STRANGLER_LAG_MISSING
                    : NGX_HTTP_STRANGLER_LAG_UNREADABLE;
        return;
    }

    if (n == NGX_HTTP_STRANGLER_FILE_IRREGULAR) {
        src->file = NGX_HTTP_STRANGLER_LAG_IRREGULAR;
        return;
    }

    if (n == NGX_HTTP_STRANGLER_FILE_TOO_LONG) {
        src->file = NGX_HTTP_STRANGLER_LAG_TOO_LONG;
        return;
    }

    if (strangler_lagfile_parse((const char *) buf, (size_t) n, &src->lag)
        != 0)
    {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, log, 0,
                       "strangler: lag file \"%V\" is malformed",
                       &src->path);
        src->file = NGX_HTTP_STRANGLER_LAG_MALFORMED;
        return;
    }

    src->file = NGX_HTTP_STRANGLER_LAG_OK;
}


/*
 * Reads a small regular file whole into buf, without ever blocking on it:
 * opened O_NONBLOCK (a FIFO would block open() until a writer comes, and
 * read() after it), fstat()ed and refused unless it is a regular file
 * shorter than size, then one bounded read.  Returns the length;
 * NGX_ERROR with *err set when it cannot be opened or read;
 * NGX_HTTP_STRANGLER_FILE_IRREGULAR or NGX_HTTP_STRANGLER_FILE_TOO_LONG.
 */

ssize_t
ngx_http_strangler_read_file(u_char *path, u_char *buf, size_t size,
    ngx_err_t *err)
{
    ssize_t          n;
    ngx_fd_t         fd;
    ngx_file_info_t  fi;

    *err = 0;

    fd = ngx_open_file(path, NGX_FILE_RDONLY|NGX_FILE_NONBLOCK,
                       NGX_FILE_OPEN, 0);

    if (fd == NGX_INVALID_FILE) {
        *err = ngx_errno;
        return NGX_ERROR;
    }

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR) {
        *err = ngx_errno;
        n = NGX_ERROR;

    } else if (!ngx_is_file(&fi)) {
        n = NGX_HTTP_STRANGLER_FILE_IRREGULAR;

    } else if (ngx_file_size(&fi) >= (off_t) size) {
        n = NGX_HTTP_STRANGLER_FILE_TOO_LONG;

    } else {
        /* the size may have changed since fstat(): size - 1 at most */

        n = ngx_read_fd(fd, buf, size);

        if (n == -1) {
            *err = ngx_errno;
            n = NGX_ERROR;

        } else if (n == (ssize_t) size) {
            n = NGX_HTTP_STRANGLER_FILE_TOO_LONG;
        }
    }

    if (ngx_close_file(fd) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_ALERT, ngx_cycle->log, ngx_errno,
                      ngx_close_file_n " \"%s\" failed", path);
    }

    return n;
}
