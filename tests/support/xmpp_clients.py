# SPDX-License-Identifier: MIT
"""Real XMPP clients (slixmpp) for end-to-end tests and the demo, usable from plain blocking code.

All clients share one asyncio loop in a background thread. A Client records every message,
presence and iq it receives (as xml.etree elements, namespace-qualified tags such as
'{jabber:client}message') and lets the caller wait, bounded, for one that matches:

    alice = Client(server, "alice", "pw").connect()
    alice.send_message(proxy("bob@localhost"), "hi", id="m1", payload=[CHAT_ACTIVE])
    msg = bob.wait_for(message(frm=proxy("alice@localhost"), id="m1"), timeout=5)

slixmpp must come from /usr/bin/python3 (STACK.md); connections are plain TCP on loopback.
"""

from __future__ import annotations

import asyncio
import atexit
import copy
import itertools
import logging
import os
import threading
import time
import xml.etree.ElementTree as ET
from typing import Callable, Iterable
from xml.sax.saxutils import escape, quoteattr

# slixmpp warns on import and on routine events (no C stringprep, failed logins that tests cause
# on purpose); its errors still show. XMPP_CLIENT_DEBUG=1 shows everything.
logging.getLogger("slixmpp").setLevel(logging.DEBUG if os.environ.get("XMPP_CLIENT_DEBUG") else logging.ERROR)
if os.environ.get("XMPP_CLIENT_DEBUG"):
    logging.basicConfig(level=logging.DEBUG)

import slixmpp  # noqa: E402

# The stanza accessors and predicates live in stanzas.py; tests import them from here too.
try:
    from .stanzas import (NS_CLIENT, NS_STANZAS, NS_CHATSTATES, NS_RECEIPTS, NS_DISCO_INFO, NS_PING, CHAT_ACTIVE, CHAT_COMPOSING, RECEIPT_REQUEST, bare, body, child, error_condition, error_text, local, message, stanza, thread, to_string)
except ImportError:  # loaded as a top-level module (sys.path holds tests/support)
    from stanzas import (NS_CLIENT, NS_STANZAS, NS_CHATSTATES, NS_RECEIPTS, NS_DISCO_INFO, NS_PING, CHAT_ACTIVE, CHAT_COMPOSING, RECEIPT_REQUEST, bare, body, child, error_condition, error_text, local, message, stanza, thread, to_string)

DEFAULT_TIMEOUT = 10.0

# ---------------------------------------------------------------------------------------------
# the shared event loop


class _LoopThread:
    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, name="xmpp-clients-loop", daemon=True)
        self.thread.start()

    def _run(self):
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def call(self, fn: Callable, *args, timeout: float = DEFAULT_TIMEOUT):
        """Runs fn(*args) in the loop thread and returns its result (or raises its exception)."""
        async def wrapper():
            return fn(*args)
        return asyncio.run_coroutine_threadsafe(wrapper(), self.loop).result(timeout)

    def stop(self):
        """Cancels what slixmpp left running (quietly) and stops the loop."""
        async def shutdown():
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        if self.loop.is_running():
            try:
                asyncio.run_coroutine_threadsafe(shutdown(), self.loop).result(5)
            except Exception:  # noqa: BLE001
                pass
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(5)


_loop_thread: _LoopThread | None = None
_loop_lock = threading.Lock()
_clients: set = set()


def _shared_loop() -> _LoopThread:
    global _loop_thread
    with _loop_lock:
        if _loop_thread is None:
            _loop_thread = _LoopThread()
        return _loop_thread


@atexit.register
def _disconnect_everyone() -> None:
    for client in list(_clients):
        try:
            client.disconnect(timeout=2)
        except Exception:  # noqa: BLE001 - best effort at exit
            pass
    if _loop_thread is not None:
        _loop_thread.stop()


# ---------------------------------------------------------------------------------------------
# the client


