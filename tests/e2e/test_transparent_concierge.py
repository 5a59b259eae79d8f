# SPDX-License-Identifier: MIT
"""Transparent delivery end to end (issue 10): the real Concierge with [served] mode =
"transparent" on a real Prosody 0.12 with mod_concierge loaded as config/deploy/
prosody-transparent.cfg.lua says (plugin_paths). People write to each other's real addresses.

A module that fails to load fails these tests: nothing is skipped.

Run: /usr/bin/python3 -m unittest -v tests/e2e/test_transparent_concierge.py   (as root)
"""

from __future__ import annotations

import os
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))

from prosody import Concierge, Prosody  # noqa: E402
from xmpp_clients import Client, body, child, message  # noqa: E402

ALICE, BOB = "alice@localhost", "bob@localhost"
NS_DELAY = "urn:xmpp:delay"
WAIT = 10  # seconds for what must arrive (a loaded machine)
QUIET = 1.5  # seconds a message that must not arrive is given to show up


def _logged(read, line: str, count: int = 1, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while read().count(line) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return read().count(line) >= count


class TransparentWithConcierge(unittest.TestCase):
    """One Prosody, one Concierge, alice and bob logged in to their own accounts; the tests run
    in name order (the last one stops Concierge)."""

    @classmethod
    def setUpClass(cls):
        cls.server = Prosody(transparent=True).start()
        cls.concierge = cls.alice = cls.bob = None
        try:
            if not _logged(cls.server.log_text, "mod_concierge ready"):
                raise AssertionError(f"mod_concierge did not load on Prosody:\n{cls.server.log_text()}")
            cls.server.register("alice", "pw")
            cls.server.register("bob", "pw")
            stored = cls.server.log_text().count("Enrolled set generation")
            cls.concierge = Concierge(cls.server, users=(BOB,), served_mode="transparent",
                                      log_level="debug").start()
            # Concierge pushes the enrolled set on connect; the extension stores it.
            if not _logged(cls.server.log_text, "Enrolled set generation", stored + 1):
                raise AssertionError(f"no enrolled set arrived:\n{cls.server.log_text()}")
            cls.alice = Client(cls.server, "alice", "pw", resource="phone").connect()
            cls.bob = Client(cls.server, "bob", "pw", resource="laptop").connect()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for name in ("alice", "bob"):
            if getattr(cls, name, None) is not None:
                getattr(cls, name).disconnect()
        if cls.concierge is not None:
            cls.concierge.stop()
            cls.concierge.cleanup()
        cls.server.stop()

    def command(self, client, text: str) -> str:
        """A chat command to the component; its answer."""
        mid = client.send_message(self.concierge.jid, text)
        answer = client.wait_for(message(frm=self.concierge.jid, where=lambda m: body(m) is not None
                                         and m.get("id") != mid), WAIT, what=f"answer to {text!r}")
        client.take(lambda m: m is answer)
        return body(answer)

    def test_1_a_free_target_gets_it_at_once_from_the_real_sender(self):
        diverted = self.concierge.count_log("<divert")
        mid = self.alice.send_message(BOB, "lunch?", payload='<custom xmlns="urn:example:c">x</custom>')
        got = self.bob.wait_for(message(id=mid), WAIT, what="the message at once")
        self.assertEqual(self.concierge.count_log("<divert"), diverted + 1, "it went through Concierge")
        self.assertEqual(got.get("from"), "alice@localhost/phone")
        self.assertEqual(body(got), "lunch?")
        self.assertIsNotNone(child(got, "urn:example:c", "custom"), "every child kept")
        self.assertIsNone(child(got, NS_DELAY, "delay"), "not held, so no stamp")
        self.assertEqual(self.alice.find(message(frm=self.concierge.jid)), [], "no notice")

    def test_2_a_paused_target_gets_it_at_release_with_concierges_stamp(self):
        self.assertIn("paused until", self.command(self.bob, "pause 1h").lower())
        mid = self.alice.send_message(BOB, "held for later")
        notice = self.alice.wait_for(message(frm=self.concierge.jid, where=lambda m: "bob@localhost" in
                                             (body(m) or "")), WAIT, what="the hold notice")
        self.assertEqual(notice.get("from"), self.concierge.jid, "from the component's bare JID")
        self.assertTrue(body(notice).startswith("Concierge:"), body(notice))
        time.sleep(QUIET)
        self.assertEqual(self.bob.find(message(id=mid)), [], "held while bob is paused")

        self.command(self.bob, "end")
        got = self.bob.wait_for(message(id=mid), WAIT, what="the release when the pause ends")
        self.assertEqual(got.get("from"), "alice@localhost/phone")
        self.assertEqual(body(got), "held for later")
        delay = child(got, NS_DELAY, "delay")
        self.assertIsNotNone(delay, "released with a XEP-0203 stamp")
        self.assertEqual(delay.get("from"), self.concierge.jid)
        time.sleep(QUIET)
        self.assertEqual(len(self.bob.find(message(id=mid))), 1, "exactly one copy")

    def test_3_with_concierge_stopped_messages_flow_directly(self):
        self.concierge.stop()
        diverted = self.concierge.count_log("<divert")
        mid = self.alice.send_message(BOB, "nobody in the middle")
        got = self.bob.wait_for(message(id=mid), WAIT, what="direct delivery")
        self.assertEqual(got.get("from"), "alice@localhost/phone")
        self.assertIsNone(child(got, NS_DELAY, "delay"))
        self.assertEqual(self.concierge.count_log("<divert"), diverted)


if __name__ == "__main__":
    unittest.main()
