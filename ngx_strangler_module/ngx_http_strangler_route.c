
/*
 * ngx_strangler_module: the route table.
 *
 * strangler_route blocks are matched like location: an exact route ("= /x")
 * wins at once; otherwise the longest matching prefix is remembered, then
 * regex routes ("~ re", "~* re") are tried in the order declared and the
 * first match wins; with no regex match (or when the prefix route was
 * declared "^~ /x") the remembered prefix is used.
 *
 * Exact routes are a sorted array searched by bisection.  Prefix routes are
 * a sorted array too: bisection finds P, the greatest pattern not above the
 * URI.  Every route pattern that is a prefix of the URI is also a prefix of
 * P (anything between a prefix q of the URI and the URI itself in byte
 * order starts with q), so the answer is in P's chain of prefixes, each a
 * prefix of the URI iff its length is at most the common prefix length of P
 * and the URI: a second bisection over the chain.  Both are O(log n)
 * comparisons in the number of routes.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <strangler/route_grammar.h>

#include "ngx_http_strangler_module.h"
#include "ngx_http_strangler_route.h"


typedef struct {
    ngx_str_t                     name;
    ngx_uint_t                    method;
} ngx_http_strangler_method_t;


static char *ngx_http_strangler_route_directive(ngx_conf_t *cf,
    ngx_command_t *dummy, void *conf);
static char *ngx_http_strangler_route_upstream(ngx_conf_t *cf,
    ngx_http_strangler_route_t *route, ngx_str_t *value);
static char *ngx_http_strangler_route_methods(ngx_conf_t *cf,
    ngx_http_strangler_route_t *route);
static char *ngx_http_strangler_route_lag(ngx_conf_t *cf,
    ngx_http_strangler_route_t *route);
static char *ngx_http_strangler_route_rw_cookie(ngx_conf_t *cf,
    ngx_http_strangler_route_t *route);
static ngx_int_t ngx_http_strangler_route_finish(ngx_conf_t *cf,
    ngx_http_strangler_route_t *route);
static ngx_uint_t ngx_http_strangler_route_kind(ngx_uint_t match);
static ngx_int_t ngx_http_strangler_route_cmp(ngx_str_t *a, ngx_str_t *b);
static int ngx_libc_cdecl ngx_http_strangler_route_cmp_exact(const void *one,
    const void *two);
static int ngx_libc_cdecl ngx_http_strangler_route_cmp_prefix(
    const void *one, const void *two);


static ngx_http_strangler_method_t  ngx_http_strangler_methods[] = {
    { ngx_string("GET"), NGX_HTTP_GET },
    { ngx_string("HEAD"), NGX_HTTP_HEAD },
    { ngx_string("POST"), NGX_HTTP_POST },
    { ngx_string("PUT"), NGX_HTTP_PUT },
    { ngx_string("DELETE"), NGX_HTTP_DELETE },
    { ngx_string("PATCH"), NGX_HTTP_PATCH },
    { ngx_string("OPTIONS"), NGX_HTTP_OPTIONS },
    { ngx_string("TRACE"), NGX_HTTP_TRACE },
    { ngx_string("MKCOL"), NGX_HTTP_MKCOL },
    { ngx_string("COPY"), NGX_HTTP_COPY },
    { ngx_string("MOVE"), NGX_HTTP_MOVE },
    { ngx_string("PROPFIND"), NGX_HTTP_PROPFIND },
    { ngx_string("PROPPATCH"), NGX_HTTP_PROPPATCH },
    { ngx_string("LOCK"), NGX_HTTP_LOCK },
    { ngx_string("UNLOCK"), NGX_HTTP_UNLOCK },
    { ngx_null_string, 0 }
};


char *
ngx_http_strangler_route_block(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_strangler_main_conf_t *smcf = conf;

    char                         *rv;
    u_char                       *p;
    ngx_str_t                    *value, *mod;
    ngx_uint_t                    i, kind;
    ngx_conf_t                    save;
    ngx_regex_compile_t           rc;
    ngx_http_strangler_route_t   *route, **rp, **routes;
    u_char                        errstr[NGX_MAX_CONF_ERRSTR];

    value = cf->args->elts;

    route = ngx_pcalloc(cf->pool, sizeof(ngx_http_strangler_route_t));
    if (route == NULL) {
        return NGX_CONF_ERROR;
    }

    mod = NULL;

    if (cf->args->nelts == 2) {
        route->match = NGX_HTTP_STRANGLER_PREFIX;
        route->pattern = value[1];

    } else {
        mod = &value[1];
        route->pattern = value[2];

        if (mod->len == 1 && mod->data[0] == '=') {
            route->match = NGX_HTTP_STRANGLER_EXACT;

        } else if (mod->len == 2 && ngx_strncmp(mod->data, "^~", 2) == 0) {
            route->match = NGX_HTTP_STRANGLER_PREFIX_NOREGEX;

        } else if (mod->len == 1 && mod->data[0] == '~') {
            route->match = NGX_HTTP_STRANGLER_REGEX;

        } else if (mod->len == 2 && ngx_strncmp(mod->data, "~*", 2) == 0) {
            route->match = NGX_HTTP_STRANGLER_REGEX_CASELESS;

        } else {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid strangler_route modifier \"%V\"", mod);
            return NGX_CONF_ERROR;
        }
    }

    if (route->pattern.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "empty strangler_route pattern");
        return NGX_CONF_ERROR;
    }

    /* the name hashed and shown: the route's head as written, normalized */

    if (mod == NULL) {
        route->name = route->pattern;

    } else {
        route->name.len = mod->len + 1 + route->pattern.len;
        route->name.data = ngx_pnalloc(cf->pool, route->name.len);
        if (route->name.data == NULL) {
            return NGX_CONF_ERROR;
        }

        p = ngx_cpymem(route->name.data, mod->data, mod->len);
        *p++ = ' ';
        ngx_memcpy(p, route->pattern.data, route->pattern.len);
    }

    if (ngx_http_strangler_check_utf8(cf, "strangler_route", &route->name)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    route->file = cf->conf_file->file.name;
    route->line = cf->conf_file->line;

    kind = ngx_http_strangler_route_kind(route->match);
    routes = smcf->routes.elts;

    for (i = 0; i < smcf->routes.nelts; i++) {
        if (ngx_http_strangler_route_kind(routes[i]->match) == kind
            && ngx_http_strangler_route_cmp(&routes[i]->pattern,
                                            &route->pattern) == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "duplicate strangler_route \"%V\", "
                               "first declared in %V:%ui",
                               &route->name, &routes[i]->file,
                               routes[i]->line);
            return NGX_CONF_ERROR;
        }
    }

    if (route->match == NGX_HTTP_STRANGLER_REGEX
        || route->match == NGX_HTTP_STRANGLER_REGEX_CASELESS)
    {
        ngx_memzero(&rc, sizeof(ngx_regex_compile_t));

        rc.pattern = route->pattern;
        rc.pool = cf->pool;
        rc.err.len = NGX_MAX_CONF_ERRSTR;
        rc.err.data = errstr;

        if (route->match == NGX_HTTP_STRANGLER_REGEX_CASELESS) {
            rc.options = NGX_REGEX_CASELESS;
        }

        /* ngx_regex_compile() ties the compiled regex to cf->pool */

        if (ngx_regex_compile(&rc) != NGX_OK) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid strangler_route regex \"%V\": %V",
                               &route->pattern, &rc.err);
            return NGX_CONF_ERROR;
        }

        route->regex = rc.regex;
    }

    route->percent = NGX_CONF_UNSET_UINT;
    route->max_lag = NGX_CONF_UNSET_MSEC;
    route->rw = NGX_CONF_UNSET;

    save = *cf;
    cf->handler = ngx_http_strangler_route_directive;
    cf->handler_conf = (char *) route;

    rv = ngx_conf_parse(cf, NULL);

    *cf = save;

    if (rv != NGX_CONF_OK) {
        return rv;
    }

    if (route->upstream[NGX_HTTP_STRANGLER_SERVICE].len == 0) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "strangler_route \"%V\" has no \"service\" in %V:%ui",
                      &route->name, &route->file, route->line);
        return NGX_CONF_ERROR;
    }

    if (route->percent == NGX_CONF_UNSET_UINT) {
        route->percent = 0;
    }

    if (ngx_http_strangler_route_finish(cf, route) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (route->rw) {
        smcf->rw_routes++;
    }

    rp = ngx_array_push(&smcf->routes);
    if (rp == NULL) {
        return NGX_CONF_ERROR;
    }

    *rp = route;

    return NGX_CONF_OK;
}


