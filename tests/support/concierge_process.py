# SPDX-License-Identifier: MIT
"""The Concierge process for the tests, the demo and the benchmark: its config written from
arguments, started against a server from xmpp_servers.py, its log watched, reloaded, stopped
(see prosody.py for the whole harness); and the proxy JIDs users write to. Owns its process and
run folder; it does not start servers."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

try:
    from .process_tracking import REPO_ROOT, STOP_TIMEOUT, _live_lock, _terminate, _tmp_dirs, _track, _untrack
except ImportError:  # loaded as a top-level module (sys.path holds tests/support)
    from process_tracking import REPO_ROOT, STOP_TIMEOUT, _live_lock, _terminate, _tmp_dirs, _track, _untrack
try:
    from .xmpp_servers import DEFAULT_COMPONENT
except ImportError:  # loaded as a top-level module (sys.path holds tests/support)
    from xmpp_servers import DEFAULT_COMPONENT


def default_binary() -> str:
    return os.environ.get("CONCIERGE_BINARY") or str(REPO_ROOT / "build" / "concierge")


def _toml_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Concierge:
    """The component process, configured for `server` (a Prosody or Ejabberd)."""

    stops_first = True  # at interpreter exit, before the servers it talks to (process_tracking)

    def __init__(self, server, binary: str | None = None, users=("alice@localhost", "bob@localhost"),
                 extra_config: str = "", secret: str | None = None, timezone: str = "Europe/Berlin",
                 log_level: str | None = None, store_path: str | None = None,
                 store_url: str | None = None, store_password_file: str | None = None,
                 served_mode: str | None = None):
        self.server = server
        # Served domains: the server's own, plus the domains of enrolled users elsewhere (e.g. a
        # domain the server does not host, whose messages the server bounces).
        self.served = [server.domain] + sorted({u.split("@", 1)[1] for u in users} - {server.domain})
        self.binary = binary or default_binary()
        self.users = list(users)
        self.extra_config = extra_config
        self.secret = server.component_secret if secret is None else secret
        self.timezone = timezone
        self.log_level = log_level
        self.store_path = store_path  # None: concierge.db in the instance's temp folder
        self.store_url = store_url  # a PostgreSQL store instead (tests/support/postgres.py)
        self.store_password_file = store_password_file
        self.served_mode = served_mode  # [served] mode: None leaves the default ("proxy")
        self.jid = server.component_domain
        self.dir = ""
        self.config_path = ""
        self.stderr_path = ""
        self.proc: subprocess.Popen | None = None
        self._err = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        self.cleanup()
        return False

    def config_text(self) -> str:
        lines = [
            "[component]",
            f"jid = {_toml_str(self.jid)}",
            f"secret = {_toml_str(self.secret)}",
            'host = "127.0.0.1"',
            f"port = {self.server.component_port}",
            "",
            "[served]",
            f"domains = [{', '.join(_toml_str(d) for d in self.served)}]",
            *([f"mode = {_toml_str(self.served_mode)}"] if self.served_mode else []),
            "",
            "[store]",
            (f"url = {_toml_str(self.store_url)}" if self.store_url else
             f"path = {_toml_str(self.store_path or os.path.join(self.dir, 'concierge.db'))}"),
            "",
        ]
        if self.store_url and self.store_password_file:
            lines[-1:] = [f"password_file = {_toml_str(self.store_password_file)}", ""]
        if self.log_level:
            lines += ["[log]", f"level = {_toml_str(self.log_level)}", ""]
        for user in self.users:
            lines += [f"[users.{_toml_str(user)}]", f"timezone = {_toml_str(self.timezone)}", ""]
        return "\n".join(lines) + "\n" + self.extra_config + ("\n" if self.extra_config else "")

    def write_config(self) -> str:
        if not self.dir:
            self.dir = tempfile.mkdtemp(prefix="concierge-run-")
            with _live_lock:
                _tmp_dirs.add(self.dir)
        self.config_path = os.path.join(self.dir, "concierge.toml")
        Path(self.config_path).write_text(self.config_text())
        return self.config_path

    def start(self, wait_connected: bool = True, timeout: float = 10) -> "Concierge":
        """Starts (or, after stop() or a kill, restarts) the process. With wait_connected, waits
        for a new "connected to" line: stderr is appended to across restarts."""
        if not os.access(self.binary, os.X_OK):
            raise FileNotFoundError(f"Concierge binary not found or not executable: {self.binary} "
                                    "(build it, or set CONCIERGE_BINARY)")
        self.write_config()
        self.stderr_path = os.path.join(self.dir, "concierge.stderr")
        connected_before = self.count_log("connected to") if os.path.exists(self.stderr_path) else 0
        if self._err is not None:
            self._err.close()
        self._err = open(self.stderr_path, "ab")
        prefix = ["setpriv", "--pdeathsig", "SIGTERM", "--"] if shutil.which("setpriv") else []
        _track(self)
        self.proc = subprocess.Popen(prefix + [self.binary, "--config", self.config_path],
                                     stdin=subprocess.DEVNULL, stdout=self._err, stderr=self._err,
                                     cwd=self.dir)
        if wait_connected and not self.wait_log("connected to", timeout, count=connected_before + 1):
            code = self.stop()
            raise RuntimeError(f"Concierge did not log 'connected to' within {timeout}s "
                               f"(exit {code}); stderr:\n{self.stderr_text()}")
        return self

    def reload(self, users=None, extra_config: str | None = None) -> None:
        """Rewrites the config (new [users] and/or extra_config) and sends SIGHUP. The reload is
        asynchronous: wait for its observable effect."""
        if users is not None:
            self.users = list(users)
        if extra_config is not None:
            self.extra_config = extra_config
        tmp = self.config_path + ".new"
        Path(tmp).write_text(self.config_text())
        os.replace(tmp, self.config_path)  # never let the process read a half-written file
        if not self.running:
            raise RuntimeError("Concierge is not running")
        self.proc.send_signal(signal.SIGHUP)

    def check_config(self, path: str | None = None, timeout: float = 30) -> subprocess.CompletedProcess:
        """Runs `concierge --check-config` on `path` (default: this instance's config, written first)."""
        if path is None:
            path = self.write_config()
        return subprocess.run([self.binary, "--check-config", path], stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=timeout)

    def stderr_text(self) -> str:
        if not self.stderr_path:
            return ""
        try:
            return Path(self.stderr_path).read_text(errors="replace")
        except OSError:
            return ""

    def count_log(self, substring: str) -> int:
        return self.stderr_text().count(substring)

    def wait_log(self, substring: str, timeout: float, count: int = 1) -> bool:
        """True once stderr holds `substring` at least `count` times; False on timeout or exit."""
        deadline = time.monotonic() + timeout
        while True:
            if self.count_log(substring) >= count:
                return True
            if self.proc is None or self.proc.poll() is not None:
                return self.count_log(substring) >= count
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)

    def wait_schedules(self, jid: str, timeout: float) -> bool:
        """True once `jid`'s schedule is compiled: named alone ("schedule of JID compiled") or
        within a batch at startup or reload ("compiled schedules of N users")."""
        deadline = time.monotonic() + timeout
        while True:
            if self.count_log(f"schedule of {jid} compiled") or self.count_log("compiled schedules of"):
                return True
            if self.proc is None or self.proc.poll() is not None or time.monotonic() > deadline:
                return False
            time.sleep(0.02)

    def wait_exit(self, timeout: float) -> int | None:
        """The exit code once the process ended by itself, None if still running after timeout."""
        if self.proc is None:
            return None
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = STOP_TIMEOUT) -> int | None:
        """SIGTERM, bounded wait (SIGKILL after it); returns the exit code."""
        code = _terminate(self.proc, timeout)
        if self._err is not None:
            self._err.close()
            self._err = None
        _untrack(self)
        return code

    def cleanup(self) -> None:
        """Removes the temp folder (config, store, stderr); call after reading what you need."""
        if self.running:
            self.stop()
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            with _live_lock:
                _tmp_dirs.discard(self.dir)
            self.dir = ""


# ---------------------------------------------------------------------------------------------
# addresses

_ESCAPES = {" ": "\\20", '"': "\\22", "&": "\\26", "'": "\\27", "/": "\\2f", ":": "\\3a",
            "<": "\\3c", ">": "\\3e", "@": "\\40", "\\": "\\5c"}


def escape_node(node: str) -> str:
    """XEP-0106 escaping of a string for use as a localpart."""
    out = []
    for i, ch in enumerate(node):
        if ch == "\\":
            # Only a backslash that starts one of the escape sequences must itself be escaped.
            seq = node[i:i + 3].lower()
            out.append("\\5c" if seq in _ESCAPES.values() else "\\")
        else:
            out.append(_ESCAPES.get(ch, ch))
    return "".join(out)


def proxy(jid: str, component: str = DEFAULT_COMPONENT) -> str:
    """The proxy JID through which one reaches bare `jid`: bob@localhost → bob\\40localhost@component."""
    bare = jid.split("/", 1)[0]
    return f"{escape_node(bare)}@{component}"
