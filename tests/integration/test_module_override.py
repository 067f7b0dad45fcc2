"""ngx_strangler_module: `methods` keeps other methods on legacy; the
override header forces a side only with the right token, which never shows
in the error log or the status output."""

import harness

TOKEN = "s3cr3t-T0ken-9f2c"
FILE_TOKEN = "from-file-4d1e8a"

CONF = """
    upstream legacy_up  { server 127.0.0.1:{lport}; }
    upstream service_up { server 127.0.0.1:{sport}; }

    strangler_zone strangler 1m;
    strangler_legacy legacy_up;

    strangler_route /all/ { service service_up; percent 100; key $arg_k; }
    strangler_route /none/ { service service_up; percent 0; key $arg_k; }
    strangler_route /file/ { service service_up; percent 0; }
    strangler_route /reads/ {
        service service_up;
        percent 100;
        methods GET HEAD;
    }

    strangler_override_header X-Strangler-Target {token};

    server {
        listen 127.0.0.1:{port};

        location / {
            strangler on;
            proxy_pass http://$strangler_upstream;
            add_header X-Reason $strangler_reason;
        }

        location /file/ {
            strangler on;
            strangler_override_header X-Test-Side file={tokenfile};
            proxy_pass http://$strangler_upstream;
        }

        location = /strangler/status { strangler_status; }
    }
"""


def start(nginx, backends, tmp_path):
    b = backends("legacy", "service")
    tf = tmp_path / "token"
    tf.write_text(FILE_TOKEN + "\n")
    ngx = nginx(CONF, lport=b["legacy"].port, sport=b["service"].port,
                token=TOKEN, tokenfile=tf, log_level="info")
    return ngx, b


def side(ngx, method, path, headers=None, body=None):
    st, h, _ = ngx.pipeline([(method, path, headers or {}, body)])[0]
    assert st == 200, (method, path, st)
    return h["x-backend"]


def test_methods(nginx, backends, tmp_path):
    ngx, b = start(nginx, backends, tmp_path)
    assert side(ngx, "GET", "/reads/1") == "service"
    assert side(ngx, "HEAD", "/reads/1") == "service"
    for m in ("POST", "PUT", "DELETE", "PATCH"):
        for i in range(5):
            assert side(ngx, m, "/reads/%d" % i, body=b"x=1") == "legacy", m
    # no methods: all methods split
    assert side(ngx, "POST", "/all/1", body=b"x") == "service"

    js = ngx.status()
    r = [x for x in js["routes"] if x["name"] == "/reads/"][0]
    assert r["methods"] == ["GET", "HEAD"]
    assert r["reasons"]["method"] == 20
    assert r["reasons"]["split"] == 2


def test_override(nginx, backends, tmp_path):
    ngx, b = start(nginx, backends, tmp_path)
    H = "X-Strangler-Target"

    # the right token forces either side, whatever the percent or method
    assert side(ngx, "GET", "/none/1", {H: "service:" + TOKEN}) == "service"
    assert side(ngx, "GET", "/all/1", {H: "legacy:" + TOKEN}) == "legacy"
    assert side(ngx, "POST", "/reads/1", {H: "service:" + TOKEN},
                b"x") == "service"
    st, h, _ = ngx.pipeline([("GET", "/none/1", {H: "service:" + TOKEN})])[0]
    assert h["x-reason"] == "override"

    # a wrong, partial or missing token changes nothing
    for v in ("service:wrong", "service:" + TOKEN[:-1],
              "service:" + TOKEN + "x", "service", "service:", TOKEN,
              "SERVICE:" + TOKEN, "service: " + TOKEN + "z"):
        assert side(ngx, "GET", "/none/1", {H: v}) == "legacy", v
        assert side(ngx, "GET", "/all/1", {H: v.replace("service",
                                                        "legacy")}) \
            == "service", v
    assert side(ngx, "GET", "/none/1") == "legacy"

    # the token from a file, in its own location
    assert side(ngx, "GET", "/file/none/1",
                {"X-Test-Side": "service:" + FILE_TOKEN}) == "service"
    assert side(ngx, "GET", "/file/none/1",
                {"X-Test-Side": "service:" + TOKEN}) == "legacy"
    assert side(ngx, "GET", "/file/none/1",
                {H: "service:" + TOKEN}) == "legacy"

    status = ngx.status("json")
    assert status["routes"][1]["reasons"]["override"] == 2
    text = (repr(status) + ngx.status("prometheus") + ngx.error_log())
    # the wrong tokens were noted, without the token
    assert "wrong token" in ngx.error_log()
    assert TOKEN not in text and FILE_TOKEN not in text
    assert TOKEN[:8] not in text


def raw_side(ngx, lines):
    """Sends one request with the header lines as given (repeated names
    allowed); returns the answering backend and X-Reason."""
    import socket
    req = ("GET /none/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
           + "".join(ln + "\r\n" for ln in lines) + "\r\n").encode()
    with socket.create_connection(("127.0.0.1", ngx.port), timeout=10) as s:
        s.sendall(req)
        f = s.makefile("rb")
        st, h, _ = harness._read_http_response(f, "GET")
        f.close()
    assert st == 200
    return h["x-backend"], h["x-reason"]


def test_override_header_given_twice(nginx, backends, tmp_path):
    """A repeated override header is ignored, whichever copy holds the
    token: the request is split as if it had none."""
    ngx, b = start(nginx, backends, tmp_path)
    H = "X-Strangler-Target"
    good, bad = H + ": service:" + TOKEN, H + ": service:nope"
    assert raw_side(ngx, [good]) == ("service", "override")
    for lines in ([good, bad], [bad, good], [good, good],
                  [good, "x-strangler-target: legacy:" + TOKEN]):
        assert raw_side(ngx, lines) == ("legacy", "split"), lines
    assert ngx.error_log().count(
        'ignored "X-Strangler-Target" header given more than once') == 4
