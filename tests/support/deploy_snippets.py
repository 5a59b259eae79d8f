# SPDX-License-Identifier: MIT
"""The server snippets of config/deploy/ as the test servers load them.

The e2e servers take their XEP-0356 grant from the shipped snippets, not from a test-only copy:
a snippet that grants nothing (or too much) fails the tests that need the grant. Only the
example names are replaced: the snippet's component domain, served domain and secret become the
test server's.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

DEPLOY_DIR = Path(__file__).resolve().parents[2] / "config" / "deploy"
EXAMPLE_COMPONENT = "concierge.example.org"
EXAMPLE_DOMAIN = "example.org"
EXAMPLE_SECRET = "change-me"


def _renamed(text: str, component: str, domain: str, secret: str) -> str:
    marker = "\0component\0"
    text = text.replace(EXAMPLE_COMPONENT, marker).replace(EXAMPLE_DOMAIN, domain)
    return text.replace(marker, component).replace(EXAMPLE_SECRET, secret)


def prosody_config(base: str, component: str, domain: str, secret: str) -> str:
    """`base` (a Prosody config ending with the component's own section) with that section
    replaced by the shipped prosody.cfg.lua, as an admin adds it."""
    cut = re.search(r'\nComponent "[^"]+"\n(?:[ \t]+[^\n]*\n)*\Z', base)
    if not cut:
        raise ValueError("the Prosody base config does not end with its Component section")
    snippet = (DEPLOY_DIR / "prosody.cfg.lua").read_text()
    return base[:cut.start()] + "\n" + _renamed(snippet, component, domain, secret)


def ejabberd_config(base: str, component: str, domain: str) -> str:
    """`base` (ejabberd.yml text) with the shipped ejabberd.yml's XEP-0356 grant merged in: its
    acl and access_rules entries added, its mod_privilege replacing the base's."""
    snippet = yaml.safe_load(_renamed((DEPLOY_DIR / "ejabberd.yml").read_text(), component, domain, "x"))
    config = yaml.safe_load(base)
    for key in ("acl", "access_rules"):
        config.setdefault(key, {}).update(snippet[key])
    config.setdefault("modules", {})["mod_privilege"] = snippet["modules"]["mod_privilege"]
    return yaml.safe_dump(config, sort_keys=False)


def prosody_transparent(base: str, component: str, domain: str, plugin_dir: str, key_file: str) -> str:
    """`base` with the shipped prosody-transparent.cfg.lua applied as its comments say: its global
    lines (plugin_paths) before the first VirtualHost, its VirtualHost options into `domain`'s
    section. The example plugin folder and key file become `plugin_dir` and `key_file`."""
    snippet = (DEPLOY_DIR / "prosody-transparent.cfg.lua").read_text()
    snippet = snippet.replace('"/usr/share/concierge/prosody"', '"' + plugin_dir + '"')
    snippet = snippet.replace('"/etc/prosody/concierge-release.key"', '"' + key_file + '"')
    globals_part, vhost_part = snippet.split(f'VirtualHost "{EXAMPLE_DOMAIN}"\n', 1)
    globals_part = _renamed(globals_part, component, domain, "x")
    vhost_part = _renamed(vhost_part, component, domain, "x")
    head = f'\nVirtualHost "{domain}"\n'
    if head not in base:
        raise ValueError(f"the Prosody base config has no VirtualHost {domain}")
    return base.replace(head, "\n" + globals_part + head + vhost_part, 1)


def ejabberd_transparent(base: str, component: str, domain: str, key_file: str) -> str:
    """`base` (ejabberd.yml text) with the shipped ejabberd-transparent.yml's modules merged in,
    the example key file replaced by `key_file`."""
    text = _renamed((DEPLOY_DIR / "ejabberd-transparent.yml").read_text(), component, domain, "x")
    snippet = yaml.safe_load(text.replace("/etc/ejabberd/concierge-release.key", key_file))
    config = yaml.safe_load(base)
    config.setdefault("modules", {}).update(snippet["modules"])
    return yaml.safe_dump(config, sort_keys=False)
