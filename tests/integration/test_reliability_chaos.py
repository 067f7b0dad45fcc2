"""Chaos (docs/reliability.md): while a writer drives more than 100,000 row
changes into MariaDB, a controller, in a seeded random order, kill -9s and
restarts `cdc-bridge run` and `cdc-bridge sink` (25 times each), restarts
MariaDB once and PostgreSQL once, takes every dev broker down and up, and
makes Produce and Fetch requests fail.  At the end `cdc-bridge verify`
says the service's tables equal the source's; nothing is lost, and the
duplicates Kafka holds (at-least-once) are counted and printed.

CHAOS_SEED=N replays an order of faults; CHAOS_KEYS (default 10000) sets
the size: KEYS inserts + 9 x KEYS updates + KEYS/10 deletes.
CHAOS_ASAN=1 runs the ASan builds (slower; default: release builds).
Processes that exit on their own are restarted, as systemd's
Restart=on-failure does (config/*.service), and counted."""

import json
import os
import random
import threading
import time

import pytest

import harness
import sink_support as ss
import source_lib as sl

KEYS = int(os.environ.get("CHAOS_KEYS", "10000"))
ROUNDS = 9
KILLS = 25
ASAN = os.environ.get("CHAOS_ASAN", "0") == "1"
TOPIC = "monolith.shop.items"

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


class Writer(threading.Thread):
    """KEYS inserts, ROUNDS updates of every key (absolute values, so a
    retried statement is harmless), then every tenth key deleted; each
    statement retried until it commits, across a MariaDB restart."""

    def __init__(self, mariadb, pace):
        super().__init__(daemon=True)
        self.m = mariadb
        self.pace = pace            # seconds between statements
        self.changes = 0
        self.retries = 0
        self.error = None
        self.done = threading.Event()
        self.conn = None

    def execute(self, q):
        import pymysql
        deadline = time.time() + 120
        while True:
            try:
                if self.conn is None:
                    self.conn = self.m.connect(db="shop")
                with self.conn.cursor() as c:
                    return c.execute(q)
            except (pymysql.err.OperationalError,
                    pymysql.err.InterfaceError, OSError):
                # the server restarting: only connection errors retry
                if time.time() > deadline:
                    raise
                self.retries += 1
                try:
                    if self.conn is not None:
                        self.conn.close()
                except Exception:
                    pass
                self.conn = None
                time.sleep(0.2)

    def run(self):
        try:
            step = 200
            for a in range(1, KEYS + 1, step):
                rows = ",".join("(%d, 0, 'p%d-0')" % (k, k)
                                for k in range(a, min(a + step, KEYS + 1)))
                self.execute("INSERT INTO items VALUES %s ON DUPLICATE KEY "
                             "UPDATE counter = VALUES(counter), payload = "
                             "VALUES(payload)" % rows)
                self.changes += min(step, KEYS + 1 - a)
                time.sleep(self.pace)
            step = 500
            for r in range(1, ROUNDS + 1):
                for a in range(1, KEYS + 1, step):
                    b = min(a + step - 1, KEYS)
                    self.execute("UPDATE items SET counter = %d, payload = "
                                 "CONCAT('p', id, '-%d') WHERE id BETWEEN "
                                 "%d AND %d" % (r, r, a, b))
                    self.changes += b - a + 1
                    time.sleep(self.pace)
            self.execute("DELETE FROM items WHERE id % 10 = 0")
            self.changes += KEYS // 10
        except Exception as e:  # noqa: BLE001 - reported by the test
            self.error = e
        finally:
            self.done.set()


class Supervisor:
    """Restarts a process that exited on its own (like Restart=on-failure)
    and counts those exits."""

    def __init__(self, name, proc):
        self.name = name
        self.p = proc
        self.self_exits = []

    def check(self):
        if not self.p.alive():
            rc = self.p.proc.returncode if self.p.proc else None
            self.self_exits.append(rc)
            time.sleep(0.5)
            self.p.start()

    def kill_restart(self, rnd):
        self.check()
        self.p.kill9()
        time.sleep(rnd.uniform(0.0, 0.5))
        self.p.start()


