"""strangler-ctl against a real nginx with the module: set, rollback,
dry-run (and that --dry-run --keys predicts the module's routing exactly),
the lag gate and --force, failures that leave the config untouched, and the
history file."""

import json
import os
import subprocess
import time

import harness

# the ASan+UBSan build under the integration tests, like the module
CTL = os.path.join(harness.BUILD, "asan" if harness.ASAN else "",
                   "strangler-ctl")


def ctl_env(**extra):
    """strangler-ctl's environment: sanitizer reports (leaks included) on
    stderr and a non-zero exit; no preloaded libasan from nginx's env."""
    env = harness.sanitizer_env() if harness.ASAN else dict(os.environ)
    for k in ("LD_PRELOAD", "STRANGLER_CTL_CONF", "STRANGLER_STATUS_URL",
              "STRANGLER_ROUTES", "STRANGLER_NGINX", "STRANGLER_HISTORY"):
        env.pop(k, None)
    env.update(extra)
    return env

HTTP = """
    upstream legacy_up  { server 127.0.0.1:{lport}; }
    upstream service_up { server 127.0.0.1:{sport}; }

    strangler_zone strangler 1m;
    strangler_legacy legacy_up;

    include {prefix}/routes.conf;

    server {
        listen 127.0.0.1:{port};
        keepalive_requests 100000;

        location / {
            strangler on;
            proxy_pass http://$strangler_upstream;
            add_header X-Strangler-Target $strangler_target always;
        }

        location /fast/ {
            strangler on;
            add_header X-Strangler-Target $strangler_target always;
            return 200 "$strangler_target";
        }

        location = /strangler/status {
            strangler_status;
        }
    }
"""

ROUTES = """\
# routes for the test; this comment must survive every edit
strangler_route /api/ {
    service  service_up;   # the new service
    legacy   legacy_up;
    percent  0;
    key      $http_x_key;
    methods  GET HEAD;
}

strangler_route /fast/ {
    service service_up;
    percent 10;
    key $arg_k;
}

strangler_route = /exact {
    service service_up;
    percent 20;
    key $arg_k;
}

strangler_route /noperc/ { service service_up; key $arg_k; }
"""


class Setup:
    def __init__(self, nginx, backends, tmp_path, routes=ROUTES):
        self.b = backends("legacy", "service")
        self.ngx = nginx(start=False)
        self.prefix = self.ngx.prefix
        self.routes = os.path.join(self.prefix, "routes.conf")
        with open(self.routes, "w") as f:
            f.write(routes)
        self.ngx.write(HTTP, lport=self.b["legacy"].port,
                       sport=self.b["service"].port, prefix=self.prefix)
        self.ngx.start()
        self.lag = str(tmp_path / "lag-orders")
        self.history = str(tmp_path / "history")
        self.write_lag(lag_ms=50)
        env = self.ngx.env()
        self.nginx_cmd = "env LD_PRELOAD=%s ASAN_OPTIONS=%s %s -p %s -c %s" % (
            env.get("LD_PRELOAD", ""), env.get("ASAN_OPTIONS", ""),
            harness.NGINX_BIN, self.prefix, self.ngx.conf)

    def write_lag(self, lag_ms, age_ms=0):
        now = int(time.time() * 1000) - age_ms
        with open(self.lag + ".tmp", "w") as f:
            f.write("v=1 updated_ms=%d lag_ms=%d watermark_ms=%d pending=0 "
                    "service=orders\n" % (now, lag_ms, now - lag_ms))
        os.replace(self.lag + ".tmp", self.lag)

    def ctl(self, *args, nginx_cmd=None, lag_map=True):
        env = ctl_env()
        argv = [CTL, "--routes", self.routes,
                "--nginx", nginx_cmd or self.nginx_cmd,
                "--status-url", self.ngx.url("/strangler/status"),
                "--history", self.history] + list(args)
        if lag_map:
            argv[1:1] = ["--lag-file", "service_up=" + self.lag]
        old = set(self.ngx.workers_pids())
        p = subprocess.run(argv, capture_output=True, text=True, env=env,
                           timeout=60)
        if p.returncode == 0 and "reloaded" in p.stdout:
            # let the old workers finish so every later request sees the
            # new configuration
            harness.wait_for(lambda: not old & set(self.ngx.workers_pids()),
                             timeout=20, what="old nginx workers to exit")
        return p.returncode, p.stdout, p.stderr

    def text(self):
        with open(self.routes) as f:
            return f.read()

    def percent(self, name="/api/", want=None):
        """The running percent; with want, waits (a reload's old workers
        may answer a few more requests) until it shows, then returns it."""
        def get():
            for r in self.ngx.status()["routes"]:
                if r["name"] == name:
                    return float(r["percent"])
            raise KeyError(name)
        if want is not None:
            try:
                harness.wait_for(lambda: get() == want, timeout=10,
                                 what="percent %s" % want)
            except TimeoutError:
                pass
        return get()

    def sides(self, keys, route="/fast/"):
        res = self.ngx.pipeline(["%s?k=%s" % (route, k) for k in keys])
        assert all(r[0] == 200 for r in res)
        return [r[1]["x-strangler-target"] for r in res]

    def history_lines(self):
        if not os.path.exists(self.history):
            return []
        with open(self.history) as f:
            return [dict(kv.split("=", 1) for kv in ln.split("\t")[1:])
                    for ln in f.read().splitlines()]


