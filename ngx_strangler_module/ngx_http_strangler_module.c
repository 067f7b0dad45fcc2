
/*
 * ngx_strangler_module: directives, configuration, variables and the
 * request handlers.
 *
 * Per request the decision is made once, on first need (a variable or the
 * preaccess phase in a "strangler on" location), kept as the request's
 * module ctx and counted in the zone; the log phase counts the response.
 * Once the response has started, the variables only read: a decision made
 * then would route nothing, and would count requests (a "return 200", a
 * 400 for a garbage request line) only when the log_format names a
 * $strangler_* variable.  Subrequests (auth_request, mirror, SSI include)
 * are routed like any request but not counted: the counters count what
 * clients asked and what they were answered.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_strangler_module.h"
#include "ngx_http_strangler_route.h"
#include "ngx_http_strangler_split.h"
#include "ngx_http_strangler_shm.h"
#include "ngx_http_strangler_lag.h"


#define NGX_HTTP_STRANGLER_VAR_UPSTREAM  0
#define NGX_HTTP_STRANGLER_VAR_TARGET    1
#define NGX_HTTP_STRANGLER_VAR_ROUTE     2
#define NGX_HTTP_STRANGLER_VAR_REASON    3

#define NGX_HTTP_STRANGLER_TOKEN_MAX     4096

/* how long the read-your-writes cookie lives, seconds */
#define NGX_HTTP_STRANGLER_RW_MAX_AGE    300


static ngx_http_strangler_ctx_t *ngx_http_strangler_get_ctx(
    ngx_http_request_t *r);
static ngx_http_strangler_ctx_t *ngx_http_strangler_find_ctx(
    ngx_http_request_t *r);
static void ngx_http_strangler_cleanup(void *data);
static ngx_int_t ngx_http_strangler_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_strangler_legacy_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_strangler_preaccess_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_strangler_log_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_strangler_header_filter(ngx_http_request_t *r);

static ngx_int_t ngx_http_strangler_add_variables(ngx_conf_t *cf);
static void *ngx_http_strangler_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_strangler_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_http_strangler_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_strangler_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static ngx_int_t ngx_http_strangler_init(ngx_conf_t *cf);

