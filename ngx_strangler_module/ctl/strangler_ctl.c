/*
 * strangler-ctl: status, set, rollback for the routes of
 * ngx_strangler_module.  See docs/operations.md.
 *
 *   strangler-ctl status
 *   strangler-ctl set ROUTE PERCENT [--dry-run [--keys FILE]] [--force]
 *   strangler-ctl rollback ROUTE [--dry-run [--keys FILE]] [--force]
 *
 * A change edits a copy of the routes file, puts it in place with
 * rename(), runs "nginx -t" and then "nginx -s reload"; when either fails
 * the previous file is renamed back, so the running configuration and the
 * file on disk stay as they were.
 */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include <strangler/bucket.h>

#include "ctl.h"


#define CTL_DEFAULT_CONF     "/etc/strangler/ctl.conf"
#define CTL_DEFAULT_STATUS   "http://127.0.0.1/strangler/status"
#define CTL_DEFAULT_ROUTES   "/etc/nginx/strangler/routes.conf"
#define CTL_DEFAULT_NGINX    "nginx"
#define CTL_DEFAULT_MAX_LAG  5000
#define CTL_DEFAULT_STALE    10000


typedef struct {
    double    requests[2];      /* legacy, service */
    double    errors[2];        /* 5xx answers */
    uint32_t  percent100;
    int       found;
} ctl_sample_t;


static int ctl_conf_load(ctl_conf_t *cf, const char *file, int must);
static int ctl_conf_set(ctl_conf_t *cf, const char *key, const char *val,
    const char *where);
static int ctl_cmd_status(ctl_conf_t *cf);
static int ctl_cmd_change(ctl_conf_t *cf, const char *route,
    const char *percent, int rollback);
static int ctl_sample(ctl_conf_t *cf, ctl_routes_t *rt, ctl_sample_t *s,
    char *err, size_t errlen);
static int ctl_history_previous(ctl_conf_t *cf, const char *route,
    uint32_t current, uint32_t *prev, char *err, size_t errlen);
static int ctl_history_add(ctl_conf_t *cf, const char *route, uint32_t old,
    uint32_t new, const char *action);
static int ctl_dry_run(ctl_conf_t *cf, ctl_route_t *r, uint32_t old,
    uint32_t new);
static int ctl_apply(ctl_conf_t *cf, ctl_routes_t *rt, ctl_route_t *r,
    uint32_t new);
static void ctl_confirm(ctl_conf_t *cf, ctl_routes_t *rt, ctl_route_t *r,
    uint32_t new);
static void ctl_usage(FILE *out);


static const struct option  ctl_options[] = {
    { "config",     required_argument, NULL, 'c' },
    { "status-url", required_argument, NULL, 'u' },
    { "routes",     required_argument, NULL, 'r' },
    { "nginx",      required_argument, NULL, 'n' },
    { "history",    required_argument, NULL, 'H' },
    { "lag-file",   required_argument, NULL, 'l' },
    { "max-lag",    required_argument, NULL, 'm' },
    { "interval",   required_argument, NULL, 'i' },
    { "keys",       required_argument, NULL, 'k' },
    { "dry-run",    no_argument,       NULL, 'd' },
    { "force",      no_argument,       NULL, 'f' },
    { "json",       no_argument,       NULL, 'j' },
    { "help",       no_argument,       NULL, 'h' },
    { "version",    no_argument,       NULL, 'V' },
    { NULL, 0, NULL, 0 }
};


static void
ctl_usage(FILE *out)
{
    fprintf(out,
        "usage: strangler-ctl [options] status\n"
        "       strangler-ctl [options] set ROUTE PERCENT\n"
        "       strangler-ctl [options] rollback ROUTE\n"
        "\n"
        "  -c, --config FILE      ctl config (default $STRANGLER_CTL_CONF"
        " or " CTL_DEFAULT_CONF ")\n"
        "  -u, --status-url URL   the module's status JSON\n"
        "  -r, --routes FILE      the nginx include with strangler_route"
        " blocks\n"
        "  -n, --nginx CMD        nginx command, e.g. \"nginx -p DIR -c"
        " FILE\"\n"
        "  -H, --history FILE     change history (default ROUTES.history)\n"
        "  -l, --lag-file SVC=FILE  lag file of the upstream SVC\n"
        "  -m, --max-lag DUR      refuse to raise a share above this lag"
        " (5s)\n"
        "  -i, --interval SEC     status: sampling interval for rates (1)\n"
        "  -d, --dry-run          show what would change, change nothing\n"
        "  -k, --keys FILE        with --dry-run: client keys, one a line\n"
        "  -f, --force            change even when the lag is too high or"
        " unknown\n"
        "  -j, --json             status: print JSON\n"
        "  -V, --version          print the version and exit\n"
        "\n"
        "Environment: STRANGLER_STATUS_URL, STRANGLER_ROUTES,"
        " STRANGLER_NGINX,\nSTRANGLER_HISTORY (the command line wins).\n");
}


