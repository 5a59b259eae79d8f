# SPDX-License-Identifier: MIT
"""A private ejabberd with s2s on loopback, for tests with two server domains (the ejabberd twin
of s2s_prosody.py): an ejabberd_s2s_in listener on a free loopback port, mod_s2s_dialback without
TLS, and outgoing s2s sent to the one peer's port on 127.0.0.1.

ejabberd 23.01 resolves a peer's name with getaddrinfo (p1_xmpp's xmpp_stream_out), which reads
only the machine's /etc/hosts and DNS. So that the test never edits the machine's files, the
Erlang VM runs in a mount namespace of its own (`unshare -m`, as root) in which the run folder's
`hosts` file is bind-mounted over /etc/hosts: there, and only there, the peer's domains are
127.0.0.1. Owns only its config's s2s part and that namespace; starting and stopping are
ejabberd's."""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

import yaml

try:
    from .process_tracking import _as_user, free_port
    from .xmpp_servers import Ejabberd
except ImportError:  # loaded as a top-level module (sys.path holds tests/support)
    from process_tracking import _as_user, free_port
    from xmpp_servers import Ejabberd


class S2SEjabberd(Ejabberd):
    """ejabberd serving "localhost", reachable over s2s at `s2s_port` (chosen now, so that peers
    can be told before either starts). `routes` maps the peers' domains (users' and components')
    to their s2s ports; ejabberd has one outgoing s2s port, so every peer must share it. Fill it
    (route_to) before start()."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.s2s_port = free_port()
        self.routes: dict[str, int] = {}

    @staticmethod
    def can_isolate_hosts() -> bool:
        return os.geteuid() == 0

    def route_to(self, peer) -> None:
        """s2s for the peer's domain and its component's goes to the peer."""
        self.routes[peer.domain] = peer.s2s_port
        self.routes[peer.component_domain] = peer.s2s_port

    def _yml_text(self) -> str:
        config = yaml.safe_load(super()._yml_text())
        ports = set(self.routes.values())
        if len(ports) > 1:
            raise ValueError(f"ejabberd has one outgoing s2s port; the peers use {sorted(ports)}")
        config["listen"].append({"port": self.s2s_port, "ip": "127.0.0.1", "module": "ejabberd_s2s_in"})
        config["s2s_use_starttls"] = False  # loopback test only: dialback, no certificates
        config["s2s_access"] = "all"
        if ports:
            config["outgoing_s2s_port"] = ports.pop()
            config["outgoing_s2s_families"] = ["ipv4"]
        config["modules"]["mod_s2s_dialback"] = {}
        return yaml.safe_dump(config, sort_keys=False)

    def _hosts_path(self) -> Path:
        path = Path(self.rundir, "hosts")
        names = " ".join(sorted(self.routes))
        path.write_text("127.0.0.1 localhost\n" + (f"127.0.0.1 {names}\n" if names else ""))
        return path

    def _launch(self) -> None:
        if not self.can_isolate_hosts():
            raise RuntimeError("S2SEjabberd needs root (a mount namespace with its own /etc/hosts)")
        self._out = open(os.path.join(self.rundir, "console.log"), "ab")
        command = ["ejabberdctl", "-c", self.ctl_config_path, "foreground"]
        inner = (f"mount --bind {shlex.quote(str(self._hosts_path()))} /etc/hosts && exec "
                 + " ".join(shlex.quote(a) for a in _as_user(self.user) + command))
        self.proc = subprocess.Popen(
            ["unshare", "--mount", "--propagation", "private", "sh", "-c", inner],
            stdin=subprocess.DEVNULL, stdout=self._out, stderr=subprocess.STDOUT, cwd=self.rundir,
            env=self._env(), start_new_session=True)
