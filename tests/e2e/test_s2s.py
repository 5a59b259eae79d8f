# SPDX-License-Identifier: MIT
"""Senders on another server (issue 10, `[served] remote`): two servers on loopback, each with
its own domain, s2s between them (tests/support/s2s_prosody.py: dialback without TLS, and a
test-only module that sends s2s for the other domain to its port on 127.0.0.1 — the machine's
/etc/hosts untouched). Concierge serves `localhost` transparently and enrols bob there; carol is
on `remote.localhost`, a Prosody. The home server is a Prosody, or (the last class) an ejabberd
(tests/support/s2s_ejabberd.py: its VM sees the peer's name in a /etc/hosts of its own mount
namespace) with mod_concierge installed as the README says.

- remote = false: carol's message to a paused bob passes through unscheduled, at once, and she
  gets no notice (alice, local, is held beside her: bob really is paused).
- remote = true: carol's message is held; her notice comes over s2s from the component's
  domain and says only that it will wait; bob gets it from her real JID when he ends the pause.
  The same with ejabberd at home.

Run: /usr/bin/python3 -m unittest -v tests/e2e/test_s2s.py   (as root)
"""

from __future__ import annotations

import os
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))

from prosody import Concierge  # noqa: E402
from s2s_ejabberd import S2SEjabberd  # noqa: E402
from s2s_prosody import S2SProsody  # noqa: E402
from xmpp_clients import Client, body, child, message  # noqa: E402

BOB, ALICE = "bob@localhost", "alice@localhost"
CAROL = "carol@remote.localhost"
NS_DELAY = "urn:xmpp:delay"
WAIT = 10  # seconds for what must arrive (a loaded machine; the first s2s link takes a moment)
QUIET = 1.5  # seconds a message that must not arrive is given to show up


def _logged(read, line: str, count: int = 1, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while read().count(line) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return read().count(line) >= count


class _TwoServers:
    """Both servers, Concierge with `[served] remote = REMOTE`, bob and alice on the home server,
    carol on the remote one. Mixed into a TestCase that sets REMOTE."""

    REMOTE = False
    make_home = staticmethod(lambda: S2SProsody("localhost", transparent=True))

    @classmethod
    def setUpClass(cls):
        cls.home = cls.make_home()
        cls.remote = S2SProsody("remote.localhost", component_domain="sched.remote.localhost",
                                component_secret="unused-remote-secret")
        cls.home.route_to(cls.remote)
        cls.remote.route_to(cls.home)
        cls.concierge = cls.alice = cls.bob = cls.carol = None
        try:
            cls.home.start()
            cls.remote.start()
            for server in (cls.home, cls.remote):
                if isinstance(server, S2SProsody) and not _logged(server.log_text, "loopback s2s routes ready"):
                    raise AssertionError(f"mod_loopback_s2s did not load:\n{server.log_text()}")
            cls.home.register("bob", "pw")
            cls.home.register("alice", "pw")
            cls.remote.register("carol", "pw")
            cls.concierge = Concierge(cls.home, users=(BOB,), served_mode="transparent")
            remote = "true" if cls.REMOTE else "false"
            plain = cls.concierge.config_text
            cls.concierge.config_text = lambda: plain().replace(
                'mode = "transparent"\n', f'mode = "transparent"\nremote = {remote}\n', 1)
            cls.concierge.start()
            if not _logged(cls.home.log_text, "Enrolled set generation"):
                raise AssertionError(f"no enrolled set arrived:\n{cls.home.log_text()}")
            cls.bob = Client(cls.home, "bob", "pw", resource="laptop").connect()
            cls.alice = Client(cls.home, "alice", "pw", resource="phone").connect()
            cls.carol = Client(cls.remote, "carol", "pw", resource="desk").connect()
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
        cls.remote.stop()
        cls.home.stop()

    def command(self, client, text: str) -> str:
        mid = client.send_message(self.concierge.jid, text)
        answer = client.wait_for(message(frm=self.concierge.jid, where=lambda m: body(m) is not None
                                         and not body(m).startswith("Concierge:")
                                         and m.get("id") != mid), WAIT, what=f"answer to {text!r}")
        client.take(lambda m: m is answer)
        return body(answer)

    def pause_bob(self):
        self.assertIn("paused until", self.command(self.bob, "pause 1h").lower())
        # A local sender is held: bob is really paused.
        mid = self.alice.send_message(BOB, "local, held")
        self.alice.wait_for(message(frm=self.concierge.jid, where=lambda m: BOB in (body(m) or "")),
                            WAIT, what="alice's hold notice")
        time.sleep(QUIET)
        self.assertEqual(self.bob.find(message(id=mid)), [], "alice's message held while bob is paused")
        return mid

    def end_pause(self, local_mid: str):
        self.command(self.bob, "end")
        self.bob.wait_for(message(id=local_mid), WAIT, what="alice's release")


class RemoteSendersPassThrough(_TwoServers, unittest.TestCase):
    REMOTE = False

    def test_a_remote_sender_is_delivered_at_once_while_bob_is_paused(self):
        local = self.pause_bob()
        try:
            mid = self.carol.send_message(BOB, "from another server")
            got = self.bob.wait_for(message(id=mid), WAIT, what="carol's message at once")
            self.assertEqual(got.get("from"), CAROL + "/desk", "from carol's real JID")
            self.assertEqual(body(got), "from another server")
            self.assertIsNone(child(got, NS_DELAY, "delay"), "not held, so no stamp")
            time.sleep(QUIET)
            self.assertEqual(self.carol.find(message(frm=self.concierge.jid)), [], "no notice to carol")
            self.assertEqual(len(self.bob.find(message(id=mid))), 1, "exactly one copy")
        finally:
            self.end_pause(local)


class _Scheduled(_TwoServers):
    REMOTE = True

    def test_a_remote_sender_is_held_told_only_that_it_will_wait_and_released(self):
        local = self.pause_bob()
        ended = False
        try:
            mid = self.carol.send_message(BOB, "from another server")
            notice = self.carol.wait_for(message(frm=self.concierge.jid), WAIT,
                                         what="carol's notice over s2s")
            text = body(notice) or ""
            self.assertIn("will wait", text)
            self.assertNotIn("until", text, "nothing about bob's times")
            self.assertEqual(self.bob.find(message(id=mid)), [], "held while bob is paused")
            self.end_pause(local)
            ended = True
            got = self.bob.wait_for(message(id=mid), WAIT, what="carol's message at release")
            self.assertEqual(got.get("from"), CAROL + "/desk", "from carol's real JID")
            self.assertEqual(child(got, NS_DELAY, "delay").get("from"), self.concierge.jid)
        finally:
            if not ended:
                self.end_pause(local)


class RemoteSendersScheduled(_Scheduled, unittest.TestCase):
    pass


class RemoteSendersScheduledOnEjabberd(_Scheduled, unittest.TestCase):
    make_home = staticmethod(lambda: S2SEjabberd(transparent=True))


if __name__ == "__main__":
    unittest.main()
