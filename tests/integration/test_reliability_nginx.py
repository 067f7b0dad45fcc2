"""Reliability of the nginx side (docs/reliability.md):

- a reload storm: 100 `nginx -s reload`, each with a new percent, under
  steady load from fresh and kept-alive connections: no request fails, and
  the workers' memory does not grow from reload to reload;
- a service backend down: idempotent requests (GET, HEAD) fall back to
  legacy, with either documented pattern (the legacy as a `backup` server
  of the service's upstream, with nginx's default `proxy_next_upstream`,
  or `error_page 502 504 = @legacy`), and non-idempotent requests never
  reach the service when the route says `methods GET HEAD`.
"""

import http.client
import os
import subprocess
import threading
import time

import harness

STORM_CONF = """
    upstream legacy_up  { server 127.0.0.1:{lport}; keepalive 16; }
    upstream service_up { server 127.0.0.1:{sport}; keepalive 16; }

    strangler_zone strangler 1m;
    strangler_legacy legacy_up;

    strangler_route /api/ {
        service service_up;
        percent {pct};
        key     $http_x_user;
    }

    server {
        listen 127.0.0.1:{port};

        location / {
            strangler on;
            proxy_pass http://$strangler_upstream;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }

        location = /strangler/status { strangler_status; }
    }
"""

RELOADS = 100
EARLY = 10          # RSS baseline: after this many reloads


class Load:
    """Clients that keep sending GET /api/… until stopped: fresh
    connections (nothing may ever fail) and kept-alive ones (a request
    that meets a connection an old worker closed at that instant is sent
    once more, as RFC 9112 9.3.1 lets any client do for an idempotent
    request; counted apart, see docs/routing.md)."""

    def __init__(self, port, fresh=2, kept=2):
        self.port = port
        self.stop_ev = threading.Event()
        self.lock = threading.Lock()
        self.ok = 0
        self.sides = {}
        self.failures = []
        self.stale_retries = 0
        self.threads = (
            [threading.Thread(target=self._fresh, args=(i,))
             for i in range(fresh)] +
            [threading.Thread(target=self._kept, args=(i,))
             for i in range(kept)])

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def stop(self):
        self.stop_ev.set()
        for t in self.threads:
            t.join(30)

    def _good(self, r):
        with self.lock:
            if 200 <= r.status < 300:
                self.ok += 1
                side = r.getheader("X-Backend")
                self.sides[side] = self.sides.get(side, 0) + 1
            else:
                self.failures.append("status %d" % r.status)

    def _bad(self, what):
        with self.lock:
            self.failures.append(what)

    def _fresh(self, tid):
        i = 0
        while not self.stop_ev.is_set():
            i += 1
            c = http.client.HTTPConnection("127.0.0.1", self.port,
                                           timeout=10)
            try:
                c.request("GET", "/api/f", headers={
                    "X-User": "f%d-%d" % (tid, i), "Connection": "close"})
                r = c.getresponse()
                r.read()
                self._good(r)
            except (OSError, http.client.HTTPException) as e:
                self._bad("fresh: %r" % e)
            finally:
                c.close()

    def _kept(self, tid):
        c = None
        reused = False
        i = 0
        while not self.stop_ev.is_set():
            i += 1
            for attempt in (0, 1):
                if c is None:
                    c = http.client.HTTPConnection("127.0.0.1", self.port,
                                                   timeout=10)
                    reused = False
                try:
                    c.request("GET", "/api/k",
                              headers={"X-User": "k%d-%d" % (tid, i)})
                    r = c.getresponse()
                    r.read()
                except (http.client.RemoteDisconnected,
                        ConnectionResetError, BrokenPipeError) as e:
                    c.close()
                    c = None
                    if reused and attempt == 0:
                        with self.lock:
                            self.stale_retries += 1
                        continue
                    self._bad("keepalive: %r" % e)
                    break
                except (OSError, http.client.HTTPException) as e:
                    c.close()
                    c = None
                    self._bad("keepalive: %r" % e)
                    break
                reused = True
                self._good(r)
                if r.will_close:
                    c.close()
                    c = None
                break
        if c is not None:
            c.close()


