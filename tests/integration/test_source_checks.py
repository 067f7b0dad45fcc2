"""`cdc-bridge run` and `check-config --server` refuse to start against a
server or user that cannot feed change capture, naming the setting and
the fix."""

import os
import subprocess

import harness
import pytest
from source_lib import CONF, Bridge, bridge_env, read_all, setup_source


def check_config(mariadb, tmp_path, user="cdc"):
    env = bridge_env(mariadb, None, tmp_path / "ck")
    env["CDC_SOURCE_USER"] = user
    p = subprocess.run([harness.bridge_path(), "check-config", "-c", CONF,
                        "--server", "--quiet"], env=env,
                       capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout + p.stderr


def refused(mariadb, tmp_path, user="cdc"):
    b = Bridge(tmp_path / ("bridge-" + user), mariadb, None,
               CDC_SOURCE_USER=user)
    rc, out = b.run(timeout=60)
    assert rc != 0, out
    crc, cout = check_config(mariadb, tmp_path, user)
    assert crc != 0, cout
    return out, cout


SETTINGS = [
    ("binlog_format", "STATEMENT", "ROW"),
    ("binlog_format", "MIXED", "ROW"),
    ("binlog_row_image", "MINIMAL", "FULL"),
    ("binlog_row_image", "NOBLOB", "FULL"),
    ("binlog_row_metadata", "MINIMAL", "FULL"),
    ("binlog_row_metadata", "NO_LOG", "FULL"),
]


def test_good_server_passes(mariadb, tmp_path):
    setup_source(mariadb, "CREATE TABLE t (id INT PRIMARY KEY);")
    b = Bridge(tmp_path / "b", mariadb, None)
    rc, out = b.run(["--check"])
    assert rc == 0, out
    rc, out = check_config(mariadb, tmp_path)
    assert rc == 0, out


def test_each_binlog_setting_is_named(mariadb, tmp_path):
    setup_source(mariadb, "CREATE TABLE t (id INT PRIMARY KEY);")
    for var, bad, good in SETTINGS:
        mariadb.sql("SET GLOBAL %s = '%s'" % (var, bad))
        try:
            out, cout = refused(mariadb, tmp_path)
        finally:
            mariadb.sql("SET GLOBAL %s = '%s'" % (var, good))
        for text in (out, cout):
            assert "%s is %s, must be %s" % (var, bad, good) in text, text
            assert "%s = %s" % (var, good) in text, text


def test_no_log_bin(tmp_path):
    # later arguments win: --skip-log-bin undoes the harness's --log-bin
    m = harness.MariaDB(tmp_path / "nolog", extra_args=["--skip-log-bin"])
    try:
        setup_source(m, "CREATE TABLE t (id INT PRIMARY KEY);")
        assert m.sql("SELECT @@log_bin")[0][0] == 0
        out, cout = refused(m, tmp_path)
        for text in (out, cout):
            assert "log_bin is OFF" in text, text
            assert "--log-bin" in text, text
    finally:
        m.stop()


@pytest.mark.parametrize("grant,missing", [
    ("REPLICATION CLIENT, SELECT", "REPLICATION SLAVE"),
    ("REPLICATION SLAVE, SELECT", "REPLICATION CLIENT"),
    ("REPLICATION SLAVE, REPLICATION CLIENT", "SELECT"),
])
def test_missing_grant_is_named(mariadb, tmp_path, grant, missing):
    setup_source(mariadb, "CREATE TABLE t (id INT PRIMARY KEY);")
    mariadb.sql("CREATE USER 'weak'@'%%' IDENTIFIED BY '%s'"
                % mariadb.cdc_password)
    mariadb.sql("GRANT %s ON *.* TO 'weak'@'%%'" % grant)
    out, cout = refused(mariadb, tmp_path, user="weak")
    for text in (out, cout):
        assert 'user "weak" lacks %s' % missing in text, text
        assert "GRANT %s ON" % missing in text, text


def test_pattern_matching_no_table_is_named(mariadb, devkafka, tmp_path):
    """A [source] tables pattern that matches nothing is a typo (or a
    dropped table): `run` refuses to start, `check-config --server` fails,
    both naming each such pattern, and no snapshot is recorded as done
    without it.  "db.*" on an existing, empty database is fine: its tables
    come later, whole, through the binlog."""
    setup_source(mariadb, "CREATE TABLE orders (id INT PRIMARY KEY); "
                          "CREATE TABLE order_items (id INT PRIMARY KEY); "
                          "CREATE SEQUENCE order_seq;")
    mariadb.sql("INSERT INTO shop.orders VALUES (1), (2)")
    mariadb.sql("CREATE DATABASE empty")
    # the sample config's service maps shop.orders and shop.order_items
    tables = ("shop.orders shop.order_items shop.ordrs other.* "
              "shop.order_s* empty.* shop.order_seq")
    b = Bridge(tmp_path / "b", mariadb, devkafka, tables=tables)
    rc, out = b.run(timeout=60)
    env = dict(b.env)
    p = subprocess.run([harness.bridge_path(), "check-config", "-c", CONF,
                        "--server", "--quiet"], env=env,
                       capture_output=True, text=True, timeout=60)
    assert rc == 1, out
    assert p.returncode == 1, p.stdout + p.stderr
    for text in (out, p.stderr):
        assert '[source] tables "shop.ordrs" matches no table on the ' \
            'source (the tables there: ' in text, text
        hint = text.split('"shop.ordrs"')[1].split(")")[0]
        assert "order_items" in hint and "orders" in hint, text
        assert '"other.*" matches no table on the source: fix or remove ' \
            'the pattern' in text, text
        assert '"shop.order_s*" matches no table' in text, text
        # a sequence is no table: nothing to stream (see Sequences)
        assert '"shop.order_seq" matches no table on the source (a view ' \
            'or sequence: no rows to stream)' in text, text
        assert '"shop.orders"' not in text and '"empty.*"' not in text, text
    assert b.checkpoint() is None
    assert "snapshot" not in out, out

    # fixed: the table the typo missed is snapshotted
    b.env["CDC_SOURCE_TABLES"] = "shop.orders shop.order_items empty.*"
    b.start()
    try:
        got = read_all(devkafka, "monolith.shop.orders", expect=2)
        b.wait_status(lambda s: s["phase"] == "streaming")
    finally:
        assert b.stop() == 0, b.log()
    assert sorted(v["after"]["id"] for _k, v, _p in got) == [1, 2]
    assert sorted(b.checkpoint()["snapshot"]["done"]) == [
        "shop.order_items", "shop.orders"]
