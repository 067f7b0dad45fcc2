"""The whole pipeline for the lag gate's end-to-end tests
(test_lag_e2e.py): MariaDB with the demo's shop schema, the dev broker,
`cdc-bridge run` (heartbeat row every 200 ms), `cdc-bridge sink --service
orders` writing the lag file, PostgreSQL, the demo's monolith and orders
service (auto/demo-apps/), and nginx with the module in front of them.

Everything on 127.0.0.1, in one temporary directory; Stack.stop() ends
only the processes it started."""

import json
import os
import signal
import subprocess
import sys
import threading
import time

import harness
import sink_support as ss
import source_lib

APPS = os.path.join(harness.ROOT, "auto", "demo-apps")
ROUTE = "/api/orders/"

SCHEMA = """
CREATE DATABASE shop;
CREATE TABLE shop.orders (
    id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    customer_id INT UNSIGNED NOT NULL,
    status VARCHAR(20) NOT NULL,
    total DECIMAL(10,2) NOT NULL,
    created_at DATETIME NOT NULL,
    KEY (customer_id)) ENGINE=InnoDB;
CREATE TABLE shop.order_items (
    id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    order_id INT UNSIGNED NOT NULL,
    sku VARCHAR(40) NOT NULL,
    qty INT NOT NULL,
    price DECIMAL(10,2) NOT NULL,
    KEY (order_id)) ENGINE=InnoDB;
CREATE TABLE shop.cdc_heartbeat (id INT UNSIGNED NOT NULL PRIMARY KEY,
    beat_ms BIGINT NOT NULL, beat_at TIMESTAMP(3) NOT NULL);
CREATE USER 'shop'@'127.0.0.1' IDENTIFIED BY 'shop-pw';
GRANT ALL ON shop.* TO 'shop'@'127.0.0.1';
INSERT INTO shop.orders (customer_id, status, total, created_at)
    VALUES (1, 'paid', 12.50, '2026-01-02 03:04:05'),
           (2, 'new', 3.00, '2026-01-03 04:05:06');
INSERT INTO shop.order_items (order_id, sku, qty, price)
    VALUES (1, 'tea', 2, 5.00), (1, 'mug', 1, 2.50), (2, 'beans', 1, 3.00);
"""

NGINX_HTTP = """
    # no upstream keep-alive: the demo apps write headers and body
    # separately, which costs a delayed ACK (40 ms) per request on a
    # kept-alive connection and none on a fresh one
    upstream monolith   { server 127.0.0.1:{monolith}; }
    upstream orders_svc { server 127.0.0.1:{service}; }

    strangler_zone strangler 1m;
    strangler_legacy monolith;

    strangler_route /api/orders/ {
        service  orders_svc;
        legacy   monolith;
{route}
    }

    server {
        listen 127.0.0.1:{port};

        location / {
            strangler on;
            proxy_pass http://$strangler_upstream;
            add_header X-Strangler-Target $strangler_target always;
            add_header X-Strangler-Reason $strangler_reason always;
        }

        location = /strangler/status {
            strangler_status;
            allow 127.0.0.1;
            deny all;
        }
    }
"""


