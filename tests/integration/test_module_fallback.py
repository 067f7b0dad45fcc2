"""ngx_strangler_module: counters through an error_page fallback.

nginx clears module contexts on an internal redirect; the decision is kept
behind a pool cleanup, so the service's failed answer is counted once, as
the service's response with its own status and upstream time, and the
answer of the fallback location once, as the route's `fallbacks`, whether
the fallback location has "strangler on" or not.  The service error rate
(5xx / requests of the service side) is then exact in the status JSON and
in Prometheus."""

import time

import pytest

import harness
from test_module_status import keys_for, prom_value, promtool_ok

CONF = """
    upstream legacy_up  { server 127.0.0.1:{lport}; }
    upstream service_up { server 127.0.0.1:{sport}; }

    strangler_zone strangler 1m;
    strangler_legacy legacy_up;

    strangler_route /api/ {
        service service_up;
        legacy  legacy_up;
        percent 40;
        key     $arg_k;
    }
    strangler_route /try/ { service service_up; percent 100; }

    server {
        listen 127.0.0.1:{port};

        location / {
            strangler on;
            proxy_pass http://$strangler_upstream;
            proxy_connect_timeout 2s;
            proxy_intercept_errors on;
            error_page 502 503 504 = @legacy;
        }

        location @legacy {
            {fallback_strangler}
            proxy_pass http://$strangler_legacy_upstream;
            add_header X-Fallback yes always;
        }

        # a redirect before any upstream was tried: no fallback
        location /try/ {
            strangler on;
            try_files /nothing/here @svc;
        }

        location @svc {
            {fallback_strangler}
            proxy_pass http://$strangler_upstream;
        }

        location = /strangler/status { strangler_status; }
    }
"""

VARIANTS = {
    # the documented pattern: the named location without "strangler on"
    "off": "",
    # "strangler on" inherited or repeated in the named location
    "on": "strangler on;",
}


def route(st, name):
    return [x for x in st["routes"] if x["name"] == name][0]


def settled(ngx, name, want):
    """The log phase of the last response may trail its bytes a little."""
    for _ in range(100):
        r = route(ngx.status(), name)
        done = sum(sum(t["responses"].values())
                   for t in r["targets"].values()) + r["fallbacks"]
        if done >= want:
            return r
        time.sleep(0.02)
    return route(ngx.status(), name)


def run(nginx, backends, variant, service_status):
    b = backends("legacy", "service")
    if service_status is None:
        sport = harness.free_port()             # refused: nginx's own 502
    else:
        b["service"].set_status(service_status)
        sport = b["service"].port
    ngx = nginx(CONF, name="ngx-" + variant, lport=b["legacy"].port,
                sport=sport, fallback_strangler=VARIANTS[variant])

    svc = keys_for("service", 40, 12, route="/api/")
    leg = keys_for("legacy", 40, 8, route="/api/")
    reqs = ["/api/o?k=" + k for k in svc + leg]
    res = ngx.pipeline(reqs, batch=5)
    for k, (st, hdrs, _) in zip(svc + leg, res):
        assert st == 200 and hdrs.get("x-backend") == "legacy", (k, st)
        assert (hdrs.get("x-fallback") == "yes") == (k in svc), (k, hdrs)
    return ngx, b, len(svc), len(leg)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("service_status", [502, None],
                         ids=["answers_502", "refused"])