static char *
ngx_http_strangler_route_directive(ngx_conf_t *cf, ngx_command_t *dummy,
    void *conf)
{
    ngx_http_strangler_route_t  *route = conf;

    ngx_int_t                           n;
    ngx_str_t                          *value, *name;
    ngx_http_compile_complex_value_t    ccv;
    const strangler_route_directive_t  *d;

    value = cf->args->elts;
    name = &value[0];

    /* the grammar strangler-ctl reads too (strangler/route_grammar.h) */

    d = strangler_route_directive((const char *) name->data, name->len);

    if (d == NULL) {
        goto unknown;
    }

    if (cf->args->nelts - 1 < d->min_args
        || cf->args->nelts - 1 > d->max_args)
    {
        goto invalid;
    }

    if (name->len == 7 && ngx_strncmp(name->data, "service", 7) == 0) {
        if (cf->args->nelts != 2) {
            goto invalid;
        }

        return ngx_http_strangler_route_upstream(cf, route,
                                  &route->upstream[NGX_HTTP_STRANGLER_SERVICE]);
    }

    if (name->len == 6 && ngx_strncmp(name->data, "legacy", 6) == 0) {
        if (cf->args->nelts != 2) {
            goto invalid;
        }

        return ngx_http_strangler_route_upstream(cf, route,
                                   &route->upstream[NGX_HTTP_STRANGLER_LEGACY]);
    }

    if (name->len == 7 && ngx_strncmp(name->data, "percent", 7) == 0) {
        if (cf->args->nelts != 2) {
            goto invalid;
        }

        if (route->percent != NGX_CONF_UNSET_UINT) {
            return "is duplicate";
        }

        n = ngx_http_strangler_route_parse_percent(&value[1]);
        if (n == NGX_ERROR) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid percent \"%V\" in strangler_route "
                               "\"%V\", expected 0..100 in steps of 0.01",
                               &value[1], &route->name);
            return NGX_CONF_ERROR;
        }

        route->percent = n;

        return NGX_CONF_OK;
    }

    if (name->len == 3 && ngx_strncmp(name->data, "key", 3) == 0) {
        if (cf->args->nelts != 2) {
            goto invalid;
        }

        if (route->key != NULL) {
            return "is duplicate";
        }

        route->key = ngx_palloc(cf->pool, sizeof(ngx_http_complex_value_t));
        if (route->key == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

        ccv.cf = cf;
        ccv.value = &value[1];
        ccv.complex_value = route->key;

        if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
            return NGX_CONF_ERROR;
        }

        return NGX_CONF_OK;
    }

    if (name->len == 7 && ngx_strncmp(name->data, "methods", 7) == 0) {
        if (cf->args->nelts < 2) {
            goto invalid;
        }

        return ngx_http_strangler_route_methods(cf, route);
    }

    if (name->len == 7 && ngx_strncmp(name->data, "max_lag", 7) == 0) {
        if (cf->args->nelts != 2) {
            goto invalid;
        }

        if (route->max_lag != NGX_CONF_UNSET_MSEC) {
            return "is duplicate";
        }

        n = ngx_parse_time(&value[1], 0);
        if (n == NGX_ERROR) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid max_lag \"%V\" in strangler_route "
                               "\"%V\"", &value[1], &route->name);
            return NGX_CONF_ERROR;
        }

        route->max_lag = (ngx_msec_t) n;

        return NGX_CONF_OK;
    }

    if (name->len == 10 && ngx_strncmp(name->data, "lag_source", 10) == 0) {
        if (cf->args->nelts != 2 && cf->args->nelts != 3) {
            goto invalid;
        }

        return ngx_http_strangler_route_lag(cf, route);
    }

    if (name->len == 16
        && ngx_strncmp(name->data, "read_your_writes", 16) == 0)
    {
        if (cf->args->nelts != 2) {
            goto invalid;
        }

        if (route->rw != NGX_CONF_UNSET) {
            return "is duplicate";
        }

        if (ngx_strcmp(value[1].data, "on") == 0) {
            route->rw = 1;

        } else if (ngx_strcmp(value[1].data, "off") == 0) {
            route->rw = 0;

        } else {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid value \"%V\" in \"%V\", it must be "
                               "\"on\" or \"off\"", &value[1], name);
            return NGX_CONF_ERROR;
        }

        return NGX_CONF_OK;
    }

    if (name->len == 23
        && ngx_strncmp(name->data, "read_your_writes_cookie", 23) == 0)
    {
        if (cf->args->nelts != 2) {
            goto invalid;
        }

        return ngx_http_strangler_route_rw_cookie(cf, route);
    }

