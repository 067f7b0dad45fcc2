"""The sink's PostgreSQL side, secured (docs/reliability.md, Security):

- least privilege: the sink's role is no superuser and does not own the
  database; it owns only the target schema and strangler_cdc (the schema
  of its offsets), which an administrator creates for it.  The sink
  creates its tables there and applies changes; it cannot touch another
  schema;
- TLS: PostgreSQL with ssl=on (a self-signed certificate made here) and
  pg_hba allowing the role only over TLS (hostssl, scram-sha-256); the
  sink's conninfo says sslmode=require and its connection is encrypted
  (pg_stat_ssl); without TLS the server refuses it.
"""

import os
import subprocess
import time

import psycopg2

import harness
import sink_support as ss

ROLE = "svc_orders"
SECRET = "Svc-S3cret-p9Lm33"


def hba(postgres, lines):
    path = os.path.join(postgres.data, "pg_hba.conf")
    with open(path) as f:
        text = f.read()
    with open(path, "w") as f:
        f.write("".join(ln + "\n" for ln in lines) + text)
    p = postgres.pg_ctl("reload")
    assert p.returncode == 0, p.stderr
    time.sleep(0.5)


def least_privilege_db(postgres):
    """Database owned by postgres; ROLE owns schemas orders and
    strangler_cdc only."""
    postgres.sql("CREATE ROLE %s LOGIN PASSWORD '%s'" % (ROLE, SECRET))
    postgres.sql("CREATE DATABASE orders")
    postgres.sql("REVOKE ALL ON DATABASE orders FROM PUBLIC", db="orders")
    postgres.sql("GRANT CONNECT ON DATABASE orders TO %s" % ROLE,
                 db="orders")
    postgres.sql("REVOKE ALL ON SCHEMA public FROM PUBLIC", db="orders")
    postgres.sql("CREATE SCHEMA orders AUTHORIZATION %s" % ROLE, db="orders")
    postgres.sql("CREATE SCHEMA strangler_cdc AUTHORIZATION %s" % ROLE,
                 db="orders")
    postgres.sql("CREATE TABLE public.other (x int)", db="orders")


def sink_env(devkafka, postgres, mariadb, conninfo_extra=""):
    env = ss.env_for(devkafka, postgres, mariadb=mariadb,
                     tables="shop.orders=orders.orders",
                     create_tables="yes")
    env["CDC_SERVICE_ORDERS_POSTGRES"] = (
        postgres.dsn("orders", user=ROLE) + conninfo_extra)
    env["CDC_SERVICE_ORDERS_PASSWORD"] = SECRET
    return env


def source_table(mariadb):
    mariadb.sql("CREATE DATABASE shop")
    mariadb.sql("CREATE TABLE shop.orders (id BIGINT PRIMARY KEY, "
                "amount DECIMAL(10,2), note VARCHAR(40))")


def send(devkafka, n):
    ev = ss.Events(devkafka)
    for i in range(1, n + 1):
        ev.insert("orders", {"id": i, "amount": "%d.50" % i,
                             "note": "n%d" % i})
    ev.update("orders", {"id": 1, "amount": "1.50", "note": "n1"},
              {"id": 1, "amount": "9.99", "note": "changed"})
    ev.delete("orders", {"id": 2, "amount": "2.50", "note": "n2"})
    ev.flush()


