"""ngx_strangler_module: strangler_status in JSON and Prometheus counts
exactly what was sent, passes promtool, and keeps counting across reloads."""

import os
import re
import subprocess
import tempfile

CONF = """
    upstream legacy_up  { server 127.0.0.1:{lport}; keepalive 8; }
    upstream service_up { server 127.0.0.1:{sport}; keepalive 8; }

    strangler_zone strangler 1m;
    strangler_legacy legacy_up;

    strangler_route /orders/ {
        service service_up;
        percent {pct};
        key     $arg_k;
    }
    strangler_route ~ "^/q\\"uote" { service service_up; percent 12.5; }

    server {
        listen 127.0.0.1:{port};

        location / {
            strangler on;
            proxy_pass http://$strangler_upstream;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }

        location = /strangler/status {
            strangler_status;
            allow 127.0.0.1;
            deny all;
        }
    }
"""


def keys_for(side, pct, n, route="/orders/"):
    import harness
    out = []
    i = 0
    while len(out) < n:
        k = "k%d" % i
        if harness.strangler_side(route, k, pct) == side:
            out.append(k)
        i += 1
    return out


def prom_value(text, name, **labels):
    want = ",".join('%s="%s"' % kv for kv in labels.items())
    for ln in text.splitlines():
        if ln.startswith(name + "{"):
            lab, val = ln[len(name) + 1:].rsplit("} ", 1)
            got = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', lab))
            if all(got.get(k) == v for k, v in labels.items()):
                return float(val)
    raise KeyError(name + "{" + want + "}")


def promtool_ok(text):
    with tempfile.NamedTemporaryFile("w", suffix=".prom",
                                     delete=False) as f:
        f.write(text)
    try:
        p = subprocess.run(["promtool", "check", "metrics"],
                           stdin=open(f.name), capture_output=True,
                           text=True, timeout=30)
    finally:
        os.unlink(f.name)
    return p.returncode == 0, p.stdout + p.stderr


def test_status_counts_json_prometheus_and_reload(nginx, backends):
    b = backends("legacy", "service")
    b["service"].srv.status_for_path = {"/orders/missing?k=%s" % k: 404
                                        for k in keys_for("service", 40, 5)}
    ngx = nginx(CONF, lport=b["legacy"].port, sport=b["service"].port,
                pct=40)

    svc = keys_for("service", 40, 30)
    leg = keys_for("legacy", 40, 20)
    reqs = (["/orders/1?k=" + k for k in svc]
            + ["/orders/1?k=" + k for k in leg]
            + ["/orders/missing?k=" + k for k in svc[:5]]
            + ["/elsewhere/%d" % i for i in range(3)])
    res = ngx.pipeline(reqs, batch=7)
    assert [r[0] for r in res] == [200] * 50 + [404] * 5 + [200] * 3

    js = ngx.status()
    assert js["version"] == 1 and js["zone"] == "strangler"
    with open(os.path.join(os.path.dirname(__file__), "..", "..",
                           "VERSION")) as f:
        assert js["strangler_version"] == f.read().strip()
    r = js["routes"][0]
    assert r["name"] == "/orders/" and r["match"] == "prefix"
    assert r["percent"] == 40 and r["service"] == "service_up"
    assert r["legacy"] == "legacy_up" and r["methods"] == []
    s, l = r["targets"]["service"], r["targets"]["legacy"]
    assert s["upstream"] == "service_up" and l["upstream"] == "legacy_up"
    assert s["requests"] == 35 and l["requests"] == 20
    assert s["responses"] == {"1xx": 0, "2xx": 30, "3xx": 0, "4xx": 5,
                              "5xx": 0}
    assert l["responses"]["2xx"] == 20
    for t, n in ((s, 35), (l, 20)):
        h = t["upstream_response_seconds"]
        assert h["count"] == n
        assert h["buckets"][-1] == {"le": "+Inf", "count": n}
        counts = [x["count"] for x in h["buckets"]]
        assert counts == sorted(counts)
        assert 0 <= h["sum"] < n * 1.0
    assert r["reasons"]["split"] == 55
    q = js["routes"][1]
    assert q["name"] == '~ ^/q"uote' and q["percent"] == 12.5
    assert js["unmatched"]["requests"] == 3
    assert js["unmatched"]["responses"]["2xx"] == 3

    text = ngx.status("prometheus")
    ok, out = promtool_ok(text)
    assert ok, out + text
    assert prom_value(text, "strangler_requests_total", route="/orders/",
                      target="service") == 35
    assert prom_value(text, "strangler_requests_total", route="/orders/",
                      target="legacy") == 20
    assert prom_value(text, "strangler_responses_total", route="/orders/",
                      target="service", **{"class": "4xx"}) == 5
    assert prom_value(text, "strangler_upstream_response_seconds_count",
                      route="/orders/", target="legacy") == 20
    assert prom_value(text, "strangler_upstream_response_seconds_bucket",
                      route="/orders/", target="legacy", le="+Inf") == 20
    assert prom_value(text, "strangler_route_percent",
                      route="/orders/") == 40
    assert prom_value(text, "strangler_route_percent",
                      route='~ ^/q\\"uote') == 12.5
    assert prom_value(text, "strangler_requests_total", route="",
                      target="legacy") == 3

    # reload with another percent: the counts carry over and go on
    ngx.reload(CONF, lport=b["legacy"].port, sport=b["service"].port,
               pct=100)
    js2 = ngx.status()
    assert js2["generation"] == js["generation"] + 1
    r2 = js2["routes"][0]
    assert r2["percent"] == 100
    assert r2["targets"]["service"]["requests"] == 35
    assert r2["targets"]["legacy"]["requests"] == 20

    res = ngx.pipeline(["/orders/2?k=" + k for k in leg])
    assert all(x[2] and x[1]["x-backend"] == "service" for x in res)
    r3 = ngx.status()["routes"][0]
    assert r3["targets"]["service"]["requests"] == 55
    assert r3["targets"]["service"]["responses"]["2xx"] == 50
    text = ngx.status("prometheus")
    assert prom_value(text, "strangler_requests_total", route="/orders/",
                      target="service") == 55
    assert prom_value(text, "strangler_route_percent",
                      route="/orders/") == 100


def test_status_format_errors(nginx, backends):
    ngx = nginx(CONF, lport=1, sport=2, pct=1)
    st, _, _ = ngx.pipeline(["/strangler/status?format=xml"])[0]
    assert st == 400
    st, h, body = ngx.pipeline([("HEAD", "/strangler/status", {})])[0]
    assert st == 200 and h["content-type"] == "application/json"
    st, _, _ = ngx.pipeline([("POST", "/strangler/status", {}, b"x")])[0]
    assert st == 405


def test_status_requests_are_not_counted(nginx):
    conf = CONF.replace("        location / {\n            strangler on;",
                        "        strangler on;\n        location / {")
    assert "        strangler on;\n        location / {" in conf
    ngx = nginx(conf, lport=1, sport=2, pct=1)
    for _ in range(3):
        js = ngx.status()
    assert js["unmatched"]["requests"] == 0
    assert all(t["requests"] == 0 for r in js["routes"]
               for t in r["targets"].values())
