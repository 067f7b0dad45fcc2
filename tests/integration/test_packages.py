"""Debian packages (make deb): built with debhelper and dpkg-buildpackage
from a clean copy of the tree, no lintian errors, installed with apt, the
module enabled in Debian's own nginx through modules-enabled, the bridge's
configs, user, directories and units in place (units neither enabled nor
started), one version everywhere, a module for another nginx ABI refused,
and a purge that leaves no file behind.

Runs as root on the test machine like the rest of the suite, and puts the
machine back as it found it, even on failure: the conf.d file it writes is
removed, both packages are purged, the strangler user removed if the
packages created it.  It installs nothing the other tests read (they load
the tree's build/ with their own nginx -p DIR)."""

import glob
import os
import pwd
import shutil
import stat
import subprocess

import pytest

import harness

pytestmark = pytest.mark.timeout(1800)

VERSION = open(os.path.join(harness.ROOT, "VERSION")).read().strip()
PKGS = ["libnginx-mod-http-strangler", "strangler-cdc-bridge"]
DEB_DIR = os.path.join(harness.BUILD, "deb")
CONF_D = "/etc/nginx/conf.d/strangler-package-test.conf"
ENABLED = "/etc/nginx/modules-enabled/50-mod-http-strangler.conf"
AVAILABLE = "/usr/share/nginx/modules-available/mod-http-strangler.conf"
MODULE_SO = "/usr/lib/nginx/modules/ngx_http_strangler_module.so"
UNITS = ["cdc-bridge-run.service", "cdc-bridge-sink@.service"]

# where the packages or their scripts put anything: compared before the
# install and after the purge
WATCHED = ["/etc/nginx", "/etc/strangler", "/etc/systemd/system",
           "/usr/lib/nginx", "/usr/share/nginx", "/usr/share/strangler",
           "/usr/share/doc/libnginx-mod-http-strangler",
           "/usr/share/doc/strangler-cdc-bridge", "/usr/lib/tmpfiles.d",
           "/lib/systemd/system", "/var/lib/strangler", "/run/strangler",
           "/var/lib/systemd/deb-systemd-helper-enabled",
           "/var/lib/systemd/deb-systemd-helper-masked",
           "/usr/bin/cdc-bridge", "/usr/bin/strangler-ctl"]

APT_ENV = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
APT_OPTS = ["-y", "-q", "-o", "DPkg::Lock::Timeout=300"]

ROUTE_CONF = """\
# written by tests/integration/test_packages.py, removed when it ends
upstream strangler_pkgtest_legacy  { server 127.0.0.1:9; }
upstream strangler_pkgtest_service { server 127.0.0.1:9; }

strangler_zone strangler_pkgtest 1m;
strangler_legacy strangler_pkgtest_legacy;

strangler_route /strangler-pkgtest/ {
    service strangler_pkgtest_service;
    legacy  strangler_pkgtest_legacy;
    percent 25;
}

server {
    listen 127.0.0.1:9;
    server_name strangler-pkgtest;
    location / {
        strangler on;
        proxy_pass http://$strangler_upstream;
    }
}
"""


