# SPDX-License-Identifier: MIT
"""The loopback server configs of STACK.md the test servers start from (xmpp_servers.py):
verbatim copies of the stack's *.example.* files, or the files in CONCIERGE_STACK_DIR when it is
set. Text only; nothing here starts a process."""

from __future__ import annotations

import os
from pathlib import Path

# The working loopback configs of STACK.md: the embedded copies below unless CONCIERGE_STACK_DIR names
# a folder of them (tests read nothing outside the repository by default).
STACK_DIR = Path(os.environ.get("CONCIERGE_STACK_DIR", "") or "/nonexistent")


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
