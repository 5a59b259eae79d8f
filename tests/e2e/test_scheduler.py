# SPDX-License-Identifier: MIT
"""End-to-end on Prosody: messages held while the target is in another conversation or outside
working time, released later with their original time stamp; holds survive kill -9.

Durations come from the config (session.idle_after = 3s) so every wait is short and bounded.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from relay_scenarios import (ALICE, BOB, CAROL, PASSWORD, WAIT, Client, Concierge, message, proxy,  # noqa: E402
                             start_stack, stop_stack, unique)
from prosody import Prosody  # noqa: E402
from xmpp_clients import body, child, to_string  # noqa: E402

NS_DELAY = "urn:xmpp:delay"


def utc(t: dt.datetime) -> str:
    return t.strftime("%Y%m%dT%H%M%SZ")


def calendar_starting_in(seconds: int) -> str:
    """A work calendar whose only working time starts `seconds` from now and lasts an hour."""
    start = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) + dt.timedelta(seconds=seconds)
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//concierge e2e//EN\r\nBEGIN:VEVENT\r\n"
            f"UID:shift-{unique('x')}\r\nDTSTAMP:{utc(start)}\r\nDTSTART:{utc(start)}\r\n"
            f"DTEND:{utc(start + dt.timedelta(hours=1))}\r\nSUMMARY:Shift\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")


class Scheduler(unittest.TestCase):
    SERVER_ARGS: dict = {}

    def start(self, extra_config: str = "", enrolled=(ALICE, BOB, CAROL)):
        # debug: stanzas without bodies, which lets the test see presence.
        self.server, self.concierge, self.clients = start_stack(
            Prosody, users=("alice", "bob", "carol"), enrolled=enrolled, extra_config=extra_config,
            log_level="debug", **self.SERVER_ARGS)
        self.alice, self.bob, self.carol = (self.clients[u] for u in ("alice", "bob", "carol"))

    def wait_presence_known(self, user: str) -> None:
        """Until Concierge has taken in a presence of `user` (its debug log shows stanzas, never
        bodies): right after a (re)start presence is unknown, and unknown is not available."""
        import time
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            for line in self.concierge.stderr_text().splitlines():
                if " in: <presence" in line and f'from="{user}/' in line:
                    return
            time.sleep(0.05)
        self.fail(f"Concierge never saw a presence of {user}")

    def tearDown(self):
        stop_stack(self.server, self.concierge, self.clients)

    def test_held_while_bob_talks_to_carol_then_released_with_its_stamp(self):
        self.start('[session]\nidle_after = "3s"\n')
        self.bob.send_raw("<presence/>")
        self.wait_presence_known(BOB)
        # bob and carol are in a conversation (both wrote): it counts against bob.
        mid = self.carol.send_message(proxy(BOB), "carol here")
        self.bob.wait_for(message(frm=proxy(CAROL), id=mid), WAIT)
        mid = self.bob.send_message(proxy(CAROL), "hi carol")
        self.carol.wait_for(message(frm=proxy(BOB), id=mid), WAIT)

        sent_at = dt.datetime.now(dt.timezone.utc)
        mid = self.alice.send_message(proxy(BOB), "can we talk?", id=unique("held"))
        notice = self.alice.wait_for(message(frm=proxy(BOB), where=lambda m: (body(m) or "").startswith("Concierge:")),
                                     WAIT, what="the hold notice")
        self.assertIn("in another conversation; you are #1 in line", body(notice))
        self.assertIsNotNone(child(notice, "urn:xmpp:hints", "no-store"), to_string(notice))
        self.assertEqual(self.bob.find(message(id=mid)), [], "held, not delivered while bob is busy")

        # bob's conversation with carol goes idle after 3 s: alice's message is released.
        got = self.bob.wait_for(message(frm=proxy(ALICE), id=mid), 3 + WAIT, what="the released message")
        delivered_at = dt.datetime.now(dt.timezone.utc)
        self.assertEqual(body(got), "can we talk?")
        delay = child(got, NS_DELAY, "delay")
        self.assertIsNotNone(delay, to_string(got))
        self.assertEqual(delay.get("from"), "sched.localhost")
        stamp = dt.datetime.strptime(delay.get("stamp")[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=dt.timezone.utc)
        # The stamp is when alice sent it (to the second), not when it was released ≥ 2 s later.
        self.assertLessEqual(abs((stamp - sent_at).total_seconds()), 1.5, (stamp, sent_at))
        self.assertGreaterEqual((delivered_at - stamp).total_seconds(), 2, (stamp, delivered_at))

    def test_held_until_working_time_starts_then_delivered(self):
        path = os.path.join(self._tmp(), "bob.ics")
        with open(path, "w") as f:
            f.write(calendar_starting_in(12))
        self.start(f'[users."{BOB}"]\ntimezone = "UTC"\ncalendar = "{path}"\n', enrolled=(ALICE, CAROL))
        self.assertTrue(self.concierge.wait_log(f"schedule of {BOB} compiled", WAIT),
                        self.concierge.stderr_text()[-2000:])
        mid = self.alice.send_message(proxy(BOB), "for your shift", id=unique("shift"))
        notice = self.alice.wait_for(message(frm=proxy(BOB), where=lambda m: (body(m) or "").startswith("Concierge:")),
                                     WAIT, what="the off-hours notice")
        self.assertIn("is off until", body(notice))
        self.assertEqual(self.bob.find(message(id=mid)), [])
        got = self.bob.wait_for(message(frm=proxy(ALICE), id=mid), 12 + WAIT, what="delivery when the shift starts")
        self.assertIsNotNone(child(got, NS_DELAY, "delay"), to_string(got))
        summary = self.bob.wait_for(message(frm="sched.localhost"), WAIT, what="the summary before the release")
        self.assertIn("1 person wrote 1 message", body(summary))

    def test_kill_9_loses_no_held_message(self):
        self.start()
        self.bob.disconnect()  # bob is known offline: messages to him are held
        ids = []
        notice_seen = False
        for i in range(3):
            ids.append(self.alice.send_message(proxy(BOB), f"held {i}", id=unique(f"k{i}")))
            if not notice_seen:
                n = self.alice.wait_for(message(frm=proxy(BOB), where=lambda m: (body(m) or "").startswith("Concierge:")),
                                        WAIT, what="the offline notice")
                self.assertIn("offline", body(n))
                notice_seen = True
        # Make sure all three are committed: "held" counts only what the store committed (a
        # message of the same loop turn as the command is not counted yet).
        import time
        deadline = time.monotonic() + WAIT
        while True:
            self.alice.send_message("sched.localhost", "held")
            listing = body(self.alice.wait_for(message(frm="sched.localhost"), WAIT, what="held listing"))
            if "3 messages" in listing or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        self.assertIn("3 messages", listing)
        os.kill(self.concierge.proc.pid, signal.SIGKILL)
        self.concierge.proc.wait(WAIT)
        self.concierge.start(timeout=WAIT)
        self.clients["bob"] = self.bob = Client(self.server, "bob", PASSWORD).connect(timeout=WAIT)
        got = [self.bob.wait_for(message(frm=proxy(ALICE), id=i), WAIT, what=f"released {i}") for i in ids]
        self.assertEqual([body(g) for g in got], ["held 0", "held 1", "held 2"])

    def test_pool_routes_to_a_member_and_hides_who_answered(self):
        self.start('[pools."helpdesk"]\nmembers = ["bob@localhost", "carol@localhost"]\n')
        pool = "helpdesk@sched.localhost"
        mid = self.alice.send_message(pool, "my printer is on fire", id=unique("pool"))
        got = None
        for member in (self.bob, self.carol):
            found = member.find(message(id=mid))
            if found:
                got, answering = found[0], member
        if got is None:  # not there yet: wait for either, bounded
            import time
            deadline = time.monotonic() + WAIT
            while got is None and time.monotonic() < deadline:
                for member in (self.bob, self.carol):
                    found = member.find(message(id=mid))
                    if found:
                        got, answering = found[0], member
                time.sleep(0.05)
        self.assertIsNotNone(got, "no member received the pool message")
        reserved = got.get("from")
        self.assertTrue(reserved.startswith("helpdesk\\20alice\\40localhost@"), reserved)
        rid = answering.send_message(reserved, "on my way", id=unique("answer"))
        answer = self.alice.wait_for(message(id=rid), WAIT, what="the member's answer")
        self.assertEqual(answer.get("from").split("/")[0], pool, "the sender only sees the pool")
        self.assertNotIn(answering.bare, to_string(answer))

    def test_ad_hoc_and_chat_commands_pause_a_user(self):
        self.start()
        NS = "http://jabber.org/protocol/commands"
        items = self.bob.send_iq("sched.localhost",
                                 f'<query xmlns="http://jabber.org/protocol/disco#items" node="{NS}"/>')
        self.assertIn('node="pause"', to_string(items))
        ask = self.bob.send_iq("sched.localhost", f'<command xmlns="{NS}" node="pause" action="execute"/>',
                               type="set")
        cmd = child(ask, NS, "command")
        self.assertEqual(cmd.get("status"), "executing", to_string(ask))
        done = self.bob.send_iq(
            "sched.localhost",
            f'<command xmlns="{NS}" node="pause" sessionid="{cmd.get("sessionid")}">'
            '<x xmlns="jabber:x:data" type="submit"><field var="duration"><value>1h</value></field></x>'
            '</command>', type="set")
        self.assertIn("Paused until", to_string(done))
        # While bob is paused, alice's message waits, and she is told he is busy.
        mid = self.alice.send_message(proxy(BOB), "during the pause", id=unique("p"))
        n = self.alice.wait_for(message(frm=proxy(BOB), where=lambda m: (body(m) or "").startswith("Concierge:")),
                                WAIT, what="the busy notice")
        self.assertIn("is busy until", body(n))
        # "end" as a chat command ends the pause: the message is released.
        self.bob.send_message("sched.localhost", "end")
        self.bob.wait_for(message(frm=proxy(ALICE), id=mid), WAIT, what="released when the pause ends")

    def test_admin_backup_and_stats_and_refusal_for_others(self):
        self.start('[admin]\njids = ["alice@localhost"]\n')
        self.bob.send_message("sched.localhost", "stats")
        no = self.bob.wait_for(message(frm="sched.localhost"), WAIT, what="refusal")
        self.assertIn("Only Concierge's admins", body(no))
        self.alice.send_message("sched.localhost", "backup")
        self.alice.wait_for(message(frm="sched.localhost", where=lambda m: "Backing up" in (body(m) or "")), WAIT)
        done = self.alice.wait_for(message(frm="sched.localhost", where=lambda m: "Backed up" in (body(m) or "")),
                                   WAIT, what="the backup's outcome")
        path = body(done).split(" to ", 1)[1].rstrip(".")
        self.assertTrue(os.path.getsize(path) > 0, path)
        import sqlite3
        with sqlite3.connect(path) as db:
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_schema WHERE type='table'")}
        self.assertIn("holds", tables)
        self.alice.send_message("sched.localhost", "stats")
        stats = self.alice.wait_for(message(frm="sched.localhost", where=lambda m: "Enrolled" in (body(m) or "")), WAIT)
        self.assertIn("3 by the config", body(stats))

    def test_calendar_url_is_fetched_and_followed(self):
        import http.server
        import threading
        calendar = calendar_starting_in(12).encode()
        hits = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                hits.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "text/calendar")
                self.send_header("ETag", '"v1"')
                self.send_header("Content-Length", str(len(calendar)))
                self.end_headers()
                self.wfile.write(calendar)

            def log_message(self, *args):
                pass

        httpd = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        self.addCleanup(httpd.shutdown)
        url = f"http://127.0.0.1:{httpd.server_port}/bob.ics"
        # Loopback and plain http are allowed only with schedule.allow_private_urls (tests).
        self.start(f'[schedule]\nallow_private_urls = true\n\n[users."{BOB}"]\ntimezone = "UTC"\n'
                   f'calendar = "{url}"\n', enrolled=(ALICE, CAROL))
        self.assertTrue(self.concierge.wait_log(f"schedule of {BOB} compiled", WAIT),
                        self.concierge.stderr_text()[-2000:])
        self.assertEqual(hits, ["/bob.ics"])
        self.assertNotIn(url, self.concierge.stderr_text(), "URLs are secrets: never in the log")
        mid = self.alice.send_message(proxy(BOB), "when your shift starts", id=unique("url"))
        n = self.alice.wait_for(message(frm=proxy(BOB), where=lambda m: (body(m) or "").startswith("Concierge:")),
                                WAIT, what="the off-hours notice")
        self.assertIn("is off until", body(n))
        self.bob.wait_for(message(frm=proxy(ALICE), id=mid), 12 + WAIT, what="delivery when the shift starts")

    def test_calendar_url_on_loopback_is_refused_without_allow_private(self):
        self.start(f'[users."{BOB}"]\ntimezone = "UTC"\ncalendar = "https://127.0.0.1:9/bob.ics"\n',
                   enrolled=(ALICE, CAROL))
        self.assertTrue(self.concierge.wait_log("previous schedule stays in force", WAIT),
                        self.concierge.stderr_text()[-2000:])
        self.assertIn("not allowed", self.concierge.stderr_text())

    def _tmp(self) -> str:
        import tempfile
        d = tempfile.mkdtemp(prefix="concierge-e2e-cal-")
        self.addCleanup(lambda: __import__("shutil").rmtree(d, ignore_errors=True))
        return d


class WithOfflineStorage(unittest.TestCase):
    """Prosody with mod_offline: a known-offline target in working time gets the held message
    when he logs in — once, from Concierge, not also from the server's offline storage."""

    def setUp(self):
        self.server, self.concierge, self.clients = start_stack(
            Prosody, users=("alice", "bob"), enrolled=(ALICE, BOB), offline=True)

    def tearDown(self):
        stop_stack(self.server, self.concierge, self.clients)

    def test_offline_target_gets_the_hold_on_login_exactly_once(self):
        alice = self.clients["alice"]
        self.clients["bob"].disconnect()
        mid = alice.send_message(proxy(BOB), "see this when you are back", id=unique("offline"))
        n = alice.wait_for(message(frm=proxy(BOB), where=lambda m: (body(m) or "").startswith("Concierge:")),
                           WAIT, what="the offline notice")
        self.assertIn("is offline", body(n))
        bob = self.clients["bob"] = Client(self.server, "bob", PASSWORD).connect(timeout=WAIT)
        got = bob.wait_for(message(frm=proxy(ALICE), id=mid), WAIT, what="the held message on login")
        self.assertIsNotNone(child(got, NS_DELAY, "delay"), to_string(got))
        # A marker after it: once it arrives, a duplicate would have arrived too.
        marker = alice.send_message(proxy(BOB), "marker", id=unique("marker"))
        bob.wait_for(message(frm=proxy(ALICE), id=marker), WAIT)
        self.assertEqual(len(bob.find(message(id=mid))), 1, "delivered exactly once")


if __name__ == "__main__":
    unittest.main()
