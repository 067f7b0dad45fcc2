"""--start from a MariaDB GTID or from file:pos streams exactly the changes
after it; a start position the server has purged is a clear error, never
a silent skip."""

import harness
from source_lib import Bridge, read_all, setup_source


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
