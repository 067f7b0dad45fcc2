"""Runs each cmocka unit test binary (tests/unit/test_*.c, built with ASan
and UBSan into build/tests/) as one pytest test."""

import glob
import os
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harness  # noqa: E402

SRCS = sorted(glob.glob(os.path.join(harness.ROOT, "tests", "unit",
                                     "test_*.c")))


@pytest.mark.parametrize("src", SRCS, ids=[os.path.basename(s)[:-2]
                                            for s in SRCS])
def test_unit(src, tmp_path):
    binary = os.path.join(harness.BUILD, "tests",
                          os.path.basename(src)[:-2])
    assert os.path.exists(binary), "not built: " + binary
    env = harness.sanitizer_env(None, str(tmp_path))
    env["STRANGLER_TESTDATA"] = harness.TESTDATA
    env["STRANGLER_ROOT"] = harness.ROOT
    p = subprocess.run([binary], capture_output=True, text=True, env=env,
                       timeout=300, cwd=harness.ROOT)
    out = p.stdout + p.stderr
    reports = harness.sanitizer_reports(str(tmp_path))
    assert p.returncode == 0 and not reports, out + "\n".join(reports)
    assert "[  PASSED  ]" in out, out
