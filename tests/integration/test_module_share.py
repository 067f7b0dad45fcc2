"""ngx_strangler_module: the share of keys sent to the service matches the
route's percent, and every single decision is the one bucket.h predicts."""

import harness

ROUTES = """
    upstream legacy_up  { server 127.0.0.1:{lport}; }
    upstream service_up { server 127.0.0.1:{sport}; }

    strangler_zone strangler 1m;
    strangler_legacy legacy_up;

    strangler_route /p25/  { service service_up; percent 25;   key $arg_k; }
    strangler_route /p0/   { service service_up; percent 0;    key $arg_k; }
    strangler_route /p100/ { service service_up; percent 100;  key $arg_k; }
    strangler_route /p001/ { service service_up; percent 0.01; key $arg_k; }
    strangler_route /px/   { service service_up; percent 25;   key $arg_k; }

    server {
        listen 127.0.0.1:{port};
        keepalive_requests 100000;

        location / {
            strangler on;
            return 200 "$strangler_target";
        }

        location /px/ {
            strangler on;
            proxy_pass http://$strangler_upstream;
            add_header X-Target $strangler_target;
        }
    }
"""

N = 20000


def sides(ngx, route, n=N):
    keys = ["user-%d" % i for i in range(n)]
    res = ngx.pipeline(["%s?k=%s" % (route, k) for k in keys])
    assert all(r[0] == 200 for r in res)
    return keys, [r[2].decode() for r in res]


def test_share_follows_percent_and_bucket_h(nginx):
    ngx = nginx(ROUTES, lport=1, sport=2)

    keys, got = sides(ngx, "/p25/")
    service = got.count("service")
    assert 0.24 * N <= service <= 0.26 * N, service
    assert set(got) == {"service", "legacy"}
    want = [harness.strangler_side("/p25/", k, 25) for k in keys]
    assert got == want

    _, got = sides(ngx, "/p0/")
    assert got.count("service") == 0

    _, got = sides(ngx, "/p100/")
    assert got.count("service") == N

    # 0.01% is one bucket of 10,000: the keys in bucket 0, and only those
    keys, got = sides(ngx, "/p001/")
    want = [k for k in keys if harness.strangler_bucket("/p001/", k) == 0]
    assert [k for k, s in zip(keys, got) if s == "service"] == want


def test_share_through_proxy_pass(nginx, backends):
    b = backends("legacy", "service")
    ngx = nginx(ROUTES, lport=b["legacy"].port, sport=b["service"].port)

    keys = ["client-%d" % i for i in range(400)]
    res = ngx.pipeline(["/px/a?k=%s" % k for k in keys], batch=100)
    assert all(r[0] == 200 for r in res)

    for k, (status, hdrs, body) in zip(keys, res):
        want = harness.strangler_side("/px/", k, 25)
        assert hdrs["x-backend"] == want, (k, hdrs)
        assert hdrs["x-target"] == want

    n_service = sum(1 for k in keys
                    if harness.strangler_side("/px/", k, 25) == "service")
    assert 60 <= n_service <= 140
    assert b["service"].hits == n_service
    assert b["legacy"].hits == len(keys) - n_service