def test_set_edits_routes_reloads_and_records(nginx, backends, tmp_path):
    s = Setup(nginx, backends, tmp_path)
    before = s.text()

    rc, out, err = s.ctl("set", "/api/", "50")
    assert rc == 0, out + err
    assert "0% -> 50%" in out
    assert "confirmed" in out

    after = s.text()
    assert "percent  50;" in after
    # only the value changed: comments, spacing, the other route kept
    assert after == before.replace("percent  0;", "percent  50;", 1)
    assert s.percent("/api/", want=50.0) == 50.0

    # the running nginx routes by the new percent, to real backends
    keys = ["k%d" % i for i in range(200)]
    for k in keys[:40]:
        st, hdrs, body = s.ngx.pipeline([("GET", "/api/x",
                                          {"X-Key": k})])[0]
        want = harness.strangler_side("/api/", k, 50)
        assert st == 200 and hdrs["x-strangler-target"] == want, k
        assert json.loads(body)["side"] == want

    h = s.history_lines()
    assert len(h) == 1
    assert h[0]["route"] == "/api/" and h[0]["old"] == "0"
    assert h[0]["new"] == "50" and h[0]["action"] == "set"
    assert h[0]["user"]

    # writes stay on legacy whatever the percent
    st, hdrs, _ = s.ngx.pipeline([("POST", "/api/x", {"X-Key": "k1"},
                                   b"{}")])[0]
    assert hdrs["x-strangler-target"] == "legacy"


def test_rollback_walks_history_back(nginx, backends, tmp_path):
    s = Setup(nginx, backends, tmp_path)

    assert s.ctl("set", "/api/", "10")[0] == 0
    assert s.ctl("set", "/api/", "50")[0] == 0
    assert s.ctl("set", "/api/", "12.5")[0] == 0
    assert s.percent(want=12.5) == 12.5

    rc, out, err = s.ctl("rollback", "/api/")
    assert rc == 0, out + err
    assert "12.5% -> 50%" in out
    assert s.percent(want=50.0) == 50.0, out + err

    rc, out, err = s.ctl("rollback", "/api/")
    assert rc == 0 and s.percent(want=10.0) == 10.0, out + err
    rc, out, err = s.ctl("rollback", "/api/")
    assert rc == 0 and s.percent(want=0.0) == 0.0, out + err
    assert "percent  0;" in s.text()

    # nothing earlier: refused, nothing changed
    rc, out, err = s.ctl("rollback", "/api/")
    assert rc != 0 and "no earlier percent" in err
    assert s.percent() == 0.0

    acts = [(h["old"], h["new"], h["action"]) for h in s.history_lines()]
    assert acts == [("0", "10", "set"), ("10", "50", "set"),
                    ("50", "12.5", "set"), ("12.5", "50", "rollback"),
                    ("50", "10", "rollback"), ("10", "0", "rollback")]