static int
ctl_conf_set(ctl_conf_t *cf, const char *key, const char *val,
    const char *where)
{
    char         **slot;
    const char    *eq, *sp;
    ctl_lagmap_t  *m;

    slot = NULL;

    if (strcmp(key, "status_url") == 0) {
        slot = &cf->status_url;

    } else if (strcmp(key, "routes") == 0) {
        slot = &cf->routes;

    } else if (strcmp(key, "nginx") == 0) {
        slot = &cf->nginx;

    } else if (strcmp(key, "history") == 0) {
        slot = &cf->history;

    } else if (strcmp(key, "max_lag") == 0) {
        if (ctl_duration_parse(val, &cf->max_lag_ms) != 0) {
            fprintf(stderr, "strangler-ctl: %s: invalid max_lag \"%s\"\n",
                    where, val);
            return -1;
        }
        return 0;

    } else if (strcmp(key, "stale_after") == 0) {
        if (ctl_duration_parse(val, &cf->stale_ms) != 0) {
            fprintf(stderr, "strangler-ctl: %s: invalid stale_after "
                    "\"%s\"\n", where, val);
            return -1;
        }
        return 0;

    } else if (strcmp(key, "lag_file") == 0) {
        /* "SERVICE PATH" in the file, "SERVICE=PATH" on the command line */
        eq = strchr(val, '=');
        sp = strpbrk(val, " \t");
        if (eq == NULL || (sp && sp < eq)) {
            eq = sp;
        }

        if (eq == NULL || eq == val || eq[1] == '\0'
            || cf->nlag == CTL_MAX_LAGMAP)
        {
            fprintf(stderr, "strangler-ctl: %s: invalid lag_file \"%s\", "
                    "want \"UPSTREAM PATH\"\n", where, val);
            return -1;
        }

        m = &cf->lag[cf->nlag];
        m->service = strndup(val, (size_t) (eq - val));
        for (sp = eq + 1; *sp == ' ' || *sp == '\t'; sp++) { /* void */ }
        m->path = strdup(sp);

        if (m->service == NULL || m->path == NULL) {
            fprintf(stderr, "strangler-ctl: out of memory\n");
            return -1;
        }

        cf->nlag++;
        return 0;

    } else {
        fprintf(stderr, "strangler-ctl: %s: unknown key \"%s\"\n", where,
                key);
        return -1;
    }

    free(*slot);
    *slot = strdup(val);

    if (*slot == NULL) {
        fprintf(stderr, "strangler-ctl: out of memory\n");
        return -1;
    }

    return 0;
}


/* "key = value" lines, "#" comments */
static int
ctl_conf_load(ctl_conf_t *cf, const char *file, int must)
{
    int      line;
    char    *text, *p, *nl, *eq, *k, *v, *e, where[600];
    size_t   len;
    char     err[CTL_ERRLEN];

    if (access(file, F_OK) != 0 && !must) {
        return 0;
    }

    text = ctl_read_file(file, &len, err, sizeof(err));
    if (text == NULL) {
        fprintf(stderr, "strangler-ctl: %s\n", err);
        return -1;
    }

    line = 0;

    for (p = text; p && *p; p = nl) {
        line++;
        nl = strchr(p, '\n');
        if (nl) {
            *nl++ = '\0';
        }

        e = strchr(p, '#');
        if (e) {
            *e = '\0';
        }

        for (k = p; *k == ' ' || *k == '\t'; k++) { /* void */ }
        if (*k == '\0') {
            continue;
        }

        snprintf(where, sizeof(where), "%s:%d", file, line);

        eq = strchr(k, '=');
        if (eq == NULL) {
            fprintf(stderr, "strangler-ctl: %s: expected \"key = value\", "
                    "got \"%s\"\n", where, k);
            free(text);
            return -1;
        }

        for (e = eq; e > k && (e[-1] == ' ' || e[-1] == '\t'); e--) {
            /* void */
        }
        *e = '\0';

        for (v = eq + 1; *v == ' ' || *v == '\t'; v++) { /* void */ }
        for (e = v + strlen(v);
             e > v && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r');
             e--)
        {
            /* void */
        }
        *e = '\0';

        if (ctl_conf_set(cf, k, v, where) != 0) {
            free(text);
            return -1;
        }
    }

    free(text);

    return 0;
}