def rss_kb(pid):
    """VmRSS of a process in kB (0 if it is gone)."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for ln in f:
                if ln.startswith("VmRSS:"):
                    return int(ln.split()[1])
    except FileNotFoundError:
        pass
    return 0


def nginx_s_reload(ngx, conf, **kw):
    """Rewrites the config and runs `nginx -s reload`, as an operator
    does; returns once new workers serve."""
    ngx.write(conf, **kw)
    old = set(ngx.workers_pids())
    p = subprocess.run([harness.NGINX_BIN, "-p", ngx.prefix, "-c", ngx.conf,
                        "-s", "reload"], capture_output=True, text=True,
                       env=ngx.env(), timeout=30)
    assert p.returncode == 0, p.stdout + p.stderr
    harness.wait_for(lambda: len(set(ngx.workers_pids()) - old)
                     >= ngx.workers, timeout=20, what="new nginx workers")


def workers_rss(ngx):
    """(master RSS, max RSS of the current workers) in kB."""
    pids = ngx.workers_pids()
    return rss_kb(ngx.proc.pid), max(rss_kb(p) for p in pids)


def test_reload_storm_fails_nothing_and_memory_is_flat(nginx, backends,
                                                       outdir):
    b = backends("legacy", "service")
    ports = dict(lport=b["legacy"].port, sport=b["service"].port)
    # the release build: ASan's quarantine would hide (or fake) growth
    ngx = nginx(STORM_CONF, workers=2, asan=False, pct=50, **ports)

    load = Load(ngx.port).start()
    t0 = time.time()
    percents = []
    early = None
    try:
        for n in range(1, RELOADS + 1):
            pct = (n * 37) % 101          # 37, 74, 10, 47, … 0..100
            if n % 25 == 0:
                pct = (0, 100)[(n // 25) % 2]
            percents.append(pct)
            nginx_s_reload(ngx, STORM_CONF, pct=pct, **ports)
            time.sleep(0.05)
            if n == EARLY:
                time.sleep(0.5)            # new workers warmed by load
                early = workers_rss(ngx)
        time.sleep(1.0)
        late = workers_rss(ngx)
    finally:
        load.stop()
    took = time.time() - t0

    js = ngx.status()
    t = js["routes"][0]["targets"]
    counted = t["legacy"]["requests"] + t["service"]["requests"]

    summary = [
        "reloads: %d in %.1f s, percent sequence %s" % (RELOADS, took,
                                                        percents),
        "requests ok: %d, sides %s" % (load.ok, load.sides),
        "failed requests: %d %s" % (len(load.failures),
                                    load.failures[:5]),
        "stale keep-alive retries (RFC 9112 9.3.1): %d" % load.stale_retries,
        "RSS after %d reloads: master %d kB, worker %d kB" % (
            EARLY, early[0], early[1]),
        "RSS after %d reloads: master %d kB, worker %d kB" % (
            RELOADS, late[0], late[1]),
        "worker RSS growth: %+d kB (%+.1f%%)" % (
            late[1] - early[1], 100.0 * (late[1] - early[1]) / early[1]),
        "zone counted %d requests, generation %s" % (counted,
                                                     js["generation"]),
    ]
    print("\n".join(summary))
    with open(os.path.join(outdir, "report.txt"), "w") as f:
        f.write("\n".join(summary) + "\n")

    assert load.failures == []
    assert load.ok > 2000
    assert set(load.sides) == {"legacy", "service"}
    assert load.stale_retries <= RELOADS * 4
    assert js["generation"] == RELOADS + 1
    assert counted == load.ok
    assert js["routes"][0]["percent"] == percents[-1]
    # memory: no growth per reload (a leak of even 20 kB per reload
    # would show as 2 MB here); allow 5% + 1 MB for allocator noise
    assert late[1] <= early[1] * 1.05 + 1024, summary
    assert late[0] <= early[0] * 1.05 + 1024, summary


# ------------------------------------------------------------ backend down

BACKUP_CONF = """
    upstream legacy_up  { server 127.0.0.1:{lport}; }
    # the documented pattern 1: legacy as the service's backup server;
    # proxy_next_upstream (default "error timeout") moves a request that
    # could not be sent to the service to legacy.  Non-idempotent
    # requests are never passed on once sent (nginx >= 1.9.13 default).
    upstream service_up {
        server 127.0.0.1:{sport} max_fails=1 fail_timeout=5s;
        server 127.0.0.1:{lport} backup;
    }

    strangler_zone strangler 1m;
    strangler_legacy legacy_up;

    strangler_route /api/ {
        service service_up;
        percent 100;
        methods GET HEAD;
    }

    server {
        listen 127.0.0.1:{port};

        location / {
            strangler on;
            proxy_pass http://$strangler_upstream;
            proxy_next_upstream error timeout http_502 http_503 http_504;
            proxy_connect_timeout 2s;
            add_header X-Strangler-Target $strangler_target always;
        }

        location = /strangler/status { strangler_status; }
    }
