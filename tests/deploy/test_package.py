# SPDX-License-Identifier: MIT
"""The Debian package as an admin gets it: built from the tree by dpkg-buildpackage (debian/),
checked by lintian, installed with `apt install ./concierge_*.deb`, its shipped config checked
as the service's user, its unit verified, then upgraded (the same package repacked with a
higher version), removed and purged — the admin's config must survive the upgrade, the store
all three.

It installs the package on this machine (the `concierge` system user included) and removes
everything it added at the end; it refuses to run where Concierge is already installed or
/var/lib/concierge exists. Needs root. The build takes minutes on two cores: CTest label
`package`, run alone after the suite (.ci/run). CONCIERGE_DEB=path/to/concierge_*.deb tests a
package built before instead of building one.

Run: /usr/bin/python3 -m unittest -v tests/deploy/test_package.py
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
STORE_DIR = Path("/var/lib/concierge")
CONFIG = Path("/etc/concierge/concierge.toml")
UNIT = Path("/lib/systemd/system/concierge.service")
APT = ["-o", "DPkg::Lock::Timeout=120", "-y", "-q"]
ENV = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}


def run(argv: list[str], timeout: float = 120, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=ENV, **kw)


def installed() -> bool:
    res = run(["dpkg-query", "-W", "-f=${Status}", "concierge"])
    return res.returncode == 0 and "installed" in res.stdout and "not-installed" not in res.stdout


def user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def build_package(out: Path) -> Path:
    """dpkg-buildpackage -b on a copy of the tree's files (tracked and new, not ignored)."""
    src = out / "concierge"
    files = run(["git", "-C", str(REPO), "ls-files", "-co", "--exclude-standard", "-z"]).stdout
    assert files, f"git ls-files listed nothing: {REPO} must be a git checkout"
    for name in filter(None, files.split("\0")):
        if name.startswith("tests/corpora/") or not (REPO / name).is_file():
            continue
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, src / name)
    env = {**ENV, "DEB_BUILD_OPTIONS": "parallel=2 nocheck noddebs"}
    if shutil.which("ccache"):
        env["CONCIERGE_CMAKE_FLAGS"] = "-DCMAKE_CXX_COMPILER_LAUNCHER=ccache"
    res = subprocess.run(["dpkg-buildpackage", "-b", "-us", "-uc"], cwd=src, env=env,
                         capture_output=True, text=True, timeout=1500)
    if res.returncode != 0:
        raise AssertionError("dpkg-buildpackage failed:\n" + (res.stdout + res.stderr)[-6000:])
    debs = sorted(out.glob("concierge_*.deb"))
    assert len(debs) == 1, debs
    return debs[0]