unknown:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "unknown directive \"%V\" in strangler_route \"%V\"",
                       name, &route->name);

    return NGX_CONF_ERROR;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid number of arguments in \"%V\" "
                       "of strangler_route \"%V\"", name, &route->name);

    return NGX_CONF_ERROR;
}


static char *
ngx_http_strangler_route_upstream(ngx_conf_t *cf,
    ngx_http_strangler_route_t *route, ngx_str_t *upstream)
{
    ngx_str_t                        *value;
    ngx_http_strangler_main_conf_t   *smcf;

    value = cf->args->elts;

    if (upstream->len) {
        return "is duplicate";
    }

    if (value[1].len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "empty upstream name in \"%V\"", &value[0]);
        return NGX_CONF_ERROR;
    }

    *upstream = value[1];

    smcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_strangler_module);

    if (ngx_http_strangler_add_upstream_ref(cf, smcf, &value[1]) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_strangler_route_methods(ngx_conf_t *cf,
    ngx_http_strangler_route_t *route)
{
    ngx_str_t                    *value;
    ngx_uint_t                    i;
    ngx_http_strangler_method_t  *m;

    if (route->methods) {
        return "is duplicate";
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        for (m = ngx_http_strangler_methods; m->name.len; m++) {
            if (m->name.len == value[i].len
                && ngx_strncmp(m->name.data, value[i].data, value[i].len)
                   == 0)
            {
                break;
            }
        }

        if (m->name.len == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "unknown method \"%V\" in strangler_route "
                               "\"%V\"", &value[i], &route->name);
            return NGX_CONF_ERROR;
        }

        route->methods |= m->method;
    }

    return NGX_CONF_OK;
}