class App:
    """One of auto/demo-apps/*.py as a process."""

    def __init__(self, workdir, script, *args):
        self.port = harness.free_port()
        self.log = open(os.path.join(str(workdir), script + ".log"), "ab")
        self.proc = subprocess.Popen(
            ["/usr/bin/python3", os.path.join(APPS, script), str(self.port)]
            + [str(a) for a in args], stdout=self.log, stderr=self.log)
        harness.wait_port(self.port, proc=self.proc)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Stack:
    def __init__(self, tmp):
        self.tmp = str(tmp)
        self.lagfile = os.path.join(self.tmp, "lag", "orders")
        os.makedirs(os.path.dirname(self.lagfile))
        self.parts = []
        self.ngx = None
        self.sink = None
        self.run = None
        self.stopped_sink = False

    def start(self):
        self.mariadb = harness.MariaDB(os.path.join(self.tmp, "mariadb"))
        self.parts.append(self.mariadb)
        self.mariadb.script(SCHEMA)
        self.mariadb.cdc_user()
        self.mariadb.sql("GRANT INSERT, UPDATE ON shop.cdc_heartbeat TO "
                         "'cdc'@'%'")
        self.postgres = harness.Postgres(os.path.join(self.tmp, "pg"))
        self.parts.append(self.postgres)
        self.postgres.create_db("orders")
        self.kafka = harness.DevKafka(os.path.join(self.tmp, "kafka"))
        self.parts.append(self.kafka)

        hb = {"CDC_SOURCE_HEARTBEAT_TABLE": "shop.cdc_heartbeat",
              "CDC_SOURCE_HEARTBEAT_INTERVAL": "200ms"}
        self.run = source_lib.Bridge(os.path.join(self.tmp, "run"),
                                     self.mariadb, self.kafka,
                                     tables="shop.orders shop.order_items",
                                     **hb)
        self.run.start()
        self.parts.append(self.run)

        env = ss.env_for(self.kafka, self.postgres, mariadb=self.mariadb,
                         tables="shop.orders=public.orders "
                                "shop.order_items=public.order_items",
                         create_tables="yes", lag_file=self.lagfile,
                         batch_time="50ms")
        env["CDC_KAFKA_TOPIC_PREFIX"] = "monolith"
        env.update(hb)
        self.sink = ss.Sink(os.path.join(self.tmp, "sink"), env).start()
        self.parts.append(self.sink)

        self.monolith = App(self.tmp, "monolith.py", self.mariadb.port)
        self.parts.append(self.monolith)
        self.service = App(self.tmp, "orders_service.py",
                           self.postgres.dsn("orders"))
        self.parts.append(self.service)

        # the snapshot has reached the service and the lag file is fresh
        ss.wait_rows(self.postgres, "SELECT count(*) FROM public.order_items",
                     [(3,)], sink=self.sink, timeout=120)
        harness.wait_for(lambda: self.lag_ok(1000), timeout=60,
                         what="a fresh lag file with lag under 1 s")
        return self

    # ------------------------------------------------------------ nginx

    def nginx(self, route):
        """Starts nginx, or reloads it, with `route` as the body of the
        /api/orders/ route (after service and legacy)."""
        kw = {"monolith": self.monolith.port, "service": self.service.port,
              "route": route.replace("{lagfile}", self.lagfile)}
        if self.ngx is None:
            self.ngx = harness.Nginx(os.path.join(self.tmp, "nginx"),
                                     workers=2)
            self.ngx.start(NGINX_HTTP, **kw)
        else:
            self.ngx.reload(NGINX_HTTP, **kw)
        return self.ngx

    def reasons(self):
        r = [x for x in self.ngx.status()["routes"] if x["name"] == ROUTE]
        return r[0]["reasons"]

    # ------------------------------------------------------------ lag

    def lag(self):
        try:
            return ss.read_lagfile(self.lagfile)
        except (OSError, ValueError):
            return None

    def lag_ok(self, limit_ms):
        lag = self.lag()
        return (lag is not None and 0 <= lag["lag_ms"] <= limit_ms
                and time.time() * 1000 - lag["updated_ms"] < 1000)

    def sink_pause(self):
        self.sink.proc.send_signal(signal.SIGSTOP)
        self.stopped_sink = True

    def sink_resume(self):
        self.sink.proc.send_signal(signal.SIGCONT)
        self.stopped_sink = False

    # ------------------------------------------------------------ HTTP

    def probe(self, keys, oid=1):
        """GET /api/orders/<oid> once per key (Cookie uid=KEY), pipelined;
        returns [(key, status, app that answered, reason header, body)]."""
        reqs = [("GET", "%s%d" % (ROUTE, oid), {"Cookie": "uid=" + k})
                for k in keys]
        out = []
        for k, (st, h, body) in zip(keys, self.ngx.pipeline(reqs)):
            out.append((k, st, h.get("x-app"), h.get("x-strangler-reason"),
                        body))
        return out

    def request(self, method, path, cookies=None, body=None):
        """One request through nginx; returns (status, headers, doc)."""
        headers = {}
        if cookies:
            headers["Cookie"] = "; ".join("%s=%s" % kv
                                          for kv in cookies.items())
        data = b""
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        st, h, raw = self.ngx.pipeline([(method, path, headers, data)])[0]
        try:
            doc = json.loads(raw) if raw else None
        except ValueError:
            doc = raw
        return st, h, doc

    # ------------------------------------------------------------ stop

    def problems(self):
        out = []
        if self.ngx is not None:
            out += self.ngx.problems()
        if self.sink is not None:
            out += self.sink.problems()
        if self.run is not None:
            out += self.run.sanitizer_reports()
        return out

    def stop(self):
        if self.stopped_sink and self.sink and self.sink.alive():
            self.sink_resume()
        if self.ngx is not None:
            self.ngx.stop()
        for p in reversed(self.parts):
            try:
                p.stop()
            except Exception as e:  # keep stopping the others
                print("stopping %r: %s" % (p, e), file=sys.stderr)


class Writer:
    """Places orders through nginx (POST goes to legacy) every `interval`
    seconds in a thread, so the monolith keeps writing."""

    def __init__(self, stack, interval=0.05):
        self.stack = stack
        self.interval = interval
        self.done = threading.Event()
        self.ok = 0
        self.failed = []
        self.t = threading.Thread(target=self._loop, daemon=True)

    def _loop(self):
        n = 0
        while not self.done.is_set():
            n += 1
            try:
                st, _, doc = self.stack.request(
                    "POST", ROUTE, cookies={"uid": "writer"},
                    body={"customer_id": n % 20 + 1,
                          "items": [{"sku": "tea", "qty": 1,
                                     "price": "1.%02d" % (n % 100)}]})
                if st == 201:
                    self.ok += 1
                else:
                    self.failed.append((st, doc))
            except OSError as e:
                self.failed.append(str(e))
            self.done.wait(self.interval)

    def __enter__(self):
        self.t.start()
        return self

    def __exit__(self, *exc):
        self.done.set()
        self.t.join(timeout=10)
