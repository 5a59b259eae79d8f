# SPDX-License-Identifier: MIT
"""The deploy kit as an admin gets it: `cmake --install` into a scratch root, then the installed
systemd unit checked by `systemd-analyze verify`, what it points at present, and its start check
run as the unit's user would run it, on a config that is root:concierge 640.

Needs root (it chowns files and drops privileges with setpriv). CONCIERGE_BUILD_DIR names the
build (default: build/).

Run: /usr/bin/python3 -m unittest -v tests/deploy/test_deploy.py
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("CONCIERGE_BUILD_DIR", REPO / "build"))
PREFIX = "/usr/local"
# Stand-ins for the unit's user and group: the test must not add users to the machine.
NOBODY_UID = 65534
SERVICE_GID = 64999


def unit_entries(text: str) -> dict[str, list[str]]:
    """'Section.Key' -> values, in order (a unit may repeat a key)."""
    entries: dict[str, list[str]] = {}
    section = ""
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        entries.setdefault(f"{section}.{key}", []).append(value)
    return entries


@unittest.skipUnless(os.geteuid() == 0, "needs root (chown, setpriv)")
class DeployKit(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.root = Path(tempfile.mkdtemp(prefix="concierge-deploy-"))
        subprocess.run(["cmake", "--install", str(BUILD), "--prefix", PREFIX], check=True,
                       capture_output=True, timeout=60, env={**os.environ, "DESTDIR": str(cls.root)})
        cls.unit_path = cls.root / PREFIX.lstrip("/") / "lib/systemd/system/concierge.service"
        cls.unit = unit_entries(cls.unit_path.read_text())
        cls.binary = cls.root / PREFIX.lstrip("/") / "bin/concierge"

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.root, ignore_errors=True)

    def installed(self, path: str) -> Path:
        """An absolute path of the unit, where the scratch install put it."""
        self.assertTrue(path.startswith(PREFIX + "/"), path)
        return self.root / path.lstrip("/")

    def command(self, key: str) -> list[str]:
        argv = shlex.split(self.unit[key][0])
        argv[0] = str(self.installed(argv[0]))
        return argv

    def test_systemd_analyze_verify_finds_nothing(self):
        if shutil.which("systemd-analyze") is None:
            self.skipTest("systemd-analyze is absent (Debian package systemd; CI installs it)")
        with tempfile.TemporaryDirectory() as scratch:
            # verify checks that the commands exist: point them into the scratch install.
            text = self.unit_path.read_text().replace(f"{PREFIX}/bin/concierge", str(self.binary))
            unit = Path(scratch, "concierge.service")
            unit.write_text(text)
            res = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True,
                                 text=True, timeout=60)
        self.assertEqual((res.returncode, res.stdout + res.stderr), (0, ""))

    def test_it_runs_as_a_static_user_that_sysusers_creates(self):
        self.assertNotIn("Service.DynamicUser", self.unit)
        self.assertEqual(self.unit["Service.User"], ["concierge"])
        self.assertEqual(self.unit["Service.Group"], ["concierge"])
        sysusers = self.root / PREFIX.lstrip("/") / "lib/sysusers.d/concierge.conf"
        lines = [l.split() for l in sysusers.read_text().splitlines() if l and not l.startswith("#")]
        self.assertIn(["u", "concierge", "-"], [l[:3] for l in lines])

    def test_documentation_and_commands_are_installed(self):
        for url in self.unit["Unit.Documentation"]:
            self.assertTrue(url.startswith("file://"), url)
            self.assertTrue(self.installed(url[len("file://"):]).is_file(), url)
        for key in ("Service.ExecStartPre", "Service.ExecStart"):
            self.assertTrue(os.access(self.command(key)[0], os.X_OK), key)

    def start_check_as_service_user(self, owner_gid: int) -> subprocess.CompletedProcess:
        """The unit's ExecStartPre as its user would run it, on a copy of the shipped example
        (secret in a secret_file) in a folder like /etc/concierge: both files mode 640, owned
        by root and `owner_gid`."""
        etc = Path(tempfile.mkdtemp(prefix="concierge-etc-"))
        self.addCleanup(shutil.rmtree, etc, True)
        os.chown(etc, 0, SERVICE_GID)
        os.chmod(etc, 0o750)
        secret = etc / "secret"
        secret.write_text("a-secret-of-our-own\n")
        config = etc / "concierge.toml"
        example = (REPO / "config/deploy/concierge.toml").read_text()
        self.assertIn('\nsecret = "change-me"\n', example)
        config.write_text(example.replace('\nsecret = "change-me"\n', f'\nsecret_file = "{secret}"\n'))
        for f in (secret, config):
            os.chown(f, 0, owner_gid)
            os.chmod(f, 0o640)
        argv = [a.replace("/etc/concierge/concierge.toml", str(config)) for a in self.command("Service.ExecStartPre")]
        self.assertIn(str(config), argv)
        return subprocess.run(["setpriv", f"--reuid={NOBODY_UID}", f"--regid={SERVICE_GID}", "--clear-groups",
                               "--", *argv], capture_output=True, text=True, timeout=60, cwd="/")

    def test_start_check_reads_a_root_group_640_config_quietly(self):
        res = self.start_check_as_service_user(SERVICE_GID)
        # Passes, and leaves nothing in the journal: no effective config, no warning.
        self.assertEqual((res.returncode, res.stdout, res.stderr), (0, "", ""))

    def test_start_check_without_group_access_says_why(self):
        # The control: what DynamicUser= meant (a user outside the file's group).
        res = self.start_check_as_service_user(0)
        self.assertEqual(res.returncode, 2, res.stderr)
        self.assertEqual(res.stdout, "")
        self.assertIn("Permission denied", res.stderr)


if __name__ == "__main__":
    unittest.main()
