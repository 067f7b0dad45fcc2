"""ngx_strangler_module: the lag gate (max_lag + lag_source) and
read-your-writes, with handwritten lag files (include/strangler/lagfile.h).
Anything doubtful about the lag sends the request to legacy."""

import errno
import os
import re
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


def get(ngx, path, headers=None, method="GET", timeout=60):
    st, h, body = ngx.pipeline([(method, path, headers or {},
                                 b"x" if method == "POST" else b"")],
                               timeout=timeout)[0]
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

    # a cookie of digits is a moment however long: leading zeros are
    # the same moment, one beyond int64 is the far future (legacy); other
    # values are ignored
    write_lag(lag, lag_ms=100, watermark_ms=t - 50)
    long_t = {"Cookie": "orders_rw=%020d" % t}
    assert get(ngx, "/rw/3", long_t)[0] == "legacy rw"
    assert get(ngx, "/rw/3", {"Cookie": "orders_rw=" + "9" * 30})[0] == \
        "legacy rw"
    for v in ("-5", "12a", "+1", "1.5", ""):
        assert get(ngx, "/rw/3", {"Cookie": "orders_rw=" + v})[0] == \
            "service split", v
    write_lag(lag, lag_ms=100, watermark_ms=t)
    assert get(ngx, "/rw/3", long_t)[0] == "service split"

    # reads do not set the cookie; routes without read_your_writes neither
    _, h = get(ngx, "/rw/4")
    assert "set-cookie" not in h
    _, h = get(ngx, "/plain/4", method="POST")
    assert "set-cookie" not in h

    r = [x for x in ngx.status()["routes"] if x["name"] == "/rw/"][0]
    assert r["reasons"]["rw"] == 4
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


def unblock_fifo(path):
    """Opens the FIFO for writing and closes it, so that a reader stuck in
    open() (a worker of the old code) gets EOF and the test can end."""
    for _ in range(20):
        try:
            os.close(os.open(str(path), os.O_WRONLY | os.O_NONBLOCK))
        except OSError as e:
            if e.errno not in (errno.ENXIO, errno.ENOENT):
                raise
        time.sleep(0.05)


def log_lines(ngx, level, path):
    """The error log's [level] lines about lag source path."""
    return [ln for ln in ngx.error_log().splitlines()
            if "[%s]" % level in ln and 'lag source "%s"' % path in ln]


def test_lag_source_fifo_does_not_block(nginx, tmp_path):
    """A FIFO at the lag file's path: the worker must not block in open()
    or read() (the old code hung every connection of that worker); the
    source reads as bad, the gate fails safe, one [warn] says why."""
    lag = tmp_path / "orders.lag"
    os.mkfifo(str(lag))
    ngx = nginx(CONF, lagfile=lag)
    try:
        for _ in range(5):
            assert get(ngx, "/gated/1", timeout=5)[0] == "legacy lag"
            assert get(ngx, "/plain/1", timeout=5)[0] == "service split"
            time.sleep(0.12)            # past the 100 ms re-read
        warns = log_lines(ngx, "warn", lag)
        assert len(warns) == 1, warns
        assert "is not a regular file" in warns[0]

        # a regular file in its place opens the gate again
        lag.unlink()
        write_lag(lag, lag_ms=10)
        assert get(ngx, "/gated/1", timeout=5)[0] == "service split"
        assert len(log_lines(ngx, "notice", lag)) == 1
    finally:
        unblock_fifo(lag)


def test_lag_source_bad_timestamps(nginx, tmp_path):
    """updated_ms in the future (beyond 1 s of skew) or so far in the past
    that now - updated_ms overflows: doubtful, so legacy."""
    lag = tmp_path / "orders.lag"
    ngx = nginx(CONF, lagfile=lag)
    year = 365 * 24 * 3600 * 1000

    write_lag(lag, lag_ms=10, updated_ms=now_ms() + year)
    assert get(ngx, "/gated/1")[0] == "legacy lag"

    # the lowest updated_ms the parser takes: now - updated_ms overflows
    write_lag(lag, lag_ms=10, updated_ms=-9223372036854775799,
              watermark_ms=1)
    assert get(ngx, "/gated/1")[0] == "legacy lag"

    write_lag(lag, lag_ms=10, updated_ms=now_ms() + 5000)
    assert get(ngx, "/gated/1")[0] == "legacy lag"

    write_lag(lag, lag_ms=10, updated_ms=now_ms() + 300)  # within the skew
    assert get(ngx, "/gated/1")[0] == "service split"

    write_lag(lag, lag_ms=10, updated_ms=9223372036854775799)
    assert get(ngx, "/gated/1")[0] == "legacy lag"

    # read-your-writes: a watermark from the future proves nothing
    t = now_ms()
    c = {"Cookie": "orders_rw=%d" % t}
    write_lag(lag, lag_ms=10, watermark_ms=t + year)
    assert get(ngx, "/rw/1", c)[0] == "legacy rw"
    write_lag(lag, lag_ms=10, watermark_ms=t + 1)
    assert get(ngx, "/rw/1", c)[0] == "service split"

    warns = log_lines(ngx, "warn", lag)
    assert any("is from the future" in w for w in warns), warns
    assert any("is stale" in w for w in warns), warns


def test_lag_source_state_logged_once(nginx, tmp_path):
    """A bad lag source is one [warn] when it turns bad (not one per 100 ms
    re-read, as a directory in its place gave), one [notice] when it is
    good again."""
    lag = tmp_path / "orders.lag"
    ngx = nginx(CONF, lagfile=lag)

    def load(seconds=0.6):
        end = time.time() + seconds
        while time.time() < end:
            st, _, body = ngx.pipeline(["/gated/1"], timeout=5)[0]
            assert st == 200
            time.sleep(0.03)
        return body.decode()

    assert load() == "legacy lag"            # no file
    lag.mkdir()                              # a directory in its place
    assert load() == "legacy lag"
    lag.rmdir()
    write_lag(lag, lag_ms=10)
    assert load() == "service split"
    write_lag(lag, text="v=1 lag_ms=oops\n")
    assert load() == "legacy lag"
    write_lag(lag, lag_ms=10, updated_ms=now_ms() - 60000)
    assert load() == "legacy lag"
    write_lag(lag, lag_ms=10)
    assert load() == "service split"
    write_lag(lag, text="v=1 " + "x" * 300 + "\n")
    assert load() == "legacy lag"

    got = []
    for ln in ngx.error_log().splitlines():
        m = re.search(r'\[(warn|notice)\] .*lag source "([^"]*)" ([^,(:]*)',
                      ln)
        if m and m.group(2) == str(lag):
            got.append((m.group(1), m.group(3).strip()))
    assert got == [("warn", "is missing"),
                   ("warn", "is not a regular file"),
                   ("notice", "is good again"),
                   ("warn", "is malformed"),
                   ("warn", "is stale"),
                   ("notice", "is good again"),
                   ("warn", "is too long to be a lag file")], got
    assert "(2: No such file or directory)" in ngx.error_log()
