"""ngx_strangler_module: the lag gate (max_lag + lag_source) and
read-your-writes, with handwritten lag files (include/strangler/lagfile.h).
Anything doubtful about the lag sends the request to legacy."""

import time

CONF = """
    upstream legacy_up  { server 127.0.0.1:1; }
    upstream service_up { server 127.0.0.1:2; }

    strangler_zone strangler 1m;
    strangler_legacy legacy_up;

    strangler_route /gated/ {
        service    service_up;
        percent    100;
        max_lag    2s;
        lag_source {lagfile};
    }

    strangler_route /rw/ {
        service    service_up;
        percent    100;
        methods    GET HEAD;
        lag_source {lagfile} stale=5s;
        read_your_writes on;
        read_your_writes_cookie orders_rw;
    }

    strangler_route /plain/ { service service_up; percent 100; }

    server {
        listen 127.0.0.1:{port};

        location / {
            strangler on;
            return 200 "$strangler_target $strangler_reason";
        }

        location = /strangler/status { strangler_status; }
    }
"""


def now_ms():
    return int(time.time() * 1000)


def write_lag(path, lag_ms=100, updated_ms=None, watermark_ms=None,
              text=None):
    if text is None:
        u = now_ms() if updated_ms is None else updated_ms
        w = u - max(lag_ms, 0) if watermark_ms is None else watermark_ms
        text = ("v=1 updated_ms=%d lag_ms=%d watermark_ms=%d pending=0 "
                "service=orders\n" % (u, lag_ms, w))
    tmp = str(path) + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    import os
    os.replace(tmp, str(path))
    # the module reads a file at most every 100 ms per worker
    time.sleep(0.15)


def get(ngx, path, headers=None, method="GET"):
    st, h, body = ngx.pipeline([(method, path, headers or {},
                                 b"x" if method == "POST" else b"")])[0]
    assert st == 200
    return body.decode(), h


def test_lag_gate(nginx, tmp_path):
    lag = tmp_path / "orders.lag"
    ngx = nginx(CONF, lagfile=lag)

    # no file yet: unknown lag, fail safe
    assert get(ngx, "/gated/1")[0] == "legacy lag"
    assert get(ngx, "/plain/1")[0] == "service split"

    write_lag(lag, lag_ms=300)
    assert get(ngx, "/gated/1")[0] == "service split"

    write_lag(lag, lag_ms=2000)
    assert get(ngx, "/gated/1")[0] == "service split"   # at the limit

    write_lag(lag, lag_ms=2500)
    assert get(ngx, "/gated/1")[0] == "legacy lag"

    write_lag(lag, lag_ms=-1)                          # unknown
    assert get(ngx, "/gated/1")[0] == "legacy lag"

    write_lag(lag, lag_ms=100, updated_ms=now_ms() - 10000)   # stale
    assert get(ngx, "/gated/1")[0] == "legacy lag"

    write_lag(lag, text="v=1 lag_ms=oops\n")           # malformed
    assert get(ngx, "/gated/1")[0] == "legacy lag"

    write_lag(lag, text="v=2 updated_ms=%d lag_ms=1 watermark_ms=1\n"
              % now_ms())                              # unknown version
    assert get(ngx, "/gated/1")[0] == "legacy lag"

    write_lag(lag, lag_ms=50)
    assert get(ngx, "/gated/1")[0] == "service split"

    # the file goes away: fail safe again
    lag.unlink()
    time.sleep(0.15)
    assert get(ngx, "/gated/1")[0] == "legacy lag"

    r = [x for x in ngx.status()["routes"] if x["name"] == "/gated/"][0]
    assert r["reasons"]["lag"] == 7
    assert r["reasons"]["split"] == 3
    assert r["targets"]["legacy"]["requests"] == 7


def test_lag_cached_per_worker(nginx, tmp_path):
    lag = tmp_path / "orders.lag"
    write_lag(lag, lag_ms=100)
    ngx = nginx(CONF, lagfile=lag)
    assert get(ngx, "/gated/1")[0] == "service split"
    # a change shows within 100 ms (plus the event loop's timer slack)
    with open(lag, "w") as f:
        f.write("v=1 updated_ms=%d lag_ms=9000 watermark_ms=1 pending=0\n"
                % now_ms())
    time.sleep(0.2)
    assert get(ngx, "/gated/1")[0] == "legacy lag"


def test_read_your_writes(nginx, tmp_path):
    lag = tmp_path / "orders.lag"
    write_lag(lag, lag_ms=100)
    ngx = nginx(CONF, lagfile=lag)

    assert get(ngx, "/rw/1")[0] == "service split"

    # a write goes to legacy and sets the cookie with its moment
    before = now_ms()
    body, h = get(ngx, "/rw/1", method="POST")
    assert body == "legacy method"
    cookie = h["set-cookie"]
    assert cookie.startswith("orders_rw=")
    assert "Path=/" in cookie and "HttpOnly" in cookie
    t = int(cookie.split(";")[0].split("=")[1])
    assert before - 1000 <= t <= now_ms() + 1000

    # reads with the cookie stay on legacy until the watermark passes t
    c = {"Cookie": "a=b; orders_rw=%d" % t}
    write_lag(lag, lag_ms=100, watermark_ms=t - 50)
    assert get(ngx, "/rw/2", c)[0] == "legacy rw"
    assert get(ngx, "/rw/2")[0] == "service split"        # other clients
    write_lag(lag, lag_ms=100, watermark_ms=t)
    assert get(ngx, "/rw/2", c)[0] == "service split"

    # unknown lag with a cookie: legacy; a cookie that is not ours: ignored
    write_lag(lag, lag_ms=100, updated_ms=now_ms() - 60000,
              watermark_ms=t + 10)
    assert get(ngx, "/rw/3", c)[0] == "legacy rw"
    assert get(ngx, "/rw/3", {"Cookie": "orders_rw=zz"})[0] == \
        "service split"

    # reads do not set the cookie; routes without read_your_writes neither
    _, h = get(ngx, "/rw/4")
    assert "set-cookie" not in h
    _, h = get(ngx, "/plain/4", method="POST")
    assert "set-cookie" not in h

    r = [x for x in ngx.status()["routes"] if x["name"] == "/rw/"][0]
    assert r["reasons"]["rw"] == 2
    assert r["reasons"]["method"] == 1


def test_lag_config_errors(nginx, tmp_path):
    bad = [
        ("max_lag 2s;", 'has "max_lag" but no "lag_source"'),
        ("read_your_writes on;", 'has "read_your_writes" but no'),
        ("max_lag soon; lag_source /x;", 'invalid max_lag "soon"'),
        ("lag_source /x stale=never;", 'invalid stale time "never"'),
        ("lag_source /x; read_your_writes_cookie a-b;",
         'invalid cookie name "a-b"'),
        ("lag_source /x; read_your_writes maybe;", 'invalid value "maybe"'),
    ]
    for frag, msg in bad:
        conf = CONF.replace("percent 100; }",
                            "percent 100; %s }" % frag)
        ngx = nginx(conf, start=False, lagfile=tmp_path / "l")
        ok, out = ngx.test_config()
        assert not ok, frag
        assert msg in out, (frag, out)
        assert ngx.conf in out
