"""Builds the libFuzzer targets fuzz_config, fuzz_event_json,
fuzz_percent and fuzz_pgoutput of tests/fuzz/ (clang, -fsanitize=fuzzer,address,undefined)
and runs each for FUZZ_SMOKE_SECONDS (default 20) from its seed corpus:
no crash, no sanitizer report, no property violation.  Long runs and
their results: docs/reliability.md.

The bridge's sources are compiled here with clang's fuzzer
instrumentation into BUILD/fuzz-smoke/ (apart from tests/fuzz/run's
BUILD/fuzz/; kept between runs, rebuilt when a source or header is
newer).  fuzz_percent.c links the module's route file and strangler-ctl's,
instrumented, non-PIE with nginx's core left unresolved (only the pure
percent parser is reached).
"""

import glob
import os
import re
import shutil
import subprocess

import pytest

import harness

ROOT = harness.ROOT
FUZZ = os.path.join(ROOT, "tests", "fuzz")
OUT = os.path.join(harness.BUILD, "fuzz-smoke")
SECONDS = int(os.environ.get("FUZZ_SMOKE_SECONDS", "20"))
PKGS = "rdkafka libmariadb libpq jansson inih libmicrohttpd libzstd zlib".split()
SAN = ["-fsanitize=address,undefined", "-fno-sanitize-recover=undefined",
       "-fno-omit-frame-pointer", "-g", "-O1"]


def pkg(flag):
    return subprocess.check_output(["pkg-config", flag] + PKGS,
                                   text=True).split()


def newer(target, sources):
    if not os.path.exists(target):
        return True
    t = os.path.getmtime(target)
    return any(os.path.getmtime(s) > t for s in sources)


def compile_c(src, obj, flags, deps):
    if not newer(obj, [src] + deps):
        return obj
    os.makedirs(os.path.dirname(obj), exist_ok=True)
    p = subprocess.run(["clang", "-c", "-o", obj + ".tmp", src] + flags,
                       capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert p.returncode == 0, "clang %s:\n%s" % (src, p.stderr)
    os.replace(obj + ".tmp", obj)
    return obj


def bridge_objs():
    """cdc-bridge/**/*.c but main.c, instrumented for the fuzzer."""
    srcs = sorted(s for s in glob.glob(os.path.join(ROOT, "cdc-bridge", "**",
                                                    "*.c"), recursive=True)
                  if os.path.basename(s) != "main.c")
    hdrs = glob.glob(os.path.join(ROOT, "cdc-bridge", "**", "*.h"),
                     recursive=True) + glob.glob(
        os.path.join(ROOT, "include", "strangler", "*.h"))
    flags = (["-std=gnu11", "-D_GNU_SOURCE", "-fsanitize=fuzzer-no-link",
              "-Iinclude", "-Icdc-bridge"] + SAN + pkg("--cflags"))
    objs = []
    for s in srcs:
        rel = os.path.relpath(s, ROOT)
        objs.append(compile_c(s, os.path.join(OUT, "obj", rel + ".o"),
                              flags, hdrs))
    return objs


def nginx_incs():
    src = os.path.join(harness.BUILD, "nginx-src")
    objs = os.path.join(harness.BUILD, "nginx-objs-release")
    if not os.path.exists(os.path.join(objs, "ngx_auto_config.h")):
        subprocess.run(["make", "module"], cwd=ROOT, check=True,
                       capture_output=True, timeout=600)
    incs = []
    for d in ("src/core", "src/event", "src/event/modules", "src/os/unix",
              "src/http", "src/http/modules", "src/http/v2"):
        incs.append("-I" + os.path.join(src, d))
    return incs + ["-I" + objs, "-Ingx_strangler_module",
                   "-Ingx_strangler_module/ctl", "-Iinclude"]


def link(target, srcs, objs, extra=()):
    exe = os.path.join(OUT, target)
    deps = srcs + objs
    if not newer(exe, deps):
        return exe
    os.makedirs(OUT, exist_ok=True)
    cmd = (["clang", "-o", exe + ".tmp", "-fsanitize=fuzzer"] + SAN +
           ["-std=gnu11", "-D_GNU_SOURCE"] + list(extra) + srcs + objs)
    p = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT,
                       timeout=300)
    assert p.returncode == 0, "link %s:\n%s" % (target, p.stderr)
    os.replace(exe + ".tmp", exe)
    return exe


