"""`cdc-bridge run` and `check-config --server` refuse to start against a
server or user that cannot feed change capture, naming the setting and
the fix."""

import os
import subprocess

import harness
import pytest
from source_lib import CONF, Bridge, bridge_env, setup_source


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
