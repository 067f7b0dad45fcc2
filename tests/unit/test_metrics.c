/*
 * cdc-bridge metrics: Prometheus text rendering (names, HELP/TYPE, label
 * escaping, histograms), the rules promtool enforces, `promtool check
 * metrics` on a rendered registry, and the loopback HTTP endpoints.
 */

#include <arpa/inet.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"
#include "metrics.h"


static char *
render(cdc_metrics_t *m)
{
    char    *out;
    size_t   len;

    assert_int_equal(cdc_metrics_render(m, &out, &len), 0);
    assert_non_null(out);
    assert_int_equal(strlen(out), len);

    return out;
}


static void
assert_contains(const char *hay, const char *needle)
{
    if (strstr(hay, needle) == NULL) {
        print_error("missing:\n%s\nin:\n%s\n", needle, hay);
        fail();
    }
}


static void
test_counter_gauge_format(void **state)
{
    cdc_metrics_t  *m;
    cdc_metric_t   *c, *g;
    cdc_series_t   *s1, *s2, *u;
    char           *out;

    m = cdc_metrics_create();
    assert_non_null(m);

    c = cdc_metrics_counter(m, "events_total", "Row events produced.",
                            "table,op");
    assert_non_null(c);
    s1 = cdc_metric_series(c, "shop.orders", "c", NULL);
    s2 = cdc_metric_series(c, "shop.orders", "u", NULL);
    assert_non_null(s1);
    assert_non_null(s2);
    assert_ptr_not_equal(s1, s2);
    /* same values, same series */
    assert_ptr_equal(cdc_metric_series(c, "shop.orders", "c", NULL), s1);

    cdc_series_add(s1, 3);
    cdc_series_add(s1, 2);
    cdc_series_add(s2, 1);
    cdc_series_add(s2, -5);             /* counters never go down */
    assert_true(cdc_series_value(s1) == 5);
    assert_true(cdc_series_value(s2) == 1);

    g = cdc_metrics_gauge(m, "cdc_bridge_lag_seconds",
                          "Seconds behind the source.", NULL);
    assert_non_null(g);
    u = cdc_metric_series(g, NULL);
    assert_non_null(u);
    cdc_series_set(u, 0.25);

    /* asking again returns the same family */
    assert_ptr_equal(cdc_metrics_counter(m, "events_total", "x",
                                         "table,op"), c);

    out = render(m);

    assert_string_equal(out,
        "# HELP cdc_bridge_events_total Row events produced.\n"
        "# TYPE cdc_bridge_events_total counter\n"
        "cdc_bridge_events_total{table=\"shop.orders\",op=\"c\"} 5\n"
        "cdc_bridge_events_total{table=\"shop.orders\",op=\"u\"} 1\n"
        "# HELP cdc_bridge_lag_seconds Seconds behind the source.\n"
        "# TYPE cdc_bridge_lag_seconds gauge\n"
        "cdc_bridge_lag_seconds 0.25\n");

    free(out);
    cdc_metrics_destroy(m);
}


static void
test_label_escaping(void **state)
{
    cdc_metrics_t  *m;
    cdc_metric_t   *g;
    char           *out;

    m = cdc_metrics_create();
    g = cdc_metrics_gauge(m, "weird", "Help with \\ and\nnewline \"q\".",
                          "v");
    assert_non_null(g);
    cdc_series_set(cdc_metric_series(g, "a\\b\"c\nd", NULL), 1);
    cdc_series_set(cdc_metric_series(g, "caf\xc3\xa9", NULL), 2);

    out = render(m);

    /* HELP escapes \ and newline; label values also escape " */
    assert_contains(out, "# HELP cdc_bridge_weird Help with \\\\ and\\n"
                    "newline \"q\".\n");
    assert_contains(out, "cdc_bridge_weird{v=\"a\\\\b\\\"c\\nd\"} 1\n");
    assert_contains(out, "cdc_bridge_weird{v=\"caf\xc3\xa9\"} 2\n");

    free(out);
    cdc_metrics_destroy(m);
}


