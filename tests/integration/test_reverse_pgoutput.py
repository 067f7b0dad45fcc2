"""Reverse sync's foundation against a real PostgreSQL 15 with
wal_level=logical: cdc-bridge/reverse/pgrepl.c creates a pgoutput slot,
streams a publication with START_REPLICATION (proto_version '1') and
acknowledges with standby status updates; cdc-bridge/pgoutput/ decodes
real transactions' Relation, Begin, Insert, Update (old key 'K', old
tuple 'O', unchanged TOAST 'u'), Delete, Truncate and Commit messages.
Driven through the test-only program build/tests/tools/pgrepl_dump,
which prints each decoded message as a JSON line."""

import json
import os
import subprocess

import pytest

import harness

DUMP = os.path.join(harness.BUILD, "tests", "tools", "pgrepl_dump")

# pg_type OIDs (stable since PostgreSQL 7 / 9.4 for jsonb)
INT4, INT8, TEXT, VARCHAR, NUMERIC, BOOL = 23, 20, 25, 1043, 1700, 16
BYTEA, JSONB, DATE, TIMESTAMP = 17, 3802, 1082, 1114

SCHEMA = """
CREATE TABLE items (
    id      int PRIMARY KEY,
    big     bigint,
    name    varchar(20),
    price   numeric(10,2),
    ok      boolean,
    raw     bytea,
    doc     jsonb,
    day     date,
    at      timestamp,
    notes   text
);
ALTER TABLE items ALTER COLUMN notes SET STORAGE EXTERNAL;
CREATE TABLE audit (k int, v text);
ALTER TABLE audit REPLICA IDENTITY FULL;
CREATE PUBLICATION strangler_shop FOR TABLE items, audit;
"""


@pytest.fixture
def logical_pg(tmp_path):
    p = harness.Postgres(tmp_path / "pg", extra_options="-c wal_level=logical")
    yield p
    p.stop()


def dump(pg, tmp_path, slot, commits, expect_rc=0):
    logdir = str(tmp_path)
    env = harness.sanitizer_env(None, logdir)
    p = subprocess.run([DUMP, pg.dsn(), slot, "strangler_shop",
                        str(commits), "30"], capture_output=True, text=True,
                       env=env, timeout=90)
    assert p.returncode == expect_rc, p.stdout + p.stderr
    assert not harness.sanitizer_reports(logdir)
    return [json.loads(line) for line in p.stdout.splitlines()], p.stderr


def check(pg, tmp_path, dsn=None, slot="strangler_shop"):
    logdir = str(tmp_path)
    p = subprocess.run([DUMP, "--check", dsn or pg.dsn(), slot],
                       capture_output=True, text=True,
                       env=harness.sanitizer_env(None, logdir), timeout=60)
    assert not harness.sanitizer_reports(logdir)
    return p.returncode, p.stdout + p.stderr


def txns(msgs):
    """[[messages of one transaction, B .. C], ...]"""
    out, cur = [], None
    for m in msgs:
        if m.get("type") == "B":
            cur = []
        if cur is not None:
            cur.append(m)
        if m.get("type") == "C":
            out.append(cur)
            cur = None
    return out


