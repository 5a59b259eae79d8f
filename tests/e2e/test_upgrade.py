# SPDX-License-Identifier: MIT
"""End-to-end on Prosody: an upgrade. The store of the previous release (schema version 2, built
from tests/e2e/fixtures/store_schema_v2.sql, with two messages alice sent bob while he was off
duty and a user who enrolled herself) is opened by this build: it is migrated in place, the held
messages are still held (alice's `held` lists them, bob gets nothing while off duty), then
released when bob's working time starts, each with its original time stamp; the self-enrolled
user is still enrolled.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sqlite3
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from relay_scenarios import ALICE, BOB, PASSWORD, WAIT, Client, Concierge, message, proxy, stop_stack  # noqa: E402
from prosody import Prosody  # noqa: E402
from test_scheduler import NS_DELAY, calendar_starting_in  # noqa: E402
from xmpp_clients import body, child, to_string  # noqa: E402

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "store_schema_v2.sql"
COMPONENT = "sched.localhost"
ERIN = "erin@localhost"  # enrolled herself (a row in the old store), not in the config
OFF_HOURS = 0  # core::HoldReason::off_hours
HELD = 0  # core::HoldState::held
SHIFT_STARTS_IN = 12  # seconds: bob's working time starts after the holds were checked


def old_store(path: str, now_ms: int) -> None:
    """The previous release's store: its schema and rows as it wrote them."""
    db = sqlite3.connect(path)
    try:
        db.executescript(FIXTURE.read_text())
        for n, (minutes_ago, text) in enumerate([(120, "sent before the upgrade"), (60, "and again")], 1):
            stanza = (f'<message xmlns="jabber:component:accept" from="alice\\40localhost@{COMPONENT}"'
                      f' to="{BOB}" type="chat" id="old-{n}"><body>{text}</body>'
                      f'<origin-id xmlns="urn:xmpp:sid:0" id="origin-old-{n}"/></message>')
            db.execute("INSERT INTO holds (id, sender, target, stanza, stanza_id, received_ms, reason, state,"
                       " sent_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)",
                       (n, ALICE, BOB, stanza, f"old-{n}", now_ms - minutes_ago * 60_000, OFF_HOURS, HELD))
        db.execute("INSERT INTO enrolments VALUES (?, 'Europe/Berlin', '', ?)", (ERIN, now_ms - 86_400_000))
        db.commit()
    finally:
        db.close()


def header(path: str) -> tuple[int, int, list[str]]:
    db = sqlite3.connect(path)
    try:
        tables = sorted(r[0] for r in db.execute("SELECT name FROM sqlite_schema WHERE type = 'table'"))
        return (db.execute("PRAGMA application_id").fetchone()[0], db.execute("PRAGMA user_version").fetchone()[0],
                tables)
    finally:
        db.close()


class Upgrade(unittest.TestCase):
    def test_the_previous_releases_store_is_migrated_and_its_holds_released(self):
        tmp = tempfile.mkdtemp(prefix="concierge-upgrade-")
        self.addCleanup(shutil.rmtree, tmp, True)
        store = os.path.join(tmp, "concierge.db")
        now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
        old_store(store, int(now.timestamp()) * 1000)
        self.assertEqual(header(store)[1], 2)
        calendar = os.path.join(tmp, "bob.ics")
        Path(calendar).write_text(calendar_starting_in(SHIFT_STARTS_IN))

        server = Prosody().start()
        concierge, clients = None, {}
        self.addCleanup(lambda: stop_stack(server, concierge, clients))
        for u in ("alice", "bob"):
            server.register(u, PASSWORD)
        concierge = Concierge(server, users=(ALICE,), store_path=store,
                              extra_config=f'[users."{BOB}"]\ntimezone = "UTC"\ncalendar = "{calendar}"\n')
        concierge.start(timeout=WAIT)
        alice = clients["alice"] = Client(server, "alice", PASSWORD).connect(timeout=WAIT)
        bob = clients["bob"] = Client(server, "bob", PASSWORD).connect(timeout=WAIT)
        self.assertTrue(concierge.wait_log(f"schedule of {BOB} compiled", WAIT) or
                        concierge.wait_log("compiled schedules of", WAIT), concierge.stderr_text()[-2000:])

        # Migrated in place: same file, this build's version, the old tables kept.
        app_id, version, tables = header(store)
        self.assertEqual((app_id, version), (0x434E4347, 3))
        self.assertTrue({"holds", "enrolments", "user_settings"} <= set(tables), tables)

        # The holds survived: alice sees both waiting for bob, and bob (off duty) got nothing.
        alice.send_message(COMPONENT, "held")
        answer = alice.wait_for(message(frm=COMPONENT), WAIT, what="the answer to 'held'")
        self.assertIn(f"{BOB}: 2 messages, oldest 2 h", body(answer))
        self.assertEqual(bob.find(message(frm=proxy(ALICE))), [])
        # erin's enrolment survived too (not in the config): she is a target.
        alice.send_message(COMPONENT, f"when {ERIN}")
        answer = alice.wait_for(message(frm=COMPONENT, where=lambda m: ERIN in (body(m) or "")), WAIT)
        self.assertEqual(body(answer), f"{ERIN} is free now.")

        # bob's shift starts: both are released in order, stamped when alice sent them.
        for n, minutes_ago, text in ((1, 120, "sent before the upgrade"), (2, 60, "and again")):
            got = bob.wait_for(message(frm=proxy(ALICE), id=f"old-{n}"), SHIFT_STARTS_IN + WAIT,
                               what=f"released message {n}")
            self.assertEqual(body(got), text)
            delay = child(got, NS_DELAY, "delay")
            self.assertIsNotNone(delay, to_string(got))
            stamp = dt.datetime.strptime(delay.get("stamp")[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=dt.timezone.utc)
            self.assertEqual(stamp, now - dt.timedelta(minutes=minutes_ago))
        alice.send_message(COMPONENT, "held")
        answer = alice.wait_for(message(frm=COMPONENT, where=lambda m: "held" in (body(m) or "")), WAIT)
        self.assertEqual(body(answer), "Nothing you sent is held.")


if __name__ == "__main__":
    unittest.main()
