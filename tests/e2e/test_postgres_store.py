# SPDX-License-Identifier: MIT
"""End-to-end on Prosody with the PostgreSQL store ([store] url + password_file, issue #12):
a message to a paused user is held, and the hold is a committed row in PostgreSQL before its
sender hears of it; Concierge is killed with -9, restarted on the same database, and the held
message is released to its target (the pause lived in memory only).
"""

from __future__ import annotations

import os
import signal
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))

from relay_scenarios import ALICE, BOB, PASSWORD, WAIT, Client, Concierge, message, proxy, stop_stack, unique  # noqa: E402
from postgres import PostgreSQL  # noqa: E402
from prosody import Prosody  # noqa: E402
from xmpp_clients import body  # noqa: E402

COMPONENT = "sched.localhost"


def is_notice(m) -> bool:
    return (body(m) or "").startswith("Concierge:")


class PostgresStore(unittest.TestCase):
    def setUp(self):
        self.pg = PostgreSQL().start()
        self.addCleanup(self.pg.stop)
        self.server = Prosody().start()
        self.concierge = None
        self.clients = {}
        self.addCleanup(lambda: stop_stack(self.server, self.concierge, self.clients))
        for u in ("alice", "bob"):
            self.server.register(u, PASSWORD)
        self.concierge = Concierge(self.server, users=(ALICE, BOB), store_url=self.pg.url,
                                   store_password_file=self.pg.password_file).start(timeout=WAIT)
        for u in ("alice", "bob"):
            self.clients[u] = Client(self.server, u, PASSWORD).connect(timeout=WAIT)
        self.alice, self.bob = self.clients["alice"], self.clients["bob"]

    def test_a_held_message_is_committed_in_postgresql_and_released_after_a_kill_9(self):
        self.bob.send_message(COMPONENT, "pause 1h")
        paused = self.bob.wait_for(message(frm=COMPONENT, where=lambda m: not is_notice(m)), WAIT,
                                   what="the answer to pause")
        self.assertTrue((body(paused) or "").startswith("Paused until"), body(paused))

        mid = self.alice.send_message(proxy(BOB), "held in PostgreSQL", id=unique("pg"))
        notice = self.alice.wait_for(message(frm=proxy(BOB), where=is_notice), WAIT, what="the held notice")
        self.assertIn("bob@localhost is busy until", body(notice))
        # Told only after the commit: the row is there, seen from another connection.
        self.assertEqual(self.pg.psql(f"SELECT count(*) FROM holds WHERE stanza_id = '{mid}'"), "1")
        self.assertEqual(self.bob.find(message(frm=proxy(ALICE), id=mid)), [], "held, not delivered yet")

        os.kill(self.concierge.proc.pid, signal.SIGKILL)
        self.concierge.proc.wait(WAIT)
        self.concierge.start(timeout=WAIT)
        # The pause is in the store too: nothing comes until bob ends it, and "end" finds it.
        self.bob.send_message(COMPONENT, "end")
        ended = self.bob.wait_for(message(frm=COMPONENT, where=lambda m: "pause" in (body(m) or "").lower()),
                                  WAIT, what="the answer to end")
        self.assertEqual(body(ended), "Pause ended: messages reach you again.", "the pause survived the kill")
        got = self.bob.wait_for(message(frm=proxy(ALICE), id=mid), WAIT, what="the held message, released")
        self.assertEqual(body(got), "held in PostgreSQL")
        self.assertNotIn(PostgreSQL.PASSWORD, self.concierge.stderr_text(), "the password is never logged")


if __name__ == "__main__":
    unittest.main()
