# SPDX-License-Identifier: MIT
"""A private Prosody with s2s on loopback, for tests with two server domains: its own domain
(not "localhost"), an s2s listener on a free loopback port, dialback without TLS, and
mod_loopback_s2s (prosody_plugins/) sending s2s for the other test servers' domains to their
ports on 127.0.0.1. Owns only its config's s2s part; starting and stopping are Prosody's."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

try:
    from .process_tracking import REPO_ROOT, free_port
    from .server_templates import _lua_str
    from .xmpp_servers import Prosody
except ImportError:  # loaded as a top-level module (sys.path holds tests/support)
    from process_tracking import REPO_ROOT, free_port
    from server_templates import _lua_str
    from xmpp_servers import Prosody

PLUGIN = REPO_ROOT / "tests" / "support" / "prosody_plugins" / "mod_loopback_s2s.lua"


class S2SProsody(Prosody):
    """Prosody serving `domain`, reachable over s2s at `s2s_port` (chosen now, so that peers can
    be told before either starts). `routes` maps the peers' domains (users' and components')
    to their s2s ports; fill it before start()."""

    def __init__(self, domain: str, **kwargs):
        super().__init__(**kwargs)
        self.domain = domain
        self.s2s_port = free_port()
        self.routes: dict[str, int] = {}

    def route_to(self, peer: "S2SProsody") -> None:
        """s2s for the peer's domain and its component's goes to the peer."""
        self.routes[peer.domain] = peer.s2s_port
        self.routes[peer.component_domain] = peer.s2s_port

    def _config_text(self) -> str:
        text = super()._config_text()
        # The module in the run folder's plugins/, where a transparent server has mod_concierge
        # (start() hands the folder to user prosody after writing the config; the source tree
        # may not be readable to that user). One plugin_paths: a second would replace the first.
        plugins = Path(self.rundir, "plugins")
        plugins.mkdir(exist_ok=True)
        shutil.copy(PLUGIN, plugins)
        text = text.replace('modules_disabled = { "s2s"; "offline" }', 'modules_disabled = { "offline" }')
        text = re.sub(r"s2s_ports\s*=\s*\{[^}]*\}",
                      f's2s_ports = {{ {self.s2s_port} }}\ns2s_interfaces = {{ "127.0.0.1" }}', text)
        text = text.replace('"roster"; "saslauth";', '"dialback"; "loopback_s2s"; "roster"; "saslauth";', 1)
        routes = "; ".join(f"[{_lua_str(d)}] = {p}" for d, p in sorted(self.routes.items()))
        options = ("" if self.transparent else f"plugin_paths = {{ {_lua_str(str(plugins))} }}\n")
        options += ("s2s_require_encryption = false  -- loopback test only: dialback, no certificates\n"
                    "s2s_secure_auth = false\n"
                    f"loopback_s2s_routes = {{ {routes} }}\n")
        text = text.replace("\nVirtualHost ", "\n" + options + "\nVirtualHost ", 1)
        text = text.replace('VirtualHost "localhost"', f"VirtualHost {_lua_str(self.domain)}")
        return text
