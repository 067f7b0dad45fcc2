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
