"""The daemon under ThreadSanitizer (build/tsan/cdc-bridge): `run` and
`sink` stream a few seconds of writes while their /metrics, /status and
/healthz endpoints and `cdc-bridge status` are read over and over from
other threads; zero TSan reports.  librdkafka and libmariadb are not
instrumented: tests/tsan.supp suppresses reports wholly inside them (see
the file).  TSAN_HALT=0 keeps the processes going past the first report
to collect them all."""

import glob
import os
import subprocess
import threading
import time
import urllib.request

import harness
import sink_support as ss
import source_lib

TSAN = os.path.join(harness.BUILD, "tsan", "cdc-bridge")
SUPP = os.path.join(harness.ROOT, "tests", "tsan.supp")


def tsan_env(env, logdir):
    e = {k: v for k, v in env.items()
         if k not in ("LD_PRELOAD", "ASAN_OPTIONS", "UBSAN_OPTIONS")}
    e["TSAN_OPTIONS"] = ":".join([
        "halt_on_error=%s" % os.environ.get("TSAN_HALT", "1"), "exitcode=66", "second_deadlock_stack=1",
        "suppressions=" + SUPP, "log_path=" + os.path.join(logdir, "tsan")])
    return e


def tsan_reports(logdir):
    out = []
    for f in sorted(glob.glob(os.path.join(logdir, "tsan*"))):
        with open(f, errors="replace") as fh:
            out.append(f + ":\n" + fh.read())
    return out


def start(cmd, env, logpath):
    log = open(logpath, "wb")
    return subprocess.Popen([TSAN] + cmd, stdout=log, stderr=log, env=env)


def stop(p, timeout=60):
    if p.poll() is None:
        p.terminate()
        try:
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    return p.returncode


def hammer(urls, until, errors):
    """Reads every URL in a loop until the deadline (another thread)."""
    n = 0
    while time.time() < until:
        for u in urls:
            try:
                with urllib.request.urlopen(u, timeout=10) as r:
                    r.read()
                n += 1
            except Exception as e:      # a refused read is fine, a crash not
                errors.append("%s: %s" % (u, e))
    return n


def test_tsan_run_sink_and_endpoints(tmp_path, mariadb, postgres, devkafka):
    assert os.path.exists(TSAN), "not built: " + TSAN
    mariadb.script("""
        CREATE DATABASE shop;
        CREATE TABLE shop.orders (id INT PRIMARY KEY, n INT,
                                  note VARCHAR(40));
        CREATE TABLE shop.cdc_heartbeat (id INT UNSIGNED PRIMARY KEY,
            beat_ms BIGINT NOT NULL, beat_at TIMESTAMP(3) NOT NULL);
    """)
    mariadb.cdc_user()
    mariadb.sql("GRANT INSERT, UPDATE ON shop.cdc_heartbeat TO 'cdc'@'%'")
    postgres.create_db("orders")
    logdir = str(tmp_path)

    run_listen = "127.0.0.1:%d" % harness.free_port()
    sink_listen = "127.0.0.1:%d" % harness.free_port()
    renv = source_lib.bridge_env(mariadb, devkafka, tmp_path / "ck",
                                 CDC_METRICS_LISTEN=run_listen,
                                 CDC_SOURCE_HEARTBEAT_TABLE="shop.cdc_heartbeat",
                                 CDC_SOURCE_HEARTBEAT_INTERVAL="200ms")
    senv = ss.env_for(devkafka, postgres, mariadb=mariadb,
                      create_tables="yes", lag_file=str(tmp_path / "lag"),
                      metrics_listen=sink_listen)
    senv["CDC_KAFKA_TOPIC_PREFIX"] = "monolith"
    senv["CDC_SOURCE_HEARTBEAT_TABLE"] = "shop.cdc_heartbeat"
    senv["CDC_METRICS_LISTEN"] = run_listen

    run = start(["run", "-c", source_lib.CONF], tsan_env(renv, logdir),
                str(tmp_path / "run.log"))
    sink = start(["sink", "--service", "orders"], tsan_env(senv, logdir),
                 str(tmp_path / "sink.log"))
    try:
        harness.wait_port(int(run_listen.rsplit(":", 1)[1]), proc=run,
                          timeout=60)
        harness.wait_port(int(sink_listen.rsplit(":", 1)[1]), proc=sink,
                          timeout=60)
        urls = ["http://%s/%s" % (h, p) for h in (run_listen, sink_listen)
                for p in ("metrics", "status", "healthz")]
        errors = []
        until = time.time() + 8
        readers = [threading.Thread(target=hammer,
                                    args=(urls, until, errors))
                   for _ in range(2)]
        for t in readers:
            t.start()
        n = 0
        conn = mariadb.connect(db="shop")
        try:
            with conn.cursor() as c:
                while time.time() < until:
                    for _ in range(50):
                        n += 1
                        c.execute("INSERT INTO orders VALUES (%s, %s, 'x') "
                                  "ON DUPLICATE KEY UPDATE n = n + 1",
                                  (n % 500, n))
                    conn.commit()
                    st = subprocess.run(
                        [TSAN, "status", "-c", source_lib.CONF],
                        capture_output=True, text=True, timeout=60,
                        env=tsan_env(senv, logdir))
                    assert st.returncode in (0, 1), st.stdout + st.stderr
        finally:
            conn.close()
        for t in readers:
            t.join()
        assert not [e for e in errors if "Connection refused" not in e], \
            errors[:5]
        ss.wait_rows(postgres, "SELECT count(*) FROM public.orders",
                     [(min(n, 500),)], timeout=120)
        assert run.poll() is None and sink.poll() is None
    finally:
        rrc = stop(run)
        src = stop(sink)
    reports = tsan_reports(logdir)
    assert not reports, "\n".join(reports)[:20000]
    assert rrc == 0 and src == 0, (rrc, src)
