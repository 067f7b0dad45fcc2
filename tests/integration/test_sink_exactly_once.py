"""Exactly once: the sink is killed with SIGKILL at 10 random moments
while 50,000 changes stream in; at the end the target equals the source
(verify), every key's counter (set to absolute values by each update)
is right, and a target-side trigger that records every application of a
row shows no change applied twice and none going backwards."""

import random
import threading
import time

import harness

import sink_support as ss

KEYS = 5000
UPDATES = 9                 # per key, after its insert: 50,000 changes


def test_kill9_exactly_once(tmp_path, mariadb, postgres, devkafka):
    assert devkafka.command("create-topic mono.shop.counters 32") \
        .startswith("ok"), "create-topic"
    mariadb.sql("CREATE DATABASE shop")
    mariadb.sql("CREATE TABLE shop.counters (id BIGINT PRIMARY KEY, "
                "counter BIGINT NOT NULL, payload VARCHAR(64))")
    postgres.create_db("orders")
    postgres.sql("""
        CREATE TABLE public.counters (id bigint PRIMARY KEY,
            counter bigint NOT NULL, payload varchar(64));
        CREATE TABLE public.applications (seq bigserial, id bigint,
            counter bigint);
        CREATE FUNCTION public.count_application() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO public.applications (id, counter)
                    VALUES (NEW.id, NEW.counter);
                RETURN NEW;
            END $$;
        CREATE TRIGGER counted AFTER INSERT OR UPDATE ON public.counters
            FOR EACH ROW EXECUTE FUNCTION public.count_application();
    """, db="orders")
    env = ss.env_for(devkafka, postgres, mariadb=mariadb,
                     tables="shop.counters=public.counters",
                     batch_size=2000)
    ev = ss.Events(devkafka)
    rnd = random.Random(4242)
    sink = ss.Sink(tmp_path / "sink", env).start()

    def produce():
        # 50,000 changes over about 120 s, so the kills land in a load
        for no in range(UPDATES + 1):
            for k in range(1, KEYS + 1):
                row = {"id": k, "counter": no, "payload": "p%d-%d" % (k, no)}
                if no == 0:
                    ev.insert("counters", row)
                else:
                    ev.update("counters",
                              dict(row, counter=no - 1,
                                   payload="p%d-%d" % (k, no - 1)), row)
                if k % 500 == 0:
                    ev.flush()
                    time.sleep(1.2)
        ev.flush()

    producer = threading.Thread(target=produce)
    producer.start()

    def applied():
        if not postgres.sql("SELECT to_regclass('strangler_cdc.offsets')",
                            db="orders")[0][0]:
            return 0
        return postgres.sql("SELECT coalesce(sum(next_offset), 0) FROM "
                            "strangler_cdc.offsets", db="orders")[0][0]

    # each life: wait until the sink has committed a batch, then kill it
    # at a random moment of what follows
    try:
        for kill in range(10):
            before = applied()
            # (once every change is in, a kill can only land when idle)
            harness.wait_for(lambda: applied() > before or not sink.alive()
                             or applied() >= KEYS * (UPDATES + 1),
                             timeout=60, interval=0.05,
                             what="a batch applied")
            assert sink.alive(), sink.output()
            time.sleep(rnd.uniform(0.0, 0.4))
            sink.kill9()
            sink.start()
        producer.join()

        ss.wait_rows(postgres, "SELECT count(*), min(counter), max(counter) "
                     "FROM public.counters", [(KEYS, UPDATES, UPDATES)],
                     timeout=180, sink=sink)
    finally:
        producer.join()
        rc = sink.stop()
    assert rc == 0, sink.output()

    twice = postgres.sql("SELECT id, counter, count(*) FROM "
                         "public.applications GROUP BY id, counter "
                         "HAVING count(*) > 1 LIMIT 5", db="orders")
    assert twice == [], "applied twice: %r" % twice
    backwards = postgres.sql("""
        SELECT count(*) FROM (SELECT counter < lag(counter) OVER
            (PARTITION BY id ORDER BY seq) AS back
            FROM public.applications) x WHERE back""", db="orders")
    assert backwards == [(0,)], backwards

    mariadb.script("".join(
        "INSERT INTO shop.counters VALUES (%d, %d, 'p%d-%d');\n"
        % (k, UPDATES, k, UPDATES) for k in range(1, KEYS + 1)))
    rc, out = ss.verify(env)
    assert rc == 0, out
    assert "source %d rows" % KEYS in out and "equal" in out, out
    assert not sink.problems()
