"""The dashboard under /strangler/, loaded in headless Chromium: the routes,
percents, traffic and lag it renders match the JSON endpoints it reads, and
a screenshot is saved under tests/out/."""

import html.parser
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.request

import pytest

import harness

DASHBOARD = os.path.join(harness.ROOT, "ngx_strangler_module", "dashboard")
CHROMIUM = shutil.which("chromium")

HTTP = """
    types { text/html html; text/css css; application/javascript js; }

    upstream legacy_up  { server 127.0.0.1:{lport}; }
    upstream orders_svc { server 127.0.0.1:{sport}; }
    upstream users_svc  { server 127.0.0.1:{sport}; }

    strangler_zone strangler 1m;
    strangler_legacy legacy_up;

    strangler_route /api/orders/ {
        service orders_svc; percent 30; key $arg_k; methods GET HEAD;
    }
    strangler_route = /api/users/me {
        service users_svc; percent 5.5; key $arg_k;
    }

    server {
        listen 127.0.0.1:{port};

        location / {
            strangler on;
            proxy_pass http://$strangler_upstream;
            add_header X-Strangler-Target $strangler_target always;
        }
        location = /strangler/status { strangler_status; }
        location /strangler/lag/ {
            alias {lagdir}/;
            autoindex on;
            autoindex_format json;
            default_type text/plain;
        }
        location /strangler/ {
            alias {dashboard}/;
            index index.html;
        }
    }
"""


class Sink:
    """Rewrites lag files every 200 ms, as `cdc-bridge sink` does."""

    def __init__(self, files):
        self.files = files            # path -> (service, lag_ms, pending)
        self.stop_ev = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop_ev.is_set():
            for path, (svc, lag_ms, pending) in self.files.items():
                write_lag(path, svc, lag_ms, pending)
            self.stop_ev.wait(0.2)

    def stop(self):
        self.stop_ev.set()
        self.thread.join()


class Dom(html.parser.HTMLParser):
    """Collects the attributes of every element with a data-* attribute."""

    def __init__(self):
        super().__init__()
        self.elems = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if any(k.startswith("data-") for k in a):
            self.elems.append((tag, a))


def chromium(args, timeout=90, profile=None):
    prof = profile or tempfile.mkdtemp(prefix="chromium-")
    try:
        return subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-background-networking", "--disable-component-update",
             "--no-first-run", "--disable-dev-shm-usage",
             "--user-data-dir=" + prof] + args,
            capture_output=True, text=True, timeout=timeout)
    finally:
        if profile is None:
            shutil.rmtree(prof, ignore_errors=True)


def lag_dir(tmp_path):
    """A directory nginx's workers (user nobody) can read."""
    d = tmp_path / "lag"
    d.mkdir()
    p = str(d)
    while p and p != "/":
        st = os.stat(p)
        if not st.st_mode & 0o001:
            os.chmod(p, st.st_mode | 0o001)
        p = os.path.dirname(p)
    return d


def write_lag(path, service, lag_ms, pending):
    now = int(time.time() * 1000)
    with open(path + ".tmp", "w") as f:
        f.write("v=1 updated_ms=%d lag_ms=%d watermark_ms=%d pending=%d "
                "service=%s\n" % (now, lag_ms, now - lag_ms, pending, service))
    os.replace(path + ".tmp", path)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_dashboard_shows_routes_and_lag(nginx, backends, tmp_path, outdir):
    b = backends("legacy", "service")
    lagdir = lag_dir(tmp_path)
    sink = Sink({str(lagdir / "orders"): ("orders", 420, 3),
                 str(lagdir / "users"): ("users", 1500, 0)})
    try:
        run_dashboard(nginx, b, lagdir, outdir)
    finally:
        sink.stop()


