"""A checkpoint location that cannot be written (docs/reliability.md): the
checkpoint dir of `cdc-bridge run` is on a small tmpfs the test mounts,
then fills (ENOSPC), later remounts read-only (EROFS).  The bridge says why
(log, /status checkpoint_error, /healthz 503, the checkpoint error
counter), stops producing past its last durable checkpoint, resumes by
itself when writes work again, and after a kill -9 at the end nothing is
lost: every row change is in Kafka."""

import os
import subprocess
import time
import urllib.error
import urllib.request

import pytest

import harness
import source_lib as sl

TOPIC = "monolith.shop.items"


@pytest.fixture
def tiny_fs(tmp_path):
    d = tmp_path / "ckfs"
    d.mkdir()
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs",
                        str(d)], capture_output=True, text=True)
    if p.returncode != 0:
        pytest.fail("cannot mount a tmpfs here (root and CAP_SYS_ADMIN "
                    "are needed): " + p.stderr)
    yield str(d)
    subprocess.run(["umount", "-l", str(d)], capture_output=True)


def fill(path):
    """Fills the filesystem of path; returns the filler's name."""
    f = os.path.join(path, "filler")
    subprocess.run(["dd", "if=/dev/zero", "of=" + f, "bs=4k"],
                   capture_output=True)
    return f


def healthz(bridge):
    try:
        with urllib.request.urlopen(bridge.metrics_url + "/healthz",
                                    timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def ids_in(reader):
    out = set()
    for k, v, _p, _o, _t in reader.events():
        if v and v.get("after"):
            out.add(v["after"]["id"])
    return out


def insert(mariadb, a, b):
    mariadb.sql("INSERT INTO shop.items VALUES " + ",".join(
        "(%d, 'r%d')" % (i, i) for i in range(a, b + 1)))


def test_checkpoint_disk_full_and_read_only(tmp_path, mariadb, devkafka,
                                            tiny_fs, outdir):
    sl.setup_source(mariadb, "CREATE TABLE items (id BIGINT PRIMARY KEY, "
                    "note VARCHAR(20));")
    insert(mariadb, 1, 100)
    run = sl.Bridge(tmp_path / "run", mariadb, devkafka, tables="shop.*",
                    CDC_CHECKPOINT_DIR=tiny_fs)
    run.ckdir = tiny_fs
    reader = sl.TopicReader(devkafka, [TOPIC])
    report = []
    try:
        run.start()
        reader.until(lambda m: len(m) >= 100, timeout=60, what="snapshot")
        harness.wait_for(lambda: run.checkpoint() is not None, timeout=30,
                         what="a first checkpoint")
        for fault, make, undo in (
                ("disk full", lambda: fill(tiny_fs),
                 lambda f: os.unlink(f)),
                ("read-only", lambda: subprocess.run(
                    ["mount", "-o", "remount,ro", tiny_fs], check=True),
                 lambda _f: subprocess.run(
                     ["mount", "-o", "remount,rw", tiny_fs], check=True))):
            base = max(ids_in(reader))
            insert(mariadb, base + 1, base + 1)
            reader.until(lambda m: base + 1 in ids_in(reader), timeout=30,
                         what="the row before the fault")
            time.sleep(0.5)                 # checkpointed
            ck_before = run.checkpoint()
            token = make()

            # the next change makes the bridge try a checkpoint: it fails
            insert(mariadb, base + 2, base + 2)
            st = run.wait_status(lambda s: s.get("checkpoint_error"),
                                 timeout=30, what="checkpoint_error")
            produced_at_fail = st["events_produced"]
            # then 1,000 more changes, which must not be produced
            insert(mariadb, base + 3, base + 1002)
            time.sleep(3)
            reader.poll(1)
            st = run.status()
            code, body = healthz(run)
            metrics = run.metrics()
            got = ids_in(reader)
            held = [i for i in range(base + 3, base + 1003) if i in got]
            ck_during = run.checkpoint()
            line = ("%s: checkpoint_error %r; healthz %d %s; produced %d "
                    "at failure, %d after 3 s; %d of the 1,000 later "
                    "changes in Kafka" % (fault, st["checkpoint_error"],
                                          code, body.strip(),
                                          produced_at_fail,
                                          st["events_produced"], len(held)))
            print(line)
            report.append(line)
            assert st["checkpoint_error"], st
            assert code == 503 and "checkpoint" in body, (code, body)
            assert "checkpoint write failed" in run.log()
            assert ("No space left" if fault == "disk full"
                    else "Read-only") in run.log() + st["checkpoint_error"]
            errs = [ln for ln in metrics.splitlines()
                    if ln.startswith("cdc_bridge_") and "checkpoint" in ln
                    and "error" in ln and not ln.startswith("#")]
            assert errs and float(errs[0].split()[-1]) >= 1, errs
            # stopped: nothing past the failure point was produced
            assert held == [], "produced past a failed checkpoint"
            assert st["events_produced"] == produced_at_fail
            assert ck_during == ck_before or ck_during is None or \
                ck_during["position"] == ck_before["position"]

            # writes work again: it resumes by itself, nothing lost
            undo(token)
            reader.until(lambda m: set(range(base + 1, base + 1003))
                         <= ids_in(reader), timeout=60,
                         what="the held changes after recovery")
            st = run.wait_status(lambda s: s.get("checkpoint_error") is None,
                                 timeout=30, what="checkpoint recovered")
            assert healthz(run)[0] == 200
            assert "checkpoint writes work again" in run.log()
            report.append("%s: resumed, all 1,002 changes delivered"
                          % fault)

        # a kill -9 after all that loses nothing
        run.kill9()
        last = max(ids_in(reader))
        insert(mariadb, last + 1, last + 50)
        run.start()
        reader.until(lambda m: set(range(1, last + 51)) <= ids_in(reader),
                     timeout=60, what="every row after kill -9")
        report.append("kill -9 and restart: all %d rows in Kafka"
                      % (last + 50))
    finally:
        run.stop()
        reader.close()
        subprocess.run(["mount", "-o", "remount,rw", tiny_fs],
                       capture_output=True)
        with open(os.path.join(outdir, "report.txt"), "w") as f:
            f.write("\n".join(report) + "\n")
    assert run.sanitizer_reports() == []
