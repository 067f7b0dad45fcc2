"""Secrets and listeners (docs/reliability.md, Security):

- `run` and `sink` take their passwords from a file or the environment
  (the MariaDB password from CDC_SOURCE_PASSWORD_FILE, the PostgreSQL
  password of a role that needs it, scram-sha-256, from
  CDC_SERVICE_ORDERS_PASSWORD), and neither secret appears in their
  command lines, their logs (at debug level), /metrics, /status,
  `cdc-bridge status`, `check-config` or `verify` output; a wrong
  password's error does not print it either;
- the metrics/status listeners are loopback by default and in fact: every
  socket `run` and `sink` listen on is on 127.0.0.1 (ss -ltnp), and a
  non-loopback listen address is refused by check-config.
"""

import os
import re
import subprocess
import time
import urllib.request

import harness
import sink_support as ss
import source_lib as sl

MY_SECRET = "My-S3cret-q7Zx91"
PG_SECRET = "Pg-S3cret-k2Vw58"
WRONG_SECRET = "Wrong-S3cret-u4Rt66"
SECRETS = (MY_SECRET, PG_SECRET, WRONG_SECRET)


def fetch(listen, path):
    with urllib.request.urlopen("http://%s%s" % (listen, path),
                                timeout=5) as r:
        return r.read().decode("utf-8", "replace")


def cmdline(pid):
    with open("/proc/%d/cmdline" % pid, "rb") as f:
        return f.read().replace(b"\0", b" ").decode("utf-8", "replace")


def listening(pid):
    """Local addresses pid listens on (TCP), from ss -ltnp."""
    out = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True,
                         timeout=10).stdout
    addrs = []
    for ln in out.splitlines():
        if "pid=%d," % pid in ln:
            addrs.append(ln.split()[3])
    return addrs


def bridge_cmd(env, *args):
    p = subprocess.run([harness.bridge_path(False)] + list(args),
                       capture_output=True, text=True, env=env, timeout=120)
    return p.returncode, p.stdout + p.stderr


def require_password(postgres, role):
    """pg_hba: role must log in over TCP with a password (scram)."""
    hba = os.path.join(postgres.data, "pg_hba.conf")
    with open(hba) as f:
        text = f.read()
    with open(hba, "w") as f:
        f.write("host all %s 127.0.0.1/32 scram-sha-256\n" % role + text)
    p = postgres.pg_ctl("reload")
    assert p.returncode == 0, p.stderr
    time.sleep(0.5)


def test_secrets_never_leak(tmp_path, mariadb, postgres, devkafka, outdir):
    # MariaDB: the cdc user's password is the secret, given as a file
    mariadb.cdc_password = MY_SECRET
    sl.setup_source(mariadb, "CREATE TABLE orders (id BIGINT PRIMARY KEY, "
                    "note VARCHAR(40));")
    mariadb.script("".join("INSERT INTO orders VALUES (%d, 'n%d');\n"
                           % (i, i) for i in range(1, 51)), db="shop")
    pwfile = tmp_path / "mysql.pw"
    pwfile.write_text(MY_SECRET + "\n")
    os.chmod(pwfile, 0o600)

    # PostgreSQL: a role that must give its password
    postgres.sql("CREATE ROLE orders LOGIN PASSWORD '%s'" % PG_SECRET)
    postgres.sql("CREATE DATABASE orders OWNER orders")
    require_password(postgres, "orders")
    import psycopg2
    try:
        psycopg2.connect(postgres.dsn("orders", user="orders")).close()
        raise AssertionError("pg_hba did not require a password")
    except psycopg2.OperationalError:
        pass

    run = sl.Bridge(tmp_path / "run", mariadb, devkafka, tables="shop.*",
                    asan=False, CDC_LOG_LEVEL="debug",
                    CDC_SOURCE_PASSWORD_FILE=str(pwfile))
    del run.env["CDC_SOURCE_PASSWORD"]
    sink_listen = "127.0.0.1:%d" % harness.free_port()
    env = ss.env_for(devkafka, postgres, mariadb=mariadb,
                     metrics_listen=sink_listen, create_tables="yes",
                     lag_file=str(tmp_path / "lag" / "orders"))
    env["CDC_KAFKA_TOPIC_PREFIX"] = "monolith"
    env["CDC_SERVICE_ORDERS_POSTGRES"] = postgres.dsn("orders",
                                                      user="orders")
    env["CDC_SERVICE_ORDERS_PASSWORD"] = PG_SECRET
    env["CDC_SOURCE_USER"] = "cdc"
    del env["CDC_SOURCE_PASSWORD"]
    env["CDC_SOURCE_PASSWORD_FILE"] = str(pwfile)
    env["CDC_LOG_LEVEL"] = "debug"
    env["CDC_METRICS_LISTEN"] = run.env["CDC_METRICS_LISTEN"]
    env["CDC_SOURCE_PORT"] = str(mariadb.port)
    env["CDC_CHECKPOINT_DIR"] = run.ckdir
    os.makedirs(tmp_path / "lag", exist_ok=True)

    sink = ss.Sink(tmp_path / "sink", env, asan=False)
    seen = {}
    try:
        run.start()
        sink.start()
        ss.wait_rows(postgres, "SELECT count(*) FROM public.orders",
                     [(50,)], sink=sink, timeout=90)
        mariadb.sql("UPDATE shop.orders SET note = 'changed' WHERE id = 7")
        ss.wait_rows(postgres, "SELECT note FROM public.orders WHERE id = 7",
                     [("changed",)], sink=sink, timeout=60)
        assert run.alive(), run.log()

        seen["run cmdline"] = cmdline(run.proc.pid)
        seen["sink cmdline"] = cmdline(sink.proc.pid)
        seen["run /metrics"] = run.metrics()
        seen["run /status"] = fetch(run.env["CDC_METRICS_LISTEN"],
                                    "/status")
        seen["sink /metrics"] = fetch(sink_listen, "/metrics")
        seen["sink /status"] = fetch(sink_listen, "/status")
        seen["cdc-bridge status"] = bridge_cmd(env, "status")[1]
        rc, seen["check-config"] = bridge_cmd(env, "check-config")
        assert rc == 0, seen["check-config"]
        rc, seen["verify"] = bridge_cmd(env, "verify", "--service",
                                        "orders")
        listen_run = listening(run.proc.pid)
        listen_sink = listening(sink.proc.pid)
    finally:
        sink.stop()
        run.stop()

    # a wrong password fails, and its error does not print it
    bad = dict(env, CDC_SERVICE_ORDERS_PASSWORD=WRONG_SECRET)
    bad_sink = ss.Sink(tmp_path / "badsink", bad, asan=False).start()
    try:
        bad_sink.proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        pass
    bad_sink.stop()
    seen["sink log, wrong password"] = bad_sink.output()

    seen["run log"] = run.log()
    seen["sink log"] = sink.output()
    for f in os.listdir(str(tmp_path / "run")):
        p = os.path.join(str(tmp_path / "run"), f)
        if os.path.isfile(p) and f != "run.log":
            with open(p, errors="replace") as fh:
                seen["run dir " + f] = fh.read()
    lagf = tmp_path / "lag" / "orders"
    if lagf.exists():
        seen["lag file"] = lagf.read_text()

    leaks = ["%s: %s" % (where, s) for where, text in seen.items()
             for s in SECRETS if s in text]
    summary = ["%-26s %6d bytes, secrets found: %s" % (
        where, len(text), [s for s in SECRETS if s in text])
        for where, text in seen.items()]
    summary.append("run listens on %s, sink on %s" % (listen_run,
                                                      listen_sink))
    print("\n".join(summary))
    with open(os.path.join(outdir, "report.txt"), "w") as f:
        f.write("\n".join(summary) + "\n")

    # the secrets did their job (nothing would pass without them) ...
    assert "cdc_bridge_" in seen["run /metrics"]
    assert "equal" in seen["verify"], seen["verify"]
    assert seen["sink log, wrong password"], "no error for a bad password"
    assert re.search(r"password|auth", seen["sink log, wrong password"],
                     re.I), seen["sink log, wrong password"]
    # ... and were never shown
    assert leaks == [], leaks
    # loopback only
    assert listen_run and listen_sink
    for a in listen_run + listen_sink:
        assert a.startswith("127.0.0.1:"), (listen_run, listen_sink)


