/*
 * strangler: the directives of a strangler_route block, the grammar the
 * nginx module parses (ngx_http_strangler_route.c) and strangler-ctl
 * reads (ctl_routes.c).  The module refuses a directive not listed here,
 * so a new one is added here first and both programs know it.
 *
 *   service   UPSTREAM;
 *   legacy    UPSTREAM;
 *   percent   0..100;                  steps of 0.01
 *   key       VALUE;                   with variables
 *   methods   METHOD ...;
 *   max_lag   TIME;                    nginx time: 500ms, 2s, 1m30s
 *   lag_source FILE [stale=TIME];      a lag file (lagfile.h); older than
 *                                      stale (default 2s) is unknown lag
 *   read_your_writes on|off;
 *   read_your_writes_cookie NAME;
 *
 * A relative lag_source FILE is resolved by nginx against its
 * configuration directory.
 */

#ifndef STRANGLER_ROUTE_GRAMMAR_H
#define STRANGLER_ROUTE_GRAMMAR_H

#include <stddef.h>
#include <string.h>


/* a lag file older than this is stale, unless lag_source says otherwise */
#define STRANGLER_LAG_STALE_MS       2000

#define STRANGLER_LAG_STALE_PARAM    "stale="


typedef struct {
    const char  *name;
    unsigned     min_args;      /* arguments after the name */
    unsigned     max_args;
} strangler_route_directive_t;


/* The directive called name (len bytes), or NULL when there is none. */
static inline const strangler_route_directive_t *
strangler_route_directive(const char *name, size_t len)
{
    size_t  i;

    static const strangler_route_directive_t  directives[] = {
        { "service", 1, 1 },
        { "legacy", 1, 1 },
        { "percent", 1, 1 },
        { "key", 1, 1 },
        { "methods", 1, 64 },
        { "max_lag", 1, 1 },
        { "lag_source", 1, 2 },
        { "read_your_writes", 1, 1 },
        { "read_your_writes_cookie", 1, 1 },
        { NULL, 0, 0 }
    };

    for (i = 0; directives[i].name; i++) {
        if (strlen(directives[i].name) == len
            && memcmp(directives[i].name, name, len) == 0)
        {
            return &directives[i];
        }
    }

    return NULL;
}


#endif /* STRANGLER_ROUTE_GRAMMAR_H */
