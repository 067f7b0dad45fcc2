"""Durations use the monotonic clock: `cdc-bridge run` keeps writing its
checkpoint (every checkpoint_interval) after the machine's wall clock
steps back an hour, as NTP or an operator may do.  The step is made by
build/tests/libwalljump.so (tests/lib/walljump.c), an LD_PRELOAD that
moves CLOCK_REALTIME only; the release build runs, since ASan's runtime
must come first in the preload list."""

import os
import time

import harness
import source_lib

WALLJUMP = os.path.join(harness.BUILD, "tests", "libwalljump.so")


def test_checkpoint_keeps_its_interval_when_the_wall_clock_steps_back(
        tmp_path, mariadb, devkafka):
    assert os.path.exists(WALLJUMP), "not built: " + WALLJUMP
    source_lib.setup_source(mariadb, "CREATE TABLE t (id INT PRIMARY KEY, "
                            "n INT);")
    jump = tmp_path / "jump"
    jump.write_text("0\n")
    run = source_lib.Bridge(tmp_path / "run", mariadb, devkafka, asan=False,
                            LD_PRELOAD=WALLJUMP, WALLJUMP_FILE=str(jump),
                            CDC_CHECKPOINT_INTERVAL="200ms")
    # bridge_env names every key CDC_*: these two are not config keys
    run.env["LD_PRELOAD"] = run.env.pop("CDC_LD_PRELOAD")
    run.env["WALLJUMP_FILE"] = run.env.pop("CDC_WALLJUMP_FILE")
    run.start()
    try:
        def pos_after(i):
            mariadb.sql("INSERT INTO shop.t VALUES (%s, 1)" % i)
            file, pos = mariadb.sql("SHOW MASTER STATUS")[0][:2]
            deadline = time.time() + 15
            while time.time() < deadline:
                ck = run.checkpoint()
                if ck and ck["position"]["file"] == file \
                        and ck["position"]["pos"] >= pos:
                    return ck
                assert run.alive(), run.log()
                time.sleep(0.1)
            raise AssertionError("checkpoint %s, binlog at %s:%d\n%s"
                                 % (run.checkpoint(), file, pos,
                                    run.log()[-3000:]))

        before = pos_after(1)
        jump.write_text("-3600000\n")     # the wall clock: an hour back
        time.sleep(0.3)
        after = pos_after(2)
        assert after["position"]["pos"] > before["position"]["pos"]
        # the checkpoint's own timestamp is wall-clock time, as documented
        assert after["updated_ms"] < time.time() * 1000 - 3000000
        pos_after(3)
    finally:
        run.stop()