int
main(int argc, char **argv)
{
    int          c, rc;
    char        *conf_opt, *v, where[64];
    const char  *cmd;
    size_t       i;
    ctl_conf_t   cf;
    struct {
        int          key;
        const char  *name;
        const char  *val;
    } cli[32];
    size_t       ncli;

    static const struct {
        const char  *env;
        const char  *key;
    } envs[] = {
        { "STRANGLER_STATUS_URL", "status_url" },
        { "STRANGLER_ROUTES", "routes" },
        { "STRANGLER_NGINX", "nginx" },
        { "STRANGLER_HISTORY", "history" },
        { NULL, NULL }
    };

    memset(&cf, 0, sizeof(ctl_conf_t));
    cf.max_lag_ms = CTL_DEFAULT_MAX_LAG;
    cf.stale_ms = CTL_DEFAULT_STALE;
    cf.interval = 1.0;
    conf_opt = NULL;
    ncli = 0;

    while ((c = getopt_long(argc, argv, "c:u:r:n:H:l:m:i:k:dfjhV",
                            ctl_options, NULL))
           != -1)
    {
        switch (c) {

        case 'c':
            conf_opt = optarg;
            break;

        case 'u': case 'r': case 'n': case 'H': case 'l': case 'm':
            if (ncli == sizeof(cli) / sizeof(cli[0])) {
                fprintf(stderr, "strangler-ctl: too many options\n");
                return 2;
            }
            cli[ncli].key = c;
            cli[ncli].name = c == 'u' ? "status_url"
                             : c == 'r' ? "routes"
                             : c == 'n' ? "nginx"
                             : c == 'H' ? "history"
                             : c == 'l' ? "lag_file" : "max_lag";
            cli[ncli].val = optarg;
            ncli++;
            break;

        case 'i':
            cf.interval = strtod(optarg, &v);
            if (*v != '\0' || cf.interval < 0 || cf.interval > 60) {
                fprintf(stderr, "strangler-ctl: invalid --interval "
                        "\"%s\"\n", optarg);
                return 2;
            }
            break;

        case 'k':
            cf.keys = optarg;
            break;

        case 'd':
            cf.dry_run = 1;
            break;

        case 'f':
            cf.force = 1;
            break;

        case 'j':
            cf.json = 1;
            break;

        case 'h':
            ctl_usage(stdout);
            return 0;

        case 'V':
            printf("strangler-ctl %s\n", STRANGLER_VERSION);
            return 0;

        default:
            ctl_usage(stderr);
            return 2;
        }
    }

    if (conf_opt) {
        cf.conf_file = conf_opt;
        rc = ctl_conf_load(&cf, conf_opt, 1);

    } else {
        cf.conf_file = getenv("STRANGLER_CTL_CONF");
        rc = ctl_conf_load(&cf, cf.conf_file ? cf.conf_file
                                             : CTL_DEFAULT_CONF,
                           cf.conf_file != NULL);
    }

    if (rc != 0) {
        rc = 2;
        goto done;
    }

    for (i = 0; envs[i].env; i++) {
        v = getenv(envs[i].env);
        if (v && *v) {
            snprintf(where, sizeof(where), "$%s", envs[i].env);
            if (ctl_conf_set(&cf, envs[i].key, v, where) != 0) {
                rc = 2;
                goto done;
            }
        }
    }

    for (i = 0; i < ncli; i++) {
        snprintf(where, sizeof(where), "--%s",
                 cli[i].key == 'u' ? "status-url"
                 : cli[i].key == 'l' ? "lag-file"
                 : cli[i].key == 'm' ? "max-lag" : cli[i].name);
        if (ctl_conf_set(&cf, cli[i].name, cli[i].val, where) != 0) {
            rc = 2;
            goto done;
        }
    }

    if ((cf.status_url == NULL
         && ctl_conf_set(&cf, "status_url", CTL_DEFAULT_STATUS, "default"))
        || (cf.routes == NULL
            && ctl_conf_set(&cf, "routes", CTL_DEFAULT_ROUTES, "default"))
        || (cf.nginx == NULL
            && ctl_conf_set(&cf, "nginx", CTL_DEFAULT_NGINX, "default")))
    {
        rc = 2;
        goto done;
    }

    /* edit the file itself when the routes path is a symbolic link */

    v = realpath(cf.routes, NULL);
    if (v != NULL) {
        free(cf.routes);
        cf.routes = v;
    }

    if (cf.history == NULL) {
        if (asprintf(&cf.history, "%s.history", cf.routes) == -1) {
            fprintf(stderr, "strangler-ctl: out of memory\n");
            rc = 2;
            goto done;
        }
    }

    if (optind >= argc) {
        ctl_usage(stderr);
        rc = 2;
        goto done;
    }

    cmd = argv[optind];

    if (strcmp(cmd, "status") == 0 && argc - optind == 1) {
        rc = ctl_cmd_status(&cf);

    } else if (strcmp(cmd, "set") == 0 && argc - optind == 3) {
        rc = ctl_cmd_change(&cf, argv[optind + 1], argv[optind + 2], 0);

    } else if (strcmp(cmd, "rollback") == 0 && argc - optind == 2) {
        rc = ctl_cmd_change(&cf, argv[optind + 1], NULL, 1);

    } else {
        fprintf(stderr, "strangler-ctl: unknown command or wrong arguments:"
                " \"%s\"\n\n", cmd);
        ctl_usage(stderr);
        rc = 2;
    }

done:

    free(cf.status_url);
    free(cf.routes);
    free(cf.nginx);
    free(cf.history);

    for (i = 0; i < cf.nlag; i++) {
        free(cf.lag[i].service);
        free(cf.lag[i].path);
    }

    return rc;
}


