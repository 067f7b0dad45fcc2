"""The Debezium envelope as consumers see it: op c/u/d with before/after,
the source block, key = JSON of the primary key, topic
<prefix>.<db>.<table>, one partition per key, tables without a primary
key, and the tables/exclude patterns."""

import json
import time

from source_lib import Bridge, read_all, setup_source

DDL = """
CREATE TABLE orders (id INT PRIMARY KEY, status VARCHAR(20), total INT);
CREATE TABLE items (order_id INT, line INT, sku VARCHAR(20),
                    PRIMARY KEY (order_id, line));
CREATE TABLE nopk (a INT, b VARCHAR(10));
CREATE TABLE secret (id INT PRIMARY KEY, pw VARCHAR(20));
CREATE DATABASE other;
CREATE TABLE other.t (id INT PRIMARY KEY);
"""


def test_envelope_ops_keys_topics(mariadb, devkafka, tmp_path):
    setup_source(mariadb, DDL)
    b = Bridge(tmp_path / "bridge", mariadb, devkafka,
               tables="shop.*", CDC_SOURCE_EXCLUDE="shop.secret",
               CDC_SOURCE_SNAPSHOT="no").start()
    try:
        b.wait_status(lambda s: s.get("phase") == "streaming")
        time.sleep(0.5)
        before_ms = int(time.time() * 1000) - 1000
        mariadb.script("""
            INSERT INTO orders VALUES (1, 'new', 10), (2, 'new', 20);
            UPDATE orders SET status = 'paid', total = 11 WHERE id = 1;
            DELETE FROM orders WHERE id = 2;
            INSERT INTO items VALUES (1, 1, 'A'), (1, 2, 'B');
            INSERT INTO nopk VALUES (7, 'x'), (7, 'x');
            INSERT INTO secret VALUES (1, 'hunter2');
            INSERT INTO other.t VALUES (1);
        """, db="shop")
        for n in range(30):
            mariadb.sql("UPDATE shop.orders SET total = %d WHERE id = 1"
                        % (100 + n))
        orders = read_all(devkafka, "monolith.shop.orders", expect=34)
        items = read_all(devkafka, "monolith.shop.items", expect=2)
        nopk = read_all(devkafka, "monolith.shop.nopk", expect=2)
        gtid = mariadb.sql("SELECT @@gtid_binlog_pos")[0][0]
        st = b.status()
    finally:
        assert b.stop() == 0, b.log()
    assert not b.sanitizer_reports()

    # keys 1 and 2 may sit in different partitions: order is per key
    one = [(k, v) for k, v, _p in orders if k == {"id": 1}]
    two = [(k, v) for k, v, _p in orders if k == {"id": 2}]
    assert [v["op"] for _k, v in one] == ["c"] + ["u"] * 31
    assert [v["op"] for _k, v in two] == ["c", "d"]
    assert len(orders) == 34

    k, v = one[0]
    assert v["before"] is None
    assert v["after"] == {"id": 1, "status": "new", "total": 10}
    src = v["source"]
    assert src["connector"] == "mysql"
    assert src["name"] == "monolith"
    assert src["db"] == "shop" and src["table"] == "orders"
    assert src["server_id"] == 1
    assert src["snapshot"] == "false"
    assert src["file"].startswith("binlog.")
    assert isinstance(src["pos"], int) and src["pos"] > 4
    assert src["row"] == 0
    assert src["gtid"].startswith("0-1-")
    assert before_ms <= src["ts_ms"] <= v["ts_ms"] + 1000
    # the second row of the same rows event
    assert two[0][1]["source"]["row"] == 1
    assert two[0][1]["source"]["pos"] == src["pos"]

    k, v = one[1]
    assert v["op"] == "u"
    assert v["before"] == {"id": 1, "status": "new", "total": 10}
    assert v["after"] == {"id": 1, "status": "paid", "total": 11}

    k, v = two[1]
    assert v["op"] == "d"
    assert v["before"] == {"id": 2, "status": "new", "total": 20}
    assert v["after"] is None

    # same key, same partition: order per row is kept
    parts = {p for k, _v, p in orders if k == {"id": 1}}
    assert len(parts) == 1, parts
    totals = [v["after"]["total"] for k, v, _p in orders
              if k == {"id": 1} and v["op"] == "u"]
    assert totals == [11] + [100 + n for n in range(30)]

    # composite keys, in primary-key column order
    assert sorted(json.dumps(k) for k, _v, _p in items) == [
        '{"order_id": 1, "line": 1}', '{"order_id": 1, "line": 2}']

    # no primary key: key is JSON null, both identical rows are there
    assert [k for k, _v, _p in nopk] == [None, None]
    assert [v["after"] for _k, v, _p in nopk] == [{"a": 7, "b": "x"}] * 2

    # excluded and unmatched tables produce nothing
    assert read_all(devkafka, "monolith.shop.secret", timeout=3) == []
    assert read_all(devkafka, "monolith.other.t", timeout=3) == []
    assert "shop.secret" not in st["tables"]
    assert st["tables"]["shop.orders"]["c"] == 2
    assert st["tables"]["shop.orders"]["u"] == 31
    assert st["tables"]["shop.orders"]["d"] == 1
    assert gtid
