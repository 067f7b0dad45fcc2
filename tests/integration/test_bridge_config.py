"""`cdc-bridge check-config`: the sample config loads; a bad file fails
naming file:line and the value; a missing file; a service defined by the
environment alone; secrets never printed; the key table matches the docs
and the sample.  No server is started: check-config touches none."""

import os
import re
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harness  # noqa: E402

SAMPLE = os.path.join(harness.ROOT, "config", "cdc-bridge.conf")
DOCS = os.path.join(harness.ROOT, "docs", "cdc-bridge.md")

pytestmark = pytest.mark.timeout(60)


def check(*args, env=None, cwd=None):
    e = {k: v for k, v in os.environ.items() if not k.startswith("CDC_")}
    e.update(env or {})
    e = harness.sanitizer_env(e)
    return subprocess.run([harness.bridge_path(), "check-config"] +
                          list(args), capture_output=True, text=True,
                          env=e, cwd=cwd or harness.ROOT, timeout=30)


def test_sample_is_valid():
    p = check("-c", SAMPLE)
    assert p.returncode == 0, p.stderr
    assert "# configuration ok: 1 service" in p.stdout
    assert re.search(r"port\s+= 3306\s+# .*cdc-bridge.conf:\d+", p.stdout)
    assert "[service.orders]" in p.stdout
    assert "shop.orders=public.orders" in p.stdout
    # the default file is the sample, from the repository root
    p = check()
    assert p.returncode == 0, p.stderr


def test_bad_value_names_file_line_and_value(tmp_path):
    bad = tmp_path / "bad.conf"
    text = open(SAMPLE).read().replace("port = 3306", "port = 33o6", 1)
    bad.write_text(text)
    line = text.splitlines().index(
        [ln for ln in text.splitlines() if ln.startswith("port = 33o6")][0]
    ) + 1

    p = check("-c", str(bad))
    assert p.returncode != 0
    assert "%s:%d: bad value \"33o6\" for port (1..65535)" % (bad, line) \
        in p.stderr
    assert p.stdout == ""


def test_unknown_key_and_bad_duration(tmp_path):
    f = tmp_path / "c.conf"
    f.write_text("[source]\ntables = shop.orders\nheartbeat = 1s\n")
    p = check("-c", str(f))
    assert p.returncode != 0
    assert '%s:3: unknown key "heartbeat" in [source]' % f in p.stderr

    f.write_text("[source]\ntables = shop.orders\nheartbeat_interval = 1\n")
    p = check("-c", str(f))
    assert p.returncode != 0
    assert '%s:3: bad duration "1" for heartbeat_interval' % f in p.stderr


def test_start_position_is_checked(tmp_path):
    f = tmp_path / "c.conf"
    f.write_text("[source]\ntables = shop.orders\nstart = mysql-bin:xx\n")
    p = check("-c", str(f))
    assert p.returncode != 0
    assert '%s:3: bad value "mysql-bin:xx" for start' % f in p.stderr

    for ok in ("0-1-42", "0-1-42,1-2-7", "binlog.000002:4", ""):
        p = check("-c", str(f), "-q", env={"CDC_SOURCE_START": ok})
        assert p.returncode == 0, ok + ": " + p.stderr
        assert p.stdout == ""


def test_missing_file(tmp_path):
    p = check("-c", str(tmp_path / "nope.conf"))
    assert p.returncode != 0
    assert "nope.conf: cannot open: No such file or directory" in p.stderr

    # without -c, the default file may be missing if the environment has
    # what is required; here it has not
    p = check(cwd=str(tmp_path))
    assert p.returncode != 0
    assert "CDC_SOURCE_TABLES is not set" in p.stderr