/* ---------------------------------------------------------------- status */

static double
ctl_json_num(json_t *v)
{
    return json_is_number(v) ? json_number_value(v) : 0;
}


/*
 * One reading of the status JSON into s[i] for each route of rt (by the
 * route's name).  See ngx_http_strangler_status.c for the document.
 */
static int
ctl_sample(ctl_conf_t *cf, ctl_routes_t *rt, ctl_sample_t *s, char *err,
    size_t errlen)
{
    char          *body;
    size_t         len, i, t, idx;
    json_t        *doc, *routes, *route, *targets, *tg, *resp, *v;
    const char    *name, *tname;
    json_error_t   jerr;

    static const char  *tnames[2] = { "legacy", "service" };

    body = ctl_http_get(cf->status_url, 5.0, &len, err, errlen);
    if (body == NULL) {
        return -1;
    }

    doc = json_loadb(body, len, 0, &jerr);
    free(body);

    if (doc == NULL) {
        snprintf(err, errlen, "%s: not JSON: %s (line %d)", cf->status_url,
                 jerr.text, jerr.line);
        return -1;
    }

    routes = json_object_get(doc, "routes");

    if (!json_is_array(routes)) {
        snprintf(err, errlen, "%s: no \"routes\" array", cf->status_url);
        json_decref(doc);
        return -1;
    }

    memset(s, 0, sizeof(ctl_sample_t) * rt->nroutes);

    json_array_foreach(routes, idx, route) {
        name = json_string_value(json_object_get(route, "route"));
        if (name == NULL) {
            name = json_string_value(json_object_get(route, "name"));
        }

        for (i = 0; name && i < rt->nroutes; i++) {
            if (strcmp(rt->routes[i].name, name) != 0
                && strcmp(rt->routes[i].pattern, name) != 0)
            {
                continue;
            }

            s[i].found = 1;
            v = json_object_get(route, "percent");
            s[i].percent100 = (uint32_t) (ctl_json_num(v) * 100 + 0.5);

            targets = json_object_get(route, "targets");

            for (t = 0; t < 2; t++) {
                tname = tnames[t];
                tg = json_object_get(targets ? targets : route, tname);
                if (tg == NULL) {
                    continue;
                }

                s[i].requests[t] = ctl_json_num(json_object_get(tg,
                                                                "requests"));
                resp = json_object_get(tg, "responses");
                s[i].errors[t] = ctl_json_num(json_object_get(resp, "5xx"));
            }
        }
    }

    json_decref(doc);

    return 0;
}


