"""--start from a MariaDB GTID or from file:pos streams exactly the changes
after it; a start position the server has purged is a clear error, never
a silent skip.  Without any of them the bridge streams from "now", fixed
before /status says streaming."""

import json
import os
import shutil
import subprocess
import threading
import time

import harness
from source_lib import Bridge, TopicReader, read_all, setup_source


def ids(events):
    return sorted(v["after"]["id"] for _k, v, _p in events)


def positions(mariadb):
    gtid = mariadb.sql("SELECT @@gtid_binlog_pos")[0][0]
    f, p = mariadb.sql("SHOW MASTER STATUS")[0][:2]
    return gtid, "%s:%s" % (f, p)


def test_start_from_gtid_and_from_file_pos(mariadb, devkafka, tmp_path):
    setup_source(mariadb, "CREATE TABLE t (id INT PRIMARY KEY);")
    mariadb.sql("INSERT INTO shop.t VALUES (1), (2)")
    gtid, filepos = positions(mariadb)
    mariadb.sql("INSERT INTO shop.t VALUES (3)")
    mariadb.sql("INSERT INTO shop.t VALUES (4), (5)")

    for n, start in enumerate((gtid, filepos)):
        prefix = "p%d" % n
        b = Bridge(tmp_path / prefix, mariadb, devkafka,
                   CDC_KAFKA_TOPIC_PREFIX=prefix, args=["--start", start])
        b.start()
        try:
            want = [3, 4, 5] + [10 + i for i in range(n)]
            got = read_all(devkafka, prefix + ".shop.t", expect=len(want))
            b.wait_status(lambda s: s["checkpoint"]["pos"] > 4)
        finally:
            assert b.stop() == 0, b.log()
        assert ids(got) == want, (start, ids(got))
        assert "starting at" in b.log() and start.split(":")[0] in b.log()

        # the checkpoint carries on: nothing again, only what is new
        ck = b.checkpoint()
        assert ck["position"]["gtid"] and ck["position"]["file"]
        mariadb.sql("INSERT INTO shop.t VALUES (%d)" % (10 + n))
        b.args = []
        b.start()
        try:
            got = read_all(devkafka, prefix + ".shop.t",
                           expect=len(want) + 1)
        finally:
            assert b.stop() == 0, b.log()
        assert ids(got) == want + [10 + n], ids(got)
        assert not b.sanitizer_reports()


def test_purged_start_is_an_error(mariadb, devkafka, tmp_path):
    setup_source(mariadb, "CREATE TABLE t (id INT PRIMARY KEY);")
    mariadb.sql("INSERT INTO shop.t VALUES (1)")
    old_gtid, old_pos = positions(mariadb)
    mariadb.sql("FLUSH BINARY LOGS")
    mariadb.sql("INSERT INTO shop.t VALUES (2)")
    mariadb.sql("FLUSH BINARY LOGS")
    current = mariadb.sql("SHOW MASTER STATUS")[0][0]

    def purged():
        # MariaDB keeps a file until its binlog checkpoint has passed
        mariadb.sql("PURGE BINARY LOGS TO '%s'" % current)
        return [r[0] for r in mariadb.sql("SHOW BINARY LOGS")] == [current]
    harness.wait_for(purged, timeout=30, interval=0.2, what="purge")

    for start in (old_pos, old_gtid):
        b = Bridge(tmp_path / ("b" + start.replace(":", "_")), mariadb,
                   devkafka)
        rc, out = b.run(["--start", start], timeout=60)
        assert rc != 0, out
        assert "is not in the server's binlog any more" in out, out
        assert "Nothing was skipped" in out, out
        assert b.checkpoint() is None or \
            b.checkpoint()["position"]["file"] != current


BAD_STARTS = ["0-1", "0-1-", "0-1-5,,", "0-1-18446744073709551616",
              "binlog.000001:4294967300"]


