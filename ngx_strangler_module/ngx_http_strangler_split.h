
/*
 * ngx_strangler_module: the decision for one request.
 */


#ifndef _NGX_HTTP_STRANGLER_SPLIT_H_INCLUDED_
#define _NGX_HTTP_STRANGLER_SPLIT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_strangler_module.h"
#include "ngx_http_strangler_route.h"


void ngx_http_strangler_split_decide(ngx_http_request_t *r,
    ngx_http_strangler_loc_conf_t *slcf, ngx_http_strangler_route_t *route,
    ngx_http_strangler_ctx_t *ctx);


#endif /* _NGX_HTTP_STRANGLER_SPLIT_H_INCLUDED_ */