static int
ctl_cmd_status(ctl_conf_t *cf)
{
    int              rc, have;
    char             err[CTL_ERRLEN], p[32], lagbuf[64], *text;
    size_t           i, t;
    double           dt, rate[2], erate[2], dreq, derr;
    json_t          *out, *jr, *side;
    ctl_lag_t        lag;
    ctl_route_t     *r;
    ctl_routes_t     rt;
    ctl_sample_t    *a, *b;
    struct timespec  ts0, ts1;

    if (ctl_routes_load(&rt, cf->routes, err, sizeof(err)) != 0) {
        fprintf(stderr, "strangler-ctl: %s\n", err);
        ctl_routes_free(&rt);
        return 1;
    }

    a = calloc(rt.nroutes + 1, sizeof(ctl_sample_t));
    b = calloc(rt.nroutes + 1, sizeof(ctl_sample_t));

    if (a == NULL || b == NULL) {
        fprintf(stderr, "strangler-ctl: out of memory\n");
        free(a);
        free(b);
        ctl_routes_free(&rt);
        return 1;
    }

    rc = 0;
    dt = 0;

    clock_gettime(CLOCK_MONOTONIC, &ts0);
    have = ctl_sample(cf, &rt, a, err, sizeof(err)) == 0;

    if (have && cf->interval > 0) {
        usleep((useconds_t) (cf->interval * 1e6));
        have = ctl_sample(cf, &rt, b, err, sizeof(err)) == 0;
        clock_gettime(CLOCK_MONOTONIC, &ts1);
        dt = (double) (ts1.tv_sec - ts0.tv_sec)
             + (double) (ts1.tv_nsec - ts0.tv_nsec) / 1e9;

    } else if (have) {
        memcpy(b, a, sizeof(ctl_sample_t) * rt.nroutes);
        memset(a, 0, sizeof(ctl_sample_t) * rt.nroutes);
    }

    if (!have) {
        fprintf(stderr, "strangler-ctl: status unavailable: %s\n", err);
        rc = 1;
    }

    out = cf->json ? json_array() : NULL;

    if (!cf->json) {
        printf("%-24s %7s  %-22s %-22s %s\n", "ROUTE", "PERCENT",
               dt > 0 ? "LEGACY req/s  err%" : "LEGACY requests  err%",
               dt > 0 ? "SERVICE req/s  err%" : "SERVICE requests err%",
               "LAG");
    }

    for (i = 0; i < rt.nroutes; i++) {
        r = &rt.routes[i];
        ctl_lag_read(cf, r, &lag);

        for (t = 0; t < 2; t++) {
            dreq = b[i].requests[t] - a[i].requests[t];
            derr = b[i].errors[t] - a[i].errors[t];
            rate[t] = dt > 0 ? dreq / dt : dreq;
            erate[t] = dreq > 0 ? 100.0 * derr / dreq : 0;
        }

        if (lag.ok) {
            snprintf(lagbuf, sizeof(lagbuf), "%.2fs", lag.lag_ms / 1000.0);

        } else {
            snprintf(lagbuf, sizeof(lagbuf), "%s",
                     lag.known ? "unknown" : "-");
        }

        if (cf->json) {
            jr = json_object();
            json_object_set_new(jr, "route", json_string(r->name));
            json_object_set_new(jr, "percent",
                                json_real(r->percent100 / 100.0));
            json_object_set_new(jr, "service",
                                json_string(r->service ? r->service : ""));
            if (have) {
                json_object_set_new(jr, "running_percent",
                                    json_real(b[i].percent100 / 100.0));
            }

            for (t = 0; t < 2 && have; t++) {
                side = json_object();
                json_object_set_new(side, dt > 0 ? "rps" : "requests",
                                    json_real(rate[t]));
                json_object_set_new(side, "error_pct", json_real(erate[t]));
                json_object_set_new(jr, t ? "service_side" : "legacy_side",
                                    side);
            }

            json_object_set_new(jr, "lag_ms", lag.ok
                                ? json_integer(lag.lag_ms) : json_null());
            if (!lag.ok) {
                json_object_set_new(jr, "lag_note", json_string(lag.why));
            }
            json_array_append_new(out, jr);
            continue;
        }

        printf("%-24s %7s  %10.1f %6.2f%%     %10.1f %6.2f%%     %s",
               r->name, ctl_percent_str(r->percent100, p, sizeof(p)),
               rate[0], erate[0], rate[1], erate[1], lagbuf);

        if (lag.known && !lag.ok) {
            printf("  (%s)", lag.why);
        }

        if (have && !b[i].found) {
            printf("  [not in running nginx: reload pending?]");

        } else if (have && b[i].percent100 != r->percent100) {
            printf("  [running nginx has %s%%: reload pending?]",
                   ctl_percent_str(b[i].percent100, p, sizeof(p)));
        }

        printf("\n");
    }

    if (cf->json) {
        text = json_dumps(out, JSON_INDENT(2));
        if (text) {
            printf("%s\n", text);
            free(text);
        }
        json_decref(out);
    }

    free(a);
    free(b);
    ctl_routes_free(&rt);

    return rc;
}


/* ---------------------------------------------------------------- history */

/*
 * The history file has one change a line, tab-separated:
 *
 *   2026-11-22T03:10:00Z route=/api/orders/ old=10 new=50 user=alice
 *       action=set
 *
 * "rollback" walks it as a stack: each set pushes its old percent, each
 * rollback pops one, and the top is where the next rollback goes.
 */
