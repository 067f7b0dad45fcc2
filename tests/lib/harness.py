"""Start and stop the real servers the tests talk to, on 127.0.0.1, in
temporary directories: nginx with the module, small HTTP backends that say
which side answered, MariaDB, PostgreSQL and the dev Kafka broker.

Each class starts in __init__ (or start()) and has stop(); the fixtures in
tests/conftest.py tie them to a test's life so a test reads as the
behaviour it checks.
"""

import base64
import glob
import http.server
import json
import os
import re
import shutil
import signal
import socket
import socketserver
import subprocess
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))
BUILD = os.environ.get("STRANGLER_BUILD", os.path.join(ROOT, "build"))
SHARED = os.path.join(os.path.dirname(ROOT), "shared")
TESTDATA = os.path.join(SHARED, "testdata")
OUT = os.path.join(ROOT, "tests", "out")

NGINX_BIN = os.environ.get("NGINX", "/usr/sbin/nginx")
# Integration tests run the ASan builds unless told otherwise.
ASAN = os.environ.get("STRANGLER_ASAN", "1") == "1"


def module_path(asan=ASAN):
    sub = "asan" if asan else ""
    return os.path.join(BUILD, sub, "ngx_http_strangler_module.so")


def bridge_path(asan=ASAN):
    sub = "asan" if asan else ""
    return os.path.join(BUILD, sub, "cdc-bridge")


def libasan():
    return subprocess.check_output(
        ["gcc", "-print-file-name=libasan.so"], text=True).strip()


def free_port():
    """A port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=20.0, proc=None):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError("process exited with %s before listening on %d"
                               % (proc.returncode, port))
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError("nothing listens on 127.0.0.1:%d" % port)


def wait_for(cond, timeout=10.0, interval=0.05, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(interval)
    raise TimeoutError("timed out waiting for " + what)


def sanitizer_env(env=None, logdir=None):
    """Environment for a process built with ASan/UBSan."""
    env = dict(os.environ if env is None else env)
    opts = ["abort_on_error=0", "detect_leaks=1"]
    if logdir:
        opts.append("log_path=" + os.path.join(logdir, "asan"))
    env["ASAN_OPTIONS"] = ":".join(opts)
    env["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1" + (
        ":log_path=" + os.path.join(logdir, "ubsan") if logdir else "")
    return env


def sanitizer_reports(logdir):
    out = []
    for f in sorted(glob.glob(os.path.join(logdir, "asan*"))
                    + glob.glob(os.path.join(logdir, "ubsan*"))):
        with open(f, errors="replace") as fh:
            out.append(f + ":\n" + fh.read())
    return out


# ---------------------------------------------------------------- nginx

NGINX_MAIN = """\
load_module {module};
{user}worker_processes {workers};
pid {prefix}/nginx.pid;
error_log {prefix}/error.log {log_level};
daemon off;
master_process on;
{main_extra}
events {{ worker_connections 1024; }}