class _Xmpp(slixmpp.ClientXMPP):
    """slixmpp client that records every stanza it receives into its owner."""

    def __init__(self, owner: "Client", jid: str, password: str):
        super().__init__(jid, password)
        self.owner = owner
        self.add_event_handler("session_start", lambda _e: owner._started.set())
        self.add_event_handler("failed_auth", lambda _e: owner._set_failure("authentication failed"))
        self.add_event_handler("connection_failed", lambda e: owner._set_failure(f"connection failed: {e}"))
        # Only this stream's end counts: a reconnect() must not see the previous one's.
        self.add_event_handler("disconnected", lambda _e: owner._xmpp in (self, None) and owner._disconnected.set())
        self.add_filter("in", self._record)
        self.register_plugin("xep_0352")  # sends nothing until asked; notes whether the server offers CSI

    def _record(self, st):
        if local(st.xml.tag) in ("message", "presence", "iq"):
            self.owner._on_stanza(copy.deepcopy(st.xml))
        return st


# How a client answers a subscription request, like the people behind real clients: most approve;
# many never look at the prompt (some clients never show it); some deny.
APPROVE, IGNORE, DENY = "approve", "ignore", "deny"


class Client:
    """One XMPP account connected to a server started by tests/support/prosody.py (or a port).

    `subscriptions` says how it answers subscription requests (APPROVE, IGNORE or DENY); several
    Clients of one account with different `resource`s are its phone and its desktop."""

    _ids = itertools.count(1)

    def __init__(self, server, user: str, password: str, resource: str = "e2e", host: str = "127.0.0.1",
                 port: int | None = None, domain: str | None = None, subscriptions: str = APPROVE,
                 stream_management: bool = False):
        self.domain = domain or getattr(server, "domain", "localhost")
        self.port = port or server.c2s_port
        self.host = host
        self.bare = f"{user}@{self.domain}"
        self.jid = f"{self.bare}/{resource}"
        self.password = password
        self.subscriptions = subscriptions
        self.stream_management = stream_management  # XEP-0198, so that a cut stream can be resumed
        self._sm_enabled = threading.Event()
        self._resumed = threading.Event()
        self._cond = threading.Condition()
        self._received: list[ET.Element] = []
        self._taken: set[int] = set()
        self._started = threading.Event()
        self._disconnected = threading.Event()
        self._failure: str | None = None
        self._xmpp: _Xmpp | None = None

    # -- lifecycle
    def __enter__(self):
        return self.connect()

    def __exit__(self, *exc):
        self.disconnect()
        return False

    def _set_failure(self, why: str):
        self._failure = why
        self._started.set()

    def connect(self, timeout: float = DEFAULT_TIMEOUT, presence: bool = True, show: str | None = None,
                priority: int | None = None) -> "Client":
        """Logs in (plain TCP, no TLS) and, with presence, sends initial presence (with `show` and
        `priority` when given) and waits until the server echoes it (so the account is available
        when this returns)."""
        loop = _shared_loop()

        def create():
            self._xmpp = _Xmpp(self, self.jid, self.password)
            # slixmpp approves and subscribes back on its own unless told otherwise; None: the
            # request stays unanswered (pending on the server).
            self._xmpp.auto_authorize = {APPROVE: True, IGNORE: None, DENY: False}[self.subscriptions]
            self._xmpp.auto_subscribe = self.subscriptions == APPROVE
            if self.stream_management:
                self._xmpp.register_plugin("xep_0198")
                self._xmpp.add_event_handler("sm_enabled", lambda _e: self._sm_enabled.set())
                self._xmpp.add_event_handler("session_resumed", lambda _e: self._resumed.set())
            self._xmpp.connect((self.host, self.port), force_starttls=False, disable_starttls=True)
        _clients.add(self)
        loop.call(create)
        if not self._started.wait(timeout) or self._failure:
            why = self._failure or f"no session within {timeout}s"
            self.disconnect(timeout=2)
            raise ConnectionError(f"{self.jid} could not log in to 127.0.0.1:{self.port}: {why}")
        if self.stream_management and not self._sm_enabled.wait(timeout):
            raise ConnectionError(f"{self.jid}: the server enabled no stream management (XEP-0198)")
        if presence:
            self.set_presence(show, priority, timeout=timeout)
        return self

    def cut_network(self, timeout: float = 5.0) -> None:
        """Drops the TCP connection without closing the stream, as when a phone loses its network."""
        xmpp = self._xmpp
        if xmpp is None or xmpp.transport is None:
            raise ConnectionError(f"{self.jid} is not connected")
        self._disconnected.clear()
        _shared_loop().call(lambda: xmpp.transport.abort())
        if not self._disconnected.wait(timeout):
            raise ConnectionError(f"{self.jid}: the connection did not drop within {timeout}s")

    def resume(self, timeout: float = DEFAULT_TIMEOUT) -> "Client":
        """After cut_network: connects again and resumes the stream (XEP-0198); the server resends
        what it had not seen acknowledged."""
        xmpp = self._xmpp
        if xmpp is None or not self.stream_management:
            raise ConnectionError(f"{self.jid} has no stream to resume")
        self._resumed.clear()
        self._disconnected.clear()
        _shared_loop().call(lambda: xmpp.connect((self.host, self.port), force_starttls=False,
                                                 disable_starttls=True))
        if not self._resumed.wait(timeout):
            raise ConnectionError(f"{self.jid}: the stream was not resumed within {timeout}s")
        return self

    @property
    def connected(self) -> bool:
        """Logged in and the stream not closed since (a server restart closes it)."""
        return self._xmpp is not None and self._started.is_set() and not self._failure \
            and not self._disconnected.is_set()

    def reconnect(self, timeout: float = DEFAULT_TIMEOUT, presence: bool = True) -> "Client":
        """Logs in again after the stream was lost (e.g. the server restarted); what was received
        before stays recorded. Raises ConnectionError like connect()."""
        self.disconnect(timeout=2)
        self._started.clear()
        self._disconnected.clear()
        self._failure = None
        return self.connect(timeout, presence)

    def set_presence(self, show: str | None = None, priority: int | None = None,
                     timeout: float = DEFAULT_TIMEOUT) -> None:
        """Broadcasts an available presence (`show` away, xa, dnd, chat or None) and waits for the
        server's echo of it."""
        if self._xmpp is None:
            raise ConnectionError(f"{self.jid} is not connected")
        xmpp = self._xmpp
        # Through slixmpp (not send_raw): it remembers the presence and, like a real client,
        # sends it again to a contact whose subscription request it approves.
        _shared_loop().call(lambda: xmpp.send_presence(pshow=show, ppriority=priority))

        def echoed(p: ET.Element) -> bool:
            got = p.find(f"{{{NS_CLIENT}}}show")
            return p.get("type") is None and (got.text if got is not None else None) == show
        self.wait_for(stanza("presence", frm=self.jid, where=echoed), timeout, what="own presence echo")

    def set_client_state(self, active: bool) -> None:
        """XEP-0352: tells the server the user is (not) looking at the client, as a phone does when
        its screen goes off. Fails if the server does not offer CSI."""
        if self._xmpp is None:
            raise ConnectionError(f"{self.jid} is not connected")
        csi = self._xmpp.plugin["xep_0352"]
        if not csi.enabled:
            raise AssertionError(f"the server offers {self.jid} no client state indication (XEP-0352)")
        _shared_loop().call(csi.send_active if active else csi.send_inactive)

    def revoke(self, jid: str) -> None:
        """Takes back the presence subscription `jid` was granted (as a roster's "stop sharing")."""
        self.send_raw(f"<presence to={quoteattr(jid)} type='unsubscribed'/>")

    def disconnect(self, timeout: float = 5.0) -> None:
        _clients.discard(self)
        xmpp, self._xmpp = self._xmpp, None
        if xmpp is None or _loop_thread is None:
            return
        try:
            _loop_thread.call(lambda: xmpp.disconnect(wait=min(timeout, 2.0)), timeout=timeout)
            self._disconnected.wait(timeout)
        except Exception:  # noqa: BLE001
            pass
        finally:
            if not self._disconnected.is_set():
                try:
                    _loop_thread.call(xmpp.abort, timeout=2)
                except Exception:  # noqa: BLE001
                    pass

    # -- receiving
    def _on_stanza(self, el: ET.Element) -> None:
        with self._cond:
            self._received.append(el)
            self._cond.notify_all()

    def wait_for(self, predicate: Callable[[ET.Element], bool], timeout: float = DEFAULT_TIMEOUT,
                 what: str = "") -> ET.Element:
        """The first received stanza matching predicate that no earlier wait_for returned.
        Raises AssertionError after timeout, listing what did arrive."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for i, el in enumerate(self._received):
                    if i not in self._taken and predicate(el):
                        self._taken.add(i)
                        return el
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = "\n  ".join(to_string(e) for e in self._received[-15:]) or "(nothing)"
                    raise AssertionError(f"{self.jid}: no stanza {what or 'matching'} within {timeout}s; "
                                         f"last received:\n  {seen}")
                self._cond.wait(left)

    def take(self, predicate: Callable[[ET.Element], bool]) -> ET.Element | None:
        """Like wait_for without waiting: the first untaken match, marked taken, or None."""
        with self._cond:
            for i, el in enumerate(self._received):
                if i not in self._taken and predicate(el):
                    self._taken.add(i)
                    return el
        return None

    def find(self, predicate: Callable[[ET.Element], bool]) -> list[ET.Element]:
        """Every stanza received so far that matches (taken or not); no waiting."""
        with self._cond:
            return [el for el in self._received if predicate(el)]

    # -- sending
    def send_raw(self, xml: str) -> None:
        if self._xmpp is None:
            raise ConnectionError(f"{self.jid} is not connected")
        xmpp = self._xmpp
        _shared_loop().call(xmpp.send_raw, xml)

    def next_id(self, prefix: str = "e2e") -> str:
        return f"{prefix}-{next(self._ids)}-{int(time.time() * 1000) % 100000}"

    def send_message(self, to: str, body: str | None = None, type: str | None = "chat", id: str | None = None,
                     thread: str | None = None, subject: str | None = None,
                     payload: Iterable[str] | str = ()) -> str:
        """Sends a message with arbitrary extra XML payload (strings with their own xmlns); returns its id."""
        mid = id or self.next_id("msg")
        attrs = f" to={quoteattr(to)} id={quoteattr(mid)}"
        if type:
            attrs += f" type={quoteattr(type)}"
        parts = []
        if subject is not None:
            parts.append(f"<subject>{escape(subject)}</subject>")
        if body is not None:
            parts.append(f"<body>{escape(body)}</body>")
        if thread is not None:
            parts.append(f"<thread>{escape(thread)}</thread>")
        parts.extend([payload] if isinstance(payload, str) else payload)
        self.send_raw(f"<message{attrs}>{''.join(parts)}</message>")
        return mid

    def send_iq(self, to: str, payload: str, type: str = "get", timeout: float = DEFAULT_TIMEOUT) -> ET.Element:
        """Sends an iq and waits for its result or error (matched by id and sender)."""
        iid = self.next_id("iq")
        self.send_raw(f"<iq to={quoteattr(to)} id={quoteattr(iid)} type={quoteattr(type)}>{payload}</iq>")
        return self.wait_for(stanza("iq", id=iid, where=lambda e: e.get("type") in ("result", "error")
                                    and bare(e.get("from")) == bare(to)),
                             timeout, what=f"answering iq {iid}")


def wait_any(waits: list[tuple["Client", Callable[[ET.Element], bool]]], timeout: float = DEFAULT_TIMEOUT,
             what: str = "") -> tuple[int, ET.Element]:
    """Waits until one of several clients receives a stanza matching its predicate (one that no
    wait_for/wait_any returned before); returns (index into waits, stanza). AssertionError on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        for i, (client, predicate) in enumerate(waits):
            el = client.take(predicate)
            if el is not None:
                return i, el
        if time.monotonic() > deadline:
            raise AssertionError(f"none of {[c.jid for c, _ in waits]} received {what or 'a matching stanza'} "
                                 f"within {timeout}s")
        time.sleep(0.01)