def test_dry_run_keys_agrees_with_module(nginx, backends, tmp_path):
    s = Setup(nginx, backends, tmp_path)
    keys = ["user-%d" % i for i in range(3000)]
    keyfile = tmp_path / "keys"
    keyfile.write_text("\n".join(keys) + "\n")
    text = s.text()

    before = s.sides(keys)
    assert s.percent("/fast/", want=10.0) == 10.0

    rc, out, err = s.ctl("set", "/fast/", "35", "--dry-run", "--keys",
                         str(keyfile))
    assert rc == 0, out + err
    assert "would move (legacy -> service): 25%" in out
    moved = [ln.split("\t")[1] for ln in out.splitlines()
             if ln.startswith("move\t")]

    # a dry run changes nothing
    assert s.text() == text
    assert not os.path.exists(s.history)
    assert s.sides(keys) == before

    assert s.ctl("set", "/fast/", "35")[0] == 0
    after = s.sides(keys)
    changed = [k for k, a, b in zip(keys, before, after) if a != b]

    assert changed == moved
    assert "keys: 3000, would move: %d" % len(moved) in out
    assert 0.22 * 3000 < len(moved) < 0.28 * 3000
    # monotone: raising only moves legacy -> service
    assert all(a == "legacy" for k, a, b in zip(keys, before, after)
               if a != b)

    # and back down: exactly the same keys return
    rc, out, err = s.ctl("set", "/fast/", "10", "--dry-run", "--keys",
                         str(keyfile))
    back = [ln.split("\t")[1] for ln in out.splitlines()
            if ln.startswith("move\t")]
    assert back == moved and "service -> legacy" in out


def test_lag_gate_refuses_unless_forced(nginx, backends, tmp_path):
    s = Setup(nginx, backends, tmp_path)
    text = s.text()

    s.write_lag(lag_ms=9000)
    rc, out, err = s.ctl("set", "/api/", "20")
    assert rc != 0
    assert "lag is 9.00s" in err and "--force" in err
    assert s.text() == text and s.percent() == 0.0
    assert s.history_lines() == []

    # a stale lag file is unknown lag: refused too
    s.write_lag(lag_ms=10, age_ms=60000)
    rc, out, err = s.ctl("set", "/api/", "20")
    assert rc != 0 and "stale" in err
    assert s.text() == text

    # a missing lag file as well
    os.unlink(s.lag)
    rc, out, err = s.ctl("set", "/api/", "20")
    assert rc != 0 and "lag unknown" in err

    # written in the future (a clock stepped back), or so long ago that
    # now - updated_ms overflows: unknown, refused
    s.write_lag(lag_ms=10, age_ms=-365 * 24 * 3600 * 1000)
    rc, out, err = s.ctl("set", "/api/", "20")
    assert rc != 0 and "written in the future" in err, err
    with open(s.lag, "w") as f:
        f.write("v=1 updated_ms=-9223372036854775799 lag_ms=10 "
                "watermark_ms=1 pending=0\n")
    rc, out, err = s.ctl("set", "/api/", "20")
    assert rc != 0 and "stale" in err, err

    # a FIFO in its place neither blocks nor passes
    os.unlink(s.lag)
    os.mkfifo(s.lag)
    rc, out, err = s.ctl("set", "/api/", "20")
    assert rc != 0 and "not a regular file" in err, err
    os.unlink(s.lag)
    assert s.text() == text

    s.write_lag(lag_ms=9000)
    rc, out, err = s.ctl("set", "/api/", "20", "--force")
    assert rc == 0, out + err
    assert "forced" in out
    assert s.percent(want=20.0) == 20.0

    # lowering the share is the safe direction: never refused for lag
    rc, out, err = s.ctl("set", "/api/", "5")
    assert rc == 0, out + err
    assert s.percent(want=5.0) == 5.0

    # a per-invocation limit
    rc, out, err = s.ctl("set", "/api/", "30", "--max-lag", "10s")
    assert rc == 0, out + err

    s.write_lag(lag_ms=100)
    assert s.ctl("set", "/api/", "40")[0] == 0


