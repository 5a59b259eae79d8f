# SPDX-License-Identifier: MIT
"""A fake Concierge for the server extensions' e2e tests: a XEP-0114 component (slixmpp) that
speaks the divert protocol of xmpp/server/PROTOCOL.md and records what the extension sends.

    fake = FakeConcierge(server, "concierge.localhost", secret).connect()
    fake.push_enrolled(["bob@localhost"], generation=1)
    fake.policy = "held"          # deliver | held | held-wrong-token | refuse | silent | error
    fake.grant = '<pass scope="sender" ttl="60000"/>'   # inside each <deliver/> while set
    divert = fake.wait_divert(lambda d: d.message.get("id") == "m1")
    fake.release(divert)          # -> the extension's answer (an iq element)

It shares the event loop of xmpp_clients; every wait is bounded.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import threading
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from xml.sax.saxutils import quoteattr

import slixmpp
from slixmpp.xmlstream import tostring

try:
    from . import xmpp_clients
except ImportError:  # loaded as a top-level module
    import xmpp_clients

NS = "urn:concierge:divert:0"
NS_FORWARD = "urn:xmpp:forward:0"
NS_CLIENT = "jabber:client"


def release_token(key: bytes, divert_id: str, frm: str, to: str, msg_id: str) -> str:
    """The token of PROTOCOL.md, computed independently of the extensions."""
    data = "\0".join([divert_id, frm, to, msg_id]).encode()
    return hmac.new(key, data, hashlib.sha256).hexdigest()


@dataclass
class Divert:
    id: str
    token: str
    message: ET.Element  # the forwarded <message/> (jabber:client)
    host: str  # the extension's domain (the iq's from)
    at: float  # monotonic time of arrival


class FakeConcierge:
    def __init__(self, server, domain: str, secret: str):
        self.server = server
        self.domain = domain
        self.secret = secret
        self.policy = "deliver"
        self.grant = ""  # XML put inside <deliver/> (a <pass/>, PROTOCOL.md "Passes"); "" for none
        self.refusal = ("cancel", "not-acceptable", "bob does not take messages from you")
        self.diverts: list[Divert] = []
        self.reports: list[ET.Element] = []
        self.cancels: list[str] = []
        self._answers: dict[str, ET.Element] = {}
        self._cond = threading.Condition()
        self._started = threading.Event()
        self._ids = 0
        self._xmpp = None

    # -- lifecycle
    def connect(self, timeout: float = 10.0) -> "FakeConcierge":
        loop = xmpp_clients._shared_loop()
        self._started.clear()

        def create():
            self._xmpp = slixmpp.ComponentXMPP(self.domain, self.secret, "127.0.0.1", self.server.component_port)
            self._xmpp.add_event_handler("session_start", lambda _e: self._started.set())
            self._xmpp.add_filter("in", self._on_stanza)
            self._xmpp.connect()
        loop.call(create)
        if not self._started.wait(timeout):
            self.disconnect()
            raise ConnectionError(f"fake Concierge {self.domain} could not connect to port {self.server.component_port}")
        return self

    def disconnect(self, timeout: float = 5.0) -> None:
        xmpp, self._xmpp = self._xmpp, None
        if xmpp is None:
            return
        done = threading.Event()
        xmpp.add_event_handler("disconnected", lambda _e: done.set())
        xmpp_clients._shared_loop().call(lambda: xmpp.disconnect(wait=1.0))
        if not done.wait(timeout):
            xmpp_clients._shared_loop().call(xmpp.abort)

    # -- receiving
    def _on_stanza(self, st):
        el = st.xml
        kind = xmpp_clients.local(el.tag)
        if kind == "iq" and el.get("type") in ("result", "error"):
            with self._cond:
                self._answers[el.get("id")] = el
                self._cond.notify_all()
            return None
        payload = el[0] if len(el) else None
        if payload is None or not payload.tag.startswith("{" + NS + "}"):
            return st
        name = xmpp_clients.local(payload.tag)
        if kind == "message" and name == "report":
            with self._cond:  # one message may carry several (PROTOCOL.md "Report")
                self.reports.extend(r for r in el if r.tag == f"{{{NS}}}report")
                self._cond.notify_all()
        elif kind == "iq" and name == "divert":
            fwd = payload.find(f"{{{NS_FORWARD}}}forwarded")
            msg = fwd.find(f"{{{NS_CLIENT}}}message") if fwd is not None else None
            d = Divert(payload.get("id"), payload.get("token"), msg, el.get("from"), time.monotonic())
            with self._cond:
                self.diverts.append(d)
                self._cond.notify_all()
            self._answer_divert(el, d)
        elif kind == "iq" and name == "cancel":
            with self._cond:
                self.cancels.append(payload.get("id"))
                self._cond.notify_all()
            self._send(f"<iq type='result' id={quoteattr(el.get('id'))} from={quoteattr(self.domain)} "
                       f"to={quoteattr(el.get('from'))}/>")
        return None  # ours: slixmpp must not answer it

    def _answer_divert(self, iq: ET.Element, d: Divert) -> None:
        if self.policy == "silent":
            return
        head = f"<iq id={quoteattr(iq.get('id'))} from={quoteattr(self.domain)} to={quoteattr(iq.get('from'))}"
        if self.policy == "error":
            self._send(head + " type='error'><error type='wait'><internal-server-error "
                       "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>")
            return
        if self.policy == "deliver":
            decision = f"<deliver>{self.grant}</deliver>" if self.grant else "<deliver/>"
        elif self.policy == "held":
            decision = f"<held token={quoteattr(d.token)}/>"
        elif self.policy == "held-wrong-token":  # a component that could never release it
            decision = f"<held token={quoteattr('0' * len(d.token))}/>"
        else:
            kind, condition, text = self.refusal
            decision = f"<refuse type={quoteattr(kind)} condition={quoteattr(condition)}>{text}</refuse>"
        self._send(head + f" type='result'><verdict xmlns='{NS}' id={quoteattr(d.id)}>{decision}</verdict></iq>")

    def _send(self, xml: str) -> None:
        xmpp = self._xmpp
        if xmpp is None:
            raise ConnectionError("fake Concierge is not connected")
        loop = xmpp_clients._shared_loop()
        if threading.current_thread() is loop.thread:  # answering from inside a filter
            xmpp.send_raw(xml)
        else:
            loop.call(xmpp.send_raw, xml)

    def _wait(self, find, timeout: float, what: str):
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                got = find()
                if got is not None:
                    return got
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"fake Concierge: no {what} within {timeout}s "
                                         f"({len(self.diverts)} diverts, {len(self.reports)} reports)")
                self._cond.wait(left)

    def wait_divert(self, predicate, timeout: float = 10.0) -> Divert:
        return self._wait(lambda: next((d for d in self.diverts if predicate(d)), None), timeout, "divert")

    def wait_report(self, predicate, timeout: float = 10.0) -> ET.Element:
        return self._wait(lambda: next((r for r in self.reports if predicate(r)), None), timeout, "report")

    def wait_cancel(self, divert_id: str, timeout: float = 10.0) -> str:
        return self._wait(lambda: divert_id if divert_id in self.cancels else None, timeout, f"cancel of {divert_id}")

    # -- sending
    def iq(self, to: str, type: str, payload: str, timeout: float = 10.0) -> ET.Element:
        """Sends an iq to `to` and returns its answer (result or error)."""
        self._ids += 1
        iid = f"fake-{self._ids}-{int(time.time() * 1000) % 100000}"
        self._send(f"<iq type={quoteattr(type)} id={quoteattr(iid)} from={quoteattr(self.domain)} "
                   f"to={quoteattr(to)}>{payload}</iq>")
        return self._wait(lambda: self._answers.get(iid), timeout, f"answer to iq {iid}")

    def push_enrolled(self, users, generation: int, host: str = "localhost", chunk_size: int = 1000) -> None:
        users = list(users)
        chunks = [users[i:i + chunk_size] for i in range(0, len(users), chunk_size)] or [[]]
        for n, chunk in enumerate(chunks, 1):
            items = "".join(f"<user jid={quoteattr(u)}/>" for u in chunk)
            answer = self.iq(host, "set", f"<enrolled xmlns='{NS}' generation='{generation}' chunk='{n}' "
                                          f"chunks='{len(chunks)}'>{items}</enrolled>")
            if answer.get("type") != "result":
                raise AssertionError(f"enrolled push refused: {ET.tostring(answer, encoding='unicode')}")

    def enrolled_generation(self, host: str = "localhost") -> tuple[int, int]:
        answer = self.iq(host, "get", f"<enrolled xmlns='{NS}'/>")
        el = answer.find(f"{{{NS}}}enrolled")
        if answer.get("type") != "result" or el is None:
            raise AssertionError(f"enrolled query failed: {ET.tostring(answer, encoding='unicode')}")
        return int(el.get("generation")), int(el.get("count"))

    def revoke(self, passes, host: str = "localhost") -> ET.Element:
        """Revokes passes, each (target, sender) or (target, None) for the any pass; the answer."""
        items = "".join(f"<pass to={quoteattr(to)}" + (f" from={quoteattr(frm)}" if frm else "") + "/>"
                        for to, frm in passes)
        return self.iq(host, "set", f"<revoke xmlns='{NS}'>{items}</revoke>")

    def release(self, d: Divert, token: str | None = None, stamp: str = "2026-01-01T00:00:00Z") -> ET.Element:
        """Hands a held divert back (with Concierge's delay stamp); the extension's answer."""
        msg = copy.deepcopy(d.message)
        ET.SubElement(msg, "{urn:xmpp:delay}delay", {"from": self.domain, "stamp": stamp})
        inner = tostring(msg)  # default namespaces (xmlns=...), as servers expect
        payload = (f"<release xmlns='{NS}' id={quoteattr(d.id)} token={quoteattr(token or d.token)}>"
                   f"<forwarded xmlns='{NS_FORWARD}'>{inner}</forwarded></release>")
        return self.iq(d.host, "set", payload)