def test_sink_runs_with_schema_owner_only(tmp_path, mariadb, postgres,
                                          devkafka, outdir):
    least_privilege_db(postgres)
    source_table(mariadb)
    # the role really is limited
    r = postgres.sql("SELECT rolsuper, rolcreatedb, rolcreaterole FROM "
                     "pg_roles WHERE rolname = %s", (ROLE,))
    assert r == [(False, False, False)]
    env = sink_env(devkafka, postgres, mariadb)
    send(devkafka, 20)
    sink = ss.Sink(tmp_path / "sink", env).start()
    try:
        ss.wait_rows(postgres, "SELECT count(*), sum(amount)::text FROM "
                     "orders.orders", [(19, "%.2f" % (
                         sum(i + 0.5 for i in range(3, 21)) + 9.99))],
                     sink=sink)
    finally:
        rc = sink.stop()
    owner = postgres.sql("SELECT tableowner FROM pg_tables WHERE "
                         "schemaname = 'orders' AND tablename = 'orders'",
                         db="orders")
    # it could not have written anywhere else
    c = psycopg2.connect(postgres.dsn("orders", user=ROLE), password=SECRET)
    c.autocommit = True
    try:
        with c.cursor() as cur:
            for q in ("CREATE TABLE public.evil (x int)",
                      "INSERT INTO public.other VALUES (1)",
                      "CREATE SCHEMA evil"):
                try:
                    cur.execute(q)
                    raise AssertionError("allowed: " + q)
                except psycopg2.errors.InsufficientPrivilege:
                    pass
    finally:
        c.close()
    line = "sink as %s (schema owner only): exit %s, table owner %s" % (
        ROLE, rc, owner)
    print(line)
    with open(os.path.join(outdir, "report.txt"), "w") as f:
        f.write(line + "\n")
    assert rc == 0, sink.output()
    assert owner == [(ROLE,)]
    assert sink.problems() == []


def make_cert(d):
    key = os.path.join(d, "server.key")
    crt = os.path.join(d, "server.crt")
    subprocess.run(["openssl", "req", "-new", "-x509", "-days", "2",
                    "-nodes", "-subj", "/CN=127.0.0.1", "-newkey",
                    "rsa:2048", "-keyout", key, "-out", crt],
                   check=True, capture_output=True, timeout=60)
    for f in (key, crt):
        subprocess.run(["chown", "postgres", f], check=True)
    os.chmod(key, 0o600)
    return crt, key


def test_sink_over_tls_with_sslmode_require(tmp_path, mariadb, postgres,
                                            devkafka, outdir):
    crt, key = make_cert(postgres.dir)
    with open(os.path.join(postgres.data, "postgresql.conf"), "a") as f:
        f.write("ssl = on\nssl_cert_file = '%s'\nssl_key_file = '%s'\n"
                % (crt, key))
    least_privilege_db(postgres)
    hba(postgres, ["hostssl all %s 127.0.0.1/32 scram-sha-256" % ROLE,
                   "hostnossl all %s 127.0.0.1/32 reject" % ROLE])
    postgres.restart()
    source_table(mariadb)

    # without TLS the server refuses the role
    plain = ss.Sink(tmp_path / "plain",
                    sink_env(devkafka, postgres, mariadb,
                             " sslmode=disable"))
    rc_plain, out_plain = plain.run(timeout=60)

    env = sink_env(devkafka, postgres, mariadb, " sslmode=require")
    send(devkafka, 10)
    sink = ss.Sink(tmp_path / "sink", env).start()
    try:
        ss.wait_rows(postgres, "SELECT count(*) FROM orders.orders", [(9,)],
                     sink=sink)
        ssl_rows = postgres.sql(
            "SELECT s.ssl, s.version FROM pg_stat_ssl s JOIN "
            "pg_stat_activity a USING (pid) WHERE a.usename = %s",
            (ROLE,))
    finally:
        rc = sink.stop()
    summary = ["without TLS: exit %s: %s" % (rc_plain,
                                             out_plain.strip()[-200:]),
               "sslmode=require: exit %s, connections %s" % (rc, ssl_rows)]
    print("\n".join(summary))
    with open(os.path.join(outdir, "report.txt"), "w") as f:
        f.write("\n".join(summary) + "\n")
    assert rc_plain != 0 and "no encryption" in out_plain, out_plain
    assert rc == 0, sink.output()
    assert ssl_rows and all(r[0] for r in ssl_rows), ssl_rows
    assert SECRET not in out_plain + sink.output()
    assert harness.sanitizer_reports(str(tmp_path / "sink")) == []