def test_failing_nginx_t_leaves_config_untouched(nginx, backends, tmp_path):
    s = Setup(nginx, backends, tmp_path)
    text = s.text()

    # someone broke the main config: nginx -t fails
    with open(s.ngx.conf) as f:
        good = f.read()
    with open(s.ngx.conf, "a") as f:
        f.write("\nno_such_directive on;\n")

    rc, out, err = s.ctl("set", "/api/", "50")
    assert rc != 0
    assert "-t\" failed" in err and "no_such_directive" in err
    assert "restored" in err
    assert s.text() == text
    assert s.percent() == 0.0
    assert s.history_lines() == []
    assert not [f for f in os.listdir(s.prefix) if "ctl-" in f]

    with open(s.ngx.conf, "w") as f:
        f.write(good)

    # reload fails (nginx -t passes): the file is restored as well
    wrapper = tmp_path / "nginx-noreload"
    wrapper.write_text("#!/bin/sh\ncase \"$*\" in *-s*) echo 'cannot "
                       "signal' >&2; exit 1;; esac\nexec %s \"$@\"\n"
                       % s.nginx_cmd)
    wrapper.chmod(0o755)
    rc, out, err = s.ctl("set", "/api/", "50", nginx_cmd=str(wrapper))
    assert rc != 0 and "reload\" failed" in err and "cannot signal" in err
    assert s.text() == text
    assert s.percent() == 0.0
    assert s.history_lines() == []

    # and with a working nginx the same change goes through
    assert s.ctl("set", "/api/", "50")[0] == 0
    assert s.percent(want=50.0) == 50.0


def test_bad_input_is_refused_with_reason(nginx, backends, tmp_path):
    s = Setup(nginx, backends, tmp_path)
    text = s.text()

    rc, out, err = s.ctl("set", "/api/", "101")
    assert rc != 0 and "invalid percent \"101\"" in err
    rc, out, err = s.ctl("set", "/api/", "1.234")
    assert rc != 0 and "invalid percent \"1.234\"" in err
    rc, out, err = s.ctl("set", "/nope/", "5")
    assert rc != 0 and "no route \"/nope/\"" in err and "\"/api/\"" in err
    assert s.text() == text

    # a routes file ctl cannot read names file and line
    bad = tmp_path / "bad.conf"
    bad.write_text("strangler_route /x/ {\n    percent 12.345;\n}\n")
    p = subprocess.run([CTL, "--routes", str(bad), "--nginx", "true",
                        "set", "/x/", "5"], capture_output=True, text=True,
                       env=ctl_env())
    assert p.returncode != 0
    assert "bad.conf:2: invalid percent \"12.345\"" in p.stderr


def test_status_shows_routes_traffic_and_lag(nginx, backends, tmp_path):
    s = Setup(nginx, backends, tmp_path)
    assert s.ctl("set", "/api/", "50")[0] == 0
    s.b["service"].set_status(503)
    reqs = [("GET", "/api/x", {"X-Key": "k%d" % i}) for i in range(100)]
    res = s.ngx.pipeline(reqs)
    nsvc = sum(1 for r in res if r[1]["x-strangler-target"] == "service")
    assert 0 < nsvc < 100
    s.write_lag(lag_ms=250)

    rc, out, err = s.ctl("status", "--json", "--interval", "0")
    assert rc == 0, out + err
    doc = {r["route"]: r for r in json.loads(out)}
    api = doc["/api/"]
    assert api["percent"] == 50.0 and api["running_percent"] == 50.0
    assert api["legacy_side"]["requests"] == 100 - nsvc
    assert api["service_side"]["requests"] == nsvc
    assert api["service_side"]["error_pct"] == 100.0
    assert api["legacy_side"]["error_pct"] == 0.0
    assert api["lag_ms"] == 250
    assert doc["/fast/"]["percent"] == 10.0

    rc, out, err = s.ctl("status", "--interval", "0.2")
    assert rc == 0, out + err
    lines = out.splitlines()
    assert lines[0].split()[:2] == ["ROUTE", "PERCENT"]
    api_line = [ln for ln in lines if ln.startswith("/api/")][0]
    assert "50" in api_line and "0.25s" in api_line

    # the status url down: the file's routes still print, exit status 1
    rc, out, err = s.ctl("status", "--interval", "0", "--status-url",
                         "http://127.0.0.1:1/strangler/status")
    assert rc == 1 and "status unavailable" in err and "/api/" in out


def test_dry_run_keys_on_an_exact_route(nginx, backends, tmp_path):
    """The route's name as the module hashes it is "= /exact"."""
    s = Setup(nginx, backends, tmp_path)
    keys = ["acct-%d" % i for i in range(500)]
    keyfile = tmp_path / "keys"
    keyfile.write_text("\n".join(keys) + "\n")

    before = s.sides(keys, "/exact")
    assert before == [harness.strangler_side("= /exact", k, 20)
                      for k in keys]
    rc, out, err = s.ctl("set", "= /exact", "60", "--dry-run", "--keys",
                         str(keyfile))
    assert rc == 0, out + err
    moved = [ln.split("\t")[1] for ln in out.splitlines()
             if ln.startswith("move\t")]
    assert s.ctl("set", "= /exact", "60")[0] == 0
    after = s.sides(keys, "/exact")
    assert moved == [k for k, a, b in zip(keys, before, after) if a != b]
    assert moved


