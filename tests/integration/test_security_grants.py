"""Least privilege on the source (docs/reliability.md, Security): a user
with only REPLICATION SLAVE and REPLICATION CLIENT on *.* and SELECT on
the one captured table is enough for `cdc-bridge run` to snapshot and
stream it; the user can read nothing else.  (Each missing grant is named
at start: test_source_checks.py::test_missing_grant_is_named.)"""

import os

import pymysql
import pytest

import source_lib as sl


def test_run_with_minimal_grants(tmp_path, mariadb, devkafka, outdir):
    sl.setup_source(mariadb, "CREATE TABLE orders (id INT PRIMARY KEY, "
                    "v INT); CREATE TABLE secrets (id INT PRIMARY KEY);")
    mariadb.sql("INSERT INTO shop.orders VALUES (1, 1), (2, 2)")
    mariadb.sql("CREATE USER 'cdc_min'@'%%' IDENTIFIED BY '%s'"
                % mariadb.cdc_password)
    mariadb.sql("GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO "
                "'cdc_min'@'%'")
    mariadb.sql("GRANT SELECT ON shop.orders TO 'cdc_min'@'%'")
    grants = [g[0] for g in mariadb.sql("SHOW GRANTS FOR 'cdc_min'@'%'")]

    # the user really is limited
    c = mariadb.connect(user="cdc_min", password=mariadb.cdc_password)
    try:
        with c.cursor() as cur:
            with pytest.raises(pymysql.err.OperationalError):
                cur.execute("SELECT * FROM shop.secrets")
            with pytest.raises(pymysql.err.OperationalError):
                cur.execute("INSERT INTO shop.orders VALUES (9, 9)")
    finally:
        c.close()

    reader = sl.TopicReader(devkafka, ["monolith.shop.orders"])
    run = sl.Bridge(tmp_path / "run", mariadb, devkafka,
                    tables="shop.orders", CDC_SOURCE_USER="cdc_min",
                    CDC_SERVICE_ORDERS_TABLES="shop.orders=public.orders")
    try:
        run.start()
        reader.until(lambda m: len(m) >= 2, timeout=60, what="snapshot")
        mariadb.sql("UPDATE shop.orders SET v = v + 10")
        reader.until(lambda m: len(m) >= 4, timeout=60, what="changes")
        assert run.alive(), run.log()
    finally:
        run.stop()
        reader.close()
    ops = sorted(v["op"] for _k, v, _p, _o, _t in reader.events())
    line = "grants %s -> events %s" % (grants, ops)
    print(line)
    with open(os.path.join(outdir, "report.txt"), "w") as f:
        f.write(line + "\n")
    assert ops == ["r", "r", "u", "u"], ops
    assert run.sanitizer_reports() == []
