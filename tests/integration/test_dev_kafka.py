"""`cdc-bridge dev-kafka`: the in-memory broker the other tests and the demo
use.  Its first stdout line is the bootstrap address; real clients
(confluent_kafka, kcat) produce and consume through it; control commands on
stdin take brokers down and up, delay them, inject errors and create
topics, each answered by one "ok"/"error" line."""

import os
import re
import signal
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harness  # noqa: E402

pytestmark = pytest.mark.timeout(120)


def kcat(*args, timeout=20, input=None):
    return subprocess.run(["kcat"] + list(args), capture_output=True,
                          text=True, timeout=timeout, input=input)


def produce(k, topic, n, prefix="m", conf=None):
    p = k.producer(**(conf or {}))
    errors = []

    def dr(err, msg):
        if err is not None:
            errors.append(err)
    for i in range(n):
        p.produce(topic, key=b"key-%d" % (i % 7),
                  value=b"%s-%d" % (prefix.encode(), i), on_delivery=dr)
        p.poll(0)
    left = p.flush(20)
    return left, errors


def test_first_line_and_ping(devkafka):
    assert re.fullmatch(r"127\.0\.0\.1:\d+", devkafka.bootstrap)
    assert devkafka.command("ping") == "ok pong"
    log = open(os.path.join(devkafka.dir, "dev-kafka.log")).read()
    assert "in memory" in log and "tests and demos" in log


def test_produce_consume_keeps_key_order(devkafka):
    assert devkafka.create_topic("orders", 8) == \
        "ok topic orders partitions 8"
    left, errors = produce(devkafka, "orders", 200,
                           conf={"enable.idempotence": True, "acks": "all"})
    assert left == 0 and errors == []

    got = devkafka.read_topic("orders", expect=200)
    assert len(got) == 200
    # same key, same partition, in produce order
    by_key = {}
    for key, value, part, off in got:
        by_key.setdefault(key, set()).add(part)
    assert all(len(parts) == 1 for parts in by_key.values())
    for key in by_key:
        seq = [int(v.split(b"-")[1]) for k2, v, p, o in
               sorted(got, key=lambda m: m[3]) if k2 == key]
        assert seq == sorted(seq)


def test_kcat_metadata_produce_consume(devkafka):
    assert devkafka.command("create-topic kc 3") == "ok topic kc partitions 3"
    r = kcat("-b", devkafka.bootstrap, "-L", "-m", "5")
    assert r.returncode == 0, r.stderr
    assert "broker 1 at " + devkafka.bootstrap in r.stdout
    assert 'topic "kc" with 3 partitions' in r.stdout

    r = kcat("-b", devkafka.bootstrap, "-P", "-t", "kc", "-K", ":",
             input="a:one\nb:two\nc:three\n")
    assert r.returncode == 0, r.stderr
    r = kcat("-b", devkafka.bootstrap, "-C", "-t", "kc", "-e", "-q", "-f",
             "%k=%s\n")
    assert r.returncode == 0, r.stderr
    assert sorted(r.stdout.split()) == ["a=one", "b=two", "c=three"]


def test_create_topic_partitions_in_metadata(devkafka):
    from confluent_kafka.admin import AdminClient
    assert devkafka.command("create-topic wide 24").startswith("ok")
    md = AdminClient({"bootstrap.servers": devkafka.bootstrap}) \
        .list_topics(timeout=10)
    assert len(md.topics["wide"].partitions) == 24

    # errors are answered, never silent
    assert devkafka.command("create-topic wide 0").startswith(
        "error bad partition count")
    assert devkafka.command("create-topic").startswith("error unknown")


def test_start_options_create_topics(tmp_path):
    k = harness.DevKafka(tmp_path / "k", brokers=3,
                         args=["--topics", "a,b", "--partitions", "5"])
    try:
        r = kcat("-b", k.bootstrap, "-L", "-m", "5")
        assert r.returncode == 0, r.stderr
        assert " 3 brokers:" in r.stdout
        assert len(k.bootstrap.split(",")) == 3
        assert 'topic "a" with 5 partitions' in r.stdout
        assert 'topic "b" with 5 partitions' in r.stdout
    finally:
        k.stop()