/* lag_source FILE [stale=TIME]; */

static char *
ngx_http_strangler_route_lag(ngx_conf_t *cf, ngx_http_strangler_route_t *route)
{
    ngx_int_t                        stale;
    ngx_str_t                       *value, s;
    ngx_http_strangler_main_conf_t  *smcf;

    if (route->lag) {
        return "is duplicate";
    }

    value = cf->args->elts;
    stale = NGX_HTTP_STRANGLER_LAG_STALE;

    if (value[1].len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "empty lag_source in strangler_route \"%V\"",
                           &route->name);
        return NGX_CONF_ERROR;
    }

    if (cf->args->nelts == 3) {
        if (value[2].len <= 6
            || ngx_strncmp(value[2].data, STRANGLER_LAG_STALE_PARAM, 6) != 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\" of lag_source",
                               &value[2]);
            return NGX_CONF_ERROR;
        }

        s.len = value[2].len - 6;
        s.data = value[2].data + 6;

        stale = ngx_parse_time(&s, 0);
        if (stale == NGX_ERROR || stale == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid stale time \"%V\" of lag_source",
                               &s);
            return NGX_CONF_ERROR;
        }
    }

    smcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_strangler_module);

    route->lag = ngx_http_strangler_lag_add(cf, smcf, &value[1],
                                            (ngx_msec_t) stale);
    if (route->lag == NULL) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_strangler_route_rw_cookie(ngx_conf_t *cf,
    ngx_http_strangler_route_t *route)
{
    u_char     *p;
    ngx_str_t  *value;

    if (route->rw_cookie.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    /* it becomes $cookie_NAME: letters, digits and "_" only */

    for (p = value[1].data; p < value[1].data + value[1].len; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
              || (*p >= '0' && *p <= '9') || *p == '_'))
        {
            break;
        }
    }

    if (value[1].len == 0 || p != value[1].data + value[1].len) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid cookie name \"%V\" in strangler_route "
                           "\"%V\", use letters, digits and \"_\"",
                           &value[1], &route->name);
        return NGX_CONF_ERROR;
    }

    route->rw_cookie = value[1];

    return NGX_CONF_OK;
}