static int
ctl_history_previous(ctl_conf_t *cf, const char *route, uint32_t current,
    uint32_t *prev, char *err, size_t errlen)
{
    char      *text, *line, *nl, *f, *save, *name, *act;
    size_t     len, n, cap;
    uint32_t  *stack, *ns, old, v;
    int        have_old;

    text = ctl_read_file(cf->history, &len, err, errlen);
    if (text == NULL) {
        return -1;
    }

    stack = NULL;
    n = 0;
    cap = 0;

    for (line = text; line && *line; line = nl) {
        nl = strchr(line, '\n');
        if (nl) {
            *nl++ = '\0';
        }

        name = NULL;
        act = NULL;
        have_old = 0;
        old = 0;

        for (f = strtok_r(line, "\t", &save); f;
             f = strtok_r(NULL, "\t", &save))
        {
            if (strncmp(f, "route=", 6) == 0) {
                name = f + 6;

            } else if (strncmp(f, "old=", 4) == 0) {
                have_old = ctl_percent_parse(f + 4, strlen(f + 4), &v) == 0;
                old = v;

            } else if (strncmp(f, "action=", 7) == 0) {
                act = f + 7;
            }
        }

        if (name == NULL || strcmp(name, route) != 0 || !have_old) {
            continue;
        }

        if (act && strcmp(act, "rollback") == 0) {
            if (n > 0) {
                n--;
            }
            continue;
        }

        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            ns = realloc(stack, cap * sizeof(uint32_t));
            if (ns == NULL) {
                snprintf(err, errlen, "out of memory");
                free(stack);
                free(text);
                return -1;
            }
            stack = ns;
        }

        stack[n++] = old;
    }

    free(text);

    if (n == 0) {
        free(stack);
        snprintf(err, errlen, "%s: no earlier percent recorded for route "
                 "\"%s\"", cf->history, route);
        return -1;
    }

    *prev = stack[n - 1];
    free(stack);

    (void) current;

    return 0;
}


static int
ctl_history_add(ctl_conf_t *cf, const char *route, uint32_t old,
    uint32_t new, const char *action)
{
    int             fd, n;
    char            line[1024], ts[32], po[32], pn[32];
    const char     *user;
    time_t          now;
    struct tm       tm;
    struct passwd  *pw;

    user = getenv("SUDO_USER");
    if (user == NULL || *user == '\0') {
        pw = getpwuid(getuid());
        user = pw ? pw->pw_name : getenv("USER");
    }

    now = time(NULL);
    gmtime_r(&now, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);

    n = snprintf(line, sizeof(line),
                 "%s\troute=%s\told=%s\tnew=%s\tuser=%s\taction=%s\n",
                 ts, route, ctl_percent_str(old, po, sizeof(po)),
                 ctl_percent_str(new, pn, sizeof(pn)),
                 user ? user : "unknown", action);

    if (n < 0 || (size_t) n >= sizeof(line)) {
        fprintf(stderr, "strangler-ctl: history line too long for route "
                "\"%s\"\n", route);
        return -1;
    }

    fd = open(cf->history, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd == -1) {
        fprintf(stderr, "strangler-ctl: %s: %s\n", cf->history,
                strerror(errno));
        return -1;
    }

    if (write(fd, line, (size_t) n) != n) {
        fprintf(stderr, "strangler-ctl: %s: write: %s\n", cf->history,
                strerror(errno));
        close(fd);
        return -1;
    }

    if (close(fd) == -1) {
        fprintf(stderr, "strangler-ctl: %s: close: %s\n", cf->history,
                strerror(errno));
        return -1;
    }

    return 0;
}


/* ---------------------------------------------------------------- changes */

static int
ctl_dry_run(ctl_conf_t *cf, ctl_route_t *r, uint32_t old, uint32_t new)
{
    char        *text, *line, *nl, err[CTL_ERRLEN], po[32], pn[32];
    size_t       len, total, moved, klen;
    uint32_t     bucket;
    const char  *dir;

    ctl_percent_str(old, po, sizeof(po));
    ctl_percent_str(new, pn, sizeof(pn));
    dir = new > old ? "legacy -> service" : "service -> legacy";

    printf("dry run: route %s: %s%% -> %s%%\n", r->name, po, pn);
    printf("share of keys that would move (%s): %s%%\n",
           new == old ? "none" : dir,
           ctl_percent_str(new > old ? new - old : old - new, po,
                           sizeof(po)));

    if (cf->keys == NULL) {
        printf("nothing changed\n");
        return 0;
    }

    text = ctl_read_file(cf->keys, &len, err, sizeof(err));
    if (text == NULL) {
        fprintf(stderr, "strangler-ctl: %s\n", err);
        return 1;
    }

    total = 0;
    moved = 0;

    for (line = text; line && *line; line = nl) {
        nl = strchr(line, '\n');
        if (nl) {
            *nl++ = '\0';
        }

        klen = strlen(line);
        if (klen && line[klen - 1] == '\r') {
            line[--klen] = '\0';
        }

        if (klen == 0) {
            continue;
        }

        total++;
        bucket = strangler_bucket((const unsigned char *) r->name,
                                  strlen(r->name),
                                  (const unsigned char *) line, klen);

        if (strangler_to_service(bucket, old)
            != strangler_to_service(bucket, new))
        {
            moved++;
            printf("move\t%s\t%s\tbucket=%u\n", line, dir, bucket);
        }
    }

    free(text);

    printf("keys: %zu, would move: %zu (%.2f%%)\n", total, moved,
           total ? 100.0 * (double) moved / (double) total : 0.0);
    printf("nothing changed\n");

    return 0;
}