def build(target):
    src = os.path.join(FUZZ, target + ".c")
    if target == "fuzz_percent":
        incs = nginx_incs()
        hdrs = glob.glob(os.path.join(ROOT, "ngx_strangler_module", "*.h"))
        flags = ["-fno-pic", "-fsanitize=fuzzer-no-link"] + SAN + incs
        objs = [compile_c(os.path.join(ROOT, s),
                          os.path.join(OUT, "obj-nopic", s + ".o"), flags,
                          hdrs)
                for s in ("ngx_strangler_module/ngx_http_strangler_route.c",
                          "ngx_strangler_module/ctl/ctl_routes.c")]
        # the route file's other functions call nginx's core, which is not
        # linked: those references resolve to 0 in a non-PIE executable
        # and are never reached from the percent parser (a call would
        # crash the fuzzer, not pass silently)
        return link(target, [src], objs, incs + [
            "-fno-pic", "-no-pie", "-Wl,--unresolved-symbols=ignore-all"])
    objs = bridge_objs()
    return link(target, [src], objs,
                ["-Iinclude", "-Icdc-bridge"] + pkg("--cflags") +
                pkg("--libs") + ["-lpthread", "-lm"])


TARGETS = sorted(os.path.basename(p)[:-2]
                 for p in glob.glob(os.path.join(FUZZ, "fuzz_*.c"))
                 if os.path.basename(p)[:-2] in ("fuzz_config",
                                                 "fuzz_event_json",
                                                 "fuzz_percent",
                                                 "fuzz_pgoutput"))


@pytest.mark.parametrize("target", TARGETS)
def test_fuzz_target_runs_clean(target, tmp_path, outdir):
    if shutil.which("clang") is None:
        pytest.fail("clang is not installed (auto/deps installs it)")
    exe = build(target)
    corpus_name = target[len("fuzz_"):]
    seeds = os.path.join(FUZZ, "corpus", corpus_name)
    assert os.path.isdir(seeds) and os.listdir(seeds), \
        "no seed corpus in " + seeds
    work = tmp_path / "corpus"
    shutil.copytree(seeds, work)
    art = str(tmp_path) + "/"
    env = dict(os.environ)
    env["ASAN_OPTIONS"] = "detect_leaks=1:abort_on_error=1"
    env["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1"
    p = subprocess.run([exe, "-max_total_time=%d" % SECONDS, "-timeout=10",
                        "-rss_limit_mb=2048", "-print_final_stats=1",
                        "-artifact_prefix=" + art, str(work)],
                       capture_output=True, text=True, env=env,
                       cwd=str(tmp_path), timeout=SECONDS + 120)
    out = p.stdout + p.stderr
    m = re.search(r"stat::number_of_executed_units:\s*(\d+)", out)
    runs = int(m.group(1)) if m else 0
    m = re.findall(r"cov: \d+ ft: \d+ corp: \d+", out)
    cov = m[-1] if m else "?"
    crashes = sorted(os.path.basename(f) for f in
                     glob.glob(str(tmp_path / "crash-*")) +
                     glob.glob(str(tmp_path / "leak-*")) +
                     glob.glob(str(tmp_path / "timeout-*")) +
                     glob.glob(str(tmp_path / "oom-*")))
    summary = ("%s: %d s, %d executions, %s, exit %d, artifacts %s"
               % (target, SECONDS, runs, cov, p.returncode, crashes))
    print(summary)
    with open(os.path.join(outdir, "report.txt"), "w") as f:
        f.write(summary + "\n")
        if p.returncode != 0:
            f.write(out[-6000:])
    # keep what it found, for the bug report
    for c in crashes:
        shutil.copy(str(tmp_path / c), os.path.join(outdir, c))
    assert p.returncode == 0 and not crashes, summary + "\n" + out[-4000:]
    assert runs > 1000, summary