def test_down_and_up(devkafka):
    assert devkafka.command("create-topic du 2").startswith("ok")
    assert devkafka.command("down 1") == "ok"

    # nothing answers while the only broker is down
    r = kcat("-b", devkafka.bootstrap, "-L", "-m", "2")
    assert r.returncode != 0

    left, errors = produce(devkafka, "du", 5,
                           conf={"message.timeout.ms": 1500})
    assert left == 0 and len(errors) == 5

    assert devkafka.command("up 1") == "ok"
    left, errors = produce(devkafka, "du", 5)
    assert left == 0 and errors == []

    assert devkafka.command("down-all") == "ok"
    assert kcat("-b", devkafka.bootstrap, "-L", "-m", "2").returncode != 0
    assert devkafka.command("up-all") == "ok"
    assert kcat("-b", devkafka.bootstrap, "-L", "-m", "5").returncode == 0

    assert devkafka.command("down 2").startswith("error bad broker id")
    assert devkafka.command("down x").startswith("error bad broker id")


def test_rtt_and_push_errors(devkafka):
    assert devkafka.command("create-topic pe 1").startswith("ok")
    assert devkafka.command("rtt 1 50") == "ok"
    assert devkafka.command("rtt 1 soon").startswith("error bad rtt")
    assert devkafka.command("rtt 1 0") == "ok"

    # retriable produce errors: the idempotent producer retries through
    assert devkafka.command(
        "push-errors Produce NOT_LEADER_FOR_PARTITION 6 "
        "REQUEST_TIMED_OUT").startswith("ok 3 errors pushed for api 0")
    left, errors = produce(devkafka, "pe", 10,
                           conf={"enable.idempotence": True})
    assert left == 0 and errors == []
    assert len(devkafka.read_topic("pe", expect=10)) == 10

    # a non-retriable one reaches the delivery report
    assert devkafka.command("push-errors 0 TOPIC_AUTHORIZATION_FAILED") \
        .startswith("ok 1 errors")
    left, errors = produce(devkafka, "pe", 1)
    assert left == 0 and len(errors) == 1
    assert "AUTHORIZATION" in errors[0].name()

    assert devkafka.command("push-errors Nope 6").startswith(
        "error unknown api")
    assert devkafka.command("push-errors Fetch NO_SUCH_ERROR").startswith(
        "error unknown error code")
    assert devkafka.command("frobnicate").startswith("error unknown command")


def test_out_of_range_offset_is_an_error(devkafka):
    """What the sink relies on: with auto.offset.reset=error a position the
    broker no longer (or never) had is reported, never silently reset."""
    from confluent_kafka import TopicPartition
    assert devkafka.command("create-topic oor 1").startswith("ok")
    left, errors = produce(devkafka, "oor", 3)
    assert left == 0 and errors == []

    c = devkafka.consumer(**{"auto.offset.reset": "error"})
    try:
        c.assign([TopicPartition("oor", 0, 1000)])
        err = None
        deadline = time.time() + 15
        while time.time() < deadline and err is None:
            m = c.poll(0.2)
            if m is not None:
                assert m.error() is not None, "got a message past the end"
                err = m.error()
        assert err is not None
        assert err.code() == -140 or "AUTO_OFFSET_RESET" in err.name()
    finally:
        c.close()


def test_stdin_eof_keeps_serving_and_sigterm_stops(devkafka):
    devkafka.proc.stdin.close()
    time.sleep(0.5)
    assert devkafka.proc.poll() is None
    left, errors = produce(devkafka, "after-eof", 3)
    assert left == 0 and errors == []
    assert len(devkafka.read_topic("after-eof", expect=3)) == 3

    devkafka.proc.send_signal(signal.SIGTERM)
    assert devkafka.proc.wait(timeout=15) == 0


def test_bad_arguments(tmp_path):
    for args, needle in ((["--brokers", "0"], "bad --brokers"),
                         (["--partitions", "x"], "bad --partitions"),
                         (["extra"], "unexpected argument")):
        p = subprocess.run([harness.bridge_path(False), "dev-kafka"] + args,
                           capture_output=True, text=True, timeout=10)
        assert p.returncode == 2
        assert needle in p.stderr