def test_listeners_default_to_loopback_and_refuse_others(tmp_path, mariadb,
                                                        devkafka, postgres):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDC_")}
    # the shipped sample config
    rc, out = bridge_cmd(env, "check-config", "-c", sl.CONF)
    assert rc == 0, out
    m = re.search(r"^\s*listen\s*=\s*(\S+)", out, re.M)
    assert m and m.group(1).startswith("127.0.0.1:"), out
    # the built-in default, with no listen key anywhere
    conf = tmp_path / "min.conf"
    conf.write_text("[source]\ntables = shop.orders\n")
    rc, out = bridge_cmd(env, "check-config", "-c", str(conf))
    assert rc == 0, out
    m = re.search(r"^\s*listen\s*=\s*(\S+)\s+# default", out, re.M)
    assert m and m.group(1) == "127.0.0.1:9187", out
    # a non-loopback address is refused by check-config, naming file,
    # line and value ...
    for bad in ("0.0.0.0:9187", "10.1.2.3:9187", "[::]:9187"):
        conf.write_text("[source]\ntables = shop.orders\n[metrics]\n"
                        "listen = %s\n" % bad)
        rc, out = bridge_cmd(env, "check-config", "-c", str(conf))
        assert rc != 0, out
        assert "%s:4" % conf in out and bad in out, out
    # ... and when `run` starts
    sl.setup_source(mariadb, "CREATE TABLE t (id INT PRIMARY KEY);")
    for bad in ("0.0.0.0", "[::]"):
        port = harness.free_port()
        run = sl.Bridge(tmp_path / ("run-" + bad.strip("[]:.")), mariadb,
                        devkafka, asan=False,
                        CDC_METRICS_LISTEN="%s:%d" % (bad, port))
        rc, out = run.run(timeout=60)
        print(bad, "->", rc, out.strip()[-300:])
        assert rc != 0, out
        assert "loopback" in out and "%s:%d" % (bad, port) in out, out
    # and a sink's metrics_listen
    postgres.create_db("orders")
    port = harness.free_port()
    env2 = ss.env_for(devkafka, postgres, mariadb=mariadb,
                      create_tables="yes",
                      metrics_listen="0.0.0.0:%d" % port)
    rc, out = ss.Sink(tmp_path / "sink", env2).run(timeout=60)
    print("sink 0.0.0.0 ->", rc, out.strip()[-300:])
    assert rc != 0, out
    assert "loopback" in out and "0.0.0.0:%d" % port in out, out