def test_pgoutput_stream_decodes_real_changes(logical_pg, tmp_path):
    assert os.path.exists(DUMP), "not built: " + DUMP
    pg = logical_pg
    assert pg.sql("SHOW wal_level") == [("logical",)]
    pg.sql(SCHEMA)

    msgs, _ = dump(pg, tmp_path, "strangler_shop", 0)
    assert msgs == [{"slot_created": True}]
    msgs, _ = dump(pg, tmp_path, "strangler_shop", 0)
    assert msgs == [{"slot_created": False}]

    big = "".join("%04d" % i for i in range(2500))       # 10,000 bytes
    conn = pg.connect()
    conn.autocommit = False
    with conn.cursor() as c:
        c.execute("INSERT INTO items VALUES (1, 9007199254740993, 'caf\u00e9',"
                  " 12.5, true, '\\x0102ff', '{\"a\": [1, \"x\"]}',"
                  " '2026-11-29', '2026-11-29 12:34:56.5', 'short')")
        c.execute("INSERT INTO items (id) VALUES (2)")
        c.execute("INSERT INTO items (id, notes) VALUES (3, %s)", (big,))
        c.execute("INSERT INTO audit VALUES (7, 'seven')")
    conn.commit()
    with conn.cursor() as c:
        c.execute("UPDATE items SET name = 'renamed' WHERE id = 3")
        c.execute("UPDATE items SET id = 20 WHERE id = 2")
        c.execute("UPDATE audit SET v = 'SEVEN' WHERE k = 7")
    conn.commit()
    with conn.cursor() as c:
        c.execute("DELETE FROM items WHERE id = 20")
        c.execute("DELETE FROM audit")
    conn.commit()
    with conn.cursor() as c:
        c.execute("TRUNCATE audit")
    conn.commit()
    conn.close()

    msgs, _ = dump(pg, tmp_path, "strangler_shop", 4)
    t = txns(msgs)
    assert len(t) == 4, msgs

    # 1: a Relation message before each table's first change
    assert [m["type"] for m in t[0]] == ["B", "R", "I", "I", "I", "R", "I",
                                         "C"]
    rel = t[0][1]
    assert (rel["nsp"], rel["name"], rel["ident"]) == ("public", "items",
                                                      "d")
    assert [(c["name"], c["type_oid"], c["flags"]) for c in rel["cols"]] == [
        ("id", INT4, 1), ("big", INT8, 0), ("name", VARCHAR, 0),
        ("price", NUMERIC, 0), ("ok", BOOL, 0), ("raw", BYTEA, 0),
        ("doc", JSONB, 0), ("day", DATE, 0), ("at", TIMESTAMP, 0),
        ("notes", TEXT, 0)]
    typmods = {c["name"]: c["typmod"] for c in rel["cols"]}
    assert typmods["name"] == 20 + 4
    assert typmods["price"] == (10 << 16 | 2) + 4
    assert typmods["id"] == -1
    assert t[0][2]["new"] == {
        "id": "1", "big": "9007199254740993", "name": "caf\u00e9",
        "price": "12.50", "ok": "t", "raw": "\\x0102ff",
        "doc": '{"a": [1, "x"]}', "day": "2026-11-29",
        "at": "2026-11-29 12:34:56.5", "notes": "short"}
    assert t[0][3]["new"] == {"id": "2", "big": None, "name": None,
                              "price": None, "ok": None, "raw": None,
                              "doc": None, "day": None, "at": None,
                              "notes": None}
    assert t[0][4]["new"]["notes"] == big
    audit = t[0][5]
    assert (audit["name"], audit["ident"]) == ("audit", "f")
    assert [(c["name"], c["type_oid"], c["flags"])
            for c in audit["cols"]] == [("k", INT4, 1), ("v", TEXT, 1)]
    assert t[0][6]["new"] == {"k": "7", "v": "seven"}

    # 2: updates: no old tuple; old key 'K'; old row 'O' (FULL);
    # the TOASTed column not sent when unchanged
    assert [m["type"] for m in t[1]] == ["B", "U", "U", "U", "C"]
    u = t[1][1]
    assert "old_kind" not in u
    assert u["new"]["name"] == "renamed"
    assert u["new"]["notes"] == {"unchanged": True}
    u = t[1][2]
    assert u["old_kind"] == "K"
    assert u["old"]["id"] == "2" and u["old"]["name"] is None
    assert u["new"]["id"] == "20"
    u = t[1][3]
    assert u["old_kind"] == "O"
    assert u["old"] == {"k": "7", "v": "seven"}
    assert u["new"] == {"k": "7", "v": "SEVEN"}

    # 3: deletes carry the key (default identity) or the whole row (FULL)
    assert [m["type"] for m in t[2]] == ["B", "D", "D", "C"]
    d = t[2][1]
    assert d["rel"] == "items" and d["old_kind"] == "K"
    assert d["old"]["id"] == "20" and "new" not in d
    assert t[2][2]["old_kind"] == "O"
    assert t[2][2]["old"] == {"k": "7", "v": "SEVEN"}

    # 4: TRUNCATE names its relations (a new relfilenode: pgoutput sends
    # the Relation again first)
    assert [m["type"] for m in t[3]] == ["B", "R", "T", "C"]
    assert t[3][2]["rels"] == ["audit"] and t[3][2]["options"] == 0

    # commits in order; the slot's confirmed position is the last end LSN
    ends = [tx[-1]["end_lsn"] for tx in t]
    lsns = [int(e.split("/")[0], 16) << 32 | int(e.split("/")[1], 16)
            for e in ends]
    assert lsns == sorted(lsns) and len(set(lsns)) == 4
    assert pg.sql("SELECT confirmed_flush_lsn::text FROM pg_replication_slots"
                  " WHERE slot_name = 'strangler_shop'") == [(ends[-1],)]

    # the next start resumes after what was acknowledged
    pg.sql("INSERT INTO items (id, name) VALUES (4, 'after')")
    msgs, _ = dump(pg, tmp_path, "strangler_shop", 1)
    t = txns(msgs)
    assert len(t) == 1
    assert [m["type"] for m in t[0]] == ["B", "R", "I", "C"]
    assert t[0][2]["new"]["id"] == "4"


def test_pgrepl_refuses_a_slot_that_is_not_logical_pgoutput(logical_pg,
                                                            tmp_path):
    pg = logical_pg
    pg.sql("CREATE PUBLICATION strangler_shop FOR ALL TABLES")
    pg.sql("SELECT pg_create_physical_replication_slot('phys')")
    msgs, err = dump(pg, tmp_path, "phys", 1, expect_rc=1)
    assert msgs == []
    assert 'slot "phys" exists as a physical slot' in err
    assert "not a logical pgoutput slot" in err

    msgs, err = dump(pg, tmp_path, "Bad-Name'", 1, expect_rc=1)
    assert "invalid slot name \"Bad-Name'\" (lower-case letters" in err


