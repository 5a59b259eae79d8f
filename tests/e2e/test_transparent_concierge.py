# SPDX-License-Identifier: MIT
"""Transparent delivery end to end (issue 10): the real Concierge with [served] mode =
"transparent" on a real Prosody 0.12 (mod_concierge loaded through plugin_paths as
config/deploy/prosody-transparent.cfg.lua says) and a real ejabberd 23.01 (mod_concierge built
and installed as a contrib module, CONTRIB_MODULES_PATH + module_install, as
config/deploy/ejabberd-transparent.yml says). People write to each other's real addresses.

A module that fails to load fails these tests: nothing is skipped.

Run: /usr/bin/python3 -m unittest -v tests/e2e/test_transparent_concierge.py   (as root)
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import sys
import time
import unittest
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from prosody import Concierge, Ejabberd, Prosody  # noqa: E402
from test_scheduler import calendar_starting_in  # noqa: E402
from test_transparent import NS_CARBONS, NS_MAM, _archived, _carbons, _iq  # noqa: E402
from transparent_scenarios import OMEMO, same_xml  # noqa: E402
from xmpp_clients import Client, body, child, message  # noqa: E402

ALICE, BOB, CAROL = "alice@localhost", "bob@localhost", "carol@localhost"
NS_DELAY = "urn:xmpp:delay"
WAIT = 10  # seconds for what must arrive (a loaded machine)
QUIET = 1.5  # seconds a message that must not arrive is given to show up
TIMEOUT = 5  # the extensions' default verdict timeout (concierge_timeout / timeout)
SHIFT_IN = 8  # seconds from the reload until carol's working time starts


def _logged(read, line: str, count: int = 1, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while read().count(line) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return read().count(line) >= count


class TransparentWithConcierge:
    """One server, one Concierge, alice, bob and carol logged in to their own accounts; the
    tests run in name order (the last one stops Concierge). Mixed into a TestCase that sets
    make_server() (started, modules asked for) and READY (the module's loaded line)."""

    READY = ""

    @classmethod
    def make_server(cls):
        raise NotImplementedError

    @classmethod
    def setUpClass(cls):
        cls.server = cls.make_server()
        cls.concierge = cls.alice = cls.bob = cls.carol = None
        try:
            if not _logged(cls.server.log_text, cls.READY):
                raise AssertionError(f"mod_concierge did not load on {type(cls.server).__name__}:\n"
                                     f"{cls.server.log_text()}")
            for user in ("alice", "bob", "carol"):
                cls.server.register(user, "pw")
            stored = cls.server.log_text().count("Enrolled set generation")
            cls.concierge = Concierge(cls.server, users=(BOB,), served_mode="transparent",
                                      log_level="debug").start()
            # Concierge pushes the enrolled set on connect; the extension stores it.
            if not _logged(cls.server.log_text, "Enrolled set generation", stored + 1):
                raise AssertionError(f"no enrolled set arrived:\n{cls.server.log_text()}")
            cls.alice = Client(cls.server, "alice", "pw", resource="phone").connect()
            cls.bob = Client(cls.server, "bob", "pw", resource="laptop").connect()
            cls.carol = Client(cls.server, "carol", "pw", resource="desk").connect()
            for c in (cls.alice, cls.bob):
                _iq(c, f"<prefs xmlns='{NS_MAM}' default='always'/>")  # ejabberd archives nothing by default
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for name in ("alice", "bob", "carol"):
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
                                         and not body(m).startswith("Concierge:")  # notices, summaries
                                         and m.get("id") != mid), WAIT, what=f"answer to {text!r}")
        client.take(lambda m: m is answer)
        return body(answer)

    def notice_naming(self, target: str, words: str = ""):
        """The next hold notice to alice naming `target` (and saying `words`), not a 'delivered' one."""
        def hold(m) -> bool:
            text = body(m) or ""
            return target in text and words in text and "was delivered" not in text
        return self.alice.wait_for(message(frm=self.concierge.jid, where=hold), WAIT,
                                   what=f"the hold notice naming {target}")

    def timeouts_logged(self) -> int:
        """How often the extension logged a divert it delivered for want of an answer."""
        log = self.server.log_text()
        return log.count("no answer within") + log.count("no answer in time")  # Prosody, ejabberd

    def assert_released(self, client, mid: str, text: str):
        """`client` got `mid` once, from alice's real JID, with Concierge's stamp."""
        got = client.wait_for(message(id=mid), WAIT, what=f"the release of {text!r}")
        self.assertEqual(got.get("from"), "alice@localhost/phone")
        self.assertEqual(body(got), text)
        delay = child(got, NS_DELAY, "delay")
        self.assertIsNotNone(delay, "released with a XEP-0203 stamp")
        self.assertEqual(delay.get("from"), self.concierge.jid)
        time.sleep(QUIET)
        self.assertEqual(len(client.find(message(id=mid))), 1, "exactly one copy")
        return got

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

    def test_1b_a_pass_lets_the_next_plain_messages_go_without_a_divert(self):
        """Bob is free: Concierge's deliver carried a pass, so the next messages go through the
        server's own routing, are only reported, and arrive at once and in order (test_2 then
        shows the pause ending the pass)."""
        diverted = self.concierge.count_log("<divert")
        passed = self.concierge.count_log('passed="true"')
        mids = [self.alice.send_message(BOB, f"quick one {i}") for i in range(5)]
        for mid in mids:
            self.bob.wait_for(message(id=mid), WAIT, what="a passed message at once")
        got = [m.get("id") for m in self.bob.find(message(frm="alice@localhost/phone")) if m.get("id") in mids]
        self.assertEqual(got, mids, "in the order sent, once each")
        self.assertTrue(self.concierge.wait_log('passed="true"', WAIT, count=passed + 4),
                        "at least four reported as passed")
        self.assertLessEqual(self.concierge.count_log("<divert") - diverted, 1,
                             "at most the first asked about (a pass from test_1 may still hold)")
        self.assertEqual(self.alice.find(message(frm=self.concierge.jid)), [], "no notice")

    def test_2_a_paused_target_gets_it_at_release_with_concierges_stamp(self):
        self.assertIn("paused until", self.command(self.bob, "pause 1h").lower())
        mid = self.alice.send_message(BOB, "held for later")
        notice = self.notice_naming(BOB)
        self.assertEqual(notice.get("from"), self.concierge.jid, "from the component's bare JID")
        self.assertTrue(body(notice).startswith("Concierge:"), body(notice))
        eid = self.alice.send_message(BOB, None, payload=[OMEMO])  # no body: held all the same
        time.sleep(QUIET)
        self.assertEqual(self.bob.find(message(id=mid)), [], "held while bob is paused")
        self.assertEqual(self.bob.find(message(id=eid)), [], "an encrypted-only message went at once")
        self.command(self.bob, "end")
        self.assert_released(self.bob, mid, "held for later")
        got = self.bob.wait_for(message(id=eid), WAIT, what="the encrypted-only message's release")
        self.assertEqual(got.get("from"), "alice@localhost/phone")
        self.assertEqual(child(got, NS_DELAY, "delay").get("from"), self.concierge.jid)
        received = child(got, "eu.siacs.conversations.axolotl", "encrypted")
        self.assertTrue(received is not None and same_xml(received, ET.fromstring(OMEMO)))
        self.assertEqual(len(self.bob.find(message(id=eid))), 1, "exactly one copy")

    def test_3_one_archive_copy_and_a_received_carbon_only_at_release(self):
        phone = Client(self.server, "bob", "pw", resource="phone").connect()
        try:
            _iq(phone, f"<prefs xmlns='{NS_MAM}' default='always'/>")
            _iq(phone, f"<enable xmlns='{NS_CARBONS}'/>")
            self.assertIn("paused until", self.command(self.bob, "pause 1h").lower())
            mid = self.alice.send_message(self.bob.jid, "archived once")  # to the full JID: carbons
            self.notice_naming(BOB)
            time.sleep(QUIET)
            self.assertEqual(self.bob.find(message(id=mid)), [], "held while bob is paused")
            self.assertEqual(_carbons(phone, "received", mid), [], "a received carbon before the release")
            self.assertEqual(_archived(self.bob, mid), 0, "archived before the release")
            self.assertEqual(_archived(self.alice, mid), 1, "alice's own archive")
            self.command(self.bob, "end")
            self.assert_released(self.bob, mid, "archived once")
            self.assertEqual(len(_carbons(phone, "received", mid)), 1, "one received carbon at release")
            self.assertEqual(_archived(self.bob, mid), 1, "bob's archive")
            self.assertEqual(_archived(self.alice, mid), 1, "alice's archive unchanged")
        finally:
            phone.disconnect()

    def test_4_an_offline_target_gets_it_when_back_online(self):
        seen = self.concierge.stderr_text().count("in: <presence")
        self.bob.disconnect()

        def offline_seen() -> bool:  # Concierge took in bob's unavailable presence (debug log)
            lines = self.concierge.stderr_text().split("in: <presence")[seen + 1:]
            return any("bob@localhost/laptop" in ln.split("\n", 1)[0] and "unavailable" in ln.split("\n", 1)[0]
                       for ln in lines)
        self.assertTrue(_logged(lambda: "yes" if offline_seen() else "", "yes"), "Concierge never saw bob leave")
        try:
            mid = self.alice.send_message(BOB, "when you are back")
            self.notice_naming(BOB, "offline")
        finally:
            self.bob.reconnect()
        self.assert_released(self.bob, mid, "when you are back")

    def test_5_an_off_duty_target_gets_it_when_working_time_starts(self):
        path = os.path.join(self.concierge.dir, "carol.ics")
        with open(path, "w") as f:
            f.write(calendar_starting_in(SHIFT_IN))
        shift = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) + dt.timedelta(seconds=SHIFT_IN)
        stored = self.server.log_text().count("Enrolled set generation")
        self.concierge.reload(extra_config=f'[users."{CAROL}"]\ntimezone = "UTC"\ncalendar = "{path}"\n')
        self.assertTrue(self.concierge.wait_log(f"schedule of {CAROL} compiled", WAIT),
                        self.concierge.stderr_text()[-2000:])
        self.assertTrue(_logged(self.server.log_text, "Enrolled set generation", stored + 1), "carol not pushed")
        mid = self.alice.send_message(CAROL, "for your shift")
        self.notice_naming(CAROL, "is off until")
        time.sleep(QUIET)
        self.assertEqual(self.carol.find(message(id=mid)), [], "held while carol is off duty")
        self.assertLess(dt.datetime.now(dt.timezone.utc), shift, "the shift began before the check")
        self.assert_released(self.carol, mid, "for your shift")
        self.assertGreaterEqual(dt.datetime.now(dt.timezone.utc), shift, "released before the shift")

    def test_6_concierge_killed_while_a_divert_is_pending_delivered_by_the_timeout(self):
        undecided = self.timeouts_logged()
        self.concierge.proc.send_signal(signal.SIGSTOP)  # it reads nothing more: the divert waits
        try:
            sent = time.monotonic()
            mid = self.alice.send_message(BOB, "anyone there?")
            time.sleep(QUIET)
            self.assertEqual(self.bob.find(message(id=mid)), [], "delivered while the divert was pending")
        finally:
            self.concierge.proc.send_signal(signal.SIGKILL)
            self.concierge.wait_exit(WAIT)
        got = self.bob.wait_for(message(id=mid), TIMEOUT + WAIT, what="delivery by the timeout")
        self.assertGreaterEqual(time.monotonic() - sent, TIMEOUT - 0.5, "not by the timeout")
        self.assertEqual(got.get("from"), "alice@localhost/phone")
        self.assertIsNone(child(got, NS_DELAY, "delay"))
        self.assertGreater(self.timeouts_logged(), undecided, "the extension's timeout")
        # Concierge back: diverting resumes, and the message it never read is not delivered again
        stored = self.server.log_text().count("Enrolled set generation")
        self.concierge.start()
        self.assertTrue(_logged(self.server.log_text, "Enrolled set generation", stored + 1))
        diverted = self.concierge.count_log("<divert")
        mid2 = self.alice.send_message(BOB, "and again")
        self.bob.wait_for(message(id=mid2), WAIT, what="the next message at once")
        self.assertEqual(self.concierge.count_log("<divert"), diverted + 1)
        self.assertEqual(len(self.bob.find(message(id=mid))), 1, "delivered twice")

    def test_7_with_concierge_stopped_messages_flow_directly(self):
        self.concierge.stop()
        diverted = self.concierge.count_log("<divert")
        mid = self.alice.send_message(BOB, "nobody in the middle")
        got = self.bob.wait_for(message(id=mid), TIMEOUT - 1, what="direct delivery, not by the timeout")
        self.assertEqual(got.get("from"), "alice@localhost/phone")
        self.assertIsNone(child(got, NS_DELAY, "delay"))
        self.assertEqual(self.concierge.count_log("<divert"), diverted)


class OnProsody(TransparentWithConcierge, unittest.TestCase):
    READY = "mod_concierge ready"
    make_server = staticmethod(lambda: Prosody(transparent=True, modules=("mam", "carbons")).start())


class OnEjabberd(TransparentWithConcierge, unittest.TestCase):
    READY = "mod_concierge started"
    make_server = staticmethod(lambda: Ejabberd(transparent=True, modules=("mod_mam", "mod_carboncopy")).start())


if __name__ == "__main__":
    unittest.main()
