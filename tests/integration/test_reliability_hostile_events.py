"""Hostile events on a service's topic (docs/reliability.md): truncated
JSON, values of the wrong type, huge values, an unknown column, a table
that is not the service's, embedded NUL bytes.  The sink (under ASan)
never crashes, never writes a wrong row: each event it cannot apply
exactly goes to the dead-letter topic with a reason, and every good
event around them is applied."""

import json
import os
import time

import harness
import sink_support as ss

TABLE = """CREATE TABLE public.orders (
    id     bigint PRIMARY KEY,
    amount numeric(10,2),
    note   text,
    at     timestamp(6) without time zone,
    photo  bytea
)"""


def envelope(after=None, before=None, op="c", table="orders", db="shop",
             pos=4):
    return json.dumps({
        "before": before, "after": after,
        "source": {"connector": "mysql", "name": ss.PREFIX, "ts_ms": 1,
                   "db": db, "table": table, "server_id": 1,
                   "gtid": "0-1-%d" % pos, "file": "binlog.000001",
                   "pos": pos, "row": 0, "snapshot": "false"},
        "op": op, "ts_ms": 1}).encode()


def good(i):
    return {"id": i, "amount": "%d.25" % i, "note": "n%d" % i,
            "at": "2024-01-02T03:04:05.123456", "photo": "AAEC"}


# (name, key, value bytes, dead-lettered?)  value None: a tombstone
HOSTILE = [
    ("truncated", {"id": 101}, envelope(good(101))[:40], True),
    ("truncated-mid-string", {"id": 102},
     envelope({"id": 102, "note": "abc"})[:-30], True),
    ("not-json", {"id": 103}, b"\x00\xff\xfe garbage", True),
    ("empty-object", {"id": 104}, b"{}", True),
    ("array", {"id": 105}, b"[1,2,3]", True),
    ("bare-number", {"id": 106}, b"42", True),
    ("after-is-string", {"id": 107},
     envelope("not an object"), True),
    ("op-is-number", {"id": 108},
     envelope(good(108)).replace(b'"op": "c"', b'"op": 5'), True),
    ("unknown-op", {"id": 109}, envelope(good(109), op="z"), True),
    ("id-not-a-number", {"id": "abc"},
     envelope(dict(good(110), id="abc")), True),
    ("id-is-object", {"id": 111},
     envelope(dict(good(111), id={"x": 1})), True),
    ("id-overflows-bigint", {"id": 2 ** 70},
     envelope(dict(good(112), id=2 ** 70)), True),
    ("id-null", {"id": None}, envelope(dict(good(113), id=None)), True),
    ("amount-1000-digits", {"id": 114},
     envelope(dict(good(114), amount="9" * 1000)), True),
    ("amount-is-array", {"id": 115},
     envelope(dict(good(115), amount=[1, 2])), True),
    ("timestamp-garbage", {"id": 116},
     envelope(dict(good(116), at="yesterday-ish")), True),
    ("photo-not-base64", {"id": 117},
     envelope(dict(good(117), photo="!!not base64!!")), True),
    ("photo-is-number", {"id": 118},
     envelope(dict(good(118), photo=5)), True),
    ("note-with-nul", {"id": 119},
     envelope(dict(good(119), note="ab\u0000cd")), True),
    ("unknown-column", {"id": 120},
     envelope(dict(good(120), no_such_column=1)), True),
    ("delete-without-before", {"id": 121}, envelope(None, op="d"), True),
    ("update-without-after", {"id": 122},
     envelope(None, before=good(122), op="u"), True),
    ("deep-nesting", {"id": 123},
     b'{"op":"c","source":{"db":"shop","table":"orders"},"after":'
     + b"[" * 5000 + b"]" * 5000 + b"}", True),
    # not this service's table: skipped, never a row (not a dead letter)
    ("other-table", {"id": 124}, envelope(good(124), table="payments"),
     False),
    ("other-db", {"id": 125}, envelope(good(125), db="elsewhere"), False),
]


