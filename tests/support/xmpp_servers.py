# SPDX-License-Identifier: MIT
"""Real XMPP servers for the tests, the demo and the benchmark: Prosody and ejabberd, each started
as its own system user on free loopback ports from a run folder it owns and removes (see
prosody.py for the whole harness). A server knows its ports, users and log; it does not know
Concierge."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

try:
    from . import deploy_snippets
except ImportError:  # loaded as a top-level module (sys.path holds tests/support)
    import deploy_snippets
try:
    from .process_tracking import REPO_ROOT, START_TIMEOUT, _accepts, _as_user, _chown_tree, _terminate, _track, _untrack, free_port
except ImportError:  # loaded as a top-level module (sys.path holds tests/support)
    from process_tracking import REPO_ROOT, START_TIMEOUT, _accepts, _as_user, _chown_tree, _terminate, _track, _untrack, free_port
try:
    from .server_templates import _lua_str, _template
except ImportError:  # loaded as a top-level module (sys.path holds tests/support)
    from server_templates import _lua_str, _template

DEFAULT_COMPONENT = "sched.localhost"
DEFAULT_SECRET = "s3cr3t-component"
RELEASE_KEY = b"e2e-release-key-0123456789abcdef"  # mod_concierge's key in transparent servers


class _Server:
    """Common shape of Prosody and Ejabberd: start/register/stop/restart and the addresses."""

    domain = "localhost"
    user = ""  # system user the server runs as

    def __init__(self, component_domain: str, component_secret: str, extra_components=(), extra_hosts=()):
        self.component_domain = component_domain
        self.component_secret = component_secret
        self.extra_components = [(d, s) for d, s in extra_components]
        self.extra_hosts = list(extra_hosts)  # more user domains besides "localhost"
        self.c2s_port = 0
        self.component_port = 0
        self.rundir = ""
        self.proc: subprocess.Popen | None = None
        self._out = None

    # -- context manager
    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    # -- helpers for subclasses
    def _make_rundir(self, prefix: str) -> Path:
        self.rundir = tempfile.mkdtemp(prefix=prefix)
        os.chmod(self.rundir, 0o755)
        return Path(self.rundir)

    def log_text(self) -> str:
        """Everything the server wrote to its console and its log file (for failure messages)."""
        parts = []
        for p in self._log_files():
            try:
                parts.append(f"--- {p}\n" + Path(p).read_text(errors="replace"))
            except OSError:
                pass
        return "\n".join(parts)

    def _log_files(self) -> list[str]:
        return []

    def wait_log(self, substring: str, timeout: float, count: int = 1) -> bool:
        """True once the server's log holds `substring` at least `count` times; False on timeout."""
        deadline = time.monotonic() + timeout
        while self.log_text().count(substring) < count:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"{type(self).__name__} exited with {self.proc.returncode} while starting:\n{self.log_text()}"
                )
            if _accepts(self.c2s_port) and _accepts(self.component_port):
                return
            time.sleep(0.05)
        raise TimeoutError(f"{type(self).__name__} did not accept on ports {self.c2s_port}/{self.component_port} "
                           f"within {timeout}s:\n{self.log_text()}")

    def stop(self):
        self._stop_process()
        _untrack(self)
        if self.rundir:
            shutil.rmtree(self.rundir, ignore_errors=True)
            self.rundir = ""

    def restart(self) -> "_Server":
        """Stops the server process and starts it again with the same data and ports."""
        self._stop_process()
        self._launch()
        self._wait_ready(START_TIMEOUT)
        return self

    def _stop_process(self):
        # SIGTERM to the whole process group: for ejabberd that is the ejabberdctl shell and the
        # Erlang VM, which stops cleanly on SIGTERM (init:stop); SIGKILL after STOP_TIMEOUT.
        _terminate(self.proc, group=True)
        self.proc = None
        if self._out is not None:
            self._out.close()
            self._out = None


