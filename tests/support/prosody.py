# SPDX-License-Identifier: MIT
"""Real XMPP servers and the Concierge process for end-to-end tests, the demo and the benchmark.

Everything here is bounded in time and cleans up after itself: every process is stopped and every
temp folder removed by stop(), by the context managers, and at interpreter exit (atexit). Ports are
chosen free per instance, never fixed, so several runs can share a machine.

    with Prosody() as server:
        server.register("alice", "pw")
        with Concierge(server) as concierge:   # started, "connected to" seen
            ...

Servers are started as their own system user (Prosody 0.12 refuses root; ejabberd runs as user
ejabberd) from the loopback configs of STACK.md (the copies embedded below, or the folder named by
CONCIERGE_STACK_DIR), so starting a server needs root (or being that user).

Children get a parent-death signal (SIGTERM) so a killed test leaves no server behind. Linux sends
it when the *thread* that started the child exits: start servers and Concierge from a thread that
outlives them (the main thread), not from a short-lived worker thread.

Environment: CONCIERGE_BINARY (default build/concierge), CONCIERGE_STACK_DIR, CONCIERGE_KEEP_TMP.
"""

from __future__ import annotations

import atexit
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

try:
    from . import deploy_snippets
except ImportError:  # loaded as a top-level module (sys.path holds tests/support)
    import deploy_snippets

REPO_ROOT = Path(__file__).resolve().parents[2]
# The working loopback configs of STACK.md: the embedded copies below unless CONCIERGE_STACK_DIR names
# a folder of them (tests read nothing outside the repository by default).
STACK_DIR = Path(os.environ.get("CONCIERGE_STACK_DIR", "") or "/nonexistent")

DEFAULT_COMPONENT = "sched.localhost"
DEFAULT_SECRET = "s3cr3t-component"
RELEASE_KEY = b"e2e-release-key-0123456789abcdef"  # mod_concierge's key in transparent servers

START_TIMEOUT = 20.0  # seconds a server may take to accept on both ports (Prosody ~0.1 s, ejabberd ~1.5 s)
STOP_TIMEOUT = 10.0  # seconds after SIGTERM before SIGKILL

# ---------------------------------------------------------------------------------------------
# process bookkeeping


_live: set = set()  # objects with a stop() that must run at exit
_live_lock = threading.Lock()


def _track(obj) -> None:
    with _live_lock:
        _live.add(obj)


def _untrack(obj) -> None:
    with _live_lock:
        _live.discard(obj)


_tmp_dirs: set = set()  # Concierge temp folders not yet removed by cleanup()


@atexit.register
def _stop_everything() -> None:
    with _live_lock:
        objs = list(_live)
        dirs = list(_tmp_dirs)
    # Concierge first (it talks to the servers), then the servers.
    objs.sort(key=lambda o: 0 if isinstance(o, Concierge) else 1)
    for obj in objs:
        try:
            obj.stop()
        except Exception:  # noqa: BLE001 - best effort at exit
            pass
    if not os.environ.get("CONCIERGE_KEEP_TMP"):  # set it to keep Concierge's config and stderr
        for d in dirs:
            shutil.rmtree(d, ignore_errors=True)


def free_port() -> int:
    """An unused TCP port on 127.0.0.1 (the kernel's pick; may race with other processes)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _as_user(user: str) -> list[str]:
    """Command prefix that runs the rest as `user` (and dies with us when we are root)."""
    if os.geteuid() != 0:
        if pwd.getpwuid(os.geteuid()).pw_name == user:
            return []
        raise RuntimeError(f"must run as root or as user {user} to start the server")
    return ["setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups", "--pdeathsig", "SIGTERM", "--"]


def _chown_tree(path: Path, user: str) -> None:
    if os.geteuid() != 0:
        return
    pw = pwd.getpwnam(user)
    for root, dirs, files in os.walk(path):
        os.chown(root, pw.pw_uid, pw.pw_gid)
        for name in files:
            os.chown(os.path.join(root, name), pw.pw_uid, pw.pw_gid)


def _terminate(proc: subprocess.Popen | None, timeout: float = STOP_TIMEOUT, group: bool = False) -> int | None:
    """SIGTERM, wait bounded, SIGKILL. Returns the exit code (negative for a signal)."""
    if proc is None:
        return None
    if proc.poll() is None:
        try:
            if group:
                os.killpg(proc.pid, signal.SIGTERM)
            else:
                proc.send_signal(signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            try:
                if group:
                    os.killpg(proc.pid, signal.SIGKILL)
                else:
                    proc.kill()
            except ProcessLookupError:
                pass
            proc.wait(5)
    if group:  # the rest of the group (e.g. the Erlang VM after its wrapper shell exited)
        deadline = time.monotonic() + timeout
        while _group_alive(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    return proc.returncode


def _group_alive(pgid: int) -> bool:
    """True while a live (non-zombie) process is in process group `pgid`."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def _lua_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'



