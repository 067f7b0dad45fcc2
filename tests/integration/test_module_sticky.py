"""ngx_strangler_module: a key always lands on the same side, whichever
worker serves it and whichever nginx instance (same config) does; raising
the percent only moves keys legacy -> service, lowering only back."""

import harness

CONF = """
    upstream legacy_up  { server 127.0.0.1:1; }
    upstream service_up { server 127.0.0.1:2; }

    strangler_zone strangler 1m;
    strangler_legacy legacy_up;

    strangler_route /orders/ {
        service service_up;
        percent {pct};
        key     $http_x_user;
    }

    server {
        listen 127.0.0.1:{port}{reuseport};
        keepalive_requests 100000;

        location / {
            strangler on;
            return 200 "$strangler_target $pid";
        }
    }
"""


def decide(ngx, keys, batch=500):
    res = ngx.pipeline([("GET", "/orders/1", {"X-User": k}) for k in keys],
                       batch=batch)
    assert all(r[0] == 200 for r in res)
    out = [r[2].decode().split() for r in res]
    return [o[0] for o in out], {o[1] for o in out}


def test_sticky_across_workers(nginx):
    ngx = nginx(CONF, workers=2, pct=30, reuseport=" reuseport")
    keys = ["u%d" % i for i in range(40)]

    # one connection per request, so both workers answer
    seen = {}
    pids = set()
    for rnd in range(10):
        got, p = decide(ngx, keys, batch=1)
        pids |= p
        for k, s in zip(keys, got):
            seen.setdefault(k, set()).add(s)

    assert len(pids) == 2, "both workers should have answered: %s" % pids
    assert all(len(s) == 1 for s in seen.values()), seen
    assert {next(iter(s)) for s in seen.values()} == {"service", "legacy"}


def test_sticky_across_instances(nginx):
    a = nginx(CONF, name="a", pct=40, reuseport="")
    b = nginx(CONF, name="b", pct=40, reuseport="")
    assert a.port != b.port
    keys = ["visitor-%d" % i for i in range(5000)]
    got_a, _ = decide(a, keys)
    got_b, _ = decide(b, keys)
    assert got_a == got_b
    assert got_a == [harness.strangler_side("/orders/", k, 40) for k in keys]


def test_monotone_on_reload(nginx):
    ngx = nginx(CONF, pct=25, reuseport="")
    keys = ["k%d" % i for i in range(10000)]

    at25, _ = decide(ngx, keys)
    ngx.reload(CONF, pct=50, reuseport="")
    at50, _ = decide(ngx, keys)
    ngx.reload(CONF, pct=10, reuseport="")
    at10, _ = decide(ngx, keys)

    # the percents really changed, to exactly what bucket.h says
    for pct, got in ((25, at25), (50, at50), (10, at10)):
        assert got == [harness.strangler_side("/orders/", k, pct)
                       for k in keys], pct
    assert 2300 < at25.count("service") < 2700
    assert 4800 < at50.count("service") < 5200
    assert 800 < at10.count("service") < 1200

    up = [k for k, x, y in zip(keys, at25, at50)
          if x == "service" and y == "legacy"]
    assert up == [], "25 -> 50 moved keys service -> legacy"

    down = [k for k, x, y in zip(keys, at50, at10)
            if x == "legacy" and y == "service"]
    assert down == [], "50 -> 10 moved keys legacy -> service"
