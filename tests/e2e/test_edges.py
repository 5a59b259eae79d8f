# SPDX-License-Identifier: MIT
"""End-to-end on a real Prosody 0.12: stanzas at the edges get an answer their sender sees
(issue 14) — messages nested deeper than Concierge reads, a chat to the component's full JID,
and a message to one's own proxy address.

Run: /usr/bin/python3 -m unittest -v tests/e2e/test_edges.py   (as root; CONCIERGE_BINARY to
override build/concierge). Starts its own Prosody on free loopback ports.
"""

from __future__ import annotations

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from relay_scenarios import ALICE, BOB, WAIT, message, proxy, start_stack, stop_stack, unique  # noqa: E402
from prosody import Prosody  # noqa: E402  (path set up by relay_scenarios)
from xmpp_clients import body, error_condition, error_text, to_string  # noqa: E402

COMPONENT = "sched.localhost"
REFUSED = ("policy-violation", "not-acceptable")


def nested(levels: int) -> str:
    """`levels` elements inside one another, below the message (which is level 1)."""
    return "<x xmlns='urn:example:deep'>" + "<x>" * (levels - 1) + "</x>" * levels


class EdgesOnProsody(unittest.TestCase):
    SERVER = Prosody

    @classmethod
    def setUpClass(cls):
        cls.server, cls.concierge, cls.clients = start_stack(cls.SERVER)
        cls.alice, cls.bob = cls.clients["alice"], cls.clients["bob"]

    @classmethod
    def tearDownClass(cls):
        stop_stack(cls.server, cls.concierge, cls.clients)

    def setUp(self):
        if not self.concierge.running:
            self.fail(f"Concierge is not running (exit {self.concierge.proc.poll()}); stderr:\n"
                      + self.concierge.stderr_text()[-4000:])

    def send_deep(self, levels: int):
        mid = unique(f"deep{levels}")
        self.alice.send_message(proxy(BOB), f"deep {levels}", id=mid, payload=nested(levels))
        got = self.alice.wait_for(message(id=mid, type="error"), WAIT, what=f"error for {levels} levels")
        self.assertIn(error_condition(got), REFUSED, to_string(got))
        self.assertEqual(error_text(got), "This stanza is too large or too deeply nested.", to_string(got))
        self.assertEqual(got.get("from"), proxy(BOB), to_string(got))
        # Nothing of it reached bob; a plain message after it does (it is the first he sees).
        after = self.alice.send_message(proxy(BOB), "flat", id=unique("flat"))
        got = self.bob.wait_for(message(frm=proxy(ALICE), where=lambda m: body(m) is not None), WAIT,
                                what="the next relayed message")
        self.assertEqual(got.get("id"), after, "the deep message must not be relayed: " + to_string(got))

    def test_40_levels_are_refused_with_an_error_to_the_sender(self):
        self.send_deep(40)

    def test_100_levels_are_refused_with_an_error_to_the_sender(self):
        self.send_deep(100)

    def test_5000_levels_are_refused_with_an_error_to_the_sender(self):
        self.send_deep(5000)

    def test_chat_to_the_components_full_jid_is_answered(self):
        self.alice.send_message(COMPONENT, "help", id=unique("bare"))
        bare_answer = self.alice.wait_for(message(frm=COMPONENT, where=lambda m: body(m) is not None), WAIT,
                                          what="answer to the bare JID")
        self.alice.send_message(COMPONENT + "/something", "help", id=unique("full"))
        full_answer = self.alice.wait_for(message(frm=COMPONENT + "/something", where=lambda m: body(m) is not None),
                                          WAIT, what="answer from the full JID written to")
        self.assertEqual(body(full_answer), body(bare_answer))
        self.assertEqual(bare_answer.get("from"), COMPONENT)

    def test_writing_to_ones_own_proxy_is_refused(self):
        mid = self.alice.send_message(proxy(ALICE), "to me", id=unique("self"))
        got = self.alice.wait_for(message(id=mid), WAIT, what="answer to a message to oneself")
        self.assertEqual(got.get("type"), "error", "relayed back to the sender: " + to_string(got))
        self.assertEqual(error_condition(got), "not-acceptable", to_string(got))
        self.assertEqual(error_text(got), "You cannot send to yourself through Concierge.")


if __name__ == "__main__":
    unittest.main()
