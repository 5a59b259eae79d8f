# SPDX-License-Identifier: MIT
"""Process bookkeeping for the test harness (prosody.py): every server and Concierge process the
harness starts is tracked here and stopped at interpreter exit; free loopback ports; running a
command as a system user; terminating a process (group) within a bound. Owns the set of live
objects; knows nothing of what they run."""

from __future__ import annotations

import atexit
import os
import pwd
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

START_TIMEOUT = 20.0  # seconds a server may take to accept on both ports (Prosody ~0.1 s, ejabberd ~1.5 s)
STOP_TIMEOUT = 10.0  # seconds after SIGTERM before SIGKILL


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
    # Concierge first (it talks to the servers; its class says stops_first), then the servers.
    objs.sort(key=lambda o: 0 if getattr(o, "stops_first", False) else 1)
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