@unittest.skipUnless(os.geteuid() == 0, "needs root (installs a package)")
class DebianPackage(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if installed() or STORE_DIR.exists():
            raise unittest.SkipTest("Concierge is installed here (or /var/lib/concierge exists): "
                                    "this test installs and removes the package, so it does not run")
        cls.had_user = user_exists("concierge")
        cls.out = Path(tempfile.mkdtemp(prefix="concierge-deb-"))
        prebuilt = os.environ.get("CONCIERGE_DEB")
        cls.deb = Path(prebuilt) if prebuilt else build_package(cls.out)
        cls.lintian = run(["lintian", "--fail-on", "error", "--display-info", str(cls.deb)], timeout=300)
        cls.install = run(["apt", "install", *APT, f"./{cls.deb.name}"], cwd=cls.deb.parent, timeout=600)

    @classmethod
    def tearDownClass(cls):
        run(["apt-get", "purge", *APT, "concierge"], timeout=300)
        shutil.rmtree(STORE_DIR, ignore_errors=True)
        if not cls.had_user and user_exists("concierge"):
            run(["userdel", "concierge"])
            run(["groupdel", "concierge"])
        shutil.rmtree(cls.out, ignore_errors=True)

    def setUp(self):
        self.assertEqual(self.install.returncode, 0, self.install.stdout + self.install.stderr)

    def test_1_lintian_reports_no_error(self):
        self.assertEqual(self.lintian.returncode, 0, self.lintian.stdout + self.lintian.stderr)
        tags = [l for l in self.lintian.stdout.splitlines() if l[:2] in ("E:", "W:", "I:")]
        print("\nlintian:\n  " + "\n  ".join(tags or ["(no tags)"]), file=sys.stderr)
        self.assertEqual([t for t in tags if t.startswith("E:")], [], tags)

    def test_1_package_holds_what_an_admin_needs(self):
        listing = run(["dpkg-deb", "-c", str(self.deb)]).stdout
        paths = {line.split()[-1].lstrip(".") for line in listing.splitlines()}
        for path in ("/usr/bin/concierge", str(UNIT), "/usr/lib/sysusers.d/concierge.conf",
                     str(CONFIG), "/var/lib/concierge/", "/usr/share/doc/concierge/README.md",
                     "/usr/share/doc/concierge/examples/prosody.cfg.lua",
                     "/usr/share/doc/concierge/examples/ejabberd.yml",
                     "/usr/share/doc/concierge/examples/grafana-dashboard.json",
                     "/usr/share/man/man8/concierge.8.gz"):
            self.assertIn(path, paths)
        # The server extensions, where the transparent-mode snippets point.
        server = REPO / "xmpp/server"
        for f in sorted(server.glob("prosody/mod_concierge*.lua")):
            self.assertIn(f"/usr/share/concierge/prosody/{f.name}", paths)
        for f in sorted(p for p in server.glob("ejabberd/**/*") if p.is_file()):
            self.assertIn(f"/usr/share/concierge/ejabberd/{f.relative_to(server / 'ejabberd')}", paths)
        fields = run(["dpkg-deb", "-f", str(self.deb), "Depends"]).stdout
        depends = [d.strip().split()[0] for d in fields.replace("|", ",").split(",")]
        self.assertIn("libstrophe0", depends)
        self.assertIn("libsqlite3-0", depends)
        self.assertEqual([d for d in depends if d.endswith("-dev")], [])
        control = Path(tempfile.mkdtemp(dir=self.out))
        run(["dpkg-deb", "-e", str(self.deb), str(control)], check=True)
        self.assertEqual((control / "conffiles").read_text().split(), [str(CONFIG)])
        # An upgrade restarts a running service on the new binary, and only a running one.
        self.assertIn("deb-systemd-invoke try-restart 'concierge.service'",
                      (control / "postinst").read_text())

    def test_2_installed_configured_but_neither_started_nor_enabled(self):
        self.assertTrue(user_exists("concierge"))
        self.assertFalse(Path("/etc/systemd/system/multi-user.target.wants/concierge.service").exists())
        res = run(["systemctl", "is-enabled", "concierge.service"])
        self.assertEqual(res.stdout.strip(), "disabled", res.stderr)
        st = CONFIG.stat()
        self.assertEqual((st.st_mode & 0o777, st.st_uid, st.st_gid),
                         (0o640, 0, pwd.getpwnam("concierge").pw_gid))
        st = STORE_DIR.stat()
        self.assertEqual((st.st_mode & 0o777, st.st_uid), (0o750, pwd.getpwnam("concierge").pw_uid))

    def as_user(self, user: str, group: str, *argv: str) -> subprocess.CompletedProcess:
        return run(["setpriv", f"--reuid={user}", f"--regid={group}", "--init-groups", "--",
                    *argv], cwd="/")

    def test_2_the_service_user_checks_the_shipped_config(self):
        res = self.as_user("concierge", "concierge", "/usr/bin/concierge", "--check-config", str(CONFIG))
        # It reads and passes, and says the secret is still the example's placeholder.
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertIn("change-me", res.stderr + res.stdout)
        # The control: a user outside the group concierge cannot read it.
        res = self.as_user("nobody", "nogroup", "/usr/bin/concierge", "--check-config", str(CONFIG))
        self.assertEqual(res.returncode, 2)
        self.assertIn("Permission denied", res.stderr)

    def test_2_systemd_analyze_verify_finds_nothing_in_the_installed_unit(self):
        res = run(["systemd-analyze", "verify", str(UNIT)])
        self.assertEqual((res.returncode, res.stdout + res.stderr), (0, ""))

    def test_3_the_store_survives_an_upgrade_a_remove_and_a_purge(self):
        port = free_port()
        CONFIG.write_text(
            '[component]\njid = "concierge.localhost"\nsecret = "s3cret-of-the-test"\n'
            f'host = "127.0.0.1"\nport = {port}\n[served]\ndomains = ["localhost"]\n'
            f'[store]\npath = "{STORE_DIR}/concierge.db"\n')
        # Concierge as the unit runs it: creates its store, then waits for a server (none here).
        proc = subprocess.Popen(["setpriv", "--reuid=concierge", "--regid=concierge", "--init-groups",
                                 "--", "/usr/bin/concierge", "--config", str(CONFIG)], cwd="/",
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            store = STORE_DIR / "concierge.db"
            deadline = time.monotonic() + 20
            while not store.exists() and time.monotonic() < deadline and proc.poll() is None:
                time.sleep(0.05)
        finally:
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=20)
        self.assertTrue(store.is_file(), err)
        self.assertEqual(store.stat().st_uid, pwd.getpwnam("concierge").pw_uid)
        before = store.read_bytes()

        # An upgrade (the same package, a higher version) keeps the admin's config, its owner and
        # mode, and the store. Without systemd running here, its try-restart is only in the script
        # (test_1_package_holds_what_an_admin_needs).
        admins = CONFIG.read_text()
        upgrade = bumped(self.deb, self.out)
        res = run(["apt", "install", *APT, f"./{upgrade.name}"], cwd=upgrade.parent, timeout=600)
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
        version = run(["dpkg-query", "-W", "-f=${Version}", "concierge"]).stdout
        self.assertTrue(version.endswith("+upgrade1"), version)
        self.assertEqual(CONFIG.read_text(), admins)
        st = CONFIG.stat()
        self.assertEqual((st.st_mode & 0o777, st.st_uid, st.st_gid),
                         (0o640, 0, pwd.getpwnam("concierge").pw_gid))
        self.assertEqual(store.read_bytes(), before)

        res = run(["apt-get", "remove", *APT, "concierge"], timeout=300)
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
        self.assertFalse(Path("/usr/bin/concierge").exists())
        self.assertEqual(store.read_bytes(), before)
        self.assertTrue(CONFIG.is_file())  # a remove keeps the admin's config

        res = run(["apt-get", "purge", *APT, "concierge"], timeout=300)
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
        self.assertFalse(CONFIG.exists())
        self.assertEqual(store.read_bytes(), before)
        self.assertIn("kept the store in /var/lib/concierge", res.stdout + res.stderr)


def bumped(deb: Path, out: Path) -> Path:
    """`deb` repacked with a higher version: the next release, as far as dpkg can tell."""
    root = out / "repack"
    run(["dpkg-deb", "-R", str(deb), str(root)], check=True)
    control = root / "DEBIAN/control"
    control.write_text(re.sub(r"^Version: (.*)$", r"Version: \1+upgrade1", control.read_text(), flags=re.M))
    target = out / "upgrade" / "concierge_next.deb"
    target.parent.mkdir()
    run(["dpkg-deb", "--root-owner-group", "-b", str(root), str(target)], check=True, timeout=300)
    return target


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


if __name__ == "__main__":
    unittest.main()
