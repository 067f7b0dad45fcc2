"""ngx_strangler_module: bad configuration fails `nginx -t`, naming the
file, the line and the value."""

import re

import pytest

BASE = """
    upstream legacy_up  { server 127.0.0.1:1; }
    upstream service_up { server 127.0.0.1:2; }
    strangler_zone strangler 1m;
    strangler_legacy legacy_up;
%s
    server {
        listen 127.0.0.1:{port};
        location / { strangler on; proxy_pass http://$strangler_upstream; }
        location = /s { strangler_status; }
    }
"""

ROUTE = """
    strangler_route /api/ {
        service service_up;
        %s
    }
"""

# (name, http fragment, line marker, expected message parts)
CASES = [
    ("percent-101", ROUTE % "percent 101;", "percent 101",
     ['invalid percent "101"']),
    ("percent-neg", ROUTE % "percent -1;", "percent -1",
     ['invalid percent "-1"']),
    ("percent-3dec", ROUTE % "percent 12.345;", "percent 12.345",
     ['invalid percent "12.345"']),
    ("percent-abc", ROUTE % "percent abc;", "percent abc",
     ['invalid percent "abc"']),
    ("percent-100.01", ROUTE % "percent 100.01;", "percent 100.01",
     ['invalid percent "100.01"']),
    ("unknown-directive", ROUTE % "percent 5; weight 3;", "weight 3",
     ['unknown directive "weight"', '"/api/"']),
    ("duplicate-route", ROUTE % "percent 5;" + ROUTE % "percent 6;",
     "@2 strangler_route /api/", ['duplicate strangler_route "/api/"']),
    ("no-service", """
    strangler_route /api/ {
        legacy legacy_up;
        percent 5;
    }
""", "strangler_route /api/", ['"/api/" has no "service"']),
    ("bad-regex", """
    strangler_route ~ "^/api/(x" { service service_up; percent 5; }
""", 'strangler_route ~ "^/api/(x"',
     ['invalid strangler_route regex "^/api/(x"']),
    ("unknown-upstream", """
    strangler_route /api/ {
        service nosuch_svc;
        percent 5;
    }
""", "service nosuch_svc", ['unknown upstream "nosuch_svc"']),
    ("unknown-legacy", """
    strangler_route /api/ {
        service service_up;
        legacy  old_mono;
    }
""", "legacy  old_mono", ['unknown upstream "old_mono"']),
    ("unknown-method", ROUTE % "methods GET FETCH;", "methods GET FETCH",
     ['unknown method "FETCH"']),
    ("bad-modifier", """
    strangler_route =~ /x { service service_up; }
""", "strangler_route =~", ['invalid strangler_route modifier "=~"']),
    ("token-file", ROUTE % "percent 1;" + """
    strangler_override_header X-T file=/nonexistent/token;
""", "strangler_override_header",
     ['token file "/nonexistent/token" cannot be read']),
]


def line_of(conf, marker):
    nth = 1
    if marker.startswith("@"):
        nth, marker = int(marker[1]), marker[3:]
    with open(conf) as f:
        hits = [i + 1 for i, ln in enumerate(f) if marker in ln]
    return hits[nth - 1]


@pytest.mark.parametrize("name,frag,marker,parts", CASES,
                         ids=[c[0] for c in CASES])
def test_nginx_t_fails(nginx, name, frag, marker, parts):
    ngx = nginx(BASE % frag, start=False)
    ok, out = ngx.test_config()
    assert not ok, out
    assert "[emerg]" in out
    for p in parts:
        assert p in out, out
    assert "%s:%d" % (ngx.conf, line_of(ngx.conf, marker)) in out, out


@pytest.mark.parametrize("pct", ["0", "0.01", "0.5", "12.34", "100",
                                 "100.00", "99.99"])
def test_good_percents(nginx, pct):
    ngx = nginx(BASE % (ROUTE % ("percent %s;" % pct)), start=False)
    ok, out = ngx.test_config()
    assert ok, out


def test_status_needs_zone(nginx):
    conf = BASE.replace("strangler_zone strangler 1m;", "") % ""
    ngx = nginx(conf, start=False)
    ok, out = ngx.test_config()
    assert not ok
    assert '"strangler_status" needs a "strangler_zone"' in out
    assert "%s:%d" % (ngx.conf, line_of(ngx.conf, "strangler_status")) in out


def test_route_legacy_defaults_to_http_level(nginx):
    conf = BASE.replace("strangler_legacy legacy_up;", "") % (
        ROUTE % "percent 1;")
    ngx = nginx(conf, start=False)
    ok, out = ngx.test_config()
    assert not ok
    assert '"/api/" has no "legacy"' in out
    assert "%s:%d" % (ngx.conf,
                      line_of(ngx.conf, "strangler_route /api/")) in out


