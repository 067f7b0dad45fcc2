"""Helpers for the sink tests (tests/integration/test_sink_*.py): run
`cdc-bridge sink` / `verify` with CDC_* environment variables, and write
Debezium change events straight to the dev broker, so the sink is tested
on its own as well as behind `cdc-bridge run`."""

import json
import os
import signal
import subprocess
import time

import harness

PREFIX = "mono"


def env_for(devkafka, postgres, db="orders", service="orders",
            tables="shop.orders=public.orders", mariadb=None, **extra):
    """The environment a sink of `service` runs with.  extra: more
    CDC_SERVICE_<NAME>_<KEY> values (lowercase key names)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDC_")}
    up = service.upper()
    env.update({
        "CDC_KAFKA_BROKERS": devkafka.bootstrap,
        "CDC_KAFKA_TOPIC_PREFIX": PREFIX,
        "CDC_SOURCE_TABLES": "shop.*",
        "CDC_SERVICE_%s_POSTGRES" % up: postgres.dsn(db),
        "CDC_SERVICE_%s_TABLES" % up: tables,
        "CDC_SERVICE_%s_BATCH_TIME" % up: "50ms",
    })
    if mariadb is not None:
        env.update({
            "CDC_SOURCE_HOST": "127.0.0.1",
            "CDC_SOURCE_PORT": str(mariadb.port),
            "CDC_SOURCE_USER": "root",
            "CDC_SOURCE_PASSWORD": "",
        })
    for k, v in extra.items():
        env["CDC_SERVICE_%s_%s" % (up, k.upper())] = str(v)
    if os.environ.get("SINK_LOG_LEVEL"):      # e.g. debug, when digging
        env["CDC_LOG_LEVEL"] = os.environ["SINK_LOG_LEVEL"]
    return env


class Sink:
    """`cdc-bridge sink --service NAME` under ASan, its log in workdir."""

    def __init__(self, workdir, env, service="orders", args=(),
                 asan=harness.ASAN, leaks=False):
        self.dir = str(workdir)
        os.makedirs(self.dir, exist_ok=True)
        self.env = harness.sanitizer_env(env, self.dir) if asan else env
        if asan and not leaks:
            # most tests kill or stop sinks mid-way: leaks are checked
            # by test_sink_apply.py's clean shutdown (leaks=True)
            self.env["ASAN_OPTIONS"] += ":detect_leaks=0"
        self.service = service
        self.args = list(args)
        self.asan = asan
        self.proc = None
        self.n = 0

    @property
    def logfile(self):
        return os.path.join(self.dir, "sink-%d.log" % self.n)

    def start(self, *extra):
        self.n += 1
        self.log = open(self.logfile, "wb")
        self.proc = subprocess.Popen(
            [harness.bridge_path(self.asan), "sink", "--service",
             self.service] + self.args + list(extra),
            stdout=self.log, stderr=self.log, env=self.env)
        return self

    def run(self, *extra, timeout=120):
        """Runs to completion (replay, reset); returns (rc, log text)."""
        self.start(*extra)
        rc = self.proc.wait(timeout=timeout)
        return rc, self.output()

    def output(self):
        with open(self.logfile, errors="replace") as f:
            return f.read()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self, timeout=30):
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode if self.proc else None

    def problems(self):
        return harness.sanitizer_reports(self.dir)


def verify(env, service="orders", asan=harness.ASAN, args=()):
    e = harness.sanitizer_env(env) if asan else dict(env)
    if asan:
        e["ASAN_OPTIONS"] += ":detect_leaks=0"
    p = subprocess.run([harness.bridge_path(asan), "verify", "--service",
                        service] + list(args), capture_output=True,
                       text=True, env=e, timeout=300)
    return p.returncode, p.stdout + p.stderr


class Events:
    """Writes Debezium envelopes for shop.<table> to the dev broker."""

    def __init__(self, devkafka, db="shop"):
        self.k = devkafka
        self.db = db
        self.p = devkafka.producer(**{"linger.ms": 5,
                                      "queue.buffering.max.messages":
                                      1000000})
        self.pos = 4
        self.ts_ms = int(time.time()) * 1000

    def topic(self, table):
        return "%s.%s.%s" % (PREFIX, self.db, table)

    def send(self, table, op, before=None, after=None, key=None,
             ts_ms=None, topic=None):
        self.pos += 100
        row = after if after is not None else before
        if key is None and row is not None:
            key = {"id": row["id"]} if "id" in row else None
        value = {
            "before": before, "after": after,
            "source": {"version": "test", "connector": "mysql",
                       "name": PREFIX,
                       "ts_ms": self.ts_ms if ts_ms is None else ts_ms,
                       "db": self.db, "table": table, "server_id": 1,
                       "gtid": "0-1-%d" % self.pos, "file": "binlog.000001",
                       "pos": self.pos, "row": 0, "snapshot": "false"},
            "op": op, "ts_ms": int(time.time() * 1000)}
        # a keyless row's key is the JSON text null, as the bridge sends
        # it: one partition per table, so its changes keep their order
        self.produce(topic or self.topic(table), json.dumps(key).encode(),
                     json.dumps(value).encode())

    def produce(self, topic, key, value):
        while True:
            try:
                self.p.produce(topic, key=key, value=value)
                break
            except BufferError:
                self.p.poll(0.1)
        self.p.poll(0)

    def partitions(self, topic):
        md = self.p.list_topics(topic, timeout=10)
        return sorted(md.topics[topic].partitions)

    def marker(self, ts_ms, tables=("cdc_heartbeat",)):
        """What `run` writes after each heartbeat row: a progress marker
        (op "m", docs/events.md) into every partition of each table's
        topic."""
        self.pos += 100
        value = json.dumps({
            "before": None, "after": None,
            "source": {"version": "test", "connector": "mysql",
                       "name": PREFIX, "ts_ms": ts_ms, "db": self.db,
                       "table": "cdc_heartbeat", "server_id": 1,
                       "gtid": "0-1-%d" % self.pos, "file": "binlog.000001",
                       "pos": self.pos, "row": 0, "snapshot": "false"},
            "op": "m", "ts_ms": int(time.time() * 1000)}).encode()
        for table in tables:
            topic = self.topic(table)
            for part in self.partitions(topic):
                while True:
                    try:
                        self.p.produce(topic, key=b"null", value=value,
                                       partition=part)
                        break
                    except BufferError:
                        self.p.poll(0.1)
        self.p.poll(0)

    def insert(self, table, row, **kw):
        self.send(table, "c", after=row, **kw)

    def update(self, table, before, after, **kw):
        self.send(table, "u", before=before, after=after, **kw)

    def delete(self, table, row, **kw):
        self.send(table, "d", before=row, **kw)

    def flush(self):
        left = self.p.flush(60)
        assert left == 0, "%d events not delivered" % left


def wait_rows(postgres, query, expect, db="orders", timeout=60, sink=None):
    """Polls query until it returns expect (a list of tuples)."""
    deadline = time.time() + timeout
    got = None
    while time.time() < deadline:
        try:
            got = postgres.sql(query, db=db)
        except Exception as e:  # the sink may not have created it yet
            got = e
        if got == expect:
            return got
        if sink is not None and not sink.alive():
            raise AssertionError("sink exited %s:\n%s"
                                 % (sink.proc.returncode, sink.output()))
        time.sleep(0.1)
    raise AssertionError("timed out: %r != %r" % (got, expect))


def read_lagfile(path):
    with open(path) as f:
        text = f.read()
    out = {}
    for tok in text.split():
        k, v = tok.split("=", 1)
        out[k] = v if k == "service" else int(v)
    return out
