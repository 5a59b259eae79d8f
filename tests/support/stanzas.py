# SPDX-License-Identifier: MIT
"""Stanzas as the test clients receive them (xml.etree elements with namespace-qualified tags such
as '{jabber:client}message'): the namespaces and payloads tests send, accessors, and predicates
for Client.wait_for (xmpp_clients.py). Pure functions of an element; no connection, no state."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Callable

NS_CLIENT = "jabber:client"
NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
NS_CHATSTATES = "http://jabber.org/protocol/chatstates"
NS_RECEIPTS = "urn:xmpp:receipts"
NS_DISCO_INFO = "http://jabber.org/protocol/disco#info"
NS_PING = "urn:xmpp:ping"

CHAT_ACTIVE = f'<active xmlns="{NS_CHATSTATES}"/>'
CHAT_COMPOSING = f'<composing xmlns="{NS_CHATSTATES}"/>'
RECEIPT_REQUEST = f'<request xmlns="{NS_RECEIPTS}"/>'


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def bare(jid: str | None) -> str:
    return (jid or "").split("/", 1)[0]


def child(el: ET.Element, ns: str, name: str) -> ET.Element | None:
    return el.find(f"{{{ns}}}{name}")


def body(el: ET.Element) -> str | None:
    b = child(el, NS_CLIENT, "body")
    return None if b is None else (b.text or "")


def thread(el: ET.Element) -> str | None:
    t = child(el, NS_CLIENT, "thread")
    return None if t is None else (t.text or "")


def error_condition(el: ET.Element) -> str | None:
    """The defined condition of a stanza error (e.g. 'item-not-found'), None without an error."""
    err = child(el, NS_CLIENT, "error")
    if err is None:
        return None
    for c in err:
        if c.tag.startswith("{" + NS_STANZAS + "}") and local(c.tag) != "text":
            return local(c.tag)
    return ""


def error_text(el: ET.Element) -> str | None:
    err = child(el, NS_CLIENT, "error")
    if err is None:
        return None
    t = err.find(f"{{{NS_STANZAS}}}text")
    return None if t is None else (t.text or "")


def to_string(el: ET.Element) -> str:
    return ET.tostring(el, encoding="unicode")


def stanza(kind: str | None = None, frm: str | None = None, id: str | None = None,
           type: str | None = None, where: Callable[[ET.Element], bool] | None = None
           ) -> Callable[[ET.Element], bool]:
    """A predicate: `kind` message/presence/iq; `frm` a full JID, or a bare JID matching any resource."""
    def match(el: ET.Element) -> bool:
        if kind is not None and local(el.tag) != kind:
            return False
        if frm is not None:
            got = el.get("from") or ""
            if got != frm and ("/" in frm or bare(got) != frm):
                return False
        if id is not None and el.get("id") != id:
            return False
        if type is not None and (el.get("type") or ("normal" if local(el.tag) == "message" else "")) != type:
            return False
        return where is None or where(el)
    return match


def message(frm=None, id=None, type=None, where=None):
    return stanza("message", frm, id, type, where)