def test_environment_only_service(tmp_path):
    env = {"CDC_SOURCE_TABLES": "shop.*",
           "CDC_KAFKA_BROKERS": "127.0.0.1:1",
           "CDC_SERVICE_BILLING_POSTGRES": "host=127.0.0.1 dbname=billing",
           "CDC_SERVICE_BILLING_TABLES": "shop.invoices=public.invoices",
           "CDC_SERVICE_BILLING_PASSWORD": "pg-secret-value",
           "CDC_SOURCE_PASSWORD": "mysql-secret-value"}
    p = check(env=env, cwd=str(tmp_path))
    assert p.returncode == 0, p.stderr
    assert "# file: (none: environment only)" in p.stdout
    assert "[service.billing]" in p.stdout
    assert re.search(r"postgres\s+= host=127.0.0.1 dbname=billing\s+"
                     r"# env CDC_SERVICE_BILLING_POSTGRES", p.stdout)
    assert "1 service" in p.stdout
    # secrets are never printed
    assert "secret-value" not in p.stdout + p.stderr
    assert "(set)" in p.stdout

    # the environment adds to and overrides the sample
    env["CDC_SOURCE_TABLES"] = "shop.orders shop.order_items shop.invoices"
    env["CDC_SOURCE_PORT"] = "3307"
    p = check("-c", SAMPLE, env=env)
    assert p.returncode == 0, p.stderr
    assert "2 services" in p.stdout
    assert re.search(r"port\s+= 3307\s+# env CDC_SOURCE_PORT", p.stdout)

    env["CDC_SOURCE_PORT"] = "70000"
    p = check("-c", SAMPLE, env=env)
    assert p.returncode != 0
    assert 'environment CDC_SOURCE_PORT: bad value "70000" for port' \
        in p.stderr


def test_service_table_outside_source(tmp_path):
    f = tmp_path / "c.conf"
    f.write_text("[source]\ntables = shop.orders\n\n[service.orders]\n"
                 "postgres = dbname=orders\n"
                 "tables = shop.orders shop.secrets\n")
    p = check("-c", str(f))
    assert p.returncode != 0
    assert ('%s:6: service "orders": table "shop.secrets" is not streamed '
            'by [source] tables (shop.orders)' % f) in p.stderr


def test_secret_file_read_not_printed(tmp_path):
    pw = tmp_path / "mysql.pw"
    pw.write_text("very-secret-pw\n")
    p = check("-c", SAMPLE, env={"CDC_SOURCE_PASSWORD_FILE": str(pw)})
    assert p.returncode == 0, p.stderr
    assert str(pw) in p.stdout and "(secret read)" in p.stdout
    assert "very-secret-pw" not in p.stdout + p.stderr

    p = check("-c", SAMPLE,
              env={"CDC_SOURCE_PASSWORD_FILE": str(tmp_path / "none.pw")})
    assert p.returncode != 0
    assert "environment CDC_SOURCE_PASSWORD_FILE: password_file: cannot " \
        "open" in p.stderr


def test_every_key_is_in_the_sample_and_the_docs():
    p = check("--keys")
    assert p.returncode == 0, p.stderr
    rows = [ln for ln in p.stdout.splitlines() if ln.startswith("| ")][1:]
    assert len(rows) > 30
    sample = open(SAMPLE).read()
    docs = open(DOCS).read()
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        section, key, env = cells[0], cells[1].strip("`"), cells[4]
        assert env.strip("`") in docs, "docs lack " + env
        assert "`%s`" % key in docs, "docs lack key " + key
        if "environment only" not in row:
            assert re.search(r"^;? ?%s =" % re.escape(key), sample,
                             re.M), "sample lacks " + key


def test_server_checks_only_with_flag(mariadb):
    user = mariadb.cdc_user()
    mariadb.sql("CREATE DATABASE IF NOT EXISTS shop")
    mariadb.sql("CREATE TABLE IF NOT EXISTS shop.orders (id INT PRIMARY KEY)")
    mariadb.sql("CREATE TABLE IF NOT EXISTS shop.order_items "
                "(id INT PRIMARY KEY)")
    env = {"CDC_SOURCE_PORT": str(mariadb.port), "CDC_SOURCE_USER": user,
           "CDC_SOURCE_PASSWORD": mariadb.cdc_password}
    p = check("-c", SAMPLE, "--server", env=env)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "# source 127.0.0.1:%d: ok" % mariadb.port in p.stdout

    env["CDC_SOURCE_PASSWORD"] = "wrong"
    p = check("-c", SAMPLE, "--server", env=env)
    assert p.returncode == 1
    assert "source 127.0.0.1:%d: " % mariadb.port in p.stderr
    assert "wrong" not in p.stderr

    # without --server, the same config is only read, never tried
    p = check("-c", SAMPLE, env=env)
    assert p.returncode == 0, p.stderr