static int
ctl_apply(ctl_conf_t *cf, ctl_routes_t *rt, ctl_route_t *r, uint32_t new)
{
    int          rc, lockfd;
    char        *text, *tmp, *old, *lock, out[8192], err[CTL_ERRLEN];
    size_t       len;
    struct stat  st;

    text = NULL;
    tmp = NULL;
    old = NULL;
    lock = NULL;
    lockfd = -1;
    rc = 1;

    if (asprintf(&tmp, "%s.ctl-new", cf->routes) == -1
        || asprintf(&old, "%s.ctl-old", cf->routes) == -1
        || asprintf(&lock, "%s.lock", cf->routes) == -1)
    {
        fprintf(stderr, "strangler-ctl: out of memory\n");
        goto done;
    }

    lockfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lockfd == -1 || flock(lockfd, LOCK_EX | LOCK_NB) == -1) {
        fprintf(stderr, "strangler-ctl: %s: %s (another strangler-ctl "
                "running?)\n", lock, strerror(errno));
        goto done;
    }

    if (stat(cf->routes, &st) == -1) {
        fprintf(stderr, "strangler-ctl: %s: %s\n", cf->routes,
                strerror(errno));
        goto done;
    }

    /* another change may have landed between our read and the lock */

    text = ctl_read_file(cf->routes, &len, err, sizeof(err));
    if (text == NULL) {
        fprintf(stderr, "strangler-ctl: %s; nothing changed\n", err);
        goto done;
    }

    if (len != rt->len || memcmp(text, rt->text, len) != 0) {
        fprintf(stderr, "strangler-ctl: %s changed while this command ran;"
                " nothing changed, try again\n", cf->routes);
        goto done;
    }

    free(text);
    text = NULL;

    text = ctl_routes_edit(rt, r, new, &len);
    if (text == NULL) {
        fprintf(stderr, "strangler-ctl: out of memory\n");
        goto done;
    }

    /* the copy to restore, and the edited copy, beside the file */

    if (ctl_write_file(old, rt->text, rt->len, st.st_mode & 07777, err,
                       sizeof(err))
        != 0
        || ctl_write_file(tmp, text, len, st.st_mode & 07777, err,
                          sizeof(err))
           != 0)
    {
        fprintf(stderr, "strangler-ctl: %s; nothing changed\n", err);
        unlink(tmp);
        unlink(old);
        goto done;
    }

    if (rename(tmp, cf->routes) == -1) {
        fprintf(stderr, "strangler-ctl: rename %s to %s: %s; nothing "
                "changed\n", tmp, cf->routes, strerror(errno));
        unlink(tmp);
        unlink(old);
        goto done;
    }

    rc = ctl_run(cf->nginx, "-t", out, sizeof(out));

    if (rc != 0) {
        if (rename(old, cf->routes) == -1) {
            fprintf(stderr, "strangler-ctl: CANNOT RESTORE %s from %s: %s\n",
                    cf->routes, old, strerror(errno));
            rc = 1;
            goto done;
        }

        fprintf(stderr, "strangler-ctl: \"%s -t\" failed (exit %d); %s "
                "restored, nginx not reloaded:\n%s", cf->nginx, rc,
                cf->routes, out);
        rc = 1;
        goto done;
    }

    rc = ctl_run(cf->nginx, "-s reload", out, sizeof(out));

    if (rc != 0) {
        if (rename(old, cf->routes) == -1) {
            fprintf(stderr, "strangler-ctl: CANNOT RESTORE %s from %s: %s\n",
                    cf->routes, old, strerror(errno));
            rc = 1;
            goto done;
        }

        fprintf(stderr, "strangler-ctl: \"%s -s reload\" failed (exit %d);"
                " %s restored:\n%s", cf->nginx, rc, cf->routes, out);
        rc = 1;
        goto done;
    }

    if (unlink(old) == -1) {
        fprintf(stderr, "strangler-ctl: warning: %s: %s\n", old,
                strerror(errno));
    }

    rc = 0;

done:

    if (lockfd != -1) {
        close(lockfd);
    }

    free(text);
    free(tmp);
    free(old);
    free(lock);

    return rc;
}