def test_pgrepl_check_server_names_the_setting_to_change(tmp_path):
    pg = harness.Postgres(tmp_path / "pg", extra_options=(
        "-c wal_level=logical -c max_replication_slots=1"))
    try:
        assert check(pg, tmp_path) == (0, '{"check":"ok"}\n')

        pg.sql("CREATE ROLE svc LOGIN")
        rc, out = check(pg, tmp_path, dsn=pg.dsn(user="svc"))
        assert rc == 1
        assert ('role "svc" lacks the REPLICATION attribute: ALTER ROLE svc'
                ' REPLICATION') in out
        pg.sql("ALTER ROLE svc REPLICATION")
        assert check(pg, tmp_path, dsn=pg.dsn(user="svc"))[0] == 0

        # the one slot taken by another: no room; our own slot is fine
        pg.sql("SELECT pg_create_logical_replication_slot('other',"
               " 'pgoutput')")
        rc, out = check(pg, tmp_path)
        assert rc == 1
        assert ("max_replication_slots = 1, 1 in use, none free for slot "
                "\"strangler_shop\": raise max_replication_slots") in out
        assert check(pg, tmp_path, slot="other")[0] == 0
    finally:
        pg.stop()


def test_pgrepl_check_server_wants_a_wal_sender(tmp_path):
    pg = harness.Postgres(tmp_path / "pg", extra_options=(
        "-c wal_level=logical -c max_wal_senders=0"))
    try:
        rc, out = check(pg, tmp_path)
        assert rc == 1
        assert "max_wal_senders = 0: raise it" in out
    finally:
        pg.stop()


def test_pgrepl_names_a_server_without_logical_wal(postgres, tmp_path):
    """wal_level=replica (the default): the check names the setting, and
    the server's own error and SQLSTATE reach the caller."""
    rc, out = check(postgres, tmp_path)
    assert rc == 1
    assert ('wal_level is "replica": set wal_level = logical in '
            'postgresql.conf and restart the server') in out

    msgs, err = dump(postgres, tmp_path, "strangler_shop", 0, expect_rc=1)
    assert msgs == []
    assert "CREATE_REPLICATION_SLOT failed (55000)" in err
    assert "wal_level" in err


def test_pgrepl_drops_a_slot_and_refuses_a_dropped_one(logical_pg,
                                                       tmp_path):
    """A slot dropped behind the stream's back is named with the recovery,
    never silently recreated by the start; dropping twice is harmless."""
    pg = logical_pg
    pg.sql(SCHEMA)
    msgs, _ = dump(pg, tmp_path, "strangler_shop", 0)
    assert msgs == [{"slot_created": True}]

    def drop():
        p = subprocess.run([DUMP, "--drop", pg.dsn(), "strangler_shop"],
                           capture_output=True, text=True, timeout=60,
                           env=harness.sanitizer_env(None, str(tmp_path)))
        assert p.returncode == 0, p.stderr
        return json.loads(p.stdout)

    assert drop() == {"dropped": True}
    assert pg.sql("SELECT count(*) FROM pg_replication_slots") == [(0,)]
    assert drop() == {"dropped": False}

    logdir = str(tmp_path)
    p = subprocess.run([DUMP, "--no-create", pg.dsn(), "strangler_shop",
                        "strangler_shop", "1", "10"], capture_output=True,
                       text=True, timeout=60,
                       env=harness.sanitizer_env(None, logdir))
    assert p.returncode == 1
    assert ('slot "strangler_shop" does not exist (42704): it was dropped, '
            'so the changes it held are gone') in p.stderr
    assert not harness.sanitizer_reports(logdir)
    assert pg.sql("SELECT count(*) FROM pg_replication_slots") == [(0,)]


def test_pgrepl_refuses_an_invalidated_slot(tmp_path):
    """max_slot_wal_keep_size removed the WAL a slot needed (wal_status
    lost): the start says so and names the recovery."""
    pg = harness.Postgres(tmp_path / "pg", extra_options=(
        "-c wal_level=logical -c max_slot_wal_keep_size=1MB"))
    try:
        pg.sql(SCHEMA)
        msgs, _ = dump(pg, tmp_path, "strangler_shop", 0)
        assert msgs == [{"slot_created": True}]
        for _ in range(3):
            pg.sql("INSERT INTO audit SELECT g, 'x' FROM"
                   " generate_series(1, 1000) g")
            pg.sql("SELECT pg_switch_wal()")
            pg.sql("CHECKPOINT")
            if pg.sql("SELECT wal_status FROM pg_replication_slots") == [
                    ("lost",)]:
                break
        assert pg.sql("SELECT wal_status FROM pg_replication_slots") == [
            ("lost",)]

        msgs, err = dump(pg, tmp_path, "strangler_shop", 1, expect_rc=1)
        assert msgs == []
        assert ('slot "strangler_shop" was invalidated (wal_status = lost: '
                'the WAL it needed was removed') in err
        assert "drop it and re-sync the tables" in err
    finally:
        pg.stop()
