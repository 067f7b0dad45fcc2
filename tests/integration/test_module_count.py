"""ngx_strangler_module: what is counted.  A request is counted when it is
decided (at the preaccess phase of a "strangler on" location, or at the
first read of a $strangler_* variable before the response starts) and its
response in the log phase.  Variables read after that never decide, so the
counts do not depend on the log_format; subrequests are routed but not
counted, so requests and responses always match."""

import socket
import time

import harness

CONF = """
    upstream legacy_up  { server 127.0.0.1:{lport}; }
    upstream service_up { server 127.0.0.1:{sport}; }

    strangler_zone strangler 1m;
    strangler_legacy legacy_up;

    strangler_route /app/   { service service_up; percent 100; }
    strangler_route /auth/  { service service_up; percent 100; }
    strangler_route /copy/  { service service_up; percent 100; }
    strangler_route /ssi/   { service service_up; percent 100; }
    strangler_route /inc/   { service service_up; percent 100; }
    strangler_route /ret/   { service service_up; percent 100; }
    strangler_route /said/  { service service_up; percent 100; }
    strangler_route /app2/  { service service_up; percent 100; }

    log_format strangler '$request_uri $status route=$strangler_route '
                         'target=$strangler_target '
                         'reason=$strangler_reason';

    server {
        listen 127.0.0.1:{port};
        access_log strangler.log strangler;    # in nginx's prefix
        strangler on;

        location /app/ {
            auth_request /auth/check;
            mirror /copy/m;
            proxy_pass http://$strangler_upstream;
        }

        location /auth/ {
            log_subrequest on;          # the log phase runs for these
            proxy_pass http://$strangler_upstream;
        }

        location /copy/ {
            internal;
            proxy_pass http://$strangler_upstream;
        }

        location /ssi/ {
            ssi on;
            default_type text/html;
            return 200 '$strangler_target <!--# include virtual="/inc/x" -->';
        }

        location /inc/ { proxy_pass http://$strangler_upstream; }

        location /ret/ { return 200 "plain"; }
        location /close/ { return 444; }
        location /said/ { return 200 "$strangler_target"; }

        location /old/ {
            set $t $strangler_target;           # decides, for /old/...
            rewrite ^/old/(.*)$ /app2/$1 last;
        }
        location /moved/ { rewrite ^/moved/(.*)$ /app2/$1 last; }
        location /app2/ {
            return 200 "$t|$strangler_route|$strangler_target";
        }

        location = /strangler/status { strangler_status; }
    }
"""


def route(st, name):
    return [x for x in st["routes"] if x["name"] == name][0]


def requests(r):
    return sum(t["requests"] for t in r["targets"].values())


def responses(r):
    return sum(sum(t["responses"].values()) for t in r["targets"].values())


def start(nginx, backends, tmp_path):
    b = backends("legacy", "service")
    ngx = nginx(CONF, lport=b["legacy"].port, sport=b["service"].port)
    return ngx, b


def wait_settled(ngx, name, n):
    """The log phase of the last response may trail its bytes a little."""
    for _ in range(100):
        r = route(ngx.status(), name)
        if responses(r) >= n:
            return r
        time.sleep(0.02)
    return route(ngx.status(), name)


def test_subrequests_routed_not_counted(nginx, backends, tmp_path):
    ngx, b = start(nginx, backends, tmp_path)
    n = 20
    res = ngx.pipeline(["/app/%d" % i for i in range(n)]
                       + ["/ssi/%d" % i for i in range(n)], batch=5)
    assert [r[0] for r in res] == [200] * (2 * n)
    assert all(r[1]["x-backend"] == "service" for r in res[:n])
    assert all(r[2].startswith(b"service {") and b'"side": "service"' in r[2]
               for r in res[n:]), res[n][2]

    # the subrequests were routed by their own routes ...
    def seen(path):
        return sum(p == path for _, p, _ in b["service"].srv.requests)
    assert seen("/auth/check") == n
    assert seen("/inc/x") == n
    harness.wait_for(lambda: seen("/copy/m") == n, timeout=5,
                     what="the mirror subrequests")
    assert b["legacy"].hits == 0

    # ... but only the clients' requests count, each with its response
    app = wait_settled(ngx, "/app/", n)
    assert requests(app) == n and responses(app) == n, app
    ssi = wait_settled(ngx, "/ssi/", n)
    assert requests(ssi) == n and responses(ssi) == n, ssi
    for name in ("/auth/", "/copy/", "/inc/"):
        r = route(ngx.status(), name)
        assert requests(r) == 0 and responses(r) == 0, r


def raw(port, data, timeout=5):
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        out = b""
        while True:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            out += chunk
    return out


def test_counts_do_not_depend_on_log_format(nginx, backends, tmp_path):
    """The access log reads $strangler_* for every request: it must not
    decide (and count) requests that were never decided."""
    ngx, b = start(nginx, backends, tmp_path)

    res = ngx.pipeline(["/ret/1", "/ret/2", "/said/1", "/strangler/status"])
    assert [r[0] for r in res] == [200] * 4
    assert res[2][2] == b"service"
    assert raw(ngx.port, b"GET /close/1 HTTP/1.1\r\nHost: x\r\n\r\n") == b""
    assert raw(ngx.port, b"\x16\x03\x01garbage\r\n\r\n").startswith(
        b"HTTP/1.1 400")

    st = ngx.status()
    # "return 200" without a variable: never decided, so nothing counted
    assert requests(route(st, "/ret/")) == 0
    assert responses(route(st, "/ret/")) == 0
    # "return 200 $strangler_target": decided before the response
    said = wait_settled(ngx, "/said/", 1)
    assert requests(said) == 1 and responses(said) == 1
    # no garbage, no 444, no status request counted as unmatched
    um = st["unmatched"]
    assert um["requests"] == 0, um
    assert sum(um["responses"].values()) == 0, um

    with open(str(tmp_path / "nginx0" / "strangler.log")) as f:
        log = f.read()
    lines = {ln.split()[0]: ln for ln in log.splitlines() if ln}
    assert "route=- target=- reason=-" in lines["/ret/1"], log
    assert "target=service reason=split" in lines["/said/1"], log
    assert "target=- " in lines["/strangler/status"], log


def test_rewrite_last_keeps_a_decision_made(nginx, backends, tmp_path):
    """A decision is made once: read before a "rewrite ... last", it is
    kept (it was made for the URI as it was then); not read before, it is
    made in the final location."""
    ngx, b = start(nginx, backends, tmp_path)
    res = ngx.pipeline(["/old/1", "/moved/1"])
    assert res[0][2] == b"legacy||legacy"       # no route for /old/1
    assert res[1][2] == b"|/app2/|service"
    st = ngx.status()
    assert st["unmatched"]["requests"] == 1
    assert requests(route(st, "/app2/")) == 1