/* after a reload, wait briefly for the running nginx to show the percent */
static void
ctl_confirm(ctl_conf_t *cf, ctl_routes_t *rt, ctl_route_t *r, uint32_t new)
{
    int            i, seen;
    char           err[CTL_ERRLEN], p[32];
    size_t         idx;
    ctl_sample_t  *s;

    s = calloc(rt->nroutes, sizeof(ctl_sample_t));
    if (s == NULL) {
        return;
    }

    idx = (size_t) (r - rt->routes);
    seen = 0;

    for (i = 0; i < 50; i++) {
        if (ctl_sample(cf, rt, s, err, sizeof(err)) != 0) {
            printf("note: could not confirm through the status url: %s\n",
                   err);
            free(s);
            return;
        }

        /* old workers may answer a little longer: want a few in a row */

        if (s[idx].found && s[idx].percent100 == new) {
            if (++seen == 3) {
                printf("confirmed: running nginx routes %s%% of %s to the "
                       "service\n", ctl_percent_str(new, p, sizeof(p)),
                       r->name);
                free(s);
                return;
            }

        } else {
            seen = 0;
        }

        usleep(100000);
    }

    printf("warning: after the reload the status url still shows %s%% for "
           "%s; is %s the file nginx includes?\n",
           ctl_percent_str(s[idx].percent100, p, sizeof(p)), r->name,
           cf->routes);
    free(s);
}


static int
ctl_cmd_change(ctl_conf_t *cf, const char *name, const char *percent,
    int rollback)
{
    int            rc;
    char           err[CTL_ERRLEN], po[32], pn[32], lim[32];
    size_t         i;
    uint32_t       new;
    ctl_lag_t      lag;
    ctl_route_t   *r;
    ctl_routes_t   rt;
    int64_t        max_lag;

    if (ctl_routes_load(&rt, cf->routes, err, sizeof(err)) != 0) {
        fprintf(stderr, "strangler-ctl: %s; nothing changed\n", err);
        ctl_routes_free(&rt);
        return 1;
    }

    rc = 1;

    r = ctl_routes_find(&rt, name);
    if (r == NULL) {
        fprintf(stderr, "strangler-ctl: %s has no route \"%s\"; it has:",
                cf->routes, name);
        for (i = 0; i < rt.nroutes; i++) {
            fprintf(stderr, " \"%s\"", rt.routes[i].name);
        }
        fprintf(stderr, "\n");
        goto done;
    }

    if (rollback) {
        if (ctl_history_previous(cf, r->name, r->percent100, &new, err,
                                 sizeof(err))
            != 0)
        {
            fprintf(stderr, "strangler-ctl: cannot roll back: %s\n", err);
            goto done;
        }

    } else if (ctl_percent_parse(percent, strlen(percent), &new) != 0) {
        fprintf(stderr, "strangler-ctl: invalid percent \"%s\": want "
                "0..100 in steps of 0.01\n", percent);
        goto done;
    }

    ctl_percent_str(r->percent100, po, sizeof(po));
    ctl_percent_str(new, pn, sizeof(pn));

    if (cf->dry_run) {
        rc = ctl_dry_run(cf, r, r->percent100, new);
        goto done;
    }

    if (new == r->percent100 && !rollback) {
        printf("route %s is already at %s%%; nothing changed\n", r->name,
               pn);
        rc = 0;
        goto done;
    }

    /* only a larger share for the service depends on its data being fresh */

    if (new > r->percent100) {
        ctl_lag_read(cf, r, &lag);
        max_lag = r->max_lag_ms >= 0 ? r->max_lag_ms : cf->max_lag_ms;
        snprintf(lim, sizeof(lim), "%.3gs", max_lag / 1000.0);

        if (lag.known && !lag.ok) {
            if (!cf->force) {
                fprintf(stderr, "strangler-ctl: refusing to raise %s from "
                        "%s%% to %s%%: service lag unknown: %s (use --force "
                        "to override); nothing changed\n", r->name, po, pn,
                        lag.why);
                goto done;
            }
            printf("warning: service lag unknown (%s); forced\n", lag.why);

        } else if (lag.ok && lag.lag_ms > max_lag) {
            if (!cf->force) {
                fprintf(stderr, "strangler-ctl: refusing to raise %s from "
                        "%s%% to %s%%: service \"%s\" lag is %.2fs, over "
                        "%s (%s; use --force to override); nothing "
                        "changed\n", r->name, po, pn, r->service,
                        lag.lag_ms / 1000.0, lim, lag.path);
                goto done;
            }
            printf("warning: service lag %.2fs is over %s; forced\n",
                   lag.lag_ms / 1000.0, lim);

        } else if (!lag.known) {
            printf("note: %s; lag not checked\n", lag.why);
        }
    }

    if (ctl_apply(cf, &rt, r, new) != 0) {
        goto done;
    }

    printf("route %s: %s%% -> %s%% (%s), nginx reloaded\n", r->name, po, pn,
           rollback ? "rollback" : "set");

    if (ctl_history_add(cf, r->name, r->percent100, new,
                        rollback ? "rollback" : "set")
        != 0)
    {
        fprintf(stderr, "strangler-ctl: warning: the change is live but "
                "not recorded in %s\n", cf->history);
        rc = 1;
        goto done;
    }

    ctl_confirm(cf, &rt, r, new);
    rc = 0;

done:

    ctl_routes_free(&rt);

    return rc;
}
