"""Fixtures shared by every test: each starts a real server on 127.0.0.1
and stops it when the test ends (see tests/lib/harness.py)."""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))

import harness  # noqa: E402


@pytest.fixture
def backends():
    """backends("legacy", "service") -> {name: Backend}"""
    made = []

    def make(*names, **kw):
        out = {}
        for n in names:
            b = harness.Backend(n, **kw)
            made.append(b)
            out[n] = b
        return out
    yield make
    for b in made:
        b.stop()


@pytest.fixture
def nginx(tmp_path):
    """nginx(http_body, workers=1, **subst) -> a started harness.Nginx;
    fails the test on [alert]/[emerg]/[crit] or a sanitizer report."""
    made = []

    def make(http=None, start=True, name=None, **kw):
        prefix = tmp_path / (name or "nginx%d" % len(made))
        opts = {k: kw.pop(k) for k in ("workers", "asan", "log_level",
                                       "main_extra") if k in kw}
        n = harness.Nginx(prefix, **opts)
        made.append(n)
        if http is not None:
            n.write(http, **kw)
            if start:
                n.start()
        return n
    yield make
    problems = []
    for n in made:
        n.stop()
        problems += n.problems()
    assert not problems, "\n".join(problems)


@pytest.fixture
def mariadb(tmp_path):
    m = harness.MariaDB(tmp_path / "mariadb")
    yield m
    m.stop()


@pytest.fixture
def postgres(tmp_path):
    p = harness.Postgres(tmp_path / "pg")
    yield p
    p.stop()


@pytest.fixture
def devkafka(tmp_path):
    k = harness.DevKafka(tmp_path / "kafka")
    yield k
    k.stop()


@pytest.fixture
def outdir(request):
    """tests/out/<test name>/ for screenshots and reports."""
    d = os.path.join(harness.OUT, request.node.name.replace("/", "_"))
    os.makedirs(d, exist_ok=True)
    return d
