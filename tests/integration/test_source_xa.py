"""XA transactions: MariaDB binlogs XA START … XA PREPARE as one group and
XA COMMIT / XA ROLLBACK as another.  Only committed XA work reaches
Kafka, once, at its XA COMMIT; XA COMMIT … ONE PHASE is an ordinary
transaction; while an XA is prepared and undecided the checkpoint stays
before its prepare, so a kill -9 before the XA COMMIT loses nothing."""

import time

import harness
from source_lib import Bridge, TopicReader, setup_source

TOPIC = "monolith.shop.t"


def ids(events):
    out = []
    for k, v, *_rest in events:
        out.append((v["after"] or v["before"])["id"])
    return out


def xa_prepare(mariadb, xid, sql):
    """XA START … XA PREPARE in a session that then ends: the prepared
    transaction stays, to be decided from another session"""
    conn = mariadb.connect(db="shop")
    with conn.cursor() as c:
        c.execute("XA START '%s'" % xid)
        for s in sql:
            c.execute(s)
        c.execute("XA END '%s'" % xid)
        c.execute("XA PREPARE '%s'" % xid)
    conn.close()


def wait_ids(reader, want, timeout=60):
    reader.until(lambda _m: set(want) <= set(ids(reader.events())),
                 timeout=timeout, what="ids %s" % sorted(want))
    return ids(reader.events())


def test_xa_rollback_commit_one_phase(mariadb, devkafka, tmp_path):
    setup_source(mariadb, "CREATE TABLE t (id INT PRIMARY KEY, v INT);"
                          "INSERT INTO t VALUES (50, 0);")
    reader = TopicReader(devkafka, [TOPIC])
    b = Bridge(tmp_path / "bridge", mariadb, devkafka,
               CDC_SOURCE_SNAPSHOT="no").start()
    try:
        b.wait_status(lambda s: s.get("phase") == "streaming")
        time.sleep(0.5)

        # rolled back after PREPARE: nothing
        xa_prepare(mariadb, "r", ["INSERT INTO t VALUES (1, 1)",
                                  "UPDATE t SET v = 1 WHERE id = 50"])
        mariadb.sql("XA ROLLBACK 'r'")
        # prepared, another transaction commits, then XA COMMIT
        xa_prepare(mariadb, "c", ["INSERT INTO t VALUES (2, 2), (3, 3)",
                                  "UPDATE t SET v = 2 WHERE id = 50"])
        mariadb.sql("INSERT INTO shop.t VALUES (10, 10)")
        commit_gtid = None
        mariadb.sql("XA COMMIT 'c'")
        commit_gtid = mariadb.sql("SELECT @@gtid_binlog_pos")[0][0]
        # one phase, in one session
        mariadb.script("XA START 'o'; INSERT INTO t VALUES (4, 4); "
                       "XA END 'o'; XA COMMIT 'o' ONE PHASE;", db="shop")
        # rolled back without PREPARE: never binlogged
        mariadb.script("XA START 'n'; INSERT INTO t VALUES (5, 5); "
                       "XA END 'n'; XA ROLLBACK 'n';", db="shop")
        mariadb.sql("INSERT INTO shop.t VALUES (99, 99)")

        got = wait_ids(reader, {2, 3, 10, 4, 99})
        reader.poll(2.0)
        events = reader.events()
        st = b.status()
    finally:
        rc = b.stop()
        reader.close()
    assert rc == 0, b.log()[-3000:]
    assert not b.sanitizer_reports()

    got = ids(events)
    assert sorted(got) == [2, 3, 4, 10, 50, 99], got
    by_id = {(v["after"] or v["before"])["id"]: v for _k, v, *_r in events}
    # id 50: only XA 'c''s update (to 2), never XA 'r''s
    assert by_id[50]["op"] == "u" and by_id[50]["after"]["v"] == 2
    assert by_id[50]["before"]["v"] == 0
    # XA 'c''s changes carry its XA COMMIT as their source, so they come
    # after id 10's transaction that committed before it
    for i in (2, 3, 50):
        assert by_id[i]["source"]["gtid"] == commit_gtid, by_id[i]
    assert [by_id[i]["source"]["row"] for i in (2, 3, 50)] == [0, 1, 2]
    seq = int(commit_gtid.split("-")[2])
    assert int(by_id[10]["source"]["gtid"].split("-")[2]) == seq - 1
    assert st["phase"] == "streaming"


def test_kill9_between_prepare_and_commit(mariadb, devkafka, tmp_path):
    setup_source(mariadb, "CREATE TABLE t (id INT PRIMARY KEY, v INT);")
    reader = TopicReader(devkafka, [TOPIC])
    b = Bridge(tmp_path / "bridge", mariadb, devkafka,
               CDC_SOURCE_SNAPSHOT="no").start()
    try:
        b.wait_status(lambda s: s.get("phase") == "streaming")
        time.sleep(0.5)
        mariadb.sql("INSERT INTO shop.t VALUES (19, 19)")
        before_xa = mariadb.sql("SELECT @@gtid_binlog_pos")[0][0]
        wait_ids(reader, {19})
        harness.wait_for(lambda: (b.checkpoint() or {}).get(
            "position", {}).get("gtid") == before_xa, timeout=30,
            what="checkpoint at %s" % before_xa)

        xa_prepare(mariadb, "k", ["INSERT INTO t VALUES (20, 20), (21, 21)"])
        mariadb.sql("INSERT INTO shop.t VALUES (30, 30)")
        wait_ids(reader, {30})
        # many checkpoint intervals: it stays before the undecided prepare
        time.sleep(2.0)
        assert b.checkpoint()["position"]["gtid"] == before_xa
        st = b.status()
        assert st["xa_prepared"] == 1
        assert st["handed_to_kafka"]["gtid"] == before_xa
        assert 20 not in ids(reader.events())
        b.kill9()

        mariadb.sql("XA COMMIT 'k'")
        b.start()
        got = wait_ids(reader, {20, 21})
        mariadb.sql("INSERT INTO shop.t VALUES (99, 99)")
        wait_ids(reader, {99})
        end = mariadb.sql("SELECT @@gtid_binlog_pos")[0][0]
        harness.wait_for(lambda: b.checkpoint()["position"]["gtid"] == end,
                         timeout=30, what="checkpoint at %s" % end)
        assert b.status()["xa_prepared"] == 0
        reader.poll(2.0)
        got = ids(reader.events())
    finally:
        rc = b.stop()
        reader.close()
    assert rc == 0, b.log()[-3000:]

    # the XA's rows once; what committed after the prepare may repeat
    assert got.count(20) == 1 and got.count(21) == 1, got
    assert got.count(19) == 1 and got.count(99) == 1, got
    assert 1 <= got.count(30) <= 2, got