def test_settings_from_config_file_and_environment(nginx, backends,
                                                   tmp_path):
    s = Setup(nginx, backends, tmp_path)
    conf = tmp_path / "ctl.conf"
    conf.write_text(
        "# strangler-ctl settings\n"
        "routes = %s\n"
        "nginx = %s\n"
        "history = %s\n"
        "max_lag = 2s\n"
        "lag_file = service_up %s\n" % (s.routes, s.nginx_cmd, s.history,
                                         s.lag))
    env = ctl_env(STRANGLER_CTL_CONF=str(conf),
                  STRANGLER_STATUS_URL=s.ngx.url("/strangler/status"))

    def run(*args):
        p = subprocess.run([CTL] + list(args), capture_output=True,
                           text=True, env=env, timeout=60)
        return p.returncode, p.stdout, p.stderr

    s.write_lag(lag_ms=3000)
    rc, out, err = run("set", "/api/", "10")
    assert rc != 0 and "over 2s" in err
    rc, out, err = run("--max-lag", "4s", "set", "/api/", "10")
    assert rc == 0, out + err
    assert "confirmed" in out
    assert s.history_lines()[-1]["new"] == "10"

    conf.write_text("routes = %s\nbogus_key = 1\n" % s.routes)
    rc, out, err = run("status")
    assert rc == 2 and "ctl.conf:2: unknown key \"bogus_key\"" in err