def test_malformed_start_is_refused_at_once(mariadb, tmp_path):
    """Each value is refused while parsing, naming it, with a non-zero
    exit: never handed to the server (which would refuse it on every
    reconnect, for ever) and never wrapped (4294967300 is 4 in 32 bits:
    the file replayed from its start)."""
    setup_source(mariadb, "CREATE TABLE t (id INT PRIMARY KEY);")
    for n, start in enumerate(BAD_STARTS):
        b = Bridge(tmp_path / ("s%d" % n), mariadb, None)
        rc, out = b.run(["--start", start], timeout=30)
        assert rc == 2, (start, rc, out)
        assert '"%s"' % start in out, (start, out)
        assert b.checkpoint() is None
        # the same value in [source] start: refused by check-config too
        env = dict(b.env, CDC_SOURCE_START=start)
        p = subprocess.run(
            [harness.bridge_path(), "check-config", "-q"], env=env,
            capture_output=True, text=True, timeout=30)
        assert p.returncode == 1, (start, p.stdout, p.stderr)
        assert '"%s"' % start in p.stderr, (start, p.stderr)


def test_malformed_checkpoint_is_refused(mariadb, tmp_path):
    """A checkpoint whose position does not parse exactly stops `run`
    with the file and the value named: "pos":"abc" used to read as 0, so
    the bridge replayed the file from its start; a directory in the
    checkpoint's place made every write fail and be retried for ever."""
    setup_source(mariadb, "CREATE TABLE t (id INT PRIMARY KEY);")
    cases = [
        ('{"file": "binlog.000001", "pos": "abc", "gtid": ""}', '"abc"'),
        ('{"file": "binlog.000001", "pos": 4294967300, "gtid": ""}',
         "4294967300"),
        ('{"file": "", "pos": 0, "gtid": "0-1-5,,"}', "0-1-5,,"),
    ]
    for n, (position, named) in enumerate(cases + [(None, "directory")]):
        b = Bridge(tmp_path / ("c%d" % n), mariadb, None)
        os.makedirs(b.ckdir)
        path = os.path.join(b.ckdir, "checkpoint.json")
        if position is None:
            os.mkdir(path)
        else:
            with open(path, "w") as f:
                f.write('{"version": 1, "position": %s, "snapshot": '
                        '{"state": "done"}, "updated_ms": 1}' % position)
        rc, out = b.run([], timeout=60)
        assert rc == 1, (position, rc, out)
        assert path in out and named in out, (position, out)
        assert "streaming from" not in out, out


def busy_writer(mariadb, stop, last, errors):
    """autocommit inserts of ids 1, 2, ...; last[0]: the newest committed"""
    try:
        conn = mariadb.connect(db="shop")
        conn.autocommit(True)
        with conn.cursor() as cur:
            while not stop.is_set():
                cur.execute("INSERT INTO t VALUES (%s, 0)", (last[0] + 1,))
                last[0] += 1
        conn.close()
    except Exception as e:  # reported by the test
        errors.append(e)


def test_no_start_streams_every_commit_after_status_says_streaming(
        mariadb, devkafka, tmp_path):
    """No checkpoint, no snapshot, no start: a commit made once /status
    says "streaming" is streamed, even one made a millisecond later (the
    position used to be taken only when the binlog dump began, after the
    phase had flipped: inserts in between were lost)."""
    setup_source(mariadb, "CREATE TABLE t (id INT PRIMARY KEY, v INT);")
    reader = TopicReader(devkafka, ["monolith.shop.t"])
    b = Bridge(tmp_path / "bridge", mariadb, devkafka,
               CDC_SOURCE_SNAPSHOT="no")
    last, errors, want = [0], [], set()
    try:
        for rnd in range(3):
            stop = threading.Event()
            t = threading.Thread(target=busy_writer,
                                 args=(mariadb, stop, last, errors))
            t.start()
            time.sleep(0.2)
            b.start()
            deadline = time.time() + 60
            while True:
                assert b.alive() and time.time() < deadline, b.log()
                try:
                    if b.status().get("phase") == "streaming":
                        break
                except Exception:
                    pass
            # last[0] + 1 may have committed before the status was read
            first = last[0] + 2
            time.sleep(0.5)
            stop.set()
            t.join(timeout=30)
            assert not errors, errors
            want |= set(range(first, last[0] + 1))
            print("round %d: ids %d..%d committed after \"streaming\""
                  % (rnd, first, last[0]))

            def complete(msgs):
                got = {json.loads(m.value())["after"]["id"] for m in msgs}
                return want <= got
            reader.until(complete, timeout=60,
                         what="ids %d..%d" % (first, last[0]))
            assert b.stop() == 0, b.log()
            # no checkpoint again: the next round starts from "now" too
            shutil.rmtree(b.ckdir)
    finally:
        stop.set()
        b.stop()
        reader.close()
    assert not b.sanitizer_reports()
