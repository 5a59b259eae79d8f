# SPDX-License-Identifier: MIT
"""Transparent delivery (issue 10, server side): mod_concierge on a real Prosody 0.12 and a real
ejabberd 23.01, installed as config/deploy/prosody-transparent.cfg.lua and
ejabberd-transparent.yml say, with a fake Concierge. A module that fails to load fails these
tests: nothing is skipped.

Run: /usr/bin/python3 -m unittest -v tests/e2e/test_transparent.py   (as root)
"""

from __future__ import annotations

import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from transparent_scenarios import ALICE, BOB, COMPONENT, SECRET, TransparentScenarios  # noqa: E402
from fake_concierge import NS, FakeConcierge  # noqa: E402
from prosody import Ejabberd, Prosody  # noqa: E402
from xmpp_clients import Client, message, stanza  # noqa: E402


READY = {Prosody: "mod_concierge ready", Ejabberd: "mod_concierge started"}


def _logged(server, line: str, count: int = 1, timeout: float = 10.0) -> bool:
    """Waits (bounded) for the module's `count`th line in the server's log: servers accept
    connections slightly before every module has loaded."""
    deadline = time.monotonic() + timeout
    while server.log_text().count(line) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return server.log_text().count(line) >= count


def _prosody(modules=()):
    server = Prosody(component_domain=COMPONENT, component_secret=SECRET, transparent=True, modules=modules).start()
    if not _logged(server, "mod_concierge ready"):
        log = server.log_text()
        server.stop()
        raise AssertionError(f"mod_concierge did not load on Prosody:\n{log}")
    return server


def _ejabberd(modules=()):
    server = Ejabberd(component_domain=COMPONENT, component_secret=SECRET, transparent=True, modules=modules).start()
    if not _logged(server, "mod_concierge started"):
        log = server.log_text()
        server.stop()
        raise AssertionError(f"mod_concierge did not start on ejabberd:\n{log}")
    return server


class TransparentOnProsody(TransparentScenarios, unittest.TestCase):
    make_server = staticmethod(_prosody)


class TransparentOnEjabberd(TransparentScenarios, unittest.TestCase):
    make_server = staticmethod(_ejabberd)


class EnrolledSetSurvivesRestart:
    """The extension stores the pushed set: after a server restart, before Concierge pushes
    anything, messages to an enrolled user are still diverted."""

    make_server = None

    def test_enrolled_set_survives_a_server_restart(self):
        server = type(self).make_server()
        fake = alice = bob = None
        try:
            server.register("alice", "pw")
            server.register("bob", "pw")
            fake = FakeConcierge(server, COMPONENT, SECRET).connect()
            fake.push_enrolled([BOB, "x@localhost", "y@localhost"], generation=3, chunk_size=1)
            self.assertEqual(fake.enrolled_generation(), (3, 3))  # all three chunks taken
            fake.push_enrolled([BOB], generation=4)  # the newest push replaces the set
            self.assertEqual(fake.enrolled_generation(), (4, 1))
            half = fake.iq("localhost", "set", f"<enrolled xmlns='{NS}' generation='5' chunk='1' chunks='2'>"
                                               "<user jid='alice@localhost'/></enrolled>")
            self.assertEqual(half.get("type"), "result")
            self.assertEqual(fake.enrolled_generation(), (4, 1), "half a push was applied")
            fake.disconnect()
            loaded = server.log_text().count(READY[type(server)])
            server.restart()
            self.assertTrue(_logged(server, READY[type(server)], loaded + 1), "mod_concierge did not load again")
            fake.connect()
            self.assertEqual(fake.enrolled_generation(), (4, 1))
            alice = Client(server, "alice", "pw", resource="phone").connect()
            bob = Client(server, "bob", "pw").connect()
            mid = alice.send_message(BOB, "after restart")
            bob.wait_for(message(frm=alice.jid, id=mid), timeout=5)
            self.assertEqual(len([d for d in fake.diverts if d.message.get("id") == mid]), 1)
            # the negative pair: alice is not enrolled, bob's message to her is not diverted
            rid = bob.send_message(ALICE, "to alice")
            alice.wait_for(message(id=rid), timeout=5)
            self.assertEqual([d for d in fake.diverts if d.message.get("id") == rid], [])
        finally:
            for c in (alice, bob, fake):
                if c is not None:
                    c.disconnect()
            server.stop()


class RestartOnProsody(EnrolledSetSurvivesRestart, unittest.TestCase):
    make_server = staticmethod(_prosody)


class RestartOnEjabberd(EnrolledSetSurvivesRestart, unittest.TestCase):
    make_server = staticmethod(_ejabberd)


NS_MAM, NS_CARBONS, NS_FORWARD = "urn:xmpp:mam:2", "urn:xmpp:carbons:2", "urn:xmpp:forward:0"


def _iq(client, payload: str) -> None:
    iid = client.next_id("iq")
    client.send_raw(f"<iq type='set' id='{iid}'>{payload}</iq>")
    client.wait_for(stanza("iq", id=iid, type="result"), timeout=5, what=f"result of {payload}")


def _carbons(client, kind: str, mid: str) -> list:
    """The `kind` ("sent"/"received") carbons of message `mid` that `client` received."""
    def match(m):
        fwd = m.find(f"{{{NS_CARBONS}}}{kind}/{{{NS_FORWARD}}}forwarded/{{jabber:client}}message")
        return fwd is not None and fwd.get("id") == mid
    return client.find(message(where=match))