def run(cmd, check=True, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if check:
        assert p.returncode == 0, "%s: rc %d\n%s%s" % (
            " ".join(cmd), p.returncode, p.stdout, p.stderr)
    return p


def installed(pkg):
    p = run(["dpkg-query", "-W", "-f=${db:Status-Status}", pkg], check=False)
    return p.returncode == 0 and p.stdout not in ("", "not-installed")


def snapshot():
    out = set()
    for top in WATCHED:
        if os.path.lexists(top) and not os.path.isdir(top):
            out.add(top)
        for d, dirs, files in os.walk(top):
            out.update(os.path.join(d, n) for n in dirs + files)
    return out


def purge():
    if any(installed(p) for p in PKGS):
        run(["apt-get", "purge"] + APT_OPTS + PKGS, env=APT_ENV,
            timeout=600)


@pytest.fixture(scope="module")
def debs():
    """make deb's output: {package: path}."""
    assert os.geteuid() == 0, "installs packages: run the suite as root"
    run(["make", "--no-print-directory", "deb",
         "BUILD=" + harness.BUILD], cwd=harness.ROOT, timeout=1500)
    found = {}
    for path in glob.glob(os.path.join(DEB_DIR, "*.deb")):
        found[run(["dpkg-deb", "-f", path, "Package"]).stdout.strip()] = path
    assert sorted(found) == sorted(PKGS)
    return found


@pytest.fixture(scope="module")
def machine(debs):
    """The packages installed with apt; on the way out the machine is put
    back.  Yields the files that existed before."""
    for p in PKGS:
        assert not installed(p), (
            "%s is installed on this machine already; the test would "
            "purge it" % p)
    user_before = user_exists("strangler")
    before = snapshot()
    try:
        run(["apt-get", "install"] + APT_OPTS + sorted(debs.values()),
            env=APT_ENV, timeout=600)
        yield before
    finally:
        if os.path.exists(CONF_D):
            os.unlink(CONF_D)
        purge()
        if not user_before and user_exists("strangler"):
            run(["deluser", "--system", "--quiet", "strangler"],
                check=False)
            run(["delgroup", "--system", "--quiet", "strangler"],
                check=False)


def user_exists(name):
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def running_executables():
    out = set()
    for pid in os.listdir("/proc"):
        try:
            out.add(os.readlink("/proc/%s/exe" % pid))
        except OSError:
            pass
    return out


def test_tree_binaries_print_the_version_file():
    for cmd, name in ((harness.bridge_path(asan=False), "cdc-bridge"),
                      (os.path.join(harness.BUILD, "strangler-ctl"),
                       "strangler-ctl")):
        assert run([cmd, "--version"]).stdout == "%s %s\n" % (name, VERSION)


def test_lintian_reports_no_errors(debs):
    with open(os.path.join(DEB_DIR, "lintian.txt")) as f:
        report = f.read()
    assert not [ln for ln in report.splitlines() if ln.startswith("E:")]
    # make deb fails on a lintian error; run it again on what was built
    run(["lintian", "--fail-on", "error"] + sorted(debs.values()),
        timeout=600)


def test_package_contents_version_and_nginx_abi(debs):
    provides = run(["dpkg-query", "-W", "-f=${Provides}", "nginx"]).stdout
    abi = [p.strip() for p in provides.split(",")
           if p.strip().startswith("nginx-abi-")]
    assert len(abi) == 1
    deb = debs["libnginx-mod-http-strangler"]
    depends = run(["dpkg-deb", "-f", deb, "Depends"]).stdout
    assert abi[0] in [d.strip() for d in depends.split(",")]
    for pkg, path in debs.items():
        assert run(["dpkg-deb", "-f", path, "Version"]).stdout.strip() \
            == VERSION, pkg

    files = run(["dpkg-deb", "-c", deb]).stdout
    for want in ("." + MODULE_SO, "." + AVAILABLE,
                 "./usr/share/strangler/examples/strangler.conf",
                 "./usr/share/strangler/examples/routes.conf",
                 "./usr/share/strangler/dashboard/index.html"):
        assert want in files
    files = run(["dpkg-deb", "-c", debs["strangler-cdc-bridge"]]).stdout
    for want in ("./usr/bin/cdc-bridge", "./usr/bin/strangler-ctl",
                 "./usr/share/man/man1/cdc-bridge.1.gz",
                 "./usr/share/man/man1/strangler-ctl.1.gz",
                 "./etc/strangler/cdc-bridge.conf", "./etc/strangler/ctl.conf",
                 "./usr/lib/tmpfiles.d/strangler-cdc-bridge.conf"):
        assert want in files


def test_module_for_another_nginx_abi_refuses_to_install(debs, tmp_path):
    tree = tmp_path / "pkg"
    run(["dpkg-deb", "-R", debs["libnginx-mod-http-strangler"], str(tree)])
    control = tree / "DEBIAN" / "control"
    text = control.read_text()
    text = text.replace("nginx-abi-", "nginx-abi-0.0.0-0-was-")
    control.write_text(text)
    other = tmp_path / "libnginx-mod-http-strangler_other.deb"
    run(["dpkg-deb", "--root-owner-group", "-b", str(tree), str(other)])
    # simulated: apt resolves the dependencies and changes nothing
    p = run(["apt-get", "install", "-s"] + APT_OPTS + [str(other)],
            check=False, env=APT_ENV, timeout=300)
    assert p.returncode != 0
    assert "nginx-abi-0.0.0-0-was-" in p.stdout + p.stderr


def test_nginx_t_with_module_enabled_and_a_route(machine):
    assert os.path.islink(ENABLED)
    assert os.readlink(ENABLED) == AVAILABLE
    with open(AVAILABLE) as f:
        assert f.read() == \
            "load_module modules/ngx_http_strangler_module.so;\n"
    with open(CONF_D, "w") as f:
        f.write(ROUTE_CONF)
    p = run(["/usr/sbin/nginx", "-t"], check=False, timeout=60)
    assert p.returncode == 0, p.stderr
    dump = run(["/usr/sbin/nginx", "-T"], timeout=60).stdout
    assert "load_module modules/ngx_http_strangler_module.so;" in dump
    assert "strangler_route /strangler-pkgtest/" in dump
    os.unlink(CONF_D)


def test_installed_module_reports_the_version(machine, tmp_path, backends):
    b = backends("legacy")
    ngx = harness.Nginx(tmp_path / "nginx", asan=False)
    ngx.write("""
    upstream legacy_up { server 127.0.0.1:%d; }
    strangler_zone strangler 1m;
    strangler_legacy legacy_up;
    server {
        listen 127.0.0.1:{port};
        location = /strangler/status { strangler_status; }
    }
""" % b["legacy"].port)
    with open(ngx.conf) as f:
        text = f.read()
    with open(ngx.conf, "w") as f:
        f.write(text.replace(harness.module_path(False), MODULE_SO, 1))
    try:
        ngx.start()
        assert ngx.status()["strangler_version"] == VERSION
    finally:
        ngx.stop()
    assert not ngx.problems()


def test_bridge_installed_configured_not_started(machine):
    assert run(["/usr/bin/cdc-bridge", "--version"]).stdout \
        == "cdc-bridge %s\n" % VERSION
    assert run(["/usr/bin/strangler-ctl", "--version"]).stdout \
        == "strangler-ctl %s\n" % VERSION
    run(["/usr/bin/cdc-bridge", "check-config", "-c",
         "/etc/strangler/cdc-bridge.conf"], timeout=60)

    conffiles = run(["dpkg-query", "-W", "-f=${Conffiles}",
                     "strangler-cdc-bridge"]).stdout
    assert "/etc/strangler/cdc-bridge.conf" in conffiles
    assert "/etc/strangler/ctl.conf" in conffiles

    user = pwd.getpwnam("strangler")
    assert user.pw_uid < 1000 and user.pw_dir == "/var/lib/strangler"
    for d, mode in (("/var/lib/strangler", 0o750),
                    ("/var/lib/strangler/cdc", 0o750),
                    ("/run/strangler/lag", 0o755)):
        st = os.stat(d)
        assert st.st_uid == user.pw_uid, d
        assert stat.S_IMODE(st.st_mode) == mode, d
    env = os.stat("/etc/strangler/cdc-bridge.env")
    assert env.st_uid == user.pw_uid
    assert stat.S_IMODE(env.st_mode) == 0o600

    for unit in UNITS:
        path = "/lib/systemd/system/" + unit
        with open(path) as f:
            text = f.read()
        assert "ExecStart=/usr/bin/cdc-bridge " in text
        assert "User=strangler" in text
        # neither enabled nor started by the package
        assert not glob.glob("/etc/systemd/system/*/" + unit)
        p = run(["deb-systemd-helper", "--quiet", "was-enabled", unit],
                check=False)
        assert p.returncode != 0, unit
    # (other tests run the tree's build/cdc-bridge meanwhile)
    assert "/usr/bin/cdc-bridge" not in running_executables()


def test_unit_files_verify(machine, tmp_path):
    if shutil.which("systemd-analyze") is None:
        pytest.fail("systemd-analyze is missing (Debian's systemd package)")
    # a template verifies through an instance of it
    units = []
    for unit in UNITS:
        src = "/lib/systemd/system/" + unit
        dst = tmp_path / unit.replace("@.", "@orders.")
        shutil.copy(src, dst)
        units.append(str(dst))
    p = run(["systemd-analyze", "verify"] + units, check=False, timeout=120)
    out = p.stdout + p.stderr
    assert p.returncode == 0, out
    assert not [ln for ln in out.splitlines() if "cdc-bridge" in ln], out


def test_remove_keeps_config_and_purge_leaves_no_files_behind(machine):
    files = set()
    for p in PKGS:
        files.update(run(["dpkg-query", "-L", p]).stdout.split())
    assert MODULE_SO in files

    run(["apt-get", "remove"] + APT_OPTS + PKGS, env=APT_ENV, timeout=600)
    # the module's link moved aside, as Debian's module packages do; the
    # configuration, the secrets and the checkpoint kept
    assert not os.path.lexists(ENABLED)
    assert os.path.islink(ENABLED + ".removed")
    for f in ("/etc/strangler/cdc-bridge.conf", "/etc/strangler/ctl.conf",
              "/etc/strangler/cdc-bridge.env", "/var/lib/strangler/cdc"):
        assert os.path.exists(f), f
    assert not os.path.exists(MODULE_SO)
    assert not os.path.exists("/usr/bin/cdc-bridge")

    purge()

    for p in PKGS:
        assert not installed(p)
    left = sorted(snapshot() - machine)
    assert not left, "left behind: %s" % left
    assert not [f for f in files
                if os.path.lexists(f) and not os.path.isdir(f)]