def test_service_failure_counted_once_fallback_once(nginx, backends,
                                                    variant, service_status):
    ngx, b, ns, nl = run(nginx, backends, variant, service_status)
    r = settled(ngx, "/api/", ns + nl + ns)
    s, l = r["targets"]["service"], r["targets"]["legacy"]

    # each request counted once, on the side it was decided for
    assert s["requests"] == ns and l["requests"] == nl
    assert r["reasons"]["split"] == ns + nl
    # the service's answers: all 5xx, each with its upstream time
    assert s["responses"] == {"1xx": 0, "2xx": 0, "3xx": 0, "4xx": 0,
                              "5xx": ns}
    assert s["upstream_response_seconds"]["count"] == ns
    # legacy's own answers only; the fallbacks are counted apart
    assert l["responses"]["2xx"] == nl and l["responses"]["5xx"] == 0
    assert l["upstream_response_seconds"]["count"] == nl
    assert r["fallbacks"] == ns
    assert b["legacy"].hits == ns + nl
    if service_status is not None:
        assert b["service"].hits == ns

    # Prometheus: the service error rate is exactly 1, legacy's 0
    text = ngx.status("prometheus")
    ok, out = promtool_ok(text)
    assert ok, out + text

    def pv(name, **lab):
        return prom_value(text, name, route="/api/", **lab)

    assert pv("strangler_requests_total", target="service") == ns
    assert pv("strangler_responses_total", target="service",
              **{"class": "5xx"}) == ns
    assert pv("strangler_requests_total", target="legacy") == nl
    assert pv("strangler_responses_total", target="legacy",
              **{"class": "5xx"}) == 0
    assert pv("strangler_fallbacks_total") == ns
    assert prom_value(text, "strangler_fallbacks_total", route="") == 0

    # nothing leaks into the unmatched node
    st = ngx.status()
    assert st["unmatched"]["requests"] == 0
    assert st["unmatched"]["fallbacks"] == 0


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_service_recovers_no_fallback(nginx, backends, variant):
    """With the service answering 200 again the same configuration counts
    plain responses and no fallback."""
    b = backends("legacy", "service")
    ngx = nginx(CONF, name="ngx-" + variant, lport=b["legacy"].port,
                sport=b["service"].port,
                fallback_strangler=VARIANTS[variant])
    svc = keys_for("service", 40, 5, route="/api/")
    res = ngx.pipeline(["/api/o?k=" + k for k in svc])
    assert all(h.get("x-backend") == "service" for _, h, _ in res)
    r = settled(ngx, "/api/", 5)
    assert r["targets"]["service"]["responses"]["2xx"] == 5
    assert r["targets"]["service"]["requests"] == 5
    assert r["fallbacks"] == 0


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_redirect_before_upstream_keeps_decision(nginx, backends, variant):
    """A try_files redirect before any upstream was tried is no fallback:
    the request keeps its decision, is counted once and its answer once."""
    b = backends("legacy", "service")
    ngx = nginx(CONF, name="ngx-" + variant, lport=b["legacy"].port,
                sport=b["service"].port,
                fallback_strangler=VARIANTS[variant])
    res = ngx.pipeline(["/try/%d" % i for i in range(6)])
    assert all(h.get("x-backend") == "service" for _, h, _ in res), res
    r = settled(ngx, "/try/", 6)
    s = r["targets"]["service"]
    assert s["requests"] == 6 and s["responses"]["2xx"] == 6
    assert s["upstream_response_seconds"]["count"] == 6
    assert r["targets"]["legacy"]["requests"] == 0
    assert r["fallbacks"] == 0


CHAIN_CONF = """
    upstream legacy_up  { server 127.0.0.1:{lport}; }
    upstream service_up { server 127.0.0.1:{sport}; }

    strangler_zone strangler 1m;

    strangler_route /chain/ { service service_up; legacy legacy_up;
                              percent 100; }
    strangler_route /sorry/ { service service_up; legacy legacy_up;
                              percent 100; }

    server {
        listen 127.0.0.1:{port};
        strangler on;
        proxy_intercept_errors on;

        # the fallback fails too and is redirected once more
        location /chain/ {
            recursive_error_pages on;
            proxy_pass http://$strangler_upstream;
            error_page 502 = @legacy;
        }
        location @legacy {
            proxy_pass http://$strangler_legacy_upstream;
            error_page 502 = @last;
        }
        location @last { return 200 "last resort"; }

        # a fallback answered before the preaccess phase
        location /sorry/ {
            proxy_pass http://$strangler_upstream;
            error_page 502 = @sorry;
        }
        location @sorry { return 503 "sorry"; }

        location = /strangler/status { strangler_status; }
    }
"""


def test_fallback_chain_and_early_answer_count_once(nginx, backends):
    b = backends("legacy", "service")
    b["legacy"].set_status(502)
    b["service"].set_status(502)
    ngx = nginx(CHAIN_CONF, lport=b["legacy"].port, sport=b["service"].port)
    res = ngx.pipeline(["/chain/%d" % i for i in range(4)]
                       + ["/sorry/%d" % i for i in range(3)])
    assert [r[0] for r in res] == [200] * 4 + [503] * 3
    assert res[0][2] == b"last resort" and res[4][2] == b"sorry"
    assert b["legacy"].hits == 4 and b["service"].hits == 7

    for name, n in (("/chain/", 4), ("/sorry/", 3)):
        r = settled(ngx, name, 2 * n)
        s, l = r["targets"]["service"], r["targets"]["legacy"]
        assert s["requests"] == n and s["responses"]["5xx"] == n, r
        assert sum(s["responses"].values()) == n
        assert s["upstream_response_seconds"]["count"] == n
        assert l["requests"] == 0 and sum(l["responses"].values()) == 0
        assert r["fallbacks"] == n