static void
test_histogram(void **state)
{
    static const double  b[] = { 0.1, 1, 10 };
    cdc_metrics_t       *m;
    cdc_metric_t        *h;
    cdc_series_t        *s;
    char                *out;

    m = cdc_metrics_create();
    h = cdc_metrics_histogram(m, "apply_seconds", "Batch apply time.",
                              "service", b, 3);
    assert_non_null(h);
    s = cdc_metric_series(h, "orders", NULL);
    cdc_series_observe(s, 0.05);
    cdc_series_observe(s, 0.1);         /* le is inclusive */
    cdc_series_observe(s, 5);
    cdc_series_observe(s, 50);
    assert_true(cdc_series_value(s) == 4);

    out = render(m);

    assert_string_equal(out,
        "# HELP cdc_bridge_apply_seconds Batch apply time.\n"
        "# TYPE cdc_bridge_apply_seconds histogram\n"
        "cdc_bridge_apply_seconds_bucket{service=\"orders\",le=\"0.1\"} 2\n"
        "cdc_bridge_apply_seconds_bucket{service=\"orders\",le=\"1\"} 2\n"
        "cdc_bridge_apply_seconds_bucket{service=\"orders\",le=\"10\"} 3\n"
        "cdc_bridge_apply_seconds_bucket{service=\"orders\",le=\"+Inf\"} 4\n"
        "cdc_bridge_apply_seconds_sum{service=\"orders\"} 55.15\n"
        "cdc_bridge_apply_seconds_count{service=\"orders\"} 4\n");

    free(out);
    cdc_metrics_destroy(m);
}


static void
test_name_rules(void **state)
{
    cdc_metrics_t  *m;
    cdc_metric_t   *c;

    cdc_log_set_level(-1);              /* the refusals log; keep quiet */
    m = cdc_metrics_create();

    /* promtool's rules: counters end in _total, and only they */
    assert_null(cdc_metrics_counter(m, "events", "h", NULL));
    assert_null(cdc_metrics_gauge(m, "lag_total", "h", NULL));
    assert_null(cdc_metrics_gauge(m, "x_count", "h", NULL));
    assert_null(cdc_metrics_gauge(m, "bad-name", "h", NULL));
    assert_null(cdc_metrics_gauge(m, "a b", "h", NULL));
    assert_null(cdc_metrics_gauge(m, "nohelp", "", NULL));
    assert_null(cdc_metrics_gauge(m, "badlabel", "h", "ok,bad-label"));
    assert_null(cdc_metrics_gauge(m, "reserved", "h", "__x"));
    assert_null(cdc_metrics_histogram(m, "h_seconds", "h", "le", NULL, 0));
    assert_null(cdc_metrics_gauge(m, "many", "h", "a,b,c,d,e"));

    /* a clash with another type or other labels */
    c = cdc_metrics_counter(m, "x_total", "h", "a");
    assert_non_null(c);
    assert_null(cdc_metrics_counter(m, "x_total", "h", "b"));

    /* wrong number of label values: NULL, and NULL series are no-ops */
    assert_null(cdc_metric_series(c, NULL));
    assert_null(cdc_metric_series(c, "1", "2", NULL));
    cdc_series_add(NULL, 1);
    cdc_series_set(NULL, 1);
    cdc_series_observe(NULL, 1);

    cdc_metrics_destroy(m);
    cdc_log_set_level(CDC_LOG_INFO);
}


static void
fill(cdc_metrics_t *m)
{
    cdc_metric_t  *c, *g, *h;

    c = cdc_metrics_counter(m, "events_total", "Row events produced.",
                            "table,op");
    g = cdc_metrics_gauge(m, "lag_seconds", "Seconds behind the source.",
                          "service");
    h = cdc_metrics_histogram(m, "apply_seconds", "Batch apply time.",
                              "service", NULL, 0);

    cdc_series_add(cdc_metric_series(c, "shop.orders", "c", NULL), 7);
    cdc_series_add(cdc_metric_series(c, "sh\"op\\x\n", "d", NULL), 1);
    cdc_series_set(cdc_metric_series(g, "orders", NULL), 1.5);
    cdc_series_observe(cdc_metric_series(h, "orders", NULL), 0.003);
    cdc_series_observe(cdc_metric_series(h, "orders", NULL), 2);
}


