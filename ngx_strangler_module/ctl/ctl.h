/*
 * strangler-ctl: the operator's command for the routes file (an nginx
 * include file holding strangler_route blocks), the module's status JSON,
 * the per-service lag files and the change history.
 */

#ifndef STRANGLER_CTL_H
#define STRANGLER_CTL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <strangler/lagfile.h>
#include <strangler/route_grammar.h>


#define CTL_MAX_ROUTES     256
#define CTL_MAX_LAGMAP     64
#define CTL_ERRLEN         1024

/* how far a lag file's updated_ms may be ahead of our clock, as nginx */
#define CTL_LAG_SKEW_MS    1000


typedef struct {
    char      *name;            /* route as written: "/a/", "= /x", "~ re" */
    char      *pattern;         /* the last word: "/a/", "/x", "re" */
    int        line;            /* of "strangler_route" */
    size_t     body;            /* offset just after "{" */
    size_t     pct_off;         /* percent value token; pct_len 0: none */
    size_t     pct_len;
    uint32_t   percent100;      /* 0..10000 */
    char      *service;
    char      *legacy;
    char      *lag_source;      /* lag_source FILE, resolved as nginx
                                   would (see ctl_routes.c) */
    int64_t    lag_stale_ms;    /* its stale=, or the module's default */
    int64_t    max_lag_ms;      /* a max_lag directive; -1: none */
} ctl_route_t;


typedef struct {
    char         *file;
    char         *text;
    size_t        len;
    ctl_route_t   routes[CTL_MAX_ROUTES];
    size_t        nroutes;
} ctl_routes_t;


typedef struct {
    char  *service;             /* the route's service upstream name */
    char  *path;
} ctl_lagmap_t;


typedef struct {
    const char    *conf_file;
    char          *status_url;
    char          *routes;
    char          *nginx;
    char          *history;
    int64_t        max_lag_ms;
    int64_t        stale_ms;
    double         interval;
    ctl_lagmap_t   lag[CTL_MAX_LAGMAP];
    size_t         nlag;
    int            force;
    int            dry_run;
    const char    *keys;
    int            json;
} ctl_conf_t;


typedef struct {
    int              known;     /* 0: no lag file configured */
    int              ok;        /* parsed and fresh */
    int64_t          lag_ms;
    int64_t          age_ms;
    strangler_lag_t  raw;
    char             path[512];
    char             why[1200]; /* when !ok */
} ctl_lag_t;


/* ctl_routes.c */
int ctl_routes_load(ctl_routes_t *rt, const char *file, char *err,
    size_t errlen);
void ctl_routes_free(ctl_routes_t *rt);
ctl_route_t *ctl_routes_find(ctl_routes_t *rt, const char *name);
char *ctl_routes_edit(const ctl_routes_t *rt, const ctl_route_t *r,
    uint32_t percent100, size_t *len);
int ctl_percent_parse(const char *s, size_t len, uint32_t *out);
const char *ctl_percent_str(uint32_t percent100, char *buf, size_t size);
int ctl_duration_parse(const char *s, int64_t *ms);
int ctl_nginx_time_parse(const char *s, int64_t *ms);

/* ctl_util.c */
char *ctl_read_file(const char *file, size_t *len, char *err,
    size_t errlen);
int ctl_write_file(const char *file, const char *data, size_t len,
    mode_t mode, char *err, size_t errlen);
char *ctl_http_get(const char *url, double timeout, size_t *len, char *err,
    size_t errlen);
int ctl_run(const char *cmd, const char *args, char *out, size_t outlen);
int64_t ctl_now_ms(void);
void ctl_lag_read(const ctl_conf_t *cf, const ctl_route_t *r,
    ctl_lag_t *lag);


#endif /* STRANGLER_CTL_H */