def _archived(client, mid: str) -> int:
    """How many copies of message `mid` the client's own archive (XEP-0313) holds."""
    qid = client.next_id("mam")
    client.send_raw(f"<iq type='set' id='{qid}'><query xmlns='{NS_MAM}' queryid='{qid}'/></iq>")
    client.wait_for(stanza("iq", id=qid, type="result"), timeout=5, what="end of the archive query")

    def match(m):
        result = m.find(f"{{{NS_MAM}}}result")
        inner = m.find(f"{{{NS_MAM}}}result/{{{NS_FORWARD}}}forwarded/{{jabber:client}}message")
        return result is not None and result.get("queryid") == qid and inner is not None and inner.get("id") == mid
    return len(client.find(message(where=match)))


class ArchiveAndCarbons:
    """The server's archive, carbons and offline handling run at release, once: one copy in
    Bob's archive, Alice's unchanged; a sent carbon at send time, a received one at release."""

    make_server = None

    def test_one_archive_copy_and_carbons_at_the_right_time(self):
        server = type(self).make_server()
        clients, fake = [], None
        try:
            for user in ("alice", "bob"):
                server.register(user, "pw")
            fake = FakeConcierge(server, COMPONENT, SECRET).connect()
            fake.push_enrolled([BOB], generation=1)
            fake.policy = "held"
            phone, tablet = (Client(server, "alice", "pw", resource=r).connect() for r in ("phone", "tablet"))
            laptop, bob_phone = (Client(server, "bob", "pw", resource=r).connect() for r in ("laptop", "phone"))
            clients = [phone, tablet, laptop, bob_phone]
            for c in clients:
                _iq(c, f"<prefs xmlns='{NS_MAM}' default='always'/>")  # ejabberd archives nothing by default
            for c in (tablet, bob_phone):
                _iq(c, f"<enable xmlns='{NS_CARBONS}'/>")
            mid = phone.send_message(laptop.jid, "archived once")
            d = fake.wait_divert(lambda x: x.message.get("id") == mid)
            tablet.wait_for(message(where=lambda m: bool(_carbons(tablet, "sent", mid))), timeout=5)
            time.sleep(1.5)  # held: nothing for bob, no received carbon yet
            self.assertEqual(laptop.find(message(id=mid)), [])
            self.assertEqual(_carbons(bob_phone, "received", mid), [])
            self.assertEqual(_archived(laptop, mid), 0)
            self.assertEqual(fake.release(d).get("type"), "result")
            laptop.wait_for(message(frm=phone.jid, id=mid), timeout=5)
            bob_phone.wait_for(message(where=lambda m: bool(_carbons(bob_phone, "received", mid))), timeout=5)
            time.sleep(0.5)
            self.assertEqual(len(_carbons(bob_phone, "received", mid)), 1)
            self.assertEqual(len(_carbons(tablet, "sent", mid)), 1, "a second sent carbon at release")
            self.assertEqual(_archived(laptop, mid), 1, "bob's archive")
            self.assertEqual(_archived(phone, mid), 1, "alice's archive")
        finally:
            for c in clients + [fake]:
                if c is not None:
                    c.disconnect()
            server.stop()


    def test_a_blocked_sender_is_not_diverted(self):
        """The server's blocking (XEP-0191) applies before the divert: ejabberd's privacy check
        is called first, Prosody's mod_blocklist runs at a higher priority."""
        server = type(self).make_server()
        clients, fake = [], None
        try:
            for user in ("alice", "bob", "carol"):
                server.register(user, "pw")
            fake = FakeConcierge(server, COMPONENT, SECRET).connect()
            fake.push_enrolled([BOB], generation=1)
            alice, bob, carol = (Client(server, u, "pw").connect() for u in ("alice", "bob", "carol"))
            clients = [alice, bob, carol]
            _iq(bob, "<block xmlns='urn:xmpp:blocking'><item jid='carol@localhost'/></block>")
            cid = carol.send_message(BOB, "let me in")
            aid = alice.send_message(BOB, "hello")
            bob.wait_for(message(frm=alice.jid, id=aid), timeout=5)
            time.sleep(1.0)
            self.assertEqual(len([d for d in fake.diverts if d.message.get("id") == aid]), 1)
            self.assertEqual([d for d in fake.diverts if d.message.get("id") == cid], [], "blocked, yet diverted")
            self.assertEqual(bob.find(message(id=cid)), [])
        finally:
            for c in clients + [fake]:
                if c is not None:
                    c.disconnect()
            server.stop()


class ArchiveOnProsody(ArchiveAndCarbons, unittest.TestCase):
    make_server = staticmethod(lambda: _prosody(("mam", "carbons", "blocklist")))


class ArchiveOnEjabberd(ArchiveAndCarbons, unittest.TestCase):
    make_server = staticmethod(lambda: _ejabberd(("mod_mam", "mod_carboncopy", "mod_privacy", "mod_blocking")))


class LoadFailure(unittest.TestCase):
    """A mod_concierge that cannot start (here: a release key too short) fails the tests that
    start the server, loudly; nothing is skipped."""

    def _with_short_key(self, factory):
        import xmpp_servers  # where the servers read the key they install (prosody.py re-exports it)
        saved = xmpp_servers.RELEASE_KEY
        xmpp_servers.RELEASE_KEY = b"short"
        try:
            with self.assertRaises((AssertionError, RuntimeError)) as caught:
                factory().stop()
        finally:
            xmpp_servers.RELEASE_KEY = saved
        self.assertIn("mod_concierge", str(caught.exception))

    def test_prosody(self):
        self._with_short_key(_prosody)

    def test_ejabberd(self):
        self._with_short_key(_ejabberd)


if __name__ == "__main__":
    unittest.main()