def test_example_configs_work_with_ctl(nginx, backends, tmp_path):
    """config/nginx/strangler.conf + routes.conf, as a user copies them,
    pass nginx -t, serve, and strangler-ctl drives them."""
    b = backends("legacy", "service")
    cfg = os.path.join(harness.ROOT, "config", "nginx")
    routes = str(tmp_path / "routes.conf")
    with open(os.path.join(cfg, "routes.conf")) as f:
        text = f.read()
    with open(routes, "w") as f:
        f.write(text)
    with open(os.path.join(cfg, "strangler.conf")) as f:
        http = f.read()
    http = (http.replace("/etc/nginx/strangler/routes.conf", routes)
            .replace("listen 80;", "listen 127.0.0.1:{port};")
            .replace("127.0.0.1:8080", "127.0.0.1:%d" % b["legacy"].port)
            .replace("127.0.0.1:9001", "127.0.0.1:%d" % b["service"].port)
            .replace("/usr/share/strangler/dashboard/",
                     os.path.join(harness.ROOT, "ngx_strangler_module",
                                  "dashboard") + "/")
            .replace("/run/strangler/lag/", str(tmp_path) + "/"))
    ngx = nginx(http)
    st, hdrs, body = ngx.pipeline(["/api/orders/7"])[0]
    assert st == 200 and hdrs["x-strangler-target"] == "legacy"

    env = ctl_env()
    e = ngx.env()
    cmd = "env LD_PRELOAD=%s ASAN_OPTIONS=%s %s -p %s -c %s" % (
        e.get("LD_PRELOAD", ""), e.get("ASAN_OPTIONS", ""),
        harness.NGINX_BIN, ngx.prefix, ngx.conf)
    p = subprocess.run([CTL, "--routes", routes, "--nginx", cmd,
                        "--status-url", ngx.url("/strangler/status"),
                        "set", "/api/orders/", "100"],
                       capture_output=True, text=True, env=env, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "confirmed" in p.stdout
    with open(routes) as f:
        assert f.read() == text.replace("percent  0;", "percent  100;", 1)

    def moved():
        st, hdrs, _ = ngx.pipeline([("GET", "/api/orders/7")])[0]
        return hdrs["x-strangler-target"] == "service"
    harness.wait_for(moved, timeout=10, what="route at 100%")
    # writes stay on the monolith (methods GET HEAD)
    st, hdrs, _ = ngx.pipeline([("POST", "/api/orders/7", {}, b"{}")])[0]
    assert hdrs["x-strangler-target"] == "legacy"


def test_symlinked_routes_file_stays_a_symlink(nginx, backends, tmp_path):
    s = Setup(nginx, backends, tmp_path)
    link = str(tmp_path / "routes-link.conf")
    os.symlink(s.routes, link)
    real = s.routes
    s.routes = link
    rc, out, err = s.ctl("set", "/api/", "30")
    assert rc == 0, out + err
    assert os.path.islink(link) and os.readlink(link) == real
    with open(real) as f:
        assert "percent  30;" in f.read()
    assert s.percent(want=30.0) == 30.0


def test_set_adds_percent_to_a_route_without_one(nginx, backends, tmp_path):
    s = Setup(nginx, backends, tmp_path)
    assert s.percent("/noperc/") == 0.0
    rc, out, err = s.ctl("set", "/noperc/", "15")
    assert rc == 0, out + err
    assert "strangler_route /noperc/ {\n    percent  15; service" in s.text()
    assert s.percent("/noperc/", want=15.0) == 15.0
    # and from then on only the value changes
    assert s.ctl("set", "/noperc/", "16")[0] == 0
    assert "percent  16; service" in s.text()


# every directive the module takes in a route block (route_grammar.h)
ROUTES_LAG_SOURCE = """\
strangler_route /api/ {
    service  service_up;
    legacy   legacy_up;
    percent  0;
    key      $http_x_key;
    methods  GET HEAD;
    max_lag  1m30s;
    lag_source lag-orders;
    read_your_writes on;
    read_your_writes_cookie rw;
}

strangler_route /fast/ {
    service service_up;
    percent 10;
    key $arg_k;
    max_lag 500ms;
    lag_source lag-orders stale=5s;
}
"""


def test_set_reads_the_routes_lag_source(nginx, backends, tmp_path):
    """With no lag file mapped in ctl.conf, `set` checks the lag file the
    route's own lag_source names, as the module reads it: the route's
    max_lag, stale= (default 2s), a path relative to the configuration
    directory; a directive the module does not know is refused."""
    s = Setup(nginx, backends, tmp_path, routes=ROUTES_LAG_SOURCE)
    s.lag = os.path.join(s.prefix, "lag-orders")
    text = s.text()

    s.write_lag(lag_ms=95000)
    rc, out, err = s.ctl("set", "/api/", "20", lag_map=False)
    assert rc != 0, out + err
    assert "lag is 95.00s, over 90s" in err and s.lag in err, err
    assert "lag not checked" not in out
    assert s.text() == text and s.percent() == 0.0

    # the module's default stale: 2s
    s.write_lag(lag_ms=10, age_ms=3000)
    rc, out, err = s.ctl("set", "/api/", "20", lag_map=False)
    assert rc != 0 and "stale, last written 3." in err, out + err
    # /fast/ allows 5s, but its max_lag is 500ms
    rc, out, err = s.ctl("set", "/fast/", "20", lag_map=False)
    assert rc == 0, out + err
    s.write_lag(lag_ms=600)
    rc, out, err = s.ctl("set", "/fast/", "30", lag_map=False)
    assert rc != 0 and "lag is 0.60s, over 0.5s" in err, out + err

    s.write_lag(lag_ms=80000)
    rc, out, err = s.ctl("set", "/api/", "20", lag_map=False)
    assert rc == 0, out + err
    assert s.percent(want=20.0) == 20.0

    # the grammar is the module's: lag_file is no route directive
    for bad, why in (("    lag_file /x;\n",
                      'unknown directive "lag_file" in strangler_route '
                      '"/fast/"'),
                     ("    lag_source /x stale=0;\n",
                      'invalid stale time "0" of lag_source'),
                     ("    lag_source /x 5s;\n",
                      'invalid parameter "5s" of lag_source'),
                     ("    percent 1 2;\n",
                      'invalid number of arguments in "percent"')):
        broken = s.text().replace("    key $arg_k;\n", "    key $arg_k;\n"
                                  + bad)
        path = tmp_path / "broken.conf"
        path.write_text(broken)
        p = subprocess.run([CTL, "--routes", str(path), "--nginx", "true",
                            "set", "/fast/", "50"], capture_output=True,
                           text=True, env=ctl_env())
        assert p.returncode != 0
        assert "broken.conf:17: " + why in p.stderr, p.stderr
        # nginx says the same
        with open(s.routes, "w") as f:
            f.write(broken)
        t = subprocess.run(s.nginx_cmd.split() + ["-t"],
                           capture_output=True, text=True)
        assert t.returncode != 0 and why in t.stderr, t.stderr
    with open(s.routes, "w") as f:
        f.write(text)