def test_hostile_events_are_dead_lettered_never_applied(tmp_path, postgres,
                                                        devkafka, outdir):
    postgres.create_db("orders")
    postgres.sql(TABLE, db="orders")
    port = harness.free_port()
    env = ss.env_for(devkafka, postgres, create_tables="no",
                     metrics_listen="127.0.0.1:%d" % port)
    ev = ss.Events(devkafka)
    topic = ev.topic("orders")

    # good rows 1..10 between the hostile ones, and a huge but valid note
    big = "x" * (900 * 1024)
    n = 0
    for i, (name, key, value, _dead) in enumerate(HOSTILE):
        if i % 3 == 0 and n < 10:
            n += 1
            ev.produce(topic, json.dumps({"id": n}).encode(),
                       envelope(good(n), pos=n))
        ev.produce(topic, json.dumps(key).encode(), value)
    while n < 10:
        n += 1
        ev.produce(topic, json.dumps({"id": n}).encode(),
                   envelope(good(n), pos=n))
    ev.produce(topic, b'{"id":200}', envelope(dict(good(200), note=big)))
    # a tombstone (null value), as log compaction writes: ignored
    ev.produce(topic, b'{"id":1}', None)
    # and a last good change after all of it
    ev.produce(topic, b'{"id":1}', envelope(
        dict(good(1), note="last"), before=good(1), op="u", pos=999))
    ev.flush()

    expect_dead = [h for h in HOSTILE if h[3]]
    sink = ss.Sink(tmp_path / "sink", env).start()
    try:
        ss.wait_rows(postgres, "SELECT count(*) FROM public.orders "
                     "WHERE id <= 10 OR id = 200", [(11,)], sink=sink,
                     timeout=90)
        ss.wait_rows(postgres, "SELECT note FROM public.orders WHERE id = 1",
                     [("last",)], sink=sink)
        # the last hostile event is dead-lettered before the last good
        # one is applied (one partition keeps order per key; wait a bit
        # for the other partitions' batches)
        time.sleep(2)
        assert sink.alive(), sink.output()
    finally:
        rc = sink.stop()

    # every dead letter, with its headers (and any extra one)
    c = devkafka.consumer()
    c.subscribe(["mono.dlq.orders"])
    msgs = []
    deadline = time.time() + 30
    idle_since = None
    while time.time() < deadline:
        m = c.poll(0.5)
        if m is None or m.error():
            if len(msgs) >= len(expect_dead):
                idle_since = idle_since or time.time()
                if time.time() - idle_since > 3:
                    break
            continue
        idle_since = None
        msgs.append(m)
    c.close()

    by_key = {}
    for m in msgs:
        h = {k: (v or b"").decode("utf-8", "replace")
             for k, v in (m.headers() or [])}
        by_key.setdefault(m.key(), []).append(h)

    lines = []
    missing = []
    for name, key, _value, is_dead in HOSTILE:
        k = json.dumps(key).encode()
        hs = by_key.get(k, [])
        reason = hs[0].get("cdc.error.message", "")[:100] if hs else "-"
        state = hs[0].get("cdc.error.sqlstate", "") if hs else ""
        lines.append("%-22s dead=%d %s %s" % (name, len(hs), state, reason))
        if is_dead and (len(hs) != 1 or not hs[0].get("cdc.error.message")):
            missing.append(name)
        if not is_dead and hs:
            missing.append(name + " (unexpected dead letter)")
        if hs and '"source"' in hs[0].get("cdc.error.message", ""):
            # the reason quotes the event past the bad value: the text
            # after it (and past the payload's end, when the value is last)
            missing.append(name + " (reason reads past the value)")

    rows = postgres.sql("SELECT id, amount::text, note, at::text, "
                        "encode(photo, 'base64') FROM public.orders "
                        "ORDER BY id", db="orders")
    # only the good rows, each exactly as sent
    wrong = [r[:3] for r in rows if r[0] not in list(range(1, 11)) + [200]]
    for r in rows:
        i = r[0]
        want = ("%d.25" % i, "last" if i == 1 else big if i == 200
                else "n%d" % i, "2024-01-02 03:04:05.123456", "AAEC")
        if i in list(range(1, 11)) + [200] and tuple(r[1:]) != want:
            wrong.append(r[:3])
    missing_rows = sorted((set(range(1, 11)) | {200})
                          - {r[0] for r in rows})

    summary = ["sink exit %s, %d dead letters" % (rc, len(msgs))] + lines + [
        "rows: %s" % [(r[0], r[1], (r[2] or "")[:10]) for r in rows],
        "wrong rows: %s" % [(r[0], r[1], (r[2] or "")[:10]) for r in wrong],
        "good rows missing: %s" % missing_rows,
        "problems: %s" % missing]
    print("\n".join(summary))
    with open(os.path.join(outdir, "report.txt"), "w") as f:
        f.write("\n".join(summary) + "\n")

    assert sink.problems() == [], sink.problems()
    assert rc == 0, sink.output()[-3000:]
    assert wrong == [] and missing_rows == [] and missing == [], \
        "\n".join(summary)
    assert len(msgs) == len(expect_dead), "\n".join(summary)
