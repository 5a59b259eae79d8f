# SPDX-License-Identifier: MIT
"""Passes (PROTOCOL.md "Passes: deliver without asking, until told otherwise"): a `deliver`
verdict with a <pass/> lets the next plain messages to that target go at once, without a divert,
reported with passed="true", until a revoke, the ttl, an enrolled iq or a message from the target
ends it. mod_concierge on a real ejabberd 23.01 and a real Prosody 0.12, a fake Concierge
(tests/support/fake_concierge.py) answering the diverts, real clients.

What a user sees is the same either way (the message arrives from the sender's real JID); what
the tests look at is whether Concierge was asked (a divert) or only told (a report).

Run: /usr/bin/python3 -m unittest -v tests/e2e/test_passes.py   (as root)
"""

from __future__ import annotations

import os
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from test_transparent import _ejabberd, _prosody  # noqa: E402
from transparent_scenarios import ALICE, BOB, CAROL, WithFakeConcierge  # noqa: E402
from xmpp_clients import body, message  # noqa: E402

SENDER_PASS = '<pass scope="sender" ttl="60000"/>'
ANY_PASS = '<pass scope="any" ttl="60000" urgent-prefix="!!"/>'
WAIT = 5  # seconds: a real server delivers within milliseconds


class PassScenarios(WithFakeConcierge):
    """Mixed into a unittest.TestCase that sets make_server(); one server per class. Bob is
    enrolled, Alice and Carol are not. Every test starts with no pass (an enrolled push)."""

    make_server = None

    def setUp(self):
        super().setUp()
        self.fake.grant = ""
        type(self).generation += 1
        self.fake.push_enrolled([BOB], generation=self.generation)  # also ends every pass

    # -- helpers
    def diverts_of(self, mid):
        return [d for d in self.fake.diverts if d.message is not None and d.message.get("id") == mid]

    def send(self, sender, text, payload=()):
        """Sends to bob and waits until bob has it from the sender's real JID; its id."""
        mid = sender.send_message(BOB, text, payload=payload)
        got = self.bob.wait_for(message(frm=sender.jid, id=mid), timeout=WAIT)
        self.assertEqual(body(got), text)
        return mid

    def assert_diverted(self, sender, text, payload=(), why=""):
        mid = self.send(sender, text, payload)
        # The divert reaches the fake before bob can have the message.
        self.assertEqual(len(self.diverts_of(mid)), 1, f"not diverted: {why or text}")
        self.assertEqual([r for r in self.fake.reports if r.get("id") == mid], [], f"reported: {why or text}")
        return mid

    def assert_passed(self, sender, text, why=""):
        mid = self.send(sender, text)
        self.assertEqual(self.diverts_of(mid), [], f"diverted despite a pass: {why or text}")
        rep = self.fake.wait_report(lambda r: r.get("id") == mid, timeout=WAIT)
        self.assertEqual((rep.get("passed"), rep.get("has-body")), ("true", "true"))
        self.assertEqual((rep.get("from"), rep.get("to"), rep.get("type")), (sender.jid, BOB, "chat"))
        self.assertNotIn(text, str(rep.attrib) + "".join(rep.itertext()), "the report carries the body")
        return mid

    def grant(self, sender, scope_xml):
        """A first message from `sender` to bob, diverted; its verdict carries the pass."""
        self.fake.grant = scope_xml
        mid = self.assert_diverted(sender, "first, asked about")
        self.fake.grant = ""
        return mid

    # -- scenarios
    def test_a_sender_pass_lets_that_senders_plain_messages_through_and_no_one_elses(self):
        self.grant(self.alice, SENDER_PASS)
        for n in range(3):
            self.assert_passed(self.alice, f"plain {n}")
        # the negative: carol has no pass, hers is asked about; alice's pass is untouched by it
        self.assert_diverted(self.carol, "from carol", why="carol has no pass")
        self.assert_passed(self.alice, "still plain")
        # nor does a sender pass cover what is not plain
        self.assert_diverted(self.alice, "nudge", payload=['<attention xmlns="urn:xmpp:attention:0"/>'])

    def test_what_is_not_plain_or_asks_to_be_urgent_is_diverted_despite_an_any_pass(self):
        self.grant(self.carol, ANY_PASS)
        self.assert_passed(self.alice, "plain, from anyone")
        # a divert ends bob's any pass (the verdict brings a new one if it still applies)
        self.assert_diverted(self.alice, "nudge", payload=['<attention xmlns="urn:xmpp:attention:0"/>'])
        self.fake.grant = ANY_PASS  # from here on, every verdict grants it again
        self.assert_diverted(self.alice, "plain, after a divert", why="the divert did not end the any pass")
        not_plain = {
            "attention": '<attention xmlns="urn:xmpp:attention:0"/>',
            "correction": '<replace xmlns="urn:xmpp:message-correct:0" id="old-1"/>',
            "retraction": '<retract xmlns="urn:xmpp:message-retract:1" id="old-1"/>',
            "shim headers": ('<headers xmlns="http://jabber.org/protocol/shim">'
                             '<header name="Urgency">high</header></headers>'),
            "chat state gone": '<gone xmlns="http://jabber.org/protocol/chatstates"/>',
        }
        for why, xml in not_plain.items():
            self.assert_diverted(self.alice, f"with {why}", payload=[xml], why=why)
        self.assert_diverted(self.alice, "!! now please", why="the urgent prefix")
        # the positive pair: with the pass granted again, plain bodies go, a prefix elsewhere too
        self.fake.grant = ""
        self.assert_passed(self.alice, "plain again")
        self.assert_passed(self.carol, "not urgent !!", why="the prefix not at the start")

    def test_a_revoke_ends_the_pass_and_only_the_component_may_revoke(self):
        self.grant(self.alice, SENDER_PASS)
        self.assert_passed(self.alice, "before the revoke")
        # someone else's revoke is refused and changes nothing
        answer = self.carol.send_iq("localhost", "<revoke xmlns='urn:concierge:divert:0'>"
                                                 f"<pass to='{BOB}' from='{ALICE}'/></revoke>", type="set")
        self.assertEqual(answer.get("type"), "error")
        self.assertIsNotNone(answer.find("{jabber:client}error/{urn:ietf:params:xml:ns:xmpp-stanzas}forbidden"))
        self.assert_passed(self.alice, "after carol's revoke")
        # revoking another sender's pass leaves alice's
        self.assertEqual(self.fake.revoke([(BOB, CAROL)]).get("type"), "result")
        self.assert_passed(self.alice, "after a revoke of carol's pass")
        self.assertEqual(self.fake.revoke([(BOB, ALICE)]).get("type"), "result")
        self.assert_diverted(self.alice, "after the revoke")
        # the any pass, revoked by a <pass/> without from
        self.grant(self.carol, ANY_PASS)
        self.assert_passed(self.carol, "any: before the revoke")
        self.assertEqual(self.fake.revoke([(BOB, None)]).get("type"), "result")
        self.assert_diverted(self.carol, "any: after the revoke")

    def test_a_pass_ends_with_its_ttl(self):
        ttl = 1.5
        sent_at = time.monotonic()  # the verdict, and so the pass's start, comes after this
        self.grant(self.alice, f'<pass scope="sender" ttl="{int(ttl * 1000)}"/>')
        self.assert_passed(self.alice, "within the ttl")
        # poll: messages go through until the ttl ends, then they are asked about again
        deadline = sent_at + ttl + WAIT
        while True:
            at = time.monotonic()
            self.assertLess(at, deadline, "the pass outlived its ttl")
            mid = self.send(self.alice, f"at {at - sent_at:.2f}s")
            if self.diverts_of(mid):
                break
            self.assertLess(at - sent_at, ttl + 1.0, "the pass outlived its ttl")
            time.sleep(0.2)
        self.assertGreaterEqual(at - sent_at, ttl - 0.1, "the pass ended before its ttl")

    def test_an_enrolled_push_or_query_ends_every_pass(self):
        self.grant(self.alice, SENDER_PASS)
        self.grant(self.carol, ANY_PASS)
        self.assert_passed(self.alice, "sender pass, before the push")
        self.assert_passed(self.carol, "any pass, before the push")
        type(self).generation += 1
        self.fake.push_enrolled([BOB], generation=self.generation)
        self.assert_diverted(self.alice, "sender pass, after the push")
        self.assert_diverted(self.carol, "any pass, after the push")
        # a query (what Concierge may send on connect instead of a push) ends them as well
        self.grant(self.alice, SENDER_PASS)
        self.assert_passed(self.alice, "before the query")
        self.assertEqual(self.fake.enrolled_generation(), (self.generation, 1))
        self.assert_diverted(self.alice, "after the query")

    def test_a_pass_ends_when_concierges_stream_goes_down(self):
        self.grant(self.alice, SENDER_PASS)
        self.assert_passed(self.alice, "before the stream went down")
        self.fake.disconnect()  # returns once the server closed its side of the stream
        mid = self.send(self.alice, "while down")  # delivered directly, neither asked nor told
        self.fake.connect()  # no enrolled iq this time: only the stream's end can have ended the pass
        self.assertEqual([r for r in self.fake.reports if r.get("id") == mid], [])
        self.assert_diverted(self.alice, "after the reconnect")

    def test_a_message_from_the_target_ends_its_any_pass_but_not_a_sender_pass(self):
        self.grant(self.alice, SENDER_PASS)
        self.grant(self.carol, ANY_PASS)
        self.assert_passed(self.carol, "any pass, before bob writes")
        rid = self.bob.send_message(CAROL, "an answer")
        self.carol.wait_for(message(frm=self.bob.jid, id=rid), timeout=WAIT)
        self.fake.wait_report(lambda r: r.get("id") == rid, timeout=WAIT)  # classified: the pass is gone
        self.assert_diverted(self.carol, "any pass, after bob wrote")
        self.assert_passed(self.alice, "sender pass, after bob wrote")


class PassesOnEjabberd(PassScenarios, unittest.TestCase):
    make_server = staticmethod(_ejabberd)


class PassesOnProsody(PassScenarios, unittest.TestCase):
    make_server = staticmethod(_prosody)


if __name__ == "__main__":
    unittest.main()
