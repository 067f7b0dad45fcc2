"""Helpers for the source wing's tests (test_source_*.py): run
`cdc-bridge run` against the test MariaDB and dev broker, configured only
through CDC_* environment variables plus config/cdc-bridge.conf."""

import json
import os
import signal
import subprocess
import time
import urllib.request

import harness

CONF = os.path.join(harness.ROOT, "config", "cdc-bridge.conf")


def bridge_env(mariadb, kafka, ckdir, tables="shop.*", **extra):
    env = dict(os.environ)
    env.update({
        "CDC_SOURCE_HOST": "127.0.0.1",
        "CDC_SOURCE_PORT": str(mariadb.port),
        "CDC_SOURCE_USER": "cdc",
        "CDC_SOURCE_PASSWORD": mariadb.cdc_password,
        "CDC_SOURCE_SERVER_ID": "4242",
        "CDC_SOURCE_TABLES": tables,
        "CDC_SOURCE_SSL_MODE": "disabled",
        "CDC_KAFKA_BROKERS": kafka.bootstrap if kafka else "127.0.0.1:1",
        "CDC_KAFKA_TOPIC_PREFIX": "monolith",
        "CDC_KAFKA_LINGER": "5ms",
        "CDC_CHECKPOINT_DIR": str(ckdir),
        "CDC_CHECKPOINT_INTERVAL": "200ms",
        "CDC_METRICS_LISTEN": "127.0.0.1:%d" % harness.free_port(),
        "CDC_LOG_LEVEL": "info",
    })
    for k, v in extra.items():
        env[k if k.startswith("CDC_") else "CDC_" + k.upper()] = str(v)
    return env


class Bridge:
    """One `cdc-bridge run` process; .log() is its stderr."""

    def __init__(self, workdir, mariadb, kafka, tables="shop.*", args=(),
                 asan=harness.ASAN, **extra):
        self.dir = str(workdir)
        os.makedirs(self.dir, exist_ok=True)
        self.ckdir = os.path.join(self.dir, "checkpoint")
        self.env = bridge_env(mariadb, kafka, self.ckdir, tables, **extra)
        self.asan = asan
        if asan:
            self.env = harness.sanitizer_env(self.env, self.dir)
            # the process may be killed: leak reports are not the point
            self.env["ASAN_OPTIONS"] = self.env["ASAN_OPTIONS"].replace(
                "detect_leaks=1", "detect_leaks=0")
        self.args = list(args)
        self.proc = None
        self.logpath = os.path.join(self.dir, "run.log")
        self.starts = 0

    @property
    def metrics_url(self):
        return "http://" + self.env["CDC_METRICS_LISTEN"]

    def start(self, args=None):
        self.starts += 1
        self.logf = open(self.logpath, "ab")
        self.logf.write(b"---- start %d\n" % self.starts)
        self.logf.flush()
        cmd = [harness.bridge_path(self.asan), "run", "-c", CONF]
        cmd += self.args if args is None else list(args)
        self.proc = subprocess.Popen(cmd, stdout=self.logf,
                                     stderr=self.logf, env=self.env)
        return self

    def run(self, args=(), timeout=60):
        """Runs to completion; returns (exit status, output)."""
        cmd = [harness.bridge_path(self.asan), "run", "-c", CONF] + list(
            args)
        p = subprocess.run(cmd, env=self.env, capture_output=True,
                           text=True, timeout=timeout)
        return p.returncode, p.stdout + p.stderr

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill9(self):
        if self.alive():
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self, timeout=30):
        """SIGTERM; returns the exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("bridge ignored SIGTERM:\n" + self.log())
        return self.proc.returncode

    def log(self):
        try:
            with open(self.logpath, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def sanitizer_reports(self):
        return harness.sanitizer_reports(self.dir)

    def status(self):
        with urllib.request.urlopen(self.metrics_url + "/status",
                                    timeout=5) as r:
            return json.loads(r.read())

    def metrics(self):
        with urllib.request.urlopen(self.metrics_url + "/metrics",
                                    timeout=5) as r:
            return r.read().decode()

    def wait_status(self, cond, timeout=60, what="bridge status"):
        def probe():
            if not self.alive():
                raise AssertionError("bridge exited %s:\n%s"
                                     % (self.proc.returncode, self.log()))
            try:
                s = self.status()
            except Exception:
                return None
            return s if cond(s) else None
        try:
            return harness.wait_for(probe, timeout=timeout, interval=0.1,
                                    what=what)
        except TimeoutError:
            try:
                last = self.status()
            except Exception as e:
                last = e
            raise AssertionError("timed out waiting for %s; last status %s;"
                                 " log:\n%s" % (what, last,
                                                 self.log()[-4000:]))

    def checkpoint(self):
        try:
            with open(os.path.join(self.ckdir, "checkpoint.json")) as f:
                return json.load(f)
        except FileNotFoundError:
            return None


def setup_source(mariadb, ddl=""):
    """The cdc user and a shop database with `ddl` run in it."""
    mariadb.cdc_user()
    mariadb.sql("CREATE DATABASE IF NOT EXISTS shop")
    if ddl:
        mariadb.script(ddl, db="shop")


class TopicReader:
    """Reads topics continuously from the start (while the bridge
    produces, since the dev broker keeps only ~5 MiB per partition)."""

    def __init__(self, kafka, topics, partitions=None):
        self.c = kafka.consumer(**{"topic.metadata.refresh.interval.ms":
                                   1000})
        if partitions is None:
            self.c.subscribe(list(topics))
        else:
            # topics made with this many partitions: read them without a
            # group coordinator, which brokers going down can take away
            from confluent_kafka import OFFSET_BEGINNING, TopicPartition
            self.c.assign([TopicPartition(t, p, OFFSET_BEGINNING)
                           for t in topics for p in range(partitions)])
        self.msgs = []
        self._parsed = []

    def poll(self, seconds=0.5):
        deadline = time.time() + seconds
        while time.time() < deadline:
            batch = self.c.consume(10000, 0.1)
            for m in batch:
                if m.error():
                    continue
                self.msgs.append(m)
        return len(self.msgs)

    def until(self, cond, timeout=60, what="messages"):
        deadline = time.time() + timeout
        while time.time() < deadline:
            self.poll(0.3)
            if cond(self.msgs):
                return self.msgs
        raise TimeoutError("timed out waiting for %s (have %d)"
                           % (what, len(self.msgs)))

    def events(self):
        """[(key, value, partition, offset, topic)] decoded"""
        for m in self.msgs[len(self._parsed):]:
            k = json.loads(m.key()) if m.key() is not None else None
            v = json.loads(m.value()) if m.value() is not None else None
            self._parsed.append((k, v, m.partition(), m.offset(),
                                 m.topic()))
        return list(self._parsed)

    def close(self):
        self.c.close()


def read_all(kafka, topic, expect=None, timeout=60):
    """All events of topic as (key, value, partition)."""
    out = []
    for k, v, p, _o in kafka.read_topic(topic, expect=expect,
                                        timeout=timeout, idle=3.0):
        out.append((json.loads(k) if k is not None else None,
                    json.loads(v) if v is not None else None, p))
    return out
