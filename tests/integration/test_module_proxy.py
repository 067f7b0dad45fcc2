"""ngx_strangler_module with the rest of the proxy: upstream keepalive,
proxy_next_upstream, request bodies (plain and chunked) and HTTP/1.0
clients."""

import socket

import harness

CONF = """
    upstream legacy_up {
        server 127.0.0.1:{dead} max_fails=0;
        server 127.0.0.1:{lport} max_fails=0;
        keepalive 4;
    }
    upstream service_up {
        server 127.0.0.1:{sport};
        keepalive 4;
    }

    strangler_zone strangler 1m;
    strangler_legacy legacy_up;

    strangler_route /svc/ { service service_up; percent 100; }
    strangler_route /leg/ { service service_up; percent 0; }

    server {
        listen 127.0.0.1:{port};
        client_max_body_size 10m;

        location / {
            strangler on;
            proxy_pass http://$strangler_upstream;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_next_upstream error timeout;
            add_header X-Route $strangler_route;
        }

        location = /strangler/status { strangler_status; }
    }
"""


def start(nginx, backends):
    b = backends("legacy", "service")
    dead = harness.free_port()   # nothing listens there
    ngx = nginx(CONF, lport=b["legacy"].port, sport=b["service"].port,
                dead=dead)
    return ngx, b


def test_keepalive_and_next_upstream(nginx, backends):
    ngx, b = start(nginx, backends)
    res = ngx.pipeline(["/svc/%d" % i for i in range(60)]
                       + ["/leg/%d" % i for i in range(60)], batch=10)
    assert all(r[0] == 200 for r in res)
    assert [r[1]["x-backend"] for r in res] == ["service"] * 60 + \
        ["legacy"] * 60
    assert b["service"].hits == 60 and b["legacy"].hits == 60
    # nginx reused its upstream connections
    assert len(b["service"].srv.peers) <= 6, b["service"].srv.peers
    assert len(b["legacy"].srv.peers) <= 6

    # every legacy request went on past the dead server: no failure, and
    # the time histogram counted each request once
    leg = ngx.status()["routes"][1]["targets"]["legacy"]
    assert leg["responses"]["2xx"] == 60
    assert leg["upstream_response_seconds"]["count"] == 60
    assert "connect() failed" in ngx.error_log()


def test_request_bodies(nginx, backends):
    ngx, b = start(nginx, backends)
    big = b"x" * (300 * 1024)
    res = ngx.pipeline([("POST", "/svc/upload", {}, big),
                        ("PUT", "/leg/upload", {}, b"abc"),
                        ("POST", "/svc/empty", {}, b"")], batch=1)
    assert [r[0] for r in res] == [200, 200, 200]
    import json
    docs = [json.loads(r[2]) for r in res]
    assert docs[0]["side"] == "service" and docs[0]["body_len"] == len(big)
    assert docs[1]["side"] == "legacy" and docs[1]["body_len"] == 3
    assert docs[2]["body_len"] == 0

    # a chunked request body
    with socket.create_connection(("127.0.0.1", ngx.port), timeout=10) as s:
        s.sendall(b"POST /svc/chunked HTTP/1.1\r\nHost: x\r\n"
                  b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                  b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
        data = b""
        while True:
            d = s.recv(65536)
            if not d:
                break
            data += d
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    doc = json.loads(body)
    assert doc["side"] == "service" and doc["body_len"] == 11


def test_http10_client(nginx, backends):
    ngx, b = start(nginx, backends)
    for path, side in (("/svc/old", "service"), ("/leg/old", "legacy")):
        with socket.create_connection(("127.0.0.1", ngx.port),
                                      timeout=10) as s:
            s.sendall(("GET %s HTTP/1.0\r\n\r\n" % path).encode())
            data = b""
            while True:
                d = s.recv(65536)
                if not d:
                    break
                data += d
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        assert lines[0].startswith("HTTP/1.1 200"), lines
        hdrs = {k.lower(): v for k, _, v in
                (ln.partition(": ") for ln in lines[1:])}
        assert hdrs["x-backend"] == side
        assert hdrs["x-route"] == path[:5]
        assert b'"side": "%s"' % side.encode() in body
