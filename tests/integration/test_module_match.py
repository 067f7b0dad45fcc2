"""ngx_strangler_module: which route a request matches.  Like location:
exact first, then the longest prefix, then regexes in declaration order
(a regex match wins over the prefix unless the prefix is "^~"); no match
goes to strangler_legacy.  Routes hash independently."""

import random

import harness

UPSTREAMS = "".join("    upstream %s { server 127.0.0.1:1; }\n" % u for u in (
    "default_up", "other_up", "s_api", "l_api", "s_orders", "s_exact",
    "s_re1", "s_re2", "s_static", "s_png"))

CONF = UPSTREAMS + r"""
    strangler_legacy default_up;

    strangler_route /api/ { service s_api; legacy l_api; percent 100; }
    strangler_route /api/orders/ { service s_orders; percent 100; }
    strangler_route = /api/orders/ { service s_exact; percent 100; }
    strangler_route ~ "^/api/orders/\d+\.json$" {
        service s_re1; percent 100;
    }
    strangler_route ~ \.json$ { service s_re2; percent 100; }
    strangler_route ^~ /static/ { service s_static; percent 100; }
    strangler_route ~* \.PNG$ { service s_png; percent 100; }

    strangler_route /a/ { service s_api; percent 10; key $arg_k; }
    strangler_route /b/ { service s_api; percent 10; key $arg_k; }

    server {
        listen 127.0.0.1:{port};
        keepalive_requests 100000;

        location / {
            strangler on;
            return 200 "$strangler_route|$strangler_upstream|$strangler_target";
        }

        location /other/ {
            strangler on;
            strangler_legacy other_up;
            return 200 "$strangler_route|$strangler_upstream|$strangler_target";
        }

        location /off/ {
            return 200 "[$strangler_route|$strangler_upstream]";
        }
    }
"""

CASES = [
    ("/api/orders/", "= /api/orders/", "s_exact"),
    ("/api/orders/x", "/api/orders/", "s_orders"),
    ("/api/ordersx", "/api/", "s_api"),
    ("/api/other", "/api/", "s_api"),
    ("/api/orders/12.json", r"~ ^/api/orders/\d+\.json$", "s_re1"),
    ("/api/orders/ab.json", r"~ \.json$", "s_re2"),
    ("/x.json", r"~ \.json$", "s_re2"),
    ("/static/a.json", "^~ /static/", "s_static"),
    ("/static/a.png", "^~ /static/", "s_static"),
    ("/img/a.png", r"~* \.PNG$", "s_png"),
    ("/nothing", "", "default_up"),
    ("/ap", "", "default_up"),
    ("/other/x", "", "other_up"),
]


def test_match_order(nginx):
    ngx = nginx(CONF)
    res = ngx.pipeline([c[0] for c in CASES])
    for (uri, route, upstream), (status, _, body) in zip(CASES, res):
        assert status == 200
        got = body.decode().split("|")
        assert got[:2] == [route, upstream], uri
        assert got[2] == ("legacy" if route == "" else "service")

    # strangler off: the variables are empty
    assert ngx.pipeline(["/off/x"])[0][2] == b"[|]"


def test_routes_hash_independently(nginx):
    ngx = nginx(CONF)
    keys = ["u%d" % i for i in range(20000)]
    on_a = ngx.pipeline(["/a/?k=" + k for k in keys])
    on_b = ngx.pipeline(["/b/?k=" + k for k in keys])
    a = {k for k, r in zip(keys, on_a) if r[2].endswith(b"|service")}
    b = {k for k, r in zip(keys, on_b) if r[2].endswith(b"|service")}
    assert 1800 < len(a) < 2200 and 1800 < len(b) < 2200
    # independent: about 10% of 10%, not the same 10%
    assert 100 < len(a & b) < 320, len(a & b)


def reference(routes, uri):
    """The expected match among exact and prefix routes."""
    for kind, pat in routes:
        if kind == "=" and pat == uri:
            return "= " + pat
    best = None
    for kind, pat in routes:
        if kind == "" and uri.startswith(pat):
            if best is None or len(pat) > len(best):
                best = pat
    return best or ""


def test_many_routes_longest_prefix(nginx):
    rnd = random.Random(7)
    seg = ["a", "b", "ab", "abc", "x", "orders", "o"]

    def path(n):
        return "/" + "/".join(rnd.choice(seg) for _ in range(n))

    routes = set()
    while len(routes) < 600:
        p = path(rnd.randint(1, 4))
        if rnd.random() < 0.5:
            p += "/"
        routes.add(("=" if rnd.random() < 0.15 else "", p))
    routes = sorted(routes)
    rnd.shuffle(routes)

    body = UPSTREAMS + "    strangler_legacy default_up;\n"
    for kind, p in routes:
        head = ("= " if kind else "") + p
        body += ("    strangler_route %s { service s_api; percent 0; }\n"
                 % head)
    body += """
    server {
        listen 127.0.0.1:{port};
        location / { strangler on; return 200 "$strangler_route"; }
    }
"""
    ngx = nginx(body)
    uris = [path(rnd.randint(1, 5)) + rnd.choice(["", "/", "x", "/y"])
            for _ in range(4000)]
    uris += [p for _, p in routes]
    res = ngx.pipeline(uris)
    wrong = [(u, r[2].decode(), reference(routes, u))
             for u, r in zip(uris, res)
             if r[2].decode() != reference(routes, u)]
    assert wrong == []
    assert sum(1 for u in uris if reference(routes, u)) > 1000