def run_dashboard(nginx, b, lagdir, outdir):

    ngx = nginx(HTTP, lport=b["legacy"].port, sport=b["service"].port,
                lagdir=str(lagdir), dashboard=DASHBOARD)

    res = ngx.pipeline(["/api/orders/1?k=c%d" % i for i in range(200)]
                       + ["/api/users/me?k=c%d" % i for i in range(50)])
    assert all(r[0] == 200 for r in res)

    # the endpoints the page reads
    status = ngx.status()
    with urllib.request.urlopen(ngx.url("/strangler/lag/")) as r:
        listing = json.load(r)
    assert sorted(f["name"] for f in listing
                  if not f["name"].endswith(".tmp")) == ["orders", "users"]

    url = ngx.url("/strangler/?refresh=1")
    p = chromium(["--virtual-time-budget=5000", "--dump-dom", url])
    assert p.returncode == 0, p.stderr[-2000:]
    dom = Dom()
    dom.feed(p.stdout)

    body = [a for t, a in dom.elems if t == "body"]
    assert body and body[0].get("data-ready") == "1", p.stdout[:2000]

    rows = {a["data-route"]: a for t, a in dom.elems if "data-route" in a}
    want = {r["name"]: r for r in status["routes"]}
    assert set(rows) == set(want) == {"/api/orders/", "= /api/users/me"}
    for name, r in want.items():
        assert float(rows[name]["data-percent"]) == float(r["percent"])
        tg = r["targets"]
        # the page read the counters after our traffic, and nothing else
        # was routed since: the totals it shows are the status's
        for side in ("legacy", "service"):
            assert int(rows[name]["data-requests-" + side]) == \
                tg[side]["requests"]
    assert float(rows["/api/orders/"]["data-percent"]) == 30.0
    assert float(rows["= /api/users/me"]["data-percent"]) == 5.5
    assert int(rows["/api/orders/"]["data-requests-service"]) > 0
    assert int(rows["/api/orders/"]["data-requests-legacy"]) > 0

    svcs = {a["data-service"]: a for t, a in dom.elems
            if "data-service" in a}
    assert set(svcs) == {"orders", "users"}
    assert svcs["orders"]["data-lag-ms"] == "420"
    assert svcs["orders"]["data-pending"] == "3"
    assert svcs["users"]["data-lag-ms"] == "1500"

    # the page draws a chart per service
    assert p.stdout.count("<svg") >= 2 and 'class="line"' in p.stdout
    assert "no lag files" not in p.stdout

    shot = os.path.join(outdir, "dashboard.png")
    p = chromium(["--virtual-time-budget=5000", "--window-size=1280,800",
                  "--screenshot=" + shot, url])
    assert p.returncode == 0, p.stderr[-2000:]
    assert os.path.getsize(shot) > 5000
    with open(shot, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_dashboard_marks_stale_lag_and_errors(nginx, backends, tmp_path):
    b = backends("legacy", "service")
    b["service"].set_status(500)
    lagdir = lag_dir(tmp_path)
    # written a minute ago: stale, so the lag shown is not trusted
    now = int(time.time() * 1000) - 60000
    (lagdir / "orders").write_text(
        "v=1 updated_ms=%d lag_ms=10 watermark_ms=%d pending=0 "
        "service=orders\n" % (now, now))

    ngx = nginx(HTTP, lport=b["legacy"].port, sport=b["service"].port,
                lagdir=str(lagdir), dashboard=DASHBOARD)
    res = ngx.pipeline(["/api/orders/1?k=c%d" % i for i in range(100)])
    assert any(r[0] == 500 for r in res)

    p = chromium(["--virtual-time-budget=5000", "--dump-dom",
                  ngx.url("/strangler/")])
    assert p.returncode == 0, p.stderr[-2000:]
    dom = Dom()
    dom.feed(p.stdout)
    svcs = {a["data-service"]: a for t, a in dom.elems
            if "data-service" in a}
    assert svcs["orders"]["data-lag-ms"] == ""
    assert "service stale" in svcs["orders"]["class"]
    # the service's 5xx share is flagged in the routes table
    assert 'class="num errors bad' in p.stdout


# the documented error_page fallback (docs/reliability.md, pattern 2)
HTTP_FALLBACK = HTTP.replace("""
            add_header X-Strangler-Target $strangler_target always;
        }""", """
            add_header X-Strangler-Target $strangler_target always;
            proxy_intercept_errors on;
            error_page 502 503 504 = @legacy;
        }
        location @legacy {
            {fallback_strangler}
            proxy_pass http://$strangler_legacy_upstream;
            add_header X-Fallback yes always;
        }""")


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
@pytest.mark.parametrize("fallback_strangler", ["", "strangler on;"],
                         ids=["legacy_off", "legacy_on"])
def test_dashboard_service_errors_exact_through_fallback(
        nginx, backends, tmp_path, fallback_strangler):
    """The service answers 502 and every such read is redone at legacy:
    the page shows the service's 5xx share as exactly 100 %, legacy's as
    0 %, and the route's fallbacks, with or without "strangler on" in the
    fallback location."""
    assert HTTP_FALLBACK != HTTP
    b = backends("legacy", "service")
    b["service"].set_status(502)
    lagdir = lag_dir(tmp_path)
    ngx = nginx(HTTP_FALLBACK, lport=b["legacy"].port,
                sport=b["service"].port, lagdir=str(lagdir),
                dashboard=DASHBOARD, fallback_strangler=fallback_strangler)
    res = ngx.pipeline(["/api/orders/1?k=c%d" % i for i in range(100)])
    assert all(r[0] == 200 for r in res)
    fell = sum(1 for r in res if r[1].get("x-fallback") == "yes")
    assert 0 < fell < 100

    t = ngx.status()["routes"][0]["targets"]
    assert t["service"]["requests"] == fell

    p = chromium(["--virtual-time-budget=5000", "--dump-dom",
                  ngx.url("/strangler/?refresh=1")])
    assert p.returncode == 0, p.stderr[-2000:]
    dom = Dom()
    dom.feed(p.stdout)
    row = [a for _, a in dom.elems if a.get("data-route") == "/api/orders/"]
    assert row and row[0]["data-requests-service"] == str(fell)
    assert row[0]["data-requests-legacy"] == str(100 - fell)
    assert row[0]["data-fallbacks"] == str(fell)
    # the orders row (the first) shows its legacy, then its service share
    errs = [(k, v) for _, a in dom.elems for k, v in a.items()
            if k.startswith("data-errors-")]
    assert errs[:2] == [("data-errors-legacy", "0.00"),
                        ("data-errors-service", "100.00")], errs


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_dashboard_keeps_lag_history_across_loads(nginx, backends, tmp_path):
    """The 15-minute chart lives in localStorage: a second visit in the
    same browser profile continues the first one's series."""
    b = backends("legacy", "service")
    lagdir = lag_dir(tmp_path)
    sink = Sink({str(lagdir / "orders"): ("orders", 250, 0)})
    profile = str(tmp_path / "profile")
    try:
        ngx = nginx(HTTP, lport=b["legacy"].port, sport=b["service"].port,
                    lagdir=str(lagdir), dashboard=DASHBOARD)
        counts = []
        for _ in range(2):
            p = chromium(["--virtual-time-budget=3000", "--dump-dom",
                          ngx.url("/strangler/?refresh=1")], profile=profile)
            assert p.returncode == 0, p.stderr[-2000:]
            dom = Dom()
            dom.feed(p.stdout)
            svc = [a for t, a in dom.elems if a.get("data-service")]
            assert svc and svc[0]["data-lag-ms"] == "250"
            counts.append(int(svc[0]["data-points"]))
    finally:
        sink.stop()
    assert counts[0] >= 2
    assert counts[1] > counts[0], counts