"""

ERROR_PAGE_CONF = """
    upstream legacy_up  { server 127.0.0.1:{lport}; }
    upstream service_up { server 127.0.0.1:{sport}; }

    strangler_zone strangler 1m;
    strangler_legacy legacy_up;

    strangler_route /api/ {
        service service_up;
        legacy  legacy_up;
        percent 100;
        methods GET HEAD;
    }

    # the documented pattern 2: a failed service answer (nginx's own 502
    # or 504: refused, reset, timed out; with proxy_intercept_errors also
    # the service's own 502/503/504) is redone at the route's legacy.
    # $strangler_legacy_upstream names the route's legacy whatever the
    # decision was, so one @legacy location serves every route.

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
            # only what is safe to send twice
            if ($request_method !~ ^(GET|HEAD)$) { return 502; }
            proxy_pass http://$strangler_legacy_upstream;
            add_header X-Fallback yes always;
        }
    }
"""


def dead_port():
    """A loopback port nothing listens on (connection refused)."""
    return harness.free_port()


def _check_fallback(ngx, b, svc_port_dead, outdir, name):
    reqs = [("GET", "/api/orders/1"), ("HEAD", "/api/orders/2"),
            ("GET", "/api/orders/3?x=1"), ("POST", "/api/orders", {},
                                           b"{}"),
            ("PUT", "/api/orders/1", {}, b"{}"),
            ("DELETE", "/api/orders/1")]
    got = ngx.pipeline(reqs * 5, batch=1)
    lines = []
    for req, (st, hdrs, _body) in zip(reqs * 5, got):
        lines.append("%s %s -> %d %s" % (req[0], req[1], st,
                                         hdrs.get("x-backend")))
    print("\n".join(lines[:len(reqs)]))
    with open(os.path.join(outdir, "report.txt"), "a") as f:
        f.write("[%s] service at 127.0.0.1:%d down\n" % (name,
                                                         svc_port_dead))
        f.write("\n".join(lines) + "\n")
    for req, (st, hdrs, _body) in zip(reqs * 5, got):
        assert st == 200, (req, st)
        assert hdrs.get("x-backend") == "legacy", (req, hdrs)
    return got


def test_service_down_idempotent_falls_back_backup_pattern(nginx, backends,
                                                           outdir):
    b = backends("legacy")
    sport = dead_port()
    ngx = nginx(BACKUP_CONF, lport=b["legacy"].port, sport=sport)
    _check_fallback(ngx, b, sport, outdir, "backup")
    # the zone still says the decision was the service's for GET/HEAD
    t = ngx.status()["routes"][0]["targets"]
    assert t["service"]["requests"] == 15
    assert t["legacy"]["requests"] == 15
    # and legacy saw every request: 30 = 15 fallbacks + 15 by method
    assert b["legacy"].hits == 30


def test_service_down_idempotent_falls_back_error_page_pattern(
        nginx, backends, outdir):
    b = backends("legacy", "service")
    sport = dead_port()
    ngx = nginx(ERROR_PAGE_CONF, lport=b["legacy"].port, sport=sport)
    got = _check_fallback(ngx, b, sport, outdir, "error_page")
    # GET/HEAD were fallbacks, the others went to legacy by method
    for (st, hdrs, _), i in zip(got, range(len(got))):
        assert (hdrs.get("x-fallback") == "yes") == (i % 6 < 3), (i, hdrs)

    # the service up again: it gets the reads, no fallback
    ok_svc = b["service"]
    ngx2 = nginx(ERROR_PAGE_CONF, name="ngx-up", lport=b["legacy"].port,
                 sport=ok_svc.port)
    st, hdrs, _ = ngx2.pipeline([("GET", "/api/orders/1")])[0]
    assert st == 200 and hdrs["x-backend"] == "service"
    assert "x-fallback" not in hdrs

    # the service answering 503 itself: the read is redone at legacy
    ok_svc.set_status(503)
    st, hdrs, _ = ngx2.pipeline([("GET", "/api/orders/1")])[0]
    assert st == 200 and hdrs["x-backend"] == "legacy"
    assert hdrs.get("x-fallback") == "yes"


def test_non_idempotent_never_reach_service(nginx, backends):
    """`methods GET HEAD`: writes stay on legacy at 100% even with the
    service up, so no write is ever retried or lost between the two."""
    b = backends("legacy", "service")
    ngx = nginx(BACKUP_CONF, lport=b["legacy"].port, sport=b["service"].port)
    reqs = [("POST", "/api/o", {}, b"{}"), ("PUT", "/api/o/1", {}, b"{}"),
            ("PATCH", "/api/o/1", {}, b"{}"), ("DELETE", "/api/o/1"),
            ("GET", "/api/o/1")]
    got = ngx.pipeline(reqs * 4, batch=1)
    sides = [h.get("x-backend") for _, h, _ in got]
    assert sides == ["legacy"] * 4 + ["service"] + \
        (["legacy"] * 4 + ["service"]) * 3
    assert all(m == "GET" for m, _, _ in b["service"].srv.requests)


LEGACY_VAR_CONF = """
    upstream default_up { server 127.0.0.1:1; }
    upstream orders_old { server 127.0.0.1:1; }
    upstream orders_new { server 127.0.0.1:1; }

    strangler_zone strangler 1m;
    strangler_legacy default_up;

    strangler_route /api/orders/ {
        service orders_new;
        legacy  orders_old;
        percent 100;
    }

    server {
        listen 127.0.0.1:{port};

        location / {
            strangler on;
            return 200 "$strangler_target $strangler_upstream $strangler_legacy_upstream";
        }

        location /api/orders/off/ {
            # strangler off here, as in an error_page's named location
            return 200 "$strangler_legacy_upstream";
        }
    }
"""


def test_legacy_upstream_variable_names_the_routes_legacy(nginx):
    """$strangler_legacy_upstream is the route's own legacy even when the
    decision was service, and strangler_legacy where no route matches."""
    ngx = nginx(LEGACY_VAR_CONF)
    got = ngx.pipeline(["/api/orders/7", "/api/other", "/api/orders/off/1"])
    assert [g[0] for g in got] == [200, 200, 200]
    assert got[0][2] == b"service orders_new orders_old"
    assert got[1][2] == b"legacy default_up default_up"
    assert got[2][2] == b"orders_old"
