"""Schema changes mid-stream: after ADD COLUMN, DROP COLUMN and MODIFY to
a wider type, events carry the new shape and nothing stops."""

from source_lib import Bridge, read_all, setup_source


def test_add_drop_modify_column(mariadb, devkafka, tmp_path):
    setup_source(mariadb, "CREATE TABLE s (id INT PRIMARY KEY, a INT, "
                          "b VARCHAR(10));")
    b = Bridge(tmp_path / "bridge", mariadb, devkafka,
               CDC_SOURCE_SNAPSHOT="no").start()
    try:
        b.wait_status(lambda s: s.get("phase") == "streaming")
        mariadb.script("""
            INSERT INTO s VALUES (1, 10, 'one');
            ALTER TABLE s ADD COLUMN c DATETIME(3) DEFAULT
                '2024-01-02 03:04:05.678';
            INSERT INTO s (id, a, b) VALUES (2, 20, 'two');
            UPDATE s SET c = '2025-05-05 05:05:05.5' WHERE id = 1;
            ALTER TABLE s DROP COLUMN b;
            INSERT INTO s VALUES (3, 30, '2026-06-06 06:06:06');
            ALTER TABLE s MODIFY a BIGINT UNSIGNED;
            INSERT INTO s VALUES (4, 18446744073709551615, NULL);
            ALTER TABLE s ADD COLUMN d VARCHAR(5) FIRST;
            INSERT INTO s (d, id, a) VALUES ('first', 5, 50);
        """, db="shop")
        events = read_all(devkafka, "monolith.shop.s", expect=6)
        assert b.alive(), b.log()
    finally:
        assert b.stop() == 0, b.log()
    assert not b.sanitizer_reports()

    by = {}
    for k, v, _p in events:
        by.setdefault(k["id"], []).append(v)

    assert by[1][0]["after"] == {"id": 1, "a": 10, "b": "one"}
    assert by[2][0]["after"] == {"id": 2, "a": 20, "b": "two",
                                 "c": "2024-01-02 03:04:05.678"}
    upd = by[1][1]
    assert upd["op"] == "u"
    assert upd["before"] == {"id": 1, "a": 10, "b": "one",
                             "c": "2024-01-02 03:04:05.678"}
    assert upd["after"]["c"] == "2025-05-05 05:05:05.500"
    assert by[3][0]["after"] == {"id": 3, "a": 30,
                                 "c": "2026-06-06 06:06:06.000"}
    assert by[4][0]["after"] == {"id": 4, "a": 18446744073709551615,
                                 "c": None}
    assert list(by[5][0]["after"]) == ["d", "id", "a", "c"]
    assert by[5][0]["after"]["d"] == "first"


def test_sequences_are_skipped(mariadb, devkafka, tmp_path):
    """A MariaDB SEQUENCE writes its state as a keyless insert into the
    sequence's own table at every cache refill and SETVAL: no row change
    of any table, so the bridge skips it (docs/cdc-bridge.md, Sequences);
    the snapshot lists no sequences either.  DDL without a default
    database is logged without an empty "in"."""
    setup_source(mariadb, "CREATE TABLE t (id INT PRIMARY KEY);"
                          "CREATE SEQUENCE s1 START 1 CACHE 2;")
    mariadb.sql("SELECT NEXTVAL(shop.s1)")
    b = Bridge(tmp_path / "run", mariadb, devkafka)
    b.start()
    try:
        b.wait_status(lambda s: s["phase"] == "streaming")
        # no default database here: the DDL's db is ""
        mariadb.sql("CREATE SEQUENCE shop.s2 START 10 CACHE 2")
        for _ in range(5):
            mariadb.sql("SELECT NEXTVAL(shop.s1), NEXTVAL(shop.s2)")
        mariadb.sql("SELECT SETVAL(shop.s2, 1000)")
        mariadb.sql("INSERT INTO shop.t VALUES (1)")
        got = read_all(devkafka, "monolith.shop.t", expect=1)
        b.wait_status(lambda s: s["checkpoint"]["pos"] > 4)
    finally:
        assert b.stop() == 0, b.log()
    assert [v["after"]["id"] for _k, v, _p in got] == [1]
    for seq in ("s1", "s2"):
        assert read_all(devkafka, "monolith.shop." + seq, timeout=5) == []
    log = b.log()
    assert "ddl in  at" not in log, log
    assert "ddl at binlog" in log and "CREATE SEQUENCE shop.s2" in log, log
    assert "error" not in log, log
    assert b.checkpoint()["snapshot"]["done"] == ["shop.t"]