# Verbatim copies of the stack's *.example.* configs (STACK.md), used unless CONCIERGE_STACK_DIR is
# set: the harness must work from a fresh clone.
_EMBEDDED_TEMPLATES = {
    "prosody.example.cfg.lua": """\
-- Prosody 0.12.3 (Debian bookworm) for loopback tests; @RUNDIR@ is the test run folder (owned by user prosody).
-- Test-only config: loopback only, no TLS, no s2s, no HTTP.
pidfile   = "@RUNDIR@/run/prosody.pid"   -- must be writable by user prosody
data_path = "@RUNDIR@/data"
-- Debian's prosody-modules package installs into /usr/lib/prosody/modules too: no plugin_paths needed

-- Prosody 0.12 started as root does NOT drop privileges; mod_posix aborts startup ("Danger, Will
-- Robinson!"). Start it as user prosody (setpriv, see start_prosody.sh) so pidfile, data_path and
-- log dir must be writable by that user -- or set  run_as_root = true  (not recommended).

interfaces        = { "127.0.0.1" }     -- global default listen address
c2s_ports         = { 15222 }
c2s_interfaces    = { "127.0.0.1" }
component_ports   = { 15347 }
component_interfaces = { "127.0.0.1" }
s2s_ports         = { }                 -- no s2s listener
network_settings  = { nagle = false }   -- TCP_NODELAY on accepted sockets (default nagle=true adds ~40 ms under load)

modules_enabled = {
  "roster"; "saslauth"; "disco"; "ping"; "posix"; "register";
}
modules_disabled = { "s2s"; "offline" }

authentication = "internal_hashed"      -- SCRAM-SHA-1 works without TLS
storage = "internal"
allow_registration = false              -- users are created with prosodyctl
c2s_require_encryption = false          -- loopback test only: no certs
allow_unencrypted_plain_auth = false

log = {
  { levels = { min = "info" }, to = "file", filename = "@RUNDIR@/log/prosody.log" };
  { levels = { min = "warn" }, to = "console" };
}

VirtualHost "localhost"

Component "sched.localhost"
  component_secret = "s3cr3t-component"
""",
    "prosody-privilege.example.cfg.lua": """\
-- Same as prosody.example.cfg.lua plus mod_privilege from Debian package prosody-modules (XEP-0356, urn:xmpp:privilege:2).
-- Test-only config: loopback only, no TLS, no s2s, no HTTP.
pidfile   = "@RUNDIR@/run/prosody-priv.pid"   -- must be writable by user prosody
data_path = "@RUNDIR@/priv-data"
-- Debian's prosody-modules package installs into /usr/lib/prosody/modules too: no plugin_paths needed

-- Start as user prosody (setpriv); Prosody 0.12 refuses to run as root unless run_as_root = true.

interfaces        = { "127.0.0.1" }     -- global default listen address
c2s_ports         = { 15232 }
c2s_interfaces    = { "127.0.0.1" }
component_ports   = { 15357 }
component_interfaces = { "127.0.0.1" }
s2s_ports         = { }                 -- no s2s listener
network_settings  = { nagle = false }   -- TCP_NODELAY on accepted sockets (default nagle=true adds ~40 ms under load)

modules_enabled = {
  "privilege"; "roster"; "saslauth"; "disco"; "ping"; "posix"; "register";
}
modules_disabled = { "s2s"; "offline" }

authentication = "internal_hashed"      -- SCRAM-SHA-1 works without TLS
storage = "internal"
allow_registration = false              -- users are created with prosodyctl
c2s_require_encryption = false          -- loopback test only: no certs
allow_unencrypted_plain_auth = false

log = {
  { levels = { min = "info" }, to = "file", filename = "@RUNDIR@/log/prosody-priv.log" };
  { levels = { min = "warn" }, to = "console" };
}

VirtualHost "localhost"
  -- XEP-0356 via prosody-modules (namespace urn:xmpp:privilege:2)
  privileged_entities = {
    ["sched.localhost"] = {
      roster = "both";
      message = "outgoing";
      presence = "roster";
      iq = { ["http://jabber.org/protocol/pubsub"] = "set"; };
    };
  }

Component "sched.localhost"
  component_secret = "s3cr3t-component"
  modules_enabled = { "privilege" }
""",
    "ejabberd.example.yml": """\
# ejabberd 23.01 (Debian bookworm), loopback test only; @RUNDIR@ is the test run folder (owned by user ejabberd).
hosts:
  - localhost
loglevel: info
log_rotate_count: 0
hide_sensitive_log_data: false
certfiles: []
define_macro:
  COMPONENT_SECRET: "s3cr3t-component"
listen:
  -
    port: 15223
    ip: "127.0.0.1"
    module: ejabberd_c2s
    starttls: false
    max_stanza_size: 262144
    access: c2s
  -
    port: 15348
    ip: "127.0.0.1"
    module: ejabberd_service
    hosts:
      "sched.localhost":
        password: COMPONENT_SECRET
auth_method: internal
auth_password_format: scram
acl:
  local:
    user_regexp: ""
  loopback:
    ip:
      - 127.0.0.0/8
access_rules:
  local:
    allow: local
  c2s:
    allow: all
  register:
    deny: all
shaper_rules: {}
modules:
  mod_roster: {}
  mod_disco: {}
  mod_ping: {}
  mod_privilege:
    roster:
      both: all
    message:
      outgoing: all
    presence:
      roster: all
""",
    "ejabberdctl.example.cfg": """\
# ejabberdctl settings, passed as: ejabberdctl -c THIS_FILE foreground; no epmd, Erlang distribution on loopback only.
ERLANG_NODE=concierge-test@localhost
INET_DIST_INTERFACE=127.0.0.1
ERL_DIST_PORT=15990            # no epmd: node listens on 127.0.0.1:15990 directly
ERL_OPTIONS="-env ERL_CRASH_DUMP_BYTES 0 -setcookie concierge-test-cookie"
EJABBERD_CONFIG_PATH=@RUNDIR@/ejabberd.yml
SPOOL_DIR=@RUNDIR@/spool
LOGS_DIR=@RUNDIR@/log
EJABBERD_PID_PATH=@RUNDIR@/run/ejabberd.pid
CONTRIB_MODULES_PATH=@RUNDIR@/contrib
CONTRIB_MODULES_CONF_DIR=@RUNDIR@/contrib/conf
""",
}


def _template(name: str) -> str:
    """A stack example: the file in CONCIERGE_STACK_DIR when set and present, else the embedded copy."""
    path = STACK_DIR / name
    if path.is_file():
        return path.read_text()
    return _EMBEDDED_TEMPLATES[name]


# ---------------------------------------------------------------------------------------------
# servers


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


# ---------------------------------------------------------------------------------------------
# Concierge


def default_binary() -> str:
    return os.environ.get("CONCIERGE_BINARY") or str(REPO_ROOT / "build" / "concierge")


def _toml_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Concierge:
    """The component process, configured for `server` (a Prosody or Ejabberd)."""

    def __init__(self, server, binary: str | None = None, users=("alice@localhost", "bob@localhost"),
                 extra_config: str = "", secret: str | None = None, timezone: str = "Europe/Berlin",
                 log_level: str | None = None, store_path: str | None = None,
                 store_url: str | None = None, store_password_file: str | None = None):
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