class Prosody(_Server):
    """A private Prosody 0.12 on loopback; run folder in /tmp owned by user prosody."""

    user = "prosody"

    def __init__(self, component_domain: str = DEFAULT_COMPONENT, component_secret: str = DEFAULT_SECRET,
                 extra_components=(), privilege: bool = False, extra_hosts=(), offline: bool = False,
                 modules=(), transparent: bool = False):
        super().__init__(component_domain, component_secret, extra_components, extra_hosts)
        self.privilege = privilege
        # mod_concierge installed as config/deploy/prosody-transparent.cfg.lua says, its key
        # RELEASE_KEY in the run folder
        self.transparent = transparent
        self.offline = offline  # mod_offline: store messages for offline users (the example disables it)
        self.modules = tuple(modules)  # more of Prosody's own modules, e.g. "csi_simple", "smacks"
        self.config_path = ""

    def _config_text(self) -> str:
        text = _template("prosody.example.cfg.lua").replace("@RUNDIR@", self.rundir)
        if self.privilege:  # the grant exactly as config/deploy/prosody.cfg.lua ships it
            text = deploy_snippets.prosody_config(text, "sched.localhost", "localhost", "s3cr3t-component")
        if self.offline:
            text = text.replace('modules_disabled = { "s2s"; "offline" }', 'modules_disabled = { "s2s" }')
        if self.modules:
            text = text.replace('"roster"; "saslauth";', "".join(f"{_lua_str(m)}; " for m in self.modules)
                                + '"roster"; "saslauth";', 1)
        text = re.sub(r"c2s_ports\s*=\s*\{[^}]*\}", f"c2s_ports = {{ {self.c2s_port} }}", text)
        text = re.sub(r"component_ports\s*=\s*\{[^}]*\}", f"component_ports = {{ {self.component_port} }}", text)
        text = text.replace('"sched.localhost"', _lua_str(self.component_domain))
        text = text.replace('"s3cr3t-component"', _lua_str(self.component_secret))
        # Global options must come before the first VirtualHost/Component section.
        certs = f'certificates = {_lua_str(self.rundir + "/certs")}\n'
        text = text.replace('\nVirtualHost ', "\n" + certs + "\nVirtualHost ", 1)
        for domain, secret in self.extra_components:
            text += f"\nComponent {_lua_str(domain)}\n  component_secret = {_lua_str(secret)}\n"
        for host in self.extra_hosts:
            text += f"\nVirtualHost {_lua_str(host)}\n"
        if self.transparent:
            text = deploy_snippets.prosody_transparent(text, self.component_domain, self.domain,
                                                       self.rundir + "/plugins", self.rundir + "/concierge-release.key")
        return text

    def _log_files(self) -> list[str]:
        return [os.path.join(self.rundir, "console.log")] + [str(p) for p in Path(self.rundir, "log").glob("*.log")]

    def start(self) -> "Prosody":
        if self.proc is not None:
            return self
        _track(self)
        try:
            for attempt in range(3):
                rundir = self._make_rundir("concierge-prosody-")
                for sub in ("run", "data", "log", "certs"):
                    (rundir / sub).mkdir()
                if self.transparent:  # the module and its key where the snippet points
                    (rundir / "plugins").mkdir()
                    shutil.copy(REPO_ROOT / "xmpp/server/prosody/mod_concierge.lua", rundir / "plugins")
                    (rundir / "concierge-release.key").write_bytes(RELEASE_KEY)
                self.c2s_port, self.component_port = free_port(), free_port()
                while self.component_port == self.c2s_port:
                    self.component_port = free_port()
                self.config_path = str(rundir / "prosody.cfg.lua")
                Path(self.config_path).write_text(self._config_text())
                _chown_tree(rundir, self.user)
                self._launch()
                self._wait_ready(START_TIMEOUT)
                # Someone else may have taken a port between free_port() and Prosody's bind:
                # Prosody then logs the failure and keeps running. Try other ports.
                if "Failed to open server port" not in self.log_text():
                    return self
                self._stop_process()
                shutil.rmtree(self.rundir, ignore_errors=True)
            raise RuntimeError("Prosody could not bind free ports after 3 attempts")
        except BaseException:
            self.stop()
            raise

    def _launch(self) -> None:
        self._out = open(os.path.join(self.rundir, "console.log"), "ab")
        self.proc = subprocess.Popen(
            _as_user(self.user) + ["prosody", "-F", "--config", self.config_path],
            stdin=subprocess.DEVNULL, stdout=self._out, stderr=subprocess.STDOUT,
            cwd=self.rundir, start_new_session=True,
        )

    def prosodyctl(self, *args: str, timeout: float = 30.0) -> subprocess.CompletedProcess:
        return subprocess.run(
            _as_user(self.user) + ["prosodyctl", "--config", self.config_path, *args],
            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout, cwd=self.rundir,
        )

    def register(self, user: str, password: str, host: str | None = None) -> None:
        """Creates (or resets) user@localhost (or @host, one of extra_hosts) with this password."""
        res = self.prosodyctl("register", user, host or self.domain, password)
        if res.returncode != 0:
            raise RuntimeError(f"prosodyctl register {user} failed ({res.returncode}): {res.stdout}{res.stderr}")