static char *ngx_http_strangler_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_strangler_legacy(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_strangler_override_header(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static ngx_int_t ngx_http_strangler_read_token(ngx_conf_t *cf,
    ngx_str_t *path, ngx_str_t *token);
static char *ngx_http_strangler_status(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


static ngx_command_t  ngx_http_strangler_commands[] = {

    { ngx_string("strangler_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE2,
      ngx_http_strangler_zone,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("strangler_route"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_BLOCK|NGX_CONF_TAKE12,
      ngx_http_strangler_route_block,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("strangler_legacy"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_strangler_legacy,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("strangler"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_strangler_loc_conf_t, enable),
      NULL },

    { ngx_string("strangler_override_header"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE2,
      ngx_http_strangler_override_header,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("strangler_status"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_strangler_status,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_strangler_module_ctx = {
    ngx_http_strangler_add_variables,      /* preconfiguration */
    ngx_http_strangler_init,               /* postconfiguration */

    ngx_http_strangler_create_main_conf,   /* create main configuration */
    ngx_http_strangler_init_main_conf,     /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_strangler_create_loc_conf,    /* create location configuration */
    ngx_http_strangler_merge_loc_conf      /* merge location configuration */
};


ngx_module_t  ngx_http_strangler_module = {
    NGX_MODULE_V1,
    &ngx_http_strangler_module_ctx,        /* module context */
    ngx_http_strangler_commands,           /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


ngx_str_t  ngx_http_strangler_targets[] = {
    ngx_string("legacy"),
    ngx_string("service")
};


ngx_str_t  ngx_http_strangler_reasons[] = {
    ngx_string("split"),
    ngx_string("override"),
    ngx_string("method"),
    ngx_string("lag"),
    ngx_string("rw"),
    ngx_string("no_route")
};


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;


/* the ctx of a request that was not decided and may no longer be */
static ngx_http_strangler_ctx_t  ngx_http_strangler_undecided;


static ngx_http_variable_t  ngx_http_strangler_vars[] = {

    { ngx_string("strangler_upstream"), NULL, ngx_http_strangler_variable,
      NGX_HTTP_STRANGLER_VAR_UPSTREAM, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("strangler_target"), NULL, ngx_http_strangler_variable,
      NGX_HTTP_STRANGLER_VAR_TARGET, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("strangler_route"), NULL, ngx_http_strangler_variable,
      NGX_HTTP_STRANGLER_VAR_ROUTE, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("strangler_reason"), NULL, ngx_http_strangler_variable,
      NGX_HTTP_STRANGLER_VAR_REASON, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("strangler_legacy_upstream"), NULL,
      ngx_http_strangler_legacy_variable, 0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


static ngx_http_strangler_ctx_t *
ngx_http_strangler_get_ctx(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t              *cln;
    ngx_http_strangler_ctx_t        *ctx;
    ngx_http_strangler_route_t      *route;
    ngx_http_strangler_loc_conf_t   *slcf;
    ngx_http_strangler_main_conf_t  *smcf;

    ctx = ngx_http_strangler_find_ctx(r);

    if (ctx) {
        return (ctx == &ngx_http_strangler_undecided) ? NULL : ctx;
    }

    if (r->header_sent) {
        return NULL;
    }

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_strangler_module);

    if (!slcf->enable) {
        return NULL;
    }

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_strangler_ctx_t));
    if (ctx == NULL) {
        return NULL;
    }

    smcf = ngx_http_get_module_main_conf(r, ngx_http_strangler_module);

    route = ngx_http_strangler_route_find(&smcf->table, &r->uri,
                                          r->connection->log);

    ngx_http_strangler_split_decide(r, slcf, route, ctx);

    if (route == NULL) {
        ctx->node = smcf->unmatched;

        if (ctx->upstream->len == 0) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "strangler: no route matches \"%V\" and no "
                          "\"strangler_legacy\" is set", &r->uri);
        }
    }

    ctx->states = r->upstream_states ? r->upstream_states->nelts : 0;

    /*
     * Subrequests share the main request's pool: only the main request's
     * decision is kept behind a cleanup, and only it is counted.
     */

    if (r == r->main) {
        cln = ngx_pool_cleanup_add(r->pool, 0);
        if (cln == NULL) {
            return NULL;
        }

        cln->handler = ngx_http_strangler_cleanup;
        cln->data = ctx;

        ngx_http_strangler_shm_count_request(ctx);
    }

    ngx_http_set_ctx(r, ctx, ngx_http_strangler_module);

    return ctx;
}


/*
 * An internal redirect (error_page, try_files, a named location) and a
 * filter's finalization clear the request's module ctx.  The main
 * request's decision is found again behind its pool cleanup, as
 * ngx_http_realip_module finds the client's address, and stays the
 * decision.  If the decided side was tried before a redirect (the
 * error_page fallback of a failed service), that answer is counted now,
 * with its own status and time, and what follows is counted as the
 * route's fallback in the log phase.
 */

static ngx_http_strangler_ctx_t *
ngx_http_strangler_find_ctx(ngx_http_request_t *r)
{
    ngx_uint_t                  status;
    ngx_pool_cleanup_t         *cln;
    ngx_http_upstream_state_t  *state;
    ngx_http_strangler_ctx_t   *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_strangler_module);

    if (ctx || r != r->main || !(r->internal || r->filter_finalize)) {
        return ctx;
    }

    for (cln = r->pool->cleanup; cln; cln = cln->next) {
        if (cln->handler == ngx_http_strangler_cleanup) {
            ctx = cln->data;
            break;
        }
    }

    if (ctx == NULL) {
        return NULL;
    }

    state = ngx_http_strangler_shm_last_try(r, ctx);

    if (r->internal && !ctx->fallback && state) {
        status = state->status ? state->status : r->err_status;

        ngx_http_strangler_shm_count_response(r, ctx, status);
        ctx->fallback = 1;
    }

    ngx_http_set_ctx(r, ctx, ngx_http_strangler_module);

    return ctx;
}


/* only a mark for ngx_http_strangler_find_ctx(): the ctx is in the pool */

static void
ngx_http_strangler_cleanup(void *data)
{
}


static ngx_int_t
ngx_http_strangler_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t                 *s;
    ngx_http_strangler_ctx_t  *ctx;

    ctx = ngx_http_strangler_get_ctx(r);

    if (ctx == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    switch (data) {

    case NGX_HTTP_STRANGLER_VAR_UPSTREAM:
        s = ctx->upstream;
        break;

    case NGX_HTTP_STRANGLER_VAR_TARGET:
        s = &ngx_http_strangler_targets[ctx->target];
        break;

    case NGX_HTTP_STRANGLER_VAR_ROUTE:
        if (ctx->route == NULL) {
            v->len = 0;
            v->valid = 1;
            v->no_cacheable = 1;
            v->not_found = 0;
            v->data = (u_char *) "";
            return NGX_OK;
        }

        s = &ctx->route->name;
        break;

    default: /* NGX_HTTP_STRANGLER_VAR_REASON */
        s = &ngx_http_strangler_reasons[ctx->reason];
    }

    if (s->len == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->len = s->len;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;
    v->data = s->data;

    return NGX_OK;
}


/*
 * The route's legacy whatever was decided, and also where "strangler" is
 * off: the target of an error_page fallback when the service fails.
 */

static ngx_int_t
ngx_http_strangler_legacy_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t                       *s;
    ngx_http_strangler_ctx_t        *ctx;
    ngx_http_strangler_route_t      *route;
    ngx_http_strangler_loc_conf_t   *slcf;
    ngx_http_strangler_main_conf_t  *smcf;

    ctx = ngx_http_strangler_find_ctx(r);

    if (ctx && ctx != &ngx_http_strangler_undecided) {
        route = ctx->route;

    } else {
        smcf = ngx_http_get_module_main_conf(r, ngx_http_strangler_module);
        route = ngx_http_strangler_route_find(&smcf->table, &r->uri,
                                              r->connection->log);
    }

    if (route) {
        s = &route->upstream[NGX_HTTP_STRANGLER_LEGACY];

    } else {
        slcf = ngx_http_get_module_loc_conf(r, ngx_http_strangler_module);
        s = &slcf->legacy;
    }

    if (s->len == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->len = s->len;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;
    v->data = s->data;

    return NGX_OK;
}


/* makes and counts the decision even where no variable asks for it */

static ngx_int_t
ngx_http_strangler_preaccess_handler(ngx_http_request_t *r)
{
    ngx_http_core_loc_conf_t       *clcf;
    ngx_http_strangler_loc_conf_t  *slcf;

    /* after a redirect: the decision made before, also where "off" */

    if (ngx_http_strangler_find_ctx(r)) {
        return NGX_DECLINED;
    }

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_strangler_module);

    if (!slcf->enable) {
        return NGX_DECLINED;
    }

    /* "strangler on" inherited into the status location: not a request */

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    if (clcf->handler == ngx_http_strangler_status_handler) {
        return NGX_DECLINED;
    }

    (void) ngx_http_strangler_get_ctx(r);

    return NGX_DECLINED;
}


/*
 * The first log phase handler: counts the response of a decided request,
 * or its fallback when the decided side's answer was counted at the
 * redirect; an undecided request stays so, whatever the log handlers
 * after it read.
 */

static ngx_int_t
ngx_http_strangler_log_handler(ngx_http_request_t *r)
{
    ngx_http_strangler_ctx_t  *ctx;

    ctx = ngx_http_strangler_find_ctx(r);

    if (ctx == NULL) {
        ngx_http_set_ctx(r, &ngx_http_strangler_undecided,
                         ngx_http_strangler_module);
        return NGX_OK;
    }

    if (ctx == &ngx_http_strangler_undecided || r != r->main) {
        return NGX_OK;
    }

    if (ctx->fallback) {
        ngx_http_strangler_shm_count_fallback(ctx);

    } else {
        ngx_http_strangler_shm_count_response(r, ctx,
                                              r->err_status
                                              ? r->err_status
                                              : r->headers_out.status);
    }

    return NGX_OK;
}


/*
 * After a write that went to legacy on a read_your_writes route: the
 * cookie holds the moment the response started, so the client's reads stay
 * on legacy until the service has applied the monolith up to then.
 */

static ngx_int_t
ngx_http_strangler_header_filter(ngx_http_request_t *r)
{
    u_char                    *p;
    size_t                     len;
    ngx_table_elt_t           *h;
    ngx_http_strangler_ctx_t  *ctx;

    ctx = ngx_http_strangler_find_ctx(r);

    if (ctx == NULL || !ctx->set_rw || r != r->main || ctx->route == NULL) {
        return ngx_http_next_header_filter(r);
    }

    len = ctx->route->rw_cookie.len
          + sizeof("=; Path=/; Max-Age=; HttpOnly; SameSite=Lax") - 1
          + 2 * NGX_INT64_LEN;

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
#if (nginx_version >= 1023000)
    h->next = NULL;
#endif
    ngx_str_set(&h->key, "Set-Cookie");
    h->value.data = p;
    h->value.len = ngx_snprintf(p, len,
                                "%V=%L; Path=/; Max-Age=%d; HttpOnly; "
                                "SameSite=Lax",
                                &ctx->route->rw_cookie,
                                ngx_http_strangler_lag_now_ms(),
                                NGX_HTTP_STRANGLER_RW_MAX_AGE)
                   - p;

    return ngx_http_next_header_filter(r);
}


static ngx_int_t
ngx_http_strangler_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_strangler_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


static void *
ngx_http_strangler_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_strangler_main_conf_t  *smcf;

    smcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_strangler_main_conf_t));
    if (smcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     smcf->table = { 0 };
     *     smcf->shm_zone = NULL;
     *     smcf->sh = NULL;
     *     smcf->shpool = NULL;
     *     smcf->unmatched = NULL;
     *     smcf->legacy = { 0, NULL };
     *     smcf->status_file = { 0, NULL };
     *     smcf->status_line = 0;
     */

    if (ngx_array_init(&smcf->routes, cf->pool, 4,
                       sizeof(ngx_http_strangler_route_t *))
        != NGX_OK)
    {
        return NULL;
    }

    if (ngx_array_init(&smcf->refs, cf->pool, 4,
                       sizeof(ngx_http_strangler_upstream_ref_t))
        != NGX_OK)
    {
        return NULL;
    }

    if (ngx_array_init(&smcf->lag_sources, cf->pool, 2,
                       sizeof(ngx_http_strangler_lag_t *))
        != NGX_OK)
    {
        return NULL;
    }

    return smcf;
}


static char *
ngx_http_strangler_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_strangler_main_conf_t *smcf = conf;

    ngx_uint_t                      i;
    ngx_http_strangler_route_t    **routes;
    ngx_http_strangler_loc_conf_t  *slcf;

    /* the http level strangler_legacy is the default legacy of routes */

    slcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_strangler_module);

    if (slcf->legacy.data != NULL) {
        smcf->legacy = slcf->legacy;
    }

    routes = smcf->routes.elts;

    for (i = 0; i < smcf->routes.nelts; i++) {
        if (routes[i]->upstream[NGX_HTTP_STRANGLER_LEGACY].len) {
            continue;
        }

        if (smcf->legacy.len == 0) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "strangler_route \"%V\" has no \"legacy\" and no "
                          "\"strangler_legacy\" is set at http level "
                          "in %V:%ui",
                          &routes[i]->name, &routes[i]->file,
                          routes[i]->line);
            return NGX_CONF_ERROR;
        }

        routes[i]->upstream[NGX_HTTP_STRANGLER_LEGACY] = smcf->legacy;
    }

    if (ngx_http_strangler_route_init_table(cf, smcf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static void *
ngx_http_strangler_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_strangler_loc_conf_t  *slcf;

    slcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_strangler_loc_conf_t));
    if (slcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     slcf->legacy = { 0, NULL };
     *     slcf->override_header = { 0, NULL };
     *     slcf->override_token = { 0, NULL };
     */

    slcf->enable = NGX_CONF_UNSET;

    return slcf;
}


static char *
ngx_http_strangler_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_strangler_loc_conf_t  *prev = parent;
    ngx_http_strangler_loc_conf_t  *conf = child;

    ngx_conf_merge_value(conf->enable, prev->enable, 0);
    ngx_conf_merge_str_value(conf->legacy, prev->legacy, "");

    if (conf->override_header.data == NULL) {
        conf->override_header = prev->override_header;
        conf->override_token = prev->override_token;
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_strangler_init(ngx_conf_t *cf)
{
    ngx_uint_t                           i, j, n;
    ngx_http_handler_pt                 *h;
    ngx_http_core_main_conf_t           *cmcf;
    ngx_http_upstream_srv_conf_t       **uscfp;
    ngx_http_upstream_main_conf_t       *umcf;
    ngx_http_strangler_main_conf_t      *smcf;
    ngx_http_strangler_upstream_ref_t   *ref;

    smcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_strangler_module);

    /* every name must be an upstream{} block of this http{} */

    umcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_upstream_module);
    uscfp = umcf->upstreams.elts;
    ref = smcf->refs.elts;

    for (i = 0; i < smcf->refs.nelts; i++) {

        for (j = 0; j < umcf->upstreams.nelts; j++) {
            if ((uscfp[j]->flags & NGX_HTTP_UPSTREAM_CREATE)
                && uscfp[j]->host.len == ref[i].name.len
                && ngx_strncasecmp(uscfp[j]->host.data, ref[i].name.data,
                                   ref[i].name.len)
                   == 0)
            {
                break;
            }
        }

        if (j == umcf->upstreams.nelts) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "unknown upstream \"%V\": no upstream{} block "
                          "of that name in %V:%ui",
                          &ref[i].name, &ref[i].file, ref[i].line);
            return NGX_ERROR;
        }
    }

    if (smcf->status_line && smcf->shm_zone == NULL) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"strangler_status\" needs a \"strangler_zone\" "
                      "in %V:%ui", &smcf->status_file, smcf->status_line);
        return NGX_ERROR;
    }

    if (smcf->routes.nelts == 0 && smcf->refs.nelts == 0) {
        return NGX_OK;
    }

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_PREACCESS_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_strangler_preaccess_handler;

    /* first in the log phase: before the access log reads any variable */

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_LOG_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h = cmcf->phases[NGX_HTTP_LOG_PHASE].handlers.elts;
    n = cmcf->phases[NGX_HTTP_LOG_PHASE].handlers.nelts;

    ngx_memmove(&h[1], &h[0], (n - 1) * sizeof(ngx_http_handler_pt));
    h[0] = ngx_http_strangler_log_handler;

    if (smcf->rw_routes) {
        ngx_http_next_header_filter = ngx_http_top_header_filter;
        ngx_http_top_header_filter = ngx_http_strangler_header_filter;
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_strangler_add_upstream_ref(ngx_conf_t *cf,
    ngx_http_strangler_main_conf_t *smcf, ngx_str_t *name)
{
    ngx_http_strangler_upstream_ref_t  *ref;

    if (ngx_http_strangler_check_utf8(cf, "upstream name", name) != NGX_OK) {
        return NGX_ERROR;
    }

    ref = ngx_array_push(&smcf->refs);
    if (ref == NULL) {
        return NGX_ERROR;
    }

    ref->name = *name;
    ref->file = cf->conf_file->file.name;
    ref->line = cf->conf_file->line;

    return NGX_OK;
}


/*
 * Names shown in the status output must be UTF-8: JSON parsers and
 * Prometheus reject anything else, and one bad name would break the whole
 * output.  The message shows the bytes from 0x80 up as \xHH.
 */

ngx_int_t
ngx_http_strangler_check_utf8(ngx_conf_t *cf, char *what, ngx_str_t *name)
{
    u_char  *p, *last, *buf, *b;

    p = name->data;
    last = p + name->len;

    while (p < last) {
        if (*p < 0x80) {
            p++;
            continue;
        }

        if (ngx_utf8_decode(&p, last - p) > 0x10ffff) {
            goto invalid;
        }
    }

    return NGX_OK;

invalid:

    buf = ngx_pnalloc(cf->temp_pool, name->len * 4);
    if (buf == NULL) {
        return NGX_ERROR;
    }

    b = buf;

    for (p = name->data; p < last; p++) {
        if (*p < 0x80) {
            *b++ = *p;

        } else {
            b = ngx_sprintf(b, "\\x%02Xd", *p);
        }
    }

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "%s \"%*s\" is not valid UTF-8", what, b - buf, buf);

    return NGX_ERROR;
}


