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
from xmpp_clients import Client, message  # noqa: E402


def _prosody():
    server = Prosody(component_domain=COMPONENT, component_secret=SECRET, transparent=True).start()
    if "mod_concierge ready" not in server.log_text():
        log = server.log_text()
        server.stop()
        raise AssertionError(f"mod_concierge did not load on Prosody:\n{log}")
    return server


def _ejabberd():
    server = Ejabberd(component_domain=COMPONENT, component_secret=SECRET, transparent=True).start()
    deadline = time.monotonic() + 10  # the log line may follow reload_config's return
    while "mod_concierge started" not in server.log_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    if "mod_concierge started" not in server.log_text():
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
            server.restart()
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


if __name__ == "__main__":
    unittest.main()