static void
test_promtool_accepts(void **state)
{
    cdc_metrics_t  *m;
    char           *out;
    FILE           *p;
    int             rc;

    if (system("command -v promtool >/dev/null 2>&1") != 0) {
        print_error("promtool is not installed (Debian: prometheus)\n");
        fail();
    }

    m = cdc_metrics_create();
    fill(m);
    out = render(m);

    p = popen("promtool check metrics", "w");
    assert_non_null(p);
    assert_true(fputs(out, p) >= 0);
    rc = pclose(p);

    if (rc != 0) {
        print_error("promtool check metrics failed (%d) on:\n%s\n", rc, out);
        fail();
    }

    free(out);
    cdc_metrics_destroy(m);
}


static int   hooked;

static void
on_render(void *data)
{
    hooked++;
    cdc_series_set(data, 42);
}


static char *
status_doc(void *data)
{
    return strdup("{\"state\":\"streaming\"}");
}


static int
health_bad(void *data, char *msg, size_t len)
{
    (void) snprintf(msg, len, "source disconnected");
    return *(int *) data;
}


static char *
http_get(int port, const char *path)
{
    int                 fd;
    char                req[256], *buf;
    size_t              len, cap;
    ssize_t             n;
    struct sockaddr_in  sin;

    fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t) port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *) &sin, sizeof(sin)), 0);

    (void) snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: x\r\n\r\n",
                    path);
    assert_int_equal(write(fd, req, strlen(req)), (ssize_t) strlen(req));

    cap = 65536;
    buf = malloc(cap);
    assert_non_null(buf);
    len = 0;

    while ((n = read(fd, buf + len, cap - 1 - len)) > 0) {
        len += (size_t) n;
        assert_true(len < cap - 1);
    }

    buf[len] = '\0';
    close(fd);

    return buf;
}


static void
test_http_endpoints(void **state)
{
    cdc_metrics_t    *m;
    cdc_metric_t     *g;
    cdc_http_t       *h;
    cdc_http_conf_t   conf;
    char              err[256], *r;
    int               sick;

    m = cdc_metrics_create();
    g = cdc_metrics_gauge(m, "refreshed", "Set by the render hook.", NULL);
    cdc_metrics_on_render(m, on_render, cdc_metric_series(g, NULL));

    sick = 0;
    memset(&conf, 0, sizeof(conf));
    conf.listen = "127.0.0.1:0";
    conf.metrics = m;
    conf.status = status_doc;
    conf.health = health_bad;
    conf.data = &sick;

    h = cdc_http_start(&conf, err, sizeof(err));
    assert_non_null(h);
    assert_true(cdc_http_port(h) > 0);

    r = http_get(cdc_http_port(h), "/metrics");
    assert_contains(r, " 200 OK\r\n");
    assert_contains(r, "text/plain; version=0.0.4");
    assert_contains(r, "cdc_bridge_refreshed 42\n");
    assert_int_equal(hooked, 1);
    free(r);

    r = http_get(cdc_http_port(h), "/status");
    assert_contains(r, "200");
    assert_contains(r, "application/json");
    assert_contains(r, "{\"state\":\"streaming\"}");
    free(r);

    r = http_get(cdc_http_port(h), "/healthz");
    assert_contains(r, "200");
    assert_contains(r, "\r\n\r\nok\n");
    free(r);

    sick = 1;
    r = http_get(cdc_http_port(h), "/healthz");
    assert_contains(r, "503");
    assert_contains(r, "source disconnected\n");
    free(r);

    r = http_get(cdc_http_port(h), "/nope");
    assert_contains(r, "404");
    free(r);

    cdc_http_stop(h);
    cdc_metrics_destroy(m);

    /* the endpoints have no authentication: loopback only */
    conf.listen = "0.0.0.0:0";
    assert_null(cdc_http_start(&conf, err, sizeof(err)));
    assert_non_null(strstr(err, "not a loopback address"));

    conf.listen = "127.0.0.1";
    assert_null(cdc_http_start(&conf, err, sizeof(err)));
    assert_non_null(strstr(err, "bad listen address \"127.0.0.1\""));
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_counter_gauge_format),
        cmocka_unit_test(test_label_escaping),
        cmocka_unit_test(test_histogram),
        cmocka_unit_test(test_name_rules),
        cmocka_unit_test(test_promtool_accepts),
        cmocka_unit_test(test_http_endpoints),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