static char *
ngx_http_strangler_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_strangler_main_conf_t *smcf = conf;

    ssize_t     size;
    ngx_str_t  *value;

    value = cf->args->elts;

    if (smcf->shm_zone) {
        return "is duplicate";
    }

    if (value[1].len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone name \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    if (ngx_http_strangler_check_utf8(cf, "zone name", &value[1]) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    size = ngx_parse_size(&value[2]);

    if (size == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone size \"%V\"", &value[2]);
        return NGX_CONF_ERROR;
    }

    if (size < (ssize_t) (8 * ngx_pagesize)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "zone \"%V\" is too small: \"%V\"",
                           &value[1], &value[2]);
        return NGX_CONF_ERROR;
    }

    smcf->shm_zone = ngx_shared_memory_add(cf, &value[1], size,
                                           &ngx_http_strangler_module);
    if (smcf->shm_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    if (smcf->shm_zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "duplicate zone \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    smcf->shm_zone->init = ngx_http_strangler_shm_init_zone;
    smcf->shm_zone->data = smcf;

    return NGX_CONF_OK;
}


static char *
ngx_http_strangler_legacy(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_strangler_loc_conf_t *slcf = conf;

    ngx_str_t                       *value;
    ngx_http_strangler_main_conf_t  *smcf;

    if (slcf->legacy.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "empty upstream name in \"%V\"", &cmd->name);
        return NGX_CONF_ERROR;
    }

    slcf->legacy = value[1];

    smcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_strangler_module);

    if (ngx_http_strangler_add_upstream_ref(cf, smcf, &value[1]) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * strangler_override_header NAME TOKEN;
 * strangler_override_header NAME file=PATH;   the token is the file's first
 *                                             line, so it need not be in the
 *                                             main configuration
 */

static char *
ngx_http_strangler_override_header(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_strangler_loc_conf_t *slcf = conf;

    u_char     *p;
    ngx_str_t  *value, path, token;

    if (slcf->override_header.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid header name \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    for (p = value[1].data; p < value[1].data + value[1].len; p++) {
        if (*p <= ' ' || *p == ':' || *p >= 0x7f) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid header name \"%V\"", &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    if (value[2].len > 5 && ngx_strncmp(value[2].data, "file=", 5) == 0) {
        path.len = value[2].len - 5;
        path.data = value[2].data + 5;

        if (ngx_http_strangler_read_token(cf, &path, &token) != NGX_OK) {
            return NGX_CONF_ERROR;
        }

    } else {
        token = value[2];
    }

    /* the token is never echoed: it may be in a message only by accident */

    if (token.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "empty token in \"%V\"", &cmd->name);
        return NGX_CONF_ERROR;
    }

    for (p = token.data; p < token.data + token.len; p++) {
        if (*p <= ' ' || *p >= 0x7f) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "the token of \"%V\" has a blank or a "
                               "non-ASCII character", &cmd->name);
            return NGX_CONF_ERROR;
        }
    }

    slcf->override_header = value[1];
    slcf->override_token = token;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_strangler_read_token(ngx_conf_t *cf, ngx_str_t *path,
    ngx_str_t *token)
{
    u_char     *buf, *end;
    ssize_t     n;
    ngx_err_t   err;

    if (ngx_conf_full_name(cf->cycle, path, 1) != NGX_OK) {
        return NGX_ERROR;
    }

    buf = ngx_pnalloc(cf->pool, NGX_HTTP_STRANGLER_TOKEN_MAX);
    if (buf == NULL) {
        return NGX_ERROR;
    }

    /* never blocks: nginx -t must not hang on a FIFO at that path */

    n = ngx_http_strangler_read_file(path->data, buf,
                                     NGX_HTTP_STRANGLER_TOKEN_MAX, &err);

    if (n == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, err,
                           "token file \"%V\" cannot be read", path);
        return NGX_ERROR;
    }

    if (n == NGX_HTTP_STRANGLER_FILE_IRREGULAR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "token file \"%V\" is not a regular file", path);
        return NGX_ERROR;
    }

    if (n == NGX_HTTP_STRANGLER_FILE_TOO_LONG) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "token file \"%V\" is longer than %d bytes",
                           path, NGX_HTTP_STRANGLER_TOKEN_MAX - 1);
        return NGX_ERROR;
    }

    /* the first line, without the line end */

    for (end = buf; end < buf + n && *end != '\n' && *end != '\r'; end++) {
        /* void */
    }

    token->data = buf;
    token->len = end - buf;

    if (token->len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "token file \"%V\" is empty", path);
        return NGX_ERROR;
    }

    return NGX_OK;
}


static char *
ngx_http_strangler_status(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_core_loc_conf_t        *clcf;
    ngx_http_strangler_main_conf_t  *smcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_strangler_status_handler;

    smcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_strangler_module);

    if (smcf->status_line == 0) {
        smcf->status_file = cf->conf_file->file.name;
        smcf->status_line = cf->conf_file->line;
    }

    return NGX_CONF_OK;
}
