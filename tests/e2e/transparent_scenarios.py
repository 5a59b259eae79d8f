# SPDX-License-Identifier: MIT
"""Transparent delivery through the server extension (mod_concierge, xmpp/server/), with a fake
Concierge (tests/support/fake_concierge.py) playing the component. Run on Prosody and ejabberd by
test_transparent.py; the extension is installed exactly as config/deploy/*-transparent.* say.

What a user sees: Alice writes to bob@localhost; the server hands the message to Concierge and
delivers it (or its release) from Alice's real JID with every child kept; when Concierge is
down or silent the message still arrives (fail open)."""

from __future__ import annotations

import os
import sys
import time
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))

from fake_concierge import NS, FakeConcierge, release_token  # noqa: E402
from prosody import RELEASE_KEY  # noqa: E402
import xmpp_clients  # noqa: E402
from xmpp_clients import NS_CLIENT, Client, body, child, message  # noqa: E402

COMPONENT = "concierge.localhost"
SECRET = "transparent-secret"
ALICE, BOB, CAROL, DAVE = "alice@localhost", "bob@localhost", "carol@localhost", "dave@localhost"
CUSTOM = '<custom xmlns="urn:example:custom" kept="yes"><inner>x</inner></custom>'
OMEMO = ('<encrypted xmlns="eu.siacs.conversations.axolotl"><header sid="1234"><key rid="5678">a2V5</key>'
         '<iv>aXZpdg==</iv></header><payload>cGF5bG9hZA==</payload></encrypted>')
QUIET = 1.5  # seconds a message that must not arrive is given to show up
TIMEOUT = 5  # the extensions' default verdict timeout (concierge_timeout / timeout)


def same_xml(a: ET.Element, b: ET.Element) -> bool:
    """Equal as XML: names with namespaces, attributes, text (white space around it aside), children."""
    return (a.tag == b.tag and a.attrib == b.attrib and (a.text or "").strip() == (b.text or "").strip()
            and len(a) == len(b) and all(same_xml(x, y) for x, y in zip(a, b)))


class WithFakeConcierge:
    """One server per class (make_server()), a fake Concierge that enrolled ENROLLED, and alice,
    bob and carol logged in; the users of USERS not logged in stay offline."""

    USERS = ("alice", "bob", "carol")
    ENROLLED = (BOB,)

    @classmethod
    def make_server(cls):
        raise NotImplementedError

    @classmethod
    def setUpClass(cls):
        cls.server = cls.make_server()
        try:
            for user in cls.USERS:
                cls.server.register(user, "pw")
            cls.fake = FakeConcierge(cls.server, COMPONENT, SECRET).connect()
            cls.generation = 1
            cls.fake.push_enrolled(list(cls.ENROLLED), generation=cls.generation)
            cls.alice = Client(cls.server, "alice", "pw", resource="phone").connect()
            cls.bob = Client(cls.server, "bob", "pw", resource="laptop").connect()
            cls.carol = Client(cls.server, "carol", "pw", resource="desk").connect()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for name in ("alice", "bob", "carol", "fake"):
            if getattr(cls, name, None) is not None:
                getattr(cls, name).disconnect()
                setattr(cls, name, None)
        cls.server.stop()

    def setUp(self):
        if self.fake._xmpp is None:
            self.fake.connect()
        self.fake.policy = "deliver"


