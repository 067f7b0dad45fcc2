"""TLS to the source (docs/reliability.md, Security): MariaDB with a
certificate made here and the cdc user created REQUIRE SSL.  `cdc-bridge
run` with ssl_mode=required streams (the server accepts the user
only over TLS); ssl_mode=verify_ca with the right CA file too, not with another CA; with
ssl_mode=disabled the server refuses the user and `run` exits naming
the reason."""

import os
import subprocess

import harness
import source_lib as sl


def make_ca_and_cert(d):
    run = lambda *a: subprocess.run(list(a), check=True,  # noqa: E731
                                    capture_output=True, timeout=60)
    ca_key, ca = os.path.join(d, "ca.key"), os.path.join(d, "ca.pem")
    key, csr, crt = (os.path.join(d, n) for n in ("server.key",
                                                  "server.csr",
                                                  "server.pem"))
    run("openssl", "req", "-new", "-x509", "-days", "2", "-nodes", "-subj",
        "/CN=strangler-test-ca", "-newkey", "rsa:2048", "-keyout", ca_key,
        "-out", ca)
    run("openssl", "req", "-new", "-nodes", "-subj", "/CN=127.0.0.1",
        "-newkey", "rsa:2048", "-keyout", key, "-out", csr)
    run("openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key,
        "-CAcreateserial", "-days", "2", "-out", crt)
    return ca, crt, key


def test_run_over_tls(tmp_path, devkafka, outdir):
    certs = tmp_path / "certs"
    certs.mkdir()
    ca, crt, key = make_ca_and_cert(str(certs))
    m = harness.MariaDB(tmp_path / "mariadb", extra_args=[
        "--ssl-ca=" + ca, "--ssl-cert=" + crt, "--ssl-key=" + key])
    report = []
    try:
        sl.setup_source(m, "CREATE TABLE t (id INT PRIMARY KEY, v INT);")
        m.sql("ALTER USER 'cdc'@'%' REQUIRE SSL")
        m.sql("INSERT INTO shop.t VALUES (1, 1), (2, 2)")

        # refused in clear text
        plain = sl.Bridge(tmp_path / "plain", m, devkafka, asan=False,
                          CDC_SOURCE_SSL_MODE="disabled")
        rc, out = plain.run(timeout=60)
        report.append("ssl_mode=disabled: exit %d: %s"
                      % (rc, out.strip()[-200:]))
        assert rc != 0 and "Access denied" in out, out

        # a CA that did not sign the server's certificate: refused
        other = tmp_path / "other"
        other.mkdir()
        other_ca = make_ca_and_cert(str(other))[0]
        wrong = sl.Bridge(tmp_path / "wrongca", m, devkafka, asan=False,
                          CDC_SOURCE_SSL_MODE="verify_ca",
                          CDC_SOURCE_SSL_CA=other_ca)
        rc, out = wrong.run(timeout=60)
        report.append("ssl_mode=verify_ca, wrong CA: exit %d: %s"
                      % (rc, out.strip()[-200:]))
        assert rc != 0, out

        for mode, extra in (("required", {}),
                            ("verify_ca", {"CDC_SOURCE_SSL_CA": ca})):
            reader = sl.TopicReader(devkafka, ["monolith.shop.t"])
            b = sl.Bridge(tmp_path / mode, m, devkafka,
                          CDC_SOURCE_SSL_MODE=mode, **extra)
            try:
                b.start()
                n0 = len(reader.msgs)
                m.sql("UPDATE shop.t SET v = v + 1")
                reader.until(lambda msgs: len(msgs) >= n0 + 2, timeout=60,
                             what="events over TLS (%s)" % mode)
                assert b.alive(), b.log()
            finally:
                b.stop()
                reader.close()
            assert b.sanitizer_reports() == []
            report.append("ssl_mode=%s: streamed over TLS (the cdc user "
                          "is REQUIRE SSL)" % mode)
    finally:
        m.stop()
        print("\n".join(report))
        with open(os.path.join(outdir, "report.txt"), "w") as f:
            f.write("\n".join(report) + "\n")