http {{
    access_log {prefix}/access.log;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;

{http}
}}
"""


class Nginx:
    """nginx -p DIR -c DIR/nginx.conf with the strangler module loaded.

    `http` is the body of the http{} block; "{port}" in it is replaced by
    self.port, and other "{name}" by the keyword arguments of write()."""

    def __init__(self, prefix, asan=ASAN, workers=1, log_level="info",
                 main_extra=""):
        self.prefix = str(prefix)
        os.makedirs(self.prefix, exist_ok=True)
        self.asan = asan
        self.workers = workers
        self.log_level = log_level
        self.main_extra = main_extra
        self.port = free_port()
        self.conf = os.path.join(self.prefix, "nginx.conf")
        self.proc = None
        self.expected = []

    def env(self):
        env = dict(os.environ)
        if self.asan:
            env = sanitizer_env(env, self.prefix)
            env["LD_PRELOAD"] = libasan()
            # nginx keeps its cycle's memory until exit by design.
            env["ASAN_OPTIONS"] = env["ASAN_OPTIONS"].replace(
                "detect_leaks=1", "detect_leaks=0")
        return env

    def write(self, http, **kw):
        kw.setdefault("port", self.port)
        body = http
        for k, v in kw.items():
            body = body.replace("{" + k + "}", str(v))
        text = NGINX_MAIN.format(
            module=module_path(self.asan), workers=self.workers,
            # as root, workers would be "nobody" and could not write the
            # temp dirs (request bodies) under the test's directory
            user="user root;\n" if os.geteuid() == 0 else "",
            prefix=self.prefix, log_level=self.log_level,
            main_extra=self.main_extra, http=body)
        with open(self.conf, "w") as f:
            f.write(text)
        return self.conf

    def test_config(self, http=None, timeout=30, **kw):
        """nginx -t; returns (ok, output).  Raises TimeoutExpired (and
        kills it) when nginx -t takes longer than timeout seconds."""
        if http is not None:
            self.write(http, **kw)
        p = subprocess.run([NGINX_BIN, "-t", "-p", self.prefix, "-c",
                            self.conf], capture_output=True, text=True,
                           env=self.env(), timeout=timeout)
        return p.returncode == 0, p.stdout + p.stderr

    def start(self, http=None, **kw):
        if http is not None:
            self.write(http, **kw)
        self.stderr = open(os.path.join(self.prefix, "stderr.log"), "ab")
        self.proc = subprocess.Popen(
            [NGINX_BIN, "-p", self.prefix, "-c", self.conf],
            stdout=self.stderr, stderr=self.stderr, env=self.env())
        wait_port(self.port, proc=self.proc)
        return self

    def pid(self):
        with open(os.path.join(self.prefix, "nginx.pid")) as f:
            return int(f.read().strip())

    def workers_pids(self):
        out = subprocess.run(["pgrep", "-P", str(self.proc.pid)],
                             capture_output=True, text=True).stdout
        return [int(x) for x in out.split()]

    def reload(self, http=None, wait=True, wait_old=True, **kw):
        """Rewrite the config (if given) and send SIGHUP, as nginx -s reload
        does.  With wait, returns once new workers have replaced the old
        (with wait_old, also once the old ones have exited, so that no
        request can still meet the old configuration)."""
        if http is not None:
            self.write(http, **kw)
        old = set(self.workers_pids())
        os.kill(self.proc.pid, signal.SIGHUP)
        if wait:
            def replaced():
                now = set(self.workers_pids())
                return (len(now - old) >= self.workers
                        and not (wait_old and now & old))
            wait_for(replaced, timeout=20, what="new nginx workers")

    def url(self, path="/"):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def error_log(self):
        try:
            with open(os.path.join(self.prefix, "error.log"),
                      errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def problems(self):
        """[alert]/[emerg]/[crit] lines and sanitizer reports, except the
        lines matching a regex in self.expected (a test that provokes an
        error on purpose adds it there)."""
        bad = [ln for ln in self.error_log().splitlines()
               if re.search(r"\[(alert|emerg|crit)\]", ln)
               and not any(re.search(e, ln) for e in self.expected)]
        return bad + sanitizer_reports(self.prefix)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def pipeline(self, reqs, batch=500, timeout=60):
        """Sends reqs pipelined over keep-alive connections, `batch` per
        connection (fast: 20,000 requests in a second or two).  Each req is
        a path or (method, path, headers dict).  Returns [(status, headers
        dict with lower-case names, body bytes)] in order."""
        return http_pipeline(self.port, reqs, batch=batch, timeout=timeout)

    def status(self, fmt=None, path="/strangler/status"):
        """The strangler_status output: a dict for JSON, text otherwise."""
        q = "" if fmt is None else "?format=" + fmt
        st, hdrs, body = http_pipeline(self.port, [path + q])[0]
        if st != 200:
            raise RuntimeError("status %s: %r" % (st, body[:200]))
        if fmt in (None, "json"):
            return json.loads(body)
        return body.decode()


def strangler_bucket(route, key):
    """include/strangler/bucket.h in Python: the bucket 0..9999 of (route
    name, key), so tests can predict every decision exactly."""
    h = 0xcbf29ce484222325
    for b in route.encode() + b"\xff" + key.encode():
        h ^= b
        h = (h * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    h ^= h >> 33
    h = (h * 0xff51afd7ed558ccd) & 0xFFFFFFFFFFFFFFFF
    h ^= h >> 33
    h = (h * 0xc4ceb9fe1a85ec53) & 0xFFFFFFFFFFFFFFFF
    h ^= h >> 33
    return h % 10000


def strangler_side(route, key, percent):
    """'service' or 'legacy' as the module decides at `percent`."""
    p100 = int(round(float(percent) * 100))
    return "service" if strangler_bucket(route, key) < p100 else "legacy"


def _http_request_bytes(req, port):
    if isinstance(req, str):
        method, path, headers, body = "GET", req, {}, b""
    else:
        method, path = req[0], req[1]
        headers = req[2] if len(req) > 2 and req[2] else {}
        body = req[3] if len(req) > 3 and req[3] else b""
    lines = ["%s %s HTTP/1.1" % (method, path),
             "Host: 127.0.0.1:%d" % port]
    for k, v in headers.items():
        lines.append("%s: %s" % (k, v))
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append("Content-Length: %d" % len(body))
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body, method


def _read_http_response(f, method):
    line = f.readline()
    if not line:
        raise ConnectionError("connection closed before a response")
    status = int(line.split()[1])
    headers = {}
    while True:
        h = f.readline()
        if h in (b"\r\n", b"\n", b""):
            break
        k, _, v = h.decode("latin-1").partition(":")
        headers[k.strip().lower()] = v.strip()
    if method == "HEAD" or status in (204, 304) or status < 200:
        return status, headers, b""
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while True:
            n = int(f.readline().split(b";")[0], 16)
            if n == 0:
                while f.readline() not in (b"\r\n", b""):
                    pass
                break
            body += f.read(n)
            f.readline()
        return status, headers, body
    n = int(headers.get("content-length", "0"))
    return status, headers, f.read(n)


def http_pipeline(port, reqs, batch=500, timeout=60):
    out = []
    for i in range(0, len(reqs), batch):
        chunk = [_http_request_bytes(r, port) for r in reqs[i:i + batch]]
        with socket.create_connection(("127.0.0.1", port),
                                      timeout=timeout) as s:
            # a writer thread, so neither side blocks on full buffers
            data = b"".join(c[0] for c in chunk)
            w = threading.Thread(target=s.sendall, args=(data,),
                                 daemon=True)
            w.start()
            f = s.makefile("rb")
            for _, method in chunk:
                out.append(_read_http_response(f, method))
            w.join()
            f.close()
    return out


# ---------------------------------------------------------------- backends

class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # headers and body go out in two writes: without this, Nagle and the
    # peer's delayed ACK cost 40 ms per request on a kept-alive connection
    disable_nagle_algorithm = True

    def log_message(self, *a):
        pass

    def _answer(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        srv = self.server
        with srv.lock:
            srv.hits += 1
            srv.requests.append((self.command, self.path, len(body)))
            srv.peers.add(self.client_address[1])
        if srv.status_for_path and self.path in srv.status_for_path:
            status = srv.status_for_path[self.path]
        else:
            status = srv.status
        doc = {"side": srv.name, "method": self.command, "path": self.path,
               "body_len": len(body),
               "headers": {k.lower(): v for k, v in self.headers.items()}}
        out = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Backend", srv.name)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(out)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _answer


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class Backend:
    """An HTTP/1.1 server on 127.0.0.1 answering every request with JSON
    {"side": name, "method", "path", "body_len", "headers"} and the header
    X-Backend: name.  .hits counts requests; .status sets the answer's
    status code."""

    def __init__(self, name, status=200):
        self.name = name
        self.port = free_port()
        self.srv = _Server(("127.0.0.1", self.port), _Handler)
        self.srv.name = name
        self.srv.status = status
        self.srv.status_for_path = {}
        self.srv.hits = 0
        self.srv.requests = []
        self.srv.peers = set()      # client ports: connections nginx made
        self.srv.lock = threading.Lock()
        self.thread = threading.Thread(target=self.srv.serve_forever,
                                       daemon=True)
        self.thread.start()

    @property
    def hits(self):
        return self.srv.hits

    def set_status(self, status):
        self.srv.status = status

    def stop(self):
        self.srv.shutdown()
        self.srv.server_close()


# ---------------------------------------------------------------- MariaDB

class MariaDB:
    """MariaDB 10.11 in a temp dir with the binlog settings the bridge
    needs.  .sql(query) runs a statement as root; .cdc_user()/.cdc_password
    is a replication user with the grants docs/cdc-bridge.md lists."""

    def __init__(self, datadir, server_id=1, extra_args=(), start=True):
        self.dir = str(datadir)
        self.data = os.path.join(self.dir, "data")
        self.sock = os.path.join(self.dir, "mysqld.sock")
        self.port = free_port()
        self.server_id = server_id
        self.extra_args = list(extra_args)
        self.proc = None
        self.cdc_password = "cdc-secret-pw"
        os.makedirs(self.dir, exist_ok=True)
        if not os.path.exists(os.path.join(self.data, "mysql")):
            subprocess.run(
                ["mariadb-install-db", "--no-defaults",
                 "--datadir=" + self.data, "--user=root",
                 "--auth-root-authentication-method=normal",
                 "--skip-test-db"],
                check=True, capture_output=True, timeout=120)
        if start:
            self.start()

    def args(self):
        return ["mariadbd", "--no-defaults", "--datadir=" + self.data,
                "--user=root", "--port=%d" % self.port,
                "--bind-address=127.0.0.1", "--socket=" + self.sock,
                "--log-bin=" + os.path.join(self.data, "binlog"),
                "--binlog-format=ROW", "--binlog-row-image=FULL",
                "--binlog-row-metadata=FULL",
                "--server-id=%d" % self.server_id,
                "--log-error=" + os.path.join(self.dir, "error.log"),
                "--innodb-buffer-pool-size=256M",
                "--innodb-flush-log-at-trx-commit=2",
                "--sync-binlog=0", "--skip-name-resolve",
                "--max-connections=500",
                # temp tables (information_schema queries) stay in the
                # test's directory, away from whatever else cleans /tmp
                "--tmpdir=" + self.dir] + self.extra_args

    def start(self):
        self.log = open(os.path.join(self.dir, "stdout.log"), "ab")
        self.proc = subprocess.Popen(self.args(), stdout=self.log,
                                     stderr=self.log)
        wait_port(self.port, timeout=60, proc=self.proc)
        wait_for(lambda: self._ping(), timeout=30, what="mariadb ready")
        return self

    def _ping(self):
        try:
            self.sql("SELECT 1")
            return True
        except Exception:
            return False

    def connect(self, db=None, user="root", password="", autocommit=True):
        import pymysql
        return pymysql.connect(host="127.0.0.1", port=self.port, user=user,
                               password=password, database=db,
                               autocommit=autocommit, charset="utf8mb4")

    def sql(self, query, args=None, db=None):
        """Runs one statement, returns fetched rows (tuples)."""
        conn = self.connect(db=db)
        try:
            with conn.cursor() as c:
                c.execute(query, args)
                return c.fetchall()
        finally:
            conn.close()

    def script(self, text, db=None):
        """Runs several ;-separated statements with the mariadb client."""
        cmd = ["mariadb", "--no-defaults", "-uroot", "-h127.0.0.1",
               "-P%d" % self.port]
        if db:
            cmd.append(db)
        subprocess.run(cmd, input=text, text=True, check=True,
                       capture_output=True, timeout=300)

    def cdc_user(self, user="cdc", grants=True):
        self.sql("CREATE USER IF NOT EXISTS '%s'@'%%' IDENTIFIED BY '%s'"
                 % (user, self.cdc_password))
        if grants:
            self.sql("GRANT REPLICATION SLAVE, REPLICATION CLIENT, "
                     "SELECT ON *.* TO '%s'@'%%'" % user)
        return user

    def restart(self):
        self.stop()
        self.start()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


# ---------------------------------------------------------------- PostgreSQL

PG_BIN = "/usr/lib/postgresql/15/bin"


class Postgres:
    """PostgreSQL 15 in a temp dir, run as the postgres user (it refuses
    root), trust auth on 127.0.0.1.  .sql(query, db) as superuser.
    extra_options: more server options for pg_ctl -o, e.g.
    "-c wal_level=logical" for logical replication."""

    def __init__(self, datadir, start=True, extra_options=""):
        self.dir = str(datadir)
        self.extra_options = extra_options
        self.data = os.path.join(self.dir, "pgdata")
        self.port = free_port()
        self.user = "postgres"
        os.makedirs(self.dir, exist_ok=True)
        shutil.chown(self.dir, "postgres")
        os.chmod(self.dir, 0o755)
        # every parent must be traversable by postgres
        d = os.path.dirname(self.dir)
        while d and d != "/":
            st = os.stat(d)
            if not st.st_mode & 0o001:
                os.chmod(d, st.st_mode | 0o001)
            d = os.path.dirname(d)
        if not os.path.exists(os.path.join(self.data, "PG_VERSION")):
            subprocess.run(["runuser", "-u", "postgres", "--",
                            PG_BIN + "/initdb", "-D", self.data, "-A",
                            "trust", "-U", "postgres", "--no-sync",
                            "-E", "UTF8", "--locale=C"],
                           check=True, capture_output=True, timeout=120)
        if start:
            self.start()

    def pg_ctl(self, *args):
        return subprocess.run(["runuser", "-u", "postgres", "--",
                               PG_BIN + "/pg_ctl", "-D", self.data] +
                              list(args), capture_output=True, text=True,
                              timeout=120)

    def start(self):
        opts = ("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off "
                "-c synchronous_commit=off -c max_connections=200"
                % (self.port, self.dir))
        if self.extra_options:
            opts += " " + self.extra_options
        p = self.pg_ctl("-o", opts, "-l", os.path.join(self.dir, "pg.log"),
                        "-w", "start")
        if p.returncode != 0:
            raise RuntimeError("pg_ctl start failed: " + p.stdout + p.stderr)
        return self

    def dsn(self, db="postgres", user="postgres"):
        return "host=127.0.0.1 port=%d dbname=%s user=%s" % (self.port, db,
                                                             user)

    def connect(self, db="postgres"):
        import psycopg2
        c = psycopg2.connect(self.dsn(db))
        c.autocommit = True
        return c

    def sql(self, query, args=None, db="postgres"):
        conn = self.connect(db)
        try:
            with conn.cursor() as c:
                c.execute(query, args)
                return c.fetchall() if c.description else []
        finally:
            conn.close()

    def create_db(self, name, owner=None):
        if owner:
            self.sql("CREATE ROLE %s LOGIN" % owner)
            self.sql("CREATE DATABASE %s OWNER %s" % (name, owner))
        else:
            self.sql("CREATE DATABASE %s" % name)

    def restart(self):
        self.stop()
        self.start()

    def stop(self):
        self.pg_ctl("-m", "fast", "-w", "stop")


# ---------------------------------------------------------------- Kafka

class DevKafka:
    """`cdc-bridge dev-kafka`: librdkafka's mock cluster.  The first line of
    its stdout is bootstrap.servers=HOST:PORT; .command(text) writes one
    control line to its stdin (see docs/cdc-bridge.md)."""

    def __init__(self, workdir, brokers=1, args=(), asan=False):
        self.dir = str(workdir)
        os.makedirs(self.dir, exist_ok=True)
        self.err = open(os.path.join(self.dir, "dev-kafka.log"), "ab")
        env = sanitizer_env(None, self.dir) if asan else None
        self.proc = subprocess.Popen(
            [bridge_path(asan), "dev-kafka", "--brokers", str(brokers)] +
            list(args), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=self.err, text=True, env=env)
        line = self.proc.stdout.readline().strip()
        if not line.startswith("bootstrap.servers="):
            raise RuntimeError("dev-kafka printed %r" % line)
        self.bootstrap = line.split("=", 1)[1]
        self.lock = threading.Lock()
        self.replies = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            with self.lock:
                self.replies.append(line.rstrip("\n"))

    def command(self, text, timeout=10):
        """Sends one control line; returns its reply line."""
        with self.lock:
            n = len(self.replies)
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()

        def got():
            with self.lock:
                return self.replies[n] if len(self.replies) > n else None
        return wait_for(got, timeout=timeout, what="dev-kafka reply")

    def create_topic(self, name, partitions=16):
        """Creates a topic with enough partitions for a load (the mock
        keeps ~5 MiB per partition; auto-created topics get only 4)."""
        reply = self.command("create-topic %s %d" % (name, partitions))
        if not reply.startswith("ok"):
            raise RuntimeError("dev-kafka: " + reply)
        return reply

    def consumer(self, group=None, **conf):
        from confluent_kafka import Consumer
        c = {"bootstrap.servers": self.bootstrap,
             "group.id": group or "test-%d" % time.time_ns(),
             "auto.offset.reset": "earliest", "enable.auto.commit": False}
        c.update(conf)
        return Consumer(c)

    def producer(self, **conf):
        from confluent_kafka import Producer
        c = {"bootstrap.servers": self.bootstrap}
        c.update(conf)
        return Producer(c)

    def read_topic(self, topic, expect=None, timeout=30, idle=2.0):
        """All messages of topic from the start, as (key, value, partition,
        offset); stops at `expect` messages, or after `idle` seconds with
        nothing new."""
        c = self.consumer()
        c.subscribe([topic])
        out = []
        last = time.time()
        deadline = time.time() + timeout
        try:
            while time.time() < deadline:
                m = c.poll(0.2)
                if m is None:
                    if expect is None and out and time.time() - last > idle:
                        break
                    continue
                if m.error():
                    continue
                out.append((m.key(), m.value(), m.partition(), m.offset()))
                last = time.time()
                if expect is not None and len(out) >= expect:
                    break
        finally:
            c.close()
        return out

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def b64(s):
    return base64.b64encode(s).decode()