class Ejabberd(_Server):
    """A private ejabberd 23.01 on loopback: own Erlang node name and distribution port, no epmd."""

    user = "ejabberd"

    def __init__(self, component_domain: str = DEFAULT_COMPONENT, component_secret: str = DEFAULT_SECRET,
                 extra_components=(), privilege: bool = False, extra_hosts=(), modules=(),
                 transparent: bool = False):
        super().__init__(component_domain, component_secret, extra_components, extra_hosts)
        self.privilege = privilege  # ejabberd's built-in mod_privilege is always in the example config
        # mod_concierge installed as config/deploy/ejabberd-transparent.yml says (contrib module),
        # its key RELEASE_KEY in the run folder
        self.transparent = transparent
        self.modules = tuple(modules)  # more of ejabberd's modules with default options, e.g. "mod_client_state"
        self.dist_port = 0
        self.ctl_config_path = ""
        self.node = ""

    @staticmethod
    def installed() -> bool:
        return shutil.which("ejabberdctl") is not None or os.path.exists("/usr/sbin/ejabberdctl")

    def _yml_text(self) -> str:
        text = _template("ejabberd.example.yml").replace("@RUNDIR@", self.rundir)
        text = text.replace("hosts:\n  - localhost\n", "hosts:\n  - localhost\n"
                            + "".join(f"  - {h}\n" for h in self.extra_hosts), 1)
        text = text.replace("modules:\n", "modules:\n" + "".join(f"  {m}: {{}}\n" for m in self.modules), 1)
        text = re.sub(r"port: 15223\b", f"port: {self.c2s_port}", text)
        text = re.sub(r"port: 15348\b", f"port: {self.component_port}", text)
        text = text.replace('"s3cr3t-component"', '"' + self.component_secret + '"')
        hosts = [(self.component_domain, "COMPONENT_SECRET")] + [
            (d, '"' + s + '"') for d, s in self.extra_components]
        block = "".join(f'      "{d}":\n        password: {p}\n' for d, p in hosts)
        text = re.sub(r'(    hosts:\n)      "sched\.localhost":\n        password: COMPONENT_SECRET\n',
                      lambda m: m.group(1) + block, text)
        # The XEP-0356 grant exactly as config/deploy/ejabberd.yml ships it.
        return deploy_snippets.ejabberd_config(text, self.component_domain, "localhost")

    def _ctl_text(self) -> str:
        text = _template("ejabberdctl.example.cfg").replace("@RUNDIR@", self.rundir)
        text = re.sub(r"^ERLANG_NODE=.*$", f"ERLANG_NODE={self.node}", text, flags=re.M)
        text = re.sub(r"^ERL_DIST_PORT=\d+", f"ERL_DIST_PORT={self.dist_port}", text, flags=re.M)
        return text

    def _log_files(self) -> list[str]:
        return [os.path.join(self.rundir, "console.log")] + [str(p) for p in Path(self.rundir, "log").glob("*.log")]

    def start(self) -> "Ejabberd":
        if self.proc is not None:
            return self
        if not self.installed():
            raise RuntimeError("ejabberd is not installed (ejabberdctl not found)")
        _track(self)
        try:
            rundir = self._make_rundir("concierge-ejabberd-")
            for sub in ("spool", "log", "run", "contrib", "contrib/conf", "home"):
                (rundir / sub).mkdir()
            ports = set()
            while len(ports) < 3:
                ports.add(free_port())
            self.c2s_port, self.component_port, self.dist_port = sorted(ports)
            self.node = f"concierge-test-{self.dist_port}@localhost"
            (rundir / "ejabberd.yml").write_text(self._yml_text())
            self.ctl_config_path = str(rundir / "ejabberdctl.cfg")
            Path(self.ctl_config_path).write_text(self._ctl_text())
            if self.transparent:
                shutil.copytree(REPO_ROOT / "xmpp/server/ejabberd", rundir / "contrib/sources/mod_concierge")
                (rundir / "concierge-release.key").write_bytes(RELEASE_KEY)
            _chown_tree(rundir, self.user)
            self._launch()
            self._wait_ready(START_TIMEOUT)
            if self.transparent:
                self._install_concierge()
            return self
        except BaseException:
            self.stop()
            raise

    def _install_concierge(self) -> None:
        """Steps 2 and 4 of config/deploy/ejabberd-transparent.yml; a failure raises."""
        deadline = time.monotonic() + 20  # the ctl interface answers slightly after c2s accepts
        while True:
            res = self.ejabberdctl("module_install", "mod_concierge", timeout=120)
            if res.returncode == 0 or time.monotonic() > deadline or "nodedown" not in res.stdout + res.stderr:
                break
            time.sleep(0.3)
        if res.returncode != 0:
            raise RuntimeError(f"ejabberdctl module_install mod_concierge failed ({res.returncode}):\n"
                               f"{res.stdout}{res.stderr}\n{self.log_text()}")
        yml = Path(self.rundir, "ejabberd.yml")
        yml.write_text(deploy_snippets.ejabberd_transparent(yml.read_text(), self.component_domain, self.domain,
                                                            self.rundir + "/concierge-release.key"))
        _chown_tree(Path(self.rundir), self.user)
        res = self.ejabberdctl("reload_config")
        if res.returncode != 0:
            raise RuntimeError(f"ejabberdctl reload_config failed ({res.returncode}):\n{res.stdout}{res.stderr}\n"
                               f"{self.log_text()}")

    def _env(self) -> dict:
        env = dict(os.environ)
        env["HOME"] = os.path.join(self.rundir, "home")  # the Erlang VM wants a writable HOME
        return env

    def _launch(self) -> None:
        self._out = open(os.path.join(self.rundir, "console.log"), "ab")
        self.proc = subprocess.Popen(
            _as_user(self.user) + ["ejabberdctl", "-c", self.ctl_config_path, "foreground"],
            stdin=subprocess.DEVNULL, stdout=self._out, stderr=subprocess.STDOUT,
            cwd=self.rundir, env=self._env(), start_new_session=True,
        )

    def ejabberdctl(self, *args: str, timeout: float = 60.0) -> subprocess.CompletedProcess:
        return subprocess.run(
            _as_user(self.user) + ["ejabberdctl", "-c", self.ctl_config_path, *args],
            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout,
            cwd=self.rundir, env=self._env(),
        )

    def register(self, user: str, password: str, host: str | None = None) -> None:
        # ejabberd accepts c2s connections slightly before the ctl interface answers: retry briefly.
        deadline = time.monotonic() + 20
        while True:
            res = self.ejabberdctl("register", user, host or self.domain, password)
            if res.returncode == 0 or "already registered" in (res.stdout + res.stderr):
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"ejabberdctl register {user} failed ({res.returncode}): {res.stdout}{res.stderr}")
            time.sleep(0.3)
