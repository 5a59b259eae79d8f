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

# The harness in parts: process_tracking.py (live processes, ports, stopping), server_templates.py
# (the STACK.md configs), xmpp_servers.py (Prosody, Ejabberd), concierge_process.py (Concierge,
# proxy JIDs). Tests import all of it from here.
try:
    from .concierge_process import Concierge, default_binary, escape_node, proxy
    from .process_tracking import REPO_ROOT, START_TIMEOUT, STOP_TIMEOUT, free_port
    from .server_templates import STACK_DIR
    from .xmpp_servers import DEFAULT_COMPONENT, DEFAULT_SECRET, RELEASE_KEY, Ejabberd, Prosody
except ImportError:  # loaded as a top-level module (sys.path holds tests/support)
    from concierge_process import Concierge, default_binary, escape_node, proxy
    from process_tracking import REPO_ROOT, START_TIMEOUT, STOP_TIMEOUT, free_port
    from server_templates import STACK_DIR
    from xmpp_servers import DEFAULT_COMPONENT, DEFAULT_SECRET, RELEASE_KEY, Ejabberd, Prosody

__all__ = ["Concierge", "DEFAULT_COMPONENT", "DEFAULT_SECRET", "Ejabberd", "Prosody", "RELEASE_KEY",
           "REPO_ROOT", "STACK_DIR", "START_TIMEOUT", "STOP_TIMEOUT", "default_binary", "escape_node",
           "free_port", "proxy"]