def pin_binaries(tmp_path, monkeypatch):
    """Copies of the cdc-bridge binaries for this test: 50 restarts must
    not meet a binary being relinked in a shared work tree."""
    import shutil
    copies = {}
    for asan in (False, True):
        src = harness.bridge_path(asan)
        if os.path.exists(src):
            dst = str(tmp_path / ("cdc-bridge-asan" if asan
                                  else "cdc-bridge"))
            shutil.copy2(src, dst)
            copies[asan] = dst
    orig = harness.bridge_path
    monkeypatch.setattr(harness, "bridge_path",
                        lambda asan=harness.ASAN: copies.get(asan,
                                                             orig(asan)))


def test_chaos_nothing_lost(tmp_path, mariadb, postgres, outdir,
                            monkeypatch):
    pin_binaries(tmp_path, monkeypatch)
    seed = int(os.environ.get("CHAOS_SEED", str(random.randrange(1 << 30))))
    print("CHAOS_SEED=%d" % seed)
    rnd = random.Random(seed)

    kafka = harness.DevKafka(tmp_path / "kafka", brokers=3)
    assert kafka.command("create-topic %s 32" % TOPIC).startswith("ok")

    sl.setup_source(mariadb, "CREATE TABLE items (id BIGINT PRIMARY KEY, "
                    "counter BIGINT NOT NULL, payload VARCHAR(64));")
    postgres.create_db("orders")
    postgres.sql("""
        CREATE TABLE public.items (id bigint PRIMARY KEY,
            counter bigint NOT NULL, payload varchar(64));
        CREATE TABLE public.applications (seq bigserial, id bigint,
            counter bigint);
        CREATE FUNCTION public.count_application() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO public.applications (id, counter)
                    VALUES (NEW.id, NEW.counter);
                RETURN NEW;
            END $$;
        CREATE TRIGGER counted AFTER INSERT OR UPDATE ON public.items
            FOR EACH ROW EXECUTE FUNCTION public.count_application();
    """, db="orders")

    run = sl.Bridge(tmp_path / "run", mariadb, kafka, tables="shop.*",
                    asan=ASAN, CDC_LOG_LEVEL="info")
    env = ss.env_for(kafka, postgres, mariadb=mariadb,
                     tables="shop.items=public.items", create_tables="no")
    env["CDC_KAFKA_TOPIC_PREFIX"] = "monolith"
    sink = ss.Sink(tmp_path / "sink", env, asan=ASAN)
    sup_run = Supervisor("run", run)
    sup_sink = Supervisor("sink", sink)

    reader = sl.TopicReader(kafka, [TOPIC], partitions=32)
    reading = threading.Event()

    def read_loop():
        while not reading.is_set():
            try:
                reader.poll(0.5)
            except Exception:  # noqa: BLE001 - brokers down for a while
                time.sleep(0.2)
    reader_t = threading.Thread(target=read_loop, daemon=True)

    faults = (["kill-run"] * KILLS + ["kill-sink"] * KILLS +
              ["restart-mariadb", "restart-postgres"] +
              ["brokers-down-up"] * 3 + ["produce-errors"] * 3 +
              ["fetch-errors"] * 3)
    rnd.shuffle(faults)
    log = []
    t0 = time.time()

    # the writing spread over about 80 s, so that the faults (about 90 s
    # of them) land while it writes
    statements = KEYS // 200 + ROUNDS * KEYS // 500 + 1
    writer = Writer(mariadb, pace=80.0 / statements)
    run.start()
    sink.start()
    reader_t.start()
    writer.start()
    try:
        for f in faults:
            time.sleep(rnd.uniform(0.3, 2.0))
            sup_run.check()
            sup_sink.check()
            at = time.time() - t0
            if f == "kill-run":
                sup_run.kill_restart(rnd)
            elif f == "kill-sink":
                sup_sink.kill_restart(rnd)
            elif f == "restart-mariadb":
                mariadb.restart()
            elif f == "restart-postgres":
                postgres.restart()
            elif f == "brokers-down-up":
                assert kafka.command("down-all").startswith("ok")
                time.sleep(rnd.uniform(0.5, 3.0))
                assert kafka.command("up-all").startswith("ok")
            elif f == "produce-errors":
                errs = " ".join(rnd.choice(
                    ["NOT_LEADER_FOR_PARTITION", "REQUEST_TIMED_OUT",
                     "NOT_ENOUGH_REPLICAS", "LEADER_NOT_AVAILABLE"])
                    for _ in range(rnd.randint(3, 10)))
                assert kafka.command("push-errors Produce " + errs) \
                    .startswith("ok")
            elif f == "fetch-errors":
                errs = " ".join(rnd.choice(
                    ["NOT_LEADER_FOR_PARTITION", "UNKNOWN_TOPIC_OR_PART",
                     "REQUEST_TIMED_OUT"])
                    for _ in range(rnd.randint(3, 10)))
                assert kafka.command("push-errors Fetch " + errs) \
                    .startswith("ok")
            log.append("%7.2fs %-17s writer at %d changes" % (
                at, f, writer.changes))
        writer.done.wait(600)
        assert writer.error is None, writer.error
        sup_run.check()
        sup_sink.check()

        # the source's final state
        src = mariadb.sql("SELECT count(*), coalesce(sum(counter), 0) "
                          "FROM shop.items")
        expect = [(int(src[0][0]), int(src[0][1]))]
        try:
            ss.wait_rows(postgres, "SELECT count(*), coalesce(sum(counter), "
                         "0)::bigint FROM public.items", expect,
                         timeout=240, sink=None)
            converged = True
        except AssertionError as e:
            converged = str(e)
        rc, vout = ss.verify(env, asan=False)
    finally:
        reading.set()
        reader_t.join(10)
        stop_run = run.stop(timeout=60)
        stop_sink = sink.stop(timeout=60)
        kafka.stop()

    # duplicates in Kafka (at-least-once): the same binlog row twice
    seen = {}
    for m in reader.msgs:
        try:
            v = json.loads(m.value())
            s = v["source"]
            # snapshot rows share one position: the key tells them apart
            ident = (s.get("file"), s.get("pos"), s.get("row"), v.get("op"),
                     m.key())
        except (TypeError, ValueError, KeyError):
            continue
        seen[ident] = seen.get(ident, 0) + 1
    reader.close()
    events = sum(seen.values())
    dups = sum(n - 1 for n in seen.values())
    twice = postgres.sql("SELECT count(*) FROM (SELECT id, counter FROM "
                         "public.applications GROUP BY id, counter HAVING "
                         "count(*) > 1) x", db="orders")[0][0]
    backwards = postgres.sql("""
        SELECT count(*) FROM (SELECT counter < lag(counter) OVER
            (PARTITION BY id ORDER BY seq) AS back
            FROM public.applications) x WHERE back""", db="orders")[0][0]

    counts = {}
    for f in faults:
        counts[f] = counts.get(f, 0) + 1
    summary = [
        "CHAOS_SEED=%d (replay: CHAOS_SEED=%d tests/run %s)" % (
            seed, seed, "integration/test_reliability_chaos.py"),
        "row changes written: %d (writer retries %d), in %.0f s" % (
            writer.changes, writer.retries, time.time() - t0),
        "faults: %s" % counts,
        "self exits (restarted like Restart=on-failure): run %s, sink %s"
        % (sup_run.self_exits, sup_sink.self_exits),
        "events read from Kafka: %d distinct, %d duplicates (%.2f%%)" % (
            len(seen), dups, 100.0 * dups / max(events, 1)),
        "target: (id, counter) applied more than once %d, a row going "
        "back to an older counter %d (duplicates re-applied: harmless to "
        "the final state)" % (twice, backwards),
        "converged: %s" % converged,
        "verify rc %d: %s" % (rc, vout.strip()),
        "stop: run %s, sink %s" % (stop_run, stop_sink),
        "fault log:"] + log
    print("\n".join(summary))
    with open(os.path.join(outdir, "report.txt"), "w") as f:
        f.write("\n".join(summary) + "\n")

    assert writer.changes >= 100000 or KEYS < 10000
    assert counts["kill-run"] >= 25 and counts["kill-sink"] >= 25
    assert converged is True, converged
    assert rc == 0 and "equal" in vout, vout
    # every change in Kafka at least once: at least as many distinct
    # events as row changes the writer made
    assert len(seen) >= writer.changes, (len(seen), writer.changes)
    if ASAN:
        assert run.sanitizer_reports() == [] and sink.problems() == []