class TransparentScenarios(WithFakeConcierge):
    """Mixed into a unittest.TestCase that sets make_server(); dave is enrolled and offline."""

    USERS = ("alice", "bob", "carol", "dave")
    ENROLLED = (BOB, DAVE)

    def diverts_of(self, msg_id):
        return [d for d in self.fake.diverts if d.message is not None and d.message.get("id") == msg_id]

    def assert_not_received(self, client, msg_id):
        time.sleep(QUIET)  # a real server delivers within milliseconds; nothing must come
        self.assertEqual(client.find(message(id=msg_id)), [], f"{client.jid} received {msg_id}")

    # -- the common case
    def test_free_target_gets_it_at_once_from_the_real_jid_with_children_kept(self):
        mid = self.alice.send_message(BOB, "lunch?", payload=[CUSTOM])
        got = self.bob.wait_for(message(frm=self.alice.jid, id=mid), timeout=5)
        self.assertEqual(body(got), "lunch?")
        custom = child(got, "urn:example:custom", "custom")
        self.assertIsNotNone(custom, "a child element was lost")
        self.assertEqual(custom.get("kept"), "yes")
        [d] = self.diverts_of(mid)
        self.assertEqual(d.message.get("from"), self.alice.jid)
        self.assertEqual(d.message.get("to"), BOB)
        self.assertIsNotNone(child(d.message, "urn:example:custom", "custom"))
        self.assertEqual(d.token, release_token(RELEASE_KEY, d.id, self.alice.jid, BOB, mid))

    def test_held_then_released_from_the_real_jid_with_concierges_stamp(self):
        self.fake.policy = "held"
        mid = self.alice.send_message(BOB, "held one", payload=[CUSTOM])
        d = self.fake.wait_divert(lambda x: x.message.get("id") == mid)
        self.assert_not_received(self.bob, mid)
        answer = self.fake.release(d)
        self.assertEqual(answer.get("type"), "result")
        got = self.bob.wait_for(message(frm=self.alice.jid, id=mid), timeout=5)
        self.assertEqual(body(got), "held one")
        delay = child(got, "urn:xmpp:delay", "delay")
        self.assertIsNotNone(delay)
        self.assertEqual(delay.get("from"), COMPONENT)
        self.assertIsNotNone(child(got, "urn:example:custom", "custom"))
        self.assertEqual(len(self.diverts_of(mid)), 1, "the release was diverted again")

    def test_a_forged_release_is_refused(self):
        self.fake.policy = "held"
        mid = self.alice.send_message(BOB, "forge me")
        d = self.fake.wait_divert(lambda x: x.message.get("id") == mid)
        forged = release_token(b"not-the-key-0123456789", d.id, self.alice.jid, BOB, mid)
        answer = self.fake.release(d, token=forged)
        self.assertEqual(answer.get("type"), "error")
        self.assertIsNotNone(answer.find(f"{{{NS_CLIENT}}}error/{{urn:ietf:params:xml:ns:xmpp-stanzas}}forbidden")
                             or answer.find("{jabber:component:accept}error/{urn:ietf:params:xml:ns:xmpp-stanzas}forbidden"))
        self.assert_not_received(self.bob, mid)
        self.assertEqual(self.fake.release(d).get("type"), "result")  # the right token still works
        self.bob.wait_for(message(frm=self.alice.jid, id=mid), timeout=5)

    def test_a_release_that_bounces_is_answered_with_the_bounce(self):
        # dave is enrolled and offline, and neither test server stores messages offline
        self.fake.policy = "held"
        mid = self.alice.send_message(DAVE, "for the offline one")
        d = self.fake.wait_divert(lambda x: x.message.get("id") == mid)
        answer = self.fake.release(d)
        self.assertEqual(answer.get("type"), "error")
        err = answer.find("{jabber:component:accept}error")
        self.assertIsNotNone(err.find(f"{{{NS}}}bounced"), "the answer does not say it bounced")
        self.assertIsNotNone(err.find("{urn:ietf:params:xml:ns:xmpp-stanzas}service-unavailable"))
        # Concierge holds it again: the sender sees no error for it
        time.sleep(QUIET)
        self.assertEqual(self.alice.find(message(id=mid, type="error")), [])
        # the positive pair: the same release to an online target is taken
        mid2 = self.alice.send_message(BOB, "for the online one")
        d2 = self.fake.wait_divert(lambda x: x.message.get("id") == mid2)
        self.assertEqual(self.fake.release(d2).get("type"), "result")
        self.bob.wait_for(message(frm=self.alice.jid, id=mid2), timeout=5)

    def test_only_the_component_may_release(self):
        self.fake.policy = "held"
        mid = self.alice.send_message(BOB, "mine to release")
        d = self.fake.wait_divert(lambda x: x.message.get("id") == mid)
        payload = (f"<release xmlns='{NS}' id='{d.id}' token='{d.token}'><forwarded xmlns='urn:xmpp:forward:0'>"
                   f"<message xmlns='jabber:client' from='{self.alice.jid}' to='{BOB}' id='{mid}' type='chat'>"
                   "<body>sneaky</body></message></forwarded></release>")
        answer = self.carol.send_iq("localhost", payload, type="set")
        self.assertEqual(answer.get("type"), "error")
        self.assert_not_received(self.bob, mid)
        self.assertEqual(self.fake.release(d).get("type"), "result")
        self.bob.wait_for(message(frm=self.alice.jid, id=mid), timeout=5)

    def test_refused_bounces_to_the_sender_from_the_original_to(self):
        self.fake.policy = "refuse"
        mid = self.alice.send_message(BOB, "not for you")
        err = self.alice.wait_for(message(frm=BOB, id=mid, type="error"), timeout=5)
        self.assertIsNotNone(err.find(f"{{{NS_CLIENT}}}error/{{urn:ietf:params:xml:ns:xmpp-stanzas}}not-acceptable"))
        self.assert_not_received(self.bob, mid)

    def test_an_encrypted_only_message_is_diverted_and_arrives_xml_equivalent(self):
        self.fake.policy = "held"
        mid = self.alice.send_message(BOB, None, payload=[OMEMO])
        d = self.fake.wait_divert(lambda x: x.message.get("id") == mid)
        self.assert_not_received(self.bob, mid)
        self.assertEqual(self.fake.release(d).get("type"), "result")
        got = self.bob.wait_for(message(frm=self.alice.jid, id=mid), timeout=5)
        received = child(got, "eu.siacs.conversations.axolotl", "encrypted")
        self.assertIsNotNone(received)
        self.assertTrue(same_xml(received, ET.fromstring(OMEMO)), xmpp_clients.to_string(received))
        self.assertIsNone(body(got))

    def test_every_kind_of_content_is_diverted_and_receipts_are_not(self):
        contents = {
            "attention": '<attention xmlns="urn:xmpp:attention:0"/>',
            "omemo2": '<encrypted xmlns="urn:xmpp:omemo:2"><payload>eA==</payload></encrypted>',
            "openpgp": '<openpgp xmlns="urn:xmpp:openpgp:0">eA==</openpgp>',
            "xep27": '<x xmlns="jabber:x:encrypted">eA==</x>',
            "retract1": '<retract xmlns="urn:xmpp:message-retract:1" id="old-1"/>',
            "retract0": '<apply-to xmlns="urn:xmpp:fasten:0" id="old-1"><retract xmlns="urn:xmpp:message-retract:0"/></apply-to>',
            "correction": '<replace xmlns="urn:xmpp:message-correct:0" id="old-1"/>',
        }
        sent = {kind: self.alice.send_message(BOB, None, payload=[xml]) for kind, xml in contents.items()}
        rid = self.alice.send_message(BOB, None, payload=['<received xmlns="urn:xmpp:receipts" id="old-1"/>'])
        for mid in [*sent.values(), rid]:
            self.bob.wait_for(message(frm=self.alice.jid, id=mid), timeout=5)
        for kind, mid in sent.items():
            self.assertEqual(len(self.diverts_of(mid)), 1, f"{kind} was not diverted")
        self.assertEqual(self.diverts_of(rid), [], "a receipt was diverted")
        self.fake.wait_report(lambda r: r.get("id") == rid)

    # -- fail open
    def test_concierge_down_messages_flow_directly(self):
        self.fake.disconnect()  # returns once the server closed its side of the stream
        mid = self.alice.send_message(BOB, "while you were down")
        got = self.bob.wait_for(message(frm=self.alice.jid, id=mid), timeout=TIMEOUT - 1)  # not by the timeout
        self.assertEqual(body(got), "while you were down")
        self.fake.connect()
        mid2 = self.alice.send_message(BOB, "and back")
        self.bob.wait_for(message(frm=self.alice.jid, id=mid2), timeout=5)
        self.assertEqual(len(self.diverts_of(mid2)), 1, "diverting did not resume after reconnect")

    def test_concierge_silent_delivered_after_the_timeout_then_cancelled(self):
        self.fake.policy = "silent"
        mid = self.alice.send_message(BOB, "anyone there?")
        d = self.fake.wait_divert(lambda x: x.message.get("id") == mid)
        time.sleep(TIMEOUT - 1.5)
        self.assertEqual(self.bob.find(message(id=mid)), [], "delivered before the timeout")
        got = self.bob.wait_for(message(frm=self.alice.jid, id=mid), timeout=5)
        self.assertGreaterEqual(time.monotonic() - d.at, TIMEOUT - 0.5)
        self.assertEqual(body(got), "anyone there?")
        self.fake.wait_cancel(d.id, timeout=5)

    def test_held_with_a_wrong_token_fails_open_at_once(self):
        self.fake.policy = "held-wrong-token"
        mid = self.alice.send_message(BOB, "wrong token")
        self.bob.wait_for(message(frm=self.alice.jid, id=mid), timeout=TIMEOUT - 1)  # well before the verdict timeout
        self.fake.wait_cancel(self.diverts_of(mid)[0].id, timeout=5)

    def test_an_error_answer_fails_open_at_once(self):
        self.fake.policy = "error"
        mid = self.alice.send_message(BOB, "error path")
        self.bob.wait_for(message(frm=self.alice.jid, id=mid), timeout=TIMEOUT - 1)  # well before the verdict timeout
        d = self.diverts_of(mid)[0]
        self.fake.wait_cancel(d.id, timeout=5)

    # -- reports
    def test_chat_states_and_replies_are_reported_without_body(self):
        composing = '<composing xmlns="http://jabber.org/protocol/chatstates"/>'
        mid = self.alice.send_message(BOB, None, payload=[composing])
        self.bob.wait_for(message(frm=self.alice.jid, id=mid), timeout=5)  # delivered directly
        rep = self.fake.wait_report(lambda r: r.get("id") == mid)
        self.assertEqual(rep.get("chat-state"), "composing")
        self.assertEqual((rep.get("from"), rep.get("to")), (self.alice.jid, BOB))
        self.assertIsNone(rep.get("has-body"))
        self.assertEqual(self.diverts_of(mid), [])
        # bob (enrolled) answers carol (not enrolled): delivered, reported with no text of it
        rid = self.bob.send_message(CAROL, "secret words")
        self.carol.wait_for(message(frm=self.bob.jid, id=rid), timeout=5)
        rep = self.fake.wait_report(lambda r: r.get("id") == rid)
        self.assertEqual(rep.get("has-body"), "true")
        self.assertNotIn("secret", str(rep.attrib) + "".join(rep.itertext()))

    # -- never diverted
    def test_groupchat_headline_and_self_messages_are_not_diverted(self):
        gid = self.alice.send_message(self.bob.jid, "gc", type="groupchat")
        hid = self.alice.send_message(BOB, "news", type="headline")
        bob2 = Client(self.server, "bob", "pw", resource="phone").connect()
        try:
            sid = bob2.send_message(self.bob.jid, "note to self")
            for mid in (gid, hid, sid):
                self.bob.wait_for(message(id=mid), timeout=5)
        finally:
            bob2.disconnect()
        nid = self.carol.send_message(self.alice.jid, "not enrolled at all")
        self.alice.wait_for(message(id=nid), timeout=5)
        for mid in (gid, hid, sid, nid):
            self.assertEqual(self.diverts_of(mid), [], f"{mid} was diverted")
        # the positive pair: a chat to bob in the same minute is diverted
        mid = self.alice.send_message(BOB, "divert me")
        self.bob.wait_for(message(id=mid), timeout=5)
        self.assertEqual(len(self.diverts_of(mid)), 1)

    def test_diverts_equal_messages_sent(self):
        before = len(self.fake.diverts)
        ids = [self.alice.send_message(BOB, f"burst {n}") for n in range(30)]
        for mid in ids:
            self.bob.wait_for(message(frm=self.alice.jid, id=mid), timeout=10)
        time.sleep(0.5)  # a loop would show as more diverts arriving
        self.assertEqual(len(self.fake.diverts) - before, len(ids))
        for mid in ids:
            self.assertEqual(len(self.diverts_of(mid)), 1, mid)