/* the lag gate and read-your-writes need a lag file */

static ngx_int_t
ngx_http_strangler_route_finish(ngx_conf_t *cf,
    ngx_http_strangler_route_t *route)
{
    u_char                            *p;
    ngx_str_t                          v;
    ngx_http_compile_complex_value_t   ccv;

    if (route->rw == NGX_CONF_UNSET) {
        route->rw = 0;
    }

    if ((route->max_lag != NGX_CONF_UNSET_MSEC || route->rw)
        && route->lag == NULL)
    {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "strangler_route \"%V\" has \"%s\" but no "
                      "\"lag_source\" in %V:%ui", &route->name,
                      route->rw ? "read_your_writes" : "max_lag",
                      &route->file, route->line);
        return NGX_ERROR;
    }

    if (!route->rw) {
        return NGX_OK;
    }

    if (route->rw_cookie.data == NULL) {
        ngx_str_set(&route->rw_cookie, "strangler_rw");
    }

    v.len = sizeof("$cookie_") - 1 + route->rw_cookie.len;
    v.data = ngx_pnalloc(cf->pool, v.len);
    if (v.data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(v.data, "$cookie_", sizeof("$cookie_") - 1);
    ngx_memcpy(p, route->rw_cookie.data, route->rw_cookie.len);

    route->rw_value = ngx_palloc(cf->pool, sizeof(ngx_http_complex_value_t));
    if (route->rw_value == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

    ccv.cf = cf;
    ccv.value = &v;
    ccv.complex_value = route->rw_value;

    if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * Returns the percent in hundredths (0..10000) or NGX_ERROR: digits, and
 * optionally a dot and one or two more digits, at most 100.
 */

ngx_int_t
ngx_http_strangler_route_parse_percent(ngx_str_t *value)
{
    u_char      *p, *end;
    ngx_uint_t   whole, frac, nwhole, nfrac;

    p = value->data;
    end = p + value->len;
    whole = 0;
    frac = 0;
    nwhole = 0;
    nfrac = 0;

    for ( /* void */ ; p < end && *p >= '0' && *p <= '9'; p++) {
        if (++nwhole > 3) {
            return NGX_ERROR;
        }

        whole = whole * 10 + (*p - '0');
    }

    if (nwhole == 0) {
        return NGX_ERROR;
    }

    if (p < end) {
        if (*p++ != '.') {
            return NGX_ERROR;
        }

        for ( /* void */ ; p < end; p++) {
            if (*p < '0' || *p > '9' || ++nfrac > 2) {
                return NGX_ERROR;
            }

            frac = frac * 10 + (*p - '0');
        }

        if (nfrac == 0) {
            return NGX_ERROR;
        }

        if (nfrac == 1) {
            frac *= 10;
        }
    }

    whole = whole * 100 + frac;

    if (whole > NGX_HTTP_STRANGLER_PERCENT_MAX) {
        return NGX_ERROR;
    }

    return (ngx_int_t) whole;
}


ngx_int_t
ngx_http_strangler_route_init_table(ngx_conf_t *cf,
    ngx_http_strangler_main_conf_t *smcf)
{
    ngx_uint_t                     i, j, depth;
    ngx_http_strangler_route_t   **routes, **rp, **stack;
    ngx_http_strangler_table_t    *t;
    ngx_http_strangler_prefix_t   *px;

    t = &smcf->table;

    if (ngx_array_init(&t->exact, cf->pool, 4,
                       sizeof(ngx_http_strangler_route_t *))
        != NGX_OK
        || ngx_array_init(&t->prefix, cf->pool, 4,
                          sizeof(ngx_http_strangler_prefix_t))
           != NGX_OK
        || ngx_array_init(&t->regex, cf->pool, 4,
                          sizeof(ngx_http_strangler_route_t *))
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    routes = smcf->routes.elts;

    for (i = 0; i < smcf->routes.nelts; i++) {

        switch (routes[i]->match) {

        case NGX_HTTP_STRANGLER_EXACT:
            rp = ngx_array_push(&t->exact);
            if (rp == NULL) {
                return NGX_ERROR;
            }

            *rp = routes[i];
            break;

        case NGX_HTTP_STRANGLER_PREFIX:
        case NGX_HTTP_STRANGLER_PREFIX_NOREGEX:
            px = ngx_array_push(&t->prefix);
            if (px == NULL) {
                return NGX_ERROR;
            }

            px->route = routes[i];
            px->chain = NULL;
            px->nchain = 0;
            break;

        default: /* regex */
            rp = ngx_array_push(&t->regex);
            if (rp == NULL) {
                return NGX_ERROR;
            }

            *rp = routes[i];
        }
    }

    if (t->exact.nelts > 1) {
        ngx_qsort(t->exact.elts, t->exact.nelts,
                  sizeof(ngx_http_strangler_route_t *),
                  ngx_http_strangler_route_cmp_exact);
    }

    if (t->prefix.nelts == 0) {
        return NGX_OK;
    }

    ngx_qsort(t->prefix.elts, t->prefix.nelts,
              sizeof(ngx_http_strangler_prefix_t),
              ngx_http_strangler_route_cmp_prefix);

    /*
     * In sorted order the patterns starting with P follow P directly, so a
     * stack of the patterns that are prefixes of the current one gives
     * every chain in one pass.
     */

    stack = ngx_palloc(cf->temp_pool,
                       t->prefix.nelts * sizeof(ngx_http_strangler_route_t *));
    if (stack == NULL) {
        return NGX_ERROR;
    }

    px = t->prefix.elts;
    depth = 0;

    for (i = 0; i < t->prefix.nelts; i++) {

        while (depth > 0
               && (stack[depth - 1]->pattern.len > px[i].route->pattern.len
                   || ngx_memcmp(stack[depth - 1]->pattern.data,
                                 px[i].route->pattern.data,
                                 stack[depth - 1]->pattern.len)
                      != 0))
        {
            depth--;
        }

        stack[depth++] = px[i].route;

        px[i].nchain = depth;
        px[i].chain = ngx_palloc(cf->pool,
                                 depth * sizeof(ngx_http_strangler_route_t *));
        if (px[i].chain == NULL) {
            return NGX_ERROR;
        }

        for (j = 0; j < depth; j++) {
            px[i].chain[j] = stack[j];
        }
    }

    return NGX_OK;
}


ngx_http_strangler_route_t *
ngx_http_strangler_route_find(ngx_http_strangler_table_t *table,
    ngx_str_t *uri, ngx_log_t *log)
{
    size_t                         m, n;
    ngx_int_t                      rc;
    ngx_uint_t                     lo, hi, mid, i;
    ngx_http_strangler_route_t   **exact, **regex, *best;
    ngx_http_strangler_prefix_t   *px;

    /* exact */

    exact = table->exact.elts;
    lo = 0;
    hi = table->exact.nelts;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        rc = ngx_http_strangler_route_cmp(&exact[mid]->pattern, uri);

        if (rc == 0) {
            return exact[mid];
        }

        if (rc < 0) {
            lo = mid + 1;

        } else {
            hi = mid;
        }
    }

    /* the greatest prefix pattern not above the URI */

    best = NULL;
    px = table->prefix.elts;
    lo = 0;
    hi = table->prefix.nelts;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;

        if (ngx_http_strangler_route_cmp(&px[mid].route->pattern, uri) <= 0) {
            lo = mid + 1;

        } else {
            hi = mid;
        }
    }

    if (lo > 0) {
        px = &px[lo - 1];

        n = ngx_min(px->route->pattern.len, uri->len);

        for (m = 0; m < n; m++) {
            if (px->route->pattern.data[m] != uri->data[m]) {
                break;
            }
        }

        /* the longest chain entry no longer than m */

        lo = 0;
        hi = px->nchain;

        while (lo < hi) {
            mid = lo + (hi - lo) / 2;

            if (px->chain[mid]->pattern.len <= m) {
                lo = mid + 1;

            } else {
                hi = mid;
            }
        }

        if (lo > 0) {
            best = px->chain[lo - 1];

            if (best->match == NGX_HTTP_STRANGLER_PREFIX_NOREGEX) {
                return best;
            }
        }
    }

    regex = table->regex.elts;

    for (i = 0; i < table->regex.nelts; i++) {
        rc = ngx_regex_exec(regex[i]->regex, uri, NULL, 0);

        if (rc >= 0) {
            return regex[i];
        }

        if (rc != NGX_REGEX_NO_MATCHED) {
            ngx_log_error(NGX_LOG_ALERT, log, 0,
                          ngx_regex_exec_n " failed: %i on \"%V\" using "
                          "\"%V\"", rc, uri, &regex[i]->pattern);
        }
    }

    return best;
}


/* exact, prefix (with or without ^~), ~ and ~* are four namespaces */

static ngx_uint_t
ngx_http_strangler_route_kind(ngx_uint_t match)
{
    if (match == NGX_HTTP_STRANGLER_PREFIX_NOREGEX) {
        return NGX_HTTP_STRANGLER_PREFIX;
    }

    return match;
}


static ngx_int_t
ngx_http_strangler_route_cmp(ngx_str_t *a, ngx_str_t *b)
{
    ngx_int_t  rc;

    rc = ngx_memcmp(a->data, b->data, ngx_min(a->len, b->len));

    if (rc != 0) {
        return rc;
    }

    return (a->len > b->len) - (a->len < b->len);
}


static int ngx_libc_cdecl
ngx_http_strangler_route_cmp_exact(const void *one, const void *two)
{
    ngx_http_strangler_route_t  *const *a = one;
    ngx_http_strangler_route_t  *const *b = two;

    return (int) ngx_http_strangler_route_cmp(&(*a)->pattern, &(*b)->pattern);
}


static int ngx_libc_cdecl
ngx_http_strangler_route_cmp_prefix(const void *one, const void *two)
{
    const ngx_http_strangler_prefix_t  *a = one;
    const ngx_http_strangler_prefix_t  *b = two;

    return (int) ngx_http_strangler_route_cmp(&a->route->pattern,
                                              &b->route->pattern);
}