def test_zone_too_small(nginx):
    routes = "".join("    strangler_route /r%d/ { service service_up; }\n"
                     % i for i in range(200))
    conf = BASE.replace("strangler_zone strangler 1m;",
                        "strangler_zone strangler 32k;") % routes
    ngx = nginx(conf, start=False)
    ngx.expected.append(r"\[emerg\].*is too small for 200 routes")
    ok, out = ngx.test_config()
    assert not ok
    assert 'strangler_zone "strangler" (32768 bytes) is too small for ' \
        '200 routes' in out


def test_token_file_fifo(nginx, tmp_path):
    """file=PATH naming a FIFO: nginx -t refuses it at once (it used to
    block in open() for ever)."""
    import os
    fifo = tmp_path / "token.fifo"
    os.mkfifo(str(fifo))
    ngx = nginx(BASE % (ROUTE % "percent 1;" + """
    strangler_override_header X-T file=%s;
""" % fifo), start=False)
    try:
        ok, out = ngx.test_config(timeout=10)
    finally:
        # a writer lets an nginx -t of the old code see EOF and exit
        try:
            os.close(os.open(str(fifo), os.O_WRONLY | os.O_NONBLOCK))
        except OSError:
            pass
    assert not ok, out
    assert 'token file "%s" is not a regular file' % fifo in out, out
    assert "%s:%d" % (ngx.conf, line_of(ngx.conf, "file=")) in out, out


def write_bytes(ngx, frag, **subst):
    """Writes the config with "@XX@" in frag replaced by the byte 0xXX
    (the harness writes text; these bytes are not UTF-8)."""
    ngx.write(BASE % frag, **subst)
    with open(ngx.conf, "rb") as f:
        data = f.read()
    data = re.sub(rb"@([0-9A-F]{2})@",
                  lambda m: bytes([int(m.group(1), 16)]), data)
    with open(ngx.conf, "wb") as f:
        f.write(data)


UTF8_CASES = [
    ("route-latin1", ROUTE.replace("/api/", "/caf@E9@/") % "percent 1;",
     "strangler_route /caf", ['strangler_route "/caf\\xE9/" is not valid '
                              'UTF-8']),
    ("route-regex", """
    strangler_route ~ "^/x@FF@" { service service_up; }
""", "strangler_route ~", ['strangler_route "~ ^/x\\xFF" is not valid '
                          'UTF-8']),
    ("route-overlong", ROUTE.replace("/api/", "/@C0@@AF@/") % "",
     "strangler_route /", ['strangler_route "/\\xC0\\xAF/" is not valid']),
    ("upstream", """
    upstream svc@FE@ { server 127.0.0.1:3; }
    strangler_route /api/ { service svc@FE@; }
""", "strangler_route /api/", ['upstream name "svc\\xFE" is not valid '
                               'UTF-8']),
    ("zone", "", "strangler_zone", ['zone name "s\\xFF" is not valid']),
]


@pytest.mark.parametrize("name,frag,marker,parts", UTF8_CASES,
                         ids=[c[0] for c in UTF8_CASES])
def test_names_must_be_utf8(nginx, name, frag, marker, parts):
    """Route, upstream and zone names are shown in the status output, whose
    JSON and Prometheus forms must be UTF-8: nginx -t refuses others."""
    ngx = nginx(None, start=False)
    if name == "zone":
        frag = ROUTE % ""
        write_bytes(ngx, frag)
        with open(ngx.conf, "rb") as f:
            data = f.read().replace(b"strangler_zone strangler",
                                    b"strangler_zone s\xff")
        with open(ngx.conf, "wb") as f:
            f.write(data)
    else:
        write_bytes(ngx, frag)
    ok, out = ngx.test_config()
    assert not ok, out
    for p in parts:
        assert p in out, out
    with open(ngx.conf, "rb") as f:
        lines = f.read().decode("latin-1").splitlines()
    line = [i + 1 for i, ln in enumerate(lines) if marker in ln][0]
    assert "%s:%d" % (ngx.conf, line) in out, out


def test_utf8_route_name_in_status(nginx, tmp_path):
    """A valid UTF-8 route name works and is shown as such."""
    conf = BASE.replace("location = /s", "location = /strangler/status") % (
        ROUTE.replace("/api/", "/café/") % "percent 1;")
    ngx = nginx(conf)
    assert ngx.pipeline(["/caf%C3%A9/1"])[0][0] in (502, 504)
    st = ngx.status()
    r = [x for x in st["routes"] if x["name"] == "/café/"][0]
    assert r["targets"]["legacy"]["requests"] + \
        r["targets"]["service"]["requests"] == 1
    prom = ngx.status("prometheus")
    assert 'strangler_requests_total{route="/café/"' in prom
